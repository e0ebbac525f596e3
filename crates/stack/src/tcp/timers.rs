//! A connection's timers: retransmission (RFC 6298 with exponential backoff; go-back-N from
//! SND.UNA with the loss window, RFC 5681), delayed ACK, zero-window probes (persist),
//! keepalive (RFC 9293 3.8.4), TIME-WAIT and an orphan's FIN-WAIT-2 limit.

use super::conn::{Conn, Env};
use super::{TcpError, TcpState};
use wire::tcp::TcpFlags;

impl Conn {
    /// Runs the timers due at `env.now`.
    pub(crate) fn on_timer(&mut self, env: &mut Env<'_>) {
        let now = env.now;
        let due = |t: Option<crate::Instant>| t.is_some_and(|t| t <= now);
        if due(self.close_at) {
            self.close_at = None;
            if matches!(self.state, TcpState::TimeWait | TcpState::FinWait2) {
                self.close_with(None);
                return;
            }
        }
        if due(self.rto_at) {
            self.rto_at = None;
            self.on_rto(env);
            if self.state == TcpState::Closed {
                return;
            }
        }
        if due(self.persist_at) {
            self.persist_at = None;
            self.persist_backoff += 1;
            self.on_persist(env);
            self.arm_persist(now);
        }
        if due(self.keepalive_at) {
            if self.keepalive_sent >= env.cfg.keepalive_probes {
                self.close_with(Some(TcpError::TimedOut));
                return;
            }
            if matches!(self.state, TcpState::Established | TcpState::CloseWait) {
                self.keepalive_sent += 1;
                self.emit(env, self.snd_una - 1, TcpFlags::ACK, None, None);
                self.keepalive_at = Some(now + env.cfg.keepalive_interval);
            } else {
                self.keepalive_at = None;
            }
        }
        if due(self.rack.timer) {
            self.rack.timer = None;
            let srtt = self.rtt.srtt;
            if self.rack.detect(now, srtt) {
                self.maybe_enter_recovery(env);
                self.output(env);
            }
        }
        if due(self.tlp_at) {
            self.tlp_at = None;
            if self.snd_max > self.snd_una && self.recovery.is_none() {
                self.send_tlp(env);
            }
        }
        if due(self.delack_at) {
            self.delack_at = None;
            if self.ack_pending > 0 || self.ack_soon {
                self.ack_now = true;
                self.output(env);
            }
        }
    }

    fn on_rto(&mut self, env: &mut Env<'_>) {
        if self.snd_una == self.snd_max {
            return;
        }
        self.retries += 1;
        let syn = matches!(self.state, TcpState::SynSent | TcpState::SynReceived);
        let limit = if syn {
            env.cfg.max_syn_retries
        } else {
            env.cfg.max_retries
        };
        if self.retries > limit {
            if syn {
                env.stats.attempt_fails += 1;
            }
            let err = self.soft_error.unwrap_or(TcpError::TimedOut);
            self.close_with(Some(err));
            return;
        }
        self.backoff += 1;
        self.rtt_seq = None;
        env.stats.rto_timeouts += 1;
        if syn {
            self.emit(env, self.iss, TcpFlags::SYN, None, None);
            return;
        }
        let flight = self.snd_max.since(self.snd_una) as u32;
        // RFC 6582: no fast retransmit for what was outstanding at the timeout.
        if self.recovery.is_none() || self.retries == 1 {
            self.cc.on_rto(flight, u32::from(self.mss));
        } else {
            self.cc.cwnd = u32::from(self.mss);
        }
        self.recovery = None;
        self.recover_guard = Some(self.snd_max);
        self.dupacks = 0;
        // RFC 2018 8: SACK information may be reneged; start again from SND.UNA.
        self.sb.ranges.clear();
        self.rack.reset();
        self.tlp_at = None;
        self.tlp_end = None;
        self.snd_nxt = self.snd_una;
        self.output(env);
        if self.rto_at.is_none() && self.snd_una != self.snd_max && self.persist_at.is_none() {
            self.rto_at = Some(env.now + self.rto());
        }
    }
}
