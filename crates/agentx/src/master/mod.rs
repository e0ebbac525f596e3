//! The AgentX master's protocol logic (RFC 2741 §7.1), sans-I/O: frames from subagent
//! connections in, replies and [`Event`]s out; requests to subagents built with
//! [`Master::request`].
//!
//! The host (netcp) owns the sockets and the clock. It feeds every complete frame of a
//! connection to [`Master::receive`], sends the reply back on the same connection, and acts on
//! the events: re-synchronise the agent's registry from [`Master::effective`] when
//! registrations changed, send notifications, maintain sysORTable, deliver responses to the
//! requests waiting for them. Sessions live on connections: [`Master::connection_closed`]
//! ends them all.
//!
//! Contexts (RFC 2741 §6.1.1, NON_DEFAULT_CONTEXT): registrations, index allocations and
//! agent capabilities are kept per context (`None` is the default context). A non-default
//! context exists while at least one registration names it ([`Master::contexts`]); the host
//! serves SNMP requests for it from [`Master::effective_in`] and puts the context into the
//! Get/GetNext/GetBulk/TestSet PDUs it sends for them.

pub mod index;
pub mod registry;

use crate::pdu::{Header, Pdu, PduBody, PduType, Response, HEADER_LEN};
use crate::pdu_error::{CloseReason, ResponseError};
use crate::pdu_wire::ByteOrder;
use index::{Choice, IndexTable};
use registry::{RegisterError, Registration, RegistrationTable};
use snmp::{Oid, Value, VarBind};
use std::collections::BTreeMap;
use std::time::Duration;

/// sysUpTime.0
const SYS_UPTIME_0: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
/// snmpTrapOID.0
const SNMP_TRAP_OID_0: [u32; 11] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// Identifies a connection of the host (a Unix or TCP stream).
pub type ConnId = u64;

/// One AgentX session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// h.sessionID, assigned at Open.
    pub id: u32,
    /// The connection it was opened on.
    pub conn: ConnId,
    /// The byte order of its Open: every PDU to it is sent in that order.
    pub order: ByteOrder,
    /// Seconds to wait for its answers (0: the master's default).
    pub timeout: u8,
    /// o.id: the subagent's identity.
    pub oid: Oid,
    /// o.descr.
    pub descr: String,
    /// When it opened (the host's clock).
    pub opened: Duration,
    /// Requests sent to it, and how many timed out.
    pub requests: u64,
    pub timeouts: u64,
}

/// An AGENT-CAPABILITIES entry a session added (sysORTable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCaps {
    pub session: u32,
    /// The context whose sysORTable lists it (`None`: the default context).
    pub context: Option<Vec<u8>>,
    pub id: Oid,
    pub descr: String,
}

/// What the host must do after a PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Registrations changed: re-synchronise the agent's registry from [`Master::effective`].
    RegistrationsChanged,
    /// A notification from a subagent: its snmpTrapOID.0 value and the varbinds after it.
    Notify { trap: Oid, varbinds: Vec<VarBind> },
    /// Add a sysORTable row in `context` (`None`: the default context; §7.1.8).
    AddAgentCaps {
        context: Option<Vec<u8>>,
        id: Oid,
        descr: String,
    },
    /// Remove a sysORTable row from `context`.
    RemoveAgentCaps { context: Option<Vec<u8>>, id: Oid },
    /// The answer to a request the host sent ([`Master::request`]).
    Response {
        session: u32,
        packet_id: u32,
        response: Response,
    },
    /// The stream cannot be read any further (a header that is not AgentX): close it
    /// (then call [`Master::connection_closed`]).
    CloseConnection,
}

/// The result of one incoming frame.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Handled {
    /// Bytes to send back on the connection.
    pub reply: Option<Vec<u8>>,
    pub events: Vec<Event>,
}

/// A request for a subagent, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub conn: ConnId,
    pub bytes: Vec<u8>,
    pub packet_id: u32,
    /// How long to wait for the answer.
    pub timeout: Duration,
}

/// The master: sessions, registrations, index allocations, agent capabilities.
#[derive(Debug)]
pub struct Master {
    sessions: BTreeMap<u32, Session>,
    next_session: u32,
    next_packet: u32,
    regs: RegistrationTable,
    indexes: IndexTable,
    caps: Vec<AgentCaps>,
    default_timeout: Duration,
}

fn centis(d: Duration) -> u32 {
    u32::try_from(d.as_millis() / 10).unwrap_or(u32::MAX)
}

