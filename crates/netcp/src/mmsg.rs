//! Batched datagram system calls for a kernel UDP socket: `recvmmsg(2)` takes every datagram
//! already queued (up to [`BATCH`]) in one call, `sendmmsg(2)` sends a set of answers in one
//! call. The SNMP agent's UDP loop uses them because with many requests outstanding a
//! `recvfrom`/`sendto` pair per request (and the wake-ups around them) was most of netcp's
//! time. Both go through tokio's readiness (`try_io`), so the socket stays in the runtime.
//!
//! Linux only; elsewhere [`supported`] is false and the callers keep one call per datagram.

use std::io;
use std::net::SocketAddr;

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams per system call. Sixteen requests are outstanding in the AgentX benchmark; a
/// little more leaves room for several clients.
pub const BATCH: usize = 32;

/// Largest datagram taken whole: as in the one-datagram loop (a UDP payload is at most
/// 65,507 bytes over IPv4, 65,527 over IPv6), so nothing is cut that was not cut before.
const DATAGRAM: usize = 65536;

/// Whether this platform has the batched calls.
pub const fn supported() -> bool {
    cfg!(any(target_os = "linux", target_os = "android"))
}

/// Buffers for [`recv`]: room for [`BATCH`] datagrams, and what the last call received.
pub struct RecvBatch {
    bufs: Vec<u8>,
    /// Length and sender of each datagram received, in order.
    got: Vec<(usize, SocketAddr)>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            // Pages the kernel never writes are never touched, so unused room costs little.
            bufs: vec![0u8; BATCH * DATAGRAM],
            got: Vec::with_capacity(BATCH),
        }
    }
}

impl RecvBatch {
    /// How many datagrams the last [`recv`] kept.
    pub fn len(&self) -> usize {
        self.got.len()
    }

    /// The `i`th datagram of the last [`recv`] and its sender; `None` past the end.
    pub fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        let (n, peer) = *self.got.get(i)?;
        let start = i * DATAGRAM;
        let data = self.bufs.get(start..start + n.min(DATAGRAM))?;
        Some((data, peer))
    }
}

