//! Proptest strategies shared by the modules' tests.

use crate::ethernet::EthernetAddress;
use crate::ipv4::{IpProtocol, Ipv4Option, Ipv4OptionsBuf, Ipv4Repr};
use proptest::prelude::*;
use std::net::Ipv4Addr;

pub fn eth_addr() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

pub fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

/// One option in its owned form: (kind selector, pointer, flags byte, data).
fn option_parts() -> impl Strategy<Value = (u8, u8, u8, u16, Vec<u8>)> {
    (
        0u8..8,
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..12),
    )
}

/// A valid options area built through `Ipv4OptionsBuf::push`.
pub fn options_buf() -> impl Strategy<Value = Ipv4OptionsBuf> {
    proptest::collection::vec(option_parts(), 0..6).prop_map(|parts| {
        let mut buf = Ipv4OptionsBuf::new();
        for (sel, ptr, fl, v, data) in &parts {
            let o = match sel {
                0 => Ipv4Option::NoOperation,
                1 => Ipv4Option::RecordRoute {
                    pointer: (*ptr).max(4),
                    route: data,
                },
                2 => Ipv4Option::LooseSourceRoute {
                    pointer: (*ptr).max(4),
                    route: data,
                },
                3 => Ipv4Option::StrictSourceRoute {
                    pointer: (*ptr).max(4),
                    route: data,
                },
                4 => Ipv4Option::Timestamp {
                    pointer: (*ptr).max(5),
                    overflow: fl >> 4,
                    flags: fl & 0x0f,
                    data,
                },
                5 => Ipv4Option::RouterAlert(*v),
                6 => Ipv4Option::Unknown {
                    // Any kind that is not one of the typed ones.
                    kind: match ptr {
                        0 | 1 | 7 | 68 | 131 | 137 | 148 => 130,
                        k => *k,
                    },
                    data,
                },
                _ => Ipv4Option::EndOfList,
            };
            if buf.push(&o).is_err() {
                break;
            }
        }
        buf
    })
}

pub fn ipv4_repr() -> impl Strategy<Value = Ipv4Repr> {
    (
        (
            ipv4_addr(),
            ipv4_addr(),
            any::<u8>(),
            0usize..1400,
            any::<u8>(),
        ),
        (
            any::<u8>(),
            any::<u16>(),
            any::<bool>(),
            any::<bool>(),
            0u16..0x2000,
        ),
        options_buf(),
    )
        .prop_map(
            |((src, dst, proto, payload_len, ttl), (tos, ident, df, mf, off), options)| Ipv4Repr {
                src_addr: src,
                dst_addr: dst,
                protocol: IpProtocol::from(proto),
                payload_len,
                ttl,
                tos,
                ident,
                dont_frag: df,
                more_frags: mf,
                frag_offset: off << 3,
                options,
            },
        )
}
