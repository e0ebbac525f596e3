//! The subagent runtime (tokio): connects to a master agent over a Unix or TCP socket, drives
//! a [`Session`] with the bytes and the clock, and reconnects with backoff when the master
//! goes away — re-opening and re-registering by itself.
//!
//! ```no_run
//! use agentx::helpers::Scalars;
//! use agentx::subagent::Subagent;
//! use snmp::{oid, Value};
//! # async fn f() {
//! let handler = Scalars::new(oid!(1, 3, 6, 1, 4, 1, 99999, 1))
//!     .read(1, || Value::string("hello"));
//! let mut sub = Subagent::builder("my-agent")
//!     .socket("/var/agentx/master") // or "tcp:127.0.0.1:705"
//!     .register(oid!(1, 3, 6, 1, 4, 1, 99999, 1), handler)
//!     .build();
//! let _ = sub.run().await;
//! # }
//! ```
//!
//! A subtree can also be served in a named SNMP context (an SNMPv3 manager reaches it with
//! `-n NAME`): `.register_in("ctxA", subtree, handler)`, or [`Control::register_in`] while
//! running; it is registered in that context on every (re)connection.

use crate::pdu::{frame_len, Header, Pdu};
use crate::pdu_error::{CloseReason, ResponseError};
use crate::pdu_wire::ByteOrder;
use crate::session::{Config, Event, Session, State};
use snmp::{Handler, Oid, Registry, Value, VarBind};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Where net-snmp's master listens by default (and so where subagents look).
pub const DEFAULT_SOCKET: &str = "/var/agentx/master";

/// snmpTrapOID.0 (RFC 3418), the second varbind of every notification.
pub fn snmp_trap_oid() -> Oid {
    snmp::oid!(1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
}

/// The master's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Unix stream socket path (`/var/agentx/master`, or `unix:/path`).
    Unix(PathBuf),
    /// A TCP address (`tcp:127.0.0.1:705`).
    Tcp(String),
}

impl Endpoint {
    /// Parses net-snmp's agentXSocket notation (the forms above).
    pub fn parse(s: &str) -> Result<Endpoint, SubagentError> {
        if let Some(a) = s.strip_prefix("tcp:") {
            if a.is_empty() {
                return Err(SubagentError::BadSocket(s.to_string()));
            }
            // net-snmp accepts a bare port ("tcp:705") meaning localhost.
            if a.parse::<u16>().is_ok() {
                return Ok(Endpoint::Tcp(format!("127.0.0.1:{a}")));
            }
            return Ok(Endpoint::Tcp(a.to_string()));
        }
        let p = s.strip_prefix("unix:").unwrap_or(s);
        if p.is_empty() {
            return Err(SubagentError::BadSocket(s.to_string()));
        }
        Ok(Endpoint::Unix(PathBuf::from(p)))
    }
}

/// Errors of the runtime. Connection failures are not errors: the subagent retries them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubagentError {
    /// The socket string names no endpoint.
    #[error("bad AgentX socket {0:?} (a path, unix:PATH or tcp:HOST:PORT)")]
    BadSocket(String),
}

/// Why a notification was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Too many notifications wait for a connection to the master.
    #[error("notification queue full")]
    Full,
    /// The subagent is gone.
    #[error("subagent stopped")]
    Stopped,
}

/// Sends notifications through the subagent (cheap to clone, usable from any task).
#[derive(Clone)]
pub struct Notifier {
    tx: mpsc::Sender<Vec<VarBind>>,
}

impl Notifier {
    /// Sends a Notify with these varbinds as they are (RFC 2741 §6.2.10: snmpTrapOID.0
    /// first, optionally preceded by sysUpTime.0).
    pub fn notify(&self, varbinds: Vec<VarBind>) -> Result<(), NotifyError> {
        self.tx.try_send(varbinds).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => NotifyError::Full,
            mpsc::error::TrySendError::Closed(_) => NotifyError::Stopped,
        })
    }

    /// Sends notification `trap` (its OID) with these objects: prepends snmpTrapOID.0.
    pub fn trap(&self, trap: Oid, objects: Vec<VarBind>) -> Result<(), NotifyError> {
        let mut v = Vec::with_capacity(objects.len() + 1);
        v.push(VarBind::new(snmp_trap_oid(), Value::ObjectId(trap)));
        v.extend(objects);
        self.notify(v)
    }
}

