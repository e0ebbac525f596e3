//! Whole-stack tests on virtual time: several stacks on simulated hubs. The shared set-ups are
//! here, the tests by subject in the submodules.

mod arp;
mod fuzz;
mod iface;
mod ip;
mod udp;

use crate::sim::Net;
use crate::*;
use proptest::prelude::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wire::IpProtocol;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// Two hosts on one hub: 10.0.0.1 and 10.0.0.2.
fn pair() -> (Net, usize, usize, IfaceId, IfaceId) {
    let mut net = Net::new(1);
    let hub = net.hub();
    let a = net.stack(StackConfig::default());
    let b = net.stack(StackConfig::default());
    let ai = net.attach(a, hub, "se0", ip(10, 0, 0, 1), 24);
    let bi = net.attach(b, hub, "se0", ip(10, 0, 0, 2), 24);
    net.run_for(Duration::from_millis(10));
    for s in [a, b] {
        net.stacks[s].take_events();
    }
    (net, a, b, ai, bi)
}

fn echo_replies(net: &mut Net, s: usize) -> Vec<(Ipv4Addr, u16, usize)> {
    net.stacks[s]
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            StackEvent::EchoReply {
                from, seq_no, len, ..
            } => Some((from, seq_no, len)),
            _ => None,
        })
        .collect()
}

fn icmp_errors(events: &[StackEvent]) -> Vec<(u8, u8)> {
    events
        .iter()
        .filter_map(|e| match e {
            StackEvent::IcmpError { msg_type, code, .. } => Some((*msg_type, *code)),
            _ => None,
        })
        .collect()
}

/// A — R — B: A on 10.0.1.0/24, B on 10.0.2.0/24, R forwarding between them.
pub(crate) struct Routed {
    pub(crate) net: Net,
    pub(crate) a: usize,
    pub(crate) r: usize,
    pub(crate) b: usize,
    pub(crate) r2: IfaceId,
}

pub(crate) fn routed() -> Routed {
    let mut net = Net::new(7);
    let h1 = net.hub();
    let h2 = net.hub();
    let a = net.stack(StackConfig::default());
    let r = net.stack(StackConfig {
        gateway_mode: true,
        ..StackConfig::default()
    });
    let b = net.stack(StackConfig::default());
    net.attach(a, h1, "se0", ip(10, 0, 1, 2), 24);
    net.attach(r, h1, "se0", ip(10, 0, 1, 1), 24);
    let r2 = net.attach(r, h2, "se1", ip(10, 0, 2, 1), 24);
    net.attach(b, h2, "se0", ip(10, 0, 2, 2), 24);
    net.stacks[a]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 1, 1), None)
        .unwrap();
    net.stacks[b]
        .route_add(Ipv4Prefix::DEFAULT, ip(10, 0, 2, 1), None)
        .unwrap();
    net.run_for(Duration::from_millis(10));
    for s in [a, r, b] {
        net.stacks[s].take_events();
    }
    Routed { net, a, r, b, r2 }
}
