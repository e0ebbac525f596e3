//! The control socket: a Unix socket, owner-only (0600) unless an admin group is configured
//! (0660), serving the `control` protocol. Peers are checked by their kernel credentials;
//! anything that is not a well-formed request of our protocol version is refused.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use control::protocol::{decode, encode, DecodeError, Request, Response, MAX_LINE};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Mutex;

use crate::daemon::Daemon;
use crate::runtime::Runtime;

/// Who may use the socket besides root and netcp's own user.
#[derive(Debug, Clone, Copy)]
pub struct AccessPolicy {
    /// The admin group, if any.
    pub admin_gid: Option<u32>,
}

/// Binds the control socket at `path`, refusing to take over one that a live netcp answers on.
pub async fn bind(path: &Path, policy: AccessPolicy) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another netcp is running on {}", path.display()),
            ));
        }
        // A socket left behind by a netcp that died.
        std::fs::remove_file(path)?;
    }
    // Create the socket with no permissions for others from the first instant.
    // SAFETY: umask only changes this process's file-creation mask.
    let old = unsafe { libc::umask(0o177) };
    let listener = UnixListener::bind(path);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let listener = listener?;
    if let Some(gid) = policy.admin_gid {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "socket path contains NUL"))?;
        // SAFETY: a valid NUL-terminated path; -1 leaves the owner unchanged.
        if unsafe { libc::chown(c.as_ptr(), u32::MAX, gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    } else {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(listener)
}

/// Serves control connections until the task is aborted.
pub async fn serve(
    listener: UnixListener,
    daemon: Arc<Mutex<Daemon>>,
    rt: Arc<Runtime>,
    policy: AccessPolicy,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let daemon = daemon.clone();
        let rt = rt.clone();
        tokio::spawn(async move {
            if let Err(why) = authorize(&stream, policy) {
                rt.log
                    .emit(rt.log.line("control-refused").kv("reason", &why));
                let mut stream = stream;
                let _ = stream
                    .write_all(encode(Response::Error { message: why }).as_bytes())
                    .await;
                return;
            }
            session(stream, daemon, rt).await;
        });
    }
}

fn authorize(stream: &UnixStream, policy: AccessPolicy) -> Result<(), String> {
    let cred = stream
        .peer_cred()
        .map_err(|e| format!("cannot read peer credentials: {e}"))?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if cred.uid() == 0 || cred.uid() == me {
        return Ok(());
    }
    if let Some(gid) = policy.admin_gid {
        if cred.gid() == gid || cred.pid().is_some_and(|pid| in_group(pid, gid)) {
            return Ok(());
        }
    }
    Err(format!(
        "uid {} may not control netcp (only root, uid {me}{})",
        cred.uid(),
        if policy.admin_gid.is_some() {
            " and the admin group"
        } else {
            ""
        }
    ))
}

/// Whether process `pid` has `gid` among its supplementary groups.
fn in_group(pid: i32, gid: u32) -> bool {
    let status = PathBuf::from(format!("/proc/{pid}/status"));
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Groups:").map(|g| g.to_string()))
        })
        .is_some_and(|g| g.split_whitespace().any(|x| x.parse() == Ok(gid)))
}

async fn session(stream: UnixStream, daemon: Arc<Mutex<Daemon>>, rt: Arc<Runtime>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = match (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(n) => n,
            Err(_) => return,
        };
        if n == 0 {
            return;
        }
        let (response, fatal) = if line.len() > MAX_LINE {
            (
                Response::Error {
                    message: format!("request longer than {MAX_LINE} bytes"),
                },
                true,
            )
        } else {
            match std::str::from_utf8(&line)
                .map_err(|_| "request is not UTF-8".to_string())
                .and_then(|text| {
                    decode::<Request>(text.trim_end()).map_err(|e: DecodeError| e.to_string())
                }) {
                Ok(request) => {
                    let name = format!("{request:?}");
                    let short = name.split([' ', '{', '(']).next().unwrap_or("").to_string();
                    rt.log.emit(rt.log.line("control").kv("request", short));
                    // Live capture streams many lines and holds the daemon only to open.
                    if let Request::Capture {
                        interface,
                        count,
                        seconds,
                    } = request
                    {
                        let spec = CaptureSpec {
                            interface,
                            count,
                            seconds,
                        };
                        if capture(&mut reader, &mut write, &daemon, spec).await {
                            continue;
                        }
                        return;
                    }
                    (daemon.lock().await.handle(request).await, false)
                }
                Err(message) => (Response::Error { message }, true),
            }
        };
        if write.write_all(encode(&response).as_bytes()).await.is_err() || fatal {
            return;
        }
    }
}

/// What a Capture request asked.
struct CaptureSpec {
    interface: String,
    count: Option<u64>,
    seconds: Option<u64>,
}

/// Frames per `Response::Frames` line at most.
const FRAMES_PER_BATCH: usize = 64;

/// Serves one Capture request: `Response::Frames` lines (an empty one every second while the
/// interface is quiet, so the client notices a quiet link is alive and netcp notices a client
/// that went away) until the count or time is reached, then one with `done`. Returns whether
/// the session goes on (false: the client closed or spoke during the capture, or a write failed).
async fn capture(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    write: &mut tokio::net::unix::OwnedWriteHalf,
    daemon: &Arc<Mutex<Daemon>>,
    spec: CaptureSpec,
) -> bool {
    let opened = daemon.lock().await.open_capture(&spec.interface).await;
    let mut session = match opened {
        Ok(s) => s,
        Err(message) => {
            return write
                .write_all(encode(Response::Error { message }).as_bytes())
                .await
                .is_ok()
        }
    };
    let deadline = spec
        .seconds
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let timer = async move {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    let mut keepalive = tokio::time::interval(Duration::from_secs(1));
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = 0u64;
    let mut scratch = [0u8; 256];
    loop {
        let mut frames = Vec::new();
        let mut done = spec.count.is_some_and(|c| sent >= c);
        if !done {
            tokio::select! {
                f = session.frames.recv() => match f {
                    Some(f) => {
                        frames.push(f);
                        while frames.len() < FRAMES_PER_BATCH {
                            match session.frames.try_recv() {
                                Ok(f) => frames.push(f),
                                Err(_) => break,
                            }
                        }
                    }
                    None => done = true,
                },
                _ = keepalive.tick() => {}
                _ = &mut timer => done = true,
                // The client closes the connection to stop; anything it sends ends it too.
                _ = reader.read(&mut scratch) => return false,
            }
        }
        if let Some(c) = spec.count {
            let left = usize::try_from(c - sent.min(c)).unwrap_or(usize::MAX);
            if frames.len() >= left {
                frames.truncate(left);
                done = true;
            }
        }
        sent += frames.len() as u64;
        let response = Response::Frames {
            frames,
            dropped: session.dropped.load(std::sync::atomic::Ordering::Relaxed),
            done,
        };
        if write.write_all(encode(&response).as_bytes()).await.is_err() {
            return false;
        }
        if done {
            return true;
        }
    }
}