impl Master {
    /// A master waiting `default_timeout` for answers of sessions and registrations that set
    /// none.
    pub fn new(default_timeout: Duration) -> Self {
        Master {
            sessions: BTreeMap::new(),
            next_session: 0,
            next_packet: 0,
            regs: RegistrationTable::default(),
            indexes: IndexTable::default(),
            caps: Vec::new(),
            default_timeout,
        }
    }

    /// The subtrees the master serves itself: a subagent registering exactly one of them gets
    /// duplicateRegistration.
    pub fn set_reserved(&mut self, subtrees: Vec<Oid>) {
        self.regs.set_reserved(subtrees);
    }

    pub fn set_default_timeout(&mut self, t: Duration) {
        self.default_timeout = t;
    }

    /// The open sessions.
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    pub fn session(&self, id: u32) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// Every registration, in registration order.
    pub fn registrations(&self) -> &[Registration] {
        self.regs.all()
    }

    /// The session serving each subtree of the default context, sorted by subtree.
    pub fn effective(&self) -> Vec<(Oid, u32)> {
        self.effective_in(None)
    }

    /// The session serving each subtree of `context` (`None`: the default context), sorted
    /// by subtree.
    pub fn effective_in(&self, context: Option<&[u8]>) -> Vec<(Oid, u32)> {
        self.regs
            .effective_in(context)
            .into_iter()
            .map(|(o, r)| (o, r.session))
            .collect()
    }

    /// The non-default contexts that exist now (named by at least one registration), sorted.
    pub fn contexts(&self) -> Vec<Vec<u8>> {
        self.regs.contexts().into_iter().collect()
    }

    pub fn agent_caps(&self) -> &[AgentCaps] {
        &self.caps
    }

    /// How many index values are allocated.
    pub fn allocated_indexes(&self) -> usize {
        self.indexes.allocated()
    }

    /// How long to wait for `session` about `subtree` of `context`: the registration's
    /// timeout, else the session's, else the default (§7.2.1). A timeout of 255 counts as
    /// none.
    pub fn timeout_for(
        &self,
        session: u32,
        context: Option<&[u8]>,
        subtree: Option<&Oid>,
    ) -> Duration {
        // 255 is net-snmp's "-1" (no timeout of its own), not four minutes.
        let unset = |t: u8| if t == u8::MAX { 0 } else { t };
        let reg = unset(subtree.map_or(0, |s| self.regs.timeout_for(session, context, s)));
        let sess = unset(self.sessions.get(&session).map_or(0, |s| s.timeout));
        match (reg, sess) {
            (r, _) if r > 0 => Duration::from_secs(u64::from(r)),
            (_, s) if s > 0 => Duration::from_secs(u64::from(s)),
            _ => self.default_timeout,
        }
    }

    /// Builds a request for `session` (`None` if it is not open), with a new packet ID. The
    /// timeout is that of `subtree` in the context `body` names.
    pub fn request(
        &mut self,
        session: u32,
        transaction: u32,
        body: PduBody,
        subtree: Option<&Oid>,
    ) -> Option<Outgoing> {
        let timeout = self.timeout_for(session, body.context(), subtree);
        let s = self.sessions.get_mut(&session)?;
        s.requests += 1;
        self.next_packet = self.next_packet.wrapping_add(1);
        let packet_id = self.next_packet;
        let bytes = Pdu::new(session, transaction, packet_id, body).encode_in(s.order);
        Some(Outgoing {
            conn: s.conn,
            bytes,
            packet_id,
            timeout,
        })
    }

