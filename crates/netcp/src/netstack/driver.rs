//! The stack's thread: links, the poll loop, commands and events.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::fd::RawFd;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, Context};
use control::config::network::{
    Encapsulation as CfgEncap, InterfaceConfig, LinkDevice, NetworkConfig,
};
use link::{
    Frame, Gso, GsoKind, Link, OffloadInfo, PacketConfig, PacketLink, PartialCsum, TapConfig,
    TapLink,
};
use stack::{
    ArpFlags, EthernetAddress, IfaceId, IfaceOffloads, Instant, Ipv4Prefix, LinkContext, LinkSpec,
    PacketBuf, RouteKind, RxMeta, Stack, StackConfig, StackEvent, TsoMeta, XorShiftRng,
};

use super::doorbell::{BellReceiver, Doorbell};
use crate::runtime::Runtime;

/// Frames read from one link per round before the others get their turn.
const RX_BATCH: usize = 64;
/// Rounds of reading per link before timers and commands run again.
const RX_ROUNDS: usize = 8;
/// How long the loop keeps looking for frames after the last ones came before it sleeps.
const RX_SPIN: Duration = Duration::from_micros(30);
/// A round that read this many bytes of frames is a bulk transfer: the loop does not spin after
/// it (see `run`).
const RX_BULK_BYTES: usize = 32 * 1024;
/// Frames waiting for a link that will not take them; the oldest are dropped beyond this.
const TX_QUEUE_LIMIT: usize = 4096;
/// Echo replies kept for PING before the oldest are forgotten.
const ECHO_KEEP: usize = 1024;

/// The stack's output on its way to the links: frames with what the link must do to them (a
/// TCP super-segment the TAP device cuts, a checksum it completes).
#[derive(Default)]
pub struct Outbox(pub Vec<(IfaceId, Frame)>);

impl LinkContext for Outbox {
    fn send_frame(&mut self, iface: IfaceId, frame: PacketBuf) {
        self.0.push((iface, Frame::new(frame)));
    }

    fn send_tso(&mut self, iface: IfaceId, frame: PacketBuf, tso: TsoMeta) {
        let offload = OffloadInfo {
            partial_csum: Some(PartialCsum {
                start: tso.l4_offset,
                // The TCP checksum field's offset in the TCP header.
                offset: 16,
            }),
            csum_valid: false,
            gso: Some(Gso {
                kind: GsoKind::TcpV4,
                size: tso.mss,
                hdr_len: tso.header_len,
                ecn: false,
            }),
        };
        self.0.push((iface, Frame::with_offload(frame, offload)));
    }
}

/// A command for the stack's thread.
pub(super) type Command = Box<dyn FnOnce(&mut Driver) + Send>;

/// One link under an se interface.
struct LinkSlot {
    iface: IfaceId,
    link: Box<dyn Link + Send>,
    queue: VecDeque<Frame>,
    /// The link failed and that was logged; cleared when it works again.
    failing: bool,
}

/// An echo reply seen by the stack (for PING).
#[derive(Debug, Clone, Copy)]
pub struct EchoSeen {
    /// Who answered.
    pub from: Ipv4Addr,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq_no: u16,
    /// Bytes of data.
    pub len: usize,
    /// When (on the stack's clock).
    pub at: Instant,
}

/// What the stack's thread owns. Commands get `&mut Driver`.
pub struct Driver {
    /// The stack.
    pub stack: Stack,
    links: Vec<LinkSlot>,
    /// `tap mayn0`, `packet eth1`, per se interface.
    descriptions: HashMap<IfaceId, String>,
    out: Outbox,
    epoch: std::time::Instant,
    rt: Arc<Runtime>,
    stop: bool,
    echoes: VecDeque<EchoSeen>,
    next_ident: u16,
    /// The stack's UDP sockets that netcp's services use (`udp_socket.rs`).
    pub(super) udp: super::udp_socket::UdpSockets,
    /// The stack's TCP sockets that netcp's services use (`tcp_socket.rs`).
    pub(super) tcp: super::tcp_socket::TcpSockets,
    /// A way back to this thread, for the streams of accepted connections.
    caller: Option<super::udp_socket::StackCaller>,
}

