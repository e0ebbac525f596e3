//! netcp's AgentX master with net-snmp's `snmpd -X` as a subagent: its objects walked and set
//! through our agent, a stopped subagent failing only its own requests, a killed one leaving
//! our MIB-II answering, a restarted one registering again. Then protocol conformance of the
//! master with a raw client built on the `agentx` codec (`agentx_conformance` below).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    run(Command::new(name).args(args))
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// netcp serving SNMP on a free port with the AgentX master on `socket`.
pub fn start_master(tag: &str, socket: &Path) -> (Netcp, String) {
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
             [agentx]\nenable = true\nsocket = \"{}\"\ntimeout = \"1s\"\n",
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

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
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
    assert!(
        quick < Duration::from_millis(500),
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
    assert!(started.elapsed() < Duration::from_millis(500));
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
