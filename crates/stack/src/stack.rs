//! [`Stack`]: the state of one host or router and every protocol's logic.

use crate::arp::{ArpEntry, ArpEntryView, ArpFlags, ArpTable};
use crate::hash::FastMap;
use crate::iface::{
    Counters, IfaceFlags, IfaceId, IfaceKind, Interface, InterfaceName, MAX_MTU, MIN_MTU,
};
use crate::reasm::Reassembler;
use crate::route::{DefaultGw, NextHop, Route, RouteKind, RouteTable, RouteView};
use crate::udp::{UdpHandle, UdpStats, UdpTable, EPHEMERAL_HIGH, EPHEMERAL_LOW};
use crate::{
    CaptureHook, ConfigError, Instant, LinkContext, PacketHook, Rng, StackEvent, UdpError, Warning,
};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;
use tcp::table::TcpTable;
use tcp::{TcpConfig, TsoMeta};
use wire::icmpv4::{DstUnreachable, TimeExceeded};
use wire::Ipv4Prefix;
use wire::{Encapsulation, EthernetAddress, PacketBuf};

// TCP lives in its own files but is a child of this module, so it reaches the send path
// (`route_out`, `ip_send_routed`) without widening their visibility.
#[path = "tcp/mod.rs"]
pub(crate) mod tcp;

// The rest of the protocols, each a child of this module for the same reason: they are `impl
// Stack` blocks that share its private state.
mod icmp;
mod igmp;
mod ipv4;
mod link_io;
mod udp_sockets;

use igmp::GroupState;

/// The stack's tunables (seed 001's kernel parameters and the protocols' timers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    /// Forward datagrams between interfaces (IP gateway mode).
    pub gateway_mode: bool,
    /// Path MTU discovery (seed 001's `SET/KERNEL TCP_PMTU 1`, on by default): ICMP
    /// fragmentation-needed becomes a host route carrying the MTU, and TCP sets DF.
    pub pmtu_discovery: bool,
    /// Act on ICMP redirects (off by default: they are counted and reported, not obeyed).
    pub accept_redirects: bool,
    /// Answer echo requests sent to a broadcast or multicast address.
    pub echo_broadcast: bool,
    /// TTL of datagrams we make.
    pub default_ttl: u8,
    /// How long a temporary ARP entry lives (BSD and MultiNet: 20 minutes).
    pub arp_timeout: Duration,
    /// ARP requests sent before a next hop is declared unreachable.
    pub arp_requests: u8,
    /// Time between ARP requests.
    pub arp_retry_interval: Duration,
    /// Datagrams queued per unresolved next hop (seed 001's MultiNet keeps one; the oldest goes first).
    pub arp_queue_len: usize,
    /// Datagrams queued over all unresolved next hops.
    pub arp_queue_total: usize,
    /// Entries in the ARP table at most (learnt and resolving; static entries are always added).
    pub arp_max_entries: usize,
    /// Time limit for reassembling one datagram.
    pub reasm_timeout: Duration,
    /// Memory for all datagrams being reassembled.
    pub reasm_mem_limit: usize,
    /// Datagrams reassembled at once.
    pub reasm_max_datagrams: usize,
    /// How long a learnt path MTU is kept (RFC 1191: 10 minutes).
    pub pmtu_timeout: Duration,
    /// Bytes queued per UDP socket before datagrams are dropped.
    pub udp_rx_limit: usize,
    /// RFC 2236's unsolicited report interval.
    pub igmp_unsolicited_interval: Duration,
    /// ICMP errors sent per second at most (0: no limit), after a burst of 50.
    pub icmp_error_rate: u32,
    /// TCP's tunables.
    pub tcp: TcpConfig,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            gateway_mode: false,
            pmtu_discovery: true,
            accept_redirects: false,
            echo_broadcast: false,
            default_ttl: 64,
            arp_timeout: Duration::from_secs(20 * 60),
            arp_requests: 3,
            arp_retry_interval: Duration::from_secs(1),
            arp_queue_len: 16,
            arp_queue_total: 1024,
            arp_max_entries: 8192,
            reasm_timeout: Duration::from_secs(30),
            reasm_mem_limit: 1 << 20,
            reasm_max_datagrams: 256,
            pmtu_timeout: Duration::from_secs(600),
            udp_rx_limit: 256 * 1024,
            igmp_unsolicited_interval: Duration::from_secs(10),
            icmp_error_rate: 1000,
            tcp: TcpConfig::default(),
        }
    }
}

