//! The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV:
//! using iso-value curves"): a customer's purchases vary around their own mean, which
//! varies across customers. Fitted on repeat buyers' mean repeat spend; gives each
//! customer's expected spend per future purchase.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ClvError;
use super::summary::Summary;
use crate::minimize::nelder_mead;
use crate::special::ln_gamma;

/// p, q and γ (`lifetimes` calls γ `v`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGammaFit {
    pub params: GammaGamma,
    pub log_likelihood: f64,
    /// Repeat buyers the model was fitted on.
    pub customers: u64,
}

/// Repeat buyers by purchase count: (x, [(mean spend, ln mean spend)]).
type ByCount = Vec<(f64, Vec<(f64, f64)>)>;

fn log_likelihood(g: &GammaGamma, by_count: &ByCount) -> f64 {
    let GammaGamma { p, q, gamma } = *g;
    let shared = -ln_gamma(q) + q * gamma.ln();
    let mut total = 0.0;
    for (x, rows) in by_count {
        let px = p * x;
        let per_count = shared + ln_gamma(px + q) - ln_gamma(px) + px * x.ln();
        for &(m, ln_m) in rows {
            total += per_count + (px - 1.0) * ln_m - (px + q) * (x * m + gamma).ln();
        }
    }
    total
}

impl GammaGamma {
    /// Maximum-likelihood fit on the customers with repeat purchases of positive value.
    pub fn fit(customers: &[Summary]) -> Result<GammaGammaFit, ClvError> {
        let mut grouped: BTreeMap<u32, Vec<(f64, f64)>> = BTreeMap::new();
        let mut n = 0u64;
        let mut spend = 0.0;
        for s in customers
            .iter()
            .filter(|s| s.frequency > 0 && s.monetary_value > 0.0)
        {
            grouped
                .entry(s.frequency)
                .or_default()
                .push((s.monetary_value, s.monetary_value.ln()));
            n += 1;
            spend += s.monetary_value;
        }
        if n == 0 {
            return Err(ClvError::NoRepeatBuyers);
        }
        let by_count: ByCount = grouped
            .into_iter()
            .map(|(x, r)| (f64::from(x), r))
            .collect();
        let from = |v: &[f64]| GammaGamma {
            p: v[0].exp(),
            q: v[1].exp(),
            gamma: v[2].exp(),
        };
        // Start where the mean spend per purchase, p·γ/(q − 1), is the observed mean.
        let start = [0.0, 2f64.ln(), (spend / n as f64).ln()];
        let best = nelder_mead(|v| -log_likelihood(&from(v), &by_count) / n as f64, &start);
        // Identical spends have no spread to fit: the optimum runs off to infinity.
        if !best.value.is_finite() || !best.at.iter().all(|v| v.exp().is_finite()) {
            return Err(ClvError::NoOptimum);
        }
        let params = from(&best.at);
        Ok(GammaGammaFit {
            params,
            log_likelihood: log_likelihood(&params, &by_count),
            customers: n,
        })
    }

    /// Expected spend per future purchase: the population mean shrunk toward the
    /// customer's own repeat mean as their repeat purchases accumulate.
    pub fn expected_spend(&self, s: &Summary) -> f64 {
        let x = f64::from(s.frequency);
        let m = if s.frequency > 0 {
            s.monetary_value
        } else {
            0.0
        };
        self.p * (self.gamma + x * m) / (self.p * x + self.q - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(frequency: u32, monetary_value: f64) -> Summary {
        Summary {
            frequency,
            recency_days: 0,
            age_days: 0,
            monetary_value,
            total: 0.0,
        }
    }

    #[test]
    fn expected_spend_moves_from_the_population_mean_toward_the_customers_own() {
        let g = GammaGamma {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        let population = g.p * g.gamma / (g.q - 1.0);
        assert!((g.expected_spend(&s(0, 0.0)) - population).abs() < 1e-12);
        let big_spender_once = g.expected_spend(&s(1, 200.0));
        let big_spender_often = g.expected_spend(&s(20, 200.0));
        assert!(population < big_spender_once && big_spender_once < big_spender_often);
        assert!(big_spender_often < 200.0);
    }

    #[test]
    fn needs_repeat_buyers() {
        assert_eq!(GammaGamma::fit(&[s(0, 0.0)]), Err(ClvError::NoRepeatBuyers));
    }
}
