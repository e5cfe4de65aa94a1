//! EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", 2019): an item ×
//! item weight matrix fitted in closed form, B = I − P·diag(1/diag(P)) with P = (XᵀX +
//! λI)⁻¹, zero on its diagonal; a customer's score for item j is the sum of B's row j over
//! what they have. It beats item-kNN on the usual benchmarks, but its matrix is dense:
//! items² numbers and an items³ inversion, so it is for catalogues of a few thousand
//! products (a brand's shop), not for hundreds of thousands.

use crate::recommend::{Interactions, popularity, ranked};

/// Catalogues larger than this are refused: the dense inversion would take too long and
/// too much memory (2,000 items: about 100 MB while fitting, 16 MB kept).
pub const MAX_ITEMS: usize = 2_000;

/// The fitted weights and the items by popularity.
#[derive(Debug, Clone)]
pub struct Ease {
    items: usize,
    /// Row-major `items × items`: row i is what having item i adds to every item's score.
    weights: Vec<f32>,
    popular: Vec<u32>,
}

/// Why EASE could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EaseError {
    #[error("{0} items is more than EASE fits ({MAX_ITEMS}); use item-kNN")]
    TooManyItems(usize),
    #[error("λ must be a positive number")]
    BadLambda,
}

impl Ease {
    /// Fits on binary interactions (a customer has an item or not) with L2 weight `lambda`.
    pub fn fit(x: &Interactions, lambda: f64) -> Result<Ease, EaseError> {
        let n = x.items();
        if n > MAX_ITEMS {
            return Err(EaseError::TooManyItems(n));
        }
        if !(lambda > 0.0 && lambda.is_finite()) {
            return Err(EaseError::BadLambda);
        }
        // The Gram matrix XᵀX, item by item through the customers who have each.
        let mut g = vec![0f64; n * n];
        for i in 0..n as u32 {
            for &(c, _) in x.of_item(i) {
                let row = &mut g[i as usize * n..(i as usize + 1) * n];
                for &(j, _) in x.of_customer(c) {
                    row[j as usize] += 1.0;
                }
            }
        }
        for i in 0..n {
            g[i * n + i] += lambda;
        }
        let p = inverse_spd(g, n);
        let mut weights = vec![0f32; n * n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    weights[i * n + j] = (-p[i * n + j] / p[j * n + j]) as f32;
                }
            }
        }
        Ok(Ease {
            items: n,
            weights,
            popular: popularity(x),
        })
    }

    /// The top `n` items for a customer with this history (ascending items), then the most
    /// popular; with `exclude_seen`, nothing they have.
    pub fn recommend(&self, history: &[(u32, f32)], n: usize, exclude_seen: bool) -> Vec<u32> {
        let mut scores = vec![0f32; self.items];
        for &(i, _) in history {
            let Some(row) = self
                .weights
                .get(i as usize * self.items..(i as usize + 1) * self.items)
            else {
                continue;
            };
            for (s, w) in scores.iter_mut().zip(row) {
                *s += w;
            }
        }
        let scored = scores
            .into_iter()
            .enumerate()
            .filter(|&(_, s)| s > 0.0)
            .map(|(j, s)| (j as u32, s));
        ranked(scored, history, n, exclude_seen, &self.popular)
    }
}

