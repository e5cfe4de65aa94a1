//! Consent to contact, per channel and purpose, with the Korean advertising rules of
//! 정보통신망법 §50 applied here once rather than by each marketer: ads need prior
//! consent, nothing between 21:00 and 08:00 local time without separate night-time
//! consent, and consent older than two years must be re-confirmed.

use crate::{CoreError, CoreResult, time::Millis};

/// A channel through which the brand can reach a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactChannel {
    Email,
    Sms,
    Push,
    Kakao,
    Line,
    Phone,
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 6] = [
        Self::Email,
        Self::Sms,
        Self::Push,
        Self::Kakao,
        Self::Line,
        Self::Phone,
    ];

    pub fn parse(s: &str) -> CoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                CoreError::new(
                    "channel",
                    format!(
                        "unknown contact channel {s:?}; use email, sms, push, kakao, line or phone"
                    ),
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
            Self::Kakao => "kakao",
            Self::Line => "line",
            Self::Phone => "phone",
        }
    }
}

/// What a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Advertising messages at all (광고성 정보 수신 동의).
    Marketing,
    /// Advertising between 21:00 and 08:00 (야간 광고 수신 동의), asked for separately.
    NightAds,
}

impl Purpose {
    pub fn parse(s: &str) -> CoreResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "marketing" => Ok(Self::Marketing),
            "night_ads" | "night" => Ok(Self::NightAds),
            _ => Err(CoreError::new(
                "purpose",
                format!("unknown consent purpose {s:?}; use marketing or night_ads"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "marketing",
            Self::NightAds => "night_ads",
        }
    }
}

/// The latest recorded answer for one channel and purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub channel: ContactChannel,
    pub purpose: Purpose,
    pub granted: bool,
    pub at: Millis,
    /// Where the answer came from: `signup_form`, `csv_import`, `agent`, `api`, …
    pub source: String,
}

/// Consent must be re-confirmed every two years (§50 ⑧, enforcement decree art. 62-3).
pub const RECONFIRM_AFTER_MS: i64 = 2 * 365 * 24 * 3600 * 1000;

/// Why an advertising message may not be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdBlock {
    NoConsent,
    ConsentExpired,
    NightTimeWithoutConsent,
}

/// True between 21:00 and 08:00 in the customer's time zone.
pub fn is_night(now: Millis, tz: &jiff::tz::TimeZone) -> bool {
    let hour = now.to_timestamp().to_zoned(tz.clone()).hour();
    !(8..21).contains(&hour)
}

/// Whether an advertising message may go to this customer on this channel now.
pub fn ad_allowed(
    consents: &[Consent],
    channel: ContactChannel,
    now: Millis,
    tz: &jiff::tz::TimeZone,
) -> Result<(), AdBlock> {
    let find = |purpose| {
        consents
            .iter()
            .filter(|c| c.channel == channel && c.purpose == purpose)
            .max_by_key(|c| c.at)
    };
    let marketing = find(Purpose::Marketing)
        .filter(|c| c.granted)
        .ok_or(AdBlock::NoConsent)?;
    if now.0 - marketing.at.0 > RECONFIRM_AFTER_MS {
        return Err(AdBlock::ConsentExpired);
    }
    if is_night(now, tz) {
        let night = find(Purpose::NightAds)
            .filter(|c| c.granted)
            .ok_or(AdBlock::NightTimeWithoutConsent)?;
        if now.0 - night.at.0 > RECONFIRM_AFTER_MS {
            return Err(AdBlock::ConsentExpired);
        }
    }
    Ok(())
}

crate::read_by_name!(ContactChannel, Purpose);

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(purpose: Purpose, granted: bool, at: &str) -> Consent {
        Consent {
            channel: ContactChannel::Sms,
            purpose,
            granted,
            at: Millis::parse(at).unwrap(),
            source: "test".into(),
        }
    }

    #[test]
    fn korean_ad_rules() {
        let seoul = jiff::tz::TimeZone::get("Asia/Seoul").unwrap();
        let noon = Millis::parse("2026-06-01T12:00:00+09:00").unwrap();
        let night = Millis::parse("2026-06-01T22:30:00+09:00").unwrap();
        let early = Millis::parse("2026-06-02T07:59:00+09:00").unwrap();
        let only_marketing = vec![consent(Purpose::Marketing, true, "2026-01-01")];
        assert_eq!(
            ad_allowed(&only_marketing, ContactChannel::Sms, noon, &seoul),
            Ok(())
        );
        assert_eq!(
            ad_allowed(&only_marketing, ContactChannel::Sms, night, &seoul),
            Err(AdBlock::NightTimeWithoutConsent)
        );
        assert_eq!(
            ad_allowed(&only_marketing, ContactChannel::Sms, early, &seoul),
            Err(AdBlock::NightTimeWithoutConsent)
        );
        assert_eq!(
            ad_allowed(&only_marketing, ContactChannel::Email, noon, &seoul),
            Err(AdBlock::NoConsent)
        );
        let mut both = only_marketing.clone();
        both.push(consent(Purpose::NightAds, true, "2026-01-01"));
        assert_eq!(
            ad_allowed(&both, ContactChannel::Sms, night, &seoul),
            Ok(())
        );
        let withdrawn = vec![
            consent(Purpose::Marketing, true, "2026-01-01"),
            consent(Purpose::Marketing, false, "2026-03-01"),
        ];
        assert_eq!(
            ad_allowed(&withdrawn, ContactChannel::Sms, noon, &seoul),
            Err(AdBlock::NoConsent)
        );
        let old = vec![consent(Purpose::Marketing, true, "2024-01-01")];
        assert_eq!(
            ad_allowed(&old, ContactChannel::Sms, noon, &seoul),
            Err(AdBlock::ConsentExpired)
        );
    }

    #[test]
    fn night_is_local() {
        let utc_noon = Millis::parse("2026-06-01T12:00:00Z").unwrap();
        assert!(
            is_night(utc_noon, &jiff::tz::TimeZone::get("Asia/Seoul").unwrap()),
            "21:00 in Seoul"
        );
        assert!(!is_night(utc_noon, &jiff::tz::TimeZone::UTC));
    }
}
