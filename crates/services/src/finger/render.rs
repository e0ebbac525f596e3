//! Finger's output: the user list, the long per-user format, and the cleaning of every piece of
//! text that came from a file or another host.
//!
//! Everything that is not our own literal text passes through [`clean_line`] or [`clean_text`]
//! here, in one place, so a user cannot put terminal escape sequences in a GECOS field, a
//! `.plan` or a host name and have them run on the fingering user's terminal.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::clock;

/// One login session, raw (uncleaned) text as read from utmp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The terminal, e.g. `pts/0`.
    pub tty: String,
    /// The remote host; empty for a local login.
    pub host: String,
    /// When the session began.
    pub since: SystemTime,
    /// How long the terminal has been idle, if known.
    pub idle: Option<Duration>,
}

/// What to say about a user's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanView {
    /// Nothing: the query did not ask for the verbose answer.
    Hidden,
    /// `No Plan.`: asked for, but there is none we may show.
    Missing,
    /// The plan's text, raw.
    Text(String),
}

/// Everything the long format shows about one user, raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserReport {
    /// Login name.
    pub login: String,
    /// Real name.
    pub name: String,
    /// Home directory, for display.
    pub home: String,
    /// Login shell.
    pub shell: String,
    /// Current sessions.
    pub sessions: Vec<Session>,
    /// The plan section.
    pub plan: PlanView,
}

/// One row of the user list, raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// Login name.
    pub login: String,
    /// Real name.
    pub name: String,
    /// The session.
    pub session: Session,
}

/// Appends `c` to `out`, escaped if it is a control character: C0 as `^X`, DEL as `^?`, C1 as
/// `M-^X` (the notation of BSD `vis` and `cat -v`).
fn push_clean(out: &mut String, c: char) {
    let code = u32::from(c);
    let caret = |out: &mut String, low: u32| {
        out.push('^');
        out.push(char::from_u32(low + 0x40).unwrap_or('?'));
    };
    match code {
        0x7f => out.push_str("^?"),
        0..=0x1f => caret(out, code),
        0x80..=0x9f => {
            out.push_str("M-");
            caret(out, code - 0x80);
        }
        _ => out.push(c),
    }
}

/// `s` with every control character escaped (tabs and line breaks too): for one-line fields.
pub fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_clean(&mut out, c);
    }
    out
}

/// Multi-line text with CRLF line ends and every control character but tab escaped.
/// A final line without a newline gets one; empty text stays empty.
pub fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 32);
    let body = s.strip_suffix('\n').unwrap_or(s);
    if s.is_empty() {
        return out;
    }
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        for c in line.chars() {
            if c == '\t' {
                out.push(c);
            } else {
                push_clean(&mut out, c);
            }
        }
        out.push_str("\r\n");
    }
    out
}

/// `s` cut to `width` characters and padded with spaces to exactly `width`.
fn fit(s: &str, width: usize) -> String {
    let mut out: String = s.chars().take(width).collect();
    let len = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width - len));
    out
}

/// Two labelled fields on one line, the second starting at column 40 (or 3 spaces after a long
/// first field).
fn two_columns(left: &str, right: &str) -> String {
    let len = left.chars().count();
    let pad = if len < 37 { 40 - len } else { 3 };
    format!("{left}{}{right}\r\n", " ".repeat(pad))
}

