//! TCP sockets of Maynard's stack behind tokio's `AsyncRead`/`AsyncWrite`, so netcp's built-in
//! and external TCP services serve on the stack's interfaces with the same code as on the host's.
//!
//! ```text
//!  listener: StackEvent::Tcp(listener) ──driver: tcp_accept──► Accepted ──channel──► accept()
//!  reading:  StackEvent::Tcp(conn) ──driver: tcp_recv_into──► Shared.rx ──swap──► stream's own queue ──► poll_read
//!  writing:  poll_write ──► Shared.tx ──one posted pump──► driver: tcp_send
//! ```
//!
//! Each connection's bytes cross threads through one small shared state (two byte queues, the
//! wakers and the end-of-stream facts) under a mutex; the stack's thread moves bytes between it
//! and the stack when the stack says the socket changed or when the service side asks. A full
//! receive queue leaves the data in the stack, whose window then closes: flow control reaches
//! the peer unchanged.
//!
//! Received bytes are not copied on their way from the frame to the service's read: a GRO'd
//! super-frame's payload stays in the frame's buffer (`stack::RecvQueue`, chunks of frames) and
//! whole queues or chunks change hands: the driver's pump moves the stack's chunks to the
//! shared queue (`Stack::tcp_recv_into`, a swap when that is empty), and the stream swaps the
//! shared queue with its own when it has read all of its own, so a reader takes the lock once
//! per batch of frames rather than once per read.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddrV4;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use stack::{Instant, RecvQueue, Stack, TcpError, TcpHandle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc as amsc;

use super::driver::Driver;
use super::udp_socket::StackCaller;

/// Bytes the pump appends to a shared queue that still holds some (an empty one takes all the
/// stack has, its whole receive buffer, by a swap).
const RX_CAP: usize = 1 << 20;
/// Bytes a service may write ahead of the stack's send buffer.
const TX_CAP: usize = 1 << 20;

/// The stack's error as an I/O error a service understands.
pub fn io_error(e: TcpError) -> io::Error {
    use io::ErrorKind as K;
    let kind = match e {
        TcpError::WouldBlock => K::WouldBlock,
        TcpError::AddrInUse => K::AddrInUse,
        TcpError::AddrNotAvailable | TcpError::NoPorts => K::AddrNotAvailable,
        TcpError::ConnectionRefused => K::ConnectionRefused,
        TcpError::ConnectionReset => K::ConnectionReset,
        TcpError::ConnectionAborted => K::ConnectionAborted,
        TcpError::TimedOut => K::TimedOut,
        TcpError::NotConnected => K::NotConnected,
        TcpError::Unreachable => K::HostUnreachable,
        TcpError::InvalidHandle | TcpError::InvalidState => K::InvalidInput,
    };
    io::Error::new(kind, e)
}

/// What one connection's two sides share.
#[derive(Default)]
struct ConnState {
    /// Received bytes the stream has not taken yet.
    rx: RecvQueue,
    /// The peer's FIN has been read from the stack.
    rx_eof: bool,
    /// The pump stopped at `RX_CAP` with bytes perhaps left in the stack: the stream asks for
    /// another pump when it takes the queue.
    rx_stalled: bool,
    /// Bytes the service wrote that the stack has not taken.
    tx: VecDeque<u8>,
    /// The service shut down its sending side: FIN after `tx`.
    shutdown: bool,
    /// The FIN has been handed to the stack.
    fin_sent: bool,
    /// The service dropped its stream: close after `tx`.
    released: bool,
    /// The connection failed (reset, timed out ...).
    error: Option<TcpError>,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
    /// A pump is queued on the stack's thread for this connection.
    pump_posted: bool,
}

struct Shared {
    state: Mutex<ConnState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connection accepted by a listener on the stack.
pub struct Accepted {
    /// The stream.
    pub stream: StackTcpStream,
    /// The remote end.
    pub peer: SocketAddrV4,
    /// The local end.
    pub local: SocketAddrV4,
}

enum Entry {
    Listener(amsc::Sender<Accepted>),
    Conn(Arc<Shared>),
}

/// The driver's table of the stack's TCP sockets opened through this module.
#[derive(Default)]
pub struct TcpSockets {
    entries: HashMap<TcpHandle, Entry>,
}

type Out = super::driver::Outbox;

impl TcpSockets {
    /// On `StackEvent::Tcp(h)`: accepts on a listener, moves bytes on a connection.
    pub fn changed(
        &mut self,
        caller: &StackCaller,
        stack: &mut Stack,
        out: &mut Out,
        h: TcpHandle,
        now: Instant,
    ) {
        match self.entries.get(&h) {
            Some(Entry::Listener(tx)) => {
                let tx = tx.clone();
                self.accept_all(caller, stack, out, h, &tx, now);
            }
            Some(Entry::Conn(_)) => self.pump(stack, out, h, now),
            None => {}
        }
    }

