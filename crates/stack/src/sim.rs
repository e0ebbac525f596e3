//! A simulated network for tests: several [`Stack`]s, hubs joining their interfaces, virtual
//! time, and hooks for loss, reordering and rewriting. Deterministic for a given seed.

use crate::{IfaceId, Instant, LinkSpec, Rng, Stack, StackConfig, XorShiftRng};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::{EthernetAddress, PacketBuf};

/// A frame on its way.
struct Flight {
    at: Instant,
    seq: u64,
    stack: usize,
    iface: IfaceId,
    frame: PacketBuf,
}

impl PartialEq for Flight {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Flight {}
impl PartialOrd for Flight {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Flight {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// A frame rewriting hook: sees (hub, sender stack, frame); returns false to drop it.
pub(crate) type Rewrite = Box<dyn FnMut(usize, usize, &mut PacketBuf) -> bool>;

pub(crate) struct Net {
    pub(crate) stacks: Vec<Stack>,
    /// hub → attached (stack, iface).
    hubs: Vec<Vec<(usize, IfaceId)>>,
    flights: BinaryHeap<Flight>,
    seq: u64,
    pub(crate) now: Instant,
    rng: XorShiftRng,
    pub(crate) latency: Duration,
    /// Per mille of frames lost.
    pub(crate) loss: u32,
    /// Per mille of frames delivered twice.
    pub(crate) dup: u32,
    /// Extra random delay up to this (reorders frames).
    pub(crate) jitter: Duration,
    pub(crate) rewrite: Option<Rewrite>,
    /// Every frame put on a hub: (hub, sender, bytes).
    pub(crate) wire_log: Vec<(usize, usize, Vec<u8>)>,
}

impl Net {
    pub(crate) fn new(seed: u64) -> Self {
        Net {
            stacks: Vec::new(),
            hubs: Vec::new(),
            flights: BinaryHeap::new(),
            seq: 0,
            now: Instant::from_secs(1),
            rng: XorShiftRng::new(seed),
            latency: Duration::from_micros(100),
            loss: 0,
            dup: 0,
            jitter: Duration::ZERO,
            rewrite: None,
            wire_log: Vec::new(),
        }
    }

    pub(crate) fn hub(&mut self) -> usize {
        self.hubs.push(Vec::new());
        self.hubs.len() - 1
    }

    pub(crate) fn stack(&mut self, config: StackConfig) -> usize {
        let seed = u64::from(self.rng.next_u32()) << 32 | u64::from(self.rng.next_u32());
        self.stacks
            .push(Stack::new(config, Box::new(XorShiftRng::new(seed))));
        self.stacks.len() - 1
    }

    /// Adds `name` (se) to stack `s` on `hub`, with `addr/len`, up.
    pub(crate) fn attach(
        &mut self,
        s: usize,
        hub: usize,
        name: &str,
        addr: Ipv4Addr,
        len: u8,
    ) -> IfaceId {
        let mac = EthernetAddress([2, 0, 0, s as u8, hub as u8, self.hubs[hub].len() as u8]);
        let now = self.now;
        let id = self.stacks[s]
            .create_interface(name, LinkSpec::Ethernet(mac), now)
            .unwrap();
        self.hubs[hub].push((s, id));
        self.call(s, |st, out, now| {
            st.set_address(out, id, addr, len, now).unwrap();
            st.set_up(out, id, true, now).unwrap();
            st.set_link_running(id, true, now).unwrap();
        });
        id
    }

    /// Runs `f` on stack `s` and puts what it sends on the wire.
    pub(crate) fn call<R>(
        &mut self,
        s: usize,
        f: impl FnOnce(&mut Stack, &mut Vec<(IfaceId, PacketBuf)>, Instant) -> R,
    ) -> R {
        let mut out = Vec::new();
        let now = self.now;
        let r = f(&mut self.stacks[s], &mut out, now);
        self.transmit(s, out);
        r
    }

    fn transmit(&mut self, s: usize, out: Vec<(IfaceId, PacketBuf)>) {
        for (iface, frame) in out {
            let Some(hub) = self.hubs.iter().position(|h| h.contains(&(s, iface))) else {
                continue;
            };
            let mut frame = frame;
            if let Some(rw) = self.rewrite.as_mut() {
                if !rw(hub, s, &mut frame) {
                    continue;
                }
            }
            self.wire_log.push((hub, s, frame.to_vec()));
            let peers: Vec<(usize, IfaceId)> = self.hubs[hub]
                .iter()
                .copied()
                .filter(|(t, _)| *t != s)
                .collect();
            for (t, ti) in peers {
                if self.loss > 0 && self.rng.below(1000) < self.loss {
                    continue;
                }
                let jitter = if self.jitter.is_zero() {
                    Duration::ZERO
                } else {
                    Duration::from_nanos(u64::from(self.rng.below(self.jitter.as_nanos() as u32)))
                };
                if self.dup > 0 && self.rng.below(1000) < self.dup {
                    self.seq += 1;
                    self.flights.push(Flight {
                        at: self.now + self.latency + jitter + jitter,
                        seq: self.seq,
                        stack: t,
                        iface: ti,
                        frame: PacketBuf::from_slice(0, frame.as_slice()),
                    });
                }
                self.seq += 1;
                // A fresh receive buffer, as a link would hand over.
                let copy = PacketBuf::from_slice(0, frame.as_slice());
                self.flights.push(Flight {
                    at: self.now + self.latency + jitter,
                    seq: self.seq,
                    stack: t,
                    iface: ti,
                    frame: copy,
                });
            }
        }
    }

    /// Runs frames and timers until `until`.
    pub(crate) fn run_until(&mut self, until: Instant) {
        for _ in 0..1_000_000 {
            let next_frame = self.flights.peek().map(|f| f.at);
            let next_timer = self.stacks.iter().filter_map(|s| s.poll_at()).min();
            let next = match (next_frame, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            while self.flights.peek().is_some_and(|f| f.at <= self.now) {
                let Some(f) = self.flights.pop() else { break };
                self.call(f.stack, |st, out, now| {
                    st.receive(out, f.iface, f.frame, now)
                });
            }
            for s in 0..self.stacks.len() {
                if self.stacks[s].poll_at().is_some_and(|t| t <= self.now) {
                    self.call(s, |st, out, now| st.on_timer(out, now));
                }
            }
        }
        self.now = self.now.max(until);
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }
}
