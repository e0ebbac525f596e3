//! `ips.toml`: the intrusion prevention filter server's switches and rules. Absent, netcp runs
//! no filter server (events are not kept, nothing is blocked).
//!
//! ```toml
//! [ips]
//! max_tracked = 10000          # sources tracked at once
//! event_socket = "ips.sock"    # the report API's Unix datagram socket ("" for none)
//! event_socket_mode = "0660"
//! nft_table = "maynard_ips"    # the host's nftables table ("" leaves the host unfiltered)
//! state_file = "ips-state.json" # the blocks in force, kept over restarts ("" for none)
//!
//! [[rule]]
//! name = "snmp-community"
//! component = "snmp"
//! event = "auth-failure"
//! threshold = 5                # events from one source...
//! window = "60s"               # ...within this time
//! block = "source"             # or "port": only the port the events reached
//! protocol = "ip"              # for block = "source": ip, tcp, udp or icmp
//! duration = "10m"
//! repeat_factor = 2            # a repeat offender's block lasts twice its last...
//! max_duration = "1d"          # ...up to this (and an offense is remembered this long)
//! exclude = ["127.0.0.0/8"]    # never counted
//! sources = []                 # the sources the rule judges (empty: all)
//! destinations = []            # the addresses it judges events on (empty: all): an interface's
//! ```

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigErrors;
use crate::span::Diagnostic;
use wire::IpPrefix;

/// The file's name in a configuration directory.
pub const IPS_FILE: &str = "ips.toml";

/// `ips.toml`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct IpsConfig {
    /// Sources tracked at once (per rule and destination).
    pub max_tracked: usize,
    /// The report API's socket, relative to the configuration directory; `None`: none.
    pub event_socket: Option<String>,
    /// Its permissions.
    pub event_socket_mode: u32,
    /// The host's nftables table; `None`: host interfaces are not filtered.
    pub nft_table: Option<String>,
    /// Where the blocks in force are kept over restarts, relative to the configuration
    /// directory; `None`: not kept.
    pub state_file: Option<String>,
    /// The rules, in the order they judge.
    pub rules: Vec<ips::Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    ips: Switches,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Switches {
    max_tracked: Spanned<u64>,
    event_socket: String,
    event_socket_mode: Spanned<String>,
    nft_table: Spanned<String>,
    state_file: String,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            max_tracked: Spanned::new(0..0, ips::DEFAULT_MAX_TRACKED as u64),
            event_socket: "ips.sock".into(),
            event_socket_mode: Spanned::new(0..0, "0660".into()),
            nft_table: Spanned::new(0..0, "maynard_ips".into()),
            state_file: "ips-state.json".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    name: Spanned<String>,
    component: Spanned<String>,
    event: Spanned<String>,
    threshold: Spanned<u64>,
    window: Spanned<String>,
    #[serde(default = "source_block")]
    block: Spanned<String>,
    protocol: Option<Spanned<String>>,
    duration: Spanned<String>,
    repeat_factor: Option<Spanned<u64>>,
    max_duration: Option<Spanned<String>>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    destinations: Vec<Spanned<String>>,
}

fn source_block() -> Spanned<String> {
    Spanned::new(0..0, "source".into())
}

/// A duration such as `90s`, `10m`, `2h` or `1d` (a bare number is seconds).
pub fn parse_long_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(scale)?))
}

/// Collects problems with their places in the file.
struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    found: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn at<T>(&mut self, value: &Spanned<T>, message: String) {
        self.found.push(Diagnostic::at_offset(
            self.file,
            self.text,
            value.span().start,
            message,
        ));
    }
}

