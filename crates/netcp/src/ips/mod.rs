//! The IPS filter server inside netcp: netcp's own components (the access lists, the SNMP
//! agent) and applications (through the event socket, `socket.rs`) report events; the
//! [`ips::Engine`] correlates them by `ips.toml`'s rules; the blocks it sets are enforced on
//! Maynard's stack (the packet hook reads a [`BlockSlot`]) and on the host (an nftables table,
//! `nft.rs`), and end on time.
//!
//! ```text
//!  refusals, SNMP auth failures, event socket ──report──► Engine ──Blocked──► BlockSlot (stack hook)
//!                                                             │            └─► nft add element (host)
//!  timer task ◄── poll_at ─────────────────────────────────────┘ expire ──► BlockSlot, log
//! ```

mod nft;
mod socket;
mod state;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use control::config::ips::IpsConfig;
use ips::{Block, BlockSlot, Engine, Event, Outcome};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::runtime::Runtime;

/// Where `path` (relative to the configuration directory) is.
fn in_config_dir(rt: &Runtime, path: &str) -> std::path::PathBuf {
    let p = std::path::PathBuf::from(path);
    match (p.is_absolute(), rt.config_dir()) {
        (false, Some(dir)) => dir.join(p),
        _ => p,
    }
}

/// The component name netcp's own reports carry.
pub const NETCP_COMPONENT: &str = "netcp";

/// netcp's handle on the filter server: absent until `ips.toml` configures one.
#[derive(Default)]
pub struct IpsHandle {
    /// The blocks the stack's packet hook enforces (empty without a filter server).
    slot: Arc<BlockSlot>,
    server: RwLock<Option<Arc<FilterServer>>>,
}