/// IP-MIB, ICMP-MIB and UDP-MIB counters for the whole stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StackStats {
    /// ipInReceives.
    pub ip_in_receives: u64,
    /// ipInHdrErrors.
    pub ip_in_hdr_errors: u64,
    /// ipInAddrErrors.
    pub ip_in_addr_errors: u64,
    /// ipForwDatagrams.
    pub ip_forw_datagrams: u64,
    /// ipInUnknownProtos.
    pub ip_in_unknown_protos: u64,
    /// ipInDiscards.
    pub ip_in_discards: u64,
    /// ipInDelivers.
    pub ip_in_delivers: u64,
    /// ipOutRequests.
    pub ip_out_requests: u64,
    /// ipOutDiscards.
    pub ip_out_discards: u64,
    /// ipOutNoRoutes.
    pub ip_out_no_routes: u64,
    /// ipReasmReqds.
    pub ip_reasm_reqds: u64,
    /// ipReasmOKs.
    pub ip_reasm_oks: u64,
    /// ipReasmFails.
    pub ip_reasm_fails: u64,
    /// ipFragOKs.
    pub ip_frag_oks: u64,
    /// ipFragFails.
    pub ip_frag_fails: u64,
    /// ipFragCreates.
    pub ip_frag_creates: u64,
    /// icmpInMsgs.
    pub icmp_in_msgs: u64,
    /// icmpInErrors.
    pub icmp_in_errors: u64,
    /// icmpOutMsgs.
    pub icmp_out_msgs: u64,
    /// ICMP errors not sent because of the rate limit.
    pub icmp_rate_limited: u64,
    /// Redirects received and ignored.
    pub icmp_redirects_ignored: u64,
    /// IGMP messages received.
    pub igmp_in: u64,
    /// IGMP messages sent.
    pub igmp_out: u64,
    /// ARP requests sent.
    pub arp_requests_out: u64,
    /// ARP replies sent.
    pub arp_replies_out: u64,
    /// Datagrams dropped from a full ARP queue.
    pub arp_queue_drops: u64,
    /// UDP-MIB.
    pub udp: UdpStats,
}

/// How a new interface attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSpec {
    /// An `se` interface with this hardware address.
    Ethernet(EthernetAddress),
    /// A `pd` interface riding on this `se` interface.
    Pseudo {
        /// The parent.
        parent: IfaceId,
    },
    /// A loopback.
    Loopback,
}

/// Where a locally made datagram goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutRoute {
    /// The interface (pd or se or lo).
    iface: IfaceId,
    next_hop: Ipv4Addr,
    mtu: Option<u16>,
    src: Ipv4Addr,
    /// To ourselves, via loopback.
    local: bool,
    /// Multicast: deliver a copy to our own members of the group too.
    mcast_loop: bool,
}

#[derive(Debug, Clone, Copy)]
enum IcmpErr {
    Unreach(DstUnreachable, u16),
    Time(TimeExceeded),
}

/// How a datagram was addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cast {
    Unicast,
    Broadcast,
    Multicast,
}

const MAX_EVENTS: usize = 4096;
const ALL_HOSTS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);
const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);
const LOOPBACK_MTU: u16 = 16384;
const MAX_LOOPBACK_ROUNDS: usize = 256;
/// ICMP errors sent in a burst before the rate limit applies.
const ICMP_BURST: u32 = 50;

