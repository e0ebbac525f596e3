//! The pcap writer's files, read back by tcpdump (Debian package `tcpdump`; the test fails
//! loudly without it).

mod common;

use common::*;
use link::{Frame, PcapWriter, TsPrecision};
use std::time::Duration;
use wire::EthernetAddress;

fn tcpdump(args: &[&str]) -> String {
    let out = std::process::Command::new("tcpdump")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("tcpdump is required by this test (apt-get install tcpdump): {e}")
        });
    assert!(
        out.status.success(),
        "tcpdump {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_sample(path: &std::path::Path, precision: TsPrecision) {
    let ours = EthernetAddress([2, 0, 0, 0, 0, 2]);
    let linux = EthernetAddress([2, 0, 0, 0, 0, 1]);
    let mut w = PcapWriter::create(path, precision).unwrap();
    w.write_frame(
        Duration::new(1_700_000_000, 123_456_789),
        &arp_request(ours, LINUX_IP),
    )
    .unwrap();
    w.write(
        Duration::new(1_700_000_001, 5_000),
        &Frame::from_slice(&echo_request(ours, linux, 0x4d41, 3, b"ping from maynard")),
    )
    .unwrap();
    assert_eq!(w.records(), 2);
    w.flush().unwrap();
}

#[test]
fn pcap_micro_and_nano_read_by_tcpdump() {
    let dir = std::env::temp_dir().join(unique("mlkpc"));
    std::fs::create_dir_all(&dir).unwrap();
    let micro = dir.join("micro.pcap");
    let nano = dir.join("nano.pcap");
    write_sample(&micro, TsPrecision::Micro);
    write_sample(&nano, TsPrecision::Nano);

    let m = tcpdump(&["-r", micro.to_str().unwrap(), "-n", "-tt", "-e"]);
    let n = tcpdump(&[
        "-r",
        nano.to_str().unwrap(),
        "-n",
        "-tt",
        "--time-stamp-precision=nano",
    ]);
    let _ = std::fs::remove_dir_all(&dir);

    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines.len(), 2, "{m}");
    assert!(lines[0].starts_with("1700000000.123456 "), "{m}");
    assert!(
        lines[0].contains("02:00:00:00:00:02 > ff:ff:ff:ff:ff:ff"),
        "{m}"
    );
    assert!(
        lines[0].contains("Request who-has 192.0.2.1 tell 192.0.2.2"),
        "{m}"
    );
    assert!(lines[1].starts_with("1700000001.000005 "), "{m}");
    assert!(
        lines[1].contains("192.0.2.2 > 192.0.2.1: ICMP echo request, id 19777, seq 3"),
        "{m}"
    );

    let lines: Vec<&str> = n.lines().collect();
    assert_eq!(lines.len(), 2, "{n}");
    assert!(lines[0].starts_with("1700000000.123456789 "), "{n}");
    assert!(lines[1].starts_with("1700000001.000005000 "), "{n}");
}
