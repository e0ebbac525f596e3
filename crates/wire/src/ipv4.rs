//! IPv4 (RFC 791): the header with options, the header checksum, fragmentation fields.
//!
//! [`Ipv4Packet::new_checked`] guarantees `20 ≤ header length ≤ total length ≤ buffer length`, so
//! every accessor is safe; bytes in the buffer past the total length (link padding) are not part
//! of [`payload`](Ipv4Packet::payload). The options area parses into an iterator of typed
//! [`Ipv4Option`]s ([`Ipv4Options`]); [`Ipv4OptionsBuf`] holds up to 40 bytes of options by value,
//! without allocation, for an [`Ipv4Repr`].

use crate::checksum;
use crate::{get_ipv4, get_u16, need, put_ipv4, put_u16, Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

enum_with_unknown! {
    /// The IP protocol number (the next header).
    pub enum IpProtocol(u8) {
        /// 1: ICMP.
        Icmp = 1,
        /// 2: IGMP.
        Igmp = 2,
        /// 4: IP in IP.
        IpIp = 4,
        /// 6: TCP.
        Tcp = 6,
        /// 17: UDP.
        Udp = 17,
        /// 41: IPv6 in IPv4.
        Ipv6 = 41,
        /// 47: GRE.
        Gre = 47,
        /// 50: ESP.
        Esp = 50,
        /// 51: AH.
        Ah = 51,
        /// 58: ICMPv6.
        Icmpv6 = 58,
        /// 89: OSPF.
        Ospf = 89,
        /// 103: PIM.
        Pim = 103,
        /// 132: SCTP.
        Sctp = 132,
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProtocol::Icmp => f.write_str("ICMP"),
            IpProtocol::Igmp => f.write_str("IGMP"),
            IpProtocol::IpIp => f.write_str("IPIP"),
            IpProtocol::Tcp => f.write_str("TCP"),
            IpProtocol::Udp => f.write_str("UDP"),
            IpProtocol::Ipv6 => f.write_str("IPv6"),
            IpProtocol::Gre => f.write_str("GRE"),
            IpProtocol::Esp => f.write_str("ESP"),
            IpProtocol::Ah => f.write_str("AH"),
            IpProtocol::Icmpv6 => f.write_str("ICMPv6"),
            IpProtocol::Ospf => f.write_str("OSPF"),
            IpProtocol::Pim => f.write_str("PIM"),
            IpProtocol::Sctp => f.write_str("SCTP"),
            IpProtocol::Unknown(p) => write!(f, "proto-{p}"),
        }
    }
}

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// The header's length without options.
pub const HEADER_LEN: usize = 20;
/// The options area's largest size.
pub const MAX_OPTIONS_LEN: usize = 40;
/// The largest header.
pub const MAX_HEADER_LEN: usize = HEADER_LEN + MAX_OPTIONS_LEN;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;

