//! The closed loop over HTTP: rules that open a follow-up for feedback that needs one
//! (low score, negative text, a topic, a source) and notify by e-mail and webhook; the
//! follow-ups with their owners, due times and notes, closed with a resolution; the
//! closed-loop rate and time to close per owner and team; outbound webhooks; and the
//! outer loop's root-cause items, tracked to "fixed" with affected customers told.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
};
use nunchi_core::feedback::Source;
use nunchi_store::model::{
    Feedback, FollowUp, FollowUpNote, LoopRule, NewLoopRule, RootCause, Webhook,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    auth::{Need, perm},
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};
use nunchi_app::jobs::JobSpec;
use nunchi_app::outer_loop::{self, LoopReport, TopicSuggestion};
use nunchi_app::webhooks;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/loop-rules", get(rules).post(create_rule))
        .route("/api/v1/loop-rules/{id}", delete(delete_rule))
        .route("/api/v1/follow-ups", get(follow_ups))
        .route("/api/v1/follow-ups/report", get(report))
        .route("/api/v1/follow-ups/{id}", get(follow_up))
        .route("/api/v1/follow-ups/{id}/close", post(close))
        .route("/api/v1/follow-ups/{id}/notes", post(add_note))
        .route("/api/v1/webhooks", get(webhooks).post(create_webhook))
        .route("/api/v1/webhooks/{id}", delete(delete_webhook))
        .route(
            "/api/v1/root-causes",
            get(root_causes).post(create_root_cause),
        )
        .route("/api/v1/root-causes/suggestions", get(suggestions))
        .route("/api/v1/root-causes/{id}/fix", post(fix_root_cause))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoopRuleInput {
    pub name: String,
    /// Normalised rating at most this (0..1; 0.6 is an NPS of 6 or a CSAT of 3.4).
    #[serde(default)]
    pub max_score: Option<f64>,
    /// Normalised rating at least this; with max_score a band (0.7–0.8: NPS passives).
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Text sentiment at most this (−1..1).
    #[serde(default)]
    pub max_sentiment: Option<f64>,
    /// A topic label the text mentions, Korean or English (e.g. 배송 지연).
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Only feedback from customers with this tag (a segment, e.g. vip).
    #[serde(default)]
    pub tag: Option<String>,
    /// Who gets the follow-ups.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Hours until a follow-up is due (1–720).
    pub due_hours: i64,
    /// E-mail this address when a follow-up opens.
    #[serde(default)]
    pub notify_email: Option<String>,
    /// Announce opened follow-ups to webhooks subscribed to `follow_up.opened`.
    #[serde(default)]
    pub notify_webhook: bool,
}

#[utoipa::path(get, operation_id = "loop_rules", path = "/api/v1/loop-rules", tag = "feedback", responses((status = 200, body = Vec<LoopRule>)))]
pub async fn rules(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<LoopRule>>> {
    Ok(Json(state.store.loop_rules().await?))
}

#[utoipa::path(post, operation_id = "create_loop_rule", path = "/api/v1/loop-rules", tag = "feedback", request_body = LoopRuleInput,
    responses((status = 201, body = LoopRule)))]
