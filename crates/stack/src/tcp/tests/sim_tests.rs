//! Two stacks on a simulated hub.

use super::*;

#[test]
fn handshake_data_and_close() {
    let (mut net, a, b) = pair_with(StackConfig::default(), 1);
    let (c, s) = connect(&mut net, a, b);
    let ia = net.stacks[a].tcp_info(c).unwrap();
    assert_eq!(ia.state, TcpState::Established);
    assert_eq!(
        ia.mss,
        1500 - 40 - 12,
        "MTU less headers and the timestamp option"
    );
    assert_eq!(net.stacks[b].tcp_peer_addr(s), Some(ia.local));
    let ev = net.stacks[a].take_events();
    assert!(ev.contains(&StackEvent::Tcp(c)), "{ev:?}");
    let data = pattern(100_000, 7);
    let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(10));
    assert_eq!(fnv(&got), fnv(&data));
    assert_eq!(
        net.stacks[b].tcp_info(s).unwrap().state,
        TcpState::CloseWait
    );
    // The other direction after the half-close.
    let back = pattern(5000, 9);
    let got = transfer(&mut net, b, s, a, c, &back, Duration::from_secs(10));
    assert_eq!(got, back);
    net.run_for(Duration::from_millis(100));
    assert!(net.stacks[b].tcp_poll(s).closed);
    assert_eq!(net.stacks[a].tcp_info(c).unwrap().state, TcpState::TimeWait);
    net.call(a, |st, out, now| st.tcp_close(out, c, now));
    net.call(b, |st, out, now| st.tcp_close(out, s, now));
    let rows = net.stacks[a].tcp_connections();
    assert!(rows
        .iter()
        .any(|r| r.state == TcpState::TimeWait && r.handle.is_none()));
    net.run_for(Duration::from_secs(61));
    assert!(net.stacks[a]
        .tcp_connections()
        .iter()
        .all(|r| r.state == TcpState::Listen));
    assert_eq!(net.stacks[a].tcp_stats().active_opens, 1);
    assert_eq!(net.stacks[b].tcp_stats().passive_opens, 1);
    assert_eq!(net.stacks[b].tcp_stats().curr_estab, 0);
}

#[test]
fn connection_refused() {
    let (mut net, a, _b) = pair_with(StackConfig::default(), 2);
    let c = net
        .call(a, |st, out, now| {
            st.tcp_connect(out, SocketAddrV4::new(ip(10, 0, 0, 2), 81), None, now)
        })
        .unwrap();
    net.run_for(Duration::from_millis(10));
    let r = net.stacks[a].tcp_poll(c);
    assert!(r.closed);
    assert_eq!(r.error, Some(TcpError::ConnectionRefused));
    assert_eq!(net.stacks[a].tcp_stats().attempt_fails, 1);
}

fn lossy_transfer(
    algo: CongestionAlgorithm,
    sack: bool,
    loss: u32,
    jitter_us: u64,
    seed: u64,
) -> TcpStats {
    let mut cfg = StackConfig::default();
    cfg.tcp.congestion = algo;
    cfg.tcp.sack = sack;
    let (mut net, a, b) = pair_with(cfg, seed);
    let (c, s) = connect(&mut net, a, b);
    net.loss = loss;
    net.dup = loss;
    net.jitter = Duration::from_micros(jitter_us);
    let data = pattern(10 << 20, seed as u32);
    let t0 = net.now;
    let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(600));
    let took = net.now.saturating_duration_since(t0);
    eprintln!(
        "{algo} sack={sack} loss={loss}: {took:?}, {:?}, {:?}",
        net.stacks[a].tcp_info(c),
        net.stacks[a].tcp_stats()
    );
    assert_eq!(got.len(), data.len());
    assert_eq!(fnv(&got), fnv(&data));
    let info = net.stacks[a].tcp_info(c).unwrap();
    assert_eq!(info.congestion, algo);
    if loss > 0 {
        assert!(info.retransmits > 0, "{info:?}");
    }
    let st = net.stacks[a].tcp_stats();
    assert!(st.retrans_segs >= info.retransmits);
    assert!(
        took < Duration::from_secs(5),
        "10 MB over a 200 µs RTT: {took:?}"
    );
    st
}

