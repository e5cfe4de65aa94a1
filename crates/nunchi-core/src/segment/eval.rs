//! Evaluating a segment rule for one customer. What the customer did and holds comes
//! through [`Facts`], which the application fills from the store, the analytics engine
//! and the customer models; the time comes in as an argument, so a time-relative rule
//! ("no purchase in 90 days") gives its answer for any moment.

use crate::customer::AttributeType;

use super::{Cmp, FirstLast, LoyaltyMeasure, OrderMeasure, Rule, ValueMeasure};

const DAY_MS: i64 = 86_400_000;

/// One customer as the rules read them.
pub trait Facts {
    fn has_tag(&self, tag: &str) -> bool;
    /// A custom attribute's type and value, when set.
    fn attribute(&self, key: &str) -> Option<(AttributeType, &str)>;
    fn consented(&self, channel: &str, purpose: &str) -> bool;
    /// How many times the customer did `name` at or after `since` (Unix ms; all time
    /// when `None`), and when the earliest of those was (Unix ms).
    fn events(&self, name: &str, since: Option<i64>) -> (u32, Option<i64>);
    /// A measure of their orders at or after `since`, of one product or category when
    /// given. `DaysSinceLast` is `None` when there is no such order.
    fn orders(
        &self,
        measure: OrderMeasure,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
        now: i64,
    ) -> Option<f64>;
    /// When the first and the last of their orders at or after `since` (of one product or
    /// category when given) were placed (Unix ms); `None` when there is none.
    fn order_times(
        &self,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
    ) -> Option<(i64, i64)>;
    fn rfm_cell(&self) -> Option<&str>;
    /// The group of their latest NPS answer.
    fn nps_group(&self) -> Option<&str>;
    fn value(&self, measure: ValueMeasure) -> Option<f64>;
    fn tier(&self) -> Option<&str>;
    fn loyalty(&self, measure: LoyaltyMeasure) -> Option<f64>;
    /// Their latest answer on `metric` at or after `since`: (rating, when).
    fn latest_rating(&self, metric: &str, since: Option<i64>) -> Option<(f64, i64)>;
    /// The mean sentiment of their feedback at or after `since`, and when the earliest
    /// of those was given.
    fn sentiment(&self, since: Option<i64>) -> Option<(f64, i64)>;
    /// How many of their feedback items at or after `since` mention `topic` (only negative
    /// ones with `negative`), and when the earliest of those was given.
    fn mentions(&self, topic: &str, negative: bool, since: Option<i64>) -> (u32, Option<i64>);
    fn open_conversation(&self) -> bool;
    fn has_identity(&self, kind: &str) -> bool;
    fn in_segment(&self, segment: i64) -> bool;
    /// When their first and last events (of `name` when given) happened.
    fn event_span(&self, name: Option<&str>) -> Option<(i64, i64)>;
}

/// Whole days from `at` to `now`.
fn days_since(at: i64, now: i64) -> f64 {
    ((now - at).max(0) / DAY_MS) as f64
}

fn since(now: i64, within_days: Option<u32>) -> Option<i64> {
    within_days.map(|d| now - i64::from(d) * DAY_MS)
}

fn compare(left: Option<f64>, cmp: Cmp, right: f64) -> bool {
    left.is_some_and(|l| cmp.holds(l, right))
}

