//! `link`: the one place in Maynard that touches OS network devices.
//!
//! A [`Link`] moves Ethernet frames in **batches** between the stack and a device:
//!
//! - [`TapLink`]: a Linux TAP device (`/dev/net/tun`, `IFF_TAP | IFF_NO_PI`), optionally with
//!   `IFF_VNET_HDR` so that checksum offload and TSO/USO super-frames cross the boundary
//!   (DESIGN.md: ~13 Gbit/s of 64 KB frames against ~1.7 Gbit/s of 1514-byte ones);
//! - [`PacketLink`]: an `AF_PACKET` socket bound to an existing Linux interface, batched with
//!   `recvmmsg`/`sendmmsg`, our own transmissions filtered out;
//! - [`MemoryLink`]: two connected in-memory ends for tests, with optional loss;
//!
//! and [`PcapWriter`] writes what any of them carries to a classic pcap file.
//!
//! Frames travel in [`wire::PacketBuf`]s read at an offset, so the stack has headroom to prepend
//! headers when it forwards without a copy. Each [`Frame`] carries [`OffloadInfo`]: a partial
//! checksum still to complete, a checksum the host already verified, or a GSO super-frame and its
//! segment size.
//!
//! Nothing here blocks: `recv_batch` returns `Ok(0)` and `send_batch` returns short when the
//! device would block. The OS-backed links implement [`AsRawFd`](std::os::fd::AsRawFd), so the
//! caller registers them with its event loop (netcp: `tokio::io::unix::AsyncFd`) or waits with
//! [`wait_readable`].
//!
//! ```
//! use link::{Frame, Link, MemoryLink, MemoryLinkConfig};
//! use std::collections::VecDeque;
//!
//! let (mut a, mut b) = MemoryLink::pair(&MemoryLinkConfig::default());
//! let mut queue: VecDeque<Frame> = (0..3).map(|i| Frame::from_slice(&[i; 60])).collect();
//! assert_eq!(a.send_batch(&mut queue).unwrap(), 3);
//!
//! let mut frames = Vec::new();
//! assert_eq!(b.recv_batch(&mut frames, 64).unwrap(), 3);
//! let mut f = frames.remove(0);
//! assert_eq!(f.as_slice(), &[0; 60]);
//! // Headroom to prepend into (here: a VLAN tag after the addresses, say) without a copy.
//! assert!(f.buf.headroom() >= wire::PacketBuf::DEFAULT_HEADROOM);
//! f.buf.prepend(4).unwrap();
//! for f in frames {
//!     b.recycle(f.buf);
//! }
//! ```

mod memory;
mod packet;
mod pcap;
mod pool;
mod sys;
mod tap;
pub mod vnet;

pub use memory::{MemoryLink, MemoryLinkConfig};
pub use packet::{PacketConfig, PacketLink};
pub use pcap::{PcapWriter, TsPrecision, LINKTYPE_ETHERNET};
pub use tap::{TapConfig, TapLink};
pub use vnet::{Gso, GsoKind, OffloadInfo, PartialCsum, VnetHeader};
pub use wire::{EthernetAddress, PacketBuf};

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Why a link could not be opened, configured or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done (`"open /dev/net/tun"`, `"TUNSETIFF mayn0"`, ...).
        op: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// An interface name that Linux cannot take (empty, 16 bytes or more, or with a NUL, `/` or blank).
    #[error("invalid interface name {0:?}")]
    BadName(String),
    /// A value outside what the link accepts.
    #[error("invalid {what}: {value}")]
    Invalid {
        /// The setting.
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// A virtio-net header that cannot be parsed or emitted.
    #[error("virtio-net header: {0}")]
    Vnet(&'static str),
}

impl Error {
    pub(crate) fn io(op: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            op: op.into(),
            source,
        }
    }

    /// The OS error underneath, if there is one.
    pub fn os_error(&self) -> Option<&io::Error> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// One Ethernet frame (from the destination address on, no FCS) and its offload state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// The frame's bytes; the headroom in front is free for the stack to prepend into.
    pub buf: PacketBuf,
    /// Checksum and segmentation offload state (offsets relative to the frame's first byte).
    pub offload: OffloadInfo,
}

impl Frame {
    /// A frame with no offload state: complete checksums, not a super-frame.
    pub fn new(buf: PacketBuf) -> Self {
        Frame {
            buf,
            offload: OffloadInfo::default(),
        }
    }

    /// A frame with the given offload state.
    pub fn with_offload(buf: PacketBuf, offload: OffloadInfo) -> Self {
        Frame { buf, offload }
    }

