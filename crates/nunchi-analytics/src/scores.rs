//! CX scores from survey answers and ratings: NPS (% promoters 9–10 − % detractors 0–6),
//! CSAT (% of 4–5 on a 1–5 scale), CES (mean on 1–7), each with its number of responses
//! and a 95% margin of error; and one grouped pass that tallies answers per period and a
//! small key (channel, touchpoint, stage, team) for trend charts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::parallel;
use crate::retention::Period;

/// The standard normal quantile for a two-sided 95% interval.
const Z95: f64 = 1.959_964;

pub use nunchi_core::feedback::Metric;

/// Answers of one metric counted by value (0–10): every figure comes from these counts,
/// and tallies from different threads, periods or groups add up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub counts: [u64; 11],
}

/// One metric's figure for a set of answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub metric: Metric,
    /// NPS from −100 to 100, CSAT as a percentage, CES as the mean answer.
    pub value: f64,
    pub responses: u64,
    /// Half-width of the 95% confidence interval, in the value's units; `None` with
    /// fewer than two responses.
    pub margin: Option<f64>,
    /// NPS: promoters, passives, detractors. CSAT: satisfied (4–5), the rest, 0.
    /// CES: answers 5–7 (easy), 4, 1–3 (hard).
    pub split: [u64; 3],
}

impl Tally {
    /// Counts one answer; values above 10 are the caller's bug and are clamped.
    #[inline]
    pub fn add(&mut self, value: u8) {
        self.counts[value.min(10) as usize] += 1;
    }

    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    pub fn responses(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn count(&self, values: std::ops::RangeInclusive<usize>) -> u64 {
        self.counts[values].iter().sum()
    }

    /// The metric's figure, or `None` when there are no answers.
    pub fn score(&self, metric: Metric) -> Option<Score> {
        let n = self.responses();
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let enough = n >= 2;
        let (value, margin, split) = match metric {
            // Other scales have no standard score; they are compared normalised.
            Metric::Rating => return None,
            Metric::Nps => {
                let (pro, pas, det) = (self.count(9..=10), self.count(7..=8), self.count(0..=6));
                let (p, d) = (pro as f64 / nf, det as f64 / nf);
                // Each answer scores +1, 0 or −1; NPS is their mean × 100, so its variance
                // is (p + d − (p − d)²) / n.
                let var = (p + d - (p - d).powi(2)).max(0.0) / nf;
                (100.0 * (p - d), 100.0 * Z95 * var.sqrt(), [pro, pas, det])
            }
            Metric::Csat => {
                let good = self.count(4..=5);
                let p = good as f64 / nf;
                let margin = 100.0 * Z95 * (p * (1.0 - p) / nf).sqrt();
                (100.0 * p, margin, [good, n - good, 0])
            }
            Metric::Ces => {
                let sum: f64 = (0..=10).map(|v| v as f64 * self.counts[v] as f64).sum();
                let mean = sum / nf;
                let ss: f64 = (0..=10)
                    .map(|v| self.counts[v] as f64 * (v as f64 - mean).powi(2))
                    .sum();
                let sd = if enough {
                    (ss / (nf - 1.0)).sqrt()
                } else {
                    0.0
                };
                let split = [self.count(5..=10), self.count(4..=4), self.count(0..=3)];
                (mean, Z95 * sd / nf.sqrt(), split)
            }
        };
        Some(Score {
            metric,
            value,
            responses: n,
            margin: enough.then_some(margin),
            split,
        })
    }
}

/// One answer for grouped tallies: when (Unix seconds), a caller-coded group key, and
/// the answer on its metric's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub ts: u32,
    pub key: u16,
    pub value: u8,
}

/// Tallies per (period index, key), in order. One pass over the answers on every core:
/// each core counts into its own dense (period × key) table, which grows to the periods
/// and keys it meets, with the period index a multiply and shift (a constant divisor on
/// a biased unsigned time). A million answers take a couple of milliseconds.
pub fn by_period(
    answers: &[Answer],
    period: Period,
    utc_offset_secs: i32,
) -> BTreeMap<(i64, u16), Tally> {
    if answers.is_empty() {
        return BTreeMap::new();
    }
    // Beyond this many cells the data is too sparse for a dense table (answers spread over
    // years and many keys): count into a map instead.
    let limit = 4 * answers.len().max(1 << 16);
    let grid = match period {
        Period::Day => count::<86_400>(answers, utc_offset_secs as i64, limit),
        // Weeks open on Monday: 1970-01-01 was a Thursday.
        Period::Week => count::<604_800>(answers, utc_offset_secs as i64 + 3 * 86_400, limit),
        // Months differ in length: counted by the plain definition.
        Period::Month => {
            return crate::reference::scores_by_period(answers, period, utc_offset_secs);
        }
    };
    if grid.overflow {
        return crate::reference::scores_by_period(answers, period, utc_offset_secs);
    }
    let mut out = BTreeMap::new();
    for row in 0..grid.periods {
        for key in 0..grid.keys {
            let cell = grid.cell(row, key);
            if cell.iter().any(|&c| c > 0) {
                let mut counts = [0u64; 11];
                for (c, &n) in counts.iter_mut().zip(cell) {
                    *c = n as u64;
                }
                out.insert((grid.lo + row as i64, key as u16), Tally { counts });
            }
        }
    }
    out
}

