//! Shared by the forwarding tests and the forwarding benchmark: a router stack between two
//! links and a 64-byte UDP frame for it to forward.

#![allow(dead_code)]

use stack::{
    ArpFlags, EthernetAddress, IfaceId, Instant, LinkSpec, Stack, StackConfig, XorShiftRng,
};
use std::net::Ipv4Addr;
use wire::{
    EtherType, EthernetFrame, EthernetRepr, IpProtocol, Ipv4OptionsBuf, Ipv4Packet, Ipv4Repr,
    PacketBuf, UdpPacket, UdpRepr,
};

pub const R0: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
pub const R1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
pub const HOST_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 1, 1]);
pub const HOST_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 2, 2]);

/// A router with se0 10.0.1.1/24 and se1 10.0.2.1/24; host B (10.0.2.2) is a permanent ARP entry.
pub fn router() -> (Stack, IfaceId, IfaceId) {
    let now = Instant::ZERO;
    let mut r = Stack::new(
        StackConfig {
            gateway_mode: true,
            ..StackConfig::default()
        },
        Box::new(XorShiftRng::new(1)),
    );
    let mut sink = Vec::new();
    let se0 = r
        .create_interface("se0", LinkSpec::Ethernet(R0), now)
        .unwrap();
    let se1 = r
        .create_interface("se1", LinkSpec::Ethernet(R1), now)
        .unwrap();
    for (id, a) in [
        (se0, Ipv4Addr::new(10, 0, 1, 1)),
        (se1, Ipv4Addr::new(10, 0, 2, 1)),
    ] {
        r.set_address(&mut sink, id, a, 24, now).unwrap();
        r.set_up(&mut sink, id, true, now).unwrap();
        r.set_link_running(id, true, now).unwrap();
    }
    let perm = ArpFlags {
        permanent: true,
        ..ArpFlags::default()
    };
    r.arp_add(Ipv4Addr::new(10, 0, 2, 2), Some(HOST_B), perm, now)
        .unwrap();
    (r, se0, se1)
}

/// A 64-byte frame (no FCS) from host A to host B through the router.
pub fn frame() -> Vec<u8> {
    let payload = [0x5au8; 22];
    let mut b = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, &payload);
    let (src, dst) = (Ipv4Addr::new(10, 0, 1, 2), Ipv4Addr::new(10, 0, 2, 2));
    let udp = UdpRepr {
        src_port: 5000,
        dst_port: 9,
        payload_len: payload.len(),
    };
    b.prepend(8).unwrap();
    udp.emit(&mut UdpPacket::new_unchecked(b.as_mut_slice()), src, dst);
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::Udp,
        payload_len: b.len(),
        ttl: 64,
        tos: 0,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionsBuf::new(),
    };
    b.prepend(ip.buffer_len()).unwrap();
    ip.emit(&mut Ipv4Packet::new_unchecked(b.as_mut_slice()));
    let eth = EthernetRepr {
        dst_addr: R0,
        src_addr: HOST_A,
        ethertype: EtherType::Ipv4,
    };
    b.prepend(14).unwrap();
    eth.emit(&mut EthernetFrame::new_unchecked(b.as_mut_slice()));
    b.to_vec()
}

/// A link context that keeps the frames it is given, to hand their buffers back as receive buffers.
#[derive(Default)]
pub struct Recycle {
    pub frames: Vec<PacketBuf>,
    pub sent: u64,
}

impl stack::LinkContext for Recycle {
    fn send_frame(&mut self, _iface: IfaceId, frame: PacketBuf) {
        self.sent += 1;
        self.frames.push(frame);
    }
}

/// Refills recycled buffers with the template, as a link reading into its buffers would.
pub fn refill(bufs: &mut [PacketBuf], template: &[u8]) {
    for b in bufs {
        if b.len() == template.len() {
            b.as_mut_slice().copy_from_slice(template);
        }
    }
}
