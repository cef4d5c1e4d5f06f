//! `Bot`: the application service. Every platform, the console, the replay and the tests go
//! through the same doors: `receive` (an incoming event), `tick` (time passed) and `resume`
//! (after a restart). It reads and writes the store and renders prompts; it sends nothing.

mod commands;
mod conversation;
mod tickets;

use crate::config::Settings;
use crate::domain::faq_index::{FaqIndex, FaqMatch};
use crate::semantic::Embedder;
use crate::semantic::faq::{IndexError, build_index, embed_query};
use crate::domain::message::{Action, ActionKind, Incoming, IncomingKind};
use crate::prompts::Prompts;
use crate::store::{Intake, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use minijinja::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Longest text the detector and the FAQ index look at; longer messages are read up to here.
pub const MAX_ANALYZED_CHARS: usize = 4_000;
/// Longest text stored for a message (a platform's own limit is lower; this guards the store).
pub const MAX_STORED_CHARS: usize = 40_000;

/// The bot's behaviour settings, taken from [`Settings`].
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// How the bot signs its own ticket changes.
    pub name: String,
    pub threshold: f32,
    pub channel_thresholds: HashMap<String, f32>,
    pub unanswered_after: Duration,
    pub moderators_channel: String,
    pub link_similarity: f32,
    pub digest: crate::config::DigestSettings,
}

impl BotConfig {
    pub fn from_settings(s: &Settings) -> BotConfig {
        BotConfig {
            name: s.bot.name.clone(),
            threshold: s.faq.threshold,
            channel_thresholds: s.faq.channel_thresholds.clone(),
            unanswered_after: Duration::from_std(s.tickets.unanswered_after).unwrap_or(Duration::minutes(15)),
            moderators_channel: s.tickets.moderators_channel.clone(),
            link_similarity: s.tickets.link_similarity,
            digest: s.digest.clone(),
        }
    }

    /// The confidence an answer needs in `channel`.
    pub fn threshold_for(&self, channel: &str) -> f32 {
        self.channel_thresholds.get(channel).copied().unwrap_or(self.threshold)
    }

    fn window_text(&self) -> String {
        humantime::format_duration(self.unanswered_after.to_std().unwrap_or_default()).to_string()
    }
}

/// A failure the bot could not turn into a reply (the database is down, ...). The event stays
/// recorded and unprocessed, so `resume` picks it up later.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

pub type BotResult<T> = Result<T, BotError>;

struct LoadedFaq {
    version: String,
    /// Whether the model was there when the index was built (it may arrive later: see
    /// `attach_embedder`). Not `index.is_semantic()`: an index whose embedding failed falls
    /// back to words, and must not be rebuilt on every question.
    with_model: bool,
    index: Arc<FaqIndex>,
}

pub struct Bot {
    store: Store,
    prompts: Prompts,
    config: BotConfig,
    faq: RwLock<LoadedFaq>,
    /// The sentence-embedding model; without it the FAQ is matched on words only. Set at most
    /// once, at start or when a model fetched in the background is ready.
    embedder: OnceLock<Arc<Embedder>>,
    /// Analyzed ticket questions by ticket id (a ticket's question never changes).
    ticket_tokens: TokenCache,
}

/// A bounded memo of analyzed texts; emptied when full rather than tracking recency.
#[derive(Default)]
struct TokenCache(Mutex<HashMap<i64, Arc<Vec<String>>>>);

impl TokenCache {
    const CAPACITY: usize = 10_000;

    fn get_or_insert(&self, key: i64, analyze: impl FnOnce() -> Vec<String>) -> Arc<Vec<String>> {
        let mut map = self.0.lock().expect("token cache lock poisoned");
        if let Some(hit) = map.get(&key) {
            return hit.clone();
        }
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.entry(key).or_insert_with(|| Arc::new(analyze())).clone()
    }
}

