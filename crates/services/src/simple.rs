//! The simple services: echo (RFC 862), discard (RFC 863), daytime (RFC 867) and time (RFC 868).
//!
//! Stream handlers run until their protocol says they are done and then shut down the write side;
//! datagram handlers turn one request into at most one reply.

use std::io;
use std::time::SystemTime;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::clock;
use crate::net::ServiceStream;

/// Read buffer size for echo and discard, allocated once per connection. 64 KiB echoes about a
/// third faster on loopback, but every idle connection would hold four times the memory.
pub const BUF_SIZE: usize = 16 * 1024;

/// Echo: sends back everything received until the peer closes its side, then closes ours.
pub async fn echo_stream<S: ServiceStream>(mut stream: S) -> io::Result<()> {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        stream.write_all(buf.get(..n).unwrap_or_default()).await?;
    }
    stream.flush().await?;
    finish(stream).await;
    Ok(())
}

/// Echo over UDP: the datagram unchanged.
pub fn echo_datagram(request: &[u8]) -> Vec<u8> {
    request.to_vec()
}

/// Discard: reads and drops everything until the peer closes, then closes.
pub async fn discard_stream<S: ServiceStream>(mut stream: S) -> io::Result<()> {
    let mut buf = vec![0u8; BUF_SIZE];
    while stream.read(&mut buf).await? != 0 {}
    finish(stream).await;
    Ok(())
}

/// Daytime: sends the date and time line, then closes.
pub async fn daytime_stream<S: ServiceStream>(stream: S, now: SystemTime) -> io::Result<()> {
    send_and_close(stream, daytime_datagram(now).as_slice()).await
}

/// Daytime over UDP: the same line as over TCP.
pub fn daytime_datagram(now: SystemTime) -> Vec<u8> {
    clock::daytime_string(now).into_bytes()
}

/// Time: sends the four-byte big-endian RFC 868 time, then closes.
pub async fn time_stream<S: ServiceStream>(stream: S, now: SystemTime) -> io::Result<()> {
    send_and_close(stream, &time_datagram(now)).await
}

/// Time over UDP: the four-byte RFC 868 time, whatever the request held.
pub fn time_datagram(now: SystemTime) -> Vec<u8> {
    clock::rfc868_seconds(now).to_be_bytes().to_vec()
}

/// Writes `reply` and closes: the shape of every one-shot stream service.
pub(crate) async fn send_and_close<S: ServiceStream>(
    mut stream: S,
    reply: &[u8],
) -> io::Result<()> {
    stream.write_all(reply).await?;
    stream.flush().await?;
    finish(stream).await;
    Ok(())
}

/// Shuts down the write side after the reply is out.
pub(crate) async fn finish<S: ServiceStream>(mut stream: S) {
    // Everything was written already; a peer that left first (ENOTCONN) is not an error.
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::tcp_pair;
    use std::time::{Duration, UNIX_EPOCH};
    use tokio::io::duplex;

    fn t() -> SystemTime {
        UNIX_EPOCH + Duration::new(1_795_303_845, 0)
    }

    #[tokio::test]
    async fn echo_tcp_bulk() {
        let (mut client, server, _) = tcp_pair().await;
        let task = tokio::spawn(echo_stream(server));
        // More than the socket buffers hold, so reading and writing must interleave.
        let data: Vec<u8> = (0..4_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (mut rd, mut wr) = client.split();
        let sent = data.clone();
        let writer = async move {
            wr.write_all(&sent).await.unwrap();
            wr.shutdown().await.unwrap();
        };
        let mut got = Vec::new();
        let reader = rd.read_to_end(&mut got);
        let ((), n) = tokio::join!(writer, reader);
        assert_eq!(n.unwrap(), data.len());
        assert!(got == data);
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn echo_duplex() {
        let (mut client, server) = duplex(64);
        let task = tokio::spawn(echo_stream(server));
        client.write_all(b"hello\r\n").await.unwrap();
        let mut buf = [0u8; 7];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello\r\n");
        client.shutdown().await.unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn discard_tcp_and_duplex() {
        let (mut client, server, _) = tcp_pair().await;
        let task = tokio::spawn(discard_stream(server));
        client.write_all(&vec![b'x'; 100_000]).await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty());
        task.await.unwrap().unwrap();

        let (mut client, server) = duplex(16);
        let task = tokio::spawn(discard_stream(server));
        client.write_all(b"dropped on the floor").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty());
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn daytime_and_time_tcp() {
        let (mut client, server, _) = tcp_pair().await;
        daytime_stream(server, t()).await.unwrap();
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "Saturday, November 21, 2026 23:30:45-UTC\r\n");

        let (mut client, server, _) = tcp_pair().await;
        time_stream(server, t()).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, (1_795_303_845u32 + 2_208_988_800).to_be_bytes());
    }

    #[tokio::test]
    async fn daytime_and_time_duplex() {
        let (mut client, server) = duplex(8);
        let task = tokio::spawn(daytime_stream(server, t()));
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        assert!(got.starts_with("Saturday, November 21, 2026"));
        task.await.unwrap().unwrap();

        let (mut client, server) = duplex(8);
        let task = tokio::spawn(time_stream(server, UNIX_EPOCH));
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, 2_208_988_800u32.to_be_bytes());
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn one_shot_survives_a_vanished_peer() {
        let (client, server) = duplex(8);
        drop(client);
        // The write fails (the peer is gone) and the error is reported, not panicked on.
        assert!(daytime_stream(server, t()).await.is_err());
    }

    #[test]
    fn datagrams() {
        assert_eq!(echo_datagram(b"abc"), b"abc");
        assert_eq!(echo_datagram(b""), b"");
        assert_eq!(time_datagram(t()).len(), 4);
        assert!(daytime_datagram(t()).ends_with(b"-UTC\r\n"));
    }
}
