//! Slow movers: products whose sales have slowed against their own history, proposed for
//! a points bonus to move the stock (seed 004). A product's age is the time since it first
//! sold (how long it has been on offer); its velocity is units per week, over its whole
//! age and over the recent weeks. A product on offer long enough whose recent velocity is
//! under half its lifetime velocity is proposed, the slowest relative to itself first.

use serde::Serialize;

const WEEK_MS: i64 = 7 * 86_400_000;
/// Recent weeks compared with the product's whole history.
pub const RECENT_WEEKS: i64 = 8;
/// A product younger than this has no history to slow down against.
pub const MIN_AGE_WEEKS: i64 = 2 * RECENT_WEEKS;
/// Recent velocity under this share of the lifetime velocity is slow.
pub const SLOW_RATIO: f64 = 0.5;

/// One product's sales, from the orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSales {
    pub product: String,
    pub category: String,
    pub first_sold_at: i64,
    pub last_sold_at: i64,
    pub units: i64,
    /// Units sold in the last `RECENT_WEEKS` weeks.
    pub recent_units: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowMover {
    pub product: String,
    pub category: String,
    pub age_weeks: f64,
    pub per_week_recent: f64,
    pub per_week_lifetime: f64,
    /// Recent over lifetime velocity: 0 sold nothing lately, 1 sells as it always did.
    pub ratio: f64,
    pub last_sold_at: i64,
}

/// The slow movers among `sales` at `now`, slowest relative to itself first (ties by
/// product name, so the list is stable).
pub fn propose(sales: &[ProductSales], now: i64) -> Vec<SlowMover> {
    let mut out: Vec<SlowMover> = sales
        .iter()
        .filter_map(|s| {
            let age_weeks = (now - s.first_sold_at) as f64 / WEEK_MS as f64;
            if age_weeks < MIN_AGE_WEEKS as f64 || s.units <= 0 {
                return None;
            }
            let per_week_lifetime = s.units as f64 / age_weeks;
            let per_week_recent = s.recent_units as f64 / RECENT_WEEKS as f64;
            let ratio = per_week_recent / per_week_lifetime;
            (ratio < SLOW_RATIO).then(|| SlowMover {
                product: s.product.clone(),
                category: s.category.clone(),
                age_weeks,
                per_week_recent,
                per_week_lifetime,
                ratio,
                last_sold_at: s.last_sold_at,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.ratio
            .total_cmp(&b.ratio)
            .then_with(|| a.product.cmp(&b.product))
    });
    out
}

/// Where the recent window starts, for the store's query.
pub fn recent_since(now: i64) -> i64 {
    now - RECENT_WEEKS * WEEK_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sales(product: &str, age_weeks: i64, units: i64, recent_units: i64) -> ProductSales {
        ProductSales {
            product: product.into(),
            category: "c".into(),
            first_sold_at: 100 * WEEK_MS - age_weeks * WEEK_MS,
            last_sold_at: 100 * WEEK_MS,
            units,
            recent_units,
        }
    }

    #[test]
    fn slowed_products_are_proposed_slowest_first() {
        let now = 100 * WEEK_MS;
        let all = vec![
            // 52 weeks, 520 units: 10 a week; lately 2 a week → ratio 0.2.
            sales("크림", 52, 520, 16),
            // Sells as always: 10 a week, 80 in 8 weeks.
            sales("토너", 52, 520, 80),
            // Nothing lately at all.
            sales("향초", 30, 60, 0),
            // Too new to judge.
            sales("신상", 10, 5, 0),
            // Just under half its pace.
            sales("립밤", 40, 400, 39),
        ];
        let got: Vec<(String, f64)> = propose(&all, now)
            .into_iter()
            .map(|s| (s.product, (s.ratio * 100.0).round() / 100.0))
            .collect();
        assert_eq!(
            got,
            vec![
                ("향초".into(), 0.0),
                ("크림".into(), 0.2),
                ("립밤".into(), 0.49)
            ]
        );
    }
}
