//! The SNMP agent (crate `snmp`) as netcp's built-in `snmp` service: configured from `snmp.toml`,
//! MIB-II and the Host Resources MIB from the Linux host, one agent shared by every listener.
//!
//! Also: notifications to `snmp.toml`'s `[[target]]`s (coldStart at start, warmStart after
//! RELOAD, authenticationFailure when enabled; traps sent once, informs resent until the
//! Response arrives), and `snmp-state.toml` in the configuration directory (snmpEngineBoots,
//! incremented at every start; sysContact, sysName and sysLocation set by SNMP).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use control::config::snmp::{
    SnmpAccess, SnmpConfig, SnmpNotifyKind, SnmpOverride, SnmpState, SnmpTarget, SNMP_STATE_FILE,
};
use snmp::agent::{centis, Access, AgentEvent, AuthProtocol, PrivProtocol, SecurityLevel, UsmUser};
use snmp::host::LinuxHost;
use snmp::notify::StandardTrap;
use snmp::{Agent, AgentConfig, AnyPdu, Community, Message, Oid, PduType, VarBind};
use tokio::sync::mpsc;

use crate::runtime::Runtime;

pub mod agentx;
mod inform_v3;
mod remote;
pub mod smux;
pub mod stack_view;
pub use remote::{answer, flush, poll_now, ReplyFn, SnmpAnswer};

/// What the notifier task does: send a notification, or set the clock (hrSystemDate).
#[derive(Debug)]
enum Queued {
    Notify(Notification),
    SetClock(i64),
}

/// One notification to send to every target.
#[derive(Debug)]
pub struct Notification {
    /// snmpTrapOID.0 and its name for the log.
    trap: Oid,
    name: String,
    uptime: u32,
    varbinds: Vec<VarBind>,
    /// Why, for the log (e.g. the peer of an authentication failure).
    cause: String,
}

/// The agent and the instant its uptime counts from.
pub struct SnmpHost {
    agent: Mutex<Agent>,
    started: Instant,
    /// `snmp-state.toml` (none with the embedded configuration).
    state_path: Option<PathBuf>,
    state: Mutex<SnmpState>,
    /// The configuration in force (targets; the system values SNMP overrides).
    config: Mutex<SnmpConfig>,
    /// The system group's generation last persisted.
    generation: Mutex<u64>,
    notify_tx: mpsc::UnboundedSender<Queued>,
    notify_rx: Mutex<Option<mpsc::UnboundedReceiver<Queued>>>,
    request_id: AtomicI32,
    /// The stack interfaces' last operational states, by ifIndex ([`SnmpHost::observe_links`]).
    links: Mutex<Vec<(u32, bool)>>,
    /// What Maynard's stack shows through MIB-II, published by its thread (`stack_view.rs`);
    /// the same cell across RELOAD.
    stack_view: snmp::mib::stack::StackViewCell,
    /// When the stack last published.
    stack_view_at: Mutex<Option<Instant>>,
    /// The AgentX master.
    pub agentx: agentx::AgentxHost,
    /// SMUX peers.
    pub smux: smux::SmuxHost,
    /// The runtime, once [`start_notifier`] ran (RELOAD restarts the subagent listeners).
    runtime: std::sync::OnceLock<std::sync::Weak<Runtime>>,
}

fn access(a: SnmpAccess) -> Access {
    match a {
        SnmpAccess::ReadOnly => Access::ReadOnly,
        SnmpAccess::ReadWrite => Access::ReadWrite,
    }
}

fn oid(s: &str) -> Option<Oid> {
    Oid::from_str(s.strip_prefix('.').unwrap_or(s)).ok()
}

fn auth_protocol(name: &str) -> Option<AuthProtocol> {
    match name.to_ascii_lowercase().as_str() {
        "sha" | "sha-1" => Some(AuthProtocol::Sha1),
        "sha-224" => Some(AuthProtocol::Sha224),
        "sha-256" => Some(AuthProtocol::Sha256),
        "sha-384" => Some(AuthProtocol::Sha384),
        "sha-512" => Some(AuthProtocol::Sha512),
        _ => None,
    }
}

