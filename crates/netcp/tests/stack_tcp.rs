//! TCP on Maynard's stack inside netcp, against Linux's TCP: netcp's built-in and external
//! services serve on a stack interface (echo, chargen, daytime, discard, an external program
//! bridged to its stdin/stdout) to Linux clients (`nc` and std's TcpStream); transfers keep every
//! byte (checked with a running hash at both ends) on a clean link and through a lossy bridge
//! that drops, delays, reorders and duplicates frames; 1,000 connections at once; path MTU
//! discovery behind a 1280-byte hop; a SYN flood while a transfer runs. SHOW CONNECTIONS /STACK,
//! SHOW KERNEL and SET KERNEL are checked along the way.
//!
//! Needs root (TAP, AF_PACKET, namespaces), iproute2, netcat-openbsd, hping3.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::impair::{bridge, Impairment};
use common::stack_env::*;
use common::*;

/// An FNV-1a running hash: both ends compute it over the bytes they saw.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Deterministic pseudo-random bytes.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Sends `total` bytes to an echo server at `addr` (from `local`) while reading them back;
/// returns (hash sent, hash received, bytes received, elapsed).
fn echo_transfer(local: &str, addr: SocketAddr, total: usize) -> (u64, u64, usize, Duration) {
    let start = Instant::now();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&SocketAddr::new(local.parse().unwrap(), 0).into())
        .unwrap();
    sock.connect_timeout(&addr.into(), Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    let stream: TcpStream = sock.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let chunk = pattern(0x1234_5678, 64 * 1024);
        let mut h = Fnv::new();
        let mut sent = 0usize;
        while sent < total {
            let n = chunk.len().min(total - sent);
            // Vary the bytes per chunk so a misplaced chunk changes the hash.
            let mut c = chunk[..n].to_vec();
            c[0] = (sent / chunk.len()) as u8;
            writer.write_all(&c).expect("write to echo");
            h.update(&c);
            sent += n;
        }
        let _ = writer.shutdown(std::net::Shutdown::Write);
        h.0
    });
    let mut reader = stream;
    let mut h = Fnv::new();
    let mut got = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                got += n;
            }
            Err(e) => panic!("read from echo after {got} of {total} bytes: {e}"),
        }
    }
    let sent = sender.join().expect("sender");
    (sent, h.0, got, start.elapsed())
}

/// netcp on a TAP with `services` served at `ours`; Linux gets `linux` on the TAP.
fn tap_netcp(tag: &str, tap: &str, linux: &str, ours: &str, services: &str) -> Netcp {
    tap_netcp_with(tag, tap, linux, ours, services, "")
}

/// As [`tap_netcp`], with more settings for se0 in network.toml.
fn tap_netcp_with(
    tag: &str,
    tap: &str,
    linux: &str,
    ours: &str,
    services: &str,
    se0: &str,
) -> Netcp {
    let netcp = start_netcp_with(
        tag,
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n{se0}"),
        services,
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", tap]).status.success()
    });
    if !linux.is_empty() {
        sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", tap]);
    }
    netcp
}

fn service(name: &str, builtin: &str, ours: &str, extra: &str) -> String {
    format!(
        "[[service]]\nname = \"{name}\"\nbuiltin = \"{builtin}\"\nprotocols = [\"tcp\"]\nlisten = [\"{ours}\"]\n{extra}"
    )
}

