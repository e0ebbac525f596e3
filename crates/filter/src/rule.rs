//! The rule model: what one line of a filter file means once parsed.

use std::fmt;

use wire::prefix::{Family, IpPrefix};

use crate::vmstime::{LocalTime, VmsTime, DAY};

/// What a matching rule does with the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Action {
    /// Accept the datagram.
    Permit,
    /// Refuse it and answer with ICMP/ICMPv6 destination unreachable, administratively prohibited.
    Deny,
    /// Refuse it silently.
    Drop,
}

impl Action {
    /// The keyword as written in a filter file.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
            Action::Drop => "drop",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol a rule checks. Numbers 1, 6 and 17 are kept as written except that 6 and 17
/// become [`Proto::Tcp`] and [`Proto::Udp`] (so port rules work with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Proto {
    /// `ip`: any protocol.
    Any,
    /// `tcp` (6).
    Tcp,
    /// `udp` (17).
    Udp,
    /// `icmp`: ICMP (1) for IPv4, ICMPv6 (58) for IPv6.
    Icmp,
    /// Any other IP protocol number.
    Number(u8),
}

impl Proto {
    /// The IP protocol number this rule checks in `family`, or `None` for any.
    pub fn number(self, family: Family) -> Option<u8> {
        match self {
            Proto::Any => None,
            Proto::Tcp => Some(6),
            Proto::Udp => Some(17),
            Proto::Icmp => Some(match family {
                Family::V4 => 1,
                Family::V6 => 58,
            }),
            Proto::Number(n) => Some(n),
        }
    }

    /// TCP or UDP: the protocols with ports, filtered on first fragments only.
    pub fn has_ports(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Udp)
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proto::Any => f.write_str("ip"),
            Proto::Tcp => f.write_str("tcp"),
            Proto::Udp => f.write_str("udp"),
            Proto::Icmp => f.write_str("icmp"),
            Proto::Number(n) => write!(f, "{n}"),
        }
    }
}

/// A port (or ICMP type) comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PortOp {
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
    /// Equal.
    Eq,
    /// Greater or equal.
    Ge,
    /// Greater than.
    Gt,
    /// Not equal.
    Ne,
}

impl PortOp {
    /// Parses `lt le eq ge gt ne` in any case.
    pub fn parse(s: &str) -> Option<PortOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "lt" => PortOp::Lt,
            "le" => PortOp::Le,
            "eq" => PortOp::Eq,
            "ge" => PortOp::Ge,
            "gt" => PortOp::Gt,
            "ne" => PortOp::Ne,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            PortOp::Lt => "lt",
            PortOp::Le => "le",
            PortOp::Eq => "eq",
            PortOp::Ge => "ge",
            PortOp::Gt => "gt",
            PortOp::Ne => "ne",
        }
    }
}

/// A port or ICMP type test: operator and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PortMatch {
    /// The operator.
    pub op: PortOp,
    /// The port number (or ICMP type).
    pub value: u16,
}

impl PortMatch {
    /// Whether `v` passes the test.
    pub fn matches(&self, v: u16) -> bool {
        match self.op {
            PortOp::Lt => v < self.value,
            PortOp::Le => v <= self.value,
            PortOp::Eq => v == self.value,
            PortOp::Ge => v >= self.value,
            PortOp::Gt => v > self.value,
            PortOp::Ne => v != self.value,
        }
    }

    /// The inclusive ranges of values that pass, within `0..=max` (empty ranges left out).
    pub fn ranges(&self, max: u16) -> Vec<(u16, u16)> {
        let v = self.value;
        let r = match self.op {
            PortOp::Lt => v.checked_sub(1).map(|h| vec![(0, h)]).unwrap_or_default(),
            PortOp::Le => vec![(0, v)],
            PortOp::Eq => vec![(v, v)],
            PortOp::Ge => vec![(v, max)],
            PortOp::Gt => v.checked_add(1).map(|l| vec![(l, max)]).unwrap_or_default(),
            PortOp::Ne => {
                let mut r = Vec::new();
                if let Some(h) = v.checked_sub(1) {
                    r.push((0, h));
                }
                if let Some(l) = v.checked_add(1) {
                    r.push((l, max));
                }
                r
            }
        };
        r.into_iter()
            .filter_map(|(l, h)| (l <= h && l <= max).then_some((l, h.min(max))))
            .collect()
    }
}

