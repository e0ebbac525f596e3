//! The agent core against hand-built requests: errors per RFC 3416 / RFC 1157 / RFC 3584,
//! all-or-nothing Set, GetBulk, communities and counters.

use snmp::agent::{Access, Agent, AgentConfig, Community};
use snmp::oid;
use snmp::pdu::{AnyPdu, ErrorStatus, Message, Pdu, PduType, Version};
use snmp::registry::{Ctx, Handler, Scalars};
use snmp::{Oid, Value, VarBind};
use std::net::SocketAddr;
use std::time::Duration;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn agent() -> Agent {
    let cfg = AgentConfig {
        communities: vec![
            Community::new("public", Access::ReadOnly),
            Community::new("private", Access::ReadWrite),
            Community::new("local", Access::ReadOnly).from_source("10.0.0.0/8".parse().unwrap()),
            Community::new("sysonly", Access::ReadOnly).with_view(oid!(1, 3, 6, 1, 2, 1, 1)),
        ],
        ..AgentConfig::default()
    };
    Agent::new(cfg)
}

fn req(v: Version, c: &str, t: PduType, es: i32, ei: i32, vbs: Vec<VarBind>) -> Vec<u8> {
    Message {
        version: v,
        community: c.as_bytes().to_vec(),
        pdu: AnyPdu::Pdu(Pdu {
            pdu_type: t,
            request_id: 77,
            error_status: es,
            error_index: ei,
            varbinds: vbs,
        }),
    }
    .encode()
}

fn ask(a: &mut Agent, bytes: &[u8]) -> Option<Pdu> {
    let r = a.handle(bytes, peer(), Duration::from_secs(3))?;
    match Message::decode(&r).unwrap().pdu {
        AnyPdu::Pdu(p) => Some(p),
        AnyPdu::TrapV1(_) => panic!("trap in response"),
    }
}

fn nulls(oids: &[Oid]) -> Vec<VarBind> {
    oids.iter().cloned().map(VarBind::null).collect()
}

const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
const SYS_CONTACT: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 4, 0];
const SYS_LOCATION: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 6, 0];

#[test]
fn get_v2c_and_exceptions() {
    let mut a = agent();
    let vbs = nulls(&[
        Oid::new(&SYS_DESCR),
        oid!(1, 3, 6, 1, 2, 1, 1, 1, 1),
        oid!(1, 3, 6, 1, 2, 1, 99, 0),
        oid!(1, 3, 6, 1, 2, 1, 1, 3, 0),
    ]);
    let p = ask(
        &mut a,
        &req(Version::V2c, "public", PduType::Get, 0, 0, vbs),
    )
    .unwrap();
    assert_eq!(p.pdu_type, PduType::Response);
    assert_eq!(p.request_id, 77);
    assert_eq!(p.error_status, 0);
    assert!(matches!(p.varbinds[0].value, Value::OctetString(_)));
    assert_eq!(p.varbinds[1].value, Value::NoSuchInstance);
    assert_eq!(p.varbinds[2].value, Value::NoSuchObject);
    assert_eq!(p.varbinds[3].value, Value::TimeTicks(300));
}

#[test]
fn get_v1_no_such_name() {
    let mut a = agent();
    let vbs = nulls(&[Oid::new(&SYS_DESCR), oid!(1, 3, 6, 1, 2, 1, 99, 0)]);
    let p = ask(
        &mut a,
        &req(Version::V1, "public", PduType::Get, 0, 0, vbs.clone()),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoSuchName.code());
    assert_eq!(p.error_index, 2);
    assert_eq!(p.varbinds, vbs);
}

#[test]
fn getnext_end_of_mib() {
    let mut a = agent();
    let vbs = nulls(&[oid!(1, 3, 6, 1, 2, 1, 1, 1), oid!(1, 3, 7)]);
    let p = ask(
        &mut a,
        &req(Version::V2c, "public", PduType::GetNext, 0, 0, vbs.clone()),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].oid, Oid::new(&SYS_DESCR));
    assert_eq!(p.varbinds[1].value, Value::EndOfMibView);
    assert_eq!(p.varbinds[1].oid, oid!(1, 3, 7));
    let p = ask(
        &mut a,
        &req(Version::V1, "public", PduType::GetNext, 0, 0, vbs),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoSuchName.code());
    assert_eq!(p.error_index, 2);
}

