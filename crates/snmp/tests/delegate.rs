//! Delegated subtrees: requests that touch them come back pending, and are answered after the
//! delegates' replies, in lexicographic order with the agent's own subtrees.

use snmp::agent::{Access, Agent, AgentConfig, Community};
use snmp::delegate::{DelegateId, Outcome, RemoteOp, RemoteOpKind, RemoteReply};
use snmp::pdu::{AnyPdu, ErrorStatus, Message, Pdu, PduType, Version};
use snmp::{Oid, Value, VarBind};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

/// A fake subagent: a sorted MIB, a Set log, and whether it answers at all.
struct Fake {
    mib: BTreeMap<Oid, Value>,
    log: Vec<String>,
    dead: bool,
    fail_test: bool,
    fail_commit: bool,
    /// Answers an inclusive GetNext with noSuchInstance at its start, as net-snmp's proxy
    /// does.
    exception_on_include: bool,
    staged: Vec<VarBind>,
}

impl Fake {
    fn new(base: &str, n: u32) -> Self {
        let mib = (1..=n)
            .map(|i| (oid(&format!("{base}.{i}.0")), Value::Integer(i as i32)))
            .collect();
        Fake {
            mib,
            log: Vec::new(),
            dead: false,
            fail_test: false,
            fail_commit: false,
            exception_on_include: false,
            staged: Vec::new(),
        }
    }

    fn answer(&mut self, op: &RemoteOp) -> RemoteReply {
        if self.dead {
            return RemoteReply::Failed {
                status: ErrorStatus::GenErr,
                index: 0,
            };
        }
        match &op.kind {
            RemoteOpKind::Get(oids) => RemoteReply::Varbinds(
                oids.iter()
                    .map(|o| {
                        VarBind::new(
                            o.clone(),
                            self.mib.get(o).cloned().unwrap_or(Value::NoSuchObject),
                        )
                    })
                    .collect(),
            ),
            RemoteOpKind::Next {
                start,
                include,
                end,
                max_repetitions,
            } => {
                if *include && self.exception_on_include {
                    return RemoteReply::Varbinds(vec![VarBind::new(
                        start.clone(),
                        Value::NoSuchInstance,
                    )]);
                }
                let mut out = Vec::new();
                let mut cur = start.clone();
                let mut inc = *include;
                for _ in 0..*max_repetitions {
                    let n = self
                        .mib
                        .iter()
                        .find(|(k, _)| (if inc { **k >= cur } else { **k > cur }) && **k < *end);
                    inc = false;
                    match n {
                        Some((k, v)) => {
                            out.push(VarBind::new(k.clone(), v.clone()));
                            cur = k.clone();
                        }
                        None => {
                            out.push(VarBind::new(cur.clone(), Value::EndOfMibView));
                            break;
                        }
                    }
                }
                RemoteReply::Varbinds(out)
            }
            RemoteOpKind::TestSet(vbs) => {
                self.log.push("test".into());
                if self.fail_test {
                    return RemoteReply::Failed {
                        status: ErrorStatus::WrongValue,
                        index: 1,
                    };
                }
                self.staged = vbs.clone();
                RemoteReply::Done
            }
            RemoteOpKind::CommitSet => {
                self.log.push("commit".into());
                if self.fail_commit {
                    return RemoteReply::Failed {
                        status: ErrorStatus::CommitFailed,
                        index: 0,
                    };
                }
                for vb in self.staged.drain(..) {
                    self.mib.insert(vb.oid, vb.value);
                }
                RemoteReply::Done
            }
            RemoteOpKind::UndoSet => {
                self.log.push("undo".into());
                RemoteReply::Done
            }
            RemoteOpKind::CleanupSet => {
                self.log.push("cleanup".into());
                RemoteReply::Done
            }
        }
    }
}

struct Rig {
    agent: Agent,
    fakes: BTreeMap<DelegateId, Fake>,
    rounds: usize,
}

impl Rig {
    fn new() -> Self {
        let mut agent = Agent::new(AgentConfig {
            communities: vec![
                Community::new("public", Access::ReadOnly),
                Community::new("private", Access::ReadWrite),
            ],
            ..AgentConfig::default()
        });
        let mut fakes = BTreeMap::new();
        // Two subagents: one under enterprises, one between the system and snmp groups.
        agent
            .register_remote(oid("1.3.6.1.4.1.2021"), DelegateId(1))
            .unwrap();
        fakes.insert(DelegateId(1), Fake::new("1.3.6.1.4.1.2021", 5));
        agent
            .register_remote(oid("1.3.6.1.2.1.5"), DelegateId(2))
            .unwrap();
        fakes.insert(DelegateId(2), Fake::new("1.3.6.1.2.1.5", 3));
        Rig {
            agent,
            fakes,
            rounds: 0,
        }
    }

