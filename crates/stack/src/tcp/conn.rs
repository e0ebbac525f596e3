//! One connection: its state (RFC 9293's TCB) and segment output — new data under the peer's
//! window and the congestion window with Nagle and sender-side silly window avoidance,
//! retransmission of SACK holes in recovery, pure ACKs with receiver-side silly window
//! avoidance, and the options (MSS, window scale, SACK, timestamps).

use super::buffers::{RecvBuf, SendBuf};
use super::cc::{Cc, Rtt};
use super::rack::Rack;
pub(crate) use super::sack::Scoreboard;
use super::seq::SeqNum;
use super::{CongestionAlgorithm, TcpConfig, TcpError, TcpState, TcpStats};
use crate::Instant;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use wire::tcp::{TcpFlags, TcpPacket, TcpRepr};
use wire::PacketBuf;

/// Largest window field value.
const MAX_WINDOW: usize = 65535;
/// Our window scale is the smallest shift that covers the receive buffer, at most 14 (RFC 7323).
pub(crate) fn wscale_for(buf: usize) -> u8 {
    let mut s = 0u8;
    while s < 14 && (MAX_WINDOW << s) < buf {
        s += 1;
    }
    s
}

/// The path a connection's segments take, read from the route before each call that may send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path {
    /// The MTU less 40 (IPv4 and TCP headers without options).
    pub(crate) mss: u16,
    /// The interface takes TSO super-segments.
    pub(crate) tso: bool,
}

/// A finished TCP segment on its way to IPv4.
#[derive(Debug)]
pub(crate) struct SegOut {
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
    pub(crate) buf: PacketBuf,
    /// TSO: the segment is larger than one MSS and carries a partial checksum.
    pub(crate) tso_mss: Option<u16>,
    /// Mark the datagram ECN-capable, ECT(0) (RFC 3168: data of an ECN connection).
    pub(crate) ect: bool,
}

/// What a connection needs from its surroundings during one call.
pub(crate) struct Env<'a> {
    pub(crate) now: Instant,
    pub(crate) cfg: &'a TcpConfig,
    pub(crate) out: &'a mut Vec<SegOut>,
    pub(crate) stats: &'a mut TcpStats,
    pub(crate) path: Path,
    /// RFC 5961 challenge ACKs allowed this second (shared by all connections).
    pub(crate) challenge_budget: &'a mut u32,
    /// The driver reads a batch of frames: the ACKs in-order data asks for wait for its end
    /// (`Stack::tcp_release_acks`), so a batch of GRO'd super-frames gets one ACK, not one each.
    pub(crate) hold_acks: bool,
    /// The buffer of the frame the segment being processed came in: its in-order data may stay
    /// there (shared) instead of being copied into the receive buffer.
    pub(crate) frame: Option<&'a std::sync::Arc<Vec<u8>>>,
    /// The segment being processed came marked Congestion Experienced (RFC 3168).
    pub(crate) ce: bool,
}

/// Loss recovery in progress (RFC 6582 / RFC 6675).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recovery {
    /// Recovery ends when this is acknowledged (SND.MAX when it began).
    pub(crate) recover: SeqNum,
    /// The next byte to consider for retransmission.
    pub(crate) rexmit_next: SeqNum,
    /// Without SACK: retransmit up to here (one segment after entry and each partial ACK).
    pub(crate) rexmit_limit: SeqNum,
}

