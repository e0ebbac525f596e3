//! Outgoing access restrictions (seed 000): `outgoing.toml`'s rules become an nftables table of
//! the host (`inet maynard_outgoing`) whose output chain judges the first segment (SYN) of every
//! outgoing TCP connection by its remote address and port and the local user or group that
//! owns the socket. A denied connection is answered with a reset, so the program sees
//! "connection refused" at once. ADD ACCESS and REMOVE ACCESS change the rules live and save
//! them; SHOW ACCESS reads each rule's hits back.

use std::fmt::Write as _;
use std::path::Path;

use control::config::outgoing::{
    render_outgoing, OutgoingAction, OutgoingConfig, OutgoingRule, OUTGOING_FILE,
};

use crate::filters::{nft, nft_delete_table, nft_replace_table};
use crate::sockets;

/// The restrictions in force.
#[derive(Default)]
pub struct Outgoing {
    /// The rules applied and the table they are in (`None`: none).
    current: Option<OutgoingConfig>,
}

/// A user or group as a numeric id: numbers as they are, names through the passwd or group
/// database.
fn id_of(name: &str, group: bool) -> Result<u32, String> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    let found = if group {
        sockets::lookup_group(name).map_err(|e| e.to_string())?
    } else {
        sockets::lookup_user(name)
            .map_err(|e| e.to_string())?
            .map(|a| a.uid)
    };
    found.ok_or_else(|| {
        format!(
            "{} `{name}` is not in the {} database",
            if group { "group" } else { "user" },
            if group { "group" } else { "passwd" }
        )
    })
}

