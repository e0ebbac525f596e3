//! Whole-stack tests on virtual time: several stacks on simulated hubs.

use crate::sim::Net;
use crate::*;
use proptest::prelude::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wire::IpProtocol;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// Two hosts on one hub: 10.0.0.1 and 10.0.0.2.
fn pair() -> (Net, usize, usize, IfaceId, IfaceId) {
    let mut net = Net::new(1);
    let hub = net.hub();
    let a = net.stack(StackConfig::default());
    let b = net.stack(StackConfig::default());
    let ai = net.attach(a, hub, "se0", ip(10, 0, 0, 1), 24);
    let bi = net.attach(b, hub, "se0", ip(10, 0, 0, 2), 24);
    net.run_for(Duration::from_millis(10));
    for s in [a, b] {
        net.stacks[s].take_events();
    }
    (net, a, b, ai, bi)
}

fn echo_replies(net: &mut Net, s: usize) -> Vec<(Ipv4Addr, u16, usize)> {
    net.stacks[s]
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            StackEvent::EchoReply {
                from, seq_no, len, ..
            } => Some((from, seq_no, len)),
            _ => None,
        })
        .collect()
}

fn icmp_errors(events: &[StackEvent]) -> Vec<(u8, u8)> {
    events
        .iter()
        .filter_map(|e| match e {
            StackEvent::IcmpError { msg_type, code, .. } => Some((*msg_type, *code)),
            _ => None,
        })
        .collect()
}

/// A — R — B: A on 10.0.1.0/24, B on 10.0.2.0/24, R forwarding between them.
struct Routed {
    net: Net,
    a: usize,
    r: usize,
    b: usize,
    r2: IfaceId,
}

fn routed() -> Routed {
    let mut net = Net::new(7);
    let h1 = net.hub();
    let h2 = net.hub();
    let a = net.stack(StackConfig::default());
    let r = net.stack(StackConfig {
        gateway_mode: true,
        ..StackConfig::default()
    });
    let b = net.stack(StackConfig::default());
    net.attach(a, h1, "se0", ip(10, 0, 1, 2), 24);
    net.attach(r, h1, "se0", ip(10, 0, 1, 1), 24);
    let r2 = net.attach(r, h2, "se1", ip(10, 0, 2, 1), 24);
    net.attach(b, h2, "se0", ip(10, 0, 2, 2), 24);
    net.stacks[a]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 1, 1), None)
        .unwrap();
    net.stacks[b]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 2, 1), None)
        .unwrap();
    net.run_for(Duration::from_millis(10));
    for s in [a, r, b] {
        net.stacks[s].take_events();
    }
    Routed { net, a, r, b, r2 }
}

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
fn udp_both_ways_and_port_unreachable() {
    let (mut net, a, b, _, _) = pair();
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

#[test]
fn igmp_query_answered_after_random_delay() {
    let (mut net, a, b, _, bi) = pair();
    let g = ip(239, 0, 0, 9);
    net.call(b, |s, o, now| s.join_group(o, bi, g, now))
        .unwrap();
    net.run_for(Duration::from_secs(11));
    net.wire_log.clear();
    // A general query from A (as a router would send), max response 1 s.
    let q = wire::IgmpRepr::MembershipQuery {
        max_resp_time: 10,
        group_addr: Ipv4Addr::UNSPECIFIED,
    };
    let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 8);
    q.emit(&mut wire::IgmpPacket::new_unchecked(buf.as_mut_slice()));
    net.call(a, |s, o, now| {
        s.send_ip(o, None, ip(224, 0, 0, 1), IpProtocol::Igmp, buf, false, now)
    })
    .unwrap();
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
fn pseudo_interface_secondary_address() {
    let (mut net, a, b, _, bi) = pair();
    let now = net.now;
    let pd = net.stacks[b]
        .create_interface("pd0", LinkSpec::Pseudo { parent: bi }, now)
        .unwrap();
    let w = net.call(b, |s, o, now| {
        s.set_up(o, pd, true, now).unwrap();
        s.set_address(o, pd, ip(10, 0, 0, 5), 24, now).unwrap()
    });
    assert!(w.is_empty(), "{w:?}");
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 5), 1, 1, b"pd", now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a), vec![(ip(10, 0, 0, 5), 1, 2)]);
    // Another subnet: works, with seed 001's caution as a CHECK warning.
    let w = net.call(b, |s, o, now| {
        s.set_address(o, pd, ip(192, 168, 7, 1), 24, now).unwrap()
    });
    assert_eq!(w.len(), 1);
    assert!(w[0].0.contains("another subnet"), "{}", w[0]);
    assert_eq!(net.stacks[b].check_interface(pd), w);
    assert_eq!(net.stacks[b].interface(pd).unwrap().link(), bi);
    assert!(
        net.stacks[b].delete_interface(bi).is_err(),
        "se with a pd on it"
    );
    net.stacks[b].delete_interface(pd).unwrap();
    assert!(net.stacks[b].find_interface("pd0").is_none());
}

