//! `nunchi analyze …`: the analytics engine on an events CSV, the way `clickhouse-local`
//! works on a file — funnels, paths and retention — plus the deterministic generator and
//! the engine's side of the benchmark.

mod bench;
mod events_csv;
mod segment_bench;

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use nunchi_analytics::duration::{self, human};
use nunchi_analytics::funnel::{self, Breakdown, FunnelSpec, NO_VALUE};
use nunchi_analytics::log::Scope;
use nunchi_analytics::paths::{self, Direction};
use nunchi_analytics::retention::{self, Period, RetentionSpec};
use nunchi_analytics::synth::{self, SynthConfig};
use nunchi_core::channel::Channel;
use serde_json::json;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BreakdownBy {
    /// The channel of the step-1 event that began each customer's deepest chain.
    Channel,
    /// The channel of each customer's first event.
    FirstTouch,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
}

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Ordered funnel with ClickHouse windowFunnel semantics: the deepest step each
    /// customer reached within the window of their first step.
    Funnel {
        /// CSV with a header naming customer_id, event, timestamp (RFC 3339 or Unix
        /// seconds) and optionally channel; rows in any order.
        #[arg(long)]
        events: PathBuf,
        /// Event names, comma-separated, in funnel order.
        #[arg(long, value_delimiter = ',', required = true)]
        steps: Vec<String>,
        /// Conversion window: 90s, 30m, 2h, 7d, 2w.
        #[arg(long, default_value = "7d", value_parser = duration::parse_span)]
        window: u64,
        /// Stop at the first event that matches no step once the funnel has begun.
        #[arg(long)]
        strict_order: bool,
        /// Each step must come strictly later than the one before.
        #[arg(long)]
        strict_increase: bool,
        /// Each step needs its own, later event (a repeated step is a repeat of the
        /// action); without it one event may fill two steps, as windowFunnel counts.
        #[arg(long)]
        separate_events: bool,
        #[arg(long, value_enum)]
        breakdown: Option<BreakdownBy>,
        /// Print {"steps": [{"name", "customers"}, …]} instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Top transitions between consecutive events, or what comes right after (or
    /// before) one event.
    Paths {
        #[arg(long)]
        events: PathBuf,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Show the events that follow this one.
        #[arg(long, conflicts_with = "before")]
        after: Option<String>,
        /// Show the events that precede this one.
        #[arg(long)]
        before: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Retention cohorts by first event (or first occurrence of --cohort-event).
    Retention {
        #[arg(long)]
        events: PathBuf,
        #[arg(long, value_enum, default_value = "week")]
        period: PeriodArg,
        /// Periods to show after each cohort's own.
        #[arg(long, default_value_t = 8)]
        periods: usize,
        /// Cohort customers by their first event of this name (e.g. purchase).
        #[arg(long)]
        cohort_event: Option<String>,
        /// Only this event counts as coming back.
        #[arg(long)]
        return_event: Option<String>,
        /// Hours east of UTC for day and week boundaries (9 for Korea).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        utc_offset: i32,
        #[arg(long)]
        json: bool,
    },
    /// Write the deterministic benchmark log: realistic journeys over 90 days, as a
    /// time-ordered CSV.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        customers: u32,
        #[arg(long, default_value_t = SynthConfig::default().seed)]
        seed: u64,
    },
    /// Write deterministic NPS answers as CSV and time weekly NPS by channel over them.
    /// Used by scripts/analytics-bench.sh.
    ScoresBench {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        answers: u32,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Judge a behavioural segment (two carts and no purchase in 30 days) for every
    /// customer of a file, and single customers in turn; prints JSON. Used by
    /// scripts/analytics-bench.sh.
    SegmentBench {
        #[arg(long)]
        events: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Time the engine on a file: load, memory per event, and the median of several
    /// runs of each benchmark query. Used by scripts/analytics-bench.sh.
    Bench {
        #[arg(long)]
        events: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: AnalyzeCommand) -> anyhow::Result<()> {
    match command {
        AnalyzeCommand::Funnel {
            events,
            steps,
            window,
            strict_order,
            strict_increase,
            separate_events,
            breakdown,
            json,
        } => {
            let loaded = events_csv::load(&events, json)?;
            let codes = steps
                .iter()
                .map(|s| loaded.log.names.code(s.trim()).unwrap_or(u16::MAX))
                .collect::<Vec<_>>();
            if codes.contains(&u16::MAX) {
                let missing: Vec<&str> = steps
                    .iter()
                    .zip(&codes)
                    .filter(|(_, c)| **c == u16::MAX)
                    .map(|(s, _)| s.as_str())
                    .collect();
                eprintln!("note: no events named {} in the file", missing.join(", "));
            }
            let spec = FunnelSpec {
                steps: codes,
                window_secs: window,
                strict_order,
                strict_increase,
                separate_events,
            };
            let by = match breakdown {
                None => Breakdown::None,
                Some(BreakdownBy::Channel) => Breakdown::Channel,
                Some(BreakdownBy::FirstTouch) => Breakdown::FirstTouch,
            };
            let report = funnel::funnel(&loaded.log, Scope::all(), &spec, by)?;
            print_funnel(&steps, &report, json)
        }
        AnalyzeCommand::Paths {
            events,
            limit,
            after,
            before,
            json,
        } => {
            let loaded = events_csv::load(&events, json)?;
            let log = &loaded.log;
            let name = |code: Option<u16>| code.map(|c| log.names.name(c).to_string());
            let around = after
                .map(|e| (e, Direction::Next))
                .or(before.map(|e| (e, Direction::Previous)));
            if let Some((event, direction)) = around {
                let Some(code) = log.names.code(&event) else {
                    bail!("no events named {event:?} in the file");
                };
                let mut steps = paths::neighbours(log, Scope::all(), code, direction);
                steps.truncate(limit);
                let total: u64 = steps.iter().map(|s| s.1).sum();
                if json {
                    let steps: Vec<_> = steps
                        .iter()
                        .map(|&(c, n)| json!({"name": name(c), "count": n}))
                        .collect();
                    let dir = if direction == Direction::Next {
                        "next"
                    } else {
                        "previous"
                    };
                    println!(
                        "{}",
                        json!({"event": event, "direction": dir, "steps": steps})
                    );
                } else {
                    let head = if direction == Direction::Next {
                        "after"
                    } else {
                        "before"
                    };
                    println!(
                        "{:<32} {:>12} {:>7}",
                        format!("{head} {event}"),
                        "count",
                        "share"
                    );
                    for (c, n) in steps {
                        let label = name(c).unwrap_or_else(|| "(journey ends)".into());
                        println!("{label:<32} {n:>12} {:>6.1}%", pct(n, total));
                    }
                }
            } else {
                let top = paths::top_transitions(log, Scope::all(), limit);
                if json {
                    let rows: Vec<_> = top
                        .iter()
                        .map(|t| json!({"from": log.names.name(t.from), "to": log.names.name(t.to), "count": t.count}))
                        .collect();
                    println!("{}", json!({ "transitions": rows }));
                } else {
                    println!("{:<24} {:<24} {:>12}", "from", "to", "count");
                    for t in top {
                        println!(
                            "{:<24} {:<24} {:>12}",
                            log.names.name(t.from),
                            log.names.name(t.to),
                            t.count
                        );
                    }
                }
            }
            Ok(())
        }
        AnalyzeCommand::Retention {
            events,
            period,
            periods,
            cohort_event,
            return_event,
            utc_offset,
            json,
        } => {
            let loaded = events_csv::load(&events, json)?;
            let log = &loaded.log;
            let code = |name: Option<String>| -> anyhow::Result<Option<u16>> {
                name.map(|n| {
                    log.names
                        .code(&n)
                        .ok_or_else(|| anyhow::anyhow!("no events named {n:?} in the file"))
                })
                .transpose()
            };
            let period = match period {
                PeriodArg::Day => Period::Day,
                PeriodArg::Week => Period::Week,
            };
            let spec = RetentionSpec {
                period,
                cohort_event: code(cohort_event)?,
                return_event: code(return_event)?,
                periods: periods + 1,
                utc_offset_secs: utc_offset * 3_600,
            };
            let cohorts = retention::retention(log, Scope::all(), &spec)?;
            let date = |index: i64| {
                jiff::Timestamp::from_second(
                    period.start(index, spec.utc_offset_secs) + spec.utc_offset_secs as i64,
                )
                .map(|t| t.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default()
            };
            if json {
                let rows: Vec<_> = cohorts
                    .iter()
                    .map(
                        |c| json!({"start": date(c.index), "size": c.size, "returned": c.returned}),
                    )
                    .collect();
                println!("{}", json!({"period": period, "cohorts": rows}));
            } else {
                print!("{:<12} {:>9}", "cohort", "customers");
                for k in 0..=periods {
                    print!(" {:>6}", format!("+{k}"));
                }
                println!();
                for c in &cohorts {
                    print!("{:<12} {:>9}", date(c.index), c.size);
                    for &n in &c.returned {
                        print!(" {:>5.1}%", pct(n, c.size));
                    }
                    println!();
                }
            }
            Ok(())
        }
        AnalyzeCommand::Generate {
            out,
            customers,
            seed,
        } => generate(&out, customers, seed),
        AnalyzeCommand::Bench { events, runs, json } => bench::run(&events, runs, json),
        AnalyzeCommand::SegmentBench { events, runs } => segment_bench::run(&events, runs),
        AnalyzeCommand::ScoresBench { out, answers, runs } => bench::scores(&out, answers, runs),
    }
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

fn print_funnel(steps: &[String], report: &funnel::FunnelReport, json: bool) -> anyhow::Result<()> {
    let breakdown_key = |key: u32| {
        if key == NO_VALUE {
            "(none)".to_string()
        } else {
            Channel::from_code(key as u8).as_str().to_string()
        }
    };
    if json {
        let rows: Vec<_> = steps
            .iter()
            .zip(&report.reached)
            .map(|(name, &n)| json!({"name": name, "customers": n}))
            .collect();
        let mut out = json!({ "steps": rows });
        if !report.breakdown.is_empty() {
            let by: serde_json::Map<String, serde_json::Value> = report
                .breakdown
                .iter()
                .map(|(&k, v)| (breakdown_key(k), json!(v)))
                .collect();
            out["breakdown"] = serde_json::Value::Object(by);
        }
        println!("{out}");
        return Ok(());
    }
    let first = report.reached[0];
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{:<4} {:<24} {:>12} {:>9} {:>9} {:>16}",
        "step", "event", "customers", "of first", "of prev", "median to reach"
    )?;
    for (k, (name, &n)) in steps.iter().zip(&report.reached).enumerate() {
        let prev = if k == 0 { n } else { report.reached[k - 1] };
        let median = report.from_first[k]
            .median()
            .filter(|_| k > 0)
            .map(human)
            .unwrap_or_default();
        writeln!(
            stdout,
            "{:<4} {:<24} {:>12} {:>8.1}% {:>8.1}% {:>16}",
            k + 1,
            name,
            n,
            pct(n, first),
            pct(n, prev),
            median
        )?;
    }
    let ttc = report.time_to_convert().summary();
    if ttc.count > 0 {
        writeln!(stdout, "\ntime to convert ({} customers):", ttc.count)?;
        let max = ttc.bands.iter().map(|b| b.1).max().unwrap_or(1).max(1);
        for (label, n) in &ttc.bands {
            let bar = "█".repeat((40 * n / max) as usize);
            writeln!(stdout, "  {label:>7} {n:>10} {bar}")?;
        }
    }
    for (&key, row) in &report.breakdown {
        let cells: Vec<String> = row.iter().map(|n| n.to_string()).collect();
        writeln!(stdout, "{:<12} {}", breakdown_key(key), cells.join(" → "))?;
    }
    Ok(())
}

fn generate(out: &std::path::Path, customers: u32, seed: u64) -> anyhow::Result<()> {
    let config = SynthConfig {
        customers,
        seed,
        ..SynthConfig::default()
    };
    eprintln!("generating journeys for {customers} customers…");
    let events = synth::generate_time_ordered(&config);
    let bar = super::progress(events.len() as u64, "writing events");
    let file = std::fs::File::create(out)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "customer_id,event,timestamp,channel")?;
    for (i, e) in events.iter().enumerate() {
        writeln!(
            w,
            "{},{},{},{}",
            e.customer,
            e.name(),
            e.ts,
            e.channel.as_str()
        )?;
        if i % 65_536 == 0 {
            bar.set_position(i as u64);
        }
    }
    w.flush()?;
    bar.finish_and_clear();
    eprintln!("wrote {} events to {}", events.len(), out.display());
    Ok(())
}
