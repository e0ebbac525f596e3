//! Character generator (RFC 864).
//!
//! The classic pattern: 72-character lines over the 95 printable ASCII characters, each line
//! starting one character later than the one before, CRLF-terminated. After 95 lines the pattern
//! repeats, so the whole output is a cycle of 95 × 74 bytes. We build that cycle once, repeated
//! enough times that any starting offset has a long contiguous slice after it, and send large
//! slices of it.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::task::Poll;
use std::time::SystemTime;

use tokio::io::ReadBuf;

use crate::clock;
use crate::net::ServiceStream;

/// Characters in the rotating set: ' ' (0x20) through '~' (0x7e).
pub const PRINTABLE: usize = 95;
/// Characters of pattern per line.
pub const LINE_CHARS: usize = 72;
/// Bytes per line on the wire, CRLF included.
pub const LINE_BYTES: usize = LINE_CHARS + 2;
/// Bytes in one full cycle of the pattern.
pub const CYCLE_BYTES: usize = PRINTABLE * LINE_BYTES;
/// Most characters in a UDP reply (RFC 864: "a random number (between 0 and 512)").
pub const MAX_DATAGRAM: usize = 512;

/// Bytes offered to one write: big enough to fill a socket buffer in a few calls.
const CHUNK: usize = 9 * CYCLE_BYTES;

/// The cycle repeated so that `[offset, offset + CHUNK)` exists for every offset in one cycle.
static PATTERN: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut cycle = Vec::with_capacity(CYCLE_BYTES);
    for line in 0..PRINTABLE {
        cycle.extend(line_chars(line));
        cycle.extend_from_slice(b"\r\n");
    }
    cycle.repeat(CHUNK / CYCLE_BYTES + 1)
});

/// The 72 pattern characters of line `n` (counting from 0), without CRLF.
pub fn line_chars(n: usize) -> impl Iterator<Item = u8> {
    // Each value is < 95, so the sum is a printable ASCII byte.
    (0..LINE_CHARS).map(move |i| b' ' + ((n + i) % PRINTABLE) as u8)
}

/// `len` bytes of the pattern starting at byte `offset` of the cycle (wrapping as needed).
pub fn pattern_slice(offset: usize, len: usize) -> &'static [u8] {
    let start = offset % CYCLE_BYTES;
    let len = len.min(CHUNK);
    PATTERN.get(start..start + len).unwrap_or_default()
}

/// Chargen over a stream: sends the pattern until the peer closes or a write fails.
///
/// Whatever the peer sends is read and dropped, which also tells us when it closes (a read of
/// zero bytes) even while our writes are still being buffered. A peer going away (EOF, reset,
/// broken pipe) is the normal end of the service and returns `Ok`.
pub async fn chargen_stream<S: ServiceStream>(mut stream: S) -> io::Result<()> {
    let mut offset = 0usize;
    let mut sink = [0u8; 512];
    loop {
        let chunk = pattern_slice(offset, CHUNK);
        let step = poll_fn(|cx| {
            // Drain a bounded amount of input so a chatty peer cannot starve our writes.
            for _ in 0..16 {
                let mut rb = ReadBuf::new(&mut sink);
                match Pin::new(&mut stream).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                        return Poll::Ready(Ok(None));
                    }
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => break,
                }
            }
            Pin::new(&mut stream).poll_write(cx, chunk).map_ok(Some)
        })
        .await;
        match step {
            Ok(Some(0)) | Ok(None) => break,
            Ok(Some(n)) => offset = (offset + n) % CYCLE_BYTES,
            Err(e) if peer_gone(&e) => break,
            Err(e) => return Err(e),
        }
    }
    crate::simple::finish(stream).await;
    Ok(())
}

/// True for the errors that mean the peer closed the connection.
fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::WriteZero
    )
}

/// Chargen over UDP: between 0 and 512 bytes of the pattern, the length and starting line
/// varying per request.
///
/// No randomness source is needed: a process-wide counter mixed with the clock's nanoseconds
/// (splitmix64) spreads the lengths well enough for a test service.
pub fn chargen_datagram(now: SystemTime) -> Vec<u8> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let (secs, nanos) = clock::unix_parts(now);
    let seed = n ^ (secs as u64).rotate_left(32) ^ u64::from(nanos);
    let len = (splitmix64(seed) % (MAX_DATAGRAM as u64 + 1)) as usize;
    let line = (n % PRINTABLE as u64) as usize;
    pattern_slice(line * LINE_BYTES, len).to_vec()
}

/// One step of the splitmix64 generator: a cheap, well-mixing hash of `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::tcp_pair;
    use std::time::UNIX_EPOCH;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    /// Checks `data` is the pattern from line 0, allowing a final partial line.
    fn check_pattern(data: &[u8]) {
        for (n, line) in data.chunks(LINE_BYTES).enumerate() {
            let want: Vec<u8> = line_chars(n).chain(*b"\r\n").collect();
            assert_eq!(line, &want[..line.len()], "line {n}");
            assert_eq!(line[0], b' ' + (n % PRINTABLE) as u8);
        }
    }

    #[test]
    fn pattern_lines() {
        let first: Vec<u8> = line_chars(0).collect();
        assert_eq!(
            &first[..],
            &b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg"[..]
        );
        let line94: Vec<u8> = line_chars(94).collect();
        assert_eq!(&line94[..3], b"~ !");
        assert!(line_chars(95).eq(line_chars(0)));
        check_pattern(pattern_slice(0, CHUNK));
        // A slice starting mid-cycle continues seamlessly across the cycle boundary.
        let tail = pattern_slice(CYCLE_BYTES - 5, 10);
        assert_eq!(tail, &PATTERN[CYCLE_BYTES - 5..CYCLE_BYTES + 5]);
        assert_eq!(pattern_slice(3 * CYCLE_BYTES + 1, 1), &PATTERN[1..2]);
    }

    #[tokio::test]
    async fn tcp_until_peer_closes() {
        let (mut client, server, _) = tcp_pair().await;
        let task = tokio::spawn(chargen_stream(server));
        let mut got = vec![0u8; 1_000_000];
        client.read_exact(&mut got).await.unwrap();
        check_pattern(&got);
        // Sending something is allowed and ignored.
        client.write_all(b"ignored\r\n").await.unwrap();
        drop(client);
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("chargen stops when the peer closes")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn tcp_half_close_stops_without_reading() {
        // The peer shuts down its sending side and never reads: the server must notice the EOF
        // rather than wait forever on a full socket buffer.
        let (mut client, server, _) = tcp_pair().await;
        let task = tokio::spawn(chargen_stream(server));
        client.shutdown().await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("chargen stops at EOF")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn duplex_until_dropped() {
        let (mut client, server) = duplex(4096);
        let task = tokio::spawn(chargen_stream(server));
        let mut got = vec![0u8; 20_000];
        client.read_exact(&mut got).await.unwrap();
        check_pattern(&got);
        drop(client);
        task.await.unwrap().unwrap();
    }

    #[test]
    fn datagram_lengths_and_content() {
        let mut lens = std::collections::HashSet::new();
        for _ in 0..200 {
            let d = chargen_datagram(UNIX_EPOCH);
            assert!(d.len() <= MAX_DATAGRAM);
            // Every reply starts at a line boundary of the pattern.
            let start = PATTERN
                .chunks(LINE_BYTES)
                .take(PRINTABLE)
                .position(|l| l.starts_with(&d[..d.len().min(LINE_BYTES)]));
            assert!(start.is_some());
            lens.insert(d.len());
        }
        assert!(lens.len() > 50, "lengths vary: {}", lens.len());
    }
}
