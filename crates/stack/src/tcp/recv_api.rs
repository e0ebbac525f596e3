//! The receiving side of the `Stack::tcp_*` calls: reads (into a buffer, or into a byte queue
//! by a swap when it can), the window updates reading opens, and ACKs held over a driver's
//! batch of frames.

use super::recv_queue::RecvQueue;
use super::TcpError;
use super::TcpHandle;
use super::TcpState;
use crate::{Instant, LinkContext, Stack};

impl Stack {
    /// Holds the ACKs that in-order data asks for (every second full segment, each GRO'd
    /// super-frame, window updates after a read) until [`tcp_release_acks`](Self::tcp_release_acks):
    /// a driver calls this before it hands the stack a batch of frames read from its links and
    /// releases after the batch (and the reads it caused), so one ACK per connection covers the
    /// whole batch, each super-frame in it having counted as the segments it carries (RFC 9293
    /// 3.8.6.3, RFC 5681 4.2). ACKs that must go at once (out-of-order data, duplicates, FIN,
    /// answers to probes) are not held; a held ACK also arms the delayed-ACK timer, so it goes
    /// even if the release never comes.
    pub fn tcp_hold_acks(&mut self) {
        self.tcp.hold_acks = true;
    }

    /// Sends the ACKs held since [`tcp_hold_acks`](Self::tcp_hold_acks), one per connection,
    /// with the window as it is now, and stops holding.
    pub fn tcp_release_acks<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, now: Instant) {
        self.tcp.hold_acks = false;
        if self.tcp.held.is_empty() {
            return;
        }
        let mut held = std::mem::take(&mut self.tcp.held);
        for &i in &held {
            let path = self.tcp_path_of(i, now);
            self.tcp.drive(i, path, now, |c, env| {
                c.ack_listed = false;
                if c.ack_soon {
                    c.output(env);
                }
            });
        }
        held.clear();
        // Keep the allocation for the next batch.
        if self.tcp.held.is_empty() {
            self.tcp.held = held;
        }
        self.tcp_done(ctx, now);
    }

    /// Ok(n>0) data; Ok(0) end of stream (FIN received, all read); Err(WouldBlock) nothing yet.
    pub fn tcp_recv<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        buf: &mut [u8],
        now: Instant,
    ) -> Result<usize, TcpError> {
        let Some(i) = self.tcp_readable(h)? else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.tcp.conn_at_mut(i).map_or(0, |c| c.rbuf.read(buf));
        self.tcp_read_done(ctx, i, now);
        Ok(n)
    }

    /// [`tcp_recv`](Self::tcp_recv) into a byte queue: moves up to `max` received bytes to the
    /// end of `dst` and returns how many, with the same end-of-stream and error results. The
    /// bytes move as whole chunks (an empty `dst` taking everything trades places with the
    /// receive buffer's queue), and a GRO'd super-frame's payload stays in the frame's own
    /// buffer: nothing is copied between the TAP read and the reader's own read.
    pub fn tcp_recv_into<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        h: TcpHandle,
        dst: &mut RecvQueue,
        max: usize,
        now: Instant,
    ) -> Result<usize, TcpError> {
        let Some(i) = self.tcp_readable(h)? else {
            return Ok(0);
        };
        if max == 0 {
            return Ok(0);
        }
        let n = self
            .tcp
            .conn_at_mut(i)
            .map_or(0, |c| c.rbuf.read_into(dst, max));
        self.tcp_read_done(ctx, i, now);
        Ok(n)
    }

    /// The connection's slot when it has bytes to read, `None` at the end of the stream (FIN
    /// received and every byte read), or why there is nothing.
    fn tcp_readable(&mut self, h: TcpHandle) -> Result<Option<u32>, TcpError> {
        let i = self.tcp_index(h)?;
        let c = self.tcp.conn_mut(h).ok_or(TcpError::InvalidHandle)?;
        if c.rbuf.len() > 0 {
            return Ok(Some(i));
        }
        if let Some(e) = c.error {
            return Err(e);
        }
        if c.fin_rcvd || (c.state == TcpState::Closed && c.was_connected) {
            return Ok(None);
        }
        if c.state == TcpState::Closed {
            return Err(TcpError::NotConnected);
        }
        Err(TcpError::WouldBlock)
    }

    /// After a read from connection `i`'s receive buffer: the window update, if one is due
    /// (with the batch's ACK while ACKs are held).
    fn tcp_read_done<C: LinkContext + ?Sized>(&mut self, ctx: &mut C, i: u32, now: Instant) {
        let Some(c) = self.tcp.conn_at_mut(i) else {
            return;
        };
        if !c.window_update_due()
            || matches!(c.state, TcpState::Closed | TcpState::TimeWait)
            || c.fin_rcvd
        {
            return;
        }
        let path = self.tcp_path_of(i, now);
        if self.tcp.hold_acks {
            self.tcp.drive(i, path, now, |c, env| {
                c.ack_soon = true;
                if c.delack_at.is_none() {
                    c.delack_at = Some(env.now + env.cfg.delayed_ack_timeout);
                }
            });
            return;
        }
        self.tcp.drive(i, path, now, |c, env| {
            c.ack_now = true;
            c.output(env)
        });
        self.tcp_done(ctx, now);
    }
}
