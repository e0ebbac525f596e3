//! Index allocation (RFC 2741 §7.1.4): IndexAllocate and IndexDeallocate per index object
//! and context (the same index object in two contexts is two independent objects).

use crate::pdu_error::ResponseError;
use snmp::{Oid, Value, VarBind};
use std::collections::BTreeMap;

/// The allocations of one index object.
#[derive(Debug, Default)]
struct IndexObject {
    /// The value type every allocation of this object must have (the first one's).
    kind: Option<std::mem::Discriminant<Value>>,
    /// Allocated values and their sessions.
    allocated: Vec<(Value, u32)>,
    /// Every value ever allocated (NEW_INDEX never reuses one).
    ever: Vec<Value>,
}

/// An index object in a context (`None`: the default context).
type Key = (Option<Vec<u8>>, Oid);

/// Allocated index values of every index object.
#[derive(Debug, Default)]
pub struct IndexTable {
    objects: BTreeMap<Key, IndexObject>,
}

fn key(context: Option<&[u8]>, oid: &Oid) -> Key {
    (context.map(<[u8]>::to_vec), oid.clone())
}

/// A request's way of choosing values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The values given.
    Given,
    /// Any value not currently allocated (ANY_INDEX).
    Any,
    /// A value never allocated before (NEW_INDEX).
    New,
}

fn allowed(v: &Value) -> bool {
    matches!(
        v,
        Value::Integer(_) | Value::OctetString(_) | Value::ObjectId(_) | Value::IpAddress(_)
    )
}

impl IndexTable {
    /// Allocates every varbind's index in `context` for `session`, all or nothing; the
    /// allocated varbinds, or the error and the 1-based varbind it concerns.
    pub fn allocate(
        &mut self,
        session: u32,
        context: Option<&[u8]>,
        varbinds: &[VarBind],
        choice: Choice,
    ) -> Result<Vec<VarBind>, (ResponseError, u16)> {
        let mut out: Vec<VarBind> = Vec::with_capacity(varbinds.len());
        for (i, vb) in varbinds.iter().enumerate() {
            let at = u16::try_from(i + 1).unwrap_or(u16::MAX);
            if !allowed(&vb.value) {
                return Err((ResponseError::IndexWrongType, at));
            }
            let obj = self.objects.get(&key(context, &vb.oid));
            if obj
                .and_then(|o| o.kind)
                .is_some_and(|k| k != std::mem::discriminant(&vb.value))
            {
                return Err((ResponseError::IndexWrongType, at));
            }
            let taken = |v: &Value| {
                obj.is_some_and(|o| o.allocated.iter().any(|(x, _)| x == v))
                    || out.iter().any(|p| p.oid == vb.oid && p.value == *v)
            };
            let value = match (choice, &vb.value) {
                (Choice::Given, v) => {
                    if taken(v) {
                        return Err((ResponseError::IndexAlreadyAllocated, at));
                    }
                    v.clone()
                }
                (Choice::Any, Value::Integer(_)) => (1..=i32::MAX)
                    .map(Value::Integer)
                    .find(|v| !taken(v))
                    .ok_or((ResponseError::IndexNoneAvailable, at))?,
                (Choice::New, Value::Integer(_)) => {
                    let ever_max = obj
                        .map(|o| {
                            o.ever
                                .iter()
                                .filter_map(|v| match v {
                                    Value::Integer(n) => Some(*n),
                                    _ => None,
                                })
                                .max()
                                .unwrap_or(0)
                        })
                        .unwrap_or(0);
                    let mine = out
                        .iter()
                        .filter(|p| p.oid == vb.oid)
                        .filter_map(|p| match p.value {
                            Value::Integer(n) => Some(n),
                            _ => None,
                        })
                        .max()
                        .unwrap_or(0);
                    let n = ever_max
                        .max(mine)
                        .checked_add(1)
                        .ok_or((ResponseError::IndexNoneAvailable, at))?;
                    Value::Integer(n)
                }
                // Only integer indexes are generated.
                _ => return Err((ResponseError::IndexNoneAvailable, at)),
            };
            out.push(VarBind::new(vb.oid.clone(), value));
        }
        for vb in &out {
            let o = self.objects.entry(key(context, &vb.oid)).or_default();
            o.kind = Some(std::mem::discriminant(&vb.value));
            o.allocated.push((vb.value.clone(), session));
            if !o.ever.contains(&vb.value) {
                o.ever.push(vb.value.clone());
            }
        }
        Ok(out)
    }

