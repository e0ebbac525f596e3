//! Subtrees served elsewhere (AgentX subagents, SMUX peers): asynchronous delegation.
//!
//! The agent core stays sans-I/O and synchronous for its own subtrees. A subtree registered with
//! [`Agent::register_remote`] is answered by the host: when a request touches one,
//! [`Agent::handle_request`] returns [`Outcome::Pending`] with the [`RemoteOp`]s to perform; the
//! host performs them (concurrently, with its own timeouts), and hands the [`RemoteReply`]s to
//! [`Agent::resume`], which either answers or asks for more. Other requests are served in the
//! meantime: a pending request holds no lock and no borrow of the agent.
//!
//! Get, GetNext and GetBulk are *replayed*: each round runs the request again against a cache of
//! the answers received so far, so the code path is the one local requests take and
//! lexicographic order across local and remote subtrees comes for free. A GetNext that lands in a
//! remote subtree asks for `max-repetitions` instances at once during a GetBulk, so a bulk walk
//! costs about one round trip per subagent and response. Set is RFC 2741's transaction: TestSet
//! to every subagent involved, local validation, CommitSet, then the local commit; UndoSet when
//! anything fails after a commit, CleanupSet to every subagent tested (queued for the host by
//! [`Agent::drain_notices`], no answer awaited).

use crate::agent::{lock, response_to, Access, Agent, Community};
use crate::oid::Oid;
use crate::pdu::{ErrorStatus, Pdu, PduType, Version};
use crate::registry::{Ctx, Handler, RegistrationId, RegistryError};
use crate::value::{Value, VarBind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Who serves a remote subtree (the host's number: an AgentX session, a SMUX peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DelegateId(pub u64);

/// At most this many rounds per request (a subagent that keeps answering outside its range
/// cannot hold a request forever).
const MAX_ROUNDS: u32 = 64;

/// At most this many instances asked from a subagent at once.
const MAX_PREFETCH: u32 = 64;

/// What the host must ask a delegate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteOpKind {
    /// The values of exact instances (AgentX Get); reply [`RemoteReply::Varbinds`] in order.
    Get(Vec<Oid>),
    /// The instances after `start` (at or after it when `include`), before `end` (exclusive):
    /// AgentX GetNext when `max_repetitions` is 1, else GetBulk. Reply with the instances in
    /// order; `EndOfMibView` (or fewer varbinds) ends the range.
    Next {
        start: Oid,
        include: bool,
        end: Oid,
        max_repetitions: u32,
    },
    /// Set phase one for the delegate's varbinds; reply [`RemoteReply::Done`] or `Failed` with
    /// the 1-based index within these varbinds.
    TestSet(Vec<VarBind>),
    CommitSet,
    UndoSet,
    /// No reply is awaited (from [`Agent::drain_notices`]).
    CleanupSet,
}

/// One operation for one delegate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOp {
    pub delegate: DelegateId,
    /// The SNMP context of the request (empty: the default context). AgentX carries it in
    /// Get/GetNext/GetBulk/TestSet (NON_DEFAULT_CONTEXT); CommitSet, UndoSet and CleanupSet
    /// have no context field (the subagent knows it from the TestSet).
    pub context: Vec<u8>,
    pub kind: RemoteOpKind,
}

/// The answer to a [`RemoteOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteReply {
    Varbinds(Vec<VarBind>),
    Done,
    /// An error from the delegate (`index` 1-based within the op's varbinds, 0 if none), or
    /// genErr for a timeout or a closed session.
    Failed {
        status: ErrorStatus,
        index: u32,
    },
}

/// The result of [`Agent::handle_request`] or [`Agent::resume`].
#[derive(Debug)]
pub enum Outcome {
    /// The datagram to send back, if any.
    Done(Option<Vec<u8>>),
    /// Waiting for delegates.
    Pending(Pending),
}

/// A request waiting for delegates: perform `ops`, then call [`Agent::resume`] with one reply
/// per op, in order.
#[derive(Debug)]
pub struct Pending {
    pub ops: Vec<RemoteOp>,
    pub(crate) job: Box<Job>,
}

impl Pending {
    /// How many rounds the request has been through.
    pub fn rounds(&self) -> u32 {
        self.job.round
    }
}

