//! Tables for Maynard's own stack: SHOW INTERFACE (seed 001's layout), SHOW ARP, SHOW ROUTE,
//! SHOW KERNEL.

use std::fmt::Write;
use std::net::Ipv4Addr;

use control::config::network::ipv4_mask;
use control::protocol::{ArpInfo, KernelInfo, RouteInfo, StackInterfaceInfo, StackSocketInfo};

use crate::render::Table;

fn network(i: &StackInterfaceInfo) -> String {
    match (i.address, i.prefix_len) {
        (Some(a), Some(l)) => {
            let mask = ipv4_mask(l);
            format!("{}/{l}", Ipv4Addr::from(u32::from(a) & mask))
        }
        _ => "-".into(),
    }
}

/// SHOW INTERFACE /STATISTICS: `Name Mtu Network Address Ipkts Ierrs Opkts Oerrs Collis`.
pub fn interface_statistics(list: &[StackInterfaceInfo]) -> String {
    let mut t = Table::new(&[
        ("Name", false),
        ("Mtu", false),
        ("Network", false),
        ("Address", false),
        ("Ipkts", true),
        ("Ierrs", true),
        ("Opkts", true),
        ("Oerrs", true),
        ("Collis", true),
    ]);
    for i in list {
        let c = &i.counters;
        t.row(vec![
            i.name.clone(),
            i.mtu.to_string(),
            network(i),
            i.address.map_or_else(|| "-".into(), |a| a.to_string()),
            c.ipkts.to_string(),
            c.ierrs.to_string(),
            c.opkts.to_string(),
            c.oerrs.to_string(),
            c.collis.to_string(),
        ]);
    }
    format!("Maynard Network Interface statistics:\n{}", t.render())
}

/// SHOW INTERFACE [name]: each interface's settings, as seed 001's SHOW /INTERFACE.
pub fn interfaces(list: &[StackInterfaceInfo]) -> String {
    let mut out = String::new();
    for i in list {
        let _ = writeln!(out, "Device {}: flags=<{}>", i.name, i.flags);
        if let Some(a) = i.address {
            let _ = writeln!(out, "  IP Address = {a}");
        }
        if let Some(l) = i.prefix_len {
            let mask = ipv4_mask(l);
            let _ = writeln!(out, "  IP Sub-Net Mask = {}", Ipv4Addr::from(mask));
        }
        if let Some(b) = i.broadcast {
            let _ = writeln!(out, "  IP Broadcast Address = {b}");
        }
        let _ = writeln!(out, "  MTU = {}", i.mtu);
        if let Some(m) = &i.mac {
            let _ = writeln!(out, "  Hardware Address = {m}");
            let _ = writeln!(out, "  Link Level Encapsulation = {}", i.encapsulation);
        }
        if !i.link.is_empty() {
            let _ = writeln!(out, "  Link = {}", i.link);
        }
        if !i.groups.is_empty() {
            let groups: Vec<String> = i.groups.iter().map(|g| g.to_string()).collect();
            let _ = writeln!(out, "  Multicast Groups = {}", groups.join(", "));
        }
        let c = &i.counters;
        let _ = writeln!(
            out,
            "  Ipkts {} Ierrs {} Opkts {} Oerrs {} Collis {}",
            c.ipkts, c.ierrs, c.opkts, c.oerrs, c.collis
        );
        let _ = writeln!(
            out,
            "  In: {} octets, {} unicast, {} broadcast, {} multicast, {} discarded, {} unknown protocol",
            c.in_octets, c.in_ucast, c.in_bcast, c.in_mcast, c.in_discards, c.in_unknown_protos
        );
        let _ = writeln!(
            out,
            "  Out: {} octets, {} unicast, {} broadcast, {} multicast, {} discarded",
            c.out_octets, c.out_ucast, c.out_bcast, c.out_mcast, c.out_discards
        );
    }
    if out.is_empty() {
        out.push_str("No interfaces.\n");
    }
    out
}

