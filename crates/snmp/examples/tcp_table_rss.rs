//! Measures what the TCP-MIB's tables cost in memory: builds the tcp group for N synthetic
//! host sockets (default 20,000, as on a busy server), walks it once, and prints the growth of
//! the process's resident set. `cargo run --release -p snmp --example tcp_table_rss [N]`.

use snmp::host::{FakeHost, HostSource};
use snmp::registry::Ctx;
use snmp::Oid;
use std::sync::Arc;
use std::time::Duration;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut tcp = String::from("  sl  local_address rem_address   st\n");
    for i in 0..n {
        // 127.0.0.1:(1024+i) <-> 127.0.0.2:5000, ESTABLISHED.
        tcp.push_str(&format!(
            "{i}: 0100007F:{:04X} 0200007F:1388 01 0 0 0 0 0 {}\n",
            1024 + (i % 60000),
            100000 + i
        ));
    }
    let host: Arc<dyn HostSource> = Arc::new(FakeHost::new().file("/proc/net/tcp", &tcp));
    let before = rss_kib();
    let mut handlers = snmp::mib::ip::handlers(host, snmp::mib::stack::StackViewCell::new());
    let (_, h) = handlers
        .iter_mut()
        .find(|(o, _)| *o == Oid::new(&snmp::mib::ip::TCP))
        .expect("the tcp group is registered");
    let cx = Ctx {
        now: Duration::from_secs(1),
    };
    let mut at = Oid::new(&snmp::mib::ip::TCP);
    let mut count = 0u64;
    while let Some(vb) = h.next(&at, &cx) {
        at = vb.oid;
        count += 1;
    }
    let after = rss_kib();
    println!(
        "tcp-table-rss: sockets={n} instances={count} rss_growth_kib={}",
        after.saturating_sub(before)
    );
}
