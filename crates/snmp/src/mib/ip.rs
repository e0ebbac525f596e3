//! IP-MIB (ip group scalars, ipAddrTable, ipAddressTable, ipNetToMediaTable,
//! ipNetToPhysicalTable), IP-FORWARD-MIB inetCidrRouteTable, the icmp group, TCP-MIB (tcp
//! scalars, tcpConnTable, tcpConnectionTable, tcpListenerTable) and UDP-MIB (udp scalars,
//! udpTable, udpEndpointTable), from /proc/net and the host's addresses.

use crate::host::HostSource;
use crate::mib::interfaces;
use crate::mib::stack::{StackView, StackViewCell};
use crate::oid::Oid;
use crate::registry::{index, Ctx, Handler, Snapshot, SnapshotData};
use crate::value::Value;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

pub const IP: [u32; 7] = [1, 3, 6, 1, 2, 1, 4];
pub const ICMP: [u32; 7] = [1, 3, 6, 1, 2, 1, 5];
pub const TCP: [u32; 7] = [1, 3, 6, 1, 2, 1, 6];
pub const UDP: [u32; 7] = [1, 3, 6, 1, 2, 1, 7];
pub const TTL: Duration = Duration::from_secs(2);

/// Parses the header/value line pairs of /proc/net/snmp into (group → name → value).
pub fn parse_net_snmp(s: &str) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let lines: Vec<&str> = s.lines().collect();
    for pair in lines.chunks(2) {
        let [h, v] = pair else { continue };
        let (Some((g, hs)), Some((g2, vs))) = (h.split_once(':'), v.split_once(':')) else {
            continue;
        };
        if g != g2 {
            continue;
        }
        let m = out.entry(g.to_string()).or_default();
        for (k, v) in hs.split_whitespace().zip(vs.split_whitespace()) {
            m.insert(k.to_string(), v.parse().unwrap_or(0));
        }
    }
    out
}

fn c32(v: i64) -> Value {
    Value::Counter32((v as u64 & 0xffff_ffff) as u32)
}

fn int(v: i64) -> Value {
    Value::Integer(i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX }))
}

/// Parses a /proc/net address: 8 hex digits (IPv4) or 32 (IPv6), words in host order.
pub fn parse_proc_addr(hex: &str) -> Option<IpAddr> {
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

fn parse_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    Some((parse_proc_addr(a)?, u16::from_str_radix(p, 16).ok()?))
}

/// A socket from /proc/net/{tcp,tcp6,udp,udp6}: local, remote, Linux state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sock {
    pub local: (IpAddr, u16),
    pub remote: (IpAddr, u16),
    pub state: u8,
    pub inode: u64,
}

pub fn parse_sockets(s: &str) -> Vec<Sock> {
    s.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(Sock {
                local: parse_endpoint(f.get(1)?)?,
                remote: parse_endpoint(f.get(2)?)?,
                state: u8::from_str_radix(f.get(3)?, 16).ok()?,
                inode: f.get(9).and_then(|i| i.parse().ok()).unwrap_or(0),
            })
        })
        .collect()
}

/// Linux TCP state → tcpConnectionState.
pub fn tcp_state(linux: u8) -> i32 {
    match linux {
        1 => 5,
        2 => 3,
        3 => 4,
        4 => 6,
        5 => 7,
        6 => 11,
        7 => 1,
        8 => 8,
        9 => 9,
        10 => 2,
        11 => 10,
        _ => 1,
    }
}

fn sockets(host: &dyn HostSource, names: &[&str]) -> Vec<Sock> {
    names
        .iter()
        .flat_map(|n| {
            host.read(&format!("/proc/net/{n}"))
                .map(|s| parse_sockets(&s))
                .unwrap_or_default()
        })
        .collect()
}

/// Socket inode → owning process ID, from /proc/PID/fd links ("socket:[INODE]").
pub fn socket_owners(host: &dyn HostSource) -> BTreeMap<u64, u32> {
    let mut out = BTreeMap::new();
    for pid in host
        .list("/proc")
        .iter()
        .filter_map(|n| n.parse::<u32>().ok())
    {
        let dir = format!("/proc/{pid}/fd");
        for fd in host.list(&dir) {
            let Some(target) = host.read_link(&format!("{dir}/{fd}")) else {
                continue;
            };
            if let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            {
                out.entry(inode).or_insert(pid);
            }
        }
    }
    out
}

