//! Conformance scripts: RFC 9293's state transitions, RFC 5961, RFC 7323 (window scaling,
//! PAWS), RFC 2018/6675 (SACK), RFC 6298 (RTO backoff), zero-window probes, TIME-WAIT and SYN
//! cookies, each a sequence of segments in and segments expected out on virtual time.

use super::script::{Script, PEER};
use crate::{StackConfig, TcpError, TcpHandle, TcpState};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use wire::tcp::TcpFlags;

pub(super) const SYN: TcpFlags = TcpFlags::SYN;
pub(super) const ACK: TcpFlags = TcpFlags::ACK;
pub(super) const FIN: TcpFlags = TcpFlags::FIN;
pub(super) const RST: TcpFlags = TcpFlags::RST;
pub(super) const PSH: TcpFlags = TcpFlags::PSH;

/// The peer's initial sequence number in every script.
pub(super) const IRS: u32 = 1000;

/// A connection opened by the peer: (script, listener, connection, our ISS). The peer's SYN
/// carries only MSS 1460 unless `opts` adds window scale 2, SACK-permitted and timestamps.
pub(super) fn passive(cfg: StackConfig, opts: bool) -> (Script, TcpHandle, TcpHandle, u32) {
    let mut s = Script::new(cfg);
    let l =
        s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
            .unwrap();
    let mut syn = s.seg(SYN, IRS, 0, 65535);
    syn.max_seg_size = Some(1460);
    if opts {
        syn.window_scale = Some(2);
        syn.sack_permitted = true;
        syn.timestamp = Some((500, 0));
    }
    s.inject(0, syn, &[]);
    let sa = s.expect(0);
    assert_eq!(sa.flags(), SYN | ACK);
    assert_eq!(sa.ack(), IRS + 1);
    assert_eq!(sa.repr.max_seg_size, Some(1460));
    if opts {
        assert_eq!(sa.repr.window_scale, Some(7));
        assert!(sa.repr.sack_permitted);
        assert_eq!(sa.repr.timestamp.map(|t| t.1), Some(500));
    } else {
        assert_eq!(sa.repr.window_scale, None, "not offered, not answered");
        assert!(!sa.repr.sack_permitted);
        assert_eq!(sa.repr.timestamp, None);
    }
    let iss = sa.seq();
    assert!(matches!(s.st.tcp_accept(l), Err(TcpError::WouldBlock)));
    let mut ack = s.seg(ACK, IRS + 1, iss.wrapping_add(1), 65535);
    if opts {
        ack.timestamp = Some((501, sa.repr.timestamp.unwrap().0));
    }
    s.inject(1, ack, &[]);
    assert!(s.st.tcp_poll(l).acceptable);
    let (c, from) = s.st.tcp_accept(l).unwrap();
    assert_eq!(from, s.peer);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Established);
    (s, l, c, iss)
}

/// A connection we open: (script, connection, our ISS). The peer answers with MSS 1460 only.
pub(super) fn active(cfg: StackConfig) -> (Script, TcpHandle, u32) {
    let mut s = Script::new(cfg);
    let c = s.connect();
    let syn = s.expect(0);
    assert_eq!(syn.flags(), SYN);
    assert!(syn.dont_frag, "PMTU discovery is on by default");
    assert_eq!(syn.repr.max_seg_size, Some(1460));
    assert_eq!(syn.repr.window_scale, Some(7));
    assert!(syn.repr.sack_permitted);
    assert!(syn.repr.timestamp.is_some());
    let iss = syn.seq();
    let mut sa = s.seg(SYN | ACK, IRS, iss.wrapping_add(1), 65535);
    sa.max_seg_size = Some(1460);
    s.inject(10, sa, &[]);
    let a = s.expect(10);
    assert_eq!(a.flags(), ACK);
    assert_eq!((a.seq(), a.ack()), (iss.wrapping_add(1), IRS + 1));
    assert!(s.st.tcp_poll(c).connected);
    (s, c, iss)
}

pub(super) fn no_delack() -> StackConfig {
    let mut cfg = StackConfig::default();
    cfg.tcp.delayed_ack = false;
    cfg
}

