//! netcp, Maynard's master server: hosts the services of `servers.toml`, restricts them by source
//! address, limits, logs and counts them, and answers netcu on its control socket.

mod control_server;
mod daemon;
mod external;
mod filters;
mod ips;
mod log;
mod mmsg;
mod multicast;
mod netstack;
mod outgoing;
mod runtime;
mod service;
mod snmp_agent;
mod sockets;
mod tcp;
mod udp;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context};
use control::config::{self, Origin};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Mutex};

use crate::control_server::AccessPolicy;
use crate::daemon::{builtin_context, log_targets, Daemon};
use crate::log::ActivityLog;
use crate::runtime::{ConnTable, Runtime};

const USAGE: &str = "\
usage: netcp [--config DIR] [--socket PATH]   run the master server
       netcp --check [--config DIR]           validate a configuration and exit
       netcp --init DIR                       write the default configuration into DIR
       netcp --version | --help

Without --config, netcp uses $MAYNARD_CONFIG, else its embedded default configuration.
The control socket is --socket, else servers.toml's control_socket, else $MAYNARD_SOCKET,
else /run/maynard/netcp.sock (root) or $XDG_RUNTIME_DIR/maynard/netcp.sock.";

struct Args {
    config: Option<PathBuf>,
    socket: Option<PathBuf>,
    check: bool,
    init: Option<PathBuf>,
}

fn parse_args() -> anyhow::Result<Option<Args>> {
    let mut args = Args {
        config: None,
        socket: None,
        check: false,
        init: None,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy().into_owned();
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(PathBuf::from(v))),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| -> anyhow::Result<PathBuf> {
            match inline.clone().or_else(|| it.next().map(PathBuf::from)) {
                Some(v) => Ok(v),
                None => bail!("{name} needs a value\n{USAGE}"),
            }
        };
        match flag.as_str() {
            "--config" | "-c" => args.config = Some(value("--config")?),
            "--socket" | "-s" => args.socket = Some(value("--socket")?),
            "--init" => args.init = Some(value("--init")?),
            "--check" => args.check = true,
            "--version" | "-V" => {
                println!("netcp {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netcp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in [
        (config::SERVERS_FILE, config::DEFAULT_SERVERS),
        ("services", config::DEFAULT_SERVICES),
    ] {
        let path = dir.join(name);
        if path.exists() {
            bail!("{} exists; not overwriting it", path.display());
        }
        config::write_atomically(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("netcp: default configuration written to {}", dir.display());
    Ok(())
}

fn run() -> anyhow::Result<ExitCode> {
    let Some(args) = parse_args()? else {
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(dir) = &args.init {
        init(dir)?;
        return Ok(ExitCode::SUCCESS);
    }
    let origin = Origin::from_args(args.config.clone());
    let loaded = match config::load(&origin) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            bail!("configuration {} refused", origin.describe());
        }
    };
    for w in &loaded.warnings {
        eprintln!("netcp: warning: {w}");
    }
    if args.check {
        println!(
            "netcp: {} is valid: {} services, {} database applications",
            origin.describe(),
            loaded.resolved.len(),
            loaded.db.applications()
        );
        return Ok(ExitCode::SUCCESS);
    }
    sockets::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("netcp")
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(serve(args, loaded))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: Args, loaded: config::Loaded) -> anyhow::Result<()> {
    let origin = loaded.origin.clone();
    let log =
        ActivityLog::start(log_targets(&origin, &loaded.servers)).context("cannot open the log")?;
    let ctx = builtin_context(&origin, &loaded.servers).map_err(anyhow::Error::msg)?;
    let rt = Arc::new(Runtime {
        log,
        conns: ConnTable::default(),
        builtin: RwLock::new(ctx),
        // SNMP: snmp-state.toml lives in the configuration directory; coldStart goes out
        // once the notifier runs.
        snmp: snmp_agent::SnmpHost::new(&loaded.snmp, origin.dir()),
        ips: ips::IpsHandle::default(),
        config_dir: origin.dir().map(|d| d.to_path_buf()),
    });
    snmp_agent::start_notifier(&rt); // SNMP notifications (coldStart/warmStart, authFailure).
    let admin_gid = match &loaded.servers.netcp.admin_group {
        Some(g) => Some(
            sockets::lookup_group(g)?
                .with_context(|| format!("admin_group `{g}` is not a group on this host"))?,
        ),
        None => None,
    };
    let socket_path = args
        .socket
        .clone()
        .or_else(|| loaded.servers.netcp.control_socket.clone())
        .unwrap_or_else(control::protocol::default_socket_path);
    let policy = AccessPolicy { admin_gid };
    let listener = control_server::bind(&socket_path, policy)
        .await
        .with_context(|| format!("cannot open the control socket {}", socket_path.display()))?;

    let (shutdown_tx, mut shutdown_rx) = watch::channel(None);
    let resolved = loaded.resolved.clone();
    let drain_seconds = loaded.servers.netcp.drain_seconds;
    let network = loaded.network.clone();
    // The filter server first: refusals at the services' first connections count.
    rt.ips.configure(&rt, loaded.ips.as_ref()).await;
    let mut daemon = Daemon::new(rt.clone(), loaded, shutdown_tx.clone());
    // The stack first: services listening on its addresses open their sockets on it.
    if let Some(net) = &network {
        let handle = netstack::NetstackHandle::start(net, rt.clone())
            .context("cannot start Maynard's stack (network.toml)")?;
        daemon.set_netstack(handle);
        rt.log.emit(
            rt.log
                .line("stack-started")
                .kv("interfaces", net.interfaces.len()),
        );
    }
    daemon.start(resolved).await;
    daemon.load_startup_filters().await;
    daemon.load_outgoing().await;
    let daemon = Arc::new(Mutex::new(daemon));
    rt.log.emit(
        rt.log
            .line("started")
            .kv("version", env!("CARGO_PKG_VERSION"))
            .kv("config", origin.describe())
            .kv("control", socket_path.display()),
    );
    let control = tokio::spawn(control_server::serve(
        listener,
        daemon.clone(),
        rt.clone(),
        policy,
    ));

    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let abort = loop {
        tokio::select! {
            _ = hup.recv() => {
                let result = daemon.lock().await.reload().await;
                if let Err(e) = result {
                    rt.log.emit(rt.log.line("reload-refused").kv("message", e));
                }
            }
            _ = term.recv() => break false,
            _ = int.recv() => break false,
            changed = shutdown_rx.changed() => {
                if changed.is_err() { break false; }
                if let Some(abort) = *shutdown_rx.borrow() { break abort; }
            }
        }
    };

    // Stop taking new work, then let open connections finish (or cut them off).
    daemon.lock().await.stop_all().await;
    snmp_agent::agentx::shutdown(&rt);
    daemon.lock().await.stop_netstack();
    daemon.lock().await.unload_outgoing().await;
    rt.ips.shutdown(&rt).await;
    let open = rt.conns.len();
    rt.log.emit(
        rt.log
            .line("stopping")
            .kv("connections", open)
            .kv("abort", abort),
    );
    if abort {
        rt.conns.abort_all(None);
    } else if tokio::time::timeout(Duration::from_secs(drain_seconds), rt.conns.wait_empty())
        .await
        .is_err()
    {
        let n = rt.conns.abort_all(None);
        rt.log.emit(rt.log.line("drain-timeout").kv("aborted", n));
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), rt.conns.wait_empty()).await;
    control.abort();
    let _ = std::fs::remove_file(&socket_path);
    rt.log.emit(rt.log.line("stopped"));
    rt.log.flush();
    Ok(())
}
