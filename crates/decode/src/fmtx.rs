//! Fast text for summaries and the one-line renderer: numbers and addresses appended to a
//! `String` without `core::fmt` (which costs more than the decoding on the one-line path).
//! Every writer prints exactly what the matching `format!` spec prints; the golden-output test
//! holds them to it.

/// Appends to a summary: each method appends one piece and returns the writer, so pieces chain.
/// A writer over `None` (a layer that keeps no summary, see [`crate::Detail`]) does nothing.
pub(crate) struct W<'a>(pub(crate) Option<&'a mut String>);

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends ASCII bytes (digits, hex digits, colons) without UTF-8 validation.
#[inline]
fn push_ascii(s: &mut String, b: &[u8]) {
    s.reserve(b.len());
    for &c in b {
        s.push(char::from(c));
    }
}

/// `{n}`.
#[inline]
pub(crate) fn push_u64(s: &mut String, n: u64) {
    // Most numbers in a summary are small: one or two digits without the buffer.
    if n < 10 {
        s.push(char::from(b'0' + n as u8));
    } else if n < 100 {
        s.push(char::from(b'0' + (n / 10) as u8));
        s.push(char::from(b'0' + (n % 10) as u8));
    } else {
        push_u64_long(s, n);
    }
}

/// The two digits of 0..100, `00` to `99`.
const PAIRS: &str = "\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The two lowercase hex digits of each byte, `00` to `ff`.
const HEX_PAIRS: &str = "\
000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\
606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf\
e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/// Two decimal digits of `v` < 100 (string pieces: no per-character pushes, no validation).
#[inline]
fn push_pair(s: &mut String, v: u64) {
    let p = (v % 100) as usize * 2;
    s.push_str(PAIRS.get(p..p + 2).unwrap_or("??"));
}

/// The two hex digits of a byte.
#[inline]
fn push_hex_pair(s: &mut String, b: u8) {
    let p = usize::from(b) * 2;
    s.push_str(HEX_PAIRS.get(p..p + 2).unwrap_or("??"));
}

fn push_u64_long(s: &mut String, mut n: u64) {
    // Pairs of digits, least significant first; then printed most significant first.
    let mut g = [0u8; 10];
    let mut k = 0;
    while n >= 100 {
        if let Some(x) = g.get_mut(k) {
            *x = (n % 100) as u8;
        }
        n /= 100;
        k += 1;
    }
    s.reserve(2 * k + 2);
    if n >= 10 {
        push_pair(s, n);
    } else {
        s.push(char::from(b'0' + n as u8));
    }
    for &p in g.get(..k).unwrap_or(&[]).iter().rev() {
        push_pair(s, u64::from(p));
    }
}

/// `{n:0w$}` for w ≤ 20.
pub(crate) fn push_u64_pad(s: &mut String, n: u64, w: usize) {
    let mut b = [b'0'; 20];
    let mut i = b.len();
    let mut m = n;
    loop {
        i -= 1;
        if let Some(c) = b.get_mut(i) {
            *c = b'0' + (m % 10) as u8;
        }
        m /= 10;
        if m == 0 || i == 0 {
            break;
        }
    }
    let start = i.min(b.len().saturating_sub(w));
    push_ascii(s, b.get(start..).unwrap_or(&[]));
}

/// `{n:0w$x}` (w = 0: `{n:x}`).
pub(crate) fn push_hex(s: &mut String, n: u64, w: usize) {
    let mut b = [b'0'; 16];
    let mut i = b.len();
    let mut m = n;
    loop {
        i -= 1;
        if let (Some(c), Some(h)) = (b.get_mut(i), HEX.get((m & 15) as usize)) {
            *c = *h;
        }
        m >>= 4;
        if m == 0 || i == 0 {
            break;
        }
    }
    let start = i.min(b.len().saturating_sub(w));
    push_ascii(s, b.get(start..).unwrap_or(&[]));
}

/// An IPv4 address as `Ipv4Addr` displays it.
pub(crate) fn push_ip4(s: &mut String, a: [u8; 4]) {
    s.reserve(15);
    for (i, &x) in a.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        let x = u64::from(x);
        if x >= 100 {
            s.push(char::from(b'0' + (x / 100) as u8));
            push_pair(s, x % 100);
        } else if x >= 10 {
            push_pair(s, x);
        } else {
            s.push(char::from(b'0' + x as u8));
        }
    }
}

