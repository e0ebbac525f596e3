//! A bounds-checked reader over a frame: every access returns `Option`, nothing indexes.

/// A reader over `frame[..end]` positioned at `pos`; offsets are absolute in the frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rd<'a> {
    frame: &'a [u8],
    pub(crate) pos: usize,
    pub(crate) end: usize,
}

impl<'a> Rd<'a> {
    /// A reader over `frame[start..end]` (end clamped to the frame).
    pub(crate) fn new(frame: &'a [u8], start: usize, end: usize) -> Rd<'a> {
        let end = end.min(frame.len());
        Rd {
            frame,
            pos: start.min(end),
            end,
        }
    }

    /// The whole frame.
    pub(crate) fn frame(&self) -> &'a [u8] {
        self.frame
    }

    /// Bytes left.
    pub(crate) fn left(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// The unread bytes.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.frame.get(self.pos..self.end).unwrap_or(&[])
    }

    /// The byte at `pos + i` without moving.
    pub(crate) fn peek(&self, i: usize) -> Option<u8> {
        let p = self.pos.checked_add(i)?;
        if p >= self.end {
            return None;
        }
        self.frame.get(p).copied()
    }

    /// Takes `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let e = self.pos.checked_add(n)?;
        if e > self.end {
            return None;
        }
        let s = self.frame.get(self.pos..e)?;
        self.pos = e;
        Some(s)
    }

    /// Skips `n` bytes.
    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = self.peek(0)?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn u16be(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    pub(crate) fn u16le(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
    }

    pub(crate) fn u32be(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    pub(crate) fn u32le(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    }

    pub(crate) fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A DNA "image" field: a count byte then that many bytes. Returns (start of the count, bytes).
    pub(crate) fn image(&mut self) -> Option<(usize, &'a [u8])> {
        let at = self.pos;
        let n = self.u8()?;
        Some((at, self.take(usize::from(n))?))
    }

    /// A DNA extensible field: bytes whose bit 7 says "another follows", at most `max` bytes.
    /// Returns the 7-bit groups packed little-endian (bit 0 of the first byte is bit 0) and the
    /// number of bytes read.
    pub(crate) fn ex(&mut self, max: usize) -> Option<(u64, usize)> {
        let mut v = 0u64;
        let mut n = 0usize;
        loop {
            let b = self.u8()?;
            if n < 9 {
                v |= u64::from(b & 0x7f) << (7 * n);
            }
            n += 1;
            if b & 0x80 == 0 || n >= max {
                return Some((v, n));
            }
        }
    }
}

/// Text of bytes, printable ASCII kept, others as `\xNN`.
pub(crate) fn text(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) {
            s.push(char::from(c));
        } else {
            // `\xNN` without `format!` (a string per byte).
            s.push_str("\\x");
            for d in [c >> 4, c & 15] {
                s.push(char::from(HEX.get(usize::from(d)).copied().unwrap_or(b'?')));
            }
        }
    }
    s
}

/// Looks `code` up in a table of (code, name).
pub(crate) fn lookup(table: &[(u64, &'static str)], code: u64) -> &'static str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or("unknown")
}

/// Names of the set bits of `v` from a table of (bit mask, name), joined by `,`.
pub(crate) fn bits(table: &[(u64, &'static str)], v: u64) -> String {
    let mut s = String::new();
    for (m, n) in table {
        if v & m != 0 {
            if !s.is_empty() {
                s.push(',');
            }
            s.push_str(n);
        }
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}
