//! The dump fast paths against the plain one (the file in memory, every field decoded, lines
//! into a `String`): the same text for every shared capture, from [`render::line_bytes`] over
//! a streamed file and from [`Decoder::line_record`] (IPv4 and TCP written straight into the
//! line); and the same text and decoder state for mangled TCP segments.

use proptest::prelude::*;

use super::captures::{DIR, FILES};
use crate::{render, CaptureReader, CaptureStream, Decoder, Detail, LinkType, Packet, Record};

/// Every frame of a shared capture's lines, as the plain path writes them.
fn plain_lines(buf: &[u8]) -> String {
    let mut d = Decoder::new();
    let mut pkt = Packet::default();
    let mut want = String::new();
    for r in CaptureReader::new(buf).unwrap() {
        d.decode_record_into(&mut pkt, &r.unwrap());
        render::line_into(&pkt, &mut want);
        want.push('\n');
    }
    want
}

#[test]
fn streamed_byte_lines_equal_string_lines() {
    for f in FILES {
        let path = format!("{DIR}/{f}");
        let want = plain_lines(&std::fs::read(&path).unwrap());
        let mut d = Decoder::new();
        d.detail = Detail::Summaries;
        let mut pkt = Packet::default();
        let mut s = CaptureStream::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut got = Vec::new();
        while let Some(r) = s.next_record() {
            d.decode_record_into(&mut pkt, &r.unwrap());
            render::line_bytes(&pkt, &mut got);
            got.push(b'\n');
        }
        assert!(!want.is_empty());
        assert_eq!(String::from_utf8(got).unwrap(), want, "{f}");
    }
}

#[test]
fn line_record_equals_string_lines() {
    let (mut fast, mut frames) = (0, 0);
    for f in FILES {
        let path = format!("{DIR}/{f}");
        let want = plain_lines(&std::fs::read(&path).unwrap());
        for detail in [Detail::Summaries, Detail::Full] {
            let mut d = Decoder::new();
            d.detail = detail;
            let mut pkt = Packet::default();
            let mut s = CaptureStream::new(std::fs::File::open(&path).unwrap()).unwrap();
            let mut got = Vec::new();
            while let Some(r) = s.next_record() {
                let r = r.unwrap();
                d.line_record(&mut pkt, &r, &mut got);
                got.push(b'\n');
                assert_eq!(pkt.number, d.count);
                assert_eq!((pkt.ts_sec, pkt.ts_nsec), (r.ts_sec, r.ts_nsec));
                if detail == Detail::Summaries {
                    frames += 1;
                    if pkt.hidden > 0 {
                        fast += 1;
                    }
                }
            }
            assert_eq!(String::from_utf8(got).unwrap(), want, "{f} {detail:?}");
        }
    }
    // Every frame of the shared captures (Ethernet: IPv4 with TCP, UDP or GRE, and the
    // DECnet family, none malformed) takes a fast path.
    assert_eq!(fast, frames, "frames by the fast path");
    assert_eq!(frames, 1227);
}

/// Ethernet and IPv4 headers (10.0.0.1 to 10.0.0.2, DF, TTL 64, no checksum) for a transport
/// header and payload of `l4_len` bytes of `protocol`.
fn eth_ipv4(protocol: u8, l4_len: usize) -> Vec<u8> {
    let mut f = vec![0xaa, 0, 4, 0, 1, 4, 0xaa, 0, 4, 0, 2, 4, 0x08, 0x00];
    let tot = 20 + l4_len;
    f.extend_from_slice(&[
        0x45,
        0,
        (tot >> 8) as u8,
        tot as u8,
        0,
        1,
        0x40,
        0,
        64,
        protocol,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    f
}

/// An Ethernet frame carrying IPv4 and TCP (ports, flags, options, payload as given).
fn tcp_frame(sp: u16, dp: u16, flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut f = eth_ipv4(6, 20 + opts.len() + payload.len());
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x10, 0, 0, 0, 0x20, 0]);
    let off = ((20 + opts.len()) / 4) as u8;
    f.extend_from_slice(&[off << 4, flags, 0x01, 0x00, 0, 0, 0, 0]);
    f.extend_from_slice(opts);
    f.extend_from_slice(payload);
    f
}

