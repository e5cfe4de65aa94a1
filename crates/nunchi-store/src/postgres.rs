//! The PostgreSQL backend, for production: one pool for reads and writes, since PostgreSQL
//! handles concurrent writers itself.

use std::{str::FromStr, sync::Arc, time::Duration};

use nunchi_core::clock::Clock;

use sqlx::{
    PgPool, Postgres,
    postgres::{PgConnectOptions, PgPoolOptions},
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

pub struct PgStore {
    pub(crate) read: PgPool,
    pub(crate) write: PgPool,
    pub(crate) clock: Arc<dyn Clock>,
}

impl PgStore {
    /// Connects to the database named by a `postgres://` URL and migrates it.
    /// Rows are stamped with `clock`'s time.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(StoreError::Migrate)?;
        Self::check_trigram_locale(&pool).await?;
        Ok(Self {
            read: pool.clone(),
            write: pool,
            clock,
        })
    }
}

impl PgStore {
    /// Locks the agent's user row for the transaction, so concurrent assignments to them
    /// run one after another and each sees the others' counts.
    pub(crate) async fn lock_agent(conn: &mut sqlx::PgConnection, user_id: i64) -> StoreResult<()> {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Locks the customers' rows (in id order, so two batches cannot deadlock) while their
    /// points are posted: each plan then sees the other's entries. `NO KEY UPDATE` leaves
    /// rows that merely reference the customer free to be written.
    pub(crate) async fn lock_customers(
        conn: &mut sqlx::PgConnection,
        customers: &[i64],
    ) -> StoreResult<()> {
        sqlx::query("SELECT id FROM customers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
            .bind(customers)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// A message search: LIKE or ILIKE, which the trigram index serves for three characters
    /// or more; shorter ones scan, with a plain substring test when case cannot matter.
    pub(crate) fn message_search(query: &str) -> (&'static str, String) {
        use crate::sql::conversations::{caseless, contains_pattern, message_search_sql};
        let short = query.chars().count() < 3;
        match (short, caseless(query)) {
            (true, true) => (
                message_search_sql!("strpos(m.text, $1) > 0"),
                query.to_string(),
            ),
            // Hangul and digits read the same in any case: LIKE, which the trigram index
            // serves as well as ILIKE, tests a row without lower-casing it (3x cheaper).
            (false, true) => (
                message_search_sql!("m.text LIKE $1 ESCAPE '\\'"),
                contains_pattern(query),
            ),
            (_, false) => (
                message_search_sql!("m.text ILIKE $1 ESCAPE '\\'"),
                contains_pattern(query),
            ),
        }
    }

    /// Whether pg_trgm reads Hangul in this database (it does only under a UTF-8
    /// LC_CTYPE); logs what to do when it does not, since Korean search then scans.
    async fn check_trigram_locale(pool: &PgPool) -> StoreResult<()> {
        let (hangul, ctype): (bool, String) = sqlx::query_as(
            "SELECT array_length(show_trgm('환불해'), 1) IS NOT NULL, \
             (SELECT datctype FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(pool)
        .await?;
        if !hangul {
            tracing::warn!(
                lc_ctype = %ctype,
                "this database's LC_CTYPE is not a UTF-8 locale, so conversation search cannot \
                 index Korean and scans instead; create the database with LC_CTYPE 'C.UTF-8' (or \
                 ko_KR.UTF-8), e.g. CREATE DATABASE nunchi TEMPLATE template0 ENCODING 'UTF8' \
                 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8', and restore into it"
            );
        }
        Ok(())
    }

    /// Ids for `n` new rows of `table` from its identity sequence, so concurrent writers
    /// never collide.
    pub(crate) async fn reserve_ids(
        conn: &mut sqlx::PgConnection,
        table: &str,
        n: usize,
    ) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
        ))
        .bind(n as i64)
        .fetch_all(&mut *conn)
        .await?)
    }
}

impl PgStore {
    /// After an erasure: vacuums the tables it rewrote, so the old row versions (with the
    /// erased data) are removed rather than left for autovacuum to find some day.
    pub(crate) async fn purge_erased(&self) -> StoreResult<()> {
        // VACUUM cannot run in a transaction, so it goes as a simple-protocol statement.
        let tables: Vec<&str> = crate::sql::erasure::touched_tables().collect();
        let sql = format!("VACUUM {}", tables.join(", "));
        sqlx::raw_sql(&sql).execute(&self.write).await?;
        Ok(())
    }
}

impl_customer_writes!(PgStore, Postgres);
impl_customer_store!(PgStore, Postgres);
impl_conversation_store!(PgStore, Postgres);
impl_desk_store!(PgStore, Postgres);
impl_messenger_store!(PgStore, Postgres);
impl_attachment_store!(PgStore, Postgres);
impl_mail_thread_store!(PgStore, Postgres);
impl_loyalty_store!(PgStore, Postgres);
impl_loyalty_post!(PgStore, Postgres);
impl_reward_store!(PgStore, Postgres);
impl_segment_store!(PgStore, Postgres);
impl_persona_store!(PgStore, Postgres);
impl_campaign_store!(PgStore, Postgres);
impl_erasure!(PgStore, Postgres);
impl_order_store!(PgStore, Postgres);
impl_event_store!(PgStore, Postgres);
impl_feedback_store!(PgStore, Postgres);
impl_loop_store!(PgStore, Postgres);
impl_survey_store!(PgStore, Postgres);
impl_user_store!(PgStore, Postgres);
impl_job_store!(PgStore, Postgres, crate::sql::jobs::claim_sql(true));

#[async_trait::async_trait]
impl crate::traits::AdminStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn refresh_statistics(&self) -> StoreResult<()> {
        sqlx::raw_sql("VACUUM (ANALYZE)")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn backup_to(&self, _path: &std::path::Path) -> StoreResult<()> {
        Err(StoreError::Unsupported(
            "backups of PostgreSQL are taken with pg_dump or pg_basebackup",
        ))
    }

    async fn close(&self) {
        self.write.close().await;
    }
}
