//! ACKs held over a driver's batch of frames (`tcp_hold_acks` / `tcp_release_acks`) and reads
//! into a byte queue (`tcp_recv_into`).

use super::conformance::{passive, ACK, IRS};
use crate::{RecvQueue, StackConfig, TcpError};

#[test]
fn a_batch_of_super_frames_gets_one_ack_at_its_end() {
    let (mut s, _l, _c, iss) = passive(StackConfig::default(), false);
    // Three GRO'd super-frames of two full segments each: each alone is ACKed at once.
    let frame = [5u8; 2920];
    s.inject(5, s.seg(ACK, IRS + 1, iss + 1, 1000), &frame);
    assert_eq!(s.expect(5).ack(), IRS + 1 + 2920, "not held: ACKed at once");
    s.call(|st, _, _| st.tcp_hold_acks());
    for k in 1..4u32 {
        s.inject(6, s.seg(ACK, IRS + 1 + k * 2920, iss + 1, 1000), &frame);
    }
    assert!(s.drain().is_empty(), "held for the batch's end");
    s.call(|st, out, now| st.tcp_release_acks(out, now));
    let acks = s.drain();
    assert_eq!(acks.len(), 1, "one ACK for the batch: {acks:?}");
    assert_eq!(acks[0].ack(), IRS + 1 + 4 * 2920);
    // Released: the next one goes at once again.
    s.inject(7, s.seg(ACK, IRS + 1 + 4 * 2920, iss + 1, 1000), &frame);
    assert_eq!(s.expect(7).ack(), IRS + 1 + 5 * 2920);
}

#[test]
fn out_of_order_data_is_acked_at_once_while_acks_are_held() {
    let (mut s, _l, _c, iss) = passive(StackConfig::default(), false);
    s.call(|st, _, _| st.tcp_hold_acks());
    // A hole: the duplicate ACK must reach the sender now (fast retransmit counts them).
    s.inject(5, s.seg(ACK, IRS + 1 + 1460, iss + 1, 1000), &[1u8; 1460]);
    assert_eq!(s.expect(5).ack(), IRS + 1, "a duplicate ACK, not held");
    // The hole fills: ACKed at once too (RFC 5681 4.2).
    s.inject(6, s.seg(ACK, IRS + 1, iss + 1, 1000), &[1u8; 1460]);
    assert_eq!(s.expect(6).ack(), IRS + 1 + 2920);
    s.call(|st, out, now| st.tcp_release_acks(out, now));
    assert!(s.drain().is_empty(), "nothing was left to acknowledge");
}

#[test]
fn a_held_ack_still_goes_by_the_delayed_ack_timer() {
    let (mut s, _l, _c, iss) = passive(StackConfig::default(), false);
    s.call(|st, _, _| st.tcp_hold_acks());
    s.inject(5, s.seg(ACK, IRS + 1, iss + 1, 1000), &[9u8; 2920]);
    // Never released (a driver that forgot): the 40 ms timer sends it.
    s.expect_none(44);
    assert_eq!(s.expect(45).ack(), IRS + 1 + 2920);
}

#[test]
fn recv_into_moves_the_bytes_and_reports_the_end() {
    let (mut s, _l, c, iss) = passive(StackConfig::default(), false);
    s.inject(5, s.seg(ACK, IRS + 1, iss + 1, 1000), b"hello ");
    s.inject(6, s.seg(ACK, IRS + 7, iss + 1, 1000), b"world");
    let mut q = RecvQueue::new();
    let n = s
        .call(|st, out, now| st.tcp_recv_into(out, c, &mut q, 4, now))
        .unwrap();
    assert_eq!(n, 4, "no more than asked");
    let n = s
        .call(|st, out, now| st.tcp_recv_into(out, c, &mut q, usize::MAX, now))
        .unwrap();
    assert_eq!(n, 7);
    let mut out = [0u8; 32];
    assert_eq!(q.read(&mut out), 11);
    assert_eq!(&out[..11], b"hello world");
    let r = s.call(|st, out, now| st.tcp_recv_into(out, c, &mut q, usize::MAX, now));
    assert_eq!(r, Err(TcpError::WouldBlock));
    s.inject(
        7,
        s.seg(ACK | super::conformance::FIN, IRS + 12, iss + 1, 1000),
        b"",
    );
    let r = s.call(|st, out, now| st.tcp_recv_into(out, c, &mut q, usize::MAX, now));
    assert_eq!(r, Ok(0), "end of stream");
}
