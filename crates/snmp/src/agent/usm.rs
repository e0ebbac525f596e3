//! SNMPv3 for the agent: USM users and counters, the v3 message path (RFC 3412 and 3414:
//! discovery, authentication, time window, privacy, reports) and v3 response encoding.

use super::*;
use crate::v3::{self as v3m, ScopedPdu, UsmParams, V3Message};

/// An SNMPv3 USM user with localized keys, its access and its view.
#[derive(Clone, PartialEq, Eq)]
pub struct UsmUser {
    pub name: Vec<u8>,
    pub auth: Option<(AuthProtocol, Vec<u8>)>,
    pub privacy: Option<(PrivProtocol, Vec<u8>)>,
    pub access: Access,
    /// What this user may see.
    pub view: View,
}

impl std::fmt::Debug for UsmUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print keys.
        f.debug_struct("UsmUser")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("auth", &self.auth.as_ref().map(|a| a.0))
            .field("privacy", &self.privacy.as_ref().map(|p| p.0))
            .field("access", &self.access)
            .field("view", &self.view.families)
            .finish()
    }
}

impl UsmUser {
    /// A user from passwords, localized to `engine_id` (RFC 3414 A.2; the privacy key uses
    /// the authentication protocol's hash, RFC 3826).
    pub fn with_passwords(
        name: &str,
        access: Access,
        auth: Option<(AuthProtocol, &str)>,
        privacy: Option<(PrivProtocol, &str)>,
        engine_id: &[u8],
    ) -> Self {
        let auth_key = auth.map(|(p, pw)| (p, p.localize(pw.as_bytes(), engine_id)));
        let priv_key = match (auth, privacy) {
            (Some((ap, _)), Some((pp, pw))) => Some((pp, ap.localize(pw.as_bytes(), engine_id))),
            _ => None,
        };
        UsmUser {
            name: name.as_bytes().to_vec(),
            auth: auth_key,
            privacy: priv_key,
            access,
            view: View::default(),
        }
    }

    fn principal(&self) -> Community {
        Community {
            name: self.name.clone(),
            access: self.access,
            sources: Vec::new(),
            view: self.view.clone(),
            // A v3 request names its context in its scoped PDU.
            context: Vec::new(),
        }
    }
}

/// usmStats (RFC 3414) and the MPD statistics (RFC 3412).
#[derive(Debug, Default)]
pub struct UsmCounters {
    pub unsupported_sec_levels: AtomicU32,
    pub not_in_time_windows: AtomicU32,
    pub unknown_user_names: AtomicU32,
    pub unknown_engine_ids: AtomicU32,
    pub wrong_digests: AtomicU32,
    pub decryption_errors: AtomicU32,
    pub unknown_security_models: AtomicU32,
    pub invalid_msgs: AtomicU32,
    pub unknown_pdu_handlers: AtomicU32,
    /// snmpUnavailableContexts and snmpUnknownContexts (SNMP-TARGET-MIB).
    pub unavailable_contexts: AtomicU32,
    pub unknown_contexts: AtomicU32,
}

const USM_STATS: [u32; 11] = [1, 3, 6, 1, 6, 3, 15, 1, 1, 0, 0];

fn engine_time(now: Duration) -> i32 {
    i32::try_from(now.as_secs()).unwrap_or(i32::MAX)
}

