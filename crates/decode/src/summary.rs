//! The protocol hierarchy for `/SUMMARY`: one line per protocol and per message type with
//! its count, in seed 002's words (`MOP [reserve console] 7`, `NSP [connect init] 14`).

use std::fmt;

use crate::model::Packet;

/// The display name of a protocol.
pub fn protocol_display(proto: &str) -> &str {
    match proto {
        "eth" => "Ethernet",
        "llc" => "LLC",
        "vlan" => "802.1Q",
        "arp" => "ARP",
        "rarp" => "RARP",
        "ip" => "IP",
        "ip6" => "IPv6",
        "icmp" => "ICMP",
        "icmp6" => "ICMPv6",
        "tcp" => "TCP",
        "udp" => "UDP",
        "gre" => "GRE",
        "rp" => "RP",
        "nsp" => "NSP",
        "scp" => "SCP",
        "dap" => "DAP",
        "cterm" => "CTERM",
        "mop" => "MOP",
        "loop" => "MOP",
        "lat" => "LAT",
        "stp" => "STP",
        "lavc" => "LAVC",
        "nice" => "NICE",
        "mirror" => "MIRROR",
        "multinet" => "Multinet",
        "ddcmp" => "DDCMP",
        "data" => "Data",
        "null" => "Loopback",
        "sll" => "Linux cooked",
        other => other,
    }
}

/// A protocol's display name, its count, and its message types with theirs.
type ProtoCount = (&'static str, u64, Vec<(&'static str, u64)>);

/// Counts of protocols and message types over the packets added.
///
/// ```
/// let mut s = decode::Summary::default();
/// let f = [0xab, 0, 0, 2, 0, 0, 8, 0, 0x2b, 1, 2, 3, 0x60, 0x02, 9, 0, 13, 1, 2, 3, 4, 5, 6, 7, 8];
/// s.add(&decode::Decoder::new().decode(&f, decode::LinkType::Ethernet));
/// assert!(s.to_string().contains("MOP [reserve console] 1"));
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    packets: u64,
    /// (display protocol, count, [(message, count)]) in first-seen order.
    protos: Vec<ProtoCount>,
}

impl Summary {
    /// Counts one packet: each protocol once, each message type once per message.
    pub fn add(&mut self, pkt: &Packet) {
        self.packets += 1;
        let mut seen: Vec<&'static str> = Vec::with_capacity(8);
        for l in &pkt.layers {
            let name = static_display(l.proto);
            let idx = match self.protos.iter().position(|p| p.0 == name) {
                Some(i) => i,
                None => {
                    self.protos.push((name, 0, Vec::new()));
                    self.protos.len() - 1
                }
            };
            let Some(entry) = self.protos.get_mut(idx) else {
                continue;
            };
            if !seen.contains(&name) {
                seen.push(name);
                entry.1 += 1;
            }
            if let Some(m) = l.msg {
                match entry.2.iter_mut().find(|(n, _)| *n == m) {
                    Some(e) => e.1 += 1,
                    None => entry.2.push((m, 1)),
                }
            }
        }
    }

    /// Packets counted.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The count of a protocol (display name, e.g. `NSP`) or message (`NSP [connect init]`).
    pub fn count(&self, key: &str) -> u64 {
        for (p, n, msgs) in &self.protos {
            if *p == key {
                return *n;
            }
            for (m, c) in msgs {
                if key
                    .strip_prefix(p)
                    .and_then(|k| k.strip_prefix(" ["))
                    .and_then(|k| k.strip_suffix(']'))
                    == Some(m)
                {
                    return *c;
                }
            }
        }
        0
    }
}

fn static_display(proto: &'static str) -> &'static str {
    let d = protocol_display(proto);
    // protocol_display returns either a literal or its argument, both 'static here.
    match d {
        "Ethernet" => "Ethernet",
        _ => STATIC_NAMES
            .iter()
            .find(|n| **n == d)
            .copied()
            .unwrap_or(proto),
    }
}

const STATIC_NAMES: &[&str] = &[
    "LLC",
    "802.1Q",
    "ARP",
    "RARP",
    "IP",
    "IPv6",
    "ICMP",
    "ICMPv6",
    "TCP",
    "UDP",
    "GRE",
    "RP",
    "NSP",
    "SCP",
    "DAP",
    "CTERM",
    "MOP",
    "LAT",
    "STP",
    "LAVC",
    "NICE",
    "MIRROR",
    "Multinet",
    "DDCMP",
    "Data",
    "Loopback",
    "Linux cooked",
];

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Protocol hierarchy ({} packets)", self.packets)?;
        for (p, n, msgs) in &self.protos {
            writeln!(f, "{p} {n}")?;
            for (m, c) in msgs {
                writeln!(f, "  {p} [{m}] {c}")?;
            }
        }
        Ok(())
    }
}
