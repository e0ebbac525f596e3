//! Fuzz target: arbitrary bytes as a UDP datagram; the first 8 bytes are the pseudo-header's
//! addresses. Parsing must not panic; a parsed header must emit (with its checksum) and parse
//! back equal, and the checksum must verify.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wire::udp::{UdpPacket, UdpRepr};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let src = Ipv4Addr::new(data[0], data[1], data[2], data[3]);
    let dst = Ipv4Addr::new(data[4], data[5], data[6], data[7]);
    let data = &data[8..];
    let Ok(packet) = UdpPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.to_string(),
        packet.verify_checksum(src, dst),
        packet.payload(),
    );
    let _ = UdpRepr::parse(&packet, src, dst);
    let Ok(repr) = UdpRepr::parse_unverified(&packet) else {
        return;
    };
    let mut out = data[..8 + repr.payload_len].to_vec();
    repr.emit(&mut UdpPacket::new_unchecked(&mut out[..]), src, dst);
    assert_eq!(
        UdpRepr::parse(&UdpPacket::new_checked(&out[..]).unwrap(), src, dst),
        Ok(repr)
    );
});
