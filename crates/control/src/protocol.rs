//! The control protocol: typed, versioned requests and responses, one JSON object per line over
//! netcp's Unix control socket.
//!
//! Every message is an [`Envelope`] carrying [`PROTOCOL_VERSION`]. A peer that sends another
//! version, or anything that is not a well-formed envelope, gets an [`Response::Error`] and the
//! connection is closed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use services::meter::MeterSnapshot;

use crate::access::{AccessAction, AccessRule};
use crate::config::{Endpoint, ServiceConfig};
pub use crate::kernel::KernelValue;

/// The version of this protocol; bumped on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line netcp accepts, in bytes.
pub const MAX_LINE: usize = 1 << 20;

/// A message with its protocol version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The sender's protocol version.
    pub version: u32,
    /// The message.
    pub body: T,
}

impl<T> Envelope<T> {
    /// Wraps `body` with this build's protocol version.
    pub fn new(body: T) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            body,
        }
    }
}

/// Encodes a message as one line (with its newline).
pub fn encode<T: Serialize>(body: T) -> String {
    let mut line = serde_json::to_string(&Envelope::new(body))
        .unwrap_or_else(|e| format!("{{\"encode_error\":\"{e}\"}}"));
    line.push('\n');
    line
}

/// Why a line could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or not the expected shape.
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A version this build does not speak.
    #[error("protocol version {theirs} is not supported (this side speaks {PROTOCOL_VERSION})")]
    Version {
        /// The peer's version.
        theirs: u32,
    },
}

/// Decodes one line, checking the version first so a newer peer gets a version error rather than
/// a confusing shape error.
pub fn decode<T: for<'de> Deserialize<'de>>(line: &str) -> Result<T, DecodeError> {
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }
    let v: VersionOnly = serde_json::from_str(line)?;
    if v.version != PROTOCOL_VERSION {
        return Err(DecodeError::Version { theirs: v.version });
    }
    let env: Envelope<T> = serde_json::from_str(line)?;
    Ok(env.body)
}

