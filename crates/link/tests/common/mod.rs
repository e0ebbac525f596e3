//! Helpers for the link tests: network namespaces and veth pairs that clean up after themselves,
//! running code inside a namespace, and frames built with `wire`.
#![allow(dead_code)]

use link::{wait_readable, Frame, Link};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4OptionsBuf, Ipv4Packet, Ipv4Repr, PacketBuf,
};

pub const LINUX_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this process and call, at most 15 bytes: `{prefix}{pid}x{n}`.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let s = format!("{prefix}{}x{n}", std::process::id());
    assert!(s.len() < 16, "name {s} too long");
    s
}

/// Runs a command with a 20-second limit and panics (with its output) if it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("20")
        .arg(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}\n{}{}",
        out.status,
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `ip` inside a namespace.
pub fn ip_in(ns: &str, args: &[&str]) -> String {
    let mut a = vec!["-n", ns];
    a.extend_from_slice(args);
    run("ip", &a)
}

/// A network namespace, deleted (with everything in it) when dropped.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(prefix: &str) -> Netns {
        let name = unique(prefix);
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ip_in(&ns.name, &["link", "set", "lo", "up"]);
        // Keep IPv6 chatter (router solicitations, MLD) off the links under test.
        run(
            "ip",
            &[
                "netns",
                "exec",
                &ns.name,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
            ],
        );
        run(
            "ip",
            &[
                "netns",
                "exec",
                &ns.name,
                "sysctl",
                "-qw",
                "net.ipv6.conf.default.disable_ipv6=1",
            ],
        );
        ns
    }

    pub fn ip(&self, args: &[&str]) -> String {
        ip_in(&self.name, args)
    }

    /// Runs `f` on a thread that has entered this namespace; descriptors it opens (TAP devices,
    /// sockets) stay in the namespace afterwards.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = self.path();
        std::thread::scope(|s| {
            s.spawn(|| {
                enter(&path);
                f()
            })
            .join()
            .expect("thread in the namespace panicked")
        })
    }

    /// Runs `f` in the background on a new thread that has entered this namespace (Linux's
    /// side of a test while the test's own thread drives the other side).
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = self.path();
        std::thread::spawn(move || {
            enter(&path);
            f()
        })
    }

    fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }
}

/// Moves the calling thread into the network namespace at `path`.
fn enter(path: &str) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a namespace descriptor; affects only this thread.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("timeout")
            .args(["20", "ip", "netns", "del", &self.name])
            .status();
    }
}

/// An ARP request from us for `target`, padded to 60 bytes.
pub fn arp_request(our_mac: EthernetAddress, target: Ipv4Addr) -> Vec<u8> {
    let arp = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: our_mac,
        source_protocol_addr: OUR_IP,
        target_hardware_addr: EthernetAddress::UNSPECIFIED,
        target_protocol_addr: target,
    };
    eth_frame(our_mac, EthernetAddress::BROADCAST, EtherType::Arp, |b| {
        let mut v = vec![0; arp.buffer_len()];
        arp.emit(&mut ArpPacket::new_unchecked(&mut v[..]));
        b.extend_from_slice(&v);
    })
}

/// An ARP reply from us (at `OUR_IP`) to a request.
pub fn arp_reply(our_mac: EthernetAddress, req: &ArpRepr) -> Vec<u8> {
    let arp = ArpRepr {
        operation: ArpOperation::Reply,
        source_hardware_addr: our_mac,
        source_protocol_addr: OUR_IP,
        target_hardware_addr: req.source_hardware_addr,
        target_protocol_addr: req.source_protocol_addr,
    };
    eth_frame(our_mac, req.source_hardware_addr, EtherType::Arp, |b| {
        let mut v = vec![0; arp.buffer_len()];
        arp.emit(&mut ArpPacket::new_unchecked(&mut v[..]));
        b.extend_from_slice(&v);
    })
}

fn eth_frame(
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: EtherType,
    body: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let eth = EthernetRepr {
        dst_addr: dst,
        src_addr: src,
        ethertype,
    };
    let mut b = vec![0u8; 14];
    eth.emit(&mut EthernetFrame::new_unchecked(&mut b[..]));
    body(&mut b);
    if b.len() < 60 {
        b.resize(60, 0);
    }
    b
}

/// An IPv4 datagram (header + `payload`) from us to Linux in an Ethernet frame.
pub fn ipv4_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    protocol: IpProtocol,
    payload: &[u8],
) -> Vec<u8> {
    let mut pkt = PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, payload);
    let ip = Ipv4Repr {
        src_addr: OUR_IP,
        dst_addr: LINUX_IP,
        protocol,
        payload_len: payload.len(),
        ttl: 64,
        tos: 0,
        ident: 7,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionsBuf::new(),
    };
    pkt.prepend(ip.buffer_len()).unwrap();
    ip.emit(&mut Ipv4Packet::new_unchecked(pkt.as_mut_slice()));
    let eth = EthernetRepr {
        dst_addr: dst_mac,
        src_addr: src_mac,
        ethertype: EtherType::Ipv4,
    };
    pkt.prepend(14).unwrap();
    eth.emit(&mut EthernetFrame::new_unchecked(pkt.as_mut_slice()));
    if pkt.len() < 60 {
        pkt.append(60 - pkt.len());
    }
    pkt.to_vec()
}

