//! Linux around a netcp that runs Maynard's stack: commands, TAP devices and namespaces that
//! are removed on drop, netcp started with a `network.toml`, control requests.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::Netcp;
use control::protocol::{decode, encode, Request, Response};

pub fn run_cmd(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd} (install iproute2 and iputils-ping): {e}"))
}

pub fn sh_ok(cmd: &str, args: &[&str]) -> String {
    let out = run_cmd(cmd, args);
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(
        uid, 0,
        "the stack's interop tests need root (TAP devices, network namespaces)"
    );
    assert!(
        std::path::Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing"
    );
}

/// Removes Linux links and namespaces on drop, even when the test panics.
#[derive(Default)]
pub struct Cleanup {
    pub links: Vec<String>,
    pub namespaces: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = run_cmd("ip", &["link", "del", l]);
        }
        for n in &self.namespaces {
            let _ = run_cmd("ip", &["netns", "del", n]);
        }
    }
}

/// A small number from the process id, so parallel runs pick other names and subnets.
pub fn pid_tag() -> u32 {
    std::process::id() % 200 + 20
}

/// Starts netcp with `network` as network.toml (and no services).
pub fn start_netcp(tag: &str, network: &str) -> Netcp {
    start_netcp_with(tag, network, "")
}

/// Starts netcp with `network` as network.toml and `services` (`[[service]]` tables) in
/// servers.toml.
pub fn start_netcp_with(tag: &str, network: &str, services: &str) -> Netcp {
    let servers = format!("[netcp]\nlog_stderr = true\nhost_services = \"\"\n{services}");
    Netcp::start_files(
        tag,
        &[("servers.toml", &servers), ("network.toml", network)],
    )
}

/// Waits (bounded) until `f` holds.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One request on the control socket (for what netcu reaches through commands the lead wires).
pub fn request(netcp: &Netcp, req: Request) -> Response {
    let mut s = UnixStream::connect(&netcp.socket).expect("control socket");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(encode(&req).as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    decode(line.trim_end()).expect("a response")
}