#[test]
fn passive_open_with_options_and_data() {
    let (mut s, _l, c, iss) = passive(StackConfig::default(), true);
    let info = s.st.tcp_info(c).unwrap();
    assert_eq!(
        info.mss,
        1460 - 12,
        "timestamps take 12 bytes of every segment"
    );
    assert_eq!(info.snd_wnd, 65535 << 2, "scaled by the peer's shift");
    // Data in: delayed ACK (40 ms), then read.
    let mut d = s.seg(ACK | PSH, IRS + 1, iss + 1, 1000);
    d.timestamp = Some((510, 0));
    s.inject(5, d, b"hello");
    s.expect_none(44);
    let a = s.expect(45);
    assert_eq!(a.ack(), IRS + 6);
    assert_eq!(
        a.repr.timestamp.map(|t| t.1),
        Some(510),
        "TSecr echoes the data's TSval"
    );
    // The window field is scaled by our shift of 7.
    assert_eq!(usize::from(a.repr.window_len), ((4 << 20) - 5) >> 7);
    let mut buf = [0u8; 16];
    let n = s
        .call(|st, out, now| st.tcp_recv(out, c, &mut buf, now))
        .unwrap();
    assert_eq!(&buf[..n], b"hello");
}

#[test]
fn two_full_segments_are_acked_at_once() {
    let (mut s, _l, c, iss) = passive(StackConfig::default(), false);
    let data = [7u8; 1460];
    s.inject(5, s.seg(ACK, IRS + 1, iss + 1, 1000), &data);
    s.expect_none(6);
    s.inject(6, s.seg(ACK, IRS + 1461, iss + 1, 1000), &data);
    let a = s.expect(6);
    assert_eq!(a.ack(), IRS + 1 + 2920);
    // Per-socket switch: no delayed ACKs.
    s.st.tcp_set_delayed_ack(c, false).unwrap();
    s.inject(7, s.seg(ACK, IRS + 2921, iss + 1, 1000), b"x");
    assert_eq!(s.expect(7).ack(), IRS + 2922);
}

#[test]
fn active_open_send_and_ack() {
    let (mut s, c, iss) = active(no_delack());
    let n = s
        .call(|st, out, now| st.tcp_send(out, c, b"GET / HTTP/1.0\r\n\r\n", now))
        .unwrap();
    assert_eq!(n, 18);
    let d = s.expect(10);
    assert_eq!(d.payload, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(d.flags(), ACK | PSH);
    assert_eq!(d.seq(), iss + 1);
    s.inject(20, s.seg(ACK, IRS + 1, iss + 19, 65535), &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().send_queue, 0);
    s.expect_none(5000);
}

#[test]
fn simultaneous_open() {
    let mut s = Script::new(no_delack());
    let c = s.connect();
    let iss = s.expect(0).seq();
    // The peer's own SYN crosses ours.
    let mut syn = s.seg(SYN, IRS, 0, 65535);
    syn.max_seg_size = Some(1000);
    s.inject(5, syn, &[]);
    let sa = s.expect(5);
    assert_eq!(sa.flags(), SYN | ACK);
    assert_eq!(
        (sa.seq(), sa.ack()),
        (iss, IRS + 1),
        "the same SYN, now acknowledging"
    );
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::SynReceived);
    // Its SYN-ACK: the SYN is the one we have; the ACK completes the handshake.
    s.inject(6, s.seg(SYN | ACK, IRS, iss + 1, 65535), &[]);
    s.expect_none(100);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Established);
    assert_eq!(s.st.tcp_info(c).unwrap().mss, 1000);
    assert!(s.st.tcp_poll(c).connected);
}

#[test]
fn syn_sent_resets_and_bad_acks() {
    let mut s = Script::new(no_delack());
    let c = s.connect();
    let iss = s.expect(0).seq();
    // An ACK for something we never sent: RST with its ACK as sequence number.
    s.inject(1, s.seg(SYN | ACK, IRS, iss + 100, 65535), &[]);
    let r = s.expect(1);
    assert_eq!((r.flags(), r.seq()), (RST, iss + 100));
    // A RST without an acceptable ACK is ignored.
    s.inject(2, s.seg(RST, 0, 0, 0), &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::SynSent);
    // With one: connection refused.
    s.inject(3, s.seg(RST | ACK, 0, iss + 1, 0), &[]);
    let p = s.st.tcp_poll(c);
    assert!(p.closed);
    assert_eq!(p.error, Some(TcpError::ConnectionRefused));
    assert_eq!(
        s.call(|st, out, now| st.tcp_send(out, c, b"x", now)),
        Err(TcpError::ConnectionRefused)
    );
}

#[test]
fn syn_retransmission_backs_off_and_times_out() {
    let mut cfg = no_delack();
    cfg.tcp.max_syn_retries = 3;
    let mut s = Script::new(cfg);
    let peer = s.peer;
    let c = s
        .call(|st, out, now| st.tcp_connect(out, peer, None, now))
        .unwrap();
    let first = s.expect(0);
    let mut at = Vec::new();
    for _ in 0..3 {
        let r = s.expect(20_000);
        assert_eq!((r.flags(), r.seq()), (SYN, first.seq()));
        at.push(s.ms(r.at));
    }
    assert_eq!(at, vec![1000, 3000, 7000], "RFC 6298: 1 s, doubling");
    s.expect_none(14_999);
    s.advance(s.t(15_000));
    assert_eq!(s.st.tcp_poll(c).error, Some(TcpError::TimedOut));
    assert_eq!(s.st.tcp_stats().attempt_fails, 1);
}

