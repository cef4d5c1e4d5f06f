//! Durable intake (inbox) and delivery (outbox). Both are claimed with a lease, so several
//! instances can share the work and a crashed instance's work is picked up after the lease.

use super::unit::OnStore;
use super::{Store, StoreError, StoreResult, ms, time};
use crate::domain::intake::{Intake, OutboxItem};
use crate::domain::message::{Action, Incoming};
use chrono::{DateTime, Utc};
use sqlx::Row;

fn payload<T: serde::de::DeserializeOwned>(raw: &str, table: &str) -> StoreResult<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{table} payload: {e}")))
}

/// The payload of an outbox row whose action is gone: blanked after its delivery
/// (`erase_after_send`) or by the retention job. No claim reads it again.
pub(crate) const ERASED: &str = "{}";

/// What is kept of an error on an outbox row: its first 500 characters.
fn last_error(error: &str) -> String {
    error.chars().take(500).collect()
}

impl Store {
    /// Records an event before it is processed, and claims it for this caller. Fails within
    /// `[database] timeout` when the database does not answer: the acknowledgement waits for
    /// this, and Slack retries what it has not seen acknowledged within 3 seconds, so "not
    /// stored" (Slack retries; Discord's copy is held for a retry) beats answering too late.
    pub async fn record_incoming(&self, event: &Incoming, now: DateTime<Utc>) -> StoreResult<Intake> {
        self.check_file()?;
        // SQLite's busy timeout (the same length) ends a locked write first, cleanly.
        match tokio::time::timeout(self.timeout + std::time::Duration::from_millis(250), self.insert_incoming(event, now)).await {
            Ok(intake) => intake,
            Err(_) => Err(StoreError::Unfit(format!("recording an event took longer than {} ms", self.timeout.as_millis()))),
        }
    }

    async fn insert_incoming(&self, event: &Incoming, now: DateTime<Utc>) -> StoreResult<Intake> {
        let body = serde_json::to_string(event).expect("incoming events always serialize");
        let inserted = sqlx::query(
            "INSERT INTO inbox (platform, event_id, payload, received_at, claimed_until) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (platform, event_id) DO NOTHING",
        )
        .bind(&event.platform)
        .bind(&event.event_id)
        .bind(body)
        .bind(ms(now))
        .bind(ms(now + self.lease))
        .execute_on(self)
        .await?;
        crate::faults::crash_point("inbox.recorded");
        if inserted.rows_affected() == 1 {
            return Ok(Intake::Claimed);
        }
        // Seen before: only process it if nobody finished it and the last claim expired.
        Ok(if self.claim_incoming(&event.platform, &event.event_id, now).await? { Intake::Claimed } else { Intake::Duplicate })
    }