/// What netcu asks of netcp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Versions and uptime.
    ShowVersion,
    /// Every service (or one) with its state.
    ShowServices {
        /// Only this service.
        name: Option<String>,
    },
    /// Open connections.
    ShowConnections {
        /// Only this service's.
        service: Option<String>,
    },
    /// Per-service counters.
    ShowCounters {
        /// Only this service's.
        service: Option<String>,
    },
    /// Sets counters back to zero.
    ZeroCounters {
        /// Only this service's.
        service: Option<String>,
    },
    /// Adds and starts a service.
    AddService {
        /// The new service.
        service: ServiceConfig,
        /// Also write it to servers.toml.
        permanent: bool,
    },
    /// Stops and removes a service; its open connections run to their end.
    RemoveService {
        /// Which.
        name: String,
        /// Also remove it from servers.toml.
        permanent: bool,
    },
    /// Marks a service enabled and starts it.
    EnableService {
        /// Which.
        name: String,
        /// Also in servers.toml.
        permanent: bool,
    },
    /// Marks a service disabled and stops listening; open connections run to their end.
    DisableService {
        /// Which.
        name: String,
        /// Also in servers.toml.
        permanent: bool,
    },
    /// Starts listening for an enabled service that was stopped (does not change the configuration).
    StartService {
        /// Which.
        name: String,
    },
    /// Stops listening (does not change the configuration; RELOAD restores it).
    StopService {
        /// Which.
        name: String,
    },
    /// Changes a service's access list or limits.
    SetService {
        /// Which.
        name: String,
        /// What changes.
        changes: ServiceChanges,
        /// Also in servers.toml.
        permanent: bool,
    },
    /// Closes one connection.
    Disconnect {
        /// Its id from SHOW CONNECTIONS.
        id: u64,
    },
    /// Re-reads the services database (seed 004's ZIPDB REFRESH).
    RefreshServices,
    /// Re-reads the whole configuration, keeping open connections.
    Reload,
    /// Puts a packet filter on an interface, removes it, or changes its logging
    /// (SET INTERFACE name /FILTER=file /NOFILTER /LOG=... /FORMAT=... /INTERVAL=n /NOLOG).
    SetInterfaceFilter {
        /// The interface (a Linux interface, or one of Maynard's stack).
        interface: String,
        /// The filter list.
        filter: FilterChange,
        /// Filter logging.
        log: FilterLogChange,
    },
    /// SHOW INTERFACE name /FILTER: every rule with its hits.
    ShowInterfaceFilter {
        /// The interface.
        interface: String,
    },
    /// Drains open connections and stops netcp.
    Shutdown {
        /// Close connections at once instead of draining.
        abort: bool,
    },
    // ----- Maynard's own stack (network.toml; crates/netcp/src/netstack) -----
    /// SHOW INTERFACE [name] [/STATISTICS]: the stack's interfaces.
    ShowStackInterfaces {
        /// Only this interface.
        name: Option<String>,
        /// The counters table (/STATISTICS) rather than each interface's settings.
        statistics: bool,
    },
    /// SET INTERFACE name /ADDRESS /MASK /BROADCAST /MTU /UP /DOWN: changes a stack interface live.
    SetStackInterface {
        /// The interface (`se0`, `pd1`, ...).
        name: String,
        /// What changes.
        changes: StackInterfaceChanges,
    },
    /// SHOW ARP: the stack's ARP table.
    ShowArp,
    /// SET ARP /ADD /DELETE /FLUSH.
    SetArp(ArpChange),
    /// SHOW ROUTE: the stack's routing table.
    ShowRoutes,
    /// SET ROUTE /ADD /DELETE.
    SetRoute {
        /// Add (`true`) or delete.
        add: bool,
        /// Destination network and prefix length (0.0.0.0/0: a default gateway).
        destination: Ipv4Addr,
        /// Its prefix length.
        prefix_len: u8,
        /// The gateway (required to add; for delete, `None` removes every default gateway).
        gateway: Option<Ipv4Addr>,
    },
    /// SHOW KERNEL: the stack's global parameters and IP/ICMP counters.
    ShowKernel,
    /// SET KERNEL parameter value: GATEWAY|TCP_PMTU|ACCEPT_REDIRECTS 0|1 and the TCP tunables.
    SetKernel {
        /// The parameter (lower case: `gateway`, `tcp_pmtu`, `tcp_congestion`, ...).
        parameter: String,
        /// Its new value.
        value: KernelValue,
    },
    /// SHOW CONNECTIONS /STACK: the sockets of Maynard's stack (TCP and UDP).
    ShowStackSockets,
    /// NETCONFIG: NET-CONFIG's verbs on `network.toml`, saved and applied to the running stack.
    NetConfig(NetConfigOp),
    /// PING address: ICMP echo requests from the stack.
    StackPing {
        /// Whom to ping.
        address: Ipv4Addr,
        /// How many requests (one a second).
        count: u16,
        /// Bytes of data in each.
        size: u16,
    },
    /// SHOW ACCESS: the outgoing access restrictions with their hits.
    ShowAccess,
    /// ADD ACCESS: an outgoing access restriction, applied and saved.
    AddAccess {
        /// The rule.
        rule: crate::config::outgoing::OutgoingRule,
        /// Its number once inserted (1-based); `None`: last.
        position: Option<usize>,
    },
    /// REMOVE ACCESS n: removes outgoing access restriction number `n` (1-based).
    RemoveAccess {
        /// The rule's number as SHOW ACCESS lists it.
        number: usize,
    },
    /// SHOW IPS: the filter server's rules with their counters and the blocks in force.
    ShowIps,
    /// SET IPS /UNBLOCK: lifts the blocks on `source` (every block when `None`).
    IpsUnblock {
        /// The blocked source; `None`: all.
        source: Option<std::net::IpAddr>,
    },
    /// SHOW SNMP: the agent's counters, communities and users (without secrets), subtrees.
    ShowSnmp,
    /// SHOW SNMP /SUBAGENTS: AgentX sessions and SMUX peers with their registrations.
    ShowSnmpSubagents,
    /// DUMP interface: live capture on an interface of Maynard's stack (`netcu dump se0`).
    ///
    /// The one request that streams: netcp answers with a sequence of [`Response::Frames`]
    /// lines (an empty batch at least every second while the link is quiet), the last with
    /// `done` set, or a single [`Response::Error`]. The client may also stop early by closing
    /// the connection.
    Capture {
        /// The stack interface, in any case (`se0`, `SE0`).
        interface: String,
        /// Stop after this many frames (`None`: no limit).
        count: Option<u64>,
        /// Stop after this many seconds (`None`: no limit).
        seconds: Option<u64>,
    },
}

/// Which way a captured frame went on its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameDirection {
    /// Received from the link.
    In,
    /// Sent to the link.
    Out,
}

