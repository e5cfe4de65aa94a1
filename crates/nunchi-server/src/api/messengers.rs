//! Messenger channels over HTTP: their settings under `/api/v1/messenger-channels`, and the
//! webhook each provider delivers to, `POST /hooks/messenger/{key}`, which carries no
//! bearer token — it is checked against the channel's own signature scheme instead.

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use nunchi_app::conversations::Intake;
use nunchi_app::messengers::{self, ChannelInput, CreatedChannel};
use nunchi_store::model::MessengerChannel;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath},
};

/// The webhook providers deliver to.
pub const HOOK_PATH: &str = "/hooks/messenger/{key}";
/// LINE and Telegram deliveries are small; this leaves room for batches of events.
const MAX_DELIVERY_BYTES: usize = 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

/// The public webhook (outside the document: providers, not API clients, call it).
pub fn hook_routes() -> Router<AppState> {
    Router::new().route(HOOK_PATH, post(deliver))
}

#[utoipa::path(get, operation_id = "messenger_channels", path = "/api/v1/messenger-channels", security(("bearer" = ["inbox_read"])), tag = "inbox",
    responses((status = 200, body = Vec<MessengerChannel>)))]
pub async fn list(
    auth: Auth,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<MessengerChannel>>> {
    Ok(Json(messengers::channels(&state, &auth.as_actor()).await?))
}

#[utoipa::path(post, operation_id = "create_messenger_channel", path = "/api/v1/messenger-channels", security(("bearer" = ["inbox_manage"])), tag = "inbox",
    request_body = ChannelInput,
    responses((status = 201, body = CreatedChannel, description = "Made; its secret is shown this once"),
              (status = 409, body = crate::error::ErrorBody, description = "The key is taken")))]
pub async fn create(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> AppResult<(StatusCode, Json<CreatedChannel>)> {
    let created = messengers::create_channel(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, operation_id = "delete_messenger_channel", path = "/api/v1/messenger-channels/{id}", security(("bearer" = ["inbox_manage"])), tag = "inbox", params(("id" = i64, Path)),
    responses((status = 204)))]
pub async fn delete(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    messengers::delete_channel(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Received {
    received: Vec<Intake>,
}

async fn deliver(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Received>> {
    let body = axum::body::to_bytes(body, MAX_DELIVERY_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let received = messengers::receive(&state, &key, &headers, &body).await?;
    Ok(Json(Received { received }))
}
