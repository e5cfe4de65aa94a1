//! `nunchi text …`: sentiment and topics for lines on standard input, and the training
//! and evaluation commands that build the shipped models from the labelled corpora.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use nunchi_text::corpus::{self, Split};
use nunchi_text::train::{self, Progress, TrainConfig};
use nunchi_text::{Analyzer, Lang, Model};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TrainLang {
    Ko,
    En,
}

impl TrainLang {
    fn lang(self) -> Lang {
        match self {
            TrainLang::Ko => Lang::Ko,
            TrainLang::En => Lang::En,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TextCommand {
    /// Read one text per line on stdin; write one JSON object per line:
    /// {"lang": "ko", "label": "negative", "score": -0.83}.
    Sentiment {
        /// Use these model files instead of the shipped ones.
        #[arg(long)]
        model_ko: Option<PathBuf>,
        #[arg(long)]
        model_en: Option<PathBuf>,
    },
    /// Read one text per line on stdin; write the topics found, ranked by volume, each
    /// with its label in Korean and English, mean sentiment and member lines.
    Topics {
        /// A key phrase must be shared by this many lines to become a topic.
        #[arg(long, default_value_t = 2)]
        min_support: usize,
        /// One JSON object per topic instead of a table; `lines` are 1-based.
        #[arg(long)]
        json: bool,
    },
    /// Train a sentiment model. Korean: NSMC's train.tsv.gz; English: the folder holding
    /// VADER's *_GroundTruth.txt files. One tenth of the rows (by id hash) is held out and
    /// the accuracy on a balanced sample of it is printed.
    Train {
        #[arg(long, value_enum)]
        lang: TrainLang,
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Read at most this many rows (for quick runs).
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        epochs: Option<u32>,
        /// log2 of the hashed feature table.
        #[arg(long)]
        bits: Option<u8>,
        #[arg(long)]
        learning_rate: Option<f32>,
        /// Longest character n-gram.
        #[arg(long)]
        char_max: Option<u8>,
        /// Longest character n-gram over the text with spaces removed (0 = none).
        #[arg(long)]
        squeezed_max: Option<u8>,
        /// Longest word n-gram.
        #[arg(long)]
        word_max: Option<u8>,
        #[arg(long)]
        l2: Option<f32>,
        /// Plain logistic regression, without naive-Bayes feature scaling.
        #[arg(long)]
        no_nb_scale: bool,
        /// Also learn from neutral rows, towards their rating.
        #[arg(long)]
        use_neutral: bool,
        /// Ship the last weights instead of their average over training.
        #[arg(long)]
        no_average: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure a model (the shipped one unless --model) on the held-out rows of a corpus.
    Eval {
        #[arg(long, value_enum)]
        lang: TrainLang,
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        limit: Option<usize>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Write the held-out balanced sample as TSV (label, text) for baseline tools.
        #[arg(long)]
        write_test: Option<PathBuf>,
        /// Write the training rows as TSV (label, text) for baseline tools.
        #[arg(long)]
        write_train: Option<PathBuf>,
    },
}

pub fn run(command: TextCommand) -> anyhow::Result<()> {
    match command {
        TextCommand::Sentiment { model_ko, model_en } => {
            let analyzer = analyzer(model_ko.as_deref(), model_en.as_deref())?;
            sentiment(&analyzer, std::io::stdin().lock(), std::io::stdout().lock())
        }
        TextCommand::Topics { min_support, json } => topics(
            std::io::stdin().lock(),
            std::io::stdout().lock(),
            min_support.max(1),
            json,
        ),
        TextCommand::Train {
            lang,
            data,
            out,
            limit,
            epochs,
            bits,
            learning_rate,
            char_max,
            squeezed_max,
            word_max,
            l2,
            no_nb_scale,
            no_average,
            use_neutral,
            json,
        } => {
            let mut config = TrainConfig::for_lang(lang.lang());
            config.epochs = epochs.unwrap_or(config.epochs);
            config.spec.bits = bits.unwrap_or(config.spec.bits);
            config.learning_rate = learning_rate.unwrap_or(config.learning_rate);
            config.l2 = l2.unwrap_or(config.l2);
            config.spec.char_max = char_max
                .unwrap_or(config.spec.char_max)
                .clamp(config.spec.char_min, 8);
            config.spec.squeezed_max = squeezed_max.unwrap_or(config.spec.squeezed_max).min(8);
            config.spec.word_max = word_max.unwrap_or(config.spec.word_max).min(4);
            config.nb_scale = !no_nb_scale;
            config.average = !no_average;
            config.use_neutral = use_neutral;
            if !(10..=26).contains(&config.spec.bits) {
                bail!("--bits must be between 10 and 26");
            }
            let split = read_corpus(lang, &data, limit)?;
            let started = std::time::Instant::now();
            let (fit, calibration) = calibration_split(split.train);
            let bar = super::progress(0, "training");
            let model = train::train(lang.lang(), &fit, &calibration, &config, &mut |p| {
                show(&bar, p)
            });
            bar.finish_and_clear();
            // The shipped form is gzip; a plain file is written when asked for by name.
            let bytes = if out.extension().is_some_and(|e| e == "gz") {
                model.to_gzip()
            } else {
                model.to_bytes()
            };
            std::fs::write(&out, &bytes)
                .with_context(|| format!("failed to write {}", out.display()))?;
            report(
                &model,
                &split.test,
                json,
                Some((fit.len(), started.elapsed().as_secs_f64(), bytes.len())),
            );
            Ok(())
        }
        TextCommand::Eval {
            lang,
            data,
            model,
            limit,
            json,
            write_test,
            write_train,
        } => {
            let model = match model {
                Some(path) => load_model(&path)?,
                None => Analyzer::shipped()
                    .model(lang.lang())
                    .cloned()
                    .context("no shipped model")?,
            };
            let split = read_corpus(lang, &data, limit)?;
            if let Some(path) = write_test {
                write_tsv(&path, &train::balanced(&split.test))?;
            }
            if let Some(path) = write_train {
                write_tsv(&path, &split.train)?;
            }
            report(&model, &split.test, json, None);
            Ok(())
        }
    }
}

fn show(bar: &indicatif::ProgressBar, p: Progress) {
    match p {
        Progress::Extracting { done, total } => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message("extracting features");
        }
        Progress::Epoch {
            epoch,
            epochs,
            done,
            total,
        } => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("epoch {epoch}/{epochs}"));
        }
    }
}

/// Every tenth training row (by position) calibrates the neutral band instead of
/// training; the held-out test rows are never touched.
fn calibration_split(
    train: Vec<nunchi_text::train::Example>,
) -> (Vec<train::Example>, Vec<train::Example>) {
    let mut fit = Vec::with_capacity(train.len());
    let mut calibration = Vec::new();
    for (i, e) in train.into_iter().enumerate() {
        if i % 20 == 7 {
            calibration.push(e);
        } else {
            fit.push(e);
        }
    }
    (fit, calibration)
}

fn report(
    model: &Model,
    test: &[train::Example],
    json: bool,
    trained: Option<(usize, f64, usize)>,
) {
    let sample = train::balanced(test);
    let model_only = train::polarity_accuracy(model, &sample);
    let accuracy = train::product_accuracy(model, &sample);
    if json {
        let mut v = serde_json::json!({
            "lang": model.lang.code(),
            "balanced_test_size": sample.len(),
            "accuracy": accuracy,
            "model_only_accuracy": model_only,
            "neutral_band": model.neutral_band,
        });
        if let Some((n, secs, bytes)) = trained {
            v["train_size"] = n.into();
            v["train_seconds"] = secs.into();
            v["model_bytes"] = bytes.into();
        }
        println!("{v}");
    } else {
        if let Some((n, secs, bytes)) = trained {
            println!(
                "trained on {n} texts in {secs:.1} s; model {:.1} MiB",
                bytes as f64 / 1048576.0
            );
        }
        println!(
            "{}: accuracy {:.4} ({:.4} without the lexicon) on a balanced held-out sample of {} texts (neutral band {:.2})",
            model.lang.code(),
            accuracy,
            model_only,
            sample.len(),
            model.neutral_band
        );
    }
}

fn write_tsv(path: &Path, examples: &[train::Example]) -> anyhow::Result<()> {
    let mut out = BufWriter::new(
        std::fs::File::create(path)
            .with_context(|| format!("failed to create {}", path.display()))?,
    );
    for e in examples {
        writeln!(
            out,
            "{}\t{}",
            e.label.as_str(),
            e.text.replace(['\t', '\n'], " ")
        )?;
    }
    out.flush()?;
    Ok(())
}

fn read_corpus(lang: TrainLang, data: &Path, limit: Option<usize>) -> anyhow::Result<Split> {
    let split = match lang {
        TrainLang::Ko => {
            let file = std::fs::File::open(data)
                .with_context(|| format!("failed to open {}", data.display()))?;
            let reader: Box<dyn Read> = if data.extension().is_some_and(|e| e == "gz") {
                Box::new(flate2::read::MultiGzDecoder::new(file))
            } else {
                Box::new(file)
            };
            corpus::read_nsmc(BufReader::with_capacity(1 << 20, reader), limit)
                .with_context(|| format!("failed to read {}", data.display()))?
        }
        TrainLang::En => {
            let mut split = Split::default();
            let mut found = 0;
            for source in [
                "tweets",
                "amazonReviewSnippets",
                "movieReviewSnippets",
                "nytEditorialSnippets",
            ] {
                let path = data.join(format!("{source}_GroundTruth.txt"));
                if !path.exists() {
                    continue;
                }
                found += 1;
                let file = std::fs::File::open(&path)
                    .with_context(|| format!("failed to open {}", path.display()))?;
                corpus::read_vader(
                    BufReader::new(file),
                    source,
                    corpus::VADER_NEUTRAL_BAND,
                    &mut split,
                )
                .with_context(|| format!("failed to read {}", path.display()))?;
            }
            if found == 0 {
                bail!("{} holds no VADER *_GroundTruth.txt files", data.display());
            }
            split
        }
    };
    if !split.rejected.is_empty() {
        eprintln!(
            "skipped {} unreadable lines, first: line {}: {}",
            split.rejected.len(),
            split.rejected[0].0,
            split.rejected[0].1
        );
    }
    if split.train.is_empty() || split.test.is_empty() {
        bail!("{} gave no usable rows", data.display());
    }
    Ok(split)
}

fn load_model(path: &Path) -> anyhow::Result<Model> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    Model::from_bytes(&bytes).with_context(|| format!("{} is not a usable model", path.display()))
}

