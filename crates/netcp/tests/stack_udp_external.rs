//! External (inetd `wait`-style) UDP servers on Maynard's stack, against Linux on a TAP device
//! netcp made: a small program that answers from its standard input sees each Linux peer under
//! an address of its own and learns the real one from its environment; tftpd-hpa's `in.tftpd`,
//! a server no one here wrote, sends a file to curl's TFTP client from a transfer port of its
//! own; the service's access list still applies.
//!
//! Needs root (TAP), `ip` (iproute2), curl and tftpd-hpa; fails loudly without.

mod common;

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use common::stack_env::*;
use common::*;

const IN_TFTPD: &str = "/usr/sbin/in.tftpd";

/// Answers a datagram with who the program was told the peer is, and the datagram upper-cased.
const UPPER: &str = "import os, socket\n\
s = socket.socket(fileno=0)\n\
d, a = s.recvfrom(2048)\n\
who = os.environ['MAYNARD_PEER_ADDR'] + ':' + os.environ['MAYNARD_PEER_PORT']\n\
s.sendto(who.encode() + b' ' + d.upper(), a)\n";

fn services(ours: &str, barred: &str, upper: &str, root: &str, group: &str) -> String {
    format!(
        "[[service]]\nname = \"upper\"\nprogram = \"/usr/bin/python3\"\n\
         arguments = [\"{upper}\"]\n\
         port = 7007\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n\
         multicast = [\"{group}\"]\n\
         access = [\"reject {barred}\", \"accept 0/0\"]\n\
         [[service]]\nname = \"tftp\"\nprogram = \"{IN_TFTPD}\"\n\
         arguments = [\"--secure\", \"--timeout\", \"3\", \"{root}\"]\n\
         port = 69\nprotocols = [\"udp\"]\nlisten = [\"{ours}\"]\n"
    )
}

/// Sends `data` to `to` from `s` and returns the answer and its source (None: none in time).
fn exchange(s: &UdpSocket, to: &str, data: &[u8]) -> Option<(String, std::net::SocketAddr)> {
    s.send_to(data, to).unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = s.recv_from(&mut buf).ok()?;
    Some((String::from_utf8_lossy(&buf[..n]).into_owned(), from))
}

fn linux_udp(local: &str) -> UdpSocket {
    let s = UdpSocket::bind(format!("{local}:0")).expect("bind a Linux UDP socket");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

#[test]
fn external_udp_servers_serve_on_the_stack() {
    require_root();
    assert!(
        std::path::Path::new(IN_TFTPD).exists(),
        "{IN_TFTPD} is missing (install tftpd-hpa)"
    );
    let k = pid_tag();
    let tap = format!("mayx{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.125.{k}.1"), format!("100.125.{k}.2"));
    let barred = format!("100.125.{k}.9");
    let group = format!("239.125.{k}.7");

    // What TFTP serves: in.tftpd chroots there and reads as `nobody`.
    let files = TempDir::new("tftp-root");
    let data: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(files.join("boot.img"), &data).unwrap();
    sh_ok("chmod", &["755", files.0.to_str().unwrap()]);
    sh_ok("chmod", &["644", files.join("boot.img").to_str().unwrap()]);
    let scripts = TempDir::new("upper");
    let upper = scripts.join("upper.py");
    std::fs::write(&upper, UPPER).unwrap();

    let netcp = start_netcp_with(
        "stack-udp-external",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &services(
            &ours,
            &barred,
            upper.to_str().unwrap(),
            files.0.to_str().unwrap(),
            &group,
        ),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    sh_ok("ip", &["addr", "add", &format!("{barred}/24"), "dev", &tap]);
    let shown = netcp.netcu_ok(&["show", "services"]);
    assert!(!shown.contains("failed"), "{shown}\n{}", netcp.stderr());

    // Two peers, one program run each: each is answered from the service's address and port,
    // and the program's environment names the real peer, not the relay's loopback socket.
    let service = format!("{ours}:7007");
    for msg in ["first peer", "second peer"] {
        let s = linux_udp(&linux);
        let (answer, from) = exchange(&s, &service, msg.as_bytes())
            .unwrap_or_else(|| panic!("no answer to {msg:?}\n{}", netcp.stderr()));
        let me = s.local_addr().unwrap();
        assert_eq!(answer, format!("{me} {}", msg.to_uppercase()));
        assert_eq!(from.to_string(), service);
    }

    // The service's multicast group on the stack: a program run of its own answers, from the
    // unicast address.
    let m = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    m.bind(
        &format!("{linux}:0")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    m.set_multicast_if_v4(&linux.parse().unwrap()).unwrap();
    m.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let m: UdpSocket = m.into();
    let (answer, from) = exchange(&m, &format!("{group}:7007"), b"to the group")
        .unwrap_or_else(|| panic!("no answer to the group\n{}", netcp.stderr()));
    assert_eq!(answer, format!("{} TO THE GROUP", m.local_addr().unwrap()));
    assert_eq!(from.ip().to_string(), ours);

    // The access list judges the real peer.
    let b = linux_udp(&barred);
    b.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    assert!(exchange(&b, &service, b"let me in").is_none());
    let c = netcp.counters("upper");
    assert!(c[1].parse::<u64>().unwrap() >= 2, "accepted: {c:?}");
    assert!(c[2].parse::<u64>().unwrap() >= 1, "refused: {c:?}");

    // TFTP: in.tftpd reads the request from its standard input and sends the file from a
    // socket of its own, which the stack shows to curl as a port of its own.
    let got = files.join("got.img");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "--interface", &linux])
        .arg(format!("tftp://{ours}/boot.img"))
        .arg("-o")
        .arg(&got)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl tftp: {out:?}\n{}",
        netcp.stderr()
    );
    let back = std::fs::read(&got).unwrap();
    assert!(back == data, "{} bytes back of {}", back.len(), data.len());

    // A file that is not there: TFTP's error packet comes back through the relay (curl's exit
    // code 68 is CURLE_TFTP_NOTFOUND; its message is of no use, curl 7.88 reports a failed
    // getpeername on its unconnected socket).
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "15", "--interface", &linux])
        .arg(format!("tftp://{ours}/missing.img"))
        .output()
        .expect("run curl");
    assert_eq!(out.status.code(), Some(68), "{out:?}");

    // The runs are logged with the real peer.
    let log = netcp.stderr();
    assert!(log.contains("event=end service=upper proto=udp"), "{log}");
    assert!(log.contains(&format!("peer={linux}:")), "{log}");
}
