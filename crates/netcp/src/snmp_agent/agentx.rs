//! The AgentX master's sockets: the Unix socket (net-snmp's `/var/agentx/master` by default)
//! and optionally TCP, one task per subagent connection. The protocol logic is
//! `agentx::master`; this file moves frames, keeps the requests waiting for answers, and keeps
//! the agent's registries (the default context's and one per non-default context) in step
//! with the master's registrations.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentx::master::{ConnId, Event, Master, Outgoing};
use agentx::pdu::{ContextVarBinds, Get, GetBulk, Response};
use agentx::pdu_wire::SearchRange;
use agentx::{PduBody, ResponseError};
use snmp::delegate::{DelegateId, RemoteOp, RemoteOpKind, RemoteReply};
use snmp::registry::RegistrationId;
use snmp::{ErrorStatus, Oid};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{oneshot, Notify};

use super::lock;
use crate::runtime::Runtime;

pub(super) mod inflight;
mod sink;
use inflight::{Waiter, Waiting};
use sink::{FrameSink, Sink};

/// The AgentX master's state in netcp.
pub struct AgentxHost {
    master: Mutex<Master>,
    /// Each connection's writer: a request's task writes its PDU itself (`sink.rs`).
    conns: Mutex<HashMap<ConnId, Arc<dyn FrameSink>>>,
    /// Requests waiting for a subagent's Response, by (session, packet ID) (`inflight.rs`).
    waiting: Mutex<Waiting>,
    /// Wakes the timeout sweeper of inline requests.
    sweeper: Notify,
    sweeper_started: AtomicBool,
    /// Some connection holds corked PDUs ([`AgentxHost::flush`]).
    corked: AtomicBool,
    next_conn: AtomicU64,
    next_transaction: AtomicU32,
    /// The subtrees registered in the agent for sessions, by context (empty: the default
    /// context): subtree → (session, registration).
    pub(super) installed: Mutex<BTreeMap<Vec<u8>, Installed>>,
    /// The listener tasks (aborted when `[agentx]` changes).
    listeners: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl AgentxHost {
    pub fn new(timeout: Duration) -> Self {
        AgentxHost {
            master: Mutex::new(Master::new(timeout)),
            conns: Mutex::new(HashMap::new()),
            waiting: Mutex::new(Waiting::default()),
            sweeper: Notify::new(),
            sweeper_started: AtomicBool::new(false),
            corked: AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            next_transaction: AtomicU32::new(1),
            installed: Mutex::new(BTreeMap::new()),
            listeners: Mutex::new(Vec::new()),
        }
    }

    /// A transaction ID for one SNMP request (the same for every PDU of a Set).
    pub fn transaction(&self) -> u32 {
        self.next_transaction.fetch_add(1, Ordering::Relaxed)
    }

    pub fn master(&self) -> std::sync::MutexGuard<'_, Master> {
        lock(&self.master)
    }

    /// The subtree (as registered in `context`) that holds `oid` for `session`, for its
    /// timeout.
    fn subtree_of(&self, session: u32, context: &[u8], oid: &Oid) -> Option<Oid> {
        lock(&self.installed)
            .get(context)?
            .iter()
            .filter(|(k, (s, _))| *s == session && oid.starts_with(k))
            .max_by_key(|(k, _)| k.len())
            .map(|(k, _)| k.clone())
    }

    /// Performs one operation for a session and waits for its answer (or the timeout).
    pub async fn perform(&self, transaction: u32, op: &RemoteOp) -> RemoteReply {
        self.finish(self.begin(transaction, op)).await
    }

