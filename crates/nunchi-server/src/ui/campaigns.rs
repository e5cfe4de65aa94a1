//! The campaign pages: the list; the builder (trigger, audience, channels, the message in
//! each language); a campaign's page with what launching would do before it does it, a
//! preview for a chosen customer, launch and pause, and the report (deliveries by status
//! and reason, conversion against the control group); the contact-policy page — all
//! through `nunchi_app::campaigns` and `contact_policy`, as the API does.

use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::campaign_spec::{Template, Templates, Trigger};
use nunchi_app::campaigns::{self, CampaignInput, Impact, Report};
use nunchi_app::contact_policy::{self, CapInput, PolicyInput};
use nunchi_charts as charts;
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, count, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::ApiPath,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list).post(create))
        .route("/campaigns/new", get(new))
        .route("/campaigns/{id}", get(detail).post(update))
        .route("/campaigns/{id}/launch", post(launch))
        .route("/campaigns/{id}/pause", post(pause))
        .route("/contact-policy", get(policy_page).post(save_policy))
}

/// The builder's fields, as posted (the trigger's parts flat, one set per kind).
#[derive(Debug, Default, Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    message_kind: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    delay_minutes: String,
    #[serde(default)]
    unless: String,
    #[serde(default)]
    life_kind: String,
    #[serde(default)]
    days_before: String,
    #[serde(default)]
    lunar: Option<String>,
    #[serde(default)]
    holiday: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    hour: String,
    #[serde(default)]
    segment_id: String,
    #[serde(default)]
    channels: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    dedup_key: String,
    #[serde(default)]
    holdout_pct: String,
    #[serde(default)]
    goal_event: String,
    #[serde(default)]
    goal_days: String,
    #[serde(default)]
    subject_ko: String,
    #[serde(default)]
    body_ko: String,
    #[serde(default)]
    subject_en: String,
    #[serde(default)]
    body_en: String,
}

fn number<T: std::str::FromStr + Default>(field: &str, text: &str) -> Result<T, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(T::default());
    }
    text.parse().map_err(|_| {
        AppError::bad_request(
            "invalid_campaign",
            format!("{field}: {text:?} is not a number"),
        )
    })
}

impl CampaignForm {
    fn blank() -> Self {
        CampaignForm {
            message_kind: "marketing".into(),
            trigger: "now".into(),
            channels: "email".into(),
            hour: "10".into(),
            goal_days: "7".into(),
            ..Default::default()
        }
    }

    fn of(v: &campaigns::CampaignView) -> Self {
        let c = &v.campaign;
        let mut f = CampaignForm {
            name: c.name.clone(),
            message_kind: c.message_kind.clone(),
            segment_id: c.segment_id.map(|s| s.to_string()).unwrap_or_default(),
            channels: c.channels.clone(),
            priority: c.priority.to_string(),
            dedup_key: c.dedup_key.clone().unwrap_or_default(),
            holdout_pct: c.holdout_pct.to_string(),
            goal_event: c.goal_event.clone().unwrap_or_default(),
            goal_days: c.goal_days.to_string(),
            hour: "10".into(),
            ..Default::default()
        };
        if let Some(t) = &v.templates.ko {
            (f.subject_ko, f.body_ko) = (t.subject.clone(), t.body.clone());
        }
        if let Some(t) = &v.templates.en {
            (f.subject_en, f.body_en) = (t.subject.clone(), t.body.clone());
        }
        f.trigger = match &v.trigger {
            Trigger::Now => "now".into(),
            Trigger::At { at } => {
                f.at = at.clone();
                "at".into()
            }
            Trigger::SegmentEntered => "segment_entered".into(),
            Trigger::SegmentLeft => "segment_left".into(),
            Trigger::Event {
                event,
                delay_minutes,
                unless,
            } => {
                f.event = event.clone();
                f.delay_minutes = delay_minutes.to_string();
                f.unless = unless.clone().unwrap_or_default();
                "event".into()
            }
            Trigger::LifeEvent {
                kind,
                days_before,
                lunar,
                hour,
            } => {
                f.life_kind = kind.clone();
                f.days_before = days_before.to_string();
                f.lunar = lunar.then(|| "on".into());
                f.hour = hour.to_string();
                "life_event".into()
            }
            Trigger::Holiday {
                holiday,
                days_before,
                hour,
            } => {
                f.holiday = holiday.clone();
                f.days_before = days_before.to_string();
                f.hour = hour.to_string();
                "holiday".into()
            }
            Trigger::Date { month, day, hour } => {
                f.month = month.to_string();
                f.day = day.to_string();
                f.hour = hour.to_string();
                "date".into()
            }
        };
        f
    }

