//! The stack's TCP against Linux's, over a TAP device in a network namespace the test makes:
//! Maynard (192.0.2.2) connects to a Linux server and sends 4 MB, and a Linux client sends 2 MB
//! through an echo server on the stack; both with and without virtio-net offloads (TSO
//! super-segments out, GRO'd frames and verified checksums in).

#[path = "../../link/tests/common/mod.rs"]
mod common;

use common::{unique, Netns, LINUX_IP, OUR_IP};
use link::{Frame, Gso, GsoKind, Link, OffloadInfo, PartialCsum, TapConfig, TapLink};
use stack::{
    IfaceId, IfaceOffloads, Instant, LinkContext, LinkSpec, PacketBuf, RxMeta, Stack, StackConfig,
    StackEvent, TcpError, TcpHandle, TsoMeta, XorShiftRng,
};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

/// Frames for the TAP, with their offload state.
#[derive(Default)]
struct Out {
    q: VecDeque<Frame>,
}

impl LinkContext for Out {
    fn send_frame(&mut self, _iface: IfaceId, frame: PacketBuf) {
        self.q.push_back(Frame::new(frame));
    }

    fn send_tso(&mut self, _iface: IfaceId, frame: PacketBuf, tso: TsoMeta) {
        let off = OffloadInfo {
            partial_csum: Some(PartialCsum {
                start: tso.l4_offset,
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
        self.q.push_back(Frame::with_offload(frame, off));
    }
}

struct Rig {
    ns: Netns,
    tap: TapLink,
    st: Stack,
    se0: IfaceId,
    out: Out,
    start: std::time::Instant,
    /// Per mille of frames dropped each way (our own loss, for recovery on both sides).
    loss: u32,
    rng: XorShiftRng,
}

impl Rig {
    fn new(offloads: bool, loss: u32) -> Rig {
        let ns = Netns::new("mtcp");
        let mut cfg = TapConfig::new(unique("mt"));
        if offloads {
            cfg = cfg.with_offloads();
        }
        let tap = ns.run(|| TapLink::open(&cfg)).expect("open TAP");
        ns.ip(&["addr", "add", "192.0.2.1/24", "dev", tap.name()]);
        ns.ip(&["link", "set", tap.name(), "up"]);
        let mut st = Stack::new(StackConfig::default(), Box::new(XorShiftRng::new(77)));
        let now = Instant::ZERO;
        let se0 = st
            .create_interface("se0", LinkSpec::Ethernet(tap.mac()), now)
            .unwrap();
        let mut out = Out::default();
        st.set_address(&mut out, se0, OUR_IP, 24, now).unwrap();
        st.set_up(&mut out, se0, true, now).unwrap();
        st.set_link_running(se0, true, now).unwrap();
        if offloads {
            st.set_offloads(
                se0,
                IfaceOffloads {
                    tso: true,
                    rx_csum_trusted: false,
                },
            );
        }
        Rig {
            ns,
            tap,
            st,
            se0,
            out,
            start: std::time::Instant::now(),
            loss,
            rng: XorShiftRng::new(5),
        }
    }

    fn lost(&mut self) -> bool {
        use stack::Rng;
        self.loss > 0 && self.rng.below(1000) < self.loss
    }

    fn now(&self) -> Instant {
        Instant::from_nanos(self.start.elapsed().as_nanos() as u64)
    }

    /// Moves frames both ways and runs timers, waiting up to 1 ms for the TAP.
    fn pump(&mut self) {
        let _ = link::wait_readable(
            std::os::fd::AsRawFd::as_raw_fd(&self.tap),
            Some(Duration::from_millis(1)),
        );
        let mut frames = Vec::new();
        let _ = self.tap.recv_batch(&mut frames, 256);
        let now = self.now();
        for mut f in frames {
            if self.lost() {
                continue;
            }
            let meta = RxMeta {
                csum_verified: f.offload.csum_valid,
            };
            if f.offload.partial_csum.is_some() {
                // Linux left the checksum to the device: complete it (a real NIC's job).
                let mut o = f.offload;
                if o.complete_checksum(f.buf.as_mut_slice()).is_err() {
                    continue;
                }
            }
            self.st
                .receive_with_meta(&mut self.out, self.se0, f.buf, meta, now);
        }
        if self.st.poll_at().is_some_and(|t| t <= now) {
            self.st.on_timer(&mut self.out, now);
        }
        if self.loss > 0 {
            let q = std::mem::take(&mut self.out.q);
            for f in q {
                if !self.lost() {
                    self.out.q.push_back(f);
                }
            }
        }
        while !self.out.q.is_empty() {
            match self.tap.send_batch(&mut self.out.q) {
                Ok(0) => {
                    let _ = link::wait_writable(
                        std::os::fd::AsRawFd::as_raw_fd(&self.tap),
                        Some(Duration::from_millis(5)),
                    );
                }
                Ok(_) => {}
                Err(e) => panic!("TAP send: {e}"),
            }
        }
        self.st
            .take_events()
            .retain(|e| matches!(e, StackEvent::Tcp(_)));
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn stack_to_linux(offloads: bool, loss: u32) {
    let mut rig = Rig::new(offloads, loss);
    let listener: TcpListener = rig
        .ns
        .run(|| TcpListener::bind("192.0.2.1:5001"))
        .expect("bind in the namespace");
    // MAYNARD_TCP_BYTES makes it a throughput measurement (`--release --nocapture`).
    let bytes = std::env::var("MAYNARD_TCP_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4 << 20);
    let data = pattern(bytes);
    let expect = data.clone();
    let t0 = std::time::Instant::now();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), expect.len());
        assert!(got == expect, "the bytes Linux received differ");
        s.write_all(b"thanks").unwrap();
    });
    let now = rig.now();
    let c = rig
        .st
        .tcp_connect(&mut rig.out, SocketAddrV4::new(LINUX_IP, 5001), None, now)
        .unwrap();
    let mut sent = 0;
    let mut shut = false;
    let mut reply = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 64];
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            rig.st.tcp_info(c)
        );
        rig.pump();
        let now = rig.now();
        if rig.st.tcp_poll(c).connected {
            while sent < data.len() {
                match rig.st.tcp_send(&mut rig.out, c, &data[sent..], now) {
                    Ok(n) => sent += n,
                    Err(TcpError::WouldBlock) => break,
                    Err(e) => panic!("send: {e}"),
                }
            }
            if sent == data.len() && !shut {
                rig.st.tcp_shutdown_write(&mut rig.out, c, now).unwrap();
                shut = true;
            }
        }
        match rig.st.tcp_recv(&mut rig.out, c, &mut buf, now) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(TcpError::WouldBlock) => {}
            Err(e) => panic!("recv: {e}"),
        }
    }
    assert_eq!(reply, b"thanks");
    server.join().unwrap();
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "stack to Linux, offloads {offloads}: {} bytes in {dt:.3} s, {:.2} Gbit/s",
        data.len(),
        data.len() as f64 * 8.0 / dt / 1e9
    );
    let info = rig.st.tcp_info(c).unwrap();
    assert!(info.mss >= 1400, "{info:?}");
    // With TSO only a few dozen frames carry the data: a drop may miss them all.
    if loss > 0 && !offloads {
        assert!(info.retransmits > 0, "{info:?}");
        println!("{info:?}\n{:?}", rig.st.tcp_stats());
    }
    let now = rig.now();
    rig.st.tcp_close(&mut rig.out, c, now);
    rig.pump();
}

