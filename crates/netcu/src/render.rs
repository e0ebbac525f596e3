//! Turning netcp's answers into the tables an administrator reads.

use std::fmt::Write;

use control::protocol::{
    format_centi, ConnectionInfo, ServiceCounters, ServiceStatus, VersionInfo,
};

/// A plain text table: a header, a rule of dashes, and left-aligned columns (numbers right).
pub struct Table {
    header: Vec<&'static str>,
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns; `numeric` columns are right-aligned.
    pub fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            header: columns.iter().map(|c| c.0).collect(),
            numeric: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rendered text, ending with a newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                if i > 0 {
                    s.push_str("  ");
                }
                if self.numeric.get(i).copied().unwrap_or(false) {
                    let _ = write!(s, "{c:>w$}");
                } else {
                    let _ = write!(s, "{c:<w$}");
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(
            &self
                .header
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>(),
            &mut out,
        );
        line(
            &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
            &mut out,
        );
        for r in &self.rows {
            line(r, &mut out);
        }
        out
    }
}

fn ports(s: &ServiceStatus) -> (String, String) {
    let protos: Vec<String> = s.endpoints.iter().map(|e| e.protocol.to_string()).collect();
    let mut ports: Vec<String> = Vec::new();
    for b in &s.bound {
        let p = b.addr.port().to_string();
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    if ports.is_empty() {
        for e in &s.endpoints {
            let p = e.port.to_string();
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
    }
    (protos.join(","), ports.join(","))
}

fn access_summary(s: &ServiceStatus) -> String {
    match s.access.len() {
        0 => format!("{} all", s.access_default),
        n => format!("{n} rules, else {}", s.access_default),
    }
}

/// SHOW SERVICES.
pub fn services(list: &[ServiceStatus]) -> String {
    let mut t = Table::new(&[
        ("Service", false),
        ("State", false),
        ("Proto", false),
        ("Port", false),
        ("Server", false),
        ("Conns", true),
        ("Limit", true),
        ("Access", false),
    ]);
    for s in list {
        let (protos, ports) = ports(s);
        t.row(vec![
            s.name.clone(),
            s.state.to_string(),
            protos,
            ports,
            s.server.clone(),
            s.active.to_string(),
            s.max_connections.to_string(),
            access_summary(s),
        ]);
    }
    let mut out = t.render();
    for s in list.iter().filter(|s| s.failure.is_some()) {
        let _ = writeln!(out, "%{}: {}", s.name, s.failure.as_deref().unwrap_or(""));
    }
    out
}

fn limit(n: u32, unit: &str) -> String {
    if n == 0 {
        "no limit".into()
    } else {
        format!("{n} {unit}")
    }
}

/// SHOW SERVICES /FULL.
pub fn services_full(list: &[ServiceStatus]) -> String {
    let mut out = String::new();
    for s in list {
        let _ = writeln!(out, "Service {}: {}", s.name, s.state);
        let _ = writeln!(out, "  Server:         {}", s.server);
        if !s.arguments.is_empty() {
            let _ = writeln!(out, "  Arguments:      {}", s.arguments.join(" "));
        }
        if let Some(u) = &s.user {
            let _ = writeln!(out, "  User:           {u}");
        }
        let eps: Vec<String> = s
            .endpoints
            .iter()
            .map(|e| {
                format!(
                    "{}/{} (tos {}, weight {})",
                    e.port,
                    e.protocol,
                    e.tos.map_or("default".to_string(), |t| t.to_string()),
                    e.weight
                )
            })
            .collect();
        let _ = writeln!(out, "  Database:       {}", eps.join(", "));
        let bound: Vec<String> = s
            .bound
            .iter()
            .map(|b| format!("{} {}", b.protocol, b.addr))
            .collect();
        let _ = writeln!(
            out,
            "  Listening:      {}",
            if bound.is_empty() {
                "-".to_string()
            } else {
                bound.join(", ")
            }
        );
        if let Some(f) = &s.failure {
            let _ = writeln!(out, "  Failure:        {f}");
        }
        let _ = writeln!(
            out,
            "  Limits:         {} per service, {} per source, {}",
            s.max_connections,
            limit(s.max_per_source, "connections"),
            if s.rate_per_source == 0 {
                "no rate limit".to_string()
            } else {
                format!("{}/s per source", s.rate_per_source)
            }
        );
        if s.access.is_empty() {
            let _ = writeln!(out, "  Access:         {} every source", s.access_default);
        } else {
            for (i, r) in s.access.iter().enumerate() {
                let label = if i == 0 { "Access:" } else { "" };
                let _ = writeln!(out, "  {label:<15} {:>2}. {r}", i + 1);
            }
            let _ = writeln!(out, "  {:<15}     else {}", "", s.access_default);
        }
        let _ = writeln!(out, "  Open:           {} connections", s.active);
        out.push('\n');
    }
    out
}

fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// SHOW CONNECTIONS.
pub fn connections(list: &[ConnectionInfo]) -> String {
    if list.is_empty() {
        return "No open connections.\n".into();
    }
    let mut t = Table::new(&[
        ("Id", true),
        ("Service", false),
        ("Proto", false),
        ("Local", false),
        ("Remote", false),
        ("Age", true),
        ("Bytes in", true),
        ("Bytes out", true),
        ("Pid", true),
    ]);
    for c in list {
        t.row(vec![
            c.id.to_string(),
            c.service.clone(),
            c.protocol.to_string(),
            c.local.to_string(),
            c.peer.to_string(),
            age(c.age_seconds),
            c.bytes_in.to_string(),
            c.bytes_out.to_string(),
            c.pid.map_or("-".into(), |p| p.to_string()),
        ]);
    }
    t.render()
}

/// SHOW COUNTERS.
pub fn counters(list: &[ServiceCounters]) -> String {
    let mut t = Table::new(&[
        ("Service", false),
        ("Accepted", true),
        ("Refused", true),
        ("Open", true),
        ("Msgs in", true),
        ("Msgs out", true),
        ("Bytes in", true),
        ("Bytes out", true),
    ]);
    for s in list {
        let c = &s.counters;
        t.row(vec![
            s.service.clone(),
            c.accepted.to_string(),
            c.refused.to_string(),
            c.active.to_string(),
            format_centi(c.msgs_in_centi),
            format_centi(c.msgs_out_centi),
            c.bytes_in.to_string(),
            c.bytes_out.to_string(),
        ]);
    }
    t.render()
}

/// SHOW VERSION's netcp line.
pub fn version(v: &VersionInfo) -> String {
    format!(
        "netcp {} (protocol {}), pid {}, up {}, configuration {}\n",
        v.version,
        v.protocol,
        v.pid,
        age(v.uptime_seconds),
        v.config
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&[("Name", false), ("N", true)]);
        t.row(vec!["echo".into(), "7".into()]);
        t.row(vec!["chargen".into(), "19".into()]);
        assert_eq!(
            t.render(),
            "Name      N\n-------  --\necho      7\nchargen  19\n"
        );
    }
}
