//! Two stacks on a simulated hub.

use super::*;

#[test]
fn handshake_data_and_close() {
    let (mut net, a, b) = pair_with(StackConfig::default(), 1);
    let (c, s) = connect(&mut net, a, b);
    let ia = net.stacks[a].tcp_info(c).unwrap();
    assert_eq!(ia.state, TcpState::Established);
    assert_eq!(
        ia.mss,
        1500 - 40 - 12,
        "MTU less headers and the timestamp option"
    );
    assert_eq!(net.stacks[b].tcp_peer_addr(s), Some(ia.local));
    let ev = net.stacks[a].take_events();
    assert!(ev.contains(&StackEvent::Tcp(c)), "{ev:?}");
    let data = pattern(100_000, 7);
    let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(10));
    assert_eq!(fnv(&got), fnv(&data));
    assert_eq!(
        net.stacks[b].tcp_info(s).unwrap().state,
        TcpState::CloseWait
    );
    // The other direction after the half-close.
    let back = pattern(5000, 9);
    let got = transfer(&mut net, b, s, a, c, &back, Duration::from_secs(10));
    assert_eq!(got, back);
    net.run_for(Duration::from_millis(100));
    assert!(net.stacks[b].tcp_poll(s).closed);
    assert_eq!(net.stacks[a].tcp_info(c).unwrap().state, TcpState::TimeWait);
    net.call(a, |st, out, now| st.tcp_close(out, c, now));
    net.call(b, |st, out, now| st.tcp_close(out, s, now));
    let rows = net.stacks[a].tcp_connections();
    assert!(rows
        .iter()
        .any(|r| r.state == TcpState::TimeWait && r.handle.is_none()));
    net.run_for(Duration::from_secs(61));
    assert!(net.stacks[a]
        .tcp_connections()
        .iter()
        .all(|r| r.state == TcpState::Listen));
    assert_eq!(net.stacks[a].tcp_stats().active_opens, 1);
    assert_eq!(net.stacks[b].tcp_stats().passive_opens, 1);
    assert_eq!(net.stacks[b].tcp_stats().curr_estab, 0);
}

#[test]
fn connection_refused() {
    let (mut net, a, _b) = pair_with(StackConfig::default(), 2);
    let c = net
        .call(a, |st, out, now| {
            st.tcp_connect(out, SocketAddrV4::new(ip(10, 0, 0, 2), 81), None, now)
        })
        .unwrap();
    net.run_for(Duration::from_millis(10));
    let r = net.stacks[a].tcp_poll(c);
    assert!(r.closed);
    assert_eq!(r.error, Some(TcpError::ConnectionRefused));
    assert_eq!(net.stacks[a].tcp_stats().attempt_fails, 1);
}

fn lossy_transfer(
    algo: CongestionAlgorithm,
    sack: bool,
    loss: u32,
    jitter_us: u64,
    seed: u64,
) -> TcpStats {
    let mut cfg = StackConfig::default();
    cfg.tcp.congestion = algo;
    cfg.tcp.sack = sack;
    let (mut net, a, b) = pair_with(cfg, seed);
    let (c, s) = connect(&mut net, a, b);
    net.loss = loss;
    net.dup = loss;
    net.jitter = Duration::from_micros(jitter_us);
    let data = pattern(10 << 20, seed as u32);
    let t0 = net.now;
    let got = transfer(&mut net, a, c, b, s, &data, Duration::from_secs(600));
    let took = net.now.saturating_duration_since(t0);
    eprintln!(
        "{algo} sack={sack} loss={loss}: {took:?}, {:?}, {:?}",
        net.stacks[a].tcp_info(c),
        net.stacks[a].tcp_stats()
    );
    assert_eq!(got.len(), data.len());
    assert_eq!(fnv(&got), fnv(&data));
    let info = net.stacks[a].tcp_info(c).unwrap();
    assert_eq!(info.congestion, algo);
    if loss > 0 {
        assert!(info.retransmits > 0, "{info:?}");
    }
    let st = net.stacks[a].tcp_stats();
    assert!(st.retrans_segs >= info.retransmits);
    assert!(
        took < Duration::from_secs(5),
        "10 MB over a 200 µs RTT: {took:?}"
    );
    st
}

#[test]
fn ten_megabytes_cubic_lossy_reordered() {
    let st = lossy_transfer(CongestionAlgorithm::Cubic, true, 10, 300, 11);
    // RACK-TLP finds the losses (1 % of ~7,000 segments and of their ACKs) without timeouts.
    assert!(st.rto_timeouts <= 2, "{st:?}");
    assert!(st.retrans_segs < 300, "{st:?}");
}

#[test]
fn ten_megabytes_newreno_lossy_reordered() {
    let st = lossy_transfer(CongestionAlgorithm::NewReno, true, 10, 300, 12);
    assert!(st.rto_timeouts <= 2, "{st:?}");
}

#[test]
fn ten_megabytes_newreno_without_sack() {
    lossy_transfer(CongestionAlgorithm::NewReno, false, 5, 0, 13);
}

#[test]
fn ten_megabytes_clean_cubic() {
    lossy_transfer(CongestionAlgorithm::Cubic, true, 0, 0, 14);
}
