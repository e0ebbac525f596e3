//! Our SNMP agent against Debian's `snmpd`, in one run on the same machine.
//!
//! `cargo bench -p snmp --bench agent` (add `-- --seconds S` to change the length of each
//! measurement, default 2). Our agent runs in a child process (this binary re-executed, a
//! release build, serving over a std `UdpSocket` as `examples/agent.rs` does) so that its RSS
//! is its own; `snmpd` runs from its own configuration in a temporary directory on a free
//! loopback port. A windowed load generator (N requests outstanding over UDP, matched by
//! request ID) drives each in turn, alternating ours and peer over 3 rounds; the lines give the
//! medians:
//!
//! ```text
//! bench: snmp-get ours=<n>req/s peer=<n>req/s ratio=<x.xx>
//! bench: snmp-bulkwalk ours=<n>varbinds/s peer=<n>varbinds/s ratio=<x.xx>
//! bench: snmp-bulkwalk-tree ours=<n>varbinds/s peer=<n>varbinds/s ratio=<x.xx>
//! bench: snmp-get-v3 ours=<n>req/s peer=<n>req/s ratio=<x.xx>
//! bench: snmp-rss ours=<n>MB peer=20MB ratio=<20/ours>
//! ```
//!
//! Exits non-zero when `snmpd` cannot be found after trying to install it.

