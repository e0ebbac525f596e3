//! The `Stack::tcp_*` calls, and TCP's hooks into the stack: segments in from IPv4, ICMP
//! errors, timers, and segments out through routing (with PMTU discovery's DF) or as TSO
//! super-segments.

use super::conn::{Conn, Path, SegOut};
use super::offload::{split_segment, IfaceOffloads, TsoMeta};
use super::recv_queue::SHARE_MIN;
use super::seq::SeqNum;
use super::table::{Sock, TcpTable};
use super::{TcpConfig, TcpError, TcpHandle, TcpInfo, TcpReadiness, TcpState, TcpStats};
use crate::stack::{Cast, OutRoute};
use crate::{IfaceId, Instant, LinkContext, Stack, StackEvent};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// How long a connection trusts its cached path (MSS, TSO) before reading the routes again.
const PATH_TTL: Duration = Duration::from_millis(500);
use wire::tcp::{TcpPacket, TcpRepr};
use wire::{
    Encapsulation, EtherType, EthernetFrame, FrameRepr, IpProtocol, Ipv4OptionsBuf, Ipv4Packet,
    Ipv4Repr, PacketBuf,
};

/// A received segment's frame: shared (its payload may stay in it, in the receive buffer) or
/// owned as it came.
enum RxFrame {
    Owned(PacketBuf),
    /// The buffer and the frame's bounds in it.
    Shared(std::sync::Arc<Vec<u8>>, usize, usize),
}

impl RxFrame {
    fn bytes(&self) -> &[u8] {
        match self {
            RxFrame::Owned(b) => b.as_slice(),
            RxFrame::Shared(f, head, tail) => f.get(*head..*tail).unwrap_or_default(),
        }
    }
}

impl Stack {
    // ----- internal: paths, output, input -----

    /// The path to `dst` from `src`: MSS from the route's MTU (a PMTU host route included),
    /// and whether the link takes TSO super-segments.
    pub(crate) fn tcp_path(&self, dst: Ipv4Addr, src: Ipv4Addr, now: Instant) -> Path {
        match self.route_out(dst, Some(src), None, now) {
            Ok(r) => {
                let (mtu, tso) = if r.local {
                    (self.effective_mtu(self.lo, None), false)
                } else {
                    let link = self.iface(r.iface).map_or(r.iface, |i| i.link);
                    let tso = self.tcp.offloads.get(&link).is_some_and(|o| o.tso);
                    (self.effective_mtu(r.iface, r.mtu), tso)
                };
                Path {
                    mss: mtu.saturating_sub(40).clamp(64, 65535 - 40) as u16,
                    tso,
                }
            }
            Err(_) => Path {
                mss: 536,
                tso: false,
            },
        }
    }

    /// A connection's path: cached for `PATH_TTL` so that a segment does not cost a route
    /// lookup (an ICMP fragmentation-needed refreshes it at once).
    pub(super) fn tcp_path_of(&mut self, index: u32, now: Instant) -> Path {
        let Some(c) = self.tcp.conn_at(index) else {
            return Path {
                mss: 536,
                tso: false,
            };
        };
        if let Some((p, at)) = c.path_cache {
            if now.saturating_duration_since(at) < PATH_TTL {
                return p;
            }
        }
        let p = self.tcp_path(*c.remote.ip(), *c.local.ip(), now);
        if let Some(c) = self.tcp.conn_at_mut(index) {
            c.path_cache = Some((p, now));
        }
        p
    }

