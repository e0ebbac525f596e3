//! The master's protocol rules on hand-built PDUs.

use super::*;
use crate::pdu::{AgentCaps as Caps, ContextVarBinds, Open, Register};

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

fn send(m: &mut Master, conn: ConnId, session: u32, body: PduBody) -> (Response, Handled) {
    let h = m.receive(
        conn,
        &Pdu::new(session, 1, 7, body).encode(),
        Duration::ZERO,
    );
    let reply = Pdu::decode(h.reply.as_deref().expect("a reply")).unwrap();
    assert_eq!(reply.packet_id, 7);
    match reply.body {
        PduBody::Response(r) => (r, h),
        other => panic!("not a response: {other:?}"),
    }
}

fn open(m: &mut Master, conn: ConnId) -> u32 {
    let h = m.receive(
        conn,
        &Pdu::new(
            0,
            0,
            1,
            PduBody::Open(Open {
                timeout: 0,
                id: oid("1.3.6.1.4.1.9"),
                descr: b"test".to_vec(),
            }),
        )
        .encode(),
        Duration::ZERO,
    );
    let reply = Pdu::decode(&h.reply.unwrap()).unwrap();
    assert!(matches!(&reply.body, PduBody::Response(r) if r.error.is_ok()));
    assert_ne!(reply.session_id, 0);
    reply.session_id
}

fn reg(s: &str, priority: u8) -> PduBody {
    PduBody::Register(Register {
        priority,
        ..Register::subtree(oid(s))
    })
}

#[test]
fn sessions_and_registrations() {
    let mut m = Master::new(Duration::from_secs(5));
    let a = open(&mut m, 1);
    let b = open(&mut m, 2);
    assert_ne!(a, b);
    let (r, h) = send(&mut m, 1, a, reg("1.3.6.1.4.1.9", 127));
    assert!(r.error.is_ok());
    assert_eq!(h.events, vec![Event::RegistrationsChanged]);
    // Same subtree and priority from another session: duplicate.
    let (r, _) = send(&mut m, 2, b, reg("1.3.6.1.4.1.9", 127));
    assert_eq!(r.error, ResponseError::DuplicateRegistration);
    // A better priority wins.
    let (r, _) = send(&mut m, 2, b, reg("1.3.6.1.4.1.9", 10));
    assert!(r.error.is_ok());
    assert_eq!(m.effective(), vec![(oid("1.3.6.1.4.1.9"), b)]);
    // A session ID from another connection, or none at all: notOpen.
    let (r, _) = send(&mut m, 1, b, PduBody::Ping { context: None });
    assert_eq!(r.error, ResponseError::NotOpen);
    let (r, _) = send(&mut m, 1, 999, PduBody::Ping { context: None });
    assert_eq!(r.error, ResponseError::NotOpen);
    let (r, _) = send(&mut m, 1, a, PduBody::Ping { context: None });
    assert!(r.error.is_ok());
    // Unregister must match exactly.
    let (r, _) = send(
        &mut m,
        2,
        b,
        PduBody::Unregister(Register::subtree(oid("1.3.6.1.4.1.9"))),
    );
    assert_eq!(r.error, ResponseError::UnknownRegistration);
    // Closing b hands the subtree back to a.
    let events = m.connection_closed(2);
    assert!(events.contains(&Event::RegistrationsChanged));
    assert_eq!(m.effective(), vec![(oid("1.3.6.1.4.1.9"), a)]);
    let (r, h) = send(&mut m, 1, a, PduBody::Close(CloseReason::Shutdown));
    assert!(r.error.is_ok());
    assert!(h.events.contains(&Event::RegistrationsChanged));
    assert!(m.effective().is_empty());
    let (r, _) = send(&mut m, 1, a, PduBody::Ping { context: None });
    assert_eq!(r.error, ResponseError::NotOpen);
}

