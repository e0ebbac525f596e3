//! Against net-snmp: snmpd runs as the AgentX master (its own socket, port and state
//! directory under a unique temporary directory), the example subagent registers through it,
//! and the net-snmp command-line tools see and set our objects. Then snmpd is killed and
//! restarted: the subagent must re-open and re-register by itself.
//!
//! Like the snmp crate's net-snmp tests, these fail loudly when snmpd or the tools are
//! missing (`apt-get install -y snmpd snmp`).

#![cfg(feature = "tokio")]

#[path = "../examples/subagent.rs"]
mod example;

use agentx::session::State;
use agentx::subagent::Status;
use snmp::Value;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const SNMPD: &str = "/usr/sbin/snmpd";

/// snmpd and its files; killed and removed on drop.
struct Master {
    dir: PathBuf,
    conf: PathBuf,
    socket: PathBuf,
    /// The master's AgentX TCP port, when it listens on TCP instead of the Unix socket.
    tcp: Option<u16>,
    port: u16,
    child: Option<Child>,
}

impl Master {
    /// snmpd listening for subagents on a Unix socket in its directory, or on TCP
    /// (127.0.0.1, a free port) when `tcp`.
    fn new(trap_port: u16, tcp: bool) -> Master {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("maynard-agentx-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("persist")).expect("temp dir");
        let socket = dir.join("agentx");
        let port = free_udp_port();
        let tcp = tcp.then(free_tcp_port);
        let agentx_socket = match tcp {
            Some(p) => format!("tcp:127.0.0.1:{p}"),
            None => socket.display().to_string(),
        };
        let conf = dir.join("snmpd.conf");
        std::fs::write(
            &conf,
            format!(
                "master agentx\n\
                 agentXSocket {agentx_socket}\n\
                 agentXTimeout 5\n\
                 agentaddress udp:127.0.0.1:{port}\n\
                 rwcommunity maynardtest 127.0.0.1\n\
                 trap2sink 127.0.0.1:{trap_port} maynardtest\n"
            ),
        )
        .expect("write snmpd.conf");
        Master {
            dir,
            conf,
            socket,
            tcp,
            port,
            child: None,
        }
    }

    fn start(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let child = Command::new(SNMPD)
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(&self.conf)
            .env("SNMP_PERSISTENT_DIR", self.dir.join("persist"))
            .env("MIBS", "")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snmpd");
        self.child = Some(child);
        wait_for(
            Duration::from_secs(10),
            "snmpd's agentx socket",
            || match self.tcp {
                Some(p) => std::net::TcpStream::connect(("127.0.0.1", p)).is_ok(),
                None => self.socket.exists(),
            },
        );
    }

    /// The subagent's socket string for this master.
    fn agentx_socket(&self) -> String {
        match self.tcp {
            Some(p) => format!("tcp:127.0.0.1:{p}"),
            None => self.socket.display().to_string(),
        }
    }

    /// Sends a signal to snmpd (STOP/CONT to make it hang and recover).
    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill {sig} failed");
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs an snmp tool against this snmpd; returns (success, stdout + stderr).
    fn tool(&self, tool: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new(tool)
            .args([
                "-v2c",
                "-c",
                "maynardtest",
                "-On",
                "-t",
                "3",
                "-r",
                "1",
                "-M",
                "/dev/null",
            ])
            .arg(self.target())
            .args(args)
            .env("MIBS", "")
            .output()
            .expect("run snmp tool");
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), s)
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_tcp_port() -> u16 {
    let s = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

fn wait_for(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn wait_registered(st: &mut watch::Receiver<Status>, sessions: u64) {
    let want =
        |s: &Status| s.state == State::Ready && s.sessions >= sessions && s.registered.len() == 2;
    tokio::time::timeout(Duration::from_secs(20), st.wait_for(want))
        .await
        .expect("subagent did not register in time")
        .expect("status channel");
}

fn require_tools() {
    assert!(
        Path::new(SNMPD).exists(),
        "{SNMPD} missing: apt-get install -y snmpd snmp"
    );
    for t in ["snmpget", "snmpwalk", "snmpset", "snmpbulkwalk"] {
        assert!(
            Command::new(t).arg("-V").output().is_ok(),
            "{t} missing: apt-get install -y snmp"
        );
    }
}

/// The BER contents octets of an OID, to find it inside a trap datagram.
fn ber_oid(o: &snmp::Oid) -> Vec<u8> {
    let mut v = Vec::new();
    o.encode_contents(&mut v);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_net_snmp_master() {
    require_tools();
    let traps = UdpSocket::bind("127.0.0.1:0").expect("bind trap sink");
    traps
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut master = Master::new(traps.local_addr().expect("addr").port(), false);
    master.start();

    let ex = example::example(&master.agentx_socket());
    let mut status = ex.sub.status();
    let stop = ex.sub.shutdown_handle();
    let status_control = ex.sub.control();
    let mut sub = ex.sub;
    let runner = tokio::spawn(async move { sub.run().await });
    wait_registered(&mut status, 1).await;

    let base = example::example_oid().to_string();
    let lvl = format!("{base}.1.3.0");
    // snmpget through snmpd reaches our handler.
    let (ok, out) = master.tool("snmpget", &[&format!("{base}.1.1.0"), &lvl]);
    assert!(ok, "snmpget failed: {out}");
    assert!(
        out.contains("Maynard AgentX example subagent"),
        "unexpected: {out}"
    );
    assert!(
        out.contains(&format!(".{lvl} = INTEGER: 1")),
        "unexpected: {out}"
    );

    // snmpwalk sees the scalars and the table, column by column.
    let (ok, out) = master.tool("snmpwalk", &[&base]);
    assert!(ok, "snmpwalk failed: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4 + 8, "walk: {out}");
    assert!(
        out.contains(&format!(".{base}.2.1.2.2 = STRING: \"se0\"")),
        "{out}"
    );
    assert!(
        out.contains(&format!(".{base}.2.1.3.2 = Counter64: 9876543210")),
        "{out}"
    );
    assert!(
        out.contains(&format!(".{base}.2.1.4.1 = IpAddress: 127.0.0.1")),
        "{out}"
    );
    let pos = |s: &str| lines.iter().position(|l| l.starts_with(s));
    assert!(pos(&format!(".{base}.2.1.1.2")) < pos(&format!(".{base}.2.1.2.1")));
    // The same through GetBulk.
    let (ok, bulk) = master.tool("snmpbulkwalk", &["-Cr5", &base]);
    assert!(ok, "snmpbulkwalk failed: {bulk}");
    let strip = |w: &str| -> Vec<String> {
        // exampleUptime differs between the two walks.
        w.lines()
            .filter(|l| !l.contains("Timeticks"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(strip(&bulk), strip(&out));
    assert_eq!(bulk.lines().count(), 12);

    // snmpset reaches our handler through the four Set phases.
    let (ok, out) = master.tool("snmpset", &[&lvl, "i", "42"]);
    assert!(ok, "snmpset failed: {out}");
    assert_eq!(*ex.level.lock().unwrap(), 42);
    let (ok, out) = master.tool("snmpget", &[&lvl]);
    assert!(ok && out.contains("INTEGER: 42"), "{out}");
    // The Set sent exampleLevelChanged through snmpd to its trap sink.
    // (snmpd's own coldStart may arrive first.)
    let trap_oid = ber_oid(&example::level_changed_oid());
    let mut seen = Vec::new();
    let found = (0..5).any(|_| {
        let mut buf = [0u8; 1500];
        let n = traps
            .recv(&mut buf)
            .expect("no exampleLevelChanged at snmpd's trap sink");
        seen.push(n);
        buf[..n].windows(trap_oid.len()).any(|w| w == trap_oid)
    });
    assert!(
        found,
        "no exampleLevelChanged among traps of sizes {seen:?}"
    );
    // A value our check refuses, and a read-only object: refused, nothing changes.
    let (ok, out) = master.tool("snmpset", &[&lvl, "i", "1000"]);
    assert!(!ok && out.contains("wrongValue"), "{out}");
    let (ok, out) = master.tool("snmpset", &[&format!("{base}.1.1.0"), "s", "x"]);
    assert!(!ok && out.contains("notWritable"), "{out}");
    assert_eq!(*ex.level.lock().unwrap(), 42);
    // A table cell.
    let (ok, out) = master.tool("snmpset", &[&format!("{base}.2.1.2.2"), "s", "wan0"]);
    assert!(ok, "{out}");
    assert_eq!(
        ex.table.cell(&snmp::oid!(2), 2),
        Some(Value::string("wan0"))
    );
    let (ok, out) = master.tool("snmpset", &[&format!("{base}.1.4.0"), "s", "ops"]);
    assert!(ok, "{out}");
    assert_eq!(*ex.contact.lock().unwrap(), b"ops");

    // AddAgentCaps put the example into snmpd's sysORTable.
    let (ok, out) = master.tool("snmpwalk", &["1.3.6.1.2.1.1.9.1.2"]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("OID: .{}", example::example_caps_oid())),
        "sysORTable without our capabilities: {out}"
    );

    // Unregister the table while running: only the scalars remain; register it back.
    let control = status_control.clone();
    control
        .unregister(example::example_oid().child(&[2]))
        .expect("control");
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.registered.len() == 1),
    )
    .await
    .expect("unregister not answered")
    .expect("status");
    let (ok, out) = master.tool("snmpwalk", &[&base]);
    assert!(ok && out.lines().count() == 4, "after unregister: {out}");
    let table =
        agentx::helpers::Table::new(example::example_oid().child(&[2, 1]), ex.table.clone());
    control
        .register(example::example_oid().child(&[2]), table)
        .expect("control");
    wait_registered(&mut status, 1).await;
    let (ok, out) = master.tool("snmpwalk", &[&base]);
    assert!(ok && out.lines().count() == 12, "after register: {out}");

    // Kill snmpd: the subagent notices; restart it: the subagent re-opens and re-registers.
    master.kill();
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| s.state != State::Ready),
    )
    .await
    .expect("subagent did not notice the master's death")
    .expect("status");
    master.start();
    wait_registered(&mut status, 2).await;
    let (ok, out) = master.tool("snmpget", &[&lvl]);
    assert!(ok && out.contains("INTEGER: 42"), "after restart: {out}");

    stop.shutdown();
    let r = tokio::time::timeout(Duration::from_secs(5), runner)
        .await
        .expect("subagent did not stop")
        .expect("join");
    assert_eq!(r, Ok(()));
}

/// Over TCP, with a short ping interval: the master answers Pings; a hung master (SIGSTOP)
/// is detected by the unanswered Ping and the subagent re-registers once it recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_ping_and_hung_master() {
    require_tools();
    let mut master = Master::new(free_udp_port(), true);
    master.start();
    let pongs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let timeouts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (p, t) = (pongs.clone(), timeouts.clone());
    let base = example::example_oid();
    let handler =
        agentx::helpers::Scalars::new(base.child(&[1])).read(1, || Value::string("over tcp"));
    let handler2 = agentx::helpers::Scalars::new(base.child(&[4])).read(1, || Value::Integer(4));
    let mut sub = agentx::Subagent::builder("tcp test")
        .socket(master.agentx_socket())
        .register(base.child(&[1]), handler)
        .register(base.child(&[4]), handler2)
        .ping_interval(Some(Duration::from_millis(200)))
        .timeout(Duration::from_secs(1))
        .backoff(Duration::from_millis(100), Duration::from_millis(400))
        .on_event(move |e| match e {
            agentx::session::Event::Pong => {
                p.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            agentx::session::Event::Timeout => {
                t.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            _ => {}
        })
        .build();
    let mut status = sub.status();
    let stop = sub.shutdown_handle();
    let runner = tokio::spawn(async move { sub.run().await });
    wait_registered(&mut status, 1).await;
    let (ok, out) = master.tool("snmpget", &[&format!("{base}.1.1.0")]);
    assert!(ok && out.contains("over tcp"), "{out}");
    // Pings every 200 ms: a few answers within seconds even on a loaded machine.
    let t0 = Instant::now();
    while pongs.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the master did not answer our Pings"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    master.signal("-STOP");
    let lost = tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| s.state != State::Ready),
    )
    .await;
    master.signal("-CONT");
    lost.expect("a hung master went unnoticed").expect("status");
    assert!(timeouts.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    wait_registered(&mut status, 2).await;
    let (ok, out) = master.tool("snmpget", &[&format!("{base}.4.1.0")]);
    assert!(ok && out.contains("INTEGER: 4"), "after recovery: {out}");

    stop.shutdown();
    let r = tokio::time::timeout(Duration::from_secs(5), runner)
        .await
        .expect("subagent did not stop")
        .expect("join");
    assert_eq!(r, Ok(()));
}
