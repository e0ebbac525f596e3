//! Two connected in-memory link ends for tests: what one sends the other receives, through a
//! bounded queue, with optional deterministic loss.

use crate::{Capabilities, Frame, Link, LinkKind, LinkStats, Offloads, Result};
use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use wire::{EthernetAddress, PacketBuf};

/// How to make a [`MemoryLink`] pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryLinkConfig {
    /// The IP MTU of both ends.
    pub mtu: usize,
    /// Frames a direction holds before it drops (counted as the sender's `tx_errors`).
    pub queue_limit: usize,
    /// Probability in `[0, 1]` that a sent frame is lost.
    pub loss: f64,
    /// Seed of the loss generator (the same seed loses the same frames).
    pub seed: u64,
    /// Headroom every received frame is guaranteed.
    pub headroom: usize,
    /// Offloads both ends claim (frames keep their [`OffloadInfo`](crate::OffloadInfo) across).
    pub offloads: Offloads,
    /// The two ends' addresses.
    pub macs: [EthernetAddress; 2],
    /// The two ends' names.
    pub names: [String; 2],
}

impl Default for MemoryLinkConfig {
    fn default() -> Self {
        MemoryLinkConfig {
            mtu: 1500,
            queue_limit: 1024,
            loss: 0.0,
            seed: 1,
            headroom: PacketBuf::DEFAULT_HEADROOM,
            offloads: Offloads::NONE,
            macs: [
                EthernetAddress([2, 0, 0, 0, 0, 1]),
                EthernetAddress([2, 0, 0, 0, 0, 2]),
            ],
            names: ["mem0".into(), "mem1".into()],
        }
    }
}

#[derive(Debug, Default)]
struct Direction {
    queue: VecDeque<Frame>,
    rng: u64,
    lost: u64,
}

#[derive(Debug)]
struct Shared {
    dirs: [Direction; 2],
    loss: f64,
    queue_limit: usize,
    connected: bool,
}

/// One end of an in-memory link (see [`MemoryLink::pair`]). `Send`, so the ends may live on
/// different threads.
#[derive(Debug)]
pub struct MemoryLink {
    shared: Arc<Mutex<Shared>>,
    /// 0 or 1: this end receives from `dirs[side]` and sends into `dirs[1 - side]`.
    side: usize,
    name: String,
    mac: EthernetAddress,
    mtu: usize,
    headroom: usize,
    offloads: Offloads,
    stats: LinkStats,
}

impl MemoryLink {
    /// Two connected ends.
    pub fn pair(cfg: &MemoryLinkConfig) -> (MemoryLink, MemoryLink) {
        let shared = Arc::new(Mutex::new(Shared {
            dirs: [
                Direction {
                    rng: cfg.seed | 1,
                    ..Default::default()
                },
                Direction {
                    rng: (cfg.seed.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15) | 1,
                    ..Default::default()
                },
            ],
            loss: cfg.loss.clamp(0.0, 1.0),
            queue_limit: cfg.queue_limit,
            connected: true,
        }));
        let end = |side: usize| MemoryLink {
            shared: shared.clone(),
            side,
            name: cfg.names[side].clone(),
            mac: cfg.macs[side],
            mtu: cfg.mtu,
            headroom: cfg.headroom,
            offloads: cfg.offloads,
            stats: LinkStats::default(),
        };
        (end(0), end(1))
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// Changes the loss probability of both directions.
    pub fn set_loss(&self, loss: f64) {
        self.lock().loss = loss.clamp(0.0, 1.0);
    }

    /// Connects or cuts the wire: while cut, sent frames are lost.
    pub fn set_connected(&self, connected: bool) {
        self.lock().connected = connected;
    }

    /// Frames waiting for this end to receive them.
    pub fn pending(&self) -> usize {
        self.lock().dirs[self.side].queue.len()
    }

    /// Frames lost (by `loss` or a cut wire) on their way to the other end.
    pub fn lost(&self) -> u64 {
        self.lock().dirs[1 - self.side].lost
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panicking test thread must not wedge the other end.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// xorshift64*: small, deterministic, good enough to pick lost frames.
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

impl Link for MemoryLink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> LinkKind {
        LinkKind::Memory
    }

    fn mac(&self) -> EthernetAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn capabilities(&self) -> Capabilities {
        let max = if self.offloads.normalized().any_gso() {
            crate::MAX_GSO_FRAME
        } else {
            self.mtu + crate::FRAME_OVERHEAD
        };
        Capabilities {
            rx: self.offloads.normalized(),
            tx: self.offloads.normalized(),
            max_rx_frame: max,
            max_tx_frame: max,
        }
    }

    fn recv_batch(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let side = self.side;
        let headroom = self.headroom;
        let mut shared = self.lock();
        let q = &mut shared.dirs[side].queue;
        let n = max.min(q.len());
        let mut bytes = 0u64;
        for mut f in q.drain(..n) {
            f.buf.reserve_headroom(headroom);
            bytes += f.len() as u64;
            out.push(f);
        }
        drop(shared);
        self.stats.rx_frames += n as u64;
        self.stats.rx_bytes += bytes;
        Ok(n)
    }

    fn send_batch(&mut self, queue: &mut VecDeque<Frame>) -> Result<usize> {
        let max = self.capabilities().max_tx_frame;
        let other = 1 - self.side;
        let arc = self.shared.clone();
        let mut shared = lock(&arc);
        let (loss, limit, connected) = (shared.loss, shared.queue_limit, shared.connected);
        let dir = &mut shared.dirs[other];
        let mut n = 0;
        while let Some(f) = queue.pop_front() {
            n += 1;
            if f.len() > max || dir.queue.len() >= limit {
                self.stats.tx_errors += 1;
                continue;
            }
            self.stats.tx_frames += 1;
            self.stats.tx_bytes += f.len() as u64;
            if !connected || (loss > 0.0 && next_unit(&mut dir.rng) < loss) {
                dir.lost += 1;
                continue;
            }
            dir.queue.push_back(f);
        }
        Ok(n)
    }

    fn stats(&self) -> LinkStats {
        self.stats
    }

    fn raw_fd(&self) -> Option<RawFd> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gso, GsoKind, OffloadInfo};

    fn frame(tag: u8, len: usize) -> Frame {
        Frame::new(PacketBuf::from_slice(0, &vec![tag; len]))
    }

    #[test]
    fn both_directions_in_order_with_headroom() {
        let (mut a, mut b) = MemoryLink::pair(&MemoryLinkConfig::default());
        assert_eq!(a.mac(), EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!((a.name(), b.name()), ("mem0", "mem1"));
        let mut q: VecDeque<Frame> = (0..5).map(|i| frame(i, 60)).collect();
        assert_eq!(a.send_batch(&mut q).unwrap(), 5);
        assert!(q.is_empty());
        assert_eq!(b.pending(), 5);
        let mut out = Vec::new();
        assert_eq!(b.recv_batch(&mut out, 3).unwrap(), 3);
        assert_eq!(b.recv_batch(&mut out, 10).unwrap(), 2);
        assert_eq!(b.recv_batch(&mut out, 10).unwrap(), 0);
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.as_slice(), &vec![i as u8; 60][..]);
            assert!(f.buf.headroom() >= PacketBuf::DEFAULT_HEADROOM);
        }
        let mut back = VecDeque::from([frame(9, 64)]);
        b.send_batch(&mut back).unwrap();
        let mut out = Vec::new();
        assert_eq!(a.recv_batch(&mut out, 8).unwrap(), 1);
        assert_eq!(a.stats().rx_frames, 1);
        assert_eq!(a.stats().tx_frames, 5);
        assert_eq!(b.stats().rx_bytes, 300);
        assert!(a.raw_fd().is_none());
    }

