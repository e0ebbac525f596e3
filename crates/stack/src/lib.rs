//! `stack`: Maynard's sans-I/O TCP/IP core (seed 001's interfaces, ARP, routes, IPv4, ICMP,
//! IGMPv2, UDP and TCP).
//!
//! Nothing here opens a socket, starts a thread, reads a clock or asks the OS for randomness:
//!
//! - **time** is a parameter, an [`Instant`] (nanoseconds on the caller's clock), given to every
//!   call that may act on it; timers are read with [`Stack::poll_at`] and fired with
//!   [`Stack::on_timer`];
//! - **randomness** comes from an injected [`Rng`];
//! - **frames** come in through [`Stack::receive`] / [`Stack::receive_batch`] as owned
//!   [`PacketBuf`]s and leave through the caller's [`LinkContext`], in batches;
//! - **hooks** ([`PacketHook`], [`CaptureHook`]) see every packet where it enters or leaves an
//!   interface and where it is forwarded: the packet filter and `netcu dump` attach there.
//!
//! ```
//! use stack::{Instant, LinkSpec, Stack, StackConfig, StackEvent, XorShiftRng};
//! use std::net::{Ipv4Addr, SocketAddrV4};
//!
//! let mut st = Stack::new(StackConfig::default(), Box::new(XorShiftRng::new(42)));
//! let mut out = Vec::new(); // a LinkContext: frames to send, per interface
//! let now = Instant::from_secs(1);
//! let se0 = st.create_interface("se0", LinkSpec::Ethernet("02:00:00:00:00:01".parse().unwrap()), now).unwrap();
//! st.set_address(&mut out, se0, Ipv4Addr::new(192, 0, 2, 2), 24, now).unwrap();
//! st.set_up(&mut out, se0, true, now).unwrap();
//! st.set_link_running(se0, true, now).unwrap();
//! assert_eq!(out.len(), 1); // the gratuitous ARP
//!
//! let h = st.udp_open();
//! st.udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7)).unwrap();
//! st.udp_send_to(&mut out, h, b"hi", Some(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 7)), now).unwrap();
//! assert_eq!(out.len(), 2); // an ARP request; the datagram waits for the answer
//!
//! // The caller's loop: frames from links go to `receive`, timers fire at `poll_at`.
//! let next = st.poll_at().unwrap();
//! st.on_timer(&mut out, next);
//! assert_eq!(out.len(), 3); // the ARP request again
//! # for (iface, frame) in out.drain(..) { let _ = (iface, frame); }
//! # let _ = st.take_events().iter().filter(|e| matches!(e, StackEvent::UdpReadable(_))).count();
//! ```
//!
//! Headers are parsed and emitted with the `wire` crate only. The forwarding path edits the
//! received buffer in place (TTL with RFC 1624's incremental checksum, a new Ethernet header
//! prepended into the headroom the old one left) and allocates nothing per packet.

#![forbid(unsafe_code)]

mod arp;
mod hash;
mod iface;
mod reasm;
mod route;
mod stack;
mod udp;

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

pub use arp::{ArpEntryView, ArpFlags, ArpState};
pub use iface::{
    Counters, Encapsulation, IfaceFlags, IfaceId, IfaceKind, Interface, InterfaceName, MAX_MTU,
    MIN_MTU,
};
pub use route::{NextHop, RouteKind, RouteView};
pub use stack::tcp::offload::segment_tso;
pub use stack::tcp::{
    CongestionAlgorithm, IfaceOffloads, RecvQueue, RxMeta, TcpConfig, TcpEcn, TcpError, TcpHandle,
    TcpInfo, TcpReadiness, TcpState, TcpStats, TsoMeta,
};
pub use stack::{LinkSpec, Stack, StackConfig, StackStats};
pub use udp::{UdpDatagram, UdpHandle, UdpReadiness, UdpStats};
pub use wire::prefix::{Ipv4Prefix, PrefixError};
pub use wire::{EthernetAddress, PacketBuf};

