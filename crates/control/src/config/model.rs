//! The types of `servers.toml`, its parsing with source positions, and its rendering.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use servicedb::Protocol;
use services::finger::FingerConfig;
use services::lpd::LpdConfig;
use services::ntp::NtpConfig;
use services::tftp::TftpConfig;
use services::Builtin;

use super::multicast::MulticastGroup;
use super::ConfigErrors;
use crate::access::{AccessAction, AccessRule};

/// `servers.toml`: the master server's settings, defaults for every service, and the services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServersConfig {
    /// Settings of netcp itself.
    #[serde(default)]
    pub netcp: NetcpSettings,
    /// Values a service takes when it does not set its own.
    #[serde(default)]
    pub defaults: ServiceDefaults,
    /// The finger server's settings.
    #[serde(default)]
    pub finger: FingerConfig,
    /// The TFTP server's settings.
    #[serde(default)]
    pub tftp: TftpConfig,
    /// The NTP server's settings.
    #[serde(default)]
    pub ntp: NtpConfig,
    /// The line printer daemon's settings.
    #[serde(default)]
    pub lpd: LpdConfig,
    /// The services netcp hosts, in order.
    #[serde(default, rename = "service", skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceConfig>,
}

/// Settings of the master server process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetcpSettings {
    /// The services database, relative to the configuration directory (default `services`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services_file: Option<PathBuf>,
    /// The host's services file, consulted for port names only; empty to ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_services: Option<PathBuf>,
    /// Log activity to standard error (for systemd's journal).
    pub log_stderr: bool,
    /// Also (or instead) log activity to this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file: Option<PathBuf>,
    /// Write one session record per connection to this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounting_file: Option<PathBuf>,
    /// The control socket's path (default: see `control::protocol::default_socket_path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_socket: Option<PathBuf>,
    /// A group whose members may use the control socket besides its owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_group: Option<String>,
    /// When a port below 1024 cannot be bound, move every built-in service up by this much.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_port_offset: Option<u16>,
    /// On SIGTERM or SHUTDOWN, how long open connections may take to end.
    pub drain_seconds: u64,
    /// Quotations for qotd (fortune format); the embedded set when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qotd_file: Option<PathBuf>,
}

impl Default for NetcpSettings {
    fn default() -> Self {
        Self {
            services_file: None,
            host_services: Some(PathBuf::from("/etc/services")),
            log_stderr: true,
            log_file: None,
            accounting_file: None,
            control_socket: None,
            admin_group: None,
            low_port_offset: None,
            drain_seconds: 30,
            qotd_file: None,
        }
    }
}

/// Defaults for every service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceDefaults {
    /// Local addresses services listen on.
    pub listen: Vec<IpAddr>,
    /// What happens to a source no access rule matches.
    pub access_default: AccessAction,
    /// Concurrent connections per service.
    pub max_connections: u32,
    /// Concurrent connections per source address (0 = no limit).
    pub max_per_source: u32,
    /// New connections per second per source address (0 = no limit).
    pub rate_per_source: u32,
}

impl Default for ServiceDefaults {
    fn default() -> Self {
        Self {
            listen: vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            access_default: AccessAction::Accept,
            max_connections: 4096,
            max_per_source: 0,
            rate_per_source: 0,
        }
    }
}

/// One service netcp hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The services-database entry (its name or an alias).
    pub name: String,
    /// Whether netcp serves it.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// A built-in server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<Builtin>,
    /// An external program, run per connection (TCP) or per burst of datagrams (UDP, wait style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<PathBuf>,
    /// The program's arguments (not counting its name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// The account the program runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Which transports; default every one the database lists for the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<Protocol>>,
    /// A port other than the database's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Local addresses; default `[defaults] listen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<Vec<IpAddr>>,
    /// Concurrent connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Concurrent connections per source address (0 = no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_source: Option<u32>,
    /// New connections (or datagrams) per second per source (0 = no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_source: Option<u32>,
    /// Access rules, first match wins: `"accept 10.0.0.0/8"`, `"reject ::/0"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<AccessRule>,
    /// What happens to a source no rule matches; default `[defaults] access_default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_default: Option<AccessAction>,
    /// A type-of-service byte other than the database's `tos-N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos: Option<u8>,
    /// Multicast groups the service's UDP sockets join: `"239.1.2.3"` on the interface of each
    /// IPv4 `listen` address, `"239.1.2.3%se0"` on one interface.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multicast: Vec<MulticastGroup>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// `servers.toml` with the position of each service's table, for later diagnostics.
