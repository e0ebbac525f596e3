//! SNMP contexts (RFC 3411 §3.3.1): the default context (the empty name) holds everything
//! the agent serves itself plus the delegated subtrees registered in it; each non-default
//! context is a registry of its own holding only delegated subtrees (AgentX registrations
//! with NON_DEFAULT_CONTEXT). A context exists while it has at least one registration; an
//! SNMPv3 request naming any other gets the unknownContexts report (`usm.rs`).
//!
//! A request runs with its context's registry swapped into the agent's place
//! ([`Agent::in_context`]), so Get, GetNext, GetBulk, Set, views and delegation take the one
//! code path whatever the context.
//!
//! Agent capabilities added in a context (AgentX AddAgentCaps with NON_DEFAULT_CONTEXT, RFC
//! 2741 §7.1.8) are that context's sysORTable: the agent serves sysORLastChange and
//! sysORTable in the context while it has rows, over whatever a subagent registered there.

use super::{centis, Agent, SysOrEntry};
use crate::delegate::{DelegateId, RemoteHandler};
use crate::oid::Oid;
use crate::registry::{Ctx, Handler, RegistrationId, Registry, RegistryError, SnapshotData};
use crate::value::{Value, VarBind};
use std::time::Duration;

/// sysORLastChange (SNMPv2-MIB).
const SYS_OR_LAST_CHANGE: [u32; 8] = [1, 3, 6, 1, 2, 1, 1, 8];
/// sysORTable.
const SYS_OR_TABLE: [u32; 8] = [1, 3, 6, 1, 2, 1, 1, 9];

/// A read-only handler over fixed data (one request's view of a context's sysORTable).
struct Fixed(SnapshotData);

impl Handler for Fixed {
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        self.0.get(oid)
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<VarBind> {
        self.0.next(after)
    }
}

impl Agent {
    /// Registers `subtree` of `context` (empty: the default context) as served by
    /// `delegate`; the first registration in a non-default context creates it.
    pub fn register_remote_in(
        &mut self,
        context: &[u8],
        subtree: Oid,
        delegate: DelegateId,
    ) -> Result<RegistrationId, RegistryError> {
        let handler = RemoteHandler {
            delegate,
            context: context.to_vec(),
            subtree: subtree.clone(),
            state: self.delegation.clone(),
        };
        let registry = if context.is_empty() {
            self.registry_mut()
        } else {
            self.contexts.entry(context.to_vec()).or_default()
        };
        let r = registry.register(subtree, Box::new(handler));
        if let Ok(id) = r {
            self.remote_ids.insert((context.to_vec(), id));
        }
        if !context.is_empty() {
            self.drop_if_empty(context);
        }
        r
    }

    /// Removes a registration of `context` made by [`Agent::register_remote_in`]; a
    /// non-default context without registrations ceases to exist.
    pub fn unregister_remote_in(&mut self, context: &[u8], id: RegistrationId) -> Option<Oid> {
        self.remote_ids.remove(&(context.to_vec(), id));
        if context.is_empty() {
            return self.registry_mut().unregister(id).map(|(o, _)| o);
        }
        let gone = self
            .contexts
            .get_mut(context)
            .and_then(|r| r.unregister(id))
            .map(|(o, _)| o);
        self.drop_if_empty(context);
        gone
    }

    /// Ends `context` if it has no registration left; publishes the contexts' names.
    fn drop_if_empty(&mut self, context: &[u8]) {
        if self
            .contexts
            .get(context)
            .is_some_and(|r| r.subtrees().is_empty())
        {
            self.contexts.remove(context);
        }
        *super::lock(&self.context_names) = self.contexts.keys().cloned().collect();
    }

    /// Whether `context` exists: the default context always, another while a registration
    /// names it.
    pub fn has_context(&self, context: &[u8]) -> bool {
        context.is_empty() || self.contexts.contains_key(context)
    }

    /// The non-default contexts, sorted.
    pub fn context_names(&self) -> Vec<Vec<u8>> {
        self.contexts.keys().cloned().collect()
    }

    /// Runs `f` with `context`'s registry in the agent's place (the default context: as it
    /// is). A context that vanished while a request waited is served as an empty one.
    pub(crate) fn in_context<R>(&mut self, context: &[u8], f: impl FnOnce(&mut Agent) -> R) -> R {
        if context.is_empty() {
            return f(self);
        }
        let existed = self.contexts.remove(context);
        let present = existed.is_some();
        let mut other = existed.unwrap_or_default();
        let or_ids = self.install_or_table(context, &mut other);
        std::mem::swap(self.registry_mut(), &mut other);
        let r = f(self);
        std::mem::swap(self.registry_mut(), &mut other);
        for id in or_ids {
            other.unregister(id);
        }
        if present {
            self.contexts.insert(context.to_vec(), other);
        }
        r
    }

    /// Registers `context`'s sysORLastChange and sysORTable in `registry` for one request
    /// (when it has rows); the registrations to remove afterwards.
    fn install_or_table(&self, context: &[u8], registry: &mut Registry) -> Vec<RegistrationId> {
        let Some((last_change, rows)) = self.context_or.get(context) else {
            return Vec::new();
        };
        let mut change = SnapshotData::new();
        change.scalar(
            Oid::new(&SYS_OR_LAST_CHANGE),
            Value::TimeTicks(*last_change),
        );
        let mut table = SnapshotData::new();
        let entry = Oid::new(&SYS_OR_TABLE).child(&[1]);
        for e in rows {
            table.cell(&entry, 2, &[e.index], Value::ObjectId(e.id.clone()));
            table.cell(&entry, 3, &[e.index], Value::string(&e.descr));
            table.cell(&entry, 4, &[e.index], Value::TimeTicks(e.up_time));
        }
        [(SYS_OR_LAST_CHANGE, change), (SYS_OR_TABLE, table)]
            .into_iter()
            .filter_map(|(o, d)| registry.register(Oid::new(&o), Box::new(Fixed(d))).ok())
            .collect()
    }

    /// Adds a sysORTable row to `context` (`None` or empty: the default context).
    pub fn add_sysor_in(&mut self, context: Option<&[u8]>, id: Oid, descr: &str, now: Duration) {
        let Some(c) = context.filter(|c| !c.is_empty()) else {
            return self.add_sysor(id, descr, now);
        };
        let (last, rows) = self.context_or.entry(c.to_vec()).or_default();
        let index = rows
            .iter()
            .map(|e| e.index)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        rows.push(SysOrEntry {
            index,
            id,
            descr: descr.to_string(),
            up_time: centis(now),
        });
        *last = centis(now);
    }

    /// Removes the sysORTable rows of `id` from `context` (`None` or empty: the default).
    pub fn remove_sysor_in(&mut self, context: Option<&[u8]>, id: &Oid, now: Duration) {
        let Some(c) = context.filter(|c| !c.is_empty()) else {
            return self.remove_sysor(id, now);
        };
        if let Some((last, rows)) = self.context_or.get_mut(c) {
            rows.retain(|e| e.id != *id);
            *last = centis(now);
            if rows.is_empty() {
                self.context_or.remove(c);
            }
        }
    }

    /// The registry of `context` (`None` for a context that does not exist).
    pub fn context_registry(&self, context: &[u8]) -> Option<&Registry> {
        if context.is_empty() {
            Some(self.registry())
        } else {
            self.contexts.get(context)
        }
    }
}
