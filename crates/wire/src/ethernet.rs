//! Ethernet II (RFC 894) and IEEE 802.3 frames with 802.2 LLC and SNAP (RFC 1042).
//!
//! Both share the 14-byte MAC header: destination, source, and a 16-bit field that is an EtherType
//! when ≥ 0x0600 (Ethernet II) and the length of the LLC data when ≤ 1500 (802.3). Seed 001 calls
//! the two link-level encapsulations `ETHERNET` and `802.2` ([`Encapsulation`]). [`FrameRepr`]
//! tells them apart and carries the 802.2 LLC header and, for IP per RFC 1042, the SNAP header.

use crate::{get_u16, need, put_u16, Error, Result};
use core::fmt;
use core::str::FromStr;

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);
    /// 00:00:00:00:00:00 (the unknown target in an ARP request).
    pub const UNSPECIFIED: EthernetAddress = EthernetAddress([0; 6]);

    /// The address in the first six bytes of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        match bytes.get(..6) {
            Some(b) => {
                let mut a = [0u8; 6];
                a.copy_from_slice(b);
                Ok(EthernetAddress(a))
            }
            None => Err(Error::Truncated {
                what: "Ethernet address",
                need: 6,
                have: bytes.len(),
            }),
        }
    }

    /// The six octets.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// ff:ff:ff:ff:ff:ff.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// The group bit (I/G) is set; broadcast is a multicast too.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// An individual address that is not all zeros.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && *self != Self::UNSPECIFIED
    }

    /// The locally administered bit (U/L) is set.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The Ethernet multicast address an IPv4 multicast group maps to (RFC 1112 section 6.4):
    /// 01:00:5e followed by the group's low 23 bits.
    pub fn from_ipv4_multicast(group: std::net::Ipv4Addr) -> Self {
        let o = group.octets();
        EthernetAddress([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for EthernetAddress {
    type Err = Error;

    /// Six hexadecimal octets separated by `:` or `-` (one to two digits each), as in
    /// `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF` or `8:0:2b:1:2:3`.
    fn from_str(s: &str) -> Result<Self> {
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for slot in out.iter_mut() {
            let part = parts.next().ok_or(Error::Malformed("Ethernet address"))?;
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(Error::Malformed("Ethernet address"));
            }
            *slot =
                u8::from_str_radix(part, 16).map_err(|_| Error::Malformed("Ethernet address"))?;
        }
        if parts.next().is_some() {
            return Err(Error::Malformed("Ethernet address"));
        }
        Ok(EthernetAddress(out))
    }
}

impl From<[u8; 6]> for EthernetAddress {
    fn from(b: [u8; 6]) -> Self {
        EthernetAddress(b)
    }
}

enum_with_unknown! {
    /// The EtherType of an Ethernet II frame (or a SNAP protocol id with OUI 0).
    pub enum EtherType(u16) {
        /// IPv4, 0x0800.
        Ipv4 = 0x0800,
        /// ARP, 0x0806.
        Arp = 0x0806,
        /// DECnet Phase IV routing, 0x6003.
        DecnetRouting = 0x6003,
        /// DEC LAT, 0x6004.
        Lat = 0x6004,
        /// Reverse ARP, 0x8035.
        Rarp = 0x8035,
        /// IEEE 802.1Q VLAN tag, 0x8100.
        Vlan = 0x8100,
        /// IPv6, 0x86dd.
        Ipv6 = 0x86dd,
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Ipv4 => write!(f, "IPv4"),
            EtherType::Arp => write!(f, "ARP"),
            EtherType::DecnetRouting => write!(f, "DECnet"),
            EtherType::Lat => write!(f, "LAT"),
            EtherType::Rarp => write!(f, "RARP"),
            EtherType::Vlan => write!(f, "802.1Q"),
            EtherType::Ipv6 => write!(f, "IPv6"),
            EtherType::Unknown(t) => write!(f, "0x{t:04x}"),
        }
    }
}

/// Seed 001's link-level encapsulation mode of an Ethernet interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encapsulation {
    /// `ETHERNET`: Ethernet II frames, the EtherType after the addresses (RFC 894).
    #[default]
    Ethernet,
    /// `802.2`: IEEE 802.3 length frames with 802.2 LLC and SNAP (RFC 1042).
    Ieee8022,
}

impl fmt::Display for Encapsulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encapsulation::Ethernet => "ETHERNET",
            Encapsulation::Ieee8022 => "802.2",
        })
    }
}

