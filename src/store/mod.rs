//! The store: the only place that speaks SQL. SQLite or PostgreSQL, chosen by the URL.

mod console;
mod detector;
pub mod digest;
mod embeddings;
pub mod faq;
mod github;
pub mod health;
mod intake;
mod learned;
mod messages;
mod migrations;
pub mod privacy;
mod readiness;
mod threads;
mod tickets;
mod timers;
mod unit;
pub mod web;

pub use crate::domain::intake::{Intake, OutboxItem};
/// The question lifecycle lives in the domain; this path remains only for `eval::channel`.
pub use crate::domain::question::QuestionStatus;
pub use console::{FaqUse, QueueFacets, QueueFilter, SearchHit};
pub use detector::{DetectorExample, ExamplesVersion};
pub use digest::{FeedbackNote, Unanswered};
pub use faq::Upsert;
pub use github::{IssueState, TicketIssue};
pub use messages::{Question, StoredMessage};
pub use tickets::{LinkedAsker, NewTicket};
pub use timers::DueTimer;
pub use web::{WebSession, WebUser};

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, AnyPool, Row};
use std::time::Duration;

/// A storage failure. `Unavailable` covers a database that is down or refusing work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database answers but must not be used: its file was deleted or replaced under the
    /// running bot, or it refuses writes (read-only, full).
    #[error("the database cannot be used: {0}")]
    Unfit(String),
    #[error("could not apply database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A URL of no database this store speaks.
    #[error("{0}")]
    BadUrl(String),
}

/// A database URL the store can open: `sqlite:` or `postgres:`, said in one sentence otherwise.
pub fn check_url(url: &str) -> Result<(), String> {
    if ["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| url.starts_with(scheme)) {
        return Ok(());
    }
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    let hint = if scheme.is_empty() || url.split_once(':').is_none() { format!("; a file is sqlite://{url}") } else { String::new() };
    Err(format!("{url:?} is not a database URL: it must start with sqlite: or postgres:{hint}"))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        crate::metrics::database_error(health::error_kind(&e));
        match e {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Unavailable(other),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How a store connects and shares work; the defaults are `[database]`'s.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// How long a query waits for a connection (see `[database] timeout`).
    pub timeout: Duration,
    /// How long a claim on an event or a delivery lasts (see `[database] lease`).
    pub lease: chrono::Duration,
}

impl StoreOptions {
    pub fn new(max_connections: u32) -> StoreOptions {
        let defaults = crate::config::DatabaseSettings::default();
        StoreOptions { max_connections, timeout: defaults.timeout, lease: chrono::Duration::seconds(defaults.lease.as_secs() as i64) }
    }

    pub fn from_settings(s: &crate::config::DatabaseSettings) -> StoreOptions {
        let lease = chrono::Duration::from_std(s.lease).unwrap_or(chrono::Duration::seconds(60)).max(chrono::Duration::seconds(1));
        StoreOptions { max_connections: s.max_connections, timeout: s.timeout, lease }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
    /// The pool, or the transaction of a unit of work (see `unit`).
    conn: unit::Conn,
    lease: chrono::Duration,
    /// How long the acknowledgement path waits for the database.
    timeout: Duration,
    /// The SQLite file this store opened, to notice it being deleted or replaced.
    file: Option<std::sync::Arc<readiness::DatabaseFile>>,
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
    /// Connects with the default timeout and lease; see [`Store::connect_with`].
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
        Store::connect_with(url, &StoreOptions::new(max_connections)).await
    }

    /// Connects, applies the embedded migrations, and (for SQLite files) switches to WAL.
    /// A database that cannot be reached is named by its real cause ("connection refused"),
    /// not by the pool's "timed out".
    pub async fn connect_with(url: &str, options: &StoreOptions) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        check_url(url).map_err(StoreError::BadUrl)?;
        let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
        let memory = url.contains(":memory:");
        let url = if postgres { url.to_string() } else { sqlite_url(url) };
        let created = !postgres && !memory && readiness::sqlite_path(&url).is_some_and(|p| !p.exists());
        if !memory {
            // One plain connection first: its error is the cause itself.
            use sqlx::Connection;
            sqlx::AnyConnection::connect(&url).await?.close().await?;
        }
        let mut pool_options = AnyPoolOptions::new().acquire_timeout(options.timeout);
        if !postgres {
            // A writer lock held elsewhere is waited out for `timeout`, not sqlx's 5 s: past it
            // the statement fails cleanly instead of finishing after its caller gave up.
            let busy = format!("PRAGMA busy_timeout = {}", options.timeout.as_millis());
            pool_options = pool_options.after_connect(move |conn, _| {
                let busy = busy.clone();
                Box::pin(async move {
                    sqlx::query(&busy).execute(&mut *conn).await?;
                    // What is deleted (a forgotten member, text past its retention) is
                    // overwritten in the file, not left in its free pages.
                    sqlx::query("PRAGMA secure_delete = ON").execute(conn).await?;
                    Ok(())
                })
            });
        }
        pool_options = if memory {
            // Every connection to `sqlite::memory:` is its own empty database: keep exactly one.
            pool_options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            pool_options.max_connections(options.max_connections.max(1))
        };
        let pool = pool_options.connect(&url).await?;
        // PostgreSQL's migrator takes an advisory lock; SQLite's takes none, so two instances
        // starting at once on one file would both apply migration 1. A lock file beside the
        // database makes them take turns, from the switch to WAL on: that switch waits for no
        // busy timeout, and answered "database is locked" while the other instance migrated.
        let _turn = match readiness::sqlite_path(&url).filter(|_| !memory) {
            Some(path) => Some(migration_turn(&path).await?),
            None => None,
        };
        if !postgres && !memory {
            sqlx::query("PRAGMA journal_mode=WAL").execute(&pool).await?;
        }
        migrations::migrator(postgres).run(&pool).await?;
        let file = if postgres || memory { None } else { readiness::DatabaseFile::open(&url).map(std::sync::Arc::new) };
        if created && let Some(f) = &file {
            tracing::info!(path = %f.path().display(), "there was no database file here: created a new, empty one");
        }
        Ok(Store { pool, postgres, conn: unit::Conn::Pool, lease: options.lease, timeout: options.timeout, file })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// How long a claim on an event or a delivery lasts.
    pub fn lease(&self) -> chrono::Duration {
        self.lease
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// SQLite: copies the write-ahead log into the database file and empties it, so that the
    /// old copies of pages it holds (with what was just deleted) are gone too. Best effort: a
    /// reader still looking at an older snapshot leaves the log for the next checkpoint.
    /// Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) {
        if self.postgres {
            return;
        }
        match sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_optional(&self.pool).await {
            Ok(Some(row)) if row.try_get::<i64, _>(0).unwrap_or(0) != 0 => tracing::debug!("the WAL checkpoint was held up by a reader"),
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "the WAL checkpoint failed"),
        }
    }
}

