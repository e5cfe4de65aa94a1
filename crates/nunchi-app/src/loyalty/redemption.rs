//! Spending points, as a shop's checkout or a point of sale calls it: a quote (what the
//! points are worth and whether the balance covers them), then a commit that is
//! idempotent on the caller's own id, so a retried request never spends twice. Staff
//! adjustments with a reason go through here too, into the audit log.

use nunchi_core::{
    access::Permission,
    loyalty::{EntryKind, Op, ledger::LedgerError, reward::Reward},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

const MAX_POINTS: i64 = 1_000_000_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    pub points: i64,
    pub balance: i64,
    pub balance_after: i64,
    /// What the points pay for, in minor units of `currency`.
    pub value_minor: i64,
    pub currency: String,
    /// Whether the balance (and any credit line) covers them.
    pub allowed: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RedemptionInput {
    /// The caller's id for this redemption: sending it again commits nothing more.
    pub id: String,
    /// Points to spend (store credit); left out when taking a reward, whose price it is.
    #[serde(default)]
    pub points: i64,
    /// A reward from the catalogue to take (one, lowering its stock).
    #[serde(default)]
    pub reward_id: Option<i64>,
    /// The order the points pay for: refunding it returns them.
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Redemption {
    /// The ledger entry.
    pub entry_id: i64,
    pub id: String,
    pub points: i64,
    pub reward_id: Option<i64>,
    pub value_minor: i64,
    pub currency: String,
    pub balance_after: i64,
    /// False when this id had already been committed and nothing more was spent.
    pub created: bool,
}

fn check_points(points: i64) -> Result<()> {
    if !(1..=MAX_POINTS).contains(&points) {
        return Err(Error::invalid(
            "invalid_points",
            "points must be a whole number from 1 to 1,000,000,000",
        ));
    }
    Ok(())
}

pub async fn quote(app: &App, actor: &Actor, customer_id: i64, points: i64) -> Result<Quote> {
    if !actor.can(Permission::PointsWrite) {
        return Err(Error::Forbidden);
    }
    check_points(points)?;
    app.store.customer(customer_id).await?;
    let program = app.store.loyalty_program().await?;
    let balance = app
        .store
        .loyalty_points(customer_id)
        .await?
        .balance(app.now());
    Ok(Quote {
        points,
        balance,
        balance_after: balance - points,
        value_minor: points.saturating_mul(program.point_value_minor),
        currency: program.currency,
        allowed: points <= balance + program.credit_limit,
    })
}

pub async fn redeem(
    app: &App,
    actor: &Actor,
    customer_id: i64,
    input: &RedemptionInput,
) -> Result<Redemption> {
    if !actor.can(Permission::PointsWrite) {
        return Err(Error::Forbidden);
    }
    if input.reward_id.is_none() {
        check_points(input.points)?;
    }
    let id = crate::error::required_text(
        &input.id,
        200,
        "invalid_id",
        "give the redemption your own id (1–200 characters)",
    )?;
    let order_ref = match input.order_id.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(o) if o.chars().count() > 200 => {
            return Err(Error::invalid(
                "invalid_order_id",
                "an order id is at most 200 characters",
            ));
        }
        Some(o) => Some(o.to_string()),
    };
    if input.reason.chars().count() > 500 {
        return Err(Error::invalid(
            "invalid_reason",
            "a reason is at most 500 characters",
        ));
    }
    app.store.customer(customer_id).await?;
    let program = app.store.loyalty_program().await?;
    if !program.enabled {
        return Err(Error::Conflict(
            "the loyalty program is switched off".into(),
        ));
    }
    let key = format!("redeem:{id}");
    let created = match input.reward_id {
        Some(reward) => {
            let place = (customer_id, reward, key.as_str(), order_ref.as_deref());
            take_reward(app, actor, place, program.credit_limit).await?
        }
        None => {
            let op = Op::Spend {
                key: key.clone(),
                points: input.points,
                order_ref,
                credit_limit: program.credit_limit,
                reason: input.reason.trim().to_string(),
            };
            let result = app
                .store
                .post_loyalty(&[(customer_id, op)], &actor.label)
                .await?
                .remove(0);
            !result.map_err(refusal)?.is_empty()
        }
    };
    let entry = app
        .store
        .loyalty_entry_by_key(customer_id, &key)
        .await?
        .filter(|e| e.kind == EntryKind::Spend)
        .ok_or_else(|| {
            Error::Conflict(format!(
                "the redemption id {id:?} was used for another customer"
            ))
        })?;
    let points = -entry.points;
    if input.reward_id.is_none() && points != input.points {
        return Err(Error::Conflict(format!(
            "the redemption id {id:?} was already used for {points} points"
        )));
    }
    let balance_after = app
        .store
        .loyalty_points(customer_id)
        .await?
        .balance(app.now());
    if created {
        app.audit_by(
            actor,
            "loyalty.points_redeemed",
            &format!("customer:{customer_id}"),
            &format!("{points} points, id {id}, {}", entry.reason),
        )
        .await;
    }
    app.touched([customer_id]);
    Ok(Redemption {
        entry_id: entry.id,
        id: id.to_string(),
        points,
        reward_id: input.reward_id,
        value_minor: points.saturating_mul(program.point_value_minor),
        currency: program.currency,
        balance_after,
        created,
    })
}

/// Why the ledger refused a spend, as the caller is told.
fn refusal(e: LedgerError) -> Error {
    match e {
        LedgerError::Insufficient { points, available } => Error::Conflict(format!(
            "not enough points: {points} asked for, {available} available"
        )),
        e => Error::invalid("invalid_points", e.to_string()),
    }
}

/// Takes one of a reward for (customer, reward, key, order); whether this call took it
/// (false: the key already had).
async fn take_reward(
    app: &App,
    actor: &Actor,
    (customer_id, reward_id, key, order_ref): (i64, i64, &str, Option<&str>),
    credit_limit: i64,
) -> Result<bool> {
    use nunchi_store::model::RewardOutcome;
    match app
        .store
        .redeem_reward(
            customer_id,
            reward_id,
            key,
            order_ref,
            credit_limit,
            &actor.label,
        )
        .await?
    {
        RewardOutcome::Taken(_) => Ok(true),
        RewardOutcome::AlreadyTaken => Ok(false),
        RewardOutcome::Unavailable => Err(Error::Conflict(format!(
            "reward {reward_id} is not available: switched off, out of stock or unknown"
        ))),
        RewardOutcome::Refused(e) => Err(refusal(e)),
    }
}

/// Adds (`id` 0) or replaces a reward in the catalogue.
pub async fn save_reward(app: &App, actor: &Actor, reward: Reward) -> Result<i64> {
    if !actor.can(Permission::LoyaltyManage) {
        return Err(Error::Forbidden);
    }
    let reward = reward.checked()?;
    let id = app.store.save_loyalty_reward(&reward).await?;
    let detail = format!(
        "{} · {} points · stock {:?} · active={}",
        reward.name_ko, reward.points, reward.stock, reward.active
    );
    app.audit_by(
        actor,
        "loyalty.reward_saved",
        &format!("loyalty_reward:{id}"),
        &detail,
    )
    .await;
    Ok(id)
}

/// Switches a reward on or off.
pub async fn set_reward_active(app: &App, actor: &Actor, id: i64, active: bool) -> Result<()> {
    let mut reward = app
        .store
        .loyalty_rewards()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::NotFound(format!("reward {id}")))?;
    reward.active = active;
    save_reward(app, actor, reward).await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AdjustmentInput {
    /// Points to add (positive) or remove (negative).
    pub points: i64,
    /// Why: kept on the entry and in the audit log.
    pub reason: String,
}

/// A manual adjustment by staff; points added expire like earned ones.
pub async fn adjust(
    app: &App,
    actor: &Actor,
    customer_id: i64,
    input: &AdjustmentInput,
) -> Result<i64> {
    if !actor.can(Permission::LoyaltyManage) {
        return Err(Error::Forbidden);
    }
    if input.points == 0 || input.points.abs() > MAX_POINTS {
        return Err(Error::invalid(
            "invalid_points",
            "add or remove from 1 to 1,000,000,000 points",
        ));
    }
    let reason = crate::error::required_text(
        &input.reason,
        500,
        "invalid_reason",
        "say why in 1–500 characters",
    )?;
    app.store.customer(customer_id).await?;
    let program = app.store.loyalty_program().await?;
    let now = app.now();
    let op = Op::Adjust {
        key: format!("adjust:{}", crate::secret::random_token()),
        points: input.points,
        reason: reason.to_string(),
        expires_at: program.expires_at(now),
    };
    // Planned at the `now` the balance below is read at, so the points added count in it.
    match app
        .store
        .post_loyalty_at(&[(customer_id, op)], &actor.label, now)
        .await?
        .remove(0)
    {
        Ok(_) => {}
        Err(LedgerError::Insufficient { available, .. }) => {
            return Err(Error::Conflict(format!(
                "only {available} points can be removed: that is the balance"
            )));
        }
        Err(e) => return Err(Error::invalid("invalid_points", e.to_string())),
    }
    app.touched([customer_id]);
    app.audit_by(
        actor,
        "loyalty.points_adjusted",
        &format!("customer:{customer_id}"),
        &format!("{:+} points: {reason}", input.points),
    )
    .await;
    super::tiers::evaluate(app.store.as_ref(), &program, customer_id, now).await?;
    Ok(app.store.loyalty_points(customer_id).await?.balance(now))
}
