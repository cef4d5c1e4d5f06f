//! What the durable intake (inbox) and delivery (outbox) hand out: plain records, no SQL.

use super::message::Action;
use chrono::{DateTime, Utc};

/// The outcome of recording an incoming event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// First time seen (or an earlier attempt died): this caller must process it.
    Claimed,
    /// Already processed, or being processed by someone else right now.
    Duplicate,
}

/// An action waiting to be sent.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub platform: String,
    pub action: Action,
    /// Failed attempts so far (rate-limit waits are not counted).
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// Where it goes (its channel): the rows of one lane are sent in order.
    pub lane: String,
    /// An earlier attempt was cut short or failed without a clear answer: it may have arrived.
    pub uncertain: bool,
    /// The claim this caller holds, until this time.
    pub claimed_until: DateTime<Utc>,
}
