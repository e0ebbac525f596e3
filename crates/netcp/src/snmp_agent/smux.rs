//! SMUX peers (RFC 1227) on TCP (loopback port 199 by default): `[smux]` in snmp.toml names
//! the peers allowed (identity and password, as snmpd.conf's `smuxpeer`). A peer's subtrees
//! are delegated in the agent like AgentX sessions'; every wait for a peer (its OpenPDU, each
//! answer) has the configured timeout, so a silent peer delays only the requests for its own
//! subtrees.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use control::config::snmp::SnmpSmux;
use snmp::delegate::{RemoteOp, RemoteOpKind, RemoteReply};
use snmp::pdu::{ErrorStatus, Pdu, PduType};
use snmp::registry::RegistrationId;
use snmp::smux::{close, frame_len, SmuxPdu, SmuxRegistry};
use snmp::{Oid, Value, VarBind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::lock;
use crate::runtime::Runtime;

/// Delegate numbers at and above this are SMUX peers; below, AgentX sessions.
pub const SMUX_BASE: u64 = 1 << 32;

/// A connected peer.
struct Peer {
    identity: Oid,
    description: String,
    remote: String,
    writer: mpsc::UnboundedSender<Vec<u8>>,
    opened: Duration,
    /// A SetRequest it accepted that awaits commit or rollback.
    staged: bool,
    requests: u64,
    timeouts: u64,
}

/// The SMUX side of netcp's agent.
pub struct SmuxHost {
    registry: Mutex<SmuxRegistry>,
    peers: Mutex<BTreeMap<u32, Peer>>,
    waiting: Mutex<HashMap<(u32, i32), oneshot::Sender<Pdu>>>,
    next_peer: AtomicU32,
    next_request: AtomicI32,
    pub(super) installed: Mutex<BTreeMap<Oid, (u32, RegistrationId)>>,
    listener: Mutex<Option<tokio::task::AbortHandle>>,
    config: Mutex<SnmpSmux>,
}

fn timeout_of(cfg: &SnmpSmux) -> Duration {
    control::config::snmp::parse_duration(&cfg.timeout).unwrap_or(Duration::from_secs(5))
}

fn gen_err() -> RemoteReply {
    RemoteReply::Failed {
        status: ErrorStatus::GenErr,
        index: 0,
    }
}

impl SmuxHost {
    pub fn new(cfg: &SnmpSmux) -> Self {
        SmuxHost {
            registry: Mutex::new(SmuxRegistry::default()),
            peers: Mutex::new(BTreeMap::new()),
            waiting: Mutex::new(HashMap::new()),
            next_peer: AtomicU32::new(1),
            next_request: AtomicI32::new(1),
            installed: Mutex::new(BTreeMap::new()),
            listener: Mutex::new(None),
            config: Mutex::new(cfg.clone()),
        }
    }

    /// How many peers are connected.
    pub fn peer_count(&self) -> usize {
        lock(&self.peers).len()
    }

    /// Sends one SNMP PDU to a peer and waits for its GetResponse.
    async fn call(&self, peer: u32, pdu_type: PduType, varbinds: Vec<VarBind>) -> Option<Pdu> {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        let bytes = SmuxPdu::Pdu(Pdu::new(pdu_type, id, varbinds)).encode();
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert((peer, id), tx);
        let sent = lock(&self.peers).get_mut(&peer).is_some_and(|p| {
            p.requests += 1;
            p.writer.send(bytes).is_ok()
        });
        if !sent {
            lock(&self.waiting).remove(&(peer, id));
            return None;
        }
        let timeout = timeout_of(&lock(&self.config));
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(p)) => Some(p),
            Ok(Err(_)) => None,
            Err(_) => {
                lock(&self.waiting).remove(&(peer, id));
                if let Some(p) = lock(&self.peers).get_mut(&peer) {
                    p.timeouts += 1;
                }
                None
            }
        }
    }

    fn send(&self, peer: u32, pdu: SmuxPdu) -> bool {
        lock(&self.peers)
            .get(&peer)
            .is_some_and(|p| p.writer.send(pdu.encode()).is_ok())
    }

    /// One value by Get: `None` when the peer failed or timed out.
    async fn get(&self, peer: u32, oid: &Oid) -> Result<Value, ErrorStatus> {
        let r = self
            .call(peer, PduType::Get, vec![VarBind::null(oid.clone())])
            .await
            .ok_or(ErrorStatus::GenErr)?;
        match ErrorStatus::from_code(r.error_status) {
            Some(ErrorStatus::NoError) => Ok(r
                .varbinds
                .into_iter()
                .next()
                .map_or(Value::NoSuchObject, |v| v.value)),
            // SNMPv1: the instance does not exist.
            Some(ErrorStatus::NoSuchName) => Ok(Value::NoSuchInstance),
            Some(e) => Err(e),
            None => Err(ErrorStatus::GenErr),
        }
    }

    /// Performs one operation for a peer.
    pub async fn perform(&self, op: &RemoteOp) -> RemoteReply {
        let Ok(peer) = u32::try_from(op.delegate.0 - SMUX_BASE.min(op.delegate.0)) else {
            return gen_err();
        };
        match &op.kind {
            RemoteOpKind::Get(oids) => {
                let mut out = Vec::with_capacity(oids.len());
                for o in oids {
                    match self.get(peer, o).await {
                        Ok(v) => out.push(VarBind::new(o.clone(), v)),
                        Err(status) => return RemoteReply::Failed { status, index: 0 },
                    }
                }
                RemoteReply::Varbinds(out)
            }
            RemoteOpKind::Next {
                start,
                include,
                end,
                ..
            } => {
                if *include {
                    match self.get(peer, start).await {
                        Ok(v) if !v.is_exception() => {
                            return RemoteReply::Varbinds(vec![VarBind::new(start.clone(), v)])
                        }
                        Ok(_) => {}
                        Err(status) => return RemoteReply::Failed { status, index: 0 },
                    }
                }
                let Some(r) = self
                    .call(peer, PduType::GetNext, vec![VarBind::null(start.clone())])
                    .await
                else {
                    return gen_err();
                };
                let end_of_view = VarBind::new(start.clone(), Value::EndOfMibView);
                match ErrorStatus::from_code(r.error_status) {
                    Some(ErrorStatus::NoError) => {
                        let vb = r.varbinds.into_iter().next();
                        RemoteReply::Varbinds(vec![match vb {
                            Some(vb) if vb.oid < *end && vb.oid > *start => vb,
                            _ => end_of_view,
                        }])
                    }
                    Some(ErrorStatus::NoSuchName) => RemoteReply::Varbinds(vec![end_of_view]),
                    Some(status) => RemoteReply::Failed { status, index: 0 },
                    None => gen_err(),
                }
            }
            RemoteOpKind::TestSet(vbs) => {
                // A subtree registered read-only takes no Set (RFC 1227 3.1.2).
                let read_only = vbs.iter().position(|vb| {
                    lock(&self.registry)
                        .all()
                        .iter()
                        .filter(|r| r.peer == peer && vb.oid.starts_with(&r.subtree))
                        .max_by_key(|r| r.subtree.len())
                        .is_some_and(|r| !r.read_write)
                });
                if let Some(i) = read_only {
                    return RemoteReply::Failed {
                        status: ErrorStatus::NotWritable,
                        index: u32::try_from(i + 1).unwrap_or(1),
                    };
                }
                let Some(r) = self.call(peer, PduType::Set, vbs.clone()).await else {
                    return gen_err();
                };
                match ErrorStatus::from_code(r.error_status) {
                    Some(ErrorStatus::NoError) => {
                        if let Some(p) = lock(&self.peers).get_mut(&peer) {
                            p.staged = true;
                        }
                        RemoteReply::Done
                    }
                    Some(status) => RemoteReply::Failed {
                        status,
                        index: u32::try_from(r.error_index).unwrap_or(0),
                    },
                    None => gen_err(),
                }
            }
            RemoteOpKind::CommitSet => {
                let staged = lock(&self.peers)
                    .get_mut(&peer)
                    .is_some_and(|p| std::mem::take(&mut p.staged));
                if staged && self.send(peer, SmuxPdu::SOut(0)) {
                    RemoteReply::Done
                } else {
                    RemoteReply::Failed {
                        status: ErrorStatus::CommitFailed,
                        index: 0,
                    }
                }
            }
            // A committed SMUX Set cannot be taken back.
            RemoteOpKind::UndoSet => RemoteReply::Failed {
                status: ErrorStatus::UndoFailed,
                index: 0,
            },
            RemoteOpKind::CleanupSet => {
                let staged = lock(&self.peers)
                    .get_mut(&peer)
                    .is_some_and(|p| std::mem::take(&mut p.staged));
                if staged {
                    self.send(peer, SmuxPdu::SOut(1));
                }
                RemoteReply::Done
            }
        }
    }
}