struct Big;
impl Handler for Big {
    fn get(&mut self, oid: &Oid, _: &Ctx) -> Value {
        if *oid == oid!(1, 3, 6, 1, 4, 1, 1, 1, 0) {
            Value::Counter64(1 << 40)
        } else {
            Value::NoSuchObject
        }
    }
    fn next(&mut self, after: &Oid, _: &Ctx) -> Option<VarBind> {
        let o = oid!(1, 3, 6, 1, 4, 1, 1, 1, 0);
        (o > *after).then(|| VarBind::new(o, Value::Counter64(1 << 40)))
    }
}

#[test]
fn v1_meets_counter64() {
    let mut a = agent();
    a.registry_mut()
        .register(oid!(1, 3, 6, 1, 4, 1, 1), Box::new(Big))
        .unwrap();
    let r = a
        .registry_mut()
        .register(
            oid!(1, 3, 6, 1, 4, 1, 2),
            Box::new(Scalars::new(oid!(1, 3, 6, 1, 4, 1, 2)).with(1, |_| Value::Integer(5))),
        )
        .unwrap();
    let p = ask(
        &mut a,
        &req(
            Version::V1,
            "public",
            PduType::GetNext,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 4)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].oid, oid!(1, 3, 6, 1, 4, 1, 2, 1, 0));
    let p = ask(
        &mut a,
        &req(
            Version::V1,
            "public",
            PduType::Get,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 4, 1, 1, 1, 0)]),
        ),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoSuchName.code());
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "public",
            PduType::GetNext,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 4)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].value, Value::Counter64(1 << 40));
    // Removed at run time: the walk no longer sees it.
    a.registry_mut().unregister(r).unwrap();
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "public",
            PduType::GetNext,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 4, 1, 1, 1, 0)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].oid, oid!(1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0));
}

#[test]
fn set_all_or_nothing() {
    let mut a = agent();
    let good = VarBind::new(Oid::new(&SYS_CONTACT), Value::string("ops"));
    let bad = VarBind::new(Oid::new(&SYS_LOCATION), Value::Integer(3));
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "private",
            PduType::Set,
            0,
            0,
            vec![good.clone(), bad.clone()],
        ),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::WrongType.code());
    assert_eq!(p.error_index, 2);
    assert_eq!(a.system().lock().unwrap().contact, "");
    // v1 sees badValue for wrongType.
    let p = ask(
        &mut a,
        &req(
            Version::V1,
            "private",
            PduType::Set,
            0,
            0,
            vec![good.clone(), bad],
        ),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::BadValue.code());
    // Not writable: v2c notWritable, v1 noSuchName.
    let ro = VarBind::new(Oid::new(&SYS_DESCR), Value::string("x"));
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "private",
            PduType::Set,
            0,
            0,
            vec![ro.clone()],
        ),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::NotWritable.code());
    let p = ask(
        &mut a,
        &req(Version::V1, "private", PduType::Set, 0, 0, vec![ro]),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoSuchName.code());
    // Not existing, not creatable: v2c noCreation, v1 noSuchName.
    let missing = VarBind::new(oid!(1, 3, 6, 1, 2, 1, 1, 99, 0), Value::Integer(1));
    let set = |v| req(v, "private", PduType::Set, 0, 0, vec![missing.clone()]);
    let p = ask(&mut a, &set(Version::V2c)).unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoCreation.code());
    let p = ask(&mut a, &set(Version::V1)).unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoSuchName.code());
    // Read-only community: noAccess.
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "public",
            PduType::Set,
            0,
            0,
            vec![good.clone()],
        ),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::NoAccess.code());
    // A good set commits.
    let loc = VarBind::new(Oid::new(&SYS_LOCATION), Value::string("lab"));
    let p = ask(
        &mut a,
        &req(Version::V2c, "private", PduType::Set, 0, 0, vec![good, loc]),
    )
    .unwrap();
    assert_eq!(p.error_status, 0);
    assert_eq!(a.system().lock().unwrap().contact, "ops");
    assert_eq!(a.system().lock().unwrap().location, "lab");
}

struct FailsCommit;
impl Handler for FailsCommit {
    fn get(&mut self, _: &Oid, _: &Ctx) -> Value {
        Value::Integer(0)
    }
    fn next(&mut self, _: &Oid, _: &Ctx) -> Option<VarBind> {
        None
    }
    fn test_set(&mut self, _: &VarBind, _: &Ctx) -> Result<(), ErrorStatus> {
        Ok(())
    }
    fn commit_set(&mut self, _: &VarBind, _: &Ctx) -> Result<(), ErrorStatus> {
        Err(ErrorStatus::CommitFailed)
    }
}

