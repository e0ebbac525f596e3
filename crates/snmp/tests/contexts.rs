//! SNMP contexts: an SNMPv3 request's contextName picks the registry it is served from. A
//! non-default context holds only the subtrees delegated in it, exists while one is
//! registered, and an unknown one gets the unknownContexts report.

use snmp::agent::{Access, Agent, AgentConfig, Community, UsmUser};
use snmp::delegate::{DelegateId, Outcome, RemoteOp, RemoteOpKind, RemoteReply};
use snmp::pdu::{AnyPdu, Message, Pdu, PduType, Version};
use snmp::v3::{self, ScopedPdu, UsmParams, V3Message};
use snmp::{Oid, Value, VarBind};
use std::time::Duration;

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

const SUB: &str = "1.3.6.1.4.1.9";

fn agent() -> Agent {
    let mut cfg = AgentConfig {
        communities: vec![Community::new("public", Access::ReadOnly)],
        ..AgentConfig::default()
    };
    let e = cfg.engine_id.clone();
    cfg.users = vec![UsmUser::with_passwords(
        "plain",
        Access::ReadWrite,
        None,
        None,
        &e,
    )];
    let mut a = Agent::new(cfg);
    // The same subtree in two contexts and in the default context, each served by another
    // delegate.
    a.register_remote_in(b"ctxA", oid(SUB), DelegateId(1))
        .unwrap();
    a.register_remote_in(b"ctxB", oid(SUB), DelegateId(2))
        .unwrap();
    a.register_remote(oid(SUB), DelegateId(3)).unwrap();
    a
}

/// What delegate `d` serves: SUB.1.0 = d, SUB.2.0 = 10 d.
fn mib(d: DelegateId) -> Vec<VarBind> {
    let n = i32::try_from(d.0).unwrap();
    vec![
        VarBind::new(oid(&format!("{SUB}.1.0")), Value::Integer(n)),
        VarBind::new(oid(&format!("{SUB}.2.0")), Value::Integer(10 * n)),
    ]
}

/// Each delegate serves exactly one context: 1 ctxA, 2 ctxB, 3 the default.
fn context_of(d: DelegateId) -> &'static [u8] {
    match d.0 {
        1 => b"ctxA",
        2 => b"ctxB",
        _ => b"",
    }
}

