//! The master server's state: the running and saved configurations, the hosted services and
//! their listeners, and the handling of every control request.

mod filter_requests;
mod netconfig_requests;
mod netstack_requests;
mod requests;
mod stack_tcp;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use control::config::{self, Loaded, Origin, ResolvedService, Server, ServersConfig};
use control::protocol::{BoundSocket, Response, ServiceState, ServiceStatus};
use servicedb::{Protocol, ServiceDb};
use services::finger::FingerConfig;
use services::qotd::Quotes;
use services::BuiltinContext;
use tokio::sync::watch;

use crate::log::Targets;
use crate::netstack::StackSocket;
use crate::runtime::Runtime;
use crate::service::{Listener, ServiceShared};
use crate::sockets;

/// One hosted service: shared state plus listeners.
struct Slot {
    shared: Arc<ServiceShared>,
    listeners: Vec<Listener>,
    /// STOP SERVICE was given (cleared by START SERVICE and by RELOAD).
    stopped: bool,
    /// Why the listeners could not be opened.
    failure: Option<String>,
}

/// What decides which sockets a service needs and which loop serves them.
#[derive(PartialEq, Eq)]
struct BindKey {
    enabled: bool,
    external: bool,
    addrs: BTreeSet<(Protocol, SocketAddr, Option<u8>)>,
    multicast: Vec<control::config::MulticastGroup>,
}

/// The master server.
pub struct Daemon {
    rt: Arc<Runtime>,
    origin: Origin,
    running: ServersConfig,
    saved: ServersConfig,
    db: ServiceDb,
    slots: Vec<Slot>,
    low_port_offset: u16,
    started: Instant,
    shutdown: watch::Sender<Option<bool>>,
    /// Packet filters on Linux interfaces.
    filters: crate::filters::InterfaceFilters,
    /// Maynard's own stack, when network.toml configures one (see `netstack_requests.rs`).
    netstack: Option<crate::netstack::NetstackHandle>,
    /// network.toml as the running stack has it (`netconfig_requests.rs`).
    network: Option<control::config::network::NetworkConfig>,
    /// Outgoing access restrictions on the host.
    outgoing: crate::outgoing::Outgoing,
    /// outgoing.toml as loaded, until `load_outgoing` applies it at start.
    outgoing_at_start: Option<control::config::outgoing::OutgoingConfig>,
}

/// A successful answer to a control request.
fn ok(message: impl Into<String>) -> Response {
    Response::Ok {
        message: message.into(),
    }
}

/// A refusal, saying why.
fn err(message: impl Into<String>) -> Response {
    Response::Error {
        message: message.into(),
    }
}

/// The log targets a configuration asks for; relative paths are relative to its directory.
pub fn log_targets(origin: &Origin, servers: &ServersConfig) -> Targets {
    let resolve = |p: &std::path::Path| match origin.dir() {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    };
    Targets {
        stderr: servers.netcp.log_stderr,
        log_file: servers.netcp.log_file.as_deref().map(resolve),
        accounting_file: servers.netcp.accounting_file.as_deref().map(resolve),
    }
}

/// The built-in servers' context a configuration asks for.
pub fn builtin_context(origin: &Origin, servers: &ServersConfig) -> Result<BuiltinContext, String> {
    let quotes = match &servers.netcp.qotd_file {
        None => Quotes::embedded(),
        Some(p) => {
            let path = match origin.dir() {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p.clone(),
            };
            Quotes::load(&path).map_err(|e| e.to_string())?
        }
    };
    let finger: FingerConfig = servers.finger.clone();
    let mut tftp = servers.tftp.clone();
    if let Some(dir) = origin.dir() {
        if tftp.root.is_relative() {
            tftp.root = dir.join(&tftp.root);
        }
    }
    let mut lpd = servers.lpd.clone();
    if let Some(dir) = origin.dir() {
        if lpd.spool.is_relative() {
            lpd.spool = dir.join(&lpd.spool);
        }
    }
    Ok(BuiltinContext::new(
        Arc::new(quotes),
        Arc::new(finger),
        Arc::new(tftp),
        Arc::new(servers.ntp.clone()),
        Arc::new(lpd),
    ))
}

