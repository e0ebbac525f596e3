//! What netcp reads from outside besides the services database: control-socket request lines
//! and servers.toml text. Neither may panic, whatever the bytes.
#![no_main]

use control::protocol::{decode, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = decode::<Request>(&text);
    let _ = control::config::parse_servers(&text, "fuzz/servers.toml");
});
