//! Slow, obviously-correct versions of the engine's queries, written straight from the
//! definitions over a plain list of rows. Tests check the fast engine against them.

use std::collections::{BTreeMap, HashMap};

use crate::funnel::FunnelSpec;
use crate::retention::{Cohort, RetentionSpec};

/// One event as a row of a table, in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub customer: u32,
    pub ts: u32,
    pub name: u16,
}

/// Each customer's events, stably sorted by time (ties keep arrival order).
fn timelines(rows: &[Row]) -> BTreeMap<u32, Vec<Row>> {
    let mut by_customer: BTreeMap<u32, Vec<Row>> = BTreeMap::new();
    for row in rows {
        by_customer.entry(row.customer).or_default().push(*row);
    }
    for rows in by_customer.values_mut() {
        rows.sort_by_key(|r| r.ts);
    }
    by_customer
}

/// ClickHouse's `windowFunnel` transcribed: build the (time, condition) list with 0 for
/// rows matching no condition (strict order only), sort it by time then condition, and
/// walk it.
fn window_funnel(rows: &[Row], spec: &FunnelSpec) -> usize {
    let n = spec.steps.len();
    let mut list: Vec<(u32, i64)> = Vec::new();
    for row in rows {
        let mut any = false;
        for i in (1..=n).rev() {
            if spec.steps[i - 1] == row.name {
                list.push((row.ts, i as i64));
                any = true;
            }
        }
        if spec.strict_order && !any {
            list.push((row.ts, 0));
        }
    }
    list.sort();
    let mut times: Vec<Option<(u64, u64)>> = vec![None; n];
    let mut first_event = false;
    for &(ts, cond) in &list {
        let ts = ts as u64;
        let idx = cond - 1;
        if spec.strict_order && idx == -1 {
            if first_event {
                break;
            }
            continue;
        } else if idx == 0 {
            times[0] = Some((ts, ts));
            first_event = true;
        } else if spec.strict_order && first_event && times[idx as usize - 1].is_none() {
            return times.iter().position(Option::is_none).unwrap_or(n);
        } else if let Some((first, prev)) = times[idx as usize - 1] {
            let mut matched = ts <= first + spec.window_secs;
            if spec.strict_increase {
                matched = matched && prev < ts;
            }
            if matched {
                times[idx as usize] = Some((first, ts));
                if idx as usize + 1 == n {
                    return n;
                }
            }
        }
    }
    (1..=n).rev().find(|&k| times[k - 1].is_some()).unwrap_or(0)
}

/// A timeline in the order `separate_events` takes it: by time, and within one second by
/// the first step each event matches (events matching none first).
fn separate_order(rows: &[Row], spec: &FunnelSpec) -> Vec<Row> {
    let first_step = |r: &Row| {
        spec.steps
            .iter()
            .position(|&s| s == r.name)
            .map_or(0, |i| i + 1)
    };
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| (r.ts, first_step(r)));
    rows
}

/// `separate_events` from its definition, when neither strictness is set: the longest
/// k such that some k distinct events, in timeline order, match steps 1..k and all fall
/// within the window of the first. Found by trying every start and taking, for each next
/// step, the earliest event after the previous one.
fn separate_definition(rows: &[Row], spec: &FunnelSpec) -> usize {
    let rows = separate_order(rows, spec);
    let mut best = 0;
    for (i, start) in rows.iter().enumerate() {
        if start.name != spec.steps[0] {
            continue;
        }
        let (mut level, mut pos) = (1, i);
        for &step in &spec.steps[1..] {
            let next = rows[pos + 1..]
                .iter()
                .position(|r| r.name == step && r.ts as u64 <= start.ts as u64 + spec.window_secs);
            match next {
                Some(j) => {
                    pos += 1 + j;
                    level += 1;
                }
                None => break,
            }
        }
        best = best.max(level);
    }
    best
}

