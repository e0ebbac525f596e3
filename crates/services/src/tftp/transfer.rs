//! One transfer: option negotiation, then blocks out (a read request) or in (a write
//! request), each answered in turn (or, with RFC 7440's window, a window of blocks per
//! answer), sent again after a timeout a bounded number of times.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::packet::{self, ErrorCode, Mode, Packet};
use super::path::{self, Refused};
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
    settings: Settings,
    pub outcome: Outcome,
    buf: Vec<u8>,
}

/// What waiting for the peer brought.
enum Heard {
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

    async fn send(&mut self, bytes: &[u8]) {
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
    async fn hear(&mut self, deadline: Instant) -> Heard {
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

    fn ended_by_peer(mut self, code: u16, message: &str) -> Outcome {
        self.outcome.error = Some(format!("the client sent error {code}: {message}"));
        self.outcome
    }

    fn gave_up(mut self) -> Outcome {
        self.outcome.error = Some("no answer from the client".into());
        self.outcome
    }
}

/// The options granted.
struct Negotiated {
    blksize: usize,
    windowsize: usize,
    timeout: Option<Duration>,
    /// What the OACK says (empty: no OACK, RFC 1350 behaviour).
    reply: Vec<(String, String)>,
}

/// Grants what it can of `options` (unknown ones are left out of the OACK, as RFC 2347 says);
/// `tsize` is the file's size for a read, or checked against the limit for a write.
fn negotiate(
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

fn refusal(r: Refused) -> (ErrorCode, String) {
    match r {
        Refused::NotFound => (ErrorCode::NotFound, "File not found".into()),
        Refused::Outside => (ErrorCode::AccessViolation, "Access violation".into()),
        Refused::Io(e) => io_refusal(&e),
    }
}

fn io_refusal(e: &io::Error) -> (ErrorCode, String) {
    match e.kind() {
        io::ErrorKind::NotFound => (ErrorCode::NotFound, "File not found".into()),
        io::ErrorKind::PermissionDenied => (ErrorCode::AccessViolation, "Access violation".into()),
        _ => (ErrorCode::Undefined, e.to_string()),
    }
}

/// A read request: the file goes out in blocks.
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
    eof: bool,
}

impl BlockSource {
    /// The next block: `blksize` bytes, or fewer at the end (possibly none).
    async fn next(&mut self, blksize: usize) -> io::Result<Vec<u8>> {
        let mut raw = vec![0u8; blksize.max(512)];
        while self.pending.len() < blksize && !self.eof {
            let n = self.file.read(&mut raw).await?;
            if n == 0 {
                self.eof = true;
                break;
            }
            match self.mode {
                Mode::Netascii => {
                    for &b in &raw[..n] {
                        match b {
                            b'\n' => self.pending.extend([b'\r', b'\n']),
                            b'\r' => self.pending.extend([b'\r', 0]),
                            other => self.pending.push_back(other),
                        }
                    }
                }
                _ => self.pending.extend(&raw[..n]),
            }
        }
        let take = blksize.min(self.pending.len());
        Ok(self.pending.drain(..take).collect())
    }
}

/// netascii back to local text: CR LF is a newline, CR NUL a carriage return.
#[derive(Default)]
struct FromNetascii {
    pending_cr: bool,
}

impl FromNetascii {
    fn convert(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &b in data {
            if std::mem::take(&mut self.pending_cr) {
                match b {
                    b'\n' => {
                        out.push(b'\n');
                        continue;
                    }
                    0 => {
                        out.push(b'\r');
                        continue;
                    }
                    _ => out.push(b'\r'),
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

/// A temporary file beside the target, renamed over it when the transfer completes and
/// removed if it does not: a failed write leaves the old file as it was.
struct Staged {
    temp: PathBuf,
    file: Option<tokio::fs::File>,
}

impl Staged {
    async fn create(target: &Path) -> io::Result<Staged> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp = dir.join(format!(".{name}.tftp-{}-{nanos}", std::process::id()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await?;
        Ok(Staged {
            temp,
            file: Some(file),
        })
    }

    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(data).await,
            None => Ok(()),
        }
    }

    async fn commit(mut self, target: &Path) -> io::Result<()> {
        if let Some(f) = &mut self.file {
            f.flush().await?;
            f.sync_all().await?;
        }
        tokio::fs::rename(&self.temp, target).await?;
        // Renamed: nothing left to remove.
        self.file = None;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A write request: blocks come in and go to a staged file.
pub(super) async fn receive<S: DatagramSocket>(
    mut t: Transfer<S>,
    config: &TftpConfig,
    name: &str,
    mode: Mode,
    options: &[(String, String)],
) -> Outcome {
    if !config.allow_write {
        return t
            .fail(ErrorCode::AccessViolation, "writing is not allowed")
            .await;
    }
    let target = match path::for_writing(&config.root, name) {
        Ok((p, exists)) if exists || config.allow_create => p,
        Ok(_) => {
            return t
                .fail(ErrorCode::AccessViolation, "creating files is not allowed")
                .await
        }
        Err(r) => {
            let (code, message) = refusal(r);
            return t.fail(code, &message).await;
        }
    };
    let n = match negotiate(config, options, None) {
        Ok(n) => n,
        Err((code, message)) => return t.fail(code, &message).await,
    };
    if let Some(timeout) = n.timeout {
        t.settings.timeout = timeout;
    }
    let mut staged = match Staged::create(&target).await {
        Ok(s) => s,
        Err(e) => {
            let (code, message) = io_refusal(&e);
            return t.fail(code, &message).await;
        }
    };
    // What answers the last good block: the OACK, or ACK n.
    let mut answer = if n.reply.is_empty() {
        packet::ack(0).to_vec()
    } else {
        packet::oack(&n.reply)
    };
    let mut expected: u16 = 1;
    let mut converter = FromNetascii::default();
    let mut converted = Vec::new();
    let mut tries = 0;
    let mut since_ack = 0;
    t.send(&answer).await;
    loop {
        let deadline = Instant::now() + t.settings.timeout;
        let len = match t.hear(deadline).await {
            Heard::Packet(len) => len,
            Heard::Timeout if tries < t.settings.retries => {
                tries += 1;
                t.send(&answer).await;
                continue;
            }
            Heard::Timeout => return t.gave_up(),
        };
        let (block, data_len) = match packet::parse(&t.buf[..len]) {
            Ok(Packet::Data { block, data }) => (block, data.len()),
            Ok(Packet::Error { code, message }) => return t.ended_by_peer(code, &message),
            _ => continue,
        };
        if block != expected {
            // A duplicate or a gap: the last good block is acknowledged again (RFC 7440).
            t.send(&answer).await;
            continue;
        }
        tries = 0;
        let data = &t.buf[4..4 + data_len];
        let written = match mode {
            Mode::Netascii => {
                converted.clear();
                converter.convert(data, &mut converted);
                staged.write(&converted).await
            }
            _ => staged.write(data).await,
        };
        if let Err(e) = written {
            let code = if e.raw_os_error() == Some(libc::ENOSPC) {
                ErrorCode::DiskFull
            } else {
                ErrorCode::Undefined
            };
            return t.fail(code, &e.to_string()).await;
        }
        t.outcome.bytes += data_len as u64;
        if t.outcome.bytes > config.max_write_size {
            return t
                .fail(ErrorCode::DiskFull, "the file is larger than allowed")
                .await;
        }
        answer = packet::ack(block).to_vec();
        expected = expected.wrapping_add(1);
        since_ack += 1;
        let last = data_len < n.blksize;
        if last {
            converted.clear();
            converter.finish(&mut converted);
            if let Err(e) = staged.write(&converted).await {
                return t.fail(ErrorCode::Undefined, &e.to_string()).await;
            }
            if let Err(e) = staged.commit(&target).await {
                return t.fail(ErrorCode::Undefined, &e.to_string()).await;
            }
            t.send(&answer).await;
            dally(&mut t, &answer, block).await;
            return t.outcome;
        }
        if since_ack >= n.windowsize {
            since_ack = 0;
            t.send(&answer).await;
        }
    }
}

/// After the last ACK: a while longer, the final DATA sent again (our ACK was lost) is
/// acknowledged again (RFC 1350's dallying).
async fn dally<S: DatagramSocket>(t: &mut Transfer<S>, answer: &[u8], last: u16) {
    let deadline = Instant::now() + t.settings.timeout;
    while let Heard::Packet(n) = t.hear(deadline).await {
        if let Ok(Packet::Data { block, .. }) = packet::parse(&t.buf[..n]) {
            if block == last {
                t.send(answer).await;
            }
        }
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

    #[test]
    fn netascii_comes_back_as_local_text() {
        let mut c = FromNetascii::default();
        let mut out = Vec::new();
        // A CR LF split across two blocks, and a CR NUL.
        c.convert(b"one\r", &mut out);
        c.convert(b"\ntwo\r\0three\r", &mut out);
        c.finish(&mut out);
        assert_eq!(out, b"one\ntwo\rthree\r");
    }
}
