//! The subagent side of an AgentX session, sans-I/O: the runtime hands it decoded PDUs and
//! the time, it answers with PDUs to send. It opens the session, registers every subtree,
//! serves Get/GetNext/GetBulk and the four Set phases from an [`snmp::Registry`] of
//! [`snmp::Handler`]s, pings, queues notifications, and times out requests the master does
//! not answer.
//!
//! Subtrees may be registered in a non-default SNMP context ([`Session::register_in`]): each
//! context has a registry of its own, registered with NON_DEFAULT_CONTEXT (RFC 2741 §6.1.1)
//! on every connection, and a request naming a context is served from that context's
//! registry only (unsupportedContext for a context the session has no registration in).

use crate::pdu::{
    AgentCaps, ContextVarBinds, Get, GetBulk, Header, Open, Pdu, PduBody, Register, Response,
    SearchRange,
};
use crate::pdu_error::{CloseReason, ResponseError};
use snmp::registry::Ctx;
use snmp::registry::RegistryError;
use snmp::{ErrorStatus, Handler, Oid, Registry, Value, VarBind};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Open PDU's description (o.descr).
    pub description: String,
    /// The Open PDU's identity (o.id; may be empty).
    pub id: Oid,
    /// How long the master may take to answer one of our requests, and the timeout we ask
    /// the master to apply to us (o.timeout, whole seconds, at most 255).
    pub timeout: Duration,
    /// Registration priority (lower wins; 127 is RFC 2741's default).
    pub priority: u8,
    /// Ping the master after this long without a ping (None: never).
    pub ping_interval: Option<Duration>,
    /// Notifications kept while the session is not open (older ones are dropped first).
    pub max_queued_notifications: usize,
    /// AGENT-CAPABILITIES announced (AddAgentCaps) once registered: identity, description.
    pub agent_caps: Vec<(Oid, String)>,
    /// AGENT-CAPABILITIES of non-default contexts (listed in that context's sysORTable):
    /// context, identity, description.
    pub context_agent_caps: Vec<(Vec<u8>, Oid, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            description: String::from("Maynard AgentX subagent"),
            id: Oid::empty(),
            timeout: Duration::from_secs(5),
            priority: 127,
            ping_interval: Some(Duration::from_secs(15)),
            max_queued_notifications: 100,
            agent_caps: Vec::new(),
            context_agent_caps: Vec::new(),
        }
    }
}

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// No connection (initially, or after a Close, an error or a timeout).
    Closed,
    /// Open sent, waiting for the master's Response.
    Opening,
    /// Open accepted; some Registers not answered yet.
    Registering,
    /// Every registration answered; serving.
    Ready,
}

/// Things the runtime may log or count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The master accepted the Open.
    Opened {
        /// The session ID it assigned.
        session_id: u32,
    },
    /// The master refused the Open.
    OpenFailed(ResponseError),
    /// A subtree is registered.
    Registered(Oid),
    /// A subtree is unregistered (answer to our Unregister).
    Unregistered(Oid),
    /// The master accepted an AddAgentCaps.
    AgentCapsAdded(Oid),
    /// The master refused an AddAgentCaps or RemoveAgentCaps.
    AgentCapsFailed(Oid, ResponseError),
    /// The master refused a registration (e.g. duplicateRegistration).
    RegisterFailed(Oid, ResponseError),
    /// The master closed the session.
    ClosedByMaster(CloseReason),
    /// A request of ours went unanswered for longer than the timeout.
    Timeout,
    /// The master answered a Ping.
    Pong,
    /// The master refused a Notify.
    NotifyFailed(ResponseError),
    /// The master sent something we could not use (after a parseError answer, or unasked).
    Unexpected(String),
}

/// A non-default context (`None`: the default context).
type Context = Option<Vec<u8>>;