use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point on the caller's clock, in nanoseconds from an arbitrary origin. The stack never reads
/// a clock: every call that may act on time takes one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// `n` nanoseconds after the origin.
    pub const fn from_nanos(n: u64) -> Self {
        Instant(n)
    }

    /// `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms.saturating_mul(1_000_000))
    }

    /// `s` seconds after the origin.
    pub const fn from_secs(s: u64) -> Self {
        Instant(s.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self` (zero when `earlier` is later).
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(
            self.0
                .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        )
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(
            self.0
                .saturating_sub(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        )
    }
}

/// The randomness the stack needs (ephemeral ports, IP identifiers, IGMP report delays),
/// injected so tests are deterministic. `netcp` seeds one from the OS.
pub trait Rng {
    /// The next 32 random bits.
    fn next_u32(&mut self) -> u32;

    /// A value in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            0
        } else {
            ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
        }
    }
}

/// A small deterministic generator (xorshift64*), for tests and simulations; not for secrets.
#[derive(Debug, Clone)]
pub struct XorShiftRng(u64);

impl XorShiftRng {
    /// A generator from `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        XorShiftRng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
}

impl Rng for XorShiftRng {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
}

/// Where frames leave the stack: the caller's links. Called with whole frames (link header
/// included), in the order they were produced, at the end of each call into the stack.
pub trait LinkContext {
    /// Sends one frame on the link of interface `iface` (an `se` interface or `lo0`).
    fn send_frame(&mut self, iface: IfaceId, frame: PacketBuf);

    /// Sends one TCP super-segment (up to 64 KB) on a link marked TSO-capable with
    /// [`Stack::set_offloads`]: the link cuts it into `tso.mss`-sized segments (its TCP checksum
    /// field holds the pseudo-header sum, as virtio-net's `NEEDS_CSUM` expects). The default
    /// cuts it in software ([`segment_tso`]) and sends the pieces with `send_frame`.
    fn send_tso(&mut self, iface: IfaceId, frame: PacketBuf, tso: TsoMeta) {
        for f in segment_tso(&frame, tso) {
            self.send_frame(iface, f);
        }
    }

    /// Sends a batch; the default sends them one at a time.
    fn send_batch(&mut self, frames: &mut Vec<(IfaceId, PacketBuf)>) {
        for (iface, frame) in frames.drain(..) {
            self.send_frame(iface, frame);
        }
    }
}

/// Collecting frames in a `Vec` is a link context.
impl LinkContext for Vec<(IfaceId, PacketBuf)> {
    fn send_frame(&mut self, iface: IfaceId, frame: PacketBuf) {
        self.push((iface, frame));
    }

    fn send_batch(&mut self, frames: &mut Vec<(IfaceId, PacketBuf)>) {
        self.append(frames);
    }
}

/// Where a hook sees a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookPoint {
    /// An IPv4 datagram arriving on an interface, before local delivery or forwarding.
    Ingress,
    /// An IPv4 datagram about to be forwarded (after the route lookup), on its outgoing interface.
    Forward,
    /// An IPv4 datagram leaving on an interface (locally made or forwarded), before fragmentation.
    Egress,
}

/// A packet hook's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Let it through.
    Pass,
    /// Drop it silently.
    Drop,
    /// Drop it and answer with ICMP destination unreachable, administratively prohibited (code 13).
    Deny,
}

/// The packet filter's attachment point: sees every IPv4 datagram (header onwards) where it
/// enters, is forwarded and leaves.
pub trait PacketHook {
    /// Judges `packet` at `point` on interface `iface`.
    fn check(&mut self, point: HookPoint, iface: IfaceId, packet: &[u8], now: Instant) -> Verdict;
}

/// Which way a captured frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the link.
    In,
    /// Sent to the link.
    Out,
}

/// Packet capture (`netcu dump`): sees every whole frame received or sent on a link.
pub trait CaptureHook {
    /// One frame.
    fn capture(&mut self, iface: IfaceId, dir: Direction, frame: &[u8], now: Instant);
}

/// Something the caller should know about, read with [`Stack::take_events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackEvent {
    /// Another host answers ARP for one of our addresses (seed 001: logged).
    DuplicateAddress {
        /// The interface that owns the address.
        iface: IfaceId,
        /// The address.
        addr: Ipv4Addr,
        /// The other host's hardware address.
        other: EthernetAddress,
    },
    /// ARP for a next hop failed after every retry.
    ArpFailed {
        /// The interface.
        iface: IfaceId,
        /// The next hop.
        addr: Ipv4Addr,
    },
    /// A default gateway was declared dead; traffic moved to the next (if any).
    GatewayDead {
        /// The dead gateway.
        gateway: Ipv4Addr,
        /// The one now in use.
        next: Option<Ipv4Addr>,
    },
    /// A path MTU was learnt from ICMP fragmentation-needed (a host route now carries it).
    PathMtu {
        /// The destination.
        dst: Ipv4Addr,
        /// Its path MTU.
        mtu: u16,
    },
    /// An ICMP echo reply to one of our echo requests ([`Stack::send_echo_request`]).
    EchoReply {
        /// Who answered.
        from: Ipv4Addr,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Bytes of data.
        len: usize,
    },
    /// An ICMP error about a datagram we sent.
    IcmpError {
        /// Who sent the error.
        from: Ipv4Addr,
        /// ICMP type.
        msg_type: u8,
        /// ICMP code.
        code: u8,
        /// The destination of the quoted datagram.
        dst: Ipv4Addr,
        /// The quoted datagram's protocol.
        protocol: u8,
        /// The quoted source port (UDP/TCP), when present.
        src_port: Option<u16>,
    },
    /// A locally made datagram could not be delivered (no route, ARP failed).
    Unreachable {
        /// Its destination.
        dst: Ipv4Addr,
    },
    /// A UDP socket has datagrams to read.
    UdpReadable(UdpHandle),
    /// A TCP socket's readiness may have changed (readable, writable, acceptable, connected,
    /// closed or failed): re-read it with [`Stack::tcp_poll`].
    Tcp(TcpHandle),
    /// A connection attempt (TCP SYN) or a unicast UDP datagram reached a port no socket
    /// holds: what a port scan looks like, for intrusion prevention. (Answered with a reset or
    /// ICMP port unreachable as usual.)
    ClosedPort {
        /// The sender.
        src: Ipv4Addr,
        /// The address and port it tried.
        dst: std::net::SocketAddrV4,
        /// 6 (TCP) or 17 (UDP).
        protocol: u8,
    },
    /// A redirect arrived and was ignored (redirects are off by default).
    RedirectIgnored {
        /// Who sent it.
        from: Ipv4Addr,
        /// The better gateway it proposed.
        gateway: Ipv4Addr,
    },
}