/// Whether the customer whose facts these are matches `rule` at `now` (Unix ms).
pub fn matches(rule: &Rule, facts: &impl Facts, now: i64) -> bool {
    match rule {
        Rule::All { rules } => rules.iter().all(|r| matches(r, facts, now)),
        Rule::Any { rules } => rules.iter().any(|r| matches(r, facts, now)),
        Rule::Not { rule } => !matches(rule, facts, now),
        Rule::Tag { tag } => facts.has_tag(tag),
        Rule::Attribute { key, cmp, value } => match facts.attribute(key) {
            None => false,
            Some((AttributeType::Number, held)) => compare(
                held.trim().parse().ok(),
                *cmp,
                value.trim().parse().unwrap_or(f64::NAN),
            ),
            // ISO dates order as text.
            Some((AttributeType::Date, held)) => match held.trim().cmp(value.trim()) {
                std::cmp::Ordering::Less => matches!(cmp, Cmp::Lt | Cmp::Lte | Cmp::Ne),
                std::cmp::Ordering::Equal => matches!(cmp, Cmp::Eq | Cmp::Gte | Cmp::Lte),
                std::cmp::Ordering::Greater => matches!(cmp, Cmp::Gt | Cmp::Gte | Cmp::Ne),
            },
            Some((AttributeType::Bool | AttributeType::Text, held)) => {
                let same = held.trim().eq_ignore_ascii_case(value.trim());
                match cmp {
                    Cmp::Eq => same,
                    Cmp::Ne => !same,
                    _ => false,
                }
            }
        },
        Rule::Consent { channel, purpose } => facts.consented(channel, purpose),
        Rule::Event {
            name,
            at_least,
            within_days,
        } => facts.events(name, since(now, *within_days)).0 >= *at_least,
        Rule::Orders {
            measure,
            cmp,
            value,
            within_days,
            product,
            category,
        } => compare(
            facts.orders(
                *measure,
                since(now, *within_days),
                product.as_deref(),
                category.as_deref(),
                now,
            ),
            *cmp,
            *value,
        ),
        Rule::Rfm { cells } => facts
            .rfm_cell()
            .is_some_and(|c| cells.iter().any(|k| k == c)),
        Rule::Nps { groups } => facts
            .nps_group()
            .is_some_and(|g| groups.iter().any(|k| k == g)),
        Rule::Value {
            measure,
            cmp,
            value,
        } => compare(facts.value(*measure), *cmp, *value),
        Rule::Tier { tier } => facts.tier() == Some(tier.as_str()),
        Rule::Loyalty {
            measure,
            cmp,
            value,
        } => compare(facts.loyalty(*measure), *cmp, *value),
        Rule::Rating {
            metric,
            cmp,
            value,
            within_days,
        } => compare(
            facts
                .latest_rating(metric, since(now, *within_days))
                .map(|r| r.0),
            *cmp,
            *value,
        ),
        Rule::Sentiment {
            cmp,
            value,
            within_days,
        } => compare(
            facts.sentiment(since(now, *within_days)).map(|s| s.0),
            *cmp,
            *value,
        ),
        Rule::Topic {
            topic,
            negative,
            within_days,
        } => facts.mentions(topic, *negative, since(now, *within_days)).0 > 0,
        Rule::OpenConversation {} => facts.open_conversation(),
        Rule::Identity { kind } => facts.has_identity(kind),
        Rule::Segment { segment } => facts.in_segment(*segment),
        Rule::EventDays {
            which,
            name,
            cmp,
            value,
        } => compare(
            facts.event_span(name.as_deref()).map(|(first, last)| {
                days_since(
                    if *which == FirstLast::First {
                        first
                    } else {
                        last
                    },
                    now,
                )
            }),
            *cmp,
            *value,
        ),
    }
}

