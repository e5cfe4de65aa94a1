//! The closed loop over HTTP: rules that open a follow-up for feedback that needs one
//! (low score, negative text, a topic, a source), the follow-ups with their owners and due
//! times, closing them with a resolution, and the closed-loop rate and time to close per
//! owner.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
};
use nunchi_core::feedback::Source;
use nunchi_store::model::{FollowUp, LoopRule, NewLoopRule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    auth::{Need, perm},
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/loop-rules", get(rules).post(create_rule))
        .route("/api/v1/loop-rules/{id}", delete(delete_rule))
        .route("/api/v1/follow-ups", get(follow_ups))
        .route("/api/v1/follow-ups/report", get(report))
        .route("/api/v1/follow-ups/{id}/close", post(close))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoopRuleInput {
    pub name: String,
    /// Normalised rating at most this (0..1; 0.6 is an NPS of 6 or a CSAT of 3.4).
    #[serde(default)]
    pub max_score: Option<f64>,
    /// Text sentiment at most this (−1..1).
    #[serde(default)]
    pub max_sentiment: Option<f64>,
    /// A topic label the text mentions, Korean or English (e.g. 배송 지연).
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Who gets the follow-ups.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Hours until a follow-up is due (1–720).
    pub due_hours: i64,
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
    let bad = |code: &str, m: &str| Err(AppError::bad_request(code, m.to_string()));
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return bad("invalid_name", "the name must be 1–100 characters");
    }
    if input.max_score.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
        return bad("invalid_max_score", "max_score is between 0 and 1");
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
    if input.max_score.is_none() && input.max_sentiment.is_none() && topic.is_none() {
        return bad(
            "no_condition",
            "a rule needs a score, a sentiment or a topic condition",
        );
    }
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
            max_sentiment: input.max_sentiment,
            topic: topic.map(str::to_string),
            source: source.map(str::to_string),
            owner_id: input.owner_id,
            due_hours: input.due_hours,
        })
        .await?;
    state
        .audit(
            &auth,
            "loop_rule.create",
            &format!("loop_rule:{}", rule.id),
            name,
        )
        .await;
    Ok((StatusCode::CREATED, Json(rule)))
}

#[utoipa::path(delete, operation_id = "delete_loop_rule", path = "/api/v1/loop-rules/{id}", tag = "feedback", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete_rule(
    auth: Need<perm::LoopsManage>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    state.store.delete_loop_rule(id).await?;
    state
        .audit(&auth, "loop_rule.delete", &format!("loop_rule:{id}"), "")
        .await;
    Ok(StatusCode::NO_CONTENT)
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
    let resolution = input.resolution.trim();
    if resolution.is_empty() || resolution.chars().count() > 2_000 {
        return Err(AppError::bad_request(
            "invalid_resolution",
            "say what was done, in 1–2,000 characters",
        ));
    }
    let closed = state.store.close_follow_up(id, resolution).await?;
    state
        .audit(&auth, "follow_up.close", &format!("follow_up:{id}"), "")
        .await;
    Ok(Json(closed))
}

/// One owner's closed loop.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerLoop {
    /// `null` for follow-ups without an owner.
    pub owner_id: Option<i64>,
    pub opened: u64,
    pub closed: u64,
    /// closed / opened.
    pub closed_loop_rate: f64,
    /// Median hours from opening to closing, over the closed ones.
    pub median_hours_to_close: Option<f64>,
    /// Open and past their due time now.
    pub overdue: u64,
}

/// Follow-ups read for the report, at most.
const REPORT_LIMIT: i64 = 100_000;

#[utoipa::path(get, operation_id = "follow_up_report", path = "/api/v1/follow-ups/report", tag = "feedback",
    responses((status = 200, body = Vec<OwnerLoop>)))]
pub async fn report(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<OwnerLoop>>> {
    let now = crate::now_ms();
    let all = state.store.follow_ups(None, REPORT_LIMIT).await?;
    let mut by_owner: BTreeMap<Option<i64>, Vec<&FollowUp>> = BTreeMap::new();
    for f in &all {
        by_owner.entry(f.owner_id).or_default().push(f);
    }
    Ok(Json(
        by_owner
            .into_iter()
            .map(|(owner_id, items)| {
                let mut hours: Vec<f64> = items
                    .iter()
                    .filter_map(|f| f.closed_at.map(|c| (c - f.created_at) as f64 / 3_600_000.0))
                    .collect();
                hours.sort_by(f64::total_cmp);
                let closed = hours.len() as u64;
                OwnerLoop {
                    owner_id,
                    opened: items.len() as u64,
                    closed,
                    closed_loop_rate: closed as f64 / items.len() as f64,
                    median_hours_to_close: (!hours.is_empty()).then(|| hours[hours.len() / 2]),
                    overdue: items
                        .iter()
                        .filter(|f| f.status == "open" && f.due_at < now)
                        .count() as u64,
                }
            })
            .collect(),
    ))
}
