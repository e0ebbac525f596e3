//! An `AF_PACKET` socket on an existing Linux interface: `SOCK_RAW`, all protocols, bound to the
//! interface's index, batched with `recvmmsg`/`sendmmsg`.
//!
//! The frames Linux sends on the interface (our own included) come back to a packet socket as
//! `PACKET_OUTGOING`; they are ignored (`PACKET_IGNORE_OUTGOING` where the kernel has it, and by
//! packet type always). With `vnet_hdr` (`PACKET_VNET_HDR`) every frame carries a virtio-net
//! header both ways, as on a TAP: received frames tell partial checksums and GRO super-frames,
//! and the stack may send super-frames that the kernel segments.

use crate::pool::BufPool;
use crate::sys;
use crate::vnet::{VnetHeader, VNET_HDR_LEN};
use crate::{Capabilities, Error, Frame, Link, LinkKind, LinkStats, Offloads, Result};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use wire::{EthernetAddress, PacketBuf};

const PACKET_MR_PROMISC: libc::c_ushort = 1;
const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const PACKET_OUTGOING: u8 = 4;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_FANOUT_HASH: u32 = 0;
const ETH_P_ALL: u16 = 0x0003;

/// `struct packet_mreq`.
#[repr(C)]
struct PacketMreq {
    mr_ifindex: libc::c_int,
    mr_type: libc::c_ushort,
    mr_alen: libc::c_ushort,
    mr_address: [u8; 8],
}

/// How to open a packet socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketConfig {
    /// The Linux interface (`eth1`, one end of a veth pair, ...). It must exist.
    pub interface: String,
    /// Put the interface in promiscuous mode for as long as the link is open.
    pub promiscuous: bool,
    /// Use `PACKET_VNET_HDR`: offload state in front of every frame, both ways.
    pub vnet_hdr: bool,
    /// The address the stack uses; the interface's own if `None`.
    pub mac: Option<EthernetAddress>,
    /// Headroom in front of every received frame.
    pub headroom: usize,
    /// The most frames one `recvmmsg`/`sendmmsg` moves.
    pub batch: usize,
    /// Join this `PACKET_FANOUT` group (hash mode): the interface's received frames are spread
    /// over every socket of the group by flow, so several links read one interface on several
    /// cores without reordering a flow. Groups are per network namespace.
    pub fanout: Option<u16>,
}

impl PacketConfig {
    /// Defaults for `interface`: not promiscuous, no virtio header, batches of 64.
    pub fn new(interface: impl Into<String>) -> Self {
        PacketConfig {
            interface: interface.into(),
            promiscuous: false,
            vnet_hdr: false,
            mac: None,
            headroom: PacketBuf::DEFAULT_HEADROOM,
            batch: 64,
            fanout: None,
        }
    }
}

