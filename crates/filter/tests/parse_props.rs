//! Property tests of the parsers: emit ∘ parse round trip, and no panic on any input.

use filter::{parse, Action, LocalTime, PortMatch, PortOp, Proto, Rule};
use proptest::prelude::*;
use servicedb::ServiceDb;
use wire::prefix::{Family, IpPrefix};

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

fn rule() -> impl Strategy<Value = Rule> {
    (
        0u8..3,
        prop_oneof![
            Just(Proto::Any),
            Just(Proto::Tcp),
            Just(Proto::Udp),
            Just(Proto::Icmp),
            (0u8..=255)
                .prop_filter("6 and 17 are tcp and udp", |n| *n != 6 && *n != 17)
                .prop_map(Proto::Number)
        ],
        any::<bool>(),
        (any::<u128>(), 0u8..=128, any::<u128>(), 0u8..=128),
        prop::option::of((op(), any::<u16>())),
        prop::option::of((op(), any::<u16>())),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, proto, v6, (sa, sl, da, dl), sp, dp, est, log)| {
            let family = if v6 { Family::V6 } else { Family::V4 };
            let fix = |addr: u128, len: u8| {
                let (addr, len) = if v6 {
                    (addr, len)
                } else {
                    (addr & 0xffff_ffff, len % 33)
                };
                IpPrefix::from_bits(family, addr, len).unwrap_or(IpPrefix::any(family))
            };
            let mut r = Rule::any(
                1,
                [Action::Permit, Action::Deny, Action::Drop][usize::from(a)],
                proto,
            );
            r.family = Some(family);
            r.src = fix(sa, sl);
            r.dst = fix(da, dl);
            if proto.has_ports() {
                r.sport = sp.map(|(op, value)| PortMatch { op, value });
                r.dport = dp.map(|(op, value)| PortMatch { op, value });
            }
            if proto == Proto::Icmp {
                r.dport = dp.map(|(op, value)| PortMatch {
                    op,
                    value: value % 256,
                });
            }
            r.established = est && proto == Proto::Tcp;
            r.log = log;
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn emit_then_parse_gives_the_rule(rules in prop::collection::vec(rule(), 1..8)) {
        let text: String = rules.iter().map(|r| r.to_line() + "\n").collect();
        let list = parse(&text, "t", &ServiceDb::default(), LocalTime(0));
        let list = match list {
            Ok(l) => l,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        };
        prop_assert_eq!(list.rules.len(), rules.len());
        for (i, (got, want)) in list.rules.iter().zip(&rules).enumerate() {
            let mut want = want.clone();
            want.line = i + 1;
            prop_assert_eq!(got, &want);
        }
    }

    #[test]
    fn parse_never_panics(text in "(?s)[ -~\t\n\"!/:.-]{0,200}") {
        let _ = parse(&text, "t", &ServiceDb::default(), LocalTime(0));
        let _ = filter::convert(&text);
    }

    #[test]
    fn parse_never_panics_on_rule_like_lines(
        words in prop::collection::vec(prop_oneof![
            Just("permit".to_string()), Just("deny".to_string()), Just("tcp".to_string()),
            Just("icmp".to_string()), Just("0/0".to_string()), Just("::/0".to_string()),
            Just("eq".to_string()), Just("start".to_string()), Just("end".to_string()),
            Just("repeat".to_string()), Just("log".to_string()), Just("\"1 00:30\"".to_string()),
            Just("18:00".to_string()), Just("-".to_string()), Just("\n".to_string()),
            "[0-9a-z:./\"-]{1,8}",
        ], 0..30)
    ) {
        let text = words.join(" ");
        let _ = parse(&text, "t", &ServiceDb::default(), LocalTime(0));
    }
}

fn mask(len: u8) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// FILTER_CONVERT of an old-format line parses to the rule written in CIDR.
    #[test]
    fn convert_then_parse(
        sa in any::<u32>(), sl in 0u8..=32, da in any::<u32>(), dl in 0u8..=32,
        dport in prop::option::of(any::<u16>()), est in any::<bool>(),
    ) {
        let (sa, da) = (std::net::Ipv4Addr::from(sa), std::net::Ipv4Addr::from(da));
        let mut old = format!("permit tcp {sa} {} {da} {}", mask(sl), mask(dl));
        let mut new = format!("permit tcp {sa}/{sl} {da}/{dl}");
        if let Some(p) = dport {
            old.push_str(&format!(" eq {p}"));
            new.push_str(&format!(" eq {p}"));
        }
        if est {
            old.push_str(" established");
            new.push_str(" established");
        }
        let c = filter::convert(&format!("{old}\n"));
        prop_assert!(c.problems.is_empty(), "{:?}", c.problems);
        let db = ServiceDb::default();
        let a = parse(&c.text, "t", &db, LocalTime(0)).map(|l| l.rules);
        let b = parse(&format!("{new}\n"), "t", &db, LocalTime(0)).map(|l| l.rules);
        prop_assert!(a.is_ok());
        prop_assert_eq!(a, b);
    }
}
