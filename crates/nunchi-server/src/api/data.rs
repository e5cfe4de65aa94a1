//! Bulk data over HTTP: CSV imports (saved to the data folder and run as a background job)
//! and streaming CSV exports in the same format.

use axum::{
    Json,
    body::Body,
    extract::DefaultBodyLimit,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiPath, ApiQuery},
};
use nunchi_app::import::{self, ImportKind};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let (schemas, paths, import) = routes!(start_import);
    let import = import.layer(DefaultBodyLimit::max(state.settings.max_upload_bytes));
    OpenApiRouter::new()
        .routes((schemas, paths, import))
        .routes(routes!(export))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check every row and report, without saving anything.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportStarted {
    /// Poll `GET /api/v1/jobs/{job_id}`; its `result` holds the report when `status` is `done`.
    pub job_id: i64,
}

#[utoipa::path(post, path = "/api/v1/imports/{kind}", security(("bearer" = ["data_import"])), tag = "data", params(("kind" = String, Path, description = "`customers` or `orders`"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 202, body = ImportStarted), (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn start_import(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, Json<ImportStarted>)> {
    let what = ImportKind::parse(&kind)
        .ok_or_else(|| AppError::NotFound(format!("import kind {kind}")))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("text/csv") {
        return Err(AppError::UnsupportedMediaType(
            "send the file as Content-Type: text/csv".into(),
        ));
    }
    let path = crate::files::save_upload(&state, body.into_data_stream()).await?;
    let job_id = import::enqueue_import(&state, &auth.as_actor(), what, path, q.dry_run).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportStarted { job_id })))
}

#[utoipa::path(get, path = "/api/v1/exports/{file}", security(("bearer" = ["data_export"])), operation_id = "export_csv", tag = "data", params(("file" = String, Path, description = "`customers.csv` or `orders.csv`")),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> AppResult<Response> {
    crate::files::csv_download(&state, &auth, &file).await
}
