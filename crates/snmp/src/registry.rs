//! The registry of subtrees: handlers registered and removed at run time, lexicographic
//! GetNext across subtree boundaries (no loops, no gaps), plus helpers for scalars, tables,
//! index encoding and a TTL cache for expensive host tables.

use crate::oid::Oid;
use crate::pdu::ErrorStatus;
use crate::value::{Value, VarBind};
use std::collections::BTreeMap;
use std::time::Duration;
use thiserror::Error;

/// What a handler learns about the request it serves.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Monotonic time since the agent started (the agent's `now`).
    pub now: Duration,
}

/// A handler for one registered subtree. `get` and `next` must only answer with OIDs inside the
/// subtree the handler was registered at; the registry drops anything else.
///
/// Set is RFC 3416's two-phase all-or-nothing: `test_set` for every varbind of the request
/// first; only if all pass, `commit_set` in order; if a commit fails, `undo_set` for those
/// already committed, in reverse order; `cleanup_set` for every tested varbind at the end.
pub trait Handler: Send {
    /// The value of an exact instance, or `NoSuchObject`/`NoSuchInstance`.
    fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value;
    /// The first instance strictly after `after` (which may lie before the subtree).
    fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind>;
    fn test_set(&mut self, _vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        Err(ErrorStatus::NotWritable)
    }
    fn commit_set(&mut self, _vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        Err(ErrorStatus::CommitFailed)
    }
    fn undo_set(&mut self, _vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        Ok(())
    }
    fn cleanup_set(&mut self, _vb: &VarBind, _cx: &Ctx) {}
    /// The delegate serving this subtree, for a subtree served elsewhere (AgentX, SMUX).
    fn delegate(&self) -> Option<crate::delegate::DelegateId> {
        None
    }
}

/// Identifies one registration, for removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationId(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistryError {
    #[error("subtree {0} is already registered")]
    Duplicate(Oid),
    #[error("the empty OID cannot be registered")]
    Empty,
}

struct Entry {
    id: RegistrationId,
    handler: Box<dyn Handler>,
}

/// Registered subtrees. A more specific registration shadows the part of a less specific one
/// that it covers.
#[derive(Default)]
pub struct Registry {
    entries: BTreeMap<Oid, Entry>,
    keys: Vec<Oid>,
    next_id: u64,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(
        &mut self,
        subtree: Oid,
        handler: Box<dyn Handler>,
    ) -> Result<RegistrationId, RegistryError> {
        if subtree.is_empty() {
            return Err(RegistryError::Empty);
        }
        if self.entries.contains_key(&subtree) {
            return Err(RegistryError::Duplicate(subtree));
        }
        self.next_id += 1;
        let id = RegistrationId(self.next_id);
        self.entries.insert(subtree, Entry { id, handler });
        self.keys = self.entries.keys().cloned().collect();
        Ok(id)
    }

    /// Removes a registration; returns its subtree and handler.
    pub fn unregister(&mut self, id: RegistrationId) -> Option<(Oid, Box<dyn Handler>)> {
        let key = self
            .entries
            .iter()
            .find(|(_, e)| e.id == id)
            .map(|(k, _)| k.clone())?;
        let e = self.entries.remove(&key)?;
        self.keys = self.entries.keys().cloned().collect();
        Some((key, e.handler))
    }

    pub fn unregister_subtree(&mut self, subtree: &Oid) -> Option<Box<dyn Handler>> {
        let e = self.entries.remove(subtree)?;
        self.keys = self.entries.keys().cloned().collect();
        Some(e.handler)
    }

    /// The registered subtrees in order, with their ids.
    pub fn subtrees(&self) -> Vec<(Oid, RegistrationId)> {
        self.entries
            .iter()
            .map(|(k, e)| (k.clone(), e.id))
            .collect()
    }

    /// The registration (longest prefix) that owns `oid`.
    pub fn owner(&self, oid: &Oid) -> Option<&Oid> {
        // Few registrations, often long OIDs: a scan beats building every prefix.
        self.keys
            .iter()
            .filter(|k| oid.starts_with(k))
            .max_by_key(|k| k.len())
    }

    pub fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value {
        let Some(key) = self.owner(oid).cloned() else {
            return Value::NoSuchObject;
        };
        match self.entries.get_mut(&key) {
            Some(e) => e.handler.get(oid, cx),
            None => Value::NoSuchObject,
        }
    }

