//! TCP-MIB: the tcp scalars, tcpConnTable (IPv4), tcpConnectionTable and tcpListenerTable, from
//! the host's /proc/net/tcp{,6} and Maynard's stack ([`StackView`]).
//!
//! The tables keep one compact row per socket (addresses, ports, state, owner: about 48 bytes)
//! and build the instance OIDs on demand in get and next. A snapshot of full OIDs and values
//! per cell (7 per connection) cost about 47 MB of resident memory for 20,000 host sockets;
//! compact rows cost about 1.2 MB (`cargo run --release -p snmp --example tcp_table_rss`).
//!
//! The scalars are the agent's entity's, host and stack together: the counters are the sums of
//! the host's (/proc/net/snmp) and the stack's, so tcpCurrEstab agrees with the table, which
//! lists the connections of both. RtoAlgorithm, RtoMin, RtoMax and MaxConn are the host's.

use crate::host::HostSource;
use crate::mib::ip::{parse_net_snmp, parse_sockets, socket_owners, tcp_state, Sock};
use crate::mib::stack::{StackView, StackViewCell};
use crate::oid::Oid;
use crate::registry::{Ctx, Handler, SnapshotData, TtlCache};
use crate::value::{Value, VarBind};
use std::net::IpAddr;
use std::sync::Arc;

pub use crate::mib::ip::TCP;
const LISTEN: i32 = 2;
const CONN_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 6, 13, 1];
const CONNECTION_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 6, 19, 1];
const LISTENER_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 6, 20, 1];

/// One socket, compact: the OIDs of its cells are built when asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Conn {
    pub local: IpAddr,
    pub lport: u16,
    pub remote: IpAddr,
    pub rport: u16,
    /// tcpConnectionState.
    pub state: i32,
    /// The owning process (0 when unknown).
    pub pid: u32,
}

fn inet_index(out: &mut Vec<u32>, a: &IpAddr, port: u16) {
    match a {
        IpAddr::V4(v) => {
            out.extend([1, 4]);
            out.extend(v.octets().map(u32::from));
        }
        IpAddr::V6(v) => {
            out.extend([2, 16]);
            out.extend(v.octets().map(u32::from));
        }
    }
    out.push(u32::from(port));
}

fn conn_index(c: &Conn) -> Vec<u32> {
    let mut i = Vec::with_capacity(10);
    for (a, p) in [(&c.local, c.lport), (&c.remote, c.rport)] {
        if let IpAddr::V4(v) = a {
            i.extend(v.octets().map(u32::from));
        }
        i.push(u32::from(p));
    }
    i
}

fn connection_index(c: &Conn) -> Vec<u32> {
    let mut i = Vec::with_capacity(40);
    inet_index(&mut i, &c.local, c.lport);
    inet_index(&mut i, &c.remote, c.rport);
    i
}

fn listener_index(c: &Conn) -> Vec<u32> {
    let mut i = Vec::with_capacity(20);
    inet_index(&mut i, &c.local, c.lport);
    i
}

fn ipv4(a: &IpAddr) -> Value {
    match a {
        IpAddr::V4(v) => Value::IpAddress(v.octets()),
        IpAddr::V6(_) => Value::IpAddress([0; 4]),
    }
}

fn conn_value(c: &Conn, col: u32) -> Value {
    match col {
        1 => Value::Integer(c.state),
        2 => ipv4(&c.local),
        3 => Value::Integer(i32::from(c.lport)),
        4 => ipv4(&c.remote),
        _ => Value::Integer(i32::from(c.rport)),
    }
}

fn connection_value(c: &Conn, col: u32) -> Value {
    match col {
        7 => Value::Integer(c.state),
        _ => Value::Gauge32(c.pid),
    }
}

fn listener_value(c: &Conn, _col: u32) -> Value {
    Value::Gauge32(c.pid)
}

/// One table over the shared rows: which rows it shows (positions into the rows, in index
/// order), its columns, and how a row's index and cells are made.
struct TableView<'a> {
    entry: &'a [u32],
    columns: &'a [u32],
    rows: &'a [Conn],
    members: &'a [u32],
    index: fn(&Conn) -> Vec<u32>,
    value: fn(&Conn, u32) -> Value,
}

