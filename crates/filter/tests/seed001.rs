//! Every filter sample of seed 001 (MultiNet Administrator's Guide, packet filtering), with what
//! the parser does with it: loads, loads with a warning, does not load (end passed), or refuses.
//! docs/filter.md, "Seed errata: our choices", explains each decision.

use std::net::{IpAddr, Ipv4Addr};

use filter::vmstime::{Date, TimeOfDay};
use filter::{
    parse, reference, Action, Classifier, Decided, FilterList, LocalTime, Packet, PortMatch,
    PortOp, Severity, Window,
};
use servicedb::ServiceDb;

fn now() -> LocalTime {
    // 22-NOV-2026 12:00:00, a load time after every date in the seed.
    LocalTime::from_civil(
        Date {
            year: 2026,
            month: 11,
            day: 22,
        },
        TimeOfDay {
            hour: 12,
            minute: 0,
            second: 0,
            hundredths: 0,
        },
    )
}

fn db() -> ServiceDb {
    ServiceDb::parse(
        "domain 53/udp\ndomain 53/tcp\nwww 80/tcp http\nftp 21/tcp\n",
        "services",
    )
    .unwrap_or_default()
}

fn load(text: &str) -> Result<FilterList, Vec<String>> {
    parse(text, "FILTER-SE0.DAT", &db(), now())
        .map_err(|e| e.errors().map(|d| d.to_string()).collect())
}

fn loads(text: &str) -> FilterList {
    match load(text) {
        Ok(l) => l,
        Err(e) => panic!("refused {text:?}: {e:?}"),
    }
}

fn refused(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("accepted {text:?}: {:?}", l.rules),
        Err(e) => e,
    }
}

fn warnings(l: &FilterList) -> Vec<String> {
    l.warnings.iter().map(|w| w.to_string()).collect()
}

#[test]
fn recommended_denies_of_unprotected_ports_load_cleanly() {
    let l = loads(
        "deny udp 0/0 0/0 eq 2049\ndeny tcp 0/0 0/0 eq 2049\ndeny tcp 0/0 0/0 eq 6000\ndeny tcp 0/0 0/0 eq 6001\n",
    );
    assert_eq!(l.rules.len(), 4);
    assert!(l.warnings.is_empty(), "{:?}", warnings(&l));
    assert_eq!(
        l.rules[3].dport,
        Some(PortMatch {
            op: PortOp::Eq,
            value: 6001
        })
    );
}

#[test]
fn source_only_lines_load_with_any_destination_and_a_warning() {
    let l = loads(
        "drop ip 0.0.0.0/32\ndrop ip 255.255.255.255/32\ndrop ip 127.0.0.0/8\n\
         drop ip 10.0.0.0/8\ndrop ip 172.16.0.0/12\ndrop ip 192.168.0.0/16\n",
    );
    assert_eq!(l.rules.len(), 6);
    assert_eq!(l.warnings.len(), 6);
    assert!(warnings(&l)[0].contains("no destination address"));
    // 0.0.0.0/32 written in full is deliberate (a source of 0.0.0.0): no `0/32` warning.
    assert!(!warnings(&l)[0].contains("did you mean"));
    assert_eq!(l.rules[4].src.to_string(), "172.16.0.0/12");
}

#[test]
fn placeholder_addresses_are_refused() {
    let e = refused("deny ip local-network\n");
    assert!(
        e[0].starts_with("FILTER-SE0.DAT:1:9: error: expected an address in CIDR form"),
        "{e:?}"
    );
    let e = refused("permit tcp 0/32 web-server-address/32 eq 80\npermit tcp 0/32 ftp-server-address/32 eq 21\n");
    assert_eq!(e.len(), 2);
    assert!(e[1].starts_with("FILTER-SE0.DAT:2:17:"), "{e:?}");
}

#[test]
fn old_format_address_mask_pairs_are_refused_with_filter_convert_hint() {
    for line in [
        "permit udp 0/32 eq 53 0 0\n",
        "deny tcp 0/32 eq 53 0 0\n",
        "permit tcp 0 0 0 0 gt 1023 established\n",
        "permit tcp 0 0 0 0 gt 1023\n",
    ] {
        let e = refused(line);
        assert_eq!(e.len(), 1, "{line}: {e:?}");
        assert!(e[0].contains("FILTER_CONVERT"), "{e:?}");
    }
    let c = filter::convert("permit tcp 0 0 0 0 gt 1023 established\n");
    assert_eq!(
        c.text,
        "permit tcp 0.0.0.0/0 0.0.0.0/0 gt 1023 established\n"
    );
    assert!(loads(&c.text).warnings.is_empty());
}

#[test]
fn zero_slash_32_loads_with_a_did_you_mean_warning() {
    let l = loads("permit tcp 0/32 0/32 gt 1023 established\n");
    assert_eq!(l.rules[0].src.len(), 32);
    let w = warnings(&l);
    assert_eq!(w.len(), 2);
    assert!(w[0].starts_with(
        "FILTER-SE0.DAT:1:12: warning: `0/32` matches only the address 0.0.0.0; did you mean `0/0`"
    ));
    assert!(l.rules[0].established);
}