    fn accept_all(
        &mut self,
        caller: &StackCaller,
        stack: &mut Stack,
        out: &mut Out,
        listener: TcpHandle,
        tx: &amsc::Sender<Accepted>,
        now: Instant,
    ) {
        loop {
            let (h, peer) = match stack.tcp_accept(listener) {
                Ok(x) => x,
                Err(_) => return,
            };
            let Some(local) = stack.tcp_local_addr(h) else {
                stack.tcp_abort(out, h, now);
                continue;
            };
            let shared = Arc::new(Shared {
                state: Mutex::new(ConnState::default()),
            });
            let stream = StackTcpStream {
                caller: caller.clone(),
                handle: h,
                shared: shared.clone(),
                rx: RecvQueue::new(),
            };
            match tx.try_send(Accepted {
                stream,
                peer,
                local,
            }) {
                Ok(()) => {
                    self.entries.insert(h, Entry::Conn(shared));
                    // Data may have come with the handshake's last ACK.
                    self.pump(stack, out, h, now);
                }
                // The service is not accepting (stopped, or far behind): refuse this one. The
                // stream's drop posts a close for a handle that is no longer in the table.
                Err(e) => {
                    let a = match e {
                        amsc::error::TrySendError::Full(a)
                        | amsc::error::TrySendError::Closed(a) => a,
                    };
                    stack.tcp_abort(out, h, now);
                    drop(a);
                }
            }
        }
    }

    /// Moves bytes between the stack and the connection's shared queues, hands over FIN and
    /// close, and wakes the service's tasks that can go on.
    pub fn pump(&mut self, stack: &mut Stack, out: &mut Out, h: TcpHandle, now: Instant) {
        let Some(Entry::Conn(shared)) = self.entries.get(&h) else {
            return;
        };
        let shared = shared.clone();
        let mut st = shared.lock();
        st.pump_posted = false;
        let mut wake_reader = false;
        let mut wake_writer = false;
        // Received bytes: everything into an empty queue (a swap), else as far as it has room.
        st.rx_stalled = false;
        while !st.rx_eof && st.error.is_none() {
            if st.rx.len() >= RX_CAP {
                st.rx_stalled = true;
                break;
            }
            let room = if st.rx.is_empty() {
                usize::MAX
            } else {
                RX_CAP - st.rx.len()
            };
            match stack.tcp_recv_into(out, h, &mut st.rx, room, now) {
                Ok(0) => {
                    st.rx_eof = true;
                    wake_reader = true;
                }
                Ok(_) => wake_reader = true,
                Err(TcpError::WouldBlock) => break,
                Err(e) => {
                    st.error = Some(e);
                    wake_reader = true;
                    wake_writer = true;
                }
            }
        }
        // Bytes to send, as far as the stack's send buffer has room.
        while !st.tx.is_empty() && st.error.is_none() {
            let (front, _) = st.tx.as_slices();
            match stack.tcp_send(out, h, front, now) {
                Ok(0) | Err(TcpError::WouldBlock) => break,
                Ok(n) => {
                    st.tx.drain(..n);
                    wake_writer = true;
                }
                Err(e) => {
                    st.error = Some(e);
                    wake_reader = true;
                    wake_writer = true;
                }
            }
        }
        if st.error.is_none() {
            if let Some(e) = stack.tcp_poll(h).error {
                st.error = Some(e);
                wake_reader = true;
                wake_writer = true;
            }
        }
        if st.tx.is_empty() && st.shutdown && !st.fin_sent && st.error.is_none() {
            st.fin_sent = true;
            wake_writer = true;
            if let Err(e) = stack.tcp_shutdown_write(out, h, now) {
                st.error = Some(e);
            }
        }
        let finished = st.released && (st.tx.is_empty() || st.error.is_some());
        if wake_reader {
            if let Some(w) = st.read_waker.take() {
                w.wake();
            }
        }
        if wake_writer {
            if let Some(w) = st.write_waker.take() {
                w.wake();
            }
        }
        drop(st);
        if finished {
            self.entries.remove(&h);
            stack.tcp_close(out, h, now);
        }
    }
}

/// A listening socket on the stack.
pub struct StackTcpListener {
    caller: StackCaller,
    handle: TcpHandle,
    rx: amsc::Receiver<Accepted>,
}

impl StackTcpListener {
    /// Listens on `addr` (blocking briefly for the stack's thread).
    pub fn bind(
        caller: &StackCaller,
        addr: SocketAddrV4,
        backlog: usize,
    ) -> io::Result<StackTcpListener> {
        let (tx, rx) = amsc::channel(backlog.max(1));
        let handle = caller.call_blocking(move |d: &mut Driver| {
            let h = d.stack.tcp_listen(addr, backlog).map_err(io_error)?;
            d.tcp.entries.insert(h, Entry::Listener(tx));
            Ok::<_, io::Error>(h)
        })??;
        Ok(StackTcpListener {
            caller: caller.clone(),
            handle,
            rx,
        })
    }