    /// Counts a request to `session` that was not answered in time.
    pub fn timed_out(&mut self, session: u32) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.timeouts += 1;
        }
    }

    /// Handles one complete frame received on `conn` at `now` (the host's uptime).
    pub fn receive(&mut self, conn: ConnId, frame: &[u8], now: Duration) -> Handled {
        let h = match Header::decode(frame) {
            Ok(h) => h,
            // Not AgentX: the stream cannot be resynchronised.
            Err(_) => {
                return Handled {
                    reply: None,
                    events: vec![Event::CloseConnection],
                }
            }
        };
        let payload = frame.get(HEADER_LEN..h.pdu_len()).unwrap_or(&[]);
        let mut pdu = match Pdu::decode_body(&h, payload) {
            Ok(p) => p,
            Err(_) if h.pdu_type == PduType::Response => return Handled::default(),
            Err(_) => return self.answer(&h, ResponseError::ParseError, 0, now),
        };
        default_context(&mut pdu.body);
        if let PduBody::Open(o) = pdu.body {
            self.next_session = self.next_session.wrapping_add(1).max(1);
            while self.sessions.contains_key(&self.next_session) {
                self.next_session = self.next_session.wrapping_add(1).max(1);
            }
            let id = self.next_session;
            self.sessions.insert(
                id,
                Session {
                    id,
                    conn,
                    order: h.byte_order(),
                    timeout: o.timeout,
                    oid: o.id,
                    descr: String::from_utf8_lossy(&o.descr).into_owned(),
                    opened: now,
                    requests: 0,
                    timeouts: 0,
                },
            );
            let mut rh = h;
            rh.session_id = id;
            return self.answer(&rh, ResponseError::NoError, 0, now);
        }
        // Every other PDU names an open session of this connection (§7.1.1).
        if self
            .sessions
            .get(&h.session_id)
            .is_none_or(|s| s.conn != conn)
        {
            if h.pdu_type == PduType::Response {
                return Handled::default();
            }
            return self.answer(&h, ResponseError::NotOpen, 0, now);
        }
        let session = h.session_id;
        let mut events = Vec::new();
        let (error, index, varbinds) = match pdu.body {
            PduBody::Response(response) => {
                return Handled {
                    reply: None,
                    events: vec![Event::Response {
                        session,
                        packet_id: h.packet_id,
                        response,
                    }],
                }
            }
            PduBody::Close(_) => {
                events = self.end_session(session);
                (ResponseError::NoError, 0, Vec::new())
            }
            PduBody::Register(r) => match self.regs.register(session, &r) {
                Ok(()) => {
                    events.push(Event::RegistrationsChanged);
                    (ResponseError::NoError, 0, Vec::new())
                }
                Err(RegisterError::Duplicate) => {
                    (ResponseError::DuplicateRegistration, 0, Vec::new())
                }
                Err(RegisterError::BadRange) => (ResponseError::ParseError, 0, Vec::new()),
            },
            PduBody::Unregister(r) => {
                if self.regs.unregister(session, &r) {
                    events.push(Event::RegistrationsChanged);
                    (ResponseError::NoError, 0, Vec::new())
                } else {
                    (ResponseError::UnknownRegistration, 0, Vec::new())
                }
            }
            // Every context is supported: one comes into being with its first registration.
            PduBody::Ping { .. } => (ResponseError::NoError, 0, Vec::new()),
            // The notification goes out as the master's own (net-snmp does the same).
            PduBody::Notify(n) => match notification(&n.varbinds) {
                Some((trap, varbinds)) => {
                    events.push(Event::Notify { trap, varbinds });
                    (ResponseError::NoError, 0, Vec::new())
                }
                None => (ResponseError::ProcessingError, 0, Vec::new()),
            },
            PduBody::IndexAllocate(a) => {
                let choice = match (a.new_index, a.any_index) {
                    (true, _) => Choice::New,
                    (false, true) => Choice::Any,
                    _ => Choice::Given,
                };
                match self
                    .indexes
                    .allocate(session, a.context.as_deref(), &a.varbinds, choice)
                {
                    Ok(vbs) => (ResponseError::NoError, 0, vbs),
                    Err((e, i)) => (e, i, a.varbinds),
                }
            }
            PduBody::IndexDeallocate(d) => {
                match self
                    .indexes
                    .deallocate(session, d.context.as_deref(), &d.varbinds)
                {
                    Ok(()) => (ResponseError::NoError, 0, d.varbinds),
                    Err((e, i)) => (e, i, d.varbinds),
                }
            }
            PduBody::AddAgentCaps(c) => {
                let descr = String::from_utf8_lossy(&c.descr).into_owned();
                self.caps.push(AgentCaps {
                    session,
                    context: c.context.clone(),
                    id: c.id.clone(),
                    descr: descr.clone(),
                });
                events.push(Event::AddAgentCaps {
                    context: c.context,
                    id: c.id,
                    descr,
                });
                (ResponseError::NoError, 0, Vec::new())
            }
            PduBody::RemoveAgentCaps(c) => {
                let found = self
                    .caps
                    .iter()
                    .position(|x| x.session == session && x.id == c.id && x.context == c.context);
                match found {
                    Some(i) => {
                        self.caps.remove(i);
                        events.push(Event::RemoveAgentCaps {
                            context: c.context,
                            id: c.id,
                        });
                        (ResponseError::NoError, 0, Vec::new())
                    }
                    None => (ResponseError::UnknownAgentCaps, 0, Vec::new()),
                }
            }
            // Requests a master sends, never receives.
            PduBody::Open(_)
            | PduBody::Get(_)
            | PduBody::GetNext(_)
            | PduBody::GetBulk(_)
            | PduBody::TestSet(_)
            | PduBody::CommitSet
            | PduBody::UndoSet
            | PduBody::CleanupSet => (ResponseError::ProcessingError, 0, Vec::new()),
        };
        let mut handled = self.answer_with(&h, error, index, varbinds, now);
        handled.events = events;
        handled
    }

    fn answer(&self, h: &Header, error: ResponseError, index: u16, now: Duration) -> Handled {
        self.answer_with(h, error, index, Vec::new(), now)
    }

    fn answer_with(
        &self,
        h: &Header,
        error: ResponseError,
        index: u16,
        varbinds: Vec<VarBind>,
        now: Duration,
    ) -> Handled {
        let response = Response {
            sys_uptime: centis(now),
            error,
            index,
            varbinds,
        };
        Handled {
            reply: Some(Pdu::response_to(h, response).encode_in(h.byte_order())),
            events: Vec::new(),
        }
    }

    /// Ends a session: its registrations, index allocations and capabilities go.
    fn end_session(&mut self, session: u32) -> Vec<Event> {
        let mut events = Vec::new();
        if self.sessions.remove(&session).is_none() {
            return events;
        }
        let before = self.regs.all().len();
        self.regs.remove_session(session);
        if self.regs.all().len() != before {
            events.push(Event::RegistrationsChanged);
        }
        self.indexes.remove_session(session);
        let (gone, kept): (Vec<_>, Vec<_>) =
            self.caps.drain(..).partition(|c| c.session == session);
        self.caps = kept;
        events.extend(gone.into_iter().map(|c| Event::RemoveAgentCaps {
            context: c.context,
            id: c.id,
        }));
        events
    }

    /// The connection is gone: every session on it ends.
    pub fn connection_closed(&mut self, conn: ConnId) -> Vec<Event> {
        let ids: Vec<u32> = self
            .sessions
            .values()
            .filter(|s| s.conn == conn)
            .map(|s| s.id)
            .collect();
        ids.into_iter()
            .flat_map(|id| self.end_session(id))
            .collect()
    }

    /// Closes a session from the master's side (shutdown): the Close PDU to send, and the
    /// events.
    pub fn close_session(
        &mut self,
        session: u32,
        reason: CloseReason,
    ) -> Option<(ConnId, Vec<u8>, Vec<Event>)> {
        let s = self.sessions.get(&session)?.clone();
        self.next_packet = self.next_packet.wrapping_add(1);
        let bytes =
            Pdu::new(session, 0, self.next_packet, PduBody::Close(reason)).encode_in(s.order);
        let events = self.end_session(session);
        Some((s.conn, bytes, events))
    }
}

