//! Datagrams the UDP built-ins read from anyone: a TFTP request or block, an NTP request.
//! None may panic; an NTP answer is always 48 bytes.
#![no_main]

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use services::ntp::{answer, ClockState, NtpConfig};

fuzz_target!(|data: &[u8]| {
    let _ = services::tftp::parse(data);
    let clock = ClockState {
        synchronized: data.first().is_some_and(|b| b & 1 == 1),
        max_error: 0.25,
    };
    let now = SystemTime::now();
    if let Some(reply) = answer(&NtpConfig::default(), clock, data, now, now) {
        assert_eq!(reply.len(), 48);
    }
});
