//! Fuzz target: arbitrary bytes as an IPv4 datagram, header checksum unverified so the fuzzer
//! reaches the options. Parsing must not panic; a parsed header must emit and parse back equal;
//! the incremental TTL update must agree with a full recomputation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::ipv4::{Ipv4Options, Ipv4Packet, Ipv4Repr};

fuzz_target!(|data: &[u8]| {
    for option in Ipv4Options::new(data).flatten() {
        let _ = (
            option.to_string(),
            option.addresses().count(),
            option.buffer_len(),
        );
    }
    if let Ok(packet) = Ipv4Packet::new_checked_header(data) {
        let _ = (packet.payload(), packet.options_iter().count());
    }
    let Ok(packet) = Ipv4Packet::new_checked(data) else {
        return;
    };
    let _ = (
        packet.to_string(),
        packet.verify_checksum(),
        packet.payload(),
    );
    let Ok(repr) = Ipv4Repr::parse_unverified(&packet) else {
        return;
    };
    let mut out = data[..repr.total_len()].to_vec();
    let mut view = Ipv4Packet::new_unchecked(&mut out[..]);
    repr.emit(&mut view);
    assert!(view.verify_checksum());
    assert_eq!(
        Ipv4Repr::parse(&Ipv4Packet::new_checked(&out[..]).unwrap()),
        Ok(repr)
    );
    if repr.ttl > 0 {
        let mut view = Ipv4Packet::new_unchecked(&mut out[..]);
        view.decrement_ttl();
        assert!(view.verify_checksum());
    }
});
