//! Korea's public holidays (공휴일), computed from the laws that set them: the fixed days
//! of the Public Holidays Act in the years each applied, 설날, 부처님오신날 and 추석 from
//! the lunar calendar, election days by Article 34 of the Public Official Election Act,
//! and substitute days (대체 휴일) by the rules of each year since 2014. Days declared
//! one at a time (temporary holidays, early elections) can only be listed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};

use super::lunar::{self, LunarDate};
use crate::{CoreError, CoreResult};

/// One day off, with every name it has that day (two holidays can share a date), joined
/// by "; " in each language's sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name_ko: String,
    pub name_en: String,
}

/// Years this module answers for.
pub const FIRST_YEAR: i16 = 1990;
pub const LAST_YEAR: i16 = lunar::LAST_YEAR;

type Name = (&'static str, &'static str);

const NEW_YEAR: Name = ("신정연휴", "New Year's Day");
const SEOLLAL: Name = ("설날", "Korean New Year");
const CHUSEOK: Name = ("추석", "Chuseok");
const NATIONAL_ASSEMBLY: Name = ("국회의원 선거일", "National Assembly Election Day");
const PRESIDENTIAL: Name = ("대통령 선거일", "Presidential Election Day");
const LOCAL: Name = ("지방선거일", "Local Election Day");
const TEMPORARY: Name = ("임시공휴일", "Temporary Public Holiday");

/// Days declared one by one: elections before the 2006 rules, early presidential
/// elections, temporary holidays.
const DECLARED: [(i16, i8, i8, Name); 23] = [
    (1991, 3, 26, LOCAL),
    (1991, 6, 20, LOCAL),
    (1992, 3, 24, NATIONAL_ASSEMBLY),
    (1992, 12, 18, PRESIDENTIAL),
    (1995, 6, 27, LOCAL),
    (1996, 4, 11, NATIONAL_ASSEMBLY),
    (1997, 12, 18, PRESIDENTIAL),
    (1998, 6, 4, LOCAL),
    (2000, 4, 13, NATIONAL_ASSEMBLY),
    (2002, 6, 13, LOCAL),
    (
        2002,
        7,
        1,
        (
            "2002년 한일 월드컵 대표팀 4강 진출",
            "2002 FIFA World Cup National Team Semi-Finals Celebrations",
        ),
    ),
    (2002, 12, 19, PRESIDENTIAL),
    (2004, 4, 15, NATIONAL_ASSEMBLY),
    (2006, 5, 31, LOCAL),
    (2015, 8, 14, TEMPORARY),
    (2016, 5, 6, TEMPORARY),
    (2017, 5, 9, PRESIDENTIAL),
    (2017, 10, 2, TEMPORARY),
    (2020, 8, 17, TEMPORARY),
    (2023, 10, 2, TEMPORARY),
    (2024, 10, 1, ("국군의 날", "Armed Forces Day")),
    (2025, 1, 27, TEMPORARY),
    (2025, 6, 3, PRESIDENTIAL),
];

/// A year's holidays as they are added.
struct Year {
    year: i16,
    days: BTreeMap<Date, Vec<(String, String)>>,
    /// Holidays that get a substitute when they fall on a Saturday or a Sunday.
    weekend_substituted: Vec<Date>,
    /// The three days of 설날 and 추석, with the holiday's name: a substitute only when
    /// one falls on a Sunday (or shares its day with another holiday).
    three_day: BTreeMap<Date, Name>,
}

impl Year {
    fn add(&mut self, date: Date, (ko, en): (&str, &str)) -> Date {
        self.days
            .entry(date)
            .or_default()
            .push((ko.to_string(), en.to_string()));
        date
    }

    fn fixed(&mut self, month: i8, day: i8, name: Name) -> Date {
        let date = Date::new(self.year, month, day).expect("a valid fixed holiday");
        self.add(date, name)
    }

    /// Substitutes for weekend holidays from `since` on.
    fn substituted_from(&mut self, date: Date, since: i16) {
        if self.year >= since {
            self.weekend_substituted.push(date);
        }
    }

    fn lunar(&self, month: i8, day: i8) -> CoreResult<Date> {
        lunar::to_solar(LunarDate {
            year: self.year,
            month,
            day,
            leap: false,
        })
    }

