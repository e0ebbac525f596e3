//! Late SNMP answers collected for one `sendmmsg(2)`: a subagent connection's reader task
//! finishes every request whose Response it read in one pass; while a [`ReplyBatch`] is open
//! on that thread, their answers are held and go out together when it closes, rather than
//! one `sendto` each.
//!
//! The batch is per thread and only open around code that does not await, so an answer can
//! neither move to another thread nor wait past the pass that finished it. Answers finished
//! anywhere else (a task, the sweeper) are sent at once, as before.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::{count_out, send_later};
use crate::mmsg;
use crate::service::ServiceShared;

/// An answer and its destination.
type Datagram = (Vec<u8>, SocketAddr);
/// Whose meter counts an answer, with the service's weight.
type Counted = (Arc<ServiceShared>, u64);

/// One held answer.
struct Held {
    socket: Arc<UdpSocket>,
    service: Arc<ServiceShared>,
    weight: u64,
    reply: Vec<u8>,
    peer: SocketAddr,
}

#[derive(Default)]
struct Collecting {
    open: bool,
    held: Vec<Held>,
}

thread_local! {
    static BATCH: RefCell<Collecting> = RefCell::default();
}

/// While alive, late SNMP answers finished on this thread are held; dropping it sends them
/// (`sendmmsg`, one call per socket when the socket takes them all). Must not be held across
/// an `.await`. Opening one while another is open on the thread does nothing.
pub struct ReplyBatch {
    outer: bool,
}

impl ReplyBatch {
    /// Starts holding answers on this thread.
    pub fn open() -> Self {
        let outer = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            !std::mem::replace(&mut b.open, true)
        });
        ReplyBatch { outer }
    }
}

impl Drop for ReplyBatch {
    fn drop(&mut self) {
        if !self.outer {
            return;
        }
        let held = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            b.open = false;
            std::mem::take(&mut b.held)
        });
        if !held.is_empty() {
            send_all(held);
        }
    }
}

/// Holds an answer when a batch is open on this thread, else sends it as before.
pub(super) fn defer_or_send(
    socket: Arc<UdpSocket>,
    service: Arc<ServiceShared>,
    reply: Vec<u8>,
    peer: SocketAddr,
    weight: u64,
) {
    let held = Held {
        socket,
        service,
        weight,
        reply,
        peer,
    };
    let rest = BATCH.with(|b| {
        let mut b = b.borrow_mut();
        if b.open {
            b.held.push(held);
            None
        } else {
            Some(held)
        }
    });
    if let Some(h) = rest {
        send_later(h.socket, h.service, h.reply, h.peer, h.weight);
    }
}

/// Sends held answers, one run of the same socket at a time; what a full socket does not
/// take goes out from a task, as a single late answer would.
fn send_all(mut held: Vec<Held>) {
    while !held.is_empty() {
        let first = held[0].socket.clone();
        let run = held
            .iter()
            .position(|h| !Arc::ptr_eq(&h.socket, &first))
            .unwrap_or(held.len());
        let rest = held.split_off(run);
        let (msgs, meta): (Vec<Datagram>, Vec<Counted>) = held
            .into_iter()
            .map(|h| ((h.reply, h.peer), (h.service, h.weight)))
            .unzip();
        let mut i = 0;
        let done = mmsg::send(&first, &msgs, |sent| {
            if let (Some(m), Some((service, weight))) = (sent, meta.get(i)) {
                count_out(service, m, *weight);
            }
            i += 1;
        });
        for ((reply, peer), (service, weight)) in msgs.into_iter().zip(meta).skip(done) {
            send_later(first.clone(), service, reply, peer, weight);
        }
        held = rest;
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    fn service() -> Arc<ServiceShared> {
        ServiceShared::new(control::config::ResolvedService {
            name: "snmp".into(),
            enabled: true,
            server: control::config::Server::Builtin(services::Builtin::Snmp),
            endpoints: Vec::new(),
            listen: Vec::new(),
            max_connections: 0,
            max_per_source: 0,
            rate_per_source: 0,
            access: Default::default(),
            multicast: Vec::new(),
        })
    }

    /// Answers finished while a batch is open wait for its end, then all arrive, in order,
    /// and are counted; with no batch open an answer leaves at once.
    #[tokio::test]
    async fn holds_answers_until_the_batch_closes() {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
        server.writable().await.expect("writable");
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let to = client.local_addr().expect("address");
        let svc = service();
        let batch = ReplyBatch::open();
        let inner = ReplyBatch::open();
        for i in 0..40u8 {
            defer_or_send(
                server.clone(),
                svc.clone(),
                vec![i; 10 + usize::from(i)],
                to,
                100,
            );
        }
        // Closing the inner (nested) batch sends nothing.
        drop(inner);
        let mut buf = [0u8; 256];
        assert!(
            client.try_recv_from(&mut buf).is_err(),
            "held until the batch ends"
        );
        drop(batch);
        for i in 0..40u8 {
            let (n, _) = client.recv_from(&mut buf).await.expect("answer");
            assert_eq!(&buf[..n], &vec![i; 10 + usize::from(i)][..]);
        }
        assert_eq!(svc.meter.msgs_out_centi.load(Relaxed), 40 * 100);
        let bytes: u64 = (0..40u64).map(|i| 10 + i).sum();
        assert_eq!(svc.meter.bytes_out.load(Relaxed), bytes);
        // No batch open: sent at once.
        defer_or_send(server.clone(), svc.clone(), b"now".to_vec(), to, 100);
        let (n, _) = client.recv_from(&mut buf).await.expect("answer");
        assert_eq!(&buf[..n], b"now");
    }
}
