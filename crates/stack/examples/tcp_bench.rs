//! Two sans-I/O stacks on one core joined by an in-memory Ethernet link: one TCP stream's
//! throughput (with TSO/GRO super-segments handed across as a TAP with virtio-net offloads would,
//! and without), and connections per second (connect, accept, one request each way, close).
//! `cargo run --release -p stack --example tcp_bench [seconds]` prints
//! `bench: stack-tcp-stream tso=<Gbit/s> plain=<Gbit/s>` and `bench: stack-tcp-cps ours=<conn/s>`.

use stack::{
    ArpFlags, EthernetAddress, IfaceId, IfaceOffloads, Instant, LinkContext, LinkSpec, PacketBuf,
    RxMeta, Stack, StackConfig, TcpError, TcpHandle, TsoMeta, XorShiftRng,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// Frames in flight on the link, with the receive metadata a TAP would give.
#[derive(Default)]
struct Wire {
    frames: Vec<(PacketBuf, RxMeta)>,
}

impl LinkContext for Wire {
    fn send_frame(&mut self, _iface: IfaceId, frame: PacketBuf) {
        self.frames.push((frame, RxMeta::default()));
    }

    /// A TAP hands a super-segment to the kernel, which delivers it as one GRO'd frame: here the
    /// other stack takes it whole, checksum trusted.
    fn send_tso(&mut self, _iface: IfaceId, frame: PacketBuf, _tso: TsoMeta) {
        self.frames.push((
            frame,
            RxMeta {
                csum_verified: true,
            },
        ));
    }
}

struct Pair {
    st: [Stack; 2],
    ifs: [IfaceId; 2],
    wires: [Wire; 2],
    now: Instant,
}

fn addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 1 + i as u8)
}

fn pair(tso: bool) -> Pair {
    let now = Instant::from_secs(1);
    let mk = |i: usize| {
        let mut cfg = StackConfig::default();
        cfg.tcp.delayed_ack = true;
        let mut st = Stack::new(cfg, Box::new(XorShiftRng::new(7 + i as u64)));
        let mut sink = Vec::new();
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1 + i as u8]);
        let id = st
            .create_interface("se0", LinkSpec::Ethernet(mac), now)
            .unwrap();
        st.set_address(&mut sink, id, addr(i), 24, now).unwrap();
        st.set_up(&mut sink, id, true, now).unwrap();
        st.set_link_running(id, true, now).unwrap();
        let peer_mac = EthernetAddress([2, 0, 0, 0, 0, 2 - i as u8]);
        let flags = ArpFlags {
            permanent: true,
            ..ArpFlags::default()
        };
        st.arp_add(addr(1 - i), Some(peer_mac), flags, now).unwrap();
        if tso {
            st.set_offloads(
                id,
                IfaceOffloads {
                    tso: true,
                    rx_csum_trusted: false,
                },
            );
        }
        (st, id)
    };
    let (a, ai) = mk(0);
    let (b, bi) = mk(1);
    Pair {
        st: [a, b],
        ifs: [ai, bi],
        wires: [Wire::default(), Wire::default()],
        now,
    }
}

impl Pair {
    /// Delivers every frame in flight (both ways) and runs due timers; the clock moves 10 µs.
    fn pump(&mut self) {
        for _ in 0..64 {
            let mut moved = false;
            for from in 0..2 {
                let frames = std::mem::take(&mut self.wires[from].frames);
                let to = 1 - from;
                for (f, meta) in frames {
                    moved = true;
                    let (st, w) = (&mut self.st[to], &mut self.wires[to]);
                    st.receive_with_meta(w, self.ifs[to], f, meta, self.now);
                }
            }
            if !moved {
                break;
            }
        }
        self.now = self.now + Duration::from_micros(10);
        for i in 0..2 {
            if self.st[i].poll_at().is_some_and(|t| t <= self.now) {
                let now = self.now;
                self.st[i].on_timer(&mut self.wires[i], now);
            }
        }
    }

    fn connect(&mut self, port: u16, l: TcpHandle) -> (TcpHandle, TcpHandle) {
        let now = self.now;
        let c = self.st[0]
            .tcp_connect(
                &mut self.wires[0],
                SocketAddrV4::new(addr(1), port),
                None,
                now,
            )
            .unwrap();
        loop {
            self.pump();
            if let Ok((s, _)) = self.st[1].tcp_accept(l) {
                return (c, s);
            }
        }
    }
}

fn stream(tso: bool, secs: f64) -> f64 {
    let mut p = pair(tso);
    let l = p.st[1]
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5001), 16)
        .unwrap();
    let (c, s) = p.connect(5001, l);
    let data = vec![0x5au8; 256 * 1024];
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    let start = std::time::Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..16 {
            let now = p.now;
            loop {
                match p.st[0].tcp_send(&mut p.wires[0], c, &data, now) {
                    Ok(_) => {}
                    Err(TcpError::WouldBlock) => break,
                    Err(e) => panic!("send: {e}"),
                }
            }
            p.pump();
            loop {
                let now = p.now;
                match p.st[1].tcp_recv(&mut p.wires[1], s, &mut buf, now) {
                    Ok(n) => got += n as u64,
                    Err(TcpError::WouldBlock) => break,
                    Err(e) => panic!("recv: {e}"),
                }
            }
        }
    }
    let dt = start.elapsed().as_secs_f64();
    got as f64 * 8.0 / dt / 1e9
}

fn cps(secs: f64) -> f64 {
    let mut p = pair(false);
    let l = p.st[1]
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 1024)
        .unwrap();
    let mut n = 0u64;
    let mut buf = [0u8; 64];
    let start = std::time::Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        let (c, s) = p.connect(80, l);
        let now = p.now;
        p.st[0]
            .tcp_send(&mut p.wires[0], c, b"GET /\r\n", now)
            .unwrap();
        p.pump();
        let now = p.now;
        let k = p.st[1].tcp_recv(&mut p.wires[1], s, &mut buf, now).unwrap();
        assert_eq!(k, 7);
        p.st[1]
            .tcp_send(&mut p.wires[1], s, b"200 OK\r\n", now)
            .unwrap();
        p.st[1].tcp_close(&mut p.wires[1], s, now);
        p.pump();
        let now = p.now;
        let _ = p.st[0].tcp_recv(&mut p.wires[0], c, &mut buf, now);
        p.st[0].tcp_close(&mut p.wires[0], c, now);
        p.pump();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let tso = stream(true, secs);
    let plain = stream(false, secs);
    println!("bench: stack-tcp-stream tso={tso:.2}Gbit/s plain={plain:.2}Gbit/s");
    println!("bench: stack-tcp-cps ours={:.0}conn/s", cps(secs));
}
