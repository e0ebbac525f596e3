//! The IP family: IPv4 (RFC 791), IPv6 with extension headers (RFC 8200), ICMP (RFC 792),
//! ICMPv6 (RFC 4443, RFC 4861), UDP (RFC 768), TCP with options (RFC 9293, RFC 7323, RFC 2018),
//! GRE (RFC 2784, RFC 2890). Ports are named from the services database when one is given.

use servicedb::Protocol;

use crate::decoder::{data, Decoder};
use crate::fmtx::W;
use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{lookup, Rd};

const IP_PROTOS: &[(u64, &str)] = &[
    (0, "HOPOPT"),
    (1, "ICMP"),
    (2, "IGMP"),
    (4, "IPv4"),
    (6, "TCP"),
    (17, "UDP"),
    (41, "IPv6"),
    (43, "IPv6-Route"),
    (44, "IPv6-Frag"),
    (47, "GRE"),
    (50, "ESP"),
    (51, "AH"),
    (58, "ICMPv6"),
    (59, "IPv6-NoNxt"),
    (60, "IPv6-Opts"),
    (89, "OSPF"),
    (132, "SCTP"),
];

/// IPv4 or IPv6 by the version nibble.
pub(crate) fn ip_any(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    match frame.get(start).map(|b| b >> 4) {
        Some(6) => ipv6(d, pkt, frame, start, end),
        _ => ipv4(d, pkt, frame, start, end),
    }
}

/// IPv4 header, options shown as bytes; the payload goes to its protocol unless a later fragment.
pub(crate) fn ipv4(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("ip", Span::at(start, r.left()));
    // A layer that keeps no fields reads the header in one piece; the same values, the same
    // truncation, none of the per-field work.
    let hdr = if l.quiet() {
        ipv4_quick(&mut r)
    } else {
        ipv4_fields(&mut l, &mut r, start)
    };
    let Some((ver, ihl, tot, ff, ttl, p, s, t)) = hdr else {
        l.mark("truncated IPv4 header");
        summary!(l, "IP truncated");
        pkt.layers.push(l);
        return;
    };
    if ver != 4 || ihl < 20 {
        l.mark("bad IPv4 version or header length");
    }
    let frag = ff & 0x1fff != 0;
    let tot = usize::from(tot);
    let mut pend = start.saturating_add(tot).min(r.end);
    if tot < ihl || start.saturating_add(tot) > r.end {
        if start.saturating_add(tot) > r.end {
            l.mark("IPv4 total length exceeds frame");
        }
        pend = r.end;
    }
    d.ip_src = std::net::Ipv4Addr::from(s).to_ipv6_mapped().octets();
    d.ip_dst = std::net::Ipv4Addr::from(t).to_ipv6_mapped().octets();
    ipv4_summary(l.sum(), s, t, ttl, lookup(IP_PROTOS, u64::from(p)), tot, ff);
    l.span = Span::at(start, pend.saturating_sub(start));
    pkt.layers.push(l);
    if frag {
        data(pkt, frame, r.pos, pend);
    } else {
        ip_payload(d, pkt, frame, p, r.pos, pend, false);
    }
}

/// The IPv4 summary (`IP 10.0.0.1 > 10.0.0.2: ttl 64 proto TCP length 52`), `proto` the
/// protocol's name: shared by the layer and the one-line fast path ([`crate::line`]).
#[inline]
pub(crate) fn ipv4_summary(
    w: W<'_>,
    s: [u8; 4],
    t: [u8; 4],
    ttl: u8,
    proto: &str,
    tot: usize,
    ff: u16,
) {
    let w = w
        .s("IP ")
        .ip4(s)
        .s(" > ")
        .ip4(t)
        .s(": ttl ")
        .u(ttl)
        .s(" proto ")
        .s(proto)
        .s(" length ")
        .u(tot as u64);
    if ff & 0x3fff != 0 {
        w.s(" frag ")
            .u((ff & 0x1fff) * 8)
            .s(if ff & 0x2000 != 0 { "+" } else { "" });
    }
}

