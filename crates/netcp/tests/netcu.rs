//! netcu's three faces against a live netcp: the NETCU> prompt on a real terminal (recall and
//! HELP), command files, and commands piped in.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn config(echo: u16) -> String {
    format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nport = {echo}\nlisten = [\"127.0.0.1\"]\n"
    )
}

#[test]
fn the_prompt_recalls_at_least_twenty_lines_and_helps() {
    let netcp = Netcp::start("prompt", &config(free_port()));
    // util-linux's `script` gives netcu a real pseudo-terminal, as a user's shell would.
    let mut child = Command::new("script")
        .args(["-qfec"])
        .arg(format!(
            "{} --socket {}",
            netcu_path().display(),
            netcp.socket.display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    let mut input = child.stdin.take().unwrap();
    let pause = || std::thread::sleep(std::time::Duration::from_millis(150));
    input.write_all(b"show version\n").unwrap();
    pause();
    for i in 0..24 {
        input
            .write_all(format!("! filler line {i}\n").as_bytes())
            .unwrap();
    }
    pause();
    // Twenty-five lines back is the first one: SHOW VERSION again.
    input.write_all("\x1b[A".repeat(25).as_bytes()).unwrap();
    input.write_all(b"\n").unwrap();
    pause();
    input.write_all(b"help zero\n").unwrap();
    pause();
    input.write_all(b"exit\n").unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("netcp 0.1.0 (protocol 1), pid").count(),
        2,
        "{text}"
    );
    assert!(text.contains("ZERO COUNTERS [service]"), "{text}");
    assert!(text.contains("NETCU> "), "{text}");
}

#[test]
fn command_files_run_until_the_first_failure() {
    let echo = free_port();
    let netcp = Netcp::start("cmdfile", &config(echo));
    let file = netcp.dir.join("setup.com");
    std::fs::write(
        &file,
        format!(
            "! Maynard command file\n\
             $ SET SERVICE ECHO -\n    /LIMIT=7 /SOURCE_LIMIT=2\n\
             \n\
             ADD SERVICE DAYTIME /PORT={} /PROTOCOL=TCP\n\
             SHOW SERVICES\n\
             REMOVE SERVICE NOSUCH\n\
             REMOVE SERVICE DAYTIME\n",
            free_port()
        ),
    )
    .unwrap();
    let out = netcp.netcu(&[&format!("@{}", file.display())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("daytime") && stdout.contains("running"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:7: command failed", file.display())),
        "{stderr}"
    );
    let full = netcp.netcu_ok(&["show", "services", "echo", "/full"]);
    assert!(
        full.contains("7 per service, 2 connections per source"),
        "{full}"
    );
    // The file stopped before its last line: daytime is still there.
    assert!(netcp.netcu_ok(&["show", "services"]).contains("daytime"));
}

#[test]
fn commands_can_be_piped_in() {
    let netcp = Netcp::start("piped", &config(free_port()));
    let mut child = Command::new(netcu_path())
        .arg("--socket")
        .arg(&netcp.socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"show counters\nshow bogus\nstop service echo\nshow services\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Accepted") && stdout.contains("stopped"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("`bogus` is not one of"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "the failed line's status is kept"
    );
}
