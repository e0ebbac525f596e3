//! The socket traits a built-in server is written against.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};

/// Addresses of one connection (or of one datagram exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerInfo {
    /// The remote end.
    pub peer: SocketAddr,
    /// The local end (the address the client reached).
    pub local: SocketAddr,
}

/// A connected byte stream: the host's TCP stream today, Maynard's own TCP later.
pub trait ServiceStream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> ServiceStream for T {}

/// A datagram socket bound to a service port.
pub trait DatagramSocket: Send + Sync {
    /// Receives one datagram into `buf`, returning its length and sender.
    fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send + 'a;

    /// Sends one datagram to `target`.
    fn send_to<'a>(
        &'a self,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;

    /// The address the socket is bound to.
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// Opens another socket on the same address and a free port (TFTP serves each transfer
    /// from a port of its own). A multicast socket's sibling takes the wildcard address.
    fn bind_another(&self) -> impl Future<Output = io::Result<Self>> + Send
    where
        Self: Sized,
    {
        async {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this socket cannot open another beside it",
            ))
        }
    }
}

impl DatagramSocket for tokio::net::UdpSocket {
    fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send + 'a {
        tokio::net::UdpSocket::recv_from(self, buf)
    }

    fn send_to<'a>(
        &'a self,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        tokio::net::UdpSocket::send_to(self, buf, target)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::UdpSocket::local_addr(self)
    }

    async fn bind_another(&self) -> io::Result<Self> {
        let ip = tokio::net::UdpSocket::local_addr(self)?.ip();
        let ip = if ip.is_multicast() {
            match ip {
                std::net::IpAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
                std::net::IpAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
            }
        } else {
            ip
        };
        tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0)).await
    }
}
