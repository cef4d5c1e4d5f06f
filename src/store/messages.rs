//! Messages the bot saw, the questions among them, and votes on the bot's answers.

use super::unit::OnStore;
use super::{Integer, Store, StoreResult, ms};
use crate::domain::question::QuestionStatus;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct StoredMessage {
    pub platform: String,
    pub id: String,
    pub channel: String,
    pub user_id: String,
    pub user_name: String,
    pub text: String,
    #[sqlx(try_from = "Integer")]
    pub at: DateTime<Utc>,
    pub reply_to: Option<String>,
    #[sqlx(try_from = "Integer")]
    pub is_support: bool,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Question {
    pub platform: String,
    pub message_id: String,
    pub channel: String,
    pub asker_id: String,
    pub asker_name: String,
    pub text: String,
    #[sqlx(try_from = "Integer")]
    pub asked_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: QuestionStatus,
    pub faq_id: Option<String>,
    pub confidence: Option<f64>,
    pub ticket_id: Option<i64>,
    /// Asked with `ask` and answered only to the asker (a slash command): its ticket is private.
    #[sqlx(try_from = "Integer")]
    pub private: bool,
}

/// A status as stored (its `as_str` spelling), for `#[sqlx(try_from = "String")]`.
impl TryFrom<String> for QuestionStatus {
    type Error = String;

    fn try_from(stored: String) -> Result<QuestionStatus, String> {
        stored.parse()
    }
}

impl Store {
    /// Stores a message; a redelivered one keeps its first copy.
    pub async fn save_message(&self, m: &StoredMessage) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO messages (platform, id, channel, user_id, user_name, text, at, reply_to, is_support) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (platform, id) DO NOTHING",
        )
        .bind(&m.platform)
        .bind(&m.id)
        .bind(&m.channel)
        .bind(&m.user_id)
        .bind(&m.user_name)
        .bind(&m.text)
        .bind(ms(m.at))
        .bind(&m.reply_to)
        .bind(m.is_support as i64)
        .execute_on(self)
        .await?;
        Ok(())
    }

    pub async fn message(&self, platform: &str, id: &str) -> StoreResult<Option<StoredMessage>> {
        let row = sqlx::query("SELECT * FROM messages WHERE platform = $1 AND id = $2 AND deleted = 0")
            .bind(platform)
            .bind(id)
            .fetch_optional_on(self)
            .await?;
        Ok(row.as_ref().map(StoredMessage::from_row).transpose()?)
    }

    /// The channels a platform's messages were seen in: where to look for what was missed. The
    /// catch-up cursors count too: a channel whose messages all aged out is still watched.
    pub async fn known_channels(&self, platform: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT channel FROM messages WHERE platform = $1 UNION SELECT channel FROM channel_cursors WHERE platform = $1 ORDER BY channel",
        )
        .bind(platform)
        .fetch_all_on(self)
        .await?;
        rows.iter().map(|r| Ok(r.try_get::<String, _>("channel")?)).collect()
    }

    /// The id of the newest message seen in a channel (deleted ones count: they were seen).
    pub async fn last_message_id(&self, platform: &str, channel: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT id FROM messages WHERE platform = $1 AND channel = $2 ORDER BY at DESC, id DESC LIMIT 1")
            .bind(platform)
            .bind(channel)
            .fetch_optional_on(self)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("id")).transpose()?)
    }

    /// Moves a channel's catch-up cursor forward to `message_id` (never back): every message
    /// up to it is stored. Only for numeric (snowflake) ids; others are ignored.
    pub async fn advance_cursor(&self, platform: &str, channel: &str, message_id: &str) -> StoreResult<()> {
        let Ok(id) = message_id.parse::<i64>() else { return Ok(()) };
        sqlx::query(
            "INSERT INTO channel_cursors (platform, channel, message_id) VALUES ($1, $2, $3) \
             ON CONFLICT (platform, channel) DO UPDATE SET message_id = excluded.message_id \
             WHERE channel_cursors.message_id < excluded.message_id",
        )
        .bind(platform)
        .bind(channel)
        .bind(id)
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// Where catching up on a channel starts: its cursor, or (a database from before cursors)
    /// the newest message stored there.
    pub async fn catch_up_point(&self, platform: &str, channel: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT message_id FROM channel_cursors WHERE platform = $1 AND channel = $2")
            .bind(platform)
            .bind(channel)
            .fetch_optional_on(self)
            .await?;
        match row {
            Some(r) => Ok(Some(r.try_get::<i64, _>("message_id")?.to_string())),
            None => self.last_message_id(platform, channel).await,
        }
    }

    /// Applies an edit to the stored copy (and to a still-open question's text).
    pub async fn edit_message(&self, platform: &str, id: &str, text: &str) -> StoreResult<()> {
        sqlx::query("UPDATE messages SET text = $3 WHERE platform = $1 AND id = $2").bind(platform).bind(id).bind(text).execute_on(self).await?;
        sqlx::query("UPDATE questions SET text = $3 WHERE platform = $1 AND message_id = $2 AND status = 'pending'")
            .bind(platform)
            .bind(id)
            .bind(text)
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// Forgets a deleted message's text; a pending question on it will not become a ticket.
    pub async fn delete_message(&self, platform: &str, id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE messages SET text = '', deleted = 1 WHERE platform = $1 AND id = $2").bind(platform).bind(id).execute_on(self).await?;
        sqlx::query("DELETE FROM questions WHERE platform = $1 AND message_id = $2 AND status = 'pending'")
            .bind(platform)
            .bind(id)
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// Records a detected question; false if it was already recorded.
    pub async fn insert_question(&self, q: &Question) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO questions (platform, message_id, channel, asker_id, asker_name, text, asked_at, status, faq_id, confidence, ticket_id, answered_at, private) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $13 = 1 THEN $10 ELSE NULL END, $11, $12, $14) ON CONFLICT (platform, message_id) DO NOTHING",
        )
        .bind(&q.platform)
        .bind(&q.message_id)
        .bind(&q.channel)
        .bind(&q.asker_id)
        .bind(&q.asker_name)
        .bind(&q.text)
        .bind(ms(q.asked_at))
        .bind(q.status.as_str())
        .bind(&q.faq_id)
        // Never a NULL double: sqlx 0.8's Any sends one to PostgreSQL as a float4, which the
        // connection's cached statement then expects of every later (float8) confidence.
        .bind(q.confidence.unwrap_or(0.0))
        .bind(q.ticket_id)
        .bind((q.status == QuestionStatus::BotAnswered).then(|| ms(q.asked_at)))
        .bind(i64::from(q.confidence.is_some()))
        .bind(i64::from(q.private))
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn question(&self, platform: &str, message_id: &str) -> StoreResult<Option<Question>> {
        let row = sqlx::query("SELECT * FROM questions WHERE platform = $1 AND message_id = $2")
            .bind(platform)
            .bind(message_id)
            .fetch_optional_on(self)
            .await?;
        Ok(row.as_ref().map(Question::from_row).transpose()?)
    }

    /// Marks a pending question answered by another member; false if it was not pending.
    pub async fn mark_community_answered(&self, platform: &str, message_id: &str, by: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE questions SET status = 'community_answered', answered_by = $3, answered_at = $4 \
             WHERE platform = $1 AND message_id = $2 AND status = 'pending'",
        )
        .bind(platform)
        .bind(message_id)
        .bind(by)
        .bind(ms(at))
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The texts of the latest `limit` questions, newest first (dismissed ones left out).
    pub async fn recent_question_texts(&self, limit: i64) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT text FROM questions WHERE status <> 'dismissed' ORDER BY asked_at DESC, message_id LIMIT $1")
            .bind(limit)
            .fetch_all_on(self)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("text")?)).collect()
    }

    /// Pending questions asked at or before `cutoff`, oldest first.
    pub async fn due_questions(&self, cutoff: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Question>> {
        let rows = sqlx::query("SELECT * FROM questions WHERE status = 'pending' AND asked_at <= $1 ORDER BY asked_at LIMIT $2")
            .bind(ms(cutoff))
            .bind(limit)
            .fetch_all_on(self)
            .await?;
        Ok(rows.iter().map(Question::from_row).collect::<Result<_, _>>()?)
    }

    /// Claims a question for ticketing (still waiting, or answered by the bot and voted down);
    /// only one caller, of any instance, wins.
    pub async fn claim_for_ticket(&self, platform: &str, message_id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE questions SET status = 'ticketed' \
             WHERE platform = $1 AND message_id = $2 AND status IN ('pending', 'bot_answered')",
        )
        .bind(platform)
        .bind(message_id)
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A moderator said the question was none: it leaves the digest's counts and its window.
    pub async fn dismiss_question(&self, platform: &str, message_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE questions SET status = 'dismissed' WHERE platform = $1 AND message_id = $2 AND status <> 'dismissed'")
            .bind(platform)
            .bind(message_id)
            .execute_on(self)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_question_ticket(&self, platform: &str, message_id: &str, ticket_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE questions SET ticket_id = $3 WHERE platform = $1 AND message_id = $2")
            .bind(platform)
            .bind(message_id)
            .bind(ticket_id)
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// Stores (or replaces) one person's vote on an answer.
    pub async fn save_feedback(
        &self,
        platform: &str,
        message_id: &str,
        user_id: &str,
        helpful: bool,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO answer_feedback (platform, message_id, user_id, helpful, comment, at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (platform, message_id, user_id) DO UPDATE SET helpful = $4, comment = $5, at = $6",
        )
        .bind(platform)
        .bind(message_id)
        .bind(user_id)
        .bind(helpful as i64)
        .bind(comment)
        .bind(ms(at))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// The vote `user_id` gave on the answer to `message_id`, if any: (helpful, comment).
    pub async fn feedback(&self, platform: &str, message_id: &str, user_id: &str) -> StoreResult<Option<(bool, Option<String>)>> {
        let row = sqlx::query("SELECT helpful, comment FROM answer_feedback WHERE platform = $1 AND message_id = $2 AND user_id = $3")
            .bind(platform)
            .bind(message_id)
            .bind(user_id)
            .fetch_optional_on(self)
            .await?;
        row.map(|r| Ok((r.try_get::<i64, _>("helpful")? != 0, r.try_get("comment")?))).transpose()
    }
}