/// Parses and checks `ips.toml` text; `file` names it in diagnostics.
pub fn parse_ips(text: &str, file: &str) -> Result<IpsConfig, ConfigErrors> {
    let parsed: File = toml::from_str(text).map_err(|e| super::toml_error(file, text, &e))?;
    let mut p = Problems {
        file,
        text,
        found: Vec::new(),
    };
    let s = &parsed.ips;
    if *s.max_tracked.get_ref() == 0 || *s.max_tracked.get_ref() > 10_000_000 {
        p.at(
            &s.max_tracked,
            format!(
                "max_tracked {}: 1 to 10000000 expected",
                s.max_tracked.get_ref()
            ),
        );
    }
    let mode = super::snmp::parse_mode(s.event_socket_mode.get_ref());
    if mode.is_none() {
        p.at(
            &s.event_socket_mode,
            format!(
                "event_socket_mode `{}`: an octal mode such as 0660 expected",
                s.event_socket_mode.get_ref()
            ),
        );
    }
    let table = s.nft_table.get_ref();
    if !table
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || table.len() > 64
    {
        p.at(
            &s.nft_table,
            format!("nft_table `{table}`: letters, digits and `_` expected (at most 64)"),
        );
    }
    let mut rules = Vec::new();
    let mut names = std::collections::HashSet::new();
    for r in &parsed.rules {
        if let Some(rule) = check_rule(r, &mut p) {
            if !names.insert(rule.name.to_ascii_lowercase()) {
                p.at(&r.name, format!("rule `{}` is defined twice", rule.name));
            }
            rules.push(rule);
        }
    }
    if !p.found.is_empty() {
        return Err(ConfigErrors(p.found));
    }
    Ok(IpsConfig {
        max_tracked: *s.max_tracked.get_ref() as usize,
        event_socket: Some(s.event_socket.clone()).filter(|e| !e.is_empty()),
        event_socket_mode: mode.unwrap_or(0o660),
        nft_table: Some(table.clone()).filter(|t| !t.is_empty()),
        state_file: Some(s.state_file.clone()).filter(|f| !f.is_empty()),
        rules,
    })
}