/// An Ethernet address as [`crate::Value::Mac`] displays it.
pub(crate) fn push_mac(s: &mut String, m: [u8; 6]) {
    s.reserve(17);
    for (i, &x) in m.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        push_hex_pair(s, x);
    }
}

/// A DECnet address `area.node` as [`crate::Value::Dn`] displays it.
pub(crate) fn push_dn(s: &mut String, a: u16) {
    push_u64(s, u64::from(a >> 10));
    s.push('.');
    push_u64(s, u64::from(a & 0x3ff));
}

/// `HH:MM:SS.micro` (UTC) of a time stamp.
pub(crate) fn push_clock(s: &mut String, sec: i64, nsec: u32) {
    let day = sec.rem_euclid(86_400) as u32;
    let (h, m, sec) = (day / 3600, day / 60 % 60, day % 60);
    // Microseconds of a valid time stamp are below 1e6; a larger count prints all its digits
    // as `{:06}` does.
    let us = nsec / 1000;
    if h >= 100 || us >= 1_000_000 {
        push_u64_pad(s, u64::from(h), 2);
        s.push(':');
        push_u64_pad(s, u64::from(m), 2);
        s.push(':');
        push_u64_pad(s, u64::from(sec), 2);
        s.push('.');
        push_u64_pad(s, u64::from(us), 6);
        return;
    }
    s.reserve(15);
    push_pair(s, u64::from(h));
    s.push(':');
    push_pair(s, u64::from(m));
    s.push(':');
    push_pair(s, u64::from(sec));
    s.push('.');
    push_pair(s, u64::from(us / 10_000));
    push_pair(s, u64::from(us / 100 % 100));
    push_pair(s, u64::from(us % 100));
}

impl W<'_> {
    /// Text.
    #[inline]
    pub(crate) fn s(mut self, t: &str) -> Self {
        if let Some(o) = self.0.as_deref_mut() {
            o.push_str(t);
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
                o.push('-');
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
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, format!("{n}"));
        }
        for n in [0u64, 1, 9, 10, 99, 100, 65535, 1 << 32, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, format!("{n}"));
            for w in [0, 1, 2, 4, 6] {
                let mut s = String::new();
                push_hex(&mut s, n, w);
                assert_eq!(s, format!("{n:0w$x}"));
                let mut s = String::new();
                push_u64_pad(&mut s, n, w);
                assert_eq!(s, format!("{n:0w$}"));
            }
        }
        for b in 0..=255u8 {
            let m = [b, 0, b ^ 0x5a, 255, 1, b];
            let mut s = String::new();
            push_mac(&mut s, m);
            assert_eq!(s, crate::Value::Mac(m).to_string());
            let a = [b, 0, 99, b ^ 0x80];
            let mut s = String::new();
            push_ip4(&mut s, a);
            assert_eq!(s, std::net::Ipv4Addr::from(a).to_string());
        }
        for a in [[127, 0, 10, 255], [0, 9, 99, 100], [1, 2, 3, 4]] {
            let mut s = String::new();
            push_ip4(&mut s, a);
            assert_eq!(s, std::net::Ipv4Addr::from(a).to_string());
        }
        for (sec, nsec) in [
            (0i64, 0u32),
            (86_399, 999_999_999),
            (-1, 5_000),
            (1_700_000_123, 42_000),
        ] {
            let mut s = String::new();
            push_clock(&mut s, sec, nsec);
            let day = sec.rem_euclid(86_400);
            let want = format!(
                "{:02}:{:02}:{:02}.{:06}",
                day / 3600,
                day / 60 % 60,
                day % 60,
                nsec / 1000
            );
            assert_eq!(s, want);
        }
        let mut s = String::new();
        push_mac(&mut s, [0xaa, 0, 4, 0, 0x1f, 0x08]);
        assert_eq!(
            s,
            crate::Value::Mac([0xaa, 0, 4, 0, 0x1f, 0x08]).to_string()
        );
        for a in [0u16, 1, 1025, 0xffff] {
            let mut s = String::new();
            push_dn(&mut s, a);
            assert_eq!(s, crate::Value::Dn(a).to_string());
        }
        let _ = W(Some(&mut s)).i(-5).s(" ").i(7);
        assert!(s.ends_with("-5 7"));
    }
}
