//! IGMPv2 (RFC 2236): membership query, version 2 and version 1 reports, leave group.
//!
//! Every message is 8 bytes and its checksum covers the whole IGMP message (the IP payload).
//! An IGMPv3 query (longer than 8 bytes) is read as a v2 query, as RFC 3376 section 7.2.1 asks of
//! v2 hosts; IGMPv3 reports (type 0x22) are [`Error::Unsupported`].

use crate::checksum;
use crate::{get_ipv4, get_u16, need, put_ipv4, put_u16, Error, Result};
use core::fmt;
use std::net::Ipv4Addr;

mod field {
    pub const TYPE: usize = 0;
    pub const MAX_RESP: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const GROUP: usize = 4;
}

/// The message's length.
pub const HEADER_LEN: usize = 8;

/// Message types.
pub mod msg_type {
    /// Membership query (all versions).
    pub const QUERY: u8 = 0x11;
    /// Version 1 membership report.
    pub const V1_REPORT: u8 = 0x12;
    /// Version 2 membership report.
    pub const V2_REPORT: u8 = 0x16;
    /// Leave group.
    pub const LEAVE: u8 = 0x17;
    /// Version 3 membership report (RFC 3376).
    pub const V3_REPORT: u8 = 0x22;
}

/// A view of an IGMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IgmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IgmpPacket<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Self {
        IgmpPacket { buffer }
    }

    /// Wraps `buffer` after checking it holds 8 bytes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        need("IGMP message", HEADER_LEN, p.buffer.as_ref().len())?;
        Ok(p)
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The type octet.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Max response time, in tenths of a second (queries; zero in a v1 query).
    pub fn max_resp_time(&self) -> u8 {
        self.buffer.as_ref()[field::MAX_RESP]
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The group address.
    pub fn group_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::GROUP)
    }

    /// Whether the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IgmpPacket<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v
    }

    /// Sets the max response time.
    pub fn set_max_resp_time(&mut self, v: u8) {
        self.buffer.as_mut()[field::MAX_RESP] = v
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }

    /// Sets the group address.
    pub fn set_group_addr(&mut self, a: Ipv4Addr) {
        put_ipv4(self.buffer.as_mut(), field::GROUP, a)
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for IgmpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match IgmpRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "IGMP ({e})"),
        }
    }
}

/// An IGMPv2 (or v1 report) message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgmpRepr {
    /// A membership query: general when `group_addr` is 0.0.0.0, else group-specific. A zero
    /// `max_resp_time` marks a version 1 query (RFC 2236 section 4: treat as 100, i.e. 10 s).
    MembershipQuery {
        /// Max response time in tenths of a second.
        max_resp_time: u8,
        /// The group asked about, or unspecified for all groups.
        group_addr: Ipv4Addr,
    },
    /// A version 2 membership report.
    MembershipReportV2 {
        /// The group reported.
        group_addr: Ipv4Addr,
    },
    /// A version 1 membership report (RFC 1112).
    MembershipReportV1 {
        /// The group reported.
        group_addr: Ipv4Addr,
    },
    /// Leave group.
    LeaveGroup {
        /// The group left.
        group_addr: Ipv4Addr,
    },
}

impl IgmpRepr {
    /// Parses a message and verifies its checksum (over the whole buffer).
    pub fn parse<T: AsRef<[u8]>>(packet: &IgmpPacket<T>) -> Result<Self> {
        let p = IgmpPacket::new_checked(packet.buffer.as_ref())?;
        if !p.verify_checksum() {
            return Err(Error::Checksum("IGMP"));
        }
        let group_addr = p.group_addr();
        match p.msg_type() {
            msg_type::QUERY => Ok(IgmpRepr::MembershipQuery {
                max_resp_time: p.max_resp_time(),
                group_addr,
            }),
            msg_type::V2_REPORT => Ok(IgmpRepr::MembershipReportV2 { group_addr }),
            msg_type::V1_REPORT => Ok(IgmpRepr::MembershipReportV1 { group_addr }),
            msg_type::LEAVE => Ok(IgmpRepr::LeaveGroup { group_addr }),
            msg_type::V3_REPORT => Err(Error::Unsupported("IGMPv3 report")),
            _ => Err(Error::Unsupported("IGMP message type")),
        }
    }

    /// The message's length, 8.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// The group address the message is about.
    pub fn group_addr(&self) -> Ipv4Addr {
        match *self {
            IgmpRepr::MembershipQuery { group_addr, .. }
            | IgmpRepr::MembershipReportV2 { group_addr }
            | IgmpRepr::MembershipReportV1 { group_addr }
            | IgmpRepr::LeaveGroup { group_addr } => group_addr,
        }
    }

    /// A general query (group 0.0.0.0).
    pub fn is_general_query(&self) -> bool {
        matches!(self, IgmpRepr::MembershipQuery { group_addr, .. } if group_addr.is_unspecified())
    }

    /// A version 1 query (max response time zero).
    pub fn is_v1_query(&self) -> bool {
        matches!(
            self,
            IgmpRepr::MembershipQuery {
                max_resp_time: 0,
                ..
            }
        )
    }

    /// Writes the message and its checksum into an 8-byte buffer.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut IgmpPacket<T>) {
        let (t, mrt) = match *self {
            IgmpRepr::MembershipQuery { max_resp_time, .. } => (msg_type::QUERY, max_resp_time),
            IgmpRepr::MembershipReportV2 { .. } => (msg_type::V2_REPORT, 0),
            IgmpRepr::MembershipReportV1 { .. } => (msg_type::V1_REPORT, 0),
            IgmpRepr::LeaveGroup { .. } => (msg_type::LEAVE, 0),
        };
        packet.set_msg_type(t);
        packet.set_max_resp_time(mrt);
        packet.set_group_addr(self.group_addr());
        packet.fill_checksum();
    }
}