fn linux_to_stack_echo(offloads: bool, loss: u32) {
    let mut rig = Rig::new(offloads, loss);
    let l = rig.st.tcp_listen(SocketAddrV4::new(OUR_IP, 7), 8).unwrap();
    let data = pattern(2 << 20);
    let expect = data.clone();
    let stream: TcpStream = {
        // Connect from inside the namespace while the stack answers: the connect blocks, so it
        // runs on its own thread, which returns the connected socket.
        let (tx, rx) = std::sync::mpsc::channel();
        rig.ns
            .spawn(move || tx.send(TcpStream::connect("192.0.2.2:7")).unwrap());
        let mut s = None;
        for _ in 0..5000 {
            rig.pump();
            if let Ok(r) = rx.try_recv() {
                s = Some(r.expect("connect to the stack"));
                break;
            }
        }
        s.expect("connected")
    };
    let client = std::thread::spawn(move || {
        let mut w = stream.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.shutdown(std::net::Shutdown::Write).unwrap();
        });
        let mut s = stream;
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(got.len(), expect.len());
        assert!(got == expect, "the echo differs");
    });
    let mut conn: Option<TcpHandle> = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut eof = false;
    let mut buf = vec![0u8; 65536];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !client.is_finished() {
        assert!(std::time::Instant::now() < deadline);
        rig.pump();
        let now = rig.now();
        if conn.is_none() {
            conn = rig.st.tcp_accept(l).ok().map(|(c, _)| c);
        }
        let Some(c) = conn else { continue };
        loop {
            match rig.st.tcp_recv(&mut rig.out, c, &mut buf, now) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(TcpError::WouldBlock) => break,
                Err(e) => panic!("recv: {e}"),
            }
            if pending.len() > 1 << 20 {
                break;
            }
        }
        while !pending.is_empty() {
            match rig.st.tcp_send(&mut rig.out, c, &pending, now) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(TcpError::WouldBlock) => break,
                Err(e) => panic!("send: {e}"),
            }
        }
        if eof && pending.is_empty() {
            rig.st.tcp_close(&mut rig.out, c, now);
            conn = None;
            eof = false;
        }
    }
    client.join().unwrap();
}

