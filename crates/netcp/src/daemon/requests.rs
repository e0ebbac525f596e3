//! Control requests: each is validated in full before anything changes, applied live, and with
//! `permanent` also written to servers.toml atomically.

use control::config::{self, ServiceConfig};
use control::protocol::{
    Request, Response, ServiceChanges, ServiceCounters, VersionInfo, PROTOCOL_VERSION,
};

use super::{err, ok, open_listeners, stop_listeners, Daemon, Slot};
use crate::service::ServiceShared;

fn no_such(name: &str) -> Response {
    err(format!("no service `{name}` (SHOW SERVICES lists them)"))
}

impl Daemon {
    /// Handles one control request.
    pub async fn handle(&mut self, request: Request) -> Response {
        match request {
            Request::ShowVersion => Response::Version(VersionInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                protocol: PROTOCOL_VERSION,
                uptime_seconds: self.started.elapsed().as_secs(),
                pid: std::process::id(),
                config: self.origin.describe(),
            }),
            Request::ShowServices { name } => {
                if let Some(n) = &name {
                    if self.find(n).is_none() {
                        return no_such(n);
                    }
                }
                let services = self
                    .slots
                    .iter()
                    .filter(|s| {
                        name.as_deref()
                            .is_none_or(|n| s.shared.name.eq_ignore_ascii_case(n))
                    })
                    .map(|s| self.status(s))
                    .collect();
                Response::Services { services }
            }
            Request::ShowConnections { service } => Response::Connections {
                connections: self.rt.conns.list(service.as_deref()),
            },
            Request::ShowCounters { service } => {
                if let Some(n) = &service {
                    if self.find(n).is_none() {
                        return no_such(n);
                    }
                }
                let counters = self
                    .slots
                    .iter()
                    .filter(|s| {
                        service
                            .as_deref()
                            .is_none_or(|n| s.shared.name.eq_ignore_ascii_case(n))
                    })
                    .map(|s| ServiceCounters {
                        service: s.shared.name.clone(),
                        counters: s.shared.meter.snapshot(),
                    })
                    .collect();
                Response::Counters { counters }
            }
            Request::ZeroCounters { service } => {
                let mut n = 0;
                for s in &self.slots {
                    if service
                        .as_deref()
                        .is_none_or(|x| s.shared.name.eq_ignore_ascii_case(x))
                    {
                        s.shared.meter.zero();
                        n += 1;
                    }
                }
                match (n, service) {
                    (0, Some(name)) => no_such(&name),
                    _ => ok(format!("counters of {n} services set to zero")),
                }
            }
            Request::AddService { service, permanent } => self.add(service, permanent).await,
            Request::RemoveService { name, permanent } => self.remove(&name, permanent).await,
            Request::EnableService { name, permanent } => {
                self.edit(&name, permanent, |s| s.enabled = true, "enabled")
                    .await
            }
            Request::DisableService { name, permanent } => {
                self.edit(&name, permanent, |s| s.enabled = false, "disabled")
                    .await
            }
            Request::StartService { name } => self.start_stop(&name, false).await,
            Request::StopService { name } => self.start_stop(&name, true).await,
            Request::SetService {
                name,
                changes,
                permanent,
            } => {
                if changes.is_empty() {
                    return err("SET SERVICE: nothing to change (give /ACCEPT, /REJECT, /DEFAULT, /LIMIT, /SOURCE_LIMIT or /RATE)");
                }
                self.edit(&name, permanent, |s| apply_changes(s, &changes), "changed")
                    .await
            }
            Request::Disconnect { id } => {
                if self.rt.conns.disconnect(id) {
                    ok(format!("connection {id} closed"))
                } else {
                    err(format!("no connection {id} (SHOW CONNECTIONS lists them)"))
                }
            }
            Request::RefreshServices => self.refresh_services().await,
            Request::Reload => match self.reload().await {
                Ok(m) => ok(m),
                Err(e) => {
                    self.rt
                        .log
                        .emit(self.rt.log.line("reload-refused").kv("message", &e));
                    err(format!(
                        "configuration refused, the running one stays in force:\n{e}"
                    ))
                }
            },
            Request::SetInterfaceFilter {
                interface,
                filter,
                log,
            } => self.set_interface_filter(&interface, filter, log).await,
            Request::ShowAccess => Response::Text {
                text: self.outgoing.show().await,
            },
            Request::AddAccess { rule, position } => {
                let dir = self.origin.dir().map(|d| d.to_path_buf());
                match self.outgoing.add(dir.as_deref(), rule, position).await {
                    Ok(m) => ok(m),
                    Err(e) => err(e),
                }
            }
            Request::RemoveAccess { number } => {
                let dir = self.origin.dir().map(|d| d.to_path_buf());
                match self.outgoing.remove(dir.as_deref(), number).await {
                    Ok(m) => ok(m),
                    Err(e) => err(e),
                }
            }
            Request::ShowIps => Response::Text {
                text: self.rt.ips.show(),
            },
            Request::IpsUnblock { source } => match self.rt.ips.unblock(&self.rt, source).await {
                Ok(n) => Response::Ok {
                    message: format!("{n} block{} lifted", if n == 1 { "" } else { "s" }),
                },
                Err(e) => err(e),
            },
            Request::ShowSnmp => Response::Text {
                text: self.rt.snmp.show(),
            },
            Request::ShowSnmpSubagents => Response::Text {
                text: self.rt.snmp.show_subagents(),
            },
            Request::ShowInterfaceFilter { interface } => {
                self.show_interface_filter(&interface).await
            }
            Request::NetConfig(op) => self.netconfig(op).await,
            // Maynard's own stack: crates/netcp/src/daemon/netstack_requests.rs.
            request @ (Request::ShowStackInterfaces { .. }
            | Request::SetStackInterface { .. }
            | Request::ShowArp
            | Request::SetArp(_)
            | Request::ShowRoutes
            | Request::SetRoute { .. }
            | Request::ShowKernel
            | Request::SetKernel { .. }
            | Request::ShowStackSockets
            | Request::StackPing { .. }
            | Request::Capture { .. }) => self.netstack_request(request).await,
            Request::Shutdown { abort } => {
                let open = self.rt.conns.len();
                let _ = self.shutdown.send(Some(abort));
                if abort {
                    ok(format!("netcp stopping, closing {open} connections"))
                } else {
                    ok(format!("netcp stopping, draining {open} connections"))
                }
            }
        }
    }

    fn check_permanent(&self, permanent: bool) -> Result<(), Response> {
        if permanent && self.origin.dir().is_none() {
            return Err(err(
                "netcp runs on the embedded default configuration, so there is no file to save to; \
                 start it with --config DIR (netcp --init DIR writes the default there)",
            ));
        }
        Ok(())
    }

    fn save(&self) -> Result<(), Response> {
        match self.origin.dir() {
            Some(dir) => config::save_servers(dir, &self.saved).map_err(|e| {
                err(format!(
                    "cannot write {}: {e}",
                    dir.join(config::SERVERS_FILE).display()
                ))
            }),
            None => Ok(()),
        }
    }

    async fn add(&mut self, mut service: ServiceConfig, permanent: bool) -> Response {
        if let Err(r) = self.check_permanent(permanent) {
            return r;
        }
        // VMS users type names in capitals: keep the database's spelling.
        service.name = match self.db.lookup_any(&service.name).first() {
            Some(entry) => entry.name.clone(),
            None => service.name.to_ascii_lowercase(),
        };
        if self.find(&service.name).is_some() {
            return err(format!("service `{}` already exists", service.name));
        }
        let resolved = match config::resolve_one(&service, &self.running.defaults, &self.db) {
            Ok(r) => r,
            Err(e) => return err(format!("service `{}`: {}", service.name, e.join("; "))),
        };
        let shared = ServiceShared::new(resolved.clone());
        let listeners = if resolved.enabled {
            match open_listeners(
                &self.rt,
                &shared,
                &resolved,
                self.low_port_offset,
                self.netstack.as_ref(),
            ) {
                Ok(l) => l,
                Err(e) => return err(e),
            }
        } else {
            Vec::new()
        };
        if permanent {
            self.saved.services.push(service.clone());
            if let Err(r) = self.save() {
                self.saved.services.pop();
                return r;
            }
        }
        self.running.services.push(service);
        let bound: Vec<String> = listeners
            .iter()
            .map(|l| format!("{}/{}", l.endpoint.protocol, l.addr))
            .collect();
        self.slots.push(Slot {
            shared,
            listeners,
            stopped: false,
            failure: None,
        });
        self.rt.log.emit(
            self.rt
                .log
                .line("add")
                .kv("service", &resolved.name)
                .kv("permanent", permanent),
        );
        if bound.is_empty() {
            ok(format!("service {} added (disabled)", resolved.name))
        } else {
            ok(format!(
                "service {} added, listening on {}",
                resolved.name,
                bound.join(" ")
            ))
        }
    }

    async fn remove(&mut self, name: &str, permanent: bool) -> Response {
        if let Err(r) = self.check_permanent(permanent) {
            return r;
        }
        let Some(i) = self.find(name) else {
            return no_such(name);
        };
        if permanent {
            let before = self.saved.services.len();
            self.saved
                .services
                .retain(|s| !s.name.eq_ignore_ascii_case(name));
            if self.saved.services.len() != before {
                if let Err(r) = self.save() {
                    return r;
                }
            }
        }
        self.running
            .services
            .retain(|s| !s.name.eq_ignore_ascii_case(name));
        let mut slot = self.slots.remove(i);
        stop_listeners(&mut slot.listeners).await;
        let open = slot
            .shared
            .meter
            .active
            .load(std::sync::atomic::Ordering::Relaxed);
        self.rt.log.emit(
            self.rt
                .log
                .line("remove")
                .kv("service", &slot.shared.name)
                .kv("permanent", permanent),
        );
        ok(format!(
            "service {} removed; {open} open connections run to their end",
            slot.shared.name
        ))
    }

    async fn start_stop(&mut self, name: &str, stop: bool) -> Response {
        let Some(i) = self.find(name) else {
            return no_such(name);
        };
        let mut slot = self.slots.remove(i);
        let name = slot.shared.name.clone();
        let response = if stop {
            slot.stopped = true;
            stop_listeners(&mut slot.listeners).await;
            self.rt
                .log
                .emit(self.rt.log.line("stop").kv("service", &name));
            ok(format!(
                "service {name} stopped; open connections run to their end"
            ))
        } else if !slot.shared.settings().enabled {
            err(format!(
                "service {name} is disabled; ENABLE SERVICE {name} first"
            ))
        } else {
            slot.stopped = false;
            self.open(&mut slot);
            match &slot.failure {
                Some(f) => err(f.clone()),
                None => {
                    self.rt
                        .log
                        .emit(self.rt.log.line("start").kv("service", &name));
                    ok(format!("service {name} started"))
                }
            }
        };
        self.slots.insert(i, slot);
        response
    }

    /// Changes one service's configuration, live and (with `permanent`) in servers.toml.
    async fn edit(
        &mut self,
        name: &str,
        permanent: bool,
        change: impl Fn(&mut ServiceConfig),
        done: &str,
    ) -> Response {
        if let Err(r) = self.check_permanent(permanent) {
            return r;
        }
        let Some(pos) = self
            .running
            .services
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name))
        else {
            return no_such(name);
        };
        let mut edited = self.running.services[pos].clone();
        change(&mut edited);
        let resolved = match config::resolve_one(&edited, &self.running.defaults, &self.db) {
            Ok(r) => r,
            Err(e) => return err(format!("service `{name}`: {}", e.join("; "))),
        };
        if permanent {
            let previous = self.saved.clone();
            match self
                .saved
                .services
                .iter_mut()
                .find(|s| s.name.eq_ignore_ascii_case(name))
            {
                Some(s) => change(s),
                None => self.saved.services.push(edited.clone()),
            }
            if let Err(r) = self.save() {
                self.saved = previous;
                return r;
            }
        }
        let canonical = edited.name.clone();
        self.running.services[pos] = edited;
        // Re-applying the whole list keeps one code path for every change.
        let mut all: Vec<_> = self
            .slots
            .iter()
            .map(|s| (*s.shared.settings()).clone())
            .collect();
        if let Some(r) = all.iter_mut().find(|r| r.name.eq_ignore_ascii_case(name)) {
            *r = resolved;
        }
        self.apply(all).await;
        self.rt.log.emit(
            self.rt
                .log
                .line("set")
                .kv("service", &canonical)
                .kv("change", done)
                .kv("permanent", permanent),
        );
        let failure = self.find(name).and_then(|i| self.slots[i].failure.clone());
        match failure {
            Some(f) => err(format!("service {canonical} {done}, but: {f}")),
            None => ok(format!(
                "service {canonical} {done}{}",
                if permanent { " (saved)" } else { "" }
            )),
        }
    }

    async fn refresh_services(&mut self) -> Response {
        let db = match config::load_db(&self.origin, &self.running.netcp) {
            Ok(db) => db,
            Err(e) => {
                return err(format!(
                    "services database refused, the old one stays in force:\n{e}"
                ))
            }
        };
        let resolved = match self.resolve_running(&db) {
            Ok(r) => r,
            Err(e) => {
                return err(format!(
                    "services database refused: the running services no longer resolve against it:\n{e}"
                ))
            }
        };
        let apps = db.applications();
        self.db = db;
        self.apply(resolved).await;
        let message = format!("services database refreshed: {apps} applications");
        self.rt
            .log
            .emit(self.rt.log.line("refresh").kv("message", &message));
        ok(message)
    }
}

/// Applies SET SERVICE's changes to a service's configuration.
fn apply_changes(s: &mut ServiceConfig, c: &ServiceChanges) {
    if let Some(a) = &c.access {
        s.access = a.clone();
    }
    if let Some(d) = c.access_default {
        s.access_default = Some(d);
    }
    if let Some(v) = c.max_connections {
        s.max_connections = Some(v);
    }
    if let Some(v) = c.max_per_source {
        s.max_per_source = Some(v);
    }
    if let Some(v) = c.rate_per_source {
        s.rate_per_source = Some(v);
    }
}