/// How the answer is wrapped.
#[derive(Debug, Clone)]
pub(crate) enum Wire {
    V2 {
        version: Version,
        community: Vec<u8>,
    },
    V3 {
        msg_id: i32,
        flags: u8,
        user: Box<crate::agent::UsmUser>,
        context_name: Vec<u8>,
    },
}

/// A request in flight.
#[derive(Debug)]
pub(crate) struct Job {
    pub wire: Wire,
    pub pdu: Pdu,
    pub principal: Community,
    pub overhead: usize,
    pub round: u32,
    /// The message size limit of this request (the agent's field serves one run at a time).
    limit: Option<usize>,
    cache: Cache,
    set: Option<SetTxn>,
}

impl Job {
    pub(crate) fn new(wire: Wire, pdu: Pdu, principal: Community, overhead: usize) -> Self {
        Job {
            wire,
            pdu,
            principal,
            overhead,
            round: 0,
            limit: None,
            cache: Cache::default(),
            set: None,
        }
    }

    fn version(&self) -> Version {
        match &self.wire {
            Wire::V2 { version, .. } => *version,
            Wire::V3 { .. } => Version::V2c,
        }
    }

    /// The request's context: the scoped PDU's contextName (v3), the default context
    /// (empty) for v1/v2c.
    pub(crate) fn context(&self) -> &[u8] {
        match &self.wire {
            // v1/v2c: the community's context.
            Wire::V2 { .. } => &self.principal.context,
            Wire::V3 { context_name, .. } => context_name,
        }
    }
}

type Answer<T> = Result<T, ErrorStatus>;

/// Answers received for one request.
#[derive(Debug, Default)]
struct Cache {
    get: HashMap<(DelegateId, Oid), Answer<Value>>,
    next: HashMap<(DelegateId, Oid), Answer<Step>>,
}

/// What a delegate said follows a cursor.
#[derive(Debug, Clone)]
enum Step {
    /// This instance.
    Found(VarBind),
    /// Nothing more in its range.
    End,
    /// An exception (noSuchObject/noSuchInstance) named this OID, which RFC 2741 never lets
    /// a GetNext answer carry (net-snmp's proxy sends one for an inclusive start): go on
    /// after it.
    Skip(Oid),
}

/// Shared between the agent and its remote handlers during one run of a request.
#[derive(Debug, Default)]
pub(crate) struct Delegation {
    cache: Cache,
    misses: Vec<RemoteOp>,
    /// A GetNext already missed in this lookup: later remote subtrees are not asked (their
    /// answer would be discarded).
    next_blocked: bool,
    failed: Option<ErrorStatus>,
    prefetch: u32,
}

/// The handler registered for a remote subtree.
pub(crate) struct RemoteHandler {
    pub(crate) delegate: DelegateId,
    /// The context it is registered in (empty: default).
    pub(crate) context: Vec<u8>,
    pub(crate) subtree: Oid,
    pub(crate) state: Arc<Mutex<Delegation>>,
}

/// The first OID after every OID of `subtree` (AgentX's exclusive range end).
pub fn range_end(subtree: &Oid) -> Oid {
    let mut arcs = subtree.arcs().to_vec();
    while let Some(last) = arcs.pop() {
        if let Some(n) = last.checked_add(1) {
            arcs.push(n);
            return Oid::new(&arcs);
        }
    }
    // All arcs were 2^32-1: nothing follows but the end of the MIB.
    Oid::new(&[u32::MAX; 2])
}