impl TableView<'_> {
    fn row(&self, at: usize) -> Option<&Conn> {
        self.members
            .get(at)
            .and_then(|&p| self.rows.get(p as usize))
    }

    fn cell(&self, col: u32, c: &Conn) -> VarBind {
        let mut arcs = self.entry.to_vec();
        arcs.push(col);
        arcs.extend((self.index)(c));
        VarBind::new(Oid::new(&arcs), (self.value)(c, col))
    }

    /// The first row whose index is greater than `rest`.
    fn first_after(&self, rest: &[u32]) -> usize {
        self.members.partition_point(|&p| {
            self.rows
                .get(p as usize)
                .is_some_and(|c| (self.index)(c).as_slice() <= rest)
        })
    }

    fn next(&self, after: &Oid) -> Option<VarBind> {
        let a = after.arcs();
        let e = self.entry;
        let (mut col_at, mut row_at) = (0usize, 0usize);
        if a.len() > e.len() && a.starts_with(e) {
            let c = a[e.len()];
            col_at = self.columns.partition_point(|&x| x < c);
            if self.columns.get(col_at) == Some(&c) {
                row_at = self.first_after(&a[e.len() + 1..]);
            }
        } else if a > e {
            return None;
        }
        while let Some(&col) = self.columns.get(col_at) {
            if let Some(c) = self.row(row_at) {
                return Some(self.cell(col, c));
            }
            col_at += 1;
            row_at = 0;
        }
        None
    }

    fn get(&self, oid: &Oid) -> Value {
        let a = oid.arcs();
        let e = self.entry;
        let Some(&col) = a.get(e.len()) else {
            return Value::NoSuchObject;
        };
        if !self.columns.contains(&col) {
            return Value::NoSuchObject;
        }
        let rest = &a[e.len() + 1..];
        let at = self.first_after(rest).checked_sub(1);
        match at.and_then(|i| self.row(i)) {
            Some(c) if (self.index)(c).as_slice() == rest => (self.value)(c, col),
            _ => Value::NoSuchInstance,
        }
    }
}

/// The tcp group at one moment.
#[derive(Debug, Default)]
pub struct TcpData {
    scalars: SnapshotData,
    /// Every socket, sorted by (local, local port, remote, remote port): that is the index
    /// order of all three tables (IPv4 before IPv6, addresses bytewise).
    rows: Vec<Conn>,
    conn: Vec<u32>,
    connection: Vec<u32>,
    listener: Vec<u32>,
}

impl TcpData {
    fn tables(&self) -> [TableView<'_>; 3] {
        [
            TableView {
                entry: &CONN_ENTRY,
                columns: &[1, 2, 3, 4, 5],
                rows: &self.rows,
                members: &self.conn,
                index: conn_index,
                value: conn_value,
            },
            TableView {
                entry: &CONNECTION_ENTRY,
                columns: &[7, 8],
                rows: &self.rows,
                members: &self.connection,
                index: connection_index,
                value: connection_value,
            },
            TableView {
                entry: &LISTENER_ENTRY,
                columns: &[4],
                rows: &self.rows,
                members: &self.listener,
                index: listener_index,
                value: listener_value,
            },
        ]
    }

    /// The value of one instance.
    pub fn get(&self, oid: &Oid) -> Value {
        for t in self.tables() {
            if oid.arcs().starts_with(t.entry) {
                return t.get(oid);
            }
        }
        self.scalars.get(oid)
    }

    /// The first instance after `after`.
    pub fn next(&self, after: &Oid) -> Option<VarBind> {
        let mut best = self.scalars.next(after);
        for t in self.tables() {
            if let Some(vb) = t.next(after) {
                if best.as_ref().is_none_or(|b| vb.oid < b.oid) {
                    best = Some(vb);
                }
            }
        }
        best
    }

