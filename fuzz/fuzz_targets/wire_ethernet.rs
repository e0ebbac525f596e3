//! Fuzz target: arbitrary bytes as an Ethernet II / 802.3 frame. Parsing must not panic, and a
//! parsed header must emit and parse back equal.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::ethernet::{EthernetAddress, EthernetFrame, FrameRepr, LlcPdu, LlcRepr};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = EthernetFrame::new_checked(data) {
        let _ = frame.to_string();
        if let Ok(repr) = FrameRepr::parse(&frame) {
            let mut out = data.to_vec();
            repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
            let again = FrameRepr::parse(&EthernetFrame::new_checked(&out[..]).unwrap());
            assert_eq!(again, Ok(repr));
            let _ = (repr.payload_len(), repr.ethertype(), repr.to_string());
        }
    }
    if let Ok(pdu) = LlcPdu::new_checked(data) {
        let _ = (LlcRepr::parse(&pdu), pdu.is_snap(), pdu.payload());
    }
    let _ = String::from_utf8_lossy(data).parse::<EthernetAddress>();
});
