//! netcp under load: a thousand concurrent echo connections; reloads (netcu and SIGHUP) in the
//! middle of steady traffic lose no connection.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

fn config(port: u16, extra: &str) -> String {
    format!(
        "[netcp]\nlog_stderr = false\nlog_file = \"netcp.log\"\nhost_services = \"\"\n\n\
         [defaults]\nlisten = [\"127.0.0.1\", \"::1\"]\n\n\
         [[service]]\nname = \"echo\"\nbuiltin = \"echo\"\nport = {port}\n{extra}"
    )
}

fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only touch the struct passed.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        assert!(
            lim.rlim_cur >= 4096,
            "need at least 4096 descriptors, have {}",
            lim.rlim_cur
        );
    }
}

#[test]
fn a_thousand_concurrent_echo_connections() {
    raise_fd_limit();
    let port = free_port();
    let netcp = Netcp::start("thousand", &config(port, ""));
    let mut conns = Vec::with_capacity(1000);
    for i in 0..1000 {
        let host = if i % 4 == 3 { "::1" } else { "127.0.0.1" };
        conns.push(connect(SocketAddr::new(host.parse().unwrap(), port)));
    }
    // All thousand are open at once: netcp shows them.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let shown = netcp.netcu_ok(&["show", "connections", "echo"]);
        let n = shown.lines().filter(|l| l.contains(" echo ")).count();
        if n == 1000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {n} connections shown"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for (i, c) in conns.iter_mut().enumerate() {
        c.write_all(format!("connection {i:04}\n").as_bytes())
            .unwrap();
    }
    for (i, c) in conns.iter_mut().enumerate() {
        let mut back = [0u8; 16];
        c.read_exact(&mut back).unwrap();
        assert_eq!(&back, format!("connection {i:04}\n").as_bytes());
    }
    drop(conns);
    let row = netcp.counters("echo");
    assert_eq!(row[1], "1000", "{row:?}");
    assert_eq!(row[2], "0", "none refused: {row:?}");
}

#[test]
fn reloads_under_load_lose_no_connection() {
    raise_fd_limit();
    let port = free_port();
    let netcp = Netcp::start("reload-load", &config(port, ""));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    // Long-lived connections opened before the reloads must keep working after them.
    let mut long: Vec<TcpStream> = (0..20)
        .map(|_| connect(SocketAddr::from(([127, 0, 0, 1], port))))
        .collect();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (stop, done, failures) = (stop.clone(), done.clone(), failures.clone());
            std::thread::spawn(move || {
                let host = if w % 2 == 0 { "127.0.0.1" } else { "::1" };
                let addr = SocketAddr::new(host.parse().unwrap(), port);
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let msg = format!("worker {w} message {i}\n");
                    let result = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                        .and_then(|mut s| {
                            s.set_read_timeout(Some(Duration::from_secs(5)))?;
                            s.write_all(msg.as_bytes())?;
                            let mut back = vec![0u8; msg.len()];
                            s.read_exact(&mut back)?;
                            if back != msg.as_bytes() {
                                return Err(std::io::Error::other("wrong echo"));
                            }
                            Ok(())
                        });
                    match result {
                        Ok(()) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.lock().unwrap().push(format!("{addr}: {e}")),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for round in 0..10 {
        // Alternate settings so every reload really changes something.
        let extra = if round % 2 == 0 {
            "max_per_source = 500\n"
        } else {
            "access = [\"accept 0/0\", \"accept ::/0\"]\n"
        };
        std::fs::write(netcp.dir.join("servers.toml"), config(port, extra)).unwrap();
        if round % 3 == 2 {
            netcp.signal(libc::SIGHUP);
        } else {
            assert!(netcp.netcu_ok(&["reload"]).contains("reloaded"));
        }
        netcp.netcu_ok(&["refresh", "services"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    let completed = done.load(Ordering::Relaxed);
    assert!(
        failures.is_empty(),
        "{} of {} connections failed: {:?}",
        failures.len(),
        completed,
        &failures[..failures.len().min(5)]
    );
    assert!(
        completed > 500,
        "too little traffic to mean anything: {completed}"
    );
    for (i, c) in long.iter_mut().enumerate() {
        let msg = format!("long-lived {i}\n");
        assert_eq!(echo_round(c, msg.as_bytes()), msg.as_bytes());
    }
    let log = std::fs::read_to_string(netcp.dir.join("netcp.log")).unwrap();
    assert!(
        log.matches("event=reload").count() >= 10,
        "{}",
        log.matches("event=reload").count()
    );
    let opened = log
        .matches("event=listen service=echo proto=tcp local=127.0.0.1")
        .count();
    assert_eq!(opened, 1, "the listener must stay open across reloads");
}
