//! [`PacketBuf`]: an owned packet buffer with headroom, the type that passes through the layers.
//!
//! The bytes live in one `Vec<u8>`; the packet is `data[head..tail]`. Receiving, a layer parses
//! its header in place and [`trim_front`](PacketBuf::trim_front)s it away without copying; sending,
//! a layer [`prepend`](PacketBuf::prepend)s room for its header into the headroom and emits into it.
//!
//! **`prepend` never reallocates**: when the headroom is short it fails with
//! [`Error::NoHeadroom`], so a hidden copy can never happen on the fast path. Size the headroom
//! when the buffer is made (e.g. [`PacketBuf::DEFAULT_HEADROOM`]), or call
//! [`reserve_headroom`](PacketBuf::reserve_headroom) to grow it explicitly (one copy).
//! `append` grows the tail like a `Vec` does.

use crate::{Error, Result};
use core::fmt;

/// An owned packet: `data[head..tail]` is the packet, `data[..head]` headroom, `data[tail..]` tailroom.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PacketBuf {
    data: Vec<u8>,
    head: usize,
    tail: usize,
}

impl PacketBuf {
    /// Headroom enough for Ethernet + 802.2/SNAP + a full IPv4 header with options + a TCP header
    /// with options (14 + 8 + 60 + 60), rounded up.
    pub const DEFAULT_HEADROOM: usize = 160;

    /// A buffer of `payload_len` zero bytes with `headroom` bytes free in front.
    pub fn with_headroom(headroom: usize, payload_len: usize) -> Self {
        PacketBuf {
            data: vec![0; headroom + payload_len],
            head: headroom,
            tail: headroom + payload_len,
        }
    }

    /// A copy of `payload` with `headroom` bytes free in front.
    pub fn from_slice(headroom: usize, payload: &[u8]) -> Self {
        let mut data = Vec::with_capacity(headroom + payload.len());
        data.resize(headroom, 0);
        data.extend_from_slice(payload);
        PacketBuf {
            head: headroom,
            tail: data.len(),
            data,
        }
    }

    /// Takes `data` as the whole packet, with no headroom (a received frame).
    pub fn from_vec(data: Vec<u8>) -> Self {
        PacketBuf {
            head: 0,
            tail: data.len(),
            data,
        }
    }

    /// Takes `data` with the packet at `data[head..tail]`: for a link that reads frames into a
    /// buffer at an offset, keeping headroom for headers it may prepend when forwarding.
    /// Fails unless `head ≤ tail ≤ data.len()`.
    pub fn from_parts(data: Vec<u8>, head: usize, tail: usize) -> Result<Self> {
        if head > tail || tail > data.len() {
            return Err(Error::Malformed("packet buffer bounds"));
        }
        Ok(PacketBuf { data, head, tail })
    }

    /// The whole allocation and the packet's bounds in it (the inverse of [`from_parts`](Self::from_parts)),
    /// for recycling buffers.
    pub fn into_parts(self) -> (Vec<u8>, usize, usize) {
        (self.data, self.head, self.tail)
    }

    /// The packet's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.data[self.head..self.tail]
    }

    /// The packet's bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data[self.head..self.tail]
    }

    /// The packet's length.
    pub fn len(&self) -> usize {
        self.tail - self.head
    }

    /// Whether the packet is empty.
    pub fn is_empty(&self) -> bool {
        self.tail == self.head
    }

    /// Bytes free in front of the packet.
    pub fn headroom(&self) -> usize {
        self.head
    }

    /// Bytes free behind the packet without reallocating.
    pub fn tailroom(&self) -> usize {
        self.data.len() - self.tail
    }

    /// Grows the packet by `n` bytes at the front and returns them. They hold whatever the
    /// headroom held, so emit a whole header into them. Fails with [`Error::NoHeadroom`] when fewer than `n`
    /// bytes of headroom remain; it never reallocates.
    pub fn prepend(&mut self, n: usize) -> Result<&mut [u8]> {
        if n > self.head {
            return Err(Error::NoHeadroom {
                need: n,
                have: self.head,
            });
        }
        self.head -= n;
        Ok(&mut self.data[self.head..self.head + n])
    }

    /// Grows the packet by `n` zero bytes at the back (reallocating if the tailroom is short) and
    /// returns them.
    pub fn append(&mut self, n: usize) -> &mut [u8] {
        let start = self.tail;
        let end = start + n;
        if end > self.data.len() {
            self.data.resize(end, 0);
        }
        // Zero even the reused tailroom: it may hold bytes a `truncate` dropped.
        self.data[start..end].fill(0);
        self.tail = end;
        &mut self.data[start..end]
    }

    /// Appends a copy of `bytes`.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.append(bytes.len()).copy_from_slice(bytes);
    }

    /// Strips `n` bytes from the front (a parsed header) without copying; they become headroom.
    /// Fails with [`Error::Truncated`] when the packet is shorter than `n`.
    pub fn trim_front(&mut self, n: usize) -> Result<()> {
        crate::need("packet", n, self.len())?;
        self.head += n;
        Ok(())
    }

    /// Shortens the packet to `len` bytes (drops link padding after an IP datagram's total
    /// length); no effect when it is already that short.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.tail = self.head + len;
        }
    }

    /// Makes sure at least `n` bytes of headroom exist, moving the packet (one copy) if needed.
    pub fn reserve_headroom(&mut self, n: usize) {
        if self.head >= n {
            return;
        }
        let mut data = Vec::with_capacity(n + self.len() + self.tailroom());
        data.resize(n, 0);
        data.extend_from_slice(self.as_slice());
        let tail = data.len();
        data.resize(tail + self.tailroom(), 0);
        self.data = data;
        self.head = n;
        self.tail = tail;
    }

    /// The packet's bytes as a fresh `Vec` (no headroom).
    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }

    /// The packet's bytes as a `Vec`, reusing the allocation when there is no headroom or tailroom.
    pub fn into_vec(mut self) -> Vec<u8> {
        if self.head == 0 {
            self.data.truncate(self.tail);
            self.data
        } else {
            self.to_vec()
        }
    }
}