    fn ask(&mut self, c: &str, t: PduType, es: i32, ei: i32, vbs: Vec<VarBind>) -> Pdu {
        let req = Message {
            version: Version::V2c,
            community: c.as_bytes().to_vec(),
            pdu: AnyPdu::Pdu(Pdu {
                pdu_type: t,
                request_id: 5,
                error_status: es,
                error_index: ei,
                varbinds: vbs,
            }),
        }
        .encode();
        let now = Duration::from_secs(1);
        let mut o = self.agent.handle_request(&req, peer(), now);
        let bytes = loop {
            match o {
                Outcome::Done(b) => break b.expect("an answer"),
                Outcome::Pending(p) => {
                    self.rounds += 1;
                    let replies = p
                        .ops
                        .iter()
                        .map(|op| self.fakes.get_mut(&op.delegate).unwrap().answer(op))
                        .collect();
                    o = self.agent.resume(p, replies, now);
                }
            }
        };
        for n in self.agent.drain_notices() {
            self.fakes.get_mut(&n.delegate).unwrap().answer(&n);
        }
        match Message::decode(&bytes).unwrap().pdu {
            AnyPdu::Pdu(p) => p,
            AnyPdu::TrapV1(_) => panic!("trap"),
        }
    }
}

fn walk(r: &mut Rig) -> Vec<Oid> {
    let mut out = Vec::new();
    let mut cur = oid("1.3");
    loop {
        let p = r.ask(
            "public",
            PduType::GetNext,
            0,
            0,
            vec![VarBind::null(cur.clone())],
        );
        let vb = p.varbinds[0].clone();
        if vb.value == Value::EndOfMibView {
            return out;
        }
        assert!(vb.oid > cur, "{} after {}", vb.oid, cur);
        cur = vb.oid.clone();
        out.push(vb.oid);
        assert!(out.len() < 2000);
    }
}

#[test]
fn walk_spans_delegates_in_order() {
    let mut r = Rig::new();
    let oids = walk(&mut r);
    let remote: Vec<&Oid> = oids
        .iter()
        .filter(|o| o.starts_with(&oid("1.3.6.1.4.1.2021")) || o.starts_with(&oid("1.3.6.1.2.1.5")))
        .collect();
    assert_eq!(remote.len(), 8);
    let pos = oids
        .iter()
        .position(|o| *o == oid("1.3.6.1.2.1.5.1.0"))
        .unwrap();
    assert!(oids[pos - 1] < oid("1.3.6.1.2.1.5"));
    assert!(oids.contains(&oid("1.3.6.1.2.1.1.1.0")));
    // GetBulk gets the same objects.
    let p = r.ask(
        "public",
        PduType::GetBulk,
        0,
        20,
        vec![VarBind::null(oid("1.3.6.1.4.1"))],
    );
    let got: Vec<Oid> = p.varbinds.iter().take(5).map(|v| v.oid.clone()).collect();
    assert_eq!(got[0], oid("1.3.6.1.4.1.2021.1.0"));
    assert_eq!(got[4], oid("1.3.6.1.4.1.2021.5.0"));
    // Get of local and remote objects in one request.
    let p = r.ask(
        "public",
        PduType::Get,
        0,
        0,
        vec![
            VarBind::null(oid("1.3.6.1.2.1.1.3.0")),
            VarBind::null(oid("1.3.6.1.4.1.2021.3.0")),
            VarBind::null(oid("1.3.6.1.2.1.5.9.0")),
        ],
    );
    assert_eq!(p.error_status, 0);
    assert!(matches!(p.varbinds[0].value, Value::TimeTicks(_)));
    assert_eq!(p.varbinds[1].value, Value::Integer(3));
    assert_eq!(p.varbinds[2].value, Value::NoSuchObject);
}