#[test]
fn malformed_and_contexts() {
    let mut m = Master::new(Duration::from_secs(5));
    let a = open(&mut m, 1);
    // A body that does not parse: parseError with the request's IDs.
    let mut bytes = Pdu::new(a, 3, 7, reg("1.3.6.1.4.1.9", 127)).encode();
    bytes.truncate(HEADER_LEN + 4);
    bytes[16..20].copy_from_slice(&4u32.to_be_bytes());
    let h = m.receive(1, &bytes, Duration::ZERO);
    let p = Pdu::decode(&h.reply.unwrap()).unwrap();
    assert_eq!((p.session_id, p.transaction_id, p.packet_id), (a, 3, 7));
    assert!(matches!(p.body, PduBody::Response(r) if r.error == ResponseError::ParseError));
    // A header that is not AgentX: close the stream.
    let h = m.receive(1, &[9u8; 20], Duration::ZERO);
    assert_eq!(h.events, vec![Event::CloseConnection]);
    // An empty context with NON_DEFAULT_CONTEXT set (net-snmp's subagents) is the default.
    let mut r = Register::subtree(oid("1.3.6.1.4.1.9"));
    r.context = Some(Vec::new());
    let (resp, _) = send(&mut m, 1, a, PduBody::Register(r));
    assert!(resp.error.is_ok());
    assert_eq!(m.effective(), vec![(oid("1.3.6.1.4.1.9"), a)]);
    assert!(m.contexts().is_empty());
    // Requests only a master sends.
    let (resp, _) = send(&mut m, 1, a, PduBody::CommitSet);
    assert_eq!(resp.error, ResponseError::ProcessingError);
    // A range beyond the sub-identifiers.
    let mut r = Register::subtree(oid("1.3.6.1.4.1.9"));
    r.range_subid = 9;
    r.upper_bound = 12;
    let (resp, _) = send(&mut m, 1, a, PduBody::Register(r));
    assert_eq!(resp.error, ResponseError::ParseError);
}

#[test]
fn notify_index_caps() {
    let mut m = Master::new(Duration::from_secs(5));
    let a = open(&mut m, 1);
    let trap = VarBind::new(
        Oid::new(&SNMP_TRAP_OID_0),
        Value::ObjectId(oid("1.3.6.1.4.1.9.0.1")),
    );
    let extra = VarBind::new(oid("1.3.6.1.4.1.9.1.0"), Value::Integer(3));
    let (r, h) = send(
        &mut m,
        1,
        a,
        PduBody::Notify(ContextVarBinds {
            context: None,
            varbinds: vec![trap.clone(), extra.clone()],
        }),
    );
    assert!(r.error.is_ok());
    assert_eq!(
        h.events,
        vec![Event::Notify {
            trap: oid("1.3.6.1.4.1.9.0.1"),
            varbinds: vec![extra.clone()]
        }]
    );
    let (r, _) = send(
        &mut m,
        1,
        a,
        PduBody::Notify(ContextVarBinds {
            context: None,
            varbinds: vec![extra],
        }),
    );
    assert_eq!(r.error, ResponseError::ProcessingError);
    let idx = VarBind::new(oid("1.3.6.1.4.1.9.2.1.1"), Value::Integer(0));
    let (r, _) = send(
        &mut m,
        1,
        a,
        PduBody::IndexAllocate(crate::pdu::IndexAllocate {
            context: None,
            new_index: false,
            any_index: true,
            varbinds: vec![idx.clone()],
        }),
    );
    assert!(r.error.is_ok());
    assert_eq!(r.varbinds[0].value, Value::Integer(1));
    let (r, h) = send(
        &mut m,
        1,
        a,
        PduBody::AddAgentCaps(Caps {
            context: None,
            id: oid("1.3.6.1.4.1.9.3"),
            descr: b"caps".to_vec(),
        }),
    );
    assert!(r.error.is_ok());
    assert_eq!(h.events.len(), 1);
    let (r, _) = send(
        &mut m,
        1,
        a,
        PduBody::RemoveAgentCaps(Caps {
            context: None,
            id: oid("1.3.6.1.4.1.9.4"),
            descr: Vec::new(),
        }),
    );
    assert_eq!(r.error, ResponseError::UnknownAgentCaps);
    // A session's end releases its indexes and capabilities.
    let events = m.connection_closed(1);
    assert!(events.contains(&Event::RemoveAgentCaps {
        context: None,
        id: oid("1.3.6.1.4.1.9.3")
    }));
    assert_eq!(m.allocated_indexes(), 0);
}