impl Handler for RemoteHandler {
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        let mut s = lock(&self.state);
        match s.cache.get.get(&(self.delegate, oid.clone())) {
            Some(Ok(v)) => v.clone(),
            Some(Err(e)) => {
                let e = *e;
                s.failed.get_or_insert(e);
                Value::NoSuchObject
            }
            None => {
                let d = self.delegate;
                match s.misses.iter_mut().find(|m| m.delegate == d) {
                    Some(RemoteOp {
                        kind: RemoteOpKind::Get(oids),
                        ..
                    }) => {
                        if !oids.contains(oid) {
                            oids.push(oid.clone())
                        }
                    }
                    _ => s.misses.push(RemoteOp {
                        delegate: d,
                        context: self.context.clone(),
                        kind: RemoteOpKind::Get(vec![oid.clone()]),
                    }),
                }
                Value::NoSuchObject
            }
        }
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<VarBind> {
        let mut s = lock(&self.state);
        let key = if *after < self.subtree {
            include_key(&self.subtree)
        } else {
            after.clone()
        };
        let mut lookup = (self.delegate, key);
        // Where to ask from when nothing is cached: `after`, or past an exception skipped.
        let mut skipped: Option<Oid> = None;
        // Each skip moves strictly forward through the cache; bounded anyway.
        for _ in 0..=MAX_ROUNDS {
            match s.cache.next.get(&lookup) {
                Some(Ok(Step::Found(v))) => return Some(v.clone()),
                Some(Ok(Step::End)) => return None,
                Some(Ok(Step::Skip(o))) => {
                    lookup.1 = o.clone();
                    skipped = Some(o.clone());
                }
                Some(Err(e)) => {
                    let e = *e;
                    s.failed.get_or_insert(e);
                    return None;
                }
                None => break,
            }
        }
        if !s.next_blocked {
            s.next_blocked = true;
            let (start, include) = match skipped {
                Some(o) => (o, false),
                None if *after < self.subtree => (self.subtree.clone(), true),
                None => (after.clone(), false),
            };
            let op = RemoteOp {
                delegate: self.delegate,
                context: self.context.clone(),
                kind: RemoteOpKind::Next {
                    start,
                    include,
                    end: range_end(&self.subtree),
                    max_repetitions: s.prefetch.clamp(1, MAX_PREFETCH),
                },
            };
            if !s.misses.contains(&op) {
                s.misses.push(op);
            }
        }
        None
    }

    // Sets of remote varbinds never reach the handler: the agent runs them as a transaction.
    fn test_set(&mut self, _vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        Err(ErrorStatus::GenErr)
    }

    fn delegate(&self) -> Option<DelegateId> {
        Some(self.delegate)
    }
}

