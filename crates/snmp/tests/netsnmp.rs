//! Interop with net-snmp's command-line tools (Debian's `snmp` package) against the example
//! agent, each test on its own UDP port on 127.0.0.1. Install the tools with
//! `apt-get install -y snmp`; without them these tests fail loudly.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

struct AgentProc {
    child: Child,
    addr: String,
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn example_path() -> PathBuf {
    // target/debug/deps/netsnmp-HASH → target/debug/examples/agent
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let p = dir.join("examples").join("agent");
    assert!(
        p.exists(),
        "example agent not built at {} (cargo test builds it)",
        p.display()
    );
    p
}

fn start(extra: &[&str]) -> AgentProc {
    let mut child = Command::new(example_path())
        .args(["--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start example agent");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("read line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected agent output {line:?}"))
        .to_string();
    AgentProc { child, addr }
}

/// Runs a net-snmp tool; returns (success, stdout + stderr).
fn tool(name: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(name)
        .args(["-On", "-t", "1", "-r", "1"])
        .args(args)
        .env("MIBS", "")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}): install Debian's `snmp` package"));
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), s)
}

const SYS_DESCR: &str = ".1.3.6.1.2.1.1.1.0";
const SYS_CONTACT: &str = ".1.3.6.1.2.1.1.4.0";
const SYS_LOCATION: &str = ".1.3.6.1.2.1.1.6.0";

#[test]
fn get_and_getnext() {
    let a = start(&[]);
    for v in ["1", "2c"] {
        let (ok, out) = tool("snmpget", &["-v", v, "-c", "public", &a.addr, SYS_DESCR]);
        assert!(ok, "{out}");
        assert!(
            out.contains(".1.3.6.1.2.1.1.1.0 = STRING: \"Maynard"),
            "{out}"
        );
        let (ok, out) = tool(
            "snmpgetnext",
            &["-v", v, "-c", "public", &a.addr, ".1.3.6.1.2.1.1"],
        );
        assert!(ok, "{out}");
        assert!(out.starts_with(".1.3.6.1.2.1.1.1.0 = "), "{out}");
    }
    let (_, out) = tool(
        "snmpget",
        &["-v", "2c", "-c", "public", &a.addr, ".1.3.6.1.2.1.1.1.5"],
    );
    assert!(out.contains("No Such Instance"), "{out}");
    let (_, out) = tool(
        "snmpget",
        &["-v", "1", "-c", "public", &a.addr, ".1.3.6.1.2.1.99.0"],
    );
    assert!(out.contains("noSuchName"), "{out}");
}

fn check_walk(out: &str) {
    // Values (process arguments, say) may contain any words: look at net-snmp's own lines.
    for l in out.lines() {
        assert!(!l.starts_with("Error: OID not increasing"), "{l}");
        assert!(!l.starts_with("Timeout"), "{l}");
    }
    let oids: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split(" = ").next())
        .filter(|o| o.starts_with(".1.3"))
        .collect();
    assert!(oids.len() > 100, "only {} lines:\n{out}", oids.len());
    for prefix in [
        ".1.3.6.1.2.1.1.1.0",
        ".1.3.6.1.2.1.2.2.1.2.1",
        ".1.3.6.1.2.1.11.1.0",
        ".1.3.6.1.2.1.25.1.1.0",
        ".1.3.6.1.2.1.25.4.2.1.2.1",
    ] {
        assert!(oids.contains(&prefix), "{prefix} missing from walk");
    }
}