#[test]
fn requests_and_timeouts() {
    let mut m = Master::new(Duration::from_secs(5));
    let a = open(&mut m, 4);
    let mut r = Register::subtree(oid("1.3.6.1.4.1.9"));
    r.timeout = 2;
    send(&mut m, 4, a, PduBody::Register(r));
    let out = m
        .request(a, 11, PduBody::CommitSet, Some(&oid("1.3.6.1.4.1.9")))
        .unwrap();
    assert_eq!(out.conn, 4);
    assert_eq!(out.timeout, Duration::from_secs(2));
    assert_eq!(
        m.timeout_for(a, None, Some(&oid("1.3.6.1.4.1.10"))),
        Duration::from_secs(5)
    );
    let answer = Pdu::new(
        a,
        11,
        out.packet_id,
        PduBody::Response(Response::ok(Vec::new())),
    );
    let h = m.receive(4, &answer.encode(), Duration::ZERO);
    assert!(h.reply.is_none());
    assert!(
        matches!(&h.events[..], [Event::Response { packet_id, .. }] if *packet_id == out.packet_id)
    );
    assert!(m.request(999, 1, PduBody::CommitSet, None).is_none());
}

fn in_context(ctx: &[u8], body: PduBody) -> PduBody {
    let c = Some(ctx.to_vec());
    match body {
        PduBody::Register(r) => PduBody::Register(Register { context: c, ..r }),
        PduBody::Unregister(r) => PduBody::Unregister(Register { context: c, ..r }),
        other => other,
    }
}

