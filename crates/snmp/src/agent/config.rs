//! What the agent is told: its configuration, the communities and their views.

use crate::oid::Oid;
use std::net::IpAddr;
use wire::prefix::IpPrefix;

use super::UsmUser;

/// What a community may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// A v1/v2c community: its name, its access, the sources it may be used from, and its view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Community {
    pub name: Vec<u8>,
    pub access: Access,
    /// Allowed source prefixes; empty means any source.
    pub sources: Vec<IpPrefix>,
    /// What this community may see.
    pub view: View,
    /// The context its requests address (empty: the default context), as net-snmp's
    /// `com2sec -Cn`: v1 and v2c carry no context of their own.
    pub context: Vec<u8>,
}

impl Community {
    pub fn new(name: &str, access: Access) -> Self {
        Community {
            name: name.as_bytes().to_vec(),
            access,
            sources: Vec::new(),
            view: View::default(),
            context: Vec::new(),
        }
    }

    /// Makes the community's requests address `context`.
    pub fn in_context(mut self, context: &str) -> Self {
        self.context = context.as_bytes().to_vec();
        self
    }

    /// Allows the community from `prefix` (each call adds one).
    pub fn from_source(mut self, prefix: IpPrefix) -> Self {
        self.sources.push(prefix);
        self
    }

    /// Includes a subtree in the view (a view with no families shows everything).
    pub fn with_view(mut self, subtree: Oid) -> Self {
        self.view = self.view.include(subtree);
        self
    }

    /// Excludes a subtree from the view.
    pub fn without_view(mut self, subtree: Oid) -> Self {
        self.view = self.view.exclude(subtree);
        self
    }

    /// Whether a request from `peer` may use this community (an IPv4-mapped IPv6 peer counts
    /// as its IPv4 address).
    pub fn allows_source(&self, peer: IpAddr) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|p| p.contains(peer))
    }

    pub fn in_view(&self, oid: &Oid) -> bool {
        self.view.contains(oid)
    }
}

/// The agent's configuration.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub communities: Vec<Community>,
    /// The largest message the agent sends (RFC 3417: at least 484).
    pub max_message_size: usize,
    pub sys_descr: String,
    pub sys_object_id: Oid,
    pub sys_contact: String,
    pub sys_name: String,
    pub sys_location: String,
    pub sys_services: i32,
    pub enable_authen_traps: bool,
    /// snmpEngineID (RFC 3411 format).
    pub engine_id: Vec<u8>,
    /// snmpEngineBoots: the host persists and increments it at every start.
    pub engine_boots: u32,
    /// SNMPv3 users.
    pub users: Vec<UsmUser>,
    /// Low 32 bits of the first AES salt (give a random value).
    pub salt_seed: u64,
    /// Whether hrSystemDate may be set (the host then sets the clock on
    /// [`AgentEvent::SetSystemDate`](crate::notify::AgentEvent::SetSystemDate)).
    pub allow_set_system_date: bool,
}

impl Default for AgentConfig {
    /// Read-only community `public` from loopback only, as snmpd's default.
    fn default() -> Self {
        AgentConfig {
            communities: vec![Community::new("public", Access::ReadOnly)
                .from_source(IpPrefix::containing(IpAddr::from([127, 0, 0, 0]), 8).unwrap())
                .from_source(IpPrefix::host(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)))],
            max_message_size: 65507,
            sys_descr: "Maynard SNMP agent".to_string(),
            // enterprises.99999 (a placeholder until an enterprise number is assigned)
            sys_object_id: Oid::new(&[1, 3, 6, 1, 4, 1, 99999, 1]),
            sys_contact: String::new(),
            sys_name: String::new(),
            sys_location: String::new(),
            sys_services: 72,
            enable_authen_traps: false,
            engine_id: default_engine_id(b"maynard"),
            engine_boots: 1,
            users: Vec::new(),
            salt_seed: 0,
            allow_set_system_date: false,
        }
    }
}

/// An RFC 3411 engine ID: enterprise 99999 with the high bit set, format 4 (text), `text`.
pub fn default_engine_id(text: &[u8]) -> Vec<u8> {
    let mut v = (0x8000_0000u32 | 99999).to_be_bytes().to_vec();
    v.push(4);
    v.extend_from_slice(text.get(..27).unwrap_or(text));
    v
}

/// A MIB view (RFC 3415 without masks): families of included or excluded subtrees; the most
/// specific family containing an OID decides, and an OID under no family is not in the view.
/// A view with no families at all shows the whole MIB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// (subtree, included), sorted by subtree.
    pub families: Vec<(Oid, bool)>,
}

impl View {
    /// The whole MIB.
    pub fn all() -> Self {
        View::default()
    }

    pub fn include(mut self, subtree: Oid) -> Self {
        self.set(subtree, true);
        self
    }

    pub fn exclude(mut self, subtree: Oid) -> Self {
        self.set(subtree, false);
        self
    }

    fn set(&mut self, subtree: Oid, included: bool) {
        self.families.retain(|(s, _)| *s != subtree);
        self.families.push((subtree, included));
        self.families.sort();
    }

    /// The most specific family containing `oid`.
    pub fn deciding(&self, oid: &Oid) -> Option<(&Oid, bool)> {
        self.families
            .iter()
            .filter(|(s, _)| oid.starts_with(s))
            .max_by_key(|(s, _)| s.len())
            .map(|(s, i)| (s, *i))
    }

    pub fn contains(&self, oid: &Oid) -> bool {
        self.families.is_empty() || self.deciding(oid).is_some_and(|(_, i)| i)
    }

    /// The first included family starting after `oid` (within `within`, if given).
    pub(crate) fn next_included_after(&self, oid: &Oid, within: Option<&Oid>) -> Option<&Oid> {
        self.families
            .iter()
            .filter(|(s, i)| *i && *s > *oid && within.is_none_or(|w| s.starts_with(w)))
            .map(|(s, _)| s)
            .next()
    }
}
