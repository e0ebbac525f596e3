//! SNMPv3 informs: netcp is the non-authoritative engine (RFC 3414 section 4), so each send
//! first discovers the receiver's engine ID, boots and time, then sends the InformRequest under
//! the user's keys localized to the receiver's engine, resynchronising its clock once from an
//! authenticated notInTimeWindow report.

use std::time::{Duration, Instant};

use control::config::snmp::SnmpTarget;
use snmp::agent::{PrivProtocol, SecurityLevel};
use snmp::usm_sender::{self, RemoteEngine, Reply, Sender, NOT_IN_TIME_WINDOWS};
use snmp::{Oid, PduType};

use super::{auth_protocol, lock, Notification};
use crate::runtime::Runtime;

/// The largest message we accept back.
const MAX_SIZE: i32 = 65507;

/// The receiver, once discovered, and the keys localized to it.
struct Learned {
    engine: RemoteEngine,
    at: Instant,
    sender: Sender,
}

impl Learned {
    /// The receiver's snmpEngineTime now, by our clock since we learned it.
    fn time(&self) -> i32 {
        let since = i32::try_from(self.at.elapsed().as_secs()).unwrap_or(i32::MAX);
        self.engine.time.saturating_add(since)
    }
}

/// Sends `n` as a v3 inform to `t` on the connected `sock`, resending up to `t.retries` times;
/// the result for the activity log.
pub(super) async fn send(
    rt: &Runtime,
    t: &SnmpTarget,
    n: &Notification,
    id: i32,
    sock: &tokio::net::UdpSocket,
) -> std::io::Result<String> {
    let invalid =
        |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_string());
    let user = lock(&rt.snmp.config)
        .users
        .iter()
        .find(|u| Some(&u.name) == t.user.as_ref())
        .cloned()
        .ok_or_else(|| invalid("no such user"))?;
    let level = t
        .security_level(std::slice::from_ref(&user))
        .and_then(SecurityLevel::parse)
        .ok_or_else(|| invalid("no such level"))?;
    // Only the keys the level uses, so a noAuthNoPriv Response is accepted as such.
    let auth = user
        .auth
        .as_deref()
        .and_then(auth_protocol)
        .zip(user.auth_password.clone())
        .filter(|_| level != SecurityLevel::NoAuthNoPriv);
    let privacy = user
        .privacy_password
        .clone()
        .map(|pw| (PrivProtocol::Aes128, pw))
        .filter(|_| level == SecurityLevel::AuthPriv);
    let mut pdu = snmp::notify::v2_trap_pdu(id, n.uptime, &n.trap, &n.varbinds);
    pdu.pdu_type = PduType::Inform;
    let mut learned: Option<Learned> = None;
    let mut msg_id = id;
    let mut salt = (u64::from(id.unsigned_abs()) << 32) ^ u64::from(std::process::id());
    let mut buf = vec![0u8; 65536];
    for attempt in 0..=t.retries {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(t.timeout_ms);
        let mut resynced = false;
        loop {
            // One message per pass: the probe until the receiver is known, then the inform.
            msg_id = msg_id.wrapping_add(1) & i32::MAX;
            salt = salt.wrapping_add(1);
            let msg = match &learned {
                None => usm_sender::discovery_request(msg_id, id, MAX_SIZE),
                Some(l) => usm_sender::request(
                    &l.sender,
                    level,
                    &l.engine,
                    l.time(),
                    msg_id,
                    pdu.clone(),
                    salt,
                    MAX_SIZE,
                )
                .ok_or_else(|| invalid("the user's keys do not allow the level"))?,
            };
            sock.send(&msg).await?;
            let reply = loop {
                let got = tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await;
                let Ok(got) = got else { break None };
                // An ICMP port unreachable shows as an error: wait out the attempt instead.
                let Ok(len) = got else {
                    tokio::time::sleep_until(deadline).await;
                    break None;
                };
                let sender = learned.as_ref().map(|l| &l.sender);
                match usm_sender::decode_reply(&buf[..len], msg_id, sender) {
                    // Not ours (or an answer to the probe, which only a report may be):
                    // keep listening.
                    Some(Reply::Response(p)) if p.request_id != id || learned.is_none() => {}
                    Some(r) => break Some(r),
                    None => {}
                }
            };
            match reply {
                None => break,
                Some(Reply::Response(_)) => {
                    return Ok(format!("acknowledged after {} sends", attempt + 1));
                }
                Some(Reply::Report { engine, .. }) if learned.is_none() => {
                    if engine.engine_id.is_empty() {
                        return Ok("refused: the discovery report has no engine ID".into());
                    }
                    let (name, auth, privacy, eid) = (
                        user.name.clone(),
                        auth.clone(),
                        privacy.clone(),
                        engine.engine_id.clone(),
                    );
                    // Localizing hashes a megabyte per key: off the async threads.
                    let sender = tokio::task::spawn_blocking(move || {
                        Sender::with_passwords(
                            &name,
                            auth.as_ref().map(|(p, pw)| (*p, pw.as_str())),
                            privacy.as_ref().map(|(p, pw)| (*p, pw.as_str())),
                            &eid,
                        )
                    })
                    .await
                    .map_err(std::io::Error::other)?;
                    learned = Some(Learned {
                        engine,
                        at: Instant::now(),
                        sender,
                    });
                }
                Some(Reply::Report {
                    engine,
                    counter,
                    authenticated: true,
                }) if !resynced && counter == Some(Oid::new(&NOT_IN_TIME_WINDOWS)) => {
                    resynced = true;
                    if let Some(l) = learned.as_mut() {
                        l.engine.boots = engine.boots;
                        l.engine.time = engine.time;
                        l.at = Instant::now();
                    }
                }
                Some(Reply::Report { counter, .. }) => {
                    let what = counter.map_or_else(|| "?".into(), |o| o.to_string());
                    return Ok(format!("refused by the receiver's report {what}"));
                }
            }
        }
    }
    Ok(format!("unacknowledged after {} sends", t.retries + 1))
}
