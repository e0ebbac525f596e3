//! Access restriction by source address (seed 000): ordered accept/reject rules, first match wins.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use wire::prefix::{IpPrefix, PrefixError};

/// What a rule (or the default) does with a matching source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AccessAction {
    /// The connection is served.
    #[default]
    Accept,
    /// The connection is closed and logged.
    Reject,
}

impl fmt::Display for AccessAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessAction::Accept => "accept",
            AccessAction::Reject => "reject",
        })
    }
}

impl FromStr for AccessAction {
    type Err = AccessError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("accept") {
            Ok(AccessAction::Accept)
        } else if s.eq_ignore_ascii_case("reject") {
            Ok(AccessAction::Reject)
        } else {
            Err(AccessError::BadAction(s.to_string()))
        }
    }
}

/// One rule: `accept 10.0.0.0/8` or `reject ::/0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessRule {
    /// What happens to a matching source.
    pub action: AccessAction,
    /// The sources the rule matches.
    pub prefix: IpPrefix,
}

/// Why an access rule did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The first word is not `accept` or `reject`.
    #[error("expected `accept` or `reject`, found `{0}`")]
    BadAction(String),
    /// The rule is not two words.
    #[error("expected `accept PREFIX` or `reject PREFIX`, found `{0}`")]
    Shape(String),
    /// The prefix is bad.
    #[error(transparent)]
    Prefix(#[from] PrefixError),
}

impl FromStr for AccessRule {
    type Err = AccessError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words = s.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(action), Some(prefix), None) => Ok(AccessRule {
                action: action.parse()?,
                prefix: prefix.parse()?,
            }),
            _ => Err(AccessError::Shape(s.to_string())),
        }
    }
}

impl fmt::Display for AccessRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.prefix)
    }
}

impl Serialize for AccessRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccessRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An ordered rule list with a default for sources no rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccessList {
    /// Rules, first match wins.
    pub rules: Vec<AccessRule>,
    /// The action when no rule matches.
    pub default: AccessAction,
}

/// The outcome of checking one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessDecision {
    /// Accept or reject.
    pub action: AccessAction,
    /// The 0-based index of the deciding rule; `None` when the default decided.
    pub rule: Option<usize>,
}

impl AccessList {
    /// Decides for source address `ip`.
    pub fn check(&self, ip: IpAddr) -> AccessDecision {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.prefix.contains(ip) {
                return AccessDecision {
                    action: rule.action,
                    rule: Some(i),
                };
            }
        }
        AccessDecision {
            action: self.default,
            rule: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_then_default() {
        let list = AccessList {
            rules: vec![
                "reject 127.0.0.2".parse().unwrap(),
                "accept 127.0.0.0/8".parse().unwrap(),
            ],
            default: AccessAction::Reject,
        };
        let d = list.check("127.0.0.2".parse().unwrap());
        assert_eq!((d.action, d.rule), (AccessAction::Reject, Some(0)));
        let d = list.check("127.0.0.9".parse().unwrap());
        assert_eq!((d.action, d.rule), (AccessAction::Accept, Some(1)));
        let d = list.check("::1".parse().unwrap());
        assert_eq!((d.action, d.rule), (AccessAction::Reject, None));
    }

    #[test]
    fn rule_errors_are_clear() {
        assert_eq!(
            "allow 1.2.3.4"
                .parse::<AccessRule>()
                .unwrap_err()
                .to_string(),
            "expected `accept` or `reject`, found `allow`"
        );
        assert!("accept".parse::<AccessRule>().is_err());
    }
}
