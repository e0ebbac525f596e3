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

/// The scaled window field may round up past the buffer's room (so as not to move the right
/// edge left); the bytes it promised must still be taken, or the peer's SND.NXT ends up past
/// a zero window where none of its ACKs is acceptable (netcp's echo stalled on that).
#[test]
fn data_up_to_the_edge_the_peer_was_told_is_taken() {
    use super::conformance::SYN;
    use std::net::{Ipv4Addr, SocketAddrV4};
    let mut cfg = StackConfig::default();
    cfg.tcp.recv_buffer = 200_000;
    cfg.tcp.delayed_ack = false;
    let mut s = super::script::Script::new(cfg);
    let l =
        s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
            .unwrap();
    let mut syn = s.seg(SYN, IRS, 0, 65535);
    syn.max_seg_size = Some(1460);
    syn.window_scale = Some(2);
    s.inject(0, syn, &[]);
    let sa = s.expect(0);
    assert_eq!(
        sa.repr.window_scale,
        Some(2),
        "200,000 bytes need a shift of 2"
    );
    let iss = sa.seq().wrapping_add(1);
    s.inject(1, s.seg(ACK, IRS + 1, iss, 65535), &[]);
    let (c, _) = s.st.tcp_accept(l).unwrap();
    // 4 bytes: the window (199,996) is a multiple of 4, the peer is told the exact edge.
    s.inject(2, s.seg(ACK, IRS + 1, iss, 65535), b"abcd");
    let a = s.expect(2);
    let edge = |a: &super::script::Seg| a.ack() + (u32::from(a.repr.window_len) << 2);
    assert_eq!(edge(&a), IRS + 1 + 200_000);
    // One more byte: 199,995 rounds up to 199,996, one byte past the room.
    s.inject(3, s.seg(ACK, IRS + 5, iss, 65535), b"e");
    let a = s.expect(3);
    let told = edge(&a);
    assert_eq!(told, IRS + 1 + 200_001, "rounded up, not moved left");
    // The peer fills the window it was told, to the last byte.
    let mut seq = IRS + 6;
    while seq < told {
        let n = (told - seq).min(1000) as usize;
        s.inject(4, s.seg(ACK, seq, iss, 65535), &vec![1u8; n]);
        seq += n as u32;
    }
    let last = s.drain().pop().expect("ACKs");
    assert_eq!(last.ack(), told, "every byte inside the told window taken");
    assert_eq!(last.repr.window_len, 0);
    assert_eq!(s.st.tcp_info(c).unwrap().recv_queue, 200_001);
    // The peer's pure ACK at its SND.NXT (now RCV.NXT) is acceptable on a zero window.
    let r = s.call(|st, out, now| st.tcp_send(out, c, b"reply", now));
    assert_eq!(r, Ok(5));
    let d = s.expect(4);
    s.inject(5, s.seg(ACK, told, d.seq().wrapping_add(5), 65535), &[]);
    assert_eq!(s.st.tcp_info(c).unwrap().send_queue, 0, "its ACK was taken");
}