/// The earliest moment after `now` at which the rule's answer for these facts could change
/// with no new data: an event or order leaving a window, another day since the last
/// order. `None` when only new data (or refitted models) can change it. Every
/// time-relative condition counts, whichever branch decided the answer, so the moment may
/// come early but never late.
pub fn next_change(rule: &Rule, facts: &impl Facts, now: i64) -> Option<i64> {
    match rule {
        Rule::All { rules } | Rule::Any { rules } => rules
            .iter()
            .filter_map(|r| next_change(r, facts, now))
            .min(),
        Rule::Not { rule } => next_change(rule, facts, now),
        Rule::Event {
            name,
            within_days: Some(days),
            ..
        } => {
            let window = i64::from(*days) * DAY_MS;
            // The earliest counted event stops counting one instant after the window's start
            // passes it.
            let (_, first) = facts.events(name, Some(now - window));
            first.map(|f| f + window + 1)
        }
        Rule::Orders {
            measure,
            within_days,
            product,
            category,
            ..
        } => {
            let since = since(now, *within_days);
            let (first, last) =
                facts.order_times(since, product.as_deref(), category.as_deref())?;
            let leaves = within_days.map(|d| first + i64::from(d) * DAY_MS + 1);
            let next_day = (*measure == OrderMeasure::DaysSinceLast)
                .then(|| last + ((now - last).max(0) / DAY_MS + 1) * DAY_MS);
            leaves.into_iter().chain(next_day).min()
        }
        Rule::Rating {
            metric,
            within_days: Some(days),
            ..
        } => {
            let window = i64::from(*days) * DAY_MS;
            // The latest answer leaving the window leaves none in it.
            let (_, at) = facts.latest_rating(metric, Some(now - window))?;
            Some(at + window + 1)
        }
        Rule::Sentiment {
            within_days: Some(days),
            ..
        } => {
            let window = i64::from(*days) * DAY_MS;
            let (_, first) = facts.sentiment(Some(now - window))?;
            Some(first + window + 1)
        }
        Rule::Topic {
            topic,
            negative,
            within_days: Some(days),
        } => {
            let window = i64::from(*days) * DAY_MS;
            let (_, first) = facts.mentions(topic, *negative, Some(now - window));
            first.map(|f| f + window + 1)
        }
        Rule::EventDays { which, name, .. } => {
            let (first, last) = facts.event_span(name.as_deref())?;
            let at = if *which == FirstLast::First {
                first
            } else {
                last
            };
            Some(at + ((now - at).max(0) / DAY_MS + 1) * DAY_MS)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A customer: events as (name, at), orders as (at, amount, product).
    #[derive(Default)]
    struct Customer {
        tags: Vec<&'static str>,
        attributes: Vec<(&'static str, AttributeType, &'static str)>,
        events: Vec<(&'static str, i64)>,
        orders: Vec<(i64, f64, &'static str)>,
        cell: Option<&'static str>,
        nps: Option<&'static str>,
        alive: Option<f64>,
        tier: Option<&'static str>,
        points: Option<f64>,
        /// (at, metric, rating, sentiment, topic)
        feedback: Vec<(i64, &'static str, f64, f64, &'static str)>,
        open: bool,
        identities: Vec<&'static str>,
        segments: Vec<i64>,
    }

    impl Facts for Customer {
        fn has_tag(&self, tag: &str) -> bool {
            self.tags.contains(&tag)
        }
        fn attribute(&self, key: &str) -> Option<(AttributeType, &str)> {
            self.attributes
                .iter()
                .find(|a| a.0 == key)
                .map(|a| (a.1, a.2))
        }
        fn consented(&self, channel: &str, purpose: &str) -> bool {
            channel == "email" && purpose == "marketing"
        }
        fn events(&self, name: &str, since: Option<i64>) -> (u32, Option<i64>) {
            let kept = || {
                self.events
                    .iter()
                    .filter(move |e| e.0 == name && since.is_none_or(|s| e.1 >= s))
            };
            (kept().count() as u32, kept().map(|e| e.1).min())
        }
        fn order_times(
            &self,
            since: Option<i64>,
            product: Option<&str>,
            _category: Option<&str>,
        ) -> Option<(i64, i64)> {
            let kept = || {
                self.orders
                    .iter()
                    .filter(move |o| {
                        since.is_none_or(|s| o.0 >= s) && product.is_none_or(|p| o.2 == p)
                    })
                    .map(|o| o.0)
            };
            Some((kept().min()?, kept().max()?))
        }
        fn orders(
            &self,
            measure: OrderMeasure,
            since: Option<i64>,
            product: Option<&str>,
            _category: Option<&str>,
            now: i64,
        ) -> Option<f64> {
            let kept: Vec<_> = self
                .orders
                .iter()
                .filter(|o| since.is_none_or(|s| o.0 >= s) && product.is_none_or(|p| o.2 == p))
                .collect();
            match measure {
                OrderMeasure::Count => Some(kept.len() as f64),
                OrderMeasure::Spend => Some(kept.iter().map(|o| o.1).sum()),
                OrderMeasure::DaysSinceLast => kept
                    .iter()
                    .map(|o| o.0)
                    .max()
                    .map(|last| ((now - last) / DAY_MS) as f64),
            }
        }
        fn rfm_cell(&self) -> Option<&str> {
            self.cell
        }
        fn nps_group(&self) -> Option<&str> {
            self.nps
        }
        fn value(&self, measure: ValueMeasure) -> Option<f64> {
            (measure == ValueMeasure::ProbabilityAlive).then_some(self.alive?)
        }
        fn tier(&self) -> Option<&str> {
            self.tier
        }
        fn loyalty(&self, _: LoyaltyMeasure) -> Option<f64> {
            self.points
        }
        fn latest_rating(&self, metric: &str, since: Option<i64>) -> Option<(f64, i64)> {
            self.feedback
                .iter()
                .filter(|f| f.1 == metric && since.is_none_or(|s| f.0 >= s))
                .max_by_key(|f| f.0)
                .map(|f| (f.2, f.0))
        }
        fn sentiment(&self, since: Option<i64>) -> Option<(f64, i64)> {
            let kept: Vec<_> = self
                .feedback
                .iter()
                .filter(|f| since.is_none_or(|s| f.0 >= s))
                .collect();
            let first = kept.iter().map(|f| f.0).min()?;
            Some((
                kept.iter().map(|f| f.3).sum::<f64>() / kept.len() as f64,
                first,
            ))
        }
        fn mentions(&self, topic: &str, negative: bool, since: Option<i64>) -> (u32, Option<i64>) {
            let kept: Vec<_> = self
                .feedback
                .iter()
                .filter(|f| {
                    f.4 == topic && (!negative || f.3 < 0.0) && since.is_none_or(|s| f.0 >= s)
                })
                .collect();
            (kept.len() as u32, kept.iter().map(|f| f.0).min())
        }
        fn open_conversation(&self) -> bool {
            self.open
        }
        fn has_identity(&self, kind: &str) -> bool {
            self.identities.contains(&kind)
        }
        fn in_segment(&self, segment: i64) -> bool {
            self.segments.contains(&segment)
        }
        fn event_span(&self, name: Option<&str>) -> Option<(i64, i64)> {
            let times = || {
                self.events
                    .iter()
                    .filter(move |e| name.is_none_or(|n| e.0 == n))
                    .map(|e| e.1)
            };
            Some((times().min()?, times().max()?))
        }
    }

    const NOW: i64 = 1_800_000_000_000;

    fn rule(json: &str) -> Rule {
        super::super::parse(json).unwrap()
    }

    #[test]
    fn carts_without_a_purchase_in_a_window_move_with_the_clock() {
        let abandoned = rule(
            r#"{"type": "all", "rules": [
              {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
              {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 30}}
            ]}"#,
        );
        let c = Customer {
            events: vec![
                ("add_to_cart", NOW - 3 * DAY_MS),
                ("add_to_cart", NOW - 20 * DAY_MS),
                ("purchase", NOW - 40 * DAY_MS),
            ],
            ..Customer::default()
        };
        assert!(matches(&abandoned, &c, NOW));
        // Eleven days later the older cart leaves the window: one cart is not enough.
        assert!(!matches(&abandoned, &c, NOW + 11 * DAY_MS));
        // The answer is good until the older cart leaves, and changes right after.
        let next = next_change(&abandoned, &c, NOW).unwrap();
        assert_eq!(next, NOW + 10 * DAY_MS + 1);
        assert!(matches(&abandoned, &c, next - 1));
        assert!(!matches(&abandoned, &c, next));
        // A purchase inside the window keeps a customer out.
        let mut bought = c;
        bought.events.push(("purchase", NOW - 25 * DAY_MS));
        assert!(!matches(&abandoned, &bought, NOW));
    }

    #[test]
    fn orders_models_loyalty_and_profile() {
        let c = Customer {
            tags: vec!["vip"],
            attributes: vec![
                ("age", AttributeType::Number, "34"),
                ("skin_type", AttributeType::Text, "Dry"),
                ("wedding", AttributeType::Date, "2020-05-09"),
            ],
            orders: vec![
                (NOW - 100 * DAY_MS, 50_000.0, "크림"),
                (NOW - 10 * DAY_MS, 20_000.0, "세럼"),
            ],
            cell: Some("loyal"),
            nps: Some("promoter"),
            alive: Some(0.8),
            tier: Some("tree"),
            points: Some(1_200.0),
            ..Customer::default()
        };
        let yes = [
            r#"{"type": "tag", "tag": "vip"}"#,
            r#"{"type": "attribute", "key": "age", "cmp": "gte", "value": "30"}"#,
            r#"{"type": "attribute", "key": "skin_type", "cmp": "eq", "value": "dry"}"#,
            r#"{"type": "attribute", "key": "wedding", "cmp": "lt", "value": "2021-01-01"}"#,
            r#"{"type": "consent", "channel": "email", "purpose": "marketing"}"#,
            r#"{"type": "orders", "measure": "count", "cmp": "eq", "value": 2}"#,
            r#"{"type": "orders", "measure": "spend", "cmp": "eq", "value": 20000, "within_days": 30}"#,
            r#"{"type": "orders", "measure": "days_since_last", "cmp": "gt", "value": 90, "product": "크림"}"#,
            r#"{"type": "rfm", "cells": ["champions", "loyal"]}"#,
            r#"{"type": "nps", "groups": ["promoter"]}"#,
            r#"{"type": "value", "measure": "probability_alive", "cmp": "gt", "value": 0.5}"#,
            r#"{"type": "tier", "tier": "tree"}"#,
            r#"{"type": "loyalty", "measure": "points", "cmp": "gte", "value": 1000}"#,
            r#"{"type": "all", "rules": []}"#,
        ];
        for json in yes {
            assert!(matches(&rule(json), &c, NOW), "{json}");
            let negated = Rule::Not {
                rule: Box::new(rule(json)),
            };
            assert!(!matches(&negated, &c, NOW), "not {json}");
        }
        let no = [
            r#"{"type": "tag", "tag": "new"}"#,
            r#"{"type": "nps", "groups": ["detractor", "passive"]}"#,
            r#"{"type": "attribute", "key": "skin_type", "cmp": "gt", "value": "a"}"#,
            r#"{"type": "attribute", "key": "height", "cmp": "gt", "value": "1"}"#,
            r#"{"type": "orders", "measure": "days_since_last", "cmp": "lt", "value": 5, "product": "립밤"}"#,
            r#"{"type": "value", "measure": "clv", "cmp": "gt", "value": 0}"#,
            r#"{"type": "any", "rules": []}"#,
        ];
        for json in no {
            assert!(!matches(&rule(json), &c, NOW), "{json}");
        }
    }

    #[test]
    fn the_next_change_is_never_late() {
        let c = Customer {
            events: vec![
                ("visit", NOW - 2 * DAY_MS - 5),
                ("visit", NOW - 6 * DAY_MS),
                ("visit", NOW - 9 * DAY_MS + 77),
            ],
            orders: vec![
                (NOW - 3 * DAY_MS + 1_234, 10.0, "크림"),
                (NOW - 12 * DAY_MS, 30.0, "세럼"),
            ],
            ..Customer::default()
        };
        let rules = [
            r#"{"type": "event", "name": "visit", "at_least": 2, "within_days": 7}"#,
            r#"{"type": "orders", "measure": "days_since_last", "cmp": "gte", "value": 5}"#,
            r#"{"type": "orders", "measure": "spend", "cmp": "gt", "value": 15, "within_days": 14}"#,
            r#"{"type": "not", "rule": {"type": "any", "rules": [
                {"type": "event", "name": "visit", "within_days": 3},
                {"type": "orders", "measure": "count", "cmp": "gte", "value": 1, "within_days": 4}]}}"#,
        ];
        let step = 3_600_000;
        for json in rules {
            let r = rule(json);
            let mut t = NOW;
            let mut changes = 0;
            while t < NOW + 20 * DAY_MS {
                let next = next_change(&r, &c, t);
                // Between now and the next change the answer holds.
                let until = next.unwrap_or(i64::MAX).min(t + step);
                assert_eq!(
                    matches(&r, &c, t),
                    matches(&r, &c, until - 1),
                    "{json} at {t}"
                );
                if let Some(n) = next {
                    assert!(n > t, "{json}: {n} is not after {t}");
                }
                changes += usize::from(matches(&r, &c, t) != matches(&r, &c, t + step));
                t += step;
            }
            assert!(changes > 0, "{json} never changed");
        }
    }

    #[test]
    fn feedback_conversations_identities_segments_and_event_days() {
        let c = Customer {
            events: vec![("visit", NOW - 40 * DAY_MS), ("purchase", NOW - 3 * DAY_MS)],
            feedback: vec![
                (NOW - 50 * DAY_MS, "nps", 10.0, 0.8, "배송"),
                (NOW - 5 * DAY_MS, "nps", 4.0, -0.6, "배송"),
                (NOW - 2 * DAY_MS, "csat", 2.0, -0.2, "환불"),
            ],
            open: true,
            identities: vec!["email", "kakao"],
            segments: vec![7],
            ..Customer::default()
        };
        let yes = [
            r#"{"type": "rating", "metric": "nps", "cmp": "lte", "value": 6}"#,
            r#"{"type": "rating", "metric": "csat", "cmp": "lt", "value": 3, "within_days": 7}"#,
            r#"{"type": "sentiment", "cmp": "lt", "value": 0, "within_days": 30}"#,
            r#"{"type": "sentiment", "cmp": "gt", "value": -0.1}"#,
            r#"{"type": "topic", "topic": "배송", "negative": true, "within_days": 30}"#,
            r#"{"type": "open_conversation"}"#,
            r#"{"type": "identity", "kind": "kakao"}"#,
            r#"{"type": "segment", "segment": 7}"#,
            r#"{"type": "event_days", "which": "first", "cmp": "gte", "value": 40}"#,
            r#"{"type": "event_days", "which": "last", "name": "purchase", "cmp": "eq", "value": 3}"#,
        ];
        for json in yes {
            assert!(matches(&rule(json), &c, NOW), "{json}");
        }
        let no = [
            r#"{"type": "rating", "metric": "ces", "cmp": "gte", "value": 0}"#,
            r#"{"type": "rating", "metric": "nps", "cmp": "gte", "value": 9, "within_days": 30}"#,
            r#"{"type": "topic", "topic": "환불", "within_days": 1}"#,
            r#"{"type": "topic", "topic": "배송", "negative": true, "within_days": 4}"#,
            r#"{"type": "identity", "kind": "phone"}"#,
            r#"{"type": "segment", "segment": 8}"#,
            r#"{"type": "event_days", "which": "last", "name": "refund", "cmp": "gte", "value": 0}"#,
        ];
        for json in no {
            assert!(!matches(&rule(json), &c, NOW), "{json}");
        }
        // Windows on feedback move with the clock: in three days the low NPS is 8 days old.
        let recent = rule(
            r#"{"type": "rating", "metric": "nps", "cmp": "lt", "value": 7, "within_days": 7}"#,
        );
        assert!(matches(&recent, &c, NOW));
        let next = next_change(&recent, &c, NOW).unwrap();
        assert_eq!(next, NOW + 2 * DAY_MS + 1);
        assert!(!matches(&recent, &c, next));
        let days = rule(r#"{"type": "event_days", "which": "last", "cmp": "gt", "value": 3}"#);
        let next = next_change(&days, &c, NOW).unwrap();
        assert!(!matches(&days, &c, next - 1) && matches(&days, &c, next));
    }
}
