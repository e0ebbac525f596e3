//! NETCONFIG (seed 001's NET-CONFIG) on `network.toml`: ADD, MODIFY, DELETE, ENABLE and DISABLE
//! edit the file keeping its comments (`control::config::network_edit`), validate it with
//! network.toml's own rules, apply the change to the running stack on its thread, and only then
//! save the file atomically; CHECK and SHOW read the file as saved. RELOAD and SIGHUP bring a
//! hand-edited network.toml live through the same [`Daemon::apply_network`].

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use control::config::network::{parse_network, NetworkConfig, NETWORK_FILE};
use control::config::network_edit;
use control::protocol::{NetConfigOp, Response};

use super::{err, ok, Daemon};

fn addresses(cfg: &NetworkConfig) -> BTreeSet<Ipv4Addr> {
    cfg.interfaces
        .iter()
        .filter_map(|i| i.address.map(|(a, _)| a))
        .collect()
}

impl Daemon {
    fn network_path(&self) -> Result<PathBuf, String> {
        self.origin
            .dir()
            .map(|d| d.join(NETWORK_FILE))
            .ok_or_else(|| "netcp runs without a configuration directory: no network.toml".into())
    }

    /// Makes the running stack say what `new` says (`None`: no network.toml, no stack). On an
    /// error the stack is as it was.
    pub(super) async fn apply_network(
        &mut self,
        new: Option<NetworkConfig>,
    ) -> Result<String, String> {
        let old = self.network.clone();
        if old == new {
            return Ok("network unchanged".into());
        }
        let message = match (&mut self.netstack, &new) {
            (Some(h), Some(n)) => {
                let from = old.clone().unwrap_or_default();
                let to = n.clone();
                let done = h.call(move |d| d.apply_network(&from, &to)).await??;
                if done.is_empty() {
                    "network: nothing to change on the stack".to_string()
                } else {
                    format!("network: {}", done.join(", "))
                }
            }
            (None, Some(n)) => {
                let handle = crate::netstack::NetstackHandle::start(n, self.rt.clone())
                    .map_err(|e| format!("cannot start Maynard's stack: {e:#}"))?;
                self.netstack = Some(handle);
                format!(
                    "Maynard's stack started with {} interfaces",
                    n.interfaces.len()
                )
            }
            (Some(_), None) => {
                self.stop_netstack();
                "Maynard's stack stopped (no network.toml)".to_string()
            }
            (None, None) => String::new(),
        };
        self.network = new.clone();
        // Services listening on the stack's addresses: their sockets move with the addresses.
        let mut touched = old.as_ref().map(addresses).unwrap_or_default();
        touched.extend(new.as_ref().map(addresses).unwrap_or_default());
        self.reopen_on(&touched).await;
        self.rt
            .log
            .emit(self.rt.log.line("network").kv("message", &message));
        Ok(message)
    }

    /// Reopens the listeners of services bound to one of `addrs`.
    async fn reopen_on(&mut self, addrs: &BTreeSet<Ipv4Addr>) {
        let mut slots = std::mem::take(&mut self.slots);
        for slot in &mut slots {
            let on = slot.listeners.iter().any(|l| match l.addr.ip() {
                IpAddr::V4(a) => addrs.contains(&a),
                IpAddr::V6(_) => false,
            });
            let wanted = slot
                .shared
                .settings()
                .bind_addresses(self.low_port_offset)
                .into_iter()
                .any(|(_, a)| matches!(a.ip(), IpAddr::V4(v) if addrs.contains(&v)));
            if on || (wanted && slot.listeners.is_empty()) {
                super::stop_listeners(&mut slot.listeners).await;
                self.open(slot);
            }
        }
        self.slots = slots;
    }

    /// One NETCONFIG request.
    pub(super) async fn netconfig(&mut self, op: NetConfigOp) -> Response {
        let table = matches!(op, NetConfigOp::Show { .. });
        match self.netconfig_inner(op).await {
            Ok(text) if table => Response::Text { text: text + "\n" },
            Ok(m) => ok(m),
            Err(e) => err(e),
        }
    }

    async fn netconfig_inner(&mut self, op: NetConfigOp) -> Result<String, String> {
        let path = self.network_path()?;
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{file}: cannot read: {e}")),
        };
        match &op {
            NetConfigOp::Check => {
                let Some(text) = text else {
                    return Ok(format!("{file}: absent; netcp runs no stack"));
                };
                let (cfg, warnings) = parse_network(&text, &file).map_err(|e| e.to_string())?;
                let mut m = format!(
                    "{file}: valid, {} interfaces, {} routes, {} ARP entries",
                    cfg.interfaces.len(),
                    cfg.routes.len(),
                    cfg.arp.len()
                );
                if self.network.as_ref() != Some(&cfg) {
                    m.push_str(" (differs from the running stack: RELOAD applies it)");
                }
                for w in warnings {
                    m.push_str(&format!("\nwarning: {w}"));
                }
                return Ok(m);
            }
            NetConfigOp::Show { name } => {
                let Some(text) = text else {
                    return Ok(format!("{file}: absent; netcp runs no stack"));
                };
                let (cfg, _) = parse_network(&text, &file).map_err(|e| e.to_string())?;
                return network_edit::show(&cfg, name.as_deref());
            }
            _ => {}
        }
        let current = text.unwrap_or_default();
        let edited = network_edit::edit(&current, &op)?;
        let (cfg, warnings) = parse_network(&edited, &file)
            .map_err(|e| format!("change refused, {file} unchanged:\n{e}"))?;
        let before = self.network.clone();
        let mut message = self
            .apply_network(Some(cfg))
            .await
            .map_err(|e| format!("change refused, {file} and the stack unchanged: {e}"))?;
        if let Err(e) = control::config::write_atomically(&path, edited.as_bytes()) {
            // Put the stack back as the file still says.
            if let Err(back) = self.apply_network(before).await {
                self.rt
                    .log
                    .notice(&format!("network: cannot restore the stack: {back}"));
            }
            return Err(format!("{file}: cannot save: {e}; the stack is unchanged"));
        }
        message = format!("{file} saved; {message}");
        for w in warnings {
            message.push_str(&format!("\nwarning: {w}"));
        }
        Ok(message)
    }
}
