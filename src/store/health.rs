//! What monitoring reads (the `/metrics` scrape): one narrow query, and the names database
//! failures are counted under.

use super::{Store, StoreResult, time};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The actions one platform has waiting: not sent yet, not given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxBacklog {
    pub platform: String,
    pub depth: i64,
    /// When the oldest of them was queued.
    pub oldest: DateTime<Utc>,
}

impl Store {
    /// The outbox's backlog per platform; platforms with nothing waiting are not listed.
    pub async fn outbox_backlog(&self) -> StoreResult<Vec<OutboxBacklog>> {
        let rows = sqlx::query(
            "SELECT platform, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox \
             WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY platform",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(OutboxBacklog { platform: row.try_get("platform")?, depth: row.try_get("n")?, oldest: time(row.try_get("oldest")?)? }))
            .collect()
    }
}

/// A database failure's kind, as `supportbot_database_errors_total{kind}` counts it: a fixed
/// set of names, never the error's own text.
pub(super) fn error_kind(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => "corrupt",
        sqlx::Error::Migrate(_) => "migrate",
        sqlx::Error::PoolTimedOut => "timeout",
        // The server answered, and refused the statement (a constraint, a conflict, a syntax error).
        sqlx::Error::Database(_) => "rejected",
        // Down, unreachable, closed, misconfigured.
        _ => "unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::{Action, ActionKind};

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), 1).await.unwrap();
        (store, dir)
    }

    #[tokio::test]
    async fn the_backlog_counts_unsent_actions_per_platform_from_the_oldest() {
        let (store, _dir) = store().await;
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let action = Action::new(ActionKind::Reply, "c", "x");
        store.record_actions("slack", "a", &[action.clone(), action.clone()], None, t(0)).await.unwrap();
        store.record_actions("slack", "b", std::slice::from_ref(&action), None, t(30)).await.unwrap();
        store.record_actions("discord", "c", &[action.clone(), action], None, t(60)).await.unwrap();
        let mut claimed = store.claim_outbox("discord", t(60), 10).await.unwrap();
        store.mark_sent(claimed.remove(0).id, t(61)).await.unwrap();
        store.mark_dead(claimed.remove(0).id, "gone", t(61)).await.unwrap();
        let slack = store.claim_outbox("slack", t(60), 1).await.unwrap();
        store.mark_sent(slack[0].id, t(61)).await.unwrap();
        let backlog = store.outbox_backlog().await.unwrap();
        assert_eq!(backlog, vec![OutboxBacklog { platform: "slack".into(), depth: 2, oldest: t(0) }], "sent and dead rows wait for nothing");
    }

    #[tokio::test]
    async fn a_database_that_does_not_answer_leaves_the_outbox_gauges_out_within_the_timeout() {
        let (store, _dir) = store().await;
        // The pool's only connection is taken: the scrape's query waits for it (10 s, the pool's
        // own limit) unless the scrape gives up first. The clock is paused and jumps ahead.
        let held = store.pool.acquire().await.unwrap();
        tokio::time::pause();
        let started = tokio::time::Instant::now();
        let text = crate::metrics::render(&store).await;
        let waited = started.elapsed();
        assert!(waited >= crate::metrics::OUTBOX_QUERY_TIMEOUT && waited < std::time::Duration::from_secs(1), "{waited:?}");
        assert!(text.ends_with("# EOF\n") && !text.contains("supportbot_outbox_depth{"), "{text}");
        assert!(text.contains("supportbot_outbox_scrape_failures_total{reason=\"timeout\"}"), "{text}");
        drop(held);
    }

    #[test]
    fn failures_are_counted_under_a_few_fixed_names() {
        assert_eq!(error_kind(&sqlx::Error::PoolClosed), "unavailable");
        assert_eq!(error_kind(&sqlx::Error::PoolTimedOut), "timeout");
        assert_eq!(error_kind(&sqlx::Error::ColumnNotFound("x".into())), "corrupt");
        assert_eq!(error_kind(&sqlx::Error::Protocol("boom".into())), "unavailable");
    }
}
