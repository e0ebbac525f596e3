//! Finger end to end: synthetic passwd, utmp, homes and ttys in a temporary directory.

use super::*;
use crate::clock::fixed_clock;
use crate::testutil::{fake_info, tcp_pair, TempDir};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::{duplex, AsyncWriteExt};
use tokio::net::TcpListener;
use utmp::test_session;

const T: u64 = 1_795_303_845; // 2026-11-21T23:30:45Z

fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

struct Fixture {
    dir: TempDir,
    config: FingerConfig,
    limits: Limits,
}

/// alice and evil have the test's own uid (so their plans count as theirs), root is uid 0,
/// bob never logs in; min_uid is 0 so every account is visible unless a test raises it.
fn fixture() -> Fixture {
    let dir = TempDir::new("finger");
    let d = dir.path().display().to_string();
    let uid = my_uid();
    let passwd = format!(
        "root:x:0:0:root:/root:/bin/bash\n\
         alice:x:{uid}:100:Alice Liddell,Room 1,,:{d}/home/alice:/bin/bash\n\
         garbage line\n\
         evil:x:{uid}:100:Evil \x1b[2J\x1b]0;owned\x07 Person:{d}/home/evil:/bin/sh\n\
         bob:x:4242:100:Bob Builder:{d}/home/bob:/bin/zsh\n"
    );
    let passwd_file = dir.write("passwd", passwd.as_bytes());
    let mut utmp_bytes = Vec::new();
    let login = (T - 3600) as i32;
    for rec in [
        test_session("alice", "pts/0", "10.1.2.3", login),
        test_session("root", "tty2", "", login),
        test_session("alice", "tty1", "", login),
    ] {
        utmp_bytes.extend_from_slice(&rec.to_bytes());
    }
    let mut dead = test_session("bob", "pts/5", "old.example", login);
    dead.kind = 8;
    utmp_bytes.extend_from_slice(&dead.to_bytes());
    utmp_bytes.extend_from_slice(&[0xAA; 50]); // a torn trailing record
    let utmp_file = dir.write("utmp", &utmp_bytes);
    dir.write("dev/pts/0", b"");
    dir.write(
        "home/alice/.plan",
        b"Finish the \x1b[31mfinger\x1b[0m server.\n\tThen rest.\n",
    );
    std::fs::create_dir_all(dir.path().join("home/evil")).unwrap();
    let secret = dir.write("shadow", b"root:$6$secret-hash:19000::::::\n");
    std::os::unix::fs::symlink(&secret, dir.path().join("home/evil/.plan")).unwrap();
    let config = FingerConfig {
        passwd_file,
        utmp_file,
        min_uid: 0,
        ..FingerConfig::default()
    };
    let limits = Limits {
        dev_dir: dir.path().join("dev"),
        ..Limits::default()
    };
    Fixture {
        dir,
        config,
        limits,
    }
}

impl Fixture {
    fn ask(&self, line: &str) -> String {
        let query = Query::parse(line.as_bytes()).unwrap();
        // Two hours on, so the pts/0 device (touched when the fixture was made) is idle.
        let now = SystemTime::now() + Duration::from_secs(7200 + 30);
        answer_local(&self.config, &query, now, &self.limits.dev_dir)
    }

    async fn serve_duplex(&self, input: &[u8]) -> String {
        let (mut client, server) = duplex(256);
        let clock = fixed_clock(UNIX_EPOCH + Duration::from_secs(T));
        let serve = serve_with(&self.config, &clock, server, &self.limits);
        let talk = async {
            // The server may answer and close before taking all of an oversize query.
            let _ = client.write_all(input).await;
            let mut got = String::new();
            client.read_to_string(&mut got).await.unwrap();
            got
        };
        let (served, got) = tokio::join!(serve, talk);
        served.unwrap();
        got
    }

