//! Maynard's own stack inside netcp, against Linux's stack: netcp runs `network.toml`, Linux
//! pings it on a TAP device netcp made (plain and 4,000-byte fragmented pings), the stack pings
//! Linux, ARP entries appear in both tables, routes and ARP entries change live through netcu,
//! the interface counters grow; and, in network namespaces the test makes, the stack on AF_PACKET
//! forwards between two Linux hosts as their gateway.
//!
//! Needs root (TAP, namespaces), `ip` (iproute2) and `ping` (iputils-ping); fails loudly without.

mod common;

use std::process::Command;
use std::time::Duration;

use common::stack_env::*;
use common::*;
use control::protocol::{Request, Response, StackInterfaceChanges};

fn se0_counters(netcp: &Netcp) -> (u64, u64, u16) {
    match request(
        netcp,
        Request::ShowStackInterfaces {
            name: Some("se0".into()),
            statistics: true,
        },
    ) {
        Response::StackInterfaces { interfaces, .. } => {
            let i = interfaces.first().expect("se0");
            (i.counters.ipkts, i.counters.opkts, i.mtu)
        }
        other => panic!("SHOW INTERFACE se0: {other:?}"),
    }
}

#[test]
fn linux_and_the_stack_see_each_other_on_a_tap() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayt{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("198.18.{k}.1"), format!("198.18.{k}.2"));
    let netcp = start_netcp(
        "stack-tap",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);

    // Linux pings us; ARP entries appear on both sides.
    sh_ok("ping", &["-c", "3", "-W", "2", &ours]);
    let neigh = sh_ok("ip", &["neigh", "show", "dev", &tap]);
    assert!(
        neigh
            .lines()
            .any(|l| l.starts_with(&format!("{ours} lladdr"))),
        "Linux has no ARP entry for us:\n{neigh}"
    );
    let arp = netcp.netcu_ok(&["show", "arp"]);
    assert!(
        arp.lines().any(|l| l.starts_with(&format!("{linux} "))),
        "{arp}"
    );

    // A 4,000-byte ping is fragmented both ways and answered.
    let (in0, out0, _) = se0_counters(&netcp);
    sh_ok("ping", &["-c", "2", "-W", "2", "-s", "4000", &ours]);
    let (in1, out1, _) = se0_counters(&netcp);
    assert!(
        in1 >= in0 + 6 && out1 >= out0 + 6,
        "3 fragments each way per ping: in {in0}->{in1}, out {out0}->{out1}"
    );

    // The packet filter on the stack's own interface: the compiled classifier in the stack's
    // hook drops Linux's pings and refuses UDP, then /NOFILTER lets pings through again.
    let filter = netcp.dir.join("FILTER-se0.dat");
    std::fs::write(
        &filter,
        format!(
            "drop icmp 0/0 0/0 eq echo log\ndeny udp {linux}/32 {ours}/32\npermit ip 0/0 0/0\n"
        ),
    )
    .unwrap();
    netcp.netcu_ok(&[
        "set",
        "interface",
        "se0",
        &format!("/filter={}", filter.display()),
    ]);
    let out = run_cmd("ping", &["-c", "2", "-W", "1", &ours]);
    assert!(!out.status.success(), "pings must be dropped: {out:?}");
    let shown = netcp.netcu_ok(&["SHOW INTERFACE SE0/FILTER"]);
    let drop_row = shown
        .lines()
        .find(|l| l.contains("drop"))
        .unwrap_or_else(|| panic!("{shown}"));
    let cols: Vec<&str> = drop_row.split_whitespace().collect();
    assert!(cols[cols.len() - 2].parse::<u64>().unwrap() >= 2, "{shown}");
    netcp.netcu_ok(&["set", "interface", "se0", "/nofilter"]);
    sh_ok("ping", &["-c", "1", "-W", "2", &ours]);

    // We ping Linux, small and fragmented.
    let out = netcp.netcu_ok(&["ping", &linux, "/count=2"]);
    assert!(out.contains("2 packets received"), "{out}");
    let out = netcp.netcu_ok(&["ping", &linux, "--count", "1", "--size", "4000"]);
    assert!(out.contains(&format!("4000 bytes from {linux}")), "{out}");

    // Routes, live.
    netcp.netcu_ok(&[
        "set",
        "route",
        &format!("/add=(destination=10.{k}.0.0/16,gateway={linux})"),
    ]);
    netcp.netcu_ok(&["set", "route", "--add", "default", &linux]);
    let routes = netcp.netcu_ok(&["show", "route"]);
    assert!(
        routes
            .lines()
            .any(|l| l.starts_with(&format!("10.{k}.0.0/16")) && l.contains(&linux)),
        "{routes}"
    );
    assert!(
        routes
            .lines()
            .any(|l| l.starts_with("default") && l.contains("active")),
        "{routes}"
    );
    netcp.netcu_ok(&[
        "set",
        "route",
        &format!("/delete=(destination=10.{k}.0.0/16)"),
    ]);
    assert!(!netcp
        .netcu_ok(&["show", "route"])
        .contains(&format!("10.{k}.0.0/16")));

    // A published entry and a proxy entry: Linux learns them from our ARP answers.
    let published = format!("198.18.{k}.77");
    netcp.netcu_ok(&[
        "set",
        "arp",
        "/add",
        &published,
        "02:00:00:00:00:77",
        "/publish",
    ]);
    let _ = run_cmd("ping", &["-c", "1", "-W", "1", &published]); // nobody answers the echo
    let neigh = sh_ok("ip", &["neigh", "show", "dev", &tap]);
    assert!(
        neigh
            .lines()
            .any(|l| l.starts_with(&format!("{published} lladdr 02:00:00:00:00:77"))),
        "the published entry was not answered:\n{neigh}"
    );
    // A proxy entry answers with our own address for a host on no network of ours.
    let proxied = format!("10.{k}.5.5");
    sh_ok(
        "ip",
        &["route", "add", &format!("{proxied}/32"), "dev", &tap],
    );
    netcp.netcu_ok(&["set", "arp", "/add", &proxied, "/proxy"]);
    let _ = run_cmd("ping", &["-c", "1", "-W", "1", &proxied]);
    let neigh = sh_ok("ip", &["neigh", "show", "dev", &tap]);
    let ours_mac = neigh
        .lines()
        .find(|l| l.starts_with(&format!("{ours} ")))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_default()
        .to_string();
    assert!(
        !ours_mac.is_empty()
            && neigh
                .lines()
                .any(|l| l.starts_with(&format!("{proxied} lladdr {ours_mac}"))),
        "the proxy entry was not answered:\n{neigh}"
    );
    netcp.netcu_ok(&["set", "arp", "/delete", &proxied]);
    netcp.netcu_ok(&[
        "set",
        "arp",
        "/add",
        &format!("198.18.{k}.9"),
        "02:00:00:00:00:09",
        "/permanent",
    ]);
    let arp = netcp.netcu_ok(&["show", "arp"]);
    assert!(
        arp.lines()
            .any(|l| l.contains("02:00:00:00:00:09") && l.contains("permanent")),
        "{arp}"
    );
    netcp.netcu_ok(&["set", "arp", "/flush", "/permanent"]);

    // Kernel parameters, live.
    netcp.netcu_ok(&["set", "kernel", "gateway", "1"]);
    assert!(netcp
        .netcu_ok(&["show", "kernel"])
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["GATEWAY", "1"]));

    // SET INTERFACE: MTU and down/up, live.
    let set = |changes: StackInterfaceChanges| match request(
        &netcp,
        Request::SetStackInterface {
            name: "se0".into(),
            changes,
        },
    ) {
        Response::Ok { .. } => {}
        other => panic!("SET INTERFACE: {other:?}"),
    };
    set(StackInterfaceChanges {
        mtu: Some(1400),
        ..Default::default()
    });
    assert_eq!(se0_counters(&netcp).2, 1400);
    // The TAP device's Linux side follows, so both ends agree on the largest frame.
    let shown = sh_ok("ip", &["link", "show", &tap]);
    assert!(shown.contains("mtu 1400"), "{shown}");
    set(StackInterfaceChanges {
        up: Some(false),
        ..Default::default()
    });
    assert!(!run_cmd("ping", &["-c", "1", "-W", "1", &ours])
        .status
        .success());
    set(StackInterfaceChanges {
        up: Some(true),
        ..Default::default()
    });
    sh_ok("ping", &["-c", "1", "-W", "2", &ours]);
    drop(netcp);
    drop(cleanup);
}

