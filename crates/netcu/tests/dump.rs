//! DUMP over the shared DECnet captures: every frame decoded, expressions, the protocol
//! hierarchy, JSON lines, and a pcap written back that tcpdump reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NETCU: &str = env!("CARGO_BIN_EXE_netcu");
const CAPTURES: &str = "/work/shared/captures/decnet";

fn capture(name: &str) -> PathBuf {
    let p = Path::new(CAPTURES).join(name);
    assert!(
        p.exists(),
        "{} is missing: the shared captures are needed",
        p.display()
    );
    p
}

fn netcu(args: &[&str]) -> Output {
    Command::new(NETCU)
        .args(args)
        .env("MAYNARD_SOCKET", "/nonexistent/netcp.sock")
        .output()
        .expect("run netcu")
}

fn stdout_ok(args: &[&str]) -> String {
    let out = netcu(args);
    assert!(
        out.status.success(),
        "netcu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn every_frame_of_the_ethernet_capture_is_one_line() {
    let file = capture("dn-ethernet-lan-routing-mop.pcap");
    let text = stdout_ok(&["dump", &format!("/read={}", file.display())]);
    assert_eq!(text.lines().count(), 306, "the README counts 306 frames");
    assert!(!text.to_lowercase().contains("malformed"), "{text}");
}

/// The one-line output (the fast path: no expression, /SUMMARY, /VERBOSE or /JSON) is the
/// decoder's golden line rendering of every shared capture, byte for byte.
#[test]
fn one_line_output_is_the_golden_line_rendering() {
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/../decode/tests/golden");
    for name in [
        "dn-ddcmp-tcp-l2routers.pcap",
        "dn-ethernet-lan-routing-mop.pcap",
        "dn-gre-l2routers.pcap",
        "dn-multinet-tcp-l2r-l1r-verify.pcap",
        "dn-multinet-udp-phase3.pcap",
    ] {
        let file = capture(name);
        let text = stdout_ok(&["dump", &format!("/read={}", file.display())]);
        let want =
            std::fs::read_to_string(format!("{golden}/{name}.line.txt")).expect("golden line file");
        assert!(
            text == want,
            "{name}: netcu dump differs from the golden lines"
        );
    }
}

#[test]
fn expressions_select_and_the_summary_counts_with_seed_names() {
    let file = capture("dn-ethernet-lan-routing-mop.pcap");
    let all = stdout_ok(&["dump", &format!("/read={}", file.display()), "/summary"]);
    assert!(all.contains("NSP"), "{all}");
    let mop = stdout_ok(&["dump", &format!("/read={}", file.display()), "mop"]);
    let n = mop.lines().count();
    assert!(n > 0 && n < 306, "{n} MOP frames");
    let not_mop = stdout_ok(&["dump", &format!("/read={}", file.display()), "not", "mop"]);
    assert_eq!(n + not_mop.lines().count(), 306);
    let counted = stdout_ok(&["dump", &format!("/read={}", file.display()), "/count=5"]);
    assert_eq!(counted.lines().count(), 5);
    let out = netcu(&["dump", &format!("/read={}", file.display()), "port", "and"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EXPRESSION"));
}

#[test]
fn decnet_over_ip_decodes_down_to_nsp_and_json_lines_parse() {
    let file = capture("dn-multinet-tcp-l2r-l1r-verify.pcap");
    let text = stdout_ok(&[
        "dump",
        &format!("/read={}", file.display()),
        "/json",
        "/count=50",
    ]);
    assert_eq!(text.lines().count(), 50);
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.is_object());
    }
    let tree = stdout_ok(&[
        "dump",
        &format!("/read={}", file.display()),
        "/verbose",
        "/count=20",
    ]);
    assert!(
        tree.lines().count() > 20,
        "a tree has several lines per frame"
    );
}

#[test]
fn selected_frames_are_written_as_pcap_that_tcpdump_reads() {
    let file = capture("dn-ethernet-lan-routing-mop.pcap");
    let out = std::env::temp_dir().join(format!("maynard-dump-{}.pcap", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let mop = stdout_ok(&[
        "dump",
        &format!("/read={}", file.display()),
        &format!("/write={}", out.display()),
        "mop",
    ]);
    let read = Command::new("tcpdump")
        .args(["-r"])
        .arg(&out)
        .output()
        .expect("tcpdump (Debian package tcpdump; scripts/test installs it)");
    let _ = std::fs::remove_file(&out);
    assert!(read.status.success(), "{read:?}");
    // tcpdump prints some DECnet frames on several lines: count the lines that start a frame.
    let frames = String::from_utf8_lossy(&read.stdout)
        .lines()
        .filter(|l| l.as_bytes().get(2) == Some(&b':') && l.as_bytes().get(8) == Some(&b'.'))
        .count();
    assert_eq!(frames, mop.lines().count());
}

/// Live capture with no netcp to ask (crates/netcp/tests/stack.rs captures on a live stack).
#[test]
fn live_capture_says_what_it_needs() {
    let out = netcu(&["dump", "se0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Maynard's own stack"), "{err}");
    assert!(err.contains("netcp is not running"), "{err}");
}