    async fn serve_tcp(&self, chunks: &[&[u8]]) -> String {
        let (mut client, server, _info) = tcp_pair().await;
        let clock = fixed_clock(UNIX_EPOCH + Duration::from_secs(T));
        let serve = serve_with(&self.config, &clock, server, &self.limits);
        let talk = async {
            for c in chunks {
                client.write_all(c).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let mut got = String::new();
            client.read_to_string(&mut got).await.unwrap();
            got
        };
        let (served, got) = tokio::join!(serve, talk);
        served.unwrap();
        got
    }
}

#[test]
fn long_format_for_a_login() {
    let f = fixture();
    let out = f.ask("alice");
    let home = f.dir.path().join("home/alice");
    assert!(out.starts_with("Login: alice"), "{out}");
    assert!(out.contains("Name: Alice Liddell\r\n"), "{out}");
    assert!(
        out.contains(&format!("Directory: {}", home.display())),
        "{out}"
    );
    assert!(out.contains("Shell: /bin/bash\r\n"), "{out}");
    assert!(
        out.contains("On since Sat Nov 21 22:30 (UTC) on pts/0 from 10.1.2.3\r\n    2 hours 0 minutes idle\r\n"),
        "{out}"
    );
    assert!(
        out.contains("On since Sat Nov 21 22:30 (UTC) on tty1\r\n"),
        "{out}"
    );
    // Not verbose: no plan section at all.
    assert!(!out.contains("Plan"), "{out}");
    assert_eq!(
        out.matches('\n').count(),
        out.matches("\r\n").count(),
        "{out:?}"
    );
}

#[test]
fn verbose_shows_the_plan_cleaned() {
    let f = fixture();
    let out = f.ask("/W alice");
    assert!(
        out.ends_with("Plan:\r\nFinish the ^[[31mfinger^[[0m server.\r\n\tThen rest.\r\n"),
        "{out}"
    );
    assert!(!out.contains('\x1b'));
}

#[test]
fn show_plan_off_means_no_plan() {
    let mut f = fixture();
    f.config.show_plan = false;
    assert!(f.ask("/W alice").ends_with("No Plan.\r\n"));
}

#[test]
fn symlinked_plan_is_refused() {
    let f = fixture();
    let out = f.ask("/W evil");
    assert!(out.ends_with("No Plan.\r\n"), "{out}");
    assert!(!out.contains("secret-hash"), "{out}");
}

#[test]
fn gecos_escapes_are_neutralised() {
    let f = fixture();
    let out = f.ask("evil");
    assert!(
        out.contains("Name: Evil ^[[2J^[]0;owned^G Person\r\n"),
        "{out}"
    );
    assert!(
        !out.chars()
            .any(|c| c.is_control() && c != '\r' && c != '\n'),
        "{out:?}"
    );
    assert!(out.contains("Not logged in.\r\n"), "{out}");
}

#[test]
fn real_names_match_case_insensitively() {
    let f = fixture();
    assert!(f.ask("LIDDELL").starts_with("Login: alice"));
    assert!(f.ask("builder").starts_with("Login: bob"));
    // "Person" matches only evil; "root" matches root by login and by real name, once.
    assert_eq!(f.ask("root").matches("Login:").count(), 1);
}

#[test]
fn unknown_and_system_users_are_not_found() {
    let mut f = fixture();
    assert_eq!(f.ask("nobody"), "finger: nobody: no such user.\r\n");
    f.config.min_uid = 1000;
    assert_eq!(f.ask("root"), "finger: root: no such user.\r\n");
    assert!(f.ask("bob").starts_with("Login: bob"));
    f.config.passwd_file = f.dir.path().join("missing");
    assert_eq!(f.ask("bob"), "finger: cannot read the user database\r\n");
}

#[test]
fn several_matches_are_separated_by_a_blank_line() {
    let f = fixture();
    // Both alice and evil have the test's uid but different names; "Person" hits evil only,
    // so use a passwd where two accounts share a surname.
    let d = f.dir.path().display().to_string();
    let passwd =
        format!("ann:x:5000:1:Ann Smith:{d}/a:/bin/sh\nben:x:5001:1:Ben Smith:{d}/b:/bin/sh\n");
    let config = FingerConfig {
        passwd_file: f.dir.write("passwd2", passwd.as_bytes()),
        ..f.config.clone()
    };
    let q = Query::parse(b"smith").unwrap();
    let out = answer_local(&config, &q, SystemTime::now(), &f.limits.dev_dir);
    assert_eq!(out.matches("Login:").count(), 2);
    assert!(out.contains("Not logged in.\r\n\r\nLogin: ben"), "{out}");
}

#[test]
fn user_list() {
    let mut f = fixture();
    let out = f.ask("");
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(
        lines,
        [
            "Login     Name                 Tty       Idle  When              Where",
            "alice     Alice Liddell        pts/0     2:00  Sat Nov 21 22:30  10.1.2.3",
            "alice     Alice Liddell        tty1            Sat Nov 21 22:30",
            "root      root                 tty2            Sat Nov 21 22:30",
            "",
        ]
    );
    f.config.min_uid = 1000;
    assert!(!f.ask("").contains("root"));
    f.config.list_users = false;
    assert_eq!(f.ask(""), "finger: user listing denied\r\n");
    f.config.list_users = true;
    f.config.utmp_file = f.dir.path().join("no-utmp");
    assert_eq!(f.ask(""), "No one logged on.\r\n");
    assert_eq!(f.ask("/W"), "No one logged on.\r\n");
}

#[tokio::test]
async fn serve_over_both_transports() {
    let f = fixture();
    let tcp = f.serve_tcp(&[b"ali", b"ce\r\n"]).await;
    assert!(tcp.starts_with("Login: alice"), "{tcp}");
    let mem = f.serve_duplex(b"alice\n").await;
    assert!(mem.starts_with("Login: alice"), "{mem}");
    // Bytes after the query line are ignored.
    let mem = f.serve_duplex(b"nobody\r\nalice\r\n").await;
    assert_eq!(mem, "finger: nobody: no such user.\r\n");
    let bad = f.serve_duplex(b"a b\r\n").await;
    assert_eq!(bad, "finger: only one user name per query\r\n");
    let list = f.serve_tcp(&[b"\r\n"]).await;
    assert!(list.starts_with("Login     Name"), "{list}");
}

#[tokio::test]
async fn forwarding_is_refused_by_default() {
    let f = fixture();
    for q in [
        &b"alice@example.com\r\n"[..],
        b"@example.com\r\n",
        b"/W x@a@b\r\n",
    ] {
        assert_eq!(
            f.serve_duplex(q).await,
            "finger: forwarding service denied\r\n"
        );
        assert_eq!(
            f.serve_tcp(&[q]).await,
            "finger: forwarding service denied\r\n"
        );
    }
}

#[tokio::test]
async fn oversize_query_is_cut_off() {
    let f = fixture();
    let long = vec![b'a'; 5000];
    assert_eq!(f.serve_tcp(&[&long]).await, "finger: query too long\r\n");
    assert_eq!(f.serve_duplex(&long).await, "finger: query too long\r\n");
}

#[tokio::test]
async fn silent_client_times_out() {
    let mut f = fixture();
    f.limits.query_timeout = Duration::from_millis(100);
    let (mut client, server) = duplex(64);
    let clock = fixed_clock(UNIX_EPOCH);
    let serve = serve_with(&f.config, &clock, server, &f.limits);
    let talk = async {
        client.write_all(b"alice").await.unwrap(); // never finishes the line
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        got
    };
    let (served, got) = tokio::join!(serve, talk);
    served.unwrap();
    assert_eq!(got, "finger: timed out waiting for the query\r\n");
}

/// A one-shot finger server that records the query it got and answers `reply`.
async fn fake_upstream(reply: &'static [u8]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\n") {
            if s.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            got.push(byte[0]);
        }
        s.write_all(reply).await.unwrap();
        s.shutdown().await.unwrap();
        got
    });
    (port, task)
}

