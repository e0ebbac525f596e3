//! The one-line form straight from the frame: [`Decoder::line_record`].
//!
//! Most frames of a DECnet capture are Ethernet, IPv4 and TCP, UDP or GRE, or Ethernet and
//! DECnet. For those the summaries of the outer layers (IPv4 and TCP, UDP or GRE; Ethernet
//! when no IP follows) are written by the same writers the layers use
//! ([`ip::ipv4_summary`], [`ip::tcp_summary`] and the options' text, [`ip::udp_summary`],
//! [`ip::gre_summary`], [`crate::link::eth_summary`]), but straight into the output line: no
//! layers for them, no summary text to copy. What they carry is decoded into the packet as
//! usual and its layers' summaries follow.
//! Anything unusual (a header the layers would mark malformed, a fragment, options that do
//! not parse, another protocol) takes the general path: decode, then [`render::line_bytes`].
//! Either way the line is byte for byte what [`render::line_into`] writes for the packet that
//! [`Decoder::decode_record_into`] makes, and the decoder's state (frame count, TCP streams,
//! NSP links) moves the same way; the tests hold both to it.

use crate::capture::Record;
use crate::decoder::{Decoder, Detail, LinkType};
use crate::fmtx::W;
use crate::model::Packet;
use crate::rd::Rd;
use crate::{ip, render};

/// Layers the IPv4 fast path writes to the line instead of the packet: Ethernet, IPv4, and
/// TCP, UDP or GRE.
const HIDDEN: usize = 3;

impl Decoder<'_> {
    /// Decodes a captured record and appends its one-line form (as [`render::line_bytes`]
    /// writes it, no newline) to `out`: the fast path for `DUMP/READ`.
    ///
    /// With [`Detail::Summaries`], Ethernet frames carrying IPv4 and TCP, UDP or GRE, or
    /// the DECnet family, have the outer summaries written straight into `out`; `pkt` then
    /// holds only the layers of what those carry (none for a bare TCP segment). Every other
    /// frame, and every frame at the other levels of detail, is decoded into `pkt` as
    /// [`Decoder::decode_record_into`] does.
    ///
    /// ```
    /// use decode::{Decoder, Detail, LinkType, Packet, Record};
    /// // Ethernet, IPv4 127.0.0.1 > 127.0.0.1, TCP 42686 > 700 with ACK, no options.
    /// let mut f = vec![0u8; 12];
    /// f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0]);
    /// f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
    /// f.extend_from_slice(&[0xa6, 0xbe, 0x02, 0xbc, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10, 0, 64]);
    /// f.extend_from_slice(&[0, 0, 0, 0]);
    /// let (link, data) = (LinkType::Ethernet, &f[..]);
    /// let rec = Record { ts_sec: 3600, ts_nsec: 5_000, orig_len: 54, link, data };
    /// let mut d = Decoder::new();
    /// d.detail = Detail::Summaries;
    /// let (mut pkt, mut out) = (Packet::default(), Vec::new());
    /// d.line_record(&mut pkt, &rec, &mut out);
    /// assert_eq!(
    ///     String::from_utf8(out).unwrap(),
    ///     "01:00:00.000005 IP 127.0.0.1 > 127.0.0.1: ttl 64 proto TCP length 40: \
    ///      TCP 42686 > 700: Flags [.], seq 1, ack 2, win 64, length 0"
    /// );
    /// ```
    pub fn line_record(&mut self, pkt: &mut Packet, rec: &Record<'_>, out: &mut Vec<u8>) {
        let mark = out.len();
        if self.detail == Detail::Summaries && rec.link == LinkType::Ethernet {
            if ip4_fast(self, pkt, rec, out) {
                return;
            }
            out.truncate(mark);
            if eth_fast(self, pkt, rec, out) {
                return;
            }
        }
        out.truncate(mark);
        self.decode_record_into(pkt, rec);
        // `render::line_bytes` with the clock's second remembered.
        crate::fmtx::push_clock_cached(out, &mut self.clock, rec.ts_sec, rec.ts_nsec);
        render::layers_bytes(pkt, out, true, None);
    }
}