/// The fixed IPv4 header's values: (version, header length, total length, flags and
/// fragment offset, TTL, protocol, source, destination).
pub(crate) type Ip4Hdr = (u8, usize, u16, u16, u8, u8, [u8; 4], [u8; 4]);

/// The IPv4 header with every field kept.
fn ipv4_fields(l: &mut Layer, r: &mut Rd, start: usize) -> Option<Ip4Hdr> {
    if r.left() >= 20 {
        // The whole fixed header is there: its fields in one piece (the same fields as the
        // reads below, which stop where a truncated header ends).
        let h = r.arr::<20>()?;
        let b = |i: usize| h.get(i).copied().unwrap_or(0);
        let w16 = |i: usize| u16::from_be_bytes([b(i), b(i + 1)]);
        let (vi, tos, tot, ff, ttl, p) = (b(0), b(1), w16(2), w16(6), b(8), b(9));
        let ihl = usize::from(vi & 0x0f) * 4;
        let s = [b(12), b(13), b(14), b(15)];
        let t = [b(16), b(17), b(18), b(19)];
        let f = [
            l.make("Version", Value::U(u64::from(vi >> 4)), start, 1),
            l.make("Header length", Value::U(ihl as u64), start, 1),
            l.make("DSCP", Value::U(u64::from(tos >> 2)), start + 1, 1),
            l.make("ECN", Value::U(u64::from(tos & 3)), start + 1, 1),
            l.make("Total length", Value::U(u64::from(tot)), start + 2, 2),
            l.make(
                "Identification",
                Value::Hex(u64::from(w16(4))),
                start + 4,
                2,
            ),
            l.make(
                "Don't fragment",
                Value::Bool(ff & 0x4000 != 0),
                start + 6,
                1,
            ),
            l.make(
                "More fragments",
                Value::Bool(ff & 0x2000 != 0),
                start + 6,
                1,
            ),
            l.make(
                "Fragment offset",
                Value::U(u64::from(ff & 0x1fff) * 8),
                start + 6,
                2,
            ),
            l.make("TTL", Value::U(u64::from(ttl)), start + 8, 1),
            l.make(
                "Protocol",
                Value::Coded(u64::from(p), lookup(IP_PROTOS, u64::from(p))),
                start + 9,
                1,
            ),
            l.make("Checksum", Value::Hex(u64::from(w16(10))), start + 10, 2),
            l.make("Source", Value::Ip4(s), start + 12, 4),
            l.make("Destination", Value::Ip4(t), start + 16, 4),
        ];
        l.add_all(f);
        if ihl > 20 {
            let at = r.pos;
            let o = r.take(ihl - 20)?;
            l.add_bytes("Options", o, at, o.len());
        }
        return Some((vi >> 4, ihl, tot, ff, ttl, p, s, t));
    }
    let vi = r.u8()?;
    let ihl = usize::from(vi & 0x0f) * 4;
    l.add("Version", Value::U(u64::from(vi >> 4)), start, 1);
    l.add("Header length", Value::U(ihl as u64), start, 1);
    let tos = r.u8()?;
    l.add("DSCP", Value::U(u64::from(tos >> 2)), start + 1, 1);
    l.add("ECN", Value::U(u64::from(tos & 3)), start + 1, 1);
    let tot = r.u16be()?;
    l.add("Total length", Value::U(u64::from(tot)), start + 2, 2);
    let id = r.u16be()?;
    l.add("Identification", Value::Hex(u64::from(id)), start + 4, 2);
    let ff = r.u16be()?;
    l.add(
        "Don't fragment",
        Value::Bool(ff & 0x4000 != 0),
        start + 6,
        1,
    );
    l.add(
        "More fragments",
        Value::Bool(ff & 0x2000 != 0),
        start + 6,
        1,
    );
    l.add(
        "Fragment offset",
        Value::U(u64::from(ff & 0x1fff) * 8),
        start + 6,
        2,
    );
    let ttl = r.u8()?;
    l.add("TTL", Value::U(u64::from(ttl)), start + 8, 1);
    let p = r.u8()?;
    l.add(
        "Protocol",
        Value::Coded(u64::from(p), lookup(IP_PROTOS, u64::from(p))),
        start + 9,
        1,
    );
    let ck = r.u16be()?;
    l.add("Checksum", Value::Hex(u64::from(ck)), start + 10, 2);
    let s = r.arr::<4>()?;
    l.add("Source", Value::Ip4(s), start + 12, 4);
    let t = r.arr::<4>()?;
    l.add("Destination", Value::Ip4(t), start + 16, 4);
    if ihl > 20 {
        let at = r.pos;
        let o = r.take(ihl - 20)?;
        l.add_bytes("Options", o, at, o.len());
    }
    Some((vi >> 4, ihl, tot, ff, ttl, p, s, t))
}

