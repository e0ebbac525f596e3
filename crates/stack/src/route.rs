//! The routing table: connected, host, network and default routes; longest-prefix match in
//! O(number of distinct prefix lengths) hash probes; several default gateways with dead-gateway
//! rotation (seed 000: when ARP for the gateway fails, move to the next).

use crate::hash::FastMap;
use crate::{IfaceId, Instant};
use std::net::Ipv4Addr;
use wire::prefix::{ipv4_mask, Ipv4Prefix};

/// Where a route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// An interface's own network.
    Connected,
    /// A static route to one host (/32).
    Host,
    /// A static route to a network.
    Network,
    /// A default gateway.
    Default,
    /// A host route learnt from ICMP fragmentation-needed (TCP_PMTU), carrying the path MTU.
    PathMtu,
}

/// The answer to "how do I reach this address?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NextHop {
    /// The interface to send on (may be a pd interface; its frames go on its parent's link).
    pub iface: IfaceId,
    /// The gateway, or `None` when the destination is on the link.
    pub gateway: Option<Ipv4Addr>,
    /// A path MTU from the route, if it carries one.
    pub mtu: Option<u16>,
}

/// One row of SHOW ROUTE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    /// Destination.
    pub dest: Ipv4Prefix,
    /// Gateway (none for connected routes).
    pub gateway: Option<Ipv4Addr>,
    /// Interface.
    pub iface: IfaceId,
    /// MTU carried by the route.
    pub mtu: Option<u16>,
    /// Kind.
    pub kind: RouteKind,
    /// For default gateways: the one in use.
    pub active: bool,
    /// For default gateways: declared dead.
    pub dead: bool,
    /// For path-MTU routes: when they expire.
    pub expires: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) gateway: Option<Ipv4Addr>,
    pub(crate) iface: IfaceId,
    pub(crate) mtu: Option<u16>,
    pub(crate) kind: RouteKind,
    pub(crate) expires: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DefaultGw {
    pub(crate) gateway: Ipv4Addr,
    pub(crate) iface: IfaceId,
    pub(crate) mtu: Option<u16>,
    pub(crate) dead_since: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct RouteTable {
    by_len: Vec<FastMap<u32, Route>>,
    /// Bit `l` set when some route of length `l` (1..=32) exists.
    present: u64,
    pub(crate) defaults: Vec<DefaultGw>,
    pub(crate) active_default: usize,
    /// No expiring route expires before this (may be early: then the timer finds nothing).
    pub(crate) next_expiry: Option<Instant>,
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable {
            by_len: (0..=32).map(|_| FastMap::default()).collect(),
            present: 0,
            defaults: Vec::new(),
            active_default: 0,
            next_expiry: None,
        }
    }
}

impl RouteTable {
    /// Inserts or replaces the route to `dest` (not the default: see [`add_default`]).
    pub(crate) fn insert(&mut self, dest: Ipv4Prefix, route: Route) {
        let l = usize::from(dest.prefix_len());
        if let Some(t) = route.expires {
            self.next_expiry = Some(self.next_expiry.map_or(t, |n| n.min(t)));
        }
        if let Some(m) = self.by_len.get_mut(l) {
            m.insert(u32::from(dest.network()), route);
            self.present |= 1 << l;
        }
    }

    pub(crate) fn get(&self, dest: Ipv4Prefix) -> Option<&Route> {
        self.by_len
            .get(usize::from(dest.prefix_len()))?
            .get(&u32::from(dest.network()))
    }

    pub(crate) fn remove(&mut self, dest: Ipv4Prefix) -> Option<Route> {
        let l = usize::from(dest.prefix_len());
        let m = self.by_len.get_mut(l)?;
        let r = m.remove(&u32::from(dest.network()));
        if m.is_empty() {
            self.present &= !(1 << l);
        }
        r
    }

    /// Removes every route matching `f`.
    pub(crate) fn retain(&mut self, mut f: impl FnMut(&Ipv4Prefix, &Route) -> bool) {
        for (l, m) in self.by_len.iter_mut().enumerate() {
            m.retain(|net, r| {
                Ipv4Prefix::new(Ipv4Addr::from(*net), l as u8).is_ok_and(|p| f(&p, r))
            });
            if m.is_empty() {
                self.present &= !(1 << l);
            }
        }
        self.defaults.retain(|d| {
            f(
                &Ipv4Prefix::DEFAULT,
                &Route {
                    gateway: Some(d.gateway),
                    iface: d.iface,
                    mtu: d.mtu,
                    kind: RouteKind::Default,
                    expires: None,
                },
            )
        });
        if self.active_default >= self.defaults.len() {
            self.active_default = 0;
        }
    }

