//! Readers for the labelled corpora the models are trained on: NSMC's TSV
//! (`review_id rating label text`) and the VADER ground-truth files
//! (`id mean-rating text`, ratings from -4 to 4). Each row is assigned to the training or
//! the held-out side by a hash of its id, so the split never depends on file order.

use std::io::BufRead;

use crate::model::Label;
use crate::train::Example;

/// Which side of the split a row is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Train,
    Test,
}

/// One tenth of ids (by hash) are held out.
pub fn side_of(id: &str) -> Side {
    let h = id.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x1000_0000_01B3)
    });
    if h % 10 == 0 { Side::Test } else { Side::Train }
}

/// A corpus split into training and held-out examples.
#[derive(Debug, Default)]
pub struct Split {
    pub train: Vec<Example>,
    pub test: Vec<Example>,
    /// Lines that could not be read, with their line numbers.
    pub rejected: Vec<(usize, String)>,
}

impl Split {
    fn push(&mut self, id: &str, example: Example) {
        match side_of(id) {
            Side::Train => self.train.push(example),
            Side::Test => self.test.push(example),
        }
    }
}

/// Reads NSMC's `review_id rating label text` rows (a header line is skipped).
pub fn read_nsmc(reader: impl BufRead, limit: Option<usize>) -> std::io::Result<Split> {
    let mut split = Split::default();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let mut cols = line.splitn(4, '\t');
        let (Some(id), Some(rating), Some(label), Some(text)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            split
                .rejected
                .push((n + 1, "expected 4 tab-separated columns".into()));
            continue;
        };
        let label = match label {
            "pos" => Label::Positive,
            "neg" => Label::Negative,
            "neu" => Label::Neutral,
            "label" if n == 0 => continue,
            other => {
                split
                    .rejected
                    .push((n + 1, format!("unknown label {other:?}")));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let target = rating
            .parse::<f32>()
            .ok()
            .filter(|r| (1.0..=10.0).contains(r))
            .map(|r| (r - 1.0) / 9.0);
        split.push(
            id,
            Example {
                text: text.to_string(),
                label,
                target,
            },
        );
        if limit.is_some_and(|l| split.train.len() + split.test.len() >= l) {
            break;
        }
    }
    Ok(split)
}

/// Reads one VADER ground-truth file (`id<TAB>mean<TAB>text`). Mean ratings above
/// `band` are positive, below `-band` negative, the rest neutral. `source` prefixes ids so
/// that files do not share split decisions.
pub fn read_vader(
    reader: impl BufRead,
    source: &str,
    band: f32,
    split: &mut Split,
) -> std::io::Result<()> {
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let mut cols = line.splitn(3, '\t');
        let (Some(id), Some(mean), Some(text)) = (cols.next(), cols.next(), cols.next()) else {
            split
                .rejected
                .push((n + 1, "expected 3 tab-separated columns".into()));
            continue;
        };
        let Ok(mean) = mean.trim().parse::<f32>() else {
            split
                .rejected
                .push((n + 1, format!("rating {mean:?} is not a number")));
            continue;
        };
        let label = if mean > band {
            Label::Positive
        } else if mean < -band {
            Label::Negative
        } else {
            Label::Neutral
        };
        let target = Some(((mean + 4.0) / 8.0).clamp(0.0, 1.0));
        split.push(
            &format!("{source}:{id}"),
            Example {
                text: text.to_string(),
                label,
                target,
            },
        );
    }
    Ok(())
}

/// VADER's raters scored from -4 to 4; means within this distance of zero are neutral.
pub const VADER_NEUTRAL_BAND: f32 = 0.5;