impl fmt::Display for IgmpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgmpRepr::MembershipQuery {
                max_resp_time,
                group_addr,
            } => {
                if group_addr.is_unspecified() {
                    write!(f, "IGMP general query max-resp={max_resp_time}")
                } else {
                    write!(f, "IGMP query {group_addr} max-resp={max_resp_time}")
                }
            }
            IgmpRepr::MembershipReportV2 { group_addr } => write!(f, "IGMP v2 report {group_addr}"),
            IgmpRepr::MembershipReportV1 { group_addr } => write!(f, "IGMP v1 report {group_addr}"),
            IgmpRepr::LeaveGroup { group_addr } => write!(f, "IGMP leave {group_addr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::{EthernetAddress, EthernetFrame};
    use crate::ipv4::{IpProtocol, Ipv4Packet, Ipv4Repr};
    use crate::testdata::{self, hex};
    use crate::testutil::ipv4_addr;
    use proptest::prelude::*;

    fn igmp_of(frame_hex: &str) -> (EthernetAddress, Ipv4Repr, Vec<u8>) {
        let f = hex(frame_hex);
        let e = EthernetFrame::new_checked(&f[..]).unwrap();
        let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
        (
            e.dst_addr(),
            Ipv4Repr::parse(&ip).unwrap(),
            ip.payload().to_vec(),
        )
    }

    const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);

    #[test]
    fn captured_v2_report_and_leave() {
        let (mac, ip, b) = igmp_of(testdata::IGMPV2_REPORT);
        assert_eq!(ip.protocol, IpProtocol::Igmp);
        assert_eq!(mac, EthernetAddress::from_ipv4_multicast(GROUP));
        let r = IgmpRepr::parse(&IgmpPacket::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r, IgmpRepr::MembershipReportV2 { group_addr: GROUP });
        let mut out = [0u8; 8];
        r.emit(&mut IgmpPacket::new_unchecked(&mut out[..]));
        assert_eq!(&out[..], &b[..]);

        let (_, ip, b) = igmp_of(testdata::IGMPV2_LEAVE);
        assert_eq!(ip.dst_addr, Ipv4Addr::new(224, 0, 0, 2));
        let r = IgmpRepr::parse(&IgmpPacket::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r, IgmpRepr::LeaveGroup { group_addr: GROUP });
        assert_eq!(r.to_string(), "IGMP leave 239.1.2.3");
        let mut out = [0u8; 8];
        r.emit(&mut IgmpPacket::new_unchecked(&mut out[..]));
        assert_eq!(&out[..], &b[..]);
    }

    #[test]
    fn captured_v3_report_is_unsupported() {
        let (_, _, b) = igmp_of(testdata::IGMPV3_REPORT);
        let p = IgmpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(
            IgmpRepr::parse(&p),
            Err(Error::Unsupported("IGMPv3 report"))
        );
    }

    #[test]
    fn queries() {
        // A general query as a v2 querier sends it: max response 10 s, group 0.
        let q = IgmpRepr::MembershipQuery {
            max_resp_time: 100,
            group_addr: Ipv4Addr::UNSPECIFIED,
        };
        let mut b = [0u8; 8];
        q.emit(&mut IgmpPacket::new_unchecked(&mut b[..]));
        assert_eq!(b, [0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0]);
        let back = IgmpRepr::parse(&IgmpPacket::new_checked(&b[..]).unwrap()).unwrap();
        assert!(back.is_general_query() && !back.is_v1_query());
        // An IGMPv3 general query (12 bytes) reads as a v2 query.
        let mut v3 = [0x11, 0x64, 0, 0, 0, 0, 0, 0, 0x02, 0x7d, 0, 0];
        let mut p = IgmpPacket::new_unchecked(&mut v3[..]);
        p.fill_checksum();
        assert!(IgmpRepr::parse(&IgmpPacket::new_checked(&v3[..]).unwrap())
            .unwrap()
            .is_general_query());
        // A group-specific query.
        let gq = IgmpRepr::MembershipQuery {
            max_resp_time: 10,
            group_addr: GROUP,
        };
        assert!(!gq.is_general_query());
        assert_eq!(gq.to_string(), "IGMP query 239.1.2.3 max-resp=10");
        // Bad checksum.
        b[2] ^= 0xff;
        assert_eq!(
            IgmpRepr::parse(&IgmpPacket::new_checked(&b[..]).unwrap()),
            Err(Error::Checksum("IGMP"))
        );
        assert!(IgmpPacket::new_checked(&b[..7]).is_err());
    }

    fn repr() -> impl Strategy<Value = IgmpRepr> {
        (0u8..4, any::<u8>(), ipv4_addr()).prop_map(|(k, mrt, g)| match k {
            0 => IgmpRepr::MembershipQuery {
                max_resp_time: mrt,
                group_addr: g,
            },
            1 => IgmpRepr::MembershipReportV2 { group_addr: g },
            2 => IgmpRepr::MembershipReportV1 { group_addr: g },
            _ => IgmpRepr::LeaveGroup { group_addr: g },
        })
    }

    proptest! {
        #[test]
        fn round_trip(r in repr()) {
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut IgmpPacket::new_unchecked(&mut b[..]));
            prop_assert_eq!(IgmpRepr::parse(&IgmpPacket::new_checked(&b[..]).unwrap()).unwrap(), r);
            let _ = r.to_string();
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(p) = IgmpPacket::new_checked(&bytes[..]) {
                let _ = IgmpRepr::parse(&p);
                let _ = p.to_string();
            }
        }
    }
}
