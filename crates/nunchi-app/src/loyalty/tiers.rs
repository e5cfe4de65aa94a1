//! Keeping a customer's tier: measured on points earned over the program's window (net of
//! refunds, never the balance), upgraded at once, downgraded as the program says; a move
//! is recorded (the timeline shows it) and the customer is told by e-mail in their
//! language.

use std::collections::HashMap;

use nunchi_core::{
    identity::IdentityKind,
    loyalty::{
        Ledger, Program, TierBasis,
        tiers::{SpendLine, spend_measure},
    },
};
use nunchi_store::{Store, model::TierChange};

use crate::jobs::Job;

const DAY_MS: i64 = 86_400_000;

/// Points earned over the program's window, net of refunds, without the excluded
/// products and categories.
pub fn points_measure(program: &Program, ledger: &Ledger, now: i64) -> i64 {
    ledger.tier_points(
        now,
        program.tier_window_days,
        &program.tier_excluded_products,
        &program.tier_excluded_categories,
    )
}

/// The tier `measure` (points or spend, as the program counts) reaches now, for a customer
/// holding `current` since `since`; with the measure, for the record.
pub fn decide(
    program: &Program,
    measure: i64,
    current: Option<&str>,
    since: Option<i64>,
    now: i64,
) -> (Option<String>, i64) {
    let tier = nunchi_core::loyalty::tiers::decide(
        &program.tiers,
        current,
        since,
        measure,
        program.downgrade,
        program.downgrade_days,
        now,
    );
    (tier.map(|t| t.key.clone()), measure)
}

/// What tiers are measured on, per customer: one customer's, or everyone's with a ledger
/// or (on spend) an order in the window.
async fn measures(
    store: &dyn Store,
    program: &Program,
    customer: Option<i64>,
    now: i64,
) -> nunchi_store::StoreResult<HashMap<i64, i64>> {
    match program.tier_basis {
        TierBasis::Points => Ok(match customer {
            Some(c) => {
                let ledger = store.loyalty_ledger(c).await?;
                HashMap::from([(c, points_measure(program, &ledger, now))])
            }
            None => store
                .all_loyalty_ledgers()
                .await?
                .into_iter()
                .map(|(c, l)| (c, points_measure(program, &l, now)))
                .collect(),
        }),
        TierBasis::Spend => {
            let from = now - program.tier_window_days * DAY_MS;
            let mut lines: HashMap<i64, Vec<SpendLine>> = HashMap::new();
            for (c, line) in store
                .spend_lines(customer, from, now, &program.currency)
                .await?
            {
                lines.entry(c).or_default().push(line);
            }
            let mut out: HashMap<i64, i64> = lines
                .into_iter()
                .map(|(c, l)| {
                    let spent = spend_measure(
                        &l,
                        &program.tier_excluded_products,
                        &program.tier_excluded_categories,
                    );
                    (c, spent)
                })
                .collect();
            if let Some(c) = customer {
                out.entry(c).or_insert(0);
            }
            Ok(out)
        }
    }
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
    let measure = measures(store, program, Some(customer_id), now)
        .await?
        .get(&customer_id)
        .copied()
        .unwrap_or(0);
    let kept = store.loyalty_points(customer_id).await?;
    let (tier, measure) = decide(program, measure, kept.tier.as_deref(), kept.tier_since, now);
    Ok(
        move_tiers(store, program, &[(customer_id, tier, measure)], now)
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
    let held: HashMap<i64, (Option<String>, Option<i64>)> = store
        .loyalty_tiers_held()
        .await?
        .into_iter()
        .map(|(c, tier, since)| (c, (tier, since)))
        .collect();
    let measured = measures(store, program, None, now).await?;
    let mut customers: Vec<i64> = held.keys().chain(measured.keys()).copied().collect();
    customers.sort_unstable();
    customers.dedup();
    let moves: Vec<(i64, Option<String>, i64)> = customers
        .into_iter()
        .filter_map(|c| {
            let (tier, since) = held.get(&c).cloned().unwrap_or_default();
            let measure = measured.get(&c).copied().unwrap_or(0);
            let (wanted, measure) = decide(program, measure, tier.as_deref(), since, now);
            (wanted != tier).then_some((c, wanted, measure))
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
    let days = program.tier_window_days;
    let from_name = from_name.unwrap_or_default();
    // What was measured, as the customer reads it: points, or money spent.
    let (measured_ko, measured_en) = match program.tier_basis {
        TierBasis::Points => (
            format!("{} 포인트를 모으셨고", change.points),
            format!("you earned {} points", change.points),
        ),
        TierBasis::Spend => {
            let spent = nunchi_core::money::Currency::parse(&program.currency)
                .map(|c| nunchi_core::money::Money::new(change.points, c).display())
                .unwrap_or_else(|_| change.points.to_string());
            (
                format!("{spent}을 구매하셨고"),
                format!("you spent {spent}"),
            )
        }
    };
    let (subject, text) = match (ko, up) {
        (true, true) => (
            format!("{to_name} 등급이 되셨어요"),
            format!(
                "지난 {days}일 동안 {measured_ko} {to_name} 등급이 되셨습니다. 늘 찾아 주셔서 감사합니다."
            ),
        ),
        (true, false) => (
            format!("회원 등급이 {to_name}(으)로 바뀌었어요"),
            format!(
                "지난 {days}일 동안 {measured_ko} {from_name}에서 {to_name} 등급으로 바뀌었습니다. 다시 이용하시면 언제든 올라갑니다."
            ),
        ),
        (false, true) => (
            format!("Welcome to {to_name}"),
            format!(
                "Over the last {days} days {measured_en} and reached {to_name}. Thank you for staying with us."
            ),
        ),
        (false, false) => (
            format!("Your tier is now {to_name}"),
            format!(
                "Over the last {days} days {measured_en}, so your tier moved from {from_name} to {to_name}. Shop again to move back up."
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
