//! One transfer's socket, peer and tallies, and the option negotiation; the read side is
//! `read.rs`, the write side `write.rs`. Each block is answered in turn (or, with RFC 7440's
//! window, a window of blocks per answer), and sent again after a timeout a bounded number of
//! times.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::packet::{self, ErrorCode};
use super::path::Refused;
use super::{TftpConfig, MAX_BLKSIZE};
use crate::net::DatagramSocket;

/// Timing of a transfer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub timeout: Duration,
    pub retries: u32,
}

/// What a transfer did, for the log and the accounting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The file named by the request.
    pub file: String,
    /// A write request.
    pub write: bool,
    /// File bytes moved.
    pub bytes: u64,
    /// Datagram bytes received.
    pub bytes_in: u64,
    /// Datagram bytes sent.
    pub bytes_out: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// The error code the server sent, if it refused or failed the transfer.
    pub code: Option<ErrorCode>,
}

/// A transfer's socket, peer and tallies.
pub(super) struct Transfer<S> {
    socket: S,
    peer: SocketAddr,
    pub(super) settings: Settings,
    pub outcome: Outcome,
    pub(super) buf: Vec<u8>,
}

/// What waiting for the peer brought.
pub(super) enum Heard {
    /// A packet from the peer, `n` bytes in the buffer.
    Packet(usize),
    /// Nothing before the deadline.
    Timeout,
}

impl<S: DatagramSocket> Transfer<S> {
    pub fn new(socket: S, peer: SocketAddr, settings: Settings) -> Self {
        Transfer {
            socket,
            peer,
            settings,
            outcome: Outcome::default(),
            buf: vec![0u8; usize::from(MAX_BLKSIZE) + 4],
        }
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) {
        if let Ok(n) = self.socket.send_to(bytes, self.peer).await {
            self.outcome.bytes_out += n as u64;
        }
    }

    /// Sends ERROR and ends the transfer.
    pub async fn fail(mut self, code: ErrorCode, message: &str) -> Outcome {
        self.send(&packet::error(code, message)).await;
        self.outcome.error = Some(message.to_string());
        self.outcome.code = Some(code);
        self.outcome
    }

    /// Waits for the peer's next packet until `deadline`. Datagrams from anyone else (another
    /// transfer ID) get ERROR 5 and are otherwise ignored (RFC 1350).
    pub(super) async fn hear(&mut self, deadline: Instant) -> Heard {
        loop {
            let got = tokio::time::timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await;
            match got {
                Err(_) => return Heard::Timeout,
                // An ICMP error of an earlier send: keep waiting.
                Ok(Err(_)) => continue,
                Ok(Ok((n, from))) if from == self.peer => {
                    self.outcome.bytes_in += n as u64;
                    return Heard::Packet(n);
                }
                Ok(Ok((_, from))) => {
                    let e = packet::error(ErrorCode::UnknownTid, "unknown transfer ID");
                    let _ = self.socket.send_to(&e, from).await;
                }
            }
        }
    }

    pub(super) fn ended_by_peer(mut self, code: u16, message: &str) -> Outcome {
        self.outcome.error = Some(format!("the client sent error {code}: {message}"));
        self.outcome
    }

    pub(super) fn gave_up(mut self) -> Outcome {
        self.outcome.error = Some("no answer from the client".into());
        self.outcome
    }
}

/// The options granted.
pub(super) struct Negotiated {
    pub(super) blksize: usize,
    pub(super) windowsize: usize,
    pub(super) timeout: Option<Duration>,
    /// What the OACK says (empty: no OACK, RFC 1350 behaviour).
    pub(super) reply: Vec<(String, String)>,
}

/// Grants what it can of `options` (unknown ones are left out of the OACK, as RFC 2347 says);
/// `tsize` is the file's size for a read, or checked against the limit for a write.
pub(super) fn negotiate(
    config: &TftpConfig,
    options: &[(String, String)],
    read_size: Option<u64>,
) -> Result<Negotiated, (ErrorCode, String)> {
    let mut n = Negotiated {
        blksize: 512,
        windowsize: 1,
        timeout: None,
        reply: Vec::new(),
    };
    for (name, value) in options {
        let number = value.trim().parse::<u64>().ok();
        match (name.as_str(), number) {
            ("blksize", Some(v)) if v >= 8 => {
                let granted = v.min(u64::from(config.max_blksize.min(MAX_BLKSIZE)));
                n.blksize = granted as usize;
                n.reply.push((name.clone(), granted.to_string()));
            }
            ("windowsize", Some(v)) if v >= 1 => {
                let granted = v.min(u64::from(config.max_windowsize.max(1)));
                n.windowsize = granted as usize;
                n.reply.push((name.clone(), granted.to_string()));
            }
            ("timeout", Some(v)) if (1..=255).contains(&v) => {
                n.timeout = Some(Duration::from_secs(v));
                n.reply.push((name.clone(), v.to_string()));
            }
            ("tsize", Some(v)) => match read_size {
                Some(size) => n.reply.push((name.clone(), size.to_string())),
                None if v > config.max_write_size => {
                    return Err((
                        ErrorCode::DiskFull,
                        format!(
                            "{v} bytes is more than the {} allowed",
                            config.max_write_size
                        ),
                    ))
                }
                None => n.reply.push((name.clone(), v.to_string())),
            },
            // Out of range or not a number: not granted, the default holds.
            _ => {}
        }
    }
    Ok(n)
}

pub(super) fn refusal(r: Refused) -> (ErrorCode, String) {
    match r {
        Refused::NotFound => (ErrorCode::NotFound, "File not found".into()),
        Refused::Outside => (ErrorCode::AccessViolation, "Access violation".into()),
        Refused::Io(e) => io_refusal(&e),
    }
}

pub(super) fn io_refusal(e: &io::Error) -> (ErrorCode, String) {
    match e.kind() {
        io::ErrorKind::NotFound => (ErrorCode::NotFound, "File not found".into()),
        io::ErrorKind::PermissionDenied => (ErrorCode::AccessViolation, "Access violation".into()),
        _ => (ErrorCode::Undefined, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_granted_within_the_limits() {
        let config = TftpConfig {
            max_blksize: 1468,
            max_windowsize: 8,
            ..TftpConfig::default()
        };
        let opts = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let n = negotiate(
            &config,
            &opts(&[
                ("blksize", "65464"),
                ("windowsize", "32"),
                ("tsize", "0"),
                ("colour", "red"),
            ]),
            Some(4242),
        )
        .unwrap();
        assert_eq!((n.blksize, n.windowsize), (1468, 8));
        assert_eq!(
            n.reply,
            opts(&[("blksize", "1468"), ("windowsize", "8"), ("tsize", "4242")])
        );
        let n = negotiate(&config, &opts(&[("blksize", "4"), ("timeout", "0")]), None).unwrap();
        assert_eq!(
            (n.blksize, n.reply.len()),
            (512, 0),
            "out of range: not granted"
        );
        let e = negotiate(&config, &opts(&[("tsize", "99999999999")]), None);
        assert!(matches!(e, Err((ErrorCode::DiskFull, _))));
    }
}
