//! Live capture on the stack's interfaces (`netcu dump se0`): the stack's capture hook copies
//! the frames of an interface that has at least one open capture session into each session's
//! bounded queue. The hook runs on the stack's thread and never blocks it: a full queue drops
//! the frame and counts it; with no session open it costs one atomic load per frame.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use control::protocol::{CapturedFrame, FrameDirection};
use stack::{CaptureHook, Direction, IfaceId, Instant};
use tokio::sync::mpsc;

/// Frames a session may hold before the next ones are dropped.
pub const SESSION_QUEUE: usize = 4096;

struct Session {
    iface: IfaceId,
    tx: mpsc::Sender<CapturedFrame>,
    dropped: Arc<AtomicU64>,
}

#[derive(Default)]
struct Inner {
    sessions: Mutex<Vec<Session>>,
    /// How many sessions are open: the hook's fast path.
    open: AtomicUsize,
}

/// The open capture sessions, shared by the hook (on the stack's thread) and the control
/// sessions that read them.
#[derive(Clone, Default)]
pub struct CaptureSlots(Arc<Inner>);

/// One capture session's end: frames arrive on `frames`; closing it (dropping) ends the session.
pub struct CaptureSession {
    /// The frames.
    pub frames: mpsc::Receiver<CapturedFrame>,
    /// Frames lost because the queue was full.
    pub dropped: Arc<AtomicU64>,
}

impl CaptureSlots {
    /// Opens a session on `iface`.
    pub fn open(&self, iface: IfaceId) -> CaptureSession {
        let (tx, frames) = mpsc::channel(SESSION_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let mut sessions = self.0.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.push(Session {
            iface,
            tx,
            dropped: dropped.clone(),
        });
        self.0.open.store(sessions.len(), Ordering::Release);
        CaptureSession { frames, dropped }
    }

    /// The hook to install on the stack.
    pub fn hook(&self) -> CaptureTap {
        CaptureTap(self.clone())
    }
}

/// The stack's capture hook.
pub struct CaptureTap(CaptureSlots);

impl CaptureHook for CaptureTap {
    fn capture(&mut self, iface: IfaceId, dir: Direction, frame: &[u8], _now: Instant) {
        let inner = &self.0 .0;
        if inner.open.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut sessions = inner.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if !sessions.iter().any(|s| s.iface == iface) {
            return;
        }
        // Wall-clock time stamps, as pcap wants them (the stack's clock is monotonic).
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let direction = match dir {
            Direction::In => FrameDirection::In,
            Direction::Out => FrameDirection::Out,
        };
        sessions.retain(|s| {
            if s.iface != iface {
                return !s.tx.is_closed();
            }
            let f = CapturedFrame {
                ts_sec: t.as_secs() as i64,
                ts_nsec: t.subsec_nanos(),
                direction,
                data: frame.to_vec(),
            };
            match s.tx.try_send(f) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                // The reader went away: the session ends.
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        inner.open.store(sessions.len(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_only_the_sessions_interface_and_drops_when_full() {
        let slots = CaptureSlots::default();
        let mut tap = slots.hook();
        // No session: nothing happens.
        tap.capture(
            IfaceId(1),
            Direction::In,
            &[1, 2, 3],
            Instant::from_nanos(0),
        );
        let mut s = slots.open(IfaceId(1));
        tap.capture(IfaceId(2), Direction::In, &[9], Instant::from_nanos(0));
        tap.capture(IfaceId(1), Direction::Out, &[1, 2], Instant::from_nanos(0));
        let f = s.frames.try_recv().unwrap();
        assert_eq!(f.data, vec![1, 2]);
        assert_eq!(f.direction, FrameDirection::Out);
        assert!(s.frames.try_recv().is_err());
        for _ in 0..SESSION_QUEUE + 5 {
            tap.capture(IfaceId(1), Direction::In, &[0], Instant::from_nanos(0));
        }
        assert_eq!(s.dropped.load(Ordering::Relaxed), 5);
        drop(s);
        tap.capture(IfaceId(1), Direction::In, &[0], Instant::from_nanos(0));
        assert_eq!(slots.0.open.load(Ordering::Relaxed), 0);
    }
}