/// SHOW ARP.
pub fn arp(list: &[ArpInfo]) -> String {
    if list.is_empty() {
        return "The ARP table is empty.\n".into();
    }
    let mut t = Table::new(&[
        ("Host", false),
        ("Hardware Address", false),
        ("Interface", false),
        ("Flags", false),
        ("Expires", true),
    ]);
    for e in list {
        let mut flags = Vec::new();
        if e.incomplete {
            flags.push(format!("incomplete({} queued)", e.queued));
        }
        if e.permanent {
            flags.push("permanent".into());
        }
        if e.publish {
            flags.push("published".into());
        }
        if e.proxy {
            flags.push("proxy".into());
        }
        t.row(vec![
            e.address.to_string(),
            match (&e.mac, e.proxy) {
                (Some(m), _) => m.clone(),
                (None, true) => "(ours)".into(),
                (None, false) => "-".into(),
            },
            e.interface.clone(),
            flags.join(","),
            e.expires_seconds
                .map_or_else(|| "-".into(), |s| format!("{s}s")),
        ]);
    }
    t.render()
}

/// SHOW ROUTE.
pub fn routes(list: &[RouteInfo]) -> String {
    let mut t = Table::new(&[
        ("Destination", false),
        ("Gateway", false),
        ("Interface", false),
        ("Kind", false),
        ("Mtu", true),
        ("State", false),
    ]);
    for r in list {
        let dest = if r.prefix_len == 0 {
            "default".to_string()
        } else {
            format!("{}/{}", r.destination, r.prefix_len)
        };
        let mut state = Vec::new();
        if r.kind == "default" {
            state.push(if r.active { "active" } else { "standby" });
        }
        if r.dead {
            state.push("dead");
        }
        let expires = r.expires_seconds.map(|s| format!("expires {s}s"));
        let mut state: Vec<String> = state.into_iter().map(str::to_string).collect();
        state.extend(expires);
        t.row(vec![
            dest,
            r.gateway
                .map_or_else(|| "(direct)".into(), |g| g.to_string()),
            r.interface.clone(),
            r.kind.clone(),
            r.mtu.map_or_else(|| "-".into(), |m| m.to_string()),
            state.join(","),
        ]);
    }
    t.render()
}

/// SHOW CONNECTIONS /STACK: one line per socket, like `ss -tan`; `full` adds `ss -ti`'s
/// details under each TCP connection.
pub fn stack_sockets(sockets: &[StackSocketInfo], full: bool) -> String {
    if sockets.is_empty() {
        return "Maynard's stack has no open sockets.\n".into();
    }
    let mut t = Table::new(&[
        ("Proto", false),
        ("Recv-Q", true),
        ("Send-Q", true),
        ("Local", false),
        ("Remote", false),
        ("State", false),
    ]);
    let mut details = Vec::new();
    for s in sockets {
        t.row(vec![
            s.protocol.to_string(),
            s.recv_queue.to_string(),
            s.send_queue.to_string(),
            s.local.to_string(),
            s.remote.to_string(),
            s.state.clone(),
        ]);
        details.push(s.tcp.as_ref().filter(|_| full).map(|d| {
            let rtt = d.srtt_us.map_or_else(
                || "rtt:-".to_string(),
                |r| {
                    format!(
                        "rtt:{:.3}/{:.3}",
                        r as f64 / 1000.0,
                        d.rttvar_us as f64 / 1000.0
                    )
                },
            );
            format!(
                "    {} {rtt} rto:{} mss:{} cwnd:{} ssthresh:{} snd_wnd:{} rcv_wnd:{} \
                 retrans:{} bytes_sent:{} bytes_received:{}{}",
                d.congestion,
                d.rto_ms,
                d.mss,
                d.cwnd,
                d.ssthresh,
                d.snd_wnd,
                d.rcv_wnd,
                d.retransmits,
                d.bytes_sent,
                d.bytes_received,
                if d.owned { "" } else { " orphan" },
            )
        }));
    }
    if !full {
        return t.render();
    }
    // The table's lines (a header and its rule first), each row followed by its details.
    let rendered = t.render();
    let mut lines = rendered.lines();
    let mut out = String::new();
    for head in lines.by_ref().take(2) {
        out.push_str(head);
        out.push('\n');
    }
    for (line, d) in lines.zip(details) {
        out.push_str(line);
        out.push('\n');
        if let Some(d) = d {
            out.push_str(&d);
            out.push('\n');
        }
    }
    out
}