#[test]
fn ten_megabytes_cubic_lossy_reordered() {
    let st = lossy_transfer(CongestionAlgorithm::Cubic, true, 10, 300, 11);
    // RACK-TLP finds the losses (1 % of ~7,000 segments and of their ACKs) without timeouts.
    assert!(st.rto_timeouts <= 2, "{st:?}");
    assert!(st.retrans_segs < 300, "{st:?}");
}

#[test]
fn ten_megabytes_newreno_lossy_reordered() {
    let st = lossy_transfer(CongestionAlgorithm::NewReno, true, 10, 300, 12);
    assert!(st.rto_timeouts <= 2, "{st:?}");
}

#[test]
fn ten_megabytes_newreno_without_sack() {
    lossy_transfer(CongestionAlgorithm::NewReno, false, 5, 0, 13);
}

#[test]
fn ten_megabytes_clean_cubic() {
    lossy_transfer(CongestionAlgorithm::Cubic, true, 0, 0, 14);
}

#[test]
fn tso_with_software_segmentation_on_the_hub() {
    let (mut net, a, b) = pair_with(StackConfig::default(), 21);
    for s in [a, b] {
        let id = net.stacks[s].find_interface("se0").unwrap();
        net.stacks[s].set_offloads(
            id,
            IfaceOffloads {
                tso: true,
                rx_csum_trusted: false,
            },
        );
    }
    let (c, s) = connect(&mut net, a, b);
    net.loss = 5;
    let data = pattern(2 << 20, 21);
    let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(60));
    assert_eq!(fnv(&got), fnv(&data));
    // Every frame on the hub is MTU-sized at most: the default send_tso cut them.
    assert!(net.wire_log.iter().all(|(_, _, f)| f.len() <= 1514));
}

/// A link that takes super-segments whole and hands them to the peer as GRO'd frames.
#[derive(Default)]
struct TsoLink {
    frames: Vec<(PacketBuf, RxMeta)>,
    metas: Vec<(usize, TsoMeta)>,
}

impl LinkContext for TsoLink {
    fn send_frame(&mut self, _iface: IfaceId, frame: PacketBuf) {
        self.frames.push((frame, RxMeta::default()));
    }
    fn send_tso(&mut self, _iface: IfaceId, frame: PacketBuf, tso: TsoMeta) {
        self.metas.push((frame.len(), tso));
        self.frames.push((
            frame,
            RxMeta {
                csum_verified: true,
            },
        ));
    }
}