/// The agent's configuration for `snmp.toml` (already validated by `control`), with the values
/// SNMP set that still hold (see [`SnmpOverride`]) and this run's engine boots.
fn agent_config(cfg: &SnmpConfig, state: &SnmpState) -> AgentConfig {
    let mut cfg = cfg.clone();
    if let Some(v) = SnmpOverride::effective(&state.contact, Some(&cfg.system.contact)) {
        cfg.system.contact = v;
    }
    if let Some(v) = SnmpOverride::effective(&state.name, cfg.system.name.as_deref()) {
        cfg.system.name = Some(v);
    }
    if let Some(v) = SnmpOverride::effective(&state.location, Some(&cfg.system.location)) {
        cfg.system.location = v;
    }
    let cfg = &cfg;
    let mut c = AgentConfig {
        engine_boots: state.engine_boots.max(1),
        sys_descr: cfg.system.description.clone().unwrap_or_else(|| {
            format!(
                "Maynard {} on {}",
                env!("CARGO_PKG_VERSION"),
                snmp::mib::linux_sys_descr(&LinuxHost)
            )
        }),
        sys_contact: cfg.system.contact.clone(),
        sys_name: cfg
            .system
            .name
            .clone()
            .unwrap_or_else(|| snmp::mib::linux_host_name(&LinuxHost)),
        sys_location: cfg.system.location.clone(),
        enable_authen_traps: cfg.agent.authentication_traps,
        allow_set_system_date: cfg.agent.allow_set_system_date,
        salt_seed: u64::from(std::process::id()) ^ Instant::now().elapsed().as_nanos() as u64,
        ..AgentConfig::default()
    };
    if let Some(m) = cfg.agent.max_message_size {
        c.max_message_size = m;
    }
    c.communities = cfg
        .communities
        .iter()
        .map(|k| {
            let mut community = Community::new(&k.name, access(k.access));
            for p in &k.sources {
                community = community.from_source(*p);
            }
            for o in k.view.iter().filter_map(|o| oid(o)) {
                community = community.with_view(o);
            }
            for o in k.exclude.iter().filter_map(|o| oid(o)) {
                community = community.without_view(o);
            }
            community.in_context(&k.context)
        })
        .collect();
    let engine = c.engine_id.clone();
    c.users = cfg
        .users
        .iter()
        .map(|u| {
            let auth = u
                .auth
                .as_deref()
                .and_then(auth_protocol)
                .zip(u.auth_password.as_deref());
            let privacy = u
                .privacy
                .as_ref()
                .map(|_| PrivProtocol::Aes128)
                .zip(u.privacy_password.as_deref());
            let mut user =
                UsmUser::with_passwords(&u.name, access(u.access), auth, privacy, &engine);
            for o in u.view.iter().filter_map(|o| oid(o)) {
                user.view = user.view.include(o);
            }
            for o in u.exclude.iter().filter_map(|o| oid(o)) {
                user.view = user.view.exclude(o);
            }
            user
        })
        .collect();
    c
}

