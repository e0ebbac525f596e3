#![no_main]
//! Fuzzes the AgentX PDU decoder and the stream framing helper.

use agentx::pdu::{frame_len, Header, Pdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Pdu::decode(data) {
        // A decoded PDU re-encodes to bytes that decode to the same PDU.
        let again = Pdu::decode(&p.encode()).expect("re-decode");
        assert_eq!(again, p);
    }
    // Cutting a stream: every frame the helper announces starts with a header that decodes.
    let mut rest = data;
    while let Ok(Some(n)) = frame_len(rest) {
        assert!(Header::decode(rest).is_ok());
        if n > rest.len() {
            break;
        }
        let _ = Pdu::decode(&rest[..n]);
        rest = &rest[n..];
    }
});