fn analyzer(ko: Option<&Path>, en: Option<&Path>) -> anyhow::Result<Analyzer> {
    let shipped = Analyzer::shipped();
    let ko = match ko {
        Some(p) => load_model(p)?,
        None => shipped
            .model(Lang::Ko)
            .cloned()
            .context("no Korean model")?,
    };
    let en = match en {
        Some(p) => load_model(p)?,
        None => shipped
            .model(Lang::En)
            .cloned()
            .context("no English model")?,
    };
    Ok(Analyzer::with_models(ko, en)?)
}

fn read_lines(input: impl BufRead) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line?;
        let text = String::from_utf8(line)
            .map_err(|_| anyhow::anyhow!("line {} is not valid UTF-8", n + 1))?;
        lines.push(text.trim_end_matches('\r').to_string());
    }
    Ok(lines)
}

fn topics(
    input: impl BufRead,
    output: impl Write,
    min_support: usize,
    json: bool,
) -> anyhow::Result<()> {
    let lines = read_lines(input)?;
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let found = nunchi_text::topics::group(Analyzer::shipped(), &texts, min_support);
    let mut out = BufWriter::new(output);
    for t in &found {
        if json {
            let v = serde_json::json!({
                "topic": t.topic,
                "label": {"ko": t.label_ko, "en": t.label_en},
                "count": t.members.len(),
                "sentiment": (t.sentiment * 1000.0).round() / 1000.0,
                "negative_share": (t.negative_share * 1000.0).round() / 1000.0,
                "lines": t.members.iter().map(|m| m + 1).collect::<Vec<_>>(),
            });
            writeln!(out, "{v}")?;
        } else {
            let label = if t.label_ko == t.label_en {
                t.label_ko.clone()
            } else {
                format!("{} ({})", t.label_ko, t.label_en)
            };
            writeln!(
                out,
                "{label} — {} {}, sentiment {:+.2}, {:.0}% negative",
                t.members.len(),
                if t.members.len() == 1 {
                    "line"
                } else {
                    "lines"
                },
                t.sentiment,
                t.negative_share * 100.0
            )?;
            for &m in &t.members {
                writeln!(out, "  {:>5}: {}", m + 1, lines[m])?;
            }
        }
    }
    if found.is_empty() && !json {
        writeln!(
            out,
            "no topics: no line names a known aspect and no phrase is shared by {min_support} lines"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// One JSON object per input line, in order; a line that is not UTF-8 is an error that
/// names its line number rather than a silently skipped row.
fn sentiment(analyzer: &Analyzer, input: impl BufRead, output: impl Write) -> anyhow::Result<()> {
    let mut out = BufWriter::new(output);
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line?;
        let text = std::str::from_utf8(&line)
            .map_err(|_| anyhow::anyhow!("line {} is not valid UTF-8", n + 1))?;
        let s = analyzer.sentiment(text.trim_end_matches('\r'));
        writeln!(
            out,
            "{{\"lang\": \"{}\", \"label\": \"{}\", \"score\": {:.4}}}",
            s.lang.code(),
            s.label.as_str(),
            s.score
        )?;
    }
    out.flush()?;
    Ok(())
}
