#![no_main]
//! Fuzzes the SNMP message decoder and the agent that answers it.

use libfuzzer_sys::fuzz_target;
use std::sync::Mutex;
use std::time::Duration;

static AGENT: Mutex<Option<snmp::Agent>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = snmp::Message::decode(data) {
        // A decoded message re-encodes and decodes to itself.
        let again = snmp::Message::decode(&m.encode()).expect("re-decode");
        assert_eq!(again, m);
    }
    let _ = snmp::Oid::decode_contents(data);
    let mut g = AGENT.lock().unwrap_or_else(|e| e.into_inner());
    let agent = g.get_or_insert_with(|| {
        let mut cfg = snmp::AgentConfig::default();
        cfg.communities = vec![snmp::Community::new("public", snmp::agent::Access::ReadWrite)];
        cfg.max_message_size = 484;
        snmp::Agent::new(cfg)
    });
    let peer = "127.0.0.1:5000".parse().expect("addr");
    let _ = agent.handle(data, peer, Duration::from_secs(1));
});
