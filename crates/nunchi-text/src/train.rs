//! Training: logistic regression on hashed n-grams with AdaGrad, deterministic for a
//! given seed, plus the evaluation and calibration steps that turn raw weights into a
//! shipped [`Model`].

use crate::features::{Extractor, FeatureSpec};
use crate::lang::Lang;
use crate::model::{Label, Model, norm};

/// One labelled text. `target` is how positive the rater found it, from 0 to 1, when
/// the corpus gives a finer rating than the label (NSMC's stars, VADER's mean score).
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: Label,
    pub target: Option<f32>,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    pub spec: FeatureSpec,
    pub epochs: u32,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
    /// Scale each feature by its naive-Bayes log-count ratio before the regression
    /// (NBSVM, Wang & Manning 2012). The scale folds into the weights, so scoring costs
    /// nothing more.
    pub nb_scale: bool,
    /// Ship the average of the weights over all steps rather than the last ones.
    pub average: bool,
    /// Also learn from neutral examples, towards their fine-grained target.
    pub use_neutral: bool,
}

impl TrainConfig {
    pub fn for_lang(lang: Lang) -> TrainConfig {
        match lang {
            Lang::En => TrainConfig {
                spec: FeatureSpec::ENGLISH,
                epochs: 8,
                learning_rate: 0.2,
                l2: 1e-5,
                seed: 7,
                nb_scale: true,
                average: true,
                use_neutral: false,
            },
            _ => TrainConfig {
                spec: FeatureSpec::KOREAN,
                epochs: 3,
                learning_rate: 0.2,
                l2: 1e-7,
                seed: 7,
                nb_scale: true,
                average: true,
                use_neutral: false,
            },
        }
    }
}

/// Where training is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Extracting {
        done: usize,
        total: usize,
    },
    Epoch {
        epoch: u32,
        epochs: u32,
        done: usize,
        total: usize,
    },
}

/// Features of many texts, stored flat.
struct Matrix {
    offsets: Vec<usize>,
    indices: Vec<u32>,
}

impl Matrix {
    fn row(&self, i: usize) -> &[u32] {
        &self.indices[self.offsets[i]..self.offsets[i + 1]]
    }
}

fn extract_all(spec: &FeatureSpec, texts: &[&str], progress: &mut dyn FnMut(Progress)) -> Matrix {
    let mut x = Extractor::new();
    let mut buf = Vec::new();
    let mut m = Matrix {
        offsets: Vec::with_capacity(texts.len() + 1),
        indices: Vec::new(),
    };
    m.offsets.push(0);
    for (i, text) in texts.iter().enumerate() {
        x.extract(spec, text, &mut buf);
        m.indices.extend_from_slice(&buf);
        m.offsets.push(m.indices.len());
        if i % 10_000 == 0 {
            progress(Progress::Extracting {
                done: i,
                total: texts.len(),
            });
        }
    }
    m
}

