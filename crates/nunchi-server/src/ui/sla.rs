//! The support desk's settings page: SLA policies (targets per team and priority in working
//! or calendar hours) with the deadlines missed lately, and automatic assignment (the mode,
//! and each agent's availability, cap and working hours), canned replies and the signature
//! under e-mail replies.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::sla::{self, SlaPolicyInput};
use nunchi_core::{access::Permission, conversation::Priority, sla::SlaMetric};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiNeed, UiResult, fmt_time, form_number, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    extract::ApiPath,
    i18n::Strings,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox/sla", get(page).post(add))
        .route("/inbox/sla/{id}/delete", post(remove))
        .route("/inbox/assignment", post(set_mode))
        .route("/inbox/macros", post(add_macro))
        .route("/inbox/signature", post(set_signature))
        .route("/inbox/macros/{id}/delete", post(remove_macro))
        .route("/inbox/agents/{id}/availability", post(set_availability))
        .route("/inbox/me/availability", post(set_my_availability))
}

struct AgentRow {
    id: i64,
    /// Where its form posts: the agent's own row for themselves, any row for managers.
    action: String,
    editable: bool,
    name: String,
    away: bool,
    cap: String,
    hours: String,
    skills: String,
    open: i64,
}

/// Breaches listed, at most.
const BREACHES_SHOWN: i64 = 50;

pub fn metric_label(t: &Strings, m: SlaMetric) -> &'static str {
    match m {
        SlaMetric::FirstResponse => t.sla_metric_first_response,
        SlaMetric::NextResponse => t.sla_metric_next_response,
        SlaMetric::Resolution => t.sla_metric_resolution,
    }
}

struct PolicyRow {
    id: i64,
    name: String,
    team: String,
    priority: String,
    first_response: String,
    next_response: String,
    resolution: String,
    hours: String,
}

#[derive(Template)]
#[template(path = "sla.html")]
struct Page {
    chrome: Chrome,
    policies: Vec<PolicyRow>,
    breaches: Vec<(i64, String, String, String)>,
    teams: Vec<(i64, String)>,
    priorities: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    modes: Vec<(&'static str, &'static str, bool)>,
    agents: Vec<AgentRow>,
    macros: Vec<nunchi_store::model::Macro>,
    signature: nunchi_app::reply_mail::Signature,
}

fn minutes(m: Option<i64>) -> String {
    m.map(|m| crate::ui::count(&m))
        .unwrap_or_else(|| "—".into())
}

async fn page(State(state): State<AppState>, auth: UiNeed<perm::InboxRead>) -> UiResult {
    let t = lang_of(&auth).strings();
    let teams: HashMap<i64, String> = state
        .store
        .teams()
        .await?
        .into_iter()
        .map(|team| (team.id, team.name))
        .collect();
    let policies = state
        .store
        .sla_policies()
        .await?
        .into_iter()
        .map(|p| PolicyRow {
            id: p.id,
            team: p
                .team_id
                .and_then(|id| teams.get(&id).cloned())
                .unwrap_or_else(|| t.sla_any.into()),
            priority: p
                .priority
                .as_deref()
                .and_then(|x| Priority::parse(x).ok())
                .map(|x| super::inbox::priority_label(t, x).to_string())
                .unwrap_or_else(|| t.sla_any.into()),
            first_response: minutes(p.first_response_minutes),
            next_response: minutes(p.next_response_minutes),
            resolution: minutes(p.resolution_minutes),
            hours: format!(
                "{} · {}{}",
                p.business_hours.as_deref().unwrap_or(t.sla_calendar),
                p.time_zone,
                if p.korean_holidays && p.business_hours.is_some() {
                    format!(" · {}", t.sla_korean_holidays)
                } else {
                    String::new()
                }
            ),
            name: p.name,
        })
        .collect();
    let breaches = state
        .store
        .sla_breaches(0, BREACHES_SHOWN)
        .await?
        .into_iter()
        .map(|b| {
            let metric = SlaMetric::parse(&b.metric)
                .map(|m| metric_label(t, m).to_string())
                .unwrap_or(b.metric);
            (
                b.conversation_id,
                metric,
                fmt_time(b.due_at),
                fmt_time(b.breached_at),
            )
        })
        .collect();
    let assignment = nunchi_app::assignment::settings(&state, &auth.as_actor()).await?;
    let open: HashMap<i64, i64> = state.store.open_counts().await?.into_iter().collect();
    let agents = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && u.role.has(Permission::InboxWrite))
        .map(|u| {
            let a = assignment.agents.iter().find(|a| a.user_id == u.id);
            let mine = u.id == auth.user.id;
            AgentRow {
                id: u.id,
                action: if mine {
                    "/inbox/me/availability".into()
                } else {
                    format!("/inbox/agents/{}/availability", u.id)
                },
                editable: mine || auth.can(Permission::InboxManage),
                away: a.is_some_and(|a| a.away),
                cap: a
                    .and_then(|a| a.max_open)
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                hours: a.and_then(|a| a.working_hours.clone()).unwrap_or_default(),
                skills: a.map(|a| a.skills.clone()).unwrap_or_default(),
                open: open.get(&u.id).copied().unwrap_or(0),
                name: u.name,
            }
        })
        .collect();
    use nunchi_app::assignment::AssignmentMode;
    let modes = AssignmentMode::ALL
        .iter()
        .map(|m| {
            let label = match m {
                AssignmentMode::Manual => t.assign_mode_manual,
                AssignmentMode::RoundRobin => t.assign_mode_round_robin,
                AssignmentMode::Balanced => t.assign_mode_balanced,
            };
            (m.as_str(), label, *m == assignment.mode)
        })
        .collect();
    let mut team_list: Vec<(i64, String)> = teams.into_iter().collect();
    team_list.sort();
    Ok(render(Page {
        chrome: Chrome::new(&auth, "/inbox", t.sla_title),
        policies,
        breaches,
        teams: team_list,
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str(), super::inbox::priority_label(t, *p)))
            .collect(),
        can_manage: auth.can(Permission::InboxManage),
        modes,
        agents,
        macros: state.store.macros().await?,
        signature: nunchi_app::reply_mail::signature(&state).await?,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    team_id: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    first_response_minutes: String,
    #[serde(default)]
    next_response_minutes: String,
    #[serde(default)]
    resolution_minutes: String,
    #[serde(default)]
    business_hours: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    korean_holidays: Option<String>,
    #[serde(default)]
    holidays: String,
}

