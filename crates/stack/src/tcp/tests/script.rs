//! A packetdrill-style harness on virtual time: one stack (10.0.0.1 on se0) and a scripted peer
//! (10.0.0.2:5000) whose segments the test writes by hand. `inject(t, seg)` delivers a segment
//! at t ms; `expect(t, ..)` runs timers until the stack sends a segment and checks it came by
//! t ms; `expect_none(t)` checks nothing leaves until t ms.

use crate::{
    ArpFlags, EthernetAddress, IfaceId, Instant, LinkSpec, PacketBuf, Stack, StackConfig,
    XorShiftRng,
};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use wire::tcp::{TcpFlags, TcpPacket, TcpRepr};
use wire::{
    EtherType, EthernetFrame, EthernetRepr, FrameRepr, IpProtocol, Ipv4OptionsBuf, Ipv4Packet,
    Ipv4Repr,
};

pub(crate) const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub(crate) const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const OUR_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

/// A segment the stack sent.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    pub(crate) repr: TcpRepr,
    pub(crate) payload: Vec<u8>,
    pub(crate) at: Instant,
    pub(crate) dont_frag: bool,
    /// The IP header's ECN field (RFC 3168: 2 is ECT(0)).
    pub(crate) ecn: u8,
}

impl Seg {
    pub(crate) fn flags(&self) -> TcpFlags {
        self.repr.flags
    }
    pub(crate) fn seq(&self) -> u32 {
        self.repr.seq_number
    }
    pub(crate) fn ack(&self) -> u32 {
        self.repr.ack_number
    }
}

pub(crate) struct Script {
    pub(crate) st: Stack,
    pub(crate) iface: IfaceId,
    pub(crate) now: Instant,
    start: Instant,
    out: Vec<(IfaceId, PacketBuf)>,
    sent: VecDeque<Seg>,
    /// The peer's address.
    pub(crate) peer: SocketAddrV4,
    /// Our address (port set by the test: listener port, or what connect chose).
    pub(crate) local: SocketAddrV4,
    /// Other frames the stack sent (ICMP ...): (protocol, bytes after the IPv4 header).
    pub(crate) other: Vec<(IpProtocol, Vec<u8>)>,
    /// The ECN field of what `inject` sends (3: Congestion Experienced).
    pub(crate) ecn_in: u8,
}

impl Script {
    pub(crate) fn new(cfg: StackConfig) -> Script {
        let mut st = Stack::new(cfg, Box::new(XorShiftRng::new(99)));
        let start = Instant::from_secs(100);
        let mut out = Vec::new();
        let iface = st
            .create_interface("se0", LinkSpec::Ethernet(OUR_MAC), start)
            .unwrap();
        st.set_address(&mut out, iface, US, 24, start).unwrap();
        st.set_up(&mut out, iface, true, start).unwrap();
        st.set_link_running(iface, true, start).unwrap();
        st.arp_add(
            PEER,
            Some(PEER_MAC),
            ArpFlags {
                permanent: true,
                ..ArpFlags::default()
            },
            start,
        )
        .unwrap();
        out.clear();
        Script {
            st,
            iface,
            now: start,
            start,
            out,
            sent: VecDeque::new(),
            peer: SocketAddrV4::new(PEER, 5000),
            local: SocketAddrV4::new(US, 80),
            other: Vec::new(),
            ecn_in: 0,
        }
    }

    /// `ms` milliseconds after the script's start.
    pub(crate) fn t(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    /// Milliseconds since the start.
    pub(crate) fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_millis() as u64
    }