/// An ICMP echo request from us to Linux.
pub fn echo_request(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    ident: u16,
    seq_no: u16,
    data: &[u8],
) -> Vec<u8> {
    let icmp = Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let mut v = vec![0; icmp.buffer_len()];
    icmp.emit(&mut Icmpv4Packet::new_unchecked(&mut v[..]));
    ipv4_frame(src_mac, dst_mac, IpProtocol::Icmp, &v)
}

/// What a received frame is, as far as these tests care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Arp(ArpRepr),
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: Vec<u8>,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        len: usize,
    },
    Other,
}

pub fn classify(frame: &[u8]) -> Seen {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return Seen::Other;
    };
    match eth.ethertype() {
        EtherType::Arp => match ArpRepr::parse(&ArpPacket::new_unchecked(eth.payload())) {
            Ok(a) => Seen::Arp(a),
            Err(_) => Seen::Other,
        },
        EtherType::Ipv4 => {
            let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                return Seen::Other;
            };
            let hl = ip.header_len();
            let total = usize::from(ip.total_len());
            let Some(body) = eth.payload().get(hl..total) else {
                return Seen::Other;
            };
            match ip.protocol() {
                IpProtocol::Icmp => {
                    let Ok(p) = Icmpv4Packet::new_checked(body) else {
                        return Seen::Other;
                    };
                    match Icmpv4Repr::parse(&p) {
                        Ok(Icmpv4Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        }) => Seen::EchoReply {
                            ident,
                            seq_no,
                            data: data.to_vec(),
                        },
                        _ => Seen::Other,
                    }
                }
                IpProtocol::Udp if body.len() >= 8 => Seen::Udp {
                    src_port: u16::from_be_bytes([body[0], body[1]]),
                    dst_port: u16::from_be_bytes([body[2], body[3]]),
                    len: body.len(),
                },
                _ => Seen::Other,
            }
        }
        _ => Seen::Other,
    }
}

/// Receives until `want` has accepted `count` frames or `timeout` passes, answering Linux's ARP
/// requests for `OUR_IP` on the way. Returns the accepted frames; every frame seen goes to `seen`.
pub fn collect<L: Link>(
    link: &mut L,
    count: usize,
    timeout: Duration,
    seen: &mut Vec<Frame>,
    mut want: impl FnMut(&Frame) -> bool,
) -> Vec<Frame> {
    let fd = link.raw_fd().expect("an OS link");
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while got.len() < count {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let _ = wait_readable(fd, Some((deadline - now).min(Duration::from_millis(200))));
        let mut batch = Vec::new();
        link.recv_batch(&mut batch, 64).expect("recv_batch");
        for f in batch {
            if let Seen::Arp(a) = classify(f.as_slice()) {
                if a.operation == ArpOperation::Request && a.target_protocol_addr == OUR_IP {
                    let mut q = VecDeque::from([Frame::from_slice(&arp_reply(link.mac(), &a))]);
                    link.send_batch(&mut q).expect("send ARP reply");
                }
            }
            if want(&f) {
                got.push(f.clone());
            }
            seen.push(f);
        }
    }
    got
}

/// Sends every frame, waiting (bounded) while the link would block.
pub fn send_all<L: Link>(link: &mut L, frames: Vec<Frame>) {
    let mut q: VecDeque<Frame> = frames.into();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !q.is_empty() {
        link.send_batch(&mut q).expect("send_batch");
        if !q.is_empty() {
            assert!(Instant::now() < deadline, "link stayed blocked");
            let _ = link::wait_writable(link.raw_fd().unwrap(), Some(Duration::from_millis(100)));
        }
    }
}

/// Resolves Linux's address over `link` with a real ARP exchange; returns Linux's MAC.
pub fn resolve_linux<L: Link>(link: &mut L, seen: &mut Vec<Frame>) -> EthernetAddress {
    let mac = link.mac();
    for _ in 0..3 {
        send_all(link, vec![Frame::from_slice(&arp_request(mac, LINUX_IP))]);
        let replies = collect(link, 1, Duration::from_secs(2), seen, |f| {
            matches!(classify(f.as_slice()), Seen::Arp(a)
                if a.operation == ArpOperation::Reply && a.source_protocol_addr == LINUX_IP
                    && a.target_hardware_addr == mac)
        });
        if let Some(f) = replies.first() {
            if let Seen::Arp(a) = classify(f.as_slice()) {
                return a.source_hardware_addr;
            }
        }
    }
    panic!("no ARP reply from Linux for {LINUX_IP}");
}

/// Pings Linux `n` times in one batch and returns the sequence numbers answered.
pub fn ping_linux<L: Link>(
    link: &mut L,
    linux_mac: EthernetAddress,
    n: u16,
    seen: &mut Vec<Frame>,
) -> Vec<u16> {
    let ident = (std::process::id() & 0xffff) as u16;
    let mac = link.mac();
    let frames = (0..n)
        .map(|seq| {
            Frame::from_slice(&echo_request(
                mac,
                linux_mac,
                ident,
                seq,
                b"maynard link test",
            ))
        })
        .collect();
    send_all(link, frames);
    let replies = collect(link, n as usize, Duration::from_secs(5), seen, |f| {
        matches!(classify(f.as_slice()), Seen::EchoReply { ident: i, ref data, .. }
            if i == ident && data == b"maynard link test")
    });
    let mut seqs: Vec<u16> = replies
        .iter()
        .filter_map(|f| match classify(f.as_slice()) {
            Seen::EchoReply { seq_no, .. } => Some(seq_no),
            _ => None,
        })
        .collect();
    seqs.sort_unstable();
    seqs
}
