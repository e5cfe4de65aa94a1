//! Background jobs: typed jobs in the store's jobs table, and the runner that claims them,
//! runs them and retries failures with exponential backoff. Because the queue lives in the
//! database, a restart loses nothing: a job whose worker died is claimed again when its
//! lease ends. As in crates.io's worker, each kind of job is a type that implements `Job`,
//! defined beside its feature (`import::ImportJob`, `mail::EmailJob`,
//! `webhooks::WebhookJob`) and registered with the runner in `Registry::standard`.

use std::{collections::HashMap, future::Future, sync::Arc, time::Duration};

use futures_util::future::BoxFuture;
use nunchi_store::model::NewJob;
use serde::{Serialize, de::DeserializeOwned};

use crate::App;

/// How long a claimed job is ours before another worker may take it over.
const LEASE_MS: i64 = 10 * 60 * 1000;
const MAX_BACKOFF_MS: i64 = 3600 * 1000;

/// One kind of background job: its payload is the type itself, stored as JSON.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name in the jobs table's `kind` column; never changed once jobs are stored.
    const KIND: &'static str;
    /// Attempts before the job is given up as failed.
    const MAX_ATTEMPTS: i64 = 3;

    /// Does the work; the `Ok` text is stored as the job's result.
    fn run(self, app: &App) -> impl Future<Output = anyhow::Result<String>> + Send;

    /// This job as a row to queue, inside another change's transaction or alone.
    fn row(&self, run_at: i64) -> NewJob {
        NewJob {
            kind: Self::KIND.into(),
            payload: serde_json::to_string(self).expect("a job serialises"),
            run_at,
            max_attempts: Self::MAX_ATTEMPTS,
        }
    }
}

/// Queues `job` to run now and wakes the runner.
pub async fn enqueue<J: Job>(app: &App, job: &J) -> anyhow::Result<i64> {
    enqueue_at(app, job, app.now()).await
}

/// Queues `job` to run at `run_at` (ms) or soon after.
pub async fn enqueue_at<J: Job>(app: &App, job: &J, run_at: i64) -> anyhow::Result<i64> {
    let row = job.row(run_at);
    let id = app
        .store
        .enqueue_job(&row.kind, &row.payload, row.run_at, row.max_attempts)
        .await?;
    app.job_wakeup.notify_one();
    Ok(id)
}

/// Runs one stored payload of some job type.
type Handler = for<'a> fn(&'a App, &'a str) -> BoxFuture<'a, anyhow::Result<String>>;

fn handle<'a, J: Job>(app: &'a App, payload: &'a str) -> BoxFuture<'a, anyhow::Result<String>> {
    Box::pin(async move {
        let job: J = serde_json::from_str(payload)
            .map_err(|e| anyhow::anyhow!("unreadable {} payload: {e}", J::KIND))?;
        job.run(app).await
    })
}

/// The job kinds a runner knows, by name.
#[derive(Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    pub fn register<J: Job>(mut self) -> Self {
        let previous = self.handlers.insert(J::KIND, handle::<J>);
        assert!(previous.is_none(), "job kind {} registered twice", J::KIND);
        self
    }

    pub fn handler(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).copied()
    }

    /// Every kind of job nunchi queues. A capability that adds a job registers it here.
    pub fn standard() -> Self {
        Registry::default()
            .register::<crate::import::ImportJob>()
            .register::<crate::mail::EmailJob>()
            .register::<crate::webhooks::WebhookJob>()
            .register::<crate::conversations::ReplyJob>()
            .register::<crate::messengers::ReplyJob>()
            .register::<crate::messengers::MediaJob>()
            .register::<crate::sla::SlaCheckJob>()
            .register::<crate::follow_up_conversations::FollowUpConversationJob>()
            .register::<crate::loyalty::keeper::LoyaltyKeeperJob>()
            .register::<crate::segments::SegmentRefreshJob>()
    }
}

/// Backoff before attempt `attempts + 1`: 2 s, 4 s, 8 s, … capped at an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << attempts.clamp(1, 22)).min(MAX_BACKOFF_MS)
}

/// Runs jobs until `shutdown` fires. `worker` names this runner in the jobs table;
/// `on_outcome` hears each job's kind and how it ended (`done`, `retry`, `failed`), for
/// the server's metrics.
pub fn spawn_runner(
    state: Arc<App>,
    worker: String,
    shutdown: tokio::sync::watch::Receiver<bool>,
    on_outcome: impl Fn(&str, &str) + Send + Sync + 'static,
) -> tokio::task::JoinHandle<()> {
    let registry = Arc::new(Registry::standard());
    let on_outcome = Arc::new(on_outcome);
    let wake = state.job_wakeup.clone();
    crate::periodic::spawn("jobs", shutdown, wake, Duration::from_secs(1), move || {
        let (state, registry, on_outcome, worker) = (
            state.clone(),
            registry.clone(),
            on_outcome.clone(),
            worker.clone(),
        );
        async move { run_one(&state, &registry, &worker, on_outcome.as_ref()).await }
    })
}

/// Claims and runs one due job; says whether there was one.
async fn run_one(
    state: &App,
    registry: &Registry,
    worker: &str,
    on_outcome: &(dyn Fn(&str, &str) + Send + Sync),
) -> anyhow::Result<bool> {
    let Some(job) = state.store.claim_job(worker, state.now(), LEASE_MS).await? else {
        return Ok(false);
    };
    let outcome = match registry.handler(&job.kind) {
        Some(run) => run(state, &job.payload).await,
        None => Err(anyhow::anyhow!("no job kind {:?} is registered", job.kind)),
    };
    let (label, store_result) = match outcome {
        Ok(result) => ("done", state.store.complete_job(job.id, &result).await),
        Err(e) if job.attempts < job.max_attempts => {
            tracing::warn!(job = job.id, error = ?e, "job failed; will retry");
            let retry_at = state.now() + backoff_ms(job.attempts);
            (
                "retry",
                state
                    .store
                    .fail_job(job.id, &format!("{e:#}"), Some(retry_at))
                    .await,
            )
        }
        Err(e) => {
            tracing::error!(job = job.id, error = ?e, "job failed for good");
            (
                "failed",
                state.store.fail_job(job.id, &format!("{e:#}"), None).await,
            )
        }
    };
    if let Err(e) = store_result {
        tracing::error!(job = job.id, error = ?e, "cannot record the job's outcome");
    }
    on_outcome(&job.kind, label);
    Ok(true)
}

/// Wakes the job runner when a job is queued, so it need not wait for its next poll.
pub type Wakeup = Arc<tokio::sync::Notify>;

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(super::backoff_ms(1), 2000);
        assert_eq!(super::backoff_ms(2), 4000);
        assert_eq!(super::backoff_ms(40), 3_600_000);
    }
}
