//! Examples from the callers (access rules, routes, filters) and properties of the parser and of
//! `contains` against a bit-by-bit reference.

use super::*;
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn parses_and_matches_both_families() {
    let p: IpPrefix = "10.0.0.0/8".parse().unwrap();
    assert!(p.contains(ip("10.200.1.1")));
    assert!(!p.contains(ip("11.0.0.1")));
    assert!(p.contains(ip("::ffff:10.1.2.3")));
    let any: IpPrefix = "0/0".parse().unwrap();
    assert!(any.contains(ip("192.0.2.1")));
    assert!(!any.contains(ip("::1")));
    assert_eq!(any, IpPrefix::any(Family::V4));
    let v6: IpPrefix = "fe80::/10".parse().unwrap();
    assert!(v6.contains(ip("fe80::1")));
    assert!(!v6.contains(ip("fec0::1")));
    assert_eq!(v6.family(), Family::V6);
    let host: IpPrefix = " ::1 ".parse().unwrap();
    assert_eq!(host.len(), 128);
    assert_eq!(host, IpPrefix::host(ip("::1")));
}

#[test]
fn parser_errors_quote_the_text() {
    for (text, message) in [
        (
            "10.1.0.0/8",
            "`10.1.0.0/8` has host bits set beyond /8; did you mean `10.0.0.0/8`?",
        ),
        ("1.2.3.4/33", "prefix length `33` out of range 0-32"),
        ("::/x", "prefix length `x` out of range 0-128"),
        ("nonsense/8", "`nonsense` is not an IPv4 or IPv6 address"),
    ] {
        let err = text.parse::<IpPrefix>().unwrap_err();
        assert_eq!(err.to_string(), message, "{text}");
    }
    assert_eq!(
        "fe80::/10".parse::<Ipv4Prefix>().unwrap_err().to_string(),
        "`fe80::` is not an IPv4 address"
    );
}

#[test]
fn constructor_errors_quote_the_numbers() {
    let a = Ipv4Addr::new(10, 1, 0, 1);
    assert_eq!(
        Ipv4Prefix::new(a, 16).unwrap_err().to_string(),
        "10.1.0.1/16 has host bits set"
    );
    assert_eq!(
        Ipv4Prefix::containing(a, 33).unwrap_err().to_string(),
        "prefix length 33 is over 32"
    );
    assert_eq!(
        IpPrefix::new(ip("fe80::1"), 129).unwrap_err().to_string(),
        "prefix length 129 is over 128"
    );
    assert_eq!(
        Ipv4Prefix::mask_len(Ipv4Addr::new(255, 0, 255, 0))
            .unwrap_err()
            .to_string(),
        "subnet mask 255.0.255.0 is not contiguous"
    );
}

#[test]
fn ipv4_networks() {
    let p: Ipv4Prefix = "10.1.0.0/16".parse().unwrap();
    assert!(p.contains(Ipv4Addr::new(10, 1, 2, 3)));
    assert!(!p.contains(Ipv4Addr::new(10, 2, 0, 0)));
    assert_eq!(p.mask(), Ipv4Addr::new(255, 255, 0, 0));
    assert_eq!(p.broadcast(), Ipv4Addr::new(10, 1, 255, 255));
    assert!("10.1.0.1/16".parse::<Ipv4Prefix>().is_err());
    assert!("10.1.0.0/33".parse::<Ipv4Prefix>().is_err());
    assert_eq!(
        Ipv4Prefix::mask_len(Ipv4Addr::new(255, 255, 255, 0)),
        Ok(24)
    );
    assert_eq!(Ipv4Prefix::mask_len(Ipv4Addr::UNSPECIFIED), Ok(0));
    assert_eq!(Ipv4Prefix::mask_len(Ipv4Addr::BROADCAST), Ok(32));
    assert_eq!(
        Ipv4Prefix::from_mask(
            Ipv4Addr::new(192, 0, 2, 77),
            Ipv4Addr::new(255, 255, 255, 192)
        ),
        "192.0.2.64/26".parse()
    );
    assert!(Ipv4Prefix::DEFAULT.contains(Ipv4Addr::new(1, 2, 3, 4)));
    assert!(Ipv4Prefix::DEFAULT.is_default());
    assert_eq!(p.to_string(), "10.1.0.0/16");
    assert_eq!(IpPrefix::from(p), "10.1.0.0/16".parse().unwrap());
}

