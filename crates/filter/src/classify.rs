//! The compiled classifier: bitmap intersection over six fields, per address family.
//!
//! Each field value selects the set of rules that accept it (see [`crate::bitset`]); the rules
//! that match a packet are the intersection of its six sets, and the first match is the lowest
//! set bit whose time window is open. The summaries let the scan skip 64 words (4096 rules) at a
//! time, so the cost per packet grows only slowly with the list: two binary searches on the
//! addresses, four table lookups and a short scan.
//!
//! Equal to [`reference`](crate::packet::reference) on every packet (property-tested).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::bitset::{Intervals, Key, Sets};
use crate::packet::{addr_key, Decided, Packet, Verdict, TCP_ACK, TCP_RST};
use wire::prefix::Family;

use crate::rule::{Action, Rule, Window};

/// The six per-field sets of one family's rules.
#[derive(Debug, Clone, Default)]
struct Table<K> {
    /// Global rule index of each local rule (ascending, so local order is file order).
    global: Vec<u32>,
    /// The window of each local rule; `None` for always (the common, fast case).
    windows: Vec<Option<Window>>,
    proto: Vec<u32>,
    proto_sets: Sets,
    src: Intervals<K>,
    src_sets: Sets,
    dst: Intervals<K>,
    dst_sets: Sets,
    /// Set of rules whose destination test passes when the destination is of the other family
    /// (only rules without addresses).
    dst_foreign: u32,
    /// Set id per source port: a direct table of all 65,536 ports (256 KB). Measured faster
    /// than searching the few port intervals, even for 10-rule lists.
    sport: Vec<u32>,
    sport_sets: Sets,
    /// Set id per destination port (or ICMP type), as `sport`.
    dport: Vec<u32>,
    dport_sets: Sets,
    /// Indexed by `ack_or_rst | later_fragment << 1`.
    flags: [u32; 4],
    flag_sets: Sets,
}

fn full<K: Key>() -> Vec<(K, K)> {
    vec![(K::ZERO, K::MAX)]
}

