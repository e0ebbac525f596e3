//! TCP on Maynard's stack (issue 7, item 7), in one run on one machine. Needs root (a TAP
//! device, a network namespace, a veth pair). `cargo bench -p netcp --bench stack_tcp` prints:
//!
//! ```text
//! bench: stack-tcp-stream ours=<n>Mbit/s peer=<n>Mbit/s ratio=<ours/peer>
//! bench: stack-tcp-stream-reverse ours=<n>Mbit/s peer=<n>Mbit/s ratio=<ours/peer>
//! bench: stack-tcp-crr ours=<n>conn/s peer=<n>conn/s ratio=<ours/peer>
//! bench: stack-tcp-stream-vs-smoltcp ours=<n>Mbit/s peer=<n>Mbit/s ratio=<ours/peer>
//! bench: stack-tcp-stream-cubic ours=<n>Mbit/s peer=<n>Mbit/s ratio=<ours/peer>
//! bench: stack-tcp-stream-vs-smoltcp-cubic ours=<n>Mbit/s peer=<n>Mbit/s ratio=<ours/peer>
//! ```
//!
//! - `stack-tcp-stream`: one Linux TCP sender (a thread of this process, root namespace) writes
//!   64 KiB buffers for `MEASURE`. Ours: to netcp's built-in discard on Maynard's stack over the
//!   TAP device netcp made, counted as the bytes discard read (SHOW COUNTERS). Peer: the same
//!   sender to a kernel sink in a network namespace across a veth pair (kernel to kernel).
//! - `stack-tcp-stream-vs-smoltcp`: the same `stack-tcp-stream` figure of ours, against the same
//!   sender to a sink on smoltcp 0.14 over a second TAP device: a thread of this process runs an
//!   `Interface` on the TAP (non-blocking, one frame per read or write system call, reused
//!   buffers) and one TCP socket with a 4 MiB receive buffer (smoltcp scales the window it
//!   advertises to it: up to 4 MiB, the window Maynard's stack advertises; with 1 MiB the
//!   sender was receive-window-limited 40% of the time) and smoltcp's default delayed ACK (an
//!   ACK at least every full segment; no delay at all measured the same); it polls in a tight
//!   loop and reads and discards everything, counting the bytes; it only blocks in poll(2)
//!   after 10,000 idle rounds, between runs. Its run comes right after ours in each round.
//! - `stack-tcp-stream-cubic`, `stack-tcp-stream-vs-smoltcp-cubic`: the same two with the
//!   sender's congestion control set to cubic (Linux's built-in default) on all three paths; the
//!   two lines above use the machine's default (`net.ipv4.tcp_congestion_control`, which may be
//!   BBR: a pacing sender, for which every frame over a TAP device is a timer interrupt and a
//!   wake-up; see docs/PERFORMANCE.md).
//! - `stack-tcp-stream-reverse`: the other direction: a Linux reader of netcp's chargen on the
//!   stack, against a reader of a kernel sender in the namespace.
//! - `stack-tcp-crr`: connect, one byte each way, close, one after the other (netperf's TCP_CRR):
//!   netcp's echo on the stack against a kernel echo in the namespace. The client closes with
//!   RST (SO_LINGER 0) on both paths, so its ephemeral ports never run out in TIME-WAIT.
//!
//! Each figure is the median of `ROUNDS` runs, ours and the peer alternating.
//!
//! For profiling and quick checks, `MAYNARD_BENCH_ROUNDS=N` changes the number of rounds and
//! `MAYNARD_BENCH_STREAM_ONLY=1` runs only the two stream figures (the others print 0).

mod env;
mod smol;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use env::*;