    /// Builds the PDU of one operation for its session (with a new packet ID); `None` when
    /// the session is not open.
    fn build(&self, transaction: u32, op: &RemoteOp) -> Option<(u32, Outgoing)> {
        let session = u32::try_from(op.delegate.0).ok()?;
        // A request of a non-default context says so (NON_DEFAULT_CONTEXT, §6.1.1).
        let context = (!op.context.is_empty()).then(|| op.context.clone());
        let (body, key) = match &op.kind {
            RemoteOpKind::Get(oids) => (
                PduBody::Get(Get {
                    context,
                    ranges: oids
                        .iter()
                        .map(|o| SearchRange::from(o.clone(), false))
                        .collect(),
                }),
                oids.first(),
            ),
            RemoteOpKind::Next {
                start,
                include,
                end,
                max_repetitions,
            } => {
                let range = SearchRange {
                    start: start.clone(),
                    end: end.clone(),
                    include: *include,
                };
                let bulk = *max_repetitions > 1;
                let body = if !bulk {
                    PduBody::GetNext(Get {
                        context,
                        ranges: vec![range],
                    })
                } else {
                    PduBody::GetBulk(GetBulk {
                        context,
                        non_repeaters: 0,
                        max_repetitions: u16::try_from(*max_repetitions).unwrap_or(u16::MAX),
                        ranges: vec![range],
                    })
                };
                (body, Some(start))
            }
            RemoteOpKind::TestSet(vbs) => (
                PduBody::TestSet(ContextVarBinds {
                    context,
                    varbinds: vbs.clone(),
                }),
                vbs.first().map(|v| &v.oid),
            ),
            RemoteOpKind::CommitSet => (PduBody::CommitSet, None),
            RemoteOpKind::UndoSet => (PduBody::UndoSet, None),
            RemoteOpKind::CleanupSet => (PduBody::CleanupSet, None),
        };
        let subtree = key.and_then(|k| self.subtree_of(session, &op.context, k));
        let out = self
            .master()
            .request(session, transaction, body, subtree.as_ref())?;
        Some((session, out))
    }

    /// Writes a PDU to a connection, or holds it for [`AgentxHost::flush`] (`corked`); false
    /// when the connection is gone or failed.
    fn transmit(&self, conn: ConnId, bytes: &[u8], corked: bool) -> bool {
        let Some(sink) = lock(&self.conns).get(&conn).cloned() else {
            return false;
        };
        if !corked {
            return sink.send(bytes);
        }
        let held = sink.queue(bytes);
        self.corked.store(true, Ordering::Release);
        held
    }

    /// Writes out every PDU held by corked sends: the UDP loop calls this once it has
    /// dispatched every datagram that was waiting, so the subagent gets them in one write.
    pub fn flush(&self) {
        if !self.corked.swap(false, Ordering::AcqRel) {
            return;
        }
        let sinks: Vec<Arc<dyn FrameSink>> = lock(&self.conns).values().cloned().collect();
        for s in sinks {
            s.uncork();
        }
    }

    /// Sends one operation's PDU to its session now, from the caller's task (no hand-off to
    /// another task before the subagent has it); [`AgentxHost::finish`] waits for the answer.
    pub fn begin(&self, transaction: u32, op: &RemoteOp) -> Started {
        let Some((session, out)) = self.build(transaction, op) else {
            return Started::Over(gen_err());
        };
        let wants_answer = !matches!(op.kind, RemoteOpKind::CleanupSet);
        let rx = if wants_answer {
            let (tx, rx) = oneshot::channel();
            lock(&self.waiting).insert((session, out.packet_id), Waiter::Task(tx), &self.sweeper);
            Some(rx)
        } else {
            None
        };
        let sent = self.transmit(out.conn, &out.bytes, false);
        let Some(rx) = rx else {
            return Started::Over(RemoteReply::Done);
        };
        if !sent {
            lock(&self.waiting).map.remove(&(session, out.packet_id));
            return Started::Over(gen_err());
        }
        let varbinds = matches!(op.kind, RemoteOpKind::Get(_) | RemoteOpKind::Next { .. });
        Started::Waiting {
            session,
            packet_id: out.packet_id,
            timeout: out.timeout,
            varbinds,
            rx,
        }
    }

    /// Waits for the answer to what [`AgentxHost::begin`] sent (or its timeout).
    pub async fn finish(&self, started: Started) -> RemoteReply {
        let (session, packet_id, timeout, varbinds, rx) = match started {
            Started::Over(r) => return r,
            Started::Waiting {
                session,
                packet_id,
                timeout,
                varbinds,
                rx,
            } => (session, packet_id, timeout, varbinds, rx),
        };
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(resp)) => reply_of(varbinds, resp),
            // The session closed while waiting.
            Ok(Err(_)) => gen_err(),
            Err(_) => {
                lock(&self.waiting).map.remove(&(session, packet_id));
                self.master().timed_out(session);
                gen_err()
            }
        }
    }

    /// Aborts the listeners (a changed `[agentx]`, or netcp stopping).
    fn stop_listeners(&self) {
        for h in lock(&self.listeners).drain(..) {
            h.abort();
        }
    }
}

