//! `JobStore` in SQL shared by both backends. Claiming differs: PostgreSQL locks the row
//! with `FOR UPDATE SKIP LOCKED` so several workers can claim at once, SQLite relies on its
//! single writer; each backend passes its own claim statement.

pub(crate) const COMPLETE_JOB: &str = "
    UPDATE jobs SET status = 'done', result = $2, locked_until = 0, updated_at = $3 WHERE id = $1";

pub(crate) const FAIL_JOB: &str = "
    UPDATE jobs SET status = $2, last_error = $3, run_at = CASE WHEN $2 = 'queued' THEN $4
    ELSE run_at END, locked_until = 0, updated_at = $5 WHERE id = $1";

pub(crate) const JOB: &str = "SELECT * FROM jobs WHERE id = $1";

pub(crate) const JOBS: &str = "SELECT * FROM jobs ORDER BY id DESC LIMIT $1";

pub(crate) const QUEUED_JOB_OF_KIND: &str = "
    SELECT COUNT(*) FROM jobs WHERE kind = $1 AND status = 'queued'";

macro_rules! impl_job_store {
    ($store:ty, $db:ty, $claim:expr) => {
        #[async_trait::async_trait]
        impl $crate::traits::JobStore for $store {
            async fn enqueue_job(
                &self,
                kind: &str,
                payload: &str,
                run_at: i64,
                max_attempts: i64,
            ) -> $crate::StoreResult<i64> {
                let now = self.clock.now_ms();
                Ok(sqlx::query_scalar($crate::sql::jobs::INSERT_JOB)
                    .bind(kind)
                    .bind(payload)
                    .bind(max_attempts)
                    .bind(run_at)
                    .bind(now)
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn claim_job(
                &self,
                worker: &str,
                now: i64,
                lease_ms: i64,
            ) -> $crate::StoreResult<Option<$crate::model::Job>> {
                Ok(sqlx::query_as($claim)
                    .bind(now)
                    .bind(now + lease_ms)
                    .bind(worker)
                    .fetch_optional(&self.write)
                    .await?)
            }
            async fn complete_job(&self, id: i64, result: &str) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::jobs::COMPLETE_JOB)
                    .bind(id)
                    .bind(result)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn fail_job(
                &self,
                id: i64,
                error: &str,
                retry_at: Option<i64>,
            ) -> $crate::StoreResult<()> {
                let (status, run_at) = match retry_at {
                    Some(t) => ("queued", t),
                    None => ("failed", 0),
                };
                sqlx::query($crate::sql::jobs::FAIL_JOB)
                    .bind(id)
                    .bind(status)
                    .bind(error)
                    .bind(run_at)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
            async fn job(&self, id: i64) -> $crate::StoreResult<$crate::model::Job> {
                let j: Option<$crate::model::Job> = sqlx::query_as($crate::sql::jobs::JOB)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?;
                j.ok_or_else(|| $crate::StoreError::NotFound(format!("job {id}")))
            }
            async fn jobs(&self, limit: i64) -> $crate::StoreResult<Vec<$crate::model::Job>> {
                Ok(sqlx::query_as($crate::sql::jobs::JOBS)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn job_queued(&self, kind: &str) -> $crate::StoreResult<bool> {
                let n: i64 = sqlx::query_scalar($crate::sql::jobs::QUEUED_JOB_OF_KIND)
                    .bind(kind)
                    .fetch_one(&self.read)
                    .await?;
                Ok(n > 0)
            }
        }
    };
}
pub(crate) use impl_job_store;

/// Queues a job: kind, payload, max attempts, run at, now.
pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs (kind, payload, status, max_attempts,
                                     run_at, created_at, updated_at)
                                     VALUES ($1, $2, 'queued', $3, $4, $5, $5) RETURNING id";

/// Picks the next due job; on PostgreSQL the row is also locked so concurrent workers skip it.
pub(crate) const fn claim_sql(postgres: bool) -> &'static str {
    if postgres {
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $2, locked_by
         = $3, updated_at = $1 WHERE id = (SELECT id FROM jobs WHERE (status = 'queued'
         AND run_at <= $1) OR (status = 'running' AND locked_until < $1) ORDER BY run_at, id
         LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *"
    } else {
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $2, locked_by
         = $3, updated_at = $1 WHERE id = (SELECT id FROM jobs WHERE (status = 'queued'
         AND run_at <= $1) OR (status = 'running' AND locked_until < $1) ORDER BY run_at, id
         LIMIT 1) RETURNING *"
    }
}
