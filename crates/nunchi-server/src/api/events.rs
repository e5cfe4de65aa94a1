//! Event ingest over HTTP: Segment's tracking API under `/v1/*` (write-key auth, so
//! existing Segment SDKs work unchanged), the native `/api/v1/events`, event sources and
//! their write keys, and a customer's events.

use std::io::Read;

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::Engine;
use jiff::Timestamp;
use nunchi_store::model::{EventRow, EventSource};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json, value::RawValue};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use nunchi_app::sources::{CreatedSource, SourceInput, create_source_checked};

use crate::{
    AppState,
    auth::{Auth, secret},
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
    ratelimit::ClientIp,
};
use nunchi_app::events::{
    IngestError,
    segment::{self, Invalid, Kind, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES},
};

/// Segment's tracking calls: write-key auth, outside the OpenAPI document.
pub fn tracking_routes() -> Router<AppState> {
    Router::new().route("/v1/{call}", post(tracking))
}

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(native))
        .routes(routes!(sources, create_source))
        .routes(routes!(customer_events))
}

/// A Segment-shaped error: `{"success": false, "code", "message"}`, plus the refused
/// messages of a batch by index.
fn tracking_error(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    errors: Vec<Value>,
) -> Response {
    let mut body = json!({"success": false, "code": code, "message": message.into()});
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    (status, Json(body)).into_response()
}

/// A 429 in Segment's shape with `Retry-After`, which Segment's libraries honour.
fn rate_limited(wait: std::time::Duration) -> Response {
    let secs = crate::ratelimit::retry_after_secs(wait);
    let mut r = tracking_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; retry in {secs} s"),
        vec![],
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    r
}

/// The write key from `Authorization: Basic base64(key:)`, as Segment's libraries send it.
fn basic_write_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split_once(':').map_or(text.as_str(), |(k, _)| k);
    (!key.is_empty()).then(|| key.to_string())
}

/// The body, gunzipped when the sender compressed it, never more than `limit` bytes.
fn body_text<'a>(
    headers: &HeaderMap,
    body: &'a Bytes,
    limit: usize,
    code: &str,
) -> Result<std::borrow::Cow<'a, [u8]>, Box<Response>> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let too_large = || {
        Box::new(tracking_error(
            StatusCode::BAD_REQUEST,
            code,
            format!("the request is over {} KB", limit / 1024),
            vec![],
        ))
    };
    if !gzip {
        return if body.len() > limit {
            Err(too_large())
        } else {
            Ok(std::borrow::Cow::Borrowed(&body[..]))
        };
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| {
            Box::new(tracking_error(
                StatusCode::BAD_REQUEST,
                "invalid_gzip",
                "the body is not valid gzip",
                vec![],
            ))
        })?;
    if out.len() > limit {
        return Err(too_large());
    }
    Ok(std::borrow::Cow::Owned(out))
}

#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow)]
    batch: Vec<&'a RawValue>,
    #[serde(default, rename = "sentAt")]
    sent_at: Option<String>,
    #[serde(default)]
    context: Option<serde_json::Map<String, Value>>,
    #[serde(default, rename = "writeKey")]
    write_key: Option<String>,
}

/// Only the write key of a single message, for senders that put it in the body.
#[derive(Deserialize)]
struct WriteKeyOnly {
    #[serde(default, rename = "writeKey")]
    write_key: Option<String>,
}

/// Validates raw messages; the batch's `sentAt` and `context` apply to messages that
/// carry none. Errors name each refused message by index.
fn parse_messages(
    raw: &[&RawValue],
    kind: Option<Kind>,
    sent_at: Option<&str>,
    context: Option<&serde_json::Map<String, Value>>,
) -> Result<Vec<segment::Message>, Vec<Value>> {
    let received = Timestamp::now();
    let mut good = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        if r.get().len() > MAX_MESSAGE_BYTES {
            errors.push(json!({"index": i, "code": "message_too_large", "message": format!("message {i} is over 32 KB")}));
            continue;
        }
        match segment::parse(r.get(), kind, sent_at, context, received, || {
            format!("nunchi-{}", secret::random_token())
        }) {
            Ok(m) => good.push(m),
            Err(Invalid { code, message }) => {
                errors.push(json!({"index": i, "code": code, "message": message}))
            }
        }
    }
    if errors.is_empty() {
        Ok(good)
    } else {
        Err(errors)
    }
}

fn ingest_failure(e: IngestError) -> Response {
    tracing::error!(error = ?e, "event ingest failed");
    tracking_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "events could not be stored; retry",
        vec![],
    )
}