/// A view of an IPv4 datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer` after checking `20 ≤ header length ≤ total length ≤ buffer length`.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_checked_header(buffer)?;
        let total = usize::from(p.total_len());
        if total < p.header_len() {
            return Err(Error::Malformed(
                "IPv4 total length (shorter than the header)",
            ));
        }
        need("IPv4 datagram", total, p.buffer.as_ref().len())?;
        Ok(p)
    }

    /// Wraps `buffer` checking only that the header (options included) is present, not the total
    /// length: for the truncated datagram an ICMP error quotes. [`payload`](Self::payload) is
    /// then whatever follows the header, up to the total length.
    pub fn new_checked_header(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        need("IPv4 header", HEADER_LEN, len)?;
        if p.header_len() < HEADER_LEN {
            return Err(Error::Malformed("IPv4 header length (IHL < 5)"));
        }
        need("IPv4 header with options", p.header_len(), len)?;
        Ok(p)
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The type-of-service octet (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// The differentiated services code point.
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    /// The ECN bits.
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    /// The total length field.
    pub fn total_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// The identification.
    pub fn ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::IDENT)
    }

    fn flags_offset(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::FLG_OFF)
    }

    /// The reserved flag (must be zero).
    pub fn reserved_flag(&self) -> bool {
        self.flags_offset() & FLAG_RESERVED != 0
    }

    /// Don't fragment.
    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & FLAG_DF != 0
    }

    /// More fragments.
    pub fn more_frags(&self) -> bool {
        self.flags_offset() & FLAG_MF != 0
    }

    /// The fragment offset in bytes (the field × 8).
    pub fn frag_offset(&self) -> u16 {
        (self.flags_offset() & 0x1fff) << 3
    }

    /// Whether this is a fragment (MF set or a non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.flags_offset() & (FLAG_MF | 0x1fff) != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// The protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::SRC)
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::DST)
    }

    /// The header bytes, options included.
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// The raw options area (padding included).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// The options, typed.
    pub fn options_iter(&self) -> Ipv4Options<'_> {
        Ipv4Options::new(self.options())
    }

    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.header()) == 0xffff
    }

    /// The payload: from the end of the header to the total length (clamped to the buffer).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let hl = self.header_len();
        let end = usize::from(self.total_len()).clamp(hl, b.len());
        &b[hl..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets the version.
    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (v << 4);
    }

    /// Sets the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: usize) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) as u8 & 0x0f);
    }

    /// Sets the type-of-service octet.
    pub fn set_tos(&mut self, v: u8) {
        self.buffer.as_mut()[field::TOS] = v
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::LENGTH, v)
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::IDENT, v)
    }

    fn set_flags_offset(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::FLG_OFF, v)
    }

    /// Clears the flags and the fragment offset.
    pub fn clear_flags(&mut self) {
        self.set_flags_offset(0)
    }

    /// Sets or clears don't-fragment.
    pub fn set_dont_frag(&mut self, on: bool) {
        let v = self.flags_offset();
        self.set_flags_offset(if on { v | FLAG_DF } else { v & !FLAG_DF })
    }

    /// Sets or clears more-fragments.
    pub fn set_more_frags(&mut self, on: bool) {
        let v = self.flags_offset();
        self.set_flags_offset(if on { v | FLAG_MF } else { v & !FLAG_MF })
    }

    /// Sets the fragment offset in bytes (a multiple of 8; the low 3 bits are dropped).
    pub fn set_frag_offset(&mut self, bytes: u16) {
        let v = self.flags_offset();
        self.set_flags_offset((v & 0xe000) | (bytes >> 3))
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.into()
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        put_ipv4(self.buffer.as_mut(), field::SRC, a)
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        put_ipv4(self.buffer.as_mut(), field::DST, a)
    }

    /// The options area, mutably (its size follows the header length).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.header());
        self.set_checksum(c);
    }

    /// Decrements the TTL (not below zero) and updates the checksum incrementally (RFC 1624),
    /// as a router does; returns the new TTL.
    pub fn decrement_ttl(&mut self) -> u8 {
        let b = self.buffer.as_ref();
        let old_word = get_u16(b, field::TTL);
        let ttl = self.ttl().saturating_sub(1);
        self.set_ttl(ttl);
        let new_word = get_u16(self.buffer.as_ref(), field::TTL);
        let c = checksum::update16(self.checksum(), old_word, new_word);
        self.set_checksum(c);
        ttl
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        let total = usize::from(self.total_len());
        let b = self.buffer.as_mut();
        let end = total.clamp(hl, b.len());
        &mut b[hl..end]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Ipv4Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Ipv4Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "IPv4 ({e})"),
        }
    }
}

/// Option kinds.
pub mod option_kind {
    /// End of option list.
    pub const END: u8 = 0;
    /// No operation.
    pub const NOP: u8 = 1;
    /// Record route.
    pub const RECORD_ROUTE: u8 = 7;
    /// Internet timestamp.
    pub const TIMESTAMP: u8 = 68;
    /// Loose source and record route.
    pub const LSRR: u8 = 131;
    /// Strict source and record route.
    pub const SSRR: u8 = 137;
    /// Router alert (RFC 2113).
    pub const ROUTER_ALERT: u8 = 148;
}

/// One IPv4 option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv4Option<'a> {
    /// End of the option list; what follows is padding.
    EndOfList,
    /// No operation (alignment).
    NoOperation,
    /// Record route: the pointer (1-based, ≥ 4) and the route data (addresses).
    RecordRoute {
        /// Where the next address goes, counted from the option's first octet, from 1.
        pointer: u8,
        /// The route data, 4 bytes per address.
        route: &'a [u8],
    },
    /// Loose source and record route.
    LooseSourceRoute {
        /// Pointer (≥ 4).
        pointer: u8,
        /// The route data.
        route: &'a [u8],
    },
    /// Strict source and record route.
    StrictSourceRoute {
        /// Pointer (≥ 4).
        pointer: u8,
        /// The route data.
        route: &'a [u8],
    },
    /// Internet timestamp.
    Timestamp {
        /// Pointer (≥ 5).
        pointer: u8,
        /// Overflow count (4 bits).
        overflow: u8,
        /// Flag (4 bits): 0 timestamps only, 1 address and timestamp, 3 prespecified addresses.
        flags: u8,
        /// The timestamp data.
        data: &'a [u8],
    },
    /// Router alert (RFC 2113) with its value (0: examine packet).
    RouterAlert(u16),
    /// Any other option, kept raw.
    Unknown {
        /// The option type octet.
        kind: u8,
        /// The bytes after type and length.
        data: &'a [u8],
    },
}

