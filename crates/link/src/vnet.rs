//! The virtio-net header (`struct virtio_net_hdr`, 10 bytes) that a TAP opened with
//! `IFF_VNET_HDR` (or an `AF_PACKET` socket with `PACKET_VNET_HDR`) puts in front of every frame,
//! and [`OffloadInfo`], the same facts in the form the stack uses.
//!
//! Layout (host byte order for a legacy device on a little-endian host, which is what Linux's tun
//! uses unless `TUNSETVNETBE` is set):
//!
//! | offset | field | meaning |
//! |---|---|---|
//! | 0 | flags | 1 = `NEEDS_CSUM`, 2 = `DATA_VALID` |
//! | 1 | gso_type | 0 none, 1 TCPv4, 3 UDP (UFO), 4 TCPv6, 5 UDP_L4 (USO); 0x80 = ECN |
//! | 2 | hdr_len | length of the headers in front of the payload |
//! | 4 | gso_size | segment payload size |
//! | 6 | csum_start | where the checksummed data starts |
//! | 8 | csum_offset | where the checksum field is, from `csum_start` |

/// The size of `struct virtio_net_hdr`.
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`.
pub const F_DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_GSO_ECN`.
pub const GSO_ECN: u8 = 0x80;

/// The header as it lies on the wire, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct VnetHeader {
    /// `NEEDS_CSUM`, `DATA_VALID`.
    pub flags: u8,
    /// The GSO type, ECN bit included.
    pub gso_type: u8,
    /// Header length.
    pub hdr_len: u16,
    /// Segment size.
    pub gso_size: u16,
    /// Start of checksummed data.
    pub csum_start: u16,
    /// Checksum field offset from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHeader {
    /// Reads a header from the first 10 bytes of `b`.
    pub fn parse(b: &[u8]) -> crate::Result<Self> {
        let b: &[u8; VNET_HDR_LEN] = b
            .get(..VNET_HDR_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(crate::Error::Vnet("shorter than 10 bytes"))?;
        let u = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Ok(VnetHeader {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        })
    }

    /// The header's 10 bytes.
    pub fn to_bytes(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }

    /// The offload state it describes, checked against a frame of `frame_len` bytes.
    pub fn to_offload(&self, frame_len: usize) -> crate::Result<OffloadInfo> {
        let partial_csum = if self.flags & F_NEEDS_CSUM != 0 {
            let end = usize::from(self.csum_start) + usize::from(self.csum_offset) + 2;
            if end > frame_len {
                return Err(crate::Error::Vnet("checksum field beyond the frame"));
            }
            Some(PartialCsum {
                start: self.csum_start,
                offset: self.csum_offset,
            })
        } else {
            None
        };
        let kind = match self.gso_type & !GSO_ECN {
            0 => None,
            1 => Some(GsoKind::TcpV4),
            3 => Some(GsoKind::Udp),
            4 => Some(GsoKind::TcpV6),
            5 => Some(GsoKind::UdpL4),
            _ => return Err(crate::Error::Vnet("unknown GSO type")),
        };
        let gso = match kind {
            None => None,
            Some(kind) => {
                if self.gso_size == 0 {
                    return Err(crate::Error::Vnet("GSO with a zero segment size"));
                }
                Some(Gso {
                    kind,
                    size: self.gso_size,
                    hdr_len: self.hdr_len,
                    ecn: self.gso_type & GSO_ECN != 0,
                })
            }
        };
        Ok(OffloadInfo {
            partial_csum,
            csum_valid: self.flags & F_DATA_VALID != 0,
            gso,
        })
    }

    /// The header that describes `o`.
    pub fn from_offload(o: &OffloadInfo) -> Self {
        let mut h = VnetHeader::default();
        if let Some(c) = o.partial_csum {
            h.flags |= F_NEEDS_CSUM;
            h.csum_start = c.start;
            h.csum_offset = c.offset;
        }
        if o.csum_valid {
            h.flags |= F_DATA_VALID;
        }
        if let Some(g) = o.gso {
            h.gso_type = match g.kind {
                GsoKind::TcpV4 => 1,
                GsoKind::Udp => 3,
                GsoKind::TcpV6 => 4,
                GsoKind::UdpL4 => 5,
            } | if g.ecn { GSO_ECN } else { 0 };
            h.gso_size = g.size;
            h.hdr_len = g.hdr_len;
        }
        h
    }
}

/// A transport checksum the sender left partial: the field at `start + offset` holds the
/// pseudo-header sum (not complemented), and the one's complement sum of everything from
/// `start` to the end of the frame is still to be folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialCsum {
    /// Start of the checksummed data, from the frame's first byte.
    pub start: u16,
    /// Offset of the checksum field from `start` (16 for TCP, 6 for UDP).
    pub offset: u16,
}

/// The kind of a super-frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GsoKind {
    /// TCP over IPv4 (TSO4).
    TcpV4,
    /// TCP over IPv6 (TSO6).
    TcpV6,
    /// Legacy UDP fragmentation offload (UFO): one datagram, to be IP-fragmented.
    Udp,
    /// UDP segmentation (USO): many datagrams of `size` bytes each.
    UdpL4,
}

/// A super-frame: one frame standing for many segments of `size` payload bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gso {
    /// What to segment.
    pub kind: GsoKind,
    /// Payload bytes per segment (the MSS for TCP).
    pub size: u16,
    /// Length of the Ethernet + IP + transport headers (a hint; Linux recomputes it).
    pub hdr_len: u16,
    /// TCP segments carry ECN (CWR must be on the first segment only).
    pub ecn: bool,
}