/// Waits for this process's turn to migrate the SQLite database at `path` (a lock on
/// `<path>-migrations.lock`, released when the returned file is dropped).
async fn migration_turn(path: &std::path::Path) -> StoreResult<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push("-migrations.lock");
    let lock_path = std::path::PathBuf::from(name);
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| StoreError::Unfit(format!("waiting to migrate the database: {e}")))?;
    locked.map_err(|e| StoreError::Unfit(format!("could not lock the database for its migrations: {e}")))
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms} out of range")))
}

/// An integer column read as what it stands for, by `#[sqlx(try_from = "Integer")]` on a field
/// of a `FromRow` struct: a time (milliseconds since the epoch) or a flag (0 or 1).
pub(crate) struct Integer(i64);

impl sqlx::Type<Any> for Integer {
    fn type_info() -> AnyTypeInfo {
        <i64 as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for Integer {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as sqlx::Decode<'r, Any>>::decode(value).map(Integer)
    }
}

impl TryFrom<Integer> for DateTime<Utc> {
    type Error = StoreError;

    fn try_from(ms: Integer) -> StoreResult<DateTime<Utc>> {
        time(ms.0)
    }
}

impl From<Integer> for bool {
    fn from(flag: Integer) -> bool {
        flag.0 != 0
    }
}

pub(crate) fn opt_time(row: &AnyRow, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.try_get::<Option<i64>, _>(col)?.map(time).transpose()
}

pub(crate) fn parse_col<T: std::str::FromStr<Err = String>>(row: &AnyRow, col: &str) -> StoreResult<T> {
    row.try_get::<String, _>(col)?.parse().map_err(StoreError::Corrupt)
}