    pub(crate) fn add_default(&mut self, gw: DefaultGw) -> bool {
        if self.defaults.iter().any(|d| d.gateway == gw.gateway) {
            return false;
        }
        self.defaults.push(gw);
        true
    }

    pub(crate) fn remove_default(&mut self, gateway: Option<Ipv4Addr>) -> bool {
        let before = self.defaults.len();
        let active = self.defaults.get(self.active_default).map(|d| d.gateway);
        self.defaults
            .retain(|d| gateway.is_some_and(|g| g != d.gateway));
        self.active_default = active
            .and_then(|a| self.defaults.iter().position(|d| d.gateway == a))
            .unwrap_or(0);
        self.defaults.len() != before
    }

    /// The active default gateway.
    pub(crate) fn active_default(&self) -> Option<&DefaultGw> {
        self.defaults.get(self.active_default)
    }

    /// Declares `gateway` dead; when it is the active default, moves to the next live one
    /// (or, when all are dead, simply to the next). Returns the new active gateway when it changed.
    pub(crate) fn gateway_failed(
        &mut self,
        gateway: Ipv4Addr,
        now: Instant,
    ) -> Option<Option<Ipv4Addr>> {
        let i = self.defaults.iter().position(|d| d.gateway == gateway)?;
        if let Some(d) = self.defaults.get_mut(i) {
            d.dead_since = Some(now);
        }
        if i != self.active_default {
            return None;
        }
        let n = self.defaults.len();
        let next = (1..=n)
            .map(|k| (i + k) % n)
            .find(|&j| self.defaults.get(j).is_some_and(|d| d.dead_since.is_none()))
            .unwrap_or((i + 1) % n);
        self.active_default = next;
        Some(self.defaults.get(next).map(|d| d.gateway))
    }

    /// A reply from a gateway proves it alive.
    pub(crate) fn gateway_alive(&mut self, gateway: Ipv4Addr) {
        for d in &mut self.defaults {
            if d.gateway == gateway {
                d.dead_since = None;
            }
        }
    }

    /// Longest-prefix match.
    #[inline]
    pub(crate) fn lookup(&self, dst: Ipv4Addr, now: Instant) -> Option<NextHop> {
        let a = u32::from(dst);
        let mut present = self.present;
        while present != 0 {
            let l = 63 - present.leading_zeros();
            present &= !(1u64 << l);
            if let Some(r) = self
                .by_len
                .get(l as usize)
                .and_then(|m| m.get(&(a & ipv4_mask(l as u8))))
            {
                if r.expires.is_some_and(|t| t <= now) {
                    continue;
                }
                return Some(NextHop {
                    iface: r.iface,
                    gateway: r.gateway,
                    mtu: r.mtu,
                });
            }
        }
        self.active_default().map(|d| NextHop {
            iface: d.iface,
            gateway: Some(d.gateway),
            mtu: d.mtu,
        })
    }

    /// The same answer by a linear scan (the reference for tests).
    #[cfg(test)]
    pub(crate) fn lookup_linear(&self, dst: Ipv4Addr, now: Instant) -> Option<NextHop> {
        let mut best: Option<(u8, NextHop)> = None;
        for (l, m) in self.by_len.iter().enumerate() {
            for (net, r) in m {
                let p = Ipv4Prefix::new(Ipv4Addr::from(*net), l as u8).ok()?;
                if p.contains(dst)
                    && r.expires.is_none_or(|t| t > now)
                    && best.is_none_or(|(bl, _)| bl < p.prefix_len())
                {
                    best = Some((
                        p.prefix_len(),
                        NextHop {
                            iface: r.iface,
                            gateway: r.gateway,
                            mtu: r.mtu,
                        },
                    ));
                }
            }
        }
        best.map(|b| b.1).or_else(|| {
            self.active_default().map(|d| NextHop {
                iface: d.iface,
                gateway: Some(d.gateway),
                mtu: d.mtu,
            })
        })
    }

