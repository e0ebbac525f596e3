//! Congestion control: NewReno (RFC 5681 with RFC 3465's byte counting; the recovery itself,
//! RFC 6582 and RFC 6675, runs in the connection) and CUBIC (RFC 9438), and the RTO estimator
//! (RFC 6298).

use super::CongestionAlgorithm;
use crate::Instant;
use std::time::Duration;

/// A congestion controller's state: the window in bytes and what the algorithm remembers.
#[derive(Debug, Clone)]
pub(crate) struct Cc {
    pub(crate) algo: CongestionAlgorithm,
    pub(crate) cwnd: u32,
    pub(crate) ssthresh: u32,
    /// Bytes acknowledged towards the next +1 MSS in congestion avoidance (NewReno).
    acked_acc: u32,
    // CUBIC (RFC 9438 section 4): windows in segments.
    w_max: f64,
    w_last_max: f64,
    k: f64,
    epoch: Option<Instant>,
    /// The Reno-friendly estimate (W_est).
    w_est: f64,
    cwnd_at_epoch: f64,
}

/// RFC 9438's C.
const CUBIC_C: f64 = 0.4;
/// RFC 9438's multiplicative decrease factor.
const CUBIC_BETA: f64 = 0.7;

impl Cc {
    /// RFC 6928's initial window.
    pub(crate) fn new(algo: CongestionAlgorithm, mss: u32) -> Cc {
        Cc {
            algo,
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            acked_acc: 0,
            w_max: 0.0,
            w_last_max: 0.0,
            k: 0.0,
            epoch: None,
            w_est: 0.0,
            cwnd_at_epoch: 0.0,
        }
    }

    /// New data acknowledged outside recovery.
    pub(crate) fn on_ack(&mut self, acked: u32, mss: u32, srtt: Option<Duration>, now: Instant) {
        if self.cwnd < self.ssthresh {
            // RFC 3465 with L = 2 SMSS.
            self.cwnd = self.cwnd.saturating_add(acked.min(2 * mss));
            return;
        }
        match self.algo {
            CongestionAlgorithm::NewReno => self.reno_ca(acked, mss),
            CongestionAlgorithm::Cubic => self.cubic_ca(acked, mss, srtt, now),
        }
    }

    fn reno_ca(&mut self, acked: u32, mss: u32) {
        self.acked_acc = self.acked_acc.saturating_add(acked);
        if self.acked_acc >= self.cwnd {
            self.acked_acc -= self.cwnd;
            self.cwnd = self.cwnd.saturating_add(mss);
        }
    }

    fn cubic_ca(&mut self, acked: u32, mss: u32, srtt: Option<Duration>, now: Instant) {
        let m = f64::from(mss);
        let cwnd_seg = f64::from(self.cwnd) / m;
        let epoch = match self.epoch {
            Some(e) => e,
            None => {
                // A new congestion avoidance epoch (RFC 9438 section 4.2).
                self.epoch = Some(now);
                if self.w_max < cwnd_seg {
                    self.k = 0.0;
                    self.w_max = cwnd_seg;
                } else {
                    self.k = ((self.w_max - cwnd_seg) / CUBIC_C).cbrt();
                }
                self.w_est = cwnd_seg;
                self.cwnd_at_epoch = cwnd_seg;
                now
            }
        };
        let rtt = srtt.unwrap_or(Duration::from_millis(100)).as_secs_f64();
        let t = now.saturating_duration_since(epoch).as_secs_f64();
        let target =
            (CUBIC_C * (t + rtt - self.k).powi(3) + self.w_max).clamp(cwnd_seg, 1.5 * cwnd_seg);
        // Reno-friendly region (section 4.3), alpha for beta = 0.7.
        let alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
        let seg_acked = f64::from(acked) / m;
        self.w_est += alpha * seg_acked / cwnd_seg;
        let grow = if self.w_est > target {
            // Reno-friendly: grow as Reno would.
            (self.w_est - cwnd_seg).max(0.0) * m
        } else {
            (target - cwnd_seg) / cwnd_seg * m * seg_acked
        };
        self.acked_acc = self.acked_acc.saturating_add(grow as u32);
        if self.acked_acc > 0 {
            let inc = self.acked_acc.min(mss);
            self.cwnd = self.cwnd.saturating_add(inc);
            self.acked_acc -= inc;
        }
    }