impl Daemon {
    /// A daemon for a loaded configuration; call [`Daemon::start`] to open its listeners.
    pub fn new(rt: Arc<Runtime>, loaded: Loaded, shutdown: watch::Sender<Option<bool>>) -> Daemon {
        Daemon {
            rt,
            origin: loaded.origin,
            running: loaded.servers.clone(),
            saved: loaded.servers,
            db: loaded.db,
            slots: Vec::new(),
            low_port_offset: 0,
            started: Instant::now(),
            shutdown,
            filters: Default::default(),
            netstack: None,
            network: loaded.network,
            outgoing: Default::default(),
            outgoing_at_start: loaded.outgoing,
        }
    }

    /// Applies outgoing.toml's restrictions at start; a failure is logged (netcp runs on).
    pub async fn load_outgoing(&mut self) {
        let config = self.outgoing_at_start.take();
        if let Err(e) = self.outgoing.apply(config).await {
            self.rt.log.emit(self.rt.log.line("error").kv(
                "message",
                format!("outgoing access restrictions not in force: {e}"),
            ));
        }
    }

    /// At shutdown: lifts the outgoing access restrictions (their table goes).
    pub async fn unload_outgoing(&mut self) {
        let _ = self.outgoing.apply(None).await;
    }

    /// Opens the listeners of every enabled service.
    pub async fn start(&mut self, resolved: Vec<ResolvedService>) {
        self.apply(resolved).await;
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.shared.name.eq_ignore_ascii_case(name))
    }

    /// Decides the low-port offset: set when the configuration allows it and this process may
    /// not bind below 1024.
    fn update_low_port_offset(&mut self, resolved: &[ResolvedService]) {
        let lowest = resolved
            .iter()
            .filter(|s| s.enabled && matches!(s.server, Server::Builtin(_)))
            .flat_map(|s| s.endpoints.iter().map(|e| e.port))
            .filter(|&p| p < 1024)
            .min();
        let offset = match (self.running.netcp.low_port_offset, lowest) {
            (Some(off), Some(port)) if off > 0 && sockets::low_ports_forbidden(port) => off,
            _ => 0,
        };
        if offset != self.low_port_offset && offset > 0 {
            self.rt.log.notice(&format!(
                "ports below 1024 need privilege: every built-in service moves to port + {offset} (echo: {})",
                7u32 + u32::from(offset)
            ));
        }
        self.low_port_offset = offset;
    }

    fn bind_key(&self, s: &ResolvedService) -> BindKey {
        BindKey {
            enabled: s.enabled,
            external: matches!(s.server, Server::External { .. }),
            addrs: s
                .bind_addresses(self.low_port_offset)
                .into_iter()
                .map(|(ep, addr)| (ep.protocol, addr, ep.tos))
                .collect(),
            multicast: s.multicast.clone(),
        }
    }

    /// Makes the hosted services match `resolved`: new ones start, removed ones stop listening
    /// (their connections run to their end), changed ones take the new settings; a listener is
    /// reopened only when its sockets must change.
    async fn apply(&mut self, resolved: Vec<ResolvedService>) {
        self.update_low_port_offset(&resolved);
        let mut keep = Vec::with_capacity(resolved.len());
        let mut old = std::mem::take(&mut self.slots);
        for r in resolved {
            let pos = old
                .iter()
                .position(|s| s.shared.name.eq_ignore_ascii_case(&r.name));
            let slot = match pos {
                Some(i) => {
                    let mut slot = old.remove(i);
                    let same = self.bind_key(&slot.shared.settings()) == self.bind_key(&r);
                    slot.shared.update(r);
                    if !same || slot.listeners.is_empty() {
                        stop_listeners(&mut slot.listeners).await;
                        self.open(&mut slot);
                    }
                    slot
                }
                None => {
                    let mut slot = Slot {
                        shared: ServiceShared::new(r),
                        listeners: Vec::new(),
                        stopped: false,
                        failure: None,
                    };
                    self.open(&mut slot);
                    slot
                }
            };
            keep.push(slot);
        }
        for mut gone in old {
            stop_listeners(&mut gone.listeners).await;
            self.rt
                .log
                .emit(self.rt.log.line("remove").kv("service", &gone.shared.name));
        }
        self.slots = keep;
    }

    /// Opens a slot's listeners if it should listen; records a failure otherwise.
    fn open(&self, slot: &mut Slot) {
        let s = slot.shared.settings();
        slot.failure = None;
        if !s.enabled || slot.stopped || !slot.listeners.is_empty() {
            return;
        }
        match open_listeners(
            &self.rt,
            &slot.shared,
            &s,
            self.low_port_offset,
            self.netstack.as_ref(),
        ) {
            Ok(listeners) => {
                for l in &listeners {
                    self.rt.log.emit(
                        self.rt
                            .log
                            .line("listen")
                            .kv("service", &s.name)
                            .kv("proto", l.endpoint.protocol)
                            .kv("local", l.addr),
                    );
                }
                slot.listeners = listeners;
            }
            Err(e) => {
                self.rt.log.emit(
                    self.rt
                        .log
                        .line("error")
                        .kv("service", &s.name)
                        .kv("message", &e),
                );
                slot.failure = Some(e);
            }
        }
    }

    fn status(&self, slot: &Slot) -> ServiceStatus {
        let s = slot.shared.settings();
        let state = if !s.enabled {
            ServiceState::Disabled
        } else if slot.stopped {
            ServiceState::Stopped
        } else if slot.failure.is_some() {
            ServiceState::Failed
        } else {
            ServiceState::Running
        };
        let (arguments, user) = match &s.server {
            Server::External {
                arguments, user, ..
            } => (arguments.clone(), user.clone()),
            Server::Builtin(_) => (Vec::new(), None),
        };
        ServiceStatus {
            name: s.name.clone(),
            state,
            server: s.server.describe(),
            arguments,
            user,
            endpoints: s.endpoints.clone(),
            bound: slot
                .listeners
                .iter()
                .map(|l| BoundSocket {
                    protocol: l.endpoint.protocol,
                    addr: l.addr,
                })
                .collect(),
            failure: slot.failure.clone(),
            active: slot
                .shared
                .meter
                .active
                .load(std::sync::atomic::Ordering::Relaxed),
            max_connections: s.max_connections,
            max_per_source: s.max_per_source,
            rate_per_source: s.rate_per_source,
            access: s.access.rules.clone(),
            access_default: s.access.default,
        }
    }

    /// Stops every listener (for shutdown); connections keep running.
    pub async fn stop_all(&mut self) {
        for slot in &mut self.slots {
            stop_listeners(&mut slot.listeners).await;
        }
    }

    /// Re-reads the whole configuration (SIGHUP, RELOAD). On any error nothing changes.
    pub async fn reload(&mut self) -> Result<String, String> {
        let loaded = config::load(&self.origin).map_err(|e| e.to_string())?;
        let ctx = builtin_context(&self.origin, &loaded.servers)?;
        // network.toml first: a change the stack refuses leaves everything as it was.
        let network = self.apply_network(loaded.network.clone()).await?;
        // Then the outgoing restrictions: nft refusing them leaves the rest as it was too.
        self.outgoing
            .apply(loaded.outgoing.clone())
            .await
            .map_err(|e| format!("outgoing access restrictions: {e}"))?;
        self.rt
            .log
            .reconfigure(log_targets(&self.origin, &loaded.servers))
            .map_err(|e| format!("cannot open log: {e}"))?;
        if let Ok(mut c) = self.rt.builtin.write() {
            *c = ctx;
        }
        self.rt.snmp.replace(&loaded.snmp);
        self.rt.ips.configure(&self.rt, loaded.ips.as_ref()).await;
        for w in &loaded.warnings {
            self.rt.log.notice(w);
        }
        self.running = loaded.servers.clone();
        self.saved = loaded.servers;
        self.db = loaded.db;
        for slot in &mut self.slots {
            slot.stopped = false;
        }
        let n = loaded.resolved.len();
        self.apply(loaded.resolved).await;
        let message = format!(
            "configuration reloaded from {}: {n} services; {network}",
            self.origin.describe()
        );
        self.rt
            .log
            .emit(self.rt.log.line("reload").kv("message", &message));
        Ok(message)
    }

    /// The running configuration's services resolved against `db`, or every error.
    fn resolve_running(&self, db: &ServiceDb) -> Result<Vec<ResolvedService>, String> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for svc in &self.running.services {
            match config::resolve_one(svc, &self.running.defaults, db) {
                Ok(r) => out.push(r),
                Err(e) => errors.extend(
                    e.into_iter()
                        .map(|m| format!("service `{}`: {m}", svc.name)),
                ),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors.join("\n"))
        }
    }
}