pub async fn create_rule(
    auth: Need<perm::LoopsManage>,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<LoopRuleInput>,
) -> AppResult<(StatusCode, Json<LoopRule>)> {
    let rule = create_loop_rule(&state, &auth, &input).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Checks and stores a rule, for the API and the follow-ups page alike.
pub async fn create_loop_rule(
    state: &AppState,
    auth: &crate::auth::Auth,
    input: &LoopRuleInput,
) -> AppResult<LoopRule> {
    let bad = |code: &str, m: &str| Err(AppError::bad_request(code, m.to_string()));
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return bad("invalid_name", "the name must be 1–100 characters");
    }
    if input.max_score.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
        return bad("invalid_max_score", "max_score is between 0 and 1");
    }
    if input.min_score.is_some_and(|v| !(0.0..=1.0).contains(&v))
        || input
            .min_score
            .zip(input.max_score)
            .is_some_and(|(lo, hi)| lo > hi)
    {
        return bad(
            "invalid_min_score",
            "min_score is between 0 and 1, and at most max_score",
        );
    }
    if input
        .max_sentiment
        .is_some_and(|v| !(-1.0..=1.0).contains(&v))
    {
        return bad("invalid_max_sentiment", "max_sentiment is between −1 and 1");
    }
    if !(1..=720).contains(&input.due_hours) {
        return bad("invalid_due_hours", "due_hours is 1–720");
    }
    let topic = input
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let source = match input
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(
            Source::parse(s)
                .map_err(|e| AppError::bad_request("invalid_source", e.to_string()))?
                .as_str(),
        ),
        None => None,
    };
    if input.max_score.is_none()
        && input.min_score.is_none()
        && input.max_sentiment.is_none()
        && topic.is_none()
    {
        return bad(
            "no_condition",
            "a rule needs a score, a sentiment or a topic condition",
        );
    }
    let notify_email = match input
        .notify_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(
            nunchi_core::email::Email::parse(e)
                .map_err(|e| AppError::bad_request("invalid_notify_email", e.to_string()))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    if let Some(owner) = input.owner_id {
        state
            .store
            .user(owner)
            .await
            .map_err(|_| AppError::bad_request("invalid_owner", format!("no user {owner}")))?;
    }
    let rule = state
        .store
        .create_loop_rule(&NewLoopRule {
            name: name.into(),
            max_score: input.max_score,
            min_score: input.min_score,
            max_sentiment: input.max_sentiment,
            topic: topic.map(str::to_string),
            source: source.map(str::to_string),
            tag: input
                .tag
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            owner_id: input.owner_id,
            due_hours: input.due_hours,
            notify_email,
            notify_webhook: input.notify_webhook,
        })
        .await?;
    state
        .audit(
            auth,
            "loop_rule.create",
            &format!("loop_rule:{}", rule.id),
            name,
        )
        .await;
    Ok(rule)
}

#[utoipa::path(delete, operation_id = "delete_loop_rule", path = "/api/v1/loop-rules/{id}", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_rule(
    auth: Need<perm::LoopsManage>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    delete_loop_rule(&state, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_loop_rule(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
) -> AppResult<()> {
    state.store.delete_loop_rule(id).await?;
    state
        .audit(auth, "loop_rule.delete", &format!("loop_rule:{id}"), "")
        .await;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// open or closed; both when absent.
    pub status: Option<String>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, operation_id = "follow_ups", path = "/api/v1/follow-ups", tag = "feedback", params(FollowUpQuery),
    responses((status = 200, body = Vec<FollowUp>)))]
pub async fn follow_ups(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FollowUpQuery>,
) -> AppResult<Json<Vec<FollowUp>>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s @ ("open" | "closed")) => Some(s),
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid_status",
                format!("status is open or closed, not {other:?}"),
            ));
        }
    };
    let limit = super::limit(q.limit)?;
    Ok(Json(state.store.follow_ups(status, limit).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseInput {
    /// What was done, for the record (1–2,000 characters).
    pub resolution: String,
}

#[utoipa::path(post, operation_id = "close_follow_up", path = "/api/v1/follow-ups/{id}/close", tag = "feedback", params(("id" = i64, Path)),
    request_body = CloseInput, responses((status = 200, body = FollowUp)))]
pub async fn close(
    auth: Need<perm::CustomersWrite>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CloseInput>,
) -> AppResult<Json<FollowUp>> {
    Ok(Json(
        close_follow_up(&state, &auth, id, &input.resolution).await?,
    ))
}