/// One host's (or router's) TCP/IP state, sans I/O. See the crate documentation.
pub struct Stack {
    config: StackConfig,
    rng: Box<dyn Rng + Send>,
    ifaces: Vec<Option<Interface>>,
    /// Our unicast addresses → the interface that owns each.
    local: FastMap<Ipv4Addr, IfaceId>,
    /// Broadcast addresses → the link they are on.
    bcast: Vec<(Ipv4Addr, IfaceId)>,
    arp: ArpTable,
    routes: RouteTable,
    reasm: Reassembler,
    udp: UdpTable,
    groups: FastMap<(IfaceId, Ipv4Addr), GroupState>,
    /// Links where an IGMPv1 router was heard, until when (RFC 2236 section 4: 400 s).
    igmp_v1_until: FastMap<IfaceId, Instant>,
    outbox: Vec<(IfaceId, PacketBuf)>,
    /// Datagrams to ourselves: (the link they count as arriving on, the datagram).
    loopback: VecDeque<(IfaceId, PacketBuf)>,
    icmp_tokens: u32,
    icmp_refill: Instant,
    events: Vec<StackEvent>,
    hook: Option<Box<dyn PacketHook + Send>>,
    capture: Option<Box<dyn CaptureHook + Send>>,
    ident: u16,
    stats: StackStats,
    lo: IfaceId,
    tcp: TcpTable,
    /// TCP super-segments for TSO links, sent with `LinkContext::send_tso`.
    tso_outbox: Vec<(IfaceId, PacketBuf, TsoMeta)>,
    /// The frame being received had its checksum verified by the link.
    rx_csum_verified: bool,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("config", &self.config)
            .field("interfaces", &self.ifaces.iter().flatten().count())
            .finish_non_exhaustive()
    }
}

fn is_bad_source(a: Ipv4Addr) -> bool {
    a.is_multicast() || a.is_broadcast()
}

impl Stack {
    /// A stack with `lo0` (127.0.0.1/8, up) and nothing else.
    pub fn new(config: StackConfig, mut rng: Box<dyn Rng + Send>) -> Stack {
        let ident = rng.next_u32() as u16;
        let last_port = EPHEMERAL_LOW + rng.below(u32::from(EPHEMERAL_HIGH - EPHEMERAL_LOW)) as u16;
        let tcp = TcpTable::new(config.tcp.clone(), rng.as_mut());
        let reasm = Reassembler::new(
            tcp.hash_seed(),
            config.reasm_mem_limit,
            config.reasm_max_datagrams,
            config.reasm_timeout,
        );
        let mut s = Stack {
            config,
            rng,
            ifaces: Vec::new(),
            local: FastMap::default(),
            bcast: Vec::new(),
            arp: ArpTable::new(tcp.hash_seed()),
            routes: RouteTable::default(),
            reasm,
            udp: UdpTable::default(),
            groups: FastMap::default(),
            igmp_v1_until: FastMap::default(),
            outbox: Vec::new(),
            loopback: VecDeque::new(),
            icmp_tokens: ICMP_BURST,
            icmp_refill: Instant::ZERO,
            events: Vec::new(),
            hook: None,
            capture: None,
            ident,
            stats: StackStats::default(),
            lo: IfaceId(0),
            tcp,
            tso_outbox: Vec::new(),
            rx_csum_verified: false,
        };
        s.udp.last_ephemeral = last_port;
        if let Ok(lo) = s.create_interface("lo0", LinkSpec::Loopback, Instant::ZERO) {
            s.lo = lo;
            let mut sink = Vec::new();
            let _ = s.set_address(&mut sink, lo, Ipv4Addr::LOCALHOST, 8, Instant::ZERO);
            let _ = s.set_up(&mut sink, lo, true, Instant::ZERO);
        }
        s
    }

    // ----- configuration: interfaces -----

    /// The configuration.
    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    /// Gateway mode (IP forwarding) on or off, live.
    pub fn set_gateway_mode(&mut self, on: bool) {
        self.config.gateway_mode = on;
    }

    /// Seed 001's `SET/KERNEL TCP_PMTU 0|1`, live.
    pub fn set_pmtu_discovery(&mut self, on: bool) {
        self.config.pmtu_discovery = on;
    }

    /// Obey ICMP redirects, live.
    pub fn set_accept_redirects(&mut self, on: bool) {
        self.config.accept_redirects = on;
    }

    /// Installs (or removes) the packet filter hook.
    pub fn set_packet_hook(&mut self, hook: Option<Box<dyn PacketHook + Send>>) {
        self.hook = hook;
    }

    /// Sets a UDP socket's unicast TTL (IP_TTL).
    pub fn udp_set_ttl(&mut self, h: UdpHandle, ttl: u8) -> Result<(), UdpError> {
        self.udp.get_mut(h).ok_or(UdpError::BadHandle)?.ttl = ttl;
        Ok(())
    }