#[test]
fn icmp_redirects_then_all_icmp() {
    let l = loads("deny icmp 0/32 0/32 eq 5\npermit icmp\n");
    assert_eq!(l.rules.len(), 2);
    assert_eq!(l.rules[1].family, None);
    assert!(warnings(&l).iter().any(|w| w.contains("no addresses")));
}

#[test]
fn order_example_shadows_the_deny() {
    let l = loads("permit tcp 0/0 0/0 gt 1023\ndeny tcp 0/0 0/0 eq 2049\n");
    let c = Classifier::compile(&l.rules);
    let nfs = Packet {
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        protocol: 6,
        src_port: 700,
        dst_port: 2049,
        tcp_flags: 0x02,
        fragment_offset: 0,
        time: now(),
        length: 60,
    };
    // As the seed warns: the permit wins, the deny is never reached.
    assert_eq!(c.classify(&nfs).by, Decided::Rule(0));
    assert!(
        warnings(&l).iter().any(|w| w.contains("never matches")),
        "{:?}",
        warnings(&l)
    );
}

#[test]
fn time_example_with_date_in_quotes() {
    // deny icmp 0 0 eq 5 start 17:00:00 end "29-Sep-2003 6:00:00": the end passed in 2003, so the
    // filter is not loaded and the user told which line; `0` gets the did-you-mean warning.
    let l = loads("deny icmp 0 0 eq 5 start 17:00:00 end \"29-Sep-2003 6:00:00\"\n");
    assert!(l.rules.is_empty());
    assert_eq!(l.not_loaded, vec![1]);
    assert!(warnings(&l)
        .iter()
        .any(|w| w.contains("filter on line 1 not loaded")));
    assert!(warnings(&l)
        .iter()
        .any(|w| w.contains("did you mean `0/0`")));
}

const SIX_LINES: &str = "\
deny tcp 15.1.94.2/32 2.22.2.5 255/32 start 15:20 end 18:30 repeat
deny tcp 1.1.94.2/32 207.225.29.51/32 end \"1-JAN-2004 18:30\"

deny tcp 195.101.94.209/32 207.225.29.51/32 start 18:00 end \"1 00:30\" repeat
deny tcp 195.101.94.209/32 207.225.29.51/32
deny tcp 195.101.94.209/32 207.225.29.51/32  start 17:00 end 18:30
deny tcp 15.1.94.2/32 2.22.2.5/32 start \"2 00:00\" end 3 00:00\"
";

#[test]
fn the_six_line_time_example() {
    // As a file: lines 1 and 7 (the seed's "Line 1" and "Line 6") are refused, so nothing loads.
    let e = refused(SIX_LINES);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("FILTER-SE0.DAT:1:32: error:"), "{e:?}");
    assert!(e[0].contains("FILTER_CONVERT"));
    assert!(e[1].starts_with("FILTER-SE0.DAT:7:62: error:"), "{e:?}");
    assert!(e[1].contains("unbalanced quotes"));

    let lines: Vec<&str> = SIX_LINES.lines().collect();
    // Line 1 as its author meant it: 15:20 to 18:30 every day.
    let l = loads("deny tcp 15.1.94.2/32 2.22.2.5/32 start 15:20 end 18:30 repeat\n");
    assert_eq!(
        l.rules[0].window,
        Window::Daily {
            start: 15 * 3600 + 20 * 60,
            length: 3 * 3600 + 10 * 60,
            not_before: None,
            not_after: None
        }
    );
    // Line 2: ended on 1-JAN-2004, not loaded, the user told.
    let l = loads(lines[1]);
    assert!(l.rules.is_empty());
    assert_eq!(l.not_loaded, vec![1]);
    // Line 3 (the seed's): "1 00:30" is a VMS delta of one day and 30 minutes, so the daily
    // window is always open; loaded with a warning pointing at "0 01:30".
    let l = loads(lines[3]);
    assert_eq!(l.rules.len(), 1);
    assert!(
        warnings(&l)[0].contains("\"0 01:30\""),
        "{:?}",
        warnings(&l)
    );
    // As described (18:00 to 19:30):
    let l =
        loads("deny tcp 195.101.94.209/32 207.225.29.51/32 start 18:00 end \"0 01:30\" repeat\n");
    assert_eq!(
        l.rules[0].window,
        Window::Daily {
            start: 18 * 3600,
            length: 5400,
            not_before: None,
            not_after: None
        }
    );
    assert!(l.warnings.is_empty());
    // Line 4: no time limits.
    let l = loads(lines[4]);
    assert_eq!(l.rules[0].window, Window::Always);
    // Line 5: 17:00 to 18:30 today, once; without `log` it does not log (the seed's prose
    // says "will log": that needs the keyword).
    let l = loads(lines[5]);
    assert!(!l.rules[0].log);
    assert_eq!(
        l.rules[0].window,
        Window::Once {
            start: Some(LocalTime(now().0 + 5 * 3600)),
            end: Some(LocalTime(now().0 + 6 * 3600 + 1800))
        }
    );
    // Line 6 with balanced quotes: from 2 days after load, for 3 days.
    let l = loads("deny tcp 15.1.94.2/32 2.22.2.5/32 start \"2 00:00\" end \"3 00:00\"\n");
    assert_eq!(
        l.rules[0].window,
        Window::Once {
            start: Some(LocalTime(now().0 + 2 * 86_400)),
            end: Some(LocalTime(now().0 + 5 * 86_400))
        }
    );
}

