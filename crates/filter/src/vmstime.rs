//! VMS absolute and delta times: the one parser of VMS time text in Maynard.
//!
//! OpenVMS writes an absolute time as `dd-MMM-yyyy hh:mm:ss.cc` (any trailing part may be left
//! out, and a lone time of day means today) and a delta time as `dddd hh:mm:ss.cc` or
//! `dddd-hh:mm:ss.cc` (days, then a time). Seed 001's examples: `29-DEC-2003` (that day at the
//! current time of day), `29-DEC-2003 18:03`, `18:03:00` (today), `1 15:00` (one day 15 hours).
//! `TODAY` stands for today's date (`TOMORROW` and `YESTERDAY` are refused: a [`VmsTime`] does
//! not carry a day offset, and guessing is worse than an error).
//!
//! Times are local wall-clock times: [`LocalTime`] counts seconds since 1970-01-01 00:00:00 *on the
//! local wall clock* (Unix time plus the UTC offset), so calendar arithmetic needs no time zone
//! database and the crate never reads a clock. The caller (netcp) makes one with
//! [`LocalTime::from_unix`].

use std::fmt;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A local wall-clock instant: seconds since 1970-01-01 00:00:00 local time.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct LocalTime(pub i64);

impl LocalTime {
    /// The local time of a Unix time (seconds since the epoch, UTC) at `utc_offset` seconds east
    /// of UTC (e.g. 3600 for CET).
    pub fn from_unix(unix_seconds: i64, utc_offset: i32) -> LocalTime {
        LocalTime(unix_seconds.saturating_add(i64::from(utc_offset)))
    }

    /// The local time of a calendar date and time of day.
    pub fn from_civil(date: Date, time: TimeOfDay) -> LocalTime {
        LocalTime(
            days_from_civil(date.year, date.month, date.day)
                .saturating_mul(DAY)
                .saturating_add(time.seconds()),
        )
    }

    /// The calendar date of this instant.
    pub fn date(self) -> Date {
        let (year, month, day) = civil_from_days(self.0.div_euclid(DAY));
        Date { year, month, day }
    }

    /// Seconds since local midnight (0..86400).
    pub fn second_of_day(self) -> i64 {
        self.0.rem_euclid(DAY)
    }

    /// The time of day of this instant (hundredths are zero).
    pub fn time_of_day(self) -> TimeOfDay {
        TimeOfDay::from_seconds(self.second_of_day())
    }

    /// Day of the week, 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday).
    pub fn weekday(self) -> u8 {
        // rem_euclid(7) is in 0..7, so the cast cannot truncate.
        (self.0.div_euclid(DAY) + 4).rem_euclid(7) as u8
    }
}

impl fmt::Display for LocalTime {
    /// VMS style: `29-DEC-2003 18:03:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date(), self.time_of_day())
    }
}

/// A calendar date (proleptic Gregorian).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Date {
    /// The year, e.g. 2003.
    pub year: i64,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
}

/// Month abbreviations as VMS writes them.
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let month = MONTHS
            .get(usize::from(self.month.saturating_sub(1)))
            .copied()
            .unwrap_or("???");
        write!(f, "{}-{}-{:04}", self.day, month, self.year)
    }
}

/// A time of day, or the time part of a delta (hours 0..=23).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct TimeOfDay {
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// 0..=99; kept for display, ignored by the second-resolution arithmetic.
    pub hundredths: u8,
}

impl TimeOfDay {
    /// Whole seconds since midnight.
    pub fn seconds(self) -> i64 {
        i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
    }

    /// The time of day `seconds` after midnight (taken modulo one day).
    pub fn from_seconds(seconds: i64) -> TimeOfDay {
        let s = seconds.rem_euclid(DAY);
        // Each quotient is bounded (hour < 24, minute and second < 60), so the casts are exact.
        TimeOfDay {
            hour: (s / 3600) as u8,
            minute: (s / 60 % 60) as u8,
            second: (s % 60) as u8,
            hundredths: 0,
        }
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)?;
        if self.hundredths != 0 {
            write!(f, ".{:02}", self.hundredths)?;
        }
        Ok(())
    }
}

/// A parsed VMS time, not yet resolved against "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum VmsTime {
    /// An absolute time. A missing date means today; a missing time means the current time of day
    /// (VMS's rule, which seed 001 repeats for `"29-DEC-2003"`).
    Absolute {
        /// The date, if written.
        date: Option<Date>,
        /// The time of day, if written.
        time: Option<TimeOfDay>,
    },
    /// A delta time: days and a time.
    Delta {
        /// 0..=9999 days.
        days: u16,
        /// The time part.
        time: TimeOfDay,
    },
}

