//! [`Ipv4Prefix`]: a validated network prefix (address with host bits zero, length ≤ 32).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Why a prefix or mask is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Length over 32.
    #[error("prefix length {0} is over 32")]
    Length(u8),
    /// Host bits set in a network address.
    #[error("{0}/{1} has host bits set")]
    HostBits(Ipv4Addr, u8),
    /// A mask whose one bits are not contiguous.
    #[error("subnet mask {0} is not contiguous")]
    Mask(Ipv4Addr),
    /// Text that is not `a.b.c.d/len`.
    #[error("bad prefix syntax {0:?}")]
    Syntax(String),
}

/// An IPv4 network: `network/len` with every host bit zero. Invariant checked on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Prefix {
    network: Ipv4Addr,
    len: u8,
}

/// The mask of a prefix length (≤ 32).
#[inline]
pub(crate) fn mask_bits(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

impl Ipv4Prefix {
    /// 0.0.0.0/0, the default route's destination.
    pub const DEFAULT: Ipv4Prefix = Ipv4Prefix {
        network: Ipv4Addr::UNSPECIFIED,
        len: 0,
    };

    /// `network/len`; host bits must be zero.
    pub fn new(network: Ipv4Addr, len: u8) -> Result<Self, PrefixError> {
        if len > 32 {
            return Err(PrefixError::Length(len));
        }
        if u32::from(network) & !mask_bits(len) != 0 {
            return Err(PrefixError::HostBits(network, len));
        }
        Ok(Ipv4Prefix { network, len })
    }

    /// The prefix of length `len` that contains `addr` (host bits cleared).
    pub fn containing(addr: Ipv4Addr, len: u8) -> Result<Self, PrefixError> {
        if len > 32 {
            return Err(PrefixError::Length(len));
        }
        Ok(Ipv4Prefix {
            network: Ipv4Addr::from(u32::from(addr) & mask_bits(len)),
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
        let len = m.leading_ones();
        if m != mask_bits(len as u8) {
            return Err(PrefixError::Mask(mask));
        }
        Ok(len as u8)
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
        Ipv4Addr::from(mask_bits(self.len))
    }

    /// The all-ones broadcast address of the network.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask_bits(self.len))
    }

    /// Whether `addr` is in the network.
    #[inline]
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & mask_bits(self.len) == u32::from(self.network)
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        let bad = || PrefixError::Syntax(s.to_string());
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, l),
            None => (s, "32"),
        };
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        Ipv4Prefix::new(addr, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p: Ipv4Prefix = "10.1.0.0/16".parse().unwrap();
        assert!(p.contains(Ipv4Addr::new(10, 1, 2, 3)));
        assert!(!p.contains(Ipv4Addr::new(10, 2, 0, 0)));
        assert_eq!(p.mask(), Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(p.broadcast(), Ipv4Addr::new(10, 1, 255, 255));
        assert!("10.1.0.1/16".parse::<Ipv4Prefix>().is_err());
        assert!("10.1.0.0/33".parse::<Ipv4Prefix>().is_err());
        assert_eq!(
            Ipv4Prefix::mask_len(Ipv4Addr::new(255, 255, 255, 0)),
            Ok(24)
        );
        assert!(Ipv4Prefix::mask_len(Ipv4Addr::new(255, 0, 255, 0)).is_err());
        assert_eq!(Ipv4Prefix::mask_len(Ipv4Addr::UNSPECIFIED), Ok(0));
        assert!(Ipv4Prefix::DEFAULT.contains(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(p.to_string(), "10.1.0.0/16");
    }
}