#[derive(Debug, Clone)]
pub struct ParsedServers {
    /// The configuration.
    pub config: ServersConfig,
    /// 1-based line of each `[[service]]` table, parallel to `config.services` (0 if unknown).
    pub service_lines: Vec<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpannedServers {
    #[serde(default)]
    netcp: NetcpSettings,
    #[serde(default)]
    defaults: ServiceDefaults,
    #[serde(default)]
    finger: FingerConfig,
    tftp: Option<toml::Spanned<TftpConfig>>,
    ntp: Option<toml::Spanned<NtpConfig>>,
    lpd: Option<toml::Spanned<LpdConfig>>,
    #[serde(default)]
    service: Vec<toml::Spanned<ServiceConfig>>,
}

/// Parses `servers.toml` text; `file` names it in diagnostics.
pub fn parse_servers(text: &str, file: &str) -> Result<ParsedServers, ConfigErrors> {
    let raw: SpannedServers =
        toml::from_str(text).map_err(|e| super::toml_error(file, text, &e))?;
    let service_lines = raw
        .service
        .iter()
        .map(|s| crate::span::line_column(text, s.span().start).0)
        .collect();
    let mut problems = Vec::new();
    let tftp = checked_section(
        raw.tftp,
        "tftp",
        TftpConfig::check,
        file,
        text,
        &mut problems,
    );
    let ntp = checked_section(raw.ntp, "ntp", NtpConfig::check, file, text, &mut problems);
    let lpd = checked_section(raw.lpd, "lpd", LpdConfig::check, file, text, &mut problems);
    if !problems.is_empty() {
        return Err(ConfigErrors(problems));
    }
    Ok(ParsedServers {
        config: ServersConfig {
            netcp: raw.netcp,
            defaults: raw.defaults,
            finger: raw.finger,
            tftp,
            ntp,
            lpd,
            services: raw.service.into_iter().map(|s| s.into_inner()).collect(),
        },
        service_lines,
    })
}

/// A built-in server's table (`[tftp]`, `[ntp]`), its problems added to `problems` at the
/// table's place; the defaults when the file has none.
fn checked_section<T: Default>(
    section: Option<toml::Spanned<T>>,
    name: &str,
    check: fn(&T) -> Vec<String>,
    file: &str,
    text: &str,
    problems: &mut Vec<crate::span::Diagnostic>,
) -> T {
    let Some(section) = section else {
        return T::default();
    };
    for p in check(section.get_ref()) {
        problems.push(crate::span::Diagnostic::at_offset(
            file,
            text,
            section.span().start,
            format!("[{name}]: {p}"),
        ));
    }
    section.into_inner()
}

/// Renders a configuration as `servers.toml` text that [`parse_servers`] reads back equal.
pub fn render_servers(config: &ServersConfig) -> String {
    let body = toml::to_string_pretty(config)
        .unwrap_or_else(|e| format!("# netcp could not render its configuration: {e}\n"));
    format!("# servers.toml: Maynard master server (netcp) configuration.\n# Written by netcp; see docs/netcp.md.\n\n{body}")
}

impl ServiceConfig {
    /// A new enabled service of `name` served by `builtin`.
    pub fn builtin(name: &str, builtin: Builtin) -> Self {
        Self {
            name: name.to_string(),
            enabled: true,
            builtin: Some(builtin),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips() {
        let parsed = parse_servers(super::super::DEFAULT_SERVERS, "d").unwrap();
        let text = render_servers(&parsed.config);
        let again = parse_servers(&text, "r").unwrap();
        assert_eq!(parsed.config, again.config);
        assert!(parsed.service_lines.iter().all(|&l| l > 0));
    }

    #[test]
    fn syntax_errors_point_at_line_and_column() {
        let text =
            "[netcp]\nlog_stderr = true\n\n[[service]]\nname = \"echo\"\nbuiltin = \"ecko\"\n";
        let err = parse_servers(text, "servers.toml").unwrap_err();
        let d = &err.0[0];
        assert_eq!((d.line, d.file.as_str()), (6, "servers.toml"), "{d}");
        assert!(
            d.message.contains("ecko") || d.message.contains("variant"),
            "{d}"
        );

        let err = parse_servers("[netcp]\nbogus = 1\n", "s").unwrap_err();
        assert_eq!(err.0[0].line, 2, "{}", err.0[0]);
        assert!(err.0[0].message.contains("bogus"));

        let err = parse_servers(
            "[[service]]\nname = \"x\"\naccess = [\"allow 1.2.3.4\"]\n",
            "s",
        )
        .unwrap_err();
        assert_eq!(err.0[0].line, 3);
        assert!(err.0[0].message.contains("expected `accept` or `reject`"));
    }

    #[test]
    fn multicast_groups_parse_and_a_bad_one_is_pointed_at() {
        let text = "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nmulticast = [\"239.1.2.3\", \"224.0.1.1%se0\"]\n";
        let parsed = parse_servers(text, "s").unwrap();
        let m = &parsed.config.services[0].multicast;
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].interface.as_deref(), Some("se0"));
        let again = parse_servers(&render_servers(&parsed.config), "r").unwrap();
        assert_eq!(again.config, parsed.config);

        let text = "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\n\nmulticast = [\"239.1.2.3\", \"10.1.2.3\"]\n";
        let err = parse_servers(text, "servers.toml").unwrap_err();
        let d = &err.0[0];
        assert_eq!((d.file.as_str(), d.line), ("servers.toml", 5), "{d}");
        assert_eq!(d.column, 13, "the column of the value: {d}");
        assert!(
            d.message.contains("`10.1.2.3` is not a multicast address"),
            "{d}"
        );
    }
}