impl Driver {
    /// Now on the stack's clock.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// Runs `f` with the stack, the output queue and the time; queued frames go out afterwards.
    pub fn with_ctx<R>(&mut self, f: impl FnOnce(&mut Stack, &mut Outbox, Instant) -> R) -> R {
        let now = self.now();
        let mut out = std::mem::take(&mut self.out);
        let r = f(&mut self.stack, &mut out, now);
        self.out = out;
        r
    }

    /// What an interface rides on: `tap mayn0`, `packet eth1`, the parent's name, `loopback`.
    pub fn describe(&self, id: IfaceId) -> String {
        if let Some(d) = self.descriptions.get(&id) {
            return d.clone();
        }
        match self.stack.interface(id) {
            Some(i) if i.kind() == stack::IfaceKind::Loopback => "loopback".into(),
            Some(i) if i.link() != id => self
                .stack
                .interface(i.link())
                .map_or_else(String::new, |p| p.name().to_string()),
            _ => String::new(),
        }
    }

    /// An interface's name.
    pub fn iface_name(&self, id: IfaceId) -> String {
        self.stack
            .interface(id)
            .map_or_else(|| format!("#{}", id.0), |i| i.name().to_string())
    }

    /// A fresh ICMP identifier for one PING.
    pub fn take_ident(&mut self) -> u16 {
        self.next_ident = self.next_ident.wrapping_add(1);
        self.next_ident
    }

    /// Gives an se interface's link the MTU the stack now uses (a TAP device's Linux side
    /// follows; an AF_PACKET link keeps Linux's).
    pub fn set_link_mtu(&mut self, id: IfaceId, mtu: u32) -> Result<(), String> {
        match self.links.iter_mut().find(|l| l.iface == id) {
            Some(slot) => slot
                .link
                .set_mtu(mtu as usize)
                .map_err(|e| format!("{}: {e}", slot.link.name())),
            None => Ok(()),
        }
    }

    /// Moves one stack TCP connection's bytes (a service's stream asked for it).
    pub(super) fn tcp_pump(&mut self, h: stack::TcpHandle) {
        let now = self.now();
        self.tcp.pump(&mut self.stack, &mut self.out, h, now);
    }

    /// Removes and returns the echo replies with identifier `ident` seen so far.
    pub fn take_echoes(&mut self, ident: u16) -> Vec<EchoSeen> {
        let (mine, rest): (Vec<EchoSeen>, Vec<EchoSeen>) =
            self.echoes.drain(..).partition(|e| e.ident == ident);
        self.echoes = rest.into();
        mine
    }

    fn log_events(&mut self) {
        // Handling an event may raise more (a TCP pump that opens a window); a few rounds take
        // those too, so the loop does not sleep on them.
        for _ in 0..16 {
            let events = self.stack.take_events();
            if events.is_empty() {
                break;
            }
            self.handle_events(events);
        }
    }

    fn handle_events(&mut self, events: Vec<StackEvent>) {
        for e in events {
            let log = &self.rt.log;
            match e {
                StackEvent::DuplicateAddress { iface, addr, other } => log.emit(
                    log.line("stack-duplicate-address")
                        .kv("interface", self.iface_name(iface))
                        .kv("address", addr)
                        .kv("other", other),
                ),
                StackEvent::ArpFailed { iface, addr } => log.emit(
                    log.line("stack-arp-failed")
                        .kv("interface", self.iface_name(iface))
                        .kv("address", addr),
                ),
                StackEvent::GatewayDead { gateway, next } => {
                    log.emit(log.line("stack-gateway-dead").kv("gateway", gateway).kv(
                        "next",
                        next.map_or_else(|| "none".to_string(), |n| n.to_string()),
                    ))
                }
                StackEvent::PathMtu { dst, mtu } => log.emit(
                    log.line("stack-path-mtu")
                        .kv("destination", dst)
                        .kv("mtu", mtu),
                ),
                StackEvent::RedirectIgnored { from, gateway } => log.emit(
                    log.line("stack-redirect-ignored")
                        .kv("from", from)
                        .kv("gateway", gateway),
                ),
                StackEvent::EchoReply {
                    from,
                    ident,
                    seq_no,
                    len,
                } => {
                    if self.echoes.len() >= ECHO_KEEP {
                        self.echoes.pop_front();
                    }
                    let at = self.now();
                    self.echoes.push_back(EchoSeen {
                        from,
                        ident,
                        seq_no,
                        len,
                        at,
                    });
                }
                // A UDP socket of a service on the stack: its datagrams go to its channel.
                StackEvent::UdpReadable(h) => self.udp.readable(&mut self.stack, h),
                // A TCP socket of a service on the stack: accept, or move its bytes.
                StackEvent::Tcp(h) => {
                    if let Some(caller) = &self.caller {
                        let now = self.now();
                        self.tcp
                            .changed(caller, &mut self.stack, &mut self.out, h, now);
                    }
                }
                // A probe of a closed port: an IPS event (`stack`, `closed-port`).
                StackEvent::ClosedPort { src, dst, protocol } => {
                    self.rt.ips.report(&self.rt, || ips::Event {
                        component: "stack".into(),
                        event: "closed-port".into(),
                        source: src.into(),
                        destination: Some(((*dst.ip()).into(), dst.port())),
                        protocol: if protocol == 6 {
                            ips::Proto::Tcp
                        } else {
                            ips::Proto::Udp
                        },
                    })
                }
                StackEvent::IcmpError { .. } | StackEvent::Unreachable { .. } => {}
            }
        }
    }

