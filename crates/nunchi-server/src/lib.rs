//! The nunchi server: the JSON API under `/api/v1` with its OpenAPI document, the
//! server-rendered UI in Korean and English, authentication, metrics, and the background
//! job runner. Handlers translate HTTP to store calls; SQL and analytics live elsewhere.

pub mod analysis;
pub mod api;
pub mod auth;
pub mod context;
pub mod csv_records;
pub mod error;
pub mod events;
pub mod extract;
pub mod feedback;
pub mod i18n;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod outer_loop;
pub mod ratelimit;
pub mod routes;
pub mod surveys;
pub mod ui;
pub mod webhooks;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    middleware,
    response::IntoResponse,
    routing::get,
};
use nunchi_store::{Store, model::NewAuditEntry};

/// Settings the server runs with, resolved and validated by the CLI.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Mark cookies `Secure`: set when nunchi is served over TLS.
    pub secure_cookies: bool,
    /// Largest JSON body accepted by the API.
    pub max_body_bytes: usize,
    /// Largest CSV upload accepted by the import endpoints.
    pub max_upload_bytes: usize,
    /// Where outgoing e-mail goes (`smtp://…`, `smtps://…`); none: e-mail is off.
    pub smtp_url: Option<String>,
    /// The sender of outgoing e-mail.
    pub mail_from: String,
    /// The address customers reach nunchi at, for survey links in e-mail.
    pub public_url: String,
    /// Rate limits on what strangers can reach.
    pub limits: ratelimit::LimitSettings,
    /// Message ids the tracking API's de-duplication window remembers at most.
    pub dedup_max_ids: usize,
}

impl Settings {
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: ([127, 0, 0, 1], 0).into(),
            data_dir,
            secure_cookies: false,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 1 << 30,
            smtp_url: None,
            mail_from: "nunchi <cx@localhost>".into(),
            public_url: "http://127.0.0.1".into(),
            limits: ratelimit::LimitSettings::OFF,
            dedup_max_ids: events::DEFAULT_MAX_IDS,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    pub sign_in_limiter: Arc<auth::limiter::Limiter>,
    /// Rate limits on public pages, survey responses and the tracking API.
    pub limits: Arc<ratelimit::Limits>,
    pub job_wakeup: jobs::Wakeup,
    pub events: Arc<events::Events>,
    pub annotator: Arc<feedback::Annotator>,
    pub mailer: Arc<mail::Mailer>,
    /// For webhook deliveries.
    pub http: reqwest::Client,
    /// Wakes the survey dispatcher (new contacts to send).
    pub survey_wakeup: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let job_wakeup: jobs::Wakeup = Arc::new(tokio::sync::Notify::new());
        let mailer = mail::Mailer::new(settings.smtp_url.as_deref(), &settings.mail_from)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "e-mail is off");
                mail::Mailer::new(None, "nunchi <cx@localhost>").expect("a valid sender")
            });
        let settings = Arc::new(settings);
        Self {
            store: store.clone(),
            settings: settings.clone(),
            metrics: metrics::Metrics::new(),
            sign_in_limiter: Arc::new(auth::limiter::Limiter::new(20, Duration::from_secs(300))),
            limits: Arc::new(ratelimit::Limits::new(settings.limits)),
            job_wakeup: job_wakeup.clone(),
            events: events::Events::start(store.clone(), settings.dedup_max_ids),
            annotator: feedback::Annotator::start(
                store.clone(),
                feedback::LoopContext {
                    job_wakeup,
                    public_url: settings.public_url.clone(),
                },
            ),
            mailer: Arc::new(mailer),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("an HTTP client"),
            survey_wakeup: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Appends to the audit log; a failure is logged, never shown to the user whose action
    /// already happened.
    pub async fn audit(&self, auth: &auth::Auth, action: &str, target: &str, detail: &str) {
        self.write_audit(NewAuditEntry {
            at: now_ms(),
            actor_user_id: Some(auth.user.id),
            actor: auth.actor(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            ip: String::new(),
        })
        .await;
    }

    pub async fn audit_system(&self, actor: &str, action: &str, target: &str, detail: &str) {
        self.write_audit(NewAuditEntry {
            at: now_ms(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            ..Default::default()
        })
        .await;
    }

    async fn write_audit(&self, entry: NewAuditEntry) {
        if let Err(e) = self.store.audit(&entry).await {
            tracing::error!(error = ?e, action = %entry.action, "cannot write the audit log");
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready", "database": state.store.backend() }))
            .into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "not ready");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable" })),
            )
                .into_response()
        }
    }
}

/// Unknown paths: JSON under `/api/`, a page everywhere else.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    let e = error::AppError::NotFound(uri.path().to_string());
    if uri.path().starts_with("/api/") {
        e.into_response()
    } else {
        ui::UiError(e).into_response()
    }
}

/// The whole application as one `Router`, ready to serve or to test in-process.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes(&state))
        .merge(ui::routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::handler))
        .route("/api/openapi.json", get(openapi::handler))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::middleware,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::middleware,
        ))
        .layer(middleware::from_fn(context::middleware))
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then stops taking requests, lets running ones finish,
/// stops the job runner and closes the store.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    std::fs::create_dir_all(jobs::uploads_dir(&state))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let runner = jobs::spawn_runner(
        state.clone(),
        format!("{}-{}", hostname(), std::process::id()),
        stop_rx.clone(),
    );
    let dispatcher = surveys::spawn_dispatcher(state.clone(), stop_rx);
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down");
    state.metrics.up.set(0);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), dispatcher).await;
    state.store.close().await;
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "nunchi".into())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
