//! The nunchi server: the JSON API under `/api/v1` with its OpenAPI document, the
//! server-rendered UI in Korean and English, authentication, rate limits and metrics.
//! Handlers translate HTTP to `nunchi-app` operations; what nunchi does lives there.

pub mod api;
pub mod auth;
pub mod context;
pub mod error;
pub mod extract;
pub mod files;
pub mod i18n;
pub mod live_socket;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod ui;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    middleware,
    response::IntoResponse,
    routing::get,
};
use nunchi_app::{App, AppConfig};
use nunchi_store::Store;

/// Settings the server runs with, resolved and validated by the CLI: what only HTTP needs,
/// and the application's own configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Mark cookies `Secure`: set when nunchi is served over TLS.
    pub secure_cookies: bool,
    /// Largest JSON body accepted by the API.
    pub max_body_bytes: usize,
    /// Largest CSV upload accepted by the import endpoints.
    pub max_upload_bytes: usize,
    /// Rate limits on what strangers can reach.
    pub limits: ratelimit::LimitSettings,
    /// The data folder, mail, public address, dedup window and time zone.
    pub app: AppConfig,
}

impl Settings {
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: ([127, 0, 0, 1], 0).into(),
            secure_cookies: false,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 1 << 30,
            limits: ratelimit::LimitSettings::OFF,
            app: AppConfig::for_tests(data_dir),
        }
    }
}

/// What every handler gets: the application, and what only HTTP needs (settings,
/// metrics, rate limits). It dereferences to `App`, so `state.store` is the app's store.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    /// Rate limits on public pages, survey responses and the tracking API.
    pub limits: Arc<ratelimit::Limits>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    /// A state over `store`, whose clock the operations read the time from (tests open
    /// the store with a `TestClock` they move).
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let app = Arc::new(App::new(store, settings.app.clone()));
        Self {
            app,
            limits: Arc::new(ratelimit::Limits::new(settings.limits)),
            settings: Arc::new(settings),
            metrics: metrics::Metrics::new(),
        }
    }

    /// Appends to the audit log what a signed-in user did.
    pub async fn audit(&self, auth: &auth::Auth, action: &str, target: &str, detail: &str) {
        self.app
            .audit_by(&auth.as_actor(), action, target, detail)
            .await;
    }
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
    let (api, doc) = api::documented(&state).split_for_parts();
    let table = api::permissions::Table::from_document(&doc)
        .unwrap_or_else(|e| panic!("an API operation's permission is not declared: {e}"));
    let api = api.route_layer(middleware::from_fn_with_state(
        api::permissions::Guard {
            state: state.clone(),
            table: Arc::new(table),
        },
        api::permissions::enforce,
    ));
    Router::new()
        .merge(api)
        .merge(api::undocumented())
        .merge(ui::routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::handler))
        .route("/api/openapi.json", get(openapi::handler(&doc)))
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
    std::fs::create_dir_all(state.uploads_dir())?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let metrics = state.metrics.clone();
    let runner = nunchi_app::jobs::spawn_runner(
        state.app.clone(),
        format!("{}-{}", hostname(), std::process::id()),
        stop_rx.clone(),
        move |kind, outcome| {
            metrics
                .jobs
                .get_or_create(&metrics::JobLabels {
                    kind: kind.into(),
                    outcome: outcome.into(),
                })
                .inc();
        },
    );
    if let Err(e) = nunchi_app::loyalty::keeper::ensure_scheduled(&state.app).await {
        tracing::warn!(error = %e, "cannot schedule the loyalty keeper");
    }
    if let Err(e) = nunchi_app::segments::ensure_scheduled(&state.app).await {
        tracing::warn!(error = %e, "cannot schedule the segment refresh");
    }
    let dispatcher = nunchi_app::surveys::spawn_dispatcher(state.app.clone(), stop_rx.clone());
    let segments = nunchi_app::segment_upkeep::spawn(state.app.clone(), stop_rx.clone());
    let campaigns = nunchi_app::campaign_run::spawn(state.app.clone(), stop_rx.clone());
    let poller = state.app.config.imap.clone().map(|mailbox| {
        tracing::info!(mailbox = %mailbox.display(), "polling the support mailbox");
        nunchi_app::imap_poll::spawn_poller(
            state.app.clone(),
            mailbox,
            Duration::from_secs(state.app.config.imap_poll_secs),
            stop_rx,
        )
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shutting down");
    state.metrics.up.set(0);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), runner).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), dispatcher).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), segments).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), campaigns).await;
    if let Some(poller) = poller {
        let _ = tokio::time::timeout(Duration::from_secs(30), poller).await;
    }
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