/// A change asked of a running subagent (subtrees with their context, empty: default).
enum Command {
    Register(Vec<u8>, Oid, Box<dyn Handler>),
    Unregister(Vec<u8>, Oid),
    AddCaps(Vec<u8>, Oid, String),
    RemoveCaps(Vec<u8>, Oid),
}

/// Changes what a running subagent serves (cheap to clone, usable from any task). Changes
/// apply to the current session at once and to every later one.
#[derive(Clone)]
pub struct Control {
    tx: mpsc::UnboundedSender<Command>,
}

impl Control {
    fn send(&self, c: Command) -> Result<(), NotifyError> {
        self.tx.send(c).map_err(|_| NotifyError::Stopped)
    }

    /// Serves one more subtree (esnmp_register). A subtree already served locally is
    /// reported as an `Event::RegisterFailed` with processingError.
    pub fn register(
        &self,
        subtree: Oid,
        handler: impl Handler + 'static,
    ) -> Result<(), NotifyError> {
        self.register_in(Vec::new(), subtree, handler)
    }

    /// [`Control::register`] in SNMP context `context` (empty: the default context).
    pub fn register_in(
        &self,
        context: impl Into<Vec<u8>>,
        subtree: Oid,
        handler: impl Handler + 'static,
    ) -> Result<(), NotifyError> {
        self.send(Command::Register(
            context.into(),
            subtree,
            Box::new(handler),
        ))
    }

    /// Stops serving a subtree (esnmp_unregister).
    pub fn unregister(&self, subtree: Oid) -> Result<(), NotifyError> {
        self.unregister_in(Vec::new(), subtree)
    }

    /// [`Control::unregister`] for a subtree registered in `context`.
    pub fn unregister_in(
        &self,
        context: impl Into<Vec<u8>>,
        subtree: Oid,
    ) -> Result<(), NotifyError> {
        self.send(Command::Unregister(context.into(), subtree))
    }

    /// Announces an AGENT-CAPABILITIES (esnmp_capabilities).
    pub fn add_agent_caps(&self, id: Oid, descr: impl Into<String>) -> Result<(), NotifyError> {
        self.add_agent_caps_in(Vec::new(), id, descr)
    }

    /// [`Control::add_agent_caps`] in SNMP context `context` (its own sysORTable).
    pub fn add_agent_caps_in(
        &self,
        context: impl Into<Vec<u8>>,
        id: Oid,
        descr: impl Into<String>,
    ) -> Result<(), NotifyError> {
        self.send(Command::AddCaps(context.into(), id, descr.into()))
    }

    /// Withdraws an AGENT-CAPABILITIES (esnmp_uncapabilities).
    pub fn remove_agent_caps(&self, id: Oid) -> Result<(), NotifyError> {
        self.remove_agent_caps_in(Vec::new(), id)
    }

    /// [`Control::remove_agent_caps`] for capabilities of `context`.
    pub fn remove_agent_caps_in(
        &self,
        context: impl Into<Vec<u8>>,
        id: Oid,
    ) -> Result<(), NotifyError> {
        self.send(Command::RemoveCaps(context.into(), id))
    }
}

/// Stops a running subagent (it sends Close(shutdown) and `run` returns).
#[derive(Clone)]
pub struct ShutdownHandle(std::sync::Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Asks the subagent to stop.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

/// What the subagent is doing, published after every step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The session's state.
    pub state: State,
    /// The master's session ID (0 when not open).
    pub session_id: u32,
    /// Sessions opened so far (grows by one per successful reconnection).
    pub sessions: u64,
    /// Subtrees the master accepted in the current session.
    pub registered: Vec<Oid>,
}

