//! The built-in NTP server against clients no one here wrote: chrony's `chronyd -Q` (a one-off
//! measurement that does not touch the clock) on the host's loopback, and ntpsec's `ntpdate -q`
//! through Maynard's own stack on a TAP device.
//!
//! Needs chrony and ntpsec-ntpdate; the stack test needs root (TAP) and iproute2.

mod common;

use std::process::Command;

use common::stack_env::*;
use common::*;

/// Serve the local clock even when the kernel says it is not synchronized: the machine running
/// the tests may or may not be.
const NTP: &str = "[ntp]\nstratum = 2\nlocal_stratum = 10\n";

/// The offset chrony measured, in seconds, from its "System clock wrong by X seconds" line.
fn chrony_offset(out: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.contains("System clock wrong by"))?;
    line.split("wrong by ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn chrony_measures_the_clock_from_netcp() {
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = true\nhost_services = \"\"\n{NTP}\
         [[service]]\nname = \"ntp\"\nbuiltin = \"ntp\"\nport = {port}\nprotocols = [\"udp\"]\nlisten = [\"127.0.0.1\"]\n"
    );
    let netcp = Netcp::start("ntp", &servers);
    let out = run(Command::new("timeout").args([
        "30",
        "chronyd",
        "-Q",
        "-t",
        "20",
        &format!("server 127.0.0.1 port {port} iburst maxsamples 3"),
    ]));
    let text = text(&out);
    let offset = chrony_offset(&text)
        .unwrap_or_else(|| panic!("chrony took no measurement:\n{text}\n{}", netcp.stderr()));
    assert!(offset.abs() < 0.05, "the same clock is {offset} s off");
    let c = netcp.counters("ntp");
    assert!(
        c[1].parse::<u64>().unwrap() >= 3,
        "requests answered: {c:?}"
    );
}

#[test]
fn ntpdate_queries_netcp_on_maynards_stack() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayn{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.122.{k}.1"), format!("100.122.{k}.2"));
    let netcp = start_netcp_with(
        "ntp-stack",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &format!(
            "{NTP}[[service]]\nname = \"ntp\"\nbuiltin = \"ntp\"\nport = 123\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n"
        ),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    let out = run(Command::new("ntpdate").args(["-q", &ours]));
    let text = text(&out);
    assert!(out.status.success(), "{text}\n{}", netcp.stderr());
    // `2026-11-22 12:23:48.484462 (+0000) +0.000056 +/- 0.000246 100.122.k.2 s10 no-leap`
    let fields: Vec<&str> = text.split_whitespace().collect();
    let at = fields
        .iter()
        .position(|f| *f == ours)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(["s2", "s10"].contains(&fields[at + 1]), "{text}");
    assert_eq!(fields[at + 2], "no-leap", "{text}");
    let offset: f64 = fields[at - 3].parse().unwrap();
    assert!(offset.abs() < 0.05, "{text}");
}
