//! What the web console reads: the queue with its filters, full-text search over questions and
//! tickets, and how each FAQ entry has been used. Read-only; every change goes through the bot.

use super::tickets::ticket_from_row;
use super::unit::OnStore;
use super::{Store, StoreResult, ms, time};
use crate::domain::ticket::{Priority, Status, Ticket};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The queue's filters; `None` leaves a field open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Empty: the active ones (open and assigned).
    pub statuses: Vec<Status>,
    pub priority: Option<Priority>,
    /// A name, or "" for nobody's.
    pub assignee: Option<String>,
    pub platform: Option<String>,
    pub channel: Option<String>,
    /// Opened at or before this (waited at least so long).
    pub opened_before: Option<DateTime<Utc>>,
}

/// The values the queue's filters offer, from the tickets themselves.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct QueueFacets {
    pub assignees: Vec<String>,
    pub platforms: Vec<String>,
    pub channels: Vec<String>,
}

/// One search result: a question asked, or a ticket (its question or its resolution).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SearchHit {
    /// "question" or "ticket".
    pub kind: &'static str,
    pub ticket_id: Option<i64>,
    pub platform: String,
    pub channel: String,
    pub who: String,
    pub text: String,
    pub resolution: Option<String>,
    pub status: String,
    pub at: DateTime<Utc>,
}

/// A question an FAQ entry answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaqUse {
    pub text: String,
    pub who: String,
    pub confidence: Option<f64>,
    pub at: DateTime<Utc>,
}

/// Most urgent first, then longest waiting: the queue's order.
const URGENCY: &str = "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END";

/// A `LIKE` pattern matching `word` anywhere, its own `%`, `_` and `\` taken literally.
fn contains_pattern(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// `sql` with its text parameters, then an optional number.
fn bound<'q>(sql: &'q str, texts: &'q [String], number: Option<i64>) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for t in texts {
        q = q.bind(t.as_str());
    }
    if let Some(n) = number {
        q = q.bind(n);
    }
    q
}