    /// The first instance after `after` across all registrations, or `None` at the end of the MIB.
    pub fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind> {
        let mut best: Option<VarBind> = None;
        for i in 0..self.keys.len() {
            let Some(p) = self.keys.get(i) else {
                break;
            };
            if let Some(b) = &best {
                if b.oid < *p {
                    break;
                }
            }
            if *p < *after && !after.starts_with(p) {
                continue; // the whole subtree lies before `after`
            }
            // Cloned only for the subtrees actually asked (the handler call borrows `self`).
            let p = p.clone();
            let mut cursor = after.clone();
            // Each shadowing child is skipped at most once, so this is bounded.
            for _ in 0..=self.keys.len() {
                let Some(e) = self.entries.get_mut(&p) else {
                    break;
                };
                let Some(c) = e.handler.next(&cursor, cx) else {
                    break;
                };
                if c.oid <= cursor || !c.oid.starts_with(&p) {
                    break; // a misbehaving handler: treat as exhausted, never loop
                }
                match self.owner(&c.oid) {
                    Some(o) if *o == p => {
                        if best.as_ref().is_none_or(|b| c.oid < b.oid) {
                            best = Some(c);
                        }
                        break;
                    }
                    Some(o) => cursor = o.subtree_end(),
                    None => break,
                }
            }
        }
        best
    }

    pub fn handler_mut(&mut self, subtree: &Oid) -> Option<&mut (dyn Handler + 'static)> {
        self.entries.get_mut(subtree).map(|e| &mut *e.handler)
    }

    /// The handler that owns `oid`, if any.
    pub fn owner_handler(&mut self, oid: &Oid) -> Option<&mut (dyn Handler + 'static)> {
        let key = self.owner(oid)?.clone();
        self.handler_mut(&key)
    }
}

/// A value computed at most once per time-to-live.
#[derive(Debug, Clone)]
pub struct TtlCache<T> {
    ttl: Duration,
    slot: Option<(Duration, T)>,
}

impl<T> TtlCache<T> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache { ttl, slot: None }
    }

    /// The cached value, refreshed with `f` when older than the TTL (or when time went back).
    pub fn get(&mut self, now: Duration, f: impl FnOnce() -> T) -> &T {
        let fresh = matches!(&self.slot, Some((t, _)) if now >= *t && now - *t < self.ttl);
        if !fresh {
            self.slot = None;
        }
        let (_, v) = self.slot.get_or_insert_with(|| (now, f()));
        v
    }

    pub fn invalidate(&mut self) {
        self.slot = None;
    }
}

/// A getter for a read-only scalar.
pub type ScalarFn = Box<dyn FnMut(&Ctx) -> Value + Send>;

/// Read-only scalars under one prefix: `prefix.sub.0`.
pub struct Scalars {
    prefix: Oid,
    items: BTreeMap<u32, ScalarFn>,
}

impl Scalars {
    pub fn new(prefix: Oid) -> Self {
        Scalars {
            prefix,
            items: BTreeMap::new(),
        }
    }

    pub fn with(mut self, sub: u32, f: impl FnMut(&Ctx) -> Value + Send + 'static) -> Self {
        self.items.insert(sub, Box::new(f));
        self
    }
}

impl Handler for Scalars {
    fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value {
        match oid.suffix(&self.prefix) {
            Some([sub, 0]) => match self.items.get_mut(sub) {
                Some(f) => f(cx),
                None => Value::NoSuchObject,
            },
            Some([sub, ..]) if self.items.contains_key(sub) => Value::NoSuchInstance,
            _ => Value::NoSuchObject,
        }
    }

    fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind> {
        let prefix = self.prefix.clone();
        for (sub, f) in self.items.iter_mut() {
            let inst = prefix.child(&[*sub, 0]);
            if inst > *after {
                let v = f(cx);
                if !v.is_exception() {
                    return Some(VarBind::new(inst, v));
                }
            }
        }
        None
    }
}

/// One row of a table: its index (the OID suffix) and its column values.
pub type Row = (Oid, Vec<(u32, Value)>);

/// Rows ordered by index, each with its columns.
pub type TableRows = BTreeMap<Oid, BTreeMap<u32, Value>>;

/// A read-only conceptual table under `entry` (`entry.column.index`), its rows produced by a
/// source function and cached for a time-to-live so that a walk costs one scan, not one per row.
pub struct Table<F> {
    entry: Oid,
    source: F,
    cache: TtlCache<TableRows>,
}

impl<F: FnMut(&Ctx) -> Vec<Row> + Send> Table<F> {
    pub fn new(entry: Oid, ttl: Duration, source: F) -> Self {
        Table {
            entry,
            source,
            cache: TtlCache::new(ttl),
        }
    }

    fn rows(&mut self, cx: &Ctx) -> &TableRows {
        let src = &mut self.source;
        self.cache.get(cx.now, || {
            let mut m: TableRows = BTreeMap::new();
            for (idx, cols) in src(cx) {
                let r = m.entry(idx).or_default();
                for (c, v) in cols {
                    r.insert(c, v);
                }
            }
            m
        })
    }
}