impl Bot {
    pub async fn new(store: Store, prompts: Prompts, config: BotConfig, embedder: Option<Arc<Embedder>>) -> BotResult<Bot> {
        let version = store.faq_version().await?;
        let index = Arc::new(build_index(&store, embedder.as_ref(), store.faq_entries().await?).await?);
        let faq = RwLock::new(LoadedFaq { version, with_model: embedder.is_some(), index });
        let embedder = embedder.map(OnceLock::from).unwrap_or_default();
        Ok(Bot { store, prompts, config, faq, embedder, ticket_tokens: TokenCache::default() })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &BotConfig {
        &self.config
    }

    pub fn prompts(&self) -> &Prompts {
        &self.prompts
    }

    pub fn embedder(&self) -> Option<&Arc<Embedder>> {
        self.embedder.get()
    }

    /// Gives a bot that started without a model (it was still being fetched) its model, and
    /// rebuilds the FAQ index on it. A bot that already has a model keeps it.
    pub async fn attach_embedder(&self, embedder: Arc<Embedder>) -> BotResult<()> {
        if self.embedder.set(embedder).is_err() {
            return Ok(());
        }
        self.faq().await.map(|_| ())
    }

    /// The current FAQ index, rebuilt first if any instance changed the FAQ since it was built,
    /// or if the model arrived since.
    pub async fn faq(&self) -> BotResult<Arc<FaqIndex>> {
        let version = self.store.faq_version().await?;
        let embedder = self.embedder();
        {
            let loaded = self.faq.read().expect("faq lock poisoned");
            if loaded.version == version && loaded.with_model == embedder.is_some() {
                return Ok(loaded.index.clone());
            }
        }
        let index = Arc::new(build_index(&self.store, embedder, self.store.faq_entries().await?).await?);
        *self.faq.write().expect("faq lock poisoned") = LoadedFaq { version, with_model: embedder.is_some(), index: index.clone() };
        Ok(index)
    }

    /// The FAQ entries that best match `text`, most confident first.
    pub async fn match_faq(&self, text: &str, limit: usize) -> BotResult<Vec<FaqMatch>> {
        let index = self.faq().await?;
        let vector = if index.is_semantic() { embed_query(self.embedder(), text).await } else { None };
        Ok(index.search(text, vector.as_deref(), limit))
    }

    /// Records an incoming event, then handles it unless it was already handled.
    /// Returns the actions it produced (already recorded in the outbox, waiting to be sent).
    pub async fn receive(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        match self.record(event, now).await? {
            Intake::Duplicate => Ok(Vec::new()),
            Intake::Claimed => self.process(event, now).await,
        }
    }

    /// Records an event without handling it. Adapters that must acknowledge quickly (Slack's
    /// 3 seconds) record, acknowledge, then `process` a `Claimed` event.
    pub async fn record(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Intake> {
        let intake = self.store.record_incoming(event, now).await?;
        crate::metrics::event_recorded(&event.platform, &event.kind, intake == Intake::Duplicate);
        if intake == Intake::Duplicate {
            tracing::debug!(platform = %event.platform, event_id = %event.event_id, "duplicate event dropped");
        }
        Ok(intake)
    }

    /// Handles a recorded event this caller claimed, recording the actions it produces.
    pub async fn process(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let _timer = crate::metrics::decision_timer(&event.platform);
        let actions = self.handle(event, now).await?;
        let origin = format!("in:{}:{}", event.platform, event.event_id);
        self.store.record_actions(&event.platform, &origin, &actions, Some(event), now).await?;
        Ok(actions)
    }

    /// Handles events that were recorded but never finished (after a crash or restart).
    pub async fn resume(&self, now: DateTime<Utc>) -> BotResult<usize> {
        let pending = self.store.claim_unprocessed(now, 500).await?;
        for event in &pending {
            tracing::info!(platform = %event.platform, event_id = %event.event_id, "resuming an unprocessed event");
            self.process(event, now).await?;
        }
        Ok(pending.len())
    }

    /// Lets time pass: questions unanswered for the whole window become tickets.
    pub async fn tick(&self, now: DateTime<Utc>) -> BotResult<Vec<(String, Action)>> {
        self.settle_due_questions(now).await
    }

    /// The single door into the behaviour: what the bot does about one event.
    pub async fn handle(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        match &event.kind {
            IncomingKind::Message { id, text, reply_to } => self.on_message(event, id, text, reply_to.as_deref()).await,
            IncomingKind::Command { text } => self.on_command(event, text, now).await,
            IncomingKind::Feedback { on, helpful, comment } => {
                self.on_feedback(event, on, *helpful, comment.as_deref(), now).await
            }
            IncomingKind::Edited { id, text } => {
                let text = crate::domain::text::truncate_chars(text, MAX_STORED_CHARS);
                self.store.edit_message(&event.platform, id, &text).await?;
                Ok(Vec::new())
            }
            IncomingKind::Deleted { id } => {
                self.store.delete_message(&event.platform, id).await?;
                Ok(Vec::new())
            }
        }
    }

    fn say(&self, template: &str, ctx: Value) -> String {
        self.prompts.render(template, ctx)
    }

    /// A reply only the person who sent `event` needs to see.
    fn private_reply(&self, event: &Incoming, kind: ActionKind, text: String) -> Action {
        let mut reply = Action::new(kind, &event.channel, text).replying_to(event_message_id(event)).private_to(&event.author.id);
        reply.reply_url = event.reply_url.clone();
        reply
    }
}

/// The platform message an event is about, if it is one.
fn event_message_id(event: &Incoming) -> Option<&str> {
    match &event.kind {
        IncomingKind::Message { id, .. } => Some(id),
        IncomingKind::Command { .. } => Some(&event.event_id),
        _ => None,
    }
}