    /// Moves the stack's output to the links' queues and sends what the links take.
    fn transmit(&mut self) {
        for (iface, frame) in self.out.0.drain(..) {
            match self.links.iter_mut().find(|l| l.iface == iface) {
                Some(slot) => {
                    if slot.queue.len() >= TX_QUEUE_LIMIT {
                        slot.queue.pop_front();
                        self.stack.count_output_error(iface);
                    }
                    slot.queue.push_back(frame);
                }
                None => self.stack.count_output_error(iface),
            }
        }
        for slot in &mut self.links {
            if slot.queue.is_empty() {
                continue;
            }
            if let Err(e) = slot.link.send_batch(&mut slot.queue) {
                // A link-level failure: drop the frame at the front so the queue moves on.
                if slot.queue.pop_front().is_some() {
                    self.stack.count_output_error(slot.iface);
                }
                if !slot.failing {
                    slot.failing = true;
                    self.rt.log.emit(
                        self.rt
                            .log
                            .line("stack-link-error")
                            .kv("link", slot.link.name())
                            .kv("message", e),
                    );
                }
            }
        }
    }

    /// Reads and handles what the links have; returns how many frames and bytes came.
    fn receive(&mut self, frames: &mut Vec<Frame>) -> Received {
        let mut total = Received::default();
        for i in 0..self.links.len() {
            for _ in 0..RX_ROUNDS {
                let Some(slot) = self.links.get_mut(i) else {
                    break;
                };
                frames.clear();
                let n = match slot.link.recv_batch(frames, RX_BATCH) {
                    Ok(n) => {
                        slot.failing = false;
                        n
                    }
                    Err(e) => {
                        if !slot.failing {
                            slot.failing = true;
                            let line = self
                                .rt
                                .log
                                .line("stack-link-error")
                                .kv("link", slot.link.name())
                                .kv("message", e);
                            self.rt.log.emit(line);
                        }
                        // A link that keeps failing must not spin the thread.
                        std::thread::sleep(Duration::from_millis(10));
                        break;
                    }
                };
                if n == 0 {
                    break;
                }
                total.frames += n;
                total.bytes += frames.iter().map(|f| f.buf.len()).sum::<usize>();
                let iface = slot.iface;
                let now = self.now();
                if frames
                    .iter()
                    .all(|f| f.offload.is_plain() && !f.offload.csum_valid)
                {
                    self.stack.receive_batch(
                        &mut self.out,
                        iface,
                        frames.drain(..).map(|f| f.buf),
                        now,
                    );
                } else {
                    let forwarding = self.stack.config().gateway_mode;
                    for mut f in frames.drain(..) {
                        // Linux left the transport checksum to the device (NEEDS_CSUM): local
                        // delivery may trust it; a gateway completes it, since the frame may
                        // leave on a link that cannot.
                        let partial = f.offload.partial_csum.is_some();
                        if partial && forwarding {
                            let mut o = f.offload;
                            if o.complete_checksum(f.buf.as_mut_slice()).is_err() {
                                continue;
                            }
                        }
                        let meta = RxMeta {
                            csum_verified: f.offload.csum_valid || (partial && !forwarding),
                        };
                        self.stack
                            .receive_with_meta(&mut self.out, iface, f.buf, meta, now);
                    }
                }
                if n < RX_BATCH {
                    break;
                }
            }
        }
        total
    }