/// The IPv4 header's values alone (a layer that keeps no fields).
#[inline]
pub(crate) fn ipv4_quick(r: &mut Rd) -> Option<Ip4Hdr> {
    let h = r.arr::<20>()?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl > 20 {
        r.take(ihl - 20)?;
    }
    Some((
        h[0] >> 4,
        ihl,
        u16::from_be_bytes([h[2], h[3]]),
        u16::from_be_bytes([h[6], h[7]]),
        h[8],
        h[9],
        [h[12], h[13], h[14], h[15]],
        [h[16], h[17], h[18], h[19]],
    ))
}

fn ip_payload(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    p: u8,
    start: usize,
    end: usize,
    v6: bool,
) {
    if crate::decoder::too_deep(pkt, frame, start, end) {
        return;
    }
    match p {
        1 if !v6 => icmp(pkt, frame, start, end, false),
        58 => icmp(pkt, frame, start, end, true),
        6 => tcp(d, pkt, frame, start, end),
        17 => udp(d, pkt, frame, start, end),
        47 => gre(d, pkt, frame, start, end),
        4 => ipv4(d, pkt, frame, start, end),
        41 => ipv6(d, pkt, frame, start, end),
        _ => data(pkt, frame, start, end),
    }
}

/// IPv6 and its extension headers (hop-by-hop, routing, fragment, destination options, AH).
pub(crate) fn ipv6(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("ip6", Span::at(start, r.left()));
    let hdr = (|| {
        let w = r.u32be()?;
        l.add("Version", Value::U(u64::from(w >> 28)), start, 1);
        l.add(
            "Traffic class",
            Value::Hex(u64::from((w >> 20) & 0xff)),
            start,
            2,
        );
        l.add(
            "Flow label",
            Value::Hex(u64::from(w & 0xfffff)),
            start + 1,
            3,
        );
        let plen = r.u16be()?;
        l.add("Payload length", Value::U(u64::from(plen)), start + 4, 2);
        let nh = r.u8()?;
        l.add(
            "Next header",
            Value::Coded(u64::from(nh), lookup(IP_PROTOS, u64::from(nh))),
            start + 6,
            1,
        );
        let hl = r.u8()?;
        l.add("Hop limit", Value::U(u64::from(hl)), start + 7, 1);
        let s = r.arr::<16>()?;
        l.add("Source", Value::Ip6(s), start + 8, 16);
        let t = r.arr::<16>()?;
        l.add("Destination", Value::Ip6(t), start + 24, 16);
        Some((w >> 28, plen, nh, hl, s, t))
    })();
    let Some((ver, plen, mut nh, hl, s, t)) = hdr else {
        l.mark("truncated IPv6 header");
        summary!(l, "IP6 truncated");
        pkt.layers.push(l);
        return;
    };
    if ver != 6 {
        l.mark("bad IPv6 version");
    }
    let want = r.pos.saturating_add(usize::from(plen));
    let pend = if plen == 0 { r.end } else { want.min(r.end) };
    if want > r.end && plen != 0 {
        l.mark("IPv6 payload length exceeds frame");
    }
    r = Rd::new(frame, r.pos, pend);
    let mut frag_later = false;
    loop {
        let at = r.pos;
        let (name, len) = match nh {
            0 | 43 | 60 | 135 => {
                let Some(x) = r.peek(1) else { break };
                (lookup(IP_PROTOS, u64::from(nh)), (usize::from(x) + 1) * 8)
            }
            44 => ("Fragment", 8),
            51 => {
                let Some(x) = r.peek(1) else { break };
                ("AH", (usize::from(x) + 2) * 4)
            }
            _ => break,
        };
        let Some(next) = r.peek(0) else { break };
        let Some(body) = r.take(len) else {
            l.mark("truncated IPv6 extension header");
            break;
        };
        l.open(name, Value::Coded(u64::from(nh), name), at, len);
        l.add(
            "Next header",
            Value::Coded(u64::from(next), lookup(IP_PROTOS, u64::from(next))),
            at,
            1,
        );
        if nh == 44 {
            let off = u16::from_be_bytes([
                body.get(2).copied().unwrap_or(0),
                body.get(3).copied().unwrap_or(0),
            ]);
            l.add(
                "Fragment offset",
                Value::U(u64::from(off & 0xfff8)),
                at + 2,
                2,
            );
            l.add("More fragments", Value::Bool(off & 1 != 0), at + 3, 1);
            if off & 0xfff8 != 0 {
                frag_later = true;
            }
        }
        l.close();
        nh = next;
    }
    d.ip_src = s;
    d.ip_dst = t;
    let (s, t) = (std::net::Ipv6Addr::from(s), std::net::Ipv6Addr::from(t));
    summary!(
        l,
        "IP6 {s} > {t}: hlim {hl} next-header {} payload length {plen}",
        lookup(IP_PROTOS, u64::from(nh))
    );
    pkt.layers.push(l);
    if frag_later || nh == 59 {
        data(pkt, frame, r.pos, pend);
    } else {
        ip_payload(d, pkt, frame, nh, r.pos, pend, true);
    }
}

