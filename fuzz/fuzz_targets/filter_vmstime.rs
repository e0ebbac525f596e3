//! Fuzzes the VMS time parser (absolute and delta times): no panic, and what parses prints back
//! to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = filter::vmstime::parse(&text) {
        assert_eq!(filter::vmstime::parse(&t.to_string()), Ok(t));
        let _ = t.resolve(filter::LocalTime(1_800_000_000));
    }
});