    /// Sends what TCP queued and posts its events.
    pub(crate) fn tcp_flush(&mut self, now: Instant) {
        if !self.tcp.out.is_empty() {
            let mut segs = std::mem::take(&mut self.tcp.out);
            // Consecutive segments of one connection share a route lookup.
            let mut last: Option<(Ipv4Addr, Ipv4Addr, OutRoute)> = None;
            for s in segs.drain(..) {
                let route = match last {
                    Some((src, dst, r)) if src == s.src && dst == s.dst => Ok(r),
                    _ => self.route_out(s.dst, Some(s.src), None, now),
                };
                match route {
                    Ok(r) => {
                        last = Some((s.src, s.dst, r));
                        self.tcp_send_seg(s, r, now);
                    }
                    Err(_) => self.stats.ip_out_no_routes += 1,
                }
            }
            // Keep the allocation for the next round.
            if self.tcp.out.is_empty() {
                self.tcp.out = segs;
            }
        }
        for (local, remote) in std::mem::take(&mut self.tcp.closed_port_syns) {
            self.event(StackEvent::ClosedPort {
                src: *remote.ip(),
                dst: local,
                protocol: 6,
            });
        }
        for h in std::mem::take(&mut self.tcp.events) {
            // Deduplicated per handle, so bounded by the number of sockets: not subject to the
            // event queue's cap, which would lose a wake-up.
            if self.tcp.evented.insert(h) {
                self.events.push(StackEvent::Tcp(h));
            }
        }
    }

    fn tcp_send_seg(&mut self, seg: SegOut, route: OutRoute, now: Instant) {
        let df = self.config.pmtu_discovery;
        let tos = ecn_tos(seg.ect);
        if let Some(mss) = seg.tso_mss {
            let seg = match self.tcp_send_tso(route, seg, mss, now) {
                Ok(()) => return,
                Err(s) => s,
            };
            for b in split_segment(&seg.buf, seg.src, seg.dst, mss) {
                self.tcp_send_routed(route, seg.dst, b, df, tos, now);
            }
            return;
        }
        self.tcp_send_routed(route, seg.dst, seg.buf, df, tos, now);
    }

    fn tcp_send_routed(
        &mut self,
        route: OutRoute,
        dst: Ipv4Addr,
        buf: PacketBuf,
        df: bool,
        tos: u8,
        now: Instant,
    ) {
        let ttl = self.config.default_ttl;
        let _ = self.ip_send_routed(
            route,
            dst,
            buf,
            IpProtocol::Tcp,
            ttl,
            tos,
            df,
            Ipv4OptionsBuf::new(),
            now,
        );
    }

    /// A super-segment straight to a TSO link; gives it back when that cannot be done (ARP not
    /// resolved, 802.2 framing, a filter that drops it, link down).
    fn tcp_send_tso(
        &mut self,
        route: OutRoute,
        mut seg: SegOut,
        mss: u16,
        now: Instant,
    ) -> Result<(), SegOut> {
        if route.local {
            return Err(seg);
        }
        let Some(i) = self.iface(route.iface) else {
            return Err(seg);
        };
        let link = i.link;
        let Some(l) = self.iface(link) else {
            return Err(seg);
        };
        if !i.is_up() || !l.is_up() || l.encapsulation != Encapsulation::Ethernet {
            return Err(seg);
        }
        let src_mac = l.mac;
        let Some(mac) = self.arp.lookup(route.next_hop, link, now) else {
            return Err(seg);
        };
        let tcp_hl = match TcpPacket::new_checked(seg.buf.as_slice()) {
            Ok(p) => p.header_len(),
            Err(_) => return Err(seg),
        };
        let repr = Ipv4Repr {
            src_addr: route.src,
            dst_addr: seg.dst,
            protocol: IpProtocol::Tcp,
            payload_len: seg.buf.len(),
            ttl: self.config.default_ttl,
            tos: ecn_tos(seg.ect),
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            options: Ipv4OptionsBuf::new(),
        };
        if repr.total_len() > 65535 {
            return Err(seg);
        }
        let Ok(fr) = FrameRepr::new(
            Encapsulation::Ethernet,
            mac,
            src_mac,
            EtherType::Ipv4,
            repr.total_len(),
        ) else {
            return Err(seg);
        };
        if seg.buf.headroom() < repr.buffer_len() + fr.buffer_len() {
            seg.buf.reserve_headroom(PacketBuf::DEFAULT_HEADROOM);
        }
        let mut repr = repr;
        repr.ident = self.next_ident();
        if seg.buf.prepend(repr.buffer_len()).is_err() {
            return Err(seg);
        }
        repr.emit(&mut Ipv4Packet::new_unchecked(seg.buf.as_mut_slice()));
        if let Some(h) = self.hook.as_mut() {
            if h.check(
                crate::HookPoint::Egress,
                route.iface,
                seg.buf.as_slice(),
                now,
            ) != crate::Verdict::Pass
            {
                self.stats.ip_out_discards += 1;
                return Ok(());
            }
        }
        self.stats.ip_out_requests += 1;
        if seg.buf.prepend(fr.buffer_len()).is_err() {
            return Ok(());
        }
        fr.emit(&mut EthernetFrame::new_unchecked(seg.buf.as_mut_slice()));
        let l3 = fr.buffer_len();
        let meta = TsoMeta {
            mss,
            l3_offset: l3 as u16,
            l4_offset: (l3 + repr.buffer_len()) as u16,
            header_len: (l3 + repr.buffer_len() + tcp_hl) as u16,
        };
        if let Some(c) = self.capture.as_mut() {
            c.capture(link, crate::Direction::Out, seg.buf.as_slice(), now);
        }
        if let Some(i) = self.iface_mut(link) {
            let segs = (seg.buf.len() - usize::from(meta.header_len)).div_ceil(usize::from(mss));
            i.counters.opkts += segs.max(1) as u64;
            i.counters.out_octets += seg.buf.len() as u64;
            i.counters.out_ucast += segs.max(1) as u64;
        }
        self.tso_outbox.push((link, seg.buf, meta));
        Ok(())
    }

