//! The master's registration table (RFC 2741 §7.1.5): registrations of every session with
//! their priority, range and context, and which one serves each subtree.

use crate::pdu::Register;
use snmp::Oid;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many subtrees from one range registration (a range expands into one subtree
/// per value of the ranging sub-identifier).
pub const MAX_RANGE: u32 = 1024;

/// One registration as the subagent sent it, expanded into its subtrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The session that registered.
    pub session: u32,
    /// The context (`None` = the default context).
    pub context: Option<Vec<u8>>,
    /// The registered subtree, or the lower bound of the range.
    pub subtree: Oid,
    /// The 1-based ranging sub-identifier (0: no range).
    pub range_subid: u8,
    /// The range's upper bound.
    pub upper_bound: u32,
    /// Lower values win.
    pub priority: u8,
    /// Seconds to wait for answers in this region (0: the session's).
    pub timeout: u8,
    /// An instance registration (one fully qualified instance).
    pub instance: bool,
    /// The subtrees this registration covers.
    pub expanded: Vec<Oid>,
    /// Registration order (the earlier of two equal registrations wins).
    pub order: u64,
}

/// Why a registration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterError {
    /// Same subtree, context and priority as an existing registration (§7.1.5.1).
    Duplicate,
    /// The range is malformed or too large.
    BadRange,
}

/// Expands a Register PDU's region into subtrees.
pub fn expand(r: &Register) -> Result<Vec<Oid>, RegisterError> {
    if r.subtree.is_empty() {
        return Err(RegisterError::BadRange);
    }
    if r.range_subid == 0 {
        return Ok(vec![r.subtree.clone()]);
    }
    let pos = usize::from(r.range_subid) - 1;
    let arcs = r.subtree.arcs();
    let low = *arcs.get(pos).ok_or(RegisterError::BadRange)?;
    if r.upper_bound < low || r.upper_bound - low >= MAX_RANGE {
        return Err(RegisterError::BadRange);
    }
    let mut v = arcs.to_vec();
    Ok((low..=r.upper_bound)
        .map(|x| {
            v[pos] = x;
            Oid::new(&v)
        })
        .collect())
}

/// Every registration of every session.
#[derive(Debug, Default)]
pub struct RegistrationTable {
    regs: Vec<Registration>,
    order: u64,
    /// Subtrees the master serves itself (a registration of exactly one of them is a
    /// duplicate).
    reserved: Vec<Oid>,
}

impl RegistrationTable {
    /// Sets the master's own subtrees.
    pub fn set_reserved(&mut self, reserved: Vec<Oid>) {
        self.reserved = reserved;
    }

    /// Adds a registration for `session`.
    pub fn register(&mut self, session: u32, r: &Register) -> Result<(), RegisterError> {
        let expanded = expand(r)?;
        for s in &expanded {
            let clash = self.regs.iter().any(|x| {
                x.context == r.context && x.priority == r.priority && x.expanded.contains(s)
            });
            let local = r.context.is_none() && self.reserved.contains(s);
            if clash || local {
                return Err(RegisterError::Duplicate);
            }
        }
        self.order += 1;
        self.regs.push(Registration {
            session,
            context: r.context.clone(),
            subtree: r.subtree.clone(),
            range_subid: r.range_subid,
            upper_bound: r.upper_bound,
            priority: r.priority,
            timeout: r.timeout,
            instance: r.instance,
            expanded,
            order: self.order,
        });
        Ok(())
    }

    /// Removes the registration of `session` matching `r` exactly (§7.1.6); false if none.
    pub fn unregister(&mut self, session: u32, r: &Register) -> bool {
        let found = self.regs.iter().position(|x| {
            x.session == session
                && x.context == r.context
                && x.subtree == r.subtree
                && x.priority == r.priority
                && x.range_subid == r.range_subid
                && (r.range_subid == 0 || x.upper_bound == r.upper_bound)
        });
        match found {
            Some(i) => {
                self.regs.remove(i);
                true
            }
            None => false,
        }
    }

    /// Removes every registration of `session`.
    pub fn remove_session(&mut self, session: u32) {
        self.regs.retain(|r| r.session != session);
    }

    /// All registrations, in registration order.
    pub fn all(&self) -> &[Registration] {
        &self.regs
    }

