//! The embedded SQLite backend: WAL, foreign keys on, a busy timeout, and one writer
//! connection so that writes queue in the pool instead of failing with `SQLITE_BUSY`.

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use nunchi_core::clock::Clock;

use sqlx::{
    Sqlite, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    StoreError, StoreResult,
    sql::{
        attachments::impl_attachment_store,
        campaigns::impl_campaign_store,
        conversations::impl_conversation_store,
        customer_writes::impl_customer_writes,
        customers::impl_customer_store,
        desk::impl_desk_store,
        erasure::impl_erasure,
        events::impl_event_store,
        feedback::{impl_feedback_store, impl_loop_store},
        jobs::impl_job_store,
        loyalty::impl_loyalty_store,
        loyalty_post::impl_loyalty_post,
        loyalty_rewards::impl_reward_store,
        mail_references::impl_mail_thread_store,
        messengers::impl_messenger_store,
        orders::impl_order_store,
        personas::impl_persona_store,
        segments::impl_segment_store,
        surveys::impl_survey_store,
        users::impl_user_store,
    },
};

pub struct SqliteStore {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
    pub(crate) clock: Arc<dyn Clock>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database named by a `sqlite:` URL and migrates it.
    /// Rows are stamped with `clock`'s time.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives power loss, not just a process crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // 64 MiB of page cache: a 256 MiB cache made a million-row import no faster but
            // five times larger in memory. Checkpoints every 40 MiB of WAL rather than 4 MiB,
            // so a page written many times in a bulk import is copied back once.
            .pragma("cache_size", "-65536")
            .pragma("wal_autocheckpoint", "10000")
            // Deleted and overwritten content is zeroed in the file, so an erased person's
            // data does not linger in free pages or cells.
            .pragma("secure_delete", "on");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&write)
            .await
            .map_err(StoreError::Migrate)?;
        // Readers lean on a shared memory map of the file rather than a large private cache
        // each; mapped pages count as resident memory but belong to the page cache.
        let read_options = options
            .read_only(true)
            .pragma("cache_size", "-32768")
            .pragma("mmap_size", "2147483648");
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(read_options)
            .await?;
        Ok(Self { read, write, clock })
    }
}

impl SqliteStore {
    /// Ids for `n` new rows of `table`, which the caller inserts explicitly. Safe because this
    /// process writes through one connection inside a transaction; a row another process
    /// slipped in makes the insert fail and the caller fall back to one row at a time.
    pub(crate) async fn reserve_ids(
        conn: &mut sqlx::SqliteConnection,
        table: &str,
        n: usize,
    ) -> StoreResult<Vec<i64>> {
        let max: i64 = sqlx::query_scalar(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))
            .fetch_one(&mut *conn)
            .await?;
        Ok((1..=n as i64).map(|i| max + i).collect())
    }
}

impl SqliteStore {
    /// Nothing to lock: this process writes through one connection, so assignments
    /// already run one at a time.
    pub(crate) async fn lock_agent(_: &mut sqlx::SqliteConnection, _: i64) -> StoreResult<()> {
        Ok(())
    }

    /// Nothing to lock either: points are posted one transaction at a time.
    pub(crate) async fn lock_customers(
        _: &mut sqlx::SqliteConnection,
        _: &[i64],
    ) -> StoreResult<()> {
        Ok(())
    }

    /// A message search: FTS5's trigram index for three characters or more (the query as
    /// one quoted phrase, so any substring matches), a scan for shorter ones, which a
    /// trigram index cannot answer.
    pub(crate) fn message_search(query: &str) -> (&'static str, String) {
        use crate::sql::conversations::{caseless, contains_pattern, message_search_sql};
        if query.chars().count() >= 3 {
            (
                message_search_sql!(
                    "m.id IN (SELECT rowid FROM conversation_message_fts \
                     WHERE conversation_message_fts MATCH $1)"
                ),
                format!("\"{}\"", query.replace('"', "\"\"")),
            )
        } else if caseless(query) {
            (
                message_search_sql!("instr(m.text, $1) > 0"),
                query.to_string(),
            )
        } else {
            (
                message_search_sql!("m.text LIKE $1 ESCAPE '\\'"),
                contains_pattern(query),
            )
        }
    }
}

