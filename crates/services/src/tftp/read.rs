//! A read request (RRQ): the file goes out in blocks, a window of them per acknowledgement.

use std::collections::VecDeque;
use std::io;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::packet::{self, ErrorCode, Mode, Packet};
use super::path;
use super::transfer::{io_refusal, negotiate, refusal, Heard, Outcome, Transfer};
use super::TftpConfig;
use crate::net::DatagramSocket;

/// Serves a read request for `name`.
pub(super) async fn send<S: DatagramSocket>(
    mut t: Transfer<S>,
    config: &TftpConfig,
    name: &str,
    mode: Mode,
    options: &[(String, String)],
) -> Outcome {
    let opened = match path::for_reading(&config.root, name) {
        Ok(p) => tokio::fs::File::open(&p).await.map_err(|e| io_refusal(&e)),
        Err(r) => Err(refusal(r)),
    };
    let file = match opened {
        Ok(f) => f,
        Err((code, message)) => return t.fail(code, &message).await,
    };
    let size = match file.metadata().await {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return t.fail(ErrorCode::AccessViolation, "not a file").await,
        Err(e) => return t.fail(ErrorCode::Undefined, &e.to_string()).await,
    };
    // netascii changes the size: tsize is answered for octet only.
    let known = (mode == Mode::Octet).then_some(size);
    let n = match negotiate(config, options, known) {
        Ok(n) => n,
        Err((code, message)) => return t.fail(code, &message).await,
    };
    if let Some(timeout) = n.timeout {
        t.settings.timeout = timeout;
    }
    if !n.reply.is_empty() {
        // The OACK is answered with ACK 0.
        let oack = packet::oack(&n.reply);
        let mut tries = 0;
        loop {
            t.send(&oack).await;
            let deadline = Instant::now() + t.settings.timeout;
            match wait_for_ack(&mut t, deadline, |b| b == 0).await {
                Wait::Acked(_) => break,
                Wait::Error(code, message) => return t.ended_by_peer(code, &message),
                Wait::Timeout if tries < t.settings.retries => tries += 1,
                Wait::Timeout => return t.gave_up(),
            }
        }
    }
    let mut source = BlockSource {
        file,
        mode,
        pending: VecDeque::new(),
        raw: vec![0u8; n.blksize.max(512)],
        eof: false,
    };
    // Blocks sent and not yet acknowledged, oldest first.
    let mut window: VecDeque<(u16, Vec<u8>)> = VecDeque::new();
    let mut next_block: u16 = 1;
    let mut last_read = false;
    let mut out = Vec::with_capacity(n.blksize + 4);
    let mut tries = 0;
    loop {
        while window.len() < n.windowsize && !last_read {
            let data = match source.next(n.blksize).await {
                Ok(d) => d,
                Err(e) => return t.fail(ErrorCode::Undefined, &e.to_string()).await,
            };
            last_read = data.len() < n.blksize;
            window.push_back((next_block, data));
            next_block = next_block.wrapping_add(1);
        }
        let Some(&(first, _)) = window.front() else {
            return t.outcome;
        };
        for (block, data) in &window {
            packet::data_into(&mut out, *block, data);
            t.send(&out).await;
        }
        let deadline = Instant::now() + t.settings.timeout;
        let in_window = |b: u16| b.wrapping_sub(first) < window.len() as u16;
        match wait_for_ack(&mut t, deadline, in_window).await {
            Wait::Acked(b) => {
                tries = 0;
                let done = usize::from(b.wrapping_sub(first)) + 1;
                for (_, data) in window.drain(..done) {
                    t.outcome.bytes += data.len() as u64;
                }
            }
            Wait::Error(code, message) => return t.ended_by_peer(code, &message),
            Wait::Timeout if tries < t.settings.retries => tries += 1,
            Wait::Timeout => return t.gave_up(),
        }
    }
}

enum Wait {
    Acked(u16),
    Error(u16, String),
    Timeout,
}

/// Waits until `deadline` for an ACK whose block `wanted` accepts; other ACKs (late
/// duplicates) are ignored.
async fn wait_for_ack<S: DatagramSocket>(
    t: &mut Transfer<S>,
    deadline: Instant,
    wanted: impl Fn(u16) -> bool,
) -> Wait {
    loop {
        let n = match t.hear(deadline).await {
            Heard::Timeout => return Wait::Timeout,
            Heard::Packet(n) => n,
        };
        match packet::parse(&t.buf[..n]) {
            Ok(Packet::Ack { block }) if wanted(block) => return Wait::Acked(block),
            Ok(Packet::Error { code, message }) => return Wait::Error(code, message),
            _ => {}
        }
    }
}

/// The file's bytes in blocks, converted to netascii when asked.
struct BlockSource {
    file: tokio::fs::File,
    mode: Mode,
    /// Converted bytes not yet in a block.
    pending: VecDeque<u8>,
    /// What the file read last (reused for every read).
    raw: Vec<u8>,
    eof: bool,
}

impl BlockSource {
    /// The next block: `blksize` bytes, or fewer at the end (possibly none).
    async fn next(&mut self, blksize: usize) -> io::Result<Vec<u8>> {
        while self.pending.len() < blksize && !self.eof {
            let n = self.file.read(&mut self.raw).await?;
            if n == 0 {
                self.eof = true;
                break;
            }
            match self.mode {
                Mode::Netascii => {
                    for &b in &self.raw[..n] {
                        match b {
                            b'\n' => self.pending.extend([b'\r', b'\n']),
                            b'\r' => self.pending.extend([b'\r', 0]),
                            other => self.pending.push_back(other),
                        }
                    }
                }
                _ => self.pending.extend(&self.raw[..n]),
            }
        }
        let take = blksize.min(self.pending.len());
        Ok(self.pending.drain(..take).collect())
    }
}
