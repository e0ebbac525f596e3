//! Shadowed rules: a rule that an earlier rule matches entirely can never decide (first match
//! wins). Seed 001 warns about exactly this mistake; the parser reports it as a warning.

use crate::rule::{PortMatch, Proto, Rule, Window};

/// Lists longer than this are not checked for shadowed rules (the check is quadratic).
pub const SHADOW_CHECK_LIMIT: usize = 2000;

fn ports_cover(outer: Option<PortMatch>, inner: Option<PortMatch>) -> bool {
    let Some(o) = outer else { return true };
    let o = o.ranges(u16::MAX);
    let i = inner
        .map(|m| m.ranges(u16::MAX))
        .unwrap_or_else(|| vec![(0, u16::MAX)]);
    i.iter()
        .all(|(lo, hi)| o.iter().any(|(olo, ohi)| olo <= lo && hi <= ohi))
}

/// Whether `earlier` matches every packet `later` matches (so `later` can never decide).
pub fn covers(earlier: &Rule, later: &Rule) -> bool {
    if earlier.window != Window::Always {
        return false;
    }
    let family_ok = match (earlier.family, later.family) {
        (None, _) => true,
        (Some(a), Some(b)) => {
            a == b && earlier.src.covers(&later.src) && earlier.dst.covers(&later.dst)
        }
        (Some(_), None) => false,
    };
    let proto_ok = match (earlier.proto, later.proto) {
        (Proto::Any, _) => true,
        (a, b) => a == b,
    };
    family_ok
        && proto_ok
        && ports_cover(earlier.sport, later.sport)
        && ports_cover(earlier.dport, later.dport)
        && (!earlier.established || later.established)
}

/// Pairs (later, earlier) of list indices where `earlier` shadows `later` entirely (the first
/// such earlier rule for each shadowed rule).
pub fn shadowed(rules: &[Rule]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (j, later) in rules.iter().enumerate() {
        if let Some(i) = rules.iter().take(j).position(|e| covers(e, later)) {
            out.push((j, i));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Action, PortOp};
    use wire::prefix::{Family, IpPrefix};

    fn tcp(src: IpPrefix, dport: Option<PortMatch>) -> Rule {
        let mut r = Rule::any(1, Action::Permit, Proto::Tcp);
        r.family = Some(Family::V4);
        r.src = src;
        r.dst = IpPrefix::any(Family::V4);
        r.dport = dport;
        r
    }

    #[test]
    fn covering() {
        let any = IpPrefix::any(Family::V4);
        let net = IpPrefix::from_bits(Family::V4, 0x0a00_0000, 8).unwrap_or(any);
        let gt = Some(PortMatch {
            op: PortOp::Gt,
            value: 1023,
        });
        let eq = Some(PortMatch {
            op: PortOp::Eq,
            value: 2049,
        });
        let ne = Some(PortMatch {
            op: PortOp::Ne,
            value: 2049,
        });
        assert!(covers(&tcp(any, gt), &tcp(net, eq)));
        assert!(!covers(&tcp(net, gt), &tcp(any, eq)));
        assert!(!covers(&tcp(any, ne), &tcp(any, eq)));
        assert!(!covers(&tcp(any, eq), &tcp(any, None)));
        let mut timed = tcp(any, None);
        timed.window = Window::Once {
            start: None,
            end: None,
        };
        assert!(!covers(&timed, &tcp(any, eq)));
        assert_eq!(
            shadowed(&[tcp(any, gt), tcp(any, eq), tcp(any, None)]),
            vec![(1, 0)]
        );
    }
}