/// A packet socket bound to one interface.
#[derive(Debug)]
pub struct PacketLink {
    fd: OwnedFd,
    ctl: OwnedFd,
    name: String,
    ifindex: i32,
    mac: EthernetAddress,
    mtu: usize,
    vnet_hdr: bool,
    batch: usize,
    pool: BufPool,
    /// Receive buffers waiting for the next `recvmmsg` (empty slots are refilled from the pool).
    bufs: Vec<Vec<u8>>,
    stats: LinkStats,
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, opt: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: v points to a live value of its own size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl PacketLink {
    /// Opens a packet socket on the interface (in the calling thread's network namespace).
    pub fn open(cfg: &PacketConfig) -> Result<PacketLink> {
        let name = cfg.interface.clone();
        sys::ifname(&name)?;
        let ctl = sys::control_socket()?;
        let ifindex = sys::if_index(&ctl, &name)?;
        // Protocol 0: nothing arrives until the bind below names the interface.
        // SAFETY: plain socket(2); the result is checked before it is owned.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        sys::check(raw, || "socket(AF_PACKET, SOCK_RAW)".into())?;
        // SAFETY: raw is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let one: libc::c_int = 1;
        // Older kernels lack it; the packet type check below does the same job.
        let _ = setsockopt(&fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, &one);
        if cfg.vnet_hdr {
            setsockopt(&fd, libc::SOL_PACKET, PACKET_VNET_HDR, &one)
                .map_err(|e| Error::io(format!("PACKET_VNET_HDR {name}"), e))?;
        }

        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as libc::c_ushort;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: sll is a valid sockaddr_ll of the stated size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        sys::check(rc, || format!("bind AF_PACKET to {name}"))?;

        if cfg.promiscuous {
            let mreq = PacketMreq {
                mr_ifindex: ifindex,
                mr_type: PACKET_MR_PROMISC,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(|e| Error::io(format!("PACKET_ADD_MEMBERSHIP promiscuous {name}"), e))?;
        }

        if let Some(group) = cfg.fanout {
            let v: u32 = u32::from(group) | (PACKET_FANOUT_HASH << 16);
            setsockopt(&fd, libc::SOL_PACKET, PACKET_FANOUT, &v)
                .map_err(|e| Error::io(format!("PACKET_FANOUT {group} on {name}"), e))?;
        }

        let mtu = sys::if_mtu(&ctl, &name)?;
        let mac = match cfg.mac {
            Some(m) => m,
            None => sys::if_hwaddr(&ctl, &name)?,
        };
        let frame_len = if cfg.vnet_hdr {
            crate::MAX_GSO_FRAME
        } else {
            mtu.max(1500) + crate::FRAME_OVERHEAD
        };
        let batch = cfg.batch.clamp(1, 1024);
        Ok(PacketLink {
            fd,
            ctl,
            name,
            ifindex,
            mac,
            mtu,
            vnet_hdr: cfg.vnet_hdr,
            batch,
            pool: BufPool::new(cfg.headroom, frame_len, 2 * batch + 64),
            bufs: Vec::new(),
            stats: LinkStats::default(),
        })
    }

    /// The interface's index.
    pub fn ifindex(&self) -> i32 {
        self.ifindex
    }

    /// Whether the interface is up.
    pub fn is_up(&self) -> Result<bool> {
        Ok(sys::if_flags(&self.ctl, &self.name)? & libc::IFF_UP != 0)
    }

    /// Reads the interface's MTU again.
    pub fn refresh_mtu(&mut self) -> Result<usize> {
        self.mtu = sys::if_mtu(&self.ctl, &self.name)?;
        if !self.vnet_hdr {
            self.pool
                .set_frame_len(self.mtu.max(1500) + crate::FRAME_OVERHEAD);
            self.bufs.clear();
        }
        Ok(self.mtu)
    }

    /// The interface's own hardware address.
    pub fn interface_mac(&self) -> Result<EthernetAddress> {
        sys::if_hwaddr(&self.ctl, &self.name)
    }
}

impl Link for PacketLink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> LinkKind {
        LinkKind::Packet
    }

    fn mac(&self) -> EthernetAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn capabilities(&self) -> Capabilities {
        let o = if self.vnet_hdr {
            Offloads::ALL
        } else {
            Offloads::NONE
        };
        Capabilities {
            rx: o,
            tx: o,
            max_rx_frame: self.pool.frame_len,
            max_tx_frame: if self.vnet_hdr {
                crate::MAX_GSO_FRAME
            } else {
                self.mtu + crate::FRAME_OVERHEAD
            },
        }
    }

    fn recv_batch(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let mut got = 0;
        // Ignored frames (our own, other interfaces) do not count towards `max`; bound the calls.
        let mut calls = 0;
        while got < max && calls < 4 {
            calls += 1;
            let n = (max - got).min(self.batch);
            if self.bufs.len() < n {
                self.bufs.resize_with(n, Vec::new);
            }
            for b in self.bufs.iter_mut().take(n) {
                if b.is_empty() {
                    *b = self.pool.take();
                }
            }
            let head = self.pool.headroom;
            let mut hdrs = vec![[0u8; VNET_HDR_LEN]; if self.vnet_hdr { n } else { 0 }];
            // SAFETY: sockaddr_ll is plain old data.
            let mut addrs: Vec<libc::sockaddr_ll> = vec![unsafe { std::mem::zeroed() }; n];
            let per = if self.vnet_hdr { 2 } else { 1 };
            let mut iovs: Vec<libc::iovec> = Vec::with_capacity(n * per);
            for (i, b) in self.bufs.iter_mut().take(n).enumerate() {
                if let Some(h) = hdrs.get_mut(i) {
                    iovs.push(libc::iovec {
                        iov_base: h.as_mut_ptr().cast(),
                        iov_len: VNET_HDR_LEN,
                    });
                }
                let data = &mut b[head..];
                iovs.push(libc::iovec {
                    iov_base: data.as_mut_ptr().cast(),
                    iov_len: data.len(),
                });
            }
            let mut msgs: Vec<libc::mmsghdr> = (0..n)
                .map(|i| {
                    // SAFETY: msghdr is plain old data.
                    let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                    h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_ll).cast();
                    h.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                    h.msg_iov = iovs[i * per..].as_mut_ptr();
                    h.msg_iovlen = per;
                    libc::mmsghdr {
                        msg_hdr: h,
                        msg_len: 0,
                    }
                })
                .collect();
            // SAFETY: every msghdr points into live buffers (addrs, iovs → hdrs, bufs).
            let r = unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    n as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                if sys::would_block(&e) {
                    break;
                }
                if got > 0 {
                    break;
                }
                return Err(Error::io(format!("recvmmsg {}", self.name), e));
            }
            let r = r as usize;
            let mut truncated = false;
            for i in 0..r {
                let m = &msgs[i];
                let total = m.msg_len as usize;
                let a = &addrs[i];
                if a.sll_pkttype == PACKET_OUTGOING || a.sll_ifindex != self.ifindex {
                    continue;
                }
                let len = if self.vnet_hdr {
                    total.saturating_sub(VNET_HDR_LEN)
                } else {
                    total
                };
                if m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0
                    || len == 0
                    || (self.vnet_hdr && total < VNET_HDR_LEN)
                {
                    self.stats.rx_errors += 1;
                    truncated |= m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
                    continue;
                }
                let offload = match hdrs.get(i) {
                    Some(h) => match VnetHeader::parse(h).and_then(|h| h.to_offload(len)) {
                        Ok(o) => o,
                        Err(_) => {
                            self.stats.rx_errors += 1;
                            continue;
                        }
                    },
                    None => Default::default(),
                };
                let v = std::mem::take(&mut self.bufs[i]);
                self.stats.rx_frames += 1;
                self.stats.rx_bytes += len as u64;
                out.push(Frame {
                    buf: self.pool.wrap(v, len),
                    offload,
                });
                got += 1;
            }
            if truncated && !self.vnet_hdr {
                // A frame longer than the buffers: Linux raised the MTU. Follow it.
                let _ = self.refresh_mtu();
            }
            if r < n {
                break;
            }
        }
        Ok(got)
    }

    fn send_batch(&mut self, queue: &mut VecDeque<Frame>) -> Result<usize> {
        let mut sent = 0;
        while !queue.is_empty() {
            let mut n = queue.len().min(self.batch);
            if !self.vnet_hdr {
                // Without a virtio header: complete partial checksums here; a super-frame
                // cannot go, so the batch stops before it (and it is dropped once in front).
                if let Some(i) = queue
                    .iter_mut()
                    .take(n)
                    .position(|f| !f.offload.is_plain() && !crate::make_plain(f))
                {
                    if i == 0 {
                        self.stats.tx_errors += 1;
                        queue.pop_front();
                        sent += 1;
                        continue;
                    }
                    n = i;
                }
            }
            let hdrs: Vec<[u8; VNET_HDR_LEN]> = if self.vnet_hdr {
                queue
                    .iter()
                    .take(n)
                    .map(|f| VnetHeader::from_offload(&f.offload).to_bytes())
                    .collect()
            } else {
                Vec::new()
            };
            let per = if self.vnet_hdr { 2 } else { 1 };
            let mut iovs: Vec<libc::iovec> = Vec::with_capacity(n * per);
            for (i, f) in queue.iter().take(n).enumerate() {
                if let Some(h) = hdrs.get(i) {
                    iovs.push(libc::iovec {
                        iov_base: h.as_ptr() as *mut libc::c_void,
                        iov_len: VNET_HDR_LEN,
                    });
                }
                let d = f.as_slice();
                iovs.push(libc::iovec {
                    iov_base: d.as_ptr() as *mut libc::c_void,
                    iov_len: d.len(),
                });
            }
            let mut msgs: Vec<libc::mmsghdr> = (0..n)
                .map(|i| {
                    // SAFETY: msghdr is plain old data; no name: the socket's bound interface.
                    let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                    h.msg_iov = iovs[i * per..].as_mut_ptr();
                    h.msg_iovlen = per;
                    libc::mmsghdr {
                        msg_hdr: h,
                        msg_len: 0,
                    }
                })
                .collect();
            // SAFETY: every msghdr points into live buffers; sendmmsg only reads them.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    n as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                if sys::would_block(&e) {
                    break;
                }
                if sys::frame_error(&e) {
                    // The first frame was refused: drop it and go on with the rest.
                    self.stats.tx_errors += 1;
                    if let Some(f) = queue.pop_front() {
                        self.pool.recycle(f.buf);
                    }
                    sent += 1;
                    continue;
                }
                if sent > 0 {
                    break;
                }
                return Err(Error::io(format!("sendmmsg {}", self.name), e));
            }
            for _ in 0..r {
                if let Some(f) = queue.pop_front() {
                    self.stats.tx_frames += 1;
                    self.stats.tx_bytes += f.len() as u64;
                    self.pool.recycle(f.buf);
                }
            }
            sent += r as usize;
        }
        Ok(sent)
    }

    fn recycle(&mut self, buf: PacketBuf) {
        self.pool.recycle(buf);
    }

    fn stats(&self) -> LinkStats {
        self.stats
    }

    fn raw_fd(&self) -> Option<RawFd> {
        Some(self.fd.as_raw_fd())
    }
}

impl AsRawFd for PacketLink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for PacketLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