    /// The next connection; an error only when the stack has stopped.
    pub async fn accept(&mut self) -> io::Result<Accepted> {
        self.rx.recv().await.ok_or_else(super::udp_socket::stopped)
    }
}

impl Drop for StackTcpListener {
    fn drop(&mut self) {
        let h = self.handle;
        self.caller.post(move |d| {
            d.tcp.entries.remove(&h);
            d.with_ctx(|s, out, now| s.tcp_close(out, h, now));
        });
    }
}

/// One connection on the stack.
pub struct StackTcpStream {
    caller: StackCaller,
    handle: TcpHandle,
    shared: Arc<Shared>,
    /// Received bytes taken from the shared queue in one swap, read from without the lock.
    rx: RecvQueue,
}

impl StackTcpStream {
    /// Queues a pump of this connection on the stack's thread unless one is queued already.
    fn request_pump(&self, st: &mut ConnState) {
        if st.pump_posted {
            return;
        }
        st.pump_posted = true;
        let h = self.handle;
        self.caller.post(move |d| d.tcp_pump(h));
    }
}

impl AsyncRead for StackTcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.rx.is_empty() {
            let shared = this.shared.clone();
            let mut st = shared.lock();
            if !st.rx.is_empty() {
                // Take the whole queue; the pump refills the (empty) one left behind.
                std::mem::swap(&mut this.rx, &mut st.rx);
                // The stack may be holding more (the pump stopped at this queue's cap).
                if st.rx_stalled {
                    st.rx_stalled = false;
                    this.request_pump(&mut st);
                }
            } else {
                return this.poll_read_end(&mut st, cx);
            }
        }
        while buf.remaining() > 0 {
            let f = this.rx.front();
            if f.is_empty() {
                break;
            }
            let n = f.len().min(buf.remaining());
            buf.put_slice(&f[..n]);
            this.rx.consume(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl StackTcpStream {
    /// Nothing left to read: end of stream, the connection's error, or wait.
    fn poll_read_end(&self, st: &mut ConnState, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if st.rx_eof {
            return Poll::Ready(Ok(()));
        }
        if let Some(e) = st.error {
            return Poll::Ready(Err(io_error(e)));
        }
        st.read_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for StackTcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let shared = this.shared.clone();
        let mut st = shared.lock();
        if let Some(e) = st.error {
            return Poll::Ready(Err(io_error(e)));
        }
        if st.shutdown {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the stream was shut down for writing",
            )));
        }
        let room = TX_CAP.saturating_sub(st.tx.len());
        if room == 0 {
            st.write_waker = Some(cx.waker().clone());
            this.request_pump(&mut st);
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        st.tx.extend(&buf[..n]);
        this.request_pump(&mut st);
        Poll::Ready(Ok(n))
    }

    /// Done when the stack has taken every byte written (they are then the stack's to deliver).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let shared = this.shared.clone();
        let mut st = shared.lock();
        if let Some(e) = st.error {
            return Poll::Ready(Err(io_error(e)));
        }
        if st.tx.is_empty() {
            return Poll::Ready(Ok(()));
        }
        st.write_waker = Some(cx.waker().clone());
        this.request_pump(&mut st);
        Poll::Pending
    }

    /// Sends FIN after every byte written; done when the stack has it.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let shared = this.shared.clone();
        let mut st = shared.lock();
        if st.fin_sent {
            return Poll::Ready(Ok(()));
        }
        if let Some(e) = st.error {
            return Poll::Ready(Err(io_error(e)));
        }
        st.shutdown = true;
        st.write_waker = Some(cx.waker().clone());
        this.request_pump(&mut st);
        Poll::Pending
    }
}

impl Drop for StackTcpStream {
    /// Closes gracefully once what was written has gone to the stack.
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.released = true;
        if st.error.is_some() && !st.pump_posted {
            // The connection is already dead in the stack (reset, timed out): only the table
            // entry and the stack's slot are left to free, which can wait for the thread's
            // next round instead of waking it (a connection closed by RST, as in TCP_CRR, saves
            // a wake-up).
            st.pump_posted = true;
            let h = self.handle;
            self.caller.post_quiet(move |d| d.tcp_pump(h));
            return;
        }
        self.request_pump(&mut st);
    }
}
