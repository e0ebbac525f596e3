//! Closing scripts: active, passive and simultaneous close, FIN-WAIT-1 straight to TIME-WAIT,
//! the TIME-WAIT table (retransmitted FINs, RFC 1337, RFC 6191 reopening, its bound), FINs out of
//! order and with data, aborts and listener close.

use super::conformance::{active, no_delack, passive, ACK, FIN, IRS, RST, SYN};
use super::script::{Script, PEER};
use crate::TcpState;
use std::net::SocketAddrV4;

#[test]
fn active_close_and_time_wait() {
    let (mut s, c, iss) = active(no_delack());
    s.call(|st, out, now| st.tcp_shutdown_write(out, c, now))
        .unwrap();
    let f = s.expect(10);
    assert_eq!((f.flags(), f.seq()), (FIN | ACK, iss + 1));
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::FinWait1);
    s.inject(20, s.seg(ACK, IRS + 1, iss + 2, 65535), &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::FinWait2);
    // Half-close: data still comes in.
    s.inject(21, s.seg(ACK, IRS + 1, iss + 2, 65535), b"more");
    assert_eq!(s.expect(21).ack(), IRS + 5);
    s.inject(22, s.seg(FIN | ACK, IRS + 5, iss + 2, 65535), &[]);
    assert_eq!(s.expect(22).ack(), IRS + 6);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::TimeWait);
    let mut buf = [0u8; 8];
    assert_eq!(
        s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now)),
        Ok(4)
    );
    assert_eq!(
        s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now)),
        Ok(0)
    );
    s.call(|st, out, now| st.tcp_close(out, c, now));
    // The FIN again (our ACK was lost): ACKed from the TIME-WAIT table.
    s.inject(1000, s.seg(FIN | ACK, IRS + 5, iss + 2, 65535), &[]);
    let a = s.expect(1000);
    assert_eq!((a.flags(), a.seq(), a.ack()), (ACK, iss + 2, IRS + 6));
    let rows = s.st.tcp_connections();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, TcpState::TimeWait);
    // 2 MSL after the last FIN it is gone; a segment then gets a reset.
    s.advance(s.t(61_001));
    assert!(s.st.tcp_connections().is_empty());
    s.inject(61_002, s.seg(ACK, IRS + 6, iss + 2, 65535), &[]);
    assert_eq!(s.expect(61_002).flags(), RST);
}

#[test]
fn passive_close_last_ack() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    s.inject(5, s.seg(FIN | ACK, IRS + 1, iss + 1, 65535), &[]);
    assert_eq!(s.expect(5).ack(), IRS + 2);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::CloseWait);
    assert!(s.st.tcp_poll(c).eof);
    s.call(|st, out, now| st.tcp_send(out, c, b"bye", now))
        .unwrap();
    assert_eq!(s.expect(6).payload, b"bye");
    s.call(|st, out, now| st.tcp_close(out, c, now));
    let f = s.expect(6);
    assert_eq!((f.flags(), f.seq()), (FIN | ACK, iss + 4));
    assert!(s.st.tcp_info(c).is_none(), "the handle is released at once");
    let rows = s.st.tcp_connections();
    assert!(rows
        .iter()
        .any(|r| r.state == TcpState::LastAck && r.handle.is_none()));
    s.inject(7, s.seg(ACK, IRS + 2, iss + 5, 65535), &[]);
    assert!(s
        .st
        .tcp_connections()
        .iter()
        .all(|r| r.state == TcpState::Listen));
}

#[test]
fn simultaneous_close() {
    let (mut s, c, iss) = active(no_delack());
    s.call(|st, out, now| st.tcp_shutdown_write(out, c, now))
        .unwrap();
    s.expect(10);
    // The peer's FIN crosses ours.
    s.inject(11, s.seg(FIN | ACK, IRS + 1, iss + 1, 65535), &[]);
    assert_eq!(s.expect(11).ack(), IRS + 2);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Closing);
    s.inject(12, s.seg(ACK, IRS + 2, iss + 2, 65535), &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::TimeWait);
}

#[test]
fn fin_retransmitted_in_last_ack() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    s.inject(5, s.seg(FIN | ACK, IRS + 1, iss + 1, 65535), &[]);
    s.expect(5);
    s.call(|st, out, now| st.tcp_close(out, c, now));
    let f = s.expect(5);
    let r = s.expect(2000);
    assert_eq!(
        (r.flags(), r.seq()),
        (f.flags(), f.seq()),
        "FIN again after the RTO"
    );
}

#[test]
fn fin_wait_1_straight_to_time_wait() {
    let (mut s, c, iss) = active(no_delack());
    s.call(|st, out, now| st.tcp_shutdown_write(out, c, now))
        .unwrap();
    s.expect(10);
    // The peer ACKs our FIN and sends its own in one segment.
    s.inject(11, s.seg(FIN | ACK, IRS + 1, iss + 2, 65535), &[]);
    assert_eq!(s.expect(11).ack(), IRS + 2);
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::TimeWait);
}

