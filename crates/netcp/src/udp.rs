//! UDP services: built-in servers answer each datagram in netcp; external servers run in inetd's
//! `wait` style.

mod batch;

use batch::defer_or_send;
pub use batch::ReplyBatch;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use control::config::Server;
use servicedb::Protocol;
use services::{DatagramSocket, PeerInfo};
use tokio::net::UdpSocket;

use crate::mmsg;
use crate::runtime::{show_peer, ConnGuard, Runtime};
use crate::service::{Refusal, ServiceShared};

/// Serves `socket` until the task is aborted.
pub async fn serve(rt: Arc<Runtime>, service: Arc<ServiceShared>, socket: UdpSocket) {
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(_) => return,
    };
    match service.settings().server.clone() {
        Server::Builtin(_) => builtin_loop(rt, service, socket, local).await,
        Server::External { .. } => wait_loop(rt, service, socket, local, Some).await,
    }
}

/// Answers datagrams with a built-in server, written against [`DatagramSocket`] so it serves
/// on Maynard's own stack unchanged. For SNMP on a kernel socket it receives with `recvmmsg(2)`
/// (every waiting datagram in one call) and SNMP answers finished by a subagent connection's
/// reader go out with `sendmmsg(2)` ([`ReplyBatch`]).
pub async fn builtin_loop<S: DatagramSocket + 'static>(
    rt: Arc<Runtime>,
    service: Arc<ServiceShared>,
    socket: S,
    local: SocketAddr,
) {
    // Shared with the tasks that answer SNMP requests waiting for subagents.
    let socket = Arc::new(socket);
    // Only the SNMP agent's socket, where many requests are outstanding at once (the other
    // small servers see a datagram at a time and keep their single calls).
    let snmp = matches!(
        service.settings().server,
        Server::Builtin(services::Builtin::Snmp)
    );
    let kernel = if snmp { kernel_socket(&socket) } else { None };
    let Some(kernel) = kernel else {
        let mut buf = vec![0u8; 65536];
        loop {
            // Every datagram already waiting is taken without a wake-up; once none is left,
            // the AgentX PDUs they produced go to the subagents in one write each.
            let received = match crate::snmp_agent::poll_now(socket.recv_from(&mut buf)) {
                Some(r) => r,
                None => {
                    crate::snmp_agent::flush(&rt);
                    socket.recv_from(&mut buf).await
                }
            };
            // Errors are ICMP errors of earlier replies (ECONNREFUSED): they are not ours.
            if let Ok((n, peer)) = received {
                if !dispatch(&rt, &service, &socket, None, local, &buf[..n], peer).await {
                    return;
                }
            }
        }
    };
    let mut batch = mmsg::RecvBatch::default();
    loop {
        match mmsg::recv(&kernel, &mut batch) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // None left: the AgentX PDUs of what was dispatched go out, one write per
                // subagent, before waiting for more.
                crate::snmp_agent::flush(&rt);
                if kernel.readable().await.is_err() {
                    return;
                }
                continue;
            }
            // An ICMP error of an earlier reply (ECONNREFUSED), consumed by the call.
            Err(_) => continue,
        }
        for i in 0..batch.len() {
            let Some((data, peer)) = batch.get(i) else {
                break;
            };
            if !dispatch(&rt, &service, &socket, Some(&kernel), local, data, peer).await {
                return;
            }
        }
    }
}

/// The kernel socket under `socket`, when it is one and the batched calls exist here.
fn kernel_socket<S: DatagramSocket + 'static>(socket: &Arc<S>) -> Option<Arc<UdpSocket>> {
    if !mmsg::supported() {
        return None;
    }
    // The loop is generic so that it also serves Maynard's own stack; only a tokio socket
    // has a file descriptor for recvmmsg/sendmmsg.
    let any: Arc<dyn std::any::Any + Send + Sync> = socket.clone();
    any.downcast::<UdpSocket>().ok()
}