/// The fast path for Ethernet and IPv4 carrying TCP, UDP or GRE: false (nothing decided, the
/// decoder untouched but for its clock cache, `out` to be cut back) when the frame is anything
/// else or anything the layers would mark.
fn ip4_fast(d: &mut Decoder, pkt: &mut Packet, rec: &Record<'_>, out: &mut Vec<u8>) -> bool {
    let f = rec.data;
    // Ethernet II carrying IPv4 (the Ethernet summary is left out of the line).
    let mut r = Rd::new(f, 12, f.len());
    if r.u16be() != Some(0x0800) {
        return false;
    }
    // IPv4 as `ip::ipv4` reads it, with none of its marks: version 4, a header of 20 bytes
    // or more, a total length that covers the header and fits the frame, not a fragment
    // (nor flagged as one), carrying TCP, UDP or GRE.
    let start = r.pos;
    let Some((ver, ihl, tot, ff, ttl, p, s, t)) = ip::ipv4_quick(&mut r) else {
        return false;
    };
    let tot = usize::from(tot);
    let pend = start + tot;
    if ver != 4 || ihl < 20 || tot < ihl || pend > r.end || ff & 0x3fff != 0 {
        return false;
    }
    let r = Rd::new(f, r.pos, pend);
    let proto = match p {
        6 => "TCP",
        17 => "UDP",
        47 => "GRE",
        _ => return false,
    };
    // The clock and the IPv4 summary first (the line is cut back if the rest turns out to
    // need the general path).
    crate::fmtx::push_clock_cached(out, &mut d.clock, rec.ts_sec, rec.ts_nsec);
    out.push(b' ');
    ip::ipv4_summary(W(Some(out)), s, t, ttl, proto, tot, ff);
    out.extend_from_slice(b": ");
    // The payload's layers go to the packet; the line's first three are in `out`.
    let payload = match p {
        6 => tcp(d, r, out),
        17 => udp(d, r, out),
        _ => gre(r, out),
    };
    let Some(payload) = payload else {
        return false;
    };
    // Decided: from here on the decoder moves as `decode_record_into` moves it.
    pkt.clear();
    pkt.set_detail(true, false);
    pkt.hidden = HIDDEN;
    d.count_frame(pkt, rec);
    d.ip_src = std::net::Ipv4Addr::from(s).to_ipv6_mapped().octets();
    d.ip_dst = std::net::Ipv4Addr::from(t).to_ipv6_mapped().octets();
    match payload {
        Payload::None => return true,
        Payload::Tcp(r, sp, dp, seq, flags) => ip::tcp_payload(d, pkt, f, r, sp, dp, seq, flags),
        Payload::Udp(r, sp, dp) => ip::udp_payload(d, pkt, f, r.pos, r.end, sp, dp),
        Payload::Gre(r, pt) => ip::gre_payload(d, pkt, f, pt, r.pos, r.end),
    }
    // IP is in the line: an Ethernet layer in what follows is left out, as there.
    render::layers_bytes(pkt, out, false, Some(true));
    true
}

