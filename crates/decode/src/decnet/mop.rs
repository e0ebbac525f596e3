//! MOP, the Maintenance Operation Protocol: dump/load (Ethernet type 0x6001) and remote
//! console (0x6002) messages, with the system identification information fields.
//!
//! Layouts from *DECnet Digital Network Architecture Maintenance Operations Functional
//! Specification*, version 3.0.0 (Digital, 1983, order no. AA-X436A-TK), section 5 and
//! appendix A (device codes), and MOP 4.0 for the system ID information types; cross-checked
//! with PyDECnet (`decnet/mop.py`). On Ethernet a 2-byte little-endian length precedes the
//! message; the length bounds it (frames are padded). PyDECnet encodes the FUNCTIONS field
//! with length 1 instead of 2: either length is accepted.

use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{bits, lookup, text, Rd};

/// Message codes with seed 002's names.
pub(crate) const CODES: &[(u64, &str)] = &[
    (0, "mem load w/addr"),
    (1, "dump completed"),
    (2, "memory load data"),
    (3, "volunteer assist"),
    (4, "mem dump request"),
    (5, "remote ID reqst"),
    (6, "rem boot request"),
    (7, "remote system ID"),
    (8, "request program"),
    (9, "counters request"),
    (10, "mem load request"),
    (11, "counters reply"),
    (12, "dump service req"),
    (13, "reserve console"),
    (14, "memory dump data"),
    (15, "release console"),
    (16, "par load w/addr"),
    (17, "rem console poll"),
    (19, "rem console rply"),
];

/// Communication device codes (MOP appendix A / NICE), in seed 002's mnemonics, with the later
/// DELUA, DELQA and DELQA-T codes from PyDECnet's table.
pub(crate) const DEVICES: &[(u64, &str)] = &[
    (0, "DP"),
    (1, "UNA"),
    (2, "DU"),
    (3, "CNA"),
    (4, "DL"),
    (5, "QNA"),
    (6, "DQ"),
    (7, "CI"),
    (8, "DA"),
    (9, "PCL"),
    (10, "DUP"),
    (11, "LUA"),
    (12, "DMC"),
    (14, "DN"),
    (16, "DLV"),
    (17, "LQA"),
    (18, "DMP"),
    (20, "DTE"),
    (22, "DV"),
    (24, "DZ"),
    (28, "KDP"),
    (30, "KDZ"),
    (32, "KL"),
    (34, "DMV"),
    (36, "DPV"),
    (38, "DMF"),
    (40, "DMR"),
    (42, "KMY"),
    (44, "KMX"),
    (75, "LQA-T"),
];

const PROGRAM_TYPES: &[(u64, &str)] = &[(0, "Secondary"), (1, "Tertiary"), (2, "System")];
const PROCESSORS: &[(u64, &str)] = &[(0, "PDP-11"), (1, "Comm Srv"), (2, "Profess")];
const FUNCTIONS: &[(u64, &str)] = &[
    (0x01, "loop"),
    (0x02, "dump"),
    (0x04, "primary loader"),
    (0x08, "multi-block loader"),
    (0x10, "boot"),
    (0x20, "console carrier"),
    (0x40, "data link counters"),
    (0x80, "console carrier reserved"),
];
const INFO_TYPES: &[(u64, &str)] = &[
    (1, "Version"),
    (2, "Functions"),
    (3, "Console user"),
    (4, "Reservation timer"),
    (5, "Console command size"),
    (6, "Console response size"),
    (7, "Hardware address"),
    (8, "System time"),
    (100, "Communication device"),
    (200, "Software ID"),
    (300, "System processor"),
    (400, "Datalink type"),
    (401, "Datalink buffer size"),
];
const PARAM_TYPES: &[(u64, &str)] = &[
    (1, "Target name"),
    (2, "Target address"),
    (3, "Host system name"),
    (4, "Host system address"),
    (5, "Host system time"),
];

