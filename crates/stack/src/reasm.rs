//! IPv4 reassembly (RFC 791, RFC 815's hole descriptors) with a memory limit over all datagrams
//! in progress and a time limit per datagram.

use crate::hash::SeededMap;
use crate::Instant;
use std::net::Ipv4Addr;
use wire::{Ipv4Packet, PacketBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
    pub(crate) ident: u16,
    pub(crate) protocol: u8,
}

#[derive(Debug)]
struct Datagram {
    /// The first fragment's header (offset 0), once it has arrived.
    header: Option<Vec<u8>>,
    data: Vec<u8>,
    /// Inclusive byte ranges still missing; `u32::MAX` as a hole's end is "to the unknown end".
    holes: Vec<(u32, u32)>,
    deadline: Instant,
}

impl Datagram {
    fn cost(&self) -> usize {
        self.data.capacity() + self.header.as_ref().map_or(0, Vec::len) + 64
    }
}

/// A datagram given up on: what an ICMP time-exceeded (reassembly) needs.
#[derive(Debug)]
pub(crate) struct Expired {
    /// The first fragment's header and up to 8 bytes after it, when the first fragment came.
    pub(crate) quote: Option<Vec<u8>>,
}

/// What a fragment did.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Stored; more are needed.
    Pending,
    /// The whole datagram, header rewritten as unfragmented.
    Complete(PacketBuf),
    /// Dropped: malformed, over a limit.
    Dropped,
}

#[derive(Debug)]
pub(crate) struct Reassembler {
    table: SeededMap<Key, Datagram>,
    mem: usize,
    pub(crate) mem_limit: usize,
    pub(crate) max_datagrams: usize,
    pub(crate) timeout: std::time::Duration,
    /// RFC 4293 ipSystemStatsReasmFails.
    pub(crate) fails: u64,
    /// ipSystemStatsReasmOKs.
    pub(crate) oks: u64,
    /// ipSystemStatsReasmReqds.
    pub(crate) reqds: u64,
}

impl Reassembler {
    pub(crate) fn new(
        hash_seed: u64,
        mem_limit: usize,
        max_datagrams: usize,
        timeout: std::time::Duration,
    ) -> Self {
        Reassembler {
            table: crate::hash::seeded(hash_seed),
            mem: 0,
            mem_limit,
            max_datagrams,
            timeout,
            fails: 0,
            oks: 0,
            reqds: 0,
        }
    }

    /// Bytes held.
    pub(crate) fn mem(&self) -> usize {
        self.mem
    }