#[test]
fn interface_configuration() {
    let mut s = Stack::new(StackConfig::default(), Box::new(XorShiftRng::new(5)));
    let now = Instant::ZERO;
    let mac: EthernetAddress = "02:00:00:00:00:01".parse().unwrap();
    for k in ["sl0", "ppp0", "rp0", "gif0", "stf0"] {
        let e = s
            .create_interface(k, LinkSpec::Ethernet(mac), now)
            .unwrap_err();
        assert!(e.to_string().contains("not supported yet"), "{e}");
    }
    let se = s
        .create_interface("SE0", LinkSpec::Ethernet(mac), now)
        .unwrap();
    assert!(matches!(
        s.create_interface("se0", LinkSpec::Ethernet(mac), now),
        Err(ConfigError::Exists(_))
    ));
    assert!(s
        .create_interface(
            "pd0",
            LinkSpec::Pseudo {
                parent: s.loopback()
            },
            now
        )
        .is_err());
    assert_eq!(s.find_interface("se0"), Some(se));
    let mut out = Vec::new();
    s.set_address(&mut out, se, ip(10, 0, 0, 68), 24, now)
        .unwrap();
    assert!(out.is_empty(), "down: no gratuitous ARP");
    s.set_up(&mut out, se, true, now).unwrap();
    assert_eq!(out.len(), 1, "gratuitous ARP when it comes up");
    let i = s.interface(se).unwrap();
    assert_eq!(i.mask(), Some(ip(255, 255, 255, 0)));
    assert_eq!(i.broadcast(), Some(ip(10, 0, 0, 255)));
    assert_eq!(i.flags().to_string(), "UP,BROADCAST,MULTICAST");
    s.set_link_running(se, true, now).unwrap();
    assert!(s.interface(se).unwrap().is_up());
    assert!(s.set_mtu(se, 9000).is_ok(), "jumbo frames");
    assert!(matches!(s.set_mtu(se, 9001), Err(ConfigError::Mtu { .. })));
    assert!(s.set_mtu(se, 67).is_err());
    s.set_encapsulation(se, Encapsulation::Ieee8022).unwrap();
    assert_eq!(s.interface(se).unwrap().mtu(), 1492);
    assert!(s.set_mtu(se, 1500).is_err());
    assert!(
        s.set_address(&mut out, se, ip(10, 0, 0, 0), 24, now)
            .is_err(),
        "network address"
    );
    assert!(s
        .set_address(&mut out, se, ip(127, 0, 0, 2), 8, now)
        .is_err());
    assert!(s
        .set_address(&mut out, se, ip(10, 0, 0, 1), 33, now)
        .is_err());
    assert!(matches!(
        s.route_add("192.168.0.0/16".parse().unwrap(), ip(172, 16, 0, 1), None),
        Err(ConfigError::Route(_))
    ));
    s.route_add(
        "192.168.0.0/16".parse().unwrap(),
        ip(10, 0, 0, 1),
        Some(1400),
    )
    .unwrap();
    assert_eq!(
        s.route_lookup(ip(192, 168, 3, 3), now),
        Some(NextHop {
            iface: se,
            gateway: Some(ip(10, 0, 0, 1)),
            mtu: Some(1400)
        })
    );
    s.route_delete("192.168.0.0/16".parse().unwrap(), None)
        .unwrap();
    assert_eq!(
        s.route_delete("192.168.0.0/16".parse().unwrap(), None),
        Err(ConfigError::NoSuchRoute)
    );
    // Address change moves the connected route.
    s.set_address(&mut out, se, ip(10, 1, 0, 1), 16, now)
        .unwrap();
    assert!(s.route_lookup(ip(10, 0, 0, 5), now).is_none());
    assert_eq!(s.route_lookup(ip(10, 1, 2, 3), now).unwrap().iface, se);
    s.set_up(&mut out, se, false, now).unwrap();
    assert!(!s.interface(se).unwrap().is_up());
    s.delete_interface(se).unwrap();
    assert!(s.route_lookup(ip(10, 1, 2, 3), now).is_none());
}

