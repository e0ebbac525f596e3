//! Handlers for the common shapes, with Set support: a group of scalars driven by closures
//! and a table whose rows the program keeps in shared memory. Both implement
//! [`snmp::Handler`], so they serve through AgentX or inside our own agent alike.

use snmp::registry::{table_get, table_next, Ctx, TableRows};
use snmp::{ErrorStatus, Handler, Oid, Value, VarBind};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

type Getter = Box<dyn FnMut() -> Value + Send>;
type Setter = Box<dyn FnMut(&Value) -> Result<(), ErrorStatus> + Send>;
type Checker = Box<dyn FnMut(&Value) -> Result<(), ErrorStatus> + Send>;

struct Scalar {
    get: Getter,
    set: Option<Setter>,
    check: Option<Checker>,
}

/// Scalars under one prefix (`prefix.sub.0`), each read by a closure and, when writable,
/// written by another.
///
/// A Set is checked (writable, same type as the current value, then the optional check
/// closure) in TestSet, applied in CommitSet after saving the old value, and undone in
/// UndoSet by writing the saved value back.
pub struct Scalars {
    prefix: Oid,
    items: BTreeMap<u32, Scalar>,
    saved: HashMap<Oid, Value>,
}

impl Scalars {
    /// An empty group under `prefix`.
    pub fn new(prefix: Oid) -> Self {
        Scalars {
            prefix,
            items: BTreeMap::new(),
            saved: HashMap::new(),
        }
    }

    /// A read-only scalar `prefix.sub.0`.
    pub fn read(mut self, sub: u32, get: impl FnMut() -> Value + Send + 'static) -> Self {
        self.items.insert(
            sub,
            Scalar {
                get: Box::new(get),
                set: None,
                check: None,
            },
        );
        self
    }

    /// A read-write scalar: `set` applies a new value (it may still refuse, which makes the
    /// Set fail with commitFailed; refuse in [`Scalars::check`] instead when possible).
    pub fn write(
        mut self,
        sub: u32,
        get: impl FnMut() -> Value + Send + 'static,
        set: impl FnMut(&Value) -> Result<(), ErrorStatus> + Send + 'static,
    ) -> Self {
        self.items.insert(
            sub,
            Scalar {
                get: Box::new(get),
                set: Some(Box::new(set)),
                check: None,
            },
        );
        self
    }

    /// Adds a validation to scalar `sub` run in TestSet (e.g. `Err(WrongValue)` for an out
    /// of range integer, `Err(WrongLength)` for a long string).
    pub fn check(
        mut self,
        sub: u32,
        check: impl FnMut(&Value) -> Result<(), ErrorStatus> + Send + 'static,
    ) -> Self {
        if let Some(s) = self.items.get_mut(&sub) {
            s.check = Some(Box::new(check));
        }
        self
    }

    fn item(&mut self, oid: &Oid) -> Option<&mut Scalar> {
        match oid.suffix(&self.prefix) {
            Some([sub, 0]) => self.items.get_mut(sub),
            _ => None,
        }
    }
}

impl Handler for Scalars {
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        match oid.suffix(&self.prefix) {
            Some([sub, 0]) => match self.items.get_mut(sub) {
                Some(s) => (s.get)(),
                None => Value::NoSuchObject,
            },
            Some([sub, ..]) if self.items.contains_key(sub) => Value::NoSuchInstance,
            _ => Value::NoSuchObject,
        }
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<VarBind> {
        let prefix = self.prefix.clone();
        for (sub, s) in self.items.iter_mut() {
            let inst = prefix.child(&[*sub, 0]);
            if inst > *after {
                let v = (s.get)();
                if !v.is_exception() {
                    return Some(VarBind::new(inst, v));
                }
            }
        }
        None
    }

