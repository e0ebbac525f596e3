//! Link layers: Ethernet II, IEEE 802.3 with 802.2 LLC and SNAP, 802.1Q, ARP/RARP, Linux
//! cooked captures, BSD null.
//!
//! Sources: IEEE 802.3 clause 3 (frame format), IEEE 802.2 (LLC), RFC 1042 (SNAP), IEEE 802.1Q,
//! RFC 826 (ARP), RFC 903 (RARP), tcpdump.org LINKTYPE_LINUX_SLL and LINKTYPE_NULL.

use crate::decoder::{data, Decoder};
use crate::fmtx::W;
use crate::model::{Packet, Span, Text, Value};
use crate::rd::{lookup, Rd};

/// Ethernet type names.
pub(crate) const ETHERTYPES: &[(u64, &str)] = &[
    (0x0800, "IPv4"),
    (0x0806, "ARP"),
    (0x8035, "RARP"),
    (0x86dd, "IPv6"),
    (0x8100, "802.1Q"),
    (0x6001, "MOP Dump/Load"),
    (0x6002, "MOP Remote Console"),
    (0x6003, "DECnet Phase IV"),
    (0x6004, "LAT"),
    (0x6005, "DEC Diagnostics"),
    (0x6006, "DEC Customer"),
    (0x6007, "LAVC"),
    (0x8038, "DEC LANbridge"),
    (0x9000, "Loopback"),
];

fn mac(r: &mut Rd) -> Option<[u8; 6]> {
    r.arr::<6>()
}

/// Ethernet II or 802.3 at `frame[start..end]`.
pub(crate) fn ethernet(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("eth", Span::at(start, r.left()));
    let (Some(dst), Some(src), Some(ty)) = (mac(&mut r), mac(&mut r), r.u16be()) else {
        summary!(l, "truncated Ethernet header");
        l.mark("truncated Ethernet header");
        pkt.layers.push(l);
        return;
    };
    l.add("Destination", Value::Mac(dst), start, 6);
    l.add("Source", Value::Mac(src), start + 6, 6);
    if ty >= 0x0600 {
        // The one-line form leaves the Ethernet header out when IP follows (and IP always
        // adds its layer), so with summaries only there is nothing to write or look up.
        let ip_quiet = l.quiet() && matches!(ty, 0x0800 | 0x86dd);
        let name = if ip_quiet {
            ""
        } else {
            lookup(ETHERTYPES, u64::from(ty))
        };
        l.add("Type", Value::HexCoded(u64::from(ty), name), start + 12, 2);
        if !ip_quiet {
            eth_summary(l.sum(), src, dst, name, ty);
        }
        pkt.layers.push(l);
        d.ethertype(pkt, frame, ty, start + 14, r.end);
    } else {
        l.add("Length", Value::U(u64::from(ty)), start + 12, 2);
        l.sum()
            .mac(src)
            .s(" > ")
            .mac(dst)
            .s(", 802.3 length ")
            .u(ty);
        let avail = r.left();
        let body_end = r.pos + usize::from(ty).min(avail);
        if usize::from(ty) > avail {
            l.mark("802.3 length exceeds frame");
        }
        pkt.layers.push(l);
        llc(d, pkt, frame, start + 14, body_end);
    }
}

/// The Ethernet II summary (`aa:00:04:00:01:04 > ab:00:00:03:00:00, ethertype DECnet
/// (0x6003)`), `name` the type's: shared by the layer and the one-line fast path
/// ([`crate::line`]).
#[inline]
pub(crate) fn eth_summary(w: W<'_>, src: [u8; 6], dst: [u8; 6], name: &str, ty: u16) {
    w.mac(src)
        .s(" > ")
        .mac(dst)
        .s(", ethertype ")
        .s(name)
        .s(" (0x")
        .x(ty, 4)
        .s(")");
}