/// An operation sent to a subagent ([`AgentxHost::begin`]).
pub enum Started {
    /// Answered already (sent without an answer to wait for, or failed).
    Over(RemoteReply),
    /// Sent; the Response completes `rx`.
    Waiting {
        session: u32,
        packet_id: u32,
        timeout: Duration,
        /// A Get/GetNext/GetBulk (its Response carries varbinds).
        varbinds: bool,
        rx: oneshot::Receiver<Response>,
    },
}

pub(super) fn gen_err() -> RemoteReply {
    RemoteReply::Failed {
        status: ErrorStatus::GenErr,
        index: 0,
    }
}

/// A subagent's Response as the agent core wants it: SNMP errors as they are, AgentX's own
/// (processingError, parseError, ...) as genErr.
/// (`varbinds`: the request was a Get/GetNext/GetBulk.)
fn reply_of(varbinds: bool, r: Response) -> RemoteReply {
    match r.error {
        ResponseError::NoError if varbinds => RemoteReply::Varbinds(r.varbinds),
        ResponseError::NoError => RemoteReply::Done,
        ResponseError::Snmp(status) => RemoteReply::Failed {
            status,
            index: u32::from(r.index),
        },
        _ => RemoteReply::Failed {
            status: ErrorStatus::GenErr,
            index: u32::from(r.index),
        },
    }
}

/// The subtrees of one context registered in the agent for delegates: subtree → (delegate
/// number - base, registration).
pub type Installed = BTreeMap<Oid, (u32, RegistrationId)>;

/// Makes the agent's registries serve what the master's registrations say, in every context
/// (after every change, and after RELOAD rebuilt the agent). A context the master no longer
/// has is emptied, and so ceases to exist in the agent too.
pub fn sync_registry(rt: &Runtime) {
    let (default, contexts) = {
        let m = rt.snmp.agentx.master();
        let contexts: BTreeMap<Vec<u8>, Vec<(Oid, u32)>> = m
            .contexts()
            .into_iter()
            .map(|c| {
                let e = m.effective_in(Some(&c));
                (c, e)
            })
            .collect();
        (m.effective(), contexts)
    };
    let mut installed = lock(&rt.snmp.agentx.installed);
    sync_context(
        rt,
        installed.entry(Vec::new()).or_default(),
        &[],
        &default,
        0,
    );
    let mut names: Vec<Vec<u8>> = installed
        .keys()
        .filter(|c| !c.is_empty())
        .cloned()
        .collect();
    names.extend(contexts.keys().cloned());
    names.sort();
    names.dedup();
    for name in names {
        let effective = contexts.get(&name).map_or(&[][..], Vec::as_slice);
        sync_context(
            rt,
            installed.entry(name.clone()).or_default(),
            &name,
            effective,
            0,
        );
        if effective.is_empty() {
            installed.remove(&name);
        }
    }
}

/// Registers in the agent's default context the subtrees of `effective` (subtree, delegate
/// number - `base`) and removes those `installed` has that it no longer lists.
pub fn sync_installed(
    rt: &Runtime,
    installed: &Mutex<Installed>,
    effective: &[(Oid, u32)],
    base: u64,
) {
    sync_context(rt, &mut lock(installed), &[], effective, base);
}

/// [`sync_installed`] for one context.
fn sync_context(
    rt: &Runtime,
    installed: &mut Installed,
    context: &[u8],
    effective: &[(Oid, u32)],
    base: u64,
) {
    rt.snmp.with_agent(|agent, _| {
        let wanted: HashMap<&Oid, u32> = effective.iter().map(|(o, s)| (o, *s)).collect();
        installed.retain(|oid, (owner, id)| {
            if wanted.get(oid) == Some(owner) {
                true
            } else {
                agent.unregister_remote_in(context, *id);
                false
            }
        });
        for (oid, owner) in effective {
            if installed.contains_key(oid) {
                continue;
            }
            let delegate = DelegateId(base + u64::from(*owner));
            if let Ok(id) = agent.register_remote_in(context, oid.clone(), delegate) {
                installed.insert(oid.clone(), (*owner, id));
            }
        }
    });
}

