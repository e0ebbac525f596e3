//! DECnet Phase IV routing layer (RP): control messages and data packet headers.
//!
//! Layouts from *DECnet Digital Network Architecture Phase IV Routing Layer Functional
//! Specification*, version 2.0.0 (Digital, 1983, order no. AA-X435A-TK), section 6 (message
//! formats); Phase III forms from Routing 1.3.0. Cross-checked against PyDECnet
//! (`decnet/routing_packets.py`, Paul Koning) and Wireshark's `packet-dec-dnart.c`.
//!
//! * Ethernet (and GRE) carry a 2-byte little-endian length before the message; frames are
//!   padded (with 0x42 by PyDECnet) beyond it, so the length, not the frame, bounds the message.
//! * An optional padding byte (flag bit 7) says how many bytes to skip, itself included.
//! * Control messages (flag bit 0): type in bits 1-3: 0 initialization, 1 verification,
//!   2 hello and test, 3 level 1 routing, 4 level 2 routing, 5 Ethernet router hello,
//!   6 Ethernet endnode hello.
//! * Routing messages (types 3, 4), Phase IV: srcnode, a reserved byte, then **segments**, each
//!   `COUNT` (2), `START` (2) and `COUNT` routing words for ids `START..START+COUNT`, then a
//!   checksum (one's complement sum of the 16-bit words from the first segment, initial value
//!   1). Phase III level 1 messages have no segments: one word per node from 1, and the
//!   checksum starts at 0; the checksum tells the forms apart. tcpdump and tshark read one
//!   routing word per segment; this decoder follows the specification (see the tests).
//! * Data: short format (flags `xxxx x010`: dst, src, forward) and long format (flags
//!   `xx1x x110`: d-area, d-subarea, d-id, s-area, s-subarea, s-id, nl2, visit-ct, s-class,
//!   pt); flags RQR 0x08, RTS 0x10, IE 0x20 (long only), V 0x40.

use crate::decoder::Decoder;
use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{lookup, Rd};

pub(crate) const NODE_TYPES: &[(u64, &str)] = &[
    (0, "reserved"),
    (1, "level 2 router"),
    (2, "level 1 router"),
    (3, "endnode"),
];

/// The DECnet address in a Phase IV Ethernet id `AA-00-04-00-lo-hi`.
pub(crate) fn id_addr(id: &[u8; 6]) -> Option<u16> {
    if id[..4] == [0xaa, 0, 4, 0] {
        Some(u16::from_le_bytes([id[4], id[5]]))
    } else {
        None
    }
}

fn dn(a: u16) -> String {
    Value::Dn(a).to_string()
}

/// A routing message with the Ethernet 2-byte length prefix at `frame[start..end]`.
pub(crate) fn decode_prefixed(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
) {
    let mut r = Rd::new(frame, start, end);
    let Some(len) = r.u16le() else {
        let mut l = pkt.new_layer("rp", Span::at(start, r.left()));
        summary!(l, "DECnet truncated length");
        l.mark("truncated length prefix");
        pkt.layers.push(l);
        return;
    };
    let len = usize::from(len);
    let mend = r.pos + len;
    if mend > r.end {
        let mut l = pkt.new_layer("rp", Span::at(start, r.left() + 2));
        l.add("Length", Value::U(len as u64), start, 2);
        summary!(l, "DECnet length {len} exceeds frame");
        l.mark("length prefix exceeds frame");
        pkt.layers.push(l);
        return;
    }
    decode(d, pkt, frame, r.pos, mend, Some(start));
    if mend < r.end {
        if let Some(l) = pkt.layers.iter_mut().rev().find(|l| l.proto == "rp") {
            l.add(
                "Padding",
                Value::U((r.end - mend) as u64),
                mend,
                r.end - mend,
            );
        }
    }
}

