//! The queries behind the digest.

use super::unit::OnStore;
use super::{Store, StoreResult, ms, time};
use crate::domain::digest::QuestionRecord;
use crate::domain::ticket::Ticket;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

/// A question the FAQ did not answer, for the digest's knowledge gaps.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unanswered {
    pub platform: String,
    pub message_id: String,
    pub asker_id: String,
    pub text: String,
    pub ticket_id: Option<i64>,
    /// The member whose reply answered it, if one did.
    pub answered_by: Option<String>,
}

impl Store {
    /// Runs a query whose `$1` and `$2` are a period's bounds, [from, to).
    async fn rows_between(&self, sql: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<AnyRow>> {
        Ok(sqlx::query(sql).bind(ms(from)).bind(ms(to)).fetch_all_on(self).await?)
    }

    /// A `SELECT COUNT(*) AS n ...` over a period's bounds.
    async fn count_between(&self, sql: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<i64> {
        Ok(sqlx::query(sql).bind(ms(from)).bind(ms(to)).fetch_one_on(self).await?.try_get("n")?)
    }

    /// Questions asked in [from, to) that the bot did not answer from the FAQ (waiting, answered
    /// by a member, or ticketed), oldest first: the digest's knowledge gaps are made of them.
    pub async fn unanswered_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<Unanswered>> {
        let sql = "SELECT platform, message_id, asker_id, text, ticket_id, answered_by FROM questions \
                   WHERE asked_at >= $1 AND asked_at < $2 AND status IN ('pending', 'community_answered', 'ticketed') ORDER BY asked_at, message_id";
        let rows = self.rows_between(sql, from, to).await?;
        Ok(rows.iter().map(Unanswered::from_row).collect::<Result<_, _>>()?)
    }

    /// The first reply `user_id` wrote to a message (the answer that marked a question answered
    /// by the community).
    pub async fn first_reply_by(&self, platform: &str, message_id: &str, user_id: &str) -> StoreResult<Option<String>> {
        let row =
            sqlx::query("SELECT text FROM messages WHERE platform = $1 AND reply_to = $2 AND user_id = $3 AND deleted = 0 ORDER BY at, id LIMIT 1")
                .bind(platform)
                .bind(message_id)
                .bind(user_id)
                .fetch_optional_on(self)
                .await?;
        row.map(|r| Ok(r.try_get("text")?)).transpose()
    }

    /// Questions asked in [from, to), oldest first.
    pub async fn questions_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<QuestionRecord>> {
        let sql = "SELECT asked_at, asker_id, text, faq_id, answered_at, answered_by FROM questions \
                   WHERE asked_at >= $1 AND asked_at < $2 AND status <> 'dismissed' ORDER BY asked_at, message_id";
        let rows = self.rows_between(sql, from, to).await?;
        rows.iter()
            .map(|r| {
                let answered_by: Option<String> = r.try_get("answered_by")?;
                // The bot's answers are stamped when asked, with no member as the answerer.
                let bot_answered = answered_by.is_none()
                    && r.try_get::<Option<i64>, _>("answered_at")?.is_some()
                    && r.try_get::<Option<String>, _>("faq_id")?.is_some();
                Ok(QuestionRecord {
                    asked_at: time(r.try_get("asked_at")?)?,
                    asker_id: r.try_get("asker_id")?,
                    text: r.try_get("text")?,
                    bot_answered,
                    community_answer_by: answered_by,
                })
            })
            .collect()
    }

    /// How many questions were asked in [from, to).
    pub async fn question_count_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<i64> {
        self.count_between("SELECT COUNT(*) AS n FROM questions WHERE asked_at >= $1 AND asked_at < $2 AND status <> 'dismissed'", from, to).await
    }

    /// Votes on the bot's answers cast in [from, to): true = helpful.
    pub async fn votes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<bool>> {
        let rows = self.rows_between("SELECT helpful FROM answer_feedback WHERE at >= $1 AND at < $2", from, to).await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>("helpful")? != 0)).collect()
    }

    /// Tickets opened in [from, to).
    pub async fn tickets_opened_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<Ticket>> {
        let rows = self.rows_between("SELECT * FROM tickets WHERE created_at >= $1 AND created_at < $2 ORDER BY id", from, to).await?;
        rows.iter().map(super::tickets::ticket_from_row).collect()
    }

    /// The histories of the tickets opened in [from, to), by ticket, in one read.
    pub async fn ticket_events_opened_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<std::collections::HashMap<i64, Vec<crate::domain::ticket::TicketEvent>>> {
        let rows = self
            .rows_between(
                "SELECT e.* FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY e.id",
                from,
                to,
            )
            .await?;
        let mut by_ticket: std::collections::HashMap<i64, Vec<_>> = std::collections::HashMap::new();
        for row in &rows {
            by_ticket.entry(row.try_get("ticket_id")?).or_default().push(super::tickets::event(row)?);
        }
        Ok(by_ticket)
    }

    /// How many tickets were resolved in [from, to).
    pub async fn tickets_resolved_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<i64> {
        self.count_between("SELECT COUNT(*) AS n FROM tickets WHERE resolved_at >= $1 AND resolved_at < $2", from, to).await
    }
}

impl Store {
    /// Claims the digest scheduled at `scheduled_at`; only the first caller, of any instance, gets true.
    pub async fn claim_digest(&self, scheduled_at: DateTime<Utc>, instance: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done =
            sqlx::query("INSERT INTO digest_runs (scheduled_at, claimed_by, claimed_at) VALUES ($1, $2, $3) ON CONFLICT (scheduled_at) DO NOTHING")
                .bind(ms(scheduled_at))
                .bind(instance)
                .bind(ms(now))
                .execute_on(self)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// One piece of community feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackNote {
    pub platform: String,
    pub id: String,
    pub channel: String,
    pub user_id: String,
    pub text: String,
    /// "command", "channel" or "not_helpful".
    pub source: &'static str,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Stores feedback once per platform id.
    pub async fn save_feedback_note(&self, f: &FeedbackNote) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO feedback (platform, id, channel, user_id, text, source, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (platform, id) DO NOTHING",
        )
        .bind(&f.platform)
        .bind(&f.id)
        .bind(&f.channel)
        .bind(&f.user_id)
        .bind(&f.text)
        .bind(f.source)
        .bind(ms(f.at))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// Feedback given in [from, to) as (author, text), oldest first.
    pub async fn feedback_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<(String, String)>> {
        let rows = self.rows_between("SELECT user_id, text FROM feedback WHERE at >= $1 AND at < $2 ORDER BY at, id", from, to).await?;
        rows.iter().map(|r| Ok((r.try_get("user_id")?, r.try_get("text")?))).collect()
    }
}
