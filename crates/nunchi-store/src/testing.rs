//! Fresh, isolated stores for tests, on either backend. Tests of every crate use these so
//! that the same test runs on SQLite and on PostgreSQL.
//!
//! `NUNCHI_TEST_POSTGRES_URL` points at a PostgreSQL server where the tests may create
//! databases; `NUNCHI_TEST_REQUIRE_POSTGRES=1` turns its absence into a failure, so that
//! the full test command cannot pass by quietly skipping PostgreSQL.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use crate::{Store, StoreResult};

/// Declares a test that runs `body` once on a fresh store of every backend the run covers:
/// `each_backend!(name, |store| { … });`.
#[macro_export]
macro_rules! each_backend {
    ($name:ident, |$store:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in $crate::testing::backends() {
                let $store = $crate::testing::fresh_store(backend).await;
                eprintln!("{} on {backend}", stringify!($name));
                $body
            }
        }
    };
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

// Only to make names unique, not to tell the time.
#[allow(clippy::disallowed_methods)]
fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// The backends this test run covers: SQLite always, PostgreSQL when a server is given.
pub fn backends() -> Vec<&'static str> {
    let mut out = vec!["sqlite"];
    if std::env::var("NUNCHI_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        out.push("postgres");
    } else if std::env::var("NUNCHI_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("NUNCHI_TEST_REQUIRE_POSTGRES=1 but NUNCHI_TEST_POSTGRES_URL is not set");
    }
    out
}

/// The backend that single-backend tests (server, CLI) use: `NUNCHI_TEST_BACKEND`.
pub fn default_backend() -> &'static str {
    match std::env::var("NUNCHI_TEST_BACKEND").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

/// A database URL for a new, empty database on `backend`.
pub async fn fresh_url(backend: &str) -> StoreResult<String> {
    match backend {
        "postgres" => {
            let admin = std::env::var("NUNCHI_TEST_POSTGRES_URL").map_err(|_| {
                crate::StoreError::BadUrl("NUNCHI_TEST_POSTGRES_URL is not set".into())
            })?;
            let name = unique("nunchi_test");
            let pool = sqlx::PgPool::connect(&admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await?;
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            let query = admin
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            Ok(format!("{base}/{name}{query}"))
        }
        _ => {
            let dir = std::env::temp_dir().join(unique("nunchi_test"));
            std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::BadUrl(e.to_string()))?;
            Ok(format!("sqlite:{}", dir.join("nunchi.db").display()))
        }
    }
}

/// A migrated, empty store on `backend`.
pub async fn fresh_store(backend: &str) -> Arc<dyn Store> {
    let url = fresh_url(backend).await.expect("create a test database");
    crate::connect(&url).await.expect("open the test database")
}

/// Runs raw SQL against the database at `url`, as a test's stand-in for data written by an
/// older version or by hand (rows the store itself would refuse).
pub async fn execute_raw(url: &str, sql: &str) -> StoreResult<()> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::raw_sql(sql).execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::raw_sql(sql).execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// The tables of the database at `url` in which any row's text holds `needle`, for
/// tests that prove data is gone everywhere (erasure).
pub async fn tables_containing(url: &str, needle: &str) -> StoreResult<Vec<String>> {
    let pattern = format!("%{}%", needle.replace('%', "\\%").replace('_', "\\_"));
    let mut found = Vec::new();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&pool)
        .await?;
        for table in tables {
            let columns: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(&pool)
                    .await?;
            let any = columns
                .iter()
                .map(|c| format!("CAST(\"{c}\" AS TEXT) LIKE $1 ESCAPE '\\'"))
                .collect::<Vec<_>>()
                .join(" OR ");
            let n: i64 =
                sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\" WHERE {any}"))
                    .bind(&pattern)
                    .fetch_one(&pool)
                    .await?;
            if n > 0 {
                found.push(table);
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'
             AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&pool)
        .await?;
        for table in tables {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM \"{table}\" t WHERE t::text LIKE $1 ESCAPE '\\'"
            ))
            .bind(&pattern)
            .fetch_one(&pool)
            .await?;
            if n > 0 {
                found.push(table);
            }
        }
        pool.close().await;
    }
    Ok(found)
}

/// The tables of the database at `url` that have a column named `column`, sorted.
pub async fn tables_with_column(url: &str, column: &str) -> StoreResult<Vec<String>> {
    let mut tables: Vec<String> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let found = sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
             WHERE m.type = 'table' AND c.name = $1",
        )
        .bind(column)
        .fetch_all(&pool)
        .await?;
        pool.close().await;
        found
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let found = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'public'
             AND column_name = $1",
        )
        .bind(column)
        .fetch_all(&pool)
        .await?;
        pool.close().await;
        found
    };
    tables.sort();
    Ok(tables)
}
