//! The Korean lunisolar calendar (음력), computed from the sky rather than read from a
//! table: a month starts on the day, in Korean standard time, of a new moon; the month
//! holding the December solstice is the 11th; a year of 13 months between two 11th
//! months makes the first month without a principal solar term (중기) a leap month (윤달).
//! The day boundary follows the meridian Korea's calendar used in each period.

use jiff::civil::Date;

use super::astro;
use crate::{CoreError, CoreResult};

/// A date in the lunar calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LunarDate {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    /// The leap month (윤달) that follows the month of the same number.
    pub leap: bool,
}

impl std::fmt::Display for LunarDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        if self.leap {
            f.write_str(" leap")?;
        }
        Ok(())
    }
}

/// The years this module converts; the astronomy holds far beyond, the time-zone history
/// and the tests do not.
pub const FIRST_YEAR: i16 = 1900;
pub const LAST_YEAR: i16 = 2100;

#[derive(Debug, Clone, Copy)]
struct Month {
    start: Date,
    number: i8,
    leap: bool,
}

/// The meridian the calendar's days are counted in, as hours east of UTC: 120°E before
/// 1912 (as KASI's tables count them), 127.5°E from 21 March 1954 to 9 August 1961,
/// 135°E otherwise.
fn utc_offset_hours(jd_ut: f64) -> f64 {
    const JD_1912: f64 = 2_419_402.5;
    const HALF_PAST: (f64, f64) = (2_434_822.5, 2_437_521.5);
    if jd_ut < JD_1912 {
        8.0
    } else if (HALF_PAST.0..HALF_PAST.1).contains(&jd_ut) {
        8.5
    } else {
        9.0
    }
}

/// The Korean civil date of a moment (Julian Day, UT).
fn korean_date(jd_ut: f64) -> Date {
    let local = jd_ut + utc_offset_hours(jd_ut) / 24.0;
    let days = (local - astro::UNIX_EPOCH_JD).floor() as i64;
    date_from_unix_days(days)
}

fn date_from_unix_days(days: i64) -> Date {
    Date::new(1970, 1, 1)
        .expect("epoch")
        .checked_add(jiff::Span::new().days(days))
        .expect("date in range")
}

fn unix_days(date: Date) -> i64 {
    i64::from(
        date.since((jiff::Unit::Day, Date::new(1970, 1, 1).expect("epoch")))
            .expect("date in range")
            .get_days(),
    )
}

fn start_of(k: i64) -> Date {
    korean_date(astro::new_moon(k))
}

/// The number of the new moon that starts the month holding `date`.
fn month_holding(date: Date) -> i64 {
    // The moment of the date's last instant, in UT, bounds the new moons that start on or
    // before it.
    let end_jd = astro::UNIX_EPOCH_JD + (unix_days(date) + 1) as f64;
    let mut k = astro::new_moon_at_or_before(end_jd);
    while start_of(k) > date {
        k -= 1;
    }
    while start_of(k + 1) <= date {
        k += 1;
    }
    k
}

/// The months from the 11th month holding the December solstice of `year` up to, not
/// including, the next 11th month, numbered, with any leap month marked.
fn months_after_solstice(year: i32) -> Vec<Month> {
    let first = month_holding(korean_date(astro::december_solstice(year)));
    let next = month_holding(korean_date(astro::december_solstice(year + 1)));
    let starts: Vec<Date> = (first..=next).map(start_of).collect();
    let has_leap = next - first == 13;
    let mut months = Vec::with_capacity(13);
    let mut number = 11_i8;
    let mut leap_found = false;
    for i in 0..(next - first) as usize {
        let (start, end) = (starts[i], starts[i + 1]);
        let leap = has_leap && !leap_found && i > 0 && !holds_principal_term(start, end);
        if leap {
            leap_found = true;
        } else if i > 0 {
            number = number % 12 + 1;
        }
        months.push(Month {
            start,
            number,
            leap,
        });
    }
    months.push(Month {
        start: starts[starts.len() - 1],
        number: 11,
        leap: false,
    });
    months
}

/// Whether a principal solar term (a multiple of 30° of solar longitude) falls on a day
/// in `[start, end)`.
fn holds_principal_term(start: Date, end: Date) -> bool {
    let midnight = astro::UNIX_EPOCH_JD + unix_days(start) as f64;
    let midnight = midnight - utc_offset_hours(midnight) / 24.0;
    let longitude = astro::solar_longitude(midnight);
    let target = ((longitude / 30.0).floor() + 1.0) * 30.0;
    let days_ahead = (target - longitude) / 0.9856;
    let moment = astro::solar_longitude_moment(target % 360.0, midnight + days_ahead);
    korean_date(moment) < end
}

/// Solar years `FIRST_YEAR..=LAST_YEAR`; lunar years from the one that was current on
/// 1 January `FIRST_YEAR`.
fn check_year(year: i16) -> CoreResult<()> {
    if (FIRST_YEAR - 1..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(CoreError::new(
            "date",
            format!("the lunar calendar covers {FIRST_YEAR}–{LAST_YEAR}, not {year}"),
        ))
    }
}

