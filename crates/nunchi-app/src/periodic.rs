//! The one loop shape of every background task (the job runner, the survey dispatcher,
//! and the SLA timers, campaign ticks and anomaly checks to come): do a round of work;
//! if it found more, go again at once, otherwise wait until woken, a while passes, or
//! shutdown. Scheduled work itself lives in the store (the jobs table, due contacts), so
//! a restart only costs the wait.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::sync::{Notify, watch};

/// Runs `round` until `shutdown` fires. `round` returns whether it left work undone.
pub fn spawn<F, Fut>(
    name: &'static str,
    mut shutdown: watch::Receiver<bool>,
    wake: Arc<Notify>,
    idle: Duration,
    mut round: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<bool>> + Send,
{
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match round().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(task = name, error = %e, "background round failed; retrying")
                }
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    })
}
