//! Storage for nunchi: the `Store` traits, a SQLite backend (embedded, the default) and a
//! PostgreSQL backend (production), chosen by the database URL's scheme. Both run the same
//! SQL from `sql/`, and one conformance suite (`tests/conformance.rs`) runs against both.

mod error;
pub mod lifecycle;
pub mod model;
pub mod postgres;
mod sql;
pub mod sqlite;
mod sqlite_backup;
pub mod testing;
pub mod traits;

use std::sync::Arc;

pub use error::{StoreError, StoreResult};
pub use traits::{
    AdminStore, AuditStore, CustomerStore, EventStore, FeedbackStore, JobStore, JourneyStore,
    LoopStore, OrderStore, Store, SurveyStore, UserStore,
};

/// Opens the store a URL names (`sqlite:path/to.db` or `postgres://…`) and applies any
/// pending migrations.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl(format!(
            "{url:?}: use sqlite:PATH or postgres://…"
        )))
    }
}

/// The current time in Unix milliseconds; the store stamps rows with it. (The store is
/// the last reader of the system clock besides `nunchi_app::clock`; operations that need
/// a movable time pass it in.)
#[allow(clippy::disallowed_methods)]
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
