//! LAT, the Local Area Transport protocol (Ethernet type 0x6004).
//!
//! Layouts from the *LAT Specification* version 5.1 (Digital, June 1989, order no.
//! AA-NL26A-TE), as implemented by Wireshark's `packet-lat.c` (which cites it section by
//! section): byte 0 holds the message type in bits 2-7 (0 run, 1 start, 2 stop, 10 service
//! announcement, 12 command, 13 status, 14 solicit information, 15 response information), RRF
//! (bit 0) and MASTER (bit 1). Virtual-circuit messages (run, start, stop) carry the slot count,
//! destination and source circuit ids (little-endian), message sequence and acknowledgement
//! numbers. Run messages carry slots: a 4-byte header (destination slot, source slot, byte
//! count, type in the high nibble and credits or reason in the low one), the slot data, and a
//! pad byte after odd counts. Strings are a count byte and the characters; parameter lists are
//! (code, length, value) ending with code 0. LAT frames are padded to the Ethernet minimum:
//! bytes after the message are padding, not errors.

use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{lookup, text, Rd};

const TYPES: &[(u64, &str)] = &[
    (0, "run"),
    (1, "start"),
    (2, "stop"),
    (10, "service announcement"),
    (12, "command"),
    (13, "status"),
    (14, "solicit information"),
    (15, "response information"),
];
const SLOT_TYPES: &[(u64, &str)] = &[
    (0, "data-a"),
    (9, "start"),
    (10, "data-b"),
    (11, "attention"),
    (12, "reject"),
    (13, "stop"),
];
const PRODUCTS: &[(u64, &str)] = &[
    (1, "Ethernet terminal server"),
    (2, "DECserver 100"),
    (3, "VAX/VMS"),
    (4, "RSX11-M"),
    (5, "RSX11-M+"),
    (6, "TOPS-20"),
    (7, "TOPS-10"),
    (8, "Ultrix-11"),
    (9, "LAT-11"),
    (10, "RSTS/E"),
    (11, "Ultrix-32"),
    (12, "ELN"),
    (13, "MS/DOS"),
    (14, "P/OS"),
    (15, "PCSG-LAT"),
    (16, "DELIX"),
    (17, "DECserver 200"),
    (18, "DECserver 500"),
    (19, "Actor"),
];
const CIRCUIT_STOP: &[(u64, &str)] = &[
    (1, "reason is unknown"),
    (2, "no slots connected"),
    (3, "illegal message or slot format"),
    (4, "VC_halt from user"),
    (5, "no progress is being made"),
    (6, "time limit expired"),
    (7, "retransmit limit reached"),
    (8, "insufficient resources"),
    (9, "server circuit timer out of range"),
    (10, "number of virtual circuits exceeded"),
];
const SLOT_REASONS: &[(u64, &str)] = &[
    (1, "reason is unknown"),
    (2, "user requested disconnect"),
    (3, "system shutdown in progress"),
    (4, "invalid slot received"),
    (5, "invalid service class"),
    (6, "insufficient resources"),
    (7, "service in use"),
    (8, "no such service"),
    (9, "service is disabled"),
    (10, "service not offered by the port"),
    (11, "port name is unknown"),
    (12, "invalid password"),
    (13, "entry is not in the queue"),
    (14, "immediate access rejected"),
    (15, "access denied"),
    (16, "corrupted solicit request"),
];
const COMMANDS: &[(u64, &str)] = &[
    (1, "solicit non-queued access"),
    (2, "solicit queued access"),
    (3, "cancel queue entry"),
    (4, "send entry status"),
    (5, "send queue status"),
    (6, "send status of multiple entries"),
];

/// A LAT message.
pub(crate) fn decode(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("lat", Span::at(start, r.left()));
    let ok = message(&mut l, &mut r, start);
    if ok.is_none() {
        l.mark("truncated LAT message");
        if l.summary.is_empty() {
            summary!(l, "LAT truncated");
        }
    }
    pkt.layers.push(l);
}