/// A routing message at `frame[start..end]`; `prefix` is where its length prefix was, if any.
pub(crate) fn decode(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
    prefix: Option<usize>,
) {
    let mut r = Rd::new(frame, start, end);
    let lstart = prefix.unwrap_or(start);
    let mut l = pkt.new_layer("rp", Span::at(lstart, r.end.saturating_sub(lstart)));
    if let Some(p) = prefix {
        l.add("Length", Value::U((end - start) as u64), p, 2);
    }
    let Some(mut flags) = r.u8() else {
        summary!(l, "RP empty");
        l.mark("empty routing message");
        pkt.layers.push(l);
        return;
    };
    if flags & 0x80 != 0 {
        let pad = usize::from(flags & 0x7f);
        l.add("Padding", Value::U(pad as u64), start, pad.max(1));
        if pad == 0 || r.skip(pad - 1).is_none() {
            l.mark("bad routing padding");
            pkt.layers.push(l);
            return;
        }
        let Some(f) = r.u8() else {
            l.mark("truncated after padding");
            pkt.layers.push(l);
            return;
        };
        flags = f;
    }
    let fpos = r.pos - 1;
    l.add("Routing flags", Value::Hex(u64::from(flags)), fpos, 1);
    let next = if flags & 1 != 0 {
        let ok = control(&mut l, &mut r, flags, fpos);
        if ok.is_none() {
            l.mark("truncated routing control message");
        }
        None
    } else if flags & 7 == 2 {
        short_data(&mut l, &mut r, flags, fpos)
    } else if flags & 7 == 6 {
        long_data(&mut l, &mut r, flags, fpos)
    } else {
        summary!(l, "RP unknown flags 0x{flags:02x}");
        l.mark("unknown routing message type");
        None
    };
    pkt.layers.push(l);
    if let Some((src, dst)) = next {
        super::nsp::decode(d, pkt, frame, r.pos, r.end, src, dst);
    }
}

fn data_flags(l: &mut Layer, flags: u8, at: usize, long: bool) -> &'static str {
    l.add("Request return", Value::Bool(flags & 0x08 != 0), at, 1);
    l.add("Return path", Value::Bool(flags & 0x10 != 0), at, 1);
    if long {
        l.add("Intra-Ethernet", Value::Bool(flags & 0x20 != 0), at, 1);
    }
    l.add("Version", Value::U(u64::from((flags >> 6) & 1)), at, 1);
    // " RQR", " RTS", " IE" for the bits set (IE in long headers only), in that order.
    const NAMES: [&str; 8] = [
        "",
        " RQR",
        " RTS",
        " RQR RTS",
        " IE",
        " RQR IE",
        " RTS IE",
        " RQR RTS IE",
    ];
    let ie = if long { flags & 0x20 } else { 0 };
    NAMES
        .get(usize::from(((flags & 0x18) | ie) >> 3))
        .copied()
        .unwrap_or("")
}

fn short_data(l: &mut Layer, r: &mut Rd, flags: u8, fpos: usize) -> Option<(u16, u16)> {
    l.msg = Some("routed data");
    let f = data_flags(l, flags, fpos, false);
    let hdr = (|| {
        let at = r.pos;
        let dst = r.u16le()?;
        l.add("Destination node", Value::Dn(dst), at, 2);
        let src = r.u16le()?;
        l.add("Source node", Value::Dn(src), at + 2, 2);
        let fw = r.u8()?;
        l.add("Visits", Value::U(u64::from(fw & 0x3f)), at + 4, 1);
        Some((src, dst, fw & 0x3f))
    })();
    match hdr {
        Some((src, dst, v)) => {
            l.sum()
                .s("RP [routed data] short ")
                .dn(src)
                .s(" > ")
                .dn(dst)
                .s(f)
                .s(" visits ")
                .u(v);
            Some((src, dst))
        }
        None => {
            summary!(l, "RP [routed data] short truncated");
            l.mark("truncated short data header");
            None
        }
    }
}