#[test]
fn full_walks_v1_v2c_bulk() {
    let a = start(&[]);
    let (ok, out) = tool("snmpwalk", &["-v", "2c", "-c", "public", &a.addr, ".1"]);
    assert!(ok, "{out}");
    check_walk(&out);
    assert!(
        out.contains(".1.3.6.1.2.1.31.1.1.1.6.1 = Counter64"),
        "ifHCInOctets missing"
    );
    let (ok, out) = tool("snmpwalk", &["-v", "1", "-c", "public", &a.addr, ".1"]);
    assert!(ok, "{out}");
    check_walk(&out);
    let c64 = out.lines().any(|l| {
        l.starts_with(".1.3")
            && l.split(" = ")
                .nth(1)
                .is_some_and(|v| v.starts_with("Counter64:"))
    });
    assert!(!c64, "v1 must not see Counter64");
    for reps in ["10", "50"] {
        let (ok, out) = tool(
            "snmpbulkwalk",
            &[
                "-v",
                "2c",
                "-c",
                "public",
                &format!("-Cr{reps}"),
                &a.addr,
                ".1",
            ],
        );
        assert!(ok, "{out}");
        check_walk(&out);
    }
    // A walk of one table stays in it.
    let (ok, out) = tool(
        "snmpbulkwalk",
        &["-v", "2c", "-c", "public", &a.addr, ".1.3.6.1.2.1.2.2"],
    );
    assert!(ok, "{out}");
    assert!(
        out.lines().all(|l| l.starts_with(".1.3.6.1.2.1.2.2.1.")),
        "{out}"
    );
}

#[test]
fn set_then_get_and_all_or_nothing() {
    let a = start(&[]);
    let (ok, out) = tool(
        "snmpset",
        &[
            "-v",
            "2c",
            "-c",
            "private",
            &a.addr,
            SYS_CONTACT,
            "s",
            "ops@example.invalid",
        ],
    );
    assert!(ok, "{out}");
    let (_, out) = tool(
        "snmpget",
        &["-v", "2c", "-c", "public", &a.addr, SYS_CONTACT],
    );
    assert!(out.contains("STRING: \"ops@example.invalid\""), "{out}");
    // v1 too.
    let (ok, out) = tool(
        "snmpset",
        &[
            "-v",
            "1",
            "-c",
            "private",
            &a.addr,
            SYS_LOCATION,
            "s",
            "lab",
        ],
    );
    assert!(ok, "{out}");
    // One bad varbind: nothing changes.
    let (ok, out) = tool(
        "snmpset",
        &[
            "-v",
            "2c",
            "-c",
            "private",
            &a.addr,
            SYS_CONTACT,
            "s",
            "changed",
            SYS_LOCATION,
            "i",
            "5",
        ],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("wrongType"), "{out}");
    let (_, out) = tool(
        "snmpget",
        &[
            "-v",
            "2c",
            "-c",
            "public",
            &a.addr,
            SYS_CONTACT,
            SYS_LOCATION,
        ],
    );
    assert!(out.contains("\"ops@example.invalid\""), "{out}");
    assert!(out.contains("\"lab\""), "{out}");
    // The read-only community cannot set; a read-only object cannot be set.
    let (ok, out) = tool(
        "snmpset",
        &["-v", "2c", "-c", "public", &a.addr, SYS_CONTACT, "s", "x"],
    );
    assert!(!ok && out.contains("noAccess"), "{out}");
    let (ok, out) = tool(
        "snmpset",
        &["-v", "2c", "-c", "private", &a.addr, SYS_DESCR, "s", "x"],
    );
    assert!(!ok && out.contains("notWritable"), "{out}");
    let (ok, out) = tool(
        "snmpset",
        &["-v", "1", "-c", "private", &a.addr, SYS_DESCR, "s", "x"],
    );
    assert!(!ok && out.contains("noSuchName"), "{out}");
}

