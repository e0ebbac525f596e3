//! Offloads: TCP segmentation (TSO) on output and trusted receive checksums (GRO'd frames from
//! a TAP with `IFF_VNET_HDR`) on input, and the software segmentation that stands in for TSO
//! when a link cannot do it.

use wire::tcp::{TcpFlags, TcpPacket};
use wire::{Ipv4Packet, PacketBuf};

/// What an interface's link can do for the stack (set with `Stack::set_offloads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfaceOffloads {
    /// The link segments TCP super-segments (up to 64 KB) itself: the stack hands them to
    /// [`LinkContext::send_tso`](crate::LinkContext::send_tso).
    pub tso: bool,
    /// Every frame received on the link had its checksums verified already.
    pub rx_csum_trusted: bool,
}

/// Per-frame receive metadata (`Stack::receive_with_meta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxMeta {
    /// The link verified the transport checksum (virtio-net's `DATA_VALID`).
    pub csum_verified: bool,
}

/// How to cut a TSO super-segment: offsets are from the start of the frame (link header
/// included); the TCP checksum field holds the pseudo-header partial sum, as virtio-net's
/// `NEEDS_CSUM` expects (checksum start `l4_offset`, offset 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsoMeta {
    /// Data bytes per segment.
    pub mss: u16,
    /// Where the IPv4 header starts.
    pub l3_offset: u16,
    /// Where the TCP header starts.
    pub l4_offset: u16,
    /// Link, IPv4 and TCP headers together.
    pub header_len: u16,
}

/// Cuts a super-segment into frames of at most `mss` data bytes each, fixing IPv4 length,
/// identification and checksum and TCP sequence number, flags and checksum. A frame that does
/// not parse is returned as it is.
pub fn segment_tso(frame: &PacketBuf, meta: TsoMeta) -> Vec<PacketBuf> {
    let b = frame.as_slice();
    let (l3, l4, hl) = (
        usize::from(meta.l3_offset),
        usize::from(meta.l4_offset),
        usize::from(meta.header_len),
    );
    let mss = usize::from(meta.mss.max(1));
    if !(l3 + 20 <= l4 && l4 + 20 <= hl && hl <= b.len()) {
        return vec![frame.clone()];
    }
    let (Ok(ip), Ok(tcp)) = (
        Ipv4Packet::new_checked_header(&b[l3..]),
        TcpPacket::new_checked(&b[l4..]),
    ) else {
        return vec![frame.clone()];
    };
    let (src, dst, ident, seq0, flags) = (
        ip.src_addr(),
        ip.dst_addr(),
        ip.ident(),
        tcp.seq_number(),
        tcp.flags(),
    );
    let payload = &b[hl..];
    if payload.is_empty() {
        let mut f = frame.clone();
        fix_segment(&mut f, l3, l4, src, dst, ident, seq0, flags);
        return vec![f];
    }
    let n = payload.len().div_ceil(mss);
    let mut out = Vec::with_capacity(n);
    for (i, chunk) in payload.chunks(mss).enumerate() {
        let mut f = PacketBuf::with_headroom(frame.headroom().min(64), hl + chunk.len());
        let s = f.as_mut_slice();
        s[..hl].copy_from_slice(&b[..hl]);
        s[hl..].copy_from_slice(chunk);
        let mut fl = flags;
        if i + 1 < n {
            // FIN and PSH belong to the last segment only; CWR to the first.
            fl.set(TcpFlags::FIN, false);
            fl.set(TcpFlags::PSH, false);
        }
        if i > 0 {
            fl.set(TcpFlags::CWR, false);
        }
        let seq = seq0.wrapping_add((i * mss) as u32);
        fix_segment(
            &mut f,
            l3,
            l4,
            src,
            dst,
            ident.wrapping_add(i as u16),
            seq,
            fl,
        );
        out.push(f);
    }
    out
}