fn build(
    cfg: &SnmpConfig,
    state: &SnmpState,
    started: Instant,
    stack: &snmp::mib::stack::StackViewCell,
) -> Agent {
    let mut agent = Agent::new(agent_config(cfg, state));
    snmp::mib::register_linux_with_stack(
        &mut agent,
        Arc::new(LinuxHost),
        stack.clone(),
        started.elapsed(),
    );
    agent
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads `snmp-state.toml`, counts this start in snmpEngineBoots (RFC 3414 2.2.2) and writes
/// it back. Unreadable state counts as none (boots starts again at 1).
fn start_state(path: Option<&Path>) -> SnmpState {
    let Some(path) = path else {
        return SnmpState {
            engine_boots: 1,
            ..SnmpState::default()
        };
    };
    let mut state = match std::fs::read_to_string(path) {
        Ok(text) => control::config::snmp::parse_state(&text).unwrap_or_else(|e| {
            eprintln!("netcp: {}: ignored: {e}", path.display());
            SnmpState::default()
        }),
        Err(_) => SnmpState::default(),
    };
    // 2^31-1 is the latch value: the engine must then be reconfigured (new engine ID).
    state.engine_boots = state
        .engine_boots
        .saturating_add(1)
        .clamp(1, i32::MAX as u32);
    write_state(path, &state);
    state
}

fn write_state(path: &Path, state: &SnmpState) {
    let text = control::config::snmp::render_state(state);
    if let Err(e) = control::config::write_atomically(path, text.as_bytes()) {
        eprintln!("netcp: cannot write {}: {e}", path.display());
    }
}

impl SnmpHost {
    /// An agent for `cfg`; `dir` is the configuration directory holding `snmp-state.toml`.
    /// Queues coldStart (sent once [`start_notifier`] runs).
    pub fn new(cfg: &SnmpConfig, dir: Option<&Path>) -> SnmpHost {
        let started = Instant::now();
        let state_path = dir.map(|d| d.join(SNMP_STATE_FILE));
        let state = start_state(state_path.as_deref());
        let stack_view = snmp::mib::stack::StackViewCell::new();
        let agent = build(cfg, &state, started, &stack_view);
        let generation = lock(&agent.system()).generation;
        let (notify_tx, notify_rx) = mpsc::unbounded_channel();
        let host = SnmpHost {
            agent: Mutex::new(agent),
            started,
            state_path,
            state: Mutex::new(state),
            config: Mutex::new(cfg.clone()),
            generation: Mutex::new(generation),
            notify_tx,
            notify_rx: Mutex::new(Some(notify_rx)),
            request_id: AtomicI32::new((std::process::id() as i32 & 0xffff) << 12),
            links: Mutex::new(Vec::new()),
            stack_view,
            stack_view_at: Mutex::new(None),
            agentx: agentx::AgentxHost::new(
                control::config::snmp::parse_duration(&cfg.agentx.timeout)
                    .unwrap_or(Duration::from_secs(5)),
            ),
            smux: smux::SmuxHost::new(&cfg.smux),
            runtime: std::sync::OnceLock::new(),
        };
        host.notify(StandardTrap::ColdStart, Vec::new(), "start".into());
        host
    }

    /// A new configuration (RELOAD); sysUpTime keeps counting from netcp's start, engine boots
    /// and the values SNMP set stay. Queues warmStart.
    pub fn replace(&self, cfg: &SnmpConfig) {
        let agent = build(cfg, &lock(&self.state), self.started, &self.stack_view);
        let generation = lock(&agent.system()).generation;
        *lock(&self.agent) = agent;
        *lock(&self.generation) = generation;
        let old = std::mem::replace(&mut *lock(&self.config), cfg.clone());
        if let Some(rt) = self.runtime.get().and_then(std::sync::Weak::upgrade) {
            // The new agent serves the subagents' subtrees as the old one did.
            agentx::reinstall(&rt);
            if old.agentx != cfg.agentx {
                agentx::start(&rt, &cfg.agentx);
            }
            if old.smux != cfg.smux {
                smux::start(&rt, &cfg.smux);
            }
        }
        self.notify(StandardTrap::WarmStart, Vec::new(), "reload".into());
    }

    /// The agent's uptime (sysUpTime).
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Queues a notification for every target.
    fn notify(&self, trap: StandardTrap, varbinds: Vec<VarBind>, cause: String) {
        self.notify_oid(trap.oid(), trap_name(trap).into(), varbinds, cause);
    }

    /// Queues a notification with any snmpTrapOID (a subagent's) for every target.
    pub fn notify_oid(&self, trap: Oid, name: String, varbinds: Vec<VarBind>, cause: String) {
        let _ = self.notify_tx.send(Queued::Notify(Notification {
            trap,
            name,
            uptime: centis(self.started.elapsed()),
            varbinds,
            cause,
        }));
    }

    /// linkUp/linkDown from the states of Maynard's stack interfaces, called by the stack's
    /// thread each round (ifIndex: the stack's interface number plus
    /// [`snmp::mib::stack::IFINDEX_BASE`], as in the ifTable; admin: UP; oper: UP and RUNNING). The first state seen of an
    /// interface is only recorded; a change of the operational state sends linkUp or linkDown
    /// (ifIndex, ifAdminStatus, ifOperStatus, and ifDescr with the interface's name).
    pub fn observe_links<'a>(&self, links: impl Iterator<Item = &'a stack::Interface>) {
        use stack::IfaceFlags;
        let status = |up: bool| if up { 1 } else { 2 };
        let mut known = lock(&self.links);
        for iface in links {
            let index = stack_view::if_index(iface);
            let admin = iface.flags().contains(IfaceFlags::UP);
            let oper = iface.is_up();
            let i = match known.binary_search_by_key(&index, |k| k.0) {
                Ok(i) => i,
                Err(i) => {
                    known.insert(i, (index, oper));
                    continue;
                }
            };
            if known[i].1 == oper {
                continue;
            }
            known[i].1 = oper;
            let mut varbinds = snmp::notify::link_varbinds(index, status(admin), status(oper));
            varbinds.push(VarBind::new(
                Oid::new(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2, index]),
                snmp::Value::OctetString(iface.name().to_string().into_bytes()),
            ));
            let trap = if oper {
                StandardTrap::LinkUp
            } else {
                StandardTrap::LinkDown
            };
            self.notify(trap, varbinds, format!("interface {}", iface.name()));
        }
    }

    /// Runs `f` on the agent with the current uptime, then acts on the agent's events
    /// (authenticationFailure, the clock) and persists the system group after a Set.
    pub(crate) fn with_agent<R>(&self, f: impl FnOnce(&mut Agent, Duration) -> R) -> R {
        let mut agent = self.agent.lock().unwrap_or_else(|p| p.into_inner());
        let answer = f(&mut agent, self.started.elapsed());
        let events = agent.drain_events();
        let traps = agent.authen_traps_enabled();
        let system = agent.system();
        drop(agent);
        for e in events {
            match e {
                AgentEvent::AuthenticationFailure { peer } => {
                    self.report_auth_failure(peer);
                    if traps {
                        self.notify(
                            StandardTrap::AuthenticationFailure,
                            Vec::new(),
                            format!("from {peer}"),
                        );
                    }
                }
                // After the answer: the notifier task sets the clock and logs it.
                AgentEvent::SetSystemDate { unix_seconds } => {
                    let _ = self.notify_tx.send(Queued::SetClock(unix_seconds));
                }
            }
        }
        self.persist_system(&system);
        answer
    }

    /// An authentication failure is an IPS event (`snmp`, `auth-failure`): a source guessing
    /// communities or SNMPv3 users. The agent does not say which local address was asked.
    fn report_auth_failure(&self, peer: std::net::SocketAddr) {
        let Some(rt) = self.runtime.get().and_then(std::sync::Weak::upgrade) else {
            return;
        };
        rt.ips.report(&rt, || ips::Event {
            component: "snmp".into(),
            event: "auth-failure".into(),
            source: wire::prefix::canonical(peer.ip()),
            destination: None,
            protocol: ips::Proto::Udp,
        });
    }

    /// After a committed Set of the system group: records sysContact, sysName and sysLocation
    /// that differ from `snmp.toml` in `snmp-state.toml`.
    fn persist_system(&self, system: &Mutex<snmp::agent::SystemState>) {
        let (contact, name, location) = {
            let s = lock(system);
            // Nothing set since the last look (every request but a Set): no copies.
            let mut seen = lock(&self.generation);
            if *seen == s.generation {
                return;
            }
            *seen = s.generation;
            (s.contact.clone(), s.name.clone(), s.location.clone())
        };
        let cfg = lock(&self.config).system.clone();
        let over = |value: String, configured: Option<String>, effective: Option<&str>| {
            (Some(value.as_str()) != effective).then_some(SnmpOverride { value, configured })
        };
        let mut state = lock(&self.state);
        state.contact = over(contact, Some(cfg.contact.clone()), Some(&cfg.contact));
        // sysName's default (the host name) is not a configured value.
        let default_name = cfg
            .name
            .clone()
            .unwrap_or_else(|| snmp::mib::linux_host_name(&LinuxHost));
        state.name = over(name, cfg.name.clone(), Some(&default_name));
        state.location = over(location, Some(cfg.location.clone()), Some(&cfg.location));
        if let Some(path) = &self.state_path {
            write_state(path, &state);
        }
    }

    /// SHOW SNMP: counters, communities and users without secrets, registered subtrees.
    pub fn show(&self) -> String {
        let s = self
            .agent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary();
        let mut out = String::new();
        let engine: String = s.engine_id.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "SNMP agent: engine {engine}, boots {}", s.engine_boots);
        let _ = writeln!(out, "\nCommunities (names are secrets and not shown):");
        for (i, c) in s.communities.iter().enumerate() {
            let sources: Vec<String> = c.sources.iter().map(|p| p.to_string()).collect();
            let view: Vec<String> = c
                .view
                .families
                .iter()
                .map(|(o, inc)| format!("{}{o}", if *inc { "+" } else { "-" }))
                .collect();
            let _ = writeln!(
                out,
                "  {:>2}. {:?}, from {}, view {}",
                i + 1,
                c.access,
                if sources.is_empty() {
                    "anywhere".into()
                } else {
                    sources.join(" ")
                },
                if view.is_empty() {
                    "everything".into()
                } else {
                    view.join(" ")
                }
            );
        }
        let _ = writeln!(out, "\nSNMPv3 users:");
        if s.users.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for u in &s.users {
            let _ = writeln!(
                out,
                "  {}: {:?}, auth {}, privacy {}",
                u.name,
                u.access,
                u.auth.map_or("none".into(), |a| format!("{a:?}")),
                u.privacy.map_or("none".into(), |p| format!("{p:?}"))
            );
        }
        let _ = writeln!(out, "\nNotification targets (communities not shown):");
        let (targets, users) = {
            let c = lock(&self.config);
            (c.targets.clone(), c.users.clone())
        };
        if targets.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for t in &targets {
            let kind = match t.kind {
                SnmpNotifyKind::Trap => "trap".to_string(),
                SnmpNotifyKind::Inform => {
                    format!("inform, {} retries, {} ms", t.retries, t.timeout_ms)
                }
            };
            let security = match (&t.user, t.security_level(&users)) {
                (Some(u), Some(level)) if t.is_v3() => format!(", user {u} {level}"),
                _ => String::new(),
            };
            let _ = writeln!(out, "  {} v{}: {kind}{security}", t.address, t.version);
        }
        let _ = writeln!(out, "\nCounters:");
        for (name, v) in s.counters.iter().chain(s.usm_counters.iter()) {
            if *v > 0 {
                let _ = writeln!(out, "  {name:<32} {v}");
            }
        }
        let _ = writeln!(out, "\nRegistered subtrees:");
        for o in &s.subtrees {
            let _ = writeln!(out, "  {o}");
        }
        let sessions = self.agentx.master().sessions().count();
        let _ = writeln!(
            out,
            "\nSubagents: {sessions} AgentX session(s), {} SMUX peer(s) (SHOW SNMP /SUBAGENTS)",
            self.smux.peer_count()
        );
        out
    }

    /// SHOW SNMP /SUBAGENTS: AgentX sessions with their registrations.
    pub fn show_subagents(&self) -> String {
        let mut out = agentx::show(&self.agentx, self.uptime());
        out.push_str(&smux::show(&self.smux, self.uptime()));
        out
    }
}

