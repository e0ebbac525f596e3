//! SHOW INTERFACE /FILTER tables and filter logging (the pure part): which `log` rules have
//! unreported hits, and the NORMAL and COMMA report texts. netcp calls these at each interval
//! with the time and writes the text to OPCOM (its operator log) or a file.

use std::fmt::Write as _;

use crate::classify::Hits;
use crate::rule::{Rule, Window};
use crate::vmstime::LocalTime;

/// The shortest reporting interval (seconds), so a flood of events cannot drag the system down.
pub const MIN_INTERVAL: u32 = 5;
/// The default reporting interval (seconds).
pub const DEFAULT_INTERVAL: u32 = 5;
/// The longest reporting interval (2^31 seconds, seed 001).
pub const MAX_INTERVAL: u64 = 1 << 31;

/// A report format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum LogFormat {
    /// As SHOW INTERFACE /FILTER shows it.
    #[default]
    Normal,
    /// Comma-delimited, first line the field names.
    Comma,
}

/// Where reports go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LogTarget {
    /// The operator log (netcp's log, our OPCOM): NORMAL format only.
    Opcom,
    /// A file, by name.
    File(String),
}

/// A refused logging setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogSettingError {
    /// /INTERVAL outside 5..=2^31.
    #[error("/INTERVAL={0}: expected a number of seconds from 5 to 2147483648")]
    Interval(u64),
    /// /FORMAT=COMMA with /LOG=OPCOM.
    #[error("/FORMAT=COMMA: OPCOM logging uses NORMAL format only; log to a file for COMMA")]
    CommaToOpcom,
}

/// Validated logging settings of one interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LogSettings {
    /// Where.
    pub target: LogTarget,
    /// How.
    pub format: LogFormat,
    /// Every how many seconds.
    pub interval: u64,
}

impl LogSettings {
    /// Checks `/LOG`, `/FORMAT` and `/INTERVAL` (default 5 s when `None`).
    pub fn new(
        target: LogTarget,
        format: LogFormat,
        interval: Option<u64>,
    ) -> Result<LogSettings, LogSettingError> {
        let interval = interval.unwrap_or(u64::from(DEFAULT_INTERVAL));
        if !(u64::from(MIN_INTERVAL)..=MAX_INTERVAL).contains(&interval) {
            return Err(LogSettingError::Interval(interval));
        }
        if target == LogTarget::Opcom && format == LogFormat::Comma {
            return Err(LogSettingError::CommaToOpcom);
        }
        Ok(LogSettings {
            target,
            format,
            interval,
        })
    }
}

/// One `log` rule with hits not yet reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LogEvent {
    /// Index in the list.
    pub rule: usize,
    /// Hits since the last report.
    pub new_hits: u64,
    /// Of those, the events that could not be reported one by one before the next occurred
    /// (every hit after the first in the interval).
    pub missed: u64,
    /// Bytes since the last report.
    pub new_bytes: u64,
    /// Total hits of the rule since the list was loaded.
    pub total_hits: u64,
}

/// What has been reported so far, per rule of one loaded list. Start a new one when the list is
/// replaced (the counters start again at zero).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogState {
    reported: Vec<(u64, u64)>,
}

impl LogState {
    /// A state for a list of `rules` rules.
    pub fn new(rules: usize) -> LogState {
        LogState {
            reported: vec![(0, 0); rules],
        }
    }

    /// The `log` rules with hits since the last call, marking them reported.
    pub fn collect(&mut self, rules: &[Rule], hits: &Hits) -> Vec<LogEvent> {
        if self.reported.len() < rules.len() {
            self.reported.resize(rules.len(), (0, 0));
        }
        let mut out = Vec::new();
        for (i, ((rule, &(p, b)), seen)) in rules
            .iter()
            .zip(hits.rules.iter())
            .zip(self.reported.iter_mut())
            .enumerate()
        {
            if !rule.log || p <= seen.0 {
                continue;
            }
            let new_hits = p - seen.0;
            out.push(LogEvent {
                rule: i,
                new_hits,
                missed: new_hits - 1,
                new_bytes: b.saturating_sub(seen.1),
                total_hits: p,
            });
            *seen = (p, b);
        }
        out
    }
}

fn options(r: &Rule) -> String {
    let mut o = Vec::new();
    if r.established {
        o.push("established".to_string());
    }
    match r.window {
        Window::Always => {}
        Window::Once { start, end } => {
            if let Some(s) = start {
                o.push(format!("start {s}"));
            }
            if let Some(e) = end {
                o.push(format!("end {e}"));
            }
        }
        Window::Daily { start, length, .. } => {
            let s = crate::vmstime::TimeOfDay::from_seconds(i64::from(start));
            let e = crate::vmstime::TimeOfDay::from_seconds(i64::from(start) + i64::from(length));
            o.push(format!("daily {s}-{e}"));
        }
    }
    if r.log {
        o.push("log".into());
    }
    o.join(" ")
}

fn port(p: Option<crate::rule::PortMatch>) -> String {
    p.map(|p| p.to_string()).unwrap_or_default()
}

fn addr(r: &Rule, dst: bool) -> String {
    match (r.family, dst) {
        (None, _) => "any".into(),
        (Some(_), false) => r.src.to_string(),
        (Some(_), true) => r.dst.to_string(),
    }
}

const HEADER: &str = " Line Action Proto Source                    Port      Destination               Port      Options                      Packets        Bytes";

fn row(out: &mut String, r: &Rule, packets: u64, bytes: u64) {
    let _ = writeln!(
        out,
        "{:>5} {:<6} {:<5} {:<25} {:<9} {:<25} {:<9} {:<28} {:>7} {:>12}",
        r.line,
        r.action.as_str(),
        r.proto.to_string(),
        addr(r, false),
        port(r.sport),
        addr(r, true),
        port(r.dport),
        options(r),
        packets,
        bytes
    );
}

