//! Arbitrary frames and datagrams never panic the stack (proptest).

use super::*;

/// A forwarding stack with se0 (02:00:00:00:00:01, 10.0.0.1/24) up and running.
fn gateway_on_se0(seed: u64) -> (Stack, IfaceId, EthernetAddress) {
    let cfg = StackConfig {
        gateway_mode: true,
        ..StackConfig::default()
    };
    let mut s = Stack::new(cfg, Box::new(XorShiftRng::new(seed)));
    let mac: EthernetAddress = "02:00:00:00:00:01".parse().unwrap();
    let mut out = Vec::new();
    let se = s
        .create_interface("se0", LinkSpec::Ethernet(mac), Instant::ZERO)
        .unwrap();
    s.set_address(&mut out, se, ip(10, 0, 0, 1), 24, Instant::ZERO)
        .unwrap();
    s.set_up(&mut out, se, true, Instant::ZERO).unwrap();
    s.set_link_running(se, true, Instant::ZERO).unwrap();
    (s, se, mac)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No input frame panics; undecodable ones are counted.
    #[test]
    fn arbitrary_frames_never_panic(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..8),
                                    ip_payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..8)) {
        let (mut s, se, mac) = gateway_on_se0(1);
        let mut out = Vec::new();
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
        let (mut s, se, mac) = gateway_on_se0(2);
        let mut out = Vec::new();
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
