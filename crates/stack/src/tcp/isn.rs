//! Keyed hashing for initial sequence numbers (RFC 6528) and SYN cookies: SipHash-2-4 over the
//! 4-tuple with a key drawn from the stack's injected [`Rng`](crate::Rng) when the stack starts.

use std::net::SocketAddrV4;

/// SipHash-2-4 (Aumasson and Bernstein) of `data` under `key`.
pub(crate) fn siphash24(key: [u64; 2], data: &[u8]) -> u64 {
    let mut v0 = 0x736f_6d65_7073_6575 ^ key[0];
    let mut v1 = 0x646f_7261_6e64_6f6d ^ key[1];
    let mut v2 = 0x6c79_6765_6e65_7261 ^ key[0];
    let mut v3 = 0x7465_6462_7974_6573 ^ key[1];
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let m = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        v3 ^= m;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= m;
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    let m = u64::from_le_bytes(last);
    v3 ^= m;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= m;
    v2 ^= 0xff;
    for _ in 0..4 {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    v0 ^ v1 ^ v2 ^ v3
}

/// The 4-tuple and an extra word as hash input.
fn tuple_bytes(local: SocketAddrV4, remote: SocketAddrV4, extra: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&local.ip().octets());
    b[4..8].copy_from_slice(&remote.ip().octets());
    b[8..10].copy_from_slice(&local.port().to_be_bytes());
    b[10..12].copy_from_slice(&remote.port().to_be_bytes());
    b[12..].copy_from_slice(&extra.to_be_bytes());
    b
}

/// RFC 6528: ISN = M + F(4-tuple, key), M a clock ticking every 4 µs.
pub(crate) fn isn(key: [u64; 2], local: SocketAddrV4, remote: SocketAddrV4, now_ns: u64) -> u32 {
    let m = (now_ns / 4000) as u32;
    m.wrapping_add(siphash24(key, &tuple_bytes(local, remote, 0)) as u32)
}

/// The MSS values a SYN cookie can encode (3 bits), as Linux's table.
pub(crate) const COOKIE_MSS: [u16; 8] = [536, 1024, 1220, 1300, 1400, 1440, 1460, 8960];

/// A SYN cookie: 5 bits of a 64-second counter, 3 bits of MSS index, 24 bits of keyed hash of the
/// 4-tuple, counter and the client's ISN.
pub(crate) fn cookie(
    key: [u64; 2],
    local: SocketAddrV4,
    remote: SocketAddrV4,
    client_isn: u32,
    now_ns: u64,
    mss: u16,
) -> u32 {
    let t = (now_ns / 64_000_000_000) as u32;
    let idx = COOKIE_MSS.iter().rposition(|m| *m <= mss).unwrap_or(0) as u32;
    cookie_with(key, local, remote, client_isn, t, idx)
}

fn cookie_with(
    key: [u64; 2],
    local: SocketAddrV4,
    remote: SocketAddrV4,
    client_isn: u32,
    t: u32,
    idx: u32,
) -> u32 {
    let mut b = [0u8; 20];
    b[..16].copy_from_slice(&tuple_bytes(local, remote, client_isn));
    b[16..].copy_from_slice(&t.to_be_bytes());
    let h = siphash24(key, &b) as u32 & 0x00ff_ffff;
    ((t & 31) << 27) | (idx << 24) | h
}

/// Checks a cookie (the ACK's acknowledgment number less one) made within the last two minutes;
/// returns the MSS it encodes.
pub(crate) fn check_cookie(
    key: [u64; 2],
    local: SocketAddrV4,
    remote: SocketAddrV4,
    client_isn: u32,
    now_ns: u64,
    cookie: u32,
) -> Option<u16> {
    let now_t = (now_ns / 64_000_000_000) as u32;
    let t5 = cookie >> 27;
    let idx = (cookie >> 24) & 7;
    for age in 0..2u32 {
        let t = now_t.wrapping_sub(age);
        if t & 31 == t5 && cookie_with(key, local, remote, client_isn, t, idx) == cookie {
            return COOKIE_MSS.get(idx as usize).copied();
        }
    }
    None
}

