//! IPv4 and ICMP: echo, fragmentation and reassembly, forwarding, dead gateways, PMTU, redirects, ICMP errors.

use super::*;

#[test]
fn ping_self_and_loopback() {
    let (mut net, a, _, _, _) = pair();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(127, 0, 0, 1), 9, 1, b"x", now)
    })
    .unwrap();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 1), 9, 2, &[0; 4000], now)
    })
    .unwrap();
    let got = echo_replies(&mut net, a);
    assert_eq!(
        got,
        vec![(ip(127, 0, 0, 1), 1, 1), (ip(10, 0, 0, 1), 2, 4000)]
    );
    let lo = net.stacks[a].loopback();
    assert!(net.stacks[a].interface(lo).unwrap().counters().opkts >= 4);
}

#[test]
fn fragmentation_both_ways_4000_byte_ping() {
    let (mut net, a, b, _, _) = pair();
    let data: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 3, 7, &data, now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a), vec![(ip(10, 0, 0, 2), 7, 4000)]);
    for s in [a, b] {
        let st = net.stacks[s].stats();
        assert_eq!(st.ip_frag_oks, 1);
        assert_eq!(
            st.ip_frag_creates, 3,
            "4008 bytes of ICMP in 1480-byte pieces"
        );
        assert_eq!(st.ip_reasm_oks, 1);
        assert_eq!(net.stacks[s].reassembly_memory(), 0);
    }
    // With reordering and duplication by jitter, it still works.
    net.jitter = Duration::from_millis(2);
    for seq in 0..5 {
        net.call(a, |s, o, now| {
            s.send_echo_request(o, ip(10, 0, 0, 2), 3, seq, &data, now)
        })
        .unwrap();
    }
    net.run_for(Duration::from_millis(50));
    assert_eq!(echo_replies(&mut net, a).len(), 5);
}

#[test]
fn reassembly_expires_with_time_exceeded() {
    let (mut net, a, b, _, _) = pair();
    // Warm ARP first.
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    net.stacks[a].take_events();
    // Drop every last fragment (MF clear, offset non-zero) from A.
    net.rewrite = Some(Box::new(move |_, s, f| {
        let b = f.as_slice();
        !(s == a
            && b.len() > 34
            && b[12..14] == [8, 0]
            && (b[20] & 0x20) == 0
            && (u16::from_be_bytes([b[20], b[21]]) & 0x1fff) != 0)
    }));
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 2, &[7; 4000], now)
    })
    .unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(net.stacks[b].reassembly_memory() > 0);
    net.run_for(Duration::from_secs(30));
    assert_eq!(net.stacks[b].reassembly_memory(), 0);
    assert_eq!(net.stacks[b].stats().ip_reasm_fails, 1);
    let ev = net.stacks[a].take_events();
    assert_eq!(icmp_errors(&ev), vec![(11, 1)], "{ev:?}");
}

#[test]
fn forwarding_through_a_gateway_and_ttl_expiry() {
    let Routed {
        mut net, a, r, b, ..
    } = routed();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 2, 2), 5, 1, b"through", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a), vec![(ip(10, 0, 2, 2), 1, 7)]);
    assert_eq!(net.stacks[r].stats().ip_forw_datagrams, 2);
    // A 4000-byte ping fragmented by A, forwarded fragment by fragment, reassembled by B.
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 2, 2), 5, 2, &[1; 4000], now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a), vec![(ip(10, 0, 2, 2), 2, 4000)]);
    // UDP with TTL 1 dies at R, which says so.
    let h = net.call(a, |s, _, _| s.udp_open());
    net.stacks[a].udp_set_ttl(h, 1).unwrap();
    net.call(a, |s, o, now| {
        s.udp_send_to(
            o,
            h,
            b"ttl",
            Some(SocketAddrV4::new(ip(10, 0, 2, 2), 9)),
            now,
        )
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let ev = net.stacks[a].take_events();
    assert_eq!(icmp_errors(&ev), vec![(11, 0)]);
    assert_eq!(net.stacks[a].udp_take_error(h), Some((11, 0)));
    // No route at R for 10.9.9.9: net unreachable back to A.
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 9, 9, 9), 5, 3, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(icmp_errors(&net.stacks[a].take_events()), vec![(3, 0)]);
    // Gateway mode off: R drops silently.
    net.stacks[r].set_gateway_mode(false);
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 2, 2), 5, 4, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(echo_replies(&mut net, a).is_empty());
    let _ = b;
}

