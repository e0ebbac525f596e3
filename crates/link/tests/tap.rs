//! TAP devices against Linux's own stack, each in a network namespace made by the test.

mod common;

use common::*;
use link::{
    Frame, Gso, GsoKind, Link, LinkKind, OffloadInfo, Offloads, PartialCsum, PcapWriter, TapConfig,
    TapLink, TsPrecision,
};
use std::net::{SocketAddrV4, UdpSocket};
use std::time::Duration;
use wire::{IpProtocol, PacketBuf, UdpPacket, UdpRepr};

/// Opens a TAP in `ns`, gives Linux's side 192.0.2.1/24 and brings it up.
fn tap_in(ns: &Netns, cfg: TapConfig) -> TapLink {
    let tap = ns.run(|| TapLink::open(&cfg)).expect("open TAP");
    assert_eq!(tap.name(), cfg.name);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", tap.name()]);
    ns.ip(&["link", "set", tap.name(), "up"]);
    tap
}

#[test]
fn tap_arp_and_ping_against_linux_with_capture() {
    let ns = Netns::new("mlk");
    let mut tap = tap_in(&ns, TapConfig::new(unique("mt")));
    assert_eq!(tap.kind(), LinkKind::Tap);
    assert_eq!(tap.mtu(), 1500);
    assert!(tap.is_up().unwrap());
    assert!(!tap.has_vnet_hdr());
    assert_eq!(tap.capabilities().rx, Offloads::NONE);
    assert!(tap.mac().is_unicast() && tap.mac().is_local());
    assert_ne!(
        tap.mac(),
        tap.host_mac().unwrap(),
        "the stack's MAC is not Linux's"
    );

    let mut seen = Vec::new();
    let linux_mac = resolve_linux(&mut tap, &mut seen);
    assert_eq!(linux_mac, tap.host_mac().unwrap());

    // A batch of 50 echo requests, all answered.
    let seqs = ping_linux(&mut tap, linux_mac, 50, &mut seen);
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
    let st = tap.stats();
    assert!(st.tx_frames >= 51, "{st:?}");
    assert!(st.rx_frames >= 51, "{st:?}");
    assert_eq!(st.rx_errors + st.tx_errors, 0, "{st:?}");
    // Linux learned us from the ARP request.
    let neigh = ns.ip(&["neigh", "show", "dev", tap.name()]);
    assert!(neigh.contains("192.0.2.2"), "{neigh}");

    // Everything received goes to a pcap file that tcpdump reads back.
    let dir = std::env::temp_dir().join(unique("mlkpcap"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tap.pcap");
    let mut w = PcapWriter::create(&path, TsPrecision::Micro).unwrap();
    for (i, f) in seen.iter().enumerate() {
        w.write(Duration::new(1_700_000_000 + i as u64, 0), f)
            .unwrap();
    }
    w.flush().unwrap();
    let text = tcpdump(&["-r", path.to_str().unwrap(), "-n", "-tt"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        text.contains("ARP, Reply 192.0.2.1 is-at"),
        "tcpdump output:\n{text}"
    );
    assert_eq!(
        text.matches("192.0.2.1 > 192.0.2.2: ICMP echo reply")
            .count(),
        50,
        "tcpdump output:\n{text}"
    );
}

#[test]
fn tap_configuration_mtu_mac_updown_persist() {
    let ns = Netns::new("mlk");
    let name = unique("mt");
    let host_mac = wire::EthernetAddress([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01]);
    let our_mac = wire::EthernetAddress([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    let mut cfg = TapConfig::new(name.clone());
    cfg.mtu = Some(9000);
    cfg.host_mac = Some(host_mac);
    cfg.mac = Some(our_mac);
    cfg.persistent = Some(true);
    let mut tap = ns.run(|| TapLink::open(&cfg)).expect("open TAP");
    assert_eq!(tap.mac(), our_mac);
    assert_eq!(tap.host_mac().unwrap(), host_mac);
    assert_eq!(tap.mtu(), 9000);
    assert_eq!(tap.capabilities().max_tx_frame, 9018);
    let show = ns.ip(&["link", "show", &name]);
    assert!(show.contains("mtu 9000"), "{show}");
    assert!(show.contains("02:aa:bb:cc:dd:01"), "{show}");
    assert!(show.contains(",UP"), "{show}");
    assert!(ns.ip(&["-d", "link", "show", &name]).contains("tap"));

    tap.set_carrier(false).unwrap();
    assert!(ns.ip(&["link", "show", &name]).contains("NO-CARRIER"));
    tap.set_carrier(true).unwrap();
    assert!(ns.ip(&["link", "show", &name]).contains("LOWER_UP"));

    tap.set_up(false).unwrap();
    assert!(!tap.is_up().unwrap());
    assert!(!ns.ip(&["link", "show", &name]).contains(",UP"));
    tap.set_mtu(1400).unwrap();
    assert_eq!(tap.mtu(), 1400);
    // Linux changes it behind our back; refresh sees it.
    ns.ip(&["link", "set", &name, "mtu", "1280"]);
    assert_eq!(tap.refresh_mtu().unwrap(), 1280);
    tap.set_up(true).unwrap();
    assert!(tap.ifindex().unwrap() > 0);

    // Persistent: the device outlives the descriptor; reopening attaches to it.
    drop(tap);
    assert!(ns.ip(&["link", "show", &name]).contains(&name));
    let mut again = TapConfig::new(name.clone());
    again.persistent = Some(false);
    let tap = ns.run(|| TapLink::open(&again)).expect("reattach");
    assert_eq!(tap.mtu(), 1280);
    drop(tap);
    let out = std::process::Command::new("ip")
        .args(["-n", &ns.name, "link", "show", &name])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a non-persistent TAP goes when closed"
    );
}

#[test]
fn tap_follows_an_mtu_raised_on_the_linux_side() {
    let ns = Netns::new("mlk");
    let mut tap = tap_in(&ns, TapConfig::new(unique("mt")));
    assert_eq!(tap.mtu(), 1500);
    ns.ip(&["link", "set", tap.name(), "mtu", "9000"]);
    ns.ip(&[
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        &tap.mac().to_string(),
        "dev",
        tap.name(),
    ]);
    let sock = ns.run(|| UdpSocket::bind("192.0.2.1:0").unwrap());
    let big = vec![0x33u8; 8000];
    let mut seen = Vec::new();
    let mut got = Vec::new();
    // The first jumbo frame does not fit the 1500-byte buffers and is lost (counted); the link
    // then reads the new MTU and the next ones arrive whole.
    for _ in 0..3 {
        sock.send_to(&big, SocketAddrV4::new(OUR_IP, 4243)).unwrap();
        got = collect(&mut tap, 1, Duration::from_secs(1), &mut seen, |f| {
            matches!(classify(f.as_slice()), Seen::Udp { dst_port: 4243, .. })
        });
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1, "a jumbo frame after the MTU change");
    assert_eq!(got[0].len(), 14 + 20 + 8 + 8000);
    assert_eq!(tap.mtu(), 9000);
    assert_eq!(tap.stats().rx_errors, 1);
}

#[test]
fn tap_multi_queue_reads_on_every_queue() {
    let ns = Netns::new("mlk");
    let mut cfg = TapConfig::new(unique("mq"));
    cfg.multi_queue = true;
    let q0 = tap_in(&ns, cfg);
    let q1 = q0.open_queue().expect("second queue");
    let mut q2 = q1.open_queue().expect("third queue");
    assert_eq!((q1.name(), q2.mac()), (q0.name(), q0.mac()));
    let show = ns.ip(&["-d", "link", "show", q0.name()]);
    assert!(show.contains("multi_queue"), "{show}");
    // The queues joined the device in its namespace, not a namesake in ours.
    let here = std::process::Command::new("ip")
        .args(["link", "show", q0.name()])
        .output()
        .unwrap();
    assert!(
        !here.status.success(),
        "a queue created a device outside the namespace"
    );
    let plain = ns
        .run(|| TapLink::open(&TapConfig::new(unique("mt"))))
        .unwrap();
    assert!(plain.open_queue().is_err(), "needs multi_queue");

    // Send on one queue, read on all: replies land wherever Linux's flow hash puts them.
    let mut queues = vec![q0, q1];
    let mac = q2.mac();
    send_all(
        &mut q2,
        vec![Frame::from_slice(&arp_request(mac, LINUX_IP))],
    );
    queues.push(q2);
    let linux_mac = q_collect(
        &mut queues,
        1,
        |s| matches!(s, Seen::Arp(a) if a.source_protocol_addr == LINUX_IP),
    )
    .into_iter()
    .find_map(|s| match s {
        Seen::Arp(a) => Some(a.source_hardware_addr),
        _ => None,
    })
    .expect("ARP reply on some queue");
    let frames: Vec<Frame> = (0..30u16)
        .map(|i| Frame::from_slice(&echo_request(mac, linux_mac, 0x1000 + i, i, b"mq")))
        .collect();
    send_all(&mut queues[0], frames);
    let replies = q_collect(&mut queues, 30, |s| matches!(s, Seen::EchoReply { .. }));
    assert_eq!(replies.len(), 30);
}

/// Reads all `queues` until `want` accepted `count` frames (5 s at most).
fn q_collect(queues: &mut [TapLink], count: usize, want: impl Fn(&Seen) -> bool) -> Vec<Seen> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.len() < count && std::time::Instant::now() < deadline {
        let mut any = false;
        for q in queues.iter_mut() {
            let mut out = Vec::new();
            if q.recv_batch(&mut out, 64).unwrap() > 0 {
                any = true;
            }
            got.extend(
                out.iter()
                    .map(|f| classify(f.as_slice()))
                    .filter(|s| want(s)),
            );
        }
        if !any {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    got
}

#[test]
fn tap_bad_names_are_refused() {
    for bad in ["", "0123456789abcdef", "a b", "x/y"] {
        let err = TapLink::open(&TapConfig::new(bad)).unwrap_err();
        assert!(matches!(err, link::Error::BadName(_)), "{bad:?}: {err}");
    }
}

#[test]
fn tap_vnet_header_offloads_both_ways() {
    let ns = Netns::new("mlk");
    let mut tap = tap_in(&ns, TapConfig::new(unique("mv")).with_offloads());
    assert!(tap.has_vnet_hdr());
    let caps = tap.capabilities();
    assert!(caps.rx.csum && caps.rx.tso4 && caps.tx.uso4, "{caps:?}");
    assert_eq!(caps.max_rx_frame, link::MAX_GSO_FRAME);

    // Plain frames cross with an all-zero header.
    let mut seen = Vec::new();
    let linux_mac = resolve_linux(&mut tap, &mut seen);
    assert_eq!(ping_linux(&mut tap, linux_mac, 10, &mut seen).len(), 10);

    // Linux → us: a UDP socket with UDP_SEGMENT sends 8 × 1000 bytes as one call; with USO on the
    // TAP it reaches us as one super-frame with a partial checksum.
    ns.ip(&[
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        &tap.mac().to_string(),
        "dev",
        tap.name(),
    ]);
    let (sender, receiver) = ns.run(|| {
        let s = UdpSocket::bind("192.0.2.1:0").unwrap();
        let r = UdpSocket::bind("192.0.2.1:9999").unwrap();
        (s, r)
    });
    let seg: libc::c_int = 1000;
    {
        use std::os::fd::AsRawFd;
        // SAFETY: setsockopt with a pointer to an int.
        let rc = unsafe {
            libc::setsockopt(
                sender.as_raw_fd(),
                libc::SOL_UDP,
                libc::UDP_SEGMENT,
                (&seg as *const libc::c_int).cast(),
                4,
            )
        };
        assert_eq!(rc, 0, "UDP_SEGMENT: {}", std::io::Error::last_os_error());
    }
    let payload: Vec<u8> = (0..8000u32).map(|i| (i % 251) as u8).collect();
    sender
        .send_to(&payload, SocketAddrV4::new(OUR_IP, 4242))
        .unwrap();
    let got = collect(&mut tap, 1, Duration::from_secs(5), &mut seen, |f| {
        matches!(classify(f.as_slice()), Seen::Udp { dst_port: 4242, .. })
    });
    let mut f = got.into_iter().next().expect("the UDP super-frame");
    assert_eq!(
        f.len(),
        14 + 20 + 8 + 8000,
        "one super-frame, not eight frames"
    );
    let gso = f.offload.gso.expect("a GSO super-frame");
    assert_eq!((gso.kind, gso.size), (GsoKind::UdpL4, 1000));
    assert_eq!(
        f.offload.partial_csum,
        Some(PartialCsum {
            start: 34,
            offset: 6
        })
    );
    // Complete the checksum in software: the super-frame then verifies as one datagram.
    let mut off = f.offload;
    off.complete_checksum(f.buf.as_mut_slice()).unwrap();
    let udp = UdpPacket::new_checked(&f.as_slice()[34..]).unwrap();
    assert!(UdpRepr::parse(&udp, LINUX_IP, OUR_IP).is_ok());
    assert_eq!(&f.as_slice()[42..], &payload[..]);

    // Us → Linux: one USO super-frame of 8 × 1000 bytes becomes eight datagrams at the socket.
    let src_port = 5555;
    let mut udp = vec![0u8; 8 + payload.len()];
    udp[8..].copy_from_slice(&payload);
    UdpRepr {
        src_port,
        dst_port: 9999,
        payload_len: payload.len(),
    }
    .emit_partial_checksum(
        &mut UdpPacket::new_unchecked(&mut udp[..]),
        OUR_IP,
        LINUX_IP,
    );
    let frame = ipv4_frame(tap.mac(), linux_mac, IpProtocol::Udp, &udp);
    let off = OffloadInfo {
        partial_csum: Some(PartialCsum {
            start: 34,
            offset: 6,
        }),
        csum_valid: false,
        gso: Some(Gso {
            kind: GsoKind::UdpL4,
            size: 1000,
            hdr_len: 42,
            ecn: false,
        }),
    };
    send_all(
        &mut tap,
        vec![Frame::with_offload(
            PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, &frame),
            off,
        )],
    );
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 65536];
    for _ in 0..8 {
        let (n, from) = receiver.recv_from(&mut buf).expect("a segment");
        assert_eq!(from.port(), src_port);
        assert_eq!(n, 1000, "segmented by Linux");
        all.extend_from_slice(&buf[..n]);
    }
    assert_eq!(all, payload);

    // A partial checksum alone (no GSO) is completed by Linux too.
    let mut small = vec![0u8; 8 + 5];
    small[8..].copy_from_slice(b"hello");
    UdpRepr {
        src_port,
        dst_port: 9999,
        payload_len: 5,
    }
    .emit_partial_checksum(
        &mut UdpPacket::new_unchecked(&mut small[..]),
        OUR_IP,
        LINUX_IP,
    );
    let frame = ipv4_frame(tap.mac(), linux_mac, IpProtocol::Udp, &small);
    let off = OffloadInfo {
        partial_csum: Some(PartialCsum {
            start: 34,
            offset: 6,
        }),
        ..Default::default()
    };
    send_all(
        &mut tap,
        vec![Frame::with_offload(
            PacketBuf::from_slice(PacketBuf::DEFAULT_HEADROOM, &frame),
            off,
        )],
    );
    let (n, _) = receiver.recv_from(&mut buf).expect("the small datagram");
    assert_eq!(&buf[..n], b"hello");

    // Turning offloads off: what arrives is plain again.
    assert_eq!(tap.set_offloads(Offloads::NONE).unwrap(), Offloads::NONE);
    assert_eq!(tap.stats().rx_errors, 0);
}

#[test]
fn tap_without_vnet_header_completes_checksums_and_refuses_superframes() {
    let ns = Netns::new("mlk");
    let mut tap = tap_in(&ns, TapConfig::new(unique("mt")));
    assert!(tap.set_offloads(Offloads::ALL).is_err());
    let mut seen = Vec::new();
    let linux_mac = resolve_linux(&mut tap, &mut seen);
    let receiver = ns.run(|| UdpSocket::bind("192.0.2.1:9998").unwrap());
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();

    let our_mac = tap.mac();
    let udp_frame = |data: &[u8]| {
        let mut udp = vec![0u8; 8 + data.len()];
        udp[8..].copy_from_slice(data);
        UdpRepr {
            src_port: 5556,
            dst_port: 9998,
            payload_len: data.len(),
        }
        .emit_partial_checksum(
            &mut UdpPacket::new_unchecked(&mut udp[..]),
            OUR_IP,
            LINUX_IP,
        );
        PacketBuf::from_slice(
            PacketBuf::DEFAULT_HEADROOM,
            &ipv4_frame(our_mac, linux_mac, IpProtocol::Udp, &udp),
        )
    };
    let partial = OffloadInfo {
        partial_csum: Some(PartialCsum {
            start: 34,
            offset: 6,
        }),
        ..Default::default()
    };
    let superframe = OffloadInfo {
        gso: Some(Gso {
            kind: GsoKind::UdpL4,
            size: 100,
            hdr_len: 42,
            ecn: false,
        }),
        ..partial
    };
    let before = tap.stats().tx_errors;
    send_all(
        &mut tap,
        vec![
            Frame::with_offload(udp_frame(&[7; 400]), superframe),
            Frame::with_offload(udp_frame(b"completed in software"), partial),
        ],
    );
    assert_eq!(
        tap.stats().tx_errors,
        before + 1,
        "the super-frame is dropped"
    );
    let mut buf = [0u8; 2048];
    let (n, _) = receiver.recv_from(&mut buf).expect("the datagram");
    assert_eq!(&buf[..n], b"completed in software");
}

/// Runs tcpdump; fails loudly when it is missing (install the Debian package `tcpdump`).
pub fn tcpdump(args: &[&str]) -> String {
    let out = std::process::Command::new("tcpdump")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("tcpdump is required by this test (apt-get install tcpdump): {e}")
        });
    assert!(
        out.status.success(),
        "tcpdump {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
