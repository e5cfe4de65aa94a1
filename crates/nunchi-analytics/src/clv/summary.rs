//! Per-customer repeat-purchase summaries, as `lifetimes`'
//! `summary_data_from_transaction_data(…, freq="D", freq_multiplier=7)` computes them:
//! purchases on one calendar day count once (their amounts summed), `frequency` is the
//! number of purchase days after the first, `recency` the weeks from the first purchase
//! day to the last, `T` the weeks from the first to the end of the calibration period,
//! and `monetary_value` the mean of the repeat days' amounts (0 without repeats).

/// One purchase: a customer (an index the caller assigns), the calendar day it was made
/// on (days since 1970-01-01 in the customer's or the shop's own calendar) and its amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Purchase {
    pub customer: u32,
    pub day: i32,
    pub amount: f64,
}

/// One customer's history as the models read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Purchase days after the first.
    pub frequency: u32,
    /// Days from the first purchase day to the last.
    pub recency_days: u32,
    /// Days from the first purchase day to the end of the calibration period.
    pub age_days: u32,
    /// Mean amount of the repeat purchase days; 0 when there are none.
    pub monetary_value: f64,
    /// Everything spent, first day included.
    pub total: f64,
}

impl Summary {
    pub fn recency(&self) -> f64 {
        f64::from(self.recency_days) / 7.0
    }

    /// `T` in the models: the weeks the customer has been observed.
    pub fn t(&self) -> f64 {
        f64::from(self.age_days) / 7.0
    }

    /// Days from the last purchase to the end of the period (what RFM calls recency).
    pub fn days_since_last(&self) -> u32 {
        self.age_days - self.recency_days
    }

    /// Purchase days in all, the first included.
    pub fn purchases(&self) -> u32 {
        self.frequency + 1
    }
}

/// Summarises `purchases` (any order; they are sorted in place) for customers
/// `0..customers`, keeping only purchases on or before `until`. A customer whose first
/// purchase falls after `until` has no summary.
pub fn summarize(purchases: &mut [Purchase], customers: usize, until: i32) -> Vec<Option<Summary>> {
    purchases.sort_unstable_by_key(|p| (p.customer, p.day));
    let mut out = vec![None; customers];
    let mut i = 0;
    while i < purchases.len() {
        let customer = purchases[i].customer;
        let mut end = i;
        while end < purchases.len() && purchases[end].customer == customer {
            end += 1;
        }
        out[customer as usize] = summarize_one(&purchases[i..end], until);
        i = end;
    }
    out
}

/// One customer's purchases, sorted by day.
fn summarize_one(purchases: &[Purchase], until: i32) -> Option<Summary> {
    let first = purchases.first().filter(|p| p.day <= until)?.day;
    let mut last = first;
    let mut frequency = 0u32;
    let mut repeat_spend = 0.0;
    let mut total = 0.0;
    for p in purchases.iter().take_while(|p| p.day <= until) {
        total += p.amount;
        if p.day != first {
            repeat_spend += p.amount;
            if p.day != last {
                frequency += 1;
            }
        }
        last = p.day;
    }
    Some(Summary {
        frequency,
        recency_days: (last - first) as u32,
        age_days: (until - first) as u32,
        monetary_value: if frequency == 0 {
            0.0
        } else {
            repeat_spend / f64::from(frequency)
        },
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(customer: u32, day: i32, amount: f64) -> Purchase {
        Purchase {
            customer,
            day,
            amount,
        }
    }

    #[test]
    fn collapses_days_and_averages_repeat_days_only() {
        // Customer 0: day 0 (two orders), day 7, day 7 again, day 21; customer 1 once.
        let mut rows = vec![
            p(0, 21, 30.0),
            p(1, 10, 5.0),
            p(0, 0, 10.0),
            p(0, 7, 4.0),
            p(0, 0, 1.0),
            p(0, 7, 6.0),
        ];
        let s = summarize(&mut rows, 3, 28);
        let a = s[0].unwrap();
        assert_eq!((a.frequency, a.recency_days, a.age_days), (2, 21, 28));
        // Repeat days: day 7 (4 + 6) and day 21 (30), so (10 + 30) / 2.
        assert_eq!(a.monetary_value, 20.0);
        assert_eq!(a.total, 51.0);
        assert_eq!((a.recency(), a.t()), (3.0, 4.0));
        assert_eq!(a.days_since_last(), 7);
        let b = s[1].unwrap();
        assert_eq!((b.frequency, b.monetary_value, b.age_days), (0, 0.0, 18));
        assert!(s[2].is_none());
    }

    #[test]
    fn ignores_purchases_after_the_calibration_end() {
        let mut rows = vec![p(0, 0, 1.0), p(0, 5, 2.0), p(0, 9, 3.0), p(1, 9, 4.0)];
        let s = summarize(&mut rows, 2, 5);
        let a = s[0].unwrap();
        assert_eq!(
            (a.frequency, a.recency_days, a.age_days, a.total),
            (1, 5, 5, 3.0)
        );
        assert!(
            s[1].is_none(),
            "first purchase after the end: not yet a customer"
        );
    }
}
