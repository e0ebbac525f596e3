//! Segment arrival for a connection (RFC 9293 section 3.10.7), with PAWS (RFC 7323), the
//! RFC 5961 defences (challenge ACKs for in-window RSTs and SYNs and for unacceptable ACKs),
//! SACK (RFC 2018) scoreboard updates, and the start and end of loss recovery (RFC 6582,
//! RFC 6675).

use super::cc::Cc;
use super::conn::{Conn, Env, Recovery};
use super::seq::SeqNum;
use super::{TcpError, TcpState};
use std::time::Duration;
use wire::tcp::{TcpFlags, TcpRepr};

/// RFC 7323 5.5: a ts_recent older than 24 days is no base for PAWS.
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 3600);

impl Conn {
    /// Takes the options of the peer's SYN (RFC 7323 and RFC 2018: each only if both offer it).
    pub(crate) fn take_syn_options(&mut self, env: &Env<'_>, seg: &TcpRepr) {
        self.peer_mss = seg.max_seg_size.unwrap_or(536).max(64);
        match seg.window_scale {
            Some(s) if env.cfg.window_scaling => {
                self.ws_ok = true;
                self.snd_wscale = s.min(14);
            }
            _ => {
                self.ws_ok = false;
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        self.sack_ok = seg.sack_permitted && env.cfg.sack;
        // RFC 3168 6.1.1: a SYN asking for ECN carries ECE and CWR, the SYN-ACK accepting it
        // ECE alone.
        let (ece, cwr) = (
            seg.flags.contains(TcpFlags::ECE),
            seg.flags.contains(TcpFlags::CWR),
        );
        self.ecn_ok = if seg.flags.ack() {
            env.cfg.ecn == super::TcpEcn::On && ece && !cwr
        } else {
            env.cfg.ecn != super::TcpEcn::Off && ece && cwr
        };
        match seg.timestamp {
            Some((tsval, _)) if env.cfg.timestamps => {
                self.ts_ok = true;
                self.ts_recent = tsval;
                self.ts_recent_at = env.now;
            }
            _ => self.ts_ok = false,
        }
        self.set_mss(env.path);
        self.cc = Cc::new(self.cc.algo, u32::from(self.mss));
    }

    /// One segment for this connection (any state but LISTEN; SYN-SENT apart).
    pub(crate) fn input(&mut self, env: &mut Env<'_>, seg: &TcpRepr, payload: &[u8]) {
        self.last_rx = env.now;
        if self.keepalive && self.keepalive_at.is_some() {
            self.keepalive_at = Some(env.now + env.cfg.keepalive_idle);
        }
        self.keepalive_sent = 0;
        if self.state == TcpState::SynSent {
            self.input_syn_sent(env, seg);
            self.output(env);
            return;
        }
        if self.state == TcpState::Closed {
            return;
        }
        let mut seq = SeqNum(seg.seq_number);
        let mut flags = seg.flags;
        let mut data = payload;
        // Simultaneous open: the peer's SYN-ACK repeats the SYN we already took.
        if self.state == TcpState::SynReceived && flags.syn() && seq + 1 == self.rcv_nxt {
            if !flags.ack() {
                // The peer's SYN again: our SYN-ACK was lost.
                self.send_ack(env);
                return;
            }
            flags.set(TcpFlags::SYN, false);
            seq = seq + 1;
        }
        // PAWS.
        if self.ts_ok && !flags.rst() {
            if let Some((tsval, _)) = seg.timestamp {
                let fresh = env.now.saturating_duration_since(self.ts_recent_at) < PAWS_IDLE;
                if (tsval.wrapping_sub(self.ts_recent) as i32) < 0 && fresh {
                    self.send_ack(env);
                    return;
                }
            }
        }
        // Acceptability (RFC 9293 3.10.7.4, first check), against the window the peer was told
        // (the scaled field may round up past the buffer's room: see `window_to_advertise`).
        let wnd = self
            .rcv_adv
            .max(self.rcv_adv_sent)
            .since(self.rcv_nxt)
            .max(self.rbuf.window().min(1));
        let seg_len = data.len() + usize::from(flags.syn()) + usize::from(flags.fin());
        let in_wnd = |s: SeqNum| self.rcv_nxt <= s && s < self.rcv_nxt + wnd;
        let acceptable = match (seg_len, wnd) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => in_wnd(seq),
            (_, 0) => false,
            (n, _) => in_wnd(seq) || in_wnd(seq + (n - 1)),
        };
        // A zero window still takes ACKs and RSTs at RCV.NXT.
        let acceptable = acceptable || (seq == self.rcv_nxt && (data.is_empty() || wnd == 0));
        if !acceptable {
            if !flags.rst() {
                if !data.is_empty() && seq < self.rcv_nxt {
                    // RFC 2883: tell the sender this was a duplicate.
                    let end = (seq + data.len()).min(self.rcv_nxt);
                    self.dsack = Some((seq, end));
                }
                self.send_ack(env);
            }
            return;
        }
        // RFC 7323 4.3: remember the timestamp of a segment covering RCV.NXT.
        if let Some((tsval, _)) = seg.timestamp {
            if self.ts_ok && seq <= self.rcv_nxt && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0
            {
                self.ts_recent = tsval;
                self.ts_recent_at = env.now;
            }
        }
        // RST (RFC 5961 3.2).
        if flags.rst() {
            if seq == self.rcv_nxt {
                self.input_reset(env);
            } else {
                self.challenge_ack(env);
            }
            return;
        }
        // ECN, receiver's side (RFC 3168 6.1.3): a CE mark on data is echoed with ECE until a
        // segment with CWR says the sender has reduced its window.
        if self.ecn_ok {
            if flags.contains(TcpFlags::CWR) {
                self.ece_echo = false;
            }
            if env.ce && !data.is_empty() {
                env.stats.ce_received += 1;
                self.ece_echo = true;
                self.ack_now = true;
            }
        }
        // Trim to the window: before RCV.NXT, and past the right edge.
        if seq < self.rcv_nxt {
            let mut skip = self.rcv_nxt.since(seq);
            if flags.syn() {
                flags.set(TcpFlags::SYN, false);
                skip -= 1;
                seq = seq + 1;
            }
            let n = skip.min(data.len());
            if n > 0 {
                self.dsack = Some((seq, seq + n));
                self.ack_now = true;
            }
            data = &data[n..];
            seq = seq + n;
            if skip > n && flags.fin() {
                // The FIN itself was old.
                flags.set(TcpFlags::FIN, false);
            }
        }
        // Past the buffer's room (out-of-order data included): cut, and say so with an ACK
        // (this answers a zero-window probe too). Data inside the window the peer was told is
        // always taken, even the few bytes a rounded-up window field promised beyond the room:
        // cut there, it would leave the peer's SND.NXT past a zero window, where none of its
        // ACKs is acceptable any more, and an echo (both sides full) would stall for good.
        let room_end = self.rcv_nxt + self.rbuf.window();
        let max_end = if self.rcv_adv_sent > room_end {
            self.rcv_adv_sent
        } else {
            room_end
        };
        if seq + data.len() > max_end {
            let keep = if seq < max_end { max_end.since(seq) } else { 0 };
            data = &data[..keep.min(data.len())];
            flags.set(TcpFlags::FIN, false);
            self.ack_now = true;
        }
        // SYN in a synchronized state (RFC 5961 4.2).
        if flags.syn() {
            self.challenge_ack(env);
            return;
        }
        if !flags.ack() {
            return;
        }
        let ack = SeqNum(seg.ack_number);
        if self.state == TcpState::SynReceived {
            if self.snd_una < ack && ack <= self.snd_max {
                self.state = if self.fin_queued {
                    TcpState::FinWait1
                } else {
                    TcpState::Established
                };
                self.was_connected = true;
                self.snd_wnd = u32::from(seg.window_len) << self.snd_wscale;
                self.max_snd_wnd = self.snd_wnd;
                self.snd_wl1 = seq;
                self.snd_wl2 = ack;
                self.wake = true;
                if self.keepalive {
                    self.keepalive_at = Some(env.now + env.cfg.keepalive_idle);
                }
            } else {
                env.stats.out_rsts += 1;
                env.stats.out_segs += 1;
                let rst =
                    super::conn::bare_segment(self.local, self.remote, ack.0, 0, TcpFlags::RST, 0);
                env.out.push(rst);
                return;
            }
        }
        // RFC 5961 5.2: an ACK outside SND.UNA − MAX.SND.WND ..= SND.NXT is challenged.
        let oldest = self.snd_una - (self.max_snd_wnd as usize).max(usize::from(self.mss));
        if ack > self.snd_max || ack < oldest {
            self.challenge_ack(env);
            return;
        }
        let mut blocks = [(SeqNum(0), SeqNum(0)); 4];
        let mut nblocks = 0;
        if self.sack_ok {
            for (k, (l, r)) in seg.sack_ranges.iter().flatten().enumerate() {
                let (l, r) = (SeqNum(*l), SeqNum(*r));
                let dsack = k == 0
                    && (r <= ack
                        || seg.sack_ranges[1]
                            .is_some_and(|(l2, r2)| SeqNum(l2) <= l && r <= SeqNum(r2)));
                if dsack {
                    self.rack.on_dsack();
                    env.stats.dsacks_received += 1;
                    continue;
                }
                if self.snd_una < r && r <= self.snd_max && l < r {
                    let l = l.max(self.snd_una);
                    self.sb.add(l, r);
                    blocks[nblocks] = (l, r);
                    nblocks += 1;
                }
            }
        }
        let window = u32::from(seg.window_len) << self.snd_wscale;
        if ack > self.snd_una {
            self.new_ack(env, ack, seg);
        } else if ack == self.snd_una
            && data.is_empty()
            && !flags.fin()
            && self.snd_max > self.snd_una
            && window == self.snd_wnd
        {
            self.dupacks += 1;
            if self.dupacks <= 2 && self.recovery.is_none() && !self.sack_ok {
                // RFC 3042: each of the first two duplicate ACKs lets one new segment out, so a
                // small window still produces the third.
                self.limited_transmit += usize::from(self.mss);
            }
        }
        // ECN, sender's side (RFC 3168 6.1.2): ECE halves the window as a loss would, once per
        // window of data and not during loss recovery (which has reduced it already).
        if self.ecn_ok
            && flags.contains(TcpFlags::ECE)
            && self.recovery.is_none()
            && self.ecn_high.is_none_or(|h| self.snd_una > h)
            && self.state != TcpState::SynReceived
        {
            let flight = self.snd_max.since(self.snd_una) as u32;
            self.cc
                .on_loss(flight.max(u32::from(self.mss)), u32::from(self.mss));
            self.ecn_high = Some(self.snd_max);
            self.cwr_due = true;
            env.stats.ecn_reductions += 1;
        }
        // Window update (RFC 9293 3.10.7.4, fifth check).
        if self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack) {
            let was_zero = self.snd_wnd == 0;
            self.snd_wnd = window;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            if was_zero && window > 0 {
                self.persist_at = None;
                self.persist_backoff = 0;
                self.wake = true;
            }
        }
        if self.sack_ok {
            let una = self.snd_una;
            if let Some(r) = self.rack.on_ack(una, &blocks[..nblocks], env.now) {
                self.rtt.sample(r);
            }
            let srtt = self.rtt.srtt;
            self.rack.detect(env.now, srtt);
            if self.tlp_end.is_some_and(|e| una >= e) {
                self.tlp_end = None;
            }
        }
        self.maybe_enter_recovery(env);
        // Our FIN acknowledged.
        if self.fin_acked() {
            match self.state {
                TcpState::FinWait1 => {
                    self.state = TcpState::FinWait2;
                    self.wake = true;
                    if self.orphan {
                        self.close_at = Some(env.now + env.cfg.msl.saturating_mul(2));
                    }
                }
                TcpState::Closing => self.enter_time_wait(env),
                TcpState::LastAck => {
                    self.close_with(None);
                    return;
                }
                _ => {}
            }
        }
        if self.state == TcpState::TimeWait {
            if flags.fin() {
                self.enter_time_wait(env);
                self.send_ack(env);
            }
            return;
        }
        // Urgent pointer (RFC 9293 3.8.5; RFC 6093: it points after the last urgent byte).
        if flags.urg()
            && matches!(
                self.state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            )
        {
            let up = SeqNum(seg.seq_number) + usize::from(seg.urgent_at);
            if self.rcv_up.is_none_or(|u| up > u) {
                self.rcv_up = Some(up);
                self.wake = true;
            }
        }
        // Data.
        let takes_data = matches!(
            self.state,
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
        );
        if takes_data && !data.is_empty() {
            let had_ooo = self.rbuf.has_ooo();
            let adv = self.rbuf.insert(self.rcv_nxt, seq, data, env.frame);
            self.rcv_nxt = self.rcv_nxt + adv;
            self.bytes_received += adv as u64;
            if adv == 0 || had_ooo {
                // Out of order, or filling a hole: ACK at once (RFC 5681 4.2) so the sender learns.
                self.ack_now = true;
            } else {
                self.ack_pending += 1;
                // A GRO'd super-segment counts as the segments it carries.
                // Both may wait for the end of the driver's batch (`ack_soon`): the ACK then covers
                // every frame of the batch, and each of them asked for one.
                let big = data.len() >= 2 * usize::from(self.mss);
                if !self.delayed_ack || self.ack_pending >= 2 || big {
                    self.ack_soon = true;
                }
            }
            if adv > 0 {
                self.wake = true;
            }
        }
        // FIN.
        if flags.fin() && takes_data {
            let fin_at = seq + data.len();
            if fin_at > self.rcv_nxt {
                self.fin_seq_rcvd = Some(fin_at);
                self.ack_now = true;
            } else if fin_at == self.rcv_nxt {
                self.fin_seq_rcvd = Some(fin_at);
            }
        }
        if takes_data && self.fin_seq_rcvd == Some(self.rcv_nxt) && !self.fin_rcvd {
            self.fin_seq_rcvd = None;
            self.fin_rcvd = true;
            self.rcv_nxt = self.rcv_nxt + 1;
            self.ack_now = true;
            self.wake = true;
            match self.state {
                TcpState::Established => self.state = TcpState::CloseWait,
                TcpState::FinWait1 => {
                    if self.fin_acked() {
                        self.enter_time_wait(env);
                    } else {
                        self.state = TcpState::Closing;
                    }
                }
                TcpState::FinWait2 => self.enter_time_wait(env),
                _ => {}
            }
        }
        self.output(env);
    }

