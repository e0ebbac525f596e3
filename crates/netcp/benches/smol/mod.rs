//! smoltcp (<https://github.com/smoltcp-rs/smoltcp>), another userspace TCP/IP stack in Rust, as
//! a peer of Maynard's stack in the benchmarks: the same jobs done by its `Interface` on one core.
//!
//! - [`core_forward`]: the closest smoltcp comes to forwarding. smoltcp has no IPv4 forwarding
//!   (an `Interface` is one link and delivers to its sockets or drops), so the frame Maynard's
//!   core forwards is received by an `Interface` in AnyIP mode on an in-memory device, delivered
//!   to a UDP socket, read by the caller and sent on to its destination with the original source
//!   address: receive, parse, IPv4 header checksum check, socket lookup, route and neighbour
//!   lookup, emit (UDP checksums are off: a forwarder never touches them).
//! - [`TcpSink`]: a TCP listener on a TAP device that reads and discards as fast as it can.

#![allow(dead_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{Checksum, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, HardwareAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Address,
};

/// Frames handed to the interface per poll, as Maynard's core gets them per `receive_batch`.
const BATCH: usize = 64;

/// An in-memory link: a batch of received frames (refilled from a template before each poll,
/// as a link reading into its buffers would) and one reused transmit buffer.
struct MemLink {
    rx: Vec<Vec<u8>>,
    /// The next frame of `rx` to hand to the interface; `rx.len()` when the batch is used up.
    next: usize,
    tx: Vec<u8>,
    sent: u64,
}

impl MemLink {
    fn refill(&mut self, template: &[u8]) {
        for b in &mut self.rx {
            b.copy_from_slice(template);
        }
        self.next = 0;
    }
}

struct MemRx<'a>(&'a [u8]);
struct MemTx<'a> {
    buf: &'a mut Vec<u8>,
    sent: &'a mut u64,
}

impl smoltcp::phy::RxToken for MemRx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl smoltcp::phy::TxToken for MemTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.buf.resize(len, 0);
        *self.sent += 1;
        f(self.buf)
    }
}

impl Device for MemLink {
    type RxToken<'a> = MemRx<'a>;
    type TxToken<'a> = MemTx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(MemRx<'_>, MemTx<'_>)> {
        let frame = self.rx.get(self.next)?;
        self.next += 1;
        Some((
            MemRx(frame),
            MemTx {
                buf: &mut self.tx,
                sent: &mut self.sent,
            },
        ))
    }

    fn transmit(&mut self, _: Instant) -> Option<MemTx<'_>> {
        Some(MemTx {
            buf: &mut self.tx,
            sent: &mut self.sent,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        // A forwarder checks and rewrites the IPv4 header checksum but never touches the UDP
        // one: smoltcp, an end host, would verify and recompute it, so that is left out to make
        // the work comparable.
        let mut checksum = ChecksumCapabilities::default();
        checksum.udp = Checksum::None;
        caps.checksum = checksum;
        caps
    }
}

/// Addresses of the forwarding set-up, the same as Maynard's core bench uses
/// (`crates/stack/tests/common/mod.rs`).
pub struct Hosts {
    /// The router's MAC on the receiving link (the frame's destination).
    pub router: [u8; 6],
    /// Host A (the frame's source, 10.0.1.2 on 10.0.1.0/24).
    pub a_ip: [u8; 4],
    /// Host B (the frame's destination, 10.0.2.2 on 10.0.2.0/24) and its MAC.
    pub b_ip: [u8; 4],
    pub b_mac: [u8; 6],
}

