//! Fuzzes finger's parsers of outside input: the query line a client sends, and (as the same
//! bytes) the passwd and utmp files a user may influence. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use services::finger::{passwd, utmp, Query, MAX_QUERY_BYTES};

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = Query::parse(data) {
        // What parses must print back to a line that parses to the same query (unless adding the
        // CRLF pushed a maximal line over the limit).
        let wire = q.to_wire();
        if wire.len() <= MAX_QUERY_BYTES {
            assert_eq!(Query::parse(wire.as_bytes()), Ok(q.clone()));
        }
        let _ = q.forward_target();
    }
    for entry in passwd::parse_passwd(data) {
        let _ = entry.real_name();
        let _ = entry.matches("x");
    }
    for rec in utmp::parse_utmp(data) {
        let _ = rec.login_time();
        assert!(utmp::UtmpRecord::from_bytes(&rec.to_bytes()).is_some());
    }
});