/// The low bits of a cookie SYN-ACK's TSval that carry the client's SYN options, as Linux
/// does: four bits of its window scale (15: none offered) and one of SACK-permitted. The
/// client echoes them in the handshake's ACK, so a cookie connection keeps those options.
const TS_OPTION_BITS: u32 = 5;
const NO_WSCALE: u32 = 0xf;

/// A cookie SYN-ACK's TSval: the clock `ts` with its low bits replaced by the options (never
/// later than `ts`, so the connection's later TSvals still grow).
pub(crate) fn cookie_tsval(ts: u32, wscale: Option<u8>, sack: bool) -> u32 {
    let ws = wscale.map_or(NO_WSCALE, |s| u32::from(s.min(14)));
    let opts = ws | (u32::from(sack) << 4);
    let mask = (1 << TS_OPTION_BITS) - 1;
    let base = ts & !mask;
    // Keep the value at or below `ts`: step back one period if the options would pass it.
    if base | opts > ts {
        base.wrapping_sub(1 << TS_OPTION_BITS) | opts
    } else {
        base | opts
    }
}

/// The options a cookie SYN-ACK's TSval carried, from the TSecr the client echoed: window
/// scale (None: not offered) and SACK-permitted.
pub(crate) fn cookie_ts_options(tsecr: u32) -> (Option<u8>, bool) {
    let ws = tsecr & 0xf;
    (
        (ws != NO_WSCALE).then_some(ws.min(14) as u8),
        tsecr & 0x10 != 0,
    )
}

/// The timestamp clock offset of a connection made from a SYN cookie: keyed by the 4-tuple,
/// so that the SYN-ACK (sent with no state kept) and the connection made at the ACK agree.
pub(crate) fn cookie_ts_offset(key: [u64; 2], local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
    siphash24(key, &tuple_bytes(local, remote, 0x5453_4f46)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn cookie_timestamps_carry_the_options_and_never_run_ahead() {
        for ts in [0u32, 31, 32, 1000, 1_000_031, u32::MAX] {
            for ws in [None, Some(0), Some(7), Some(14)] {
                for sack in [false, true] {
                    let v = cookie_tsval(ts, ws, sack);
                    assert_eq!(cookie_ts_options(v), (ws, sack), "{ts} {ws:?} {sack}");
                    assert!(ts.wrapping_sub(v) < 64, "{ts} -> {v}");
                }
            }
        }
    }

    #[test]
    fn siphash_reference_vector() {
        // The SipHash paper's appendix: key 00..0f, message 00..0e, 0xa129ca6149be45e5.
        let key = [
            u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]),
            u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]),
        ];
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(siphash24(key, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn isn_and_cookies() {
        let k = [1, 2];
        let l = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
        let r = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 40000);
        let r2 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 40001);
        assert_ne!(isn(k, l, r, 0), isn(k, l, r2, 0));
        assert_eq!(isn(k, l, r, 4000).wrapping_sub(isn(k, l, r, 0)), 1);
        let now = 1_000_000_000_000;
        let c = cookie(k, l, r, 77, now, 1460);
        assert_eq!(
            check_cookie(k, l, r, 77, now + 5_000_000_000, c),
            Some(1460)
        );
        assert_eq!(check_cookie(k, l, r, 78, now, c), None);
        assert_eq!(check_cookie(k, l, r2, 77, now, c), None);
        assert_eq!(check_cookie([3, 4], l, r, 77, now, c), None);
        assert_eq!(check_cookie(k, l, r, 77, now + 200_000_000_000, c), None);
        let c = cookie(k, l, r, 77, now, 1000);
        assert_eq!(check_cookie(k, l, r, 77, now, c), Some(536));
    }
}