async fn add(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    Form(f): Form<PolicyForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let whole = |field: &str, text: &str| -> Result<Option<i64>, crate::error::AppError> {
        Ok(form_number(field, text)?.map(|n| n as i64))
    };
    let input = SlaPolicyInput {
        name: f.name,
        team_id: whole("team_id", &f.team_id)?.filter(|t| *t > 0),
        priority: Some(f.priority).filter(|p| !p.is_empty()),
        first_response_minutes: whole("first_response_minutes", &f.first_response_minutes)?,
        next_response_minutes: whole("next_response_minutes", &f.next_response_minutes)?,
        resolution_minutes: whole("resolution_minutes", &f.resolution_minutes)?,
        business_hours: Some(f.business_hours),
        time_zone: Some(f.time_zone),
        korean_holidays: Some(f.korean_holidays.is_some()),
        holidays: f
            .holidays
            .split([',', ' '])
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
    };
    sla::create_policy(&state, &auth.as_actor(), &input).await?;
    Ok(Redirect::to("/inbox/sla").into_response())
}

async fn remove(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    sla::delete_policy(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to("/inbox/sla").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ModeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mode: String,
}

async fn set_mode(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    Form(f): Form<ModeForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    nunchi_app::assignment::set_mode(&state, &auth.as_actor(), &f.mode).await?;
    Ok(Redirect::to("/inbox/sla#assignment").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct AvailabilityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    away: Option<String>,
    #[serde(default)]
    max_open: String,
    #[serde(default)]
    working_hours: String,
    /// Absent from an agent's own form: skills are a manager's to set.
    #[serde(default)]
    skills: Option<String>,
}

async fn set_availability(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<AvailabilityForm>,
) -> UiResult {
    save_availability(&state, &auth, id, f).await
}

/// An agent's own row: the same form, for themselves.
async fn set_my_availability(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxWrite>,
    Form(f): Form<AvailabilityForm>,
) -> UiResult {
    let me = auth.user.id;
    save_availability(&state, &auth, me, f).await
}

async fn save_availability(
    state: &AppState,
    auth: &crate::auth::Auth,
    user_id: i64,
    f: AvailabilityForm,
) -> UiResult {
    check_form_csrf(auth, &f.csrf)?;
    let input = nunchi_app::assignment::AvailabilityInput {
        away: f.away.is_some(),
        max_open: form_number("max_open", &f.max_open)?.map(|n| n as i64),
        working_hours: Some(f.working_hours),
        time_zone: None,
        skills: f.skills,
    };
    nunchi_app::assignment::set_availability(state, &auth.as_actor(), user_id, &input).await?;
    Ok(Redirect::to("/inbox/sla#assignment").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct MacroForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    shortcut: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    body_ko: String,
    #[serde(default)]
    body_en: String,
}

async fn add_macro(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    Form(f): Form<MacroForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let input = nunchi_app::macros::MacroInput {
        shortcut: f.shortcut,
        name: f.name,
        body_ko: f.body_ko,
        body_en: f.body_en,
    };
    nunchi_app::macros::create(&state, &auth.as_actor(), &input).await?;
    Ok(Redirect::to("/inbox/sla#macros").into_response())
}

async fn remove_macro(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    nunchi_app::macros::delete(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to("/inbox/sla#macros").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct SignatureForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ko: String,
    #[serde(default)]
    en: String,
}

async fn set_signature(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    Form(f): Form<SignatureForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let signature = nunchi_app::reply_mail::Signature { ko: f.ko, en: f.en };
    nunchi_app::reply_mail::set_signature(&state, &auth.as_actor(), &signature).await?;
    Ok(Redirect::to("/inbox/sla#signature").into_response())
}
