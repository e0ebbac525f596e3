//! Fast text for summaries and the one-line renderer: numbers and addresses appended to a
//! byte buffer (a [`crate::Text`] or the line) without `core::fmt` (which costs more than the decoding on the one-line path).
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
    // Most numbers in a summary are small: one or two digits without the buffer.
    if n < 10 {
        s.push(b'0' + n as u8);
    } else if n < 100 {
        s.push(b'0' + (n / 10) as u8);
        s.push(b'0' + (n % 10) as u8);
    } else {
        push_u64_long(s, n);
    }
}

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

/// Writes the decimal digits of `x` at `b[i..]`; returns the index after them.
#[inline]
fn put_u8(b: &mut [u8], i: usize, x: u8) -> usize {
    let x = u64::from(x);
    if x >= 100 {
        put1(b, i, b'0' + (x / 100) as u8);
        put2(b, i + 1, pair(x));
        i + 3
    } else if x >= 10 {
        put2(b, i, pair(x));
        i + 2
    } else {
        put1(b, i, b'0' + x as u8);
        i + 1
    }
}

/// An IPv4 address as `Ipv4Addr` displays it.
pub(crate) fn push_ip4(s: &mut Vec<u8>, a: [u8; 4]) {
    let mut b = [b'.'; 16];
    let mut i = 0;
    for (k, &x) in a.iter().enumerate() {
        if k > 0 {
            put1(&mut b, i, b'.');
            i += 1;
        }
        i = put_u8(&mut b, i, x);
    }
    // The whole buffer is appended (a known length: no `memcpy` call), then cut back.
    let len = s.len();
    s.extend_from_slice(&b);
    s.truncate(len + i);
}

/// An Ethernet address as [`crate::Value::Mac`] displays it.
pub(crate) fn push_mac(s: &mut Vec<u8>, m: [u8; 6]) {
    let mut b = [b':'; 17];
    for (k, &x) in m.iter().enumerate() {
        put2(&mut b, 3 * k, hex_pair(x));
    }
    push_ascii(s, &b);
}

/// A DECnet address `area.node` as [`crate::Value::Dn`] displays it.
pub(crate) fn push_dn(s: &mut Vec<u8>, a: u16) {
    let mut b = [b'.'; 12];
    let mut i = put_small(&mut b, 0, a >> 10);
    put1(&mut b, i, b'.');
    i = put_small(&mut b, i + 1, a & 0x3ff);
    // The whole buffer is appended (a known length: no `memcpy` call), then cut back.
    let len = s.len();
    s.extend_from_slice(&b);
    s.truncate(len + i);
}

/// Writes the decimal digits of `x` < 100,000 at `b[i..]`; returns the index after them.
#[inline]
fn put_small(b: &mut [u8], i: usize, x: u16) -> usize {
    let x = u64::from(x);
    let n = match x {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    };
    let mut m = x;
    for k in (0..n).rev() {
        put1(b, i + k, b'0' + (m % 10) as u8);
        m /= 10;
    }
    i + n
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
        ] {
            let mut s = Vec::new();
            push_clock(&mut s, sec, nsec);
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
        for a in [0u16, 1, 1025, 0xffff] {
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