/// A MOP message at `frame[start..end]`; `prefixed`: a 2-byte length comes first.
pub(crate) fn decode(
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
    ethertype: u16,
    prefixed: bool,
) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("mop", Span::at(start, r.left()));
    if prefixed {
        let Some(len) = r.u16le() else {
            summary!(l, "MOP truncated");
            l.mark("truncated length prefix");
            pkt.layers.push(l);
            return;
        };
        l.add("Length", Value::U(u64::from(len)), start, 2);
        let mend = r.pos + usize::from(len);
        if mend > r.end {
            summary!(l, "MOP length {len} exceeds frame");
            l.mark("length prefix exceeds frame");
            pkt.layers.push(l);
            return;
        }
        r = Rd::new(frame, r.pos, mend);
    }
    let ok = message(&mut l, &mut r, ethertype);
    if ok.is_none() {
        l.mark("truncated MOP message");
        if l.summary.is_empty() {
            summary!(l, "MOP truncated");
        }
    }
    pkt.layers.push(l);
}

fn u(l: &mut Layer, r: &mut Rd, name: &'static str, n: usize) -> Option<u64> {
    let at = r.pos;
    let v = match n {
        1 => u64::from(r.u8()?),
        2 => u64::from(r.u16le()?),
        _ => u64::from(r.u32le()?),
    };
    l.add(
        name,
        if n == 4 { Value::Hex(v) } else { Value::U(v) },
        at,
        n,
    );
    Some(v)
}

fn device(l: &mut Layer, r: &mut Rd) -> Option<&'static str> {
    let at = r.pos;
    let d = r.u8()?;
    let n = lookup(DEVICES, u64::from(d));
    l.add("Communication device", Value::Coded(u64::from(d), n), at, 1);
    Some(n)
}

fn software_id(l: &mut Layer, r: &mut Rd) -> Option<()> {
    let at = r.pos;
    let c = r.u8()? as i8;
    let v = match c {
        0 => Value::Name("none"),
        -1 => Value::Name("Standard O/S"),
        -2 => Value::Name("Maint system"),
        n if n > 0 => Value::Text(text(r.take(n as usize)?)),
        _ => Value::Text(format!("reserved ({c})")),
    };
    l.add("Software ID", v, at, r.pos - at);
    Some(())
}