/// An empty context is the default context (net-snmp's subagents send it with the
/// NON_DEFAULT_CONTEXT flag set).
fn default_context(body: &mut PduBody) {
    let c = match body {
        PduBody::Register(r) | PduBody::Unregister(r) => &mut r.context,
        PduBody::Get(g) | PduBody::GetNext(g) => &mut g.context,
        PduBody::GetBulk(g) => &mut g.context,
        PduBody::TestSet(c) | PduBody::Notify(c) | PduBody::IndexDeallocate(c) => &mut c.context,
        PduBody::Ping { context } => context,
        PduBody::IndexAllocate(i) => &mut i.context,
        PduBody::AddAgentCaps(a) | PduBody::RemoveAgentCaps(a) => &mut a.context,
        _ => return,
    };
    if c.as_ref().is_some_and(|c| c.is_empty()) {
        *c = None;
    }
}

/// The trap OID and the varbinds after it, if `vbs` starts as §7.1.10 demands: snmpTrapOID.0,
/// or sysUpTime.0 then snmpTrapOID.0.
fn notification(vbs: &[VarBind]) -> Option<(Oid, Vec<VarBind>)> {
    let uptime = Oid::new(&SYS_UPTIME_0);
    let trap_oid = Oid::new(&SNMP_TRAP_OID_0);
    let skip = usize::from(vbs.first().is_some_and(|v| v.oid == uptime));
    let t = vbs.get(skip)?;
    match (&t.value, t.oid == trap_oid) {
        (Value::ObjectId(o), true) => Some((o.clone(), vbs[skip + 1..].to_vec())),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
