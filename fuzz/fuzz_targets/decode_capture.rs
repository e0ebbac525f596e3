//! Fuzz target: arbitrary bytes as a pcap or pcapng file; every record read is decoded.
//! Neither the reader nor the decoders may panic.

#![no_main]

use decode::{render, CaptureReader, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = CaptureReader::new(data) {
        let mut d = Decoder::new();
        for rec in r.take(1000).flatten() {
            let _ = render::line(&d.decode_record(&rec));
        }
    }
});