/// IEEE 802.2 LLC (and SNAP) at `frame[start..end]`.
pub(crate) fn llc(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("llc", Span::at(start, r.left()));
    let (Some(dsap), Some(ssap), Some(c0)) = (r.u8(), r.u8(), r.u8()) else {
        l.mark("truncated LLC header");
        summary!(l, "LLC truncated");
        pkt.layers.push(l);
        return;
    };
    l.add("DSAP", Value::Hex(u64::from(dsap)), start, 1);
    l.add("SSAP", Value::Hex(u64::from(ssap)), start + 1, 1);
    let mut ctl = u16::from(c0);
    let mut clen = 1;
    if c0 & 3 != 3 {
        match r.u8() {
            Some(c1) => {
                ctl = u16::from(c0) | (u16::from(c1) << 8);
                clen = 2;
            }
            None => l.mark("truncated LLC control"),
        }
    }
    l.add("Control", Value::Hex(u64::from(ctl)), start + 2, clen);
    summary!(l, "LLC dsap 0x{dsap:02x} ssap 0x{ssap:02x} ctl 0x{ctl:02x}");
    if dsap == 0xaa && ssap == 0xaa && clen == 1 {
        let at = r.pos;
        if let (Some(oui), Some(pid)) = (r.arr::<3>(), r.u16be()) {
            let o = (u64::from(oui[0]) << 16) | (u64::from(oui[1]) << 8) | u64::from(oui[2]);
            l.add("OUI", Value::Hex(o), at, 3);
            l.add("Protocol ID", Value::Hex(u64::from(pid)), at + 3, 2);
            summary!(l, "SNAP oui 0x{o:06x} pid 0x{pid:04x}");
            pkt.layers.push(l);
            if o == 0 || o == 0xf8 {
                d.ethertype(pkt, frame, pid, r.pos, r.end);
            } else {
                data(pkt, frame, r.pos, r.end);
            }
            return;
        }
        l.mark("truncated SNAP header");
        pkt.layers.push(l);
        return;
    }
    pkt.layers.push(l);
    if dsap == 0x42 && ssap == 0x42 {
        crate::decnet::stp::bpdu(pkt, frame, r.pos, r.end);
    } else {
        data(pkt, frame, r.pos, r.end);
    }
}

/// IEEE 802.1Q tag.
pub(crate) fn vlan(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("vlan", Span::at(start, r.left()));
    let (Some(tci), Some(ty)) = (r.u16be(), r.u16be()) else {
        l.mark("truncated 802.1Q tag");
        pkt.layers.push(l);
        return;
    };
    l.add("Priority", Value::U(u64::from(tci >> 13)), start, 2);
    l.add("VLAN ID", Value::U(u64::from(tci & 0xfff)), start, 2);
    l.add("Type", Value::Hex(u64::from(ty)), start + 2, 2);
    summary!(l, "vlan {}, p {}", tci & 0xfff, tci >> 13);
    pkt.layers.push(l);
    d.ethertype(pkt, frame, ty, start + 4, end);
}

const ARP_OPS: &[(u64, &str)] = &[
    (1, "request"),
    (2, "reply"),
    (3, "reverse request"),
    (4, "reverse reply"),
];

