//! Files over HTTP, for the API and the pages alike: an upload streamed to the data folder
//! (refusing more than the configured size), a CSV export streamed as a download, and the
//! support report's rows as CSV, and a conversation's file served safely.

use axum::{
    body::Body,
    http::header,
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
};

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

/// A streaming CSV download of all customers or orders.
pub async fn csv_download(state: &AppState, auth: &Auth, file: &str) -> AppResult<Response> {
    let rx = nunchi_app::import::start_export(state, &auth.as_actor(), file).await?;
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

/// The report's rows as a CSV download, teams and agents by name.
pub async fn support_report_csv(
    state: &AppState,
    auth: &Auth,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<axum::response::Response> {
    let (from, to) = nunchi_app::scores::range_ms(state, from, to)?;
    let report = nunchi_app::support_report::report(state, &auth.as_actor(), from, to).await?;
    let body = nunchi_app::support_report::csv(&report);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"support-report.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// `filename*` of RFC 6266 / 5987: UTF-8, percent-encoded outside the safe characters.
fn encoded_filename(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A conversation's file as a download (a photo shown in place). Served only as the type
/// its bytes were recognised as, never sniffed by the browser and sandboxed, so a file
/// cannot run as a page of nunchi's.
pub fn attachment_response(a: &nunchi_store::model::Attachment, bytes: Vec<u8>) -> Response {
    let inline = a.content_type.starts_with("image/") && a.content_type != "image/heic";
    let ascii: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        encoded_filename(&a.filename)
    );
    sandboxed(a.content_type.clone(), disposition, bytes)
}

/// A stored image (a persona's photo) shown in place, with the same guards as files.
pub fn image_response(content_type: String, bytes: Vec<u8>) -> Response {
    sandboxed(content_type, "inline".to_string(), bytes)
}

/// Bytes served only as `content_type`, never sniffed, sandboxed.
fn sandboxed(content_type: String, disposition: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src 'self'".to_string(),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        bytes,
    )
        .into_response()
}
