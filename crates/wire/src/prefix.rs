//! IP prefixes, the one place Maynard keeps them: [`Ipv4Prefix`] for the stack's routing table and
//! interface networks, [`IpPrefix`] (IPv4 or IPv6) for access rules and packet filters.
//!
//! Both hold the invariant "no bit set beyond the prefix length", checked once on construction.
//! Text goes through one parser (`a.b.c.d/n`, `x:y::z/n`, a bare address for a host, `0/0`); its
//! errors quote the text as written. The numeric constructors' errors quote the numbers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Address width in bits.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The netmask of `len` bits (clamped to the family's width) as an integer; IPv4 sits in the
    /// low 32 bits, the encoding of [`IpPrefix::bits`].
    pub fn mask(self, len: u8) -> u128 {
        match self {
            Family::V4 => u128::from(ipv4_mask(len)),
            Family::V6 => {
                let len = u32::from(len.min(128));
                // checked_shl: a shift by the full width (len 0) is the empty mask.
                u128::MAX.checked_shl(128 - len).unwrap_or(0)
            }
        }
    }
}

/// The IPv4 netmask of `len` bits (clamped to 32) as an integer.
#[inline]
pub const fn ipv4_mask(len: u8) -> u32 {
    let len = if len > 32 { 32 } else { len };
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned into plain IPv4, so that
/// dual-stack sockets obey IPv4 rules.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// `addr` as an integer, IPv4 in the low 32 bits.
fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of `family` whose integer is `bits` (IPv4 takes the low 32 bits).
fn from_bits(family: Family, bits: u128) -> IpAddr {
    match family {
        // Truncation keeps the low 32 bits, where the encoding puts an IPv4 address.
        Family::V4 => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// Why a prefix or mask is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Text: the address part is not an IPv4 or IPv6 address.
    #[error("`{0}` is not an IPv4 or IPv6 address")]
    BadAddress(String),
    /// Text: the address part is not an IPv4 address where only IPv4 will do.
    #[error("`{0}` is not an IPv4 address")]
    NotIpv4(String),
    /// Text: the length is not a number within the family's range.
    #[error("prefix length `{len}` out of range 0-{max}")]
    BadLength {
        /// The length as written.
        len: String,
        /// The family's maximum.
        max: u8,
    },
    /// Text: bits are set beyond the prefix length (e.g. `10.1.0.0/8`).
    #[error("`{written}` has host bits set beyond /{len}; did you mean `{suggested}`?")]
    HostBits {
        /// The prefix as written.
        written: String,
        /// Its length.
        len: u8,
        /// The prefix with the host bits cleared.
        suggested: String,
    },
    /// A numeric length over the family's width.
    #[error("prefix length {len} is over {max}")]
    Length {
        /// The length given.
        len: u8,
        /// The family's maximum.
        max: u8,
    },
    /// A numeric network address with host bits set.
    #[error("{addr}/{len} has host bits set")]
    NotNetwork {
        /// The address given.
        addr: IpAddr,
        /// The length given.
        len: u8,
    },
    /// A subnet mask whose one bits are not contiguous.
    #[error("subnet mask {0} is not contiguous")]
    Mask(Ipv4Addr),
}

/// The one text parser: `a.b.c.d/n`, `x:y::z/n`, or a bare address (a host prefix); `0/0` is the
/// MultiNet shorthand for `0.0.0.0/0`. Host bits are refused with the cleared prefix suggested.
fn parse_text(s: &str) -> Result<IpPrefix, PrefixError> {
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
    let max = Family::of(addr).bits();
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
    let p = IpPrefix::containing(addr, len)?;
    if p.addr != addr {
        return Err(PrefixError::HostBits {
            written: format!("{addr}/{len}"),
            len,
            suggested: p.to_string(),
        });
    }
    Ok(p)
}

/// A validated CIDR prefix of either family: the address has no bits set beyond the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// `addr/len`; fails when the length is too long or host bits are set.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, PrefixError> {
        let p = Self::containing(addr, len)?;
        if p.addr != addr {
            return Err(PrefixError::NotNetwork { addr, len });
        }
        Ok(p)
    }

    /// The prefix of length `len` that contains `addr` (host bits cleared).
    pub fn containing(addr: IpAddr, len: u8) -> Result<Self, PrefixError> {
        let family = Family::of(addr);
        let max = family.bits();
        if len > max {
            return Err(PrefixError::Length { len, max });
        }
        Ok(Self {
            addr: from_bits(family, to_bits(addr) & family.mask(len)),
            len,
        })
    }

    /// The prefix of `len` bits containing the address whose integer is `bits` (see
    /// [`IpPrefix::bits`]); host bits are cleared. `None` if `len` is too long for the family.
    pub fn from_bits(family: Family, bits: u128, len: u8) -> Option<Self> {
        Self::containing(from_bits(family, bits & family.mask(family.bits())), len).ok()
    }

    /// The prefix matching every address of `family` (`/0`).
    pub fn any(family: Family) -> Self {
        Self {
            addr: from_bits(family, 0),
            len: 0,
        }
    }

    /// The prefix holding exactly one address.
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            len: Family::of(addr).bits(),
        }
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The network address as an integer, IPv4 in the low 32 bits.
    pub fn bits(&self) -> u128 {
        to_bits(self.addr)
    }

    /// The family.
    pub fn family(&self) -> Family {
        Family::of(self.addr)
    }

    /// The prefix length in bits.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// True for `/0`, which matches every address of its family.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first and last address covered, as integers (see [`IpPrefix::bits`]).
    pub fn range(&self) -> (u128, u128) {
        let family = self.family();
        let host = family.mask(family.bits()) & !family.mask(self.len);
        (self.bits(), self.bits() | host)
    }

    /// Whether `ip` lies inside this prefix. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is
    /// treated as the IPv4 address it carries, so dual-stack sockets obey IPv4 rules.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        Family::of(ip) == self.family() && self.contains_bits(to_bits(ip))
    }

    /// Whether the address whose integer is `bits`, taken to be of this prefix's family, lies
    /// inside. The packet filter's fast form: it keys packets by integer once.
    #[inline]
    pub fn contains_bits(&self, bits: u128) -> bool {
        bits & self.family().mask(self.len) == self.bits()
    }

    /// Whether every address of `inner` lies inside this prefix.
    pub fn covers(&self, inner: &IpPrefix) -> bool {
        self.family() == inner.family() && self.len <= inner.len && self.contains_bits(inner.bits())
    }
}

