//! ARP (RFC 826). The view reads any hardware/protocol sizes; [`ArpRepr`] is Ethernet/IPv4 only
//! and refuses anything else with [`Error::Unsupported`].

use crate::ethernet::{EtherType, EthernetAddress};
use crate::{get_ipv4, get_u16, need, put_ipv4, put_u16, Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

enum_with_unknown! {
    /// The ARP operation code.
    pub enum ArpOperation(u16) {
        /// 1: request.
        Request = 1,
        /// 2: reply.
        Reply = 2,
        /// 3: RARP request (RFC 903).
        RarpRequest = 3,
        /// 4: RARP reply (RFC 903).
        RarpReply = 4,
    }
}

enum_with_unknown! {
    /// The ARP hardware type.
    pub enum ArpHardware(u16) {
        /// 1: Ethernet (10 Mb and every Ethernet since).
        Ethernet = 1,
        /// 6: IEEE 802 networks.
        Ieee802 = 6,
    }
}

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: usize = 8;
}

/// The fixed part of an ARP packet, before the addresses.
pub const FIXED_LEN: usize = 8;
/// An Ethernet/IPv4 ARP packet's length.
pub const ETHERNET_IPV4_LEN: usize = 28;

/// A view of an ARP packet of any hardware and protocol address sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps `buffer` after checking it holds the fixed part and the four addresses.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the buffer's length against the address sizes it states.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        need("ARP header", FIXED_LEN, len)?;
        need("ARP packet", self.packet_len(), len)
    }

    /// The packet's length as its address sizes state it.
    pub fn packet_len(&self) -> usize {
        FIXED_LEN + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type.
    pub fn hardware_type(&self) -> ArpHardware {
        ArpHardware::from(get_u16(self.buffer.as_ref(), field::HTYPE))
    }

    /// Protocol type (an EtherType).
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::PTYPE))
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(get_u16(self.buffer.as_ref(), field::OPER))
    }

    fn offsets(&self) -> [usize; 5] {
        let h = usize::from(self.hardware_len());
        let p = usize::from(self.protocol_len());
        let sha = field::SHA;
        [
            sha,
            sha + h,
            sha + h + p,
            sha + 2 * h + p,
            sha + 2 * h + 2 * p,
        ]
    }

    /// Sender hardware address bytes.
    pub fn source_hardware_addr(&self) -> &[u8] {
        let o = self.offsets();
        &self.buffer.as_ref()[o[0]..o[1]]
    }

    /// Sender protocol address bytes.
    pub fn source_protocol_addr(&self) -> &[u8] {
        let o = self.offsets();
        &self.buffer.as_ref()[o[1]..o[2]]
    }

    /// Target hardware address bytes.
    pub fn target_hardware_addr(&self) -> &[u8] {
        let o = self.offsets();
        &self.buffer.as_ref()[o[2]..o[3]]
    }

    /// Target protocol address bytes.
    pub fn target_protocol_addr(&self) -> &[u8] {
        let o = self.offsets();
        &self.buffer.as_ref()[o[3]..o[4]]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, v: ArpHardware) {
        put_u16(self.buffer.as_mut(), field::HTYPE, v.into())
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, v: EtherType) {
        put_u16(self.buffer.as_mut(), field::PTYPE, v.into())
    }

    /// Sets the hardware address length.
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v
    }

    /// Sets the protocol address length.
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, v: ArpOperation) {
        put_u16(self.buffer.as_mut(), field::OPER, v.into())
    }

    /// Sets the sender hardware address (`v` must have the stated length).
    pub fn set_source_hardware_addr(&mut self, v: &[u8]) {
        let o = self.offsets();
        self.buffer.as_mut()[o[0]..o[1]].copy_from_slice(v)
    }

    /// Sets the sender protocol address.
    pub fn set_source_protocol_addr(&mut self, v: &[u8]) {
        let o = self.offsets();
        self.buffer.as_mut()[o[1]..o[2]].copy_from_slice(v)
    }

    /// Sets the target hardware address.
    pub fn set_target_hardware_addr(&mut self, v: &[u8]) {
        let o = self.offsets();
        self.buffer.as_mut()[o[2]..o[3]].copy_from_slice(v)
    }

    /// Sets the target protocol address.
    pub fn set_target_protocol_addr(&mut self, v: &[u8]) {
        let o = self.offsets();
        self.buffer.as_mut()[o[3]..o[4]].copy_from_slice(v)
    }
}

