//! Slow movers for the manager: products whose sales slowed against their own history
//! (`nunchi_core::loyalty::slow_movers`), each marked when a bonus already covers it, and
//! accepting one as a product multiplier for the coming weeks.

use nunchi_core::{
    access::Permission,
    loyalty::{
        earn::{EarnRule, RuleKind, ScopeKind},
        slow_movers::{self, SlowMover},
    },
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Proposal {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub mover: SlowMover,
    /// An active product multiplier already covers it now.
    pub boosted: bool,
}

pub async fn propose(app: &App, actor: &Actor) -> Result<Vec<Proposal>> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    let now = app.now();
    let sales = app
        .store
        .product_sales(slow_movers::recent_since(now))
        .await?;
    let rules = app.store.loyalty_rules().await?;
    let boosted = |product: &str| {
        rules.iter().any(|r| {
            r.active
                && r.kind == RuleKind::Multiplier
                && r.scope == ScopeKind::Product
                && r.scope_values.iter().any(|v| v == product)
                && r.starts_at.is_none_or(|s| s <= now)
                && r.ends_at.is_none_or(|e| e > now)
        })
    };
    Ok(slow_movers::propose(&sales, now)
        .into_iter()
        .map(|mover| Proposal {
            boosted: boosted(&mover.product),
            mover,
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Acceptance {
    pub product: String,
    /// The multiplier, 200 doubling the base (the default).
    #[serde(default = "double")]
    pub percent: i64,
    /// How many days from today the bonus runs (30 by default).
    #[serde(default = "month")]
    pub days: i64,
}

fn double() -> i64 {
    200
}

fn month() -> i64 {
    30
}

/// Accepts a proposal: a product multiplier from now for `days` (refused when another
/// bonus for the product overlaps).
pub async fn accept(app: &App, actor: &Actor, a: &Acceptance) -> Result<i64> {
    if !(1..=365).contains(&a.days) {
        return Err(Error::invalid(
            "invalid_days",
            "a bonus runs from 1 to 365 days",
        ));
    }
    let product =
        crate::error::required_text(&a.product, 200, "invalid_product", "name the product")?;
    let now = app.now();
    let name = format!("재고 소진 ×{:.1} · {product}", a.percent as f64 / 100.0);
    let rule = EarnRule {
        starts_at: Some(now),
        ends_at: Some(now + a.days * DAY_MS),
        ..EarnRule::multiplier(&name, a.percent, ScopeKind::Product, &[product])
    };
    super::save_rule(app, actor, rule).await
}