/// `separate_events` with strict order or strictly increasing times: the `windowFunnel`
/// walk over the timeline in `separate_order`, each event's steps applied last first.
fn separate_walk(rows: &[Row], spec: &FunnelSpec) -> usize {
    let n = spec.steps.len();
    let mut times: Vec<Option<(u64, u64)>> = vec![None; n];
    let mut started = false;
    for row in separate_order(rows, spec) {
        let ts = row.ts as u64;
        let matched: Vec<usize> = (0..n)
            .rev()
            .filter(|&i| spec.steps[i] == row.name)
            .collect();
        if matched.is_empty() {
            if spec.strict_order && started {
                break;
            }
            continue;
        }
        for idx in matched {
            if idx == 0 {
                times[0] = Some((ts, ts));
                started = true;
            } else if spec.strict_order && started && times[idx - 1].is_none() {
                return times.iter().position(Option::is_none).unwrap_or(n);
            } else if let Some((first, prev)) = times[idx - 1] {
                let ok = ts <= first + spec.window_secs && (!spec.strict_increase || prev < ts);
                if ok {
                    times[idx] = Some((first, ts));
                    if idx + 1 == n {
                        return n;
                    }
                }
            }
        }
    }
    (1..=n).rev().find(|&k| times[k - 1].is_some()).unwrap_or(0)
}

/// Customers reaching at least each step.
pub fn funnel(rows: &[Row], spec: &FunnelSpec) -> Vec<u64> {
    let mut reached = vec![0; spec.steps.len()];
    for rows in timelines(rows).values() {
        let level = match (
            spec.separate_events,
            spec.strict_order || spec.strict_increase,
        ) {
            (false, _) => window_funnel(rows, spec),
            (true, false) => separate_definition(rows, spec),
            (true, true) => separate_walk(rows, spec),
        };
        for r in reached.iter_mut().take(level) {
            *r += 1;
        }
    }
    reached
}

/// Counts of consecutive (from, to) pairs per customer timeline.
pub fn transitions(rows: &[Row]) -> HashMap<(u16, u16), u64> {
    let mut counts = HashMap::new();
    for rows in timelines(rows).values() {
        for pair in rows.windows(2) {
            *counts.entry((pair[0].name, pair[1].name)).or_default() += 1;
        }
    }
    counts
}

/// Cohorts by the definition: cohort period of the first qualifying event; a member
/// counts at offset k if any return event at or after that first event falls k periods later.
pub fn retention(rows: &[Row], spec: &RetentionSpec) -> Vec<Cohort> {
    let mut cohorts: BTreeMap<i64, Cohort> = BTreeMap::new();
    for rows in timelines(rows).values() {
        let first = rows
            .iter()
            .find(|r| spec.cohort_event.is_none_or(|c| c == r.name));
        let Some(first) = first else { continue };
        let index = spec.period.index(first.ts, spec.utc_offset_secs);
        let cohort = cohorts.entry(index).or_insert_with(|| Cohort {
            index,
            size: 0,
            returned: vec![0; spec.periods],
        });
        cohort.size += 1;
        for k in 0..spec.periods {
            let came_back = rows.iter().any(|r| {
                r.ts >= first.ts
                    && spec.return_event.is_none_or(|e| e == r.name)
                    && spec.period.index(r.ts, spec.utc_offset_secs) - index == k as i64
            });
            if came_back {
                cohort.returned[k] += 1;
            }
        }
    }
    cohorts.into_values().collect()
}

/// Scores per (period, key), the obvious way: a map entry per group, one answer at a time.
pub fn scores_by_period(
    answers: &[crate::scores::Answer],
    period: crate::retention::Period,
    utc_offset_secs: i32,
) -> BTreeMap<(i64, u16), crate::scores::Tally> {
    let mut out: BTreeMap<(i64, u16), crate::scores::Tally> = BTreeMap::new();
    for a in answers {
        out.entry((period.index(a.ts, utc_offset_secs), a.key))
            .or_default()
            .add(a.value);
    }
    out
}