impl VmsTime {
    /// Whether this is a delta time.
    pub fn is_delta(&self) -> bool {
        matches!(self, VmsTime::Delta { .. })
    }

    /// The length of a delta time in seconds, or `None` for an absolute time.
    pub fn delta_seconds(&self) -> Option<i64> {
        match self {
            VmsTime::Delta { days, time } => Some(i64::from(*days) * DAY + time.seconds()),
            VmsTime::Absolute { .. } => None,
        }
    }

    /// The instant this time names when read at `now`: an absolute time fills in today's date or
    /// the current time of day where they are missing; a delta time is `now` plus the delta.
    pub fn resolve(&self, now: LocalTime) -> LocalTime {
        match self {
            VmsTime::Absolute { date, time } => LocalTime::from_civil(
                date.unwrap_or_else(|| now.date()),
                time.unwrap_or_else(|| now.time_of_day()),
            ),
            VmsTime::Delta { .. } => {
                LocalTime(now.0.saturating_add(self.delta_seconds().unwrap_or(0)))
            }
        }
    }
}

impl fmt::Display for VmsTime {
    /// Writes the time back in VMS syntax (`parse(to_string())` gives the same value).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmsTime::Absolute { date, time } => match (date, time) {
                (Some(d), Some(t)) => write!(f, "{d} {t}"),
                (Some(d), None) => write!(f, "{d}"),
                (None, Some(t)) => write!(f, "{t}"),
                (None, None) => f.write_str("TODAY"),
            },
            VmsTime::Delta { days, time } => write!(f, "{days} {time}"),
        }
    }
}

/// Why a VMS time did not parse: the character offset where it went wrong and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {offset}: expected {expected}")]
pub struct VmsTimeError {
    /// 0-based character offset inside the text.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

fn err<T>(offset: usize, expected: &'static str) -> Result<T, VmsTimeError> {
    Err(VmsTimeError { offset, expected })
}

/// A cursor over ASCII text; every position is a character offset because the text is checked
/// to be ASCII first.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Up to `max` decimal digits; `None` when there is none.
    fn number(&mut self, max: usize) -> Option<u32> {
        let start = self.pos;
        let mut v: u32 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + u32::from(c - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        (self.pos > start).then_some(v)
    }

    fn letters(&mut self) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
}

/// Parses a VMS absolute or delta time (surrounding blanks ignored, case ignored).
///
/// Absolute: `dd-MMM-yyyy`, `dd-MMM-yyyy hh:mm[:ss[.cc]]` (a `:` may replace the blank, as in
/// DCL), `hh:mm[:ss[.cc]]`, `TODAY` optionally followed by a time.
/// Delta: `d hh:mm[:ss[.cc]]` or `d-hh:mm[:ss[.cc]]` with 0..=9999 days. A lone number is
/// refused: it could be days or hours.
pub fn parse(text: &str) -> Result<VmsTime, VmsTimeError> {
    if let Some(i) = text.chars().position(|c| !c.is_ascii()) {
        return err(i, "ASCII text");
    }
    let lead = text.len() - text.trim_start().len();
    let mut c = Cursor {
        s: text.trim_end().as_bytes(),
        pos: lead,
    };
    if c.at_end() {
        return err(c.pos, "a VMS time");
    }
    let start = c.pos;
    if c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        return parse_keyword_date(&mut c);
    }
    let Some(first) = c.number(4) else {
        return err(c.pos, "a digit");
    };
    match c.peek() {
        Some(b':') => {
            c.pos = start;
            let time = parse_time(&mut c)?;
            finish(&c)?;
            Ok(VmsTime::Absolute {
                date: None,
                time: Some(time),
            })
        }
        Some(b'-') if c.s.get(c.pos + 1).is_some_and(|b| b.is_ascii_alphabetic()) => {
            c.pos += 1;
            let date = parse_date_rest(&mut c, first, start)?;
            let time = parse_optional_time(&mut c)?;
            Ok(VmsTime::Absolute {
                date: Some(date),
                time,
            })
        }
        Some(b'-') | Some(b' ') | Some(b'\t') => {
            c.pos += 1;
            while matches!(c.peek(), Some(b' ') | Some(b'\t')) {
                c.pos += 1;
            }
            let days = u16::try_from(first)
                .ok()
                .filter(|d| *d <= 9999)
                .ok_or(VmsTimeError {
                    offset: start,
                    expected: "0 to 9999 days",
                })?;
            let time = parse_time(&mut c)?;
            finish(&c)?;
            Ok(VmsTime::Delta { days, time })
        }
        _ => err(
            c.pos,
            "`:` (a time), `-MMM-` (a date) or a blank and a time (a delta)",
        ),
    }
}

