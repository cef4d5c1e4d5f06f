//! The community's corrections of the support-question detector (see `domain::decision`).

use super::unit::OnStore;
use super::{Integer, Store, StoreResult, ms};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

/// One message a moderator labeled.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct DetectorExample {
    pub platform: String,
    pub message_id: String,
    pub text: String,
    #[sqlx(try_from = "Integer")]
    pub support: bool,
    /// "not_a_question" or "escalated".
    pub source: String,
    pub by_user: String,
    #[sqlx(try_from = "Integer")]
    pub at: DateTime<Utc>,
    /// Whose words these are (the message's author), so that forgetting them finds the example.
    pub author_id: Option<String>,
}

/// Changes whenever the examples do: the detector is refitted when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExamplesVersion {
    pub count: i64,
    pub latest: i64,
    pub positives: i64,
}

impl Store {
    /// Keeps `e`, replacing an earlier label of the same message.
    pub async fn save_detector_example(&self, e: &DetectorExample) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO detector_examples (platform, message_id, text, support, source, by_user, at, author_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (platform, message_id) DO UPDATE SET text = excluded.text, support = excluded.support, \
             source = excluded.source, by_user = excluded.by_user, at = excluded.at, author_id = excluded.author_id",
        )
        .bind(&e.platform)
        .bind(&e.message_id)
        .bind(&e.text)
        .bind(e.support as i64)
        .bind(&e.source)
        .bind(&e.by_user)
        .bind(ms(e.at))
        .bind(&e.author_id)
        .execute_on(self)
        .await?;
        Ok(())
    }

    pub async fn detector_examples(&self) -> StoreResult<Vec<DetectorExample>> {
        let rows = sqlx::query(
            "SELECT platform, message_id, text, support, source, by_user, at, author_id FROM detector_examples ORDER BY platform, message_id",
        )
        .fetch_all_on(self)
        .await?;
        Ok(rows.iter().map(DetectorExample::from_row).collect::<Result<_, _>>()?)
    }

    pub async fn detector_examples_version(&self) -> StoreResult<ExamplesVersion> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(at), 0) AS latest, CAST(COALESCE(SUM(support), 0) AS BIGINT) AS positives FROM detector_examples",
        )
        .fetch_one_on(self)
        .await?;
        Ok(ExamplesVersion { count: r.try_get("n")?, latest: r.try_get("latest")?, positives: r.try_get("positives")? })
    }

    /// Corrections made in `[from, to)`, and in all.
    pub async fn corrections_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<(i64, i64)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(CASE WHEN at >= $1 AND at < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS recent FROM detector_examples",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_one_on(self)
        .await?;
        Ok((r.try_get("recent")?, r.try_get("total")?))
    }
}
