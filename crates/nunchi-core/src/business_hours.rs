//! Working hours for SLA clocks: a weekly schedule in a time zone (split shifts allowed),
//! minus holidays (Korea's public holidays from `calendar::holidays`, plus any the team
//! adds). It answers how far a number of working minutes reaches from a moment, and how
//! many working minutes lie between two moments; SLA deadlines and paused clocks are
//! computed with it.

use std::collections::BTreeSet;

use jiff::{Timestamp, civil::Date, tz::TimeZone};

use crate::{CoreError, CoreResult};

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_MS: i64 = 86_400_000;
/// How far ahead a deadline is searched for: a schedule with a few hours a year still ends.
const MAX_DAYS: i64 = 3 * 366;

/// A weekly schedule with holidays, in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    tz: TimeZone,
    /// Per weekday, Monday first: working intervals in minutes from midnight, sorted.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<Date>,
}

impl BusinessHours {
    /// Every minute counts (calendar hours).
    pub fn always(tz: TimeZone) -> Self {
        BusinessHours {
            tz,
            week: std::array::from_fn(|_| vec![(0, 24 * 60)]),
            holidays: BTreeSet::new(),
        }
    }

    /// `week` as typed by a person: `mon-fri 09:00-12:00,13:00-18:00; sat 10:00-14:00`
    /// (days or day ranges, then one or more intervals; `24:00` ends a day). `holidays`:
    /// extra days off; `korean` adds Korea's public holidays.
    pub fn parse(tz: &str, week: &str, holidays: &[Date], korean: bool) -> CoreResult<Self> {
        let tz = TimeZone::get(tz.trim())
            .map_err(|_| CoreError::new("time_zone", format!("unknown IANA time zone {tz:?}")))?;
        let bad = |why: String| CoreError::new("business_hours", why);
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        for part in week.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (which, spans) = part.split_once(char::is_whitespace).ok_or_else(|| {
                bad(format!(
                    "{part:?}: write days, then hours (mon-fri 09:00-18:00)"
                ))
            })?;
            let mut picked = Vec::new();
            for d in which.split(',') {
                let d = d.trim().to_ascii_lowercase();
                let index = |name: &str| {
                    WEEKDAYS
                        .iter()
                        .position(|w| *w == name)
                        .ok_or_else(|| bad(format!("{name:?} is not a day (mon … sun)")))
                };
                match d.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (index(a)?, index(b)?);
                        if a > b {
                            return Err(bad(format!("{d}: a range runs from Monday to Sunday")));
                        }
                        picked.extend(a..=b);
                    }
                    None => picked.push(index(&d)?),
                }
            }
            for span in spans.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (from, to) = span
                    .split_once('-')
                    .ok_or_else(|| bad(format!("{span:?}: write hours as 09:00-18:00")))?;
                let (from, to) = (
                    minute_of_day(from).map_err(bad)?,
                    minute_of_day(to).map_err(bad)?,
                );
                if from >= to {
                    return Err(bad(format!("{span:?}: the end must come after the start")));
                }
                for &d in &picked {
                    days[d].push((from, to));
                }
            }
        }
        for d in days.iter_mut() {
            d.sort_unstable();
            if d.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(bad("intervals of one day overlap".into()));
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err(bad("no working hours in the week".into()));
        }
        let mut set: BTreeSet<Date> = holidays.iter().copied().collect();
        if korean {
            set.extend(
                crate::calendar::holidays::all_korean()
                    .iter()
                    .map(|h| h.date),
            );
        }
        Ok(BusinessHours {
            tz,
            week: days,
            holidays: set,
        })
    }

    /// The working intervals of the local day `date`, as instants (ms).
    fn intervals(&self, date: Date) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return vec![];
        }
        let day = date.weekday().to_monday_zero_offset() as usize;
        self.week[day]
            .iter()
            .filter_map(|&(s, e)| Some((self.instant(date, s)?, self.instant(date, e)?)))
            .collect()
    }

    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= 24 * 60 {
            (date.tomorrow().ok()?, minute - 24 * 60)
        } else {
            (date, minute)
        };
        let local = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        Some(
            local
                .to_zoned(self.tz.clone())
                .ok()?
                .timestamp()
                .as_millisecond(),
        )
    }

    fn local_date(&self, ms: i64) -> Date {
        Timestamp::from_millisecond(ms)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone())
            .date()
    }

    /// The moment `minutes` working minutes after `from`.
    pub fn add_minutes(&self, from: i64, minutes: i64) -> i64 {
        let mut left = minutes.max(0) * 60_000;
        if left == 0 {
            return from;
        }
        let mut date = self.local_date(from);
        for _ in 0..MAX_DAYS {
            for (start, end) in self.intervals(date) {
                let begin = start.max(from);
                if begin >= end {
                    continue;
                }
                if left <= end - begin {
                    return begin + left;
                }
                left -= end - begin;
            }
            date = match date.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        from + MAX_DAYS * DAY_MS
    }

    /// Working minutes from `a` to `b` (0 when `b` is not after `a`).
    pub fn minutes_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let mut total = 0;
        let mut date = self.local_date(a);
        let last = self.local_date(b);
        while date <= last {
            for (start, end) in self.intervals(date) {
                let (s, e) = (start.max(a), end.min(b));
                if s < e {
                    total += e - s;
                }
            }
            date = match date.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        total / 60_000
    }
}

