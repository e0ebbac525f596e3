//! What the IPS reads from outside: event reports on its socket and ips.toml text. Neither
//! may panic; a report that parses prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(event) = ips::report::parse(&text) {
        assert_eq!(ips::report::parse(&ips::report::encode(&event)), Ok(event));
    }
    let _ = control::config::ips::parse_ips(&text, "fuzz/ips.toml");
    let _ = control::config::outgoing::parse_outgoing(&text, "fuzz/outgoing.toml");
});