#[test]
fn rto_backoff_on_data() {
    let (mut s, c, iss) = active(no_delack());
    s.call(|st, out, now| st.tcp_send(out, c, b"abc", now))
        .unwrap();
    let d = s.expect(10);
    assert_eq!(d.seq(), iss + 1);
    // The handshake measured ~10 ms: RTO = max(rto_min 200 ms, srtt + 4 rttvar).
    let mut gaps = Vec::new();
    let mut last = s.ms(d.at);
    for _ in 0..4 {
        let r = s.expect(60_000);
        assert_eq!(
            (r.seq(), &r.payload[..]),
            (iss + 1, &b"abc"[..]),
            "retransmission"
        );
        gaps.push(s.ms(r.at) - last);
        last = s.ms(r.at);
    }
    assert_eq!(gaps, vec![200, 400, 800, 1600]);
    assert!(s.st.tcp_info(c).unwrap().retransmits >= 4);
    assert_eq!(s.st.tcp_info(c).unwrap().cwnd, 1460, "loss window");
    // The ACK ends it; the next RTO is back to the base.
    s.inject(last + 1, s.seg(ACK, IRS + 1, iss + 4, 65535), &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().rto, Duration::from_millis(200));
}

#[test]
fn rfc5961_rst_and_syn() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    // In-window RST, not at RCV.NXT: challenge ACK; still open.
    s.inject(5, s.seg(RST, IRS + 100, 0, 0), &[]);
    let ch = s.expect(5);
    assert_eq!((ch.flags(), ch.seq(), ch.ack()), (ACK, iss + 1, IRS + 1));
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Established);
    // Out of window: silently dropped.
    s.inject(6, s.seg(RST, IRS + 10_000_000, 0, 0), &[]);
    s.expect_none(7);
    // In-window SYN: challenge ACK.
    s.inject(8, s.seg(SYN, IRS + 5, 0, 0), &[]);
    let ch = s.expect(8);
    assert_eq!((ch.flags(), ch.ack()), (ACK, IRS + 1));
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Established);
    // An ACK of data never sent: challenged, ignored.
    s.inject(9, s.seg(ACK, IRS + 1, iss + 5000, 0), &[]);
    assert_eq!(s.expect(9).ack(), IRS + 1);
    assert_eq!(s.st.tcp_stats().challenge_acks, 3);
    // Exactly RCV.NXT: reset.
    s.inject(10, s.seg(RST, IRS + 1, 0, 0), &[]);
    let p = s.st.tcp_poll(c);
    assert_eq!(p.error, Some(TcpError::ConnectionReset));
    assert_eq!(s.st.tcp_stats().estab_resets, 1);
    assert_eq!(s.st.tcp_stats().curr_estab, 0);
}

#[test]
fn unacceptable_segment_gets_an_ack() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    s.inject(5, s.seg(ACK, IRS - 500, iss + 1, 1000), b"old data");
    let a = s.expect(5);
    assert_eq!((a.flags(), a.ack()), (ACK, IRS + 1));
    let mut buf = [0u8; 8];
    assert_eq!(
        s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now)),
        Err(TcpError::WouldBlock)
    );
}

#[test]
fn paws_drops_old_timestamps() {
    let (mut s, _l, c, iss) = passive(no_delack(), true);
    let mut d = s.seg(ACK, IRS + 1, iss + 1, 1000);
    d.timestamp = Some((600, 0));
    s.inject(5, d, b"new");
    assert_eq!(s.expect(5).ack(), IRS + 4);
    // A segment from an older incarnation's clock: dropped with an ACK.
    let mut old = s.seg(ACK, IRS + 4, iss + 1, 1000);
    old.timestamp = Some((400, 0));
    s.inject(6, old, b"old");
    assert_eq!(s.expect(6).ack(), IRS + 4);
    let mut buf = [0u8; 8];
    let n = s
        .call(|st, out, now| st.tcp_recv(out, c, &mut buf, now))
        .unwrap();
    assert_eq!(&buf[..n], b"new");
}

