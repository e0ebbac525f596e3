//! What Maynard's own userspace stack shows through MIB-II: its interfaces (lo0, se<n>, pd<n>)
//! with their counters and addresses, its TCP connections and TCP counters, its UDP sockets and
//! UDP counters. The stack runs on
//! a thread of its own that must never wait for the agent, so it publishes a [`StackView`]
//! (plain data, no stack types: this crate does not depend on the stack) into a
//! [`StackViewCell`] from time to time, and the MIB handlers read the latest one.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

/// The stack's interfaces take ifIndex values from here on (their interface number added), so
/// they never collide with the Linux host's (which count from 1 and stay far below).
pub const IFINDEX_BASE: u32 = 1000;

/// One interface's counters, as the stack keeps them (64-bit; the ifTable shows the low 32).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackIfCounters {
    pub in_octets: u64,
    pub in_ucast: u64,
    pub in_mcast: u64,
    pub in_bcast: u64,
    pub in_discards: u64,
    pub in_errors: u64,
    pub in_unknown_protos: u64,
    pub out_octets: u64,
    pub out_ucast: u64,
    pub out_mcast: u64,
    pub out_bcast: u64,
    pub out_discards: u64,
    pub out_errors: u64,
}

/// One interface of the stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackIf {
    /// ifIndex ([`IFINDEX_BASE`] plus the stack's interface number).
    pub index: u32,
    /// `se0`: ifDescr and ifName.
    pub name: String,
    /// IANAifType: 6 ethernetCsmacd (se), 24 softwareLoopback (lo), 1 other (pd).
    pub if_type: i32,
    pub mtu: u32,
    /// The hardware address (empty for lo).
    pub phys: Vec<u8>,
    pub admin_up: bool,
    pub oper_up: bool,
    pub counters: StackIfCounters,
    /// The IPv4 address and its mask, if one is set.
    pub addr: Option<(Ipv4Addr, Ipv4Addr)>,
}

/// One TCP connection (or listener) of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackConn {
    pub local: (Ipv4Addr, u16),
    /// 0.0.0.0:0 for a listener.
    pub remote: (Ipv4Addr, u16),
    /// tcpConnectionState (RFC 4022; 2 is listen).
    pub state: i32,
}

/// The stack's TCP counters (the TCP-MIB scalars it keeps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackTcpStats {
    pub active_opens: u64,
    pub passive_opens: u64,
    pub attempt_fails: u64,
    pub estab_resets: u64,
    pub curr_estab: u64,
    pub in_segs: u64,
    pub out_segs: u64,
    pub retrans_segs: u64,
    pub in_errs: u64,
    pub out_rsts: u64,
}

/// One UDP socket of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackUdp {
    pub local: (Ipv4Addr, u16),
    /// 0.0.0.0:0 unless the socket is connected.
    pub remote: (Ipv4Addr, u16),
}

/// The stack's UDP counters (the UDP-MIB scalars it keeps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackUdpStats {
    pub in_datagrams: u64,
    pub no_ports: u64,
    pub in_errors: u64,
    pub out_datagrams: u64,
}

/// Everything the stack shows at one moment. The default (no stack) shows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackView {
    pub ifaces: Vec<StackIf>,
    pub conns: Vec<StackConn>,
    /// None when no stack runs (the host's counters then stand alone).
    pub tcp: Option<StackTcpStats>,
    /// The stack's bound UDP sockets.
    pub udp: Vec<StackUdp>,
    /// None when no stack runs.
    pub udp_stats: Option<StackUdpStats>,
}

/// The latest [`StackView`], shared by the stack's thread (writer) and the MIB handlers
/// (readers); both hold the lock only to swap or clone an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct StackViewCell(Arc<Mutex<Arc<StackView>>>);

impl StackViewCell {
    /// An empty cell (no stack).
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes a new view.
    pub fn set(&self, view: StackView) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(view);
    }

    /// The latest view.
    pub fn get(&self) -> Arc<StackView> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_publishes_the_latest_view() {
        let cell = StackViewCell::new();
        assert!(cell.get().ifaces.is_empty());
        let reader = cell.clone();
        cell.set(StackView {
            ifaces: vec![StackIf {
                index: IFINDEX_BASE,
                name: "lo0".into(),
                ..StackIf::default()
            }],
            ..StackView::default()
        });
        assert_eq!(reader.get().ifaces[0].name, "lo0");
    }
}