    async fn claim_incoming(&self, platform: &str, event_id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE inbox SET claimed_until = $3 WHERE platform = $1 AND event_id = $2 \
             AND processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $4)",
        )
        .bind(platform)
        .bind(event_id)
        .bind(ms(now + self.lease))
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up this caller's claim on an unprocessed event (its handling failed and left nothing).
    pub async fn release_incoming(&self, platform: &str, event_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE inbox SET claimed_until = NULL WHERE platform = $1 AND event_id = $2 AND processed_at IS NULL")
            .bind(platform)
            .bind(event_id)
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// Whether an event was ever recorded: a platform's (`event_id` None) or one event.
    pub async fn seen_event(&self, platform: &str, event_id: Option<&str>) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM inbox WHERE platform = $1 AND ($2 = '' OR event_id = $2) LIMIT 1")
            .bind(platform)
            .bind(event_id.unwrap_or_default())
            .fetch_optional_on(self)
            .await?;
        Ok(row.is_some())
    }

    /// Records the actions for `platform` that some work produced and, when that work was an
    /// incoming event, marks it processed, in one transaction. `origin` keys the actions:
    /// recording the same origin twice adds nothing.
    pub async fn record_actions(
        &self,
        platform: &str,
        origin: &str,
        actions: &[Action],
        processed: Option<&Incoming>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let unit = self.begin().await?;
        for (seq, action) in actions.iter().enumerate() {
            sqlx::query(
                "INSERT INTO outbox (origin, seq, platform, payload, created_at, next_attempt_at, erase_after_send) VALUES ($1, $2, $3, $4, $5, $5, $6) \
                 ON CONFLICT (origin, seq) DO NOTHING",
            )
            .bind(origin)
            .bind(seq as i64)
            .bind(platform)
            .bind(serde_json::to_string(action).expect("actions always serialize"))
            .bind(ms(now))
            .bind(i64::from(action.erase_after_send))
            .execute_on(&unit)
            .await?;
        }
        if let Some(e) = processed {
            sqlx::query("UPDATE inbox SET processed_at = $3 WHERE platform = $1 AND event_id = $2")
                .bind(&e.platform)
                .bind(&e.event_id)
                .bind(ms(now))
                .execute_on(&unit)
                .await?;
        }
        unit.commit().await?;
        Ok(())
    }

    /// Events recorded but never processed (a crash, or a failure mid-way), claimed for this caller.
    pub async fn claim_unprocessed(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Incoming>> {
        let rows = sqlx::query(
            "SELECT platform, event_id, payload FROM inbox WHERE processed_at IS NULL \
             AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY received_at LIMIT $2",
        )
        .bind(ms(now))
        .bind(limit)
        .fetch_all_on(self)
        .await?;
        let mut claimed = Vec::new();
        for row in rows {
            let (platform, event_id): (String, String) = (row.try_get("platform")?, row.try_get("event_id")?);
            if self.claim_incoming(&platform, &event_id, now).await? {
                claimed.push(payload(&row.try_get::<String, _>("payload")?, "inbox")?);
            }
        }
        Ok(claimed)
    }

    /// How many recorded events were never processed (for health checks and tests).
    pub async fn unprocessed_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL").fetch_one_on(self).await?;
        Ok(row.try_get("n")?)
    }

    /// Gives every new row of `platform` its lane (the channel it goes to), so that the claim can
    /// keep a channel's order. A row whose payload cannot be read is given up on at once (it
    /// would otherwise hold up its platform for good); those come back with the reason.
    pub async fn prepare_outbox(&self, platform: &str, now: DateTime<Utc>) -> StoreResult<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, payload FROM outbox WHERE platform = $1 AND sent_at IS NULL AND failed_at IS NULL AND lane IS NULL ORDER BY id LIMIT 1000",
        )
        .bind(platform)
        .fetch_all(&self.pool)
        .await?;
        let mut unreadable = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            match payload::<Action>(&row.try_get::<String, _>("payload")?, "outbox") {
                Ok(action) => {
                    sqlx::query("UPDATE outbox SET lane = $2 WHERE id = $1 AND lane IS NULL")
                        .bind(id)
                        .bind(&action.channel)
                        .execute(&self.pool)
                        .await?;
                }
                Err(e) => {
                    let reason = e.to_string();
                    self.mark_dead(id, &reason, now).await?;
                    unreadable.push((id, reason));
                }
            }
        }
        Ok(unreadable)
    }

    /// Actions for `platform` due to be sent, claimed for this caller, oldest first.
    /// One statement claims the batch, so two instances never claim the same action. A row is
    /// due only when no earlier row of its lane is waiting (for a retry or a rate limit) or held
    /// by another claim: a channel's actions go out in the order they were recorded.
    pub async fn claim_outbox(&self, platform: &str, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        self.prepare_outbox(platform, now).await?;
        let lease = now + self.lease;
        let rows = sqlx::query(
            "UPDATE outbox SET claimed_until = $3 WHERE id IN ( \
                 SELECT o.id FROM outbox o WHERE o.platform = $1 AND o.sent_at IS NULL AND o.failed_at IS NULL AND o.lane IS NOT NULL \
                 AND o.next_attempt_at <= $2 AND (o.claimed_until IS NULL OR o.claimed_until < $2) \
                 AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.platform = o.platform AND e.lane = o.lane AND e.id < o.id \
                     AND e.sent_at IS NULL AND e.failed_at IS NULL AND (e.next_attempt_at > $2 OR e.claimed_until >= $2)) \
                 ORDER BY o.id LIMIT $4) \
             AND (claimed_until IS NULL OR claimed_until < $2) RETURNING id, payload, attempts, created_at, lane, uncertain",
        )
        .bind(platform)
        .bind(ms(now))
        .bind(ms(lease))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows
            .iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.try_get("id")?,
                    platform: platform.to_string(),
                    action: payload(&row.try_get::<String, _>("payload")?, "outbox")?,
                    attempts: row.try_get("attempts")?,
                    created_at: time(row.try_get("created_at")?)?,
                    lane: row.try_get::<Option<String>, _>("lane")?.unwrap_or_default(),
                    uncertain: row.try_get::<i64, _>("uncertain")? != 0,
                    claimed_until: lease,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        items.sort_by_key(|i| i.id); // RETURNING promises no order
        Ok(items)
    }

    /// Records that a send of a claimed row starts now: from here until its outcome is recorded
    /// it may reach the platform, so a crash leaves it marked uncertain. False when the claim
    /// was lost (the lease ran out and another instance took the row): then do not send.
    pub async fn begin_attempt(&self, item: &OutboxItem, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET uncertain = 1, attempted_at = $3 WHERE id = $1 AND claimed_until = $2 AND sent_at IS NULL AND failed_at IS NULL",
        )
        .bind(item.id)
        .bind(ms(item.claimed_until))
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a row sent; a row that must not outlive its delivery is blanked (`ERASED`).
    pub async fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $2, claimed_until = NULL, payload = CASE WHEN erase_after_send = 1 THEN $3 ELSE payload END WHERE id = $1",
        )
        .bind(id)
        .bind(ms(now))
        .bind(ERASED)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt; the item is tried again at `retry_at`. It stays uncertain when
    /// the attempt began: the platform may have it.
    pub async fn mark_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()> {
        self.count_failure(id, error, "next_attempt_at", retry_at).await
    }

    /// Puts an item off until `until` without counting a failed attempt: the platform's rate
    /// limit said to wait. `settled`: nothing of this row is on the platform (the platform
    /// refused this attempt, and any earlier one was looked for and not found), so the next
    /// attempt need not look first.
    pub async fn defer(&self, id: i64, reason: &str, until: DateTime<Utc>, settled: bool) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET last_error = $2, next_attempt_at = $3, claimed_until = NULL, \
             uncertain = CASE WHEN $4 = 1 THEN 0 ELSE uncertain END WHERE id = $1",
        )
        .bind(id)
        .bind(last_error(reason))
        .bind(ms(until))
        .bind(i64::from(settled))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives claimed rows back untouched (none of them was attempted): `lane`'s rows after
    /// `after_id`, or with `lane` None every row of this claim.
    pub async fn release_claim(&self, platform: &str, claimed_until: DateTime<Utc>, lane: Option<&str>, after_id: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET claimed_until = NULL WHERE platform = $1 AND claimed_until = $2 AND id > $3 \
             AND ($4 = '' OR lane = $5) AND sent_at IS NULL AND failed_at IS NULL",
        )
        .bind(platform)
        .bind(ms(claimed_until))
        .bind(after_id)
        .bind(if lane.is_some() { "lane" } else { "" })
        .bind(lane.unwrap_or_default())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up on an action (a permanent error, or too many attempts); it stays for inspection.
    pub async fn mark_dead(&self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.count_failure(id, error, "failed_at", now).await
    }

    /// Counts a failed attempt on a row, keeps its error and gives up the claim; `stamp`, the
    /// column saying what comes next (`next_attempt_at` or `failed_at`), is set to `at`.
    async fn count_failure(&self, id: i64, error: &str, stamp: &'static str, at: DateTime<Utc>) -> StoreResult<()> {
        // Given up, a row that must not outlive its delivery is blanked as if it had been sent.
        let erase = if stamp == "failed_at" { ", payload = CASE WHEN erase_after_send = 1 THEN $4 ELSE payload END" } else { "" };
        let sql = format!("UPDATE outbox SET attempts = attempts + 1, last_error = $2, {stamp} = $3, claimed_until = NULL{erase} WHERE id = $1");
        let query = sqlx::query(&sql).bind(id).bind(last_error(error)).bind(ms(at));
        let query = if erase.is_empty() { query } else { query.bind(ERASED) };
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// How many actions are waiting to be sent (for health checks and tests).
    pub async fn unsent_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL").fetch_one(&self.pool).await?;
        Ok(row.try_get("n")?)
    }

    /// How many actions were given up on in [from, to) (for the digest).
    /// Rows withdrawn because the member they were about was forgotten do not count: they were
    /// not given up, they were taken back.
    pub async fn given_up_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox WHERE failed_at >= $1 AND failed_at < $2 AND COALESCE(last_error, '') NOT LIKE 'withdrawn:%'",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_one_on(self)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// When `platform`'s next action comes due: the earliest retry time, or the end of another
    /// claim, among the rows at the head of their lanes. None when nothing waits.
    pub async fn next_outbox_due(&self, platform: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN o.claimed_until IS NOT NULL AND o.claimed_until > o.next_attempt_at THEN o.claimed_until ELSE o.next_attempt_at END) AS due \
             FROM outbox o WHERE o.platform = $1 AND o.sent_at IS NULL AND o.failed_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.platform = o.platform AND e.lane = o.lane AND e.id < o.id \
                 AND e.sent_at IS NULL AND e.failed_at IS NULL)",
        )
        .bind(platform)
        .fetch_one(&self.pool)
        .await?;
        row.try_get::<Option<i64>, _>("due")?.map(time).transpose()
    }
}
