#![no_main]
//! Fuzzes the SNMPv3 message and scoped-PDU decoders and the agent's USM path.

use libfuzzer_sys::fuzz_target;
use std::sync::Mutex;
use std::time::Duration;

static AGENT: Mutex<Option<snmp::Agent>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let _ = snmp::v3::V3Message::decode(data);
    let _ = snmp::v3::ScopedPdu::decode(data);
    let mut g = AGENT.lock().unwrap_or_else(|e| e.into_inner());
    let agent = g.get_or_insert_with(|| {
        let mut cfg = snmp::AgentConfig::default();
        let e = cfg.engine_id.clone();
        cfg.users = vec![snmp::agent::UsmUser::with_passwords(
            "fuzz",
            snmp::agent::Access::ReadWrite,
            Some((snmp::agent::AuthProtocol::Sha1, "authpassword")),
            Some((snmp::agent::PrivProtocol::Aes128, "privpassword")),
            &e,
        )];
        snmp::Agent::new(cfg)
    });
    let peer = "127.0.0.1:5000".parse().expect("addr");
    let _ = agent.handle(data, peer, Duration::from_secs(1));
});