/// After RELOAD: the new agent has none of the sessions' subtrees yet, nor the non-default
/// contexts' sysORTables.
pub fn reinstall(rt: &Runtime) {
    lock(&rt.snmp.agentx.installed).clear();
    lock(&rt.snmp.smux.installed).clear();
    reserve_local(rt);
    sync_registry(rt);
    super::smux::sync_registry(rt);
    let caps: Vec<_> = rt
        .snmp
        .agentx
        .master()
        .agent_caps()
        .iter()
        .filter(|c| c.context.is_some())
        .cloned()
        .collect();
    rt.snmp.with_agent(|a, now| {
        for c in caps {
            a.add_sysor_in(c.context.as_deref(), c.id, &c.descr, now);
        }
    });
}

/// Tells the master which subtrees the agent serves itself (in the default context: the
/// non-default ones hold only subagents' subtrees).
pub fn reserve_local(rt: &Runtime) {
    let mut installed: Vec<Oid> = lock(&rt.snmp.agentx.installed)
        .get(&Vec::new())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    installed.extend(lock(&rt.snmp.smux.installed).keys().cloned());
    let local: Vec<Oid> = rt.snmp.with_agent(|a, _| {
        a.registry()
            .subtrees()
            .into_iter()
            .map(|(o, _)| o)
            .filter(|o| !installed.contains(o))
            .collect()
    });
    rt.snmp.agentx.master().set_reserved(local);
}

/// Acts on the master's events.
fn apply(rt: &Arc<Runtime>, events: Vec<Event>) -> bool {
    let mut close = false;
    let mut changed = false;
    for e in events {
        match e {
            Event::RegistrationsChanged => changed = true,
            Event::Notify { trap, varbinds } => rt.snmp.notify_oid(
                trap.clone(),
                trap.to_string(),
                varbinds,
                "agentx subagent".into(),
            ),
            Event::AddAgentCaps { context, id, descr } => {
                rt.snmp
                    .with_agent(|a, now| a.add_sysor_in(context.as_deref(), id, &descr, now));
            }
            Event::RemoveAgentCaps { context, id } => {
                rt.snmp
                    .with_agent(|a, now| a.remove_sysor_in(context.as_deref(), &id, now));
            }
            Event::Response {
                session,
                packet_id,
                response,
            } => inflight::deliver(rt, session, packet_id, response),
            Event::CloseConnection => close = true,
        }
    }
    if changed {
        sync_registry(rt);
    }
    close
}

/// Serves one subagent connection until it closes.
async fn serve_conn<R, W>(rt: Arc<Runtime>, mut rd: R, wr: W, peer: String)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: sink::HalfWrite,
{
    let host = &rt.snmp.agentx;
    let conn = host.next_conn.fetch_add(1, Ordering::Relaxed);
    let sink = Arc::new(Sink::new(wr));
    lock(&host.conns).insert(conn, sink.clone());
    let writer = tokio::spawn(sink.clone().flusher());
    rt.log.emit(
        rt.log
            .line("agentx-connect")
            .kv("connection", conn)
            .kv("peer", &peer),
    );
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 65536];
    'read: loop {
        // Every complete frame in the buffer first: each Response finishes its request here
        // (the SNMP answer leaves from this task); PDUs of next rounds go out in one write.
        let mut at = 0;
        let mut fatal = false;
        // The SNMP answers finished in this pass leave in one sendmmsg when it closes (no
        // await until then).
        let answers = crate::udp::ReplyBatch::open();
        loop {
            let rest = &buf[at..];
            let len = match agentx::pdu::frame_len(rest) {
                Ok(Some(l)) if rest.len() >= l => l,
                Ok(_) => break,
                Err(_) => {
                    fatal = true;
                    break;
                }
            };
            let now = rt.snmp.uptime();
            let handled = host.master().receive(conn, &rest[..len], now);
            at += len;
            if let Some(reply) = handled.reply {
                sink.send(&reply);
            }
            if apply(&rt, handled.events) {
                fatal = true;
                break;
            }
        }
        buf.drain(..at);
        host.flush();
        drop(answers);
        if fatal {
            break 'read;
        }
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    lock(&host.conns).remove(&conn);
    let sessions: Vec<u32> = host
        .master()
        .sessions()
        .filter(|s| s.conn == conn)
        .map(|s| s.id)
        .collect();
    let events = host.master().connection_closed(conn);
    // Requests waiting for these sessions fail now rather than at their timeout.
    let orphans = lock(&host.waiting).remove_sessions(&sessions);
    inflight::fail(&rt, orphans);
    apply(&rt, events);
    writer.abort();
    rt.log.emit(
        rt.log
            .line("agentx-disconnect")
            .kv("connection", conn)
            .kv("sessions", sessions.len()),
    );
}