impl<T: AsRef<[u8]>> fmt::Display for ArpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ArpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ARP ({e})"),
        }
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Operation.
    pub operation: ArpOperation,
    /// Sender hardware address.
    pub source_hardware_addr: EthernetAddress,
    /// Sender protocol address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target hardware address (zero in a request).
    pub target_hardware_addr: EthernetAddress,
    /// Target protocol address.
    pub target_protocol_addr: Ipv4Addr,
}

impl ArpRepr {
    /// Parses an Ethernet/IPv4 ARP packet; other hardware or protocol types and sizes are
    /// [`Error::Unsupported`].
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<Self> {
        packet.check_len()?;
        if packet.hardware_type() != ArpHardware::Ethernet
            && packet.hardware_type() != ArpHardware::Ieee802
        {
            return Err(Error::Unsupported("ARP hardware type"));
        }
        if packet.protocol_type() != EtherType::Ipv4 {
            return Err(Error::Unsupported("ARP protocol type"));
        }
        if packet.hardware_len() != 6 || packet.protocol_len() != 4 {
            return Err(Error::Unsupported("ARP address sizes"));
        }
        let b = packet.buffer.as_ref();
        Ok(ArpRepr {
            operation: packet.operation(),
            source_hardware_addr: EthernetAddress::from_bytes(&b[8..14])?,
            source_protocol_addr: get_ipv4(b, 14),
            target_hardware_addr: EthernetAddress::from_bytes(&b[18..24])?,
            target_protocol_addr: get_ipv4(b, 24),
        })
    }

    /// The packet's length, 28.
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet (hardware type Ethernet) into a buffer of at least 28 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(ArpHardware::Ethernet);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        let b = packet.buffer.as_mut();
        b[8..14].copy_from_slice(&self.source_hardware_addr.0);
        put_ipv4(b, 14, self.source_protocol_addr);
        b[18..24].copy_from_slice(&self.target_hardware_addr.0);
        put_ipv4(b, 24, self.target_protocol_addr);
    }

    /// A gratuitous ARP (a request for one's own address) announcing `addr` at `hw`.
    pub fn gratuitous(hw: EthernetAddress, addr: Ipv4Addr) -> Self {
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: hw,
            source_protocol_addr: addr,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: addr,
        }
    }
}