/// The inverse of a symmetric positive definite `n × n` matrix (row-major): its Cholesky
/// factor L (G = LLᵀ), then each column of the inverse by a forward and a backward solve,
/// columns shared across the machine's cores. Every inner loop is a dot product of two
/// contiguous rows (Lᵀ is kept as rows for the backward solve).
fn inverse_spd(mut g: Vec<f64>, n: usize) -> Vec<f64> {
    // In place: the lower triangle becomes L.
    for i in 0..n {
        for j in 0..=i {
            let (upper, lower) = g.split_at_mut(i * n);
            let row_i = &lower[..n];
            let row_j = if j == i {
                row_i
            } else {
                &upper[j * n..j * n + n]
            };
            let s = row_i[j] - dot(&row_i[..j], &row_j[..j]);
            let v = if i == j {
                s.max(f64::MIN_POSITIVE).sqrt()
            } else {
                s / row_j[j]
            };
            lower[j] = v;
        }
    }
    let l = g;
    // Lᵀ as rows: row i holds L[k][i] for k ≥ i.
    let mut lt = vec![0f64; n * n];
    for i in 0..n {
        for k in i..n {
            lt[i * n + k] = l[k * n + i];
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let columns: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (l, lt) = (&l, &lt);
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut y = vec![0f64; n];
                    for c in (t..n).step_by(threads) {
                        // L y = e_c: zero above c.
                        y.iter_mut().for_each(|v| *v = 0.0);
                        for i in c..n {
                            let row = &l[i * n..i * n + n];
                            let e = if i == c { 1.0 } else { 0.0 };
                            y[i] = (e - dot(&row[c..i], &y[c..i])) / row[i];
                        }
                        // Lᵀ x = y, from the bottom, down to row c only: the entries above
                        // c are those of the earlier columns, the inverse being symmetric.
                        let mut x = vec![0f64; n];
                        for i in (c..n).rev() {
                            let row = &lt[i * n..i * n + n];
                            x[i] = (y[i] - dot(&row[i + 1..], &x[i + 1..])) / row[i];
                        }
                        out.push((c, x));
                    }
                    out
                })
            })
            .collect();
        let mut all = vec![Vec::new(); n];
        for h in handles {
            for (c, x) in h.join().expect("an EASE worker") {
                all[c] = x;
            }
        }
        all
    });
    // Column c holds rows c.. of the inverse; the rest mirror the columns before it.
    let mut p = vec![0f64; n * n];
    for (c, x) in columns.iter().enumerate() {
        for i in c..n {
            p[i * n + c] = x[i];
            p[c * n + i] = x[i];
        }
    }
    p
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four running sums let the compiler keep several multiplications in flight.
    let mut s = [0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            s[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    s[0] + s[1] + s[2] + s[3] + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inverse_times_the_matrix_is_the_identity() {
        let n = 37;
        // A Gram matrix plus a ridge: symmetric positive definite.
        let a: Vec<f64> = (0..n * n).map(|k| ((k * 7919) % 13) as f64 - 6.0).collect();
        let mut g = vec![0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                g[i * n + j] = (0..n).map(|k| a[k * n + i] * a[k * n + j]).sum::<f64>();
            }
            g[i * n + i] += 3.0;
        }
        let p = inverse_spd(g.clone(), n);
        for i in 0..n {
            for j in 0..n {
                let v: f64 = (0..n).map(|k| g[i * n + k] * p[k * n + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-9, "({i}, {j}): {v}");
            }
        }
    }

    #[test]
    fn items_bought_together_are_recommended_together() {
        // Customers 0–3 buy 0 with 1; 4–6 buy 2 with 3; customer 7 buys 0 only.
        let mut rows = Vec::new();
        for c in 0..4 {
            rows.extend([(c, 0, 1.0), (c, 1, 1.0)]);
        }
        for c in 4..7 {
            rows.extend([(c, 2, 1.0), (c, 3, 1.0)]);
        }
        rows.push((7, 0, 1.0));
        let x = Interactions::new(9, 4, rows);
        let ease = Ease::fit(&x, 1.0).unwrap();
        assert_eq!(ease.recommend(x.of_customer(7), 1, true), vec![1]);
        // Nothing goes with 2 and 3 but each other: the most popular fill in.
        assert_eq!(ease.recommend(x.of_customer(4), 2, true), vec![0, 1]);
        // Someone new gets the most popular items.
        assert_eq!(ease.recommend(&[], 2, true), vec![0, 1]);
        assert!(matches!(
            Ease::fit(&Interactions::new(1, MAX_ITEMS + 1, vec![]), 1.0),
            Err(EaseError::TooManyItems(_))
        ));
        assert_eq!(Ease::fit(&x, 0.0).unwrap_err(), EaseError::BadLambda);
    }
}