impl FromStr for Encapsulation {
    type Err = Error;

    /// `ETHERNET` or `802.2`, any case.
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("ethernet") {
            Ok(Encapsulation::Ethernet)
        } else if s == "802.2" {
            Ok(Encapsulation::Ieee8022)
        } else {
            Err(Error::Malformed(
                "encapsulation (expected ETHERNET or 802.2)",
            ))
        }
    }
}

mod field {
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const TYPE: usize = 12;
}

/// The MAC header's length.
pub const HEADER_LEN: usize = 14;
/// The largest 802.3 length field; larger values up to 0x05ff are invalid.
pub const MAX_8023_LENGTH: u16 = 1500;
/// The smallest type/length value that is an EtherType.
pub const MIN_ETHERTYPE: u16 = 0x0600;

/// A view of an Ethernet or 802.3 frame: the 14-byte MAC header and what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` without checks; accessors may panic if it is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer` after checking that it holds at least the MAC header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Checks that the buffer holds the MAC header.
    pub fn check_len(&self) -> Result<()> {
        need("Ethernet header", HEADER_LEN, self.buffer.as_ref().len())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        let b = self.buffer.as_ref();
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[field::DST..field::DST + 6]);
        EthernetAddress(a)
    }

    /// The source address.
    pub fn src_addr(&self) -> EthernetAddress {
        let b = self.buffer.as_ref();
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[field::SRC..field::SRC + 6]);
        EthernetAddress(a)
    }

    /// The raw type/length field.
    pub fn type_or_length(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::TYPE)
    }

    /// The EtherType (meaningful only when [`is_ethernet_ii`](Self::is_ethernet_ii)).
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(self.type_or_length())
    }

    /// The type/length field is an EtherType (≥ 0x0600).
    pub fn is_ethernet_ii(&self) -> bool {
        self.type_or_length() >= MIN_ETHERTYPE
    }

    /// The type/length field is an 802.3 length (≤ 1500).
    pub fn is_ieee8023(&self) -> bool {
        self.type_or_length() <= MAX_8023_LENGTH
    }

    /// Everything after the MAC header (for 802.3 this includes LLC, SNAP and any padding).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::DST..field::DST + 6].copy_from_slice(&a.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::SRC..field::SRC + 6].copy_from_slice(&a.0);
    }

    /// Sets the raw type/length field.
    pub fn set_type_or_length(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::TYPE, v)
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        self.set_type_or_length(t.into())
    }

    /// Everything after the MAC header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for EthernetFrame<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match FrameRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "Ethernet ({e})"),
        }
    }
}

/// The MAC header of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// Source address.
    pub src_addr: EthernetAddress,
    /// EtherType (≥ 0x0600).
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Parses an Ethernet II header; an 802.3 length field is an error (use [`FrameRepr`]).
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self> {
        frame.check_len()?;
        if !frame.is_ethernet_ii() {
            return Err(Error::Malformed("Ethernet II type (an 802.3 length)"));
        }
        Ok(EthernetRepr {
            dst_addr: frame.dst_addr(),
            src_addr: frame.src_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// The header's length, 14.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

impl fmt::Display for EthernetRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EthernetII src={} dst={} type={}",
            self.src_addr, self.dst_addr, self.ethertype
        )
    }
}

/// The 802.2 LLC control field: one octet for U-format PDUs, two for I- and S-format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LlcControl {
    /// A U-format control octet (its low two bits are `11`), e.g. UI = 0x03.
    Unnumbered(u8),
    /// An I- or S-format control field, first octet in the high byte (its low two bits are not `11`).
    Numbered(u16),
}

impl LlcControl {
    /// Unnumbered Information, the control of every RFC 1042 frame.
    pub const UI: LlcControl = LlcControl::Unnumbered(0x03);

    /// The field's length in octets.
    pub const fn len(&self) -> usize {
        match self {
            LlcControl::Unnumbered(_) => 1,
            LlcControl::Numbered(_) => 2,
        }
    }

    /// Never empty; present for symmetry with `len`.
    pub const fn is_empty(&self) -> bool {
        false
    }
}

/// The SNAP SAP (0xAA), in DSAP and SSAP of RFC 1042 frames.
pub const SAP_SNAP: u8 = 0xaa;

