//! `snmp.toml`: the SNMP agent's communities, SNMPv3 users, system group and switches.
//!
//! Absent, the agent serves what snmpd serves by default: the read-only community `public` from
//! loopback only.

use serde::{Deserialize, Serialize};

use super::ConfigErrors;
use crate::prefix::IpPrefix;
use crate::span::Diagnostic;

/// The file's name in a configuration directory.
pub const SNMP_FILE: &str = "snmp.toml";

/// `snmp.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpConfig {
    /// The system group's writable strings.
    #[serde(default)]
    pub system: SnmpSystem,
    /// Switches.
    #[serde(default)]
    pub agent: SnmpAgentSettings,
    /// v1/v2c communities.
    #[serde(default = "default_communities", rename = "community")]
    pub communities: Vec<SnmpCommunity>,
    /// SNMPv3 USM users.
    #[serde(default, rename = "user")]
    pub users: Vec<SnmpUser>,
}

impl Default for SnmpConfig {
    fn default() -> Self {
        Self {
            system: SnmpSystem::default(),
            agent: SnmpAgentSettings::default(),
            communities: default_communities(),
            users: Vec::new(),
        }
    }
}

fn default_communities() -> Vec<SnmpCommunity> {
    vec![SnmpCommunity {
        name: "public".into(),
        access: SnmpAccess::ReadOnly,
        sources: vec![
            IpPrefix::host(
                "127.0.0.1"
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
            ),
            IpPrefix::host(std::net::Ipv6Addr::LOCALHOST.into()),
        ],
        view: Vec::new(),
        exclude: Vec::new(),
    }]
}

/// sysContact, sysName, sysLocation (settable by SNMP), sysDescr.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnmpSystem {
    /// sysDescr; default: Maynard and the host's kernel.
    pub description: Option<String>,
    /// sysContact.
    pub contact: String,
    /// sysName; default: the host name.
    pub name: Option<String>,
    /// sysLocation.
    pub location: String,
}

/// Agent switches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnmpAgentSettings {
    /// snmpEnableAuthenTraps.
    pub authentication_traps: bool,
    /// Whether hrSystemDate may be set.
    pub allow_set_system_date: bool,
    /// The largest message sent (at least 484).
    pub max_message_size: Option<usize>,
}

/// What a community or user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SnmpAccess {
    /// Get, GetNext, GetBulk.
    #[default]
    ReadOnly,
    /// Also Set.
    ReadWrite,
}

/// A v1/v2c community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpCommunity {
    /// The community string.
    pub name: String,
    /// What it may do.
    #[serde(default)]
    pub access: SnmpAccess,
    /// Sources it may be used from; empty: any.
    #[serde(default)]
    pub sources: Vec<IpPrefix>,
    /// Subtrees it sees (dotted OIDs); empty: everything.
    #[serde(default)]
    pub view: Vec<String>,
    /// Subtrees hidden from it.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// An SNMPv3 user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpUser {
    /// The user name.
    pub name: String,
    /// `sha`, `sha-224`, `sha-256`, `sha-384` or `sha-512`; absent: noAuthNoPriv.
    pub auth: Option<String>,
    /// The authentication password (at least 8 characters).
    pub auth_password: Option<String>,
    /// `aes` (AES-128-CFB); absent: no privacy.
    pub privacy: Option<String>,
    /// The privacy password (at least 8 characters).
    pub privacy_password: Option<String>,
    /// What the user may do.
    #[serde(default)]
    pub access: SnmpAccess,
    /// Subtrees the user sees; empty: everything.
    #[serde(default)]
    pub view: Vec<String>,
    /// Subtrees hidden from the user.
    #[serde(default)]
    pub exclude: Vec<String>,
}

fn is_oid(s: &str) -> bool {
    let s = s.strip_prefix('.').unwrap_or(s);
    !s.is_empty()
        && s.split('.')
            .all(|a| !a.is_empty() && a.parse::<u32>().is_ok())
}

/// Parses and checks `snmp.toml` text; `file` names it in diagnostics.
pub fn parse_snmp(text: &str, file: &str) -> Result<SnmpConfig, ConfigErrors> {
    let config: SnmpConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        ConfigErrors(vec![Diagnostic::at_offset(
            file,
            text,
            offset,
            e.message().to_string(),
        )])
    })?;
    let mut errors = Vec::new();
    let mut problem = |what: String| errors.push(Diagnostic::whole_file(file, what));
    for c in &config.communities {
        if c.name.is_empty() {
            problem("a community name is empty".into());
        }
        for o in c.view.iter().chain(&c.exclude) {
            if !is_oid(o) {
                problem(format!(
                    "community view `{o}`: expected a dotted numeric OID such as 1.3.6.1.2.1"
                ));
            }
        }
    }
    for u in &config.users {
        let password_ok = |p: &Option<String>| p.as_ref().is_some_and(|p| p.len() >= 8);
        if let Some(a) = &u.auth {
            if !["sha", "sha-1", "sha-224", "sha-256", "sha-384", "sha-512"]
                .contains(&a.to_ascii_lowercase().as_str())
            {
                problem(format!(
                    "user `{}`: auth `{a}`: expected sha, sha-224, sha-256, sha-384 or sha-512",
                    u.name
                ));
            }
            if !password_ok(&u.auth_password) {
                problem(format!(
                    "user `{}`: auth_password of at least 8 characters is needed",
                    u.name
                ));
            }
        }
        if let Some(p) = &u.privacy {
            if !p.eq_ignore_ascii_case("aes") {
                problem(format!("user `{}`: privacy `{p}`: expected aes", u.name));
            }
            if u.auth.is_none() {
                problem(format!("user `{}`: privacy needs auth", u.name));
            }
            if !password_ok(&u.privacy_password) {
                problem(format!(
                    "user `{}`: privacy_password of at least 8 characters is needed",
                    u.name
                ));
            }
        }
        for o in u.view.iter().chain(&u.exclude) {
            if !is_oid(o) {
                problem(format!(
                    "user `{}`: view `{o}`: expected a dotted numeric OID",
                    u.name
                ));
            }
        }
    }
    if config.agent.max_message_size.is_some_and(|m| m < 484) {
        errors.push(Diagnostic::whole_file(
            file,
            "max_message_size must be at least 484 (RFC 3417)",
        ));
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = parse_snmp("", "snmp.toml").unwrap();
        assert_eq!(c.communities[0].name, "public");
        let c = parse_snmp(
            "[[community]]\nname = \"private\"\naccess = \"read-write\"\nsources = [\"10.0.0.0/8\"]\nview = [\"1.3.6.1.2.1.1\"]\n\n\
             [[user]]\nname = \"ops\"\nauth = \"sha-256\"\nauth_password = \"authpassword\"\nprivacy = \"aes\"\nprivacy_password = \"privpassword\"\n",
            "s",
        )
        .unwrap();
        assert_eq!(c.communities.len(), 1);
        assert_eq!(c.users[0].access, SnmpAccess::ReadOnly);
        let e = parse_snmp(
            "[[community]]\nname = \"x\"\naccess = \"everything\"\n",
            "s",
        )
        .unwrap_err();
        assert_eq!(e.0[0].line, 3, "{}", e);
        let e = parse_snmp(
            "[[user]]\nname = \"u\"\nauth = \"md5\"\nauth_password = \"short\"\n",
            "s",
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
    }
}