    /// A copy of `bytes` with the default headroom and no offload state.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Frame::new(PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, bytes))
    }

    /// The frame's bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.buf.as_slice()
    }

    /// The frame's length.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the frame is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Readies a frame for a link that carries no offload state: completes a partial checksum in
/// software. Returns `false` for what such a link cannot carry at all: a super-frame (the stack
/// must not send one where [`Capabilities::tx`] has no GSO), or bad checksum offsets.
pub(crate) fn make_plain(f: &mut Frame) -> bool {
    if f.offload.gso.is_some() {
        return false;
    }
    let mut o = f.offload;
    if o.complete_checksum(f.buf.as_mut_slice()).is_err() {
        return false;
    }
    f.offload = OffloadInfo::default();
    true
}

/// Which offloads a direction of a link supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Offloads {
    /// Partial transport checksums (virtio `NEEDS_CSUM`).
    pub csum: bool,
    /// TCP segmentation over IPv4.
    pub tso4: bool,
    /// TCP segmentation over IPv6.
    pub tso6: bool,
    /// TSO of segments with ECN (CWR) set.
    pub tso_ecn: bool,
    /// UDP segmentation (USO, `UDP_L4`) over IPv4.
    pub uso4: bool,
    /// UDP segmentation over IPv6.
    pub uso6: bool,
}

impl Offloads {
    /// No offloads.
    pub const NONE: Offloads = Offloads {
        csum: false,
        tso4: false,
        tso6: false,
        tso_ecn: false,
        uso4: false,
        uso6: false,
    };
    /// Every offload this crate knows.
    pub const ALL: Offloads = Offloads {
        csum: true,
        tso4: true,
        tso6: true,
        tso_ecn: true,
        uso4: true,
        uso6: true,
    };

    /// Whether any segmentation offload is on (so super-frames up to 64 KB may move).
    pub fn any_gso(&self) -> bool {
        self.tso4 || self.tso6 || self.uso4 || self.uso6
    }

    /// Segmentation needs checksum offload: drops every GSO flag when `csum` is off.
    pub fn normalized(self) -> Offloads {
        if self.csum {
            self
        } else {
            Offloads::NONE
        }
    }

    /// The `TUN_F_*` bits for `TUNSETOFFLOAD`.
    pub fn tun_flags(&self) -> u32 {
        let o = self.normalized();
        let mut f = 0;
        for (on, bit) in [
            (o.csum, libc::TUN_F_CSUM),
            (o.tso4, libc::TUN_F_TSO4),
            (o.tso6, libc::TUN_F_TSO6),
            (o.tso_ecn && (o.tso4 || o.tso6), libc::TUN_F_TSO_ECN),
            (o.uso4, libc::TUN_F_USO4),
            (o.uso6, libc::TUN_F_USO6),
        ] {
            if on {
                f |= bit;
            }
        }
        f
    }
}

/// What a link can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Capabilities {
    /// What may arrive: frames with partial checksums, super-frames of these kinds.
    pub rx: Offloads,
    /// What the stack may send: partial checksums, super-frames of these kinds.
    pub tx: Offloads,
    /// The longest frame `recv_batch` can return (a super-frame when GSO is on).
    pub max_rx_frame: usize,
    /// The longest frame `send_batch` accepts.
    pub max_tx_frame: usize,
}

/// Counters a link keeps for itself (the stack keeps the interface's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct LinkStats {
    /// Frames received.
    pub rx_frames: u64,
    /// Bytes received (frames only, no virtio headers).
    pub rx_bytes: u64,
    /// Frames lost on receive: malformed virtio headers, truncated frames, read errors.
    pub rx_errors: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames dropped on send: too long, refused by the device, link down, no buffer space.
    pub tx_errors: u64,
}

/// The kind of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// A TAP device.
    Tap,
    /// An `AF_PACKET` socket on an existing interface.
    Packet,
    /// An in-memory end.
    Memory,
}

/// A source and sink of Ethernet frames, moved in batches.
pub trait Link {
    /// The device's name (`mayn0`, `eth1`, ...).
    fn name(&self) -> &str;

    /// The kind of link.
    fn kind(&self) -> LinkKind;

    /// The hardware address the stack uses as its own on this link.
    fn mac(&self) -> EthernetAddress;

    /// The IP MTU (payload of an Ethernet frame; 1500 unless configured).
    fn mtu(&self) -> usize;

    /// Offloads and frame size limits.
    fn capabilities(&self) -> Capabilities;