fn ifindex_by_name(host: &dyn HostSource) -> BTreeMap<String, u32> {
    interfaces::scan(host)
        .into_iter()
        .map(|i| (i.name, i.index))
        .collect()
}

fn ip_to_value4(a: &IpAddr) -> Option<[u8; 4]> {
    match a {
        IpAddr::V4(v) => Some(v.octets()),
        IpAddr::V6(_) => None,
    }
}

fn inet_type(a: &IpAddr) -> i32 {
    match a {
        IpAddr::V4(_) => 1,
        IpAddr::V6(_) => 2,
    }
}

fn inet_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

fn hex_mac(s: &str) -> Vec<u8> {
    s.split(':')
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect()
}

fn v6_from_hex(h: &str) -> Option<Ipv6Addr> {
    if h.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(h.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(Ipv6Addr::from(b))
}

/// A route: destination, prefix length, next hop, interface name, metric, reject flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dest: IpAddr,
    pub prefix_len: u32,
    pub next_hop: IpAddr,
    pub iface: String,
    pub metric: i32,
    pub reject: bool,
}

/// Parses /proc/net/route and /proc/net/ipv6_route.
pub fn parse_routes(v4: &str, v6: &str) -> Vec<Route> {
    const RTF_GATEWAY: u32 = 0x2;
    const RTF_REJECT: u32 = 0x200;
    let mut out = Vec::new();
    for l in v4.lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(iface), Some(dest), Some(gw), Some(flags), Some(metric), Some(mask)) = (
            f.first(),
            f.get(1).and_then(|h| parse_proc_addr(h)),
            f.get(2).and_then(|h| parse_proc_addr(h)),
            f.get(3).and_then(|h| u32::from_str_radix(h, 16).ok()),
            f.get(6).and_then(|m| m.parse::<i32>().ok()),
            f.get(7).and_then(|h| parse_proc_addr(h)),
        ) else {
            continue;
        };
        let prefix_len = match mask {
            IpAddr::V4(m) => u32::from(m).count_ones(),
            IpAddr::V6(_) => continue,
        };
        let _ = flags & RTF_GATEWAY;
        out.push(Route {
            dest,
            prefix_len,
            next_hop: gw,
            iface: iface.to_string(),
            metric,
            reject: flags & RTF_REJECT != 0,
        });
    }
    for l in v6.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(dest), Some(plen), Some(nh), Some(metric), Some(flags), Some(iface)) = (
            f.first().and_then(|h| v6_from_hex(h)),
            f.get(1).and_then(|h| u32::from_str_radix(h, 16).ok()),
            f.get(4).and_then(|h| v6_from_hex(h)),
            f.get(5).and_then(|h| u32::from_str_radix(h, 16).ok()),
            f.get(8).and_then(|h| u32::from_str_radix(h, 16).ok()),
            f.get(9),
        ) else {
            continue;
        };
        out.push(Route {
            dest: IpAddr::V6(dest),
            prefix_len: plen,
            next_hop: IpAddr::V6(nh),
            iface: iface.to_string(),
            metric: i32::try_from(metric).unwrap_or(i32::MAX),
            reject: flags & RTF_REJECT != 0,
        });
    }
    out
}

