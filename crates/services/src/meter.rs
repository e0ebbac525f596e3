//! Byte and message counting (seed 004's per-application message counts).
//!
//! Messages are kept in hundredths: each socket read or write adds the service's weight
//! (`weight-N`, default 100 = one message), so `weight-50` counts half a message per read.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Live counters of one service (all its connections and datagrams).
#[derive(Debug)]
pub struct ServiceMeter {
    /// Message weight in hundredths of a message per read or write (seed 004's `weight-N`).
    pub weight: AtomicU32,
    /// Connections (or datagram exchanges) accepted.
    pub accepted: AtomicU64,
    /// Connections (or datagrams) refused by access list or limits.
    pub refused: AtomicU64,
    /// Connections currently open.
    pub active: AtomicU64,
    /// Bytes received from peers.
    pub bytes_in: AtomicU64,
    /// Bytes sent to peers.
    pub bytes_out: AtomicU64,
    /// Messages in, in hundredths.
    pub msgs_in_centi: AtomicU64,
    /// Messages out, in hundredths.
    pub msgs_out_centi: AtomicU64,
}

impl Default for ServiceMeter {
    fn default() -> Self {
        Self::new(100)
    }
}

/// A copy of a meter's values at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterSnapshot {
    /// Connections (or datagram exchanges) accepted.
    pub accepted: u64,
    /// Connections refused.
    pub refused: u64,
    /// Connections open now.
    pub active: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Messages in, hundredths.
    pub msgs_in_centi: u64,
    /// Messages out, hundredths.
    pub msgs_out_centi: u64,
}

impl ServiceMeter {
    /// A meter counting `weight` hundredths of a message per read or write.
    pub fn new(weight: u32) -> Self {
        Self {
            weight: AtomicU32::new(weight),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            active: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            msgs_in_centi: AtomicU64::new(0),
            msgs_out_centi: AtomicU64::new(0),
        }
    }

    /// Counts one read of `n` bytes.
    pub fn count_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Relaxed);
        self.msgs_in_centi
            .fetch_add(u64::from(self.weight.load(Relaxed)), Relaxed);
    }

    /// Counts one write of `n` bytes.
    pub fn count_out(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Relaxed);
        self.msgs_out_centi
            .fetch_add(u64::from(self.weight.load(Relaxed)), Relaxed);
    }

    /// The values now.
    pub fn snapshot(&self) -> MeterSnapshot {
        MeterSnapshot {
            accepted: self.accepted.load(Relaxed),
            refused: self.refused.load(Relaxed),
            active: self.active.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            msgs_in_centi: self.msgs_in_centi.load(Relaxed),
            msgs_out_centi: self.msgs_out_centi.load(Relaxed),
        }
    }

    /// Sets every counter but the active connections back to zero.
    pub fn zero(&self) {
        for c in [
            &self.accepted,
            &self.refused,
            &self.bytes_in,
            &self.bytes_out,
            &self.msgs_in_centi,
            &self.msgs_out_centi,
        ] {
            c.store(0, Relaxed);
        }
    }
}

/// Live counters of one connection.
#[derive(Debug, Default)]
pub struct ConnMeter {
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent.
    pub bytes_out: AtomicU64,
    /// Messages in, hundredths.
    pub msgs_in_centi: AtomicU64,
    /// Messages out, hundredths.
    pub msgs_out_centi: AtomicU64,
}

impl ConnMeter {
    /// Adds externally measured totals (e.g. read from the kernel after a child server exits).
    pub fn add(
        &self,
        service: &ServiceMeter,
        bytes_in: u64,
        bytes_out: u64,
        reads: u64,
        writes: u64,
    ) {
        let w = u64::from(service.weight.load(Relaxed));
        self.bytes_in.fetch_add(bytes_in, Relaxed);
        self.bytes_out.fetch_add(bytes_out, Relaxed);
        self.msgs_in_centi.fetch_add(reads * w, Relaxed);
        self.msgs_out_centi.fetch_add(writes * w, Relaxed);
        service.bytes_in.fetch_add(bytes_in, Relaxed);
        service.bytes_out.fetch_add(bytes_out, Relaxed);
        service.msgs_in_centi.fetch_add(reads * w, Relaxed);
        service.msgs_out_centi.fetch_add(writes * w, Relaxed);
    }
}

/// A stream that counts every read and write into a connection's and its service's meters.
pub struct MeteredStream<S> {
    inner: S,
    conn: Arc<ConnMeter>,
    service: Arc<ServiceMeter>,
}

impl<S> MeteredStream<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, conn: Arc<ConnMeter>, service: Arc<ServiceMeter>) -> Self {
        Self {
            inner,
            conn,
            service,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for MeteredStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            let w = u64::from(self.service.weight.load(Relaxed));
            self.conn.bytes_in.fetch_add(n as u64, Relaxed);
            self.conn.msgs_in_centi.fetch_add(w, Relaxed);
            self.service.bytes_in.fetch_add(n as u64, Relaxed);
            self.service.msgs_in_centi.fetch_add(w, Relaxed);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for MeteredStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            if n > 0 {
                let w = u64::from(self.service.weight.load(Relaxed));
                self.conn.bytes_out.fetch_add(n as u64, Relaxed);
                self.conn.msgs_out_centi.fetch_add(w, Relaxed);
                self.service.bytes_out.fetch_add(n as u64, Relaxed);
                self.service.msgs_out_centi.fetch_add(w, Relaxed);
            }
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
