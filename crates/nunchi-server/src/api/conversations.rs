//! The support desk over HTTP: raw e-mail intake for relays (Postfix pipes, cloud inbound
//! forwarding), the inbox, a conversation's thread, replies and notes, and changes of
//! status, priority, assignment and labels.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use nunchi_app::assignment::{AssignmentSettings, AvailabilityInput};
use nunchi_app::calls::CallInput;
use nunchi_app::conversations::{self, ConversationChange, Intake, MessageInput};
use nunchi_app::inbound_mail::MAX_RAW_BYTES;
use nunchi_app::inbox::{InboxPage, InboxQuery};
use nunchi_app::macros::{Filled, MacroInput};
use nunchi_app::reply_mail::Signature;
use nunchi_app::scores::{RangeQuery, range_ms};
use nunchi_app::sla::{self, SlaPolicyInput};
use nunchi_app::support_report::{self, SupportReport};
use nunchi_store::model::{
    AgentAvailability, Conversation, ConversationMessage, Macro, SlaBreach, SlaPolicy,
    UnreadableMail,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbound_email))
        .routes(routes!(log_call))
        .routes(routes!(unreadable))
        .routes(routes!(list))
        .routes(routes!(get_one, patch))
        .routes(routes!(messages, post_message))
        .routes(routes!(sla_policies, create_sla_policy))
        .routes(routes!(delete_sla_policy))
        .routes(routes!(sla_breaches))
        .routes(routes!(assignment, set_assignment))
        .routes(routes!(set_availability))
        .routes(routes!(set_my_availability))
        .routes(routes!(macros, create_macro))
        .routes(routes!(delete_macro))
        .routes(routes!(fill_macro))
        .routes(routes!(reply_signature, set_reply_signature))
        .routes(routes!(support_report))
        .routes(routes!(support_report_csv))
}

#[utoipa::path(get, operation_id = "assignment", path = "/api/v1/assignment", security(("bearer" = ["inbox_read"])), tag = "inbox",
    responses((status = 200, body = AssignmentSettings)))]
pub async fn assignment(
    auth: Auth,
    State(state): State<AppState>,
) -> AppResult<Json<AssignmentSettings>> {
    Ok(Json(
        nunchi_app::assignment::settings(&state, &auth.as_actor()).await?,
    ))
}

/// How new conversations find an agent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ModeInput {
    /// manual, round_robin or balanced.
    pub mode: String,
}

#[utoipa::path(put, operation_id = "set_assignment", path = "/api/v1/assignment", security(("bearer" = ["inbox_manage"])), tag = "inbox",
    request_body = ModeInput, responses((status = 200, body = AssignmentSettings)))]
pub async fn set_assignment(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ModeInput>,
) -> AppResult<Json<AssignmentSettings>> {
    let actor = auth.as_actor();
    nunchi_app::assignment::set_mode(&state, &actor, &input.mode).await?;
    Ok(Json(
        nunchi_app::assignment::settings(&state, &actor).await?,
    ))
}

#[utoipa::path(put, operation_id = "set_agent_availability", path = "/api/v1/agents/{id}/availability", security(("bearer" = ["inbox_manage"])), tag = "inbox", params(("id" = i64, Path)),
    request_body = AvailabilityInput, responses((status = 200, body = AgentAvailability)))]
pub async fn set_availability(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AvailabilityInput>,
) -> AppResult<Json<AgentAvailability>> {
    Ok(Json(
        nunchi_app::assignment::set_availability(&state, &auth.as_actor(), id, &input).await?,
    ))
}

#[utoipa::path(put, operation_id = "set_my_availability", path = "/api/v1/me/availability", security(("bearer" = ["inbox_write"])), tag = "inbox",
    request_body = AvailabilityInput, responses((status = 200, body = AgentAvailability, description = "The caller's own: away, cap, working hours")))]
pub async fn set_my_availability(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<AvailabilityInput>,
) -> AppResult<Json<AgentAvailability>> {
    let actor = auth.as_actor();
    Ok(Json(
        nunchi_app::assignment::set_availability(&state, &actor, actor.user_id, &input).await?,
    ))
}

#[utoipa::path(get, operation_id = "reply_signature", path = "/api/v1/reply-signature", security(("bearer" = ["inbox_read"])), tag = "inbox",
    responses((status = 200, body = Signature, description = "The signature under e-mail replies, per language")))]
pub async fn reply_signature(State(state): State<AppState>) -> AppResult<Json<Signature>> {
    Ok(Json(nunchi_app::reply_mail::signature(&state).await?))
}

#[utoipa::path(put, operation_id = "set_reply_signature", path = "/api/v1/reply-signature", security(("bearer" = ["inbox_manage"])), tag = "inbox",
    request_body = Signature, responses((status = 200, body = Signature)))]