impl fmt::Display for PortMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.as_str(), self.value)
    }
}

/// When a loaded rule is in force, resolved against the load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Window {
    /// Always.
    Always,
    /// From `start` (inclusive) until `end` (exclusive); a missing bound is open.
    Once {
        /// Start instant, if any.
        start: Option<LocalTime>,
        /// End instant, if any.
        end: Option<LocalTime>,
    },
    /// Every day from `start` seconds after midnight for `length` seconds (a window may cross
    /// midnight: 23:00 for 2 hours), between the optional dates of its start and end.
    Daily {
        /// Seconds after midnight.
        start: u32,
        /// Length in seconds, 1..=86400 (86400 means the whole day).
        length: u32,
        /// Not before this instant (when the start had a date).
        not_before: Option<LocalTime>,
        /// Not from this instant on (when the end had a date).
        not_after: Option<LocalTime>,
    },
}

impl Window {
    /// Whether the rule is in force at `t`.
    pub fn active(&self, t: LocalTime) -> bool {
        match *self {
            Window::Always => true,
            Window::Once { start, end } => {
                start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e)
            }
            Window::Daily {
                start,
                length,
                not_before,
                not_after,
            } => {
                if not_before.is_some_and(|s| t < s) || not_after.is_some_and(|e| t >= e) {
                    return false;
                }
                if i64::from(length) >= DAY {
                    return true;
                }
                (t.second_of_day() - i64::from(start)).rem_euclid(DAY) < i64::from(length)
            }
        }
    }
}

/// The time clauses of a line as written (before resolution against the load time).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct TimeSpec {
    /// `start TIME`.
    pub start: Option<VmsTime>,
    /// `end TIME`.
    pub end: Option<VmsTime>,
    /// `repeat` / `repeat Y`.
    pub repeat: bool,
}

/// One rule of a filter list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// The physical line where the rule starts (for SHOW and messages).
    pub line: usize,
    /// What to do on a match.
    pub action: Action,
    /// Protocol.
    pub proto: Proto,
    /// Address family, or `None` when the line gave no address (matches both families).
    pub family: Option<Family>,
    /// Source prefix (`/0` when absent).
    pub src: IpPrefix,
    /// Source port test (TCP/UDP).
    pub sport: Option<PortMatch>,
    /// Destination prefix (`/0` when absent).
    pub dst: IpPrefix,
    /// Destination port test (TCP/UDP) or ICMP type test (`icmp`).
    pub dport: Option<PortMatch>,
    /// `established`: TCP with ACK or RST.
    pub established: bool,
    /// The time clauses as written.
    pub time: TimeSpec,
    /// The resolved window.
    pub window: Window,
    /// `log`.
    pub log: bool,
}

impl Rule {
    /// A rule matching everything of `proto` in both families, always, with no options.
    pub fn any(line: usize, action: Action, proto: Proto) -> Rule {
        Rule {
            line,
            action,
            proto,
            family: None,
            src: IpPrefix::any(Family::V4),
            sport: None,
            dst: IpPrefix::any(Family::V4),
            dport: None,
            established: false,
            time: TimeSpec::default(),
            window: Window::Always,
            log: false,
        }
    }

    /// The rule written back as one filter-file line (resolved windows are not shown; the time
    /// clauses are written as they were given).
    pub fn to_line(&self) -> String {
        let mut s = format!("{} {}", self.action, self.proto);
        if self.family.is_some() {
            s.push_str(&format!(" {}", self.src));
            if let Some(p) = self.sport {
                s.push_str(&format!(" {p}"));
            }
            s.push_str(&format!(" {}", self.dst));
        }
        if let Some(p) = self.dport {
            s.push_str(&format!(" {p}"));
        }
        if self.established {
            s.push_str(" established");
        }
        if let Some(t) = self.time.start {
            s.push_str(&format!(" start \"{t}\""));
        }
        if let Some(t) = self.time.end {
            s.push_str(&format!(" end \"{t}\""));
        }
        if self.time.repeat {
            s.push_str(" repeat");
        }
        if self.log {
            s.push_str(" log");
        }
        s
    }
}