/// Checks the resolution and closes a follow-up, for the API and the page alike.
pub async fn close_follow_up(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    resolution: &str,
) -> AppResult<FollowUp> {
    let resolution = resolution.trim();
    if resolution.is_empty() || resolution.chars().count() > 2_000 {
        return Err(AppError::bad_request(
            "invalid_resolution",
            "say what was done, in 1–2,000 characters",
        ));
    }
    let closed = state.store.close_follow_up(id, resolution).await?;
    state
        .audit(auth, "follow_up.close", &format!("follow_up:{id}"), "")
        .await;
    Ok(closed)
}

/// Follow-ups read for the report, at most.
const REPORT_LIMIT: i64 = 100_000;

#[utoipa::path(get, operation_id = "follow_up_report", path = "/api/v1/follow-ups/report", tag = "feedback",
    responses((status = 200, body = LoopReport)))]
pub async fn report(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
) -> AppResult<Json<LoopReport>> {
    Ok(Json(loop_report(&state).await?))
}

/// The closed-loop report over every follow-up.
pub async fn loop_report(state: &AppState) -> AppResult<LoopReport> {
    let all = state.store.follow_ups(None, REPORT_LIMIT).await?;
    Ok(outer_loop::report(
        &all,
        &state.store.users().await?,
        &state.store.teams().await?,
        state.now(),
    ))
}

/// A follow-up with the feedback it is about and its notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpDetail {
    #[serde(flatten)]
    pub follow_up: FollowUp,
    pub feedback: Feedback,
    pub notes: Vec<FollowUpNote>,
}

#[utoipa::path(get, operation_id = "follow_up", path = "/api/v1/follow-ups/{id}", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 200, body = FollowUpDetail)))]
pub async fn follow_up(
    auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FollowUpDetail>> {
    let follow_up = state.store.follow_up(id).await?;
    let feedback =
        super::feedback::masked(state.store.feedback(follow_up.feedback_id).await?, &auth);
    Ok(Json(FollowUpDetail {
        notes: state.store.follow_up_notes(id).await?,
        follow_up,
        feedback,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// 1–2,000 characters.
    pub body: String,
}

#[utoipa::path(post, operation_id = "add_follow_up_note", path = "/api/v1/follow-ups/{id}/notes", tag = "feedback", params(("id" = i64, Path)),
    request_body = NoteInput, responses((status = 201, body = FollowUpNote)))]
pub async fn add_note(
    auth: Need<perm::CustomersWrite>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NoteInput>,
) -> AppResult<(StatusCode, Json<FollowUpNote>)> {
    let note = add_follow_up_note(&state, &auth, id, &input.body).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Checks and stores a note, for the API and the follow-ups page alike.
pub async fn add_follow_up_note(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    body: &str,
) -> AppResult<FollowUpNote> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 2_000 {
        return Err(AppError::bad_request(
            "invalid_note",
            "a note is 1–2,000 characters",
        ));
    }
    let note = state
        .store
        .add_follow_up_note(id, Some(auth.user.id), body)
        .await?;
    state
        .audit(auth, "follow_up.note", &format!("follow_up:{id}"), "")
        .await;
    Ok(note)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// An http or https URL.
    pub url: String,
    /// Any of feedback.created, follow_up.opened, root_cause.fixed.
    pub events: Vec<String>,
}

/// A webhook as created: the only time its signing secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

#[utoipa::path(get, operation_id = "webhooks", path = "/api/v1/webhooks", tag = "feedback", responses((status = 200, body = Vec<Webhook>)))]
pub async fn webhooks(
    _auth: Need<perm::UsersManage>,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<Webhook>>> {
    Ok(Json(state.store.webhooks().await?))
}

#[utoipa::path(post, operation_id = "create_webhook", path = "/api/v1/webhooks", tag = "feedback", request_body = WebhookInput,
    responses((status = 201, body = CreatedWebhook)))]
pub async fn create_webhook(
    auth: Need<perm::UsersManage>,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> AppResult<(StatusCode, Json<CreatedWebhook>)> {
    let url = input.url.trim();
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.len() > 2_000 || reqwest::Url::parse(url).is_err() {
        return Err(AppError::bad_request(
            "invalid_url",
            "the URL must be a valid http:// or https:// address",
        ));
    }
    if input.events.is_empty() {
        return Err(AppError::bad_request(
            "invalid_events",
            format!(
                "subscribe to at least one of {}",
                webhooks::EVENTS.join(", ")
            ),
        ));
    }
    for e in &input.events {
        if !webhooks::EVENTS.contains(&e.as_str()) {
            return Err(AppError::bad_request(
                "invalid_events",
                format!(
                    "unknown event {e:?}; one of {}",
                    webhooks::EVENTS.join(", ")
                ),
            ));
        }
    }
    let secret = webhooks::new_secret();
    let webhook = state
        .store
        .create_webhook(url, &secret, &input.events.join(","))
        .await?;
    state
        .audit(
            &auth,
            "webhook.create",
            &format!("webhook:{}", webhook.id),
            url,
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook { webhook, secret }),
    ))
}