/// The ip group (scalars and tables) and inetCidrRouteTable.
pub fn ip_snapshot(host: &dyn HostSource, stack: &StackView) -> SnapshotData {
    let mut d = SnapshotData::new();
    let base = Oid::new(&IP);
    let stats = parse_net_snmp(&host.read("/proc/net/snmp").unwrap_or_default());
    if let Some(ip) = stats.get("Ip") {
        let names = [
            "Forwarding",
            "DefaultTTL",
            "InReceives",
            "InHdrErrors",
            "InAddrErrors",
            "ForwDatagrams",
            "InUnknownProtos",
            "InDiscards",
            "InDelivers",
            "OutRequests",
            "OutDiscards",
            "OutNoRoutes",
            "ReasmTimeout",
            "ReasmReqds",
            "ReasmOKs",
            "ReasmFails",
            "FragOKs",
            "FragFails",
            "FragCreates",
        ];
        for (i, n) in names.iter().enumerate() {
            let v = ip.get(*n).copied().unwrap_or(0);
            let sub = u32::try_from(i + 1).unwrap_or(0);
            let val = if matches!(sub, 1 | 2 | 13) {
                int(v)
            } else {
                c32(v)
            };
            d.scalar(base.child(&[sub]), val);
        }
        d.scalar(base.child(&[23]), Value::Counter32(0)); // ipRoutingDiscards
    }
    let ifidx = ifindex_by_name(host);
    // ipAddrTable (4.20) and ipAddressTable (4.34).
    let addr_entry = base.child(&[20, 1]);
    let address_entry = base.child(&[34, 1]);
    let mut addrs: Vec<(IpAddr, u32, u32)> = Vec::new(); // (address, ifIndex, prefix length)
    for (name, a, mask) in host.ipv4_addresses() {
        let Some(&ix) = ifidx.get(&name) else {
            continue;
        };
        let i = index::ipv4(a);
        d.cell(&addr_entry, 1, &i, Value::IpAddress(a));
        d.cell(&addr_entry, 2, &i, int(i64::from(ix)));
        d.cell(&addr_entry, 3, &i, Value::IpAddress(mask));
        d.cell(&addr_entry, 4, &i, Value::Integer(1));
        d.cell(&addr_entry, 5, &i, Value::Integer(65535));
        addrs.push((
            IpAddr::V4(Ipv4Addr::from(a)),
            ix,
            u32::from_be_bytes(mask).count_ones(),
        ));
    }
    for l in host.read("/proc/net/if_inet6").unwrap_or_default().lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if let (Some(a), Some(ix), Some(plen)) = (
            f.first().and_then(|h| v6_from_hex(h)),
            f.get(1).and_then(|h| u32::from_str_radix(h, 16).ok()),
            f.get(2).and_then(|h| u32::from_str_radix(h, 16).ok()),
        ) {
            addrs.push((IpAddr::V6(a), ix, plen));
        }
    }
    // Maynard's stack's addresses, on its interfaces' own ifIndex values.
    for i in &stack.ifaces {
        let Some((a, mask)) = i.addr else { continue };
        let ix = index::ipv4(a.octets());
        d.cell(&addr_entry, 1, &ix, Value::IpAddress(a.octets()));
        d.cell(&addr_entry, 2, &ix, int(i64::from(i.index)));
        d.cell(&addr_entry, 3, &ix, Value::IpAddress(mask.octets()));
        d.cell(&addr_entry, 4, &ix, Value::Integer(1));
        d.cell(&addr_entry, 5, &ix, Value::Integer(65535));
        addrs.push((IpAddr::V4(a), i.index, u32::from(mask).count_ones()));
    }
    for (a, ix, _plen) in &addrs {
        let mut i = vec![u32::try_from(inet_type(a)).unwrap_or(0)];
        i.extend(index::string(&inet_bytes(a)));
        d.cell(&address_entry, 3, &i, int(i64::from(*ix)));
        d.cell(&address_entry, 4, &i, Value::Integer(1)); // unicast
        d.cell(&address_entry, 5, &i, Value::ObjectId(Oid::new(&[0, 0])));
        d.cell(&address_entry, 6, &i, Value::Integer(2)); // manual
        d.cell(&address_entry, 7, &i, Value::Integer(1)); // preferred
        d.cell(&address_entry, 8, &i, Value::TimeTicks(0));
        d.cell(&address_entry, 9, &i, Value::TimeTicks(0));
        d.cell(&address_entry, 10, &i, Value::Integer(1)); // active
        d.cell(&address_entry, 11, &i, Value::Integer(2)); // volatile
    }
    // ipNetToMediaTable (4.22) and ipNetToPhysicalTable (4.35) from /proc/net/arp.
    let media = base.child(&[22, 1]);
    let phys = base.child(&[35, 1]);
    for l in host
        .read("/proc/net/arp")
        .unwrap_or_default()
        .lines()
        .skip(1)
    {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(ip), Some(flags), Some(mac), Some(dev)) = (
            f.first().and_then(|s| s.parse::<Ipv4Addr>().ok()),
            f.get(2)
                .and_then(|s| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()),
            f.get(3),
            f.get(5),
        ) else {
            continue;
        };
        let Some(&ix) = ifidx.get(*dev) else { continue };
        let complete = flags & 0x2 != 0;
        let permanent = flags & 0x4 != 0;
        let typ = if !complete {
            2
        } else if permanent {
            4
        } else {
            3
        };
        let mac = hex_mac(mac);
        let mut i = vec![ix];
        i.extend(index::ipv4(ip.octets()));
        d.cell(&media, 1, &i, int(i64::from(ix)));
        d.cell(&media, 2, &i, Value::OctetString(mac.clone()));
        d.cell(&media, 3, &i, Value::IpAddress(ip.octets()));
        d.cell(&media, 4, &i, Value::Integer(typ));
        let mut i = vec![ix, 1];
        i.extend(index::string(&ip.octets()));
        d.cell(&phys, 4, &i, Value::OctetString(mac));
        d.cell(&phys, 5, &i, Value::TimeTicks(0));
        d.cell(&phys, 6, &i, Value::Integer(typ));
        d.cell(&phys, 7, &i, Value::Integer(if complete { 1 } else { 7 }));
        d.cell(&phys, 8, &i, Value::Integer(1));
    }
    // inetCidrRouteNumber (4.24.6) and inetCidrRouteTable (4.24.7).
    let routes = parse_routes(
        &host.read("/proc/net/route").unwrap_or_default(),
        &host.read("/proc/net/ipv6_route").unwrap_or_default(),
    );
    let rt = base.child(&[24, 7, 1]);
    let mut n = 0u32;
    for r in &routes {
        let mut i = vec![u32::try_from(inet_type(&r.dest)).unwrap_or(0)];
        i.extend(index::string(&inet_bytes(&r.dest)));
        i.push(r.prefix_len);
        i.extend([2, 0, 0]); // inetCidrRoutePolicy: { 0 0 }
        let unspecified = r.next_hop.is_unspecified();
        i.push(u32::try_from(inet_type(&r.next_hop)).unwrap_or(0));
        i.extend(index::string(&inet_bytes(&r.next_hop)));
        if d.values.contains_key(&rt.child(&[7]).child(&i)) {
            continue; // the same route twice (e.g. in several tables)
        }
        n += 1;
        let typ = if r.reject {
            2
        } else if unspecified {
            3
        } else {
            4
        };
        let ix = ifidx.get(&r.iface).copied().unwrap_or(0);
        d.cell(&rt, 7, &i, int(i64::from(ix)));
        d.cell(&rt, 8, &i, Value::Integer(typ));
        d.cell(&rt, 9, &i, Value::Integer(2)); // local
        d.cell(&rt, 10, &i, Value::Gauge32(0));
        d.cell(&rt, 11, &i, Value::Gauge32(0));
        d.cell(&rt, 12, &i, Value::Integer(r.metric));
        for m in 13..=16 {
            d.cell(&rt, m, &i, Value::Integer(-1));
        }
        d.cell(&rt, 17, &i, Value::Integer(1));
    }
    d.scalar(base.child(&[24, 6]), Value::Gauge32(n));
    d
}

