//! Shared by the net-snmp interop tests: an agent served on a UDP port of 127.0.0.1 from a
//! thread, net-snmp's tools with only our MIB directories, and the test module's widgets.

#![allow(dead_code)] // each test file uses its own part

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mibc_gentest::maynard_test_mib as mt;
use snmp::agent::Agent;

/// An agent serving on a UDP port until dropped.
pub struct Served {
    pub addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn widgets() -> Vec<mt::MtWidgetEntry> {
    let w = |i: i32, name: &str, colour, load, addr, hits| mt::MtWidgetEntry {
        index: mt::MtWidgetEntryIndex { mt_widget_index: i },
        mt_widget_name: name.as_bytes().to_vec(),
        mt_widget_colour: colour,
        mt_widget_load: load,
        mt_widget_addr: addr,
        mt_widget_hits: hits,
        mt_widget_status: mt::RowStatus::Active,
    };
    vec![
        w(1, "sprocket", mt::MaynardColour::Red, 10, [10, 0, 0, 1], 5),
        w(
            2,
            "gear",
            mt::MaynardColour::Green,
            55,
            [10, 0, 0, 2],
            1 << 40,
        ),
        w(7, "flange", mt::MaynardColour::Blue, 100, [192, 0, 2, 7], 0),
    ]
}

/// Serves `agent` on a fresh UDP port of 127.0.0.1 until the result is dropped.
pub fn serve_agent(mut agent: Agent) -> Served {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let addr = socket.local_addr().expect("addr").to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let start = Instant::now();
        let mut buf = vec![0u8; 65536];
        while !flag.load(Ordering::SeqCst) {
            let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let Some(req) = buf.get(..n) else { continue };
            if let Some(reply) = agent.handle(req, peer, start.elapsed()) {
                let _ = socket.send_to(&reply, peer);
            }
        }
    });
    Served {
        addr,
        stop,
        thread: Some(thread),
    }
}

pub fn mib_dirs() -> String {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    format!(
        "{}:{}",
        here.join("../../mibs").display(),
        here.join("tests/data").display()
    )
}

/// Runs a net-snmp tool with only our MIB directories; returns (success, stdout + stderr).
pub fn tool(name: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(name)
        .args([
            "-t",
            "1",
            "-r",
            "2",
            "-M",
            &mib_dirs(),
            "-m",
            "MAYNARD-TEST-MIB",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}): install Debian's `snmp` package"));
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), s)
}