    /// A TCP segment for us (from `deliver`): checksum, demultiplexing, the connection.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp_input(
        &mut self,
        link: IfaceId,
        buf: PacketBuf,
        hl: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        cast: Cast,
        now: Instant,
    ) {
        if cast != Cast::Unicast {
            return;
        }
        // A big segment's frame is shared so that its payload can stay in it on the way to the
        // reader (`RecvQueue`) rather than being copied; ACKs and small data stay as they are.
        let rx = if buf.len().saturating_sub(hl) >= SHARE_MIN {
            let (v, head, tail) = buf.into_parts();
            RxFrame::Shared(std::sync::Arc::new(v), head, tail)
        } else {
            RxFrame::Owned(buf)
        };
        let Some(seg) = rx.bytes().get(hl..) else {
            return;
        };
        // The IP header's ECN field: 3 is Congestion Experienced (RFC 3168).
        let ce = rx.bytes().get(1).is_some_and(|tos| tos & 3 == 3);
        let trusted = self.rx_csum_verified
            || self
                .tcp
                .offloads
                .get(&link)
                .is_some_and(|o| o.rx_csum_trusted);
        let parsed = TcpPacket::new_checked(seg).and_then(|p| {
            if trusted {
                TcpRepr::parse_unverified(&p)
            } else {
                TcpRepr::parse(&p, src, dst)
            }
        });
        let repr = match parsed {
            Ok(r) => r,
            Err(_) => {
                self.tcp.stats.in_errs += 1;
                return;
            }
        };
        self.tcp.stats.in_segs += 1;
        let payload = &seg[seg.len() - repr.payload_len..];
        let local = SocketAddrV4::new(dst, repr.dst_port);
        let remote = SocketAddrV4::new(src, repr.src_port);
        if let Some(&i) = self.tcp.conns.get(&(local, remote)) {
            let path = self.tcp_path_of(i, now);
            self.tcp.frame = match &rx {
                RxFrame::Shared(f, ..) => Some(f.clone()),
                RxFrame::Owned(_) => None,
            };
            self.tcp.ce = ce;
            self.tcp.drive(i, path, now, |c, env| {
                c.refresh_path(env.path);
                c.input(env, &repr, payload)
            });
            self.tcp.frame = None;
            self.tcp.ce = false;
        } else {
            let path = self.tcp_path(src, dst, now);
            let off = self.rng.next_u32();
            self.tcp
                .input_unconnected(local, remote, &repr, payload, path, now, off);
        }
        self.tcp_flush(now);
    }

    /// An ICMP error quoting one of our TCP segments (RFC 5927's checks: the quoted sequence
    /// number must be in flight).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp_icmp_error(
        &mut self,
        msg_type: u8,
        code: u8,
        qsrc: Ipv4Addr,
        qdst: Ipv4Addr,
        quote: &[u8],
        now: Instant,
    ) {
        let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, ..] = *quote else {
            return;
        };
        let local = SocketAddrV4::new(qsrc, u16::from_be_bytes([sp0, sp1]));
        let remote = SocketAddrV4::new(qdst, u16::from_be_bytes([dp0, dp1]));
        let seq = SeqNum(u32::from_be_bytes([s0, s1, s2, s3]));
        let Some(&i) = self.tcp.conns.get(&(local, remote)) else {
            return;
        };
        let Some(c) = self.tcp.conn_at(i) else {
            return;
        };
        if seq < c.snd_una || seq > c.snd_max {
            return;
        }
        let path = self.tcp_path(qdst, qsrc, now);
        if let Some(c) = self.tcp.conn_at_mut(i) {
            c.path_cache = Some((path, now));
        }
        let pmtu = self.config.pmtu_discovery;
        self.tcp.drive(i, path, now, |c, env| {
            c.icmp_error(env, msg_type, code, pmtu);
        });
        self.tcp_flush(now);
    }

    /// Runs TCP's due timers.
    pub(crate) fn tcp_timers(&mut self, now: Instant) {
        for i in self.tcp.due(now) {
            let path = self.tcp_path_of(i, now);
            self.tcp.drive(i, path, now, |c, env| {
                c.refresh_path(env.path);
                c.on_timer(env)
            });
        }
        self.tcp_flush(now);
    }

    pub(super) fn tcp_done<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, now: Instant) {
        self.tcp_flush(now);
        self.run_loopback(now);
        self.flush(ctx);
    }

    // ----- the public calls -----

    /// Marks what an interface's link can offload (TSO, trusted receive checksums).
    pub fn set_offloads(&mut self, iface: IfaceId, offloads: IfaceOffloads) {
        self.tcp.offloads.insert(iface, offloads);
    }

    /// A listener on `local` (0.0.0.0: every address; port 0: an ephemeral port) with room
    /// for `backlog` connections being set up or waiting for `tcp_accept`.
    pub fn tcp_listen(
        &mut self,
        local: SocketAddrV4,
        backlog: usize,
    ) -> Result<TcpHandle, TcpError> {
        let ip = *local.ip();
        if !ip.is_unspecified() && !self.local.contains_key(&ip) {
            return Err(TcpError::AddrNotAvailable);
        }
        let local = if local.port() == 0 {
            let p = self
                .tcp
                .alloc_port(ip, None, self.rng.as_mut())
                .ok_or(TcpError::NoPorts)?;
            SocketAddrV4::new(ip, p)
        } else {
            local
        };
        if !self.tcp.listen_free(local) {
            return Err(TcpError::AddrInUse);
        }
        Ok(self.tcp.listen(local, backlog))
    }

    /// Takes one established connection from a listener's accept queue.
    pub fn tcp_accept(
        &mut self,
        listener: TcpHandle,
    ) -> Result<(TcpHandle, SocketAddrV4), TcpError> {
        if self.tcp.conn(listener).is_some() {
            return Err(TcpError::InvalidState);
        }
        loop {
            match self.tcp.accept(listener) {
                None => return Err(TcpError::InvalidHandle),
                Some(None) => return Err(TcpError::WouldBlock),
                Some(Some(i)) => {
                    let h = self.tcp.handle_at(i);
                    if let Some(c) = self.tcp.conn(h) {
                        let remote = c.remote;
                        // What happened before accept (data, FIN, a reset) raised no event for
                        // this handle: raise one now.
                        if (c.rbuf.len() > 0 || c.fin_rcvd || c.error.is_some())
                            && self.tcp.evented.insert(h)
                        {
                            self.events.push(StackEvent::Tcp(h));
                        }
                        return Ok((h, remote));
                    }
                }
            }
        }
    }

    /// Opens a connection to `remote` (non-blocking: `tcp_poll(..).connected` later, or an
    /// error). `local` picks the source address and/or port (port 0: ephemeral).
    pub fn tcp_connect<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        remote: SocketAddrV4,
        local: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<TcpHandle, TcpError> {
        let rip = *remote.ip();
        if rip.is_unspecified() || rip.is_multicast() || rip.is_broadcast() || remote.port() == 0 {
            return Err(TcpError::AddrNotAvailable);
        }
        let want_ip = local.map(|l| *l.ip()).filter(|a| !a.is_unspecified());
        if let Some(a) = want_ip {
            if !self.local.contains_key(&a) && !a.is_loopback() {
                return Err(TcpError::AddrNotAvailable);
            }
        }
        let route = self
            .route_out(rip, want_ip, None, now)
            .map_err(|_| TcpError::Unreachable)?;
        if self.bcast.iter().any(|(b, _)| *b == rip) {
            return Err(TcpError::AddrNotAvailable);
        }
        let src = route.src;
        let port = match local.map(|l| l.port()).filter(|p| *p != 0) {
            Some(p) => {
                let l = SocketAddrV4::new(src, p);
                if self.tcp.conns.contains_key(&(l, remote))
                    || self.tcp.tw.contains_key(&(l, remote))
                {
                    return Err(TcpError::AddrInUse);
                }
                p
            }
            None => self
                .tcp
                .alloc_port(src, Some(remote), self.rng.as_mut())
                .ok_or(TcpError::NoPorts)?,
        };
        let local = SocketAddrV4::new(src, port);
        let path = self.tcp_path(rip, src, now);
        let off = self.rng.next_u32();
        let i = self.tcp.connect(local, remote, path, now, off);
        self.tcp.drive(i, path, now, |c, env| c.output(env));
        self.tcp_done(ctx, now);
        Ok(self.tcp.handle_at(i))
    }

    pub(super) fn tcp_index(&self, h: TcpHandle) -> Result<u32, TcpError> {
        match self.tcp.conn(h) {
            Some(_) => Ok(h.index),
            None if self.tcp.listener(h).is_some() => Err(TcpError::InvalidState),
            None => Err(TcpError::InvalidHandle),
        }
    }

    /// Copies as much of `data` as the send buffer takes (0..=len); WouldBlock if none fits.
    pub fn tcp_send<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, TcpError> {
        self.tcp_send_inner(ctx, h, data, false, now)
    }

    /// Sends `data` as urgent data (TELNET's Synch): the urgent pointer marks its end.
    pub fn tcp_send_urgent<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, TcpError> {
        self.tcp_send_inner(ctx, h, data, true, now)
    }

    fn tcp_send_inner<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        data: &[u8],
        urgent: bool,
        now: Instant,
    ) -> Result<usize, TcpError> {
        let i = self.tcp_index(h)?;
        let c = self.tcp.conn_mut(h).ok_or(TcpError::InvalidHandle)?;
        if let Some(e) = c.error {
            return Err(e);
        }
        if c.fin_queued {
            return Err(TcpError::InvalidState);
        }
        match c.state {
            TcpState::SynSent
            | TcpState::SynReceived
            | TcpState::Established
            | TcpState::CloseWait => {}
            _ => return Err(TcpError::NotConnected),
        }
        let n = c.sbuf.push(data);
        if n == 0 && !data.is_empty() {
            return Err(TcpError::WouldBlock);
        }
        if urgent && n > 0 {
            c.snd_up = Some(c.sbuf_seq + c.sbuf.len());
        }
        let path = self.tcp_path_of(i, now);
        self.tcp.drive(i, path, now, |c, env| {
            c.refresh_path(env.path);
            c.output(env)
        });
        self.tcp_done(ctx, now);
        Ok(n)
    }

    /// Bytes to read before the urgent mark (0: the next byte read is the last urgent byte, as
    /// SIOCATMARK reports); None when no urgent data is ahead.
    pub fn tcp_urgent_mark(&self, h: TcpHandle) -> Option<usize> {
        let c = self.tcp.conn(h)?;
        let up = c.rcv_up?;
        let read_at = c.rcv_nxt - (c.rbuf.len() + usize::from(c.fin_rcvd));
        let mark = up - 1;
        (mark >= read_at).then(|| mark.since(read_at))
    }

    /// Sends FIN after the queued data (half-close); reading goes on.
    pub fn tcp_shutdown_write<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        now: Instant,
    ) -> Result<(), TcpError> {
        let i = self.tcp_index(h)?;
        let c = self.tcp.conn_mut(h).ok_or(TcpError::InvalidHandle)?;
        if c.fin_queued {
            return Ok(());
        }
        match c.state {
            TcpState::SynSent => {
                c.close_with(None);
            }
            TcpState::SynReceived => c.fin_queued = true,
            TcpState::Established => {
                c.fin_queued = true;
                c.state = TcpState::FinWait1;
            }
            TcpState::CloseWait => {
                c.fin_queued = true;
                c.state = TcpState::LastAck;
            }
            _ => return Err(TcpError::NotConnected),
        }
        c.wake = true;
        let path = self.tcp_path_of(i, now);
        self.tcp.drive(i, path, now, |c, env| c.output(env));
        self.tcp_done(ctx, now);
        Ok(())
    }

    /// Graceful close: the handle is released at once; queued data and FIN still go out (orphan).
    /// Unread received data makes it an abort (RFC 2525 2.17).
    pub fn tcp_close<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, h: TcpHandle, now: Instant) {
        if self.tcp.listener(h).is_some() {
            return self.tcp_close_listener(ctx, h, now);
        }
        let Some(c) = self.tcp.conn(h) else {
            return;
        };
        let unread = c.rbuf.len() > 0;
        match c.state {
            TcpState::SynSent | TcpState::Closed => {
                self.tcp.remove_conn(h.index);
                return self.tcp_done(ctx, now);
            }
            _ if unread => return self.tcp_abort(ctx, h, now),
            TcpState::Established | TcpState::CloseWait | TcpState::SynReceived => {
                let _ = self.tcp_shutdown_write(ctx, h, now);
            }
            _ => {}
        }
        self.tcp.orphan(h);
        if let Some(c) = self.tcp.conn_at(h.index) {
            if c.state == TcpState::FinWait2 {
                let t = now + self.tcp.cfg.msl.saturating_mul(2);
                let path = self.tcp_path_of(h.index, now);
                self.tcp
                    .drive(h.index, path, now, |c, _| c.close_at = Some(t));
            } else {
                self.tcp.settle(h.index, now);
            }
        }
        self.tcp_done(ctx, now);
    }

    fn tcp_close_listener<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        now: Instant,
    ) {
        for i in self.tcp.close_listener(h) {
            if let Some(c) = self.tcp.conn_at(i) {
                let rst = TcpTable::abort_segment(c);
                self.tcp.stats.out_rsts += 1;
                self.tcp.stats.out_segs += 1;
                self.tcp.out.push(rst);
            }
            self.tcp.remove_conn(i);
        }
        self.tcp_done(ctx, now);
    }

    /// Abortive close: RST, handle released.
    pub fn tcp_abort<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, h: TcpHandle, now: Instant) {
        if self.tcp.listener(h).is_some() {
            return self.tcp_close_listener(ctx, h, now);
        }
        let Some(c) = self.tcp.conn(h) else {
            return;
        };
        if matches!(
            c.state,
            TcpState::SynReceived
                | TcpState::Established
                | TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::CloseWait
        ) {
            let rst = TcpTable::abort_segment(c);
            let estab = c.is_estab();
            self.tcp.stats.out_rsts += 1;
            self.tcp.stats.out_segs += 1;
            if estab {
                self.tcp.stats.estab_resets += 1;
            }
            self.tcp.out.push(rst);
        }
        self.tcp.remove_conn(h.index);
        self.tcp_done(ctx, now);
    }

    /// What the socket can do now.
    pub fn tcp_poll(&self, h: TcpHandle) -> TcpReadiness {
        if let Some(l) = self.tcp.listener(h) {
            return TcpReadiness {
                acceptable: !l.accept.is_empty(),
                ..TcpReadiness::default()
            };
        }
        let Some(c) = self.tcp.conn(h) else {
            return TcpReadiness {
                closed: true,
                ..TcpReadiness::default()
            };
        };
        let closed = c.state == TcpState::Closed;
        let eof = c.fin_rcvd && c.rbuf.len() == 0;
        let open = matches!(c.state, TcpState::Established | TcpState::CloseWait);
        let low_water = (c.sbuf.cap / 4).clamp(1, 64 * 1024);
        TcpReadiness {
            readable: c.rbuf.len() > 0 || eof || closed,
            writable: open && !c.fin_queued && c.sbuf.free() >= low_water || closed,
            acceptable: false,
            connected: c.was_connected,
            eof,
            closed,
            error: c.error,
        }
    }

    fn tcp_conn_set(&mut self, h: TcpHandle, f: impl FnOnce(&mut Conn)) -> Result<(), TcpError> {
        self.tcp_index(h)?;
        let c = self.tcp.conn_mut(h).ok_or(TcpError::InvalidHandle)?;
        f(c);
        Ok(())
    }

    /// TCP_NODELAY: `true` turns Nagle's algorithm off.
    pub fn tcp_set_nodelay(&mut self, h: TcpHandle, on: bool) -> Result<(), TcpError> {
        self.tcp_conn_set(h, |c| c.nagle = !on)
    }

    /// Delayed ACKs on or off for this socket.
    pub fn tcp_set_delayed_ack(&mut self, h: TcpHandle, on: bool) -> Result<(), TcpError> {
        self.tcp_conn_set(h, |c| c.delayed_ack = on)
    }

    /// SO_KEEPALIVE: probes after `keepalive_idle` without a segment from the peer.
    pub fn tcp_set_keepalive(&mut self, h: TcpHandle, on: bool) -> Result<(), TcpError> {
        let idle = self.tcp.cfg.keepalive_idle;
        let mut at = None;
        self.tcp_conn_set(h, |c| {
            c.keepalive = on;
            c.keepalive_at = if on && c.was_connected {
                Some(c.last_rx + idle)
            } else {
                None
            };
            at = Some(c.last_rx);
        })?;
        if let Some(t) = at {
            self.tcp.settle(h.index, t);
        }
        Ok(())
    }

    /// The local address.
    pub fn tcp_local_addr(&self, h: TcpHandle) -> Option<SocketAddrV4> {
        if let Some(l) = self.tcp.listener(h) {
            return Some(l.local);
        }
        self.tcp.conn(h).map(|c| c.local)
    }

    /// The peer's address.
    pub fn tcp_peer_addr(&self, h: TcpHandle) -> Option<SocketAddrV4> {
        self.tcp.conn(h).map(|c| c.remote)
    }

    /// One socket's row.
    pub fn tcp_info(&self, h: TcpHandle) -> Option<TcpInfo> {
        if let Some(l) = self.tcp.listener(h) {
            return Some(self.listener_info(Some(h), l));
        }
        self.tcp.conn(h).map(|c| conn_info(Some(h), c))
    }

    fn listener_info(&self, h: Option<TcpHandle>, l: &super::table::Listener) -> TcpInfo {
        let cfg = &self.tcp.cfg;
        TcpInfo {
            handle: h,
            local: l.local,
            remote: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            state: TcpState::Listen,
            send_queue: 0,
            recv_queue: l.accept.len(),
            srtt: None,
            rttvar: Duration::ZERO,
            rto: cfg.rto_initial,
            mss: 0,
            cwnd: 0,
            ssthresh: 0,
            snd_wnd: 0,
            rcv_wnd: 0,
            retransmits: 0,
            bytes_sent: 0,
            bytes_received: 0,
            congestion: cfg.congestion,
        }
    }

    /// Every listener, connection, orphan and TIME-WAIT entry.
    pub fn tcp_connections(&self) -> Vec<TcpInfo> {
        let mut v = Vec::new();
        for (i, s) in self.tcp.socks() {
            let h = self.tcp.handle_at(i);
            match s {
                Sock::Listener(l) => v.push(self.listener_info(Some(h), l)),
                Sock::Conn(c) => {
                    let owned = !c.orphan && c.parent.is_none();
                    v.push(conn_info(owned.then_some(h), c));
                }
            }
        }
        let mut base = self.listener_info(
            None,
            &super::table::Listener {
                local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
                backlog: 0,
                accept: Default::default(),
                embryonic: 0,
                id: 0,
            },
        );
        base.state = TcpState::TimeWait;
        for ((l, r), _) in self.tcp.time_wait_entries() {
            let mut row = base.clone();
            row.local = *l;
            row.remote = *r;
            v.push(row);
        }
        v
    }

    /// TCP-MIB counters.
    pub fn tcp_stats(&self) -> TcpStats {
        self.tcp.stats
    }

    /// TCP's configuration.
    pub fn tcp_config(&self) -> &TcpConfig {
        &self.tcp.cfg
    }

    /// New TCP settings; they apply to connections made from now on.
    pub fn set_tcp_config(&mut self, cfg: TcpConfig) {
        self.config.tcp = cfg.clone();
        self.tcp.cfg = cfg;
    }
}