/// The nftables rules of Maynard rule `index`: one per kind of owner it names (nftables cannot
/// say "user or group" in one rule), each counting under the same comment; the first starts
/// from `carried` (packets, bytes), the counts the rule had before the table was replaced.
fn nft_rules(
    index: usize,
    rule: &OutgoingRule,
    carried: (u64, u64),
) -> Result<Vec<String>, String> {
    let mut base = String::from("meta l4proto tcp tcp flags & (syn | ack) == syn ");
    let prefix = rule.destination;
    if !prefix.is_empty() {
        let family = if prefix.addr().is_ipv4() { "ip" } else { "ip6" };
        let _ = write!(base, "{family} daddr {prefix} ");
    }
    match rule.port_range()? {
        Some((lo, hi)) if lo == hi => {
            let _ = write!(base, "tcp dport {lo} ");
        }
        Some((lo, hi)) => {
            let _ = write!(base, "tcp dport {lo}-{hi} ");
        }
        None => {}
    }
    let verdict = match rule.action {
        OutgoingAction::Permit => "accept",
        OutgoingAction::Deny => "reject with tcp reset",
    };
    let tail = |(packets, bytes): (u64, u64)| {
        format!(
            "counter packets {packets} bytes {bytes} {verdict} comment \"maynard rule {index}\""
        )
    };
    let mut owners = Vec::new();
    for (names, key, group) in [(&rule.users, "skuid", false), (&rule.groups, "skgid", true)] {
        if names.is_empty() {
            continue;
        }
        let ids = names
            .iter()
            .map(|n| id_of(n, group).map(|id| id.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        owners.push(format!("meta {key} {{ {} }} ", ids.join(", ")));
    }
    if owners.is_empty() {
        owners.push(String::new());
    }
    Ok(owners
        .into_iter()
        .enumerate()
        .map(|(i, owner)| {
            let start = if i == 0 { carried } else { (0, 0) };
            format!("{base}{owner}{}", tail(start))
        })
        .collect())
}

/// The whole table's definition; `carried` gives each rule's counts so far.
fn script(config: &OutgoingConfig, carried: &[(u64, u64)]) -> Result<String, String> {
    let table = &config.nft_table;
    let mut s = format!(
        "table inet {table} {{\n  chain output {{\n    type filter hook output priority filter; policy accept;\n"
    );
    for (i, r) in config.rules.iter().enumerate() {
        let start = carried.get(i).copied().unwrap_or_default();
        for line in nft_rules(i, r, start).map_err(|e| format!("rule {}: {e}", i + 1))? {
            let _ = writeln!(s, "    {line}");
        }
    }
    s.push_str("  }\n}\n");
    Ok(s)
}

impl Outgoing {
    /// Puts `config` in force (`None`: removes the restrictions). On failure the previous
    /// rules stay.
    pub async fn apply(&mut self, config: Option<OutgoingConfig>) -> Result<(), String> {
        match config {
            Some(c) => {
                let carried = self.carried_counts(&c).await;
                let text = script(&c, &carried)?;
                nft_replace_table(&c.nft_table, text).await?;
                if let Some(old) = &self.current {
                    if old.nft_table != c.nft_table {
                        let _ = nft_delete_table(&old.nft_table).await;
                    }
                }
                self.current = Some(c);
            }
            None => {
                if let Some(old) = self.current.take() {
                    nft_delete_table(&old.nft_table).await?;
                }
            }
        }
        Ok(())
    }

    /// The counts of the rules in force, for the same rules in `next` (a rule of `next` that
    /// was not in force starts at zero), so that ADD and REMOVE keep SHOW ACCESS's figures.
    async fn carried_counts(&self, next: &OutgoingConfig) -> Vec<(u64, u64)> {
        let Some(old) = &self.current else {
            return Vec::new();
        };
        let Ok(counts) = self.counts(old).await else {
            return Vec::new();
        };
        let mut used = vec![false; old.rules.len()];
        next.rules
            .iter()
            .map(|r| {
                let found = (0..old.rules.len()).find(|&i| !used[i] && old.rules[i] == *r);
                found.map_or((0, 0), |i| {
                    used[i] = true;
                    counts.get(i).copied().unwrap_or_default()
                })
            })
            .collect()
    }

    /// Each rule's (packets, bytes) from the table in force.
    async fn counts(&self, c: &OutgoingConfig) -> Result<Vec<(u64, u64)>, String> {
        let listing = nft(&["-j", "list", "table", "inet", &c.nft_table], None).await?;
        filter::nft::read_counters(&listing, c.rules.len())
            .map(|h| h.rules)
            .map_err(|e| e.to_string())
    }

    /// ADD ACCESS: inserts `rule` before the rule numbered `position` (1-based; at the end
    /// when `None`), applies and saves.
    pub async fn add(
        &mut self,
        dir: Option<&Path>,
        rule: OutgoingRule,
        position: Option<usize>,
    ) -> Result<String, String> {
        if let Some(problem) = rule.check().into_iter().next() {
            return Err(problem);
        }
        let mut next = self.current.clone().unwrap_or_default();
        let at = match position {
            None => next.rules.len(),
            Some(p) if (1..=next.rules.len() + 1).contains(&p) => p - 1,
            Some(p) => {
                return Err(format!(
                    "/POSITION={p}: 1 to {} expected",
                    next.rules.len() + 1
                ))
            }
        };
        next.rules.insert(at, rule);
        self.commit(dir, next, format!("rule {} added", at + 1))
            .await
    }

    /// REMOVE ACCESS n: removes the rule numbered `number`, applies and saves.
    pub async fn remove(&mut self, dir: Option<&Path>, number: usize) -> Result<String, String> {
        let mut next = self.current.clone().unwrap_or_default();
        if number == 0 || number > next.rules.len() {
            return Err(match next.rules.len() {
                0 => "there are no outgoing access rules".into(),
                n => format!("rule {number}: 1 to {n} expected"),
            });
        }
        next.rules.remove(number - 1);
        self.commit(dir, next, format!("rule {number} removed"))
            .await
    }

    async fn commit(
        &mut self,
        dir: Option<&Path>,
        next: OutgoingConfig,
        done: String,
    ) -> Result<String, String> {
        self.apply(Some(next.clone())).await?;
        let Some(dir) = dir else {
            return Ok(format!(
                "{done}; in force, not saved (netcp runs the embedded configuration)"
            ));
        };
        let path = dir.join(OUTGOING_FILE);
        control::config::write_atomically(&path, render_outgoing(&next).as_bytes()).map_err(
            |e| {
                format!(
                    "{done} and in force, but {} was not written: {e}",
                    path.display()
                )
            },
        )?;
        Ok(format!("{done}; in force and saved in {}", path.display()))
    }

    /// SHOW ACCESS: the rules in order with the connections each has judged.
    pub async fn show(&self) -> String {
        let Some(c) = &self.current else {
            return "No outgoing access restrictions (no outgoing.toml): every connection is permitted\n".into();
        };
        let hits = self.counts(c).await;
        let mut out = format!(
            "Outgoing access restrictions (nftables table inet {}); no match permits\n\n",
            c.nft_table
        );
        let _ = writeln!(
            out,
            "  {:>3}  {:<6} {:<24} {:<12} {:<24} {:>10}",
            "#", "action", "destination", "ports", "who", "connections"
        );
        for (i, r) in c.rules.iter().enumerate() {
            let mut who: Vec<String> = r.users.iter().map(|u| format!("user {u}")).collect();
            who.extend(r.groups.iter().map(|g| format!("group {g}")));
            let count = match &hits {
                Ok(h) => h.get(i).map_or("-".into(), |(p, _)| p.to_string()),
                Err(_) => "-".into(),
            };
            let _ = writeln!(
                out,
                "  {:>3}  {:<6} {:<24} {:<12} {:<24} {:>10}",
                i + 1,
                match r.action {
                    OutgoingAction::Permit => "permit",
                    OutgoingAction::Deny => "deny",
                },
                r.destination.to_string(),
                r.ports.as_deref().unwrap_or("any"),
                if who.is_empty() {
                    "everyone".into()
                } else {
                    who.join(", ")
                },
                count
            );
        }
        if let Err(e) = hits {
            let _ = writeln!(out, "\n(counters unavailable: {e})");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: OutgoingAction, destination: &str, ports: Option<&str>) -> OutgoingRule {
        OutgoingRule {
            action,
            destination: destination.parse().unwrap(),
            ports: ports.map(str::to_string),
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    #[test]
    fn rules_become_nftables_rules() {
        let r = rule(OutgoingAction::Deny, "10.0.0.0/8", Some("25"));
        assert_eq!(
            nft_rules(0, &r, (5, 300)).unwrap(),
            ["meta l4proto tcp tcp flags & (syn | ack) == syn ip daddr 10.0.0.0/8 tcp dport 25 counter packets 5 bytes 300 reject with tcp reset comment \"maynard rule 0\""]
        );
        let mut r = rule(OutgoingAction::Permit, "0/0", Some("6000-6063"));
        r.users = vec!["0".into(), "root".into()];
        r.groups = vec!["0".into()];
        let lines = nft_rules(3, &r, (0, 0)).unwrap();
        assert_eq!(lines.len(), 2, "one per kind of owner");
        assert!(
            lines[0].contains(
                "tcp dport 6000-6063 meta skuid { 0, 0 } counter packets 0 bytes 0 accept"
            ),
            "{lines:?}"
        );
        assert!(lines[1].contains(
            "meta skgid { 0 } counter packets 0 bytes 0 accept comment \"maynard rule 3\""
        ));
        assert!(
            !lines[0].contains("daddr"),
            "0/0 is every address of both families"
        );
        let r = rule(OutgoingAction::Deny, "2001:db8::/32", None);
        assert!(nft_rules(0, &r, (0, 0)).unwrap()[0].contains("ip6 daddr 2001:db8::/32 counter"));
        let mut r = rule(OutgoingAction::Deny, "0/0", None);
        r.users = vec!["no-such-user-here".into()];
        assert!(nft_rules(0, &r, (0, 0))
            .unwrap_err()
            .contains("not in the passwd database"));
    }
}
