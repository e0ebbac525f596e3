//! A Linux TAP device: `/dev/net/tun` with `IFF_TAP | IFF_NO_PI`, optionally `IFF_VNET_HDR`.
//!
//! One `read` returns one frame and one `write` sends one (TAP has no `recvmmsg`), so a batch is
//! a loop of `readv`/`writev` calls until `EAGAIN` or the batch is full. With `IFF_VNET_HDR` each
//! frame is preceded by a [`VnetHeader`]; `TUNSETOFFLOAD` tells the kernel which offloads *we*
//! accept on receive (partial checksums, TSO/USO super-frames); on send the kernel accepts
//! partial checksums and super-frames whatever we asked for, and segments them itself.

use crate::pool::BufPool;
use crate::sys;
use crate::vnet::{VnetHeader, VNET_HDR_LEN};
use crate::{Capabilities, Error, Frame, Link, LinkKind, LinkStats, Offloads, Result};
use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use wire::{EthernetAddress, PacketBuf};

/// How to open a TAP device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapConfig {
    /// The device's name, e.g. `mayn0`; a `%d` in it lets the kernel pick the number. An existing
    /// (persistent) device of that name is attached to.
    pub name: String,
    /// Open with `IFF_VNET_HDR`: a virtio-net header in front of every frame.
    pub vnet_hdr: bool,
    /// With `vnet_hdr`, the offloads we accept on receive (`TUNSETOFFLOAD`). Segmentation
    /// offloads are only asked for along with `csum`.
    pub offloads: Offloads,
    /// `Some(true)`: the device outlives this process (`TUNSETPERSIST`); `Some(false)`: it goes
    /// when closed; `None`: leave as it is.
    pub persistent: Option<bool>,
    /// Set the device's MTU.
    pub mtu: Option<usize>,
    /// Set the Linux side's hardware address.
    pub host_mac: Option<EthernetAddress>,
    /// The address the stack uses on this link; a random locally administered one if `None`.
    pub mac: Option<EthernetAddress>,
    /// Bring the device up (`IFF_UP`) once configured.
    pub up: bool,
    /// Headroom in front of every received frame.
    pub headroom: usize,
    /// Open with `IFF_MULTI_QUEUE`, so that [`TapLink::open_queue`] can add queues: Linux spreads
    /// flows across them (one reader per core).
    pub multi_queue: bool,
}

impl TapConfig {
    /// Defaults for a device called `name`: no virtio header, not persistent, brought up.
    pub fn new(name: impl Into<String>) -> Self {
        TapConfig {
            name: name.into(),
            vnet_hdr: false,
            offloads: Offloads::NONE,
            persistent: None,
            mtu: None,
            host_mac: None,
            mac: None,
            up: true,
            headroom: PacketBuf::DEFAULT_HEADROOM,
            multi_queue: false,
        }
    }

    /// The same with `IFF_VNET_HDR` and every offload.
    pub fn with_offloads(mut self) -> Self {
        self.vnet_hdr = true;
        self.offloads = Offloads::ALL;
        self
    }
}

/// An open TAP device. Dropping it closes the descriptor (a non-persistent device disappears).
#[derive(Debug)]
pub struct TapLink {
    fd: OwnedFd,
    ctl: OwnedFd,
    name: String,
    mac: EthernetAddress,
    mtu: usize,
    vnet_hdr: bool,
    multi_queue: bool,
    /// The network namespace the device was made in (for `open_queue`).
    netns: Option<OwnedFd>,
    offloads: Offloads,
    pool: BufPool,
    stats: LinkStats,
}

const TUN_PATH: &str = "/dev/net/tun";

