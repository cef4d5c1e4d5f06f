//! Chat adapters: they turn platform events into `Incoming` and send the outbox's actions.
//! They hold no support logic.

pub mod console;
pub mod slack;
pub mod replay;

use crate::domain::message::Action;
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Duration, Utc};
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
            match sink.send(&item.action).await {
                Ok(()) => {
                    store.mark_sent(item.id, now).await?;
                    sent += 1;
                }
                Err(e) if e.permanent || item.attempts + 1 >= MAX_ATTEMPTS => {
                    tracing::error!(outbox_id = item.id, error = %e, "giving up on sending an action");
                    store.mark_dead(item.id, &e.message, now).await?;
                }
                Err(e) => {
                    let wait = e.retry_after.unwrap_or_else(|| backoff(item.attempts + 1));
                    tracing::warn!(outbox_id = item.id, error = %e, retry_in_s = wait.num_seconds(), "send failed; will retry");
                    store.mark_failed(item.id, &e.message, now + wait).await?;
                }
            }
        }
        if last_batch {
            return Ok(sent);
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