impl<'a> Ipv4Option<'a> {
    /// The option type octet.
    pub fn kind(&self) -> u8 {
        match self {
            Ipv4Option::EndOfList => option_kind::END,
            Ipv4Option::NoOperation => option_kind::NOP,
            Ipv4Option::RecordRoute { .. } => option_kind::RECORD_ROUTE,
            Ipv4Option::LooseSourceRoute { .. } => option_kind::LSRR,
            Ipv4Option::StrictSourceRoute { .. } => option_kind::SSRR,
            Ipv4Option::Timestamp { .. } => option_kind::TIMESTAMP,
            Ipv4Option::RouterAlert(_) => option_kind::ROUTER_ALERT,
            Ipv4Option::Unknown { kind, .. } => *kind,
        }
    }

    /// Whether the option is copied into every fragment (the type's high bit).
    pub fn is_copied(&self) -> bool {
        self.kind() & 0x80 != 0
    }

    /// The option's encoded length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Ipv4Option::EndOfList | Ipv4Option::NoOperation => 1,
            Ipv4Option::RecordRoute { route, .. }
            | Ipv4Option::LooseSourceRoute { route, .. }
            | Ipv4Option::StrictSourceRoute { route, .. } => 3 + route.len(),
            Ipv4Option::Timestamp { data, .. } => 4 + data.len(),
            Ipv4Option::RouterAlert(_) => 4,
            Ipv4Option::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// The addresses of a route option's data (empty for other options).
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        let route: &'a [u8] = match self {
            Ipv4Option::RecordRoute { route, .. }
            | Ipv4Option::LooseSourceRoute { route, .. }
            | Ipv4Option::StrictSourceRoute { route, .. } => route,
            _ => &[],
        };
        route
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }

    /// Writes the option at the start of `buf` and returns its length; `buf` must hold
    /// [`buffer_len`](Self::buffer_len) bytes, which must be at most 255.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let len = self.buffer_len();
        buf[0] = self.kind();
        match self {
            Ipv4Option::EndOfList | Ipv4Option::NoOperation => {}
            Ipv4Option::RecordRoute { pointer, route }
            | Ipv4Option::LooseSourceRoute { pointer, route }
            | Ipv4Option::StrictSourceRoute { pointer, route } => {
                buf[1] = len as u8;
                buf[2] = *pointer;
                buf[3..len].copy_from_slice(route);
            }
            Ipv4Option::Timestamp {
                pointer,
                overflow,
                flags,
                data,
            } => {
                buf[1] = len as u8;
                buf[2] = *pointer;
                buf[3] = (overflow << 4) | (flags & 0x0f);
                buf[4..len].copy_from_slice(data);
            }
            Ipv4Option::RouterAlert(v) => {
                buf[1] = 4;
                put_u16(buf, 2, *v);
            }
            Ipv4Option::Unknown { data, .. } => {
                buf[1] = len as u8;
                buf[2..len].copy_from_slice(data);
            }
        }
        len
    }
}

impl fmt::Display for Ipv4Option<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let route = |f: &mut fmt::Formatter<'_>, name: &str, pointer: u8| -> fmt::Result {
            write!(f, "{name} ptr={pointer}")?;
            for a in self.addresses() {
                write!(f, " {a}")?;
            }
            Ok(())
        };
        match self {
            Ipv4Option::EndOfList => f.write_str("EOL"),
            Ipv4Option::NoOperation => f.write_str("NOP"),
            Ipv4Option::RecordRoute { pointer, .. } => route(f, "RR", *pointer),
            Ipv4Option::LooseSourceRoute { pointer, .. } => route(f, "LSRR", *pointer),
            Ipv4Option::StrictSourceRoute { pointer, .. } => route(f, "SSRR", *pointer),
            Ipv4Option::Timestamp {
                pointer,
                overflow,
                flags,
                data,
            } => write!(
                f,
                "TS ptr={pointer} oflw={overflow} flg={flags} len={}",
                data.len()
            ),
            Ipv4Option::RouterAlert(v) => write!(f, "RA {v}"),
            Ipv4Option::Unknown { kind, data } => write!(f, "opt-{kind} len={}", data.len()),
        }
    }
}

