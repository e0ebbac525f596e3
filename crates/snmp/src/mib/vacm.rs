//! SNMP-VIEW-BASED-ACM-MIB (RFC 3415), read-only from the configuration: vacmContextTable,
//! vacmSecurityToGroupTable, vacmAccessTable and vacmViewTreeFamilyTable describe the
//! communities and users of [`AgentConfig`] as the access control they are.
//!
//! Each community is a group and a view of its own named `community<N>` (its position in the
//! configuration; community names are secrets and never shown), reachable over SNMPv1 and
//! SNMPv2c (two vacmSecurityToGroupTable rows) with securityName `community<N>`. Each v3 user
//! is group `user-<name>` with view `user-<name>`, at the security level its keys give. A view
//! with no families (the whole MIB) shows as one family, 1 (iso), included. The rows are
//! readOnly(5) and active(1): the configuration changes them, not SNMP.
//!
//! vacmContextTable lists the default context and the contexts subagents registered in
//! (they come and go with the registrations); an access row's view applies in every context
//! (contextPrefix "" with prefix match), as the agent applies it.

use crate::agent::{lock, Access, AgentConfig, View};
use crate::oid::Oid;
use crate::registry::{index, Ctx, Handler, Registry, SnapshotData};
use crate::value::{Value, VarBind};
use std::sync::{Arc, Mutex};

/// The non-default contexts that exist now, shared between the agent and vacmContextTable.
pub type ContextNames = Arc<Mutex<Vec<Vec<u8>>>>;

/// snmpVacmMIB (1.3.6.1.6.3.16).
pub const VACM: [u32; 8] = [1, 3, 6, 1, 6, 3, 16, 1];
const READ_ONLY: i32 = 5;
const ACTIVE: i32 = 1;

struct Group {
    group: String,
    /// (securityModel, securityName).
    members: Vec<(u32, String)>,
    /// vacmAccessSecurityModel (0: any) and vacmAccessSecurityLevel.
    model: u32,
    level: u32,
    view: View,
    writable: bool,
}

fn groups(cfg: &AgentConfig) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, c) in cfg.communities.iter().enumerate() {
        let name = format!("community{}", i + 1);
        out.push(Group {
            group: name.clone(),
            members: vec![(1, name.clone()), (2, name)],
            model: 0,
            level: 1,
            view: c.view.clone(),
            writable: c.access == Access::ReadWrite,
        });
    }
    for u in &cfg.users {
        let name = String::from_utf8_lossy(&u.name).into_owned();
        let level = match (&u.auth, &u.privacy) {
            (Some(_), Some(_)) => 3,
            (Some(_), None) => 2,
            _ => 1,
        };
        out.push(Group {
            group: format!("user-{name}"),
            members: vec![(3, name)],
            model: 3,
            level,
            view: u.view.clone(),
            writable: u.access == Access::ReadWrite,
        });
    }
    out
}

/// The four tables for `cfg`.
pub fn vacm_snapshot(cfg: &AgentConfig) -> SnapshotData {
    let mut d = SnapshotData::new();
    let base = Oid::new(&VACM);
    // vacmContextTable: the default context (others are added per request, see `Vacm`).
    add_context(&mut d, b"");
    let sec = base.child(&[2, 1]);
    let access = base.child(&[4, 1]);
    let family = base.child(&[5, 2, 1]);
    for g in groups(cfg) {
        for (model, name) in &g.members {
            let mut i = vec![*model];
            i.extend(index::string(name.as_bytes()));
            d.cell(&sec, 3, &i, Value::string(&g.group));
            d.cell(&sec, 4, &i, Value::Integer(READ_ONLY));
            d.cell(&sec, 5, &i, Value::Integer(ACTIVE));
        }
        let mut i = index::string(g.group.as_bytes());
        i.extend(index::string(b""));
        i.extend([g.model, g.level]);
        let view = g.group.clone();
        d.cell(&access, 4, &i, Value::Integer(2)); // prefix: "" matches every context
        d.cell(&access, 5, &i, Value::string(&view));
        let write = if g.writable { view.as_str() } else { "" };
        d.cell(&access, 6, &i, Value::string(write));
        d.cell(&access, 7, &i, Value::string(""));
        d.cell(&access, 8, &i, Value::Integer(READ_ONLY));
        d.cell(&access, 9, &i, Value::Integer(ACTIVE));
        let families = if g.view.families.is_empty() {
            vec![(Oid::new(&[1]), true)]
        } else {
            g.view.families.clone()
        };
        for (subtree, included) in families {
            let mut i = index::string(view.as_bytes());
            i.push(u32::try_from(subtree.len()).unwrap_or(u32::MAX));
            i.extend_from_slice(subtree.arcs());
            d.cell(&family, 3, &i, Value::OctetString(Vec::new()));
            d.cell(&family, 4, &i, Value::Integer(if included { 1 } else { 2 }));
            d.cell(&family, 5, &i, Value::Integer(READ_ONLY));
            d.cell(&family, 6, &i, Value::Integer(ACTIVE));
        }
    }
    d
}

