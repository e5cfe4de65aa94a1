//! The demo brand's segments: VIPs, true fans, customers at risk of lapsing and prospects,
//! saved as ordinary live segments. Their members are filled by the first segment refresh
//! when the server starts (within seconds), as any segment's are.

use std::sync::Arc;

use nunchi_store::{Store, model::NewSegment};

const SEGMENTS: &[(&str, &str, &str)] = &[
    (
        "VIP",
        "VIP 태그 고객 (누적 구매 60만 원 이상) · Customers tagged vip",
        r#"{"type": "tag", "tag": "vip"}"#,
    ),
    (
        "찐팬 · True fans",
        "재구매 고객 중 NPS 추천 고객 또는 최우수·충성 고객 · Repeat buyers who are promoters or in the champions or loyal RFM cells",
        r#"{"type": "all", "rules": [{"type": "orders", "measure": "count", "cmp": "gte", "value": 2}, {"type": "any", "rules": [{"type": "nps", "groups": ["promoter"]}, {"type": "rfm", "cells": ["champions", "loyal"]}]}]}"#,
    ),
    (
        "이탈 위험 · At risk",
        "구매했지만 활동 확률 30% 미만 · Bought, but less than 30% likely to still be a customer",
        r#"{"type": "all", "rules": [{"type": "orders", "measure": "count", "cmp": "gte", "value": 1}, {"type": "value", "measure": "probability_alive", "cmp": "lt", "value": 0.3}]}"#,
    ),
    (
        "잠재 고객 · Prospects",
        "알고 있지만 구매 이력 없음 · Known, never bought",
        r#"{"type": "orders", "measure": "count", "cmp": "eq", "value": 0}"#,
    ),
];

/// Saves the demo segments that are not there yet; how many were added.
pub async fn load(store: &Arc<dyn Store>) -> anyhow::Result<usize> {
    let have: Vec<String> = store
        .segments()
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut added = 0;
    for (name, description, rule) in SEGMENTS {
        if have.iter().any(|h| h == name) {
            continue;
        }
        store
            .create_segment(&NewSegment {
                name: name.to_string(),
                description: description.to_string(),
                kind: "live".into(),
                rule: rule.to_string(),
                created_by: "demo".into(),
            })
            .await?;
        added += 1;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_demo_rule_parses() {
        for (_, _, rule) in super::SEGMENTS {
            crate::segments::parse_rule(rule).unwrap();
        }
    }
}
