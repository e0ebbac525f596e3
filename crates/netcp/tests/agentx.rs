//! netcp's AgentX master with net-snmp's `snmpd -X` as a subagent: its objects walked and set
//! through our agent, a stopped subagent failing only its own requests, a killed one leaving
//! our MIB-II answering, a restarted one registering again. Then protocol conformance of the
//! master with a raw client built on the `agentx` codec (`agentx_conformance` below).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// netcp serving SNMP on a free port with the AgentX master on `socket`.
pub fn start_master(tag: &str, socket: &Path) -> (Netcp, String) {
    start_master_with(tag, socket, "")
}

/// As [`start_master`], with more `snmp.toml` text (e.g. a `[[target]]`).
pub fn start_master_with(tag: &str, socket: &Path, extra: &str) -> (Netcp, String) {
    start_master_full(tag, socket, extra, "")
}

/// As [`start_master_with`], with more `[agentx]` keys (e.g. `tcp`).
pub fn start_master_full(tag: &str, socket: &Path, extra: &str, agentx: &str) -> (Netcp, String) {
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let services = format!("{SERVICES}snmp 161/udp\n");
    let netcp = Netcp::start_with(tag, &servers, &services);
    std::fs::write(
        netcp.dir.join("snmp.toml"),
        format!(
            "[[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n\
             [[community]]\nname = \"private\"\naccess = \"read-write\"\nsources = [\"127.0.0.1\"]\n\n\
             {extra}\n[agentx]\nenable = true\nsocket = \"{}\"\ntimeout = \"1s\"\n{agentx}",
            socket.display()
        ),
    )
    .unwrap();
    netcp.netcu_ok(&["reload"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "no AgentX socket at {socket:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    (netcp, format!("127.0.0.1:{port}"))
}

/// net-snmp's snmpd as an AgentX subagent: UCD memory, load averages, versionInfo
/// (versionDoDebugging is writable).
struct Subagent {
    child: Child,
}

impl Subagent {
    fn start(dir: &TempDir, socket: &Path) -> Subagent {
        let conf = dir.join("subagent.conf");
        std::fs::write(
            &conf,
            format!("agentXSocket {}\nagentXTimeout 1\n", socket.display()),
        )
        .unwrap();
        let child = Command::new("snmpd")
            .args(["-f", "-Lo", "-X", "-C", "-c"])
            .arg(&conf)
            .args(["-I", "memory,loadave,versioninfo", "-p"])
            .arg(dir.join("subagent.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("snmpd (apt-get install snmpd)");
        Subagent { child }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill on the pid of our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

impl Drop for Subagent {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The subagent waits of this file: [`common::stack_env::wait_for`] with 15 seconds.
fn wait_for(what: &str, f: impl FnMut() -> bool) {
    common::stack_env::wait_for(what, 15, f);
}

const LOAD_1_NAME: &str = "1.3.6.1.4.1.2021.10.1.2.1";
const DEBUGGING: &str = "1.3.6.1.4.1.2021.100.20.0";
const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";

fn socket_path(dir: &TempDir) -> PathBuf {
    dir.join("agentx")
}

#[test]
fn net_snmp_subagent_through_our_master() {
    let dir = TempDir::new("agentx-subagent");
    let socket = socket_path(&dir);
    let (netcp, at) = start_master("agentx", &socket);
    let sub = Subagent::start(&dir, &socket);
    let registered = || {
        netcp
            .netcu_ok(&["show", "snmp", "/subagents"])
            .contains("1.3.6.1.4.1.2021.100.20")
    };
    wait_for("the subagent's registrations", registered);
    let show = netcp.netcu_ok(&["show", "snmp", "/subagents"]);
    assert!(show.contains("Net-SNMP AgentX sub-agent"), "{show}");

    // Walks through the master see the subagent's objects in order with ours.
    let out = tool(
        "snmpwalk",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1.4.1.2021"],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("Load-1") && t.contains(".1.3.6.1.4.1.2021.100."),
        "{t}"
    );
    for walk in ["snmpwalk", "snmpbulkwalk"] {
        let out = tool(walk, &["-v2c", "-c", "public", "-On", &at, "1.3.6.1"]);
        let t = text(&out);
        assert!(
            out.status.success() && !t.contains("not increasing"),
            "{walk}: {t}"
        );
        assert!(
            t.contains(".1.3.6.1.2.1.1.1.0") && t.contains("Load-1"),
            "{walk}"
        );
    }

    // A Set reaches the subagent, with a local object in the same request.
    let out = tool(
        "snmpset",
        &[
            "-v2c",
            "-c",
            "private",
            "-On",
            &at,
            DEBUGGING,
            "i",
            "1",
            "1.3.6.1.2.1.1.4.0",
            "s",
            "agentx@example.com",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = tool(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            "-On",
            &at,
            DEBUGGING,
            "1.3.6.1.2.1.1.4.0",
        ],
    );
    let t = text(&out);
    assert!(
        t.contains("INTEGER: 1") && t.contains("agentx@example.com"),
        "{t}"
    );

    // RELOAD rebuilds the agent: the session's subtrees are served again at once.
    netcp.netcu_ok(&["reload"]);
    let out = tool(
        "snmpget",
        &["-v2c", "-c", "public", "-On", &at, LOAD_1_NAME],
    );
    assert!(
        text(&out).contains("Load-1"),
        "after RELOAD: {}",
        text(&out)
    );

    // A stopped subagent: its request fails after its session timeout (agentXTimeout 1),
    // ours answer at once.
    sub.signal(libc::SIGSTOP);
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
                "5",
                "-r",
                "0",
                &slow_at,
                LOAD_1_NAME,
            ],
        );
        (started.elapsed(), text(&out))
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let out = tool("snmpget", &["-v2c", "-c", "public", "-On", &at, SYS_DESCR]);
    let quick = started.elapsed();
    assert!(text(&out).contains("STRING"), "{}", text(&out));
    // Answered while the stopped subagent's request still waits (its timeout is 1 s).
    assert!(
        !slow.is_finished() && quick < Duration::from_millis(800),
        "local answer took {quick:?}"
    );
    let (took, t) = slow.join().unwrap();
    assert!(
        t.contains("genError") || t.contains("General failure"),
        "the stopped subagent's request: {t}"
    );
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(4),
        "{took:?}"
    );
    sub.signal(libc::SIGCONT);
    let out = tool(
        "snmpget",
        &["-v2c", "-c", "public", "-On", &at, LOAD_1_NAME],
    );
    assert!(text(&out).contains("Load-1"), "{}", text(&out));

    // Killed: its subtree goes, our MIB-II still answers quickly.
    drop(sub);
    wait_for("the session to end", || !registered());
    let started = Instant::now();
    let out = tool(
        "snmpget",
        &["-v2c", "-c", "public", "-On", &at, SYS_DESCR, LOAD_1_NAME],
    );
    let t = text(&out);
    // No timeout waited for (they are 1 s).
    assert!(started.elapsed() < Duration::from_millis(900));
    assert!(t.contains("STRING") && t.contains("No Such Object"), "{t}");

    // Restarted: it registers again.
    let _sub = Subagent::start(&dir, &socket);
    wait_for("the subagent to register again", registered);
    let out = tool(
        "snmpget",
        &["-v2c", "-c", "public", "-On", &at, LOAD_1_NAME],
    );
    assert!(text(&out).contains("Load-1"), "{}", text(&out));
}

#[allow(dead_code)]
#[path = "../../agentx/examples/subagent.rs"]
mod example;

/// The `agentx` crate's example subagent (scalars, a table, a notification, agent
/// capabilities) through our master.
#[test]
fn agentx_crate_subagent_through_our_master() {
    let dir = TempDir::new("agentx-crate");
    let socket = socket_path(&dir);
    let trap_port = free_port();
    let (netcp, at) = start_master_with(
        "agentx-crate",
        &socket,
        &format!("[[target]]\naddress = \"127.0.0.1:{trap_port}\"\n"),
    );
    let path = socket.to_string_lossy().into_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut ex = example::example(&path);
            let _ = ex.sub.run().await;
        });
    });
    wait_for("the example's registrations", || {
        netcp
            .netcu_ok(&["show", "snmp", "/subagents"])
            .contains("1.3.6.1.4.1.99999.2.2")
    });
    let out = tool(
        "snmpwalk",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1.4.1.99999.2"],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("Maynard AgentX example subagent") && t.contains("se0"),
        "{t}"
    );
    // AddAgentCaps: a sysORTable row.
    let out = tool(
        "snmpwalk",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1.2.1.1.9"],
    );
    assert!(
        text(&out).contains("Maynard AgentX example: all objects"),
        "{}",
        text(&out)
    );
    // Set: accepted, refused by the subagent's check, and the notification it sends.
    let level = "1.3.6.1.4.1.99999.2.1.3.0";
    let out = tool(
        "snmpset",
        &["-v2c", "-c", "private", "-On", &at, level, "i", "42"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = tool("snmpget", &["-v2c", "-c", "public", "-On", &at, level]);
    assert!(text(&out).contains("INTEGER: 42"), "{}", text(&out));
    netcp.wait_log("netcp.log", "notification=1.3.6.1.4.1.99999.2.0.1");
    let out = tool(
        "snmpset",
        &["-v2c", "-c", "private", "-On", &at, level, "i", "200"],
    );
    assert!(text(&out).contains("wrongValue"), "{}", text(&out));
    let out = tool("snmpget", &["-v2c", "-c", "public", "-On", &at, level]);
    assert!(text(&out).contains("INTEGER: 42"), "{}", text(&out));
    let out = tool(
        "snmpbulkwalk",
        &["-v2c", "-c", "public", "-On", &at, "1.3.6.1"],
    );
    let t = text(&out);
    assert!(out.status.success() && !t.contains("not increasing"), "{t}");
    assert!(
        t.contains(".1.3.6.1.4.1.99999.2.2.1.3.2 = Counter64"),
        "table column 3 row 2"
    );
}

/// A raw AgentX client over the Unix socket, built on the `agentx` codec.
mod raw {
    use agentx::pdu::{frame_len, Open, Register, Response};
    use agentx::{Pdu, PduBody};
    use snmp::Oid;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::Path;
    use std::time::Duration;

    pub struct Client {
        pub s: UnixStream,
        buf: Vec<u8>,
        packet: u32,
    }

    impl Client {
        pub fn connect(path: &Path) -> Client {
            let s = UnixStream::connect(path).expect("connect to the master");
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            Client {
                s,
                buf: Vec::new(),
                packet: 0,
            }
        }

        pub fn send_raw(&mut self, bytes: &[u8]) {
            self.s.write_all(bytes).unwrap();
        }

        pub fn send(&mut self, session: u32, body: PduBody) -> u32 {
            self.packet += 1;
            let p = Pdu::new(session, 1, self.packet, body);
            self.send_raw(&p.encode());
            self.packet
        }

        pub fn read(&mut self) -> Option<Pdu> {
            loop {
                if let Ok(Some(n)) = frame_len(&self.buf) {
                    if self.buf.len() >= n {
                        let frame: Vec<u8> = self.buf.drain(..n).collect();
                        return Some(Pdu::decode(&frame).expect("a PDU from the master"));
                    }
                }
                let mut chunk = [0u8; 4096];
                match self.s.read(&mut chunk) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        }

        /// Sends a request and returns the master's Response to it.
        pub fn ask(&mut self, session: u32, body: PduBody) -> (Pdu, Response) {
            let id = self.send(session, body);
            let p = self.read().expect("a response");
            assert_eq!(p.packet_id, id, "{p:?}");
            match p.body.clone() {
                PduBody::Response(r) => (p, r),
                other => panic!("not a response: {other:?}"),
            }
        }

        pub fn open(&mut self, timeout: u8, descr: &str) -> u32 {
            let (p, r) = self.ask(
                0,
                PduBody::Open(Open {
                    timeout,
                    id: Oid::new(&[1, 3, 6, 1, 4, 1, 99999, 42]),
                    descr: descr.as_bytes().to_vec(),
                }),
            );
            assert!(r.error.is_ok(), "{r:?}");
            p.session_id
        }

        pub fn register(&mut self, session: u32, subtree: &str, priority: u8) -> Response {
            self.ask(
                session,
                PduBody::Register(Register {
                    priority,
                    ..Register::subtree(subtree.parse().unwrap())
                }),
            )
            .1
        }
    }

    /// Answers every Get/GetNext of the master with `value` at the requested OID until the
    /// connection closes (or never answers, when `silent`).
    pub fn serve(mut c: Client, value: &'static str, silent: bool) -> std::thread::JoinHandle<()> {
        c.s.set_read_timeout(None).unwrap();
        std::thread::spawn(move || {
            while let Some(p) = c.read() {
                let vbs = match &p.body {
                    PduBody::Get(g) => g
                        .ranges
                        .iter()
                        .map(|r| snmp::VarBind::new(r.start.clone(), snmp::Value::string(value)))
                        .collect(),
                    _ => continue,
                };
                if silent {
                    continue;
                }
                let r = Pdu::new(
                    p.session_id,
                    p.transaction_id,
                    p.packet_id,
                    PduBody::Response(Response::ok(vbs)),
                );
                if c.s.write_all(&r.encode()).is_err() {
                    return;
                }
            }
        })
    }
}

#[test]
fn agentx_conformance() {
    use agentx::pdu::{IndexAllocate, Register};
    use agentx::{CloseReason, PduBody, ResponseError};
    use snmp::{Value, VarBind};

    let dir = TempDir::new("agentx-conformance");
    let socket = socket_path(&dir);
    let tcp_port = free_port();
    let (netcp, at) = start_master_full(
        "agentx-conf",
        &socket,
        "",
        &format!("tcp = \"127.0.0.1:{tcp_port}\"\n"),
    );
    // TCP as well as the Unix socket: Open and Ping.
    {
        use std::io::{Read, Write};
        // The Unix socket is up (start_master_full waited for it); the TCP listener may
        // follow a moment later.
        let mut tcp = None;
        common::stack_env::wait_for("AgentX over TCP", 10, || {
            tcp = std::net::TcpStream::connect(("127.0.0.1", tcp_port)).ok();
            tcp.is_some()
        });
        let mut t = tcp.expect("connected");
        t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let open = agentx::Pdu::new(
            0,
            0,
            1,
            PduBody::Open(agentx::pdu::Open {
                timeout: 0,
                id: "1.3.6.1.4.1.99999.43".parse().unwrap(),
                descr: b"tcp".to_vec(),
            }),
        );
        t.write_all(&open.encode()).unwrap();
        let mut buf = vec![0u8; 20];
        t.read_exact(&mut buf).unwrap();
        let len = agentx::pdu::frame_len(&buf).unwrap().unwrap();
        buf.resize(len, 0);
        t.read_exact(&mut buf[20..]).unwrap();
        let p = agentx::Pdu::decode(&buf).unwrap();
        assert!(
            matches!(&p.body, PduBody::Response(r) if r.error.is_ok()),
            "{p:?}"
        );
        assert_ne!(p.session_id, 0);
    }
    let mut a = raw::Client::connect(&socket);
    let sa = a.open(0, "client a");

    // A session ID that was never opened: notOpen.
    let (_, r) = a.ask(sa + 100, PduBody::Ping { context: None });
    assert_eq!(r.error, ResponseError::NotOpen);
    let (_, r) = a.ask(sa, PduBody::Ping { context: None });
    assert!(r.error.is_ok());

    // A malformed body: parseError with the request's IDs; the session lives on.
    let mut bad = agentx::Pdu::new(sa, 9, 77, PduBody::Ping { context: None }).encode();
    bad[2] |= 0x08; // NON_DEFAULT_CONTEXT without a context
    a.send_raw(&bad);
    let p = a.read().unwrap();
    assert_eq!((p.session_id, p.packet_id), (sa, 77));
    assert!(
        matches!(&p.body, PduBody::Response(r) if r.error == ResponseError::ParseError),
        "{p:?}"
    );

    // Registrations: duplicates at the same priority refused, a better priority wins, a
    // subtree the master serves itself refused.
    assert!(a.register(sa, "1.3.6.1.4.1.99999.7", 127).error.is_ok());
    assert_eq!(
        a.register(sa, "1.3.6.1.4.1.99999.7", 127).error,
        ResponseError::DuplicateRegistration
    );
    assert_eq!(
        a.register(sa, "1.3.6.1.2.1.1", 127).error,
        ResponseError::DuplicateRegistration
    );
    let mut b = raw::Client::connect(&socket);
    let sb = b.open(0, "client b");
    assert!(b.register(sb, "1.3.6.1.4.1.99999.7", 100).error.is_ok());
    // A range: 1.3.6.1.4.1.99999.8.[1-3].
    let (_, r) = b.ask(
        sb,
        PduBody::Register(Register {
            range_subid: 9,
            upper_bound: 3,
            ..Register::subtree("1.3.6.1.4.1.99999.8.1".parse().unwrap())
        }),
    );
    assert!(r.error.is_ok(), "{r:?}");
    // Unregister must match a registration exactly.
    let (_, r) = b.ask(
        sb,
        PduBody::Unregister(Register::subtree("1.3.6.1.4.1.99999.9".parse().unwrap())),
    );
    assert_eq!(r.error, ResponseError::UnknownRegistration);
    // Index allocation.
    let idx = VarBind::new(
        "1.3.6.1.4.1.99999.7.1.1".parse().unwrap(),
        Value::Integer(5),
    );
    let alloc = |c: &mut raw::Client, s: u32| {
        c.ask(
            s,
            PduBody::IndexAllocate(IndexAllocate {
                context: None,
                new_index: false,
                any_index: false,
                varbinds: vec![idx.clone()],
            }),
        )
        .1
    };
    assert!(alloc(&mut a, sa).error.is_ok());
    assert_eq!(
        alloc(&mut b, sb).error,
        ResponseError::IndexAlreadyAllocated
    );

    // SNMP requests go to the better registration; a silent session fails only its request.
    let mut c = raw::Client::connect(&socket);
    let sc = c.open(1, "silent");
    assert!(c.register(sc, "1.3.6.1.4.1.99999.9", 127).error.is_ok());
    let show = netcp.netcu_ok(&["show", "snmp", "/subagents"]);
    assert!(
        show.contains("client b") && show.contains("silent"),
        "{show}"
    );
    let _a = raw::serve(a, "from a", false);
    let _b = raw::serve(b, "from b", false);
    let _c = raw::serve(c, "never", true);
    let out = tool(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            "-On",
            &at,
            "1.3.6.1.4.1.99999.7.1.0",
            "1.3.6.1.4.1.99999.8.3.0",
        ],
    );
    let t = text(&out);
    assert_eq!(t.matches("from b").count(), 2, "{t}");
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
            &at,
            "1.3.6.1.4.1.99999.9.1.0",
        ],
    );
    let t = text(&out);
    assert!(
        t.contains("genError") || t.contains("General failure"),
        "{t}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );

    // Close ends the session; later PDUs on it are notOpen.
    let mut d = raw::Client::connect(&socket);
    let sd = d.open(0, "closer");
    let (_, r) = d.ask(sd, PduBody::Close(CloseReason::Shutdown));
    assert!(r.error.is_ok());
    let (_, r) = d.ask(sd, PduBody::Ping { context: None });
    assert_eq!(r.error, ResponseError::NotOpen);

    // AgentX turned off by RELOAD: open sessions get Close (reasonShutdown).
    let mut e = raw::Client::connect(&socket);
    let se = e.open(0, "closed by reload");
    std::fs::write(
        netcp.dir.join("snmp.toml"),
        "[[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n[agentx]\nenable = false\n",
    )
    .unwrap();
    netcp.netcu_ok(&["reload"]);
    let p = e.read().expect("a Close PDU");
    assert_eq!(p.session_id, se);
    assert!(
        matches!(p.body, PduBody::Close(CloseReason::Shutdown)),
        "{p:?}"
    );
}

/// netcp stopping (SIGTERM) sends Close (reasonShutdown) to every open session.
#[test]
fn shutdown_closes_sessions() {
    use agentx::{CloseReason, PduBody};

    let dir = TempDir::new("agentx-shutdown");
    let socket = socket_path(&dir);
    let (mut netcp, _at) = start_master_with("agentx-shutdown", &socket, "");
    let mut a = raw::Client::connect(&socket);
    let sa = a.open(0, "told at shutdown");
    let mut b = raw::Client::connect(&socket);
    let sb = b.open(0, "also told");
    netcp.signal(libc::SIGTERM);
    for (c, s) in [(&mut a, sa), (&mut b, sb)] {
        let p = c.read().expect("a Close PDU");
        assert_eq!(p.session_id, s);
        assert!(
            matches!(p.body, PduBody::Close(CloseReason::Shutdown)),
            "{p:?}"
        );
    }
    assert!(netcp.wait_exit(Duration::from_secs(10)), "netcp exits");
}

/// The v3 user of the context tests (read-write, SHA and AES).
const CTX_USER: &str =
    "[[user]]\nname = \"ctxops\"\nauth = \"sha\"\nauth_password = \"authpassword\"\n\
    privacy = \"aes\"\nprivacy_password = \"privpassword\"\naccess = \"read-write\"\n";

/// A net-snmp tool as [`CTX_USER`] (authPriv) in SNMP context `context` (None: none given,
/// the default context).
fn v3_tool(name: &str, at: &str, context: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut a = vec![
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "ctxops",
        "-a",
        "SHA",
        "-A",
        "authpassword",
        "-x",
        "AES",
        "-X",
        "privpassword",
        "-On",
        "-t",
        "2",
        "-r",
        "0",
    ];
    if let Some(c) = context {
        a.extend(["-n", c]);
    }
    a.push(at);
    a.extend_from_slice(args);
    tool(name, &a)
}

/// Our subagent registers a subtree in context "ctxA": net-snmp's tools reach it with
/// `-n ctxA`, not in the default context, a walk of ctxA sees only it, a Set in ctxA reaches
/// it, and an unknown context is refused with the unknownContexts report.
#[test]
fn agentx_context_through_our_master() {
    use agentx::helpers::Scalars;
    use snmp::{oid, ErrorStatus, Value};
    use std::sync::{Arc, Mutex};

    let dir = TempDir::new("agentx-ctx");
    let socket = socket_path(&dir);
    // A v2c community mapped to ctxA (net-snmp's `com2sec -Cn`), beside the v3 user.
    let extra = format!(
        "{CTX_USER}\n[[community]]\nname = \"ctxapub\"\ncontext = \"ctxA\"\nsources = [\"127.0.0.1\"]\n"
    );
    let (netcp, at) = start_master_with("agentx-ctx", &socket, &extra);
    let path = socket.to_string_lossy().into_owned();
    let level = Arc::new(Mutex::new(7));
    let (lg, ls) = (level.clone(), level.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let scalars = Scalars::new(oid!(1, 3, 6, 1, 4, 1, 99998, 1))
            .read(1, || Value::string("served in ctxA"))
            .write(
                2,
                move || Value::Integer(*lg.lock().unwrap()),
                move |v| match v {
                    Value::Integer(i) => {
                        *ls.lock().unwrap() = *i;
                        Ok(())
                    }
                    _ => Err(ErrorStatus::WrongType),
                },
            );
        let mut sub = agentx::subagent::Subagent::builder("context test")
            .socket(path)
            .register_in("ctxA", oid!(1, 3, 6, 1, 4, 1, 99998, 1), scalars)
            .agent_caps_in(
                "ctxA",
                oid!(1, 3, 6, 1, 4, 1, 99998, 2),
                "ctxA capabilities",
            )
            .build();
        rt.block_on(async move {
            let _ = sub.run().await;
        });
    });
    wait_for("the registration and capabilities in ctxA", || {
        let shown = netcp.netcu_ok(&["show", "snmp", "/subagents"]);
        shown.contains("1.3.6.1.4.1.99998.1  priority 127, context ctxA")
            && shown.contains("1.3.6.1.4.1.99998.2 ctxA capabilities (context ctxA)")
    });
    let name = "1.3.6.1.4.1.99998.1.1.0";
    let out = v3_tool("snmpget", &at, Some("ctxA"), &[name]);
    assert!(
        out.status.success() && text(&out).contains("served in ctxA"),
        "{}",
        text(&out)
    );
    // v2c through the community mapped to ctxA; `public` asks the default context.
    let out = tool("snmpget", &["-v2c", "-c", "ctxapub", "-On", &at, name]);
    assert!(text(&out).contains("served in ctxA"), "{}", text(&out));
    let out = tool("snmpget", &["-v2c", "-c", "public", "-On", &at, name]);
    assert!(text(&out).contains("No Such Object"), "{}", text(&out));
    // The default context does not have it, but has our own MIB.
    let out = v3_tool("snmpget", &at, None, &[name, SYS_DESCR]);
    let t = text(&out);
    assert!(t.contains("No Such Object"), "{t}");
    assert!(t.contains(&format!(".{SYS_DESCR} = STRING")), "{t}");
    // A walk of ctxA sees the subagent's objects only, and ctxA's sysORTable with its
    // capabilities (sysORLastChange, then ID, descr and uptime of one row).
    let out = v3_tool("snmpwalk", &at, Some("ctxA"), &["1.3"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // (net-snmp prints the end of the MIB view as a line of its own.)
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with('.') && !l.contains("No more variables"))
        .collect();
    assert_eq!(lines.len(), 6, "{t}");
    let or_table =
        |l: &&str| l.starts_with(".1.3.6.1.2.1.1.8.0 ") || l.starts_with(".1.3.6.1.2.1.1.9.1.");
    assert!(lines[..4].iter().all(or_table), "{t}");
    assert!(
        t.contains(".1.3.6.1.2.1.1.9.1.2.1 = OID: .1.3.6.1.4.1.99998.2")
            && t.contains("\"ctxA capabilities\""),
        "{t}"
    );
    assert!(
        lines[4..]
            .iter()
            .all(|l| l.starts_with(".1.3.6.1.4.1.99998.1.")),
        "{t}"
    );
    // The default context's sysORTable does not list them.
    let out = v3_tool("snmpwalk", &at, None, &["1.3.6.1.2.1.1.9"]);
    assert!(!text(&out).contains("ctxA capabilities"), "{}", text(&out));
    let out = v3_tool("snmpbulkwalk", &at, Some("ctxA"), &["1.3"]);
    let t = text(&out);
    let values = t
        .lines()
        .filter(|l| l.starts_with(".1.3.6.1.4.1.99998.1.") && !l.contains("No more variables"))
        .count();
    assert_eq!(values, 2, "{t}");
    // A Set in ctxA reaches the subagent.
    let lv = "1.3.6.1.4.1.99998.1.2.0";
    let out = v3_tool("snmpset", &at, Some("ctxA"), &[lv, "i", "42"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(*level.lock().unwrap(), 42);
    let out = v3_tool("snmpget", &at, Some("ctxA"), &[lv]);
    assert!(text(&out).contains("INTEGER: 42"), "{}", text(&out));
    // An unknown context: the unknownContexts report, which snmpget reports as an error.
    let out = v3_tool("snmpget", &at, Some("nosuch"), &[name]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    // (net-snmp's words for snmpUnknownContexts.)
    assert!(t.contains("Bad context specified"), "{t}");
    let shown = netcp.netcu_ok(&["show", "snmp"]);
    let unknown = shown
        .lines()
        .find(|l| l.contains("snmpUnknownContexts"))
        .unwrap_or_default()
        .to_string();
    assert!(
        unknown.ends_with(" 1") || unknown.contains(": 1"),
        "{shown}"
    );
}

/// net-snmp's `snmpd -X` as a subagent registering in a context: its `proxy -Cn ctxN`
/// directive registers the proxied subtree (here our own system group, asked over v2c) in
/// context ctxN through our master; `snmpget -n ctxN` reaches it through the subagent, the
/// default context answers from our own MIB, and ctxN ends when the subagent does.
#[test]
fn net_snmp_subagent_in_a_context() {
    let dir = TempDir::new("agentx-ctx-netsnmp");
    let socket = socket_path(&dir);
    let (netcp, at) = start_master_with("agentx-ctx-netsnmp", &socket, CTX_USER);
    let conf = dir.join("proxy.conf");
    std::fs::write(
        &conf,
        format!(
            "agentXSocket {}\nagentXTimeout 1\n\
             proxy -Cn ctxN -v 2c -c public {at} .1.3.6.1.2.1.1.1\n",
            socket.display()
        ),
    )
    .unwrap();
    let child = Command::new("snmpd")
        .args(["-f", "-Lo", "-X", "-C", "-c"])
        .arg(&conf)
        .args(["-I", "proxy", "-p"])
        .arg(dir.join("proxy.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("snmpd (apt-get install snmpd)");
    let sub = Subagent { child };
    wait_for("snmpd's registration in ctxN", || {
        netcp
            .netcu_ok(&["show", "snmp", "/subagents"])
            .contains("context ctxN")
    });
    // Through the subagent and its proxy back to our own sysDescr.
    let out = v3_tool("snmpget", &at, Some("ctxN"), &[SYS_DESCR]);
    let t = text(&out);
    assert!(
        out.status.success() && t.contains("STRING: \"Maynard"),
        "{t}"
    );
    // GetNext in ctxN reaches only what the subagent registered there.
    let out = v3_tool("snmpwalk", &at, Some("ctxN"), &["1.3"]);
    let t = text(&out);
    let values: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with('.') && !l.contains("No more variables"))
        .collect();
    assert_eq!(values.len(), 1, "{t}");
    assert!(
        values[0].starts_with(&format!(".{SYS_DESCR} = STRING")),
        "{t}"
    );
    // The default context is still ours: sysName is not in ctxN, but is here.
    let sys_name = "1.3.6.1.2.1.1.5.0";
    let out = v3_tool("snmpget", &at, Some("ctxN"), &[sys_name]);
    assert!(text(&out).contains("No Such Object"), "{}", text(&out));
    let out = v3_tool("snmpget", &at, None, &[sys_name]);
    assert!(text(&out).contains("STRING"), "{}", text(&out));
    drop(sub);
    wait_for("ctxN to end with the subagent", || {
        !netcp
            .netcu_ok(&["show", "snmp", "/subagents"])
            .contains("context ctxN")
    });
    let out = v3_tool("snmpget", &at, Some("ctxN"), &[SYS_DESCR]);
    assert!(
        text(&out).contains("Bad context specified"),
        "{}",
        text(&out)
    );
}

/// Two raw sessions register the same subtree, one in ctxA, one in ctxB: each SNMP request
/// reaches the session of its context, in an AgentX Get that names that context.
#[test]
fn contexts_dispatch_to_their_sessions() {
    use agentx::pdu::{Register, Response};
    use agentx::PduBody;
    use std::io::Write;

    let dir = TempDir::new("agentx-ctx-raw");
    let socket = socket_path(&dir);
    let (_netcp, at) = start_master_with("agentx-ctx-raw", &socket, CTX_USER);
    for (who, ctx) in [("a", "ctxA"), ("b", "ctxB")] {
        let mut c = raw::Client::connect(&socket);
        let s = c.open(0, who);
        let (_, r) = c.ask(
            s,
            PduBody::Register(Register {
                context: Some(ctx.as_bytes().to_vec()),
                ..Register::subtree("1.3.6.1.4.1.99997".parse().unwrap())
            }),
        );
        assert!(r.error.is_ok(), "{r:?}");
        // Answers each Get with who it is and the context the PDU named.
        c.s.set_read_timeout(None).unwrap();
        std::thread::spawn(move || {
            while let Some(p) = c.read() {
                let PduBody::Get(g) = &p.body else { continue };
                let named = String::from_utf8_lossy(g.context.as_deref().unwrap_or(b"-"));
                let value = snmp::Value::string(format!("{who} in {named}"));
                let vbs = g
                    .ranges
                    .iter()
                    .map(|r| snmp::VarBind::new(r.start.clone(), value.clone()))
                    .collect();
                let r = p.reply(Response::ok(vbs));
                if c.s.write_all(&r.encode()).is_err() {
                    return;
                }
            }
        });
    }
    let oid = "1.3.6.1.4.1.99997.1.0";
    for (ctx, want) in [("ctxA", "a in ctxA"), ("ctxB", "b in ctxB")] {
        let out = v3_tool("snmpget", &at, Some(ctx), &[oid]);
        assert!(text(&out).contains(want), "{ctx}: {}", text(&out));
    }
    let out = v3_tool("snmpget", &at, None, &[oid]);
    assert!(text(&out).contains("No Such Object"), "{}", text(&out));
}