/// The counted window of one run.
const MEASURE: Duration = Duration::from_secs(2);
/// Runs per path; the median is reported.
const ROUNDS: usize = 5;
/// One write or read.
const CHUNK: usize = 64 * 1024;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench stack_tcp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    require_root()?;
    let pid = std::process::id();
    let k = pid % 50 + 150;
    let (tap, tap_linux, ours) = (
        format!("mbtt{pid}"),
        format!("100.126.{k}.1"),
        format!("100.126.{k}.2"),
    );
    let (ns, veth_a, veth_b) = (
        format!("mbtcp{pid}"),
        format!("mbw{pid}a"),
        format!("mbw{pid}b"),
    );
    let (veth_linux, peer) = (format!("100.125.{k}.1"), format!("100.125.{k}.2"));
    let (smol_tap, smol_linux, smol_addr) = (
        format!("mbts{pid}"),
        format!("100.119.{k}.1"),
        [100, 119, k as u8, 2],
    );
    let mut cleanup = Cleanup::default();
    let svc = |name: &str| {
        format!(
            "[[service]]\nname = \"{name}\"\nbuiltin = \"{name}\"\nprotocols = [\"tcp\"]\nlisten = [\"{ours}\"]\n"
        )
    };
    let socket = start_netcp(
        &mut cleanup,
        "stack-tcp",
        "echo 7/tcp\ndiscard 9/tcp\nchargen 19/tcp\n",
        &format!(
            "[netcp]\nhost_services = \"\"\n{}{}{}",
            svc("echo"),
            svc("discard"),
            svc("chargen")
        ),
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &tap,
        &tap_linux,
    )?;
    kernel_namespace(&mut cleanup, &ns, &veth_a, &veth_b, &veth_linux, &peer)?;
    // smoltcp on its own TAP (the device goes when the sink's thread drops it; the clean-up
    // removes it too should anything fail first).
    cleanup.links.push(smol_tap.clone());
    let smol_sink = smol::TcpSink::start(&smol_tap, smol_addr, 24, 9)?;
    sh(&[
        "ip",
        "addr",
        "add",
        &format!("{smol_linux}/24"),
        "dev",
        &smol_tap,
    ])?;
    sh(&["ip", "link", "set", &smol_tap, "up"])?;
    let smol_at: SocketAddr = SocketAddr::from((smol_addr, 9));
    eprintln!(
        "bench stack_tcp: netcp on TAP {tap} ({ours}); peer: kernel in {ns} ({peer}) over veth"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let sunk = Arc::new(AtomicU64::new(0));
    let threads = [
        kernel_server(&ns, 9, Role::Sink(sunk.clone()), stop.clone())?,
        kernel_server(&ns, 19, Role::Source, stop.clone())?,
        kernel_server(&ns, 7, Role::Echo, stop.clone())?,
    ];

    let ours_at = |port: u16| -> SocketAddr { format!("{ours}:{port}").parse().unwrap() };
    let peer_at = |port: u16| -> SocketAddr { format!("{peer}:{port}").parse().unwrap() };
    // Both paths answer before anything is counted.
    for (from, to) in [(&tap_linux, ours_at(7)), (&veth_linux, peer_at(7))] {
        if crr(from, to, Duration::from_millis(200)).is_err() {
            bail!("no echo from {to}:\n{}", netcp_log(&socket));
        }
    }

    let rounds = std::env::var("MAYNARD_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
        .filter(|&r| r > 0)
        .unwrap_or(ROUNDS);
    let stream_only = std::env::var_os("MAYNARD_BENCH_STREAM_ONLY").is_some();
    let default_cc = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    eprintln!(
        "  the sender's congestion control: {default_cc} (this machine's default), then cubic"
    );
    let mut figures: [(Vec<f64>, Vec<f64>); 6] = Default::default();
    for round in 1..=rounds {
        // The stream figures twice: with the machine's default congestion control at the
        // sender, and with cubic (Linux's built-in default) — a pacing sender (BBR) and one
        // that is not behave very differently over a TAP device (docs/PERFORMANCE.md).
        for (cc, kernel_at, smol_at_index) in [(None, 0, 3), (Some("cubic"), 4, 5)] {
            let label = cc.unwrap_or(default_cc.as_str());
            let before = counters(&socket, "discard")?.bytes_in;
            let sent = stream_send(&tap_linux, ours_at(9), cc)?;
            std::thread::sleep(Duration::from_millis(200));
            let got = counters(&socket, "discard")?.bytes_in - before;
            let o = mbits(got);
            let before = sunk.load(Relaxed);
            let peer_sent = stream_send(&veth_linux, peer_at(9), cc)?;
            std::thread::sleep(Duration::from_millis(200));
            let p = mbits(sunk.load(Relaxed) - before);
            eprintln!(
                "  round {round}: stream ({label}) ours {o:.0} Mbit/s ({sent} sent), peer {p:.0} Mbit/s ({peer_sent} sent)"
            );
            figures[kernel_at].0.push(o);
            figures[kernel_at].1.push(p);
            let before = smol_sink.count.load(Relaxed);
            let smol_sent = stream_send(&smol_linux, smol_at, cc)?;
            std::thread::sleep(Duration::from_millis(200));
            let s = mbits(smol_sink.count.load(Relaxed) - before);
            eprintln!("  round {round}: stream ({label}) smoltcp {s:.0} Mbit/s ({smol_sent} sent)");
            figures[smol_at_index].0.push(o);
            figures[smol_at_index].1.push(s);
        }
        if stream_only {
            continue;
        }

        let o = mbits(stream_receive(&tap_linux, ours_at(19))?);
        let p = mbits(stream_receive(&veth_linux, peer_at(19))?);
        eprintln!("  round {round}: reverse ours {o:.0} Mbit/s, peer {p:.0} Mbit/s");
        figures[1].0.push(o);
        figures[1].1.push(p);

        let o = crr(&tap_linux, ours_at(7), MEASURE)? as f64 / MEASURE.as_secs_f64();
        let p = crr(&veth_linux, peer_at(7), MEASURE)? as f64 / MEASURE.as_secs_f64();
        eprintln!("  round {round}: crr ours {o:.0}/s, peer {p:.0}/s");
        figures[2].0.push(o);
        figures[2].1.push(p);
    }
    stop.store(true, Relaxed);
    let [stream, reverse, rate, smol_stream, stream_cubic, smol_stream_cubic] = figures;
    let line = |name: &str, unit: &str, (o, p): (Vec<f64>, Vec<f64>)| {
        let (o, p) = (median(o), median(p));
        println!(
            "bench: {name} ours={o:.0}{unit} peer={p:.0}{unit} ratio={:.2}",
            if p > 0.0 { o / p } else { 0.0 }
        );
    };
    line("stack-tcp-stream", "Mbit/s", stream);
    line("stack-tcp-stream-reverse", "Mbit/s", reverse);
    line("stack-tcp-crr", "conn/s", rate);
    line("stack-tcp-stream-vs-smoltcp", "Mbit/s", smol_stream);
    line("stack-tcp-stream-cubic", "Mbit/s", stream_cubic);
    line(
        "stack-tcp-stream-vs-smoltcp-cubic",
        "Mbit/s",
        smol_stream_cubic,
    );
    let errors = smol_sink.stop();
    if errors > 0 {
        eprintln!("  smoltcp's TAP: {errors} read or write errors");
    }
    // The kernel threads block in accept; leave them to the process's end.
    drop(threads);
    drop(cleanup);
    Ok(())
}

fn mbits(bytes: u64) -> f64 {
    bytes as f64 * 8.0 / MEASURE.as_secs_f64() / 1e6
}

/// A Linux TCP connection from `from` to `to`.
fn connect(from: &str, to: SocketAddr) -> anyhow::Result<TcpStream> {
    connect_with(from, to, None)
}

/// A Linux TCP connection from `from` to `to` with congestion control `cc` (None: the
/// machine's default).
fn connect_with(from: &str, to: SocketAddr, cc: Option<&str>) -> anyhow::Result<TcpStream> {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    if let Some(cc) = cc {
        s.set_tcp_congestion(cc.as_bytes())
            .with_context(|| format!("congestion control {cc}"))?;
    }
    s.bind(&SocketAddr::new(from.parse()?, 0).into())?;
    s.connect_timeout(&to.into(), Duration::from_secs(5))
        .with_context(|| format!("connect to {to}"))?;
    let s: TcpStream = s.into();
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(s)
}

/// Writes for `MEASURE`; returns the bytes written.
fn stream_send(from: &str, to: SocketAddr, cc: Option<&str>) -> anyhow::Result<u64> {
    let mut s = connect_with(from, to, cc)?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let buf = vec![0x61u8; CHUNK];
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < MEASURE {
        s.write_all(&buf)?;
        sent += CHUNK as u64;
    }
    Ok(sent)
}

/// Reads for `MEASURE`; returns the bytes read.
fn stream_receive(from: &str, to: SocketAddr) -> anyhow::Result<u64> {
    let mut s = connect(from, to)?;
    let mut buf = vec![0u8; CHUNK * 4];
    let start = Instant::now();
    let mut got = 0u64;
    while start.elapsed() < MEASURE {
        let n = s.read(&mut buf)?;
        if n == 0 {
            bail!("{to} closed the stream");
        }
        got += n as u64;
    }
    Ok(got)
}

/// Connect, a byte each way, close, for `time`; returns how many.
fn crr(from: &str, to: SocketAddr, time: Duration) -> anyhow::Result<u64> {
    let start = Instant::now();
    let mut n = 0u64;
    let mut b = [0u8; 1];
    while start.elapsed() < time {
        let mut s = connect(from, to)?;
        // Closed with RST, so that a hundred thousand connections do not exhaust this side's
        // ephemeral ports in TIME-WAIT (the same for both paths).
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO))?;
        s.write_all(b"x")?;
        s.read_exact(&mut b)?;
        n += 1;
    }
    Ok(n)
}

enum Role {
    /// Reads and counts.
    Sink(Arc<AtomicU64>),
    /// Writes until the reader goes.
    Source,
    /// Echoes.
    Echo,
}

/// A kernel TCP server on `port` in namespace `ns`: one connection at a time.
fn kernel_server(
    ns: &str,
    port: u16,
    role: Role,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    spawn_in_netns(ns, move |ready| {
        let l = match TcpListener::bind(("0.0.0.0", port)) {
            Ok(l) => l,
            Err(e) => return ready(Err(e.to_string())),
        };
        ready(Ok(()));
        let mut buf = vec![0u8; CHUNK * 4];
        while !stop.load(Relaxed) {
            let Ok((mut s, _)) = l.accept() else { continue };
            let _ = s.set_nodelay(true);
            match &role {
                Role::Sink(count) => {
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        count.fetch_add(n as u64, Relaxed);
                    }
                }
                Role::Source => while s.write_all(&buf[..CHUNK]).is_ok() {},
                Role::Echo => {
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        }
    })
}