fn ns(name: &str, args: &[&str]) -> String {
    let mut a = vec!["netns", "exec", name];
    a.extend_from_slice(args);
    sh_ok("ip", &a)
}

#[test]
fn the_stack_forwards_between_two_namespaces_on_af_packet() {
    require_root();
    let pid = std::process::id();
    let k = pid_tag();
    let mut cleanup = Cleanup::default();
    let (na, nb) = (format!("maynard-{pid}-a"), format!("maynard-{pid}-b"));
    // Root-side ends (the stack's links) and namespace ends.
    let (ra, rb) = (format!("mfa{pid}"), format!("mfb{pid}"));
    let (ia, ib) = (format!("mga{pid}"), format!("mgb{pid}"));
    for (n, r, i) in [(&na, &ra, &ia), (&nb, &rb, &ib)] {
        sh_ok("ip", &["netns", "add", n]);
        cleanup.namespaces.push(n.clone());
        sh_ok("ip", &["link", "add", r, "type", "veth", "peer", "name", i]);
        cleanup.links.push(r.clone());
        sh_ok("ip", &["link", "set", i, "netns", n]);
        sh_ok("ip", &["link", "set", r, "up"]);
        // The root namespace must not answer on these links.
        let _ = run_cmd(
            "sysctl",
            &["-qw", &format!("net.ipv6.conf.{r}.disable_ipv6=1")],
        );
    }
    let (a_host, a_gw) = (format!("10.{k}.1.1"), format!("10.{k}.1.2"));
    let (b_host, b_gw) = (format!("10.{k}.2.1"), format!("10.{k}.2.2"));
    ns(
        &na,
        &["ip", "addr", "add", &format!("{a_host}/24"), "dev", &ia],
    );
    ns(&na, &["ip", "link", "set", &ia, "up"]);
    ns(&na, &["ip", "route", "add", "default", "via", &a_gw]);
    ns(
        &nb,
        &["ip", "addr", "add", &format!("{b_host}/24"), "dev", &ib],
    );
    ns(&nb, &["ip", "link", "set", &ib, "up"]);
    ns(&nb, &["ip", "route", "add", "default", "via", &b_gw]);

    let netcp = start_netcp(
        "stack-fwd",
        &format!(
            "[kernel]\ngateway = true\n\n\
             [[interface]]\nname = \"se0\"\npacket = \"{ra}\"\naddress = \"{a_gw}/24\"\n\n\
             [[interface]]\nname = \"se1\"\npacket = \"{rb}\"\naddress = \"{b_gw}/24\"\n"
        ),
    );
    wait_for("the stack", 10, || {
        netcp.netcu(&["show", "route"]).status.success()
    });
    // Each host reaches its gateway (the stack), then the other host through it.
    wait_for("the gateway to answer", 10, || {
        run_cmd(
            "ip",
            &["netns", "exec", &na, "ping", "-c", "1", "-W", "1", &a_gw],
        )
        .status
        .success()
    });
    ns(&na, &["ping", "-c", "3", "-W", "2", &b_host]);
    ns(&nb, &["ping", "-c", "2", "-W", "2", "-s", "4000", &a_host]);
    let routes = netcp.netcu_ok(&["show", "route"]);
    assert!(routes.contains(&format!("10.{k}.2.0/24")), "{routes}");
    let arp = netcp.netcu_ok(&["show", "arp"]);
    assert!(arp.contains(&a_host) && arp.contains(&b_host), "{arp}");

    // With forwarding off, the hosts cannot reach each other any more.
    netcp.netcu_ok(&["set", "kernel", "gateway", "0"]);
    let out = run_cmd(
        "ip",
        &["netns", "exec", &na, "ping", "-c", "1", "-W", "1", &b_host],
    );
    assert!(!out.status.success(), "forwarded with GATEWAY 0");
    drop(netcp);
    drop(cleanup);
}

