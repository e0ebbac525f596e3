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
