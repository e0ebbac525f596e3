//! GETs per second through an AgentX subagent: netcp's master against net-snmp's `snmpd`
//! master, in one run on the same machine.
//!
//! `cargo bench -p netcp --bench agentx` (`-- --seconds S` sets the length of each measurement,
//! default 2). netcp (this package's release binary) and `snmpd` each run from their own
//! configuration in a temporary directory on free loopback ports. A windowed load generator
//! (16 requests outstanding over UDP, matched by request ID) asks laNames.1
//! (1.3.6.1.4.1.2021.10.1.2.1, served by a subagent), alternating ours and peer over 3
//! rounds; the lines give the medians:
//!
//! ```text
//! bench: agentx-get ours=<n>req/s peer=<n>req/s ratio=<x.xx>
//! bench: agentx-get-snmpd-subagent ours=<n>req/s peer=<n>req/s ratio=<x.xx>
//! ```
//!
//! `agentx-get`: ours is netcp with a minimal subagent built on the `agentx` crate (this
//! binary re-executed, serving laNames.1), the peer is `snmpd` with `master agentx` and
//! `snmpd -X` (UCD load averages) behind it. `agentx-get-snmpd-subagent`: the same `snmpd -X`
//! subagent behind both masters.

use snmp::pdu::{AnyPdu, Message, Pdu, PduType, Version};
use snmp::{Oid, Value, VarBind};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "MAYNARD_AGENTX_BENCH_SUBAGENT";
const WINDOW: usize = 16;
const ROUNDS: usize = 3;
const LA_NAMES_1: &[u32] = &[1, 3, 6, 1, 4, 1, 2021, 10, 1, 2, 1];

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn die(msg: &str) -> ! {
    eprintln!("bench: {msg}");
    std::process::exit(1);
}

fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("local address").port()
}

