//! What every connection task shares: the log, the table of open connections, the built-in
//! servers' context.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Instant, SystemTime};

use control::protocol::{format_centi, show_ip, ConnectionInfo};
use servicedb::Protocol;
use services::{BuiltinContext, ConnMeter};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::log::ActivityLog;
use crate::service::{Permit, ServiceShared};

/// State shared by the daemon and every connection.
pub struct Runtime {
    /// The activity log and accounting file.
    pub log: ActivityLog,
    /// Open connections.
    pub conns: ConnTable,
    /// What built-in servers need (quotations, finger settings, clock).
    pub builtin: RwLock<BuiltinContext>,
    /// The SNMP agent behind the built-in `snmp` service.
    pub snmp: crate::snmp_agent::SnmpHost,
    /// The IPS filter server (idle without `ips.toml`).
    pub ips: crate::ips::IpsHandle,
    /// The configuration directory (`None`: the embedded default).
    pub config_dir: Option<std::path::PathBuf>,
}

impl Runtime {
    /// The configuration directory, if netcp runs from one.
    pub fn config_dir(&self) -> Option<&std::path::Path> {
        self.config_dir.as_deref()
    }

    /// The built-in servers' context now.
    pub fn builtin_context(&self) -> BuiltinContext {
        match self.builtin.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

struct ConnEntry {
    service: String,
    protocol: Protocol,
    local: SocketAddr,
    peer: SocketAddr,
    started: Instant,
    meter: Arc<ConnMeter>,
    pid: Arc<AtomicU32>,
    abort: Arc<OnceLock<AbortHandle>>,
}

/// Shards of the connection table: connections open and close on every worker thread at once,
/// and one lock would make them queue.
const SHARDS: usize = 16;

/// Every open connection, for SHOW CONNECTIONS, DISCONNECT and draining.
#[derive(Default)]
pub struct ConnTable {
    next_id: AtomicU64,
    open: AtomicUsize,
    shards: [Mutex<HashMap<u64, ConnEntry>>; SHARDS],
    emptied: Notify,
}

impl ConnTable {
    fn shard(&self, id: u64) -> std::sync::MutexGuard<'_, HashMap<u64, ConnEntry>> {
        self.shards[(id % SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Visits every entry, shard by shard.
    fn each(&self, mut f: impl FnMut(u64, &ConnEntry)) {
        for shard in &self.shards {
            let entries = shard.lock().unwrap_or_else(|p| p.into_inner());
            for (id, e) in entries.iter() {
                f(*id, e);
            }
        }
    }

    /// Open connections now.
    pub fn len(&self) -> usize {
        self.open.load(Relaxed)
    }

    /// Lists connections, optionally of one service.
    pub fn list(&self, service: Option<&str>) -> Vec<ConnectionInfo> {
        let now = Instant::now();
        let mut out = Vec::new();
        self.each(|id, e| {
            if service.is_some_and(|s| !e.service.eq_ignore_ascii_case(s)) {
                return;
            }
            out.push(ConnectionInfo {
                id,
                service: e.service.clone(),
                protocol: e.protocol,
                local: e.local,
                peer: e.peer,
                age_seconds: now.duration_since(e.started).as_secs(),
                bytes_in: e.meter.bytes_in.load(Relaxed),
                bytes_out: e.meter.bytes_out.load(Relaxed),
                pid: match e.pid.load(Relaxed) {
                    0 => None,
                    p => Some(p),
                },
            });
        });
        out.sort_by_key(|c| c.id);
        out
    }

    /// Aborts one connection; false if there is none with that id.
    pub fn disconnect(&self, id: u64) -> bool {
        match self.shard(id).get(&id).and_then(|e| e.abort.get().cloned()) {
            Some(a) => {
                a.abort();
                true
            }
            None => false,
        }
    }

    /// Aborts every connection (of one service, or all).
    pub fn abort_all(&self, service: Option<&str>) -> usize {
        let mut handles: Vec<AbortHandle> = Vec::new();
        self.each(|_, e| {
            if service.is_none_or(|s| e.service.eq_ignore_ascii_case(s)) {
                handles.extend(e.abort.get().cloned());
            }
        });
        for h in &handles {
            h.abort();
        }
        handles.len()
    }

    /// Waits until no connection is open.
    pub async fn wait_empty(&self) {
        loop {
            let notified = self.emptied.notified();
            if self.len() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Registers a connection on creation; on drop (normal end or abort) unregisters it and writes
/// its `end` log line and session record.
pub struct ConnGuard {
    rt: Arc<Runtime>,
    /// The connection's id.
    pub id: u64,
    /// Its service.
    pub service: Arc<ServiceShared>,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Local end.
    pub local: SocketAddr,
    /// Remote end.
    pub peer: SocketAddr,
    /// Its counters.
    pub meter: Arc<ConnMeter>,
    /// The external server's pid, once started.
    pub pid: Arc<AtomicU32>,
    /// Where the task serving the connection puts its abort handle (for DISCONNECT).
    pub abort: Arc<OnceLock<AbortHandle>>,
    started: Instant,
    started_wall: SystemTime,
    /// How it ended, for the log (`closed` unless set).
    pub outcome: String,
    _permit: Permit,
}

impl ConnGuard {
    /// Registers a new connection and logs `accept`.
    pub fn open(
        rt: &Arc<Runtime>,
        service: &Arc<ServiceShared>,
        protocol: Protocol,
        local: SocketAddr,
        peer: SocketAddr,
        permit: Permit,
    ) -> ConnGuard {
        let id = rt.conns.next_id.fetch_add(1, Relaxed) + 1;
        let meter = Arc::new(ConnMeter::default());
        let pid = Arc::new(AtomicU32::new(0));
        let abort = Arc::new(OnceLock::new());
        let started = Instant::now();
        rt.conns.open.fetch_add(1, Relaxed);
        rt.conns.shard(id).insert(
            id,
            ConnEntry {
                service: service.name.clone(),
                protocol,
                local,
                peer,
                started,
                meter: meter.clone(),
                pid: pid.clone(),
                abort: abort.clone(),
            },
        );
        rt.log.emit(
            rt.log
                .line("accept")
                .kv("service", &service.name)
                .kv("proto", protocol)
                .kv("conn", id)
                .kv("peer", show_peer(peer))
                .kv("local", show_peer(local)),
        );
        ConnGuard {
            rt: rt.clone(),
            id,
            service: service.clone(),
            protocol,
            local,
            peer,
            meter,
            pid,
            abort,
            started,
            started_wall: SystemTime::now(),
            outcome: "aborted".to_string(),
            _permit: permit,
        }
    }
}

/// A socket address with IPv4-mapped IPv6 shown as IPv4.
pub fn show_peer(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(show_ip(addr.ip()), addr.port())
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let duration = self.started.elapsed();
        let bytes_in = self.meter.bytes_in.load(Relaxed);
        let bytes_out = self.meter.bytes_out.load(Relaxed);
        let msgs_in = self.meter.msgs_in_centi.load(Relaxed);
        let msgs_out = self.meter.msgs_out_centi.load(Relaxed);
        let log = &self.rt.log;
        log.emit(
            log.line("end")
                .kv("service", &self.service.name)
                .kv("proto", self.protocol)
                .kv("conn", self.id)
                .kv("peer", show_peer(self.peer))
                .kv("local", show_peer(self.local))
                .kv("duration_ms", duration.as_millis())
                .kv("bytes_in", bytes_in)
                .kv("bytes_out", bytes_out)
                .kv("msgs_in", format_centi(msgs_in))
                .kv("msgs_out", format_centi(msgs_out))
                .kv("outcome", &self.outcome),
        );
        if log.accounting_enabled() {
            let record = serde_json::json!({
                "conn": self.id,
                "service": self.service.name,
                "protocol": self.protocol,
                "peer": show_peer(self.peer).to_string(),
                "local": show_peer(self.local).to_string(),
                "start": services::clock::rfc3339_utc(self.started_wall),
                "end": services::clock::rfc3339_utc(SystemTime::now()),
                "duration_ms": duration.as_millis() as u64,
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "msgs_in": msgs_in as f64 / 100.0,
                "msgs_out": msgs_out as f64 / 100.0,
                "outcome": self.outcome,
            });
            log.account(record.to_string());
        }
        self.rt.conns.shard(self.id).remove(&self.id);
        if self.rt.conns.open.fetch_sub(1, Relaxed) == 1 {
            self.rt.conns.emptied.notify_waiters();
        }
    }
}
