//! The import & export page: upload a CSV (run as a background job), follow its report,
//! download full exports.

use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, State},
    response::{IntoResponse, Redirect},
    routing::get,
};
use futures_util::StreamExt;
use nunchi_store::model::Job;

use super::{Chrome, UiNeed, UiResult, fmt_time, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::ApiPath,
    files::{csv_download, save_upload},
};
use nunchi_app::import::{ImportKind, ImportOutcome, ImportReport};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/import",
            get(page).post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/import/jobs/{id}", get(job_page))
        .route("/export/{file}", get(download))
}

struct JobRow {
    id: i64,
    outcome: ImportOutcome,
    created: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    jobs: Vec<JobRow>,
    can_export: bool,
}

fn summary(t: &crate::i18n::Strings, job: &Job) -> String {
    match job
        .result
        .as_deref()
        .map(serde_json::from_str::<ImportReport>)
    {
        Some(Ok(r)) => format!(
            "{} / {} ✓, {} ✗{}",
            r.imported,
            r.rows,
            r.rejected,
            if r.dry_run {
                format!(" {}", t.dry_run_note)
            } else {
                String::new()
            }
        ),
        // A file the import could not read: its reason.
        _ => job
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
            .and_then(|v| v.get("file_error")?.as_str().map(str::to_string))
            .or_else(|| job.last_error.clone())
            .unwrap_or_default(),
    }
}

async fn page(State(state): State<AppState>, auth: UiNeed<perm::DataImport>) -> UiResult {
    let t = lang_of(&auth).strings();
    let jobs = state
        .store
        .jobs(50)
        .await?
        .into_iter()
        .filter(|j| j.kind == "import")
        .map(|j| JobRow {
            id: j.id,
            outcome: nunchi_app::import::outcome(&j),
            created: fmt_time(j.created_at),
            summary: summary(t, &j),
        })
        .collect();
    Ok(render(ImportPage {
        chrome: Chrome::new(&auth, "/import", t.import_title),
        jobs,
        can_export: auth.can(nunchi_core::access::Permission::DataExport),
    }))
}

async fn upload(
    State(state): State<AppState>,
    auth: UiNeed<perm::DataImport>,
    mut form: Multipart,
) -> UiResult {
    let (mut csrf, mut kind, mut dry_run, mut path) = (String::new(), None, false, None);
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request("invalid_form", e.body_text())
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "kind" => kind = ImportKind::parse(&field.text().await.map_err(bad)?),
            "dry_run" => dry_run = true,
            "file" => {
                // Check the token before writing anything to disk.
                check_form_csrf(&auth, &csrf)?;
                path = Some(
                    save_upload(&state, field.map(|c| c.map_err(|e| e.body_text())).boxed())
                        .await?,
                );
            }
            _ => {}
        }
    }
    check_form_csrf(&auth, &csrf)?;
    let (Some(kind), Some(path)) = (kind, path) else {
        return Err(
            AppError::bad_request("invalid_form", "choose what the file holds and a file").into(),
        );
    };
    let id =
        nunchi_app::import::enqueue_import(&state, &auth.as_actor(), kind, path, dry_run).await?;
    Ok(Redirect::to(&format!("/import/jobs/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    chrome: Chrome,
    job: Job,
    report: Option<ImportReport>,
    file_error: Option<String>,
    finished: bool,
    outcome: ImportOutcome,
}

async fn job_page(
    State(state): State<AppState>,
    auth: UiNeed<perm::DataImport>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let job = state.store.job(id).await?;
    if job.kind != "import" {
        return Err(AppError::NotFound(format!("import {id}")).into());
    }
    let value: Option<serde_json::Value> = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let file_error = value
        .as_ref()
        .and_then(|v| v.get("file_error"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let report = value
        .and_then(|v| serde_json::from_value::<ImportReport>(v).ok())
        .map(|mut r| {
            r.errors.truncate(1000);
            r
        });
    let outcome = nunchi_app::import::outcome(&job);
    let finished = outcome.is_finished();
    Ok(render(JobPage {
        chrome: Chrome::new(&auth, "/import", t.report),
        job,
        report,
        file_error,
        finished,
        outcome,
    }))
}

async fn download(
    State(state): State<AppState>,
    auth: UiNeed<perm::DataExport>,
    ApiPath(file): ApiPath<String>,
) -> UiResult {
    Ok(csv_download(&state, &auth, &file).await?)
}