#[derive(Debug, Clone)]
enum Pending {
    Open,
    Register(Oid),
    Unregister(Oid),
    AddCaps(Oid),
    RemoveCaps(Oid),
    Ping,
    Notify,
}

/// The varbinds of the Set transaction in progress and how far its phases got.
struct SetTxn {
    transaction_id: u32,
    /// The TestSet's context (CommitSet, UndoSet and CleanupSet carry none).
    context: Context,
    varbinds: Vec<VarBind>,
    tested: usize,
    committed: usize,
}

/// The subagent's protocol engine. See the module documentation.
pub struct Session {
    config: Config,
    registry: Registry,
    /// The registries of non-default contexts.
    contexts: BTreeMap<Vec<u8>, Registry>,
    /// Every registration, with its context, in registration order.
    subtrees: Vec<(Context, Oid)>,
    state: State,
    session_id: u32,
    next_packet: u32,
    pending: BTreeMap<u32, (Pending, Duration)>,
    last_ping: Duration,
    now: Duration,
    set: Option<SetTxn>,
    queued: VecDeque<Vec<VarBind>>,
    events: VecDeque<Event>,
}

impl Session {
    /// A session serving `registry`; `subtrees` are registered with the master on every
    /// (re)connection.
    pub fn new(config: Config, registry: Registry, subtrees: Vec<Oid>) -> Self {
        Session {
            config,
            registry,
            contexts: BTreeMap::new(),
            subtrees: subtrees.into_iter().map(|o| (None, o)).collect(),
            state: State::Closed,
            session_id: 0,
            next_packet: 0,
            pending: BTreeMap::new(),
            last_ping: Duration::ZERO,
            now: Duration::ZERO,
            set: None,
            queued: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The session ID the master assigned (0 before the Open is answered).
    pub fn session_id(&self) -> u32 {
        self.session_id
    }

    /// The handlers, e.g. to register more before the next connection.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn packet_id(&mut self) -> u32 {
        self.next_packet = self.next_packet.wrapping_add(1);
        self.next_packet
    }

    fn request(&mut self, kind: Pending, body: PduBody) -> Pdu {
        let id = self.packet_id();
        self.pending.insert(id, (kind, self.now));
        Pdu::new(self.session_id, 0, id, body)
    }

    fn cx(&self) -> Ctx {
        Ctx { now: self.now }
    }

    /// A new connection is up: forget the old session and return the Open to send.
    pub fn connect(&mut self, now: Duration) -> Pdu {
        self.now = now;
        self.abort_set();
        self.pending.clear();
        self.session_id = 0;
        self.state = State::Opening;
        self.last_ping = now;
        let timeout = u8::try_from(self.config.timeout.as_secs()).unwrap_or(u8::MAX);
        let open = Open {
            timeout,
            id: self.config.id.clone(),
            descr: self.config.description.as_bytes().to_vec(),
        };
        self.request(Pending::Open, PduBody::Open(open))
    }

    /// The connection is gone (the runtime saw EOF or an I/O error).
    pub fn disconnected(&mut self) {
        self.abort_set();
        self.pending.clear();
        self.state = State::Closed;
    }

    /// A Close to send before dropping the connection on purpose.
    pub fn close(&mut self, reason: CloseReason) -> Option<Pdu> {
        let was_open = matches!(self.state, State::Registering | State::Ready);
        self.disconnected();
        was_open.then(|| Pdu::new(self.session_id, 0, 0, PduBody::Close(reason)))
    }

    /// Queues a Notify (sent at once when the session is ready, else after the next
    /// registration completes). Returns the PDU to send now, if any.
    pub fn notify(&mut self, varbinds: Vec<VarBind>) -> Option<Pdu> {
        if self.state == State::Ready {
            return Some(self.notify_pdu(varbinds));
        }
        if self.queued.len() >= self.config.max_queued_notifications {
            self.queued.pop_front();
        }
        self.queued.push_back(varbinds);
        None
    }

    fn notify_pdu(&mut self, varbinds: Vec<VarBind>) -> Pdu {
        let body = PduBody::Notify(ContextVarBinds {
            context: None,
            varbinds,
        });
        self.request(Pending::Notify, body)
    }

    fn is_open(&self) -> bool {
        matches!(self.state, State::Registering | State::Ready)
    }

    /// Serves one more subtree: registered with the master now when the session is open
    /// (the returned PDU), and on every later connection.
    pub fn register(
        &mut self,
        subtree: Oid,
        handler: Box<dyn Handler>,
    ) -> Result<Option<Pdu>, RegistryError> {
        self.register_in(&[], subtree, handler)
    }

    /// [`Session::register`] in SNMP context `context` (empty: the default context).
    pub fn register_in(
        &mut self,
        context: &[u8],
        subtree: Oid,
        handler: Box<dyn Handler>,
    ) -> Result<Option<Pdu>, RegistryError> {
        let context = context_of(context);
        match &context {
            None => self.registry.register(subtree.clone(), handler)?,
            Some(c) => self
                .contexts
                .entry(c.clone())
                .or_default()
                .register(subtree.clone(), handler)?,
        };
        self.subtrees.push((context.clone(), subtree.clone()));
        if !self.is_open() {
            return Ok(None);
        }
        Ok(Some(self.register_pdu(context, subtree)))
    }

    fn register_body(&self, context: Context, subtree: Oid) -> Register {
        Register {
            context,
            priority: self.config.priority,
            ..Register::subtree(subtree)
        }
    }

    fn register_pdu(&mut self, context: Context, subtree: Oid) -> Pdu {
        let reg = self.register_body(context, subtree.clone());
        self.request(Pending::Register(subtree), PduBody::Register(reg))
    }

    /// Stops serving a subtree (its handler is dropped); returns the Unregister to send when
    /// the session is open. `None` also when the subtree was not registered.
    pub fn unregister(&mut self, subtree: &Oid) -> Option<Pdu> {
        self.unregister_in(&[], subtree)
    }

    /// [`Session::unregister`] in SNMP context `context` (empty: the default context).
    pub fn unregister_in(&mut self, context: &[u8], subtree: &Oid) -> Option<Pdu> {
        let context = context_of(context);
        match &context {
            None => {
                self.registry.unregister_subtree(subtree)?;
            }
            Some(c) => {
                let r = self.contexts.get_mut(c)?;
                r.unregister_subtree(subtree)?;
                if r.subtrees().is_empty() {
                    self.contexts.remove(c);
                }
            }
        }
        self.subtrees
            .retain(|(c, s)| !(s == subtree && *c == context));
        if !self.is_open() {
            return None;
        }
        let reg = self.register_body(context, subtree.clone());
        Some(self.request(
            Pending::Unregister(subtree.clone()),
            PduBody::Unregister(reg),
        ))
    }

    /// The registry serving `context` (`None`: the default), if the session has one.
    fn registry_for(&mut self, context: Option<&[u8]>) -> Option<&mut Registry> {
        match context {
            None => Some(&mut self.registry),
            Some(c) => self.contexts.get_mut(c),
        }
    }

    fn caps_pdu(&mut self, context: Context, id: Oid, descr: String) -> Pdu {
        let body = PduBody::AddAgentCaps(AgentCaps {
            context,
            id: id.clone(),
            descr: descr.into_bytes(),
        });
        self.request(Pending::AddCaps(id), body)
    }

    /// Announces an AGENT-CAPABILITIES (the master lists it in sysORTable); kept for later
    /// connections. Returns the PDU to send when the session is ready.
    pub fn add_agent_caps(&mut self, id: Oid, descr: String) -> Option<Pdu> {
        self.add_agent_caps_in(&[], id, descr)
    }

    /// [`Session::add_agent_caps`] in SNMP context `context` (its own sysORTable; empty: the
    /// default context).
    pub fn add_agent_caps_in(&mut self, context: &[u8], id: Oid, descr: String) -> Option<Pdu> {
        let context = context_of(context);
        match &context {
            None => {
                self.config.agent_caps.retain(|(i, _)| *i != id);
                self.config.agent_caps.push((id.clone(), descr.clone()));
            }
            Some(c) => {
                let caps = &mut self.config.context_agent_caps;
                caps.retain(|(x, i, _)| !(x == c && *i == id));
                caps.push((c.clone(), id.clone(), descr.clone()));
            }
        }
        (self.state == State::Ready).then(|| self.caps_pdu(context, id, descr))
    }

    /// Withdraws an AGENT-CAPABILITIES.
    pub fn remove_agent_caps(&mut self, id: &Oid) -> Option<Pdu> {
        self.remove_agent_caps_in(&[], id)
    }

    /// Withdraws an AGENT-CAPABILITIES of SNMP context `context` (empty: the default).
    pub fn remove_agent_caps_in(&mut self, context: &[u8], id: &Oid) -> Option<Pdu> {
        let context = context_of(context);
        let removed = match &context {
            None => {
                let before = self.config.agent_caps.len();
                self.config.agent_caps.retain(|(i, _)| i != id);
                before != self.config.agent_caps.len()
            }
            Some(c) => {
                let caps = &mut self.config.context_agent_caps;
                let before = caps.len();
                caps.retain(|(x, i, _)| !(x == c && i == id));
                before != caps.len()
            }
        };
        if !removed || self.state != State::Ready {
            return None;
        }
        let body = PduBody::RemoveAgentCaps(AgentCaps {
            context,
            id: id.clone(),
            descr: Vec::new(),
        });
        Some(self.request(Pending::RemoveCaps(id.clone()), body))
    }

    /// Time passes: returns PDUs to send (a Ping when due; a Close when the master stopped
    /// answering, after which the state is `Closed` and the runtime should reconnect).
    pub fn tick(&mut self, now: Duration) -> Vec<Pdu> {
        self.now = now;
        if self.state == State::Closed {
            return Vec::new();
        }
        let timeout = self.config.timeout;
        if self
            .pending
            .values()
            .any(|(_, sent)| now.saturating_sub(*sent) > timeout)
        {
            self.events.push_back(Event::Timeout);
            return self.close(CloseReason::Timeouts).into_iter().collect();
        }
        let mut out = Vec::new();
        if let Some(every) = self.config.ping_interval {
            let ping_outstanding = self
                .pending
                .values()
                .any(|(k, _)| matches!(k, Pending::Ping));
            if self.state == State::Ready
                && !ping_outstanding
                && now.saturating_sub(self.last_ping) >= every
            {
                self.last_ping = now;
                out.push(self.request(Pending::Ping, PduBody::Ping { context: None }));
            }
        }
        out
    }

    /// When [`Session::tick`] next has something to do (the runtime may sleep until then).
    pub fn next_deadline(&self) -> Option<Duration> {
        let timeout = self
            .pending
            .values()
            .map(|(_, sent)| *sent + self.config.timeout + Duration::from_millis(1))
            .min();
        let ping = match (self.state, self.config.ping_interval) {
            (State::Ready, Some(every)) => Some(self.last_ping + every),
            _ => None,
        };
        match (timeout, ping) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A PDU from the master: returns the PDUs to send in reply.
    pub fn handle(&mut self, pdu: Pdu, now: Duration) -> Vec<Pdu> {
        let mut out = Vec::new();
        self.handle_into(pdu, now, &mut out);
        out
    }

    /// [`Session::handle`] appending to `out` (no allocation per PDU in a batch).
    pub fn handle_into(&mut self, pdu: Pdu, now: Duration, out: &mut Vec<Pdu>) {
        match self.handle_one(pdu, now) {
            Answer::None => {}
            Answer::One(p) => out.push(p),
            Answer::Many(v) => out.extend(v),
        }
    }

    fn handle_one(&mut self, pdu: Pdu, now: Duration) -> Answer {
        self.now = now;
        // The IDs an answer carries (the body is consumed below).
        let (sid, tid, pid) = (pdu.session_id, pdu.transaction_id, pdu.packet_id);
        let reply = |r: Response| Pdu::new(sid, tid, pid, PduBody::Response(r));
        if let PduBody::Response(r) = pdu.body {
            return Answer::Many(self.on_response(pdu.session_id, pdu.packet_id, r));
        }
        if !matches!(self.state, State::Registering | State::Ready) {
            return Answer::None;
        }
        if pdu.session_id != self.session_id {
            return Answer::One(reply(Response::error(ResponseError::NotOpen, 0)));
        }
        let answer = match pdu.body {
            PduBody::Get(g) => self.get(g),
            PduBody::GetNext(g) => self.get_next(g),
            PduBody::GetBulk(g) => self.get_bulk(g),
            PduBody::TestSet(c) => self.test_set(pdu.transaction_id, c),
            PduBody::CommitSet => self.commit_set(pdu.transaction_id),
            PduBody::UndoSet => self.undo_set(pdu.transaction_id),
            PduBody::CleanupSet => {
                self.cleanup_set(pdu.transaction_id);
                return Answer::None; // RFC 2741 §7.2.4.4: no response
            }
            PduBody::Close(reason) => {
                self.events.push_back(Event::ClosedByMaster(reason));
                self.disconnected();
                return Answer::None;
            }
            other => {
                self.events.push_back(Event::Unexpected(format!(
                    "{:?} PDU from the master",
                    other.pdu_type()
                )));
                Response::error(ResponseError::ProcessingError, 0)
            }
        };
        Answer::One(reply(answer))
    }

    /// The answer to a PDU whose header decoded but whose body did not.
    pub fn parse_error(&mut self, h: &Header) -> Pdu {
        self.events
            .push_back(Event::Unexpected(format!("unparsable {:?}", h.pdu_type)));
        Pdu::response_to(h, Response::error(ResponseError::ParseError, 0))
    }

    fn on_response(&mut self, session_id: u32, packet_id: u32, r: Response) -> Vec<Pdu> {
        let Some((kind, _)) = self.pending.remove(&packet_id) else {
            self.events.push_back(Event::Unexpected(format!(
                "response to unknown packet {packet_id}"
            )));
            return Vec::new();
        };
        let mut out = Vec::new();
        match kind {
            Pending::Open => {
                if !r.error.is_ok() {
                    self.events.push_back(Event::OpenFailed(r.error));
                    self.disconnected();
                    return out;
                }
                self.session_id = session_id;
                self.events.push_back(Event::Opened { session_id });
                self.state = State::Registering;
                for (context, subtree) in self.subtrees.clone() {
                    out.push(self.register_pdu(context, subtree));
                }
            }
            Pending::Register(subtree) => {
                if r.error.is_ok() {
                    self.events.push_back(Event::Registered(subtree));
                } else {
                    self.events
                        .push_back(Event::RegisterFailed(subtree, r.error));
                }
            }
            Pending::Unregister(subtree) => {
                // Refused or not, the handler is gone: the master times out on it if it
                // still routes there.
                self.events.push_back(Event::Unregistered(subtree));
            }
            Pending::AddCaps(id) => self.events.push_back(if r.error.is_ok() {
                Event::AgentCapsAdded(id)
            } else {
                Event::AgentCapsFailed(id, r.error)
            }),
            Pending::RemoveCaps(id) => {
                if !r.error.is_ok() {
                    self.events.push_back(Event::AgentCapsFailed(id, r.error));
                }
            }
            Pending::Ping => self.events.push_back(Event::Pong),
            Pending::Notify => {
                if !r.error.is_ok() {
                    self.events.push_back(Event::NotifyFailed(r.error));
                }
            }
        }
        let registering = self
            .pending
            .values()
            .any(|(k, _)| matches!(k, Pending::Register(_)));
        if self.state == State::Registering && !registering {
            self.state = State::Ready;
            self.last_ping = self.now;
            for (id, descr) in self.config.agent_caps.clone() {
                out.push(self.caps_pdu(None, id, descr));
            }
            for (context, id, descr) in self.config.context_agent_caps.clone() {
                out.push(self.caps_pdu(Some(context), id, descr));
            }
            while let Some(vbs) = self.queued.pop_front() {
                out.push(self.notify_pdu(vbs));
            }
        }
        out
    }

    fn get(&mut self, g: Get) -> Response {
        let cx = self.cx();
        let Some(registry) = self.registry_for(g.context.as_deref()) else {
            return Response::error(ResponseError::UnsupportedContext, 0);
        };
        let vbs = g
            .ranges
            .into_iter()
            .map(|r| {
                let v = registry.get(&r.start, &cx);
                VarBind::new(r.start, v)
            })
            .collect();
        Response::ok(vbs)
    }

    fn get_next(&mut self, g: Get) -> Response {
        let cx = self.cx();
        let Some(registry) = self.registry_for(g.context.as_deref()) else {
            return Response::error(ResponseError::UnsupportedContext, 0);
        };
        let vbs = g.ranges.iter().map(|r| next_in(registry, &cx, r)).collect();
        Response::ok(vbs)
    }

    /// RFC 2741 §7.2.3.3: the non-repeaters once, then up to max-repetitions rows of the
    /// repeaters, each row continuing from the previous one; stops early when every repeater
    /// has reached the end of its range.
    fn get_bulk(&mut self, g: GetBulk) -> Response {
        let cx = self.cx();
        let Some(registry) = self.registry_for(g.context.as_deref()) else {
            return Response::error(ResponseError::UnsupportedContext, 0);
        };
        let n = usize::from(g.non_repeaters).min(g.ranges.len());
        let mut vbs: Vec<VarBind> = g.ranges[..n]
            .iter()
            .map(|r| next_in(registry, &cx, r))
            .collect();
        let mut cursors: Vec<SearchRange> = g.ranges[n..].to_vec();
        for _ in 0..g.max_repetitions {
            if cursors.is_empty() {
                break;
            }
            let mut all_done = true;
            for c in cursors.iter_mut() {
                let vb = next_in(registry, &cx, c);
                if vb.value != Value::EndOfMibView {
                    all_done = false;
                    c.start = vb.oid.clone();
                    c.include = false;
                }
                vbs.push(vb);
            }
            if all_done {
                break;
            }
        }
        Response::ok(vbs)
    }

    fn test_set(&mut self, transaction_id: u32, c: ContextVarBinds) -> Response {
        self.abort_set();
        let cx = self.cx();
        let mut txn = SetTxn {
            transaction_id,
            context: c.context,
            varbinds: c.varbinds,
            tested: 0,
            committed: 0,
        };
        let mut result = Response::ok(Vec::new());
        let Some(registry) = registry_of(&mut self.registry, &mut self.contexts, &txn.context)
        else {
            return Response::error(ResponseError::UnsupportedContext, 0);
        };
        for (i, vb) in txn.varbinds.iter().enumerate() {
            let res = if vb.value.is_exception() {
                Err(ErrorStatus::WrongType)
            } else {
                match registry.owner_handler(&vb.oid) {
                    Some(h) => h.test_set(vb, &cx),
                    None => Err(ErrorStatus::NotWritable),
                }
            };
            txn.tested = i + 1;
            if let Err(e) = res {
                result = Response::error(e.into(), index(i));
                break;
            }
        }
        self.set = Some(txn);
        result
    }

    fn commit_set(&mut self, transaction_id: u32) -> Response {
        let cx = self.cx();
        let Some(txn) = self
            .set
            .as_mut()
            .filter(|t| t.transaction_id == transaction_id)
        else {
            return Response::error(ResponseError::Snmp(ErrorStatus::CommitFailed), 0);
        };
        let mut registry = registry_of(&mut self.registry, &mut self.contexts, &txn.context);
        for (i, vb) in txn.varbinds[..txn.tested].iter().enumerate() {
            let res = match registry.as_mut().and_then(|r| r.owner_handler(&vb.oid)) {
                Some(h) => h.commit_set(vb, &cx),
                None => Err(ErrorStatus::CommitFailed),
            };
            if res.is_err() {
                return Response::error(ResponseError::Snmp(ErrorStatus::CommitFailed), index(i));
            }
            txn.committed = i + 1;
        }
        Response::ok(Vec::new())
    }

    fn undo_set(&mut self, transaction_id: u32) -> Response {
        let cx = self.cx();
        let Some(txn) = self
            .set
            .as_mut()
            .filter(|t| t.transaction_id == transaction_id)
        else {
            return Response::error(ResponseError::Snmp(ErrorStatus::UndoFailed), 0);
        };
        let mut result = Response::ok(Vec::new());
        let mut registry = registry_of(&mut self.registry, &mut self.contexts, &txn.context);
        for (i, vb) in txn.varbinds[..txn.committed].iter().enumerate().rev() {
            let res = match registry.as_mut().and_then(|r| r.owner_handler(&vb.oid)) {
                Some(h) => h.undo_set(vb, &cx),
                None => Err(ErrorStatus::UndoFailed),
            };
            if res.is_err() {
                result = Response::error(ResponseError::Snmp(ErrorStatus::UndoFailed), index(i));
            }
        }
        txn.committed = 0;
        result
    }

    fn cleanup_set(&mut self, transaction_id: u32) {
        if self
            .set
            .as_ref()
            .is_some_and(|t| t.transaction_id == transaction_id)
        {
            self.abort_set();
        }
    }

    /// Ends the Set transaction in progress: cleanup for every tested varbind.
    fn abort_set(&mut self) {
        let Some(txn) = self.set.take() else {
            return;
        };
        let cx = self.cx();
        let Some(registry) = registry_of(&mut self.registry, &mut self.contexts, &txn.context)
        else {
            return;
        };
        for vb in &txn.varbinds[..txn.tested] {
            if let Some(h) = registry.owner_handler(&vb.oid) {
                h.cleanup_set(vb, &cx);
            }
        }
    }
}

/// The registry of `context` (`None`: the default one), if there is one.
fn registry_of<'a>(
    default: &'a mut Registry,
    contexts: &'a mut BTreeMap<Vec<u8>, Registry>,
    context: &Context,
) -> Option<&'a mut Registry> {
    match context {
        None => Some(default),
        Some(c) => contexts.get_mut(c),
    }
}

/// A context as the PDUs carry it: `None` for the default (empty) one.
fn context_of(name: &[u8]) -> Context {
    (!name.is_empty()).then(|| name.to_vec())
}

/// The first instance of `registry` in a search range, or endOfMibView named by its start.
fn next_in(registry: &mut Registry, cx: &Ctx, r: &SearchRange) -> VarBind {
    if r.include {
        let v = registry.get(&r.start, cx);
        if !v.is_exception() && r.below_end(&r.start) {
            return VarBind::new(r.start.clone(), v);
        }
    }
    match registry.next(&r.start, cx) {
        Some(vb) if r.below_end(&vb.oid) => vb,
        _ => VarBind::new(r.start.clone(), Value::EndOfMibView),
    }
}

/// A 1-based res.index for the varbind at `i`.
fn index(i: usize) -> u16 {
    u16::try_from(i + 1).unwrap_or(u16::MAX)
}
/// What one PDU from the master calls for.
enum Answer {
    None,
    One(Pdu),
    Many(Vec<Pdu>),
}
