//! The feedback stream over HTTP: add feedback as JSON or as a CSV file (each bad item
//! reported with its index or line, the good ones stored), list and read it, and CX
//! scores (NPS, CSAT, CES) with margins of error by period and by channel, touchpoint,
//! journey stage or team.

use std::collections::HashMap;

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    routing::{get, post},
};
use nunchi_analytics::retention::Period;
use nunchi_analytics::scores::{self, Answer, Metric, Score, Tally};
use nunchi_core::access::Permission;
use nunchi_core::mask;
use nunchi_core::time::Millis;
use nunchi_store::model::{Feedback, FeedbackFilter, MetricRating};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    auth::{Auth, Need, perm},
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};
use nunchi_app::feedback::{
    self as stream, AddReport, FeedbackInput, ImportError, MAX_ITEMS, prepare,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/feedback", get(list).post(add))
        .route("/api/v1/feedback/import", post(import_csv))
        .route("/api/v1/feedback/{id}", get(read))
        .route("/api/v1/scores", get(scores_report))
        .route("/api/v1/perception-gap", get(perception_gap_report))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackBatch {
    /// At most 1,000 items.
    pub feedback: Vec<FeedbackInput>,
}

#[utoipa::path(post, operation_id = "add_feedback", path = "/api/v1/feedback", tag = "feedback", request_body = FeedbackBatch,
    responses((status = 200, body = AddReport, description = "Good items are stored even when others are rejected")))]
pub async fn add(
    _auth: Need<perm::DataImport>,
    State(state): State<AppState>,
    ApiJson(batch): ApiJson<FeedbackBatch>,
) -> AppResult<Json<AddReport>> {
    if batch.feedback.is_empty() || batch.feedback.len() > MAX_ITEMS {
        return Err(AppError::bad_request(
            "invalid_batch",
            format!("send 1–{MAX_ITEMS} items"),
        ));
    }
    let now = crate::now_ms();
    let mut report = AddReport::default();
    let mut good = Vec::new();
    let refs = stream::Refs::load(state.store.as_ref()).await?;
    for (i, input) in batch.feedback.iter().enumerate() {
        match prepare(state.store.as_ref(), &refs, input, now).await {
            Ok(f) => good.push((i, f)),
            Err(e) => report.reject(i, e),
        }
    }
    report.store(state.store.as_ref(), good).await?;
    report.results.sort_by_key(|r| r.at);
    state.annotator.wake();
    Ok(Json(report))
}

#[utoipa::path(post, operation_id = "import_feedback", path = "/api/v1/feedback/import", tag = "feedback",
    request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header naming the columns: source, external_id, metric, rating, scale_min, scale_max, text (or body, comment), url, author, customer_id, customer_external_id, touchpoint_id, stage, team_id, channel, created_at"),
    responses((status = 200, body = AddReport, description = "Rejected rows are listed by line; the good rows are stored")))]
