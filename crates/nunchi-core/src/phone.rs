//! Phone numbers normalised to E.164 (`+821012345678`), so `010-1234-5678`,
//! `+82 10 1234 5678` and `82-010-1234-5678` are one identity.
//!
//! Hand-written rather than libphonenumber: we need normalisation and a plausibility check
//! for the regions our brands sell in, not carrier metadata, and the full port costs more
//! build time than the rest of the core together.

use crate::{CoreError, CoreResult};

/// A region whose national numbering plan we understand when a number has no `+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Kr,
    Jp,
    Us,
    Gb,
}

impl Region {
    fn country_code(self) -> &'static str {
        match self {
            Self::Kr => "82",
            Self::Jp => "81",
            Self::Us => "1",
            Self::Gb => "44",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Parses with Korea as the region for numbers written without a country code.
    pub fn parse(raw: &str) -> CoreResult<Self> {
        Self::parse_in(raw, Region::Kr)
    }

    pub fn parse_in(raw: &str, region: Region) -> CoreResult<Self> {
        let err = |why: &str| CoreError::new("phone", format!("{why}: {raw:?}"));
        let trimmed = raw.trim();
        let mut digits = String::with_capacity(trimmed.len());
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(err("unexpected character")),
            }
        }
        let international = trimmed.starts_with('+') || digits.starts_with("00");
        let mut full = if trimmed.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else if region == Region::Us {
            match digits.len() {
                10 => format!("1{digits}"),
                11 if digits.starts_with('1') => digits,
                _ => return Err(err("a US number has 10 digits")),
            }
        } else if let Some(national) = digits.strip_prefix('0') {
            format!("{}{national}", region.country_code())
        } else if region == Region::Kr && digits.len() == 8 && digits.starts_with('1') {
            // Korean nationwide service numbers such as 1588-1234 have no trunk prefix.
            format!("82{digits}")
        } else if digits.starts_with(region.country_code()) && digits.len() > 9 {
            digits
        } else {
            return Err(err(
                "national numbers start with 0; add a country code with +",
            ));
        };
        // `+82 010…` (country code followed by the trunk 0) is a common way to write it.
        if international && full.starts_with("820") {
            full.remove(2);
        }
        if !(8..=15).contains(&full.len()) {
            return Err(err("E.164 numbers have 8 to 15 digits"));
        }
        if full.starts_with('0') {
            return Err(err("country codes never start with 0"));
        }
        if let Some(national) = full.strip_prefix("82") {
            let plausible = if national.starts_with("10") {
                national.len() == 10
            } else if national.starts_with('1') && national.len() == 8 {
                true
            } else if national.starts_with('1') {
                (9..=10).contains(&national.len())
            } else if national.starts_with('2') {
                (8..=9).contains(&national.len())
            } else {
                (9..=10).contains(&national.len())
            };
            if !plausible {
                return Err(err("not a valid Korean number"));
            }
        }
        Ok(Self(format!("+{full}")))
    }

    /// The E.164 form, `+821012345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How the number is dialled at home (`01012345678` for Korea), used as a search key
    /// because Korean agents type numbers that way.
    pub fn national_digits(&self) -> String {
        match self.0.strip_prefix("+82") {
            Some(n) if !n.starts_with('1') || n.starts_with("10") || n.len() > 8 => format!("0{n}"),
            Some(n) => n.to_string(),
            None => self.0.trim_start_matches('+').to_string(),
        }
    }

    /// How people write the number: `010-1234-5678`, `02-123-4567`, `1588-1234` for Korean
    /// numbers; E.164 for the rest, which is unambiguous abroad.
    pub fn display(&self) -> String {
        if !self.0.starts_with("+82") {
            return self.0.clone();
        }
        let n = self.national_digits();
        let split = |head: usize| {
            let rest = &n[head..];
            let mid = rest.len() - 4;
            format!("{}-{}-{}", &n[..head], &rest[..mid], &rest[mid..])
        };
        match n.len() {
            8 if n.starts_with('1') => format!("{}-{}", &n[..4], &n[4..]),
            9 | 10 if n.starts_with("02") => split(2),
            10 | 11 if n.starts_with('0') => split(3),
            _ => self.0.clone(),
        }
    }

    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, want: &str) {
        assert_eq!(
            Phone::parse(raw).map(|p| p.0),
            Ok(want.to_string()),
            "{raw}"
        );
    }

    #[test]
    fn korean_forms() {
        check("010-1234-5678", "+821012345678");
        check("01012345678", "+821012345678");
        check("+82 10-1234-5678", "+821012345678");
        check("+82 010 1234 5678", "+821012345678");
        check("0082-10-1234-5678", "+821012345678");
        check("02-123-4567", "+8221234567");
        check("031-1234-5678", "+823112345678");
        check("1588-1234", "+8215881234");
        check("(02) 1234 5678", "+82212345678");
    }

    #[test]
    fn other_regions() {
        check("+1 (415) 555-0100", "+14155550100");
        check("+44 20 7946 0958", "+442079460958");
        assert_eq!(
            Phone::parse_in("415-555-0100", Region::Us)
                .unwrap()
                .as_str(),
            "+14155550100"
        );
        assert_eq!(
            Phone::parse_in("090-1234-5678", Region::Jp)
                .unwrap()
                .as_str(),
            "+819012345678"
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "abc",
            "010-1234",
            "010-1234-56789",
            "+0 123456789",
            "12345",
            "010-12a4-5678",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn display_as_written_in_korea() {
        let d = |s: &str| Phone::parse(s).unwrap().display();
        assert_eq!(d("+821012345678"), "010-1234-5678");
        assert_eq!(d("02-123-4567"), "02-123-4567");
        assert_eq!(d("0212345678"), "02-1234-5678");
        assert_eq!(d("031-123-4567"), "031-123-4567");
        assert_eq!(d("1588-1234"), "1588-1234");
        assert_eq!(d("+1 415 555 0100"), "+14155550100");
    }

    #[test]
    fn national_digits_for_search() {
        assert_eq!(
            Phone::parse("010-1234-5678").unwrap().national_digits(),
            "01012345678"
        );
        assert_eq!(
            Phone::parse("1588-1234").unwrap().national_digits(),
            "15881234"
        );
        assert_eq!(
            Phone::parse("+14155550100").unwrap().national_digits(),
            "14155550100"
        );
        assert_eq!(Phone::parse("010-1234-5678").unwrap().last_four(), "5678");
    }

    proptest::proptest! {
        #[test]
        fn normalising_is_idempotent(n in 10_000_000u32..99_999_999) {
            let p = Phone::parse(&format!("010-{:04}-{:04}", n / 10_000, n % 10_000)).unwrap();
            proptest::prop_assert_eq!(Phone::parse(p.as_str()).unwrap(), p);
        }
    }
}