    /// Installs (or removes) the capture hook.
    pub fn set_capture_hook(&mut self, hook: Option<Box<dyn CaptureHook + Send>>) {
        self.capture = hook;
    }

    /// Creates an interface from its name (`se0`, `pd3`, `lo0`; `sl`, `ppp`, `rp`, `gif`, `stf`
    /// are refused as not supported yet). It starts down, with no address.
    pub fn create_interface(
        &mut self,
        name: &str,
        spec: LinkSpec,
        now: Instant,
    ) -> Result<IfaceId, ConfigError> {
        let name: InterfaceName = name.parse()?;
        if self.find_interface(&name.to_string()).is_some() {
            return Err(ConfigError::Exists(name.to_string()));
        }
        let idx = self
            .ifaces
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.ifaces.len());
        let id = IfaceId(u16::try_from(idx).map_err(|_| ConfigError::BadName(name.to_string()))?);
        let (mac, link, flags, mtu) = match (name.kind, spec) {
            (IfaceKind::Ethernet, LinkSpec::Ethernet(mac)) => {
                if !mac.is_unicast() {
                    return Err(ConfigError::BadParent(
                        "an se interface needs a unicast hardware address".into(),
                    ));
                }
                (mac, id, IfaceFlags::BROADCAST | IfaceFlags::MULTICAST, 1500)
            }
            (IfaceKind::Pseudo, LinkSpec::Pseudo { parent }) => {
                let p = self
                    .iface(parent)
                    .filter(|p| p.kind() == IfaceKind::Ethernet)
                    .ok_or_else(|| {
                        ConfigError::BadParent("a pd interface needs an se parent".into())
                    })?;
                (
                    p.mac,
                    parent,
                    IfaceFlags::BROADCAST | IfaceFlags::MULTICAST,
                    p.mtu,
                )
            }
            (IfaceKind::Loopback, LinkSpec::Loopback) => (
                EthernetAddress::UNSPECIFIED,
                id,
                IfaceFlags::LOOPBACK | IfaceFlags::MULTICAST | IfaceFlags::RUNNING,
                LOOPBACK_MTU,
            ),
            _ => {
                return Err(ConfigError::BadParent(format!(
                    "{name}: the link does not fit the interface kind"
                )))
            }
        };
        let iface = Interface {
            id,
            name,
            mac,
            link,
            addr: None,
            broadcast: None,
            mtu,
            encapsulation: Encapsulation::Ethernet,
            flags,
            counters: Counters::default(),
            last_change: now,
        };
        if idx == self.ifaces.len() {
            self.ifaces.push(Some(iface));
        } else if let Some(slot) = self.ifaces.get_mut(idx) {
            *slot = Some(iface);
        }
        Ok(id)
    }

    /// Deletes an interface, its address, its routes and its ARP entries. An se interface with
    /// pd interfaces on it cannot be deleted.
    pub fn delete_interface(&mut self, id: IfaceId) -> Result<(), ConfigError> {
        let ifc = self.iface(id).ok_or(ConfigError::NoSuchInterface)?;
        if ifc.kind() == IfaceKind::Loopback {
            return Err(ConfigError::WrongKind("lo0 cannot be deleted"));
        }
        if self
            .ifaces
            .iter()
            .flatten()
            .any(|i| i.link == id && i.id != id)
        {
            return Err(ConfigError::BadParent(
                "delete its pd interfaces first".into(),
            ));
        }
        self.clear_address(id)?;
        self.routes.retain(|_, r| r.iface != id);
        let gone: Vec<Ipv4Addr> = self
            .arp
            .entries
            .iter()
            .filter(|(_, e)| e.iface == id)
            .map(|(a, _)| *a)
            .collect();
        for a in gone {
            self.arp.remove(a);
        }
        self.arp.proxies.retain(|_, i| *i != Some(id));
        self.groups.retain(|(l, _), _| *l != id);
        if let Some(slot) = self.ifaces.get_mut(id.index()) {
            *slot = None;
        }
        Ok(())
    }

    /// The interface with this index.
    pub fn interface(&self, id: IfaceId) -> Option<&Interface> {
        self.iface(id)
    }

    /// Every interface, in index order.
    pub fn interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.ifaces.iter().flatten()
    }

    /// The interface called `name` (case-insensitive).
    pub fn find_interface(&self, name: &str) -> Option<IfaceId> {
        let n: InterfaceName = name.parse().ok()?;
        self.interfaces().find(|i| i.name == n).map(|i| i.id)
    }

    /// lo0.
    pub fn loopback(&self) -> IfaceId {
        self.lo
    }

    fn iface(&self, id: IfaceId) -> Option<&Interface> {
        self.ifaces.get(id.index()).and_then(Option::as_ref)
    }

    fn iface_mut(&mut self, id: IfaceId) -> Option<&mut Interface> {
        self.ifaces.get_mut(id.index()).and_then(Option::as_mut)
    }

    /// Sets the address and prefix length (live). Replaces any old address; installs the
    /// connected route; sends a gratuitous ARP when the interface is up. Returns CHECK warnings
    /// (seed 001's caution about a pd address on another subnet than its se parent).
    pub fn set_address<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        id: IfaceId,
        addr: Ipv4Addr,
        prefix_len: u8,
        now: Instant,
    ) -> Result<Vec<Warning>, ConfigError> {
        let kind = self.iface(id).ok_or(ConfigError::NoSuchInterface)?.kind();
        let net = Ipv4Prefix::containing(addr, prefix_len)?;
        if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
            return Err(ConfigError::BadAddress(addr, "not a unicast address"));
        }
        if kind != IfaceKind::Loopback && addr.is_loopback() {
            return Err(ConfigError::BadAddress(
                addr,
                "loopback addresses belong on lo0",
            ));
        }
        if prefix_len < 31 && (addr == net.network() || addr == net.broadcast()) && prefix_len > 0 {
            return Err(ConfigError::BadAddress(
                addr,
                "the network or broadcast address of its subnet",
            ));
        }
        if let Some(other) = self.local.get(&addr).copied().filter(|o| *o != id) {
            let n = self
                .iface(other)
                .map(|i| i.name.to_string())
                .unwrap_or_default();
            return Err(ConfigError::AddressInUse(addr, n));
        }
        self.clear_address(id)?;
        if let Some(i) = self.iface_mut(id) {
            i.addr = Some((addr, net));
        }
        self.local.insert(addr, id);
        if self.routes.get(net).is_none() {
            self.routes.insert(
                net,
                Route {
                    gateway: None,
                    iface: id,
                    mtu: None,
                    kind: RouteKind::Connected,
                    expires: None,
                },
            );
        }
        self.rebuild_broadcasts();
        self.gratuitous_arp(id, now);
        self.flush(ctx);
        Ok(self.check_interface(id))
    }

    /// Removes the interface's address, its connected route and the routes through it.
    pub fn clear_address(&mut self, id: IfaceId) -> Result<(), ConfigError> {
        let old = self.iface(id).ok_or(ConfigError::NoSuchInterface)?.addr;
        if let Some((a, net)) = old {
            self.local.remove(&a);
            if self
                .routes
                .get(net)
                .is_some_and(|r| r.iface == id && r.kind == RouteKind::Connected)
            {
                self.routes.remove(net);
                // Another interface on the same network takes the connected route over.
                let other = self
                    .interfaces()
                    .find(|i| i.id != id && i.network() == Some(net))
                    .map(|i| i.id);
                if let Some(other) = other {
                    self.routes.insert(
                        net,
                        Route {
                            gateway: None,
                            iface: other,
                            mtu: None,
                            kind: RouteKind::Connected,
                            expires: None,
                        },
                    );
                }
            }
            self.routes
                .retain(|_, r| !(r.iface == id && r.gateway.is_some_and(|g| net.contains(g))));
        }
        if let Some(i) = self.iface_mut(id) {
            i.addr = None;
        }
        self.rebuild_broadcasts();
        Ok(())
    }

    /// Seed 001's "Non-Standard IP Broadcast Address" (`None`: all ones in the host part).
    pub fn set_broadcast(
        &mut self,
        id: IfaceId,
        bcast: Option<Ipv4Addr>,
    ) -> Result<(), ConfigError> {
        let i = self.iface_mut(id).ok_or(ConfigError::NoSuchInterface)?;
        if i.kind() == IfaceKind::Loopback {
            return Err(ConfigError::WrongKind("lo0 has no broadcast address"));
        }
        i.broadcast = bcast;
        self.rebuild_broadcasts();
        Ok(())
    }

    /// The MTU: 68 to 1500, or up to 9000 with jumbo frames (an 802.2 link carries at most 1492).
    pub fn set_mtu(&mut self, id: IfaceId, mtu: u32) -> Result<(), ConfigError> {
        let i = self.iface_mut(id).ok_or(ConfigError::NoSuchInterface)?;
        let max = match (i.kind(), i.encapsulation) {
            (IfaceKind::Loopback, _) => LOOPBACK_MTU,
            (_, Encapsulation::Ieee8022) => 1492,
            _ => MAX_MTU,
        };
        if mtu < u32::from(MIN_MTU) || mtu > u32::from(max) {
            return Err(ConfigError::Mtu {
                mtu,
                min: MIN_MTU,
                max,
            });
        }
        i.mtu = mtu as u16;
        Ok(())
    }

    /// Seed 001's link-level encapsulation, ETHERNET or 802.2 (se only; 802.2 caps the MTU at 1492).
    pub fn set_encapsulation(
        &mut self,
        id: IfaceId,
        enc: Encapsulation,
    ) -> Result<(), ConfigError> {
        let i = self.iface_mut(id).ok_or(ConfigError::NoSuchInterface)?;
        if i.kind() != IfaceKind::Ethernet {
            return Err(ConfigError::WrongKind(
                "encapsulation is set on se interfaces",
            ));
        }
        i.encapsulation = enc;
        if enc == Encapsulation::Ieee8022 && i.mtu > 1492 {
            i.mtu = 1492;
        }
        Ok(())
    }

    /// Administratively up or down (live). Going up announces the address with gratuitous ARP.
    pub fn set_up<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        id: IfaceId,
        up: bool,
        now: Instant,
    ) -> Result<(), ConfigError> {
        let i = self.iface_mut(id).ok_or(ConfigError::NoSuchInterface)?;
        let was = i.flags.contains(IfaceFlags::UP);
        i.flags.set(IfaceFlags::UP, up);
        if i.kind() == IfaceKind::Pseudo {
            i.flags.set(IfaceFlags::RUNNING, up);
        }
        if was != up {
            i.last_change = now;
            if up {
                self.gratuitous_arp(id, now);
                // pd interfaces on it announce too.
                let kids: Vec<IfaceId> = self
                    .interfaces()
                    .filter(|k| k.link == id && k.id != id)
                    .map(|k| k.id)
                    .collect();
                for k in kids {
                    self.gratuitous_arp(k, now);
                }
            }
        }
        self.flush(ctx);
        Ok(())
    }

    /// The link's state (carrier), reported by the link layer: RUNNING.
    pub fn set_link_running(
        &mut self,
        id: IfaceId,
        running: bool,
        now: Instant,
    ) -> Result<(), ConfigError> {
        let i = self.iface_mut(id).ok_or(ConfigError::NoSuchInterface)?;
        if i.flags.contains(IfaceFlags::RUNNING) != running {
            i.flags.set(IfaceFlags::RUNNING, running);
            i.last_change = now;
        }
        Ok(())
    }

    /// NET-CONFIG's CHECK for one interface: warnings that do not stop it working.
    pub fn check_interface(&self, id: IfaceId) -> Vec<Warning> {
        let mut w = Vec::new();
        let Some(i) = self.iface(id) else {
            return w;
        };
        if i.kind() == IfaceKind::Pseudo {
            let parent = self.iface(i.link);
            match (i.addr, parent.and_then(|p| p.addr)) {
                (Some((a, _)), Some((_, pnet))) if !pnet.contains(a) => w.push(Warning(format!(
                    "{}: address {a} is not on {}'s network {pnet}; a secondary address on another subnet can cause broadcast storms (seed 001 caution)",
                    i.name,
                    parent.map(|p| p.name.to_string()).unwrap_or_default()
                ))),
                (Some(_), None) => w.push(Warning(format!(
                    "{}: its parent {} has no address",
                    i.name,
                    parent.map(|p| p.name.to_string()).unwrap_or_default()
                ))),
                _ => {}
            }
        }
        if let (Some(b), Some(net)) = (i.broadcast, i.network()) {
            if !net.contains(b) && !b.is_broadcast() {
                w.push(Warning(format!(
                    "{}: broadcast address {b} is not on network {net}",
                    i.name
                )));
            }
        }
        w
    }

    /// Counts an output error the link met (Oerrs).
    pub fn count_output_error(&mut self, id: IfaceId) {
        if let Some(i) = self.iface_mut(id) {
            i.counters.oerrs += 1;
        }
    }

    fn rebuild_broadcasts(&mut self) {
        let v: Vec<(Ipv4Addr, IfaceId)> = self
            .interfaces()
            .filter_map(|i| i.broadcast().map(|b| (b, i.link)))
            .collect();
        self.bcast = v;
    }

    // ----- configuration: ARP -----

    /// SET ARP /ADD: `mac` for `addr` (None with `flags.proxy`: publish our own hardware
    /// address for `addr`). The interface is the one whose network holds `addr` (for proxy
    /// entries, any when none does).
    pub fn arp_add(
        &mut self,
        addr: Ipv4Addr,
        mac: Option<EthernetAddress>,
        flags: ArpFlags,
        now: Instant,
    ) -> Result<(), ConfigError> {
        let iface = self
            .interfaces()
            .find(|i| {
                i.kind() != IfaceKind::Loopback && i.network().is_some_and(|n| n.contains(addr))
            })
            .map(|i| i.link);
        if flags.proxy {
            self.arp.proxies.insert(addr, iface);
            return Ok(());
        }
        let mac = mac.ok_or(ConfigError::Arp("a hardware address is needed"))?;
        if !mac.is_unicast() {
            return Err(ConfigError::Arp("the hardware address must be unicast"));
        }
        let iface = iface.ok_or(ConfigError::Arp(
            "no interface is on that address's network",
        ))?;
        let expires = (!flags.permanent && !flags.publish).then(|| now + self.config.arp_timeout);
        if let Some(t) = expires {
            self.arp.wake(t);
        }
        let pending = self.arp.remove(addr).and_then(|e| e.pending);
        self.arp.entries.insert(
            addr,
            ArpEntry {
                iface,
                mac: Some(mac),
                flags,
                expires,
                pending: None,
            },
        );
        if let Some(p) = pending {
            self.release_queue(p, iface, mac, now);
        }
        Ok(())
    }

    /// SET ARP /DELETE.
    pub fn arp_delete(&mut self, addr: Ipv4Addr) -> Result<(), ConfigError> {
        let a = self.arp.remove(addr).is_some();
        let b = self.arp.proxies.remove(&addr).is_some();
        if a || b {
            Ok(())
        } else {
            Err(ConfigError::NoSuchArpEntry)
        }
    }

    /// SET ARP /FLUSH: temporary entries, or (`permanent`) the permanent, published and proxy ones too.
    pub fn arp_flush(&mut self, permanent: bool) {
        let gone: Vec<Ipv4Addr> = self
            .arp
            .entries
            .iter()
            .filter(|(_, e)| permanent || !(e.flags.permanent || e.flags.publish))
            .map(|(a, _)| *a)
            .collect();
        for a in gone {
            self.arp.remove(a);
        }
        if permanent {
            self.arp.proxies.clear();
        }
    }

    /// SHOW ARP.
    pub fn arp_table(&self) -> Vec<ArpEntryView> {
        self.arp.view(|id| {
            self.iface(id)
                .map_or(EthernetAddress::UNSPECIFIED, |i| i.mac)
        })
    }

    // ----- configuration: routes -----

    /// SET ROUTE /ADD: `dest` via `gateway` (a default route when `dest` is 0.0.0.0/0; several
    /// default gateways rotate when one dies). The gateway must be on a connected network.
    pub fn route_add(
        &mut self,
        dest: Ipv4Prefix,
        gateway: Ipv4Addr,
        mtu: Option<u16>,
    ) -> Result<(), ConfigError> {
        let via = self
            .interfaces()
            .filter(|i| i.kind() != IfaceKind::Loopback || gateway.is_loopback())
            .find(|i| i.network().is_some_and(|n| n.contains(gateway)))
            .map(|i| i.id)
            .ok_or(ConfigError::Route("the gateway is on no connected network"))?;
        if dest.is_default() {
            if !self.routes.add_default(DefaultGw {
                gateway,
                iface: via,
                mtu,
                dead_since: None,
            }) {
                return Err(ConfigError::Route("that default gateway exists"));
            }
            return Ok(());
        }
        let kind = if dest.prefix_len() == 32 {
            RouteKind::Host
        } else {
            RouteKind::Network
        };
        let gw = if self.local.contains_key(&gateway) {
            None
        } else {
            Some(gateway)
        };
        self.routes.insert(
            dest,
            Route {
                gateway: gw,
                iface: via,
                mtu,
                kind,
                expires: None,
            },
        );
        Ok(())
    }

    /// SET ROUTE /DELETE (for the default route, `gateway` picks one gateway; `None` removes all).
    pub fn route_delete(
        &mut self,
        dest: Ipv4Prefix,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), ConfigError> {
        if dest.is_default() {
            if gateway.is_none() {
                let all: Vec<Ipv4Addr> = self.routes.defaults.iter().map(|d| d.gateway).collect();
                for g in &all {
                    self.routes.remove_default(Some(*g));
                }
                return if all.is_empty() {
                    Err(ConfigError::NoSuchRoute)
                } else {
                    Ok(())
                };
            }
            return if self.routes.remove_default(gateway) {
                Ok(())
            } else {
                Err(ConfigError::NoSuchRoute)
            };
        }
        match self.routes.get(dest) {
            Some(r)
                if r.kind != RouteKind::Connected
                    && (gateway.is_none() || r.gateway == gateway) =>
            {
                self.routes.remove(dest);
                Ok(())
            }
            _ => Err(ConfigError::NoSuchRoute),
        }
    }

    /// SHOW ROUTE.
    pub fn routes(&self) -> Vec<RouteView> {
        self.routes.view()
    }

    /// Where a datagram to `dst` would go.
    pub fn route_lookup(&self, dst: Ipv4Addr, now: Instant) -> Option<NextHop> {
        self.routes.lookup(dst, now)
    }

    // ----- events, stats -----

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<StackEvent> {
        self.tcp.evented.clear();
        std::mem::take(&mut self.events)
    }

    /// IP, ICMP, IGMP, ARP and UDP counters.
    pub fn stats(&self) -> StackStats {
        let mut s = self.stats;
        s.ip_reasm_reqds = self.reasm.reqds;
        s.ip_reasm_oks = self.reasm.oks;
        s.ip_reasm_fails = self.reasm.fails;
        s.udp = self.udp.stats;
        s
    }

    /// Bytes held by reassembly now.
    pub fn reassembly_memory(&self) -> usize {
        self.reasm.mem()
    }

    fn event(&mut self, e: StackEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(e);
        }
    }

    // ----- timers -----

    /// When [`on_timer`](Self::on_timer) next has work (`None`: no timer pending).
    pub fn poll_at(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut min = |x: Instant| t = Some(t.map_or(x, |y| y.min(x)));
        if let Some(x) = self.arp.next_timer {
            min(x);
        }
        if let Some(x) = self.reasm.next_deadline() {
            min(x);
        }
        for g in self.groups.values() {
            if let Some(x) = g.report_at {
                min(x);
            }
        }
        if let Some(x) = self.routes.next_expiry {
            min(x);
        }
        if let Some(x) = self.tcp.poll_at() {
            min(x);
        }
        t
    }

    /// Runs the timers due at `now`: ARP retries, failures and aging; reassembly expiry (ICMP
    /// time exceeded); IGMP reports; path-MTU route expiry.
    pub fn on_timer<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, now: Instant) {
        self.arp_timers(now);
        for e in self.reasm.expire(now) {
            if let Some(q) = e.quote {
                // RFC 792: only when fragment zero arrived.
                self.icmp_error(&q, IcmpErr::Time(TimeExceeded::FragExpired), now);
            }
        }
        self.igmp_timers(now);
        self.routes.expire(now);
        self.tcp_timers(now);
        self.run_loopback(now);
        self.flush(ctx);
    }
}