#[test]
fn window_scaling_limits_what_we_send() {
    let (mut s, _l, c, iss) = passive(no_delack(), true);
    s.st.tcp_set_nodelay(c, true).unwrap();
    // The peer's window: 1448 << 2 = 4 segments.
    let mut a = s.seg(ACK, IRS + 1, iss + 1, 1448);
    a.timestamp = Some((505, 0));
    s.inject(2, a, &[]);
    let data = vec![1u8; 10_000];
    s.call(|st, out, now| st.tcp_send(out, c, &data, now))
        .unwrap();
    let sent: usize = s.drain().iter().map(|g| g.payload.len()).sum();
    assert_eq!(sent, 4 * 1448);
}

#[test]
fn sack_blocks_for_out_of_order_data() {
    let (mut s, _l, c, iss) = passive(StackConfig::default(), true);
    let ts = |v| Some((v, 0));
    let mut d = s.seg(ACK, IRS + 1 + 1000, iss + 1, 1000);
    d.timestamp = ts(600);
    s.inject(5, d, &[2u8; 500]);
    let a = s.expect(5);
    assert_eq!(a.ack(), IRS + 1, "out of order: ACK at once");
    assert_eq!(a.repr.sack_ranges[0], Some((IRS + 1001, IRS + 1501)));
    let mut d = s.seg(ACK, IRS + 1 + 2000, iss + 1, 1000);
    d.timestamp = ts(601);
    s.inject(6, d, &[3u8; 100]);
    let a = s.expect(6);
    assert_eq!(
        a.repr.sack_ranges[0],
        Some((IRS + 2001, IRS + 2101)),
        "latest first"
    );
    assert_eq!(a.repr.sack_ranges[1], Some((IRS + 1001, IRS + 1501)));
    // The hole fills: one cumulative ACK, the first block gone.
    let mut d = s.seg(ACK, IRS + 1, iss + 1, 1000);
    d.timestamp = ts(602);
    s.inject(7, d, &[1u8; 1000]);
    let a = s.expect(7);
    assert_eq!(a.ack(), IRS + 1501);
    assert_eq!(a.repr.sack_ranges[0], Some((IRS + 2001, IRS + 2101)));
    assert_eq!(s.st.tcp_info(c).unwrap().recv_queue, 1500);
}

#[test]
fn sack_recovery_retransmits_the_hole() {
    let (mut s, _l, c, iss) = passive(no_delack(), true);
    s.st.tcp_set_nodelay(c, true).unwrap();
    let data = vec![9u8; 10 * 1448];
    s.call(|st, out, now| st.tcp_send(out, c, &data, now))
        .unwrap();
    let segs = s.drain();
    assert_eq!(segs.len(), 10, "the initial window");
    let base = iss + 1;
    // Segment 0 lost: the peer SACKs 1, 1..2, 1..3.
    for k in 1..=3u32 {
        let mut a = s.seg(ACK, IRS + 1, base, 16000);
        a.timestamp = Some((510 + k, 0));
        a.sack_ranges[0] = Some((base + 1448, base + 1448 * (k + 1)));
        s.inject(2 + u64::from(k), a, &[]);
    }
    let r = s.expect(5);
    assert_eq!(
        (r.seq(), r.payload.len()),
        (base, 1448),
        "fast retransmit of the hole"
    );
    assert_eq!(s.st.tcp_stats().fast_recoveries, 1);
    let info = s.st.tcp_info(c).unwrap();
    assert!(info.cwnd < 10 * 1448, "window reduced: {}", info.cwnd);
    // The hole is filled: everything acknowledged, recovery over.
    let mut a = s.seg(ACK, IRS + 1, base + 10 * 1448, 16000);
    a.timestamp = Some((520, 0));
    s.inject(10, a, &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().send_queue, 0);
}

#[test]
fn zero_window_probes() {
    let (mut s, c, iss) = active(no_delack());
    s.st.tcp_set_nodelay(c, true).unwrap();
    // The peer closes its window.
    s.inject(20, s.seg(ACK, IRS + 1, iss + 1, 0), &[]);
    s.call(|st, out, now| st.tcp_send(out, c, b"waiting", now))
        .unwrap();
    assert!(s.drain().is_empty(), "nothing fits a zero window");
    let p1 = s.expect(1000);
    assert_eq!(
        (p1.flags(), p1.seq(), p1.payload.len()),
        (ACK, iss, 0),
        "probe"
    );
    s.inject(s.ms(p1.at) + 1, s.seg(ACK, IRS + 1, iss + 1, 0), &[]);
    let p2 = s.expect(5000);
    assert_eq!(p2.seq(), iss);
    assert!(s.ms(p2.at) - s.ms(p1.at) > 300, "probes back off");
    // The window opens: the data goes.
    s.inject(s.ms(p2.at) + 1, s.seg(ACK, IRS + 1, iss + 1, 1000), &[]);
    let d = s.expect(s.ms(p2.at) + 1);
    assert_eq!(d.payload, b"waiting");
}