/// Answers one datagram; false when the loop must end (reconfigured to an external server).
/// `kernel`: the same socket as `socket` when it is a kernel one (late SNMP answers may then
/// be batched).
async fn dispatch<S: DatagramSocket + 'static>(
    rt: &Arc<Runtime>,
    service: &Arc<ServiceShared>,
    socket: &Arc<S>,
    kernel: Option<&Arc<UdpSocket>>,
    local: SocketAddr,
    data: &[u8],
    peer: SocketAddr,
) -> bool {
    let n = data.len();
    let settings = service.settings();
    let Server::Builtin(builtin) = settings.server else {
        // Reconfigured to an external server: the daemon restarts this listener.
        return false;
    };
    // A forged datagram from another small server's port would start an endless exchange.
    if services::Builtin::is_reflection_port(peer.port()) {
        service.refused(rt, Protocol::Udp, peer, local, Refusal::Loop);
        return true;
    }
    let permit = match service.admit(peer.ip(), false) {
        Ok(p) => p,
        Err(why) => {
            service.refused(rt, Protocol::Udp, peer, local, why);
            return true;
        }
    };
    let weight = u64::from(udp_weight(&settings));
    let meter = &service.meter;
    meter.accepted.fetch_add(1, Relaxed);
    meter.bytes_in.fetch_add(n as u64, Relaxed);
    meter.msgs_in_centi.fetch_add(weight, Relaxed);
    if builtin == services::Builtin::Tftp {
        start_tftp(rt, service, socket, (local, peer), data, permit, weight);
        return true;
    }
    let info = PeerInfo { peer, local };
    let mut permit = Some(permit);
    let reply = if builtin == services::Builtin::Snmp {
        let later = || -> crate::snmp_agent::ReplyFn {
            // A subagent's subtree: answered from whichever task gets its answer.
            let (socket, service, permit) = (socket.clone(), service.clone(), permit.take());
            let kernel = kernel.cloned();
            Box::new(move |reply| {
                if let Some(reply) = reply {
                    match kernel {
                        Some(k) => defer_or_send(k, service, reply, peer, weight),
                        None => send_later(socket, service, reply, peer, weight),
                    }
                }
                drop(permit);
            })
        };
        match crate::snmp_agent::answer(rt, data, peer, later) {
            crate::snmp_agent::SnmpAnswer::Now(r) => r,
            crate::snmp_agent::SnmpAnswer::Later => return true,
        }
    } else {
        builtin.answer_datagram(&rt.builtin_context(), data, &info)
    };
    let mut sent = 0;
    if let Some(reply) = reply {
        if let Ok(m) = socket.send_to(&reply, peer).await {
            sent = m;
            meter.bytes_out.fetch_add(m as u64, Relaxed);
            meter.msgs_out_centi.fetch_add(weight, Relaxed);
        }
    }
    drop(permit);
    rt.log.emit(
        rt.log
            .line("datagram")
            .kv("service", &service.name)
            .kv("proto", "udp")
            .kv("peer", show_peer(peer))
            .kv("local", show_peer(local))
            .kv("bytes_in", n)
            .kv("bytes_out", sent),
    );
    true
}

/// Serves a TFTP request from a socket of its own beside the service's (the transfer's port),
/// in a task: the transfer is a connection of the service (SHOW CONNECTIONS, the log, the
/// accounting).
fn start_tftp<S: DatagramSocket + 'static>(
    rt: &Arc<Runtime>,
    service: &Arc<ServiceShared>,
    socket: &Arc<S>,
    (local, peer): (SocketAddr, SocketAddr),
    request: &[u8],
    permit: crate::service::Permit,
    weight: u64,
) {
    let (rt, service, socket) = (rt.clone(), service.clone(), socket.clone());
    let request = request.to_vec();
    tokio::spawn(async move {
        let mut guard =
            ConnGuard::open(&rt, &service, Protocol::Udp, local, show_peer(peer), permit);
        guard
            .meter
            .bytes_in
            .fetch_add(request.len() as u64, Relaxed);
        let transfer = match socket.bind_another().await {
            Ok(t) => t,
            Err(e) => {
                guard.outcome = format!("no transfer socket: {e}");
                return;
            }
        };
        let config = rt.builtin_context().tftp;
        let o = services::tftp::serve(&config, &request, peer, transfer).await;
        // The transfer's bytes into the connection's and the service's meters (ConnMeter::add),
        // and one message out for the service, as a UDP built-in's answer counts.
        guard
            .meter
            .add(&service.meter, o.bytes_in, o.bytes_out, 0, 0);
        service.meter.msgs_out_centi.fetch_add(weight, Relaxed);
        // Names that are refused or absent are what a scan for configuration files looks
        // like: IPS events (`tftp`, `access-violation` / `not-found`).
        let event = match o.code {
            Some(services::tftp::ErrorCode::AccessViolation) => Some("access-violation"),
            Some(services::tftp::ErrorCode::NotFound) => Some("not-found"),
            _ => None,
        };
        if let Some(event) = event {
            rt.ips.report(&rt, || ips::Event {
                component: "tftp".into(),
                event: event.into(),
                source: wire::prefix::canonical(peer.ip()),
                destination: Some((wire::prefix::canonical(local.ip()), local.port())),
                protocol: ips::Proto::Udp,
            });
        }
        let verb = if o.write { "received" } else { "sent" };
        guard.outcome = match o.error {
            None => format!("{verb} {} ({} bytes)", o.file, o.bytes),
            Some(e) => format!("{} {}: {e}", if o.write { "write" } else { "read" }, o.file),
        };
    });
}