fn trap_name(t: StandardTrap) -> &'static str {
    match t {
        StandardTrap::ColdStart => "coldStart",
        StandardTrap::WarmStart => "warmStart",
        StandardTrap::LinkDown => "linkDown",
        StandardTrap::LinkUp => "linkUp",
        StandardTrap::AuthenticationFailure => "authenticationFailure",
    }
}

/// Starts the task sending the queued notifications (once; later calls do nothing).
pub fn start_notifier(rt: &Arc<Runtime>) {
    let Some(mut rx) = lock(&rt.snmp.notify_rx).take() else {
        return;
    };
    let _ = rt.snmp.runtime.set(Arc::downgrade(rt));
    // The subagent listeners start with the notifier: both need the runtime.
    let cfg = lock(&rt.snmp.config).clone();
    agentx::start(rt, &cfg.agentx);
    smux::start(rt, &cfg.smux);
    let rt = rt.clone();
    tokio::spawn(async move {
        while let Some(q) = rx.recv().await {
            let n = match q {
                Queued::Notify(n) => n,
                Queued::SetClock(secs) => {
                    let result =
                        set_clock(secs).map_or_else(|e| format!("failed: {e}"), |()| "set".into());
                    rt.log.emit(
                        rt.log
                            .line("snmp-set-system-date")
                            .kv("unix_seconds", secs)
                            .kv("result", result),
                    );
                    continue;
                }
            };
            let targets = lock(&rt.snmp.config).targets.clone();
            let n = Arc::new(n);
            for t in targets {
                let id = rt.snmp.request_id.fetch_add(1, Ordering::Relaxed) & i32::MAX;
                tokio::spawn(send_one(rt.clone(), t, n.clone(), id));
            }
        }
    });
}

