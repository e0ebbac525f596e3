//! ICMPv4 (RFC 792): echo, destination unreachable (with RFC 1191's next-hop MTU), source
//! quench, redirect, time exceeded, parameter problem, timestamp.
//!
//! The error messages quote the offending datagram: its IP header and at least 8 bytes of what
//! followed. [`Icmpv4Repr::quoted`] reads that quote; [`quote`] cuts one from a datagram.

use crate::checksum;
use crate::ipv4::{Ipv4Packet, Ipv4Repr};
use crate::{get_ipv4, get_u16, get_u32, need, put_ipv4, put_u16, put_u32, Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

enum_with_unknown! {
    /// The ICMP message type.
    pub enum Icmpv4Message(u8) {
        /// 0: echo reply.
        EchoReply = 0,
        /// 3: destination unreachable.
        DstUnreachable = 3,
        /// 4: source quench.
        SourceQuench = 4,
        /// 5: redirect.
        Redirect = 5,
        /// 8: echo request.
        EchoRequest = 8,
        /// 9: router advertisement.
        RouterAdvert = 9,
        /// 10: router solicitation.
        RouterSolicit = 10,
        /// 11: time exceeded.
        TimeExceeded = 11,
        /// 12: parameter problem.
        ParamProblem = 12,
        /// 13: timestamp.
        Timestamp = 13,
        /// 14: timestamp reply.
        TimestampReply = 14,
        /// 15: information request.
        InfoRequest = 15,
        /// 16: information reply.
        InfoReply = 16,
        /// 17: address mask request.
        MaskRequest = 17,
        /// 18: address mask reply.
        MaskReply = 18,
    }
}

impl Icmpv4Message {
    /// Whether messages of this type quote an offending datagram.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Icmpv4Message::DstUnreachable
                | Icmpv4Message::SourceQuench
                | Icmpv4Message::Redirect
                | Icmpv4Message::TimeExceeded
                | Icmpv4Message::ParamProblem
        )
    }
}

enum_with_unknown! {
    /// Destination unreachable codes (RFC 792, RFC 1122, RFC 1812).
    pub enum DstUnreachable(u8) {
        /// 0: net unreachable.
        NetUnreachable = 0,
        /// 1: host unreachable.
        HostUnreachable = 1,
        /// 2: protocol unreachable.
        ProtoUnreachable = 2,
        /// 3: port unreachable.
        PortUnreachable = 3,
        /// 4: fragmentation needed and DF set (next-hop MTU per RFC 1191).
        FragRequired = 4,
        /// 5: source route failed.
        SrcRouteFailed = 5,
        /// 6: destination network unknown.
        DstNetUnknown = 6,
        /// 7: destination host unknown.
        DstHostUnknown = 7,
        /// 8: source host isolated.
        SrcHostIsolated = 8,
        /// 9: network administratively prohibited.
        NetProhibited = 9,
        /// 10: host administratively prohibited.
        HostProhibited = 10,
        /// 11: network unreachable for TOS.
        NetUnreachToS = 11,
        /// 12: host unreachable for TOS.
        HostUnreachToS = 12,
        /// 13: communication administratively prohibited (RFC 1812), the packet filter's answer.
        CommProhibited = 13,
        /// 14: host precedence violation.
        HostPrecedenceViolation = 14,
        /// 15: precedence cutoff in effect.
        PrecedenceCutoff = 15,
    }
}

enum_with_unknown! {
    /// Redirect codes.
    pub enum Redirect(u8) {
        /// 0: for the network.
        Net = 0,
        /// 1: for the host.
        Host = 1,
        /// 2: for the type of service and network.
        NetTos = 2,
        /// 3: for the type of service and host.
        HostTos = 3,
    }
}

enum_with_unknown! {
    /// Time exceeded codes.
    pub enum TimeExceeded(u8) {
        /// 0: TTL exceeded in transit.
        TtlExpired = 0,
        /// 1: fragment reassembly time exceeded.
        FragExpired = 1,
    }
}

