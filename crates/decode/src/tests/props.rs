//! Property tests: no decoder panics on any input; the filter parser round-trips; the capture
//! reader and writer agree.

use proptest::prelude::*;

use super::frames::{dn, eth, long_data};
use crate::{render, CaptureReader, Decoder, Filter, LinkType, PcapWriter, Summary};

fn all_renderers(p: &crate::Packet) {
    let _ = (render::line(p), render::tree(p), render::json(p));
    let mut s = Summary::default();
    s.add(p);
    let _ = s.to_string();
    for f in [
        "nsp or host 1.2",
        "not (port 700 and tcp)",
        "net 10.0.0.0/8 or mop[remote system ID]",
    ] {
        let _ = Filter::parse(f).unwrap().matches(p);
    }
}

const ETHERTYPES: &[u16] = &[
    0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x6001, 0x6002, 0x6003, 0x6004, 0x6007, 0x8038, 0x9000,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_any_link_type(b in proptest::collection::vec(any::<u8>(), 0..300), lt in 0u32..4) {
        let link = [LinkType::Ethernet, LinkType::Raw, LinkType::Null, LinkType::LinuxSll][lt as usize];
        let p = Decoder::new().decode(&b, link);
        all_renderers(&p);
    }

    #[test]
    fn any_payload_of_each_ethertype(b in proptest::collection::vec(any::<u8>(), 0..200), i in 0usize..12) {
        let p = Decoder::new().decode(&eth(ETHERTYPES[i], &b), LinkType::Ethernet);
        all_renderers(&p);
    }

    #[test]
    fn any_routing_message(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        all_renderers(&Decoder::new().decode(&dn(&b), LinkType::Ethernet));
    }

    /// Arbitrary NSP and application bytes on links to each object.
    #[test]
    fn any_nsp_and_application(b in proptest::collection::vec(any::<u8>(), 0..200), obj in prop::sample::select(vec![17u8, 19, 25, 42, 0])) {
        let mut d = Decoder::new();
        let mut ci = vec![0x18, 0, 0, 0xcc, 0xdc, 1, 2, 0x33, 2, 0, obj, 0, 5, 0];
        let _ = d.decode(&long_data(&ci), LinkType::Ethernet);
        let mut m = vec![0x60, 0x96, 0x6f, 0xcc, 0xdc, 1, 0];
        m.extend_from_slice(&b);
        all_renderers(&d.decode(&long_data(&m), LinkType::Ethernet));
        ci.truncate(9);
        ci.extend_from_slice(&b);
        all_renderers(&d.decode(&long_data(&ci), LinkType::Ethernet));
        all_renderers(&d.decode(&long_data(&b), LinkType::Ethernet));
    }

    #[test]
    fn capture_reader_never_panics(b in proptest::collection::vec(any::<u8>(), 0..400), magic in 0usize..5) {
        let mut f = match magic {
            0 => vec![0xd4, 0xc3, 0xb2, 0xa1],
            1 => vec![0xa1, 0xb2, 0x3c, 0x4d],
            2 => vec![0x0a, 0x0d, 0x0d, 0x0a],
            _ => vec![],
        };
        f.extend_from_slice(&b);
        if let Ok(r) = CaptureReader::new(&f) {
            let mut d = Decoder::new();
            for rec in r.take(100).flatten() {
                all_renderers(&d.decode_record(&rec));
            }
        }
    }

    #[test]
    fn pcap_write_read_round_trip(frames in proptest::collection::vec((any::<u32>(), 0u32..1_000_000, proptest::collection::vec(any::<u8>(), 0..100)), 0..20)) {
        let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
        for (s, us, data) in &frames {
            w.write(i64::from(*s), us * 1000, data.len() as u32, data).unwrap();
        }
        let buf = w.into_inner().unwrap();
        let back: Vec<_> = CaptureReader::new(&buf).unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(back.len(), frames.len());
        for (r, (s, us, data)) in back.iter().zip(&frames) {
            prop_assert_eq!(r.ts_sec, i64::from(*s));
            prop_assert_eq!(r.ts_nsec, us * 1000);
            prop_assert_eq!(r.data, &data[..]);
            prop_assert_eq!(r.link, LinkType::Ethernet);
        }
    }

    #[test]
    fn filter_parser_never_panics(s in "\\PC{0,60}") {
        let _ = Filter::parse(&s);
    }

    #[test]
    fn filter_parser_never_panics_on_tokens(toks in proptest::collection::vec(prop::sample::select(vec![
        "and", "or", "not", "(", ")", "!", "&&", "||", "host", "net", "port", "src", "dst", "tcp", "udp", "nsp", "mop",
        "[connect init]", "1.2", "10.0.0.1", "::1", "2.*", "10.0.0.0/8", "700", "x", "[", "]",
    ]), 0..12)) {
        let _ = Filter::parse(&toks.join(" "));
    }

    /// Printing a parsed expression and parsing it again gives the same expression.
    #[test]
    fn filter_display_parse_round_trip(e in filter_strategy()) {
        let text = e.to_string();
        let back = Filter::parse(&text).unwrap();
        prop_assert_eq!(back, e);
    }
}