fn long_data(l: &mut Layer, r: &mut Rd, flags: u8, fpos: usize) -> Option<(u16, u16)> {
    l.msg = Some("routed data");
    let f = data_flags(l, flags, fpos, true);
    let hdr = (|| {
        let at = r.pos;
        l.add("Destination area", Value::U(u64::from(r.u8()?)), at, 1);
        l.add(
            "Destination subarea",
            Value::U(u64::from(r.u8()?)),
            at + 1,
            1,
        );
        let did = r.arr::<6>()?;
        l.add("Destination ID", Value::Mac(did), at + 2, 6);
        let dst = id_addr(&did).unwrap_or(0);
        l.add("Destination node", Value::Dn(dst), at + 2, 6);
        l.add("Source area", Value::U(u64::from(r.u8()?)), at + 8, 1);
        l.add("Source subarea", Value::U(u64::from(r.u8()?)), at + 9, 1);
        let sid = r.arr::<6>()?;
        l.add("Source ID", Value::Mac(sid), at + 10, 6);
        let src = id_addr(&sid).unwrap_or(0);
        l.add("Source node", Value::Dn(src), at + 10, 6);
        l.add(
            "Next level 2 router",
            Value::U(u64::from(r.u8()?)),
            at + 16,
            1,
        );
        let v = r.u8()?;
        l.add("Visits", Value::U(u64::from(v)), at + 17, 1);
        l.add("Service class", Value::U(u64::from(r.u8()?)), at + 18, 1);
        l.add("Protocol type", Value::U(u64::from(r.u8()?)), at + 19, 1);
        Some((src, dst, v))
    })();
    match hdr {
        Some((src, dst, v)) => {
            l.sum()
                .s("RP [routed data] long ")
                .dn(src)
                .s(" > ")
                .dn(dst)
                .s(f)
                .s(" visits ")
                .u(v);
            Some((src, dst))
        }
        None => {
            summary!(l, "RP [routed data] long truncated");
            l.mark("truncated long data header");
            None
        }
    }
}

fn tiver(l: &mut Layer, r: &mut Rd) -> Option<[u8; 3]> {
    let at = r.pos;
    let v = r.arr::<3>()?;
    if !l.quiet() {
        l.add("Version", Value::Version(v), at, 3);
    }
    Some(v)
}

fn iinfo(l: &mut Layer, r: &mut Rd) -> Option<u8> {
    let at = r.pos;
    let i = r.u8()?;
    l.open("Routing information", Value::Hex(u64::from(i)), at, 1);
    l.add(
        "Node type",
        Value::Coded(u64::from(i & 3), lookup(NODE_TYPES, u64::from(i & 3))),
        at,
        1,
    );
    l.add("Verification required", Value::Bool(i & 0x04 != 0), at, 1);
    l.add("Rejected", Value::Bool(i & 0x08 != 0), at, 1);
    l.add("Verification failed", Value::Bool(i & 0x10 != 0), at, 1);
    l.add("Multicast status", Value::Bool(i & 0x20 != 0), at, 1);
    l.add("Blocking requested", Value::Bool(i & 0x40 != 0), at, 1);
    l.close();
    Some(i)
}