/// The first `entry.column.index` after `after` in column-major order.
pub fn table_next(entry: &Oid, rows: &TableRows, after: &Oid) -> Option<VarBind> {
    let mut columns: Vec<u32> = rows.values().flat_map(|r| r.keys().copied()).collect();
    columns.sort_unstable();
    columns.dedup();
    for c in columns {
        let base = entry.child(&[c]);
        let found = if let Some(rest) = after.suffix(&base) {
            let rest = Oid::new(rest);
            rows.range((std::ops::Bound::Excluded(rest), std::ops::Bound::Unbounded))
                .find_map(|(i, r)| r.get(&c).map(|v| (i, v)))
        } else if *after < base {
            rows.iter().find_map(|(i, r)| r.get(&c).map(|v| (i, v)))
        } else {
            None
        };
        if let Some((i, v)) = found {
            return Some(VarBind::new(base.child(i.arcs()), v.clone()));
        }
    }
    None
}

/// The value at `entry.column.index`.
pub fn table_get(entry: &Oid, rows: &TableRows, oid: &Oid) -> Value {
    match oid.suffix(entry) {
        Some([c, idx @ ..]) => {
            let known = rows.values().any(|r| r.contains_key(c));
            match rows.get(&Oid::new(idx)).and_then(|r| r.get(c)) {
                Some(v) => v.clone(),
                None if known => Value::NoSuchInstance,
                None => Value::NoSuchObject,
            }
        }
        _ => Value::NoSuchObject,
    }
}

impl<F: FnMut(&Ctx) -> Vec<Row> + Send> Handler for Table<F> {
    fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value {
        let entry = self.entry.clone();
        table_get(&entry, self.rows(cx), oid)
    }

    fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind> {
        let entry = self.entry.clone();
        table_next(&entry, self.rows(cx), after)
    }
}

/// Index encoding (RFC 2578 section 7.7).
pub mod index {
    use crate::oid::Oid;
    use std::net::IpAddr;

    /// An integer index: one arc.
    pub fn int(v: u32) -> Vec<u32> {
        vec![v]
    }

    /// A variable-length string: its length, then one arc per octet.
    pub fn string(s: &[u8]) -> Vec<u32> {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.push(s.len() as u32);
        v.extend(s.iter().map(|&b| u32::from(b)));
        v
    }

    /// An IMPLIED string: the octets only.
    pub fn implied(s: &[u8]) -> Vec<u32> {
        s.iter().map(|&b| u32::from(b)).collect()
    }

    /// An IpAddress: four arcs.
    pub fn ipv4(a: [u8; 4]) -> Vec<u32> {
        a.iter().map(|&b| u32::from(b)).collect()
    }

    /// An InetAddressType followed by an InetAddress (length-prefixed).
    pub fn inet(a: &IpAddr) -> Vec<u32> {
        match a {
            IpAddr::V4(v4) => {
                let mut v = vec![1];
                v.extend(string(&v4.octets()));
                v
            }
            IpAddr::V6(v6) => {
                let mut v = vec![2];
                v.extend(string(&v6.octets()));
                v
            }
        }
    }

