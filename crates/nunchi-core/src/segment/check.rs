//! Checking a segment rule before it is saved: every condition must name something nunchi
//! holds (an attribute, a tier, an RFM cell, a consent channel and purpose, an event that
//! has been seen), compare it with a value of the right type, and stay within what can be
//! evaluated cheaply (windows, nesting, number of conditions). The error names the part
//! of the rule, as a path such as `rules[1].rule.within_days`.

use crate::consent::{ContactChannel, Purpose};
use crate::customer::AttributeType;

use super::{Cmp, MAX_CONDITIONS, MAX_DEPTH, MAX_WINDOW_DAYS, Rule, ValueMeasure};

/// What a rule may refer to.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Declared custom attributes and their types.
    pub attributes: Vec<(String, AttributeType)>,
    /// Event names seen so far.
    pub events: Vec<String>,
    /// Loyalty tier keys.
    pub tiers: Vec<String>,
    /// RFM cell keys.
    pub rfm_cells: Vec<String>,
    /// Segments a rule may name: those that exist and name no segment themselves, so
    /// membership never goes round in a circle.
    pub segments: Vec<i64>,
}

/// Which part of the rule is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    pub path: String,
    pub message: String,
}

fn fail<T>(path: &str, message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError {
        path: path.to_string(),
        message: message.into(),
    })
}

/// Checks `rule` against `schema`.
pub fn check(rule: &Rule, schema: &Schema) -> Result<(), RuleError> {
    let mut conditions = 0;
    walk(rule, schema, "rule", 0, &mut conditions)?;
    if conditions > MAX_CONDITIONS {
        return fail(
            "rule",
            format!(
                "{conditions} conditions is more than the {MAX_CONDITIONS} a segment may evaluate; split it into segments"
            ),
        );
    }
    Ok(())
}

fn window(path: &str, days: Option<u32>) -> Result<(), RuleError> {
    match days {
        Some(0) => fail(&format!("{path}.within_days"), "a window is at least 1 day"),
        Some(d) if d > MAX_WINDOW_DAYS => fail(
            &format!("{path}.within_days"),
            format!("{d} days is longer than the {MAX_WINDOW_DAYS} a rule may look back"),
        ),
        _ => Ok(()),
    }
}

fn finite(path: &str, value: f64) -> Result<(), RuleError> {
    if value.is_finite() {
        Ok(())
    } else {
        fail(&format!("{path}.value"), "the value must be a number")
    }
}

fn named<'a>(path: &str, what: &str, name: &str, known: &'a [String]) -> Result<(), RuleError> {
    if known.iter().any(|k| k == name) {
        return Ok(());
    }
    let mut some: Vec<&'a str> = known.iter().map(String::as_str).take(12).collect();
    some.sort_unstable();
    let hint = if some.is_empty() {
        format!("no {what} exists yet")
    } else {
        format!("known: {}", some.join(", "))
    };
    fail(path, format!("unknown {what} {name:?} ({hint})"))
}