#[test]
fn time_wait_reopened_by_a_new_syn_and_bounded() {
    let mut cfg = no_delack();
    cfg.tcp.time_wait_limit = 1;
    let (mut s, l, c, iss) = passive(cfg, false);
    // We close first: FIN-WAIT-1, -2, TIME-WAIT (orphan, in the table).
    s.call(|st, out, now| st.tcp_close(out, c, now));
    s.expect(2);
    s.inject(3, s.seg(FIN | ACK, IRS + 1, iss + 2, 65535), &[]);
    s.expect(3);
    assert_eq!(s.st.tcp_connections().len(), 2);
    // A new SYN on the same 4-tuple with a higher sequence number: a new connection.
    s.inject(4, s.seg(SYN, IRS + 100_000, 0, 65535), &[]);
    let sa = s.expect(4);
    assert_eq!((sa.flags(), sa.ack()), (SYN | ACK, IRS + 100_001));
    s.inject(
        5,
        s.seg(ACK, IRS + 100_001, sa.seq().wrapping_add(1), 65535),
        &[],
    );
    let (c2, _) = s.st.tcp_accept(l).unwrap();
    // Close it too, then a third on another port: the table keeps one entry, the oldest goes.
    s.call(|st, out, now| st.tcp_close(out, c2, now));
    let f = s.expect(6);
    s.inject(
        7,
        s.seg(FIN | ACK, IRS + 100_001, f.seq().wrapping_add(1), 65535),
        &[],
    );
    s.expect(7);
    let tw = |s: &Script| {
        s.st.tcp_connections()
            .iter()
            .filter(|r| r.state == TcpState::TimeWait)
            .count()
    };
    assert_eq!(tw(&s), 1);
    s.peer = SocketAddrV4::new(PEER, 6000);
    s.inject(8, s.seg(SYN, 1, 0, 65535), &[]);
    let sa = s.expect(8);
    s.inject(9, s.seg(ACK, 2, sa.seq().wrapping_add(1), 65535), &[]);
    let (c3, _) = s.st.tcp_accept(l).unwrap();
    s.call(|st, out, now| st.tcp_close(out, c3, now));
    let f = s.expect(10);
    s.inject(11, s.seg(FIN | ACK, 2, f.seq().wrapping_add(1), 65535), &[]);
    s.expect(11);
    assert_eq!(tw(&s), 1);
    assert_eq!(s.st.tcp_stats().time_wait_drops, 1);
}

#[test]
fn reset_does_not_end_time_wait() {
    let (mut s, c, iss) = active(no_delack());
    s.call(|st, out, now| st.tcp_close(out, c, now));
    s.expect(10);
    s.inject(11, s.seg(FIN | ACK, IRS + 1, iss + 2, 65535), &[]);
    s.expect(11);
    // RFC 1337: an RST (even at the right sequence number) leaves the entry in place.
    s.inject(12, s.seg(RST, IRS + 2, 0, 0), &[]);
    s.expect_none(13);
    assert_eq!(s.st.tcp_connections()[0].state, TcpState::TimeWait);
}

#[test]
fn data_with_fin_and_an_out_of_order_fin() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    // The FIN arrives first, after a gap: held until the data before it comes.
    s.inject(5, s.seg(FIN | ACK, IRS + 6, iss + 1, 1000), b"world");
    assert_eq!(
        s.expect(5).ack(),
        IRS + 1,
        "a gap: ACK at once, FIN not taken"
    );
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Established);
    s.inject(6, s.seg(ACK, IRS + 1, iss + 1, 1000), b"hello");
    assert_eq!(s.expect(6).ack(), IRS + 12, "data and FIN together");
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::CloseWait);
    // Data after the FIN is ignored (RFC 9293 3.10.7.4, CLOSE-WAIT).
    s.inject(7, s.seg(ACK, IRS + 12, iss + 1, 1000), b"late");
    s.expect_none(8);
    let mut buf = [0u8; 32];
    let n = s
        .call(|st, out, now| st.tcp_recv(out, c, &mut buf, now))
        .unwrap();
    assert_eq!(&buf[..n], b"helloworld");
    assert_eq!(
        s.call(|st, out, now| st.tcp_recv(out, c, &mut buf, now)),
        Ok(0)
    );
    assert!(s.st.tcp_poll(c).eof);
}

#[test]
fn abort_sends_reset_and_close_with_unread_data_resets() {
    let (mut s, _l, c, iss) = passive(no_delack(), false);
    s.inject(5, s.seg(ACK, IRS + 1, iss + 1, 1000), b"unread");
    s.expect(5);
    s.call(|st, out, now| st.tcp_close(out, c, now));
    let r = s.expect(5);
    assert_eq!((r.flags(), r.seq(), r.ack()), (RST | ACK, iss + 1, IRS + 7));
    assert!(s
        .st
        .tcp_connections()
        .iter()
        .all(|r| r.state == TcpState::Listen));
}

#[test]
fn close_listener_resets_unaccepted() {
    let (mut s, l, c, iss) = passive(no_delack(), false);
    // A second, established but not accepted.
    s.peer = SocketAddrV4::new(PEER, 5001);
    s.inject(2, s.seg(SYN, 7000, 0, 65535), &[]);
    let sa = s.expect(2);
    s.inject(3, s.seg(ACK, 7001, sa.seq().wrapping_add(1), 65535), &[]);
    assert!(s.st.tcp_poll(l).acceptable);
    assert_eq!(s.st.tcp_info(l).unwrap().recv_queue, 1);
    s.call(|st, out, now| st.tcp_close(out, l, now));
    let r = s.expect(3);
    assert_eq!((r.flags(), r.repr.dst_port), (RST | ACK, 5001));
    assert!(s.st.tcp_poll(l).closed);
    // The accepted one is not touched.
    assert_eq!(s.st.tcp_info(c).unwrap().state, TcpState::Established);
    let _ = iss;
}
