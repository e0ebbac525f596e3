//! Filters over the shared captures, the summary's seed names, and capture file formats.

use super::captures::load;
use crate::{CaptureError, CaptureReader, Filter, LinkType, Summary};

fn count(file: &str, expr: &str) -> usize {
    let f = Filter::parse(expr).unwrap();
    load(file).iter().filter(|p| f.matches(p)).count()
}

const ETH: &str = "dn-ethernet-lan-routing-mop.pcap";

#[test]
fn filters_over_the_ethernet_capture() {
    assert_eq!(count(ETH, "decnet"), 306);
    assert_eq!(count(ETH, "mop"), 8 + 11);
    assert_eq!(count(ETH, "loop"), 11);
    assert_eq!(count(ETH, "mop[remote system ID]"), 4);
    assert_eq!(count(ETH, "nsp[connect init]"), 10);
    assert_eq!(
        count(ETH, "nsp and not nsp[connect init]"),
        count(ETH, "nsp") - 10
    );
    assert_eq!(count(ETH, "rp[Endnode hello] || mop[counters reply]"), 12);
    // DECnet addresses: hellos name their node, data headers their ends.
    assert_eq!(count(ETH, "src host 2.20 and rp[Endnode hello]"), 10);
    assert!(count(ETH, "host 3.1") > 0);
    assert_eq!(count(ETH, "net 3.* and not host 3.1"), 0);
    // ENDN's hardware address sends its SysID, two loop replies and a counters reply (tcpdump agrees).
    assert_eq!(count(ETH, "ether src host 08:00:2b:e1:02:14"), 4);
    assert_eq!(
        count(ETH, "host 08:00:2b:e1:02:14 and mop[remote system ID]"),
        1
    );
    assert_eq!(count(ETH, "ip or tcp or udp"), 0);
}

#[test]
fn filters_over_ip_captures() {
    let f = "dn-multinet-tcp-l2r-l1r-verify.pcap";
    assert_eq!(count(f, "tcp port 700"), 537);
    assert_eq!(count(f, "tcp dst port 700"), count(f, "tcp src port 42686"));
    assert_eq!(count(f, "udp"), 0);
    assert_eq!(count(f, "host 127.0.0.1 and net 127.0.0.0/8"), 537);
    assert_eq!(count(f, "dap[list dir]"), 1);
    assert_eq!(count(f, "scp[connect data] and host 1.2"), 17);
    let u = "dn-multinet-udp-phase3.pcap";
    assert_eq!(count(u, "udp src port 7101 or udp dst port 7101"), 96);
}

#[test]
fn filter_errors_say_where() {
    let e = Filter::parse("nsp and (host 1.2").unwrap_err();
    assert_eq!((e.column, e.expected), (18, ")"));
    let e = Filter::parse("hots 1.2").unwrap_err();
    assert_eq!(e.column, 1);
    let e = Filter::parse("port http").unwrap_err();
    assert_eq!(e.expected, "a port number");
    let db = servicedb::ServiceDb::parse("http 80/tcp\n", "services").unwrap();
    assert_eq!(
        Filter::parse_with("port http", Some(&db))
            .unwrap()
            .to_string(),
        "port 80"
    );
    assert!(Filter::parse("net 1.2.3.4/33").is_err());
    assert!(Filter::parse("host 64.1").is_err());
}

#[test]
fn summary_uses_seed_names() {
    let mut s = Summary::default();
    for p in load(ETH) {
        s.add(&p);
    }
    let t = s.to_string();
    for line in [
        "MOP [remote system ID] 4",
        "MOP [counters request] 2",
        "NSP [connect init] 10",
        "RP [Endnode hello] 10",
        "SCP [connect data] 10",
    ] {
        assert!(t.contains(line), "{line} missing from\n{t}");
    }
    assert_eq!(s.packets(), 306);
}

fn pcap_header(magic: [u8; 4], be: bool) -> Vec<u8> {
    let mut h = magic.to_vec();
    let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    h.extend_from_slice(&w16(2));
    h.extend_from_slice(&w16(4));
    h.extend_from_slice(&w32(0));
    h.extend_from_slice(&w32(0));
    h.extend_from_slice(&w32(65535));
    h.extend_from_slice(&w32(1));
    for v in [5u32, 123, 3, 3] {
        h.extend_from_slice(&w32(v));
    }
    h.extend_from_slice(&[1, 2, 3]);
    h
}

#[test]
fn pcap_both_byte_orders_and_nanoseconds() {
    for (magic, be, ns) in [
        ([0xd4, 0xc3, 0xb2, 0xa1], false, 123_000),
        ([0xa1, 0xb2, 0xc3, 0xd4], true, 123_000),
        ([0x4d, 0x3c, 0xb2, 0xa1], false, 123),
        ([0xa1, 0xb2, 0x3c, 0x4d], true, 123),
    ] {
        let f = pcap_header(magic, be);
        let r: Vec<_> = CaptureReader::new(&f)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].ts_sec, r[0].ts_nsec, r[0].data),
            (5, ns, &[1u8, 2, 3][..])
        );
        assert_eq!(r[0].link, LinkType::Ethernet);
    }
    let mut f = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], false);
    f.pop();
    let r: Vec<_> = CaptureReader::new(&f).unwrap().collect();
    assert_eq!(r, vec![Err(CaptureError::Truncated(24))]);
    assert_eq!(
        CaptureReader::new(b"GIF89a..").unwrap_err(),
        CaptureError::BadMagic(0x3846_4947)
    );
}

fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let len = (b.len() + 12) as u32;
    let mut out = ty.to_le_bytes().to_vec();
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&b);
    out.extend_from_slice(&len.to_le_bytes());
    out
}

#[test]
fn pcapng_blocks() {
    let mut f = block(
        0x0a0d_0d0a,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    // IDB: Ethernet, snaplen 0, option if_tsresol = 9 (nanoseconds).
    f.extend(block(
        1,
        &[1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
    ));
    // A custom block to skip.
    f.extend(block(0xbad, &[1, 2, 3, 4]));
    // EPB: interface 0, time 2_000_000_123 ns, 3 bytes.
    let ts: u64 = 2_000_000_123;
    let mut epb = 0u32.to_le_bytes().to_vec();
    epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
    epb.extend_from_slice(&(ts as u32).to_le_bytes());
    epb.extend_from_slice(&3u32.to_le_bytes());
    epb.extend_from_slice(&60u32.to_le_bytes());
    epb.extend_from_slice(&[7, 8, 9]);
    f.extend(block(6, &epb));
    // SPB: original length 2.
    f.extend(block(3, &[2, 0, 0, 0, 5, 6]));
    let r: Vec<_> = CaptureReader::new(&f)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].ts_sec, r[0].ts_nsec, r[0].orig_len, r[0].data),
        (2, 123, 60, &[7u8, 8, 9][..])
    );
    assert_eq!(r[1].data, &[5, 6]);
}

#[test]
fn filter_size_is_bounded() {
    let long = vec!["nsp"; 501].join(" and ");
    assert!(Filter::parse(&long).is_err());
    let ok = vec!["nsp"; 500].join(" or ");
    assert!(Filter::parse(&ok).is_ok());
    let deep = format!("{}nsp{}", "(".repeat(300), ")".repeat(300));
    assert!(Filter::parse(&deep).is_err());
}

#[test]
fn pcap_writer_truncates_to_snaplen_and_keeps_link_type() {
    let mut w = crate::PcapWriter::new(Vec::new(), LinkType::Raw, 4).unwrap();
    w.write(7, 999_999_999, 10, &[1, 2, 3, 4, 5, 6]).unwrap();
    let buf = w.into_inner().unwrap();
    let r = CaptureReader::new(&buf).unwrap();
    assert_eq!(r.link_type(), Some(LinkType::Raw));
    let recs: Vec<_> = r.collect::<Result<_, _>>().unwrap();
    assert_eq!(
        (recs[0].data, recs[0].orig_len, recs[0].ts_nsec),
        (&[1u8, 2, 3, 4][..], 10, 999_999_000)
    );
    for v in [0u32, 1, 101, 113, 147] {
        assert_eq!(LinkType::from_u32(v).to_u32(), v);
    }
}

/// Re-writing a shared capture through the writer gives back the same records.
#[test]
fn shared_capture_round_trips_through_the_writer() {
    let buf = std::fs::read(format!("{}/{ETH}", super::captures::DIR)).unwrap();
    let recs: Vec<_> = CaptureReader::new(&buf)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut w = crate::PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    for r in &recs {
        w.write_record(r).unwrap();
    }
    let out = w.into_inner().unwrap();
    assert_eq!(out.get(24..), buf.get(24..), "records are byte-identical");
}

/// Text of frame bytes: printable ASCII as it is, any other byte as `\xNN` (lowercase).
#[test]
fn text_of_bytes_escapes_the_unprintable() {
    let all: Vec<u8> = (0..=255u8).collect();
    let want: String = all
        .iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                char::from(c).to_string()
            } else {
                format!("\\x{c:02x}")
            }
        })
        .collect();
    assert_eq!(crate::rd::text(&all), want);
    let mut w = Vec::new();
    let _ = crate::fmtx::W(Some(&mut w)).text(&all);
    assert_eq!(String::from_utf8(w).unwrap(), want);
}

/// The typed values kept instead of text show exactly the text the decoders formatted.
#[test]
fn typed_values_show_as_their_text() {
    use crate::Value;
    let cases: Vec<(Value, String)> = vec![
        (Value::Int(-3), (-3i8).to_string()),
        (Value::Int(127), 127i8.to_string()),
        (
            Value::Check(0x1a, true),
            format!("0x{:04x} [correct]", 0x1a),
        ),
        (
            Value::Check(0xbeef, false),
            "0xbeef [incorrect]".to_string(),
        ),
        (Value::TcpFlags(0x018), "0x018 PSH,ACK".to_string()),
        (Value::TcpFlags(0x012), "0x012 SYN,ACK".to_string()),
        (Value::TcpFlags(0x1c3), "0x1c3 SYN,FIN,ECE,CWR".to_string()),
        (Value::TcpFlags(0x100), "0x100 ".to_string()),
        (
            Value::Stamps(4_294_967_295, 0),
            "val 4294967295 ecr 0".to_string(),
        ),
        (Value::Version([2, 0, 10]), "2.0.10".to_string()),
        (Value::Ids(1, 1023), "ids 1-1023".to_string()),
        (Value::Ids(65535, 65536), "ids 65535-65536".to_string()),
    ];
    for (v, want) in cases {
        assert_eq!(v.to_string(), want, "{v:?}");
    }
}
