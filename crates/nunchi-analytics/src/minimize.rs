//! Derivative-free minimisation (Nelder–Mead with restarts) for fitting the lifetime-value
//! models by maximum likelihood. Their likelihoods are smooth in log-parameters but
//! flat along ridges (Gamma-Gamma's p, q and γ trade off), so the simplex is restarted
//! around its best point until a restart no longer improves it.

/// The smallest value found and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub at: Vec<f64>,
    pub value: f64,
    /// Objective evaluations used.
    pub evaluations: usize,
}

/// Minimises `f` from `start`. `f` may return NaN or +∞ for points outside its domain;
/// those count as worse than any finite value.
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: &[f64]) -> Minimum {
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut best = Minimum {
        at: start.to_vec(),
        value: eval(start),
        evaluations: 1,
    };
    for _restart in 0..20 {
        let run = simplex(&eval, &best.at, 0.5);
        let improved = best.value - run.value;
        best.evaluations += run.evaluations;
        if run.value < best.value {
            best.at = run.at;
            best.value = run.value;
        }
        if improved.abs() <= 1e-12 * best.value.abs().max(1.0) {
            break;
        }
    }
    best
}

/// One Nelder–Mead run (standard coefficients: reflect 1, expand 2, contract ½, shrink ½)
/// from a simplex of `step` around `start`, until the values and the simplex collapse.
fn simplex(f: &impl Fn(&[f64]) -> f64, start: &[f64], step: f64) -> Minimum {
    let n = start.len();
    let mut points: Vec<Vec<f64>> = (0..=n)
        .map(|i| {
            let mut p = start.to_vec();
            if i > 0 {
                p[i - 1] += step;
            }
            p
        })
        .collect();
    let mut values: Vec<f64> = points.iter().map(|p| f(p)).collect();
    let mut evaluations = n + 1;
    let max_evaluations = 4_000 * n;
    while evaluations < max_evaluations {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        points = order.iter().map(|&i| points[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();
        let spread = (values[n] - values[0]).abs();
        let size = points[1..]
            .iter()
            .flat_map(|p| p.iter().zip(&points[0]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if spread <= 1e-13 * values[0].abs().max(1e-10) && size <= 1e-9 {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| points[..n].iter().map(|p| p[j]).sum::<f64>() / n as f64)
            .collect();
        let toward = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&points[n])
                .map(|(c, w)| c + t * (w - c))
                .collect()
        };
        let reflected = toward(-1.0);
        let fr = f(&reflected);
        evaluations += 1;
        if fr < values[0] {
            let expanded = toward(-2.0);
            let fe = f(&expanded);
            evaluations += 1;
            if fe < fr {
                (points[n], values[n]) = (expanded, fe);
            } else {
                (points[n], values[n]) = (reflected, fr);
            }
        } else if fr < values[n - 1] {
            (points[n], values[n]) = (reflected, fr);
        } else {
            let (contracted, fc) = if fr < values[n] {
                let c = toward(-0.5);
                let v = f(&c);
                (c, v)
            } else {
                let c = toward(0.5);
                let v = f(&c);
                (c, v)
            };
            evaluations += 1;
            if fc < values[n].min(fr) {
                (points[n], values[n]) = (contracted, fc);
            } else {
                for i in 1..=n {
                    let p: Vec<f64> = points[i]
                        .iter()
                        .zip(&points[0])
                        .map(|(x, b)| b + 0.5 * (x - b))
                        .collect();
                    values[i] = f(&p);
                    points[i] = p;
                }
                evaluations += n;
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    Minimum {
        at: points[best].clone(),
        value: values[best],
        evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(rosenbrock, &[-1.2, 1.0]);
        assert!(
            (m.at[0] - 1.0).abs() < 1e-5 && (m.at[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
        assert!(m.value < 1e-10);
    }

    #[test]
    fn treats_points_outside_the_domain_as_worse() {
        // Undefined at and below 0: the search must stay inside and find x = 2.
        let f = |x: &[f64]| {
            if x[0] <= 0.0 {
                f64::NAN
            } else {
                (x[0] - 2.0).powi(2)
            }
        };
        let m = nelder_mead(f, &[0.2]);
        assert!((m.at[0] - 2.0).abs() < 1e-6, "{m:?}");
    }

    #[test]
    fn fits_a_four_parameter_quadratic_bowl() {
        let centre = [0.3, -1.7, 2.2, 0.9];
        let f = |x: &[f64]| {
            x.iter()
                .zip(centre)
                .enumerate()
                .map(|(i, (a, c))| (i as f64 + 1.0) * (a - c).powi(2))
                .sum::<f64>()
        };
        let m = nelder_mead(f, &[0.0; 4]);
        for (a, c) in m.at.iter().zip(centre) {
            assert!((a - c).abs() < 1e-6, "{m:?}");
        }
    }
}
