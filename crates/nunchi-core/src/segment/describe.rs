//! A segment rule read back as a sentence, in Korean or English, so a CX manager sees
//! what the segment means without reading JSON. Nested groups are parenthesised; a `not`
//! over an event reads "did not …".

use super::{Cmp, FirstLast, LoyaltyMeasure, OrderMeasure, Rule, ValueMeasure};

fn cmp(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "=",
        Cmp::Ne => "≠",
        Cmp::Gt => ">",
        Cmp::Gte => "≥",
        Cmp::Lt => "<",
        Cmp::Lte => "≤",
    }
}

/// Numbers without a trailing `.0`.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The sentence for `rule`, in Korean when `ko`.
pub fn describe(rule: &Rule, ko: bool) -> String {
    phrase(rule, ko, false)
}

fn group(rules: &[Rule], ko: bool, joiner: &str, nested: bool) -> String {
    let parts: Vec<String> = rules.iter().map(|r| phrase(r, ko, true)).collect();
    let text = parts.join(joiner);
    if nested && parts.len() > 1 {
        format!("({text})")
    } else {
        text
    }
}

fn event(name: &str, at_least: u32, within: Option<u32>, ko: bool, negated: bool) -> String {
    match (ko, negated) {
        (false, _) => {
            let times = if at_least > 1 {
                format!(" at least {at_least} times")
            } else {
                String::new()
            };
            let window = within.map_or(String::new(), |d| format!(" in the last {d} days"));
            let verb = if negated { "did not do" } else { "did" };
            format!("{verb} {name}{times}{window}")
        }
        (true, _) => {
            let window = within.map_or(String::new(), |d| format!("최근 {d}일 동안 "));
            let times = if at_least > 1 {
                format!(" {at_least}회 이상")
            } else {
                String::new()
            };
            let verb = if negated { "하지 않음" } else { "함" };
            format!("{window}{name}{times} {verb}")
        }
    }
}

