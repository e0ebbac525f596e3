//! The sans-I/O subagent session: a scripted master feeds it PDUs and checks its answers.

use agentx::helpers::{Scalars, Table, TableData};
use agentx::pdu::*;
use agentx::session::{Config, Event, Session, State};
use snmp::{oid, ErrorStatus, Oid, Registry, Value, VarBind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SID: u32 = 77;

fn base() -> Oid {
    oid!(1, 3, 6, 1, 4, 1, 99999)
}

/// A session serving scalars 99999.1.{1,2}.0 (2 writable) and a table 99999.2.1.
fn session() -> (Session, Arc<Mutex<i32>>, TableData) {
    let level = Arc::new(Mutex::new(5));
    let (g, s) = (level.clone(), level.clone());
    let scalars = Scalars::new(base().child(&[1]))
        .read(1, || Value::string("maynard"))
        .write(
            2,
            move || Value::Integer(*g.lock().unwrap()),
            move |v| match v {
                Value::Integer(i) => {
                    *s.lock().unwrap() = *i;
                    Ok(())
                }
                _ => Err(ErrorStatus::WrongType),
            },
        )
        .check(2, |v| match v {
            Value::Integer(0..=10) => Ok(()),
            _ => Err(ErrorStatus::WrongValue),
        });
    let data = TableData::new();
    data.set_row(
        oid!(1),
        [(2, Value::string("eth0")), (3, Value::Counter32(10))],
    );
    data.set_row(
        oid!(2),
        [(2, Value::string("eth1")), (3, Value::Counter32(20))],
    );
    let table = Table::new(base().child(&[2, 1]), data.clone()).writable(&[2]);
    let mut reg = Registry::new();
    reg.register(base().child(&[1]), Box::new(scalars)).unwrap();
    reg.register(base().child(&[2]), Box::new(table)).unwrap();
    let cfg = Config {
        description: "test".into(),
        ping_interval: Some(Duration::from_secs(10)),
        ..Config::default()
    };
    let s = Session::new(cfg, reg, vec![base().child(&[1]), base().child(&[2])]);
    (s, level, data)
}

fn ok_response(to: &Pdu) -> Pdu {
    Pdu::new(
        SID,
        to.transaction_id,
        to.packet_id,
        PduBody::Response(Response::ok(vec![])),
    )
}

/// Opens and registers; returns the ready session.
fn ready() -> (Session, Arc<Mutex<i32>>, TableData) {
    let (mut s, l, d) = session();
    let open = s.connect(Duration::ZERO);
    let PduBody::Open(o) = &open.body else {
        panic!("not an Open: {open:?}")
    };
    assert_eq!(o.descr, b"test");
    assert_eq!(o.timeout, 5);
    assert_eq!(s.state(), State::Opening);
    let regs = s.handle(ok_response(&open), Duration::ZERO);
    assert_eq!(s.state(), State::Registering);
    assert_eq!(regs.len(), 2);
    for r in &regs {
        assert_eq!(r.session_id, SID);
        assert!(matches!(r.body, PduBody::Register(_)));
    }
    assert!(s.handle(ok_response(&regs[0]), Duration::ZERO).is_empty());
    assert_eq!(s.state(), State::Registering);
    s.handle(ok_response(&regs[1]), Duration::ZERO);
    assert_eq!(s.state(), State::Ready);
    let evs: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert_eq!(
        evs,
        vec![
            Event::Opened { session_id: SID },
            Event::Registered(base().child(&[1])),
            Event::Registered(base().child(&[2]))
        ]
    );
    (s, l, d)
}

fn request(tid: u32, pid: u32, body: PduBody) -> Pdu {
    Pdu::new(SID, tid, pid, body)
}

fn answer(s: &mut Session, req: Pdu) -> Response {
    let pid = req.packet_id;
    let mut out = s.handle(req, Duration::from_secs(1));
    assert_eq!(out.len(), 1, "one answer expected: {out:?}");
    let p = out.remove(0);
    assert_eq!(p.packet_id, pid);
    match p.body {
        PduBody::Response(r) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn get(ranges: Vec<SearchRange>) -> Get {
    Get {
        context: None,
        ranges,
    }
}

#[test]
fn get_getnext_getbulk() {
    let (mut s, _, _) = ready();
    let r = answer(
        &mut s,
        request(
            1,
            10,
            PduBody::Get(get(vec![
                SearchRange::from(base().child(&[1, 1, 0]), false),
                SearchRange::from(base().child(&[1, 3, 0]), false),
                SearchRange::from(base().child(&[2, 1, 3, 2]), false),
            ])),
        ),
    );
    assert_eq!(
        r.varbinds
            .iter()
            .map(|v| v.value.clone())
            .collect::<Vec<_>>(),
        vec![
            Value::string("maynard"),
            Value::NoSuchObject,
            Value::Counter32(20)
        ]
    );
    // GetNext: from the scalar group's start; with include; bounded by an end.
    let r = answer(
        &mut s,
        request(
            2,
            11,
            PduBody::GetNext(get(vec![
                SearchRange::from(base().child(&[1]), false),
                SearchRange::from(base().child(&[1, 2, 0]), true),
                SearchRange {
                    start: base().child(&[1, 2, 0]),
                    end: base().child(&[2]),
                    include: false,
                },
            ])),
        ),
    );
    assert_eq!(r.varbinds[0].oid, base().child(&[1, 1, 0]));
    assert_eq!(r.varbinds[1].oid, base().child(&[1, 2, 0]));
    assert_eq!(r.varbinds[1].value, Value::Integer(5));
    assert_eq!(
        r.varbinds[2],
        VarBind::new(base().child(&[1, 2, 0]), Value::EndOfMibView)
    );
    // GetBulk: one non-repeater, a repeater walking the table column-major, stopping at the
    // end of what we serve.
    let r = answer(
        &mut s,
        request(
            3,
            12,
            PduBody::GetBulk(GetBulk {
                context: None,
                non_repeaters: 1,
                max_repetitions: 10,
                ranges: vec![
                    SearchRange::from(base().child(&[1]), false),
                    SearchRange::from(base().child(&[2]), false),
                ],
            }),
        ),
    );
    let names: Vec<Oid> = r.varbinds.iter().map(|v| v.oid.clone()).collect();
    assert_eq!(
        names,
        vec![
            base().child(&[1, 1, 0]),
            base().child(&[2, 1, 2, 1]),
            base().child(&[2, 1, 2, 2]),
            base().child(&[2, 1, 3, 1]),
            base().child(&[2, 1, 3, 2]),
            base().child(&[2, 1, 3, 2]),
        ]
    );
    assert_eq!(r.varbinds[5].value, Value::EndOfMibView);
}

fn test_set(s: &mut Session, tid: u32, vbs: Vec<VarBind>) -> Response {
    answer(
        s,
        request(
            tid,
            100 + tid,
            PduBody::TestSet(ContextVarBinds {
                context: None,
                varbinds: vbs,
            }),
        ),
    )
}

#[test]
fn set_phases_commit_and_undo() {
    let (mut s, level, data) = ready();
    let lvl = base().child(&[1, 2, 0]);
    let name1 = base().child(&[2, 1, 2, 1]);
    // A good two-varbind set: test, commit, cleanup.
    let r = test_set(
        &mut s,
        1,
        vec![
            VarBind::new(lvl.clone(), Value::Integer(7)),
            VarBind::new(name1.clone(), Value::string("wan0")),
        ],
    );
    assert_eq!(r.error, ResponseError::NoError);
    assert_eq!(*level.lock().unwrap(), 5, "TestSet must not apply");
    let r = answer(&mut s, request(1, 200, PduBody::CommitSet));
    assert_eq!(r.error, ResponseError::NoError);
    assert_eq!(*level.lock().unwrap(), 7);
    assert_eq!(data.cell(&oid!(1), 2), Some(Value::string("wan0")));
    // UndoSet (another subagent failed its commit): both values come back.
    let r = answer(&mut s, request(1, 201, PduBody::UndoSet));
    assert_eq!(r.error, ResponseError::NoError);
    assert_eq!(*level.lock().unwrap(), 5);
    assert_eq!(data.cell(&oid!(1), 2), Some(Value::string("eth0")));
    assert!(s
        .handle(request(1, 202, PduBody::CleanupSet), Duration::ZERO)
        .is_empty());

    // Refusals name the failing varbind (1-based).
    let r = test_set(
        &mut s,
        2,
        vec![
            VarBind::new(lvl.clone(), Value::Integer(3)),
            VarBind::new(lvl.clone(), Value::Integer(11)),
        ],
    );
    assert_eq!(r.error, ResponseError::Snmp(ErrorStatus::WrongValue));
    assert_eq!(r.index, 2);
    let r = test_set(
        &mut s,
        3,
        vec![VarBind::new(lvl.clone(), Value::string("x"))],
    );
    assert_eq!(r.error, ResponseError::Snmp(ErrorStatus::WrongType));
    let r = test_set(
        &mut s,
        4,
        vec![VarBind::new(base().child(&[1, 1, 0]), Value::string("x"))],
    );
    assert_eq!(r.error, ResponseError::Snmp(ErrorStatus::NotWritable));
    let r = test_set(
        &mut s,
        5,
        vec![VarBind::new(
            base().child(&[2, 1, 3, 1]),
            Value::Counter32(1),
        )],
    );
    assert_eq!(r.error, ResponseError::Snmp(ErrorStatus::NotWritable));
    let r = test_set(
        &mut s,
        6,
        vec![VarBind::new(
            base().child(&[2, 1, 2, 9]),
            Value::string("x"),
        )],
    );
    assert_eq!(r.error, ResponseError::Snmp(ErrorStatus::NoCreation));
    s.handle(request(6, 300, PduBody::CleanupSet), Duration::ZERO);
    assert_eq!(*level.lock().unwrap(), 5);
    // A CommitSet for a transaction we never tested fails.
    let r = answer(&mut s, request(99, 301, PduBody::CommitSet));
    assert_eq!(r.error, ResponseError::Snmp(ErrorStatus::CommitFailed));
}

#[test]
fn ping_timeout_and_reconnect() {
    let (mut s, _, _) = ready();
    assert!(s.tick(Duration::from_secs(5)).is_empty());
    assert_eq!(s.next_deadline(), Some(Duration::from_secs(10)));
    let pings = s.tick(Duration::from_secs(10));
    assert_eq!(pings.len(), 1);
    assert!(matches!(pings[0].body, PduBody::Ping { context: None }));
    // Answered: a Pong event and the next ping 10 s later.
    s.handle(ok_response(&pings[0]), Duration::from_secs(11));
    assert_eq!(s.poll_event(), Some(Event::Pong));
    let pings = s.tick(Duration::from_secs(20));
    assert_eq!(pings.len(), 1);
    // Unanswered past the 5 s timeout: Close(timeouts), state Closed.
    assert!(s.tick(Duration::from_secs(25)).is_empty());
    let out = s.tick(Duration::from_secs(26));
    assert!(matches!(
        out.as_slice(),
        [Pdu {
            body: PduBody::Close(CloseReason::Timeouts),
            ..
        }]
    ));
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.poll_event(), Some(Event::Timeout));
    // A new connection opens a new session.
    let open = s.connect(Duration::from_secs(30));
    assert!(matches!(open.body, PduBody::Open(_)));
    assert_eq!(open.session_id, 0);
}

#[test]
fn notifications_queue_until_ready() {
    let (mut s, _, _) = session();
    let trap = vec![VarBind::new(
        oid!(1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0),
        Value::ObjectId(base().child(&[0, 1])),
    )];
    assert!(s.notify(trap.clone()).is_none());
    let open = s.connect(Duration::ZERO);
    let regs = s.handle(ok_response(&open), Duration::ZERO);
    s.handle(ok_response(&regs[0]), Duration::ZERO);
    let out = s.handle(ok_response(&regs[1]), Duration::ZERO);
    assert_eq!(out.len(), 1);
    let PduBody::Notify(n) = &out[0].body else {
        panic!("not a Notify: {out:?}")
    };
    assert_eq!(n.varbinds, trap);
    assert_eq!(out[0].session_id, SID);
    // Ready: sent at once.
    assert!(s.notify(trap).is_some());
}

#[test]
fn master_refusals_and_close() {
    let (mut s, _, _) = session();
    let open = s.connect(Duration::ZERO);
    let regs = s.handle(ok_response(&open), Duration::ZERO);
    let dup = Pdu::new(
        SID,
        0,
        regs[0].packet_id,
        PduBody::Response(Response::error(ResponseError::DuplicateRegistration, 0)),
    );
    s.handle(dup, Duration::ZERO);
    s.handle(ok_response(&regs[1]), Duration::ZERO);
    assert_eq!(s.state(), State::Ready);
    let evs: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(evs.contains(&Event::RegisterFailed(
        base().child(&[1]),
        ResponseError::DuplicateRegistration
    )));
    // A request on another session ID is refused with notOpen.
    let r = answer(&mut s, Pdu::new(SID + 1, 1, 1, PduBody::Get(get(vec![]))));
    assert_eq!(r.error, ResponseError::NotOpen);
    // The master closes.
    assert!(s
        .handle(
            request(0, 5, PduBody::Close(CloseReason::Shutdown)),
            Duration::ZERO
        )
        .is_empty());
    assert_eq!(s.state(), State::Closed);

    // An Open refused.
    let (mut s, _, _) = session();
    let open = s.connect(Duration::ZERO);
    let refused = Pdu::new(
        0,
        0,
        open.packet_id,
        PduBody::Response(Response::error(ResponseError::OpenFailed, 0)),
    );
    assert!(s.handle(refused, Duration::ZERO).is_empty());
    assert_eq!(s.state(), State::Closed);
    assert_eq!(
        s.poll_event(),
        Some(Event::OpenFailed(ResponseError::OpenFailed))
    );
}

#[test]
fn dynamic_registration_and_agent_caps() {
    let (mut s, _, _) = ready();
    let extra = base().child(&[5]);
    let scalars = Scalars::new(extra.clone()).read(1, || Value::Integer(9));
    let reg = s
        .register(extra.clone(), Box::new(scalars))
        .unwrap()
        .expect("a Register while open");
    let PduBody::Register(r) = &reg.body else {
        panic!("{reg:?}")
    };
    assert_eq!(r.subtree, extra);
    assert!(s.handle(ok_response(&reg), Duration::ZERO).is_empty());
    assert_eq!(s.poll_event(), Some(Event::Registered(extra.clone())));
    let r = answer(
        &mut s,
        request(
            1,
            1,
            PduBody::Get(get(vec![SearchRange::from(extra.child(&[1, 0]), false)])),
        ),
    );
    assert_eq!(r.varbinds[0].value, Value::Integer(9));
    // A subtree served twice locally is refused before reaching the master.
    assert!(s
        .register(extra.clone(), Box::new(Scalars::new(extra.clone())))
        .is_err());

    let unreg = s.unregister(&extra).expect("an Unregister while open");
    assert!(matches!(&unreg.body, PduBody::Unregister(r) if r.subtree == extra));
    s.handle(ok_response(&unreg), Duration::ZERO);
    assert_eq!(s.poll_event(), Some(Event::Unregistered(extra.clone())));
    assert!(s.unregister(&extra).is_none(), "already gone");
    let r = answer(
        &mut s,
        request(
            2,
            2,
            PduBody::Get(get(vec![SearchRange::from(extra.child(&[1, 0]), false)])),
        ),
    );
    assert_eq!(r.varbinds[0].value, Value::NoSuchObject);

    // Agent capabilities: sent now, and again after every registration.
    let caps = s
        .add_agent_caps(base().child(&[3, 1]), "caps".into())
        .expect("AddAgentCaps while ready");
    assert!(matches!(&caps.body, PduBody::AddAgentCaps(a) if a.descr == b"caps"));
    let refused = Pdu::new(
        SID,
        0,
        caps.packet_id,
        PduBody::Response(Response::error(ResponseError::UnknownAgentCaps, 0)),
    );
    s.handle(refused, Duration::ZERO);
    assert_eq!(
        s.poll_event(),
        Some(Event::AgentCapsFailed(
            base().child(&[3, 1]),
            ResponseError::UnknownAgentCaps
        ))
    );
    let open = s.connect(Duration::from_secs(1));
    let regs = s.handle(ok_response(&open), Duration::ZERO);
    assert_eq!(
        regs.len(),
        2,
        "the unregistered subtree is not registered again"
    );
    s.handle(ok_response(&regs[0]), Duration::ZERO);
    let out = s.handle(ok_response(&regs[1]), Duration::ZERO);
    assert!(matches!(
        out.as_slice(),
        [Pdu {
            body: PduBody::AddAgentCaps(_),
            ..
        }]
    ));
    let rm = s
        .remove_agent_caps(&base().child(&[3, 1]))
        .expect("RemoveAgentCaps");
    assert!(matches!(rm.body, PduBody::RemoveAgentCaps(_)));
    assert!(s.remove_agent_caps(&base().child(&[3, 1])).is_none());
}

/// Every instance the test session serves, in order.
fn all_instances() -> Vec<Oid> {
    [
        &[1, 1, 0][..],
        &[1, 2, 0],
        &[2, 1, 2, 1],
        &[2, 1, 2, 2],
        &[2, 1, 3, 1],
        &[2, 1, 3, 2],
    ]
    .iter()
    .map(|a| base().child(a))
    .collect()
}

/// The answer a search range must get, by brute force over [`all_instances`].
fn expected_next(r: &SearchRange) -> VarBind {
    all_instances()
        .into_iter()
        .find(|o| (*o > r.start || (r.include && *o == r.start)) && r.below_end(o))
        .map_or_else(
            || VarBind::new(r.start.clone(), Value::EndOfMibView),
            VarBind::null,
        )
}

fn arb_near_oid() -> impl proptest::strategy::Strategy<Value = Oid> {
    use proptest::prelude::*;
    prop_oneof![
        prop::collection::vec(0u32..4, 0..6).prop_map(|v| base().child(&v)),
        Just(oid!(1, 3, 6, 1, 4, 1)),
        Just(oid!(1, 3, 6, 1, 4, 1, 100000)),
    ]
}

fn arb_range() -> impl proptest::strategy::Strategy<Value = SearchRange> {
    use proptest::prelude::*;
    (
        arb_near_oid(),
        prop::option::of(arb_near_oid()),
        any::<bool>(),
    )
        .prop_map(|(start, end, include)| SearchRange {
            start,
            end: end.unwrap_or_else(Oid::empty),
            include,
        })
}

proptest::proptest! {
    /// GetNext and GetBulk answers equal a brute-force search over the served instances.
    #[test]
    fn getnext_and_getbulk_match_brute_force(
        ranges in proptest::collection::vec(arb_range(), 1..4),
        non_repeaters in 0u16..3,
        max_repetitions in 0u16..8,
    ) {
        let (mut s, _, _) = ready();
        let r = answer(&mut s, request(1, 1, PduBody::GetNext(get(ranges.clone()))));
        let names: Vec<(Oid, bool)> =
            r.varbinds.iter().map(|v| (v.oid.clone(), v.value == Value::EndOfMibView)).collect();
        let want: Vec<(Oid, bool)> = ranges
            .iter()
            .map(|r| {
                let e = expected_next(r);
                (e.oid, e.value == Value::EndOfMibView)
            })
            .collect();
        proptest::prop_assert_eq!(names, want);

        let r = answer(
            &mut s,
            request(
                2,
                2,
                PduBody::GetBulk(GetBulk {
                    context: None,
                    non_repeaters,
                    max_repetitions,
                    ranges: ranges.clone(),
                }),
            ),
        );
        let n = usize::from(non_repeaters).min(ranges.len());
        let mut want: Vec<Oid> = ranges[..n].iter().map(|r| expected_next(r).oid).collect();
        let mut cursors: Vec<SearchRange> = ranges[n..].to_vec();
        for _ in 0..max_repetitions {
            if cursors.is_empty() {
                break;
            }
            let mut all_done = true;
            for c in cursors.iter_mut() {
                let e = expected_next(c);
                if e.value != Value::EndOfMibView {
                    all_done = false;
                    c.start = e.oid.clone();
                    c.include = false;
                }
                want.push(e.oid);
            }
            if all_done {
                break;
            }
        }
        let got: Vec<Oid> = r.varbinds.iter().map(|v| v.oid.clone()).collect();
        proptest::prop_assert_eq!(got, want);
    }
}
