//! TCP (RFC 9293) in the sans-I/O stack: the public types here, the machinery in the modules.
//!
//! - [`seq`]: sequence arithmetic; [`isn`]: RFC 6528 ISNs and SYN cookies;
//! - [`buffers`]: send buffer and receive reassembly (SACK blocks come from it); [`sack`]: the
//!   sender's scoreboard; [`recv_queue`]: received bytes as chunks of the frames they came in;
//! - [`cc`]: NewReno, CUBIC and the RTO estimator; [`rack`]: RACK-TLP loss detection;
//! - [`conn`]: one connection's state and segment output; [`input`]: segment arrival;
//!   [`timers`]: retransmission, delayed ACK, persist, keepalive, TIME-WAIT;
//! - [`table`]: sockets, listeners, accept queues, TIME-WAIT table, demultiplexing, timer heap;
//! - [`api`]: the `Stack::tcp_*` calls and the hooks from IPv4 and ICMP; [`recv_api`]: the
//!   reading calls and ACKs held over a driver's batch of frames;
//! - [`offload`]: TSO super-segments and their software segmentation.

pub(crate) mod api;
pub(crate) mod buffers;
pub(crate) mod cc;
pub(crate) mod conn;
pub(crate) mod input;
pub(crate) mod isn;
pub(crate) mod offload;
pub(crate) mod rack;
pub(crate) mod recv_api;
pub(crate) mod recv_queue;
pub(crate) mod sack;
pub(crate) mod seq;
pub(crate) mod table;
pub(crate) mod timers;

#[cfg(test)]
mod tests;

pub use offload::{IfaceOffloads, RxMeta, TsoMeta};
pub use recv_queue::RecvQueue;

use std::fmt;
use std::net::SocketAddrV4;
use std::str::FromStr;
use std::time::Duration;

/// A TCP socket's handle (a listener or a connection): an index and a generation, so a stale
/// handle never reaches a newer socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// RFC 9293's connection states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// No connection.
    Closed,
    /// Waiting for connection requests.
    Listen,
    /// SYN sent, waiting for the answer.
    SynSent,
    /// SYN received and answered, waiting for its acknowledgment.
    SynReceived,
    /// Open: data flows both ways.
    Established,
    /// We closed; our FIN is not yet acknowledged.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's.
    FinWait2,
    /// The peer closed; we may still send.
    CloseWait,
    /// Both closed at once; waiting for our FIN's acknowledgment.
    Closing,
    /// The peer closed first, then we did; waiting for our FIN's acknowledgment.
    LastAck,
    /// Both closed; waiting 2 MSL so stray segments die.
    TimeWait,
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        })
    }
}

/// Why a TCP call failed, or why a connection ended.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpError {
    /// No such socket (closed, or a stale handle).
    #[error("bad socket handle")]
    InvalidHandle,
    /// The address and port are taken.
    #[error("address in use")]
    AddrInUse,
    /// The local address is not one of ours.
    #[error("cannot assign requested address")]
    AddrNotAvailable,
    /// Not possible in the socket's state (listen on a connection, send on a listener, ...).
    #[error("operation not possible in this state")]
    InvalidState,
    /// Not connected (yet, or any more).
    #[error("not connected")]
    NotConnected,
    /// Nothing to read, no room to write, no connection to accept: try again later.
    #[error("operation would block")]
    WouldBlock,
    /// The peer answered the SYN with a reset.
    #[error("connection refused")]
    ConnectionRefused,
    /// The peer reset the connection.
    #[error("connection reset by peer")]
    ConnectionReset,
    /// Aborted locally.
    #[error("connection aborted")]
    ConnectionAborted,
    /// Retransmissions or keepalive probes went unanswered.
    #[error("connection timed out")]
    TimedOut,
    /// An ICMP error said the peer cannot be reached.
    #[error("host or network unreachable")]
    Unreachable,
    /// No ephemeral port is free.
    #[error("no free ephemeral port")]
    NoPorts,
}