/// A connection's control block.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) state: TcpState,
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    /// Unique per connection, so timer heap entries of a reused slot are recognized as stale.
    pub(crate) id: u64,
    pub(crate) active_open: bool,

    // Send side.
    pub(crate) iss: SeqNum,
    pub(crate) snd_una: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    /// The highest sequence number sent (SND.NXT moves back on RTO; this does not).
    pub(crate) snd_max: SeqNum,
    pub(crate) snd_wnd: u32,
    pub(crate) max_snd_wnd: u32,
    pub(crate) snd_wl1: SeqNum,
    pub(crate) snd_wl2: SeqNum,
    /// The peer's window scale shift.
    pub(crate) snd_wscale: u8,
    pub(crate) sbuf: SendBuf,
    /// Sequence number of the first byte in `sbuf`.
    pub(crate) sbuf_seq: SeqNum,
    /// The application shut down writing: FIN follows the data.
    pub(crate) fin_queued: bool,
    /// Send urgent pointer (RFC 9293 3.8.5): the sequence number after the urgent data.
    pub(crate) snd_up: Option<SeqNum>,

    // Receive side.
    pub(crate) irs: SeqNum,
    pub(crate) rcv_nxt: SeqNum,
    /// The right edge of the window we last advertised.
    pub(crate) rcv_adv: SeqNum,
    /// The right edge the peer was actually told (the window field, scaled).
    pub(crate) rcv_adv_sent: SeqNum,
    pub(crate) rcv_wscale: u8,
    pub(crate) rbuf: RecvBuf,
    pub(crate) fin_rcvd: bool,
    /// An out-of-order FIN: its sequence number, processed when the data before it arrives.
    pub(crate) fin_seq_rcvd: Option<SeqNum>,
    /// Receive urgent pointer: the sequence number after the urgent data.
    pub(crate) rcv_up: Option<SeqNum>,

    // Options.
    /// Send MSS: the most data we put in one segment (peer's MSS, path MTU).
    pub(crate) mss: u16,
    pub(crate) peer_mss: u16,
    pub(crate) ws_ok: bool,
    pub(crate) sack_ok: bool,
    pub(crate) ts_ok: bool,
    pub(crate) ts_recent: u32,
    pub(crate) ts_recent_at: Instant,
    pub(crate) ts_offset: u32,

    // Timing and congestion.
    pub(crate) rtt: Rtt,
    /// Without timestamps: one segment being timed (Karn: never a retransmitted one).
    pub(crate) rtt_seq: Option<(SeqNum, Instant)>,
    pub(crate) backoff: u32,
    pub(crate) retries: u32,
    pub(crate) cc: Cc,
    pub(crate) dupacks: u32,
    /// RFC 3042 limited transmit: bytes allowed past cwnd by the first two duplicate ACKs.
    pub(crate) limited_transmit: usize,
    pub(crate) recovery: Option<Recovery>,
    /// No fast recovery until this is acknowledged (RFC 6582's "recover" after an RTO).
    pub(crate) recover_guard: Option<SeqNum>,
    pub(crate) sb: Scoreboard,
    /// RACK-TLP state (SACK connections).
    pub(crate) rack: Rack,
    /// Tail loss probe timer, and the SND.MAX the probe covered (one probe until it is ACKed).
    pub(crate) tlp_at: Option<Instant>,
    pub(crate) tlp_end: Option<SeqNum>,
    /// A duplicate segment to report as the first SACK block (RFC 2883 DSACK).
    pub(crate) dsack: Option<(SeqNum, SeqNum)>,
    pub(crate) last_send: Instant,
    /// When the peer last sent anything (keepalive counts idleness from here).
    pub(crate) last_rx: Instant,
    /// The path as last read from the routes, and when (re-read after `PATH_TTL`).
    pub(crate) path_cache: Option<(Path, Instant)>,

    // Timers (the earliest is in the table's heap).
    pub(crate) rto_at: Option<Instant>,
    pub(crate) delack_at: Option<Instant>,
    pub(crate) persist_at: Option<Instant>,
    pub(crate) persist_backoff: u32,
    pub(crate) keepalive_at: Option<Instant>,
    pub(crate) keepalive_sent: u32,
    /// TIME-WAIT end, or FIN-WAIT-2 give-up for an orphan.
    pub(crate) close_at: Option<Instant>,
    pub(crate) scheduled: Option<Instant>,

    // ACK generation.
    pub(crate) ack_pending: u32,
    /// An ACK must go now (out of order, duplicate, FIN, window probe ...), whatever batch.
    pub(crate) ack_now: bool,
    /// In-order data (a second full segment, a GRO'd super-frame) or a window update owes an
    /// ACK now; while the table holds ACKs for a batch it goes at the batch's end instead.
    pub(crate) ack_soon: bool,
    /// Listed in the table's held ACKs (listed once per batch).
    pub(crate) ack_listed: bool,

    // Per-socket switches.
    pub(crate) nagle: bool,
    pub(crate) delayed_ack: bool,
    pub(crate) keepalive: bool,

    // Status.
    pub(crate) error: Option<TcpError>,
    /// The last ICMP soft error (reported if the connection times out).
    pub(crate) soft_error: Option<TcpError>,
    pub(crate) was_connected: bool,
    /// Readiness may have changed: the table posts an event.
    pub(crate) wake: bool,
    pub(crate) retransmits: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    /// The application closed its handle: nobody reads, the connection finishes alone.
    pub(crate) orphan: bool,
    /// Made from a listener and not yet accepted: (listener slot index, listener id).
    pub(crate) parent: Option<(u32, u64)>,
    /// Counted in tcpCurrEstab.
    pub(crate) counted_estab: bool,

    // ECN (RFC 3168).
    /// Both ends agreed to ECN in the handshake.
    pub(crate) ecn_ok: bool,
    /// Receiver: data came marked CE; ECE goes on every ACK until the sender's CWR.
    pub(crate) ece_echo: bool,
    /// Sender: the window was reduced for an ECE; CWR goes on the next data segment.
    pub(crate) cwr_due: bool,
    /// Sender: no further reduction for ECE until data past this is acknowledged (once per
    /// window: what was in flight at the reduction).
    pub(crate) ecn_high: Option<SeqNum>,
}

