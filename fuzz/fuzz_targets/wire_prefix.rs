//! Fuzz target: arbitrary text as an IP prefix (access lists, SNMP sources and route
//! destinations come from configuration files and the control socket). Parsing must not panic;
//! a parsed prefix must print and parse back equal, contain its own network address, and agree
//! with the IPv4-only type where both accept the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;
use wire::prefix::{IpPrefix, Ipv4Prefix};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let v4 = text.parse::<Ipv4Prefix>();
    let Ok(p) = text.parse::<IpPrefix>() else {
        assert!(v4.is_err());
        return;
    };
    assert_eq!(p.to_string().parse::<IpPrefix>(), Ok(p));
    assert!(
        p.contains(p.addr()) || matches!(p.addr(), IpAddr::V6(a) if a.to_ipv4_mapped().is_some())
    );
    let (lo, hi) = p.range();
    assert!(lo <= hi && p.contains_bits(lo) && p.contains_bits(hi));
    if let Ok(v4) = v4 {
        assert_eq!(IpPrefix::from(v4), p);
    }
});
