//! External, user-written servers: TCP nowait (the connection is stdin/stdout), UDP wait, the
//! peer's address in the environment, a configured user, accounting from the kernel's counters.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::*;

fn config(extern_port: u16, env_port: u16, udp_port: u16) -> String {
    format!(
        r#"[netcp]
log_stderr = false
log_file = "netcp.log"
accounting_file = "accounting.log"
host_services = ""

[defaults]
listen = ["127.0.0.1", "::1"]

[[service]]
name = "extern"
program = "/bin/cat"
port = {extern_port}

[[service]]
name = "whoami"
program = "/bin/sh"
arguments = ["-c", "echo $MAYNARD_SERVICE $MAYNARD_PEER_ADDR $TCPREMOTEPORT $MAYNARD_LOCAL_PORT $(id -un)"]
user = "nobody"
port = {env_port}
protocols = ["tcp"]

[[service]]
name = "extudp"
program = "/usr/bin/python3"
arguments = ["-c", "import socket; s = socket.socket(fileno=0); d, a = s.recvfrom(2048); s.sendto(d.upper(), a)"]
port = {udp_port}
"#
    )
}

#[test]
fn external_servers_run_per_connection_with_the_socket_as_stdio() {
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let netcp = Netcp::start("external", &config(p1, p2, p3));

    // TCP nowait: /bin/cat echoes, over IPv4 and IPv6, several at once.
    let mut conns: Vec<_> = (0..5)
        .map(|i| {
            let host = if i % 2 == 0 { "127.0.0.1" } else { "::1" };
            connect(SocketAddr::new(host.parse().unwrap(), p1))
        })
        .collect();
    for (i, c) in conns.iter_mut().enumerate() {
        let msg = format!("cat number {i}\n");
        assert_eq!(echo_round(c, msg.as_bytes()), msg.as_bytes());
    }
    // netcp records a child's pid just after starting it: on a busy machine the child may
    // have echoed before that, so the pids are waited for (bounded).
    let pids_shown = |shown: &str| {
        shown
            .lines()
            .skip(2)
            .all(|l| l.split_whitespace().last().unwrap().parse::<u32>().is_ok())
    };
    let mut shown = netcp.netcu_ok(&["show", "connections", "extern"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids_shown(&shown) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        shown = netcp.netcu_ok(&["show", "connections", "extern"]);
    }
    assert_eq!(
        shown.lines().filter(|l| l.contains(" extern ")).count(),
        5,
        "{shown}"
    );
    assert!(pids_shown(&shown), "pids shown: {shown}");
    drop(conns);

    // The peer's address in the environment, run as the configured user.
    let mut s = connect(SocketAddr::new("127.0.0.1".parse().unwrap(), p2));
    let local_port = s.local_addr().unwrap().port();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(
        out.trim(),
        format!("whoami 127.0.0.1 {local_port} {p2} nobody")
    );

    // UDP wait: the program gets the socket and reads the datagram itself.
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for word in ["first", "second"] {
        client.send_to(word.as_bytes(), ("127.0.0.1", p3)).unwrap();
        let mut buf = [0u8; 64];
        let (n, _) = client
            .recv_from(&mut buf)
            .expect("answer from the wait-style server");
        assert_eq!(&buf[..n], word.to_uppercase().as_bytes());
    }

    // Accounting: bytes of an external connection come from the kernel's TCP_INFO.
    let mut c = connect(SocketAddr::new("127.0.0.1".parse().unwrap(), p1));
    assert_eq!(echo_round(&mut c, &[b'x'; 1000]), vec![b'x'; 1000]);
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    let acct = netcp.wait_log("accounting.log", "\"bytes_in\":1000");
    let record = acct
        .lines()
        .find(|l| l.contains("\"bytes_in\":1000"))
        .unwrap();
    assert!(
        record.contains("\"bytes_out\":1000") && record.contains("\"service\":\"extern\""),
        "{record}"
    );
    let log = netcp.wait_log("netcp.log", "outcome=\"exit 0\"");
    assert!(log.contains("event=end service=extudp proto=udp"), "{log}");
}

#[test]
fn a_missing_program_is_a_configuration_error() {
    let dir = TempDir::new("missing-program");
    std::fs::write(dir.join("services"), SERVICES).unwrap();
    std::fs::write(
        dir.join("servers.toml"),
        "[netcp]\nhost_services = \"\"\n\n[[service]]\nname = \"extern\"\nprogram = \"/no/such/program\"\n",
    )
    .unwrap();
    let out = run(std::process::Command::new(NETCP)
        .arg("--check")
        .arg("--config")
        .arg(&dir.0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            "servers.toml:4:1: service `extern`: program `/no/such/program` does not exist"
        ),
        "{err}"
    );
    let _ = std::io::stdout().flush();
}