type EventHook = Box<dyn FnMut(&Event) + Send>;

/// Configures a [`Subagent`].
pub struct SubagentBuilder {
    config: Config,
    socket: String,
    registry: Registry,
    subtrees: Vec<Oid>,
    /// Subtrees of non-default contexts: context, subtree, handler.
    in_contexts: Vec<(Vec<u8>, Oid, Box<dyn Handler>)>,
    backoff: (Duration, Duration),
    on_event: Option<EventHook>,
    errors: Vec<String>,
}

impl SubagentBuilder {
    /// The master's socket: a path, `unix:PATH` or `tcp:HOST:PORT` (default
    /// [`DEFAULT_SOCKET`]).
    pub fn socket(mut self, s: impl Into<String>) -> Self {
        self.socket = s.into();
        self
    }

    /// Serves `subtree` with `handler` (registered with the master on every connection).
    pub fn register(self, subtree: Oid, handler: impl Handler + 'static) -> Self {
        self.register_boxed(subtree, Box::new(handler))
    }

    /// [`SubagentBuilder::register`] for an already boxed handler.
    pub fn register_boxed(mut self, subtree: Oid, handler: Box<dyn Handler>) -> Self {
        match self.registry.register(subtree.clone(), handler) {
            Ok(_) => self.subtrees.push(subtree),
            Err(e) => self.errors.push(e.to_string()),
        }
        self
    }

    /// Serves `subtree` with `handler` in SNMP context `context` (registered with the master
    /// with NON_DEFAULT_CONTEXT on every connection; an empty context is the default one).
    pub fn register_in(
        mut self,
        context: impl Into<Vec<u8>>,
        subtree: Oid,
        handler: impl Handler + 'static,
    ) -> Self {
        let context = context.into();
        if context.is_empty() {
            return self.register(subtree, handler);
        }
        self.in_contexts.push((context, subtree, Box::new(handler)));
        self
    }

    /// The Open PDU's object identifier (o.id).
    pub fn id(mut self, id: Oid) -> Self {
        self.config.id = id;
        self
    }

    /// Registration priority (lower wins; default 127).
    pub fn priority(mut self, p: u8) -> Self {
        self.config.priority = p;
        self
    }

    /// How long to wait for the master's answers (default 5 s); also sent in Open.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.config.timeout = t;
        self
    }

    /// Ping the master this often to notice a dead one (default 15 s; None: never).
    pub fn ping_interval(mut self, every: Option<Duration>) -> Self {
        self.config.ping_interval = every;
        self
    }

    /// Reconnection delays: starts at `min`, doubles per failure up to `max` (default
    /// 250 ms .. 30 s).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = (min, max.max(min));
        self
    }

    /// Announces an AGENT-CAPABILITIES statement once registered (the master lists it in
    /// sysORTable).
    pub fn agent_caps(mut self, id: Oid, descr: impl Into<String>) -> Self {
        self.config.agent_caps.push((id, descr.into()));
        self
    }

    /// [`SubagentBuilder::agent_caps`] in SNMP context `context` (listed in that context's
    /// sysORTable; empty: the default context).
    pub fn agent_caps_in(
        self,
        context: impl Into<Vec<u8>>,
        id: Oid,
        descr: impl Into<String>,
    ) -> Self {
        let context = context.into();
        if context.is_empty() {
            return self.agent_caps(id, descr);
        }
        let mut s = self;
        s.config
            .context_agent_caps
            .push((context, id, descr.into()));
        s
    }

    /// Called with every session event (opened, registered, refused, timeouts...), e.g. to
    /// log them.
    pub fn on_event(mut self, f: impl FnMut(&Event) + Send + 'static) -> Self {
        self.on_event = Some(Box::new(f));
        self
    }

    /// The subagent (nothing is connected until [`Subagent::run`]).
    pub fn build(mut self) -> Subagent {
        let mut session = Session::new(self.config, self.registry, self.subtrees);
        for (context, subtree, handler) in self.in_contexts {
            if let Err(e) = session.register_in(&context, subtree, handler) {
                self.errors.push(e.to_string());
            }
        }
        let endpoint = if let Some(e) = self.errors.first() {
            Err(SubagentError::BadSocket(format!(
                "registration refused: {e}"
            )))
        } else {
            Endpoint::parse(&self.socket)
        };
        let (notify_tx, notify_rx) = mpsc::channel(256);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (status_tx, _) = watch::channel(Status {
            state: State::Closed,
            session_id: 0,
            sessions: 0,
            registered: Vec::new(),
        });
        Subagent {
            session,
            endpoint,
            backoff: self.backoff,
            notify_tx,
            notify_rx,
            cmd_tx,
            cmd_rx,
            shutdown_tx: std::sync::Arc::new(shutdown_tx),
            shutdown_rx,
            status_tx,
            on_event: self.on_event,
            epoch: Instant::now(),
            registered: Vec::new(),
            sessions: 0,
        }
    }
}

