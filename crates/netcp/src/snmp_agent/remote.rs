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
        Outcome::Pending(p) => SnmpAnswer::Later(Box::pin(drive(rt.clone(), p))),
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
async fn drive(rt: Arc<Runtime>, mut p: Pending) -> Option<Vec<u8>> {
    let transaction = rt.snmp.agentx.transaction();
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
        for n in notices {
            tokio::spawn(perform(rt.clone(), transaction, n));
        }
        match outcome {
            Outcome::Done(r) => return r,
            Outcome::Pending(next) => p = next,
        }
    }
}