pub async fn set_reply_signature(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Signature>,
) -> AppResult<Json<Signature>> {
    Ok(Json(
        nunchi_app::reply_mail::set_signature(&state, &auth.as_actor(), &input).await?,
    ))
}

#[utoipa::path(get, operation_id = "macros", path = "/api/v1/macros", security(("bearer" = ["inbox_read"])), tag = "inbox",
    responses((status = 200, body = Vec<Macro>)))]
pub async fn macros(State(state): State<AppState>) -> AppResult<Json<Vec<Macro>>> {
    Ok(Json(state.store.macros().await?))
}

#[utoipa::path(post, operation_id = "create_macro", path = "/api/v1/macros", security(("bearer" = ["inbox_manage"])), tag = "inbox",
    request_body = MacroInput, responses((status = 201, body = Macro)))]
pub async fn create_macro(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<MacroInput>,
) -> AppResult<(StatusCode, Json<Macro>)> {
    let created = nunchi_app::macros::create(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, operation_id = "delete_macro", path = "/api/v1/macros/{id}", security(("bearer" = ["inbox_manage"])), tag = "inbox", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_macro(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    nunchi_app::macros::delete(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, operation_id = "fill_macro", path = "/api/v1/conversations/{id}/macros/{macro_id}", security(("bearer" = ["inbox_write"])), tag = "inbox",
    params(("id" = i64, Path), ("macro_id" = i64, Path)),
    responses((status = 200, body = Filled, description = "The macro in the customer's language with its variables filled")))]
pub async fn fill_macro(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath((id, macro_id)): ApiPath<(i64, i64)>,
) -> AppResult<Json<Filled>> {
    Ok(Json(
        nunchi_app::macros::fill(&state, &auth.as_actor(), macro_id, id).await?,
    ))
}

#[utoipa::path(get, operation_id = "support_report", path = "/api/v1/support/report", security(("bearer" = ["inbox_read"])), tag = "inbox", params(RangeQuery),
    responses((status = 200, body = SupportReport, description = "Conversations started in the period: volume, response and resolution times, SLA hit rate, reopen rate; overall, per channel, team and agent")))]
pub async fn support_report(
    auth: Auth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<SupportReport>> {
    let (from, to) = range_ms(&state, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(
        support_report::report(&state, &auth.as_actor(), from, to).await?,
    ))
}

#[utoipa::path(get, operation_id = "support_report_csv", path = "/api/v1/support/report.csv", security(("bearer" = ["inbox_read"])), tag = "inbox", params(RangeQuery),
    responses((status = 200, content_type = "text/csv", body = String, description = "The per-channel, per-team and per-agent rows")))]
pub async fn support_report_csv(
    auth: Auth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<axum::response::Response> {
    crate::files::support_report_csv(&state, &auth, q.from.as_deref(), q.to.as_deref()).await
}

#[utoipa::path(get, operation_id = "sla_policies", path = "/api/v1/sla-policies", security(("bearer" = ["inbox_read"])), tag = "inbox",
    responses((status = 200, body = Vec<SlaPolicy>)))]
pub async fn sla_policies(State(state): State<AppState>) -> AppResult<Json<Vec<SlaPolicy>>> {
    Ok(Json(state.store.sla_policies().await?))
}

#[utoipa::path(post, operation_id = "create_sla_policy", path = "/api/v1/sla-policies", security(("bearer" = ["inbox_manage"])), tag = "inbox",
    request_body = SlaPolicyInput, responses((status = 201, body = SlaPolicy)))]