/// The SHOW INTERFACE name /FILTER table: every rule with its hits, then the implicit deny and
/// the later fragments passed.
pub fn show_filter(interface: &str, rules: &[Rule], hits: &Hits) -> String {
    let mut out = format!("Filter list for {interface}: {} rules\n", rules.len());
    out.push_str(HEADER);
    out.push('\n');
    for (i, r) in rules.iter().enumerate() {
        let (p, b) = hits.rules.get(i).copied().unwrap_or((0, 0));
        row(&mut out, r, p, b);
    }
    let _ = writeln!(
        out,
        "{:>5} {:<6} {:<5} {:<25} {:<9} {:<25} {:<9} {:<28} {:>7} {:>12}",
        "", "deny", "ip", "(implicit)", "", "", "", "", hits.implicit.0, hits.implicit.1
    );
    let _ = writeln!(
        out,
        "{:>5} {:<6} {:<5} {:<25} {:<9} {:<25} {:<9} {:<28} {:>7} {:>12}",
        "",
        "permit",
        "ip",
        "(later TCP/UDP fragments)",
        "",
        "",
        "",
        "",
        hits.fragments.0,
        hits.fragments.1
    );
    out
}

/// A NORMAL-format report of `events` at `now`: a heading, then the SHOW INTERFACE /FILTER row
/// of each rule with its new hits and missed events. Empty when there is nothing to report.
pub fn format_normal(
    interface: &str,
    rules: &[Rule],
    events: &[LogEvent],
    now: LocalTime,
) -> String {
    if events.is_empty() {
        return String::new();
    }
    let mut out = format!("Filter events on {interface} at {now}:\n{HEADER}\n");
    for e in events {
        if let Some(r) = rules.get(e.rule) {
            row(&mut out, r, e.new_hits, e.new_bytes);
            let _ = writeln!(
                out,
                "      {} missed event(s), {} hit(s) since the list was loaded",
                e.missed, e.total_hits
            );
        }
    }
    out
}

/// The first line of a COMMA-format file: the field names.
pub const COMMA_HEADER: &str = "Time,Interface,Line,Action,Protocol,Source,Source Port,Destination,Destination Port,Options,Hits,Missed,Bytes,Total Hits";

/// Quotes a COMMA field if it holds a comma or a quote.
fn csv(s: &str) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// COMMA-format lines of `events` (one per rule, no header: write [`COMMA_HEADER`] first when
/// the file is created).
pub fn format_comma(
    interface: &str,
    rules: &[Rule],
    events: &[LogEvent],
    now: LocalTime,
) -> String {
    let mut out = String::new();
    for e in events {
        if let Some(r) = rules.get(e.rule) {
            let fields = [
                now.to_string(),
                interface.to_string(),
                r.line.to_string(),
                r.action.to_string(),
                r.proto.to_string(),
                addr(r, false),
                port(r.sport),
                addr(r, true),
                port(r.dport),
                options(r),
                e.new_hits.to_string(),
                e.missed.to_string(),
                e.new_bytes.to_string(),
                e.total_hits.to_string(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv(f)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Action, Proto};

    #[test]
    fn settings() {
        assert!(LogSettings::new(LogTarget::Opcom, LogFormat::Normal, Some(10)).is_ok());
        assert_eq!(
            LogSettings::new(LogTarget::Opcom, LogFormat::Normal, Some(4)),
            Err(LogSettingError::Interval(4))
        );
        assert_eq!(
            LogSettings::new(LogTarget::Opcom, LogFormat::Comma, None),
            Err(LogSettingError::CommaToOpcom)
        );
        let s = LogSettings::new(LogTarget::File("FOO.DAT".into()), LogFormat::Comma, None);
        assert_eq!(s.map(|s| s.interval), Ok(5));
    }

    #[test]
    fn events_and_missed() {
        let mut a = Rule::any(3, Action::Deny, Proto::Tcp);
        a.log = true;
        let b = Rule::any(4, Action::Permit, Proto::Any);
        let rules = vec![a, b];
        let mut st = LogState::new(2);
        let hits = Hits {
            rules: vec![(3, 180), (9, 900)],
            ..Hits::default()
        };
        let ev = st.collect(&rules, &hits);
        assert_eq!(
            ev,
            vec![LogEvent {
                rule: 0,
                new_hits: 3,
                missed: 2,
                new_bytes: 180,
                total_hits: 3
            }]
        );
        assert!(st.collect(&rules, &hits).is_empty());
        let hits2 = Hits {
            rules: vec![(4, 240), (9, 900)],
            ..Hits::default()
        };
        let ev = st.collect(&rules, &hits2);
        assert_eq!(ev[0].missed, 0);
        let now = LocalTime(0);
        let text = format_normal("se0", &rules, &ev, now);
        assert!(text.starts_with("Filter events on se0 at 1-JAN-1970 00:00:00:\n"));
        assert!(text.contains("    3 deny   tcp   any"));
        assert!(text.contains("0 missed event(s), 4 hit(s)"));
        let c = format_comma("se0", &rules, &ev, now);
        assert_eq!(
            c,
            "1-JAN-1970 00:00:00,se0,3,deny,tcp,any,,any,,log,1,0,60,4\n"
        );
        assert_eq!(
            COMMA_HEADER.split(',').count(),
            c.trim_end().split(',').count()
        );
        let show = show_filter("se0", &rules, &hits2);
        assert!(show.contains("(implicit)"));
        assert_eq!(show.lines().count(), 6);
    }
}
