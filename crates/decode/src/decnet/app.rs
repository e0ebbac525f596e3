//! Application data on NSP logical links, by the object the link was connected to:
//! DAP (17), NICE (19), MIRROR (25), CTERM (42). Segments other than the first of a message
//! (no BOM) are shown as continuation data.
//!
//! MIRROR layout from the DECnet loopback mirror (Network Management 4.0.0, section 7.4: a
//! function byte, 0 = loop data from the requester, 1 = success reply, -1 = failure, then the
//! data); NICE function and status codes from *DNA Network Management Functional
//! Specification*, version 4.0.0 (Digital, 1983, order no. AA-X437A-TK), section 7.

use crate::decoder::{data, Decoder};
use crate::model::{Packet, Span, Value};
use crate::rd::{lookup, Rd};

const NICE_FUNCS: &[(u64, &str)] = &[
    (15, "request down-line load"),
    (16, "request up-line dump"),
    (17, "trigger bootstrap"),
    (18, "test"),
    (19, "change parameter"),
    (20, "read information"),
    (21, "zero counters"),
    (22, "system-specific"),
];
const NICE_STATUS: &[(u64, &str)] = &[
    (1, "success"),
    (2, "more"),
    (3, "partial"),
    (0xff, "unrecognized function"),
    (0xfe, "invalid message format"),
    (0xfd, "privilege violation"),
    (0xfc, "oversized command message"),
    (0xfb, "management program error"),
    (0xfa, "unrecognized parameter type"),
    (0xf9, "incompatible management version"),
    (0xf8, "unrecognized component"),
    (0xf7, "invalid identification"),
    (0xf6, "line communication error"),
    (0xf5, "component in wrong state"),
    (0xf3, "file open error"),
    (0xf2, "invalid file contents"),
    (0xf1, "resource error"),
    (0xf0, "invalid parameter value"),
    (0xef, "line protocol error"),
    (0xee, "file I/O error"),
    (0xed, "mirror link disconnected"),
    (0xec, "no room for new entry"),
    (0xeb, "mirror connect failed"),
    (0xea, "parameter not applicable"),
    (0xe9, "parameter value too long"),
    (0xe8, "hardware failure"),
    (0xe7, "operation failure"),
    (0xe6, "system-specific management function not supported"),
    (0xe5, "invalid parameter grouping"),
    (0xe4, "bad loopback response"),
    (0xe3, "parameter missing"),
    (0x80, "done"),
];

/// Application data on a link to `object` (None: link not seen connecting).
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
    object: Option<u8>,
    bom: bool,
    eom: bool,
) {
    let _ = d;
    if start >= end.min(frame.len()) {
        return;
    }
    if !bom {
        let mut l = pkt.new_layer("data", Span::at(start, end - start));
        l.sum()
            .s("continuation ")
            .u((end - start) as u64)
            .s(" bytes")
            .s(if eom { " (EOM)" } else { "" });
        l.add(
            "Continuation",
            Value::U((end - start) as u64),
            start,
            end - start,
        );
        pkt.layers.push(l);
        return;
    }
    match object {
        Some(17) => super::dap::decode(pkt, frame, start, end, eom),
        Some(19) => nice(pkt, frame, start, end),
        Some(25) => mirror(pkt, frame, start, end),
        Some(42) => super::cterm::decode(pkt, frame, start, end),
        _ => data(pkt, frame, start, end),
    }
}

fn mirror(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("mirror", Span::at(start, r.left()));
    if let Some(f) = r.u8() {
        let name = match f {
            0 => "loop data",
            1 => "loop reply",
            0xff => "loop failure",
            _ => "unknown",
        };
        l.msg = Some(name);
        l.add("Function", Value::Coded(u64::from(f), name), start, 1);
        l.add("Data", Value::U(r.left() as u64), start + 1, r.left());
        l.sum()
            .s("MIRROR [")
            .s(name)
            .s("] ")
            .u(r.left() as u64)
            .s(" bytes");
    }
    pkt.layers.push(l);
}

fn nice(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("nice", Span::at(start, r.left()));
    if let Some(f) = r.u8() {
        if (15..=22).contains(&f) {
            let name = lookup(NICE_FUNCS, u64::from(f));
            l.msg = Some(name);
            l.add("Function", Value::Coded(u64::from(f), name), start, 1);
            if let Some(o) = r.u8() {
                l.add("Option", Value::Hex(u64::from(o)), start + 1, 1);
            }
            l.sum().s("NICE [").s(name).s("]");
        } else {
            let name = lookup(NICE_STATUS, u64::from(f));
            l.msg = Some(if f <= 0x80 { name } else { "error" });
            if !l.quiet() {
                l.add_text("Return code", start, 1, |w| {
                    w.i(i64::from(f as i8)).s(" ").s(name);
                });
            }
            l.sum()
                .s("NICE [response] ")
                .i(i64::from(f as i8))
                .s(" ")
                .s(name);
        }
        if r.left() > 0 {
            let at = r.pos;
            l.add("Data", Value::U(r.left() as u64), at, r.left());
        }
    }
    pkt.layers.push(l);
}