    fn collect(&mut self) {
        for (_, f) in self.out.drain(..) {
            let Ok(eth) = EthernetFrame::new_checked(f.as_slice()) else {
                continue;
            };
            let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                continue;
            };
            if ip.protocol() != IpProtocol::Tcp {
                self.other.push((ip.protocol(), ip.payload().to_vec()));
                continue;
            }
            let p = TcpPacket::new_checked(ip.payload()).expect("a TCP header");
            let repr = TcpRepr::parse(&p, ip.src_addr(), ip.dst_addr()).expect("valid checksum");
            self.sent.push_back(Seg {
                repr,
                payload: p.payload().to_vec(),
                at: self.now,
                dont_frag: ip.dont_frag(),
                ecn: eth.payload()[1] & 3,
            });
        }
    }

    /// Runs the stack's timers up to `until`.
    pub(crate) fn advance(&mut self, until: Instant) {
        while let Some(t) = self.st.poll_at() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            let now = self.now;
            self.st.on_timer(&mut self.out, now);
            self.collect();
        }
        self.now = self.now.max(until);
    }

    /// Runs `f` on the stack at the current time and collects what it sends.
    pub(crate) fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Stack, &mut Vec<(IfaceId, PacketBuf)>, Instant) -> R,
    ) -> R {
        let now = self.now;
        let r = f(&mut self.st, &mut self.out, now);
        self.collect();
        r
    }

    /// A segment from the peer to us with the given fields.
    pub(crate) fn seg(&self, flags: TcpFlags, seq: u32, ack: u32, win: u16) -> TcpRepr {
        TcpRepr {
            src_port: self.peer.port(),
            dst_port: self.local.port(),
            seq_number: seq,
            ack_number: ack,
            flags,
            window_len: win,
            ..TcpRepr::default()
        }
    }

    /// Opens a connection to the peer (the SYN is queued, not yet checked) and makes its local
    /// address the one `inject` sends to.
    pub(crate) fn connect(&mut self) -> crate::TcpHandle {
        let peer = self.peer;
        let c = self
            .call(|st, out, now| st.tcp_connect(out, peer, None, now))
            .unwrap();
        self.local = self.st.tcp_local_addr(c).unwrap();
        c
    }

    /// Delivers `repr` with `payload` at `ms`.
    pub(crate) fn inject(&mut self, ms: u64, mut repr: TcpRepr, payload: &[u8]) {
        let at = self.t(ms);
        self.advance(at);
        repr.payload_len = payload.len();
        let frame = frame_tos(
            &repr,
            payload,
            *self.peer.ip(),
            *self.local.ip(),
            self.ecn_in,
        );
        let now = self.now;
        let iface = self.iface;
        self.st.receive(&mut self.out, iface, frame, now);
        self.collect();
    }

    /// The next segment the stack sends, which must come by `ms`.
    pub(crate) fn expect(&mut self, ms: u64) -> Seg {
        let by = self.t(ms);
        if self.sent.is_empty() {
            self.advance_until_sent(by);
        }
        let s = self
            .sent
            .pop_front()
            .unwrap_or_else(|| panic!("nothing sent by {ms} ms (now {} ms)", self.ms(self.now)));
        assert!(
            s.at <= by,
            "segment at {} ms, expected by {ms} ms: {}",
            self.ms(s.at),
            s.repr
        );
        s
    }

    fn advance_until_sent(&mut self, by: Instant) {
        while self.sent.is_empty() {
            match self.st.poll_at() {
                Some(t) if t <= by => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    self.st.on_timer(&mut self.out, now);
                    self.collect();
                }
                _ => break,
            }
        }
    }

    /// Checks that nothing leaves up to `ms`.
    pub(crate) fn expect_none(&mut self, ms: u64) {
        let by = self.t(ms);
        self.advance_until_sent(by);
        if let Some(s) = self.sent.front() {
            panic!("unexpected segment at {} ms: {}", self.ms(s.at), s.repr);
        }
        self.advance(by);
    }

    /// Segments sent and not yet checked.
    pub(crate) fn drain(&mut self) -> Vec<Seg> {
        self.sent.drain(..).collect()
    }
}

/// An Ethernet frame carrying `repr` from `src` to `dst`.
pub(crate) fn frame(repr: &TcpRepr, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> PacketBuf {
    frame_tos(repr, payload, src, dst, 0)
}

/// As [`frame`], with `tos` in the IP header.
fn frame_tos(repr: &TcpRepr, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr, tos: u8) -> PacketBuf {
    let hl = repr.header_len();
    let mut b = PacketBuf::with_headroom(64, hl + payload.len());
    b.as_mut_slice()[hl..].copy_from_slice(payload);
    repr.emit(&mut TcpPacket::new_unchecked(b.as_mut_slice()), src, dst);
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::Tcp,
        payload_len: b.len(),
        ttl: 64,
        tos,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionsBuf::new(),
    };
    b.prepend(ip.buffer_len()).unwrap();
    ip.emit(&mut Ipv4Packet::new_unchecked(b.as_mut_slice()));
    let eth = FrameRepr::EthernetII(EthernetRepr {
        dst_addr: OUR_MAC,
        src_addr: PEER_MAC,
        ethertype: EtherType::Ipv4,
    });
    b.prepend(eth.buffer_len()).unwrap();
    eth.emit(&mut EthernetFrame::new_unchecked(b.as_mut_slice()));
    b
}
