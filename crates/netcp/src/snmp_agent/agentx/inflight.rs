//! Requests waiting for a subagent's Response, and the short path for the usual one: an SNMP
//! request whose round is one operation for one AgentX session is not given a task. Its
//! [`Pending`] state and the way to send its answer wait in the table; the connection's reader
//! task, when the Response arrives, resumes the request in the agent and sends the SNMP answer
//! itself (or the next round's PDU). Nothing crosses a task or a channel between the
//! datagram's arrival and its answer. Timeouts of these requests are kept by one sweeper
//! task, which fails the request (genErr), never the session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agentx::pdu::Response;
use snmp::delegate::{Outcome, Pending, RemoteOpKind, RemoteReply};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::{gen_err, reply_of, AgentxHost};
use crate::runtime::Runtime;
use crate::snmp_agent::lock;
use crate::snmp_agent::remote::{self, ReplyFn};
use crate::snmp_agent::smux::SMUX_BASE;

/// How often the sweeper looks for requests past their timeout while any wait (timeouts are
/// whole seconds; they fire up to this much late).
const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// Who waits for a Response.
pub(super) enum Waiter {
    /// A task ([`AgentxHost::finish`]), which keeps its own timeout.
    Task(oneshot::Sender<Response>),
    /// A request without a task: resumed by whoever receives its Response.
    Inline(Inline),
}

/// A request waiting without a task.
pub(super) struct Inline {
    pending: Pending,
    transaction: u32,
    session: u32,
    /// Get/GetNext/GetBulk (the Response carries varbinds) rather than a Set phase.
    varbinds: bool,
    deadline: Instant,
    reply: ReplyFn,
}

/// The table of waiters, by (session, packet ID).
#[derive(Default)]
pub(super) struct Waiting {
    pub(super) map: HashMap<(u32, u32), Waiter>,
    /// The sweeper is (or is about to be) watching: some inline request waits.
    armed: bool,
}

impl Waiting {
    /// Adds a waiter; wakes the sweeper for the first inline one.
    pub(super) fn insert(&mut self, key: (u32, u32), w: Waiter, sweeper: &Notify) {
        if matches!(w, Waiter::Inline(_)) && !self.armed {
            self.armed = true;
            sweeper.notify_one();
        }
        self.map.insert(key, w);
    }

    /// Takes out every waiter of `sessions` (their connection closed).
    pub(super) fn remove_sessions(&mut self, sessions: &[u32]) -> Vec<Waiter> {
        let keys: Vec<(u32, u32)> = self
            .map
            .keys()
            .filter(|(s, _)| sessions.contains(s))
            .copied()
            .collect();
        keys.iter().filter_map(|k| self.map.remove(k)).collect()
    }
}

/// Whether a round can take the short path: one operation, for an AgentX session, awaiting
/// an answer.
pub fn inline_able(p: &Pending) -> bool {
    matches!(&p.ops[..], [op] if op.delegate.0 < SMUX_BASE
        && !matches!(op.kind, RemoteOpKind::CleanupSet))
}

/// Sends the PDU of `p`'s single operation and leaves the request waiting in the table (see
/// [`inline_able`]); `corked`: hold the PDU for the caller's [`AgentxHost::flush`]. When the
/// PDU cannot be sent the request goes on at once with genErr.
pub fn start(rt: &Arc<Runtime>, transaction: u32, p: Pending, reply: ReplyFn, corked: bool) {
    let mut next = (p, reply);
    loop {
        let (p, reply) = next;
        match send(&rt.snmp.agentx, transaction, p, reply, corked) {
            Ok(()) => return,
            Err(w) => match advance(rt, w, gen_err()) {
                Some(again) => next = again,
                None => return,
            },
        }
    }
}