    fn fire_timers(&mut self) {
        let now = self.now();
        if self.stack.poll_at().is_some_and(|t| t <= now) {
            self.stack.on_timer(&mut self.out, now);
        }
    }

    /// Milliseconds until the next timer (`-1`: none).
    fn timeout_ms(&self) -> i32 {
        match self.stack.poll_at() {
            None => -1,
            Some(t) => {
                let d = t.saturating_duration_since(self.now());
                // Round up so we do not wake a moment early and spin.
                let ms = d.as_nanos().div_ceil(1_000_000);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        }
    }
}

/// What one round read from the links.
#[derive(Default, Clone, Copy)]
struct Received {
    frames: usize,
    bytes: usize,
}

/// netcp's handle on the stack's thread.
pub struct NetstackHandle {
    /// The filter lists of the stack's interfaces (SET INTERFACE /FILTER on a stack interface).
    pub filters: super::FilterSlots,
    /// Live capture sessions (`netcu dump se0`, capture.rs).
    pub captures: super::CaptureSlots,
    tx: mpsc::Sender<Command>,
    wake: Arc<Doorbell>,
    thread: Option<JoinHandle<()>>,
}

impl NetstackHandle {
    /// Builds the stack of `cfg`, opens its links, and starts its thread.
    pub fn start(cfg: &NetworkConfig, rt: Arc<Runtime>) -> anyhow::Result<NetstackHandle> {
        let filters = super::FilterSlots::default();
        let ips = rt.ips.slot();
        let mut driver = build(cfg, rt)?;
        driver
            .stack
            .set_packet_hook(Some(Box::new(super::filter_hook::FilterHook::new(
                filters.clone(),
                ips,
            ))));
        // Live capture (capture.rs): the hook idles until a DUMP opens a session.
        let captures = super::CaptureSlots::default();
        driver
            .stack
            .set_capture_hook(Some(Box::new(captures.hook())));
        let (tx, rx) = mpsc::channel::<Command>();
        let (wake, wake_rx) = Doorbell::pair().context("cannot make the stack's wake-up socket")?;
        let wake = Arc::new(wake);
        driver.caller = Some(super::udp_socket::StackCaller::new(
            tx.clone(),
            wake.clone(),
        ));
        let bell = wake.clone();
        keep_freed_memory();
        let thread = std::thread::Builder::new()
            .name("netcp-stack".into())
            .spawn(move || {
                let rt = driver.rt.clone();
                // A bug in the stack must not pass silently: the thread ends, the log says why,
                // and every later command answers that the stack has stopped.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(driver, rx, wake_rx, &bell)
                }));
                if let Err(p) = r {
                    let why = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    rt.log
                        .emit(rt.log.line("stack-panicked").kv("message", why));
                }
            })
            .context("cannot start the stack's thread")?;
        Ok(NetstackHandle {
            filters,
            captures,
            tx,
            wake,
            thread: Some(thread),
        })
    }

    /// Runs `f` on the stack's thread and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Driver) -> R + Send + 'static,
    ) -> Result<R, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send(Box::new(move |d: &mut Driver| {
                let _ = reply.send(f(d));
            }))
            .map_err(|_| "Maynard's stack has stopped".to_string())?;
        self.wake.ring();
        answer
            .await
            .map_err(|_| "Maynard's stack has stopped".to_string())
    }

    /// A cloneable sender of closures to the stack's thread, for the stack's UDP sockets.
    pub fn caller(&self) -> super::udp_socket::StackCaller {
        super::udp_socket::StackCaller::new(self.tx.clone(), self.wake.clone())
    }

    /// Stops the thread (its links close, a TAP device goes away).
    pub fn stop(&mut self) {
        let _ = self.tx.send(Box::new(|d: &mut Driver| d.stop = true));
        self.wake.ring_always();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for NetstackHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Keeps freed memory in malloc's free lists instead of handing it back to the kernel at once.
///
/// A TCP stream through the stack allocates and frees a 64 KiB buffer per GRO'd frame and
/// grows and shrinks its byte queues; with glibc's defaults (trim above 128 KiB free at the
/// top of a heap) that memory went back and forth to the kernel, and page faults with their
/// zeroing were a fifth of the stack thread's time. Fixed thresholds (which also stop glibc
/// moving them) keep up to 16 MiB of free memory per arena and serve blocks up to 8 MiB from
/// the heap.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's tuning parameters; any value is accepted.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
    }
}

