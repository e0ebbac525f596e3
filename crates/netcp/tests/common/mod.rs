//! A netcp under test: a configuration directory of its own, its own control socket, killed and
//! cleaned up on drop; and the real clients the tests drive it with.

#![allow(dead_code)]

pub mod impair;
pub mod stack_env;
pub mod veth;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// The netcp binary under test.
pub const NETCP: &str = env!("CARGO_BIN_EXE_netcp");

/// The netcu binary, built beside netcp by `cargo test --workspace`.
pub fn netcu_path() -> PathBuf {
    let p = Path::new(NETCP).with_file_name("netcu");
    assert!(
        p.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (scripts/test does)",
        p.display()
    );
    p
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A TCP and UDP port free on loopback now, different from every other one this process took.
pub fn free_port() -> u16 {
    if NEXT_PORT.load(Ordering::Relaxed) == 0 {
        // Below the kernel's ephemeral range (32768 up), so no client connection of a parallel
        // test can take a port between this check and netcp's bind.
        let base = 20000 + (std::process::id() % 100) as u16 * 120;
        let _ = NEXT_PORT.compare_exchange(0, base, Ordering::Relaxed, Ordering::Relaxed);
    }
    loop {
        let p = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        assert!(p < 32768, "ran out of test ports");
        // Both loopbacks: services listen on 127.0.0.1 and ::1, and another test process (its
        // own base may overlap ours) may hold either.
        if TcpListener::bind(("127.0.0.1", p)).is_ok()
            && UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("::1", p)).is_ok()
            && UdpSocket::bind(("::1", p)).is_ok()
        {
            return p;
        }
    }
}

/// A unique temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Makes one named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU16 = AtomicU16::new(0);
        let p = std::env::temp_dir().join(format!(
            "maynard-test-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The services database every test uses (seed 004 syntax).
pub const SERVICES: &str = "\
echo     7/tcp
echo     7/udp
discard  9/tcp
discard  9/udp
daytime 13/tcp
daytime 13/udp
qotd    17/tcp
qotd    17/udp
chargen 19/tcp
chargen 19/udp
time    37/tcp
time    37/udp
finger  79/tcp
weighed 9000/tcp weight-50   # half a message per read or write
tossed  9001/udp tos-16
extern  9002/tcp
extudp  9003/udp
";

/// A running netcp.
pub struct Netcp {
    pub dir: TempDir,
    pub socket: PathBuf,
    pub child: Option<Child>,
    /// The network namespace netcp runs in (`None`: the test's own).
    pub netns: Option<String>,
}

impl Netcp {
    /// Writes `servers` (servers.toml) and the test services database, starts netcp, waits
    /// until its control socket answers.
    pub fn start(tag: &str, servers: &str) -> Netcp {
        Self::start_with(tag, servers, SERVICES)
    }

    /// As [`Netcp::start`] with another services database.
    pub fn start_with(tag: &str, servers: &str, services: &str) -> Netcp {
        Self::start_files(tag, &[("servers.toml", servers), ("services", services)])
    }

    /// Writes the test services database and `files` (name, text; a `services` among them
    /// replaces the test one) into a new configuration directory and starts netcp on it.
    pub fn start_files(tag: &str, files: &[(&str, &str)]) -> Netcp {
        Self::start_files_in(None, tag, files)
    }

    /// As [`Netcp::start_files`], netcp running in the network namespace `netns`.
    pub fn start_files_in(netns: Option<&str>, tag: &str, files: &[(&str, &str)]) -> Netcp {
        let dir = TempDir::new(tag);
        std::fs::write(dir.join("services"), SERVICES).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let socket = dir.join("netcp.sock");
        let mut n = Netcp {
            dir,
            socket,
            child: None,
            netns: netns.map(str::to_string),
        };
        n.spawn();
        n
    }

    /// Starts (or restarts) the process on the same directory.
    pub fn spawn(&mut self) {
        let mut command = match &self.netns {
            // `ip netns exec` execs netcp: the child's pid is netcp's.
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, NETCP]);
                c
            }
            None => Command::new(NETCP),
        };
        let child = command
            .arg("--config")
            .arg(&self.dir.0)
            .arg("--socket")
            .arg(&self.socket)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("stderr.log")).unwrap())
            .spawn()
            .expect("start netcp");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("netcp exited at start ({status}):\n{}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "netcp did not open its control socket:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What netcp wrote to stderr so far (its log, when log_stderr is on).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Runs netcu with these arguments against this netcp.
    pub fn netcu(&self, args: &[&str]) -> Output {
        Command::new(netcu_path())
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run netcu")
    }

    /// Runs netcu and asserts success; returns stdout.
    pub fn netcu_ok(&self, args: &[&str]) -> String {
        let out = self.netcu(args);
        assert!(
            out.status.success(),
            "netcu {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The SHOW COUNTERS row of `service`, split into columns.
    pub fn counters(&self, service: &str) -> Vec<String> {
        let table = self.netcu_ok(&["show", "counters", service]);
        table
            .lines()
            .nth(2)
            .unwrap_or_else(|| panic!("no counters row for {service}:\n{table}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Sends a signal to netcp.
    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: kill with a pid we own.
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }

    /// Waits for netcp to exit (bounded); returns whether it did.
    pub fn wait_exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if c.try_wait().ok().flatten().is_some() {
                    self.child = None;
                    return true;
                }
            } else {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits until the log file (`name` in the configuration directory) holds `needle`.
    pub fn wait_log(&self, name: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never showed `{needle}`:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Netcp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Connects with a bounded wait.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `data` and reads exactly as many bytes back.
pub fn echo_round(s: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    s.write_all(data).unwrap();
    let mut back = vec![0u8; data.len()];
    s.read_exact(&mut back).unwrap();
    back
}

/// Reads until the server closes.
pub fn read_all(addr: SocketAddr) -> Vec<u8> {
    let mut s = connect(addr);
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

/// One UDP request and its answer.
pub fn udp_ask(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let bind: SocketAddr = if addr.is_ipv6() {
        "[::1]:0".parse().unwrap()
    } else {
        "127.0.0.1:0".parse().unwrap()
    };
    let s = UdpSocket::bind(bind).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.send_to(data, addr).unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, _) = s
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("no UDP answer from {addr}: {e}"));
    buf.truncate(n);
    buf
}

/// Whether the server closed a connection without serving it (EOF or reset on first read).
pub fn was_refused(mut s: TcpStream) -> bool {
    let _ = s.write_all(b"hello\n");
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(0) | Err(_))
}

/// A shell command's output, asserting it ran.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (scripts/test installs it)"))
}

/// Runs the tool `name` (net-snmp's snmpget, snmpwalk ...) with `args`.
pub fn tool(name: &str, args: &[&str]) -> Output {
    run(Command::new(name).args(args))
}

/// A finished command's standard output followed by its standard error.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