/// Receives every datagram queued on `sock` (at most [`BATCH`]) in one call without waiting:
/// `Err(WouldBlock)` when none is (tokio's readiness is then cleared, so
/// `sock.readable().await` waits for the next). Returns how many were kept; a datagram whose
/// sender is not an IP address is dropped.
pub fn recv(sock: &UdpSocket, batch: &mut RecvBatch) -> io::Result<usize> {
    batch.got.clear();
    let drained = sock.try_io(Interest::READABLE, || {
        let n = sys::recv(sock, batch)?;
        if n < BATCH {
            // Fewer than asked: the queue was empty before the call returned. Saying "would
            // block" makes tokio clear the readiness now, which saves the next call (and its
            // EAGAIN). No wake-up is lost: tokio clears only the readiness it saw before this
            // call, and a datagram arriving after the queue emptied raises a new one.
            return Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        Ok(())
    });
    match drained {
        Ok(()) => Ok(batch.got.len()),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock && !batch.got.is_empty() => {
            Ok(batch.got.len())
        }
        Err(e) => Err(e),
    }
}

/// Sends `msgs` (answer, destination) from `sock` in as few calls as the kernel allows,
/// without waiting. Returns how many from the start were handled; a datagram the kernel
/// refuses with an error other than "would block" counts as handled (it is dropped, as a
/// failed `send_to` is today) and calls `sent(None)`. Each datagram sent calls `sent(Some(n))`
/// with its size. Stops early only when the socket's buffer is full: the caller sends the
/// rest some other way.
pub fn send(
    sock: &UdpSocket,
    msgs: &[(Vec<u8>, SocketAddr)],
    mut sent: impl FnMut(Option<usize>),
) -> usize {
    let mut done = 0;
    while done < msgs.len() {
        let rest = &msgs[done..];
        match sock.try_io(Interest::WRITABLE, || sys::send(sock, rest)) {
            Ok(k) => {
                for (m, _) in rest.iter().take(k) {
                    sent(Some(m.len()));
                }
                // sendmmsg never reports zero sent without an error; stop rather than spin.
                if k == 0 {
                    break;
                }
                done += k;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                // The first datagram was refused (unreachable, filtered...): skip it.
                sent(None);
                done += 1;
            }
        }
    }
    done
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod sys {
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    use tokio::net::UdpSocket;

    use super::{RecvBatch, BATCH, DATAGRAM};

    /// One `recvmmsg` call into `batch` (its `got` is empty on entry); how many datagrams
    /// it took, kept or not.
    pub fn recv(sock: &UdpSocket, batch: &mut RecvBatch) -> io::Result<usize> {
        // SAFETY: these are plain C structs for which all-zero bytes are a valid value.
        let mut addrs: [libc::sockaddr_storage; BATCH] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let mut iovs: [libc::iovec; BATCH] = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        let chunks = batch.bufs.chunks_exact_mut(DATAGRAM);
        let count = chunks.len().min(BATCH);
        for (i, chunk) in chunks.take(count).enumerate() {
            iovs[i] = libc::iovec {
                iov_base: chunk.as_mut_ptr().cast(),
                iov_len: chunk.len(),
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&raw mut addrs[i]).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &raw mut iovs[i];
            h.msg_iovlen = 1;
        }
        // SAFETY: `hdrs[..count]` each point at one live iovec (a distinct DATAGRAM-sized
        // chunk of `batch.bufs`, borrowed mutably for this call) and one sockaddr_storage with
        // its true size as msg_namelen; no control buffer. The kernel writes only within
        // those, and at most `count` headers. All of them outlive the call. Non-blocking
        // (the fd is tokio's); no timeout.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                hdrs.as_mut_ptr(),
                count as _,
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = (n as usize).min(count);
        for i in 0..n {
            // msg_len is what was copied (at most the iovec); the rest of a longer datagram
            // is dropped, as recv_from into the same buffer does.
            let len = (hdrs[i].msg_len as usize).min(DATAGRAM);
            if let Some(peer) = from_storage(&addrs[i], hdrs[i].msg_hdr.msg_namelen) {
                batch.got.push((len, peer));
            }
        }
        // Keep the buffers of dropped datagrams aligned with their index: move kept ones
        // down only when one was dropped (rare: a sender that is not an IP address).
        if batch.got.len() != n {
            compact(batch, &addrs, &hdrs, n);
        }
        Ok(n)
    }

    /// Rebuilds `batch` when some datagrams of `n` were dropped, moving kept data to the
    /// slot that matches its index in `got`.
    fn compact(
        batch: &mut RecvBatch,
        addrs: &[libc::sockaddr_storage; BATCH],
        hdrs: &[libc::mmsghdr; BATCH],
        n: usize,
    ) {
        batch.got.clear();
        for i in 0..n {
            let Some(peer) = from_storage(&addrs[i], hdrs[i].msg_hdr.msg_namelen) else {
                continue;
            };
            let len = (hdrs[i].msg_len as usize).min(DATAGRAM);
            let to = batch.got.len();
            if to != i {
                batch
                    .bufs
                    .copy_within(i * DATAGRAM..i * DATAGRAM + len, to * DATAGRAM);
            }
            batch.got.push((len, peer));
        }
    }

    /// One `sendmmsg` call for up to [`BATCH`] of `msgs`; how many the kernel took.
    pub fn send(sock: &UdpSocket, msgs: &[(Vec<u8>, SocketAddr)]) -> io::Result<usize> {
        let count = msgs.len().min(BATCH);
        // SAFETY: plain C structs for which all-zero bytes are a valid value.
        let mut addrs: [libc::sockaddr_storage; BATCH] = unsafe { zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let mut iovs: [libc::iovec; BATCH] = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        for (i, (data, peer)) in msgs.iter().take(count).enumerate() {
            let len = to_storage(*peer, &mut addrs[i]);
            // The kernel only reads through iov_base for a send; the cast to *mut is the
            // iovec type's, not a licence to write.
            iovs[i] = libc::iovec {
                iov_base: data.as_ptr().cast_mut().cast(),
                iov_len: data.len(),
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&raw mut addrs[i]).cast();
            h.msg_namelen = len;
            h.msg_iov = &raw mut iovs[i];
            h.msg_iovlen = 1;
        }
        // SAFETY: `hdrs[..count]` each point at one iovec over a live datagram in `msgs`
        // (only read) and a sockaddr filled by `to_storage` with its length; all outlive the
        // call, and the kernel writes only each header's msg_len. Non-blocking.
        let n = unsafe {
            libc::sendmmsg(
                sock.as_raw_fd(),
                hdrs.as_mut_ptr(),
                count as _,
                libc::MSG_DONTWAIT as _,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((n as usize).min(count))
    }

    /// The IP address and port in a sockaddr the kernel filled; `None` for other families or
    /// a short length.
    fn from_storage(s: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
        let len = len as usize;
        match i32::from(s.ss_family) {
            libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family says the storage holds a sockaddr_in, which is smaller
                // than sockaddr_storage and needs no stricter alignment.
                let a = unsafe { &*(std::ptr::from_ref(s).cast::<libc::sockaddr_in>()) };
                let ip = Ipv4Addr::from(a.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for sockaddr_in6.
                let a = unsafe { &*(std::ptr::from_ref(s).cast::<libc::sockaddr_in6>()) };
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    /// Writes `addr` into `s` as the kernel's sockaddr; returns its length.
    fn to_storage(addr: SocketAddr, s: &mut libc::sockaddr_storage) -> libc::socklen_t {
        match addr {
            SocketAddr::V4(a) => {
                // SAFETY: all-zero is a valid sockaddr_in.
                let mut sin: libc::sockaddr_in = unsafe { zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                // SAFETY: sockaddr_storage is larger than sockaddr_in and aligned for it.
                unsafe { std::ptr::from_mut(s).cast::<libc::sockaddr_in>().write(sin) };
                size_of::<libc::sockaddr_in>() as libc::socklen_t
            }
            SocketAddr::V6(a) => {
                // SAFETY: all-zero is a valid sockaddr_in6.
                let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                // SAFETY: sockaddr_storage is larger than sockaddr_in6 and aligned for it.
                unsafe {
                    std::ptr::from_mut(s)
                        .cast::<libc::sockaddr_in6>()
                        .write(sin6)
                };
                size_of::<libc::sockaddr_in6>() as libc::socklen_t
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod sys {
    use std::io;
    use std::net::SocketAddr;

    use tokio::net::UdpSocket;

    use super::RecvBatch;

    /// Never called: [`super::supported`] is false here.
    pub fn recv(_: &UdpSocket, _: &mut RecvBatch) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Never called: [`super::supported`] is false here.
    pub fn send(_: &UdpSocket, _: &[(Vec<u8>, SocketAddr)]) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    /// Datagrams of several sizes from two senders arrive whole, in order, with their
    /// senders; answers sent in one batch arrive too.
    #[tokio::test]
    async fn receives_and_sends_batches() {
        let server = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let at = server.local_addr().expect("address");
        let a = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let b = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let mut want = Vec::new();
        for i in 0..40usize {
            let from = if i % 3 == 0 { &b } else { &a };
            let data: Vec<u8> = (0..(i * 1601 % 3000)).map(|k| (k ^ i) as u8).collect();
            from.send_to(&data, at).await.expect("send");
            want.push((data, from.local_addr().expect("address")));
        }
        let mut batch = RecvBatch::default();
        let mut got = Vec::new();
        while got.len() < want.len() {
            match recv(&server, &mut batch) {
                Ok(n) => {
                    assert!(n <= BATCH);
                    for i in 0..batch.len() {
                        let (d, p) = batch.get(i).expect("in range");
                        got.push((d.to_vec(), p));
                    }
                    assert!(batch.get(batch.len()).is_none());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    server.readable().await.expect("readable")
                }
                Err(e) => panic!("recvmmsg: {e}"),
            }
        }
        assert!(got == want, "datagrams differ");
        assert!(matches!(
            recv(&server, &mut batch),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        ));

        // Answers to both senders, more than one call's worth.
        let answers: Vec<(Vec<u8>, SocketAddr)> = got
            .iter()
            .map(|(d, p)| (d.iter().rev().copied().collect(), *p))
            .collect();
        let mut sizes = Vec::new();
        server.writable().await.expect("writable");
        let done = send(&server, &answers, |n| sizes.push(n));
        assert_eq!(done, answers.len());
        assert_eq!(sizes.len(), answers.len());
        for sock in [&a, &b] {
            let me = sock.local_addr().expect("address");
            let mut buf = vec![0u8; 65536];
            for (d, _) in answers.iter().filter(|(_, p)| *p == me) {
                let (n, from) = sock.recv_from(&mut buf).await.expect("answer");
                assert_eq!(from, at);
                assert_eq!(&buf[..n], &d[..]);
            }
        }
    }

    /// A refused destination is skipped, not retried, and the others still go out.
    #[tokio::test]
    async fn skips_a_refused_datagram() {
        let server = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let c = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let to = c.local_addr().expect("address");
        // Port 0 is not a valid destination: the kernel refuses it (EINVAL).
        let bad: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let msgs = vec![(b"x".to_vec(), bad), (b"one".to_vec(), to)];
        let mut outcomes = Vec::new();
        // tokio knows a new socket is writable only once its driver has run.
        server.writable().await.expect("writable");
        assert_eq!(send(&server, &msgs, |n| outcomes.push(n)), 2);
        assert_eq!(outcomes, vec![None, Some(3)]);
        let mut buf = [0u8; 16];
        let (n, _) = c.recv_from(&mut buf).await.expect("answer");
        assert_eq!(&buf[..n], b"one");
    }
}
