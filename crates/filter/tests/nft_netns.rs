//! The nftables translation on a real Linux interface: two network namespaces joined by a veth
//! pair, a filter list on the receiving end, TCP connections from the other. Traffic the list
//! permits connects, `deny` is refused at once (ICMP administratively prohibited), `drop` times
//! out, and the counters read back match. Needs root, `ip` (iproute2), `nft` (nftables) and `nc`
//! (netcat-openbsd); fails loudly without them. Everything it makes is removed at the end.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use filter::{nft, parse, LocalTime};
use servicedb::ServiceDb;

fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0]).args(&args[1..]).output();
    match out {
        Ok(o) => o,
        Err(e) => {
            panic!("cannot run {args:?} ({e}): install iproute2, nftables and netcat-openbsd")
        }
    }
}

fn ok(args: &[&str]) {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Deletes the namespaces (and with them the veth pair and the nft table) when dropped.
struct Namespaces {
    names: [String; 2],
    children: Vec<Child>,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}

/// Tries a TCP connection from namespace `a`; returns whether it succeeded and how long it took.
fn connect(ns: &str, port: u16) -> (bool, Duration) {
    let start = Instant::now();
    let o = run(&[
        "ip",
        "netns",
        "exec",
        ns,
        "nc",
        "-z",
        "-n",
        "-w",
        "1",
        "10.77.0.2",
        &port.to_string(),
    ]);
    (o.status.success(), start.elapsed())
}

/// The host's local time, as nft will read it (Unix time and the zone offset from `date`).
fn host_now() -> LocalTime {
    let o = run(&["date", "+%s %z"]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let mut parts = text.split_whitespace();
    let secs: i64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let z = parts.next().unwrap_or("+0000");
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let digits = z.trim_start_matches(['+', '-']);
    let h: i32 = digits.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let m: i32 = digits.get(2..4).and_then(|s| s.parse().ok()).unwrap_or(0);
    LocalTime::from_unix(secs, sign * (h * 3600 + m * 60))
}

#[test]
fn a_list_on_a_veth_interface_behaves_as_written() {
    let id = std::process::id() % 100_000;
    let (na, nb) = (format!("mayf-a-{id}"), format!("mayf-b-{id}"));
    let (va, vb) = (format!("mfa{id}"), format!("mfb{id}"));
    let mut guard = Namespaces {
        names: [na.clone(), nb.clone()],
        children: Vec::new(),
    };
    ok(&["ip", "netns", "add", &na]);
    ok(&["ip", "netns", "add", &nb]);
    ok(&[
        "ip", "link", "add", &va, "netns", &na, "type", "veth", "peer", "name", &vb, "netns", &nb,
    ]);
    ok(&["ip", "-n", &na, "addr", "add", "10.77.0.1/24", "dev", &va]);
    ok(&["ip", "-n", &nb, "addr", "add", "10.77.0.2/24", "dev", &vb]);
    for (n, v) in [(&na, &va), (&nb, &vb)] {
        ok(&["ip", "-n", n, "link", "set", v, "up"]);
        ok(&["ip", "-n", n, "link", "set", "lo", "up"]);
    }

    // Daily windows around the host's local time (nft reads hours in the host's time zone):
    // one open now, one closed now, one open now that crosses midnight; and a one-shot window
    // open for the next hour.
    let now = host_now();
    let hm = |delta_min: i64| {
        let t = filter::vmstime::TimeOfDay::from_seconds(now.second_of_day() + delta_min * 60);
        format!("{:02}:{:02}", t.hour, t.minute)
    };
    let list = format!(
        "permit tcp 10.77.0.1/32 0/0 eq 8001\n\
         deny tcp 0/0 0/0 eq 8002\n\
         drop tcp 0/0 0/0 eq 8003\n\
         permit tcp 10.99.0.0/16 0/0 eq 8004\n\
         drop tcp 0/0 0/0 eq 8005 start {} end {} repeat\n\
         drop tcp 0/0 0/0 eq 8006 start {} end {} repeat\n\
         drop tcp 0/0 0/0 eq 8007 start {} end {} repeat\n\
         drop tcp 0/0 0/0 eq 8008 end \"0 01:00\"\n",
        hm(-60),
        hm(60),
        hm(60),
        hm(120),
        hm(60),
        hm(30)
    );
    let rules = match parse(&list, "FILTER-veth.dat", &ServiceDb::default(), now) {
        Ok(l) => l.rules,
        Err(e) => panic!("{e}"),
    };
    let json = nft::to_json(&vb, &rules).to_string();
    let path = std::env::temp_dir().join(format!("maynard-filter-netns-{id}.json"));
    if let Err(e) = std::fs::write(&path, &json) {
        panic!("cannot write {}: {e}", path.display());
    }
    let path_s = path.display().to_string();
    ok(&["ip", "netns", "exec", &nb, "nft", "-j", "-f", &path_s]);
    let _ = std::fs::remove_file(&path);

    let listener = Command::new("ip")
        .args([
            "netns",
            "exec",
            &nb,
            "nc",
            "-l",
            "-k",
            "-n",
            "10.77.0.2",
            "8001",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match listener {
        Ok(c) => guard.children.push(c),
        Err(e) => panic!("cannot start nc: {e}"),
    }
    // Wait (bounded) for the listener: tested from inside B, where the filter does not apply
    // to loopback (the chain only takes packets received on the veth).
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let o = run(&[
            "ip",
            "netns",
            "exec",
            &nb,
            "nc",
            "-z",
            "-n",
            "-w",
            "1",
            "10.77.0.2",
            "8001",
        ]);
        if o.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let (passed, _) = connect(&na, 8001);
    assert!(
        passed,
        "permit tcp ... eq 8001: the connection must succeed"
    );
    let (passed, t) = connect(&na, 8002);
    assert!(!passed, "deny: refused");
    assert!(
        t < Duration::from_millis(1500),
        "deny answers at once (ICMP), took {t:?}"
    );
    let (passed, t) = connect(&na, 8003);
    assert!(!passed, "drop: refused");
    assert!(
        t >= Duration::from_millis(900),
        "drop is silent: the connect times out, took {t:?}"
    );
    let (passed, t) = connect(&na, 8004);
    assert!(
        !passed && t < Duration::from_millis(800),
        "implicit deny rejects at once, {t:?}"
    );
    let (passed, t) = connect(&na, 8005);
    assert!(
        !passed && t >= Duration::from_millis(900),
        "open daily window drops, {t:?}"
    );
    let (passed, t) = connect(&na, 8006);
    assert!(
        !passed && t < Duration::from_millis(800),
        "closed window: implicit deny, {t:?}"
    );
    let (passed, t) = connect(&na, 8007);
    assert!(
        !passed && t >= Duration::from_millis(900),
        "open window crossing midnight drops, {t:?}"
    );
    let (passed, t) = connect(&na, 8008);
    assert!(
        !passed && t >= Duration::from_millis(900),
        "open one-shot window drops, {t:?}"
    );

    let o = run(&[
        "ip",
        "netns",
        "exec",
        &nb,
        "nft",
        "-j",
        "list",
        "table",
        "inet",
        &nft::table_name(&vb),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hits = match nft::read_counters(&String::from_utf8_lossy(&o.stdout), rules.len()) {
        Ok(h) => h,
        Err(e) => panic!("nft listing: {e}"),
    };
    assert!(
        hits.rules[0].0 >= 2,
        "rule 1 saw the SYN and the ACKs: {hits:?}"
    );
    assert!(hits.rules[1].0 >= 1, "rule 2 saw the SYN to 8002: {hits:?}");
    assert!(
        hits.rules[2].0 >= 1,
        "rule 3 saw the SYN(s) to 8003: {hits:?}"
    );
    assert_eq!(hits.rules[3].0, 0, "rule 4 matches nothing: {hits:?}");
    assert!(
        hits.implicit.0 >= 2,
        "the implicit deny took the SYNs to 8004 and 8006: {hits:?}"
    );
    assert_eq!(
        hits.rules[5].0, 0,
        "the closed window matched nothing: {hits:?}"
    );
    for i in [4, 6, 7] {
        assert!(
            hits.rules[i].0 >= 1,
            "rule {} (open window) counted: {hits:?}",
            i + 1
        );
    }

    // Removing the list removes exactly Maynard's table.
    let rm = nft::remove_json(&vb).to_string();
    let rm_path = std::env::temp_dir().join(format!("maynard-filter-netns-rm-{id}.json"));
    let _ = std::fs::write(&rm_path, rm);
    ok(&[
        "ip",
        "netns",
        "exec",
        &nb,
        "nft",
        "-j",
        "-f",
        &rm_path.display().to_string(),
    ]);
    let _ = std::fs::remove_file(&rm_path);
    let o = run(&["ip", "netns", "exec", &nb, "nft", "list", "tables"]);
    assert!(String::from_utf8_lossy(&o.stdout).trim().is_empty());
    let (passed, _) = connect(&na, 8001);
    assert!(passed, "without the list, traffic flows");
    drop(guard);
}
