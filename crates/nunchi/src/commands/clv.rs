//! `nunchi clv …`: customer lifetime value on a transactions CSV
//! (`customer_id,date,amount`). `fit` prints the BG/NBD and Gamma-Gamma parameters on the
//! scale `lifetimes` reports them (time in weeks, purchases collapsed per calendar day);
//! `customers` prints each customer's summary, RFM scores and cell, probability alive,
//! expected purchases and value over the coming months.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Subcommand;
use nunchi_analytics::Keys;
use nunchi_analytics::clv::{self, BgNbd, GammaGamma, Purchase, Summary};
use nunchi_analytics::rfm;
use serde_json::json;

use super::csv_input::{self, column};

#[derive(Debug, Subcommand)]
pub enum ClvCommand {
    /// Fit BG/NBD (purchase frequency and drop-out) and Gamma-Gamma (spend) to the
    /// transactions and print their parameters.
    Fit {
        /// CSV with a header naming customer_id, date (YYYY-MM-DD or RFC 3339; the
        /// calendar day as written counts) and amount; rows in any order.
        #[arg(long)]
        transactions: PathBuf,
        /// End of the calibration period (YYYY-MM-DD); later purchases are left out.
        /// Default: the last date in the file.
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Per customer: frequency, recency, T and repeat spend (as `lifetimes` summarises
    /// them), RFM scores and cell, probability alive, expected purchases and value.
    Customers {
        #[arg(long)]
        transactions: PathBuf,
        #[arg(long)]
        until: Option<String>,
        /// Months ahead for expected purchases and lifetime value.
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Monthly discount rate for lifetime value (0.01 = 1%).
        #[arg(long, default_value_t = 0.01)]
        discount: f64,
        /// One JSON object per customer instead of a table of the RFM cells.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: ClvCommand) -> anyhow::Result<()> {
    match command {
        ClvCommand::Fit {
            transactions,
            until,
            json,
        } => {
            let loaded = load(&transactions, until.as_deref(), json)?;
            let (bg, gg) = fit(&loaded.summaries)?;
            if json {
                println!(
                    "{}",
                    json!({
                        "bgnbd": {
                            "r": bg.params.r,
                            "alpha": bg.params.alpha,
                            "a": bg.params.a,
                            "b": bg.params.b,
                            "log_likelihood": bg.log_likelihood,
                        },
                        "gamma_gamma": gg.map(|g| json!({
                            "p": g.params.p,
                            "q": g.params.q,
                            "gamma": g.params.gamma,
                        })),
                        "customers": bg.customers,
                    })
                );
            } else {
                let p = bg.params;
                println!(
                    "{} customers, {} repeat buyers",
                    bg.customers,
                    gg.map_or(0, |g| g.customers)
                );
                println!(
                    "BG/NBD       r = {:.4}  α = {:.4}  a = {:.4}  b = {:.4}  (log-likelihood {:.2})",
                    p.r, p.alpha, p.a, p.b, bg.log_likelihood
                );
                match gg {
                    Some(g) => println!(
                        "Gamma-Gamma  p = {:.4}  q = {:.4}  γ = {:.4}",
                        g.params.p, g.params.q, g.params.gamma
                    ),
                    None => println!("Gamma-Gamma  not fitted: no repeat buyers"),
                }
            }
            Ok(())
        }
        ClvCommand::Customers {
            transactions,
            until,
            months,
            discount,
            json,
        } => {
            if !(0.0..1.0).contains(&discount) {
                bail!("--discount is a monthly rate between 0 and 1, e.g. 0.01");
            }
            let loaded = load(&transactions, until.as_deref(), json)?;
            let (bg, gg) = fit(&loaded.summaries)?;
            customers(
                &loaded,
                &bg.params,
                gg.map(|g| g.params),
                months,
                discount,
                json,
            )
        }
    }
}

/// The transactions file summarised per customer.
struct Loaded {
    ids: Vec<Box<str>>,
    summaries: Vec<Summary>,
}

fn fit(summaries: &[Summary]) -> anyhow::Result<(clv::BgNbdFit, Option<clv::GammaGammaFit>)> {
    let bg = BgNbd::fit(summaries)?;
    let gg = match GammaGamma::fit(summaries) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("note: {e}");
            None
        }
    };
    Ok((bg, gg))
}

fn customers(
    loaded: &Loaded,
    bg: &BgNbd,
    gg: Option<GammaGamma>,
    months: u32,
    discount: f64,
    json: bool,
) -> anyhow::Result<()> {
    let scores = rfm::score(&loaded.summaries);
    let weeks = f64::from(months) * clv::value::WEEKS_PER_MONTH;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !json {
        let mut cells = std::collections::BTreeMap::<rfm::Cell, (u64, f64)>::new();
        for (s, sc) in loaded.summaries.iter().zip(&scores) {
            let value = gg.map_or(0.0, |g| clv::lifetime_value(bg, &g, s, months, discount));
            let cell = cells.entry(rfm::Cell::of(sc.r, sc.f)).or_default();
            cell.0 += 1;
            cell.1 += value;
        }
        writeln!(
            out,
            "{:<22}{:>10}{:>16}",
            "RFM cell", "customers", "mean value"
        )?;
        for (cell, (n, value)) in cells {
            writeln!(out, "{:<22}{n:>10}{:>16.2}", cell.key(), value / n as f64)?;
        }
        return Ok(out.flush()?);
    }
    for ((id, s), sc) in loaded.ids.iter().zip(&loaded.summaries).zip(&scores) {
        let line = json!({
            "customer_id": id,
            "frequency": s.frequency,
            "recency": s.recency(),
            "T": s.t(),
            "monetary_value": s.monetary_value,
            "days_since_last": s.days_since_last(),
            "rfm": {"r": sc.r, "f": sc.f, "m": sc.m, "cell": rfm::Cell::of(sc.r, sc.f).key()},
            "probability_alive": bg.probability_alive(s),
            "expected_purchases": bg.expected_purchases(weeks, s),
            "expected_spend": gg.map(|g| g.expected_spend(s)),
            "clv": gg.map(|g| clv::lifetime_value(bg, &g, s, months, discount)),
        });
        writeln!(out, "{line}")?;
    }
    Ok(out.flush()?)
}

/// Days since 1970-01-01 of a calendar date.
fn epoch_day(date: jiff::civil::Date) -> Result<i32, String> {
    jiff::civil::date(1970, 1, 1)
        .until(date)
        .map(|span| span.get_days())
        .map_err(|e| e.to_string())
}

/// The calendar day of `YYYY-MM-DD` or of an RFC 3339 time as written (its own offset's
/// day: a purchase at 23:30 in Seoul was made that day in Seoul).
fn day(text: &str) -> Result<i32, String> {
    let date = if text.len() > 10 {
        text.parse::<jiff::Timestamp>()
            .map_err(|_| format!("date {text:?} is neither YYYY-MM-DD nor RFC 3339"))?;
        &text[..10]
    } else {
        text
    };
    let date: jiff::civil::Date = date
        .parse()
        .map_err(|_| format!("date {text:?} is neither YYYY-MM-DD nor RFC 3339"))?;
    epoch_day(date)
}

fn load(path: &Path, until: Option<&str>, quiet: bool) -> anyhow::Result<Loaded> {
    let until = until
        .map(|u| {
            u.parse::<jiff::civil::Date>()
                .map_err(|_| anyhow::anyhow!("--until {u:?} is not a YYYY-MM-DD date"))
                .and_then(|d| epoch_day(d).map_err(anyhow::Error::msg))
        })
        .transpose()?;
    let (mut reader, headers) = csv_input::open(path, quiet, "loading transactions")?;
    let (Some(customer_col), Some(date_col), Some(amount_col)) = (
        column(&headers, "customer_id"),
        column(&headers, "date"),
        column(&headers, "amount"),
    ) else {
        bail!("the header must name customer_id, date and amount");
    };
    let mut keys: Keys<Box<str>> = Keys::new();
    let mut purchases = Vec::new();
    let (_, bad) = csv_input::each_row(&mut reader, |record| {
        let customer = csv_input::text(record, customer_col, "customer_id")?;
        if customer.is_empty() {
            return Err("customer_id is empty".into());
        }
        let day = day(csv_input::text(record, date_col, "date")?)?;
        let raw = csv_input::text(record, amount_col, "amount")?;
        let amount: f64 = raw
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite())
            .ok_or_else(|| format!("amount {raw:?} is not a number"))?;
        purchases.push(Purchase {
            customer: keys.index(customer),
            day,
            amount,
        });
        Ok(())
    });
    if purchases.is_empty() {
        bail!("no usable transactions ({bad} bad rows)");
    }
    let until = until.unwrap_or_else(|| purchases.iter().map(|p| p.day).max().unwrap_or(0));
    let summaries = clv::summarize(&mut purchases, keys.len(), until);
    let (ids, summaries): (Vec<Box<str>>, Vec<Summary>) = summaries
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| Some((keys.key(i as u32).clone(), s?)))
        .unzip();
    if summaries.is_empty() {
        bail!("no customer bought anything on or before the calibration end");
    }
    Ok(Loaded { ids, summaries })
}