/// Segment's tracking API: `/v1/identify|track|page|screen|group|alias` take one message,
/// `/v1/batch` (and `/v1/import`) up to 500 KB of them. A 200 means stored durably.
async fn tracking(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(call): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The address is checked before the body is read, so a flood costs little to refuse.
    if let Err(e) = state.limits.tracking_address.check(ip) {
        return rate_limited(e);
    }
    let (kind, is_batch) = match call.as_str() {
        "batch" | "import" => (None, true),
        other => match Kind::parse(other) {
            Some(k) => (Some(k), false),
            None => {
                return tracking_error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no endpoint /v1/{other}"),
                    vec![],
                );
            }
        },
    };
    let (limit, code) = if is_batch {
        (MAX_BATCH_BYTES, "batch_too_large")
    } else {
        (MAX_MESSAGE_BYTES, "message_too_large")
    };
    let text = match body_text(&headers, &body, limit, code) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let Ok(text) = std::str::from_utf8(&text) else {
        return tracking_error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body is not UTF-8",
            vec![],
        );
    };
    let (raw, sent_at, context, body_key) = if is_batch {
        match serde_json::from_str::<BatchBody<'_>>(text) {
            Ok(b) => (b.batch, b.sent_at, b.context, b.write_key),
            Err(e) => {
                return tracking_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("expected {{\"batch\": [...]}}: {e}"),
                    vec![],
                );
            }
        }
    } else {
        match serde_json::from_str::<&RawValue>(text) {
            Ok(r) => (vec![r], None, None, None),
            Err(e) => {
                return tracking_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    e.to_string(),
                    vec![],
                );
            }
        }
    };
    // Senders without Basic auth may put the key in the body, as Segment allows.
    let in_body = || {
        body_key.clone().or_else(|| {
            raw.first()
                .and_then(|r| serde_json::from_str::<WriteKeyOnly>(r.get()).ok())
                .and_then(|k| k.write_key)
        })
    };
    let Some(key) = basic_write_key(&headers).or_else(in_body) else {
        return tracking_error(
            StatusCode::UNAUTHORIZED,
            "missing_write_key",
            "send the source's write key as the Basic auth user name",
            vec![],
        );
    };
    let source = match state.events.source(state.store.as_ref(), &key).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return tracking_error(
                StatusCode::UNAUTHORIZED,
                "invalid_write_key",
                "no source has this write key",
                vec![],
            );
        }
        Err(e) => return ingest_failure(e.into()),
    };
    if let Err(e) = state.limits.tracking_key.check(source.id) {
        return rate_limited(e);
    }
    let messages = match parse_messages(&raw, kind, sent_at.as_deref(), context.as_ref()) {
        Ok(m) => m,
        Err(errors) => {
            let first = errors[0]["message"]
                .as_str()
                .unwrap_or("invalid message")
                .to_string();
            return tracking_error(StatusCode::BAD_REQUEST, "invalid_message", first, errors);
        }
    };
    match state
        .events
        .ingest(state.store.as_ref(), &source, messages, state.now())
        .await
    {
        Ok(_) => Json(json!({"success": true})).into_response(),
        Err(e) => ingest_failure(e),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResult {
    /// Messages accepted in this request.
    pub accepted: usize,
    /// Of those, how many were new (the rest repeated a message id already stored).
    pub new: usize,
}

/// `{"events": [...]}`: Segment-shaped messages (`type` defaults to track).
#[derive(Debug, Deserialize, ToSchema)]
pub struct EventsInput {
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Box<RawValue>>,
}

#[utoipa::path(post, path = "/api/v1/events", security(("bearer" = ["data_import"])), tag = "events", request_body = EventsInput,
    responses((status = 200, body = IngestResult), (status = 400, body = crate::error::ErrorBody)))]
pub async fn native(State(state): State<AppState>, body: Bytes) -> AppResult<Json<IngestResult>> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let input: EventsInput = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(
            "invalid_json",
            format!("expected {{\"events\": [...]}}: {e}"),
        )
    })?;
    let raw: Vec<&RawValue> = input.events.iter().map(|b| b.as_ref()).collect();
    let messages = parse_messages(&raw, Some(Kind::Track), None, None).map_err(|errors| {
        let listed: Vec<String> = errors
            .iter()
            .take(10)
            .map(|e| {
                format!(
                    "event {}: {}",
                    e["index"],
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        AppError::bad_request("invalid_event", listed.join("; "))
    })?;
    let accepted = messages.len();
    let source = api_source(&state).await?;
    let new = state
        .events
        .ingest(state.store.as_ref(), &source, messages, state.now())
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(IngestResult { accepted, new }))
}

/// The source the native API's events are recorded under, created on first use.
async fn api_source(state: &AppState) -> AppResult<EventSource> {
    const MARK: &str = "(api)";
    if let Some(s) = state
        .store
        .sources()
        .await?
        .into_iter()
        .find(|s| s.write_key_prefix == MARK)
    {
        return Ok(s);
    }
    // Its key is never shown: the native API authenticates with user tokens.
    let hash = secret::hash(&secret::random_token());
    Ok(state
        .store
        .create_source("nunchi API", &hash, MARK, None)
        .await?)
}

#[utoipa::path(get, path = "/api/v1/sources", security(("bearer" = ["users_manage"])), tag = "events", responses((status = 200, body = Vec<EventSource>)))]
pub async fn sources(State(state): State<AppState>) -> AppResult<Json<Vec<EventSource>>> {
    Ok(Json(state.store.sources().await?))
}

#[utoipa::path(post, path = "/api/v1/sources", security(("bearer" = ["users_manage"])), tag = "events", request_body = SourceInput, responses((status = 200, body = CreatedSource)))]
pub async fn create_source(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SourceInput>,
) -> AppResult<Json<CreatedSource>> {
    Ok(Json(
        create_source_checked(&state, &auth.as_actor(), &input).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/events", security(("bearer" = ["customers_read"])), tag = "events", params(("id" = i64, Path), EventsQuery),
    responses((status = 200, body = Vec<EventRow>)))]
pub async fn customer_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> AppResult<Json<Vec<EventRow>>> {
    state.store.customer(id).await?;
    let limit = nunchi_app::paging::limit(q.limit)?;
    Ok(Json(state.store.customer_events(id, limit).await?))
}