/// One frame of a live capture ([`Request::Capture`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedFrame {
    /// Wall-clock seconds since the Unix epoch.
    pub ts_sec: i64,
    /// Nanoseconds within the second.
    pub ts_nsec: u32,
    /// Received or sent.
    pub direction: FrameDirection,
    /// The whole Ethernet frame.
    pub data: Vec<u8>,
}

/// The changes of a SET SERVICE; `None` leaves a setting as it is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceChanges {
    /// A new access list (replacing the old one).
    pub access: Option<Vec<AccessRule>>,
    /// A new default action.
    pub access_default: Option<AccessAction>,
    /// A new limit of concurrent connections.
    pub max_connections: Option<u32>,
    /// A new limit per source.
    pub max_per_source: Option<u32>,
    /// A new rate per source.
    pub rate_per_source: Option<u32>,
}

impl ServiceChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == ServiceChanges::default()
    }
}

/// What SET INTERFACE does to an interface's filter list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterChange {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Load this filter file (an absolute path) and apply it.
    Load(PathBuf),
    /// Remove the list (/NOFILTER): the interface passes everything again.
    Remove,
}

/// Where filter log reports go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterLogTarget {
    /// netcp's log (the operator's console, OPCOM on VMS).
    Opcom,
    /// A file of its own (an absolute path).
    File(PathBuf),
}

/// The format of filter log reports (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterLogFormat {
    /// As SHOW INTERFACE /FILTER shows it.
    Normal,
    /// Comma-separated, the first line holding the field names.
    Comma,
}

/// Filter logging of one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterLog {
    /// Where reports go.
    pub target: FilterLogTarget,
    /// Their format.
    pub format: FilterLogFormat,
    /// Seconds between reports (at least 5).
    pub interval_seconds: u32,
}

/// What SET INTERFACE does to filter logging.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterLogChange {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Log as described.
    Set(FilterLog),
    /// Stop logging and close the file (/NOLOG).
    Stop,
}

/// What netcp answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    /// Done; the message says what happened.
    Ok {
        /// A line for the user.
        message: String,
    },
    /// Not done; the message says why (every line of a configuration error).
    Error {
        /// Lines for the user.
        message: String,
    },
    /// Versions.
    Version(VersionInfo),
    /// SHOW SERVICES.
    Services {
        /// One per service.
        services: Vec<ServiceStatus>,
    },
    /// SHOW CONNECTIONS /STACK.
    StackSockets {
        /// One per socket.
        sockets: Vec<StackSocketInfo>,
    },
    /// SHOW CONNECTIONS.
    Connections {
        /// One per open connection.
        connections: Vec<ConnectionInfo>,
    },
    /// SHOW COUNTERS.
    Counters {
        /// One per service.
        counters: Vec<ServiceCounters>,
    },
    /// Text netcp rendered itself, printed as it is (SHOW INTERFACE /FILTER, ...).
    Text {
        /// Lines, each ending in a newline.
        text: String,
    },
    /// SHOW INTERFACE: the stack's interfaces.
    StackInterfaces {
        /// One per interface.
        interfaces: Vec<StackInterfaceInfo>,
        /// The view asked for: the counters table (/STATISTICS) or each interface's settings.
        statistics: bool,
    },
    /// SHOW ARP.
    Arp {
        /// One per entry.
        entries: Vec<ArpInfo>,
    },
    /// SHOW ROUTE.
    Routes {
        /// One per route.
        routes: Vec<RouteInfo>,
    },
    /// SHOW KERNEL.
    Kernel(KernelInfo),
    /// Frames of a live capture ([`Request::Capture`]), one batch per line.
    Frames {
        /// The frames since the last batch (may be empty: a keep-alive).
        frames: Vec<CapturedFrame>,
        /// Frames this capture lost so far because the client fell behind.
        dropped: u64,
        /// The last batch: the count or time was reached, or the stack stopped.
        done: bool,
    },
}

/// The changes of SET INTERFACE on a stack interface; `None` leaves a setting as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StackInterfaceChanges {
    /// A new address (with `mask`, or keeping the old prefix length, else the class's).
    pub address: Option<Ipv4Addr>,
    /// A new netmask.
    pub mask: Option<Ipv4Addr>,
    /// A non-standard broadcast address (`Some(None)`: back to the standard one).
    pub broadcast: Option<Option<Ipv4Addr>>,
    /// A new MTU.
    pub mtu: Option<u32>,
    /// Administratively up or down.
    pub up: Option<bool>,
}

impl StackInterfaceChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == StackInterfaceChanges::default()
    }
}