    fn three_days(&mut self, center: Date, name: Name) {
        let (ko, en) = name;
        let eve = center.yesterday().expect("in range");
        self.add(
            eve,
            (&format!("{ko} 전날"), &format!("The day preceding {en}")),
        );
        self.add(center, name);
        let next = center.tomorrow().expect("in range");
        self.add(
            next,
            (&format!("{ko} 다음날"), &format!("The second day of {en}")),
        );
        for d in [eve, center, next] {
            self.three_day.insert(d, name);
        }
    }

    fn is_off(&self, date: Date) -> bool {
        self.days.contains_key(&date) || is_weekend(date)
    }

    /// The next day after `date` that is neither a weekend nor a holiday, within the year.
    fn next_workday(&self, date: Date) -> Date {
        let mut d = date.tomorrow().expect("in range");
        while d.year() == self.year {
            if !self.is_off(d) {
                return d;
            }
            d = d.tomorrow().expect("in range");
        }
        date
    }

    /// The substitute days (대체 휴일): for a covered holiday on a weekend day its rule
    /// names, or sharing its day with another holiday, the first workday after it.
    fn substitutes(&mut self) {
        let mut covered: Vec<Date> = self
            .weekend_substituted
            .iter()
            .chain(self.three_day.keys())
            .copied()
            .collect();
        covered.sort();
        covered.dedup();
        for date in covered {
            let three_day = self.three_day.get(&date).copied();
            let on_weekend = match three_day {
                Some(_) => date.weekday() == Weekday::Sunday,
                None => is_weekend(date),
            };
            let names: Vec<(String, String)> = match three_day {
                Some((ko, en)) => vec![(ko.to_string(), en.to_string())],
                None => self.days[&date].clone(),
            };
            if !on_weekend && self.days[&date].len() < 2 {
                continue;
            }
            let substitute = self.next_workday(date);
            if substitute == date {
                continue;
            }
            for (ko, en) in names {
                self.add(
                    substitute,
                    (
                        &format!("{ko} 대체 휴일"),
                        &format!("Alternative holiday for {en}"),
                    ),
                );
            }
        }
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The first Wednesday on or after a day.
fn wednesday_from(year: i16, month: i8, day: i8) -> Date {
    let mut d = Date::new(year, month, day).expect("valid");
    while d.weekday() != Weekday::Wednesday {
        d = d.tomorrow().expect("in range");
    }
    d
}

/// Election days set by Article 34: the first Wednesday from a number of days before the
/// term ends, a week later where that collides with a holiday.
fn elections(y: &mut Year, memorial_day: Date) {
    let year = y.year;
    if year < 2007 {
        return;
    }
    if (year - 2008) % 4 == 0 {
        // The Assembly's term ends on 29 May: 50 days before is 9 April.
        y.add(wednesday_from(year, 4, 9), NATIONAL_ASSEMBLY);
    }
    if year <= 2024 && (year - 2007) % 5 == 0 {
        if year <= 2012 {
            // The third Wednesday of December.
            y.add(wednesday_from(year, 12, 15), PRESIDENTIAL);
        } else if year >= 2022 {
            // 1 March moved it to the second Wednesday of March.
            y.add(wednesday_from(year, 3, 8), PRESIDENTIAL);
        }
    } else if year >= 2030 && (year - 2030) % 5 == 0 {
        // Since the 2025 election the term ends on 3 June: 70 days before is 25 March.
        y.add(wednesday_from(year, 3, 25), PRESIDENTIAL);
    }
    if (year - 2010) % 4 == 0 {
        // Local terms end on 30 June: 30 days before is 31 May; Memorial Day on the
        // Wednesday or the day after moves the election a week.
        let first = wednesday_from(year, 5, 31);
        let day = if matches!(
            memorial_day.weekday(),
            Weekday::Wednesday | Weekday::Thursday
        ) {
            first
                .checked_add(jiff::Span::new().days(7))
                .expect("in range")
        } else {
            first
        };
        y.add(day, LOCAL);
    }
}

fn compute(year: i16) -> CoreResult<Vec<Holiday>> {
    let mut y = Year {
        year,
        days: BTreeMap::new(),
        weekend_substituted: Vec::new(),
        three_day: BTreeMap::new(),
    };
    y.fixed(1, 1, NEW_YEAR);
    if year <= 1998 {
        y.fixed(1, 2, NEW_YEAR);
    }
    let seollal = y.lunar(1, 1)?;
    y.three_days(seollal, SEOLLAL);
    let mar_1 = y.fixed(3, 1, ("삼일절", "Independence Movement Day"));
    y.substituted_from(mar_1, 2022);
    if year <= 2005 {
        y.fixed(4, 5, ("식목일", "Tree Planting Day"));
    }
    let buddha_ko = if year >= 2017 {
        "부처님오신날"
    } else {
        "석가탄신일"
    };
    let buddha = y.lunar(4, 8)?;
    y.add(buddha, (buddha_ko, "Buddha's Birthday"));
    y.substituted_from(buddha, 2023);
    if year >= 2026 {
        let labor = y.fixed(5, 1, ("노동절", "Labor Day"));
        y.substituted_from(labor, 2026);
    }
    let children = y.fixed(5, 5, ("어린이날", "Children's Day"));
    y.substituted_from(children, 2015);
    let memorial = y.fixed(6, 6, ("현충일", "Memorial Day"));
    if year <= 2007 || year >= 2026 {
        let constitution = y.fixed(7, 17, ("제헌절", "Constitution Day"));
        y.substituted_from(constitution, 2026);
    }
    let liberation = y.fixed(8, 15, ("광복절", "Liberation Day"));
    y.substituted_from(liberation, 2021);
    if year <= 1990 {
        y.fixed(10, 1, ("국군의 날", "Armed Forces Day"));
    }
    let foundation = y.fixed(10, 3, ("개천절", "National Foundation Day"));
    y.substituted_from(foundation, 2021);
    if year <= 1990 || year >= 2013 {
        let hangul = y.fixed(10, 9, ("한글날", "Hangul Day"));
        y.substituted_from(hangul, 2021);
    }
    let chuseok = y.lunar(8, 15)?;
    y.three_days(chuseok, CHUSEOK);
    let christmas = y.fixed(12, 25, ("기독탄신일", "Christmas Day"));
    y.substituted_from(christmas, 2023);
    elections(&mut y, memorial);
    if year >= 2014 {
        y.substitutes();
    }
    for &(_, month, day, name) in DECLARED.iter().filter(|d| d.0 == year) {
        y.fixed(month, day, name);
    }
    Ok(y.days
        .into_iter()
        .map(|(date, names)| Holiday {
            date,
            name_ko: join(names.iter().map(|n| n.0.as_str())),
            name_en: join(names.iter().map(|n| n.1.as_str())),
        })
        .collect())
}

/// A date's names in each language, sorted, as the `holidays` package writes them.
fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    names.join("; ")
}

/// Korea's public holidays in a year, one entry per date.
pub fn korean(year: i16) -> CoreResult<Vec<Holiday>> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(CoreError::new(
            "year",
            format!("Korean holidays are known for {FIRST_YEAR}–{LAST_YEAR}, not {year}"),
        ));
    }
    compute(year)
}

