//! The FAQ's learned phrasings (see `domain::learning`). Every change bumps the FAQ version, so
//! each instance rebuilds its index with them.

use super::unit::OnStore;
use super::{Store, StoreError, StoreResult, ms, time};
use crate::domain::learning::{LearnedFrom, LearnedPhrasing, phrasing_key};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

const COLUMNS: &str = "faq_id, text, learned_from, platform, message_id, confirmed_by, learned_at";

fn phrasing(row: &AnyRow) -> StoreResult<LearnedPhrasing> {
    let from: String = row.try_get("learned_from")?;
    let platform: Option<String> = row.try_get("platform")?;
    let message_id: Option<String> = row.try_get("message_id")?;
    Ok(LearnedPhrasing {
        faq_id: row.try_get("faq_id")?,
        text: row.try_get("text")?,
        from: LearnedFrom::parse(&from).ok_or_else(|| StoreError::Corrupt(format!("faq_learned.learned_from {from:?}")))?,
        message: platform.zip(message_id).map(|(p, m)| format!("{p}:{m}")),
        confirmed_by: row.try_get("confirmed_by")?,
        learned_at: time(row.try_get("learned_at")?)?,
    })
}

impl Store {
    /// The phrasings that count, oldest first: of one entry, or of all.
    pub async fn learned_phrasings(&self, faq_id: Option<&str>) -> StoreResult<Vec<LearnedPhrasing>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM faq_learned WHERE retired_at IS NULL AND ($1 IS NULL OR faq_id = $1) ORDER BY learned_at, faq_id, text_key"
        ))
        .bind(faq_id)
        .fetch_all_on(self)
        .await?;
        rows.iter().map(phrasing).collect()
    }

    /// Keeps `p` (in place of `replacing`, retired as "replaced"). A moderator's phrasing
    /// revives one that was retired; a vote revives only what a vote retired (the asker changed
    /// their mind), never what a moderator removed. False when nothing changed. `author`: the
    /// platform id of whoever asked it (forgetting them removes it); None from an FAQ file.
    pub async fn learn_phrasing(&self, p: &LearnedPhrasing, replacing: Option<&LearnedPhrasing>, author: Option<&str>) -> StoreResult<bool> {
        if let Some(old) = replacing {
            self.retire_learned(&old.faq_id, &old.text, "replaced", p.learned_at).await?;
        }
        let (platform, message_id) = match p.message.as_deref().and_then(|m| m.split_once(':')) {
            Some((platform, id)) => (Some(platform), Some(id)),
            None => (None, None),
        };
        let done = sqlx::query(
            "INSERT INTO faq_learned (faq_id, text_key, text, learned_from, platform, message_id, confirmed_by, learned_at, author_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (faq_id, text_key) DO UPDATE SET text = $3, learned_from = $4, \
             platform = $5, message_id = $6, confirmed_by = $7, learned_at = $8, author_id = $9, retired_at = NULL, retired_why = NULL \
             WHERE faq_learned.retired_at IS NOT NULL AND ($4 <> 'helpful' OR faq_learned.retired_why = 'not_helpful')",
        )
        .bind(&p.faq_id)
        .bind(phrasing_key(&p.text))
        .bind(&p.text)
        .bind(p.from.as_str())
        .bind(platform)
        .bind(message_id)
        .bind(&p.confirmed_by)
        .bind(ms(p.learned_at))
        .bind(author)
        .execute_on(self)
        .await?;
        let changed = done.rows_affected() > 0;
        if changed || replacing.is_some() {
            self.bump_faq_version().await?;
        }
        Ok(changed)
    }

    /// Stops counting the phrasing of `faq_id` with this text (`why`: "removed", "not_helpful",
    /// "replaced"). False when there was no such phrasing counting.
    pub async fn retire_learned(&self, faq_id: &str, text: &str, why: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE faq_learned SET retired_at = $1, retired_why = $2 WHERE faq_id = $3 AND text_key = $4 AND retired_at IS NULL")
            .bind(ms(now))
            .bind(why)
            .bind(faq_id)
            .bind(phrasing_key(text))
            .execute_on(self)
            .await?;
        if done.rows_affected() > 0 {
            self.bump_faq_version().await?;
        }
        Ok(done.rows_affected() > 0)
    }

    /// Retires what was learned from the question in this message (its asker took back the
    /// helpful vote). Returns how many phrasings stopped counting.
    pub async fn retire_learned_from_message(&self, platform: &str, message_id: &str, why: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let done =
            sqlx::query("UPDATE faq_learned SET retired_at = $1, retired_why = $2 WHERE platform = $3 AND message_id = $4 AND retired_at IS NULL")
                .bind(ms(now))
                .bind(why)
                .bind(platform)
                .bind(message_id)
                .execute_on(self)
                .await?;
        if done.rows_affected() > 0 {
            self.bump_faq_version().await?;
        }
        Ok(done.rows_affected())
    }

    /// Per entry: learned phrasings that count, and votes on its answers (helpful, not helpful).
    pub async fn entry_tallies(&self) -> StoreResult<std::collections::HashMap<String, (i64, i64, i64)>> {
        let mut tallies: std::collections::HashMap<String, (i64, i64, i64)> = Default::default();
        let learned =
            sqlx::query("SELECT faq_id, COUNT(*) AS n FROM faq_learned WHERE retired_at IS NULL GROUP BY faq_id").fetch_all_on(self).await?;
        for r in &learned {
            tallies.entry(r.try_get("faq_id")?).or_default().0 = r.try_get("n")?;
        }
        let votes = sqlx::query(
            "SELECT q.faq_id, CAST(COALESCE(SUM(f.helpful), 0) AS BIGINT) AS up, CAST(COALESCE(SUM(1 - f.helpful), 0) AS BIGINT) AS down \
             FROM answer_feedback f JOIN questions q ON q.platform = f.platform AND q.message_id = f.message_id \
             WHERE q.faq_id IS NOT NULL GROUP BY q.faq_id",
        )
        .fetch_all_on(self)
        .await?;
        for r in &votes {
            let t = tallies.entry(r.try_get("faq_id")?).or_default();
            (t.1, t.2) = (r.try_get("up")?, r.try_get("down")?);
        }
        Ok(tallies)
    }
}
