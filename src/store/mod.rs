//! The store: the only place that speaks SQL. SQLite or PostgreSQL, chosen by the URL.

pub mod faq;
pub mod digest;
mod embeddings;
pub mod health;
mod intake;
mod messages;
mod migrations;
mod tickets;

pub use intake::{Intake, OutboxItem};
pub use messages::{Question, QuestionStatus, StoredMessage};
pub use digest::FeedbackNote;
pub use faq::Upsert;
pub use tickets::NewTicket;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::Duration;

/// A storage failure. `Unavailable` covers a database that is down or refusing work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("could not apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        crate::metrics::database_error(health::error_kind(&e));
        match e {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => {
                StoreError::Corrupt(e.to_string())
            }
            other => StoreError::Unavailable(other),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("postgres", &self.postgres).finish_non_exhaustive()
    }
}

/// Makes a SQLite URL create its file when missing, unless the URL already says how to open it.
fn sqlite_url(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

impl Store {
    /// Connects, applies the embedded migrations, and (for SQLite files) switches to WAL.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
        let memory = url.contains(":memory:");
        if !postgres && !url.starts_with("sqlite:") {
            return Err(StoreError::Unavailable(sqlx::Error::Configuration(
                format!("database url must start with sqlite: or postgres: (got {:?})", url.split(':').next().unwrap_or("")).into(),
            )));
        }
        let url = if postgres { url.to_string() } else { sqlite_url(url) };
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        options = if memory {
            // Every connection to `sqlite::memory:` is its own empty database: keep exactly one.
            options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            options.max_connections(max_connections.max(1))
        };
        let pool = options.connect(&url).await?;
        if !postgres && !memory {
            sqlx::query("PRAGMA journal_mode=WAL").execute(&pool).await?;
        }
        migrations::migrator(postgres).await?.run(&pool).await?;
        Ok(Store { pool, postgres })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Cheap liveness probe for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms} out of range")))
}

pub(crate) fn opt_time(row: &AnyRow, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.try_get::<Option<i64>, _>(col)?.map(time).transpose()
}

pub(crate) fn parse_col<T: std::str::FromStr<Err = String>>(row: &AnyRow, col: &str) -> StoreResult<T> {
    row.try_get::<String, _>(col)?.parse().map_err(StoreError::Corrupt)
}
