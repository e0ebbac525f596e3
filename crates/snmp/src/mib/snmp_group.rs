//! SNMPv2-MIB snmp group (1.3.6.1.2.1.11): the agent's counters.

use crate::agent::{lock, SnmpCounters};
use crate::oid::Oid;
use crate::pdu::ErrorStatus;
use crate::registry::{Ctx, Handler};
use crate::value::{Value, VarBind};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, LazyLock, Mutex};

pub static SNMP: LazyLock<Oid> = LazyLock::new(|| Oid::new(&[1, 3, 6, 1, 2, 1, 11]));

type Field = fn(&SnmpCounters) -> &AtomicU32;

const COUNTERS: &[(u32, Field)] = &[
    (1, |c| &c.in_pkts),
    (2, |c| &c.out_pkts),
    (3, |c| &c.in_bad_versions),
    (4, |c| &c.in_bad_community_names),
    (5, |c| &c.in_bad_community_uses),
    (6, |c| &c.in_asn_parse_errs),
    (8, |c| &c.in_too_bigs),
    (9, |c| &c.in_no_such_names),
    (10, |c| &c.in_bad_values),
    (11, |c| &c.in_read_onlys),
    (12, |c| &c.in_gen_errs),
    (13, |c| &c.in_total_req_vars),
    (14, |c| &c.in_total_set_vars),
    (15, |c| &c.in_get_requests),
    (16, |c| &c.in_get_nexts),
    (17, |c| &c.in_set_requests),
    (18, |c| &c.in_get_responses),
    (19, |c| &c.in_traps),
    (20, |c| &c.out_too_bigs),
    (21, |c| &c.out_no_such_names),
    (22, |c| &c.out_bad_values),
    (24, |c| &c.out_gen_errs),
    (28, |c| &c.out_get_responses),
    (29, |c| &c.out_traps),
    (31, |c| &c.silent_drops),
    (32, |c| &c.proxy_drops),
];

const ENABLE_AUTHEN_TRAPS: u32 = 30;

/// The snmp group handler; snmpEnableAuthenTraps is writable (enabled(1), disabled(2)).
pub struct SnmpGroup {
    counters: Arc<SnmpCounters>,
    authen: Arc<Mutex<bool>>,
    undo: Option<bool>,
}

impl SnmpGroup {
    pub fn new(counters: Arc<SnmpCounters>, authen: Arc<Mutex<bool>>) -> Self {
        SnmpGroup {
            counters,
            authen,
            undo: None,
        }
    }

    fn value(&self, sub: u32) -> Option<Value> {
        if sub == ENABLE_AUTHEN_TRAPS {
            return Some(Value::Integer(if *lock(&self.authen) { 1 } else { 2 }));
        }
        COUNTERS
            .iter()
            .find(|(s, _)| *s == sub)
            .map(|(_, f)| Value::Counter32(SnmpCounters::read(f(&self.counters))))
    }
}

impl Handler for SnmpGroup {
    fn get(&mut self, oid: &Oid, _cx: &Ctx) -> Value {
        match oid.suffix(&SNMP) {
            Some([sub, 0]) => self.value(*sub).unwrap_or(Value::NoSuchObject),
            Some([sub, ..]) if self.value(*sub).is_some() => Value::NoSuchInstance,
            _ => Value::NoSuchObject,
        }
    }

    fn next(&mut self, after: &Oid, _cx: &Ctx) -> Option<VarBind> {
        let mut subs: Vec<u32> = COUNTERS.iter().map(|(s, _)| *s).collect();
        subs.push(ENABLE_AUTHEN_TRAPS);
        subs.sort_unstable();
        subs.into_iter().find_map(|s| {
            let o = SNMP.child(&[s, 0]);
            if o > *after {
                self.value(s).map(|v| VarBind::new(o, v))
            } else {
                None
            }
        })
    }

    fn test_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        match vb.oid.suffix(&SNMP) {
            Some([ENABLE_AUTHEN_TRAPS, 0]) => match vb.value {
                Value::Integer(1 | 2) => Ok(()),
                Value::Integer(_) => Err(ErrorStatus::WrongValue),
                _ => Err(ErrorStatus::WrongType),
            },
            _ => Err(ErrorStatus::NotWritable),
        }
    }

    fn commit_set(&mut self, vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        let mut a = lock(&self.authen);
        self.undo = Some(*a);
        *a = vb.value == Value::Integer(1);
        Ok(())
    }

    fn undo_set(&mut self, _vb: &VarBind, _cx: &Ctx) -> Result<(), ErrorStatus> {
        if let Some(old) = self.undo.take() {
            *lock(&self.authen) = old;
        }
        Ok(())
    }

    fn cleanup_set(&mut self, _vb: &VarBind, _cx: &Ctx) {
        self.undo = None;
    }
}