#[test]
fn dead_gateway_rotation() {
    let Routed { mut net, a, .. } = routed();
    // A's first default gateway (.254) does not exist; the second is R.
    net.stacks[a]
        .route_delete(Ipv4Prefix::DEFAULT, None)
        .unwrap();
    net.stacks[a]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 1, 254), None)
        .unwrap();
    net.stacks[a]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 1, 1), None)
        .unwrap();
    let gw = |net: &Net| {
        net.stacks[a]
            .route_lookup(ip(10, 0, 2, 2), net.now)
            .unwrap()
            .gateway
    };
    assert_eq!(gw(&net), Some(ip(10, 0, 1, 254)));
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 2, 2), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_secs(5));
    let ev = net.stacks[a].take_events();
    assert!(
        ev.contains(&StackEvent::GatewayDead {
            gateway: ip(10, 0, 1, 254),
            next: Some(ip(10, 0, 1, 1))
        }),
        "{ev:?}"
    );
    // The queued ping went on through the next gateway.
    assert!(
        ev.iter()
            .any(|e| matches!(e, StackEvent::EchoReply { seq_no: 1, .. })),
        "{ev:?}"
    );
    assert_eq!(gw(&net), Some(ip(10, 0, 1, 1)));
    let rows = net.stacks[a].routes();
    assert!(rows
        .iter()
        .any(|r| r.kind == RouteKind::Default && r.dead && r.gateway == Some(ip(10, 0, 1, 254))));
    assert!(rows
        .iter()
        .any(|r| r.kind == RouteKind::Default && r.active && r.gateway == Some(ip(10, 0, 1, 1))));
}