    /// Receives up to `max` frames, appending them to `out`, and returns how many it appended.
    /// Never blocks: `Ok(0)` means nothing is ready. Each frame's buffer has at least the link's
    /// configured headroom. Malformed input is counted in [`LinkStats::rx_errors`] and skipped.
    fn recv_batch(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize>;

    /// Sends frames from the front of `queue`, removing each one sent, until the queue is empty
    /// or the device would block; returns how many it removed. A frame the device refuses
    /// (too long, bad offload state, link down) is removed and counted in
    /// [`LinkStats::tx_errors`]; an error that concerns the link itself is returned and leaves the
    /// frame at the front.
    fn send_batch(&mut self, queue: &mut VecDeque<Frame>) -> Result<usize>;

    /// Hands a buffer back for reuse by later receives (optional; dropping it is fine).
    fn recycle(&mut self, buf: PacketBuf) {
        drop(buf);
    }

    /// The link's counters.
    fn stats(&self) -> LinkStats;

    /// Changes the link's MTU where the link owns its device (a TAP device netcp made); a link
    /// on an interface that belongs to Linux (AF_PACKET) keeps Linux's MTU, so the default does
    /// nothing.
    fn set_mtu(&mut self, _mtu: usize) -> Result<()> {
        Ok(())
    }

    /// The descriptor to watch for readability and writability, if the link has one.
    fn raw_fd(&self) -> Option<RawFd>;
}

/// Waits until `fd` is readable or `timeout` passes (`None`: forever); returns whether it is.
pub fn wait_readable(fd: RawFd, timeout: Option<Duration>) -> io::Result<bool> {
    poll_one(fd, libc::POLLIN, timeout)
}

/// Waits until `fd` is writable or `timeout` passes (`None`: forever); returns whether it is.
pub fn wait_writable(fd: RawFd, timeout: Option<Duration>) -> io::Result<bool> {
    poll_one(fd, libc::POLLOUT, timeout)
}

fn poll_one(fd: RawFd, events: libc::c_short, timeout: Option<Duration>) -> io::Result<bool> {
    let ms = match timeout {
        None => -1,
        Some(d) => i32::try_from(d.as_millis()).unwrap_or(i32::MAX),
    };
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(r > 0 && p.revents & (events | libc::POLLERR | libc::POLLHUP) != 0);
    }
}

/// A random locally administered unicast address (`x2:xx:xx:xx:xx:xx`).
pub fn random_mac() -> EthernetAddress {
    let mut b = [0u8; 6];
    sys::fill_random(&mut b);
    b[0] = (b[0] & 0xfc) | 0x02;
    EthernetAddress(b)
}

/// Ethernet header plus one VLAN tag: what a frame adds to the MTU.
pub const FRAME_OVERHEAD: usize = 14 + 4;

/// The longest super-frame a GSO link moves: 64 KB of IP plus the Ethernet header and a tag.
pub const MAX_GSO_FRAME: usize = 65536 + FRAME_OVERHEAD;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_send_and_object_safe() {
        fn send<T: Send>() {}
        send::<TapLink>();
        send::<PacketLink>();
        send::<MemoryLink>();
        send::<Frame>();
        let (a, _b) = MemoryLink::pair(&MemoryLinkConfig::default());
        let boxed: Box<dyn Link + Send> = Box::new(a);
        assert_eq!(boxed.kind(), LinkKind::Memory);
    }

    #[test]
    fn offload_flags() {
        assert_eq!(Offloads::NONE.tun_flags(), 0);
        assert_eq!(Offloads::ALL.tun_flags(), 0x7f & !0x10);
        let no_csum = Offloads {
            csum: false,
            ..Offloads::ALL
        };
        assert_eq!(no_csum.normalized(), Offloads::NONE);
        assert!(Offloads::ALL.any_gso());
    }

    #[test]
    fn random_macs_are_local_unicast() {
        let a = random_mac();
        assert!(a.is_unicast() && a.is_local());
        assert_ne!(a, random_mac());
    }

    #[test]
    fn make_plain_completes_or_refuses() {
        let mut f = Frame::from_slice(&[0u8; 60]);
        assert!(make_plain(&mut f));
        f.offload.partial_csum = Some(PartialCsum {
            start: 50,
            offset: 16,
        });
        assert!(!make_plain(&mut f), "checksum field beyond the frame");
        f.offload.partial_csum = Some(PartialCsum {
            start: 34,
            offset: 6,
        });
        assert!(make_plain(&mut f));
        assert!(f.offload.is_plain());
        f.offload.gso = Some(Gso {
            kind: GsoKind::TcpV4,
            size: 1448,
            hdr_len: 54,
            ecn: false,
        });
        assert!(!make_plain(&mut f));
    }
}
