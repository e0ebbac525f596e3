//! IPv4 input (local delivery by cast, the ingress hook, reassembly), forwarding between
//! interfaces, and output (route and source selection, the egress hook, fragmentation).

use super::{is_bad_source, Cast, IcmpErr, OutRoute, ALL_HOSTS};
use crate::iface::{IfaceId, IfaceKind};
use crate::reasm::Outcome;
use crate::{Direction, HookPoint, Instant, LinkContext, SendError, Stack, Verdict};
use std::net::Ipv4Addr;
use wire::icmpv4::{DstUnreachable, TimeExceeded};
use wire::{
    Encapsulation, EtherType, EthernetAddress, EthernetFrame, FrameRepr, IpProtocol,
    Ipv4OptionsBuf, Ipv4Packet, Ipv4Repr, PacketBuf,
};

impl Stack {
    // ----- IPv4 in -----

    fn cast_of(&self, dst: Ipv4Addr, link: IfaceId) -> Option<Cast> {
        if dst.is_broadcast() {
            return Some(Cast::Broadcast);
        }
        if dst.is_multicast() {
            return Some(Cast::Multicast);
        }
        if self.bcast.iter().any(|(b, l)| *b == dst && *l == link) {
            return Some(Cast::Broadcast);
        }
        None
    }

