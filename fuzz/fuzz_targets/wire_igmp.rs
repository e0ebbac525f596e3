//! Fuzz target: arbitrary bytes as an IGMP message. Parsing must not panic; a parsed message
//! must emit and parse back equal.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::igmp::{IgmpPacket, IgmpRepr};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = IgmpPacket::new_checked(data) else {
        return;
    };
    let _ = (packet.to_string(), packet.verify_checksum());
    let Ok(repr) = IgmpRepr::parse(&packet) else {
        return;
    };
    let mut out = [0u8; 8];
    repr.emit(&mut IgmpPacket::new_unchecked(&mut out[..]));
    assert_eq!(
        IgmpRepr::parse(&IgmpPacket::new_checked(&out[..]).unwrap()),
        Ok(repr)
    );
});