impl fmt::Display for ArpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation {
            ArpOperation::Request => write!(
                f,
                "ARP who-has {} tell {} ({})",
                self.target_protocol_addr, self.source_protocol_addr, self.source_hardware_addr
            ),
            ArpOperation::Reply => write!(
                f,
                "ARP reply {} is-at {} (to {} {})",
                self.source_protocol_addr,
                self.source_hardware_addr,
                self.target_protocol_addr,
                self.target_hardware_addr
            ),
            op => write!(
                f,
                "ARP op={} sha={} spa={} tha={} tpa={}",
                u16::from(op),
                self.source_hardware_addr,
                self.source_protocol_addr,
                self.target_hardware_addr,
                self.target_protocol_addr
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::EthernetFrame;
    use crate::testdata::{self, hex};
    use crate::testutil::{eth_addr, ipv4_addr};
    use proptest::prelude::*;

    fn arp_of(frame_hex: &str) -> Vec<u8> {
        let f = hex(frame_hex);
        EthernetFrame::new_checked(&f[..])
            .unwrap()
            .payload()
            .to_vec()
    }

    #[test]
    fn captured_request_and_reply() {
        let req = arp_of(testdata::ARP_REQUEST);
        let p = ArpPacket::new_checked(&req[..]).unwrap();
        assert_eq!(p.packet_len(), 28);
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(
            r,
            ArpRepr {
                operation: ArpOperation::Request,
                source_hardware_addr: "02:00:00:00:00:0b".parse().unwrap(),
                source_protocol_addr: Ipv4Addr::new(10, 9, 0, 2),
                target_hardware_addr: EthernetAddress::UNSPECIFIED,
                target_protocol_addr: Ipv4Addr::new(10, 9, 0, 1),
            }
        );
        assert_eq!(
            r.to_string(),
            "ARP who-has 10.9.0.1 tell 10.9.0.2 (02:00:00:00:00:0b)"
        );

        let rep = arp_of(testdata::ARP_REPLY);
        let r = ArpRepr::parse(&ArpPacket::new_checked(&rep[..]).unwrap()).unwrap();
        assert_eq!(r.operation, ArpOperation::Reply);
        assert_eq!(r.source_hardware_addr.to_string(), "02:00:00:00:00:0a");
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(10, 9, 0, 1));
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(10, 9, 0, 2));
        // Linux's reply is exactly what we emit for it.
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, rep);
    }

    #[test]
    fn other_sizes_are_refused_cleanly() {
        let mut req = arp_of(testdata::ARP_REQUEST);
        req[5] = 16; // an IPv6-sized protocol address: 8 + 2 * 22 = 52 bytes, we have 46
        assert!(matches!(
            ArpPacket::new_checked(&req[..]),
            Err(Error::Truncated { .. })
        ));
        req[4] = 2;
        req[5] = 4; // 8 + 12 = 20 bytes: fits, but not Ethernet sized
        let p = ArpPacket::new_checked(&req[..]).unwrap();
        assert_eq!(p.source_hardware_addr().len(), 2);
        assert_eq!(
            ArpRepr::parse(&p),
            Err(Error::Unsupported("ARP address sizes"))
        );
        let mut req = arp_of(testdata::ARP_REQUEST);
        req[1] = 0x20; // hardware type 32 (InfiniBand)
        assert_eq!(
            ArpRepr::parse(&ArpPacket::new_checked(&req[..]).unwrap()),
            Err(Error::Unsupported("ARP hardware type"))
        );
        let mut req = arp_of(testdata::ARP_REQUEST);
        req[2] = 0x86;
        req[3] = 0xdd;
        assert_eq!(
            ArpRepr::parse(&ArpPacket::new_checked(&req[..]).unwrap()),
            Err(Error::Unsupported("ARP protocol type"))
        );
        assert!(ArpPacket::new_checked(&[0u8; 7][..]).is_err());
    }

    #[test]
    fn gratuitous() {
        let hw: EthernetAddress = "02:00:00:00:00:01".parse().unwrap();
        let g = ArpRepr::gratuitous(hw, Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(g.source_protocol_addr, g.target_protocol_addr);
        assert_eq!(g.operation, ArpOperation::Request);
    }

    fn repr() -> impl Strategy<Value = ArpRepr> {
        (
            any::<u16>(),
            eth_addr(),
            ipv4_addr(),
            eth_addr(),
            ipv4_addr(),
        )
            .prop_map(|(op, sha, spa, tha, tpa)| ArpRepr {
                operation: ArpOperation::from(op),
                source_hardware_addr: sha,
                source_protocol_addr: spa,
                target_hardware_addr: tha,
                target_protocol_addr: tpa,
            })
    }

    proptest! {
        #[test]
        fn round_trip(r in repr()) {
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
            prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).unwrap()).unwrap(), r);
            let _ = r.to_string();
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = ArpPacket::new_checked(&bytes[..]) {
                let _ = ArpRepr::parse(&p);
                let _ = p.to_string();
                let _ = (p.source_hardware_addr(), p.source_protocol_addr(), p.target_hardware_addr(), p.target_protocol_addr());
            }
        }
    }
}
