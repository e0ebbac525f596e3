//! Running DUMP: read a capture, or capture live on an interface of Maynard's stack, select
//! frames with the expression, print them one line each, as a tree or as JSON, optionally write
//! them to a pcap file and end with the protocol hierarchy.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use control::protocol::{Request, Response};
use decode::{CaptureStream, Decoder, Filter, LinkType, PcapWriter, Record, Summary};

use crate::client::Client;
use crate::commands::DumpRequest;
use crate::local::Done;

/// What every frame goes through, whether it came from a file or live.
struct Output<'a, W: Write> {
    req: DumpRequest,
    decoder: Decoder<'a>,
    filter: Option<Filter>,
    writer: Option<PcapWriter<std::io::BufWriter<std::fs::File>>>,
    pkt: decode::Packet,
    summary: Summary,
    shown: u64,
    /// The line being written (UTF-8).
    line: Vec<u8>,
    out: W,
}

/// What became of one frame.
enum Shown {
    /// Go on.
    More,
    /// The reader of the output went away (a pipe into head): stop, not an error.
    Gone,
}

impl<'a, W: Write> Output<'a, W> {
    fn new(
        req: &DumpRequest,
        db: Option<&'a servicedb::ServiceDb>,
        link: LinkType,
        out: W,
    ) -> Result<Output<'a, W>, ()> {
        let filter = if req.expression.trim().is_empty() {
            None
        } else {
            Some(
                Filter::parse_with(&req.expression, db)
                    .map_err(|e| eprintln!("%NETCU-E-EXPRESSION, {e}"))?,
            )
        };
        let writer = match &req.write {
            None => None,
            Some(path) => {
                let file = std::fs::File::create(path)
                    .map_err(|e| eprintln!("%NETCU-E-WRITE, {}: {e}", path.display()))?;
                Some(
                    PcapWriter::new(std::io::BufWriter::new(file), link, 262_144)
                        .map_err(|e| eprintln!("%NETCU-E-WRITE, {}: {e}", path.display()))?,
                )
            }
        };
        let mut decoder = Decoder::new();
        if let Some(db) = db {
            decoder = decoder.with_services(db);
        }
        // One-line output with no expression needs only the summaries: the fast path. Expressions
        // on hosts and ports, /VERBOSE and /JSON need every field.
        if filter.is_none() && !req.verbose && !req.json {
            decoder.detail = decode::Detail::Summaries;
        }
        Ok(Output {
            req: req.clone(),
            decoder,
            filter,
            writer,
            pkt: decode::Packet::default(),
            summary: Summary::default(),
            shown: 0,
            line: Vec::new(),
            out,
        })
    }

    /// Whether /COUNT is reached.
    fn full(&self) -> bool {
        self.req.count.is_some_and(|c| self.shown >= c)
    }

    fn frame(&mut self, record: &Record<'_>) -> Result<Shown, ()> {
        self.line.clear();
        if self.filter.is_none() && !self.req.summary && !self.req.json && !self.req.verbose {
            // The one-line form alone: decoded straight into the line (the packet may then
            // lack the layers written there, which nothing else here needs).
            self.decoder
                .line_record(&mut self.pkt, record, &mut self.line);
            self.shown += 1;
            return self.emit(record);
        }
        self.decoder.decode_record_into(&mut self.pkt, record);
        if self.filter.as_ref().is_some_and(|f| !f.matches(&self.pkt)) {
            return Ok(Shown::More);
        }
        self.shown += 1;
        if self.req.summary {
            self.summary.add(&self.pkt);
        }
        if self.req.json {
            self.line
                .extend_from_slice(decode::render::json(&self.pkt).as_bytes());
        } else if self.req.verbose {
            self.line
                .extend_from_slice(decode::render::tree(&self.pkt).as_bytes());
        } else {
            // Straight into the line's bytes: no formatting machinery per frame.
            decode::render::line_bytes(&self.pkt, &mut self.line);
        }
        self.emit(record)
    }

    /// Writes the line (trailing white space trimmed) and the frame to the pcap file, if any.
    fn emit(&mut self, record: &Record<'_>) -> Result<Shown, ()> {
        while self.line.last().is_some_and(|b| b.is_ascii_whitespace()) {
            self.line.pop();
        }
        self.line.push(b'\n');
        if self.out.write_all(&self.line).is_err() {
            return Ok(Shown::Gone);
        }
        if let Some(w) = self.writer.as_mut() {
            w.write_record(record)
                .map_err(|e| eprintln!("%NETCU-E-WRITE, {e}"))?;
        }
        Ok(Shown::More)
    }

    /// The protocol hierarchy (/SUMMARY), then everything flushed.
    fn finish(mut self) -> Done {
        if self.req.summary {
            let _ = write!(self.out, "{}", self.summary);
        }
        let _ = self.out.flush();
        if let Some(w) = self.writer {
            w.into_inner()
                .and_then(|mut b| b.flush())
                .map_err(|e| eprintln!("%NETCU-E-WRITE, {e}"))?;
        }
        Ok(())
    }
}