#[test]
fn a_dead_default_gateway_gives_way_to_the_next() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayg{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours, nobody) = (
        format!("198.19.{k}.1"),
        format!("198.19.{k}.2"),
        format!("198.19.{k}.5"),
    );
    let far = format!("10.{k}.9.9");
    // Two default gateways: the first is nobody, the second Linux.
    let netcp = start_netcp(
        "stack-gw",
        &format!(
            "[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n\n\
             [[route]]\ndestination = \"default\"\ngateway = \"{nobody}\"\n\n\
             [[route]]\ndestination = \"default\"\ngateway = \"{linux}\"\n"
        ),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    // Linux owns `far` too, so it answers echoes that reach it through the second gateway.
    sh_ok("ip", &["addr", "add", &format!("{far}/32"), "dev", &tap]);
    let routes = netcp.netcu_ok(&["show", "route"]);
    assert!(
        routes
            .lines()
            .any(|l| l.starts_with("default") && l.contains(&nobody) && l.contains("active")),
        "{routes}"
    );
    // ARP for the first gateway fails (3 requests a second apart); the queued echo goes on
    // through the second, and so does everything after it.
    let out = netcp.netcu(&["ping", &far, "/count=6"]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains(&format!("bytes from {far}")), "{text}");
    let routes = netcp.netcu_ok(&["show", "route"]);
    assert!(
        routes
            .lines()
            .any(|l| l.starts_with("default") && l.contains(&nobody) && l.contains("dead")),
        "{routes}"
    );
    assert!(
        routes
            .lines()
            .any(|l| l.starts_with("default") && l.contains(&linux) && l.contains("active")),
        "{routes}"
    );
    let out = netcp.netcu_ok(&["ping", &far, "/count=2"]);
    assert!(out.contains("2 packets received"), "{out}");
    wait_for("the log line", 5, || {
        netcp.stderr().contains(&format!(
            "event=stack-gateway-dead gateway={nobody} next={linux}"
        ))
    });
    drop(netcp);
    drop(cleanup);
}