impl Conn {
    /// A connection in `state` (SynSent for connect, SynReceived for a listener's child).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        cfg: &TcpConfig,
        id: u64,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: u32,
        ts_offset: u32,
        path: Path,
        now: Instant,
    ) -> Conn {
        let iss = SeqNum(iss);
        let mss = path.mss.max(64);
        Conn {
            state: TcpState::Closed,
            local,
            remote,
            id,
            active_open: false,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: iss,
            snd_wscale: 0,
            sbuf: SendBuf::new(cfg.send_buffer.max(1)),
            sbuf_seq: iss + 1,
            fin_queued: false,
            snd_up: None,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_adv: SeqNum(0),
            rcv_adv_sent: SeqNum(0),
            rcv_wscale: if cfg.window_scaling {
                wscale_for(cfg.recv_buffer)
            } else {
                0
            },
            rbuf: RecvBuf::new(cfg.recv_buffer.max(1)),
            fin_rcvd: false,
            fin_seq_rcvd: None,
            rcv_up: None,
            mss: mss.min(536),
            peer_mss: 536,
            ws_ok: false,
            sack_ok: false,
            ts_ok: false,
            ts_recent: 0,
            ts_recent_at: now,
            ts_offset,
            rtt: Rtt::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max),
            rtt_seq: None,
            backoff: 0,
            retries: 0,
            cc: Cc::new(cfg.congestion, u32::from(mss.min(536))),
            dupacks: 0,
            limited_transmit: 0,
            recovery: None,
            recover_guard: None,
            sb: Scoreboard::default(),
            rack: Rack::new(),
            tlp_at: None,
            tlp_end: None,
            dsack: None,
            last_send: now,
            last_rx: now,
            path_cache: None,
            rto_at: None,
            delack_at: None,
            persist_at: None,
            persist_backoff: 0,
            keepalive_at: None,
            keepalive_sent: 0,
            close_at: None,
            scheduled: None,
            ack_pending: 0,
            ack_now: false,
            ack_soon: false,
            ack_listed: false,
            nagle: cfg.nagle,
            delayed_ack: cfg.delayed_ack,
            keepalive: false,
            error: None,
            soft_error: None,
            was_connected: false,
            wake: false,
            retransmits: 0,
            bytes_sent: 0,
            bytes_received: 0,
            orphan: false,
            parent: None,
            counted_estab: false,
            ecn_ok: false,
            ece_echo: false,
            cwr_due: false,
            ecn_high: None,
        }
    }

    /// The MSS we advertise: the path MTU less 40.
    pub(crate) fn our_mss(path: Path) -> u16 {
        path.mss
    }

    /// Fixes the send MSS from the peer's MSS option and the path (RFC 9293 3.7.1: less the
    /// options we put in every segment).
    pub(crate) fn set_mss(&mut self, path: Path) {
        let opts = if self.ts_ok { 12 } else { 0 };
        let m = self.peer_mss.min(path.mss).saturating_sub(opts).max(64);
        if m != self.mss {
            self.mss = m;
        }
    }

    /// The earliest of the connection's timers.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        [
            self.rto_at,
            self.delack_at,
            self.persist_at,
            self.keepalive_at,
            self.close_at,
            self.tlp_at,
            self.rack.timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Bytes in flight: the RFC 6675 pipe in recovery, else SND.NXT − SND.UNA.
    pub(crate) fn flight(&self) -> usize {
        match self.recovery {
            None => self.snd_nxt.since(self.snd_una),
            Some(_) if self.sack_ok => self
                .snd_max
                .since(self.snd_una)
                .saturating_sub(self.rack.sacked_bytes + self.rack.lost_bytes),
            Some(r) => {
                if self.sack_ok && !self.sb.ranges.is_empty() {
                    let hs = self.sb.highest().unwrap_or(self.snd_una).max(self.snd_una);
                    let resent = self.sb.hole_bytes(self.snd_una, r.rexmit_next.min(hs));
                    self.snd_max.since(hs) + resent
                } else {
                    let out = self.snd_max.since(self.snd_una);
                    let left = (self.dupacks as usize * usize::from(self.mss)).min(out);
                    out - left + r.rexmit_next.since(self.snd_una)
                }
            }
        }
    }

    /// The TSval to send now (1 ms ticks).
    pub(crate) fn ts_now(&self, now: Instant) -> u32 {
        ts_clock(now, self.ts_offset)
    }

    /// The window field to send, moving the advertised right edge forward only when it grows
    /// by a useful amount (RFC 9293 3.8.6.2.2's receiver-side silly window avoidance).
    pub(crate) fn window_to_advertise(&mut self) -> u16 {
        let avail = self.max_window();
        let edge = self.rcv_nxt + avail;
        let grow = edge.since(self.rcv_adv);
        let step = (self.rbuf.cap / 2).min(usize::from(self.mss));
        if self.rcv_adv < self.rcv_nxt || grow >= step || avail == self.rbuf.cap {
            self.rcv_adv = self.rcv_adv.max(edge);
        }
        let w = self.rcv_adv.since(self.rcv_nxt);
        let shift = if self.ws_ok { self.rcv_wscale } else { 0 };
        // Round down (never offer more than the buffer holds) unless that would move the right
        // edge left of what we advertised before (RFC 7323 2.4: no shrinking).
        let mut field = (w >> shift).min(MAX_WINDOW);
        if (field << shift) < w && self.rcv_nxt + (field << shift) < self.rcv_adv_sent {
            field = w.div_ceil(1 << shift).min(MAX_WINDOW);
        }
        let edge = self.rcv_nxt + (field << shift);
        self.rcv_adv_sent = self.rcv_adv_sent.max(edge);
        field as u16
    }

    /// The window we could offer: free buffer space, at most what the window field can say.
    fn max_window(&self) -> usize {
        let shift = if self.ws_ok { self.rcv_wscale } else { 0 };
        self.rbuf.window().min(MAX_WINDOW << shift)
    }

    /// Whether reading opened the window enough to tell the peer: by 2 MSS or half the buffer
    /// (silly window avoidance), and to at least twice what the peer may still send (as Linux
    /// does). While the peer has plenty of window left, the ACKs of its data carry the new
    /// edge anyway: an update per read would double the ACKs of a fast stream.
    pub(crate) fn window_update_due(&self) -> bool {
        let window = self.max_window();
        let edge = self.rcv_nxt + window;
        let grow = edge.since(self.rcv_adv);
        let useful = grow >= 2 * usize::from(self.mss) || grow >= self.rbuf.cap / 2;
        let left = self.rcv_adv_sent.since(self.rcv_nxt);
        useful && window >= 2 * left
    }

    /// Builds and queues one segment. `data` is (offset into the send buffer, length).
    pub(crate) fn emit(
        &mut self,
        env: &mut Env<'_>,
        seq: SeqNum,
        mut flags: TcpFlags,
        data: Option<(usize, usize)>,
        tso_mss: Option<u16>,
    ) {
        let syn = flags.syn();
        if self.state != TcpState::SynSent || flags.ack() {
            flags = flags | TcpFlags::ACK;
        }
        if self.state == TcpState::SynSent && syn {
            flags = TcpFlags::SYN;
        }
        let mut repr = TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq_number: seq.0,
            ack_number: if flags.ack() { self.rcv_nxt.0 } else { 0 },
            flags,
            window_len: 0,
            payload_len: data.map_or(0, |d| d.1),
            ..TcpRepr::default()
        };
        if syn {
            repr.max_seg_size = Some(Self::our_mss(env.path));
            if self.state == TcpState::SynSent {
                // We offer; in SYN-RECEIVED we answer only what the peer offered.
                repr.window_scale = env.cfg.window_scaling.then_some(self.rcv_wscale);
                repr.sack_permitted = env.cfg.sack;
                if env.cfg.timestamps {
                    repr.timestamp = Some((self.ts_now(env.now), 0));
                }
            } else {
                repr.window_scale = self.ws_ok.then_some(self.rcv_wscale);
                repr.sack_permitted = self.sack_ok;
                if self.ts_ok {
                    repr.timestamp = Some((self.ts_now(env.now), self.ts_recent));
                }
            }
            // The window in a SYN is never scaled.
            repr.window_len = self.rbuf.window().min(MAX_WINDOW) as u16;
            self.rcv_adv = self.rcv_nxt + usize::from(repr.window_len);
            self.rcv_adv_sent = self.rcv_adv;
        } else {
            repr.window_len = self.window_to_advertise();
            if self.ts_ok {
                repr.timestamp = Some((self.ts_now(env.now), self.ts_recent));
            }
            let dsack = self.dsack.take().filter(|_| self.sack_ok);
            if self.sack_ok && (self.rbuf.has_ooo() || dsack.is_some()) && flags.ack() {
                let n = if self.ts_ok { 3 } else { 4 };
                match dsack {
                    Some((l, r)) => {
                        let rest = self.rbuf.sack_blocks(n - 1);
                        repr.sack_ranges[0] = Some((l.0, r.0));
                        repr.sack_ranges[1..n].copy_from_slice(&rest[..n - 1]);
                    }
                    None => repr.sack_ranges = self.rbuf.sack_blocks(n),
                }
            }
        }
        if let Some(up) = self.snd_up {
            let off = up.since(seq);
            if up > seq && off <= 0xffff {
                repr.flags = repr.flags | TcpFlags::URG;
                repr.urgent_at = off as u16;
            }
        }
        // New data only: a retransmission goes without ECT or CWR (RFC 3168 6.1.5).
        let fresh = data.is_some() && seq >= self.snd_max;
        let ect = self.ecn_flags(env, &mut repr, syn, fresh);
        let hl = repr.header_len();
        let len = repr.payload_len;
        // Headroom and header zeroed, the data appended: no zero-fill of what is copied over.
        let head = PacketBuf::DEFAULT_HEADROOM;
        let mut v = Vec::with_capacity(head + hl + len);
        v.resize(head + hl, 0);
        if let Some((off, n)) = data {
            self.sbuf.append_to(off, n, &mut v);
        }
        let tail = v.len();
        let Ok(mut buf) = PacketBuf::from_parts(v, head, tail) else {
            return;
        };
        let mut p = TcpPacket::new_unchecked(buf.as_mut_slice());
        if tso_mss.is_some() {
            repr.emit_partial_checksum(&mut p, *self.local.ip(), *self.remote.ip());
        } else {
            repr.emit(&mut p, *self.local.ip(), *self.remote.ip());
        }
        let end = seq + repr.segment_len();
        let segs = tso_mss.map_or(1, |m| len.div_ceil(usize::from(m.max(1))).max(1)) as u64;
        if repr.segment_len() > 0 && seq < self.snd_max {
            env.stats.retrans_segs += segs;
            self.retransmits += segs;
        } else {
            env.stats.out_segs += segs;
        }
        if end > self.snd_max {
            self.bytes_sent += end.since(self.snd_max.max(seq)).min(len) as u64;
        }
        if flags.ack() {
            self.ack_pending = 0;
            self.ack_now = false;
            self.ack_soon = false;
            self.delack_at = None;
        }
        if repr.segment_len() > 0 {
            if self.sack_ok && !syn {
                self.rack.on_send(seq, end, env.now);
            }
            if end > self.snd_nxt {
                self.snd_nxt = end;
            }
            if end > self.snd_max {
                // Time a new segment when nothing is being timed (and timestamps do not time all).
                if !self.ts_ok && self.rtt_seq.is_none() {
                    self.rtt_seq = Some((end, env.now));
                }
                self.snd_max = end;
            }
            if self.rto_at.is_none() {
                self.rto_at = Some(env.now + self.rto());
            }
            self.last_send = env.now;
        }
        env.out.push(SegOut {
            src: *self.local.ip(),
            dst: *self.remote.ip(),
            buf,
            tso_mss,
            ect,
        });
    }

    /// RFC 3168's bits of a segment being built: ECE|CWR on our SYN when we ask for ECN, ECE
    /// on the SYN-ACK when we accept it; ECE on ACKs while a CE mark is unanswered; CWR on the
    /// first new data after a reduction. Returns whether the datagram is ECN-capable (new data
    /// of an ECN connection).
    fn ecn_flags(&mut self, env: &Env<'_>, repr: &mut TcpRepr, syn: bool, data: bool) -> bool {
        if syn {
            if self.state == TcpState::SynSent {
                if env.cfg.ecn == super::TcpEcn::On {
                    repr.flags = repr.flags | TcpFlags::ECE | TcpFlags::CWR;
                }
            } else if self.ecn_ok {
                repr.flags = repr.flags | TcpFlags::ECE;
            }
            return false;
        }
        if !self.ecn_ok {
            return false;
        }
        if self.ece_echo && repr.flags.ack() {
            repr.flags = repr.flags | TcpFlags::ECE;
        }
        if data && std::mem::take(&mut self.cwr_due) {
            repr.flags = repr.flags | TcpFlags::CWR;
        }
        data
    }

    /// The RTO with the current backoff.
    pub(crate) fn rto(&self) -> Duration {
        let max = self.rtt_max();
        self.rtt
            .rto
            .checked_mul(1u32 << self.backoff.min(16))
            .unwrap_or(max)
            .min(max)
    }

    fn rtt_max(&self) -> Duration {
        // Rtt keeps the bounds; the RTO already honours them.
        Duration::from_secs(120).max(self.rtt.rto)
    }

    /// A pure ACK (or the SYN-ACK again in SYN-RECEIVED).
    pub(crate) fn send_ack(&mut self, env: &mut Env<'_>) {
        match self.state {
            TcpState::SynReceived => self.emit(env, self.iss, TcpFlags::SYN, None, None),
            TcpState::SynSent | TcpState::Closed | TcpState::Listen => {}
            _ => self.emit(env, self.snd_nxt, TcpFlags::ACK, None, None),
        }
    }

    /// An RFC 5961 challenge ACK, within the shared per-second budget.
    pub(crate) fn challenge_ack(&mut self, env: &mut Env<'_>) {
        if *env.challenge_budget == 0 {
            return;
        }
        *env.challenge_budget -= 1;
        env.stats.challenge_acks += 1;
        self.emit(env, self.snd_nxt, TcpFlags::ACK, None, None);
    }

    /// Sequence number of our FIN (valid once queued).
    pub(crate) fn fin_seq(&self) -> SeqNum {
        self.sbuf_seq + self.sbuf.len()
    }

    /// Whether our FIN has been acknowledged.
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_queued && self.snd_una > self.fin_seq()
    }

    fn can_send_data(&self) -> bool {
        matches!(
            self.state,
            TcpState::Established
                | TcpState::CloseWait
                | TcpState::FinWait1
                | TcpState::Closing
                | TcpState::LastAck
        )
    }

    /// Sends what may be sent now: SYN, retransmissions in recovery, new data, FIN, and a pending
    /// ACK if nothing else carried it.
    pub(crate) fn output(&mut self, env: &mut Env<'_>) {
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                if self.snd_nxt == self.iss {
                    self.emit(env, self.iss, TcpFlags::SYN, None, None);
                } else if self.ack_now && self.state == TcpState::SynReceived {
                    self.send_ack(env);
                }
                return;
            }
            TcpState::Closed | TcpState::Listen => return,
            _ => {}
        }
        if self.can_send_data() {
            // RFC 5681 4.1: restart from the initial window after an idle RTO.
            if self.snd_una == self.snd_max
                && env.now.saturating_duration_since(self.last_send) > self.rto()
                && self.sbuf.len() > self.snd_nxt.since(self.sbuf_seq)
            {
                self.cc.on_idle_restart(u32::from(self.mss));
            }
            self.send_retransmissions(env);
            self.send_new_data(env);
        }
        if self.ack_now || (self.ack_soon && !env.hold_acks) {
            self.send_ack(env);
        } else if (self.ack_pending > 0 || self.ack_soon) && self.delack_at.is_none() {
            // A held ACK arms the timer too: should the batch never end, it still goes.
            self.delack_at = Some(env.now + env.cfg.delayed_ack_timeout);
        }
        self.arm_persist(env.now);
        if self.sack_ok && (self.tlp_at.is_none() || self.last_send == env.now) {
            self.arm_tlp(env);
        }
    }

    fn send_retransmissions(&mut self, env: &mut Env<'_>) {
        let Some(mut r) = self.recovery else {
            return;
        };
        if self.sack_ok {
            return self.send_rack_retransmissions(env, r);
        }
        let mss = usize::from(self.mss);
        let cwnd = self.cc.cwnd as usize;
        let limit = if self.sack_ok && !self.sb.ranges.is_empty() {
            self.sb
                .lost_edge(3 * mss)
                .unwrap_or(self.snd_una + mss)
                .max(r.rexmit_limit)
                .min(self.snd_max)
        } else {
            r.rexmit_limit.min(self.snd_max)
        };
        let fin = self.fin_queued.then(|| self.fin_seq());
        for _ in 0..1024 {
            // RFC 6675 4.3 and RFC 6582 3.2: the first hole goes out whatever the window says.
            let first = r.rexmit_next <= self.snd_una;
            if !first && self.flight() + mss > cwnd && self.flight() > 0 {
                break;
            }
            let from = r.rexmit_next.max(self.snd_una);
            let Some((a, b)) = self.sb.next_hole(from, limit) else {
                break;
            };
            let b = b.min(a + mss);
            self.send_range(env, a, b, fin);
            r.rexmit_next = b;
            self.recovery = Some(r);
        }
    }

    /// RFC 8985 / RFC 6675: segments RACK marked lost, first one at once, then under the pipe.
    fn send_rack_retransmissions(&mut self, env: &mut Env<'_>, mut r: Recovery) {
        let mss = usize::from(self.mss);
        let fin = self.fin_queued.then(|| self.fin_seq());
        for _ in 0..1024 {
            let Some((a, b)) = self.rack.first_lost() else {
                break;
            };
            let first = r.rexmit_next <= self.snd_una;
            if !first && self.flight() + mss > self.cc.cwnd as usize {
                break;
            }
            let b = b.min(a + mss);
            self.send_range(env, a, b, fin);
            r.rexmit_next = b.max(r.rexmit_next);
            self.recovery = Some(r);
            if self.rack.first_lost() == Some((a, b)) {
                break;
            }
        }
    }

    /// RFC 8985 7.2: a probe timeout of two SRTTs (plus a delayed ACK when one segment is out)
    /// before the RTO, so a lost tail is found without waiting for it.
    pub(crate) fn arm_tlp(&mut self, env: &Env<'_>) {
        let outstanding = self.snd_max > self.snd_una;
        let ok = self.sack_ok
            && self.recovery.is_none()
            && self.tlp_end.is_none()
            && outstanding
            && matches!(
                self.state,
                TcpState::Established
                    | TcpState::CloseWait
                    | TcpState::FinWait1
                    | TcpState::LastAck
            );
        if !ok {
            self.tlp_at = None;
            return;
        }
        let Some(srtt) = self.rtt.srtt.or(self.rack.min_rtt) else {
            self.tlp_at = None;
            return;
        };
        let mut pto = (srtt * 2).max(Duration::from_millis(10));
        if self.snd_max.since(self.snd_una) <= usize::from(self.mss) {
            pto = pto.saturating_add(env.cfg.delayed_ack_timeout);
        }
        let at = env.now + pto;
        self.tlp_at = match self.rto_at {
            Some(r) if at >= r => None,
            _ => Some(at),
        };
    }

    /// The persist timer: a window probe, or (a small window) what fits.
    pub(crate) fn on_persist(&mut self, env: &mut Env<'_>) {
        let unsent = self
            .sbuf
            .len()
            .saturating_sub(self.snd_nxt.since(self.sbuf_seq));
        let room = (self.snd_una + self.snd_wnd as usize).since(self.snd_nxt);
        let n = room.min(unsent);
        if n > 0 {
            let mss = usize::from(self.mss);
            self.send_data(env, n.min(mss), mss, n == unsent && self.fin_queued);
        } else {
            // An old sequence number makes the peer answer with its window.
            self.emit(env, self.snd_una - 1, TcpFlags::ACK, None, None);
        }
    }

    /// The probe: new data if the window allows, else the last segment again.
    pub(crate) fn send_tlp(&mut self, env: &mut Env<'_>) {
        let mss = usize::from(self.mss);
        let sent_off = self.snd_nxt.since(self.sbuf_seq);
        let unsent = self.sbuf.len().saturating_sub(sent_off);
        let wnd_room = (self.snd_una + self.snd_wnd as usize).since(self.snd_nxt);
        env.stats.tail_loss_probes += 1;
        if unsent > 0 && wnd_room > 0 && self.snd_nxt == self.snd_max {
            let n = unsent.min(wnd_room).min(mss);
            self.send_data(env, n, mss, n == unsent && self.fin_queued);
        } else {
            let a = self.snd_una.max(self.snd_max - mss);
            let fin = self.fin_queued.then(|| self.fin_seq());
            self.send_range(env, a, self.snd_max, fin);
        }
        self.tlp_end = Some(self.snd_max);
        if self.rto_at.is_none() {
            self.rto_at = Some(env.now + self.rto());
        }
    }

    /// Sends bytes `a..b` of sequence space (data, and FIN when `b` passes it).
    fn send_range(&mut self, env: &mut Env<'_>, a: SeqNum, b: SeqNum, fin: Option<SeqNum>) {
        let data_end = fin.map_or(b, |f| b.min(f));
        let off = a.since(self.sbuf_seq);
        let n = data_end.since(a).min(self.sbuf.len().saturating_sub(off));
        let mut flags = TcpFlags::ACK;
        if fin.is_some_and(|f| a + n == f && b > f) {
            flags = flags | TcpFlags::FIN;
        }
        if n > 0 && a + n == self.sbuf_seq + self.sbuf.len() {
            flags = flags | TcpFlags::PSH;
        }
        let data = (n > 0).then_some((off, n));
        if data.is_none() && !flags.fin() {
            return;
        }
        self.emit(env, a, flags, data, None);
    }

    fn send_new_data(&mut self, env: &mut Env<'_>) {
        let mss = usize::from(self.mss);
        for _ in 0..4096 {
            let sent_off = self.snd_nxt.since(self.sbuf_seq);
            let unsent = self.sbuf.len().saturating_sub(sent_off);
            let fin_pending = self.fin_queued && self.snd_nxt <= self.fin_seq();
            if unsent == 0 && !fin_pending {
                return;
            }
            let wnd_edge = self.snd_una + self.snd_wnd as usize;
            let wnd_room = wnd_edge.since(self.snd_nxt);
            let cwnd_room =
                (self.cc.cwnd as usize + self.limited_transmit).saturating_sub(self.flight());
            let room = wnd_room.min(cwnd_room);
            let max_seg = if env.path.tso {
                // Super-segments: whole MSS multiples up to 64 KB of IP datagram.
                let k = ((65535 - 40 - 60) / mss).max(1);
                mss * k
            } else {
                mss
            };
            let len = unsent.min(room).min(max_seg);
            let all = len == unsent;
            if len == 0 {
                if unsent == 0 && fin_pending && self.snd_nxt == self.fin_seq() {
                    // FIN alone.
                    let f = self.fin_seq();
                    self.send_range(env, f, f + 1, Some(f));
                }
                return;
            }
            if len < mss {
                let idle = self.snd_nxt == self.snd_una;
                let ok = (all && (!self.nagle || idle || fin_pending))
                    || (self.max_snd_wnd > 0 && len >= self.max_snd_wnd as usize / 2 && idle);
                if !ok {
                    return;
                }
            } else if len < max_seg && !all && len % mss != 0 {
                // Send whole segments; the remainder waits for the window (SWS avoidance).
                let whole = len - len % mss;
                self.send_data(env, whole, mss, false);
                continue;
            }
            self.send_data(env, len, mss, all && self.fin_queued);
        }
    }

    fn send_data(&mut self, env: &mut Env<'_>, len: usize, mss: usize, with_fin: bool) {
        let seq = self.snd_nxt;
        let off = seq.since(self.sbuf_seq);
        let mut flags = TcpFlags::ACK;
        if off + len == self.sbuf.len() {
            flags = flags | TcpFlags::PSH;
        }
        if with_fin {
            flags = flags | TcpFlags::FIN;
        }
        let tso = (len > mss).then_some(mss as u16);
        self.emit(env, seq, flags, Some((off, len)), tso);
    }

    /// Starts the persist timer when data waits for a zero window and nothing else will
    /// bring a window update.
    /// Also when a window too small to be worth a segment stops us with nothing in flight (RFC
    /// 9293 3.8.6.2.1's override timeout: the timer then sends what fits).
    pub(crate) fn arm_persist(&mut self, now: Instant) {
        let unsent = self
            .sbuf
            .len()
            .saturating_sub(self.snd_nxt.since(self.sbuf_seq));
        let room = (self.snd_una + self.snd_wnd as usize).since(self.snd_nxt);
        let stuck = room < unsent.min(usize::from(self.mss));
        if stuck && unsent > 0 && self.snd_nxt == self.snd_una && self.can_send_data() {
            if self.persist_at.is_none() {
                let d = self.rto() * (1u32 << self.persist_backoff.min(10));
                self.persist_at = Some(now + d.min(Duration::from_secs(60)));
            }
            self.rto_at = None;
        } else {
            self.persist_at = None;
            self.persist_backoff = 0;
        }
    }

    /// Ends the connection with `err` (None: a normal close).
    pub(crate) fn close_with(&mut self, err: Option<TcpError>) {
        if err.is_some() && self.error.is_none() {
            self.error = err;
        }
        self.state = TcpState::Closed;
        self.rto_at = None;
        self.delack_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.close_at = None;
        self.recovery = None;
        self.wake = true;
    }

    /// Whether the connection is in a state counted by tcpCurrEstab.
    pub(crate) fn is_estab(&self) -> bool {
        matches!(self.state, TcpState::Established | TcpState::CloseWait)
    }

    /// Congestion algorithm in use.
    pub(crate) fn algo(&self) -> CongestionAlgorithm {
        self.cc.algo
    }
}

