//! Maynard's stack benchmarks (issue 4, item 6), in one run on one machine. Needs root (a TAP
//! device, a network namespace, a veth pair). `cargo bench -p netcp --bench stack` prints:
//!
//! ```text
//! bench: stack-udp-pps ours=<n>pps peer=<n>pps ratio=<ours/peer>
//! bench: stack-udp-rr ours=<n>rr/s peer=<n>rr/s ratio=<ours/peer>
//! bench: stack-core-forward ours=<n>pps peer=5000000pps ratio=<ours/peer>
//! bench: stack-core-forward-vs-smoltcp ours=<n>pps peer=<n>pps ratio=<ours/peer>
//! ```
//!
//! - `stack-udp-pps`: a sender in this process (root namespace) sends 18-byte UDP datagrams
//!   (64-byte Ethernet frames with the FCS) as fast as it can for `MEASURE`. Ours: to netcp's
//!   built-in UDP discard service on Maynard's stack, over a TAP device netcp made; what arrived
//!   is netcp's own SHOW COUNTERS (datagrams accepted by discard). Peer: the same sender to a
//!   kernel UDP socket in a network namespace across a veth pair (a thread of this process that
//!   entered the namespace), counting what it reads.
//! - `stack-udp-rr`: one client, one 18-byte request outstanding at a time (netperf's UDP_RR):
//!   ours is netcp's built-in UDP echo on the stack over the TAP, the peer a kernel UDP echo
//!   thread in the namespace over the veth pair.
//! - `stack-core-forward`: the sans-I/O core alone forwarding 64-byte UDP frames between two
//!   in-memory links on one core (the stack crate's forwarding test set-up), against the issue's
//!   target of 5 million packets per second.
//! - `stack-core-forward-vs-smoltcp`: the same core figure against smoltcp 0.14 doing the closest
//!   thing it can on one core. smoltcp cannot forward (an `Interface` is a single link that
//!   delivers to its own sockets), so the very same 64-byte frame (host A 10.0.1.2 to host B
//!   10.0.2.2, UDP port 9, to the router's MAC) goes, 64 frames per poll, into an `Interface`
//!   with 10.0.1.1/24 and 10.0.2.1/24 in AnyIP mode over an in-memory device; a UDP socket bound
//!   to port 9 takes it; the loop reads each datagram and sends it on to 10.0.2.2:9 from
//!   10.0.1.2, and the next poll routes it, finds host B's MAC (learnt from an ARP request) and
//!   emits the frame into a reused buffer. Both parse Ethernet and IPv4, check the IPv4 header
//!   checksum, look up a route and a neighbour and write new headers; smoltcp also copies the
//!   payload through its socket buffers (its API), Maynard rewrites the frame in place. UDP
//!   checksums are off for smoltcp (a forwarder never touches them). Rounds of one second
//!   alternate, `CORE_ROUNDS` each, medians.
//!
//! Each network figure is the median of `ROUNDS` short runs, ours and the peer alternating, so
//! both see the same load of a shared machine. More than 1% of unanswered requests in
//! `stack-udp-rr` fails the bench; `stack-udp-pps` counts what arrived (an open-loop sender
//! overloads both receivers, and their drops are the point). Progress goes to stderr, the bench
//! lines to stdout.

#[path = "../../stack/tests/common/mod.rs"]
mod common;
mod env;
mod smol;

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use control::protocol::{decode, encode, Request, Response};
use env::{median, sh, Cleanup};

