//! The loyalty program as operations: its settings and earn rules (managers), a
//! customer's points as the contract shows them, and the program's liabilities. Earning
//! follows orders (`earning`), redemption and adjustments are `redemption`, and the
//! scheduled work (expiry, notices, tier sweeps) is `keeper`.

pub mod earning;
pub mod keeper;
pub mod redemption;
pub mod slow_movers;
pub mod tiers;

use nunchi_core::{
    access::Permission,
    loyalty::{Program, earn::EarnRule, tiers::Tier},
};
use nunchi_store::model::LoyaltySummary;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

const DAY_MS: i64 = 86_400_000;

pub async fn program(app: &App) -> Result<Program> {
    Ok(app.store.loyalty_program().await?)
}

/// Saves the program's settings (tiers included) after checking every number.
pub async fn save_program(app: &App, actor: &Actor, program: Program) -> Result<Program> {
    if !actor.can(Permission::LoyaltyManage) {
        return Err(Error::Forbidden);
    }
    let program = program.checked()?;
    app.store.set_loyalty_program(&program).await?;
    let detail = format!(
        "enabled={} return_days={} validity_days={} refund_policy={} tiers={}",
        program.enabled,
        program.return_days,
        program.validity_days,
        program.refund_policy,
        program
            .tiers
            .iter()
            .map(|t| format!("{}≥{}", t.key, t.threshold))
            .collect::<Vec<_>>()
            .join(",")
    );
    app.audit_by(actor, "loyalty.program_saved", "loyalty", &detail)
        .await;
    Ok(program)
}

pub async fn rules(app: &App) -> Result<Vec<EarnRule>> {
    Ok(app.store.loyalty_rules().await?)
}

/// Adds (`id` 0) or replaces an earn rule; one that would award the same purchase twice
/// with another rule is refused as a conflict naming that rule.
pub async fn save_rule(app: &App, actor: &Actor, rule: EarnRule) -> Result<i64> {
    if !actor.can(Permission::LoyaltyManage) {
        return Err(Error::Forbidden);
    }
    let rule = rule.checked()?;
    let id = app.store.save_loyalty_rule(&rule).await?;
    let detail = format!(
        "{} {} {}={} active={}",
        rule.name,
        rule.kind,
        rule.scope,
        rule.scope_values.join("|"),
        rule.active
    );
    app.audit_by(
        actor,
        "loyalty.rule_saved",
        &format!("loyalty_rule:{id}"),
        &detail,
    )
    .await;
    Ok(id)
}

/// Switches an earn rule on or off (checked again: a rule switched on must not double-award).
pub async fn set_rule_active(app: &App, actor: &Actor, id: i64, active: bool) -> Result<()> {
    let mut rule = app
        .store
        .loyalty_rules()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::NotFound(format!("loyalty rule {id}")))?;
    rule.active = active;
    save_rule(app, actor, rule).await?;
    Ok(())
}

/// A customer's ledger entries, newest first, each debit with the lots it drew from.
pub async fn customer_entries(
    app: &App,
    actor: &Actor,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<nunchi_store::model::LoyaltyEntry>> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    app.store.customer(customer_id).await?;
    Ok(app.store.loyalty_entries(customer_id, limit).await?)
}

/// The reward catalogue, in the order rewards were added.
pub async fn rewards(app: &App) -> Result<Vec<nunchi_core::loyalty::reward::Reward>> {
    Ok(app.store.loyalty_rewards().await?)
}

/// One lot as the contract shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotView {
    pub amount: i64,
    pub remaining: i64,
    /// Unix ms; absent when the points never expire.
    pub expires_at: Option<i64>,
    /// Unix ms when the points become spendable (after the return window).
    pub available_at: i64,
}

/// A customer's points: `GET /api/v1/customers/{id}/points`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerPoints {
    /// Spendable now (negative when refunds took back points already spent).
    pub balance: i64,
    /// Still inside their order's return window.
    pub pending: i64,
    /// The tier's key, absent when the program has no tiers or none is reached.
    pub tier: Option<String>,
    /// Lots with points left, the soonest to expire first.
    pub lots: Vec<LotView>,
    pub tier_since: Option<i64>,
    /// Points that expire within the program's notice period unless spent.
    pub expiring_soon: i64,
    /// What the balance is worth, in minor units of the program's currency.
    pub value_minor: i64,
    pub currency: String,
}

pub async fn customer_points(app: &App, actor: &Actor, customer_id: i64) -> Result<CustomerPoints> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    app.store.customer(customer_id).await?;
    let program = app.store.loyalty_program().await?;
    let kept = app.store.loyalty_points(customer_id).await?;
    let now = app.now();
    let notice_until = now + program.expiry_notice_days.max(1) * DAY_MS;
    let mut lots: Vec<LotView> = kept
        .lots
        .iter()
        .filter(|l| l.remaining > 0 && l.expires_at.is_none_or(|e| e > now))
        .map(|l| LotView {
            amount: l.amount,
            remaining: l.remaining,
            expires_at: l.expires_at,
            available_at: l.available_at,
        })
        .collect();
    lots.sort_by_key(|l| (l.expires_at.unwrap_or(i64::MAX), l.available_at));
    let balance = kept.balance(now);
    Ok(CustomerPoints {
        balance,
        pending: kept.pending(now),
        expiring_soon: lots
            .iter()
            .filter(|l| l.expires_at.is_some_and(|e| e <= notice_until))
            .map(|l| l.remaining)
            .sum(),
        tier: kept.tier,
        tier_since: kept.tier_since,
        lots,
        value_minor: balance.saturating_mul(program.point_value_minor),
        currency: program.currency,
    })
}

/// The tier named `key` in the program, for showing its names.
pub fn tier_named<'a>(program: &'a Program, key: Option<&str>) -> Option<&'a Tier> {
    key.and_then(|k| program.tiers.iter().find(|t| t.key == k))
}

/// The program's liabilities: points outstanding and their value, pending, expiring.
pub async fn summary(app: &App, actor: &Actor) -> Result<LoyaltySummary> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.loyalty_summary(app.now()).await?)
}
