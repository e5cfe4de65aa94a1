//! The store's one error type: "not found" and "conflict" are told apart from every other
//! failure, whose cause is kept for the log.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not supported by this backend: {0}")]
    Unsupported(&'static str),
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A stored value that does not read as its type (a status no version writes).
    #[error("corrupt value in column {column}: {message}")]
    Corrupt { column: String, message: String },
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::ColumnDecode { index, source } => StoreError::Corrupt {
                column: index,
                message: source.to_string(),
            },
            other => StoreError::Database(other),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A column read by hand (a tuple, not a `FromRow`) that holds a core type's name: a value
/// no version writes is `Corrupt`, never a default.
pub(crate) fn named<T>(column: &str, value: String) -> StoreResult<T>
where
    T: TryFrom<String, Error = nunchi_core::CoreError>,
{
    T::try_from(value).map_err(|e| StoreError::Corrupt {
        column: column.to_string(),
        message: e.message,
    })
}