const ICMP_TYPES: &[(u64, &str)] = &[
    (0, "echo reply"),
    (3, "destination unreachable"),
    (4, "source quench"),
    (5, "redirect"),
    (8, "echo request"),
    (9, "router advertisement"),
    (10, "router solicitation"),
    (11, "time exceeded"),
    (12, "parameter problem"),
    (13, "timestamp request"),
    (14, "timestamp reply"),
];

const ICMP6_TYPES: &[(u64, &str)] = &[
    (1, "destination unreachable"),
    (2, "packet too big"),
    (3, "time exceeded"),
    (4, "parameter problem"),
    (128, "echo request"),
    (129, "echo reply"),
    (130, "multicast listener query"),
    (131, "multicast listener report"),
    (132, "multicast listener done"),
    (133, "router solicitation"),
    (134, "router advertisement"),
    (135, "neighbor solicitation"),
    (136, "neighbor advertisement"),
    (137, "redirect"),
    (143, "multicast listener report v2"),
];

/// ICMP or ICMPv6.
pub(crate) fn icmp(pkt: &mut Packet, frame: &[u8], start: usize, end: usize, v6: bool) {
    let mut r = Rd::new(frame, start, end);
    let proto = if v6 { "icmp6" } else { "icmp" };
    let mut l = pkt.new_layer(proto, Span::at(start, r.left()));
    let ok = (|| {
        let ty = r.u8()?;
        let name = lookup(if v6 { ICMP6_TYPES } else { ICMP_TYPES }, u64::from(ty));
        l.msg = Some(name);
        l.add("Type", Value::Coded(u64::from(ty), name), start, 1);
        let code = r.u8()?;
        l.add("Code", Value::U(u64::from(code)), start + 1, 1);
        let ck = r.u16be()?;
        l.add("Checksum", Value::Hex(u64::from(ck)), start + 2, 2);
        l.sum().s(if v6 { "ICMP6 " } else { "ICMP " }).s(name);
        let echo = if v6 {
            ty == 128 || ty == 129
        } else {
            ty == 0 || ty == 8
        };
        if echo {
            let id = r.u16be()?;
            l.add("Identifier", Value::U(u64::from(id)), start + 4, 2);
            let seq = r.u16be()?;
            l.add("Sequence", Value::U(u64::from(seq)), start + 6, 2);
            l.sum_more().s(", id ").u(id).s(", seq ").u(seq);
        } else if v6 && (ty == 135 || ty == 136 || ty == 137) {
            r.skip(4)?;
            let t = r.arr::<16>()?;
            l.add("Target", Value::Ip6(t), start + 8, 16);
            l.summary
                .push_str(&format!(" {}", std::net::Ipv6Addr::from(t)));
        } else if v6 && ty == 2 {
            let mtu = r.u32be()?;
            l.add("MTU", Value::U(u64::from(mtu)), start + 4, 4);
        }
        if r.left() > 0 {
            let at = r.pos;
            l.add("Data", Value::U(r.left() as u64), at, r.left());
        }
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated ICMP");
        if l.summary.is_empty() {
            summary!(l, "{} truncated", proto.to_uppercase());
        }
    }
    pkt.layers.push(l);
}

/// Appends a port: its name from the services database, else its number.
#[inline]
fn port_text<'a>(
    w: crate::fmtx::W<'a>,
    d: &Decoder<'_>,
    port: u16,
    p: Protocol,
) -> crate::fmtx::W<'a> {
    if let Some(db) = d.services() {
        if let Some(n) = db.name_by_port(port, p) {
            return w.s(n);
        }
    }
    w.u(port)
}

