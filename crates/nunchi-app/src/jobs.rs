//! The background job runner: claims due jobs from the store's jobs table, runs them, and
//! retries failures with exponential backoff. Because the queue lives in the database, a
//! restart loses nothing: a job whose worker died is claimed again when its lease ends.

use std::{path::PathBuf, sync::Arc, time::Duration};

use nunchi_store::model::NewJob;
use serde::{Deserialize, Serialize};

use crate::{
    App,
    import::{self, ImportKind},
};

/// How long a claimed job is ours before another worker may take it over.
const LEASE_MS: i64 = 10 * 60 * 1000;
const MAX_BACKOFF_MS: i64 = 3600 * 1000;

/// Every kind of job, with its payload. Later capabilities add variants (campaign sends,
/// SLA timers, anomaly checks) and their handlers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    Import {
        what: ImportKind,
        path: PathBuf,
        dry_run: bool,
        actor: String,
    },
    /// One e-mail: a closed-loop notice or a fix notice to a customer.
    Email {
        to: String,
        subject: String,
        text: String,
    },
    /// One signed webhook delivery. For `follow_up.opened`, `follow_up` names the
    /// (feedback, rule) whose follow-up id is added to the data when it is sent.
    Webhook {
        webhook_id: i64,
        msg_id: String,
        body: String,
        #[serde(default)]
        follow_up: Option<(i64, i64)>,
    },
}

impl JobSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Import { .. } => "import",
            Self::Email { .. } => "email",
            Self::Webhook { .. } => "webhook",
        }
    }

    /// This job as a row to queue inside another change's transaction.
    pub fn job(&self, run_at: i64, max_attempts: i64) -> NewJob {
        NewJob {
            kind: self.kind().into(),
            payload: serde_json::to_string(self).expect("a job spec serialises"),
            run_at,
            max_attempts,
        }
    }
}

pub async fn enqueue(state: &App, spec: &JobSpec) -> anyhow::Result<i64> {
    let id = state
        .store
        .enqueue_job(spec.kind(), &serde_json::to_string(spec)?, state.now(), 3)
        .await?;
    state.job_wakeup.notify_one();
    Ok(id)
}

/// Backoff before attempt `attempts + 1`: 2 s, 4 s, 8 s, … capped at an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << attempts.clamp(1, 22)).min(MAX_BACKOFF_MS)
}

async fn run(state: &App, spec: JobSpec) -> anyhow::Result<String> {
    match spec {
        JobSpec::Import {
            what,
            path,
            dry_run,
            actor,
        } => {
            let file = std::fs::File::open(&path)?;
            let reader: Box<dyn std::io::Read + Send> =
                Box::new(std::io::BufReader::with_capacity(1 << 20, file));
            let report = match what {
                ImportKind::Customers => {
                    import::import_customers(
                        state.store.clone(),
                        reader,
                        dry_run,
                        "csv_import",
                        &|_| {},
                    )
                    .await
                }
                ImportKind::Orders => {
                    import::import_orders(state.store.clone(), reader, dry_run, &|_| {}).await
                }
            };
            // A file the import cannot read is the uploader's problem, not a retryable one:
            // record it as the job's result rather than failing the job.
            let result = match report {
                Ok(r) => serde_json::to_value(&r)?,
                Err(import::ImportError::Store(e)) => return Err(e.into()),
                Err(e) => serde_json::json!({ "file_error": e.to_string() }),
            };
            let _ = std::fs::remove_file(&path);
            state
                .audit_system(
                    &actor,
                    "import",
                    &format!("{what:?}").to_lowercase(),
                    &result.to_string(),
                )
                .await;
            Ok(result.to_string())
        }
        JobSpec::Email { to, subject, text } => {
            state.mailer.send(&to, &subject, &text, None).await?;
            Ok(serde_json::json!({ "sent_to": to }).to_string())
        }
        JobSpec::Webhook {
            webhook_id,
            msg_id,
            mut body,
            follow_up,
        } => {
            let hook = match state.store.webhook(webhook_id).await {
                Ok(h) => h,
                Err(nunchi_store::StoreError::NotFound(_)) => {
                    return Ok(r#"{"skipped":"the webhook was deleted"}"#.into());
                }
                Err(e) => return Err(e.into()),
            };
            if let Some((feedback_id, rule_id)) = follow_up {
                let f = state.store.follow_up_for(feedback_id, rule_id).await?;
                let mut value: serde_json::Value = serde_json::from_str(&body)?;
                value["data"]["follow_up_id"] = f.id.into();
                body = value.to_string();
            }
            crate::webhooks::deliver(&state.http, &hook, &msg_id, body, state.now()).await?;
            Ok(serde_json::json!({ "delivered_to": hook.url }).to_string())
        }
    }
}

/// Runs jobs until `shutdown` fires. `worker` names this runner in the jobs table;
/// `on_outcome` hears each job's kind and how it ended (`done`, `retry`, `failed`), for
/// the server's metrics.
pub fn spawn_runner(
    state: Arc<App>,
    worker: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    on_outcome: impl Fn(&str, &str) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let job = match state.store.claim_job(&worker, state.now(), LEASE_MS).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot claim a job");
                    None
                }
            };
            let Some(job) = job else {
                tokio::select! {
                    _ = state.job_wakeup.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            };
            let outcome = match serde_json::from_str::<JobSpec>(&job.payload) {
                Ok(spec) => run(&state, spec).await,
                Err(e) => Err(anyhow::anyhow!("unreadable payload: {e}")),
            };
            let (label, store_result) = match outcome {
                Ok(result) => ("done", state.store.complete_job(job.id, &result).await),
                Err(e) if job.attempts < job.max_attempts => {
                    tracing::warn!(job = job.id, error = ?e, "job failed; will retry");
                    (
                        "retry",
                        state
                            .store
                            .fail_job(
                                job.id,
                                &format!("{e:#}"),
                                Some(state.now() + backoff_ms(job.attempts)),
                            )
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
        }
    })
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
