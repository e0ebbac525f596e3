//! DDCMP (Digital Data Communications Message Protocol) framing, as carried over TCP by SIMH
//! and PyDECnet's "tcp" DDCMP mode.
//!
//! Layout from *DNA DDCMP Functional Specification*, version 4.1.0 (Digital, 1978, order no.
//! AA-D599A-TC), section 5: data messages are SOH (0x81), a 14-bit count and 2 flag bits
//! (QSYNC, SELECT), RESP, NUM, ADDR and a CRC-16 of those 6 bytes, then COUNT bytes of data and
//! their CRC-16; control messages are ENQ (0x05), type, subtype/flags, RCV, SEQ, ADDR and the
//! header CRC; maintenance messages are DLE (0x90) framed like data. The CRC is CRC-16
//! (x^16+x^15+x^2+1, reflected, initial 0). The data of data messages is a routing message.

use crate::decoder::{data, Decoder};
use crate::model::{Packet, Span, Value};
use crate::rd::{lookup, Rd};

const CONTROL: &[(u64, &str)] = &[
    (1, "ACK"),
    (2, "NAK"),
    (3, "REP"),
    (6, "STRT"),
    (7, "STACK"),
];

/// CRC-16 as DDCMP uses it.
pub(crate) fn crc16(b: &[u8]) -> u16 {
    b.iter().fold(0u16, |c, &x| {
        let i = usize::from((c ^ u16::from(x)) & 0xff);
        (c >> 8) ^ CRC16.get(i).copied().unwrap_or(0)
    })
}

/// CRC-16 (reflected, polynomial 0xa001) of each byte value: one table step per byte instead
/// of eight bit steps.
const CRC16: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xa001
            } else {
                c >> 1
            };
            k += 1;
        }
        #[allow(clippy::indexing_slicing)] // i < 256, checked at compile time
        {
            t[i] = c;
        }
        i += 1;
    }
    t
};

/// True when the bytes start with a DDCMP header whose header CRC is right.
pub(crate) fn looks_like(b: &[u8]) -> bool {
    match (b.first(), b.get(..6), b.get(6), b.get(7)) {
        (Some(0x81 | 0x05 | 0x90), Some(h), Some(&c0), Some(&c1)) => {
            crc16(h) == u16::from_le_bytes([c0, c1])
        }
        _ => false,
    }
}

/// Every DDCMP message in a TCP payload. Returns where the next message starts (beyond `end`
/// when the last one continues in a later segment), or None when that is unknown.
pub(crate) fn stream(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
) -> Option<usize> {
    let mut r = Rd::new(frame, start, end);
    while r.left() > 0 {
        let at = r.pos;
        let mut l = pkt.new_layer("ddcmp", Span::at(at, 8));
        let Some(h) = r.take(8) else {
            summary!(l, "DDCMP header split across segments");
            pkt.layers.push(l);
            data(pkt, frame, at, r.end);
            return None;
        };
        let g = |i: usize| h.get(i).copied().unwrap_or(0);
        let hcrc = u16::from_le_bytes([g(6), g(7)]);
        let good = crc16(h.get(..6).unwrap_or(&[])) == hcrc;
        match g(0) {
            0x05 => {
                let name = lookup(CONTROL, u64::from(g(1)));
                l.msg = Some(name);
                l.add("Class", Value::Name("control"), at, 1);
                l.add("Type", Value::Coded(u64::from(g(1)), name), at + 1, 1);
                l.add("Flags", Value::Hex(u64::from(g(2))), at + 2, 1);
                l.add("RESP", Value::U(u64::from(g(3))), at + 3, 1);
                l.add("NUM", Value::U(u64::from(g(4))), at + 4, 1);
                l.add("Address", Value::U(u64::from(g(5))), at + 5, 1);
                l.add("Header CRC", Value::Check(hcrc, good), at + 6, 2);
                l.sum()
                    .s("DDCMP ")
                    .s(name)
                    .s(" resp ")
                    .u(g(3))
                    .s(" num ")
                    .u(g(4));
                if !good {
                    l.mark("bad DDCMP header CRC");
                }
                pkt.layers.push(l);
            }
            0x81 | 0x90 => {
                let count = usize::from(u16::from_le_bytes([g(1), g(2) & 0x3f]));
                let maint = g(0) == 0x90;
                l.msg = Some(if maint { "maintenance" } else { "data" });
                l.add(
                    "Class",
                    Value::Name(if maint { "maintenance" } else { "data" }),
                    at,
                    1,
                );
                l.add("Count", Value::U(count as u64), at + 1, 2);
                l.add("QSYNC", Value::Bool(g(2) & 0x40 != 0), at + 2, 1);
                l.add("SELECT", Value::Bool(g(2) & 0x80 != 0), at + 2, 1);
                l.add("RESP", Value::U(u64::from(g(3))), at + 3, 1);
                l.add("NUM", Value::U(u64::from(g(4))), at + 4, 1);
                l.add("Address", Value::U(u64::from(g(5))), at + 5, 1);
                l.add("Header CRC", Value::Check(hcrc, good), at + 6, 2);
                l.sum()
                    .s("DDCMP ")
                    .s(if maint { "MAINT" } else { "DATA" })
                    .s(" count ")
                    .u(count as u64)
                    .s(" resp ")
                    .u(g(3))
                    .s(" num ")
                    .u(g(4));
                if !good {
                    l.mark("bad DDCMP header CRC");
                }
                let ds = r.pos;
                let Some(body) = r.take(count) else {
                    l.summary.push_str(" (continues)");
                    pkt.layers.push(l);
                    data(pkt, frame, ds, r.end);
                    return Some(ds + count + 2);
                };
                let crc_at = r.pos;
                let dcrc = r.u16le();
                l.span = Span::at(at, r.pos - at);
                match dcrc {
                    Some(c) => {
                        let ok = crc16(body) == c;
                        l.add("Data CRC", Value::Check(c, ok), crc_at, 2);
                        if !ok {
                            l.mark("bad DDCMP data CRC");
                        }
                    }
                    None => {
                        l.summary.push_str(" (CRC in next segment)");
                        r.pos = crc_at + 2;
                    }
                }
                pkt.layers.push(l);
                if maint {
                    super::mop::decode(pkt, frame, ds, ds + count, 0x6001, false);
                } else {
                    super::routing::decode(d, pkt, frame, ds, ds + count, None);
                }
            }
            _ => {
                summary!(l, "DDCMP unknown class");
                l.mark("unknown DDCMP message class");
                pkt.layers.push(l);
                data(pkt, frame, at + 8, r.end);
                return None;
            }
        }
    }
    Some(r.pos)
}
