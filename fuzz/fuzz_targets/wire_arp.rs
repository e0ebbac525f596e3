//! Fuzz target: arbitrary bytes as an ARP packet. Parsing must not panic, and a parsed
//! Ethernet/IPv4 packet must emit and parse back equal.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::arp::{ArpPacket, ArpRepr};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = ArpPacket::new_checked(data) {
        let _ = packet.to_string();
        let _ = (packet.source_hardware_addr(), packet.target_protocol_addr());
        if let Ok(repr) = ArpRepr::parse(&packet) {
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
            assert_eq!(
                ArpRepr::parse(&ArpPacket::new_checked(&out[..]).unwrap()),
                Ok(repr)
            );
        }
    }
});