#[test]
fn reset_for_closed_port_and_stray_ack() {
    let mut s = Script::new(no_delack());
    s.local = SocketAddrV4::new(super::script::US, 4444);
    s.inject(0, s.seg(SYN, 77, 0, 1000), &[]);
    let r = s.expect(0);
    assert_eq!((r.flags(), r.seq(), r.ack()), (RST | ACK, 0, 78));
    s.inject(1, s.seg(ACK, 77, 12345, 1000), &[]);
    let r = s.expect(1);
    assert_eq!((r.flags(), r.seq()), (RST, 12345));
    s.inject(2, s.seg(RST, 77, 0, 0), &[]);
    s.expect_none(10);
    assert_eq!(s.st.tcp_stats().out_rsts, 2);
    // The SYN, not the stray ACK, is reported as a probe of a closed port.
    let probes: Vec<_> =
        s.st.take_events()
            .into_iter()
            .filter(|e| matches!(e, crate::StackEvent::ClosedPort { .. }))
            .collect();
    assert_eq!(
        probes,
        [crate::StackEvent::ClosedPort {
            src: *s.peer.ip(),
            dst: s.local,
            protocol: 6
        }]
    );
}

/// With timestamps, a cookie connection keeps the client's window scale and SACK-permitted:
/// they travel in the SYN-ACK's TSval and come back in the ACK's TSecr (as Linux does).
#[test]
fn syn_cookies_keep_window_scale_and_sack_through_timestamps() {
    let mut s = Script::new(no_delack());
    let l =
        s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 1)
            .unwrap();
    s.inject(0, s.seg(SYN, IRS, 0, 65535), &[]);
    s.expect(0);
    s.peer = SocketAddrV4::new(PEER, 5002);
    let mut syn = s.seg(SYN, 9000, 0, 65535);
    syn.max_seg_size = Some(1460);
    syn.window_scale = Some(3);
    syn.sack_permitted = true;
    syn.timestamp = Some((700, 0));
    s.inject(1, syn, &[]);
    let ck = s.expect(1);
    assert_eq!(ck.flags(), SYN | ACK);
    assert_eq!(s.st.tcp_stats().syn_cookies_sent, 1);
    assert_eq!(ck.repr.window_scale, Some(7));
    assert!(ck.repr.sack_permitted);
    let (tsval, tsecr) = ck.repr.timestamp.expect("timestamps echoed");
    assert_eq!(tsecr, 700);
    // An ACK whose echo is far from anything we sent is not taken.
    let mut bad = s.seg(ACK, 9001, ck.seq().wrapping_add(1), 100);
    bad.timestamp = Some((701, tsval.wrapping_add(1_000_000)));
    s.inject(2, bad, &[]);
    assert_eq!(s.expect(2).flags(), RST);
    assert_eq!(s.st.tcp_stats().syn_cookies_accepted, 0);
    // The real ACK: a window of 100 scaled by 2^3 is 800 bytes.
    let mut ack = s.seg(ACK, 9001, ck.seq().wrapping_add(1), 100);
    ack.timestamp = Some((701, tsval));
    s.inject(3, ack, &[]);
    assert_eq!(s.st.tcp_stats().syn_cookies_accepted, 1);
    let (c, _) = s.st.tcp_accept(l).unwrap();
    s.call(|st, out, now| st.tcp_send(out, c, &[7u8; 3000], now))
        .unwrap();
    let first = s.expect(4);
    assert_eq!(
        first.payload.len(),
        800,
        "the peer's window is scaled: 100 << 3"
    );
    assert_eq!(
        first.repr.timestamp.map(|t| t.1),
        Some(701),
        "timestamps stay on, echoing the peer"
    );
    assert!(first.repr.timestamp.unwrap().0 >= tsval);
    s.expect_none(5);
}