    /// Drops expired path-MTU routes; returns the earliest remaining expiry.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        self.retain(|_, r| match r.expires {
            Some(t) if t <= now => false,
            Some(t) => {
                next = Some(next.map_or(t, |n| n.min(t)));
                true
            }
            None => true,
        });
        self.next_expiry = next;
        next
    }

    pub(crate) fn view(&self) -> Vec<RouteView> {
        let mut v = Vec::new();
        for (l, m) in self.by_len.iter().enumerate() {
            for (net, r) in m {
                if let Ok(dest) = Ipv4Prefix::new(Ipv4Addr::from(*net), l as u8) {
                    v.push(RouteView {
                        dest,
                        gateway: r.gateway,
                        iface: r.iface,
                        mtu: r.mtu,
                        kind: r.kind,
                        active: true,
                        dead: false,
                        expires: r.expires,
                    });
                }
            }
        }
        v.sort_by_key(|r| {
            (
                std::cmp::Reverse(r.dest.prefix_len()),
                u32::from(r.dest.network()),
            )
        });
        for (i, d) in self.defaults.iter().enumerate() {
            v.push(RouteView {
                dest: Ipv4Prefix::DEFAULT,
                gateway: Some(d.gateway),
                iface: d.iface,
                mtu: d.mtu,
                kind: RouteKind::Default,
                active: i == self.active_default,
                dead: d.dead_since.is_some(),
                expires: None,
            });
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn route(iface: u16) -> Route {
        Route {
            gateway: None,
            iface: IfaceId(iface),
            mtu: None,
            kind: RouteKind::Network,
            expires: None,
        }
    }

    #[test]
    fn longest_prefix_and_default_rotation() {
        let mut t = RouteTable::default();
        t.insert("10.0.0.0/8".parse().unwrap(), route(1));
        t.insert("10.1.0.0/16".parse().unwrap(), route(2));
        t.insert("10.1.2.3/32".parse().unwrap(), route(3));
        let now = Instant::ZERO;
        assert_eq!(
            t.lookup(Ipv4Addr::new(10, 1, 2, 3), now).unwrap().iface,
            IfaceId(3)
        );
        assert_eq!(
            t.lookup(Ipv4Addr::new(10, 1, 2, 4), now).unwrap().iface,
            IfaceId(2)
        );
        assert_eq!(
            t.lookup(Ipv4Addr::new(10, 2, 0, 0), now).unwrap().iface,
            IfaceId(1)
        );
        assert_eq!(t.lookup(Ipv4Addr::new(11, 0, 0, 0), now), None);
        for g in [1, 2, 3] {
            t.add_default(DefaultGw {
                gateway: Ipv4Addr::new(192, 0, 2, g),
                iface: IfaceId(1),
                mtu: None,
                dead_since: None,
            });
        }
        let gw = |t: &RouteTable| t.lookup(Ipv4Addr::new(8, 8, 8, 8), now).unwrap().gateway;
        assert_eq!(gw(&t), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            t.gateway_failed(Ipv4Addr::new(192, 0, 2, 1), now),
            Some(Some(Ipv4Addr::new(192, 0, 2, 2)))
        );
        assert_eq!(gw(&t), Some(Ipv4Addr::new(192, 0, 2, 2)));
        t.gateway_failed(Ipv4Addr::new(192, 0, 2, 2), now);
        assert_eq!(gw(&t), Some(Ipv4Addr::new(192, 0, 2, 3)));
        // All dead: rotation goes on round the list.
        t.gateway_failed(Ipv4Addr::new(192, 0, 2, 3), now);
        assert_eq!(gw(&t), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(t.remove_default(Some(Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!(t.defaults.len(), 2);
        assert!(t
            .remove(Ipv4Prefix::host(Ipv4Addr::new(10, 1, 2, 3)))
            .is_some());
        assert_eq!(
            t.lookup(Ipv4Addr::new(10, 1, 2, 3), now).unwrap().iface,
            IfaceId(2)
        );
    }

    proptest! {
        /// The hashed longest-prefix match equals a linear scan.
        #[test]
        fn lpm_matches_linear_scan(
            routes in proptest::collection::vec((any::<u32>(), 0u8..=32, 0u16..8), 0..40),
            probes in proptest::collection::vec(any::<u32>(), 1..40),
        ) {
            let mut t = RouteTable::default();
            for (a, l, i) in &routes {
                // Cluster addresses so that prefixes overlap.
                let a = (a & 0x0f0f_00ff) | 0x0a00_0000;
                if let Ok(p) = Ipv4Prefix::containing(Ipv4Addr::from(a), *l) {
                    if p.prefix_len() > 0 {
                        t.insert(p, route(*i));
                    }
                }
            }
            for p in probes {
                let d = Ipv4Addr::from((p & 0x0f0f_00ff) | 0x0a00_0000);
                prop_assert_eq!(t.lookup(d, Instant::ZERO), t.lookup_linear(d, Instant::ZERO));
            }
        }
    }
}
