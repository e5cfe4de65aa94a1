//! The engine's side of the segment benchmark: a behavioural segment ("put things in the
//! cart at least twice in the last 30 days and bought nothing in them") judged for every
//! customer of an events file by the product's rule evaluator (`nunchi_core::segment::eval`
//! over the analytics log, as the server's segments read the engine), and the rate at
//! which single customers are judged again, as the upkeep does for those new data
//! touched. scripts/analytics-bench.sh computes the same membership on chDB and DuckDB.

use std::cell::RefCell;
use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use nunchi_analytics::log::{self, EventLog, Scope};
use nunchi_core::customer::AttributeType;
use nunchi_core::segment::eval::{self, Facts};
use nunchi_core::segment::{LoyaltyMeasure, OrderMeasure, Rule, ValueMeasure};
use serde_json::json;

use super::events_csv;

/// The benchmark's segment, as a CX manager would save it.
pub const ABANDONED_CARTS: &str = r#"{"type": "all", "rules": [
    {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
    {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 30}}]}"#;

/// Customers judged one at a time for the incremental rate.
const SINGLES: u32 = 200_000;

/// One customer of the log as the rule language reads them: events only.
struct LogFacts<'a> {
    log: &'a EventLog,
    slot: u32,
    scratch: &'a RefCell<Vec<u64>>,
}

impl Facts for LogFacts<'_> {
    fn has_tag(&self, _: &str) -> bool {
        false
    }
    fn attribute(&self, _: &str) -> Option<(AttributeType, &str)> {
        None
    }
    fn consented(&self, _: &str, _: &str) -> bool {
        false
    }
    fn events(&self, name: &str, since: Option<i64>) -> (u32, Option<i64>) {
        let Some(code) = self.log.names.code(name) else {
            return (0, None);
        };
        let since = since.map_or(0, |s| s.div_euclid(1_000).max(0)) as u32;
        let mut scratch = self.scratch.borrow_mut();
        let (n, first) = log::tally(self.log.run(self.slot, &mut scratch), code, since);
        (n, first.map(|t| i64::from(t) * 1_000 + 999))
    }
    fn orders(
        &self,
        _: OrderMeasure,
        _: Option<i64>,
        _: Option<&str>,
        _: Option<&str>,
        _: i64,
    ) -> Option<f64> {
        None
    }
    fn order_times(&self, _: Option<i64>, _: Option<&str>, _: Option<&str>) -> Option<(i64, i64)> {
        None
    }
    fn rfm_cell(&self) -> Option<&str> {
        None
    }
    fn nps_group(&self) -> Option<&str> {
        None
    }
    fn value(&self, _: ValueMeasure) -> Option<f64> {
        None
    }
    fn tier(&self) -> Option<&str> {
        None
    }
    fn loyalty(&self, _: LoyaltyMeasure) -> Option<f64> {
        None
    }
    fn latest_rating(&self, _: &str, _: Option<i64>) -> Option<(f64, i64)> {
        None
    }
    fn sentiment(&self, _: Option<i64>) -> Option<(f64, i64)> {
        None
    }
    fn mentions(&self, _: &str, _: bool, _: Option<i64>) -> (u32, Option<i64>) {
        (0, None)
    }
    fn open_conversation(&self) -> bool {
        false
    }
    fn has_identity(&self, _: &str) -> bool {
        false
    }
    fn in_segment(&self, _: i64) -> bool {
        false
    }
    fn event_span(&self, _: Option<&str>) -> Option<(i64, i64)> {
        None
    }
}

/// Whether a rule reads nothing but events (all this benchmark's facts hold).
fn events_only(rule: &Rule) -> bool {
    match rule {
        Rule::All { rules } | Rule::Any { rules } => rules.iter().all(events_only),
        Rule::Not { rule } => events_only(rule),
        Rule::Event { .. } => true,
        _ => false,
    }
}

fn median_secs<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = Some(std::hint::black_box(f()));
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last.expect("one run"))
}

pub fn run(path: &Path, runs: usize) -> anyhow::Result<()> {
    let rule = nunchi_app::segments::parse_rule(ABANDONED_CARTS).map_err(anyhow::Error::msg)?;
    if !events_only(&rule) {
        bail!("the segment benchmark's rule must read events only");
    }
    let loaded = events_csv::load(path, true)?;
    let log = &loaded.log;
    // "Now" is the file's last moment, so every engine judges the same window.
    let last = log.scan(
        Scope::all(),
        || 0u32,
        |m, _, run| *m = (*m).max(run.last().map_or(0, |&e| log::ts(e))),
        u32::max,
    );
    let now = i64::from(last) * 1_000;
    let scratch = RefCell::new(Vec::new());
    let judge = |slot: u32| {
        let facts = LogFacts {
            log,
            slot,
            scratch: &scratch,
        };
        eval::matches(&rule, &facts, now)
    };
    let (secs, members) = median_secs(runs, || {
        (0..log.customers())
            .filter(|&slot| judge(slot))
            .collect::<Vec<u32>>()
    });
    // The outside ids, summed, so the peers' membership can be checked whole.
    let id_sum: u64 = members
        .iter()
        .map(|&slot| loaded.customers.key(slot).parse::<u64>().unwrap_or(0))
        .sum();
    // Single customers in a scattered order, each judged with its next moment of change,
    // as a round of the upkeep does for touched customers.
    let n = log.customers().max(1);
    let start = Instant::now();
    let mut matched = 0u32;
    for k in 0..SINGLES {
        let slot = ((u64::from(k) * 2_654_435_761) % u64::from(n)) as u32;
        let facts = LogFacts {
            log,
            slot,
            scratch: &scratch,
        };
        matched += u32::from(eval::matches(&rule, &facts, now));
        std::hint::black_box(eval::next_change(&rule, &facts, now));
    }
    let singles_secs = start.elapsed().as_secs_f64();
    std::hint::black_box(matched);
    println!(
        "{}",
        json!({
            "customers": log.customers(),
            "events": log.len(),
            "now": last,
            "since": last - 30 * 86_400,
            "secs": secs,
            "members": members.len(),
            "id_sum": id_sum,
            "singles_per_sec": f64::from(SINGLES) / singles_secs,
        })
    );
    Ok(())
}
