//! UDP sockets, broadcast, multicast and IGMP.

use super::*;

/// B's socket bound to 10.0.0.2:5353, A's connected to it, and A's "question" delivered (10 ms
/// of virtual time); returns (A's socket, B's socket).
fn question_to_b(net: &mut Net, a: usize, b: usize) -> (UdpHandle, UdpHandle) {
    let hb = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(hb, SocketAddrV4::new(ip(10, 0, 0, 2), 5353))
        .unwrap();
    let ha = net.call(a, |s, _, _| s.udp_open());
    net.stacks[a]
        .udp_connect(ha, SocketAddrV4::new(ip(10, 0, 0, 2), 5353))
        .unwrap();
    net.call(a, |s, o, now| s.udp_send(o, ha, b"question", now))
        .unwrap();
    net.run_for(Duration::from_millis(10));
    (ha, hb)
}

#[test]
fn udp_both_ways_and_port_unreachable() {
    let (mut net, a, b, _, _) = pair();
    let (ha, hb) = question_to_b(&mut net, a, b);
    assert!(net.stacks[b]
        .take_events()
        .contains(&StackEvent::UdpReadable(hb)));
    assert!(net.stacks[b].udp_poll(hb).readable);
    let d = net.stacks[b].udp_recv(hb).unwrap();
    assert_eq!(d.data.as_slice(), b"question");
    assert_eq!(*d.src.ip(), ip(10, 0, 0, 1));
    let port = d.src.port();
    assert!((49152..=65535).contains(&port));
    net.call(b, |s, o, now| {
        s.udp_send_to(o, hb, b"answer", Some(d.src), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let r = net.stacks[a].udp_recv(ha).unwrap();
    assert_eq!(
        (r.data.as_slice(), r.src),
        (&b"answer"[..], SocketAddrV4::new(ip(10, 0, 0, 2), 5353))
    );
    assert!(net.stacks[a].udp_recv(ha).is_none());
    // Double bind refused; a wildcard bind on the same port conflicts.
    let h2 = net.call(b, |s, _, _| s.udp_open());
    assert!(matches!(
        net.stacks[b].udp_bind(h2, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5353)),
        Err(UdpError::AddrInUse(_))
    ));
    assert!(matches!(
        net.stacks[b].udp_bind(h2, SocketAddrV4::new(ip(10, 9, 9, 9), 1)),
        Err(UdpError::AddrNotAvailable(_))
    ));
    // Nobody on port 9: ICMP port unreachable comes back.
    let h3 = net.call(a, |s, _, _| s.udp_open());
    net.call(a, |s, o, now| {
        s.udp_send_to(
            o,
            h3,
            b"x",
            Some(SocketAddrV4::new(ip(10, 0, 0, 2), 9)),
            now,
        )
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(net.stacks[a].udp_take_error(h3), Some((3, 3)));
    assert_eq!(net.stacks[b].stats().udp.no_ports, 1);
    // ...and B reports the probe of a closed port (for intrusion prevention).
    let closed = StackEvent::ClosedPort {
        src: ip(10, 0, 0, 1),
        dst: SocketAddrV4::new(ip(10, 0, 0, 2), 9),
        protocol: 17,
    };
    assert!(net.stacks[b].take_events().contains(&closed));
    // A stale handle is refused.
    net.call(b, |s, o, now| s.udp_close(o, h2, now));
    assert_eq!(
        net.stacks[b].udp_bind(h2, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 1)),
        Err(UdpError::BadHandle)
    );
}

/// A datagram whose UDP checksum a device was to complete (virtio-net NEEDS_CSUM) is taken when
/// the link says so, and dropped as corrupt when it does not.
#[test]
fn udp_checksum_left_to_the_link() {
    let (mut net, a, b, _, bi) = pair();
    let (_, hb) = question_to_b(&mut net, a, b);
    assert!(net.stacks[b].udp_recv(hb).is_some());
    // The frame as it went, its UDP checksum spoilt (Ethernet 14 + IPv4 20 + offset 6).
    let mut frame = net
        .wire_log
        .iter()
        .rev()
        .find(|(_, sender, bytes)| *sender == a && bytes.len() > 42 && bytes[23] == 17)
        .map(|(_, _, bytes)| bytes.clone())
        .expect("the datagram on the wire");
    frame[40] ^= 0x5a;
    let errors = net.stacks[b].stats().udp.in_errors;
    for verified in [false, true] {
        let now = net.now;
        let mut out = Vec::new();
        net.stacks[b].receive_with_meta(
            &mut out,
            bi,
            PacketBuf::from_slice(64, &frame),
            RxMeta {
                csum_verified: verified,
            },
            now,
        );
        assert_eq!(net.stacks[b].udp_recv(hb).is_some(), verified);
    }
    assert_eq!(net.stacks[b].stats().udp.in_errors, errors + 1);
}

#[test]
fn ephemeral_ports_step_randomly() {
    let (mut net, a, _, _, _) = pair();
    let mut ports = Vec::new();
    for _ in 0..50 {
        let h = net.call(a, |s, _, _| s.udp_open());
        ports.push(
            net.stacks[a]
                .udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
                .unwrap()
                .port(),
        );
    }
    let steps: Vec<i32> = ports
        .windows(2)
        .map(|w| (i32::from(w[1]) - i32::from(w[0])).rem_euclid(16384))
        .collect();
    assert!(steps.iter().all(|s| (1..=64).contains(s)), "{steps:?}");
    assert!(
        steps.iter().any(|s| *s != steps[0]),
        "steps vary: {steps:?}"
    );
    assert!(ports.iter().all(|p| *p >= 49152));
}

#[test]
fn broadcast_udp() {
    let (mut net, a, b, _, _) = pair();
    let hb = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(hb, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5000))
        .unwrap();
    let ha = net.call(a, |s, _, _| s.udp_open());
    let to = |a: Ipv4Addr| Some(SocketAddrV4::new(a, 5000));
    assert_eq!(
        net.call(a, |s, o, now| s.udp_send_to(
            o,
            ha,
            b"x",
            to(ip(10, 0, 0, 255)),
            now
        )),
        Err(UdpError::Send(SendError::BroadcastDenied))
    );
    net.stacks[a].udp_set_broadcast(ha, true).unwrap();
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"subnet", to(ip(10, 0, 0, 255)), now)
    })
    .unwrap();
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"limited", to(Ipv4Addr::BROADCAST), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let d1 = net.stacks[b].udp_recv(hb).unwrap();
    let d2 = net.stacks[b].udp_recv(hb).unwrap();
    assert_eq!(
        (d1.data.as_slice(), d1.dst),
        (&b"subnet"[..], ip(10, 0, 0, 255))
    );
    assert_eq!(
        (d2.data.as_slice(), d2.dst),
        (&b"limited"[..], Ipv4Addr::BROADCAST)
    );
    // A non-standard broadcast address.
    net.stacks[b]
        .set_broadcast(IfaceId(1), Some(ip(10, 0, 0, 254)))
        .unwrap();
    net.stacks[a]
        .set_broadcast(IfaceId(1), Some(ip(10, 0, 0, 254)))
        .unwrap();
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"odd", to(ip(10, 0, 0, 254)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(net.stacks[b].udp_recv(hb).unwrap().data.as_slice(), b"odd");
    assert!(
        net.stacks[b]
            .interface(IfaceId(1))
            .unwrap()
            .counters()
            .in_bcast
            >= 3
    );
}