#[test]
fn ieee8022_encapsulation_end_to_end() {
    let (mut net, a, b, ai, bi) = pair();
    net.stacks[a]
        .set_encapsulation(ai, Encapsulation::Ieee8022)
        .unwrap();
    net.stacks[b]
        .set_encapsulation(bi, Encapsulation::Ieee8022)
        .unwrap();
    net.call(a, |s, o, now| {
        s.send_echo_request(o, ip(10, 0, 0, 2), 1, 1, &[3; 3000], now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(&mut net, a), vec![(ip(10, 0, 0, 2), 1, 3000)]);
    let (_, _, f) = net.wire_log.iter().rev().find(|(_, s, _)| *s == a).unwrap();
    assert!(
        u16::from_be_bytes([f[12], f[13]]) <= 1500,
        "an 802.3 length field"
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No input frame panics; undecodable ones are counted.
    #[test]
    fn arbitrary_frames_never_panic(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..8),
                                    ip_payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..8)) {
        let mut s = Stack::new(StackConfig { gateway_mode: true, ..StackConfig::default() }, Box::new(XorShiftRng::new(1)));
        let mac: EthernetAddress = "02:00:00:00:00:01".parse().unwrap();
        let mut out = Vec::new();
        let se = s.create_interface("se0", LinkSpec::Ethernet(mac), Instant::ZERO).unwrap();
        s.set_address(&mut out, se, ip(10, 0, 0, 1), 24, Instant::ZERO).unwrap();
        s.set_up(&mut out, se, true, Instant::ZERO).unwrap();
        s.set_link_running(se, true, Instant::ZERO).unwrap();
        let short = frames.iter().filter(|f| f.len() < 14).count() as u64;
        for f in &frames {
            s.receive(&mut out, se, PacketBuf::from_vec(f.clone()), Instant::ZERO);
        }
        prop_assert!(s.interface(se).unwrap().counters().ierrs >= short);
        // IPv4 and ARP ethertypes to our MAC, with a plausible start, reach deeper parsers.
        for (i, p) in ip_payloads.iter().enumerate() {
            let mut f = mac.0.to_vec();
            f.extend_from_slice(&[2, 0, 0, 0, 0, 2]);
            f.extend_from_slice(if i % 3 == 0 { &[8, 6] } else { &[8, 0] });
            if i % 3 != 0 {
                f.push(0x45);
            }
            f.extend_from_slice(p);
            s.receive(&mut out, se, PacketBuf::from_vec(f), Instant::from_secs(i as u64));
        }
        s.on_timer(&mut out, Instant::from_secs(3600));
    }

    /// Valid IPv4 headers with arbitrary fields and payloads, to us or to be forwarded, never panic.
    #[test]
    fn arbitrary_datagrams_never_panic(proto in any::<u8>(), ttl in any::<u8>(), frag in any::<u16>(), mf in any::<bool>(), df in any::<bool>(),
                                       to_us in any::<bool>(), payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut s = Stack::new(StackConfig { gateway_mode: true, ..StackConfig::default() }, Box::new(XorShiftRng::new(2)));
        let mac: EthernetAddress = "02:00:00:00:00:01".parse().unwrap();
        let mut out = Vec::new();
        let se = s.create_interface("se0", LinkSpec::Ethernet(mac), Instant::ZERO).unwrap();
        s.set_address(&mut out, se, ip(10, 0, 0, 1), 24, Instant::ZERO).unwrap();
        s.set_up(&mut out, se, true, Instant::ZERO).unwrap();
        s.set_link_running(se, true, Instant::ZERO).unwrap();
        let repr = wire::Ipv4Repr {
            src_addr: ip(10, 0, 0, 2),
            dst_addr: if to_us { ip(10, 0, 0, 1) } else { ip(10, 0, 0, 3) },
            protocol: IpProtocol::from(proto % 20),
            payload_len: payload.len(),
            ttl,
            tos: 0,
            ident: 1,
            dont_frag: df,
            more_frags: mf,
            frag_offset: (frag & 0x1fff) & !7,
            options: wire::Ipv4OptionsBuf::new(),
        };
        let mut buf = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, &payload);
        buf.prepend(repr.buffer_len()).unwrap();
        repr.emit(&mut wire::Ipv4Packet::new_unchecked(buf.as_mut_slice()));
        let eth = wire::EthernetRepr { dst_addr: mac, src_addr: EthernetAddress([2, 0, 0, 0, 0, 2]), ethertype: wire::EtherType::Ipv4 };
        buf.prepend(14).unwrap();
        eth.emit(&mut wire::EthernetFrame::new_unchecked(buf.as_mut_slice()));
        s.receive(&mut out, se, buf, Instant::ZERO);
        s.on_timer(&mut out, Instant::from_secs(60));
    }
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

#[test]
fn igmp_v1_query_gets_v1_reports() {
    let (mut net, a, b, _, bi) = pair();
    let g = ip(239, 0, 0, 10);
    net.call(b, |s, o, now| s.join_group(o, bi, g, now))
        .unwrap();
    net.run_for(Duration::from_secs(11));
    net.wire_log.clear();
    let q = wire::IgmpRepr::MembershipQuery {
        max_resp_time: 0,
        group_addr: Ipv4Addr::UNSPECIFIED,
    };
    let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, 8);
    q.emit(&mut wire::IgmpPacket::new_unchecked(buf.as_mut_slice()));
    net.call(a, |s, o, now| {
        s.send_ip(o, None, ip(224, 0, 0, 1), IpProtocol::Igmp, buf, false, now)
    })
    .unwrap();
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