/// An iterator over the options of an options area. Each item is an option or the error that
/// ends the walk; after `EndOfList` or an error it yields nothing more. At most 40 items.
#[derive(Debug, Clone)]
pub struct Ipv4Options<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Ipv4Options<'a> {
    /// Walks `area`, an options area.
    pub fn new(area: &'a [u8]) -> Self {
        Ipv4Options {
            rest: area,
            done: false,
        }
    }

    /// Checks every option in `area`.
    pub fn validate(area: &[u8]) -> Result<()> {
        if area.len() > MAX_OPTIONS_LEN {
            return Err(Error::Malformed("IPv4 options (over 40 bytes)"));
        }
        for o in Ipv4Options::new(area) {
            o?;
        }
        Ok(())
    }

    fn parse_one(&mut self) -> Result<Ipv4Option<'a>> {
        let b = self.rest;
        let kind = b[0];
        match kind {
            option_kind::END => {
                self.done = true;
                return Ok(Ipv4Option::EndOfList);
            }
            option_kind::NOP => {
                self.rest = &b[1..];
                return Ok(Ipv4Option::NoOperation);
            }
            _ => {}
        }
        let len = match b.get(1) {
            Some(&l) => usize::from(l),
            None => return Err(Error::Malformed("IPv4 option (no length octet)")),
        };
        if len < 2 || len > b.len() {
            return Err(Error::Malformed("IPv4 option length"));
        }
        let opt = &b[..len];
        self.rest = &b[len..];
        Ok(match kind {
            option_kind::RECORD_ROUTE | option_kind::LSRR | option_kind::SSRR => {
                if len < 3 || opt[2] < 4 {
                    return Err(Error::Malformed("IPv4 route option"));
                }
                let (pointer, route) = (opt[2], &opt[3..]);
                match kind {
                    option_kind::RECORD_ROUTE => Ipv4Option::RecordRoute { pointer, route },
                    option_kind::LSRR => Ipv4Option::LooseSourceRoute { pointer, route },
                    _ => Ipv4Option::StrictSourceRoute { pointer, route },
                }
            }
            option_kind::TIMESTAMP => {
                if len < 4 || opt[2] < 5 {
                    return Err(Error::Malformed("IPv4 timestamp option"));
                }
                Ipv4Option::Timestamp {
                    pointer: opt[2],
                    overflow: opt[3] >> 4,
                    flags: opt[3] & 0x0f,
                    data: &opt[4..],
                }
            }
            option_kind::ROUTER_ALERT => {
                if len != 4 {
                    return Err(Error::Malformed("IPv4 router alert option"));
                }
                Ipv4Option::RouterAlert(get_u16(opt, 2))
            }
            _ => Ipv4Option::Unknown {
                kind,
                data: &opt[2..],
            },
        })
    }
}

impl<'a> Iterator for Ipv4Options<'a> {
    type Item = Result<Ipv4Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let r = self.parse_one();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

/// Up to 40 bytes of IPv4 options, held by value (no allocation). Always valid: built by
/// [`from_slice`](Self::from_slice) (which checks) or [`push`](Self::push).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4OptionsBuf {
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl Ipv4OptionsBuf {
    /// No options.
    pub const fn new() -> Self {
        Ipv4OptionsBuf {
            bytes: [0; MAX_OPTIONS_LEN],
            len: 0,
        }
    }

    /// A checked copy of an options area.
    pub fn from_slice(area: &[u8]) -> Result<Self> {
        Ipv4Options::validate(area)?;
        let mut b = Self::new();
        b.bytes[..area.len()].copy_from_slice(area);
        b.len = area.len() as u8;
        Ok(b)
    }

    /// Appends an option; fails when it would not fit in 40 bytes (or is itself malformed).
    pub fn push(&mut self, option: &Ipv4Option<'_>) -> Result<()> {
        let at = usize::from(self.len);
        let n = option.buffer_len();
        if at + n > MAX_OPTIONS_LEN {
            return Err(Error::Malformed("IPv4 options (over 40 bytes)"));
        }
        let mut scratch = [0u8; MAX_OPTIONS_LEN];
        option.emit(&mut scratch[..n]);
        Ipv4Options::validate(&scratch[..n])?;
        self.bytes[at..at + n].copy_from_slice(&scratch[..n]);
        self.len += n as u8;
        Ok(())
    }

    /// The options' bytes, unpadded.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The options' length, unpadded.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// No options.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length on the wire: padded to a multiple of 4 with end-of-list octets.
    pub fn padded_len(&self) -> usize {
        (usize::from(self.len) + 3) & !3
    }

    /// The options, typed.
    pub fn iter(&self) -> Ipv4Options<'_> {
        Ipv4Options::new(self.as_slice())
    }