enum_with_unknown! {
    /// Parameter problem codes.
    pub enum ParamProblem(u8) {
        /// 0: the pointer indicates the error.
        AtPointer = 0,
        /// 1: a required option is missing (RFC 1108).
        MissingOption = 1,
        /// 2: bad length.
        BadLength = 2,
    }
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const REST: usize = 4;
    pub const ECHO_IDENT: usize = 4;
    pub const ECHO_SEQNO: usize = 6;
    pub const POINTER: usize = 4;
    pub const GATEWAY: usize = 4;
    pub const MTU: usize = 6;
    pub const ORIGINATE: usize = 8;
    pub const RECEIVE: usize = 12;
    pub const TRANSMIT: usize = 16;
}

/// The header's length (type, code, checksum, and the 4-byte rest of header).
pub const HEADER_LEN: usize = 8;
/// A timestamp message's length.
pub const TIMESTAMP_LEN: usize = 20;

/// A view of an ICMPv4 message. The checksum covers the whole buffer, so wrap exactly the
/// message (the IP payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
    }

    /// Wraps `buffer` after checking it holds the header (20 bytes for timestamps).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        need("ICMP header", HEADER_LEN, len)?;
        if matches!(
            p.msg_type(),
            Icmpv4Message::Timestamp | Icmpv4Message::TimestampReply
        ) {
            need("ICMP timestamp", TIMESTAMP_LEN, len)?;
        }
        Ok(p)
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv4Message {
        Icmpv4Message::from(self.buffer.as_ref()[field::TYPE])
    }

    /// The code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The 4-byte rest of the header, raw.
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[4], b[5], b[6], b[7]]
    }

    /// Echo and timestamp identifier.
    pub fn echo_ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Echo and timestamp sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// Fragmentation needed: the next-hop MTU (RFC 1191; zero from an old router).
    pub fn next_hop_mtu(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::MTU)
    }

    /// Redirect: the gateway to use.
    pub fn gateway(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::GATEWAY)
    }

    /// Parameter problem: the offending octet's offset.
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::POINTER]
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.buffer.as_ref();
        (b.len() >= at + 4).then(|| get_u32(b, at))
    }

    /// Timestamp: originate timestamp (`None` when the message is too short).
    pub fn originate_timestamp(&self) -> Option<u32> {
        self.u32_at(field::ORIGINATE)
    }

    /// Timestamp: receive timestamp.
    pub fn receive_timestamp(&self) -> Option<u32> {
        self.u32_at(field::RECEIVE)
    }

    /// Timestamp: transmit timestamp.
    pub fn transmit_timestamp(&self) -> Option<u32> {
        self.u32_at(field::TRANSMIT)
    }

    /// Everything after the 8-byte header: echo data, or the quoted datagram of an error.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// For an error message, the quoted datagram's header view (its payload is the quoted bytes
    /// that follow it); `None` for other types or a quote too short for an IPv4 header.
    pub fn quoted_datagram(&self) -> Option<Ipv4Packet<&[u8]>> {
        if !self.msg_type().is_error() {
            return None;
        }
        Ipv4Packet::new_checked_header(self.data()).ok()
    }

    /// Whether the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, v: Icmpv4Message) {
        self.buffer.as_mut()[field::TYPE] = v.into()
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }

    /// Sets the rest of the header, raw.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[field::REST..field::REST + 4].copy_from_slice(&v)
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::ECHO_IDENT, v)
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::ECHO_SEQNO, v)
    }

    /// Sets the next-hop MTU.
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::MTU, v)
    }

    /// Sets the redirect gateway.
    pub fn set_gateway(&mut self, a: Ipv4Addr) {
        put_ipv4(self.buffer.as_mut(), field::GATEWAY, a)
    }

    /// Sets the parameter-problem pointer.
    pub fn set_pointer(&mut self, v: u8) {
        self.buffer.as_mut()[field::POINTER] = v
    }

    /// Sets the three timestamps (the buffer must hold 20 bytes).
    pub fn set_timestamps(&mut self, originate: u32, receive: u32, transmit: u32) {
        let b = self.buffer.as_mut();
        put_u32(b, field::ORIGINATE, originate);
        put_u32(b, field::RECEIVE, receive);
        put_u32(b, field::TRANSMIT, transmit);
    }

    /// The data after the header, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Icmpv4Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Icmpv4Repr::parse_unverified(&Icmpv4Packet::new_unchecked(self.buffer.as_ref())) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ICMP ({e})"),
        }
    }
}