/// An Ethernet frame carrying IPv4 and UDP (ports, payload as given).
fn udp_frame(sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = eth_ipv4(17, 8 + payload.len());
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Segments and datagrams on the Multinet port and others, their headers then mangled
    /// (bytes set, frame cut): the fast path writes the plain path's line and leaves the
    /// same state (the next segment of each stream decodes the same too).
    #[test]
    fn line_record_equals_plain_on_mangled_segments(
        port in prop::sample::select(vec![700u16, 23, 4000]),
        flags in any::<u8>(),
        opts in proptest::collection::vec(any::<u8>(), 0..3).prop_map(|v| {
            let mut o = v;
            o.resize(o.len() * 4, 1);
            o
        }),
        payload in proptest::collection::vec(any::<u8>(), 0..60),
        sets in proptest::collection::vec((0usize..120, any::<u8>()), 0..4),
        cut in 0usize..200,
    ) {
        let mut f = if flags & 0x40 != 0 && opts.is_empty() {
            udp_frame(1024, port, &payload)
        } else {
            tcp_frame(1024, port, flags, &opts, &payload)
        };
        for (i, v) in sets {
            if let Some(b) = f.get_mut(i) {
                *b = v;
            }
        }
        f.truncate(cut.max(14));
        let next = tcp_frame(port, 1024, 0x18, &[1, 1, 1, 1], &[0, 0x0c, 0, 0, 1, 2, 3]);
        let (mut plain, mut fast) = (Decoder::new(), Decoder::new());
        fast.detail = Detail::Summaries;
        let (mut p1, mut p2) = (Packet::default(), Packet::default());
        for (n, frame) in [&f, &next, &f].into_iter().enumerate() {
            let (link, data) = (LinkType::Ethernet, &frame[..]);
            let rec = Record { ts_sec: 1 + n as i64, ts_nsec: 7_000, orig_len: 60, link, data };
            plain.decode_record_into(&mut p1, &rec);
            let want = render::line(&p1);
            let mut got = Vec::new();
            fast.line_record(&mut p2, &rec, &mut got);
            prop_assert_eq!(String::from_utf8(got).unwrap(), want);
            prop_assert_eq!(&plain.streams, &fast.streams);
            let state = |d: &Decoder| (d.count, d.ip_src, d.ip_dst);
            prop_assert_eq!(state(&plain), state(&fast));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Runs of real frames, one of them with bytes changed and cut short: the fast path
    /// writes the plain path's lines and keeps the same state over the run.
    #[test]
    fn line_record_equals_plain_on_mutated_capture_frames(
        i in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let frames = super::props::capture_frames();
        let at = i.index(frames.len());
        let mut f = frames[at].clone();
        for (k, b) in &edits {
            let n = f.len();
            if n > 0 {
                f[k.index(n)] = *b;
            }
        }
        f.truncate(cut.index(f.len() + 1).max(f.len() / 2));
        let run: Vec<&[u8]> = frames[at.saturating_sub(3)..at]
            .iter()
            .map(|v| v.as_slice())
            .chain([f.as_slice()])
            .chain(frames[at + 1..(at + 4).min(frames.len())].iter().map(|v| v.as_slice()))
            .collect();
        let (mut plain, mut fast) = (Decoder::new(), Decoder::new());
        fast.detail = Detail::Summaries;
        let (mut p1, mut p2) = (Packet::default(), Packet::default());
        for (n, frame) in run.into_iter().enumerate() {
            let (link, data) = (LinkType::Ethernet, frame);
            let rec = Record { ts_sec: 86_000 + n as i64, ts_nsec: 999_999, orig_len: 60, link, data };
            plain.decode_record_into(&mut p1, &rec);
            let want = render::line(&p1);
            let mut got = Vec::new();
            fast.line_record(&mut p2, &rec, &mut got);
            prop_assert_eq!(String::from_utf8(got).unwrap(), want);
            prop_assert_eq!(&plain.streams, &fast.streams);
            prop_assert_eq!(&plain.links, &fast.links);
        }
    }
}
