//! External (inetd `wait`-style) UDP servers on Maynard's stack. Such a program expects a host
//! UDP socket as its standard input. It gets a loopback socket of the host, and a relay carries
//! the datagrams between that socket and the stack's:
//!
//! ```text
//!  peer P ──stack socket (service port)──► relay ──from L(P), P's loopback socket──► child socket (fd 0)
//!  child socket ──to L(P)──► relay ──stack socket (service port)──► P
//!  another socket X of the program (a TFTP transfer) ──to L(P)──► relay ──S(X): a stack socket on a new port──► P
//!  P ──to S(X)──► relay ──from L(P)──► X
//! ```
//!
//! Every peer has a loopback socket of its own, so the program tells peers apart by address as
//! it does on the host; netcp's wait loop maps that address back to the peer for the access
//! rules, the log and the child's environment. A program that answers from a socket of its own
//! (TFTP's transfer ports) gets a port of its own on the stack as well. A peer's sockets close
//! after [`RELAY_IDLE`] without traffic either way.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use services::DatagramSocket;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::udp_socket::StackUdpSocket;
use crate::runtime::Runtime;
use crate::service::ServiceShared;

/// How long a peer's relay sockets stay without traffic before they close.
const RELAY_IDLE: Duration = Duration::from_secs(180);
/// Peers relayed at once per service; datagrams from more are dropped until some go idle.
const MAX_PEERS: usize = 1024;
/// The program's own sockets relayed per peer; the least recently used gives way to a new one.
const MAX_OWN_SOCKETS: usize = 32;
/// The largest datagram relayed (IPv4's limit).
const MAX_DATAGRAM: usize = 65_535;

/// Aborts a task when dropped, so a relay's tasks end with the listener that owns them.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Seconds since the relay started, for idle times (coarse and lock-free).
#[derive(Clone)]
struct Clock(Instant);

impl Clock {
    fn now(&self) -> u64 {
        self.0.elapsed().as_secs()
    }

    fn touch(&self, stamp: &AtomicU64) {
        stamp.store(self.now(), Relaxed);
    }

    fn idle(&self, stamp: &AtomicU64) -> Duration {
        Duration::from_secs(self.now().saturating_sub(stamp.load(Relaxed)))
    }
}

/// One peer's relay: its loopback socket and the task that carries the program's answers.
struct PeerRelay {
    loopback: Arc<UdpSocket>,
    last_used: Arc<AtomicU64>,
    _task: AbortOnDrop,
}

/// The peers being relayed, by their address and by their loopback socket's.
#[derive(Default)]
struct Peers {
    by_peer: HashMap<SocketAddrV4, PeerRelay>,
    by_loopback: HashMap<SocketAddr, SocketAddrV4>,
}

impl Peers {
    fn sweep(&mut self, clock: &Clock) {
        let Peers {
            by_peer,
            by_loopback,
        } = self;
        by_peer.retain(|_, r| {
            let keep = clock.idle(&r.last_used) < RELAY_IDLE;
            if !keep {
                if let Ok(a) = r.loopback.local_addr() {
                    by_loopback.remove(&a);
                }
            }
            keep
        });
    }
}

/// What every task of one service's relay shares.
#[derive(Clone)]
struct Shared {
    /// The stack's socket on the service's port.
    service: Arc<StackUdpSocket>,
    /// The program's socket (its standard input).
    child: SocketAddr,
    clock: Clock,
}

/// Serves an external UDP server on `socket`, a socket of Maynard's stack, until the task is
/// aborted (or the service becomes a built-in one: the daemon then opens its listener again).
pub async fn serve_external(rt: Arc<Runtime>, service: Arc<ServiceShared>, socket: StackUdpSocket) {
    let local = SocketAddr::V4(socket.local());
    let child = match loopback_socket() {
        Ok(s) => s,
        Err(e) => {
            rt.log.emit(
                rt.log
                    .line("error")
                    .kv("service", &service.name)
                    .kv("message", format!("no loopback socket for the relay: {e}")),
            );
            return;
        }
    };
    let Ok(child_addr) = child.local_addr() else {
        return;
    };
    let peers = Arc::new(Mutex::new(Peers::default()));
    let shared = Shared {
        service: Arc::new(socket),
        child: child_addr,
        clock: Clock(Instant::now()),
    };
    let _relay = AbortOnDrop(tokio::spawn(from_the_stack(shared, peers.clone())));
    let real_peer = |seen: SocketAddr| {
        let peers = peers.lock().ok()?;
        peers.by_loopback.get(&seen).map(|p| SocketAddr::V4(*p))
    };
    crate::udp::wait_loop(rt, service, child, local, real_peer).await;
}

/// A UDP socket on 127.0.0.1 and a free port.
fn loopback_socket() -> io::Result<UdpSocket> {
    let s = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s)
}

