//! A lossy Ethernet bridge for tests, in place of `tc netem` (which this kernel lacks): two
//! AF_PACKET sockets on two Linux interfaces, frames copied between them with a chosen loss,
//! delay, jitter (which reorders) and duplication. Linux's own stack stays on one side, the
//! device under test on the other; the impairment is "on the Linux side" of the link.

use std::collections::BinaryHeap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the bridge does to frames (each direction alike).
#[derive(Debug, Clone, Copy, Default)]
pub struct Impairment {
    /// Frames lost, per million.
    pub loss_ppm: u32,
    /// Frames sent twice, per million.
    pub duplicate_ppm: u32,
    /// Fixed delay.
    pub delay: Duration,
    /// Extra random delay up to this (frames overtake each other).
    pub jitter: Duration,
}

/// Frames seen and dropped, for the test's report.
#[derive(Debug, Default)]
pub struct BridgeStats {
    pub forwarded: AtomicU64,
    pub dropped: AtomicU64,
    pub duplicated: AtomicU64,
}

/// A running bridge; stops on drop.
pub struct Bridge {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Its counters.
    pub stats: Arc<BridgeStats>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn packet_socket(ifname: &str) -> OwnedFd {
    // SAFETY: plain socket(2)/bind(2)/setsockopt(2) calls on a descriptor we own, with structs
    // that live across each call.
    unsafe {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto));
        assert!(
            fd >= 0,
            "AF_PACKET socket: {}",
            std::io::Error::last_os_error()
        );
        let fd = OwnedFd::from_raw_fd(fd);
        let name = std::ffi::CString::new(ifname).unwrap();
        let index = libc::if_nametoindex(name.as_ptr());
        assert!(index > 0, "no interface {ifname}");
        let mut sll: libc::sockaddr_ll = std::mem::zeroed();
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = index as i32;
        let rc = libc::bind(
            fd.as_raw_fd(),
            &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        );
        assert_eq!(
            rc,
            0,
            "bind to {ifname}: {}",
            std::io::Error::last_os_error()
        );
        // A short receive timeout so the thread notices `stop` and sends due frames.
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 1000,
        };
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as u32,
        );
        let buf: libc::c_int = 8 << 20;
        for opt in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &buf as *const libc::c_int as *const libc::c_void,
                4,
            );
        }
        fd
    }
}

struct Due {
    at: Instant,
    seq: u64,
    frame: Vec<u8>,
}

impl PartialEq for Due {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Due {
    // Reversed: the heap gives the earliest first.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// One direction: frames read on `from` go out on `to`, impaired.
fn pump(
    from: Arc<OwnedFd>,
    to: Arc<OwnedFd>,
    how: Impairment,
    seed: u64,
    stop: Arc<AtomicBool>,
    stats: Arc<BridgeStats>,
) {
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut queue: BinaryHeap<Due> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut buf = vec![0u8; 70_000];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: recvfrom into our buffer; the address struct lives across the call.
        let (n, outgoing) = unsafe {
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            let n = libc::recvfrom(
                from.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
                &mut sll as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                &mut len,
            );
            (n, sll.sll_pkttype == libc::PACKET_OUTGOING)
        };
        let now = Instant::now();
        // Frames this bridge (or the host) sent on `from` come back as outgoing: skip them.
        if n > 0 && !outgoing {
            let mut frame = buf[..n as usize].to_vec();
            complete_checksum(&mut frame);
            if (next() % 1_000_000) < u64::from(how.loss_ppm) {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                let copies = if (next() % 1_000_000) < u64::from(how.duplicate_ppm) {
                    stats.duplicated.fetch_add(1, Ordering::Relaxed);
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let jitter = if how.jitter.is_zero() {
                        Duration::ZERO
                    } else {
                        Duration::from_nanos(next() % how.jitter.as_nanos() as u64)
                    };
                    seq += 1;
                    queue.push(Due {
                        at: now + how.delay + jitter,
                        seq,
                        frame: frame.clone(),
                    });
                }
            }
        }
        let now = Instant::now();
        while queue.peek().is_some_and(|d| d.at <= now) {
            let Some(d) = queue.pop() else { break };
            // SAFETY: send(2) of a buffer we own.
            unsafe {
                libc::send(
                    to.as_raw_fd(),
                    d.frame.as_ptr() as *const libc::c_void,
                    d.frame.len(),
                    0,
                );
            }
            stats.forwarded.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Linux hands a packet socket the frames of a veth with their TCP/UDP checksum still to be
/// computed (checksum offload); a bridge must complete it, as a NIC would, or the far end drops
/// every segment. Recomputes the IPv4 TCP or UDP checksum of an unfragmented packet.
fn complete_checksum(frame: &mut [u8]) {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    let proto = ip[9];
    let at = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    if fragmented || ihl < 20 || total < ihl + at + 2 || 14 + total > frame.len() {
        return;
    }
    let (src, dst) = (
        [ip[12], ip[13], ip[14], ip[15]],
        [ip[16], ip[17], ip[18], ip[19]],
    );
    let seg_len = total - ihl;
    let seg = &mut frame[14 + ihl..14 + total];
    if proto == 17 && seg[6..8] == [0, 0] {
        return; // UDP without a checksum
    }
    seg[at] = 0;
    seg[at + 1] = 0;
    let mut sum: u32 = 0;
    for w in [src, dst] {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]))
            + u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    sum += u32::from(proto) + seg_len as u32;
    for c in seg.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut c = !(sum as u16);
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// Bridges the Linux interfaces `a` and `b` (both up, in this namespace) with `how` applied in
/// both directions.
pub fn bridge(a: &str, b: &str, how: Impairment) -> Bridge {
    let fa = Arc::new(packet_socket(a));
    let fb = Arc::new(packet_socket(b));
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(BridgeStats::default());
    let mut threads = Vec::new();
    for (i, (from, to)) in [(fa.clone(), fb.clone()), (fb, fa)].into_iter().enumerate() {
        let (stop, stats) = (stop.clone(), stats.clone());
        let seed =
            0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 7) ^ u64::from(std::process::id());
        threads.push(std::thread::spawn(move || {
            pump(from, to, how, seed, stop, stats)
        }));
    }
    Bridge {
        stop,
        threads,
        stats,
    }
}
