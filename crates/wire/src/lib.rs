//! `wire`: zero-copy checked views and emitters for the formats Maynard's stack speaks.
//!
//! Every format follows one shape (after smoltcp's `wire`):
//!
//! - a **view** `Foo<T: AsRef<[u8]>>` over the bytes: `new_checked` validates every length so the
//!   field accessors never panic; `new_unchecked` is for emitters that fill a buffer they sized with
//!   `FooRepr::buffer_len`; setters exist when `T: AsMut<[u8]>`;
//! - a **`Repr`**, the parsed high-level form: `FooRepr::parse(&view)` checks semantics
//!   (versions, checksums, option syntax) and `repr.emit(&mut view)` writes it back.
//!
//! Parse and emit never allocate and never panic on arbitrary bytes; malformed input is an [`Error`].
//! Nothing here does I/O or reads a clock.
//!
//! [`buf::PacketBuf`] is the owned buffer with headroom that passes through the stack's layers:
//! parse a header in place, `trim_front` it, and on the way out `prepend` headers and emit into them.
//!
//! ```
//! use wire::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, FrameRepr, PacketBuf};
//!
//! // Sending: the payload first, then each layer prepends its header and emits into it.
//! let mut pkt = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, &[0x45; 20]);
//! let eth = EthernetRepr {
//!     dst_addr: EthernetAddress::BROADCAST,
//!     src_addr: "02:00:00:00:00:01".parse().unwrap(),
//!     ethertype: EtherType::Ipv4,
//! };
//! pkt.prepend(eth.buffer_len()).unwrap();
//! eth.emit(&mut EthernetFrame::new_unchecked(pkt.as_mut_slice()));
//!
//! // Receiving: a checked view, a parsed header, and the header trimmed off without a copy.
//! let frame = EthernetFrame::new_checked(pkt.as_slice()).unwrap();
//! let header = FrameRepr::parse(&frame).unwrap();
//! assert_eq!(header.ethertype(), Some(EtherType::Ipv4));
//! pkt.trim_front(header.buffer_len()).unwrap();
//! assert_eq!(pkt.len(), 20);
//! ```

#![forbid(unsafe_code)]

#[macro_use]
mod macros;

pub mod arp;
pub mod buf;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod igmp;
pub mod ipv4;
pub mod prefix;
pub mod tcp;
pub mod udp;

#[cfg(test)]
mod testdata;
#[cfg(test)]
mod testutil;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use buf::PacketBuf;
pub use ethernet::{
    Encapsulation, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, FrameRepr, LlcControl,
    LlcPdu, LlcRepr, SnapRepr,
};
pub use icmpv4::{Icmpv4Message, Icmpv4Packet, Icmpv4Repr};
pub use igmp::{IgmpPacket, IgmpRepr};
pub use ipv4::{IpProtocol, Ipv4Option, Ipv4Options, Ipv4OptionsBuf, Ipv4Packet, Ipv4Repr};
pub use prefix::{Family, IpPrefix, Ipv4Prefix, PrefixError};
pub use std::net::Ipv4Addr;
pub use tcp::{TcpFlags, TcpOption, TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};

