//! The TCP socket table: handles (index + generation), O(1) demultiplexing on the 4-tuple,
//! listeners with their accept queues and backlog, SYN cookies when a backlog overflows, a
//! bounded TIME-WAIT table for orphaned connections, ephemeral ports, and the timer heap
//! (lazy deletion: stale entries are recognized by the connection's id and schedule).

use super::conn::{bare_segment, reset_for, seg_from_repr, ts_clock, Conn, Env, Path, SegOut};
use super::isn;
use super::seq::SeqNum;
use super::{IfaceOffloads, TcpConfig, TcpHandle, TcpState, TcpStats};
use crate::hash::{FastMap, SeededMap};
use crate::udp::{EPHEMERAL_HIGH, EPHEMERAL_LOW, EPHEMERAL_MAX_STEP};
use crate::{IfaceId, Instant, Rng};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use wire::tcp::{TcpFlags, TcpRepr};

/// (local, remote).
pub(crate) type Tuple = (SocketAddrV4, SocketAddrV4);

/// RFC 5961 challenge ACKs per second over all connections (as Linux's default).
const CHALLENGE_ACKS_PER_SEC: u32 = 1000;

/// A listening socket.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) local: SocketAddrV4,
    pub(crate) backlog: usize,
    /// Established connections not yet accepted (slot indexes).
    pub(crate) accept: VecDeque<u32>,
    /// Connections in SYN-RECEIVED.
    pub(crate) embryonic: usize,
    pub(crate) id: u64,
}

#[derive(Debug)]
pub(crate) enum Sock {
    Listener(Listener),
    Conn(Box<Conn>),
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    sock: Option<Sock>,
}

/// What TIME-WAIT needs of a connection that is otherwise gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TwEntry {
    pub(crate) rcv_nxt: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    /// (ts_recent, our offset) when timestamps were on.
    pub(crate) ts: Option<(u32, u32)>,
    pub(crate) expires: Instant,
}

/// All of TCP's sockets.
#[derive(Debug)]
pub(crate) struct TcpTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    pub(crate) conns: SeededMap<Tuple, u32>,
    pub(crate) listeners: FastMap<(Ipv4Addr, u16), u32>,
    pub(crate) tw: SeededMap<Tuple, TwEntry>,
    tw_order: VecDeque<(Tuple, Instant)>,
    heap: BinaryHeap<Reverse<(Instant, u32, u64)>>,
    pub(crate) stats: TcpStats,
    pub(crate) cfg: TcpConfig,
    pub(crate) key: [u64; 2],
    next_id: u64,
    pub(crate) last_ephemeral: u16,
    challenge_budget: u32,
    challenge_second: u64,
    pub(crate) out: Vec<SegOut>,
    /// Handles whose readiness may have changed.
    pub(crate) events: Vec<TcpHandle>,
    /// Connection attempts to ports without a listener, (local, remote), for
    /// `StackEvent::ClosedPort`.
    pub(crate) closed_port_syns: Vec<(SocketAddrV4, SocketAddrV4)>,
    /// Handles with a `StackEvent::Tcp` not yet taken (one event per handle is enough).
    pub(crate) evented: crate::hash::FastSet<TcpHandle>,
    pub(crate) offloads: FastMap<IfaceId, IfaceOffloads>,
    /// ACKs of in-order data wait for `Stack::tcp_release_acks` (the driver reads a batch).
    pub(crate) hold_acks: bool,
    /// Connections (slot indexes) with an ACK held for the batch's end.
    pub(crate) held: Vec<u32>,
    /// The buffer of the frame being processed (`Env::frame`), set around one segment's input.
    pub(crate) frame: Option<std::sync::Arc<Vec<u8>>>,
    /// The segment being processed came marked Congestion Experienced (for `Env::ce`).
    pub(crate) ce: bool,
}

