//! Requests that need subagents: the agent core hands back a pending request. A round of one
//! AgentX operation (the usual case) waits without a task (`agentx/inflight.rs`); other rounds
//! are driven by a task (every operation of a round at once, each with its own timeout). None
//! holds the agent, so requests for other subtrees are answered meanwhile.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use snmp::delegate::{Outcome, Pending, RemoteOp, RemoteReply};

use super::agentx::inflight;
use super::smux::SMUX_BASE;
use crate::runtime::Runtime;

/// Sends the answer of a request that waited for subagents (`None`: no answer is due), from
/// whichever task finished it. It must not block: the UDP service's sends it without waiting
/// when the socket takes the datagram at once.
pub type ReplyFn = Box<dyn FnOnce(Option<Vec<u8>>) + Send>;

/// The answer to a datagram: now, or later through the [`ReplyFn`] the caller gave.
pub enum SnmpAnswer {
    Now(Option<Vec<u8>>),
    Later,
}

/// Answers one request datagram for the UDP service; `reply` is called (once) for the way to
/// answer a request that needs subagents. An AgentX PDU such a request produces is held
/// until the caller's [`flush`].
pub fn answer(
    rt: &Arc<Runtime>,
    request: &[u8],
    peer: SocketAddr,
    reply: impl FnOnce() -> ReplyFn,
) -> SnmpAnswer {
    let outcome = rt
        .snmp
        .with_agent(|agent, now| agent.handle_request(request, peer, now));
    match outcome {
        Outcome::Done(r) => SnmpAnswer::Now(r),
        Outcome::Pending(p) => {
            let transaction = rt.snmp.agentx.transaction();
            if inflight::inline_able(&p) {
                // The usual case: no task; the subagent's connection finishes it.
                inflight::start(rt, transaction, p, reply(), true);
            } else {
                spawn_drive(rt.clone(), p, transaction, reply());
            }
            SnmpAnswer::Later
        }
    }
}

/// Writes out the AgentX PDUs that [`answer`] held: call it once every waiting datagram was
/// dispatched, before waiting for more.
pub fn flush(rt: &Runtime) {
    rt.snmp.agentx.flush();
}

/// Polls a future once without a task to wake (a non-blocking attempt); `None` if it is not
/// ready.
pub fn poll_now<F: Future>(f: F) -> Option<F::Output> {
    let f = std::pin::pin!(f);
    match f.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Drives a request in a task of its own (rounds with several operations, SMUX peers).
pub(super) fn spawn_drive(rt: Arc<Runtime>, p: Pending, transaction: u32, reply: ReplyFn) {
    tokio::spawn(async move {
        let r = drive_from(rt, p, transaction).await;
        reply(r);
    });
}

/// Sends the operations the agent queued without awaiting an answer (CleanupSet).
pub(super) fn spawn_notices(rt: &Arc<Runtime>, transaction: u32, notices: Vec<RemoteOp>) {
    for n in notices {
        tokio::spawn(perform(rt.clone(), transaction, n));
    }
}

/// Performs one operation for its delegate (an AgentX session or a SMUX peer).
async fn perform(rt: Arc<Runtime>, transaction: u32, op: RemoteOp) -> RemoteReply {
    if op.delegate.0 >= SMUX_BASE {
        rt.snmp.smux.perform(&op).await
    } else {
        rt.snmp.agentx.perform(transaction, &op).await
    }
}

/// Runs rounds until the request is answered.
async fn drive_from(rt: Arc<Runtime>, mut p: Pending, transaction: u32) -> Option<Vec<u8>> {
    loop {
        let replies = if let [op] = &p.ops[..] {
            // One operation (the usual case): no task of its own.
            vec![perform(rt.clone(), transaction, op.clone()).await]
        } else {
            let tasks: Vec<_> = p
                .ops
                .iter()
                .cloned()
                .map(|op| tokio::spawn(perform(rt.clone(), transaction, op)))
                .collect();
            let mut replies = Vec::with_capacity(tasks.len());
            for t in tasks {
                replies.push(t.await.unwrap_or(RemoteReply::Failed {
                    status: snmp::ErrorStatus::GenErr,
                    index: 0,
                }));
            }
            replies
        };
        let (outcome, notices) = rt.snmp.with_agent(|agent, now| {
            let o = agent.resume(p, replies, now);
            (o, agent.drain_notices())
        });
        spawn_notices(&rt, transaction, notices);
        match outcome {
            Outcome::Done(r) => return r,
            Outcome::Pending(next) => p = next,
        }
    }
}
