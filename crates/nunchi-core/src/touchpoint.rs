//! Touchpoint rules: which events stand for a touchpoint — an event name plus conditions
//! on the event's properties, all of which must hold.

use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    Gt,
    Gte,
    Lt,
    Lte,
    Exists,
}

/// One condition on a property, compared as text, or as numbers for the ordering ops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub property: String,
    pub op: Op,
    #[serde(default)]
    pub value: String,
}

impl Condition {
    /// `value` is the property's value as text (`None`: the event lacks it).
    pub fn holds(&self, value: Option<&str>) -> bool {
        let Some(v) = value else {
            return self.op == Op::Ne;
        };
        let num = || {
            Some((
                v.trim().parse::<f64>().ok()?,
                self.value.trim().parse::<f64>().ok()?,
            ))
        };
        match self.op {
            Op::Exists => true,
            Op::Eq => v == self.value,
            Op::Ne => v != self.value,
            Op::Contains => v.to_lowercase().contains(&self.value.to_lowercase()),
            Op::Gt => num().is_some_and(|(a, b)| a > b),
            Op::Gte => num().is_some_and(|(a, b)| a >= b),
            Op::Lt => num().is_some_and(|(a, b)| a < b),
            Op::Lte => num().is_some_and(|(a, b)| a <= b),
        }
    }
}

/// A touchpoint's rule: the event name and its conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub event: String,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

impl Rule {
    /// Checks a rule typed by a person: a non-empty event name of sane length, conditions
    /// with property names.
    pub fn validate(&self) -> CoreResult<()> {
        let event = self.event.trim();
        if event.is_empty() || event.chars().count() > 200 {
            return Err(CoreError::new(
                "event",
                "the event name must be 1–200 characters",
            ));
        }
        if self.conditions.len() > 20 {
            return Err(CoreError::new("conditions", "at most 20 conditions"));
        }
        if self.conditions.iter().any(|c| c.property.trim().is_empty()) {
            return Err(CoreError::new(
                "conditions",
                "every condition names a property",
            ));
        }
        Ok(())
    }

    /// Whether an event named `name` with these properties matches; `property` reads one
    /// property as text.
    pub fn matches<'a>(&self, name: &str, property: impl Fn(&str) -> Option<&'a str>) -> bool {
        name == self.event
            && self
                .conditions
                .iter()
                .all(|c| c.holds(property(&c.property)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(property: &str, op: Op, value: &str) -> Condition {
        Condition {
            property: property.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn rules_match_name_and_every_condition() {
        let rule = Rule {
            event: "page_view".into(),
            conditions: vec![
                cond("name", Op::Eq, "Checkout"),
                cond("total", Op::Gte, "10000"),
            ],
        };
        let props = |total: &'static str| {
            move |p: &str| match p {
                "name" => Some("Checkout"),
                "total" => Some(total),
                _ => None,
            }
        };
        assert!(rule.matches("page_view", props("25000")));
        assert!(!rule.matches("page_view", props("9000")));
        assert!(!rule.matches("track", props("25000")));
        assert!(cond("coupon", Op::Ne, "X").holds(None));
        assert!(!cond("coupon", Op::Exists, "").holds(None));
        assert!(cond("title", Op::Contains, "refund").holds(Some("Refund request")));
        assert!(!cond("n", Op::Gt, "3").holds(Some("abc")));
        assert!(
            Rule {
                event: " ".into(),
                conditions: vec![]
            }
            .validate()
            .is_err()
        );
        assert!(rule.validate().is_ok());
    }
}
