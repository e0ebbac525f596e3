//! The built-in line printer daemon (RFC 1179) against rlpr's clients, which no one here
//! wrote: `rlpr` submits jobs through Maynard's stack on a TAP device, `rlpq` lists the queue,
//! `rlprm` removes a job; with a print command configured (RELOAD), a job is handed to it.
//!
//! Needs root (TAP), iproute2 and rlpr.

mod common;

use std::process::Command;

use common::stack_env::*;
use common::*;

fn rlp(tool: &str, args: &[&str]) -> String {
    let out = run(Command::new(tool).args(args));
    assert!(out.status.success(), "{tool} {args:?}: {}", text(&out));
    text(&out)
}

#[test]
fn rlpr_prints_lists_and_removes_through_the_stack() {
    require_root();
    let k = pid_tag();
    let tap = format!("mayl{}", std::process::id());
    let mut cleanup = Cleanup::default();
    cleanup.links.push(tap.clone());
    let (linux, ours) = (format!("100.119.{k}.1"), format!("100.119.{k}.2"));
    let service = format!(
        "[[service]]\nname = \"printer\"\nbuiltin = \"lpd\"\nport = 515\nprotocols = [\"tcp\"]\n\
         listen = [\"{ours}\"]\n"
    );
    let netcp = start_netcp_with(
        "lpd",
        &format!("[[interface]]\nname = \"se0\"\ntap = \"{tap}\"\naddress = \"{ours}/24\"\n"),
        &format!("[lpd]\nspool = \"spool\"\nqueues = [\"lp\"]\n{service}"),
    );
    wait_for("the TAP device", 10, || {
        run_cmd("ip", &["link", "show", &tap]).status.success()
    });
    sh_ok("ip", &["addr", "add", &format!("{linux}/24"), "dev", &tap]);
    let files = TempDir::new("lpd-files");
    let report = files.join("report.txt");
    let notes = files.join("notes.txt");
    std::fs::write(&report, "quarterly figures\n".repeat(500)).unwrap();
    std::fs::write(&notes, "a short note\n").unwrap();

    // Two jobs into queue lp.
    for f in [&report, &notes] {
        rlp("rlpr", &["-H", &ours, "-P", "lp", f.to_str().unwrap()]);
    }
    let listing = rlp("rlpq", &["-H", &ours, "-P", "lp"]);
    assert!(
        listing.contains("1st") && listing.contains("2nd"),
        "{listing}"
    );
    assert!(
        listing.contains("report.txt") && listing.contains("notes.txt"),
        "{listing}"
    );
    assert!(listing.contains("9000 bytes"), "{listing}");
    // The spooled data is what was sent.
    let spooled: Vec<Vec<u8>> = walk(&netcp.dir.join("spool/lp"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("df"))
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(spooled.contains(&std::fs::read(&report).unwrap()));
    // A queue that does not exist is refused.
    let out =
        run(Command::new("rlpr").args(["-H", &ours, "-P", "nosuch", notes.to_str().unwrap()]));
    assert!(!out.status.success(), "{}", text(&out));

    // rlprm removes the first job by its number.
    let number = listing
        .lines()
        .find(|l| l.starts_with("1st"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("{listing}"))
        .to_string();
    rlp("rlprm", &["-H", &ours, "-P", "lp", &number]);
    let listing = rlp("rlpq", &["-H", &ours, "-P", "lp"]);
    assert!(
        !listing.contains("report.txt") && listing.contains("notes.txt"),
        "{listing}"
    );

    // With a print command (RELOAD), a job goes to it and leaves the queue.
    let printed = files.join("printed.txt");
    let servers = std::fs::read_to_string(netcp.dir.join("servers.toml")).unwrap();
    std::fs::write(
        netcp.dir.join("servers.toml"),
        servers.replace(
            "queues = [\"lp\"]",
            &format!(
                "queues = [\"lp\"]\nprint_command = [\"/bin/sh\", \"-c\", \"cat \\\"$@\\\" >> {}\", \"print\"]",
                printed.display()
            ),
        ),
    )
    .unwrap();
    netcp.netcu_ok(&["reload"]);
    rlp("rlpr", &["-H", &ours, "-P", "lp", report.to_str().unwrap()]);
    wait_for("the printed job", 10, || {
        std::fs::read(&printed).ok() == std::fs::read(&report).ok()
    });
    let listing = rlp("rlpq", &["-H", &ours, "-P", "lp"]);
    assert!(!listing.contains("report.txt"), "{listing}");
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
