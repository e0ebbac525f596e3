//! Translation of a filter list into nftables JSON (`nft -j -f FILE`), for Linux interfaces that
//! Maynard's own stack does not carry yet.
//!
//! One table per interface, `inet maynard_<iface>`, so removing the list removes exactly that
//! table. Its base chain hooks `prerouting` (what the interface receives, for this host and for
//! forwarding) at priority -300 (after defragmentation at -400, before conntrack at -200) and
//! jumps to chain `rules` for packets of the interface. Chain `rules` holds:
//! 1. a later fragment of TCP or UDP goes to chain `fragments`, which holds the rules that can
//!    match a fragment (protocol `ip` without tests) and then accepts (seed 001);
//! 2. every rule in order with a counter and the comment `maynard rule I line N`;
//! 3. the implicit deny: counter, `reject with icmpx admin-prohibited`.
//!
//! `deny` becomes `reject with icmp type admin-prohibited` (ICMPv6 for IPv6 rules, `icmpx` for
//! rules without addresses), `drop` becomes `drop`, `established` tests `tcp flags & (ack|rst)`,
//! time windows become `meta time` (one-shot) and `meta hour` ranges (daily, midnight-crossing
//! ranges allowed); times are written as local time, which nft reads in the host's time zone.

use serde_json::{json, Value};

use wire::prefix::Family;

use crate::rule::{Action, PortOp, Proto, Rule, Window};
use crate::vmstime::{LocalTime, TimeOfDay};

/// The nft table name of an interface: `maynard_` and the name with anything but letters,
/// digits and `_` replaced by `_`.
pub fn table_name(interface: &str) -> String {
    let clean: String = interface
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("maynard_{clean}")
}

fn table(interface: &str) -> Value {
    json!({"family": "inet", "name": table_name(interface)})
}

/// The JSON that removes exactly Maynard's table of `interface`.
pub fn remove_json(interface: &str) -> Value {
    json!({"nftables": [{"delete": {"table": table(interface)}}]})
}

fn m(op: &str, left: Value, right: Value) -> Value {
    json!({"match": {"op": op, "left": left, "right": right}})
}

fn payload(protocol: &str, field: &str) -> Value {
    json!({"payload": {"protocol": protocol, "field": field}})
}

fn op_str(op: PortOp) -> &'static str {
    match op {
        PortOp::Lt => "<",
        PortOp::Le => "<=",
        PortOp::Eq => "==",
        PortOp::Ge => ">=",
        PortOp::Gt => ">",
        PortOp::Ne => "!=",
    }
}

fn time_str(t: LocalTime) -> String {
    let d = t.date();
    let tod = t.time_of_day();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.year, d.month, d.day, tod.hour, tod.minute, tod.second
    )
}

fn hour_str(seconds: i64) -> String {
    let t = TimeOfDay::from_seconds(seconds);
    format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)
}

fn window_exprs(w: &Window) -> Vec<Value> {
    let time = json!({"meta": {"key": "time"}});
    let mut out = Vec::new();
    match *w {
        Window::Always => {}
        Window::Once { start, end } => {
            if let Some(s) = start {
                out.push(m(">=", time.clone(), json!(time_str(s))));
            }
            if let Some(e) = end {
                out.push(m("<", time.clone(), json!(time_str(e))));
            }
        }
        Window::Daily {
            start,
            length,
            not_before,
            not_after,
        } => {
            if let Some(s) = not_before {
                out.push(m(">=", time.clone(), json!(time_str(s))));
            }
            if let Some(e) = not_after {
                out.push(m("<", time.clone(), json!(time_str(e))));
            }
            if length < 86_400 {
                // nft ranges are inclusive and our end is exclusive. A window crossing midnight
                // is written as the complement of the closed period, which is exact to the
                // second (nft's own inversion of a crossing range loses both end seconds).
                let hour = json!({"meta": {"key": "hour"}});
                let s = i64::from(start);
                let end = s + i64::from(length);
                if end <= 86_400 {
                    out.push(m(
                        "==",
                        hour,
                        json!({"range": [hour_str(s), hour_str(end - 1)]}),
                    ));
                } else {
                    out.push(m(
                        "!=",
                        hour,
                        json!({"range": [hour_str(end), hour_str(s - 1)]}),
                    ));
                }
            }
        }
    }
    out
}

