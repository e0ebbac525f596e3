//! Interfaces: configuration, pseudo interfaces and secondary addresses, 802.2 encapsulation.

use super::*;

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
