//! Resolving `servers.toml` against the services database: ports, protocols, tos, weights.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use servicedb::{Protocol, ServiceDb};
use services::Builtin;

use super::model::{ParsedServers, ServiceConfig, ServiceDefaults};
use super::multicast::MulticastGroup;
use super::ConfigErrors;
use crate::access::AccessList;
use crate::span::Diagnostic;

/// Who serves a service's connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Server {
    /// A server inside netcp.
    Builtin(Builtin),
    /// A program started per connection (TCP, nowait) or per datagram burst (UDP, wait).
    External {
        /// Absolute path of the program.
        program: PathBuf,
        /// Its arguments.
        arguments: Vec<String>,
        /// The account it runs as; netcp's own when absent.
        user: Option<String>,
    },
}

impl Server {
    /// `echo` for a built-in, the program path for an external server.
    pub fn describe(&self) -> String {
        match self {
            Server::Builtin(b) => format!("builtin {b}"),
            Server::External { program, .. } => program.display().to_string(),
        }
    }
}

/// One transport and port a service listens on, with that database entry's tos and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The configured port (before any low-port offset).
    pub port: u16,
    /// The type-of-service byte for its sockets.
    pub tos: Option<u8>,
    /// Message weight in hundredths per read or write (seed 004).
    pub weight: u16,
}

/// A service with every default filled in and every name resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedService {
    /// The name as configured.
    pub name: String,
    /// Whether it is to be served.
    pub enabled: bool,
    /// Who serves it.
    pub server: Server,
    /// Transports and ports.
    pub endpoints: Vec<Endpoint>,
    /// Local addresses.
    pub listen: Vec<IpAddr>,
    /// Concurrent connections.
    pub max_connections: u32,
    /// Concurrent connections per source (0 = no limit).
    pub max_per_source: u32,
    /// New connections per second per source (0 = no limit).
    pub rate_per_source: u32,
    /// Who may connect.
    pub access: AccessList,
    /// Multicast groups its UDP sockets join.
    #[serde(default)]
    pub multicast: Vec<MulticastGroup>,
}

impl ResolvedService {
    /// Every (transport, socket address) pair to bind, with `port_offset` added to built-in
    /// services' ports below 1024.
    pub fn bind_addresses(&self, low_port_offset: u16) -> Vec<(Endpoint, SocketAddr)> {
        let mut out = Vec::new();
        for ep in &self.endpoints {
            let port = self.effective_port(ep.port, low_port_offset);
            for ip in &self.listen {
                out.push((*ep, SocketAddr::new(*ip, port)));
            }
        }
        out
    }

    /// The port actually bound for configured `port`.
    pub fn effective_port(&self, port: u16, low_port_offset: u16) -> u16 {
        if low_port_offset > 0 && port < 1024 && matches!(self.server, Server::Builtin(_)) {
            port.saturating_add(low_port_offset)
        } else {
            port
        }
    }
}