use snmp::agent::{Access, Agent, AgentConfig, AuthProtocol, Community, PrivProtocol, UsmUser};
use snmp::host::LinuxHost;
use snmp::pdu::{AnyPdu, Message, Pdu, PduType, Version};
use snmp::v3::{self, ScopedPdu, UsmParams, V3Message};
use snmp::{Oid, Value, VarBind};
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "MAYNARD_SNMP_BENCH_AGENT";
const USER: &str = "maynard";
const AUTH_PW: &str = "authpassword";
const PRIV_PW: &str = "privpassword";
const WINDOW: usize = 16;
const ROUNDS: usize = 3;
const SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
const IF_TABLE: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2];

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        serve_agent();
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
    let snmpd = find_snmpd().unwrap_or_else(|| {
        eprintln!("bench: snmpd not found, even after `apt-get install snmpd`");
        std::process::exit(1);
    });
    let tmp = std::env::temp_dir().join(format!("maynard-snmp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temporary directory");
    let mut ours = track(start_ours());
    let ours_port = read_port(&mut ours.0);
    let peer_port = free_port();
    let peer = track(start_snmpd(&snmpd, &tmp, peer_port));
    let ours_addr = format!("127.0.0.1:{ours_port}");
    let peer_addr = format!("127.0.0.1:{peer_port}");
    for (name, addr) in [("ours", &ours_addr), ("snmpd", &peer_addr)] {
        if !wait_ready(addr) {
            die(&format!("{name} at {addr} does not answer"));
        }
    }
    let root = Oid::new(&[1]);
    let if_table = Oid::new(IF_TABLE);
    let mut results: Vec<(&str, &str, Vec<f64>, Vec<f64>)> = vec![
        ("snmp-get", "req/s", Vec::new(), Vec::new()),
        ("snmp-bulkwalk", "varbinds/s", Vec::new(), Vec::new()),
        ("snmp-bulkwalk-tree", "varbinds/s", Vec::new(), Vec::new()),
        ("snmp-get-v3", "req/s", Vec::new(), Vec::new()),
    ];
    let mut v3_ours = V3Ctx::discover(&ours_addr);
    let mut v3_peer = V3Ctx::discover(&peer_addr);
    for round in 0..ROUNDS {
        // Alternate which goes first from round to round.
        let order: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_ours in order {
            let addr = if is_ours { &ours_addr } else { &peer_addr };
            let v3c = if is_ours { &mut v3_ours } else { &mut v3_peer };
            let r = [
                run(addr, Mode::Get, dur),
                run(addr, Mode::Bulk(if_table.clone()), dur),
                run(addr, Mode::Bulk(root.clone()), dur),
                run(addr, Mode::V3(v3c), dur),
            ];
            for (i, v) in r.into_iter().enumerate() {
                let (_, _, o, p) = &mut results[i];
                if is_ours { o } else { p }.push(v);
                eprintln!(
                    "  round {round} {}: {} {v:.0}",
                    if is_ours { "ours" } else { "snmpd" },
                    results[i].0
                );
            }
        }
    }
    for (name, unit, o, p) in &mut results {
        let (o, p) = (median(o), median(p));
        println!(
            "bench: {name} ours={o:.0}{unit} peer={p:.0}{unit} ratio={:.2}",
            o / p.max(1e-9)
        );
    }
    // One more whole-tree walk, then our agent's resident set.
    run(&ours_addr, Mode::Bulk(root), dur);
    let (rss, hwm) = rss_kb(ours.0.id());
    let mb = rss as f64 / 1024.0;
    eprintln!(
        "  ours: VmRSS {rss} kB, VmHWM {hwm} kB; snmpd VmRSS {} kB",
        rss_kb(peer.0.id()).0
    );
    println!(
        "bench: snmp-rss ours={mb:.1}MB peer=20MB ratio={:.2}",
        20.0 / mb.max(1e-9)
    );
    drop(ours);
    drop(peer);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Kills the child when dropped, so a panic never leaves an agent behind.
struct Guard(Child);

/// Children to kill when the bench fails (`process::exit` runs no destructors).
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

fn die(msg: &str) -> ! {
    eprintln!("bench: {msg}");
    for pid in CHILDREN.lock().map(|v| v.clone()).unwrap_or_default() {
        if let Ok(pid) = i32::try_from(pid) {
            // SAFETY: kill(2) on a child this process started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    std::process::exit(1);
}

fn track(c: Child) -> Guard {
    if let Ok(mut v) = CHILDREN.lock() {
        v.push(c.id());
    }
    Guard(c)
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn rss_kb(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("local address").port()
}

// ---------- our agent, in a child process ----------

fn start_ours() -> Child {
    let exe = std::env::current_exe().expect("current executable");
    Command::new(exe)
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start our agent")
}

fn read_port(child: &mut Child) -> u16 {
    let out = child.stdout.take().expect("child stdout");
    let mut line = String::new();
    let _ = BufReader::new(out).read_line(&mut line);
    line.trim()
        .parse()
        .unwrap_or_else(|_| die(&format!("our agent did not report its port ({line:?})")))
}

/// The agent as `examples/agent.rs` serves it: community `public` read-only from loopback,
/// v3 user `maynard` (SHA-1 / AES-128) and the Linux MIB modules.
fn serve_agent() {
    let mut config = AgentConfig {
        communities: Vec::new(),
        ..AgentConfig::default()
    };
    let lo = snmp::IpPrefix::containing(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8)
        .expect("127.0.0.0/8 is a prefix");
    config
        .communities
        .push(Community::new("public", Access::ReadOnly).from_source(lo));
    config.sys_descr = format!(
        "Maynard SNMP agent {} on {}",
        env!("CARGO_PKG_VERSION"),
        snmp::mib::linux_sys_descr(&LinuxHost)
    );
    config.sys_name = snmp::mib::linux_host_name(&LinuxHost);
    let e = config.engine_id.clone();
    config.users = vec![UsmUser::with_passwords(
        USER,
        Access::ReadOnly,
        Some((AuthProtocol::Sha1, AUTH_PW)),
        Some((PrivProtocol::Aes128, PRIV_PW)),
        &e,
    )];
    config.salt_seed = u64::from(std::process::id());
    let start = Instant::now();
    let mut agent = Agent::new(config);
    snmp::mib::register_linux(&mut agent, Arc::new(LinuxHost), start.elapsed());
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    println!("{}", sock.local_addr().expect("local address").port());
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            return;
        };
        let req = buf.get(..n).unwrap_or_default();
        if let Some(resp) = agent.handle(req, peer, start.elapsed()) {
            let _ = sock.send_to(&resp, peer);
        }
        agent.drain_events();
    }
}

// ---------- snmpd ----------

fn find_snmpd() -> Option<PathBuf> {
    let look = || {
        ["/usr/sbin/snmpd", "/usr/local/sbin/snmpd", "/sbin/snmpd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(p) = look() {
        return Some(p);
    }
    eprintln!("bench: snmpd missing, trying apt-get install snmpd");
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-q", "snmpd"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    look()
}

fn start_snmpd(snmpd: &Path, dir: &Path, port: u16) -> Child {
    // Not `snmpd.conf`: snmpd rewrites that name in its persistent directory.
    let conf = dir.join("bench.conf");
    let persist = dir.join("persist");
    std::fs::create_dir_all(&persist).expect("persistent directory");
    let text = format!(
        "agentaddress udp:127.0.0.1:{port}\n\
         rocommunity public 127.0.0.1\n\
         createUser {USER} SHA \"{AUTH_PW}\" AES \"{PRIV_PW}\"\n\
         rouser {USER} priv\n\
         dontLogTCPWrappersConnects yes\n"
    );
    std::fs::write(&conf, text).expect("write snmpd.conf");
    Command::new(snmpd)
        .arg("-f")
        .arg("-Lo")
        .arg("-C")
        .arg("-c")
        .arg(&conf)
        .env("SNMP_PERSISTENT_DIR", &persist)
        .env("MIBS", "")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start snmpd")
}

fn v2c_get(id: i32, oid: &[u32]) -> Vec<u8> {
    Message {
        version: Version::V2c,
        community: b"public".to_vec(),
        pdu: AnyPdu::Pdu(Pdu::new(
            PduType::Get,
            id,
            vec![VarBind::null(Oid::new(oid))],
        )),
    }
    .encode()
}

fn wait_ready(addr: &str) -> bool {
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    if sock.connect(addr).is_err() {
        return false;
    }
    let _ = sock.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 2048];
    for _ in 0..100 {
        let _ = sock.send(&v2c_get(1, SYS_UPTIME));
        if sock.recv(&mut buf).is_ok() {
            return true;
        }
        // A refused port answers at once: give the agent time to start.
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

// ---------- SNMPv3 ----------

/// What a manager learns in discovery, and the keys it localizes for that engine.
struct V3Ctx {
    engine_id: Vec<u8>,
    boots: i32,
    time: i32,
    at: Instant,
    auth_key: Vec<u8>,
    priv_key: Vec<u8>,
    salt: u64,
}

impl V3Ctx {
    fn discover(addr: &str) -> V3Ctx {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.connect(addr).expect("connect");
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let probe = ScopedPdu {
            context_engine_id: Vec::new(),
            context_name: Vec::new(),
            pdu: Pdu::new(PduType::Get, 1, Vec::new()),
        };
        let (bytes, _) = v3::encode_message(
            1,
            65000,
            v3::FLAG_REPORTABLE,
            &UsmParams::default(),
            0,
            &probe.encode(),
            false,
        );
        let mut buf = vec![0u8; 65536];
        let mut usm = None;
        for _ in 0..10 {
            let _ = sock.send(&bytes);
            if let Some(m) = sock
                .recv(&mut buf)
                .ok()
                .and_then(|n| V3Message::decode(&buf[..n]).ok())
            {
                usm = m.usm;
                break;
            }
        }
        let Some(u) = usm else {
            die(&format!("no SNMPv3 discovery answer from {addr}"));
        };
        let mut ctx = V3Ctx {
            auth_key: AuthProtocol::Sha1.localize(AUTH_PW.as_bytes(), &u.engine_id),
            priv_key: AuthProtocol::Sha1.localize(PRIV_PW.as_bytes(), &u.engine_id),
            engine_id: u.engine_id,
            boots: u.boots,
            time: u.time,
            at: Instant::now(),
            salt: 0x5eed_0000_0000,
        };
        // Time synchronisation: an authenticated request; a notInTimeWindow report carries
        // the engine's boots and time.
        for _ in 0..10 {
            let _ = sock.send(&ctx.request(2, 2));
            if let Ok(n) = sock.recv(&mut buf) {
                match ctx.response(&buf[..n]) {
                    Some((_, false)) => return ctx,
                    _ => {
                        if let Some(u) = V3Message::decode(&buf[..n]).ok().and_then(|m| m.usm) {
                            ctx.boots = u.boots;
                            ctx.time = u.time;
                            ctx.at = Instant::now();
                        }
                    }
                }
            }
        }
        die(&format!("SNMPv3 authPriv GET to {addr} does not succeed"));
    }

    /// An authPriv GetRequest for sysUpTime.0 (msgID and request-id = `id`).
    fn request(&mut self, id: i32, _slot: usize) -> Vec<u8> {
        let scoped = ScopedPdu {
            context_engine_id: self.engine_id.clone(),
            context_name: Vec::new(),
            pdu: Pdu::new(PduType::Get, id, vec![VarBind::null(Oid::new(SYS_UPTIME))]),
        };
        let mut data = scoped.encode();
        self.salt = self.salt.wrapping_add(1);
        let salt = self.salt.to_be_bytes();
        let time = self
            .time
            .saturating_add(i32::try_from(self.at.elapsed().as_secs()).unwrap_or(0));
        v3::encrypt(
            &self.priv_key,
            self.boots as u32,
            time as u32,
            &salt,
            &mut data,
        );
        let params = UsmParams {
            engine_id: self.engine_id.clone(),
            boots: self.boots,
            time,
            user: USER.as_bytes().to_vec(),
            auth: Vec::new(),
            privacy: salt.to_vec(),
        };
        let flags = v3::FLAG_AUTH | v3::FLAG_PRIV | v3::FLAG_REPORTABLE;
        let (mut bytes, off) = v3::encode_message(id, 65000, flags, &params, 12, &data, true);
        let mac = AuthProtocol::Sha1.mac(&self.auth_key, &bytes);
        bytes[off..off + 12].copy_from_slice(&mac);
        bytes
    }

    /// Verifies and decrypts a response as a manager would: (request-id, is a report).
    fn response(&self, buf: &[u8]) -> Option<(i32, bool)> {
        let m = V3Message::decode(buf).ok()?;
        if !m.encrypted {
            let s = m.scoped()?.ok()?;
            return Some((s.pdu.request_id, s.pdu.pdu_type == PduType::Report));
        }
        let u = m.usm.as_ref()?;
        let (s, e) = m.auth_range?;
        let mut zeroed = buf.to_vec();
        zeroed.get_mut(s..e)?.fill(0);
        if AuthProtocol::Sha1.mac(&self.auth_key, &zeroed) != u.auth {
            return None;
        }
        let mut data = m.data.to_vec();
        if !v3::decrypt(
            &self.priv_key,
            u.boots as u32,
            u.time as u32,
            &u.privacy,
            &mut data,
        ) {
            return None;
        }
        let sp = ScopedPdu::decode(&data).ok()?;
        Some((sp.pdu.request_id, sp.pdu.pdu_type == PduType::Report))
    }
}

// ---------- the windowed load generator ----------

enum Mode<'a> {
    /// v2c GET of sysUpTime.0.
    Get,
    /// v2c GETBULK walks (max-repetitions 25) of the subtree, each restarting at its end.
    Bulk(Oid),
    /// v3 authPriv GET of sysUpTime.0.
    V3(&'a mut V3Ctx),
}

/// Keeps `WINDOW` requests outstanding for `dur`; returns answers (or varbinds) per second.
fn run(addr: &str, mut mode: Mode<'_>, dur: Duration) -> f64 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let root = match &mode {
        Mode::Bulk(r) => r.clone(),
        _ => Oid::new(&[]),
    };
    let encode = |mode: &mut Mode<'_>, id: i32, cursor: &Oid| match mode {
        Mode::Get => v2c_get(id, SYS_UPTIME),
        Mode::Bulk(_) => Message {
            version: Version::V2c,
            community: b"public".to_vec(),
            pdu: AnyPdu::Pdu(Pdu {
                pdu_type: PduType::GetBulk,
                request_id: id,
                error_status: 0,
                error_index: 25,
                varbinds: vec![VarBind::null(cursor.clone())],
            }),
        }
        .encode(),
        Mode::V3(c) => c.request(id, 0),
    };
    let mut slots: Vec<(i32, Oid)> = (0..WINDOW)
        .map(|i| (i as i32 + 1000, root.clone()))
        .collect();
    for (id, cur) in &slots {
        let _ = sock.send(&encode(&mut mode, *id, cur));
    }
    let mut next_id = 1000 + WINDOW as i32;
    let mut count = 0u64;
    let mut buf = vec![0u8; 65536];
    let start = Instant::now();
    let end = start + dur;
    while Instant::now() < end {
        let Ok(n) = sock.recv(&mut buf) else {
            // Lost packets: resend every slot.
            for (id, cur) in &slots {
                let _ = sock.send(&encode(&mut mode, *id, cur));
            }
            continue;
        };
        let resp = &buf[..n];
        let (id, vbs) = match &mode {
            Mode::V3(c) => match c.response(resp) {
                Some((id, false)) => (id, Vec::new()),
                _ => continue,
            },
            _ => match Message::decode(resp) {
                Ok(Message {
                    pdu: AnyPdu::Pdu(p),
                    ..
                }) if p.error_status == 0 => (p.request_id, p.varbinds),
                _ => continue,
            },
        };
        let Some(slot) = slots.iter_mut().find(|(i, _)| *i == id) else {
            continue;
        };
        if let Mode::Bulk(_) = mode {
            let mut done = vbs.is_empty();
            for vb in vbs {
                if vb.value == Value::EndOfMibView || !vb.oid.starts_with(&root) {
                    done = true;
                    break;
                }
                count += 1;
                slot.1 = vb.oid;
            }
            if done {
                slot.1 = root.clone();
            }
        } else {
            count += 1;
        }
        slot.0 = next_id;
        next_id = next_id.wrapping_add(1);
        let _ = sock.send(&encode(&mut mode, slot.0, &slot.1));
    }
    count as f64 / start.elapsed().as_secs_f64()
}