impl AsRef<[u8]> for PacketBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsMut<[u8]> for PacketBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PacketBuf {{ len: {}, headroom: {}, tailroom: {}, data: ",
            self.len(),
            self.headroom(),
            self.tailroom()
        )?;
        for b in self.as_slice().iter().take(64) {
            write!(f, "{b:02x}")?;
        }
        if self.len() > 64 {
            write!(f, "..")?;
        }
        write!(f, " }}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_trim_append() {
        let mut b = PacketBuf::from_slice(4, b"data");
        assert_eq!(b.headroom(), 4);
        b.prepend(2).unwrap().copy_from_slice(b"hd");
        assert_eq!(b.as_slice(), b"hddata");
        assert_eq!(b.prepend(3), Err(Error::NoHeadroom { need: 3, have: 2 }));
        assert_eq!(b.as_slice(), b"hddata", "a failed prepend changes nothing");
        b.trim_front(2).unwrap();
        assert_eq!(b.as_slice(), b"data");
        assert!(b.trim_front(5).is_err());
        b.extend_from_slice(b"!!");
        assert_eq!(b.as_slice(), b"data!!");
        b.truncate(4);
        assert_eq!(b.as_slice(), b"data");
        assert_eq!(b.tailroom(), 2);
        assert_eq!(b.append(1), &[0]);
        b.reserve_headroom(10);
        assert_eq!(b.headroom(), 10);
        assert_eq!(b.as_slice(), b"data\0");
        assert_eq!(b.into_vec(), b"data\0");
    }

    #[test]
    fn parts() {
        let b = PacketBuf::from_parts(b"..frame".to_vec(), 2, 7).unwrap();
        assert_eq!((b.as_slice(), b.headroom()), (&b"frame"[..], 2));
        let (v, h, t) = b.into_parts();
        assert_eq!((v.len(), h, t), (7, 2, 7));
        assert!(PacketBuf::from_parts(vec![0; 4], 3, 2).is_err());
        assert!(PacketBuf::from_parts(vec![0; 4], 0, 5).is_err());
    }

    #[test]
    fn with_headroom_is_zeroed() {
        let b = PacketBuf::with_headroom(8, 3);
        assert_eq!(b.as_slice(), &[0, 0, 0]);
        assert_eq!(b.len(), 3);
        assert!(!b.is_empty());
        assert!(PacketBuf::from_vec(Vec::new()).is_empty());
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Prepend(usize, u8),
        Append(usize),
        Trim(usize),
        Truncate(usize),
        Reserve(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..40, any::<u8>()).prop_map(|(n, b)| Op::Prepend(n, b)),
            (0usize..40).prop_map(Op::Append),
            (0usize..40).prop_map(Op::Trim),
            (0usize..80).prop_map(Op::Truncate),
            (0usize..80).prop_map(Op::Reserve),
        ]
    }

    proptest! {
        /// A `PacketBuf` behaves like a plain `Vec` that is edited at both ends.
        #[test]
        fn matches_a_vec(headroom in 0usize..64, init in proptest::collection::vec(any::<u8>(), 0..32),
                         ops in proptest::collection::vec(op(), 0..30)) {
            let mut b = PacketBuf::from_slice(headroom, &init);
            let mut model = init.clone();
            for op in ops {
                match op {
                    Op::Prepend(n, byte) => {
                        let room = b.headroom();
                        match b.prepend(n) {
                            Ok(s) => {
                                prop_assert!(n <= room);
                                s.fill(byte);
                                let mut m = vec![byte; n];
                                m.extend_from_slice(&model);
                                model = m;
                            }
                            Err(_) => prop_assert!(n > room),
                        }
                    }
                    Op::Append(n) => {
                        b.append(n);
                        model.extend(std::iter::repeat_n(0, n));
                    }
                    Op::Trim(n) => {
                        if b.trim_front(n).is_ok() {
                            model.drain(..n);
                        } else {
                            prop_assert!(n > model.len());
                        }
                    }
                    Op::Truncate(n) => {
                        b.truncate(n);
                        model.truncate(n);
                    }
                    Op::Reserve(n) => {
                        b.reserve_headroom(n);
                        prop_assert!(b.headroom() >= n);
                    }
                }
                prop_assert_eq!(b.as_slice(), &model[..]);
                prop_assert_eq!(b.len(), model.len());
            }
        }
    }
}
