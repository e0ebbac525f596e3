//! The sans-I/O agent: request bytes, the peer's address and `now` in; response bytes out.

use crate::mib::{snmp_group::SnmpGroup, system::SystemGroup};
use crate::oid::Oid;
use crate::pdu::{AnyPdu, ErrorStatus, Message, Pdu, PduType, Version};
use crate::registry::{Ctx, Registry};
use crate::value::{Value, VarBind};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
pub use wire::prefix::IpPrefix;

use crate::delegate::{Job, Outcome, Wire};
pub use crate::notify::AgentEvent;
pub use crate::v3::{AuthProtocol, PrivProtocol, SecurityLevel};

mod config;
mod contexts;
mod usm;
pub use config::{default_engine_id, Access, AgentConfig, Community, View};
use usm::register_v3_groups;
pub use usm::{UsmCounters, UsmUser};

/// The SNMPv2-MIB snmp group counters.
#[derive(Debug, Default)]
pub struct SnmpCounters {
    pub in_pkts: AtomicU32,
    pub out_pkts: AtomicU32,
    pub in_bad_versions: AtomicU32,
    pub in_bad_community_names: AtomicU32,
    pub in_bad_community_uses: AtomicU32,
    pub in_asn_parse_errs: AtomicU32,
    pub in_too_bigs: AtomicU32,
    pub in_no_such_names: AtomicU32,
    pub in_bad_values: AtomicU32,
    pub in_read_onlys: AtomicU32,
    pub in_gen_errs: AtomicU32,
    pub in_total_req_vars: AtomicU32,
    pub in_total_set_vars: AtomicU32,
    pub in_get_requests: AtomicU32,
    pub in_get_nexts: AtomicU32,
    pub in_set_requests: AtomicU32,
    pub in_get_responses: AtomicU32,
    pub in_traps: AtomicU32,
    pub out_too_bigs: AtomicU32,
    pub out_no_such_names: AtomicU32,
    pub out_bad_values: AtomicU32,
    pub out_gen_errs: AtomicU32,
    pub out_get_responses: AtomicU32,
    pub out_traps: AtomicU32,
    pub silent_drops: AtomicU32,
    pub proxy_drops: AtomicU32,
}

impl SnmpCounters {
    pub fn inc(c: &AtomicU32) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(c: &AtomicU32, n: usize) {
        c.fetch_add(u32::try_from(n).unwrap_or(u32::MAX), Ordering::Relaxed);
    }

    pub fn read(c: &AtomicU32) -> u32 {
        c.load(Ordering::Relaxed)
    }

    /// Every counter with its SNMPv2-MIB name, for display.
    pub fn named(&self) -> Vec<(&'static str, u32)> {
        [
            ("snmpInPkts", &self.in_pkts),
            ("snmpOutPkts", &self.out_pkts),
            ("snmpInBadVersions", &self.in_bad_versions),
            ("snmpInBadCommunityNames", &self.in_bad_community_names),
            ("snmpInBadCommunityUses", &self.in_bad_community_uses),
            ("snmpInASNParseErrs", &self.in_asn_parse_errs),
            ("snmpInTotalReqVars", &self.in_total_req_vars),
            ("snmpInTotalSetVars", &self.in_total_set_vars),
            ("snmpInGetRequests", &self.in_get_requests),
            ("snmpInGetNexts", &self.in_get_nexts),
            ("snmpInSetRequests", &self.in_set_requests),
            ("snmpInGetResponses", &self.in_get_responses),
            ("snmpInTraps", &self.in_traps),
            ("snmpOutTooBigs", &self.out_too_bigs),
            ("snmpOutNoSuchNames", &self.out_no_such_names),
            ("snmpOutBadValues", &self.out_bad_values),
            ("snmpOutGenErrs", &self.out_gen_errs),
            ("snmpOutGetResponses", &self.out_get_responses),
            ("snmpOutTraps", &self.out_traps),
            ("snmpSilentDrops", &self.silent_drops),
            ("snmpProxyDrops", &self.proxy_drops),
        ]
        .into_iter()
        .map(|(n, c)| (n, Self::read(c)))
        .collect()
    }
}

