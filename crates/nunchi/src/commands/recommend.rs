//! `nunchi recommend`: recommendations from an interactions CSV
//! (`customer_id,item_id[,timestamp][,weight]`, rows in any order) — each customer's top N
//! as one JSON object per line, or each item's most similar items with `--similar`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use nunchi_analytics::Keys;
use nunchi_analytics::ease::Ease;
use nunchi_analytics::recommend::{Interactions, ItemKnn, KnnConfig};
use nunchi_core::time::Millis;
use serde_json::json;

use super::csv_input::{self, column};

#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// CSV with a header naming customer_id and item_id, optionally timestamp (RFC 3339
    /// or Unix seconds) and weight (a positive number, 1 when absent); repeated pairs add
    /// up.
    #[arg(long)]
    interactions: PathBuf,
    /// Items per customer (or per item with --similar).
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Never recommend an item the customer already has in the file.
    #[arg(long)]
    exclude_seen: bool,
    /// Print each item's most similar items instead ({"item_id", "items"} per line).
    #[arg(long)]
    similar: bool,
    /// Neighbours each item keeps for scoring customers (--similar keeps --top).
    #[arg(long, default_value_t = KnnConfig::default().k)]
    neighbours: usize,
    /// Shrinks the similarity of pairs few customers share (0 = plain cosine).
    #[arg(long, default_value_t = KnnConfig::default().shrink)]
    shrink: f32,
    /// One JSON object per line (the default prints `id: item, item, …`).
    #[arg(long)]
    json: bool,
    /// Who scores customers: item-kNN (any catalogue) or EASE (at most 3,000 items;
    /// --similar always lists kNN neighbours).
    #[arg(long, value_enum, default_value_t = Model::Knn)]
    model: Model,
    /// EASE's L2 weight.
    #[arg(long, default_value_t = 500.0)]
    lambda: f64,
    /// After fitting, time this many single recommendations for customers spread over
    /// the file and print their latency percentiles (standard error); print nothing else.
    #[arg(long)]
    time_queries: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    Knn,
    Ease,
}

/// The fitted model that scores customers.
enum Scorer {
    Knn(ItemKnn),
    Ease(Ease),
}

impl Scorer {
    fn recommend(&self, history: &[(u32, f32)], n: usize, exclude_seen: bool) -> Vec<u32> {
        match self {
            Scorer::Knn(m) => m.recommend(history, n, exclude_seen),
            Scorer::Ease(m) => m.recommend(history, n, exclude_seen),
        }
    }
}

struct Loaded {
    customers: Keys<Box<str>>,
    items: Keys<Box<str>>,
    x: Interactions,
}