/// The counted window of one run.
const MEASURE: Duration = Duration::from_secs(1);
/// Runs per path; the median is reported.
const ROUNDS: usize = 9;
/// UDP payload: 14 + 20 + 8 + 18 = 60 bytes on the wire, 64 with the FCS.
const PAYLOAD: usize = 18;
/// The issue's target for the core alone.
const CORE_TARGET_PPS: f64 = 5_000_000.0;
/// One-second rounds per stack for the core comparison with smoltcp; the median is reported.
const CORE_ROUNDS: usize = 5;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench stack: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("needs root (a TAP device, a network namespace, a veth pair)");
    }
    let pid = std::process::id();
    let k = pid % 50 + 100;
    let (tap, tap_linux, ours) = (
        format!("mbt{pid}"),
        format!("100.126.{k}.1"),
        format!("100.126.{k}.2"),
    );
    let (ns, veth_a, veth_b) = (
        format!("mbench{pid}"),
        format!("mbv{pid}a"),
        format!("mbv{pid}b"),
    );
    let (veth_linux, peer) = (
        format!("100.126.{}.1", k + 100),
        format!("100.126.{}.2", k + 100),
    );
    let mut cleanup = Cleanup::default();

    // Ours: netcp with discard and echo on the stack's address, on a TAP.
    let netcp = PathBuf::from(env!("CARGO_BIN_EXE_netcp"));
    let dir = std::env::temp_dir().join(format!("maynard-bench-stack-{pid}"));
    std::fs::create_dir_all(&dir)?;
    cleanup.dir = Some(dir.clone());
    std::fs::write(dir.join("services"), "echo 7/udp\ndiscard 9/udp\n")?;
    std::fs::write(
        dir.join("servers.toml"),
        format!(
            "[netcp]\nhost_services = \"\"\n\
             [[service]]\nname = \"discard\"\nbuiltin = \"discard\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
             [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n"
        ),
    )?;
    std::fs::write(
        dir.join("network.toml"),
        format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
    )?;
    let socket = dir.join("netcp.sock");
    cleanup.links.push(tap.clone());
    eprintln!(
        "bench stack: netcp {} on TAP {tap} ({ours}), peer: kernel in namespace {ns} ({peer}) over veth",
        netcp.display()
    );
    cleanup.child = Some(
        Command::new(&netcp)
            .arg("--config")
            .arg(&dir)
            .arg("--socket")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log"))?)
            .spawn()
            .context("start netcp")?,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&socket).is_err()
        || !Command::new("ip")
            .args(["link", "show", &tap])
            .output()?
            .status
            .success()
    {
        if Instant::now() > deadline {
            bail!(
                "netcp did not start:\n{}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    sh(&["ip", "addr", "add", &format!("{tap_linux}/24"), "dev", &tap])?;
    sh(&["ip", "link", "set", &tap, "up"])?;

    // The peer: a namespace across a veth pair, with discard and echo threads inside.
    env::kernel_namespace(&mut cleanup, &ns, &veth_a, &veth_b, &veth_linux, &peer)?;
    let stop = Arc::new(AtomicBool::new(false));
    let peer_count = Arc::new(AtomicU64::new(0));
    let threads = [
        kernel_server(&ns, 9, false, peer_count.clone(), stop.clone())?,
        kernel_server(&ns, 7, true, Arc::new(AtomicU64::new(0)), stop.clone())?,
    ];

    // Both paths answer (ARP resolved) before anything is counted.
    let ours_echo = format!("{ours}:7");
    let peer_echo = format!("{peer}:7");
    for (from, to) in [(&tap_linux, &ours_echo), (&veth_linux, &peer_echo)] {
        let s = client(from, to)?;
        if rr(&s, Duration::from_millis(300)).0 == 0 {
            bail!(
                "no echo from {to}:\n{}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
        }
    }

    let (mut pps_ours, mut pps_peer, mut rr_ours, mut rr_peer) = (vec![], vec![], vec![], vec![]);
    // Request/response exchanges without an answer, per path (more than 1% fails the bench).
    let (mut lost_ours, mut lost_peer, mut total_ours, mut total_peer) = (0u64, 0u64, 0u64, 0u64);
    for round in 1..=ROUNDS {
        // pps, ours: what netcp's discard counted.
        let before = discard_count(&socket)?;
        let sent = blast(&tap_linux, &format!("{ours}:9"))?;
        std::thread::sleep(Duration::from_millis(300));
        let got = discard_count(&socket)? - before;
        let ours_pps = got as f64 / MEASURE.as_secs_f64();
        eprintln!("  round {round}: stack-udp-pps ours: sent {sent}, discard counted {got}");
        // pps, peer.
        let before = peer_count.load(Relaxed);
        let sent = blast(&veth_linux, &format!("{peer}:9"))?;
        std::thread::sleep(Duration::from_millis(300));
        let got = peer_count.load(Relaxed) - before;
        let peer_pps = got as f64 / MEASURE.as_secs_f64();
        eprintln!("  round {round}: stack-udp-pps peer: sent {sent}, received {got}");
        pps_ours.push(ours_pps);
        pps_peer.push(peer_pps);
        // rr.
        let (n, lost) = rr(&client(&tap_linux, &ours_echo)?, MEASURE);
        eprintln!("  round {round}: stack-udp-rr ours: {n} round trips ({lost} lost)");
        (lost_ours, total_ours) = (lost_ours + lost, total_ours + n + lost);
        rr_ours.push(n as f64 / MEASURE.as_secs_f64());
        let (n, lost) = rr(&client(&veth_linux, &peer_echo)?, MEASURE);
        eprintln!("  round {round}: stack-udp-rr peer: {n} round trips ({lost} lost)");
        (lost_peer, total_peer) = (lost_peer + lost, total_peer + n + lost);
        rr_peer.push(n as f64 / MEASURE.as_secs_f64());
    }
    for (who, lost, total) in [
        ("ours", lost_ours, total_ours),
        ("peer", lost_peer, total_peer),
    ] {
        if lost * 100 > total {
            bail!("stack-udp-rr {who}: {lost} of {total} requests went unanswered (over 1%)");
        }
    }
    let line = |name: &str, unit: &str, o: f64, p: f64| {
        println!(
            "bench: {name} ours={o:.0}{unit} peer={p:.0}{unit} ratio={:.2}",
            if p > 0.0 { o / p } else { 0.0 }
        );
    };
    line("stack-udp-pps", "pps", median(pps_ours), median(pps_peer));
    line("stack-udp-rr", "rr/s", median(rr_ours), median(rr_peer));
    stop.store(true, Relaxed);
    for t in threads {
        let _ = t.join();
    }
    drop(cleanup);

    eprintln!("  stack-core-forward: 64-byte UDP between two in-memory links, one core, 2 s");
    let core = core_forward(Duration::from_secs(2));
    line("stack-core-forward", "pps", core, CORE_TARGET_PPS);

    let template = common::frame();
    let hosts = smol::Hosts {
        router: common::R0.0,
        a_ip: [10, 0, 1, 2],
        b_ip: [10, 0, 2, 2],
        b_mac: common::HOST_B.0,
    };
    let (mut ours, mut peer) = (vec![], vec![]);
    for round in 1..=CORE_ROUNDS {
        let o = core_forward(Duration::from_secs(1));
        let p = smol::core_forward(&template, &hosts, Duration::from_secs(1))?;
        eprintln!("  round {round}: core forward ours {o:.0} pps, smoltcp {p:.0} pps");
        ours.push(o);
        peer.push(p);
    }
    line(
        "stack-core-forward-vs-smoltcp",
        "pps",
        median(ours),
        median(peer),
    );
    Ok(())
}

/// A socket of Linux's bound to `from`, connected to `to`.
fn client(from: &str, to: &str) -> anyhow::Result<UdpSocket> {
    let s = UdpSocket::bind(format!("{from}:0"))?;
    s.connect(to)?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(s)
}

/// Sends datagrams as fast as the socket takes them for `MEASURE`; returns how many.
fn blast(from: &str, to: &str) -> anyhow::Result<u64> {
    let s = client(from, to)?;
    let data = [0x42u8; PAYLOAD];
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < MEASURE {
        for _ in 0..256 {
            if s.send(&data).is_ok() {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// Request/response round trips for `time`, one outstanding; returns (answered, lost).
fn rr(s: &UdpSocket, time: Duration) -> (u64, u64) {
    let data = [0x42u8; PAYLOAD];
    let mut buf = [0u8; 2048];
    let (mut n, mut lost) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < time {
        if s.send(&data).is_err() {
            lost += 1;
            continue;
        }
        match s.recv(&mut buf) {
            Ok(m) if m == PAYLOAD => n += 1,
            _ => lost += 1,
        }
    }
    (n, lost)
}

/// A kernel UDP server on `port` in namespace `ns` (a thread that entered it): echo or discard,
/// counting datagrams.
fn kernel_server(
    ns: &str,
    port: u16,
    echo: bool,
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    env::spawn_in_netns(ns, move |ready| {
        let s = match UdpSocket::bind(("0.0.0.0", port)) {
            Ok(s) => s,
            Err(e) => return ready(Err(e.to_string())),
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
        ready(Ok(()));
        let mut buf = [0u8; 65536];
        while !stop.load(Relaxed) {
            if let Ok((n, from)) = s.recv_from(&mut buf) {
                count.fetch_add(1, Relaxed);
                if echo {
                    let _ = s.send_to(&buf[..n], from);
                }
            }
        }
    })
}

/// Datagrams netcp's discard service has accepted (SHOW COUNTERS).
fn discard_count(socket: &Path) -> anyhow::Result<u64> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(
        encode(&Request::ShowCounters {
            service: Some("discard".into()),
        })
        .as_bytes(),
    )?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    match decode(line.trim_end()) {
        Ok(Response::Counters { counters }) => counters
            .first()
            .map(|c| c.counters.accepted)
            .ok_or_else(|| anyhow!("no discard counters")),
        other => bail!("SHOW COUNTERS: {other:?}"),
    }
}

/// Packets per second the core forwards, 64-byte UDP frames in batches of 64.
fn core_forward(time: Duration) -> f64 {
    use common::*;
    const BATCH: usize = 64;
    let (mut r, se0, _) = router();
    let template = frame();
    let mut ctx = Recycle::default();
    let mut bufs: Vec<wire::PacketBuf> = (0..BATCH)
        .map(|_| wire::PacketBuf::from_slice(0, &template))
        .collect();
    let start = Instant::now();
    let mut packets = 0u64;
    while start.elapsed() < time {
        for _ in 0..1000 {
            r.receive_batch(&mut ctx, se0, bufs.drain(..), stack::Instant::ZERO);
            bufs.append(&mut ctx.frames);
            refill(&mut bufs, &template);
            packets += BATCH as u64;
        }
    }
    if ctx.sent != packets {
        eprintln!("  stack-core-forward: {} of {packets} forwarded", ctx.sent);
    }
    ctx.sent as f64 / start.elapsed().as_secs_f64()
}