#[test]
fn an_exception_in_a_getnext_answer_is_skipped() {
    let mut r = Rig::new();
    let plain = walk(&mut r);
    r.fakes
        .get_mut(&DelegateId(1))
        .unwrap()
        .exception_on_include = true;
    assert_eq!(walk(&mut r), plain);
    let p = r.ask(
        "public",
        PduType::GetNext,
        0,
        0,
        vec![VarBind::null(oid("1.3.6.1.4.1"))],
    );
    assert_eq!(
        p.varbinds[0],
        VarBind::new(oid("1.3.6.1.4.1.2021.1.0"), Value::Integer(1))
    );
}

#[test]
fn local_requests_never_wait() {
    let mut r = Rig::new();
    let before = r.rounds;
    let p = r.ask(
        "public",
        PduType::Get,
        0,
        0,
        vec![VarBind::null(oid("1.3.6.1.2.1.1.1.0"))],
    );
    assert_eq!(p.error_status, 0);
    assert_eq!(r.rounds, before);
}

#[test]
fn a_dead_delegate_fails_only_its_requests() {
    let mut r = Rig::new();
    r.fakes.get_mut(&DelegateId(1)).unwrap().dead = true;
    let p = r.ask(
        "public",
        PduType::Get,
        0,
        0,
        vec![
            VarBind::null(oid("1.3.6.1.2.1.1.3.0")),
            VarBind::null(oid("1.3.6.1.4.1.2021.3.0")),
        ],
    );
    assert_eq!(p.error_status, ErrorStatus::GenErr.code());
    assert_eq!(p.error_index, 2);
    let p = r.ask(
        "public",
        PduType::GetNext,
        0,
        0,
        vec![VarBind::null(oid("1.3.6.1.2.1.5.1.0"))],
    );
    assert_eq!(p.error_status, 0);
    assert_eq!(p.varbinds[0].oid, oid("1.3.6.1.2.1.5.2.0"));
}

#[test]
fn set_transaction() {
    let mut r = Rig::new();
    let target = oid("1.3.6.1.4.1.2021.2.0");
    let contact = oid("1.3.6.1.2.1.1.4.0");
    let set = vec![
        VarBind::new(contact.clone(), Value::string("ops")),
        VarBind::new(target.clone(), Value::Integer(42)),
    ];
    let p = r.ask("private", PduType::Set, 0, 0, set.clone());
    assert_eq!(p.error_status, 0);
    let f = &r.fakes[&DelegateId(1)];
    assert_eq!(f.log, ["test", "commit", "cleanup"]);
    assert_eq!(f.mib[&target], Value::Integer(42));
    let p = r.ask(
        "public",
        PduType::Get,
        0,
        0,
        vec![VarBind::null(contact.clone())],
    );
    assert_eq!(p.varbinds[0].value, Value::string("ops"));
    // A failing TestSet: nothing committed, the error points at the remote varbind.
    r.fakes.get_mut(&DelegateId(1)).unwrap().fail_test = true;
    r.fakes.get_mut(&DelegateId(1)).unwrap().log.clear();
    let mut set2 = set.clone();
    set2[0].value = Value::string("other");
    let p = r.ask("private", PduType::Set, 0, 0, set2.clone());
    assert_eq!(p.error_status, ErrorStatus::WrongValue.code());
    assert_eq!(p.error_index, 2);
    assert_eq!(r.fakes[&DelegateId(1)].log, ["test", "cleanup"]);
    let p = r.ask(
        "public",
        PduType::Get,
        0,
        0,
        vec![VarBind::null(contact.clone())],
    );
    assert_eq!(p.varbinds[0].value, Value::string("ops"));
    // A failing CommitSet: undone, commitFailed, the local value untouched.
    let f = r.fakes.get_mut(&DelegateId(1)).unwrap();
    f.fail_test = false;
    f.fail_commit = true;
    f.log.clear();
    let p = r.ask("private", PduType::Set, 0, 0, set2);
    assert_eq!(p.error_status, ErrorStatus::CommitFailed.code());
    assert_eq!(
        r.fakes[&DelegateId(1)].log,
        ["test", "commit", "undo", "cleanup"]
    );
    let p = r.ask("public", PduType::Get, 0, 0, vec![VarBind::null(contact)]);
    assert_eq!(p.varbinds[0].value, Value::string("ops"));
    // Read-only community: refused before any delegate is asked.
    r.fakes.get_mut(&DelegateId(1)).unwrap().log.clear();
    let p = r.ask("public", PduType::Set, 0, 0, set);
    assert_eq!(p.error_status, ErrorStatus::NoAccess.code());
    assert!(r.fakes[&DelegateId(1)].log.is_empty());
}