/// Why bytes could not be viewed, parsed or emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer is shorter than the format (or one of its length fields) requires.
    #[error("truncated {what}: need {need} bytes, have {have}")]
    Truncated {
        /// The format or field.
        what: &'static str,
        /// Bytes required.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// A field holds a value the format forbids.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The checksum does not verify.
    #[error("bad {0} checksum")]
    Checksum(&'static str),
    /// Well-formed, but a variant this crate does not handle (other ARP hardware, IGMPv3, ...).
    #[error("unsupported {0}")]
    Unsupported(&'static str),
    /// A [`PacketBuf`] has too little headroom to prepend a header.
    #[error("no headroom: need {need} bytes, have {have}")]
    NoHeadroom {
        /// Bytes requested.
        need: usize,
        /// Headroom available.
        have: usize,
    },
}

/// Shorthand for results in this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Fails with [`Error::Truncated`] unless `have >= need`.
#[inline]
pub(crate) fn need(what: &'static str, need: usize, have: usize) -> Result<()> {
    if have < need {
        Err(Error::Truncated { what, need, have })
    } else {
        Ok(())
    }
}

/// Reads a big-endian u16 at `at`; callers have checked the length.
#[inline]
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian u32 at `at`; callers have checked the length.
#[inline]
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn get_ipv4(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

#[inline]
pub(crate) fn put_ipv4(b: &mut [u8], at: usize, a: Ipv4Addr) {
    b[at..at + 4].copy_from_slice(&a.octets());
}

#[cfg(test)]
mod tests {
    //! The whole path through the layers with one [`PacketBuf`]: build a frame by prepending
    //! headers, then take it apart by trimming them.

    use super::*;
    use crate::ethernet::Encapsulation;

    fn send(encapsulation: Encapsulation) -> PacketBuf {
        let src = Ipv4Addr::new(192, 0, 2, 2);
        let dst = Ipv4Addr::new(192, 0, 2, 1);
        let mut pkt = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, b"maynard says hello");

        let udp = UdpRepr {
            src_port: 5000,
            dst_port: 7,
            payload_len: pkt.len(),
        };
        let h = pkt.prepend(udp.buffer_len()).unwrap().len();
        assert_eq!(h, 8);
        udp.emit(&mut UdpPacket::new_unchecked(pkt.as_mut_slice()), src, dst);

        let mut ip = Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            protocol: IpProtocol::Udp,
            payload_len: pkt.len(),
            ttl: 64,
            tos: 0,
            ident: 1,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: Ipv4OptionsBuf::new(),
        };
        ip.options.push(&Ipv4Option::RouterAlert(0)).unwrap();
        pkt.prepend(ip.buffer_len()).unwrap();
        ip.emit(&mut Ipv4Packet::new_unchecked(pkt.as_mut_slice()));

        let eth = FrameRepr::new(
            encapsulation,
            EthernetAddress([2, 0, 0, 0, 0, 1]),
            EthernetAddress([2, 0, 0, 0, 0, 2]),
            EtherType::Ipv4,
            pkt.len(),
        )
        .unwrap();
        pkt.prepend(eth.buffer_len()).unwrap();
        eth.emit(&mut EthernetFrame::new_unchecked(pkt.as_mut_slice()));
        // Pad to the 60-byte minimum, as a link would.
        if pkt.len() < 60 {
            pkt.append(60 - pkt.len());
        }
        pkt
    }

    fn receive(mut pkt: PacketBuf) -> Vec<u8> {
        let frame = FrameRepr::parse(&EthernetFrame::new_checked(pkt.as_slice()).unwrap()).unwrap();
        assert_eq!(frame.ethertype(), Some(EtherType::Ipv4));
        pkt.trim_front(frame.buffer_len()).unwrap();
        if let Some(n) = frame.payload_len() {
            pkt.truncate(n);
        }
        let ip = Ipv4Repr::parse(&Ipv4Packet::new_checked(pkt.as_slice()).unwrap()).unwrap();
        assert_eq!(ip.protocol, IpProtocol::Udp);
        pkt.trim_front(ip.buffer_len()).unwrap();
        pkt.truncate(ip.payload_len);
        let udp = UdpRepr::parse(
            &UdpPacket::new_checked(pkt.as_slice()).unwrap(),
            ip.src_addr,
            ip.dst_addr,
        )
        .unwrap();
        assert_eq!(udp.dst_port, 7);
        pkt.trim_front(udp.buffer_len()).unwrap();
        pkt.to_vec()
    }

    #[test]
    fn through_the_layers_both_encapsulations() {
        for enc in [Encapsulation::Ethernet, Encapsulation::Ieee8022] {
            let pkt = send(enc);
            assert_eq!(receive(pkt), b"maynard says hello", "{enc}");
        }
    }

    #[test]
    fn short_headroom_fails_cleanly() {
        let mut pkt = PacketBuf::from_slice(4, b"x");
        let udp = UdpRepr {
            src_port: 1,
            dst_port: 2,
            payload_len: 1,
        };
        assert_eq!(
            pkt.prepend(udp.buffer_len()),
            Err(Error::NoHeadroom { need: 8, have: 4 })
        );
        pkt.reserve_headroom(PacketBuf::DEFAULT_HEADROOM);
        assert!(pkt.prepend(udp.buffer_len()).is_ok());
    }
}