impl From<TcpError> for std::io::Error {
    /// The error kinds host sockets give.
    fn from(e: TcpError) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e {
            TcpError::InvalidHandle | TcpError::NotConnected => K::NotConnected,
            TcpError::AddrInUse => K::AddrInUse,
            TcpError::AddrNotAvailable | TcpError::NoPorts => K::AddrNotAvailable,
            TcpError::InvalidState => K::InvalidInput,
            TcpError::WouldBlock => K::WouldBlock,
            TcpError::ConnectionRefused => K::ConnectionRefused,
            TcpError::ConnectionReset => K::ConnectionReset,
            TcpError::ConnectionAborted => K::ConnectionAborted,
            TcpError::TimedOut => K::TimedOut,
            TcpError::Unreachable => K::HostUnreachable,
        };
        std::io::Error::new(kind, e)
    }
}

/// The congestion control algorithm for new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CongestionAlgorithm {
    /// RFC 5681 and RFC 6582 (with RFC 6675 SACK recovery when SACK is on).
    NewReno,
    /// RFC 9438.
    #[default]
    Cubic,
}

impl fmt::Display for CongestionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CongestionAlgorithm::NewReno => "newreno",
            CongestionAlgorithm::Cubic => "cubic",
        })
    }
}

impl FromStr for CongestionAlgorithm {
    type Err = String;
    /// `newreno` (or `reno`) and `cubic`, any case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "newreno" | "reno" | "new-reno" => Ok(CongestionAlgorithm::NewReno),
            "cubic" => Ok(CongestionAlgorithm::Cubic),
            _ => Err(format!(
                "unknown congestion control {s:?}: expected newreno or cubic"
            )),
        }
    }
}

/// TCP's tunables (in [`StackConfig`](crate::StackConfig) as `tcp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// Congestion control for new connections (default CUBIC).
    pub congestion: CongestionAlgorithm,
    /// Delay ACKs (RFC 9293 section 3.8.6.3; default on): every second full segment is
    /// acknowledged at once, others within `delayed_ack_timeout`.
    pub delayed_ack: bool,
    /// The longest an ACK waits (default 40 ms).
    pub delayed_ack_timeout: Duration,
    /// Nagle's algorithm for new sockets (default on; `tcp_set_nodelay` turns it off).
    pub nagle: bool,
    /// Send buffer per connection (default 4 MiB).
    pub send_buffer: usize,
    /// Receive buffer per connection, advertised with window scaling (default 4 MiB).
    pub recv_buffer: usize,
    /// Answer SYNs with cookies when a listener's backlog is full (default on).
    pub syn_cookies: bool,
    /// TIME-WAIT connections kept at most; the oldest go first (default 16384).
    pub time_wait_limit: usize,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this (default 30 s).
    pub msl: Duration,
    /// Idle time before the first keepalive probe (default 2 hours).
    pub keepalive_idle: Duration,
    /// Time between probes (default 75 s).
    pub keepalive_interval: Duration,
    /// Probes unanswered before the connection is dropped (default 9).
    pub keepalive_probes: u32,
    /// Lower bound of the retransmission timeout (default 200 ms, as Linux).
    pub rto_min: Duration,
    /// Upper bound of the retransmission timeout (default 60 s).
    pub rto_max: Duration,
    /// RTO before any RTT is measured (default 1 s, RFC 6298).
    pub rto_initial: Duration,
    /// Selective acknowledgments, RFC 2018 (default on).
    pub sack: bool,
    /// Timestamps and PAWS, RFC 7323 (default on).
    pub timestamps: bool,
    /// Window scaling, RFC 7323 (default on).
    pub window_scaling: bool,
    /// SYN retransmissions before connect fails (default 6).
    pub max_syn_retries: u32,
    /// Data retransmissions before the connection fails (default 15).
    pub max_retries: u32,
    /// Explicit congestion notification, RFC 3168 (default: accepted when a peer asks).
    pub ecn: TcpEcn,
}

/// When connections use ECN (RFC 3168), as Linux's `net.ipv4.tcp_ecn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEcn {
    /// Never (0).
    Off,
    /// Asked for on connections we open, accepted on those we accept (1).
    On,
    /// Accepted when the peer asks, never asked for (2; the default, as Linux's).
    Passive,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            congestion: CongestionAlgorithm::Cubic,
            delayed_ack: true,
            delayed_ack_timeout: Duration::from_millis(40),
            nagle: true,
            send_buffer: 4 << 20,
            recv_buffer: 4 << 20,
            syn_cookies: true,
            time_wait_limit: 16384,
            msl: Duration::from_secs(30),
            keepalive_idle: Duration::from_secs(7200),
            keepalive_interval: Duration::from_secs(75),
            keepalive_probes: 9,
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            rto_initial: Duration::from_secs(1),
            sack: true,
            timestamps: true,
            window_scaling: true,
            max_syn_retries: 6,
            ecn: TcpEcn::Passive,
            max_retries: 15,
        }
    }
}