fn finish(c: &Cursor<'_>) -> Result<(), VmsTimeError> {
    if c.at_end() {
        Ok(())
    } else {
        err(c.pos, "the end of the time")
    }
}

fn parse_keyword_date(c: &mut Cursor<'_>) -> Result<VmsTime, VmsTimeError> {
    // TODAY is a missing date; TOMORROW/YESTERDAY would need a day offset VmsTime lacks.
    let at = c.pos;
    let word = c.letters().to_ascii_uppercase();
    if word != b"TODAY" {
        return err(at, "a date dd-MMM-yyyy, a time hh:mm or TODAY");
    }
    let time = parse_optional_time(c)?;
    Ok(VmsTime::Absolute { date: None, time })
}

fn parse_date_rest(c: &mut Cursor<'_>, day: u32, day_at: usize) -> Result<Date, VmsTimeError> {
    let month_at = c.pos;
    let name = c.letters().to_ascii_uppercase();
    let month = MONTHS
        .iter()
        .position(|m| m.as_bytes() == name.as_slice())
        .ok_or(VmsTimeError {
            offset: month_at,
            expected: "a month JAN..DEC",
        })?;
    if !c.eat(b'-') {
        return err(c.pos, "`-` and a year");
    }
    let year_at = c.pos;
    let year = c.number(4).ok_or(VmsTimeError {
        offset: year_at,
        expected: "a four-digit year",
    })?;
    if c.pos - year_at != 4 || year < 1858 {
        // VMS time starts on 17-NOV-1858; two-digit years are not VMS syntax.
        return err(year_at, "a four-digit year from 1858");
    }
    // position() is < 12, so month + 1 fits a u8.
    let month = (month + 1) as u8;
    let max = days_in_month(i64::from(year), month);
    if day == 0 || day > u32::from(max) {
        return err(day_at, "a day that exists in that month");
    }
    Ok(Date {
        year: i64::from(year),
        month,
        // day <= 31 here.
        day: day as u8,
    })
}

fn parse_optional_time(c: &mut Cursor<'_>) -> Result<Option<TimeOfDay>, VmsTimeError> {
    if c.at_end() {
        return Ok(None);
    }
    if !(c.eat(b' ') || c.eat(b'\t') || c.eat(b':')) {
        return err(c.pos, "a blank and a time hh:mm");
    }
    while matches!(c.peek(), Some(b' ') | Some(b'\t')) {
        c.pos += 1;
    }
    let t = parse_time(c)?;
    finish(c)?;
    Ok(Some(t))
}

/// `hh:mm[:ss[.cc]]`.
fn parse_time(c: &mut Cursor<'_>) -> Result<TimeOfDay, VmsTimeError> {
    let hour_at = c.pos;
    let hour = c.number(2).ok_or(VmsTimeError {
        offset: hour_at,
        expected: "an hour 0-23",
    })?;
    if hour > 23 {
        return err(hour_at, "an hour 0-23");
    }
    if !c.eat(b':') {
        return err(c.pos, "`:` and minutes");
    }
    let minute = two_digits(c, 59, "minutes 00-59")?;
    let mut second = 0;
    let mut hundredths = 0;
    if c.eat(b':') {
        second = two_digits(c, 59, "seconds 00-59")?;
        if c.eat(b'.') {
            let at = c.pos;
            let v = c.number(2).ok_or(VmsTimeError {
                offset: at,
                expected: "hundredths 00-99",
            })?;
            // One digit means tenths.
            hundredths = if c.pos - at == 1 { v * 10 } else { v };
        }
    }
    // All values are bounded above (<= 99), so the casts are exact.
    Ok(TimeOfDay {
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        hundredths: hundredths as u8,
    })
}

