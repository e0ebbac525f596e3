//! External, user-written servers, inetd style: TCP `nowait` (a process per connection, the
//! socket as its stdin and stdout) and UDP `wait` (a process gets the socket and netcp waits for
//! it to exit before watching the socket again).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::Ordering::Relaxed;

use tokio::net::TcpStream;
use tokio::process::Command;

use crate::runtime::{show_peer, ConnGuard, Runtime};
use crate::sockets::{lookup_user, set_blocking, tcp_info};

/// A command for `program` with the connection's addresses in its environment and, when `user`
/// is set, that account's identity.
fn command(
    guard: &ConnGuard,
    program: &Path,
    arguments: &[String],
    user: Option<&str>,
    socket: Option<&OwnedFd>,
) -> io::Result<Command> {
    let mut cmd = Command::new(program);
    cmd.args(arguments);
    if let Some(socket) = socket {
        cmd.stdin(Stdio::from(socket.try_clone()?))
            .stdout(Stdio::from(socket.try_clone()?));
    }
    cmd.stderr(Stdio::null())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .kill_on_drop(true);
    let peer = show_peer(guard.peer);
    let local = show_peer(guard.local);
    let proto = guard.protocol.to_string().to_uppercase();
    for (k, v) in [
        ("MAYNARD_SERVICE", guard.service.name.clone()),
        ("MAYNARD_PROTOCOL", proto.clone()),
        ("MAYNARD_PEER_ADDR", peer.ip().to_string()),
        ("MAYNARD_PEER_PORT", peer.port().to_string()),
        ("MAYNARD_LOCAL_ADDR", local.ip().to_string()),
        ("MAYNARD_LOCAL_PORT", local.port().to_string()),
        // The UCSPI names, so programs written for tcpserver work unchanged.
        ("PROTO", proto.clone()),
        (&format!("{proto}REMOTEIP"), peer.ip().to_string()),
        (&format!("{proto}REMOTEPORT"), peer.port().to_string()),
        (&format!("{proto}LOCALIP"), local.ip().to_string()),
        (&format!("{proto}LOCALPORT"), local.port().to_string()),
    ] {
        cmd.env(k, v);
    }
    if let Some(name) = user {
        let account = lookup_user(name)?.ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("no such user `{name}`"))
        })?;
        cmd.uid(account.uid)
            .gid(account.gid)
            .env("USER", name)
            .env("LOGNAME", name)
            .env("HOME", &account.home)
            .env("SHELL", &account.shell);
        // Accounts such as nobody have a home that does not exist; start them in `/`.
        if Path::new(&account.home).is_dir() {
            cmd.current_dir(&account.home);
        } else {
            cmd.current_dir("/");
        }
    } else {
        cmd.current_dir("/");
    }
    Ok(cmd)
}

/// Runs the service's program on one TCP connection and waits for it to exit. Bytes and data
/// segments come from the kernel's TCP_INFO, since the child does its own reads and writes.
pub async fn run_tcp(
    guard: &ConnGuard,
    stream: TcpStream,
    program: &Path,
    arguments: &[String],
    user: Option<&str>,
) -> io::Result<ExitStatus> {
    let std = stream.into_std()?;
    let socket: OwnedFd = std.into();
    set_blocking(socket.as_fd(), true)?;
    let mut child = command(guard, program, arguments, user, Some(&socket))?.spawn()?;
    guard.pid.store(child.id().unwrap_or(0), Relaxed);
    let status = child.wait().await;
    if let Ok(info) = tcp_info(socket.as_fd()) {
        guard.meter.add(
            &guard.service.meter,
            info.data_bytes_received(),
            info.bytes_acked,
            u64::from(info.data_segs_in),
            u64::from(info.data_segs_out),
        );
    }
    status
}

/// Runs the service's program on a connection of Maynard's stack: the program has no host
/// socket to inherit, so its stdin and stdout are pipes that netcp joins to the stream, both
/// ways, until the program exits. Closing its stdout ends the connection's sending side.
pub async fn run_bridged<S>(
    guard: &ConnGuard,
    stream: S,
    program: &Path,
    arguments: &[String],
    user: Option<&str>,
) -> io::Result<ExitStatus>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let mut cmd = command(guard, program, arguments, user, None)?;
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn()?;
    guard.pid.store(child.id().unwrap_or(0), Relaxed);
    let (mut stdin, mut stdout) = match (child.stdin.take(), child.stdout.take()) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err(io::Error::other("the program's pipes were not made")),
    };
    // Counted as a built-in server's stream is: bytes and messages per read and write.
    let metered =
        services::MeteredStream::new(stream, guard.meter.clone(), guard.service.meter.clone());
    let (mut from_peer, mut to_peer) = tokio::io::split(metered);
    let inbound = async {
        let n = tokio::io::copy(&mut from_peer, &mut stdin).await;
        // The peer's FIN becomes end-of-file on the program's stdin.
        drop(stdin);
        n
    };
    let outbound = async {
        let n = tokio::io::copy(&mut stdout, &mut to_peer).await;
        let _ = to_peer.shutdown().await;
        n
    };
    let (status, _) = tokio::join!(child.wait(), async { tokio::join!(inbound, outbound) });
    status
}

/// Runs the program with a UDP socket that holds at least one datagram, inetd's `wait` style:
/// the program reads the datagrams itself; netcp waits for it to exit.
pub async fn run_udp(
    guard: &ConnGuard,
    socket: &tokio::net::UdpSocket,
    program: &Path,
    arguments: &[String],
    user: Option<&str>,
) -> io::Result<ExitStatus> {
    let fd: OwnedFd = socket.as_fd().try_clone_to_owned()?;
    set_blocking(fd.as_fd(), true)?;
    let result = async {
        let mut child = command(guard, program, arguments, user, Some(&fd))?.spawn()?;
        guard.pid.store(child.id().unwrap_or(0), Relaxed);
        child.wait().await
    }
    .await;
    // The descriptor shares its flags with tokio's: make it non-blocking again before tokio reads.
    set_blocking(fd.as_fd(), false)?;
    result
}

/// How an external server's run ended, for the `end` line; a failure to start is also logged
/// as an error of its own.
pub fn outcome(
    rt: &Runtime,
    guard: &ConnGuard,
    program: &Path,
    result: io::Result<ExitStatus>,
) -> String {
    match result {
        Ok(status) => describe_status(status),
        Err(e) => {
            rt.log.emit(
                rt.log
                    .line("error")
                    .kv("service", &guard.service.name)
                    .kv("conn", guard.id)
                    .kv("message", format!("cannot run {}: {e}", program.display())),
            );
            format!("spawn failed: {e}")
        }
    }
}

/// `exit 0`, `signal 9`, ...
fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "ended".into(),
    }
}
