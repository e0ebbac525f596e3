//! Fuzz target: arbitrary bytes as a frame of each link type through the analyzer's decoders
//! and all three renderers; the first byte picks the link type. Nothing may panic.

#![no_main]

use decode::{render, Decoder, LinkType, Summary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else { return };
    let link = match sel % 4 {
        0 => LinkType::Ethernet,
        1 => LinkType::Raw,
        2 => LinkType::Null,
        _ => LinkType::LinuxSll,
    };
    let mut d = Decoder::new();
    // Twice, so that NSP links learnt from the first decode are used by the second.
    for _ in 0..2 {
        let p = d.decode(frame, link);
        let _ = (render::line(&p), render::tree(&p), render::json(&p));
        let mut s = Summary::default();
        s.add(&p);
        let _ = s.to_string();
    }
});