/// A configuration check's finding that does not stop the change (NET-CONFIG's CHECK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a configuration call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The interface name is not `lo<n>`, `se<n>`, `pd<n>` (or a kind to come).
    #[error("bad interface name {0:?}: expected lo<n>, se<n> or pd<n>")]
    BadName(String),
    /// A kind that later issues bring.
    #[error("interface kind {0} is not supported yet")]
    NotSupportedYet(String),
    /// The name is taken.
    #[error("interface {0} already exists")]
    Exists(String),
    /// No such interface.
    #[error("no such interface")]
    NoSuchInterface,
    /// A `pd` interface needs an `se` parent; an `se` interface needs a hardware address.
    #[error("{0}")]
    BadParent(String),
    /// MTU out of range for the interface.
    #[error("MTU {mtu} out of range {min}..={max}")]
    Mtu {
        /// Requested.
        mtu: u32,
        /// Smallest allowed.
        min: u16,
        /// Largest allowed.
        max: u16,
    },
    /// An address that cannot be an interface's.
    #[error("bad address {0}: {1}")]
    BadAddress(Ipv4Addr, &'static str),
    /// The address belongs to another interface.
    #[error("address {0} is already on interface {1}")]
    AddressInUse(Ipv4Addr, String),
    /// A bad prefix or mask.
    #[error(transparent)]
    Prefix(#[from] PrefixError),
    /// A route that cannot be added (no interface reaches the gateway, ...).
    #[error("route: {0}")]
    Route(&'static str),
    /// No such route.
    #[error("no such route")]
    NoSuchRoute,
    /// No such ARP entry.
    #[error("no such ARP entry")]
    NoSuchArpEntry,
    /// ARP needs an Ethernet interface.
    #[error("ARP: {0}")]
    Arp(&'static str),
    /// The interface is a loopback or pseudo device and cannot do this.
    #[error("not possible on this interface: {0}")]
    WrongKind(&'static str),
}

/// Why a datagram could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No route to the destination.
    #[error("no route to {0}")]
    NoRoute(Ipv4Addr),
    /// Too long for IPv4 (over 65,515 bytes of payload) or for the path with DF set.
    #[error("message too long")]
    TooLong,
    /// A broadcast without the socket's broadcast permission.
    #[error("permission denied (broadcast not enabled on the socket)")]
    BroadcastDenied,
    /// The interface is down.
    #[error("interface down")]
    InterfaceDown,
    /// No such socket.
    #[error("bad socket handle")]
    BadHandle,
    /// An unconnected socket needs a destination.
    #[error("destination address required")]
    NoDestination,
    /// The packet filter refused it.
    #[error("denied by the packet filter")]
    Filtered,
    /// A local address is needed and none fits.
    #[error("no source address")]
    NoSourceAddress,
}

impl From<SendError> for std::io::Error {
    fn from(e: SendError) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e {
            SendError::NoRoute(_) => K::NetworkUnreachable,
            SendError::TooLong => K::InvalidInput,
            SendError::BroadcastDenied | SendError::Filtered => K::PermissionDenied,
            SendError::InterfaceDown => K::NetworkDown,
            SendError::BadHandle => K::NotConnected,
            SendError::NoDestination => K::NotConnected,
            SendError::NoSourceAddress => K::AddrNotAvailable,
        };
        std::io::Error::new(kind, e)
    }
}

impl From<UdpError> for std::io::Error {
    /// The error kinds host sockets give, for the async wrapper behind `services`' `DatagramSocket`.
    fn from(e: UdpError) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e {
            UdpError::Send(s) => return s.into(),
            UdpError::AddrInUse(_) => K::AddrInUse,
            UdpError::AddrNotAvailable(_) | UdpError::NoPorts => K::AddrNotAvailable,
            UdpError::BadHandle => K::NotConnected,
            UdpError::AlreadyBound | UdpError::NotMulticast(_) => K::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}

/// Why a UDP socket call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UdpError {
    /// The address and port are taken.
    #[error("address in use: {0}")]
    AddrInUse(SocketAddrV4),
    /// The address is not one of ours.
    #[error("cannot assign requested address {0}")]
    AddrNotAvailable(Ipv4Addr),
    /// No ephemeral port is free.
    #[error("no free ephemeral port")]
    NoPorts,
    /// No such socket.
    #[error("bad socket handle")]
    BadHandle,
    /// Already bound.
    #[error("socket already bound")]
    AlreadyBound,
    /// Not a multicast group.
    #[error("{0} is not a multicast group")]
    NotMulticast(Ipv4Addr),
    /// Sending failed.
    #[error(transparent)]
    Send(#[from] SendError),
}
