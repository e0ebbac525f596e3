//! Renderers: one tcpdump-style line per packet, a verbose indented tree, and JSON lines.

use std::fmt::Write as _;

use serde_json::{json, Map, Value as Json};

use crate::model::{Packet, Value};

/// `HH:MM:SS.micro` (UTC) of a time stamp.
fn clock(sec: i64, nsec: u32) -> String {
    let day = sec.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        nsec / 1000
    )
}

/// One line per packet, tcpdump style: the time, then each layer's summary, outermost first.
/// The Ethernet header is left out when an IP layer follows (as tcpdump does without `-e`).
pub fn line(pkt: &Packet) -> String {
    let mut s = String::with_capacity(128);
    line_into(pkt, &mut s);
    s
}

/// [`line()`] appended to a buffer (no allocation when the buffer has room).
pub fn line_into(pkt: &Packet, out: &mut String) {
    thread_local! {
        /// The line as bytes, reused: checked as UTF-8 once, then appended.
        static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(512));
    }
    SCRATCH.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => {
            b.clear();
            line_bytes(pkt, &mut b);
            push_utf8(out, &b);
        }
        Err(_) => {
            let mut b = Vec::with_capacity(512);
            line_bytes(pkt, &mut b);
            push_utf8(out, &b);
        }
    });
}

/// Appends bytes that are UTF-8 (the line's always are; anything else is shown replaced).
fn push_utf8(out: &mut String, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(b)),
    }
}

/// [`line()`] appended to a byte buffer, summaries copied straight from the layers: the fast
/// form for writing to an output stream (the bytes are UTF-8).
pub fn line_bytes(pkt: &Packet, out: &mut Vec<u8>) {
    crate::fmtx::push_clock(out, pkt.ts_sec, pkt.ts_nsec);
    // Looked for only when an Ethernet summary is there to leave out (with summaries only,
    // an Ethernet layer before IP has none).
    layers_bytes(pkt, out, true, None);
}

/// The layers' part of [`line_bytes`]: `first` when nothing of the line follows the clock
/// yet, `has_ip` when it is known whether an IP layer is in the line.
pub(crate) fn layers_bytes(
    pkt: &Packet,
    out: &mut Vec<u8>,
    mut first: bool,
    mut has_ip: Option<bool>,
) {
    for l in &pkt.layers {
        if l.summary.is_empty() {
            continue;
        }
        if l.proto == "eth"
            && *has_ip
                .get_or_insert_with(|| pkt.layers.iter().any(|l| matches!(l.proto, "ip" | "ip6")))
        {
            continue;
        }
        // Two constant copies rather than one of either length (which is a call).
        if first {
            out.push(b' ');
        } else {
            out.extend_from_slice(b": ");
        }
        first = false;
        out.extend_from_slice(l.summary.as_bytes());
        if l.malformed.is_some() {
            out.extend_from_slice(b" [malformed]");
        }
    }
}

/// The verbose tree: a frame line, each layer's summary, and its fields indented by depth,
/// with byte ranges; malformed layers end with a `** malformed:` line.
pub fn tree(pkt: &Packet) -> String {
    let mut s = String::with_capacity(1024);
    let _ = writeln!(
        s,
        "Frame {}: {} bytes on wire, {} captured, {}",
        pkt.number,
        pkt.orig_len,
        pkt.cap_len,
        clock(pkt.ts_sec, pkt.ts_nsec)
    );
    for l in &pkt.layers {
        let _ = writeln!(s, "  {}", l.summary);
        for f in &l.fields {
            let pad = 4 + 2 * usize::from(f.depth);
            let _ = write!(s, "{:pad$}{}", "", f.name);
            if f.value != Value::None {
                let _ = write!(s, ": {}", f.value);
            }
            let _ = writeln!(s, "  [{}..{}]", f.span.start, f.span.end);
        }
        if let Some(m) = &l.malformed {
            let _ = writeln!(s, "    ** malformed: {m}");
        }
    }
    s
}

fn value_json(v: &Value) -> (Json, Option<&'static str>) {
    match v {
        Value::None => (Json::Null, None),
        Value::U(n) => (json!(n), None),
        Value::Hex(n) => (json!(n), None),
        Value::Bool(b) => (json!(b), None),
        Value::Coded(n, name) | Value::HexCoded(n, name) => (json!(n), Some(name)),
        other => (Json::String(other.to_string()), None),
    }
}

/// The packet as one JSON object (one line, no trailing newline).
pub fn json(pkt: &Packet) -> String {
    let layers: Vec<Json> = pkt
        .layers
        .iter()
        .map(|l| {
            let fields: Vec<Json> = l
                .fields
                .iter()
                .map(|f| {
                    let mut m = Map::new();
                    m.insert("name".into(), json!(f.name));
                    let (v, n) = value_json(&f.value);
                    m.insert("value".into(), v);
                    if let Some(n) = n {
                        m.insert("meaning".into(), json!(n));
                    }
                    m.insert("range".into(), json!([f.span.start, f.span.end]));
                    if f.depth > 0 {
                        m.insert("depth".into(), json!(f.depth));
                    }
                    Json::Object(m)
                })
                .collect();
            let mut m = Map::new();
            m.insert("protocol".into(), json!(l.proto));
            if let Some(msg) = l.msg {
                m.insert("message".into(), json!(msg));
            }
            m.insert("summary".into(), json!(l.summary.as_str()));
            m.insert("range".into(), json!([l.span.start, l.span.end]));
            if let Some(e) = &l.malformed {
                m.insert("malformed".into(), json!(e));
            }
            m.insert("fields".into(), Json::Array(fields));
            Json::Object(m)
        })
        .collect();
    json!({
        "number": pkt.number,
        "time": format!("{}.{:09}", pkt.ts_sec, pkt.ts_nsec),
        "length": pkt.orig_len,
        "captured": pkt.cap_len,
        "layers": layers,
    })
    .to_string()
}