#[test]
fn wrong_community_and_malformed_packets_are_counted() {
    let a = start(&[]);
    let (ok, out) = tool(
        "snmpget",
        &[
            "-v", "2c", "-c", "wrong", "-t", "1", "-r", "0", &a.addr, SYS_DESCR,
        ],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("Timeout"), "{out}");
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.send_to(b"\x30\x10\x02\x01\x01garbage", &a.addr)
        .expect("send");
    s.send_to(&[0xff; 40], &a.addr).expect("send");
    // snmpInBadCommunityNames.0 and snmpInASNParseErrs.0
    let (ok, out) = tool(
        "snmpget",
        &[
            "-v",
            "2c",
            "-c",
            "public",
            &a.addr,
            ".1.3.6.1.2.1.11.4.0",
            ".1.3.6.1.2.1.11.6.0",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains(".1.3.6.1.2.1.11.4.0 = Counter32: 1"), "{out}");
    assert!(out.contains(".1.3.6.1.2.1.11.6.0 = Counter32: 2"), "{out}");
}

#[test]
fn too_big() {
    let a = start(&["--max-size", "484"]);
    let many: Vec<&str> = std::iter::repeat_n(SYS_DESCR, 12).collect();
    let mut args = vec!["-v", "2c", "-c", "public", a.addr.as_str()];
    args.extend(&many);
    let (ok, out) = tool("snmpget", &args);
    assert!(!ok, "{out}");
    assert!(out.contains("tooBig"), "{out}");
    args[1] = "1";
    let (ok, out) = tool("snmpget", &args);
    assert!(!ok && out.contains("tooBig"), "{out}");
    // GetBulk fits its answer into the limit instead, and the walk still completes.
    let (ok, out) = tool(
        "snmpbulkwalk",
        &[
            "-v",
            "2c",
            "-c",
            "public",
            "-Cr100",
            &a.addr,
            ".1.3.6.1.2.1.1",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains(".1.3.6.1.2.1.1.9.1.4.1"), "{out}");
}

fn v3(user: &str, level: &str, auth: &str, apass: &str, priv_: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = ["-v", "3", "-l", level, "-u", user]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if level != "noAuthNoPriv" {
        v.extend(["-a", auth, "-A", apass].map(String::from));
    }
    if let Some(p) = priv_ {
        v.extend(["-x", "AES", "-X", p].map(String::from));
    }
    v
}

fn run_v3(base: Vec<String>, addr: &str, name: &str, rest: &[&str]) -> (bool, String) {
    let mut args = base;
    args.push(addr.to_string());
    args.extend(rest.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tool(name, &refs)
}

#[test]
fn v3_usm_auth_priv() {
    let a = start(&[]);
    let good = || {
        v3(
            "maynard",
            "authPriv",
            "SHA",
            "authpassword",
            Some("privpassword"),
        )
    };
    let (ok, out) = run_v3(good(), &a.addr, "snmpget", &[SYS_DESCR]);
    assert!(ok && out.contains("STRING: \"Maynard"), "{out}");
    let sha256 = v3(
        "sha256user",
        "authPriv",
        "SHA-256",
        "authpassword",
        Some("privpassword"),
    );
    let (ok, out) = run_v3(sha256, &a.addr, "snmpget", &[SYS_DESCR]);
    assert!(ok && out.contains("STRING: \"Maynard"), "{out}");
    let sha512 = v3("authonly", "authNoPriv", "SHA-512", "authpassword", None);
    let (ok, out) = run_v3(sha512, &a.addr, "snmpgetnext", &[".1.3.6.1.2.1.1"]);
    assert!(ok && out.starts_with(SYS_DESCR), "{out}");
    // Set over v3, then read it back.
    let (ok, out) = run_v3(good(), &a.addr, "snmpset", &[SYS_CONTACT, "s", "v3 admin"]);
    assert!(ok, "{out}");
    let (_, out) = run_v3(good(), &a.addr, "snmpget", &[SYS_CONTACT]);
    assert!(out.contains("\"v3 admin\""), "{out}");
    // Full bulk walk over authPriv.
    let (ok, out) = run_v3(good(), &a.addr, "snmpbulkwalk", &["-Cr25", ".1"]);
    assert!(ok, "{out}");
    check_walk(&out);
    // Failures come back as reports that net-snmp understands.
    let bad = v3(
        "maynard",
        "authPriv",
        "SHA",
        "wrongpassword",
        Some("privpassword"),
    );
    let (ok, out) = run_v3(bad, &a.addr, "snmpget", &[SYS_DESCR]);
    assert!(!ok && out.contains("Authentication failure"), "{out}");
    let nobody = v3(
        "nobody",
        "authPriv",
        "SHA",
        "authpassword",
        Some("privpassword"),
    );
    let (ok, out) = run_v3(nobody, &a.addr, "snmpget", &[SYS_DESCR]);
    assert!(!ok && out.contains("Unknown user name"), "{out}");
    let badpriv = v3(
        "maynard",
        "authPriv",
        "SHA",
        "authpassword",
        Some("wrongprivpass"),
    );
    let (ok, out) = run_v3(badpriv, &a.addr, "snmpget", &[SYS_DESCR]);
    assert!(!ok && out.contains("Decryption error"), "{out}");
    let noauth = v3("maynard", "noAuthNoPriv", "", "", None);
    let (ok, out) = run_v3(noauth, &a.addr, "snmpget", &[SYS_DESCR]);
    assert!(!ok && out.contains("Unsupported security level"), "{out}");
    // Only the default context exists.
    let (ok, out) = run_v3(good(), &a.addr, "snmpget", &["-n", "other", SYS_DESCR]);
    assert!(!ok && out.contains("Bad context"), "{out}");
    // A read-only user cannot set.
    let sha256 = v3(
        "sha256user",
        "authPriv",
        "SHA-256",
        "authpassword",
        Some("privpassword"),
    );
    let (ok, out) = run_v3(sha256, &a.addr, "snmpset", &[SYS_CONTACT, "s", "x"]);
    assert!(!ok && out.contains("noAccess"), "{out}");
    // The usmStats counters saw it all.
    let (_, out) = tool(
        "snmpget",
        &[
            "-v",
            "2c",
            "-c",
            "public",
            &a.addr,
            ".1.3.6.1.6.3.15.1.1.5.0",
            ".1.3.6.1.6.3.15.1.1.3.0",
        ],
    );
    assert!(
        out.contains(".1.3.6.1.6.3.15.1.1.5.0 = Counter32: 1"),
        "{out}"
    );
    assert!(
        out.contains(".1.3.6.1.6.3.15.1.1.3.0 = Counter32: 1"),
        "{out}"
    );
}

/// snmptrapd on a free port, printing what it receives; killed on drop.
struct TrapD {
    child: Child,
    port: u16,
    lines: std::sync::mpsc::Receiver<String>,
    dir: PathBuf,
}

impl Drop for TrapD {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_trapd() -> TrapD {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let dir = std::env::temp_dir().join(format!("maynard-trapd-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conf = dir.join("snmptrapd.conf");
    std::fs::write(&conf, "disableAuthorization yes\n").expect("write conf");
    let mut child = Command::new("snmptrapd")
        .args(["-f", "-Lo", "-On", "-C", "-c"])
        .arg(&conf)
        .args(["-M", "/dev/null", &format!("udp:127.0.0.1:{port}")])
        .env("MIBS", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run snmptrapd ({e}): install Debian's `snmptrapd`"));
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let t = TrapD {
        child,
        port,
        lines: rx,
        dir,
    };
    // Ready once it prints its version.
    wait_for(&t, "NET-SNMP version");
    t
}

fn wait_for(t: &TrapD, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = String::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match t.lines.recv_timeout(left) {
            Ok(l) => {
                seen.push_str(&l);
                seen.push('\n');
                if l.contains(needle) {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("snmptrapd never printed {needle:?}; it printed:\n{seen}");
}

#[test]
fn cold_start_and_authentication_failure_traps_reach_snmptrapd() {
    let trapd = start_trapd();
    let to = format!("127.0.0.1:{}", trapd.port);
    let a = start(&["--trap-to", &to]);
    wait_for(&trapd, "= OID: .1.3.6.1.6.3.1.1.5.1");
    // Authentication traps are off: turn them on over SNMP (snmpEnableAuthenTraps.0 = 1).
    let (ok, out) = tool(
        "snmpset",
        &[
            "-v",
            "2c",
            "-c",
            "private",
            &a.addr,
            ".1.3.6.1.2.1.11.30.0",
            "i",
            "1",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _) = tool(
        "snmpget",
        &[
            "-v", "2c", "-c", "wrong", "-t", "1", "-r", "0", &a.addr, SYS_DESCR,
        ],
    );
    assert!(!ok);
    wait_for(&trapd, "= OID: .1.3.6.1.6.3.1.1.5.5");
}