/// A view of an 802.2 LLC PDU: DSAP, SSAP, control, then data (for SNAP, the SNAP header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlcPdu<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> LlcPdu<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        LlcPdu { buffer }
    }

    /// Wraps `buffer` after checking that it holds the whole LLC header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        need("LLC header", 3, len)?;
        need("LLC header", p.header_len(), len)?;
        Ok(p)
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The destination SAP.
    pub fn dsap(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The source SAP (its low bit is the command/response bit).
    pub fn ssap(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The control field.
    pub fn control(&self) -> LlcControl {
        let b = self.buffer.as_ref();
        if b[2] & 0x03 == 0x03 {
            LlcControl::Unnumbered(b[2])
        } else {
            LlcControl::Numbered(get_u16(b, 2))
        }
    }

    /// The LLC header's length: 3 or 4.
    pub fn header_len(&self) -> usize {
        if self.buffer.as_ref()[2] & 0x03 == 0x03 {
            3
        } else {
            4
        }
    }

    /// DSAP and SSAP are SNAP and the control is UI: a SNAP header follows.
    pub fn is_snap(&self) -> bool {
        self.dsap() == SAP_SNAP
            && self.ssap() & 0xfe == SAP_SNAP
            && self.control() == LlcControl::UI
    }

    /// The data after the LLC header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> LlcPdu<T> {
    /// Sets the destination SAP.
    pub fn set_dsap(&mut self, v: u8) {
        self.buffer.as_mut()[0] = v;
    }

    /// Sets the source SAP.
    pub fn set_ssap(&mut self, v: u8) {
        self.buffer.as_mut()[1] = v;
    }

    /// Sets the control field (a `Numbered` control needs a 4-byte header).
    pub fn set_control(&mut self, c: LlcControl) {
        match c {
            LlcControl::Unnumbered(v) => self.buffer.as_mut()[2] = v,
            LlcControl::Numbered(v) => put_u16(self.buffer.as_mut(), 2, v),
        }
    }

    /// The data after the LLC header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let at = self.header_len();
        &mut self.buffer.as_mut()[at..]
    }
}

/// An 802.2 LLC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LlcRepr {
    /// Destination SAP.
    pub dsap: u8,
    /// Source SAP.
    pub ssap: u8,
    /// Control field.
    pub control: LlcControl,
}

impl LlcRepr {
    /// The header RFC 1042 uses: DSAP = SSAP = 0xAA, control UI.
    pub const SNAP: LlcRepr = LlcRepr {
        dsap: SAP_SNAP,
        ssap: SAP_SNAP,
        control: LlcControl::UI,
    };

    /// Parses the LLC header.
    pub fn parse<T: AsRef<[u8]>>(pdu: &LlcPdu<T>) -> Result<Self> {
        let len = pdu.buffer.as_ref().len();
        need("LLC header", 3, len)?;
        need("LLC header", pdu.header_len(), len)?;
        Ok(LlcRepr {
            dsap: pdu.dsap(),
            ssap: pdu.ssap(),
            control: pdu.control(),
        })
    }

    /// The header's length: 3, or 4 with a numbered control.
    pub const fn buffer_len(&self) -> usize {
        2 + self.control.len()
    }

    /// Whether a SNAP header follows this LLC header.
    pub fn is_snap(&self) -> bool {
        self.dsap == SAP_SNAP && self.ssap & 0xfe == SAP_SNAP && self.control == LlcControl::UI
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, pdu: &mut LlcPdu<T>) {
        pdu.set_dsap(self.dsap);
        pdu.set_ssap(self.ssap);
        pdu.set_control(self.control);
    }
}

impl fmt::Display for LlcRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LLC dsap=0x{:02x} ssap=0x{:02x} ", self.dsap, self.ssap)?;
        match self.control {
            LlcControl::Unnumbered(c) => write!(f, "ctrl=0x{c:02x}"),
            LlcControl::Numbered(c) => write!(f, "ctrl=0x{c:04x}"),
        }
    }
}

/// The SNAP header's length.
pub const SNAP_LEN: usize = 5;

/// A SNAP header: an organizationally unique identifier and a protocol id (RFC 1042: OUI 0 and an
/// EtherType). Five bytes, parsed from and emitted into a plain slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SnapRepr {
    /// The OUI; 00-00-00 means the protocol id is an EtherType.
    pub oui: [u8; 3],
    /// The protocol id.
    pub protocol_id: u16,
}