fn snmpd() -> PathBuf {
    let look = || {
        ["/usr/sbin/snmpd", "/usr/local/sbin/snmpd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(p) = look() {
        return p;
    }
    eprintln!("bench: snmpd missing, trying apt-get install snmpd");
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-q", "snmpd"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    look().unwrap_or_else(|| die("snmpd not found, even after `apt-get install snmpd`"))
}

fn spawn(cmd: &mut Command) -> Guard {
    Guard(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start {cmd:?}: {e}"))),
    )
}

/// `snmpd -X` on `socket`, serving UCD load averages (and nothing the masters serve).
fn subagent(snmpd: &Path, dir: &Path, socket: &Path) -> Guard {
    let conf = dir.join("subagent.conf");
    std::fs::write(
        &conf,
        format!("agentXSocket {}\nagentXTimeout 5\n", socket.display()),
    )
    .expect("write subagent.conf");
    let persist = dir.join("persist-sub");
    let _ = std::fs::create_dir_all(&persist);
    spawn(
        Command::new(snmpd)
            .args(["-f", "-Lo", "-X", "-C", "-c"])
            .arg(&conf)
            .args(["-I", "loadave"])
            .env("SNMP_PERSISTENT_DIR", &persist)
            .env("MIBS", ""),
    )
}

/// netcp with the SNMP service on `port` and its AgentX master on `socket`.
fn ours(dir: &Path, port: u16, socket: &Path) -> Guard {
    std::fs::write(
        dir.join("servers.toml"),
        format!(
            "[netcp]\nlog_stderr = false\nhost_services = \"\"\n\n\
             [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
        ),
    )
    .expect("servers.toml");
    std::fs::write(dir.join("services"), "snmp 161/udp\n").expect("services");
    std::fs::write(
        dir.join("snmp.toml"),
        format!(
            "[[community]]\nname = \"public\"\nsources = [\"127.0.0.0/8\"]\n\n\
             [agentx]\nenable = true\nsocket = \"{}\"\n",
            socket.display()
        ),
    )
    .expect("snmp.toml");
    spawn(
        Command::new(env!("CARGO_BIN_EXE_netcp"))
            .arg("--config")
            .arg(dir)
            .arg("--socket")
            .arg(dir.join("netcp.sock")),
    )
}

/// net-snmp's master on `port` with its AgentX socket at `socket` (its own UCD modules off,
/// so the subagent serves them).
fn peer(snmpd: &Path, dir: &Path, port: u16, socket: &Path) -> Guard {
    let conf = dir.join("master.conf");
    std::fs::write(
        &conf,
        format!(
            "agentaddress udp:127.0.0.1:{port}\nrocommunity public 127.0.0.1\n\
             master agentx\nagentXSocket {}\ndontLogTCPWrappersConnects yes\n",
            socket.display()
        ),
    )
    .expect("master.conf");
    let persist = dir.join("persist-master");
    let _ = std::fs::create_dir_all(&persist);
    spawn(
        Command::new(snmpd)
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(&conf)
            .args(["-I", "-loadave,memory,versioninfo,vmstat"])
            .env("SNMP_PERSISTENT_DIR", &persist)
            .env("MIBS", ""),
    )
}

fn get(id: i32) -> Vec<u8> {
    Message {
        version: Version::V2c,
        community: b"public".to_vec(),
        pdu: AnyPdu::Pdu(Pdu::new(
            PduType::Get,
            id,
            vec![VarBind::null(Oid::new(LA_NAMES_1))],
        )),
    }
    .encode()
}

/// The request ID of an answer carrying laNames.1's value.
fn answered(buf: &[u8]) -> Option<i32> {
    match Message::decode(buf).ok()?.pdu {
        AnyPdu::Pdu(p) if matches!(p.varbinds.first(), Some(v) if matches!(v.value, Value::OctetString(_))) => {
            Some(p.request_id)
        }
        _ => None,
    }
}

/// Waits until the agent at `port` answers laNames.1 from its subagent.
fn wait_ready(port: u16) -> bool {
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    if s.connect(("127.0.0.1", port)).is_err() {
        return false;
    }
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 2048];
    for i in 0..100 {
        let _ = s.send(&get(i));
        if let Ok(n) = s.recv(&mut buf) {
            if answered(&buf[..n]).is_some() {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Requests per second with `WINDOW` outstanding for `dur`.
fn load(port: u16, dur: Duration) -> f64 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut next = 1000;
    for _ in 0..WINDOW {
        let _ = s.send(&get(next));
        next += 1;
    }
    let started = Instant::now();
    let mut done = 0u64;
    let mut buf = [0u8; 4096];
    while started.elapsed() < dur {
        match s.recv(&mut buf) {
            Ok(n) => {
                if answered(&buf[..n]).is_some() {
                    done += 1;
                }
                let _ = s.send(&get(next));
                next = next.wrapping_add(1);
            }
            // Lost answers: refill the window.
            Err(_) => {
                for _ in 0..WINDOW {
                    let _ = s.send(&get(next));
                    next = next.wrapping_add(1);
                }
            }
        }
    }
    done as f64 / started.elapsed().as_secs_f64()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// laNames.1 and nothing else, for the minimal subagent.
struct LoadName;

impl snmp::Handler for LoadName {
    fn get(&mut self, oid: &Oid, _cx: &snmp::registry::Ctx) -> Value {
        if oid.arcs() == LA_NAMES_1 {
            Value::string("Load-1")
        } else {
            Value::NoSuchObject
        }
    }

    fn next(&mut self, after: &Oid, _cx: &snmp::registry::Ctx) -> Option<VarBind> {
        let o = Oid::new(LA_NAMES_1);
        (*after < o).then(|| VarBind::new(o, Value::string("Load-1")))
    }
}

/// The minimal subagent (this binary re-executed): the `agentx` crate's runtime.
fn serve_subagent(socket: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(&format!("tokio: {e}")));
    let mut sub = agentx::Subagent::builder("Maynard bench subagent")
        .socket(socket)
        .register(Oid::new(&LA_NAMES_1[..8]), LoadName)
        .build();
    rt.block_on(async {
        let _ = sub.run().await;
    });
}

fn minimal_subagent(socket: &Path) -> Guard {
    spawn(Command::new(std::env::current_exe().expect("current executable")).env(CHILD_ENV, socket))
}

fn main() {
    if let Some(socket) = std::env::var_os(CHILD_ENV) {
        serve_subagent(&socket.to_string_lossy());
        return;
    }
    let mut seconds = 2.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--seconds" {
            seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
        }
    }
    let dur = Duration::from_secs_f64(seconds);
    let snmpd = snmpd();
    let tmp = std::env::temp_dir().join(format!("maynard-agentx-bench-{}", std::process::id()));
    let (ours_dir, peer_dir) = (tmp.join("ours"), tmp.join("peer"));
    for d in [&ours_dir, &peer_dir] {
        std::fs::create_dir_all(d).expect("temporary directory");
    }
    let (ours_port, peer_port) = (free_port(), free_port());
    let ours_sock = ours_dir.join("agentx");
    let peer_sock = peer_dir.join("agentx");
    let _ours = ours(&ours_dir, ours_port, &ours_sock);
    let _peer = peer(&snmpd, &peer_dir, peer_port, &peer_sock);
    // The subagents once their masters' sockets exist.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(ours_sock.exists() && peer_sock.exists()) {
        if Instant::now() > deadline {
            let _ = std::fs::remove_dir_all(&tmp);
            die("the masters did not open their AgentX sockets");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _peer_sub = subagent(&snmpd, &peer_dir, &peer_sock);
    let measure = |what: &str| {
        if !wait_ready(ours_port) || !wait_ready(peer_port) {
            let _ = std::fs::remove_dir_all(&tmp);
            die(&format!(
                "{what}: a master did not answer through its subagent"
            ));
        }
        let (mut o, mut p) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            o.push(load(ours_port, dur));
            p.push(load(peer_port, dur));
        }
        let (o, p) = (median(&mut o), median(&mut p));
        println!(
            "bench: {what} ours={o:.0}req/s peer={p:.0}req/s ratio={:.2}",
            o / p.max(1.0)
        );
    };
    {
        let _ours_sub = minimal_subagent(&ours_sock);
        measure("agentx-get");
    }
    // The minimal subagent gone, snmpd -X behind ours as well.
    std::thread::sleep(Duration::from_millis(300));
    let _ours_sub = subagent(&snmpd, &ours_dir, &ours_sock);
    measure("agentx-get-snmpd-subagent");
    let _ = std::fs::remove_dir_all(&tmp);
}