impl<K: Key> Table<K> {
    fn build(rules: &[Rule], family: Family, key: impl Fn(u128) -> K) -> Table<K> {
        let picked: Vec<(usize, &Rule)> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.family.is_none_or(|f| f == family))
            .collect();
        let n = picked.len();
        let mut t = Table {
            global: picked.iter().map(|(i, _)| *i as u32).collect(),
            windows: picked
                .iter()
                .map(|(_, r)| (r.window != Window::Always).then_some(r.window))
                .collect(),
            proto_sets: Sets::new(n),
            src_sets: Sets::new(n),
            dst_sets: Sets::new(n),
            sport_sets: Sets::new(n),
            dport_sets: Sets::new(n),
            flag_sets: Sets::new(n),
            ..Table::default()
        };
        let proto: Vec<Vec<(u8, u8)>> = picked
            .iter()
            .map(|(_, r)| match r.proto.number(family) {
                Some(p) => vec![(p, p)],
                None => full(),
            })
            .collect();
        t.proto = Intervals::build(&proto, &mut t.proto_sets).direct(256, |v| v as u8);
        let prefix_ranges = |dst: bool| -> Vec<Vec<(K, K)>> {
            picked
                .iter()
                .map(|(_, r)| {
                    if r.family.is_none() {
                        return full();
                    }
                    let (lo, hi) = if dst { r.dst.range() } else { r.src.range() };
                    vec![(key(lo), key(hi))]
                })
                .collect()
        };
        t.src = Intervals::build(&prefix_ranges(false), &mut t.src_sets);
        t.dst = Intervals::build(&prefix_ranges(true), &mut t.dst_sets);
        let mut foreign = vec![0u64; t.dst_sets.words];
        for (l, (_, r)) in picked.iter().enumerate() {
            if r.family.is_none() {
                if let Some(w) = foreign.get_mut(l / 64) {
                    *w |= 1 << (l % 64);
                }
            }
        }
        t.dst_foreign = t.dst_sets.intern(&foreign);
        let ports = |dst: bool| -> Vec<Vec<(u16, u16)>> {
            picked
                .iter()
                .map(|(_, r)| match if dst { r.dport } else { r.sport } {
                    Some(m) => m.ranges(u16::MAX),
                    None => full(),
                })
                .collect()
        };
        t.sport = Intervals::build(&ports(false), &mut t.sport_sets).direct(65536, |v| v as u16);
        t.dport = Intervals::build(&ports(true), &mut t.dport_sets).direct(65536, |v| v as u16);
        for (class, id) in t.flags.iter_mut().enumerate() {
            let ack_rst = class & 1 != 0;
            let later = class & 2 != 0;
            let mut set = vec![0u64; t.flag_sets.words];
            for (l, (_, r)) in picked.iter().enumerate() {
                let needs_header =
                    r.proto.has_ports() || r.sport.is_some() || r.dport.is_some() || r.established;
                let ok = (!r.established || ack_rst) && !(later && needs_header);
                if ok {
                    if let Some(w) = set.get_mut(l / 64) {
                        *w |= 1 << (l % 64);
                    }
                }
            }
            *id = t.flag_sets.intern(&set);
        }
        for s in [
            &mut t.proto_sets,
            &mut t.src_sets,
            &mut t.dst_sets,
            &mut t.sport_sets,
            &mut t.dport_sets,
            &mut t.flag_sets,
        ] {
            s.seal();
        }
        t
    }

    /// The global index of the first local rule matching, if any.
    #[inline]
    fn first_match(&self, p: &Packet, src: K, dst: Option<K>) -> Option<u32> {
        let class = usize::from(p.tcp_flags & (TCP_ACK | TCP_RST) != 0)
            | usize::from(p.is_later_fragment()) << 1;
        let ids = [
            self.proto
                .get(usize::from(p.protocol))
                .copied()
                .unwrap_or(0),
            self.src.lookup(src),
            match dst {
                Some(d) => self.dst.lookup(d),
                None => self.dst_foreign,
            },
            self.sport
                .get(usize::from(p.src_port))
                .copied()
                .unwrap_or(0),
            self.dport
                .get(usize::from(p.dst_port))
                .copied()
                .unwrap_or(0),
            self.flags.get(class).copied().unwrap_or(0),
        ];
        if self.global.len() <= 64 {
            // Up to 64 rules: each set is one word, no summaries to consult.
            let mut bits = self.proto_sets.word(ids[0])
                & self.src_sets.word(ids[1])
                & self.dst_sets.word(ids[2])
                & self.sport_sets.word(ids[3])
                & self.dport_sets.word(ids[4])
                & self.flag_sets.word(ids[5]);
            while bits != 0 {
                let local = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let open = match self.windows.get(local) {
                    Some(Some(win)) => win.active(p.time),
                    Some(None) => true,
                    None => false,
                };
                if open {
                    return self.global.get(local).copied();
                }
            }
            return None;
        }
        let (b0, s0) = self.proto_sets.get(ids[0]);
        let (b1, s1) = self.src_sets.get(ids[1]);
        let (b2, s2) = self.dst_sets.get(ids[2]);
        let (b3, s3) = self.sport_sets.get(ids[3]);
        let (b4, s4) = self.dport_sets.get(ids[4]);
        let (b5, s5) = self.flag_sets.get(ids[5]);
        // All six bitsets have `words` words; cutting them to one length lets the compiler drop
        // the bounds checks below.
        let n = b0
            .len()
            .min(b1.len())
            .min(b2.len())
            .min(b3.len())
            .min(b4.len())
            .min(b5.len());
        let (b0, b1, b2, b3, b4, b5) = (
            b0.get(..n).unwrap_or_default(),
            b1.get(..n).unwrap_or_default(),
            b2.get(..n).unwrap_or_default(),
            b3.get(..n).unwrap_or_default(),
            b4.get(..n).unwrap_or_default(),
            b5.get(..n).unwrap_or_default(),
        );
        // The rules of word `w` that match the packet, in order: the first whose window is
        // open decides.
        let decide = |w: usize, addrs: u64| -> Option<u32> {
            let mut bits = addrs & b0[w] & b3[w] & b4[w] & b5[w];
            while bits != 0 {
                let local = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let open = match self.windows.get(local) {
                    Some(Some(win)) => win.active(p.time),
                    Some(None) => true,
                    None => false,
                };
                if open {
                    return self.global.get(local).copied();
                }
            }
            None
        };
        let sums = s0.iter().zip(s1).zip(s2).zip(s3).zip(s4).zip(s5);
        for (j, (((((a, b), c), d), e), f)) in sums.enumerate() {
            let mut m = a & b & c & d & e & f;
            let block = n.saturating_sub(j * 64).min(64);
            if m.count_ones() as usize * 2 >= block {
                // Dense block (wildcard rules spread over the whole list): the summaries cannot
                // skip, so test the addresses four words at a time, branching once per four.
                let base = j * 64;
                let end = (base + 64).min(n);
                let mut w = base;
                while w + 4 <= end {
                    let any = (b1[w] & b2[w])
                        | (b1[w + 1] & b2[w + 1])
                        | (b1[w + 2] & b2[w + 2])
                        | (b1[w + 3] & b2[w + 3]);
                    if any != 0 {
                        for k in w..w + 4 {
                            let addrs = b1[k] & b2[k];
                            if addrs != 0 {
                                if let Some(g) = decide(k, addrs) {
                                    return Some(g);
                                }
                            }
                        }
                    }
                    w += 4;
                }
                for k in w..end {
                    let addrs = b1[k] & b2[k];
                    if addrs != 0 {
                        if let Some(g) = decide(k, addrs) {
                            return Some(g);
                        }
                    }
                }
                continue;
            }
            while m != 0 {
                let w = j * 64 + m.trailing_zeros() as usize;
                m &= m - 1;
                if w >= n {
                    break;
                }
                // Addresses are the most selective fields: test them first and skip the rest
                // of the word when they share no rule.
                let addrs = b1[w] & b2[w];
                if addrs != 0 {
                    if let Some(g) = decide(w, addrs) {
                        return Some(g);
                    }
                }
            }
        }
        None
    }

    fn memory(&self) -> usize {
        self.global.capacity() * 4
            + self.windows.capacity() * std::mem::size_of::<Option<Window>>()
            + (self.proto.capacity() + self.sport.capacity() + self.dport.capacity()) * 4
            + self.src.memory()
            + self.dst.memory()
            + self.proto_sets.memory()
            + self.src_sets.memory()
            + self.dst_sets.memory()
            + self.sport_sets.memory()
            + self.dport_sets.memory()
            + self.flag_sets.memory()
    }
}

