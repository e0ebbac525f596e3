//! A free list of receive buffers, so a busy link does not allocate (and zero) 64 KB per frame.

use wire::PacketBuf;

/// Pools with buffers larger than this copy small frames out (see [`BufPool::wrap`]).
const COPYBREAK_POOL: usize = 16 * 1024;
/// Frames up to this long are copied out of a large buffer.
pub(crate) const COPYBREAK: usize = 4096;

/// Buffers of `headroom + frame_len` bytes; frames are read at `headroom`.
#[derive(Debug)]
pub(crate) struct BufPool {
    free: Vec<Vec<u8>>,
    pub(crate) headroom: usize,
    pub(crate) frame_len: usize,
    limit: usize,
}

impl BufPool {
    pub(crate) fn new(headroom: usize, frame_len: usize, limit: usize) -> Self {
        BufPool {
            free: Vec::new(),
            headroom,
            frame_len,
            limit,
        }
    }

    fn total(&self) -> usize {
        self.headroom + self.frame_len
    }

    /// A buffer of exactly `headroom + frame_len` bytes.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let total = self.total();
        match self.free.pop() {
            Some(mut v) => {
                v.resize(total, 0);
                v
            }
            None => vec![0; total],
        }
    }

    /// A buffer of `headroom` bytes with room for `frame_len` more that are not initialised:
    /// a read fills them through [`Vec::spare_capacity_mut`] and the caller extends the length
    /// over what it filled. A TAP stream of 64 KB super-frames otherwise zeroes every buffer
    /// before the kernel overwrites it (5% of the stack thread's time in a profile).
    pub(crate) fn take_unfilled(&mut self) -> Vec<u8> {
        let mut v = self.free.pop().unwrap_or_default();
        v.truncate(self.headroom);
        v.resize(self.headroom, 0);
        v.reserve_exact(self.frame_len);
        v
    }

    /// Gives a buffer from `take` back unused.
    pub(crate) fn put(&mut self, v: Vec<u8>) {
        if self.free.len() < self.limit && v.capacity() >= self.total() {
            self.free.push(v);
        }
    }

    /// Takes back a packet buffer the stack is done with.
    pub(crate) fn recycle(&mut self, buf: PacketBuf) {
        let (v, _, _) = buf.into_parts();
        self.put(v);
    }

    /// Changes the frame size (an MTU change); buffers of the old size are dropped when too small.
    pub(crate) fn set_frame_len(&mut self, frame_len: usize) {
        if frame_len > self.frame_len {
            self.free.clear();
        }
        self.frame_len = frame_len;
    }

    /// Wraps `v` (from `take`) holding a frame of `len` bytes at the headroom.
    ///
    /// Copy-break: when the buffers are super-frame sized (64 KB) and the frame is small, the
    /// frame is copied into a buffer of its own size and the big one goes straight back to the
    /// pool; a 60-byte ARP reply must not pin (or cost the zeroing of) 64 KB.
    pub(crate) fn wrap(&mut self, v: Vec<u8>, len: usize) -> PacketBuf {
        let head = self.headroom;
        let tail = (head + len).min(v.len());
        if self.frame_len > COPYBREAK_POOL && len <= COPYBREAK {
            let b = PacketBuf::from_slice(head, &v[head..tail]);
            self.put(v);
            return b;
        }
        PacketBuf::from_parts(v, head, tail).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_wrap_recycle() {
        let mut p = BufPool::new(8, 100, 2);
        let mut v = p.take();
        assert_eq!(v.len(), 108);
        v[8..11].copy_from_slice(b"abc");
        let b = p.wrap(v, 3);
        assert_eq!((b.as_slice(), b.headroom()), (&b"abc"[..], 8));
        p.recycle(b);
        assert_eq!(p.free.len(), 1);
        assert_eq!(p.take().len(), 108);
        p.put(vec![0; 108]);
        p.put(vec![0; 108]);
        p.put(vec![0; 108]);
        assert_eq!(p.free.len(), 2, "bounded");
        p.set_frame_len(200);
        assert!(p.free.is_empty(), "too small for the new size");
    }

    #[test]
    fn unfilled_buffers_have_the_headroom_and_the_room() {
        let mut p = BufPool::new(8, 100, 2);
        let mut v = p.take_unfilled();
        assert_eq!(v.len(), 8);
        assert!(v.spare_capacity_mut().len() >= 100);
        v.extend_from_slice(b"frame");
        let b = p.wrap(v, 5);
        assert_eq!((b.as_slice(), b.headroom()), (&b"frame"[..], 8));
        p.recycle(b);
        // A recycled buffer comes back cut to its headroom.
        let v = p.take_unfilled();
        assert_eq!(v.len(), 8);
        assert!(v.capacity() >= 108);
    }

    #[test]
    fn copy_break_keeps_big_buffers_in_the_pool() {
        let mut p = BufPool::new(16, 65536, 4);
        let v = p.take();
        let b = p.wrap(v, 60);
        assert_eq!(b.len(), 60);
        assert_eq!(b.headroom(), 16);
        assert_eq!(b.tailroom(), 0);
        assert_eq!(p.free.len(), 1, "the 64 KB buffer went back");
        let v = p.take();
        let b = p.wrap(v, 9000);
        assert_eq!(b.len(), 9000);
        assert!(p.free.is_empty(), "a big frame keeps its buffer");
    }
}