/// One core's counts: `periods × keys` cells of 11 per-value counts from period `lo`, in
/// one flat array so that an answer costs one index and one increment.
struct Grid {
    lo: i64,
    periods: usize,
    keys: usize,
    counts: Vec<u32>,
    limit: usize,
    /// Set when the table would pass `limit`; the caller then counts another way.
    overflow: bool,
}

/// Values on the 0–10 scale; higher values count as 10.
const VALUES: usize = 11;

impl Grid {
    fn new(limit: usize) -> Grid {
        Grid {
            lo: 0,
            periods: 0,
            keys: 0,
            counts: Vec::new(),
            limit,
            overflow: false,
        }
    }

    #[inline(always)]
    fn add(&mut self, p: i64, key: usize, value: usize) {
        let row = p.wrapping_sub(self.lo) as u64;
        if row >= self.periods as u64 || key >= self.keys {
            self.cover(p, p, key + 1);
            if self.overflow {
                return;
            }
        }
        let cell = (p - self.lo) as usize * self.keys + key;
        self.counts[cell * VALUES + value] += 1;
    }

    fn cell(&self, row: usize, key: usize) -> &[u32] {
        let at = (row * self.keys + key) * VALUES;
        &self.counts[at..at + VALUES]
    }

    /// Grows the table to cover periods `lo..=hi` and `keys` keys, with room to spare so
    /// that answers in no particular order grow it only a few times.
    fn cover(&mut self, lo: i64, hi: i64, keys: usize) {
        let (old_lo, old_periods, old_keys) = (self.lo, self.periods, self.keys);
        let old_hi = old_lo + old_periods as i64 - 1;
        let slack = (old_periods as i64 / 2).max(4);
        let new_lo = if old_periods == 0 || lo < old_lo {
            lo.min(if old_periods == 0 { lo } else { old_lo }) - slack
        } else {
            old_lo
        };
        let new_hi = if old_periods == 0 || hi > old_hi {
            hi.max(if old_periods == 0 { hi } else { old_hi }) + slack
        } else {
            old_hi
        };
        let new_periods = (new_hi - new_lo + 1) as usize;
        let new_keys = old_keys.max(keys);
        if new_periods.saturating_mul(new_keys) > self.limit {
            self.overflow = true;
            self.counts = Vec::new();
            return;
        }
        let mut counts = vec![0u32; new_periods * new_keys * VALUES];
        for row in 0..old_periods {
            let to = ((old_lo - new_lo) as usize + row) * new_keys * VALUES;
            counts[to..to + old_keys * VALUES].copy_from_slice(
                &self.counts[row * old_keys * VALUES..(row + 1) * old_keys * VALUES],
            );
        }
        (self.lo, self.periods, self.keys, self.counts) = (new_lo, new_periods, new_keys, counts);
    }

    fn merge(mut self, other: Grid) -> Grid {
        if self.overflow || other.overflow {
            self.overflow = true;
            return self;
        }
        if other.periods == 0 {
            return self;
        }
        self.cover(other.lo, other.lo + other.periods as i64 - 1, other.keys);
        if self.overflow {
            return self;
        }
        for row in 0..other.periods {
            let to = (other.lo - self.lo) as usize + row;
            for key in 0..other.keys {
                let at = (to * self.keys + key) * VALUES;
                for (u, v) in self.counts[at..at + VALUES]
                    .iter_mut()
                    .zip(other.cell(row, key))
                {
                    *u += v;
                }
            }
        }
        self
    }
}

/// Counts every answer into per-core grids and merges them. `SECS` is the period length,
/// a constant so that the index is a multiply and shift rather than a division: times are
/// shifted to the period's boundary and biased by one period so the division is unsigned.
fn count<const SECS: u64>(answers: &[Answer], boundary: i64, limit: usize) -> Grid {
    // |offset| < 1 day ≤ SECS, so one period of bias keeps the sum positive.
    let bias = (boundary + SECS as i64) as u64;
    parallel::over_customers(
        answers.len() as u32,
        || Grid::new(limit),
        |grid, i| {
            let a = answers[i as usize];
            let p = ((a.ts as u64 + bias) / SECS) as i64 - 1;
            grid.add(p, a.key as usize, a.value.min(10) as usize);
        },
        Grid::merge,
    )
}