#[test]
fn broadcast_reaches_a_socket_bound_to_the_interface_address() {
    let (mut net, a, b, _, _) = pair();
    let hb = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(hb, SocketAddrV4::new(ip(10, 0, 0, 2), 7))
        .unwrap();
    let ha = net.call(a, |s, _, _| s.udp_open());
    net.stacks[a].udp_set_broadcast(ha, true).unwrap();
    for dst in [ip(10, 0, 0, 255), Ipv4Addr::BROADCAST] {
        net.call(a, |s, o, now| {
            s.udp_send_to(o, ha, b"anyone", Some(SocketAddrV4::new(dst, 7)), now)
        })
        .unwrap();
    }
    net.run_for(Duration::from_millis(10));
    let d1 = net.stacks[b].udp_recv(hb).unwrap();
    let d2 = net.stacks[b].udp_recv(hb).unwrap();
    assert_eq!(
        (d1.data.as_slice(), d1.dst),
        (&b"anyone"[..], ip(10, 0, 0, 255))
    );
    assert_eq!(d2.dst, Ipv4Addr::BROADCAST);
    // The answer goes from our unicast address.
    let to = d1.src;
    net.call(b, |s, o, now| s.udp_send_to(o, hb, b"me", Some(to), now))
        .unwrap();
    net.run_for(Duration::from_millis(10));
    let back = net.stacks[a].udp_recv(ha).unwrap();
    assert_eq!(back.src, SocketAddrV4::new(ip(10, 0, 0, 2), 7));
    // Another subnet's broadcast is not ours.
    net.call(a, |s, o, now| {
        s.udp_send_to(
            o,
            ha,
            b"x",
            Some(SocketAddrV4::new(ip(10, 0, 1, 255), 7)),
            now,
        )
    })
    .ok();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[b].udp_recv(hb).is_none());
}

