//! The non-authoritative side of USM, for SNMPv3 informs (RFC 3414 section 4): discovering the
//! receiver's snmpEngineID, boots and time, sending a request under keys localized to the
//! receiver's engine, and checking its answer.

use crate::oid::Oid;
use crate::pdu::{Pdu, PduType};
use crate::v3::{
    self, AuthProtocol, PrivProtocol, ScopedPdu, SecurityLevel, UsmParams, V3Message, FLAG_AUTH,
    FLAG_PRIV, FLAG_REPORTABLE,
};

/// usmStatsNotInTimeWindows.0: the report that carries the receiver's boots and time.
pub const NOT_IN_TIME_WINDOWS: [u32; 11] = [1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0];

/// What discovery learned of the receiver (the authoritative engine of an inform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEngine {
    pub engine_id: Vec<u8>,
    pub boots: i32,
    /// snmpEngineTime when learned; the caller adds the seconds elapsed since.
    pub time: i32,
}

/// A user's keys localized to the receiver's engine ID.
#[derive(Clone)]
pub struct Sender {
    pub name: Vec<u8>,
    pub auth: Option<(AuthProtocol, Vec<u8>)>,
    pub privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print keys.
        f.debug_struct("Sender")
            .field("name", &String::from_utf8_lossy(&self.name))
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// Keys from passwords (RFC 3414 A.2), localized to the receiver's `engine_id`; the
    /// privacy key uses the authentication protocol's hash (RFC 3826).
    pub fn with_passwords(
        name: &str,
        auth: Option<(AuthProtocol, &str)>,
        privacy: Option<(PrivProtocol, &str)>,
        engine_id: &[u8],
    ) -> Sender {
        Sender {
            name: name.as_bytes().to_vec(),
            auth: auth.map(|(p, pw)| (p, p.localize(pw.as_bytes(), engine_id))),
            privacy: match (auth, privacy) {
                (Some((ap, _)), Some((pp, pw))) => {
                    Some((pp, ap.localize(pw.as_bytes(), engine_id)))
                }
                _ => None,
            },
        }
    }
}

/// The discovery probe (RFC 3414 4): noAuthNoPriv, reportable, empty engine ID and user, an
/// empty Get; the receiver answers with a usmStatsUnknownEngineIDs report naming its engine.
pub fn discovery_request(msg_id: i32, request_id: i32, max_size: i32) -> Vec<u8> {
    let scoped = ScopedPdu {
        context_engine_id: Vec::new(),
        context_name: Vec::new(),
        pdu: Pdu::new(PduType::Get, request_id, Vec::new()),
    };
    let usm = UsmParams::default();
    v3::encode_message(
        msg_id,
        max_size,
        FLAG_REPORTABLE,
        &usm,
        0,
        &scoped.encode(),
        false,
    )
    .0
}

/// A confirmed-class request (an InformRequest) to `remote` at `level`, with snmpEngineTime
/// `time` (the learned time plus the seconds since); `salt` must not repeat under a key.
#[allow(clippy::too_many_arguments)]
pub fn request(
    sender: &Sender,
    level: SecurityLevel,
    remote: &RemoteEngine,
    time: i32,
    msg_id: i32,
    pdu: Pdu,
    salt: u64,
    max_size: i32,
) -> Option<Vec<u8>> {
    let scoped = ScopedPdu {
        context_engine_id: remote.engine_id.clone(),
        context_name: Vec::new(),
        pdu,
    };
    let mut data = scoped.encode();
    let auth = match level {
        SecurityLevel::NoAuthNoPriv => None,
        _ => Some(sender.auth.as_ref()?),
    };
    let mut privacy = Vec::new();
    if level == SecurityLevel::AuthPriv {
        let (_, key) = sender.privacy.as_ref()?;
        privacy = salt.to_be_bytes().to_vec();
        let boots = u32::try_from(remote.boots).ok()?;
        let t = u32::try_from(time).ok()?;
        if !v3::encrypt(key, boots, t, &privacy, &mut data) {
            return None;
        }
    }
    let usm = UsmParams {
        engine_id: remote.engine_id.clone(),
        boots: remote.boots,
        time,
        user: sender.name.clone(),
        auth: Vec::new(),
        privacy,
    };
    let auth_len = auth.map_or(0, |(p, _)| p.mac_len());
    let (mut bytes, off) = v3::encode_message(
        msg_id,
        max_size,
        level.flags() | FLAG_REPORTABLE,
        &usm,
        auth_len,
        &data,
        level == SecurityLevel::AuthPriv,
    );
    if let Some((proto, key)) = auth {
        let mac = proto.mac(key, &bytes);
        bytes.get_mut(off..off + auth_len)?.copy_from_slice(&mac);
    }
    Some(bytes)
}

/// An answer to one of our requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A report: the receiver's engine as the report states it, and the report's first
    /// object (which usmStats counter).
    Report {
        engine: RemoteEngine,
        counter: Option<Oid>,
        authenticated: bool,
    },
    /// A Response, authenticated (and decrypted) at the level it was sent with.
    Response(Pdu),
}

