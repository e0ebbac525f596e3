//! Hash maps for the stack's tables, with foldhash (a few multiplications per key; SipHash's
//! rounds are a measurable part of a per-frame lookup).
//!
//! The connection, TIME-WAIT, reassembly and ARP tables are keyed by what arrives from the
//! network (addresses, ports, datagram identifiers a peer chooses), so their maps take a seed
//! derived from the stack's secret ([`seeded`]): a sender cannot work out keys that collide
//! (hash flooding). Those tables are bounded as well. Maps keyed only by what the administrator
//! configures use the fixed default seed.

use std::collections::{HashMap, HashSet};

/// The build-hasher of every map in the stack.
pub(crate) type Seed = foldhash::fast::FixedState;

/// A `HashMap` with the stack's hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, Seed>;

/// A `HashSet` with the stack's hasher.
pub(crate) type FastSet<K> = HashSet<K, Seed>;

/// An empty map whose hashes depend on `seed` (the stack's secret).
pub(crate) fn seeded<K, V>(seed: u64) -> FastMap<K, V> {
    HashMap::with_hasher(Seed::with_seed(seed))
}
