//! Sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 section 3.4), so that
//! `a < b` means "a comes before b within half the sequence space".

use std::cmp::Ordering;
use std::ops::{Add, Sub};

/// A TCP sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct SeqNum(pub(crate) u32);

impl SeqNum {
    /// The larger of two (modulo comparison).
    pub(crate) fn max(self, o: SeqNum) -> SeqNum {
        if self < o {
            o
        } else {
            self
        }
    }

    /// The smaller of two (modulo comparison).
    pub(crate) fn min(self, o: SeqNum) -> SeqNum {
        if self < o {
            self
        } else {
            o
        }
    }

    /// Bytes from `earlier` to `self`, 0 when `earlier` is not earlier.
    pub(crate) fn since(self, earlier: SeqNum) -> usize {
        let d = self.0.wrapping_sub(earlier.0) as i32;
        if d < 0 {
            0
        } else {
            d as usize
        }
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, o: &SeqNum) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for SeqNum {
    /// Modulo 2^32: the sign of the 32-bit difference. (Not transitive over the whole space,
    /// as no sequence order is; it is within any window under 2^31.)
    fn cmp(&self, o: &SeqNum) -> Ordering {
        (self.0.wrapping_sub(o.0) as i32).cmp(&0)
    }
}

impl Add<usize> for SeqNum {
    type Output = SeqNum;
    fn add(self, n: usize) -> SeqNum {
        SeqNum(self.0.wrapping_add(n as u32))
    }
}

impl Sub<usize> for SeqNum {
    type Output = SeqNum;
    fn sub(self, n: usize) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n as u32))
    }
}

impl std::fmt::Display for SeqNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps() {
        let a = SeqNum(u32::MAX - 5);
        let b = a + 10;
        assert_eq!(b.0, 4);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b.since(a), 10);
        assert_eq!(a.since(b), 0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert_eq!(b - 10, a);
    }
}