#[tokio::test]
async fn forwarding_when_allowed_relays_cleaned_answer() {
    let mut f = fixture();
    f.config.allow_forwarding = true;
    let (port, upstream) = fake_upstream(b"Login: bob\r\n\x1b[5mblink\x1b[0m\n").await;
    f.limits.forward.port = port;
    let out = f
        .serve_tcp(&[b"/W bob@gateway.example@127.0.0.1\r\n"])
        .await;
    assert_eq!(upstream.await.unwrap(), b"/W bob@gateway.example\r\n");
    assert_eq!(out, "[127.0.0.1]\r\nLogin: bob\r\n^[[5mblink^[[0m\r\n");

    let (port, upstream) = fake_upstream(b"No one logged on.\r\n").await;
    f.limits.forward.port = port;
    let out = f.serve_duplex(b"@[127.0.0.1]\r\n").await;
    assert_eq!(upstream.await.unwrap(), b"\r\n");
    assert_eq!(out, "[[127.0.0.1]]\r\nNo one logged on.\r\n");
}

#[tokio::test]
async fn forwarding_failure_is_reported() {
    let mut f = fixture();
    f.config.allow_forwarding = true;
    // A port that was just free: nothing listens there.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    f.limits.forward.port = port;
    let out = f.serve_duplex(b"bob@127.0.0.1\r\n").await;
    assert!(out.starts_with("finger: 127.0.0.1: "), "{out}");
    assert!(
        out.ends_with("\r\n") && out.matches("\r\n").count() == 1,
        "{out}"
    );
}

#[test]
fn public_answer_uses_dev() {
    let f = fixture();
    let q = Query::parse(b"bob").unwrap();
    assert!(answer(&f.config, &q, SystemTime::now()).starts_with("Login: bob"));
    let _ = fake_info();
}
