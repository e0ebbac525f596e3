//! UDP sockets' calls (`Stack::udp_*`: bind, connect, options, multicast membership, send and
//! receive) and the UDP input path with its demultiplexing. The socket table is `crate::udp`.

use super::{Cast, IcmpErr};
use crate::iface::IfaceId;
use crate::udp::{
    UdpDatagram, UdpHandle, UdpReadiness, UdpSocket, EPHEMERAL_HIGH, EPHEMERAL_LOW,
    EPHEMERAL_MAX_STEP,
};
use crate::{Instant, LinkContext, SendError, Stack, StackEvent, UdpError};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use wire::icmpv4::DstUnreachable;
use wire::{IpProtocol, Ipv4OptionsBuf, PacketBuf, UdpPacket, UdpRepr};

impl Stack {
    // ----- UDP -----

    /// A new, unbound UDP socket.
    pub fn udp_open(&mut self) -> UdpHandle {
        let ttl = self.config.default_ttl;
        let limit = self.config.udp_rx_limit;
        self.udp.open(UdpSocket {
            local: None,
            remote: None,
            broadcast: false,
            rx: VecDeque::new(),
            rx_bytes: 0,
            rx_limit: limit,
            groups: Vec::new(),
            ttl,
            multicast_ttl: 1,
            multicast_iface: None,
            multicast_loop: true,
            tos: 0,
            drops: 0,
            error: None,
        })
    }

    pub(super) fn alloc_port(&mut self, addr: Ipv4Addr) -> Result<u16, UdpError> {
        let span = u32::from(EPHEMERAL_HIGH - EPHEMERAL_LOW) + 1;
        let mut p = u32::from(self.udp.last_ephemeral.max(EPHEMERAL_LOW) - EPHEMERAL_LOW);
        for attempt in 0..span {
            // Seed 000: a random step from the previous port; late attempts walk one by one.
            let step = if attempt < 64 {
                1 + self.rng.below(EPHEMERAL_MAX_STEP)
            } else {
                1
            };
            p = (p + step) % span;
            let port = (p + u32::from(EPHEMERAL_LOW)) as u16;
            if self.udp.port_free(addr, port) {
                self.udp.last_ephemeral = port;
                return Ok(port);
            }
        }
        Err(UdpError::NoPorts)
    }

    /// Binds to `addr` (0.0.0.0: every address; port 0: an ephemeral port). Returns the bound address.
    pub fn udp_bind(&mut self, h: UdpHandle, addr: SocketAddrV4) -> Result<SocketAddrV4, UdpError> {
        let s = self.udp.get(h).ok_or(UdpError::BadHandle)?;
        if s.local.is_some() {
            return Err(UdpError::AlreadyBound);
        }
        let ip = *addr.ip();
        if !ip.is_unspecified()
            && !self.local.contains_key(&ip)
            && !ip.is_multicast()
            && !ip.is_loopback()
        {
            return Err(UdpError::AddrNotAvailable(ip));
        }
        let port = if addr.port() == 0 {
            self.alloc_port(ip)?
        } else {
            if !self.udp.port_free(ip, addr.port()) {
                return Err(UdpError::AddrInUse(addr));
            }
            addr.port()
        };
        let bound = SocketAddrV4::new(ip, port);
        self.udp.bindings.insert((ip, port), h);
        if let Some(s) = self.udp.get_mut(h) {
            s.local = Some(bound);
        }
        Ok(bound)
    }

    /// Sets the default destination and accepts datagrams only from it (binds first if needed).
    pub fn udp_connect(&mut self, h: UdpHandle, remote: SocketAddrV4) -> Result<(), UdpError> {
        if self.udp.get(h).ok_or(UdpError::BadHandle)?.local.is_none() {
            self.udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        }
        if let Some(s) = self.udp.get_mut(h) {
            s.remote = Some(remote);
        }
        Ok(())
    }

    /// The bound address.
    pub fn udp_local_addr(&self, h: UdpHandle) -> Option<SocketAddrV4> {
        self.udp.get(h)?.local
    }

    /// SO_BROADCAST: allow sending to broadcast addresses.
    pub fn udp_set_broadcast(&mut self, h: UdpHandle, on: bool) -> Result<(), UdpError> {
        self.udp.get_mut(h).ok_or(UdpError::BadHandle)?.broadcast = on;
        Ok(())
    }

    /// IP_MULTICAST_TTL.
    pub fn udp_set_multicast_ttl(&mut self, h: UdpHandle, ttl: u8) -> Result<(), UdpError> {
        self.udp
            .get_mut(h)
            .ok_or(UdpError::BadHandle)?
            .multicast_ttl = ttl;
        Ok(())
    }

    /// IP_MULTICAST_IF.
    pub fn udp_set_multicast_iface(
        &mut self,
        h: UdpHandle,
        iface: Option<IfaceId>,
    ) -> Result<(), UdpError> {
        self.udp
            .get_mut(h)
            .ok_or(UdpError::BadHandle)?
            .multicast_iface = iface;
        Ok(())
    }

