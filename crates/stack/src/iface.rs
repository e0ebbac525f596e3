//! Interfaces: seed 001's `lo`, `se` (Ethernet on a link) and `pd` (a secondary address on an
//! `se` interface); their addresses, flags and counters.

use crate::ConfigError;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;
use wire::EthernetAddress;
use wire::Ipv4Prefix;

pub use wire::Encapsulation;

/// The smallest MTU an interface may have (RFC 791's 68).
pub const MIN_MTU: u16 = 68;
/// The largest: seed 001's jumbo frames.
pub const MAX_MTU: u16 = 9000;

/// An interface's index in its stack (stable while the interface exists; SNMP's ifIndex is this + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfaceId(pub u16);

impl IfaceId {
    /// The index as a `usize`.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// The kind of an interface, from its name's letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IfaceKind {
    /// `lo`: software loopback.
    Loopback,
    /// `se`: Ethernet on a link.
    Ethernet,
    /// `pd`: a secondary address on an `se` interface.
    Pseudo,
}

impl IfaceKind {
    /// The name's letters.
    pub fn prefix(self) -> &'static str {
        match self {
            IfaceKind::Loopback => "lo",
            IfaceKind::Ethernet => "se",
            IfaceKind::Pseudo => "pd",
        }
    }
}

/// A validated interface name: a kind and a unit number (`se0`, `pd12`, `lo0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterfaceName {
    /// The kind.
    pub kind: IfaceKind,
    /// The unit.
    pub unit: u16,
}

impl FromStr for InterfaceName {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let lower = s.to_ascii_lowercase();
        let split = lower
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(lower.len());
        let (letters, digits) = lower.split_at(split);
        let bad = || ConfigError::BadName(s.to_string());
        let kind = match letters {
            "lo" => IfaceKind::Loopback,
            "se" => IfaceKind::Ethernet,
            "pd" => IfaceKind::Pseudo,
            "sl" | "ppp" | "rp" | "gif" | "stf" | "dn" | "dnip" => {
                return Err(ConfigError::NotSupportedYet(letters.to_string()))
            }
            _ => return Err(bad()),
        };
        if digits.is_empty() || digits.len() > 5 || (digits.len() > 1 && digits.starts_with('0')) {
            return Err(bad());
        }
        let unit: u16 = digits.parse().map_err(|_| bad())?;
        // Seed 001: up to 500 pseudo devices.
        if kind == IfaceKind::Pseudo && unit >= 500 {
            return Err(bad());
        }
        Ok(InterfaceName { kind, unit })
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind.prefix(), self.unit)
    }
}

/// Interface flags, as `SHOW INTERFACE` and `ifconfig` print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IfaceFlags(pub u16);

impl IfaceFlags {
    /// Administratively up.
    pub const UP: IfaceFlags = IfaceFlags(0x1);
    /// Broadcast address valid.
    pub const BROADCAST: IfaceFlags = IfaceFlags(0x2);
    /// Loopback.
    pub const LOOPBACK: IfaceFlags = IfaceFlags(0x8);
    /// Point-to-point link.
    pub const POINTOPOINT: IfaceFlags = IfaceFlags(0x10);
    /// The link is running (operationally up).
    pub const RUNNING: IfaceFlags = IfaceFlags(0x40);
    /// No ARP on this interface.
    pub const NOARP: IfaceFlags = IfaceFlags(0x80);
    /// Multicast capable.
    pub const MULTICAST: IfaceFlags = IfaceFlags(0x8000);

