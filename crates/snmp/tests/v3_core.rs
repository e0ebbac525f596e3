//! SNMPv3 USM in-process: discovery, authPriv round trip, time window, wrong digest, and
//! mutated messages never panic.

use proptest::prelude::*;
use snmp::agent::{Access, Agent, AgentConfig, AuthProtocol, PrivProtocol, UsmUser};
use snmp::oid;
use snmp::pdu::{Pdu, PduType};
use snmp::v3::{self, ScopedPdu, UsmParams, V3Message};
use snmp::{Value, VarBind};
use std::time::Duration;

static SETUP: std::sync::LazyLock<(AgentConfig, UsmUser)> = std::sync::LazyLock::new(|| {
    let mut cfg = AgentConfig::default();
    let e = cfg.engine_id.clone();
    let u = UsmUser::with_passwords(
        "alice",
        Access::ReadOnly,
        Some((AuthProtocol::Sha1, "authpassword")),
        Some((PrivProtocol::Aes128, "privpassword")),
        &e,
    );
    cfg.users = vec![u.clone()];
    cfg.engine_boots = 5;
    (cfg, u)
});

/// An agent with user alice (SHA-1, AES-128); keys are localized once.
fn agent() -> (Agent, UsmUser) {
    (Agent::new(SETUP.0.clone()), SETUP.1.clone())
}

fn peer() -> std::net::SocketAddr {
    "127.0.0.1:4000".parse().unwrap()
}

/// Builds an authPriv GetRequest for sysDescr.0 as a manager would.
fn request(agent: &Agent, user: &UsmUser, boots: i32, time: i32, corrupt: bool) -> Vec<u8> {
    let engine = agent.config().engine_id.clone();
    let scoped = ScopedPdu {
        context_engine_id: engine.clone(),
        context_name: Vec::new(),
        pdu: Pdu::new(
            PduType::Get,
            42,
            vec![VarBind::null(oid!(1, 3, 6, 1, 2, 1, 1, 1, 0))],
        ),
    };
    let mut data = scoped.encode();
    let salt = [9u8; 8];
    let (_, pkey) = user.privacy.clone().unwrap();
    assert!(v3::encrypt(
        &pkey,
        boots as u32,
        time as u32,
        &salt,
        &mut data
    ));
    let params = UsmParams {
        engine_id: engine,
        boots,
        time,
        user: user.name.clone(),
        auth: Vec::new(),
        privacy: salt.to_vec(),
    };
    let flags = v3::FLAG_AUTH | v3::FLAG_PRIV | v3::FLAG_REPORTABLE;
    let (mut bytes, off) = v3::encode_message(7, 65000, flags, &params, 12, &data, true);
    let (proto, akey) = user.auth.clone().unwrap();
    let mac = proto.mac(&akey, &bytes);
    bytes[off..off + 12].copy_from_slice(&mac);
    if corrupt {
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
    }
    bytes
}

fn report_oid(resp: &[u8]) -> (u8, snmp::Oid) {
    let m = V3Message::decode(resp).unwrap();
    assert!(!m.encrypted);
    let s = m.scoped().unwrap().unwrap();
    assert_eq!(s.pdu.pdu_type, PduType::Report);
    (m.flags, s.pdu.varbinds[0].oid.clone())
}

#[test]
fn discovery_then_auth_priv_get() {
    let (mut a, u) = agent();
    let now = Duration::from_secs(100);
    // Discovery: empty engine ID, no auth, reportable.
    let scoped = ScopedPdu {
        context_engine_id: Vec::new(),
        context_name: Vec::new(),
        pdu: Pdu::new(PduType::Get, 1, Vec::new()),
    };
    let (probe, _) = v3::encode_message(
        1,
        65000,
        v3::FLAG_REPORTABLE,
        &UsmParams::default(),
        0,
        &scoped.encode(),
        false,
    );
    let resp = a.handle(&probe, peer(), now).unwrap();
    let m = V3Message::decode(&resp).unwrap();
    let p = m.usm.clone().unwrap();
    assert_eq!(p.engine_id, a.config().engine_id);
    assert_eq!((p.boots, p.time), (5, 100));
    assert_eq!(report_oid(&resp).1, oid!(1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0));
    // The real request.
    let resp = a
        .handle(&request(&a, &u, 5, 100, false), peer(), now)
        .unwrap();
    let m = V3Message::decode(&resp).unwrap();
    assert!(m.encrypted);
    assert_eq!(m.msg_id, 7);
    let p = m.usm.clone().unwrap();
    // The response's MAC verifies.
    let (proto, akey) = u.auth.clone().unwrap();
    let (s, e) = m.auth_range.unwrap();
    let mut zeroed = resp.clone();
    zeroed[s..e].fill(0);
    assert_eq!(proto.mac(&akey, &zeroed), p.auth);
    let (_, pkey) = u.privacy.clone().unwrap();
    let mut data = m.data.to_vec();
    assert!(v3::decrypt(
        &pkey,
        p.boots as u32,
        p.time as u32,
        &p.privacy,
        &mut data
    ));
    let sp = ScopedPdu::decode(&data).unwrap();
    assert_eq!(sp.pdu.pdu_type, PduType::Response);
    assert_eq!(sp.pdu.request_id, 42);
    assert!(matches!(sp.pdu.varbinds[0].value, Value::OctetString(_)));
}

#[test]
fn time_window_and_digest() {
    let (mut a, u) = agent();
    let now = Duration::from_secs(1000);
    let resp = a
        .handle(&request(&a, &u, 5, 1200, false), peer(), now)
        .unwrap();
    let (flags, oid) = report_oid(&resp);
    assert_eq!(oid, oid!(1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0));
    assert_eq!(
        flags & v3::FLAG_AUTH,
        v3::FLAG_AUTH,
        "notInTimeWindow is authenticated"
    );
    let resp = a
        .handle(&request(&a, &u, 4, 1000, false), peer(), now)
        .unwrap();
    assert_eq!(report_oid(&resp).1, oid!(1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0));
    let resp = a
        .handle(&request(&a, &u, 5, 1000, true), peer(), now)
        .unwrap();
    assert_eq!(report_oid(&resp).1, oid!(1, 3, 6, 1, 6, 3, 15, 1, 1, 5, 0));
    // Within the window (150 s) is fine.
    let resp = a
        .handle(&request(&a, &u, 5, 1140, false), peer(), now)
        .unwrap();
    assert!(V3Message::decode(&resp).unwrap().encrypted);
}

proptest! {
    #[test]
    fn mutated_v3_never_panics(pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let (mut a, u) = agent();
        let mut bytes = request(&a, &u, 5, 10, false);
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = a.handle(&bytes, peer(), Duration::from_secs(10));
        let c = cut % (bytes.len() + 1);
        let _ = a.handle(&bytes[..c], peer(), Duration::from_secs(10));
        let _ = V3Message::decode(&bytes[..c]);
    }
}
