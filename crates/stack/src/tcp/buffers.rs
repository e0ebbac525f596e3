//! The send buffer (bytes from SND.UNA on, kept until acknowledged so they can be sent again)
//! and the receive buffer (in-order bytes waiting for the application, plus out-of-order
//! segments waiting for the gap before them, which SACK reports).

use super::recv_queue::RecvQueue;
use super::seq::SeqNum;
use std::collections::VecDeque;
use std::sync::Arc;

/// Bytes written by the application and not yet acknowledged.
#[derive(Debug, Default)]
pub(crate) struct SendBuf {
    data: VecDeque<u8>,
    pub(crate) cap: usize,
}

impl SendBuf {
    pub(crate) fn new(cap: usize) -> Self {
        SendBuf {
            data: VecDeque::new(),
            cap,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn free(&self) -> usize {
        self.cap.saturating_sub(self.data.len())
    }

    /// Appends as much of `b` as fits; returns how much.
    pub(crate) fn push(&mut self, b: &[u8]) -> usize {
        let n = b.len().min(self.free());
        self.data.extend(&b[..n]);
        n
    }

    /// Drops `n` acknowledged bytes from the front.
    pub(crate) fn drain(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
        if self.data.is_empty() && self.data.capacity() > (1 << 20) {
            // An idle connection should not keep a large buffer.
            self.data.shrink_to(64 * 1024);
        }
    }

    /// Appends `n` bytes from `offset` to `out` (fewer if the buffer ends first).
    pub(crate) fn append_to(&self, offset: usize, n: usize, out: &mut Vec<u8>) {
        let end = (offset + n).min(self.data.len());
        if offset >= end {
            return;
        }
        let (a, b) = self.data.as_slices();
        if offset < a.len() {
            out.extend_from_slice(&a[offset..end.min(a.len())]);
        }
        if end > a.len() {
            let from = offset.max(a.len()) - a.len();
            out.extend_from_slice(&b[from..end - a.len()]);
        }
    }
}

/// Received bytes not yet read, and out-of-order segments.
#[derive(Debug, Default)]
pub(crate) struct RecvBuf {
    data: RecvQueue,
    pub(crate) cap: usize,
    /// Out-of-order data: sorted, disjoint, none adjacent to another.
    ooo: Vec<(SeqNum, Vec<u8>)>,
    /// Where the latest out-of-order segment began (its block is reported first in SACK).
    latest: Option<SeqNum>,
}

impl RecvBuf {
    pub(crate) fn new(cap: usize) -> Self {
        RecvBuf {
            data: RecvQueue::new(),
            cap,
            ooo: Vec::new(),
            latest: None,
        }
    }

    /// Bytes ready to read.
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// Bytes of out-of-order data held.
    #[cfg(test)]
    pub(crate) fn ooo_bytes(&self) -> usize {
        self.ooo.iter().map(|(_, d)| d.len()).sum()
    }

    /// Whether any out-of-order data is held.
    pub(crate) fn has_ooo(&self) -> bool {
        !self.ooo.is_empty()
    }

    /// Room left for in-order data (the window to advertise).
    pub(crate) fn window(&self) -> usize {
        self.cap.saturating_sub(self.data.len())
    }

    /// Takes a segment's data at `seq` (already trimmed to start at or after `rcv_nxt` and to
    /// end inside the window). Returns how far RCV.NXT moves. In-order data that lies in
    /// `frame` (the buffer of the frame it came in) may stay there rather than be copied.
    pub(crate) fn insert(
        &mut self,
        rcv_nxt: SeqNum,
        seq: SeqNum,
        payload: &[u8],
        frame: Option<&Arc<Vec<u8>>>,
    ) -> usize {
        if payload.is_empty() {
            return 0;
        }
        if seq != rcv_nxt {
            self.insert_ooo(seq, payload);
            return 0;
        }
        self.data.push_from(payload, frame);
        let mut nxt = rcv_nxt + payload.len();
        // Pull in the out-of-order segments the new data reaches.
        while let Some((s, _)) = self.ooo.first() {
            if *s > nxt {
                break;
            }
            let (s, d) = self.ooo.remove(0);
            let skip = nxt.since(s);
            if skip < d.len() {
                self.data.push_slice(&d[skip..]);
                nxt = s + d.len();
            }
        }
        if self.ooo.is_empty() {
            self.latest = None;
        }
        nxt.since(rcv_nxt)
    }

    fn insert_ooo(&mut self, seq: SeqNum, payload: &[u8]) {
        let end = seq + payload.len();
        self.latest = Some(seq);
        // The common case after a loss: segments arrive in order behind the hole and extend the
        // block they follow. Append in place (merging from scratch would copy the whole block for
        // every segment).
        if let Some(i) = self
            .ooo
            .iter()
            .position(|(s, d)| *s <= seq && seq <= *s + d.len())
        {
            let block_end = self.ooo[i].0 + self.ooo[i].1.len();
            let next_start = self.ooo.get(i + 1).map(|(s, _)| *s);
            if end <= block_end {
                return;
            }
            if next_start.is_none_or(|n| end < n) {
                let skip = block_end.since(seq);
                self.ooo[i].1.extend_from_slice(&payload[skip..]);
                return;
            }
        }
        // Merge with every block it touches into one.
        let mut start = seq;
        let mut stop = end;
        let first = self.ooo.iter().position(|(s, d)| *s + d.len() >= seq);
        let Some(i) = first else {
            self.ooo.push((seq, payload.to_vec()));
            return;
        };
        let mut j = i;
        while j < self.ooo.len() && self.ooo[j].0 <= end {
            j += 1;
        }
        if i == j {
            self.ooo.insert(i, (seq, payload.to_vec()));
            return;
        }
        for (s, d) in &self.ooo[i..j] {
            start = start.min(*s);
            stop = stop.max(*s + d.len());
        }
        let mut merged = vec![0u8; stop.since(start)];
        for (s, d) in &self.ooo[i..j] {
            let at = s.since(start);
            merged[at..at + d.len()].copy_from_slice(d);
        }
        let at = seq.since(start);
        merged[at..at + payload.len()].copy_from_slice(payload);
        self.ooo.splice(i..j, std::iter::once((start, merged)));
    }

    /// Up to `n` SACK blocks: the one holding the latest arrival first, then the others in order.
    pub(crate) fn sack_blocks(&self, n: usize) -> [Option<(u32, u32)>; 4] {
        let mut r = [None; 4];
        let mut k = 0;
        let block = |(s, d): &(SeqNum, Vec<u8>)| (s.0, (*s + d.len()).0);
        let latest = self.latest.and_then(|l| {
            self.ooo
                .iter()
                .position(|(s, d)| *s <= l && l < *s + d.len())
        });
        if let Some(i) = latest {
            r[0] = Some(block(&self.ooo[i]));
            k = 1;
        }
        for (i, b) in self.ooo.iter().enumerate() {
            if k >= n.min(4) {
                break;
            }
            if Some(i) != latest {
                r[k] = Some(block(b));
                k += 1;
            }
        }
        r
    }

    /// Reads up to `out.len()` bytes.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> usize {
        self.data.read(out)
    }

    /// Moves up to `max` bytes to the end of `dst` (whole chunks, no copy; an empty `dst`
    /// that takes everything trades places with this buffer's queue).
    pub(crate) fn read_into(&mut self, dst: &mut RecvQueue, max: usize) -> usize {
        self.data.move_to(dst, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_buffer_wraps() {
        let mut s = SendBuf::new(8);
        assert_eq!(s.push(b"abcdef"), 6);
        s.drain(4);
        assert_eq!(s.push(b"ghijklmn"), 6);
        for off in 0..8 {
            let mut v = Vec::new();
            s.append_to(off, 4, &mut v);
            assert_eq!(&v[..], &b"efghijkl"[off..(off + 4).min(8)]);
        }
        assert_eq!(s.free(), 0);
    }

    #[test]
    fn reassembly_and_sack_blocks() {
        let mut r = RecvBuf::new(100);
        let base = SeqNum(u32::MAX - 3);
        assert_eq!(r.insert(base, base + 10, b"KLMNO", None), 0);
        assert_eq!(r.insert(base, base + 20, b"UVW", None), 0);
        assert_eq!(r.sack_blocks(3)[0], Some(((base + 20).0, (base + 23).0)));
        assert_eq!(r.sack_blocks(3)[1], Some(((base + 10).0, (base + 15).0)));
        // Overlapping the first block and bridging to the second.
        assert_eq!(r.insert(base, base + 13, b"NOPQRSTU", None), 0);
        assert_eq!(
            r.sack_blocks(3),
            [Some(((base + 10).0, (base + 23).0)), None, None, None]
        );
        assert_eq!(r.ooo_bytes(), 13);
        assert_eq!(r.insert(base, base, b"ABCDEFGHIJKL", None), 23);
        assert!(!r.has_ooo());
        let mut out = [0u8; 30];
        let n = r.read(&mut out);
        assert_eq!(&out[..n], b"ABCDEFGHIJKLMNOPQRSTUVW");
    }

    #[test]
    fn read_into_moves_the_bytes() {
        let mut r = RecvBuf::new(100);
        let base = SeqNum(7);
        assert_eq!(r.insert(base, base, b"hello world", None), 11);
        let mut q = RecvQueue::new();
        q.push_slice(b">");
        assert_eq!(r.read_into(&mut q, 6), 6);
        assert_eq!(r.len(), 5);
        assert_eq!(r.window(), 95);
        let mut out = [0u8; 16];
        assert_eq!(q.read(&mut out), 7);
        assert_eq!(&out[..7], b">hello ");
        assert_eq!(r.read_into(&mut q, 100), 5);
        assert_eq!(r.len(), 0);
        assert_eq!(q.read(&mut out), 5);
        assert_eq!(&out[..5], b"world");
    }
}
