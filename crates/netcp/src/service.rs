//! One hosted service at run time: its settings (swapped live), its counters, admission by access
//! list and limits, and its listeners.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use control::access::AccessAction;
use control::config::{Endpoint, ResolvedService};
use servicedb::Protocol;
use services::ServiceMeter;
use tokio::task::JoinHandle;
use wire::prefix::canonical;

use crate::runtime::{show_peer, Runtime};

/// Why a connection or datagram was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The access list rejected the source (the rule's 1-based number, or the default).
    Access(Option<usize>),
    /// The service has `max_connections` open.
    ServiceLimit,
    /// The source has `max_per_source` open.
    SourceLimit,
    /// The source exceeded `rate_per_source`.
    Rate,
    /// A UDP datagram from a port of a built-in UDP service (reflection loop guard).
    Loop,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Access(Some(n)) => write!(f, "access rule {n}"),
            Refusal::Access(None) => write!(f, "access default"),
            Refusal::ServiceLimit => write!(f, "service limit"),
            Refusal::SourceLimit => write!(f, "source limit"),
            Refusal::Rate => write!(f, "source rate"),
            Refusal::Loop => write!(f, "loop guard"),
        }
    }
}

#[derive(Debug)]
struct SourceState {
    active: u32,
    tokens: f64,
    refilled: Instant,
}

/// Forget sources with nothing open once the table is this large.
const SOURCE_TABLE_TRIM: usize = 4096;

/// A service's live state, shared by its listeners and connections.
pub struct ServiceShared {
    /// The configured name.
    pub name: String,
    settings: RwLock<Arc<ResolvedService>>,
    /// Counters.
    pub meter: Arc<ServiceMeter>,
    sources: Mutex<HashMap<IpAddr, SourceState>>,
}

/// A place in the service's limits; released on drop.
pub struct Permit {
    service: Arc<ServiceShared>,
    /// The source, when its connections are being counted.
    source: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.service.meter.active.fetch_sub(1, Relaxed);
        if let Some(source) = self.source {
            let mut sources = self.service.lock_sources();
            if let Some(s) = sources.get_mut(&source) {
                s.active = s.active.saturating_sub(1);
            }
        }
    }
}

impl ServiceShared {
    /// A new service with these settings.
    pub fn new(settings: ResolvedService) -> Arc<ServiceShared> {
        let weight = primary_weight(&settings);
        Arc::new(ServiceShared {
            name: settings.name.clone(),
            settings: RwLock::new(Arc::new(settings)),
            meter: Arc::new(ServiceMeter::new(weight)),
            sources: Mutex::new(HashMap::new()),
        })
    }

    /// The settings now.
    pub fn settings(&self) -> Arc<ResolvedService> {
        match self.settings.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Swaps in new settings; open connections keep running, new ones see the new settings.
    pub fn update(&self, settings: ResolvedService) {
        self.meter.weight.store(primary_weight(&settings), Relaxed);
        match self.settings.write() {
            Ok(mut s) => *s = Arc::new(settings),
            Err(p) => *p.into_inner() = Arc::new(settings),
        }
    }

    fn lock_sources(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, SourceState>> {
        self.sources.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides whether `peer` may open a connection now; on success the returned permit holds
    /// its place in the limits until dropped.
    pub fn admit(self: &Arc<Self>, peer: IpAddr, counts_as_open: bool) -> Result<Permit, Refusal> {
        let peer = canonical(peer);
        let s = self.settings();
        let decision = s.access.check(peer);
        if decision.action == AccessAction::Reject {
            return Err(Refusal::Access(decision.rule.map(|r| r + 1)));
        }
        if counts_as_open && self.meter.active.load(Relaxed) >= u64::from(s.max_connections) {
            return Err(Refusal::ServiceLimit);
        }
        // Sources are only tracked while a per-source limit or rate is set, so a service without
        // one never takes this lock (a limit set live counts connections opened from then on).
        if s.max_per_source == 0 && s.rate_per_source == 0 {
            self.meter.active.fetch_add(1, Relaxed);
            return Ok(Permit {
                service: self.clone(),
                source: None,
            });
        }
        let now = Instant::now();
        let mut sources = self.lock_sources();
        if sources.len() >= SOURCE_TABLE_TRIM {
            sources.retain(|_, st| st.active > 0 || now.duration_since(st.refilled).as_secs() < 2);
        }
        let rate = f64::from(s.rate_per_source);
        let st = sources.entry(peer).or_insert(SourceState {
            active: 0,
            tokens: rate,
            refilled: now,
        });
        if counts_as_open && s.max_per_source > 0 && st.active >= s.max_per_source {
            return Err(Refusal::SourceLimit);
        }
        if s.rate_per_source > 0 {
            // A token bucket: `rate` per second, bursts of up to `rate`.
            let elapsed = now.duration_since(st.refilled).as_secs_f64();
            st.tokens = (st.tokens + elapsed * rate).min(rate);
            st.refilled = now;
            if st.tokens < 1.0 {
                return Err(Refusal::Rate);
            }
            st.tokens -= 1.0;
        }
        st.active += 1;
        self.meter.active.fetch_add(1, Relaxed);
        drop(sources);
        Ok(Permit {
            service: self.clone(),
            source: Some(peer),
        })
    }

    /// Counts and logs a refusal.
    /// Counts and logs a refusal; one by the access list is also an IPS event (`netcp`,
    /// `access-refused`): a source trying services it may not use.
    pub fn refused(
        &self,
        rt: &Arc<Runtime>,
        protocol: Protocol,
        peer: SocketAddr,
        local: SocketAddr,
        why: Refusal,
    ) {
        self.meter.refused.fetch_add(1, Relaxed);
        if let Refusal::Access(_) = why {
            rt.ips.report(rt, || ips::Event {
                component: crate::ips::NETCP_COMPONENT.into(),
                event: "access-refused".into(),
                source: wire::prefix::canonical(peer.ip()),
                destination: Some((wire::prefix::canonical(local.ip()), local.port())),
                protocol: match protocol {
                    Protocol::Tcp => ips::Proto::Tcp,
                    Protocol::Udp => ips::Proto::Udp,
                },
            });
        }
        rt.log.emit(
            rt.log
                .line("refuse")
                .kv("service", &self.name)
                .kv("proto", protocol)
                .kv("peer", show_peer(peer))
                .kv("local", show_peer(local))
                .kv("reason", why),
        );
    }
}

fn primary_weight(s: &ResolvedService) -> u32 {
    let ep = s
        .endpoints
        .iter()
        .find(|e| e.protocol == Protocol::Tcp)
        .or(s.endpoints.first());
    ep.map_or(100, |e| u32::from(e.weight))
}

/// One open listening socket and the task serving it.
pub struct Listener {
    /// The endpoint it serves.
    pub endpoint: Endpoint,
    /// The address it is bound to.
    pub addr: SocketAddr,
    /// The accept or receive loop; aborting it closes the socket.
    pub task: Option<JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