/// The fast path for Ethernet II carrying the DECnet family (routing, MOP, LAT, LAVC,
/// LANbridge, loopback: types whose payload never holds IP, which would leave the Ethernet
/// summary out of the line): the Ethernet summary written straight to the line, what it
/// carries decoded into the packet. False (the decoder untouched) for any other frame.
fn eth_fast(d: &mut Decoder, pkt: &mut Packet, rec: &Record<'_>, out: &mut Vec<u8>) -> bool {
    let f = rec.data;
    let mut r = Rd::new(f, 0, f.len());
    let (Some(dst), Some(src), Some(ty)) = (r.arr::<6>(), r.arr::<6>(), r.u16be()) else {
        return false;
    };
    if !matches!(
        ty,
        0x6001 | 0x6002 | 0x6003 | 0x6004 | 0x6007 | 0x8038 | 0x9000
    ) {
        return false;
    }
    crate::fmtx::push_clock_cached(out, &mut d.clock, rec.ts_sec, rec.ts_nsec);
    out.push(b' ');
    let name = crate::rd::lookup(crate::link::ETHERTYPES, u64::from(ty));
    crate::link::eth_summary(W(Some(out)), src, dst, name, ty);
    pkt.clear();
    pkt.set_detail(true, false);
    pkt.hidden = 1;
    d.count_frame(pkt, rec);
    d.ip_src = [0; 16];
    d.ip_dst = [0; 16];
    d.ethertype(pkt, f, ty, r.pos, r.end);
    render::layers_bytes(pkt, out, false, None);
    true
}

/// What follows the summaries written straight to the line.
enum Payload<'a> {
    /// Nothing (a bare TCP segment).
    None,
    /// A TCP segment's payload (`r` over it), ports, sequence number and flags.
    Tcp(Rd<'a>, u16, u16, u32, u16),
    /// A UDP datagram's payload (`r` over it, possibly empty) and ports.
    Udp(Rd<'a>, u16, u16),
    /// What GRE carries (`r` over it) and its protocol type.
    Gre(Rd<'a>, u16),
}

/// TCP as `ip::tcp` reads it, with none of its marks: its summary written after the IPv4
/// one, what it carries returned; None when the general path must decode.
#[inline(always)]
fn tcp<'a>(d: &mut Decoder, mut r: Rd<'a>, out: &mut Vec<u8>) -> Option<Payload<'a>> {
    let (sp, dp, seq, ack, off, flags, win) = ip::tcp_quick(&mut r)?;
    if off < 20 || off - 20 > r.left() {
        return None;
    }
    ip::tcp_summary(W(Some(out)), d, sp, dp, flags, seq, ack, win);
    if off > 20 {
        let o = r.take(off - 20).unwrap_or(&[]);
        if !crate::tcpopt::tcp_options_line(o, out) {
            return None;
        }
    }
    W(Some(out)).s(", length ").u(r.left() as u64);
    Some(if r.left() == 0 {
        Payload::None
    } else {
        Payload::Tcp(r, sp, dp, seq, flags)
    })
}

/// UDP as `ip::udp` reads it, with none of its marks (see [`tcp`]).
#[inline(always)]
fn udp<'a>(d: &mut Decoder, mut r: Rd<'a>, out: &mut Vec<u8>) -> Option<Payload<'a>> {
    let start = r.pos;
    let h = r.arr::<8>()?;
    let (sp, dp) = (
        u16::from_be_bytes([h[0], h[1]]),
        u16::from_be_bytes([h[2], h[3]]),
    );
    let len = u16::from_be_bytes([h[4], h[5]]);
    let mut pend = r.end;
    if len >= 8 {
        pend = start + usize::from(len);
        if pend > r.end {
            return None;
        }
    }
    ip::udp_summary(W(Some(out)), d, sp, dp, len);
    Some(Payload::Udp(Rd::new(r.frame(), r.pos, pend), sp, dp))
}

/// GRE as `ip::gre` reads it, with none of its marks (see [`tcp`]): the optional checksum,
/// key and sequence number skipped.
#[inline(always)]
fn gre<'a>(mut r: Rd<'a>, out: &mut Vec<u8>) -> Option<Payload<'a>> {
    let fv = r.u16be()?;
    let pt = r.u16be()?;
    let opt = 4
        * (usize::from(fv & 0x8000 != 0)
            + usize::from(fv & 0x2000 != 0)
            + usize::from(fv & 0x1000 != 0));
    r.skip(opt)?;
    ip::gre_summary(W(Some(out)), pt);
    Some(Payload::Gre(r, pt))
}
