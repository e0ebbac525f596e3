//! `outgoing.toml`: outgoing access restrictions (seed 000), which remote TCP services local
//! users may connect to. Rules are judged in order for each new outgoing TCP connection of the
//! host; the first that matches permits or denies it; a connection no rule matches is
//! permitted. NETCU's ADD ACCESS and REMOVE ACCESS edit the file and apply it live.
//!
//! ```toml
//! [[rule]]
//! action = "permit"
//! destination = "0/0"          # an address or prefix, IPv4 or IPv6
//! ports = "25"                 # a TCP port or range such as 6000-6063 (absent: any)
//! groups = ["mail"]            # local users and/or groups it applies to (both absent: everyone)
//!
//! [[rule]]
//! action = "deny"
//! destination = "0/0"
//! ports = "25"
//! ```

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::ConfigErrors;
use crate::span::Diagnostic;
use wire::IpPrefix;

/// The file's name in a configuration directory.
pub const OUTGOING_FILE: &str = "outgoing.toml";

/// The nftables table the rules go into by default.
pub const DEFAULT_TABLE: &str = "maynard_outgoing";

/// Permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutgoingAction {
    /// The connection may be made.
    Permit,
    /// The connection is refused (the program sees "connection refused").
    Deny,
}

/// One restriction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingRule {
    /// Permit or deny.
    pub action: OutgoingAction,
    /// The remote address or network.
    pub destination: IpPrefix,
    /// The remote TCP port or range (`25`, `6000-6063`); absent: any port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
    /// Local users (names or numeric ids) the rule applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Local groups (names or numeric ids): a connection made by a process whose group is one
    /// of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl OutgoingRule {
    /// The ports as a range; `Ok(None)`: any port.
    pub fn port_range(&self) -> Result<Option<(u16, u16)>, String> {
        let Some(p) = self.ports.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let bad =
            || format!("ports `{p}`: a port such as 25 or a range such as 6000-6063 expected");
        let port = |s: &str| s.trim().parse::<u16>().ok().filter(|n| *n > 0);
        let (lo, hi) = match p.split_once('-') {
            Some((a, b)) => (port(a).ok_or_else(bad)?, port(b).ok_or_else(bad)?),
            None => {
                let n = port(p).ok_or_else(bad)?;
                (n, n)
            }
        };
        if lo > hi {
            return Err(bad());
        }
        Ok(Some((lo, hi)))
    }

    /// Problems with the rule (unknown users or groups, bad ports).
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.port_range() {
            out.push(e);
        }
        for u in &self.users {
            if u.parse::<u32>().is_err() && !super::listed_in("/etc/passwd", u) {
                out.push(format!("user `{u}` is not in the passwd database"));
            }
        }
        for g in &self.groups {
            if g.parse::<u32>().is_err() && !super::listed_in("/etc/group", g) {
                out.push(format!("group `{g}` is not in the group database"));
            }
        }
        out
    }
}

/// `outgoing.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingConfig {
    /// The host's nftables table that holds the rules.
    pub nft_table: String,
    /// The rules, in order.
    #[serde(rename = "rule")]
    pub rules: Vec<OutgoingRule>,
}

impl Default for OutgoingConfig {
    fn default() -> Self {
        OutgoingConfig {
            nft_table: DEFAULT_TABLE.into(),
            rules: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    nft_table: Option<Spanned<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<OutgoingRule>>,
}

/// Parses and checks `outgoing.toml` text; `file` names it in diagnostics.
pub fn parse_outgoing(text: &str, file: &str) -> Result<OutgoingConfig, ConfigErrors> {
    let parsed: File = toml::from_str(text).map_err(|e| super::toml_error(file, text, &e))?;
    let mut errors = Vec::new();
    let nft_table = match parsed.nft_table {
        Some(t) => {
            let name = t.get_ref();
            if name.is_empty()
                || name.len() > 64
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                errors.push(Diagnostic::at_offset(
                    file,
                    text,
                    t.span().start,
                    format!("nft_table `{name}`: letters, digits and `_` expected (1 to 64)"),
                ));
            }
            name.clone()
        }
        None => DEFAULT_TABLE.into(),
    };
    let mut rules = Vec::new();
    for (i, r) in parsed.rules.into_iter().enumerate() {
        let start = r.span().start;
        for problem in r.get_ref().check() {
            errors.push(Diagnostic::at_offset(
                file,
                text,
                start,
                format!("rule {}: {problem}", i + 1),
            ));
        }
        rules.push(r.into_inner());
    }
    if errors.is_empty() {
        Ok(OutgoingConfig { nft_table, rules })
    } else {
        Err(ConfigErrors(errors))
    }
}

/// The text of `config` as `outgoing.toml`.
pub fn render_outgoing(config: &OutgoingConfig) -> String {
    let body = toml::to_string(config).unwrap_or_default();
    format!(
        "# Outgoing access restrictions: the first rule that matches a new outgoing TCP\n\
         # connection permits or denies it; no match permits. Written by netcu ADD/REMOVE ACCESS.\n\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rule]]
action = "permit"
destination = "0/0"
ports = "25"
users = ["root"]

[[rule]]
action = "deny"
destination = "2001:db8::/32"
ports = "6000-6063"
"#;

    #[test]
    fn a_good_file_reads_and_writes_back_the_same() {
        let c = parse_outgoing(GOOD, "outgoing.toml").unwrap();
        assert_eq!(c.nft_table, DEFAULT_TABLE);
        assert_eq!(c.rules.len(), 2);
        assert_eq!(c.rules[0].action, OutgoingAction::Permit);
        assert_eq!(c.rules[1].port_range().unwrap(), Some((6000, 6063)));
        let again = parse_outgoing(&render_outgoing(&c), "outgoing.toml").unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn mistakes_point_at_their_rule() {
        let bad = GOOD
            .replace("ports = \"25\"", "ports = \"25-24\"")
            .replace("[\"root\"]", "[\"root\", \"no-such-user-here\"]");
        let e = parse_outgoing(&bad, "o.toml").unwrap_err().to_string();
        assert!(e.contains("o.toml:2:1: rule 1: ports `25-24`"), "{e}");
        assert!(
            e.contains("rule 1: user `no-such-user-here` is not in the passwd database"),
            "{e}"
        );
        let e = parse_outgoing(&GOOD.replace("\"deny\"", "\"drop\""), "o.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `drop`"), "{e}");
        let e = parse_outgoing(&GOOD.replace("0/0", "10.0.0.0/40"), "o.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("o.toml:4:"), "{e}");
    }
}
