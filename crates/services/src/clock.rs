//! The clock the time services read, and civil (calendar) time in UTC written by hand.
//!
//! The clock is injected ([`Clock`]) so tests can fix the time; the calendar arithmetic is Howard
//! Hinnant's days-from-civil algorithm, exact over the whole proleptic Gregorian calendar.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time (the system clock in production, a fixed time in tests).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The host's real-time clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// A clock that always reads `t` (for tests and replays).
pub fn fixed_clock(t: SystemTime) -> Clock {
    Arc::new(move || t)
}

/// Seconds from 1900-01-01T00:00:00Z (the RFC 868 epoch) to the Unix epoch.
pub const RFC868_UNIX_OFFSET: i64 = 2_208_988_800;

const SECS_PER_DAY: i64 = 86_400;

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    /// Sunday.
    Sunday,
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
}

impl Weekday {
    const ALL: [Weekday; 7] = [
        Weekday::Sunday,
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
    ];

    /// The weekday of a day counted from 1970-01-01 (a Thursday).
    pub fn from_days(days: i64) -> Weekday {
        // rem_euclid is in 0..7, so the index is always in range.
        let idx = (days + 4).rem_euclid(7) as usize;
        Self::ALL.get(idx).copied().unwrap_or(Weekday::Sunday)
    }

    /// The English name, "Saturday".
    pub fn name(self) -> &'static str {
        match self {
            Weekday::Sunday => "Sunday",
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
        }
    }

    /// The three-letter abbreviation, "Sat".
    pub fn abbrev(self) -> &'static str {
        self.name().get(..3).unwrap_or("")
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The English name of `month` (1 = January); "?" outside 1..=12.
pub fn month_name(month: u8) -> &'static str {
    usize::from(month)
        .checked_sub(1)
        .and_then(|i| MONTH_NAMES.get(i))
        .copied()
        .unwrap_or("?")
}

/// The three-letter abbreviation of `month` (1 = January), "Nov".
pub fn month_abbrev(month: u8) -> &'static str {
    let name = month_name(month);
    name.get(..3).unwrap_or(name)
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar.
///
/// `month` is 1..=12 and `day` 1..=31; other values give a day that is merely consistent, not
/// meaningful (the arithmetic never overflows for years within ±2^40).
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    // Count years from March so the leap day is the last day of the counted year.
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (year, month as u8, day as u8)
}

/// Seconds and nanoseconds of `t` relative to the Unix epoch; the seconds are floored, so the
/// nanoseconds are always in 0..1e9, also before 1970.
pub fn unix_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d: Duration = e.duration();
            let secs = -i128::from(d.as_secs());
            let (secs, nanos) = match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs - 1, 1_000_000_000 - n),
            };
            (i64::try_from(secs).unwrap_or(i64::MIN), nanos)
        }
    }
}

/// A moment as a UTC calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CivilTime {
    /// Year (proleptic Gregorian; 0 is 1 BC).
    pub year: i64,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59 (SystemTime has no leap seconds).
    pub second: u8,
    /// Milliseconds, 0..=999.
    pub millis: u16,
    /// Day of the week.
    pub weekday: Weekday,
}

impl CivilTime {
    /// The UTC calendar time of `t`.
    pub fn from_system_time(t: SystemTime) -> CivilTime {
        let (secs, nanos) = unix_parts(t);
        Self::from_unix(secs, nanos)
    }

    /// The UTC calendar time `secs` seconds and `nanos` nanoseconds after the Unix epoch.
    pub fn from_unix(secs: i64, nanos: u32) -> CivilTime {
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        // Every narrowing below is of a value already reduced into its field's range.
        CivilTime {
            year,
            month,
            day,
            hour: (sod / 3600) as u8,
            minute: (sod / 60 % 60) as u8,
            second: (sod % 60) as u8,
            millis: (nanos.min(999_999_999) / 1_000_000) as u16,
            weekday: Weekday::from_days(days),
        }
    }
}

impl From<SystemTime> for CivilTime {
    fn from(t: SystemTime) -> Self {
        Self::from_system_time(t)
    }
}

/// `t` in RFC 3339 form with milliseconds: `2026-11-21T23:30:45.123Z`.
pub fn rfc3339_utc(t: SystemTime) -> String {
    let c = CivilTime::from_system_time(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
    )
}

