//! Instants as Unix milliseconds, the one time representation every layer shares, so the
//! two database backends store the same integers and no layer guesses a time zone.

use jiff::Timestamp;

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    pub fn to_timestamp(self) -> Timestamp {
        Timestamp::from_millisecond(self.0).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    pub fn from_timestamp(ts: Timestamp) -> Self {
        Self(ts.as_millisecond())
    }

    /// Parses RFC 3339 (`2026-05-01T10:00:00+09:00`), a plain date (midnight UTC) or Unix seconds.
    pub fn parse(s: &str) -> crate::CoreResult<Self> {
        let s = s.trim();
        if let Ok(ts) = s.parse::<Timestamp>() {
            return Ok(Self::from_timestamp(ts));
        }
        if let Ok(date) = s.parse::<jiff::civil::Date>()
            && let Ok(ts) = date.to_zoned(jiff::tz::TimeZone::UTC)
        {
            return Ok(Self::from_timestamp(ts.timestamp()));
        }
        if let Ok(secs) = s.parse::<i64>()
            && let Ok(ts) = Timestamp::from_second(secs)
        {
            return Ok(Self::from_timestamp(ts));
        }
        Err(crate::CoreError::new(
            "timestamp",
            format!("not an RFC 3339 time, date or Unix seconds: {s:?}"),
        ))
    }

    /// RFC 3339 in UTC with second precision.
    pub fn to_rfc3339(self) -> String {
        self.to_timestamp()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(Millis::parse("1970-01-01T00:00:01Z").unwrap(), Millis(1000));
        assert_eq!(Millis::parse("1970-01-02").unwrap(), Millis(86_400_000));
        assert_eq!(Millis::parse("60").unwrap(), Millis(60_000));
        assert_eq!(
            Millis::parse("2026-01-01T09:00:00+09:00")
                .unwrap()
                .to_rfc3339(),
            "2026-01-01T00:00:00Z"
        );
        assert!(Millis::parse("yesterday").is_err());
    }
}
