//! Forwarding a `user@host` query to the next finger server (RFC 1288 section 2.5.1), done only
//! when the administrator allows it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::query::Query;
use super::render::{clean_line, clean_text};

/// The most of a remote answer that is relayed; finger answers are a few kilobytes.
pub const MAX_FORWARD_BYTES: usize = 64 * 1024;

/// Where and how long to forward.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForwardLimits {
    /// Port of the remote finger server (79 except in tests).
    pub port: u16,
    /// Limit on the connect, and separately on sending the query and reading the answer.
    pub timeout: Duration,
}

/// Sends `query` minus its last host to that host and returns its answer, cleaned of control
/// characters and headed by `[host]`; failures come back as a `finger:` line for the client.
pub(crate) async fn forward(query: &Query, limits: ForwardLimits) -> String {
    let Some((host, next)) = query.forward_target() else {
        return String::new();
    };
    let host_text = clean_line(host);
    // `[::1]` is how an IPv6 literal is written in the chain; the resolver wants it bare.
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let mut upstream = match timeout(limits.timeout, TcpStream::connect((bare, limits.port))).await
    {
        Err(_) => return format!("finger: {host_text}: connection timed out\r\n"),
        Ok(Err(e)) => return format!("finger: {host_text}: {}\r\n", clean_line(&e.to_string())),
        Ok(Ok(s)) => s,
    };
    let mut answer = Vec::new();
    let exchange = async {
        upstream.write_all(next.to_wire().as_bytes()).await?;
        let mut limited = (&mut upstream).take(MAX_FORWARD_BYTES as u64);
        limited.read_to_end(&mut answer).await?;
        Ok::<(), std::io::Error>(())
    };
    let trailer = match timeout(limits.timeout, exchange).await {
        Ok(Ok(())) => String::new(),
        Ok(Err(e)) => format!("finger: {host_text}: {}\r\n", clean_line(&e.to_string())),
        Err(_) => format!("finger: {host_text}: timed out\r\n"),
    };
    let mut out = format!("[{host_text}]\r\n");
    out.push_str(&clean_text(&String::from_utf8_lossy(&answer)));
    out.push_str(&trailer);
    out
}
