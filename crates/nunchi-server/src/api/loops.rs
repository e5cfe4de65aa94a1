//! The closed loop over HTTP: rules that open a follow-up for feedback that needs one
//! (low score, negative text, a topic, a source) and notify by e-mail and webhook; the
//! follow-ups with their owners, due times and notes, closed with a resolution; the
//! closed-loop rate and time to close per owner and team; outbound webhooks; and the
//! outer loop's root-cause items, tracked to "fixed" with affected customers told.

use axum::{Json, extract::State, http::StatusCode};
use nunchi_store::model::{Feedback, FollowUp, FollowUpNote, LoopRule, RootCause, Webhook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};
use nunchi_app::loops::{
    CloseInput, FixInput, LoopRuleInput, NoteInput, RootCauseInput, add_follow_up_note,
    close_follow_up, create_loop_rule, delete_loop_rule, loop_report, mark_fixed, open_root_cause,
    topic_suggestions,
};
use nunchi_app::outer_loop::{LoopReport, TopicSuggestion};
use nunchi_app::webhooks;

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rules, create_rule))
        .routes(routes!(delete_rule))
        .routes(routes!(follow_ups))
        .routes(routes!(report))
        .routes(routes!(follow_up))
        .routes(routes!(close))
        .routes(routes!(add_note))
        .routes(routes!(webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(root_causes, create_root_cause))
        .routes(routes!(suggestions))
        .routes(routes!(fix_root_cause))
}

#[utoipa::path(get, operation_id = "loop_rules", path = "/api/v1/loop-rules", security(("bearer" = ["customers_read"])), tag = "feedback", responses((status = 200, body = Vec<LoopRule>)))]
pub async fn rules(State(state): State<AppState>) -> AppResult<Json<Vec<LoopRule>>> {
    Ok(Json(state.store.loop_rules().await?))
}

#[utoipa::path(post, operation_id = "create_loop_rule", path = "/api/v1/loop-rules", security(("bearer" = ["loops_manage"])), tag = "feedback", request_body = LoopRuleInput,
    responses((status = 201, body = LoopRule)))]
pub async fn create_rule(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<LoopRuleInput>,
) -> AppResult<(StatusCode, Json<LoopRule>)> {
    let rule = create_loop_rule(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

#[utoipa::path(delete, operation_id = "delete_loop_rule", path = "/api/v1/loop-rules/{id}", security(("bearer" = ["loops_manage"])), tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_rule(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    delete_loop_rule(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// open or closed; both when absent.
    pub status: Option<String>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, operation_id = "follow_ups", path = "/api/v1/follow-ups", security(("bearer" = ["customers_read"])), tag = "feedback", params(FollowUpQuery),
    responses((status = 200, body = Vec<FollowUp>)))]
pub async fn follow_ups(
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
    let limit = nunchi_app::paging::limit(q.limit)?;
    Ok(Json(state.store.follow_ups(status, limit).await?))
}

#[utoipa::path(post, operation_id = "close_follow_up", path = "/api/v1/follow-ups/{id}/close", security(("bearer" = ["customers_write"])), tag = "feedback", params(("id" = i64, Path)),
    request_body = CloseInput, responses((status = 200, body = FollowUp)))]
pub async fn close(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CloseInput>,
) -> AppResult<Json<FollowUp>> {
    Ok(Json(
        close_follow_up(&state, &auth.as_actor(), id, &input.resolution).await?,
    ))
}

#[utoipa::path(get, operation_id = "follow_up_report", path = "/api/v1/follow-ups/report", security(("bearer" = ["customers_read"])), tag = "feedback",
    responses((status = 200, body = LoopReport)))]
pub async fn report(State(state): State<AppState>) -> AppResult<Json<LoopReport>> {
    Ok(Json(loop_report(&state).await?))
}

/// A follow-up with the feedback it is about and its notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpDetail {
    #[serde(flatten)]
    pub follow_up: FollowUp,
    pub feedback: Feedback,
    pub notes: Vec<FollowUpNote>,
}

