//! SMUX (RFC 1227) peers of netcp's agent: a small peer written here on the snmp crate's
//! SMUX codec registers a subtree; snmpget, snmpwalk and snmpset reach it through our agent;
//! a wrong password is refused; a silent peer fails only its own requests; a peer's trap goes
//! to the notification targets.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use snmp::pdu::{Pdu, PduType, TrapV1};
use snmp::smux::{frame_len, SmuxPdu};
use snmp::{Oid, Value, VarBind};

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

const PEER_ID: &str = "1.3.6.1.4.1.99999.30";
const SUBTREE: &str = "1.3.6.1.4.1.99999.20";

struct Peer {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Peer {
    fn connect(port: u16, identity: &str, password: &str) -> Peer {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to SMUX");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut p = Peer { s, buf: Vec::new() };
        p.send(&SmuxPdu::Open {
            version: 0,
            identity: oid(identity),
            description: b"test peer".to_vec(),
            password: password.as_bytes().to_vec(),
        });
        p
    }

    fn send(&mut self, p: &SmuxPdu) {
        self.s.write_all(&p.encode()).unwrap();
    }

    fn read(&mut self) -> Option<SmuxPdu> {
        loop {
            if let Ok(Some(n)) = frame_len(&self.buf) {
                if self.buf.len() >= n {
                    let f: Vec<u8> = self.buf.drain(..n).collect();
                    return Some(SmuxPdu::decode(&f).expect("a SMUX PDU"));
                }
            }
            let mut chunk = [0u8; 4096];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn register(&mut self, subtree: &str) -> i64 {
        self.register_as(subtree, 2)
    }

    /// Registers read-only (1) or read-write (2).
    fn register_as(&mut self, subtree: &str, operation: i64) -> i64 {
        self.send(&SmuxPdu::RReq {
            subtree: oid(subtree),
            priority: -1,
            operation,
        });
        match self.read() {
            Some(SmuxPdu::RRsp(p)) => p,
            other => panic!("expected RRspPDU, got {other:?}"),
        }
    }
}

/// Serves `mib` to the agent until the connection closes; Sets are staged until SOutPDU.
fn serve(mut p: Peer, mib: Arc<Mutex<BTreeMap<Oid, Value>>>, log: Arc<Mutex<Vec<String>>>) {
    p.s.set_read_timeout(None).unwrap();
    std::thread::spawn(move || {
        let mut staged: Vec<VarBind> = Vec::new();
        while let Some(pdu) = p.read() {
            let req = match pdu {
                SmuxPdu::Pdu(req) => req,
                SmuxPdu::SOut(v) => {
                    log.lock().unwrap().push(format!("sout {v}"));
                    if v == 0 {
                        let mut m = mib.lock().unwrap();
                        for vb in staged.drain(..) {
                            m.insert(vb.oid, vb.value);
                        }
                    }
                    staged.clear();
                    continue;
                }
                _ => continue,
            };
            let m = mib.lock().unwrap().clone();
            let mut resp = Pdu::new(PduType::Response, req.request_id, req.varbinds.clone());
            match req.pdu_type {
                PduType::Get => {
                    for (i, vb) in req.varbinds.iter().enumerate() {
                        match m.get(&vb.oid) {
                            Some(v) => resp.varbinds[i].value = v.clone(),
                            None => {
                                resp.error_status = 2;
                                resp.error_index = i as i32 + 1;
                            }
                        }
                    }
                }
                PduType::GetNext => {
                    for (i, vb) in req.varbinds.iter().enumerate() {
                        match m.range(vb.oid.clone()..).find(|(k, _)| **k > vb.oid) {
                            Some((k, v)) => resp.varbinds[i] = VarBind::new(k.clone(), v.clone()),
                            None => {
                                resp.error_status = 2;
                                resp.error_index = i as i32 + 1;
                            }
                        }
                    }
                }
                PduType::Set => {
                    log.lock().unwrap().push("set".into());
                    for (i, vb) in req.varbinds.iter().enumerate() {
                        if !matches!(vb.value, Value::Integer(_)) {
                            resp.error_status = 3; // badValue
                            resp.error_index = i as i32 + 1;
                        }
                    }
                    if resp.error_status == 0 {
                        staged = req.varbinds.clone();
                    }
                }
                _ => continue,
            }
            if p.s.write_all(&SmuxPdu::Pdu(resp).encode()).is_err() {
                return;
            }
        }
    });
}

#[test]
fn smux_peer_through_our_agent() {
    let port = free_port();
    let smux_port = free_port();
    let trap_port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let netcp = Netcp::start_with("smux", &servers, &format!("{SERVICES}snmp 161/udp\n"));
    std::fs::write(
        netcp.dir.join("snmp.toml"),
        format!(
            "[[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n\
             [[community]]\nname = \"private\"\naccess = \"read-write\"\nsources = [\"127.0.0.1\"]\n\n\
             [[target]]\naddress = \"127.0.0.1:{trap_port}\"\n\n\
             [smux]\nenable = true\nlisten = \"127.0.0.1:{smux_port}\"\ntimeout = \"1s\"\n\
             [[smux.peer]]\noid = \"{PEER_ID}\"\npassword = \"secret\"\n\n\
             [[smux.peer]]\noid = \"1.3.6.1.4.1.99999.31\"\npassword = \"quiet\"\n"
        ),
    )
    .unwrap();
    netcp.netcu_ok(&["reload"]);
    netcp.wait_log("netcp.log", "smux-listen");
    let at = format!("127.0.0.1:{port}");

    // A wrong password: ClosePDU authenticationFailure (5).
    let mut bad = Peer::connect(smux_port, PEER_ID, "wrong");
    assert_eq!(bad.read(), Some(SmuxPdu::Close(5)));

    let mut p = Peer::connect(smux_port, PEER_ID, "secret");
    assert_eq!(p.register(SUBTREE), 0);
    assert_eq!(p.register_as("1.3.6.1.4.1.99999.22", 1), 0);
    let mib = Arc::new(Mutex::new(BTreeMap::from([
        (oid("1.3.6.1.4.1.99999.22.1.0"), Value::Integer(22)),
        (oid("1.3.6.1.4.1.99999.20.1.0"), Value::Integer(1)),
        (oid("1.3.6.1.4.1.99999.20.2.0"), Value::string("smux peer")),
        (oid("1.3.6.1.4.1.99999.20.3.0"), Value::Integer(3)),
    ])));
    let log = Arc::new(Mutex::new(Vec::new()));
    // A trap from the peer, before it serves.
    p.send(&SmuxPdu::Trap(TrapV1 {
        enterprise: oid("1.3.6.1.4.1.99999.20"),
        agent_addr: [127, 0, 0, 1],
        generic_trap: 6,
        specific_trap: 3,
        time_stamp: 0,
        varbinds: Vec::new(),
    }));
    serve(p, mib.clone(), log.clone());
    netcp.wait_log("netcp.log", "notification=1.3.6.1.4.1.99999.20.0.3");

    let show = netcp.netcu_ok(&["show", "snmp", "/subagents"]);
    assert!(
        show.contains("SMUX peers: 1") && show.contains(SUBTREE),
        "{show}"
    );

    let out = tool("snmpwalk", &["-v2c", "-c", "public", "-On", &at, SUBTREE]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(t.lines().count(), 3, "{t}");
    // A read-only registration takes no Set: the peer is not even asked.
    let out = tool(
        "snmpset",
        &[
            "-v2c",
            "-c",
            "private",
            "-On",
            &at,
            "1.3.6.1.4.1.99999.22.1.0",
            "i",
            "5",
        ],
    );
    assert!(text(&out).contains("notWritable"), "{}", text(&out));
    assert!(log.lock().unwrap().is_empty());
    assert!(t.contains("smux peer"), "{t}");
    let out = tool(
        "snmpbulkwalk",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1"],
    );
    let t = text(&out);
    assert!(out.status.success() && !t.contains("not increasing"), "{t}");
    assert!(t.contains(".1.3.6.1.4.1.99999.20.3.0") && t.contains(".1.3.6.1.2.1.1.1.0"));

    // Set: SetRequest, then SOutPDU commit.
    let target = "1.3.6.1.4.1.99999.20.3.0";
    let out = tool(
        "snmpset",
        &["-v2c", "-c", "private", "-On", &at, target, "i", "42"],
    );
    assert!(out.status.success(), "{}", text(&out));
    // The SOutPDU is one-way: the peer's thread may apply it just after snmpset has its answer.
    let deadline = Instant::now() + Duration::from_secs(3);
    let applied = || {
        log.lock().unwrap().len() >= 2
            && mib.lock().unwrap().get(&oid(target)) == Some(&Value::Integer(42))
    };
    while !applied() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(*log.lock().unwrap(), ["set", "sout 0"]);
    assert_eq!(mib.lock().unwrap()[&oid(target)], Value::Integer(42));
    // Refused by the peer: rolled back, nothing changed.
    log.lock().unwrap().clear();
    let out = tool(
        "snmpset",
        &["-v2c", "-c", "private", "-On", &at, target, "s", "text"],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(mib.lock().unwrap()[&oid(target)], Value::Integer(42));
    assert_eq!(*log.lock().unwrap(), ["set"]);

    // A peer that registers and then never answers fails only its own requests.
    let mut quiet = Peer::connect(smux_port, "1.3.6.1.4.1.99999.31", "quiet");
    assert_eq!(quiet.register("1.3.6.1.4.1.99999.21"), 0);
    let slow_at = at.clone();
    let slow = std::thread::spawn(move || {
        let started = Instant::now();
        let out = tool(
            "snmpget",
            &[
                "-v2c",
                "-c",
                "public",
                "-On",
                "-t",
                "4",
                "-r",
                "0",
                &slow_at,
                "1.3.6.1.4.1.99999.21.1.0",
            ],
        );
        (started.elapsed(), text(&out))
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let out = tool(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            "-On",
            &at,
            "1.3.6.1.4.1.99999.20.2.0",
        ],
    );
    assert!(text(&out).contains("smux peer"), "{}", text(&out));
    // Answered while the silent peer's request still waits (the timeout is 1 s).
    assert!(!slow.is_finished() && started.elapsed() < Duration::from_millis(800));
    let (took, t) = slow.join().unwrap();
    assert!(
        t.contains("genError") || t.contains("General failure"),
        "{t}"
    );
    assert!(took >= Duration::from_millis(700), "{took:?}");

    // The peer goes: its subtree goes with it.
    drop(quiet);
    let deadline = Instant::now() + Duration::from_secs(10);
    while netcp
        .netcu_ok(&["show", "snmp", "/subagents"])
        .contains("99999.21")
    {
        assert!(
            Instant::now() < deadline,
            "the quiet peer's registration stayed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
