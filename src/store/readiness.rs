//! Is the database fit to take work? Reachable, writable, and (SQLite) still the file the bot
//! opened: a file deleted or replaced under a running bot would otherwise keep "storing"
//! events into an unlinked inode that the next start never sees.

use super::{Store, StoreError, StoreResult};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the readiness probe waits for the database before saying "not ready".
const PROBE_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The SQLite file a store opened, by path and by identity (device and inode).
#[derive(Debug)]
pub(super) struct DatabaseFile {
    path: PathBuf,
    identity: (u64, u64),
}

/// The file path in a SQLite URL (`sqlite://x.db?mode=rwc` → `x.db`).
pub(super) fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

impl DatabaseFile {
    pub(super) fn open(url: &str) -> Option<DatabaseFile> {
        let path = sqlite_path(url)?;
        let meta = std::fs::metadata(&path).ok()?;
        Some(DatabaseFile { path, identity: (meta.dev(), meta.ino()) })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Fails when the file is no longer the one opened.
    fn check(&self) -> StoreResult<()> {
        match std::fs::metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) == self.identity => Ok(()),
            Ok(_) => Err(StoreError::Unfit(format!(
                "the database file {} was replaced while the bot was running; restart supportbot to open the new one",
                self.path.display()
            ))),
            Err(_) => Err(StoreError::Unfit(format!(
                "the database file {} was deleted while the bot was running; restore it, then restart supportbot",
                self.path.display()
            ))),
        }
    }
}

impl Store {
    /// Fails fast when the SQLite file is gone or replaced (a `stat`, no query).
    pub(crate) fn check_file(&self) -> StoreResult<()> {
        self.file.as_ref().map_or(Ok(()), |f| f.check())
    }

    /// Whether the database can take work now: the file is the one opened, a connection is had
    /// and a write goes through (a read-only or full database fails here), all within
    /// `PROBE_TIMEOUT`, so a health check never hangs on a database that does not answer.
    pub async fn readiness(&self) -> StoreResult<()> {
        self.check_file()?;
        let probe = async {
            let now = chrono::Utc::now().timestamp_millis().to_string();
            sqlx::query("INSERT INTO meta (key, value) VALUES ('ready_probe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(db) => StoreError::Unfit(format!("the database refuses writes: {}", db.message())),
                    other => StoreError::from(other),
                })
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(done) => done.map(drop),
            Err(_) => Err(StoreError::Unfit(format!("the database did not answer within {} ms", PROBE_TIMEOUT.as_millis()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_path_is_read_from_sqlite_urls() {
        assert_eq!(sqlite_path("sqlite://data/x.db?mode=rwc"), Some(PathBuf::from("data/x.db")));
        assert_eq!(sqlite_path("sqlite:///abs/x.db"), Some(PathBuf::from("/abs/x.db")));
        assert_eq!(sqlite_path("sqlite:x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
