//! The blocks the filter server sets, and the table the data path consults for each datagram.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::rule::Proto;

/// A timed block on an offending source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Unique within one engine, in the order the blocks were set.
    pub id: u64,
    /// The rule that set it.
    pub rule: String,
    /// The blocked source.
    pub source: IpAddr,
    /// The traffic blocked.
    pub protocol: Proto,
    /// For a port block: the destination address and port; `None`: everything of `protocol`.
    pub destination: Option<(IpAddr, u16)>,
    /// When it was set (the engine's clock).
    pub since: Duration,
    /// When it ends.
    pub until: Duration,
}

impl Block {
    /// Whether a datagram from `src` to `dst` of IP protocol `protocol` is stopped by this
    /// block. `dst_port` is `None` where no port can be read (a later fragment, ICMP): a port
    /// block lets those pass, as the packet filter does.
    pub fn stops(&self, src: IpAddr, dst: IpAddr, protocol: u8, dst_port: Option<u16>) -> bool {
        if self.source != src || !self.protocol.covers(protocol) {
            return false;
        }
        match self.destination {
            None => true,
            Some((ip, port)) => ip == dst && dst_port == Some(port),
        }
    }

    /// Whether `other` stops the same traffic.
    pub fn same_traffic(&self, other: &Block) -> bool {
        self.source == other.source
            && self.protocol == other.protocol
            && self.destination == other.destination
    }
}

/// What one block needs on the data path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stop {
    protocol: Proto,
    destination: Option<(IpAddr, u16)>,
}

/// The blocks in force, by source: one hash lookup per datagram.
#[derive(Debug, Clone, Default)]
pub struct BlockTable {
    by_source: HashMap<IpAddr, Vec<Stop>>,
}

impl BlockTable {
    /// The table for `blocks`.
    pub fn new<'a>(blocks: impl IntoIterator<Item = &'a Block>) -> BlockTable {
        let mut by_source: HashMap<IpAddr, Vec<Stop>> = HashMap::new();
        for b in blocks {
            by_source.entry(b.source).or_default().push(Stop {
                protocol: b.protocol,
                destination: b.destination,
            });
        }
        BlockTable { by_source }
    }

    /// Whether no block is in force.
    pub fn is_empty(&self) -> bool {
        self.by_source.is_empty()
    }

    /// Whether a datagram is stopped (see [`Block::stops`]).
    pub fn stops(&self, src: IpAddr, dst: IpAddr, protocol: u8, dst_port: Option<u16>) -> bool {
        let Some(stops) = self.by_source.get(&src) else {
            return false;
        };
        stops.iter().any(|s| {
            s.protocol.covers(protocol)
                && match s.destination {
                    None => true,
                    Some((ip, port)) => ip == dst && dst_port == Some(port),
                }
        })
    }
}

/// The table in force, shared between the filter server (which replaces it) and the data path
/// (which reads it per datagram; with no block in force it costs one atomic load).
#[derive(Debug, Default)]
pub struct BlockSlot {
    any: AtomicBool,
    table: RwLock<Arc<BlockTable>>,
}

impl BlockSlot {
    /// Puts `table` in force.
    pub fn replace(&self, table: BlockTable) {
        let any = !table.is_empty();
        let mut g = self.table.write().unwrap_or_else(|e| e.into_inner());
        *g = Arc::new(table);
        self.any.store(any, Ordering::Release);
    }

    /// The table in force, or `None` when it is empty.
    pub fn load(&self) -> Option<Arc<BlockTable>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let g = self.table.read().unwrap_or_else(|e| e.into_inner());
        Some(Arc::clone(&g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block(source: [u8; 4], protocol: Proto, destination: Option<([u8; 4], u16)>) -> Block {
        Block {
            id: 0,
            rule: "r".into(),
            source: IpAddr::from(source),
            protocol,
            destination: destination.map(|(a, p)| (IpAddr::from(a), p)),
            since: Duration::ZERO,
            until: Duration::from_secs(60),
        }
    }

    #[test]
    fn source_and_port_blocks_stop_what_they_name() {
        let (a, b, us) = (
            IpAddr::from([10, 0, 0, 1]),
            IpAddr::from([10, 0, 0, 2]),
            IpAddr::from([10, 0, 0, 9]),
        );
        let all = block([10, 0, 0, 1], Proto::Ip, None);
        assert!(all.stops(a, us, 1, None) && all.stops(a, us, 6, Some(22)));
        assert!(!all.stops(b, us, 6, Some(22)));
        let udp = block([10, 0, 0, 1], Proto::Udp, None);
        assert!(udp.stops(a, us, 17, Some(161)) && !udp.stops(a, us, 6, Some(161)));
        let port = block([10, 0, 0, 2], Proto::Tcp, Some(([10, 0, 0, 9], 23)));
        assert!(port.stops(b, us, 6, Some(23)));
        assert!(!port.stops(b, us, 6, Some(22)), "another port");
        assert!(!port.stops(b, a, 6, Some(23)), "another destination");
        assert!(!port.stops(b, us, 17, Some(23)), "another transport");
        assert!(!port.stops(b, us, 6, None), "a later fragment");
    }

    #[test]
    fn the_slot_costs_nothing_when_empty() {
        let slot = BlockSlot::default();
        assert!(slot.load().is_none());
        slot.replace(BlockTable::new(&[block([1, 2, 3, 4], Proto::Ip, None)]));
        assert!(slot.load().is_some());
        slot.replace(BlockTable::default());
        assert!(slot.load().is_none());
    }

    fn any_block() -> impl Strategy<Value = Block> {
        (
            0u8..4,
            prop_oneof![
                Just(Proto::Ip),
                Just(Proto::Icmp),
                Just(Proto::Tcp),
                Just(Proto::Udp)
            ],
            proptest::option::of((0u8..3, 0u16..3)),
        )
            .prop_map(|(s, p, d)| block([10, 0, 0, s], p, d.map(|(a, port)| ([10, 9, 0, a], port))))
    }

    proptest! {
        /// The table's answer is the same as asking every block in turn.
        #[test]
        fn the_table_agrees_with_the_blocks(
            blocks in proptest::collection::vec(any_block(), 0..8),
            src in 0u8..5, dst in 0u8..3, protocol in prop_oneof![Just(1u8), Just(6), Just(17), Just(47)],
            port in proptest::option::of(0u16..3),
        ) {
            let table = BlockTable::new(&blocks);
            let (src, dst) = (IpAddr::from([10, 0, 0, src]), IpAddr::from([10, 9, 0, dst]));
            let linear = blocks.iter().any(|b| b.stops(src, dst, protocol, port));
            prop_assert_eq!(table.stops(src, dst, protocol, port), linear);
        }
    }
}
