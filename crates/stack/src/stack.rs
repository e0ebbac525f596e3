//! [`Stack`]: the state of one host or router and every protocol's logic.

use crate::arp::{ArpEntry, ArpEntryView, ArpFlags, ArpTable, Pending};
use crate::fx::FxHashMap;
use crate::iface::{
    Counters, IfaceFlags, IfaceId, IfaceKind, Interface, InterfaceName, MAX_MTU, MIN_MTU,
};
use crate::prefix::Ipv4Prefix;
use crate::reasm::{Outcome, Reassembler};
use crate::route::{DefaultGw, NextHop, Route, RouteKind, RouteTable, RouteView};
use crate::udp::{
    UdpDatagram, UdpHandle, UdpReadiness, UdpSocket, UdpStats, UdpTable, EPHEMERAL_HIGH,
    EPHEMERAL_LOW, EPHEMERAL_MAX_STEP,
};
use crate::{
    CaptureHook, ConfigError, Direction, HookPoint, Instant, LinkContext, PacketHook, Rng,
    SendError, StackEvent, UdpError, Verdict, Warning,
};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use tcp::table::TcpTable;
use tcp::{RxMeta, TcpConfig, TsoMeta};
use wire::icmpv4::{self, DstUnreachable, TimeExceeded};
use wire::{
    ArpOperation, ArpPacket, ArpRepr, Encapsulation, EtherType, EthernetAddress, EthernetFrame,
    FrameRepr, Icmpv4Packet, Icmpv4Repr, IgmpPacket, IgmpRepr, IpProtocol, Ipv4Option,
    Ipv4OptionsBuf, Ipv4Packet, Ipv4Repr, PacketBuf, UdpPacket, UdpRepr,
};

// TCP lives in its own files but is a child of this module, so it reaches the send path
// (`route_out`, `ip_send_routed`) without widening their visibility.
#[path = "tcp/mod.rs"]
pub(crate) mod tcp;

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