fn control(l: &mut Layer, r: &mut Rd, flags: u8, fpos: usize) -> Option<()> {
    let ty = (flags >> 1) & 7;
    match ty {
        0 => {
            l.msg = Some("initialization");
            summary!(l, "RP [initialization]");
            let at = r.pos;
            let src = r.u16le()?;
            l.add("Node address", Value::Dn(src), at, 2);
            let i = iinfo(l, r)?;
            let at = r.pos;
            let bs = r.u16le()?;
            l.add("Maximum", Value::U(u64::from(bs)), at, 2);
            let v = tiver(l, r)?;
            let mut s = format!(
                "RP [initialization] src {} {} blksize {bs} vers {}.{}.{}",
                dn(src),
                lookup(NODE_TYPES, u64::from(i & 3)),
                v[0],
                v[1],
                v[2]
            );
            if i & 4 != 0 {
                s.push_str(" verify");
            }
            if v[0] >= 2 {
                let at = r.pos;
                let t = r.u16le()?;
                l.add("Hello period", Value::U(u64::from(t)), at, 2);
                s.push_str(&format!(" timer {t}"));
            }
            if r.left() > 0 {
                let at = r.pos;
                let n = r.left();
                l.add("Reserved", Value::Bytes(r.take(n)?.to_vec()), at, n);
            }
            l.summary = s.into();
        }
        1 => {
            l.msg = Some("verification");
            summary!(l, "RP [verification]");
            let at = r.pos;
            let src = r.u16le()?;
            l.add("Node address", Value::Dn(src), at, 2);
            let (at, v) = r.image()?;
            l.add_text("Function value", at, v.len() + 1, |w| {
                w.text(v);
            });
            l.sum()
                .s("RP [verification] src ")
                .dn(src)
                .s(" fcnval ")
                .u(v.len() as u64)
                .s(" bytes");
        }
        2 => {
            l.msg = Some("hello and test");
            summary!(l, "RP [hello and test]");
            let at = r.pos;
            let src = r.u16le()?;
            l.add("Node address", Value::Dn(src), at, 2);
            let (at, v) = r.image()?;
            l.add_bytes("Test data", v, at, v.len() + 1);
            l.sum()
                .s("RP [hello and test] src ")
                .dn(src)
                .s(" test data ")
                .u(v.len() as u64);
        }
        3 | 4 => routing_msg(l, r, ty == 4)?,
        5 => router_hello(l, r)?,
        6 => endnode_hello(l, r)?,
        _ => {
            l.sum().s("RP control type ").u(ty);
            l.mark("unknown routing control message type");
            let _ = fpos;
        }
    }
    Some(())
}