/// A reset in answer to `seg` for which no connection exists (RFC 9293 3.10.7.1).
pub(crate) fn reset_for(
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seg: &TcpRepr,
    seg_len: usize,
) -> Option<SegOut> {
    if seg.flags.rst() {
        return None;
    }
    let (seq, ack, flags) = if seg.flags.ack() {
        (seg.ack_number, 0, TcpFlags::RST)
    } else {
        (
            0,
            seg.seq_number.wrapping_add(seg_len as u32),
            TcpFlags::RST | TcpFlags::ACK,
        )
    };
    Some(bare_segment(local, remote, seq, ack, flags, 0))
}

/// A header-only segment outside any connection (RST, SYN-ACK with a cookie is built apart).
pub(crate) fn bare_segment(
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
) -> SegOut {
    let repr = TcpRepr {
        src_port: local.port(),
        dst_port: remote.port(),
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: window,
        ..TcpRepr::default()
    };
    seg_from_repr(local, remote, &repr)
}

/// A finished segment from a header (no data).
/// A connection's timestamp clock: 1 ms ticks from `now`, moved by the connection's `offset`.
pub(crate) fn ts_clock(now: Instant, offset: u32) -> u32 {
    ((now.as_nanos() / 1_000_000) as u32).wrapping_add(offset)
}

pub(crate) fn seg_from_repr(local: SocketAddrV4, remote: SocketAddrV4, repr: &TcpRepr) -> SegOut {
    let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.header_len());
    repr.emit(
        &mut TcpPacket::new_unchecked(buf.as_mut_slice()),
        *local.ip(),
        *remote.ip(),
    );
    SegOut {
        src: *local.ip(),
        dst: *remote.ip(),
        buf,
        tso_mss: None,
        ect: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_scale_choice() {
        assert_eq!(wscale_for(65535), 0);
        assert_eq!(wscale_for(65536), 1);
        assert_eq!(wscale_for(4 << 20), 7);
        assert_eq!(wscale_for(usize::MAX), 14);
    }
}