/// An AgentX subagent: see the module documentation.
pub struct Subagent {
    session: Session,
    endpoint: Result<Endpoint, SubagentError>,
    backoff: (Duration, Duration),
    notify_tx: mpsc::Sender<Vec<VarBind>>,
    notify_rx: mpsc::Receiver<Vec<VarBind>>,
    cmd_tx: mpsc::UnboundedSender<Command>,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
    shutdown_tx: std::sync::Arc<watch::Sender<bool>>,
    shutdown_rx: watch::Receiver<bool>,
    status_tx: watch::Sender<Status>,
    on_event: Option<EventHook>,
    epoch: Instant,
    registered: Vec<Oid>,
    sessions: u64,
}

/// How one connection ended.
enum Ended {
    Shutdown,
    Lost { was_ready: bool },
}

impl Subagent {
    /// Starts configuring a subagent; `description` goes into the Open PDU.
    pub fn builder(description: impl Into<String>) -> SubagentBuilder {
        SubagentBuilder {
            config: Config {
                description: description.into(),
                ..Config::default()
            },
            socket: DEFAULT_SOCKET.to_string(),
            registry: Registry::new(),
            subtrees: Vec::new(),
            in_contexts: Vec::new(),
            backoff: (Duration::from_millis(250), Duration::from_secs(30)),
            on_event: None,
            errors: Vec::new(),
        }
    }