#[test]
fn syn_cookies_when_the_backlog_is_full() {
    let mut s = Script::new(no_delack());
    let l =
        s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 1)
            .unwrap();
    let mut syn = s.seg(SYN, IRS, 0, 65535);
    syn.max_seg_size = Some(1460);
    syn.window_scale = Some(3);
    s.inject(0, syn, &[]);
    assert_eq!(s.expect(0).repr.window_scale, Some(7));
    // A second client while the first is half open: a cookie, no state.
    s.peer = SocketAddrV4::new(PEER, 5001);
    let mut syn2 = s.seg(SYN, 5000, 0, 65535);
    syn2.max_seg_size = Some(1400);
    syn2.window_scale = Some(3);
    s.inject(1, syn2, &[]);
    let ck = s.expect(1);
    assert_eq!(ck.flags(), SYN | ACK);
    assert_eq!(ck.repr.window_scale, None, "a cookie keeps no options");
    assert_eq!(s.st.tcp_stats().syn_cookies_sent, 1);
    assert_eq!(
        s.st.tcp_connections().len(),
        2,
        "listener and the first child only"
    );
    // A forged ACK does not pass.
    s.inject(2, s.seg(ACK, 5001, ck.seq().wrapping_add(7), 65535), &[]);
    assert_eq!(s.expect(2).flags(), RST);
    // The real one makes a connection with the MSS the cookie encoded.
    s.inject(3, s.seg(ACK, 5001, ck.seq().wrapping_add(1), 65535), b"hi");
    assert_eq!(s.st.tcp_stats().syn_cookies_accepted, 1);
    s.st.take_events();
    let (c, from) = s.st.tcp_accept(l).unwrap();
    assert_eq!(from.port(), 5001);
    assert!(
        s.st.take_events().contains(&crate::StackEvent::Tcp(c)),
        "data that came before accept raises an event for the new handle"
    );
    assert_eq!(s.st.tcp_info(c).unwrap().mss, 1400);
    let mut buf = [0u8; 4];
    assert_eq!(
        s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now)),
        Ok(2)
    );
}

#[test]
fn keepalive_probes_and_timeout() {
    let mut cfg = no_delack();
    cfg.tcp.keepalive_idle = Duration::from_secs(10);
    cfg.tcp.keepalive_interval = Duration::from_secs(1);
    cfg.tcp.keepalive_probes = 2;
    let (mut s, c, iss) = active(cfg);
    s.st.tcp_set_keepalive(c, true).unwrap();
    let p = s.expect(10_011);
    assert_eq!((p.flags(), p.seq(), p.payload.len()), (ACK, iss, 0));
    assert_eq!(s.ms(p.at), 10_010);
    // Answered: idle again.
    s.inject(10_012, s.seg(ACK, IRS + 1, iss + 1, 65535), &[]);
    let p = s.expect(20_013);
    assert_eq!(s.ms(p.at), 20_012);
    let p = s.expect(21_013);
    assert_eq!(s.ms(p.at), 21_012);
    s.advance(s.t(22_100));
    assert_eq!(s.st.tcp_poll(c).error, Some(TcpError::TimedOut));
}

#[test]
fn nagle_holds_small_segments() {
    let (mut s, c, iss) = active(no_delack());
    s.call(|st, out, now| st.tcp_send(out, c, b"a", now))
        .unwrap();
    assert_eq!(s.expect(10).payload, b"a");
    s.call(|st, out, now| st.tcp_send(out, c, b"b", now))
        .unwrap();
    s.call(|st, out, now| st.tcp_send(out, c, b"c", now))
        .unwrap();
    s.expect_none(15);
    s.inject(15, s.seg(ACK, IRS + 1, iss + 2, 65535), &[]);
    assert_eq!(s.expect(15).payload, b"bc", "coalesced after the ACK");
    s.st.tcp_set_nodelay(c, true).unwrap();
    s.call(|st, out, now| st.tcp_send(out, c, b"d", now))
        .unwrap();
    assert_eq!(s.expect(15).payload, b"d", "no Nagle: at once");
}

#[test]
fn urgent_mark() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    let mut d = s.seg(ACK | TcpFlags::URG, IRS + 1, iss + 1, 1000);
    d.urgent_at = 4; // RFC 6093: the byte before offset 4 is the urgent one
    s.inject(5, d, b"abcdef");
    assert_eq!(s.expect(5).ack(), IRS + 7);
    assert_eq!(s.st.tcp_urgent_mark(c), Some(3));
    let mut buf = [0u8; 3];
    s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now))
        .unwrap();
    assert_eq!(s.st.tcp_urgent_mark(c), Some(0), "at the mark");
    s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now))
        .unwrap();
    assert_eq!(s.st.tcp_urgent_mark(c), None);
    // Sending urgent data sets URG with the pointer after it.
    s.call(|st, out, now| st.tcp_send_urgent(out, c, b"\xff\xf2", now))
        .unwrap();
    let u = s.expect(6);
    assert!(u.flags().urg(), "{}", u.repr);
    assert_eq!(u.repr.urgent_at, 2);
}