#[test]
fn tso_super_segments_and_gro_frames() {
    let now = Instant::from_secs(1);
    let mut st: Vec<Stack> = Vec::new();
    let mut ids = Vec::new();
    for i in 0..2u8 {
        let mut s = Stack::new(
            StackConfig::default(),
            Box::new(XorShiftRng::new(5 + u64::from(i))),
        );
        let mut sink = Vec::new();
        let id = s
            .create_interface(
                "se0",
                LinkSpec::Ethernet(EthernetAddress([2, 0, 0, 0, 0, 1 + i])),
                now,
            )
            .unwrap();
        s.set_address(&mut sink, id, ip(10, 0, 0, 1 + i), 24, now)
            .unwrap();
        s.set_up(&mut sink, id, true, now).unwrap();
        s.set_link_running(id, true, now).unwrap();
        let flags = ArpFlags {
            permanent: true,
            ..ArpFlags::default()
        };
        s.arp_add(
            ip(10, 0, 0, 2 - i),
            Some(EthernetAddress([2, 0, 0, 0, 0, 2 - i])),
            flags,
            now,
        )
        .unwrap();
        s.set_offloads(
            id,
            IfaceOffloads {
                tso: i == 0,
                rx_csum_trusted: false,
            },
        );
        st.push(s);
        ids.push(id);
    }
    let mut links = [TsoLink::default(), TsoLink::default()];
    let l = st[1]
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 9), 4)
        .unwrap();
    let c = st[0]
        .tcp_connect(
            &mut links[0],
            SocketAddrV4::new(ip(10, 0, 0, 2), 9),
            None,
            now,
        )
        .unwrap();
    let pump = |st: &mut Vec<Stack>, links: &mut [TsoLink; 2], now: Instant| {
        for _ in 0..32 {
            for from in 0..2 {
                let to = 1 - from;
                for (f, meta) in std::mem::take(&mut links[from].frames) {
                    st[to].receive_with_meta(&mut links[to], ids[to], f, meta, now);
                }
            }
        }
    };
    pump(&mut st, &mut links, now);
    let (s, _) = st[1].tcp_accept(l).unwrap();
    let data = pattern(200_000, 3);
    let n = st[0].tcp_send(&mut links[0], c, &data, now).unwrap();
    assert_eq!(n, data.len());
    let (len, meta) = links[0].metas[0];
    assert_eq!(meta.mss, 1448);
    assert_eq!((meta.l3_offset, meta.l4_offset), (14, 34));
    assert_eq!(meta.header_len, 14 + 20 + 32);
    assert!(len > 10_000, "a super-segment: {len} bytes");
    pump(&mut st, &mut links, now + Duration::from_millis(1));
    let mut buf = vec![0u8; 300_000];
    let got = st[1].tcp_recv(&mut links[1], s, &mut buf, now).unwrap();
    assert_eq!(&buf[..got], &data[..got]);
    assert!(
        got >= 14_480,
        "the initial window arrived as GRO'd frames: {got}"
    );
}

#[test]
fn small_buffers_and_a_slow_reader() {
    let mut cfg = StackConfig::default();
    cfg.tcp.recv_buffer = 3000;
    cfg.tcp.send_buffer = 5000;
    cfg.tcp.window_scaling = false;
    let (mut net, a, b) = pair_with(cfg, 31);
    let (c, s) = connect(&mut net, a, b);
    let data = pattern(200_000, 31);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 700];
    let mut min_wnd = u32::MAX;
    for _ in 0..20_000 {
        if sent < data.len() {
            match net.call(a, |st, out, now| st.tcp_send(out, c, &data[sent..], now)) {
                Ok(n) => sent += n,
                Err(TcpError::WouldBlock) => {}
                Err(e) => panic!("{e}"),
            }
        }
        net.run_for(Duration::from_millis(3));
        min_wnd = min_wnd.min(net.stacks[a].tcp_info(c).unwrap().snd_wnd);
        // The reader takes at most 700 bytes every 3 ms.
        match net.call(b, |st, out, now| st.tcp_recv(out, s, &mut buf, now)) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(TcpError::WouldBlock) => {}
            Err(e) => panic!("{e}"),
        }
        if got.len() == data.len() {
            break;
        }
    }
    assert_eq!(got, data);
    assert!(
        min_wnd < 1448,
        "the window closed ({min_wnd}) and opened again"
    );
    let info = net.stacks[b].tcp_info(s).unwrap();
    assert!(info.rcv_wnd <= 3000);
}