/// The RFC 867 daytime line for `t`, CRLF included: `Saturday, November 21, 2026 23:30:45-UTC\r\n`.
pub fn daytime_string(t: SystemTime) -> String {
    let c = CivilTime::from_system_time(t);
    format!(
        "{}, {} {}, {} {:02}:{:02}:{:02}-UTC\r\n",
        c.weekday.name(),
        month_name(c.month),
        c.day,
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// A short timestamp for finger output: `Sat Nov 21 23:30`.
pub fn short_stamp(t: SystemTime) -> String {
    let c = CivilTime::from_system_time(t);
    format!(
        "{} {} {:2} {:02}:{:02}",
        c.weekday.abbrev(),
        month_abbrev(c.month),
        c.day,
        c.hour,
        c.minute
    )
}

/// The RFC 868 time of `t`: seconds since 1900-01-01T00:00:00Z, modulo 2^32 (the protocol's
/// 32-bit field wraps in 2036; the modulo keeps answering after that, as RFC 868 clients expect).
pub fn rfc868_seconds(t: SystemTime) -> u32 {
    let (secs, _) = unix_parts(t);
    let since_1900 = i128::from(secs) + i128::from(RFC868_UNIX_OFFSET);
    // rem_euclid by 2^32 is in 0..2^32, so the narrowing is exact.
    since_1900.rem_euclid(1_i128 << 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64, nanos: u32) -> SystemTime {
        if secs >= 0 {
            UNIX_EPOCH + Duration::new(secs as u64, nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
                + Duration::from_nanos(nanos.into())
        }
    }

    fn is_leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    fn month_len(y: i64, m: u8) -> i64 {
        match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The obvious algorithm: walk whole years, then whole months, from 1970.
    fn reference_civil(mut days: i64) -> (i64, u8, u8) {
        let mut y = 1970;
        while days < 0 {
            y -= 1;
            days += if is_leap(y) { 366 } else { 365 };
        }
        loop {
            let len = if is_leap(y) { 366 } else { 365 };
            if days < len {
                break;
            }
            days -= len;
            y += 1;
        }
        let mut m = 1;
        while days >= month_len(y, m) {
            days -= month_len(y, m);
            m += 1;
        }
        (y, m, (days + 1) as u8)
    }

    #[test]
    fn known_dates() {
        let t = at(1_795_303_845, 123_456_789); // 2026-11-21T23:30:45.123Z
        assert_eq!(rfc3339_utc(t), "2026-11-21T23:30:45.123Z");
        assert_eq!(
            daytime_string(t),
            "Saturday, November 21, 2026 23:30:45-UTC\r\n"
        );
        assert_eq!(short_stamp(t), "Sat Nov 21 23:30");
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            CivilTime::from_system_time(UNIX_EPOCH).weekday,
            Weekday::Thursday
        );
        assert_eq!(rfc3339_utc(at(951_782_400, 0)), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(at(-1, 0)), "1969-12-31T23:59:59.000Z");
        assert_eq!(rfc3339_utc(at(-1, 500_000_000)), "1969-12-31T23:59:59.500Z");
        assert_eq!(
            rfc3339_utc(at(-2_208_988_800, 0)),
            "1900-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn rfc868_epoch_and_wrap() {
        assert_eq!(rfc868_seconds(UNIX_EPOCH), 2_208_988_800);
        assert_eq!(rfc868_seconds(at(-RFC868_UNIX_OFFSET, 0)), 0);
        // 2036-02-07T06:28:16Z is 2^32 seconds after 1900: the field wraps to zero.
        let wrap = (1_i64 << 32) - RFC868_UNIX_OFFSET;
        assert_eq!(rfc3339_utc(at(wrap, 0)), "2036-02-07T06:28:16.000Z");
        assert_eq!(rfc868_seconds(at(wrap, 0)), 0);
        assert_eq!(rfc868_seconds(at(wrap - 1, 0)), u32::MAX);
    }

    #[test]
    fn extremes_do_not_panic() {
        let _ = CivilTime::from_unix(i64::MAX, 999_999_999);
        let _ = CivilTime::from_unix(i64::MIN, 0);
        let _ = rfc868_seconds(at(i64::MIN / 2, 0));
        assert_eq!(month_name(0), "?");
        assert_eq!(month_name(13), "?");
        assert_eq!(month_abbrev(11), "Nov");
    }

    proptest! {
        #[test]
        fn civil_matches_reference(days in -1_000_000_i64..1_000_000) {
            prop_assert_eq!(civil_from_days(days), reference_civil(days));
        }

        #[test]
        fn civil_round_trips(days in -(1_i64 << 40)..(1_i64 << 40)) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m));
            prop_assert!(d >= 1 && i64::from(d) <= month_len(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn time_of_day_and_weekday(secs in -100_000_000_000_i64..100_000_000_000, nanos in 0u32..1_000_000_000) {
            let c = CivilTime::from_unix(secs, nanos);
            let days = days_from_civil(c.year, c.month, c.day);
            let back = days * 86_400 + i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second);
            prop_assert_eq!(back, secs);
            prop_assert_eq!(u32::from(c.millis), nanos / 1_000_000);
            // Consecutive days are consecutive weekdays.
            let next = CivilTime::from_unix(secs + 86_400, 0).weekday;
            let idx = |w: Weekday| Weekday::ALL.iter().position(|x| *x == w).unwrap_or(0);
            prop_assert_eq!((idx(c.weekday) + 1) % 7, idx(next));
        }

        #[test]
        fn system_time_parts_round_trip(secs in -10_000_000_000_i64..10_000_000_000, nanos in 0u32..1_000_000_000) {
            prop_assert_eq!(unix_parts(at(secs, nanos)), (secs, nanos));
        }
    }
}