#[test]
fn tcp_services_on_the_stack_serve_linux() {
    require_root();
    let k = pid_tag();
    let tap = format!("mytc{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.124.{k}.1"), format!("100.124.{k}.2"));
    let barred = format!("100.124.{k}.9");
    let services = [
        service(
            "echo",
            "echo",
            &ours,
            &format!("access = [\"reject {barred}\", \"accept 0/0\"]\n"),
        ),
        service("discard", "discard", &ours, ""),
        service("chargen", "chargen", &ours, ""),
        service("daytime", "daytime", &ours, ""),
        format!(
            "[[service]]\nname = \"upper\"\nprogram = \"/usr/bin/tr\"\narguments = [\"a-z\", \"A-Z\"]\n\
             port = 5555\nprotocols = [\"tcp\"]\nlisten = [\"{ours}\"]\n"
        ),
    ]
    .concat();
    let netcp = tap_netcp("stack-tcp", &tap, &linux, &ours, &services);
    sh_ok("ip", &["addr", "add", &format!("{barred}/24"), "dev", &tap]);

    // netcat-openbsd, a client no one here wrote, through Maynard's TCP.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'over tcp\\n' | nc -N -w5 -s {linux} {ours} 7"
        ))
        .output()
        .expect("run nc (netcat-openbsd)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "over tcp\n",
        "{out:?}\n{}",
        netcp.stderr()
    );
    let day = std::process::Command::new("nc")
        .args(["-w5", "-s", &linux, &ours, "13"])
        .output()
        .expect("nc daytime");
    assert!(
        String::from_utf8_lossy(&day.stdout).contains("UTC"),
        "{day:?}"
    );
    // chargen: the RFC 864 pattern's first line.
    let mut c = connect(format!("{ours}:19").parse().unwrap());
    let mut first = [0u8; 74];
    c.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b" !\"#$%&'()*+,-./0123"), "{first:?}");
    drop(c);
    // An external program, its stdin and stdout joined to the stack's connection.
    let up = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'shout\\n' | nc -N -w5 -s {linux} {ours} 5555"
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&up.stdout), "SHOUT\n", "{up:?}");

    // A gigabyte through echo keeps every byte, both ways (TSO and GRO on the TAP).
    let (sent, got, n, took) = echo_transfer(&linux, format!("{ours}:7").parse().unwrap(), 1 << 30);
    assert_eq!(n, 1 << 30, "echoed bytes");
    assert_eq!(sent, got, "the echoed bytes differ from those sent");
    eprintln!("1 GiB echoed in {took:?}");

    // Access rules: a barred source is refused (connection closed at once), and counted.
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::new(barred.parse().unwrap(), 0).into())
        .unwrap();
    s.connect_timeout(
        &format!("{ours}:7").parse::<SocketAddr>().unwrap().into(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(was_refused(s.into()), "a barred source was served");
    let c = netcp.counters("echo");
    assert!(c[2].parse::<u64>().unwrap() >= 1, "refused: {c:?}");

    // SHOW CONNECTIONS /STACK: listeners and a live connection with ss -ti's details.
    let mut live = connect(format!("{ours}:9").parse().unwrap());
    live.write_all(b"held open").unwrap();
    // Linux's connect returns on the SYN-ACK; the stack sees the handshake's last ACK a moment
    // later (on a busy machine, after the first SHOW).
    let mut shown = String::new();
    wait_for("the live connection ESTABLISHED", 10, || {
        shown = netcp.netcu_ok(&["show", "connections", "/stack", "/full"]);
        shown.contains("ESTABLISHED")
    });
    assert!(shown.contains("LISTEN"), "{shown}");
    assert!(shown.contains(&format!("{ours}:7")), "{shown}");
    assert!(shown.contains("ESTABLISHED"), "{shown}");
    assert!(shown.contains("cwnd:") && shown.contains("rtt:"), "{shown}");
    drop(live);

    // SHOW KERNEL: TCP-MIB counters moved; SET KERNEL changes a tunable live.
    let kernel = netcp.netcu_ok(&["show", "kernel"]);
    let passive: u64 = kernel
        .lines()
        .find_map(|l| l.trim().strip_prefix("tcpPassiveOpens"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{kernel}"));
    assert!(passive >= 6, "tcpPassiveOpens {passive}\n{kernel}");
    assert!(kernel.contains("TCP_CONGESTION"), "{kernel}");
    let stats = netcp.netcu_ok(&["show", "statistics"]);
    assert!(
        stats.contains("TCP:") && stats.contains("tcpInSegs"),
        "{stats}"
    );
    netcp.netcu_ok(&["set", "kernel", "tcp_congestion", "newreno"]);
    let kernel = netcp.netcu_ok(&["show", "kernel"]);
    assert!(
        kernel
            .lines()
            .any(|l| l.starts_with("TCP_CONGESTION") && l.contains("newreno")),
        "{kernel}"
    );
    let bad = netcp.netcu(&["set", "kernel", "tcp_sendspace", "12"]);
    assert!(!bad.status.success(), "a 12-byte send buffer was accepted");
    // A new connection takes NewReno.
    let (sent, got, _, _) = echo_transfer(&linux, format!("{ours}:7").parse().unwrap(), 4 << 20);
    assert_eq!(sent, got);

    // STOP SERVICE closes the stack's listener: the port refuses; START listens again.
    netcp.netcu_ok(&["stop", "service", "echo"]);
    let refused = TcpStream::connect_timeout(
        &format!("{ours}:7").parse().unwrap(),
        Duration::from_secs(3),
    );
    assert!(refused.is_err(), "echo still accepts after STOP SERVICE");
    netcp.netcu_ok(&["start", "service", "echo"]);
    let (sent, got, _, _) = echo_transfer(&linux, format!("{ours}:7").parse().unwrap(), 1 << 20);
    assert_eq!(sent, got);
}

/// Every byte survives a link that loses 1% of frames, delays them 20 ms with 5 ms of jitter
/// (which reorders them) and duplicates 1%, in both directions, with both congestion controls.
#[test]
fn transfers_survive_loss_delay_reordering_and_duplication() {
    require_root();
    let k = pid_tag();
    let pid = std::process::id();
    let (tap, va, vb) = (
        format!("mytl{pid}"),
        format!("mya{pid}"),
        format!("myb{pid}"),
    );
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    cleanup.links.push(va.clone());
    let (linux, ours) = (format!("100.123.{k}.1"), format!("100.123.{k}.2"));
    let services = service("echo", "echo", &ours, "");
    // The bridge reads the TAP device as raw frames: no TSO super-segments on it (the stack's
    // own tests cover TSO under loss against Linux).
    let netcp = tap_netcp_with(
        "stack-tcp-loss",
        &tap,
        "",
        &ours,
        &services,
        "offload = false\n",
    );
    // Linux's end is vb; the bridge joins va (vb's peer) and the TAP, impairing both ways.
    sh_ok(
        "ip",
        &["link", "add", &va, "type", "veth", "peer", "name", &vb],
    );
    for l in [&tap, &va, &vb] {
        let _ = run_cmd(
            "sysctl",
            &["-qw", &format!("net.ipv6.conf.{l}.disable_ipv6=1")],
        );
        sh_ok("ip", &["link", "set", l, "up"]);
    }
    // Linux would hand the bridge 64 KB TSO super-frames, which no Ethernet carries: segments of
    // one MSS each, as on a real NIC's wire (this kernel's veth has no ethtool here to turn TSO off).
    sh_ok(
        "ip",
        &[
            "link",
            "set",
            &vb,
            "gso_max_size",
            "1500",
            "gso_max_segs",
            "1",
        ],
    );
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &vb]);
    let b = bridge(
        &tap,
        &va,
        Impairment {
            loss_ppm: 10_000,
            duplicate_ppm: 10_000,
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(5),
        },
    );
    for cc in ["cubic", "newreno"] {
        netcp.netcu_ok(&["set", "kernel", "tcp_congestion", cc]);
        let target: SocketAddr = format!("{ours}:7").parse().unwrap();
        let (sent, got, n, took) = echo_transfer(&linux, target, 4 << 20);
        assert_eq!(n, 4 << 20, "{cc}: echoed bytes\n{}", netcp.stderr());
        assert_eq!(sent, got, "{cc}: the echoed bytes differ");
        eprintln!("{cc}: 4 MiB each way through loss in {took:?}");
    }
    let dropped = b.stats.dropped.load(std::sync::atomic::Ordering::Relaxed);
    let duplicated = b
        .stats
        .duplicated
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        dropped > 50 && duplicated > 50,
        "{dropped} dropped, {duplicated} duplicated"
    );
    let kernel = netcp.netcu_ok(&["show", "kernel"]);
    let retrans: u64 = kernel
        .lines()
        .find_map(|l| l.trim().strip_prefix("tcpRetransSegs"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{kernel}"));
    assert!(
        retrans > 0,
        "no retransmissions through a lossy link?\n{kernel}"
    );
}

/// 1,000 Linux connections open at once to the stack's echo, each answered.
#[test]
fn a_thousand_concurrent_connections() {
    require_root();
    let k = pid_tag();
    let tap = format!("mytk{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.120.{k}.1"), format!("100.120.{k}.2"));
    let netcp = tap_netcp(
        "stack-tcp-1000",
        &tap,
        &linux,
        &ours,
        &service("echo", "echo", &ours, "max_connections = 2000\n"),
    );
    let addr: SocketAddr = format!("{ours}:7").parse().unwrap();
    let mut conns = Vec::new();
    for i in 0..1000 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.bind(&SocketAddr::new(linux.parse().unwrap(), 0).into())
            .unwrap();
        s.connect_timeout(&addr.into(), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("connection {i}: {e}\n{}", netcp.stderr()));
        let s: TcpStream = s.into();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        conns.push(s);
    }
    let shown = netcp.netcu_ok(&["show", "connections", "/stack"]);
    let established = shown.lines().filter(|l| l.contains("ESTABLISHED")).count();
    assert!(established >= 1000, "{established} established");
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(format!("line {i}\n").as_bytes()).unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        let want = format!("line {i}\n");
        let mut got = vec![0u8; want.len()];
        s.read_exact(&mut got)
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        assert_eq!(got, want.as_bytes());
    }
    drop(conns);
    wait_for("the connections to close", 20, || {
        let shown = netcp.netcu_ok(&["show", "connections", "/stack"]);
        !shown.contains("ESTABLISHED")
    });
}