/// SplitMix64, so a seed fixes the example order on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Trains float weights on the positive and negative examples (neutral ones are skipped),
/// weighting the classes so that a balanced sample sees an unbiased threshold.
pub fn train_weights(
    examples: &[Example],
    config: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Vec<f32> {
    let used: Vec<&Example> = examples
        .iter()
        .filter(|e| e.label != Label::Neutral || (config.use_neutral && e.target.is_some()))
        .collect();
    let texts: Vec<&str> = used.iter().map(|e| e.text.as_str()).collect();
    let labels: Vec<f32> = used
        .iter()
        .map(|e| match e.label {
            Label::Positive => 1.0,
            Label::Negative => 0.0,
            Label::Neutral => e.target.unwrap_or(0.5),
        })
        .collect();
    // Each label present carries the same total weight.
    let count = |l: Label| used.iter().filter(|e| e.label == l).count();
    let per_label = [Label::Negative, Label::Neutral, Label::Positive].map(count);
    let labels_present = per_label.iter().filter(|n| **n > 0).count() as f32;
    let total = labels.len() as f32;
    let weights: Vec<f32> = used
        .iter()
        .map(|e| {
            let n = per_label[e.label as usize] as f32;
            total / (labels_present * n)
        })
        .collect();
    let matrix = extract_all(&config.spec, &texts, progress);

    let size = config.spec.table_size();
    let r = if config.nb_scale {
        log_count_ratios(&matrix, &labels, size)
    } else {
        vec![1f32; size]
    };
    let mut w = vec![0f32; size];
    // Sum of step × update, for the running average (w - u / t) without touching every
    // weight at every step.
    let mut u = if config.average {
        vec![0f32; size]
    } else {
        Vec::new()
    };
    let mut g2 = vec![1e-6f32; size];
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let mut rng = Rng(config.seed);
    let mut t = 1f32;
    for epoch in 0..config.epochs {
        rng.shuffle(&mut order);
        for (done, &i) in order.iter().enumerate() {
            let row = matrix.row(i);
            let v = norm(row.len());
            let z: f32 = row
                .iter()
                .map(|&f| w[f as usize] * r[f as usize])
                .sum::<f32>()
                * v;
            let p = 1.0 / (1.0 + (-z).exp());
            let y = labels[i];
            let g = (p - y) * weights[i] * v;
            for &f in row {
                let f = f as usize;
                let grad = g * r[f] + config.l2 * w[f];
                g2[f] += grad * grad;
                let delta = config.learning_rate * grad / g2[f].sqrt();
                w[f] -= delta;
                if config.average {
                    u[f] -= t * delta;
                }
            }
            t += 1.0;
            if done % 20_000 == 0 {
                progress(Progress::Epoch {
                    epoch: epoch + 1,
                    epochs: config.epochs,
                    done,
                    total: order.len(),
                });
            }
        }
    }
    if config.average {
        for (wi, ui) in w.iter_mut().zip(&u) {
            *wi -= ui / t;
        }
    }
    // Fold the scale into the weights: the shipped model sees plain features.
    for (wi, ri) in w.iter_mut().zip(&r) {
        *wi *= ri;
    }
    w
}

/// Naive-Bayes log-count ratio per table entry, from feature presence in positive and
/// negative texts, with add-one smoothing.
fn log_count_ratios(matrix: &Matrix, labels: &[f32], size: usize) -> Vec<f32> {
    let mut pos = vec![1f32; size];
    let mut neg = vec![1f32; size];
    let mut seen = Vec::new();
    for (i, y) in labels.iter().enumerate() {
        seen.clear();
        seen.extend_from_slice(matrix.row(i));
        seen.sort_unstable();
        seen.dedup();
        let counts = if *y > 0.5 { &mut pos } else { &mut neg };
        for &f in &seen {
            counts[f as usize] += 1.0;
        }
    }
    let (p_total, n_total) = (pos.iter().sum::<f32>(), neg.iter().sum::<f32>());
    let mut r: Vec<f32> = pos
        .iter()
        .zip(&neg)
        .map(|(p, n)| ((p / p_total) / (n / n_total)).ln())
        .collect();
    // The bias feature must stay free to move.
    r[0] = 1.0;
    r
}

/// Trains a shipped model: weights, then the neutral band fitted on `calibration`.
pub fn train(
    lang: Lang,
    examples: &[Example],
    calibration: &[Example],
    config: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Model {
    let weights = train_weights(examples, config, progress);
    let mut model = Model::quantise(lang, config.spec, &weights, 0.0);
    model.neutral_band = fit_neutral_band(&model, calibration);
    model
}

/// Picks the neutral band that best separates the three labels on `calibration`, each
/// label weighted equally. Without neutral examples the band stays at zero.
pub fn fit_neutral_band(model: &Model, calibration: &[Example]) -> f32 {
    let scores = score_all(model, calibration);
    let count = |l: Label| calibration.iter().filter(|e| e.label == l).count();
    if count(Label::Neutral) == 0 || count(Label::Positive) == 0 || count(Label::Negative) == 0 {
        return 0.0;
    }
    let mut best = (0.0f32, f64::MIN);
    for step in 0..=90 {
        let band = step as f32 / 100.0;
        let mut probe = model.clone();
        probe.neutral_band = band;
        let per_label = [Label::Negative, Label::Neutral, Label::Positive].map(|label| {
            let (hit, n) = calibration
                .iter()
                .zip(&scores)
                .filter(|(e, _)| e.label == label)
                .fold((0usize, 0usize), |(h, n), (_, s)| {
                    (h + usize::from(probe.from_margin(*s).label == label), n + 1)
                });
            hit as f64 / n as f64
        });
        let macro_accuracy = per_label.iter().sum::<f64>() / 3.0;
        if macro_accuracy > best.1 {
            best = (band, macro_accuracy);
        }
    }
    best.0
}

fn score_all(model: &Model, examples: &[Example]) -> Vec<f32> {
    let mut x = Extractor::new();
    let mut buf = Vec::new();
    examples
        .iter()
        .map(|e| {
            x.extract(&model.spec, &e.text, &mut buf);
            model.margin(&buf)
        })
        .collect()
}

/// Share of positive and negative examples whose score has the right sign, the measure
/// the NSMC literature reports (on a balanced sample).
pub fn polarity_accuracy(model: &Model, examples: &[Example]) -> f64 {
    let polar: Vec<Example> = examples
        .iter()
        .filter(|e| e.label != Label::Neutral)
        .cloned()
        .collect();
    if polar.is_empty() {
        return 0.0;
    }
    let scores = score_all(model, &polar);
    let right = polar
        .iter()
        .zip(&scores)
        .filter(|(e, s)| (**s > 0.0) == (e.label == Label::Positive))
        .count();
    right as f64 / polar.len() as f64
}

/// Like [`polarity_accuracy`] for the whole shipped path: model plus lexicon.
pub fn product_accuracy(model: &Model, examples: &[Example]) -> f64 {
    let polar: Vec<&Example> = examples
        .iter()
        .filter(|e| e.label != Label::Neutral)
        .collect();
    if polar.is_empty() {
        return 0.0;
    }
    let right = polar
        .iter()
        .filter(|e| {
            let s = crate::Analyzer::score_with(model, &e.text);
            (s.score > 0.0) == (e.label == Label::Positive)
        })
        .count();
    right as f64 / polar.len() as f64
}

/// Keeps every negative and positive example up to the smaller count, in input order,
/// so that accuracy is measured on equal classes.
pub fn balanced(examples: &[Example]) -> Vec<Example> {
    let count = |l: Label| examples.iter().filter(|e| e.label == l).count();
    let keep = count(Label::Positive).min(count(Label::Negative));
    let (mut pos, mut neg) = (0, 0);
    examples
        .iter()
        .filter(|e| match e.label {
            Label::Positive if pos < keep => {
                pos += 1;
                true
            }
            Label::Negative if neg < keep => {
                neg += 1;
                true
            }
            _ => false,
        })
        .cloned()
        .collect()
}