    pub(super) fn ip_input(
        &mut self,
        link: IfaceId,
        mut buf: PacketBuf,
        link_bcast: bool,
        now: Instant,
    ) {
        self.stats.ip_in_receives += 1;
        let (src, dst, total, frag) = match Ipv4Packet::new_checked(buf.as_slice()) {
            Ok(p) if p.version() == 4 && p.verify_checksum() => (
                p.src_addr(),
                p.dst_addr(),
                usize::from(p.total_len()),
                p.is_fragment(),
            ),
            _ => {
                self.stats.ip_in_hdr_errors += 1;
                return self.count_in_error(link);
            }
        };
        buf.truncate(total);
        // Martians: a multicast or broadcast source; loopback addresses from a real link.
        if is_bad_source(src) || (link != self.lo && (src.is_loopback() || dst.is_loopback())) {
            self.stats.ip_in_addr_errors += 1;
            return self.count_in_discard(link);
        }
        if let Some(h) = self.hook.as_mut() {
            match h.check(HookPoint::Ingress, link, buf.as_slice(), now) {
                Verdict::Pass => {}
                Verdict::Drop => return self.count_in_discard(link),
                Verdict::Deny => {
                    self.count_in_discard(link);
                    return self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::CommProhibited, 0),
                        now,
                    );
                }
            }
        }
        let cast = if self.local.contains_key(&dst) {
            Some(Cast::Unicast)
        } else {
            self.cast_of(dst, link)
        };
        match cast {
            Some(Cast::Multicast)
                if dst != ALL_HOSTS && !self.groups.contains_key(&(link, dst)) =>
            {
                self.stats.ip_in_discards += 1;
                self.count_in_discard(link)
            }
            Some(cast) => {
                if frag {
                    match self.reasm.add(buf.as_slice(), now) {
                        Outcome::Complete(whole) => buf = whole,
                        Outcome::Pending | Outcome::Dropped => return,
                    }
                }
                self.deliver(link, buf, cast, now);
            }
            None if self.config.gateway_mode && !link_bcast && link != self.lo => {
                self.forward(link, buf, now)
            }
            None => {
                self.stats.ip_in_addr_errors += 1;
                self.count_in_discard(link)
            }
        }
    }

    pub(super) fn deliver(&mut self, link: IfaceId, mut buf: PacketBuf, cast: Cast, now: Instant) {
        let (src, dst, proto, hl) = match Ipv4Packet::new_checked(buf.as_slice()) {
            Ok(p) => (p.src_addr(), p.dst_addr(), p.protocol(), p.header_len()),
            Err(_) => return,
        };
        self.stats.ip_in_delivers += 1;
        match proto {
            IpProtocol::Icmp => {
                if buf.trim_front(hl).is_ok() {
                    self.icmp_input(link, buf, src, dst, cast, now);
                }
            }
            IpProtocol::Igmp => {
                if buf.trim_front(hl).is_ok() {
                    self.igmp_input(link, buf, src, now);
                }
            }
            IpProtocol::Udp => self.udp_input(link, buf, hl, src, dst, cast, now),
            IpProtocol::Tcp => self.tcp_input(link, buf, hl, src, dst, cast, now),
            _ => {
                self.stats.ip_in_unknown_protos += 1;
                if let Some(i) = self.iface_mut(link) {
                    i.counters.in_unknown_protos += 1;
                }
                if cast == Cast::Unicast {
                    self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::ProtoUnreachable, 0),
                        now,
                    );
                }
            }
        }
    }

    // ----- forwarding -----

    pub(super) fn forward(&mut self, in_link: IfaceId, mut buf: PacketBuf, now: Instant) {
        let (src, dst, ttl) = match Ipv4Packet::new_checked(buf.as_slice()) {
            Ok(p) => (p.src_addr(), p.dst_addr(), p.ttl()),
            Err(_) => return,
        };
        // RFC 1812 5.3.7: never forward from 0.0.0.0 or to a class E address.
        if src.is_unspecified() || u32::from(dst) >= 0xf000_0000 {
            self.stats.ip_in_addr_errors += 1;
            return self.count_in_discard(in_link);
        }
        if ttl <= 1 {
            self.stats.ip_in_hdr_errors += 1;
            return self.icmp_error(buf.as_slice(), IcmpErr::Time(TimeExceeded::TtlExpired), now);
        }
        let Some(nh) = self.routes.lookup(dst, now) else {
            self.stats.ip_out_no_routes += 1;
            return self.icmp_error(
                buf.as_slice(),
                IcmpErr::Unreach(DstUnreachable::NetUnreachable, 0),
                now,
            );
        };
        if let Some(h) = self.hook.as_mut() {
            match h.check(HookPoint::Forward, nh.iface, buf.as_slice(), now) {
                Verdict::Pass => {}
                Verdict::Drop => return self.count_in_discard(in_link),
                Verdict::Deny => {
                    self.count_in_discard(in_link);
                    return self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::CommProhibited, 0),
                        now,
                    );
                }
            }
        }
        Ipv4Packet::new_unchecked(buf.as_mut_slice()).decrement_ttl();
        self.stats.ip_forw_datagrams += 1;
        let next = nh.gateway.unwrap_or(dst);
        self.ip_output(buf, nh.iface, next, nh.mtu, true, now);
    }

    // ----- IPv4 out -----

    pub(super) fn effective_mtu(&self, iface: IfaceId, route_mtu: Option<u16>) -> usize {
        let Some(i) = self.iface(iface) else {
            return 0;
        };
        let link_mtu = match self.iface(i.link).map(|l| l.encapsulation) {
            Some(Encapsulation::Ieee8022) => i.ip_mtu().min(1492),
            _ => i.ip_mtu(),
        };
        route_mtu.map_or(link_mtu, |m| link_mtu.min(usize::from(m)))
    }

    /// Sends a whole datagram out of `iface` to `next_hop`: the egress hook, fragmentation,
    /// link resolution. `forwarded` datagrams get ICMP errors; ours get events.
    pub(super) fn ip_output(
        &mut self,
        buf: PacketBuf,
        iface: IfaceId,
        next_hop: Ipv4Addr,
        route_mtu: Option<u16>,
        forwarded: bool,
        now: Instant,
    ) {
        let Some(i) = self.iface(iface) else {
            return;
        };
        let link = i.link;
        if !i.is_up() || !self.iface(link).is_some_and(|l| l.is_up()) {
            self.stats.ip_out_discards += 1;
            if let Some(l) = self.iface_mut(link) {
                l.counters.out_discards += 1;
            }
            return;
        }
        if let Some(h) = self.hook.as_mut() {
            match h.check(HookPoint::Egress, iface, buf.as_slice(), now) {
                Verdict::Pass => {}
                Verdict::Drop => {
                    self.stats.ip_out_discards += 1;
                    return;
                }
                Verdict::Deny => {
                    self.stats.ip_out_discards += 1;
                    if forwarded {
                        self.icmp_error(
                            buf.as_slice(),
                            IcmpErr::Unreach(DstUnreachable::CommProhibited, 0),
                            now,
                        );
                    }
                    return;
                }
            }
        }
        let mtu = self.effective_mtu(iface, route_mtu);
        if buf.len() <= mtu {
            return self.link_output(link, buf, next_hop, now);
        }
        let df = Ipv4Packet::new_checked(buf.as_slice())
            .map(|p| p.dont_frag())
            .unwrap_or(true);
        if df {
            self.stats.ip_frag_fails += 1;
            if forwarded {
                self.icmp_error(
                    buf.as_slice(),
                    IcmpErr::Unreach(DstUnreachable::FragRequired, mtu as u16),
                    now,
                );
            }
            return;
        }
        self.fragment(link, buf, next_hop, mtu, now);
    }

    pub(super) fn fragment(
        &mut self,
        link: IfaceId,
        buf: PacketBuf,
        next_hop: Ipv4Addr,
        mtu: usize,
        now: Instant,
    ) {
        let Ok(p) = Ipv4Packet::new_checked(buf.as_slice()) else {
            return;
        };
        let Ok(first) = Ipv4Repr::parse_unverified(&p) else {
            self.stats.ip_frag_fails += 1;
            return;
        };
        let payload = p.payload();
        let mut rest = first;
        rest.options = first.options.copied_on_fragment();
        let base_off = usize::from(first.frag_offset);
        let mut off = 0;
        let mut frags = Vec::new();
        while off < payload.len() {
            let repr0 = if off == 0 { &first } else { &rest };
            let room = mtu.saturating_sub(repr0.buffer_len()) & !7;
            if room == 0 {
                self.stats.ip_frag_fails += 1;
                return;
            }
            let n = room.min(payload.len() - off);
            let last = off + n == payload.len();
            let mut repr = *repr0;
            repr.payload_len = n;
            repr.frag_offset = (base_off + off) as u16;
            repr.more_frags = first.more_frags || !last;
            let mut f = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 0);
            f.extend_from_slice(&payload[off..off + n]);
            if f.prepend(repr.buffer_len()).is_err() {
                return;
            }
            repr.emit(&mut Ipv4Packet::new_unchecked(f.as_mut_slice()));
            frags.push(f);
            off += n;
        }
        self.stats.ip_frag_oks += 1;
        self.stats.ip_frag_creates += frags.len() as u64;
        for f in frags {
            self.link_output(link, f, next_hop, now);
        }
    }

    /// Resolves the link address of `next_hop` on `link` and sends, or queues for ARP.
    fn link_output(&mut self, link: IfaceId, buf: PacketBuf, next_hop: Ipv4Addr, now: Instant) {
        if link == self.lo {
            if let Some(i) = self.iface_mut(link) {
                i.counters.opkts += 1;
                i.counters.out_octets += buf.len() as u64;
                i.counters.out_ucast += 1;
            }
            self.loopback.push_back((link, buf));
            return;
        }
        let mac = if next_hop.is_multicast() {
            EthernetAddress::from_ipv4_multicast(next_hop)
        } else if next_hop.is_broadcast()
            || self.bcast.iter().any(|(b, l)| *b == next_hop && *l == link)
        {
            EthernetAddress::BROADCAST
        } else if let Some(mac) = self.arp.lookup(next_hop, link, now) {
            mac
        } else {
            return self.arp_queue(link, next_hop, buf, now);
        };
        self.link_send(link, buf, mac, EtherType::Ipv4, now);
    }

    pub(super) fn link_send(
        &mut self,
        link: IfaceId,
        mut buf: PacketBuf,
        dst: EthernetAddress,
        ethertype: EtherType,
        now: Instant,
    ) {
        let Some(i) = self.iface(link) else {
            return;
        };
        let Ok(fr) = FrameRepr::new(i.encapsulation, dst, i.mac, ethertype, buf.len()) else {
            return self.count_output_error(link);
        };
        let hl = fr.buffer_len();
        if buf.headroom() < hl {
            buf.reserve_headroom(PacketBuf::DEFAULT_HEADROOM);
        }
        if buf.prepend(hl).is_err() {
            return self.count_output_error(link);
        }
        fr.emit(&mut EthernetFrame::new_unchecked(buf.as_mut_slice()));
        if let Some(c) = self.capture.as_mut() {
            c.capture(link, Direction::Out, buf.as_slice(), now);
        }
        if let Some(i) = self.iface_mut(link) {
            i.counters.opkts += 1;
            i.counters.out_octets += buf.len() as u64;
            if dst.is_broadcast() {
                i.counters.out_bcast += 1;
            } else if dst.is_multicast() {
                i.counters.out_mcast += 1;
            } else {
                i.counters.out_ucast += 1;
            }
        }
        self.outbox.push((link, buf));
    }

    pub(super) fn next_ident(&mut self) -> u16 {
        self.ident = self.ident.wrapping_add(1);
        self.ident
    }

    /// Picks the interface, next hop and source address for a datagram we make.
    pub(super) fn route_out(
        &self,
        dst: Ipv4Addr,
        src: Option<Ipv4Addr>,
        iface_hint: Option<IfaceId>,
        now: Instant,
    ) -> Result<OutRoute, SendError> {
        let src_of = |id: IfaceId| -> Result<Ipv4Addr, SendError> {
            match src {
                Some(s) if !s.is_unspecified() => Ok(s),
                _ => self
                    .iface(id)
                    .and_then(|i| i.addr())
                    .ok_or(SendError::NoSourceAddress),
            }
        };
        if self.local.contains_key(&dst) {
            return Ok(OutRoute {
                iface: self.lo,
                next_hop: dst,
                mtu: None,
                src: src.filter(|s| !s.is_unspecified()).unwrap_or(dst),
                local: true,
                mcast_loop: false,
            });
        }
        if dst.is_loopback() {
            return Ok(OutRoute {
                iface: self.lo,
                next_hop: dst,
                mtu: None,
                src: Ipv4Addr::LOCALHOST,
                local: true,
                mcast_loop: false,
            });
        }
        let hinted = iface_hint.or_else(|| {
            src.and_then(|s| self.local.get(&s).copied())
                .filter(|_| dst.is_broadcast() || dst.is_multicast())
        });
        if dst.is_broadcast() || dst.is_multicast() {
            let id = hinted
                .or_else(|| {
                    self.routes
                        .lookup(dst, now)
                        .map(|nh| nh.iface)
                        .filter(|_| dst.is_multicast())
                })
                .or_else(|| {
                    self.interfaces()
                        .find(|i| i.kind() != IfaceKind::Loopback && i.is_up() && i.addr.is_some())
                        .map(|i| i.id)
                })
                .ok_or(SendError::NoRoute(dst))?;
            let src = match src {
                Some(s) if !s.is_unspecified() => s,
                _ => self
                    .iface(id)
                    .and_then(|i| i.addr())
                    .unwrap_or(Ipv4Addr::UNSPECIFIED),
            };
            return Ok(OutRoute {
                iface: id,
                next_hop: dst,
                mtu: None,
                src,
                local: false,
                mcast_loop: true,
            });
        }
        let nh = self
            .routes
            .lookup(dst, now)
            .ok_or(SendError::NoRoute(dst))?;
        Ok(OutRoute {
            iface: nh.iface,
            next_hop: nh.gateway.unwrap_or(dst),
            mtu: nh.mtu,
            src: src_of(nh.iface)?,
            local: false,
            mcast_loop: false,
        })
    }

    /// Prepends the IPv4 header to `payload` and sends it along `route`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ip_send_routed(
        &mut self,
        route: OutRoute,
        dst: Ipv4Addr,
        mut payload: PacketBuf,
        protocol: IpProtocol,
        ttl: u8,
        tos: u8,
        dont_frag: bool,
        options: Ipv4OptionsBuf,
        now: Instant,
    ) -> Result<(), SendError> {
        let repr = Ipv4Repr {
            src_addr: route.src,
            dst_addr: dst,
            protocol,
            payload_len: payload.len(),
            ttl,
            tos,
            ident: self.next_ident(),
            dont_frag,
            more_frags: false,
            frag_offset: 0,
            options,
        };
        if repr.total_len() > 65535 {
            return Err(SendError::TooLong);
        }
        if payload.headroom() < repr.buffer_len() + 22 {
            payload.reserve_headroom(PacketBuf::DEFAULT_HEADROOM);
        }
        payload
            .prepend(repr.buffer_len())
            .map_err(|_| SendError::TooLong)?;
        repr.emit(&mut Ipv4Packet::new_unchecked(payload.as_mut_slice()));
        self.stats.ip_out_requests += 1;
        if route.local {
            let lo = self.lo;
            self.link_output(lo, payload, dst, now);
            return Ok(());
        }
        if route.mcast_loop && dst.is_multicast() {
            let link = self.iface(route.iface).map_or(route.iface, |i| i.link);
            if self.groups.contains_key(&(link, dst)) {
                self.loopback.push_back((link, payload.clone()));
            }
        }
        if dont_frag && payload.len() > self.effective_mtu(route.iface, route.mtu) {
            return Err(SendError::TooLong);
        }
        if !self.iface(route.iface).is_some_and(|i| i.is_up()) {
            return Err(SendError::InterfaceDown);
        }
        self.ip_output(payload, route.iface, route.next_hop, route.mtu, false, now);
        Ok(())
    }

    /// Sends `payload` as one IPv4 datagram of `protocol` to `dst` (for TCP and raw users):
    /// routing, source selection, fragmentation and ARP as for any datagram we make.
    #[allow(clippy::too_many_arguments)]
    pub fn send_ip<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        protocol: IpProtocol,
        payload: PacketBuf,
        dont_frag: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        let route = self.route_out(dst, src, None, now);
        let r = route.and_then(|route| {
            let ttl = self.config.default_ttl;
            self.ip_send_routed(
                route,
                dst,
                payload,
                protocol,
                ttl,
                0,
                dont_frag,
                Ipv4OptionsBuf::new(),
                now,
            )
        });
        if matches!(r, Err(SendError::NoRoute(_))) {
            self.stats.ip_out_no_routes += 1;
        }
        self.run_loopback(now);
        self.flush(ctx);
        r
    }
}