impl TcpTable {
    pub(crate) fn new(cfg: TcpConfig, rng: &mut dyn Rng) -> TcpTable {
        let k = |r: &mut dyn Rng| u64::from(r.next_u32()) << 32 | u64::from(r.next_u32());
        let key = [k(rng), k(rng)];
        let seed = hash_seed(&key);
        let span = u32::from(EPHEMERAL_HIGH - EPHEMERAL_LOW);
        TcpTable {
            slots: Vec::new(),
            free: Vec::new(),
            conns: crate::hash::seeded(seed),
            listeners: FastMap::default(),
            tw: crate::hash::seeded(seed),
            tw_order: VecDeque::new(),
            heap: BinaryHeap::new(),
            stats: TcpStats::default(),
            cfg,
            key,
            next_id: 1,
            last_ephemeral: EPHEMERAL_LOW + rng.below(span) as u16,
            challenge_budget: CHALLENGE_ACKS_PER_SEC,
            challenge_second: 0,
            out: Vec::new(),
            events: Vec::new(),
            closed_port_syns: Vec::new(),
            evented: Default::default(),
            offloads: FastMap::default(),
            hold_acks: false,
            held: Vec::new(),
            frame: None,
            ce: false,
        }
    }

    /// The seed of the maps keyed by what peers send (crate::hash): from the secret, so it
    /// is as unpredictable, but not the secret itself.
    pub(crate) fn hash_seed(&self) -> u64 {
        hash_seed(&self.key)
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn alloc(&mut self, sock: Sock) -> u32 {
        if let Some(i) = self.free.pop() {
            if let Some(s) = self.slots.get_mut(i as usize) {
                s.sock = Some(sock);
                return i;
            }
        }
        self.slots.push(Slot {
            generation: 0,
            sock: Some(sock),
        });
        (self.slots.len() - 1) as u32
    }

    fn release(&mut self, index: u32) {
        if let Some(s) = self.slots.get_mut(index as usize) {
            s.sock = None;
            s.generation = s.generation.wrapping_add(1);
            self.free.push(index);
        }
    }

    pub(crate) fn handle_at(&self, index: u32) -> TcpHandle {
        TcpHandle {
            index,
            generation: self.slots.get(index as usize).map_or(0, |s| s.generation),
        }
    }

    fn valid(&self, h: TcpHandle) -> Option<&Sock> {
        let s = self.slots.get(h.index as usize)?;
        (s.generation == h.generation).then_some(())?;
        s.sock.as_ref()
    }

    /// The connection behind a user's handle.
    pub(crate) fn conn(&self, h: TcpHandle) -> Option<&Conn> {
        match self.valid(h)? {
            Sock::Conn(c) if !c.orphan && c.parent.is_none() => Some(c),
            _ => None,
        }
    }

    pub(crate) fn conn_mut(&mut self, h: TcpHandle) -> Option<&mut Conn> {
        self.conn(h)?;
        match self.slots.get_mut(h.index as usize)?.sock.as_mut()? {
            Sock::Conn(c) => Some(c),
            Sock::Listener(_) => None,
        }
    }

    pub(crate) fn listener(&self, h: TcpHandle) -> Option<&Listener> {
        match self.valid(h)? {
            Sock::Listener(l) => Some(l),
            Sock::Conn(_) => None,
        }
    }

    pub(crate) fn conn_at(&self, index: u32) -> Option<&Conn> {
        match self.slots.get(index as usize)?.sock.as_ref()? {
            Sock::Conn(c) => Some(c),
            Sock::Listener(_) => None,
        }
    }

    pub(crate) fn conn_at_mut(&mut self, index: u32) -> Option<&mut Conn> {
        match self.slots.get_mut(index as usize)?.sock.as_mut()? {
            Sock::Conn(c) => Some(c),
            Sock::Listener(_) => None,
        }
    }

    /// Every live slot: (index, socket).
    pub(crate) fn socks(&self) -> impl Iterator<Item = (u32, &Sock)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.sock.as_ref().map(|k| (i as u32, k)))
    }

    fn refresh_budget(&mut self, now: Instant) {
        let sec = now.as_nanos() / 1_000_000_000;
        if sec != self.challenge_second {
            self.challenge_second = sec;
            self.challenge_budget = CHALLENGE_ACKS_PER_SEC;
        }
    }

    /// Runs `f` on connection `index` with an environment, then settles the consequences.
    pub(crate) fn drive<R>(
        &mut self,
        index: u32,
        path: Path,
        now: Instant,
        f: impl FnOnce(&mut Conn, &mut Env<'_>) -> R,
    ) -> Option<R> {
        self.refresh_budget(now);
        let TcpTable {
            slots,
            cfg,
            out,
            stats,
            challenge_budget,
            hold_acks,
            held,
            frame,
            ce,
            ..
        } = self;
        let Some(Sock::Conn(c)) = slots.get_mut(index as usize)?.sock.as_mut() else {
            return None;
        };
        let mut env = Env {
            now,
            cfg,
            out,
            stats,
            path,
            challenge_budget,
            hold_acks: *hold_acks,
            frame: frame.as_ref(),
            ce: *ce,
        };
        let r = f(c, &mut env);
        if *hold_acks && c.ack_soon && !c.ack_listed {
            c.ack_listed = true;
            held.push(index);
        }
        self.settle(index, now);
        Some(r)
    }

    /// After a connection ran: events, accept queue, tcpCurrEstab, removal, TIME-WAIT, timers.
    pub(crate) fn settle(&mut self, index: u32, now: Instant) {
        let handle = self.handle_at(index);
        let Some(c) = self.conn_at_mut(index) else {
            return;
        };
        let estab = c.is_estab();
        let delta: i64 = match (estab, c.counted_estab) {
            (true, false) => 1,
            (false, true) => -1,
            _ => 0,
        };
        c.counted_estab = estab;
        let wake = std::mem::take(&mut c.wake);
        let (state, orphan, parent, tuple, id) =
            (c.state, c.orphan, c.parent, (c.local, c.remote), c.id);
        let next = c.next_timer();
        let scheduled = c.scheduled;
        self.stats.curr_estab = self.stats.curr_estab.saturating_add_signed(delta);
        // A listener's child that completed its handshake goes to the accept queue.
        if let Some((li, lid)) = parent {
            if state != TcpState::SynReceived && state != TcpState::Closed {
                let lh = self.handle_at(li);
                let queued = match self
                    .slots
                    .get_mut(li as usize)
                    .and_then(|s| s.sock.as_mut())
                {
                    Some(Sock::Listener(l)) if l.id == lid => {
                        l.embryonic = l.embryonic.saturating_sub(1);
                        l.accept.push_back(index);
                        true
                    }
                    _ => false,
                };
                if let Some(c) = self.conn_at_mut(index) {
                    c.parent = None;
                    if !queued {
                        // The listener is gone: nobody will accept this one.
                        c.orphan = true;
                    }
                }
                if queued {
                    self.events.push(lh);
                }
                return self.settle(index, now);
            }
        }
        if wake && !orphan && parent.is_none() {
            self.events.push(handle);
        }
        match state {
            TcpState::Closed => {
                if self.conns.get(&tuple) == Some(&index) {
                    self.conns.remove(&tuple);
                }
                if let Some((li, lid)) = parent {
                    if let Some(Sock::Listener(l)) = self
                        .slots
                        .get_mut(li as usize)
                        .and_then(|s| s.sock.as_mut())
                    {
                        if l.id == lid {
                            l.embryonic = l.embryonic.saturating_sub(1);
                        }
                    }
                    self.release(index);
                } else if orphan {
                    self.release(index);
                }
            }
            TcpState::TimeWait if orphan => {
                let Some(c) = self.conn_at(index) else {
                    return;
                };
                let e = TwEntry {
                    rcv_nxt: c.rcv_nxt,
                    snd_nxt: c.snd_max,
                    ts: c.ts_ok.then_some((c.ts_recent, c.ts_offset)),
                    expires: c.close_at.unwrap_or(now),
                };
                if self.conns.get(&tuple) == Some(&index) {
                    self.conns.remove(&tuple);
                }
                self.release(index);
                self.add_time_wait(tuple, e);
            }
            _ => {
                if let Some(t) = next {
                    if scheduled.is_none_or(|s| t < s) {
                        self.heap.push(Reverse((t, index, id)));
                        if let Some(c) = self.conn_at_mut(index) {
                            c.scheduled = Some(t);
                        }
                    }
                }
            }
        }
    }

    fn add_time_wait(&mut self, tuple: Tuple, e: TwEntry) {
        while self.tw.len() >= self.cfg.time_wait_limit.max(1) {
            let Some((t, _)) = self.tw_order.pop_front() else {
                break;
            };
            if self.tw.remove(&t).is_some() {
                self.stats.time_wait_drops += 1;
            }
        }
        self.tw_order.push_back((tuple, e.expires));
        self.tw.insert(tuple, e);
    }

    /// The earliest timer (may be a stale heap entry: then `due` finds nothing).
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        let h = self.heap.peek().map(|Reverse((t, _, _))| *t);
        let w = self.tw_order.front().map(|(_, t)| *t);
        match (h, w) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Connections whose timers are due (each once), and TIME-WAIT expiry.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<u32> {
        while let Some((t, e)) = self.tw_order.front().copied() {
            if e > now {
                break;
            }
            self.tw_order.pop_front();
            if self.tw.get(&t).is_some_and(|x| x.expires <= now) {
                self.tw.remove(&t);
            }
        }
        let mut v = Vec::new();
        while let Some(Reverse((t, index, id))) = self.heap.peek().copied() {
            if t > now {
                break;
            }
            self.heap.pop();
            if let Some(c) = self.conn_at_mut(index) {
                if c.id == id && c.scheduled == Some(t) {
                    c.scheduled = None;
                    v.push(index);
                }
            }
        }
        v
    }

    /// Whether a local port can be used for `remote` (no listener on it, 4-tuple unused).
    fn port_usable(&self, ip: Ipv4Addr, port: u16, remote: SocketAddrV4) -> bool {
        let local = SocketAddrV4::new(ip, port);
        !self.listeners.contains_key(&(ip, port))
            && !self.listeners.contains_key(&(Ipv4Addr::UNSPECIFIED, port))
            && !self.conns.contains_key(&(local, remote))
            && !self.tw.contains_key(&(local, remote))
    }

    /// An ephemeral port at a random step past the previous one (seed 000's obfuscation).
    pub(crate) fn alloc_port(
        &mut self,
        ip: Ipv4Addr,
        remote: Option<SocketAddrV4>,
        rng: &mut dyn Rng,
    ) -> Option<u16> {
        let span = u32::from(EPHEMERAL_HIGH - EPHEMERAL_LOW) + 1;
        let mut p = u32::from(self.last_ephemeral.max(EPHEMERAL_LOW) - EPHEMERAL_LOW);
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        for attempt in 0..span {
            let step = if attempt < 64 {
                1 + rng.below(EPHEMERAL_MAX_STEP)
            } else {
                1
            };
            p = (p + step) % span;
            let port = (p + u32::from(EPHEMERAL_LOW)) as u16;
            let ok = match remote {
                Some(r) => self.port_usable(ip, port, r),
                None => {
                    self.port_usable(ip, port, any)
                        && !self.conns.keys().any(|(l, _)| l.port() == port)
                }
            };
            if ok {
                self.last_ephemeral = port;
                return Some(port);
            }
        }
        None
    }

    /// A new listener.
    pub(crate) fn listen(&mut self, local: SocketAddrV4, backlog: usize) -> TcpHandle {
        let id = self.new_id();
        let i = self.alloc(Sock::Listener(Listener {
            local,
            backlog: backlog.clamp(1, 65535),
            accept: VecDeque::new(),
            embryonic: 0,
            id,
        }));
        self.listeners.insert((*local.ip(), local.port()), i);
        self.handle_at(i)
    }

    /// Whether `local` can be listened on.
    pub(crate) fn listen_free(&self, local: SocketAddrV4) -> bool {
        let (ip, port) = (*local.ip(), local.port());
        if self.listeners.contains_key(&(ip, port)) {
            return false;
        }
        if ip.is_unspecified() {
            !self.listeners.keys().any(|(_, p)| *p == port)
        } else {
            !self.listeners.contains_key(&(Ipv4Addr::UNSPECIFIED, port))
        }
    }

    /// A new connection in SYN-SENT; the caller sends its SYN with `drive`.
    pub(crate) fn connect(
        &mut self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        path: Path,
        now: Instant,
        ts_offset: u32,
    ) -> u32 {
        let id = self.new_id();
        let iss = isn::isn(self.key, local, remote, now.as_nanos());
        let mut c = Conn::new(&self.cfg, id, local, remote, iss, ts_offset, path, now);
        c.state = TcpState::SynSent;
        c.active_open = true;
        c.mss = Conn::our_mss(path);
        self.stats.active_opens += 1;
        let i = self.alloc(Sock::Conn(Box::new(c)));
        self.conns.insert((local, remote), i);
        i
    }

    /// The application closed its handle: the connection lives on without it.
    pub(crate) fn orphan(&mut self, h: TcpHandle) {
        if self.conn(h).is_none() {
            return;
        }
        if let Some(s) = self.slots.get_mut(h.index as usize) {
            s.generation = s.generation.wrapping_add(1);
            if let Some(Sock::Conn(c)) = s.sock.as_mut() {
                c.orphan = true;
                if c.state == TcpState::FinWait2 && c.close_at.is_none() {
                    c.wake = true;
                }
            }
        }
    }

    /// Removes a connection at once (abort): from the demux map and its slot.
    pub(crate) fn remove_conn(&mut self, index: u32) {
        if let Some(c) = self.conn_at(index) {
            let t = (c.local, c.remote);
            let counted = c.counted_estab;
            if self.conns.get(&t) == Some(&index) {
                self.conns.remove(&t);
            }
            if counted {
                self.stats.curr_estab = self.stats.curr_estab.saturating_sub(1);
            }
            self.release(index);
        }
    }

    /// Closes a listener and resets the connections it had not handed out.
    pub(crate) fn close_listener(&mut self, h: TcpHandle) -> Vec<u32> {
        let Some(l) = self.listener(h) else {
            return Vec::new();
        };
        let key = (*l.local.ip(), l.local.port());
        let lid = l.id;
        let mut children: Vec<u32> = l.accept.iter().copied().collect();
        for (i, s) in self.socks() {
            if let Sock::Conn(c) = s {
                if c.parent.is_some_and(|(_, id)| id == lid) {
                    children.push(i);
                }
            }
        }
        self.listeners.remove(&key);
        self.release(h.index);
        children
    }

    /// Takes the next connection from a listener's accept queue.
    pub(crate) fn accept(&mut self, h: TcpHandle) -> Option<Option<u32>> {
        self.listener(h)?;
        let Some(Sock::Listener(l)) = self.slots.get_mut(h.index as usize)?.sock.as_mut() else {
            return None;
        };
        Some(l.accept.pop_front())
    }

    /// A segment for no connection: LISTEN, TIME-WAIT, SYN cookies, or a reset.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn input_unconnected(
        &mut self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        payload: &[u8],
        path: Path,
        now: Instant,
        ts_offset: u32,
    ) {
        let tuple = (local, remote);
        if let Some(e) = self.tw.get(&tuple).copied() {
            if !self.time_wait_input(tuple, e, seg, now) {
                return;
            }
        }
        let li = self
            .listeners
            .get(&(*local.ip(), local.port()))
            .or_else(|| self.listeners.get(&(Ipv4Addr::UNSPECIFIED, local.port())))
            .copied();
        let Some(li) = li else {
            if seg.flags.syn() && !seg.flags.ack() {
                self.closed_port_syns.push((local, remote));
            }
            self.reset(local, remote, seg, payload.len());
            return;
        };
        let f = seg.flags;
        if f.rst() {
            return;
        }
        if f.ack() && !f.syn() {
            if self.cfg.syn_cookies {
                if let Some(i) = self.cookie_ack(li, local, remote, seg, path, now, ts_offset) {
                    self.drive(i, path, now, |c, env| c.input(env, seg, payload));
                    return;
                }
            }
            self.reset(local, remote, seg, payload.len());
            return;
        }
        if !f.syn() || f.ack() {
            if f.ack() {
                self.reset(local, remote, seg, payload.len());
            }
            return;
        }
        let Some(Sock::Listener(l)) = self.slots.get(li as usize).and_then(|s| s.sock.as_ref())
        else {
            return;
        };
        let lid = l.id;
        if l.embryonic + l.accept.len() >= l.backlog {
            if self.cfg.syn_cookies && l.accept.len() < l.backlog {
                self.send_cookie(local, remote, seg, path, now);
            }
            return;
        }
        if let Some(Sock::Listener(l)) = self
            .slots
            .get_mut(li as usize)
            .and_then(|s| s.sock.as_mut())
        {
            l.embryonic += 1;
        }
        let id = self.new_id();
        let iss = isn::isn(self.key, local, remote, now.as_nanos());
        let mut c = Conn::new(&self.cfg, id, local, remote, iss, ts_offset, path, now);
        c.state = TcpState::SynReceived;
        c.irs = SeqNum(seg.seq_number);
        c.rcv_nxt = c.irs + 1;
        c.rcv_adv = c.rcv_nxt;
        c.rcv_adv_sent = c.rcv_nxt;
        c.snd_wnd = u32::from(seg.window_len);
        c.snd_wl1 = c.irs;
        c.parent = Some((li, lid));
        self.stats.passive_opens += 1;
        let i = self.alloc(Sock::Conn(Box::new(c)));
        self.conns.insert(tuple, i);
        self.drive(i, path, now, |c, env| {
            c.take_syn_options(env, seg);
            c.output(env);
        });
    }

    /// RFC 9293 TIME-WAIT for an entry of the table; returns true when a new SYN should go on
    /// to the listener (RFC 6191: its sequence number or timestamp is past the old connection).
    fn time_wait_input(&mut self, tuple: Tuple, e: TwEntry, seg: &TcpRepr, now: Instant) -> bool {
        let f = seg.flags;
        if f.rst() {
            // RFC 1337: a RST must not end TIME-WAIT early.
            return false;
        }
        if f.syn() && !f.ack() {
            let newer_ts = match (e.ts, seg.timestamp) {
                (Some((recent, _)), Some((tsval, _))) => (tsval.wrapping_sub(recent) as i32) > 0,
                _ => false,
            };
            if SeqNum(seg.seq_number) > e.rcv_nxt || newer_ts {
                self.tw.remove(&tuple);
                return true;
            }
        }
        let mut repr = TcpRepr {
            src_port: tuple.0.port(),
            dst_port: tuple.1.port(),
            seq_number: e.snd_nxt.0,
            ack_number: e.rcv_nxt.0,
            flags: TcpFlags::ACK,
            window_len: 0,
            ..TcpRepr::default()
        };
        if let Some((recent, off)) = e.ts {
            let now_ts = ts_clock(now, off);
            repr.timestamp = Some((now_ts, recent));
        }
        if f.fin() {
            // The peer's FIN again: our ACK was lost; TIME-WAIT restarts.
            if let Some(x) = self.tw.get_mut(&tuple) {
                x.expires = now + self.cfg.msl.saturating_mul(2);
            }
            self.tw_order
                .push_back((tuple, now + self.cfg.msl.saturating_mul(2)));
        }
        self.stats.out_segs += 1;
        self.out.push(seg_from_repr(tuple.0, tuple.1, &repr));
        false
    }

    fn reset(&mut self, local: SocketAddrV4, remote: SocketAddrV4, seg: &TcpRepr, len: usize) {
        let seg_len = len + usize::from(seg.flags.syn()) + usize::from(seg.flags.fin());
        if let Some(r) = reset_for(local, remote, seg, seg_len) {
            self.stats.out_rsts += 1;
            self.stats.out_segs += 1;
            self.out.push(r);
        }
    }

    fn send_cookie(
        &mut self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        path: Path,
        now: Instant,
    ) {
        let mss = seg.max_seg_size.unwrap_or(536).min(path.mss);
        let c = isn::cookie(self.key, local, remote, seg.seq_number, now.as_nanos(), mss);
        let mut repr = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq_number: c,
            ack_number: seg.seq_number.wrapping_add(1),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window_len: self.cfg.recv_buffer.min(65535) as u16,
            max_seg_size: Some(path.mss),
            ..TcpRepr::default()
        };
        // With timestamps, the client's window scale and SACK-permitted travel in our TSval
        // and come back in its ACK's TSecr; without, the cookie connection has neither.
        if let Some((tsval, _)) = seg.timestamp.filter(|_| self.cfg.timestamps) {
            let wscale = seg.window_scale.filter(|_| self.cfg.window_scaling);
            let sack = seg.sack_permitted && self.cfg.sack;
            let off = isn::cookie_ts_offset(self.key, local, remote);
            let clock = ts_clock(now, off);
            repr.timestamp = Some((isn::cookie_tsval(clock, wscale, sack), tsval));
            repr.window_scale = wscale.map(|_| super::conn::wscale_for(self.cfg.recv_buffer));
            repr.sack_permitted = sack;
        }
        self.stats.syn_cookies_sent += 1;
        self.stats.out_segs += 1;
        self.out.push(seg_from_repr(local, remote, &repr));
    }

    /// The ACK completing a cookie handshake: a connection, ESTABLISHED, or None.
    #[allow(clippy::too_many_arguments)]
    fn cookie_ack(
        &mut self,
        li: u32,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpRepr,
        path: Path,
        now: Instant,
        ts_offset: u32,
    ) -> Option<u32> {
        let client_isn = seg.seq_number.wrapping_sub(1);
        let cookie = seg.ack_number.wrapping_sub(1);
        let mss = isn::check_cookie(self.key, local, remote, client_isn, now.as_nanos(), cookie)?;
        let lid = match self.slots.get(li as usize)?.sock.as_ref()? {
            Sock::Listener(l) if l.accept.len() < l.backlog => l.id,
            _ => return None,
        };
        // The options the SYN-ACK granted come back in the TSecr (see send_cookie).
        let ts_options = match seg.timestamp.filter(|_| self.cfg.timestamps) {
            Some((tsval, tsecr)) => {
                let off = isn::cookie_ts_offset(self.key, local, remote);
                let clock = ts_clock(now, off);
                // An echo from the future or older than a cookie lives is not ours.
                if clock.wrapping_sub(tsecr) > 130_000 {
                    return None;
                }
                Some((tsval, off, isn::cookie_ts_options(tsecr)))
            }
            None => None,
        };
        let id = self.new_id();
        let ts_offset = ts_options.map_or(ts_offset, |(_, off, _)| off);
        let mut c = Conn::new(&self.cfg, id, local, remote, cookie, ts_offset, path, now);
        c.state = TcpState::SynReceived;
        // What the SYN-ACK said: the encoded MSS, and the options the TSecr carries (none
        // without timestamps).
        c.ws_ok = false;
        c.rcv_wscale = 0;
        if let Some((tsval, _, (wscale, sack))) = ts_options {
            c.ts_ok = true;
            c.ts_recent = tsval;
            c.ts_recent_at = now;
            c.sack_ok = sack;
            if let Some(s) = wscale {
                c.ws_ok = true;
                c.snd_wscale = s;
                c.rcv_wscale = super::conn::wscale_for(self.cfg.recv_buffer);
            }
        }
        c.irs = SeqNum(client_isn);
        c.rcv_nxt = SeqNum(seg.seq_number);
        c.rcv_adv = c.rcv_nxt + self.cfg.recv_buffer.min(65535);
        c.rcv_adv_sent = c.rcv_adv;
        c.snd_nxt = SeqNum(cookie) + 1;
        c.snd_max = c.snd_nxt;
        c.peer_mss = mss;
        c.set_mss(path);
        c.cc = super::cc::Cc::new(self.cfg.congestion, u32::from(c.mss));
        c.parent = Some((li, lid));
        if let Some(Sock::Listener(l)) = self
            .slots
            .get_mut(li as usize)
            .and_then(|s| s.sock.as_mut())
        {
            l.embryonic += 1;
        }
        self.stats.syn_cookies_accepted += 1;
        self.stats.passive_opens += 1;
        let i = self.alloc(Sock::Conn(Box::new(c)));
        self.conns.insert((local, remote), i);
        Some(i)
    }

    /// The pure ACK a TIME-WAIT entry would send (for tests and SHOW).
    pub(crate) fn time_wait_entries(&self) -> impl Iterator<Item = (&Tuple, &TwEntry)> {
        self.tw.iter()
    }

    /// A bare RST|ACK for a connection being aborted.
    pub(crate) fn abort_segment(c: &Conn) -> SegOut {
        bare_segment(
            c.local,
            c.remote,
            c.snd_nxt.0,
            c.rcv_nxt.0,
            TcpFlags::RST | TcpFlags::ACK,
            0,
        )
    }
}

fn hash_seed(key: &[u64; 2]) -> u64 {
    use std::hash::BuildHasher;
    crate::hash::Seed::with_seed(key[1]).hash_one(key[0] ^ 0x6861_7368_7365_6564)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// The maps keyed by what peers send hash with a seed from the stack's secret: two stacks
    /// place the same tuple differently, so nobody can work out colliding keys in advance.
    #[test]
    fn peer_keyed_maps_are_seeded_per_stack() {
        let a = TcpTable::new(TcpConfig::default(), &mut crate::XorShiftRng::new(1));
        let b = TcpTable::new(TcpConfig::default(), &mut crate::XorShiftRng::new(2));
        assert_ne!(a.hash_seed(), b.hash_seed());
        let key = 0x0a00_0001_1f90_c350u64;
        assert_ne!(
            a.conns.hasher().hash_one(key),
            b.conns.hasher().hash_one(key)
        );
        assert_ne!(a.tw.hasher().hash_one(key), b.tw.hasher().hash_one(key));
        // The seed is not the secret itself.
        assert!(!a.key.contains(&a.hash_seed()));
    }
}
