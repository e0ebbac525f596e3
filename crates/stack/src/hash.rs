//! Hash maps for the stack's tables.
//!
//! Two kinds, both a few multiplications per key rather than SipHash's rounds (a measurable
//! part of a per-frame lookup):
//!
//! - [`SeededMap`] (foldhash, seeded from the stack's secret) for the tables keyed by what
//!   arrives from the network: connections, TIME-WAIT, reassembly, ARP (addresses, ports and
//!   datagram identifiers a peer chooses). A sender cannot work out keys that collide (hash
//!   flooding); those tables are bounded as well.
//! - [`FastMap`] (FxHash, as in rustc: one rotate, xor and multiply per word) for keys the
//!   administrator configures or the stack makes itself (routes, our addresses, groups,
//!   handles). The route lookup hashes once per prefix length per forwarded packet, where
//!   foldhash cost the forwarding benchmark about 15% (docs/PERFORMANCE.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The build-hasher of the seeded maps.
pub(crate) type Seed = foldhash::fast::FixedState;

/// A `HashMap` whose hashes depend on the stack's secret.
pub(crate) type SeededMap<K, V> = HashMap<K, V, Seed>;

/// An empty [`SeededMap`] hashing with `seed` (from the stack's secret).
pub(crate) fn seeded<K, V>(seed: u64) -> SeededMap<K, V> {
    HashMap::with_hasher(Seed::with_seed(seed))
}

/// FxHash (as in rustc): one rotate, xor and multiply per word.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(4);
        for c in &mut chunks {
            self.add(u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        for b in chunks.remainder() {
            self.add(u64::from(*b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`], for keys the administrator configures.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashSet` with [`FxHasher`], for keys the administrator configures or the stack makes.
pub(crate) type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;