/// Runs `f` on a thread inside the network namespace `ns`.
fn in_netns<R: Send>(ns: &str, f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(format!("/var/run/netns/{ns}")).expect("netns file");
            // SAFETY: setns on this thread only, with a descriptor that stays open.
            let rc =
                unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("netns thread")
    })
}

/// A client behind a 1280-byte hop fetches through the stack's echo: the stack's 1460-byte
/// segments meet the hop, the router answers "fragmentation needed", and the stack lowers its
/// segment size (RFC 1191) instead of stalling.
#[test]
fn path_mtu_discovery_through_a_1280_byte_hop() {
    require_root();
    let k = pid_tag();
    let pid = std::process::id();
    let tap = format!("mytp{pid}");
    let (r, m, c) = (
        format!("myr{pid}"),
        format!("mym{pid}"),
        format!("myc{pid}"),
    );
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    cleanup.namespaces.extend([r.clone(), m.clone(), c.clone()]);
    let ours = format!("100.122.{k}.2");
    let netcp = tap_netcp(
        "stack-tcp-pmtu",
        &tap,
        "",
        &ours,
        &service("echo", "echo", &ours, ""),
    );
    netcp.netcu_ok(&[
        "set",
        "route",
        &format!("/add=(destination=100.121.{k}.0/24,gateway=100.122.{k}.1)"),
    ]);
    for n in [&r, &m, &c] {
        sh_ok("ip", &["netns", "add", n]);
    }
    // R: the TAP (1500) and a 1280 link to M; M: that link and a 1500 link to C.
    sh_ok("ip", &["link", "set", &tap, "netns", &r]);
    sh_ok(
        "ip",
        &[
            "-n", &r, "link", "add", "rm", "mtu", "1280", "type", "veth", "peer", "name", "mr",
            "netns", &m, "mtu", "1280",
        ],
    );
    sh_ok(
        "ip",
        &[
            "-n", &m, "link", "add", "mc", "type", "veth", "peer", "name", "cm", "netns", &c,
        ],
    );
    let cmds: Vec<(String, Vec<String>)> = vec![
        (
            r.clone(),
            vec![
                "addr add 100.122.K.1/24 dev TAP".into(),
                "addr add 100.121.K.1/30 dev rm".into(),
                "link set TAP up".into(),
                "link set rm up".into(),
                "route add 100.121.K.0/24 via 100.121.K.2".into(),
            ],
        ),
        (
            m.clone(),
            vec![
                "addr add 100.121.K.2/30 dev mr".into(),
                "addr add 100.121.K.5/30 dev mc".into(),
                "link set mr up".into(),
                "link set mc up".into(),
                "route add default via 100.121.K.1".into(),
            ],
        ),
        (
            c.clone(),
            vec![
                "addr add 100.121.K.6/30 dev cm".into(),
                "link set cm up".into(),
                "route add default via 100.121.K.5".into(),
            ],
        ),
    ];
    for (ns, list) in &cmds {
        for cmd in list {
            let cmd = cmd.replace('K', &k.to_string()).replace("TAP", &tap);
            let mut args = vec!["-n", ns.as_str()];
            args.extend(cmd.split_whitespace());
            sh_ok("ip", &args);
        }
    }
    for ns in [&r, &m] {
        sh_ok(
            "ip",
            &[
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ],
        );
    }
    let client = format!("100.121.{k}.6");
    let target: SocketAddr = format!("{ours}:7").parse().unwrap();
    let (sent, got, n, _) = in_netns(&c, || echo_transfer(&client, target, 4 << 20));
    assert_eq!(n, 4 << 20, "echoed bytes\n{}", netcp.stderr());
    assert_eq!(sent, got);
    let routes = netcp.netcu_ok(&["show", "route"]);
    assert!(routes.contains("1280"), "no PMTU host route:\n{routes}");
}

