//! Packet filters on interfaces (seed 001's filter lists). On an interface of Maynard's own stack
//! the compiled classifier judges every datagram through the stack's packet hook (its slot is
//! replaced atomically). On a Linux interface each list becomes an nftables table of its own,
//! `inet maynard_<interface>`, applied atomically with `nft -j -f -`. Either way the per-rule
//! counters are read back for SHOW INTERFACE /FILTER and for the filter log reports.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use filter::report::{LogFormat, LogSettings, LogState, LogTarget};
use filter::vmstime::LocalTime;
use filter::{Classifier, FilterList, FilterSlot, Hits, Rule};
use servicedb::ServiceDb;
use tokio::task::JoinHandle;

use crate::netstack::FilterSlots;
use crate::runtime::Runtime;
use stack::IfaceId;

/// The nft program.
const NFT: &str = "nft";

/// Where an interface's list is enforced.
#[derive(Clone)]
enum Backend {
    /// An nftables table on a Linux interface.
    Nft,
    /// The classifier in the slot the stack's packet hook reads.
    Stack(Arc<FilterSlot>),
}

impl Backend {
    async fn counters(&self, interface: &str, rules: usize) -> Result<Hits, String> {
        match self {
            Backend::Nft => counters(interface, rules).await,
            Backend::Stack(slot) => Ok(slot.load().hits()),
        }
    }
}

/// One interface's filter as applied.
struct Applied {
    file: PathBuf,
    backend: Backend,
    rules: Arc<Vec<Rule>>,
    log: Option<(LogSettings, JoinHandle<()>)>,
}

impl Drop for Applied {
    fn drop(&mut self) {
        if let Some((_, task)) = &self.log {
            task.abort();
        }
    }
}

/// The filter lists netcp has put on Linux interfaces.
#[derive(Default)]
pub struct InterfaceFilters {
    applied: HashMap<String, Applied>,
}

/// The local time now, for time windows and reports.
pub fn local_now() -> LocalTime {
    let (now, offset) = control::localtime::now_with_offset();
    LocalTime::from_unix(now, offset)
}

/// Whether Linux has an interface of this name.
pub fn linux_interface_exists(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && Path::new("/sys/class/net").join(name).exists()
}

/// Puts `definition` (`table inet NAME { ... }`) in force as the table `inet NAME`, replacing
/// any table of that name in the same transaction (nothing is left half-applied).
pub(crate) async fn nft_replace_table(table: &str, definition: String) -> Result<(), String> {
    // `add` then `delete` makes sure the table exists, so the delete cannot fail.
    let script = format!("add table inet {table}\ndelete table inet {table}\n{definition}");
    nft(&["-f", "-"], Some(script)).await.map(drop)
}

/// Removes the table `inet NAME`.
pub(crate) async fn nft_delete_table(table: &str) -> Result<(), String> {
    nft(&["delete", "table", "inet", table], None)
        .await
        .map(drop)
}