pub async fn create_sla_policy(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SlaPolicyInput>,
) -> AppResult<(StatusCode, Json<SlaPolicy>)> {
    let created = sla::create_policy(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, operation_id = "delete_sla_policy", path = "/api/v1/sla-policies/{id}", security(("bearer" = ["inbox_manage"])), tag = "inbox", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_sla_policy(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    sla::delete_policy(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreachQuery {
    /// From this time on (ms since the epoch); everything when absent.
    pub since: Option<i64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, operation_id = "sla_breaches", path = "/api/v1/sla-breaches", security(("bearer" = ["inbox_read"])), tag = "inbox", params(BreachQuery),
    responses((status = 200, body = Vec<SlaBreach>, description = "Missed deadlines, newest first")))]
pub async fn sla_breaches(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BreachQuery>,
) -> AppResult<Json<Vec<SlaBreach>>> {
    let limit = nunchi_app::paging::limit(q.limit)?;
    Ok(Json(
        state
            .store
            .sla_breaches(q.since.unwrap_or(0), limit)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/inbound/email", security(("bearer" = ["inbox_write"])), tag = "inbox",
    request_body(content = String, content_type = "message/rfc822", description = "The raw message, headers and body, as received"),
    responses((status = 200, body = Intake, description = "Stored, or already stored under these ids (same Message-ID)"),
              (status = 400, body = crate::error::ErrorBody, description = "`unreadable_mail`: kept raw for an admin"),
              (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn inbound_email(
    auth: Auth,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Intake>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("message/rfc822")
    {
        return Err(AppError::UnsupportedMediaType(
            "send the raw message as Content-Type: message/rfc822".into(),
        ));
    }
    let raw = axum::body::to_bytes(body, MAX_RAW_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    Ok(Json(
        conversations::take_in_email(&state, &auth.as_actor(), &raw).await?,
    ))
}

#[utoipa::path(post, operation_id = "log_call", path = "/api/v1/calls", security(("bearer" = ["inbox_write"])), tag = "inbox", request_body = CallInput,
    responses((status = 200, body = Intake, description = "Logged on the customer's open conversation or a new phone one; the same call_id answers the same ids")))]
pub async fn log_call(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CallInput>,
) -> AppResult<Json<Intake>> {
    Ok(Json(
        nunchi_app::calls::log_call(&state, &auth.as_actor(), &input).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/inbound/unreadable", security(("bearer" = ["users_manage"])), tag = "inbox", params(LimitQuery),
    responses((status = 200, body = Vec<UnreadableMailView>)))]
pub async fn unreadable(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> AppResult<Json<Vec<UnreadableMailView>>> {
    let limit = nunchi_app::paging::limit(q.limit)?;
    let kept = state.store.unreadable_mail(limit).await?;
    Ok(Json(
        kept.into_iter().map(UnreadableMailView::from).collect(),
    ))
}

/// Mail kept because it could not be read, with its bytes as text (lossy) to look at.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadableMailView {
    pub id: i64,
    pub received_at: i64,
    pub reason: String,
    pub size: usize,
    pub raw: String,
}

impl From<UnreadableMail> for UnreadableMailView {
    fn from(m: UnreadableMail) -> Self {
        UnreadableMailView {
            id: m.id,
            received_at: m.received_at,
            reason: m.reason,
            size: m.raw.len(),
            raw: String::from_utf8_lossy(&m.raw).into_owned(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// open, pending, snoozed or resolved; all when absent.
    pub status: Option<String>,
    /// `mine`, `unassigned` or a user id.
    pub assignee: Option<String>,
    pub team_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only conversations with a message or note containing this, in any language and of
    /// any length ("환불" finds "환불해 주세요"); search results come in one page.
    pub q: Option<String>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, operation_id = "conversations", path = "/api/v1/conversations", security(("bearer" = ["inbox_read"])), tag = "inbox", params(ListQuery),
    responses((status = 200, body = InboxPage)))]
pub async fn list(
    auth: Auth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<InboxPage>> {
    let query = InboxQuery {
        status: q.status,
        assignee: q.assignee,
        team_id: q.team_id,
        customer_id: q.customer_id,
        q: q.q,
        before: q.before,
        limit: q.limit,
    };
    Ok(Json(
        nunchi_app::inbox::inbox(&state, &auth.as_actor(), &query).await?,
    ))
}

#[utoipa::path(get, operation_id = "conversation", path = "/api/v1/conversations/{id}", security(("bearer" = ["inbox_read"])), tag = "inbox", params(("id" = i64, Path)),
    responses((status = 200, body = Conversation)))]
pub async fn get_one(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Conversation>> {
    let (conversation, _) = conversations::thread(&state, &auth.as_actor(), id).await?;
    Ok(Json(conversation))
}

#[utoipa::path(patch, operation_id = "change_conversation", path = "/api/v1/conversations/{id}", security(("bearer" = ["inbox_write"])), tag = "inbox", params(("id" = i64, Path)),
    request_body = ConversationChange, responses((status = 200, body = Conversation)))]
pub async fn patch(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ConversationChange>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(
        conversations::change(&state, &auth.as_actor(), id, &input).await?,
    ))
}

#[utoipa::path(get, operation_id = "conversation_messages", path = "/api/v1/conversations/{id}/messages", security(("bearer" = ["inbox_read"])), tag = "inbox", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ConversationMessage>, description = "The thread in order: incoming, outgoing, notes and activity lines")))]
pub async fn messages(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<ConversationMessage>>> {
    let (_, thread) = conversations::thread(&state, &auth.as_actor(), id).await?;
    Ok(Json(thread))
}

#[utoipa::path(post, operation_id = "post_conversation_message", path = "/api/v1/conversations/{id}/messages", security(("bearer" = ["inbox_write"])), tag = "inbox", params(("id" = i64, Path)),
    request_body = MessageInput, responses((status = 201, body = ConversationMessage)))]
pub async fn post_message(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MessageInput>,
) -> AppResult<(StatusCode, Json<ConversationMessage>)> {
    let added = conversations::post_message(&state, &auth.as_actor(), id, &input).await?;
    Ok((StatusCode::CREATED, Json(added)))
}