/// Carries datagrams from the stack's service socket to the program, each from its peer's
/// loopback socket, and closes idle peers' sockets.
async fn from_the_stack(shared: Shared, peers: Arc<Mutex<Peers>>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut sweep = tokio::time::interval(RELAY_IDLE / 6);
    loop {
        let (n, peer) = tokio::select! {
            r = shared.service.recv_from(&mut buf) => match r {
                Ok((n, SocketAddr::V4(peer))) => (n, peer),
                Ok(_) => continue,
                // The stack has stopped.
                Err(_) => return,
            },
            _ = sweep.tick() => {
                if let Ok(mut p) = peers.lock() {
                    p.sweep(&shared.clock);
                }
                continue;
            }
        };
        let Some(loopback) = peer_socket(&shared, &peers, peer) else {
            continue;
        };
        // A full receive buffer drops the datagram, as it would on the host. (Not try_send_to:
        // a new tokio socket is not yet known to be writable.)
        let _ = loopback.send_to(&buf[..n], shared.child).await;
    }
}

/// `peer`'s loopback socket, opened with its relay task on the first datagram; `None` when
/// too many peers are relayed or no socket can be had.
fn peer_socket(
    shared: &Shared,
    peers: &Mutex<Peers>,
    peer: SocketAddrV4,
) -> Option<Arc<UdpSocket>> {
    let mut peers = peers.lock().ok()?;
    if let Some(r) = peers.by_peer.get(&peer) {
        shared.clock.touch(&r.last_used);
        return Some(r.loopback.clone());
    }
    if peers.by_peer.len() >= MAX_PEERS {
        peers.sweep(&shared.clock);
        if peers.by_peer.len() >= MAX_PEERS {
            return None;
        }
    }
    let loopback = Arc::new(loopback_socket().ok()?);
    let addr = loopback.local_addr().ok()?;
    let last_used = Arc::new(AtomicU64::new(shared.clock.now()));
    let task = tokio::spawn(to_the_peer(
        shared.clone(),
        peer,
        loopback.clone(),
        last_used.clone(),
    ));
    peers.by_loopback.insert(addr, peer);
    peers.by_peer.insert(
        peer,
        PeerRelay {
            loopback: loopback.clone(),
            last_used,
            _task: AbortOnDrop(task),
        },
    );
    Some(loopback)
}

/// A socket of the program other than its standard input, relayed through a stack socket of
/// its own.
struct OwnSocket {
    stack: Arc<StackUdpSocket>,
    last_used: Arc<AtomicU64>,
    _task: AbortOnDrop,
}

/// Carries what the program sends to `peer`'s loopback socket out of the stack: from the
/// service's port when it comes from the program's standard input, else from a stack port
/// that stands for the program's socket.
async fn to_the_peer(
    shared: Shared,
    peer: SocketAddrV4,
    loopback: Arc<UdpSocket>,
    last_used: Arc<AtomicU64>,
) {
    let mut own: HashMap<SocketAddr, OwnSocket> = HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = match loopback.recv_from(&mut buf).await {
            Ok(r) => r,
            // An ICMP error from a program's socket that has closed.
            Err(_) => continue,
        };
        if !from.ip().is_loopback() {
            continue;
        }
        shared.clock.touch(&last_used);
        let stack = if from == shared.child {
            shared.service.clone()
        } else {
            match own.get(&from) {
                Some(o) => {
                    shared.clock.touch(&o.last_used);
                    o.stack.clone()
                }
                None => match open_own(&shared, peer, &loopback, &last_used, from).await {
                    Some(o) => {
                        let stack = o.stack.clone();
                        if own.len() >= MAX_OWN_SOCKETS {
                            evict_least_used(&mut own, &shared.clock);
                        }
                        own.insert(from, o);
                        stack
                    }
                    None => continue,
                },
            }
        };
        let _ = stack.send_to(&buf[..n], SocketAddr::V4(peer)).await;
    }
}

fn evict_least_used(own: &mut HashMap<SocketAddr, OwnSocket>, clock: &Clock) {
    let oldest = own
        .iter()
        .max_by_key(|(_, o)| clock.idle(&o.last_used))
        .map(|(a, _)| *a);
    if let Some(a) = oldest {
        own.remove(&a);
    }
}

/// Opens the stack socket that stands for the program's socket `from`, and the task that
/// carries `peer`'s datagrams to it back to `from`.
async fn open_own(
    shared: &Shared,
    peer: SocketAddrV4,
    loopback: &Arc<UdpSocket>,
    peer_last_used: &Arc<AtomicU64>,
    from: SocketAddr,
) -> Option<OwnSocket> {
    let stack = Arc::new(shared.service.bind_another().await.ok()?);
    let last_used = Arc::new(AtomicU64::new(shared.clock.now()));
    let task = tokio::spawn(back_to_the_program(
        stack.clone(),
        peer,
        loopback.clone(),
        from,
        shared.clock.clone(),
        [last_used.clone(), peer_last_used.clone()],
    ));
    Some(OwnSocket {
        stack,
        last_used,
        _task: AbortOnDrop(task),
    })
}

/// Carries `peer`'s datagrams to the stack port that stands for the program's socket `to`,
/// from the peer's loopback socket; datagrams from anyone else are dropped, as the program's
/// connected socket would.
async fn back_to_the_program(
    stack: Arc<StackUdpSocket>,
    peer: SocketAddrV4,
    loopback: Arc<UdpSocket>,
    to: SocketAddr,
    clock: Clock,
    stamps: [Arc<AtomicU64>; 2],
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while let Ok((n, from)) = stack.recv_from(&mut buf).await {
        if from != SocketAddr::V4(peer) {
            continue;
        }
        for s in &stamps {
            clock.touch(s);
        }
        let _ = loopback.send_to(&buf[..n], to).await;
    }
}