/// UDP; payload to Multinet when on a Multinet port (or recognised by its header).
pub(crate) fn udp(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("udp", Span::at(start, r.left()));
    let hdr = (|| {
        let sp = r.u16be()?;
        l.add("Source port", Value::U(u64::from(sp)), start, 2);
        let dp = r.u16be()?;
        l.add("Destination port", Value::U(u64::from(dp)), start + 2, 2);
        let len = r.u16be()?;
        l.add("Length", Value::U(u64::from(len)), start + 4, 2);
        let ck = r.u16be()?;
        l.add("Checksum", Value::Hex(u64::from(ck)), start + 6, 2);
        Some((sp, dp, len))
    })();
    let Some((sp, dp, len)) = hdr else {
        l.mark("truncated UDP header");
        summary!(l, "UDP truncated");
        pkt.layers.push(l);
        return;
    };
    let mut pend = r.end;
    if usize::from(len) >= 8 {
        let want = start + usize::from(len);
        if want > r.end {
            l.mark("UDP length exceeds IP payload");
        } else {
            pend = want;
        }
    }
    udp_summary(l.sum(), d, sp, dp, len);
    l.span = Span::at(start, pend.saturating_sub(start));
    pkt.layers.push(l);
    udp_payload(d, pkt, frame, r.pos, pend, sp, dp);
}

/// The UDP summary (`UDP 700 > 700, length 12`): shared by the layer and the one-line fast
/// path ([`crate::line`]).
#[inline]
pub(crate) fn udp_summary(w: W<'_>, d: &Decoder<'_>, sp: u16, dp: u16, len: u16) {
    let w = port_text(w.s("UDP "), d, sp, Protocol::Udp).s(" > ");
    port_text(w, d, dp, Protocol::Udp)
        .s(", length ")
        .u(len.saturating_sub(8));
}

/// What a UDP datagram carries at `frame[start..end]`: Multinet (by port or header), else data.
pub(crate) fn udp_payload(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    pend: usize,
    sp: u16,
    dp: u16,
) {
    let body = frame.get(start..pend).unwrap_or(&[]);
    if d.multinet_ports.contains(&sp)
        || d.multinet_ports.contains(&dp)
        || (d.heuristics && crate::decnet::multinet::looks_like_udp(body))
    {
        crate::decnet::multinet::udp(d, pkt, frame, start, pend);
    } else {
        data(pkt, frame, start, pend);
    }
}

pub(crate) const TCP_FLAGS: &[(u16, char, &str)] = &[
    (0x02, 'S', "SYN"),
    (0x01, 'F', "FIN"),
    (0x04, 'R', "RST"),
    (0x08, 'P', "PSH"),
    (0x10, '.', "ACK"),
    (0x20, 'U', "URG"),
    (0x40, 'E', "ECE"),
    (0x80, 'W', "CWR"),
];

