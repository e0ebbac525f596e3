//! The sender's SACK scoreboard (RFC 2018, RFC 6675): which ranges above SND.UNA the peer holds.

use super::seq::SeqNum;

/// The ranges of our data the peer has selectively acknowledged (RFC 2018), sorted and disjoint.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scoreboard {
    pub(crate) ranges: Vec<(SeqNum, SeqNum)>,
}

impl Scoreboard {
    /// Adds a reported block (already checked to lie in SND.UNA..SND.MAX).
    pub(crate) fn add(&mut self, l: SeqNum, r: SeqNum) {
        if r <= l {
            return;
        }
        let (mut l, mut r) = (l, r);
        self.ranges.retain(|&(a, b)| {
            if b < l || a > r {
                true
            } else {
                l = l.min(a);
                r = r.max(b);
                false
            }
        });
        let at = self.ranges.iter().position(|(a, _)| *a > l);
        match at {
            Some(i) => self.ranges.insert(i, (l, r)),
            None => self.ranges.push((l, r)),
        }
    }

    /// Forgets what lies below SND.UNA.
    pub(crate) fn trim(&mut self, una: SeqNum) {
        self.ranges.retain(|&(_, b)| b > una);
        if let Some(f) = self.ranges.first_mut() {
            f.0 = f.0.max(una);
        }
    }

    pub(crate) fn sacked_bytes(&self) -> usize {
        self.ranges.iter().map(|(a, b)| b.since(*a)).sum()
    }

    pub(crate) fn highest(&self) -> Option<SeqNum> {
        self.ranges.last().map(|r| r.1)
    }

    /// The first unsacked range at or after `from` and before `limit`.
    pub(crate) fn next_hole(&self, from: SeqNum, limit: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let mut at = from;
        for &(a, b) in &self.ranges {
            if at >= limit {
                return None;
            }
            if at < a {
                return Some((at, a.min(limit)));
            }
            at = at.max(b);
        }
        (at < limit).then_some((at, limit))
    }

    /// Unsacked bytes between `from` and `to`.
    pub(crate) fn hole_bytes(&self, from: SeqNum, to: SeqNum) -> usize {
        let mut n = 0;
        let mut at = from;
        while let Some((a, b)) = self.next_hole(at, to) {
            n += b.since(a);
            at = b;
        }
        n
    }

    /// RFC 6675's IsLost boundary: holes below it have at least `thresh` sacked bytes above.
    pub(crate) fn lost_edge(&self, thresh: usize) -> Option<SeqNum> {
        let mut above = 0;
        for &(a, b) in self.ranges.iter().rev() {
            above += b.since(a);
            if above >= thresh {
                return Some(a);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoreboard() {
        let mut s = Scoreboard::default();
        let b = SeqNum(1000);
        s.add(b + 300, b + 400);
        s.add(b + 100, b + 200);
        s.add(b + 150, b + 310);
        assert_eq!(s.ranges, vec![(b + 100, b + 400)]);
        s.add(b + 500, b + 600);
        assert_eq!(s.sacked_bytes(), 400);
        assert_eq!(s.next_hole(b, b + 700), Some((b, b + 100)));
        assert_eq!(s.next_hole(b + 100, b + 700), Some((b + 400, b + 500)));
        assert_eq!(s.next_hole(b + 600, b + 600), None);
        assert_eq!(s.hole_bytes(b, b + 600), 200);
        assert_eq!(s.lost_edge(150), Some(b + 100));
        assert_eq!(s.lost_edge(100), Some(b + 500));
        assert_eq!(s.lost_edge(1000), None);
        s.trim(b + 350);
        assert_eq!(s.ranges[0], (b + 350, b + 400));
        assert_eq!(s.highest(), Some(b + 600));
    }
}
