//! TCP tests: simulated networks (two stacks on a hub with loss, reordering, duplication and
//! delay, on virtual time) and packetdrill-style scripts against one stack ([`script`]).

mod batching;
mod closing;
mod conformance;
mod ecn;
mod script;
mod sim_tests;

use crate::sim::Net;
use crate::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

pub(crate) fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// Two hosts on one hub: 10.0.0.1 (stack `a`) and 10.0.0.2 (stack `b`), with `cfg`.
pub(crate) fn pair_with(cfg: StackConfig, seed: u64) -> (Net, usize, usize) {
    let mut net = Net::new(seed);
    let hub = net.hub();
    let a = net.stack(cfg.clone());
    let b = net.stack(cfg);
    net.attach(a, hub, "se0", ip(10, 0, 0, 1), 24);
    net.attach(b, hub, "se0", ip(10, 0, 0, 2), 24);
    net.run_for(Duration::from_millis(10));
    for s in [a, b] {
        net.stacks[s].take_events();
    }
    (net, a, b)
}

/// Connects a (client) to b (server, listening on port 80); returns (client, server) handles.
pub(crate) fn connect(net: &mut Net, a: usize, b: usize) -> (TcpHandle, TcpHandle) {
    let l = net.stacks[b]
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 16)
        .unwrap();
    let c = net
        .call(a, |st, out, now| {
            st.tcp_connect(out, SocketAddrV4::new(ip(10, 0, 0, 2), 80), None, now)
        })
        .unwrap();
    for _ in 0..200 {
        net.run_for(Duration::from_millis(5));
        if let Ok((s, _)) = net.stacks[b].tcp_accept(l) {
            if net.stacks[a].tcp_poll(c).connected {
                return (c, s);
            }
            net.run_for(Duration::from_millis(50));
            assert!(net.stacks[a].tcp_poll(c).connected);
            return (c, s);
        }
    }
    panic!("no connection: {:?}", net.stacks[a].tcp_info(c));
}

/// Sends `data` from (sa, ha) to (sb, hb), closing the write side at the end, reading at the
/// other end until EOF. Returns what arrived.
pub(crate) fn transfer(
    net: &mut Net,
    sa: usize,
    ha: TcpHandle,
    sb: usize,
    hb: TcpHandle,
    data: &[u8],
    limit: Duration,
) -> Vec<u8> {
    let mut sent = 0;
    let mut shut = false;
    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 256 * 1024];
    let end = net.now + limit;
    while net.now < end {
        while sent < data.len() {
            match net.call(sa, |st, out, now| st.tcp_send(out, ha, &data[sent..], now)) {
                Ok(n) => sent += n,
                Err(TcpError::WouldBlock) => break,
                Err(e) => panic!("send: {e}"),
            }
        }
        if sent == data.len() && !shut {
            net.call(sa, |st, out, now| st.tcp_shutdown_write(out, ha, now))
                .unwrap();
            shut = true;
        }
        loop {
            match net.call(sb, |st, out, now| st.tcp_recv(out, hb, &mut buf, now)) {
                Ok(0) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(TcpError::WouldBlock) => break,
                Err(e) => panic!("recv: {e} after {} bytes", got.len()),
            }
        }
        net.run_for(Duration::from_millis(1));
    }
    panic!(
        "transfer incomplete: sent {sent}, got {} of {}; sender {:?}; receiver {:?}",
        got.len(),
        data.len(),
        net.stacks[sa].tcp_info(ha),
        net.stacks[sb].tcp_info(hb)
    );
}

/// Deterministic test data.
pub(crate) fn pattern(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// FNV-1a, to compare what was sent and what arrived.
pub(crate) fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
