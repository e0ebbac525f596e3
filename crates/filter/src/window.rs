//! Time windows: resolving a line's `start`, `end` and `repeat` against the load time.

use crate::rule::{TimeSpec, Window};
use crate::vmstime::{LocalTime, VmsTime, DAY};

/// The result of resolving a line's time clauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The window, or `None` when the filter has already ended (seed 001: not loaded, and the
    /// user told which line).
    pub window: Option<Window>,
    /// A warning about a window that is almost certainly not what was meant.
    pub warning: Option<String>,
}

/// Resolves time clauses at load time `now`; `Err` holds what was expected.
///
/// One-shot: an absolute time fills in today or the current time of day; a delta start is `now`
/// plus the delta; a delta end is the start (or `now`) plus the delta. Repeating: daily from the
/// start's time of day until the end's time of day (which may be on the next day: 23:00 to 01:00
/// is one period) or for the end's delta; dates bound the repetition.
pub fn resolve(time: &TimeSpec, now: LocalTime) -> Result<Resolved, String> {
    if time.repeat {
        return daily(time, now);
    }
    let start = time.start.map(|s| s.resolve(now));
    let end = time.end.map(|e| match e {
        VmsTime::Delta { .. } => LocalTime(
            start
                .unwrap_or(now)
                .0
                .saturating_add(e.delta_seconds().unwrap_or(0)),
        ),
        VmsTime::Absolute { .. } => e.resolve(now),
    });
    // An end already past wins over any other complaint: seed 001 says such a filter is simply
    // not loaded (and the user told).
    if end.is_some_and(|e| e <= now) {
        return Ok(Resolved {
            window: None,
            warning: None,
        });
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(format!("expected the end ({e}) after the start ({s})"));
        }
    }
    let window = if start.is_none() && end.is_none() {
        Window::Always
    } else {
        Window::Once { start, end }
    };
    Ok(Resolved {
        window: Some(window),
        warning: None,
    })
}

fn daily(time: &TimeSpec, now: LocalTime) -> Result<Resolved, String> {
    let (Some(start), Some(end)) = (time.start, time.end) else {
        return Err("expected both start and end with repeat".into());
    };
    let start_at = start.resolve(now);
    let not_before = match start {
        VmsTime::Absolute { date: Some(_), .. } | VmsTime::Delta { .. } => Some(start_at),
        VmsTime::Absolute { date: None, .. } => None,
    };
    let start_sod = start_at.second_of_day();
    let mut warning = None;
    let (length, not_after) = match end {
        VmsTime::Delta { .. } => {
            let d = end.delta_seconds().unwrap_or(0);
            if d >= DAY {
                warning = Some(long_delta_warning(&end, d));
            }
            (d.min(DAY), None)
        }
        VmsTime::Absolute { date, .. } => {
            let end_at = end.resolve(now);
            let len = (end_at.second_of_day() - start_sod).rem_euclid(DAY);
            (len, date.map(|_| end_at))
        }
    };
    // A repetition whose last day has passed never opens again: like a one-shot filter that
    // ended, it is not loaded.
    if not_after.is_some_and(|e| e <= now) {
        return Ok(Resolved {
            window: None,
            warning,
        });
    }
    if length == 0 {
        return Err("expected an end different from the start (the window would be empty)".into());
    }
    // start_sod < 86400 and 0 < length <= 86400, so both fit in u32.
    Ok(Resolved {
        window: Some(Window::Daily {
            start: start_sod as u32,
            length: length as u32,
            not_before,
            not_after,
        }),
        warning,
    })
}

/// The warning for a daily window given a delta of a day or more, with the likely slip: the
/// days field written as hours (`"1 00:30"` for an hour and a half, as seed 001's example
/// describes it).
fn long_delta_warning(end: &VmsTime, d: i64) -> String {
    let (days, rest) = (d / DAY, d % DAY);
    let hours = days + rest / 3600;
    let minutes = rest % 3600 / 60;
    let hint = if hours < 24 {
        format!("; for {hours} h {minutes:02} min write \"0 {hours:02}:{minutes:02}\"")
    } else {
        String::new()
    };
    format!(
        "the daily window lasts {end} (a VMS delta is days, then hh:mm), a day or more: it is \
         always in force{hint}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmstime::parse;

    fn spec(start: Option<&str>, end: Option<&str>, repeat: bool) -> TimeSpec {
        TimeSpec {
            start: start.and_then(|s| parse(s).ok()),
            end: end.and_then(|s| parse(s).ok()),
            repeat,
        }
    }

    #[test]
    fn one_shot_and_daily() {
        let now = LocalTime(10 * DAY + 12 * 3600);
        let r = resolve(&spec(Some("2 00:00"), Some("3 00:00"), false), now);
        assert_eq!(
            r.map(|r| r.window),
            Ok(Some(Window::Once {
                start: Some(LocalTime(now.0 + 2 * DAY)),
                end: Some(LocalTime(now.0 + 5 * DAY))
            }))
        );
        let r = resolve(&spec(Some("23:00"), Some("01:00"), true), now);
        assert_eq!(
            r.map(|r| r.window),
            Ok(Some(Window::Daily {
                start: 23 * 3600,
                length: 7200,
                not_before: None,
                not_after: None
            }))
        );
        let r = resolve(&spec(Some("18:00"), Some("1 00:30"), true), now);
        assert!(r
            .ok()
            .and_then(|r| r.warning)
            .is_some_and(|w| w.contains("\"0 01:30\"")));
        assert!(resolve(&spec(Some("18:00"), Some("18:00"), true), now).is_err());
        assert!(resolve(&spec(None, Some("18:00"), true), now).is_err());
        assert_eq!(
            resolve(&spec(None, Some("11:00"), false), now).map(|r| r.window),
            Ok(None)
        );
        assert!(resolve(&spec(Some("15:00"), Some("14:00"), false), now).is_err());
    }
}