fn u8f(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<u8> {
    let at = r.pos;
    let v = r.u8()?;
    l.add(name, Value::U(u64::from(v)), at, 1);
    Some(v)
}

fn u16f(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<u16> {
    let at = r.pos;
    let v = r.u16le()?;
    l.add(name, Value::U(u64::from(v)), at, 2);
    Some(v)
}

fn string(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<String> {
    let (at, b) = r.image()?;
    let t = text(b);
    l.add(name, Value::Text(t.clone()), at, b.len() + 1);
    Some(t)
}

/// A parameter list ending with code 0 (or with the message, since frames may be cut there).
fn params(l: &mut Layer, r: &mut Rd) -> Option<()> {
    while r.left() > 0 {
        let at = r.pos;
        let code = r.u8()?;
        if code == 0 {
            break;
        }
        let (_, v) = r.image()?;
        l.open("Parameter", Value::U(u64::from(code)), at, v.len() + 2);
        l.add_lazy("Value", || Value::Bytes(v.to_vec()), at + 2, v.len());
        l.close();
    }
    Some(())
}

fn versions(l: &mut Layer, r: &mut Rd) -> Option<()> {
    u8f(l, r, "Protocol format")?;
    u8f(l, r, "Highest version")?;
    u8f(l, r, "Lowest version")?;
    u8f(l, r, "Current version")?;
    u8f(l, r, "ECO")?;
    u16f(l, r, "Frame size")?;
    Some(())
}

fn message(l: &mut Layer, r: &mut Rd, start: usize) -> Option<()> {
    let b0 = r.u8()?;
    let ty = b0 >> 2;
    let name = lookup(TYPES, u64::from(ty));
    l.add("Message type", Value::Coded(u64::from(ty), name), start, 1);
    l.add("Response requested", Value::Bool(b0 & 1 != 0), start, 1);
    l.add("Master", Value::Bool(b0 & 2 != 0), start, 1);
    summary!(l, "LAT [{name}]");
    if name == "unknown" {
        l.mark("unknown LAT message type");
        return Some(());
    }
    l.msg = Some(name);
    match ty {
        0..=2 => {
            let slots = u8f(l, r, "Slots")?;
            let at = r.pos;
            let dc = r.u16le()?;
            l.add("Destination circuit", Value::Hex(u64::from(dc)), at, 2);
            let sc = r.u16le()?;
            l.add("Source circuit", Value::Hex(u64::from(sc)), at + 2, 2);
            let seq = u8f(l, r, "Sequence")?;
            let ack = u8f(l, r, "Acknowledgement")?;
            summary!(
                l,
                "LAT [{name}] circuit {sc:04x}>{dc:04x} seq {seq} ack {ack} slots {slots}"
            );
            match ty {
                0 => {
                    for _ in 0..slots {
                        slot(l, r)?;
                    }
                }
                1 => {
                    u16f(l, r, "Minimum receive datagram size")?;
                    u8f(l, r, "Protocol version")?;
                    u8f(l, r, "Protocol ECO")?;
                    u8f(l, r, "Maximum simultaneous slots")?;
                    u8f(l, r, "Data link buffers")?;
                    u8f(l, r, "Server circuit timer")?;
                    u8f(l, r, "Keep-alive timer")?;
                    u16f(l, r, "Facility number")?;
                    let at = r.pos;
                    let p = r.u8()?;
                    l.add(
                        "Product type",
                        Value::Coded(u64::from(p), lookup(PRODUCTS, u64::from(p))),
                        at,
                        1,
                    );
                    u8f(l, r, "Product version")?;
                    let slave = string(l, r, "Slave node name")?;
                    let master = string(l, r, "Master node name")?;
                    string(l, r, "Location")?;
                    params(l, r)?;
                    summary!(
                        l,
                        "LAT [start] circuit {sc:04x}>{dc:04x} slave {slave} master {master}"
                    );
                }
                _ => {
                    let at = r.pos;
                    let reason = r.u8()?;
                    let rn = lookup(CIRCUIT_STOP, u64::from(reason));
                    l.add("Reason", Value::Coded(u64::from(reason), rn), at, 1);
                    // An optional reason text; anything else is Ethernet padding.
                    let mut t = *r;
                    if let Some((at, b)) = t.image() {
                        l.add_lazy("Reason text", || Value::Text(text(b)), at, b.len() + 1);
                        *r = t;
                    }
                    summary!(l, "LAT [stop] circuit {sc:04x}>{dc:04x} {{{rn}}}");
                }
            }
        }
        10 => {
            u8f(l, r, "Server circuit timer")?;
            u8f(l, r, "Highest version")?;
            u8f(l, r, "Lowest version")?;
            u8f(l, r, "Current version")?;
            u8f(l, r, "ECO")?;
            u8f(l, r, "Incarnation")?;
            let at = r.pos;
            l.add("Change flags", Value::Hex(u64::from(r.u8()?)), at, 1);
            u16f(l, r, "Frame size")?;
            u8f(l, r, "Multicast timer")?;
            let at = r.pos;
            let st = r.u8()?;
            l.add("Node status", Value::Hex(u64::from(st)), at, 1);
            let (at, g) = r.image()?;
            l.add_lazy("Groups", || Value::Bytes(g.to_vec()), at, g.len() + 1);
            let node = string(l, r, "Node name")?;
            string(l, r, "Node description")?;
            let n = u8f(l, r, "Services")?;
            let mut names = Vec::new();
            for _ in 0..n {
                let at = r.pos;
                let rating = r.u8()?;
                let (_, sn) = r.image()?;
                let (dat, sd) = r.image()?;
                l.open("Service", Value::Text(text(sn)), at, r.pos - at);
                l.add("Rating", Value::U(u64::from(rating)), at, 1);
                l.add_lazy("Description", || Value::Text(text(sd)), dat, sd.len() + 1);
                l.close();
                names.push(text(sn));
            }
            if r.left() > 0 {
                let (at, c) = r.image()?;
                l.add_lazy(
                    "Service classes",
                    || Value::Bytes(c.to_vec()),
                    at,
                    c.len() + 1,
                );
            }
            summary!(l, "LAT [{name}] node {node} services {}", names.join(","));
        }
        12 => {
            versions(l, r)?;
            u16f(l, r, "Request identifier")?;
            u16f(l, r, "Entry identifier")?;
            let at = r.pos;
            let c = r.u8()?;
            let cn = lookup(COMMANDS, u64::from(c));
            l.add("Command type", Value::Coded(u64::from(c), cn), at, 1);
            u8f(l, r, "Command modifier")?;
            let obj = string(l, r, "Object node name")?;
            let (at, g) = r.image()?;
            l.add_lazy(
                "Subject groups",
                || Value::Bytes(g.to_vec()),
                at,
                g.len() + 1,
            );
            string(l, r, "Subject node name")?;
            string(l, r, "Subject port name")?;
            string(l, r, "Subject description")?;
            let svc = string(l, r, "Object service name")?;
            string(l, r, "Object port name")?;
            params(l, r)?;
            summary!(l, "LAT [command] {cn} node {obj} service {svc}");
        }
        13 => {
            versions(l, r)?;
            u16f(l, r, "Retransmit timer")?;
            let n = u8f(l, r, "Entries")?;
            let node = string(l, r, "Subject node name")?;
            summary!(l, "LAT [status] node {node} entries {n}");
            if r.left() > 0 {
                let at = r.pos;
                l.add_lazy(
                    "Entries data",
                    || Value::Bytes(r.rest().to_vec()),
                    at,
                    r.left(),
                );
                r.pos = r.end;
            }
        }
        14 => {
            versions(l, r)?;
            let id = u16f(l, r, "Solicit identifier")?;
            u16f(l, r, "Response timer")?;
            let dst = string(l, r, "Destination node name")?;
            let (at, g) = r.image()?;
            l.add_lazy(
                "Source node groups",
                || Value::Bytes(g.to_vec()),
                at,
                g.len() + 1,
            );
            let src = string(l, r, "Source node name")?;
            let svc = string(l, r, "Destination service name")?;
            params(l, r)?;
            summary!(
                l,
                "LAT [{name}] id {id} from {src} for node {dst} service {svc}"
            );
        }
        _ => {
            versions(l, r)?;
            let id = u16f(l, r, "Solicit identifier")?;
            let at = r.pos;
            l.add("Response status", Value::Hex(u64::from(r.u16le()?)), at, 2);
            let at = r.pos;
            l.add(
                "Source node status",
                Value::Hex(u64::from(r.u16le()?)),
                at,
                2,
            );
            let at = r.pos;
            l.add("Source node address", Value::Mac(r.arr::<6>()?), at, 6);
            u16f(l, r, "Multicast timer")?;
            string(l, r, "Destination node name")?;
            let (at, g) = r.image()?;
            l.add_lazy(
                "Source node groups",
                || Value::Bytes(g.to_vec()),
                at,
                g.len() + 1,
            );
            let src = string(l, r, "Source node name")?;
            string(l, r, "Source node description")?;
            let n = u8f(l, r, "Services")?;
            for _ in 0..n {
                let at = r.pos;
                let len = usize::from(r.u8()?);
                let mut e = Rd::new(r.frame(), r.pos, r.pos + len);
                r.skip(len)?;
                let (_, classes) = e.image()?;
                let st = e.u8()?;
                let rating = e.u8()?;
                let (_, groups) = e.image()?;
                let (_, sn) = e.image()?;
                l.open("Service", Value::Text(text(sn)), at, len + 1);
                l.add_lazy(
                    "Classes",
                    || Value::Bytes(classes.to_vec()),
                    at + 1,
                    classes.len() + 1,
                );
                l.add("Status", Value::Hex(u64::from(st)), at, 1);
                l.add("Rating", Value::U(u64::from(rating)), at, 1);
                l.add_lazy(
                    "Groups",
                    || Value::Bytes(groups.to_vec()),
                    at,
                    groups.len() + 1,
                );
                if let Some((dat, sd)) = e.image() {
                    l.add_lazy("Description", || Value::Text(text(sd)), dat, sd.len() + 1);
                }
                l.close();
            }
            params(l, r)?;
            summary!(l, "LAT [{name}] id {id} from {src} services {n}");
        }
    }
    Some(())
}

fn slot(l: &mut Layer, r: &mut Rd) -> Option<()> {
    let at = r.pos;
    let ds = r.u8()?;
    let ss = r.u8()?;
    let n = r.u8()?;
    let tc = r.u8()?;
    let kind = tc >> 4;
    let st = lookup(SLOT_TYPES, u64::from(kind));
    l.open("Slot", Value::Name(st), at, 4 + usize::from(n));
    l.add("Destination slot", Value::U(u64::from(ds)), at, 1);
    l.add("Source slot", Value::U(u64::from(ss)), at + 1, 1);
    l.add("Byte count", Value::U(u64::from(n)), at + 2, 1);
    l.add("Slot type", Value::Coded(u64::from(kind), st), at + 3, 1);
    let dat = r.pos;
    let b = r.take(usize::from(n))?;
    let mut s = Rd::new(r.frame(), dat, dat + b.len());
    match kind {
        12 | 13 => {
            let rn = lookup(SLOT_REASONS, u64::from(tc & 15));
            l.add("Reason", Value::Coded(u64::from(tc & 15), rn), at + 3, 1);
        }
        11 => {
            if let Some(f) = s.u8() {
                l.add("Abort", Value::Bool(f & 0x20 != 0), dat, 1);
            }
        }
        9 => {
            l.add("Credits", Value::U(u64::from(tc & 15)), at + 3, 1);
            let res = (|| {
                let c = s.u8()?;
                l.add("Service class", Value::U(u64::from(c)), dat, 1);
                l.add(
                    "Minimum attention slot size",
                    Value::U(u64::from(s.u8()?)),
                    dat + 1,
                    1,
                );
                l.add(
                    "Minimum data slot size",
                    Value::U(u64::from(s.u8()?)),
                    dat + 2,
                    1,
                );
                let (a, sv) = s.image()?;
                l.add_lazy("Service name", || Value::Text(text(sv)), a, sv.len() + 1);
                let (a, sd) = s.image()?;
                l.add_lazy(
                    "Subject description",
                    || Value::Text(text(sd)),
                    a,
                    sd.len() + 1,
                );
                Some(())
            })();
            if res.is_none() {
                l.mark("start slot shorter than its fields");
            }
        }
        _ => {
            l.add("Credits", Value::U(u64::from(tc & 15)), at + 3, 1);
        }
    }
    if s.left() > 0 && kind != 9 {
        let at = s.pos;
        l.add_lazy("Data", || Value::Text(text(s.rest())), at, s.left());
    }
    l.close();
    if n % 2 == 1 && r.left() > 0 {
        r.skip(1)?;
    }
    Some(())
}