impl SnapRepr {
    /// RFC 1042's SNAP header for an EtherType.
    pub fn ethertype(t: EtherType) -> Self {
        SnapRepr {
            oui: [0; 3],
            protocol_id: t.into(),
        }
    }

    /// Parses the first five bytes of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        need("SNAP header", SNAP_LEN, bytes.len())?;
        Ok(SnapRepr {
            oui: [bytes[0], bytes[1], bytes[2]],
            protocol_id: get_u16(bytes, 3),
        })
    }

    /// The header's length, 5.
    pub const fn buffer_len(&self) -> usize {
        SNAP_LEN
    }

    /// Writes the header into the first five bytes of `bytes` (which must hold them).
    pub fn emit(&self, bytes: &mut [u8]) {
        bytes[..3].copy_from_slice(&self.oui);
        put_u16(bytes, 3, self.protocol_id);
    }

    /// The EtherType, when the OUI is 00-00-00.
    pub fn as_ethertype(&self) -> Option<EtherType> {
        (self.oui == [0; 3]).then(|| EtherType::from(self.protocol_id))
    }
}

impl fmt::Display for SnapRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SNAP oui={:02x}-{:02x}-{:02x} pid=0x{:04x}",
            self.oui[0], self.oui[1], self.oui[2], self.protocol_id
        )
    }
}

/// A whole link-level header, told apart by the type/length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameRepr {
    /// Ethernet II: the field is an EtherType.
    EthernetII(EthernetRepr),
    /// IEEE 802.3: the field is the length of the LLC PDU (LLC header, SNAP header, data); any
    /// bytes after that are padding.
    Ieee8023 {
        /// Destination address.
        dst_addr: EthernetAddress,
        /// Source address.
        src_addr: EthernetAddress,
        /// The length field.
        length: u16,
        /// The LLC header.
        llc: LlcRepr,
        /// The SNAP header, present when the LLC header says so ([`LlcRepr::is_snap`]).
        snap: Option<SnapRepr>,
    },
}

impl FrameRepr {
    /// The header to send `payload_len` bytes of `ethertype` with the given encapsulation.
    /// For 802.2 this is RFC 1042's LLC/SNAP header; a payload over 1492 bytes does not fit.
    pub fn new(
        encapsulation: Encapsulation,
        dst_addr: EthernetAddress,
        src_addr: EthernetAddress,
        ethertype: EtherType,
        payload_len: usize,
    ) -> Result<Self> {
        match encapsulation {
            Encapsulation::Ethernet => Ok(FrameRepr::EthernetII(EthernetRepr {
                dst_addr,
                src_addr,
                ethertype,
            })),
            Encapsulation::Ieee8022 => {
                let length = payload_len + 3 + SNAP_LEN;
                if length > usize::from(MAX_8023_LENGTH) {
                    return Err(Error::Malformed("802.3 length (payload over 1492 bytes)"));
                }
                Ok(FrameRepr::Ieee8023 {
                    dst_addr,
                    src_addr,
                    length: length as u16,
                    llc: LlcRepr::SNAP,
                    snap: Some(SnapRepr::ethertype(ethertype)),
                })
            }
        }
    }

