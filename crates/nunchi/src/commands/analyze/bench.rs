//! The engine's side of the analytics benchmark: load a file, measure memory per event,
//! and time each benchmark query as the median of several runs; and the scores benchmark
//! (weekly NPS by channel over generated answers). scripts/analytics-bench.sh
//! runs DuckDB and chDB on the same file and the same queries.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use nunchi_analytics::funnel::{self, Breakdown, FunnelSpec};
use nunchi_analytics::log::{EventLog, Scope};
use nunchi_analytics::paths;
use nunchi_analytics::retention::{self, Period, RetentionSpec};
use serde_json::json;

use super::events_csv;

/// The benchmark's funnels: the 4-step purchase funnel over 7 days and a 12-step one
/// over 30 days (PostHog users report 12+ step funnels timing out).
pub const FUNNEL_4: [&str; 4] = ["visit", "view_product", "add_to_cart", "purchase"];
pub const FUNNEL_12: [&str; 12] = [
    "visit",
    "view_product",
    "add_to_cart",
    "begin_checkout",
    "purchase",
    "order_shipped",
    "order_delivered",
    "review_written",
    "visit",
    "view_product",
    "add_to_cart",
    "purchase",
];

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Hands freed heap back to the OS so that resident memory shows what is still held.
#[allow(unsafe_code)]
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn median_secs<T>(runs: usize, mut query: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let out = std::hint::black_box(query());
        times.push(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last.expect("at least one run"))
}

/// `separate`: each step needs its own event (the product's funnels); otherwise
/// ClickHouse's `windowFunnel`, which the peers compute.
fn funnel_levels(
    log: &EventLog,
    steps: &[&str],
    window: u64,
    separate: bool,
) -> anyhow::Result<Vec<u64>> {
    let spec = FunnelSpec {
        separate_events: separate,
        ..FunnelSpec::new(log.names.codes(steps)?, window)
    };
    Ok(funnel::funnel(log, Scope::all(), &spec, Breakdown::None)?.reached)
}

pub fn run(path: &Path, runs: usize, json: bool) -> anyhow::Result<()> {
    trim_heap();
    let before = resident_bytes().unwrap_or(0);
    let start = Instant::now();
    let loaded = events_csv::load(path, true)?;
    let load_secs = start.elapsed().as_secs_f64();
    let with_ids = resident_bytes().unwrap_or(0).saturating_sub(before);
    let log = loaded.log;
    let events = log.len() as f64;
    drop(loaded.customers);
    trim_heap();
    let engine = resident_bytes().unwrap_or(0).saturating_sub(before);

    let (funnel4_s, funnel4) =
        median_secs(runs, || funnel_levels(&log, &FUNNEL_4, 7 * 86_400, false));
    let (funnel12_s, funnel12) =
        median_secs(runs, || funnel_levels(&log, &FUNNEL_12, 30 * 86_400, false));
    // The 12-step funnel repeats four names: the product's separate-event mode takes its
    // own walk there.
    let (funnel12_separate_s, funnel12_separate) =
        median_secs(runs, || funnel_levels(&log, &FUNNEL_12, 30 * 86_400, true));
    let (paths_s, top) = median_secs(runs, || paths::top_transitions(&log, Scope::all(), 50));
    let spec = RetentionSpec {
        period: Period::Week,
        cohort_event: None,
        return_event: None,
        periods: 13,
        utc_offset_secs: 0,
    };
    let (retention_s, cohorts) =
        median_secs(runs, || retention::retention(&log, Scope::all(), &spec));
    let cohorts = cohorts?;
    let report = json!({
        "events": log.len(),
        "customers": log.customers(),
        "load_secs": load_secs,
        "bytes_per_event_engine_rss": engine as f64 / events,
        "bytes_per_event_engine_heap": log.heap_bytes() as f64 / events,
        "bytes_per_event_with_id_map_rss": with_ids as f64 / events,
        "funnel4": {"secs": funnel4_s, "levels": funnel4?},
        "funnel12": {"secs": funnel12_s, "levels": funnel12?},
        "funnel12_separate": {"secs": funnel12_separate_s, "levels": funnel12_separate?},
        "transitions": {"secs": paths_s, "top": top.iter().take(5).map(|t| json!([log.names.name(t.from), log.names.name(t.to), t.count])).collect::<Vec<_>>()},
        "retention": {"secs": retention_s, "cohorts": cohorts.len(), "customers": cohorts.iter().map(|c| c.size).sum::<u64>(),
                      "returned_week1": cohorts.iter().map(|c| c.returned.get(1).copied().unwrap_or(0)).sum::<u64>()},
    });
    if json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// The scores benchmark: writes `count` deterministic NPS answers over 90 days to `out`
/// as CSV (`ts,channel,rating`) for the peers, then times weekly NPS by channel over the
/// same answers in memory and prints the median and every (week, channel, NPS) cell.
pub fn scores(out: &Path, count: u32, runs: usize) -> anyhow::Result<()> {
    use nunchi_analytics::scores::{self, Metric};
    let start = 1_756_684_800; // 2025-09-01 00:00 UTC
    let answers = nunchi_analytics::synth::answers(count, 42, start, 90);
    let mut w = csv::Writer::from_path(out)
        .with_context(|| format!("failed to create {}", out.display()))?;
    w.write_record(["ts", "channel", "rating"])?;
    for a in &answers {
        w.write_record([
            a.ts.to_string(),
            nunchi_core::channel::Channel::ALL[a.key as usize]
                .as_str()
                .to_string(),
            a.value.to_string(),
        ])?;
    }
    w.flush()?;
    let (secs, cells) = median_secs(runs, || {
        scores::by_period(&answers, Period::Week, 9 * 3600)
            .into_iter()
            .filter_map(|((week, key), t)| {
                t.score(Metric::Nps)
                    .map(|s| (week, key, s.value, s.responses))
            })
            .collect::<Vec<_>>()
    });
    let report = json!({
        "answers": answers.len(),
        "secs": secs,
        "cells": cells.iter().map(|(week, key, nps, n)| json!([week, nunchi_core::channel::Channel::ALL[*key as usize].as_str(), nps, n])).collect::<Vec<_>>(),
    });
    println!("{report}");
    Ok(())
}