/// What `SHOW SNMP` displays: counters, communities and users without secrets, subtrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSummary {
    pub engine_id: Vec<u8>,
    pub engine_boots: u32,
    pub counters: Vec<(&'static str, u32)>,
    pub usm_counters: Vec<(&'static str, u32)>,
    /// Communities; their names are secrets and are not shown.
    pub communities: Vec<CommunityInfo>,
    pub users: Vec<UserInfo>,
    pub subtrees: Vec<Oid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityInfo {
    pub access: Access,
    pub sources: Vec<IpPrefix>,
    pub view: View,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub auth: Option<AuthProtocol>,
    pub privacy: Option<PrivProtocol>,
    pub access: Access,
}

/// One sysORTable row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysOrEntry {
    /// sysORIndex: stable while the entry exists.
    pub index: u32,
    pub id: Oid,
    pub descr: String,
    /// sysUpTime (centiseconds) when the entry was added.
    pub up_time: u32,
}

/// The settable part of the system group and sysORTable, shared with the host (netcp persists
/// sysContact, sysName and sysLocation from here after a Set).
#[derive(Debug, Clone, Default)]
pub struct SystemState {
    pub contact: String,
    pub name: String,
    pub location: String,
    pub or_table: Vec<SysOrEntry>,
    pub or_last_change: u32,
    /// Bumped on every committed Set of the system group.
    pub generation: u64,
}

/// Locks a mutex, recovering from poisoning (a panicking holder cannot wedge the agent).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Centiseconds in a duration, saturating at 2^32-1.
pub fn centis(d: Duration) -> u32 {
    u32::try_from(d.as_millis() / 10).unwrap_or(u32::MAX)
}

/// The SNMP agent.
pub struct Agent {
    config: AgentConfig,
    registry: Registry,
    counters: Arc<SnmpCounters>,
    system: Arc<Mutex<SystemState>>,
    enable_authen_traps: Arc<Mutex<bool>>,
    usm: Arc<UsmCounters>,
    /// The message size limit of the request being served.
    pub(crate) limit: usize,
    /// The next AES salt (RFC 3826: a 64-bit integer incremented per message).
    salt: u64,
    events: EventSink,
    /// Shared with the handlers of remote subtrees (see [`crate::delegate`]).
    pub(crate) delegation: Arc<Mutex<crate::delegate::Delegation>>,
    /// Every remote registration, by context (empty: default) and registration.
    pub(crate) remote_ids: std::collections::HashSet<(Vec<u8>, crate::registry::RegistrationId)>,
    /// The registries of the non-default contexts (only delegated subtrees live there):
    /// see `contexts.rs`.
    pub(crate) contexts: std::collections::BTreeMap<Vec<u8>, Registry>,
    /// Their names, for vacmContextTable.
    pub(crate) context_names: crate::mib::vacm::ContextNames,
    /// Each non-default context's sysORTable: sysORLastChange and the rows.
    pub(crate) context_or: std::collections::BTreeMap<Vec<u8>, (u32, Vec<SysOrEntry>)>,
    /// CleanupSet operations for the host.
    pub(crate) notices: Vec<crate::delegate::RemoteOp>,
    /// A request is being run again: its counters were counted the first time.
    pub(crate) replay: bool,
}

/// Where handlers and the agent queue [`AgentEvent`]s for the host.
pub type EventSink = Arc<Mutex<Vec<AgentEvent>>>;

/// At most this many events wait for [`Agent::drain_events`]; older ones are dropped.
const MAX_EVENTS: usize = 64;

const MAX_BULK_VARBINDS: usize = 10_000;

impl Agent {
    /// An agent serving the SNMPv2-MIB system and snmp groups. `now` passed to
    /// [`Agent::handle`] is the time since the agent started (sysUpTime).
    pub fn new(config: AgentConfig) -> Self {
        let counters = Arc::new(SnmpCounters::default());
        let system = Arc::new(Mutex::new(SystemState {
            contact: config.sys_contact.clone(),
            name: config.sys_name.clone(),
            location: config.sys_location.clone(),
            ..SystemState::default()
        }));
        let enable_authen_traps = Arc::new(Mutex::new(config.enable_authen_traps));
        let mut registry = Registry::new();
        let sys = SystemGroup::new(&config, system.clone());
        // The registry is empty, so these cannot collide.
        let _ = registry.register(crate::mib::system::SYSTEM.clone(), Box::new(sys));
        let snmp = SnmpGroup::new(counters.clone(), enable_authen_traps.clone());
        let _ = registry.register(crate::mib::snmp_group::SNMP.clone(), Box::new(snmp));
        let usm = Arc::new(UsmCounters::default());
        register_v3_groups(&mut registry, &config, &usm);
        let context_names = crate::mib::vacm::ContextNames::default();
        crate::mib::vacm::register(&mut registry, &config, context_names.clone());
        let limit = config.max_message_size;
        let salt = u64::from(config.engine_boots) << 32 | config.salt_seed;
        let mut agent = Agent {
            config,
            registry,
            counters,
            system,
            enable_authen_traps,
            usm,
            limit,
            salt,
            events: Arc::new(Mutex::new(Vec::new())),
            delegation: Arc::default(),
            remote_ids: Default::default(),
            contexts: Default::default(),
            context_or: Default::default(),
            context_names,
            notices: Vec::new(),
            replay: false,
        };
        for (id, descr) in [
            (1, "The MIB module for SNMP entities (SNMPv2-MIB)"),
            (10, "The SNMP Management Architecture MIB (SNMP-FRAMEWORK-MIB)"),
            (11, "The MIB for Message Processing and Dispatching (SNMP-MPD-MIB)"),
            (15, "The management information definitions for the SNMP User-based Security Model (SNMP-USER-BASED-SM-MIB)"),
        ] {
            agent.add_sysor(Oid::new(&[1, 3, 6, 1, 6, 3, id]), descr, Duration::ZERO);
        }
        agent
    }

    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// Replaces the communities and limits (a live configuration change).
    pub fn set_communities(&mut self, communities: Vec<Community>) {
        self.config.communities = communities;
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Register and unregister subtrees here at run time.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    pub fn counters(&self) -> Arc<SnmpCounters> {
        self.counters.clone()
    }

    pub fn system(&self) -> Arc<Mutex<SystemState>> {
        self.system.clone()
    }

    pub fn authen_traps_enabled(&self) -> bool {
        *lock(&self.enable_authen_traps)
    }

    /// Adds a sysORTable row (a MIB module this agent implements).
    pub fn add_sysor(&mut self, id: Oid, descr: &str, now: Duration) {
        let mut s = lock(&self.system);
        let index = s
            .or_table
            .iter()
            .map(|e| e.index)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        s.or_table.push(SysOrEntry {
            index,
            id,
            descr: descr.to_string(),
            up_time: centis(now),
        });
        s.or_last_change = centis(now);
    }

    pub fn remove_sysor(&mut self, id: &Oid, now: Duration) {
        let mut s = lock(&self.system);
        s.or_table.retain(|e| e.id != *id);
        s.or_last_change = centis(now);
    }

    /// Handles one datagram from `peer`; returns the datagram to send back, if any. A request
    /// that needs a delegate (a subtree served by a subagent) is answered genErr: hosts with
    /// delegates call [`Agent::handle_request`].
    pub fn handle(&mut self, request: &[u8], peer: SocketAddr, now: Duration) -> Option<Vec<u8>> {
        match self.handle_request(request, peer, now) {
            Outcome::Done(r) => r,
            Outcome::Pending(p) => {
                let replies = Vec::new();
                let mut o = self.resume(p, replies, now);
                // Without replies every op fails, so each round ends or asks something new.
                for _ in 0..70 {
                    match o {
                        Outcome::Done(r) => return r,
                        Outcome::Pending(p) => o = self.resume(p, Vec::new(), now),
                    }
                }
                None
            }
        }
    }

    /// Handles one datagram from `peer`: the answer, or the delegates to ask first.
    pub fn handle_request(&mut self, request: &[u8], peer: SocketAddr, now: Duration) -> Outcome {
        let c = self.counters.clone();
        SnmpCounters::inc(&c.in_pkts);
        if Message::peek_version(request) == Ok(3) {
            return match self.handle_v3(request, peer, now) {
                Ok(job) => self.run_job(job, now),
                Err(r) => Outcome::Done(r),
            };
        }
        self.limit = self.config.max_message_size;
        let msg = match Message::decode(request) {
            Ok(m) => m,
            Err(_) => {
                if let Ok(v) = Message::peek_version(request) {
                    if v != 0 && v != 1 {
                        SnmpCounters::inc(&c.in_bad_versions);
                        return Outcome::Done(None);
                    }
                }
                SnmpCounters::inc(&c.in_asn_parse_errs);
                return Outcome::Done(None);
            }
        };
        let Some(community) = self
            .config
            .communities
            .iter()
            .find(|cm| cm.name == msg.community && cm.allows_source(peer.ip()))
            .cloned()
        else {
            SnmpCounters::inc(&c.in_bad_community_names);
            self.push_event(AgentEvent::AuthenticationFailure { peer });
            return Outcome::Done(None);
        };
        let pdu = match msg.pdu {
            AnyPdu::TrapV1(_) => {
                SnmpCounters::inc(&c.in_traps);
                return Outcome::Done(None);
            }
            AnyPdu::Pdu(p) => p,
        };
        let version = msg.version;
        if version == Version::V1 && pdu.pdu_type == PduType::GetBulk {
            SnmpCounters::inc(&c.in_asn_parse_errs);
            return Outcome::Done(None);
        }
        let overhead = msg.community.len();
        let wire = Wire::V2 {
            version,
            community: msg.community,
        };
        self.run_job(Job::new(wire, pdu, community, overhead), now)
    }

    /// Runs one request PDU with the access of `principal` (a community, or a v3 user);
    /// `None` for PDUs that get no response. `overhead` estimates the message's header size
    /// beyond a bare v2c message (the community length, for v1/v2c).
    pub(crate) fn dispatch(
        &mut self,
        version: Version,
        pdu: &Pdu,
        principal: &Community,
        cx: &Ctx,
        overhead: usize,
    ) -> Option<Pdu> {
        // A request run again for a delegate's answers was counted the first time.
        let c = if self.replay {
            Arc::new(SnmpCounters::default())
        } else {
            self.counters.clone()
        };
        Some(match pdu.pdu_type {
            PduType::Get => {
                SnmpCounters::inc(&c.in_get_requests);
                SnmpCounters::add(&c.in_total_req_vars, pdu.varbinds.len());
                self.do_get(pdu, version, principal, cx)
            }
            PduType::GetNext => {
                SnmpCounters::inc(&c.in_get_nexts);
                SnmpCounters::add(&c.in_total_req_vars, pdu.varbinds.len());
                self.do_get_next(pdu, version, principal, cx)
            }
            PduType::GetBulk => {
                SnmpCounters::add(&c.in_total_req_vars, pdu.varbinds.len());
                self.do_get_bulk(pdu, principal, cx, overhead)
            }
            PduType::Set => {
                SnmpCounters::inc(&c.in_set_requests);
                if principal.access != Access::ReadWrite {
                    SnmpCounters::inc(&c.in_bad_community_uses);
                    let mut r = response_to(pdu, pdu.varbinds.clone());
                    set_error(&mut r, ErrorStatus::NoAccess, 1, version);
                    r
                } else {
                    self.do_set(pdu, version, principal, cx)
                }
            }
            PduType::Inform => {
                // Acknowledge, as a notification receiver does.
                response_to(pdu, pdu.varbinds.clone())
            }
            PduType::Response | PduType::Report => {
                SnmpCounters::inc(&c.in_get_responses);
                return None;
            }
            PduType::V2Trap => {
                SnmpCounters::inc(&c.in_traps);
                return None;
            }
        })
    }

    fn finish(
        &mut self,
        version: Version,
        community: Vec<u8>,
        request: &Pdu,
        mut response: Pdu,
    ) -> Option<Vec<u8>> {
        let c = &self.counters;
        let mut msg = Message {
            version,
            community,
            pdu: AnyPdu::Pdu(response.clone()),
        };
        let mut bytes = msg.encode();
        if bytes.len() > self.config.max_message_size {
            response.error_status = ErrorStatus::TooBig.code();
            response.error_index = 0;
            response.varbinds = match version {
                Version::V1 => request.varbinds.clone(),
                Version::V2c => Vec::new(),
            };
            msg.pdu = AnyPdu::Pdu(response.clone());
            bytes = msg.encode();
            if bytes.len() > self.config.max_message_size {
                SnmpCounters::inc(&c.silent_drops);
                return None;
            }
        }
        match ErrorStatus::from_code(response.error_status) {
            Some(ErrorStatus::TooBig) => SnmpCounters::inc(&c.out_too_bigs),
            Some(ErrorStatus::NoSuchName) => SnmpCounters::inc(&c.out_no_such_names),
            Some(ErrorStatus::BadValue) => SnmpCounters::inc(&c.out_bad_values),
            Some(ErrorStatus::GenErr) => SnmpCounters::inc(&c.out_gen_errs),
            _ => {}
        }
        SnmpCounters::inc(&c.out_get_responses);
        SnmpCounters::inc(&c.out_pkts);
        Some(bytes)
    }

    fn get_one(&mut self, oid: &Oid, community: &Community, cx: &Ctx) -> Value {
        if !community.in_view(oid) {
            return Value::NoSuchObject;
        }
        self.registry.get(oid, cx)
    }

    /// The next instance after `after` that the community may see.
    fn next_one(&mut self, after: &Oid, community: &Community, cx: &Ctx) -> Option<VarBind> {
        let mut cursor = after.clone();
        let view = &community.view;
        // Each pass crosses at least one family boundary, so this is bounded.
        for _ in 0..2 * view.families.len() + 3 {
            let vb = self.registry.next(&cursor, cx)?;
            if view.contains(&vb.oid) {
                return Some(vb);
            }
            // Skip to the next point where the view may include something.
            let target = match view.deciding(&vb.oid) {
                Some((excluded, false)) => {
                    match view.next_included_after(&vb.oid, Some(excluded)) {
                        Some(g) => Some(g.clone()),
                        None => {
                            cursor = excluded.subtree_end();
                            continue;
                        }
                    }
                }
                _ => view.next_included_after(&vb.oid, None).cloned(),
            };
            let g = target?;
            let here = self.registry.get(&g, cx);
            if !here.is_exception() && view.contains(&g) {
                return Some(VarBind::new(g, here));
            }
            cursor = g;
        }
        None
    }

    fn do_get(&mut self, pdu: &Pdu, version: Version, cm: &Community, cx: &Ctx) -> Pdu {
        let mut out = Vec::with_capacity(pdu.varbinds.len());
        for (i, vb) in pdu.varbinds.iter().enumerate() {
            let v = self.get_one(&vb.oid, cm, cx);
            if let Some(e) = self.take_remote_failure() {
                let mut r = response_to(pdu, pdu.varbinds.clone());
                set_error(&mut r, e, i + 1, version);
                return r;
            }
            if version == Version::V1 && (v.is_exception() || matches!(v, Value::Counter64(_))) {
                let mut r = response_to(pdu, pdu.varbinds.clone());
                set_error(&mut r, ErrorStatus::NoSuchName, i + 1, version);
                return r;
            }
            out.push(VarBind::new(vb.oid.clone(), v));
        }
        response_to(pdu, out)
    }

    fn do_get_next(&mut self, pdu: &Pdu, version: Version, cm: &Community, cx: &Ctx) -> Pdu {
        let mut out = Vec::with_capacity(pdu.varbinds.len());
        for (i, vb) in pdu.varbinds.iter().enumerate() {
            let mut cursor = vb.oid.clone();
            let found = loop {
                self.remote_new_lookup();
                let n = self.next_one(&cursor, cm, cx);
                if let Some(e) = self.take_remote_failure() {
                    let mut r = response_to(pdu, pdu.varbinds.clone());
                    set_error(&mut r, e, i + 1, version);
                    return r;
                }
                match n {
                    // RFC 3584 4.2.2.1: a v1 GetNext skips Counter64 objects.
                    Some(n) if version == Version::V1 && matches!(n.value, Value::Counter64(_)) => {
                        cursor = n.oid
                    }
                    other => break other,
                }
            };
            match found {
                Some(n) => out.push(n),
                None if version == Version::V1 => {
                    let mut r = response_to(pdu, pdu.varbinds.clone());
                    set_error(&mut r, ErrorStatus::NoSuchName, i + 1, version);
                    return r;
                }
                None => out.push(VarBind::new(vb.oid.clone(), Value::EndOfMibView)),
            }
        }
        response_to(pdu, out)
    }

    fn do_get_bulk(&mut self, pdu: &Pdu, cm: &Community, cx: &Ctx, community_len: usize) -> Pdu {
        let n_vb = pdu.varbinds.len();
        let non_rep = usize::try_from(pdu.non_repeaters().max(0))
            .unwrap_or(0)
            .min(n_vb);
        let max_rep = usize::try_from(pdu.max_repetitions().max(0)).unwrap_or(0);
        let limit = self.limit;
        let mut out: Vec<VarBind> = Vec::new();
        let mut vb_len = 0usize;
        let fits = |vb_len: usize| {
            crate::pdu::response_size(community_len, pdu.request_id, vb_len) <= limit
        };
        for (i, vb) in pdu.varbinds.iter().take(non_rep).enumerate() {
            self.remote_new_lookup();
            let n = self.next_one(&vb.oid, cm, cx);
            if let Some(e) = self.take_remote_failure() {
                return bulk_error(pdu, e, i + 1);
            }
            let n = n.unwrap_or_else(|| VarBind::new(vb.oid.clone(), Value::EndOfMibView));
            vb_len += n.encoded_len();
            out.push(n);
        }
        if !fits(vb_len) {
            let mut r = response_to(pdu, Vec::new());
            r.error_status = ErrorStatus::TooBig.code();
            return r;
        }
        let mut cursors: Vec<Oid> = pdu.varbinds[non_rep..]
            .iter()
            .map(|v| v.oid.clone())
            .collect();
        let mut ended = vec![false; cursors.len()];
        'rounds: for _ in 0..max_rep {
            if cursors.is_empty() || ended.iter().all(|e| *e) {
                break;
            }
            for (j, cur) in cursors.iter_mut().enumerate() {
                let n = if ended[j] {
                    VarBind::new(cur.clone(), Value::EndOfMibView)
                } else {
                    self.remote_new_lookup();
                    let n = self.next_one(cur, cm, cx);
                    if let Some(e) = self.take_remote_failure() {
                        return bulk_error(pdu, e, non_rep + j + 1);
                    }
                    // Waiting for a delegate: this column's later rounds would be guesses.
                    if self.remote_missed() {
                        ended[j] = true;
                    }
                    match n {
                        Some(n) => n,
                        None => {
                            ended[j] = true;
                            VarBind::new(cur.clone(), Value::EndOfMibView)
                        }
                    }
                };
                let l = n.encoded_len();
                if !fits(vb_len + l) || out.len() >= MAX_BULK_VARBINDS {
                    break 'rounds;
                }
                vb_len += l;
                cur.clone_from(&n.oid);
                out.push(n);
            }
        }
        response_to(pdu, out)
    }

    fn do_set(&mut self, pdu: &Pdu, version: Version, cm: &Community, cx: &Ctx) -> Pdu {
        let c = self.counters.clone();
        SnmpCounters::add(&c.in_total_set_vars, pdu.varbinds.len());
        self.run_local_set(pdu, version, cm, cx, true)
    }

    /// A Set over local handlers: test every varbind, then (with `commit`) commit them all or
    /// undo; cleanup at the end.
    pub(crate) fn run_local_set(
        &mut self,
        pdu: &Pdu,
        version: Version,
        cm: &Community,
        cx: &Ctx,
        commit: bool,
    ) -> Pdu {
        let vbs = &pdu.varbinds;
        // Phase 1: test every varbind.
        let mut tested = 0usize;
        let mut failure: Option<(ErrorStatus, usize)> = None;
        for (i, vb) in vbs.iter().enumerate() {
            let res = if !cm.in_view(&vb.oid) {
                Err(ErrorStatus::NoAccess)
            } else if vb.value.is_exception() {
                Err(ErrorStatus::WrongType)
            } else {
                // RFC 3416 4.2.5: an object that does not exist and cannot be created is
                // noCreation; one that exists but cannot be modified is notWritable.
                let exists = !self.registry.get(&vb.oid, cx).is_exception();
                match self.registry.owner_handler(&vb.oid) {
                    Some(h) => match h.test_set(vb, cx) {
                        Err(ErrorStatus::NotWritable) if !exists => Err(ErrorStatus::NoCreation),
                        r => r,
                    },
                    None => Err(ErrorStatus::NoCreation),
                }
            };
            tested = i + 1;
            if let Err(e) = res {
                failure = Some((e, i + 1));
                break;
            }
        }
        // Phase 2: commit, undoing on failure.
        if failure.is_none() && commit {
            for (i, vb) in vbs.iter().enumerate() {
                let res = match self.registry.owner_handler(&vb.oid) {
                    Some(h) => h.commit_set(vb, cx),
                    None => Err(ErrorStatus::CommitFailed),
                };
                if res.is_err() {
                    let mut status = ErrorStatus::CommitFailed;
                    for done in vbs[..i].iter().rev() {
                        if let Some(h) = self.registry.owner_handler(&done.oid) {
                            if h.undo_set(done, cx).is_err() {
                                status = ErrorStatus::UndoFailed;
                            }
                        }
                    }
                    failure = Some((status, i + 1));
                    break;
                }
            }
        }
        // Phase 3: cleanup.
        for vb in &vbs[..tested] {
            if let Some(h) = self.registry.owner_handler(&vb.oid) {
                h.cleanup_set(vb, cx);
            }
        }
        let mut r = response_to(pdu, vbs.clone());
        if let Some((e, idx)) = failure {
            set_error(&mut r, e, idx, version);
        }
        r
    }
}

fn bulk_error(pdu: &Pdu, e: ErrorStatus, index: usize) -> Pdu {
    let mut r = response_to(pdu, pdu.varbinds.clone());
    set_error(&mut r, e, index, Version::V2c);
    r
}

/// An empty Response to `pdu` carrying `varbinds`.
pub(crate) fn response_to(pdu: &Pdu, varbinds: Vec<VarBind>) -> Pdu {
    Pdu {
        pdu_type: PduType::Response,
        request_id: pdu.request_id,
        error_status: 0,
        error_index: 0,
        varbinds,
    }
}

pub(crate) fn set_error(r: &mut Pdu, e: ErrorStatus, index: usize, version: Version) {
    let e = match version {
        Version::V1 => e.to_v1(),
        Version::V2c => e,
    };
    r.error_status = e.code();
    r.error_index = i32::try_from(index).unwrap_or(i32::MAX);
}

impl Agent {
    pub fn usm_counters(&self) -> Arc<UsmCounters> {
        self.usm.clone()
    }

    /// A summary for display, with no secrets in it.
    pub fn summary(&self) -> AgentSummary {
        let u = &self.usm;
        let usm_counters = [
            ("usmStatsUnsupportedSecLevels", &u.unsupported_sec_levels),
            ("usmStatsNotInTimeWindows", &u.not_in_time_windows),
            ("usmStatsUnknownUserNames", &u.unknown_user_names),
            ("usmStatsUnknownEngineIDs", &u.unknown_engine_ids),
            ("usmStatsWrongDigests", &u.wrong_digests),
            ("usmStatsDecryptionErrors", &u.decryption_errors),
            ("snmpUnknownSecurityModels", &u.unknown_security_models),
            ("snmpInvalidMsgs", &u.invalid_msgs),
            ("snmpUnknownContexts", &u.unknown_contexts),
        ]
        .into_iter()
        .map(|(n, c)| (n, SnmpCounters::read(c)))
        .collect();
        AgentSummary {
            engine_id: self.config.engine_id.clone(),
            engine_boots: self.config.engine_boots,
            counters: self.counters.named(),
            usm_counters,
            communities: self
                .config
                .communities
                .iter()
                .map(|c| CommunityInfo {
                    access: c.access,
                    sources: c.sources.clone(),
                    view: c.view.clone(),
                })
                .collect(),
            users: self
                .config
                .users
                .iter()
                .map(|u| UserInfo {
                    name: String::from_utf8_lossy(&u.name).into_owned(),
                    auth: u.auth.as_ref().map(|a| a.0),
                    privacy: u.privacy.as_ref().map(|p| p.0),
                    access: u.access,
                })
                .collect(),
            subtrees: self
                .registry
                .subtrees()
                .into_iter()
                .map(|(o, _)| o)
                .collect(),
        }
    }

    /// The queue handlers push events into (e.g. a committed Set of hrSystemDate).
    pub fn event_sink(&self) -> EventSink {
        self.events.clone()
    }

    /// Events since the last call (authentication failures), oldest first.
    pub fn drain_events(&mut self) -> Vec<AgentEvent> {
        std::mem::take(&mut *lock(&self.events))
    }

    fn push_event(&mut self, e: AgentEvent) {
        push_event(&self.events, e);
    }
}

/// Queues an event, dropping the oldest beyond [`MAX_EVENTS`].
pub fn push_event(sink: &EventSink, e: AgentEvent) {
    let mut q = lock(sink);
    if q.len() >= MAX_EVENTS {
        q.remove(0);
    }
    q.push(e);
}
