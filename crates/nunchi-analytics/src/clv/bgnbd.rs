//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
//! while alive a customer buys as a Poisson process with a gamma(r, α)-distributed rate,
//! and after each purchase drops out with a beta(a, b)-distributed probability. Fitted by
//! maximum likelihood over customers grouped by identical histories, so a million
//! customers cost what their few thousand distinct (x, tₓ, T) cost.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ClvError;
use super::summary::Summary;
use crate::minimize::nelder_mead;
use crate::special::{ln_gamma, ln_hyp2f1};

/// The four parameters, time in weeks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbdFit {
    pub params: BgNbd,
    /// The summed log-likelihood of every customer at the fitted parameters.
    pub log_likelihood: f64,
    pub customers: u64,
}

/// Customers with the same number of repeat purchases, their (tₓ, T) in weeks and how
/// many share each pair.
struct Group {
    x: f64,
    rows: Vec<(f64, f64, f64)>,
}

fn groups(customers: &[Summary], scale: f64) -> Vec<Group> {
    let mut by_x: BTreeMap<u32, BTreeMap<(u32, u32), u64>> = BTreeMap::new();
    for s in customers {
        *by_x
            .entry(s.frequency)
            .or_default()
            .entry((s.recency_days, s.age_days))
            .or_default() += 1;
    }
    by_x.into_iter()
        .map(|(x, rows)| Group {
            x: f64::from(x),
            rows: rows
                .into_iter()
                .map(|((tx, t), n)| {
                    (
                        f64::from(tx) / 7.0 * scale,
                        f64::from(t) / 7.0 * scale,
                        n as f64,
                    )
                })
                .collect(),
        })
        .collect()
}

/// ln(eᵘ + eᵛ) without overflow.
fn ln_add_exp(u: f64, v: f64) -> f64 {
    let m = u.max(v);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((u - m).exp() + (v - m).exp()).ln()
}

/// Σ weight × ln L(r, α, a, b | x, tₓ, T).
fn log_likelihood(p: &BgNbd, groups: &[Group]) -> f64 {
    let BgNbd { r, alpha, a, b } = *p;
    let shared = ln_gamma(a + b) - ln_gamma(b) - ln_gamma(r) + r * alpha.ln();
    let mut total = 0.0;
    for g in groups {
        let x = g.x;
        let a1a2 = shared + ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x);
        let dropout = if x > 0.0 {
            a.ln() - (b + x - 1.0).ln()
        } else {
            f64::NEG_INFINITY
        };
        for &(tx, t, n) in &g.rows {
            let a3 = -(r + x) * (alpha + t).ln();
            let a4 = dropout - (r + x) * (alpha + tx).ln();
            total += n * (a1a2 + ln_add_exp(a3, a4));
        }
    }
    total
}

impl BgNbd {
    /// Maximum-likelihood fit. Time is rescaled so the longest-observed customer spans 10
    /// units while searching (as `lifetimes` does, for a well-conditioned α), and α is
    /// scaled back to weeks afterwards.
    pub fn fit(customers: &[Summary]) -> Result<BgNbdFit, ClvError> {
        let longest = customers
            .iter()
            .map(|s| s.age_days)
            .max()
            .ok_or(ClvError::NoCustomers)?;
        let scale = if longest == 0 {
            1.0
        } else {
            10.0 / (f64::from(longest) / 7.0)
        };
        let groups = groups(customers, scale);
        let n = customers.len() as f64;
        let from = |v: &[f64]| BgNbd {
            r: v[0].exp(),
            alpha: v[1].exp(),
            a: v[2].exp(),
            b: v[3].exp(),
        };
        let best = nelder_mead(|v| -log_likelihood(&from(v), &groups) / n, &[0.0; 4]);
        if !best.value.is_finite() || !best.at.iter().all(|v| v.exp().is_finite()) {
            return Err(ClvError::NoOptimum);
        }
        let scaled = from(&best.at);
        let params = BgNbd {
            alpha: scaled.alpha / scale,
            ..scaled
        };
        Ok(BgNbdFit {
            params,
            log_likelihood: log_likelihood(&params, &self::groups(customers, 1.0)),
            customers: customers.len() as u64,
        })
    }

    /// Probability the customer is still alive at the end of their observation.
    pub fn probability_alive(&self, s: &Summary) -> f64 {
        if s.frequency == 0 {
            return 1.0;
        }
        let x = f64::from(s.frequency);
        let ln_odds = (self.r + x) * ((self.alpha + s.t()) / (self.alpha + s.recency())).ln()
            + (self.a / (self.b + x - 1.0)).ln();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected purchases in the next `weeks`, given the customer's history (the model's
    /// conditional expectation, eq. 10 of the paper).
    pub fn expected_purchases(&self, weeks: f64, s: &Summary) -> f64 {
        if weeks <= 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = f64::from(s.frequency);
        let (t, tx) = (s.t(), s.recency());
        let z = weeks / (alpha + t + weeks);
        let ln_hyp = ln_hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = 1.0 - (ln_hyp + (r + x) * ((alpha + t) / (alpha + t + weeks)).ln()).exp();
        let alive_odds = if x > 0.0 {
            a / (b + x - 1.0) * ((alpha + t) / (alpha + tx)).powf(r + x)
        } else {
            0.0
        };
        first * second / (1.0 + alive_odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(frequency: u32, recency_days: u32, age_days: u32) -> Summary {
        Summary {
            frequency,
            recency_days,
            age_days,
            monetary_value: 0.0,
            total: 0.0,
        }
    }

    #[test]
    fn grouping_does_not_change_the_likelihood() {
        let customers = [
            s(0, 0, 70),
            s(2, 30, 70),
            s(2, 30, 70),
            s(5, 60, 63),
            s(0, 0, 70),
        ];
        let p = BgNbd {
            r: 0.3,
            alpha: 4.0,
            a: 0.8,
            b: 2.4,
        };
        let grouped = log_likelihood(&p, &groups(&customers, 1.0));
        let one_by_one: f64 = customers
            .iter()
            .map(|c| log_likelihood(&p, &groups(std::slice::from_ref(c), 1.0)))
            .sum();
        assert!((grouped - one_by_one).abs() < 1e-9);
    }

    #[test]
    fn recent_frequent_buyers_are_likelier_alive_and_buy_more() {
        let p = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let lapsed = s(5, 70, 270);
        let active = s(5, 260, 270);
        assert!(p.probability_alive(&active) > p.probability_alive(&lapsed));
        assert!(p.expected_purchases(52.0, &active) > p.expected_purchases(52.0, &lapsed));
        assert_eq!(p.probability_alive(&s(0, 0, 270)), 1.0);
        assert_eq!(p.expected_purchases(0.0, &active), 0.0);
        // More time ahead, more purchases expected.
        assert!(p.expected_purchases(104.0, &active) > p.expected_purchases(52.0, &active));
    }

    #[test]
    fn refuses_an_empty_population() {
        assert_eq!(BgNbd::fit(&[]), Err(ClvError::NoCustomers));
    }
}
