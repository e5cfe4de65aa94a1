//! Bulk data over HTTP: CSV imports (saved to the data folder and run as a background job)
//! and streaming CSV exports in the same format.

use axum::{
    Json, Router,
    body::Body,
    extract::DefaultBodyLimit,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    auth::{Auth, Need, perm},
    error::{AppError, AppResult},
    extract::{ApiPath, ApiQuery},
};
use nunchi_app::import::{self, ImportKind};
use nunchi_app::jobs::{self, JobSpec};

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/imports/{kind}",
            post(start_import).layer(DefaultBodyLimit::max(state.settings.max_upload_bytes)),
        )
        .route("/api/v1/exports/{file}", get(export))
}

/// Streams an upload to a new file in the data folder, refusing more than `max` bytes.
pub async fn save_upload<S, E>(state: &AppState, mut body: S) -> AppResult<std::path::PathBuf>
where
    S: Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let dir = state.uploads_dir();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let path = dir.join(format!(
        "{}-{}.csv",
        state.now(),
        crate::auth::secret::random_token().get(..8).unwrap_or("x")
    ));
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut written = 0usize;
    let result: AppResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                if e.to_string().contains("length limit") {
                    AppError::PayloadTooLarge
                } else {
                    AppError::bad_request("upload_failed", e.to_string())
                }
            })?;
            written += chunk.len();
            if written > state.settings.max_upload_bytes {
                return Err(AppError::PayloadTooLarge);
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        file.sync_all()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        if written == 0 {
            return Err(AppError::bad_request("empty_file", "the file is empty"));
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    Ok(path)
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

pub async fn enqueue_import(
    state: &AppState,
    auth: &Auth,
    what: ImportKind,
    path: std::path::PathBuf,
    dry_run: bool,
) -> AppResult<i64> {
    let id = jobs::enqueue(
        state,
        &JobSpec::Import {
            what,
            path,
            dry_run,
            actor: auth.actor(),
        },
    )
    .await?;
    state
        .audit(
            auth,
            "import.start",
            &format!("job {id}"),
            &format!("{what:?} dry_run={dry_run}").to_lowercase(),
        )
        .await;
    Ok(id)
}

#[utoipa::path(post, path = "/api/v1/imports/{kind}", tag = "data", params(("kind" = String, Path, description = "`customers` or `orders`"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 202, body = ImportStarted), (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn start_import(
    auth: Need<perm::DataImport>,
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
    let path = save_upload(&state, body.into_data_stream()).await?;
    let job_id = enqueue_import(&state, &auth, what, path, q.dry_run).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportStarted { job_id })))
}

/// A streaming CSV download of all customers or orders.
pub async fn csv_download(state: &AppState, auth: &Auth, file: &str) -> AppResult<Response> {
    let kind = match file {
        "customers.csv" => ImportKind::Customers,
        "orders.csv" => ImportKind::Orders,
        _ => return Err(AppError::NotFound(format!("export {file}"))),
    };
    state.audit(auth, "export", file, "full CSV export").await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let store = state.store.clone();
    tokio::spawn(async move {
        let result = match kind {
            ImportKind::Customers => import::export_customers(store.as_ref(), tx).await,
            ImportKind::Orders => import::export_orders(store.as_ref(), tx).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = ?e, "export stopped");
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (Ok::<_, std::io::Error>(c), rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"nunchi-{file}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/exports/{file}", operation_id = "export_csv", tag = "data", params(("file" = String, Path, description = "`customers.csv` or `orders.csv`")),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    auth: Need<perm::DataExport>,
    state: axum::extract::State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> AppResult<Response> {
    csv_download(&state, &auth, &file).await
}
