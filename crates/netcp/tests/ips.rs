//! Intrusion prevention against Linux: a source the access list refuses again and again is
//! blocked on Maynard's stack (its pings go unanswered, other sources' do not) and, on a host
//! interface, in an nftables table; an application's reports on the event socket set a block on
//! one port that ends on time; a block outlives a restart of netcp; SHOW IPS shows it all and
//! SET IPS /UNBLOCK lifts a block.
//!
//! Needs root (TAP, namespaces, nftables), iproute2, ping, nc and python3; fails loudly without.

mod common;

use std::time::Duration;

use common::stack_env::*;
use common::veth::*;
use common::*;

/// Whether `to` answers one ping from `from` (within a second).
fn pings(from: &str, to: &str) -> bool {
    run_cmd("ping", &["-c", "1", "-W", "1", "-I", from, to])
        .status
        .success()
}

/// Sends one UDP datagram from `from` to `to`.
fn udp_from(from: &str, to: &str) {
    let s = std::net::UdpSocket::bind(format!("{from}:0")).unwrap();
    s.send_to(b"knock", to).unwrap();
}

/// Whether TCP echo on `to` answers from `from` (nc gives up after 2 seconds).
fn tcp_echo(from: &str, host: &str, port: u16) -> bool {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'hi\\n' | nc -N -w2 -s {from} {host} {port}"
        ))
        .output()
        .expect("run nc (netcat-openbsd)");
    String::from_utf8_lossy(&out.stdout) == "hi\n"
}

fn shown_now(netcp: &Netcp) -> String {
    netcp.netcu_ok(&["show", "ips"])
}

/// Sends `report` to the event socket, as an application would.
fn report(netcp: &Netcp, report: &str) {
    let path = netcp.dir.join("ips.sock");
    let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
    s.send_to(report.as_bytes(), &path)
        .unwrap_or_else(|e| panic!("send to {}: {e}", path.display()));
}

const RULES: &str = r#"
[[rule]]
name = "port-scan"
component = "stack"
event = "closed-port"
threshold = 10
window = "10s"
duration = "1h"

[[rule]]
name = "snmp-guess"
component = "snmp"
event = "auth-failure"
threshold = 2
window = "60s"
block = "source"
protocol = "udp"
duration = "1h"

[[rule]]
name = "refused"
component = "netcp"
event = "access-refused"
threshold = 3
window = "60s"
block = "source"
duration = "1h"

[[rule]]
name = "app-logins"
component = "myapp"
event = "bad-login"
threshold = 2
window = "60s"
block = "port"
duration = "3s"
repeat_factor = 2
max_duration = "1m"
"#;