impl TapLink {
    /// Opens (creating if needed) and configures the device. The device lives in the network
    /// namespace of the calling thread; later configuration through this link stays there.
    pub fn open(cfg: &TapConfig) -> Result<TapLink> {
        let (fd, name, offloads) = attach(
            &cfg.name,
            cfg.vnet_hdr,
            cfg.multi_queue,
            cfg.offloads.normalized(),
        )?;

        if let Some(p) = cfg.persistent {
            // SAFETY: TUNSETPERSIST takes an integer argument.
            let rc =
                unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETPERSIST, libc::c_ulong::from(p)) };
            sys::check(rc, || format!("TUNSETPERSIST {name}"))?;
        }

        let ctl = sys::control_socket()?;
        if let Some(m) = cfg.host_mac {
            sys::set_if_hwaddr(&ctl, &name, m)?;
        }
        if let Some(mtu) = cfg.mtu {
            sys::set_if_mtu(&ctl, &name, mtu)?;
        }
        if cfg.up {
            sys::set_if_flags(&ctl, &name, libc::IFF_UP, true)?;
        }
        let mtu = sys::if_mtu(&ctl, &name)?;
        let frame_len = if offloads.any_gso() {
            crate::MAX_GSO_FRAME
        } else {
            mtu.max(1500) + crate::FRAME_OVERHEAD
        };
        Ok(TapLink {
            fd,
            ctl,
            name,
            mac: cfg.mac.unwrap_or_else(crate::random_mac),
            mtu,
            vnet_hdr: cfg.vnet_hdr,
            multi_queue: cfg.multi_queue,
            netns: if cfg.multi_queue {
                Some(sys::current_netns()?)
            } else {
                None
            },
            offloads,
            pool: BufPool::new(cfg.headroom, frame_len + 1, 256),
            stats: LinkStats::default(),
        })
    }

    /// Another queue of a multi-queue device: its own descriptor, the same device, MAC, MTU and
    /// offloads. Linux spreads received flows across the queues; any queue may send.
    pub fn open_queue(&self) -> Result<TapLink> {
        if !self.multi_queue {
            return Err(Error::Invalid {
                what: "queue on a TAP opened without multi_queue",
                value: self.name.clone(),
            });
        }
        // /dev/net/tun creates or finds the device in the namespace of whoever opens it: open the
        // new queue from a thread in the device's namespace, wherever the caller is.
        let (name, vnet, offloads) = (self.name.as_str(), self.vnet_hdr, self.offloads);
        let netns = self.netns.as_ref().map(|f| f.as_raw_fd());
        let (fd, _, offloads) = std::thread::scope(|s| {
            s.spawn(move || {
                if let Some(ns) = netns {
                    // SAFETY: setns on a namespace descriptor we hold; affects only this thread.
                    let rc = unsafe { libc::setns(ns, libc::CLONE_NEWNET) };
                    sys::check(rc, || format!("setns to the namespace of {name}"))?;
                }
                attach(name, vnet, true, offloads)
            })
            .join()
            .unwrap_or_else(|_| Err(Error::io("open queue", io::Error::other("thread panicked"))))
        })?;
        let ctl = self
            .ctl
            .try_clone()
            .map_err(|e| Error::io("dup control socket", e))?;
        Ok(TapLink {
            fd,
            ctl,
            name: self.name.clone(),
            mac: self.mac,
            mtu: self.mtu,
            vnet_hdr: self.vnet_hdr,
            multi_queue: true,
            netns: match &self.netns {
                Some(f) => Some(f.try_clone().map_err(|e| Error::io("dup namespace", e))?),
                None => None,
            },
            offloads,
            pool: BufPool::new(self.pool.headroom, self.pool.frame_len, 256),
            stats: LinkStats::default(),
        })
    }

    /// Brings the device up or down (`IFF_UP`).
    pub fn set_up(&self, up: bool) -> Result<()> {
        sys::set_if_flags(&self.ctl, &self.name, libc::IFF_UP, up)
    }

    /// Whether the device is up.
    pub fn is_up(&self) -> Result<bool> {
        Ok(sys::if_flags(&self.ctl, &self.name)? & libc::IFF_UP != 0)
    }

    /// Sets the device's MTU (and the size of receive buffers to match).
    pub fn set_mtu(&mut self, mtu: usize) -> Result<()> {
        sys::set_if_mtu(&self.ctl, &self.name, mtu)?;
        self.refresh_mtu()?;
        Ok(())
    }

    /// Reads the device's MTU again (someone on the Linux side may have changed it).
    pub fn refresh_mtu(&mut self) -> Result<usize> {
        self.mtu = sys::if_mtu(&self.ctl, &self.name)?;
        if !self.offloads.any_gso() {
            self.pool
                .set_frame_len(self.mtu.max(1500) + crate::FRAME_OVERHEAD + 1);
        }
        Ok(self.mtu)
    }

    /// The Linux side's hardware address (not the stack's: see [`Link::mac`]).
    pub fn host_mac(&self) -> Result<EthernetAddress> {
        sys::if_hwaddr(&self.ctl, &self.name)
    }

    /// Sets the Linux side's hardware address.
    pub fn set_host_mac(&self, mac: EthernetAddress) -> Result<()> {
        sys::set_if_hwaddr(&self.ctl, &self.name, mac)
    }

    /// Sets the address the stack uses on this link.
    pub fn set_mac(&mut self, mac: EthernetAddress) {
        self.mac = mac;
    }

    /// Tells Linux whether the wire is connected (`TUNSETCARRIER`): without carrier the device
    /// shows `NO-CARRIER` and Linux stops sending to it; for the stack's interface going down.
    pub fn set_carrier(&self, on: bool) -> Result<()> {
        let v: libc::c_int = on.into();
        // SAFETY: TUNSETCARRIER takes a pointer to int.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::TUNSETCARRIER, &v) };
        sys::check(rc, || format!("TUNSETCARRIER {}", self.name)).map(|_| ())
    }

    /// Makes the device outlive this process, or not.
    pub fn set_persistent(&self, persistent: bool) -> Result<()> {
        // SAFETY: TUNSETPERSIST takes an integer argument.
        let rc = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::TUNSETPERSIST,
                libc::c_ulong::from(persistent),
            )
        };
        sys::check(rc, || format!("TUNSETPERSIST {}", self.name)).map(|_| ())
    }

    /// Changes the receive offloads (only with a virtio header); returns what is now on.
    pub fn set_offloads(&mut self, offloads: Offloads) -> Result<Offloads> {
        if !self.vnet_hdr {
            return Err(Error::Invalid {
                what: "offloads without IFF_VNET_HDR",
                value: format!("{offloads:?}"),
            });
        }
        self.offloads = set_offload(&self.fd, &self.name, offloads.normalized())?;
        if self.offloads.any_gso() {
            self.pool.set_frame_len(crate::MAX_GSO_FRAME + 1);
        }
        Ok(self.offloads)
    }

    /// The interface index on the Linux side.
    pub fn ifindex(&self) -> Result<i32> {
        sys::if_index(&self.ctl, &self.name)
    }

    /// Whether frames carry a virtio-net header.
    pub fn has_vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    fn read_one(&mut self) -> io::Result<Option<Frame>> {
        let mut v = self.pool.take_unfilled();
        let head = self.pool.headroom;
        let mut hdr = [0u8; VNET_HDR_LEN];
        // The read goes into the vector's spare capacity (not initialised, never read before
        // the kernel writes it); the length is extended below over what the kernel wrote.
        let room = self.pool.frame_len;
        let data = &mut v.spare_capacity_mut()[..room];
        let n = if self.vnet_hdr {
            let iov = [
                libc::iovec {
                    iov_base: hdr.as_mut_ptr().cast(),
                    iov_len: hdr.len(),
                },
                libc::iovec {
                    iov_base: data.as_mut_ptr().cast(),
                    iov_len: data.len(),
                },
            ];
            // SAFETY: both iovecs point into live buffers of the stated lengths.
            unsafe { libc::readv(self.fd.as_raw_fd(), iov.as_ptr(), 2) }
        } else {
            // SAFETY: data is a live buffer of data.len() bytes.
            unsafe { libc::read(self.fd.as_raw_fd(), data.as_mut_ptr().cast(), data.len()) }
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            self.pool.put(v);
            return Err(e);
        }
        let n = n as usize;
        let len = if self.vnet_hdr {
            n.saturating_sub(VNET_HDR_LEN)
        } else {
            n
        };
        // tun cuts a frame longer than the buffer silently; the buffer is one byte longer than
        // the longest frame expected, so a full buffer means a cut frame: Linux raised the MTU.
        if len >= self.pool.frame_len {
            self.pool.put(v);
            self.stats.rx_errors += 1;
            let _ = self.refresh_mtu();
            return Ok(None);
        }
        if (self.vnet_hdr && n < VNET_HDR_LEN) || len == 0 {
            self.pool.put(v);
            self.stats.rx_errors += 1;
            return Ok(None);
        }
        // SAFETY: the kernel wrote `len` bytes right after the `head` initialised ones (the
        // frame's part of the read), and `len < frame_len` fits the capacity reserved.
        unsafe { v.set_len(head + len) };
        let offload = if self.vnet_hdr {
            match VnetHeader::parse(&hdr).and_then(|h| h.to_offload(len)) {
                Ok(o) => o,
                Err(_) => {
                    self.pool.put(v);
                    self.stats.rx_errors += 1;
                    return Ok(None);
                }
            }
        } else {
            Default::default()
        };
        self.stats.rx_frames += 1;
        self.stats.rx_bytes += len as u64;
        Ok(Some(Frame {
            buf: self.pool.wrap(v, len),
            offload,
        }))
    }

    fn write_one(&self, f: &Frame) -> io::Result<usize> {
        let data = f.as_slice();
        let n = if self.vnet_hdr {
            let hdr = VnetHeader::from_offload(&f.offload).to_bytes();
            let iov = [
                libc::iovec {
                    iov_base: hdr.as_ptr() as *mut libc::c_void,
                    iov_len: hdr.len(),
                },
                libc::iovec {
                    iov_base: data.as_ptr() as *mut libc::c_void,
                    iov_len: data.len(),
                },
            ];
            // SAFETY: the iovecs point into live buffers; writev does not write through them.
            unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), 2) }
        } else {
            // SAFETY: data is a live buffer of data.len() bytes.
            unsafe { libc::write(self.fd.as_raw_fd(), data.as_ptr().cast(), data.len()) }
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// Opens `/dev/net/tun` and attaches it to the device `name` (creating it if needed): one queue.
fn attach(
    name: &str,
    vnet_hdr: bool,
    multi_queue: bool,
    offloads: Offloads,
) -> Result<(OwnedFd, String, Offloads)> {
    let mut req = sys::ifreq(name)?;
    let path = CString::new(TUN_PATH).map_err(|_| Error::BadName(TUN_PATH.into()))?;
    // SAFETY: open(2) with a valid C string.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    sys::check(raw, || format!("open {TUN_PATH}"))?;
    // SAFETY: raw is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };

    let mut flags = libc::IFF_TAP | libc::IFF_NO_PI;
    if vnet_hdr {
        flags |= libc::IFF_VNET_HDR;
    }
    if multi_queue {
        flags |= libc::IFF_MULTI_QUEUE;
    }
    req.ifr_ifru.ifru_flags = flags as libc::c_short;
    // SAFETY: TUNSETIFF takes an ifreq.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    sys::check(rc, || format!("TUNSETIFF {name}"))?;
    let name = sys::ifreq_name(&req);

    let offloads = if vnet_hdr {
        let sz: libc::c_int = VNET_HDR_LEN as libc::c_int;
        // SAFETY: TUNSETVNETHDRSZ takes a pointer to int.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &sz) };
        sys::check(rc, || format!("TUNSETVNETHDRSZ {name}"))?;
        set_offload(&fd, &name, offloads)?
    } else {
        Offloads::NONE
    };
    Ok((fd, name, offloads))
}

fn set_offload(fd: &OwnedFd, name: &str, o: Offloads) -> Result<Offloads> {
    let flags = o.tun_flags();
    // SAFETY: TUNSETOFFLOAD takes an integer argument.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            libc::c_ulong::from(flags),
        )
    };
    if rc == 0 {
        return Ok(o);
    }
    let err = io::Error::last_os_error();
    // An older kernel without USO refuses the whole set: retry without it.
    if (o.uso4 || o.uso6) && err.raw_os_error() == Some(libc::EINVAL) {
        let fallback = Offloads {
            uso4: false,
            uso6: false,
            ..o
        };
        return set_offload(fd, name, fallback);
    }
    Err(Error::io(format!("TUNSETOFFLOAD {name}"), err))
}