fn conn_info(handle: Option<TcpHandle>, c: &Conn) -> TcpInfo {
    TcpInfo {
        handle,
        local: c.local,
        remote: c.remote,
        state: c.state,
        send_queue: c.sbuf.len(),
        recv_queue: c.rbuf.len(),
        srtt: c.rtt.srtt,
        rttvar: c.rtt.rttvar,
        rto: c.rto(),
        mss: c.mss,
        cwnd: c.cc.cwnd,
        ssthresh: c.cc.ssthresh,
        snd_wnd: c.snd_wnd,
        rcv_wnd: c.rcv_adv.since(c.rcv_nxt) as u32,
        retransmits: c.retransmits,
        bytes_sent: c.bytes_sent,
        bytes_received: c.bytes_received,
        congestion: c.algo(),
    }
}

impl Conn {
    /// The path's MSS went down (PMTU): smaller segments from now on.
    pub(crate) fn refresh_path(&mut self, path: Path) {
        if matches!(
            self.state,
            TcpState::SynSent | TcpState::SynReceived | TcpState::Closed
        ) {
            return;
        }
        let opts = if self.ts_ok { 12 } else { 0 };
        let m = self.peer_mss.min(path.mss).saturating_sub(opts).max(64);
        if m < self.mss {
            self.mss = m;
        }
    }