/// Binds the Unix socket: creates its directory (0755), refuses to take over a socket another
/// master is serving, replaces a stale one, and sets the socket's mode.
fn bind_unix(path: &Path, mode: u32) -> std::io::Result<tokio::net::UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another AgentX master is serving this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let l = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(l)
}

/// Starts (or restarts) the listeners for `snmp.toml`'s `[agentx]`.
pub fn start(rt: &Arc<Runtime>, cfg: &control::config::snmp::SnmpAgentx) {
    let host = &rt.snmp.agentx;
    host.stop_listeners();
    if !host.sweeper_started.swap(true, Ordering::AcqRel) {
        tokio::spawn(inflight::sweeper(rt.clone()));
    }
    if let Some(t) = control::config::snmp::parse_duration(&cfg.timeout) {
        host.master().set_default_timeout(t);
    }
    reserve_local(rt);
    if !cfg.enable {
        close_all(rt);
        return;
    }
    let mut handles = Vec::new();
    if !cfg.socket.is_empty() {
        let mode = control::config::snmp::parse_mode(&cfg.socket_mode).unwrap_or(0o600);
        match bind_unix(Path::new(&cfg.socket), mode) {
            Ok(l) => {
                rt.log.emit(
                    rt.log
                        .line("agentx-listen")
                        .kv("socket", &cfg.socket)
                        .kv("mode", format!("{mode:o}")),
                );
                let rt2 = rt.clone();
                handles.push(
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            let (rd, wr) = s.into_split();
                            tokio::spawn(serve_conn(rt2.clone(), rd, wr, "unix".into()));
                        }
                    })
                    .abort_handle(),
                );
            }
            Err(e) => rt.log.emit(
                rt.log
                    .line("agentx-listen")
                    .kv("socket", &cfg.socket)
                    .kv("error", e),
            ),
        }
    }
    let tcp: Option<std::net::SocketAddr> = cfg.tcp.as_deref().and_then(|a| a.parse().ok());
    // The configuration check refuses this already; a listener for other hosts is never
    // opened by mistake.
    let tcp = tcp.filter(|a| {
        let allowed = a.ip().is_loopback() || cfg.tcp_remote;
        if !allowed {
            rt.log.emit(
                rt.log
                    .line("agentx-listen")
                    .kv("tcp", a)
                    .kv("error", "not a loopback address and tcp_remote is false"),
            );
        }
        allowed
    });
    if let Some(addr) = tcp {
        let rt2 = rt.clone();
        handles.push(
            tokio::spawn(async move {
                let l = match tokio::net::TcpListener::bind::<std::net::SocketAddr>(addr).await {
                    Ok(l) => l,
                    Err(e) => {
                        rt2.log
                            .emit(rt2.log.line("agentx-listen").kv("tcp", addr).kv("error", e));
                        return;
                    }
                };
                rt2.log.emit(rt2.log.line("agentx-listen").kv("tcp", addr));
                while let Ok((s, peer)) = l.accept().await {
                    let _ = s.set_nodelay(true);
                    let (rd, wr) = s.into_split();
                    tokio::spawn(serve_conn(rt2.clone(), rd, wr, peer.to_string()));
                }
            })
            .abort_handle(),
        );
    }
    *lock(&host.listeners) = handles;
}