/// The match expressions of a rule (without counter and verdict).
fn rule_exprs(r: &Rule) -> Vec<Value> {
    let mut e = Vec::new();
    let ip = match r.family {
        Some(Family::V4) => {
            e.push(m("==", json!({"meta": {"key": "nfproto"}}), json!("ipv4")));
            Some("ip")
        }
        Some(Family::V6) => {
            e.push(m("==", json!({"meta": {"key": "nfproto"}}), json!("ipv6")));
            Some("ip6")
        }
        None => None,
    };
    let l4 = json!({"meta": {"key": "l4proto"}});
    match (r.proto, r.family) {
        (Proto::Any, _) => {}
        (Proto::Icmp, None) => e.push(m("==", l4, json!({"set": [1, 58]}))),
        (p, f) => {
            if let Some(n) = p.number(f.unwrap_or(Family::V4)) {
                e.push(m("==", l4, json!(n)));
            }
        }
    }
    if let Some(ip) = ip {
        for (prefix, field) in [(r.src, "saddr"), (r.dst, "daddr")] {
            if !prefix.is_empty() {
                let addr = prefix.addr().to_string();
                e.push(m(
                    "==",
                    payload(ip, field),
                    json!({"prefix": {"addr": addr, "len": prefix.len()}}),
                ));
            }
        }
    }
    let transport = match r.proto {
        Proto::Tcp => Some("tcp"),
        Proto::Udp => Some("udp"),
        Proto::Icmp if r.family == Some(Family::V6) => Some("icmpv6"),
        Proto::Icmp => Some("icmp"),
        _ => None,
    };
    if let Some(t) = transport {
        if let Some(p) = r.sport {
            e.push(m(op_str(p.op), payload(t, "sport"), json!(p.value)));
        }
        if let Some(p) = r.dport {
            let field = if r.proto == Proto::Icmp {
                "type"
            } else {
                "dport"
            };
            e.push(m(op_str(p.op), payload(t, field), json!(p.value)));
        }
    }
    if r.established {
        e.push(m(
            "!=",
            json!({"&": [payload("tcp", "flags"), {"|": ["ack", "rst"]}]}),
            json!(0),
        ));
    }
    e.extend(window_exprs(&r.window));
    e
}

fn verdict(r: &Rule) -> Value {
    match (r.action, r.family) {
        (Action::Permit, _) => json!({"accept": null}),
        (Action::Drop, _) => json!({"drop": null}),
        (Action::Deny, Some(Family::V4)) => {
            json!({"reject": {"type": "icmp", "expr": "admin-prohibited"}})
        }
        (Action::Deny, Some(Family::V6)) => {
            json!({"reject": {"type": "icmpv6", "expr": "admin-prohibited"}})
        }
        (Action::Deny, None) => json!({"reject": {"type": "icmpx", "expr": "admin-prohibited"}}),
    }
}

fn counter() -> Value {
    json!({"counter": {"packets": 0, "bytes": 0}})
}

/// The comment that ties an nft rule to list index `i` (read back by [`read_counters`]).
fn comment(i: usize, r: &Rule) -> String {
    format!("maynard rule {i} line {}", r.line)
}

/// The nftables JSON that puts `rules` on `interface`, replacing Maynard's previous table for it
/// in one transaction (add, delete, add: the table need not exist, and packets see the old or
/// the new list).
pub fn to_json(interface: &str, rules: &[Rule]) -> Value {
    let tname = table_name(interface);
    let mut cmds = vec![
        json!({"metainfo": {"json_schema_version": 1}}),
        json!({"add": {"table": table(interface)}}),
        json!({"delete": {"table": table(interface)}}),
        json!({"add": {"table": table(interface)}}),
        json!({"add": {"chain": {
            "family": "inet", "table": tname, "name": "prerouting",
            "type": "filter", "hook": "prerouting", "prio": -300, "policy": "accept"
        }}}),
        json!({"add": {"chain": {"family": "inet", "table": tname, "name": "rules"}}}),
        json!({"add": {"chain": {"family": "inet", "table": tname, "name": "fragments"}}}),
    ];
    let rule = |chain: &str, expr: Vec<Value>, comment: Option<String>| -> Value {
        let mut r = json!({"family": "inet", "table": tname, "chain": chain, "expr": expr});
        if let (Some(c), Some(obj)) = (comment, r.as_object_mut()) {
            obj.insert("comment".into(), json!(c));
        }
        json!({"add": {"rule": r}})
    };
    cmds.push(rule(
        "prerouting",
        vec![
            m("==", json!({"meta": {"key": "iifname"}}), json!(interface)),
            json!({"jump": {"target": "rules"}}),
        ],
        None,
    ));
    let l4_ports = || {
        m(
            "==",
            json!({"meta": {"key": "l4proto"}}),
            json!({"set": [6, 17]}),
        )
    };
    cmds.push(rule(
        "rules",
        vec![
            m(
                "!=",
                json!({"&": [payload("ip", "frag-off"), 0x1fff]}),
                json!(0),
            ),
            l4_ports(),
            json!({"goto": {"target": "fragments"}}),
        ],
        None,
    ));
    cmds.push(rule(
        "rules",
        vec![
            m(
                "!=",
                json!({"exthdr": {"name": "frag", "field": "frag-off"}}),
                json!(0),
            ),
            l4_ports(),
            json!({"goto": {"target": "fragments"}}),
        ],
        None,
    ));
    for (i, r) in rules.iter().enumerate() {
        let mut expr = rule_exprs(r);
        expr.push(counter());
        expr.push(verdict(r));
        if r.proto == Proto::Any {
            cmds.push(rule("fragments", expr.clone(), Some(comment(i, r))));
        }
        cmds.push(rule("rules", expr, Some(comment(i, r))));
    }
    cmds.push(rule(
        "fragments",
        vec![counter(), json!({"accept": null})],
        Some("maynard later fragments".into()),
    ));
    cmds.push(rule(
        "rules",
        vec![
            counter(),
            json!({"reject": {"type": "icmpx", "expr": "admin-prohibited"}}),
        ],
        Some("maynard implicit deny".into()),
    ));
    json!({ "nftables": cmds })
}

