//! UDP sockets of Maynard's stack behind [`services::DatagramSocket`], so netcp's built-in UDP
//! services serve on the stack's interfaces with the same code as on the host's sockets.
//!
//! ```text
//!  open/bind, send_to ──closure──► the stack's thread (Stack::udp_open/udp_bind/udp_send_to)
//!  StackEvent::UdpReadable(h) ──driver drains udp_recv(h)──► bounded channel ──► recv_from
//! ```
//!
//! Receiving costs no round trip to the stack's thread: the driver moves every datagram of a
//! readable socket into that socket's channel as soon as the event comes (a full channel drops
//! the datagram, as a full receive buffer does on a host socket).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use servicedb::Protocol;
use stack::{IfaceId, IfaceKind, Stack, UdpDatagram, UdpHandle};
use tokio::sync::mpsc as amsc;

use super::doorbell::Doorbell;
use super::driver::{Command, Driver};
use super::NetstackHandle;

/// Datagrams waiting in one socket's channel before more are dropped.
const RX_CHANNEL: usize = 1024;
/// How long the driver waits for a service's answer before it sleeps.
const ANSWER_SPIN: Duration = Duration::from_micros(50);
/// How long opening a socket waits for the stack's thread.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// A cloneable way to run closures on the stack's thread.
#[derive(Clone)]
pub struct StackCaller {
    tx: mpsc::Sender<Command>,
    wake: Arc<Doorbell>,
}

impl StackCaller {
    pub(super) fn new(tx: mpsc::Sender<Command>, wake: Arc<Doorbell>) -> StackCaller {
        StackCaller { tx, wake }
    }

    /// Queues `f` for the stack's thread without waiting; false when the thread has stopped.
    pub(super) fn post(&self, f: impl FnOnce(&mut Driver) + Send + 'static) -> bool {
        let sent = self.tx.send(Box::new(f)).is_ok();
        self.wake.ring();
        sent
    }

    /// Queues `f` without waking the thread: for clean-up that may wait for its next round
    /// (a packet, a timer or another command wakes it); false when the thread has stopped.
    pub(super) fn post_quiet(&self, f: impl FnOnce(&mut Driver) + Send + 'static) -> bool {
        self.tx.send(Box::new(f)).is_ok()
    }

    /// Runs `f` on the stack's thread and blocks (briefly) for its result. The stack's thread
    /// never waits for tokio, so this cannot deadlock; it is used only to open sockets, from the
    /// daemon's synchronous listener opening.
    pub(super) fn call_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Driver) -> R + Send + 'static,
    ) -> io::Result<R> {
        let (reply, answer) = mpsc::sync_channel(1);
        if !self.post(move |d| {
            let _ = reply.send(f(d));
        }) {
            return Err(stopped());
        }
        answer.recv_timeout(OPEN_TIMEOUT).map_err(|_| stopped())
    }
}

pub(super) fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "Maynard's stack has stopped")
}

/// One socket's side in the driver.
struct Registered {
    tx: amsc::Sender<UdpDatagram>,
    /// The socket has sent: its service answers what it receives (echo, daytime, not discard).
    answers: Arc<AtomicBool>,
}

/// The driver's table of the stack's UDP sockets opened through [`StackUdpSocket`].
#[derive(Default)]
pub struct UdpSockets {
    sockets: HashMap<UdpHandle, Registered>,
    /// Datagrams went to a socket whose service answers (see [`UdpSockets::await_answer`]).
    answer_due: bool,
}

impl UdpSockets {
    /// On `StackEvent::UdpReadable(h)`: moves every queued datagram of `h` to its channel. The
    /// stack raises the event when a socket's queue stops being empty, so it is drained whole.
    pub fn readable(&mut self, stack: &mut Stack, h: UdpHandle) {
        let Some(r) = self.sockets.get(&h) else {
            return;
        };
        self.answer_due |= r.answers.load(Relaxed);
        while let Some(dg) = stack.udp_recv(h) {
            // A full channel drops the datagram, as a full receive buffer does.
            let _ = r.tx.try_send(dg);
        }
    }

    /// Called by the driver before it sleeps in poll(2). When datagrams have just gone to a
    /// service that answers, its answer usually comes within microseconds: waiting for it here
    /// for at most [`ANSWER_SPIN`] saves the sleep and wake-up of a request/response round trip.
    /// Returns the command that came (the answer), if any.
    pub fn await_answer(&mut self, rx: &mpsc::Receiver<Command>) -> Option<Command> {
        if !std::mem::take(&mut self.answer_due) {
            return None;
        }
        let until = std::time::Instant::now() + ANSWER_SPIN;
        loop {
            if let Ok(c) = rx.try_recv() {
                return Some(c);
            }
            if std::time::Instant::now() >= until {
                return None;
            }
            std::hint::spin_loop();
        }
    }
}