pub(super) fn register_v3_groups(
    registry: &mut Registry,
    config: &AgentConfig,
    usm: &Arc<UsmCounters>,
) {
    use crate::registry::Scalars;
    let engine_id = config.engine_id.clone();
    let boots = config.engine_boots;
    let max = i32::try_from(config.max_message_size).unwrap_or(i32::MAX);
    let engine = Scalars::new(Oid::new(&[1, 3, 6, 1, 6, 3, 10, 2, 1]))
        .with(1, move |_| Value::OctetString(engine_id.clone()))
        .with(2, move |_| {
            Value::Integer(i32::try_from(boots).unwrap_or(i32::MAX))
        })
        .with(3, |cx| Value::Integer(engine_time(cx.now)))
        .with(4, move |_| Value::Integer(max));
    let _ = registry.register(Oid::new(&[1, 3, 6, 1, 6, 3, 10, 2, 1]), Box::new(engine));
    type F = fn(&UsmCounters) -> &AtomicU32;
    let mpd: [(u32, F); 3] = [
        (1, |u| &u.unknown_security_models),
        (2, |u| &u.invalid_msgs),
        (3, |u| &u.unknown_pdu_handlers),
    ];
    let mut s = Scalars::new(Oid::new(&[1, 3, 6, 1, 6, 3, 11, 2, 1]));
    for (sub, f) in mpd {
        let u = usm.clone();
        s = s.with(sub, move |_| Value::Counter32(SnmpCounters::read(f(&u))));
    }
    let _ = registry.register(Oid::new(&[1, 3, 6, 1, 6, 3, 11, 2, 1]), Box::new(s));
    let ctx: [(u32, F); 2] = [
        (4, |u| &u.unavailable_contexts),
        (5, |u| &u.unknown_contexts),
    ];
    let mut s = Scalars::new(Oid::new(&[1, 3, 6, 1, 6, 3, 12, 1]));
    for (sub, f) in ctx {
        let u = usm.clone();
        s = s.with(sub, move |_| Value::Counter32(SnmpCounters::read(f(&u))));
    }
    let _ = registry.register(Oid::new(&[1, 3, 6, 1, 6, 3, 12, 1]), Box::new(s));
    let stats: [(u32, F); 6] = [
        (1, |u| &u.unsupported_sec_levels),
        (2, |u| &u.not_in_time_windows),
        (3, |u| &u.unknown_user_names),
        (4, |u| &u.unknown_engine_ids),
        (5, |u| &u.wrong_digests),
        (6, |u| &u.decryption_errors),
    ];
    let prefix = Oid::new(&USM_STATS[..9]);
    let mut s = Scalars::new(prefix.clone());
    for (sub, f) in stats {
        let u = usm.clone();
        s = s.with(sub, move |_| Value::Counter32(SnmpCounters::read(f(&u))));
    }
    let _ = registry.register(prefix, Box::new(s));
}

