//! IPv4 and IPv6 prefixes in CIDR notation.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated CIDR prefix: the address has no bits set beyond the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("`{0}` is not an IPv4 or IPv6 address")]
    BadAddress(String),
    /// The length is not a number within the family's range.
    #[error("prefix length `{len}` out of range 0-{max}")]
    BadLength {
        /// The length as written.
        len: String,
        /// The family's maximum.
        max: u8,
    },
    /// Bits are set beyond the prefix length (e.g. `10.1.0.0/8`).
    #[error("`{written}` has host bits set beyond /{len}; did you mean `{suggested}`?")]
    HostBits {
        /// The prefix as written.
        written: String,
        /// Its length.
        len: u8,
        /// The prefix with the host bits cleared.
        suggested: String,
    },
}

impl IpPrefix {
    /// A prefix from an address and length, clearing nothing: fails when host bits are set.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, PrefixError> {
        let max = max_len(addr);
        if len > max {
            return Err(PrefixError::BadLength {
                len: len.to_string(),
                max,
            });
        }
        let masked = mask(addr, len);
        if masked != addr {
            return Err(PrefixError::HostBits {
                written: format!("{addr}/{len}"),
                len,
                suggested: format!("{masked}/{len}"),
            });
        }
        Ok(Self { addr, len })
    }

    /// The prefix holding exactly one address.
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            len: max_len(addr),
        }
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// True for `/0`, which matches every address of its family.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `ip` lies inside this prefix. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is
    /// treated as the IPv4 address it carries, so dual-stack sockets obey IPv4 rules.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.len) == self.addr
            }
            _ => false,
        }
    }
}

/// `ip` with an IPv4-mapped IPv6 address turned into plain IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;

    /// `a.b.c.d/n`, `x:y::z/n`, or a bare address (a host prefix). `0/0` is accepted as the
    /// MultiNet shorthand for `0.0.0.0/0`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr_text, len_text) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = if addr_text == "0" {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            addr_text
                .parse()
                .map_err(|_| PrefixError::BadAddress(addr_text.to_string()))?
        };
        let max = max_len(addr);
        let len = match len_text {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => {
                    return Err(PrefixError::BadLength {
                        len: l.to_string(),
                        max,
                    })
                }
            },
        };
        Self::new(addr, len)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl Serialize for IpPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_matches() {
        let p: IpPrefix = "10.0.0.0/8".parse().unwrap();
        assert!(p.contains("10.200.1.1".parse().unwrap()));
        assert!(!p.contains("11.0.0.1".parse().unwrap()));
        assert!(p.contains("::ffff:10.1.2.3".parse().unwrap()));
        let any: IpPrefix = "0/0".parse().unwrap();
        assert!(any.contains("192.0.2.1".parse().unwrap()));
        assert!(!any.contains("::1".parse().unwrap()));
        let v6: IpPrefix = "fe80::/10".parse().unwrap();
        assert!(v6.contains("fe80::1".parse().unwrap()));
        let host: IpPrefix = "::1".parse().unwrap();
        assert_eq!(host.len(), 128);
    }

    #[test]
    fn refuses_host_bits_with_a_suggestion() {
        let err = "10.1.0.0/8".parse::<IpPrefix>().unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/8"), "{err}");
        assert!(matches!(
            "1.2.3.4/33".parse::<IpPrefix>(),
            Err(PrefixError::BadLength { .. })
        ));
        assert!(matches!(
            "nonsense/8".parse::<IpPrefix>(),
            Err(PrefixError::BadAddress(_))
        ));
    }

    proptest! {
        #[test]
        fn display_round_trips(bits in any::<u32>(), len in 0u8..=32) {
            let p = IpPrefix::new(mask(IpAddr::V4(Ipv4Addr::from(bits)), len), len).unwrap();
            prop_assert_eq!(p.to_string().parse::<IpPrefix>().unwrap(), p);
            prop_assert!(p.contains(IpAddr::V4(Ipv4Addr::from(bits))));
        }

        #[test]
        fn never_panics(s in ".{0,60}") {
            let _ = s.parse::<IpPrefix>();
        }
    }
}