    /// A handle to send notifications.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            tx: self.notify_tx.clone(),
        }
    }

    /// A handle to register and unregister subtrees and capabilities while running.
    pub fn control(&self) -> Control {
        Control {
            tx: self.cmd_tx.clone(),
        }
    }

    /// A handle to stop [`Subagent::run`].
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown_tx.clone())
    }

    /// Watches the subagent's status (e.g. to wait until it is registered).
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status_tx.subscribe()
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Connects, opens, registers and serves until shut down; reconnects (with backoff)
    /// whenever the master closes, dies or stops answering. Fails only on a bad socket
    /// string or a refused local registration.
    pub async fn run(&mut self) -> Result<(), SubagentError> {
        let endpoint = self.endpoint.clone()?;
        let mut delay = self.backoff.0;
        loop {
            if *self.shutdown_rx.borrow() {
                return Ok(());
            }
            let ended = match connect(&endpoint, self.session_timeout()).await {
                Some(Conn::Unix(s)) => self.serve(s).await,
                Some(Conn::Tcp(s)) => self.serve(s).await,
                None => Ended::Lost { was_ready: false },
            };
            self.registered.clear();
            self.publish();
            match ended {
                Ended::Shutdown => return Ok(()),
                Ended::Lost { was_ready: true } => delay = self.backoff.0,
                Ended::Lost { was_ready: false } => {}
            }
            let wake = Instant::now() + delay;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => break,
                    _ = self.shutdown_rx.changed() => return Ok(()),
                    // Not connected: changes only prepare the next session.
                    Some(cmd) = self.cmd_rx.recv() => {
                        let _ = self.apply(cmd);
                        self.drain_events();
                    }
                }
            }
            delay = (delay * 2).min(self.backoff.1);
        }
    }

    /// The connect attempt gets the same patience as a request.
    fn session_timeout(&self) -> Duration {
        self.session.config().timeout
    }

    /// Publishes the status if it changed (compared in place: this runs after every batch of
    /// PDUs, and copies nothing when nothing changed).
    fn publish(&self) {
        let (state, session_id) = (self.session.state(), self.session.session_id());
        self.status_tx.send_if_modified(|s| {
            if s.state == state
                && s.session_id == session_id
                && s.sessions == self.sessions
                && s.registered == self.registered
            {
                return false;
            }
            *s = Status {
                state,
                session_id,
                sessions: self.sessions,
                registered: self.registered.clone(),
            };
            true
        });
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.session.poll_event() {
            match &e {
                Event::Opened { .. } => self.sessions += 1,
                Event::Registered(o) => self.registered.push(o.clone()),
                Event::Unregistered(o) => self.registered.retain(|r| r != o),
                _ => {}
            }
            if let Some(f) = self.on_event.as_mut() {
                f(&e);
            }
        }
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: S) -> Ended {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let open = self.session.connect(self.now());
        if send(&mut wr, &[open]).await.is_err() {
            self.session.disconnected();
            return Ended::Lost { was_ready: false };
        }
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        // Every answer of one batch, encoded back to back: one write per batch of requests.
        let mut out: Vec<u8> = Vec::with_capacity(4096);
        let mut pdus: Vec<Pdu> = Vec::new();
        let mut was_ready = false;
        // One timer for the whole connection, moved only when the session's deadline moves.
        let sleep = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(sleep);
        loop {
            self.drain_events();
            self.publish();
            match self.session.state() {
                State::Closed => return Ended::Lost { was_ready },
                State::Ready => was_ready = true,
                _ => {}
            }
            let wake = match self.session.next_deadline() {
                Some(d) => self.epoch + d,
                // Nothing due: look again within a second.
                None if sleep.deadline() > Instant::now() => sleep.deadline(),
                None => Instant::now() + Duration::from_secs(1),
            };
            if sleep.deadline() != wake {
                sleep.as_mut().reset(wake);
            }
            pdus.clear();
            // Not biased: a master that never stops sending must not starve the timer,
            // notifications or shutdown.
            tokio::select! {
                r = rd.read_buf(&mut buf) => match r {
                    Ok(0) | Err(_) => {
                        self.session.disconnected();
                        continue;
                    }
                    Ok(_) => {
                        if self.take_frames(&mut buf, &mut out).is_err() {
                            // The stream cannot be resynchronised: say why and drop it.
                            let _ = write_out(&mut wr, &mut out).await;
                            continue;
                        }
                    }
                },
                _ = &mut sleep => pdus = self.session.tick(self.epoch.elapsed()),
                Some(vbs) = self.notify_rx.recv() => pdus.extend(self.session.notify(vbs)),
                Some(cmd) = self.cmd_rx.recv() => pdus = self.apply(cmd),
                _ = self.shutdown_rx.changed() => {
                    let close = self.session.close(CloseReason::Shutdown);
                    let _ = send(&mut wr, &close.into_iter().collect::<Vec<_>>()).await;
                    let _ = wr.shutdown().await;
                    return Ended::Shutdown;
                }
            };
            for p in &pdus {
                p.encode_into(ByteOrder::Network, &mut out);
            }
            if write_out(&mut wr, &mut out).await.is_err() {
                self.session.disconnected();
            }
        }
    }

    /// Applies a [`Control`] request; returns what to send.
    fn apply(&mut self, cmd: Command) -> Vec<Pdu> {
        let pdu = match cmd {
            Command::Register(ctx, oid, h) => {
                match self.session.register_in(&ctx, oid.clone(), h) {
                    Ok(p) => p,
                    Err(_) => {
                        let e = Event::RegisterFailed(oid, ResponseError::ProcessingError);
                        if let Some(f) = self.on_event.as_mut() {
                            f(&e);
                        }
                        None
                    }
                }
            }
            Command::Unregister(ctx, oid) => {
                // Not open: nothing goes to the master, the subtree is just forgotten.
                if let Some(i) = self.registered.iter().position(|r| *r == oid) {
                    self.registered.remove(i);
                }
                self.session.unregister_in(&ctx, &oid)
            }
            Command::AddCaps(ctx, id, d) => self.session.add_agent_caps_in(&ctx, id, d),
            Command::RemoveCaps(ctx, id) => self.session.remove_agent_caps_in(&ctx, &id),
        };
        pdu.into_iter().collect()
    }

    /// Handles every whole PDU at the front of `buf`, appending the answers' encodings to
    /// `out`, and drops what it handled from `buf`. `Err` when the stream is not AgentX (the
    /// Close saying so is in `out`).
    fn take_frames(&mut self, buf: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<(), ()> {
        let mut at = 0;
        let mut answers = Vec::new();
        let result = loop {
            let rest = &buf[at..];
            let n = match frame_len(rest) {
                Ok(Some(n)) if rest.len() >= n => n,
                Ok(_) => break Ok(()),
                Err(_) => {
                    answers.extend(self.session.close(CloseReason::ParseError));
                    break Err(());
                }
            };
            let frame = &rest[..n];
            at += n;
            let now = self.now();
            match Pdu::decode(frame) {
                Ok(p) => self.session.handle_into(p, now, &mut answers),
                Err(_) => {
                    // frame_len accepted the header, so it decodes again here.
                    if let Ok(h) = Header::decode(frame) {
                        answers.push(self.session.parse_error(&h));
                    }
                }
            }
            for a in answers.drain(..) {
                a.encode_into(ByteOrder::Network, out);
            }
        };
        for a in answers.drain(..) {
            a.encode_into(ByteOrder::Network, out);
        }
        buf.drain(..at);
        result
    }
}