/// A UDP socket of Linux's bound to `local`, with a read timeout.
fn linux_udp(local: &str) -> std::net::UdpSocket {
    let s = std::net::UdpSocket::bind(format!("{local}:0")).expect("bind a Linux UDP socket");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s
}

/// Sends `data` to `to` and returns the answer and who sent it (None: no answer in time).
fn udp_exchange(
    s: &std::net::UdpSocket,
    to: &str,
    data: &[u8],
) -> Option<(Vec<u8>, std::net::SocketAddr)> {
    s.send_to(data, to).unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, from) = s.recv_from(&mut buf).ok()?;
    buf.truncate(n);
    Some((buf, from))
}

#[test]
fn udp_services_on_the_stack_answer_linux() {
    require_root();
    // A subnet of its own: the other TAP tests run in parallel on 198.18.{k}.0/24.
    let k = pid_tag();
    let tap = format!("mayu{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.127.{k}.1"), format!("100.127.{k}.2"));
    let barred = format!("100.127.{k}.9");
    let services = format!(
        "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
         access = [\"reject {barred}\", \"accept 0/0\"]\n\
         [[service]]\nname = \"daytime\"\nbuiltin = \"daytime\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
         [[service]]\nname = \"time\"\nbuiltin = \"time\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
         [[service]]\nname = \"qotd\"\nbuiltin = \"qotd\"\nlisten = [\"{ours}\"]\n"
    );
    let netcp = start_netcp_with(
        "stack-udp",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &services,
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    sh_ok("ip", &["addr", "add", &format!("{barred}/24"), "dev", &tap]);

    // echo, daytime and time answer from the stack's address (the stack's send path).
    let s = linux_udp(&linux);
    let (back, from) = udp_exchange(&s, &format!("{ours}:7"), b"over the stack\n")
        .unwrap_or_else(|| panic!("no echo from the stack\n{}", netcp.stderr()));
    assert_eq!(back, b"over the stack\n");
    assert_eq!(from.to_string(), format!("{ours}:7"));
    let big = vec![0x5a; 3000]; // fragmented both ways
    let (back, _) = udp_exchange(&s, &format!("{ours}:7"), &big).expect("a fragmented echo");
    assert!(back == big, "{} bytes back of {}", back.len(), big.len());
    let (day, _) = udp_exchange(&s, &format!("{ours}:13"), b"x").expect("daytime");
    assert!(String::from_utf8_lossy(&day).contains("UTC"), "{day:?}");
    let (time, _) = udp_exchange(&s, &format!("{ours}:37"), b"").expect("time");
    assert_eq!(time.len(), 4);
    let secs = u32::from_be_bytes([time[0], time[1], time[2], time[3]]);
    assert!(secs > 3_900_000_000, "RFC 868 time: {secs}");
    // netcat-openbsd, a client no one here wrote.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf 'nc\\n' | nc -u -w1 -s {linux} {ours} 7"))
        .output()
        .expect("run nc (netcat-openbsd)");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "nc\n", "{out:?}");

    // The access list applies: a barred source gets nothing and is counted as refused.
    let b = linux_udp(&barred);
    assert!(udp_exchange(&b, &format!("{ours}:7"), b"let me in").is_none());
    let c = netcp.counters("echo");
    assert_eq!(c[0], "echo", "{c:?}");
    assert!(c[1].parse::<u64>().unwrap() >= 3, "accepted: {c:?}");
    assert!(c[2].parse::<u64>().unwrap() >= 1, "refused: {c:?}");
    assert!(c[6].parse::<u64>().unwrap() >= 3018, "bytes in: {c:?}");
    assert!(c[7].parse::<u64>().unwrap() >= 3018, "bytes out: {c:?}");

    // A broadcast to the subnet reaches echo, answered from our unicast address.
    s.set_broadcast(true).unwrap();
    let (back, from) = udp_exchange(&s, &format!("100.127.{k}.255:7"), b"anyone?")
        .unwrap_or_else(|| panic!("no answer to a broadcast\n{}", netcp.stderr()));
    assert_eq!(back, b"anyone?");
    assert_eq!(from.to_string(), format!("{ours}:7"));

    // qotd listens on TCP and UDP: both serve on the stack.
    let shown = netcp.netcu_ok(&["show", "services"]);
    assert!(!shown.contains("failed"), "{shown}");
    let quote = Command::new("nc")
        .args(["-w3", "-s", &linux, &ours, "17"])
        .output()
        .expect("nc qotd");
    assert!(!quote.stdout.is_empty(), "no quote over TCP: {quote:?}");
    let detail = netcp.netcu_ok(&["show", "services", "echo", "/full"]);
    assert!(detail.contains(&format!("{ours}:7")), "{detail}");

    // STOP SERVICE closes the stack's socket (the port is unreachable), START binds it again.
    netcp.netcu_ok(&["stop", "service", "echo"]);
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(udp_exchange(&s, &format!("{ours}:7"), b"closed?").is_none());
    netcp.netcu_ok(&["start", "service", "echo"]);
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let (back, _) = udp_exchange(&s, &format!("{ours}:7"), b"again")
        .unwrap_or_else(|| panic!("no echo after START SERVICE\n{}", netcp.stderr()));
    assert_eq!(back, b"again");
}

