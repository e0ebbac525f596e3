//! ARP: resolution, aging, queues, proxy and published entries, duplicates, the table's bound.

use super::*;

#[test]
fn ping_between_stacks_and_arp_tables() {
    let (mut net, a, b, ai, bi) = pair();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 1, b"hello", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a), vec![(ip(10, 0, 0, 2), 1, 5)]);
    let at = net.stacks[a].arp_table();
    assert!(at
        .iter()
        .any(|e| e.addr == ip(10, 0, 0, 2) && e.state == ArpState::Resolved && e.iface == ai));
    let bt = net.stacks[b].arp_table();
    assert!(bt
        .iter()
        .any(|e| e.addr == ip(10, 0, 0, 1) && e.iface == bi));
    let c = net.stacks[a].interface(ai).unwrap().counters();
    assert!(c.ipkts >= 2 && c.opkts >= 2 && c.in_octets > 0 && c.out_bcast >= 1 && c.in_ucast >= 1);
    assert_eq!(c.ierrs, 0);
    assert_eq!(net.stacks[b].stats().icmp_in_msgs, 1);
}

#[test]
fn arp_aging_permanent_and_flush() {
    let (mut net, a, _, _, _) = pair();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a).len(), 1);
    let now = net.now;
    net.stacks[a]
        .arp_add(
            ip(10, 0, 0, 9),
            Some("02:00:00:00:00:09".parse().unwrap()),
            ArpFlags {
                permanent: true,
                ..ArpFlags::default()
            },
            now,
        )
        .unwrap();
    net.stacks[a]
        .arp_add(
            ip(10, 0, 0, 10),
            Some("02:00:00:00:00:0a".parse().unwrap()),
            ArpFlags::default(),
            now,
        )
        .unwrap();
    assert_eq!(net.stacks[a].arp_table().len(), 3);
    // 19 minutes: still there; 21: the temporary ones aged out, the permanent one stays.
    net.run_for(Duration::from_secs(19 * 60));
    assert_eq!(net.stacks[a].arp_table().len(), 3);
    net.run_for(Duration::from_secs(2 * 60));
    let t = net.stacks[a].arp_table();
    assert_eq!(t.len(), 1, "{t:?} at {:?}", net.now);
    assert!(t[0].flags.permanent);
    // Flush temporary leaves permanent; flush permanent empties.
    net.stacks[a].arp_flush(false);
    assert_eq!(net.stacks[a].arp_table().len(), 1);
    net.stacks[a].arp_flush(true);
    assert!(net.stacks[a].arp_table().is_empty());
    assert_eq!(
        net.stacks[a].arp_delete(ip(10, 0, 0, 9)),
        Err(ConfigError::NoSuchArpEntry)
    );
    // After aging, a ping resolves again.
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 2, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a).len(), 1);
}

#[test]
fn arp_queue_holds_more_than_one_and_failure_reports() {
    let (mut net, a, b, _, _) = pair();
    let hb = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(hb, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7))
        .unwrap();
    let ha = net.call(a, |s, _, _| s.udp_open());
    for i in 0..5u8 {
        net.call(a, |s, o, now| {
            s.udp_send_to(
                o,
                ha,
                &[i],
                Some(SocketAddrV4::new(ip(10, 0, 0, 2), 7)),
                now,
            )
        })
        .unwrap();
    }
    net.run_for(Duration::from_millis(10));
    let mut got = Vec::new();
    while let Some(d) = net.stacks[b].udp_recv(hb) {
        got.push(d.data.as_slice()[0]);
    }
    assert_eq!(
        got,
        vec![0, 1, 2, 3, 4],
        "all five queued during ARP arrive, in order"
    );
    // Nobody at .99: three requests, then the failure is reported.
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 99), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_secs(5));
    let ev = net.stacks[a].take_events();
    assert!(
        ev.contains(&StackEvent::ArpFailed {
            iface: IfaceId(1),
            addr: ip(10, 0, 0, 99)
        }),
        "{ev:?}"
    );
    assert!(ev.contains(&StackEvent::Unreachable {
        dst: ip(10, 0, 0, 99)
    }));
    let requests = net
        .wire_log
        .iter()
        .filter(|(_, s, f)| {
            *s == a && f.len() >= 42 && f[12..14] == [8, 6] && f[38..42] == [10, 0, 0, 99]
        })
        .count();
    assert_eq!(requests, 3);
}