/// A vacmContextTable row.
fn add_context(d: &mut SnapshotData, name: &[u8]) {
    let entry = Oid::new(&VACM).child(&[1, 1]);
    d.cell(
        &entry,
        1,
        &index::string(name),
        Value::OctetString(name.to_vec()),
    );
}

/// The tables: built once from the configuration (the agent is rebuilt when it changes),
/// with the contexts of the moment added.
struct Vacm {
    data: SnapshotData,
    contexts: ContextNames,
}

impl Vacm {
    /// The data with a row per existing context; the configuration's alone when there is
    /// none (no copy).
    fn with_contexts<T>(&self, f: impl FnOnce(&SnapshotData) -> T) -> T {
        let names = lock(&self.contexts).clone();
        if names.is_empty() {
            return f(&self.data);
        }
        let mut d = self.data.clone();
        for n in &names {
            add_context(&mut d, n);
        }
        f(&d)
    }
}

impl Handler for Vacm {
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        self.with_contexts(|d| d.get(oid))
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<VarBind> {
        self.with_contexts(|d| d.next(after))
    }
}

/// Registers the tables; `contexts` is kept up to date by the agent.
pub fn register(registry: &mut Registry, cfg: &AgentConfig, contexts: ContextNames) {
    let data = vacm_snapshot(cfg);
    let _ = registry.register(Oid::new(&VACM), Box::new(Vacm { data, contexts }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{AuthProtocol, Community, PrivProtocol, UsmUser};

    #[test]
    fn tables_from_the_configuration() {
        let mut cfg = AgentConfig {
            communities: vec![
                Community::new("public", Access::ReadOnly),
                Community::new("private", Access::ReadWrite)
                    .with_view(Oid::new(&[1, 3, 6, 1, 2, 1, 1]))
                    .without_view(Oid::new(&[1, 3, 6, 1, 2, 1, 1, 4])),
            ],
            ..AgentConfig::default()
        };
        let engine = cfg.engine_id.clone();
        cfg.users = vec![UsmUser::with_passwords(
            "ops",
            Access::ReadOnly,
            Some((AuthProtocol::Sha256, "authpassword")),
            Some((PrivProtocol::Aes128, "privpassword")),
            &engine,
        )];
        let d = vacm_snapshot(&cfg);
        let g = |a: &[u32]| d.get(&Oid::new(&VACM).child(a));
        // Community 1 over v2c, user ops over USM.
        let mut i = vec![2, 1, 3, 2];
        i.extend(index::string(b"community1"));
        assert_eq!(g(&i), Value::string("community1"));
        let mut i = vec![2, 1, 3, 3];
        i.extend(index::string(b"ops"));
        assert_eq!(g(&i), Value::string("user-ops"));
        // Access: community2 writes its view, community1 reads only; ops at authPriv.
        let access = |group: &str, model: u32, level: u32, col: u32| {
            let mut i = vec![4, 1, col];
            i.extend(index::string(group.as_bytes()));
            i.extend([0, model, level]);
            g(&i)
        };
        assert_eq!(access("community2", 0, 1, 6), Value::string("community2"));
        assert_eq!(access("community1", 0, 1, 6), Value::string(""));
        assert_eq!(access("community1", 0, 1, 5), Value::string("community1"));
        assert_eq!(access("user-ops", 3, 3, 5), Value::string("user-ops"));
        assert_eq!(access("user-ops", 3, 1, 5), Value::NoSuchInstance);
        // Families: community2 includes system, excludes sysContact; community1 sees all.
        let fam = |view: &str, subtree: &[u32]| {
            let mut i = vec![5, 2, 1, 4];
            i.extend(index::string(view.as_bytes()));
            i.push(subtree.len() as u32);
            i.extend_from_slice(subtree);
            g(&i)
        };
        assert_eq!(fam("community2", &[1, 3, 6, 1, 2, 1, 1]), Value::Integer(1));
        assert_eq!(
            fam("community2", &[1, 3, 6, 1, 2, 1, 1, 4]),
            Value::Integer(2)
        );
        assert_eq!(fam("community1", &[1]), Value::Integer(1));
        // The contexts of the moment in vacmContextTable.
        let contexts = ContextNames::default();
        let mut v = Vacm {
            data: d.clone(),
            contexts: contexts.clone(),
        };
        let cx = Ctx {
            now: std::time::Duration::ZERO,
        };
        let mut row = vec![1, 1, 1];
        row.extend(index::string(b"ctxA"));
        let row = Oid::new(&VACM).child(&row);
        assert_eq!(v.get(&row, &cx), Value::NoSuchInstance);
        contexts.lock().unwrap().push(b"ctxA".to_vec());
        assert_eq!(v.get(&row, &cx), Value::string("ctxA"));
        // Never a community's name.
        assert!(!d
            .values
            .values()
            .any(|v| *v == Value::string("public") || *v == Value::string("private")));
    }
}
