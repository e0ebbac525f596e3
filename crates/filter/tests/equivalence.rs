//! The compiled classifier equals the linear reference on random lists and packets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use filter::{
    reference, Action, Classifier, LocalTime, Packet, PortMatch, PortOp, Proto, Rule, TimeSpec,
    Window,
};
use proptest::prelude::*;
use wire::prefix::{Family, IpPrefix};

const V4_POOL: [u32; 5] = [0x0A00_0000, 0x0A00_0100, 0xC0A8_0101, 0, 0xFFFF_FFFF];
const V6_BASE: u128 = 0x2001_0db8 << 96;

fn v4_addr() -> impl Strategy<Value = u32> {
    (0usize..V4_POOL.len(), 0u32..512).prop_map(|(i, x)| V4_POOL[i] ^ x)
}

fn v6_addr() -> impl Strategy<Value = u128> {
    prop_oneof![
        (0u128..512).prop_map(|x| V6_BASE | x),
        (0u128..4).prop_map(|x| x),
        Just(u128::MAX),
        any::<u128>(),
    ]
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(0u16),
        Just(1),
        Just(53),
        Just(1023),
        Just(1024),
        Just(65534),
        Just(65535),
        any::<u16>(),
    ]
}

fn op() -> impl Strategy<Value = PortOp> {
    prop_oneof![
        Just(PortOp::Lt),
        Just(PortOp::Le),
        Just(PortOp::Eq),
        Just(PortOp::Ge),
        Just(PortOp::Gt),
        Just(PortOp::Ne),
    ]
}

fn port_match() -> impl Strategy<Value = Option<PortMatch>> {
    prop::option::weighted(
        0.4,
        (op(), port()).prop_map(|(op, value)| PortMatch { op, value }),
    )
}

fn proto() -> impl Strategy<Value = Proto> {
    prop_oneof![
        Just(Proto::Any),
        Just(Proto::Tcp),
        Just(Proto::Udp),
        Just(Proto::Icmp),
        Just(Proto::Number(47)),
        Just(Proto::Number(1)),
    ]
}

const T0: i64 = 1_800_000_000;

fn window() -> impl Strategy<Value = Window> {
    prop_oneof![
        4 => Just(Window::Always),
        1 => (prop::option::of(0i64..200_000), prop::option::of(0i64..200_000)).prop_map(|(s, e)| {
            Window::Once { start: s.map(|s| LocalTime(T0 + s)), end: e.map(|e| LocalTime(T0 + e)) }
        }),
        1 => (0u32..86_400, 1u32..=86_400, prop::option::of(0i64..200_000)).prop_map(|(start, length, nb)| {
            Window::Daily { start, length, not_before: nb.map(|n| LocalTime(T0 + n)), not_after: None }
        }),
    ]
}

fn prefix(family: Family) -> impl Strategy<Value = IpPrefix> {
    let addr = match family {
        Family::V4 => v4_addr().prop_map(u128::from).boxed(),
        Family::V6 => v6_addr().boxed(),
    };
    let max = family.bits();
    (addr, prop_oneof![Just(0u8), Just(max), 0..=max])
        .prop_map(move |(a, l)| IpPrefix::from_bits(family, a, l).unwrap_or(IpPrefix::any(family)))
}

fn rule() -> impl Strategy<Value = Rule> {
    let fam =
        prop_oneof![2 => Just(Some(Family::V4)), 2 => Just(Some(Family::V6)), 1 => Just(None)];
    (fam, 0u8..3).prop_flat_map(|(family, a)| {
        let f = family.unwrap_or(Family::V4);
        (
            Just(family),
            Just(a),
            proto(),
            prefix(f),
            prefix(f),
            port_match(),
            port_match(),
            any::<bool>(),
            window(),
        )
            .prop_map(|(family, a, proto, src, dst, sport, dport, est, window)| {
                let action = [Action::Permit, Action::Deny, Action::Drop][usize::from(a)];
                let ports = proto.has_ports() && family.is_some();
                Rule {
                    line: 1,
                    action,
                    proto,
                    family,
                    src: if family.is_some() {
                        src
                    } else {
                        IpPrefix::any(Family::V4)
                    },
                    dst: if family.is_some() {
                        dst
                    } else {
                        IpPrefix::any(Family::V4)
                    },
                    sport: if ports { sport } else { None },
                    dport: if ports || proto == Proto::Icmp && family.is_some() {
                        dport.map(|d| PortMatch {
                            op: d.op,
                            value: d.value % 256,
                        })
                    } else {
                        None
                    },
                    established: est && proto == Proto::Tcp,
                    time: TimeSpec::default(),
                    window,
                    log: false,
                }
            })
    })
}