#[test]
fn contexts_are_separate_registries() {
    let mut m = Master::new(Duration::from_secs(5));
    let a = open(&mut m, 1);
    let b = open(&mut m, 2);
    let sub = oid("1.3.6.1.4.1.9");
    // The same subtree and priority in two contexts from two sessions: no clash.
    let (r, h) = send(&mut m, 1, a, in_context(b"ctxA", reg("1.3.6.1.4.1.9", 127)));
    assert!(r.error.is_ok());
    assert_eq!(h.events, vec![Event::RegistrationsChanged]);
    let (r, _) = send(&mut m, 2, b, in_context(b"ctxB", reg("1.3.6.1.4.1.9", 127)));
    assert!(r.error.is_ok());
    // ...but twice in one context it is a duplicate.
    let (r, _) = send(&mut m, 2, b, in_context(b"ctxA", reg("1.3.6.1.4.1.9", 127)));
    assert_eq!(r.error, ResponseError::DuplicateRegistration);
    assert_eq!(m.contexts(), vec![b"ctxA".to_vec(), b"ctxB".to_vec()]);
    assert_eq!(m.effective_in(Some(b"ctxA")), vec![(sub.clone(), a)]);
    assert_eq!(m.effective_in(Some(b"ctxB")), vec![(sub.clone(), b)]);
    // Neither serves the default context, and reserved (master-owned) subtrees are the
    // default context's only.
    assert!(m.effective().is_empty());
    m.set_reserved(vec![oid("1.3.6.1.2.1.1")]);
    let (r, _) = send(&mut m, 1, a, in_context(b"ctxA", reg("1.3.6.1.2.1.1", 127)));
    assert!(r.error.is_ok());
    let (r, _) = send(&mut m, 1, a, reg("1.3.6.1.2.1.1", 127));
    assert_eq!(r.error, ResponseError::DuplicateRegistration);
    // Unregistering needs the context it was registered in.
    let (r, _) = send(
        &mut m,
        2,
        b,
        PduBody::Unregister(Register::subtree(sub.clone())),
    );
    assert_eq!(r.error, ResponseError::UnknownRegistration);
    let (r, h) = send(
        &mut m,
        2,
        b,
        in_context(b"ctxB", PduBody::Unregister(Register::subtree(sub.clone()))),
    );
    assert!(r.error.is_ok());
    assert_eq!(h.events, vec![Event::RegistrationsChanged]);
    // ctxB is gone with its last registration; ctxA is untouched.
    assert_eq!(m.contexts(), vec![b"ctxA".to_vec()]);
    assert!(m.effective_in(Some(b"ctxB")).is_empty());
    assert_eq!(m.effective_in(Some(b"ctxA")).len(), 2);
    // Ping, index allocation and capabilities in a context are served.
    let (r, _) = send(
        &mut m,
        1,
        a,
        PduBody::Ping {
            context: Some(b"ctxA".to_vec()),
        },
    );
    assert!(r.error.is_ok());
    let idx = VarBind::new(oid("1.3.6.1.4.1.9.2.1.1"), Value::Integer(4));
    let alloc = |ctx: Option<&[u8]>| {
        PduBody::IndexAllocate(crate::pdu::IndexAllocate {
            context: ctx.map(<[u8]>::to_vec),
            new_index: false,
            any_index: false,
            varbinds: vec![idx.clone()],
        })
    };
    assert!(send(&mut m, 1, a, alloc(Some(b"ctxA"))).0.error.is_ok());
    // The same value in the default context is another index object's.
    assert!(send(&mut m, 1, a, alloc(None)).0.error.is_ok());
    assert_eq!(
        send(&mut m, 1, a, alloc(Some(b"ctxA"))).0.error,
        ResponseError::IndexAlreadyAllocated
    );
    let caps = |ctx: Option<&[u8]>, add: bool| {
        let c = Caps {
            context: ctx.map(<[u8]>::to_vec),
            id: oid("1.3.6.1.4.1.9.3"),
            descr: b"caps".to_vec(),
        };
        if add {
            PduBody::AddAgentCaps(c)
        } else {
            PduBody::RemoveAgentCaps(c)
        }
    };
    let (r, h) = send(&mut m, 1, a, caps(Some(b"ctxA"), true));
    assert!(r.error.is_ok());
    assert_eq!(
        h.events,
        vec![Event::AddAgentCaps {
            context: Some(b"ctxA".to_vec()),
            id: oid("1.3.6.1.4.1.9.3"),
            descr: "caps".into()
        }]
    );
    // Removal names the context it was added in.
    let (r, _) = send(&mut m, 1, a, caps(None, false));
    assert_eq!(r.error, ResponseError::UnknownAgentCaps);
    let (r, _) = send(&mut m, 1, a, caps(Some(b"ctxA"), false));
    assert!(r.error.is_ok());
    // Requests for a context take that context's registration timeout.
    let mut t = Register::subtree(oid("1.3.6.1.4.1.11"));
    t.context = Some(b"ctxA".to_vec());
    t.timeout = 3;
    assert!(send(&mut m, 1, a, PduBody::Register(t)).0.error.is_ok());
    let get = |ctx: Option<&[u8]>| {
        PduBody::Get(crate::pdu::Get {
            context: ctx.map(<[u8]>::to_vec),
            ranges: Vec::new(),
        })
    };
    let sub11 = oid("1.3.6.1.4.1.11");
    let out = m.request(a, 1, get(Some(b"ctxA")), Some(&sub11)).unwrap();
    assert_eq!(out.timeout, Duration::from_secs(3));
    let out = m.request(a, 1, get(None), Some(&sub11)).unwrap();
    assert_eq!(out.timeout, Duration::from_secs(5));
    // Closing the session ends the context.
    m.connection_closed(1);
    assert!(m.contexts().is_empty());
}

proptest::proptest! {
    /// Whatever arrives on a connection, the master answers or closes; it never panics.
    #[test]
    fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let mut m = Master::new(Duration::from_secs(5));
        let a = open(&mut m, 1);
        let _ = m.receive(1, &bytes, Duration::ZERO);
        // The same bytes behind a valid header for the open session.
        let mut framed = Pdu::new(a, 1, 1, PduBody::Ping { context: None }).encode();
        let pad = (4 - bytes.len() % 4) % 4;
        let len = u32::try_from(bytes.len() + pad).unwrap();
        framed[16..20].copy_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&bytes);
        framed.extend(std::iter::repeat_n(0u8, pad));
        for t in 1..=18u8 {
            framed[1] = t;
            let _ = m.receive(1, &framed, Duration::ZERO);
        }
    }
}