    /// The options a fragment after the first carries: those with the copied flag (RFC 791).
    pub fn copied_on_fragment(&self) -> Self {
        let mut out = Self::new();
        for o in self.iter().flatten() {
            if o.is_copied() {
                // Each option came from a valid 40-byte area, so a subset always fits.
                let _ = out.push(&o);
            }
        }
        out
    }
}

impl Default for Ipv4OptionsBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Ipv4OptionsBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// The payload's length (total length less the header).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Type of service (DSCP and ECN).
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't fragment.
    pub dont_frag: bool,
    /// More fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
    /// Options.
    pub options: Ipv4OptionsBuf,
}

impl Ipv4Repr {
    /// Parses and checks a header: version 4, the checksum, and every option.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Self> {
        if !packet.verify_checksum() {
            return Err(Error::Checksum("IPv4 header"));
        }
        Self::parse_unverified(packet)
    }

    /// Like [`parse`](Self::parse) without verifying the checksum (for a quoted header, or when
    /// hardware verified it).
    pub fn parse_unverified<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Self> {
        let p = Ipv4Packet::new_checked(packet.buffer.as_ref())?;
        if p.version() != 4 {
            return Err(Error::Malformed("IPv4 version"));
        }
        Ok(Ipv4Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()) - p.header_len(),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            options: Ipv4OptionsBuf::from_slice(p.options())?,
        })
    }

    /// The header's length, options and padding included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options.padded_len()
    }

    /// Header plus payload: the total length field (the caller keeps it ≤ 65535).
    pub fn total_len(&self) -> usize {
        self.buffer_len() + self.payload_len
    }

    /// Writes the header, options and checksum into the front of `packet`, which must hold
    /// [`buffer_len`](Self::buffer_len) bytes. The payload is not touched.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        let hl = self.buffer_len();
        packet.set_version(4);
        packet.set_header_len(hl);
        packet.set_tos(self.tos);
        packet.set_total_len(self.total_len().min(usize::from(u16::MAX)) as u16);
        packet.set_ident(self.ident);
        packet.clear_flags();
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        let opts = packet.options_mut();
        let n = self.options.len();
        opts[..n].copy_from_slice(self.options.as_slice());
        opts[n..].fill(0);
        packet.fill_checksum();
    }
}