fn walk(
    rule: &Rule,
    schema: &Schema,
    path: &str,
    depth: usize,
    conditions: &mut usize,
) -> Result<(), RuleError> {
    if depth > MAX_DEPTH {
        return fail(
            path,
            format!(
                "nested more than {MAX_DEPTH} levels deep; flatten it or split it into segments"
            ),
        );
    }
    *conditions += 1;
    match rule {
        Rule::All { rules } | Rule::Any { rules } => {
            for (i, r) in rules.iter().enumerate() {
                walk(
                    r,
                    schema,
                    &format!("{path}.rules[{i}]"),
                    depth + 1,
                    conditions,
                )?;
            }
            Ok(())
        }
        Rule::Not { rule } => walk(rule, schema, &format!("{path}.rule"), depth + 1, conditions),
        Rule::Tag { tag } => {
            if tag.trim().is_empty() {
                return fail(&format!("{path}.tag"), "the tag is empty");
            }
            Ok(())
        }
        Rule::Attribute { key, cmp, value } => {
            let Some((_, ty)) = schema.attributes.iter().find(|(k, _)| k == key) else {
                let known: Vec<String> = schema.attributes.iter().map(|(k, _)| k.clone()).collect();
                return named(&format!("{path}.key"), "attribute", key, &known);
            };
            let value_path = format!("{path}.value");
            match ty {
                AttributeType::Number
                    if value.trim().parse::<f64>().map_or(true, |v| !v.is_finite()) =>
                {
                    fail(
                        &value_path,
                        format!("{key} holds numbers; {value:?} is not one"),
                    )
                }
                AttributeType::Date if crate::life_event::parse_date(value).is_err() => fail(
                    &value_path,
                    format!("{key} holds dates; write {value:?} as YYYY-MM-DD"),
                ),
                AttributeType::Bool if !matches!(value.trim(), "true" | "false") => fail(
                    &value_path,
                    format!("{key} is true or false, not {value:?}"),
                ),
                AttributeType::Bool | AttributeType::Text if !matches!(cmp, Cmp::Eq | Cmp::Ne) => {
                    fail(
                        &format!("{path}.cmp"),
                        format!("{key} holds text or true/false: compare it with eq or ne"),
                    )
                }
                _ => Ok(()),
            }
        }
        Rule::Consent { channel, purpose } => {
            if ContactChannel::parse(channel).is_err() {
                return fail(
                    &format!("{path}.channel"),
                    format!("unknown channel {channel:?}"),
                );
            }
            if Purpose::parse(purpose).is_err() {
                return fail(
                    &format!("{path}.purpose"),
                    format!("unknown purpose {purpose:?}"),
                );
            }
            Ok(())
        }
        Rule::Event {
            name,
            at_least,
            within_days,
        } => {
            named(&format!("{path}.name"), "event", name, &schema.events)?;
            if !(1..=10_000).contains(at_least) {
                return fail(&format!("{path}.at_least"), "at_least is 1 to 10,000");
            }
            window(path, *within_days)
        }
        Rule::Orders {
            value,
            within_days,
            product,
            category,
            ..
        } => {
            finite(path, *value)?;
            for (field, v) in [("product", product), ("category", category)] {
                if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return fail(&format!("{path}.{field}"), format!("the {field} is empty"));
                }
            }
            window(path, *within_days)
        }
        Rule::Rfm { cells } => {
            if cells.is_empty() {
                return fail(&format!("{path}.cells"), "name at least one RFM cell");
            }
            for (i, c) in cells.iter().enumerate() {
                named(
                    &format!("{path}.cells[{i}]"),
                    "RFM cell",
                    c,
                    &schema.rfm_cells,
                )?;
            }
            Ok(())
        }
        Rule::Value { measure, value, .. } => {
            finite(path, *value)?;
            if *measure == ValueMeasure::ProbabilityAlive && !(0.0..=1.0).contains(value) {
                return fail(&format!("{path}.value"), "a probability is between 0 and 1");
            }
            Ok(())
        }
        Rule::Nps { groups } => {
            if groups.is_empty() {
                return fail(&format!("{path}.groups"), "name at least one NPS group");
            }
            let known: Vec<String> = super::NPS_GROUPS.iter().map(|g| g.to_string()).collect();
            for (i, g) in groups.iter().enumerate() {
                named(&format!("{path}.groups[{i}]"), "NPS group", g, &known)?;
            }
            Ok(())
        }
        Rule::Tier { tier } => named(&format!("{path}.tier"), "tier", tier, &schema.tiers),
        Rule::Loyalty { value, .. } => finite(path, *value),
        Rule::Rating {
            metric,
            value,
            within_days,
            ..
        } => {
            let known: Vec<String> = super::RATING_METRICS
                .iter()
                .map(|m| m.to_string())
                .collect();
            named(&format!("{path}.metric"), "metric", metric, &known)?;
            finite(path, *value)?;
            window(path, *within_days)
        }
        Rule::Sentiment {
            value, within_days, ..
        } => {
            if !(-1.0..=1.0).contains(value) {
                return fail(&format!("{path}.value"), "sentiment is between -1 and 1");
            }
            window(path, *within_days)
        }
        Rule::Topic {
            topic, within_days, ..
        } => {
            if topic.trim().is_empty() {
                return fail(&format!("{path}.topic"), "the topic is empty");
            }
            window(path, *within_days)
        }
        Rule::OpenConversation {} => Ok(()),
        Rule::Identity { kind } => match crate::identity::IdentityKind::parse(kind) {
            Ok(_) => Ok(()),
            Err(_) => fail(
                &format!("{path}.kind"),
                format!(
                    "unknown identity kind {kind:?} (email, phone, external_id, kakao, line, telegram, messenger, …)"
                ),
            ),
        },
        Rule::Segment { segment } => {
            if schema.segments.contains(segment) {
                Ok(())
            } else {
                fail(
                    &format!("{path}.segment"),
                    format!(
                        "segment {segment} does not exist, is this one, or itself names a segment (one level only)"
                    ),
                )
            }
        }
        Rule::EventDays { name, value, .. } => {
            if let Some(n) = name {
                named(&format!("{path}.name"), "event", n, &schema.events)?;
            }
            finite(path, *value)?;
            if *value < 0.0 {
                return fail(&format!("{path}.value"), "days are 0 or more");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema {
            attributes: vec![
                ("skin_type".into(), AttributeType::Text),
                ("age".into(), AttributeType::Number),
                ("wedding".into(), AttributeType::Date),
            ],
            events: vec!["add_to_cart".into(), "purchase".into()],
            tiers: vec!["tree".into()],
            rfm_cells: vec!["champions".into(), "at_risk".into()],
            segments: vec![3],
        }
    }

    fn err(json: &str) -> RuleError {
        check(&super::super::parse(json).unwrap(), &schema()).unwrap_err()
    }

    #[test]
    fn a_good_rule_passes() {
        let rule = super::super::parse(
            r#"{"type": "all", "rules": [
              {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
              {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 30}},
              {"type": "attribute", "key": "age", "cmp": "gte", "value": "30"},
              {"type": "rfm", "cells": ["at_risk"]},
              {"type": "consent", "channel": "email", "purpose": "marketing"},
              {"type": "value", "measure": "probability_alive", "cmp": "lt", "value": 0.5}
            ]}"#,
        )
        .unwrap();
        assert_eq!(check(&rule, &schema()), Ok(()));
    }

    #[test]
    fn errors_name_the_part_of_the_rule() {
        let e = err(r#"{"type": "all", "rules": [{"type": "tag", "tag": "vip"},
            {"type": "not", "rule": {"type": "event", "name": "purchse"}}]}"#);
        assert_eq!(e.path, "rule.rules[1].rule.name");
        assert!(
            e.message.contains("purchse") && e.message.contains("purchase"),
            "{e}"
        );
        let e = err(r#"{"type": "attribute", "key": "age", "cmp": "gt", "value": "thirty"}"#);
        assert_eq!(e.path, "rule.value");
        let e = err(r#"{"type": "attribute", "key": "skin_type", "cmp": "gt", "value": "dry"}"#);
        assert_eq!(e.path, "rule.cmp", "text compares by equality only");
        let e =
            err(r#"{"type": "attribute", "key": "wedding", "cmp": "lt", "value": "next june"}"#);
        assert!(e.message.contains("YYYY-MM-DD"));
        let e = err(r#"{"type": "attribute", "key": "shoe_size", "cmp": "eq", "value": "250"}"#);
        assert!(
            e.message.contains("unknown attribute") && e.message.contains("skin_type"),
            "{e}"
        );
        let e = err(r#"{"type": "rfm", "cells": ["champions", "whales"]}"#);
        assert_eq!(e.path, "rule.cells[1]");
        let e =
            err(r#"{"type": "value", "measure": "probability_alive", "cmp": "gt", "value": 50}"#);
        assert!(e.message.contains("between 0 and 1"));
        let e = err(r#"{"type": "consent", "channel": "pigeon", "purpose": "marketing"}"#);
        assert_eq!(e.path, "rule.channel");
        let e = err(r#"{"type": "nps", "groups": ["fans"]}"#);
        assert_eq!(e.path, "rule.groups[0]");
        assert!(e.message.contains("promoter"), "{e}");
        let e = err(r#"{"type": "tier", "tier": "forest"}"#);
        assert!(e.message.contains("tree"));
        let e = err(r#"{"type": "rating", "metric": "stars", "cmp": "gt", "value": 3}"#);
        assert_eq!(e.path, "rule.metric");
        let e = err(r#"{"type": "sentiment", "cmp": "lt", "value": -3}"#);
        assert!(e.message.contains("between -1 and 1"), "{e}");
        let e = err(r#"{"type": "topic", "topic": " "}"#);
        assert_eq!(e.path, "rule.topic");
        let e = err(r#"{"type": "identity", "kind": "fax"}"#);
        assert_eq!(e.path, "rule.kind");
        let e = err(r#"{"type": "segment", "segment": 4}"#);
        assert!(e.message.contains("one level"), "{e}");
        let e = err(
            r#"{"type": "event_days", "which": "first", "name": "login", "cmp": "gt", "value": 3}"#,
        );
        assert_eq!(e.path, "rule.name");
        for good in [
            r#"{"type": "segment", "segment": 3}"#,
            r#"{"type": "identity", "kind": "kakao"}"#,
            r#"{"type": "open_conversation"}"#,
            r#"{"type": "rating", "metric": "csat", "cmp": "lte", "value": 2, "within_days": 30}"#,
        ] {
            assert_eq!(
                check(&super::super::parse(good).unwrap(), &schema()),
                Ok(()),
                "{good}"
            );
        }
    }

    #[test]
    fn expensive_rules_are_refused_with_the_reason() {
        let e = err(r#"{"type": "event", "name": "purchase", "within_days": 100000}"#);
        assert_eq!(e.path, "rule.within_days");
        let many: Vec<String> = (0..70)
            .map(|i| format!(r#"{{"type": "tag", "tag": "t{i}"}}"#))
            .collect();
        let e = err(&format!(
            r#"{{"type": "any", "rules": [{}]}}"#,
            many.join(",")
        ));
        assert!(e.message.contains("split it"), "{e}");
        let mut deep = r#"{"type": "tag", "tag": "x"}"#.to_string();
        for _ in 0..10 {
            deep = format!(r#"{{"type": "not", "rule": {deep}}}"#);
        }
        assert!(err(&deep).message.contains("nested"));
    }
}
