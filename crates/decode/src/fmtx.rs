//! Fast text for summaries and the one-line renderer: numbers and addresses appended to a
//! byte buffer (a [`crate::Text`] or the line) without `core::fmt` (which costs more than the
//! decoding on the one-line path).
//! Every writer prints exactly what the matching `format!` spec prints; the golden-output test
//! holds them to it.

/// Appends to a summary: each method appends one piece and returns the writer, so pieces chain.
/// A writer over `None` (a layer that keeps no summary, see [`crate::Detail`]) does nothing.
pub(crate) struct W<'a>(pub(crate) Option<&'a mut Vec<u8>>);

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends ASCII bytes (digits, hex digits, colons, dots) built on the stack: the digits are
/// computed in pairs from a table without touching the buffer, then appended in one copy.
#[inline]
fn push_ascii(s: &mut Vec<u8>, b: &[u8]) {
    s.extend_from_slice(b);
}

/// `{n}`.
#[inline]
pub(crate) fn push_u64(s: &mut Vec<u8>, n: u64) {
    // Most numbers in a summary are small: one or two digits inline, up to four in one
    // word, up to ten in one block.
    if n < 10 {
        s.push(b'0' + n as u8);
    } else if n < 100 {
        let len = s.len();
        s.extend_from_slice(&pair16(n as u32).to_le_bytes());
        debug_assert_eq!(s.len(), len + 2);
    } else if n < 10_000 {
        push_u32_4(s, n as u32);
    } else {
        match u32::try_from(n) {
            Ok(n) => push_u32(s, n),
            Err(_) => push_u64_long(s, n),
        }
    }
}

/// `{n}` of 100 ≤ `n` < 10,000: two pairs in one word, the leading zero shifted out.
#[inline(always)]
fn push_u32_4(s: &mut Vec<u8>, n: u32) {
    let nd = if n < 1000 { 3 } else { 4 };
    let w = (u32::from(pair16(n / 100)) | u32::from(pair16(n % 100)) << 16) >> (8 * (4 - nd));
    let len = s.len();
    s.extend_from_slice(&w.to_le_bytes());
    s.truncate(len + nd as usize);
}

/// `{n}` of a 32-bit number ≥ 10,000 (ports, sequence numbers, time stamps). The digits
/// are computed zero-padded at fixed places ([`digits8`], no loop), shifted down past the
/// leading zeros as one word and appended as one fixed-size block cut back to the digits:
/// no loop, no `memcpy` call.
#[inline]
fn push_u32(s: &mut Vec<u8>, n: u32) {
    debug_assert!(n >= 10_000);
    if n < 100_000_000 {
        let nd = 5
            + usize::from(n >= 100_000)
            + usize::from(n >= 1_000_000)
            + usize::from(n >= 10_000_000);
        let w = digits8(n) >> (8 * (8 - nd));
        let len = s.len();
        s.extend_from_slice(&w.to_le_bytes());
        s.truncate(len + nd);
    } else {
        // Nine or ten digits: the first one or two before the eight, no shift.
        let (hi, lo) = (n / 100_000_000, n % 100_000_000);
        let low = u128::from(digits8(lo));
        if hi >= 10 {
            push_block(s, u128::from(pair16(hi)) | low << 16, 10);
        } else {
            push_block(s, u128::from(b'0' + hi as u8) | low << 8, 9);
        }
    }
}

/// The eight digits of `n` < 10^8, zero-padded, as ASCII in a little-endian word (first
/// digit in the low byte): the halves, then the pairs, then the digits split in parallel
/// lanes of one 64-bit word, with multiplications by reciprocals (exact for these ranges).
#[inline(always)]
fn digits8(n: u32) -> u64 {
    // 32-bit lanes: the first four digits, the last four.
    let x = u64::from(n / 10_000) | u64::from(n % 10_000) << 32;
    // Each lane (< 10^4) by 100: `* 5243 >> 19`; 16-bit lanes of quotient and remainder.
    let q = (x.wrapping_mul(5243) >> 19) & 0x0000_007f_0000_007f;
    let y = q | (x - q * 100) << 16;
    // Each 16-bit lane (< 100) by 10: `* 103 >> 10`; bytes of tens and ones.
    let q = (y.wrapping_mul(103) >> 10) & 0x000f_000f_000f_000f;
    let z = q | (y - q * 10) << 8;
    z | 0x3030_3030_3030_3030
}

