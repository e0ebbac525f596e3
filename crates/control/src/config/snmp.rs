//! `snmp.toml`: the SNMP agent's communities, SNMPv3 users, system group and switches.
//!
//! Absent, the agent serves what snmpd serves by default: the read-only community `public` from
//! loopback only.

use serde::{Deserialize, Serialize};

use super::ConfigErrors;
use crate::span::Diagnostic;
use wire::IpPrefix;

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
    /// Notification targets (coldStart/warmStart, authenticationFailure).
    #[serde(default, rename = "target")]
    pub targets: Vec<SnmpTarget>,
    /// The AgentX master (RFC 2741).
    #[serde(default)]
    pub agentx: SnmpAgentx,
    /// SMUX peers (RFC 1227).
    #[serde(default)]
    pub smux: SnmpSmux,
}

/// `[agentx]`: the AgentX master's sockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnmpAgentx {
    /// Whether subagents are accepted at all.
    pub enable: bool,
    /// The Unix socket (net-snmp's default path); empty: none.
    pub socket: String,
    /// The Unix socket's permissions, octal.
    pub socket_mode: String,
    /// A TCP address to accept subagents on as well, e.g. `127.0.0.1:705`. A loopback
    /// address unless `tcp_remote` (AgentX has no authentication: anyone who reaches the port
    /// can register subtrees).
    pub tcp: Option<String>,
    /// Allows `tcp` on an address other hosts can reach.
    pub tcp_remote: bool,
    /// How long to wait for a subagent's answer when its session and registration set none.
    pub timeout: String,
}

impl Default for SnmpAgentx {
    fn default() -> Self {
        SnmpAgentx {
            enable: false,
            socket: "/var/agentx/master".into(),
            socket_mode: "0600".into(),
            tcp: None,
            tcp_remote: false,
            timeout: "5s".into(),
        }
    }
}

/// `[smux]`: SMUX peers (RFC 1227) on TCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnmpSmux {
    /// Whether SMUX peers are accepted.
    pub enable: bool,
    /// Where to listen (RFC 1227: TCP port 199).
    pub listen: String,
    /// How long to wait for a peer's answer.
    pub timeout: String,
    /// The peers allowed (`smuxpeer` lines of snmpd.conf): identity and password.
    #[serde(rename = "peer")]
    pub peers: Vec<SmuxPeer>,
}

impl Default for SnmpSmux {
    fn default() -> Self {
        SnmpSmux {
            enable: false,
            listen: "127.0.0.1:199".into(),
            timeout: "5s".into(),
            peers: Vec::new(),
        }
    }
}

/// One `[[smux.peer]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmuxPeer {
    /// The peer's identity (its OpenPDU's identity), dotted.
    pub oid: String,
    /// Its password (empty: none).
    #[serde(default)]
    pub password: String,
}

/// A duration such as `5s`, `500ms` or `2` (seconds).
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().ok()?;
    match unit.trim() {
        "ms" => Some(std::time::Duration::from_millis(n)),
        "s" => Some(std::time::Duration::from_secs(n)),
        "m" | "min" => Some(std::time::Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

/// An octal permission string such as `0600`.
pub fn parse_mode(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
}

/// Whether a notification is sent once (trap) or until acknowledged (inform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SnmpNotifyKind {
    /// SNMPv1 Trap-PDU or SNMPv2-Trap, sent once.
    #[default]
    Trap,
    /// InformRequest (v2c or v3), resent until the receiver's Response arrives.
    Inform,
}

/// A notification receiver (`[[target]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpTarget {
    /// `host:port`, numeric, e.g. `127.0.0.1:162`.
    pub address: String,
    /// `1` (RFC 3584 translation to a v1 Trap-PDU), `2c` or `3` (SNMPv2-Trap in a USM message).
    #[serde(default = "default_target_version")]
    pub version: String,
    /// The community sent (versions 1 and 2c).
    #[serde(default = "default_target_community")]
    pub community: String,
    /// Version 3: the `[[user]]` whose keys protect the notification.
    #[serde(default)]
    pub user: Option<String>,
    /// Version 3: `noAuthNoPriv`, `authNoPriv` or `authPriv`; default: the most the user's
    /// keys allow.
    #[serde(default)]
    pub level: Option<String>,
    /// `trap` or `inform`.
    #[serde(default)]
    pub kind: SnmpNotifyKind,
    /// Informs: how many times to resend after the first attempt.
    #[serde(default = "default_target_retries")]
    pub retries: u32,
    /// Informs: how long to wait for the Response before resending.
    #[serde(default = "default_target_timeout")]
    pub timeout_ms: u64,
}

