//! The demo brand's loyalty program, 새싹 / 나무 / 숲, and its history: the demo orders
//! replayed month by month through the same earning rules as live orders (with the refunds
//! and cancellations they carry), some customers spending points on later orders, then
//! expiry and tiers as of today.

use std::{collections::BTreeMap, sync::Arc};

use nunchi_core::loyalty::{
    Downgrade, Op, Program, RefundPolicy,
    earn::{EarnRule, ScopeKind},
    tiers::Tier,
};
use nunchi_store::{Store, model::Order};

use crate::loyalty::earning::order_ops;

const MONTH_MS: i64 = 30 * 86_400_000;

fn tier(key: &str, ko: &str, en: &str, threshold: i64) -> Tier {
    Tier {
        key: key.into(),
        name_ko: ko.into(),
        name_en: en.into(),
        threshold,
    }
}

pub fn program() -> Program {
    Program {
        enabled: true,
        return_days: 14,
        validity_days: 365,
        refund_policy: RefundPolicy::ClawBack,
        tier_window_days: 365,
        downgrade: Downgrade::AfterDays,
        downgrade_days: 90,
        tier_excluded_categories: vec!["gift".into()],
        tiers: vec![
            tier("sprout", "새싹", "Sprout", 0),
            tier("tree", "나무", "Tree", 1_000),
            tier("forest", "숲", "Forest", 3_000),
        ],
        ..Program::default()
    }
}

fn rules() -> Vec<EarnRule> {
    vec![
        EarnRule::base("기본 적립 1%", 1, 100, "KRW"),
        EarnRule::multiplier(
            "선물 세트 2배 적립 (재고 소진)",
            200,
            ScopeKind::Category,
            &["gift"],
        ),
        EarnRule::multiplier("숲 등급 1.5배", 150, ScopeKind::Tier, &["forest"]),
    ]
}

/// Sets up the program (once) and replays the demo orders into the ledger.
pub async fn load(store: &Arc<dyn Store>, now: i64) -> anyhow::Result<usize> {
    if store.loyalty_program().await?.enabled {
        return Ok(0);
    }
    let program = program().checked()?;
    store.set_loyalty_program(&program).await?;
    for r in rules() {
        store.save_loyalty_rule(&r.checked()?).await?;
    }
    for (ko, en, points, stock) in [
        ("하늘결 에코백", "Haneulgyeol tote bag", 3_000, Some(200)),
        ("여행용 미니 키트", "Travel mini kit", 1_500, None),
        (
            "수분 장벽 크림 정품",
            "Barrier cream, full size",
            5_000,
            Some(50),
        ),
    ] {
        let reward = nunchi_core::loyalty::reward::Reward {
            id: 0,
            name_ko: ko.into(),
            name_en: en.into(),
            points,
            stock,
            active: true,
        };
        store.save_loyalty_reward(&reward.checked()?).await?;
    }
    let rules = store.loyalty_rules().await?;
    let mut orders: Vec<Order> = Vec::new();
    let mut after = 0;
    loop {
        let page = store.orders_page(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        orders.extend(page);
    }
    orders.sort_by_key(|o| (o.row.placed_at, o.row.id));
    // One transaction per month of orders, stamped at that month's end.
    let mut months: BTreeMap<i64, Vec<(i64, Op)>> = BTreeMap::new();
    let mut seen: BTreeMap<i64, u32> = BTreeMap::new();
    for o in &orders {
        let customer = o.row.customer_id;
        let month = o.row.placed_at.div_euclid(MONTH_MS);
        let n = seen.entry(customer).or_default();
        *n += 1;
        let ops = months.entry(month).or_default();
        // Every third order of a customer is paid partly with points, when they have them.
        if n.is_multiple_of(3) {
            ops.push((
                customer,
                Op::Spend {
                    key: format!("redeem:demo-{}", o.row.external_id),
                    points: 1_000,
                    order_ref: Some(o.row.external_id.clone()),
                    credit_limit: 0,
                    reason: "주문 결제에 사용".into(),
                },
            ));
        }
        ops.extend(
            order_ops(&program, &rules, o, None)
                .into_iter()
                .map(|op| (customer, op)),
        );
    }
    let mut written = 0;
    for (month, ops) in months {
        let at = ((month + 1) * MONTH_MS - 1).min(now);
        for r in store.post_loyalty_at(&ops, "demo", at).await? {
            written += r.map(|ids| ids.len()).unwrap_or(0);
        }
    }
    let due = store.loyalty_customers_to_expire(now, i64::MAX).await?;
    for chunk in due.chunks(1000) {
        let ops: Vec<(i64, Op)> = chunk.iter().map(|c| (*c, Op::Expire)).collect();
        store.post_loyalty_at(&ops, "loyalty keeper", now).await?;
    }
    // Tiers as of today, set in one go and without e-mails: the history is made up.
    let moves: Vec<(i64, Option<String>, i64)> = store
        .all_loyalty_ledgers()
        .await?
        .into_iter()
        .map(|(c, ledger)| {
            let points = crate::loyalty::tiers::points_measure(&program, &ledger, now);
            let (tier, points) = crate::loyalty::tiers::decide(&program, points, None, None, now);
            (c, tier, points)
        })
        .collect();
    store.set_loyalty_tiers(&moves).await?;
    Ok(written)
}