/// Appends the first `n` (≤ 16) bytes of `w` (little-endian): one fixed-size copy, then the
/// length cut back.
#[inline(always)]
fn push_block(s: &mut Vec<u8>, w: u128, n: usize) {
    let len = s.len();
    s.extend_from_slice(&w.to_le_bytes());
    s.truncate(len + n);
}

/// The two ASCII digits of `v % 100` as a little-endian `u16` (tens in the low byte).
#[inline(always)]
fn pair16(v: u32) -> u16 {
    PAIRS16.get((v % 100) as usize).copied().unwrap_or(0x3f3f)
}

/// [`PAIRS`] as little-endian words.
// Built at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const PAIRS16: [u16; 100] = {
    let mut t = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = u16::from_le_bytes([b'0' + (i / 10) as u8, b'0' + (i % 10) as u8]);
        i += 1;
    }
    t
};

/// Each byte's decimal digits followed by a dot, as a little-endian word, with their count
/// (dot included): the pieces of a dotted IPv4 address.
// Built at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const OCTETS: [(u32, u8); 256] = {
    let mut t = [(0u32, 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let (h, te, o) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            (u32::from_le_bytes([b'0' + h, b'0' + te, b'0' + o, b'.']), 4)
        } else if i >= 10 {
            (u32::from_le_bytes([b'0' + te, b'0' + o, b'.', 0]), 3)
        } else {
            (u32::from_le_bytes([b'0' + o, b'.', 0, 0]), 2)
        };
        i += 1;
    }
    t
};

/// The two ASCII digits of 0..100.
// Built at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The two lowercase hex digits of each byte.
// Built at compile time, as PAIRS.
#[allow(clippy::indexing_slicing)]
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

/// The digits of `v` < 100.
#[inline]
fn pair(v: u64) -> [u8; 2] {
    PAIRS.get((v % 100) as usize).copied().unwrap_or(*b"??")
}

/// The two hex digits of a byte.
#[inline]
fn hex_pair(b: u8) -> [u8; 2] {
    HEX_PAIRS.get(usize::from(b)).copied().unwrap_or(*b"??")
}

/// Writes `d` at `b[i..i + 2]`.
#[inline]
fn put2(b: &mut [u8], i: usize, d: [u8; 2]) {
    // Two stores: `copy_from_slice` of a slice the compiler cannot size becomes a `memcpy`
    // call for two bytes.
    if let Some([x, y]) = b.get_mut(i..i + 2) {
        *x = d[0];
        *y = d[1];
    }
}

/// Writes `c` at `b[i]`.
#[inline]
fn put1(b: &mut [u8], i: usize, c: u8) {
    if let Some(x) = b.get_mut(i) {
        *x = c;
    }
}

#[inline(never)]
fn push_u64_long(s: &mut Vec<u8>, mut n: u64) {
    // Pairs of digits into a stack buffer from its end, then one copy.
    let mut b = [0u8; 20];
    let mut i = b.len();
    while n >= 100 && i >= 2 {
        i -= 2;
        put2(&mut b, i, pair(n));
        n /= 100;
    }
    if n >= 10 && i >= 2 {
        i -= 2;
        put2(&mut b, i, pair(n));
    } else if i >= 1 {
        i -= 1;
        put1(&mut b, i, b'0' + n as u8);
    }
    push_ascii(s, b.get(i..).unwrap_or(&[]));
}

/// `{n:0w$}` for w ≤ 20.
pub(crate) fn push_u64_pad(s: &mut Vec<u8>, n: u64, w: usize) {
    let mut b = [b'0'; 20];
    let mut i = b.len();
    let mut m = n;
    loop {
        i -= 1;
        put1(&mut b, i, b'0' + (m % 10) as u8);
        m /= 10;
        if m == 0 || i == 0 {
            break;
        }
    }
    let start = i.min(b.len().saturating_sub(w));
    push_ascii(s, b.get(start..).unwrap_or(&[]));
}