fn default_target_version() -> String {
    "2c".into()
}
fn default_target_community() -> String {
    "public".into()
}
fn default_target_retries() -> u32 {
    3
}
fn default_target_timeout() -> u64 {
    1000
}

impl SnmpTarget {
    /// The parsed address (valid once `parse_snmp` accepted the file).
    pub fn socket_addr(&self) -> Option<std::net::SocketAddr> {
        self.address.parse().ok()
    }

    /// Whether the target takes SNMPv1 Trap-PDUs.
    pub fn is_v1(&self) -> bool {
        self.version == "1"
    }

    /// Whether the target takes SNMPv3 messages.
    pub fn is_v3(&self) -> bool {
        self.version == "3"
    }

    /// A version 3 target's security level, spelled as in RFC 3411 (`noAuthNoPriv`,
    /// `authNoPriv`, `authPriv`): `level`, or the most its user's keys allow. `None` when
    /// the level is unknown or the user is not among `users`.
    pub fn security_level(&self, users: &[SnmpUser]) -> Option<&'static str> {
        const LEVELS: [&str; 3] = ["noAuthNoPriv", "authNoPriv", "authPriv"];
        let user = users.iter().find(|u| Some(&u.name) == self.user.as_ref())?;
        let most = match (&user.auth, &user.privacy) {
            (None, _) => 0,
            (Some(_), None) => 1,
            (Some(_), Some(_)) => 2,
        };
        match &self.level {
            None => Some(LEVELS[most]),
            Some(l) => LEVELS
                .iter()
                .position(|x| x.eq_ignore_ascii_case(l))
                .map(|i| LEVELS[i]),
        }
    }
}