    fn input_reset(&mut self, env: &mut Env<'_>) {
        match self.state {
            TcpState::SynReceived => {
                let err = if self.active_open {
                    Some(TcpError::ConnectionRefused)
                } else {
                    None
                };
                env.stats.attempt_fails += 1;
                self.close_with(err);
            }
            TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::CloseWait => {
                env.stats.estab_resets += 1;
                self.close_with(Some(TcpError::ConnectionReset));
            }
            _ => self.close_with(None),
        }
    }

    pub(crate) fn enter_time_wait(&mut self, env: &Env<'_>) {
        self.state = TcpState::TimeWait;
        self.rto_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.delack_at = None;
        self.close_at = Some(env.now + env.cfg.msl.saturating_mul(2));
        self.wake = true;
    }

    fn input_syn_sent(&mut self, env: &mut Env<'_>, seg: &TcpRepr) {
        let flags = seg.flags;
        let ack = SeqNum(seg.ack_number);
        let ack_ok = flags.ack() && self.iss < ack && ack <= self.snd_max;
        if flags.ack() && !ack_ok {
            if !flags.rst() {
                env.stats.out_rsts += 1;
                env.stats.out_segs += 1;
                env.out.push(super::conn::bare_segment(
                    self.local,
                    self.remote,
                    ack.0,
                    0,
                    TcpFlags::RST,
                    0,
                ));
            }
            return;
        }
        if flags.rst() {
            if ack_ok {
                env.stats.attempt_fails += 1;
                self.close_with(Some(TcpError::ConnectionRefused));
            }
            return;
        }
        if !flags.syn() {
            return;
        }
        self.irs = SeqNum(seg.seq_number);
        self.rcv_nxt = self.irs + 1;
        self.rcv_adv = self.rcv_nxt;
        self.rcv_adv_sent = self.rcv_nxt;
        self.take_syn_options(env, seg);
        if ack_ok {
            self.snd_una = ack;
            self.snd_wnd = u32::from(seg.window_len);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = self.irs;
            self.snd_wl2 = ack;
            self.sample_rtt(env, seg, ack);
            self.backoff = 0;
            self.retries = 0;
            self.rto_at = None;
            self.state = if self.fin_queued {
                TcpState::FinWait1
            } else {
                TcpState::Established
            };
            self.was_connected = true;
            self.ack_now = true;
            self.wake = true;
            if self.keepalive {
                self.keepalive_at = Some(env.now + env.cfg.keepalive_idle);
            }
        } else {
            // Simultaneous open: answer with SYN-ACK.
            self.state = TcpState::SynReceived;
            self.emit(env, self.iss, TcpFlags::SYN, None, None);
        }
    }