/// `{n:0w$x}` (w = 0: `{n:x}`).
pub(crate) fn push_hex(s: &mut Vec<u8>, n: u64, w: usize) {
    // The digits left-aligned in a fixed buffer (their count from the leading zeros), the
    // whole buffer appended (a known length: no `memcpy` call) and cut back.
    let nd = ((64 - n.leading_zeros() as usize).div_ceil(4))
        .max(1)
        .max(w.min(16));
    let mut b = [b'0'; 16];
    let mut m = n;
    for k in (0..nd).rev() {
        put1(
            &mut b,
            k,
            HEX.get((m & 15) as usize).copied().unwrap_or(b'?'),
        );
        m >>= 4;
    }
    let len = s.len();
    s.extend_from_slice(&b);
    s.truncate(len + nd);
}

/// An IPv4 address as `Ipv4Addr` displays it: four table pieces (digits and a dot) shifted
/// into one 128-bit word, appended as one block, the last dot cut off.
#[inline]
pub(crate) fn push_ip4(s: &mut Vec<u8>, a: [u8; 4]) {
    let o = |x: u8| OCTETS.get(usize::from(x)).copied().unwrap_or((0, 0));
    let (w0, l0) = o(a[0]);
    let (w1, l1) = o(a[1]);
    let (w2, l2) = o(a[2]);
    let (w3, l3) = o(a[3]);
    let s1 = 8 * u32::from(l0);
    let s2 = s1 + 8 * u32::from(l1);
    let s3 = s2 + 8 * u32::from(l2);
    let w = u128::from(w0) | u128::from(w1) << s1 | u128::from(w2) << s2 | u128::from(w3) << s3;
    push_block(s, w, usize::from(l0 + l1 + l2 + l3) - 1);
}

/// An Ethernet address as [`crate::Value::Mac`] displays it.
pub(crate) fn push_mac(s: &mut Vec<u8>, m: [u8; 6]) {
    let mut b = [b':'; 17];
    for (k, &x) in m.iter().enumerate() {
        put2(&mut b, 3 * k, hex_pair(x));
    }
    push_ascii(s, &b);
}

/// A DECnet address `area.node` as [`crate::Value::Dn`] displays it: the area (0-63, with its
/// dot) and the node (0-1023) as words joined into one block.
#[inline]
pub(crate) fn push_dn(s: &mut Vec<u8>, a: u16) {
    let (wa, la) = OCTETS.get(usize::from(a >> 10)).copied().unwrap_or((0, 0));
    let node = u32::from(a & 0x3ff);
    let nd = match node {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        _ => 4,
    };
    let wn =
        (u32::from(pair16(node / 100)) | u32::from(pair16(node % 100)) << 16) >> (8 * (4 - nd));
    push_block(
        s,
        u128::from(wa) | u128::from(wn) << (8 * u32::from(la)),
        usize::from(la) + nd as usize,
    );
}

/// The `HH:MM:SS` of the last second [`push_clock_cached`] wrote, kept for the next time
/// stamp in the same second (most of them in a capture).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    sec: i64,
    hms: u64,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            sec: 0,
            hms: hms(0),
        }
    }
}

/// `HH:MM:SS` (UTC) of a time stamp as a little-endian word.
fn hms(sec: i64) -> u64 {
    let day = sec.rem_euclid(86_400) as u32;
    let colon = u64::from(b':');
    u64::from(pair16(day / 3600))
        | colon << 16
        | u64::from(pair16(day / 60 % 60)) << 24
        | colon << 40
        | u64::from(pair16(day % 60)) << 48
}

/// [`push_clock`], the hours, minutes and seconds taken from `c` when the second is the
/// last one written, the microseconds by [`digits8`]: one block appended.
#[inline]
pub(crate) fn push_clock_cached(s: &mut Vec<u8>, c: &mut Clock, sec: i64, nsec: u32) {
    if nsec >= 1_000_000_000 {
        // Not a valid time stamp: all the digits, as `push_clock` writes them.
        push_clock(s, sec, nsec);
        return;
    }
    if sec != c.sec {
        *c = Clock { sec, hms: hms(sec) };
    }
    let us = digits8(nsec / 1000) >> 16;
    push_block(
        s,
        u128::from(c.hms) | u128::from(b'.') << 64 | u128::from(us) << 72,
        15,
    );
}

