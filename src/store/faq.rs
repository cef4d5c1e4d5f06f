//! FAQ entries, plus a version counter so every instance notices another's edits.

use super::unit::OnStore;
use super::{Store, StoreError, StoreResult, ms};
use crate::domain::faq::FaqEntry;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::sync::atomic::{AtomicU64, Ordering};

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Added,
    Updated,
    Unchanged,
}

fn json_list(row: &AnyRow, col: &str) -> StoreResult<Vec<String>> {
    let raw: String = row.try_get(col)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("faq_entries.{col}: {e}")))
}

fn entry(row: &AnyRow) -> StoreResult<FaqEntry> {
    Ok(FaqEntry {
        id: row.try_get("id")?,
        question: row.try_get("question")?,
        alternatives: json_list(row, "alternatives")?,
        answer: row.try_get("answer")?,
        tags: json_list(row, "tags")?,
        links: json_list(row, "links")?,
    })
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings always serializes")
}

impl Store {
    pub async fn faq_entries(&self) -> StoreResult<Vec<FaqEntry>> {
        let rows = sqlx::query("SELECT * FROM faq_entries ORDER BY id").fetch_all_on(self).await?;
        rows.iter().map(entry).collect()
    }

    pub async fn faq_entry(&self, id: &str) -> StoreResult<Option<FaqEntry>> {
        let row = sqlx::query("SELECT * FROM faq_entries WHERE id = $1").bind(id).fetch_optional_on(self).await?;
        row.as_ref().map(entry).transpose()
    }

    /// Inserts or replaces the entry with this id; `source` says where it came from.
    pub async fn upsert_faq(&self, e: &FaqEntry, source: &str, now: DateTime<Utc>) -> StoreResult<Upsert> {
        let outcome = match self.faq_entry(&e.id).await? {
            Some(old) if old == *e => return Ok(Upsert::Unchanged),
            Some(_) => Upsert::Updated,
            None => Upsert::Added,
        };
        sqlx::query(
            "INSERT INTO faq_entries (id, question, alternatives, answer, tags, links, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (id) DO UPDATE SET question = $2, alternatives = $3, \
             answer = $4, tags = $5, links = $6, source = $7, updated_at = $8",
        )
        .bind(&e.id)
        .bind(&e.question)
        .bind(to_json(&e.alternatives))
        .bind(&e.answer)
        .bind(to_json(&e.tags))
        .bind(to_json(&e.links))
        .bind(source)
        .bind(ms(now))
        .execute_on(self)
        .await?;
        self.bump_faq_version().await?;
        Ok(outcome)
    }

    /// Removes an entry; false when there was none.
    pub async fn delete_faq(&self, id: &str) -> StoreResult<bool> {
        // What the entry learned goes with it: a new entry of the same id starts afresh.
        sqlx::query("DELETE FROM faq_learned WHERE faq_id = $1").bind(id).execute_on(self).await?;
        let done = sqlx::query("DELETE FROM faq_entries WHERE id = $1").bind(id).execute_on(self).await?;
        if done.rows_affected() > 0 {
            self.bump_faq_version().await?;
        }
        Ok(done.rows_affected() > 0)
    }

    /// Changes whenever any instance changes the FAQ; compared for equality only.
    pub async fn faq_version(&self) -> StoreResult<String> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'faq_version'").fetch_optional_on(self).await?;
        Ok(match row {
            None => String::new(),
            Some(r) => r.try_get("value")?,
        })
    }

    pub(super) async fn bump_faq_version(&self) -> StoreResult<()> {
        // A fresh token rather than a counter: two instances editing at once still both
        // produce a version the other has not seen.
        static EDITS: AtomicU64 = AtomicU64::new(0);
        let token = format!("{}-{}-{}", std::process::id(), Utc::now().timestamp_micros(), EDITS.fetch_add(1, Ordering::Relaxed));
        sqlx::query("INSERT INTO meta (key, value) VALUES ('faq_version', $1) ON CONFLICT (key) DO UPDATE SET value = $1")
            .bind(token)
            .execute_on(self)
            .await?;
        Ok(())
    }
}