pub fn run(args: RecommendArgs) -> anyhow::Result<()> {
    if args.time_queries == Some(0) {
        bail!("--time-queries must be at least 1");
    }
    if args.top == 0 {
        bail!("--top must be at least 1");
    }
    if !(args.shrink >= 0.0 && args.shrink.is_finite()) {
        bail!("--shrink must be a number ≥ 0");
    }
    let loaded = load(&args.interactions, args.json)?;
    let started = std::time::Instant::now();
    if args.model == Model::Ease && !args.similar {
        let ease = Ease::fit(&loaded.x, args.lambda)?;
        return serve(&args, &loaded, &Scorer::Ease(ease), started);
    }
    let knn = ItemKnn::fit(
        &loaded.x,
        KnnConfig {
            // Listing neighbours needs no more than it prints.
            k: if args.similar {
                args.top
            } else {
                args.neighbours.max(args.top)
            },
            shrink: args.shrink,
            ..KnnConfig::default()
        },
    );
    if !args.similar {
        return serve(&args, &loaded, &Scorer::Knn(knn), started);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let name = |i: &u32| loaded.items.key(*i).as_ref();
    for item in 0..loaded.items.len() as u32 {
        let items: Vec<&str> = knn
            .similar(item)
            .iter()
            .take(args.top)
            .map(|(j, _)| name(j))
            .collect();
        line(
            &mut out,
            args.json,
            "item_id",
            loaded.items.key(item),
            &items,
        )?;
    }
    Ok(out.flush()?)
}

/// Each customer's top N from `scorer` (or, with --time-queries, its latency).
fn serve(
    args: &RecommendArgs,
    loaded: &Loaded,
    scorer: &Scorer,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    if !args.json {
        eprintln!(
            "fitted {} items from {} customers in {:.3} s",
            loaded.items.len(),
            loaded.customers.len(),
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(n) = args.time_queries {
        return time_queries(loaded, scorer, n, args.top, args.exclude_seen);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let name = |i: &u32| loaded.items.key(*i).as_ref();
    for customer in 0..loaded.customers.len() as u32 {
        let history = loaded.x.of_customer(customer);
        let items = scorer.recommend(history, args.top, args.exclude_seen);
        let items: Vec<&str> = items.iter().map(name).collect();
        line(
            &mut out,
            args.json,
            "customer_id",
            loaded.customers.key(customer),
            &items,
        )?;
    }
    Ok(out.flush()?)
}

/// Serving latency: one customer's top N at a time, as the API answers them.
fn time_queries(
    loaded: &Loaded,
    knn: &Scorer,
    n: usize,
    top: usize,
    exclude_seen: bool,
) -> anyhow::Result<()> {
    let customers = loaded.customers.len().max(1);
    let mut micros: Vec<f64> = (0..n)
        .map(|q| {
            // A fixed stride through the customers: heavy and light histories alike.
            let customer = ((q as u64 * 2_654_435_761) % customers as u64) as u32;
            let started = std::time::Instant::now();
            let items = knn.recommend(loaded.x.of_customer(customer), top, exclude_seen);
            std::hint::black_box(items);
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    micros.sort_by(f64::total_cmp);
    let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "{n} recommendations: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

fn line(
    out: &mut impl Write,
    json: bool,
    key: &str,
    id: &str,
    items: &[&str],
) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", json!({ key: id, "items": items }))?;
    } else {
        writeln!(out, "{id}: {}", items.join(", "))?;
    }
    Ok(())
}

fn load(path: &Path, quiet: bool) -> anyhow::Result<Loaded> {
    let (mut reader, headers) = csv_input::open(path, quiet, "loading interactions")?;
    let (Some(customer_col), Some(item_col)) =
        (column(&headers, "customer_id"), column(&headers, "item_id"))
    else {
        bail!("the header must name customer_id and item_id");
    };
    let (ts_col, weight_col) = (column(&headers, "timestamp"), column(&headers, "weight"));
    let mut customers: Keys<Box<str>> = Keys::new();
    let mut items: Keys<Box<str>> = Keys::new();
    let mut rows = Vec::new();
    let (_, bad) = csv_input::each_row(&mut reader, |record| {
        let customer = csv_input::text(record, customer_col, "customer_id")?;
        let item = csv_input::text(record, item_col, "item_id")?;
        if customer.is_empty() || item.is_empty() {
            return Err("customer_id and item_id must not be empty".into());
        }
        if let Some(col) = ts_col {
            let ts = csv_input::text(record, col, "timestamp")?;
            if !ts.is_empty() && Millis::parse(ts).is_err() {
                return Err(format!(
                    "timestamp {ts:?} is neither RFC 3339 nor Unix seconds"
                ));
            }
        }
        let weight = match weight_col {
            None => 1.0,
            Some(col) => match csv_input::text(record, col, "weight")? {
                "" => 1.0,
                raw => raw
                    .parse::<f32>()
                    .ok()
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .ok_or_else(|| format!("weight {raw:?} is not a positive number"))?,
            },
        };
        rows.push((customers.index(customer), items.index(item), weight));
        Ok(())
    });
    if rows.is_empty() {
        bail!("no usable interactions ({bad} bad rows)");
    }
    let x = Interactions::new(customers.len(), items.len(), rows);
    Ok(Loaded {
        customers,
        items,
        x,
    })
}
