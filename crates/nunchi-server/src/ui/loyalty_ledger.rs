//! A customer's points page: balance, pending and tier, what is left of each credit, every
//! ledger entry with the lots it drew from, tier changes, and the adjustment form for
//! managers (the same operation as `POST /api/v1/customers/{id}/points/adjustments`).

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::loyalty::{self, redemption};
use nunchi_core::access::Permission;
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, count, fmt_time, lang_of, loyalty::kind_label, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    extract::ApiPath,
    i18n::Lang,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/points", get(page))
        .route("/customers/{id}/points/adjust", post(adjust))
}

struct LotRow {
    amount: String,
    remaining: String,
    available: String,
    expires: String,
}

struct EntryRow {
    when: String,
    kind: &'static str,
    points: String,
    credit: bool,
    order: String,
    reason: String,
    by: String,
    drew_from: String,
}

#[derive(Template)]
#[template(path = "customer_points.html")]
struct Page {
    chrome: Chrome,
    id: i64,
    name: String,
    figures: Vec<(&'static str, String)>,
    lots: Vec<LotRow>,
    entries: Vec<EntryRow>,
    tier_moves: Vec<(String, String)>,
    can_manage: bool,
}

async fn page(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let ko = lang_of(&auth) == Lang::Ko;
    let actor = auth.as_actor();
    let mut c = state.store.customer(id).await?;
    if !auth.can(Permission::ViewPii) {
        nunchi_app::privacy::mask_customer(&mut c);
    }
    let program = loyalty::program(&state).await?;
    let points = loyalty::customer_points(&state, &actor, id).await?;
    let tier_label = |key: Option<&str>| {
        loyalty::tier_named(&program, key)
            .map(|x| super::loyalty::tier_name(ko, x))
            .unwrap_or_else(|| key.unwrap_or("—").to_string())
    };
    let figures = vec![
        (
            t.loy_balance,
            format!(
                "{} P · {}",
                count(&points.balance),
                super::fmt_money(points.value_minor, &points.currency)
            ),
        ),
        (t.loy_pending, format!("{} P", count(&points.pending))),
        (
            t.loy_expiring,
            format!("{} P", count(&points.expiring_soon)),
        ),
        (t.loy_tier, tier_label(points.tier.as_deref())),
    ];
    let day = |ms: i64| fmt_time(ms)[..10].to_string();
    let lots = points
        .lots
        .iter()
        .map(|l| LotRow {
            amount: count(&l.amount),
            remaining: count(&l.remaining),
            available: day(l.available_at),
            expires: l.expires_at.map(day).unwrap_or_else(|| t.loy_never.into()),
        })
        .collect();
    let entries = loyalty::customer_entries(&state, &actor, id, 500)
        .await?
        .into_iter()
        .map(|e| {
            let mut drew: Vec<String> = e
                .draws
                .iter()
                .map(|d| match d.lot {
                    Some(lot) => format!("#{lot} {}", count(&d.points)),
                    None => format!("{} {}", t.loy_debt_draw, count(&d.points)),
                })
                .collect();
            if e.row.waived > 0 {
                drew.push(format!("{} {}", count(&e.row.waived), t.loy_waived));
            }
            EntryRow {
                when: fmt_time(e.row.created_at),
                kind: kind_label(t, e.row.kind),
                credit: e.row.points > 0,
                points: format!(
                    "{}{}",
                    if e.row.points > 0 { "+" } else { "" },
                    count(&e.row.points)
                ),
                order: e.row.order_ref.unwrap_or_default(),
                reason: e.row.reason,
                by: e.row.actor,
                drew_from: drew.join(", "),
            }
        })
        .collect();
    let tier_moves = state
        .store
        .loyalty_tier_changes(id)
        .await?
        .into_iter()
        .map(|m| {
            (
                fmt_time(m.at),
                format!(
                    "{} → {} ({} P)",
                    tier_label(m.from_tier.as_deref()),
                    tier_label(m.to_tier.as_deref()),
                    count(&m.points)
                ),
            )
        })
        .collect();
    Ok(render(Page {
        chrome: Chrome::new(&auth, "/loyalty", t.loy_ledger),
        id,
        name: c.row.name.clone().unwrap_or_else(|| format!("#{id}")),
        figures,
        lots,
        entries,
        tier_moves,
        can_manage: auth.can(Permission::LoyaltyManage),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct AdjustForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    reason: String,
}

async fn adjust(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<AdjustForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let points = f.points.trim().parse().map_err(|_| {
        crate::error::AppError::bad_request("invalid_points", "points: write a whole number")
    })?;
    let input = redemption::AdjustmentInput {
        points,
        reason: f.reason,
    };
    redemption::adjust(&state, &auth.as_actor(), id, &input).await?;
    Ok(Redirect::to(&format!("/customers/{id}/points")).into_response())
}