/// Packet and byte counts of one rule (or of the implicit deny).
#[derive(Debug, Default)]
pub struct Counter {
    /// Packets counted.
    pub packets: AtomicU64,
    /// Bytes counted.
    pub bytes: AtomicU64,
}

impl Counter {
    fn add(&self, bytes: u32) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(u64::from(bytes), Ordering::Relaxed);
    }

    /// A snapshot: (packets, bytes).
    pub fn get(&self) -> (u64, u64) {
        (
            self.packets.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// A compiled filter list with its hit counters.
///
/// Built once per list ([`Classifier::compile`]); shared between threads behind an `Arc` (see
/// [`FilterSlot`] for atomic replacement).
#[derive(Debug)]
pub struct Classifier {
    rules: Vec<Rule>,
    actions: Vec<Action>,
    v4: Table<u32>,
    v6: Table<u128>,
    counters: Vec<Counter>,
    implicit: Counter,
    fragments: Counter,
}

/// The counters of a list, as a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Hits {
    /// (packets, bytes) per rule, in list order.
    pub rules: Vec<(u64, u64)>,
    /// (packets, bytes) refused by the implicit deny.
    pub implicit: (u64, u64),
    /// (packets, bytes) of later TCP/UDP fragments passed.
    pub fragments: (u64, u64),
}

impl Classifier {
    /// Compiles a rule list (usually [`FilterList::rules`](crate::FilterList::rules)).
    pub fn compile(rules: &[Rule]) -> Classifier {
        // The IPv4 value sits in the low 32 bits, so the truncation is exact.
        let v4 = Table::build(rules, Family::V4, |v| v as u32);
        let v6 = Table::build(rules, Family::V6, |v| v);
        Classifier {
            rules: rules.to_vec(),
            actions: rules.iter().map(|r| r.action).collect(),
            v4,
            v6,
            counters: rules.iter().map(|_| Counter::default()).collect(),
            implicit: Counter::default(),
            fragments: Counter::default(),
        }
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Classifies a packet without counting it (the dry run of `netcu test filter`).
    #[inline]
    pub fn classify(&self, p: &Packet) -> Verdict {
        let (fam, src) = addr_key(p.src);
        let (dfam, dst) = addr_key(p.dst);
        let dst = (dfam == fam).then_some(dst);
        let hit = match fam {
            // IPv4 keys are in the low 32 bits.
            Family::V4 => self.v4.first_match(p, src as u32, dst.map(|d| d as u32)),
            Family::V6 => self.v6.first_match(p, src, dst),
        };
        match hit {
            Some(g) => {
                let i = g as usize;
                Verdict {
                    action: self.actions.get(i).copied().unwrap_or(Action::Deny),
                    by: Decided::Rule(i),
                }
            }
            None if p.is_later_port_fragment() => Verdict::FRAGMENT,
            None => Verdict::IMPLICIT,
        }
    }

    /// Classifies a packet and counts it against the deciding rule (packets and `p.length`
    /// bytes). Counters are relaxed atomics: safe from any number of threads.
    #[inline]
    pub fn classify_counted(&self, p: &Packet) -> Verdict {
        let v = self.classify(p);
        let c = match v.by {
            Decided::Rule(i) => self.counters.get(i),
            Decided::Implicit => Some(&self.implicit),
            Decided::LaterFragment => Some(&self.fragments),
        };
        if let Some(c) = c {
            c.add(p.length);
        }
        v
    }

    /// A snapshot of all counters.
    pub fn hits(&self) -> Hits {
        Hits {
            rules: self.counters.iter().map(Counter::get).collect(),
            implicit: self.implicit.get(),
            fragments: self.fragments.get(),
        }
    }

    /// Heap bytes of the compiled structure (rules and counters included).
    pub fn memory(&self) -> usize {
        self.v4.memory()
            + self.v6.memory()
            + self.rules.capacity() * std::mem::size_of::<Rule>()
            + self.counters.capacity() * std::mem::size_of::<Counter>()
            + self.actions.capacity()
    }
}

/// The filter of one interface, replaceable atomically.
///
/// The packet path calls [`load`](Self::load) (once per packet or per batch) and classifies with
/// the `Arc` it got; [`replace`](Self::replace) swaps in a new list. A packet is classified
/// entirely by the list it loaded: each packet sees the old list or the new one, never a mix.
/// The old list (and its counters) lives until the last holder drops it.
#[derive(Debug)]
pub struct FilterSlot {
    current: RwLock<Arc<Classifier>>,
}

impl FilterSlot {
    /// A slot holding `c`.
    pub fn new(c: Classifier) -> FilterSlot {
        FilterSlot {
            current: RwLock::new(Arc::new(c)),
        }
    }

    /// The list in force now.
    pub fn load(&self) -> Arc<Classifier> {
        // A poisoned lock still holds a valid Arc (the critical sections cannot half-write it).
        let g = self.current.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&g)
    }

    /// Puts `c` in force and returns the list it replaced.
    pub fn replace(&self, c: Classifier) -> Arc<Classifier> {
        let mut g = self.current.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *g, Arc::new(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Proto;
    use crate::vmstime::LocalTime;
    use std::net::{IpAddr, Ipv4Addr};

    fn tcp() -> Packet {
        Packet {
            src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            protocol: 6,
            src_port: 1,
            dst_port: 2,
            tcp_flags: 0,
            fragment_offset: 0,
            time: LocalTime(0),
            length: 40,
        }
    }

    #[test]
    fn slot_replaces_atomically_and_old_holders_keep_their_list() {
        let slot = FilterSlot::new(Classifier::compile(&[Rule::any(
            1,
            Action::Permit,
            Proto::Tcp,
        )]));
        let old = slot.load();
        let replaced = slot.replace(Classifier::compile(&[Rule::any(
            1,
            Action::Drop,
            Proto::Tcp,
        )]));
        assert!(Arc::ptr_eq(&old, &replaced));
        // A packet already holding the old list is judged by it, entirely.
        assert_eq!(old.classify_counted(&tcp()).action, Action::Permit);
        assert_eq!(slot.load().classify_counted(&tcp()).action, Action::Drop);
        assert_eq!(old.hits().rules, vec![(1, 40)]);
        assert_eq!(slot.load().hits().rules, vec![(1, 40)]);
    }

    #[test]
    fn empty_list_denies_everything() {
        let c = Classifier::compile(&[]);
        assert_eq!(c.classify(&tcp()), Verdict::IMPLICIT);
        assert!(c.memory() > 0);
    }
}
