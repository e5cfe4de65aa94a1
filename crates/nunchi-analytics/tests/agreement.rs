//! The fast engine and the slow reference agree on random logs: funnels in every mode,
//! transitions, retention, with time ranges, ties and repeated steps; scores per period.

use std::collections::HashMap;

use nunchi_analytics::funnel::{self, Breakdown, FunnelSpec};
use nunchi_analytics::log::{Event, EventLog, Scope};
use nunchi_analytics::paths;
use nunchi_analytics::reference::{self, Row};
use nunchi_analytics::retention::{self, Period, RetentionSpec};
use nunchi_analytics::scores::{self, Answer};
use nunchi_core::channel::Channel;
use proptest::prelude::*;

const NAMES: u16 = 5;

fn rows() -> impl Strategy<Value = Vec<Row>> {
    // Few customers, names and seconds, so that chains, ties and repeats are common.
    prop::collection::vec(
        (0u32..6, 0u32..40, 0u16..NAMES).prop_map(|(customer, ts, name)| Row {
            customer,
            ts: ts * 3_000,
            name,
        }),
        0..80,
    )
}

/// Rows over about seven months, so that day, week and month cohorts all span periods.
fn spread_rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (0u32..6, 0u32..210, 0u32..86_400, 0u16..NAMES).prop_map(|(customer, day, secs, name)| {
            Row {
                customer,
                // From 2026-01-01, across month ends of every length.
                ts: 1_767_225_600 + day * 86_400 + secs,
                name,
            }
        }),
        0..80,
    )
}

fn load(rows: &[Row]) -> EventLog {
    let mut log = EventLog::new();
    for n in 0..NAMES {
        log.intern(&format!("e{n}")).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        // Half the rows compacted, half pending: queries must see both the same way.
        if i == rows.len() / 2 {
            log.compact();
        }
        log.push(
            r.customer,
            Event {
                ts: r.ts,
                name: r.name,
                touchpoint: 0,
                channel: Channel::Web,
            },
        );
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn funnel_matches_reference(
        rows in rows(),
        steps in prop::collection::vec(0u16..NAMES, 1..6),
        // Whole multiples of the time grain make the window's inclusive edge matter.
        window in prop_oneof![(0u64..20).prop_map(|k| k * 3_000), 0u64..60_000],
        strict_order: bool,
        strict_increase: bool,
        separate_events: bool,
    ) {
        let log = load(&rows);
        let spec = FunnelSpec { steps, window_secs: window, strict_order, strict_increase, separate_events };
        let fast = funnel::funnel(&log, Scope::all(), &spec, Breakdown::None).unwrap();
        prop_assert_eq!(fast.reached, reference::funnel(&rows, &spec));
    }

    #[test]
    fn scoped_funnel_matches_reference_on_filtered_rows(
        rows in rows(),
        steps in prop::collection::vec(0u16..NAMES, 1..4),
        from in 0u32..60_000,
        len in 0u32..90_000,
    ) {
        let log = load(&rows);
        let spec = FunnelSpec::new(steps, 20_000);
        let scope = Scope { from: Some(from), to: Some(from + len), customers: None };
        let fast = funnel::funnel(&log, scope, &spec, Breakdown::None).unwrap();
        let kept: Vec<Row> = rows.iter().copied().filter(|r| r.ts >= from && r.ts < from + len).collect();
        prop_assert_eq!(fast.reached, reference::funnel(&kept, &spec));
    }

    #[test]
    fn transitions_match_reference(rows in rows()) {
        let log = load(&rows);
        let fast: HashMap<(u16, u16), u64> = paths::top_transitions(&log, Scope::all(), usize::MAX)
            .into_iter()
            .map(|t| ((t.from, t.to), t.count))
            .collect();
        prop_assert_eq!(fast, reference::transitions(&rows));
    }

    #[test]
    fn retention_matches_reference(
        rows in prop_oneof![rows(), spread_rows()],
        period in prop_oneof![Just(Period::Day), Just(Period::Week), Just(Period::Month)],
        cohort_event in prop::option::of(0u16..NAMES),
        return_event in prop::option::of(0u16..NAMES),
        utc_offset_secs in -43_200i32..43_200,
    ) {
        let log = load(&rows);
        let spec = RetentionSpec {
            period,
            cohort_event,
            return_event,
            periods: 3,
            utc_offset_secs,
        };
        let fast = retention::retention(&log, Scope::all(), &spec).unwrap();
        prop_assert_eq!(fast, reference::retention(&rows, &spec));
    }

    #[test]
    fn scores_by_period_match_reference(
        answers in prop::collection::vec(
            (0u32..20_000_000, 0u16..9, 0u8..=10).prop_map(|(ts, key, value)| Answer { ts, key, value }),
            0..300,
        ),
        weekly: bool,
        offset in -12i32..14,
    ) {
        let period = if weekly { Period::Week } else { Period::Day };
        prop_assert_eq!(
            scores::by_period(&answers, period, offset * 3600),
            reference::scores_by_period(&answers, period, offset * 3600)
        );
    }
}
