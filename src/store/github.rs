//! Tickets' GitHub issues as rows: asked for, claimed by one worker at a time, opened (or the
//! existing issue checked), retried, given up on; then following the issue's state.

use super::unit::OnStore;
use super::{Store, StoreResult, ms, parse_col, time};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Where a ticket's issue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueState {
    /// Asked for; the worker has not opened (or checked) it yet.
    Requested,
    Open,
    Closed,
    /// GitHub refused it for good (no such repository, no permission); a new request may retry.
    Failed,
}

impl IssueState {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueState::Requested => "requested",
            IssueState::Open => "open",
            IssueState::Closed => "closed",
            IssueState::Failed => "failed",
        }
    }
}

impl std::str::FromStr for IssueState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "requested" => IssueState::Requested,
            "open" => IssueState::Open,
            "closed" => IssueState::Closed,
            "failed" => IssueState::Failed,
            other => return Err(format!("unknown GitHub issue state {other:?}")),
        })
    }
}

/// A ticket's GitHub issue, as far as it got.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketIssue {
    pub ticket_id: i64,
    pub repo: String,
    /// Known once opened; set from the start when an existing issue was named.
    pub number: Option<i64>,
    pub url: Option<String>,
    #[serde(serialize_with = "state_name")]
    pub state: IssueState,
    pub requested_by: String,
    /// How many times a worker has claimed it.
    pub attempts: i64,
    pub last_error: Option<String>,
}

fn state_name<S: serde::Serializer>(state: &IssueState, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(state.as_str())
}

const COLUMNS: &str = "ticket_id, repo, number, url, state, requested_by, attempts, last_error";

fn issue_row(r: &AnyRow) -> StoreResult<TicketIssue> {
    Ok(TicketIssue {
        ticket_id: r.try_get("ticket_id")?,
        repo: r.try_get("repo")?,
        number: r.try_get("number")?,
        url: r.try_get("url")?,
        state: parse_col(r, "state")?,
        requested_by: r.try_get("requested_by")?,
        attempts: r.try_get::<i64, _>("attempts")?,
        last_error: r.try_get("last_error")?,
    })
}

impl Store {
    /// Asks for `ticket_id`'s issue in `repo` (`number`: an existing one to link). A ticket has
    /// one issue: when it already has one that did not fail, that one comes back and nothing
    /// changes; a failed one is asked for afresh.
    pub async fn request_issue(
        &self,
        ticket_id: i64,
        repo: &str,
        number: Option<i64>,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), TicketIssue>> {
        if let Some(existing) = self.ticket_issue(ticket_id).await?.filter(|i| i.state != IssueState::Failed) {
            return Ok(Err(existing));
        }
        sqlx::query(
            "INSERT INTO ticket_github (ticket_id, repo, number, state, requested_by, requested_at, next_attempt_at, updated_at) \
             VALUES ($1, $2, $3, 'requested', $4, $5, $5, $5) \
             ON CONFLICT (ticket_id) DO UPDATE SET repo = excluded.repo, number = excluded.number, url = NULL, state = 'requested', \
             requested_by = excluded.requested_by, requested_at = excluded.requested_at, attempts = 0, next_attempt_at = excluded.next_attempt_at, \
             claimed_until = NULL, last_error = NULL, updated_at = excluded.updated_at \
             WHERE ticket_github.state = 'failed'",
        )
        .bind(ticket_id)
        .bind(repo)
        .bind(number)
        .bind(by)
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(Ok(()))
    }