impl Link for TapLink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> LinkKind {
        LinkKind::Tap
    }

    fn mac(&self) -> EthernetAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn set_mtu(&mut self, mtu: usize) -> Result<()> {
        TapLink::set_mtu(self, mtu)
    }

    fn capabilities(&self) -> Capabilities {
        let tx = if self.vnet_hdr {
            Offloads::ALL
        } else {
            Offloads::NONE
        };
        Capabilities {
            rx: self.offloads,
            tx,
            max_rx_frame: self.pool.frame_len - 1,
            max_tx_frame: if self.vnet_hdr {
                crate::MAX_GSO_FRAME
            } else {
                self.mtu + crate::FRAME_OVERHEAD
            },
        }
    }

    fn recv_batch(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let mut got = 0;
        // Lost frames do not count towards `max`; bound the reads anyway.
        let mut reads = 0;
        while got < max && reads < 2 * max + 8 {
            reads += 1;
            match self.read_one() {
                Ok(Some(f)) => {
                    out.push(f);
                    got += 1;
                }
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if sys::would_block(&e) => break,
                // The frame did not fit (EFAULT/EINVAL) or the device hiccuped: lose the frame.
                Err(e) if sys::frame_error(&e) => {
                    self.stats.rx_errors += 1;
                    if e.raw_os_error() == Some(libc::EFAULT) {
                        let _ = self.refresh_mtu();
                    }
                }
                Err(e) => {
                    if got > 0 {
                        break;
                    }
                    return Err(Error::io(format!("read {}", self.name), e));
                }
            }
        }
        Ok(got)
    }

    fn send_batch(&mut self, queue: &mut VecDeque<Frame>) -> Result<usize> {
        let mut sent = 0;
        while let Some(f) = queue.front_mut() {
            if !self.vnet_hdr && !f.offload.is_plain() && !crate::make_plain(f) {
                self.stats.tx_errors += 1;
                queue.pop_front();
                sent += 1;
                continue;
            }
            match self.write_one(f) {
                Ok(_) => {
                    self.stats.tx_frames += 1;
                    self.stats.tx_bytes += f.len() as u64;
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) if sys::would_block(&e) => break,
                Err(e) if sys::frame_error(&e) => self.stats.tx_errors += 1,
                Err(e) => {
                    if sent > 0 {
                        break;
                    }
                    return Err(Error::io(format!("write {}", self.name), e));
                }
            }
            if let Some(f) = queue.pop_front() {
                self.pool.recycle(f.buf);
            }
            sent += 1;
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

impl AsRawFd for TapLink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for TapLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
