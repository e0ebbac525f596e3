//! RACK-TLP (RFC 8985) for SACK connections: every transmitted segment is remembered with its
//! send time; a segment is lost when one sent after it was delivered (cumulatively or by SACK)
//! more than an RTT plus a reordering window ago. The window starts at a quarter of the minimum
//! RTT and grows when DSACKs (RFC 2883) show retransmissions were spurious.

use super::seq::SeqNum;
use crate::Instant;
use std::collections::VecDeque;
use std::time::Duration;

/// One transmitted stretch of sequence space.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentSeg {
    pub(crate) start: SeqNum,
    pub(crate) end: SeqNum,
    pub(crate) xmit: Instant,
    pub(crate) rexmit: bool,
    pub(crate) sacked: bool,
    pub(crate) lost: bool,
}

impl SentSeg {
    fn len(&self) -> usize {
        self.end.since(self.start)
    }
}

/// The per-connection RACK state and the transmitted segments in sequence order.
#[derive(Debug, Default)]
pub(crate) struct Rack {
    pub(crate) segs: VecDeque<SentSeg>,
    /// Send time and end of the most recently sent segment known delivered.
    xmit: Option<Instant>,
    end: SeqNum,
    /// RTT of that segment.
    rtt: Duration,
    pub(crate) min_rtt: Option<Duration>,
    /// Multiplier of min_rtt/4 for the reordering window (raised by DSACKs).
    pub(crate) reo_mult: u32,
    pub(crate) sacked_bytes: usize,
    pub(crate) lost_bytes: usize,
    /// When to look again for segments that become lost by the clock alone.
    pub(crate) timer: Option<Instant>,
    /// An RTT sample from this ACK: the newest delivered segment never retransmitted (Karn).
    sample: Option<Duration>,
}

impl Rack {
    pub(crate) fn new() -> Rack {
        Rack {
            reo_mult: 1,
            ..Rack::default()
        }
    }

    /// Forgets everything (after an RTO everything outstanding goes again).
    pub(crate) fn reset(&mut self) {
        for s in &mut self.segs {
            s.sacked = false;
            s.lost = false;
        }
        self.sacked_bytes = 0;
        self.lost_bytes = 0;
        self.timer = None;
    }

    /// Index of the segment holding `seq`.
    fn find(&self, seq: SeqNum) -> Option<usize> {
        let i = self.segs.partition_point(|s| s.end <= seq);
        (i < self.segs.len() && self.segs[i].start <= seq).then_some(i)
    }

    /// Splits so that a segment starts at `seq` (if one holds it strictly inside).
    fn split_at(&mut self, seq: SeqNum) {
        if let Some(i) = self.find(seq) {
            let s = self.segs[i];
            if s.start < seq && seq < s.end {
                self.segs[i].end = seq;
                let mut tail = s;
                tail.start = seq;
                self.segs.insert(i + 1, tail);
            }
        }
    }

    /// A transmission of `start..end` at `now` (new data, or a retransmission).
    pub(crate) fn on_send(&mut self, start: SeqNum, end: SeqNum, now: Instant) {
        if end <= start {
            return;
        }
        let last_end = self.segs.back().map(|s| s.end);
        if last_end.is_none_or(|e| start >= e) {
            self.segs.push_back(SentSeg {
                start,
                end,
                xmit: now,
                rexmit: false,
                sacked: false,
                lost: false,
            });
            return;
        }
        self.split_at(start);
        self.split_at(end);
        let Some(mut i) = self.find(start) else {
            return;
        };
        while i < self.segs.len() && self.segs[i].start < end {
            let s = &mut self.segs[i];
            s.xmit = now;
            s.rexmit = true;
            if s.lost {
                s.lost = false;
                self.lost_bytes -= s.len().min(self.lost_bytes);
            }
            i += 1;
        }
        // Past what was ever sent (after go-back-N the tail may be new again).
        if let Some(e) = self.segs.back().map(|s| s.end) {
            if end > e {
                self.on_send(e, end, now);
            }
        }
    }

