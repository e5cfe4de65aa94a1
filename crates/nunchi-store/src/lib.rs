//! Storage for nunchi: the `Store` traits, a SQLite backend (embedded, the default) and a
//! PostgreSQL backend (production), chosen by the database URL's scheme. Both run the same
//! SQL from `sql/`, and one conformance suite (`tests/conformance.rs`) runs against both.

mod campaign_store;
mod error;
mod json;
pub mod lifecycle;
pub mod model;
mod persona_store;
pub mod postgres;
mod segment_store;
mod sql;
pub mod sqlite;
mod sqlite_backup;
pub mod testing;
pub mod traits;

use std::sync::Arc;

use nunchi_core::clock::{Clock, SystemClock};

pub use error::{StoreError, StoreResult};
pub use json::{Json, OptionalName};
pub use traits::{
    AdminStore, AttachmentStore, AuditStore, ConversationStore, CustomerStore, DeskStore,
    EventStore, FeedbackStore, JobStore, JourneyStore, LoopStore, MailThreadStore, MessengerStore,
    OrderStore, Store, SurveyStore, UserStore,
};

/// Opens the store a URL names (`sqlite:path/to.db` or `postgres://…`) and applies any
/// pending migrations. Rows are stamped with the machine's clock.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    connect_with_clock(url, Arc::new(SystemClock)).await
}

/// `connect`, stamping rows with `clock`'s time: the store never reads the system time
/// itself, so a test that moves its clock moves every stamp with it.
pub async fn connect_with_clock(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, clock).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url, clock).await?))
    } else {
        Err(StoreError::BadUrl(format!(
            "{url:?}: use sqlite:PATH or postgres://…"
        )))
    }
}
