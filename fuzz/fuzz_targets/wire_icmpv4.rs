//! Fuzz target: arbitrary bytes as an ICMPv4 message (checksum unverified). Parsing, the
//! quoted-datagram accessors and Display must not panic; a parsed message must emit and parse
//! back equal.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::icmpv4::{quote, Icmpv4Packet, Icmpv4Repr};

fuzz_target!(|data: &[u8]| {
    let _ = quote(data);
    let Ok(packet) = Icmpv4Packet::new_checked(data) else {
        return;
    };
    let _ = packet.to_string();
    let _ = packet
        .quoted_datagram()
        .map(|q| (q.payload().len(), q.options_iter().count()));
    let _ = (packet.originate_timestamp(), packet.transmit_timestamp());
    let Ok(repr) = Icmpv4Repr::parse_unverified(&packet) else {
        return;
    };
    let _ = (repr.quoted(), repr.to_string());
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
    assert_eq!(
        Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&out[..]).unwrap()),
        Ok(repr)
    );
});