#[test]
fn the_four_vms_time_forms() {
    let l = loads(
        "deny ip 0/0 0/0 start \"29-DEC-2030\"\n\
         deny ip 0/0 0/0 start \"29-DEC-2030 18:03\"\n\
         deny ip 0/0 0/0 start 18:03:00\n\
         deny ip 0/0 0/0 start \"1 15:00\"\n",
    );
    let starts: Vec<Option<LocalTime>> = l
        .rules
        .iter()
        .map(|r| match r.window {
            Window::Once { start, .. } => start,
            _ => None,
        })
        .collect();
    let day = |y, m, d, h, mi| {
        Some(LocalTime::from_civil(
            Date {
                year: y,
                month: m,
                day: d,
            },
            TimeOfDay {
                hour: h,
                minute: mi,
                second: 0,
                hundredths: 0,
            },
        ))
    };
    assert_eq!(starts[0], day(2030, 12, 29, 12, 0)); // the date at the current time
    assert_eq!(starts[1], day(2030, 12, 29, 18, 3));
    assert_eq!(starts[2], day(2026, 11, 22, 18, 3)); // today
    assert_eq!(starts[3], Some(LocalTime(now().0 + 86_400 + 15 * 3600)));
    // A date and time unquoted is refused with the quoting rule.
    let e = refused("deny ip 0/0 0/0 start 29-DEC-2030 18:03\n");
    assert!(e[0].contains("must be quoted"), "{e:?}");
}

#[test]
fn logging_example() {
    let l = loads("deny tcp 192.10.9.209/32 207.225.29.51/32 log\n");
    assert!(l.rules[0].log);
    assert_eq!(l.rules[0].action, Action::Deny);
}

#[test]
fn format_table_examples() {
    // saddr example 192.168.123.123/24: host bits set, loaded as 192.168.123.0/24 with a warning.
    let l = loads("deny ip 192.168.123.123/24 0/0\n");
    assert_eq!(l.rules[0].src.to_string(), "192.168.123.0/24");
    assert_eq!(l.warnings[0].severity, Severity::Warning);
    assert!(warnings(&l)[0].contains("host bits"));
    // daddr example 192.168.123.123/240: refused, pointing at the length.
    let e = refused("deny ip 0/0 192.168.123.123/240\n");
    assert!(
        e[0].starts_with(
            "FILTER-SE0.DAT:1:29: error: expected a prefix length 0-32 (did you mean /24?)"
        ),
        "{e:?}"
    );
    // "gt 1023" as a source port.
    let l = loads("permit tcp 0/0 gt 1023 0/0\n");
    assert_eq!(
        l.rules[0].sport,
        Some(PortMatch {
            op: PortOp::Gt,
            value: 1023
        })
    );
    // Port names come from the services database.
    let l = loads("permit udp 0/0 0/0 eq domain\npermit tcp 0/0 0/0 eq http\n");
    assert_eq!(l.rules[0].dport.map(|p| p.value), Some(53));
    assert_eq!(l.rules[1].dport.map(|p| p.value), Some(80));
    // Every ICMP message type name of the table.
    for (name, ty) in [
        ("echo-reply", 0),
        ("destination-unreachable", 3),
        ("source-quench", 4),
        ("redirect", 5),
        ("echo", 8),
        ("time-exceeded", 11),
        ("parameter-problem", 12),
        ("timestamp", 13),
        ("timestamp-reply", 14),
        ("information-request", 15),
        ("information-reply", 16),
    ] {
        let l = loads(&format!("deny icmp 0/0 0/0 eq {name}\n"));
        assert_eq!(l.rules[0].dport.map(|p| p.value), Some(ty), "{name}");
    }
}

#[test]
fn later_fragments_pass_tcp_rules_but_meet_ip_rules() {
    let l = loads("drop ip 10.0.0.0/8 0/0\npermit tcp 0/0 0/0 eq 80\n");
    let c = Classifier::compile(&l.rules);
    let mut p = Packet {
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        protocol: 6,
        src_port: 0,
        dst_port: 0,
        tcp_flags: 0,
        fragment_offset: 100,
        time: now(),
        length: 1500,
    };
    assert_eq!(c.classify(&p).by, Decided::LaterFragment);
    p.src = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    assert_eq!(c.classify(&p).by, Decided::Rule(0));
    p.protocol = 47;
    p.src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(c.classify(&p), reference(&l.rules, &p));
    assert_eq!(c.classify(&p).by, Decided::Implicit);
}
