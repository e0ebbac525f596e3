//! ICMP: echo, errors in and out (rate-limited), path-MTU learning, redirects.

use super::{is_bad_source, Cast, IcmpErr, ICMP_BURST};
use crate::iface::{IfaceId, MIN_MTU};
use crate::route::{Route, RouteKind};
use crate::{Instant, LinkContext, SendError, Stack, StackEvent};
use std::net::Ipv4Addr;
use wire::icmpv4::{self, DstUnreachable};
use wire::Ipv4Prefix;
use wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4OptionsBuf, Ipv4Packet, PacketBuf};

impl Stack {
    // ----- ICMP -----

    /// Sends an ICMP echo request; the answer comes as [`StackEvent::EchoReply`].
    #[allow(clippy::too_many_arguments)]
    pub fn send_echo_request<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        dst: Ipv4Addr,
        ident: u16,
        seq_no: u16,
        data: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        let repr = Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        };
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
        self.stats.icmp_out_msgs += 1;
        self.send_ip(ctx, None, dst, IpProtocol::Icmp, buf, false, now)
    }

    pub(super) fn icmp_input(
        &mut self,
        _link: IfaceId,
        mut buf: PacketBuf,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        cast: Cast,
        now: Instant,
    ) {
        self.stats.icmp_in_msgs += 1;
        let msg = match Icmpv4Packet::new_checked(buf.as_slice()) {
            Ok(p) if p.verify_checksum() => {
                Icmpv4Repr::parse_unverified(&Icmpv4Packet::new_unchecked(buf.as_slice()))
                    .ok()
                    .map(|r| match r {
                        Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                            Msg::EchoRequest(ident, seq_no)
                        }
                        Icmpv4Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        } => Msg::EchoReply(ident, seq_no, data.len()),
                        Icmpv4Repr::Redirect { gateway, data, .. } => {
                            Msg::Redirect(gateway, quoted_dst(data))
                        }
                        other if other.msg_type().is_error() => {
                            let (t, c) = (u8::from(other.msg_type()), p.msg_code());
                            let mtu = if let Icmpv4Repr::DstUnreachable { next_hop_mtu, .. } = other
                            {
                                next_hop_mtu
                            } else {
                                0
                            };
                            // The quote may hold fewer than 8 bytes after the header when the
                            // datagram itself was that short; read what is there.
                            match Ipv4Packet::new_checked_header(other.data()) {
                                Ok(q) if q.version() == 4 => Msg::Error {
                                    t,
                                    c,
                                    mtu,
                                    dst: q.dst_addr(),
                                    src: q.src_addr(),
                                    proto: q.protocol().into(),
                                    total: usize::from(q.total_len()),
                                    sport: other
                                        .data()
                                        .get(q.header_len()..q.header_len() + 2)
                                        .map(|b| u16::from_be_bytes([b[0], b[1]])),
                                    quote: other
                                        .data()
                                        .get(q.header_len()..q.header_len() + 8)
                                        .and_then(|b| <[u8; 8]>::try_from(b).ok()),
                                },
                                _ => Msg::Bad,
                            }
                        }
                        _ => Msg::Other,
                    })
            }
            _ => None,
        };
        let Some(msg) = msg else {
            self.stats.icmp_in_errors += 1;
            return;
        };
        match msg {
            Msg::EchoRequest(ident, seq_no) => {
                if cast != Cast::Unicast && !self.config.echo_broadcast {
                    return;
                }
                // The reply is built in the request's own buffer.
                Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data: &[],
                }
                .emit_header(&mut Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
                let from = if cast == Cast::Unicast {
                    Some(dst)
                } else {
                    None
                };
                self.icmp_send(src, from, buf, now);
            }
            Msg::EchoReply(ident, seq_no, len) => self.event(StackEvent::EchoReply {
                from: src,
                ident,
                seq_no,
                len,
            }),
            Msg::Redirect(gateway, qdst) => {
                if self.config.accept_redirects {
                    if let (Some(d), Some(nh)) =
                        (qdst, self.routes.lookup(qdst.unwrap_or(gateway), now))
                    {
                        self.routes.insert(
                            Ipv4Prefix::host(d),
                            Route {
                                gateway: Some(gateway),
                                iface: nh.iface,
                                mtu: nh.mtu,
                                kind: RouteKind::Host,
                                expires: None,
                            },
                        );
                    }
                } else {
                    self.stats.icmp_redirects_ignored += 1;
                    self.event(StackEvent::RedirectIgnored { from: src, gateway });
                }
            }
            Msg::Error {
                t,
                c,
                mtu,
                dst: qdst,
                src: qsrc,
                proto,
                total,
                sport,
                quote,
            } => {
                if !self.local.contains_key(&qsrc) {
                    return;
                }
                if t == 3 && c == u8::from(DstUnreachable::FragRequired) {
                    self.learn_pmtu(qdst, mtu, total, now);
                }
                if proto == u8::from(IpProtocol::Udp) {
                    if let Some(h) = sport.and_then(|p| self.udp.demux(qsrc, p)) {
                        if let Some(s) = self.udp.get_mut(h) {
                            s.error = Some((t, c));
                        }
                    }
                }
                if proto == u8::from(IpProtocol::Tcp) {
                    if let Some(q) = quote {
                        self.tcp_icmp_error(t, c, qsrc, qdst, &q, now);
                    }
                }
                self.event(StackEvent::IcmpError {
                    from: src,
                    msg_type: t,
                    code: c,
                    dst: qdst,
                    protocol: proto,
                    src_port: sport,
                });
            }
            Msg::Bad => self.stats.icmp_in_errors += 1,
            Msg::Other => {}
        }
    }

    fn learn_pmtu(&mut self, dst: Ipv4Addr, mtu: u16, quoted_total: usize, now: Instant) {
        if !self.config.pmtu_discovery {
            return;
        }
        // RFC 1191 section 5: an old router sends 0; guess the next plateau down.
        let mtu = if mtu == 0 {
            [32000u16, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68]
                .into_iter()
                .find(|p| usize::from(*p) < quoted_total)
                .unwrap_or(MIN_MTU)
        } else {
            mtu
        }
        .max(MIN_MTU);
        let Some(nh) = self.routes.lookup(dst, now) else {
            return;
        };
        if nh.mtu.is_some_and(|m| m <= mtu) {
            return;
        }
        let key = Ipv4Prefix::host(dst);
        match self.routes.get(key).copied() {
            Some(mut r) if r.kind == RouteKind::Host => {
                r.mtu = Some(mtu);
                self.routes.insert(key, r);
            }
            _ => self.routes.insert(
                key,
                Route {
                    gateway: nh.gateway,
                    iface: nh.iface,
                    mtu: Some(mtu),
                    kind: RouteKind::PathMtu,
                    expires: Some(now + self.config.pmtu_timeout),
                },
            ),
        }
        self.event(StackEvent::PathMtu { dst, mtu });
    }

    /// A token bucket: `icmp_error_rate` errors a second, bursts of [`ICMP_BURST`].
    fn icmp_token(&mut self, now: Instant) -> bool {
        let rate = u64::from(self.config.icmp_error_rate);
        if rate == 0 {
            return true;
        }
        let per_token = 1_000_000_000 / rate.max(1);
        let elapsed = now.0.saturating_sub(self.icmp_refill.0);
        let new = elapsed / per_token.max(1);
        if new > 0 {
            self.icmp_tokens =
                (u64::from(self.icmp_tokens) + new).min(u64::from(ICMP_BURST)) as u32;
            self.icmp_refill = Instant(self.icmp_refill.0 + new * per_token);
        }
        if self.icmp_tokens == 0 {
            return false;
        }
        self.icmp_tokens -= 1;
        true
    }

    /// Sends an ICMP error about `orig` (a whole datagram) to its source, within RFC 1122's rules.
    pub(super) fn icmp_error(&mut self, orig: &[u8], err: IcmpErr, now: Instant) {
        let Ok(p) = Ipv4Packet::new_checked_header(orig) else {
            return;
        };
        let (src, dst) = (p.src_addr(), p.dst_addr());
        if src.is_unspecified()
            || is_bad_source(src)
            || dst.is_multicast()
            || dst.is_broadcast()
            || p.frag_offset() != 0
        {
            return;
        }
        if self.bcast.iter().any(|(b, _)| *b == dst) {
            return;
        }
        if !self.icmp_token(now) {
            self.stats.icmp_rate_limited += 1;
            return;
        }
        if p.protocol() == IpProtocol::Icmp {
            let t = orig.get(p.header_len()).copied().unwrap_or(0);
            if wire::Icmpv4Message::from(t).is_error() || orig.len() <= p.header_len() {
                return;
            }
        }
        let data = icmpv4::quote(orig);
        let repr = match err {
            IcmpErr::Unreach(reason, mtu) => Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu: mtu,
                data,
            },
            IcmpErr::Time(reason) => Icmpv4Repr::TimeExceeded { reason, data },
        };
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
        self.icmp_send(src, None, buf, now);
    }

    /// Sends an ICMP message to `dst` (from `from`, or the address the route chooses) with the
    /// default TTL; one that has no route is dropped, as ICMP is best effort.
    fn icmp_send(&mut self, dst: Ipv4Addr, from: Option<Ipv4Addr>, buf: PacketBuf, now: Instant) {
        self.stats.icmp_out_msgs += 1;
        if let Ok(route) = self.route_out(dst, from, None, now) {
            let ttl = self.config.default_ttl;
            let _ = self.ip_send_routed(
                route,
                dst,
                buf,
                IpProtocol::Icmp,
                ttl,
                0,
                false,
                Ipv4OptionsBuf::new(),
                now,
            );
        }
    }
}

/// What an ICMP message asks of us (parsed while the buffer is borrowed).
enum Msg {
    EchoRequest(u16, u16),
    EchoReply(u16, u16, usize),
    Redirect(Ipv4Addr, Option<Ipv4Addr>),
    Error {
        t: u8,
        c: u8,
        mtu: u16,
        dst: Ipv4Addr,
        src: Ipv4Addr,
        proto: u8,
        total: usize,
        sport: Option<u16>,
        /// The quoted transport header's first 8 bytes (TCP: ports and sequence number).
        quote: Option<[u8; 8]>,
    },
    Bad,
    Other,
}

fn quoted_dst(data: &[u8]) -> Option<Ipv4Addr> {
    Ipv4Packet::new_checked_header(data)
        .ok()
        .map(|p| p.dst_addr())
}
