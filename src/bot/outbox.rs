//! The outbox as the delivery loop sees it: the few operations that claim rows, record how
//! their sends went and give claims back. Adapters deliver through this, never the store.

use super::BotResult;
use crate::domain::intake::OutboxItem;
use crate::store::Store;
use chrono::{DateTime, Utc};

/// A handle on the outbox. Cheap to clone; see `Bot::outbox`.
#[derive(Clone, Debug)]
pub struct Outbox {
    store: Store,
}

impl Outbox {
    /// The outbox of `store` (a bot gives its own: `Bot::outbox`).
    pub fn new(store: Store) -> Outbox {
        Outbox { store }
    }

    /// Gives every new row of `platform` its lane; the rows whose payload cannot be read are
    /// given up on at once and come back with the reason.
    pub async fn prepare(&self, platform: &str, now: DateTime<Utc>) -> BotResult<Vec<(i64, String)>> {
        Ok(self.store.prepare_outbox(platform, now).await?)
    }

    /// Claims up to `limit` of `platform`'s due rows for this caller, oldest first, keeping
    /// each lane's order.
    pub async fn claim(&self, platform: &str, now: DateTime<Utc>, limit: i64) -> BotResult<Vec<OutboxItem>> {
        Ok(self.store.claim_outbox(platform, now, limit).await?)
    }

    /// Gives claimed rows back untouched: `lane`'s rows after `after_id`, or with `lane` None
    /// every row of the claim.
    pub async fn release_claim(&self, platform: &str, claimed_until: DateTime<Utc>, lane: Option<&str>, after_id: i64) -> BotResult<()> {
        Ok(self.store.release_claim(platform, claimed_until, lane, after_id).await?)
    }

    /// A send of a claimed row starts now (a crash from here leaves it uncertain). False when
    /// the claim was lost to another instance: then do not send.
    pub async fn begin_attempt(&self, item: &OutboxItem, now: DateTime<Utc>) -> BotResult<bool> {
        Ok(self.store.begin_attempt(item, now).await?)
    }

    /// The id of ticket thread `key` on `platform`, once it was started.
    pub async fn ticket_thread_id(&self, platform: &str, key: crate::domain::message::ThreadKey) -> BotResult<Option<String>> {
        Ok(self.store.ticket_thread_id(platform, key).await?)
    }

    /// Records that ticket thread `key` started as `thread` on `platform`.
    pub async fn record_ticket_thread(
        &self,
        platform: &str,
        key: crate::domain::message::ThreadKey,
        thread: &str,
        now: DateTime<Utc>,
    ) -> BotResult<()> {
        Ok(self.store.record_ticket_thread(platform, key, thread, now).await?)
    }

    pub async fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> BotResult<()> {
        Ok(self.store.mark_sent(id, now).await?)
    }

    /// Puts a row off until `until` without counting a failed attempt (a rate limit).
    /// `settled`: nothing of it is on the platform, so the next attempt need not look first.
    pub async fn defer(&self, id: i64, reason: &str, until: DateTime<Utc>, settled: bool) -> BotResult<()> {
        Ok(self.store.defer(id, reason, until, settled).await?)
    }

    /// A failed attempt: the row is tried again at `retry_at`.
    pub async fn mark_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> BotResult<()> {
        Ok(self.store.mark_failed(id, error, retry_at).await?)
    }

    /// Gives up on a row; it stays for inspection.
    pub async fn mark_dead(&self, id: i64, error: &str, now: DateTime<Utc>) -> BotResult<()> {
        Ok(self.store.mark_dead(id, error, now).await?)
    }

    /// When `platform`'s next row comes due; None when nothing waits.
    pub async fn next_due(&self, platform: &str) -> BotResult<Option<DateTime<Utc>>> {
        Ok(self.store.next_outbox_due(platform).await?)
    }
}
