//! Received in-order bytes as a queue of chunks: pieces of the frames they came in (shared, not
//! copied) or small owned buffers, so the bytes of a GRO'd super-frame reach the reader without
//! a copy in between, and whole chunks (or the whole queue) change hands between the stack and
//! the reader's side.

use std::collections::VecDeque;
use std::sync::Arc;

/// Data of at least this many bytes is kept in the frame it came in when it fills at least half
/// of that frame's allocation (so the memory held is at most twice the bytes queued);
/// anything smaller is copied into an owned chunk.
pub(crate) const SHARE_MIN: usize = 8 * 1024;
/// The least capacity of an owned chunk, so that a stream of small segments appends into a
/// few chunks rather than allocating one per segment.
const OWNED_MIN: usize = 16 * 1024;

/// One piece of the queue.
#[derive(Debug)]
enum Chunk {
    /// Bytes `start..end` of a received frame's buffer.
    Shared {
        frame: Arc<Vec<u8>>,
        start: usize,
        end: usize,
    },
    /// Bytes copied in; `start` is how far the reader has consumed.
    Owned { data: Vec<u8>, start: usize },
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Shared { frame, start, end } => frame.get(*start..*end).unwrap_or_default(),
            Chunk::Owned { data, start } => data.get(*start..).unwrap_or_default(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Chunk::Shared { start, .. } | Chunk::Owned { start, .. } => *start += n,
        }
    }
}

/// A byte queue made of chunks; what the stack's receive buffer holds and what
/// [`Stack::tcp_recv_into`](crate::Stack::tcp_recv_into) fills.
#[derive(Debug, Default)]
pub struct RecvQueue {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl RecvQueue {
    /// An empty queue.
    pub fn new() -> Self {
        RecvQueue::default()
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes at the front (the first chunk; empty when the queue is).
    pub fn front(&self) -> &[u8] {
        self.chunks.front().map_or(&[][..], Chunk::bytes)
    }

    /// Drops `n` bytes from the front (at most what is queued).
    pub fn consume(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.front_mut() else {
                break;
            };
            let have = c.bytes().len();
            if n < have {
                c.consume(n);
                return;
            }
            n -= have;
            self.chunks.pop_front();
        }
        // Empty chunks never stay at the front.
        while self.chunks.front().is_some_and(|c| c.bytes().is_empty()) {
            self.chunks.pop_front();
        }
    }

