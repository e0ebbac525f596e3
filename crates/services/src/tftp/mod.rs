//! The TFTP server (RFC 1350) with option negotiation (RFC 2347): block size (RFC 2348),
//! timeout and transfer size (RFC 2349) and window size (RFC 7440). Files are served from one
//! root directory; writes are off unless allowed, and create files only when allowed too.
//!
//! Each request that reaches the service's port is served from a socket of its own (its port
//! is the transfer's ID), which the caller opens on the same address: the host's or Maynard's
//! stack's, the server is written against [`DatagramSocket`].

mod packet;
mod path;
mod read;
mod transfer;
mod write;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::net::DatagramSocket;
pub use packet::{parse, ErrorCode, Mode, Packet, PacketError};
pub use transfer::Outcome;

/// The largest block size RFC 2348 allows.
pub const MAX_BLKSIZE: u16 = 65464;

/// The TFTP server's settings (the `[tftp]` table of servers.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TftpConfig {
    /// The directory files are served from and written to; requests cannot leave it.
    pub root: PathBuf,
    /// Whether write requests (WRQ) may replace files.
    pub allow_write: bool,
    /// Whether write requests may create files that do not exist (needs `allow_write`).
    pub allow_create: bool,
    /// The largest block size granted (8 to 65464; a client asking more gets this).
    pub max_blksize: u16,
    /// The largest window granted (RFC 7440; 1 to 64).
    pub max_windowsize: u16,
    /// The wait for an answer before a block is sent again, in milliseconds, unless the client
    /// asks another with the `timeout` option.
    pub timeout_ms: u64,
    /// How many times a block is sent again before the transfer is given up.
    pub retries: u32,
    /// The largest file a write request may create, in bytes.
    pub max_write_size: u64,
}

impl Default for TftpConfig {
    fn default() -> Self {
        TftpConfig {
            root: PathBuf::from("/srv/tftp"),
            allow_write: false,
            allow_create: false,
            max_blksize: 1468,
            max_windowsize: 16,
            timeout_ms: 1000,
            retries: 5,
            max_write_size: 1 << 30,
        }
    }
}

impl TftpConfig {
    /// Problems with the settings, for the configuration's check.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(8..=MAX_BLKSIZE).contains(&self.max_blksize) {
            out.push(format!(
                "max_blksize {}: 8 to {MAX_BLKSIZE} expected",
                self.max_blksize
            ));
        }
        if !(1..=64).contains(&self.max_windowsize) {
            out.push(format!(
                "max_windowsize {}: 1 to 64 expected",
                self.max_windowsize
            ));
        }
        if !(10..=255_000).contains(&self.timeout_ms) {
            out.push(format!(
                "timeout_ms {}: 10 to 255000 expected",
                self.timeout_ms
            ));
        }
        if self.allow_create && !self.allow_write {
            out.push("allow_create needs allow_write".into());
        }
        out
    }
}

/// Serves the request `request` that `peer` sent to the service's port, over `socket` (a new
/// socket on the same address: the transfer's own port). Returns when the transfer ends.
pub async fn serve<S: DatagramSocket>(
    config: &TftpConfig,
    request: &[u8],
    peer: SocketAddr,
    socket: S,
) -> Outcome {
    let settings = transfer::Settings {
        timeout: Duration::from_millis(config.timeout_ms),
        retries: config.retries,
    };
    let mut t = transfer::Transfer::new(socket, peer, settings);
    let (write, file, mode, options) = match parse(request) {
        Ok(Packet::Request {
            write,
            file,
            mode,
            options,
        }) => (write, file, mode, options),
        Ok(_) => {
            return t
                .fail(ErrorCode::IllegalOperation, "a request was expected")
                .await
        }
        Err(e) => return t.fail(ErrorCode::IllegalOperation, &e.to_string()).await,
    };
    t.outcome.file = file.clone();
    t.outcome.write = write;
    if mode == Mode::Mail {
        return t
            .fail(ErrorCode::IllegalOperation, "mail mode is not supported")
            .await;
    }
    if write {
        write::receive(t, config, &file, mode, &options).await
    } else {
        read::send(t, config, &file, mode, &options).await
    }
}