/// A Set transaction over delegates.
#[derive(Debug)]
struct SetTxn {
    phase: SetPhase,
    /// Each delegate with the indices of its varbinds in the request.
    groups: Vec<(DelegateId, Vec<usize>)>,
    local: Vec<usize>,
    failure: Option<(ErrorStatus, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetPhase {
    Test,
    Commit,
    Undo,
}

impl Agent {
    /// Registers `subtree` of the default context as served by `delegate`.
    pub fn register_remote(
        &mut self,
        subtree: Oid,
        delegate: DelegateId,
    ) -> Result<RegistrationId, RegistryError> {
        self.register_remote_in(&[], subtree, delegate)
    }

    /// Removes a registration of the default context made by [`Agent::register_remote`]
    /// (or any other).
    pub fn unregister_remote(&mut self, id: RegistrationId) -> Option<Oid> {
        self.unregister_remote_in(&[], id)
    }

    /// Whether any subtree is delegated (otherwise every request is answered at once).
    pub fn has_remotes(&self) -> bool {
        !self.remote_ids.is_empty()
    }

    /// CleanupSet operations to send (no answer awaited), oldest first.
    pub fn drain_notices(&mut self) -> Vec<RemoteOp> {
        std::mem::take(&mut self.notices)
    }

    /// Continues a pending request with one reply per op of `pending.ops`, in order (missing
    /// replies count as genErr).
    pub fn resume(
        &mut self,
        pending: Pending,
        replies: Vec<RemoteReply>,
        now: Duration,
    ) -> Outcome {
        let Pending { ops, mut job } = pending;
        let mut replies = replies.into_iter();
        if job.set.is_some() {
            let r: Vec<RemoteReply> = ops
                .iter()
                .map(|_| replies.next().unwrap_or(gen_err()))
                .collect();
            let context = job.context().to_vec();
            return self.in_context(&context, |a| a.set_step(*job, &ops, r, now));
        }
        for op in ops {
            let reply = replies.next().unwrap_or(gen_err());
            job.cache.absorb(op, reply);
        }
        self.run_job(*job, now)
    }

    /// Runs (or re-runs) a request in its context. Without delegates this is the synchronous
    /// path.
    pub(crate) fn run_job(&mut self, job: Job, now: Duration) -> Outcome {
        let context = job.context().to_vec();
        self.in_context(&context, |a| a.run_job_here(job, now))
    }

    /// [`Agent::run_job`] with the request's context's registry in place.
    fn run_job_here(&mut self, mut job: Job, now: Duration) -> Outcome {
        let cx = Ctx { now };
        match job.limit {
            None => job.limit = Some(self.limit),
            Some(l) => self.limit = l,
        }
        if !self.has_remotes() {
            let r = self.dispatch(job.version(), &job.pdu, &job.principal, &cx, job.overhead);
            return Outcome::Done(r.and_then(|r| self.finish_wire(&job, r, now)));
        }
        if job.pdu.pdu_type == PduType::Set && job.round == 0 {
            if let Some(o) = self.start_remote_set(&mut job, now) {
                return o;
            }
        }
        {
            let mut s = lock(&self.delegation);
            s.cache = std::mem::take(&mut job.cache);
            s.misses.clear();
            s.failed = None;
            s.next_blocked = false;
            s.prefetch = if job.pdu.pdu_type == PduType::GetBulk {
                u32::try_from(job.pdu.max_repetitions().max(1)).unwrap_or(1)
            } else {
                1
            };
        }
        self.replay = job.round > 0;
        let r = self.dispatch(job.version(), &job.pdu, &job.principal, &cx, job.overhead);
        self.replay = false;
        let misses = {
            let mut s = lock(&self.delegation);
            job.cache = std::mem::take(&mut s.cache);
            s.failed = None;
            std::mem::take(&mut s.misses)
        };
        if !misses.is_empty() && job.round < MAX_ROUNDS {
            job.round += 1;
            return Outcome::Pending(Pending {
                ops: misses,
                job: Box::new(job),
            });
        }
        let r = match r {
            Some(r) if !misses.is_empty() => {
                // Out of rounds: genErr rather than a partial answer.
                let mut e = response_to(&job.pdu, job.pdu.varbinds.clone());
                crate::agent::set_error(&mut e, ErrorStatus::GenErr, 1, job.version());
                let _ = r;
                e
            }
            Some(r) => r,
            None => return Outcome::Done(None),
        };
        Outcome::Done(self.finish_wire(&job, r, now))
    }

    /// A failure reported by a delegate in the current run (`None` at once without delegates).
    pub(crate) fn take_remote_failure(&self) -> Option<ErrorStatus> {
        if self.remote_ids.is_empty() {
            return None;
        }
        lock(&self.delegation).failed.take()
    }

    /// Whether the current run is waiting for a delegate (its results are placeholders).
    pub(crate) fn remote_missed(&self) -> bool {
        !self.remote_ids.is_empty() && !lock(&self.delegation).misses.is_empty()
    }

    /// Before each GetNext lookup: a new lookup may ask one more delegate.
    pub(crate) fn remote_new_lookup(&self) {
        if !self.remote_ids.is_empty() {
            lock(&self.delegation).next_blocked = false;
        }
    }

    fn owner_delegate(&mut self, oid: &Oid) -> Option<DelegateId> {
        self.registry_mut()
            .owner_handler(oid)
            .and_then(|h| h.delegate())
    }

    /// Starts a Set that involves delegates; `None` when it involves none (or fails at once).
    fn start_remote_set(&mut self, job: &mut Job, now: Duration) -> Option<Outcome> {
        let mut groups: Vec<(DelegateId, Vec<usize>)> = Vec::new();
        let mut local = Vec::new();
        for (i, vb) in job.pdu.varbinds.iter().enumerate() {
            match self.owner_delegate(&vb.oid) {
                Some(d) => match groups.iter_mut().find(|(g, _)| *g == d) {
                    Some((_, v)) => v.push(i),
                    None => groups.push((d, vec![i])),
                },
                None => local.push(i),
            }
        }
        if groups.is_empty() {
            return None;
        }
        let c = self.counters();
        crate::agent::SnmpCounters::inc(&c.in_set_requests);
        crate::agent::SnmpCounters::add(&c.in_total_set_vars, job.pdu.varbinds.len());
        let version = job.version();
        let refuse = |agent: &mut Agent, job: &Job, e: ErrorStatus, index: usize| {
            let mut r = response_to(&job.pdu, job.pdu.varbinds.clone());
            crate::agent::set_error(&mut r, e, index, version);
            Some(Outcome::Done(agent.finish_wire(job, r, now)))
        };
        if job.principal.access != Access::ReadWrite {
            crate::agent::SnmpCounters::inc(&c.in_bad_community_uses);
            return refuse(self, job, ErrorStatus::NoAccess, 1);
        }
        for (i, vb) in job.pdu.varbinds.iter().enumerate() {
            if !job.principal.in_view(&vb.oid) {
                return refuse(self, job, ErrorStatus::NoAccess, i + 1);
            }
            if vb.value.is_exception() {
                return refuse(self, job, ErrorStatus::WrongType, i + 1);
            }
        }
        let ops = groups
            .iter()
            .map(|(d, idx)| RemoteOp {
                delegate: *d,
                context: job.context().to_vec(),
                kind: RemoteOpKind::TestSet(
                    idx.iter()
                        .filter_map(|&i| job.pdu.varbinds.get(i).cloned())
                        .collect(),
                ),
            })
            .collect();
        job.set = Some(SetTxn {
            phase: SetPhase::Test,
            groups,
            local,
            failure: None,
        });
        job.round = 1;
        let job = std::mem::replace(
            job,
            Job::new(job.wire.clone(), job.pdu.clone(), job.principal.clone(), 0),
        );
        Some(Outcome::Pending(Pending {
            ops,
            job: Box::new(job),
        }))
    }

    /// The next step of a Set transaction after the replies to `ops`.
    fn set_step(
        &mut self,
        mut job: Job,
        ops: &[RemoteOp],
        replies: Vec<RemoteReply>,
        now: Duration,
    ) -> Outcome {
        let Some(mut txn) = job.set.take() else {
            return Outcome::Done(None);
        };
        let cx = Ctx { now };
        if let Some(l) = job.limit {
            self.limit = l;
        }
        let all: Vec<DelegateId> = txn.groups.iter().map(|(d, _)| *d).collect();
        let first_failure = ops.iter().zip(&replies).find_map(|(op, r)| match r {
            RemoteReply::Failed { status, index } => {
                let at = txn
                    .groups
                    .iter()
                    .find(|(d, _)| *d == op.delegate)
                    .and_then(|(_, idx)| {
                        idx.get(usize::try_from(*index).unwrap_or(1).saturating_sub(1))
                            .or(idx.first())
                    })
                    .map_or(1, |i| i + 1);
                Some((*status, at))
            }
            _ => None,
        });
        let ask = |kind: RemoteOpKind| -> Vec<RemoteOp> {
            all.iter()
                .map(|d| RemoteOp {
                    delegate: *d,
                    context: job.context().to_vec(),
                    kind: kind.clone(),
                })
                .collect()
        };
        let next = match txn.phase {
            SetPhase::Test => {
                if let Some((status, at)) = first_failure {
                    // RFC 3416: a Set phase-one failure keeps its status (genErr for a timeout).
                    txn.failure = Some((status_or_gen(status), at));
                    None
                } else if let Some(f) = self.local_set(&job, &txn.local, &cx, false) {
                    txn.failure = Some(f);
                    None
                } else {
                    txn.phase = SetPhase::Commit;
                    Some(ask(RemoteOpKind::CommitSet))
                }
            }
            SetPhase::Commit => {
                if let Some((_, at)) = first_failure {
                    txn.failure = Some((ErrorStatus::CommitFailed, at));
                    txn.phase = SetPhase::Undo;
                    Some(ask(RemoteOpKind::UndoSet))
                } else if let Some(f) = self.local_set(&job, &txn.local, &cx, true) {
                    txn.failure = Some(f);
                    txn.phase = SetPhase::Undo;
                    Some(ask(RemoteOpKind::UndoSet))
                } else {
                    None
                }
            }
            SetPhase::Undo => {
                if let (Some((_, at)), Some(f)) = (first_failure, txn.failure.as_mut()) {
                    *f = (ErrorStatus::UndoFailed, f.1.min(at));
                }
                None
            }
        };
        if let Some(ops) = next {
            job.set = Some(txn);
            job.round += 1;
            return Outcome::Pending(Pending {
                ops,
                job: Box::new(job),
            });
        }
        self.notices.extend(ask(RemoteOpKind::CleanupSet));
        let version = job.version();
        let mut r = response_to(&job.pdu, job.pdu.varbinds.clone());
        if let Some((e, at)) = txn.failure {
            crate::agent::set_error(&mut r, e, at, version);
        }
        Outcome::Done(self.finish_wire(&job, r, now))
    }

    /// Tests (and with `commit`, commits) the local varbinds of a Set as one transaction of
    /// their own; the failure and its 1-based index in the request.
    fn local_set(
        &mut self,
        job: &Job,
        local: &[usize],
        cx: &Ctx,
        commit: bool,
    ) -> Option<(ErrorStatus, usize)> {
        if local.is_empty() {
            return None;
        }
        let vbs: Vec<VarBind> = local
            .iter()
            .filter_map(|&i| job.pdu.varbinds.get(i).cloned())
            .collect();
        let pdu = Pdu::new(PduType::Set, job.pdu.request_id, vbs);
        let r = self.run_local_set(&pdu, Version::V2c, &job.principal, cx, commit);
        let status = ErrorStatus::from_code(r.error_status)?;
        if status == ErrorStatus::NoError {
            return None;
        }
        let at = usize::try_from(r.error_index)
            .unwrap_or(1)
            .saturating_sub(1);
        Some((status, local.get(at).map_or(1, |i| i + 1)))
    }
}

fn gen_err() -> RemoteReply {
    RemoteReply::Failed {
        status: ErrorStatus::GenErr,
        index: 0,
    }
}

fn status_or_gen(s: ErrorStatus) -> ErrorStatus {
    if s == ErrorStatus::NoError {
        ErrorStatus::GenErr
    } else {
        s
    }
}

impl Cache {
    /// Records the reply to `op`. A GetNext/GetBulk reply is a chain: each instance is the next
    /// after the one before it.
    fn absorb(&mut self, op: RemoteOp, reply: RemoteReply) {
        let d = op.delegate;
        match op.kind {
            RemoteOpKind::Get(oids) => match reply {
                RemoteReply::Varbinds(vbs) => {
                    for (i, oid) in oids.into_iter().enumerate() {
                        let v = vbs
                            .get(i)
                            .map(|vb| match &vb.value {
                                Value::EndOfMibView => Value::NoSuchObject,
                                v => v.clone(),
                            })
                            .ok_or(ErrorStatus::GenErr);
                        self.get.insert((d, oid), v);
                    }
                }
                RemoteReply::Failed { status, .. } => {
                    for oid in oids {
                        self.get.insert((d, oid), Err(status_or_gen(status)));
                    }
                }
                RemoteReply::Done => {
                    for oid in oids {
                        self.get.insert((d, oid), Err(ErrorStatus::GenErr));
                    }
                }
            },
            RemoteOpKind::Next {
                start,
                include,
                end,
                ..
            } => {
                // The handler looks answers up under its cursor; a cursor before the subtree
                // (an inclusive start) under `include_key`.
                let mut prev = if include {
                    include_key(&start)
                } else {
                    start.clone()
                };
                let vbs = match reply {
                    RemoteReply::Varbinds(vbs) => vbs,
                    RemoteReply::Failed { status, .. } => {
                        self.next.insert((d, prev), Err(status_or_gen(status)));
                        return;
                    }
                    RemoteReply::Done => {
                        self.next.insert((d, prev), Err(ErrorStatus::GenErr));
                        return;
                    }
                };
                let mut first = true;
                let mut ended = true;
                for vb in vbs {
                    let out_of_order = if first && include {
                        vb.oid < start
                    } else {
                        vb.oid <= prev
                    };
                    if vb.value == Value::EndOfMibView || vb.oid >= end || out_of_order {
                        ended = true;
                        break;
                    }
                    ended = false;
                    let oid = vb.oid.clone();
                    if vb.value.is_exception() {
                        // Not an instance: the next round asks again after it.
                        self.next.insert((d, prev.clone()), Ok(Step::Skip(oid)));
                        break;
                    }
                    self.next.insert((d, prev), Ok(Step::Found(vb)));
                    prev = oid;
                    first = false;
                }
                // The end of the range; after a short answer without one, the next round asks
                // again from the last instance.
                if ended {
                    self.next.entry((d, prev)).or_insert(Ok(Step::End));
                }
            }
            _ => {}
        }
    }
}

/// The cache key standing for "any cursor before `subtree`" (a GetNext with include set).
fn include_key(subtree: &Oid) -> Oid {
    // Never a real cursor: cursors are compared to the subtree before they are looked up.
    let mut arcs = vec![u32::MAX, u32::MAX];
    arcs.extend_from_slice(subtree.arcs());
    Oid::new(&arcs)
}