/// A UDP socket on Maynard's stack.
pub struct StackUdpSocket {
    caller: StackCaller,
    handle: UdpHandle,
    local: SocketAddrV4,
    rx: tokio::sync::Mutex<amsc::Receiver<UdpDatagram>>,
    /// The error of a send the stack refused, for the next `send_to`.
    send_error: Arc<std::sync::Mutex<Option<io::Error>>>,
    /// Set at the first send (the driver then waits a moment for answers).
    answers: Arc<AtomicBool>,
}

impl StackUdpSocket {
    /// Opens a socket on the stack and binds it to `addr` (blocking briefly for the stack's
    /// thread).
    pub fn bind(caller: &StackCaller, addr: SocketAddrV4) -> io::Result<StackUdpSocket> {
        Self::bind_joined(caller, addr, Vec::new())
    }

    /// Opens a socket bound to `group`'s address and port that joins the group on each of
    /// `joins` (IGMP reports go out at once). Its replies leave with the unicast source the
    /// route chooses, never the group's address. Closing it leaves the groups.
    pub fn bind_group(
        caller: &StackCaller,
        group: SocketAddrV4,
        joins: Vec<StackJoin>,
    ) -> io::Result<StackUdpSocket> {
        if !group.ip().is_multicast() || joins.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{group}: a multicast group and at least one interface are needed"),
            ));
        }
        Self::bind_joined(caller, group, joins)
    }

    fn bind_joined(
        caller: &StackCaller,
        addr: SocketAddrV4,
        joins: Vec<StackJoin>,
    ) -> io::Result<StackUdpSocket> {
        let (tx, rx) = amsc::channel(RX_CHANNEL);
        let answers = Arc::new(AtomicBool::new(false));
        let answers2 = answers.clone();
        let (handle, local) = caller.call_blocking(move |d: &mut Driver| {
            let h = d.stack.udp_open();
            let bound = d
                .stack
                .udp_bind(h, addr)
                .map_err(io::Error::from)
                .and_then(|local| {
                    for j in &joins {
                        let iface = j.find(&d.stack)?;
                        d.with_ctx(|s, out, now| {
                            s.udp_join_multicast(out, h, *addr.ip(), Some(iface), now)
                        })?;
                    }
                    Ok(local)
                });
            match bound {
                Ok(local) => {
                    d.udp.sockets.insert(
                        h,
                        Registered {
                            tx,
                            answers: answers2,
                        },
                    );
                    Ok((h, local))
                }
                Err(e) => {
                    // Closing leaves the groups joined so far.
                    d.with_ctx(|s, out, now| s.udp_close(out, h, now));
                    Err(e)
                }
            }
        })??;
        Ok(StackUdpSocket {
            caller: caller.clone(),
            handle,
            local,
            rx: tokio::sync::Mutex::new(rx),
            send_error: Arc::default(),
            answers,
        })
    }
}

impl StackUdpSocket {
    /// The address the socket is bound to.
    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }
}

impl Drop for StackUdpSocket {
    fn drop(&mut self) {
        let h = self.handle;
        self.caller.post(move |d| {
            d.udp.sockets.remove(&h);
            d.with_ctx(|s, out, now| s.udp_close(out, h, now));
        });
    }
}

impl services::DatagramSocket for StackUdpSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let dg = self.rx.lock().await.recv().await.ok_or_else(stopped)?;
        let data = dg.data.as_slice();
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok((n, SocketAddr::V4(dg.src)))
    }

    /// Queues the datagram for the stack's thread and returns at once, without a round trip:
    /// the reply path of a request/response service then costs one hand-over, not two. A send
    /// the stack refuses (no route, broadcast not allowed, too long) is reported by the next
    /// `send_to`, as a host socket reports an ICMP error on a later call.
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let SocketAddr::V4(dst) = target else {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "Maynard's stack speaks IPv4 only",
            ));
        };
        if let Some(e) = self.send_error.lock().ok().and_then(|mut e| e.take()) {
            return Err(e);
        }
        self.answers.store(true, Relaxed);
        let h = self.handle;
        let data = buf.to_vec();
        let errors = self.send_error.clone();
        let posted = self.caller.post(move |d| {
            let r = d.with_ctx(|s, out, now| s.udp_send_to(out, h, &data, Some(dst), now));
            if let (Err(e), Ok(mut slot)) = (r, errors.lock()) {
                *slot = Some(io::Error::from(e));
            }
        });
        if posted {
            Ok(buf.len())
        } else {
            Err(stopped())
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::V4(self.local))
    }

    async fn bind_another(&self) -> io::Result<Self> {
        // A group's socket: its sibling answers from the address the route chooses.
        let ip = if self.local.ip().is_multicast() {
            Ipv4Addr::UNSPECIFIED
        } else {
            *self.local.ip()
        };
        let caller = self.caller.clone();
        tokio::task::spawn_blocking(move || StackUdpSocket::bind(&caller, SocketAddrV4::new(ip, 0)))
            .await
            .map_err(io::Error::other)?
    }
}