/// ARP (RFC 826) or RARP (RFC 903).
pub(crate) fn arp(pkt: &mut Packet, frame: &[u8], start: usize, end: usize, rarp: bool) {
    let mut r = Rd::new(frame, start, end);
    let proto = if rarp { "rarp" } else { "arp" };
    let mut l = pkt.new_layer(proto, Span::at(start, r.left()));
    let ok = (|| {
        let htype = r.u16be()?;
        l.add("Hardware type", Value::U(u64::from(htype)), start, 2);
        let ptype = r.u16be()?;
        l.add("Protocol type", Value::Hex(u64::from(ptype)), start + 2, 2);
        let hlen = r.u8()?;
        l.add("Hardware size", Value::U(u64::from(hlen)), start + 4, 1);
        let plen = r.u8()?;
        l.add("Protocol size", Value::U(u64::from(plen)), start + 5, 1);
        let op = r.u16be()?;
        let opn = lookup(ARP_OPS, u64::from(op));
        l.msg = Some(opn);
        l.add("Opcode", Value::Coded(u64::from(op), opn), start + 6, 2);
        let mut addrs = Vec::with_capacity(4);
        for (i, name) in ["Sender MAC", "Sender IP", "Target MAC", "Target IP"]
            .into_iter()
            .enumerate()
        {
            let n = usize::from(if i % 2 == 0 { hlen } else { plen });
            let at = r.pos;
            let b = r.take(n)?;
            let v = match (b.len(), i % 2) {
                (6, 0) => Value::Mac(b.try_into().ok()?),
                (4, 1) => Value::Ip4(b.try_into().ok()?),
                _ => Value::Bytes(b.to_vec()),
            };
            addrs.push(v.to_string());
            l.add(name, v, at, n);
        }
        let g = |i: usize| addrs.get(i).cloned().unwrap_or_default();
        l.summary = Text::from(match op {
            1 => format!("{} who-has {} tell {}", proto.to_uppercase(), g(3), g(1)),
            2 => format!("{} reply {} is-at {}", proto.to_uppercase(), g(1), g(0)),
            3 => format!("RARP who-is {} tell {}", g(2), g(0)),
            4 => format!("RARP reply {} at {}", g(2), g(3)),
            _ => format!("{} opcode {op}", proto.to_uppercase()),
        });
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated ARP");
        if l.summary.is_empty() {
            summary!(l, "{} truncated", proto.to_uppercase());
        }
    }
    pkt.layers.push(l);
}

/// BSD loopback (DLT_NULL): a 4-byte address family in host order (either order accepted).
pub(crate) fn null(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], end: usize) {
    let mut r = Rd::new(frame, 0, end);
    let mut l = pkt.new_layer("null", Span::at(0, 4));
    let Some(b) = r.arr::<4>() else {
        l.mark("truncated loopback header");
        pkt.layers.push(l);
        return;
    };
    let le = u32::from_le_bytes(b);
    let af = if le < 0x10000 {
        le
    } else {
        u32::from_be_bytes(b)
    };
    l.add("Family", Value::U(u64::from(af)), 0, 4);
    summary!(l, "AF {af}");
    pkt.layers.push(l);
    match af {
        2 => crate::ip::ipv4(d, pkt, frame, 4, end),
        24 | 28 | 30 => crate::ip::ipv6(d, pkt, frame, 4, end),
        _ => data(pkt, frame, 4, end),
    }
}

/// Linux cooked capture v1 (LINKTYPE_LINUX_SLL): 16-byte header ending in the protocol type.
pub(crate) fn sll(d: &mut Decoder, pkt: &mut Packet, frame: &[u8], end: usize) {
    let mut r = Rd::new(frame, 0, end);
    let mut l = pkt.new_layer("sll", Span::at(0, 16));
    let ok = (|| {
        let pt = r.u16be()?;
        l.add("Packet type", Value::U(u64::from(pt)), 0, 2);
        let ha = r.u16be()?;
        l.add("Address type", Value::U(u64::from(ha)), 2, 2);
        let alen = r.u16be()?;
        let a = r.take(8)?;
        let n = usize::from(alen).min(8);
        l.add("Source", Value::Bytes(a.get(..n)?.to_vec()), 6, n);
        let ty = r.u16be()?;
        l.add("Protocol", Value::Hex(u64::from(ty)), 14, 2);
        Some(ty)
    })();
    match ok {
        Some(ty) => {
            summary!(l, "cooked proto 0x{ty:04x}");
            pkt.layers.push(l);
            if ty == 4 {
                llc(d, pkt, frame, 16, end);
            } else {
                d.ethertype(pkt, frame, ty, 16, end);
            }
        }
        None => {
            l.mark("truncated cooked header");
            pkt.layers.push(l);
        }
    }
}
