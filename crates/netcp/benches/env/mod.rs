//! What the stack benchmarks share: netcp on a TAP device with services on the stack's address,
//! a kernel peer in a network namespace across a veth pair, clean-up on drop, control requests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use control::protocol::{decode, encode, Request, Response};

/// Removes what the bench made, even on error.
#[derive(Default)]
pub struct Cleanup {
    pub links: Vec<String>,
    pub namespaces: Vec<String>,
    pub child: Option<Child>,
    pub dir: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for l in &self.links {
            let _ = Command::new("ip").args(["link", "del", l]).output();
        }
        for n in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Runs a command; its failure is an error with its stderr.
pub fn sh(args: &[&str]) -> anyhow::Result<()> {
    let (cmd, rest) = args.split_first().ok_or_else(|| anyhow!("empty command"))?;
    let out = Command::new(cmd)
        .args(rest)
        .output()
        .with_context(|| format!("cannot run {cmd}"))?;
    if !out.status.success() {
        bail!(
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The median of a set of figures.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Fails unless running as root.
pub fn require_root() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("needs root (a TAP device, a network namespace, a veth pair)");
    }
    Ok(())
}

/// Starts netcp with these files in a fresh directory, waits for its control socket and the
/// TAP device `tap`, and gives Linux `tap_linux/24` on the TAP. Returns the control socket.
pub fn start_netcp(
    cleanup: &mut Cleanup,
    tag: &str,
    services_db: &str,
    servers: &str,
    network: &str,
    tap: &str,
    tap_linux: &str,
) -> anyhow::Result<PathBuf> {
    let netcp = PathBuf::from(env!("CARGO_BIN_EXE_netcp"));
    let dir = std::env::temp_dir().join(format!("maynard-bench-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    cleanup.dir = Some(dir.clone());
    std::fs::write(dir.join("services"), services_db)?;
    std::fs::write(dir.join("servers.toml"), servers)?;
    std::fs::write(dir.join("network.toml"), network)?;
    let socket = dir.join("netcp.sock");
    cleanup.links.push(tap.to_string());
    cleanup.child = Some(
        Command::new(&netcp)
            .arg("--config")
            .arg(&dir)
            .arg("--socket")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log"))?)
            .spawn()
            .context("start netcp")?,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&socket).is_err()
        || !Command::new("ip")
            .args(["link", "show", tap])
            .output()?
            .status
            .success()
    {
        if Instant::now() > deadline {
            bail!("netcp did not start:\n{}", netcp_log(&socket));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    sh(&["ip", "addr", "add", &format!("{tap_linux}/24"), "dev", tap])?;
    sh(&["ip", "link", "set", tap, "up"])?;
    Ok(socket)
}

/// netcp's stderr log, beside its control socket.
pub fn netcp_log(socket: &Path) -> String {
    socket
        .parent()
        .and_then(|d| std::fs::read_to_string(d.join("stderr.log")).ok())
        .unwrap_or_default()
}

/// A namespace `ns` joined to this one by a veth pair: `veth_linux/24` here, `peer/24` there.
pub fn kernel_namespace(
    cleanup: &mut Cleanup,
    ns: &str,
    veth_a: &str,
    veth_b: &str,
    veth_linux: &str,
    peer: &str,
) -> anyhow::Result<()> {
    cleanup.namespaces.push(ns.to_string());
    cleanup.links.push(veth_a.to_string());
    sh(&["ip", "netns", "add", ns])?;
    sh(&[
        "ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b,
    ])?;
    sh(&["ip", "link", "set", veth_b, "netns", ns])?;
    sh(&[
        "ip",
        "addr",
        "add",
        &format!("{veth_linux}/24"),
        "dev",
        veth_a,
    ])?;
    sh(&["ip", "link", "set", veth_a, "up"])?;
    let in_ns = |args: &[&str]| {
        let mut a = vec!["ip", "netns", "exec", ns];
        a.extend_from_slice(args);
        sh(&a)
    };
    in_ns(&["ip", "addr", "add", &format!("{peer}/24"), "dev", veth_b])?;
    in_ns(&["ip", "link", "set", veth_b, "up"])?;
    in_ns(&["ip", "link", "set", "lo", "up"])?;
    Ok(())
}

/// Runs `f` on a new thread inside namespace `ns`; returns once `f` has signalled it is ready
/// (its first call of `ready`), or with `f`'s set-up error.
pub fn spawn_in_netns<F>(ns: &str, f: F) -> anyhow::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce(&dyn Fn(Result<(), String>)) + Send + 'static,
{
    let ns_file = std::fs::File::open(Path::new("/var/run/netns").join(ns))
        .with_context(|| format!("namespace {ns}"))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let t = std::thread::spawn(move || {
        // SAFETY: setns on a namespace file we hold open; it changes only this thread.
        if unsafe { libc::setns(ns_file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            let _ = ready_tx.send(Err(std::io::Error::last_os_error().to_string()));
            return;
        }
        let ready = move |r: Result<(), String>| {
            let _ = ready_tx.send(r);
        };
        f(&ready);
    });
    ready_rx
        .recv()
        .map_err(|_| anyhow!("the thread in {ns} died"))?
        .map_err(|e| anyhow!("in {ns}: {e}"))?;
    Ok(t)
}

/// One control request to netcp.
pub fn control(socket: &Path, request: &Request) -> anyhow::Result<Response> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(encode(request).as_bytes())?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    decode(line.trim_end()).map_err(|e| anyhow!("{e}"))
}

/// A service's counters (SHOW COUNTERS).
pub fn counters(socket: &Path, service: &str) -> anyhow::Result<services::meter::MeterSnapshot> {
    match control(
        socket,
        &Request::ShowCounters {
            service: Some(service.into()),
        },
    )? {
        Response::Counters { counters } => counters
            .first()
            .map(|c| c.counters)
            .ok_or_else(|| anyhow!("no {service} counters")),
        other => bail!("SHOW COUNTERS: {other:?}"),
    }
}