    /// An ICMP error for this connection.
    pub(crate) fn icmp_error(
        &mut self,
        env: &mut super::conn::Env<'_>,
        msg_type: u8,
        code: u8,
        pmtu: bool,
    ) {
        if msg_type == 3 && code == 4 {
            if pmtu {
                let before = self.mss;
                self.refresh_path(env.path);
                if self.mss < before && self.snd_max > self.snd_una {
                    // RFC 1191: send again at once in smaller segments (no congestion response).
                    self.snd_nxt = self.snd_una;
                    self.recovery = None;
                    self.output(env);
                }
            }
            return;
        }
        let err = match (msg_type, code) {
            (3, 2) | (3, 3) => TcpError::ConnectionRefused,
            _ => TcpError::Unreachable,
        };
        // RFC 1122 4.2.3.9 and RFC 5461: hard errors abort a connection being set up;
        // everything else is a soft error, reported if the connection later times out.
        let hard = msg_type == 3 && matches!(code, 2 | 3 | 9 | 10 | 13);
        if self.state == TcpState::SynSent && hard {
            env.stats.attempt_fails += 1;
            self.close_with(Some(err));
        } else {
            self.soft_error = Some(err);
        }
    }
}

/// The IP header's TOS byte of a TCP segment: ECT(0) for data of an ECN connection (RFC 3168).
fn ecn_tos(ect: bool) -> u8 {
    if ect {
        0b10
    } else {
        0
    }
}