/// Frames per second smoltcp re-emits toward host B for `time`, from `template` (a 64-byte
/// Ethernet frame from host A to host B's UDP port 9, addressed to the router's MAC), in
/// batches of 64 on one core. Fails unless every frame came out, addressed to host B.
pub fn core_forward(template: &[u8], hosts: &Hosts, time: Duration) -> anyhow::Result<f64> {
    let router = EthernetAddress(hosts.router);
    let [a, b] = [hosts.a_ip, hosts.b_ip].map(|x| Ipv4Address::new(x[0], x[1], x[2], x[3]));
    let mut dev = MemLink {
        rx: vec![template.to_vec(); BATCH],
        next: BATCH,
        tx: Vec::with_capacity(1514),
        sent: 0,
    };
    let now = Instant::from_millis(0);
    let mut iface = Interface::new(
        Config::new(HardwareAddress::Ethernet(router)),
        &mut dev,
        now,
    );
    iface.update_ip_addrs(|addrs| {
        for (x, y) in [(10, 1), (10, 2)] {
            let _ = addrs.push(IpCidr::new(IpAddress::v4(x, 0, y, 1), 24));
        }
    });
    if iface.ip_addrs().len() != 2 {
        bail!("smoltcp took {} of 2 addresses", iface.ip_addrs().len());
    }
    // Packets to any address come up the stack (a router's interface sees traffic for others).
    iface.set_any_ip(true);

    let mut sockets = SocketSet::new(vec![]);
    let socket = udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; BATCH], vec![0; BATCH * 64]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; BATCH], vec![0; BATCH * 64]),
    );
    let handle = sockets.add(socket);
    sockets
        .get_mut::<udp::Socket>(handle)
        .bind(9)
        .map_err(|e| anyhow!("smoltcp bind: {e}"))?;

    // Host B's MAC, learnt as smoltcp learns one: from an ARP request of B's for the router.
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: EthernetAddress(hosts.b_mac),
        source_protocol_addr: b,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: Ipv4Address::new(10, 0, 2, 1),
    };
    let mut request = vec![0u8; 14 + arp.buffer_len()];
    let mut eth = EthernetFrame::new_unchecked(&mut request[..]);
    EthernetRepr {
        src_addr: EthernetAddress(hosts.b_mac),
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EthernetProtocol::Arp,
    }
    .emit(&mut eth);
    arp.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    let mut arp_dev = MemLink {
        rx: vec![request],
        next: 0,
        tx: Vec::new(),
        sent: 0,
    };
    iface.poll(now, &mut arp_dev, &mut sockets);
    if arp_dev.sent != 1 {
        bail!("smoltcp did not answer host B's ARP request");
    }

    let to = IpEndpoint::new(IpAddress::Ipv4(b), 9);
    let mut payload = [0u8; 1500];
    let start = std::time::Instant::now();
    let mut offered = 0u64;
    while start.elapsed() < time {
        for _ in 0..1000 {
            dev.refill(template);
            offered += BATCH as u64;
            // Ingress: the whole batch into the socket.
            iface.poll(now, &mut dev, &mut sockets);
            let s = sockets.get_mut::<udp::Socket>(handle);
            while let Ok((n, _)) = s.recv_slice(&mut payload) {
                let meta = udp::UdpMetadata {
                    endpoint: to,
                    local_address: Some(IpAddress::Ipv4(a)),
                    meta: Default::default(),
                };
                if s.send_slice(&payload[..n], meta).is_err() {
                    break;
                }
            }
            // Egress: route, neighbour, emit.
            iface.poll(now, &mut dev, &mut sockets);
        }
    }
    let rate = dev.sent as f64 / start.elapsed().as_secs_f64();
    let out = EthernetFrame::new_checked(&dev.tx[..]).context("smoltcp's last frame")?;
    if dev.sent != offered
        || out.dst_addr() != EthernetAddress(hosts.b_mac)
        || out.src_addr() != router
        || dev.tx.len() != template.len()
        || dev.tx.get(30..34) != Some(&hosts.b_ip[..])
        || dev.tx.get(26..30) != Some(&hosts.a_ip[..])
    {
        bail!(
            "smoltcp sent {} of {offered} frames; the last: {:02x?}",
            dev.sent,
            dev.tx
        );
    }
    Ok(rate)
}

/// A TAP device read and written one frame per system call (as smoltcp's own
/// `phy::TunTapInterface`, without its allocation per received frame and panic on errors).
pub struct Tap {
    fd: OwnedFd,
    rx: Vec<u8>,
    tx: Vec<u8>,
    /// Read or write errors other than "would block" (counted, never fatal to the bench).
    errors: u64,
}

/// The largest Ethernet frame on a 1500-byte MTU link, without the FCS.
const FRAME: usize = 1514;

impl Tap {
    /// Creates TAP device `name` (gone when this is dropped), non-blocking, without packet
    /// information headers.
    pub fn new(name: &str) -> anyhow::Result<Tap> {
        // SAFETY: a plain open of a path we pass as a C string.
        let fd = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error()).context("open /dev/net/tun");
        }
        // SAFETY: fd was just opened and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: ifreq is plain old data; all zeroes is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        if name.len() >= req.ifr_name.len() {
            bail!("TAP name {name} is too long");
        }
        for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF takes a pointer to an ifreq, which outlives the call.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req) } < 0 {
            return Err(io::Error::last_os_error()).with_context(|| format!("TUNSETIFF {name}"));
        }
        Ok(Tap {
            fd,
            rx: vec![0; FRAME],
            tx: vec![0; FRAME],
            errors: 0,
        })
    }

    /// Waits until a frame can be read or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd that outlives the call.
        unsafe { libc::poll(&mut p, 1, timeout.as_millis().min(1000) as libc::c_int) };
    }
}

