//! What the SNMP agent shows of Maynard's stack: the stack's thread publishes a
//! [`StackView`] (interfaces, addresses, TCP connections and counters, UDP sockets and
//! counters) at most once a second, between two rounds of its loop; the IF-MIB, IP-MIB,
//! TCP-MIB and UDP-MIB handlers read the latest one. The stack never waits for the agent,
//! and a request never waits for the stack.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use snmp::mib::stack::{
    StackConn, StackIf, StackIfCounters, StackTcpStats, StackUdp, StackUdpStats, StackView,
    IFINDEX_BASE,
};
use stack::{IfaceFlags, IfaceKind, Interface, TcpInfo, TcpState, TcpStats, UdpStats};

use super::{lock, SnmpHost};

/// How old the published view may grow: the agent's host tables live as long (`TTL` of the
/// IF-MIB module), so a fresher view would not be seen.
pub const REFRESH: Duration = Duration::from_secs(1);

/// ifIndex of a stack interface.
pub fn if_index(iface: &Interface) -> u32 {
    IFINDEX_BASE + u32::from(iface.id().0)
}

fn if_type(kind: IfaceKind) -> i32 {
    match kind {
        IfaceKind::Loopback => 24,
        IfaceKind::Ethernet => 6,
        IfaceKind::Pseudo => 1,
    }
}

/// tcpConnectionState (RFC 4022).
pub fn tcp_state(s: TcpState) -> i32 {
    match s {
        TcpState::Closed => 1,
        TcpState::Listen => 2,
        TcpState::SynSent => 3,
        TcpState::SynReceived => 4,
        TcpState::Established => 5,
        TcpState::FinWait1 => 6,
        TcpState::FinWait2 => 7,
        TcpState::CloseWait => 8,
        TcpState::LastAck => 9,
        TcpState::Closing => 10,
        TcpState::TimeWait => 11,
    }
}

fn interface(i: &Interface) -> StackIf {
    let c = i.counters();
    StackIf {
        index: if_index(i),
        name: i.name().to_string(),
        if_type: if_type(i.kind()),
        mtu: u32::from(i.mtu()),
        phys: if i.kind() == IfaceKind::Loopback {
            Vec::new()
        } else {
            i.mac().0.to_vec()
        },
        admin_up: i.flags().contains(IfaceFlags::UP),
        oper_up: i.is_up(),
        counters: StackIfCounters {
            in_octets: c.in_octets,
            in_ucast: c.in_ucast,
            in_mcast: c.in_mcast,
            in_bcast: c.in_bcast,
            in_discards: c.in_discards,
            in_errors: c.ierrs,
            in_unknown_protos: c.in_unknown_protos,
            out_octets: c.out_octets,
            out_ucast: c.out_ucast,
            out_mcast: c.out_mcast,
            out_bcast: c.out_bcast,
            out_discards: c.out_discards,
            out_errors: c.oerrs,
        },
        addr: i.addr().zip(i.mask()),
    }
}

/// The view of the stack's interfaces, connections and TCP counters, and of its bound UDP
/// sockets (local, connected remote) and UDP counters.
pub fn view<'a>(
    ifaces: impl Iterator<Item = &'a Interface>,
    conns: &[TcpInfo],
    stats: &TcpStats,
    udp: &[(SocketAddrV4, Option<SocketAddrV4>)],
    udp_stats: &UdpStats,
) -> StackView {
    StackView {
        ifaces: ifaces.map(interface).collect(),
        conns: conns
            .iter()
            .map(|c| StackConn {
                local: (*c.local.ip(), c.local.port()),
                remote: (*c.remote.ip(), c.remote.port()),
                state: tcp_state(c.state),
            })
            .collect(),
        tcp: Some(StackTcpStats {
            active_opens: stats.active_opens,
            passive_opens: stats.passive_opens,
            attempt_fails: stats.attempt_fails,
            estab_resets: stats.estab_resets,
            curr_estab: stats.curr_estab,
            in_segs: stats.in_segs,
            out_segs: stats.out_segs,
            retrans_segs: stats.retrans_segs,
            in_errs: stats.in_errs,
            out_rsts: stats.out_rsts,
        }),
        udp: udp
            .iter()
            .map(|(local, remote)| {
                let remote = remote.unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
                StackUdp {
                    local: (*local.ip(), local.port()),
                    remote: (*remote.ip(), remote.port()),
                }
            })
            .collect(),
        udp_stats: Some(StackUdpStats {
            in_datagrams: udp_stats.in_datagrams,
            no_ports: udp_stats.no_ports,
            in_errors: udp_stats.in_errors,
            out_datagrams: udp_stats.out_datagrams,
        }),
    }
}

impl SnmpHost {
    /// True once a second: time for the stack's thread to publish a new view. Cheap (a clock
    /// read and a lock nobody else holds), since the stack's loop asks every round.
    pub fn stack_view_due(&self) -> bool {
        let now = Instant::now();
        let mut last = lock(&self.stack_view_at);
        if last.is_some_and(|t| now.duration_since(t) < REFRESH) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Publishes what the stack shows now (called from the stack's thread).
    pub fn publish_stack(&self, view: StackView) {
        self.stack_view.set(view);
    }
}