#[test]
fn repeated_refusals_and_reported_events_block_sources_on_the_stack() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayi{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.124.{k}.1"), format!("100.124.{k}.2"));
    let barred = format!("100.124.{k}.9");
    let guesser = format!("100.124.{k}.7");
    let scanner = format!("100.124.{k}.5");
    let servers = format!(
        "[netcp]\nlog_stderr = true\nhost_services = \"\"\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nlisten = [\"{ours}\"]\n\
         access = [\"reject {barred}\", \"accept 0/0\"]\n\
         [[service]]\nname = \"snmp\"\nbuiltin = \"snmp\"\nport = 161\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n"
    );
    let network =
        format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n");
    // The stack only: the host's nftables are left alone.
    let ips = format!("[ips]\nnft_table = \"\"\n{RULES}");
    let netcp = Netcp::start_files(
        "ips-stack",
        &[
            ("servers.toml", &servers),
            ("network.toml", &network),
            ("ips.toml", &ips),
        ],
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    sh_ok("ip", &["addr", "add", &format!("{barred}/24"), "dev", &tap]);
    for extra in [&guesser, &scanner] {
        sh_ok("ip", &["addr", "add", &format!("{extra}/24"), "dev", &tap]);
    }
    assert!(pings(&barred, &ours), "{}", netcp.stderr());

    // Guessing SNMP communities (net-snmp's snmpget; `public` is for loopback only): after two
    // authentication failures the guesser's UDP is blocked, its pings are not.
    for community in ["private", "public"] {
        let out = tool(
            "snmpget",
            &[
                "-v2c",
                "-c",
                community,
                "-r0",
                "-t1",
                &format!("--clientaddr={guesser}"),
                &ours,
                "1.3.6.1.2.1.1.5.0",
            ],
        );
        // The agent does not answer a wrong community.
        assert!(text(&out).contains("Timeout"), "{out:?}");
    }
    wait_for("the SNMP block", 10, || {
        netcp.stderr().contains("event=ips-block rule=snmp-guess")
    });
    let g = std::net::UdpSocket::bind(format!("{guesser}:0")).unwrap();
    g.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    g.send_to(b"echo?", format!("{ours}:7")).unwrap();
    assert!(
        g.recv_from(&mut [0u8; 16]).is_err(),
        "the guesser's UDP passed"
    );
    assert!(
        pings(&guesser, &ours),
        "the guesser's pings are blocked too"
    );

    // A port scan: connection attempts to a dozen closed ports of the stack (each refused
    // with a reset) block the scanner; one attempt from another source does not.
    let scan = format!(
        "import socket\n\
         for port in range(2000, 2012):\n\
         \x20   s = socket.socket(); s.bind(('{scanner}', 0)); s.settimeout(1)\n\
         \x20   try: s.connect(('{ours}', port))\n\
         \x20   except OSError: pass\n"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &scan])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!tcp_echo(&linux, &ours, 2000));
    wait_for("the scanner's block", 10, || {
        netcp.stderr().contains("event=ips-block rule=port-scan")
    });
    assert!(!pings(&scanner, &ours), "the scanner is answered");
    assert!(netcp
        .stderr()
        .contains(&format!("rule=port-scan source={scanner}")));
    assert!(!netcp
        .stderr()
        .contains(&format!("ips-block rule=port-scan source={linux}")));

    // Three refusals in a minute: the source is blocked, for everything, on the stack.
    for _ in 0..3 {
        udp_from(&barred, &format!("{ours}:7"));
    }
    wait_for("the block", 10, || {
        netcp.stderr().contains("event=ips-block rule=refused")
    });
    assert!(!pings(&barred, &ours), "a blocked source is answered");
    assert!(pings(&linux, &ours), "another source is blocked too");
    let shown = netcp.netcu_ok(&["show", "ips"]);
    assert!(
        shown.contains("Blocks: 3 set, 0 expired, 0 lifted by an operator, 3 in force"),
        "{shown}"
    );
    assert!(
        shown.contains(&barred) && shown.contains("refused"),
        "{shown}"
    );
    let refused_row = shown
        .lines()
        .find(|l| l.trim_start().starts_with("refused"))
        .unwrap();
    assert!(refused_row.contains("netcp/access-refused"), "{shown}");

    // The operator lifts it.
    let out = netcp.netcu_ok(&["set", "ips", &format!("/unblock={barred}")]);
    assert!(out.contains("1 block lifted"), "{out}");
    assert!(pings(&barred, &ours), "still blocked after /UNBLOCK");
    let bad = netcp.netcu(&["set", "ips", "/unblock=nowhere"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("/UNBLOCK=`nowhere`"),
        "{bad:?}"
    );

    // The UNBLOCK lifted only the barred source's block.
    assert!(shown_now(&netcp).contains(&guesser));

    // An application reports failed logins on TCP port 7: after two, that port is closed to
    // the source for 3 seconds, while its UDP and pings still pass.
    assert!(tcp_echo(&linux, &ours, 7), "{}", netcp.stderr());
    let line =
        format!("component=myapp event=bad-login source={linux} destination={ours}:7 protocol=tcp");
    report(&netcp, &line);
    report(&netcp, &line);
    report(&netcp, "component=myapp this is not a report");
    wait_for("the port block", 10, || {
        netcp.stderr().contains("event=ips-block rule=app-logins")
    });
    assert!(!tcp_echo(&linux, &ours, 7), "the blocked port answered");
    assert!(pings(&linux, &ours));
    let s = std::net::UdpSocket::bind(format!("{linux}:0")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.send_to(b"udp still", format!("{ours}:7")).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = s
        .recv_from(&mut buf)
        .expect("UDP echo while TCP/7 is blocked");
    assert_eq!(&buf[..n], b"udp still");
    // The block ends by itself.
    wait_for("the port block to end", 10, || {
        netcp.stderr().contains("event=ips-unblock rule=app-logins")
    });
    assert!(tcp_echo(&linux, &ours, 7), "still blocked after its time");
    let log = netcp.stderr();
    assert!(log.contains("reason=expired"), "{log}");
    assert!(log.contains("event=ips-bad-report"), "{log}");
    assert!(log.contains("outcome=counted count=1"), "{log}");
    let shown = netcp.netcu_ok(&["show", "ips"]);
    assert!(shown.contains("4 set, 1 expired, 1 lifted"), "{shown}");
    assert!(shown.contains("port for 3s, repeat x2 up to 1m"), "{shown}");
    // A repeat offender: the next block lasts twice as long.
    report(&netcp, &line);
    report(&netcp, &line);
    wait_for("the second, longer block", 10, || {
        netcp.stderr().contains(&format!(
            "event=ips-block rule=app-logins source={linux} proto=tcp destination={ours}:7 seconds=6"
        ))
    });
}

#[test]
fn a_block_on_a_host_interface_goes_into_nftables() {
    require_root();
    let veth = Veth::new("ips");
    let table = format!("mips{}", std::process::id());
    let _guard = NftTableGuard(table.clone());
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = true\nhost_services = \"\"\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nport = {port}\nprotocols = [\"udp\"]\n\
         listen = [\"{root}\"]\naccess = [\"reject {ns}\", \"accept 0/0\"]\n",
        root = veth.root_ip,
        ns = veth.ns_ip
    );
    let ips = format!("[ips]\nnft_table = \"{table}\"\nevent_socket = \"\"\n{RULES}");
    let mut netcp = Netcp::start_files(
        "ips-host",
        &[("servers.toml", &servers), ("ips.toml", &ips)],
    );
    let ping = |veth: &Veth| {
        veth.in_ns(&format!("ping -c 1 -W 1 {}", veth.root_ip))
            .status
            .success()
    };
    assert!(ping(&veth), "no ping before any block");
    let knock = format!(
        "python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b\\\"x\\\", (\\\"{}\\\", {port})) for _ in range(3)]\"",
        veth.root_ip
    );
    let out = veth.in_ns(&knock);
    assert!(out.status.success(), "{out:?}");
    wait_for("the block", 10, || {
        netcp.stderr().contains("event=ips-block rule=refused")
    });
    let set = |name: &str| {
        String::from_utf8_lossy(&run_cmd("nft", &["list", "set", "inet", &table, name]).stdout)
            .into_owned()
    };
    wait_for("the nftables element", 10, || {
        set("source4").contains(&veth.ns_ip)
    });
    assert!(!ping(&veth), "a blocked source pings the host");
    // A restart of netcp keeps the block (ips-state.json), with the time it had left.
    netcp.netcu_ok(&["shutdown"]);
    assert!(netcp.wait_exit(Duration::from_secs(10)));
    assert!(
        ping(&veth),
        "blocked while netcp is down: the table went with it"
    );
    let kept = std::fs::read_to_string(netcp.dir.join("ips-state.json")).unwrap();
    assert!(kept.contains(&veth.ns_ip), "{kept}");
    netcp.spawn();
    wait_for("the block again", 10, || {
        netcp.stderr().contains("event=ips-restored blocks=1")
    });
    wait_for("the nftables element again", 10, || {
        set("source4").contains(&veth.ns_ip)
    });
    assert!(!ping(&veth), "the block did not survive the restart");
    // Lifted by the operator: the element goes.
    netcp.netcu_ok(&["set", "ips", "/unblock=all"]);
    assert!(!set("source4").contains(&veth.ns_ip), "{}", set("source4"));
    assert!(ping(&veth), "still blocked after /UNBLOCK=ALL");
    // netcp's shutdown removes the table.
    netcp.netcu_ok(&["shutdown"]);
    assert!(netcp.wait_exit(Duration::from_secs(10)));
    assert!(
        !run_cmd("nft", &["list", "table", "inet", &table])
            .status
            .success(),
        "the table outlived netcp"
    );
}
