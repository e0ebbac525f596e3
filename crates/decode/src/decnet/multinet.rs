//! DECnet over IP, Multinet encapsulation (TCP and UDP, port 700 by default).
//!
//! No published specification; layout from PyDECnet's `decnet/multinet.py` and the shared
//! captures: over TCP each record is a 2-byte little-endian length and 2 zero bytes, then one
//! routing message; TCP may put several records in one segment (each is decoded) or split one
//! (the part in this segment is shown as a continuation, not an error). Over UDP a 2-byte
//! little-endian sequence number and 2 zero bytes precede one routing message per datagram.
//! Port 700 is Multinet's default; on other ports the decoder recognises the encapsulation by
//! its zero bytes and a point-to-point routing flags byte (and then follows the TCP stream).

use crate::decoder::{data, Decoder};
use crate::model::{Packet, Span, Value};
use crate::rd::Rd;

/// True when a UDP payload looks like a Multinet datagram: zero bytes 2-3 and a routing flags
/// byte of a point-to-point control message or short data packet.
pub(crate) fn looks_like_udp(b: &[u8]) -> bool {
    match (b.get(2), b.get(3), b.get(4)) {
        (Some(0), Some(0), Some(&f)) => b.len() >= 7 && ptp_flags(f),
        _ => false,
    }
}

/// Routing flags a Multinet circuit carries: point-to-point control messages and short data.
fn ptp_flags(f: u8) -> bool {
    matches!(
        f,
        0x01 | 0x03 | 0x05 | 0x07 | 0x09 | 0x02 | 0x0a | 0x12 | 0x1a
    )
}

/// True when a TCP payload is a chain of Multinet records: each a length, two zero bytes and
/// a point-to-point routing message, the chain ending at the payload's end (or inside its last
/// record).
pub(crate) fn looks_like_tcp(b: &[u8]) -> bool {
    let mut at = 0usize;
    let mut n = 0;
    while at < b.len() {
        let (Some(&l0), Some(&l1), Some(0), Some(0), Some(&f)) = (
            b.get(at),
            b.get(at + 1),
            b.get(at + 2),
            b.get(at + 3),
            b.get(at + 4),
        ) else {
            return false;
        };
        let len = usize::from(u16::from_le_bytes([l0, l1]));
        if !(3..=1600).contains(&len) || !ptp_flags(f) {
            return false;
        }
        at += 4 + len;
        n += 1;
    }
    n > 0
}

/// A UDP datagram: sequence number, then one routing message.
pub(crate) fn udp(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("multinet", Span::at(start, 4));
    let (Some(seq), Some(z)) = (r.u16le(), r.u16le()) else {
        summary!(l, "Multinet truncated");
        l.mark("truncated Multinet header");
        pkt.layers.push(l);
        return;
    };
    l.add("Sequence", Value::U(u64::from(seq)), start, 2);
    l.add("Reserved", Value::U(u64::from(z)), start + 2, 2);
    l.sum().s("Multinet UDP seq ").u(seq);
    pkt.layers.push(l);
    super::routing::decode(d, pkt, frame, r.pos, r.end, None);
}

/// A TCP segment's payload: one or more records. Returns where the next record starts
/// (beyond `end` when the last record continues in a later segment), or None when a record
/// header itself is split and the boundary is unknown.
pub(crate) fn tcp(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
) -> Option<usize> {
    let mut r = Rd::new(frame, start, end);
    while r.left() > 0 {
        let at = r.pos;
        let mut l = pkt.new_layer("multinet", Span::at(at, 4));
        if r.left() < 4 {
            summary!(l, "Multinet record header split across segments");
            l.add("Partial header", Value::U(r.left() as u64), at, r.left());
            pkt.layers.push(l);
            return None;
        }
        let (Some(len), Some(z)) = (r.u16le(), r.u16le()) else {
            return None;
        };
        l.add("Length", Value::U(u64::from(len)), at, 2);
        l.add("Reserved", Value::U(u64::from(z)), at + 2, 2);
        let len = usize::from(len);
        if len > r.left() {
            l.sum()
                .s("Multinet record length ")
                .u(len as u64)
                .s(", ")
                .u(r.left() as u64)
                .s(" bytes here (continues)");
            pkt.layers.push(l);
            let next = r.pos + len;
            data(pkt, frame, r.pos, r.end);
            return Some(next);
        }
        l.sum().s("Multinet TCP length ").u(len as u64);
        pkt.layers.push(l);
        let mend = r.pos + len;
        super::routing::decode(d, pkt, frame, r.pos, mend, None);
        r.pos = mend;
    }
    Some(r.pos)
}
