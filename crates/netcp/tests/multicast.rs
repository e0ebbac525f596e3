//! A UDP service's `multicast` groups against Linux: on Maynard's stack (a TAP netcp makes) and
//! on the host's sockets (a veth pair into a namespace the test makes). Linux sends to the group,
//! the service answers from its unicast address; Linux sees the stack's IGMP reports and leaves
//! (tcpdump on the TAP) and the host's memberships (`ip maddr`); disabling a service leaves its
//! groups, enabling joins again; a bad group or a TCP-only service is refused.
//!
//! Needs root, `ip` (iproute2), tcpdump and python3; fails loudly without.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::stack_env::*;
use socket2::{Domain, Socket, Type};

/// tcpdump on `iface` with `filter`, started and listening when this returns; ends after
/// `count` packets or 15 seconds.
struct Tcpdump(Child);

impl Tcpdump {
    fn start(iface: &str, count: u32, filter: &str) -> Tcpdump {
        let mut child = Command::new("timeout")
            .args([
                "15",
                "tcpdump",
                "--immediate-mode",
                "-i",
                iface,
                "-n",
                "-l",
                "-c",
            ])
            .arg(count.to_string())
            .arg(filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tcpdump (install tcpdump)");
        let stderr = child.stderr.take().expect("tcpdump's stderr");
        let mut lines = BufReader::new(stderr).lines();
        // tcpdump says "listening on IFACE ..." once it captures.
        loop {
            match lines.next() {
                Some(Ok(l)) if l.contains("listening on") => break,
                Some(Ok(_)) => continue,
                other => panic!("tcpdump did not start: {other:?}"),
            }
        }
        // Its summary at exit must not meet a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Tcpdump(child)
    }

    /// What it captured (one line per packet).
    fn finish(self) -> String {
        let out = self.0.wait_with_output().expect("tcpdump output");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A Linux UDP socket on `local` that sends multicast out of the interface with that address.
fn multicast_client(local: Ipv4Addr) -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
    s.bind(&SocketAddr::from((local, 0)).into()).unwrap();
    s.set_multicast_if_v4(&local).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.into()
}

/// Sends `data` to `to` and returns the answer and its source (None: nothing in time).
fn ask(s: &UdpSocket, to: SocketAddrV4, data: &[u8]) -> Option<(Vec<u8>, SocketAddr)> {
    s.send_to(data, to).unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, from) = s.recv_from(&mut buf).ok()?;
    buf.truncate(n);
    Some((buf, from))
}

fn groups_shown(netcp: &common::Netcp) -> String {
    let shown = netcp.netcu_ok(&["show", "interface", "se0"]);
    shown
        .lines()
        .find(|l| l.contains("Multicast Groups"))
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_service_on_the_stack_answers_its_multicast_group() {
    require_root();
    let k = pid_tag();
    let tap = format!("maym{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let linux = Ipv4Addr::new(100, 125, k as u8, 1);
    let ours = Ipv4Addr::new(100, 125, k as u8, 2);
    let (g_echo, g_day) = (
        Ipv4Addr::new(239, 77, k as u8, 7),
        Ipv4Addr::new(239, 77, k as u8, 13),
    );
    let services = format!(
        "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
         multicast = [\"{g_echo}\"]\n\
         [[service]]\nname = \"daytime\"\nbuiltin = \"daytime\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
         multicast = [\"{g_day}%se0\"]\n"
    );
    // A persistent device, made here: netcp attaches to it, and it outlives netcp's exit, so
    // the capture of the leaves sent at shutdown does not end with "the interface disappeared"
    // before libpcap has read them (seen once under a full test run's load).
    sh_ok("ip", &["tuntap", "add", "dev", &tap, "mode", "tap"]);
    let mut netcp = start_netcp_with(
        "stack-mcast",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &services,
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);

    // Both groups are joined on se0 and shown there.
    let shown = groups_shown(&netcp);
    assert!(
        shown.contains(&g_echo.to_string()) && shown.contains(&g_day.to_string()),
        "SHOW INTERFACE se0: {shown:?}\n{}",
        netcp.stderr()
    );

    // Linux sends to each group; the answers come from the stack's unicast address.
    let client = multicast_client(linux);
    let (back, from) = ask(&client, SocketAddrV4::new(g_echo, 7), b"to the group\n")
        .unwrap_or_else(|| panic!("no echo to {g_echo}\n{}", netcp.stderr()));
    assert_eq!(back, b"to the group\n");
    assert_eq!(
        from,
        SocketAddr::from((ours, 7)),
        "never the group's address"
    );
    let (day, from) = ask(&client, SocketAddrV4::new(g_day, 13), b"x").expect("daytime");
    assert!(String::from_utf8_lossy(&day).contains("UTC"), "{day:?}");
    assert_eq!(from, SocketAddr::from((ours, 13)));
    // The unicast address still serves as before.
    let (back, _) = ask(&client, SocketAddrV4::new(ours, 7), b"unicast").expect("unicast echo");
    assert_eq!(back, b"unicast");

    // DISABLE SERVICE leaves the group (IGMP leave to 224.0.0.2 on the wire), ENABLE joins it
    // again (an unsolicited report at once). Separate captures: the second report of the joins
    // at start-up may still be due.
    let dump = Tcpdump::start(&tap, 1, "igmp and dst 224.0.0.2");
    netcp.netcu_ok(&["disable", "service", "echo"]);
    let seen = dump.finish();
    assert!(
        seen.contains(&format!("{ours} > 224.0.0.2"))
            && seen.contains(&format!("igmp leave {g_echo}")),
        "tcpdump saw:\n{seen}"
    );
    assert!(!groups_shown(&netcp).contains(&g_echo.to_string()));
    client
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(ask(&client, SocketAddrV4::new(g_echo, 7), b"gone?").is_none());
    let dump = Tcpdump::start(&tap, 1, &format!("igmp and dst {g_echo}"));
    netcp.netcu_ok(&["enable", "service", "echo"]);
    let seen = dump.finish();
    assert!(
        seen.contains(&format!("{ours} > {g_echo}"))
            && seen.contains(&format!("igmp v2 report {g_echo}")),
        "tcpdump saw:\n{seen}"
    );
    client
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let (back, _) = ask(&client, SocketAddrV4::new(g_echo, 7), b"back")
        .unwrap_or_else(|| panic!("no echo after ENABLE\n{}", netcp.stderr()));
    assert_eq!(back, b"back");

    // At shutdown every group is left before the TAP goes away.
    let dump = Tcpdump::start(&tap, 2, "igmp and dst 224.0.0.2");
    netcp.signal(libc::SIGTERM);
    assert!(
        netcp.wait_exit(Duration::from_secs(20)),
        "netcp did not stop"
    );
    let seen = dump.finish();
    for g in [g_echo, g_day] {
        assert!(
            seen.contains(&format!("igmp leave {g}")),
            "no leave of {g} at shutdown:\n{seen}\n{}",
            netcp.stderr()
        );
    }
}

/// A python3 client in namespace `ns`: sends to `group:port` out of the interface with address
/// `src` and prints "ADDRESS PORT ANSWER" (exits 1 with nothing in time).
fn ns_ask(ns: &str, group: Ipv4Addr, port: u16, src: Ipv4Addr) -> std::process::Output {
    const CLIENT: &str = "import socket, sys\n\
        g, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.bind((src, 0))\n\
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))\n\
        s.settimeout(3)\n\
        s.sendto(b'hello group', (g, port))\n\
        try:\n    data, peer = s.recvfrom(65535)\nexcept socket.timeout:\n    sys.exit(1)\n\
        print(peer[0], peer[1], data.decode(errors='replace').strip())\n";
    run_cmd(
        "ip",
        &[
            "netns",
            "exec",
            ns,
            "python3",
            "-c",
            CLIENT,
            &group.to_string(),
            &port.to_string(),
            &src.to_string(),
        ],
    )
}

fn host_joined(dev: &str, g: Ipv4Addr) -> bool {
    sh_ok("ip", &["maddr", "show", "dev", dev])
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some(g.to_string().as_str()))
}

#[test]
fn a_service_on_host_sockets_answers_its_multicast_group() {
    require_root();
    let pid = std::process::id();
    let k = pid_tag() as u8;
    let mut cleanup = Cleanup::default();
    let ns = format!("maynard-{pid}-m");
    let (root_end, ns_end) = (format!("mhr{pid}"), format!("mhn{pid}"));
    sh_ok("ip", &["netns", "add", &ns]);
    cleanup.namespaces.push(ns.clone());
    sh_ok(
        "ip",
        &[
            "link", "add", &root_end, "type", "veth", "peer", "name", &ns_end,
        ],
    );
    cleanup.links.push(root_end.clone());
    sh_ok("ip", &["link", "set", &ns_end, "netns", &ns]);
    let host = Ipv4Addr::new(100, 124, k, 1);
    let client = Ipv4Addr::new(100, 124, k, 2);
    sh_ok(
        "ip",
        &["addr", "add", &format!("{host}/24"), "dev", &root_end],
    );
    sh_ok("ip", &["link", "set", &root_end, "up"]);
    let client_cidr = format!("{client}/24");
    for args in [
        ["addr", "add", client_cidr.as_str(), "dev", ns_end.as_str()].as_slice(),
        &["link", "set", ns_end.as_str(), "up"],
        &["link", "set", "lo", "up"],
    ] {
        let mut a = vec!["netns", "exec", ns.as_str(), "ip"];
        a.extend_from_slice(args);
        sh_ok("ip", &a);
    }
    let (g_echo, g_day) = (Ipv4Addr::new(239, 78, k, 7), Ipv4Addr::new(239, 78, k, 13));
    let (echo_port, day_port) = (common::free_port(), common::free_port());
    // echo joins where it listens (the veth's address); daytime listens on loopback only and
    // joins on the veth by name.
    let services = format!(
        "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nprotocols = [\"udp\"]\nport = {echo_port}\n\
         listen = [\"{host}\"]\nmulticast = [\"{g_echo}\"]\n\
         [[service]]\nname = \"daytime\"\nbuiltin = \"daytime\"\nprotocols = [\"udp\"]\nport = {day_port}\n\
         listen = [\"127.0.0.1\"]\nmulticast = [\"{g_day}%{root_end}\"]\n"
    );
    let netcp = common::Netcp::start(
        "host-mcast",
        &format!("[netcp]\nlog_stderr = true\nhost_services = \"\"\n{services}"),
    );
    let shown = netcp.netcu_ok(&["show", "services"]);
    assert!(!shown.contains("failed"), "{shown}\n{}", netcp.stderr());
    assert!(host_joined(&root_end, g_echo), "echo's group on {root_end}");
    assert!(
        host_joined(&root_end, g_day),
        "daytime's group on {root_end}"
    );

    // From the namespace to each group: answered from the host's unicast address.
    let out = ns_ask(&ns, g_echo, echo_port, client);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{host} {echo_port} hello group"),
        "{out:?}\n{}",
        netcp.stderr()
    );
    let out = ns_ask(&ns, g_day, day_port, client);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("{host} {day_port} ")) && text.contains("UTC"),
        "{out:?}"
    );

    // Disabled live: the group is left and nothing answers; enabled: joined again.
    netcp.netcu_ok(&["disable", "service", "echo"]);
    assert!(!host_joined(&root_end, g_echo), "left at DISABLE");
    assert!(!ns_ask(&ns, g_echo, echo_port, client).status.success());
    netcp.netcu_ok(&["enable", "service", "echo"]);
    assert!(host_joined(&root_end, g_echo), "joined at ENABLE");
    let full = netcp.netcu_ok(&["show", "services", "echo", "/full"]);
    assert!(full.contains(&format!("{g_echo}:{echo_port}")), "{full}");
    // REMOVE SERVICE leaves too.
    netcp.netcu_ok(&["remove", "service", "daytime"]);
    assert!(!host_joined(&root_end, g_day), "left at REMOVE");

    // RELOAD with another group: the service's sockets reopen on the new one only.
    let g_new = Ipv4Addr::new(239, 79, k, 7);
    std::fs::write(
        netcp.dir.join("servers.toml"),
        format!(
            "[netcp]\nlog_stderr = true\nhost_services = \"\"\n\
             [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nprotocols = [\"udp\"]\nport = {echo_port}\n\
             listen = [\"{host}\"]\nmulticast = [\"{g_new}\"]\n"
        ),
    )
    .unwrap();
    netcp.netcu_ok(&["reload"]);
    assert!(
        !host_joined(&root_end, g_echo),
        "the old group is left at RELOAD"
    );
    assert!(
        host_joined(&root_end, g_new),
        "the new group is joined at RELOAD"
    );
    let out = ns_ask(&ns, g_new, echo_port, client);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{host} {echo_port} hello group"),
        "{out:?}"
    );

    // Validation: not a group, a TCP-only service.
    let out = netcp.netcu(&[
        "add",
        "service",
        "discard",
        "/multicast=10.1.2.3",
        &format!("/port={}", common::free_port()),
    ]);
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && text.contains("`10.1.2.3` is not a multicast address"),
        "{text}"
    );
    let out = netcp.netcu(&[
        "add",
        "service",
        "discard",
        "/protocol=tcp",
        &format!("/multicast={g_echo}"),
        &format!("/port={}", common::free_port()),
    ]);
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && text.contains("`multicast` applies to UDP"),
        "{text}"
    );
}