impl Store {
    /// One page of the queue and how many tickets match in all.
    pub async fn queue(&self, f: &QueueFilter, limit: i64, offset: i64) -> StoreResult<(Vec<Ticket>, i64)> {
        let statuses: Vec<Status> = if f.statuses.is_empty() { vec![Status::Open, Status::Assigned] } else { f.statuses.clone() };
        let mut clauses = vec![format!("status IN ({})", statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", "))];
        let mut texts: Vec<String> = Vec::new();
        let mut equal = |col: &str, value: &str, clauses: &mut Vec<String>| {
            texts.push(value.to_string());
            clauses.push(format!("{col} = ${}", texts.len()));
        };
        if let Some(p) = f.priority {
            equal("priority", p.as_str(), &mut clauses);
        }
        match f.assignee.as_deref() {
            Some("") => clauses.push("assignee IS NULL".into()),
            Some(name) => equal("assignee", name, &mut clauses),
            None => {}
        }
        if let Some(p) = &f.platform {
            equal("platform", p, &mut clauses);
        }
        if let Some(c) = &f.channel {
            equal("channel", c, &mut clauses);
        }
        let before = f.opened_before.map(ms);
        if before.is_some() {
            clauses.push(format!("created_at <= ${}", texts.len() + 1));
        }
        let filter = clauses.join(" AND ");
        let (count_sql, page_sql) = (
            format!("SELECT COUNT(*) AS n FROM tickets WHERE {filter}"),
            format!("SELECT * FROM tickets WHERE {filter} ORDER BY {URGENCY}, created_at, id LIMIT {limit} OFFSET {offset}"),
        );
        let count: i64 = bound(&count_sql, &texts, before).fetch_one_on(self).await?.try_get("n")?;
        let rows = bound(&page_sql, &texts, before).fetch_all_on(self).await?;
        Ok((rows.iter().map(ticket_from_row).collect::<StoreResult<_>>()?, count))
    }

    /// The assignees, platforms and channels of the active tickets, for the queue's filters.
    pub async fn queue_facets(&self) -> StoreResult<QueueFacets> {
        let mut facets = QueueFacets::default();
        for (col, into) in [("assignee", &mut facets.assignees), ("platform", &mut facets.platforms), ("channel", &mut facets.channels)] {
            let sql = format!(
                "SELECT DISTINCT {col} AS v FROM tickets WHERE status IN ('open', 'assigned') AND {col} IS NOT NULL ORDER BY {col} LIMIT 200"
            );
            for r in sqlx::query(&sql).fetch_all_on(self).await? {
                into.push(r.try_get("v")?);
            }
        }
        Ok(facets)
    }

    /// Questions and tickets whose words contain every word of `query` (case-insensitive),
    /// newest first; `kind` "question" or "ticket" keeps one of them, `platform` one platform.
    pub async fn search_console(&self, query: &str, kind: Option<&str>, platform: Option<&str>, limit: i64) -> StoreResult<Vec<SearchHit>> {
        let words: Vec<String> = query.split_whitespace().take(8).map(contains_pattern).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut hits = Vec::new();
        let like = |cols: &str, n: usize| (1..=n).map(|i| format!("LOWER({cols}) LIKE ${i} ESCAPE '\\'")).collect::<Vec<_>>().join(" AND ");
        let platform_clause = |at: usize| platform.map(|_| format!(" AND platform = ${at}")).unwrap_or_default();
        if kind != Some("ticket") {
            let sql = format!(
                "SELECT platform, channel, asker_name, text, status, asked_at, ticket_id FROM questions WHERE {}{} ORDER BY asked_at DESC LIMIT {limit}",
                like("text", words.len()),
                platform_clause(words.len() + 1)
            );
            for r in search_query(&sql, &words, platform).fetch_all_on(self).await? {
                hits.push(SearchHit {
                    kind: "question",
                    ticket_id: r.try_get("ticket_id")?,
                    platform: r.try_get("platform")?,
                    channel: r.try_get("channel")?,
                    who: r.try_get("asker_name")?,
                    text: r.try_get("text")?,
                    resolution: None,
                    status: r.try_get("status")?,
                    at: time(r.try_get("asked_at")?)?,
                });
            }
        }
        if kind != Some("question") {
            let sql = format!(
                "SELECT * FROM tickets WHERE {}{} ORDER BY created_at DESC LIMIT {limit}",
                like("question || ' ' || COALESCE(resolution, '')", words.len()),
                platform_clause(words.len() + 1)
            );
            for r in search_query(&sql, &words, platform).fetch_all_on(self).await? {
                let t = ticket_from_row(&r)?;
                hits.push(SearchHit {
                    kind: "ticket",
                    ticket_id: Some(t.id),
                    platform: t.platform,
                    channel: t.channel,
                    who: t.asker_name,
                    text: t.question,
                    resolution: t.resolution,
                    status: t.status.as_str().to_string(),
                    at: t.created_at,
                });
            }
        }
        hits.sort_by_key(|h| std::cmp::Reverse(h.at));
        hits.truncate(limit as usize);
        Ok(hits)
    }

    /// How many questions an entry answered in all, and its latest ones.
    pub async fn faq_uses(&self, faq_id: &str, latest: i64) -> StoreResult<(i64, Vec<FaqUse>)> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM questions WHERE faq_id = $1 AND status = 'bot_answered'")
            .bind(faq_id)
            .fetch_one_on(self)
            .await?
            .try_get("n")?;
        let sql = format!(
            "SELECT text, asker_name, confidence, asked_at FROM questions WHERE faq_id = $1 AND status = 'bot_answered' ORDER BY asked_at DESC LIMIT {latest}"
        );
        let rows = sqlx::query(&sql).bind(faq_id).fetch_all_on(self).await?;
        let uses = rows
            .iter()
            .map(|r| {
                Ok(FaqUse {
                    text: r.try_get("text")?,
                    who: r.try_get("asker_name")?,
                    confidence: r.try_get("confidence")?,
                    at: time(r.try_get("asked_at")?)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok((n, uses))
    }

    /// How many questions each entry answered, by entry id.
    pub async fn faq_answer_counts(&self) -> StoreResult<std::collections::HashMap<String, i64>> {
        let rows = sqlx::query("SELECT faq_id, COUNT(*) AS n FROM questions WHERE status = 'bot_answered' AND faq_id IS NOT NULL GROUP BY faq_id")
            .fetch_all_on(self)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("faq_id")?, r.try_get("n")?))).collect()
    }

    /// The latest questions nobody could answer: those that became tickets, newest first.
    pub async fn unanswered_questions(&self, limit: i64) -> StoreResult<Vec<SearchHit>> {
        let sql = format!(
            "SELECT platform, channel, asker_name, text, status, asked_at, ticket_id FROM questions \
             WHERE status = 'ticketed' ORDER BY asked_at DESC LIMIT {limit}"
        );
        let rows = sqlx::query(&sql).fetch_all_on(self).await?;
        rows.iter()
            .map(|r| {
                Ok(SearchHit {
                    kind: "question",
                    ticket_id: r.try_get("ticket_id")?,
                    platform: r.try_get("platform")?,
                    channel: r.try_get("channel")?,
                    who: r.try_get("asker_name")?,
                    text: r.try_get("text")?,
                    resolution: None,
                    status: r.try_get("status")?,
                    at: time(r.try_get("asked_at")?)?,
                })
            })
            .collect()
    }

    /// The question row behind a ticket (the bot's answer to it, if any), and the votes on it.
    pub async fn ticket_question(&self, t: &Ticket) -> StoreResult<(Option<super::Question>, Vec<(String, bool, Option<String>, DateTime<Utc>)>)> {
        let Some(mid) = t.question_message_id.as_deref() else { return Ok((None, Vec::new())) };
        let q = self.question(&t.platform, mid).await?;
        let rows = sqlx::query("SELECT user_id, helpful, comment, at FROM answer_feedback WHERE platform = $1 AND message_id = $2 ORDER BY at")
            .bind(&t.platform)
            .bind(mid)
            .fetch_all_on(self)
            .await?;
        let votes = rows
            .iter()
            .map(|r| Ok((r.try_get("user_id")?, r.try_get::<i64, _>("helpful")? != 0, r.try_get("comment")?, time(r.try_get("at")?)?)))
            .collect::<StoreResult<_>>()?;
        Ok((q, votes))
    }
}

/// `sql` with the search's words bound in order, then the platform when the search names one.
fn search_query<'q>(sql: &'q str, words: &[String], platform: Option<&str>) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for w in words {
        q = q.bind(w.clone());
    }
    if let Some(p) = platform {
        q = q.bind(p.to_string());
    }
    q
}
