//! TCP services: the accept loops (the host's listener and Maynard's stack's), admission, and
//! handing each connection to its server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use control::config::Server;
use servicedb::Protocol;
use services::{MeteredStream, PeerInfo, ServiceStream};
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

/// Accepts connections on a listener of Maynard's stack until the task is aborted.
pub async fn stack_accept_loop(
    rt: Arc<Runtime>,
    service: Arc<ServiceShared>,
    mut listener: crate::netstack::StackTcpListener,
) {
    while let Ok(a) = listener.accept().await {
        admit(
            &rt,
            &service,
            Connection::Stack(a.stream),
            SocketAddr::V4(a.peer),
            SocketAddr::V4(a.local),
        );
    }
}

/// A connection from the host's TCP or from Maynard's stack.
enum Connection {
    Host(TcpStream),
    Stack(crate::netstack::StackTcpStream),
}

fn admit(
    rt: &Arc<Runtime>,
    service: &Arc<ServiceShared>,
    stream: impl Into<Connection>,
    peer: SocketAddr,
    local: SocketAddr,
) {
    let stream = stream.into();
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

impl From<TcpStream> for Connection {
    fn from(s: TcpStream) -> Self {
        Connection::Host(s)
    }
}

async fn serve(rt: Arc<Runtime>, mut guard: ConnGuard, stream: Connection) {
    let settings = guard.service.settings();
    let info = PeerInfo {
        peer: guard.peer,
        local: guard.local,
    };
    let tos = settings
        .endpoints
        .iter()
        .find(|e| e.protocol == Protocol::Tcp)
        .and_then(|e| e.tos);
    if let (Some(tos), Connection::Host(s)) = (tos, &stream) {
        let _ = crate::sockets::set_tos(&socket2::SockRef::from(s), guard.local, tos);
    }
    match &settings.server {
        Server::Builtin(b) => {
            let result = match stream {
                Connection::Host(s) => serve_builtin(&rt, &guard, b, s, &info).await,
                Connection::Stack(s) => serve_builtin(&rt, &guard, b, s, &info).await,
            };
            guard.outcome = match result {
                Ok(()) => "closed".into(),
                Err(e) => format!("error: {e}"),
            };
        }
        Server::External {
            program,
            arguments,
            user,
        } => {
            let result = match stream {
                Connection::Host(s) => {
                    crate::external::run_tcp(&guard, s, program, arguments, user.as_deref()).await
                }
                Connection::Stack(s) => {
                    crate::external::run_bridged(&guard, s, program, arguments, user.as_deref())
                        .await
                }
            };
            guard.outcome = crate::external::outcome(&rt, &guard, program, result);
        }
    }
}

async fn serve_builtin<S: ServiceStream + 'static>(
    rt: &Arc<Runtime>,
    guard: &ConnGuard,
    b: &services::Builtin,
    stream: S,
    info: &PeerInfo,
) -> std::io::Result<()> {
    let ctx = rt.builtin_context();
    let metered = MeteredStream::new(stream, guard.meter.clone(), guard.service.meter.clone());
    b.serve_stream(&ctx, metered, info).await
}
