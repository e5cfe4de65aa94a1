//! Which feedback a closed-loop rule opens a follow-up for, as a pure rule. Topics are
//! compared as typed mentions (the topic's key and its Korean and English labels), never
//! as text inside JSON: a rule on "배송" (delivery) meets "배송 지연" (delivery delay) but
//! not "오배송" (wrong item sent).

use serde::{Deserialize, Serialize};

use crate::feedback::Source;

/// A topic the text analytics found in a piece of feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMention {
    /// `aspect` or `aspect/issue` for catalogue topics, `phrase:<text>` for key phrases.
    pub topic: String,
    #[serde(default)]
    pub ko: String,
    #[serde(default)]
    pub en: String,
}

/// Lower case, single spaces, trimmed: how a person's topic and a label are compared.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

impl TopicMention {
    /// Whether `wanted` (as a person types it in a rule) names this topic: its key, its
    /// label in either language, or the aspect the topic qualifies (the key's part before
    /// `/`, or the label's leading words). Whole words only.
    pub fn is_named_by(&self, wanted: &str) -> bool {
        let wanted = words(wanted);
        if wanted.is_empty() {
            return false;
        }
        let key = self.topic.to_lowercase();
        let aspect = key.split('/').next().unwrap_or(&key);
        if wanted.len() == 1 && (wanted[0] == key || wanted[0] == aspect) {
            return true;
        }
        [&self.ko, &self.en]
            .into_iter()
            .any(|label| words(label).starts_with(&wanted))
    }
}

/// What a rule asks of a piece of feedback; every condition set must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Conditions<'a> {
    /// Only feedback from this source; none: any source but employees' (pulse answers
    /// meet only the rules that name them).
    pub source: Option<Source>,
    /// Normalised score (0..1) at most this.
    pub max_score: Option<f64>,
    pub min_score: Option<f64>,
    /// Text sentiment (-1..1) at most this.
    pub max_sentiment: Option<f64>,
    /// A topic the feedback mentions (see `TopicMention::is_named_by`).
    pub topic: Option<&'a str>,
}

/// The facts of a piece of feedback a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal<'a> {
    pub source: Source,
    pub score: Option<f64>,
    pub sentiment: Option<f64>,
    pub topics: &'a [TopicMention],
}

/// Whether a rule applies: every condition it sets holds. A condition on a value the
/// feedback lacks (no rating, no text) does not hold.
pub fn matches(rule: &Conditions<'_>, f: &Signal<'_>) -> bool {
    let source = match rule.source {
        Some(s) => s == f.source,
        None => f.source != Source::Employee,
    };
    source
        && rule
            .max_score
            .is_none_or(|m| f.score.is_some_and(|s| s <= m))
        && rule
            .min_score
            .is_none_or(|m| f.score.is_some_and(|s| s >= m))
        && rule
            .max_sentiment
            .is_none_or(|m| f.sentiment.is_some_and(|s| s <= m))
        && rule
            .topic
            .is_none_or(|t| f.topics.iter().any(|m| m.is_named_by(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(topic: &str, ko: &str, en: &str) -> TopicMention {
        TopicMention {
            topic: topic.into(),
            ko: ko.into(),
            en: en.into(),
        }
    }

    #[test]
    fn topics_match_by_key_label_or_aspect_in_whole_words() {
        let late = mention("delivery/delay", "배송 지연", "delivery delay");
        for wanted in [
            "배송",
            "배송 지연",
            " 배송  지연 ",
            "delivery",
            "Delivery Delay",
            "delivery/delay",
        ] {
            assert!(late.is_named_by(wanted), "{wanted}");
        }
        for wanted in ["지연", "delay", "배", "deliver", "", "배송 파손"] {
            assert!(!late.is_named_by(wanted), "{wanted}");
        }
        let wrong_item = mention("wrong_item", "오배송", "wrong item");
        assert!(
            !wrong_item.is_named_by("배송"),
            "a substring is not a topic"
        );
        assert!(wrong_item.is_named_by("오배송"));
    }

    #[test]
    fn every_condition_must_hold_and_employees_need_their_source_named() {
        let topics = [mention("delivery/delay", "배송 지연", "delivery delay")];
        let complaint = Signal {
            source: Source::Review,
            score: Some(0.25),
            sentiment: Some(-0.6),
            topics: &topics,
        };
        let late = Conditions {
            topic: Some("배송"),
            max_sentiment: Some(-0.2),
            ..Conditions::default()
        };
        assert!(matches(&late, &complaint));
        assert!(!matches(
            &late,
            &Signal {
                sentiment: Some(0.1),
                ..complaint
            }
        ));
        assert!(!matches(
            &late,
            &Signal {
                sentiment: None,
                ..complaint
            }
        ));
        let detractors = Conditions {
            max_score: Some(0.6),
            ..Conditions::default()
        };
        assert!(matches(&detractors, &complaint));
        assert!(!matches(
            &detractors,
            &Signal {
                score: None,
                ..complaint
            }
        ));
        let employee = Signal {
            source: Source::Employee,
            ..complaint
        };
        assert!(!matches(&detractors, &employee));
        assert!(matches(
            &Conditions {
                source: Some(Source::Employee),
                ..detractors
            },
            &employee
        ));
        assert!(matches(&Conditions::default(), &complaint));
    }
}