#[test]
fn commit_failure_undoes() {
    let mut a = agent();
    a.registry_mut()
        .register(oid!(1, 3, 6, 1, 4, 1, 9), Box::new(FailsCommit))
        .unwrap();
    let good = VarBind::new(Oid::new(&SYS_CONTACT), Value::string("ops"));
    let f = VarBind::new(oid!(1, 3, 6, 1, 4, 1, 9, 1, 0), Value::Integer(1));
    let p = ask(
        &mut a,
        &req(Version::V2c, "private", PduType::Set, 0, 0, vec![good, f]),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::CommitFailed.code());
    assert_eq!(p.error_index, 2);
    assert_eq!(a.system().lock().unwrap().contact, "");
}

#[test]
fn getbulk_and_too_big() {
    let mut a = agent();
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "public",
            PduType::GetBulk,
            1,
            5,
            nulls(&[
                oid!(1, 3, 6, 1, 2, 1, 1, 1),
                oid!(1, 3, 6, 1, 2, 1, 1),
                oid!(1, 3, 6, 1, 6, 3, 16, 2),
            ]),
        ),
    )
    .unwrap();
    // 1 non-repeater + 5 rounds of 2 repeaters, ended ones padded with endOfMibView.
    assert_eq!(p.varbinds.len(), 11);
    assert_eq!(p.varbinds[0].oid, Oid::new(&SYS_DESCR));
    assert_eq!(p.varbinds[1].oid, Oid::new(&SYS_DESCR));
    assert_eq!(p.varbinds[4].value, Value::EndOfMibView);
    // Too big: a small maximum message size.
    let mut small = Agent::new(AgentConfig {
        communities: vec![Community::new("public", Access::ReadOnly)],
        max_message_size: 484,
        ..AgentConfig::default()
    });
    let many = nulls(&vec![Oid::new(&SYS_DESCR); 30]);
    let p = ask(
        &mut small,
        &req(Version::V2c, "public", PduType::Get, 0, 0, many.clone()),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::TooBig.code());
    assert_eq!(p.error_index, 0);
    assert!(p.varbinds.is_empty());
    let p = ask(
        &mut small,
        &req(Version::V1, "public", PduType::Get, 0, 0, many.clone()),
    )
    .unwrap();
    assert_eq!(p.error_status, ErrorStatus::TooBig.code());
    assert_eq!(p.varbinds, many);
    // GetBulk is truncated to fit instead.
    let p = ask(
        &mut small,
        &req(
            Version::V2c,
            "public",
            PduType::GetBulk,
            0,
            1000,
            nulls(&[oid!(1)]),
        ),
    )
    .unwrap();
    assert_eq!(p.error_status, 0);
    assert!(!p.varbinds.is_empty());
    let bytes = small
        .handle(
            &req(
                Version::V2c,
                "public",
                PduType::GetBulk,
                0,
                1000,
                nulls(&[oid!(1)]),
            ),
            peer(),
            Duration::ZERO,
        )
        .unwrap();
    assert!(bytes.len() <= 484);
}

#[test]
fn communities_sources_views_and_counters() {
    let mut a = agent();
    let get = |c: &str| {
        req(
            Version::V2c,
            c,
            PduType::Get,
            0,
            0,
            nulls(&[Oid::new(&SYS_DESCR)]),
        )
    };
    assert!(a.handle(&get("wrong"), peer(), Duration::ZERO).is_none());
    assert_eq!(
        a.drain_events(),
        vec![snmp::notify::AgentEvent::AuthenticationFailure { peer: peer() }]
    );
    assert!(a.drain_events().is_empty());
    // `local` is only for 10/8.
    assert!(a.handle(&get("local"), peer(), Duration::ZERO).is_none());
    assert!(a
        .handle(
            &get("local"),
            "10.1.2.3:999".parse().unwrap(),
            Duration::ZERO
        )
        .is_some());
    assert!(a
        .handle(b"\x30\x03\x02\x01", peer(), Duration::ZERO)
        .is_none());
    let c = a.counters();
    assert_eq!(
        snmp::agent::SnmpCounters::read(&c.in_bad_community_names),
        2
    );
    assert_eq!(snmp::agent::SnmpCounters::read(&c.in_asn_parse_errs), 1);
    assert_eq!(snmp::agent::SnmpCounters::read(&c.in_pkts), 4);
    // An unknown version is counted.
    let v3 = [0x30, 0x03, 0x02, 0x01, 0x07];
    assert!(a.handle(&v3, peer(), Duration::ZERO).is_none());
    assert_eq!(snmp::agent::SnmpCounters::read(&c.in_bad_versions), 1);
    // The view restricts `sysonly` to the system group.
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "sysonly",
            PduType::Get,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 2, 1, 11, 1, 0)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].value, Value::NoSuchObject);
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "sysonly",
            PduType::GetNext,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 2, 1, 1, 9, 1, 4, 99)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].value, Value::EndOfMibView);
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "sysonly",
            PduType::GetNext,
            0,
            0,
            nulls(&[oid!(1)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].oid, Oid::new(&SYS_DESCR));
}