#[test]
fn multicast_with_igmp_join_and_leave() {
    let mut net = Net::new(11);
    let hub = net.hub();
    let a = net.stack(StackConfig::default());
    let b = net.stack(StackConfig::default());
    let c = net.stack(StackConfig::default());
    net.attach(a, hub, "se0", ip(10, 0, 0, 1), 24);
    net.attach(b, hub, "se0", ip(10, 0, 0, 2), 24);
    net.attach(c, hub, "se0", ip(10, 0, 0, 3), 24);
    let g = ip(239, 1, 2, 3);
    let mut socks = Vec::new();
    for s in [b, c] {
        let h = net.call(s, |st, _, _| st.udp_open());
        net.stacks[s]
            .udp_bind(h, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 6000))
            .unwrap();
        socks.push(h);
    }
    net.wire_log.clear();
    let hb = socks[0];
    net.call(b, |s, o, now| s.udp_join_multicast(o, hb, g, None, now))
        .unwrap();
    assert_eq!(net.stacks[b].multicast_groups(), vec![(IfaceId(1), g)]);
    // An IGMPv2 report to the group, TTL 1, with Router Alert.
    let report = net
        .wire_log
        .iter()
        .find(|(_, s, f)| *s == b && f.len() > 23 && f[23] == 2)
        .expect("IGMP report")
        .2
        .clone();
    assert_eq!(&report[0..6], &[0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
    assert_eq!(report[22], 1, "TTL 1");
    assert_eq!(report[14] & 0x0f, 6, "header with Router Alert");
    let ha = net.call(a, |s, _, _| s.udp_open());
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"group", Some(SocketAddrV4::new(g, 6000)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.stacks[b].udp_recv(hb).unwrap().data.as_slice(),
        b"group"
    );
    assert!(net.stacks[c].udp_recv(socks[1]).is_none(), "C did not join");
    // The second unsolicited report comes within 10 s.
    net.wire_log.clear();
    net.run_for(Duration::from_secs(11));
    assert_eq!(
        net.wire_log
            .iter()
            .filter(|(_, s, f)| *s == b && f.len() > 23 && f[23] == 2)
            .count(),
        1
    );
    // Leave: IGMP leave to 224.0.0.2, and nothing more arrives.
    net.wire_log.clear();
    net.call(b, |s, o, now| s.udp_leave_multicast(o, hb, g, now))
        .unwrap();
    let leave = net
        .wire_log
        .iter()
        .find(|(_, s, _)| *s == b)
        .expect("leave")
        .2
        .clone();
    assert_eq!(&leave[30..34], &[224, 0, 0, 2]);
    assert_eq!(leave[38], 0x17);
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"group", Some(SocketAddrV4::new(g, 6000)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[b].udp_recv(hb).is_none());
    assert!(net.stacks[b].multicast_groups().is_empty());
}

/// B joins `g` on `bi` and its unsolicited reports are over (the wire log is cleared); then A
/// sends a general query with `max_resp_time` (tenths of a second) to 224.0.0.1.
fn joined_then_queried(
    net: &mut Net,
    a: usize,
    b: usize,
    bi: IfaceId,
    g: Ipv4Addr,
    max_resp_time: u8,
) {
    net.call(b, |s, o, now| s.join_group(o, bi, g, now))
        .unwrap();
    net.run_for(Duration::from_secs(11));
    net.wire_log.clear();
    let q = wire::IgmpRepr::MembershipQuery {
        max_resp_time,
        group_addr: Ipv4Addr::UNSPECIFIED,
    };
    let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 8);
    q.emit(&mut wire::IgmpPacket::new_unchecked(buf.as_mut_slice()));
    net.call(a, |s, o, now| {
        s.send_ip(o, None, ip(224, 0, 0, 1), IpProtocol::Igmp, buf, false, now)
    })
    .unwrap();
}

