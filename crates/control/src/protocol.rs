//! The control protocol: typed, versioned requests and responses, one JSON object per line over
//! netcp's Unix control socket.
//!
//! Every message is an [`Envelope`] carrying [`PROTOCOL_VERSION`]. A peer that sends another
//! version, or anything that is not a well-formed envelope, gets an [`Response::Error`] and the
//! connection is closed.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use services::meter::MeterSnapshot;

use crate::access::{AccessAction, AccessRule};
use crate::config::{Endpoint, ServiceConfig};

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
    /// Drains open connections and stops netcp.
    Shutdown {
        /// Close connections at once instead of draining.
        abort: bool,
    },
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
    crate::prefix::canonical(ip)
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
