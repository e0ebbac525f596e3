//! UDP (RFC 768) with the IPv4 pseudo-header checksum. On IPv4 a zero checksum means "none
//! computed"; a computed zero is sent as 0xffff.

use crate::ipv4::IpProtocol;
use crate::{get_u16, need, put_u16, Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// The header's length.
pub const HEADER_LEN: usize = 8;

transport_view! {
    /// A view of a UDP datagram.
    pub struct UdpPacket, protocol: IpProtocol::Udp
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` after checking `8 ≤ length field ≤ buffer length`.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        let have = p.buffer.as_ref().len();
        need("UDP header", HEADER_LEN, have)?;
        let len = usize::from(p.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed("UDP length (under 8)"));
        }
        need("UDP datagram", len, have)?;
        Ok(p)
    }

    /// The length field (header and data).
    pub fn len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Whether the length field says there is no data.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    fn datagram(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..usize::from(self.len()).clamp(HEADER_LEN, b.len())]
    }

    /// The data, up to the length field.
    pub fn payload(&self) -> &[u8] {
        &self.datagram()[HEADER_LEN..]
    }

    /// Whether the checksum verifies against the pseudo-header; a zero checksum ("none") does.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let d = self.datagram();
        Self::pseudo_sum(src, dst, d.len() as u16, d) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the length field.
    pub fn set_len(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::LENGTH, v)
    }

    /// Computes and stores the checksum over pseudo-header, header and data (a computed zero
    /// becomes 0xffff).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let d = self.datagram();
        let c = !Self::pseudo_sum(src, dst, d.len() as u16, d);
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// Stores the pseudo-header sum (not inverted) in the checksum field, as a sender does for
    /// checksum offload (Linux's `CHECKSUM_PARTIAL`, a TAP frame with `VIRTIO_NET_HDR_F_NEEDS_CSUM`):
    /// the device then sums header and data over it and stores the complement.
    pub fn fill_partial_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.store_pseudo_header(src, dst, self.len());
    }

    /// The data, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = usize::from(self.len());
        let b = self.buffer.as_mut();
        let end = len.clamp(HEADER_LEN, b.len());
        &mut b[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for UdpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match UdpRepr::parse_unverified(self) {
            Ok(r) => write!(f, "{r} cksum=0x{:04x}", self.checksum()),
            Err(e) => write!(f, "UDP ({e})"),
        }
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The data's length (length field less 8).
    pub payload_len: usize,
}

impl UdpRepr {
    /// Parses the header and verifies the checksum (unless it is zero) with the IPv4 addresses.
    /// Destination port 0 is malformed.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Self> {
        let r = Self::parse_unverified(packet)?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum("UDP"));
        }
        Ok(r)
    }

    /// Parses the header without verifying the checksum (offloaded or not wanted).
    pub fn parse_unverified<T: AsRef<[u8]>>(packet: &UdpPacket<T>) -> Result<Self> {
        let p = UdpPacket::new_checked(packet.buffer.as_ref())?;
        if p.dst_port() == 0 {
            return Err(Error::Malformed("UDP destination port 0"));
        }
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload_len: usize::from(p.len()) - HEADER_LEN,
        })
    }

    /// The header's length, 8.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header and the checksum. The data (`payload_len` bytes) must already be in
    /// place after the header, as it is when the header is prepended to a [`PacketBuf`](crate::PacketBuf).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        self.emit_without_checksum(packet);
        packet.fill_checksum(src, dst);
    }

    /// Writes the header with the partial (pseudo-header) checksum that checksum offload expects;
    /// see [`UdpPacket::fill_partial_checksum`].
    pub fn emit_partial_checksum<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        self.emit_without_checksum(packet);
        packet.fill_partial_checksum(src, dst);
    }

    /// Writes the header with a zero checksum: "none".
    pub fn emit_without_checksum<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut UdpPacket<T>) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len((HEADER_LEN + self.payload_len).min(usize::from(u16::MAX)) as u16);
        packet.set_checksum(0);
    }
}

impl fmt::Display for UdpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UDP src={} dst={} len={}",
            self.src_port, self.dst_port, self.payload_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::EthernetFrame;
    use crate::ipv4::Ipv4Packet;
    use crate::testdata::{self, hex};
    use crate::testutil::ipv4_addr;
    use crate::PacketBuf;
    use proptest::prelude::*;

    const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

    fn udp_of(frame_hex: &str) -> Vec<u8> {
        let f = hex(frame_hex);
        let e = EthernetFrame::new_checked(&f[..]).unwrap();
        Ipv4Packet::new_checked(e.payload())
            .unwrap()
            .payload()
            .to_vec()
    }

    #[test]
    fn captured_datagram() {
        let mut b = udp_of(testdata::UDP_HELLO);
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        // Captured on loopback, where Linux offloads the checksum: the field holds the
        // pseudo-header sum (CHECKSUM_PARTIAL), which does not verify until completed.
        assert_eq!(p.checksum(), crate::checksum::pseudo_header(LO, LO, 17, 21));
        assert_eq!(p.checksum(), 0xfe28);
        assert!(!p.verify_checksum(LO, LO));
        let r = UdpRepr::parse_unverified(&p).unwrap();
        let mut p = UdpPacket::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(LO, LO);
        assert!(p.verify_checksum(LO, LO));
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(UdpRepr::parse(&p, LO, LO).unwrap(), r);
        assert_eq!(
            r,
            UdpRepr {
                src_port: 36395,
                dst_port: 40000,
                payload_len: 13
            }
        );
        assert_eq!(p.payload(), b"hello maynard");
        assert_eq!(
            UdpRepr::parse(&p, LO, Ipv4Addr::new(127, 0, 0, 2)),
            Err(Error::Checksum("UDP"))
        );
        assert_eq!(
            p.to_string(),
            format!(
                "UDP src=36395 dst=40000 len=13 cksum=0x{:04x}",
                p.checksum()
            )
        );
    }

    #[test]
    fn emit_into_prepended_headroom() {
        // The way the stack sends: payload first, then headers prepended in front of it.
        let mut pkt = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, b"hello maynard");
        let r = UdpRepr {
            src_port: 36395,
            dst_port: 40000,
            payload_len: pkt.len(),
        };
        pkt.prepend(r.buffer_len()).unwrap();
        r.emit_partial_checksum(&mut UdpPacket::new_unchecked(pkt.as_mut_slice()), LO, LO);
        assert_eq!(
            pkt.as_slice(),
            &udp_of(testdata::UDP_HELLO)[..],
            "what Linux sends on lo"
        );
        r.emit(&mut UdpPacket::new_unchecked(pkt.as_mut_slice()), LO, LO);
        assert!(UdpPacket::new_checked(pkt.as_slice())
            .unwrap()
            .verify_checksum(LO, LO));
    }

    #[test]
    fn zero_checksum_means_none() {
        let mut b = udp_of(testdata::UDP_HELLO);
        b[6] = 0;
        b[7] = 0;
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert!(UdpRepr::parse(&p, Ipv4Addr::new(1, 2, 3, 4), LO).is_ok());
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Find a payload word that makes the sum come out to 0 and check it is sent as ffff.
        let r = UdpRepr {
            src_port: 1,
            dst_port: 2,
            payload_len: 2,
        };
        let mut b = [0u8; 10];
        r.emit(&mut UdpPacket::new_unchecked(&mut b[..]), LO, LO);
        let c = u16::from_be_bytes([b[6], b[7]]);
        // Put the checksum's value into the payload: the new sum is then all ones, checksum 0.
        b[8..10].copy_from_slice(&c.to_be_bytes());
        let mut p = UdpPacket::new_unchecked(&mut b[..]);
        p.fill_checksum(LO, LO);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(LO, LO));
    }

    #[test]
    fn length_checks() {
        let b = udp_of(testdata::UDP_HELLO);
        assert!(matches!(
            UdpPacket::new_checked(&b[..20]),
            Err(Error::Truncated { .. })
        ));
        assert!(UdpPacket::new_checked(&b[..7]).is_err());
        let mut s = b.clone();
        s[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert!(matches!(
            UdpPacket::new_checked(&s[..]),
            Err(Error::Malformed(_))
        ));
        let mut z = b.clone();
        z[2..4].fill(0);
        assert!(UdpRepr::parse_unverified(&UdpPacket::new_checked(&z[..]).unwrap()).is_err());
        // Bytes past the length field are not payload.
        let mut long = b.clone();
        long.push(0xee);
        assert_eq!(
            UdpPacket::new_checked(&long[..]).unwrap().payload(),
            b"hello maynard"
        );
    }

    proptest! {
        #[test]
        fn round_trip(
            src in ipv4_addr(), dst in ipv4_addr(), sp in any::<u16>(), dp in 1u16..,
            payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let r = UdpRepr { src_port: sp, dst_port: dp, payload_len: payload.len() };
            let mut buf = vec![0u8; r.buffer_len() + payload.len()];
            buf[HEADER_LEN..].copy_from_slice(&payload);
            let mut p = UdpPacket::new_unchecked(&mut buf[..]);
            r.emit(&mut p, src, dst);
            prop_assert_ne!(p.checksum(), 0);
            let p = UdpPacket::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(UdpRepr::parse(&p, src, dst).unwrap(), r);
            prop_assert_eq!(p.payload(), &payload[..]);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), a in ipv4_addr()) {
            if let Ok(p) = UdpPacket::new_checked(&bytes[..]) {
                let _ = UdpRepr::parse(&p, a, a);
                let _ = (p.to_string(), p.payload(), p.is_empty());
            }
        }
    }
}