impl Default for SnmpConfig {
    fn default() -> Self {
        Self {
            system: SnmpSystem::default(),
            agent: SnmpAgentSettings::default(),
            communities: default_communities(),
            users: Vec::new(),
            targets: Vec::new(),
            agentx: SnmpAgentx::default(),
            smux: SnmpSmux::default(),
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
        context: String::new(),
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
    /// The context its requests address (net-snmp's `com2sec -Cn`); absent: the default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context: String,
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

/// The state file netcp keeps next to `snmp.toml`.
pub const SNMP_STATE_FILE: &str = "snmp-state.toml";

/// `snmp-state.toml`: what the agent must remember across RELOAD and restarts (RFC 3414's
/// snmpEngineBoots; sysContact, sysName and sysLocation set by SNMP).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnmpState {
    /// snmpEngineBoots of the current run.
    pub engine_boots: u32,
    /// sysContact set by SNMP.
    pub contact: Option<SnmpOverride>,
    /// sysName set by SNMP.
    pub name: Option<SnmpOverride>,
    /// sysLocation set by SNMP.
    pub location: Option<SnmpOverride>,
}

/// A value set by SNMP and the `snmp.toml` value it replaced: the override holds while
/// `snmp.toml` still says `configured`; once `snmp.toml` changes the object, the file wins.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnmpOverride {
    /// The value set by SNMP.
    pub value: String,
    /// `snmp.toml`'s value when it was set (absent: none configured).
    pub configured: Option<String>,
}

impl SnmpOverride {
    /// The value in force given `snmp.toml`'s current `configured` value.
    pub fn effective(o: &Option<SnmpOverride>, configured: Option<&str>) -> Option<String> {
        o.as_ref()
            .filter(|o| o.configured.as_deref() == configured)
            .map(|o| o.value.clone())
    }
}

/// Reads `snmp-state.toml` text; anything unreadable counts as no state.
pub fn parse_state(text: &str) -> Result<SnmpState, String> {
    toml::from_str(text).map_err(|e| e.message().to_string())
}

/// Renders `snmp-state.toml`.
pub fn render_state(state: &SnmpState) -> String {
    let body = toml::to_string(state).unwrap_or_default();
    format!("# Written by netcp: SNMP engine boots and system objects set by SNMP.\n{body}")
}

fn is_oid(s: &str) -> bool {
    let s = s.strip_prefix('.').unwrap_or(s);
    !s.is_empty()
        && s.split('.')
            .all(|a| !a.is_empty() && a.parse::<u32>().is_ok())
}

/// The checks of a version 3 `[[target]]`: a configured user and a level its keys allow.
fn check_v3_target(t: &SnmpTarget, users: &[SnmpUser], problem: &mut impl FnMut(String)) {
    let Some(name) = &t.user else {
        problem(format!(
            "target `{}`: version \"3\" needs user = \"NAME\" naming a [[user]]",
            t.address
        ));
        return;
    };
    let Some(user) = users.iter().find(|u| &u.name == name) else {
        problem(format!(
            "target `{}`: user `{name}` is not a configured [[user]]",
            t.address
        ));
        return;
    };
    match t.level.as_deref() {
        None => {}
        Some(l) => match t.security_level(users) {
            None => problem(format!(
                "target `{}`: level `{l}`: expected noAuthNoPriv, authNoPriv or authPriv",
                t.address
            )),
            Some("authNoPriv") if user.auth.is_none() => problem(format!(
                "target `{}`: level authNoPriv needs auth for user `{name}`",
                t.address
            )),
            Some("authPriv") if user.auth.is_none() || user.privacy.is_none() => problem(format!(
                "target `{}`: level authPriv needs auth and privacy for user `{name}`",
                t.address
            )),
            Some(_) => {}
        },
    }
}

/// The byte offset of `key`'s line in table `[table]` of TOML `text` (for a diagnostic's
/// line), if written as `key = ...` there.
fn key_offset(text: &str, table: &str, key: &str) -> Option<usize> {
    let header = format!("[{table}]");
    let mut offset = 0;
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == header;
        } else if inside {
            let k = t.split('=').next().unwrap_or("").trim();
            if t.contains('=') && k == key {
                return Some(offset + (line.len() - line.trim_start().len()));
            }
        }
        offset += line.len();
    }
    None
}