enum Conn {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

async fn connect(e: &Endpoint, limit: Duration) -> Option<Conn> {
    let attempt = async {
        match e {
            Endpoint::Unix(p) => tokio::net::UnixStream::connect(p)
                .await
                .ok()
                .map(Conn::Unix),
            Endpoint::Tcp(a) => {
                let s = tokio::net::TcpStream::connect(a.as_str()).await.ok()?;
                // Requests and answers are small and latency-bound.
                let _ = s.set_nodelay(true);
                Some(Conn::Tcp(s))
            }
        }
    };
    tokio::time::timeout(limit, attempt).await.ok().flatten()
}

/// Writes out `out` (one batch of encoded PDUs) and empties it, keeping its capacity.
async fn write_out<W: AsyncWrite + Unpin>(w: &mut W, out: &mut Vec<u8>) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let r = w.write_all(out).await;
    out.clear();
    r
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, pdus: &[Pdu]) -> std::io::Result<()> {
    if pdus.is_empty() {
        return Ok(());
    }
    let mut bytes = Vec::new();
    for p in pdus {
        bytes.extend_from_slice(&p.encode());
    }
    w.write_all(&bytes).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("/var/agentx/master"),
            Ok(Endpoint::Unix("/var/agentx/master".into()))
        );
        assert_eq!(
            Endpoint::parse("unix:/tmp/x"),
            Ok(Endpoint::Unix("/tmp/x".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp:127.0.0.1:705"),
            Ok(Endpoint::Tcp("127.0.0.1:705".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp:705"),
            Ok(Endpoint::Tcp("127.0.0.1:705".into()))
        );
        assert!(Endpoint::parse("").is_err());
        assert!(Endpoint::parse("tcp:").is_err());
    }
}