/// SET ARP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArpChange {
    /// /ADD host [hw] [/PERMANENT] [/PUBLISH] [/PROXY].
    Add {
        /// The IP address.
        address: Ipv4Addr,
        /// The hardware address (`None` only with `proxy`).
        mac: Option<String>,
        /// Never ages.
        permanent: bool,
        /// Answer requests for it with `mac`.
        publish: bool,
        /// Answer requests for it with our own hardware address.
        proxy: bool,
    },
    /// /DELETE host.
    Delete {
        /// The IP address.
        address: Ipv4Addr,
    },
    /// /FLUSH [/PERMANENT]: temporary entries, or every one.
    Flush {
        /// Permanent, published and proxy entries too.
        permanent: bool,
    },
}

/// Seed 001's interface counters and IF-MIB's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StackCounters {
    /// Packets received.
    pub ipkts: u64,
    /// Input errors.
    pub ierrs: u64,
    /// Packets sent.
    pub opkts: u64,
    /// Output errors.
    pub oerrs: u64,
    /// Collisions.
    pub collis: u64,
    /// Octets received.
    pub in_octets: u64,
    /// Octets sent.
    pub out_octets: u64,
    /// Unicast packets received.
    pub in_ucast: u64,
    /// Multicast packets received.
    pub in_mcast: u64,
    /// Broadcast packets received.
    pub in_bcast: u64,
    /// Received packets discarded.
    pub in_discards: u64,
    /// Received packets of an unknown protocol.
    pub in_unknown_protos: u64,
    /// Unicast packets sent.
    pub out_ucast: u64,
    /// Multicast packets sent.
    pub out_mcast: u64,
    /// Broadcast packets sent.
    pub out_bcast: u64,
    /// Packets to send discarded.
    pub out_discards: u64,
}

/// SHOW INTERFACE, one stack interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackInterfaceInfo {
    /// `se0`, `pd1`, `lo0`.
    pub name: String,
    /// MTU.
    pub mtu: u16,
    /// Address.
    pub address: Option<Ipv4Addr>,
    /// Prefix length.
    pub prefix_len: Option<u8>,
    /// Broadcast address in use.
    pub broadcast: Option<Ipv4Addr>,
    /// Hardware address (se, pd).
    pub mac: Option<String>,
    /// `UP,BROADCAST,RUNNING,MULTICAST`.
    pub flags: String,
    /// `ethernet` or `802.2`.
    pub encapsulation: String,
    /// What it rides on: `tap mayn0`, `packet eth1`, `se0` (a pd's parent), `loopback`.
    pub link: String,
    /// Counters.
    pub counters: StackCounters,
    /// Multicast groups joined on this link (by services and sockets of the stack).
    #[serde(default)]
    pub groups: Vec<Ipv4Addr>,
}

/// SHOW ARP, one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArpInfo {
    /// IP address.
    pub address: Ipv4Addr,
    /// Hardware address (none while resolving).
    pub mac: Option<String>,
    /// The interface.
    pub interface: String,
    /// Never ages.
    pub permanent: bool,
    /// Published for another host.
    pub publish: bool,
    /// Proxy: our own hardware address is published.
    pub proxy: bool,
    /// Still being resolved.
    pub incomplete: bool,
    /// Seconds until it expires.
    pub expires_seconds: Option<u64>,
    /// Datagrams waiting for it.
    pub queued: usize,
}

/// SHOW ROUTE, one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInfo {
    /// Destination network.
    pub destination: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// Gateway (none for a connected network).
    pub gateway: Option<Ipv4Addr>,
    /// Interface.
    pub interface: String,
    /// An MTU the route carries.
    pub mtu: Option<u16>,
    /// `connected`, `host`, `network`, `default`, `pmtu`.
    pub kind: String,
    /// For default gateways: the one in use.
    pub active: bool,
    /// For default gateways: declared dead.
    pub dead: bool,
    /// Seconds until a learnt route expires.
    pub expires_seconds: Option<u64>,
}

/// One socket of Maynard's stack (SHOW CONNECTIONS /STACK), with what `ss -ti` shows for TCP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackSocketInfo {
    /// TCP or UDP.
    pub protocol: servicedb::Protocol,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port (unspecified for a listener or an unconnected UDP socket).
    pub remote: SocketAddr,
    /// `ESTABLISHED`, `LISTEN`, `TIME-WAIT` ... (empty for UDP).
    pub state: String,
    /// Bytes sent and not yet acknowledged or not yet sent.
    pub send_queue: u64,
    /// Bytes received and not yet read (a listener: connections waiting to be accepted).
    pub recv_queue: u64,
    /// TCP details (none for UDP).
    pub tcp: Option<TcpDetails>,
}