/// Sends and records one inline request; gives it back if it could not be sent.
fn send(
    host: &AgentxHost,
    transaction: u32,
    p: Pending,
    reply: ReplyFn,
    corked: bool,
) -> Result<(), Inline> {
    let built = p.ops.first().and_then(|op| host.build(transaction, op));
    let Some((session, out)) = built else {
        return Err(Inline {
            varbinds: false,
            pending: p,
            transaction,
            session: 0,
            deadline: Instant::now(),
            reply,
        });
    };
    let varbinds = matches!(
        p.ops.first().map(|o| &o.kind),
        Some(RemoteOpKind::Get(_) | RemoteOpKind::Next { .. })
    );
    let key = (session, out.packet_id);
    let inline = Inline {
        pending: p,
        transaction,
        session,
        varbinds,
        deadline: Instant::now() + out.timeout,
        reply,
    };
    // In the table before the subagent can answer.
    lock(&host.waiting).insert(key, Waiter::Inline(inline), &host.sweeper);
    if host.transmit(out.conn, &out.bytes, corked) {
        return Ok(());
    }
    match lock(&host.waiting).map.remove(&key) {
        Some(Waiter::Inline(w)) => Err(w),
        // Taken meanwhile by whoever closed the connection: it goes on from there.
        _ => Ok(()),
    }
}

/// Resumes an inline request with its operation's reply. Returns the next round when it is
/// again one AgentX operation (for the caller to send); otherwise the request is answered
/// here, or handed to a task for a round with several operations.
fn advance(rt: &Arc<Runtime>, w: Inline, reply: RemoteReply) -> Option<(Pending, ReplyFn)> {
    let Inline {
        pending,
        transaction,
        reply: answer,
        ..
    } = w;
    let (outcome, notices) = rt.snmp.with_agent(|agent, now| {
        let o = agent.resume(pending, vec![reply], now);
        (o, agent.drain_notices())
    });
    remote::spawn_notices(rt, transaction, notices);
    match outcome {
        Outcome::Done(r) => {
            answer(r);
            None
        }
        Outcome::Pending(next) if inline_able(&next) => Some((next, answer)),
        Outcome::Pending(next) => {
            remote::spawn_drive(rt.clone(), next, transaction, answer);
            None
        }
    }
}

/// Goes on with an inline request after its Response (or its failure): the SNMP answer is
/// sent from here, or the next round's PDU is queued (`corked`) for the caller's flush.
pub(super) fn resume(rt: &Arc<Runtime>, w: Inline, reply: RemoteReply, corked: bool) {
    let transaction = w.transaction;
    if let Some((p, answer)) = advance(rt, w, reply) {
        start(rt, transaction, p, answer, corked);
    }
}

/// Delivers a Response to whoever waits for it.
pub(super) fn deliver(rt: &Arc<Runtime>, session: u32, packet_id: u32, response: Response) {
    let w = lock(&rt.snmp.agentx.waiting)
        .map
        .remove(&(session, packet_id));
    match w {
        Some(Waiter::Task(tx)) => {
            let _ = tx.send(response);
        }
        Some(Waiter::Inline(w)) => {
            let reply = reply_of(w.varbinds, response);
            resume(rt, w, reply, true);
        }
        None => {}
    }
}

/// Fails waiters whose session is gone (a task sees its channel close).
pub(super) fn fail(rt: &Arc<Runtime>, waiters: Vec<Waiter>) {
    for w in waiters {
        if let Waiter::Inline(w) = w {
            resume(rt, w, gen_err(), true);
        }
    }
    rt.snmp.agentx.flush();
}

/// Fails inline requests past their timeout, counting each against its session (one task for
/// the whole master; idle while none waits).
pub(super) async fn sweeper(rt: Arc<Runtime>) {
    let host = &rt.snmp.agentx;
    loop {
        host.sweeper.notified().await;
        loop {
            tokio::time::sleep(SWEEP_EVERY).await;
            let now = Instant::now();
            let (expired, idle) = {
                let mut w = lock(&host.waiting);
                let keys: Vec<(u32, u32)> = w
                    .map
                    .iter()
                    .filter(|(_, v)| matches!(v, Waiter::Inline(i) if i.deadline <= now))
                    .map(|(k, _)| *k)
                    .collect();
                let expired: Vec<Inline> = keys
                    .iter()
                    .filter_map(|k| match w.map.remove(k) {
                        Some(Waiter::Inline(i)) => Some(i),
                        _ => None,
                    })
                    .collect();
                let idle = !w.map.values().any(|v| matches!(v, Waiter::Inline(_)));
                if idle {
                    w.armed = false;
                }
                (expired, idle)
            };
            for i in expired {
                host.master().timed_out(i.session);
                resume(&rt, i, gen_err(), true);
            }
            host.flush();
            if idle && !lock(&host.waiting).armed {
                break;
            }
        }
    }
}
