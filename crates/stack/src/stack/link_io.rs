//! Frames in from the links (Ethernet demultiplexing, the loopback queue, input counters) and
//! ARP: resolution, the pending queues, replies, proxy and published entries, aging.

use super::tcp::RxMeta;
use super::{IcmpErr, MAX_LOOPBACK_ROUNDS};
use crate::arp::{ArpEntry, ArpFlags, Pending};
use crate::iface::{IfaceFlags, IfaceId, IfaceKind};
use crate::{Direction, Instant, LinkContext, Stack, StackEvent};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use wire::icmpv4::DstUnreachable;
use wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, FrameRepr,
    Ipv4Packet, PacketBuf,
};

impl Stack {
    // ----- frames in -----

    /// One frame from the link of interface `iface` (an se interface).
    pub fn receive<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        frame: PacketBuf,
        now: Instant,
    ) {
        self.receive_one(iface, frame, now);
        self.run_loopback(now);
        self.flush(ctx);
    }

    /// One frame with what the link knows about it (a TAP's virtio-net header: the checksum was
    /// verified, so a GRO'd TCP frame larger than the MTU need not be summed again).
    pub fn receive_with_meta<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        frame: PacketBuf,
        meta: RxMeta,
        now: Instant,
    ) {
        self.rx_csum_verified = meta.csum_verified;
        self.receive_one(iface, frame, now);
        self.rx_csum_verified = false;
        self.run_loopback(now);
        self.flush(ctx);
    }

    /// A batch of frames from one link; the frames they cause go out as one batch.
    pub fn receive_batch<C: LinkContext + ?Sized, I: IntoIterator<Item = PacketBuf>>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        frames: I,
        now: Instant,
    ) {
        for f in frames {
            self.receive_one(iface, f, now);
        }
        self.run_loopback(now);
        self.flush(ctx);
    }

    pub(super) fn flush<C: LinkContext + ?Sized>(&mut self, ctx: &mut C) {
        if !self.outbox.is_empty() {
            ctx.send_batch(&mut self.outbox);
            self.outbox.clear();
        }
        for (iface, frame, meta) in self.tso_outbox.drain(..) {
            ctx.send_tso(iface, frame, meta);
        }
    }

    pub(super) fn run_loopback(&mut self, now: Instant) {
        let mut rounds = 0;
        while let Some((link, buf)) = self.loopback.pop_front() {
            rounds += 1;
            if rounds > MAX_LOOPBACK_ROUNDS {
                self.loopback.clear();
                break;
            }
            if link != self.lo {
                // A multicast datagram of ours, looped back to our own members.
                self.ip_input(link, buf, true, now);
                continue;
            }
            if let Some(i) = self.iface_mut(link) {
                i.counters.ipkts += 1;
                i.counters.in_octets += buf.len() as u64;
                i.counters.in_ucast += 1;
            }
            self.ip_input(link, buf, false, now);
        }
    }

    fn receive_one(&mut self, iface: IfaceId, mut buf: PacketBuf, now: Instant) {
        let Some(i) = self.iface_mut(iface) else {
            return;
        };
        let link = i.link;
        let kind = i.kind();
        let up = i.flags.contains(IfaceFlags::UP);
        let our_mac = i.mac;
        i.counters.ipkts += 1;
        i.counters.in_octets += buf.len() as u64;
        if let Some(c) = self.capture.as_mut() {
            c.capture(link, Direction::In, buf.as_slice(), now);
        }
        if link != iface {
            // Frames arrive on the se interface, not on a pd.
            return self.count_in_discard(iface);
        }
        if !up {
            return self.count_in_discard(iface);
        }
        if kind == IfaceKind::Loopback {
            return self.ip_input(iface, buf, false, now);
        }
        let parsed = EthernetFrame::new_checked(buf.as_slice()).and_then(|f| FrameRepr::parse(&f));
        let frame = match parsed {
            Ok(f) => f,
            Err(_) => return self.count_in_error(iface),
        };
        let dst = frame.dst_addr();
        let link_bcast = !dst.is_unicast();
        if let Some(i) = self.iface_mut(iface) {
            if dst.is_broadcast() {
                i.counters.in_bcast += 1;
            } else if dst.is_multicast() {
                i.counters.in_mcast += 1;
            } else {
                i.counters.in_ucast += 1;
            }
        }
        if dst.is_unicast() && dst != our_mac {
            return self.count_in_discard(iface);
        }
        if frame.src_addr() == our_mac {
            // Our own frame, reflected by the link.
            return self.count_in_discard(iface);
        }
        if buf.trim_front(frame.buffer_len()).is_err() {
            return self.count_in_error(iface);
        }
        if let Some(n) = frame.payload_len() {
            buf.truncate(n);
        }
        match frame.ethertype() {
            Some(EtherType::Ipv4) => self.ip_input(iface, buf, link_bcast, now),
            Some(EtherType::Arp) => self.arp_input(iface, buf, now),
            _ => {
                if let Some(i) = self.iface_mut(iface) {
                    i.counters.in_unknown_protos += 1;
                }
            }
        }
    }

    pub(super) fn count_in_error(&mut self, id: IfaceId) {
        if let Some(i) = self.iface_mut(id) {
            i.counters.ierrs += 1;
        }
    }

    pub(super) fn count_in_discard(&mut self, id: IfaceId) {
        if let Some(i) = self.iface_mut(id) {
            i.counters.in_discards += 1;
        }
    }

    // ----- ARP -----

    /// The address to speak for on `link` when asking about `target`: the interface (se or pd)
    /// whose network holds it, else the se interface's own.
    fn source_on_link(&self, link: IfaceId, target: Ipv4Addr) -> Option<Ipv4Addr> {
        let mut fallback = None;
        for i in self.interfaces().filter(|i| i.link == link) {
            if let Some((a, net)) = i.addr {
                if net.contains(target) {
                    return Some(a);
                }
                if i.id == link || fallback.is_none() {
                    fallback = Some(a);
                }
            }
        }
        fallback
    }

    pub(super) fn gratuitous_arp(&mut self, id: IfaceId, now: Instant) {
        let Some(i) = self.iface(id) else {
            return;
        };
        if i.kind() == IfaceKind::Loopback || !i.flags.contains(IfaceFlags::UP) {
            return;
        }
        let (Some(addr), mac, link) = (i.addr(), i.mac, i.link) else {
            return;
        };
        self.send_arp(
            link,
            ArpRepr::gratuitous(mac, addr),
            EthernetAddress::BROADCAST,
            now,
        );
        self.stats.arp_requests_out += 1;
    }

    fn send_arp(&mut self, link: IfaceId, repr: ArpRepr, dst: EthernetAddress, now: Instant) {
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut ArpPacket::new_unchecked(buf.as_mut_slice()));
        self.link_send(link, buf, dst, EtherType::Arp, now);
    }

    fn send_arp_request(&mut self, link: IfaceId, target: Ipv4Addr, now: Instant) {
        let Some(i) = self.iface(link) else {
            return;
        };
        let mac = i.mac;
        let Some(src) = self.source_on_link(link, target) else {
            return;
        };
        let repr = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: src,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: target,
        };
        self.stats.arp_requests_out += 1;
        self.send_arp(link, repr, EthernetAddress::BROADCAST, now);
    }

    fn arp_input(&mut self, link: IfaceId, buf: PacketBuf, now: Instant) {
        let repr = match ArpPacket::new_checked(buf.as_slice()).and_then(|p| ArpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => return self.count_in_error(link),
        };
        let Some(our_mac) = self.iface(link).map(|i| i.mac) else {
            return;
        };
        let sender = repr.source_protocol_addr;
        let sender_hw = repr.source_hardware_addr;
        let target = repr.target_protocol_addr;
        if !sender_hw.is_unicast() {
            return self.count_in_error(link);
        }
        let owner_on_link = |s: &Stack, a: Ipv4Addr| {
            s.local
                .get(&a)
                .copied()
                .filter(|id| s.iface(*id).is_some_and(|i| i.link == link))
        };
        if let Some(owner) = owner_on_link(self, sender) {
            // Someone else claims our address.
            self.event(StackEvent::DuplicateAddress {
                iface: owner,
                addr: sender,
                other: sender_hw,
            });
            return;
        }
        let for_us = owner_on_link(self, target).is_some();
        // RFC 826's merge: update an entry we have; add one when the request was for us.
        let updated = match self.arp.entries.get_mut(&sender) {
            Some(e) if !(e.flags.permanent || e.flags.publish) => {
                e.mac = Some(sender_hw);
                e.iface = link;
                e.expires = Some(now + self.config.arp_timeout);
                let p = e.pending.take();
                if let Some(p) = &p {
                    self.arp.queued = self.arp.queued.saturating_sub(p.queue.len());
                }
                p
            }
            Some(_) => None,
            None => {
                if for_us
                    && !sender.is_unspecified()
                    && self.arp.entries.len() < self.config.arp_max_entries
                {
                    self.arp.entries.insert(
                        sender,
                        ArpEntry {
                            iface: link,
                            mac: Some(sender_hw),
                            flags: ArpFlags::default(),
                            expires: Some(now + self.config.arp_timeout),
                            pending: None,
                        },
                    );
                }
                None
            }
        };
        self.arp.wake(now + self.config.arp_timeout);
        self.routes.gateway_alive(sender);
        if let Some(p) = updated {
            self.release_queue(p, link, sender_hw, now);
        }
        if repr.operation != ArpOperation::Request || sender == target {
            return;
        }
        let answer = if for_us {
            Some(our_mac)
        } else if let Some(e) = self
            .arp
            .entries
            .get(&target)
            .filter(|e| e.flags.publish && e.mac.is_some())
        {
            e.mac
        } else if let Some(home) = self.arp.proxies.get(&target) {
            // Proxy for a host elsewhere: never on the link where the host itself lives.
            (*home != Some(link)).then_some(our_mac)
        } else {
            None
        };
        if let Some(mac) = answer {
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                source_hardware_addr: mac,
                source_protocol_addr: target,
                target_hardware_addr: sender_hw,
                target_protocol_addr: sender,
            };
            self.stats.arp_replies_out += 1;
            self.send_arp(link, reply, sender_hw, now);
        }
    }

    pub(super) fn release_queue(
        &mut self,
        p: Pending,
        link: IfaceId,
        mac: EthernetAddress,
        now: Instant,
    ) {
        for buf in p.queue {
            self.link_send(link, buf, mac, EtherType::Ipv4, now);
        }
    }

    /// Queues `buf` (a whole datagram) for `next_hop` and starts or continues resolving it.
    pub(super) fn arp_queue(
        &mut self,
        link: IfaceId,
        next_hop: Ipv4Addr,
        buf: PacketBuf,
        now: Instant,
    ) {
        let qlen = self.config.arp_queue_len.max(1);
        let total = self.config.arp_queue_total;
        if self.arp.entries.len() >= self.config.arp_max_entries
            && !self.arp.entries.contains_key(&next_hop)
        {
            // The table is full: no new resolutions until entries age out.
            self.stats.arp_queue_drops += 1;
            return;
        }
        let mut new_request = false;
        let entry = self.arp.entries.entry(next_hop).or_insert_with(|| {
            new_request = true;
            ArpEntry {
                iface: link,
                mac: None,
                flags: ArpFlags::default(),
                expires: None,
                pending: None,
            }
        });
        if entry.mac.is_some() && entry.pending.is_none() {
            // An expired temporary entry: resolve again.
            entry.mac = None;
            entry.expires = None;
            entry.iface = link;
            new_request = true;
        }
        let retries = self.config.arp_requests.saturating_sub(1);
        let next_retry = now + self.config.arp_retry_interval;
        let p = entry.pending.get_or_insert_with(|| Pending {
            retries_left: retries,
            next_retry,
            queue: VecDeque::new(),
        });
        let wake = p.next_retry;
        let mut delta: isize = 0;
        if p.queue.len() >= qlen {
            // Seed 001: the most recent datagram is the one kept.
            p.queue.pop_front();
            delta -= 1;
            self.stats.arp_queue_drops += 1;
        }
        if self.arp.queued < total || delta < 0 {
            p.queue.push_back(buf);
            delta += 1;
        } else {
            self.stats.arp_queue_drops += 1;
        }
        self.arp.queued = (self.arp.queued as isize + delta).max(0) as usize;
        self.arp.wake(wake);
        if new_request {
            self.send_arp_request(link, next_hop, now);
        }
    }

    pub(super) fn arp_timers(&mut self, now: Instant) {
        if self.arp.next_timer.is_none_or(|t| t > now) {
            return;
        }
        let mut retry = Vec::new();
        let mut failed = Vec::new();
        let mut aged = Vec::new();
        for (a, e) in self.arp.entries.iter_mut() {
            if let Some(p) = e.pending.as_mut() {
                if p.next_retry <= now {
                    if p.retries_left > 0 {
                        p.retries_left -= 1;
                        p.next_retry = now + self.config.arp_retry_interval;
                        retry.push((e.iface, *a));
                    } else {
                        failed.push(*a);
                    }
                }
            } else if e.expires.is_some_and(|t| t <= now) {
                aged.push(*a);
            }
        }
        for a in aged {
            self.arp.remove(a);
        }
        for (link, a) in retry {
            self.send_arp_request(link, a, now);
        }
        for a in failed {
            let Some(e) = self.arp.remove(a) else {
                continue;
            };
            self.event(StackEvent::ArpFailed {
                iface: e.iface,
                addr: a,
            });
            let rotated = self.routes.gateway_failed(a, now);
            if let Some(next) = rotated {
                self.event(StackEvent::GatewayDead { gateway: a, next });
            }
            for buf in e.pending.map(|p| p.queue).unwrap_or_default() {
                let (src, dst) = match Ipv4Packet::new_checked(buf.as_slice()) {
                    Ok(p) => (p.src_addr(), p.dst_addr()),
                    Err(_) => continue,
                };
                // Via another gateway now? Send it again that way.
                if let Some(nh) = self
                    .routes
                    .lookup(dst, now)
                    .filter(|nh| nh.gateway.is_some() && nh.gateway != Some(a))
                {
                    let nh_addr = nh.gateway.unwrap_or(dst);
                    self.ip_output(buf, nh.iface, nh_addr, nh.mtu, false, now);
                    continue;
                }
                if self.local.contains_key(&src) {
                    self.event(StackEvent::Unreachable { dst });
                } else {
                    self.icmp_error(
                        buf.as_slice(),
                        IcmpErr::Unreach(DstUnreachable::HostUnreachable, 0),
                        now,
                    );
                }
            }
        }
        self.arp.recompute_timer();
    }
}