/// The TCP part of [`StackSocketInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpDetails {
    /// Smoothed round-trip time, microseconds (none before the first sample).
    pub srtt_us: Option<u64>,
    /// Round-trip variation, microseconds.
    pub rttvar_us: u64,
    /// Retransmission timeout, milliseconds.
    pub rto_ms: u64,
    /// Maximum segment size.
    pub mss: u32,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Slow-start threshold, bytes.
    pub ssthresh: u64,
    /// The peer's window, bytes.
    pub snd_wnd: u64,
    /// Our advertised window, bytes.
    pub rcv_wnd: u64,
    /// Segments retransmitted.
    pub retransmits: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// `cubic` or `newreno`.
    pub congestion: String,
    /// Held by a service (false: orphaned, closing or in TIME-WAIT).
    pub owned: bool,
}

/// SHOW KERNEL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelInfo {
    /// IP gateway (forwarding).
    pub gateway: bool,
    /// Path MTU discovery.
    pub tcp_pmtu: bool,
    /// ICMP redirects obeyed.
    pub accept_redirects: bool,
    /// Stack-wide counters (IP-MIB, ICMP-MIB, UDP-MIB, TCP-MIB names), in order.
    pub counters: Vec<(String, u64)>,
    /// The TCP tunables (SET KERNEL name, value), in order.
    #[serde(default)]
    pub tcp: Vec<(String, String)>,
}

/// SHOW VERSION.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// netcp's version.
    pub version: String,
    /// The control protocol version.
    pub protocol: u32,
    /// Seconds since netcp started.
    pub uptime_seconds: u64,
    /// netcp's process id.
    pub pid: u32,
    /// Where the configuration came from.
    pub config: String,
}

/// The state of one service's listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    /// Listening.
    Running,
    /// Enabled but stopped by STOP SERVICE.
    Stopped,
    /// Disabled in the configuration.
    Disabled,
    /// Enabled, but no listener could be opened.
    Failed,
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServiceState::Running => "running",
            ServiceState::Stopped => "stopped",
            ServiceState::Disabled => "disabled",
            ServiceState::Failed => "failed",
        })
    }
}

/// SHOW SERVICES, one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Its name.
    pub name: String,
    /// Listening or not.
    pub state: ServiceState,
    /// `builtin echo` or a program path.
    pub server: String,
    /// The program's arguments.
    pub arguments: Vec<String>,
    /// The account an external server runs as.
    pub user: Option<String>,
    /// Configured transports and ports.
    pub endpoints: Vec<Endpoint>,
    /// The sockets actually bound.
    pub bound: Vec<BoundSocket>,
    /// Why a listener failed, when one did.
    pub failure: Option<String>,
    /// Open connections now.
    pub active: u64,
    /// Concurrent connection limit.
    pub max_connections: u32,
    /// Per-source limit (0 = none).
    pub max_per_source: u32,
    /// Per-source rate (0 = none).
    pub rate_per_source: u32,
    /// Access rules in order.
    pub access: Vec<AccessRule>,
    /// The action when no rule matches.
    pub access_default: AccessAction,
}

/// A socket a service listens on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundSocket {
    /// TCP or UDP.
    pub protocol: servicedb::Protocol,
    /// Local address and port.
    pub addr: SocketAddr,
}

/// SHOW CONNECTIONS, one connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// Its id (for DISCONNECT).
    pub id: u64,
    /// The service.
    pub service: String,
    /// TCP or UDP (a running wait-style UDP server).
    pub protocol: servicedb::Protocol,
    /// The local end.
    pub local: SocketAddr,
    /// The remote end.
    pub peer: SocketAddr,
    /// Seconds since it opened.
    pub age_seconds: u64,
    /// Bytes received so far.
    pub bytes_in: u64,
    /// Bytes sent so far.
    pub bytes_out: u64,
    /// The child process, for an external server.
    pub pid: Option<u32>,
}

/// SHOW COUNTERS, one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCounters {
    /// The service.
    pub service: String,
    /// The counters.
    pub counters: MeterSnapshot,
}

/// The control socket path: `$MAYNARD_SOCKET`, else `/run/maynard/netcp.sock` for root, else
/// `$XDG_RUNTIME_DIR/maynard/netcp.sock`, else `/tmp/maynard-UID/netcp.sock`.
pub fn default_socket_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MAYNARD_SOCKET").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if uid == 0 {
        return PathBuf::from("/run/maynard/netcp.sock");
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("maynard/netcp.sock"),
        None => PathBuf::from(format!("/tmp/maynard-{uid}/netcp.sock")),
    }
}

