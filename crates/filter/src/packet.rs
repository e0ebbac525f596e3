//! What the classifier looks at in a datagram, what it answers, and the linear reference
//! evaluator that defines the semantics.

use std::net::IpAddr;

use wire::prefix::Family;

use crate::rule::{Action, Rule};
use crate::vmstime::LocalTime;

/// TCP ACK flag.
pub const TCP_ACK: u8 = 0x10;
/// TCP RST flag.
pub const TCP_RST: u8 = 0x04;
/// TCP SYN flag.
pub const TCP_SYN: u8 = 0x02;
/// TCP FIN flag.
pub const TCP_FIN: u8 = 0x01;

/// The fields of a received datagram the filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Packet {
    /// Source address.
    pub src: IpAddr,
    /// Destination address (the same family as `src`; if not, `src`'s family decides and the
    /// destination never matches an address test).
    pub dst: IpAddr,
    /// IP protocol / IPv6 upper-layer next header.
    pub protocol: u8,
    /// TCP/UDP source port (ignored for other protocols and later fragments).
    pub src_port: u16,
    /// TCP/UDP destination port, or the ICMP/ICMPv6 message type (ignored on later fragments).
    pub dst_port: u16,
    /// TCP flags byte (ignored for other protocols).
    pub tcp_flags: u8,
    /// Fragment offset in 8-byte units; 0 for a whole datagram or a first fragment.
    pub fragment_offset: u16,
    /// When the datagram was received (local wall clock).
    pub time: LocalTime,
    /// Length in bytes, for the byte counters.
    pub length: u32,
}

/// Why the classifier decided as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Decided {
    /// The rule at this index of the list (0-based; `Rule::line` gives the file line).
    Rule(usize),
    /// No rule matched: the implicit deny at the end of every list.
    Implicit,
    /// A later fragment of a TCP or UDP datagram that no non-TCP/UDP rule matched: it passes
    /// (seed 001: only the first fragment carries ports, the rest cannot be reassembled without
    /// it).
    LaterFragment,
}

/// The classifier's answer: what to do and which rule said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    /// Permit, deny (the forwarder answers ICMP administratively prohibited) or drop.
    pub action: Action,
    /// The deciding rule, or why none.
    pub by: Decided,
}

impl Verdict {
    /// The implicit deny.
    pub const IMPLICIT: Verdict = Verdict {
        action: Action::Deny,
        by: Decided::Implicit,
    };
    /// A later TCP/UDP fragment passing.
    pub const FRAGMENT: Verdict = Verdict {
        action: Action::Permit,
        by: Decided::LaterFragment,
    };
}

/// An address as the classifier stores it: family and value (IPv4 in the low 32 bits).
pub fn addr_key(a: IpAddr) -> (Family, u128) {
    match a {
        IpAddr::V4(v) => (Family::V4, u128::from(u32::from(v))),
        IpAddr::V6(v) => (Family::V6, u128::from(v)),
    }
}

impl Packet {
    /// The family that selects rules (the source's).
    pub fn family(&self) -> Family {
        addr_key(self.src).0
    }

    /// Whether this is a fragment other than the first.
    pub fn is_later_fragment(&self) -> bool {
        self.fragment_offset != 0
    }

    /// Whether this is a later fragment of a TCP or UDP datagram.
    pub fn is_later_port_fragment(&self) -> bool {
        self.is_later_fragment() && (self.protocol == 6 || self.protocol == 17)
    }
}

/// Whether `rule` matches `p`: the semantics every classifier must equal.
///
/// A later fragment carries no transport header, so TCP/UDP rules and rules with a port, ICMP type
/// or `established` test never match it; `ip`, `icmp` and numbered rules without such tests do.
pub fn rule_matches(rule: &Rule, p: &Packet) -> bool {
    matches_keyed(rule, p, &Keys::of(p))
}

/// The packet's fields as rules compare them, computed once per packet.
struct Keys {
    fam: Family,
    src: u128,
    dst: Option<u128>,
    later: bool,
    ack_rst: bool,
}

impl Keys {
    fn of(p: &Packet) -> Keys {
        let (fam, src) = addr_key(p.src);
        let (dfam, dst) = addr_key(p.dst);
        Keys {
            fam,
            src,
            dst: (dfam == fam).then_some(dst),
            later: p.is_later_fragment(),
            ack_rst: p.tcp_flags & (TCP_ACK | TCP_RST) != 0,
        }
    }
}

fn matches_keyed(rule: &Rule, p: &Packet, k: &Keys) -> bool {
    if rule.family.is_some_and(|f| f != k.fam) {
        return false;
    }
    if let Some(n) = rule.proto.number(k.fam) {
        if n != p.protocol {
            return false;
        }
    }
    if k.later
        && (rule.proto.has_ports()
            || rule.sport.is_some()
            || rule.dport.is_some()
            || rule.established)
    {
        return false;
    }
    if rule.family.is_some() {
        if !rule.src.contains_bits(k.src) {
            return false;
        }
        if !k.dst.is_some_and(|d| rule.dst.contains_bits(d)) {
            return false;
        }
    }
    if rule.sport.is_some_and(|m| !m.matches(p.src_port)) {
        return false;
    }
    if rule.dport.is_some_and(|m| !m.matches(p.dst_port)) {
        return false;
    }
    if rule.established && !k.ack_rst {
        return false;
    }
    rule.window.active(p.time)
}

/// The linear reference evaluator: first match wins, then the later-fragment pass, then the
/// implicit deny. Simple on purpose; the compiled classifier is tested against it.
pub fn reference(rules: &[Rule], p: &Packet) -> Verdict {
    let keys = Keys::of(p);
    for (i, r) in rules.iter().enumerate() {
        if matches_keyed(r, p, &keys) {
            return Verdict {
                action: r.action,
                by: Decided::Rule(i),
            };
        }
    }
    if p.is_later_port_fragment() {
        Verdict::FRAGMENT
    } else {
        Verdict::IMPLICIT
    }
}