    const NAMES: [(IfaceFlags, &'static str); 7] = [
        (IfaceFlags::UP, "UP"),
        (IfaceFlags::BROADCAST, "BROADCAST"),
        (IfaceFlags::LOOPBACK, "LOOPBACK"),
        (IfaceFlags::POINTOPOINT, "POINTOPOINT"),
        (IfaceFlags::RUNNING, "RUNNING"),
        (IfaceFlags::NOARP, "NOARP"),
        (IfaceFlags::MULTICAST, "MULTICAST"),
    ];

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: IfaceFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets or clears `other`.
    pub fn set(&mut self, other: IfaceFlags, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }
}

impl BitOr for IfaceFlags {
    type Output = IfaceFlags;
    fn bitor(self, o: IfaceFlags) -> IfaceFlags {
        IfaceFlags(self.0 | o.0)
    }
}

impl BitOrAssign for IfaceFlags {
    fn bitor_assign(&mut self, o: IfaceFlags) {
        self.0 |= o.0;
    }
}

impl fmt::Display for IfaceFlags {
    /// `UP,BROADCAST,RUNNING,MULTICAST`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (flag, name) in Self::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Per-interface counters: seed 001's Ipkts Ierrs Opkts Oerrs Collis, and what IF-MIB's ifTable
/// and ifXTable need (64-bit, so the HC counters come straight from these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Frames received (Ipkts).
    pub ipkts: u64,
    /// Frames received with errors (Ierrs, ifInErrors).
    pub ierrs: u64,
    /// Frames sent (Opkts).
    pub opkts: u64,
    /// Frames that could not be sent (Oerrs, ifOutErrors).
    pub oerrs: u64,
    /// Collisions (Collis; always 0 on the links we drive, kept for the layout).
    pub collis: u64,
    /// ifHCInOctets.
    pub in_octets: u64,
    /// ifHCInUcastPkts.
    pub in_ucast: u64,
    /// ifHCInMulticastPkts.
    pub in_mcast: u64,
    /// ifHCInBroadcastPkts.
    pub in_bcast: u64,
    /// ifInDiscards (well-formed, but dropped: filter, queue full, not for us).
    pub in_discards: u64,
    /// ifInUnknownProtos.
    pub in_unknown_protos: u64,
    /// ifHCOutOctets.
    pub out_octets: u64,
    /// ifHCOutUcastPkts.
    pub out_ucast: u64,
    /// ifHCOutMulticastPkts.
    pub out_mcast: u64,
    /// ifHCOutBroadcastPkts.
    pub out_bcast: u64,
    /// ifOutDiscards.
    pub out_discards: u64,
}

/// One interface.
#[derive(Debug, Clone)]
pub struct Interface {
    pub(crate) id: IfaceId,
    pub(crate) name: InterfaceName,
    /// The hardware address (se) or the parent's (pd); zero for lo.
    pub(crate) mac: EthernetAddress,
    /// For pd: the se interface it rides on. For se and lo: itself.
    pub(crate) link: IfaceId,
    pub(crate) addr: Option<(Ipv4Addr, Ipv4Prefix)>,
    pub(crate) broadcast: Option<Ipv4Addr>,
    pub(crate) mtu: u16,
    pub(crate) encapsulation: Encapsulation,
    pub(crate) flags: IfaceFlags,
    pub(crate) counters: Counters,
    /// Seconds-since-origin of the last up/down change (ifLastChange), in the caller's time.
    pub(crate) last_change: crate::Instant,
}

impl Interface {
    /// The stack's index for it.
    pub fn id(&self) -> IfaceId {
        self.id
    }
    /// The name (`se0`).
    pub fn name(&self) -> InterfaceName {
        self.name
    }
    /// The kind.
    pub fn kind(&self) -> IfaceKind {
        self.name.kind
    }
    /// The hardware address.
    pub fn mac(&self) -> EthernetAddress {
        self.mac
    }
    /// The interface whose link carries its frames (its parent for pd, itself otherwise).
    pub fn link(&self) -> IfaceId {
        self.link
    }
    /// The address.
    pub fn addr(&self) -> Option<Ipv4Addr> {
        self.addr.map(|a| a.0)
    }
    /// The network (address and mask).
    pub fn network(&self) -> Option<Ipv4Prefix> {
        self.addr.map(|a| a.1)
    }
    /// The subnet mask.
    pub fn mask(&self) -> Option<Ipv4Addr> {
        self.addr.map(|a| a.1.mask())
    }
    /// The broadcast address in use: the non-standard one if set, else the all-ones host part.
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        if !self.flags.contains(IfaceFlags::BROADCAST) {
            return None;
        }
        self.broadcast.or(self.addr.map(|a| a.1.broadcast()))
    }
    /// The non-standard broadcast address, if set.
    pub fn nonstandard_broadcast(&self) -> Option<Ipv4Addr> {
        self.broadcast
    }
    /// The MTU.
    pub fn mtu(&self) -> u16 {
        self.mtu
    }
    /// ETHERNET or 802.2.
    pub fn encapsulation(&self) -> Encapsulation {
        self.encapsulation
    }
    /// The flags.
    pub fn flags(&self) -> IfaceFlags {
        self.flags
    }
    /// Administratively and operationally up.
    pub fn is_up(&self) -> bool {
        self.flags.contains(IfaceFlags::UP | IfaceFlags::RUNNING)
    }
    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    /// When it last went up or down.
    pub fn last_change(&self) -> crate::Instant {
        self.last_change
    }
    /// The largest IP datagram the link carries.
    pub(crate) fn ip_mtu(&self) -> usize {
        usize::from(self.mtu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n: InterfaceName = "SE0".parse().unwrap();
        assert_eq!(n.to_string(), "se0");
        assert_eq!(
            "pd12".parse::<InterfaceName>().unwrap().kind,
            IfaceKind::Pseudo
        );
        for k in ["sl0", "ppp1", "rp0", "gif2", "stf0"] {
            assert!(matches!(
                k.parse::<InterfaceName>(),
                Err(ConfigError::NotSupportedYet(_))
            ));
            let msg = k.parse::<InterfaceName>().unwrap_err().to_string();
            assert!(msg.contains("not supported yet"), "{msg}");
        }
        for bad in ["", "se", "xx0", "se01", "se-1", "pd500", "se999999"] {
            assert!(
                matches!(bad.parse::<InterfaceName>(), Err(ConfigError::BadName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn flags_display() {
        let f =
            IfaceFlags::UP | IfaceFlags::BROADCAST | IfaceFlags::RUNNING | IfaceFlags::MULTICAST;
        assert_eq!(f.to_string(), "UP,BROADCAST,RUNNING,MULTICAST");
    }
}
