//! A write request (WRQ): blocks come in, into a file staged beside the target and renamed over
//! it when the last block is in.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::packet::{self, ErrorCode, Mode, Packet};
use super::path;
use super::transfer::{io_refusal, negotiate, refusal, Heard, Outcome, Transfer};
use super::TftpConfig;
use crate::net::DatagramSocket;

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
        let temp = dir.join(format!(".{name}.tftp-{}", crate::unique::unique_name()));
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
