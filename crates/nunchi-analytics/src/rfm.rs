//! RFM: each customer's recency, frequency and monetary value scored 1–5 by quintile
//! against everyone else, and the named cells a CX team acts on (champions, loyal, at
//! risk, can't lose, hibernating, lost…). The raw values are the repeat-purchase summary
//! of [`crate::clv::summary`] (as `lifetimes` computes it); the scores read them the way
//! RFM means them: recency as days since the last purchase (fewer is better, so the score
//! is inverted), frequency as repeat purchase days, monetary as spend per purchase day
//! (so a customer who bought once still has a monetary value).

use serde::Serialize;

use crate::clv::Summary;

/// Quintile scores, 1 (lowest fifth) to 5 (highest fifth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scores {
    pub r: u8,
    pub f: u8,
    pub m: u8,
}

/// The named cells of the RFM grid, read from the recency and frequency scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    Champions,
    Loyal,
    PotentialLoyalists,
    NewCustomers,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CantLose,
    Hibernating,
    Lost,
}

impl Cell {
    pub const ALL: [Cell; 11] = [
        Cell::Champions,
        Cell::Loyal,
        Cell::PotentialLoyalists,
        Cell::NewCustomers,
        Cell::Promising,
        Cell::NeedAttention,
        Cell::AboutToSleep,
        Cell::AtRisk,
        Cell::CantLose,
        Cell::Hibernating,
        Cell::Lost,
    ];

    /// The cell of an (R, F) pair; every one of the 25 pairs has exactly one.
    pub fn of(r: u8, f: u8) -> Cell {
        match (r, f) {
            (5, 4..) => Cell::Champions,
            (3..=4, 4..) => Cell::Loyal,
            (4..=5, 2..=3) => Cell::PotentialLoyalists,
            (5, _) => Cell::NewCustomers,
            (4, _) => Cell::Promising,
            (3, 3) => Cell::NeedAttention,
            (3, _) => Cell::AboutToSleep,
            (..=2, 5..) => Cell::CantLose,
            (..=2, 3..=4) => Cell::AtRisk,
            (1, 1) => Cell::Lost,
            _ => Cell::Hibernating,
        }
    }

    /// The stable key used in URLs, rules and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Cell::Champions => "champions",
            Cell::Loyal => "loyal",
            Cell::PotentialLoyalists => "potential_loyalists",
            Cell::NewCustomers => "new_customers",
            Cell::Promising => "promising",
            Cell::NeedAttention => "need_attention",
            Cell::AboutToSleep => "about_to_sleep",
            Cell::AtRisk => "at_risk",
            Cell::CantLose => "cant_lose",
            Cell::Hibernating => "hibernating",
            Cell::Lost => "lost",
        }
    }

    pub fn parse(key: &str) -> Option<Cell> {
        Cell::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Quintile scores for `values`: a value's score is 1 + ⌊5 × (values strictly below it) /
/// n⌋, so equal values always share a score whatever order they came in, and the score
/// does not depend on how ties are broken.
pub fn quintiles(values: &[f64]) -> Vec<u8> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut scores = vec![0u8; n];
    let mut below = 0;
    while below < n {
        let value = values[order[below]];
        let mut end = below;
        while end < n && values[order[end]] == value {
            end += 1;
        }
        let score = 1 + (5 * below / n) as u8;
        for &i in &order[below..end] {
            scores[i] = score;
        }
        below = end;
    }
    scores
}

/// RFM scores for every customer of a population, in its order.
pub fn score(customers: &[Summary]) -> Vec<Scores> {
    // Fewer days since the last purchase is better: score the negated days.
    let recency: Vec<f64> = customers
        .iter()
        .map(|s| -f64::from(s.days_since_last()))
        .collect();
    let frequency: Vec<f64> = customers.iter().map(|s| f64::from(s.frequency)).collect();
    let monetary: Vec<f64> = customers
        .iter()
        .map(|s| s.total / f64::from(s.purchases()))
        .collect();
    let (r, f, m) = (
        quintiles(&recency),
        quintiles(&frequency),
        quintiles(&monetary),
    );
    (0..customers.len())
        .map(|i| Scores {
            r: r[i],
            f: f[i],
            m: m[i],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grid_pair_has_a_cell_and_the_corners_are_right() {
        for r in 1..=5 {
            for f in 1..=5 {
                let _ = Cell::of(r, f);
            }
        }
        assert_eq!(Cell::of(5, 5), Cell::Champions);
        assert_eq!(Cell::of(1, 5), Cell::CantLose);
        assert_eq!(Cell::of(1, 1), Cell::Lost);
        assert_eq!(Cell::of(5, 1), Cell::NewCustomers);
        assert_eq!(Cell::of(2, 4), Cell::AtRisk);
        for c in Cell::ALL {
            assert_eq!(Cell::parse(c.key()), Some(c));
        }
    }

    #[test]
    fn quintiles_split_evenly_and_ties_share_a_score() {
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(quintiles(&values), vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        // Six equal lowest values: all score 1, the next one 1 + ⌊5·6/10⌋ = 4.
        let tied = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(quintiles(&tied), vec![1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
        let mut reversed = tied;
        reversed.reverse();
        let mut again = quintiles(&reversed);
        again.reverse();
        assert_eq!(again, quintiles(&tied), "input order does not matter");
    }

    #[test]
    fn recency_is_inverted() {
        let s = |recency_days: u32| Summary {
            frequency: 1,
            recency_days,
            age_days: 100,
            monetary_value: 1.0,
            total: 2.0,
        };
        let scores = score(&[s(100), s(0), s(50), s(90), s(10)]);
        // Bought yesterday-ish (0 days since last) beats 100 days ago.
        assert_eq!(scores[0].r, 5);
        assert_eq!(scores[1].r, 1);
    }
}
