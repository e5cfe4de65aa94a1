//! The loyalty program page: liabilities (points outstanding and their worth, pending,
//! expiring, owed), members per tier as a chart, the program's settings with its tier
//! ladder, and the earn rules with a form to add one — all through `nunchi_app::loyalty`,
//! as the API does.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::loyalty::{self, redemption};
use nunchi_charts as charts;
use nunchi_core::{
    access::Permission,
    loyalty::{
        Downgrade, Program, RefundPolicy, TierBasis,
        earn::{EarnRule, RuleKind, ScopeKind},
        reward::Reward,
        tiers::Tier,
    },
    money::{Currency, Money},
    time::Millis,
};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiNeed, UiResult, count, fmt_money, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::ApiPath,
    i18n::Strings,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/loyalty", get(page))
        .route("/loyalty/program", post(save_program))
        .route("/loyalty/rules", post(add_rule))
        .route("/loyalty/rules/{id}/toggle", post(toggle_rule))
        .route("/loyalty/rewards", post(add_reward))
        .route("/loyalty/rewards/{id}/toggle", post(toggle_reward))
        .route("/loyalty/slow-movers/accept", post(accept_slow_mover))
}

pub fn kind_label(t: &Strings, kind: nunchi_core::loyalty::EntryKind) -> &'static str {
    use nunchi_core::loyalty::EntryKind::*;
    match kind {
        Earn => t.loy_kind_earn,
        Adjust => t.loy_kind_adjust,
        Return => t.loy_kind_return,
        Spend => t.loy_kind_spend,
        Expire => t.loy_kind_expire,
        Reverse => t.loy_kind_reverse,
        Settle => t.loy_kind_settle,
    }
}

fn scope_label(t: &Strings, s: ScopeKind) -> &'static str {
    match s {
        ScopeKind::All => t.loy_scope_all,
        ScopeKind::Product => t.loy_scope_product,
        ScopeKind::Category => t.loy_scope_category,
        ScopeKind::Channel => t.loy_scope_channel,
        ScopeKind::Tier => t.loy_scope_tier,
    }
}

fn policy_label(t: &Strings, p: RefundPolicy) -> &'static str {
    match p {
        RefundPolicy::ClawBack => t.loy_policy_claw_back,
        RefundPolicy::NegativeBalance => t.loy_policy_negative_balance,
    }
}

fn downgrade_label(t: &Strings, d: Downgrade) -> &'static str {
    match d {
        Downgrade::Never => t.loy_downgrade_never,
        Downgrade::Automatic => t.loy_downgrade_automatic,
        Downgrade::AfterDays => t.loy_downgrade_after_days,
    }
}

/// A tier's name in the reader's language.
pub fn tier_name(ko: bool, tier: &Tier) -> String {
    if ko {
        tier.name_ko.clone()
    } else {
        tier.name_en.clone()
    }
}

struct SlowRow {
    product: String,
    category: String,
    age_weeks: String,
    pace: String,
    last_sold: String,
    boosted: bool,
}

struct RewardRow {
    id: i64,
    name: String,
    points: String,
    stock: String,
    active: bool,
}

struct RuleRow {
    id: i64,
    name: String,
    rate: String,
    scope: String,
    window: String,
    active: bool,
}

fn date_of(ms: Option<i64>) -> String {
    ms.map(|m| Millis(m).to_rfc3339()[..10].to_string())
        .unwrap_or_default()
}

fn rule_row(t: &Strings, r: &EarnRule) -> RuleRow {
    let rate = match r.kind {
        RuleKind::Base => format!(
            "{} P / {}",
            count(&r.points),
            fmt_money(r.per_minor, &r.currency)
        ),
        RuleKind::Multiplier => format!("× {:.2}", r.percent as f64 / 100.0),
    };
    let window = match (r.starts_at, r.ends_at) {
        (None, None) => t.loy_rule_always.to_string(),
        (s, e) => format!("{} – {}", date_of(s), date_of(e)),
    };
    RuleRow {
        id: r.id,
        name: r.name.clone(),
        rate,
        scope: if r.scope == ScopeKind::All {
            scope_label(t, r.scope).to_string()
        } else {
            format!("{}: {}", scope_label(t, r.scope), r.scope_values.join(", "))
        },
        window,
        active: r.active,
    }
}