    /// How many rows it keeps.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

fn c32(v: u64) -> Value {
    Value::Counter32((v & 0xffff_ffff) as u32)
}

/// Builds the tcp group from the host and the stack.
pub fn tcp_data(host: &dyn HostSource, stack: &StackView) -> TcpData {
    let mut d = TcpData::default();
    let base = Oid::new(&TCP);
    let stats = parse_net_snmp(&host.read("/proc/net/snmp").unwrap_or_default());
    let s = stack.tcp.unwrap_or_default();
    if let Some(t) = stats.get("Tcp") {
        let g = |n: &str| t.get(n).copied().unwrap_or(0);
        for (sub, n) in [
            (1, "RtoAlgorithm"),
            (2, "RtoMin"),
            (3, "RtoMax"),
            (4, "MaxConn"),
        ] {
            let v = g(n);
            let v = i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX });
            d.scalars.scalar(base.child(&[sub]), Value::Integer(v));
        }
        // Wrapping, like any Counter32: the sum of two counters is a counter.
        let h = |n: &str| g(n) as u64;
        for (sub, v) in [
            (5, h("ActiveOpens").wrapping_add(s.active_opens)),
            (6, h("PassiveOpens").wrapping_add(s.passive_opens)),
            (7, h("AttemptFails").wrapping_add(s.attempt_fails)),
            (8, h("EstabResets").wrapping_add(s.estab_resets)),
            (10, h("InSegs").wrapping_add(s.in_segs)),
            (11, h("OutSegs").wrapping_add(s.out_segs)),
            (12, h("RetransSegs").wrapping_add(s.retrans_segs)),
            (14, h("InErrs").wrapping_add(s.in_errs)),
            (15, h("OutRsts").wrapping_add(s.out_rsts)),
        ] {
            d.scalars.scalar(base.child(&[sub]), c32(v));
        }
        let curr = h("CurrEstab").saturating_add(s.curr_estab);
        d.scalars.scalar(
            base.child(&[9]),
            Value::Gauge32(u32::try_from(curr).unwrap_or(u32::MAX)),
        );
    }
    let socks: Vec<Sock> = ["tcp", "tcp6"]
        .iter()
        .flat_map(|n| {
            host.read(&format!("/proc/net/{n}"))
                .map(|s| parse_sockets(&s))
                .unwrap_or_default()
        })
        .collect();
    let owners = if socks.is_empty() {
        Default::default()
    } else {
        socket_owners(host)
    };
    d.rows.reserve_exact(socks.len() + stack.conns.len());
    d.rows.extend(socks.iter().map(|s| Conn {
        local: s.local.0,
        lport: s.local.1,
        remote: s.remote.0,
        rport: s.remote.1,
        state: tcp_state(s.state),
        pid: owners.get(&s.inode).copied().unwrap_or(0),
    }));
    drop(socks);
    // The stack lives in this process: its connections are ours.
    let me = std::process::id();
    d.rows.extend(stack.conns.iter().map(|c| Conn {
        local: IpAddr::V4(c.local.0),
        lport: c.local.1,
        remote: IpAddr::V4(c.remote.0),
        rport: c.remote.1,
        state: c.state,
        pid: me,
    }));
    d.rows.sort_unstable();
    // One row per index (two sockets with the same endpoints, e.g. TIME-WAIT twins).
    d.rows.dedup_by(|b, a| {
        (a.local, a.lport, a.remote, a.rport) == (b.local, b.lport, b.remote, b.rport)
    });
    d.rows.shrink_to_fit();
    for (i, c) in d.rows.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        if c.local.is_ipv4() && c.remote.is_ipv4() {
            d.conn.push(i);
        }
        if c.state == LISTEN {
            d.listener.push(i);
        } else {
            d.connection.push(i);
        }
    }
    // A listener's index is its local endpoint only: sorted rows keep it sorted.
    d.listener
        .dedup_by_key(|&mut p| d.rows.get(p as usize).map(|c| (c.local, c.lport)));
    d
}

/// The tcp group's handler: [`TcpData`] rebuilt at most once per `ttl`.
pub struct TcpGroup {
    host: Arc<dyn HostSource>,
    stack: StackViewCell,
    cache: TtlCache<TcpData>,
}

impl TcpGroup {
    pub fn new(host: Arc<dyn HostSource>, stack: StackViewCell, ttl: std::time::Duration) -> Self {
        TcpGroup {
            host,
            stack,
            cache: TtlCache::new(ttl),
        }
    }

    fn data(&mut self, cx: &Ctx) -> &TcpData {
        let (host, stack) = (&self.host, &self.stack);
        self.cache.get(cx.now, || tcp_data(&**host, &stack.get()))
    }
}

impl Handler for TcpGroup {
    fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value {
        self.data(cx).get(oid)
    }

    fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind> {
        self.data(cx).next(after)
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