#[test]
fn proxy_and_published_arp() {
    // A believes 10.0.0.0/16 is all on its link; R proxies for B's 10.0.2.2.
    let mut net = Net::new(3);
    let h1 = net.hub();
    let h2 = net.hub();
    let a = net.stack(StackConfig::default());
    let r = net.stack(StackConfig {
        gateway_mode: true,
        ..StackConfig::default()
    });
    let b = net.stack(StackConfig::default());
    net.attach(a, h1, "se0", ip(10, 0, 1, 2), 16);
    net.attach(r, h1, "se0", ip(10, 0, 1, 1), 24);
    net.attach(r, h2, "se1", ip(10, 0, 2, 1), 24);
    net.attach(b, h2, "se0", ip(10, 0, 2, 2), 24);
    net.stacks[b]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 2, 1), None)
        .unwrap();
    let now = net.now;
    net.stacks[r]
        .arp_add(
            ip(10, 0, 2, 2),
            None,
            ArpFlags {
                proxy: true,
                ..ArpFlags::default()
            },
            now,
        )
        .unwrap();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 2, 2), 1, 1, b"", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a).len(), 1);
    let r_mac = net.stacks[r].interface(IfaceId(1)).unwrap().mac();
    let t = net.stacks[a].arp_table();
    assert!(
        t.iter()
            .any(|e| e.addr == ip(10, 0, 2, 2) && e.mac == Some(r_mac)),
        "{t:?}"
    );
    assert!(net.stacks[r].arp_table().iter().any(|e| e.flags.proxy));
    // A published entry: R answers for 10.0.1.50 with a given hardware address.
    let mac: EthernetAddress = "02:aa:bb:cc:dd:ee".parse().unwrap();
    net.stacks[r]
        .arp_add(
            ip(10, 0, 1, 50),
            Some(mac),
            ArpFlags {
                publish: true,
                permanent: true,
                ..ArpFlags::default()
            },
            now,
        )
        .unwrap();
    let h = net.call(a, |s, _, _| s.udp_open());
    net.call(a, |s, o, now| {
        s.udp_send_to(
            o,
            h,
            b"x",
            Some(SocketAddrV4::new(ip(10, 0, 1, 50), 9)),
            now,
        )
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[a]
        .arp_table()
        .iter()
        .any(|e| e.addr == ip(10, 0, 1, 50) && e.mac == Some(mac)));
}

#[test]
fn duplicate_address_is_reported() {
    let (mut net, _, b, _, _) = pair();
    let hub = 0;
    let c = net.stack(StackConfig::default());
    net.attach(c, hub, "se0", ip(10, 0, 0, 2), 24);
    net.run_for(Duration::from_millis(10));
    let ev = net.stacks[b].take_events();
    assert!(
        ev.iter().any(
            |e| matches!(e, StackEvent::DuplicateAddress { addr, .. } if *addr == ip(10, 0, 0, 2))
        ),
        "{ev:?}"
    );
}

#[test]
fn arp_table_is_bounded() {
    let mut net = Net::new(5);
    let hub = net.hub();
    let a = net.stack(StackConfig {
        arp_max_entries: 4,
        ..StackConfig::default()
    });
    net.attach(a, hub, "se0", ip(10, 0, 0, 1), 16);
    for i in 0..10u8 {
        let _ = net.call(a, |s, o, now| {
            s.send_echo_request(o, ip(10, 0, 1, i), 1, 1, b"", now)
        });
    }
    assert_eq!(net.stacks[a].arp_table().len(), 4);
    assert_eq!(net.stacks[a].stats().arp_queue_drops, 6);
    net.run_for(Duration::from_secs(5));
    assert!(net.stacks[a].arp_table().is_empty());
}