    #[test]
    fn limits_and_oversize() {
        let cfg = MemoryLinkConfig {
            queue_limit: 2,
            ..Default::default()
        };
        let (mut a, b) = MemoryLink::pair(&cfg);
        let mut q: VecDeque<Frame> = (0..4).map(|i| frame(i, 60)).collect();
        q.push_back(frame(7, 1500 + crate::FRAME_OVERHEAD + 1));
        assert_eq!(a.send_batch(&mut q).unwrap(), 5);
        assert_eq!(b.pending(), 2);
        assert_eq!(a.stats().tx_errors, 3);
    }

    #[test]
    fn loss_is_deterministic_and_roughly_right() {
        let run = |seed| {
            let cfg = MemoryLinkConfig {
                loss: 0.25,
                seed,
                queue_limit: 100_000,
                ..Default::default()
            };
            let (mut a, b) = MemoryLink::pair(&cfg);
            let mut q: VecDeque<Frame> = (0..4000).map(|i| frame(i as u8, 60)).collect();
            a.send_batch(&mut q).unwrap();
            (b.pending(), a.lost())
        };
        let (got, lost) = run(42);
        assert_eq!(got as u64 + lost, 4000);
        assert!((800..1200).contains(&lost), "lost {lost} of 4000 at 25%");
        assert_eq!(run(42), (got, lost));
        assert_ne!(run(43), (got, lost));
    }

    #[test]
    fn cut_wire_and_offload_state_survive() {
        let cfg = MemoryLinkConfig {
            offloads: Offloads::ALL,
            ..Default::default()
        };
        let (mut a, mut b) = MemoryLink::pair(&cfg);
        assert_eq!(a.capabilities().max_tx_frame, crate::MAX_GSO_FRAME);
        let off = OffloadInfo {
            gso: Some(Gso {
                kind: GsoKind::TcpV4,
                size: 1448,
                hdr_len: 54,
                ecn: false,
            }),
            ..Default::default()
        };
        let mut q = VecDeque::from([Frame::with_offload(
            PacketBuf::from_slice(0, &[1; 9000]),
            off,
        )]);
        a.send_batch(&mut q).unwrap();
        let mut out = Vec::new();
        b.recv_batch(&mut out, 1).unwrap();
        assert_eq!(out[0].offload, off);
        a.set_connected(false);
        a.send_batch(&mut VecDeque::from([frame(1, 60)])).unwrap();
        assert_eq!((b.pending(), a.lost()), (0, 1));
        a.set_connected(true);
        a.set_loss(1.0);
        a.send_batch(&mut VecDeque::from([frame(1, 60)])).unwrap();
        assert_eq!((b.pending(), a.lost()), (0, 2));
    }

    #[test]
    fn ends_work_across_threads() {
        let (mut a, mut b) = MemoryLink::pair(&MemoryLinkConfig::default());
        let t = std::thread::spawn(move || {
            let mut q: VecDeque<Frame> = (0..100).map(|i| frame(i as u8, 60)).collect();
            a.send_batch(&mut q).unwrap()
        });
        assert_eq!(t.join().unwrap(), 100);
        let mut out = Vec::new();
        assert_eq!(b.recv_batch(&mut out, 1000).unwrap(), 100);
    }
}