    /// Releases every varbind's index allocated by `session` in `context`, all or nothing.
    pub fn deallocate(
        &mut self,
        session: u32,
        context: Option<&[u8]>,
        varbinds: &[VarBind],
    ) -> Result<(), (ResponseError, u16)> {
        for (i, vb) in varbinds.iter().enumerate() {
            let ok = self.objects.get(&key(context, &vb.oid)).is_some_and(|o| {
                o.allocated
                    .iter()
                    .any(|(v, s)| *v == vb.value && *s == session)
            });
            if !ok {
                let at = u16::try_from(i + 1).unwrap_or(u16::MAX);
                return Err((ResponseError::IndexNotAllocated, at));
            }
        }
        for vb in varbinds {
            if let Some(o) = self.objects.get_mut(&key(context, &vb.oid)) {
                o.allocated
                    .retain(|(v, s)| !(*v == vb.value && *s == session));
            }
        }
        Ok(())
    }

    /// Releases everything `session` allocated (it closed).
    pub fn remove_session(&mut self, session: u32) {
        for o in self.objects.values_mut() {
            o.allocated.retain(|(_, s)| *s != session);
        }
    }

    /// How many values are allocated in all.
    pub fn allocated(&self) -> usize {
        self.objects.values().map(|o| o.allocated.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vb(n: i32) -> VarBind {
        VarBind::new(Oid::new(&[1, 3, 6, 1, 4, 1, 9, 1]), Value::Integer(n))
    }

    #[test]
    fn allocate_rules() {
        let mut t = IndexTable::default();
        assert_eq!(
            t.allocate(1, None, &[vb(5)], Choice::Given),
            Ok(vec![vb(5)])
        );
        assert_eq!(
            t.allocate(2, None, &[vb(5)], Choice::Given),
            Err((ResponseError::IndexAlreadyAllocated, 1))
        );
        assert_eq!(t.allocate(2, None, &[vb(0)], Choice::Any), Ok(vec![vb(1)]));
        assert_eq!(t.allocate(2, None, &[vb(0)], Choice::New), Ok(vec![vb(6)]));
        let s = VarBind::new(vb(0).oid, Value::string("x"));
        assert_eq!(
            t.allocate(2, None, &[s], Choice::Given),
            Err((ResponseError::IndexWrongType, 1))
        );
        assert_eq!(
            t.deallocate(2, None, &[vb(5)]),
            Err((ResponseError::IndexNotAllocated, 1))
        );
        assert_eq!(t.deallocate(1, None, &[vb(5)]), Ok(()));
        // 5 is free again for Given/Any, but NEW_INDEX never reuses it.
        assert_eq!(t.allocate(2, None, &[vb(0)], Choice::New), Ok(vec![vb(7)]));
        // Another context has its own values: 6 is taken here but free there, and a
        // deallocation there does not touch this context's.
        assert_eq!(
            t.allocate(3, Some(b"ctx"), &[vb(6)], Choice::Given),
            Ok(vec![vb(6)])
        );
        assert_eq!(
            t.deallocate(2, Some(b"ctx"), &[vb(6)]),
            Err((ResponseError::IndexNotAllocated, 1))
        );
        t.remove_session(2);
        t.remove_session(3);
        assert_eq!(t.allocated(), 0);
    }
}
