//! A subagent connection's writer, shared by every task that sends to the subagent: the task
//! of an SNMP request writes its AgentX PDU to the socket itself (a non-blocking write under a
//! short lock), so a request crosses no writer task on its way out. Only what the socket does
//! not take at once is queued, and a flusher task writes it out, in order, when the socket
//! drains; while anything is queued, later PDUs queue behind it.

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
}

#[derive(Default)]
struct State {
    /// Bytes the socket has not taken yet, in order.
    queue: Vec<u8>,
    /// The flusher is writing what it took from `queue`: new PDUs must queue behind it.
    flushing: bool,
    /// A write failed: the connection is going away.
    failed: bool,
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

impl<W: HalfWrite> FrameSink for Sink<W> {
    fn send(&self, pdu: &[u8]) -> bool {
        let mut st = lock(&self.state);
        if st.failed {
            return false;
        }
        if st.flushing || !st.queue.is_empty() {
            st.queue.extend_from_slice(pdu);
            return true;
        }
        let rest = match self.half.try_write(pdu) {
            Ok(n) if n == pdu.len() => return true,
            Ok(n) => &pdu[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => pdu,
            Err(_) => {
                st.failed = true;
                return false;
            }
        };
        st.queue.extend_from_slice(rest);
        drop(st);
        self.queued.notify_one();
        true
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
}
