//! TCP services: the accept loop, admission, and handing each connection to its server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use control::config::Server;
use servicedb::Protocol;
use services::{MeteredStream, PeerInfo};
use tokio::net::{TcpListener, TcpStream};

use crate::runtime::{ConnGuard, Runtime};
use crate::service::ServiceShared;

/// Accepts connections for `service` until the task is aborted.
pub async fn accept_loop(rt: Arc<Runtime>, service: Arc<ServiceShared>, listener: TcpListener) {
    let bound = listener.local_addr().ok();
    // A listener on one address knows every connection's local end; only a wildcard listener
    // has to ask the kernel per connection.
    let fixed_local = bound.filter(|a| !a.ip().is_unspecified());
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let local = match fixed_local {
                    Some(a) => a,
                    None => stream.local_addr().ok().or(bound).unwrap_or(peer),
                };
                admit(&rt, &service, stream, peer, local);
            }
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning; the service stays up.
                rt.log.emit(
                    rt.log
                        .line("error")
                        .kv("service", &service.name)
                        .kv("proto", "tcp")
                        .kv("message", format!("accept: {e}")),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn admit(
    rt: &Arc<Runtime>,
    service: &Arc<ServiceShared>,
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
) {
    let permit = match service.admit(peer.ip(), true) {
        Ok(p) => p,
        Err(why) => {
            service.refused(rt, Protocol::Tcp, peer, local, why);
            // Dropping the stream closes it.
            return;
        }
    };
    service
        .meter
        .accepted
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let guard = ConnGuard::open(rt, service, Protocol::Tcp, local, peer, permit);
    let abort = guard.abort.clone();
    let task = tokio::spawn(serve(rt.clone(), guard, stream));
    let _ = abort.set(task.abort_handle());
}

async fn serve(rt: Arc<Runtime>, mut guard: ConnGuard, stream: TcpStream) {
    let settings = guard.service.settings();
    let info = PeerInfo {
        peer: guard.peer,
        local: guard.local,
    };
    if let Some(tos) = settings
        .endpoints
        .iter()
        .find(|e| e.protocol == Protocol::Tcp)
        .and_then(|e| e.tos)
    {
        let _ = crate::sockets::set_tos(&socket2::SockRef::from(&stream), guard.local, tos);
    }
    match &settings.server {
        Server::Builtin(b) => {
            let ctx = rt.builtin_context();
            let metered =
                MeteredStream::new(stream, guard.meter.clone(), guard.service.meter.clone());
            guard.outcome = match b.serve_stream(&ctx, metered, &info).await {
                Ok(()) => "closed".into(),
                Err(e) => format!("error: {e}"),
            };
        }
        Server::External {
            program,
            arguments,
            user,
        } => {
            let result =
                crate::external::run_tcp(&guard, stream, program, arguments, user.as_deref()).await;
            guard.outcome = crate::external::outcome(&rt, &guard, program, result);
        }
    }
}