fn answer(op: &RemoteOp, log: &mut Vec<(u64, Vec<u8>, &'static str)>) -> RemoteReply {
    assert_eq!(op.context, context_of(op.delegate), "{op:?}");
    let m = mib(op.delegate);
    match &op.kind {
        RemoteOpKind::Get(oids) => RemoteReply::Varbinds(
            oids.iter()
                .map(|o| {
                    m.iter()
                        .find(|v| v.oid == *o)
                        .cloned()
                        .unwrap_or(VarBind::new(o.clone(), Value::NoSuchObject))
                })
                .collect(),
        ),
        RemoteOpKind::Next {
            start,
            include,
            end,
            ..
        } => {
            let next = m
                .iter()
                .find(|v| (v.oid > *start || (*include && v.oid == *start)) && v.oid < *end);
            RemoteReply::Varbinds(vec![next
                .cloned()
                .unwrap_or(VarBind::new(start.clone(), Value::EndOfMibView))])
        }
        k => {
            let name = match k {
                RemoteOpKind::TestSet(_) => "test",
                RemoteOpKind::CommitSet => "commit",
                RemoteOpKind::UndoSet => "undo",
                _ => "cleanup",
            };
            log.push((op.delegate.0, op.context.clone(), name));
            RemoteReply::Done
        }
    }
}

/// Runs one request to the end, answering every delegate operation.
fn run(a: &mut Agent, req: &[u8], log: &mut Vec<(u64, Vec<u8>, &'static str)>) -> Option<Vec<u8>> {
    let now = Duration::from_secs(1);
    let peer = "127.0.0.1:4000".parse().unwrap();
    let mut o = a.handle_request(req, peer, now);
    let r = loop {
        match o {
            Outcome::Done(b) => break b,
            Outcome::Pending(p) => {
                let replies = p.ops.iter().map(|op| answer(op, log)).collect();
                o = a.resume(p, replies, now);
            }
        }
    };
    for n in a.drain_notices() {
        answer(&n, log);
    }
    r
}

/// A noAuthNoPriv, reportable SNMPv3 request in `context`; the answer's scoped PDU.
fn v3(a: &mut Agent, context: &[u8], t: PduType, vbs: Vec<VarBind>) -> (Vec<u8>, Pdu) {
    v3_pdu(a, context, Pdu::new(t, 9, vbs), &mut Vec::new())
}

fn v3_pdu(
    a: &mut Agent,
    context: &[u8],
    pdu: Pdu,
    log: &mut Vec<(u64, Vec<u8>, &'static str)>,
) -> (Vec<u8>, Pdu) {
    let engine = a.config().engine_id.clone();
    let scoped = ScopedPdu {
        context_engine_id: engine.clone(),
        context_name: context.to_vec(),
        pdu,
    };
    let params = UsmParams {
        engine_id: engine,
        user: b"plain".to_vec(),
        ..UsmParams::default()
    };
    let (req, _) = v3::encode_message(
        3,
        65000,
        v3::FLAG_REPORTABLE,
        &params,
        0,
        &scoped.encode(),
        false,
    );
    let resp = run(a, &req, log).expect("an answer");
    let s = V3Message::decode(&resp).unwrap().scoped().unwrap().unwrap();
    (s.context_name, s.pdu)
}

fn get(a: &mut Agent, context: &[u8], o: &str) -> Value {
    let (name, p) = v3(a, context, PduType::Get, vec![VarBind::null(oid(o))]);
    assert_eq!(p.pdu_type, PduType::Response);
    assert_eq!(name, context, "the answer names the request's context");
    p.varbinds[0].value.clone()
}

#[test]
fn each_context_is_served_by_its_own_registrations() {
    let mut a = agent();
    assert!(a.has_context(b"ctxA") && a.has_context(b"ctxB") && a.has_context(b""));
    assert_eq!(a.context_names(), vec![b"ctxA".to_vec(), b"ctxB".to_vec()]);
    let leaf = format!("{SUB}.1.0");
    assert_eq!(get(&mut a, b"ctxA", &leaf), Value::Integer(1));
    assert_eq!(get(&mut a, b"ctxB", &leaf), Value::Integer(2));
    assert_eq!(get(&mut a, b"", &leaf), Value::Integer(3));
    // The agent's own MIB lives in the default context only.
    assert!(matches!(
        get(&mut a, b"", "1.3.6.1.2.1.1.1.0"),
        Value::OctetString(_)
    ));
    assert_eq!(
        get(&mut a, b"ctxA", "1.3.6.1.2.1.1.1.0"),
        Value::NoSuchObject
    );
    // v1/v2c requests are the default context's.
    let req = Message {
        version: Version::V2c,
        community: b"public".to_vec(),
        pdu: AnyPdu::Pdu(Pdu::new(PduType::Get, 4, vec![VarBind::null(oid(&leaf))])),
    }
    .encode();
    let resp = run(&mut a, &req, &mut Vec::new()).unwrap();
    let AnyPdu::Pdu(p) = Message::decode(&resp).unwrap().pdu else {
        panic!("not a response");
    };
    assert_eq!(p.varbinds[0].value, Value::Integer(3));
}

#[test]
fn a_walk_stays_in_its_context() {
    let mut a = agent();
    let mut cur = oid("1.3");
    let mut seen = Vec::new();
    loop {
        let (_, p) = v3(&mut a, b"ctxB", PduType::GetNext, vec![VarBind::null(cur)]);
        let vb = p.varbinds[0].clone();
        if vb.value == Value::EndOfMibView {
            break;
        }
        cur = vb.oid.clone();
        seen.push(vb);
        assert!(seen.len() < 10);
    }
    assert_eq!(seen, mib(DelegateId(2)));
    // GetBulk too: ctxA's two instances, then the end of its MIB view.
    let mut bulk = Pdu::new(PduType::GetBulk, 9, vec![VarBind::null(oid("1.3"))]);
    bulk.error_index = 5;
    let (_, p) = v3_pdu(&mut a, b"ctxA", bulk, &mut Vec::new());
    assert_eq!(p.varbinds[..2], mib(DelegateId(1))[..]);
    assert_eq!(p.varbinds[2].value, Value::EndOfMibView);
}

#[test]
fn sets_go_to_the_contexts_delegates() {
    let mut a = agent();
    let mut log = Vec::new();
    let vb = VarBind::new(oid(&format!("{SUB}.1.0")), Value::Integer(5));
    let (_, p) = v3_pdu(
        &mut a,
        b"ctxA",
        Pdu::new(PduType::Set, 9, vec![vb]),
        &mut log,
    );
    assert_eq!(p.error_status, 0);
    let ctx = b"ctxA".to_vec();
    assert_eq!(
        log,
        vec![
            (1, ctx.clone(), "test"),
            (1, ctx.clone(), "commit"),
            (1, ctx, "cleanup")
        ]
    );
}

#[test]
fn unknown_contexts_get_a_report_and_contexts_end_with_their_last_registration() {
    let mut a = agent();
    let unknown = oid("1.3.6.1.6.3.12.1.5.0");
    let (name, p) = v3(
        &mut a,
        b"nosuch",
        PduType::Get,
        vec![VarBind::null(oid(SUB))],
    );
    assert_eq!(p.pdu_type, PduType::Report);
    assert_eq!(name, b"nosuch");
    assert_eq!(p.varbinds[0].oid, unknown);
    assert_eq!(p.varbinds[0].value, Value::Counter32(1));
    // vacmContextTable lists the contexts of the moment.
    let vacm_ctx_b = "1.3.6.1.6.3.16.1.1.1.1.4.99.116.120.66";
    assert_eq!(get(&mut a, b"", vacm_ctx_b), Value::string("ctxB"));
    // ctxB goes when its only registration goes.
    let id = a
        .context_registry(b"ctxB")
        .unwrap()
        .subtrees()
        .first()
        .unwrap()
        .1;
    assert_eq!(a.unregister_remote_in(b"ctxB", id), Some(oid(SUB)));
    assert!(!a.has_context(b"ctxB"));
    assert_eq!(get(&mut a, b"", vacm_ctx_b), Value::NoSuchInstance);
    let (_, p) = v3(&mut a, b"ctxB", PduType::Get, vec![VarBind::null(oid(SUB))]);
    assert_eq!(p.pdu_type, PduType::Report);
    assert_eq!(p.varbinds[0].value, Value::Counter32(2));
    // ctxA is untouched.
    assert_eq!(
        get(&mut a, b"ctxA", &format!("{SUB}.2.0")),
        Value::Integer(10)
    );
}

#[test]
fn agent_capabilities_of_a_context_are_its_sysortable() {
    let mut a = agent();
    let caps = oid("1.3.6.1.4.1.9.9.1");
    let now = Duration::from_secs(3);
    a.add_sysor_in(Some(b"ctxA"), caps.clone(), "ctxA caps", now);
    let row = |col: u32, i: u32| format!("1.3.6.1.2.1.1.9.1.{col}.{i}");
    assert_eq!(
        get(&mut a, b"ctxA", &row(2, 1)),
        Value::ObjectId(caps.clone())
    );
    assert_eq!(get(&mut a, b"ctxA", &row(3, 1)), Value::string("ctxA caps"));
    assert_eq!(
        get(&mut a, b"ctxA", "1.3.6.1.2.1.1.8.0"),
        Value::TimeTicks(300)
    );
    // Not in the default context's sysORTable, nor in ctxB's.
    let in_default = a
        .system()
        .lock()
        .unwrap()
        .or_table
        .iter()
        .any(|e| e.id == caps);
    assert!(!in_default);
    assert_eq!(get(&mut a, b"ctxB", &row(2, 1)), Value::NoSuchObject);
    // A walk of ctxA reaches the table before the subagent's subtree.
    let (_, p) = v3(
        &mut a,
        b"ctxA",
        PduType::GetNext,
        vec![VarBind::null(oid("1.3"))],
    );
    assert_eq!(p.varbinds[0].oid, oid("1.3.6.1.2.1.1.8.0"));
    a.remove_sysor_in(Some(b"ctxA"), &caps, now);
    assert_eq!(get(&mut a, b"ctxA", &row(2, 1)), Value::NoSuchObject);
}