#[utoipa::path(get, operation_id = "follow_up", path = "/api/v1/follow-ups/{id}", security(("bearer" = ["customers_read"])), tag = "feedback", params(("id" = i64, Path)),
    responses((status = 200, body = FollowUpDetail)))]
pub async fn follow_up(
    auth: Auth,
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

#[utoipa::path(post, operation_id = "add_follow_up_note", path = "/api/v1/follow-ups/{id}/notes", security(("bearer" = ["customers_write"])), tag = "feedback", params(("id" = i64, Path)),
    request_body = NoteInput, responses((status = 201, body = FollowUpNote)))]
pub async fn add_note(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NoteInput>,
) -> AppResult<(StatusCode, Json<FollowUpNote>)> {
    let note = add_follow_up_note(&state, &auth.as_actor(), id, &input.body).await?;
    Ok((StatusCode::CREATED, Json(note)))
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

#[utoipa::path(get, operation_id = "webhooks", path = "/api/v1/webhooks", security(("bearer" = ["users_manage"])), tag = "feedback", responses((status = 200, body = Vec<Webhook>)))]
pub async fn webhooks(State(state): State<AppState>) -> AppResult<Json<Vec<Webhook>>> {
    Ok(Json(state.store.webhooks().await?))
}

#[utoipa::path(post, operation_id = "create_webhook", path = "/api/v1/webhooks", security(("bearer" = ["users_manage"])), tag = "feedback", request_body = WebhookInput,
    responses((status = 201, body = CreatedWebhook)))]
pub async fn create_webhook(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> AppResult<(StatusCode, Json<CreatedWebhook>)> {
    let url = webhooks::checked_url(&input.url)?;
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
        .create_webhook(&url, &secret, &input.events.join(","))
        .await?;
    state
        .audit(
            &auth,
            "webhook.create",
            &format!("webhook:{}", webhook.id),
            &url,
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook { webhook, secret }),
    ))
}

#[utoipa::path(delete, operation_id = "delete_webhook", path = "/api/v1/webhooks/{id}", security(("bearer" = ["users_manage"])), tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_webhook(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    state.store.delete_webhook(id).await?;
    state
        .audit(&auth, "webhook.delete", &format!("webhook:{id}"), "")
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, operation_id = "root_causes", path = "/api/v1/root-causes", security(("bearer" = ["customers_read"])), tag = "feedback", responses((status = 200, body = Vec<RootCause>)))]
pub async fn root_causes(State(state): State<AppState>) -> AppResult<Json<Vec<RootCause>>> {
    Ok(Json(state.store.root_causes().await?))
}

#[utoipa::path(get, operation_id = "root_cause_suggestions", path = "/api/v1/root-causes/suggestions", security(("bearer" = ["customers_read"])), tag = "feedback",
    responses((status = 200, body = Vec<TopicSuggestion>)))]
pub async fn suggestions(State(state): State<AppState>) -> AppResult<Json<Vec<TopicSuggestion>>> {
    Ok(Json(topic_suggestions(&state).await?))
}

#[utoipa::path(post, operation_id = "create_root_cause", path = "/api/v1/root-causes", security(("bearer" = ["loops_manage"])), tag = "feedback", request_body = RootCauseInput,
    responses((status = 201, body = RootCause)))]
pub async fn create_root_cause(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RootCauseInput>,
) -> AppResult<(StatusCode, Json<RootCause>)> {
    let rc = open_root_cause(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(rc)))
}

#[utoipa::path(post, operation_id = "fix_root_cause", path = "/api/v1/root-causes/{id}/fix", security(("bearer" = ["loops_manage"])), tag = "feedback", params(("id" = i64, Path)),
    request_body = FixInput, responses((status = 200, body = RootCause)))]
pub async fn fix_root_cause(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FixInput>,
) -> AppResult<Json<RootCause>> {
    Ok(Json(
        mark_fixed(&state, &auth.as_actor(), id, &input).await?,
    ))
}