/// A frame's checksum and segmentation offload state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct OffloadInfo {
    /// The transport checksum is partial and must be completed (in software or by the device).
    pub partial_csum: Option<PartialCsum>,
    /// The host already verified the frame's checksums (`DATA_VALID`).
    pub csum_valid: bool,
    /// The frame is a super-frame.
    pub gso: Option<Gso>,
}

impl OffloadInfo {
    /// Whether the frame is a plain frame with complete checksums.
    pub fn is_plain(&self) -> bool {
        self.partial_csum.is_none() && self.gso.is_none()
    }

    /// Completes a partial checksum in software (for a link or a capture that cannot leave it
    /// to a device) and clears `partial_csum`. Fails if the offsets do not fit `frame`.
    pub fn complete_checksum(&mut self, frame: &mut [u8]) -> crate::Result<()> {
        let Some(c) = self.partial_csum else {
            return Ok(());
        };
        let start = usize::from(c.start);
        let at = start + usize::from(c.offset);
        if at + 2 > frame.len() {
            return Err(crate::Error::Vnet("checksum field beyond the frame"));
        }
        let mut sum = !wire::checksum::sum(&frame[start..]);
        // UDP sends zero as all ones (RFC 768); TCP's field is never left zero by a sum anyway.
        if sum == 0 && c.offset == 6 {
            sum = 0xffff;
        }
        frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
        self.partial_csum = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = VnetHeader {
            flags: F_NEEDS_CSUM,
            gso_type: 5,
            hdr_len: 42,
            gso_size: 1000,
            csum_start: 34,
            csum_offset: 6,
        };
        let b = h.to_bytes();
        assert_eq!(VnetHeader::parse(&b).unwrap(), h);
        let o = h.to_offload(8042).unwrap();
        assert_eq!(
            o,
            OffloadInfo {
                partial_csum: Some(PartialCsum {
                    start: 34,
                    offset: 6
                }),
                csum_valid: false,
                gso: Some(Gso {
                    kind: GsoKind::UdpL4,
                    size: 1000,
                    hdr_len: 42,
                    ecn: false
                }),
            }
        );
        assert_eq!(VnetHeader::from_offload(&o), h);
        assert_eq!(
            VnetHeader::from_offload(&OffloadInfo::default()).to_bytes(),
            [0; 10]
        );
    }

    #[test]
    fn header_errors() {
        assert!(VnetHeader::parse(&[0; 9]).is_err());
        let bad_type = VnetHeader {
            gso_type: 2,
            gso_size: 1,
            ..Default::default()
        };
        assert!(bad_type.to_offload(100).is_err());
        let zero_size = VnetHeader {
            gso_type: 1,
            ..Default::default()
        };
        assert!(zero_size.to_offload(100).is_err());
        let beyond = VnetHeader {
            flags: F_NEEDS_CSUM,
            csum_start: 90,
            csum_offset: 16,
            ..Default::default()
        };
        assert!(beyond.to_offload(100).is_err());
        let ecn = VnetHeader {
            gso_type: 1 | GSO_ECN,
            gso_size: 1448,
            ..Default::default()
        };
        assert!(ecn.to_offload(100).unwrap().gso.unwrap().ecn);
    }

    #[test]
    fn software_checksum_completion() {
        use std::net::Ipv4Addr;
        use wire::{UdpPacket, UdpRepr};
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 1));
        let payload = b"partial checksum, completed later";
        let repr = UdpRepr {
            src_port: 1234,
            dst_port: 7,
            payload_len: payload.len(),
        };
        let mut full = vec![0u8; 8 + payload.len()];
        full[8..].copy_from_slice(payload);
        let mut partial = full.clone();
        repr.emit(&mut UdpPacket::new_unchecked(&mut full[..]), src, dst);
        repr.emit_partial_checksum(&mut UdpPacket::new_unchecked(&mut partial[..]), src, dst);
        // Put both behind a fake 34-byte Ethernet + IP prefix.
        let mut frame = vec![0u8; 34];
        frame.extend_from_slice(&partial);
        let mut o = OffloadInfo {
            partial_csum: Some(PartialCsum {
                start: 34,
                offset: 6,
            }),
            ..Default::default()
        };
        o.complete_checksum(&mut frame).unwrap();
        assert!(o.is_plain());
        assert_eq!(&frame[34..], &full[..]);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any 10 bytes parse, and emit back to the same bytes.
        #[test]
        fn parse_emit_round_trip(b in proptest::array::uniform10(any::<u8>())) {
            let h = VnetHeader::parse(&b).unwrap();
            prop_assert_eq!(h.to_bytes(), b);
        }

        /// Whatever `to_offload` accepts, `from_offload` gives back (flags and GSO fields kept).
        #[test]
        fn offload_round_trip(b in proptest::array::uniform10(any::<u8>()), len in 0usize..70_000) {
            let h = VnetHeader::parse(&b).unwrap();
            if let Ok(o) = h.to_offload(len) {
                let back = VnetHeader::from_offload(&o);
                prop_assert_eq!(back.to_offload(len).unwrap(), o);
                prop_assert_eq!(back.flags, h.flags & (F_NEEDS_CSUM | F_DATA_VALID));
                prop_assert_eq!(back.gso_type, if o.gso.is_some() { h.gso_type } else { 0 });
            }
        }

        /// Completing a partial checksum never panics, whatever the offsets.
        #[test]
        fn complete_never_panics(frame in proptest::collection::vec(any::<u8>(), 0..200),
                                 start in any::<u16>(), offset in any::<u16>()) {
            let mut f = frame.clone();
            let mut o = OffloadInfo {
                partial_csum: Some(PartialCsum { start, offset }),
                ..Default::default()
            };
            let fits = usize::from(start) + usize::from(offset) + 2 <= frame.len();
            prop_assert_eq!(o.complete_checksum(&mut f).is_ok(), fits);
        }
    }
}