fn packet() -> impl Strategy<Value = Packet> {
    let v4 = (v4_addr(), v4_addr())
        .prop_map(|(s, d)| (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d))));
    let v6 = (v6_addr(), v6_addr())
        .prop_map(|(s, d)| (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d))));
    let mixed = (v4_addr(), v6_addr())
        .prop_map(|(s, d)| (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d))));
    let addrs = prop_oneof![5 => v4, 5 => v6, 1 => mixed];
    let protocol = prop_oneof![
        Just(6u8),
        Just(17),
        Just(1),
        Just(58),
        Just(47),
        any::<u8>()
    ];
    (
        addrs,
        protocol,
        port(),
        prop_oneof![port(), 0u16..20],
        any::<u8>(),
        prop_oneof![3 => Just(0u16), 1 => 1u16..8192],
        0i64..200_000,
    )
        .prop_map(|((src, dst), protocol, sp, dp, flags, frag, t)| Packet {
            src,
            dst,
            protocol,
            src_port: sp,
            dst_port: dp,
            tcp_flags: flags,
            fragment_offset: frag,
            time: LocalTime(T0 + t),
            length: 100,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compiled_equals_reference(
        rules in prop::collection::vec(rule(), 0..40),
        packets in prop::collection::vec(packet(), 1..40),
    ) {
        let c = Classifier::compile(&rules);
        for p in &packets {
            prop_assert_eq!(c.classify(p), reference(&rules, p), "packet {:?}", p);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Lists longer than 64 and 256 rules: several bitset words, the summaries in play.
    #[test]
    fn compiled_equals_reference_large_lists(
        rules in prop::collection::vec(rule(), 60..600),
        packets in prop::collection::vec(packet(), 1..100),
    ) {
        let c = Classifier::compile(&rules);
        for p in &packets {
            prop_assert_eq!(c.classify(p), reference(&rules, p), "packet {:?}", p);
        }
    }
}

#[test]
fn counters_count() {
    let rules = vec![Rule::any(1, Action::Permit, Proto::Tcp)];
    let c = Classifier::compile(&rules);
    let p = Packet {
        src: IpAddr::V4(Ipv4Addr::LOCALHOST),
        dst: IpAddr::V4(Ipv4Addr::LOCALHOST),
        protocol: 6,
        src_port: 1,
        dst_port: 2,
        tcp_flags: 0,
        fragment_offset: 0,
        time: LocalTime(0),
        length: 60,
    };
    c.classify_counted(&p);
    c.classify_counted(&Packet { protocol: 17, ..p });
    c.classify_counted(&Packet {
        fragment_offset: 10,
        ..p
    });
    let h = c.hits();
    assert_eq!(h.rules, vec![(1, 60)]);
    assert_eq!(h.implicit, (1, 60));
    assert_eq!(h.fragments, (1, 60));
}

/// A list longer than 4,096 rules, so the summaries have several words and the scan skips.
#[test]
fn compiled_equals_reference_on_a_5000_rule_list() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut gen =
        |s: &dyn Fn() -> BoxedStrategy<Rule>| s().new_tree(&mut runner).map(|t| t.current());
    let rules: Vec<Rule> = (0..20_000)
        .filter_map(|_| gen(&|| rule().boxed()).ok())
        // Keep only narrow rules, so that many packets travel deep into the list.
        .filter(|r| r.family.is_some() && r.src.len() >= 8 && r.dst.len() >= 8)
        .take(5000)
        .collect();
    assert!(rules.len() > 4096, "{}", rules.len());
    let c = Classifier::compile(&rules);
    let mut runner = TestRunner::deterministic();
    for _ in 0..2000 {
        let Ok(p) = packet().new_tree(&mut runner).map(|t| t.current()) else {
            continue;
        };
        assert_eq!(c.classify(&p), reference(&rules, &p), "packet {p:?}");
    }
}