#[test]
fn icmp_errors() {
    // Port unreachable while connecting: a hard error.
    let mut s = Script::new(no_delack());
    let c = s.connect();
    let syn = s.expect(0);
    let icmp = icmp_quote(3, 3, 0, &syn, s.local, s.peer);
    let now = s.now;
    let f = icmp_frame(&icmp);
    let iface = s.iface;
    s.call(|st, out, _| st.receive(out, iface, f, now));
    assert_eq!(s.st.tcp_poll(c).error, Some(TcpError::ConnectionRefused));

    // Fragmentation needed on an open connection: smaller segments at once.
    let (mut s, c, _iss) = active(no_delack());
    s.st.tcp_set_nodelay(c, true).unwrap();
    let data = vec![5u8; 3000];
    s.call(|st, out, now| st.tcp_send(out, c, &data, now))
        .unwrap();
    let segs = s.drain();
    assert_eq!(segs[0].payload.len(), 1460);
    let icmp = icmp_quote(3, 4, 1000, &segs[0], s.local, s.peer);
    let now = s.now;
    let f = icmp_frame(&icmp);
    let iface = s.iface;
    s.call(|st, out, _| st.receive(out, iface, f, now));
    let again = s.drain();
    assert!(!again.is_empty());
    assert!(
        again.iter().all(|g| g.payload.len() <= 960),
        "MSS from the path MTU"
    );
    assert_eq!(s.st.tcp_info(c).unwrap().mss, 960);
}

/// An ICMP error from 10.0.0.2 quoting `seg` as we sent it.
fn icmp_quote(
    t: u8,
    code: u8,
    mtu: u16,
    seg: &super::script::Seg,
    local: SocketAddrV4,
    remote: SocketAddrV4,
) -> Vec<u8> {
    let mut repr = seg.repr;
    repr.payload_len = seg.payload.len();
    let f = super::script::frame(&repr, &seg.payload, *local.ip(), *remote.ip());
    let quoted = &f.as_slice()[14..14 + 28];
    let mut m = vec![t, code, 0, 0, 0, 0];
    m.extend_from_slice(&mtu.to_be_bytes());
    m.extend_from_slice(quoted);
    let c = wire::checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn icmp_frame(icmp: &[u8]) -> crate::PacketBuf {
    use wire::{IpProtocol, Ipv4OptionsBuf, Ipv4Packet, Ipv4Repr};
    let mut b = crate::PacketBuf::from_slice(64, icmp);
    let ip = Ipv4Repr {
        src_addr: PEER,
        dst_addr: super::script::US,
        protocol: IpProtocol::Icmp,
        payload_len: icmp.len(),
        ttl: 64,
        tos: 0,
        ident: 9,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionsBuf::new(),
    };
    b.prepend(20).unwrap();
    ip.emit(&mut Ipv4Packet::new_unchecked(b.as_mut_slice()));
    b.prepend(14).unwrap();
    let s = b.as_mut_slice();
    s[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    s[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
    s[12..14].copy_from_slice(&[8, 0]);
    b
}

#[test]
fn syn_received_reset_and_synack_retransmission() {
    let mut s = Script::new(no_delack());
    let l =
        s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
            .unwrap();
    s.inject(0, s.seg(SYN, IRS, 0, 65535), &[]);
    let sa = s.expect(0);
    // No ACK: the SYN-ACK again after the initial RTO (1 s), then 2 s later.
    let r1 = s.expect(1000);
    assert_eq!((r1.flags(), r1.seq()), (SYN | ACK, sa.seq()));
    let r2 = s.expect(3000);
    assert_eq!(s.ms(r2.at), 3000);
    // A retransmitted SYN is answered with the SYN-ACK too.
    s.inject(3001, s.seg(SYN, IRS, 0, 65535), &[]);
    assert_eq!(s.expect(3001).flags(), SYN | ACK);
    // RST at RCV.NXT: the half-open connection goes; the listener stays.
    s.inject(3002, s.seg(RST, IRS + 1, 0, 0), &[]);
    let rows = s.st.tcp_connections();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, TcpState::Listen);
    assert!(matches!(s.st.tcp_accept(l), Err(TcpError::WouldBlock)));
    s.expect_none(20_000);
}

#[test]
fn ack_for_wrong_iss_in_syn_received_is_reset() {
    let mut s = Script::new(no_delack());
    s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
        .unwrap();
    s.inject(0, s.seg(SYN, IRS, 0, 65535), &[]);
    let sa = s.expect(0);
    s.inject(1, s.seg(ACK, IRS + 1, sa.seq().wrapping_add(9), 65535), &[]);
    let r = s.expect(1);
    assert_eq!((r.flags(), r.seq()), (RST, sa.seq().wrapping_add(9)));
}

#[test]
fn shutdown_before_the_handshake_completes() {
    let mut s = Script::new(no_delack());
    let c = s.connect();
    let iss = s.expect(0).seq();
    // Simultaneous open, then shut down in SYN-RECEIVED: FIN after the handshake.
    s.inject(1, s.seg(SYN, IRS, 0, 65535), &[]);
    s.expect(1);
    s.call(|st, out, now| st.tcp_shutdown_write(out, c, now))
        .unwrap();
    s.inject(2, s.seg(ACK, IRS + 1, iss + 1, 65535), &[]);
    let f = s.expect(2);
    assert_eq!((f.flags(), f.seq()), (FIN | ACK, iss + 1));
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::FinWait1);
}

mod arbitrary {
    //! Arbitrary segments against a listener and an open connection: never a panic, and the
    //! connection's invariants hold.
    use super::*;
    use proptest::prelude::*;

    /// (flags, seq offset, ack offset, window, urgent pointer, a SACK block, data length).
    type Fields = (u8, u32, u32, u16, u16, Option<(u32, u32)>, usize);

    fn segs() -> impl Strategy<Value = Vec<Fields>> {
        proptest::collection::vec(
            (
                any::<u8>(),
                0u32..8_000,
                0u32..8_000,
                any::<u16>(),
                any::<u16>(),
                proptest::option::of((0u32..8_000, 0u32..8_000)),
                0usize..3000,
            ),
            1..40,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_segments(list in segs(), opts in any::<bool>()) {
            let (mut s, l, c, iss) = passive(StackConfig::default(), opts);
            s.call(|st, out, now| st.tcp_send(out, c, &[1u8; 5000], now)).unwrap();
            for (i, (fl, dseq, dack, win, urg, sack, len)) in list.into_iter().enumerate() {
                let mut g = s.seg(
                    TcpFlags(fl),
                    IRS.wrapping_add(dseq).wrapping_sub(100),
                    iss.wrapping_add(dack).wrapping_sub(100),
                    win,
                );
                g.urgent_at = urg;
                if let Some((a, b)) = sack {
                    g.sack_ranges[0] = Some((iss.wrapping_add(a), iss.wrapping_add(b)));
                }
                if opts {
                    g.timestamp = Some((600 + i as u32, 1));
                }
                let payload = vec![0xabu8; len];
                s.inject(10 + i as u64 * 7, g, &payload);
                let mut buf = [0u8; 4096];
                let _ = s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now));
                if let Some(info) = s.st.tcp_info(c) {
                    prop_assert!(info.send_queue <= 5000);
                    prop_assert!(info.cwnd > 0);
                }
                let _ = s.st.tcp_poll(l);
            }
            s.advance(s.t(200_000));
            let _ = s.drain();
        }
    }
}

