//! TAP receive throughput: Linux sends UDP from a namespace to an address behind the TAP as fast
//! as one thread can (`sendmmsg`), and we count what the link reads in a fixed window.
//!
//! - `link-tap-rx`: 1514-byte frames read per CPU-second of the reading thread, by
//!   `TapLink::recv_batch` (ours) against a naive reader that polls and reads one frame at a time
//!   into a fresh buffer (peer). Per CPU-second because on 2 cores the single sender, not the
//!   reader, bounds frames per second (shown on stderr);
//! - `link-tap-rx-uso`: bytes per second with `IFF_VNET_HDR` and USO super-frames (ours) against
//!   plain 1514-byte frames (peer): what the offloads buy.
//!
//! Run as root: `cargo bench -p link --bench tap`. Rounds alternate the three runs and the medians
//! are printed (`MAYNARD_BENCH_SECS`: window per run, default 1; `MAYNARD_BENCH_ROUNDS`: default 3).
//! Progress goes to stderr, only the `bench:` lines to stdout.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{unique, Netns};
use link::{wait_readable, Link, TapConfig, TapLink};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq)]
enum Reader {
    Batched,
    Naive,
}

struct Result {
    frames: u64,
    bytes: u64,
    secs: f64,
    /// CPU seconds the reading thread spent in the window.
    cpu: f64,
}

fn thread_cpu() -> f64 {
    // SAFETY: timespec is plain old data; clock_gettime fills it.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

const DGRAM: usize = 1472;
const USO_SEGS: usize = 44;

fn run(ns: &Netns, uso: bool, reader: Reader, window: Duration) -> Result {
    let name = unique("mb");
    let cfg = if uso {
        TapConfig::new(name.clone()).with_offloads()
    } else {
        TapConfig::new(name.clone())
    };
    let mut tap = ns.run(|| TapLink::open(&cfg)).expect("open TAP");
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", &name]);
    ns.ip(&["link", "set", &name, "up", "txqueuelen", "4096"]);
    ns.ip(&[
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        &tap.mac().to_string(),
        "dev",
        &name,
    ]);
    let sock = ns.run(|| {
        let s = UdpSocket::bind("192.0.2.1:0").unwrap();
        s.connect("192.0.2.2:9").unwrap();
        s
    });
    let len = if uso {
        let seg = DGRAM as libc::c_int;
        // SAFETY: setsockopt with a pointer to an int.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_UDP,
                libc::UDP_SEGMENT,
                (&seg as *const libc::c_int).cast(),
                4,
            )
        };
        assert_eq!(rc, 0, "UDP_SEGMENT");
        DGRAM * USO_SEGS
    } else {
        DGRAM
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || {
        let buf = vec![0x42u8; len];
        let mut iov: Vec<libc::iovec> = (0..32)
            .map(|_| libc::iovec {
                iov_base: buf.as_ptr() as *mut libc::c_void,
                iov_len: len,
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = iov
            .iter_mut()
            .map(|v| {
                // SAFETY: msghdr is plain old data.
                let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                h.msg_iov = v;
                h.msg_iovlen = 1;
                libc::mmsghdr {
                    msg_hdr: h,
                    msg_len: 0,
                }
            })
            .collect();
        while !stop2.load(Ordering::Relaxed) {
            // SAFETY: msgs point into buf and iov, alive for the loop.
            unsafe { libc::sendmmsg(sock.as_raw_fd(), msgs.as_mut_ptr(), 32, 0) };
        }
    });

    let fd = tap.as_raw_fd();
    let warmup = Instant::now() + Duration::from_millis(200);
    let mut start = None;
    let mut cpu0 = 0.0;
    let (mut frames, mut bytes) = (0u64, 0u64);
    let mut out = Vec::with_capacity(64);
    loop {
        let now = Instant::now();
        if start.is_none() && now >= warmup {
            start = Some(now);
            cpu0 = thread_cpu();
            frames = 0;
            bytes = 0;
        }
        if let Some(s) = start {
            if now - s >= window {
                break;
            }
        }
        match reader {
            Reader::Batched => {
                let n = tap.recv_batch(&mut out, 64).expect("recv");
                if n == 0 {
                    let _ = wait_readable(fd, Some(Duration::from_millis(10)));
                }
                for f in out.drain(..) {
                    frames += 1;
                    bytes += f.len() as u64;
                    tap.recycle(f.buf);
                }
            }
            Reader::Naive => {
                let _ = wait_readable(fd, Some(Duration::from_millis(10)));
                let mut v = vec![0u8; 1518];
                // SAFETY: v is a live buffer of v.len() bytes.
                let n = unsafe { libc::read(fd, v.as_mut_ptr().cast(), v.len()) };
                if n > 0 {
                    frames += 1;
                    bytes += n as u64;
                }
            }
        }
    }
    let secs = start.map(|s| s.elapsed().as_secs_f64()).unwrap_or(1.0);
    let cpu = (thread_cpu() - cpu0).max(1e-6);
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    Result {
        frames,
        bytes,
        secs,
        cpu,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a plain build of the target runs nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let env = |k: &str, d: f64| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let window = Duration::from_secs_f64(env("MAYNARD_BENCH_SECS", 1.0));
    let rounds = env("MAYNARD_BENCH_ROUNDS", 3.0).max(1.0) as usize;
    let ns = Netns::new("mlb");
    let gbit = |r: &Result| r.bytes as f64 * 8.0 / r.secs / 1e9;
    let pps = |r: &Result| r.frames as f64 / r.secs;
    let per_cpu = |r: &Result| r.frames as f64 / r.cpu;
    let (mut ours, mut peer, mut uso, mut plain) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let o = run(&ns, false, Reader::Batched, window);
        let p = run(&ns, false, Reader::Naive, window);
        let u = run(&ns, true, Reader::Batched, window);
        eprintln!(
            "round {round}: batched {:.0} frames/s ({:.2} Gbit/s, {:.0} frames/cpu-s), naive {:.0} frames/s ({:.0} frames/cpu-s), uso {:.2} Gbit/s ({:.0} super-frames/s)",
            pps(&o),
            gbit(&o),
            per_cpu(&o),
            pps(&p),
            per_cpu(&p),
            gbit(&u),
            pps(&u)
        );
        ours.push(per_cpu(&o));
        peer.push(per_cpu(&p));
        plain.push(gbit(&o));
        uso.push(gbit(&u));
    }
    let (o, p) = (median(ours), median(peer));
    println!(
        "bench: link-tap-rx ours={o:.0}frames/cpu-s peer={p:.0}frames/cpu-s ratio={:.2}",
        o / p.max(1.0)
    );
    let (u, g) = (median(uso), median(plain));
    println!(
        "bench: link-tap-rx-uso ours={u:.2}Gbit/s peer={g:.2}Gbit/s ratio={:.2}",
        u / g.max(1e-9)
    );
}
