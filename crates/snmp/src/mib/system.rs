//! SNMPv2-MIB system group (1.3.6.1.2.1.1) with sysORTable.

use crate::agent::{centis, lock, AgentConfig, SystemState};
use crate::oid::Oid;
use crate::pdu::ErrorStatus;
use crate::registry::{Ctx, Handler};
use crate::value::{Value, VarBind};
use std::sync::{Arc, LazyLock, Mutex};

pub static SYSTEM: LazyLock<Oid> = LazyLock::new(|| Oid::new(&[1, 3, 6, 1, 2, 1, 1]));

const CONTACT: u32 = 4;
const NAME: u32 = 5;
const LOCATION: u32 = 6;

pub struct SystemGroup {
    descr: String,
    object_id: Oid,
    services: i32,
    state: Arc<Mutex<SystemState>>,
    /// Old values of committed sets, for undo.
    undo: Vec<(u32, String)>,
}

impl SystemGroup {
    pub fn new(config: &AgentConfig, state: Arc<Mutex<SystemState>>) -> Self {
        SystemGroup {
            descr: config.sys_descr.clone(),
            object_id: config.sys_object_id.clone(),
            services: config.sys_services,
            state,
            undo: Vec::new(),
        }
    }

    /// Every instance of the group, in order.
    fn all(&self, cx: &Ctx) -> Vec<VarBind> {
        let s = lock(&self.state);
        let sc = |sub: u32, v: Value| VarBind::new(SYSTEM.child(&[sub, 0]), v);
        let mut out = vec![
            sc(1, Value::string(&self.descr)),
            sc(2, Value::ObjectId(self.object_id.clone())),
            sc(3, Value::TimeTicks(centis(cx.now))),
            sc(CONTACT, Value::string(&s.contact)),
            sc(NAME, Value::string(&s.name)),
            sc(LOCATION, Value::string(&s.location)),
            sc(7, Value::Integer(self.services)),
            sc(8, Value::TimeTicks(s.or_last_change)),
        ];
        // sysORTable: sysOREntry = 9.1; columns 2 (ID), 3 (Descr), 4 (UpTime); index 1..n.
        for (col, f) in [
            (
                2u32,
                (|e: &crate::agent::SysOrEntry| Value::ObjectId(e.id.clone())) as fn(&_) -> _,
            ),
            (3, |e| Value::string(&e.descr)),
            (4, |e| Value::TimeTicks(e.up_time)),
        ] {
            let mut rows: Vec<_> = s.or_table.iter().collect();
            rows.sort_by_key(|e| e.index);
            for e in rows {
                out.push(VarBind::new(SYSTEM.child(&[9, 1, col, e.index]), f(e)));
            }
        }
        out
    }

    fn writable(oid: &Oid) -> Option<u32> {
        match oid.suffix(&SYSTEM) {
            Some([s @ (CONTACT | NAME | LOCATION), 0]) => Some(*s),
            _ => None,
        }
    }
}

impl Handler for SystemGroup {
    fn get(&mut self, oid: &Oid, cx: &Ctx) -> Value {
        // The scalars directly, as `all` gives them: a GET of sysUpTime.0 must not build the
        // whole group and sysORTable.
        if let Some([n @ 1..=8, 0]) = oid.suffix(&SYSTEM) {
            let s = lock(&self.state);
            return match *n {
                1 => Value::string(&self.descr),
                2 => Value::ObjectId(self.object_id.clone()),
                3 => Value::TimeTicks(centis(cx.now)),
                CONTACT => Value::string(&s.contact),
                NAME => Value::string(&s.name),
                LOCATION => Value::string(&s.location),
                7 => Value::Integer(self.services),
                _ => Value::TimeTicks(s.or_last_change),
            };
        }
        let all = self.all(cx);
        if let Some(vb) = all.iter().find(|vb| vb.oid == *oid) {
            return vb.value.clone();
        }
        match oid.suffix(&SYSTEM) {
            Some([1..=8, ..]) | Some([9, 1, 2..=4, ..]) => Value::NoSuchInstance,
            _ => Value::NoSuchObject,
        }
    }

    fn next(&mut self, after: &Oid, cx: &Ctx) -> Option<VarBind> {
        self.all(cx).into_iter().find(|vb| vb.oid > *after)
    }

    fn test_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        if Self::writable(&vb.oid).is_none() {
            return Err(ErrorStatus::NotWritable);
        }
        match &vb.value {
            // DisplayString (SIZE (0..255)), NVT ASCII.
            Value::OctetString(b) if b.len() > 255 => Err(ErrorStatus::WrongLength),
            Value::OctetString(b) if b.iter().any(|&c| c >= 0x80) => Err(ErrorStatus::WrongValue),
            Value::OctetString(_) => Ok(()),
            _ => Err(ErrorStatus::WrongType),
        }
    }

    fn commit_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let (Some(sub), Value::OctetString(b)) = (Self::writable(&vb.oid), &vb.value) else {
            return Err(ErrorStatus::CommitFailed);
        };
        let new = String::from_utf8_lossy(b).into_owned();
        let mut s = lock(&self.state);
        let slot = match sub {
            CONTACT => &mut s.contact,
            NAME => &mut s.name,
            _ => &mut s.location,
        };
        let old = std::mem::replace(slot, new);
        s.generation += 1;
        self.undo.push((sub, old));
        Ok(())
    }

    fn undo_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let Some(sub) = Self::writable(&vb.oid) else {
            return Ok(());
        };
        if let Some(pos) = self.undo.iter().rposition(|(s, _)| *s == sub) {
            let (_, old) = self.undo.remove(pos);
            let mut s = lock(&self.state);
            match sub {
                CONTACT => s.contact = old,
                NAME => s.name = old,
                _ => s.location = old,
            }
        }
        Ok(())
    }

    fn cleanup_set(&mut self, _vb: &VarBind, _cx: &Ctx) {
        self.undo.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn scalar_get_matches_the_whole_group() {
        let config = AgentConfig::default();
        let state = Arc::new(Mutex::new(SystemState {
            contact: "c".into(),
            name: "n".into(),
            location: "l".into(),
            ..SystemState::default()
        }));
        let mut g = SystemGroup::new(&config, state);
        let cx = Ctx {
            now: Duration::from_millis(12_340),
        };
        let all = g.all(&cx);
        for n in 1..=8 {
            let oid = SYSTEM.child(&[n, 0]);
            let want = all
                .iter()
                .find(|vb| vb.oid == oid)
                .map(|vb| vb.value.clone());
            assert_eq!(Some(g.get(&oid, &cx)), want, "sys.{n}.0");
        }
        assert_eq!(g.get(&SYSTEM.child(&[3, 1]), &cx), Value::NoSuchInstance);
        assert_eq!(g.get(&SYSTEM.child(&[10, 0]), &cx), Value::NoSuchObject);
    }
}