fn message(l: &mut Layer, r: &mut Rd, ethertype: u16) -> Option<()> {
    let at = r.pos;
    let code = r.u8()?;
    let name = lookup(CODES, u64::from(code));
    l.add("Code", Value::Coded(u64::from(code), name), at, 1);
    if name == "unknown" {
        summary!(l, "MOP code {code}");
        l.mark("unknown MOP code");
        return Some(());
    }
    l.msg = Some(name);
    l.sum().s("MOP [").s(name).s("]");
    let _ = ethertype;
    match code {
        0 | 2 => {
            let n = u(l, r, "Load number", 1)?;
            let a = u(l, r, "Load address", 4)?;
            let tail = if code == 0 { 4 } else { 0 };
            let dl = r.left().checked_sub(tail)?;
            let at = r.pos;
            r.skip(dl)?;
            l.add("Image data", Value::U(dl as u64), at, dl);
            summary!(l, "MOP [{name}] load {n} addr 0x{a:x} {dl} bytes");
            if code == 0 {
                let t = u(l, r, "Transfer address", 4)?;
                l.summary.push_str(&format!(" xfer 0x{t:x}"));
            }
        }
        1 | 3 | 15 => {}
        4 => {
            let a = u(l, r, "Memory address", 4)?;
            let c = u(l, r, "Count", 2)?;
            summary!(l, "MOP [{name}] addr 0x{a:x} count {c}");
        }
        5 => {
            u(l, r, "Reserved", 1)?;
            let n = u(l, r, "Receipt number", 2)?;
            l.sum().s("MOP [").s(name).s("] receipt ").u(n);
        }
        6 => {
            let at = r.pos;
            l.add(
                "Verification number",
                Value::Bytes(r.take(8)?.to_vec()),
                at,
                8,
            );
            if r.left() > 0 {
                let p = u(l, r, "Processor", 1)?;
                l.add("Processor", Value::Name(lookup(PROCESSORS, p)), at + 8, 1);
                let at = r.pos;
                let c = r.u8()?;
                l.add(
                    "Boot server",
                    Value::Name(if c & 1 == 0 { "Def" } else { "Req" }),
                    at,
                    1,
                );
                l.add(
                    "Boot device",
                    Value::Name(if c & 2 == 0 { "default" } else { "specified" }),
                    at,
                    1,
                );
                if r.left() > 0 {
                    let (at, dev) = r.image()?;
                    l.add_text("Device ID", at, dev.len() + 1, |w| {
                        w.text(dev);
                    });
                }
                if r.left() > 0 {
                    software_id(l, r)?;
                }
            }
        }
        7 => {
            u(l, r, "Reserved", 1)?;
            let n = u(l, r, "Receipt number", 2)?;
            l.sum().s("MOP [").s(name).s("] receipt ").u(n);
            info_fields(l, r)?;
        }
        8 => {
            let dn = device(l, r)?;
            u(l, r, "Version", 1)?;
            let at = r.pos;
            let t = r.u8()?;
            l.add(
                "Type",
                Value::Coded(u64::from(t), lookup(PROGRAM_TYPES, u64::from(t))),
                at,
                1,
            );
            software_id(l, r)?;
            if r.left() > 0 {
                let at = r.pos;
                let p = r.u8()?;
                l.add(
                    "Processor",
                    Value::Coded(u64::from(p), lookup(PROCESSORS, u64::from(p))),
                    at,
                    1,
                );
            }
            if r.left() > 0 {
                info_fields(l, r)?;
            }
            summary!(
                l,
                "MOP [{name}] device {dn} {}",
                lookup(PROGRAM_TYPES, u64::from(t))
            );
        }
        9 => {
            let n = u(l, r, "Receipt number", 2)?;
            l.sum().s("MOP [").s(name).s("] receipt ").u(n);
        }
        10 => {
            let n = u(l, r, "Load number", 1)?;
            let e = u(l, r, "Error", 1)?;
            summary!(
                l,
                "MOP [{name}] load {n}{}",
                if e != 0 { " error" } else { "" }
            );
        }
        11 => {
            let n = u(l, r, "Receipt number", 2)?;
            l.sum().s("MOP [").s(name).s("] receipt ").u(n);
            l.open("Counters", Value::None, r.pos, r.left());
            for (nm, w) in [
                ("Seconds since zeroed", 2),
                ("Bytes received", 4),
                ("Bytes sent", 4),
                ("Frames received", 4),
                ("Frames sent", 4),
                ("Multicast bytes received", 4),
                ("Multicast frames received", 4),
                ("Frames sent, initially deferred", 4),
                ("Frames sent, single collision", 4),
                ("Frames sent, multiple collisions", 4),
                ("Send failure", 2),
                ("Send failure reasons", 2),
                ("Receive failure", 2),
                ("Receive failure reasons", 2),
                ("Unrecognized frame destination", 2),
                ("Data overrun", 2),
                ("System buffer unavailable", 2),
                ("User buffer unavailable", 2),
            ] {
                let at = r.pos;
                let v = if w == 2 {
                    u64::from(r.u16le()?)
                } else {
                    u64::from(r.u32le()?)
                };
                l.add(nm, Value::U(v), at, w);
            }
            l.close();
        }
        12 => {
            let dn = device(l, r)?;
            u(l, r, "Version", 1)?;
            let m = u(l, r, "Memory size", 4)?;
            u(l, r, "Bits", 1)?;
            if r.left() >= 2 {
                u(l, r, "Buffer size", 2)?;
            }
            summary!(l, "MOP [{name}] device {dn} memory 0x{m:x}");
        }
        13 => {
            let at = r.pos;
            l.add(
                "Verification number",
                Value::Bytes(r.take(8)?.to_vec()),
                at,
                8,
            );
        }
        14 => {
            let a = u(l, r, "Memory address", 4)?;
            let at = r.pos;
            let n = r.left();
            r.skip(n)?;
            l.add("Image data", Value::U(n as u64), at, n);
            summary!(l, "MOP [{name}] addr 0x{a:x} {n} bytes");
        }
        16 => {
            let n = u(l, r, "Load number", 1)?;
            loop {
                let at = r.pos;
                let t = r.u8()?;
                if t == 0 {
                    l.add("End of parameters", Value::None, at, 1);
                    break;
                }
                let (_, v) = r.image()?;
                let pn = lookup(PARAM_TYPES, u64::from(t));
                let val = match t {
                    1 | 3 => Value::Text(text(v)),
                    _ => Value::Bytes(v.to_vec()),
                };
                l.add(
                    if pn == "unknown" { "Parameter" } else { pn },
                    val,
                    at,
                    v.len() + 2,
                );
            }
            let t = u(l, r, "Transfer address", 4)?;
            summary!(l, "MOP [{name}] load {n} xfer 0x{t:x}");
        }
        17 | 19 => {
            let at = r.pos;
            let f = r.u8()?;
            l.add("Receipt number", Value::U(u64::from(f & 1)), at, 1);
            if code == 17 {
                l.add("Break", Value::Bool(f & 2 != 0), at, 1);
            } else {
                l.add(
                    "Command status",
                    Value::Name(if f & 2 != 0 { "Lost" } else { "OK" }),
                    at,
                    1,
                );
                l.add("Response data lost", Value::Bool(f & 4 != 0), at, 1);
            }
            let n = r.left();
            let at = r.pos;
            l.add("Data", Value::Text(text(r.take(n)?)), at, n);
            summary!(l, "MOP [{name}] receipt {} {n} bytes", f & 1);
        }
        _ => {}
    }
    if r.left() > 0 {
        let at = r.pos;
        l.add_bytes("Extra", r.rest(), at, r.left());
    }
    Some(())
}