/// The part of the offending datagram an ICMP error quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted<'a> {
    /// The quoted IP header. Its `payload_len` comes from the quoted total length, not from
    /// the (shorter) quote.
    pub header: Ipv4Repr,
    /// The quoted bytes after the header (at least 8: the transport ports live there).
    pub payload: &'a [u8],
}

/// Cuts the quote an ICMP error carries from `datagram` (a whole IPv4 datagram): its header and
/// the first 8 bytes of its payload (RFC 792), or less when the datagram is shorter.
pub fn quote(datagram: &[u8]) -> &[u8] {
    let hl = match Ipv4Packet::new_checked_header(datagram) {
        Ok(p) => p.header_len(),
        Err(_) => return &datagram[..datagram.len().min(crate::ipv4::HEADER_LEN + 8)],
    };
    &datagram[..datagram.len().min(hl + 8)]
}

/// An ICMPv4 message. The `data` of error messages is the quoted datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    /// Echo request (ping).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data, echoed back.
        data: &'a [u8],
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Destination unreachable.
    DstUnreachable {
        /// The code.
        reason: DstUnreachable,
        /// Next-hop MTU for `FragRequired` (RFC 1191), otherwise zero.
        next_hop_mtu: u16,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Source quench.
    SourceQuench {
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Redirect.
    Redirect {
        /// The code.
        reason: Redirect,
        /// The better first hop.
        gateway: Ipv4Addr,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Time exceeded.
    TimeExceeded {
        /// The code.
        reason: TimeExceeded,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Parameter problem.
    ParamProblem {
        /// The code.
        reason: ParamProblem,
        /// The offending octet.
        pointer: u8,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Timestamp request (`reply: false`) or reply (`reply: true`).
    Timestamp {
        /// A reply (type 14) rather than a request (type 13).
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Originate timestamp (ms since midnight UT).
        originate: u32,
        /// Receive timestamp.
        receive: u32,
        /// Transmit timestamp.
        transmit: u32,
    },
    /// Any other type (router discovery, information, address mask, ...), kept raw.
    Other {
        /// The type.
        msg_type: u8,
        /// The code.
        code: u8,
        /// The rest of the header.
        rest: [u8; 4],
        /// The data.
        data: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a message and verifies its checksum.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Self> {
        if !Icmpv4Packet::new_checked(T::as_ref(packet.buffer))?.verify_checksum() {
            return Err(Error::Checksum("ICMP"));
        }
        Self::parse_unverified(packet)
    }

    /// Parses a message without verifying its checksum.
    pub fn parse_unverified<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Self> {
        let buf: &'a [u8] = T::as_ref(packet.buffer);
        let p = Icmpv4Packet::new_checked(buf)?;
        let code = p.msg_code();
        let data = &buf[HEADER_LEN..];
        Ok(match p.msg_type() {
            Icmpv4Message::EchoRequest if code == 0 => Icmpv4Repr::EchoRequest {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data,
            },
            Icmpv4Message::EchoReply if code == 0 => Icmpv4Repr::EchoReply {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data,
            },
            Icmpv4Message::DstUnreachable => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(code),
                next_hop_mtu: p.next_hop_mtu(),
                data,
            },
            Icmpv4Message::SourceQuench if code == 0 => Icmpv4Repr::SourceQuench { data },
            Icmpv4Message::Redirect => Icmpv4Repr::Redirect {
                reason: Redirect::from(code),
                gateway: p.gateway(),
                data,
            },
            Icmpv4Message::TimeExceeded => Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::from(code),
                data,
            },
            Icmpv4Message::ParamProblem => Icmpv4Repr::ParamProblem {
                reason: ParamProblem::from(code),
                pointer: p.pointer(),
                data,
            },
            t @ (Icmpv4Message::Timestamp | Icmpv4Message::TimestampReply)
                if code == 0 && data.len() == TIMESTAMP_LEN - HEADER_LEN =>
            {
                let b = buf;
                Icmpv4Repr::Timestamp {
                    reply: t == Icmpv4Message::TimestampReply,
                    ident: p.echo_ident(),
                    seq_no: p.echo_seq_no(),
                    originate: get_u32(b, field::ORIGINATE),
                    receive: get_u32(b, field::RECEIVE),
                    transmit: get_u32(b, field::TRANSMIT),
                }
            }
            t => Icmpv4Repr::Other {
                msg_type: t.into(),
                code,
                rest: p.rest_of_header(),
                data,
            },
        })
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv4Message {
        match self {
            Icmpv4Repr::EchoRequest { .. } => Icmpv4Message::EchoRequest,
            Icmpv4Repr::EchoReply { .. } => Icmpv4Message::EchoReply,
            Icmpv4Repr::DstUnreachable { .. } => Icmpv4Message::DstUnreachable,
            Icmpv4Repr::SourceQuench { .. } => Icmpv4Message::SourceQuench,
            Icmpv4Repr::Redirect { .. } => Icmpv4Message::Redirect,
            Icmpv4Repr::TimeExceeded { .. } => Icmpv4Message::TimeExceeded,
            Icmpv4Repr::ParamProblem { .. } => Icmpv4Message::ParamProblem,
            Icmpv4Repr::Timestamp { reply: false, .. } => Icmpv4Message::Timestamp,
            Icmpv4Repr::Timestamp { reply: true, .. } => Icmpv4Message::TimestampReply,
            Icmpv4Repr::Other { msg_type, .. } => Icmpv4Message::from(*msg_type),
        }
    }

    fn code(&self) -> u8 {
        match self {
            Icmpv4Repr::DstUnreachable { reason, .. } => (*reason).into(),
            Icmpv4Repr::Redirect { reason, .. } => (*reason).into(),
            Icmpv4Repr::TimeExceeded { reason, .. } => (*reason).into(),
            Icmpv4Repr::ParamProblem { reason, .. } => (*reason).into(),
            Icmpv4Repr::Other { code, .. } => *code,
            _ => 0,
        }
    }

    fn rest(&self) -> [u8; 4] {
        let mut r = [0u8; 4];
        match self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. }
            | Icmpv4Repr::EchoReply { ident, seq_no, .. }
            | Icmpv4Repr::Timestamp { ident, seq_no, .. } => {
                put_u16(&mut r, 0, *ident);
                put_u16(&mut r, 2, *seq_no);
            }
            Icmpv4Repr::DstUnreachable { next_hop_mtu, .. } => put_u16(&mut r, 2, *next_hop_mtu),
            Icmpv4Repr::Redirect { gateway, .. } => put_ipv4(&mut r, 0, *gateway),
            Icmpv4Repr::ParamProblem { pointer, .. } => r[0] = *pointer,
            Icmpv4Repr::Other { rest, .. } => r = *rest,
            Icmpv4Repr::SourceQuench { .. } | Icmpv4Repr::TimeExceeded { .. } => {}
        }
        r
    }

    /// The data after the 8-byte header (empty for timestamps, whose body is fixed).
    pub fn data(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::DstUnreachable { data, .. }
            | Icmpv4Repr::SourceQuench { data }
            | Icmpv4Repr::Redirect { data, .. }
            | Icmpv4Repr::TimeExceeded { data, .. }
            | Icmpv4Repr::ParamProblem { data, .. }
            | Icmpv4Repr::Other { data, .. } => data,
            Icmpv4Repr::Timestamp { .. } => &[],
        }
    }

    /// For an error message, the quoted datagram: its IP header (checksum not verified: routers
    /// may have changed it) and the bytes after it, of which there must be at least 8.
    pub fn quoted(&self) -> Result<Quoted<'a>> {
        if !self.msg_type().is_error() {
            return Err(Error::Malformed("ICMP quote (not an error message)"));
        }
        let p = Ipv4Packet::new_checked_header(self.data())?;
        if p.version() != 4 {
            return Err(Error::Malformed("ICMP quote (IP version)"));
        }
        let payload = &self.data()[p.header_len()..];
        need("ICMP quote (8 bytes after the IP header)", 8, payload.len())?;
        let header = Ipv4Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()).saturating_sub(p.header_len()),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            options: crate::ipv4::Ipv4OptionsBuf::from_slice(p.options())?,
        };
        Ok(Quoted { header, payload })
    }

    /// The message's length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv4Repr::Timestamp { .. } => TIMESTAMP_LEN,
            _ => HEADER_LEN + self.data().len(),
        }
    }

    /// Writes the message (header, data, checksum) into a buffer of exactly
    /// [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        let data = self.data();
        packet.data_mut()[..data.len()].copy_from_slice(data);
        self.emit_header(packet);
    }

    /// Writes the header (and a timestamp's body) and the checksum over the whole buffer,
    /// leaving the data as it is: for data already in place, e.g. an echo reply built in the
    /// request's own buffer.
    pub fn emit_header<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        packet.set_msg_type(self.msg_type());
        packet.set_msg_code(self.code());
        packet.set_rest_of_header(self.rest());
        if let Icmpv4Repr::Timestamp {
            originate,
            receive,
            transmit,
            ..
        } = *self
        {
            packet.set_timestamps(originate, receive, transmit);
        }
        packet.fill_checksum();
    }
}

