//! The discounted value of a customer's coming months: expected purchases each month
//! (BG/NBD) times expected spend per purchase (Gamma-Gamma), discounted monthly — the
//! computation `lifetimes`' `customer_lifetime_value` makes, months being 4.345 weeks.

use super::bgnbd::BgNbd;
use super::gamma_gamma::GammaGamma;
use super::summary::Summary;

/// Weeks in an average month (365.25 / 12 / 7, as `lifetimes` rounds it).
pub const WEEKS_PER_MONTH: f64 = 4.345;

/// Value over the next `months`, each month's spend discounted by `monthly_discount`
/// (0.01 = 1% a month).
pub fn lifetime_value(
    purchases: &BgNbd,
    spend: &GammaGamma,
    s: &Summary,
    months: u32,
    monthly_discount: f64,
) -> f64 {
    let per_purchase = spend.expected_spend(s);
    let mut value = 0.0;
    let mut before = 0.0;
    for month in 1..=months {
        let weeks = f64::from(month) * WEEKS_PER_MONTH;
        let by_then = purchases.expected_purchases(weeks, s);
        value += per_purchase * (by_then - before) / (1.0 + monthly_discount).powi(month as i32);
        before = by_then;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounting_lowers_value_and_more_months_raise_it() {
        let bg = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let gg = GammaGamma {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        let s = Summary {
            frequency: 4,
            recency_days: 200,
            age_days: 270,
            monetary_value: 30.0,
            total: 150.0,
        };
        let undiscounted = lifetime_value(&bg, &gg, &s, 12, 0.0);
        let want = gg.expected_spend(&s) * bg.expected_purchases(12.0 * WEEKS_PER_MONTH, &s);
        assert!((undiscounted - want).abs() < 1e-9 * want);
        assert!(lifetime_value(&bg, &gg, &s, 12, 0.01) < undiscounted);
        assert!(lifetime_value(&bg, &gg, &s, 24, 0.01) > lifetime_value(&bg, &gg, &s, 12, 0.01));
    }
}
