//! Ticket timers as durable rows (`domain::ticket::timers` decides when and what): armed,
//! disarmed, and fired once across instances by a guarded update.

use super::unit::OnStore;
use super::{Store, StoreResult, ms, opt_time, parse_col, time};
use crate::domain::ticket::timers::TimerKind;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A timer that has come due and not fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    pub ticket_id: i64,
    pub kind: TimerKind,
    pub due_at: DateTime<Utc>,
}

impl Store {
    /// Sets `kind` of `ticket_id` to fire at `due`. A timer already set for that time keeps its
    /// state (fired stays fired); a new time arms it afresh.
    pub async fn arm_timer(&self, ticket_id: i64, kind: TimerKind, due: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ticket_timers (ticket_id, kind, due_at, armed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id, kind) DO UPDATE SET due_at = excluded.due_at, armed_at = excluded.armed_at, fired_at = NULL \
             WHERE ticket_timers.due_at <> excluded.due_at",
        )
        .bind(ticket_id)
        .bind(kind.as_str())
        .bind(ms(due))
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// Removes the timers of `kinds` that have not fired (the asker spoke: no nudge, no close).
    pub async fn disarm_timers(&self, ticket_id: i64, kinds: &[TimerKind]) -> StoreResult<()> {
        for kind in kinds {
            sqlx::query("DELETE FROM ticket_timers WHERE ticket_id = $1 AND kind = $2 AND fired_at IS NULL")
                .bind(ticket_id)
                .bind(kind.as_str())
                .execute_on(self)
                .await?;
        }
        Ok(())
    }

    /// Timers due at `now` that have not fired, the most overdue first.
    pub async fn due_timers(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DueTimer>> {
        let rows = sqlx::query(
            "SELECT ticket_id, kind, due_at FROM ticket_timers WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at, ticket_id, kind LIMIT $2",
        )
        .bind(ms(now))
        .bind(limit)
        .fetch_all_on(self)
        .await?;
        rows.iter()
            .map(|r| Ok(DueTimer { ticket_id: r.try_get("ticket_id")?, kind: parse_col(r, "kind")?, due_at: time(r.try_get("due_at")?)? }))
            .collect()
    }

    /// Marks `timer` fired at `now`, unless another instance (or an earlier run) did, or it
    /// was re-armed meanwhile: `true` means this caller fires it.
    pub async fn claim_timer(&self, timer: &DueTimer, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE ticket_timers SET fired_at = $4 WHERE ticket_id = $1 AND kind = $2 AND due_at = $3 AND fired_at IS NULL")
            .bind(timer.ticket_id)
            .bind(timer.kind.as_str())
            .bind(ms(timer.due_at))
            .bind(ms(now))
            .execute_on(self)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The timers of one ticket, fired or not: (kind, due, fired).
    pub async fn ticket_timers(&self, ticket_id: i64) -> StoreResult<Vec<(TimerKind, DateTime<Utc>, Option<DateTime<Utc>>)>> {
        let rows = sqlx::query("SELECT kind, due_at, fired_at FROM ticket_timers WHERE ticket_id = $1 ORDER BY due_at, kind")
            .bind(ticket_id)
            .fetch_all_on(self)
            .await?;
        rows.iter().map(|r| Ok((parse_col(r, "kind")?, time(r.try_get("due_at")?)?, opt_time(r, "fired_at")?))).collect()
    }

    /// Sets the ticket's first response, unless it has one.
    pub async fn mark_first_response(&self, ticket_id: i64, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE tickets SET first_response_at = $2, updated_at = $2 WHERE id = $1 AND first_response_at IS NULL")
            .bind(ticket_id)
            .bind(ms(at))
            .execute_on(self)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
