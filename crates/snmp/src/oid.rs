//! Object identifiers: a compact representation (short OIDs inline, no heap) with the
//! lexicographic ordering SNMP's GetNext walks in.

use crate::ber::DecodeError;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// RFC 2578: at most 128 sub-identifiers.
pub const MAX_ARCS: usize = 128;
const INLINE: usize = 15;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, arcs: [u32; INLINE] },
    Heap(Box<[u32]>),
}

/// An object identifier. Ordering is lexicographic on the arcs (a prefix sorts first).
#[derive(Clone)]
pub struct Oid(Repr);

impl Oid {
    /// The empty OID (zero arcs); sorts before every other OID.
    pub const fn empty() -> Self {
        Oid(Repr::Inline {
            len: 0,
            arcs: [0; INLINE],
        })
    }

    pub fn new(arcs: &[u32]) -> Self {
        if arcs.len() <= INLINE {
            let mut a = [0u32; INLINE];
            a[..arcs.len()].copy_from_slice(arcs);
            Oid(Repr::Inline {
                len: arcs.len() as u8,
                arcs: a,
            })
        } else {
            Oid(Repr::Heap(arcs.into()))
        }
    }

    pub fn arcs(&self) -> &[u32] {
        match &self.0 {
            Repr::Inline { len, arcs } => &arcs[..usize::from(*len)],
            Repr::Heap(b) => b,
        }
    }

    pub fn len(&self) -> usize {
        self.arcs().len()
    }

    pub fn is_empty(&self) -> bool {
        self.arcs().is_empty()
    }

    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.arcs().starts_with(prefix.arcs())
    }

    /// This OID followed by more arcs.
    pub fn child(&self, more: &[u32]) -> Oid {
        let mut v = Vec::with_capacity(self.len() + more.len());
        v.extend_from_slice(self.arcs());
        v.extend_from_slice(more);
        Oid::new(&v)
    }

    /// The greatest OID within the subtree rooted here (arcs padded with `u32::MAX` to the
    /// maximum length): `next_after(subtree_end(p))` is the first OID outside the subtree.
    pub fn subtree_end(&self) -> Oid {
        let mut v = self.arcs().to_vec();
        while v.len() < MAX_ARCS {
            v.push(u32::MAX);
        }
        Oid::new(&v)
    }

    /// The arcs after `prefix`, if this OID lies under it.
    pub fn suffix(&self, prefix: &Oid) -> Option<&[u32]> {
        self.arcs().strip_prefix(prefix.arcs())
    }

    /// BER contents octets (without tag and length).
    pub fn encode_contents(&self, out: &mut Vec<u8>) {
        let a = self.arcs();
        match a {
            [] => out.extend_from_slice(&[0]),
            [x] => push_arc(out, x.saturating_mul(40)),
            [x, y, rest @ ..] => {
                let first = u64::from(*x) * 40 + u64::from(*y);
                push_arc64(out, first);
                for &r in rest {
                    push_arc(out, r);
                }
            }
        }
    }

    pub fn encoded_len(&self) -> usize {
        let mut v = Vec::new();
        self.encode_contents(&mut v);
        v.len()
    }

    /// Decodes BER contents octets. Arcs above 2^32-1, more than 128 arcs, or a sub-identifier
    /// cut short are refused; redundant leading 0x80 octets are tolerated.
    pub fn decode_contents(c: &[u8]) -> Result<Oid, DecodeError> {
        if c.is_empty() {
            return Err(DecodeError::BadOid);
        }
        let mut arcs: Vec<u32> = Vec::with_capacity(c.len() + 1);
        let mut acc: u64 = 0;
        let mut in_arc = false;
        for &b in c {
            acc = (acc << 7) | u64::from(b & 0x7f);
            in_arc = true;
            if acc > u64::from(u32::MAX) + 80 {
                return Err(DecodeError::BadOid);
            }
            if b & 0x80 == 0 {
                if arcs.is_empty() {
                    let (x, y) = match acc {
                        0..=39 => (0, acc),
                        40..=79 => (1, acc - 40),
                        _ => (2, acc - 80),
                    };
                    arcs.push(x);
                    arcs.push(u32::try_from(y).map_err(|_| DecodeError::BadOid)?);
                } else {
                    arcs.push(u32::try_from(acc).map_err(|_| DecodeError::BadOid)?);
                }
                if arcs.len() > MAX_ARCS {
                    return Err(DecodeError::BadOid);
                }
                acc = 0;
                in_arc = false;
            }
        }
        if in_arc {
            return Err(DecodeError::BadOid);
        }
        Ok(Oid::new(&arcs))
    }
}