/// The icmp group (RFC 1213 objects 1-26).
pub fn icmp_snapshot(host: &dyn HostSource) -> SnapshotData {
    let mut d = SnapshotData::new();
    let stats = parse_net_snmp(&host.read("/proc/net/snmp").unwrap_or_default());
    let Some(icmp) = stats.get("Icmp") else {
        return d;
    };
    let names = [
        "InMsgs",
        "InErrors",
        "InDestUnreachs",
        "InTimeExcds",
        "InParmProbs",
        "InSrcQuenchs",
        "InRedirects",
        "InEchos",
        "InEchoReps",
        "InTimestamps",
        "InTimestampReps",
        "InAddrMasks",
        "InAddrMaskReps",
        "OutMsgs",
        "OutErrors",
        "OutDestUnreachs",
        "OutTimeExcds",
        "OutParmProbs",
        "OutSrcQuenchs",
        "OutRedirects",
        "OutEchos",
        "OutEchoReps",
        "OutTimestamps",
        "OutTimestampReps",
        "OutAddrMasks",
        "OutAddrMaskReps",
    ];
    for (i, n) in names.iter().enumerate() {
        let sub = u32::try_from(i + 1).unwrap_or(0);
        d.scalar(
            Oid::new(&ICMP).child(&[sub]),
            c32(icmp.get(*n).copied().unwrap_or(0)),
        );
    }
    d
}

fn endpoint_index(a: &IpAddr, port: u16) -> Vec<u32> {
    let mut i = vec![u32::try_from(inet_type(a)).unwrap_or(0)];
    i.extend(index::string(&inet_bytes(a)));
    i.push(u32::from(port));
    i
}