fn two_digits(c: &mut Cursor<'_>, max: u32, what: &'static str) -> Result<u32, VmsTimeError> {
    let at = c.pos;
    match c.number(2) {
        Some(v) if c.pos - at == 2 && v <= max => Ok(v),
        _ => err(at, what),
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`.
pub fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let m = i64::from(month);
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // d is in 1..=31 and m in 1..=12 by construction.
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(year: i64, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    fn tod(hour: u8, minute: u8, second: u8) -> TimeOfDay {
        TimeOfDay {
            hour,
            minute,
            second,
            hundredths: 0,
        }
    }

    #[test]
    fn seed_examples() {
        assert_eq!(
            parse("29-DEC-2003"),
            Ok(VmsTime::Absolute {
                date: Some(date(2003, 12, 29)),
                time: None
            })
        );
        assert_eq!(
            parse("29-DEC-2003 18:03"),
            Ok(VmsTime::Absolute {
                date: Some(date(2003, 12, 29)),
                time: Some(tod(18, 3, 0))
            })
        );
        assert_eq!(
            parse("18:03:00"),
            Ok(VmsTime::Absolute {
                date: None,
                time: Some(tod(18, 3, 0))
            })
        );
        assert_eq!(
            parse("1 15:00"),
            Ok(VmsTime::Delta {
                days: 1,
                time: tod(15, 0, 0)
            })
        );
        assert_eq!(
            parse("29-Sep-2003 6:00:00"),
            Ok(VmsTime::Absolute {
                date: Some(date(2003, 9, 29)),
                time: Some(tod(6, 0, 0))
            })
        );
        assert_eq!(
            parse("1 00:30").map(|t| t.delta_seconds()),
            Ok(Some(DAY + 1800))
        );
    }

    #[test]
    fn other_forms() {
        assert_eq!(
            parse("2-00:00"),
            Ok(VmsTime::Delta {
                days: 2,
                time: tod(0, 0, 0)
            })
        );
        assert_eq!(
            parse("1-JAN-2004:18:30:05.5"),
            Ok(VmsTime::Absolute {
                date: Some(date(2004, 1, 1)),
                time: Some(TimeOfDay {
                    hour: 18,
                    minute: 30,
                    second: 5,
                    hundredths: 50
                })
            })
        );
        assert!(matches!(
            parse("today 05:00"),
            Ok(VmsTime::Absolute { date: None, .. })
        ));
    }

    #[test]
    fn refusals() {
        assert_eq!(parse("").map_err(|e| e.offset), Err(0));
        assert_eq!(parse("3").map_err(|e| e.offset), Err(1));
        assert_eq!(parse("24:00").map_err(|e| e.offset), Err(0));
        assert_eq!(parse("12:60").map_err(|e| e.offset), Err(3));
        assert_eq!(parse("30-FEB-2004").map_err(|e| e.offset), Err(0));
        assert_eq!(parse("29-FEB-2003").map_err(|e| e.offset), Err(0));
        assert!(parse("29-FEB-2004").is_ok());
        assert_eq!(parse("1-XYZ-2004").map_err(|e| e.offset), Err(2));
        assert_eq!(parse("1-JAN-04").map_err(|e| e.offset), Err(6));
        assert_eq!(parse("10000 00:00").map_err(|e| e.offset), Err(4));
        assert!(parse("00:00\"").is_err());
        assert!(parse("tomorrow").is_err());
        assert!(parse("é").is_err());
    }

    #[test]
    fn resolve_fills_today_and_now() {
        let now = LocalTime::from_civil(date(2026, 11, 22), tod(10, 11, 12));
        let t = parse("18:03").unwrap_or(VmsTime::Delta {
            days: 0,
            time: tod(0, 0, 0),
        });
        assert_eq!(
            t.resolve(now),
            LocalTime::from_civil(date(2026, 11, 22), tod(18, 3, 0))
        );
        let d = VmsTime::Absolute {
            date: Some(date(2003, 12, 29)),
            time: None,
        };
        assert_eq!(
            d.resolve(now),
            LocalTime::from_civil(date(2003, 12, 29), tod(10, 11, 12))
        );
        let delta = VmsTime::Delta {
            days: 1,
            time: tod(15, 0, 0),
        };
        assert_eq!(delta.resolve(now).0 - now.0, DAY + 15 * 3600);
        assert_eq!(LocalTime(0).weekday(), 4);
        assert_eq!(now.to_string(), "22-NOV-2026 10:11:12");
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse(&s);
        }

        #[test]
        fn display_round_trip(
            year in 1858i64..9999, month in 1u8..=12, day in 1u8..=28,
            h in 0u8..24, mi in 0u8..60, s in 0u8..60, cs in 0u8..100,
            days in 0u16..10000, which in 0u8..4,
        ) {
            let time = TimeOfDay { hour: h, minute: mi, second: s, hundredths: cs };
            let v = match which {
                0 => VmsTime::Absolute { date: Some(date(year, month, day)), time: Some(time) },
                1 => VmsTime::Absolute { date: Some(date(year, month, day)), time: None },
                2 => VmsTime::Absolute { date: None, time: Some(time) },
                _ => VmsTime::Delta { days, time },
            };
            prop_assert_eq!(parse(&v.to_string()), Ok(v));
        }
    }
}