/// A seed from the OS (/dev/urandom, read once).
fn os_seed() -> u64 {
    let mut b = [0u8; 8];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        Ok(()) => u64::from_ne_bytes(b),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

/// Whether an interface of `cfg` belongs on the live stack: an enabled one whose parent (for a
/// pd) is enabled too. A disabled interface is not created (its TAP stays closed).
fn wanted(cfg: &NetworkConfig, i: &InterfaceConfig) -> bool {
    i.enabled
        && i.parent.as_ref().is_none_or(|p| {
            cfg.interfaces
                .iter()
                .any(|x| x.name.eq_ignore_ascii_case(p) && x.enabled)
        })
}

impl Driver {
    /// Creates one interface of `network.toml` on the stack, opening its link.
    fn add_interface(&mut self, i: &InterfaceConfig) -> anyhow::Result<()> {
        let name = &i.name;
        let now = self.now();
        let mut offloads = false;
        let id = match (&i.link, &i.parent) {
            (Some(dev), _) => {
                let (link, desc): (Box<dyn Link + Send>, String) = match dev {
                    LinkDevice::Tap(t) => {
                        // With the virtio-net header: TSO super-segments out, GRO'd frames in.
                        let mut tc = TapConfig::new(t.clone());
                        if i.offload {
                            tc = tc.with_offloads();
                        }
                        tc.mac = i.mac.map(EthernetAddress::from);
                        tc.mtu = Some(i.mtu.unwrap_or(1500) as usize);
                        let l = TapLink::open(&tc)
                            .with_context(|| format!("{name}: cannot open TAP device {t}"))?;
                        offloads = l.capabilities().tx.tso4;
                        (Box::new(l), format!("tap {t}"))
                    }
                    LinkDevice::Packet(p) => {
                        let mut pc = PacketConfig::new(p.clone());
                        pc.mac = i.mac.map(EthernetAddress::from);
                        pc.promiscuous = i.mac.is_some();
                        let l = PacketLink::open(&pc)
                            .with_context(|| format!("{name}: cannot open AF_PACKET on {p}"))?;
                        (Box::new(l), format!("packet {p}"))
                    }
                };
                let id = self
                    .stack
                    .create_interface(name, LinkSpec::Ethernet(link.mac()), now)
                    .map_err(|e| anyhow!("{name}: {e}"))?;
                self.descriptions.insert(id, desc);
                if offloads {
                    self.stack.set_offloads(
                        id,
                        IfaceOffloads {
                            tso: true,
                            rx_csum_trusted: false,
                        },
                    );
                }
                self.links.push(LinkSlot {
                    iface: id,
                    link,
                    queue: VecDeque::new(),
                    failing: false,
                });
                id
            }
            (None, Some(parent)) => {
                let p = self
                    .stack
                    .find_interface(parent)
                    .ok_or_else(|| anyhow!("{name}: no parent {parent}"))?;
                self.stack
                    .create_interface(name, LinkSpec::Pseudo { parent: p }, now)
                    .map_err(|e| anyhow!("{name}: {e}"))?
            }
            (None, None) => return Err(anyhow!("{name}: no link and no parent")),
        };
        let e = |e: stack::ConfigError| anyhow!("{name}: {e}");
        if i.encapsulation == CfgEncap::Ieee8022 {
            self.stack
                .set_encapsulation(id, stack::Encapsulation::Ieee8022)
                .map_err(e)?;
        }
        if let Some(m) = i.mtu {
            self.stack.set_mtu(id, m).map_err(e)?;
        }
        self.stack.set_link_running(id, true, now).map_err(e)?;
        let mut out = std::mem::take(&mut self.out);
        if let Some((addr, len)) = i.address {
            for w in self
                .stack
                .set_address(&mut out, id, addr, len, now)
                .map_err(e)?
            {
                self.rt.log.notice(&format!("{name}: {w}"));
            }
        }
        if i.broadcast.is_some() {
            self.stack.set_broadcast(id, i.broadcast).map_err(e)?;
        }
        self.stack.set_up(&mut out, id, i.enabled, now).map_err(e)?;
        self.out = out;
        // The agent records the first state now: a SET INTERFACE /DOWN handled in the same
        // round of the loop is then a change (linkDown), not the first state it sees.
        self.rt.snmp.observe_links(self.stack.interfaces());
        Ok(())
    }

    /// Deletes an interface from the stack and closes its link (a TAP netcp made disappears).
    fn remove_interface(&mut self, name: &str) -> Result<(), String> {
        let id = self
            .stack
            .find_interface(name)
            .ok_or_else(|| format!("{name}: not on the stack"))?;
        self.stack
            .delete_interface(id)
            .map_err(|e| format!("{name}: {e}"))?;
        self.links.retain(|l| l.iface != id);
        self.descriptions.remove(&id);
        self.out.0.retain(|(i, _)| *i != id);
        Ok(())
    }

    /// Changes the running stack from `old` to `new` (both `network.toml`, validated):
    /// interfaces removed, added or changed (address, broadcast and MTU in place; a changed link,
    /// parent, hardware address or encapsulation recreates the interface), kernel switches, and
    /// the file's routes and ARP entries. On an error the stack is put back to `old` (best effort)
    /// and the error returned.
    pub fn apply_network(
        &mut self,
        old: &NetworkConfig,
        new: &NetworkConfig,
    ) -> Result<Vec<String>, String> {
        match self.apply_network_once(old, new) {
            Ok(done) => Ok(done),
            Err(e) => {
                if let Err(back) = self.apply_network_once(new, old) {
                    self.rt.log.notice(&format!(
                        "stack: cannot restore the previous network: {back}"
                    ));
                }
                Err(e)
            }
        }
    }

    fn apply_network_once(
        &mut self,
        old: &NetworkConfig,
        new: &NetworkConfig,
    ) -> Result<Vec<String>, String> {
        let mut done = Vec::new();
        let live = |cfg: &NetworkConfig, name: &str| {
            cfg.interfaces
                .iter()
                .find(|i| i.name == name && wanted(cfg, i))
                .cloned()
        };
        // What must go: gone, disabled, or changed beyond what can change in place; a pd whose
        // parent goes goes too.
        let mut recreate: Vec<String> = Vec::new();
        for o in old.interfaces.iter().filter(|i| wanted(old, i)) {
            let gone = match live(new, &o.name) {
                None => true,
                Some(n) => {
                    n.link != o.link
                        || n.offload != o.offload
                        || n.parent != o.parent
                        || n.mac != o.mac
                        || n.encapsulation != o.encapsulation
                        || (o.address.is_some() && n.address.is_none())
                        || o.parent.as_ref().is_some_and(|p| recreate.contains(p))
                }
            };
            if gone {
                recreate.push(o.name.clone());
            }
        }
        // pd interfaces first (a se with pds on it cannot be deleted).
        for name in recreate.iter().rev() {
            if self.stack.find_interface(name).is_some() {
                self.remove_interface(name)?;
                done.push(format!("{name} removed"));
            }
        }
        for n in new.interfaces.iter().filter(|i| wanted(new, i)) {
            let existing = live(old, &n.name).filter(|_| !recreate.contains(&n.name));
            match existing {
                None => {
                    self.add_interface(n).map_err(|e| format!("{e:#}"))?;
                    done.push(format!("{} added", n.name));
                }
                Some(o) if o != *n => {
                    self.modify_interface(&o, n)?;
                    done.push(format!("{} changed", n.name));
                }
                Some(_) => {}
            }
        }
        if old.kernel != new.kernel {
            self.stack.set_gateway_mode(new.kernel.gateway);
            self.stack.set_pmtu_discovery(new.kernel.tcp_pmtu);
            self.stack.set_accept_redirects(new.kernel.accept_redirects);
            done.push("kernel switches".into());
        }
        for r in old.routes.iter().filter(|r| !new.routes.contains(r)) {
            if let Ok(dest) = Ipv4Prefix::new(r.destination.0, r.destination.1) {
                // It may have gone with its interface.
                let _ = self.stack.route_delete(dest, Some(r.gateway));
                done.push(format!("route {dest} via {} deleted", r.gateway));
            }
        }
        for r in &new.routes {
            // Routes of a recreated interface went with it: add every route the stack lacks.
            let dest = Ipv4Prefix::new(r.destination.0, r.destination.1)
                .map_err(|e| format!("route {}/{}: {e}", r.destination.0, r.destination.1))?;
            let have = self.stack.routes().iter().any(|x| {
                x.dest == dest && x.gateway == Some(r.gateway) && x.kind != RouteKind::PathMtu
            });
            if !have {
                self.stack
                    .route_add(dest, r.gateway, r.mtu)
                    .map_err(|e| format!("route {dest} via {}: {e}", r.gateway))?;
                if !old.routes.contains(r) {
                    done.push(format!("route {dest} via {} added", r.gateway));
                }
            }
        }
        for a in old.arp.iter().filter(|a| !new.arp.contains(a)) {
            let _ = self.stack.arp_delete(a.address);
            done.push(format!("arp {} deleted", a.address));
        }
        for a in &new.arp {
            let have = self.stack.arp_table().iter().any(|e| {
                e.addr == a.address
                    && (e.flags.permanent == a.permanent)
                    && e.flags.proxy == a.proxy
            });
            if !have || !old.arp.contains(a) {
                let now = self.now();
                self.stack
                    .arp_add(
                        a.address,
                        a.mac.map(EthernetAddress::from),
                        ArpFlags {
                            permanent: a.permanent,
                            publish: a.publish,
                            proxy: a.proxy,
                        },
                        now,
                    )
                    .map_err(|e| format!("arp {}: {e}", a.address))?;
                if !old.arp.contains(a) {
                    done.push(format!("arp {} added", a.address));
                }
            }
        }
        Ok(done)
    }

    /// Address, broadcast and MTU of a live interface changed in place (its link stays open).
    fn modify_interface(&mut self, o: &InterfaceConfig, n: &InterfaceConfig) -> Result<(), String> {
        let name = &n.name;
        let id = self
            .stack
            .find_interface(name)
            .ok_or_else(|| format!("{name}: not on the stack"))?;
        let e = |e: stack::ConfigError| format!("{name}: {e}");
        if o.mtu != n.mtu {
            let mtu = n.mtu.unwrap_or(1500);
            self.stack.set_mtu(id, mtu).map_err(e)?;
            self.set_link_mtu(id, mtu)?;
        }
        if o.address != n.address {
            if let Some((addr, len)) = n.address {
                let now = self.now();
                let mut out = std::mem::take(&mut self.out);
                let r = self.stack.set_address(&mut out, id, addr, len, now);
                self.out = out;
                for w in r.map_err(e)? {
                    self.rt.log.notice(&format!("{name}: {w}"));
                }
            }
        }
        if o.broadcast != n.broadcast || o.address != n.address {
            self.stack.set_broadcast(id, n.broadcast).map_err(e)?;
        }
        Ok(())
    }
}

fn build(cfg: &NetworkConfig, rt: Arc<Runtime>) -> anyhow::Result<Driver> {
    let config = StackConfig {
        gateway_mode: cfg.kernel.gateway,
        pmtu_discovery: cfg.kernel.tcp_pmtu,
        accept_redirects: cfg.kernel.accept_redirects,
        ..StackConfig::default()
    };
    let mut d = Driver {
        stack: Stack::new(config, Box::new(XorShiftRng::new(os_seed()))),
        links: Vec::new(),
        descriptions: HashMap::new(),
        out: Outbox::default(),
        epoch: std::time::Instant::now(),
        rt,
        stop: false,
        echoes: VecDeque::new(),
        next_ident: (os_seed() & 0xffff) as u16,
        udp: Default::default(),
        tcp: Default::default(),
        caller: None,
    };
    for i in &cfg.interfaces {
        if wanted(cfg, i) {
            d.add_interface(i)?;
        }
    }
    for r in &cfg.routes {
        let dest = Ipv4Prefix::new(r.destination.0, r.destination.1)
            .map_err(|e| anyhow!("route {}/{}: {e}", r.destination.0, r.destination.1))?;
        d.stack
            .route_add(dest, r.gateway, r.mtu)
            .map_err(|e| anyhow!("route {dest} via {}: {e}", r.gateway))?;
    }
    for a in &cfg.arp {
        let now = d.now();
        d.stack
            .arp_add(
                a.address,
                a.mac.map(EthernetAddress::from),
                ArpFlags {
                    permanent: a.permanent,
                    publish: a.publish,
                    proxy: a.proxy,
                },
                now,
            )
            .map_err(|e| anyhow!("arp {}: {e}", a.address))?;
    }
    Ok(d)
}

fn run(mut d: Driver, rx: mpsc::Receiver<Command>, mut wake: BellReceiver, bell: &Doorbell) {
    let mut frames: Vec<Frame> = Vec::with_capacity(RX_BATCH);
    let mut pfds: Vec<libc::pollfd> = Vec::new();
    // A command found at the last look before sleeping, run first in the next round.
    let mut pending: Option<Command> = None;
    // Until when the loop keeps polling its links without sleeping (frames came recently).
    let mut busy_until: Option<std::time::Instant> = None;
    loop {
        if let Some(cmd) = pending.take() {
            cmd(&mut d);
        }
        // Commands first: they may change what the loop waits for.
        while let Ok(cmd) = rx.try_recv() {
            cmd(&mut d);
        }
        if d.stop {
            // What the last commands made (IGMP leaves of closed sockets) still goes out.
            d.transmit();
            break;
        }
        // The ACKs a batch of frames asks for (and the window updates of the services' reads
        // that follow) go as one per connection at its end: each ACK is a TAP write, and Linux
        // runs its whole ACK processing (and the sender's next transmissions) in that write.
        d.stack.tcp_hold_acks();
        let got = d.receive(&mut frames);
        d.fire_timers();
        d.log_events();
        d.with_ctx(|s, out, now| s.tcp_release_acks(out, now));
        // Releasing may raise events (a connection that became writable).
        d.log_events();
        // SNMP linkUp/linkDown (snmp_agent.rs): the interfaces' states, compared there.
        super::snmp_view::observe(&d.stack, &d.rt.snmp);
        d.transmit();
        // A service on the stack that answers datagrams just got some: wait a moment for its
        // answer rather than sleeping in poll(2) (udp_socket.rs; the stack-udp-rr benchmark).
        if let Some(cmd) = d.udp.await_answer(&rx) {
            cmd(&mut d);
            continue;
        }
        // Small frames came (a request and its answer, a handshake, the ACKs of what we send):
        // the next ones usually come within tens of microseconds, sooner than a sleep in poll(2)
        // and the wake-up after it cost. Not after a bulk round (a stream coming in): its sender
        // needs the CPU more than we need the head start, and every empty look is a system call
        // (on two cores the spin cost a stream a quarter of netcp's CPU per byte and its speed).
        let now = std::time::Instant::now();
        if got.bytes >= RX_BULK_BYTES {
            busy_until = None;
        } else if got.frames > 0 {
            busy_until = Some(now + RX_SPIN);
        }
        if busy_until.is_some_and(|t| now < t) {
            std::hint::spin_loop();
            continue;
        }

        // Posters ring the bell only from here on; a command queued before they could see
        // that is caught by this last look instead.
        bell.going_to_sleep();
        if let Ok(cmd) = rx.try_recv() {
            bell.awake();
            pending = Some(cmd);
            continue;
        }
        pfds.clear();
        pfds.push(pollfd(wake.raw_fd(), libc::POLLIN));
        for slot in &d.links {
            if let Some(fd) = slot.link.raw_fd() {
                let mut ev = libc::POLLIN;
                if !slot.queue.is_empty() {
                    ev |= libc::POLLOUT;
                }
                pfds.push(pollfd(fd, ev));
            }
        }
        let timeout = d.timeout_ms();
        // SAFETY: `pfds` is a valid, initialised array of `pfds.len()` pollfd structures that
        // outlives the call.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout) };
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                d.rt.log.notice(&format!("stack: poll failed: {err}"));
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        bell.awake();
        if pfds.first().is_some_and(|p| p.revents != 0) {
            wake.drain();
        }
    }
    d.rt.log.emit(d.rt.log.line("stack-stopped"));
}

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}
