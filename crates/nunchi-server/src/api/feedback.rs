//! The feedback stream over HTTP: add feedback as JSON or as a CSV file (each bad item
//! reported with its index or line, the good ones stored), list and read it, and CX
//! scores (NPS, CSAT, CES) with margins of error by period and by channel, touchpoint,
//! journey stage or team.

use axum::{Json, body::Bytes, extract::State};
use nunchi_store::model::{Feedback, FeedbackFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};
use nunchi_app::feedback::{
    self as stream, AddReport, FeedbackInput, ImportError, MAX_ITEMS, prepare,
};
use nunchi_app::scores::{self, GapRow, RangeQuery, ScoresQuery, ScoresReport};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(import_csv))
        .routes(routes!(read))
        .routes(routes!(scores_report))
        .routes(routes!(perception_gap_report))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackBatch {
    /// At most 1,000 items.
    pub feedback: Vec<FeedbackInput>,
}

#[utoipa::path(post, operation_id = "add_feedback", path = "/api/v1/feedback", security(("bearer" = ["data_import"])), tag = "feedback", request_body = FeedbackBatch,
    responses((status = 200, body = AddReport, description = "Good items are stored even when others are rejected")))]
pub async fn add(
    State(state): State<AppState>,
    ApiJson(batch): ApiJson<FeedbackBatch>,
) -> AppResult<Json<AddReport>> {
    if batch.feedback.is_empty() || batch.feedback.len() > MAX_ITEMS {
        return Err(AppError::bad_request(
            "invalid_batch",
            format!("send 1–{MAX_ITEMS} items"),
        ));
    }
    let now = state.now();
    let mut report = AddReport::default();
    let mut good = Vec::new();
    let refs = stream::Refs::load(state.store.as_ref()).await?;
    for (i, input) in batch.feedback.iter().enumerate() {
        match prepare(state.store.as_ref(), &refs, input, now).await {
            Ok(f) => good.push((i, f)),
            Err(e) => report.reject(i, e),
        }
    }
    let customers: Vec<i64> = good.iter().filter_map(|(_, f)| f.customer_id).collect();
    report.store(state.store.as_ref(), good).await?;
    state.touched(customers);
    report.results.sort_by_key(|r| r.at);
    state.annotator.wake();
    Ok(Json(report))
}

#[utoipa::path(post, operation_id = "import_feedback", path = "/api/v1/feedback/import", security(("bearer" = ["data_import"])), tag = "feedback",
    request_body(content = String, content_type = "text/csv", description = "CSV in UTF-8 (or CP949, as Korean Excel saves it) with a header naming the columns: source, external_id, metric, rating, scale_min, scale_max, text (or body, comment), url, author, customer_id, customer_external_id, touchpoint_id, stage, team_id, channel, created_at"),
    responses((status = 200, body = AddReport, description = "Rejected rows are listed by line; the good rows are stored")))]
pub async fn import_csv(State(state): State<AppState>, body: Bytes) -> AppResult<Json<AddReport>> {
    let Some((text, _)) = nunchi_app::text_encoding::utf8_text(&body) else {
        let at = std::str::from_utf8(&body)
            .err()
            .map_or(0, |e| e.valid_up_to());
        return Err(AppError::bad_request(
            "invalid_encoding",
            format!("the file is neither UTF-8 nor CP949 (EUC-KR) (byte {at})"),
        ));
    };
    let report = stream::import_csv(state.store.as_ref(), &text, state.now(), false, &|_| {})
        .await
        .map_err(|e| match e {
            ImportError::Header(m) => AppError::bad_request("invalid_header", m),
            ImportError::Csv(m) => AppError::bad_request("invalid_csv", m),
            ImportError::Store(e) => e.into(),
        })?;
    // A file of answers may move anyone's NPS group.
    state.segment_upkeep.touches.everyone();
    state.annotator.wake();
    Ok(Json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this source.
    pub source: Option<String>,
    pub customer_id: Option<i64>,
    /// Given before the feedback with this id (paging back through the stream, which is
    /// newest first by the time feedback was given).
    pub before: Option<i64>,
    /// Stored after the feedback with this id, in arrival order (catching up a live feed).
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// The feedback as this caller may see it.
pub(crate) fn masked(f: Feedback, auth: &Auth) -> Feedback {
    nunchi_app::privacy::masked_feedback(f, &auth.as_actor())
}

#[utoipa::path(get, operation_id = "list_feedback", path = "/api/v1/feedback", security(("bearer" = ["customers_read"])), tag = "feedback", params(ListQuery), responses((status = 200, body = Vec<Feedback>)))]
pub async fn list(
    auth: Auth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<Feedback>>> {
    let filter = FeedbackFilter {
        source: q.source.filter(|s| !s.trim().is_empty()),
        customer_id: q.customer_id,
        before_id: q.before,
        after_id: q.after,
        limit: nunchi_app::paging::limit(q.limit)?,
    };
    let items = state.store.list_feedback(&filter).await?;
    Ok(Json(items.into_iter().map(|f| masked(f, &auth)).collect()))
}

#[utoipa::path(get, operation_id = "read_feedback", path = "/api/v1/feedback/{id}", security(("bearer" = ["customers_read"])), tag = "feedback", params(("id" = i64, Path)), responses((status = 200, body = Feedback)))]
pub async fn read(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Feedback>> {
    Ok(Json(masked(state.store.feedback(id).await?, &auth)))
}

#[utoipa::path(get, operation_id = "scores", path = "/api/v1/scores", security(("bearer" = ["customers_read"])), tag = "feedback", params(ScoresQuery), responses((status = 200, body = ScoresReport)))]
pub async fn scores_report(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScoresQuery>,
) -> AppResult<Json<ScoresReport>> {
    Ok(Json(scores::scores(&state, &q).await?))
}

#[utoipa::path(get, operation_id = "perception_gap", path = "/api/v1/perception-gap", security(("bearer" = ["customers_read"])), tag = "feedback", params(RangeQuery),
    responses((status = 200, body = Vec<GapRow>, description = "Biggest gap first")))]
pub async fn perception_gap_report(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<GapRow>>> {
    let (from, to) = scores::range_ms(&state, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(scores::perception_gap(&state, from, to).await?))
}