    /// Parses the MAC header and, for 802.3, the LLC and SNAP headers. An 802.3 length longer
    /// than the frame, or a type/length between 1501 and 0x05ff, is an error.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self> {
        frame.check_len()?;
        let tl = frame.type_or_length();
        if tl >= MIN_ETHERTYPE {
            return EthernetRepr::parse(frame).map(FrameRepr::EthernetII);
        }
        if tl > MAX_8023_LENGTH {
            return Err(Error::Malformed("Ethernet type/length (1501..0x05ff)"));
        }
        let payload = frame.payload();
        need("802.3 frame", usize::from(tl), payload.len())?;
        let pdu = LlcPdu::new_checked(&payload[..usize::from(tl)])?;
        let llc = LlcRepr::parse(&pdu)?;
        let snap = if llc.is_snap() {
            Some(SnapRepr::parse(pdu.payload())?)
        } else {
            None
        };
        Ok(FrameRepr::Ieee8023 {
            dst_addr: frame.dst_addr(),
            src_addr: frame.src_addr(),
            length: tl,
            llc,
            snap,
        })
    }

    /// Which of seed 001's encapsulations this is.
    pub fn encapsulation(&self) -> Encapsulation {
        match self {
            FrameRepr::EthernetII(_) => Encapsulation::Ethernet,
            FrameRepr::Ieee8023 { .. } => Encapsulation::Ieee8022,
        }
    }

    /// The destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        match self {
            FrameRepr::EthernetII(r) => r.dst_addr,
            FrameRepr::Ieee8023 { dst_addr, .. } => *dst_addr,
        }
    }

    /// The source address.
    pub fn src_addr(&self) -> EthernetAddress {
        match self {
            FrameRepr::EthernetII(r) => r.src_addr,
            FrameRepr::Ieee8023 { src_addr, .. } => *src_addr,
        }
    }

    /// The network protocol: the EtherType, or a SNAP protocol id under OUI 0. `None` for other
    /// LLC traffic.
    pub fn ethertype(&self) -> Option<EtherType> {
        match self {
            FrameRepr::EthernetII(r) => Some(r.ethertype),
            FrameRepr::Ieee8023 { snap, .. } => snap.and_then(|s| s.as_ethertype()),
        }
    }

    /// The length of all headers (MAC, LLC, SNAP): where the payload starts.
    pub fn buffer_len(&self) -> usize {
        match self {
            FrameRepr::EthernetII(_) => HEADER_LEN,
            FrameRepr::Ieee8023 { llc, snap, .. } => {
                HEADER_LEN + llc.buffer_len() + snap.map_or(0, |s| s.buffer_len())
            }
        }
    }

    /// The payload's length as the headers state it: `None` for Ethernet II (the rest of the
    /// frame), the 802.3 length less LLC and SNAP otherwise (what follows is padding).
    pub fn payload_len(&self) -> Option<usize> {
        match self {
            FrameRepr::EthernetII(_) => None,
            FrameRepr::Ieee8023 {
                length, llc, snap, ..
            } => Some(
                usize::from(*length)
                    .saturating_sub(llc.buffer_len() + snap.map_or(0, |s| s.buffer_len())),
            ),
        }
    }

    /// Writes the headers into the front of `frame` (which must hold [`buffer_len`](Self::buffer_len) bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        match self {
            FrameRepr::EthernetII(r) => r.emit(frame),
            FrameRepr::Ieee8023 {
                dst_addr,
                src_addr,
                length,
                llc,
                snap,
            } => {
                frame.set_dst_addr(*dst_addr);
                frame.set_src_addr(*src_addr);
                frame.set_type_or_length(*length);
                let mut pdu = LlcPdu::new_unchecked(frame.payload_mut());
                llc.emit(&mut pdu);
                if let Some(s) = snap {
                    s.emit(&mut pdu.payload_mut()[..SNAP_LEN]);
                }
            }
        }
    }
}

