//! The ARP table (RFC 826, seed 001's SET ARP): resolved, incomplete, permanent, published and
//! proxy entries, and the bounded queue of datagrams waiting for each incomplete one.
//! The protocol itself (requests, replies, retries, aging) runs in [`crate::Stack`].

use crate::hash::{FastMap, SeededMap};
use crate::{IfaceId, Instant};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use wire::{EthernetAddress, PacketBuf};

/// SET ARP's qualifiers for an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ArpFlags {
    /// /PERMANENT: never ages (otherwise /TEMPORARY, the default).
    pub permanent: bool,
    /// /PUBLISH: we answer ARP requests for this address with the entry's hardware address.
    pub publish: bool,
    /// /PROXY: we answer ARP requests for this address with our own hardware address.
    pub proxy: bool,
}

/// Whether an entry holds a hardware address yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpState {
    /// Being resolved: requests sent, datagrams queued.
    Incomplete,
    /// Has a hardware address.
    Resolved,
}

/// One row of SHOW ARP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpEntryView {
    /// The IP address.
    pub addr: Ipv4Addr,
    /// Its hardware address (ours for a proxy entry; none while incomplete).
    pub mac: Option<EthernetAddress>,
    /// The link interface.
    pub iface: IfaceId,
    /// Permanent, published, proxy.
    pub flags: ArpFlags,
    /// Resolved or not.
    pub state: ArpState,
    /// When a temporary entry ages out.
    pub expires: Option<Instant>,
    /// Datagrams waiting for it.
    pub queued: usize,
}

#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) retries_left: u8,
    pub(crate) next_retry: Instant,
    /// Whole IPv4 datagrams, with headroom for the link header.
    pub(crate) queue: VecDeque<PacketBuf>,
}

#[derive(Debug)]
pub(crate) struct ArpEntry {
    pub(crate) iface: IfaceId,
    pub(crate) mac: Option<EthernetAddress>,
    pub(crate) flags: ArpFlags,
    pub(crate) expires: Option<Instant>,
    pub(crate) pending: Option<Pending>,
}

#[derive(Debug, Default)]
pub(crate) struct ArpTable {
    pub(crate) entries: SeededMap<Ipv4Addr, ArpEntry>,
    /// Proxy entries: answer for the address with our own hardware address on every link but
    /// the one where the host lives (when known).
    pub(crate) proxies: FastMap<Ipv4Addr, Option<IfaceId>>,
    /// Datagrams queued over all entries.
    pub(crate) queued: usize,
    /// No entry's timer (retry or expiry) is due before this: a lower bound, kept by [`wake`](Self::wake)
    /// and made exact by [`recompute_timer`](Self::recompute_timer).
    pub(crate) next_timer: Option<Instant>,
}

impl ArpTable {
    /// An empty table whose entries' map is seeded with `hash_seed` (crate::hash): the
    /// addresses come from the network.
    pub(crate) fn new(hash_seed: u64) -> ArpTable {
        ArpTable {
            entries: crate::hash::seeded(hash_seed),
            ..ArpTable::default()
        }
    }

    /// The resolved hardware address for `addr` on `iface`, if usable now.
    #[inline]
    pub(crate) fn lookup(
        &self,
        addr: Ipv4Addr,
        iface: IfaceId,
        now: Instant,
    ) -> Option<EthernetAddress> {
        let e = self.entries.get(&addr)?;
        // A static entry serves whichever link the route picked; a learnt one only its own.
        if e.iface != iface && !(e.flags.permanent || e.flags.publish) {
            return None;
        }
        match e.expires {
            Some(t) if t <= now => None,
            _ => e.mac,
        }
    }

    /// Notes that some entry's timer is due at `t`.
    pub(crate) fn wake(&mut self, t: Instant) {
        self.next_timer = Some(self.next_timer.map_or(t, |n| n.min(t)));
    }

    /// The exact earliest timer, after a scan.
    pub(crate) fn recompute_timer(&mut self) {
        self.next_timer = self
            .entries
            .values()
            .filter_map(|e| e.pending.as_ref().map(|p| p.next_retry).or(e.expires))
            .min();
    }

    /// Drops an entry and its queue; returns the queue.
    pub(crate) fn remove(&mut self, addr: Ipv4Addr) -> Option<ArpEntry> {
        let e = self.entries.remove(&addr)?;
        if let Some(p) = &e.pending {
            self.queued = self.queued.saturating_sub(p.queue.len());
        }
        Some(e)
    }

    pub(crate) fn view(&self, our_mac: impl Fn(IfaceId) -> EthernetAddress) -> Vec<ArpEntryView> {
        let mut v: Vec<ArpEntryView> = self
            .entries
            .iter()
            .map(|(addr, e)| ArpEntryView {
                addr: *addr,
                mac: e.mac,
                iface: e.iface,
                flags: e.flags,
                state: if e.mac.is_some() {
                    ArpState::Resolved
                } else {
                    ArpState::Incomplete
                },
                expires: e.expires,
                queued: e.pending.as_ref().map_or(0, |p| p.queue.len()),
            })
            .collect();
        for (addr, iface) in &self.proxies {
            let iface = iface.unwrap_or(IfaceId(0));
            v.push(ArpEntryView {
                addr: *addr,
                mac: Some(our_mac(iface)),
                iface,
                flags: ArpFlags {
                    permanent: true,
                    publish: true,
                    proxy: true,
                },
                state: ArpState::Resolved,
                expires: None,
                queued: 0,
            });
        }
        v.sort_by_key(|e| u32::from(e.addr));
        v
    }
}