/// Where a socket of the stack joins a multicast group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackJoin {
    /// The interface of this name (`se0`; a pd joins on its se's link).
    Interface(String),
    /// The interface that has this address (a service's `listen` address).
    Address(Ipv4Addr),
}

impl StackJoin {
    fn find(&self, stack: &Stack) -> io::Result<IfaceId> {
        let found = match self {
            StackJoin::Interface(name) => stack.find_interface(&name.to_ascii_lowercase()),
            StackJoin::Address(ip) => stack
                .interfaces()
                .find(|i| i.addr() == Some(*ip))
                .map(|i| i.id()),
        };
        found.ok_or_else(|| {
            let what = match self {
                StackJoin::Interface(name) => format!("no interface {name}"),
                StackJoin::Address(ip) => format!("no interface with address {ip}"),
            };
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{what} on Maynard's stack"),
            )
        })
    }
}

/// For a service's multicast groups: which of `addrs` are addresses of the stack's interfaces
/// (as [`open_on_stack`] decides) and which of `names` are its interfaces. All false without a
/// running stack.
pub fn stack_claims(
    stack: Option<&NetstackHandle>,
    addrs: Vec<Ipv4Addr>,
    names: Vec<String>,
) -> (Vec<bool>, Vec<bool>) {
    let none = (vec![false; addrs.len()], vec![false; names.len()]);
    let Some(stack) = stack else {
        return none;
    };
    stack
        .caller()
        .call_blocking(move |d| {
            let a = addrs.iter().map(|ip| is_stack_address(d, *ip)).collect();
            let n = names
                .iter()
                .map(|n| d.stack.find_interface(&n.to_ascii_lowercase()).is_some())
                .collect();
            (a, n)
        })
        .unwrap_or(none)
}

/// Whether `ip` is an address of one of the stack's interfaces (not lo0: 127.0.0.1 stays the
/// host's).
fn is_stack_address(d: &Driver, ip: std::net::Ipv4Addr) -> bool {
    d.stack
        .interfaces()
        .any(|i| i.kind() != IfaceKind::Loopback && i.addr() == Some(ip))
}

/// A socket of the stack that serves one endpoint of a service.
pub enum StackSocket {
    /// A UDP socket.
    Udp(StackUdpSocket),
    /// A listening TCP socket.
    Tcp(super::tcp_socket::StackTcpListener),
}

/// For the daemon's listener opening: when `addr` is an address of one of the stack's
/// interfaces, the socket is opened on the stack (`Some`); otherwise `None` and the host's
/// socket is used.
pub fn open_on_stack(
    stack: Option<&NetstackHandle>,
    protocol: Protocol,
    addr: SocketAddr,
    backlog: usize,
) -> Option<io::Result<StackSocket>> {
    let stack = stack?;
    let (IpAddr::V4(ip), SocketAddr::V4(v4)) = (addr.ip(), addr) else {
        return None;
    };
    if ip.is_unspecified() || ip.is_loopback() {
        return None;
    }
    let caller = stack.caller();
    // A stack that has stopped claims no address: the host's services keep working.
    match caller.call_blocking(move |d| is_stack_address(d, ip)) {
        Ok(false) | Err(_) => None,
        Ok(true) => Some(match protocol {
            Protocol::Tcp => super::tcp_socket::StackTcpListener::bind(&caller, v4, backlog)
                .map(StackSocket::Tcp),
            Protocol::Udp => StackUdpSocket::bind(&caller, v4).map(StackSocket::Udp),
        }),
    }
}

/// Serves a UDP service on a socket of the stack: a built-in server with netcp's
/// `builtin_loop`, unchanged; an external one through a loopback relay (`udp_relay.rs`).
pub async fn serve_udp(
    rt: Arc<crate::runtime::Runtime>,
    service: Arc<crate::service::ServiceShared>,
    socket: StackUdpSocket,
) {
    let local = SocketAddr::V4(socket.local);
    match service.settings().server {
        control::config::Server::Builtin(_) => {
            crate::udp::builtin_loop(rt, service, socket, local).await
        }
        control::config::Server::External { .. } => {
            super::udp_relay::serve_external(rt, service, socket).await
        }
    }
}
