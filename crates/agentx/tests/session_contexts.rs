//! The subagent session in non-default contexts: registrations carry the context, every
//! reconnection registers it again, and requests are served from their context's handlers.

use agentx::helpers::Scalars;
use agentx::pdu::*;
use agentx::session::{Config, Session, State};
use agentx::ResponseError;
use snmp::{oid, ErrorStatus, Oid, Registry, Value, VarBind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SID: u32 = 5;

fn base() -> Oid {
    oid!(1, 3, 6, 1, 4, 1, 99999, 1)
}

/// Scalars base.1.0 (read-only, `name`) and base.2.0 (writable, shared in `level`).
fn scalars(name: &'static str, level: Arc<Mutex<i32>>) -> Scalars {
    let g = level.clone();
    Scalars::new(base())
        .read(1, move || Value::string(name))
        .write(
            2,
            move || Value::Integer(*g.lock().unwrap()),
            move |v| match v {
                Value::Integer(i) => {
                    *level.lock().unwrap() = *i;
                    Ok(())
                }
                _ => Err(ErrorStatus::WrongType),
            },
        )
}

fn ok(to: &Pdu) -> Pdu {
    Pdu::new(
        SID,
        to.transaction_id,
        to.packet_id,
        PduBody::Response(Response::ok(vec![])),
    )
}

/// Connects and answers the Open: the Register PDUs the session sends.
fn connect(s: &mut Session) -> Vec<Register> {
    let open = s.connect(Duration::ZERO);
    let regs = s.handle(ok(&open), Duration::ZERO);
    let bodies = regs
        .iter()
        .map(|p| match &p.body {
            PduBody::Register(r) => r.clone(),
            other => panic!("not a Register: {other:?}"),
        })
        .collect();
    for r in &regs {
        s.handle(ok(r), Duration::ZERO);
    }
    assert_eq!(s.state(), State::Ready);
    bodies
}

fn answer(s: &mut Session, tid: u32, body: PduBody) -> Response {
    let mut out = s.handle(Pdu::new(SID, tid, 40 + tid, body), Duration::from_secs(1));
    assert_eq!(out.len(), 1, "{out:?}");
    match out.remove(0).body {
        PduBody::Response(r) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn get(context: Option<&[u8]>, o: Oid) -> PduBody {
    PduBody::Get(Get {
        context: context.map(<[u8]>::to_vec),
        ranges: vec![SearchRange::from(o, false)],
    })
}

#[test]
fn one_subtree_in_the_default_context_and_in_a_named_one() {
    let default_level = Arc::new(Mutex::new(1));
    let ctx_level = Arc::new(Mutex::new(2));
    let mut reg = Registry::new();
    reg.register(base(), Box::new(scalars("default", default_level.clone())))
        .unwrap();
    let mut s = Session::new(Config::default(), reg, vec![base()]);
    assert_eq!(
        s.register_in(
            b"ctxA",
            base(),
            Box::new(scalars("ctxA", ctx_level.clone()))
        )
        .unwrap(),
        None,
        "not open: nothing to send yet"
    );
    // The same subtree twice in one context is refused locally.
    assert!(s
        .register_in(b"ctxA", base(), Box::new(scalars("x", ctx_level.clone())))
        .is_err());
    let regs = connect(&mut s);
    let contexts: Vec<Option<Vec<u8>>> = regs.iter().map(|r| r.context.clone()).collect();
    assert_eq!(contexts, vec![None, Some(b"ctxA".to_vec())]);
    assert!(regs.iter().all(|r| r.subtree == base()));

    let name = base().child(&[1, 0]);
    let r = answer(&mut s, 1, get(None, name.clone()));
    assert_eq!(r.varbinds[0].value, Value::string("default"));
    let r = answer(&mut s, 2, get(Some(b"ctxA"), name.clone()));
    assert_eq!(r.varbinds[0].value, Value::string("ctxA"));
    // A context the session registered nothing in.
    let r = answer(&mut s, 3, get(Some(b"ctxB"), name.clone()));
    assert_eq!(r.error, ResponseError::UnsupportedContext);
    // GetNext and GetBulk walk the context's handlers.
    let r = answer(
        &mut s,
        4,
        PduBody::GetNext(Get {
            context: Some(b"ctxA".to_vec()),
            ranges: vec![SearchRange::from(base(), false)],
        }),
    );
    assert_eq!(
        r.varbinds[0],
        VarBind::new(name.clone(), Value::string("ctxA"))
    );
    let r = answer(
        &mut s,
        5,
        PduBody::GetBulk(GetBulk {
            context: Some(b"ctxA".to_vec()),
            non_repeaters: 0,
            max_repetitions: 5,
            ranges: vec![SearchRange::from(base(), false)],
        }),
    );
    assert_eq!(r.varbinds[1].value, Value::Integer(2));
    assert_eq!(r.varbinds[2].value, Value::EndOfMibView);

    // A Set in ctxA: the TestSet names the context, CommitSet carries none and still goes to
    // ctxA's handler.
    let level = base().child(&[2, 0]);
    let r = answer(
        &mut s,
        6,
        PduBody::TestSet(ContextVarBinds {
            context: Some(b"ctxA".to_vec()),
            varbinds: vec![VarBind::new(level.clone(), Value::Integer(9))],
        }),
    );
    assert!(r.error.is_ok(), "{r:?}");
    assert!(answer(&mut s, 6, PduBody::CommitSet).error.is_ok());
    assert!(s
        .handle(Pdu::new(SID, 6, 99, PduBody::CleanupSet), Duration::ZERO)
        .is_empty());
    assert_eq!(*ctx_level.lock().unwrap(), 9);
    assert_eq!(*default_level.lock().unwrap(), 1);

    // Capabilities in ctxA: announced with the context now...
    let caps = oid!(1, 3, 6, 1, 4, 1, 99999, 3);
    let p = s
        .add_agent_caps_in(b"ctxA", caps.clone(), "ctxA caps".into())
        .expect("an AddAgentCaps");
    assert!(
        matches!(&p.body, PduBody::AddAgentCaps(c) if c.context.as_deref() == Some(&b"ctxA"[..]))
    );
    s.handle(ok(&p), Duration::ZERO);

    // ...and after a reconnection, which registers both subtrees again, each in its context.
    s.disconnected();
    let open = s.connect(Duration::ZERO);
    let regs = s.handle(ok(&open), Duration::ZERO);
    assert_eq!(regs.len(), 2);
    assert!(
        matches!(&regs[1].body, PduBody::Register(r) if r.context.as_deref() == Some(&b"ctxA"[..]))
    );
    let mut after = Vec::new();
    for r in &regs {
        after.extend(s.handle(ok(r), Duration::ZERO));
    }
    assert_eq!(s.state(), State::Ready);
    assert!(
        matches!(&after[..], [p] if matches!(&p.body, PduBody::AddAgentCaps(c)
            if c.context.as_deref() == Some(&b"ctxA"[..]) && c.id == caps)),
        "{after:?}"
    );
    s.handle(ok(&after[0]), Duration::ZERO);
    // Withdrawn in the context it was announced in.
    assert!(s.remove_agent_caps(&caps).is_none());
    let p = s
        .remove_agent_caps_in(b"ctxA", &caps)
        .expect("a RemoveAgentCaps");
    assert!(
        matches!(&p.body, PduBody::RemoveAgentCaps(c) if c.context.as_deref() == Some(&b"ctxA"[..]))
    );
    s.handle(ok(&p), Duration::ZERO);

    // Unregistering in ctxA names the context and leaves the default registration.
    let p = s.unregister_in(b"ctxA", &base()).expect("an Unregister");
    match &p.body {
        PduBody::Unregister(r) => assert_eq!(r.context, Some(b"ctxA".to_vec())),
        other => panic!("not an Unregister: {other:?}"),
    }
    let r = answer(&mut s, 7, get(Some(b"ctxA"), name.clone()));
    assert_eq!(r.error, ResponseError::UnsupportedContext);
    let r = answer(&mut s, 8, get(None, name));
    assert_eq!(r.varbinds[0].value, Value::string("default"));
    s.disconnected();
    assert_eq!(connect(&mut s).len(), 1);
}