/// netcp is stopping: no new subagents, and a Close (reasonShutdown) to every session, so
/// subagents know at once rather than when their next request or ping fails.
pub fn shutdown(rt: &Arc<Runtime>) {
    rt.snmp.agentx.stop_listeners();
    let sessions = rt.snmp.agentx.master().sessions().count();
    close_all(rt);
    if sessions > 0 {
        rt.log.emit(
            rt.log
                .line("agentx-shutdown")
                .kv("sessions_closed", sessions),
        );
    }
}

/// Closes every session (AgentX turned off by RELOAD): a Close PDU (reasonShutdown) to each;
/// the subagents then end their connections.
fn close_all(rt: &Arc<Runtime>) {
    let host = &rt.snmp.agentx;
    let ids: Vec<u32> = host.master().sessions().map(|s| s.id).collect();
    for id in ids {
        let closed = host
            .master()
            .close_session(id, agentx::CloseReason::Shutdown);
        if let Some((conn, bytes, events)) = closed {
            let sink = lock(&host.conns).get(&conn).cloned();
            if let Some(w) = sink {
                w.send(&bytes);
            }
            let orphans = lock(&host.waiting).remove_sessions(&[id]);
            inflight::fail(rt, orphans);
            apply(rt, events);
        }
    }
}

/// `SHOW SNMP /SUBAGENTS`: sessions and their registrations.
pub fn show(host: &AgentxHost, now: Duration) -> String {
    use std::fmt::Write as _;
    let m = host.master();
    let mut out = String::new();
    let sessions: Vec<_> = m.sessions().collect();
    let _ = writeln!(out, "AgentX sessions: {}", sessions.len());
    // Which session serves each subtree, per context (registrations of different contexts
    // never shadow each other).
    let mut effective: HashMap<(Option<Vec<u8>>, Oid), u32> = m
        .effective()
        .into_iter()
        .map(|(o, s)| ((None, o), s))
        .collect();
    for c in m.contexts() {
        for (o, s) in m.effective_in(Some(&c)) {
            effective.insert((Some(c.clone()), o), s);
        }
    }
    for s in sessions {
        let _ = writeln!(
            out,
            "  session {} ({}), id {}, timeout {}, up {}s, {} requests, {} timeouts",
            s.id,
            if s.descr.is_empty() { "-" } else { &s.descr },
            if s.oid.is_empty() {
                "-".to_string()
            } else {
                s.oid.to_string()
            },
            if s.timeout == 0 {
                "default".to_string()
            } else {
                format!("{}s", s.timeout)
            },
            now.saturating_sub(s.opened).as_secs(),
            s.requests,
            s.timeouts
        );
        for r in m.registrations().iter().filter(|r| r.session == s.id) {
            let region = if r.range_subid > 0 {
                format!(
                    "{} (sub-identifier {} up to {})",
                    r.subtree, r.range_subid, r.upper_bound
                )
            } else {
                r.subtree.to_string()
            };
            let active = r
                .expanded
                .iter()
                .filter(|o| effective.get(&(r.context.clone(), (*o).clone())) == Some(&s.id))
                .count();
            let _ = writeln!(
                out,
                "    {region}  priority {}{}{}{}",
                r.priority,
                if r.timeout > 0 {
                    format!(", timeout {}s", r.timeout)
                } else {
                    String::new()
                },
                r.context
                    .as_ref()
                    .map(|c| format!(", context {}", String::from_utf8_lossy(c)))
                    .unwrap_or_default(),
                if active == r.expanded.len() {
                    ""
                } else if active == 0 {
                    ", shadowed"
                } else {
                    ", partly shadowed"
                }
            );
        }
    }
    let caps = m.agent_caps();
    if !caps.is_empty() {
        let _ = writeln!(out, "Agent capabilities:");
        for c in caps {
            let _ = writeln!(
                out,
                "  session {}: {} {}{}",
                c.session,
                c.id,
                c.descr,
                c.context
                    .as_ref()
                    .map(|c| format!(" (context {})", String::from_utf8_lossy(c)))
                    .unwrap_or_default()
            );
        }
    }
    out
}
