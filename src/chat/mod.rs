//! Chat adapters: they turn platform events into `Incoming` and send the outbox's actions.
//! They hold no support logic.

pub mod console;
pub mod discord;
pub mod replay;
pub mod slack;

use crate::bot::{Bot, BotError};
use crate::domain::message::{Action, Incoming};
use crate::store::{Intake, Store, StoreResult};
use std::sync::Arc;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::{Notify, watch};
use std::future::Future;

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// The platform asked us to wait this long (HTTP 429 `Retry-After`).
    pub retry_after: Option<Duration>,
    /// Trying again will not help (the channel is gone, the token lacks a permission).
    pub permanent: bool,
}

/// Somewhere actions can be sent: a platform, the console, the replay's output.
pub trait ChatSink: Send + Sync {
    /// The platform name the outbox rows carry ("console", "slack", ...).
    fn platform(&self) -> &str;
    fn send(&self, action: &Action) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Sends outbox row `delivery_id`. The id is the same on every retry, so a platform that can
    /// drop a repeated send (Discord's `nonce`) uses it; the rest just send.
    fn send_delivery(&self, delivery_id: i64, action: &Action) -> impl Future<Output = Result<(), SendError>> + Send {
        let _ = delivery_id;
        self.send(action)
    }
}

/// Writes each action as text to a stream: the console's readable lines, the replay's JSON.
pub struct WriterSink<W> {
    platform: &'static str,
    out: tokio::sync::Mutex<W>,
    format: fn(&Action) -> String,
}

impl<W: tokio::io::AsyncWrite + Unpin + Send> WriterSink<W> {
    pub fn new(platform: &'static str, out: W, format: fn(&Action) -> String) -> Self {
        WriterSink { platform, out: tokio::sync::Mutex::new(out), format }
    }

    /// Writes text as it is (prompts, notes).
    pub async fn write_text(&self, text: &str) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut out = self.out.lock().await;
        out.write_all(text.as_bytes()).await?;
        out.flush().await
    }

    pub async fn write_action(&self, action: &Action) -> std::io::Result<()> {
        self.write_text(&(self.format)(action)).await
    }
}

impl<W: tokio::io::AsyncWrite + Unpin + Send> ChatSink for WriterSink<W> {
    fn platform(&self) -> &str {
        self.platform
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        self.write_action(action).await.map_err(|e| SendError { message: format!("output failed: {e}"), retry_after: None, permanent: false })
    }
}

/// Attempts before an action is given up on.
const MAX_ATTEMPTS: i64 = 8;

/// Exponential backoff: 2 s, 4 s, 8 s ... capped at 10 minutes.
fn backoff(attempts: i64) -> Duration {
    Duration::seconds(2i64.saturating_pow(attempts.clamp(1, 20) as u32).min(600))
}

/// Sends every due action for `sink`'s platform, oldest first, marking each sent or failed.
/// Returns how many were sent.
pub async fn deliver_pending<S: ChatSink>(store: &Store, sink: &S, now: DateTime<Utc>) -> StoreResult<usize> {
    const BATCH: i64 = 100;
    let mut sent = 0;
    loop {
        let batch = store.claim_outbox(sink.platform(), now, BATCH).await?;
        let last_batch = (batch.len() as i64) < BATCH;
        for item in batch {
            match sink.send_delivery(item.id, &item.action).await {
                Ok(()) => {
                    store.mark_sent(item.id, now).await?;
                    sent += 1;
                }
                Err(e) if e.permanent || item.attempts + 1 >= MAX_ATTEMPTS => {
                    tracing::error!(outbox_id = item.id, error = %e, "giving up on sending an action");
                    crate::metrics::delivery_given_up(sink.platform());
                    store.mark_dead(item.id, &e.message, now).await?;
                }
                Err(e) => {
                    let wait = e.retry_after.unwrap_or_else(|| backoff(item.attempts + 1));
                    tracing::warn!(outbox_id = item.id, error = %e, retry_in_s = wait.num_seconds(), "send failed; will retry");
                    crate::metrics::delivery_retried(sink.platform(), e.retry_after);
                    store.mark_failed(item.id, &e.message, now + wait).await?;
                }
            }
        }
        if last_batch {
            return Ok(sent);
        }
    }
}

/// The way into the core for adapters that must acknowledge quickly (Slack's and Discord's
/// 3 seconds): record the event, acknowledge, then let the core work in the background.
#[derive(Clone)]
pub struct Inlet {
    pub bot: Arc<Bot>,
    /// Wakes the delivery loop when new actions are waiting.
    pub wake: Arc<Notify>,
}

impl Inlet {
    pub fn new(bot: Arc<Bot>) -> Self {
        Inlet { bot, wake: Arc::new(Notify::new()) }
    }

    /// Records an event. True when this instance claimed it and must handle it; false for a
    /// redelivery (or another instance's claim). Ok means it is safely stored.
    pub async fn record(&self, incoming: &Incoming) -> Result<bool, BotError> {
        Ok(self.bot.record(incoming, Utc::now()).await? == Intake::Claimed)
    }

    /// Handles a claimed event in the background, then runs `then` with the actions it produced.
    pub fn process_later<F, Fut>(&self, incoming: Incoming, then: F)
    where
        F: FnOnce(Vec<Action>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (bot, wake) = (self.bot.clone(), self.wake.clone());
        tokio::spawn(async move {
            match bot.process(&incoming, Utc::now()).await {
                Ok(actions) => {
                    wake.notify_one();
                    then(actions).await;
                }
                // Left unprocessed in the inbox: the scheduler's resume retries it.
                Err(e) => tracing::error!(error = %e, platform = %incoming.platform, event_id = %incoming.event_id, "handling an event failed"),
            }
        });
    }

    /// Records and handles an event before returning: for catching up, where order matters.
    pub async fn accept_now(&self, incoming: Incoming) -> Result<(), BotError> {
        if !self.bot.receive(&incoming, Utc::now()).await?.is_empty() {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Records an event, then handles it in the background if this instance claimed it.
    pub async fn accept(&self, incoming: Incoming) -> Result<(), BotError> {
        if self.record(&incoming).await? {
            self.process_later(incoming, |_| async {});
        }
        Ok(())
    }
}

/// Delivers `sink`'s actions until `stop` changes: when woken, and every 2 s for retries that
/// come due.
pub async fn delivery_loop<S: ChatSink>(store: &Store, sink: &S, wake: &Notify, stop: &mut watch::Receiver<bool>) {
    loop {
        if let Err(e) = deliver_pending(store, sink, Utc::now()).await {
            tracing::error!(platform = sink.platform(), error = %e, "delivering actions failed");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            _ = stop.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(2));
        assert_eq!(backoff(3), Duration::seconds(8));
        assert_eq!(backoff(30), Duration::seconds(600));
    }
}