/// The fixed TCP header's values: (source port, destination port, sequence, acknowledgment,
/// header length, flags, window).
pub(crate) type TcpHdr = (u16, u16, u32, u32, usize, u16, u16);

/// The fixed TCP header with every field kept.
fn tcp_fields(l: &mut Layer, r: &mut Rd, start: usize) -> Option<TcpHdr> {
    if r.left() >= 20 {
        // The whole fixed header is there: its fields in one piece (the same fields as the
        // reads below, which stop where a truncated header ends).
        let h = r.arr::<20>()?;
        let b = |i: usize| h.get(i).copied().unwrap_or(0);
        let w16 = |i: usize| u16::from_be_bytes([b(i), b(i + 1)]);
        let w32 = |i: usize| u32::from_be_bytes([b(i), b(i + 1), b(i + 2), b(i + 3)]);
        let (sp, dp, seq, ack, of) = (w16(0), w16(2), w32(4), w32(8), w16(12));
        let off = usize::from(of >> 12) * 4;
        let flags = of & 0x1ff;
        let win = w16(14);
        let f = [
            l.make("Source port", Value::U(u64::from(sp)), start, 2),
            l.make("Destination port", Value::U(u64::from(dp)), start + 2, 2),
            l.make("Sequence number", Value::U(u64::from(seq)), start + 4, 4),
            l.make(
                "Acknowledgment number",
                Value::U(u64::from(ack)),
                start + 8,
                4,
            ),
            l.make("Header length", Value::U(off as u64), start + 12, 1),
            l.make("Flags", Value::TcpFlags(flags), start + 12, 2),
            l.make("Window", Value::U(u64::from(win)), start + 14, 2),
            l.make("Checksum", Value::Hex(u64::from(w16(16))), start + 16, 2),
            l.make(
                "Urgent pointer",
                Value::U(u64::from(w16(18))),
                start + 18,
                2,
            ),
        ];
        l.add_all(f);
        return Some((sp, dp, seq, ack, off, flags, win));
    }
    let sp = r.u16be()?;
    l.add("Source port", Value::U(u64::from(sp)), start, 2);
    let dp = r.u16be()?;
    l.add("Destination port", Value::U(u64::from(dp)), start + 2, 2);
    let seq = r.u32be()?;
    l.add("Sequence number", Value::U(u64::from(seq)), start + 4, 4);
    let ack = r.u32be()?;
    l.add(
        "Acknowledgment number",
        Value::U(u64::from(ack)),
        start + 8,
        4,
    );
    let of = r.u16be()?;
    let off = usize::from(of >> 12) * 4;
    l.add("Header length", Value::U(off as u64), start + 12, 1);
    let flags = of & 0x1ff;
    if !l.quiet() {
        l.add("Flags", Value::TcpFlags(flags), start + 12, 2);
    }
    let win = r.u16be()?;
    l.add("Window", Value::U(u64::from(win)), start + 14, 2);
    let ck = r.u16be()?;
    l.add("Checksum", Value::Hex(u64::from(ck)), start + 16, 2);
    let urg = r.u16be()?;
    l.add("Urgent pointer", Value::U(u64::from(urg)), start + 18, 2);
    Some((sp, dp, seq, ack, off, flags, win))
}

/// The fixed TCP header's values alone (a layer that keeps no fields).
#[inline]
pub(crate) fn tcp_quick(r: &mut Rd) -> Option<TcpHdr> {
    let h = r.arr::<20>()?;
    let of = u16::from_be_bytes([h[12], h[13]]);
    Some((
        u16::from_be_bytes([h[0], h[1]]),
        u16::from_be_bytes([h[2], h[3]]),
        u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
        usize::from(of >> 12) * 4,
        of & 0x1ff,
        u16::from_be_bytes([h[14], h[15]]),
    ))
}