    /// For each subtree of the default context, the registration serving it: the lowest
    /// priority value, then the earliest (§7.1.5.2). Sorted by subtree.
    pub fn effective(&self) -> Vec<(Oid, &Registration)> {
        self.effective_in(None)
    }

    /// [`RegistrationTable::effective`] for one context (`None`: the default context).
    /// Registrations of different contexts never compete (§7.1.5.1).
    pub fn effective_in(&self, context: Option<&[u8]>) -> Vec<(Oid, &Registration)> {
        let mut best: BTreeMap<&Oid, &Registration> = BTreeMap::new();
        for r in self.regs.iter().filter(|r| r.context.as_deref() == context) {
            for s in &r.expanded {
                let better = match best.get(s) {
                    None => true,
                    Some(b) => (r.priority, r.order) < (b.priority, b.order),
                };
                if better {
                    best.insert(s, r);
                }
            }
        }
        best.into_iter().map(|(o, r)| (o.clone(), r)).collect()
    }

    /// The non-default contexts some registration names, sorted (a context exists while at
    /// least one registration names it).
    pub fn contexts(&self) -> BTreeSet<Vec<u8>> {
        self.regs.iter().filter_map(|r| r.context.clone()).collect()
    }

    /// The timeout in seconds of the registration serving `subtree` in `context` for
    /// `session` (0: none).
    pub fn timeout_for(&self, session: u32, context: Option<&[u8]>, subtree: &Oid) -> u8 {
        self.regs
            .iter()
            .filter(|r| r.session == session && r.context.as_deref() == context)
            .find(|r| r.expanded.contains(subtree))
            .map_or(0, |r| r.timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn reg(subtree: &str, priority: u8) -> Register {
        Register {
            priority,
            ..Register::subtree(oid(subtree))
        }
    }

    #[test]
    fn priorities_and_duplicates() {
        let mut t = RegistrationTable::default();
        t.register(1, &reg("1.3.6.1.4.1.9", 127)).unwrap();
        assert_eq!(
            t.register(2, &reg("1.3.6.1.4.1.9", 127)),
            Err(RegisterError::Duplicate)
        );
        t.register(2, &reg("1.3.6.1.4.1.9", 100)).unwrap();
        let e = t.effective();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].1.session, 2);
        assert!(!t.unregister(2, &reg("1.3.6.1.4.1.9", 127)));
        assert!(t.unregister(2, &reg("1.3.6.1.4.1.9", 100)));
        assert_eq!(t.effective()[0].1.session, 1);
        // A different context does not clash and is not served in the default context.
        let mut c = reg("1.3.6.1.4.1.9", 127);
        c.context = Some(b"other".to_vec());
        t.register(3, &c).unwrap();
        assert_eq!(t.effective().len(), 1);
        let other = t.effective_in(Some(b"other"));
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].1.session, 3);
        assert_eq!(
            t.contexts().into_iter().collect::<Vec<_>>(),
            vec![b"other".to_vec()]
        );
        // The same subtree and priority again in that context is a duplicate there.
        assert_eq!(t.register(4, &c), Err(RegisterError::Duplicate));
        t.remove_session(1);
        assert!(t.effective().is_empty());
    }

    #[test]
    fn ranges_expand_and_clash() {
        let mut t = RegistrationTable::default();
        let mut r = reg("1.3.6.1.2.1.2.2.1.1.5", 127);
        r.range_subid = 10;
        r.upper_bound = 22;
        t.register(1, &r).unwrap();
        assert_eq!(t.effective().len(), 22);
        // One subtree inside the range at the same priority is a duplicate.
        assert_eq!(
            t.register(2, &reg("1.3.6.1.2.1.2.2.1.7.5", 127)),
            Err(RegisterError::Duplicate)
        );
        let mut bad = reg("1.3.6.1.2.1.2.2.1.1.5", 127);
        bad.range_subid = 10;
        bad.upper_bound = 0;
        assert_eq!(t.register(2, &bad), Err(RegisterError::BadRange));
        bad.range_subid = 30;
        assert_eq!(t.register(2, &bad), Err(RegisterError::BadRange));
        t.set_reserved(vec![oid("1.3.6.1.2.1.1")]);
        assert_eq!(
            t.register(2, &reg("1.3.6.1.2.1.1", 1)),
            Err(RegisterError::Duplicate)
        );
    }
}
