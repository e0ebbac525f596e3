//! AF_PACKET on one end of a veth pair, Linux's stack on the other, in a namespace made by the test.

mod common;

use common::*;
use link::{Link, LinkKind, PacketConfig, PacketLink};
use std::net::{SocketAddrV4, UdpSocket};
use std::time::Duration;
use wire::{UdpPacket, UdpRepr};

/// A namespace with a veth pair: Linux's end (192.0.2.1/24) and ours (up, no address).
fn veth(ns: &Netns) -> (String, String) {
    let linux_end = unique("vl");
    let our_end = unique("vo");
    ns.ip(&[
        "link", "add", &linux_end, "type", "veth", "peer", "name", &our_end,
    ]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", &linux_end]);
    ns.ip(&["link", "set", &linux_end, "up"]);
    ns.ip(&["link", "set", &our_end, "up"]);
    (linux_end, our_end)
}

#[test]
fn packet_socket_arp_and_batched_ping_against_linux() {
    let ns = Netns::new("mlp");
    let (linux_end, our_end) = veth(&ns);
    let mut link = ns
        .run(|| PacketLink::open(&PacketConfig::new(our_end.clone())))
        .expect("open AF_PACKET");
    assert_eq!(link.kind(), LinkKind::Packet);
    assert_eq!(link.name(), our_end);
    assert_eq!(link.mtu(), 1500);
    assert!(link.ifindex() > 0);
    assert!(link.is_up().unwrap());
    assert_eq!(
        link.mac(),
        link.interface_mac().unwrap(),
        "the interface's own MAC"
    );

    let mut seen = Vec::new();
    let linux_mac = resolve_linux(&mut link, &mut seen);
    let show = ns.ip(&["link", "show", &linux_end]);
    assert!(show.contains(&linux_mac.to_string()), "{show}");

    // 100 echo requests leave in sendmmsg batches; all answers come back through recvmmsg.
    let seqs = ping_linux(&mut link, linux_mac, 100, &mut seen);
    assert_eq!(seqs, (0..100).collect::<Vec<_>>());
    // Our own transmissions never come back to us as received frames.
    let ours = seen
        .iter()
        .filter(|f| f.as_slice().get(6..12) == Some(&link.mac().0[..]))
        .count();
    assert_eq!(ours, 0, "PACKET_OUTGOING frames were delivered");
    let st = link.stats();
    assert!(st.tx_frames >= 101 && st.rx_frames >= 101, "{st:?}");
    assert_eq!(st.rx_errors + st.tx_errors, 0, "{st:?}");
}

#[test]
fn packet_socket_promiscuous_for_its_lifetime() {
    let ns = Netns::new("mlp");
    let (_, our_end) = veth(&ns);
    let mut cfg = PacketConfig::new(our_end.clone());
    cfg.promiscuous = true;
    let link = ns.run(|| PacketLink::open(&cfg)).expect("open");
    // A packet socket's membership counts in `promiscuity`, not in the user-visible IFF_PROMISC.
    let show = ns.ip(&["-d", "link", "show", &our_end]);
    assert!(show.contains("promiscuity 1"), "{show}");
    drop(link);
    let show = ns.ip(&["-d", "link", "show", &our_end]);
    assert!(show.contains("promiscuity 0"), "{show}");
}

#[test]
fn packet_socket_missing_interface_is_an_error() {
    let ns = Netns::new("mlp");
    let err = ns
        .run(|| PacketLink::open(&PacketConfig::new("nosuchif0")))
        .unwrap_err();
    assert!(err.to_string().contains("nosuchif0"), "{err}");
}

#[test]
fn packet_socket_vnet_header_reports_partial_checksums() {
    let ns = Netns::new("mlp");
    let (linux_end, our_end) = veth(&ns);
    let mut cfg = PacketConfig::new(our_end.clone());
    cfg.vnet_hdr = true;
    cfg.batch = 16;
    let mut link = ns.run(|| PacketLink::open(&cfg)).expect("open");
    assert!(link.capabilities().rx.csum);
    let mut seen = Vec::new();
    let linux_mac = resolve_linux(&mut link, &mut seen);
    assert_eq!(ping_linux(&mut link, linux_mac, 20, &mut seen).len(), 20);

    // UDP from Linux: veth offloads the checksum, so it arrives partial; the header says so.
    ns.ip(&[
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        &link.mac().to_string(),
        "dev",
        &linux_end,
    ]);
    let sock = ns.run(|| UdpSocket::bind("192.0.2.1:0").unwrap());
    let payload = vec![0x5a; 300];
    sock.send_to(&payload, SocketAddrV4::new(OUR_IP, 4242))
        .unwrap();
    let got = collect(&mut link, 1, Duration::from_secs(5), &mut seen, |f| {
        matches!(classify(f.as_slice()), Seen::Udp { dst_port: 4242, .. })
    });
    let mut f = got.into_iter().next().expect("the datagram");
    let c = f
        .offload
        .partial_csum
        .expect("veth hands over a partial checksum");
    assert_eq!((c.start, c.offset), (34, 6));
    let mut off = f.offload;
    off.complete_checksum(f.buf.as_mut_slice()).unwrap();
    let udp = UdpPacket::new_checked(&f.as_slice()[34..34 + 308]).unwrap();
    assert!(
        UdpRepr::parse(&udp, LINUX_IP, OUR_IP).is_ok(),
        "checksum verifies"
    );
    assert_eq!(link.stats().rx_errors, 0);
}

#[test]
fn packet_fanout_spreads_one_interface_over_two_links() {
    let ns = Netns::new("mlp");
    let (linux_end, our_end) = veth(&ns);
    let group = (std::process::id() & 0xffff) as u16;
    let mut cfg = PacketConfig::new(our_end.clone());
    cfg.fanout = Some(group);
    let (mut a, mut b) = ns.run(|| {
        (
            PacketLink::open(&cfg).expect("first"),
            PacketLink::open(&cfg).expect("second"),
        )
    });
    ns.ip(&[
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        &a.mac().to_string(),
        "dev",
        &linux_end,
    ]);
    // 40 UDP flows (one source port each): each datagram reaches exactly one of the two links,
    // and with 40 flows both links get some.
    let socks: Vec<UdpSocket> = ns.run(|| {
        (0..40)
            .map(|_| UdpSocket::bind("192.0.2.1:0").unwrap())
            .collect()
    });
    for s in &socks {
        s.send_to(b"fanout", SocketAddrV4::new(OUR_IP, 4244))
            .unwrap();
    }
    let mut per = [0usize; 2];
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while per[0] + per[1] < 40 && std::time::Instant::now() < deadline {
        for (i, l) in [&mut a, &mut b].into_iter().enumerate() {
            let mut out = Vec::new();
            l.recv_batch(&mut out, 64).unwrap();
            per[i] += out
                .iter()
                .filter(|f| matches!(classify(f.as_slice()), Seen::Udp { dst_port: 4244, .. }))
                .count();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        per[0] + per[1],
        40,
        "each datagram once, on one link: {per:?}"
    );
    assert!(per[0] > 0 && per[1] > 0, "spread over both links: {per:?}");
}

#[test]
fn packet_socket_follows_an_mtu_raised_on_the_linux_side() {
    let ns = Netns::new("mlp");
    let (linux_end, our_end) = veth(&ns);
    let mut link = ns
        .run(|| PacketLink::open(&PacketConfig::new(our_end.clone())))
        .expect("open");
    assert_eq!(link.mtu(), 1500);
    ns.ip(&["link", "set", &linux_end, "mtu", "9000"]);
    ns.ip(&["link", "set", &our_end, "mtu", "9000"]);
    ns.ip(&[
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        &link.mac().to_string(),
        "dev",
        &linux_end,
    ]);
    let sock = ns.run(|| UdpSocket::bind("192.0.2.1:0").unwrap());
    let big = vec![0x44u8; 8000];
    let mut seen = Vec::new();
    let mut got = Vec::new();
    // The first jumbo frame is cut (MSG_TRUNC, counted); the link re-reads the MTU.
    for _ in 0..3 {
        sock.send_to(&big, SocketAddrV4::new(OUR_IP, 4245)).unwrap();
        got = collect(&mut link, 1, Duration::from_secs(1), &mut seen, |f| {
            matches!(classify(f.as_slice()), Seen::Udp { dst_port: 4245, .. })
        });
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1, "a jumbo frame after the MTU change");
    assert_eq!(got[0].len(), 14 + 20 + 8 + 8000);
    assert_eq!(link.mtu(), 9000);
    assert_eq!(link.stats().rx_errors, 1);
}