/// Connections a listener on Maynard's stack holds before the service takes them.
const STACK_BACKLOG: usize = 1024;

/// Opens every socket a service needs, all or none.
fn open_listeners(
    rt: &Arc<Runtime>,
    shared: &Arc<ServiceShared>,
    s: &ResolvedService,
    low_port_offset: u16,
    netstack: Option<&crate::netstack::NetstackHandle>,
) -> Result<Vec<Listener>, String> {
    let mut out = Vec::new();
    for (endpoint, addr) in s.bind_addresses(low_port_offset) {
        // An address of one of Maynard's stack's interfaces: the stack's socket serves it.
        if let Some(r) =
            crate::netstack::open_on_stack(netstack, endpoint.protocol, addr, STACK_BACKLOG)
        {
            let socket =
                r.map_err(|e| format!("cannot listen on {}/{addr}: {e}", endpoint.protocol))?;
            let task = match socket {
                StackSocket::Udp(u) => {
                    tokio::spawn(crate::netstack::serve_udp(rt.clone(), shared.clone(), u))
                }
                StackSocket::Tcp(l) => {
                    tokio::spawn(crate::tcp::stack_accept_loop(rt.clone(), shared.clone(), l))
                }
            };
            out.push(Listener {
                endpoint,
                addr,
                task: Some(task),
            });
            continue;
        }
        let listener = match endpoint.protocol {
            Protocol::Tcp => sockets::tcp_listener(addr, endpoint.tos).map(|l| {
                let bound = l.local_addr().unwrap_or(addr);
                let task = tokio::spawn(crate::tcp::accept_loop(rt.clone(), shared.clone(), l));
                Listener {
                    endpoint,
                    addr: bound,
                    task: Some(task),
                }
            }),
            Protocol::Udp => sockets::udp_socket(addr, endpoint.tos).map(|u| {
                let bound = u.local_addr().unwrap_or(addr);
                let task = tokio::spawn(crate::udp::serve(rt.clone(), shared.clone(), u));
                Listener {
                    endpoint,
                    addr: bound,
                    task: Some(task),
                }
            }),
        };
        match listener {
            Ok(l) => out.push(l),
            // Dropping `out` closes what was opened.
            Err(e) => {
                return Err(format!(
                    "cannot listen on {}/{addr}: {e}",
                    endpoint.protocol
                ))
            }
        }
    }
    // The service's multicast groups: sockets bound to each group, joined where it listens.
    out.extend(crate::multicast::open_group_listeners(
        rt,
        shared,
        s,
        low_port_offset,
        netstack,
    )?);
    Ok(out)
}

/// Closes listeners and waits until their sockets are really gone, so the same address can be
/// bound again at once.
pub(super) async fn stop_listeners(listeners: &mut Vec<Listener>) {
    for mut l in listeners.drain(..) {
        if let Some(task) = l.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}