#[test]
fn igmp_query_answered_after_random_delay() {
    let (mut net, a, b, _, bi) = pair();
    // A general query from A (as a router would send), max response 1 s.
    joined_then_queried(&mut net, a, b, bi, ip(239, 0, 0, 9), 10);
    net.run_for(Duration::from_millis(1100));
    assert_eq!(
        net.wire_log
            .iter()
            .filter(|(_, s, f)| *s == b && f.len() > 23 && f[23] == 2)
            .count(),
        1
    );
}

#[test]
fn multicast_loops_back_to_our_own_members() {
    let (mut net, a, b, _, _) = pair();
    let g = ip(239, 9, 9, 9);
    let member = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(member, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7000))
        .unwrap();
    net.call(b, |s, o, now| s.udp_join_multicast(o, member, g, None, now))
        .unwrap();
    let am = net.call(a, |s, _, _| s.udp_open());
    net.stacks[a]
        .udp_bind(am, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7000))
        .unwrap();
    net.call(a, |s, o, now| s.udp_join_multicast(o, am, g, None, now))
        .unwrap();
    let sender = net.call(b, |s, _, _| s.udp_open());
    net.call(b, |s, o, now| {
        s.udp_send_to(o, sender, b"loop", Some(SocketAddrV4::new(g, 7000)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.stacks[b].udp_recv(member).unwrap().data.as_slice(),
        b"loop"
    );
    assert_eq!(net.stacks[a].udp_recv(am).unwrap().data.as_slice(), b"loop");
    net.stacks[b].udp_set_multicast_loop(sender, false).unwrap();
    net.call(b, |s, o, now| {
        s.udp_send_to(o, sender, b"quiet", Some(SocketAddrV4::new(g, 7000)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[b].udp_recv(member).is_none());
    assert_eq!(
        net.stacks[a].udp_recv(am).unwrap().data.as_slice(),
        b"quiet"
    );
}

#[test]
fn igmp_v1_query_gets_v1_reports() {
    let (mut net, a, b, _, bi) = pair();
    let g = ip(239, 0, 0, 10);
    // Max response time 0: an IGMPv1 query.
    joined_then_queried(&mut net, a, b, bi, g, 0);
    net.run_for(Duration::from_secs(11));
    let reports: Vec<u8> = net
        .wire_log
        .iter()
        .filter(|(_, s, f)| *s == b && f.len() > 38 && f[23] == 2)
        .map(|(_, _, f)| f[38])
        .collect();
    assert_eq!(reports, vec![0x12], "one version 1 report");
    // No leave while a version 1 router is present.
    net.wire_log.clear();
    net.call(b, |s, o, now| s.leave_group(o, bi, g, now));
    assert!(net.wire_log.is_empty());
}
