//! The event report API: a Unix datagram socket (`ips.sock` in the configuration directory by
//! default) on which any local application reports an event as one line of `key=value` words
//! (`ips::report`), for example from a shell:
//!
//! ```text
//! echo "component=myapp event=bad-login source=203.0.113.7" | socat - UNIX-SENDTO:/etc/maynard/ips.sock
//! ```
//!
//! Reports that do not parse are logged with the reason and dropped.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use tokio::net::UnixDatagram;

use crate::runtime::Runtime;

/// Binds the socket (replacing a stale one) with `mode`.
pub fn open(rt: &Runtime, path: &str, mode: u32) -> io::Result<UnixDatagram> {
    let path = super::in_config_dir(rt, path);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let socket = UnixDatagram::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    Ok(socket)
}

/// Removes the socket's file.
pub fn remove(rt: &Runtime, path: &str) {
    let _ = std::fs::remove_file(super::in_config_dir(rt, path));
}

/// Reads reports until aborted.
pub async fn serve(rt: Arc<Runtime>, socket: UnixDatagram) {
    let mut buf = vec![0u8; 2048];
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            Err(_) => continue,
        };
        let text = String::from_utf8_lossy(&buf[..n]);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match ips::report::parse(line) {
                Ok(event) => rt.ips.report(&rt, || event),
                Err(e) => rt
                    .log
                    .emit(rt.log.line("ips-bad-report").kv("message", e.to_string())),
            }
        }
    }
}
