//! Life events (birthday, wedding anniversary, membership date, custom) and when each
//! next falls, so campaigns can trigger "30 days before the anniversary".

use crate::{CoreError, CoreResult};
use jiff::civil::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeEventKind {
    Birthday,
    WeddingAnniversary,
    Membership,
    Custom,
}

impl LifeEventKind {
    pub fn parse(s: &str) -> CoreResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "birthday" => Ok(Self::Birthday),
            "wedding_anniversary" | "anniversary" => Ok(Self::WeddingAnniversary),
            "membership" => Ok(Self::Membership),
            "custom" => Ok(Self::Custom),
            _ => Err(CoreError::new(
                "kind",
                format!(
                    "unknown life event {s:?}; use birthday, wedding_anniversary, membership or custom"
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Birthday => "birthday",
            Self::WeddingAnniversary => "wedding_anniversary",
            Self::Membership => "membership",
            Self::Custom => "custom",
        }
    }
}

pub fn parse_date(s: &str) -> CoreResult<Date> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| CoreError::new("date", format!("not a date (YYYY-MM-DD): {s:?}")))
}

/// The first day on or after `from` on which a yearly event falls. A 29 February event is
/// kept on 28 February in common years, as Korean and most Western calendars do.
pub fn next_occurrence(date: Date, from: Date) -> Date {
    let in_year = |year: i16| {
        Date::new(year, date.month(), date.day())
            .unwrap_or_else(|_| Date::new(year, date.month(), 28).unwrap_or(date))
    };
    let this_year = in_year(from.year());
    if this_year >= from {
        this_year
    } else {
        in_year(from.year() + 1)
    }
}

crate::read_by_name!(LifeEventKind);

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn yearly_recurrence() {
        assert_eq!(
            next_occurrence(d("1990-05-08"), d("2026-01-01")),
            d("2026-05-08")
        );
        assert_eq!(
            next_occurrence(d("1990-05-08"), d("2026-05-08")),
            d("2026-05-08")
        );
        assert_eq!(
            next_occurrence(d("1990-05-08"), d("2026-05-09")),
            d("2027-05-08")
        );
        assert_eq!(
            next_occurrence(d("2000-02-29"), d("2026-01-01")),
            d("2026-02-28")
        );
        assert_eq!(
            next_occurrence(d("2000-02-29"), d("2027-03-01")),
            d("2028-02-29")
        );
        assert!(parse_date("2026-13-01").is_err());
        assert_eq!(
            LifeEventKind::parse("anniversary").unwrap(),
            LifeEventKind::WeddingAnniversary
        );
    }
}