/// The udp group: scalars, udpTable (IPv4) and udpEndpointTable, the host's and the stack's
/// together (the scalars are sums, the stack's sockets are rows owned by this process).
pub fn udp_snapshot(host: &dyn HostSource, stack: &StackView) -> SnapshotData {
    let mut d = SnapshotData::new();
    let base = Oid::new(&UDP);
    let stats = parse_net_snmp(&host.read("/proc/net/snmp").unwrap_or_default());
    let s = stack.udp_stats.unwrap_or_default();
    if let Some(u) = stats.get("Udp") {
        let g = |n: &str| u.get(n).copied().unwrap_or(0);
        // Wrapping, like any Counter32: the sum of two counters is a counter.
        let plus = |n: &str, stack: u64| g(n).wrapping_add(stack as i64);
        for (sub, v) in [
            (1, plus("InDatagrams", s.in_datagrams)),
            (2, plus("NoPorts", s.no_ports)),
            (3, plus("InErrors", s.in_errors)),
            (4, plus("OutDatagrams", s.out_datagrams)),
        ] {
            d.scalar(base.child(&[sub]), c32(v));
        }
    }
    let old = base.child(&[5, 1]);
    let ep = base.child(&[7, 1]);
    let owners = socket_owners(host);
    let me = std::process::id();
    let host_socks = sockets(host, &["udp", "udp6"]).into_iter().map(|s| {
        let pid = owners.get(&s.inode).copied().unwrap_or(0);
        (s.local, s.remote, pid)
    });
    // The stack lives in this process: its sockets are ours.
    let stack_socks = stack.udp.iter().map(|u| {
        (
            (IpAddr::V4(u.local.0), u.local.1),
            (IpAddr::V4(u.remote.0), u.remote.1),
            me,
        )
    });
    for (local, remote, pid) in host_socks.chain(stack_socks) {
        if let Some(la) = ip_to_value4(&local.0) {
            let mut i = index::ipv4(la);
            i.push(u32::from(local.1));
            d.cell(&old, 1, &i, Value::IpAddress(la));
            d.cell(&old, 2, &i, int(i64::from(local.1)));
        }
        let mut i = endpoint_index(&local.0, local.1);
        i.extend(endpoint_index(&remote.0, remote.1));
        // udpEndpointInstance: distinguishes sockets bound to the same endpoints.
        let mut inst = 1u32;
        while d
            .values
            .contains_key(&ep.child(&[8]).child(&i).child(&[inst]))
        {
            inst += 1;
        }
        i.push(inst);
        d.cell(&ep, 8, &i, Value::Gauge32(pid));
    }
    d
}