#[test]
fn stack_sends_to_linux() {
    stack_to_linux(false, 0);
}

#[test]
fn stack_sends_to_linux_with_tso() {
    stack_to_linux(true, 0);
}

#[test]
fn linux_through_echo_on_the_stack() {
    linux_to_stack_echo(false, 0);
}

#[test]
fn linux_through_echo_on_the_stack_with_offloads() {
    linux_to_stack_echo(true, 0);
}

#[test]
fn lossy_both_ways() {
    // 1 % of frames dropped in each direction: SACK recovery on our side and on Linux's.
    stack_to_linux(false, 10);
    linux_to_stack_echo(false, 10);
}

#[test]
fn lossy_with_offloads() {
    // A dropped super-frame loses many segments at once.
    stack_to_linux(true, 10);
    linux_to_stack_echo(true, 10);
}

#[test]
fn many_short_connections_from_linux() {
    // 300 connections one after another, 8 at a time: connect, a line, its echo, close. Slots,
    // ports and the accept queue are reused; Linux closes first half the time.
    let mut rig = Rig::new(false, 0);
    let l = rig.st.tcp_listen(SocketAddrV4::new(OUR_IP, 7), 64).unwrap();
    let client = rig.ns.spawn(move || {
        std::thread::scope(|sc| {
            for t in 0..8 {
                sc.spawn(move || {
                    for i in 0..300 / 8 {
                        let mut s = TcpStream::connect("192.0.2.2:7").expect("connect");
                        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                        let line = format!("hello {t} {i}\n");
                        s.write_all(line.as_bytes()).unwrap();
                        let mut got = vec![0u8; line.len()];
                        s.read_exact(&mut got).unwrap();
                        assert_eq!(got, line.as_bytes());
                        if i % 2 == 0 {
                            drop(s);
                        } else {
                            s.shutdown(std::net::Shutdown::Write).unwrap();
                            let mut rest = Vec::new();
                            s.read_to_end(&mut rest).unwrap();
                            assert!(rest.is_empty());
                        }
                    }
                });
            }
        });
    });
    let mut conns: Vec<TcpHandle> = Vec::new();
    let mut served = 0;
    let mut buf = [0u8; 256];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !client.is_finished() {
        assert!(std::time::Instant::now() < deadline, "{served} served");
        rig.pump();
        let now = rig.now();
        while let Ok((c, _)) = rig.st.tcp_accept(l) {
            conns.push(c);
        }
        conns.retain(|&c| loop {
            match rig.st.tcp_recv(&mut rig.out, c, &mut buf, now) {
                Ok(0) | Err(TcpError::ConnectionReset) => {
                    rig.st.tcp_close(&mut rig.out, c, now);
                    served += 1;
                    return false;
                }
                Ok(n) => {
                    rig.st.tcp_send(&mut rig.out, c, &buf[..n], now).unwrap();
                }
                Err(TcpError::WouldBlock) => return true,
                Err(e) => panic!("recv: {e}"),
            }
        });
    }
    client.join().unwrap();
    assert_eq!(served + conns.len(), 296);
    let st = rig.st.tcp_stats();
    assert_eq!(st.passive_opens, 296, "{st:?}");
    assert_eq!(st.attempt_fails, 0, "{st:?}");
}