impl fmt::Display for FrameRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameRepr::EthernetII(r) => write!(f, "{r}"),
            FrameRepr::Ieee8023 {
                dst_addr,
                src_addr,
                length,
                llc,
                snap,
            } => {
                write!(f, "802.3 src={src_addr} dst={dst_addr} len={length} {llc}")?;
                if let Some(s) = snap {
                    write!(f, " {s}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{self, hex};
    use crate::testutil::eth_addr;
    use proptest::prelude::*;

    #[test]
    fn address_text_and_predicates() {
        let a: EthernetAddress = "02:00:00:00:00:0A".parse().unwrap();
        assert_eq!(a.to_string(), "02:00:00:00:00:0a");
        assert!(a.is_unicast() && a.is_local() && !a.is_multicast());
        assert_eq!(
            "8-0-2b-1-2-3"
                .parse::<EthernetAddress>()
                .unwrap()
                .to_string(),
            "08:00:2b:01:02:03"
        );
        assert!(
            EthernetAddress::BROADCAST.is_broadcast() && EthernetAddress::BROADCAST.is_multicast()
        );
        assert!(!EthernetAddress::UNSPECIFIED.is_unicast());
        for bad in [
            "",
            "1:2:3:4:5",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:xyz",
            "001:2:3:4:5:6",
            "1:2:3:4:5:",
            "+1:2:3:4:5:6",
        ] {
            assert!(bad.parse::<EthernetAddress>().is_err(), "{bad}");
        }
        assert_eq!(
            EthernetAddress::from_ipv4_multicast("239.129.2.3".parse().unwrap()).to_string(),
            "01:00:5e:01:02:03"
        );
        assert!(EthernetAddress::from_bytes(&[1, 2, 3]).is_err());
    }

    #[test]
    fn encapsulation_names() {
        assert_eq!(
            "ethernet".parse::<Encapsulation>().unwrap(),
            Encapsulation::Ethernet
        );
        assert_eq!(
            "802.2".parse::<Encapsulation>().unwrap(),
            Encapsulation::Ieee8022
        );
        assert!("snap".parse::<Encapsulation>().is_err());
        assert_eq!(Encapsulation::Ieee8022.to_string(), "802.2");
    }

    #[test]
    fn captured_arp_request_frame() {
        let bytes = hex(testdata::ARP_REQUEST);
        let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
        assert!(frame.is_ethernet_ii());
        let r = FrameRepr::parse(&frame).unwrap();
        assert_eq!(r.dst_addr(), EthernetAddress::BROADCAST);
        assert_eq!(r.src_addr().to_string(), "02:00:00:00:00:0b");
        assert_eq!(r.ethertype(), Some(EtherType::Arp));
        assert_eq!(r.buffer_len(), 14);
        assert_eq!(r.payload_len(), None);
        assert_eq!(
            frame.payload().len(),
            46,
            "28 bytes of ARP and 18 of padding"
        );
        assert_eq!(
            frame.to_string(),
            "EthernetII src=02:00:00:00:00:0b dst=ff:ff:ff:ff:ff:ff type=ARP"
        );
        // Re-emitting gives back the header bytes.
        let mut out = bytes.clone();
        out[..14].fill(0);
        r.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes);
    }

    #[test]
    fn rfc1042_snap_frame() {
        // An IPv4 datagram of 20 bytes in 802.2 LLC/SNAP, padded to the 60-byte minimum.
        let mut f = vec![0u8; 60];
        f[..6].copy_from_slice(&[0x08, 0x00, 0x2b, 0x01, 0x02, 0x03]);
        f[6..12].copy_from_slice(&[0xaa, 0x00, 0x04, 0x00, 0x01, 0x04]);
        f[12..14].copy_from_slice(&28u16.to_be_bytes());
        f[14..22].copy_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00]);
        f[22] = 0x45;
        let frame = EthernetFrame::new_checked(&f[..]).unwrap();
        assert!(frame.is_ieee8023());
        let r = FrameRepr::parse(&frame).unwrap();
        assert_eq!(r.encapsulation(), Encapsulation::Ieee8022);
        assert_eq!(r.ethertype(), Some(EtherType::Ipv4));
        assert_eq!(r.buffer_len(), 22);
        assert_eq!(r.payload_len(), Some(20));
        let built = FrameRepr::new(
            Encapsulation::Ieee8022,
            r.dst_addr(),
            r.src_addr(),
            EtherType::Ipv4,
            20,
        )
        .unwrap();
        assert_eq!(built, r);
        let mut out = vec![0u8; 60];
        out[22] = 0x45;
        built.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
        assert_eq!(out, f);
        assert!(FrameRepr::new(
            Encapsulation::Ieee8022,
            r.dst_addr(),
            r.src_addr(),
            EtherType::Ipv4,
            1493
        )
        .is_err());
        assert!(r.to_string().starts_with("802.3 src=aa:00:04:00:01:04"));
    }

    #[test]
    fn plain_llc_stp_bpdu() {
        // An 802.1D configuration BPDU: 802.3 length 38, LLC 42 42 03, no SNAP.
        let mut f = [0u8; 60];
        f[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0]);
        f[6..12].copy_from_slice(&[0x00, 0x1b, 0x21, 0x3c, 0x9d, 0xf8]);
        f[12..14].copy_from_slice(&38u16.to_be_bytes());
        f[14..17].copy_from_slice(&[0x42, 0x42, 0x03]);
        let r = FrameRepr::parse(&EthernetFrame::new_checked(&f[..]).unwrap()).unwrap();
        match r {
            FrameRepr::Ieee8023 {
                llc, snap, length, ..
            } => {
                assert_eq!(
                    llc,
                    LlcRepr {
                        dsap: 0x42,
                        ssap: 0x42,
                        control: LlcControl::UI
                    }
                );
                assert_eq!(snap, None);
                assert_eq!(length, 38);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.ethertype(), None);
        assert_eq!(r.payload_len(), Some(35));
    }

    #[test]
    fn numbered_llc_control_is_two_octets() {
        let pdu = LlcPdu::new_checked(&[0xf0, 0xf0, 0x00, 0x02, 0xff][..]).unwrap();
        assert_eq!(pdu.control(), LlcControl::Numbered(0x0002));
        assert_eq!(pdu.header_len(), 4);
        assert_eq!(pdu.payload(), &[0xff]);
        assert!(LlcPdu::new_checked(&[0xf0, 0xf0, 0x00][..]).is_err());
    }

    #[test]
    fn bad_type_length_and_truncation() {
        let mut f = [0u8; 60];
        f[12..14].copy_from_slice(&1501u16.to_be_bytes());
        assert!(matches!(
            FrameRepr::parse(&EthernetFrame::new_unchecked(&f[..])),
            Err(Error::Malformed(_))
        ));
        f[12..14].copy_from_slice(&47u16.to_be_bytes());
        assert!(matches!(
            FrameRepr::parse(&EthernetFrame::new_unchecked(&f[..])),
            Err(Error::Truncated { .. })
        ));
        assert!(EthernetFrame::new_checked(&f[..13]).is_err());
        f[12..14].copy_from_slice(&2u16.to_be_bytes());
        assert!(FrameRepr::parse(&EthernetFrame::new_unchecked(&f[..])).is_err());
        // An 802.3 header is not an Ethernet II header.
        assert!(EthernetRepr::parse(&EthernetFrame::new_unchecked(&f[..])).is_err());
    }

    fn llc() -> impl Strategy<Value = LlcRepr> {
        (any::<u8>(), any::<u8>(), any::<bool>(), any::<u16>()).prop_map(|(dsap, ssap, u, c)| {
            let control = if u {
                LlcControl::Unnumbered((c as u8) | 0x03)
            } else {
                let first = ((c >> 8) as u8) & !0x03 | ((c >> 8) as u8 & 0x01);
                LlcControl::Numbered(u16::from(first) << 8 | (c & 0xff))
            };
            LlcRepr {
                dsap,
                ssap,
                control,
            }
        })
    }

    fn frame_repr() -> impl Strategy<Value = FrameRepr> {
        prop_oneof![
            (eth_addr(), eth_addr(), 0x0600u16..=0xffff).prop_map(|(d, s, t)| {
                FrameRepr::EthernetII(EthernetRepr {
                    dst_addr: d,
                    src_addr: s,
                    ethertype: EtherType::from(t),
                })
            }),
            (
                eth_addr(),
                eth_addr(),
                llc(),
                any::<[u8; 3]>(),
                any::<u16>(),
                0u16..1500,
                any::<bool>()
            )
                .prop_map(|(d, s, llc, oui, pid, extra, snap_hdr)| {
                    let llc = if snap_hdr { LlcRepr::SNAP } else { llc };
                    let snap = llc.is_snap().then_some(SnapRepr {
                        oui,
                        protocol_id: pid,
                    });
                    let min = llc.buffer_len() + snap.map_or(0, |s| s.buffer_len());
                    let length = (min as u16 + extra).min(1500);
                    FrameRepr::Ieee8023 {
                        dst_addr: d,
                        src_addr: s,
                        length,
                        llc,
                        snap,
                    }
                }),
        ]
    }

    proptest! {
        #[test]
        fn frame_round_trip(r in frame_repr()) {
            let len = HEADER_LEN + match r { FrameRepr::Ieee8023 { length, .. } => usize::from(length), _ => 0 };
            let mut buf = vec![0u8; len];
            r.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
            let frame = EthernetFrame::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(FrameRepr::parse(&frame).unwrap(), r);
            if let FrameRepr::EthernetII(e) = r {
                prop_assert_eq!(EthernetRepr::parse(&frame).unwrap(), e);
            }
        }

        #[test]
        fn address_text_round_trip(a in eth_addr()) {
            prop_assert_eq!(a.to_string().parse::<EthernetAddress>().unwrap(), a);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(f) = EthernetFrame::new_checked(&bytes[..]) {
                let _ = FrameRepr::parse(&f);
                let _ = f.to_string();
                let _ = (f.dst_addr(), f.src_addr(), f.ethertype(), f.payload());
            }
            if let Ok(p) = LlcPdu::new_checked(&bytes[..]) {
                let _ = (LlcRepr::parse(&p), p.is_snap(), p.payload());
            }
            let _ = SnapRepr::parse(&bytes);
            let _ = String::from_utf8_lossy(&bytes).parse::<EthernetAddress>();
        }
    }
}