/// Reads the per-rule counters back from `nft -j list table inet maynard_<iface>` output:
/// (packets, bytes) per list index (summing a rule's copies in `rules` and `fragments`), then the
/// implicit deny and the later-fragment pass. Rules not found count zero.
pub fn read_counters(
    listing: &str,
    rules: usize,
) -> Result<crate::classify::Hits, serde_json::Error> {
    let v: Value = serde_json::from_str(listing)?;
    let mut hits = crate::classify::Hits {
        rules: vec![(0, 0); rules],
        ..Default::default()
    };
    let items = v
        .get("nftables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for item in items {
        let Some(r) = item.get("rule") else { continue };
        let comment = r.get("comment").and_then(Value::as_str).unwrap_or("");
        let mut counted = (0u64, 0u64);
        for e in r
            .get("expr")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let Some(c) = e.get("counter") {
                counted.0 += c.get("packets").and_then(Value::as_u64).unwrap_or(0);
                counted.1 += c.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            }
        }
        let slot = if comment == "maynard implicit deny" {
            Some(&mut hits.implicit)
        } else if comment == "maynard later fragments" {
            Some(&mut hits.fragments)
        } else {
            comment
                .strip_prefix("maynard rule ")
                .and_then(|s| s.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|i| hits.rules.get_mut(i))
        };
        if let Some(s) = slot {
            s.0 += counted.0;
            s.1 += counted.1;
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use servicedb::ServiceDb;

    fn rules(text: &str) -> Vec<Rule> {
        let now = LocalTime(1_800_000_000);
        parse(text, "t", &ServiceDb::default(), now)
            .map(|l| l.rules)
            .unwrap_or_default()
    }

    #[test]
    fn shape() {
        let r = rules(
            "deny tcp 10.0.0.0/8 gt 1023 192.168.1.1/32 eq 25 established\n\
             drop icmp 2001:db8::/32 ::/0 eq echo\n\
             permit ip 0/0 0/0 start 23:00 end 01:00 repeat\n\
             permit udp\n",
        );
        assert_eq!(r.len(), 4);
        let v = to_json("se0", &r);
        let cmds = v["nftables"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            cmds[1],
            json!({"add": {"table": {"family": "inet", "name": "maynard_se0"}}})
        );
        let rule0 = cmds
            .iter()
            .find(|c| c["add"]["rule"]["comment"] == "maynard rule 0 line 1")
            .cloned()
            .unwrap_or_default();
        let e = &rule0["add"]["rule"]["expr"];
        assert_eq!(e[0]["match"]["right"], "ipv4");
        assert_eq!(e[1]["match"]["right"], 6);
        assert_eq!(
            e[2]["match"]["right"]["prefix"],
            json!({"addr": "10.0.0.0", "len": 8})
        );
        assert_eq!(e[4]["match"]["op"], ">");
        assert_eq!(e[5]["match"]["left"]["payload"]["field"], "dport");
        assert_eq!(e[6]["match"]["op"], "!=");
        assert_eq!(
            e[8],
            json!({"reject": {"type": "icmp", "expr": "admin-prohibited"}})
        );
        let rule1 = cmds
            .iter()
            .find(|c| c["add"]["rule"]["comment"] == "maynard rule 1 line 2")
            .cloned()
            .unwrap_or_default();
        let e = rule1["add"]["rule"]["expr"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(e.contains(&m("==", payload("icmpv6", "type"), json!(128))));
        assert_eq!(e.last(), Some(&json!({"drop": null})));
        let text = v.to_string();
        assert!(text.contains(r#""op":"!=","right":{"range":["01:00:00","22:59:59"]}"#));
        assert!(text.contains(r#""comment":"maynard implicit deny""#));
        // `permit ip` rules are also in the fragments chain.
        assert_eq!(text.matches("maynard rule 2 line 3").count(), 2);
        assert_eq!(
            remove_json("se0"),
            json!({"nftables": [{"delete": {"table": {"family": "inet", "name": "maynard_se0"}}}]})
        );
    }

    #[test]
    fn counters_read_back() {
        let listing = r#"{"nftables":[{"metainfo":{}},
          {"rule":{"chain":"rules","comment":"maynard rule 1 line 4","expr":[{"counter":{"packets":3,"bytes":180}},{"accept":null}]}},
          {"rule":{"chain":"fragments","comment":"maynard rule 1 line 4","expr":[{"counter":{"packets":1,"bytes":60}},{"accept":null}]}},
          {"rule":{"chain":"rules","comment":"maynard implicit deny","expr":[{"counter":{"packets":7,"bytes":9}}]}}]}"#;
        let h = read_counters(listing, 2);
        assert_eq!(
            h.as_ref().map(|h| h.rules.clone()).ok(),
            Some(vec![(0, 0), (4, 240)])
        );
        assert_eq!(h.map(|h| h.implicit).ok(), Some((7, 9)));
    }
}
