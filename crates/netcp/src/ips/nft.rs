//! The host's side of IPS blocks: one nftables table (`inet maynard_ips` by default) with
//! timed sets the input hook drops from. An element's timeout is the block's, so the kernel
//! lifts it on time by itself; an administrator's UNBLOCK deletes it.

use std::sync::Arc;
use std::time::Duration;

use ips::Block;
use tokio::sync::mpsc;

use crate::filters::{nft, nft_replace_table};
use crate::runtime::Runtime;

/// The table's definition: sets for source blocks (all of IP, or one transport) and port
/// blocks, IPv4 and IPv6, and the chain that drops what they hold.
fn table_script(table: &str) -> String {
    let mut s = format!("table inet {table} {{\n");
    for (family, addr) in [("4", "ipv4_addr"), ("6", "ipv6_addr")] {
        s.push_str(&format!(
            "  set source{family} {{ type {addr}; flags timeout; }}\n\
             \x20 set transport{family} {{ type {addr} . inet_proto; flags timeout; }}\n\
             \x20 set port{family} {{ type {addr} . {addr} . inet_proto . inet_service; flags timeout; }}\n"
        ));
    }
    s.push_str(
        "  chain input {\n\
         \x20   type filter hook input priority filter - 10; policy accept;\n\
         \x20   ip saddr @source4 drop\n\
         \x20   ip6 saddr @source6 drop\n\
         \x20   ip saddr . meta l4proto @transport4 drop\n\
         \x20   ip6 saddr . meta l4proto @transport6 drop\n\
         \x20   ip saddr . ip daddr . meta l4proto . th dport @port4 drop\n\
         \x20   ip6 saddr . ip6 daddr . meta l4proto . th dport @port6 drop\n\
         \x20 }\n}\n",
    );
    s
}

/// Makes the table afresh (blocks of an earlier run are gone with it).
pub async fn create(table: &str) -> Result<(), String> {
    nft_replace_table(table, table_script(table)).await
}

/// The set and element that hold `block`.
fn element(block: &Block) -> (String, String) {
    let family = if block.source.is_ipv4() { "4" } else { "6" };
    match (block.destination, block.protocol.number()) {
        (Some((dst, port)), Some(p)) if dst.is_ipv4() == block.source.is_ipv4() => (
            format!("port{family}"),
            format!("{} . {dst} . {p} . {port}", block.source),
        ),
        (_, None) => (format!("source{family}"), block.source.to_string()),
        (_, Some(p)) => (
            format!("transport{family}"),
            format!("{} . {p}", block.source),
        ),
    }
}

/// Blocks waiting for the writer at most; a flood of blocks beyond it is enforced on the stack
/// only (the writer says how many it missed).
pub const QUEUE: usize = 4096;

/// A block to add, with the time it has left.
pub struct Add {
    /// The block.
    pub block: Block,
    /// Its time left (rounded up to a second).
    pub remaining: Duration,
}

/// The line that adds `a`.
fn add_line(table: &str, a: &Add) -> String {
    let (set, elem) = element(&a.block);
    let secs = a.remaining.as_secs() + u64::from(a.remaining.subsec_nanos() > 0);
    format!(
        "add element inet {table} {set} {{ {elem} timeout {}s }}\n",
        secs.max(1)
    )
}

/// Adds the queued blocks to `table`, everything waiting in one `nft` run: a flood of blocks
/// costs a few processes, not one each.
pub async fn writer(rt: Arc<Runtime>, table: String, mut rx: mpsc::Receiver<Add>) {
    while let Some(first) = rx.recv().await {
        let mut script = add_line(&table, &first);
        let mut n = 1;
        while n < 512 {
            let Ok(more) = rx.try_recv() else {
                break;
            };
            script.push_str(&add_line(&table, &more));
            n += 1;
        }
        if let Err(e) = nft(&["-f", "-"], Some(script)).await {
            rt.log.emit(rt.log.line("error").kv(
                "message",
                format!("IPS: {n} block(s) not in the host's table: {e}"),
            ));
        }
    }
}

/// Deletes `block` (an element the kernel already timed out is not an error).
pub async fn delete(table: &str, block: &Block) -> Result<(), String> {
    let (set, elem) = element(block);
    let script = format!("delete element inet {table} {set} {{ {elem} }}\n");
    match nft(&["-f", "-"], Some(script)).await {
        Err(e) if e.contains("No such file or directory") => Ok(()),
        other => other.map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ips::Proto;

    fn block(protocol: Proto, destination: Option<(&str, u16)>) -> Block {
        Block {
            id: 1,
            rule: "r".into(),
            source: "203.0.113.7".parse().unwrap(),
            protocol,
            destination: destination.map(|(a, p)| (a.parse().unwrap(), p)),
            since: Duration::ZERO,
            until: Duration::from_secs(60),
        }
    }

    #[test]
    fn each_kind_of_block_goes_to_its_set() {
        assert_eq!(
            element(&block(Proto::Ip, None)),
            ("source4".into(), "203.0.113.7".into())
        );
        assert_eq!(
            element(&block(Proto::Udp, None)),
            ("transport4".into(), "203.0.113.7 . 17".into())
        );
        assert_eq!(
            element(&block(Proto::Tcp, Some(("192.0.2.2", 23)))),
            ("port4".into(), "203.0.113.7 . 192.0.2.2 . 6 . 23".into())
        );
        assert!(table_script("t").contains("th dport @port4 drop"));
    }
}