#[derive(Template)]
#[template(path = "loyalty.html")]
struct Page {
    chrome: Chrome,
    p: Program,
    figures: Vec<(&'static str, String)>,
    movements: Vec<(&'static str, String)>,
    tiers_svg: String,
    tiers_text: String,
    rules: Vec<RuleRow>,
    rewards: Vec<RewardRow>,
    slow: Vec<SlowRow>,
    can_manage: bool,
    policies: Vec<(&'static str, &'static str)>,
    downgrades: Vec<(&'static str, &'static str)>,
    bases: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    scopes: Vec<(&'static str, &'static str)>,
}

async fn page(State(state): State<AppState>, auth: UiNeed<perm::CustomersRead>) -> UiResult {
    let t = lang_of(&auth).strings();
    let ko = lang_of(&auth) == crate::i18n::Lang::Ko;
    let actor = auth.as_actor();
    let p = loyalty::program(&state).await?;
    let s = loyalty::summary(&state, &actor).await?;
    let rules = loyalty::rules(&state).await?;
    let rewards = loyalty::rewards(&state)
        .await?
        .into_iter()
        .map(|r| RewardRow {
            id: r.id,
            name: r.name(ko).to_string(),
            points: format!("{} P", count(&r.points)),
            stock: r
                .stock
                .map(|n| count(&n))
                .unwrap_or_else(|| t.loy_reward_unlimited.into()),
            active: r.active,
        })
        .collect();
    let slow = nunchi_app::loyalty::slow_movers::propose(&state, &actor)
        .await?
        .into_iter()
        .map(|p| SlowRow {
            age_weeks: format!("{:.0}", p.mover.age_weeks),
            pace: format!(
                "{:.1} → {:.1} ({:.0}%)",
                p.mover.per_week_lifetime,
                p.mover.per_week_recent,
                p.mover.ratio * 100.0
            ),
            last_sold: super::fmt_time(p.mover.last_sold_at)[..10].to_string(),
            boosted: p.boosted,
            product: p.mover.product,
            category: p.mover.category,
        })
        .collect();
    let worth = |points: i64| fmt_money(points.saturating_mul(p.point_value_minor), &p.currency);
    let figures = vec![
        (t.loy_members, count(&s.members)),
        (
            t.loy_outstanding,
            format!("{} P · {}", count(&s.outstanding), worth(s.outstanding)),
        ),
        (t.loy_pending, format!("{} P", count(&s.pending))),
        (t.loy_expiring, format!("{} P", count(&s.expiring_soon))),
        (t.loy_debt, format!("{} P", count(&s.debt))),
    ];
    let m = s.totals;
    let movements = vec![
        (t.loy_earned, count(&m.earned)),
        (t.loy_returned, count(&m.returned)),
        (t.loy_adjusted_up, count(&m.adjusted_up)),
        (t.loy_spent, count(&m.spent)),
        (t.loy_expired, count(&m.expired)),
        (t.loy_reversed, count(&m.reversed)),
        (t.loy_adjusted_down, count(&m.adjusted_down)),
    ];
    let members_in = |key: Option<&str>| {
        s.tiers
            .iter()
            .filter(|(k, _)| k.as_deref() == key)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let mut bars: Vec<charts::Bar> = vec![];
    let no_tier = members_in(None);
    if no_tier > 0 || p.tiers.is_empty() {
        bars.push(charts::Bar {
            label: t.loy_no_tier.into(),
            value: no_tier as f64,
            shown: count(&no_tier),
        });
    }
    for tier in &p.tiers {
        let n = members_in(Some(&tier.key));
        bars.push(charts::Bar {
            label: tier_name(ko, tier),
            value: n as f64,
            shown: count(&n),
        });
    }
    let tiers_text = p
        .tiers
        .iter()
        .map(|x| {
            format!(
                "{} | {} | {} | {}",
                x.key, x.name_ko, x.name_en, x.threshold
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let empty = if s.members == 0 { t.empty_list } else { "" };
    Ok(render(Page {
        chrome: Chrome::new(&auth, "/loyalty", t.nav_loyalty),
        tiers_svg: if s.members == 0 {
            String::new()
        } else {
            charts::bar_chart(t.loy_tiers_chart, &bars, empty)
        },
        tiers_text,
        figures,
        movements,
        rules: rules.iter().map(|r| rule_row(t, r)).collect(),
        rewards,
        slow,
        can_manage: auth.can(Permission::LoyaltyManage),
        policies: RefundPolicy::ALL
            .iter()
            .map(|x| (x.as_str(), policy_label(t, *x)))
            .collect(),
        downgrades: Downgrade::ALL
            .iter()
            .map(|x| (x.as_str(), downgrade_label(t, *x)))
            .collect(),
        bases: vec![
            (TierBasis::Points.as_str(), t.loy_basis_points),
            (TierBasis::Spend.as_str(), t.loy_basis_spend),
        ],
        kinds: vec![
            (RuleKind::Base.as_str(), t.loy_kind_base),
            (RuleKind::Multiplier.as_str(), t.loy_kind_multiplier),
        ],
        scopes: ScopeKind::ALL
            .iter()
            .map(|x| (x.as_str(), scope_label(t, *x)))
            .collect(),
        p,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct ProgramForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    return_days: String,
    #[serde(default)]
    validity_days: String,
    #[serde(default)]
    refund_policy: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    point_value_minor: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    tier_window_days: String,
    #[serde(default)]
    tier_basis: String,
    #[serde(default)]
    downgrade: String,
    #[serde(default)]
    downgrade_days: String,
    #[serde(default)]
    excluded_products: String,
    #[serde(default)]
    excluded_categories: String,
    #[serde(default)]
    expiry_notice_days: String,
    #[serde(default)]
    tiers: String,
}

/// A whole number typed into a form, named in the error.
fn whole(field: &str, text: &str) -> Result<i64, AppError> {
    text.trim().parse().map_err(|_| {
        AppError::bad_request(
            &format!("invalid_{field}"),
            format!("{field}: {:?} is not a whole number", text.trim()),
        )
    })
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `key | Korean | English | points` per line.
fn parse_tiers(text: &str) -> Result<Vec<Tier>, AppError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            let bad = || {
                AppError::bad_request(
                    "invalid_tiers",
                    format!(
                        "tier line {}: write key | Korean name | English name | points",
                        i + 1
                    ),
                )
            };
            let [key, ko, en, points] = parts[..] else {
                return Err(bad());
            };
            Ok(Tier {
                key: key.into(),
                name_ko: ko.into(),
                name_en: en.into(),
                threshold: points.replace(',', "").parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

async fn save_program(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    Form(f): Form<ProgramForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let program = Program {
        enabled: f.enabled.is_some(),
        return_days: whole("return_days", &f.return_days)?,
        validity_days: whole("validity_days", &f.validity_days)?,
        refund_policy: RefundPolicy::parse(&f.refund_policy)?,
        credit_limit: whole("credit_limit", &f.credit_limit)?,
        point_value_minor: whole("point_value_minor", &f.point_value_minor)?,
        currency: f.currency,
        tier_window_days: whole("tier_window_days", &f.tier_window_days)?,
        tier_basis: if f.tier_basis.trim().is_empty() {
            TierBasis::Points
        } else {
            TierBasis::parse(&f.tier_basis)?
        },
        downgrade: Downgrade::parse(&f.downgrade)?,
        downgrade_days: whole("downgrade_days", &f.downgrade_days)?,
        tier_excluded_products: list(&f.excluded_products),
        tier_excluded_categories: list(&f.excluded_categories),
        expiry_notice_days: whole("expiry_notice_days", &f.expiry_notice_days)?,
        tiers: parse_tiers(&f.tiers)?,
    };
    loyalty::save_program(&state, &auth.as_actor(), program).await?;
    Ok(Redirect::to("/loyalty").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    per: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    percent: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    scope_values: String,
    #[serde(default)]
    starts: String,
    #[serde(default)]
    ends: String,
}

/// A date field as the start of that day in the brand's time zone.
fn day_start(state: &AppState, field: &str, text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        AppError::bad_request(
            &format!("invalid_{field}"),
            format!("{field}: {text:?} is not a date"),
        )
    };
    let date: jiff::civil::Date = text.parse().map_err(|_| bad())?;
    let zoned = date
        .to_zoned(state.app.config.time_zone.clone())
        .map_err(|_| bad())?;
    Ok(Some(zoned.timestamp().as_millisecond()))
}

async fn add_rule(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    Form(f): Form<RuleForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let kind = RuleKind::parse(&f.kind)?;
    let currency = Currency::parse(if f.currency.trim().is_empty() {
        "KRW"
    } else {
        &f.currency
    })?;
    let rule = EarnRule {
        id: 0,
        name: f.name,
        kind,
        points: if kind == RuleKind::Base {
            whole("points", &f.points)?
        } else {
            0
        },
        per_minor: if kind == RuleKind::Base {
            Money::parse(&f.per, currency)?.minor
        } else {
            0
        },
        currency: currency.code().to_string(),
        percent: if kind == RuleKind::Multiplier {
            whole("percent", &f.percent)?
        } else {
            0
        },
        scope: ScopeKind::parse(&f.scope)?,
        scope_values: list(&f.scope_values),
        starts_at: day_start(&state, "starts", &f.starts)?,
        ends_at: day_start(&state, "ends", &f.ends)?,
        active: true,
    };
    loyalty::save_rule(&state, &auth.as_actor(), rule).await?;
    Ok(Redirect::to("/loyalty#rules").into_response())
}

async fn toggle_rule(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let active = loyalty::rules(&state)
        .await?
        .iter()
        .any(|r| r.id == id && r.active);
    loyalty::set_rule_active(&state, &auth.as_actor(), id, !active).await?;
    Ok(Redirect::to("/loyalty#rules").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct RewardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name_ko: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    stock: String,
}

async fn add_reward(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    Form(f): Form<RewardForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let reward = Reward {
        id: 0,
        name_ko: f.name_ko,
        name_en: f.name_en,
        points: whole("points", &f.points)?,
        stock: match f.stock.trim() {
            "" => None,
            s => Some(whole("stock", s)?),
        },
        active: true,
    };
    redemption::save_reward(&state, &auth.as_actor(), reward).await?;
    Ok(Redirect::to("/loyalty#rewards").into_response())
}

async fn toggle_reward(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let active = loyalty::rewards(&state)
        .await?
        .iter()
        .any(|r| r.id == id && r.active);
    redemption::set_reward_active(&state, &auth.as_actor(), id, !active).await?;
    Ok(Redirect::to("/loyalty#rewards").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    product: String,
}

async fn accept_slow_mover(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoyaltyManage>,
    Form(f): Form<AcceptForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let acceptance = nunchi_app::loyalty::slow_movers::Acceptance {
        product: f.product,
        percent: 200,
        days: 30,
    };
    nunchi_app::loyalty::slow_movers::accept(&state, &auth.as_actor(), &acceptance).await?;
    Ok(Redirect::to("/loyalty#rules").into_response())
}