fn phrase(rule: &Rule, ko: bool, nested: bool) -> String {
    match rule {
        Rule::All { rules } if rules.is_empty() => {
            (if ko { "모든 고객" } else { "everyone" }).into()
        }
        Rule::Any { rules } if rules.is_empty() => {
            (if ko { "아무도 없음" } else { "no one" }).into()
        }
        Rule::All { rules } => group(rules, ko, if ko { " 그리고 " } else { " and " }, nested),
        Rule::Any { rules } => group(rules, ko, if ko { " 또는 " } else { " or " }, nested),
        Rule::Not { rule } => match rule.as_ref() {
            Rule::Event {
                name,
                at_least,
                within_days,
            } => event(name, *at_least, *within_days, ko, true),
            other => {
                let inner = phrase(other, ko, true);
                if ko {
                    format!("{inner}에 해당하지 않음")
                } else {
                    format!("not {inner}")
                }
            }
        },
        Rule::Tag { tag } => {
            if ko {
                format!("“{tag}” 태그가 있음")
            } else {
                format!("tagged “{tag}”")
            }
        }
        Rule::Attribute { key, cmp: c, value } => {
            if ko {
                format!("속성 {key} {} {value}", cmp(*c))
            } else {
                format!("attribute {key} {} {value}", cmp(*c))
            }
        }
        Rule::Consent { channel, purpose } => {
            if ko {
                format!("{channel} {purpose} 수신 동의")
            } else {
                format!("agreed to {purpose} by {channel}")
            }
        }
        Rule::Event {
            name,
            at_least,
            within_days,
        } => event(name, *at_least, *within_days, ko, false),
        Rule::Orders {
            measure,
            cmp: c,
            value,
            within_days,
            product,
            category,
        } => {
            let what = match (measure, ko) {
                (OrderMeasure::Count, false) => "orders",
                (OrderMeasure::Count, true) => "주문 수",
                (OrderMeasure::Spend, false) => "spend",
                (OrderMeasure::Spend, true) => "구매 금액",
                (OrderMeasure::DaysSinceLast, false) => "days since the last order",
                (OrderMeasure::DaysSinceLast, true) => "마지막 주문 후 경과일",
            };
            let of = match (product, category, ko) {
                (Some(p), _, false) => format!(" of {p}"),
                (Some(p), _, true) => format!("{p} "),
                (None, Some(c), false) => format!(" in {c}"),
                (None, Some(c), true) => format!("{c} "),
                (None, None, _) => String::new(),
            };
            let window = match (within_days, ko) {
                (Some(d), false) => format!(" in the last {d} days"),
                (Some(d), true) => format!("최근 {d}일 "),
                (None, _) => String::new(),
            };
            if ko {
                format!("{window}{of}{what} {} {}", cmp(*c), num(*value))
            } else {
                format!("{what}{of}{window} {} {}", cmp(*c), num(*value))
            }
        }
        Rule::Rfm { cells } => {
            if ko {
                format!("RFM 유형: {}", cells.join(", "))
            } else {
                format!("in RFM cell {}", cells.join(" or "))
            }
        }
        Rule::Value {
            measure,
            cmp: c,
            value,
        } => {
            let what = match (measure, ko) {
                (ValueMeasure::Clv, false) => "12-month value",
                (ValueMeasure::Clv, true) => "12개월 고객 가치",
                (ValueMeasure::ProbabilityAlive, false) => "probability still a customer",
                (ValueMeasure::ProbabilityAlive, true) => "활동 고객일 확률",
                (ValueMeasure::ExpectedPurchases, false) => "expected purchases in 12 months",
                (ValueMeasure::ExpectedPurchases, true) => "12개월 예상 구매 수",
            };
            format!("{what} {} {}", cmp(*c), num(*value))
        }
        Rule::Nps { groups } => {
            if ko {
                format!("최근 NPS 응답: {}", groups.join(", "))
            } else {
                format!("latest NPS answer {}", groups.join(" or "))
            }
        }
        Rule::Tier { tier } => {
            if ko {
                format!("등급 {tier}")
            } else {
                format!("in tier {tier}")
            }
        }
        Rule::Loyalty {
            measure: LoyaltyMeasure::Points,
            cmp: c,
            value,
        } => {
            let what = if ko { "포인트" } else { "points" };
            format!("{what} {} {}", cmp(*c), num(*value))
        }
        Rule::Rating {
            metric,
            cmp: c,
            value,
            within_days,
        } => {
            let m = metric.to_uppercase();
            if ko {
                format!(
                    "{}마지막 {m} 응답 {} {}",
                    window_ko(*within_days),
                    cmp(*c),
                    num(*value)
                )
            } else {
                format!(
                    "latest {m} answer{} {} {}",
                    window_en(*within_days),
                    cmp(*c),
                    num(*value)
                )
            }
        }
        Rule::Sentiment {
            cmp: c,
            value,
            within_days,
        } => {
            if ko {
                format!(
                    "{}피드백 감성 평균 {} {}",
                    window_ko(*within_days),
                    cmp(*c),
                    num(*value)
                )
            } else {
                format!(
                    "mean feedback sentiment{} {} {}",
                    window_en(*within_days),
                    cmp(*c),
                    num(*value)
                )
            }
        }
        Rule::Topic {
            topic,
            negative,
            within_days,
        } => match (ko, negative) {
            (true, false) => format!("{}피드백에서 “{topic}” 언급", window_ko(*within_days)),
            (true, true) => format!("{}부정 피드백에서 “{topic}” 언급", window_ko(*within_days)),
            (false, false) => format!("feedback mentions “{topic}”{}", window_en(*within_days)),
            (false, true) => {
                format!(
                    "negative feedback mentions “{topic}”{}",
                    window_en(*within_days)
                )
            }
        },
        Rule::OpenConversation {} => (if ko {
            "해결되지 않은 상담이 있음"
        } else {
            "has an unresolved conversation"
        })
        .into(),
        Rule::Identity { kind } => {
            if ko {
                format!("{kind} 식별자가 있음")
            } else {
                format!("known by {kind}")
            }
        }
        Rule::Segment { segment } => {
            if ko {
                format!("세그먼트 #{segment}에 속함")
            } else {
                format!("in segment #{segment}")
            }
        }
        Rule::EventDays {
            which,
            name,
            cmp: c,
            value,
        } => {
            let what = name
                .as_deref()
                .unwrap_or(if ko { "이벤트" } else { "event" });
            match (ko, which) {
                (true, FirstLast::First) => {
                    format!("첫 {what} 이후 경과일 {} {}", cmp(*c), num(*value))
                }
                (true, FirstLast::Last) => {
                    format!("마지막 {what} 이후 경과일 {} {}", cmp(*c), num(*value))
                }
                (false, FirstLast::First) => {
                    format!("days since the first {what} {} {}", cmp(*c), num(*value))
                }
                (false, FirstLast::Last) => {
                    format!("days since the last {what} {} {}", cmp(*c), num(*value))
                }
            }
        }
    }
}

