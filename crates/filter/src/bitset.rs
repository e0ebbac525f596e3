//! Interned rule bitsets with one-level summaries (aggregated bit vectors), and the per-field
//! interval tables that map a packet's field value to one of them.
//!
//! A field (protocol, source address, destination address, source port, destination port,
//! flags) is cut into elementary intervals at every rule boundary; each interval stores the id
//! of the set of rules that accept any value in it. Identical sets are stored once.

use std::collections::HashMap;

/// A store of equal-length bitsets over the rules of one family, each with a summary that has
/// bit `j` set when word `j` is non-zero (so the classifier skips runs of empty words).
#[derive(Debug, Clone, Default)]
pub struct Sets {
    /// Words per bitset.
    pub words: usize,
    /// Words per summary.
    pub swords: usize,
    bits: Vec<u64>,
    summary: Vec<u64>,
    index: HashMap<Vec<u64>, u32>,
}

impl Sets {
    /// A store for bitsets of `n` bits.
    pub fn new(n: usize) -> Sets {
        let words = n.div_ceil(64).max(1);
        Sets {
            words,
            swords: words.div_ceil(64),
            ..Sets::default()
        }
    }

    /// The id of `set` (which must have `words` words), storing it if new.
    pub fn intern(&mut self, set: &[u64]) -> u32 {
        if let Some(id) = self.index.get(set) {
            return *id;
        }
        // Ids are bounded by the number of elementary intervals, far below u32::MAX.
        let id = (self.bits.len() / self.words.max(1)) as u32;
        self.bits.extend_from_slice(set);
        let mut sum = vec![0u64; self.swords];
        for (j, w) in set.iter().enumerate() {
            if *w != 0 {
                if let Some(s) = sum.get_mut(j / 64) {
                    *s |= 1 << (j % 64);
                }
            }
        }
        self.summary.extend_from_slice(&sum);
        self.index.insert(set.to_vec(), id);
        id
    }

    /// Drops the dedup index once building is over (it doubles the memory otherwise).
    pub fn seal(&mut self) {
        self.index = HashMap::new();
        self.bits.shrink_to_fit();
        self.summary.shrink_to_fit();
    }

    /// The words and the summary of set `id` (empty slices for an unknown id).
    #[inline]
    pub fn get(&self, id: u32) -> (&[u64], &[u64]) {
        let i = id as usize;
        let b = self
            .bits
            .get(i * self.words..(i + 1) * self.words)
            .unwrap_or_default();
        let s = self
            .summary
            .get(i * self.swords..(i + 1) * self.swords)
            .unwrap_or_default();
        (b, s)
    }

    /// The first word of set `id` (the whole set when the sets have one word).
    #[inline]
    pub fn word(&self, id: u32) -> u64 {
        self.bits
            .get(id as usize * self.words)
            .copied()
            .unwrap_or(0)
    }

    /// Heap bytes used.
    pub fn memory(&self) -> usize {
        (self.bits.capacity() + self.summary.capacity()) * 8
    }
}

/// A key type for interval tables: an unsigned integer.
pub trait Key: Copy + Ord + std::hash::Hash + Default {
    /// The largest value.
    const MAX: Self;
    /// Zero.
    const ZERO: Self;
    /// `self + 1`, or `None` at `MAX`.
    fn succ(self) -> Option<Self>;
}

macro_rules! key {
    ($($t:ty),*) => {$(
        impl Key for $t {
            const MAX: Self = <$t>::MAX;
            const ZERO: Self = 0;
            fn succ(self) -> Option<Self> { self.checked_add(1) }
        }
    )*};
}
key!(u8, u16, u32, u128);

/// A field cut into elementary intervals: `starts[i]` begins interval `i`, whose rule set is
/// `ids[i]` in the field's [`Sets`].
#[derive(Debug, Clone, Default)]
pub struct Intervals<K> {
    /// Sorted interval starts; the first is zero.
    pub starts: Vec<K>,
    /// Set id per interval.
    pub ids: Vec<u32>,
}

impl<K: Key> Intervals<K> {
    /// Builds the intervals of a field from each rule's accepted inclusive ranges
    /// (`ranges[r]` for local rule `r`; ranges of one rule must not overlap).
    pub fn build(ranges: &[Vec<(K, K)>], sets: &mut Sets) -> Intervals<K> {
        let mut events: Vec<(K, usize, bool)> = Vec::new();
        for (r, rs) in ranges.iter().enumerate() {
            for &(lo, hi) in rs {
                events.push((lo, r, true));
                if let Some(after) = hi.succ() {
                    events.push((after, r, false));
                }
            }
        }
        events.sort_unstable_by_key(|e| e.0);
        let mut cur = vec![0u64; sets.words];
        let mut starts = Vec::new();
        let mut ids = Vec::new();
        let mut i = 0;
        let mut point = K::ZERO;
        loop {
            while let Some(&(p, r, add)) = events.get(i) {
                if p != point {
                    break;
                }
                if let Some(w) = cur.get_mut(r / 64) {
                    if add {
                        *w |= 1 << (r % 64);
                    } else {
                        *w &= !(1 << (r % 64));
                    }
                }
                i += 1;
            }
            starts.push(point);
            ids.push(sets.intern(&cur));
            match events.get(i) {
                Some(&(p, _, _)) => point = p,
                None => break,
            }
        }
        Intervals { starts, ids }
    }

    /// The set id of the interval holding `v`.
    #[inline]
    pub fn lookup(&self, v: K) -> u32 {
        let i = self.starts.partition_point(|s| *s <= v);
        self.ids.get(i.wrapping_sub(1)).copied().unwrap_or(0)
    }

    /// A direct table for small keys: entry `v` is the set id for value `v` (`len` entries).
    pub fn direct(&self, len: usize, to_key: impl Fn(usize) -> K) -> Vec<u32> {
        // One walk over the values and the intervals together (no search per value).
        let mut out = Vec::with_capacity(len);
        let mut i = 0;
        for v in 0..len {
            let k = to_key(v);
            while self.starts.get(i + 1).is_some_and(|s| *s <= k) {
                i += 1;
            }
            out.push(self.ids.get(i).copied().unwrap_or(0));
        }
        out
    }

    /// Heap bytes used.
    pub fn memory(&self) -> usize {
        self.starts.capacity() * std::mem::size_of::<K>() + self.ids.capacity() * 4
    }
}
