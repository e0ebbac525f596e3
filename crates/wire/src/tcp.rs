//! TCP (RFC 9293) headers and options (RFC 9293's MSS, RFC 7323's window scale and timestamps,
//! RFC 2018's SACK), with the IPv4 pseudo-header checksum.
//!
//! [`TcpPacket`] is the checked view; [`TcpRepr`] the parsed header with the options the stack
//! uses. Unknown options are skipped on parse (their length byte says how far).

use crate::ipv4::IpProtocol;
use crate::{get_u16, get_u32, need, put_u16, put_u32, Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const OFF_FLAGS: usize = 12;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// The header's length without options.
pub const HEADER_LEN: usize = 20;
/// The longest header (data offset 15).
pub const MAX_HEADER_LEN: usize = 60;

/// The control bits (RFC 9293 plus RFC 3168's ECE and CWR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// The acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// The urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of bits.
    pub const fn union(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }

    /// Sets or clears `other`'s bits.
    pub fn set(&mut self, other: TcpFlags, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }

    /// Whether SYN is set.
    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// Whether FIN is set.
    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// Whether RST is set.
    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// Whether ACK is set.
    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// Whether PSH is set.
    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// Whether URG is set.
    pub const fn urg(self) -> bool {
        self.contains(Self::URG)
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, o: TcpFlags) -> TcpFlags {
        self.union(o)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump's letters: `S`, `F`, `R`, `P`, `.` (ACK), `U`, `E`, `W`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, c) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
            (Self::ACK, '.'),
        ] {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// One TCP option as found in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Kind 0: end of the option list.
    EndOfList,
    /// Kind 1: padding.
    NoOperation,
    /// Kind 2: maximum segment size (SYN only).
    MaxSegmentSize(u16),
    /// Kind 3: window scale shift (SYN only, RFC 7323).
    WindowScale(u8),
    /// Kind 4: SACK permitted (SYN only, RFC 2018).
    SackPermitted,
    /// Kind 5: up to four SACK blocks (left edge, right edge).
    SackRange([Option<(u32, u32)>; 4]),
    /// Kind 8: timestamps (RFC 7323): TSval, TSecr.
    Timestamp {
        /// The sender's clock.
        tsval: u32,
        /// The echoed clock.
        tsecr: u32,
    },
    /// Any other kind, kept raw.
    Unknown {
        /// The kind.
        kind: u8,
        /// The data after kind and length.
        data: &'a [u8],
    },
}

impl TcpOption<'_> {
    /// Parses one option from the front of `b`; returns it and the rest.
    pub fn parse(b: &[u8]) -> Result<(TcpOption<'_>, &[u8])> {
        let kind = *b.first().ok_or(Error::Truncated {
            what: "TCP option",
            need: 1,
            have: 0,
        })?;
        match kind {
            0 => return Ok((TcpOption::EndOfList, &[])),
            1 => return Ok((TcpOption::NoOperation, &b[1..])),
            _ => {}
        }
        need("TCP option length", 2, b.len())?;
        let len = usize::from(b[1]);
        if len < 2 {
            return Err(Error::Malformed("TCP option length (under 2)"));
        }
        need("TCP option", len, b.len())?;
        let data = &b[2..len];
        let rest = &b[len..];
        let bad = |what| Err(Error::Malformed(what));
        let opt = match kind {
            2 => match data {
                [a, b] => TcpOption::MaxSegmentSize(u16::from_be_bytes([*a, *b])),
                _ => return bad("TCP MSS option length"),
            },
            3 => match data {
                [s] => TcpOption::WindowScale(*s),
                _ => return bad("TCP window scale option length"),
            },
            4 => match data {
                [] => TcpOption::SackPermitted,
                _ => return bad("TCP SACK-permitted option length"),
            },
            5 => {
                if data.is_empty() || !data.len().is_multiple_of(8) || data.len() > 32 {
                    return bad("TCP SACK option length");
                }
                let mut r = [None; 4];
                for (i, c) in data.chunks_exact(8).enumerate() {
                    r[i] = Some((get_u32(c, 0), get_u32(c, 4)));
                }
                TcpOption::SackRange(r)
            }
            8 => match data.len() {
                8 => TcpOption::Timestamp {
                    tsval: get_u32(data, 0),
                    tsecr: get_u32(data, 4),
                },
                _ => return bad("TCP timestamp option length"),
            },
            _ => TcpOption::Unknown { kind, data },
        };
        Ok((opt, rest))
    }

    /// Bytes this option takes.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::SackRange(r) => 2 + 8 * r.iter().flatten().count(),
            TcpOption::Timestamp { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the front of `b` (at least [`buffer_len`](Self::buffer_len) long);
    /// returns the bytes written.
    pub fn emit(&self, b: &mut [u8]) -> usize {
        let n = self.buffer_len();
        match *self {
            TcpOption::EndOfList => b[0] = 0,
            TcpOption::NoOperation => b[0] = 1,
            TcpOption::MaxSegmentSize(m) => {
                b[..2].copy_from_slice(&[2, 4]);
                put_u16(b, 2, m);
            }
            TcpOption::WindowScale(s) => b[..3].copy_from_slice(&[3, 3, s]),
            TcpOption::SackPermitted => b[..2].copy_from_slice(&[4, 2]),
            TcpOption::SackRange(r) => {
                b[0] = 5;
                b[1] = n as u8;
                for (i, (l, rr)) in r.iter().flatten().enumerate() {
                    put_u32(b, 2 + 8 * i, *l);
                    put_u32(b, 6 + 8 * i, *rr);
                }
            }
            TcpOption::Timestamp { tsval, tsecr } => {
                b[..2].copy_from_slice(&[8, 10]);
                put_u32(b, 2, tsval);
                put_u32(b, 6, tsecr);
            }
            TcpOption::Unknown { kind, data } => {
                b[0] = kind;
                b[1] = n as u8;
                b[2..n].copy_from_slice(data);
            }
        }
        n
    }
}

/// The options of a header, one at a time; stops at end-of-list or the first malformed option.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match TcpOption::parse(self.rest) {
            Ok((TcpOption::EndOfList, _)) => {
                self.rest = &[];
                None
            }
            Ok((o, rest)) => {
                self.rest = rest;
                Some(Ok(o))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

transport_view! {
    /// A view of a TCP segment.
    pub struct TcpPacket, protocol: IpProtocol::Tcp
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer` after checking `20 ≤ data offset ≤ buffer length`.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        let have = p.buffer.as_ref().len();
        need("TCP header", HEADER_LEN, have)?;
        let hl = p.header_len();
        if hl < HEADER_LEN {
            return Err(Error::Malformed("TCP data offset (under 5)"));
        }
        need("TCP options", hl, have)?;
        Ok(p)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SEQ)
    }
    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::ACK)
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::OFF_FLAGS] >> 4) * 4
    }
    /// The control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::OFF_FLAGS + 1])
    }
    /// The window field (unscaled).
    pub fn window_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::WINDOW)
    }
    /// The urgent pointer field.
    pub fn urgent_at(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::URGENT)
    }
    /// The options' bytes.
    pub fn options_bytes(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[HEADER_LEN..self.header_len().clamp(HEADER_LEN, b.len())]
    }
    /// The options, parsed one by one.
    pub fn options(&self) -> TcpOptions<'_> {
        TcpOptions {
            rest: self.options_bytes(),
        }
    }
    /// The data after the header.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[self.header_len().clamp(HEADER_LEN, b.len())..]
    }
    /// The sequence space the segment takes: data, plus one each for SYN and FIN.
    pub fn segment_len(&self) -> usize {
        let f = self.flags();
        self.payload().len() + usize::from(f.syn()) + usize::from(f.fin())
    }

    /// Whether the checksum verifies against the pseudo-header (the whole buffer is the segment).
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let d = self.buffer.as_ref();
        let Ok(len) = u16::try_from(d.len()) else {
            return false;
        };
        Self::pseudo_sum(src, dst, len, d) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::SEQ, v)
    }
    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::ACK, v)
    }
    /// Sets the header length (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: usize) {
        let b = self.buffer.as_mut();
        b[field::OFF_FLAGS] = (((len / 4) as u8) << 4) | (b[field::OFF_FLAGS] & 0x0f);
    }
    /// Sets the control bits.
    pub fn set_flags(&mut self, f: TcpFlags) {
        self.buffer.as_mut()[field::OFF_FLAGS + 1] = f.0;
    }
    /// Sets the window field.
    pub fn set_window_len(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::WINDOW, v)
    }
    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::URGENT, v)
    }
    /// The data, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        let b = self.buffer.as_mut();
        let at = hl.clamp(HEADER_LEN, b.len());
        &mut b[at..]
    }

    /// Computes and stores the checksum over pseudo-header, header and data (the whole buffer).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let d = self.buffer.as_ref();
        let c = !Self::pseudo_sum(src, dst, d.len() as u16, d);
        self.set_checksum(c);
    }

    /// Stores the pseudo-header sum (not inverted), as checksum offload (virtio-net's
    /// `NEEDS_CSUM`) expects; the device sums header and data over it.
    pub fn fill_partial_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let len = self.buffer.as_ref().len() as u16;
        self.store_pseudo_header(src, dst, len);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for TcpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match TcpRepr::parse_unverified(self) {
            Ok(r) => write!(f, "{r} cksum=0x{:04x}", self.checksum()),
            Err(e) => write!(f, "TCP ({e})"),
        }
    }
}

/// A TCP header with the options the stack reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number (meaningful with the ACK flag).
    pub ack_number: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window field (unscaled).
    pub window_len: u16,
    /// Urgent pointer (meaningful with the URG flag).
    pub urgent_at: u16,
    /// MSS option.
    pub max_seg_size: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// SACK blocks (at most 4; 3 fit with timestamps).
    pub sack_ranges: [Option<(u32, u32)>; 4],
    /// Timestamps option: (TSval, TSecr).
    pub timestamp: Option<(u32, u32)>,
    /// Bytes of data after the header.
    pub payload_len: usize,
}

impl TcpRepr {
    /// Parses the header and verifies the checksum with the IPv4 addresses (the view's buffer
    /// must be exactly the segment). Destination port 0 and a zero source port are malformed.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Self> {
        let r = Self::parse_unverified(packet)?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum("TCP"));
        }
        Ok(r)
    }

    /// Parses the header without the checksum (offloaded). Malformed options make the segment
    /// malformed; unknown ones are skipped.
    pub fn parse_unverified<T: AsRef<[u8]>>(packet: &TcpPacket<T>) -> Result<Self> {
        let p = TcpPacket::new_checked(packet.buffer.as_ref())?;
        if p.dst_port() == 0 || p.src_port() == 0 {
            return Err(Error::Malformed("TCP port 0"));
        }
        let mut r = TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
            urgent_at: p.urgent_at(),
            payload_len: p.payload().len(),
            ..TcpRepr::default()
        };
        for o in p.options() {
            match o? {
                TcpOption::MaxSegmentSize(m) => r.max_seg_size = Some(m),
                TcpOption::WindowScale(s) => r.window_scale = Some(s),
                TcpOption::SackPermitted => r.sack_permitted = true,
                TcpOption::SackRange(s) => r.sack_ranges = s,
                TcpOption::Timestamp { tsval, tsecr } => r.timestamp = Some((tsval, tsecr)),
                TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(r)
    }

    /// Bytes of options, padded to a multiple of 4 (NOPs before timestamps and SACK, as BSD and
    /// Linux align them).
    pub fn options_len(&self) -> usize {
        let mut n = 0;
        if self.max_seg_size.is_some() {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4; // NOP + 3
        }
        if self.timestamp.is_some() {
            n += 12; // NOP NOP + 10, or SACK-permitted + 10
        } else if self.sack_permitted {
            n += 4; // NOP NOP + 2
        }
        let blocks = self.sack_ranges.iter().flatten().count();
        if blocks > 0 {
            n += 4 + 8 * blocks; // NOP NOP + 2 + blocks
        }
        n
    }

    /// The header's length with options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Same as [`header_len`](Self::header_len).
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// The sequence space the segment takes.
    pub fn segment_len(&self) -> usize {
        self.payload_len + usize::from(self.flags.syn()) + usize::from(self.flags.fin())
    }

    /// Writes header and options without a checksum. `packet`'s buffer must hold the header and
    /// exactly `payload_len` bytes of data after it (already in place).
    pub fn emit_without_checksum<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut TcpPacket<T>) {
        let hl = self.header_len().min(MAX_HEADER_LEN);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        {
            let b = packet.buffer.as_mut();
            b[field::OFF_FLAGS] = 0;
        }
        packet.set_header_len(hl);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_checksum(0);
        packet.set_urgent_at(self.urgent_at);
        let b = &mut packet.buffer.as_mut()[HEADER_LEN..hl];
        let mut at = 0;
        let mut put = |o: TcpOption<'_>, at: &mut usize| {
            if *at + o.buffer_len() <= b.len() {
                *at += o.emit(&mut b[*at..]);
            }
        };
        if let Some(m) = self.max_seg_size {
            put(TcpOption::MaxSegmentSize(m), &mut at);
        }
        if let Some(s) = self.window_scale {
            put(TcpOption::NoOperation, &mut at);
            put(TcpOption::WindowScale(s), &mut at);
        }
        if let Some((tsval, tsecr)) = self.timestamp {
            if self.sack_permitted {
                put(TcpOption::SackPermitted, &mut at);
            } else {
                put(TcpOption::NoOperation, &mut at);
                put(TcpOption::NoOperation, &mut at);
            }
            put(TcpOption::Timestamp { tsval, tsecr }, &mut at);
        } else if self.sack_permitted {
            put(TcpOption::NoOperation, &mut at);
            put(TcpOption::NoOperation, &mut at);
            put(TcpOption::SackPermitted, &mut at);
        }
        if self.sack_ranges.iter().any(Option::is_some) {
            put(TcpOption::NoOperation, &mut at);
            put(TcpOption::NoOperation, &mut at);
            put(TcpOption::SackRange(self.sack_ranges), &mut at);
        }
        b[at..].fill(0);
    }

    /// Writes header, options and the checksum.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        self.emit_without_checksum(packet);
        packet.fill_checksum(src, dst);
    }

    /// Writes header and options with the partial checksum offload expects.
    pub fn emit_partial_checksum<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        self.emit_without_checksum(packet);
        packet.fill_partial_checksum(src, dst);
    }
}

impl fmt::Display for TcpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TCP src={} dst={} [{}] seq={}",
            self.src_port, self.dst_port, self.flags, self.seq_number
        )?;
        if self.flags.ack() {
            write!(f, " ack={}", self.ack_number)?;
        }
        write!(f, " win={} len={}", self.window_len, self.payload_len)?;
        if let Some(m) = self.max_seg_size {
            write!(f, " mss={m}")?;
        }
        if let Some(s) = self.window_scale {
            write!(f, " wscale={s}")?;
        }
        if self.sack_permitted {
            f.write_str(" sackOK")?;
        }
        if let Some((v, e)) = self.timestamp {
            write!(f, " ts={v}/{e}")?;
        }
        for (l, r) in self.sack_ranges.iter().flatten() {
            write!(f, " sack={l}-{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum;
    use crate::testutil::ipv4_addr;
    use proptest::prelude::*;

    const A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    /// A SYN from Linux 6.x (`nc` to 127.0.0.1:7), as `tcpdump -xx` showed the TCP part:
    /// mss 65495, sackOK, TS, nop, wscale 7.
    const LINUX_SYN: [u8; 40] = [
        0x9c, 0x40, 0x00, 0x07, 0x1d, 0x8c, 0x6e, 0x3b, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff,
        0xd7, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x5b, 0x2e,
        0x8a, 0x21, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    #[test]
    fn linux_syn_options() {
        let p = TcpPacket::new_checked(&LINUX_SYN[..]).unwrap();
        let r = TcpRepr::parse_unverified(&p).unwrap();
        assert_eq!(r.src_port, 40000);
        assert_eq!(r.dst_port, 7);
        assert_eq!(r.flags, TcpFlags::SYN);
        assert_eq!(r.max_seg_size, Some(65495));
        assert!(r.sack_permitted);
        assert_eq!(r.timestamp, Some((0x5b2e_8a21, 0)));
        assert_eq!(r.window_scale, Some(7));
        assert_eq!(r.payload_len, 0);
        assert_eq!(r.segment_len(), 1);
        // Our emitter lays the same options out in 20 bytes too.
        assert_eq!(r.header_len(), 40);
    }

    #[test]
    fn checksum_and_offload() {
        let r = TcpRepr {
            src_port: 1000,
            dst_port: 80,
            seq_number: 7,
            ack_number: 9,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window_len: 512,
            timestamp: Some((1, 2)),
            sack_ranges: [Some((100, 200)), Some((300, 400)), None, None],
            payload_len: 5,
            ..TcpRepr::default()
        };
        let mut b = vec![0u8; r.header_len() + 5];
        b[r.header_len()..].copy_from_slice(b"hello");
        r.emit(&mut TcpPacket::new_unchecked(&mut b[..]), A, B);
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum(A, B));
        assert!(!p.verify_checksum(B, Ipv4Addr::new(1, 1, 1, 1)));
        assert_eq!(TcpRepr::parse(&p, A, B).unwrap(), r);
        assert_eq!(p.payload(), b"hello");
        assert_eq!(
            TcpRepr::parse(&p, A, A),
            Err(Error::Checksum("TCP")),
            "wrong pseudo-header"
        );
        assert!(p.to_string().contains("sack=100-200"));
        // Offload: the field holds the pseudo-header sum; completing the sum over the segment
        // gives the real checksum.
        r.emit_partial_checksum(&mut TcpPacket::new_unchecked(&mut b[..]), A, B);
        let partial = TcpPacket::new_unchecked(&b[..]).checksum();
        assert_eq!(partial, checksum::pseudo_header(A, B, 6, b.len() as u16));
        let full = !checksum::sum(&b);
        b[16..18].copy_from_slice(&full.to_be_bytes());
        assert!(TcpPacket::new_unchecked(&b[..]).verify_checksum(A, B));
    }

    #[test]
    fn malformed_and_unknown_options() {
        let mut b = LINUX_SYN;
        // Kind 30 (MPTCP) of length 4 in place of the MSS: skipped.
        b[20..24].copy_from_slice(&[30, 4, 0, 0]);
        let r = TcpRepr::parse_unverified(&TcpPacket::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r.max_seg_size, None);
        assert_eq!(r.window_scale, Some(7));
        // A length byte of 1 is malformed.
        b[21] = 1;
        assert!(TcpRepr::parse_unverified(&TcpPacket::new_checked(&b[..]).unwrap()).is_err());
        // An option running past the header is malformed.
        b[21] = 30;
        assert!(TcpRepr::parse_unverified(&TcpPacket::new_checked(&b[..]).unwrap()).is_err());
        // Data offset under 5, or past the buffer.
        let mut s = LINUX_SYN;
        s[12] = 0x40;
        assert!(matches!(
            TcpPacket::new_checked(&s[..]),
            Err(Error::Malformed(_))
        ));
        assert!(matches!(
            TcpPacket::new_checked(&LINUX_SYN[..30]),
            Err(Error::Truncated { .. })
        ));
        // End of list stops parsing.
        let mut e = LINUX_SYN;
        e[20] = 0;
        let r = TcpRepr::parse_unverified(&TcpPacket::new_checked(&e[..]).unwrap()).unwrap();
        assert_eq!(r.max_seg_size, None);
        assert!(!r.sack_permitted);
    }

    fn ranges() -> impl Strategy<Value = [Option<(u32, u32)>; 4]> {
        (0usize..=4, any::<[(u32, u32); 4]>()).prop_map(|(n, v)| {
            let mut r = [None; 4];
            for i in 0..n {
                r[i] = Some(v[i]);
            }
            r
        })
    }

    proptest! {
        #[test]
        fn round_trip(
            src in ipv4_addr(), dst in ipv4_addr(), sp in 1u16.., dp in 1u16..,
            seq in any::<u32>(), ack in any::<u32>(), flags in any::<u8>(), win in any::<u16>(),
            urg in any::<u16>(), mss in proptest::option::of(any::<u16>()),
            ws in proptest::option::of(0u8..15), sack_ok in any::<bool>(),
            ts in proptest::option::of(any::<(u32, u32)>()), sacks in ranges(),
            payload in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut r = TcpRepr {
                src_port: sp, dst_port: dp, seq_number: seq, ack_number: ack,
                flags: TcpFlags(flags), window_len: win, urgent_at: urg, max_seg_size: mss,
                window_scale: ws, sack_permitted: sack_ok, sack_ranges: sacks, timestamp: ts,
                payload_len: payload.len(),
            };
            // At most 40 bytes of options fit: keep the SACK blocks that do.
            while r.header_len() > MAX_HEADER_LEN {
                let n = r.sack_ranges.iter().flatten().count();
                r.sack_ranges[n - 1] = None;
            }
            prop_assert_eq!(r.header_len() % 4, 0);
            let mut buf = vec![0u8; r.header_len() + payload.len()];
            buf[r.header_len()..].copy_from_slice(&payload);
            r.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), src, dst);
            let p = TcpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(TcpRepr::parse(&p, src, dst).unwrap(), r);
            prop_assert_eq!(p.payload(), &payload[..]);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80), a in ipv4_addr()) {
            if let Ok(p) = TcpPacket::new_checked(&bytes[..]) {
                let _ = TcpRepr::parse(&p, a, a);
                let _ = (p.to_string(), p.payload(), p.options().count(), p.segment_len());
            }
        }
    }
}