#[test]
fn loopback_connection_in_one_stack() {
    let mut st = Stack::new(StackConfig::default(), Box::new(XorShiftRng::new(3)));
    let mut out = Vec::new();
    let mut now = Instant::from_secs(1);
    let l = st
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7), 4)
        .unwrap();
    assert_eq!(
        st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7), 4),
        Err(TcpError::AddrInUse)
    );
    let c = st
        .tcp_connect(
            &mut out,
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7),
            None,
            now,
        )
        .unwrap();
    assert!(out.is_empty(), "nothing leaves on a link");
    let ev = st.take_events();
    assert!(ev.contains(&StackEvent::Tcp(l)), "{ev:?}");
    assert!(ev.contains(&StackEvent::Tcp(c)));
    let (s, peer) = st.tcp_accept(l).unwrap();
    assert_eq!(Some(peer), st.tcp_local_addr(c));
    assert!(st.tcp_poll(c).connected && st.tcp_poll(s).connected);
    let data = pattern(300_000, 5);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        if sent < data.len() {
            if let Ok(n) = st.tcp_send(&mut out, c, &data[sent..], now) {
                sent += n;
            }
        }
        while let Ok(n) = st.tcp_recv(&mut out, s, &mut buf, now) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        now = now + Duration::from_millis(1);
        if st.poll_at().is_some_and(|t| t <= now) {
            st.on_timer(&mut out, now);
        }
        if got.len() == data.len() {
            break;
        }
    }
    assert_eq!(got, data);
    assert_eq!(st.tcp_info(c).unwrap().mss, 16384 - 40 - 12);
    st.tcp_close(&mut out, c, now);
    assert_eq!(st.tcp_recv(&mut out, s, &mut buf, now), Ok(0));
    st.tcp_close(&mut out, s, now);
    assert!(out.is_empty());
}

#[test]
fn path_mtu_discovery_through_a_router() {
    // A — R — B, the second link with MTU 1000: the first full segments die at R with ICMP
    // fragmentation needed; A's connection lowers its MSS and the transfer completes.
    let crate::tests::Routed {
        mut net,
        a,
        r,
        b,
        r2,
    } = crate::tests::routed();
    net.stacks[r].set_mtu(r2, 1000).unwrap();
    let l = net.stacks[b]
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 4)
        .unwrap();
    let c = net
        .call(a, |st, out, now| {
            st.tcp_connect(out, SocketAddrV4::new(ip(10, 0, 2, 2), 80), None, now)
        })
        .unwrap();
    net.run_for(Duration::from_millis(20));
    let (s, _) = net.stacks[b].tcp_accept(l).unwrap();
    let data = pattern(1 << 20, 17);
    let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(30));
    assert_eq!(fnv(&got), fnv(&data));
    let info = net.stacks[a].tcp_info(c).unwrap();
    assert_eq!(info.mss, 1000 - 40 - 12, "{info:?}");
    assert!(net.stacks[a]
        .take_events()
        .iter()
        .any(|e| matches!(e, StackEvent::PathMtu { mtu: 1000, .. })));
}

/// 2 MB over 5% loss, 2% duplication and jitter, for each combination of the options that
/// change recovery (SACK, timestamps, window scaling, the congestion algorithm), four seeds each.
#[test]
fn transfers_survive_heavy_loss_with_every_option_set() {
    for (i, (sack, ts, ws, algo)) in [
        (true, true, true, CongestionAlgorithm::Cubic),
        (false, true, true, CongestionAlgorithm::Cubic),
        (true, false, true, CongestionAlgorithm::NewReno),
        (false, false, false, CongestionAlgorithm::NewReno),
        (true, true, false, CongestionAlgorithm::Cubic),
    ]
    .into_iter()
    .enumerate()
    {
        for seed in 0..4u64 {
            let mut cfg = StackConfig::default();
            cfg.tcp.congestion = algo;
            cfg.tcp.sack = sack;
            cfg.tcp.timestamps = ts;
            cfg.tcp.window_scaling = ws;
            let (mut net, a, b) = pair_with(cfg, 100 + seed * 10 + i as u64);
            let (c, s) = connect(&mut net, a, b);
            net.loss = 50;
            net.dup = 20;
            net.jitter = Duration::from_micros(500);
            let data = pattern(2 << 20, seed as u32);
            let t0 = net.now;
            let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(3000));
            assert_eq!(fnv(&got), fnv(&data));
            eprintln!(
                "STRESS sack={sack} ts={ts} ws={ws} {algo} seed={seed}: {:?} {:?}",
                net.now.saturating_duration_since(t0),
                net.stacks[a].tcp_stats()
            );
        }
    }
}