/// Cuts a TCP segment (header and data, no IPv4 header) into segments of at most `mss` data
/// bytes with full checksums: the software path for a super-segment that cannot go to TSO.
pub(crate) fn split_segment(
    seg: &PacketBuf,
    src: std::net::Ipv4Addr,
    dst: std::net::Ipv4Addr,
    mss: u16,
) -> Vec<PacketBuf> {
    let b = seg.as_slice();
    let Ok(p) = TcpPacket::new_checked(b) else {
        return Vec::new();
    };
    let hl = p.header_len();
    let (seq0, flags) = (p.seq_number(), p.flags());
    let payload = &b[hl..];
    let mss = usize::from(mss.max(1));
    let n = payload.len().div_ceil(mss).max(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let chunk = payload
            .get(i * mss..((i + 1) * mss).min(payload.len()))
            .unwrap_or(&[]);
        let mut f = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, hl + chunk.len());
        let s = f.as_mut_slice();
        s[..hl].copy_from_slice(&b[..hl]);
        s[hl..].copy_from_slice(chunk);
        let mut fl = flags;
        if i + 1 < n {
            fl.set(TcpFlags::FIN, false);
            fl.set(TcpFlags::PSH, false);
        }
        let mut t = TcpPacket::new_unchecked(f.as_mut_slice());
        t.set_seq_number(seq0.wrapping_add((i * mss) as u32));
        t.set_flags(fl);
        t.fill_checksum(src, dst);
        out.push(f);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn fix_segment(
    f: &mut PacketBuf,
    l3: usize,
    l4: usize,
    src: std::net::Ipv4Addr,
    dst: std::net::Ipv4Addr,
    ident: u16,
    seq: u32,
    flags: TcpFlags,
) {
    let total = f.len() - l3;
    let s = f.as_mut_slice();
    {
        let mut ip = Ipv4Packet::new_unchecked(&mut s[l3..]);
        ip.set_total_len(total as u16);
        ip.set_ident(ident);
        ip.fill_checksum();
    }
    let mut tcp = TcpPacket::new_unchecked(&mut s[l4..]);
    tcp.set_seq_number(seq);
    tcp.set_flags(flags);
    tcp.fill_checksum(src, dst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use wire::tcp::TcpRepr;
    use wire::{IpProtocol, Ipv4Repr};

    #[test]
    fn software_segmentation() {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let data: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let tcp = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq_number: u32::MAX - 100,
            ack_number: 5,
            flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
            window_len: 100,
            timestamp: Some((1, 2)),
            payload_len: data.len(),
            ..TcpRepr::default()
        };
        let ip = Ipv4Repr {
            src_addr: a,
            dst_addr: b,
            protocol: IpProtocol::Tcp,
            payload_len: tcp.header_len() + data.len(),
            ttl: 64,
            tos: 0,
            ident: 0xfffe,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: wire::Ipv4OptionsBuf::new(),
        };
        let l4 = 14 + 20;
        let hl = l4 + tcp.header_len();
        let mut f = PacketBuf::with_headroom(0, hl + data.len());
        f.as_mut_slice()[hl..].copy_from_slice(&data);
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut f.as_mut_slice()[14..]));
        tcp.emit_partial_checksum(
            &mut TcpPacket::new_unchecked(&mut f.as_mut_slice()[l4..]),
            a,
            b,
        );
        let meta = TsoMeta {
            mss: 1000,
            l3_offset: 14,
            l4_offset: l4 as u16,
            header_len: hl as u16,
        };
        let segs = segment_tso(&f, meta);
        assert_eq!(segs.len(), 3);
        let mut joined = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            let ipp = Ipv4Packet::new_checked(&s.as_slice()[14..]).unwrap();
            assert!(ipp.verify_checksum());
            assert_eq!(ipp.ident(), 0xfffeu16.wrapping_add(i as u16));
            let t = TcpPacket::new_checked(ipp.payload()).unwrap();
            let r = TcpRepr::parse(&t, a, b).unwrap();
            assert_eq!(r.seq_number, (u32::MAX - 100).wrapping_add(1000 * i as u32));
            assert_eq!(r.flags.fin(), i == 2);
            assert_eq!(r.flags.psh(), i == 2);
            assert_eq!(r.timestamp, Some((1, 2)));
            joined.extend_from_slice(t.payload());
        }
        assert_eq!(joined, data);
    }
}
