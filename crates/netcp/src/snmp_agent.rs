//! The SNMP agent (crate `snmp`) as netcp's built-in `snmp` service: configured from `snmp.toml`,
//! MIB-II and the Host Resources MIB from the Linux host, one agent shared by every listener.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use control::config::snmp::{SnmpAccess, SnmpConfig};
use snmp::agent::{Access, AuthProtocol, PrivProtocol, UsmUser};
use snmp::host::LinuxHost;
use snmp::{Agent, AgentConfig, Community, Oid};

/// The agent and the instant its uptime counts from.
pub struct SnmpHost {
    agent: Mutex<Agent>,
    started: Instant,
}

fn access(a: SnmpAccess) -> Access {
    match a {
        SnmpAccess::ReadOnly => Access::ReadOnly,
        SnmpAccess::ReadWrite => Access::ReadWrite,
    }
}

fn oid(s: &str) -> Option<Oid> {
    Oid::from_str(s.strip_prefix('.').unwrap_or(s)).ok()
}

fn auth_protocol(name: &str) -> Option<AuthProtocol> {
    match name.to_ascii_lowercase().as_str() {
        "sha" | "sha-1" => Some(AuthProtocol::Sha1),
        "sha-224" => Some(AuthProtocol::Sha224),
        "sha-256" => Some(AuthProtocol::Sha256),
        "sha-384" => Some(AuthProtocol::Sha384),
        "sha-512" => Some(AuthProtocol::Sha512),
        _ => None,
    }
}

/// The agent's configuration for `snmp.toml` (already validated by `control`).
fn agent_config(cfg: &SnmpConfig) -> AgentConfig {
    let mut c = AgentConfig {
        sys_descr: cfg.system.description.clone().unwrap_or_else(|| {
            format!(
                "Maynard {} on {}",
                env!("CARGO_PKG_VERSION"),
                snmp::mib::linux_sys_descr(&LinuxHost)
            )
        }),
        sys_contact: cfg.system.contact.clone(),
        sys_name: cfg
            .system
            .name
            .clone()
            .unwrap_or_else(|| snmp::mib::linux_host_name(&LinuxHost)),
        sys_location: cfg.system.location.clone(),
        enable_authen_traps: cfg.agent.authentication_traps,
        allow_set_system_date: cfg.agent.allow_set_system_date,
        salt_seed: u64::from(std::process::id()) ^ Instant::now().elapsed().as_nanos() as u64,
        ..AgentConfig::default()
    };
    if let Some(m) = cfg.agent.max_message_size {
        c.max_message_size = m;
    }
    c.communities = cfg
        .communities
        .iter()
        .map(|k| {
            let mut community = Community::new(&k.name, access(k.access));
            for p in &k.sources {
                community = community.from_source(p.addr(), p.len());
            }
            for o in k.view.iter().filter_map(|o| oid(o)) {
                community = community.with_view(o);
            }
            for o in k.exclude.iter().filter_map(|o| oid(o)) {
                community = community.without_view(o);
            }
            community
        })
        .collect();
    let engine = c.engine_id.clone();
    c.users = cfg
        .users
        .iter()
        .map(|u| {
            let auth = u
                .auth
                .as_deref()
                .and_then(auth_protocol)
                .zip(u.auth_password.as_deref());
            let privacy = u
                .privacy
                .as_ref()
                .map(|_| PrivProtocol::Aes128)
                .zip(u.privacy_password.as_deref());
            let mut user =
                UsmUser::with_passwords(&u.name, access(u.access), auth, privacy, &engine);
            for o in u.view.iter().filter_map(|o| oid(o)) {
                user.view = user.view.include(o);
            }
            for o in u.exclude.iter().filter_map(|o| oid(o)) {
                user.view = user.view.exclude(o);
            }
            user
        })
        .collect();
    c
}

fn build(cfg: &SnmpConfig, started: Instant) -> Agent {
    let mut agent = Agent::new(agent_config(cfg));
    snmp::mib::register_linux(&mut agent, Arc::new(LinuxHost), started.elapsed());
    agent
}

impl SnmpHost {
    /// An agent for `cfg`.
    pub fn new(cfg: &SnmpConfig) -> SnmpHost {
        let started = Instant::now();
        SnmpHost {
            agent: Mutex::new(build(cfg, started)),
            started,
        }
    }

    /// A new configuration (RELOAD); sysUpTime keeps counting from netcp's start.
    pub fn replace(&self, cfg: &SnmpConfig) {
        let agent = build(cfg, self.started);
        *self.agent.lock().unwrap_or_else(|p| p.into_inner()) = agent;
    }

    /// The answer to one request datagram, if any (a wrong community gets none).
    pub fn answer(&self, request: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        let mut agent = self.agent.lock().unwrap_or_else(|p| p.into_inner());
        agent.handle(request, peer, self.started.elapsed())
    }

    /// SHOW SNMP: counters, communities and users without secrets, registered subtrees.
    pub fn show(&self) -> String {
        let s = self
            .agent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary();
        let mut out = String::new();
        let engine: String = s.engine_id.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "SNMP agent: engine {engine}, boots {}", s.engine_boots);
        let _ = writeln!(out, "\nCommunities (names are secrets and not shown):");
        for (i, c) in s.communities.iter().enumerate() {
            let sources: Vec<String> = c.sources.iter().map(|(a, l)| format!("{a}/{l}")).collect();
            let view: Vec<String> = c
                .view
                .families
                .iter()
                .map(|(o, inc)| format!("{}{o}", if *inc { "+" } else { "-" }))
                .collect();
            let _ = writeln!(
                out,
                "  {:>2}. {:?}, from {}, view {}",
                i + 1,
                c.access,
                if sources.is_empty() {
                    "anywhere".into()
                } else {
                    sources.join(" ")
                },
                if view.is_empty() {
                    "everything".into()
                } else {
                    view.join(" ")
                }
            );
        }
        let _ = writeln!(out, "\nSNMPv3 users:");
        if s.users.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for u in &s.users {
            let _ = writeln!(
                out,
                "  {}: {:?}, auth {}, privacy {}",
                u.name,
                u.access,
                u.auth.map_or("none".into(), |a| format!("{a:?}")),
                u.privacy.map_or("none".into(), |p| format!("{p:?}"))
            );
        }
        let _ = writeln!(out, "\nCounters:");
        for (name, v) in s.counters.iter().chain(s.usm_counters.iter()) {
            if *v > 0 {
                let _ = writeln!(out, "  {name:<32} {v}");
            }
        }
        let _ = writeln!(out, "\nRegistered subtrees:");
        for o in &s.subtrees {
            let _ = writeln!(out, "  {o}");
        }
        out
    }
}
