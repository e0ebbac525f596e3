//! A subagent connection's writer, shared by every task that sends to the subagent: the task
//! of an SNMP request writes its AgentX PDU to the socket itself (a non-blocking write under a
//! short lock), so a request crosses no writer task on its way out. Only what the socket does
//! not take at once is queued, and a flusher task writes it out, in order, when the socket
//! drains; while anything is queued, later PDUs queue behind it.
//!
//! A PDU may also be *corked* ([`FrameSink::queue`]): held until [`FrameSink::uncork`], so
//! that the UDP loop, having dispatched every datagram that was waiting, hands the subagent
//! all of their PDUs in one write (one wake-up of the subagent instead of one per request).

use std::future::Future;
use std::io;
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::snmp_agent::lock;

/// The write half of a subagent's socket (Unix or TCP).
pub trait HalfWrite: Send + Sync + 'static {
    /// A non-blocking write.
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
    /// Waits until the socket may take more.
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send;
}

impl HalfWrite for tokio::net::unix::OwnedWriteHalf {
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        tokio::net::unix::OwnedWriteHalf::try_write(self, buf)
    }
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send {
        tokio::net::unix::OwnedWriteHalf::writable(self)
    }
}

impl HalfWrite for tokio::net::tcp::OwnedWriteHalf {
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        tokio::net::tcp::OwnedWriteHalf::try_write(self, buf)
    }
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send {
        tokio::net::tcp::OwnedWriteHalf::writable(self)
    }
}

/// Where PDUs for one connection go.
pub trait FrameSink: Send + Sync {
    /// Writes (or queues) one PDU; false once the connection failed.
    fn send(&self, pdu: &[u8]) -> bool;
    /// Holds one PDU until [`FrameSink::uncork`] (after anything held before it); false
    /// once the connection failed.
    fn queue(&self, pdu: &[u8]) -> bool;
    /// Writes (or queues) everything held by [`FrameSink::queue`].
    fn uncork(&self);
}

#[derive(Default)]
struct State {
    /// Bytes the socket has not taken yet, in order.
    queue: Vec<u8>,
    /// The flusher is writing what it took from `queue`: new PDUs must queue behind it.
    flushing: bool,
    /// A write failed: the connection is going away.
    failed: bool,
    /// PDUs held by [`FrameSink::queue`], not offered to the socket yet.
    corked: Vec<u8>,
}

/// One connection's writer.
pub struct Sink<W> {
    half: W,
    state: Mutex<State>,
    queued: Notify,
}

impl<W: HalfWrite> Sink<W> {
    pub fn new(half: W) -> Self {
        Sink {
            half,
            state: Mutex::new(State::default()),
            queued: Notify::new(),
        }
    }

    /// Writes out what is queued, as the socket takes it (one task per connection).
    pub async fn flusher(self: std::sync::Arc<Self>) {
        loop {
            self.queued.notified().await;
            loop {
                let out = {
                    let mut st = lock(&self.state);
                    if st.queue.is_empty() {
                        st.flushing = false;
                        break;
                    }
                    st.flushing = true;
                    std::mem::take(&mut st.queue)
                };
                if self.write_all(&out).await.is_err() {
                    lock(&self.state).failed = true;
                    return;
                }
            }
        }
    }

    async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.half.try_write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.half.writable().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl<W: HalfWrite> Sink<W> {
    /// Offers `bytes` to the socket (or queues them behind what waits), under the state lock.
    fn write_locked(&self, st: &mut State, bytes: &[u8]) -> bool {
        if st.failed {
            return false;
        }
        if st.flushing || !st.queue.is_empty() {
            st.queue.extend_from_slice(bytes);
            return true;
        }
        let rest = match self.half.try_write(bytes) {
            Ok(n) if n == bytes.len() => return true,
            Ok(n) => &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => bytes,
            Err(_) => {
                st.failed = true;
                return false;
            }
        };
        st.queue.extend_from_slice(rest);
        self.queued.notify_one();
        true
    }
}

impl<W: HalfWrite> FrameSink for Sink<W> {
    fn send(&self, pdu: &[u8]) -> bool {
        let mut st = lock(&self.state);
        if !st.corked.is_empty() {
            // Behind what is held, in order.
            st.corked.extend_from_slice(pdu);
            let held = std::mem::take(&mut st.corked);
            let ok = self.write_locked(&mut st, &held);
            st.corked = held;
            st.corked.clear();
            return ok;
        }
        self.write_locked(&mut st, pdu)
    }

    fn queue(&self, pdu: &[u8]) -> bool {
        let mut st = lock(&self.state);
        if st.failed {
            return false;
        }
        st.corked.extend_from_slice(pdu);
        true
    }

    fn uncork(&self) {
        let mut st = lock(&self.state);
        if st.corked.is_empty() {
            return;
        }
        let held = std::mem::take(&mut st.corked);
        self.write_locked(&mut st, &held);
        // The buffer's capacity serves the next batch.
        st.corked = held;
        st.corked.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    /// Many PDUs, some larger than the socket takes at once, arrive whole and in order.
    #[tokio::test]
    async fn writes_in_order_through_a_full_socket() {
        let (a, b) = tokio::net::UnixStream::pair().expect("a socket pair");
        let (_ard, awr) = a.into_split();
        let sink = Arc::new(Sink::new(awr));
        let flusher = tokio::spawn(sink.clone().flusher());
        let mut want = Vec::new();
        for i in 0..200u32 {
            let pdu: Vec<u8> = (0..(i * 997 % 20_000)).map(|k| (k ^ i) as u8).collect();
            assert!(sink.send(&pdu));
            want.extend_from_slice(&pdu);
        }
        let mut got = vec![0u8; want.len()];
        let mut b = b;
        b.read_exact(&mut got).await.expect("everything");
        assert!(got == want, "bytes differ");
        flusher.abort();
    }

    /// Corked PDUs wait for `uncork` and keep their order with PDUs sent meanwhile.
    #[tokio::test]
    async fn corked_pdus_go_out_on_uncork_in_order() {
        let (a, mut b) = tokio::net::UnixStream::pair().expect("a socket pair");
        let (_ard, awr) = a.into_split();
        let sink = Arc::new(Sink::new(awr));
        let flusher = tokio::spawn(sink.clone().flusher());
        assert!(sink.queue(b"one"));
        assert!(sink.queue(b"two"));
        let mut probe = [0u8; 16];
        assert!(
            b.try_read(&mut probe).is_err(),
            "nothing is written before uncork"
        );
        assert!(sink.send(b"three"));
        assert!(sink.queue(b"four"));
        sink.uncork();
        sink.uncork();
        let mut got = vec![0u8; 15];
        b.read_exact(&mut got).await.expect("everything");
        assert_eq!(&got, b"onetwothreefour");
        flusher.abort();
    }
}
