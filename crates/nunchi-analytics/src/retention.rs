//! Retention cohorts: customers grouped by the day, week or month of their first event (or
//! first purchase), and for each later period the share who came back.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::AnalyticsError;
use crate::log::{self, EventLog, Scope};

/// At most this many periods after the cohort's own.
pub const MAX_PERIODS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    /// Calendar months.
    Month,
}

/// Days since 1970-01-01 to (year, month 1–12) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn year_month(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// The first day of a month as days since 1970-01-01 (`days_from_civil`).
fn first_of_month(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

impl Period {
    /// Period number of a time; weeks start on Monday, months on the 1st, days at
    /// midnight, all in the given UTC offset.
    #[inline]
    pub fn index(self, ts: u32, utc_offset_secs: i32) -> i64 {
        let local = ts as i64 + utc_offset_secs as i64;
        match self {
            Period::Day => local.div_euclid(86_400),
            // 1970-01-01 was a Thursday; shift so that Monday opens each week.
            Period::Week => (local + 3 * 86_400).div_euclid(7 * 86_400),
            Period::Month => {
                let (year, month) = year_month(local.div_euclid(86_400));
                year * 12 + month - 1
            }
        }
    }

    /// The UTC time at which period `index` starts.
    pub fn start(self, index: i64, utc_offset_secs: i32) -> i64 {
        match self {
            Period::Day => index * 86_400 - utc_offset_secs as i64,
            Period::Week => index * 7 * 86_400 - 3 * 86_400 - utc_offset_secs as i64,
            Period::Month => {
                first_of_month(index.div_euclid(12), index.rem_euclid(12) + 1) * 86_400
                    - utc_offset_secs as i64
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSpec {
    pub period: Period,
    /// `None`: the cohort is set by the first event of any kind; `Some(e)`: by the first `e`.
    pub cohort_event: Option<u16>,
    /// `None`: any event counts as coming back; `Some(e)`: only `e` does.
    pub return_event: Option<u16>,
    /// Periods reported after the cohort's own (offset 0 is the cohort period itself).
    pub periods: usize,
    pub utc_offset_secs: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cohort {
    /// Period number, see [`Period::index`].
    pub index: i64,
    pub size: u64,
    /// `returned[k]`: cohort members with a return event `k` periods after the cohort's.
    pub returned: Vec<u64>,
}

pub fn retention(
    log: &EventLog,
    scope: Scope<'_>,
    spec: &RetentionSpec,
) -> Result<Vec<Cohort>, AnalyticsError> {
    if spec.periods > MAX_PERIODS {
        return Err(AnalyticsError::TooManyPeriods(MAX_PERIODS));
    }
    let periods = spec.periods;
    let cohorts = log.scan(
        scope,
        BTreeMap::<i64, (u64, Vec<u64>)>::new,
        |acc, _, run| {
            let events = scope.slice(run);
            let first = match spec.cohort_event {
                None => events.first(),
                Some(code) => events.iter().find(|&&e| log::name(e) == code),
            };
            let Some(&first) = first else {
                return;
            };
            let cohort = spec.period.index(log::ts(first), spec.utc_offset_secs);
            let mut seen: u128 = 0;
            // Events come in time order, so the period only needs recomputing when an
            // event crosses into the next one: no division per event.
            let mut offset = 0i64;
            let mut next_start = spec.period.start(cohort + 1, spec.utc_offset_secs);
            for &e in events {
                let at = log::ts(e);
                if at < log::ts(first) || spec.return_event.is_some_and(|r| r != log::name(e)) {
                    continue;
                }
                if at as i64 >= next_start {
                    offset = spec.period.index(at, spec.utc_offset_secs) - cohort;
                    next_start = spec.period.start(cohort + offset + 1, spec.utc_offset_secs);
                }
                if (offset as usize) >= periods {
                    break;
                }
                seen |= 1 << offset;
            }
            let entry = acc.entry(cohort).or_insert_with(|| (0, vec![0; periods]));
            entry.0 += 1;
            while seen != 0 {
                let k = seen.trailing_zeros() as usize;
                entry.1[k] += 1;
                seen &= seen - 1;
            }
        },
        |mut a, b| {
            for (k, (size, returned)) in b {
                let into = a.entry(k).or_insert_with(|| (0, vec![0; periods]));
                into.0 += size;
                for (x, y) in into.1.iter_mut().zip(returned) {
                    *x += y;
                }
            }
            a
        },
    );
    Ok(cohorts
        .into_iter()
        .map(|(index, (size, returned))| Cohort {
            index,
            size,
            returned,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use nunchi_core::channel::Channel;

    use super::*;
    use crate::log::Event;

    const DAY: u32 = 86_400;

    #[test]
    fn months_follow_the_calendar_in_the_brands_offset() {
        let kst = 9 * 3_600;
        let at = |s: &str| {
            // "YYYY-MM-DDTHH:MM:SS" in UTC, parsed by hand to stay free of a date crate.
            let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
            let days = first_of_month(n(0, 4), n(5, 7)) + n(8, 10) - 1;
            (days * 86_400 + n(11, 13) * 3_600 + n(14, 16) * 60 + n(17, 19)) as u32
        };
        let month = |s: &str, off| Period::Month.index(at(s), off);
        assert_eq!(month("1970-01-01T00:00:00", 0), 1970 * 12);
        assert_eq!(month("2024-02-29T12:00:00", 0), 2024 * 12 + 1, "leap day");
        assert_eq!(month("2024-03-01T00:00:00", 0), 2024 * 12 + 2);
        // 15:00 UTC on New Year's Eve is already January in Seoul.
        assert_eq!(month("2026-12-31T15:00:00", kst), 2027 * 12);
        assert_eq!(month("2026-12-31T14:59:59", kst), 2026 * 12 + 11);
        assert_eq!(
            Period::Month.start(2027 * 12, kst),
            at("2026-12-31T15:00:00") as i64
        );
        // Every time lies in the period that starts at or before it and ends after it.
        for ts in (0..4_000_000_000u32).step_by(9_999_991) {
            for period in [Period::Day, Period::Week, Period::Month] {
                for off in [-12 * 3_600, 0, kst, 14 * 3_600] {
                    let i = period.index(ts, off);
                    assert!(period.start(i, off) <= ts as i64, "{period:?} {ts} {off}");
                    assert!(
                        period.start(i + 1, off) > ts as i64,
                        "{period:?} {ts} {off}"
                    );
                }
            }
        }
    }

    #[test]
    fn weeks_start_on_monday_and_cohorts_count_returns() {
        // 2026-11-23 00:00 UTC is a Monday.
        let monday = 1_795_392_000;
        assert_eq!(
            Period::Week.index(monday, 0),
            Period::Week.index(monday + 6 * DAY + 86_399, 0)
        );
        assert_ne!(
            Period::Week.index(monday - 1, 0),
            Period::Week.index(monday, 0)
        );
        assert_eq!(
            Period::Week.start(Period::Week.index(monday + 5, 0), 0),
            monday as i64
        );

        let mut log = EventLog::new();
        let visit = log.intern("visit").unwrap();
        let buy = log.intern("purchase").unwrap();
        let ev = |ts, name| Event {
            ts,
            name,
            touchpoint: 0,
            channel: Channel::Web,
        };
        log.push(0, ev(monday, visit));
        log.push(0, ev(monday + 8 * DAY, visit));
        log.push(1, ev(monday + DAY, visit));
        log.push(1, ev(monday + 2 * DAY, buy));
        log.push(1, ev(monday + 15 * DAY, buy));
        let mut spec = RetentionSpec {
            period: Period::Week,
            cohort_event: None,
            return_event: None,
            periods: 3,
            utc_offset_secs: 0,
        };
        let cohorts = retention(&log, Scope::all(), &spec).unwrap();
        assert_eq!(cohorts.len(), 1);
        assert_eq!(
            (cohorts[0].size, cohorts[0].returned.clone()),
            (2, vec![2, 1, 1])
        );
        spec.cohort_event = Some(buy);
        spec.return_event = Some(buy);
        let by_purchase = retention(&log, Scope::all(), &spec).unwrap();
        assert_eq!(
            (by_purchase[0].size, by_purchase[0].returned.clone()),
            (1, vec![1, 0, 1])
        );
        spec.periods = 500;
        assert!(retention(&log, Scope::all(), &spec).is_err());
    }
}
