//! Tiers: the highest tier whose threshold the points earned over the rolling window
//! reach. Upgrades happen at once; downgrades follow the program (never, automatic, or
//! only after the tier was held for some days).

use serde::{Deserialize, Serialize};

use super::program::{DAY_MS, Downgrade};
use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// A short stable key (`sprout`), used by rules and segments.
    pub key: String,
    pub name_ko: String,
    pub name_en: String,
    /// Points earned over the window that reach this tier.
    pub threshold: i64,
}

/// The tiers if they make a ladder: unique keys, unique thresholds, sorted by threshold.
pub fn checked_ladder(mut tiers: Vec<Tier>) -> CoreResult<Vec<Tier>> {
    if tiers.len() > 20 {
        return Err(CoreError::new("tiers", "at most 20 tiers"));
    }
    for t in &mut tiers {
        t.key = t.key.trim().to_ascii_lowercase();
        t.name_ko = t.name_ko.trim().to_string();
        t.name_en = t.name_en.trim().to_string();
        if t.key.is_empty()
            || t.key.len() > 40
            || !t
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(CoreError::new(
                "key",
                "tier keys are 1 to 40 letters, digits, '-' or '_'",
            ));
        }
        if t.name_ko.is_empty() || t.name_en.is_empty() {
            return Err(CoreError::new(
                "name",
                "every tier needs a Korean and an English name",
            ));
        }
        if t.threshold < 0 {
            return Err(CoreError::new("threshold", "must be 0 or more points"));
        }
    }
    tiers.sort_by_key(|t| t.threshold);
    for w in tiers.windows(2) {
        if w[0].threshold == w[1].threshold {
            return Err(CoreError::new("threshold", "two tiers share a threshold"));
        }
    }
    let mut keys: Vec<&str> = tiers.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(CoreError::new("key", "two tiers share a key"));
    }
    Ok(tiers)
}

/// The highest tier `points` reach; `tiers` sorted by threshold.
pub fn qualifying(tiers: &[Tier], points: i64) -> Option<&Tier> {
    tiers.iter().rev().find(|t| points >= t.threshold)
}

/// The tier to hold now: `current` (held since `since`) or the one `points` qualify for.
pub fn decide<'a>(
    tiers: &'a [Tier],
    current: Option<&str>,
    since: Option<i64>,
    points: i64,
    downgrade: Downgrade,
    downgrade_days: i64,
    now: i64,
) -> Option<&'a Tier> {
    let rank = |key: Option<&str>| key.and_then(|k| tiers.iter().position(|t| t.key == k));
    let qualified = qualifying(tiers, points);
    let held = rank(current);
    let wanted = rank(qualified.map(|t| t.key.as_str()));
    if wanted >= held {
        return qualified;
    }
    let keep = match downgrade {
        Downgrade::Never => true,
        Downgrade::Automatic => false,
        Downgrade::AfterDays => since.is_some_and(|s| now - s < downgrade_days * DAY_MS),
    };
    if keep {
        held.map(|i| &tiers[i])
    } else {
        qualified
    }
}

/// One order line as tiers on spend see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendLine {
    pub order_total: i64,
    /// Refunded of the order (all of it when cancelled or refunded).
    pub order_refunded: i64,
    /// The line's amount (unit price × quantity).
    pub amount: i64,
    pub product: String,
    pub category: String,
}

/// Money spent over some lines net of refunds (each line keeps its order's unrefunded
/// share), leaving out the given products and categories, in minor units.
pub fn spend_measure(
    lines: &[SpendLine],
    excluded_products: &[String],
    excluded_categories: &[String],
) -> i64 {
    let mut total: i128 = 0;
    for l in lines {
        if l.order_total <= 0
            || excluded_products.contains(&l.product)
            || excluded_categories.contains(&l.category)
        {
            continue;
        }
        let kept = (l.order_total - l.order_refunded.clamp(0, l.order_total)) as i128;
        total += i128::from(l.amount) * kept / i128::from(l.order_total);
    }
    i64::try_from(total).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Vec<Tier> {
        let t = |key: &str, threshold| Tier {
            key: key.into(),
            name_ko: format!("{key} ko"),
            name_en: key.into(),
            threshold,
        };
        checked_ladder(vec![t("forest", 5000), t("sprout", 0), t("tree", 1000)]).unwrap()
    }

    #[test]
    fn upgrades_at_once_and_downgrades_per_program() {
        let tiers = ladder();
        let key = |t: Option<&Tier>| t.map(|t| t.key.clone());
        let day = DAY_MS;
        assert_eq!(
            key(decide(
                &tiers,
                Some("sprout"),
                Some(0),
                1200,
                Downgrade::Never,
                0,
                day
            )),
            Some("tree".into())
        );
        // Fell back to 10 points while holding the forest tier.
        let fell =
            |mode, days, now| key(decide(&tiers, Some("forest"), Some(0), 10, mode, days, now));
        assert_eq!(fell(Downgrade::Never, 0, 400 * day), Some("forest".into()));
        assert_eq!(fell(Downgrade::Automatic, 0, day), Some("sprout".into()));
        assert_eq!(
            fell(Downgrade::AfterDays, 90, 89 * day),
            Some("forest".into())
        );
        assert_eq!(
            fell(Downgrade::AfterDays, 90, 90 * day),
            Some("sprout".into())
        );
    }

    #[test]
    fn spend_counts_what_was_kept_and_leaves_out_exclusions() {
        let line = |amount, refunded, category: &str| SpendLine {
            order_total: 100_000,
            order_refunded: refunded,
            amount,
            product: "p".into(),
            category: category.into(),
        };
        let lines = [
            line(60_000, 50_000, "outer"),
            line(40_000, 50_000, "gift"),
            line(100_000, 0, "outer"),
        ];
        assert_eq!(spend_measure(&lines, &[], &[]), 150_000);
        assert_eq!(spend_measure(&lines, &[], &["gift".into()]), 130_000);
        assert_eq!(spend_measure(&[line(100_000, 100_000, "x")], &[], &[]), 0);
    }

    #[test]
    fn ladders_must_be_consistent() {
        let mut tiers = ladder();
        tiers[1].threshold = 0;
        assert!(checked_ladder(tiers).is_err());
        let mut tiers = ladder();
        tiers[2].key = "sprout".into();
        assert!(checked_ladder(tiers).is_err());
        assert_eq!(qualifying(&ladder(), 999).unwrap().key, "sprout");
        assert_eq!(qualifying(&ladder(), 5000).unwrap().key, "forest");
    }
}
