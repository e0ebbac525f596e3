//! CTERM, the DECnet command terminal protocol (object 42), over its Foundation layer.
//!
//! Layouts from *DNA Command Terminal Protocol Functional Specification* and *Foundation
//! Services*, version 1.0.0 (Digital, 1982, order nos. AA-X438A-TK / AA-X437A-TK), as used by
//! the open `dnprogs` `ctermd` (Patrick Caulfield). Foundation messages: 1 bind request,
//! 2 unbind, 3 rebind, 4 bind accept, 5 enter mode, 6 exit mode, 7 confirm mode, 8 no mode,
//! 9 common data, 10 mode data. Common data carries one or more command terminal messages,
//! each preceded by a 2-byte length: 1 initiate, 2 start read, 3 read data, 4 out-of-band,
//! 5 unread, 6 clear input, 7 write, 8 write completion, 9 discard state, 10 read
//! characteristics, 11 characteristics, 12 check input, 13 input count, 14 input state.
//! Parameter names are seed 002's.

use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{lookup, text, Rd};

const FOUNDATION: &[(u64, &str)] = &[
    (1, "bind request"),
    (2, "unbind"),
    (3, "rebind"),
    (4, "bind accept"),
    (5, "enter mode"),
    (6, "exit mode"),
    (7, "confirm mode"),
    (8, "no mode"),
    (9, "common data"),
    (10, "mode data"),
];
const MESSAGES: &[(u64, &str)] = &[
    (1, "initiate"),
    (2, "start read"),
    (3, "read data"),
    (4, "out-of-band"),
    (5, "abort read"),
    (6, "clear input"),
    (7, "write data"),
    (8, "write status"),
    (9, "discard stat"),
    (10, "read config"),
    (11, "config data"),
    (12, "check input"),
    (13, "input count"),
    (14, "input state"),
];