#[test]
fn our_zero_window_probe_answers_and_update() {
    let mut cfg = no_delack();
    cfg.tcp.recv_buffer = 2000;
    let (mut s, _l, c, iss) = passive(cfg, false);
    s.inject(5, s.seg(ACK, IRS + 1, iss + 1, 1000), &[1u8; 1460]);
    let a = s.expect(5);
    assert_eq!((a.ack(), a.repr.window_len), (IRS + 1461, 540));
    s.inject(6, s.seg(ACK, IRS + 1461, iss + 1, 1000), &[2u8; 600]);
    let a = s.expect(6);
    assert_eq!(
        (a.ack(), a.repr.window_len),
        (IRS + 2001, 0),
        "cut to the room left"
    );
    // A probe into the closed window: answered with the same ACK and window.
    s.inject(100, s.seg(ACK, IRS + 2001, iss + 1, 1000), b"x");
    let a = s.expect(100);
    assert_eq!((a.ack(), a.repr.window_len), (IRS + 2001, 0));
    // Reading opens it: a window update goes out by itself.
    let mut buf = [0u8; 1500];
    s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now))
        .unwrap();
    let u = s.expect(100);
    assert_eq!((u.ack(), u.repr.window_len), (IRS + 2001, 1500));
}

#[test]
fn small_window_override_timer() {
    let (mut s, c, iss) = active(no_delack());
    // The peer's window shrinks to 100 bytes (of a 65535 maximum): not worth a segment (SWS) ...
    s.inject(20, s.seg(ACK, IRS + 1, iss + 1, 100), &[]);
    s.call(|st, out, now| st.tcp_send(out, c, &[3u8; 5000], now))
        .unwrap();
    s.expect_none(25);
    // ... until the override timer sends what fits.
    let d = s.expect(2000);
    assert_eq!((d.seq(), d.payload.len()), (iss + 1, 100));
}