    fn deliver(&mut self, s: SentSeg, now: Instant) {
        let rtt = now.saturating_duration_since(s.xmit);
        if s.rexmit && self.min_rtt.is_some_and(|m| rtt < m) {
            // Ambiguous: the ACK may be for the original transmission.
            return;
        }
        if !s.rexmit {
            self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        let newer = match self.xmit {
            None => true,
            Some(x) => s.xmit > x || (s.xmit == x && s.end > self.end),
        };
        if newer {
            self.xmit = Some(s.xmit);
            self.end = s.end;
            self.rtt = rtt;
            if !s.rexmit {
                self.sample = Some(rtt);
            }
        }
    }

    /// SND.UNA moved to `una` and these blocks were SACKed. Returns an RTT sample (send times
    /// are exact, where timestamps tick in milliseconds).
    pub(crate) fn on_ack(
        &mut self,
        una: SeqNum,
        blocks: &[(SeqNum, SeqNum)],
        now: Instant,
    ) -> Option<Duration> {
        self.sample = None;
        while let Some(s) = self.segs.front().copied() {
            if s.end > una {
                break;
            }
            self.segs.pop_front();
            if s.sacked {
                self.sacked_bytes -= s.len().min(self.sacked_bytes);
            } else {
                if s.lost {
                    self.lost_bytes -= s.len().min(self.lost_bytes);
                }
                self.deliver(s, now);
            }
        }
        if let Some(f) = self.segs.front_mut() {
            if f.start < una {
                let cut = una.since(f.start);
                if f.lost {
                    self.lost_bytes -= cut.min(self.lost_bytes);
                }
                if f.sacked {
                    self.sacked_bytes -= cut.min(self.sacked_bytes);
                }
                f.start = una;
            }
        }
        for &(l, r) in blocks {
            // A super-segment (TSO) may be SACKed in part: cut it at the block's edges so the
            // SACKed part is never sent again.
            self.split_at(l);
            self.split_at(r);
            let mut i = self.segs.partition_point(|s| s.end <= l);
            while i < self.segs.len() && self.segs[i].start < r {
                let s = self.segs[i];
                if !s.sacked && l <= s.start && s.end <= r {
                    self.segs[i].sacked = true;
                    self.sacked_bytes += s.len();
                    if s.lost {
                        self.segs[i].lost = false;
                        self.lost_bytes -= s.len().min(self.lost_bytes);
                    }
                    self.deliver(s, now);
                }
                i += 1;
            }
        }
        self.sample.take()
    }

    /// A DSACK: a retransmission was not needed; widen the reordering window.
    pub(crate) fn on_dsack(&mut self) {
        self.reo_mult = (self.reo_mult + 1).min(16);
    }

    /// Marks segments lost by RFC 8985 6.2's rule; returns whether any became lost.
    pub(crate) fn detect(&mut self, now: Instant, srtt: Option<Duration>) -> bool {
        let Some(rx) = self.xmit else {
            return false;
        };
        let base = self.min_rtt.unwrap_or(self.rtt) / 4 * self.reo_mult;
        let reo_wnd = srtt.map_or(base, |s| base.min(s));
        let mut newly = false;
        let mut next: Option<Instant> = None;
        for s in self.segs.iter_mut() {
            if s.start >= self.end {
                break;
            }
            if s.sacked || s.lost {
                continue;
            }
            if !(s.xmit < rx || (s.xmit == rx && s.end < self.end)) {
                continue;
            }
            let deadline = s.xmit + self.rtt + reo_wnd;
            if deadline <= now {
                s.lost = true;
                self.lost_bytes += s.end.since(s.start);
                newly = true;
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        self.timer = next;
        newly
    }

    /// The first segment marked lost: (start, end).
    pub(crate) fn first_lost(&self) -> Option<(SeqNum, SeqNum)> {
        self.segs
            .iter()
            .find(|s| s.lost && !s.sacked)
            .map(|s| (s.start, s.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(us: u64) -> Instant {
        Instant::from_nanos(us * 1000)
    }

    #[test]
    fn time_based_loss_and_reordering_window() {
        let mut r = Rack::new();
        let b = SeqNum(100);
        for k in 0..5usize {
            r.on_send(b + k * 100, b + (k + 1) * 100, t(k as u64 * 10));
        }
        // Segment 0 lost, 1..=3 SACKed 1000 µs later (RTT ~ 1 ms).
        let blocks = [(b + 100, b + 400)];
        r.on_ack(b, &blocks, t(1030));
        assert_eq!(r.sacked_bytes, 300);
        // reo_wnd = min_rtt / 4 ≈ 250 µs: not lost yet at 1030 µs (deadline 0 + 1000 + 250).
        assert!(!r.detect(t(1030), None));
        assert!(r.timer.is_some());
        assert!(r.detect(t(1300), None));
        assert_eq!(r.first_lost(), Some((b, b + 100)));
        assert_eq!(r.lost_bytes, 100);
        // The retransmission clears the mark; its ACK pops everything up to the SACKed part.
        r.on_send(b, b + 100, t(1310));
        assert_eq!(r.lost_bytes, 0);
        r.on_ack(b + 400, &[], t(2400));
        assert_eq!(r.segs.len(), 1);
        assert_eq!(r.sacked_bytes, 0);
        // A DSACK widens the window.
        r.on_dsack();
        assert_eq!(r.reo_mult, 2);
    }

    #[test]
    fn partial_sack_splits() {
        let mut r = Rack::new();
        let b = SeqNum(0);
        r.on_send(b, b + 4000, t(0));
        r.on_ack(b, &[(b + 1000, b + 4000)], t(500));
        assert_eq!(r.sacked_bytes, 3000);
        assert!(r.detect(t(2000), None));
        assert_eq!(r.first_lost(), Some((b, b + 1000)), "only the hole is lost");
        assert_eq!(r.lost_bytes, 1000);
    }

    #[test]
    fn partial_retransmission_splits() {
        let mut r = Rack::new();
        let b = SeqNum(0);
        r.on_send(b, b + 3000, t(0));
        r.on_send(b + 1000, b + 2000, t(50));
        assert_eq!(r.segs.len(), 3);
        assert!(r.segs[1].rexmit && !r.segs[0].rexmit && !r.segs[2].rexmit);
        r.on_ack(b + 1500, &[], t(100));
        assert_eq!(r.segs[0].start, b + 1500);
    }
}