/// Runs `nft` with `args`, feeding `input` on stdin; its stdout, or its stderr as the error.
pub(crate) async fn nft(args: &[&str], input: Option<String>) -> Result<String, String> {
    let mut cmd = tokio::process::Command::new(NFT);
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {NFT} (Debian package nftables): {e}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        // The JSON is small; a blocking write into the pipe cannot deadlock on it.
        use tokio::io::AsyncWriteExt;
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("{NFT}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("{NFT}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{NFT} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Reads a filter file and parses it against the services database at the current time.
pub fn load_list(path: &Path, db: &ServiceDb) -> Result<FilterList, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    filter::parse(&text, &path.display().to_string(), db, local_now()).map_err(|e| e.to_string())
}

/// The current counters of an interface's table.
async fn counters(interface: &str, rules: usize) -> Result<Hits, String> {
    let table = filter::nft::table_name(interface);
    let listing = nft(&["-j", "list", "table", "inet", &table], None).await?;
    filter::nft::read_counters(&listing, rules).map_err(|e| format!("{NFT} listing: {e}"))
}

impl InterfaceFilters {
    /// Applies `list` (from `file`) to Linux interface `interface`, replacing any list it had, in
    /// one nft transaction (the old list stays in force if anything fails).
    pub async fn apply(
        &mut self,
        rt: &Arc<Runtime>,
        interface: &str,
        file: &Path,
        list: FilterList,
    ) -> Result<(), String> {
        if !linux_interface_exists(interface) {
            return Err(format!("no interface `{interface}` on this host"));
        }
        let table =
            serde_json::json!({"family": "inet", "name": filter::nft::table_name(interface)});
        let mut commands = vec![
            // Adding first makes the delete succeed whether or not a list was there.
            serde_json::json!({"add": {"table": table.clone()}}),
            serde_json::json!({"delete": {"table": table}}),
        ];
        let new = filter::nft::to_json(interface, &list.rules);
        if let Some(items) = new.get("nftables").and_then(|v| v.as_array()) {
            commands.extend(items.iter().cloned());
        }
        let doc = serde_json::json!({ "nftables": commands }).to_string();
        nft(&["-j", "-f", "-"], Some(doc)).await?;
        self.install(rt, interface, file, list.rules, Backend::Nft);
        Ok(())
    }

    /// Applies `list` to interface `id` of Maynard's stack: the hook's slot gets the new
    /// classifier in one step, so each datagram is judged by the old list or the new one.
    pub fn apply_stack(
        &mut self,
        rt: &Arc<Runtime>,
        interface: &str,
        file: &Path,
        list: FilterList,
        stack_slot: (&FilterSlots, IfaceId),
    ) {
        let (slots, id) = stack_slot;
        let classifier = Classifier::compile(&list.rules);
        let slot = {
            let mut map = slots.write().unwrap_or_else(|p| p.into_inner());
            match map.get(&id) {
                Some(slot) => {
                    slot.replace(classifier);
                    slot.clone()
                }
                None => {
                    let slot = Arc::new(FilterSlot::new(classifier));
                    map.insert(id, slot.clone());
                    slot
                }
            }
        };
        self.install(rt, interface, file, list.rules, Backend::Stack(slot));
    }

    /// Records an applied list; logging, if it was on, starts again with the new counters.
    fn install(
        &mut self,
        rt: &Arc<Runtime>,
        interface: &str,
        file: &Path,
        rules: Vec<Rule>,
        backend: Backend,
    ) {
        let log = self
            .applied
            .remove(interface)
            .and_then(|mut old| old.log.take());
        self.applied.insert(
            interface.to_string(),
            Applied {
                file: file.to_path_buf(),
                backend,
                rules: Arc::new(rules),
                log: None,
            },
        );
        if let Some((settings, task)) = log {
            task.abort();
            self.set_log_inner(rt, interface, Some(settings));
        }
    }

    /// Removes an interface's list: exactly its nftables table, or its stack slot.
    pub async fn remove(
        &mut self,
        interface: &str,
        slots: Option<(&FilterSlots, IfaceId)>,
    ) -> Result<(), String> {
        let applied = self
            .applied
            .remove(interface)
            .ok_or_else(|| format!("interface `{interface}` has no filter list"))?;
        match (&applied.backend, slots) {
            (Backend::Stack(_), Some((slots, id))) => {
                slots.write().unwrap_or_else(|p| p.into_inner()).remove(&id);
                Ok(())
            }
            (Backend::Stack(_), None) => {
                Err(format!("{interface}: Maynard's stack is not running"))
            }
            (Backend::Nft, _) => {
                let doc = filter::nft::remove_json(interface).to_string();
                nft(&["-j", "-f", "-"], Some(doc)).await.map(|_| ())
            }
        }
    }

    /// The SHOW INTERFACE /FILTER text.
    pub async fn show(&self, interface: &str) -> Result<String, String> {
        let a = self
            .applied
            .get(interface)
            .ok_or_else(|| format!("interface `{interface}` has no filter list"))?;
        let hits = a.backend.counters(interface, a.rules.len()).await?;
        let mut text = format!("File: {}\n", a.file.display());
        if let Some((s, _)) = &a.log {
            let target = match &s.target {
                LogTarget::Opcom => "OPCOM".to_string(),
                LogTarget::File(f) => f.clone(),
            };
            text.push_str(&format!(
                "Logging: to {target}, {:?} format, every {} seconds\n",
                s.format, s.interval
            ));
        }
        text.push_str(&filter::report::show_filter(interface, &a.rules, &hits));
        Ok(text)
    }

    /// Starts, changes or stops (`None`) an interface's filter log reports.
    pub fn set_log(
        &mut self,
        rt: &Arc<Runtime>,
        interface: &str,
        settings: Option<LogSettings>,
    ) -> Result<(), String> {
        if !self.applied.contains_key(interface) {
            return Err(format!("interface `{interface}` has no filter list to log"));
        }
        if let Some(LogTarget::File(f)) = settings.as_ref().map(|s| &s.target) {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .map_err(|e| format!("{f}: {e}"))?;
        }
        self.set_log_inner(rt, interface, settings);
        Ok(())
    }

    fn set_log_inner(&mut self, rt: &Arc<Runtime>, interface: &str, settings: Option<LogSettings>) {
        let Some(a) = self.applied.get_mut(interface) else {
            return;
        };
        // Dropping a task's handle does not stop it: abort the old reports first.
        if let Some((_, task)) = a.log.take() {
            task.abort();
        }
        if let Some(settings) = settings {
            let task = tokio::spawn(log_reports(
                rt.clone(),
                interface.to_string(),
                a.backend.clone(),
                a.rules.clone(),
                settings.clone(),
            ));
            a.log = Some((settings, task));
        }
    }
}

/// Every `interval` seconds: the hits of `log` rules since the last report, to netcp's log
/// (OPCOM) or a file.
async fn log_reports(
    rt: Arc<Runtime>,
    interface: String,
    backend: Backend,
    rules: Arc<Vec<Rule>>,
    s: LogSettings,
) {
    let mut state = LogState::new(rules.len());
    let mut first = true;
    loop {
        tokio::time::sleep(Duration::from_secs(s.interval)).await;
        let hits = match backend.counters(&interface, rules.len()).await {
            Ok(h) => h,
            Err(e) => {
                rt.log.notice(&format!("filter log of {interface}: {e}"));
                continue;
            }
        };
        let events = state.collect(&rules, &hits);
        if events.is_empty() {
            continue;
        }
        let now = local_now();
        match &s.target {
            LogTarget::Opcom => {
                let report = filter::report::format_normal(&interface, &rules, &events, now);
                for line in report.lines() {
                    rt.log.emit(
                        rt.log
                            .line("filter-log")
                            .kv("interface", &interface)
                            .kv("report", line),
                    );
                }
            }
            LogTarget::File(path) => {
                let mut report = match s.format {
                    LogFormat::Normal => {
                        filter::report::format_normal(&interface, &rules, &events, now)
                    }
                    LogFormat::Comma => {
                        filter::report::format_comma(&interface, &rules, &events, now)
                    }
                };
                if s.format == LogFormat::Comma && !first {
                    // The field names head the file once, not every report.
                    report = report.lines().skip(1).map(|l| format!("{l}\n")).collect();
                }
                let written = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut f| f.write_all(report.as_bytes()));
                if let Err(e) = written {
                    rt.log
                        .notice(&format!("filter log of {interface}: {path}: {e}"));
                }
                first = false;
            }
        }
    }
}
