//! netcp on its embedded default configuration, unprivileged: the small services move to
//! port + 10000 and netcp says so once.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn the_embedded_default_runs_unprivileged_on_port_plus_10000() {
    let dir = TempDir::new("default");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let socket = dir.join("netcp.sock");
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    let mut child = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(NETCP)
        .arg("--socket")
        .arg(&socket)
        .env_remove("MAYNARD_CONFIG")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("setpriv (util-linux) runs netcp as nobody");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "netcp exited: {}",
            std::fs::read_to_string(dir.join("stderr.log")).unwrap()
        );
        assert!(Instant::now() < deadline, "no control socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut s = connect("127.0.0.1:10007".parse().unwrap());
    assert_eq!(echo_round(&mut s, b"unprivileged\n"), b"unprivileged\n");
    let mut s6 = connect("[::1]:10007".parse().unwrap());
    assert_eq!(echo_round(&mut s6, b"v6\n"), b"v6\n");
    // Closed before SIGTERM, so netcp has nothing to drain.
    drop((s, s6));
    assert_eq!(read_all("127.0.0.1:10037".parse().unwrap()).len(), 4);
    let out = run(Command::new(netcu_path())
        .arg("--socket")
        .arg(&socket)
        .args(["show", "services"]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("finger") && l.contains("10079") && l.contains("running")),
        "{table}"
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap();
    assert_eq!(
        log.matches("ports below 1024 need privilege").count(),
        1,
        "{log}"
    );
    assert!(log.contains("port + 10000"), "{log}");
}
