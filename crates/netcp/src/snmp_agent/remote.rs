//! Requests that need subagents: the agent core hands back a pending request; this drives it
//! (every operation of a round at once, each with its own timeout) without holding the agent,
//! so requests for other subtrees are answered meanwhile.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use snmp::delegate::{Outcome, Pending, RemoteOp, RemoteReply};

use super::smux::SMUX_BASE;
use crate::runtime::Runtime;

/// The answer to a datagram: now, or later (after subagents answered).
pub enum SnmpAnswer {
    Now(Option<Vec<u8>>),
    Later(Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send>>),
}

/// Answers one request datagram for the UDP service.
pub fn answer(rt: &Arc<Runtime>, request: &[u8], peer: SocketAddr) -> SnmpAnswer {
    let outcome = rt
        .snmp
        .with_agent(|agent, now| agent.handle_request(request, peer, now));
    match outcome {
        Outcome::Done(r) => SnmpAnswer::Now(r),
        Outcome::Pending(p) => {
            // One operation for an AgentX session (the usual case): its PDU goes out now, from
            // the datagram's task, and the answer's task only waits.
            if let [op] = &p.ops[..] {
                if op.delegate.0 < SMUX_BASE {
                    let transaction = rt.snmp.agentx.transaction();
                    let started = rt.snmp.agentx.begin(transaction, op);
                    return SnmpAnswer::Later(Box::pin(drive(rt.clone(), p, transaction, started)));
                }
            }
            let transaction = rt.snmp.agentx.transaction();
            SnmpAnswer::Later(Box::pin(drive_all(rt.clone(), p, transaction)))
        }
    }
}

/// [`drive_from`] for a request whose first operation was sent already.
async fn drive(
    rt: Arc<Runtime>,
    p: Pending,
    transaction: u32,
    started: super::agentx::Started,
) -> Option<Vec<u8>> {
    let first = rt.snmp.agentx.finish(started).await;
    drive_from(rt, p, transaction, Some(vec![first])).await
}

async fn drive_all(rt: Arc<Runtime>, p: Pending, transaction: u32) -> Option<Vec<u8>> {
    drive_from(rt, p, transaction, None).await
}

/// Performs one operation for its delegate (an AgentX session or a SMUX peer).
async fn perform(rt: Arc<Runtime>, transaction: u32, op: RemoteOp) -> RemoteReply {
    if op.delegate.0 >= SMUX_BASE {
        rt.snmp.smux.perform(&op).await
    } else {
        rt.snmp.agentx.perform(transaction, &op).await
    }
}

/// Runs rounds until the request is answered (`first`: the first round's replies, when its
/// operations were performed already).
async fn drive_from(
    rt: Arc<Runtime>,
    mut p: Pending,
    transaction: u32,
    mut first: Option<Vec<RemoteReply>>,
) -> Option<Vec<u8>> {
    loop {
        let replies = if let Some(r) = first.take() {
            r
        } else if let [op] = &p.ops[..] {
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
        for n in notices {
            tokio::spawn(perform(rt.clone(), transaction, n));
        }
        match outcome {
            Outcome::Done(r) => return r,
            Outcome::Pending(next) => p = next,
        }
    }
}