fn leaf() -> impl Strategy<Value = Filter> {
    use crate::filter::{Addr, Dir};
    let dir = prop::sample::select(vec![Dir::Any, Dir::Src, Dir::Dst]);
    let proto = prop::sample::select(crate::filter::PROTOCOLS.to_vec()).prop_map(|p| p.to_string());
    let msg = prop::option::of(
        prop::sample::select(vec!["connect init", "remote system ID", "Level 1 hello"])
            .prop_map(str::to_string),
    );
    let addr = prop_oneof![
        any::<[u8; 4]>().prop_map(|a| Addr::V4(a.into())),
        any::<[u8; 16]>().prop_map(|a| Addr::V6(a.into())),
        (0u16..64, 0u16..1024).prop_map(|(a, n)| Addr::Dn((a << 10) | n)),
        any::<[u8; 6]>().prop_map(Addr::Mac),
    ];
    prop_oneof![
        (proto, msg).prop_map(|(p, m)| Filter::Proto(p, m)),
        (dir.clone(), addr.clone()).prop_map(|(d, a)| Filter::Host(d, a)),
        (dir.clone(), any::<[u8; 4]>(), 0u8..=32).prop_map(|(d, a, n)| Filter::Net(
            d,
            Addr::V4(a.into()),
            n
        )),
        (dir.clone(), 0u16..64).prop_map(|(d, a)| Filter::Net(d, Addr::Dn(a << 10), 6)),
        (
            prop::option::of(prop::sample::select(vec![
                "tcp".to_string(),
                "udp".to_string()
            ])),
            dir,
            any::<u16>()
        )
            .prop_map(|(p, d, n)| Filter::Port(p, d, n)),
    ]
}

fn filter_strategy() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 32, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Filter::Not(Box::new(e))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
        ]
    })
}

pub(super) fn capture_frames() -> &'static Vec<Vec<u8>> {
    static FRAMES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(|| {
        let mut out = Vec::new();
        for f in super::captures::FILES {
            let buf = std::fs::read(format!("{}/{f}", super::captures::DIR)).unwrap();
            for r in CaptureReader::new(&buf).unwrap() {
                out.push(r.unwrap().data.to_vec());
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Real frames with bytes changed and cut short: deep decoders see nearly valid input.
    #[test]
    fn mutated_capture_frames(i in any::<prop::sample::Index>(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let frames = capture_frames();
        let mut f = frames[i.index(frames.len())].clone();
        for (at, b) in &edits {
            let n = f.len();
            if n > 0 {
                f[at.index(n)] = *b;
            }
        }
        let keep = cut.index(f.len() + 1);
        let mut d = Decoder::new();
        all_renderers(&d.decode(&f, LinkType::Ethernet));
        all_renderers(&d.decode(&f[..keep], LinkType::Ethernet));
    }
}

proptest! {
    /// The routing checksum (summed eight bytes at a time) equals the one's complement sum
    /// added word by word with end-around carry.
    #[test]
    fn routing_checksum_word_by_word(b in proptest::collection::vec(any::<u8>(), 0..2100), init in 0u32..2) {
        let mut s = init;
        for c in b.chunks(2) {
            s += u32::from(c[0]) | u32::from(c.get(1).copied().unwrap_or(0)) << 8;
            if s > 0xffff {
                s = (s & 0xffff) + 1;
            }
        }
        prop_assert_eq!(u32::from(crate::decnet::routing::checksum(&b, init)), s);
    }
}