/// `HH:MM:SS.micro` (UTC) of a time stamp.
pub(crate) fn push_clock(s: &mut Vec<u8>, sec: i64, nsec: u32) {
    let day = sec.rem_euclid(86_400) as u32;
    let (h, m, sec) = (day / 3600, day / 60 % 60, day % 60);
    // Microseconds of a valid time stamp are below 1e6; a larger count prints all its digits
    // as `{:06}` does.
    let us = nsec / 1000;
    if h >= 100 || us >= 1_000_000 {
        push_u64_pad(s, u64::from(h), 2);
        s.push(b':');
        push_u64_pad(s, u64::from(m), 2);
        s.push(b':');
        push_u64_pad(s, u64::from(sec), 2);
        s.push(b'.');
        push_u64_pad(s, u64::from(us), 6);
        return;
    }
    let mut b = *b"00:00:00.000000";
    put2(&mut b, 0, pair(u64::from(h)));
    put2(&mut b, 3, pair(u64::from(m)));
    put2(&mut b, 6, pair(u64::from(sec)));
    put2(&mut b, 9, pair(u64::from(us / 10_000)));
    put2(&mut b, 11, pair(u64::from(us / 100 % 100)));
    put2(&mut b, 13, pair(u64::from(us % 100)));
    push_ascii(s, &b);
}