/// Keeps the agent's registry in step with the peers' registrations.
pub fn sync_registry(rt: &Runtime) {
    let effective = lock(&rt.snmp.smux.registry).effective();
    super::agentx::sync_installed(rt, &rt.snmp.smux.installed, &effective, SMUX_BASE);
    super::agentx::reserve_local(rt);
}

/// The snmpTrapOID of a v1 trap (RFC 3584 3.1).
fn trap_oid(t: &snmp::pdu::TrapV1) -> Oid {
    match t.generic_trap {
        0..=5 => Oid::new(&[
            1,
            3,
            6,
            1,
            6,
            3,
            1,
            1,
            5,
            u32::try_from(t.generic_trap + 1).unwrap_or(1),
        ]),
        _ => t
            .enterprise
            .child(&[0, u32::try_from(t.specific_trap).unwrap_or(0)]),
    }
}

/// Reads one PDU (with `limit` for the wait, if given).
async fn read_pdu(
    rd: &mut (impl AsyncReadExt + Unpin),
    buf: &mut Vec<u8>,
    limit: Option<Duration>,
) -> Option<SmuxPdu> {
    let mut chunk = [0u8; 8192];
    loop {
        match frame_len(buf) {
            Ok(Some(n)) if buf.len() >= n => {
                let frame: Vec<u8> = buf.drain(..n).collect();
                return SmuxPdu::decode(&frame).ok();
            }
            Ok(_) => {}
            Err(_) => return None,
        }
        let n = match limit {
            Some(t) => tokio::time::timeout(t, rd.read(&mut chunk)).await.ok()?,
            None => rd.read(&mut chunk).await,
        };
        match n {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Serves one peer connection.
async fn serve_peer(rt: Arc<Runtime>, stream: TcpStream, remote: String) {
    let host = &rt.snmp.smux;
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = Vec::new();
    let cfg = lock(&host.config).clone();
    let log = |what: &str, detail: String| {
        rt.log.emit(
            rt.log
                .line("smux-peer")
                .kv("peer", &remote)
                .kv("event", what)
                .kv("detail", detail),
        );
    };
    // The OpenPDU first, within the timeout.
    let refuse = |reason: i64| SmuxPdu::Close(reason).encode();
    let (identity, description) = match read_pdu(&mut rd, &mut buf, Some(timeout_of(&cfg))).await {
        Some(SmuxPdu::Open {
            version,
            identity,
            description,
            password,
        }) => {
            if version != 0 {
                let _ = wr.write_all(&refuse(close::UNSUPPORTED_VERSION)).await;
                log("refused", format!("version {version}"));
                return;
            }
            let allowed = cfg.peers.iter().any(|p| {
                p.oid.trim_start_matches('.').parse::<Oid>().ok().as_ref() == Some(&identity)
                    && p.password.as_bytes() == password.as_slice()
            });
            if !allowed {
                let _ = wr.write_all(&refuse(close::AUTHENTICATION_FAILURE)).await;
                log("refused", format!("identity {identity}: not allowed"));
                return;
            }
            (identity, String::from_utf8_lossy(&description).into_owned())
        }
        _ => {
            let _ = wr.write_all(&refuse(close::PROTOCOL_ERROR)).await;
            log("refused", "no OpenPDU".into());
            return;
        }
    };
    let id = host.next_peer.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    lock(&host.peers).insert(
        id,
        Peer {
            identity: identity.clone(),
            description: description.clone(),
            remote: remote.clone(),
            writer: tx,
            opened: rt.snmp.uptime(),
            staged: false,
            requests: 0,
            timeouts: 0,
        },
    );
    log(
        "open",
        format!("peer {id}, identity {identity}, {description}"),
    );
    while let Some(pdu) = read_pdu(&mut rd, &mut buf, None).await {
        match pdu {
            SmuxPdu::RReq {
                subtree,
                priority,
                operation,
            } => {
                // A subtree the agent serves otherwise (itself, AgentX) is refused.
                let taken = operation != 0
                    && !lock(&host.installed).contains_key(&subtree)
                    && rt.snmp.with_agent(|a, _| {
                        a.registry().subtrees().iter().any(|(o, _)| *o == subtree)
                    });
                let granted = if taken {
                    -1
                } else {
                    lock(&host.registry).request(id, &subtree, priority, operation)
                };
                host.send(id, SmuxPdu::RRsp(granted));
                sync_registry(&rt);
            }
            SmuxPdu::Pdu(p) if p.pdu_type == PduType::Response => {
                if let Some(tx) = lock(&host.waiting).remove(&(id, p.request_id)) {
                    let _ = tx.send(p);
                }
            }
            SmuxPdu::Trap(t) => rt.snmp.notify_oid(
                trap_oid(&t),
                trap_oid(&t).to_string(),
                t.varbinds,
                format!("smux peer {identity}"),
            ),
            SmuxPdu::Close(_) => break,
            // Requests go from the agent to peers, never back; a second OpenPDU is an error.
            _ => {
                host.send(id, SmuxPdu::Close(close::PROTOCOL_ERROR));
                break;
            }
        }
    }
    lock(&host.peers).remove(&id);
    lock(&host.registry).remove_peer(id);
    lock(&host.waiting).retain(|(p, _), _| *p != id);
    sync_registry(&rt);
    // Let the writer flush a final ClosePDU.
    tokio::time::sleep(Duration::from_millis(10)).await;
    writer.abort();
    log("close", format!("peer {id}"));
}

/// Starts (or restarts) the listener for `[smux]`.
pub fn start(rt: &Arc<Runtime>, cfg: &SnmpSmux) {
    let host = &rt.snmp.smux;
    *lock(&host.config) = cfg.clone();
    if let Some(h) = lock(&host.listener).take() {
        h.abort();
    }
    if !cfg.enable {
        return;
    }
    let Ok(addr) = cfg.listen.parse::<std::net::SocketAddr>() else {
        return;
    };
    let rt2 = rt.clone();
    let h = tokio::spawn(async move {
        let l = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                rt2.log
                    .emit(rt2.log.line("smux-listen").kv("tcp", addr).kv("error", e));
                return;
            }
        };
        rt2.log.emit(rt2.log.line("smux-listen").kv("tcp", addr));
        while let Ok((s, peer)) = l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(serve_peer(rt2.clone(), s, peer.to_string()));
        }
    });
    *lock(&host.listener) = Some(h.abort_handle());
}

/// The SMUX part of SHOW SNMP /SUBAGENTS.
pub fn show(host: &SmuxHost, now: Duration) -> String {
    use std::fmt::Write as _;
    let peers = lock(&host.peers);
    let regs = lock(&host.registry);
    let effective: HashMap<Oid, u32> = regs.effective().into_iter().collect();
    let mut out = String::new();
    let _ = writeln!(out, "SMUX peers: {}", peers.len());
    for (id, p) in peers.iter() {
        let _ = writeln!(
            out,
            "  peer {id} ({}), identity {}, from {}, up {}s, {} requests, {} timeouts",
            if p.description.is_empty() {
                "-"
            } else {
                &p.description
            },
            p.identity,
            p.remote,
            now.saturating_sub(p.opened).as_secs(),
            p.requests,
            p.timeouts
        );
        for r in regs.all().iter().filter(|r| r.peer == *id) {
            let _ = writeln!(
                out,
                "    {}  priority {}, {}{}",
                r.subtree,
                r.priority,
                if r.read_write {
                    "read-write"
                } else {
                    "read-only"
                },
                if effective.get(&r.subtree) == Some(id) {
                    ""
                } else {
                    ", shadowed"
                }
            );
        }
    }
    out
}