/// Idle time as the user list shows it: blank under a minute, then `m`, `h:mm`, `Nd`.
pub fn idle_short(idle: Option<Duration>) -> String {
    let Some(d) = idle else {
        return String::new();
    };
    let mins = d.as_secs() / 60;
    match mins {
        0 => String::new(),
        1..=59 => mins.to_string(),
        60..=1439 => format!("{}:{:02}", mins / 60, mins % 60),
        _ => format!("{}d", mins / 1440),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Idle time in words for the long format (`1 hour 5 minutes idle`); `None` under a minute.
pub fn idle_long(d: Duration) -> Option<String> {
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let text = if days > 0 {
        format!("{} {}", plural(days, "day"), plural(hours, "hour"))
    } else if hours > 0 {
        format!("{} {}", plural(hours, "hour"), plural(mins, "minute"))
    } else if mins > 0 {
        format!("{} {}", plural(mins, "minute"), plural(secs, "second"))
    } else {
        return None;
    };
    Some(format!("{text} idle"))
}

/// The long format for one user (lines end in CRLF).
pub fn long_format(u: &UserReport) -> String {
    let mut out = two_columns(
        &format!("Login: {}", clean_line(&u.login)),
        &format!("Name: {}", clean_line(&u.name)),
    );
    out.push_str(&two_columns(
        &format!("Directory: {}", clean_line(&u.home)),
        &format!("Shell: {}", clean_line(&u.shell)),
    ));
    if u.sessions.is_empty() {
        // We read no lastlog, so we cannot say when (or whether) the user last logged in.
        out.push_str("Not logged in.\r\n");
    }
    for s in &u.sessions {
        let _ = write!(
            out,
            "On since {} (UTC) on {}",
            clock::short_stamp(s.since),
            clean_line(&s.tty)
        );
        if !s.host.is_empty() {
            let _ = write!(out, " from {}", clean_line(&s.host));
        }
        out.push_str("\r\n");
        if let Some(idle) = s.idle.and_then(idle_long) {
            let _ = write!(out, "    {idle}\r\n");
        }
    }
    match &u.plan {
        PlanView::Hidden => {}
        PlanView::Missing => out.push_str("No Plan.\r\n"),
        PlanView::Text(text) => {
            out.push_str("Plan:\r\n");
            out.push_str(&clean_text(text));
        }
    }
    out
}

/// The table of users logged in, or `No one logged on.` for none.
pub fn user_list(rows: &[ListRow]) -> String {
    if rows.is_empty() {
        return "No one logged on.\r\n".to_owned();
    }
    let mut out = format!(
        "{}{}{}{:>5}  {}{}\r\n",
        fit("Login", 10),
        fit("Name", 21),
        fit("Tty", 9),
        "Idle",
        fit("When", 18),
        "Where"
    );
    for r in rows {
        let line = format!(
            "{}{}{}{:>5}  {}{}",
            fit(&clean_line(&r.login), 10),
            fit(&clean_line(&r.name), 21),
            fit(&clean_line(&r.session.tty), 9),
            idle_short(r.session.idle),
            fit(&clock::short_stamp(r.session.since), 18),
            clean_line(&r.session.host)
        );
        out.push_str(line.trim_end());
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn t() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_303_845)
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean_line("a\x1b[2Jb"), "a^[[2Jb");
        assert_eq!(clean_line("bell\x07\x7f"), "bell^G^?");
        assert_eq!(clean_line("c1\u{9b}31m"), "c1M-^[31m");
        assert_eq!(clean_line("tab\there\nnl"), "tab^Ihere^Jnl");
        assert_eq!(clean_line("Zoë ✓"), "Zoë ✓");
        assert_eq!(
            clean_text("one\r\ntwo\tx\n\x1b]0;pwned\x07\n"),
            "one\r\ntwo\tx\r\n^[]0;pwned^G\r\n"
        );
        assert_eq!(clean_text("no newline"), "no newline\r\n");
        assert_eq!(clean_text("\n\n"), "\r\n\r\n");
        assert_eq!(clean_text(""), "");
    }

    #[test]
    fn idle_formats() {
        assert_eq!(idle_short(None), "");
        assert_eq!(idle_short(Some(Duration::from_secs(59))), "");
        assert_eq!(idle_short(Some(Duration::from_secs(5 * 60 + 3))), "5");
        assert_eq!(idle_short(Some(Duration::from_secs(3900))), "1:05");
        assert_eq!(idle_short(Some(Duration::from_secs(3 * 86_400))), "3d");
        assert_eq!(idle_long(Duration::from_secs(30)), None);
        assert_eq!(
            idle_long(Duration::from_secs(303)).as_deref(),
            Some("5 minutes 3 seconds idle")
        );
        assert_eq!(
            idle_long(Duration::from_secs(3660)).as_deref(),
            Some("1 hour 1 minute idle")
        );
        assert_eq!(
            idle_long(Duration::from_secs(2 * 86_400 + 7200)).as_deref(),
            Some("2 days 2 hours idle")
        );
    }

    #[test]
    fn long_format_layout() {
        let u = UserReport {
            login: "alice".into(),
            name: "Alice \x1b[31mLiddell".into(),
            home: "/home/alice".into(),
            shell: "/bin/bash".into(),
            sessions: vec![Session {
                tty: "pts/0".into(),
                host: "10.1.2.3".into(),
                since: t(),
                idle: Some(Duration::from_secs(303)),
            }],
            plan: PlanView::Text("Write more tests.\n".into()),
        };
        let text = long_format(&u);
        assert_eq!(
            text,
            "Login: alice                            Name: Alice ^[[31mLiddell\r\n\
             Directory: /home/alice                  Shell: /bin/bash\r\n\
             On since Sat Nov 21 23:30 (UTC) on pts/0 from 10.1.2.3\r\n    \
             5 minutes 3 seconds idle\r\n\
             Plan:\r\nWrite more tests.\r\n"
        );
        let u = UserReport {
            sessions: vec![],
            plan: PlanView::Missing,
            ..u
        };
        let text = long_format(&u);
        assert!(text.contains("Not logged in.\r\nNo Plan.\r\n"), "{text}");
    }

    #[test]
    fn user_list_layout() {
        assert_eq!(user_list(&[]), "No one logged on.\r\n");
        let rows = [ListRow {
            login: "alice".into(),
            name: "Alice Liddell".into(),
            session: Session {
                tty: "pts/0".into(),
                host: "10.1.2.3".into(),
                since: t(),
                idle: Some(Duration::from_secs(3900)),
            },
        }];
        assert_eq!(
            user_list(&rows),
            "Login     Name                 Tty       Idle  When              Where\r\n\
             alice     Alice Liddell        pts/0     1:05  Sat Nov 21 23:30  10.1.2.3\r\n"
        );
    }
}