/// A Foundation message and the command terminal messages it carries.
pub(crate) fn decode(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("cterm", Span::at(start, r.left()));
    let mut inner = Vec::new();
    let ok = (|| {
        let t = r.u8()?;
        let n = lookup(FOUNDATION, u64::from(t));
        l.add(
            "Foundation message",
            Value::Coded(u64::from(t), n),
            start,
            1,
        );
        l.msg = Some(n);
        summary!(l, "CTERM foundation [{n}]");
        match t {
            1 | 4 => {
                let at = r.pos;
                let v = r.arr::<3>()?;
                l.add("Version", Value::Version(v), at, 3);
                let at = r.pos;
                let os = r.u16le()?;
                l.add("Operating system", Value::U(u64::from(os)), at, 2);
                if r.left() >= 2 {
                    let at = r.pos;
                    l.add("Protocols", Value::Hex(u64::from(r.u16le()?)), at, 2);
                }
                if r.left() > 0 {
                    let at = r.pos;
                    l.add_lazy(
                        "Software revision",
                        || Value::Text(text(r.rest())),
                        at,
                        r.left(),
                    );
                    r.pos = r.end;
                }
            }
            9 => {
                let at = r.pos;
                l.add("Reserved", Value::U(u64::from(r.u8()?)), at, 1);
                while r.left() > 0 {
                    let at = r.pos;
                    let n = usize::from(r.u16le()?);
                    let ms = r.pos;
                    r.skip(n)?;
                    inner.push((at, ms, ms + n));
                }
            }
            10 => {
                inner.push((r.pos, r.pos, r.end));
                r.pos = r.end;
            }
            _ => {}
        }
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated CTERM foundation message");
    }
    pkt.layers.push(l);
    for (at, s, e) in inner {
        command(pkt, frame, at, s, e);
    }
}

fn command(pkt: &mut Packet, frame: &[u8], at: usize, start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("cterm", Span::at(at, end - at));
    if at < start {
        l.add("Length", Value::U((end - start) as u64), at, start - at);
    }
    let ok = (|| {
        let t = r.u8()?;
        let n = lookup(MESSAGES, u64::from(t));
        l.add("Message type", Value::Coded(u64::from(t), n), start, 1);
        l.msg = Some(n);
        summary!(l, "CTERM [{n}]");
        let u16f = |l: &mut Layer, r: &mut Rd, name: &'static str| -> Option<u16> {
            let at = r.pos;
            let v = r.u16le()?;
            l.add(name, Value::U(u64::from(v)), at, 2);
            Some(v)
        };
        let u8f = |l: &mut Layer, r: &mut Rd, name: &'static str| -> Option<u8> {
            let at = r.pos;
            let v = r.u8()?;
            l.add(name, Value::U(u64::from(v)), at, 1);
            Some(v)
        };
        match t {
            1 => {
                u8f(&mut l, &mut r, "Flags")?;
                let at = r.pos;
                let v = r.arr::<3>()?;
                l.add("Version", Value::Version(v), at, 3);
                let at = r.pos;
                l.add("Software revision", Value::Text(text(r.take(8)?)), at, 8);
                while r.left() > 0 {
                    let at = r.pos;
                    let pt = r.u8()?;
                    let (_, v) = r.image()?;
                    let x = v
                        .iter()
                        .take(8)
                        .enumerate()
                        .fold(0u64, |a, (i, b)| a | (u64::from(*b) << (8 * i)));
                    let name = match pt {
                        1 => "Maximum receive size",
                        2 => "Buffer size",
                        3 => "Supported messages",
                        _ => "Parameter",
                    };
                    l.add(name, Value::U(x), at, v.len() + 2);
                }
            }
            2 => {
                let at = r.pos;
                let f = r.arr::<3>()?;
                l.add(
                    "Flags",
                    Value::Hex(u64::from(f[0]) | (u64::from(f[1]) << 8) | (u64::from(f[2]) << 16)),
                    at,
                    3,
                );
                let m = u16f(&mut l, &mut r, "Buffer size")?;
                u16f(&mut l, &mut r, "End")?;
                let to = u16f(&mut l, &mut r, "Time out")?;
                u16f(&mut l, &mut r, "EOP")?;
                u16f(&mut l, &mut r, "Start of display")?;
                u16f(&mut l, &mut r, "Low water mark")?;
                if r.left() > 0 {
                    let (at, ts) = r.image()?;
                    l.add_lazy(
                        "Termination",
                        || Value::Bytes(ts.to_vec()),
                        at,
                        ts.len() + 1,
                    );
                }
                summary!(l, "CTERM [start read] max {m} timeout {to}");
            }
            3 => {
                u8f(&mut l, &mut r, "Flags")?;
                u16f(&mut l, &mut r, "Low water mark")?;
                u8f(&mut l, &mut r, "Vertical position change")?;
                u8f(&mut l, &mut r, "Horizontal position change")?;
                u16f(&mut l, &mut r, "Termination")?;
                let at = r.pos;
                l.add_lazy("Data", || Value::Text(text(r.rest())), at, r.left());
                summary!(l, "CTERM [read data] {} bytes", r.left());
                r.pos = r.end;
            }
            4 => {
                let at = r.pos;
                let f = r.u8()?;
                l.add(
                    "Disposition",
                    Value::Name(if f & 1 != 0 { "discard" } else { "keep" }),
                    at,
                    1,
                );
                let c = u8f(&mut l, &mut r, "Character")?;
                summary!(
                    l,
                    "CTERM [out-of-band] char {c}{}",
                    if f & 1 != 0 { " [discard]" } else { "" }
                );
            }
            5 => {
                let at = r.pos;
                let f = r.u8()?;
                let n = if f & 1 != 0 {
                    "if no more input"
                } else {
                    "unconditional"
                };
                l.add("Abort", Value::Name(n), at, 1);
                summary!(l, "CTERM [abort read] {{{n}}}");
            }
            6 | 10 | 12 => {
                if r.left() > 0 {
                    u8f(&mut l, &mut r, "Flags")?;
                }
                if r.left() > 0 {
                    let at = r.pos;
                    l.add_lazy(
                        "Selectors",
                        || Value::Bytes(r.rest().to_vec()),
                        at,
                        r.left(),
                    );
                    r.pos = r.end;
                }
            }
            7 => {
                u16f(&mut l, &mut r, "Flags")?;
                u8f(&mut l, &mut r, "Prefix")?;
                u8f(&mut l, &mut r, "Postfix")?;
                let at = r.pos;
                l.add_lazy("Data", || Value::Text(text(r.rest())), at, r.left());
                summary!(l, "CTERM [write data] {} bytes", r.left());
                r.pos = r.end;
            }
            8 => {
                let at = r.pos;
                let f = r.u8()?;
                let n = if f & 1 != 0 {
                    "some output lost"
                } else {
                    "no output lost"
                };
                l.add("Write status", Value::Name(n), at, 1);
                u16f(&mut l, &mut r, "Horizontal position")?;
                u16f(&mut l, &mut r, "Vertical position")?;
                summary!(l, "CTERM [write status] {{{n}}}");
            }
            9 => {
                let at = r.pos;
                let f = r.u8()?;
                let n = if f & 1 != 0 { "discard" } else { "no discard" };
                l.add("Discard", Value::Name(n), at, 1);
                summary!(l, "CTERM [discard stat] {{{n}}}");
            }
            11 => {
                u8f(&mut l, &mut r, "Flags")?;
                while r.left() > 0 {
                    let at = r.pos;
                    let sel = r.u16le()?;
                    let rest = r.left();
                    // Each characteristic's value length depends on its selector; show the rest.
                    l.add("Characteristic", Value::Hex(u64::from(sel)), at, 2);
                    let at = r.pos;
                    l.add_lazy("Values", || Value::Bytes(r.rest().to_vec()), at, rest);
                    r.pos = r.end;
                }
            }
            13 => {
                u8f(&mut l, &mut r, "Flags")?;
                let c = u16f(&mut l, &mut r, "Character count")?;
                summary!(l, "CTERM [input count] {c}");
            }
            14 => {
                let at = r.pos;
                let f = r.u8()?;
                let n = if f & 1 != 0 {
                    "more characters"
                } else {
                    "no more characters"
                };
                l.add("Input state", Value::Name(n), at, 1);
                summary!(l, "CTERM [input state] {{{n}}}");
            }
            _ => {
                l.mark("unknown CTERM message type");
            }
        }
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated CTERM message");
    }
    pkt.layers.push(l);
}