/// The lunar date of a solar (Gregorian) date.
pub fn to_lunar(date: Date) -> CoreResult<LunarDate> {
    check_year(date.year())?;
    let year = i32::from(date.year());
    let this = months_after_solstice(year - 1);
    let (months, base_year) = if date >= this[this.len() - 1].start {
        (months_after_solstice(year), year)
    } else {
        (this, year - 1)
    };
    let i = months
        .iter()
        .rposition(|m| m.start <= date)
        .expect("the months cover the year");
    let m = months[i];
    let past_new_year = months[..=i].iter().any(|m| m.number == 1 && !m.leap);
    let lunar_year = if past_new_year {
        base_year + 1
    } else {
        base_year
    };
    let day = unix_days(date) - unix_days(m.start) + 1;
    Ok(LunarDate {
        year: lunar_year as i16,
        month: m.number,
        day: day as i8,
        leap: m.leap,
    })
}

/// The solar date of a lunar date; an impossible one (a 30th day in a 29-day month, a
/// leap month that year does not have) is an error saying so.
pub fn to_solar(lunar: LunarDate) -> CoreResult<Date> {
    check_year(lunar.year)?;
    if !(1..=12).contains(&lunar.month) || !(1..=30).contains(&lunar.day) {
        return Err(CoreError::new(
            "date",
            format!("no lunar month {} day {}", lunar.month, lunar.day),
        ));
    }
    let year = i32::from(lunar.year);
    // Months 11 and 12 (and their leaps) open the run after the solstice of the same
    // year; months 1–10 sit in the run after the previous year's solstice.
    let (months, skip_to_new_year) = if lunar.month >= 11 {
        (months_after_solstice(year), false)
    } else {
        (months_after_solstice(year - 1), true)
    };
    let mut seen_new_year = !skip_to_new_year;
    let mut found = None;
    for (i, m) in months.iter().enumerate().take(months.len() - 1) {
        if m.number == 1 && !m.leap {
            if !skip_to_new_year {
                break;
            }
            seen_new_year = true;
        }
        if seen_new_year && m.number == lunar.month && m.leap == lunar.leap {
            found = Some((m.start, months[i + 1].start));
            break;
        }
    }
    let Some((start, end)) = found else {
        return Err(CoreError::new(
            "date",
            if lunar.leap {
                format!("{} has no leap month {}", lunar.year, lunar.month)
            } else {
                format!("no lunar month {} in {}", lunar.month, lunar.year)
            },
        ));
    };
    let length = unix_days(end) - unix_days(start);
    if i64::from(lunar.day) > length {
        return Err(CoreError::new(
            "date",
            format!(
                "lunar {}-{:02}{} has {length} days",
                lunar.year,
                lunar.month,
                if lunar.leap { " (leap)" } else { "" }
            ),
        ));
    }
    Ok(date_from_unix_days(
        unix_days(start) + i64::from(lunar.day) - 1,
    ))
}

/// The solar date on which a yearly lunar anniversary (a lunar birthday, 음력 생일) falls
/// in lunar year `year`: a leap-month date is kept in the ordinary month of the same
/// number, and a 30th day in a 29-day month moves to the 29th, as Korean families do.
pub fn anniversary_in(month: i8, day: i8, year: i16) -> CoreResult<Date> {
    let plain = LunarDate {
        year,
        month,
        day,
        leap: false,
    };
    match to_solar(plain) {
        Ok(d) => Ok(d),
        Err(_) if day == 30 => to_solar(LunarDate { day: 29, ..plain }),
        Err(e) => Err(e),
    }
}

/// The first solar date on or after `from` on which a lunar anniversary falls.
pub fn next_anniversary(month: i8, day: i8, from: Date) -> CoreResult<Date> {
    let year = to_lunar(from)?.year;
    for y in year - 1..=year + 1 {
        let d = anniversary_in(month, day, y)?;
        if d >= from {
            return Ok(d);
        }
    }
    Err(CoreError::new("date", "no lunar anniversary found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn lunar(y: i16, m: i8, day: i8, leap: bool) -> LunarDate {
        LunarDate {
            year: y,
            month: m,
            day,
            leap,
        }
    }

    #[test]
    fn new_years_and_leap_months() {
        // 설날 2026 and 2024, 추석 2025; 2023 had a leap second month (윤2월).
        assert_eq!(to_lunar(d("2026-02-17")).unwrap(), lunar(2026, 1, 1, false));
        assert_eq!(to_solar(lunar(2024, 1, 1, false)).unwrap(), d("2024-02-10"));
        assert_eq!(
            to_solar(lunar(2025, 8, 15, false)).unwrap(),
            d("2025-10-06")
        );
        assert_eq!(to_solar(lunar(2023, 2, 1, true)).unwrap(), d("2023-03-22"));
        assert!(to_solar(lunar(2024, 2, 1, true)).is_err());
        assert_eq!(to_lunar(d("2023-03-22")).unwrap(), lunar(2023, 2, 1, true));
    }

    #[test]
    fn round_trip_every_day_of_a_decade() {
        let mut day = d("2020-01-01");
        while day < d("2030-01-01") {
            let l = to_lunar(day).unwrap();
            assert_eq!(to_solar(l).unwrap(), day, "{day} -> {l}");
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn lunar_birthdays() {
        // Born on lunar 1990-08-15: the birthday in 2026 is 추석 2026.
        assert_eq!(
            next_anniversary(8, 15, d("2026-01-01")).unwrap(),
            d("2026-09-25")
        );
        assert_eq!(
            next_anniversary(8, 15, d("2026-09-26")).unwrap(),
            d("2027-09-15")
        );
    }
}
