//! Serves the SNMP agent on a UDP port, for tests and trials.
//!
//! `cargo run -p snmp --example agent -- [--bind ADDR:PORT] [--ro NAME] [--rw NAME]
//!  [--max-size N] [--contact TEXT] [--trap-to ADDR:PORT] [--authen-traps]`
//!
//! With `--trap-to`, a v2c coldStart trap goes there at start, and authenticationFailure
//! traps when snmpEnableAuthenTraps is enabled (`--authen-traps`, or set over SNMP).
//!
//! Default: 127.0.0.1:16161, read-only community `public`, read-write community `private`,
//! both from loopback only; SNMPv3 users `maynard` (SHA-1 / AES-128, passwords
//! `authpassword` / `privpassword`, read-write), `sha256user` (SHA-256 / AES-128, same
//! passwords, read-only) and `authonly` (SHA-512, no privacy, read-only).

use snmp::agent::{Access, Agent, AgentConfig, AuthProtocol, Community, PrivProtocol, UsmUser};
use snmp::host::LinuxHost;
use snmp::notify::{self, AgentEvent, StandardTrap};
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let mut bind = "127.0.0.1:16161".to_string();
    let mut config = AgentConfig {
        communities: Vec::new(),
        ..AgentConfig::default()
    };
    let mut trap_to: Option<String> = None;
    let mut ro = vec!["public".to_string()];
    let mut rw = vec!["private".to_string()];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_default();
        match a.as_str() {
            "--bind" => bind = val(),
            "--ro" => ro = vec![val()],
            "--rw" => rw = vec![val()],
            "--max-size" => config.max_message_size = val().parse().unwrap_or(65507),
            "--contact" => config.sys_contact = val(),
            "--trap-to" => trap_to = Some(val()),
            "--authen-traps" => config.enable_authen_traps = true,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let lo = snmp::IpPrefix::containing(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8)
        .expect("127.0.0.0/8 is a prefix");
    for n in ro {
        config
            .communities
            .push(Community::new(&n, Access::ReadOnly).from_source(lo));
    }
    for n in rw {
        config
            .communities
            .push(Community::new(&n, Access::ReadWrite).from_source(lo));
    }
    config.sys_descr = format!(
        "Maynard SNMP agent {} on {}",
        env!("CARGO_PKG_VERSION"),
        snmp::mib::linux_sys_descr(&LinuxHost)
    );
    config.sys_name = snmp::mib::linux_host_name(&LinuxHost);
    let e = config.engine_id.clone();
    config.users = vec![
        UsmUser::with_passwords(
            "maynard",
            Access::ReadWrite,
            Some((AuthProtocol::Sha1, "authpassword")),
            Some((PrivProtocol::Aes128, "privpassword")),
            &e,
        ),
        UsmUser::with_passwords(
            "sha256user",
            Access::ReadOnly,
            Some((AuthProtocol::Sha256, "authpassword")),
            Some((PrivProtocol::Aes128, "privpassword")),
            &e,
        ),
        UsmUser::with_passwords(
            "authonly",
            Access::ReadOnly,
            Some((AuthProtocol::Sha512, "authpassword")),
            None,
            &e,
        ),
    ];
    config.salt_seed = u64::from(std::process::id());
    let start = Instant::now();
    let mut agent = Agent::new(config);
    snmp::mib::register_linux(&mut agent, Arc::new(LinuxHost), start.elapsed());
    let sock = UdpSocket::bind(&bind)?;
    let mut trap_id = 0i32;
    let mut send_trap = |trap: StandardTrap, now: std::time::Duration| {
        if let Some(to) = &trap_to {
            trap_id = trap_id.wrapping_add(1);
            let uptime = u32::try_from(now.as_millis() / 10).unwrap_or(u32::MAX);
            let bytes = notify::v2c_trap(b"public", trap_id, uptime, &trap.oid(), &[]);
            let _ = sock.send_to(&bytes, to.as_str());
        }
    };
    send_trap(StandardTrap::ColdStart, start.elapsed());
    println!("listening on {}", sock.local_addr()?);
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, peer) = sock.recv_from(&mut buf)?;
        let req = buf.get(..n).unwrap_or_default();
        let now = start.elapsed();
        if let Some(resp) = agent.handle(req, peer, now) {
            let _ = sock.send_to(&resp, peer);
        }
        for event in agent.drain_events() {
            match event {
                AgentEvent::AuthenticationFailure { .. } if agent.authen_traps_enabled() => {
                    send_trap(StandardTrap::AuthenticationFailure, now)
                }
                AgentEvent::AuthenticationFailure { .. } => {}
                // The example never touches the host's clock.
                AgentEvent::SetSystemDate { unix_seconds } => {
                    eprintln!("hrSystemDate set: would set the clock to {unix_seconds}")
                }
            }
        }
    }
}