fn window_ko(days: Option<u32>) -> String {
    days.map_or(String::new(), |d| format!("최근 {d}일 "))
}

fn window_en(days: Option<u32>) -> String {
    days.map_or(String::new(), |d| format!(" in the last {d} days"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issues_example_reads_in_both_languages() {
        let rule = super::super::parse(
            r#"{"type": "all", "rules": [
              {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
              {"type": "not", "rule": {"type": "event", "name": "purchase"}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            describe(&rule, false),
            "did add_to_cart at least 2 times in the last 30 days and did not do purchase"
        );
        assert_eq!(
            describe(&rule, true),
            "최근 30일 동안 add_to_cart 2회 이상 함 그리고 purchase 하지 않음"
        );
    }

    #[test]
    fn nested_groups_are_parenthesised() {
        let rule = super::super::parse(
            r#"{"type": "any", "rules": [
              {"type": "rfm", "cells": ["champions", "loyal"]},
              {"type": "all", "rules": [
                {"type": "tag", "tag": "vip"},
                {"type": "orders", "measure": "spend", "cmp": "gte", "value": 100000, "within_days": 90}
              ]},
              {"type": "not", "rule": {"type": "tier", "tier": "sprout"}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            describe(&rule, false),
            "in RFM cell champions or loyal or (tagged “vip” and spend in the last 90 days ≥ 100000) or not in tier sprout"
        );
        assert_eq!(
            describe(&rule, true),
            "RFM 유형: champions, loyal 또는 (“vip” 태그가 있음 그리고 최근 90일 구매 금액 ≥ 100000) 또는 등급 sprout에 해당하지 않음"
        );
        assert_eq!(describe(&Rule::All { rules: vec![] }, true), "모든 고객");
    }

    #[test]
    fn feedback_and_desk_conditions_read_in_both_languages() {
        let rule = super::super::parse(
            r#"{"type": "all", "rules": [
              {"type": "rating", "metric": "csat", "cmp": "lte", "value": 2, "within_days": 30},
              {"type": "topic", "topic": "배송", "negative": true},
              {"type": "open_conversation"},
              {"type": "event_days", "which": "last", "name": "visit", "cmp": "gt", "value": 30}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            describe(&rule, false),
            "latest CSAT answer in the last 30 days ≤ 2 and negative feedback mentions “배송” and has an unresolved conversation and days since the last visit > 30"
        );
        assert_eq!(
            describe(&rule, true),
            "최근 30일 마지막 CSAT 응답 ≤ 2 그리고 부정 피드백에서 “배송” 언급 그리고 해결되지 않은 상담이 있음 그리고 마지막 visit 이후 경과일 > 30"
        );
    }
}