fn push_arc(out: &mut Vec<u8>, v: u32) {
    push_arc64(out, u64::from(v))
}

fn push_arc64(out: &mut Vec<u8>, v: u64) {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    let mut v = v;
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8 | if i == tmp.len() - 1 { 0 } else { 0x80 };
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

impl PartialEq for Oid {
    fn eq(&self, other: &Self) -> bool {
        self.arcs() == other.arcs()
    }
}
impl Eq for Oid {}
impl PartialOrd for Oid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Oid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.arcs().cmp(other.arcs())
    }
}
impl Hash for Oid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.arcs().hash(state)
    }
}
impl Default for Oid {
    fn default() -> Self {
        Oid::empty()
    }
}
impl From<&[u32]> for Oid {
    fn from(a: &[u32]) -> Self {
        Oid::new(a)
    }
}
impl From<Vec<u32>> for Oid {
    fn from(a: Vec<u32>) -> Self {
        Oid::new(&a)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.arcs().iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

/// Error parsing a dotted OID string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad OID string")]
pub struct ParseOidError;

impl FromStr for Oid {
    type Err = ParseOidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix('.').unwrap_or(s);
        if s.is_empty() {
            return Ok(Oid::empty());
        }
        let arcs = s
            .split('.')
            .map(|p| p.parse::<u32>().map_err(|_| ParseOidError))
            .collect::<Result<Vec<_>, _>>()?;
        if arcs.len() > MAX_ARCS {
            return Err(ParseOidError);
        }
        Ok(Oid::new(&arcs))
    }
}

/// `oid!(1, 3, 6, 1)` builds an [`Oid`].
#[macro_export]
macro_rules! oid {
    ($($a:expr),* $(,)?) => { $crate::oid::Oid::new(&[$($a),*]) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_known() {
        let o: Oid = "1.3.6.1.2.1.1.1.0".parse().unwrap();
        let mut v = Vec::new();
        o.encode_contents(&mut v);
        assert_eq!(v, [0x2b, 6, 1, 2, 1, 1, 1, 0]);
        assert_eq!(Oid::decode_contents(&v).unwrap(), o);
        let o = Oid::new(&[2, 999, 3]);
        let mut v = Vec::new();
        o.encode_contents(&mut v);
        assert_eq!(v, [0x88, 0x37, 3]);
        assert_eq!(Oid::decode_contents(&v).unwrap(), o);
        assert!(Oid::decode_contents(&[0x2b, 0x86]).is_err());
        assert!(Oid::decode_contents(&[0x2b, 0x90, 0x80, 0x80, 0x80, 0x80, 0]).is_err());
    }

    #[test]
    fn ordering_and_inline() {
        let a = Oid::new(&[1, 3, 6]);
        let b = Oid::new(&[1, 3, 6, 0]);
        let c = Oid::new(&[1, 3, 7]);
        assert!(a < b && b < c);
        let long: Vec<u32> = (0..40).collect();
        let l = Oid::new(&long);
        assert_eq!(l.arcs(), &long[..]);
        assert!(l.starts_with(&Oid::new(&[0, 1, 2])));
        assert!(Oid::new(&[1, 3, 6, u32::MAX]) < a.subtree_end());
        assert!(c > a.subtree_end());
        assert_eq!(a.to_string(), "1.3.6");
    }
}
