//! SET INTERFACE /FILTER /NOFILTER /LOG /NOLOG and SHOW INTERFACE /FILTER, and the filter lists
//! netcp puts on at start (`filters/FILTER-<interface>.dat`, seed 001).

use control::protocol::{
    FilterChange, FilterLogChange, FilterLogFormat, FilterLogTarget, Response,
};
use filter::report::{LogFormat, LogSettings, LogTarget};

use stack::IfaceId;

use super::{err, ok, Daemon};
use crate::filters::{linux_interface_exists, load_list};
use crate::netstack::FilterSlots;

impl Daemon {
    /// SET INTERFACE name with filter qualifiers.
    pub async fn set_interface_filter(
        &mut self,
        interface: &str,
        filter: FilterChange,
        log: FilterLogChange,
    ) -> Response {
        let canonical = self.canonical_interface(interface).await;
        let interface = canonical.as_str();
        let mut done = Vec::new();
        match filter {
            FilterChange::Keep => {}
            FilterChange::Load(path) => {
                let list = match load_list(&path, &self.db) {
                    Ok(l) => l,
                    Err(e) => {
                        return err(format!(
                            "filter list refused, {interface} keeps its old one:\n{e}"
                        ))
                    }
                };
                let warnings: Vec<String> = list.warnings.iter().map(|w| w.to_string()).collect();
                let expired = list.not_loaded.clone();
                let n = list.rules.len();
                match self.stack_interface(interface).await {
                    Some(target) => self.filters.apply_stack(
                        &self.rt,
                        interface,
                        &path,
                        list,
                        (&target.0, target.1),
                    ),
                    None => {
                        if let Err(e) = self.filters.apply(&self.rt, interface, &path, list).await {
                            return err(format!("{interface}: {e}"));
                        }
                    }
                }
                self.rt.log.emit(
                    self.rt
                        .log
                        .line("filter")
                        .kv("interface", interface)
                        .kv("file", path.display())
                        .kv("rules", n),
                );
                done.push(format!("{n} rules from {} on {interface}", path.display()));
                done.extend(warnings);
                done.extend(expired.iter().map(|l| {
                    format!(
                        "{}:{l}: its time window has ended; not loaded",
                        path.display()
                    )
                }));
            }
            FilterChange::Remove => {
                let target = self.stack_interface(interface).await;
                let slot = target.as_ref().map(|(slots, id)| (slots, *id));
                if let Err(e) = self.filters.remove(interface, slot).await {
                    return err(e);
                }
                self.rt
                    .log
                    .emit(self.rt.log.line("nofilter").kv("interface", interface));
                done.push(format!("filter list removed from {interface}"));
            }
        }
        match log {
            FilterLogChange::Keep => {}
            FilterLogChange::Stop => match self.filters.set_log(&self.rt, interface, None) {
                Ok(()) => done.push(format!("filter logging of {interface} stopped")),
                Err(e) => return err(e),
            },
            FilterLogChange::Set(l) => {
                let target = match l.target {
                    FilterLogTarget::Opcom => LogTarget::Opcom,
                    FilterLogTarget::File(p) => LogTarget::File(p.display().to_string()),
                };
                let format = match l.format {
                    FilterLogFormat::Normal => LogFormat::Normal,
                    FilterLogFormat::Comma => LogFormat::Comma,
                };
                let settings =
                    match LogSettings::new(target, format, Some(u64::from(l.interval_seconds))) {
                        Ok(s) => s,
                        Err(e) => return err(e.to_string()),
                    };
                if let Err(e) = self.filters.set_log(&self.rt, interface, Some(settings)) {
                    return err(e);
                }
                done.push(format!(
                    "filter logging of {interface} every {} seconds",
                    l.interval_seconds
                ));
            }
        }
        ok(done.join("\n  "))
    }

    /// The name an interface is kept under: the stack's (lower case) for a stack interface, as
    /// given for a Linux one (Linux names are case-sensitive).
    async fn canonical_interface(&self, interface: &str) -> String {
        if self.stack_interface(interface).await.is_some() {
            interface.to_ascii_lowercase()
        } else {
            interface.to_string()
        }
    }

    /// The filter slots and id of `interface` when it is an interface of Maynard's stack.
    async fn stack_interface(&self, interface: &str) -> Option<(FilterSlots, IfaceId)> {
        let ns = self.netstack.as_ref()?;
        // The stack's names are lower case; VMS users type SE0.
        let name = interface.to_ascii_lowercase();
        let id = ns
            .call(move |d| d.stack.find_interface(&name))
            .await
            .ok()
            .flatten()?;
        Some((ns.filters.clone(), id))
    }

    /// SHOW INTERFACE name /FILTER.
    pub async fn show_interface_filter(&self, interface: &str) -> Response {
        match self
            .filters
            .show(&self.canonical_interface(interface).await)
            .await
        {
            Ok(text) => Response::Text { text },
            Err(e) => err(e),
        }
    }

    /// Puts on every `filters/FILTER-<interface>.dat` of the configuration directory whose
    /// interface exists (on Maynard's stack or on the host); problems are logged, not fatal.
    pub async fn load_startup_filters(&mut self) {
        let Some(dir) = self.origin.dir().map(|d| d.join("filters")) else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let Some(interface) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("FILTER-"))
                .and_then(|n| n.strip_suffix(".dat"))
                .map(str::to_string)
            else {
                continue;
            };
            if !linux_interface_exists(&interface)
                && self.stack_interface(&interface).await.is_none()
            {
                self.rt.log.notice(&format!(
                    "{}: no interface `{interface}`; filter not loaded",
                    path.display()
                ));
                continue;
            }
            let response = self
                .set_interface_filter(
                    &interface,
                    FilterChange::Load(path.clone()),
                    FilterLogChange::Keep,
                )
                .await;
            if let Response::Error { message } = response {
                self.rt.log.notice(&message);
            }
        }
    }
}