/// Resolves every service, collecting all problems.
pub fn resolve(
    parsed: &ParsedServers,
    db: &ServiceDb,
    file: &str,
) -> Result<Vec<ResolvedService>, ConfigErrors> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let defaults = &parsed.config.defaults;
    for (i, svc) in parsed.config.services.iter().enumerate() {
        let line = parsed.service_lines.get(i).copied().unwrap_or(0);
        let diag = |message: String| Diagnostic {
            file: file.to_string(),
            line,
            column: if line > 0 { 1 } else { 0 },
            message: format!("service `{}`: {message}", svc.name),
        };
        let earlier = parsed.config.services[..i]
            .iter()
            .position(|o| o.name.eq_ignore_ascii_case(&svc.name));
        if let Some(j) = earlier {
            errors.push(diag(format!(
                "defined twice (first at line {})",
                parsed.service_lines.get(j).copied().unwrap_or(0)
            )));
            continue;
        }
        match resolve_one(svc, defaults, db) {
            Ok(r) => out.push(r),
            Err(messages) => errors.extend(messages.into_iter().map(diag)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Resolves one service against the database and the defaults; errors are plain messages.
pub fn resolve_one(
    svc: &ServiceConfig,
    defaults: &ServiceDefaults,
    db: &ServiceDb,
) -> Result<ResolvedService, Vec<String>> {
    let mut errors = Vec::new();
    if svc.name.is_empty() {
        errors.push("the name is empty".to_string());
    }
    let server = match (&svc.builtin, &svc.program) {
        (Some(b), None) => {
            if !svc.arguments.is_empty() || svc.user.is_some() {
                errors.push("`arguments` and `user` apply to a `program`, not a builtin".into());
            }
            Some(Server::Builtin(*b))
        }
        (None, Some(p)) => {
            if !p.is_absolute() {
                errors.push(format!(
                    "program `{}` must be an absolute path",
                    p.display()
                ));
            } else if !p.is_file() {
                errors.push(format!("program `{}` does not exist", p.display()));
            }
            Some(Server::External {
                program: p.clone(),
                arguments: svc.arguments.clone(),
                user: svc.user.clone(),
            })
        }
        (Some(_), Some(_)) => {
            errors.push("give either `builtin` or `program`, not both".into());
            None
        }
        (None, None) => {
            errors.push("give `builtin = \"NAME\"` or `program = \"/PATH\"`".into());
            None
        }
    };
    let db_entries = db.lookup_any(&svc.name);
    let protocols: Vec<Protocol> = match &svc.protocols {
        Some(p) if p.is_empty() => {
            errors.push("`protocols` is empty".into());
            vec![]
        }
        Some(p) => {
            let mut p = p.clone();
            p.sort();
            p.dedup();
            p
        }
        None if svc.port.is_some() && db_entries.is_empty() => {
            errors.push(format!(
                "`{}` is not in the services database; give `protocols` with `port`",
                svc.name
            ));
            vec![]
        }
        None => {
            let mut p: Vec<Protocol> = db_entries.iter().map(|e| e.protocol).collect();
            p.sort();
            p.dedup();
            // A built-in without a UDP (or TCP) form simply does not serve that database line.
            if let Some(Server::Builtin(b)) = &server {
                if !b.supports_udp() {
                    p.retain(|&x| x != Protocol::Udp);
                }
                if !b.supports_tcp() {
                    p.retain(|&x| x != Protocol::Tcp);
                }
            }
            p
        }
    };
    if let Some(Server::Builtin(b)) = &server {
        if svc.protocols.is_some() && protocols.contains(&Protocol::Udp) && !b.supports_udp() {
            errors.push(format!("builtin {b} has no UDP service"));
        }
        if svc.protocols.is_some() && protocols.contains(&Protocol::Tcp) && !b.supports_tcp() {
            errors.push(format!("builtin {b} has no TCP service"));
        }
    }
    if protocols.is_empty() && svc.protocols.is_none() && svc.port.is_none() {
        errors.push(format!(
            "`{}` is not in the services database (add it there, or give `port` and `protocols`)",
            svc.name
        ));
    }
    let mut endpoints = Vec::new();
    for proto in &protocols {
        let entry = db.lookup(&svc.name, *proto);
        let port = match (svc.port, entry) {
            (Some(p), _) => p,
            (None, Some(e)) => e.port,
            (None, None) => {
                errors.push(format!(
                    "no `{}/{proto}` entry in the services database and no `port`",
                    svc.name
                ));
                continue;
            }
        };
        endpoints.push(Endpoint {
            protocol: *proto,
            port,
            tos: svc.tos.or(entry.and_then(|e| e.tos)),
            weight: entry.map_or(100, |e| e.message_weight()),
        });
    }
    let listen = svc
        .listen
        .clone()
        .unwrap_or_else(|| defaults.listen.clone());
    if listen.is_empty() {
        errors.push("`listen` is empty".into());
    }
    check_multicast(svc, &protocols, &listen, &mut errors);
    let max_connections = svc.max_connections.unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        errors.push("`max_connections` must be at least 1".into());
    }
    match server {
        Some(server) if errors.is_empty() => Ok(ResolvedService {
            name: svc.name.clone(),
            enabled: svc.enabled,
            server,
            endpoints,
            listen,
            max_connections,
            max_per_source: svc.max_per_source.unwrap_or(defaults.max_per_source),
            rate_per_source: svc.rate_per_source.unwrap_or(defaults.rate_per_source),
            access: AccessList {
                rules: svc.access.clone(),
                default: svc.access_default.unwrap_or(defaults.access_default),
            },
            multicast: svc.multicast.clone(),
        }),
        _ => Err(errors),
    }
}

/// `multicast` needs a UDP transport, an interface for each group (its own `%IFACE` or an IPv4
/// `listen` address) and no group twice.
fn check_multicast(
    svc: &ServiceConfig,
    protocols: &[Protocol],
    listen: &[IpAddr],
    errors: &mut Vec<String>,
) {
    if svc.multicast.is_empty() {
        return;
    }
    if !protocols.contains(&Protocol::Udp) {
        errors.push(format!(
            "`multicast` applies to UDP, and `{}` is served over TCP only",
            svc.name
        ));
        return;
    }
    let has_v4 = listen.iter().any(|a| a.is_ipv4());
    for (i, g) in svc.multicast.iter().enumerate() {
        if g.interface.is_none() && !has_v4 {
            errors.push(format!(
                "multicast group `{g}` has no interface: give `listen` an IPv4 address or write `{g}%INTERFACE`"
            ));
        }
        if svc.multicast[..i].contains(g) {
            errors.push(format!("multicast group `{g}` is given twice"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::parse_servers;
    use super::super::DEFAULT_SERVICES;
    use super::*;

    fn resolve_text(services: &str) -> Result<Vec<ResolvedService>, ConfigErrors> {
        let db = ServiceDb::parse(DEFAULT_SERVICES, "services").unwrap();
        let parsed = parse_servers(services, "servers.toml").unwrap();
        resolve(&parsed, &db, "servers.toml")
    }

    #[test]
    fn a_udp_service_keeps_its_groups() {
        let r = resolve_text(
            "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nlisten = [\"192.0.2.2\"]\n\
             multicast = [\"239.1.2.3\", \"224.0.1.1%eth0\"]\n",
        )
        .unwrap();
        assert_eq!(r[0].multicast.len(), 2);
        assert_eq!(
            r[0].multicast[0].group,
            std::net::Ipv4Addr::new(239, 1, 2, 3)
        );
    }

    #[test]
    fn multicast_on_a_tcp_only_service_is_refused_at_its_line() {
        let err = resolve_text(
            "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\n\n[[service]]\nname = \"finger\"\n\
             builtin = \"finger\"\nmulticast = [\"239.1.2.3\"]\n",
        )
        .unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.line, 5, "{d}");
        assert!(
            d.message
                .contains("service `finger`: `multicast` applies to UDP, and `finger` is served over TCP only"),
            "{d}"
        );
        let err = resolve_text(
            "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nprotocols = [\"tcp\"]\nmulticast = [\"239.1.2.3\"]\n",
        )
        .unwrap_err();
        assert!(err.0[0].message.contains("TCP only"), "{err}");
    }

    #[test]
    fn a_group_needs_an_interface_and_is_given_once() {
        let err = resolve_text(
            "[[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nlisten = [\"::1\"]\n\
             multicast = [\"239.1.2.3\", \"239.1.2.4%lo\", \"239.1.2.4%lo\"]\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("multicast group `239.1.2.3` has no interface"),
            "{text}"
        );
        assert!(
            text.contains("multicast group `239.1.2.4%lo` is given twice"),
            "{text}"
        );
        assert!(!text.contains("`239.1.2.4%lo` has no interface"), "{text}");
    }
}