#[test]
fn views_with_exclusions() {
    let mut a = Agent::new(AgentConfig {
        communities: vec![Community::new("v", Access::ReadOnly)
            .with_view(oid!(1, 3, 6, 1, 2, 1))
            .without_view(oid!(1, 3, 6, 1, 2, 1, 11))
            .with_view(oid!(1, 3, 6, 1, 2, 1, 11, 30))
            .without_view(oid!(1, 3, 6, 1, 2, 1, 1, 9))],
        ..AgentConfig::default()
    });
    let mut cur = oid!(1);
    let mut seen = Vec::new();
    for _ in 0..100 {
        let p = ask(
            &mut a,
            &req(
                Version::V2c,
                "v",
                PduType::GetNext,
                0,
                0,
                nulls(&[cur.clone()]),
            ),
        )
        .unwrap();
        let vb = p.varbinds[0].clone();
        if vb.value == Value::EndOfMibView {
            break;
        }
        assert!(vb.oid > cur);
        cur = vb.oid.clone();
        seen.push(vb.oid);
    }
    let sys: Vec<Oid> = (1..=8).map(|i| oid!(1, 3, 6, 1, 2, 1, 1, i, 0)).collect();
    let mut want = sys;
    want.push(oid!(1, 3, 6, 1, 2, 1, 11, 30, 0));
    assert_eq!(seen, want);
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "v",
            PduType::Get,
            0,
            0,
            nulls(&[oid!(1, 3, 6, 1, 2, 1, 11, 1, 0)]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].value, Value::NoSuchObject);
}

fn walk(a: &mut Agent, community: &str) -> Vec<VarBind> {
    let mut cur = oid!(1);
    let mut seen = Vec::new();
    for _ in 0..1000 {
        let p = ask(
            a,
            &req(
                Version::V2c,
                community,
                PduType::GetNext,
                0,
                0,
                nulls(&[cur.clone()]),
            ),
        )
        .unwrap();
        let vb = p.varbinds[0].clone();
        if vb.value == Value::EndOfMibView {
            break;
        }
        assert!(vb.oid > cur, "not increasing");
        cur = vb.oid.clone();
        seen.push(vb);
    }
    seen
}

proptest::proptest! {
    /// A walk through a view equals the full walk filtered by the view (no gaps, no extras).
    #[test]
    fn view_walk_matches_filtered_full_walk(
        picks in proptest::collection::vec((0usize..10, proptest::bool::ANY), 0..6)
    ) {
        let candidates = [
            oid!(1, 3, 6, 1, 2, 1),
            oid!(1, 3, 6, 1, 2, 1, 1),
            oid!(1, 3, 6, 1, 2, 1, 1, 9),
            oid!(1, 3, 6, 1, 2, 1, 1, 9, 1, 3),
            oid!(1, 3, 6, 1, 2, 1, 11),
            oid!(1, 3, 6, 1, 2, 1, 11, 30),
            oid!(1, 3, 6, 1, 6, 3),
            oid!(1, 3, 6, 1, 6, 3, 15),
            oid!(1, 3, 6, 1, 6, 3, 10, 2, 1, 3),
            oid!(1, 3, 6, 1, 2, 1, 1, 3, 0),
        ];
        let mut view = snmp::View::all();
        for (i, inc) in picks {
            view = if inc { view.include(candidates[i].clone()) } else { view.exclude(candidates[i].clone()) };
        }
        let mut c = Community::new("v", Access::ReadOnly);
        c.view = view.clone();
        let mut a = Agent::new(AgentConfig {
            communities: vec![Community::new("all", Access::ReadOnly), c],
            ..AgentConfig::default()
        });
        let full: Vec<Oid> = walk(&mut a, "all").into_iter().map(|v| v.oid).filter(|o| view.contains(o)).collect();
        let viewed: Vec<Oid> = walk(&mut a, "v").into_iter().map(|v| v.oid).collect();
        proptest::prop_assert_eq!(viewed, full);
    }
}