/// SHOW STATISTICS: the stack-wide counters grouped by protocol, like `netstat -s`.
pub fn statistics(k: &KernelInfo) -> String {
    const GROUPS: &[(&str, &str)] = &[
        ("ip", "IP"),
        ("icmp", "ICMP"),
        ("igmp", "IGMP"),
        ("arp", "ARP"),
        ("udp", "UDP"),
        ("tcp", "TCP"),
    ];
    let mut out = String::new();
    let w = k.counters.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (prefix, title) in GROUPS {
        let mut rows = k
            .counters
            .iter()
            .filter(|(n, _)| {
                n.starts_with(prefix) && n[prefix.len()..].starts_with(char::is_uppercase)
            })
            .peekable();
        if rows.peek().is_none() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for (n, v) in rows {
            let _ = writeln!(out, "  {n:<w$} {v}");
        }
    }
    out
}

/// SHOW KERNEL.
pub fn kernel(k: &KernelInfo) -> String {
    let mut out = String::new();
    let b = |v: bool| u8::from(v);
    let _ = writeln!(out, "GATEWAY          {}", b(k.gateway));
    let _ = writeln!(out, "TCP_PMTU         {}", b(k.tcp_pmtu));
    let _ = writeln!(out, "ACCEPT_REDIRECTS {}", b(k.accept_redirects));
    for (name, value) in &k.tcp {
        let _ = writeln!(out, "{:<16} {value}", name.to_ascii_uppercase());
    }
    if !k.counters.is_empty() {
        out.push_str("\nCounters:\n");
        let w = k.counters.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (n, v) in &k.counters {
            let _ = writeln!(out, "  {n:<w$} {v}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use control::protocol::StackCounters;

    #[test]
    fn statistics_follow_seed_001() {
        let i = StackInterfaceInfo {
            name: "se0".into(),
            mtu: 1500,
            address: Some("192.0.2.2".parse().unwrap()),
            prefix_len: Some(24),
            broadcast: None,
            mac: Some("02:00:00:00:00:01".into()),
            flags: "UP,BROADCAST,RUNNING,MULTICAST".into(),
            encapsulation: "ethernet".into(),
            link: "tap mayn0".into(),
            counters: StackCounters {
                ipkts: 120360,
                opkts: 143384,
                oerrs: 1,
                ..Default::default()
            },
            groups: vec!["239.1.2.3".parse().unwrap(), "224.0.1.1".parse().unwrap()],
        };
        let t = interface_statistics(std::slice::from_ref(&i));
        let mut lines = t.lines().skip(1);
        let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            ["Name", "Mtu", "Network", "Address", "Ipkts", "Ierrs", "Opkts", "Oerrs", "Collis"]
        );
        let row: Vec<&str> = lines.nth(1).unwrap().split_whitespace().collect();
        assert_eq!(
            row,
            [
                "se0",
                "1500",
                "192.0.2.0/24",
                "192.0.2.2",
                "120360",
                "0",
                "143384",
                "1",
                "0"
            ]
        );
        let shown = interfaces(&[i]);
        assert!(shown.contains("IP Sub-Net Mask = 255.255.255.0"), "{shown}");
        assert!(
            shown.contains("  Multicast Groups = 239.1.2.3, 224.0.1.1\n"),
            "{shown}"
        );
    }

    #[test]
    fn statistics_group_by_protocol() {
        let k = KernelInfo {
            gateway: false,
            tcp_pmtu: true,
            accept_redirects: false,
            counters: [
                ("ipInReceives", 5),
                ("icmpInMsgs", 1),
                ("udpNoPorts", 2),
                ("tcpActiveOpens", 3),
                ("tcpInSegs", 40),
            ]
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
            tcp: Vec::new(),
        };
        let t = statistics(&k);
        let titles: Vec<&str> = t.lines().filter(|l| !l.starts_with(' ')).collect();
        assert_eq!(titles, ["IP:", "ICMP:", "UDP:", "TCP:"]);
        // icmp counters are not IP's, though both begin with "i".
        let ip_rows = t.lines().skip(1).take_while(|l| l.starts_with(' ')).count();
        assert_eq!(ip_rows, 1, "{t}");
        assert!(t.contains("tcpInSegs") && t.ends_with("40\n"), "{t}");
    }
}