/// Sends a late SNMP answer without waiting when the socket takes it at once (the usual
/// case), else from a task of its own.
fn send_later<S: DatagramSocket + 'static>(
    socket: Arc<S>,
    service: Arc<ServiceShared>,
    reply: Vec<u8>,
    peer: SocketAddr,
    weight: u64,
) {
    match crate::snmp_agent::poll_now(socket.send_to(&reply, peer)) {
        Some(Ok(m)) => count_out(&service, m, weight),
        Some(Err(_)) => {}
        None => {
            tokio::spawn(async move {
                if let Ok(m) = socket.send_to(&reply, peer).await {
                    count_out(&service, m, weight);
                }
            });
        }
    }
}

fn count_out(service: &ServiceShared, m: usize, weight: u64) {
    service.meter.bytes_out.fetch_add(m as u64, Relaxed);
    service.meter.msgs_out_centi.fetch_add(weight, Relaxed);
}

fn udp_weight(s: &control::config::ResolvedService) -> u16 {
    s.endpoints
        .iter()
        .find(|e| e.protocol == Protocol::Udp)
        .map_or(100, |e| e.weight)
}

/// At most this many child processes per second for one wait-style service: a program that
/// exits without reading its datagram would otherwise be restarted in a tight loop.
const MAX_SPAWNS_PER_SECOND: u32 = 50;

/// Serves an external server in inetd's `wait` style: when a datagram waits on `socket` and no
/// child runs, the child starts with `socket` as its standard input and reads the datagram
/// itself. `real_peer` says who a waiting datagram's sender stands for (the sender itself on a
/// host socket; the peer on Maynard's stack behind one of the relay's loopback sockets), or
/// `None` for a sender that stands for no one, whose datagram is dropped.
pub(crate) async fn wait_loop(
    rt: Arc<Runtime>,
    service: Arc<ServiceShared>,
    socket: UdpSocket,
    local: SocketAddr,
    real_peer: impl Fn(SocketAddr) -> Option<SocketAddr>,
) {
    let mut window = Instant::now();
    let mut spawns = 0u32;
    let mut probe = [0u8; 1];
    loop {
        let seen = match socket.peek_from(&mut probe).await {
            Ok((_, seen)) => seen,
            Err(_) => {
                // A queued ICMP error; reading it clears it.
                let _ = socket.try_recv_from(&mut probe);
                continue;
            }
        };
        let Some(peer) = real_peer(seen) else {
            let _ = socket.try_recv_from(&mut probe);
            continue;
        };
        let settings = service.settings();
        let Server::External {
            program,
            arguments,
            user,
        } = &settings.server
        else {
            return;
        };
        let permit = match service.admit(peer.ip(), true) {
            Ok(p) => p,
            Err(why) => {
                service.refused(&rt, Protocol::Udp, peer, local, why);
                // Consume the refused datagram so the next one can be judged.
                let mut discard = vec![0u8; 65536];
                let _ = socket.recv_from(&mut discard).await;
                continue;
            }
        };
        if window.elapsed() >= Duration::from_secs(1) {
            window = Instant::now();
            spawns = 0;
        }
        spawns += 1;
        if spawns > MAX_SPAWNS_PER_SECOND {
            tokio::time::sleep(Duration::from_secs(1).saturating_sub(window.elapsed())).await;
            window = Instant::now();
            spawns = 1;
        }
        service.meter.accepted.fetch_add(1, Relaxed);
        let mut guard =
            ConnGuard::open(&rt, &service, Protocol::Udp, local, show_peer(peer), permit);
        let result =
            crate::external::run_udp(&guard, &socket, program, arguments, user.as_deref()).await;
        if result.is_err() {
            // Do not retry the same datagram forever.
            let mut discard = vec![0u8; 65536];
            let _ = socket.try_recv_from(&mut discard);
        }
        guard.outcome = crate::external::outcome(&rt, &guard, program, result);
    }
}
