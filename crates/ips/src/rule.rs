//! What components report (events) and how the filter server judges them (rules).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use wire::IpPrefix;

/// The traffic a block stops: IP as a whole or one transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// Every IP datagram.
    Ip,
    /// ICMP only.
    Icmp,
    /// TCP only.
    Tcp,
    /// UDP only.
    Udp,
}

impl Proto {
    /// The IP protocol number (`None` for IP as a whole).
    pub fn number(self) -> Option<u8> {
        match self {
            Proto::Ip => None,
            Proto::Icmp => Some(1),
            Proto::Tcp => Some(6),
            Proto::Udp => Some(17),
        }
    }

    /// Whether a datagram of IP protocol `number` is of this kind.
    pub fn covers(self, number: u8) -> bool {
        self.number().is_none_or(|n| n == number)
    }

    /// Parses `ip`, `icmp`, `tcp` or `udp` (any case).
    pub fn parse(s: &str) -> Option<Proto> {
        match s.to_ascii_lowercase().as_str() {
            "ip" => Some(Proto::Ip),
            "icmp" => Some(Proto::Icmp),
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            _ => None,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Ip => "ip",
            Proto::Icmp => "icmp",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// What a rule blocks once its threshold is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// All traffic of one protocol from the offending source.
    Source(Proto),
    /// Only the offending source's traffic to the destination address and port the events
    /// named (of the event's transport).
    Port,
}

/// One rule of the filter server: which events it counts, from which sources, how many in
/// what time set a block, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name, shown in SHOW IPS and the log.
    pub name: String,
    /// The reporting component (`snmp`, `netcp`, a user application's name), without case.
    pub component: String,
    /// The event's name within the component (`auth-failure`), without case.
    pub event: String,
    /// Sources this rule applies to (empty: every source). With several rules for one event,
    /// the first whose `sources` hold the address judges it, so internal networks can get
    /// other limits than the rest.
    pub sources: Vec<IpPrefix>,
    /// Sources never counted nor blocked by this rule.
    pub exclude: Vec<IpPrefix>,
    /// Destinations this rule applies to (empty: every one): the addresses of one interface,
    /// so an internal and an external network can have rules of their own. An event that
    /// names no destination matches only a rule without `destinations`.
    pub destinations: Vec<IpPrefix>,
    /// Events from one source (to one destination) that set the block...
    pub threshold: u32,
    /// ...within this time; older events age out.
    pub window: Duration,
    /// What is blocked.
    pub block: BlockKind,
    /// How long the block holds.
    pub duration: Duration,
    /// A source blocked again by this rule within `max_duration` of its last block's end gets
    /// `repeat_factor` times that block's duration (1: the same each time).
    pub repeat_factor: u32,
    /// The longest block this rule sets.
    pub max_duration: Duration,
}

impl Rule {
    /// Whether the rule judges `e`.
    pub fn applies(&self, e: &Event) -> bool {
        self.component.eq_ignore_ascii_case(&e.component)
            && self.event.eq_ignore_ascii_case(&e.event)
            && (self.sources.is_empty() || self.sources.iter().any(|p| p.contains(e.source)))
            && (self.destinations.is_empty()
                || e.destination
                    .is_some_and(|(d, _)| self.destinations.iter().any(|p| p.contains(d))))
    }

    /// Whether `source` is excluded from this rule.
    pub fn excludes(&self, source: IpAddr) -> bool {
        self.exclude.iter().any(|p| p.contains(source))
    }
}

/// One event a component reports: something `source` did that may be an attack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Who reports (`snmp`, `netcp`, an application's name).
    pub component: String,
    /// What happened (`auth-failure`, `access-refused`, ...).
    pub event: String,
    /// The offending address.
    pub source: IpAddr,
    /// The address and port it reached, when the component knows them.
    pub destination: Option<(IpAddr, u16)>,
    /// The transport it used (for port blocks).
    pub protocol: Proto,
}