/// Formats hundredths of a message as a decimal (`250` → `2.5`).
pub fn format_centi(centi: u64) -> String {
    match centi % 100 {
        0 => (centi / 100).to_string(),
        r if r % 10 == 0 => format!("{}.{}", centi / 100, r / 10),
        r => format!("{}.{:02}", centi / 100, r),
    }
}

/// A source address as logs and tables show it (IPv4-mapped IPv6 as plain IPv4).
pub fn show_ip(ip: IpAddr) -> IpAddr {
    wire::prefix::canonical(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_versions_are_checked() {
        let req = Request::SetService {
            name: "echo".into(),
            changes: ServiceChanges {
                access: Some(vec!["reject 10.0.0.0/8".parse().unwrap()]),
                ..Default::default()
            },
            permanent: true,
        };
        let line = encode(&req);
        assert!(line.ends_with('\n'));
        assert_eq!(decode::<Request>(line.trim_end()).unwrap(), req);
        let future = line.replace("\"version\":1", "\"version\":99");
        assert!(matches!(
            decode::<Request>(&future),
            Err(DecodeError::Version { theirs: 99 })
        ));
        assert!(matches!(
            decode::<Request>("GET / HTTP/1.0"),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn centi_messages_format() {
        assert_eq!(format_centi(0), "0");
        assert_eq!(format_centi(300), "3");
        assert_eq!(format_centi(250), "2.5");
        assert_eq!(format_centi(1), "0.01");
    }
}

/// The settings NETCONFIG ADD and MODIFY give an interface, as the administrator typed them
/// (validated by netcp with `network.toml`'s own rules).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfigSettings {
    /// A TAP device netcp creates (`se`).
    pub tap: Option<String>,
    /// An existing Linux interface, through AF_PACKET (`se`).
    pub packet: Option<String>,
    /// The `se` parent (`pd`).
    pub parent: Option<String>,
    /// `A.B.C.D/LEN`.
    pub address: Option<String>,
    /// A non-standard broadcast address; `Some("")` removes it.
    pub broadcast: Option<String>,
    /// The MTU; `Some(0)` removes it.
    pub mtu: Option<u32>,
    /// `ethernet` or `802.2`.
    pub encapsulation: Option<String>,
    /// The stack's hardware address.
    pub mac: Option<String>,
}

impl NetConfigSettings {
    /// Whether nothing is given.
    pub fn is_empty(&self) -> bool {
        *self == NetConfigSettings::default()
    }
}

/// One of NET-CONFIG's verbs (seed 001) on `network.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case")]
pub enum NetConfigOp {
    /// ADD name /TAP=.. /ADDRESS=..: a new interface.
    Add {
        /// `se1`, `pd0`, ...
        name: String,
        /// Its settings.
        settings: NetConfigSettings,
    },
    /// MODIFY name /ADDRESS=..: change an interface's settings.
    Modify {
        /// The interface.
        name: String,
        /// What changes.
        settings: NetConfigSettings,
    },
    /// DELETE name.
    Delete {
        /// The interface.
        name: String,
    },
    /// ENABLE or DISABLE name.
    Enable {
        /// The interface.
        name: String,
        /// Enable (`true`) or disable.
        enabled: bool,
    },
    /// ROUTE /ADD=(...) or /DELETE=(...): a static route in the file (and on the stack).
    Route {
        /// Add (`true`) or delete.
        add: bool,
        /// Destination network (0.0.0.0 with length 0: a default route).
        destination: Ipv4Addr,
        /// Its prefix length.
        prefix_len: u8,
        /// The gateway (required to add; to delete, `None` matches any).
        gateway: Option<Ipv4Addr>,
    },
    /// ARP /ADD or /DELETE: a static ARP entry in the file (and on the stack). /FLUSH is live
    /// only (SET ARP).
    Arp(ArpChange),
    /// KERNEL GATEWAY|TCP_PMTU|ACCEPT_REDIRECTS 0|1: a `[kernel]` switch in the file.
    Kernel {
        /// `gateway`, `tcp_pmtu` or `accept_redirects`.
        parameter: String,
        /// Its value.
        value: bool,
    },
    /// CHECK: validate `network.toml` and list its warnings.
    Check,
    /// SHOW [name]: the configuration as saved.
    Show {
        /// Only this interface.
        name: Option<String>,
    },
}