/// What a TCP socket can do now (re-read after [`StackEvent::Tcp`](crate::StackEvent::Tcp)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpReadiness {
    /// Data (or end of stream) to read.
    pub readable: bool,
    /// Room in the send buffer: at least a quarter of it (at most 64 KiB), so that wake-ups
    /// are not per byte (`tcp_send` takes what fits whenever there is any room).
    pub writable: bool,
    /// A listener has connections to accept.
    pub acceptable: bool,
    /// The handshake completed (stays true after).
    pub connected: bool,
    /// The peer sent FIN and every byte before it was read.
    pub eof: bool,
    /// The connection is over (closed, reset, timed out) or the handle is invalid.
    pub closed: bool,
    /// Why it ended, when it ended abnormally.
    pub error: Option<TcpError>,
}

/// One connection or listener, as `SHOW CONNECTIONS` and `ss -ti` show it.
#[derive(Debug, Clone)]
pub struct TcpInfo {
    /// The handle, `None` for orphaned (closed by the application) and TIME-WAIT connections.
    pub handle: Option<TcpHandle>,
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address (0.0.0.0:0 for a listener).
    pub remote: SocketAddrV4,
    /// State.
    pub state: TcpState,
    /// Bytes queued, not yet acknowledged.
    pub send_queue: usize,
    /// Bytes received, not yet read (a listener: its accept queue length).
    pub recv_queue: usize,
    /// Smoothed RTT.
    pub srtt: Option<Duration>,
    /// RTT variation.
    pub rttvar: Duration,
    /// Current retransmission timeout.
    pub rto: Duration,
    /// Send MSS.
    pub mss: u16,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow start threshold, bytes.
    pub ssthresh: u32,
    /// Peer's window, bytes.
    pub snd_wnd: u32,
    /// Our advertised window, bytes.
    pub rcv_wnd: u32,
    /// Segments retransmitted.
    pub retransmits: u64,
    /// Data bytes sent (first transmissions).
    pub bytes_sent: u64,
    /// Data bytes received in order.
    pub bytes_received: u64,
    /// Congestion control.
    pub congestion: CongestionAlgorithm,
}

/// TCP-MIB (RFC 4022) counters and a few more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpStats {
    /// tcpActiveOpens.
    pub active_opens: u64,
    /// tcpPassiveOpens.
    pub passive_opens: u64,
    /// tcpAttemptFails.
    pub attempt_fails: u64,
    /// tcpEstabResets.
    pub estab_resets: u64,
    /// tcpCurrEstab (ESTABLISHED or CLOSE-WAIT now).
    pub curr_estab: u64,
    /// tcpInSegs.
    pub in_segs: u64,
    /// tcpOutSegs (retransmissions excluded, as the MIB says).
    pub out_segs: u64,
    /// tcpRetransSegs.
    pub retrans_segs: u64,
    /// tcpInErrs (bad checksum, malformed).
    pub in_errs: u64,
    /// tcpOutRsts.
    pub out_rsts: u64,
    /// SYN-ACKs sent with a cookie instead of state.
    pub syn_cookies_sent: u64,
    /// Connections made from a valid cookie.
    pub syn_cookies_accepted: u64,
    /// RFC 5961 challenge ACKs sent.
    pub challenge_acks: u64,
    /// TIME-WAIT entries dropped early because the table was full.
    pub time_wait_drops: u64,
    /// Retransmission timeouts (Linux's TCPTimeouts).
    pub rto_timeouts: u64,
    /// Loss recoveries entered on duplicate ACKs or SACK (fast retransmit).
    pub fast_recoveries: u64,
    /// Tail loss probes sent (RFC 8985).
    pub tail_loss_probes: u64,
    /// DSACK blocks received (RFC 2883): a retransmission was not needed; RACK's reordering
    /// window grows.
    pub dsacks_received: u64,
    /// Congestion window reductions on ECN-Echo (RFC 3168).
    pub ecn_reductions: u64,
    /// Data segments that arrived with Congestion Experienced.
    pub ce_received: u64,
}