    /// IP_MULTICAST_LOOP: our own members of a group get a copy of what we send to it (default on).
    pub fn udp_set_multicast_loop(&mut self, h: UdpHandle, on: bool) -> Result<(), UdpError> {
        self.udp
            .get_mut(h)
            .ok_or(UdpError::BadHandle)?
            .multicast_loop = on;
        Ok(())
    }

    /// IP_ADD_MEMBERSHIP: `iface` None picks the route's (or the first multicast) interface.
    pub fn udp_join_multicast<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        group: Ipv4Addr,
        iface: Option<IfaceId>,
        now: Instant,
    ) -> Result<(), UdpError> {
        self.udp.get(h).ok_or(UdpError::BadHandle)?;
        let iface = match iface {
            Some(i) => i,
            None => self.route_out(group, None, None, now)?.iface,
        };
        self.join(iface, group, now)?;
        let link = self.iface(iface).map_or(iface, |i| i.link);
        if let Some(s) = self.udp.get_mut(h) {
            s.groups.push((group, link));
        }
        self.flush(ctx);
        Ok(())
    }

    /// IP_DROP_MEMBERSHIP.
    pub fn udp_leave_multicast<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        group: Ipv4Addr,
        now: Instant,
    ) -> Result<(), UdpError> {
        let s = self.udp.get_mut(h).ok_or(UdpError::BadHandle)?;
        let Some(pos) = s.groups.iter().position(|(g, _)| *g == group) else {
            return Ok(());
        };
        let (_, link) = s.groups.remove(pos);
        self.leave(link, group, now);
        self.flush(ctx);
        Ok(())
    }

    /// Closes the socket (leaving its groups).
    pub fn udp_close<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, h: UdpHandle, now: Instant) {
        if let Some(s) = self.udp.close(h) {
            for (g, link) in s.groups {
                self.leave(link, g, now);
            }
        }
        self.flush(ctx);
    }

    /// Readable and writable.
    pub fn udp_poll(&self, h: UdpHandle) -> UdpReadiness {
        match self.udp.get(h) {
            Some(s) => UdpReadiness {
                readable: !s.rx.is_empty() || s.error.is_some(),
                writable: true,
            },
            None => UdpReadiness::default(),
        }
    }

    /// The next datagram, if any.
    pub fn udp_recv(&mut self, h: UdpHandle) -> Option<UdpDatagram> {
        let s = self.udp.get_mut(h)?;
        let d = s.rx.pop_front()?;
        s.rx_bytes -= d.data.len();
        Some(d)
    }

    /// The pending ICMP error (type, code) for the socket, read once.
    pub fn udp_take_error(&mut self, h: UdpHandle) -> Option<(u8, u8)> {
        self.udp.get_mut(h)?.error.take()
    }

    /// Datagrams dropped because the socket's queue was full.
    pub fn udp_drops(&self, h: UdpHandle) -> u64 {
        self.udp.get(h).map_or(0, |s| s.drops)
    }

    /// Every open socket and its local and remote addresses (SHOW for UDP; UDP-MIB's udpEndpointTable).
    pub fn udp_sockets(&self) -> Vec<(UdpHandle, Option<SocketAddrV4>, Option<SocketAddrV4>)> {
        self.udp
            .handles()
            .filter_map(|h| self.udp.get(h).map(|s| (h, s.local, s.remote)))
            .collect()
    }

    /// Sends to the connected peer.
    pub fn udp_send<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        data: &[u8],
        now: Instant,
    ) -> Result<usize, UdpError> {
        self.udp_send_to(ctx, h, data, None, now)
    }

    /// Sends one datagram (to `dst`, or the connected peer when `None`). Binds an ephemeral port first if needed.
    pub fn udp_send_to<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: UdpHandle,
        data: &[u8],
        dst: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<usize, UdpError> {
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 0);
        buf.extend_from_slice(data);
        let r = self.udp_send_buf(h, buf, dst, now);
        self.run_loopback(now);
        self.flush(ctx);
        r.map(|_| data.len())
    }

    fn udp_send_buf(
        &mut self,
        h: UdpHandle,
        mut buf: PacketBuf,
        dst: Option<SocketAddrV4>,
        now: Instant,
    ) -> Result<(), UdpError> {
        let s = self.udp.get(h).ok_or(UdpError::BadHandle)?;
        let dst = dst.or(s.remote).ok_or(SendError::NoDestination)?;
        if s.local.is_none() {
            self.udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        }
        let s = self.udp.get(h).ok_or(UdpError::BadHandle)?;
        let local = s.local.ok_or(UdpError::BadHandle)?;
        let ip = *dst.ip();
        let is_bcast = ip.is_broadcast() || self.bcast.iter().any(|(b, _)| *b == ip);
        if is_bcast && !s.broadcast {
            return Err(SendError::BroadcastDenied.into());
        }
        if buf.len() > 65535 - 28 {
            return Err(SendError::TooLong.into());
        }
        let (ttl, tos) = if ip.is_multicast() {
            (s.multicast_ttl, s.tos)
        } else {
            (s.ttl, s.tos)
        };
        let hint = if ip.is_multicast() {
            s.multicast_iface
        } else {
            None
        };
        let mcast_loop = s.multicast_loop;
        let src = Some(*local.ip()).filter(|a| !a.is_unspecified() && !a.is_multicast());
        let mut route = self.route_out(ip, src, hint, now).inspect_err(|e| {
            if matches!(e, SendError::NoRoute(_)) {
                self.stats.ip_out_no_routes += 1;
            }
        })?;
        route.mcast_loop = mcast_loop;
        let repr = UdpRepr {
            src_port: local.port(),
            dst_port: dst.port(),
            payload_len: buf.len(),
        };
        buf.prepend(repr.buffer_len())
            .map_err(|_| SendError::TooLong)?;
        repr.emit(
            &mut UdpPacket::new_unchecked(buf.as_mut_slice()),
            route.src,
            ip,
        );
        self.udp.stats.out_datagrams += 1;
        self.ip_send_routed(
            route,
            ip,
            buf,
            IpProtocol::Udp,
            ttl,
            tos,
            false,
            Ipv4OptionsBuf::new(),
            now,
        )?;
        Ok(())
    }

    /// A broadcast that no socket bound to it (or to the wildcard) takes goes to the socket
    /// bound to the address of an interface on the arrival link whose broadcast it is (the
    /// limited broadcast: the link's first addressed interface). netcp's services on the stack
    /// bind to their interface's address, and so still hear their subnet's broadcasts.
    fn udp_broadcast_demux(
        &self,
        link: IfaceId,
        dst: Ipv4Addr,
        cast: Cast,
        port: u16,
    ) -> Option<UdpHandle> {
        if cast != Cast::Broadcast {
            return None;
        }
        self.interfaces()
            .filter(|i| i.link() == link)
            .filter(|i| dst == Ipv4Addr::BROADCAST || i.broadcast() == Some(dst))
            .filter_map(|i| i.addr())
            .find_map(|a| self.udp.demux(a, port))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn udp_input(
        &mut self,
        link: IfaceId,
        mut buf: PacketBuf,
        hl: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        cast: Cast,
        now: Instant,
    ) {
        let _ = now;
        // The link checked the checksum, or left it to a device (virtio-net NEEDS_CSUM).
        let verified = self.rx_csum_verified;
        let repr = match buf.as_slice().get(hl..).map(UdpPacket::new_checked) {
            Some(Ok(p)) => match if verified {
                UdpRepr::parse_unverified(&p)
            } else {
                UdpRepr::parse(&p, src, dst)
            } {
                Ok(r) => r,
                Err(_) => {
                    self.udp.stats.in_errors += 1;
                    return;
                }
            },
            _ => {
                self.udp.stats.in_errors += 1;
                return;
            }
        };
        let sender = SocketAddrV4::new(src, repr.src_port);
        let h = self
            .udp
            .demux(dst, repr.dst_port)
            .or_else(|| self.udp_broadcast_demux(link, dst, cast, repr.dst_port))
            .filter(|h| {
                self.udp.get(*h).is_some_and(|s| {
                    s.remote.is_none_or(|r| r == sender)
                        && (cast != Cast::Multicast
                            || s.groups.iter().any(|(g, l)| *g == dst && *l == link)
                            || s.local.is_some_and(|l| *l.ip() == dst))
                })
            });
        let Some(h) = h else {
            self.udp.stats.no_ports += 1;
            if cast == Cast::Unicast {
                self.event(StackEvent::ClosedPort {
                    src: sender.ip().to_owned(),
                    dst: SocketAddrV4::new(dst, repr.dst_port),
                    protocol: 17,
                });
                self.icmp_error(
                    buf.as_slice(),
                    IcmpErr::Unreach(DstUnreachable::PortUnreachable, 0),
                    now,
                );
            }
            return;
        };
        buf.truncate(hl + 8 + repr.payload_len);
        if buf.trim_front(hl + 8).is_err() {
            return;
        }
        let Some(s) = self.udp.get_mut(h) else {
            return;
        };
        if s.rx_bytes + buf.len() > s.rx_limit {
            s.drops += 1;
            self.udp.stats.in_errors += 1;
            return;
        }
        let was_empty = s.rx.is_empty();
        s.rx_bytes += buf.len();
        s.rx.push_back(UdpDatagram {
            data: buf,
            src: sender,
            dst,
            iface: link,
        });
        self.udp.stats.in_datagrams += 1;
        if was_empty {
            self.event(StackEvent::UdpReadable(h));
        }
    }
}

#[cfg(test)]
mod tests;
