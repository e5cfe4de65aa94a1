//! Segment rules: who belongs to a segment, stored as data (JSON), checked against what
//! nunchi holds before they are saved, read back as a sentence in Korean or English, and
//! evaluated against one customer's facts. Conditions cover the profile (tags,
//! attributes, consents), behaviour (did or did not do an event, at least N times, within
//! a window), orders (count, spend, days since the last, optionally of one product or
//! category), feedback (the latest NPS answer's group, the latest rating on any metric,
//! the mean sentiment, topics mentioned), the support desk (an open conversation),
//! identities, other segments, the days since the first or last event, the customer
//! models (RFM cell, lifetime value, probability alive) and loyalty (tier, points), joined
//! by all / any / not.

pub mod check;
pub mod describe;
pub mod eval;

use serde::{Deserialize, Serialize};

/// How a measured number compares with the rule's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Cmp {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Gt => left > right,
            Cmp::Gte => left >= right,
            Cmp::Lt => left < right,
            Cmp::Lte => left <= right,
        }
    }
}

/// What is measured of a customer's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderMeasure {
    /// Orders placed (within the window, of the product or category when given).
    Count,
    /// Money spent net of refunds, in major units of the shop's main currency.
    Spend,
    /// Days since the last such order; a customer with none has no value (never matches,
    /// except under `not`).
    DaysSinceLast,
}

/// What is read from the customer models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueMeasure {
    /// The next 12 months' value.
    Clv,
    ProbabilityAlive,
    /// Purchases expected in the next 12 months.
    ExpectedPurchases,
}

/// What is read from the loyalty program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoyaltyMeasure {
    /// Spendable points.
    Points,
}

/// The first or the last of something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstLast {
    First,
    Last,
}

/// The metrics a rating condition may name.
pub const RATING_METRICS: [&str; 4] = ["nps", "csat", "ces", "rating"];

/// One segment rule. Stored as JSON with a `type` field naming the condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Every rule holds (an empty list: everyone).
    All {
        rules: Vec<Rule>,
    },
    /// At least one rule holds (an empty list: no one).
    Any {
        rules: Vec<Rule>,
    },
    Not {
        rule: Box<Rule>,
    },
    /// Has this tag.
    Tag {
        tag: String,
    },
    /// A custom attribute compared with a value: numbers and dates (`YYYY-MM-DD`) by
    /// order, text and booleans by equality (`eq`, `ne`).
    Attribute {
        key: String,
        cmp: Cmp,
        value: String,
    },
    /// Agreed to be contacted on this channel for this purpose.
    Consent {
        channel: String,
        purpose: String,
    },
    /// Did the event at least `at_least` times (default 1), within the last `within_days`
    /// when given. Under `not`: did not.
    Event {
        name: String,
        #[serde(default = "one")]
        at_least: u32,
        #[serde(default)]
        within_days: Option<u32>,
    },
    /// A measure of their orders compared with a number.
    Orders {
        measure: OrderMeasure,
        cmp: Cmp,
        value: f64,
        #[serde(default)]
        within_days: Option<u32>,
        #[serde(default)]
        product: Option<String>,
        #[serde(default)]
        category: Option<String>,
    },
    /// In one of these RFM cells (`champions`, `at_risk`, …).
    Rfm {
        cells: Vec<String>,
    },
    /// Their latest NPS answer puts them in one of these groups (`promoter` 9–10,
    /// `passive` 7–8, `detractor` 0–6).
    Nps {
        groups: Vec<String>,
    },
    /// A figure of the lifetime-value models compared with a number.
    Value {
        measure: ValueMeasure,
        cmp: Cmp,
        value: f64,
    },
    /// Holds this loyalty tier (by its key).
    Tier {
        tier: String,
    },
    Loyalty {
        measure: LoyaltyMeasure,
        cmp: Cmp,
        value: f64,
    },
    /// Their latest answer on `metric` (`nps`, `csat`, `ces`, `rating`), on its own scale,
    /// compared with a number; within the last `within_days` when given.
    Rating {
        metric: String,
        cmp: Cmp,
        value: f64,
        #[serde(default)]
        within_days: Option<u32>,
    },
    /// The mean sentiment (−1..1) of their feedback's text compared with a number.
    Sentiment {
        cmp: Cmp,
        value: f64,
        #[serde(default)]
        within_days: Option<u32>,
    },
    /// Their feedback mentions the topic (its key or its Korean or English label); with
    /// `negative`, only feedback whose sentiment is below zero counts.
    Topic {
        topic: String,
        #[serde(default)]
        negative: bool,
        #[serde(default)]
        within_days: Option<u32>,
    },
    /// Has a support conversation not yet resolved (open, pending or snoozed).
    OpenConversation {},
    /// Is known by an identity of this kind (`email`, `phone`, `kakao`, …).
    Identity {
        kind: String,
    },
    /// Is a member of another segment now.
    Segment {
        segment: i64,
    },
    /// Days since their first or last event (of `name` when given) compared with a number.
    EventDays {
        which: FirstLast,
        #[serde(default)]
        name: Option<String>,
        cmp: Cmp,
        value: f64,
    },
}