/// Constant-time comparison of MACs.
fn macs_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Agent {
    /// A v3 request: the job to run, or the answer (a report, or none) at once.
    pub(super) fn handle_v3(
        &mut self,
        request: &[u8],
        peer: SocketAddr,
        now: Duration,
    ) -> Result<Job, Option<Vec<u8>>> {
        let c = self.counters.clone();
        let u = self.usm.clone();
        let m = match V3Message::decode(request) {
            Ok(m) => m,
            Err(_) => {
                SnmpCounters::inc(&c.in_asn_parse_errs);
                return Err(None);
            }
        };
        let Some(params) = m.usm.clone() else {
            SnmpCounters::inc(&u.unknown_security_models);
            return Err(None);
        };
        let auth = m.flags & v3m::FLAG_AUTH != 0;
        let privacy = m.flags & v3m::FLAG_PRIV != 0;
        if privacy && !auth {
            SnmpCounters::inc(&u.invalid_msgs);
            return Err(None);
        }
        let reportable = m.flags & v3m::FLAG_REPORTABLE != 0;
        self.limit = self
            .config
            .max_message_size
            .min(usize::try_from(m.max_size).unwrap_or(484));
        // The request-id, when the scoped PDU is readable, for reports.
        let plain = m.scoped().and_then(Result::ok);
        let rid = plain.as_ref().map(|p| p.pdu.request_id).unwrap_or(0);
        let report = |agent: &mut Agent,
                      counter: &AtomicU32,
                      idx: u32,
                      user: Option<&UsmUser>|
         -> Option<Vec<u8>> {
            SnmpCounters::inc(counter);
            if !reportable {
                return None;
            }
            let val = Value::Counter32(SnmpCounters::read(counter));
            let mut oid = USM_STATS;
            oid[9] = idx;
            let pdu = Pdu {
                pdu_type: PduType::Report,
                request_id: rid,
                error_status: 0,
                error_index: 0,
                varbinds: vec![VarBind::new(Oid::new(&oid), val)],
            };
            let flags = if user.is_some() { v3m::FLAG_AUTH } else { 0 };
            agent.encode_v3(m.msg_id, flags, user, &params.user, Vec::new(), pdu, now)
        };
        if params.engine_id != self.config.engine_id {
            return Err(report(self, &u.unknown_engine_ids, 4, None));
        }
        let Some(user) = self
            .config
            .users
            .iter()
            .find(|x| x.name == params.user)
            .cloned()
        else {
            self.push_event(AgentEvent::AuthenticationFailure { peer });
            return Err(report(self, &u.unknown_user_names, 3, None));
        };
        let needs_auth = user.auth.is_some();
        let needs_priv = user.privacy.is_some();
        if (auth && !needs_auth) || (privacy && !needs_priv) || (!auth && needs_auth) {
            return Err(report(self, &u.unsupported_sec_levels, 1, None));
        }
        if let (true, Some((proto, key))) = (auth, &user.auth) {
            let Some((a, b)) = m.auth_range else {
                return Err(report(self, &u.wrong_digests, 5, None));
            };
            let mut copy = request.to_vec();
            if let Some(r) = copy.get_mut(a..b) {
                r.fill(0);
            }
            if b - a != proto.mac_len() || !macs_equal(&proto.mac(key, &copy), &params.auth) {
                self.push_event(AgentEvent::AuthenticationFailure { peer });
                return Err(report(self, &u.wrong_digests, 5, None));
            }
            let boots = i32::try_from(self.config.engine_boots).unwrap_or(i32::MAX);
            let skew = i64::from(params.time) - i64::from(engine_time(now));
            if params.boots != boots || boots == i32::MAX || skew.abs() > 150 {
                return Err(report(self, &u.not_in_time_windows, 2, Some(&user)));
            }
        }
        let scoped = if privacy {
            let Some((_, key)) = &user.privacy else {
                return Err(report(self, &u.unsupported_sec_levels, 1, None));
            };
            let mut data = m.data.to_vec();
            let ok = v3m::decrypt(
                key,
                u32::try_from(params.boots).unwrap_or(0),
                u32::try_from(params.time).unwrap_or(0),
                &params.privacy,
                &mut data,
            );
            match (ok, ScopedPdu::decode(&data)) {
                (true, Ok(s)) => s,
                _ => return Err(report(self, &u.decryption_errors, 6, None)),
            }
        } else {
            match plain {
                Some(p) => p,
                None => {
                    SnmpCounters::inc(&c.in_asn_parse_errs);
                    return Err(None);
                }
            }
        };
        let level = m.flags & (v3m::FLAG_AUTH | v3m::FLAG_PRIV);
        // The default context, and the contexts subagents registered in (`contexts.rs`);
        // RFC 3413 3.2: unknown contexts get a report at the request's security level.
        if !self.has_context(&scoped.context_name)
            || !(scoped.context_engine_id.is_empty()
                || scoped.context_engine_id == self.config.engine_id)
        {
            SnmpCounters::inc(&u.unknown_contexts);
            if !reportable {
                return Err(None);
            }
            let pdu = Pdu {
                pdu_type: PduType::Report,
                request_id: scoped.pdu.request_id,
                error_status: 0,
                error_index: 0,
                varbinds: vec![VarBind::new(
                    Oid::new(&[1, 3, 6, 1, 6, 3, 12, 1, 5, 0]),
                    Value::Counter32(SnmpCounters::read(&u.unknown_contexts)),
                )],
            };
            let name = user.name.clone();
            return Err(self.encode_v3(
                m.msg_id,
                level,
                Some(&user),
                &name,
                scoped.context_name,
                pdu,
                now,
            ));
        }
        let principal = user.principal();
        let overhead = 120 + self.config.engine_id.len() * 2 + user.name.len() + 48;
        let wire = Wire::V3 {
            msg_id: m.msg_id,
            flags: m.flags & (v3m::FLAG_AUTH | v3m::FLAG_PRIV),
            user: Box::new(user),
            context_name: scoped.context_name,
        };
        Ok(Job::new(wire, scoped.pdu, principal, overhead))
    }

    /// Wraps a response for the request's version and security.
    pub(crate) fn finish_wire(&mut self, job: &Job, resp: Pdu, now: Duration) -> Option<Vec<u8>> {
        let (msg_id, flags, user, context_name) = match &job.wire {
            Wire::V2 { version, community } => {
                return self.finish(*version, community.clone(), &job.pdu, resp)
            }
            Wire::V3 {
                msg_id,
                flags,
                user,
                context_name,
            } => (*msg_id, *flags, user, context_name),
        };
        let c = self.counters.clone();
        let mut bytes = self.encode_v3(
            msg_id,
            flags,
            Some(user),
            &user.name,
            context_name.clone(),
            resp,
            now,
        )?;
        if bytes.len() > self.limit {
            let mut tb = response_to(&job.pdu, Vec::new());
            tb.error_status = ErrorStatus::TooBig.code();
            SnmpCounters::inc(&c.out_too_bigs);
            bytes = self.encode_v3(
                msg_id,
                flags,
                Some(user),
                &user.name,
                context_name.clone(),
                tb,
                now,
            )?;
        }
        SnmpCounters::inc(&c.out_get_responses);
        SnmpCounters::inc(&c.out_pkts);
        Some(bytes)
    }

    /// An SNMPv3 notification from this engine (RFC 3412 / 3414): `pdu` (an SNMPv2-Trap) in
    /// the scoped PDU with our contextEngineID and the default context, sent as the
    /// authoritative engine (our engine ID, boots and time; `user`'s keys, already localized
    /// to our engine ID). Unconfirmed, so not reportable. `None` when `user` is unknown or its
    /// keys do not allow `level`.
    pub fn v3_notification(
        &mut self,
        user: &str,
        level: v3m::SecurityLevel,
        msg_id: i32,
        pdu: Pdu,
        now: Duration,
    ) -> Option<Vec<u8>> {
        let user = self
            .config
            .users
            .iter()
            .find(|u| u.name == user.as_bytes())?
            .clone();
        let allowed = match level {
            v3m::SecurityLevel::NoAuthNoPriv => true,
            v3m::SecurityLevel::AuthNoPriv => user.auth.is_some(),
            v3m::SecurityLevel::AuthPriv => user.auth.is_some() && user.privacy.is_some(),
        };
        if !allowed {
            return None;
        }
        let name = user.name.clone();
        self.encode_v3(
            msg_id,
            level.flags(),
            Some(&user),
            &name,
            Vec::new(),
            pdu,
            now,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn encode_v3(
        &mut self,
        msg_id: i32,
        flags: u8,
        user: Option<&UsmUser>,
        user_name: &[u8],
        context_name: Vec<u8>,
        pdu: Pdu,
        now: Duration,
    ) -> Option<Vec<u8>> {
        let boots = self.config.engine_boots;
        let time = u32::try_from(engine_time(now)).unwrap_or(0);
        let scoped = ScopedPdu {
            context_engine_id: self.config.engine_id.clone(),
            context_name,
            pdu,
        };
        let mut data = scoped.encode();
        let mut salt = Vec::new();
        let encrypted = flags & v3m::FLAG_PRIV != 0;
        if encrypted {
            let (_, key) = user?.privacy.as_ref()?;
            salt = self.salt.to_be_bytes().to_vec();
            self.salt = self.salt.wrapping_add(1);
            if !v3m::encrypt(key, boots, time, &salt, &mut data) {
                return None;
            }
        }
        let auth = if flags & v3m::FLAG_AUTH != 0 {
            user.and_then(|u| u.auth.as_ref())
        } else {
            None
        };
        let params = UsmParams {
            engine_id: self.config.engine_id.clone(),
            boots: i32::try_from(boots).unwrap_or(i32::MAX),
            time: i32::try_from(time).unwrap_or(i32::MAX),
            user: user_name.to_vec(),
            auth: Vec::new(),
            privacy: salt,
        };
        let flags = if auth.is_some() {
            flags
        } else {
            flags & !(v3m::FLAG_AUTH | v3m::FLAG_PRIV)
        };
        let max = i32::try_from(self.config.max_message_size).unwrap_or(i32::MAX);
        let auth_len = auth.map(|(p, _)| p.mac_len()).unwrap_or(0);
        let (mut bytes, off) =
            v3m::encode_message(msg_id, max, flags, &params, auth_len, &data, encrypted);
        if let Some((proto, key)) = auth {
            let mac = proto.mac(key, &bytes);
            bytes.get_mut(off..off + auth_len)?.copy_from_slice(&mac);
        }
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{v2_trap_pdu, StandardTrap};
    use crate::v3::SecurityLevel;

    fn agent() -> Agent {
        let config = AgentConfig {
            users: vec![
                UsmUser::with_passwords(
                    "trapper",
                    Access::ReadOnly,
                    Some((AuthProtocol::Sha1, "authpassword")),
                    Some((PrivProtocol::Aes128, "privpassword")),
                    &AgentConfig::default().engine_id,
                ),
                UsmUser::with_passwords(
                    "plain",
                    Access::ReadOnly,
                    None,
                    None,
                    &AgentConfig::default().engine_id,
                ),
            ],
            engine_boots: 7,
            ..AgentConfig::default()
        };
        Agent::new(config)
    }

    #[test]
    fn v3_trap_round_trips_through_the_agents_own_usm() {
        let mut a = agent();
        let now = Duration::from_secs(42);
        let trap = StandardTrap::LinkDown.oid();
        let pdu = v2_trap_pdu(77, 4200, &trap, &crate::notify::link_varbinds(3, 1, 2));
        let bytes = a
            .v3_notification("trapper", SecurityLevel::AuthPriv, 77, pdu.clone(), now)
            .unwrap();
        let m = V3Message::decode(&bytes).unwrap();
        assert_eq!(m.flags, v3m::FLAG_AUTH | v3m::FLAG_PRIV, "not reportable");
        assert!(m.encrypted);
        let p = m.usm.clone().unwrap();
        assert_eq!(p.engine_id, a.config.engine_id);
        assert_eq!((p.boots, p.time), (7, 42));
        assert_eq!(p.user, b"trapper");
        assert_eq!(p.auth.len(), 12);
        // The agent's own request path verifies the digest, the time window and decrypts.
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let job = a
            .handle_v3(&bytes, peer, now)
            .map_err(|_| "refused")
            .unwrap();
        assert_eq!(job.pdu, pdu);
        assert_eq!(job.pdu.varbinds[1].value, Value::ObjectId(trap));
        // A flipped bit fails the digest.
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(a.handle_v3(&bad, peer, now).is_err());
        assert_eq!(SnmpCounters::read(&a.usm.wrong_digests), 1);
    }

    #[test]
    fn v3_trap_levels_follow_the_users_keys() {
        let mut a = agent();
        let now = Duration::from_secs(1);
        let pdu = v2_trap_pdu(1, 1, &StandardTrap::ColdStart.oid(), &[]);
        let b = a
            .v3_notification("trapper", SecurityLevel::AuthNoPriv, 1, pdu.clone(), now)
            .unwrap();
        let m = V3Message::decode(&b).unwrap();
        assert_eq!(m.flags, v3m::FLAG_AUTH);
        assert_eq!(m.scoped().unwrap().unwrap().pdu, pdu);
        assert_eq!(
            m.scoped().unwrap().unwrap().context_engine_id,
            a.config.engine_id
        );
        let b = a
            .v3_notification("plain", SecurityLevel::NoAuthNoPriv, 2, pdu.clone(), now)
            .unwrap();
        assert_eq!(V3Message::decode(&b).unwrap().flags, 0);
        assert!(a
            .v3_notification("plain", SecurityLevel::AuthNoPriv, 3, pdu.clone(), now)
            .is_none());
        assert!(a
            .v3_notification("nobody", SecurityLevel::NoAuthNoPriv, 4, pdu, now)
            .is_none());
    }
}