impl W<'_> {
    /// Text. Always inlined: a literal's copy then has a known length and needs no call.
    #[inline(always)]
    pub(crate) fn s(mut self, t: &str) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            o.extend_from_slice(t.as_bytes());
        }
        self
    }

    /// ASCII bytes (flag letters): appended as they are.
    #[inline]
    pub(crate) fn ascii(mut self, b: &[u8]) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            o.extend(b.iter().map(|&c| c & 0x7f));
        }
        self
    }

    /// Bytes from a frame as [`crate::rd::text`] shows them: printable ASCII as it is, any
    /// other byte as `\xNN`.
    pub(crate) fn text(mut self, b: &[u8]) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            for &c in b {
                if (0x20..0x7f).contains(&c) {
                    o.push(c);
                } else {
                    o.extend_from_slice(b"\\x");
                    o.extend_from_slice(&hex_pair(c));
                }
            }
        }
        self
    }

    /// The names of the bits of `v` set in `table`, joined by `,`; `none` when none is
    /// (what [`crate::rd::bits`] returns).
    pub(crate) fn bits(mut self, table: &[(u64, &'static str)], v: u64) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            let len = o.len();
            for (m, n) in table {
                if v & m != 0 {
                    if o.len() > len {
                        o.push(b',');
                    }
                    o.extend_from_slice(n.as_bytes());
                }
            }
            if o.len() == len {
                o.extend_from_slice(b"none");
            }
        }
        self
    }

    /// A decimal number.
    #[inline]
    pub(crate) fn u(mut self, n: impl Into<u64>) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            push_u64(o, n.into());
        }
        self
    }

    /// A signed decimal number.
    #[inline]
    pub(crate) fn i(mut self, n: i64) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            if n < 0 {
                o.push(b'-');
            }
            push_u64(o, n.unsigned_abs());
        }
        self
    }

    /// Hexadecimal, zero-padded to `w` digits, no prefix.
    #[inline]
    pub(crate) fn x(mut self, n: impl Into<u64>, w: usize) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            push_hex(o, n.into(), w);
        }
        self
    }

    /// A DECnet address.
    #[inline]
    pub(crate) fn dn(mut self, a: u16) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            push_dn(o, a);
        }
        self
    }

    /// An IPv4 address.
    #[inline]
    pub(crate) fn ip4(mut self, a: [u8; 4]) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            push_ip4(o, a);
        }
        self
    }

    /// An Ethernet address.
    #[inline]
    pub(crate) fn mac(mut self, m: [u8; 6]) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            push_mac(o, m);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_format() {
        for n in (0..200_000u64).chain((0..64).map(|k| 1u64 << k)) {
            let mut s = Vec::new();
            push_u64(&mut s, n);
            assert_eq!(String::from_utf8(s.clone()).unwrap(), format!("{n}"));
        }
        for n in [0u64, 1, 9, 10, 99, 100, 65535, 1 << 32, u64::MAX] {
            let mut s = Vec::new();
            push_u64(&mut s, n);
            assert_eq!(String::from_utf8(s.clone()).unwrap(), format!("{n}"));
            for w in [0, 1, 2, 4, 6] {
                let mut s = Vec::new();
                push_hex(&mut s, n, w);
                assert_eq!(String::from_utf8(s.clone()).unwrap(), format!("{n:0w$x}"));
                let mut s = Vec::new();
                push_u64_pad(&mut s, n, w);
                assert_eq!(String::from_utf8(s.clone()).unwrap(), format!("{n:0w$}"));
            }
        }
        for b in 0..=255u8 {
            let m = [b, 0, b ^ 0x5a, 255, 1, b];
            let mut s = Vec::new();
            push_mac(&mut s, m);
            assert_eq!(
                String::from_utf8(s.clone()).unwrap(),
                crate::Value::Mac(m).to_string()
            );
            let a = [b, 0, 99, b ^ 0x80];
            let mut s = Vec::new();
            push_ip4(&mut s, a);
            assert_eq!(
                String::from_utf8(s.clone()).unwrap(),
                std::net::Ipv4Addr::from(a).to_string()
            );
        }
        for a in [[127, 0, 10, 255], [0, 9, 99, 100], [1, 2, 3, 4]] {
            let mut s = Vec::new();
            push_ip4(&mut s, a);
            assert_eq!(
                String::from_utf8(s.clone()).unwrap(),
                std::net::Ipv4Addr::from(a).to_string()
            );
        }
        for (sec, nsec) in [
            (0i64, 0u32),
            (86_399, 999_999_999),
            (-1, 5_000),
            (1_700_000_123, 42_000),
            (1_700_000_123, 999_999),
            (i64::MIN, 1_000_000_000),
            (i64::MAX, 4_000_000_000),
            (86_400 * 5 + 3_599, 123_456_789),
        ] {
            let mut s = Vec::new();
            push_clock(&mut s, sec, nsec);
            let mut c = Clock::default();
            for _ in 0..2 {
                let mut t = Vec::new();
                push_clock_cached(&mut t, &mut c, sec, nsec);
                assert_eq!(t, s);
            }
            let day = sec.rem_euclid(86_400);
            let want = format!(
                "{:02}:{:02}:{:02}.{:06}",
                day / 3600,
                day / 60 % 60,
                day % 60,
                nsec / 1000
            );
            assert_eq!(String::from_utf8(s.clone()).unwrap(), want);
        }
        let mut s = Vec::new();
        push_mac(&mut s, [0xaa, 0, 4, 0, 0x1f, 0x08]);
        assert_eq!(
            String::from_utf8(s.clone()).unwrap(),
            crate::Value::Mac([0xaa, 0, 4, 0, 0x1f, 0x08]).to_string()
        );
        for k in 0..20 {
            let p = 10u64.pow(k);
            for n in [
                p - 1,
                p,
                p + 1,
                p.wrapping_mul(3).wrapping_add(7),
                u64::from(u32::MAX),
                u64::from(u32::MAX) + 1,
            ] {
                let mut s = b"x".to_vec();
                push_u64(&mut s, n);
                assert_eq!(String::from_utf8(s).unwrap(), format!("x{n}"));
            }
        }
        for a in 0..=u16::MAX {
            let mut s = Vec::new();
            push_dn(&mut s, a);
            assert_eq!(
                String::from_utf8(s.clone()).unwrap(),
                crate::Value::Dn(a).to_string()
            );
        }
        let _ = W(Some(&mut s)).i(-5).s(" ").i(7);
        assert!(s.ends_with(b"-5 7"));
    }
}