#[derive(Debug, Clone, Copy)]
struct GroupState {
    refs: u32,
    report_at: Option<Instant>,
    last_reporter: bool,
    unsolicited_left: u8,
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
    local: FxHashMap<Ipv4Addr, IfaceId>,
    /// Broadcast addresses → the link they are on.
    bcast: Vec<(Ipv4Addr, IfaceId)>,
    arp: ArpTable,
    routes: RouteTable,
    reasm: Reassembler,
    udp: UdpTable,
    groups: FxHashMap<(IfaceId, Ipv4Addr), GroupState>,
    /// Links where an IGMPv1 router was heard, until when (RFC 2236 section 4: 400 s).
    igmp_v1_until: FxHashMap<IfaceId, Instant>,
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
            config.reasm_mem_limit,
            config.reasm_max_datagrams,
            config.reasm_timeout,
        );
        let mut s = Stack {
            config,
            rng,
            ifaces: Vec::new(),
            local: FxHashMap::default(),
            bcast: Vec::new(),
            arp: ArpTable::default(),
            routes: RouteTable::default(),
            reasm,
            udp: UdpTable::default(),
            groups: FxHashMap::default(),
            igmp_v1_until: FxHashMap::default(),
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

    /// Multicast groups joined: (link interface, group).
    pub fn multicast_groups(&self) -> Vec<(IfaceId, Ipv4Addr)> {
        let mut v: Vec<_> = self.groups.keys().copied().collect();
        v.sort_by_key(|(i, g)| (*i, u32::from(*g)));
        v
    }

    fn event(&mut self, e: StackEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(e);
        }
    }

    // ----- frames in -----

    /// One frame from the link of interface `iface` (an se interface).
    pub fn receive<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        frame: PacketBuf,
        now: Instant,
    ) {
        self.receive_one(iface, frame, now);
        self.run_loopback(now);
        self.flush(ctx);
    }

    /// One frame with what the link knows about it (a TAP's virtio-net header: the checksum was
    /// verified, so a GRO'd TCP frame larger than the MTU need not be summed again).
    pub fn receive_with_meta<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        frame: PacketBuf,
        meta: RxMeta,
        now: Instant,
    ) {
        self.rx_csum_verified = meta.csum_verified;
        self.receive_one(iface, frame, now);
        self.rx_csum_verified = false;
        self.run_loopback(now);
        self.flush(ctx);
    }

    /// A batch of frames from one link; the frames they cause go out as one batch.
    pub fn receive_batch<C: LinkContext + ?Sized, I: IntoIterator<Item = PacketBuf>>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        frames: I,
        now: Instant,
    ) {
        for f in frames {
            self.receive_one(iface, f, now);
        }
        self.run_loopback(now);
        self.flush(ctx);
    }

    fn flush<C: LinkContext + ?Sized>(&mut self, ctx: &mut C) {
        if !self.outbox.is_empty() {
            ctx.send_batch(&mut self.outbox);
            self.outbox.clear();
        }
        for (iface, frame, meta) in self.tso_outbox.drain(..) {
            ctx.send_tso(iface, frame, meta);
        }
    }

    fn run_loopback(&mut self, now: Instant) {
        let mut rounds = 0;
        while let Some((link, buf)) = self.loopback.pop_front() {
            rounds += 1;
            if rounds > MAX_LOOPBACK_ROUNDS {
                self.loopback.clear();
                break;
            }
            if link != self.lo {
                // A multicast datagram of ours, looped back to our own members.
                self.ip_input(link, buf, true, now);
                continue;
            }
            if let Some(i) = self.iface_mut(link) {
                i.counters.ipkts += 1;
                i.counters.in_octets += buf.len() as u64;
                i.counters.in_ucast += 1;
            }
            self.ip_input(link, buf, false, now);
        }
    }

    fn receive_one(&mut self, iface: IfaceId, mut buf: PacketBuf, now: Instant) {
        let Some(i) = self.iface_mut(iface) else {
            return;
        };
        let link = i.link;
        let kind = i.kind();
        let up = i.flags.contains(IfaceFlags::UP);
        let our_mac = i.mac;
        i.counters.ipkts += 1;
        i.counters.in_octets += buf.len() as u64;
        if let Some(c) = self.capture.as_mut() {
            c.capture(link, Direction::In, buf.as_slice(), now);
        }
        if link != iface {
            // Frames arrive on the se interface, not on a pd.
            return self.count_in_discard(iface);
        }
        if !up {
            return self.count_in_discard(iface);
        }
        if kind == IfaceKind::Loopback {
            return self.ip_input(iface, buf, false, now);
        }
        let parsed = EthernetFrame::new_checked(buf.as_slice()).and_then(|f| FrameRepr::parse(&f));
        let frame = match parsed {
            Ok(f) => f,
            Err(_) => return self.count_in_error(iface),
        };
        let dst = frame.dst_addr();
        let link_bcast = !dst.is_unicast();
        if let Some(i) = self.iface_mut(iface) {
            if dst.is_broadcast() {
                i.counters.in_bcast += 1;
            } else if dst.is_multicast() {
                i.counters.in_mcast += 1;
            } else {
                i.counters.in_ucast += 1;
            }
        }
        if dst.is_unicast() && dst != our_mac {
            return self.count_in_discard(iface);
        }
        if frame.src_addr() == our_mac {
            // Our own frame, reflected by the link.
            return self.count_in_discard(iface);
        }
        if buf.trim_front(frame.buffer_len()).is_err() {
            return self.count_in_error(iface);
        }
        if let Some(n) = frame.payload_len() {
            buf.truncate(n);
        }
        match frame.ethertype() {
            Some(EtherType::Ipv4) => self.ip_input(iface, buf, link_bcast, now),
            Some(EtherType::Arp) => self.arp_input(iface, buf, now),
            _ => {
                if let Some(i) = self.iface_mut(iface) {
                    i.counters.in_unknown_protos += 1;
                }
            }
        }
    }

    fn count_in_error(&mut self, id: IfaceId) {
        if let Some(i) = self.iface_mut(id) {
            i.counters.ierrs += 1;
        }
    }

    fn count_in_discard(&mut self, id: IfaceId) {
        if let Some(i) = self.iface_mut(id) {
            i.counters.in_discards += 1;
        }
    }

    // ----- ARP -----

    /// The address to speak for on `link` when asking about `target`: the interface (se or pd)
    /// whose network holds it, else the se interface's own.
    fn source_on_link(&self, link: IfaceId, target: Ipv4Addr) -> Option<Ipv4Addr> {
        let mut fallback = None;
        for i in self.interfaces().filter(|i| i.link == link) {
            if let Some((a, net)) = i.addr {
                if net.contains(target) {
                    return Some(a);
                }
                if i.id == link || fallback.is_none() {
                    fallback = Some(a);
                }
            }
        }
        fallback
    }

    fn gratuitous_arp(&mut self, id: IfaceId, now: Instant) {
        let Some(i) = self.iface(id) else {
            return;
        };
        if i.kind() == IfaceKind::Loopback || !i.flags.contains(IfaceFlags::UP) {
            return;
        }
        let (Some(addr), mac, link) = (i.addr(), i.mac, i.link) else {
            return;
        };
        self.send_arp(
            link,
            ArpRepr::gratuitous(mac, addr),
            EthernetAddress::BROADCAST,
            now,
        );
        self.stats.arp_requests_out += 1;
    }

    fn send_arp(&mut self, link: IfaceId, repr: ArpRepr, dst: EthernetAddress, now: Instant) {
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut ArpPacket::new_unchecked(buf.as_mut_slice()));
        self.link_send(link, buf, dst, EtherType::Arp, now);
    }

    fn send_arp_request(&mut self, link: IfaceId, target: Ipv4Addr, now: Instant) {
        let Some(i) = self.iface(link) else {
            return;
        };
        let mac = i.mac;
        let Some(src) = self.source_on_link(link, target) else {
            return;
        };
        let repr = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: src,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: target,
        };
        self.stats.arp_requests_out += 1;
        self.send_arp(link, repr, EthernetAddress::BROADCAST, now);
    }

    fn arp_input(&mut self, link: IfaceId, buf: PacketBuf, now: Instant) {
        let repr = match ArpPacket::new_checked(buf.as_slice()).and_then(|p| ArpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => return self.count_in_error(link),
        };
        let Some(our_mac) = self.iface(link).map(|i| i.mac) else {
            return;
        };
        let sender = repr.source_protocol_addr;
        let sender_hw = repr.source_hardware_addr;
        let target = repr.target_protocol_addr;
        if !sender_hw.is_unicast() {
            return self.count_in_error(link);
        }
        let owner_on_link = |s: &Stack, a: Ipv4Addr| {
            s.local
                .get(&a)
                .copied()
                .filter(|id| s.iface(*id).is_some_and(|i| i.link == link))
        };
        if let Some(owner) = owner_on_link(self, sender) {
            // Someone else claims our address.
            self.event(StackEvent::DuplicateAddress {
                iface: owner,
                addr: sender,
                other: sender_hw,
            });
            return;
        }
        let for_us = owner_on_link(self, target).is_some();
        // RFC 826's merge: update an entry we have; add one when the request was for us.
        let updated = match self.arp.entries.get_mut(&sender) {
            Some(e) if !(e.flags.permanent || e.flags.publish) => {
                e.mac = Some(sender_hw);
                e.iface = link;
                e.expires = Some(now + self.config.arp_timeout);
                let p = e.pending.take();
                if let Some(p) = &p {
                    self.arp.queued = self.arp.queued.saturating_sub(p.queue.len());
                }
                p
            }
            Some(_) => None,
            None => {
                if for_us
                    && !sender.is_unspecified()
                    && self.arp.entries.len() < self.config.arp_max_entries
                {
                    self.arp.entries.insert(
                        sender,
                        ArpEntry {
                            iface: link,
                            mac: Some(sender_hw),
                            flags: ArpFlags::default(),
                            expires: Some(now + self.config.arp_timeout),
                            pending: None,
                        },
                    );
                }
                None
            }
        };
        self.arp.wake(now + self.config.arp_timeout);
        self.routes.gateway_alive(sender);
        if let Some(p) = updated {
            self.release_queue(p, link, sender_hw, now);
        }
        if repr.operation != ArpOperation::Request || sender == target {
            return;
        }
        let answer = if for_us {
            Some(our_mac)
        } else if let Some(e) = self
            .arp
            .entries
            .get(&target)
            .filter(|e| e.flags.publish && e.mac.is_some())
        {
            e.mac
        } else if let Some(home) = self.arp.proxies.get(&target) {
            // Proxy for a host elsewhere: never on the link where the host itself lives.
            (*home != Some(link)).then_some(our_mac)
        } else {
            None
        };
        if let Some(mac) = answer {
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                source_hardware_addr: mac,
                source_protocol_addr: target,
                target_hardware_addr: sender_hw,
                target_protocol_addr: sender,
            };
            self.stats.arp_replies_out += 1;
            self.send_arp(link, reply, sender_hw, now);
        }
    }

    fn release_queue(&mut self, p: Pending, link: IfaceId, mac: EthernetAddress, now: Instant) {
        for buf in p.queue {
            self.link_send(link, buf, mac, EtherType::Ipv4, now);
        }
    }

    /// Queues `buf` (a whole datagram) for `next_hop` and starts or continues resolving it.
    fn arp_queue(&mut self, link: IfaceId, next_hop: Ipv4Addr, buf: PacketBuf, now: Instant) {
        let qlen = self.config.arp_queue_len.max(1);
        let total = self.config.arp_queue_total;
        if self.arp.entries.len() >= self.config.arp_max_entries
            && !self.arp.entries.contains_key(&next_hop)
        {
            // The table is full: no new resolutions until entries age out.
            self.stats.arp_queue_drops += 1;
            return;
        }
        let mut new_request = false;
        let entry = self.arp.entries.entry(next_hop).or_insert_with(|| {
            new_request = true;
            ArpEntry {
                iface: link,
                mac: None,
                flags: ArpFlags::default(),
                expires: None,
                pending: None,
            }
        });
        if entry.mac.is_some() && entry.pending.is_none() {
            // An expired temporary entry: resolve again.
            entry.mac = None;
            entry.expires = None;
            entry.iface = link;
            new_request = true;
        }
        let retries = self.config.arp_requests.saturating_sub(1);
        let next_retry = now + self.config.arp_retry_interval;
        let p = entry.pending.get_or_insert_with(|| Pending {
            retries_left: retries,
            next_retry,
            queue: VecDeque::new(),
        });
        let wake = p.next_retry;
        let mut delta: isize = 0;
        if p.queue.len() >= qlen {
            // Seed 001: the most recent datagram is the one kept.
            p.queue.pop_front();
            delta -= 1;
            self.stats.arp_queue_drops += 1;
        }
        if self.arp.queued < total || delta < 0 {
            p.queue.push_back(buf);
            delta += 1;
        } else {
            self.stats.arp_queue_drops += 1;
        }
        self.arp.queued = (self.arp.queued as isize + delta).max(0) as usize;
        self.arp.wake(wake);
        if new_request {
            self.send_arp_request(link, next_hop, now);
        }
    }

    fn arp_timers(&mut self, now: Instant) {
        if self.arp.next_timer.is_none_or(|t| t > now) {
            return;
        }
        let mut retry = Vec::new();
        let mut failed = Vec::new();
        let mut aged = Vec::new();
        for (a, e) in self.arp.entries.iter_mut() {
            if let Some(p) = e.pending.as_mut() {
                if p.next_retry <= now {
                    if p.retries_left > 0 {
                        p.retries_left -= 1;
                        p.next_retry = now + self.config.arp_retry_interval;
                        retry.push((e.iface, *a));
                    } else {
                        failed.push(*a);
                    }
                }
            } else if e.expires.is_some_and(|t| t <= now) {
                aged.push(*a);
            }
        }
        for a in aged {
            self.arp.remove(a);
        }
        for (link, a) in retry {
            self.send_arp_request(link, a, now);
        }
        for a in failed {
            let Some(e) = self.arp.remove(a) else {
                continue;
            };
            self.event(StackEvent::ArpFailed {
                iface: e.iface,
                addr: a,
            });
            let rotated = self.routes.gateway_failed(a, now);
            if let Some(next) = rotated {
                self.event(StackEvent::GatewayDead { gateway: a, next });
            }
            for buf in e.pending.map(|p| p.queue).unwrap_or_default() {
                let (src, dst) = match Ipv4Packet::new_checked(buf.as_slice()) {
                    Ok(p) => (p.src_addr(), p.dst_addr()),
                    Err(_) => continue,
                };
                // Via another gateway now? Send it again that way.
                if let Some(nh) = self
                    .routes
                    .lookup(dst, now)
                    .filter(|nh| nh.gateway.is_some() && nh.gateway != Some(a))
                {
                    let nh_addr = nh.gateway.unwrap_or(dst);
                    self.ip_output(buf, nh.iface, nh_addr, nh.mtu, false, now);
                    continue;
                }
                if self.local.contains_key(&src) {
                    self.event(StackEvent::Unreachable { dst });
                } else {
                    self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::HostUnreachable, 0),
                        now,
                    );
                }
            }
        }
        self.arp.recompute_timer();
    }

    // ----- IPv4 in -----

    fn cast_of(&self, dst: Ipv4Addr, link: IfaceId) -> Option<Cast> {
        if dst.is_broadcast() {
            return Some(Cast::Broadcast);
        }
        if dst.is_multicast() {
            return Some(Cast::Multicast);
        }
        if self.bcast.iter().any(|(b, l)| *b == dst && *l == link) {
            return Some(Cast::Broadcast);
        }
        None
    }

    fn ip_input(&mut self, link: IfaceId, mut buf: PacketBuf, link_bcast: bool, now: Instant) {
        self.stats.ip_in_receives += 1;
        let (src, dst, total, frag) = match Ipv4Packet::new_checked(buf.as_slice()) {
            Ok(p) if p.version() == 4 && p.verify_checksum() => (
                p.src_addr(),
                p.dst_addr(),
                usize::from(p.total_len()),
                p.is_fragment(),
            ),
            _ => {
                self.stats.ip_in_hdr_errors += 1;
                return self.count_in_error(link);
            }
        };
        buf.truncate(total);
        // Martians: a multicast or broadcast source; loopback addresses from a real link.
        if is_bad_source(src) || (link != self.lo && (src.is_loopback() || dst.is_loopback())) {
            self.stats.ip_in_addr_errors += 1;
            return self.count_in_discard(link);
        }
        if let Some(h) = self.hook.as_mut() {
            match h.check(HookPoint::Ingress, link, buf.as_slice(), now) {
                Verdict::Pass => {}
                Verdict::Drop => return self.count_in_discard(link),
                Verdict::Deny => {
                    self.count_in_discard(link);
                    return self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::CommProhibited, 0),
                        now,
                    );
                }
            }
        }
        let cast = if self.local.contains_key(&dst) {
            Some(Cast::Unicast)
        } else {
            self.cast_of(dst, link)
        };
        match cast {
            Some(Cast::Multicast)
                if dst != ALL_HOSTS && !self.groups.contains_key(&(link, dst)) =>
            {
                self.stats.ip_in_discards += 1;
                self.count_in_discard(link)
            }
            Some(cast) => {
                if frag {
                    match self.reasm.add(buf.as_slice(), now) {
                        Outcome::Complete(whole) => buf = whole,
                        Outcome::Pending | Outcome::Dropped => return,
                    }
                }
                self.deliver(link, buf, cast, now);
            }
            None if self.config.gateway_mode && !link_bcast && link != self.lo => {
                self.forward(link, buf, now)
            }
            None => {
                self.stats.ip_in_addr_errors += 1;
                self.count_in_discard(link)
            }
        }
    }

    fn deliver(&mut self, link: IfaceId, mut buf: PacketBuf, cast: Cast, now: Instant) {
        let (src, dst, proto, hl) = match Ipv4Packet::new_checked(buf.as_slice()) {
            Ok(p) => (p.src_addr(), p.dst_addr(), p.protocol(), p.header_len()),
            Err(_) => return,
        };
        self.stats.ip_in_delivers += 1;
        match proto {
            IpProtocol::Icmp => {
                if buf.trim_front(hl).is_ok() {
                    self.icmp_input(link, buf, src, dst, cast, now);
                }
            }
            IpProtocol::Igmp => {
                if buf.trim_front(hl).is_ok() {
                    self.igmp_input(link, buf, src, now);
                }
            }
            IpProtocol::Udp => self.udp_input(link, buf, hl, src, dst, cast, now),
            IpProtocol::Tcp => self.tcp_input(link, buf, hl, src, dst, cast, now),
            _ => {
                self.stats.ip_in_unknown_protos += 1;
                if let Some(i) = self.iface_mut(link) {
                    i.counters.in_unknown_protos += 1;
                }
                if cast == Cast::Unicast {
                    self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::ProtoUnreachable, 0),
                        now,
                    );
                }
            }
        }
    }

    // ----- forwarding -----

    fn forward(&mut self, in_link: IfaceId, mut buf: PacketBuf, now: Instant) {
        let (src, dst, ttl) = match Ipv4Packet::new_checked(buf.as_slice()) {
            Ok(p) => (p.src_addr(), p.dst_addr(), p.ttl()),
            Err(_) => return,
        };
        // RFC 1812 5.3.7: never forward from 0.0.0.0 or to a class E address.
        if src.is_unspecified() || u32::from(dst) >= 0xf000_0000 {
            self.stats.ip_in_addr_errors += 1;
            return self.count_in_discard(in_link);
        }
        if ttl <= 1 {
            self.stats.ip_in_hdr_errors += 1;
            return self.icmp_error(buf.as_slice(), IcmpErr::Time(TimeExceeded::TtlExpired), now);
        }
        let Some(nh) = self.routes.lookup(dst, now) else {
            self.stats.ip_out_no_routes += 1;
            return self.icmp_error(
                buf.as_slice(),
                IcmpErr::Unreach(DstUnreachable::NetUnreachable, 0),
                now,
            );
        };
        if let Some(h) = self.hook.as_mut() {
            match h.check(HookPoint::Forward, nh.iface, buf.as_slice(), now) {
                Verdict::Pass => {}
                Verdict::Drop => return self.count_in_discard(in_link),
                Verdict::Deny => {
                    self.count_in_discard(in_link);
                    return self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::CommProhibited, 0),
                        now,
                    );
                }
            }
        }
        Ipv4Packet::new_unchecked(buf.as_mut_slice()).decrement_ttl();
        self.stats.ip_forw_datagrams += 1;
        let next = nh.gateway.unwrap_or(dst);
        self.ip_output(buf, nh.iface, next, nh.mtu, true, now);
    }

    // ----- IPv4 out -----

    fn effective_mtu(&self, iface: IfaceId, route_mtu: Option<u16>) -> usize {
        let Some(i) = self.iface(iface) else {
            return 0;
        };
        let link_mtu = match self.iface(i.link).map(|l| l.encapsulation) {
            Some(Encapsulation::Ieee8022) => i.ip_mtu().min(1492),
            _ => i.ip_mtu(),
        };
        route_mtu.map_or(link_mtu, |m| link_mtu.min(usize::from(m)))
    }

    /// Sends a whole datagram out of `iface` to `next_hop`: the egress hook, fragmentation,
    /// link resolution. `forwarded` datagrams get ICMP errors; ours get events.
    fn ip_output(
        &mut self,
        buf: PacketBuf,
        iface: IfaceId,
        next_hop: Ipv4Addr,
        route_mtu: Option<u16>,
        forwarded: bool,
        now: Instant,
    ) {
        let Some(i) = self.iface(iface) else {
            return;
        };
        let link = i.link;
        if !i.is_up() || !self.iface(link).is_some_and(|l| l.is_up()) {
            self.stats.ip_out_discards += 1;
            if let Some(l) = self.iface_mut(link) {
                l.counters.out_discards += 1;
            }
            return;
        }
        if let Some(h) = self.hook.as_mut() {
            match h.check(HookPoint::Egress, iface, buf.as_slice(), now) {
                Verdict::Pass => {}
                Verdict::Drop => {
                    self.stats.ip_out_discards += 1;
                    return;
                }
                Verdict::Deny => {
                    self.stats.ip_out_discards += 1;
                    if forwarded {
                        self.icmp_error(
                            buf.as_slice(),
                            IcmpErr::Unreach(DstUnreachable::CommProhibited, 0),
                            now,
                        );
                    }
                    return;
                }
            }
        }
        let mtu = self.effective_mtu(iface, route_mtu);
        if buf.len() <= mtu {
            return self.link_output(link, buf, next_hop, now);
        }
        let df = Ipv4Packet::new_checked(buf.as_slice())
            .map(|p| p.dont_frag())
            .unwrap_or(true);
        if df {
            self.stats.ip_frag_fails += 1;
            if forwarded {
                self.icmp_error(
                    buf.as_slice(),
                    IcmpErr::Unreach(DstUnreachable::FragRequired, mtu as u16),
                    now,
                );
            }
            return;
        }
        self.fragment(link, buf, next_hop, mtu, now);
    }

    fn fragment(
        &mut self,
        link: IfaceId,
        buf: PacketBuf,
        next_hop: Ipv4Addr,
        mtu: usize,
        now: Instant,
    ) {
        let Ok(p) = Ipv4Packet::new_checked(buf.as_slice()) else {
            return;
        };
        let Ok(first) = Ipv4Repr::parse_unverified(&p) else {
            self.stats.ip_frag_fails += 1;
            return;
        };
        let payload = p.payload();
        let mut rest = first;
        rest.options = first.options.copied_on_fragment();
        let base_off = usize::from(first.frag_offset);
        let mut off = 0;
        let mut frags = Vec::new();
        while off < payload.len() {
            let repr0 = if off == 0 { &first } else { &rest };
            let room = mtu.saturating_sub(repr0.buffer_len()) & !7;
            if room == 0 {
                self.stats.ip_frag_fails += 1;
                return;
            }
            let n = room.min(payload.len() - off);
            let last = off + n == payload.len();
            let mut repr = *repr0;
            repr.payload_len = n;
            repr.frag_offset = (base_off + off) as u16;
            repr.more_frags = first.more_frags || !last;
            let mut f = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 0);
            f.extend_from_slice(&payload[off..off + n]);
            if f.prepend(repr.buffer_len()).is_err() {
                return;
            }
            repr.emit(&mut Ipv4Packet::new_unchecked(f.as_mut_slice()));
            frags.push(f);
            off += n;
        }
        self.stats.ip_frag_oks += 1;
        self.stats.ip_frag_creates += frags.len() as u64;
        for f in frags {
            self.link_output(link, f, next_hop, now);
        }
    }

    /// Resolves the link address of `next_hop` on `link` and sends, or queues for ARP.
    fn link_output(&mut self, link: IfaceId, buf: PacketBuf, next_hop: Ipv4Addr, now: Instant) {
        if link == self.lo {
            if let Some(i) = self.iface_mut(link) {
                i.counters.opkts += 1;
                i.counters.out_octets += buf.len() as u64;
                i.counters.out_ucast += 1;
            }
            self.loopback.push_back((link, buf));
            return;
        }
        let mac = if next_hop.is_multicast() {
            EthernetAddress::from_ipv4_multicast(next_hop)
        } else if next_hop.is_broadcast()
            || self.bcast.iter().any(|(b, l)| *b == next_hop && *l == link)
        {
            EthernetAddress::BROADCAST
        } else if let Some(mac) = self.arp.lookup(next_hop, link, now) {
            mac
        } else {
            return self.arp_queue(link, next_hop, buf, now);
        };
        self.link_send(link, buf, mac, EtherType::Ipv4, now);
    }

    fn link_send(
        &mut self,
        link: IfaceId,
        mut buf: PacketBuf,
        dst: EthernetAddress,
        ethertype: EtherType,
        now: Instant,
    ) {
        let Some(i) = self.iface(link) else {
            return;
        };
        let Ok(fr) = FrameRepr::new(i.encapsulation, dst, i.mac, ethertype, buf.len()) else {
            return self.count_output_error(link);
        };
        let hl = fr.buffer_len();
        if buf.headroom() < hl {
            buf.reserve_headroom(PacketBuf::DEFAULT_HEADROOM);
        }
        if buf.prepend(hl).is_err() {
            return self.count_output_error(link);
        }
        fr.emit(&mut EthernetFrame::new_unchecked(buf.as_mut_slice()));
        if let Some(c) = self.capture.as_mut() {
            c.capture(link, Direction::Out, buf.as_slice(), now);
        }
        if let Some(i) = self.iface_mut(link) {
            i.counters.opkts += 1;
            i.counters.out_octets += buf.len() as u64;
            if dst.is_broadcast() {
                i.counters.out_bcast += 1;
            } else if dst.is_multicast() {
                i.counters.out_mcast += 1;
            } else {
                i.counters.out_ucast += 1;
            }
        }
        self.outbox.push((link, buf));
    }

    fn next_ident(&mut self) -> u16 {
        self.ident = self.ident.wrapping_add(1);
        self.ident
    }

    /// Picks the interface, next hop and source address for a datagram we make.
    fn route_out(
        &self,
        dst: Ipv4Addr,
        src: Option<Ipv4Addr>,
        iface_hint: Option<IfaceId>,
        now: Instant,
    ) -> Result<OutRoute, SendError> {
        let src_of = |id: IfaceId| -> Result<Ipv4Addr, SendError> {
            match src {
                Some(s) if !s.is_unspecified() => Ok(s),
                _ => self
                    .iface(id)
                    .and_then(|i| i.addr())
                    .ok_or(SendError::NoSourceAddress),
            }
        };
        if self.local.contains_key(&dst) {
            return Ok(OutRoute {
                iface: self.lo,
                next_hop: dst,
                mtu: None,
                src: src.filter(|s| !s.is_unspecified()).unwrap_or(dst),
                local: true,
                mcast_loop: false,
            });
        }
        if dst.is_loopback() {
            return Ok(OutRoute {
                iface: self.lo,
                next_hop: dst,
                mtu: None,
                src: Ipv4Addr::LOCALHOST,
                local: true,
                mcast_loop: false,
            });
        }
        let hinted = iface_hint.or_else(|| {
            src.and_then(|s| self.local.get(&s).copied())
                .filter(|_| dst.is_broadcast() || dst.is_multicast())
        });
        if dst.is_broadcast() || dst.is_multicast() {
            let id = hinted
                .or_else(|| {
                    self.routes
                        .lookup(dst, now)
                        .map(|nh| nh.iface)
                        .filter(|_| dst.is_multicast())
                })
                .or_else(|| {
                    self.interfaces()
                        .find(|i| i.kind() != IfaceKind::Loopback && i.is_up() && i.addr.is_some())
                        .map(|i| i.id)
                })
                .ok_or(SendError::NoRoute(dst))?;
            let src = match src {
                Some(s) if !s.is_unspecified() => s,
                _ => self
                    .iface(id)
                    .and_then(|i| i.addr())
                    .unwrap_or(Ipv4Addr::UNSPECIFIED),
            };
            return Ok(OutRoute {
                iface: id,
                next_hop: dst,
                mtu: None,
                src,
                local: false,
                mcast_loop: true,
            });
        }
        let nh = self
            .routes
            .lookup(dst, now)
            .ok_or(SendError::NoRoute(dst))?;
        Ok(OutRoute {
            iface: nh.iface,
            next_hop: nh.gateway.unwrap_or(dst),
            mtu: nh.mtu,
            src: src_of(nh.iface)?,
            local: false,
            mcast_loop: false,
        })
    }

    /// Prepends the IPv4 header to `payload` and sends it along `route`.
    #[allow(clippy::too_many_arguments)]
    fn ip_send_routed(
        &mut self,
        route: OutRoute,
        dst: Ipv4Addr,
        mut payload: PacketBuf,
        protocol: IpProtocol,
        ttl: u8,
        tos: u8,
        dont_frag: bool,
        options: Ipv4OptionsBuf,
        now: Instant,
    ) -> Result<(), SendError> {
        let repr = Ipv4Repr {
            src_addr: route.src,
            dst_addr: dst,
            protocol,
            payload_len: payload.len(),
            ttl,
            tos,
            ident: self.next_ident(),
            dont_frag,
            more_frags: false,
            frag_offset: 0,
            options,
        };
        if repr.total_len() > 65535 {
            return Err(SendError::TooLong);
        }
        if payload.headroom() < repr.buffer_len() + 22 {
            payload.reserve_headroom(PacketBuf::DEFAULT_HEADROOM);
        }
        payload
            .prepend(repr.buffer_len())
            .map_err(|_| SendError::TooLong)?;
        repr.emit(&mut Ipv4Packet::new_unchecked(payload.as_mut_slice()));
        self.stats.ip_out_requests += 1;
        if route.local {
            let lo = self.lo;
            self.link_output(lo, payload, dst, now);
            return Ok(());
        }
        if route.mcast_loop && dst.is_multicast() {
            let link = self.iface(route.iface).map_or(route.iface, |i| i.link);
            if self.groups.contains_key(&(link, dst)) {
                self.loopback.push_back((link, payload.clone()));
            }
        }
        if dont_frag && payload.len() > self.effective_mtu(route.iface, route.mtu) {
            return Err(SendError::TooLong);
        }
        if !self.iface(route.iface).is_some_and(|i| i.is_up()) {
            return Err(SendError::InterfaceDown);
        }
        self.ip_output(payload, route.iface, route.next_hop, route.mtu, false, now);
        Ok(())
    }

    /// Sends `payload` as one IPv4 datagram of `protocol` to `dst` (for TCP and raw users):
    /// routing, source selection, fragmentation and ARP as for any datagram we make.
    #[allow(clippy::too_many_arguments)]
    pub fn send_ip<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload: PacketBuf,
        dont_frag: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        let route = self.route_out(dst, src, None, now);
        let r = route.and_then(|route| {
            let ttl = self.config.default_ttl;
            self.ip_send_routed(
                route,
                dst,
                payload,
                protocol,
                ttl,
                0,
                dont_frag,
                Ipv4OptionsBuf::new(),
                now,
            )
        });
        if matches!(r, Err(SendError::NoRoute(_))) {
            self.stats.ip_out_no_routes += 1;
        }
        self.run_loopback(now);
        self.flush(ctx);
        r
    }

    // ----- ICMP -----

    /// Sends an ICMP echo request; the answer comes as [`StackEvent::EchoReply`].
    #[allow(clippy::too_many_arguments)]
    pub fn send_echo_request<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        dst: Ipv4Addr,
        ident: u16,
        seq_no: u16,
        data: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        let repr = Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        };
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
        self.stats.icmp_out_msgs += 1;
        self.send_ip(ctx, None, dst, IpProtocol::Icmp, buf, false, now)
    }

    fn icmp_input(
        &mut self,
        _link: IfaceId,
        mut buf: PacketBuf,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        cast: Cast,
        now: Instant,
    ) {
        self.stats.icmp_in_msgs += 1;
        let msg = match Icmpv4Packet::new_checked(buf.as_slice()) {
            Ok(p) if p.verify_checksum() => {
                Icmpv4Repr::parse_unverified(&Icmpv4Packet::new_unchecked(buf.as_slice()))
                    .ok()
                    .map(|r| match r {
                        Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                            Msg::EchoRequest(ident, seq_no)
                        }
                        Icmpv4Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        } => Msg::EchoReply(ident, seq_no, data.len()),
                        Icmpv4Repr::Redirect { gateway, data, .. } => {
                            Msg::Redirect(gateway, quoted_dst(data))
                        }
                        other if other.msg_type().is_error() => {
                            let (t, c) = (u8::from(other.msg_type()), p.msg_code());
                            let mtu = if let Icmpv4Repr::DstUnreachable { next_hop_mtu, .. } = other
                            {
                                next_hop_mtu
                            } else {
                                0
                            };
                            // The quote may hold fewer than 8 bytes after the header when the
                            // datagram itself was that short; read what is there.
                            match Ipv4Packet::new_checked_header(other.data()) {
                                Ok(q) if q.version() == 4 => Msg::Error {
                                    t,
                                    c,
                                    mtu,
                                    dst: q.dst_addr(),
                                    src: q.src_addr(),
                                    proto: q.protocol().into(),
                                    total: usize::from(q.total_len()),
                                    sport: other
                                        .data()
                                        .get(q.header_len()..q.header_len() + 2)
                                        .map(|b| u16::from_be_bytes([b[0], b[1]])),
                                    quote: other
                                        .data()
                                        .get(q.header_len()..q.header_len() + 8)
                                        .and_then(|b| <[u8; 8]>::try_from(b).ok()),
                                },
                                _ => Msg::Bad,
                            }
                        }
                        _ => Msg::Other,
                    })
            }
            _ => None,
        };
        let Some(msg) = msg else {
            self.stats.icmp_in_errors += 1;
            return;
        };
        match msg {
            Msg::EchoRequest(ident, seq_no) => {
                if cast != Cast::Unicast && !self.config.echo_broadcast {
                    return;
                }
                // The reply is built in the request's own buffer.
                Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data: &[],
                }
                .emit_header(&mut Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
                let from = if cast == Cast::Unicast {
                    Some(dst)
                } else {
                    None
                };
                self.stats.icmp_out_msgs += 1;
                if let Ok(route) = self.route_out(src, from, None, now) {
                    let ttl = self.config.default_ttl;
                    let _ = self.ip_send_routed(
                        route,
                        src,
                        buf,
                        IpProtocol::Icmp,
                        ttl,
                        0,
                        false,
                        Ipv4OptionsBuf::new(),
                        now,
                    );
                }
            }
            Msg::EchoReply(ident, seq_no, len) => self.event(StackEvent::EchoReply {
                from: src,
                ident,
                seq_no,
                len,
            }),
            Msg::Redirect(gateway, qdst) => {
                if self.config.accept_redirects {
                    if let (Some(d), Some(nh)) =
                        (qdst, self.routes.lookup(qdst.unwrap_or(gateway), now))
                    {
                        self.routes.insert(
                            Ipv4Prefix::host(d),
                            Route {
                                gateway: Some(gateway),
                                iface: nh.iface,
                                mtu: nh.mtu,
                                kind: RouteKind::Host,
                                expires: None,
                            },
                        );
                    }
                } else {
                    self.stats.icmp_redirects_ignored += 1;
                    self.event(StackEvent::RedirectIgnored { from: src, gateway });
                }
            }
            Msg::Error {
                t,
                c,
                mtu,
                dst: qdst,
                src: qsrc,
                proto,
                total,
                sport,
                quote,
            } => {
                if !self.local.contains_key(&qsrc) {
                    return;
                }
                if t == 3 && c == u8::from(DstUnreachable::FragRequired) {
                    self.learn_pmtu(qdst, mtu, total, now);
                }
                if proto == u8::from(IpProtocol::Udp) {
                    if let Some(h) = sport.and_then(|p| self.udp.demux(qsrc, p)) {
                        if let Some(s) = self.udp.get_mut(h) {
                            s.error = Some((t, c));
                        }
                    }
                }
                if proto == u8::from(IpProtocol::Tcp) {
                    if let Some(q) = quote {
                        self.tcp_icmp_error(t, c, qsrc, qdst, &q, now);
                    }
                }
                self.event(StackEvent::IcmpError {
                    from: src,
                    msg_type: t,
                    code: c,
                    dst: qdst,
                    protocol: proto,
                    src_port: sport,
                });
            }
            Msg::Bad => self.stats.icmp_in_errors += 1,
            Msg::Other => {}
        }
    }

    fn learn_pmtu(&mut self, dst: Ipv4Addr, mtu: u16, quoted_total: usize, now: Instant) {
        if !self.config.pmtu_discovery {
            return;
        }
        // RFC 1191 section 5: an old router sends 0; guess the next plateau down.
        let mtu = if mtu == 0 {
            [32000u16, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68]
                .into_iter()
                .find(|p| usize::from(*p) < quoted_total)
                .unwrap_or(MIN_MTU)
        } else {
            mtu
        }
        .max(MIN_MTU);
        let Some(nh) = self.routes.lookup(dst, now) else {
            return;
        };
        if nh.mtu.is_some_and(|m| m <= mtu) {
            return;
        }
        let key = Ipv4Prefix::host(dst);
        match self.routes.get(key).copied() {
            Some(mut r) if r.kind == RouteKind::Host => {
                r.mtu = Some(mtu);
                self.routes.insert(key, r);
            }
            _ => self.routes.insert(
                key,
                Route {
                    gateway: nh.gateway,
                    iface: nh.iface,
                    mtu: Some(mtu),
                    kind: RouteKind::PathMtu,
                    expires: Some(now + self.config.pmtu_timeout),
                },
            ),
        }
        self.event(StackEvent::PathMtu { dst, mtu });
    }

    /// A token bucket: `icmp_error_rate` errors a second, bursts of [`ICMP_BURST`].
    fn icmp_token(&mut self, now: Instant) -> bool {
        let rate = u64::from(self.config.icmp_error_rate);
        if rate == 0 {
            return true;
        }
        let per_token = 1_000_000_000 / rate.max(1);
        let elapsed = now.0.saturating_sub(self.icmp_refill.0);
        let new = elapsed / per_token.max(1);
        if new > 0 {
            self.icmp_tokens =
                (u64::from(self.icmp_tokens) + new).min(u64::from(ICMP_BURST)) as u32;
            self.icmp_refill = Instant(self.icmp_refill.0 + new * per_token);
        }
        if self.icmp_tokens == 0 {
            return false;
        }
        self.icmp_tokens -= 1;
        true
    }

    /// Sends an ICMP error about `orig` (a whole datagram) to its source, within RFC 1122's rules.
    fn icmp_error(&mut self, orig: &[u8], err: IcmpErr, now: Instant) {
        let Ok(p) = Ipv4Packet::new_checked_header(orig) else {
            return;
        };
        let (src, dst) = (p.src_addr(), p.dst_addr());
        if src.is_unspecified()
            || is_bad_source(src)
            || dst.is_multicast()
            || dst.is_broadcast()
            || p.frag_offset() != 0
        {
            return;
        }
        if self.bcast.iter().any(|(b, _)| *b == dst) {
            return;
        }
        if !self.icmp_token(now) {
            self.stats.icmp_rate_limited += 1;
            return;
        }
        if p.protocol() == IpProtocol::Icmp {
            let t = orig.get(p.header_len()).copied().unwrap_or(0);
            if wire::Icmpv4Message::from(t).is_error() || orig.len() <= p.header_len() {
                return;
            }
        }
        let data = icmpv4::quote(orig);
        let repr = match err {
            IcmpErr::Unreach(reason, mtu) => Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu: mtu,
                data,
            },
            IcmpErr::Time(reason) => Icmpv4Repr::TimeExceeded { reason, data },
        };
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
        self.stats.icmp_out_msgs += 1;
        if let Ok(route) = self.route_out(src, None, None, now) {
            let ttl = self.config.default_ttl;
            let _ = self.ip_send_routed(
                route,
                src,
                buf,
                IpProtocol::Icmp,
                ttl,
                0,
                false,
                Ipv4OptionsBuf::new(),
                now,
            );
        }
    }

    // ----- IGMPv2 -----

    /// Joins `group` on the link of `iface` (reference-counted; the first join reports).
    pub fn join_group<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        group: Ipv4Addr,
        now: Instant,
    ) -> Result<(), UdpError> {
        self.join(iface, group, now)?;
        self.flush(ctx);
        Ok(())
    }

    /// Leaves `group` on the link of `iface` (the last leave sends IGMP leave).
    pub fn leave_group<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        group: Ipv4Addr,
        now: Instant,
    ) {
        self.leave(iface, group, now);
        self.flush(ctx);
    }

    fn join(&mut self, iface: IfaceId, group: Ipv4Addr, now: Instant) -> Result<(), UdpError> {
        if !group.is_multicast() {
            return Err(UdpError::NotMulticast(group));
        }
        let link = self
            .iface(iface)
            .ok_or(UdpError::Send(SendError::NoRoute(group)))?
            .link;
        let delay = self.rng.below(
            self.config
                .igmp_unsolicited_interval
                .as_millis()
                .min(u128::from(u32::MAX)) as u32,
        );
        let e = self.groups.entry((link, group)).or_insert(GroupState {
            refs: 0,
            report_at: None,
            last_reporter: false,
            unsolicited_left: 0,
        });
        e.refs += 1;
        if e.refs == 1 && group != ALL_HOSTS {
            // RFC 2236 section 3: report at once, and once more a little later.
            e.unsolicited_left = 1;
            e.report_at = Some(now + Duration::from_millis(u64::from(delay)));
            e.last_reporter = true;
            self.send_igmp(
                link,
                IgmpRepr::MembershipReportV2 { group_addr: group },
                group,
                now,
            );
        }
        Ok(())
    }

    fn leave(&mut self, iface: IfaceId, group: Ipv4Addr, now: Instant) {
        let Some(link) = self.iface(iface).map(|i| i.link) else {
            return;
        };
        let Some(e) = self.groups.get_mut(&(link, group)) else {
            return;
        };
        e.refs = e.refs.saturating_sub(1);
        if e.refs == 0 {
            let last = e.last_reporter;
            self.groups.remove(&(link, group));
            let v1 = self.igmp_v1_until.get(&link).is_some_and(|t| *t > now);
            if last && group != ALL_HOSTS && !v1 {
                self.send_igmp(
                    link,
                    IgmpRepr::LeaveGroup { group_addr: group },
                    ALL_ROUTERS,
                    now,
                );
            }
        }
    }

    fn send_igmp(&mut self, link: IfaceId, repr: IgmpRepr, dst: Ipv4Addr, now: Instant) {
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut IgmpPacket::new_unchecked(buf.as_mut_slice()));
        let src = self
            .iface(link)
            .and_then(|i| i.addr())
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mut opts = Ipv4OptionsBuf::new();
        let _ = opts.push(&Ipv4Option::RouterAlert(0));
        let route = OutRoute {
            iface: link,
            next_hop: dst,
            mtu: None,
            src,
            local: false,
            // Our own report must not suppress our own report timer.
            mcast_loop: false,
        };
        self.stats.igmp_out += 1;
        let _ = self.ip_send_routed(route, dst, buf, IpProtocol::Igmp, 1, 0, false, opts, now);
    }

    fn igmp_input(&mut self, link: IfaceId, buf: PacketBuf, _src: Ipv4Addr, now: Instant) {
        self.stats.igmp_in += 1;
        let repr = match IgmpPacket::new_checked(buf.as_slice()).and_then(|p| IgmpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => return,
        };
        match repr {
            IgmpRepr::MembershipQuery {
                max_resp_time,
                group_addr,
            } => {
                if max_resp_time == 0 {
                    // An IGMPv1 router: answer in version 1 for the next 400 s.
                    self.igmp_v1_until
                        .insert(link, now + Duration::from_secs(400));
                }
                let max = if max_resp_time == 0 {
                    100
                } else {
                    max_resp_time
                };
                let max_ms = u32::from(max) * 100;
                let keys: Vec<(IfaceId, Ipv4Addr)> = self
                    .groups
                    .keys()
                    .filter(|(l, g)| {
                        *l == link
                            && *g != ALL_HOSTS
                            && (group_addr.is_unspecified() || *g == group_addr)
                    })
                    .copied()
                    .collect();
                for k in keys {
                    let d = Duration::from_millis(u64::from(self.rng.below(max_ms)));
                    if let Some(e) = self.groups.get_mut(&k) {
                        let at = now + d;
                        e.report_at = Some(e.report_at.map_or(at, |t| t.min(at)));
                    }
                }
            }
            IgmpRepr::MembershipReportV1 { group_addr }
            | IgmpRepr::MembershipReportV2 { group_addr } => {
                // Another member reported: suppress ours (RFC 2236 section 3).
                if let Some(e) = self.groups.get_mut(&(link, group_addr)) {
                    e.report_at = None;
                    e.unsolicited_left = 0;
                    e.last_reporter = false;
                }
            }
            IgmpRepr::LeaveGroup { .. } => {}
        }
    }

    fn igmp_timers(&mut self, now: Instant) {
        let due: Vec<(IfaceId, Ipv4Addr)> = self
            .groups
            .iter()
            .filter(|(_, e)| e.report_at.is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for (link, g) in due {
            if let Some(e) = self.groups.get_mut(&(link, g)) {
                e.report_at = None;
                e.last_reporter = true;
                e.unsolicited_left = e.unsolicited_left.saturating_sub(1);
            }
            let v1 = self.igmp_v1_until.get(&link).is_some_and(|t| *t > now);
            let report = if v1 {
                IgmpRepr::MembershipReportV1 { group_addr: g }
            } else {
                IgmpRepr::MembershipReportV2 { group_addr: g }
            };
            self.send_igmp(link, report, g, now);
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

    // ----- UDP -----

    /// A new, unbound UDP socket.
    pub fn udp_open(&mut self) -> UdpHandle {
        let ttl = self.config.default_ttl;
        let limit = self.config.udp_rx_limit;
        self.udp.open(UdpSocket {
            local: None,
            remote: None,
            broadcast: false,
            rx: VecDeque::new(),
            rx_bytes: 0,
            rx_limit: limit,
            groups: Vec::new(),
            ttl,
            multicast_ttl: 1,
            multicast_iface: None,
            multicast_loop: true,
            tos: 0,
            drops: 0,
            error: None,
        })
    }

    fn alloc_port(&mut self, addr: Ipv4Addr) -> Result<u16, UdpError> {
        let span = u32::from(EPHEMERAL_HIGH - EPHEMERAL_LOW) + 1;
        let mut p = u32::from(self.udp.last_ephemeral.max(EPHEMERAL_LOW) - EPHEMERAL_LOW);
        for attempt in 0..span {
            // Seed 000: a random step from the previous port; late attempts walk one by one.
            let step = if attempt < 64 {
                1 + self.rng.below(EPHEMERAL_MAX_STEP)
            } else {
                1
            };
            p = (p + step) % span;
            let port = (p + u32::from(EPHEMERAL_LOW)) as u16;
            if self.udp.port_free(addr, port) {
                self.udp.last_ephemeral = port;
                return Ok(port);
            }
        }
        Err(UdpError::NoPorts)
    }

    /// Binds to `addr` (0.0.0.0: every address; port 0: an ephemeral port). Returns the bound address.
    pub fn udp_bind(&mut self, h: UdpHandle, addr: SocketAddrV4) -> Result<SocketAddrV4, UdpError> {
        let s = self.udp.get(h).ok_or(UdpError::BadHandle)?;
        if s.local.is_some() {
            return Err(UdpError::AlreadyBound);
        }
        let ip = *addr.ip();
        if !ip.is_unspecified()
            && !self.local.contains_key(&ip)
            && !ip.is_multicast()
            && !ip.is_loopback()
        {
            return Err(UdpError::AddrNotAvailable(ip));
        }
        let port = if addr.port() == 0 {
            self.alloc_port(ip)?
        } else {
            if !self.udp.port_free(ip, addr.port()) {
                return Err(UdpError::AddrInUse(addr));
            }
            addr.port()
        };
        let bound = SocketAddrV4::new(ip, port);
        self.udp.bindings.insert((ip, port), h);
        if let Some(s) = self.udp.get_mut(h) {
            s.local = Some(bound);
        }
        Ok(bound)
    }

    /// Sets the default destination and accepts datagrams only from it (binds first if needed).
    pub fn udp_connect(&mut self, h: UdpHandle, remote: SocketAddrV4) -> Result<(), UdpError> {
        if self.udp.get(h).ok_or(UdpError::BadHandle)?.local.is_none() {
            self.udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        }
        if let Some(s) = self.udp.get_mut(h) {
            s.remote = Some(remote);
        }
        Ok(())
    }

    /// The bound address.
    pub fn udp_local_addr(&self, h: UdpHandle) -> Option<SocketAddrV4> {
        self.udp.get(h)?.local
    }

    /// SO_BROADCAST: allow sending to broadcast addresses.
    pub fn udp_set_broadcast(&mut self, h: UdpHandle, on: bool) -> Result<(), UdpError> {
        self.udp.get_mut(h).ok_or(UdpError::BadHandle)?.broadcast = on;
        Ok(())
    }

    /// IP_MULTICAST_TTL.
    pub fn udp_set_multicast_ttl(&mut self, h: UdpHandle, ttl: u8) -> Result<(), UdpError> {
        self.udp
            .get_mut(h)
            .ok_or(UdpError::BadHandle)?
            .multicast_ttl = ttl;
        Ok(())
    }

    /// IP_MULTICAST_IF.
    pub fn udp_set_multicast_iface(
        &mut self,
        h: UdpHandle,
        iface: Option<IfaceId>,
    ) -> Result<(), UdpError> {
        self.udp
            .get_mut(h)
            .ok_or(UdpError::BadHandle)?
            .multicast_iface = iface;
        Ok(())
    }

    /// IP_MULTICAST_LOOP: our own members of a group get a copy of what we send to it (default on).
    pub fn udp_set_multicast_loop(&mut self, h: UdpHandle, on: bool) -> Result<(), UdpError> {
        self.udp
            .get_mut(h)
            .ok_or(UdpError::BadHandle)?
            .multicast_loop = on;
        Ok(())
    }

    /// IP_ADD_MEMBERSHIP: `iface` None picks the route's (or the first multicast) interface.
    pub fn udp_join_multicast<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        group: Ipv4Addr,
        iface: Option<IfaceId>,
        now: Instant,
    ) -> Result<(), UdpError> {
        self.udp.get(h).ok_or(UdpError::BadHandle)?;
        let iface = match iface {
            Some(i) => i,
            None => self.route_out(group, None, None, now)?.iface,
        };
        self.join(iface, group, now)?;
        let link = self.iface(iface).map_or(iface, |i| i.link);
        if let Some(s) = self.udp.get_mut(h) {
            s.groups.push((group, link));
        }
        self.flush(ctx);
        Ok(())
    }

    /// IP_DROP_MEMBERSHIP.
    pub fn udp_leave_multicast<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        group: Ipv4Addr,
        now: Instant,
    ) -> Result<(), UdpError> {
        let s = self.udp.get_mut(h).ok_or(UdpError::BadHandle)?;
        let Some(pos) = s.groups.iter().position(|(g, _)| *g == group) else {
            return Ok(());
        };
        let (_, link) = s.groups.remove(pos);
        self.leave(link, group, now);
        self.flush(ctx);
        Ok(())
    }

    /// Closes the socket (leaving its groups).
    pub fn udp_close<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, h: UdpHandle, now: Instant) {
        if let Some(s) = self.udp.close(h) {
            for (g, link) in s.groups {
                self.leave(link, g, now);
            }
        }
        self.flush(ctx);
    }

    /// Readable and writable.
    pub fn udp_poll(&self, h: UdpHandle) -> UdpReadiness {
        match self.udp.get(h) {
            Some(s) => UdpReadiness {
                readable: !s.rx.is_empty() || s.error.is_some(),
                writable: true,
            },
            None => UdpReadiness::default(),
        }
    }

    /// The next datagram, if any.
    pub fn udp_recv(&mut self, h: UdpHandle) -> Option<UdpDatagram> {
        let s = self.udp.get_mut(h)?;
        let d = s.rx.pop_front()?;
        s.rx_bytes -= d.data.len();
        Some(d)
    }

    /// The pending ICMP error (type, code) for the socket, read once.
    pub fn udp_take_error(&mut self, h: UdpHandle) -> Option<(u8, u8)> {
        self.udp.get_mut(h)?.error.take()
    }

    /// Datagrams dropped because the socket's queue was full.
    pub fn udp_drops(&self, h: UdpHandle) -> u64 {
        self.udp.get(h).map_or(0, |s| s.drops)
    }

    /// Every open socket and its local and remote addresses (SHOW for UDP; UDP-MIB's udpEndpointTable).
    pub fn udp_sockets(&self) -> Vec<(UdpHandle, Option<SocketAddrV4>, Option<SocketAddrV4>)> {
        self.udp
            .handles()
            .filter_map(|h| self.udp.get(h).map(|s| (h, s.local, s.remote)))
            .collect()
    }

    /// Sends to the connected peer.
    pub fn udp_send<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, UdpError> {
        self.udp_send_to(ctx, h, data, None, now)
    }

    /// Sends one datagram (to `dst`, or the connected peer when `None`). Binds an ephemeral port first if needed.
    pub fn udp_send_to<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        data: &[u8],
        dst: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<usize, UdpError> {
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 0);
        buf.extend_from_slice(data);
        let r = self.udp_send_buf(h, buf, dst, now);
        self.run_loopback(now);
        self.flush(ctx);
        r.map(|_| data.len())
    }

    fn udp_send_buf(
        &mut self,
        h: UdpHandle,
        mut buf: PacketBuf,
        dst: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<(), UdpError> {
        let s = self.udp.get(h).ok_or(UdpError::BadHandle)?;
        let dst = dst.or(s.remote).ok_or(SendError::NoDestination)?;
        if s.local.is_none() {
            self.udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        }
        let s = self.udp.get(h).ok_or(UdpError::BadHandle)?;
        let local = s.local.ok_or(UdpError::BadHandle)?;
        let ip = *dst.ip();
        let is_bcast = ip.is_broadcast() || self.bcast.iter().any(|(b, _)| *b == ip);
        if is_bcast && !s.broadcast {
            return Err(SendError::BroadcastDenied.into());
        }
        if buf.len() > 65535 - 28 {
            return Err(SendError::TooLong.into());
        }
        let (ttl, tos) = if ip.is_multicast() {
            (s.multicast_ttl, s.tos)
        } else {
            (s.ttl, s.tos)
        };
        let hint = if ip.is_multicast() {
            s.multicast_iface
        } else {
            None
        };
        let mcast_loop = s.multicast_loop;
        let src = Some(*local.ip()).filter(|a| !a.is_unspecified() && !a.is_multicast());
        let mut route = self.route_out(ip, src, hint, now).inspect_err(|e| {
            if matches!(e, SendError::NoRoute(_)) {
                self.stats.ip_out_no_routes += 1;
            }
        })?;
        route.mcast_loop = mcast_loop;
        let repr = UdpRepr {
            src_port: local.port(),
            dst_port: dst.port(),
            payload_len: buf.len(),
        };
        buf.prepend(repr.buffer_len())
            .map_err(|_| SendError::TooLong)?;
        repr.emit(
            &mut UdpPacket::new_unchecked(buf.as_mut_slice()),
            route.src,
            ip,
        );
        self.udp.stats.out_datagrams += 1;
        self.ip_send_routed(
            route,
            ip,
            buf,
            IpProtocol::Udp,
            ttl,
            tos,
            false,
            Ipv4OptionsBuf::new(),
            now,
        )?;
        Ok(())
    }

    /// A broadcast that no socket bound to it (or to the wildcard) takes goes to the socket
    /// bound to the address of an interface on the arrival link whose broadcast it is (the
    /// limited broadcast: the link's first addressed interface). netcp's services on the stack
    /// bind to their interface's address, and so still hear their subnet's broadcasts.
    fn udp_broadcast_demux(
        &self,
        link: IfaceId,
        dst: Ipv4Addr,
        cast: Cast,
        port: u16,
    ) -> Option<UdpHandle> {
        if cast != Cast::Broadcast {
            return None;
        }
        self.interfaces()
            .filter(|i| i.link() == link)
            .filter(|i| dst == Ipv4Addr::BROADCAST || i.broadcast() == Some(dst))
            .filter_map(|i| i.addr())
            .find_map(|a| self.udp.demux(a, port))
    }

    #[allow(clippy::too_many_arguments)]
    fn udp_input(
        &mut self,
        link: IfaceId,
        mut buf: PacketBuf,
        hl: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        cast: Cast,
        now: Instant,
    ) {
        let _ = now;
        // A datagram whose checksum the link vouched for (or that Linux left to the device,
        // CHECKSUM_PARTIAL over a TAP with offloads, so its checksum field is not final) is
        // not verified again, as TCP does.
        let verified = self.rx_csum_verified;
        let repr = match buf.as_slice().get(hl..).map(UdpPacket::new_checked) {
            Some(Ok(p)) => match if verified {
                UdpRepr::parse_unverified(&p)
            } else {
                UdpRepr::parse(&p, src, dst)
            } {
                Ok(r) => r,
                Err(_) => {
                    self.udp.stats.in_errors += 1;
                    return;
                }
            },
            _ => {
                self.udp.stats.in_errors += 1;
                return;
            }
        };
        let sender = SocketAddrV4::new(src, repr.src_port);
        let h = self
            .udp
            .demux(dst, repr.dst_port)
            .or_else(|| self.udp_broadcast_demux(link, dst, cast, repr.dst_port))
            .filter(|h| {
                self.udp.get(*h).is_some_and(|s| {
                    s.remote.is_none_or(|r| r == sender)
                        && (cast != Cast::Multicast
                            || s.groups.iter().any(|(g, l)| *g == dst && *l == link)
                            || s.local.is_some_and(|l| *l.ip() == dst))
                })
            });
        let Some(h) = h else {
            self.udp.stats.no_ports += 1;
            if cast == Cast::Unicast {
                self.icmp_error(
                    buf.as_slice(),
                    IcmpErr::Unreach(DstUnreachable::PortUnreachable, 0),
                    now,
                );
            }
            return;
        };
        buf.truncate(hl + 8 + repr.payload_len);
        if buf.trim_front(hl + 8).is_err() {
            return;
        }
        let Some(s) = self.udp.get_mut(h) else {
            return;
        };
        if s.rx_bytes + buf.len() > s.rx_limit {
            s.drops += 1;
            self.udp.stats.in_errors += 1;
            return;
        }
        let was_empty = s.rx.is_empty();
        s.rx_bytes += buf.len();
        s.rx.push_back(UdpDatagram {
            data: buf,
            src: sender,
            dst,
            iface: link,
        });
        self.udp.stats.in_datagrams += 1;
        if was_empty {
            self.event(StackEvent::UdpReadable(h));
        }
    }
}

/// What an ICMP message asks of us (parsed while the buffer is borrowed).
enum Msg {
    EchoRequest(u16, u16),
    EchoReply(u16, u16, usize),
    Redirect(Ipv4Addr, Option<Ipv4Addr>),
    Error {
        t: u8,
        c: u8,
        mtu: u16,
        dst: Ipv4Addr,
        src: Ipv4Addr,
        proto: u8,
        total: usize,
        sport: Option<u16>,
        /// The quoted transport header's first 8 bytes (TCP: ports and sequence number).
        quote: Option<[u8; 8]>,
    },
    Bad,
    Other,
}

fn quoted_dst(data: &[u8]) -> Option<Ipv4Addr> {
    Ipv4Packet::new_checked_header(data)
        .ok()
        .map(|p| p.dst_addr())
}