/// A received frame, borrowed from the TAP's receive buffer.
pub struct TapRx<'a>(&'a [u8]);
/// A frame to write, built in the TAP's transmit buffer.
pub struct TapTx<'a> {
    fd: RawFd,
    buf: &'a mut Vec<u8>,
    errors: &'a mut u64,
}

impl smoltcp::phy::RxToken for TapRx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl smoltcp::phy::TxToken for TapTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.buf.resize(len, 0);
        let r = f(self.buf);
        // SAFETY: writes from a buffer of `len` bytes to a descriptor we own.
        let n = unsafe { libc::write(self.fd, self.buf.as_ptr().cast(), len) };
        if n < 0 {
            *self.errors += 1;
        }
        r
    }
}

impl Device for Tap {
    type RxToken<'a> = TapRx<'a>;
    type TxToken<'a> = TapTx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(TapRx<'_>, TapTx<'_>)> {
        // SAFETY: reads into a buffer of its own length from a descriptor we own.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                self.rx.as_mut_ptr().cast(),
                self.rx.len(),
            )
        };
        if n <= 0 {
            if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
                self.errors += 1;
            }
            return None;
        }
        Some((
            TapRx(&self.rx[..n as usize]),
            TapTx {
                fd: self.fd.as_raw_fd(),
                buf: &mut self.tx,
                errors: &mut self.errors,
            },
        ))
    }

    fn transmit(&mut self, _: Instant) -> Option<TapTx<'_>> {
        Some(TapTx {
            fd: self.fd.as_raw_fd(),
            buf: &mut self.tx,
            errors: &mut self.errors,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = FRAME;
        caps
    }
}

/// smoltcp's receive buffer for the sink's connection: smoltcp scales the window it advertises
/// to the buffer, and 4 MiB is the window Maynard's stack advertises (with 1 MiB, Linux's
/// sender was held back by the window 40% of the time).
pub const SINK_RX_BUFFER: usize = 4 << 20;

/// A TCP sink on smoltcp: a thread polling an `Interface` on a TAP device in a tight loop, with
/// one socket listening on a port that reads and discards everything, counting the bytes.
pub struct TcpSink {
    /// Bytes read from every connection so far.
    pub count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl TcpSink {
    /// Starts the sink on a TAP device `tap` it creates, with address `addr`/`prefix`,
    /// listening on `port`. The caller gives Linux its side of the TAP once this returns.
    pub fn start(tap: &str, addr: [u8; 4], prefix: u8, port: u16) -> anyhow::Result<TcpSink> {
        let mut dev = Tap::new(tap)?;
        let count = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("smoltcp-sink".into())
            .spawn(move || sink(&mut dev, addr, prefix, port, &c, &s))?;
        Ok(TcpSink {
            count,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread; returns the device errors it saw.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

impl Drop for TcpSink {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The sink's loop; returns the device errors seen.
fn sink(
    dev: &mut Tap,
    addr: [u8; 4],
    prefix: u8,
    port: u16,
    count: &AtomicU64,
    stop: &AtomicBool,
) -> u64 {
    // A locally administered MAC made from the address.
    let mac = EthernetAddress([0x02, 0x5b, addr[0], addr[1], addr[2], addr[3]]);
    let mut iface = Interface::new(
        Config::new(HardwareAddress::Ethernet(mac)),
        dev,
        Instant::now(),
    );
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::new(
            IpAddress::v4(addr[0], addr[1], addr[2], addr[3]),
            prefix,
        ));
    });
    let mut sockets = SocketSet::new(vec![]);
    let handle = sockets.add(tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; SINK_RX_BUFFER]),
        tcp::SocketBuffer::new(vec![0; 4096]),
    ));
    let mut idle = 0u32;
    while !stop.load(Relaxed) {
        iface.poll(Instant::now(), dev, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket>(handle);
        let mut got = 0;
        while let Ok(n) = s.recv(|b| (b.len(), b.len())) {
            if n == 0 {
                break;
            }
            got += n;
        }
        if got > 0 {
            count.fetch_add(got as u64, Relaxed);
            idle = 0;
        }
        match s.state() {
            tcp::State::Closed => {
                let _ = s.listen(port);
            }
            tcp::State::CloseWait => s.close(),
            _ => {}
        }
        // A tight loop while traffic flows; after a few thousand empty rounds, wait for the
        // next frame (at most the interface's own next deadline) so an idle sink does not
        // take a core from the sender between runs.
        idle = idle.saturating_add(u32::from(got == 0));
        if idle > 10_000 {
            let delay = iface
                .poll_delay(Instant::now(), &sockets)
                .map(|d| Duration::from_micros(d.total_micros()))
                .unwrap_or(Duration::from_millis(10));
            dev.wait(delay.min(Duration::from_millis(10)));
        }
    }
    dev.errors
}
