//! Sockets bound to a multicast group's address (how netcp serves a service's `multicast`
//! groups): demultiplexing beside a socket bound to the unicast address, and the unicast source
//! of everything they send.

use crate::sim::Net;
use crate::{IfaceId, StackConfig, UdpError};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);
const OTHER_GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 4);
const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A and B on one hub; B has a socket on its unicast address and one on GROUP, both port 7,
/// the second joined on se0.
fn served() -> (Net, usize, usize, IfaceId, [crate::UdpHandle; 2]) {
    let mut net = Net::new(21);
    let hub = net.hub();
    let a = net.stack(StackConfig::default());
    let b = net.stack(StackConfig::default());
    net.attach(a, hub, "se0", A, 24);
    let bi = net.attach(b, hub, "se0", B, 24);
    net.run_for(Duration::from_millis(10));
    let unicast = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(unicast, SocketAddrV4::new(B, 7))
        .unwrap();
    let group = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(group, SocketAddrV4::new(GROUP, 7))
        .unwrap();
    net.call(b, |s, o, now| {
        s.udp_join_multicast(o, group, GROUP, Some(bi), now)
    })
    .unwrap();
    for s in [a, b] {
        net.stacks[s].take_events();
    }
    (net, a, b, bi, [unicast, group])
}

#[test]
fn a_group_bound_socket_takes_the_groups_datagrams_only() {
    let (mut net, a, b, bi, [unicast, group]) = served();
    let ha = net.call(a, |s, _, _| s.udp_open());
    for dst in [GROUP, B] {
        net.call(a, |s, o, now| {
            s.udp_send_to(
                o,
                ha,
                dst.to_string().as_bytes(),
                Some(SocketAddrV4::new(dst, 7)),
                now,
            )
        })
        .unwrap();
    }
    net.run_for(Duration::from_millis(10));
    let g = net.stacks[b].udp_recv(group).expect("the group's datagram");
    assert_eq!(
        (g.data.as_slice(), g.dst, g.iface),
        (&b"239.1.2.3"[..], GROUP, bi)
    );
    assert!(
        net.stacks[b].udp_recv(group).is_none(),
        "not the unicast one"
    );
    let u = net.stacks[b]
        .udp_recv(unicast)
        .expect("the unicast datagram");
    assert_eq!((u.data.as_slice(), u.dst), (&b"10.0.0.2"[..], B));
    assert!(net.stacks[b].udp_recv(unicast).is_none(), "not the group's");

    // A group no socket is bound to (joined by no one): dropped silently, no ICMP error.
    let before = net.stacks[b].stats().ip_in_discards;
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"x", Some(SocketAddrV4::new(OTHER_GROUP, 7)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[b].udp_recv(group).is_none());
    assert!(net.stacks[b].udp_recv(unicast).is_none());
    assert_eq!(net.stacks[a].udp_take_error(ha), None);
    let after = net.stacks[b].stats().ip_in_discards;
    assert_eq!(
        after,
        before + 1,
        "discarded by IP: the link has not joined the group"
    );
}

#[test]
fn a_group_bound_socket_answers_from_the_unicast_address() {
    let (mut net, a, b, _, [_, group]) = served();
    let ha = net.call(a, |s, _, _| s.udp_open());
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"ping", Some(SocketAddrV4::new(GROUP, 7)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let d = net.stacks[b].udp_recv(group).unwrap();
    net.wire_log.clear();
    net.call(b, |s, o, now| {
        s.udp_send_to(o, group, b"pong", Some(d.src), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    let back = net.stacks[a].udp_recv(ha).expect("the answer");
    assert_eq!(back.data.as_slice(), b"pong");
    assert_eq!(
        back.src,
        SocketAddrV4::new(B, 7),
        "the route's source, never the group"
    );

    // Sent to the group itself: still B's address as the source on the wire.
    net.wire_log.clear();
    net.call(b, |s, o, now| {
        s.udp_send_to(o, group, b"all", Some(SocketAddrV4::new(GROUP, 7)), now)
    })
    .unwrap();
    let frame = net
        .wire_log
        .iter()
        .find(|(_, s, f)| *s == b && f.len() > 34 && f[23] == 17)
        .expect("the datagram to the group")
        .2
        .clone();
    assert_eq!(&frame[26..30], &B.octets(), "IPv4 source");
    assert_eq!(&frame[30..34], &GROUP.octets(), "IPv4 destination");
}

#[test]
fn a_socket_bound_to_a_group_it_did_not_join_hears_nothing() {
    let (mut net, a, b, _, _) = served();
    let lonely = net.call(b, |s, _, _| s.udp_open());
    net.stacks[b]
        .udp_bind(lonely, SocketAddrV4::new(OTHER_GROUP, 7))
        .unwrap();
    let ha = net.call(a, |s, _, _| s.udp_open());
    net.call(a, |s, o, now| {
        s.udp_send_to(o, ha, b"x", Some(SocketAddrV4::new(OTHER_GROUP, 7)), now)
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(net.stacks[b].udp_recv(lonely).is_none());
}

#[test]
fn group_bindings_coexist_with_unicast_but_not_with_the_wildcard() {
    let (mut net, _, b, bi, [_, group]) = served();
    // The same group and port twice: refused, as any address bound twice.
    let again = net.call(b, |s, _, _| s.udp_open());
    assert_eq!(
        net.stacks[b].udp_bind(again, SocketAddrV4::new(GROUP, 7)),
        Err(UdpError::AddrInUse(SocketAddrV4::new(GROUP, 7)))
    );
    // A wildcard on the port would take what the specific sockets do not: refused.
    assert!(net.stacks[b]
        .udp_bind(again, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7))
        .is_err());
    // Closing the group's socket leaves the group: IGMP leave to 224.0.0.2.
    assert_eq!(net.stacks[b].multicast_groups(), vec![(bi, GROUP)]);
    net.wire_log.clear();
    net.call(b, |s, o, now| s.udp_close(o, group, now));
    let leave = net
        .wire_log
        .iter()
        .find(|(_, s, f)| *s == b && f.len() > 38 && f[38] == 0x17)
        .expect("an IGMP leave");
    assert_eq!(&leave.2[30..34], &[224, 0, 0, 2]);
    assert!(net.stacks[b].multicast_groups().is_empty());
}
