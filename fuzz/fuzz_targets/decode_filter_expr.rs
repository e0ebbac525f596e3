//! Fuzz target: arbitrary text as an analyzer filter expression. Parsing may fail but never
//! panic; what parses prints to text that parses back to the same expression, and evaluates
//! over a decoded packet without panicking.

#![no_main]

use decode::{Decoder, Filter, LinkType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = Filter::parse(&text) {
        let again = Filter::parse(&f.to_string());
        assert_eq!(again.as_ref(), Ok(&f));
        let frame = [0xab, 0, 0, 2, 0, 0, 8, 0, 0x2b, 1, 2, 3, 0x60, 0x02, 4, 0, 5, 0, 7, 0];
        let _ = f.matches(&Decoder::new().decode(&frame, LinkType::Ethernet));
    }
});