    /// Concatenates index parts into an OID suffix.
    pub fn join(parts: &[Vec<u32>]) -> Oid {
        let v: Vec<u32> = parts.iter().flatten().copied().collect();
        Oid::new(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid;

    fn cx() -> Ctx {
        Ctx {
            now: Duration::ZERO,
        }
    }

    fn walk(r: &mut Registry) -> Vec<Oid> {
        let mut out = Vec::new();
        let mut cur = Oid::empty();
        while let Some(vb) = r.next(&cur, &cx()) {
            assert!(vb.oid > cur, "not increasing");
            cur = vb.oid.clone();
            out.push(vb.oid);
            assert!(out.len() < 1000);
        }
        out
    }

    #[test]
    fn walks_across_and_shadows() {
        let mut r = Registry::new();
        let a = Scalars::new(oid!(1, 3, 6, 1, 2))
            .with(1, |_| Value::Integer(1))
            .with(5, |_| Value::Integer(5))
            .with(9, |_| Value::Integer(9));
        r.register(oid!(1, 3, 6, 1, 2), Box::new(a)).unwrap();
        // A child registration shadowing 1.3.6.1.2.5 of the parent.
        let b = Scalars::new(oid!(1, 3, 6, 1, 2, 5)).with(7, |_| Value::Integer(57));
        let id = r.register(oid!(1, 3, 6, 1, 2, 5), Box::new(b)).unwrap();
        let c = Scalars::new(oid!(1, 3, 6, 1, 4)).with(1, |_| Value::Integer(41));
        r.register(oid!(1, 3, 6, 1, 4), Box::new(c)).unwrap();
        assert_eq!(
            walk(&mut r),
            vec![
                oid!(1, 3, 6, 1, 2, 1, 0),
                oid!(1, 3, 6, 1, 2, 5, 7, 0),
                oid!(1, 3, 6, 1, 2, 9, 0),
                oid!(1, 3, 6, 1, 4, 1, 0)
            ]
        );
        assert_eq!(
            r.get(&oid!(1, 3, 6, 1, 2, 5, 0), &cx()),
            Value::NoSuchObject
        );
        assert!(r
            .register(oid!(1, 3, 6, 1, 4), Box::new(Scalars::new(oid!(1))))
            .is_err());
        r.unregister(id).unwrap();
        assert_eq!(r.get(&oid!(1, 3, 6, 1, 2, 5, 0), &cx()), Value::Integer(5));
        assert_eq!(walk(&mut r).len(), 4);
    }

    #[test]
    fn table_column_major() {
        let entry = oid!(1, 3, 6, 1, 9, 1);
        let t = Table::new(entry.clone(), Duration::from_secs(5), |_: &Ctx| {
            vec![
                (
                    oid!(2),
                    vec![(1, Value::Integer(2)), (2, Value::string("b"))],
                ),
                (
                    oid!(1),
                    vec![(1, Value::Integer(1)), (2, Value::string("a"))],
                ),
            ]
        });
        let mut r = Registry::new();
        r.register(oid!(1, 3, 6, 1, 9), Box::new(t)).unwrap();
        let w = walk(&mut r);
        assert_eq!(
            w,
            vec![
                oid!(1, 3, 6, 1, 9, 1, 1, 1),
                oid!(1, 3, 6, 1, 9, 1, 1, 2),
                oid!(1, 3, 6, 1, 9, 1, 2, 1),
                oid!(1, 3, 6, 1, 9, 1, 2, 2)
            ]
        );
        assert_eq!(
            r.get(&oid!(1, 3, 6, 1, 9, 1, 2, 3), &cx()),
            Value::NoSuchInstance
        );
        assert_eq!(
            r.get(&oid!(1, 3, 6, 1, 9, 1, 2, 1), &cx()),
            Value::string("a")
        );
    }

    #[test]
    fn ttl_cache() {
        let mut c = TtlCache::new(Duration::from_secs(2));
        let mut n = 0;
        for t in [0u64, 1, 2, 3, 4] {
            c.get(Duration::from_secs(t), || {
                n += 1;
                n
            });
        }
        assert_eq!(n, 3);
    }
}

/// Every instance of a subtree at one moment, with the object types it holds (so a `get`
/// of a missing instance of a known object answers noSuchInstance, else noSuchObject).
#[derive(Debug, Clone, Default)]
pub struct SnapshotData {
    pub values: BTreeMap<Oid, Value>,
    pub objects: std::collections::BTreeSet<Oid>,
}

impl SnapshotData {
    pub fn new() -> Self {
        Self::default()
    }

    /// A scalar `object.0`.
    pub fn scalar(&mut self, object: Oid, v: Value) {
        self.values.insert(object.child(&[0]), v);
        self.objects.insert(object);
    }

    /// A table cell `entry.column.index`.
    pub fn cell(&mut self, entry: &Oid, column: u32, index: &[u32], v: Value) {
        let object = entry.child(&[column]);
        self.values.insert(object.child(index), v);
        self.objects.insert(object);
    }

    pub fn get(&self, oid: &Oid) -> Value {
        if let Some(v) = self.values.get(oid) {
            return v.clone();
        }
        let arcs = oid.arcs();
        if (1..arcs.len()).any(|l| self.objects.contains(&Oid::new(&arcs[..l]))) {
            Value::NoSuchInstance
        } else {
            Value::NoSuchObject
        }
    }

    pub fn next(&self, after: &Oid) -> Option<VarBind> {
        self.values
            .range::<Oid, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .next()
            .map(|(k, v)| VarBind::new(k.clone(), v.clone()))
    }
}

/// A read-only handler over a [`SnapshotData`] rebuilt at most once per time-to-live: a walk
/// of a large host table costs one scan of /proc, not one per row.
pub struct Snapshot<F> {
    build: F,
    cache: TtlCache<SnapshotData>,
}

impl<F: FnMut(&Ctx) -> SnapshotData + Send> Snapshot<F> {
    pub fn new(ttl: Duration, build: F) -> Self {
        Snapshot {
            build,
            cache: TtlCache::new(ttl),
        }
    }

    fn data(&mut self, cx: &Ctx) -> &SnapshotData {
        let b = &mut self.build;
        self.cache.get(cx.now, || b(cx))
    }
}

impl<F: FnMut(&Ctx) -> SnapshotData + Send> Handler for Snapshot<F> {
    fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value {
        self.data(cx).get(oid)
    }

    fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind> {
        self.data(cx).next(after)
    }
}