#[utoipa::path(delete, operation_id = "delete_webhook", path = "/api/v1/webhooks/{id}", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_webhook(
    auth: Need<perm::UsersManage>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    state.store.delete_webhook(id).await?;
    state
        .audit(&auth, "webhook.delete", &format!("webhook:{id}"), "")
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, operation_id = "root_causes", path = "/api/v1/root-causes", tag = "feedback", responses((status = 200, body = Vec<RootCause>)))]
pub async fn root_causes(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<RootCause>>> {
    Ok(Json(state.store.root_causes().await?))
}

/// Feedback the suggestions look at: the newest this many items.
pub const SUGGESTION_WINDOW: i64 = 1_000;

#[utoipa::path(get, operation_id = "root_cause_suggestions", path = "/api/v1/root-causes/suggestions", tag = "feedback",
    responses((status = 200, body = Vec<TopicSuggestion>)))]
pub async fn suggestions(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<TopicSuggestion>>> {
    Ok(Json(topic_suggestions(&state).await?))
}

/// Topics of the newest negative feedback not yet tracked as a root cause.
pub async fn topic_suggestions(state: &AppState) -> AppResult<Vec<TopicSuggestion>> {
    let recent = state
        .store
        .list_feedback(&nunchi_store::model::FeedbackFilter {
            limit: SUGGESTION_WINDOW,
            ..Default::default()
        })
        .await?;
    Ok(outer_loop::suggestions(
        &recent,
        &state.store.follow_ups(Some("open"), REPORT_LIMIT).await?,
        &state.store.root_causes().await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCauseInput {
    /// A topic key from the suggestions (e.g. delivery_delay).
    pub topic: String,
    pub title: String,
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Group the topic's negative feedback from this many days back (1–365, 90 by default).
    #[serde(default)]
    pub days: Option<i64>,
}

#[utoipa::path(post, operation_id = "create_root_cause", path = "/api/v1/root-causes", tag = "feedback", request_body = RootCauseInput,
    responses((status = 201, body = RootCause)))]
pub async fn create_root_cause(
    auth: Need<perm::LoopsManage>,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RootCauseInput>,
) -> AppResult<(StatusCode, Json<RootCause>)> {
    let rc = open_root_cause(&state, &auth, &input).await?;
    Ok((StatusCode::CREATED, Json(rc)))
}

/// Checks and opens a root-cause item, for the API and the page alike.
pub async fn open_root_cause(
    state: &AppState,
    auth: &crate::auth::Auth,
    input: &RootCauseInput,
) -> AppResult<RootCause> {
    let topic = input.topic.trim();
    let title = input.title.trim();
    let well_formed = !topic.is_empty()
        && topic.len() <= 100
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_/-".contains(c));
    if !well_formed {
        return Err(AppError::bad_request(
            "invalid_topic",
            format!("unknown topic {topic:?}"),
        ));
    }
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::bad_request(
            "invalid_title",
            "the title is 1–200 characters",
        ));
    }
    let days = input.days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        return Err(AppError::bad_request("invalid_days", "days is 1–365"));
    }
    if state
        .store
        .root_causes()
        .await?
        .iter()
        .any(|r| r.status == "open" && r.topic == topic)
    {
        return Err(AppError::Conflict(format!(
            "an open root cause already tracks {topic}"
        )));
    }
    if let Some(owner) = input.owner_id {
        state
            .store
            .user(owner)
            .await
            .map_err(|_| AppError::bad_request("invalid_owner", format!("no user {owner}")))?;
    }
    let since = state.now() - days * 86_400_000;
    let rc = state
        .store
        .create_root_cause(topic, title, input.owner_id, since)
        .await?;
    state
        .audit(
            auth,
            "root_cause.create",
            &format!("root_cause:{}", rc.id),
            title,
        )
        .await;
    Ok(rc)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixInput {
    /// What was fixed (1–2,000 characters); also the message to customers.
    pub note: String,
    /// E-mail the customers whose feedback it grouped.
    #[serde(default)]
    pub notify_customers: bool,
}

