//! Outgoing access restrictions against Linux: netcp runs in a network namespace of its own
//! (so its nftables table judges only that namespace's traffic), Python's socket module connects
//! out as root and, through setpriv, as `nobody`/`nogroup`; outgoing.toml's rules and the
//! ones ADD ACCESS adds permit or refuse those connections by user, group, address and port;
//! SHOW ACCESS counts them; REMOVE ACCESS lifts a rule; the file keeps what the commands did.
//!
//! Needs root (namespaces, nftables), iproute2, python3 and util-linux's setpriv.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// A namespace with loopback up, and two listeners in it; removed on drop.
struct Namespace {
    name: String,
    listeners: Child,
}

impl Namespace {
    fn new(ports: [u16; 2]) -> Namespace {
        let name = format!("mayn-out-{}", std::process::id());
        let _ = run(Command::new("ip").args(["netns", "del", &name]));
        let out = run(Command::new("ip").args(["netns", "add", &name]));
        assert!(out.status.success(), "ip netns add: {out:?}");
        let out = run(Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]));
        assert!(out.status.success(), "{out:?}");
        // A listening socket completes handshakes without accepting them.
        let script = format!(
            "import socket, time\n\
             ss = []\n\
             for p in ({}, {}):\n\
             \x20   s = socket.socket(); s.bind(('127.0.0.1', p)); s.listen(128); ss.append(s)\n\
             print('ready', flush=True)\n\
             time.sleep(120)\n",
            ports[0], ports[1]
        );
        let mut listeners = Command::new("ip")
            .args(["netns", "exec", &name, "python3", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 in the namespace");
        let mut ready = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(listeners.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");
        Namespace { name, listeners }
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds, made as root or, with
    /// `as_nobody`, as user nobody and group nogroup.
    fn connects(&self, as_nobody: bool, port: u16) -> bool {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]);
        if as_nobody {
            c.args([
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
            ]);
        }
        // Debian's python3: a python3 earlier on root's PATH may be out of nobody's reach.
        c.args([
            "/usr/bin/python3",
            "-c",
            &format!("import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)"),
        ]);
        run(&mut c).status.success()
    }

    fn nft_table_exists(&self) -> bool {
        run(Command::new("ip").args([
            "netns",
            "exec",
            &self.name,
            "nft",
            "list",
            "table",
            "inet",
            "maynard_outgoing",
        ]))
        .status
        .success()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.listeners.kill();
        let _ = self.listeners.wait();
        let _ = run(Command::new("ip").args(["netns", "del", &self.name]));
    }
}

#[test]
fn outgoing_connections_are_judged_by_user_group_address_and_port() {
    let (mail, x11) = (free_port(), free_port());
    let ns = Namespace::new([mail, x11]);
    let outgoing = format!(
        "[[rule]]\naction = \"permit\"\ndestination = \"127.0.0.0/8\"\nports = \"{mail}\"\nusers = [\"root\"]\n\n\
         [[rule]]\naction = \"deny\"\ndestination = \"0/0\"\nports = \"{mail}\"\n"
    );
    let servers = "[netcp]\nlog_stderr = true\nhost_services = \"\"\n";
    let mut netcp = Netcp::start_files_in(
        Some(&ns.name),
        "outgoing",
        &[("servers.toml", servers), ("outgoing.toml", &outgoing)],
    );

    // The file's rules: root may reach the port, everyone else is refused; other ports are
    // not restricted.
    assert!(ns.connects(false, mail), "root refused\n{}", netcp.stderr());
    assert!(
        !ns.connects(true, mail),
        "nobody reached the restricted port"
    );
    assert!(
        ns.connects(true, x11),
        "nobody refused on an unrestricted port"
    );

    // ADD ACCESS: a group's rule, live.
    let out = netcp.netcu_ok(&[
        "add",
        "access",
        "127.0.0.1",
        &format!("/port={x11}"),
        "/group=nogroup",
        "/deny",
    ]);
    assert!(out.contains("rule 3 added; in force and saved"), "{out}");
    assert!(
        !ns.connects(true, x11),
        "nogroup reached the port ADD ACCESS closed"
    );
    assert!(ns.connects(false, x11), "root's group is not nogroup");

    let shown = netcp.netcu_ok(&["show", "access"]);
    let row = |n: &str| -> Vec<String> {
        shown
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("no rule {n}:\n{shown}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("1")[1..3], ["permit", "127.0.0.0/8"], "{shown}");
    assert_eq!(row("1").last().unwrap(), "1", "{shown}");
    assert_eq!(row("2")[1], "deny", "{shown}");
    assert_eq!(row("2").last().unwrap(), "1", "{shown}");
    assert!(row("3").contains(&"nogroup".to_string()), "{shown}");
    assert_eq!(row("3").last().unwrap(), "1", "{shown}");
    let saved = std::fs::read_to_string(netcp.dir.join("outgoing.toml")).unwrap();
    assert_eq!(saved.matches("[[rule]]").count(), 3, "{saved}");
    assert!(saved.contains("groups = [\"nogroup\"]"), "{saved}");

    // Mistakes are refused and change nothing.
    let bad = netcp.netcu(&["add", "access", "0/0", "/user=no-such-user-here"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("not in the passwd database"), "{bad:?}");
    let bad = netcp.netcu(&["add", "access", "0/0", "/position=9"]);
    assert!(
        text(&bad).contains("/POSITION=9: 1 to 4 expected"),
        "{bad:?}"
    );
    let bad = netcp.netcu(&["add", "access", "0/0", "/port=99999"]);
    assert!(text(&bad).contains("ports `99999`"), "{bad:?}");
    let bad = netcp.netcu(&["remove", "access", "7"]);
    assert!(text(&bad).contains("rule 7: 1 to 3 expected"), "{bad:?}");

    // REMOVE ACCESS lifts it, and the file follows.
    let out = netcp.netcu_ok(&["remove", "access", "3"]);
    assert!(out.contains("rule 3 removed"), "{out}");
    assert!(ns.connects(true, x11), "still refused after REMOVE ACCESS");
    let saved = std::fs::read_to_string(netcp.dir.join("outgoing.toml")).unwrap();
    assert_eq!(saved.matches("[[rule]]").count(), 2, "{saved}");

    // netcp's shutdown lifts the restrictions.
    assert!(ns.nft_table_exists());
    netcp.netcu_ok(&["shutdown"]);
    assert!(netcp.wait_exit(Duration::from_secs(10)));
    assert!(!ns.nft_table_exists(), "the table outlived netcp");
    assert!(ns.connects(true, mail));
}