/// Sets the system clock (a committed Set of hrSystemDate).
fn set_clock(unix_seconds: i64) -> std::io::Result<()> {
    let ts = libc::timespec {
        tv_sec: unix_seconds as libc::time_t,
        tv_nsec: 0,
    };
    // SAFETY: clock_settime only reads the timespec passed.
    if unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &ts) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The SNMPv3 trap of `n` for target `t` (validated by `control`: a configured user, a level
/// its keys allow), built by the agent, which holds the engine ID, boots and localized keys.
fn v3_trap(rt: &Runtime, t: &SnmpTarget, n: &Notification, id: i32) -> std::io::Result<Vec<u8>> {
    let refused =
        |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_string());
    let users = lock(&rt.snmp.config).users.clone();
    let level = t
        .security_level(&users)
        .and_then(SecurityLevel::parse)
        .ok_or_else(|| refused("no such user or level"))?;
    let user = t.user.as_deref().unwrap_or_default();
    let pdu = snmp::notify::v2_trap_pdu(id, n.uptime, &n.trap, &n.varbinds);
    rt.snmp
        .with_agent(|agent, now| agent.v3_notification(user, level, id, pdu, now))
        .ok_or_else(|| refused("the user's keys do not allow the level"))
}

/// Sends `n` to `t`: a trap once, an inform until its Response arrives or the retries run out.
async fn send_one(rt: Arc<Runtime>, t: SnmpTarget, n: Arc<Notification>, id: i32) {
    let log = &rt.log;
    let Some(to) = t.socket_addr() else { return };
    let result = async {
        let any: IpAddr = if to.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let sock = tokio::net::UdpSocket::bind(SocketAddr::new(any, 0)).await?;
        sock.connect(to).await?;
        if t.is_v3() && t.kind == SnmpNotifyKind::Inform {
            return inform_v3::send(&rt, &t, &n, id, &sock).await;
        }
        let trap = n.trap.clone();
        let community = t.community.as_bytes();
        let msg = if t.is_v3() {
            v3_trap(&rt, &t, &n, id)?
        } else if t.is_v1() {
            let agent_addr = match sock.local_addr()?.ip() {
                IpAddr::V4(a) => a.octets(),
                IpAddr::V6(_) => [0; 4],
            };
            snmp::notify::v1_trap(community, agent_addr, n.uptime, &trap, &n.varbinds)
        } else if t.kind == SnmpNotifyKind::Inform {
            snmp::notify::v2c_inform(community, id, n.uptime, &trap, &n.varbinds)
        } else {
            snmp::notify::v2c_trap(community, id, n.uptime, &trap, &n.varbinds)
        };
        if t.kind == SnmpNotifyKind::Trap || t.is_v1() || t.is_v3() {
            sock.send(&msg).await?;
            return Ok::<_, std::io::Error>("sent".to_string());
        }
        let mut buf = vec![0u8; 65536];
        for attempt in 0..=t.retries {
            sock.send(&msg).await?;
            let deadline = tokio::time::Instant::now() + Duration::from_millis(t.timeout_ms);
            loop {
                let got = tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await;
                let Ok(got) = got else { break };
                // An ICMP port unreachable shows as an error: wait out the attempt instead.
                let Ok(len) = got else {
                    tokio::time::sleep_until(deadline).await;
                    break;
                };
                if let Ok(m) = Message::decode(&buf[..len]) {
                    if let AnyPdu::Pdu(p) = m.pdu {
                        if p.pdu_type == PduType::Response && p.request_id == id {
                            return Ok(format!("acknowledged after {} sends", attempt + 1));
                        }
                    }
                }
            }
        }
        Ok(format!("unacknowledged after {} sends", t.retries + 1))
    }
    .await;
    let kind = if t.kind == SnmpNotifyKind::Inform && !t.is_v1() {
        "inform"
    } else {
        "trap"
    };
    log.emit(
        log.line("snmp-notification")
            .kv("notification", &n.name)
            .kv("target", to)
            .kv("version", &t.version)
            .kv("kind", kind)
            .kv("cause", &n.cause)
            .kv("result", result.unwrap_or_else(|e| format!("failed: {e}"))),
    );
}