#[test]
fn integer_form_for_the_filter() {
    let p = IpPrefix::from_bits(Family::V4, 0x0a01_0203, 8).unwrap();
    assert_eq!(p.to_string(), "10.0.0.0/8");
    assert_eq!(p.range(), (0x0a00_0000, 0x0aff_ffff));
    assert!(p.contains_bits(0x0a12_3456));
    assert!(!p.contains_bits(0x0b00_0000));
    assert_eq!(IpPrefix::from_bits(Family::V4, 0, 33), None);
    let all6 = IpPrefix::any(Family::V6);
    assert_eq!(all6.range(), (0, u128::MAX));
    assert_eq!(IpPrefix::any(Family::V4).range(), (0, 0xffff_ffff));
    let net: IpPrefix = "10.0.0.0/8".parse().unwrap();
    assert!(IpPrefix::any(Family::V4).covers(&net));
    assert!(!net.covers(&IpPrefix::any(Family::V4)));
    assert!(!all6.covers(&net));
}

#[test]
fn serializes_as_text() {
    // The control protocol's wire format: a JSON string.
    let p: IpPrefix = "192.0.2.0/24".parse().unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"192.0.2.0/24\"");
    assert_eq!(
        serde_json::from_str::<IpPrefix>("\"192.0.2.0/24\"").unwrap(),
        p
    );
    assert!(serde_json::from_str::<IpPrefix>("\"192.0.2.1/24\"").is_err());
    assert_eq!(serde_json::to_string(&Family::V6).unwrap(), "\"V6\"");
}

/// The prefix of `len` bits containing `bits`, by clearing one host bit at a time: the reference
/// the masks are checked against.
fn reference_contains(net: u128, len: u8, width: u8, a: u128) -> bool {
    (0..len).all(|i| {
        let bit = 1u128 << (width - 1 - i);
        a & bit == net & bit
    })
}

fn v4_prefix() -> impl Strategy<Value = IpPrefix> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, l)| IpPrefix::containing(IpAddr::V4(Ipv4Addr::from(a)), l).unwrap())
}

fn v6_prefix() -> impl Strategy<Value = IpPrefix> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, l)| IpPrefix::containing(IpAddr::V6(Ipv6Addr::from(a)), l).unwrap())
}

proptest! {
    #[test]
    fn display_round_trips(p in prop_oneof![v4_prefix(), v6_prefix()]) {
        prop_assert_eq!(p.to_string().parse::<IpPrefix>().unwrap(), p);
        prop_assert_eq!(IpPrefix::new(p.addr(), p.len()), Ok(p));
        prop_assert_eq!(IpPrefix::from_bits(p.family(), p.bits(), p.len()), Some(p));
    }

    #[test]
    fn ipv4_display_round_trips(a in any::<u32>(), l in 0u8..=32) {
        let p = Ipv4Prefix::containing(Ipv4Addr::from(a), l).unwrap();
        prop_assert_eq!(p.to_string().parse::<Ipv4Prefix>().unwrap(), p);
        prop_assert_eq!(Ipv4Prefix::from_mask(p.network(), p.mask()), Ok(p));
        prop_assert!(p.contains(Ipv4Addr::from(a)));
        prop_assert!(p.contains(p.broadcast()));
    }

    #[test]
    fn contains_matches_bitwise_reference(p in v4_prefix(), a in any::<u32>()) {
        let want = reference_contains(p.bits(), p.len(), 32, u128::from(a));
        prop_assert_eq!(p.contains(IpAddr::V4(Ipv4Addr::from(a))), want);
        prop_assert_eq!(p.contains_bits(u128::from(a)), want);
        let (lo, hi) = p.range();
        prop_assert_eq!((lo..=hi).contains(&u128::from(a)), want);
        let v4 = Ipv4Prefix::containing(Ipv4Addr::from(p.bits() as u32), p.len()).unwrap();
        prop_assert_eq!(v4.contains(Ipv4Addr::from(a)), want);
        prop_assert!(!p.contains(IpAddr::V6(Ipv6Addr::from(u128::from(a) << 64 | 1))));
    }

    #[test]
    fn contains_matches_bitwise_reference_v6(p in v6_prefix(), a in any::<u128>()) {
        let ip = Ipv6Addr::from(a);
        // Mapped IPv4 addresses are IPv4 to `contains`; the reference is for the others.
        prop_assume!(ip.to_ipv4_mapped().is_none());
        let want = reference_contains(p.bits(), p.len(), 128, a);
        prop_assert_eq!(p.contains(IpAddr::V6(ip)), want);
        let (lo, hi) = p.range();
        prop_assert_eq!((lo..=hi).contains(&a), want);
    }

    #[test]
    fn covers_agrees_with_ranges(p in v4_prefix(), q in v4_prefix()) {
        let (plo, phi) = p.range();
        let (qlo, qhi) = q.range();
        prop_assert_eq!(p.covers(&q), plo <= qlo && qhi <= phi);
    }

    #[test]
    fn never_panics(s in ".{0,60}") {
        let _ = s.parse::<IpPrefix>();
        let _ = s.parse::<Ipv4Prefix>();
    }
}