/// The summary letters of each combination of the eight flags of [`TCP_FLAGS`] (in its
/// order), and how many there are: built at compile time, one lookup per segment.
// Built at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const FLAG_LETTERS: [([u8; 8], usize); 256] = {
    let mut t = [([0u8; 8], 0usize); 256];
    let mut v = 0;
    while v < 256 {
        let mut k = 0;
        let mut n = 0;
        while k < TCP_FLAGS.len() {
            let (m, c, _) = TCP_FLAGS[k];
            if v as u16 & m != 0 {
                t[v].0[n] = c as u8;
                n += 1;
            }
            k += 1;
        }
        t[v].1 = n;
        v += 1;
    }
    t
};

/// The TCP summary up to the options (`TCP 1024 > 700: Flags [P.], seq 1, ack 2, win 64`):
/// shared by the layer and the one-line fast path ([`crate::line`]).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn tcp_summary<'a>(
    w: W<'a>,
    d: &Decoder<'_>,
    sp: u16,
    dp: u16,
    flags: u16,
    seq: u32,
    ack: u32,
    win: u16,
) -> W<'a> {
    let (f, nf) = FLAG_LETTERS
        .get(usize::from(flags & 0xff))
        .copied()
        .unwrap_or(([0; 8], 0));
    let w = port_text(w.s("TCP "), d, sp, Protocol::Tcp).s(" > ");
    let w = port_text(w, d, dp, Protocol::Tcp)
        .s(": Flags [")
        .ascii(f.get(..nf).unwrap_or(&[]))
        .s("], seq ")
        .u(seq);
    let w = if flags & 0x10 != 0 {
        w.s(", ack ").u(ack)
    } else {
        w
    };
    w.s(", win ").u(win)
}

/// TCP with its options; payload to Multinet (port 700) or DDCMP (recognised by header CRC).
pub(crate) fn tcp(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("tcp", Span::at(start, r.left()));
    let hdr = if l.quiet() {
        tcp_quick(&mut r)
    } else {
        tcp_fields(&mut l, &mut r, start)
    };
    let Some((sp, dp, seq, ack, off, flags, win)) = hdr else {
        l.mark("truncated TCP header");
        summary!(l, "TCP truncated");
        pkt.layers.push(l);
        return;
    };
    if off < 20 {
        l.mark("bad TCP header length");
    }
    // The summary up to the options, which append to it as they decode.
    tcp_summary(l.sum(), d, sp, dp, flags, seq, ack, win);
    if off > 20 {
        let at = r.pos;
        match r.take(off - 20) {
            Some(o) => {
                l.open("Options", Value::None, at, o.len());
                crate::tcpopt::tcp_options(&mut l, o, at);
                l.close();
            }
            None => l.mark("truncated TCP options"),
        }
    }
    let plen = r.left();
    l.sum_more().s(", length ").u(plen as u64);
    pkt.layers.push(l);
    if plen == 0 {
        return;
    }
    tcp_payload(d, pkt, frame, r, sp, dp, seq, flags);
}

