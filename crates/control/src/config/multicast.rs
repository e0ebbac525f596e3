//! A UDP service's multicast groups (`multicast = ["239.1.2.3", "224.0.1.1%se0"]` in
//! `servers.toml`): a group address, and optionally the interface to join it on.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One group a service joins: `GROUP` (joined on the interface of each of the service's IPv4
/// `listen` addresses) or `GROUP%IFACE` (joined on that interface only: a stack interface such as
/// `se0`, or a Linux interface such as `eth0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MulticastGroup {
    /// The group, in 224.0.0.0/4.
    pub group: Ipv4Addr,
    /// The interface named after `%`, if any.
    pub interface: Option<String>,
}

/// Why a multicast group did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MulticastError {
    /// Not an IPv4 address.
    #[error("`{0}` is not an IPv4 address (expected GROUP or GROUP%INTERFACE)")]
    Address(String),
    /// An address outside 224.0.0.0/4.
    #[error("`{0}` is not a multicast address (224.0.0.0 to 239.255.255.255)")]
    NotMulticast(Ipv4Addr),
    /// `%` with nothing (or something unusable) after it.
    #[error("`{0}`: the interface after `%` must be a name such as se0 or eth0")]
    Interface(String),
}

impl FromStr for MulticastGroup {
    type Err = MulticastError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, interface) = match s.split_once('%') {
            Some((a, i)) => {
                // Linux interface names are at most 15 bytes, without spaces or slashes.
                let ok = !i.is_empty()
                    && i.len() <= 15
                    && i.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
                if !ok {
                    return Err(MulticastError::Interface(s.to_string()));
                }
                (a, Some(i.to_string()))
            }
            None => (s, None),
        };
        let group: Ipv4Addr = addr
            .parse()
            .map_err(|_| MulticastError::Address(addr.to_string()))?;
        if !group.is_multicast() {
            return Err(MulticastError::NotMulticast(group));
        }
        Ok(MulticastGroup { group, interface })
    }
}

impl fmt::Display for MulticastGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.interface {
            Some(i) => write!(f, "{}%{i}", self.group),
            None => write!(f, "{}", self.group),
        }
    }
}

impl Serialize for MulticastGroup {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MulticastGroup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_with_and_without_an_interface() {
        let g: MulticastGroup = "239.1.2.3".parse().unwrap();
        assert_eq!(g.group, Ipv4Addr::new(239, 1, 2, 3));
        assert_eq!(g.interface, None);
        let g: MulticastGroup = "224.0.1.1%se0".parse().unwrap();
        assert_eq!(g.interface.as_deref(), Some("se0"));
        assert_eq!(g.to_string(), "224.0.1.1%se0");
        assert_eq!(g.to_string().parse::<MulticastGroup>().unwrap(), g);
    }

    #[test]
    fn refuses_what_is_not_a_group() {
        assert_eq!(
            "10.0.0.1".parse::<MulticastGroup>(),
            Err(MulticastError::NotMulticast(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(
            "240.0.0.1".parse::<MulticastGroup>(),
            Err(MulticastError::NotMulticast(Ipv4Addr::new(240, 0, 0, 1)))
        );
        assert!(matches!(
            "ff02::1".parse::<MulticastGroup>(),
            Err(MulticastError::Address(_))
        ));
        assert!(matches!(
            "239.1.2.3%".parse::<MulticastGroup>(),
            Err(MulticastError::Interface(_))
        ));
        assert!(matches!(
            "239.1.2.3%a/b".parse::<MulticastGroup>(),
            Err(MulticastError::Interface(_))
        ));
    }
}