    /// Datagrams in progress.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Adds one fragment (`packet`: a checked IPv4 datagram that is a fragment).
    pub(crate) fn add(&mut self, packet: &[u8], now: Instant) -> Outcome {
        self.reqds += 1;
        let Ok(p) = Ipv4Packet::new_checked(packet) else {
            return Outcome::Dropped;
        };
        let key = Key {
            src: p.src_addr(),
            dst: p.dst_addr(),
            ident: p.ident(),
            protocol: p.protocol().into(),
        };
        let offset = u32::from(p.frag_offset());
        let payload = p.payload();
        let more = p.more_frags();
        let len = payload.len() as u32;
        // Every fragment but the last carries a multiple of 8 bytes; nothing ends past 65535.
        if len == 0
            || (more && !len.is_multiple_of(8))
            || offset + len + p.header_len() as u32 > 65535
        {
            self.fails += 1;
            return Outcome::Dropped;
        }
        if !self.table.contains_key(&key) {
            if self.table.len() >= self.max_datagrams || self.mem + 64 > self.mem_limit {
                self.fails += 1;
                return Outcome::Dropped;
            }
            let d = Datagram {
                header: None,
                data: Vec::new(),
                holes: vec![(0, u32::MAX)],
                deadline: now + self.timeout,
            };
            self.mem += d.cost();
            self.table.insert(key, d);
        }
        let Some(d) = self.table.get_mut(&key) else {
            return Outcome::Dropped;
        };
        let first = offset;
        let last = offset + len - 1;
        let old_cost = d.cost();
        let needed = (last + 1) as usize;
        if needed > d.data.len() {
            let grow = needed - d.data.len();
            if self.mem + grow > self.mem_limit {
                // Over the memory limit: give the whole datagram up.
                let cost = d.cost();
                self.table.remove(&key);
                self.mem = self.mem.saturating_sub(cost);
                self.fails += 1;
                return Outcome::Dropped;
            }
            d.data.resize(needed, 0);
        }
        // RFC 815 section 3.
        let mut new_holes = Vec::with_capacity(d.holes.len() + 1);
        for &(hf, hl) in &d.holes {
            if first > hl || last < hf {
                new_holes.push((hf, hl));
                continue;
            }
            if first > hf {
                new_holes.push((hf, first - 1));
            }
            if last < hl && more {
                new_holes.push((last + 1, hl));
            }
        }
        if !more {
            // The end is known: nothing past it can be missing.
            new_holes.retain(|&(hf, _)| hf <= last);
            for h in &mut new_holes {
                h.1 = h.1.min(last);
            }
        }
        d.holes = new_holes;
        if let Some(dst) = d.data.get_mut(first as usize..=last as usize) {
            dst.copy_from_slice(payload);
        }
        if offset == 0 {
            d.header = Some(p.header().to_vec());
        }
        self.mem = self.mem.saturating_sub(old_cost) + d.cost();
        if !d.holes.is_empty() {
            return Outcome::Pending;
        }
        let Some(d) = self.table.remove(&key) else {
            return Outcome::Dropped;
        };
        self.mem = self.mem.saturating_sub(d.cost());
        let Some(header) = d.header else {
            self.fails += 1;
            return Outcome::Dropped;
        };
        let total = header.len() + d.data.len();
        if total > 65535 {
            self.fails += 1;
            return Outcome::Dropped;
        }
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 0);
        buf.extend_from_slice(&header);
        buf.extend_from_slice(&d.data);
        let mut ip = Ipv4Packet::new_unchecked(buf.as_mut_slice());
        ip.set_total_len(total as u16);
        ip.set_more_frags(false);
        ip.set_frag_offset(0);
        ip.fill_checksum();
        self.oks += 1;
        Outcome::Complete(buf)
    }

    /// Gives up on datagrams past their time.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<Expired> {
        let mut out = Vec::new();
        let mut freed = 0;
        self.table.retain(|_, d| {
            if d.deadline > now {
                return true;
            }
            freed += d.cost();
            let quote = d.header.as_ref().map(|h| {
                let mut q = h.clone();
                q.extend_from_slice(d.data.get(..8.min(d.data.len())).unwrap_or(&[]));
                q
            });
            out.push(Expired { quote });
            false
        });
        self.mem = self.mem.saturating_sub(freed);
        self.fails += out.len() as u64;
        out
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.table.values().map(|d| d.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use wire::{IpProtocol, Ipv4OptionsBuf, Ipv4Repr};

    fn fragment(data: &[u8], off: usize, len: usize, more: bool) -> Vec<u8> {
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Udp,
            payload_len: len,
            ttl: 64,
            tos: 0,
            ident: 7,
            dont_frag: false,
            more_frags: more,
            frag_offset: off as u16,
            options: Ipv4OptionsBuf::new(),
        };
        let mut b = vec![0u8; 20 + len];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
        b[20..].copy_from_slice(&data[off..off + len]);
        b
    }

    proptest! {
        /// Any order, with duplicates and overlaps, gives the datagram back whole.
        #[test]
        fn any_order(len in 1usize..3000, chunk in 1usize..64, seed in any::<u64>(), dup in any::<bool>()) {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let step = chunk * 8;
            let mut frags = Vec::new();
            let mut off = 0;
            while off < len {
                let l = step.min(len - off);
                frags.push(fragment(&data, off, l, off + l < len));
                off += l;
            }
            if dup && frags.len() > 1 {
                let f = frags[0].clone();
                frags.push(f);
            }
            let mut rng = crate::XorShiftRng::new(seed);
            for i in (1..frags.len()).rev() {
                let j = crate::Rng::below(&mut rng, i as u32 + 1) as usize;
                frags.swap(i, j);
            }
            let mut r = Reassembler::new(7, 1 << 20, 16, std::time::Duration::from_secs(30));
            let mut got = None;
            for f in &frags {
                if let Outcome::Complete(b) = r.add(f, Instant::ZERO) {
                    got = Some(b);
                }
            }
            let b = got.expect("complete");
            prop_assert_eq!(&b.as_slice()[20..], &data[..]);
            prop_assert!(Ipv4Packet::new_checked(b.as_slice()).unwrap().verify_checksum());
            // A duplicate that comes after completion starts a new partial datagram, which
            // only the timer removes.
            prop_assert!(r.len() <= usize::from(dup));
            if r.len() == 0 {
                prop_assert_eq!(r.mem(), 0);
            }
        }
    }

    #[test]
    fn expiry_and_memory_limit() {
        let data = vec![1u8; 4000];
        let mut r = Reassembler::new(7, 3000, 16, std::time::Duration::from_secs(30));
        assert!(matches!(
            r.add(&fragment(&data, 0, 1480, true), Instant::ZERO),
            Outcome::Pending
        ));
        assert!(r.expire(Instant::from_secs(29)).is_empty());
        let e = r.expire(Instant::from_secs(30));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].quote.as_ref().unwrap().len(), 28);
        assert_eq!(r.mem(), 0);
        // Two fragments exceed 3000 bytes of memory.
        r.add(&fragment(&data, 0, 1480, true), Instant::ZERO);
        assert!(matches!(
            r.add(&fragment(&data, 2960, 1040, false), Instant::ZERO),
            Outcome::Dropped
        ));
        assert_eq!(r.mem(), 0);
    }
}