    /// Copies up to `out.len()` bytes out from the front and drops them.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let mut done = 0;
        while done < out.len() {
            let f = self.front();
            if f.is_empty() {
                break;
            }
            let n = f.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&f[..n]);
            done += n;
            self.consume(n);
        }
        done
    }

    /// Appends a copy of `b`.
    pub fn push_slice(&mut self, b: &[u8]) {
        if b.is_empty() {
            return;
        }
        self.len += b.len();
        if let Some(Chunk::Owned { data, .. }) = self.chunks.back_mut() {
            // Only into room the chunk already has: growing it would copy all it holds.
            if data.capacity() - data.len() >= b.len() {
                data.extend_from_slice(b);
                return;
            }
        }
        let mut data = Vec::with_capacity(b.len().max(OWNED_MIN));
        data.extend_from_slice(b);
        self.chunks.push_back(Chunk::Owned { data, start: 0 });
    }

    /// Appends `b`, which lies inside `frame`: kept in the frame (no copy) when it is big
    /// enough and fills enough of it, else copied.
    pub(crate) fn push_from(&mut self, b: &[u8], frame: Option<&Arc<Vec<u8>>>) {
        if let Some(f) = frame {
            let base = f.as_ptr() as usize;
            let at = (b.as_ptr() as usize).wrapping_sub(base);
            let inside = at <= f.len() && b.len() <= f.len() - at;
            if inside && b.len() >= SHARE_MIN && b.len() * 2 >= f.capacity() {
                self.len += b.len();
                self.chunks.push_back(Chunk::Shared {
                    frame: f.clone(),
                    start: at,
                    end: at + b.len(),
                });
                return;
            }
        }
        self.push_slice(b);
    }

    /// Moves up to `max` bytes from the front to the end of `dst`: whole chunks move (no copy),
    /// only a chunk cut by `max` is copied in part; an empty `dst` taking everything trades
    /// places with this queue. Returns how many bytes moved.
    pub fn move_to(&mut self, dst: &mut RecvQueue, max: usize) -> usize {
        if dst.is_empty() && max >= self.len {
            std::mem::swap(self, dst);
            return dst.len;
        }
        let mut moved = 0;
        while moved < max {
            let Some(c) = self.chunks.front() else {
                break;
            };
            let have = c.bytes().len();
            if have <= max - moved {
                if let Some(c) = self.chunks.pop_front() {
                    self.len -= have;
                    dst.len += have;
                    dst.chunks.push_back(c);
                }
                moved += have;
            } else {
                let n = max - moved;
                let part = c.bytes()[..n].to_vec();
                dst.push_slice(&part);
                self.consume(n);
                moved += n;
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(q: &RecvQueue) -> Vec<u8> {
        q.chunks.iter().flat_map(|c| c.bytes().to_vec()).collect()
    }

    #[test]
    fn frames_are_shared_small_data_is_copied() {
        let frame = Arc::new((0..=255u8).cycle().take(40_000).collect::<Vec<u8>>());
        let mut q = RecvQueue::new();
        // 30,000 bytes of a 40,000-byte frame: kept in place.
        q.push_from(&frame[100..30_100], Some(&frame));
        assert_eq!(Arc::strong_count(&frame), 2, "shared, not copied");
        // A small piece of it, and a slice from elsewhere: copied.
        q.push_from(&frame[0..10], Some(&frame));
        let other = [7u8; 20_000];
        q.push_from(&other, Some(&frame));
        assert_eq!(Arc::strong_count(&frame), 2);
        assert_eq!(q.len(), 30_000 + 10 + 20_000);
        let mut want = frame[100..30_100].to_vec();
        want.extend_from_slice(&frame[0..10]);
        want.extend_from_slice(&other);
        assert_eq!(contents(&q), want);
        // Reading across chunks, then consuming, frees the frame.
        let mut out = vec![0u8; 30_005];
        assert_eq!(q.read(&mut out), 30_005);
        assert_eq!(&out[..], &want[..30_005]);
        assert_eq!(Arc::strong_count(&frame), 1, "the frame's chunk is gone");
        assert_eq!(q.front(), &want[30_005..30_010]);
        q.consume(5);
        assert_eq!(q.front(), &other[..]);
        q.consume(usize::MAX);
        assert!(q.is_empty());
        assert_eq!(q.front(), b"");
    }

    #[test]
    fn small_pushes_share_a_chunk() {
        let mut q = RecvQueue::new();
        for i in 0..100u8 {
            q.push_slice(&[i; 10]);
        }
        assert_eq!(q.chunks.len(), 1);
        assert_eq!(q.len(), 1000);
        let mut out = [0u8; 1000];
        assert_eq!(q.read(&mut out), 1000);
        assert_eq!(out[995], 99);
    }

    #[test]
    fn move_to_swaps_moves_chunks_and_cuts() {
        let mut a = RecvQueue::new();
        a.push_slice(b"hello ");
        a.chunks.push_back(Chunk::Owned {
            data: b"big world".to_vec(),
            start: 0,
        });
        a.len += 9;
        // Into a non-empty queue: the first chunk moves whole, the second is cut.
        let mut b = RecvQueue::new();
        b.push_slice(b">");
        assert_eq!(a.move_to(&mut b, 10), 10);
        assert_eq!(contents(&b), b">hello big ");
        assert_eq!((a.len(), contents(&a)), (5, b"world".to_vec()));
        // Into an empty one that takes all: a swap.
        let mut c = RecvQueue::new();
        assert_eq!(a.move_to(&mut c, usize::MAX), 5);
        assert!(a.is_empty());
        assert_eq!(contents(&c), b"world");
        assert_eq!(a.move_to(&mut c, 100), 0);
    }

    /// Random pushes, reads and moves between two queues against two plain byte queues.
    #[test]
    fn matches_a_plain_byte_queue() {
        let mut rng = crate::XorShiftRng::new(7);
        let mut r = |n: u32| crate::Rng::below(&mut rng, n) as usize;
        let (mut a, mut b) = (RecvQueue::new(), RecvQueue::new());
        let (mut ma, mut mb) = (VecDeque::<u8>::new(), VecDeque::<u8>::new());
        let mut next = 0u8;
        for _ in 0..20_000 {
            match r(6) {
                0 | 1 => {
                    let n = [1, 100, 9000, 40_000][r(4)];
                    let cap = n + r(3) * 20_000;
                    let mut v = Vec::with_capacity(cap + 64);
                    v.resize(64, 0);
                    for _ in 0..n {
                        next = next.wrapping_add(1);
                        v.push(next);
                    }
                    let f = Arc::new(v);
                    a.push_from(&f[64..], Some(&f));
                    ma.extend(&f[64..]);
                }
                2 => {
                    let mut out = vec![0u8; r(70_000)];
                    let n = b.read(&mut out);
                    let want: Vec<u8> = mb.drain(..n.min(mb.len())).collect();
                    assert_eq!(&out[..n], &want[..]);
                }
                3 => {
                    let n = r(50_000);
                    b.consume(n);
                    mb.drain(..n.min(mb.len()));
                }
                _ => {
                    let max = if r(2) == 0 { usize::MAX } else { r(60_000) };
                    let n = a.move_to(&mut b, max);
                    assert_eq!(n, max.min(ma.len()));
                    mb.extend(ma.drain(..n));
                }
            }
            assert_eq!((a.len(), b.len()), (ma.len(), mb.len()));
            assert_eq!(b.front().first(), mb.front());
            assert_eq!(a.front().first(), ma.front());
        }
        assert_eq!(contents(&b), mb.iter().copied().collect::<Vec<u8>>());
    }
}
