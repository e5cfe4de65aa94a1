//! Points follow orders: after order lines are written (API, CSV import) or a refund is
//! recorded, each touched order earns under the rules it matches (once per line and
//! rule), and a refund or cancellation reverses its share of what the order earned and
//! returns its share of any points spent on it. Runs with the store alone, so the import
//! job and the API share it.

use std::collections::{BTreeMap, BTreeSet};

use nunchi_core::{
    import::OrderStatus,
    loyalty::{
        Op, Program,
        earn::{self, EarnRule, LineContext, ScopeKind},
    },
};
use nunchi_store::{Store, model::Order};

/// What following some orders did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Followed {
    pub orders: usize,
    pub entries: usize,
    /// Customers whose tier moved.
    pub tier_changes: usize,
}

/// Whether an order's lines earn: it was paid (later refunds are reversals, not a reason
/// never to have earned). Pending orders earn once paid; cancelled ones never.
fn earns(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Paid
            | OrderStatus::Shipped
            | OrderStatus::Delivered
            | OrderStatus::PartiallyRefunded
            | OrderStatus::Refunded
    )
}

/// The part of the order's total refunded, in minor units: all of it when cancelled or
/// marked refunded.
fn refunded_share(order: &Order) -> i64 {
    match order.row.status {
        OrderStatus::Cancelled | OrderStatus::Refunded => order.row.total_minor,
        _ => order.row.refunded_minor.min(order.row.total_minor),
    }
}

/// The idempotency key of one line's points under one rule.
pub fn earn_key(order_ref: &str, product: &str, rule_id: i64) -> String {
    format!("earn:{order_ref}:{product}:{rule_id}")
}

/// The ledger operations an order calls for, given the customer's tier now.
pub fn order_ops(
    program: &Program,
    rules: &[EarnRule],
    order: &Order,
    tier: Option<&str>,
) -> Vec<Op> {
    let row = &order.row;
    let mut ops = Vec::new();
    if earns(row.status) {
        let available_at = program.available_at(row.placed_at);
        for item in &order.items {
            let line = LineContext {
                product: &item.product,
                category: &item.category,
                channel: row.channel.as_str(),
                tier,
                currency: row.currency.code(),
                total_minor: item.unit_price_minor.saturating_mul(item.quantity),
                placed_at: row.placed_at,
            };
            for (rule_id, points) in earn::line_points(rules, &line) {
                ops.push(Op::Earn {
                    key: earn_key(&row.external_id, &item.product, rule_id),
                    points,
                    order_ref: Some(row.external_id.clone()),
                    rule_id: Some(rule_id),
                    product: Some(item.product.clone()),
                    category: (!item.category.is_empty()).then(|| item.category.clone()),
                    occurred_at: row.placed_at,
                    available_at,
                    expires_at: program.expires_at(available_at),
                });
            }
        }
    }
    let refunded = refunded_share(order);
    if refunded > 0 {
        ops.push(Op::Reverse {
            order_ref: row.external_id.clone(),
            refunded,
            total: row.total_minor,
            policy: program.refund_policy,
        });
        ops.push(Op::Return {
            order_ref: row.external_id.clone(),
            refunded,
            total: row.total_minor,
        });
    }
    ops
}

/// Brings the points of the given orders up to date, then each touched customer's tier.
pub async fn follow_orders(
    store: &dyn Store,
    now: i64,
    order_ids: &[i64],
) -> nunchi_store::StoreResult<Followed> {
    let program = store.loyalty_program().await?;
    if !program.enabled || order_ids.is_empty() {
        return Ok(Followed::default());
    }
    let rules = store.loyalty_rules().await?;
    let tiered = rules.iter().any(|r| r.scope == ScopeKind::Tier);
    let ids: BTreeSet<i64> = order_ids.iter().copied().collect();
    let mut tiers: BTreeMap<i64, Option<String>> = BTreeMap::new();
    let mut ops = Vec::new();
    let ids: Vec<i64> = ids.into_iter().collect();
    for order in store.orders_by_ids(&ids).await? {
        let customer = order.row.customer_id;
        if let std::collections::btree_map::Entry::Vacant(e) = tiers.entry(customer) {
            e.insert(if tiered {
                store.loyalty_points(customer).await?.tier
            } else {
                None
            });
        }
        let tier = tiers.get(&customer).cloned().flatten();
        ops.extend(
            order_ops(&program, &rules, &order, tier.as_deref())
                .into_iter()
                .map(|op| (customer, op)),
        );
    }
    let mut followed = Followed {
        orders: ids.len(),
        ..Default::default()
    };
    for chunk in ops.chunks(2000) {
        for r in store.post_loyalty(chunk, "orders").await? {
            // Earning, reversing and returning never overdraw, so none is refused.
            followed.entries += r.map(|ids| ids.len()).unwrap_or(0);
        }
    }
    for customer in tiers.keys() {
        if super::tiers::evaluate(store, &program, *customer, now)
            .await?
            .is_some()
        {
            followed.tier_changes += 1;
        }
    }
    Ok(followed)
}
