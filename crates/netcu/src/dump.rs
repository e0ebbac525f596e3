//! Running DUMP: read a capture, select frames with the expression, print them one line each, as
//! a tree or as JSON, optionally write them to a pcap file and end with the protocol hierarchy.

use std::io::Write;

use decode::{CaptureReader, Decoder, Filter, PcapWriter, Summary};

use crate::commands::DumpRequest;
use crate::local::Done;

/// DUMP.
pub fn run(req: &DumpRequest, db: Option<&servicedb::ServiceDb>) -> Done {
    let Some(path) = &req.read else {
        let name = req.interface.as_deref().unwrap_or("");
        eprintln!(
            "%NETCU-E-NOLIVE, live capture on {name} needs an interface of Maynard's own stack, \
             which netcp does not run yet; capture with tcpdump -w and use DUMP/READ=file"
        );
        return Err(());
    };
    let bytes =
        std::fs::read(path).map_err(|e| eprintln!("%NETCU-E-OPEN, {}: {e}", path.display()))?;
    let reader = CaptureReader::new(&bytes)
        .map_err(|e| eprintln!("%NETCU-E-CAPTURE, {}: {e}", path.display()))?;
    let filter = if req.expression.trim().is_empty() {
        None
    } else {
        Some(
            Filter::parse_with(&req.expression, db)
                .map_err(|e| eprintln!("%NETCU-E-EXPRESSION, {e}"))?,
        )
    };
    let mut writer = match &req.write {
        None => None,
        Some(out) => {
            let file = std::fs::File::create(out)
                .map_err(|e| eprintln!("%NETCU-E-WRITE, {}: {e}", out.display()))?;
            let link = reader.link_type().unwrap_or(decode::LinkType::Ethernet);
            Some(
                PcapWriter::new(std::io::BufWriter::new(file), link, 262_144)
                    .map_err(|e| eprintln!("%NETCU-E-WRITE, {}: {e}", out.display()))?,
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
    let mut pkt = decode::Packet::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut shown = 0u64;
    let mut line = String::new();
    for record in reader {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // What was read so far stands; the damage is reported where it is.
                let _ = out.flush();
                eprintln!("%NETCU-W-CAPTURE, {}: {e}", path.display());
                break;
            }
        };
        if req.count.is_some_and(|c| shown >= c) {
            break;
        }
        decoder.decode_record_into(&mut pkt, &record);
        if filter.as_ref().is_some_and(|f| !f.matches(&pkt)) {
            continue;
        }
        shown += 1;
        if req.summary {
            summary.add(&pkt);
        }
        line.clear();
        if req.json {
            line.push_str(&decode::render::json(&pkt));
        } else if req.verbose {
            line.push_str(&decode::render::tree(&pkt));
        } else {
            decode::render::line_into(&pkt, &mut line);
        }
        if writeln!(out, "{}", line.trim_end()).is_err() {
            return Ok(()); // The reader went away (a pipe into head): not an error.
        }
        if let Some(w) = writer.as_mut() {
            w.write_record(&record)
                .map_err(|e| eprintln!("%NETCU-E-WRITE, {e}"))?;
        }
    }
    if req.summary {
        let _ = write!(out, "{summary}");
    }
    let _ = out.flush();
    if let Some(w) = writer {
        w.into_inner()
            .and_then(|mut b| b.flush())
            .map_err(|e| eprintln!("%NETCU-E-WRITE, {e}"))?;
    }
    Ok(())
}