#[test]
fn many_short_connections_to_linux() {
    // The stack opens 200 connections to a Linux echo server, 8 at a time, and closes first:
    // ephemeral ports and our TIME-WAIT table.
    let mut rig = Rig::new(false, 0);
    let listener: TcpListener = rig
        .ns
        .run(|| TcpListener::bind("192.0.2.1:7"))
        .expect("bind in the namespace");
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { break };
            std::thread::spawn(move || {
                let mut b = [0u8; 256];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 || s.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let mut live: Vec<(TcpHandle, Vec<u8>)> = Vec::new();
    let mut opened = 0;
    let mut done = 0;
    let mut buf = [0u8; 64];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while done < 200 {
        assert!(std::time::Instant::now() < deadline, "{done} done");
        rig.pump();
        let now = rig.now();
        while live.len() < 8 && opened < 200 {
            let c = rig
                .st
                .tcp_connect(&mut rig.out, SocketAddrV4::new(LINUX_IP, 7), None, now)
                .unwrap();
            live.push((c, Vec::new()));
            opened += 1;
        }
        live.retain_mut(|(c, got)| {
            let p = rig.st.tcp_poll(*c);
            assert_eq!(p.error, None);
            if !p.connected {
                return true;
            }
            if got.is_empty() && rig.st.tcp_info(*c).unwrap().bytes_sent == 0 {
                rig.st.tcp_send(&mut rig.out, *c, b"ping", now).unwrap();
            }
            if let Ok(n) = rig.st.tcp_recv(&mut rig.out, *c, &mut buf, now) {
                got.extend_from_slice(&buf[..n]);
            }
            if got.as_slice() == b"ping" {
                rig.st.tcp_close(&mut rig.out, *c, now);
                done += 1;
                return false;
            }
            true
        });
    }
    for _ in 0..50 {
        rig.pump();
    }
    let rows = rig.st.tcp_connections();
    let tw = rows
        .iter()
        .filter(|r| r.state == stack::TcpState::TimeWait)
        .count();
    assert!(
        tw > 150,
        "our closes end in TIME-WAIT: {tw} of {}",
        rows.len()
    );
    let st = rig.st.tcp_stats();
    assert_eq!((st.active_opens, st.attempt_fails), (200, 0), "{st:?}");
}

/// A Linux client that gets a SYN cookie keeps window scaling (carried, with SACK-permitted, in
/// the timestamp echo): a spoofed SYN (hping3, from an address nobody answers ARP for) holds
/// the listener's only backlog slot half open, so Linux's connect is answered with a cookie;
/// `ss -ti` on the Linux side then shows the scaled window, and 256 KiB arrive.
#[test]
fn a_syn_cookie_connection_keeps_its_options_with_linux() {
    let mut rig = Rig::new(false, 0);
    let l = rig.st.tcp_listen(SocketAddrV4::new(OUR_IP, 7), 1).unwrap();
    // The spoofed SYN: its SYN-ACK waits for an ARP answer that never comes. hping3 runs in
    // the background (it waits for answers that cannot come) while the stack answers Linux's
    // ARP for 192.0.2.2, which lets the SYN out.
    let mut hping = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &rig.ns.name,
            "hping3",
            "-q",
            "-S",
            "-p",
            "7",
            "-c",
            "1",
        ])
        .args(["-a", "192.0.2.77", "192.0.2.2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("hping3 (scripts/test installs it)");
    let held = std::time::Instant::now() + Duration::from_secs(10);
    let half_open = |st: &Stack| {
        st.tcp_connections()
            .iter()
            .any(|i| i.state == stack::TcpState::SynReceived)
    };
    while !half_open(&rig.st) && std::time::Instant::now() < held {
        rig.pump();
    }
    assert!(half_open(&rig.st), "the spoofed SYN never arrived");
    let _ = hping.kill();
    let _ = hping.wait();
    let (tx, rx) = std::sync::mpsc::channel();
    rig.ns.spawn(move || {
        let r = TcpStream::connect("192.0.2.2:7").and_then(|mut s| {
            s.write_all(&pattern(256 << 10))?;
            Ok(s)
        });
        tx.send(r).unwrap();
    });
    let mut client = None;
    let mut conn = None;
    let mut got = 0usize;
    let mut buf = vec![0u8; 65536];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got < 256 << 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {got} bytes arrived"
        );
        rig.pump();
        if client.is_none() {
            if let Ok(r) = rx.try_recv() {
                client = Some(r.expect("connect to the stack and write"));
            }
        }
        if conn.is_none() {
            conn = rig.st.tcp_accept(l).ok().map(|(c, _)| c);
        }
        if let Some(c) = conn {
            let now = rig.now();
            while let Ok(n) = rig.st.tcp_recv(&mut rig.out, c, &mut buf, now) {
                if n == 0 {
                    break;
                }
                got += n;
            }
        }
    }
    assert_eq!(
        rig.st.tcp_stats().syn_cookies_accepted,
        1,
        "the cookie path was taken"
    );
    let ss = common::run(
        "ip",
        &[
            "netns",
            "exec",
            &rig.ns.name,
            "ss",
            "-tin",
            "dst",
            "192.0.2.2:7",
        ],
    );
    assert!(ss.contains("ESTAB"), "{ss}");
    // Linux's view: our window scale (7 for the default 4 MiB buffer) as its send scale, and a
    // send window past 64 KiB, which only a scaled window can be. (The window scale reaches a
    // cookie connection only through the timestamp echo, so this also shows timestamps on;
    // this `ss` does not print the ts and sack flags, even for Linux to Linux.)
    assert!(
        ss.contains("wscale:7,"),
        "no window scaling on the cookie connection:\n{ss}"
    );
    let snd_wnd: u64 = ss
        .split_whitespace()
        .find_map(|w| w.strip_prefix("snd_wnd:"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no snd_wnd in:\n{ss}"));
    assert!(snd_wnd > 65535, "an unscaled window of {snd_wnd}:\n{ss}");
    drop(client);
}