#[test]
fn hr_system_date_set_only_when_allowed() {
    use snmp::host::FakeHost;
    use snmp::notify::AgentEvent;
    use std::sync::Arc;
    let date = oid!(1, 3, 6, 1, 2, 1, 25, 1, 2, 0);
    // 2023-11-14 23:13:20 +01:00 = 1700000000
    let value = Value::OctetString(vec![0x07, 0xe7, 11, 14, 23, 13, 20, 0, b'+', 1, 0]);
    for allowed in [false, true] {
        let mut a = Agent::new(AgentConfig {
            communities: vec![Community::new("private", Access::ReadWrite)],
            allow_set_system_date: allowed,
            ..AgentConfig::default()
        });
        snmp::mib::register_linux(&mut a, Arc::new(FakeHost::new()), Duration::ZERO);
        let set = |vbs| req(Version::V2c, "private", PduType::Set, 0, 0, vbs);
        let p = ask(
            &mut a,
            &set(vec![VarBind::new(date.clone(), value.clone())]),
        )
        .unwrap();
        if !allowed {
            assert_eq!(p.error_status, ErrorStatus::NotWritable.code());
            assert!(a.drain_events().is_empty());
            continue;
        }
        assert_eq!(p.error_status, 0);
        assert_eq!(
            a.drain_events(),
            vec![AgentEvent::SetSystemDate {
                unix_seconds: 1_700_000_000
            }]
        );
        // Bad month: wrongValue; wrong size: wrongLength.
        let mut bad = vec![0x07, 0xe7, 13, 14, 23, 13, 20, 0];
        let p = ask(
            &mut a,
            &set(vec![VarBind::new(
                date.clone(),
                Value::OctetString(bad.clone()),
            )]),
        )
        .unwrap();
        assert_eq!(p.error_status, ErrorStatus::WrongValue.code());
        bad.pop();
        let p = ask(
            &mut a,
            &set(vec![VarBind::new(date.clone(), Value::OctetString(bad))]),
        )
        .unwrap();
        assert_eq!(p.error_status, ErrorStatus::WrongLength.code());
        // A later failing commit undoes the queued clock change.
        a.registry_mut()
            .register(oid!(1, 3, 6, 1, 4, 1, 9), Box::new(FailsCommit))
            .unwrap();
        let f = VarBind::new(oid!(1, 3, 6, 1, 4, 1, 9, 1, 0), Value::Integer(1));
        let p = ask(
            &mut a,
            &set(vec![VarBind::new(date.clone(), value.clone()), f]),
        )
        .unwrap();
        assert_eq!(p.error_status, ErrorStatus::CommitFailed.code());
        assert!(a.drain_events().is_empty());
    }
}

#[test]
fn sysor_indexes_are_stable() {
    let mut a = agent();
    a.add_sysor(oid!(1, 3, 6, 1, 4, 1, 1), "one", Duration::from_secs(1));
    a.add_sysor(oid!(1, 3, 6, 1, 4, 1, 2), "two", Duration::from_secs(2));
    let rows = |a: &Agent| -> Vec<(u32, Oid)> {
        a.system()
            .lock()
            .unwrap()
            .or_table
            .iter()
            .map(|e| (e.index, e.id.clone()))
            .collect()
    };
    let before = rows(&a);
    let two = before
        .iter()
        .find(|(_, o)| *o == oid!(1, 3, 6, 1, 4, 1, 2))
        .unwrap()
        .0;
    a.remove_sysor(&oid!(1, 3, 6, 1, 4, 1, 1), Duration::from_secs(3));
    let p = ask(
        &mut a,
        &req(
            Version::V2c,
            "public",
            PduType::Get,
            0,
            0,
            nulls(&[
                oid!(1, 3, 6, 1, 2, 1, 1, 9, 1, 3, two),
                oid!(1, 3, 6, 1, 2, 1, 1, 8, 0),
            ]),
        ),
    )
    .unwrap();
    assert_eq!(p.varbinds[0].value, Value::string("two"));
    assert_eq!(p.varbinds[1].value, Value::TimeTicks(300));
}

#[test]
fn summary_has_no_secrets() {
    let mut a = agent();
    let _ = a.handle(b"junk", peer(), Duration::ZERO);
    let s = a.summary();
    let text = format!("{s:?}");
    assert!(
        !text.contains("private") && !text.contains("public"),
        "{text}"
    );
    assert!(s.counters.contains(&("snmpInASNParseErrs", 1)));
    assert!(s.subtrees.contains(&oid!(1, 3, 6, 1, 2, 1, 1)));
    assert_eq!(s.communities.len(), 4);
}