impl From<Ipv4Prefix> for IpPrefix {
    fn from(p: Ipv4Prefix) -> Self {
        Self {
            addr: IpAddr::V4(p.network),
            len: p.len,
        }
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;

    /// See the module's parser: `a.b.c.d/n`, `x:y::z/n`, a bare address, or `0/0`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_text(s)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// The control protocol and the configuration files carry a prefix as its text.
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

/// An IPv4 network: `network/len` with every host bit zero. Invariant checked on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Prefix {
    network: Ipv4Addr,
    len: u8,
}

impl Ipv4Prefix {
    /// 0.0.0.0/0, the default route's destination.
    pub const DEFAULT: Ipv4Prefix = Ipv4Prefix {
        network: Ipv4Addr::UNSPECIFIED,
        len: 0,
    };

    /// `network/len`; host bits must be zero.
    pub fn new(network: Ipv4Addr, len: u8) -> Result<Self, PrefixError> {
        let p = Self::containing(network, len)?;
        if p.network != network {
            return Err(PrefixError::NotNetwork {
                addr: IpAddr::V4(network),
                len,
            });
        }
        Ok(p)
    }

    /// The prefix of length `len` that contains `addr` (host bits cleared).
    pub fn containing(addr: Ipv4Addr, len: u8) -> Result<Self, PrefixError> {
        if len > 32 {
            return Err(PrefixError::Length { len, max: 32 });
        }
        Ok(Ipv4Prefix {
            network: Ipv4Addr::from(u32::from(addr) & ipv4_mask(len)),
            len,
        })
    }

    /// A host route's prefix, `addr/32`.
    pub fn host(addr: Ipv4Addr) -> Self {
        Ipv4Prefix {
            network: addr,
            len: 32,
        }
    }

    /// The length of a contiguous `mask` (255.255.255.0 → 24).
    pub fn mask_len(mask: Ipv4Addr) -> Result<u8, PrefixError> {
        let m = u32::from(mask);
        // leading_ones of a u32 is at most 32, so the cast is exact.
        let len = m.leading_ones() as u8;
        if m != ipv4_mask(len) {
            return Err(PrefixError::Mask(mask));
        }
        Ok(len)
    }

    /// The network containing `addr` under `mask`.
    pub fn from_mask(addr: Ipv4Addr, mask: Ipv4Addr) -> Result<Self, PrefixError> {
        Self::containing(addr, Self::mask_len(mask)?)
    }

    /// The network address.
    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is 0.0.0.0/0.
    pub fn is_default(&self) -> bool {
        self.len == 0
    }

    /// The subnet mask.
    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(ipv4_mask(self.len))
    }

    /// The all-ones broadcast address of the network.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !ipv4_mask(self.len))
    }

    /// Whether `addr` is in the network.
    #[inline]
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & ipv4_mask(self.len) == u32::from(self.network)
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = PrefixError;

    /// The module's parser, IPv4 only.
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        let p = parse_text(s)?;
        match p.addr {
            IpAddr::V4(network) => Ok(Ipv4Prefix {
                network,
                len: p.len,
            }),
            IpAddr::V6(a) => Err(PrefixError::NotIpv4(a.to_string())),
        }
    }
}

#[cfg(test)]
mod tests;