/// A journey stage's emotion from its feedback: normalised ratings (0..=1, read as
/// −1..=1) and text sentiment (−1..=1) averaged together, each piece of feedback
/// counting once per signal it carries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Emotion {
    sum: f64,
    n: u64,
}

impl Emotion {
    pub fn add_rating(&mut self, normalised: f64) {
        self.sum += normalised.clamp(0.0, 1.0) * 2.0 - 1.0;
        self.n += 1;
    }

    pub fn add_sentiment(&mut self, score: f64) {
        self.sum += score.clamp(-1.0, 1.0);
        self.n += 1;
    }

    /// Adds pre-summed signals: `ratings` normalised ratings summing to `rating_sum`, and
    /// `sentiments` sentiment scores summing to `sentiment_sum` (as a database returns them).
    pub fn add_sums(&mut self, rating_sum: f64, ratings: u64, sentiment_sum: f64, sentiments: u64) {
        self.sum += 2.0 * rating_sum - ratings as f64 + sentiment_sum;
        self.n += ratings + sentiments;
    }

    pub fn signals(&self) -> u64 {
        self.n
    }

    /// The mean in −1..=1, `None` without signals.
    pub fn value(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_answers_on_every_core_match_the_reference() {
        // Enough answers for the parallel path, whose per-core tables grow apart and merge.
        let mut answers = crate::synth::answers(200_000, 7, 1_780_000_000, 120);
        for period in [Period::Day, Period::Week] {
            assert_eq!(
                by_period(&answers, period, 9 * 3600),
                crate::reference::scores_by_period(&answers, period, 9 * 3600)
            );
        }
        // An answer decades away and a huge key: too sparse for a table, still right.
        answers.push(Answer {
            ts: 5,
            key: 60_000,
            value: 3,
        });
        assert_eq!(
            by_period(&answers, Period::Day, -5 * 3600),
            crate::reference::scores_by_period(&answers, Period::Day, -5 * 3600)
        );
    }

    fn tally(values: &[u8]) -> Tally {
        let mut t = Tally::default();
        for &v in values {
            t.add(v);
        }
        t
    }

    #[test]
    fn nps_is_promoters_minus_detractors() {
        // 5 promoters, 3 passives, 2 detractors of 10: NPS 30.
        let s = tally(&[10, 9, 9, 10, 9, 8, 7, 7, 6, 0])
            .score(Metric::Nps)
            .unwrap();
        assert!((s.value - 30.0).abs() < 1e-9, "{s:?}");
        assert_eq!(s.split, [5, 3, 2]);
        assert_eq!(s.responses, 10);
        // Var = (0.5 + 0.2 − 0.09) / 10 = 0.061; margin = 100 × 1.96 × 0.247 ≈ 48.4.
        let m = s.margin.unwrap();
        assert!((m - 48.41).abs() < 0.05, "{m}");
    }

    #[test]
    fn csat_and_ces() {
        let csat = tally(&[5, 4, 3, 1]).score(Metric::Csat).unwrap();
        assert!((csat.value - 50.0).abs() < 1e-9);
        assert!((csat.margin.unwrap() - 49.0).abs() < 0.01, "{csat:?}");
        let ces = tally(&[7, 5, 3]).score(Metric::Ces).unwrap();
        assert!((ces.value - 5.0).abs() < 1e-9);
        // sd = 2, margin = 1.96 × 2 / √3.
        assert!((ces.margin.unwrap() - 2.2632).abs() < 1e-3, "{ces:?}");
        assert_eq!(ces.split, [2, 0, 1]);
    }

    #[test]
    fn one_answer_has_no_margin_and_none_has_no_score() {
        assert_eq!(tally(&[9]).score(Metric::Nps).unwrap().margin, None);
        assert_eq!(Tally::default().score(Metric::Csat), None);
    }

    #[test]
    fn other_scales_have_no_standard_score() {
        assert_eq!(tally(&[4, 5]).score(Metric::Rating), None);
    }

    #[test]
    fn emotion_mixes_ratings_and_sentiment() {
        let mut e = Emotion::default();
        assert_eq!(e.value(), None);
        e.add_rating(1.0);
        e.add_sentiment(-0.5);
        assert_eq!(e.value(), Some(0.25));
        assert_eq!(e.signals(), 2);
        let mut summed = Emotion::default();
        summed.add_sums(1.0, 1, -0.5, 1);
        assert_eq!(summed, e);
    }
}