#[test]
fn unknown_protocol_and_filter_hooks() {
    let (mut net, a, b, _, _) = pair();
    net.call(a, |s, o, now| {
        s.send_ip(
            o,
            None,
            ip(10, 0, 0, 2),
            IpProtocol::from(99),
            PacketBuf::from_slice(64, b"??"),
            false,
            now,
        )
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(icmp_errors(&net.stacks[a].take_events()), vec![(3, 2)]);
    assert_eq!(net.stacks[b].stats().ip_in_unknown_protos, 1);

    struct DenyUdp;
    impl PacketHook for DenyUdp {
        fn check(&mut self, point: HookPoint, _: IfaceId, p: &[u8], _: Instant) -> Verdict {
            match (point, p.get(9)) {
                (HookPoint::Ingress, Some(17)) => Verdict::Deny,
                (HookPoint::Ingress, Some(1)) if p.get(20) == Some(&8) => Verdict::Drop,
                _ => Verdict::Pass,
            }
        }
    }
    #[derive(Clone, Default)]
    struct Cap(Arc<Mutex<Vec<(Direction, usize)>>>);
    impl CaptureHook for Cap {
        fn capture(&mut self, _: IfaceId, d: Direction, f: &[u8], _: Instant) {
            if let Ok(mut v) = self.0.lock() {
                v.push((d, f.len()));
            }
        }
    }
    let cap = Cap::default();
    net.stacks[b].set_packet_hook(Some(Box::new(DenyUdp)));
    net.stacks[b].set_capture_hook(Some(Box::new(cap.clone())));
    let h = net.call(a, |s, _, _| s.udp_open());
    net.call(a, |s, o, now| {
        s.udp_send_to(
            o,
            h,
            b"no",
            Some(SocketAddrV4::new(ip(10, 0, 0, 2), 7)),
            now,
        )
    })
    .unwrap();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let ev = net.stacks[a].take_events();
    assert_eq!(
        icmp_errors(&ev),
        vec![(3, 13)],
        "UDP denied, admin prohibited"
    );
    assert!(
        !ev.iter().any(|e| matches!(e, StackEvent::EchoReply { .. })),
        "ping dropped silently"
    );
    let seen = cap.0.lock().unwrap().clone();
    assert_eq!(seen.iter().filter(|(d, _)| *d == Direction::In).count(), 2);
    assert_eq!(seen.iter().filter(|(d, _)| *d == Direction::Out).count(), 1);
}

#[test]
fn path_mtu_learnt_as_host_route() {
    let Routed {
        mut net, a, r, r2, ..
    } = routed();
    net.stacks[r].set_mtu(r2, 1000).unwrap();
    let big = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, &[0; 1400]);
    net.call(a, |s, o, now| {
        s.send_ip(
            o,
            None,
            ip(10, 0, 2, 2),
            IpProtocol::Udp,
            big.clone(),
            true,
            now,
        )
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let ev = net.stacks[a].take_events();
    assert!(
        ev.contains(&StackEvent::PathMtu {
            dst: ip(10, 0, 2, 2),
            mtu: 1000
        }),
        "{ev:?}"
    );
    let rt = net.stacks[a].routes();
    assert!(rt.iter().any(|x| x.kind == RouteKind::PathMtu
        && x.dest == Ipv4Prefix::host(ip(10, 0, 2, 2))
        && x.mtu == Some(1000)
        && x.gateway == Some(ip(10, 0, 1, 1))));
    // Now a DF send over 1000 fails locally; a plain one is fragmented to fit.
    assert_eq!(
        net.call(a, |s, o, now| s.send_ip(
            o,
            None,
            ip(10, 0, 2, 2),
            IpProtocol::Udp,
            big.clone(),
            true,
            now
        )),
        Err(SendError::TooLong)
    );
    // The route ages out after 10 minutes.
    net.run_for(Duration::from_secs(601));
    assert!(!net.stacks[a]
        .routes()
        .iter()
        .any(|x| x.kind == RouteKind::PathMtu));
    // TCP_PMTU 0: nothing learnt.
    net.stacks[a].set_pmtu_discovery(false);
    net.call(a, |s, o, now| {
        s.send_ip(o, None, ip(10, 0, 2, 2), IpProtocol::Udp, big, true, now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(!net.stacks[a]
        .routes()
        .iter()
        .any(|x| x.kind == RouteKind::PathMtu));
}

#[test]
fn redirects_ignored_by_default() {
    let (mut net, a, b, _, _) = pair();
    // B tells A to reach 10.0.0.77 via 10.0.0.9.
    let quoted = {
        let r = wire::Ipv4Repr {
            src_addr: ip(10, 0, 0, 1),
            dst_addr: ip(10, 0, 0, 77),
            protocol: IpProtocol::Udp,
            payload_len: 8,
            ttl: 64,
            tos: 0,
            ident: 1,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            options: wire::Ipv4OptionsBuf::new(),
        };
        let mut v = vec![0u8; 28];
        r.emit(&mut wire::Ipv4Packet::new_unchecked(&mut v[..]));
        v
    };
    let m = wire::Icmpv4Repr::Redirect {
        reason: wire::icmpv4::Redirect::Host,
        gateway: ip(10, 0, 0, 9),
        data: &quoted,
    };
    let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, m.buffer_len());
    m.emit(&mut wire::Icmpv4Packet::new_unchecked(buf.as_mut_slice()));
    net.call(b, |s, o, now| {
        s.send_ip(o, None, ip(10, 0, 0, 1), IpProtocol::Icmp, buf, false, now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[a]
        .take_events()
        .contains(&StackEvent::RedirectIgnored {
            from: ip(10, 0, 0, 2),
            gateway: ip(10, 0, 0, 9)
        }));
    assert_eq!(net.stacks[a].stats().icmp_redirects_ignored, 1);
    assert_eq!(
        net.stacks[a]
            .route_lookup(ip(10, 0, 0, 77), net.now)
            .unwrap()
            .gateway,
        None
    );
}

#[test]
fn lossy_network_eventually_pings() {
    let (mut net, a, _, _, _) = pair();
    net.loss = 300;
    let mut replies = 0;
    for seq in 0..40 {
        net.call(a, |s, o, now| {
            s.send_echo_request(o, ip(10, 0, 0, 2), 1, seq, b"", now)
        })
        .unwrap();
        net.run_for(Duration::from_secs(2));
        replies += echo_replies(&mut net, a).len();
    }
    assert!(replies > 10 && replies < 40, "{replies}");
}

#[test]
fn icmp_errors_are_rate_limited() {
    let (mut net, a, b, _, _) = pair();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let h = net.call(a, |s, _, _| s.udp_open());
    for _ in 0..80 {
        net.call(a, |s, o, now| {
            s.udp_send_to(o, h, b"x", Some(SocketAddrV4::new(ip(10, 0, 0, 2), 9)), now)
        })
        .unwrap();
    }
    net.run_for(Duration::from_millis(10));
    let st = net.stacks[b].stats();
    assert_eq!(st.udp.no_ports, 80);
    assert_eq!(st.icmp_rate_limited, 30, "a burst of 50 goes out");
    // A second later the bucket has refilled.
    net.run_for(Duration::from_secs(1));
    net.call(a, |s, o, now| {
        s.udp_send_to(o, h, b"x", Some(SocketAddrV4::new(ip(10, 0, 0, 2), 9)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(net.stacks[b].stats().icmp_rate_limited, 30);
}

#[test]
fn forwarded_datagram_to_a_missing_host_gets_host_unreachable() {
    let Routed { mut net, a, r, .. } = routed();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 2, 99), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_secs(5));
    assert_eq!(icmp_errors(&net.stacks[a].take_events()), vec![(3, 1)]);
    assert!(net.stacks[r]
        .take_events()
        .contains(&StackEvent::ArpFailed {
            iface: IfaceId(2),
            addr: ip(10, 0, 2, 99)
        }));
}

#[test]
fn errors_map_to_io_kinds_and_stack_is_send() {
    fn send<T: Send>() {}
    send::<Stack>();
    let e: std::io::Error = UdpError::AddrInUse(SocketAddrV4::new(ip(1, 2, 3, 4), 5)).into();
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    let e: std::io::Error = UdpError::Send(SendError::BroadcastDenied).into();
    assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
    let e: std::io::Error = SendError::NoRoute(ip(1, 2, 3, 4)).into();
    assert_eq!(e.kind(), std::io::ErrorKind::NetworkUnreachable);
}