    fn sample_rtt(&mut self, env: &Env<'_>, seg: &TcpRepr, ack: SeqNum) {
        if self.sack_ok && self.state != TcpState::SynSent {
            // RACK's exact send times give the samples (see `input`).
            return;
        }
        if self.ts_ok {
            if let Some((_, tsecr)) = seg.timestamp {
                if tsecr != 0 {
                    let ms = self.ts_now(env.now).wrapping_sub(tsecr);
                    if ms < 60_000 {
                        self.rtt.sample(Duration::from_millis(u64::from(ms)));
                    }
                    return;
                }
            }
        }
        if let Some((s, t)) = self.rtt_seq {
            if ack >= s {
                self.rtt.sample(env.now.saturating_duration_since(t));
                self.rtt_seq = None;
            }
        }
    }

    /// SND.UNA advances to `ack`.
    fn new_ack(&mut self, env: &mut Env<'_>, ack: SeqNum, seg: &TcpRepr) {
        let acked = ack.since(self.snd_una);
        if ack > self.sbuf_seq {
            let n = ack.since(self.sbuf_seq).min(self.sbuf.len());
            self.sbuf.drain(n);
            self.sbuf_seq = self.sbuf_seq + n;
        }
        self.sample_rtt(env, seg, ack);
        self.backoff = 0;
        self.retries = 0;
        self.snd_una = ack;
        if self.snd_nxt < ack {
            self.snd_nxt = ack;
        }
        self.sb.trim(ack);
        self.limited_transmit = 0;
        self.wake = true;
        if self.recover_guard.is_some_and(|g| ack >= g) {
            self.recover_guard = None;
        }
        let mss = usize::from(self.mss);
        match self.recovery {
            Some(r) if ack >= r.recover => {
                // Full acknowledgment: recovery is over (RFC 6582 3.2 step 3).
                self.recovery = None;
                self.dupacks = 0;
                let flight = self.snd_max.since(self.snd_una) as u32;
                self.cc.cwnd = self
                    .cc
                    .ssthresh
                    .min(flight + self.mss as u32)
                    .max(self.mss as u32);
            }
            Some(mut r) => {
                // Partial acknowledgment: the next hole goes out now.
                r.rexmit_next = r.rexmit_next.max(ack);
                if !self.sack_ok || self.sb.ranges.is_empty() {
                    r.rexmit_next = ack;
                    r.rexmit_limit = ack + mss;
                    self.dupacks = 0;
                }
                self.recovery = Some(r);
            }
            None => {
                self.dupacks = 0;
                let srtt = self.rtt.srtt;
                self.cc
                    .on_ack(acked as u32, u32::from(self.mss), srtt, env.now);
            }
        }
        self.rto_at = if self.snd_una == self.snd_max {
            None
        } else {
            Some(env.now + self.rto())
        };
    }

    /// Three duplicate ACKs, or SACKed data three segments above a hole: fast retransmit.
    pub(crate) fn maybe_enter_recovery(&mut self, env: &mut Env<'_>) {
        if self.recovery.is_some() || self.snd_max <= self.snd_una {
            return;
        }
        if self.recover_guard.is_some() {
            return;
        }
        let mss = usize::from(self.mss);
        let lost = if self.sack_ok {
            self.rack.lost_bytes > 0
        } else {
            self.dupacks >= 3
        };
        if !lost {
            return;
        }
        let flight = self.snd_max.since(self.snd_una) - self.sb.sacked_bytes();
        self.tlp_at = None;
        self.limited_transmit = 0;
        self.cc.on_loss(flight as u32, mss as u32);
        env.stats.fast_recoveries += 1;
        self.rtt_seq = None;
        self.recovery = Some(Recovery {
            recover: self.snd_max,
            rexmit_next: self.snd_una,
            rexmit_limit: self.snd_una + mss,
        });
    }
}
