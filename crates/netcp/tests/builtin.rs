//! The built-in services against real clients: std sockets and netcat-openbsd, IPv4 and IPv6,
//! TCP and UDP; finger against Debian's finger client.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;

fn small_services(ports: &[(&str, u16)]) -> String {
    let mut s = String::from(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n[defaults]\nlisten = [\"127.0.0.1\", \"::1\"]\n",
    );
    for (name, port) in ports {
        s.push_str(&format!(
            "\n[[service]]\nname = \"{name}\"\nbuiltin = \"{name}\"\nport = {port}\n"
        ));
    }
    s
}

#[test]
fn small_services_over_tcp_and_udp_ipv4_and_ipv6() {
    let names = ["echo", "discard", "chargen", "qotd", "daytime", "time"];
    let ports: Vec<(&str, u16)> = names.iter().map(|n| (*n, free_port())).collect();
    let netcp = Netcp::start("small", &small_services(&ports));
    let port = |n: &str| ports.iter().find(|p| p.0 == n).unwrap().1;
    for host in ["127.0.0.1", "::1"] {
        let at = |n: &str| SocketAddr::new(host.parse().unwrap(), port(n));
        // echo (RFC 862)
        let mut s = connect(at("echo"));
        assert_eq!(
            echo_round(&mut s, b"hello, maynard\r\n"),
            b"hello, maynard\r\n"
        );
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut writer = s.try_clone().unwrap();
        let sent = big.clone();
        let t = std::thread::spawn(move || writer.write_all(&sent).unwrap());
        let mut back = vec![0u8; big.len()];
        s.read_exact(&mut back).unwrap();
        t.join().unwrap();
        assert_eq!(back, big);
        assert_eq!(udp_ask(at("echo"), b"datagram"), b"datagram");
        // discard (RFC 863): takes anything, answers nothing
        let mut s = connect(at("discard"));
        s.write_all(&[7u8; 10_000]).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        // chargen (RFC 864): 72 printable characters and CRLF per line, each line shifted by one
        let mut s = connect(at("chargen"));
        let mut buf = vec![0u8; 74 * 3];
        s.read_exact(&mut buf).unwrap();
        let lines: Vec<&[u8]> = buf.chunks(74).collect();
        for l in &lines {
            assert_eq!(&l[72..], b"\r\n");
            assert!(l[..72].iter().all(|c| (32..127).contains(c)));
        }
        assert_eq!(lines[0][1], lines[1][0]);
        assert!(udp_ask(at("chargen"), b"x")
            .iter()
            .all(|c| (32..127).contains(c) || *c == b'\r' || *c == b'\n'));
        // qotd (RFC 865)
        let q = read_all(at("qotd"));
        assert!(!q.is_empty() && q.len() <= 512, "{q:?}");
        assert!(!udp_ask(at("qotd"), b"").is_empty());
        // daytime (RFC 867)
        let d = String::from_utf8(read_all(at("daytime"))).unwrap();
        let year = 1970
            + SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                / 31_556_952;
        assert!(
            d.contains(&year.to_string()) || d.contains(&(year + 1).to_string()),
            "{d}"
        );
        assert!(String::from_utf8(udp_ask(at("daytime"), b""))
            .unwrap()
            .ends_with("\r\n"));
        // time (RFC 868): seconds since 1900
        let t = read_all(at("time"));
        assert_eq!(t.len(), 4);
        let secs = u32::from_be_bytes([t[0], t[1], t[2], t[3]]) as i64;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + 2_208_988_800;
        assert!((secs - (now & 0xffff_ffff)).abs() < 5, "{secs} vs {now}");
        assert_eq!(udp_ask(at("time"), b"").len(), 4);
    }
    let log = netcp.wait_log("netcp.log", "event=end service=echo");
    assert!(log.contains("event=accept service=echo proto=tcp"), "{log}");
    assert!(log.contains("peer=[::1]:"), "{log}");
    assert!(
        log.contains("event=datagram service=time proto=udp"),
        "{log}"
    );
}

#[test]
fn netcat_is_served_over_tcp_and_udp() {
    let echo = free_port();
    let daytime = free_port();
    let netcp = Netcp::start(
        "nc",
        &small_services(&[("echo", echo), ("daytime", daytime)]),
    );
    let out = run(Command::new("sh").arg("-c").arg(format!(
        "printf 'through netcat\\n' | nc -N 127.0.0.1 {echo}"
    )));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "through netcat\n",
        "{out:?}"
    );
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!("printf 'v6\\n' | nc -N ::1 {echo}")));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "v6\n", "{out:?}");
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!("printf 'udp\\n' | nc -u -w1 127.0.0.1 {echo}")));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "udp\n", "{out:?}");
    let out = run(Command::new("nc").args(["-d", "127.0.0.1", &daytime.to_string()]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("UTC"),
        "{out:?}"
    );
    let counters = netcp.netcu_ok(&["show", "counters", "echo"]);
    assert!(
        counters
            .lines()
            .any(|l| l.starts_with("echo") && l.split_whitespace().nth(1) == Some("3")),
        "{counters}"
    );
}

#[test]
fn finger_answers_the_debian_client() {
    // The finger client always uses port 79: give this test an address of its own on loopback.
    let dir = TempDir::new("finger-passwd");
    let passwd = dir.join("passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\n\
         alice:x:1001:1001:Alice Example,Room 7,,:/home/alice:/bin/bash\n\
         bob:x:1002:1002:Bob Builder:/home/bob:/bin/sh\n",
    )
    .unwrap();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [finger]\npasswd_file = \"{}\"\nutmp_file = \"{}\"\n\n\
         [[service]]\nname = \"finger\"\nbuiltin = \"finger\"\nlisten = [\"127.0.0.79\"]\n",
        passwd.display(),
        dir.join("no-utmp").display()
    );
    let netcp = Netcp::start("finger", &servers);
    let out = run(Command::new("finger").arg("-l").arg("alice@127.0.0.79"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Login: alice"), "{text}\n{}", netcp.stderr());
    assert!(text.contains("Alice Example"), "{text}");
    assert!(text.contains("Directory: /home/alice"), "{text}");
    // Real names match too (RFC 1288).
    let out = run(Command::new("finger").arg("builder@127.0.0.79"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Login: bob"),
        "{out:?}"
    );
    // Unknown user, and forwarding refused by default.
    let out = run(Command::new("finger").arg("nobody-here@127.0.0.79"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no such user"),
        "{out:?}"
    );
    let out = run(Command::new("finger").arg("alice@elsewhere@127.0.0.79"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("forwarding service denied"),
        "{out:?}"
    );
    // /W over a plain socket.
    let mut s = connect("127.0.0.79:79".parse().unwrap());
    s.write_all(b"/W alice\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.contains("Login: alice") && answer.contains("Plan"),
        "{answer}"
    );
    netcp.wait_log("netcp.log", "event=end service=finger");
}