    fn test_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let s = self.item(&vb.oid).ok_or(ErrorStatus::NotWritable)?;
        if s.set.is_none() {
            return Err(ErrorStatus::NotWritable);
        }
        if (s.get)().type_name() != vb.value.type_name() {
            return Err(ErrorStatus::WrongType);
        }
        match &mut s.check {
            Some(c) => c(&vb.value),
            None => Ok(()),
        }
    }

    fn commit_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let s = self.item(&vb.oid).ok_or(ErrorStatus::CommitFailed)?;
        let old = (s.get)();
        let set = s.set.as_mut().ok_or(ErrorStatus::CommitFailed)?;
        set(&vb.value).map_err(|_| ErrorStatus::CommitFailed)?;
        self.saved.insert(vb.oid.clone(), old);
        Ok(())
    }

    fn undo_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let Some(old) = self.saved.remove(&vb.oid) else {
            return Ok(()); // never committed: nothing to undo
        };
        let s = self.item(&vb.oid).ok_or(ErrorStatus::UndoFailed)?;
        let set = s.set.as_mut().ok_or(ErrorStatus::UndoFailed)?;
        set(&old).map_err(|_| ErrorStatus::UndoFailed)
    }

    fn cleanup_set(&mut self, vb: &VarBind, _cx: &Ctx) {
        self.saved.remove(&vb.oid);
    }
}

/// Rows of a [`Table`], shared between the program (which adds, changes and removes rows)
/// and the handler (which serves them).
#[derive(Clone, Default)]
pub struct TableData(Arc<Mutex<TableRows>>);

impl TableData {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the rows (index → column → value). A panic elsewhere while holding the lock
    /// does not make the table unusable.
    pub fn lock(&self) -> MutexGuard<'_, TableRows> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts or replaces a row; `index` is the encoded index (see
    /// [`snmp::registry::index`]).
    pub fn set_row(&self, index: Oid, columns: impl IntoIterator<Item = (u32, Value)>) {
        self.lock().insert(index, columns.into_iter().collect());
    }

    /// Removes a row.
    pub fn remove_row(&self, index: &Oid) {
        self.lock().remove(index);
    }

    /// One cell.
    pub fn cell(&self, index: &Oid, column: u32) -> Option<Value> {
        self.lock().get(index).and_then(|r| r.get(&column)).cloned()
    }
}

/// A conceptual table under `entry` (`entry.column.index`, served column by column) whose
/// rows live in a [`TableData`]. Columns listed as writable accept Sets of existing cells
/// of the same type; rows are not created by Set.
pub struct Table {
    entry: Oid,
    data: TableData,
    writable: Vec<u32>,
    saved: HashMap<Oid, Value>,
}

impl Table {
    /// A read-only table.
    pub fn new(entry: Oid, data: TableData) -> Self {
        Table {
            entry,
            data,
            writable: Vec::new(),
            saved: HashMap::new(),
        }
    }

    /// Makes these columns writable.
    pub fn writable(mut self, columns: &[u32]) -> Self {
        self.writable.extend_from_slice(columns);
        self
    }

    /// The column and index of a cell OID.
    fn cell(&self, oid: &Oid) -> Option<(u32, Oid)> {
        match oid.suffix(&self.entry) {
            Some([c, idx @ ..]) if !idx.is_empty() => Some((*c, Oid::new(idx))),
            _ => None,
        }
    }

    fn put(&self, oid: &Oid, v: &Value) -> bool {
        let Some((c, idx)) = self.cell(oid) else {
            return false;
        };
        match self.data.lock().get_mut(&idx) {
            Some(row) => {
                row.insert(c, v.clone());
                true
            }
            None => false,
        }
    }
}

impl Handler for Table {
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        table_get(&self.entry, &self.data.lock(), oid)
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<VarBind> {
        table_next(&self.entry, &self.data.lock(), after)
    }

    fn test_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let (c, idx) = self.cell(&vb.oid).ok_or(ErrorStatus::NoCreation)?;
        if !self.writable.contains(&c) {
            return Err(ErrorStatus::NotWritable);
        }
        let cur = self.data.cell(&idx, c).ok_or(ErrorStatus::NoCreation)?;
        if cur.type_name() != vb.value.type_name() {
            return Err(ErrorStatus::WrongType);
        }
        Ok(())
    }

    fn commit_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let (c, idx) = self.cell(&vb.oid).ok_or(ErrorStatus::CommitFailed)?;
        let old = self.data.cell(&idx, c).ok_or(ErrorStatus::CommitFailed)?;
        if !self.put(&vb.oid, &vb.value) {
            return Err(ErrorStatus::CommitFailed);
        }
        self.saved.insert(vb.oid.clone(), old);
        Ok(())
    }

    fn undo_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        match self.saved.remove(&vb.oid) {
            Some(old) if !self.put(&vb.oid, &old) => Err(ErrorStatus::UndoFailed),
            _ => Ok(()),
        }
    }

    fn cleanup_set(&mut self, vb: &VarBind, _cx: &Ctx) {
        self.saved.remove(&vb.oid);
    }
}
