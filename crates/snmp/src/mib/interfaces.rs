//! IF-MIB: ifNumber, ifTable (1.3.6.1.2.1.2) and ifXTable (1.3.6.1.2.1.31.1.1) from
//! /sys/class/net and /proc/net/dev, plus the interfaces of Maynard's own stack (lo0, se<n>,
//! pd<n>) from [`StackView`], on ifIndex values from [`crate::mib::stack::IFINDEX_BASE`].

use crate::host::HostSource;
use crate::mib::stack::{StackIf, StackView, StackViewCell};
use crate::oid::Oid;
use crate::registry::{Ctx, Handler, Snapshot, SnapshotData};
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const INTERFACES: [u32; 7] = [1, 3, 6, 1, 2, 1, 2];
pub const IF_X_TABLE: [u32; 9] = [1, 3, 6, 1, 2, 1, 31, 1, 1];

/// How long an interface scan is reused.
pub const TTL: Duration = Duration::from_secs(1);

const IFF_UP: u64 = 0x1;
const IFF_PROMISC: u64 = 0x100;

/// /proc/net/dev counters of one interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DevCounters {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errs: u64,
    pub rx_drop: u64,
    pub rx_multicast: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errs: u64,
    pub tx_drop: u64,
}

/// Parses /proc/net/dev.
pub fn parse_proc_net_dev(s: &str) -> BTreeMap<String, DevCounters> {
    let mut out = BTreeMap::new();
    for line in s.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let f: Vec<u64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        let g = |i: usize| f.get(i).copied().unwrap_or(0);
        out.insert(
            name.trim().to_string(),
            DevCounters {
                rx_bytes: g(0),
                rx_packets: g(1),
                rx_errs: g(2),
                rx_drop: g(3),
                rx_multicast: g(7),
                tx_bytes: g(8),
                tx_packets: g(9),
                tx_errs: g(10),
                tx_drop: g(11),
            },
        );
    }
    out
}

/// What the host says about one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfInfo {
    pub index: u32,
    pub name: String,
    pub arphrd: u32,
    pub mtu: u32,
    /// Mbit/s, if known.
    pub speed_mbps: Option<u64>,
    pub address: Vec<u8>,
    pub flags: u64,
    pub operstate: String,
    pub alias: String,
    pub tx_queue_len: u32,
    pub has_device: bool,
    pub counters: DevCounters,
}

impl IfInfo {
    /// IANAifType.
    pub fn if_type(&self) -> i32 {
        match self.arphrd {
            1 => 6,      // ethernetCsmacd
            772 => 24,   // softwareLoopback
            512 => 23,   // ppp
            768 => 131,  // tunnel (ipip)
            776 => 131,  // sit
            778 => 131,  // gre
            823 => 131,  // ip6gre
            65534 => 53, // none: propVirtual (tun)
            _ => 1,      // other
        }
    }

    pub fn admin_status(&self) -> i32 {
        if self.flags & IFF_UP != 0 {
            1
        } else {
            2
        }
    }

    pub fn oper_status(&self) -> i32 {
        match self.operstate.as_str() {
            "up" => 1,
            "down" => 2,
            "testing" => 3,
            "dormant" => 5,
            "notpresent" => 6,
            "lowerlayerdown" => 7,
            // Loopback and tun devices say "unknown": up when administratively up (sysfs
            // flags omit IFF_RUNNING).
            _ if self.flags & IFF_UP != 0 => 1,
            _ if self.flags & IFF_UP == 0 => 2,
            _ => 4,
        }
    }

    /// ifSpeed in bit/s (Gauge32, saturating), loopback 10 Mbit/s as net-snmp reports.
    pub fn speed_bps(&self) -> u32 {
        let mbps = self
            .speed_mbps
            .unwrap_or(if self.arphrd == 772 { 10 } else { 0 });
        u32::try_from(mbps.saturating_mul(1_000_000)).unwrap_or(u32::MAX)
    }
}

fn num<T: std::str::FromStr>(host: &dyn HostSource, path: &str) -> Option<T> {
    host.read(path).and_then(|s| {
        let t = s.trim();
        t.strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .and_then(|v| v.to_string().parse().ok())
            .or_else(|| t.parse().ok())
    })
}

