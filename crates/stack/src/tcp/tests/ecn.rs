//! RFC 3168 on virtual time: ECN negotiated in the handshake (as a listener and as a client,
//! per `TcpEcn`), CE marks echoed with ECE until CWR, ECT(0) on new data only, and the
//! sender's window reduced once per window of data for ECE, with CWR on the next new data.

use super::conformance::{no_delack, ACK, IRS, PSH, SYN};
use super::script::Script;
use crate::{StackConfig, TcpEcn, TcpHandle};
use std::net::{Ipv4Addr, SocketAddrV4};
use wire::tcp::TcpFlags;

const ECE: TcpFlags = TcpFlags::ECE;
const CWR: TcpFlags = TcpFlags::CWR;

fn cfg(ecn: TcpEcn) -> StackConfig {
    let mut c = no_delack();
    c.tcp.ecn = ecn;
    c
}

/// A connection the peer opens with `syn_flags` in its SYN: (script, connection, our ISS, the
/// SYN-ACK's flags).
fn accepted(cfg: StackConfig, syn_flags: TcpFlags) -> (Script, TcpHandle, u32, TcpFlags) {
    let mut s = Script::new(cfg);
    let l =
        s.st.tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
            .unwrap();
    let mut syn = s.seg(SYN | syn_flags, IRS, 0, 65535);
    syn.max_seg_size = Some(1460);
    s.inject(0, syn, &[]);
    let sa = s.expect(0);
    let iss = sa.seq();
    s.inject(1, s.seg(ACK, IRS + 1, iss.wrapping_add(1), 65535), &[]);
    let (c, _) = s.st.tcp_accept(l).unwrap();
    (s, c, iss, sa.flags())
}

#[test]
fn a_listener_accepts_ecn_when_asked_unless_off() {
    let (.., flags) = accepted(cfg(TcpEcn::Passive), ECE | CWR);
    assert_eq!(flags, SYN | ACK | ECE);
    let (.., flags) = accepted(cfg(TcpEcn::Passive), TcpFlags::default());
    assert_eq!(flags, SYN | ACK, "not asked");
    let (.., flags) = accepted(cfg(TcpEcn::Off), ECE | CWR);
    assert_eq!(flags, SYN | ACK, "off");
    // ECE alone is not a request (RFC 3168 6.1.1).
    let (.., flags) = accepted(cfg(TcpEcn::On), ECE);
    assert_eq!(flags, SYN | ACK);
}

#[test]
fn a_ce_mark_is_echoed_until_cwr() {
    let (mut s, _c, iss, _) = accepted(cfg(TcpEcn::Passive), ECE | CWR);
    let ack = iss.wrapping_add(1);
    // Data marked CE: the ACK carries ECE.
    s.ecn_in = 3;
    s.inject(10, s.seg(ACK | PSH, IRS + 1, ack, 65535), b"marked");
    let a = s.expect(10);
    assert_eq!(a.flags(), ACK | ECE);
    assert_eq!(a.ecn, 0, "a pure ACK is not ECN-capable");
    // Unmarked data before the sender's CWR: still ECE.
    s.ecn_in = 2;
    s.inject(20, s.seg(ACK | PSH, IRS + 7, ack, 65535), b"more");
    assert_eq!(s.expect(20).flags(), ACK | ECE);
    // CWR: the echo stops.
    s.inject(30, s.seg(ACK | PSH | CWR, IRS + 11, ack, 65535), b"cwr");
    assert_eq!(s.expect(30).flags(), ACK);
    assert_eq!(s.st.tcp_stats().ce_received, 1);
}

#[test]
fn ece_halves_the_window_once_per_window_and_cwr_follows() {
    let (mut s, c, iss, _) = accepted(cfg(TcpEcn::Passive), ECE | CWR);
    let data = vec![b'x'; 4000];
    s.call(|st, out, now| st.tcp_send(out, c, &data, now))
        .unwrap();
    let segs = s.drain();
    assert!(segs.len() >= 2, "{segs:?}");
    assert!(
        segs.iter().all(|x| x.ecn == 2 && !x.flags().contains(CWR)),
        "new data is ECT(0)"
    );
    let before = s.st.tcp_info(c).unwrap().cwnd;
    let first_end = iss.wrapping_add(1 + segs[0].payload.len() as u32);
    // The peer echoes a CE mark: the window is reduced (CUBIC: times 0.7) at once.
    s.inject(10, s.seg(ACK | ECE, IRS + 1, first_end, 65535), &[]);
    let after = s.st.tcp_info(c).unwrap().cwnd;
    assert!(after < before, "cwnd {before} -> {after}");
    assert_eq!(s.st.tcp_stats().ecn_reductions, 1);
    // More ECE for data sent before the reduction: no second reduction.
    let second_end = first_end.wrapping_add(segs[1].payload.len() as u32);
    s.inject(11, s.seg(ACK | ECE, IRS + 1, second_end, 65535), &[]);
    assert_eq!(s.st.tcp_stats().ecn_reductions, 1);
    // The rest of the data goes out, CWR on its first segment only, all ECT(0).
    let next = s.drain();
    assert!(!next.is_empty(), "the rest of the data");
    assert!(next[0].flags().contains(CWR), "{}", next[0].repr);
    assert!(next.iter().all(|x| x.ecn == 2));
    assert!(next.iter().skip(1).all(|x| !x.flags().contains(CWR)));
}

#[test]
fn a_client_asks_for_ecn_only_when_on() {
    for (ecn, asks) in [
        (TcpEcn::On, true),
        (TcpEcn::Passive, false),
        (TcpEcn::Off, false),
    ] {
        let mut s = Script::new(cfg(ecn));
        let c = s.connect();
        let syn = s.expect(0);
        assert_eq!(syn.flags().contains(ECE | CWR), asks, "{ecn:?}");
        if !asks {
            continue;
        }
        // The peer accepts: our data is ECT(0).
        let iss = syn.seq();
        let mut sa = s.seg(SYN | ACK | ECE, IRS, iss.wrapping_add(1), 65535);
        sa.max_seg_size = Some(1460);
        s.inject(10, sa, &[]);
        let _ = s.drain();
        s.call(|st, out, now| st.tcp_send(out, c, b"hello", now))
            .unwrap();
        let d = s.drain();
        assert_eq!(d.last().map(|x| x.ecn), Some(2));
    }
}