    pub async fn ticket_issue(&self, ticket_id: i64) -> StoreResult<Option<TicketIssue>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM ticket_github WHERE ticket_id = $1")).bind(ticket_id).fetch_optional_on(self).await?;
        row.as_ref().map(issue_row).transpose()
    }

    /// Claims up to `limit` requested issues that are due and not held by a live claim, for
    /// this caller until `lease_until`; each claim counts an attempt. Another instance's claim
    /// that ran out (it died mid-way) is taken over.
    pub async fn claim_issue_requests(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: i64) -> StoreResult<Vec<TicketIssue>> {
        let due = sqlx::query(
            "SELECT ticket_id FROM ticket_github WHERE state = 'requested' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY next_attempt_at, ticket_id LIMIT $2",
        )
        .bind(ms(now))
        .bind(limit)
        .fetch_all_on(self)
        .await?;
        let mut claimed = Vec::new();
        for row in &due {
            let ticket_id: i64 = row.try_get("ticket_id")?;
            let done = sqlx::query(
                "UPDATE ticket_github SET claimed_until = $3, attempts = attempts + 1 WHERE ticket_id = $1 AND state = 'requested' \
                 AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)",
            )
            .bind(ticket_id)
            .bind(ms(now))
            .bind(ms(lease_until))
            .execute_on(self)
            .await?;
            if done.rows_affected() == 1
                && let Some(issue) = self.ticket_issue(ticket_id).await?
            {
                claimed.push(issue);
            }
        }
        Ok(claimed)
    }

    /// The issue is on GitHub: its number, address and state. False when the request was no
    /// longer this caller's to finish (it was finished already).
    pub async fn issue_opened(&self, ticket_id: i64, number: i64, url: &str, state: IssueState, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE ticket_github SET number = $2, url = $3, state = $4, claimed_until = NULL, last_error = NULL, updated_at = $5 \
             WHERE ticket_id = $1 AND state = 'requested'",
        )
        .bind(ticket_id)
        .bind(number)
        .bind(url)
        .bind(state.as_str())
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An attempt failed and is tried again at `retry_at`; the claim is given back.
    pub async fn issue_retry_at(&self, ticket_id: i64, error: &str, retry_at: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE ticket_github SET next_attempt_at = $2, claimed_until = NULL, last_error = $3, updated_at = $4 \
             WHERE ticket_id = $1 AND state = 'requested'",
        )
        .bind(ticket_id)
        .bind(ms(retry_at))
        .bind(error)
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// Gives up on the request. False when it was not this caller's to give up on.
    pub async fn issue_failed(&self, ticket_id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE ticket_github SET state = 'failed', claimed_until = NULL, last_error = $2, updated_at = $3 WHERE ticket_id = $1 AND state = 'requested'",
        )
        .bind(ticket_id)
        .bind(error)
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tickets linked to `repo`'s issue `number` (GitHub's names ignore case), and moves
    /// their record of it to `state`. Returns the ids whose record changed, so a redelivered
    /// webhook changes nothing twice.
    pub async fn issue_changed(&self, repo: &str, number: i64, state: IssueState, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT ticket_id FROM ticket_github WHERE LOWER(repo) = LOWER($1) AND number = $2 AND state IN ('open', 'closed') AND state <> $3 \
             ORDER BY ticket_id",
        )
        .bind(repo)
        .bind(number)
        .bind(state.as_str())
        .fetch_all_on(self)
        .await?;
        let mut changed = Vec::new();
        for row in &rows {
            let ticket_id: i64 = row.try_get("ticket_id")?;
            let done = sqlx::query(
                "UPDATE ticket_github SET state = $2, updated_at = $3 WHERE ticket_id = $1 AND state <> $2 AND state IN ('open', 'closed')",
            )
            .bind(ticket_id)
            .bind(state.as_str())
            .bind(ms(now))
            .execute_on(self)
            .await?;
            if done.rows_affected() == 1 {
                changed.push(ticket_id);
            }
        }
        Ok(changed)
    }

    /// When the next issue request comes due, if any waits.
    pub async fn next_issue_request(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT MIN(next_attempt_at) AS due FROM ticket_github WHERE state = 'requested'").fetch_one_on(self).await?;
        row.try_get::<Option<i64>, _>("due")?.map(time).transpose()
    }
}