/// The system ID information fields: 2-byte type, 1-byte length, value.
fn info_fields(l: &mut Layer, r: &mut Rd) -> Option<()> {
    while r.left() > 0 {
        let at = r.pos;
        let t = r.u16le()?;
        let n = r.u8()?;
        let v = r.take(usize::from(n))?;
        let g = |i: usize| v.get(i).copied().unwrap_or(0);
        let name = lookup(INFO_TYPES, u64::from(t));
        let val = match (t, v.len()) {
            (1, 3) => Value::Version([g(0), g(1), g(2)]),
            (2, 1 | 2) => {
                let f = u64::from(g(0)) | (u64::from(g(1)) << 8);
                Value::Text(format!("0x{f:x} {}", bits(FUNCTIONS, f)))
            }
            (3 | 7, 6) => Value::Mac(v.try_into().ok()?),
            (4..=6 | 401, 2) => Value::U(u64::from(g(0)) | (u64::from(g(1)) << 8)),
            (100, 1) => Value::Coded(u64::from(g(0)), lookup(DEVICES, u64::from(g(0)))),
            (200, _) => {
                let c = g(0) as i8;
                match c {
                    -1 => Value::Name("Standard O/S"),
                    -2 => Value::Name("Maint system"),
                    c if c > 0 => Value::Text(text(v.get(1..).unwrap_or(&[]))),
                    _ => Value::Name("none"),
                }
            }
            (300, 1) => Value::Coded(
                u64::from(g(0)),
                lookup(
                    &[(1, "PDP-11"), (2, "Comm Srv"), (3, "Profess")],
                    u64::from(g(0)),
                ),
            ),
            (400, 1) => Value::Coded(
                u64::from(g(0)),
                lookup(
                    &[(1, "Ethernet"), (2, "DDCMP"), (3, "LAPB")],
                    u64::from(g(0)),
                ),
            ),
            _ => Value::Bytes(v.to_vec()),
        };
        l.add(
            if name == "unknown" {
                "Information"
            } else {
                name
            },
            val,
            at,
            3 + v.len(),
        );
    }
    Some(())
}