/// What a TCP segment carries (`r` over its payload, not empty): Multinet records or DDCMP
/// messages by port, by what the stream carried before, or by their headers; else data. The
/// stream's state follows (where its next record starts).
#[allow(clippy::too_many_arguments)]
pub(crate) fn tcp_payload(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    r: Rd<'_>,
    sp: u16,
    dp: u16,
    seq: u32,
    flags: u16,
) {
    let plen = r.left();
    let body = r.rest();
    let key = stream_key(d, sp, dp);
    if flags & 0x07 != 0 {
        // SYN, FIN or RST: a stream starts or ends here.
        d.streams.remove(&key);
    }
    let known = d.streams.get(&key).copied();
    let multinet = if d.multinet_ports.contains(&sp) || d.multinet_ports.contains(&dp) {
        Some(true)
    } else if let Some(s) = known {
        Some(s.multinet)
    } else if d.heuristics && crate::decnet::ddcmp::looks_like(body) {
        Some(false)
    } else if d.heuristics && crate::decnet::multinet::looks_like_tcp(body) {
        Some(true)
    } else {
        None
    };
    let Some(multinet) = multinet else {
        data(pkt, frame, r.pos, r.end);
        return;
    };
    // Skip the tail of a record begun in an earlier segment.
    let mut at = r.pos;
    if let Some(s) = known.filter(|s| s.multinet == multinet) {
        let delta = s.next.wrapping_sub(seq) as usize;
        if delta > 0 && delta < 0x8000_0000 {
            let n = delta.min(plen);
            let mut c = pkt.new_layer("data", Span::at(at, n));
            c.sum()
                .s("continuation of a ")
                .s(if multinet {
                    "Multinet record"
                } else {
                    "DDCMP message"
                })
                .s(" begun in an earlier segment, ")
                .u(n as u64)
                .s(" bytes");
            c.add("Continuation", Value::U(n as u64), at, n);
            pkt.layers.push(c);
            at += n;
            if delta >= plen {
                return;
            }
        }
    }
    let next = if multinet {
        crate::decnet::multinet::tcp(d, pkt, frame, at, r.end)
    } else {
        crate::decnet::ddcmp::stream(d, pkt, frame, at, r.end)
    };
    if d.streams.len() > 10_000 {
        d.streams.clear();
    }
    match next {
        Some(n) => {
            let off = u32::try_from(n - r.pos).unwrap_or(0);
            d.streams.insert(
                key,
                crate::decoder::Stream {
                    multinet,
                    next: seq.wrapping_add(off),
                },
            );
        }
        None => {
            d.streams.remove(&key);
        }
    }
}

/// The TCP connection of the segment being decoded, from the innermost IP header's addresses.
fn stream_key(d: &Decoder, sp: u16, dp: u16) -> crate::decoder::StreamKey {
    (d.ip_src, d.ip_dst, sp, dp)
}

/// GRE (RFC 2784 with the RFC 2890 key and sequence); protocol 0x6003 carries DECnet routing
/// with its 2-byte length prefix as on Ethernet (PyDECnet's "Ethernet over GRE" circuit).
pub(crate) fn gre(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("gre", Span::at(start, r.left()));
    let hdr = (|| {
        let fv = r.u16be()?;
        l.add("Flags and version", Value::Hex(u64::from(fv)), start, 2);
        let pt = r.u16be()?;
        l.add(
            "Protocol type",
            Value::HexCoded(
                u64::from(pt),
                lookup(crate::link::ETHERTYPES, u64::from(pt)),
            ),
            start + 2,
            2,
        );
        if fv & 0x8000 != 0 {
            let at = r.pos;
            let c = r.u16be()?;
            r.skip(2)?;
            l.add("Checksum", Value::Hex(u64::from(c)), at, 2);
        }
        if fv & 0x2000 != 0 {
            let at = r.pos;
            l.add("Key", Value::Hex(u64::from(r.u32be()?)), at, 4);
        }
        if fv & 0x1000 != 0 {
            let at = r.pos;
            l.add("Sequence number", Value::U(u64::from(r.u32be()?)), at, 4);
        }
        Some(pt)
    })();
    let Some(pt) = hdr else {
        l.mark("truncated GRE header");
        summary!(l, "GRE truncated");
        pkt.layers.push(l);
        return;
    };
    gre_summary(l.sum(), pt);
    pkt.layers.push(l);
    gre_payload(d, pkt, frame, pt, r.pos, r.end);
}

/// The GRE summary (`GRE proto DECnet Phase IV (0x6003)`): shared by the layer and the
/// one-line fast path ([`crate::line`]).
pub(crate) fn gre_summary(w: W<'_>, pt: u16) {
    w.s("GRE proto ")
        .s(lookup(crate::link::ETHERTYPES, u64::from(pt)))
        .s(" (0x")
        .x(pt, 4)
        .s(")");
}

/// What GRE carries at `frame[start..end]`: Ethernet (transparent bridging) or what the
/// protocol type names.
pub(crate) fn gre_payload(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    pt: u16,
    start: usize,
    end: usize,
) {
    if pt == 0x6558 {
        crate::link::ethernet(d, pkt, frame, start, end);
    } else {
        d.ethertype(pkt, frame, pt, start, end);
    }
}
