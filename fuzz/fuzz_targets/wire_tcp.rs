//! Fuzz target: arbitrary bytes as a TCP segment; the first 8 bytes are the pseudo-header's
//! addresses. Parsing must not panic; a parsed header must emit (with its checksum) and parse
//! back equal, and the checksum must verify.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wire::tcp::{TcpPacket, TcpRepr, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let src = Ipv4Addr::new(data[0], data[1], data[2], data[3]);
    let dst = Ipv4Addr::new(data[4], data[5], data[6], data[7]);
    let data = &data[8..];
    let Ok(packet) = TcpPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.to_string(),
        packet.verify_checksum(src, dst),
        packet.payload(),
        packet.options().count(),
    );
    let _ = TcpRepr::parse(&packet, src, dst);
    let Ok(repr) = TcpRepr::parse_unverified(&packet) else {
        return;
    };
    if repr.header_len() > MAX_HEADER_LEN {
        // Four SACK blocks with timestamps do not fit; the stack never emits that.
        return;
    }
    let mut out = vec![0u8; repr.header_len() + repr.payload_len];
    out[repr.header_len()..].copy_from_slice(packet.payload());
    repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]), src, dst);
    assert_eq!(
        TcpRepr::parse(&TcpPacket::new_checked(&out[..]).unwrap(), src, dst),
        Ok(repr)
    );
});