/// A SYN flood at the stack's echo (hping3, a tool no one here wrote) while an established
/// transfer runs: the transfer finishes intact, SYN cookies answer the overflow, and a new
/// connection is served afterwards.
#[test]
fn a_syn_flood_does_not_stop_an_established_transfer() {
    require_root();
    let k = pid_tag();
    let tap = format!("myts{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.119.{k}.1"), format!("100.119.{k}.2"));
    let netcp = tap_netcp(
        "stack-tcp-flood",
        &tap,
        &linux,
        &ours,
        &service("echo", "echo", &ours, ""),
    );
    let addr: SocketAddr = format!("{ours}:7").parse().unwrap();
    let transfer = {
        let linux = linux.clone();
        std::thread::spawn(move || echo_transfer(&linux, addr, 32 << 20))
    };
    let flood = std::process::Command::new("hping3")
        .args([
            "-q",
            "-S",
            "--rand-source",
            "-p",
            "7",
            "-i",
            "u50",
            "-c",
            "40000",
            &ours,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run hping3 (apt-get install hping3)");
    let _ = flood;
    let (sent, got, n, _) = transfer.join().expect("transfer");
    assert_eq!(n, 32 << 20);
    assert_eq!(sent, got);
    let kernel = netcp.netcu_ok(&["show", "kernel"]);
    let cookies: u64 = kernel
        .lines()
        .find_map(|l| l.trim().strip_prefix("tcpSynCookiesSent"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{kernel}"));
    assert!(cookies > 0, "no SYN cookies during a flood\n{kernel}");
    let (sent, got, _, _) = echo_transfer(&linux, addr, 1 << 20);
    assert_eq!(sent, got, "a connection after the flood");
}

/// ECN (RFC 3168) with Linux: a client in a namespace with `net.ipv4.tcp_ecn = 1` asks for it
/// (SYN with ECE and CWR), the stack accepts (SYN-ACK with ECE; TCP_ECN 2, the default), and
/// data goes ECT(0) both ways through echo, as tcpdump sees on the TAP; with SET KERNEL
/// TCP_ECN 0 the next SYN-ACK declines.
#[test]
fn ecn_is_negotiated_with_linux() {
    require_root();
    let k = pid_tag();
    let pid = std::process::id();
    let tap = format!("myte{pid}");
    let ns = format!("mye{pid}");
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    cleanup.namespaces.push(ns.clone());
    let (linux, ours) = (format!("100.120.{k}.1"), format!("100.120.{k}.2"));
    let netcp = tap_netcp(
        "stack-tcp-ecn",
        &tap,
        "",
        &ours,
        &service("echo", "echo", &ours, ""),
    );
    sh_ok("ip", &["netns", "add", &ns]);
    sh_ok("ip", &["link", "set", &tap, "netns", &ns]);
    let inside = |args: &[&str]| {
        let mut all = vec!["netns", "exec", &ns];
        all.extend_from_slice(args);
        sh_ok("ip", &all)
    };
    inside(&["ip", "addr", "add", &format!("{linux}/24"), "dev", &tap]);
    inside(&["ip", "link", "set", &tap, "up"]);
    inside(&["ip", "link", "set", "lo", "up"]);
    inside(&["sysctl", "-qw", "net.ipv4.tcp_ecn=1"]);
    let kernel = netcp.netcu_ok(&["show", "kernel"]);
    assert!(
        kernel
            .lines()
            .any(|l| l.starts_with("TCP_ECN ") && l.trim_end().ends_with('2')),
        "{kernel}"
    );

    // tcpdump on the TAP, inside the namespace, while a transfer runs.
    let capture = |count: &str| {
        std::process::Command::new("ip")
            .args([
                "netns", "exec", &ns, "tcpdump", "-i", &tap, "-n", "-v", "-l", "-c", count,
            ])
            .arg("tcp")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tcpdump")
    };
    let dump = capture("30");
    std::thread::sleep(Duration::from_millis(500));
    let target: SocketAddr = format!("{ours}:7").parse().unwrap();
    let (sent, got, n, _) = in_netns(&ns, || echo_transfer(&linux, target, 1 << 20));
    assert_eq!((n, sent), (1 << 20, got), "echo through an ECN connection");
    let out = dump.wait_with_output().expect("tcpdump output");
    let text = String::from_utf8_lossy(&out.stdout);
    // tcpdump -v: "tos 0x2" is ECT(0); flags [SEW] a SYN with ECE and CWR, [S.E] a SYN-ACK
    // with ECE.
    assert!(text.contains("Flags [SEW]"), "{text}");
    assert!(text.contains("Flags [S.E]"), "{text}");
    let ect_from = |who: &str| {
        text.lines()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0].contains("tos 0x2") && w[1].trim_start().starts_with(who))
    };
    assert!(
        ect_from(&format!("{linux}.")),
        "Linux's data not ECT(0):\n{text}"
    );
    assert!(
        ect_from(&format!("{ours}.7 ")),
        "our data not ECT(0):\n{text}"
    );

    // TCP_ECN 0: the stack declines.
    netcp.netcu_ok(&["set", "kernel", "tcp_ecn", "0"]);
    let dump = capture("2");
    std::thread::sleep(Duration::from_millis(500));
    let _ = in_netns(&ns, || echo_transfer(&linux, target, 1000));
    let out = dump.wait_with_output().expect("tcpdump output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Flags [SEW]") && text.contains("Flags [S.]"),
        "{text}"
    );
    assert!(!text.contains("Flags [S.E]"), "{text}");
}