fn one() -> u32 {
    1
}

/// The groups an NPS answer falls in.
pub const NPS_GROUPS: [&str; 3] = ["promoter", "passive", "detractor"];

/// The group of an NPS rating (0–10).
pub fn nps_group(rating: f64) -> &'static str {
    if rating >= 9.0 {
        "promoter"
    } else if rating >= 7.0 {
        "passive"
    } else {
        "detractor"
    }
}

/// The longest window a rule may look back over.
pub const MAX_WINDOW_DAYS: u32 = 3_650;
/// Conditions in one rule at most; beyond that a rule is refused as too expensive.
pub const MAX_CONDITIONS: usize = 64;
/// Nesting of all / any / not at most.
pub const MAX_DEPTH: usize = 8;

impl Rule {
    /// Whether the rule reads anything that changes with the clock alone (a window, days
    /// since the last order, the models' figures), so its members move without new data.
    pub fn time_relative(&self) -> bool {
        match self {
            Rule::All { rules } | Rule::Any { rules } => rules.iter().any(Rule::time_relative),
            Rule::Not { rule } => rule.time_relative(),
            Rule::Event { within_days, .. } => within_days.is_some(),
            Rule::Orders {
                measure,
                within_days,
                ..
            } => within_days.is_some() || *measure == OrderMeasure::DaysSinceLast,
            Rule::Rfm { .. } | Rule::Value { .. } | Rule::EventDays { .. } => true,
            Rule::Rating { within_days, .. }
            | Rule::Sentiment { within_days, .. }
            | Rule::Topic { within_days, .. } => within_days.is_some(),
            Rule::OpenConversation {} | Rule::Identity { .. } | Rule::Segment { .. } => false,
            Rule::Tag { .. }
            | Rule::Attribute { .. }
            | Rule::Consent { .. }
            | Rule::Nps { .. }
            | Rule::Tier { .. }
            | Rule::Loyalty { .. } => false,
        }
    }
}

/// A rule from JSON in the tests (callers parse with serde_json, whose messages name an
/// unknown field or condition type).
#[cfg(test)]
pub(crate) fn parse(json: &str) -> Result<Rule, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_as_json_with_defaults() {
        let json = r#"{"type": "all", "rules": [
            {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
            {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 30}},
            {"type": "tag", "tag": "vip"}
        ]}"#;
        let rule = parse(json).unwrap();
        let Rule::All { rules } = &rule else {
            panic!("{rule:?}")
        };
        assert_eq!(
            rules[1],
            Rule::Not {
                rule: Box::new(Rule::Event {
                    name: "purchase".into(),
                    at_least: 1,
                    within_days: Some(30)
                })
            }
        );
        let again = parse(&serde_json::to_string(&rule).unwrap()).unwrap();
        assert_eq!(again, rule);
        assert!(rule.time_relative());
        assert!(!Rule::Tag { tag: "vip".into() }.time_relative());
    }

    #[test]
    fn unknown_types_and_fields_are_named() {
        let e = parse(r#"{"type": "horoscope", "sign": "leo"}"#).unwrap_err();
        assert!(e.contains("horoscope"), "{e}");
        let e = parse(r#"{"type": "tag", "tag": "vip", "colour": "red"}"#).unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }
}