/// Decodes an answer to message `msg_id`. With `sender`, an authenticated answer must carry a
/// valid digest under its key; a Response is only accepted authenticated when the sender has
/// an authentication key. `None` for anything else (ignored, as RFC 3412 7.2 drops it).
pub fn decode_reply(buf: &[u8], msg_id: i32, sender: Option<&Sender>) -> Option<Reply> {
    let m = V3Message::decode(buf).ok()?;
    if m.msg_id != msg_id {
        return None;
    }
    let params = m.usm.clone()?;
    let authenticated = m.flags & FLAG_AUTH != 0;
    if authenticated {
        let (proto, key) = sender?.auth.as_ref()?;
        let (a, b) = m.auth_range?;
        let mut copy = buf.to_vec();
        copy.get_mut(a..b)?.fill(0);
        let mac = proto.mac(key, &copy);
        // Constant time, as the agent compares.
        let differ = mac
            .iter()
            .zip(&params.auth)
            .fold(0u8, |acc, (x, y)| acc | (x ^ y));
        if b - a != proto.mac_len() || mac.len() != params.auth.len() || differ != 0 {
            return None;
        }
    }
    let scoped = if m.flags & FLAG_PRIV != 0 && m.encrypted {
        let (_, key) = sender?.privacy.as_ref()?;
        let mut data = m.data.to_vec();
        let boots = u32::try_from(params.boots).ok()?;
        let time = u32::try_from(params.time).ok()?;
        if !v3::decrypt(key, boots, time, &params.privacy, &mut data) {
            return None;
        }
        ScopedPdu::decode(&data).ok()?
    } else {
        m.scoped()?.ok()?
    };
    match scoped.pdu.pdu_type {
        PduType::Report => Some(Reply::Report {
            engine: RemoteEngine {
                engine_id: params.engine_id,
                boots: params.boots,
                time: params.time,
            },
            counter: scoped.pdu.varbinds.first().map(|v| v.oid.clone()),
            authenticated,
        }),
        PduType::Response if authenticated || sender.is_none_or(|s| s.auth.is_none()) => {
            Some(Reply::Response(scoped.pdu))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Access, AgentConfig, UsmUser};
    use crate::notify::{v2_trap_pdu, StandardTrap};
    use crate::Agent;
    use std::time::Duration;

    /// Our own agent plays the receiver: discovery, then a request it accepts and answers.
    #[test]
    fn discovery_then_an_authenticated_encrypted_request() {
        let engine = AgentConfig::default().engine_id;
        let mut agent = Agent::new(AgentConfig {
            users: vec![UsmUser::with_passwords(
                "ops",
                Access::ReadOnly,
                Some((AuthProtocol::Sha1, "authpassword")),
                Some((PrivProtocol::Aes128, "privpassword")),
                &engine,
            )],
            engine_boots: 3,
            ..AgentConfig::default()
        });
        let now = Duration::from_secs(50);
        let peer = "127.0.0.1:9".parse().unwrap();
        let probe = discovery_request(11, 1, 1500);
        let answer = agent.handle(&probe, peer, now).unwrap();
        let Some(Reply::Report {
            engine: remote,
            authenticated: false,
            ..
        }) = decode_reply(&answer, 11, None)
        else {
            panic!("no discovery report")
        };
        assert_eq!(remote.engine_id, engine);
        assert_eq!((remote.boots, remote.time), (3, 50));
        assert_eq!(decode_reply(&answer, 12, None), None, "wrong msgID");
        let sender = Sender::with_passwords(
            "ops",
            Some((AuthProtocol::Sha1, "authpassword")),
            Some((PrivProtocol::Aes128, "privpassword")),
            &remote.engine_id,
        );
        // A Get stands in for the inform: the agent answers it with a Response.
        let get = Pdu::new(PduType::Get, 5, Vec::new());
        let req = request(
            &sender,
            SecurityLevel::AuthPriv,
            &remote,
            50,
            12,
            get,
            9,
            1500,
        )
        .unwrap();
        let answer = agent.handle(&req, peer, now).unwrap();
        let Some(Reply::Response(p)) = decode_reply(&answer, 12, Some(&sender)) else {
            panic!("no response")
        };
        assert_eq!(p.request_id, 5);
        // A different key does not accept the answer.
        let other = Sender::with_passwords(
            "ops",
            Some((AuthProtocol::Sha1, "otherpassword")),
            None,
            &remote.engine_id,
        );
        assert_eq!(decode_reply(&answer, 12, Some(&other)), None);
        // Out of the time window: an authenticated notInTimeWindow report with the time.
        let late = v2_trap_pdu(6, 1, &StandardTrap::ColdStart.oid(), &[]);
        let req = request(
            &sender,
            SecurityLevel::AuthNoPriv,
            &remote,
            900,
            13,
            late,
            10,
            1500,
        )
        .unwrap();
        let answer = agent.handle(&req, peer, now).unwrap();
        let Some(Reply::Report {
            engine,
            counter,
            authenticated: true,
        }) = decode_reply(&answer, 13, Some(&sender))
        else {
            panic!("no time window report")
        };
        assert_eq!(counter, Some(Oid::new(&NOT_IN_TIME_WINDOWS)));
        assert_eq!(engine.time, 50);
    }
}