    fn trigger(&self) -> Result<Trigger, AppError> {
        let hour: u8 = number("hour", &self.hour)?;
        Ok(match self.trigger.as_str() {
            "now" => Trigger::Now,
            "at" => Trigger::At {
                at: self.at.trim().to_string(),
            },
            "segment_entered" => Trigger::SegmentEntered,
            "segment_left" => Trigger::SegmentLeft,
            "event" => Trigger::Event {
                event: self.event.trim().to_string(),
                delay_minutes: number("delay_minutes", &self.delay_minutes)?,
                unless: Some(self.unless.trim().to_string()).filter(|u| !u.is_empty()),
            },
            "life_event" => Trigger::LifeEvent {
                kind: self.life_kind.trim().to_string(),
                days_before: number("days_before", &self.days_before)?,
                lunar: self.lunar.is_some(),
                hour,
            },
            "holiday" => Trigger::Holiday {
                holiday: self.holiday.trim().to_string(),
                days_before: number("days_before", &self.days_before)?,
                hour,
            },
            "date" => Trigger::Date {
                month: number("month", &self.month)?,
                day: number("day", &self.day)?,
                hour,
            },
            other => {
                return Err(AppError::bad_request(
                    "invalid_trigger",
                    format!("trigger: unknown kind {other:?}"),
                ));
            }
        })
    }

    fn input(&self) -> Result<CampaignInput, AppError> {
        let template = |subject: &str, body: &str| {
            (!body.trim().is_empty()).then(|| Template {
                subject: subject.trim().to_string(),
                body: body.trim().to_string(),
            })
        };
        let segment_id = match self.segment_id.trim() {
            "" => None,
            s => Some(number("segment_id", s)?),
        };
        let goal_days = match number("goal_days", &self.goal_days)? {
            0 => 7,
            d => d,
        };
        Ok(CampaignInput {
            name: self.name.clone(),
            message_kind: self.message_kind.clone(),
            trigger: self.trigger()?,
            segment_id,
            channels: self.channels.clone(),
            priority: number("priority", &self.priority)?,
            dedup_key: Some(self.dedup_key.clone()),
            templates: Templates {
                ko: template(&self.subject_ko, &self.body_ko),
                en: template(&self.subject_en, &self.body_en),
            },
            holdout_pct: number("holdout_pct", &self.holdout_pct)?,
            goal_event: Some(self.goal_event.clone()),
            goal_days,
        })
    }
}

/// The builder's choices.
struct Choices {
    segments: Vec<(i64, String)>,
}

async fn choices(state: &AppState) -> Result<Choices, AppError> {
    Ok(Choices {
        segments: state
            .store
            .segments()
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    })
}

struct Row {
    id: i64,
    name: String,
    kind: &'static str,
    trigger: String,
    status: String,
}

#[derive(askama::Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    can_write: bool,
}

fn status_label(t: &crate::i18n::Strings, status: &str) -> &'static str {
    match status {
        "draft" => t.cmp_status_draft,
        "active" => t.cmp_status_active,
        "paused" => t.cmp_status_paused,
        _ => t.cmp_status_done,
    }
}

async fn list(State(state): State<AppState>, auth: UiNeed<perm::CustomersRead>) -> UiResult {
    let t = lang_of(&auth).strings();
    let ko = lang_of(&auth) == crate::i18n::Lang::Ko;
    let rows = campaigns::list(&state, &auth.as_actor())
        .await?
        .into_iter()
        .map(|c| {
            let view = campaigns::view_of(c, None)?;
            Ok(Row {
                id: view.campaign.id,
                kind: if view.campaign.kind == "one_off" {
                    t.cmp_one_off
                } else {
                    t.cmp_programme
                },
                trigger: view.trigger.describe(ko),
                status: status_label(t, &view.campaign.status).to_string(),
                name: view.campaign.name,
            })
        })
        .collect::<Result<Vec<_>, nunchi_app::Error>>()?;
    Ok(render(ListPage {
        chrome: Chrome::new(&auth, "/campaigns", t.nav_campaigns),
        rows,
        can_write: auth.can(nunchi_core::access::Permission::CampaignsManage),
    }))
}