/// Every Korean public holiday this module knows, computed once.
pub fn all_korean() -> &'static [Holiday] {
    static ALL: OnceLock<Vec<Holiday>> = OnceLock::new();
    ALL.get_or_init(|| {
        (FIRST_YEAR..=LAST_YEAR)
            .flat_map(|y| compute(y).expect("every year in range computes"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(year: i16) -> Vec<String> {
        korean(year)
            .unwrap()
            .iter()
            .map(|h| h.date.to_string())
            .collect()
    }

    #[test]
    fn substitute_days_follow_each_years_rules() {
        let y2025 = korean(2025).unwrap();
        let may_6 = y2025
            .iter()
            .find(|h| h.date.to_string() == "2025-05-06")
            .unwrap();
        assert_eq!(
            may_6.name_en,
            "Alternative holiday for Buddha's Birthday; Alternative holiday for Children's Day"
        );
        // 추석 2025 fell on 6 October, a Monday after the Sunday 5 October: the substitute
        // is the first workday after the three days and 한글날.
        assert!(dates(2025).contains(&"2025-10-08".to_string()));
        // 광복절 on a Saturday had no substitute in 2020 and has one from 2021.
        let substitute = |year: i16| {
            korean(year)
                .unwrap()
                .iter()
                .any(|h| h.name_en == "Alternative holiday for Liberation Day")
        };
        assert!(!substitute(2020));
        assert!(substitute(2021));
        assert!(korean(1989).is_err());
    }
}