    /// Loss detected by duplicate ACKs or SACK: the new ssthresh, and cwnd for recovery.
    pub(crate) fn on_loss(&mut self, flight: u32, mss: u32) {
        self.acked_acc = 0;
        match self.algo {
            CongestionAlgorithm::NewReno => {
                self.ssthresh = (flight / 2).max(2 * mss);
            }
            CongestionAlgorithm::Cubic => {
                let cwnd_seg = f64::from(self.cwnd) / f64::from(mss);
                // Fast convergence (section 4.7).
                self.w_max = if cwnd_seg < self.w_last_max {
                    cwnd_seg * (1.0 + CUBIC_BETA) / 2.0
                } else {
                    cwnd_seg
                };
                self.w_last_max = cwnd_seg;
                self.epoch = None;
                let base = self.cwnd.min(flight.max(mss));
                self.ssthresh = ((f64::from(base) * CUBIC_BETA) as u32).max(2 * mss);
            }
        }
        self.cwnd = self.ssthresh;
    }

    /// Retransmission timeout: back to one segment (RFC 5681 section 3.1).
    pub(crate) fn on_rto(&mut self, flight: u32, mss: u32) {
        let cwnd = self.cwnd;
        self.on_loss(flight, mss);
        if self.algo == CongestionAlgorithm::Cubic {
            self.ssthresh = ((f64::from(cwnd) * CUBIC_BETA) as u32).max(2 * mss);
        }
        self.cwnd = mss;
    }

    /// After an idle period longer than the RTO, restart from the initial window (RFC 5681
    /// section 4.1).
    pub(crate) fn on_idle_restart(&mut self, mss: u32) {
        self.cwnd = self.cwnd.min(initial_window(mss));
        self.epoch = None;
    }
}

fn initial_window(mss: u32) -> u32 {
    (10 * mss).min((2 * mss).max(14600))
}

/// RFC 6298's estimator.
#[derive(Debug, Clone)]
pub(crate) struct Rtt {
    pub(crate) srtt: Option<Duration>,
    pub(crate) rttvar: Duration,
    pub(crate) rto: Duration,
    min: Duration,
    max: Duration,
}

impl Rtt {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> Rtt {
        // A configuration with the bounds crossed must not panic in `clamp`.
        let max = max.max(min);
        Rtt {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial.clamp(min, max),
            min,
            max,
        }
    }

    /// One measurement.
    pub(crate) fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                let diff = s.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((s * 7 + r) / 8);
            }
        }
        let s = self.srtt.unwrap_or(r);
        // G (clock granularity) is our 1 ms timestamp tick.
        let k = (self.rttvar * 4).max(Duration::from_millis(1));
        self.rto = (s + k).clamp(self.min, self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_estimator() {
        let mut r = Rtt::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(60),
        );
        assert_eq!(r.rto, Duration::from_secs(1));
        r.sample(Duration::from_millis(100));
        assert_eq!(r.srtt, Some(Duration::from_millis(100)));
        assert_eq!(r.rttvar, Duration::from_millis(50));
        assert_eq!(r.rto, Duration::from_millis(300));
        r.sample(Duration::from_millis(100));
        assert_eq!(r.rttvar, Duration::from_micros(37500));
        assert_eq!(r.rto, Duration::from_millis(250));
        for _ in 0..50 {
            r.sample(Duration::from_millis(1));
        }
        assert_eq!(r.rto, Duration::from_millis(200), "clamped at rto_min");
    }

    #[test]
    fn reno_and_cubic_windows() {
        let mss = 1000;
        let now = Instant::from_secs(1);
        let mut c = Cc::new(CongestionAlgorithm::NewReno, mss);
        assert_eq!(c.cwnd, 10_000);
        c.on_ack(1000, mss, None, now);
        assert_eq!(c.cwnd, 11_000, "slow start");
        c.on_loss(20_000, mss);
        assert_eq!((c.ssthresh, c.cwnd), (10_000, 10_000));
        for _ in 0..10 {
            c.on_ack(1000, mss, None, now);
        }
        assert_eq!(c.cwnd, 11_000, "one MSS per window");
        c.on_rto(11_000, mss);
        assert_eq!((c.ssthresh, c.cwnd), (5_500, 1000));

        let mut c = Cc::new(CongestionAlgorithm::Cubic, mss);
        c.cwnd = 100_000;
        c.on_loss(100_000, mss);
        assert_eq!(c.cwnd, 70_000, "beta 0.7");
        let rtt = Some(Duration::from_millis(10));
        let mut t = now;
        let mut last = c.cwnd;
        for _ in 0..2000 {
            t = t + Duration::from_millis(1);
            c.on_ack(1000, mss, rtt, t);
            assert!(c.cwnd >= last);
            last = c.cwnd;
        }
        // K = cbrt(30 * 1000/1000 / 0.4) ≈ 4.2 s: after 2 s it is well below W_max, concave.
        assert!(c.cwnd > 70_000 && c.cwnd < 100_000, "{}", c.cwnd);
    }
}