fn check_rule(r: &RuleText, p: &mut Problems) -> Option<ips::Rule> {
    let name = r.name.get_ref();
    let before = p.found.len();
    for (what, v) in [
        ("name", &r.name),
        ("component", &r.component),
        ("event", &r.event),
    ] {
        if !ips::report::valid_name(v.get_ref()) {
            p.at(
                v,
                format!(
                    "rule {what} `{}`: 1 to 64 letters, digits, `-`, `_` or `.` expected",
                    v.get_ref()
                ),
            );
        }
    }
    let threshold = *r.threshold.get_ref();
    if threshold == 0 || threshold > 100_000 {
        p.at(
            &r.threshold,
            format!("rule `{name}`: threshold {threshold}: 1 to 100000 expected"),
        );
    }
    let mut duration = |v: &Spanned<String>, what: &str| {
        let d = parse_long_duration(v.get_ref()).filter(|d| !d.is_zero());
        if d.is_none() {
            p.at(
                v,
                format!(
                    "rule `{name}`: {what} `{}`: a time such as 60s, 10m, 2h or 1d expected",
                    v.get_ref()
                ),
            );
        }
        d
    };
    let window = duration(&r.window, "window");
    let blocked_for = duration(&r.duration, "duration");
    let longest = match &r.max_duration {
        Some(v) => duration(v, "max_duration"),
        None => blocked_for,
    };
    if let (Some(d), Some(m), Some(v)) = (blocked_for, longest, &r.max_duration) {
        if m < d {
            p.at(
                v,
                format!("rule `{name}`: max_duration is shorter than duration"),
            );
        }
    }
    let repeat_factor = match &r.repeat_factor {
        None => 1,
        Some(v) => {
            let f = *v.get_ref();
            if !(1..=100).contains(&f) {
                p.at(
                    v,
                    format!("rule `{name}`: repeat_factor {f}: 1 to 100 expected"),
                );
            }
            f as u32
        }
    };
    let protocol = match &r.protocol {
        None => Some(ips::Proto::Ip),
        Some(v) => {
            let proto = ips::Proto::parse(v.get_ref());
            if proto.is_none() {
                p.at(
                    v,
                    format!(
                        "rule `{name}`: protocol `{}`: ip, tcp, udp or icmp expected",
                        v.get_ref()
                    ),
                );
            }
            proto
        }
    };
    let block = match r.block.get_ref().to_ascii_lowercase().as_str() {
        "source" => protocol.map(ips::BlockKind::Source),
        "port" => {
            if let Some(v) = &r.protocol {
                p.at(
                    v,
                    format!("rule `{name}`: protocol is for block = \"source\"; a port block stops the transport the events used"),
                );
            }
            Some(ips::BlockKind::Port)
        }
        other => {
            p.at(
                &r.block,
                format!("rule `{name}`: block `{other}`: \"source\" or \"port\" expected"),
            );
            None
        }
    };
    let mut prefixes = |list: &[Spanned<String>], what: &str| {
        let mut out = Vec::new();
        for v in list {
            match v.get_ref().parse::<IpPrefix>() {
                Ok(prefix) => out.push(prefix),
                Err(e) => p.at(v, format!("rule `{name}`: {what}: {e}")),
            }
        }
        out
    };
    let sources = prefixes(&r.sources, "sources");
    let exclude = prefixes(&r.exclude, "exclude");
    let destinations = prefixes(&r.destinations, "destinations");
    if p.found.len() > before {
        return None;
    }
    Some(ips::Rule {
        name: name.clone(),
        component: r.component.get_ref().clone(),
        event: r.event.get_ref().clone(),
        sources,
        exclude,
        destinations,
        threshold: threshold as u32,
        window: window?,
        block: block?,
        duration: blocked_for?,
        repeat_factor,
        max_duration: longest?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[ips]
max_tracked = 500
event_socket = ""

[[rule]]
name = "inside"
component = "snmp"
event = "auth-failure"
threshold = 20
window = "60s"
duration = "1m"
sources = ["10.0.0.0/8"]

[[rule]]
name = "snmp"
component = "snmp"
event = "auth-failure"
threshold = 5
window = "2m"
block = "port"
duration = "1h"
repeat_factor = 4
max_duration = "1d"
exclude = ["127.0.0.0/8", "::1"]
"#;

    #[test]
    fn a_good_file_gives_rules_in_order() {
        let c = parse_ips(GOOD, "ips.toml").unwrap();
        assert_eq!(c.max_tracked, 500);
        assert_eq!(c.event_socket, None);
        assert_eq!(c.nft_table.as_deref(), Some("maynard_ips"));
        assert_eq!(c.rules.len(), 2);
        let (a, b) = (&c.rules[0], &c.rules[1]);
        assert_eq!((a.name.as_str(), a.threshold), ("inside", 20));
        assert_eq!(a.block, ips::BlockKind::Source(ips::Proto::Ip));
        assert_eq!(a.duration, Duration::from_secs(60));
        assert_eq!(b.block, ips::BlockKind::Port);
        assert_eq!(b.window, Duration::from_secs(120));
        assert_eq!(b.duration, Duration::from_secs(3600));
        assert_eq!(
            (b.repeat_factor, b.max_duration),
            (4, Duration::from_secs(86_400))
        );
        assert_eq!((a.repeat_factor, a.max_duration), (1, a.duration));
        assert_eq!(b.exclude.len(), 2);
    }

    #[test]
    fn mistakes_point_at_their_line() {
        let bad = GOOD
            .replace("threshold = 20", "threshold = 0")
            .replace("window = \"2m\"", "window = \"2 fortnights\"")
            .replace("\"10.0.0.0/8\"", "\"10.0.0.0/33\"");
        let e = parse_ips(&bad, "ips.toml").unwrap_err().to_string();
        assert!(
            e.contains("ips.toml:10:13: rule `inside`: threshold 0"),
            "{e}"
        );
        assert!(
            e.contains("ips.toml:20:10: rule `snmp`: window `2 fortnights`"),
            "{e}"
        );
        assert!(e.contains("ips.toml:13:12: rule `inside`: sources"), "{e}");
        let e = parse_ips("[[rule]]\nname = \"x\"\n", "ips.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `component`"), "{e}");
        let e = parse_ips(
            &GOOD.replace("block = \"port\"", "block = \"port\"\nprotocol = \"udp\""),
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("protocol is for block = \"source\""), "{e}");
        let e = parse_ips(
            &GOOD.replace("max_duration = \"1d\"", "max_duration = \"1m\""),
            "f",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("max_duration is shorter than duration"), "{e}");
        let e = parse_ips(&GOOD.replace("\"inside\"", "\"snmp\""), "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rule `snmp` is defined twice"), "{e}");
        let e = parse_ips("[ips]\nnft_table = \"bad table\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f:2:13: nft_table `bad table`"), "{e}");
    }
}