/// The handlers and their subtrees.
pub fn handlers(host: Arc<dyn HostSource>, stack: StackViewCell) -> Vec<(Oid, Box<dyn Handler>)> {
    let (h1, h2, h4) = (host.clone(), host.clone(), host.clone());
    let (s1, s4) = (stack.clone(), stack.clone());
    vec![
        (
            Oid::new(&IP),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| {
                ip_snapshot(&*h1, &s1.get())
            })) as Box<dyn Handler>,
        ),
        (
            Oid::new(&ICMP),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| icmp_snapshot(&*h2))),
        ),
        (
            Oid::new(&TCP),
            Box::new(crate::mib::tcp::TcpGroup::new(host, stack, TTL)),
        ),
        (
            Oid::new(&UDP),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| {
                udp_snapshot(&*h4, &s4.get())
            })),
        ),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::host::FakeHost;

    pub(crate) fn fake() -> FakeHost {
        let mut h = FakeHost::new()
            .file("/sys/class/net/lo/ifindex", "1\n")
            .file("/sys/class/net/eth0/ifindex", "2\n")
            .file(
                "/proc/net/snmp",
                "Ip: Forwarding DefaultTTL InReceives\nIp: 2 64 1234\nIcmp: InMsgs InErrors\nIcmp: 5 1\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\nTcp: 1 200 120000 -1 10 20 0 1 3 999\nUdp: InDatagrams NoPorts InErrors OutDatagrams\nUdp: 7 8 9 10\n",
            )
            .file(
                "/proc/net/tcp",
                "  sl  local_address rem_address   st tx_queue rx_queue\n   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234\n   1: 0100007F:0016 0100007F:D431 01 00000000:00000000\n",
            )
            .file(
                "/proc/net/tcp6",
                "  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 0\n",
            )
            .file(
                "/proc/net/udp",
                "  sl  local_address rem_address   st\n  1: 00000000:00A1 00000000:0000 07 0\n  2: 00000000:00A1 00000000:0000 07 0\n",
            )
            .file(
                "/proc/net/arp",
                "IP address       HW type     Flags       HW address            Mask     Device\n10.0.2.2         0x1         0x2         52:55:0a:00:02:02     *        eth0\n",
            )
            .file(
                "/proc/net/route",
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\neth0\t0002000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n",
            )
            .file(
                "/proc/net/if_inet6",
                "00000000000000000000000000000001 01 80 10 80       lo\n",
            );
        h.v4 = vec![("eth0".into(), [10, 0, 2, 15], [255, 255, 255, 0])];
        h.links
            .insert("/proc/77/fd/3".into(), "socket:[1234]".into());
        h.links.insert("/proc/77/fd/0".into(), "/dev/null".into());
        h
    }

    #[test]
    fn ip_group() {
        let d = ip_snapshot(&fake(), &StackView::default());
        let g = |a: &[u32]| d.get(&Oid::new(&IP).child(a));
        assert_eq!(g(&[1, 0]), Value::Integer(2));
        assert_eq!(g(&[2, 0]), Value::Integer(64));
        assert_eq!(g(&[3, 0]), Value::Counter32(1234));
        assert_eq!(g(&[20, 1, 2, 10, 0, 2, 15]), Value::Integer(2));
        assert_eq!(
            g(&[20, 1, 3, 10, 0, 2, 15]),
            Value::IpAddress([255, 255, 255, 0])
        );
        assert_eq!(g(&[34, 1, 3, 1, 4, 10, 0, 2, 15]), Value::Integer(2));
        let mut v6 = vec![34, 1, 3, 2, 16];
        v6.extend([0; 15]);
        v6.push(1);
        assert_eq!(g(&v6), Value::Integer(1));
        assert_eq!(
            g(&[22, 1, 2, 2, 10, 0, 2, 2]),
            Value::OctetString(vec![0x52, 0x55, 0x0a, 0, 2, 2])
        );
        assert_eq!(g(&[35, 1, 6, 2, 1, 4, 10, 0, 2, 2]), Value::Integer(3));
        assert_eq!(g(&[24, 6, 0]), Value::Gauge32(2));
        // default route via 10.0.2.2: remote
        assert_eq!(
            g(&[24, 7, 1, 8, 1, 4, 0, 0, 0, 0, 0, 2, 0, 0, 1, 4, 10, 0, 2, 2]),
            Value::Integer(4)
        );
        // the connected /24: local
        assert_eq!(
            g(&[24, 7, 1, 7, 1, 4, 10, 0, 2, 0, 24, 2, 0, 0, 1, 4, 0, 0, 0, 0]),
            Value::Integer(2)
        );
    }

    #[test]
    fn udp_and_icmp() {
        let h = fake();
        let u = udp_snapshot(&h, &StackView::default());
        let g = |a: &[u32]| u.get(&Oid::new(&UDP).child(a));
        assert_eq!(g(&[4, 0]), Value::Counter32(10));
        assert_eq!(g(&[5, 1, 2, 0, 0, 0, 0, 161]), Value::Integer(161));
        assert_eq!(
            g(&[7, 1, 8, 1, 4, 0, 0, 0, 0, 161, 1, 4, 0, 0, 0, 0, 0, 2]),
            Value::Gauge32(0)
        );
        // With Maynard's stack: its sockets are rows of this process, its counters add up.
        let stack = StackView {
            udp: vec![crate::mib::stack::StackUdp {
                local: (std::net::Ipv4Addr::new(192, 0, 2, 2), 7),
                remote: (std::net::Ipv4Addr::UNSPECIFIED, 0),
            }],
            udp_stats: Some(crate::mib::stack::StackUdpStats {
                in_datagrams: 5,
                no_ports: 1,
                in_errors: 0,
                out_datagrams: 4,
            }),
            ..StackView::default()
        };
        let u = udp_snapshot(&h, &stack);
        let g = |a: &[u32]| u.get(&Oid::new(&UDP).child(a));
        assert_eq!(g(&[1, 0]), Value::Counter32(7 + 5));
        assert_eq!(g(&[4, 0]), Value::Counter32(10 + 4));
        assert_eq!(
            g(&[5, 1, 1, 192, 0, 2, 2, 7]),
            Value::IpAddress([192, 0, 2, 2])
        );
        assert_eq!(
            g(&[7, 1, 8, 1, 4, 192, 0, 2, 2, 7, 1, 4, 0, 0, 0, 0, 0, 1]),
            Value::Gauge32(std::process::id())
        );
        let i = icmp_snapshot(&h);
        assert_eq!(i.get(&Oid::new(&ICMP).child(&[2, 0])), Value::Counter32(1));
    }
}
