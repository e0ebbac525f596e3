//! netcu driving netcp live: services added, removed, enabled, disabled, started, stopped and
//! restricted while running; configuration errors refused with file:line while the old
//! configuration keeps serving; the control socket's protection; draining on SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::*;

fn base(echo: u16) -> String {
    format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\ndrain_seconds = 20\n\n\
         [defaults]\nlisten = [\"127.0.0.1\", \"::1\"]\n\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nport = {echo}\n"
    )
}

fn v4(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn serves_echo(port: u16) -> bool {
    match TcpStream::connect_timeout(&v4(port), Duration::from_secs(2)) {
        Ok(mut s) => {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = s.write_all(b"ping\n");
            let mut b = [0u8; 5];
            s.read_exact(&mut b).is_ok() && &b == b"ping\n"
        }
        Err(_) => false,
    }
}

#[test]
fn services_change_live_and_permanently() {
    let echo = free_port();
    let day = free_port();
    let netcp = Netcp::start("live", &base(echo));
    assert!(serves_echo(echo));

    // ADD SERVICE, VMS style, live only.
    let out = netcp.netcu_ok(&[&format!("ADD SERVICE DAYTIME/PORT={day}/PROTOCOL=TCP")]);
    assert!(out.contains("added"), "{out}");
    assert!(String::from_utf8(read_all(v4(day)))
        .unwrap()
        .contains("UTC"));
    let table = netcp.netcu_ok(&["show", "services"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("daytime") && l.contains("running")),
        "{table}"
    );

    // An open echo connection survives everything that follows.
    let mut held = connect(v4(echo));
    assert_eq!(echo_round(&mut held, b"before\n"), b"before\n");

    // STOP and START change the listener, not the configuration.
    netcp.netcu_ok(&["stop", "service", "daytime"]);
    assert!(TcpStream::connect(v4(day)).is_err());
    assert!(netcp
        .netcu_ok(&["show", "services", "daytime"])
        .contains("stopped"));
    netcp.netcu_ok(&["start", "service", "daytime"]);
    assert!(!read_all(v4(day)).is_empty());

    // DISABLE / ENABLE with --save write servers.toml, keeping the administrator's comments.
    let commented = base(echo).replace("[[service]]", "# echo is the health check\n[[service]]");
    std::fs::write(netcp.dir.join("servers.toml"), commented).unwrap();
    netcp.netcu_ok(&["disable", "service", "echo", "--save"]);
    assert!(!serves_echo(echo));
    let saved = std::fs::read_to_string(netcp.dir.join("servers.toml")).unwrap();
    assert!(saved.contains("enabled = false"), "{saved}");
    assert!(
        saved.contains("# echo is the health check\n[[service]]"),
        "{saved}"
    );
    assert_eq!(echo_round(&mut held, b"still here\n"), b"still here\n");
    netcp.netcu_ok(&["enable", "service", "echo", "/permanent"]);
    assert!(serves_echo(echo));
    assert!(!std::fs::read_to_string(netcp.dir.join("servers.toml"))
        .unwrap()
        .contains("enabled = false"));

    // REMOVE a live-only service: gone now, never in the file.
    netcp.netcu_ok(&["remove", "service", "daytime"]);
    assert!(TcpStream::connect(v4(day)).is_err());
    let err = netcp.netcu(&["show", "services", "daytime"]);
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("no service `daytime`"));

    // ADD /PERMANENT survives a restart; a live-only ADD does not.
    let q = free_port();
    netcp.netcu_ok(&[
        "add",
        "service",
        "qotd",
        &format!("/port={q}"),
        "/protocol=tcp",
        "/permanent",
    ]);
    let t = free_port();
    netcp.netcu_ok(&[
        "add",
        "service",
        "time",
        &format!("/port={t}"),
        "/protocol=tcp",
    ]);
    netcp.netcu_ok(&["reload"]);
    assert!(
        !read_all(v4(q)).is_empty(),
        "permanent service kept by reload"
    );
    assert!(
        TcpStream::connect(v4(t)).is_err(),
        "live-only service dropped by reload"
    );
    assert_eq!(echo_round(&mut held, b"after reload\n"), b"after reload\n");

    // A refused change changes nothing.
    let out = netcp.netcu(&["add", "service", "echo"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = netcp.netcu(&[
        "add",
        "service",
        "time",
        &format!("/port={echo}"),
        "/protocol=tcp",
    ]);
    assert!(!out.status.success(), "binding a port in use must fail");
    assert!(netcp
        .netcu_ok(&["show", "services"])
        .lines()
        .all(|l| !l.starts_with("time")));
}

#[test]
fn access_lists_and_limits_refuse_and_log() {
    let echo = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nport = {echo}\nlisten = [\"0.0.0.0\", \"::\"]\n\
         access = [\"reject 127.0.0.2\", \"accept 127.0.0.0/8\", \"accept ::1\"]\naccess_default = \"reject\"\n"
    );
    let netcp = Netcp::start("access", &servers);
    let from = |src: &str| {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.bind(&SocketAddr::new(src.parse().unwrap(), 0).into())
            .unwrap();
        sock.connect(&v4(echo).into()).unwrap();
        let s: TcpStream = sock.into();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    };
    assert!(was_refused(from("127.0.0.2")));
    let mut ok = from("127.0.0.3");
    assert_eq!(echo_round(&mut ok, b"fine\n"), b"fine\n");
    let mut v6 = connect(
        "[::1]:0"
            .parse::<SocketAddr>()
            .map(|mut a| {
                a.set_port(echo);
                a
            })
            .unwrap(),
    );
    assert_eq!(echo_round(&mut v6, b"v6\n"), b"v6\n");
    let log = netcp.wait_log("netcp.log", "event=refuse");
    assert!(
        log.contains("event=refuse service=echo proto=tcp peer=127.0.0.2:"),
        "{log}"
    );
    assert!(log.contains("reason=\"access rule 1\""), "{log}");

    // SET SERVICE replaces the list live; the order of qualifiers is the order of rules.
    netcp.netcu_ok(&["SET SERVICE ECHO /REJECT=127.0.0.3 /ACCEPT=0/0 /REJECT=::1"]);
    let full = netcp.netcu_ok(&["show", "services", "echo", "--full"]);
    assert!(
        full.contains("1. reject 127.0.0.3/32")
            && full.contains("2. accept 0.0.0.0/0")
            && full.contains("3. reject ::1/128"),
        "{full}"
    );
    assert!(was_refused(from("127.0.0.3")));
    assert!(!was_refused(from("127.0.0.2")));
    assert!(was_refused(connect(SocketAddr::new(
        "::1".parse().unwrap(),
        echo
    ))));
    // The connection opened before the change is not touched.
    assert_eq!(echo_round(&mut ok, b"kept\n"), b"kept\n");

    // Per-source limit: the third concurrent connection from one address is refused.
    netcp.netcu_ok(&[
        "set",
        "service",
        "echo",
        "--noaccess",
        "--default",
        "accept",
        "--source-limit",
        "2",
    ]);
    drop(ok);
    drop(v6);
    std::thread::sleep(Duration::from_millis(200));
    let mut a = from("127.0.0.5");
    let mut b = from("127.0.0.5");
    assert_eq!(echo_round(&mut a, b"a\n"), b"a\n");
    assert_eq!(echo_round(&mut b, b"b\n"), b"b\n");
    assert!(was_refused(from("127.0.0.5")));
    let mut c = from("127.0.0.6");
    assert_eq!(echo_round(&mut c, b"c\n"), b"c\n");
    netcp.wait_log("netcp.log", "reason=\"source limit\"");

    // Service limit and rate: refused, never disabled.
    netcp.netcu_ok(&["set", "service", "echo", "/limit=3", "/source_limit=0"]);
    assert!(
        was_refused(from("127.0.0.7")),
        "a, b and c are open: the fourth is over the limit"
    );
    drop(c);
    // The server notices c's close on its own time (slow on a busy machine): the limit frees
    // a place within seconds.
    common::stack_env::wait_for("the limit to admit again once c closed", 10, || {
        !was_refused(from("127.0.0.7"))
    });
    drop((a, b));
    netcp.netcu_ok(&["set", "service", "echo", "/limit=100", "/rate=3"]);
    let started = std::time::Instant::now();
    let refused = (0..10).filter(|_| was_refused(from("127.0.0.8"))).count();
    // A burst of 3, then 3 more per second of the attempts' own duration (slow on a busy machine).
    let allowed = 3 + (started.elapsed().as_secs_f64() * 3.0).ceil() as usize;
    assert!(
        refused >= 10usize.saturating_sub(allowed) && (1..=7).contains(&refused),
        "rate 3/s: {refused} of 10 refused in {:?}",
        started.elapsed()
    );
    assert!(
        !was_refused(from("127.0.0.9")),
        "another source has its own rate"
    );
    let row = netcp.counters("echo");
    assert!(
        row[2].parse::<u32>().unwrap() >= 10,
        "refusals counted: {row:?}"
    );
    assert!(netcp
        .netcu_ok(&["show", "services", "echo"])
        .contains("running"));
}

#[test]
fn bad_configuration_files_are_refused_with_positions_and_the_old_one_keeps_serving() {
    let echo = free_port();
    let netcp = Netcp::start("badconfig", &base(echo));
    assert!(serves_echo(echo));

    // A services database with errors: refused whole, file:line:column for each.
    let good_services = std::fs::read_to_string(netcp.dir.join("services")).unwrap();
    std::fs::write(
        netcp.dir.join("services"),
        format!("{good_services}bad 70000/tcp\nworse 12/icmp\n"),
    )
    .unwrap();
    let out = netcp.netcu(&["refresh", "services"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines = good_services.lines().count();
    assert!(
        err.contains(&format!("services:{}:5: expected a port number", lines + 1)),
        "{err}"
    );
    assert!(err.contains(&format!("services:{}:", lines + 2)), "{err}");
    assert!(serves_echo(echo));
    let log = netcp.wait_log("netcp.log", "event=control request=RefreshServices");
    assert!(!log.contains("event=refresh"), "{log}");

    // A servers.toml with a syntax error, then with a semantic one.
    std::fs::write(netcp.dir.join("services"), &good_services).unwrap();
    std::fs::write(
        netcp.dir.join("servers.toml"),
        format!("{}\n[[service]]\nname = \"x\"\nport = seven\n", base(echo)),
    )
    .unwrap();
    let out = netcp.netcu(&["reload"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("servers.toml:17:8"), "{err}");
    assert!(serves_echo(echo));
    std::fs::write(
        netcp.dir.join("servers.toml"),
        format!(
            "{}\n[[service]]\nname = \"nosuch\"\nbuiltin = \"echo\"\n",
            base(echo)
        ),
    )
    .unwrap();
    netcp.signal(libc::SIGHUP);
    netcp.wait_log("netcp.log", "event=reload-refused");
    assert!(serves_echo(echo));
    let out = netcp.netcu(&["check", netcp.dir.0.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            "servers.toml:15:1: service `nosuch`: `nosuch` is not in the services database"
        ),
        "{err}"
    );

    // Fixed: the refresh and the reload go through.
    std::fs::write(netcp.dir.join("servers.toml"), base(echo)).unwrap();
    std::fs::write(
        netcp.dir.join("services"),
        format!("{good_services}extra 4444/tcp\n"),
    )
    .unwrap();
    assert!(netcp
        .netcu_ok(&["refresh", "services"])
        .contains("refreshed"));
    assert!(netcp
        .netcu_ok(&["check", netcp.dir.0.to_str().unwrap()])
        .contains("is valid"));
    assert!(netcp.netcu_ok(&["reload"]).contains("reloaded"));
}

#[test]
fn weights_from_the_database_count_messages() {
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"weighed\"\nbuiltin = \"echo\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let netcp = Netcp::start("weights", &servers);
    let mut s = connect(v4(port));
    for _ in 0..4 {
        assert_eq!(echo_round(&mut s, b"0123456789"), b"0123456789");
    }
    drop(s);
    netcp.wait_log("netcp.log", "event=end service=weighed");
    let row = netcp.counters("weighed");
    // Four reads and four writes at weight-50: two messages each way, forty bytes each way.
    assert_eq!(&row[4..8], ["2", "2", "40", "40"], "{row:?}");
    netcp.netcu_ok(&["zero", "counters"]);
    let row = netcp.counters("weighed");
    assert!(row.iter().skip(1).all(|c| c == "0"), "{row:?}");
}

#[test]
fn tos_from_the_database_is_set_on_the_service_sockets() {
    let port = free_port();
    let servers = format!(
        "[netcp]\nlog_stderr = false\nhost_services = \"\"\n\n\
         [[service]]\nname = \"tossed\"\nbuiltin = \"echo\"\nport = {port}\nlisten = [\"127.0.0.1\"]\n"
    );
    let _netcp = Netcp::start("tos", &servers);
    // Read the TOS byte of the answer with IP_RECVTOS (Python's socket module is the real peer).
    let script = format!(
        "import socket\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)\n\
         s.settimeout(5)\n\
         s.sendto(b'tos?', ('127.0.0.1', {port}))\n\
         data, anc, flags, addr = s.recvmsg(100, 64)\n\
         print(data.decode(), [c[2][0] for c in anc if c[1] == socket.IP_TOS])\n"
    );
    let out = run(std::process::Command::new("python3").arg("-c").arg(script));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "tos? [16]",
        "{out:?}"
    );
}

#[test]
fn the_control_socket_is_owner_only_and_refuses_strangers() {
    let netcp = Netcp::start("socket", &base(free_port()));
    let mode = std::fs::metadata(&netcp.socket)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Not our protocol: an error, then the connection is closed.
    let mut s = std::os::unix::net::UnixStream::connect(&netcp.socket).unwrap();
    s.write_all(b"GET / HTTP/1.0\n").unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(
        line.contains("\"response\":\"error\"") && line.contains("malformed"),
        "{line}"
    );
    line.clear();
    assert_eq!(r.read_line(&mut line).unwrap(), 0);
    // A future protocol version is refused by name.
    let mut s = std::os::unix::net::UnixStream::connect(&netcp.socket).unwrap();
    s.write_all(b"{\"version\":9,\"body\":{\"request\":\"show_version\"}}\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    assert!(
        line.contains("protocol version 9 is not supported"),
        "{line}"
    );
    // Another user cannot even connect (run netcu as nobody).
    let out = run(std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(netcu_path())
        .arg("--socket")
        .arg(&netcp.socket)
        .args(["show", "version"]));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{out:?}"
    );
}

#[test]
fn netcu_says_clearly_when_netcp_is_not_running() {
    let dir = TempDir::new("stopped");
    let out = run(std::process::Command::new(netcu_path())
        .arg("--socket")
        .arg(dir.join("netcp.sock"))
        .args(["show", "services"]));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("netcp is not running") && err.contains("netcp.sock"),
        "{err}"
    );
}

#[test]
fn sigterm_drains_open_connections_then_stops() {
    let echo = free_port();
    let mut netcp = Netcp::start("drain", &base(echo));
    let mut held = connect(v4(echo));
    assert_eq!(echo_round(&mut held, b"one\n"), b"one\n");
    netcp.signal(libc::SIGTERM);
    netcp.wait_log("netcp.log", "event=stopping connections=1");
    // No new connections, but the open one is served until it closes.
    assert!(!serves_echo(echo));
    assert_eq!(echo_round(&mut held, b"two\n"), b"two\n");
    assert!(
        !netcp.wait_exit(Duration::from_millis(300)),
        "netcp must wait for the open connection"
    );
    drop(held);
    assert!(
        netcp.wait_exit(Duration::from_secs(10)),
        "netcp stops once drained"
    );
    let log = std::fs::read_to_string(netcp.dir.join("netcp.log")).unwrap();
    assert!(log.contains("event=stopped"), "{log}");
    assert!(!netcp.socket.exists());
}

#[test]
fn an_admin_group_may_use_the_control_socket() {
    let servers = format!("{}\n", base(free_port())).replacen(
        "[netcp]\n",
        "[netcp]\nadmin_group = \"nogroup\"\n",
        1,
    );
    let netcp = Netcp::start("admin-group", &servers);
    let meta = std::fs::metadata(&netcp.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    let as_nobody = |args: &[&str]| {
        run(std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(netcu_path())
            .arg("--socket")
            .arg(&netcp.socket)
            .args(args))
    };
    // The socket's directory must let the group through; the socket itself is 0660.
    std::fs::set_permissions(&netcp.dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = as_nobody(&["show", "version"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("netcp 0.1.0"));
}

#[test]
fn disconnect_closes_one_connection_and_shutdown_abort_closes_all() {
    let echo = free_port();
    let mut netcp = Netcp::start("disconnect", &base(echo));
    let mut a = connect(v4(echo));
    let mut b = connect(v4(echo));
    assert_eq!(echo_round(&mut a, b"a\n"), b"a\n");
    assert_eq!(echo_round(&mut b, b"b\n"), b"b\n");
    let shown = netcp.netcu_ok(&["show", "connections"]);
    let port_a = a.local_addr().unwrap().port();
    let id = shown
        .lines()
        .find(|l| l.contains(&format!("127.0.0.1:{port_a}")))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("connection a not shown:\n{shown}"))
        .to_string();
    assert!(netcp.netcu_ok(&["disconnect", &id]).contains("closed"));
    let mut buf = [0u8; 4];
    assert!(matches!(a.read(&mut buf), Ok(0) | Err(_)), "a is closed");
    assert_eq!(echo_round(&mut b, b"b2\n"), b"b2\n");
    let out = netcp.netcu(&["disconnect", "99999"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no connection 99999"));
    netcp.netcu_ok(&["shutdown", "/abort"]);
    assert!(
        netcp.wait_exit(Duration::from_secs(10)),
        "netcp stops at once"
    );
    assert!(matches!(b.read(&mut buf), Ok(0) | Err(_)), "b is closed");
}
