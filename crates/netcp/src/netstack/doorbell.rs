//! Waking the stack's thread: a byte on a socket pair it polls, written only while it sleeps.
//!
//! Every closure posted to the stack's thread used to write a byte, a system call and often a
//! cross-core wake-up even when the thread was busy and would find the closure on its next
//! round anyway (a TCP stream posts a pump per write). Now the thread says when it is about to
//! sleep and posters ring only then; the SeqCst fences on both sides (Dekker's pattern) make
//! sure a closure queued while the thread decides to sleep is either seen by its last look at
//! the queue or rings the bell.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{fence, AtomicBool, Ordering::SeqCst};

/// The ringing side, shared by everyone who posts to the stack's thread.
pub(super) struct Doorbell {
    sock: UnixStream,
    /// The stack's thread is in (or about to enter) poll(2).
    asleep: AtomicBool,
}

impl Doorbell {
    /// A bell and the thread's end of it.
    pub(super) fn pair() -> std::io::Result<(Doorbell, BellReceiver)> {
        let (a, b) = UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((
            Doorbell {
                sock: a,
                asleep: AtomicBool::new(false),
            },
            BellReceiver { sock: b },
        ))
    }

    /// Called after queueing a closure: wakes the thread if it sleeps (or is about to).
    pub(super) fn ring(&self) {
        fence(SeqCst);
        if self.asleep.swap(false, SeqCst) {
            // A full socket already holds a wake-up: losing this byte loses nothing.
            let _ = (&self.sock).write(&[1]);
        }
    }

    /// Wakes the thread whatever it is doing (stop, and the rare calls that are not hot).
    pub(super) fn ring_always(&self) {
        let _ = (&self.sock).write(&[1]);
    }

    /// The stack's thread is going to sleep: posters must ring from now on. The caller must
    /// look at its command queue once more after this and skip the sleep if it is not empty.
    pub(super) fn going_to_sleep(&self) {
        self.asleep.store(true, SeqCst);
        fence(SeqCst);
    }

    /// The stack's thread is awake again (posters need not ring).
    pub(super) fn awake(&self) {
        self.asleep.store(false, SeqCst);
    }
}

/// The stack's thread's end of the bell: polled for POLLIN, drained after waking.
pub(super) struct BellReceiver {
    sock: UnixStream,
}

impl BellReceiver {
    /// The descriptor to poll.
    pub(super) fn raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Reads every byte rung so far.
    pub(super) fn drain(&mut self) {
        let mut buf = [0u8; 64];
        while matches!(self.sock.read(&mut buf), Ok(n) if n > 0) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_only_while_asleep() {
        let (bell, mut rx) = Doorbell::pair().expect("socket pair");
        let mut buf = [0u8; 8];
        // Awake: no byte.
        bell.ring();
        assert!(rx.sock.read(&mut buf).is_err());
        // Asleep: one byte, and the first ring clears the flag so a second one does not write.
        bell.going_to_sleep();
        bell.ring();
        bell.ring();
        assert_eq!(rx.sock.read(&mut buf).expect("a wake-up byte"), 1);
        bell.ring_always();
        rx.drain();
        assert!(rx.sock.read(&mut buf).is_err());
        bell.awake();
        bell.ring();
        assert!(rx.sock.read(&mut buf).is_err());
    }
}
