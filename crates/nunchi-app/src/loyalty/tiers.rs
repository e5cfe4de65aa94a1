//! Keeping a customer's tier: measured on points earned over the program's window (net of
//! refunds, never the balance), upgraded at once, downgraded as the program says; a move
//! is recorded (the timeline shows it) and the customer is told by e-mail in their
//! language.

use nunchi_core::{
    identity::IdentityKind,
    loyalty::{Ledger, Program},
};
use nunchi_store::{Store, model::TierChange};

use crate::jobs::Job;

/// The tier `ledger` earns now, for a customer holding `current` since `since`, and the
/// points it was measured on.
pub fn decide(
    program: &Program,
    ledger: &Ledger,
    current: Option<&str>,
    since: Option<i64>,
    now: i64,
) -> (Option<String>, i64) {
    let points = ledger.tier_points(
        now,
        program.tier_window_days,
        &program.tier_excluded_products,
        &program.tier_excluded_categories,
    );
    let tier = nunchi_core::loyalty::tiers::decide(
        &program.tiers,
        current,
        since,
        points,
        program.downgrade,
        program.downgrade_days,
        now,
    );
    (tier.map(|t| t.key.clone()), points)
}

/// Re-evaluates one customer's tier and tells them of a move; the change, if any.
pub async fn evaluate(
    store: &dyn Store,
    program: &Program,
    customer_id: i64,
    now: i64,
) -> nunchi_store::StoreResult<Option<TierChange>> {
    if program.tiers.is_empty() {
        return Ok(None);
    }
    let ledger = store.loyalty_ledger(customer_id).await?;
    let kept = store.loyalty_points(customer_id).await?;
    let (tier, points) = decide(program, &ledger, kept.tier.as_deref(), kept.tier_since, now);
    Ok(
        move_tiers(store, program, &[(customer_id, tier, points)], now)
            .await?
            .pop(),
    )
}

/// Re-evaluates every member's tier at once (the keeper's daily sweep: windows move with
/// the clock even when a customer does nothing); how many moved.
pub async fn sweep(
    store: &dyn Store,
    program: &Program,
    now: i64,
) -> nunchi_store::StoreResult<usize> {
    if program.tiers.is_empty() {
        return Ok(0);
    }
    let held: std::collections::HashMap<i64, (Option<String>, Option<i64>)> = store
        .loyalty_tiers_held()
        .await?
        .into_iter()
        .map(|(c, tier, since)| (c, (tier, since)))
        .collect();
    let moves: Vec<(i64, Option<String>, i64)> = store
        .all_loyalty_ledgers()
        .await?
        .into_iter()
        .filter_map(|(c, ledger)| {
            let (tier, since) = held.get(&c).cloned().unwrap_or_default();
            let (wanted, points) = decide(program, &ledger, tier.as_deref(), since, now);
            (wanted != tier).then_some((c, wanted, points))
        })
        .collect();
    Ok(move_tiers(store, program, &moves, now).await?.len())
}

/// Sets the tiers in one transaction and tells each customer who moved.
async fn move_tiers(
    store: &dyn Store,
    program: &Program,
    moves: &[(i64, Option<String>, i64)],
    now: i64,
) -> nunchi_store::StoreResult<Vec<TierChange>> {
    let mut changes = Vec::new();
    for (customer_id, change) in store.set_loyalty_tiers(moves).await? {
        notify(store, program, customer_id, &change, now).await?;
        changes.push(change);
    }
    Ok(changes)
}

/// Queues the e-mail telling the customer of their new tier, when they have an address.
async fn notify(
    store: &dyn Store,
    program: &Program,
    customer_id: i64,
    change: &TierChange,
    now: i64,
) -> nunchi_store::StoreResult<()> {
    let customer = store.customer(customer_id).await?;
    let Some(to) = customer.identity(IdentityKind::Email) else {
        return Ok(());
    };
    let ko = customer.row.language.as_deref() != Some("en");
    let name = |key: &Option<String>| {
        super::tier_named(program, key.as_deref()).map(|t| {
            if ko {
                t.name_ko.clone()
            } else {
                t.name_en.clone()
            }
        })
    };
    let (Some(to_name), from_name) = (name(&change.to_tier), name(&change.from_tier)) else {
        return Ok(());
    };
    let rank = |key: &Option<String>| {
        key.as_deref()
            .and_then(|k| program.tiers.iter().position(|t| t.key == k))
    };
    let up = rank(&change.to_tier) > rank(&change.from_tier);
    let (subject, text) = match (ko, up) {
        (true, true) => (
            format!("{to_name} 등급이 되셨어요"),
            format!(
                "지난 {}일 동안 {} 포인트를 모으셔서 {to_name} 등급이 되셨습니다. 늘 찾아 주셔서 감사합니다.",
                program.tier_window_days, change.points
            ),
        ),
        (true, false) => (
            format!("회원 등급이 {to_name}(으)로 바뀌었어요"),
            format!(
                "지난 {}일 동안 모으신 포인트는 {}점이라 {}에서 {to_name} 등급으로 바뀌었습니다. 다시 모으시면 언제든 올라갑니다.",
                program.tier_window_days,
                change.points,
                from_name.unwrap_or_default()
            ),
        ),
        (false, true) => (
            format!("Welcome to {to_name}"),
            format!(
                "You earned {} points over the last {} days and reached {to_name}. Thank you for staying with us.",
                change.points, program.tier_window_days
            ),
        ),
        (false, false) => (
            format!("Your tier is now {to_name}"),
            format!(
                "You earned {} points over the last {} days, so your tier moved from {} to {to_name}. Earn again to move back up.",
                change.points,
                program.tier_window_days,
                from_name.unwrap_or_default()
            ),
        ),
    };
    let row = crate::mail::EmailJob {
        to: to.to_string(),
        subject,
        text,
    }
    .row(now);
    store
        .enqueue_job(&row.kind, &row.payload, row.run_at, row.max_attempts)
        .await?;
    Ok(())
}