/// DUMP.
pub fn run(req: &DumpRequest, db: Option<&servicedb::ServiceDb>, client: &mut Client) -> Done {
    let Some(path) = &req.read else {
        return live(req, db, client);
    };
    let file = std::fs::File::open(path)
        .map_err(|e| eprintln!("%NETCU-E-OPEN, {}: {e}", path.display()))?;
    // Read 128 KiB at a time into one buffer, not the whole file at once.
    let mut reader = CaptureStream::new(file)
        .map_err(|e| eprintln!("%NETCU-E-CAPTURE, {}: {e}", path.display()))?;
    let link = reader.link_type().unwrap_or(LinkType::Ethernet);
    let stdout = std::io::stdout();
    let mut o = Output::new(
        req,
        db,
        link,
        std::io::BufWriter::with_capacity(64 * 1024, stdout.lock()),
    )?;
    while let Some(record) = reader.next_record() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // What was read so far stands; the damage is reported where it is.
                let _ = o.out.flush();
                eprintln!("%NETCU-W-CAPTURE, {}: {e}", path.display());
                break;
            }
        };
        if o.full() {
            break;
        }
        if let Shown::Gone = o.frame(&record)? {
            return Ok(());
        }
    }
    o.finish()
}

/// Set by Ctrl-C during a live capture.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Catches Ctrl-C while it lives (so a live capture ends with its summary and a whole pcap
/// file), and restores the old disposition afterwards.
struct InterruptGuard(libc::sighandler_t);

impl InterruptGuard {
    fn install() -> InterruptGuard {
        INTERRUPTED.store(false, Ordering::Relaxed);
        let handler = on_interrupt as extern "C" fn(libc::c_int);
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        InterruptGuard(unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) })
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        // SAFETY: puts back the disposition `install` found.
        unsafe { libc::signal(libc::SIGINT, self.0) };
    }
}

/// DUMP interface: frames from netcp as they cross the interface, until /COUNT, /SECONDS or
/// Ctrl-C. netcp sends an empty batch every second, so Ctrl-C is seen within a second.
fn live(req: &DumpRequest, db: Option<&servicedb::ServiceDb>, client: &mut Client) -> Done {
    let Some(interface) = req.interface.clone() else {
        eprintln!(
            "%NETCU-E-NOINTERFACE, give an interface of Maynard's stack (DUMP se0) or /READ=file"
        );
        return Err(());
    };
    let stdout = std::io::stdout();
    // Live lines go out as they come: no buffering beyond one batch.
    let mut o = Output::new(req, db, LinkType::Ethernet, stdout.lock())?;
    // With an expression, /COUNT counts the frames it selects, which only netcu knows.
    let request = Request::Capture {
        interface,
        count: if o.filter.is_none() { req.count } else { None },
        seconds: req.seconds,
    };
    let _guard = InterruptGuard::install();
    let mut failed = false;
    let mut dropped = 0u64;
    let streamed = client.stream(&request, |response| match response {
        Response::Frames {
            frames,
            dropped: lost,
            done,
        } => {
            dropped = lost;
            for f in &frames {
                if o.full() {
                    return false;
                }
                let record = Record {
                    ts_sec: f.ts_sec,
                    ts_nsec: f.ts_nsec,
                    orig_len: u32::try_from(f.data.len()).unwrap_or(u32::MAX),
                    link: LinkType::Ethernet,
                    data: &f.data,
                };
                match o.frame(&record) {
                    Ok(Shown::More) => {}
                    Ok(Shown::Gone) => return false,
                    Err(()) => {
                        failed = true;
                        return false;
                    }
                }
            }
            let _ = o.out.flush();
            !done && !o.full() && !INTERRUPTED.load(Ordering::Relaxed)
        }
        Response::Error { message } => {
            eprintln!("%NETCU-E-CAPTURE, {message}");
            failed = true;
            false
        }
        other => {
            eprintln!("%NETCU-E-PROTOCOL, unexpected answer to a capture: {other:?}");
            failed = true;
            false
        }
    });
    match streamed {
        Ok(()) => {}
        Err(e @ crate::client::ClientError::NotRunning { .. }) => {
            eprintln!(
                "%NETCU-E-NOTRUNNING, live capture needs netcp running Maynard's own stack; {e}"
            );
            failed = true;
        }
        Err(e) => {
            eprintln!("%NETCU-E-PROTOCOL, {e}");
            failed = true;
        }
    }
    if dropped > 0 {
        eprintln!("%NETCU-W-DROPPED, {dropped} frames were dropped: netcu fell behind");
    }
    let finished = o.finish();
    if failed {
        return Err(());
    }
    finished
}