impl fmt::Display for Icmpv4Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => write!(f, "ICMP echo request id={ident} seq={seq_no} len={}", data.len()),
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => write!(f, "ICMP echo reply id={ident} seq={seq_no} len={}", data.len()),
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                write!(f, "ICMP unreachable {reason:?}")?;
                if *reason == DstUnreachable::FragRequired {
                    write!(f, " mtu={next_hop_mtu}")?;
                }
                Ok(())
            }
            Icmpv4Repr::SourceQuench { .. } => write!(f, "ICMP source quench"),
            Icmpv4Repr::Redirect {
                reason, gateway, ..
            } => write!(f, "ICMP redirect {reason:?} to {gateway}"),
            Icmpv4Repr::TimeExceeded { reason, .. } => write!(f, "ICMP time exceeded {reason:?}"),
            Icmpv4Repr::ParamProblem {
                reason, pointer, ..
            } => write!(f, "ICMP parameter problem {reason:?} pointer={pointer}"),
            Icmpv4Repr::Timestamp {
                reply,
                ident,
                seq_no,
                originate,
                receive,
                transmit,
            } => write!(
                f,
                "ICMP timestamp {} id={ident} seq={seq_no} orig={originate} recv={receive} xmit={transmit}",
                if *reply { "reply" } else { "request" }
            ),
            Icmpv4Repr::Other {
                msg_type,
                code,
                data,
                ..
            } => write!(f, "ICMP type={msg_type} code={code} len={}", data.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::EthernetFrame;
    use crate::ipv4::IpProtocol;
    use crate::testdata::{self, hex};
    use crate::testutil::ipv4_addr;
    use crate::udp::UdpPacket;
    use proptest::prelude::*;

    fn icmp_of(frame_hex: &str) -> Vec<u8> {
        let f = hex(frame_hex);
        let e = EthernetFrame::new_checked(&f[..]).unwrap();
        let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
        assert_eq!(ip.protocol(), IpProtocol::Icmp);
        ip.payload().to_vec()
    }

    #[test]
    fn captured_echo_request_and_reply() {
        let req = icmp_of(testdata::ICMP_ECHO_REQUEST);
        let p = Icmpv4Packet::new_checked(&req[..]).unwrap();
        let r = Icmpv4Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Icmpv4Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: b"maynard-ping-0123456789abcdef"
            }
        );
        assert_eq!(r.to_string(), "ICMP echo request id=4660 seq=1 len=29");

        // Linux's reply is what we build, in place, from the request's own buffer.
        let reply = icmp_of(testdata::ICMP_ECHO_REPLY);
        let mut buf = req.clone();
        let (ident, seq_no) = (p.echo_ident(), p.echo_seq_no());
        let answer = Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data: &[],
        };
        answer.emit_header(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, reply);
        let r = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&reply[..]).unwrap()).unwrap();
        assert!(matches!(
            r,
            Icmpv4Repr::EchoReply {
                ident: 0x1234,
                seq_no: 1,
                ..
            }
        ));
        // And with the data copied.
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, reply);
    }

    #[test]
    fn captured_port_unreachable_quotes_the_datagram() {
        let b = icmp_of(testdata::ICMP_PORT_UNREACHABLE);
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        let r = Icmpv4Repr::parse(&p).unwrap();
        assert!(matches!(
            r,
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::PortUnreachable,
                next_hop_mtu: 0,
                ..
            }
        ));
        let q = r.quoted().unwrap();
        assert_eq!(q.header.protocol, IpProtocol::Udp);
        assert_eq!(q.header.src_addr, Ipv4Addr::LOCALHOST);
        assert_eq!(q.header.payload_len, 21);
        let udp = UdpPacket::new_unchecked(q.payload);
        assert_eq!((udp.src_port(), udp.dst_port()), (36395, 40000));
        let view = p.quoted_datagram().unwrap();
        assert_eq!(view.ident(), 0x82d3);
        assert_eq!(r.to_string(), "ICMP unreachable PortUnreachable");
    }

    fn datagram() -> Vec<u8> {
        let f = hex(testdata::UDP_HELLO);
        f[14..].to_vec()
    }

    #[test]
    fn fragmentation_needed_carries_mtu() {
        let dg = datagram();
        let quoted = quote(&dg);
        assert_eq!(quoted.len(), 28, "IP header and 8 bytes");
        let r = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FragRequired,
            next_hop_mtu: 1400,
            data: quoted,
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        assert_eq!(&b[..2], &[3, 4]);
        assert_eq!(&b[4..8], &[0, 0, 0x05, 0x78]);
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.next_hop_mtu(), 1400);
        assert_eq!(Icmpv4Repr::parse(&p).unwrap(), r);
        assert_eq!(r.to_string(), "ICMP unreachable FragRequired mtu=1400");
        assert_eq!(r.quoted().unwrap().payload.len(), 8);
    }

    #[test]
    fn every_unreachable_code_and_admin_prohibited() {
        for code in 0u8..=15 {
            let reason = DstUnreachable::from(code);
            assert!(
                !matches!(reason, DstUnreachable::Unknown(_)),
                "code {code} has a name"
            );
        }
        assert_eq!(DstUnreachable::from(13), DstUnreachable::CommProhibited);
        let dg = datagram();
        let r = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::CommProhibited,
            next_hop_mtu: 0,
            data: quote(&dg),
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        assert_eq!((b[0], b[1]), (3, 13));
        assert!(Icmpv4Packet::new_checked(&b[..]).unwrap().verify_checksum());
    }

    #[test]
    fn other_errors() {
        let dg = datagram();
        let q = quote(&dg);
        let cases = [
            (
                Icmpv4Repr::TimeExceeded {
                    reason: TimeExceeded::TtlExpired,
                    data: q,
                },
                [11u8, 0],
            ),
            (
                Icmpv4Repr::TimeExceeded {
                    reason: TimeExceeded::FragExpired,
                    data: q,
                },
                [11, 1],
            ),
            (Icmpv4Repr::SourceQuench { data: q }, [4, 0]),
            (
                Icmpv4Repr::Redirect {
                    reason: Redirect::Host,
                    gateway: Ipv4Addr::new(192, 0, 2, 9),
                    data: q,
                },
                [5, 1],
            ),
            (
                Icmpv4Repr::ParamProblem {
                    reason: ParamProblem::AtPointer,
                    pointer: 9,
                    data: q,
                },
                [12, 0],
            ),
        ];
        for (r, tc) in cases {
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
            assert_eq!([b[0], b[1]], tc);
            let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
            assert_eq!(Icmpv4Repr::parse(&p).unwrap(), r);
            assert!(r.msg_type().is_error());
            assert_eq!(r.quoted().unwrap().header.dst_addr, Ipv4Addr::LOCALHOST);
            let _ = r.to_string();
        }
        let mut b = vec![0u8; 8 + q.len()];
        Icmpv4Repr::Redirect {
            reason: Redirect::Net,
            gateway: Ipv4Addr::new(10, 0, 0, 1),
            data: q,
        }
        .emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        assert_eq!(
            Icmpv4Packet::new_checked(&b[..]).unwrap().gateway(),
            Ipv4Addr::new(10, 0, 0, 1)
        );
        // A quote too short for ports is refused.
        let r = Icmpv4Repr::TimeExceeded {
            reason: TimeExceeded::TtlExpired,
            data: &q[..24],
        };
        assert!(r.quoted().is_err());
        assert!(Icmpv4Repr::EchoRequest {
            ident: 0,
            seq_no: 0,
            data: q
        }
        .quoted()
        .is_err());
    }

    #[test]
    fn timestamp() {
        let r = Icmpv4Repr::Timestamp {
            reply: true,
            ident: 7,
            seq_no: 8,
            originate: 3_600_000,
            receive: 3_600_010,
            transmit: 3_600_011,
        };
        assert_eq!(r.buffer_len(), 20);
        let mut b = [0u8; 20];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        assert_eq!(b[0], 14);
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.transmit_timestamp(), Some(3_600_011));
        assert_eq!(Icmpv4Repr::parse(&p).unwrap(), r);
        assert!(matches!(
            Icmpv4Packet::new_checked(&b[..19]),
            Err(Error::Truncated { .. })
        ));
        assert_eq!(
            Icmpv4Packet::new_unchecked(&b[..8]).originate_timestamp(),
            None
        );
    }

    #[test]
    fn checksum_and_length() {
        let mut b = icmp_of(testdata::ICMP_ECHO_REQUEST);
        b[3] ^= 1;
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Icmpv4Repr::parse(&p), Err(Error::Checksum("ICMP")));
        assert!(Icmpv4Repr::parse_unverified(&p).is_ok());
        assert!(Icmpv4Packet::new_checked(&b[..7]).is_err());
        // An address mask request is kept raw.
        let r = Icmpv4Repr::Other {
            msg_type: 17,
            code: 0,
            rest: [0, 1, 0, 2],
            data: &[0; 4],
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        assert_eq!(
            Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&b[..]).unwrap()).unwrap(),
            r
        );
        assert_eq!(r.msg_type(), Icmpv4Message::MaskRequest);
    }

    type Params = (u8, u16, u16, u8, Ipv4Addr, [u32; 3], [u8; 4]);

    fn params() -> impl Strategy<Value = Params> {
        (
            0u8..10,
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
            ipv4_addr(),
            any::<[u32; 3]>(),
            any::<[u8; 4]>(),
        )
    }

    fn build((k, a, s, c, g, ts, rest): Params, data: &[u8]) -> Icmpv4Repr<'_> {
        match k {
            0 => Icmpv4Repr::EchoRequest {
                ident: a,
                seq_no: s,
                data,
            },
            1 => Icmpv4Repr::EchoReply {
                ident: a,
                seq_no: s,
                data,
            },
            2 => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(c),
                next_hop_mtu: s,
                data,
            },
            3 => Icmpv4Repr::SourceQuench { data },
            4 => Icmpv4Repr::Redirect {
                reason: Redirect::from(c),
                gateway: g,
                data,
            },
            5 => Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::from(c),
                data,
            },
            6 => Icmpv4Repr::ParamProblem {
                reason: ParamProblem::from(c),
                pointer: a as u8,
                data,
            },
            7 => Icmpv4Repr::Timestamp {
                reply: c & 1 == 1,
                ident: a,
                seq_no: s,
                originate: ts[0],
                receive: ts[1],
                transmit: ts[2],
            },
            _ => Icmpv4Repr::Other {
                msg_type: match c {
                    0 | 3 | 4 | 5 | 8 | 11 | 12 | 13 | 14 => 42,
                    t => t,
                },
                code: c,
                rest,
                data,
            },
        }
    }

    proptest! {
        #[test]
        fn round_trip(params in params(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let r = build(params, &data);
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
            let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
            prop_assert_eq!(Icmpv4Repr::parse(&p).unwrap(), r);
            let _ = (r.to_string(), r.quoted());
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Icmpv4Packet::new_checked(&bytes[..]) {
                let _ = Icmpv4Repr::parse(&p);
                if let Ok(r) = Icmpv4Repr::parse_unverified(&p) {
                    let _ = (r.quoted(), r.to_string());
                }
                let _ = (p.to_string(), p.quoted_datagram().map(|q| q.payload().len()));
                let _ = (p.originate_timestamp(), p.receive_timestamp(), p.transmit_timestamp());
            }
            let _ = quote(&bytes);
        }
    }
}
