//! Fuzz target: arbitrary bytes (lossy UTF-8) through both services database parsers.
//! Neither may panic, and whatever parses must read back equal from its own `to_text`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use servicedb::ServiceDb;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(db) = ServiceDb::parse(&text, "fuzz") {
        let again = ServiceDb::parse(&db.to_text(), "again");
        assert!(again.is_ok_and(|again| again.len() == db.len()));
    }
    if let Ok(db) = ServiceDb::parse_host(&text, "fuzz") {
        let again = ServiceDb::parse_host(&db.to_text(), "again");
        assert!(again.is_ok_and(|again| again.len() == db.len()));
    }
});