#[utoipa::path(post, operation_id = "fix_root_cause", path = "/api/v1/root-causes/{id}/fix", tag = "feedback", params(("id" = i64, Path)),
    request_body = FixInput, responses((status = 200, body = RootCause)))]
pub async fn fix_root_cause(
    auth: Need<perm::LoopsManage>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FixInput>,
) -> AppResult<Json<RootCause>> {
    Ok(Json(mark_fixed(&state, &auth, id, &input).await?))
}

/// Marks a root cause fixed; with `notify_customers`, queues one e-mail per affected
/// customer with an address, in their language, and the `root_cause.fixed` webhooks.
pub async fn mark_fixed(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    input: &FixInput,
) -> AppResult<RootCause> {
    let note = input.note.trim();
    if note.is_empty() || note.chars().count() > 2_000 {
        return Err(AppError::bad_request(
            "invalid_note",
            "say what was fixed, in 1–2,000 characters",
        ));
    }
    let rc = state.store.root_cause(id).await?;
    let now = state.now();
    let mut jobs = Vec::new();
    if input.notify_customers {
        for c in state.store.root_cause_customers(id).await? {
            let customer = state.store.customer(c).await?;
            let Some(email) = customer.identity("email") else {
                continue;
            };
            let ko = customer.row.language.as_deref() != Some("en");
            let (subject, greeting) = if ko {
                (
                    "말씀해 주신 문제를 고쳤습니다",
                    "소중한 의견 감사합니다. 말씀해 주신 문제를 고쳤습니다.",
                )
            } else {
                (
                    "We fixed what you told us about",
                    "Thank you for your feedback. We fixed what you told us about.",
                )
            };
            jobs.push(
                JobSpec::Email {
                    to: email.to_string(),
                    subject: subject.into(),
                    text: format!(
                        "{greeting}

{note}
"
                    ),
                }
                .job(now, 5),
            );
        }
    }
    let told = jobs.len();
    let data = serde_json::json!({ "root_cause_id": id, "topic": rc.topic, "title": rc.title, "note": note, "customers_told": told });
    jobs.extend(webhooks::jobs_for(
        &state.store.webhooks().await?,
        "root_cause.fixed",
        &format!("rc{id}"),
        &data,
        None,
        now,
    ));
    let fixed = state
        .store
        .fix_root_cause(id, note, told as i64, &jobs)
        .await?;
    state.job_wakeup.notify_one();
    state
        .audit(
            auth,
            "root_cause.fix",
            &format!("root_cause:{id}"),
            &format!("customers told: {told}"),
        )
        .await;
    Ok(fixed)
}