impl fmt::Display for Ipv4Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IPv4 src={} dst={} proto={} len={} ttl={} id={}",
            self.src_addr, self.dst_addr, self.protocol, self.payload_len, self.ttl, self.ident
        )?;
        if self.tos != 0 {
            write!(f, " tos=0x{:02x}", self.tos)?;
        }
        if self.dont_frag {
            f.write_str(" DF")?;
        }
        if self.more_frags {
            f.write_str(" MF")?;
        }
        if self.frag_offset != 0 {
            write!(f, " off={}", self.frag_offset)?;
        }
        for o in self.options.iter().flatten() {
            write!(f, " [{o}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::EthernetFrame;
    use crate::testdata::{self, hex};
    use crate::testutil::{ipv4_repr, options_buf};
    use proptest::prelude::*;

    fn ip_of(frame_hex: &str) -> Vec<u8> {
        let f = hex(frame_hex);
        EthernetFrame::new_checked(&f[..])
            .unwrap()
            .payload()
            .to_vec()
    }

    #[test]
    fn captured_udp_datagram() {
        let b = ip_of(testdata::UDP_HELLO);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.src_addr, Ipv4Addr::LOCALHOST);
        assert_eq!(r.protocol, IpProtocol::Udp);
        assert_eq!(r.payload_len, 21);
        assert_eq!(r.ident, 0x82d3);
        assert!(r.dont_frag && !r.more_frags && r.frag_offset == 0);
        assert_eq!(r.ttl, 64);
        assert_eq!(p.payload().len(), 21);
        let mut out = vec![0u8; b.len()];
        out[20..].copy_from_slice(p.payload());
        r.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(
            out, b,
            "our emitter writes Linux's bytes, checksum included"
        );
        assert_eq!(
            r.to_string(),
            "IPv4 src=127.0.0.1 dst=127.0.0.1 proto=UDP len=21 ttl=64 id=33491 DF"
        );
    }

    #[test]
    fn captured_router_alert_option() {
        // Linux's IGMP reports carry a router alert option (IHL 6).
        let b = ip_of(testdata::IGMPV2_REPORT);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        let opts: Vec<_> = p.options_iter().collect::<Result<_>>().unwrap();
        assert_eq!(opts, vec![Ipv4Option::RouterAlert(0)]);
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.protocol, IpProtocol::Igmp);
        assert_eq!(r.ttl, 1);
        assert_eq!(r.buffer_len(), 24);
        let mut out = vec![0u8; b.len()];
        out[24..].copy_from_slice(p.payload());
        r.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
        assert!(r.to_string().ends_with("DF [RA 0]"));
    }

    #[test]
    fn checksum_and_length_errors() {
        let mut b = ip_of(testdata::UDP_HELLO);
        b[10] ^= 1;
        assert_eq!(
            Ipv4Repr::parse(&Ipv4Packet::new_checked(&b[..]).unwrap()),
            Err(Error::Checksum("IPv4 header"))
        );
        assert!(Ipv4Repr::parse_unverified(&Ipv4Packet::new_checked(&b[..]).unwrap()).is_ok());
        let b = ip_of(testdata::UDP_HELLO);
        assert!(matches!(
            Ipv4Packet::new_checked(&b[..40]),
            Err(Error::Truncated { .. })
        ));
        assert!(Ipv4Packet::new_checked_header(&b[..40]).is_ok());
        assert!(Ipv4Packet::new_checked(&b[..19]).is_err());
        let mut short = b.clone();
        short[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(matches!(
            Ipv4Packet::new_checked(&short[..]),
            Err(Error::Malformed(_))
        ));
        let mut ihl = b.clone();
        ihl[0] = 0x44;
        assert!(Ipv4Packet::new_checked(&ihl[..]).is_err());
        let mut v6 = b.clone();
        v6[0] = 0x65;
        let p = Ipv4Packet::new_checked(&v6[..]).unwrap();
        assert!(Ipv4Repr::parse_unverified(&p).is_err());
        // Link padding past the total length is not payload.
        let mut padded = b.clone();
        padded.extend_from_slice(&[0; 5]);
        assert_eq!(
            Ipv4Packet::new_checked(&padded[..])
                .unwrap()
                .payload()
                .len(),
            21
        );
    }

    #[test]
    fn ttl_decrement_keeps_checksum_valid() {
        let mut b = ip_of(testdata::UDP_HELLO);
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        assert_eq!(p.decrement_ttl(), 63);
        assert!(p.verify_checksum());
        let c = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), c);
    }

    #[test]
    fn fragment_fields() {
        let mut b = [0u8; 28];
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.set_more_frags(true);
        p.set_frag_offset(1480);
        p.set_dont_frag(true);
        p.set_dont_frag(false);
        assert!(p.more_frags() && !p.dont_frag());
        assert_eq!(p.frag_offset(), 1480);
        assert!(p.is_fragment());
        p.set_more_frags(false);
        assert!(p.is_fragment(), "last fragment: offset only");
        p.set_frag_offset(0);
        assert!(!p.is_fragment());
    }

    #[test]
    fn options_typed() {
        let area = [
            7, 11, 8, 192, 0, 2, 1, 0, 0, 0, 0, // RR with one recorded hop and one free slot
            1, // NOP
            68, 12, 5, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, // TS flag 1, overflow 1
            131, 7, 4, 198, 51, 100, 7, // LSRR
            130, 4, 0xab, 0xcd, // security: unknown, kept raw
            0, 0, 0, // EOL and padding
        ];
        let opts: Vec<_> = Ipv4Options::new(&area).collect::<Result<_>>().unwrap();
        assert_eq!(opts.len(), 6);
        assert_eq!(
            opts[0].addresses().collect::<Vec<_>>(),
            vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::UNSPECIFIED]
        );
        assert!(matches!(
            opts[2],
            Ipv4Option::Timestamp {
                pointer: 5,
                overflow: 1,
                flags: 1,
                ..
            }
        ));
        assert_eq!(opts[3].to_string(), "LSRR ptr=4 198.51.100.7");
        assert!(opts[3].is_copied() && !opts[0].is_copied());
        assert_eq!(
            opts[4],
            Ipv4Option::Unknown {
                kind: 130,
                data: &[0xab, 0xcd]
            }
        );
        assert_eq!(opts[5], Ipv4Option::EndOfList);
        let buf = Ipv4OptionsBuf::from_slice(&area).unwrap();
        assert_eq!(buf.len(), 38);
        assert_eq!(buf.padded_len(), 40);
        let copied = buf.copied_on_fragment();
        assert_eq!(copied.iter().count(), 2, "LSRR and security");
        // Each option re-emits to its own bytes.
        let mut at = 0;
        for o in &opts {
            let mut out = [0u8; 40];
            let n = o.emit(&mut out);
            assert_eq!(&out[..n], &area[at..at + n]);
            at += n;
        }
    }

    #[test]
    fn malformed_options() {
        for bad in [
            &[7u8][..],           // no length
            &[7, 1, 4][..],       // length under 2
            &[7, 9, 4, 0, 0][..], // longer than the area
            &[7, 3, 3][..],       // route pointer under 4
            &[68, 4, 4, 0][..],   // timestamp pointer under 5
            &[68, 3, 5][..],      // timestamp too short
            &[148, 3, 0][..],     // router alert of the wrong size
            &[148, 6, 0, 0, 0, 0][..],
        ] {
            assert!(Ipv4OptionsBuf::from_slice(bad).is_err(), "{bad:?}");
            let items: Vec<_> = Ipv4Options::new(bad).collect();
            assert!(items.last().unwrap().is_err());
        }
        assert!(Ipv4OptionsBuf::from_slice(&[1u8; 41]).is_err());
        let mut buf = Ipv4OptionsBuf::new();
        assert!(buf
            .push(&Ipv4Option::Unknown {
                kind: 30,
                data: &[0; 37]
            })
            .is_ok());
        assert!(buf.push(&Ipv4Option::RouterAlert(0)).is_err());
        assert_eq!(buf.len(), 39);
        assert!(buf
            .push(&Ipv4Option::RecordRoute {
                pointer: 0,
                route: &[]
            })
            .is_err());
    }

    proptest! {
        #[test]
        fn round_trip(r in ipv4_repr()) {
            let mut buf = vec![0u8; r.total_len()];
            r.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
            let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
            let mut back = Ipv4Repr::parse(&p).unwrap();
            // The options come back padded to a multiple of four.
            prop_assert_eq!(back.options.as_slice()[..r.options.len()].to_vec(), r.options.as_slice().to_vec());
            prop_assert!(back.options.as_slice()[r.options.len()..].iter().all(|&b| b == 0));
            back.options = r.options;
            prop_assert_eq!(back, r);
            let _ = r.to_string();
        }

        #[test]
        fn options_round_trip(o in options_buf()) {
            let again = Ipv4OptionsBuf::from_slice(o.as_slice()).unwrap();
            prop_assert_eq!(again, o);
            let n: usize = o.iter().map(|x| x.unwrap().buffer_len()).sum();
            prop_assert!(n <= o.len());
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(p) = Ipv4Packet::new_checked(&bytes[..]) {
                let _ = Ipv4Repr::parse(&p);
                let _ = Ipv4Repr::parse_unverified(&p);
                let _ = p.to_string();
                let _ = (p.payload(), p.options_iter().count(), p.verify_checksum());
            }
            if let Ok(p) = Ipv4Packet::new_checked_header(&bytes[..]) {
                let _ = (p.payload(), p.options_iter().count());
            }
            for o in Ipv4Options::new(&bytes).flatten() {
                let _ = (o.to_string(), o.addresses().count());
            }
        }

        #[test]
        fn incremental_ttl_equals_recomputed(r in ipv4_repr()) {
            prop_assume!(r.ttl > 0);
            let mut buf = vec![0u8; r.total_len()];
            let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
            r.emit(&mut p);
            p.decrement_ttl();
            let incremental = p.checksum();
            p.fill_checksum();
            prop_assert_eq!(incremental, p.checksum());
        }
    }
}
