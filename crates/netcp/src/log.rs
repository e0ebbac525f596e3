//! The activity log (one structured line per event) and the accounting file (one JSON session
//! record per connection), written by one background thread so that no connection ever waits on
//! a disk.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::SystemTime;

use services::clock::rfc3339_utc;

enum Record {
    Line(String),
    Account(String),
    Reconfigure(Targets),
    Flush(mpsc::SyncSender<()>),
}

/// Where log lines and session records go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Log lines to standard error.
    pub stderr: bool,
    /// Log lines to this file.
    pub log_file: Option<PathBuf>,
    /// Session records to this file.
    pub accounting_file: Option<PathBuf>,
}

/// A handle to the log writer; cheap to share between tasks.
pub struct ActivityLog {
    tx: Sender<Record>,
    accounting: std::sync::atomic::AtomicBool,
}

/// One log line under construction: `key=value` pairs after a timestamp.
pub struct Line(String);

impl Line {
    /// Adds `key=value`, quoting values with spaces or quotes.
    pub fn kv(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        let start = self.0.len();
        let _ = write!(self.0, " {key}=");
        let vstart = self.0.len();
        let _ = write!(self.0, "{value}");
        let v = &self.0[vstart..];
        if v.is_empty() || v.contains([' ', '"', '=', '\n', '\r', '\t']) {
            let escaped = format!("{:?}", &self.0[vstart..]);
            self.0.truncate(start);
            let _ = write!(self.0, " {key}={escaped}");
        }
        self
    }
}

impl ActivityLog {
    /// Starts the writer thread with `targets`; reports files that cannot be opened.
    pub fn start(targets: Targets) -> std::io::Result<ActivityLog> {
        let (tx, rx) = mpsc::channel();
        let writer = Writer::open(&targets)?;
        let accounting = targets.accounting_file.is_some();
        std::thread::Builder::new()
            .name("netcp-log".into())
            .spawn(move || writer.run(rx))?;
        Ok(ActivityLog {
            tx,
            accounting: accounting.into(),
        })
    }

    /// Begins a line for `event`.
    pub fn line(&self, event: &str) -> Line {
        let mut s = String::with_capacity(160);
        push_stamp(&mut s, SystemTime::now());
        s.push_str(" netcp event=");
        s.push_str(event);
        Line(s)
    }

    /// Queues a finished line.
    pub fn emit(&self, line: Line) {
        self.send(Record::Line(line.0));
    }

    /// Logs a free-text notice.
    pub fn notice(&self, message: &str) {
        self.emit(self.line("notice").kv("message", message));
    }

    /// Whether session records are being written.
    pub fn accounting_enabled(&self) -> bool {
        self.accounting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Queues one session record (a JSON object, without newline).
    pub fn account(&self, record: String) {
        self.send(Record::Account(record));
    }

    /// Re-opens files, possibly new ones (reload, or after log rotation).
    pub fn reconfigure(&self, targets: Targets) -> std::io::Result<()> {
        // Open once here to report errors to the caller; the writer opens its own handles.
        Writer::open(&targets)?;
        self.accounting.store(
            targets.accounting_file.is_some(),
            std::sync::atomic::Ordering::Relaxed,
        );
        self.send(Record::Reconfigure(targets));
        Ok(())
    }

    /// Waits until everything queued so far is written.
    pub fn flush(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Record::Flush(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
    }

    fn send(&self, r: Record) {
        // Only fails once the writer thread is gone, at exit.
        let _ = self.tx.send(r);
    }
}

thread_local! {
    /// The last second a line was stamped with on this thread, and its text up to the seconds
    /// (`2026-11-21T23:30:45`): a busy UDP service logs a line per datagram, and the calendar
    /// arithmetic and formatting of the whole stamp were a tenth of its worker's time.
    static STAMP: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// Appends `t` in RFC 3339 form with milliseconds (as `rfc3339_utc`), reusing this thread's
/// text of the current second.
fn push_stamp(out: &mut String, t: SystemTime) {
    let Ok(since) = t.duration_since(SystemTime::UNIX_EPOCH) else {
        out.push_str(&rfc3339_utc(t));
        return;
    };
    let (secs, millis) = (since.as_secs(), since.subsec_millis());
    STAMP.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            let full = rfc3339_utc(t);
            text.clear();
            text.push_str(full.get(..19).unwrap_or(&full));
            *cached = secs;
        }
        out.push_str(text);
    });
    let _ = write!(out, ".{millis:03}Z");
}

/// How long the writer lets records gather after the first of a burst.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

struct Writer {
    stderr: Option<BufWriter<std::io::Stderr>>,
    log: Option<BufWriter<File>>,
    accounting: Option<BufWriter<File>>,
}

fn append(path: &Path) -> std::io::Result<BufWriter<File>> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(BufWriter::with_capacity(64 * 1024, f))
}

impl Writer {
    fn open(t: &Targets) -> std::io::Result<Writer> {
        Ok(Writer {
            stderr: t.stderr.then(|| BufWriter::new(std::io::stderr())),
            log: t.log_file.as_deref().map(append).transpose()?,
            accounting: t.accounting_file.as_deref().map(append).transpose()?,
        })
    }

    fn run(mut self, rx: Receiver<Record>) {
        while let Ok(first) = rx.recv() {
            // Let a burst gather before writing: under load the writer then wakes once per
            // window instead of once per line, and senders never pay for waking it.
            std::thread::sleep(BATCH_WINDOW);
            let mut next = Some(first);
            // Write everything already queued, then flush once: one syscall per burst.
            while let Some(record) = next {
                match record {
                    Record::Line(l) => {
                        for w in [
                            self.stderr.as_mut().map(|w| w as &mut dyn Write),
                            self.log.as_mut().map(|w| w as &mut dyn Write),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            let _ = w.write_all(l.as_bytes());
                            let _ = w.write_all(b"\n");
                        }
                    }
                    Record::Account(a) => {
                        if let Some(w) = self.accounting.as_mut() {
                            let _ = w.write_all(a.as_bytes());
                            let _ = w.write_all(b"\n");
                        }
                    }
                    Record::Reconfigure(t) => {
                        self.flush();
                        if let Ok(w) = Writer::open(&t) {
                            self = w;
                        }
                    }
                    Record::Flush(done) => {
                        self.flush();
                        let _ = done.send(());
                    }
                }
                next = rx.try_recv().ok();
            }
            self.flush();
        }
        self.flush();
    }

    fn flush(&mut self) {
        if let Some(w) = self.stderr.as_mut() {
            let _ = w.flush();
        }
        if let Some(w) = self.log.as_mut() {
            let _ = w.flush();
        }
        if let Some(w) = self.accounting.as_mut() {
            let _ = w.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The cached stamp reads exactly as the full formatting, across second boundaries, for
    /// a second seen again after another one, and before the epoch.
    #[test]
    fn cached_stamps_match_the_full_format() {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_300_245);
        for ms in [
            0u64, 1, 999, 1000, 1001, 59_999, 60_000, 3_600_123, 5, 86_400_007,
        ] {
            let t = base + Duration::from_millis(ms);
            let mut s = String::new();
            push_stamp(&mut s, t);
            assert_eq!(s, rfc3339_utc(t), "{ms} ms after the base");
        }
        let before = SystemTime::UNIX_EPOCH - Duration::from_millis(1500);
        let mut s = String::new();
        push_stamp(&mut s, before);
        assert_eq!(s, rfc3339_utc(before));
    }
}