/// A running filter server.
struct FilterServer {
    engine: Mutex<Engine>,
    /// Its configuration; the rules change in place on RELOAD.
    config: Mutex<IpsConfig>,
    /// The engine's clock starts here.
    epoch: Instant,
    /// Wakes the timer when a block is set earlier than it sleeps.
    rearm: Arc<Notify>,
    /// Blocks for the host's nftables table, written in batches by one task (`nft.rs`).
    nft_queue: Mutex<Option<tokio::sync::mpsc::Sender<nft::Add>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl FilterServer {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `f` of the configuration in force (under its lock: take only what is needed).
    fn setting<T>(&self, f: impl FnOnce(&IpsConfig) -> T) -> T {
        f(&self.config.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn config(&self) -> IpsConfig {
        self.setting(IpsConfig::clone)
    }

    /// Writes the blocks in force to the state file, if there is one (after every change).
    fn keep(&self, rt: &Runtime) {
        let Some(file) = self.setting(|c| c.state_file.clone()) else {
            return;
        };
        let path = in_config_dir(rt, &file);
        let blocks = self.engine().blocks().to_vec();
        if let Err(e) = state::save(&path, &blocks, self.now()) {
            rt.log.emit(rt.log.line("error").kv(
                "message",
                format!("IPS: cannot keep the blocks in {}: {e}", path.display()),
            ));
        }
    }

    /// Queues `block` for the host's table with `remaining` time (dropped, and logged by the
    /// writer, when a flood fills the queue: the stack still enforces it).
    fn to_nft(&self, block: &Block, remaining: Duration) {
        if let Some(q) = &*self.nft_queue.lock().unwrap_or_else(|p| p.into_inner()) {
            let _ = q.try_send(nft::Add {
                block: block.clone(),
                remaining,
            });
        }
    }
}

impl Drop for FilterServer {
    fn drop(&mut self) {
        for t in self.tasks.get_mut().map(std::mem::take).unwrap_or_default() {
            t.abort();
        }
    }
}

impl IpsHandle {
    /// The block table the stack's packet hook reads.
    pub fn slot(&self) -> Arc<BlockSlot> {
        self.slot.clone()
    }

    fn current(&self) -> Option<Arc<FilterServer>> {
        self.server
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Starts, changes or stops the filter server for `config` (`None`: no `ips.toml`). A
    /// running server keeps its blocks when only its rules change; a new nftables table or
    /// event socket starts afresh.
    pub async fn configure(&self, rt: &Arc<Runtime>, config: Option<&IpsConfig>) {
        let old = self.current();
        if let (Some(old), Some(new)) = (&old, config) {
            let was = old.config();
            if was.nft_table == new.nft_table
                && was.event_socket == new.event_socket
                && was.event_socket_mode == new.event_socket_mode
            {
                old.engine().set_rules(new.rules.clone(), new.max_tracked);
                *old.config.lock().unwrap_or_else(|p| p.into_inner()) = new.clone();
                rt.log
                    .emit(rt.log.line("ips-reloaded").kv("rules", new.rules.len()));
                return;
            }
        }
        if let Some(old) = old {
            self.stop(rt, &old).await;
        }
        let Some(config) = config else {
            *self.server.write().unwrap_or_else(|p| p.into_inner()) = None;
            self.slot.replace(ips::BlockTable::default());
            return;
        };
        let server = Arc::new(FilterServer {
            engine: Mutex::new(Engine::new(config.rules.clone(), config.max_tracked)),
            config: Mutex::new(config.clone()),
            epoch: Instant::now(),
            rearm: Arc::new(Notify::new()),
            nft_queue: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
        });
        self.install(rt, server).await;
    }

    /// Puts `server` in force with a new nftables table, its timer and its event socket.
    async fn install(&self, rt: &Arc<Runtime>, server: Arc<FilterServer>) {
        let config = server.config();
        let mut tasks = vec![tokio::spawn(expire_loop(
            rt.clone(),
            Arc::downgrade(&server),
            server.rearm.clone(),
        ))];
        if let Some(table) = &config.nft_table {
            match nft::create(table).await {
                Ok(()) => {
                    let (tx, rx) = tokio::sync::mpsc::channel(nft::QUEUE);
                    *server.nft_queue.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
                    tasks.push(tokio::spawn(nft::writer(rt.clone(), table.clone(), rx)));
                }
                Err(e) => rt.log.emit(rt.log.line("error").kv(
                    "message",
                    format!("IPS: the host's blocks are not enforced: {e}"),
                )),
            }
        }
        if let Some(file) = &config.state_file {
            self.restore(rt, &server, &in_config_dir(rt, file)).await;
        }
        if let Some(path) = &config.event_socket {
            match socket::open(rt, path, config.event_socket_mode) {
                Ok(s) => tasks.push(tokio::spawn(socket::serve(rt.clone(), s))),
                Err(e) => rt.log.emit(
                    rt.log
                        .line("error")
                        .kv("message", format!("IPS: no event socket {path}: {e}")),
                ),
            }
        }
        *server.tasks.lock().unwrap_or_else(|p| p.into_inner()) = tasks;
        self.slot.replace(server.engine().table());
        let rules = config.rules.len();
        *self.server.write().unwrap_or_else(|p| p.into_inner()) = Some(server);
        rt.log.emit(rt.log.line("ips-started").kv("rules", rules));
    }

    /// Puts back the blocks kept in `path` that have not ended.
    async fn restore(&self, rt: &Runtime, server: &FilterServer, path: &std::path::Path) {
        let now = server.now();
        let kept = match state::load(path, now) {
            Ok(k) => k,
            Err(e) => {
                rt.log.emit(rt.log.line("error").kv(
                    "message",
                    format!("IPS: the kept blocks in {} are lost: {e}", path.display()),
                ));
                return;
            }
        };
        let restored: Vec<Block> = {
            let mut e = server.engine();
            kept.into_iter()
                .filter(|b| e.restore(b.clone(), now))
                .collect()
        };
        for b in &restored {
            server.to_nft(b, b.until.saturating_sub(now));
        }
        if !restored.is_empty() {
            rt.log
                .emit(rt.log.line("ips-restored").kv("blocks", restored.len()));
        }
    }

    async fn stop(&self, rt: &Runtime, server: &FilterServer) {
        for t in server
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
        {
            t.abort();
        }
        let config = server.config();
        if let Some(path) = &config.event_socket {
            socket::remove(rt, path);
        }
        if let Some(table) = &config.nft_table {
            let _ = crate::filters::nft_delete_table(table).await;
        }
    }

    /// At netcp's shutdown: lifts every block (the nftables table goes).
    pub async fn shutdown(&self, rt: &Arc<Runtime>) {
        self.configure(rt, None).await;
    }

    /// Judges the event `event` builds; a block it sets is enforced at once. The event is
    /// built only when a filter server runs (the stack reports every probe of a closed port).
    pub fn report(&self, rt: &Runtime, event: impl FnOnce() -> Event) {
        let Some(server) = self.current() else {
            return;
        };
        let event = event();
        let now = server.now();
        let (outcome, table) = {
            let mut e = server.engine();
            let outcome = e.report(&event, now);
            let table = matches!(outcome, Outcome::Blocked(_)).then(|| e.table());
            (outcome, table)
        };
        // Counted in SHOW IPS only: the stack's closed ports alone would fill the log.
        if outcome == Outcome::NoRule {
            return;
        }
        let line = rt
            .log
            .line("ips-event")
            .kv("component", &event.component)
            .kv("name", &event.event)
            .kv("source", event.source);
        let line = match &outcome {
            Outcome::NoRule => return,
            Outcome::Excluded { rule } => line.kv("rule", rule).kv("outcome", "excluded"),
            Outcome::Counted { rule, count } => line
                .kv("rule", rule)
                .kv("outcome", "counted")
                .kv("count", count),
            Outcome::Blocked(b) => line.kv("rule", &b.rule).kv("outcome", "blocked"),
            Outcome::AlreadyBlocked { rule } => {
                line.kv("rule", rule).kv("outcome", "blocked-already")
            }
            Outcome::TableFull { rule } => line.kv("rule", rule).kv("outcome", "table-full"),
        };
        rt.log.emit(line);
        let (Outcome::Blocked(block), Some(table)) = (outcome, table) else {
            return;
        };
        self.slot.replace(table);
        server.rearm.notify_one();
        server.keep(rt);
        rt.log.emit(block_line(rt, "ips-block", &block, now));
        server.to_nft(&block, block.until.saturating_sub(now));
    }

    /// Lifts the blocks on `source` (every block with `None`); how many were lifted.
    pub async fn unblock(&self, rt: &Runtime, source: Option<IpAddr>) -> Result<usize, String> {
        let server = self
            .current()
            .ok_or("IPS is not running (no ips.toml in the configuration directory)")?;
        let (removed, table) = {
            let mut e = server.engine();
            let removed = e.unblock(source);
            (removed, e.table())
        };
        self.slot.replace(table);
        server.keep(rt);
        let now = server.now();
        for b in &removed {
            rt.log
                .emit(block_line(rt, "ips-unblock", b, now).kv("reason", "operator"));
            if let Some(t) = &server.setting(|c| c.nft_table.clone()) {
                if let Err(e) = nft::delete(t, b).await {
                    rt.log
                        .emit(rt.log.line("error").kv("message", format!("IPS: {e}")));
                }
            }
        }
        Ok(removed.len())
    }

    /// SHOW IPS: the rules with their counters, the blocks in force, the counters.
    pub fn show(&self) -> String {
        let Some(server) = self.current() else {
            return "IPS is not running (no ips.toml in the configuration directory)\n".into();
        };
        let now = server.now();
        let config = server.config();
        let e = server.engine();
        let c = e.counters();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "IPS filter server: {} events ({} matched no rule), {} sources tracked",
            c.events,
            c.unmatched,
            e.tracked()
        );
        let _ = write!(
            out,
            "Blocks: {} set, {} expired, {} lifted by an operator, {} in force",
            c.blocks_set,
            c.blocks_expired,
            c.blocks_removed,
            e.blocks().len()
        );
        if c.blocks_refused > 0 {
            let _ = write!(out, ", {} not set (the table was full)", c.blocks_refused);
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "Host enforcement: {}",
            match &config.nft_table {
                Some(t) => format!("nftables table inet {t}"),
                None => "none (nft_table is empty)".into(),
            }
        );
        let _ = writeln!(
            out,
            "Event socket: {}",
            config.event_socket.as_deref().unwrap_or("none")
        );
        let _ = writeln!(out, "\nRules:");
        let _ = writeln!(
            out,
            "  {:<20} {:<24} {:>9} {:>8} {:>8} {:>8} {:>8}  block",
            "name", "component/event", "threshold", "window", "events", "excluded", "blocks"
        );
        for (r, rc) in e.rules() {
            let mut block = match r.block {
                ips::BlockKind::Source(p) => format!("source {p} for {}", secs(r.duration)),
                ips::BlockKind::Port => format!("port for {}", secs(r.duration)),
            };
            if r.repeat_factor > 1 {
                let _ = write!(
                    block,
                    ", repeat x{} up to {}",
                    r.repeat_factor,
                    secs(r.max_duration)
                );
            }
            let _ = writeln!(
                out,
                "  {:<20} {:<24} {:>9} {:>8} {:>8} {:>8} {:>8}  {block}",
                r.name,
                format!("{}/{}", r.component, r.event),
                r.threshold,
                secs(r.window),
                rc.events,
                rc.excluded,
                rc.blocks
            );
        }
        let _ = writeln!(out, "\nBlocks in force:");
        if e.blocks().is_empty() {
            let _ = writeln!(out, "  none");
        }
        for b in e.blocks() {
            let what = match b.destination {
                Some((ip, port)) => {
                    format!("{} to {}", b.protocol, std::net::SocketAddr::new(ip, port))
                }
                None => b.protocol.to_string(),
            };
            let _ = writeln!(
                out,
                "  {:<40} {:<28} rule {:<20} {} left",
                b.source,
                what,
                b.rule,
                secs(b.until.saturating_sub(now))
            );
        }
        out
    }
}

/// `1h`, `59m59s`, `3s`: hours, minutes and seconds, the zero ones left out.
fn secs(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

fn block_line(rt: &Runtime, what: &str, b: &Block, now: Duration) -> crate::log::Line {
    let mut line = rt
        .log
        .line(what)
        .kv("rule", &b.rule)
        .kv("source", b.source)
        .kv("proto", b.protocol);
    if let Some((ip, port)) = b.destination {
        line = line.kv("destination", std::net::SocketAddr::new(ip, port));
    }
    line.kv("seconds", b.until.saturating_sub(now).as_secs())
}

/// Ends blocks on time: sleeps until the next one ends (or a new one is set) and lifts those
/// whose time is up from the stack's table (nftables times its elements out itself).
async fn expire_loop(rt: Arc<Runtime>, server: std::sync::Weak<FilterServer>, rearm: Arc<Notify>) {
    loop {
        // Not holding the server while asleep: a reconfiguration may drop it.
        let sleep = {
            let Some(s) = server.upgrade() else {
                return;
            };
            let next = s.engine().poll_at();
            next.map_or(Duration::from_secs(3600), |t| t.saturating_sub(s.now()))
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = rearm.notified() => {}
        }
        let Some(s) = server.upgrade() else {
            return;
        };
        let now = s.now();
        let (ended, table) = {
            let mut e = s.engine();
            let ended = e.expire(now);
            (ended, e.table())
        };
        if ended.is_empty() {
            continue;
        }
        rt.ips.slot.replace(table);
        s.keep(&rt);
        for b in &ended {
            rt.log
                .emit(block_line(&rt, "ips-unblock", b, now).kv("reason", "expired"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hours_minutes_and_seconds() {
        let t = |s| secs(Duration::from_secs(s));
        assert_eq!(
            (t(3600), t(3599), t(90), t(3), t(0)),
            (
                "1h".into(),
                "59m59s".into(),
                "1m30s".into(),
                "3s".into(),
                "0s".into()
            )
        );
    }
}