fn minute_of_day(s: &str) -> Result<u16, String> {
    let (h, m) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not a time like 09:30"))?;
    let (h, m): (u16, u16) = (
        h.parse().map_err(|_| format!("{s:?} is not a time"))?,
        m.parse().map_err(|_| format!("{s:?} is not a time"))?,
    );
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(format!("{s:?} is not a time of day"));
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn weekdays() -> BusinessHours {
        BusinessHours::parse("Asia/Seoul", "mon-fri 09:00-17:00", &[], false).unwrap()
    }

    #[test]
    fn friday_afternoon_plus_an_hour_is_monday_morning() {
        // Created Fri 16:30, first response in 1 h, hours Mon–Fri 9–17 → due Mon 09:30.
        let due = weekdays().add_minutes(at("2026-11-27T16:30:00+09:00[Asia/Seoul]"), 60);
        assert_eq!(due, at("2026-11-30T09:30:00+09:00[Asia/Seoul]"));
    }

    #[test]
    fn split_shifts_nights_and_calendar_hours() {
        let split =
            BusinessHours::parse("Asia/Seoul", "mon-fri 09:00-12:00, 13:00-18:00", &[], false)
                .unwrap();
        // 11:30 + 60 min: 30 before lunch, 30 after.
        assert_eq!(
            split.add_minutes(at("2026-11-30T11:30:00+09:00[Asia/Seoul]"), 60),
            at("2026-11-30T13:30:00+09:00[Asia/Seoul]")
        );
        // Before opening, the clock starts at opening.
        assert_eq!(
            split.add_minutes(at("2026-11-30T07:00:00+09:00[Asia/Seoul]"), 15),
            at("2026-11-30T09:15:00+09:00[Asia/Seoul]")
        );
        let always = BusinessHours::always(TimeZone::get("Asia/Seoul").unwrap());
        let t = at("2026-11-28T23:00:00+09:00[Asia/Seoul]");
        assert_eq!(always.add_minutes(t, 120), t + 2 * 3_600_000);
    }

    #[test]
    fn korean_holidays_are_skipped() {
        let kr = BusinessHours::parse("Asia/Seoul", "mon-fri 09:00-18:00", &[], true).unwrap();
        // 2025-10-03 (Fri, National Foundation Day) through 10-09 (Hangul Day) is one long
        // break with Chuseok and its substitute day; work resumes Fri 10-10.
        assert_eq!(
            kr.add_minutes(at("2025-10-02T17:00:00+09:00[Asia/Seoul]"), 120),
            at("2025-10-10T10:00:00+09:00[Asia/Seoul]")
        );
        let custom = BusinessHours::parse(
            "Asia/Seoul",
            "mon-fri 09:00-18:00",
            &["2026-11-30".parse().unwrap()],
            false,
        )
        .unwrap();
        assert_eq!(
            custom.add_minutes(at("2026-11-30T08:00:00+09:00[Asia/Seoul]"), 60),
            at("2026-12-01T10:00:00+09:00[Asia/Seoul]")
        );
    }

    #[test]
    fn minutes_between_is_the_inverse_of_adding() {
        let h = weekdays();
        let from = at("2026-11-27T16:30:00+09:00[Asia/Seoul]");
        for minutes in [0, 1, 30, 31, 60, 480, 481, 5000] {
            let to = h.add_minutes(from, minutes);
            assert_eq!(h.minutes_between(from, to), minutes, "{minutes}");
        }
        assert_eq!(h.minutes_between(from, from - 1), 0);
    }

    #[test]
    fn schedules_that_make_no_sense_are_refused() {
        for bad in [
            "",
            "mon-fri",
            "fri-mon 09:00-17:00",
            "mon 17:00-09:00",
            "mon 09:00-12:00, 11:00-13:00",
            "funday 09:00-17:00",
            "mon 9-17",
            "mon 09:00-24:30",
        ] {
            assert!(
                BusinessHours::parse("Asia/Seoul", bad, &[], false).is_err(),
                "{bad:?} was accepted"
            );
        }
        assert!(BusinessHours::parse("Mars/Base", "mon 09:00-17:00", &[], false).is_err());
        assert!(BusinessHours::parse("UTC", "mon,wed 00:00-24:00", &[], false).is_ok());
    }
}