#[derive(askama::Template)]
#[template(path = "campaign_form.html")]
struct FormPage {
    chrome: Chrome,
    form: CampaignForm,
    choices: Choices,
    action: String,
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    auth: &crate::auth::Auth,
    form: CampaignForm,
    action: String,
    error: Option<String>,
) -> UiResult {
    let t = lang_of(auth).strings();
    Ok(render(FormPage {
        chrome: Chrome::new(auth, "/campaigns", t.nav_campaigns),
        form,
        choices: choices(state).await?,
        action,
        error,
    }))
}

async fn new(State(state): State<AppState>, auth: UiNeed<perm::CampaignsManage>) -> UiResult {
    form_page(
        &state,
        &auth,
        CampaignForm::blank(),
        "/campaigns".into(),
        None,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    auth: UiNeed<perm::CampaignsManage>,
    Form(f): Form<CampaignForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let outcome = match f.input() {
        Ok(input) => campaigns::create(&state, &auth.as_actor(), &input)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(e) => form_page(&state, &auth, f, "/campaigns".into(), Some(e)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    customer: Option<i64>,
}

/// The report as the page shows it.
struct Shown {
    chart: String,
    /// (status, reason explained, count)
    lines: Vec<(String, String, String)>,
    /// (variant, customers, converted, rate)
    variants: Vec<(String, String, String, String)>,
}

/// A stored suppression code in the reader's language (the code itself when unknown:
/// `exit_condition`, `no_customer`).
pub(crate) fn explain_reason(code: &str, lang: &str) -> String {
    nunchi_core::contact::Suppression::explain_code(code, lang)
        .unwrap_or_else(|| code.replace('_', " "))
}

fn shown(report: &Report, t: &crate::i18n::Strings, lang: &str) -> Shown {
    let mut totals: std::collections::BTreeMap<String, i64> = Default::default();
    for c in &report.counts {
        *totals.entry(c.status.clone()).or_default() += c.count;
    }
    let bars: Vec<charts::Bar> = totals
        .iter()
        .map(|(status, n)| charts::Bar {
            label: status.clone(),
            value: *n as f64,
            shown: count(n),
        })
        .collect();
    Shown {
        chart: charts::bar_chart(t.cmp_deliveries, &bars, t.cmp_no_deliveries),
        lines: report
            .counts
            .iter()
            .map(|c| {
                (
                    c.status.clone(),
                    c.reason
                        .as_deref()
                        .map(|r| explain_reason(r, lang))
                        .unwrap_or_default(),
                    count(&c.count),
                )
            })
            .collect(),
        variants: report
            .variants
            .iter()
            .map(|v| {
                (
                    if v.variant == "control" {
                        t.cmp_control.to_string()
                    } else {
                        t.cmp_message.to_string()
                    },
                    count(&v.customers),
                    count(&v.converted),
                    v.conversion_rate
                        .map(|r| format!("{:.1}%", r * 100.0))
                        .unwrap_or_default(),
                )
            })
            .collect(),
    }
}

#[derive(askama::Template)]
#[template(path = "campaign.html")]
struct DetailPage {
    chrome: Chrome,
    id: i64,
    name: String,
    status: String,
    editable: bool,
    active: bool,
    trigger: String,
    segment: String,
    channels: String,
    impact: Option<Impact>,
    impact_line: String,
    report: Shown,
    preview_customer: String,
    preview: Option<nunchi_app::campaigns::Preview>,
    form: CampaignForm,
    choices: Choices,
    action: String,
    error: Option<String>,
    can_write: bool,
}

async fn detail_page(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    customer: Option<i64>,
    form: Option<CampaignForm>,
    error: Option<String>,
) -> UiResult {
    let lang = lang_of(auth);
    let t = lang.strings();
    let ko = lang == crate::i18n::Lang::Ko;
    let actor = auth.as_actor();
    let view = campaigns::get(state, &actor, id).await?;
    let editable = matches!(view.campaign.status.as_str(), "draft" | "paused");
    let impact = if editable || view.campaign.status == "active" {
        Some(campaigns::impact(state, &actor, id, lang.code()).await?)
    } else {
        None
    };
    let impact_line = impact.as_ref().map_or(String::new(), |i| {
        let suppressed: usize = i.suppressed.iter().map(|s| s.1).sum();
        if ko {
            format!(
                "{}명이 받고, {}명은 발송 시간대를 기다리며, {}명은 발송 제외, {}명은 대조군입니다.",
                count(&i.would_send),
                count(&i.held),
                count(&suppressed),
                count(&i.held_out)
            )
        } else {
            format!(
                "{} will receive it, {} wait for their sending hours, {} suppressed, {} held out as control.",
                count(&i.would_send),
                count(&i.held),
                count(&suppressed),
                count(&i.held_out)
            )
        }
    });
    let report = campaigns::report(state, &actor, id).await?;
    let preview = match customer {
        Some(c) => Some(campaigns::preview(state, &actor, id, c).await?),
        None => None,
    };
    Ok(render(DetailPage {
        chrome: Chrome::new(auth, "/campaigns", t.nav_campaigns),
        id,
        status: status_label(t, &view.campaign.status).to_string(),
        editable,
        active: view.campaign.status == "active",
        trigger: view.trigger.describe(ko),
        segment: view.segment_name.clone().unwrap_or_default(),
        channels: view.campaign.channels.replace(',', " → "),
        impact,
        impact_line,
        report: shown(&report, t, lang.code()),
        preview_customer: customer.map(|c| c.to_string()).unwrap_or_default(),
        preview,
        form: form.unwrap_or_else(|| CampaignForm::of(&view)),
        choices: choices(state).await?,
        action: format!("/campaigns/{id}"),
        error,
        can_write: auth.can(nunchi_core::access::Permission::CampaignsManage),
        name: view.campaign.name,
    }))
}

async fn detail(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
    Query(q): Query<DetailQuery>,
) -> UiResult {
    detail_page(&state, &auth, id, q.customer, None, None).await
}

async fn update(
    State(state): State<AppState>,
    auth: UiNeed<perm::CampaignsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CampaignForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let outcome = match f.input() {
        Ok(input) => campaigns::update(&state, &auth.as_actor(), id, &input)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(e) => detail_page(&state, &auth, id, None, Some(f), Some(e)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Launch or pause from the campaign's page; a refusal shows on the page.
async fn act(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    csrf: &str,
    launching: bool,
) -> UiResult {
    check_form_csrf(auth, csrf)?;
    let actor = auth.as_actor();
    let done = if launching {
        campaigns::launch(state, &actor, id).await
    } else {
        campaigns::pause(state, &actor, id).await
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(e) => detail_page(state, auth, id, None, None, Some(e.to_string())).await,
    }
}

async fn launch(
    State(state): State<AppState>,
    auth: UiNeed<perm::CampaignsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfOnly>,
) -> UiResult {
    act(&state, &auth, id, &f.csrf, true).await
}

async fn pause(
    State(state): State<AppState>,
    auth: UiNeed<perm::CampaignsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfOnly>,
) -> UiResult {
    act(&state, &auth, id, &f.csrf, false).await
}

/// The contact-policy form: caps as rows of repeated fields, then the rest.
#[derive(Debug, Default)]
pub struct PolicyForm {
    csrf: String,
    cap_kind: Vec<String>,
    cap_channel: Vec<String>,
    cap_max: Vec<String>,
    cap_period: Vec<String>,
    min_gap_minutes: String,
    quiet_from: String,
    quiet_to: String,
    night: String,
    korean_law: Option<String>,
    dedup_hours: String,
    brand_name: String,
    brand_contact: String,
}

impl PolicyForm {
    /// Reads the posted pairs; repeated names (one per cap row) keep their order.
    fn parse(body: &[u8]) -> Result<Self, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| AppError::bad_request("invalid_form", e.to_string()))?;
        let mut f = PolicyForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "cap_kind" => f.cap_kind.push(v),
                "cap_channel" => f.cap_channel.push(v),
                "cap_max" => f.cap_max.push(v),
                "cap_period" => f.cap_period.push(v),
                "min_gap_minutes" => f.min_gap_minutes = v,
                "quiet_from" => f.quiet_from = v,
                "quiet_to" => f.quiet_to = v,
                "night" => f.night = v,
                "korean_law" => f.korean_law = Some(v),
                "dedup_hours" => f.dedup_hours = v,
                "brand_name" => f.brand_name = v,
                "brand_contact" => f.brand_contact = v,
                _ => {}
            }
        }
        Ok(f)
    }
}

/// Rows shown for caps: the saved ones and blanks up to five.
const CAP_ROWS: usize = 5;

fn policy_input(f: &PolicyForm) -> Result<PolicyInput, AppError> {
    let mut caps = Vec::new();
    for i in 0..f.cap_max.len() {
        let max = f.cap_max[i].trim();
        if max.is_empty() {
            continue;
        }
        caps.push(CapInput {
            kind: f.cap_kind.get(i).cloned().filter(|k| !k.is_empty()),
            channel: f.cap_channel.get(i).cloned().filter(|k| !k.is_empty()),
            max: number("cap", max)?,
            period: f
                .cap_period
                .get(i)
                .cloned()
                .unwrap_or_else(|| "week".into()),
        });
    }
    let quiet = match (f.quiet_from.trim(), f.quiet_to.trim()) {
        ("", "") => None,
        (a, b) => Some((number("quiet_from", a)?, number("quiet_to", b)?)),
    };
    Ok(PolicyInput {
        caps,
        min_gap_minutes: number("min_gap_minutes", &f.min_gap_minutes)?,
        quiet_hours: quiet,
        night: f.night.clone(),
        korean_law: f.korean_law.is_some(),
        dedup_hours: number("dedup_hours", &f.dedup_hours)?,
        brand_name: f.brand_name.clone(),
        brand_contact: f.brand_contact.clone(),
    })
}

#[derive(askama::Template)]
#[template(path = "contact_policy.html")]
struct PolicyPage {
    chrome: Chrome,
    policy: PolicyInput,
    /// (kind, channel, max, period) per row, blanks included.
    caps: Vec<(String, String, String, String)>,
    saved: bool,
    error: Option<String>,
    can_write: bool,
}

fn policy_view(
    auth: &crate::auth::Auth,
    policy: PolicyInput,
    saved: bool,
    error: Option<String>,
) -> UiResult {
    let t = lang_of(auth).strings();
    let mut caps: Vec<_> = policy
        .caps
        .iter()
        .map(|c| {
            (
                c.kind.clone().unwrap_or_default(),
                c.channel.clone().unwrap_or_default(),
                c.max.to_string(),
                c.period.clone(),
            )
        })
        .collect();
    while caps.len() < CAP_ROWS {
        caps.push((String::new(), String::new(), String::new(), "week".into()));
    }
    Ok(render(PolicyPage {
        chrome: Chrome::new(auth, "/contact-policy", t.nav_contact_policy),
        policy,
        caps,
        saved,
        error,
        can_write: auth.can(nunchi_core::access::Permission::CampaignsManage),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn policy_page(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    Query(q): Query<SavedQuery>,
) -> UiResult {
    let policy = contact_policy::current(&state).await?;
    policy_view(&auth, policy, q.saved.is_some(), None)
}

async fn save_policy(
    State(state): State<AppState>,
    auth: UiNeed<perm::CampaignsManage>,
    body: axum::body::Bytes,
) -> UiResult {
    let f = PolicyForm::parse(&body)?;
    check_form_csrf(&auth, &f.csrf)?;
    let outcome = match policy_input(&f) {
        Ok(input) => contact_policy::save(&state, &auth.as_actor(), &input)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/contact-policy?saved=1").into_response()),
        Err(e) => {
            let current = contact_policy::current(&state).await?;
            policy_view(&auth, current, false, Some(e))
        }
    }
}