impl SqliteStore {
    /// After an erasure: copies every page into the database file and truncates the WAL,
    /// so the pages' earlier versions (with the erased data) are gone from the data
    /// folder. Readers holding an old snapshot can delay it; the busy timeout waits for
    /// them, and a checkpoint that still could not finish is retried a few times. The
    /// erasure itself is committed either way, so a checkpoint that never finishes is
    /// logged, not returned: the old frames are overwritten as the WAL is reused.
    pub(crate) async fn purge_erased(&self) -> StoreResult<()> {
        for attempt in 0..10 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.write)
                .await?;
            if busy == 0 {
                return Ok(());
            }
            tracing::warn!(attempt, "readers delayed the checkpoint after an erasure");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::error!(
            "the WAL could not be truncated after an erasure; old page versions remain in it \
             until they are overwritten"
        );
        Ok(())
    }
}

impl_customer_writes!(SqliteStore, Sqlite);
impl_customer_store!(SqliteStore, Sqlite);
impl_conversation_store!(SqliteStore, Sqlite);
impl_desk_store!(SqliteStore, Sqlite);
impl_messenger_store!(SqliteStore, Sqlite);
impl_attachment_store!(SqliteStore, Sqlite);
impl_mail_thread_store!(SqliteStore, Sqlite);
impl_loyalty_store!(SqliteStore, Sqlite);
impl_loyalty_post!(SqliteStore, Sqlite);
impl_reward_store!(SqliteStore, Sqlite);
impl_segment_store!(SqliteStore, Sqlite);
impl_persona_store!(SqliteStore, Sqlite);
impl_campaign_store!(SqliteStore, Sqlite);
impl_erasure!(SqliteStore, Sqlite);
impl_order_store!(SqliteStore, Sqlite);
impl_event_store!(SqliteStore, Sqlite);
impl_feedback_store!(SqliteStore, Sqlite);
impl_loop_store!(SqliteStore, Sqlite);
impl_survey_store!(SqliteStore, Sqlite);
impl_user_store!(SqliteStore, Sqlite);
impl_job_store!(SqliteStore, Sqlite, crate::sql::jobs::claim_sql(false));

#[async_trait::async_trait]
impl crate::traits::AdminStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn refresh_statistics(&self) -> StoreResult<()> {
        sqlx::query("ANALYZE").execute(&self.write).await?;
        Ok(())
    }

    async fn backup_to(&self, path: &Path) -> StoreResult<()> {
        let mut conn = self.read.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        crate::sqlite_backup::copy_to(handle.as_raw_handle().as_ptr(), path)
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Replaces the database at `target` with a backup, after checking the backup is an
/// intact nunchi database. The server must not be running.
pub async fn restore(backup: &Path, target: &Path) -> StoreResult<()> {
    let url = format!("sqlite:{}", backup.display());
    let check = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::from_str(&url)
                .map_err(|e| StoreError::BadUrl(e.to_string()))?
                .read_only(true),
        )
        .await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&check)
        .await?;
    let has_schema: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = '_sqlx_migrations'")
            .fetch_one(&check)
            .await?;
    check.close().await;
    if verdict != "ok" || has_schema == 0 {
        return Err(StoreError::Conflict(format!(
            "{} is not an intact nunchi backup ({verdict})",
            backup.display()
        )));
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(backup, &staging)
        .map_err(|e| StoreError::Conflict(format!("cannot copy the backup: {e}")))?;
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", target.display());
        let _ = std::fs::remove_file(side);
    }
    std::fs::rename(&staging, target)
        .map_err(|e| StoreError::Conflict(format!("cannot replace the database: {e}")))?;
    Ok(())
}
