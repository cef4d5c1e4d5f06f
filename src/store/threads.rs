//! A ticket's threads besides its question's own (see migration 0012): the mirror under its
//! notice in the moderators' channel, and a private question's private thread.

use super::unit::OnStore;
use super::{Store, StoreResult, ms};
use crate::domain::message::{ThreadKey, ThreadPlace};
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Store {
    /// Records the thread `key` started as `thread_id` on `platform`; the first record stands
    /// (another instance's, or an earlier attempt's).
    pub async fn record_ticket_thread(&self, platform: &str, key: ThreadKey, thread_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ticket_threads (platform, thread_id, ticket_id, place, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(platform)
        .bind(thread_id)
        .bind(key.ticket)
        .bind(key.place.as_str())
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// The platform's id of ticket thread `key`, once it was started.
    pub async fn ticket_thread_id(&self, platform: &str, key: ThreadKey) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT thread_id FROM ticket_threads WHERE platform = $1 AND ticket_id = $2 AND place = $3")
            .bind(platform)
            .bind(key.ticket)
            .bind(key.place.as_str())
            .fetch_optional_on(self)
            .await?;
        Ok(row.map(|r| r.try_get("thread_id")).transpose()?)
    }

    /// Which ticket thread `thread_id` is, if it is one.
    pub async fn thread_of_ticket(&self, platform: &str, thread_id: &str) -> StoreResult<Option<ThreadKey>> {
        let row = sqlx::query("SELECT ticket_id, place FROM ticket_threads WHERE platform = $1 AND thread_id = $2")
            .bind(platform)
            .bind(thread_id)
            .fetch_optional_on(self)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let place: String = row.try_get("place")?;
        let ticket: i64 = row.try_get("ticket_id")?;
        Ok(ThreadPlace::parse(&place).map(|place| ThreadKey { ticket, place }))
    }
}