/// Parses and checks `snmp.toml` text; `file` names it in diagnostics.
pub fn parse_snmp(text: &str, file: &str) -> Result<SnmpConfig, ConfigErrors> {
    let config: SnmpConfig = toml::from_str(text).map_err(|e| super::toml_error(file, text, &e))?;
    let mut errors = Vec::new();
    let mut problem = |what: String| errors.push(Diagnostic::whole_file(file, what));
    for c in &config.communities {
        if c.name.is_empty() {
            problem("a community name is empty".into());
        }
        if c.context.len() > 32 {
            problem(format!(
                "community context `{}`: at most 32 octets (SnmpAdminString)",
                c.context
            ));
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
    for t in &config.targets {
        if t.socket_addr().is_none() {
            problem(format!(
                "target `{}`: expected a numeric address and port such as 127.0.0.1:162",
                t.address
            ));
        }
        match t.version.as_str() {
            "1" | "2c" => {
                if t.user.is_some() || t.level.is_some() {
                    problem(format!(
                        "target `{}`: user and level are for version \"3\" targets",
                        t.address
                    ));
                }
            }
            "3" => check_v3_target(t, &config.users, &mut problem),
            v => problem(format!(
                "target `{}`: version `{v}`: expected \"1\", \"2c\" or \"3\"",
                t.address
            )),
        }
        if t.kind == SnmpNotifyKind::Inform && t.version == "1" {
            problem(format!(
                "target `{}`: SNMPv1 has no inform; use version \"2c\" or kind \"trap\"",
                t.address
            ));
        }
        if t.community.is_empty() {
            problem(format!("target `{}`: the community is empty", t.address));
        }
        if t.kind == SnmpNotifyKind::Inform && !(1..=60_000).contains(&t.timeout_ms) {
            problem(format!(
                "target `{}`: timeout_ms must be between 1 and 60000",
                t.address
            ));
        }
        if t.retries > 20 {
            problem(format!(
                "target `{}`: retries must be at most 20",
                t.address
            ));
        }
    }
    let timeout_ok = |t: &str| {
        parse_duration(t).is_some_and(|d| {
            d >= std::time::Duration::from_millis(10) && d <= std::time::Duration::from_secs(255)
        })
    };
    let x = &config.agentx;
    if !x.socket.is_empty() && !x.socket.starts_with('/') {
        problem(format!(
            "agentx socket `{}`: expected an absolute path",
            x.socket
        ));
    }
    if parse_mode(&x.socket_mode).is_none() {
        problem(format!(
            "agentx socket_mode `{}`: expected octal permissions such as 0600",
            x.socket_mode
        ));
    }
    let mut remote_tcp = None;
    if let Some(t) = &x.tcp {
        match t.parse::<std::net::SocketAddr>() {
            Err(_) => problem(format!(
                "agentx tcp `{t}`: expected a numeric address and port such as 127.0.0.1:705"
            )),
            Ok(a) if !a.ip().is_loopback() && !x.tcp_remote => remote_tcp = Some(t.clone()),
            Ok(_) => {}
        }
    }
    if !timeout_ok(&x.timeout) {
        problem(format!(
            "agentx timeout `{}`: expected a duration from 10ms to 255s, such as 5s",
            x.timeout
        ));
    }
    let m = &config.smux;
    if m.listen.parse::<std::net::SocketAddr>().is_err() {
        problem(format!(
            "smux listen `{}`: expected a numeric address and port such as 127.0.0.1:199",
            m.listen
        ));
    }
    if !timeout_ok(&m.timeout) {
        problem(format!(
            "smux timeout `{}`: expected a duration from 10ms to 255s, such as 5s",
            m.timeout
        ));
    }
    for p in &m.peers {
        if !is_oid(&p.oid) {
            problem(format!(
                "smux peer `{}`: expected a dotted numeric OID",
                p.oid
            ));
        }
    }
    if let Some(t) = remote_tcp {
        let message = format!(
            "agentx tcp `{t}`: not a loopback address; AgentX has no authentication, so any \
             host reaching it could register subtrees (set tcp_remote = true to allow it)"
        );
        errors.push(match key_offset(text, "agentx", "tcp") {
            Some(at) => Diagnostic::at_offset(file, text, at, message),
            None => Diagnostic::whole_file(file, message),
        });
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
        let c = parse_snmp(
            "[[target]]\naddress = \"127.0.0.1:162\"\nversion = \"1\"\n\n\
             [[target]]\naddress = \"[::1]:1162\"\nkind = \"inform\"\nretries = 2\n",
            "s",
        )
        .unwrap();
        assert!(c.targets[0].is_v1() && c.targets[0].kind == SnmpNotifyKind::Trap);
        assert_eq!(c.targets[1].community, "public");
        assert_eq!(c.targets[1].timeout_ms, 1000);
        let e = parse_snmp(
            "[[target]]\naddress = \"localhost\"\nversion = \"1\"\nkind = \"inform\"\n\n\
             [[target]]\naddress = \"127.0.0.1:162\"\nversion = \"3\"\n",
            "s",
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 3, "{e}");
        assert!(e.to_string().contains("no inform"), "{e}");
    }

    #[test]
    fn v3_targets() {
        let users = "[[user]]\nname = \"full\"\nauth = \"sha\"\nauth_password = \"authpassword\"\n\
             privacy = \"aes\"\nprivacy_password = \"privpassword\"\n\n\
             [[user]]\nname = \"bare\"\n\n";
        let c = parse_snmp(
            &format!(
                "{users}[[target]]\naddress = \"127.0.0.1:162\"\nversion = \"3\"\nuser = \"full\"\n\n\
                 [[target]]\naddress = \"127.0.0.1:163\"\nversion = \"3\"\nuser = \"full\"\nlevel = \"authnopriv\"\n\n\
                 [[target]]\naddress = \"127.0.0.1:164\"\nversion = \"3\"\nuser = \"bare\"\n"
            ),
            "s",
        )
        .unwrap();
        assert!(c.targets.iter().all(SnmpTarget::is_v3));
        let levels: Vec<_> = c
            .targets
            .iter()
            .map(|t| t.security_level(&c.users))
            .collect();
        assert_eq!(
            levels,
            [Some("authPriv"), Some("authNoPriv"), Some("noAuthNoPriv")]
        );
        let e = parse_snmp(
            &format!(
                "{users}[[target]]\naddress = \"127.0.0.1:162\"\nversion = \"3\"\n\n\
                 [[target]]\naddress = \"127.0.0.1:163\"\nversion = \"3\"\nuser = \"nobody\"\n\n\
                 [[target]]\naddress = \"127.0.0.1:164\"\nversion = \"3\"\nuser = \"bare\"\nlevel = \"authPriv\"\n\n\
                 [[target]]\naddress = \"127.0.0.1:165\"\nversion = \"3\"\nuser = \"full\"\nlevel = \"secret\"\n\n\
                 [[target]]\naddress = \"127.0.0.1:167\"\nuser = \"full\"\n"
            ),
            "s",
        )
        .unwrap_err();
        let text = e.to_string();
        assert_eq!(e.0.len(), 5, "{text}");
        for needle in [
            "needs user",
            "`nobody` is not a configured",
            "authPriv needs auth and privacy",
            "level `secret`",
            "are for version \"3\"",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
    }

    #[test]
    fn agentx_and_smux() {
        let c = parse_snmp("", "s").unwrap();
        assert!(!c.agentx.enable && c.agentx.socket == "/var/agentx/master");
        let c = parse_snmp(
            "[agentx]\nenable = true\nsocket = \"/tmp/x/master\"\ntcp = \"127.0.0.1:705\"\ntimeout = \"500ms\"\n\n\
             [smux]\nenable = true\n[[smux.peer]]\noid = \"1.3.6.1.4.1.9\"\npassword = \"secret\"\n",
            "s",
        )
        .unwrap();
        assert_eq!(
            parse_duration(&c.agentx.timeout),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(c.smux.peers[0].password, "secret");
        let e = parse_snmp(
            "[agentx]\nsocket = \"rel\"\ntcp = \"x\"\ntimeout = \"forever\"\nsocket_mode = \"999\"\n\n\
             [[smux.peer]]\noid = \"abc\"\n",
            "s",
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 5, "{e}");
    }

    /// `[agentx] tcp` on a non-loopback address is refused at its line unless tcp_remote.
    #[test]
    fn agentx_tcp_loopback_only() {
        let text = "[agentx]\nenable = true\n\ntcp = \"0.0.0.0:705\"\n";
        let e = parse_snmp(text, "snmp.toml").unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("snmp.toml:4"), "{shown}");
        assert!(shown.contains("tcp_remote"), "{shown}");
        let ok = format!("{text}tcp_remote = true\n");
        assert!(parse_snmp(&ok, "snmp.toml").unwrap().agentx.tcp_remote);
        assert!(parse_snmp("[agentx]\ntcp = \"[::1]:705\"\n", "s").is_ok());
        assert!(parse_snmp("[agentx]\ntcp = \"127.0.0.1:705\"\n", "s").is_ok());
    }

    #[test]
    fn state_round_trip() {
        let st = SnmpState {
            engine_boots: 7,
            contact: Some(SnmpOverride {
                value: "noc".into(),
                configured: Some("ops".into()),
            }),
            name: None,
            location: Some(SnmpOverride {
                value: "here".into(),
                configured: None,
            }),
        };
        let back = parse_state(&render_state(&st)).unwrap();
        assert_eq!(back, st);
        assert_eq!(
            SnmpOverride::effective(&st.contact, Some("ops")).as_deref(),
            Some("noc")
        );
        assert_eq!(SnmpOverride::effective(&st.contact, Some("new")), None);
        assert_eq!(
            SnmpOverride::effective(&st.location, None).as_deref(),
            Some("here")
        );
    }
}