/// Live capture (`netcu dump se0`) through the stack's capture hook: Linux pings the stack while
/// netcu captures; the ARP and ICMP exchange is decoded, written to a pcap tcpdump reads, and an
/// interface the stack lacks is refused.
#[test]
fn netcu_dumps_the_stacks_interface_live() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayd{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.126.{k}.1"), format!("100.126.{k}.2"));
    let netcp = start_netcp(
        "stack-dump",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    // No IPv6 chatter (router solicitations, MLD) to take the frames the count allows.
    let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{tap}/disable_ipv6"), "1\n");
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);

    let pcap = netcp.dir.join("live.pcap");
    let child = Command::new(netcu_path())
        .arg("--socket")
        .arg(&netcp.socket)
        .args(["dump", "SE0", "/count=6", "/seconds=20"])
        .arg(format!("/write={}", pcap.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run netcu");
    wait_for("the capture to open", 10, || {
        netcp.stderr().contains("request=Capture")
    });
    std::thread::sleep(Duration::from_millis(300));
    sh_ok("ping", &["-c", "3", "-W", "2", &ours]);
    let out = child.wait_with_output().expect("netcu dump");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "netcu dump se0 failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.contains("echo request") || text.contains("who-has"),
        "no ARP or ICMP echo in the capture:\n{text}"
    );
    assert!(text.contains("echo reply"), "{text}");
    let read = sh_ok("tcpdump", &["-n", "-r", &pcap.display().to_string()]);
    assert_eq!(read.lines().count(), 6, "{read}");
    assert!(read.contains("ICMP echo"), "{read}");

    // /SECONDS ends a quiet capture; an unknown interface is refused clearly.
    let out = netcp.netcu(&["dump", "se0", "/seconds=1", "icmp"]);
    assert!(out.status.success(), "{out:?}");
    let out = netcp.netcu(&["dump", "se9", "/count=1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no interface se9"), "{err}");
    drop(netcp);
    drop(cleanup);
}

/// NETCONFIG's verbs on network.toml, applied live: ADD an interface on a new TAP and Linux pings
/// it; the file keeps its comments; MODIFY moves its address; a bad change is refused with the
/// file untouched; DISABLE takes it off the stack (its TAP goes); DELETE takes it out of the
/// file; a RELOAD after editing network.toml by hand brings a new pd interface live.
#[test]
fn netconfig_verbs_change_the_file_and_the_running_stack() {
    require_root();
    let k = pid_tag();
    let pid = std::process::id();
    let (tap0, tap1) = (format!("mayc{pid}"), format!("maye{pid}"));
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap0.clone());
    cleanup.links.push(tap1.clone());
    let net = format!("100.125.{k}");
    let network = format!(
        "# the test's stack\n[kernel]\ngateway = false # a host\n\n\
         # the first link\n[[interface]]\nname = \"se0\"\ntap = \"{tap0}\" # made by netcp\n\
         address = \"{net}.2/26\"\n"
    );
    let netcp = start_netcp("stack-netconfig", &network);
    let file = netcp.dir.join("network.toml");
    wait_for("the first TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap0]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{net}.1/26"), "dev", &tap0]);

    // ADD se1 on a new TAP: saved with the comments kept, and live.
    let out = netcp.netcu_ok(&[&format!(
        "NETCONFIG ADD INTERFACE se1 /TAP={tap1} /ADDRESS={net}.66/26 /MTU=1400"
    )]);
    assert!(out.contains("se1 added"), "{out}");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.starts_with("# the test's stack\n"), "{saved}");
    assert!(saved.contains("gateway = false # a host"), "{saved}");
    assert!(saved.contains("# made by netcp"), "{saved}");
    assert!(saved.contains("name = \"se1\""), "{saved}");
    assert!(
        saved.contains(&format!("address = \"{net}.66/26\"")),
        "{saved}"
    );
    wait_for("the new TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap1]).status.success()
    });
    sh_ok(
        "ip",
        &["addr", "add", &format!("{net}.65/26"), "dev", &tap1],
    );
    sh_ok("ping", &["-c", "2", "-W", "2", &format!("{net}.66")]);
    let shown = netcp.netcu_ok(&["netconfig show interface se1"]);
    assert!(shown.contains(&format!("tap {tap1}")), "{shown}");
    let live = netcp.netcu_ok(&["show interface se1"]);
    assert!(live.contains("1400"), "{live}");

    // MODIFY: the address moves, the TAP stays.
    netcp.netcu_ok(&[&format!("NETCONFIG MODIFY se1 /ADDRESS={net}.70/26")]);
    sh_ok("ping", &["-c", "2", "-W", "2", &format!("{net}.70")]);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.contains(&format!("address = \"{net}.70/26\"")),
        "{saved}"
    );

    // A bad change is refused: the file is byte for byte as it was, the stack unchanged.
    let before = std::fs::read(&file).unwrap();
    let out = netcp.netcu(&["NETCONFIG MODIFY se1 /ADDRESS=300.1.1.1/26"]);
    assert!(!out.status.success(), "{out:?}");
    let out = netcp.netcu(&[&format!(
        "NETCONFIG ADD pd3 /PARENT=se7 /ADDRESS={net}.9/26"
    )]);
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    sh_ok("ping", &["-c", "1", "-W", "2", &format!("{net}.70")]);

    // ROUTE, ARP and KERNEL: saved and live.
    netcp.netcu_ok(&[&format!(
        "NETCONFIG ROUTE /ADD=(DESTINATION=10.77.0.0/16,GATEWAY={net}.1)"
    )]);
    netcp.netcu_ok(&[&format!(
        "NETCONFIG ARP /ADD {net}.9 02:00:00:00:00:99 /PERMANENT"
    )]);
    netcp.netcu_ok(&["NETCONFIG KERNEL GATEWAY 1"]);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("destination = \"10.77.0.0/16\""), "{saved}");
    assert!(saved.contains("mac = \"02:00:00:00:00:99\""), "{saved}");
    assert!(saved.contains("gateway = true # a host"), "{saved}");
    let routes = netcp.netcu_ok(&["show route"]);
    assert!(routes.contains("10.77.0.0"), "{routes}");
    let arp = netcp.netcu_ok(&["show arp"]);
    assert!(arp.contains("02:00:00:00:00:99"), "{arp}");
    assert!(netcp
        .netcu_ok(&["show kernel"])
        .contains("GATEWAY          1"));
    let refused = netcp.netcu(&["NETCONFIG KERNEL TCP_SACK 0"]);
    assert!(!refused.status.success(), "{refused:?}");
    netcp.netcu_ok(&["NETCONFIG ROUTE /DELETE=(DESTINATION=10.77.0.0/16)"]);
    netcp.netcu_ok(&[&format!("NETCONFIG ARP /DELETE {net}.9")]);
    netcp.netcu_ok(&["NETCONFIG KERNEL GATEWAY 0"]);
    assert!(!netcp.netcu_ok(&["show route"]).contains("10.77.0.0"));
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        !saved.contains("[[route]]") && !saved.contains("[[arp]]"),
        "{saved}"
    );

    // CHECK validates the file as saved.
    let check = netcp.netcu_ok(&["netconfig check"]);
    assert!(check.contains("valid, 2 interfaces"), "{check}");

    // DISABLE: off the live stack (its TAP closes and Linux's device goes), kept in the file.
    netcp.netcu_ok(&["NETCONFIG DISABLE INTERFACE se1"]);
    let out = netcp.netcu(&["show interface se1"]);
    assert!(!out.status.success(), "{out:?}");
    wait_for("the TAP device to go", 10, || {
        !run_cmd("ip", &["link", "show", &tap1]).status.success()
    });
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("enabled = false"), "{saved}");

    // DELETE: out of the file.
    netcp.netcu_ok(&["NETCONFIG DELETE se1"]);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(!saved.contains("se1"), "{saved}");
    assert!(saved.contains("# the first link"), "{saved}");

    // Edited by hand, then RELOAD: a pd on se0 comes live.
    let out = run_cmd("ping", &["-c", "1", "-W", "1", &format!("{net}.10")]);
    assert!(!out.status.success(), "nobody answers yet: {out:?}");
    std::fs::write(
        &file,
        format!(
            "{saved}\n[[interface]]\nname = \"pd0\"\nparent = \"se0\"\naddress = \"{net}.10/26\"\n"
        ),
    )
    .unwrap();
    let out = netcp.netcu_ok(&["reload"]);
    assert!(out.contains("pd0 added"), "{out}");
    sh_ok("ping", &["-c", "2", "-W", "2", &format!("{net}.10")]);
    sh_ok("ping", &["-c", "1", "-W", "2", &format!("{net}.2")]);

    // And SIGHUP: pd0 edited out again, it leaves the stack.
    std::fs::write(&file, &saved).unwrap();
    netcp.signal(libc::SIGHUP);
    wait_for("pd0 to leave the stack", 10, || {
        !netcp.netcu_ok(&["show interface"]).contains("pd0")
    });
    sh_ok("ping", &["-c", "1", "-W", "2", &format!("{net}.2")]);
}