/// One's complement 16-bit sum of little-endian words with the given initial value.
pub(crate) fn checksum(words: &[u8], init: u32) -> u16 {
    // Adding with end-around carry word by word equals summing everything and folding the
    // carries in at the end (both are the sum modulo 0xffff, in 1..=0xffff unless all zero).
    // Eight bytes at a time: the four words split into two pairs of 32-bit lanes of one
    // 64-bit word and added lane-wise (a loop the compiler also vectorises); a block of at
    // most 2^14 words per lane cannot carry out of a lane.
    let mut s = u64::from(init);
    let mut blocks = words.chunks(8 << 14);
    for b in &mut blocks {
        let mut acc = 0u64;
        let eights = b.chunks_exact(8);
        let tail = eights.remainder();
        for c in eights {
            let x = <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes);
            acc += (x & 0x0000_ffff_0000_ffff) + ((x >> 16) & 0x0000_ffff_0000_ffff);
        }
        s += (acc & 0xffff_ffff) + (acc >> 32);
        let w = tail.chunks_exact(2);
        s += w.remainder().first().copied().map_or(0, u64::from);
        for c in w {
            s += u64::from(<[u8; 2]>::try_from(c).map_or(0, u16::from_le_bytes));
        }
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fn routing_msg(l: &mut Layer, r: &mut Rd, level2: bool) -> Option<()> {
    l.msg = Some(if level2 {
        "L2 router msg"
    } else {
        "L1 router msg"
    });
    let name = if level2 {
        "L2 router msg"
    } else {
        "L1 router msg"
    };
    l.sum().s("RP [").s(name).s("]");
    let at = r.pos;
    let src = r.u16le()?;
    l.add("Source node", Value::Dn(src), at, 2);
    // Body (after srcnode) and the checksum in the last two bytes.
    let body_start = r.pos;
    let total = r.left();
    if total < 2 {
        return None;
    }
    let ck_at = r.end - 2;
    let frame = r.frame();
    let ck = u16::from_le_bytes([*frame.get(ck_at)?, *frame.get(ck_at + 1)?]);
    // Phase IV: reserved byte, then segments; checksum from the first segment, initial 1.
    let p4 = frame.get(body_start + 1..ck_at).unwrap_or(&[]);
    let p3 = p4;
    let sum4 = checksum(p4, 1);
    let phase3 = !level2 && sum4 != ck && checksum(p3, 0) == ck && p3.len() % 2 == 0;
    let mut ids = 0u64;
    let kind = if level2 { " areas " } else { " ids " };
    if phase3 {
        l.add("Format", Value::Name("Phase III"), body_start, 0);
        let at = r.pos;
        l.add("Reserved", Value::U(u64::from(r.u8()?)), at, 1);
        ids = (p3.len() / 2) as u64;
        l.sum()
            .s("RP [")
            .s(name)
            .s("] src ")
            .dn(src)
            .s(kind)
            .s("1-")
            .u(ids);
        l.open(
            "Routing entries",
            Value::U((p3.len() / 2) as u64),
            body_start + 1,
            p3.len(),
        );
        // The routing words are fields only.
        // (`p3` is of even length here.)
        l.add_routes(1, p3, body_start + 1);
        l.close();
        r.pos = ck_at;
    } else {
        let at = r.pos;
        l.add("Reserved", Value::U(u64::from(r.u8()?)), at, 1);
        // The summary up to the ranges; each segment appends its range.
        l.sum().s("RP [").s(name).s("] src ").dn(src).s(kind);
        let mut seg = Rd::new(frame, r.pos, ck_at);
        while seg.left() > 0 {
            let at = seg.pos;
            let (Some(count), Some(start)) = (seg.u16le(), seg.u16le()) else {
                l.mark("truncated routing segment header");
                break;
            };
            let n = usize::from(count) * 2;
            let seg_words = seg.take(n);
            let last = u32::from(start) + u32::from(count).saturating_sub(1);
            if !l.quiet() {
                l.open("Segment", Value::Ids(start, last), at, 4 + n);
            }
            l.add("Count", Value::U(u64::from(count)), at, 2);
            l.add("Start", Value::U(u64::from(start)), at + 2, 2);
            match seg_words {
                // The routing words are fields only.
                // (`w` holds `count` whole words.)
                Some(w) => l.add_routes(u32::from(start), w, at + 4),
                None => l.mark("routing segment exceeds message"),
            }
            if !l.quiet() {
                l.close();
            }
            let w = l.sum_more();
            let w = if at > body_start + 1 { w.s(",") } else { w };
            w.u(start).s("-").u(last);
            ids += u64::from(count);
            if seg_words.is_none() {
                break;
            }
        }
        r.pos = ck_at;
    }
    l.add(
        if level2 {
            "Number of areas"
        } else {
            "Number of IDs"
        },
        Value::U(ids),
        body_start,
        ck_at - body_start,
    );
    let want = if phase3 { ck } else { sum4 };
    let good = want == ck;
    l.add("Checksum", Value::Check(ck, good), ck_at, 2);
    r.skip(2)?;
    l.sum_more()
        .s(if phase3 { " (Phase III)" } else { "" })
        .s(if good { "" } else { " bad checksum" });
    Some(())
}

fn router_hello(l: &mut Layer, r: &mut Rd) -> Option<()> {
    summary!(l, "RP [router hello]");
    let v = tiver(l, r)?;
    let at = r.pos;
    let id = r.arr::<6>()?;
    l.add("System ID", Value::Mac(id), at, 6);
    let src = id_addr(&id).unwrap_or(0);
    l.add("Node address", Value::Dn(src), at, 6);
    let i = iinfo(l, r)?;
    let kind = if i & 3 == 1 {
        "Level 2 hello"
    } else {
        "Level 1 hello"
    };
    l.msg = Some(kind);
    let at = r.pos;
    let bs = r.u16le()?;
    l.add("Maximum", Value::U(u64::from(bs)), at, 2);
    let at = r.pos;
    let pri = r.u8()?;
    l.add("Routing priority", Value::U(u64::from(pri)), at, 1);
    l.add("Area", Value::U(u64::from(r.u8()?)), at + 1, 1);
    let at = r.pos;
    let t = r.u16le()?;
    l.add("Hello period", Value::U(u64::from(t)), at, 2);
    l.add("MPD", Value::U(u64::from(r.u8()?)), at + 2, 1);
    l.sum()
        .s("RP [")
        .s(kind)
        .s("] src ")
        .dn(src)
        .s(" vers ")
        .u(v[0])
        .s(".")
        .u(v[1])
        .s(".")
        .u(v[2])
        .s(" blksize ")
        .u(bs)
        .s(" pri ")
        .u(pri)
        .s(" hello ")
        .u(t);
    let (eat, elist) = r.image()?;
    l.open("E-list", Value::U(elist.len() as u64), eat, elist.len() + 1);
    let mut e = Rd::new(r.frame(), eat + 1, eat + 1 + elist.len());
    let res = (|| {
        let at = e.pos;
        e.skip(7)?;
        l.add("Name", Value::Name("reserved"), at, 7);
        let (rat, rs) = e.image()?;
        l.open(
            "Router list",
            Value::U((rs.len() / 7) as u64),
            rat,
            rs.len() + 1,
        );
        let mut n = 0;
        for (k, c) in rs.chunks(7).enumerate() {
            let at = rat + 1 + k * 7;
            let Ok(id) = <[u8; 6]>::try_from(c.get(..6).unwrap_or(&[])) else {
                l.mark("truncated router list entry");
                break;
            };
            let ps = c.get(6).copied().unwrap_or(0);
            l.open("Router", Value::Dn(id_addr(&id).unwrap_or(0)), at, 7);
            l.add("Router ID", Value::Mac(id), at, 6);
            l.add(
                "Routing priority",
                Value::U(u64::from(ps & 0x7f)),
                at + 6,
                1,
            );
            l.add("Known", Value::Bool(ps & 0x80 != 0), at + 6, 1);
            l.close();
            n += 1;
        }
        l.close();
        Some(n)
    })();
    l.close();
    match res {
        Some(n) if n > 0 => {
            l.sum_more().s(" routers ").u(n as u64);
        }
        Some(_) => {}
        None if elist.is_empty() => {}
        None => l.mark("truncated E-list"),
    }
    Some(())
}

fn endnode_hello(l: &mut Layer, r: &mut Rd) -> Option<()> {
    l.msg = Some("Endnode hello");
    summary!(l, "RP [Endnode hello]");
    let v = tiver(l, r)?;
    let at = r.pos;
    let id = r.arr::<6>()?;
    l.add("System ID", Value::Mac(id), at, 6);
    let src = id_addr(&id).unwrap_or(0);
    l.add("Node address", Value::Dn(src), at, 6);
    iinfo(l, r)?;
    let at = r.pos;
    let bs = r.u16le()?;
    l.add("Maximum", Value::U(u64::from(bs)), at, 2);
    l.add("Area", Value::U(u64::from(r.u8()?)), at + 2, 1);
    let at = r.pos;
    let seed = r.take(8)?;
    if !l.quiet() {
        l.add_bytes("Verification seed", seed, at, 8);
    }
    let at = r.pos;
    let nb = r.arr::<6>()?;
    l.add("Designated router", Value::Mac(nb), at, 6);
    let at = r.pos;
    let t = r.u16le()?;
    l.add("Hello period", Value::U(u64::from(t)), at, 2);
    l.add("MPD", Value::U(u64::from(r.u8()?)), at + 2, 1);
    let (dat, data) = r.image()?;
    l.add(
        "Test data",
        Value::U(data.len() as u64),
        dat,
        data.len() + 1,
    );
    let rtr = id_addr(&nb).unwrap_or(0);
    l.sum()
        .s("RP [Endnode hello] src ")
        .dn(src)
        .s(" vers ")
        .u(v[0])
        .s(".")
        .u(v[1])
        .s(".")
        .u(v[2])
        .s(" blksize ")
        .u(bs)
        .s(" rtr ")
        .dn(rtr)
        .s(" hello ")
        .u(t)
        .s(" data ")
        .u(data.len() as u64);
    Some(())
}
