//! Packet filters on a real Linux interface: a veth pair into a network namespace the test makes
//! itself; netcp puts seed 001 filter lists on the root side through nftables, and Linux's own
//! clients (nc, ping, Python sockets) in the namespace see permit, deny and drop as written.

mod common;

use std::time::{Duration, Instant};

use common::veth::*;
use common::*;

fn hits_of(table: &str, needle: &str) -> u64 {
    let line = table
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row with `{needle}`:\n{table}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    cols[cols.len() - 2]
        .parse()
        .unwrap_or_else(|_| panic!("packets column of `{line}`"))
}

#[test]
fn filter_lists_on_a_linux_interface_permit_deny_and_drop_as_written() {
    let veth = Veth::new("flt");
    let _table = NftTableGuard(format!("maynard_{}", veth.root_if));
    let echo = free_port();
    let closed = free_port();
    let dir_files = TempDir::new("filter-files");
    let rules = format!(
        "! Maynard test filter for {root_if}\n\
         permit tcp {ns_ip}/32 {root_ip}/32 eq {echo}\n\
         deny   udp 0/0 0/0 eq {echo}            ! refused with ICMP admin-prohibited\n\
         drop   icmp 0/0 0/0 eq echo log            ! silently dropped, and logged\n",
        root_if = veth.root_if,
        ns_ip = veth.ns_ip,
        root_ip = veth.root_ip
    );
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nport = {echo}\nlisten = [\"{}\"]\n",
        veth.root_ip
    );
    // The list netcp puts on at start, from the configuration directory (seed 001's file name).
    let netcp = {
        let dir = TempDir::new("filter-config");
        std::fs::create_dir_all(dir.join("filters")).unwrap();
        std::fs::write(
            dir.join(&format!("filters/FILTER-{}.dat", veth.root_if)),
            &rules,
        )
        .unwrap();
        std::fs::write(dir.join("servers.toml"), &servers).unwrap();
        std::fs::write(dir.join("services"), SERVICES).unwrap();
        let mut n = Netcp {
            socket: dir.join("netcp.sock"),
            dir,
            child: None,
            netns: None,
        };
        n.spawn();
        n
    };
    let shown = netcp.netcu_ok(&["show", "interface", &veth.root_if, "/filter"]);
    assert!(shown.contains("3 rules"), "{shown}");

    // permit: the TCP echo answers.
    let out = veth.in_ns(&format!(
        "printf through | nc -N -w 5 {} {echo}",
        veth.root_ip
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "through", "{out:?}");
    // deny: UDP gets ICMP administratively prohibited (EHOSTUNREACH on a connected socket).
    let out = veth.in_ns(&format!(
        "python3 -c \"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5); s.connect((\\\"{}\\\", {echo})); s.send(b\\\"x\\\");\ntry:\n  s.recv(10); print(\\\"answered\\\")\nexcept OSError as e: print(e.errno)\"",
        veth.root_ip
    ));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "113",
        "EHOSTUNREACH: {out:?}"
    );
    // drop: ping gets nothing at all.
    let out = veth.in_ns(&format!("ping -c 2 -W 1 {}", veth.root_ip));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("100% packet loss"),
        "{out:?}"
    );
    // implicit deny: TCP to another port is refused at once, not timed out.
    let started = Instant::now();
    let out = veth.in_ns(&format!("nc -z -w 5 {} {closed}", veth.root_ip));
    assert!(
        !out.status.success() && started.elapsed() < Duration::from_secs(4),
        "{out:?}"
    );

    let shown = netcp.netcu_ok(&[&format!("SHOW INTERFACE {}/FILTER", veth.root_if)]);
    assert!(hits_of(&shown, "permit tcp") >= 3, "{shown}");
    assert!(hits_of(&shown, "deny   udp") >= 1, "{shown}");
    assert!(hits_of(&shown, "(implicit)") >= 1, "{shown}");

    // Filter logging to a file, COMMA format, every 5 seconds.
    let log = dir_files.join("filter-log.csv");
    netcp.netcu_ok(&[
        "set",
        "interface",
        &veth.root_if,
        &format!("/log={}", log.display()),
        "/format=comma",
        "/interval=5",
    ]);
    let _ = veth.in_ns(&format!("ping -c 3 -i 0.2 -W 1 {}", veth.root_ip));
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        if t.contains("drop") {
            break t;
        }
        assert!(Instant::now() < deadline, "no filter log report:\n{t}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        text.lines()
            .any(|l| l.contains(",drop,") && l.contains(&veth.root_if)),
        "{text}"
    );
    netcp.netcu_ok(&["set", "interface", &veth.root_if, "/nolog"]);

    // A bad list is refused with its position and the old list stays in force.
    let bad = dir_files.join("bad.dat");
    std::fs::write(&bad, "permit tcp 10.0.0.0/8 0/0 eq nosuchservice\n").unwrap();
    let out = netcp.netcu(&[
        "set",
        "interface",
        &veth.root_if,
        &format!("/filter={}", bad.display()),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bad.dat:1:"), "{err}");
    assert!(!veth
        .in_ns(&format!("ping -c 1 -W 1 {}", veth.root_ip))
        .status
        .success());

    // /NOFILTER removes exactly Maynard's table: ping answers again.
    netcp.netcu_ok(&["set", "interface", &veth.root_if, "/nofilter"]);
    assert!(veth
        .in_ns(&format!("ping -c 1 -W 2 {}", veth.root_ip))
        .status
        .success());
    let tables = sh("nft list tables");
    assert!(!String::from_utf8_lossy(&tables.stdout).contains(&format!("maynard_{}", veth.root_if)));
}