pub async fn import_csv(
    _auth: Need<perm::DataImport>,
    State(state): State<AppState>,
    body: Bytes,
) -> AppResult<Json<AddReport>> {
    let text = std::str::from_utf8(&body).map_err(|e| {
        AppError::bad_request(
            "invalid_encoding",
            format!("the file is not UTF-8 (byte {})", e.valid_up_to()),
        )
    })?;
    let report = stream::import_csv(state.store.as_ref(), text, crate::now_ms(), false, &|_| {})
        .await
        .map_err(|e| match e {
            ImportError::Header(m) => AppError::bad_request("invalid_header", m),
            ImportError::Csv(m) => AppError::bad_request("invalid_csv", m),
            ImportError::Store(e) => e.into(),
        })?;
    state.annotator.wake();
    Ok(Json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this source.
    pub source: Option<String>,
    pub customer_id: Option<i64>,
    /// Older than this id (paging back through the stream).
    pub before: Option<i64>,
    /// Newer than this id, oldest first (catching up a live feed).
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// Hides the author's name from roles that may not see personal data.
pub(crate) fn masked(mut f: Feedback, auth: &Auth) -> Feedback {
    if !auth.can(Permission::ViewPii) {
        f.author = f.author.as_deref().map(mask::mask_name);
    }
    f
}

#[utoipa::path(get, operation_id = "list_feedback", path = "/api/v1/feedback", tag = "feedback", params(ListQuery), responses((status = 200, body = Vec<Feedback>)))]
pub async fn list(
    auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<Feedback>>> {
    let filter = FeedbackFilter {
        source: q.source.filter(|s| !s.trim().is_empty()),
        customer_id: q.customer_id,
        before_id: q.before,
        after_id: q.after,
        limit: super::limit(q.limit)?,
    };
    let items = state.store.list_feedback(&filter).await?;
    Ok(Json(items.into_iter().map(|f| masked(f, &auth)).collect()))
}

#[utoipa::path(get, operation_id = "read_feedback", path = "/api/v1/feedback/{id}", tag = "feedback", params(("id" = i64, Path)), responses((status = 200, body = Feedback)))]
pub async fn read(
    auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Feedback>> {
    Ok(Json(masked(state.store.feedback(id).await?, &auth)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoresQuery {
    /// nps, csat or ces (eNPS is nps over employee pulse answers).
    pub metric: String,
    /// day or week (default week, Monday to Sunday in Korean time).
    pub period: Option<String>,
    /// none (default), channel, touchpoint, stage or team.
    pub by: Option<String>,
    /// Start, inclusive: RFC 3339, a date, or Unix seconds; 90 days ago by default.
    pub from: Option<String>,
    /// End, exclusive; now by default.
    pub to: Option<String>,
    /// customers (default) or employees (pulse surveys: eNPS).
    pub audience: Option<String>,
    /// Only customers with this tag (a segment, e.g. vip).
    pub tag: Option<String>,
    /// all (default) or known: only answers from a known customer, leaving out anonymous
    /// survey-link and widget answers and unattributed reviews.
    pub respondents: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScorePoint {
    /// When the period starts, RFC 3339.
    pub period_start: String,
    /// The group's name (channel) or id (touchpoint, stage, team); `null` where none applies.
    pub group: Option<String>,
    #[schema(value_type = Object)]
    pub score: Score,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoresReport {
    pub metric: String,
    pub period: String,
    pub by: String,
    /// The whole range; `null` without answers.
    #[schema(value_type = Object)]
    pub overall: Option<Score>,
    /// Per group over the whole range.
    pub groups: Vec<ScorePoint>,
    pub series: Vec<ScorePoint>,
    /// Of the answers in `overall`, how many came from no known customer (anonymous
    /// survey-link and widget answers, unattributed reviews); `respondents=known` leaves
    /// them out.
    pub anonymous: u64,
}

/// Weeks and days start at midnight in Korea.
const UTC_OFFSET_SECS: i32 = 9 * 3600;

#[utoipa::path(get, operation_id = "scores", path = "/api/v1/scores", tag = "feedback", params(ScoresQuery), responses((status = 200, body = ScoresReport)))]
pub async fn scores_report(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScoresQuery>,
) -> AppResult<Json<ScoresReport>> {
    Ok(Json(scores(&state, &q).await?))
}

/// How to group a score report, with the answers it covers.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSpec {
    pub metric: Metric,
    pub period: Period,
    pub by: By,
    /// Employee pulse answers (eNPS) instead of customers'.
    pub employees: bool,
    /// Start of the range, Unix ms, for the per-group figures' label.
    pub from: i64,
}

/// What a score report is split by besides the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    None,
    Channel,
    Touchpoint,
    Stage,
    Team,
}

impl By {
    fn parse(s: &str) -> Option<By> {
        Some(match s {
            "none" => By::None,
            "channel" => By::Channel,
            "touchpoint" => By::Touchpoint,
            "stage" => By::Stage,
            "team" => By::Team,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            By::None => "none",
            By::Channel => "channel",
            By::Touchpoint => "touchpoint",
            By::Stage => "stage",
            By::Team => "team",
        }
    }

    fn group_of(self, r: &MetricRating) -> Option<String> {
        match self {
            By::None => None,
            By::Channel => Some(r.channel.clone()),
            By::Touchpoint => r.touchpoint_id.map(|v| v.to_string()),
            By::Stage => r.stage_id.map(|v| v.to_string()),
            By::Team => r.team_id.map(|v| v.to_string()),
        }
    }
}

/// A metric's score over the range, per group, and per period and group, as the API asks.
/// The customers with `tag` (a segment), when one is named.
pub async fn segment(
    state: &AppState,
    tag: Option<&str>,
) -> AppResult<Option<std::collections::HashSet<i64>>> {
    match tag.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Ok(Some(
            state.store.customers_tagged(t).await?.into_iter().collect(),
        )),
        None => Ok(None),
    }
}

/// Keeps the ratings of a segment's members (when one is named) and, with `known_only`,
/// only those from a known customer.
pub fn keep_respondents(
    ratings: &mut Vec<MetricRating>,
    members: Option<&std::collections::HashSet<i64>>,
    known_only: bool,
) {
    ratings.retain(|r| match (r.customer_id, members) {
        (Some(c), Some(m)) => m.contains(&c),
        (None, Some(_)) => false,
        (c, None) => c.is_some() || !known_only,
    });
}

pub async fn scores(state: &AppState, q: &ScoresQuery) -> AppResult<ScoresReport> {
    let metric = match Metric::parse(&q.metric) {
        Ok(m @ (Metric::Nps | Metric::Csat | Metric::Ces)) => m,
        _ => {
            return Err(AppError::bad_request(
                "invalid_metric",
                "metric is one of nps, csat, ces",
            ));
        }
    };
    let period = match q.period.as_deref().unwrap_or("week") {
        "week" => Period::Week,
        "day" => Period::Day,
        other => {
            return Err(AppError::bad_request(
                "invalid_period",
                format!("period is day or week, not {other:?}"),
            ));
        }
    };
    let by = By::parse(q.by.as_deref().unwrap_or("none")).ok_or_else(|| {
        AppError::bad_request(
            "invalid_by",
            "by is none, channel, touchpoint, stage or team",
        )
    })?;
    let employees = match q.audience.as_deref().unwrap_or("customers") {
        "customers" => false,
        "employees" => true,
        other => {
            return Err(AppError::bad_request(
                "invalid_audience",
                format!("audience is customers or employees, not {other:?}"),
            ));
        }
    };
    let (from, to) = range_ms(q.from.as_deref(), q.to.as_deref())?;
    let mut ratings = state
        .store
        .metric_ratings(metric.as_str(), from, to)
        .await?;
    let known_only = match q.respondents.as_deref().unwrap_or("all") {
        "all" => false,
        "known" => true,
        other => {
            return Err(AppError::bad_request(
                "invalid_respondents",
                format!("respondents is all or known, not {other:?}"),
            ));
        }
    };
    let members = segment(state, q.tag.as_deref()).await?;
    keep_respondents(&mut ratings, members.as_ref(), known_only);
    Ok(report(
        &ratings,
        &ScoreSpec {
            metric,
            period,
            by,
            employees,
            from,
        },
    ))
}

/// Scores from ratings already read from the store (one metric's, over the range), so that
/// a page can group the same ratings several ways with one query.
pub fn report(ratings: &[MetricRating], spec: &ScoreSpec) -> ScoresReport {
    let metric = spec.metric;
    let mut groups: Vec<Option<String>> = Vec::new();
    let mut codes: HashMap<Option<String>, u16> = HashMap::new();
    let mut answers = Vec::with_capacity(ratings.len());
    let mut anonymous = 0;
    for r in ratings
        .iter()
        .filter(|r| (r.source == "employee") == spec.employees)
    {
        anonymous += u64::from(r.customer_id.is_none());
        let group = spec.by.group_of(r);
        let next = groups.len() as u16;
        let key = *codes.entry(group.clone()).or_insert_with(|| {
            groups.push(group);
            next
        });
        answers.push(Answer {
            ts: (r.created_at.max(0) / 1000).min(u32::MAX as i64) as u32,
            key,
            value: r.rating.round().clamp(0.0, 10.0) as u8,
        });
    }
    let cells = scores::by_period(&answers, spec.period, UTC_OFFSET_SECS);
    let mut overall = Tally::default();
    let mut per_group = vec![Tally::default(); groups.len()];
    for ((_, key), t) in &cells {
        overall.merge(t);
        per_group[*key as usize].merge(t);
    }
    let start = |p: i64| Millis(spec.period.start(p, UTC_OFFSET_SECS) * 1000).to_rfc3339();
    let range_start = Millis(spec.from).to_rfc3339();
    ScoresReport {
        metric: metric.as_str().into(),
        period: match spec.period {
            Period::Week => "week".into(),
            Period::Day => "day".into(),
        },
        by: spec.by.as_str().into(),
        overall: overall.score(metric),
        groups: per_group
            .iter()
            .enumerate()
            .filter_map(|(k, t)| {
                t.score(metric).map(|score| ScorePoint {
                    period_start: range_start.clone(),
                    group: groups[k].clone(),
                    score,
                })
            })
            .collect(),
        series: cells
            .iter()
            .filter_map(|((p, key), t)| {
                t.score(metric).map(|score| ScorePoint {
                    period_start: start(*p),
                    group: groups[*key as usize].clone(),
                    score,
                })
            })
            .collect(),
        anonymous,
    }
}

/// One touchpoint's perception gap: what the team expects against what customers say.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapRow {
    pub touchpoint_id: i64,
    pub name: String,
    pub stage_id: Option<i64>,
    /// The team's expected rating, 1–5.
    pub expected: f64,
    /// Customers' ratings of it, normalised and put on the same 1–5 scale.
    pub customers: f64,
    pub responses: i64,
    /// `expected − customers`: positive where the team thinks better of it than customers do.
    pub gap: f64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Start, inclusive: RFC 3339, a date, or Unix seconds; 90 days before `to` by default.
    pub from: Option<String>,
    /// End, exclusive; now by default.
    pub to: Option<String>,
}

/// A `[from, to)` range in Unix ms from optional query values: `to` defaults to now and
/// `from` to 90 days before `to`.
fn range_ms(from: Option<&str>, to: Option<&str>) -> AppResult<(i64, i64)> {
    let when = |field: &str, v: Option<&str>| -> AppResult<Option<i64>> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => Millis::parse(t)
                .map(|m| Some(m.0))
                .map_err(|e| AppError::bad_request(&format!("invalid_{field}"), e.to_string())),
        }
    };
    let to = when("to", to)?.unwrap_or(crate::now_ms() + 1);
    let from = when("from", from)?.unwrap_or(to - 90 * 86_400_000);
    Ok((from, to))
}

/// Touchpoints with an expected rating and customer ratings in `[from, to)` (Unix ms),
/// the biggest gap first.
pub async fn perception_gap(state: &AppState, from: i64, to: i64) -> AppResult<Vec<GapRow>> {
    let touchpoints = state.store.touchpoints().await?;
    let mut rows: Vec<GapRow> = state
        .store
        .touchpoint_signals(from, to)
        .await?
        .into_iter()
        .filter(|s| s.scores > 0)
        .filter_map(|s| {
            let t = touchpoints.iter().find(|t| t.id == s.touchpoint_id)?;
            let expected = t.expected_rating?;
            let customers = 1.0 + 4.0 * s.score_sum / s.scores as f64;
            Some(GapRow {
                touchpoint_id: t.id,
                name: t.name.clone(),
                stage_id: t.stage_id,
                expected,
                customers,
                responses: s.scores,
                gap: expected - customers,
            })
        })
        .collect();
    rows.sort_by(|a, b| b.gap.total_cmp(&a.gap));
    Ok(rows)
}

#[utoipa::path(get, operation_id = "perception_gap", path = "/api/v1/perception-gap", tag = "feedback", params(RangeQuery),
    responses((status = 200, body = Vec<GapRow>, description = "Biggest gap first")))]
pub async fn perception_gap_report(
    _auth: Need<perm::CustomersRead>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<GapRow>>> {
    let (from, to) = range_ms(q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(perception_gap(&state, from, to).await?))
}