fn mac(s: &str) -> Vec<u8> {
    s.trim()
        .split(':')
        .filter(|p| !p.is_empty())
        .map(|p| u8::from_str_radix(p, 16).unwrap_or(0))
        .collect()
}

/// Scans the host's interfaces, ordered by ifIndex.
pub fn scan(host: &dyn HostSource) -> Vec<IfInfo> {
    let counters = host
        .read("/proc/net/dev")
        .map(|s| parse_proc_net_dev(&s))
        .unwrap_or_default();
    let mut out = Vec::new();
    for name in host.list("/sys/class/net") {
        let d = format!("/sys/class/net/{name}");
        let Some(index) = num::<u32>(host, &format!("{d}/ifindex")) else {
            continue;
        };
        let address = host
            .read(&format!("{d}/address"))
            .map(|s| mac(&s))
            .unwrap_or_default();
        let zero_mac = address.iter().all(|&b| b == 0);
        out.push(IfInfo {
            index,
            arphrd: num(host, &format!("{d}/type")).unwrap_or(0),
            mtu: num(host, &format!("{d}/mtu")).unwrap_or(0),
            speed_mbps: num::<i64>(host, &format!("{d}/speed")).and_then(|v| u64::try_from(v).ok()),
            address: if zero_mac { Vec::new() } else { address },
            flags: num(host, &format!("{d}/flags")).unwrap_or(0),
            operstate: host
                .read(&format!("{d}/operstate"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            alias: host
                .read(&format!("{d}/ifalias"))
                .map(|s| s.trim_end_matches('\n').to_string())
                .unwrap_or_default(),
            tx_queue_len: num(host, &format!("{d}/tx_queue_len")).unwrap_or(0),
            has_device: host.read(&format!("{d}/device/uevent")).is_some(),
            counters: counters.get(&name).copied().unwrap_or_default(),
            name,
        });
    }
    out.sort_by_key(|i| i.index);
    out
}

fn c32(v: u64) -> Value {
    Value::Counter32((v & 0xffff_ffff) as u32)
}

fn truth(b: bool) -> Value {
    Value::Integer(if b { 1 } else { 2 })
}

/// ifSpeed of a stack interface: loopback 10 Mbit/s as Linux's; a TAP or packet link has no
/// speed to report.
fn stack_speed_mbps(i: &StackIf) -> u32 {
    if i.if_type == 24 {
        10
    } else {
        0
    }
}

fn stack_status(up: bool) -> Value {
    Value::Integer(if up { 1 } else { 2 })
}

/// ifTable rows of the stack's interfaces.
fn stack_if_rows(d: &mut SnapshotData, entry: &Oid, stack: &StackView) {
    for i in &stack.ifaces {
        let idx = [i.index];
        let c = &i.counters;
        let cols: [(u32, Value); 22] = [
            (
                1,
                Value::Integer(i32::try_from(i.index).unwrap_or(i32::MAX)),
            ),
            (2, Value::string(&i.name)),
            (3, Value::Integer(i.if_type)),
            (4, Value::Integer(i32::try_from(i.mtu).unwrap_or(i32::MAX))),
            (5, Value::Gauge32(stack_speed_mbps(i) * 1_000_000)),
            (6, Value::OctetString(i.phys.clone())),
            (7, stack_status(i.admin_up)),
            (8, stack_status(i.oper_up)),
            (9, Value::TimeTicks(0)),
            (10, c32(c.in_octets)),
            (11, c32(c.in_ucast)),
            (12, c32(c.in_mcast.wrapping_add(c.in_bcast))),
            (13, c32(c.in_discards)),
            (14, c32(c.in_errors)),
            (15, c32(c.in_unknown_protos)),
            (16, c32(c.out_octets)),
            (17, c32(c.out_ucast)),
            (18, c32(c.out_mcast.wrapping_add(c.out_bcast))),
            (19, c32(c.out_discards)),
            (20, c32(c.out_errors)),
            (21, Value::Gauge32(0)),
            (22, Value::ObjectId(Oid::new(&[0, 0]))),
        ];
        for (col, v) in cols {
            d.cell(entry, col, &idx, v);
        }
    }
}

/// ifXTable rows of the stack's interfaces (the HC counters straight from the stack's 64-bit
/// ones).
fn stack_if_x_rows(d: &mut SnapshotData, entry: &Oid, stack: &StackView) {
    for i in &stack.ifaces {
        let idx = [i.index];
        let c = &i.counters;
        let cols: [(u32, Value); 19] = [
            (1, Value::string(&i.name)),
            (2, c32(c.in_mcast)),
            (3, c32(c.in_bcast)),
            (4, c32(c.out_mcast)),
            (5, c32(c.out_bcast)),
            (6, Value::Counter64(c.in_octets)),
            (7, Value::Counter64(c.in_ucast)),
            (8, Value::Counter64(c.in_mcast)),
            (9, Value::Counter64(c.in_bcast)),
            (10, Value::Counter64(c.out_octets)),
            (11, Value::Counter64(c.out_ucast)),
            (12, Value::Counter64(c.out_mcast)),
            (13, Value::Counter64(c.out_bcast)),
            // The agent sends linkUp/linkDown for the stack's interfaces.
            (14, Value::Integer(1)),
            (15, Value::Gauge32(stack_speed_mbps(i))),
            (16, truth(false)),
            (17, truth(i.if_type == 6)),
            (18, Value::string("")),
            (19, Value::TimeTicks(0)),
        ];
        for (col, v) in cols {
            d.cell(entry, col, &idx, v);
        }
    }
}

/// ifNumber and ifTable: the host's interfaces, then the stack's.
pub fn interfaces_snapshot(ifs: &[IfInfo], stack: &StackView) -> SnapshotData {
    let mut d = SnapshotData::new();
    let base = Oid::new(&INTERFACES);
    d.scalar(
        base.child(&[1]),
        Value::Integer(i32::try_from(ifs.len() + stack.ifaces.len()).unwrap_or(i32::MAX)),
    );
    let entry = base.child(&[2, 1]);
    stack_if_rows(&mut d, &entry, stack);
    for i in ifs {
        let idx = [i.index];
        let c = &i.counters;
        let ucast_in = c.rx_packets.saturating_sub(c.rx_multicast);
        let cols: [(u32, Value); 22] = [
            (
                1,
                Value::Integer(i32::try_from(i.index).unwrap_or(i32::MAX)),
            ),
            (2, Value::string(&i.name)),
            (3, Value::Integer(i.if_type())),
            (4, Value::Integer(i32::try_from(i.mtu).unwrap_or(i32::MAX))),
            (5, Value::Gauge32(i.speed_bps())),
            (6, Value::OctetString(i.address.clone())),
            (7, Value::Integer(i.admin_status())),
            (8, Value::Integer(i.oper_status())),
            (9, Value::TimeTicks(0)),
            (10, c32(c.rx_bytes)),
            (11, c32(ucast_in)),
            (12, c32(c.rx_multicast)),
            (13, c32(c.rx_drop)),
            (14, c32(c.rx_errs)),
            (15, Value::Counter32(0)),
            (16, c32(c.tx_bytes)),
            (17, c32(c.tx_packets)),
            (18, Value::Counter32(0)),
            (19, c32(c.tx_drop)),
            (20, c32(c.tx_errs)),
            (21, Value::Gauge32(i.tx_queue_len)),
            (22, Value::ObjectId(Oid::new(&[0, 0]))),
        ];
        for (col, v) in cols {
            d.cell(&entry, col, &idx, v);
        }
    }
    d
}

/// ifXTable: the host's interfaces, then the stack's.
pub fn if_x_snapshot(ifs: &[IfInfo], stack: &StackView) -> SnapshotData {
    let mut d = SnapshotData::new();
    let entry = Oid::new(&IF_X_TABLE).child(&[1]);
    stack_if_x_rows(&mut d, &entry, stack);
    for i in ifs {
        let idx = [i.index];
        let c = &i.counters;
        let ucast_in = c.rx_packets.saturating_sub(c.rx_multicast);
        let high = i.speed_mbps.unwrap_or(if i.arphrd == 772 { 10 } else { 0 });
        let cols: [(u32, Value); 19] = [
            (1, Value::string(&i.name)),
            (2, c32(c.rx_multicast)),
            (3, Value::Counter32(0)),
            (4, Value::Counter32(0)),
            (5, Value::Counter32(0)),
            (6, Value::Counter64(c.rx_bytes)),
            (7, Value::Counter64(ucast_in)),
            (8, Value::Counter64(c.rx_multicast)),
            (9, Value::Counter64(0)),
            (10, Value::Counter64(c.tx_bytes)),
            (11, Value::Counter64(c.tx_packets)),
            (12, Value::Counter64(0)),
            (13, Value::Counter64(0)),
            (14, Value::Integer(if i.arphrd == 772 { 2 } else { 1 })),
            (15, Value::Gauge32(u32::try_from(high).unwrap_or(u32::MAX))),
            (16, truth(i.flags & IFF_PROMISC != 0)),
            (17, truth(i.has_device)),
            (18, Value::string(&i.alias)),
            (19, Value::TimeTicks(0)),
        ];
        for (col, v) in cols {
            d.cell(&entry, col, &idx, v);
        }
    }
    d
}

/// The IF-MIB handlers and the subtrees they register at.
pub fn handlers(host: Arc<dyn HostSource>, stack: StackViewCell) -> Vec<(Oid, Box<dyn Handler>)> {
    let h1 = host.clone();
    let h2 = host;
    let s1 = stack.clone();
    let s2 = stack;
    vec![
        (
            Oid::new(&INTERFACES),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| {
                interfaces_snapshot(&scan(&*h1), &s1.get())
            })) as Box<dyn Handler>,
        ),
        (
            Oid::new(&IF_X_TABLE),
            Box::new(Snapshot::new(TTL, move |_: &Ctx| {
                if_x_snapshot(&scan(&*h2), &s2.get())
            })),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;

    pub fn fake() -> FakeHost {
        FakeHost::new()
            .file(
                "/proc/net/dev",
                "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo: 1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n  eth0: 5000000000 700 1 2 0 0 0 30 6000 800 3 4 0 0 0 0\n",
            )
            .file("/sys/class/net/lo/ifindex", "1\n")
            .file("/sys/class/net/lo/type", "772\n")
            .file("/sys/class/net/lo/mtu", "65536\n")
            .file("/sys/class/net/lo/flags", "0x9\n")
            .file("/sys/class/net/lo/operstate", "unknown\n")
            .file("/sys/class/net/lo/address", "00:00:00:00:00:00\n")
            .file("/sys/class/net/eth0/ifindex", "2\n")
            .file("/sys/class/net/eth0/type", "1\n")
            .file("/sys/class/net/eth0/mtu", "1500\n")
            .file("/sys/class/net/eth0/speed", "1000\n")
            .file("/sys/class/net/eth0/flags", "0x1003\n")
            .file("/sys/class/net/eth0/operstate", "down\n")
            .file("/sys/class/net/eth0/address", "52:54:00:12:34:56\n")
            .file("/sys/class/net/eth0/ifalias", "uplink\n")
            .file("/sys/class/net/eth0/device/uevent", "x")
    }

    #[test]
    fn table_from_fake_host() {
        let host = fake();
        let ifs = scan(&host);
        assert_eq!(ifs.len(), 2);
        let d = interfaces_snapshot(&ifs, &StackView::default());
        let g = |a: &[u32]| d.get(&Oid::new(&INTERFACES).child(a));
        assert_eq!(g(&[1, 0]), Value::Integer(2));
        assert_eq!(g(&[2, 1, 2, 2]), Value::string("eth0"));
        assert_eq!(g(&[2, 1, 3, 1]), Value::Integer(24));
        assert_eq!(g(&[2, 1, 5, 2]), Value::Gauge32(1_000_000_000));
        assert_eq!(
            g(&[2, 1, 6, 2]),
            Value::OctetString(vec![0x52, 0x54, 0, 0x12, 0x34, 0x56])
        );
        assert_eq!(g(&[2, 1, 6, 1]), Value::OctetString(vec![]));
        assert_eq!(g(&[2, 1, 8, 1]), Value::Integer(1));
        assert_eq!(g(&[2, 1, 8, 2]), Value::Integer(2));
        assert_eq!(
            g(&[2, 1, 10, 2]),
            Value::Counter32((5_000_000_000u64 & 0xffff_ffff) as u32)
        );
        assert_eq!(g(&[2, 1, 11, 2]), Value::Counter32(670));
        assert_eq!(g(&[2, 1, 2, 3]), Value::NoSuchInstance);
        let x = if_x_snapshot(&ifs, &StackView::default());
        let g = |a: &[u32]| x.get(&Oid::new(&IF_X_TABLE).child(a));
        assert_eq!(g(&[1, 6, 2]), Value::Counter64(5_000_000_000));
        assert_eq!(g(&[1, 18, 2]), Value::string("uplink"));
        assert_eq!(g(&[1, 15, 2]), Value::Gauge32(1000));
        assert_eq!(g(&[1, 17, 2]), Value::Integer(1));
    }

    #[test]
    fn stack_interfaces_after_the_hosts() {
        use crate::mib::stack::{StackIfCounters, IFINDEX_BASE};
        let view = StackView {
            ifaces: vec![
                StackIf {
                    index: IFINDEX_BASE,
                    name: "lo0".into(),
                    if_type: 24,
                    mtu: 1536,
                    admin_up: true,
                    oper_up: true,
                    ..StackIf::default()
                },
                StackIf {
                    index: IFINDEX_BASE + 1,
                    name: "se0".into(),
                    if_type: 6,
                    mtu: 1500,
                    phys: vec![2, 0, 0, 0, 0, 1],
                    admin_up: true,
                    oper_up: false,
                    counters: StackIfCounters {
                        in_octets: 5_000_000_000,
                        in_ucast: 7,
                        in_bcast: 2,
                        out_errors: 3,
                        ..StackIfCounters::default()
                    },
                    ..StackIf::default()
                },
            ],
            ..StackView::default()
        };
        let ifs = scan(&fake());
        let d = interfaces_snapshot(&ifs, &view);
        let g = |a: &[u32]| d.get(&Oid::new(&INTERFACES).child(a));
        assert_eq!(g(&[1, 0]), Value::Integer(4));
        assert_eq!(g(&[2, 1, 2, 1001]), Value::string("se0"));
        assert_eq!(g(&[2, 1, 3, 1000]), Value::Integer(24));
        assert_eq!(g(&[2, 1, 3, 1001]), Value::Integer(6));
        assert_eq!(g(&[2, 1, 4, 1001]), Value::Integer(1500));
        assert_eq!(
            g(&[2, 1, 6, 1001]),
            Value::OctetString(vec![2, 0, 0, 0, 0, 1])
        );
        assert_eq!(g(&[2, 1, 8, 1001]), Value::Integer(2));
        assert_eq!(g(&[2, 1, 12, 1001]), Value::Counter32(2));
        assert_eq!(g(&[2, 1, 20, 1001]), Value::Counter32(3));
        // The host's rows are still there, first in a walk.
        assert_eq!(g(&[2, 1, 2, 2]), Value::string("eth0"));
        let first = d
            .next(&Oid::new(&INTERFACES).child(&[2, 1, 2]))
            .map(|v| v.oid);
        assert_eq!(first, Some(Oid::new(&INTERFACES).child(&[2, 1, 2, 1])));
        let x = if_x_snapshot(&ifs, &view);
        let g = |a: &[u32]| x.get(&Oid::new(&IF_X_TABLE).child(a));
        assert_eq!(g(&[1, 1, 1001]), Value::string("se0"));
        assert_eq!(g(&[1, 6, 1001]), Value::Counter64(5_000_000_000));
        assert_eq!(g(&[1, 7, 1001]), Value::Counter64(7));
        assert_eq!(g(&[1, 17, 1000]), Value::Integer(2));
    }
}
