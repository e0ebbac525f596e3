//! UDP sockets inside the stack: the socket table (bind, connect, demultiplexing, receive
//! queues). Sending and delivery run in [`crate::Stack`]; the calls are `Stack::udp_*`.

use crate::hash::FastMap;
use crate::IfaceId;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use wire::PacketBuf;

/// A UDP socket's handle: an index and a generation, so a stale handle never reaches a new socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UdpHandle {
    index: u32,
    generation: u32,
}

/// One received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// The data (the buffer it arrived in, headers trimmed).
    pub data: PacketBuf,
    /// The sender.
    pub src: SocketAddrV4,
    /// The address it was sent to (ours, a broadcast or a group).
    pub dst: Ipv4Addr,
    /// The interface it arrived on.
    pub iface: IfaceId,
}

/// What a socket can do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpReadiness {
    /// Datagrams are queued.
    pub readable: bool,
    /// A send would be accepted (always, for UDP: datagrams are queued or dropped, never block).
    pub writable: bool,
}

#[derive(Debug)]
pub(crate) struct UdpSocket {
    pub(crate) local: Option<SocketAddrV4>,
    pub(crate) remote: Option<SocketAddrV4>,
    pub(crate) broadcast: bool,
    pub(crate) rx: VecDeque<UdpDatagram>,
    pub(crate) rx_bytes: usize,
    pub(crate) rx_limit: usize,
    /// Groups joined: (group, interface).
    pub(crate) groups: Vec<(Ipv4Addr, IfaceId)>,
    pub(crate) ttl: u8,
    pub(crate) multicast_ttl: u8,
    pub(crate) multicast_iface: Option<IfaceId>,
    pub(crate) multicast_loop: bool,
    pub(crate) tos: u8,
    pub(crate) drops: u64,
    /// An ICMP error for the socket (port unreachable ...), read once.
    pub(crate) error: Option<(u8, u8)>,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    socket: Option<UdpSocket>,
}

/// UDP-MIB counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpStats {
    /// udpInDatagrams.
    pub in_datagrams: u64,
    /// udpNoPorts.
    pub no_ports: u64,
    /// udpInErrors (bad checksum, bad length, queue full).
    pub in_errors: u64,
    /// udpOutDatagrams.
    pub out_datagrams: u64,
}

#[derive(Debug, Default)]
pub(crate) struct UdpTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
    pub(crate) bindings: FastMap<(Ipv4Addr, u16), UdpHandle>,
    pub(crate) last_ephemeral: u16,
    pub(crate) stats: UdpStats,
}

/// The ephemeral port range (IANA's dynamic ports).
pub(crate) const EPHEMERAL_LOW: u16 = 49152;
pub(crate) const EPHEMERAL_HIGH: u16 = 65535;
/// The most the next ephemeral port skips past the previous one (seed 000's obfuscation).
pub(crate) const EPHEMERAL_MAX_STEP: u32 = 64;

impl UdpTable {
    pub(crate) fn open(&mut self, socket: UdpSocket) -> UdpHandle {
        if let Some(index) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(index as usize) {
                slot.generation = slot.generation.wrapping_add(1);
                slot.socket = Some(socket);
                return UdpHandle {
                    index,
                    generation: slot.generation,
                };
            }
        }
        self.slots.push(Slot {
            generation: 0,
            socket: Some(socket),
        });
        UdpHandle {
            index: (self.slots.len() - 1) as u32,
            generation: 0,
        }
    }

    pub(crate) fn get(&self, h: UdpHandle) -> Option<&UdpSocket> {
        let s = self.slots.get(h.index as usize)?;
        if s.generation != h.generation {
            return None;
        }
        s.socket.as_ref()
    }

    pub(crate) fn get_mut(&mut self, h: UdpHandle) -> Option<&mut UdpSocket> {
        let s = self.slots.get_mut(h.index as usize)?;
        if s.generation != h.generation {
            return None;
        }
        s.socket.as_mut()
    }

    pub(crate) fn close(&mut self, h: UdpHandle) -> Option<UdpSocket> {
        let s = self.slots.get_mut(h.index as usize)?;
        if s.generation != h.generation {
            return None;
        }
        let sock = s.socket.take()?;
        if let Some(l) = sock.local {
            self.bindings.remove(&(*l.ip(), l.port()));
        }
        self.free.push(h.index);
        Some(sock)
    }

    /// Which socket a datagram to `dst:port` belongs to: the one bound to that address, else
    /// the one bound to the wildcard.
    #[inline]
    pub(crate) fn demux(&self, dst: Ipv4Addr, port: u16) -> Option<UdpHandle> {
        self.bindings
            .get(&(dst, port))
            .or_else(|| self.bindings.get(&(Ipv4Addr::UNSPECIFIED, port)))
            .copied()
    }

    /// Whether `addr:port` can be bound: no exact match, and no wildcard/specific conflict.
    pub(crate) fn port_free(&self, addr: Ipv4Addr, port: u16) -> bool {
        if self.bindings.contains_key(&(addr, port)) {
            return false;
        }
        if addr.is_unspecified() {
            !self.bindings.keys().any(|(_, p)| *p == port)
        } else {
            !self.bindings.contains_key(&(Ipv4Addr::UNSPECIFIED, port))
        }
    }

    pub(crate) fn handles(&self) -> impl Iterator<Item = UdpHandle> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.socket.as_ref().map(|_| UdpHandle {
                index: i as u32,
                generation: s.generation,
            })
        })
    }
}
