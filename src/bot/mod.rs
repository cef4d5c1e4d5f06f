//! `Bot`: the application service. Every platform, the console, the replay and the tests go
//! through the same doors: `receive` (an incoming event), `tick` (time passed) and `resume`
//! (after a restart). It reads and writes the store and renders prompts; it sends nothing.
//! Its use cases live beside it: `faq` (load and match the FAQ), `conversation`, `decision`,
//! `tickets`, `commands`, `digest` (the weekly report), and `scheduler` (the periodic jobs).

mod assignment;
mod commands;
pub mod console_digests;
mod conversation;
mod decision;
mod detector_cache;
pub mod digest;
mod faq;
mod faq_commands;
pub mod github;
mod learning;
mod outbox;
pub mod privacy;
pub mod scheduler;
mod ticket_work;
mod tickets;
pub mod web;

pub use faq::IndexError;
pub use outbox::Outbox;
pub use scheduler::{Due, Job, Scheduler};

use crate::config::Settings;
use crate::domain::intake::Intake;
use crate::domain::message::{Action, ActionKind, Incoming, IncomingKind};
use crate::domain::text::truncate_chars;
use crate::prompts::Prompts;
use crate::semantic::Embedder;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use faq::{LoadedFaq, QueryVectors};
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
    pub decision: crate::config::DecisionSettings,
    /// What the FAQ learns without a moderator, and how much one entry may learn.
    pub learn: crate::domain::learning::LearnPolicy,
    pub learned_per_entry: usize,
    /// SLA targets and hours, and when a quiet asker is nudged and the ticket closed.
    pub tickets: crate::domain::ticket::timers::TicketPolicy,
    /// `[github]`, when it is set up.
    pub github: Option<github::GithubPolicy>,
    /// How long what the bot stores is kept (`[privacy]`).
    pub privacy: crate::domain::privacy::Policy,
    /// `[web]`, when the console is served: where `console`'s sign-in links point.
    pub console: Option<web::ConsoleLinks>,
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
            decision: s.decision.clone(),
            learn: s.faq.learn,
            learned_per_entry: s.faq.learned_per_entry,
            // Checked when the settings loaded; a policy that fails here runs without timers.
            tickets: s.tickets.policy(s.digest.handling).unwrap_or_default(),
            github: s.github.as_ref().map(|g| github::GithubPolicy { repo: g.repo.clone(), link: g.link.clone() }),
            privacy: s.privacy.policy(),
            console: s.web.as_ref().filter(|w| w.enabled).map(|w| web::ConsoleLinks { base: w.base().to_string(), ttl: w.link_ttl }),
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
    #[error("{0}")]
    Detector(String),
}

pub type BotResult<T> = Result<T, BotError>;

/// The bot. Cheap to clone: what it knows (prompts, settings, the FAQ index, the model) is
/// shared; the store handle is its own, so a clone can work inside one unit of work.
#[derive(Clone)]
pub struct Bot {
    store: Store,
    shared: Arc<Shared>,
}

/// What every handle of one bot shares.
struct Shared {
    prompts: Prompts,
    config: BotConfig,
    faq: RwLock<LoadedFaq>,
    /// The sentence-embedding model; without it the FAQ is matched on words only. Set at most
    /// once, at start or when a model fetched in the background is ready.
    embedder: OnceLock<Arc<Embedder>>,
    /// Analyzed ticket questions by ticket id (a ticket's question never changes).
    ticket_tokens: TokenCache,
    /// Query embeddings computed before a unit of work began (see `Bot::prepare`).
    query_vectors: QueryVectors,
    /// The FAQ's phrasings' embeddings, by text.
    vectors: faq::VectorCache,
    /// The support-question detector, fitted on first use and when its inputs change.
    detector: RwLock<Option<decision::LoadedDetector>>,
    fitting: tokio::sync::Mutex<()>,
    /// Something was forgotten in the unit of work being handled: once it commits, SQLite's
    /// write-ahead log is emptied of the old copies (`Store::checkpoint`).
    checkpoint: std::sync::atomic::AtomicBool,
    /// A GitHub issue was asked for in the unit of work being handled: once it commits, the
    /// worker is woken (`github_due`) instead of waiting for its next tick.
    github_asked: std::sync::atomic::AtomicBool,
    github_due: tokio::sync::Notify,
    /// The web console's digests of finished periods, by their (start, end) in seconds.
    console_digests: Mutex<HashMap<(i64, i64), console_digests::ConsoleDigest>>,
}

/// A bounded memo of analyzed texts by id, each with a fingerprint of the text it was made
/// from (a ticket's text is removed when its asker is forgotten, on any instance); emptied when
/// full rather than tracking recency.
#[derive(Default)]
struct TokenCache(Mutex<HashMap<i64, Fingerprinted>>);

/// Analyzed tokens, and the hash of the text they came from.
type Fingerprinted = (u64, Arc<Vec<String>>);

impl TokenCache {
    const CAPACITY: usize = 10_000;

    fn get_or_insert(&self, key: i64, text: &str, analyze: impl FnOnce() -> Vec<String>) -> Arc<Vec<String>> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        let print = hasher.finish();
        let mut map = self.0.lock().expect("token cache lock poisoned");
        if let Some((p, hit)) = map.get(&key)
            && *p == print
        {
            return hit.clone();
        }
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        let tokens = Arc::new(analyze());
        map.insert(key, (print, tokens.clone()));
        tokens
    }

    fn clear(&self) {
        self.0.lock().expect("token cache lock poisoned").clear();
    }
}

impl Bot {
    pub async fn new(store: Store, prompts: Prompts, config: BotConfig, embedder: Option<Arc<Embedder>>) -> BotResult<Bot> {
        let vectors = faq::VectorCache::default();
        let faq = RwLock::new(LoadedFaq::load(&store, embedder.as_ref(), config.learn, &vectors).await?);
        let embedder = embedder.map(OnceLock::from).unwrap_or_default();
        let shared = Shared {
            prompts,
            config,
            faq,
            embedder,
            ticket_tokens: TokenCache::default(),
            query_vectors: QueryVectors::default(),
            vectors,
            detector: RwLock::new(None),
            fitting: tokio::sync::Mutex::new(()),
            checkpoint: std::sync::atomic::AtomicBool::new(false),
            github_asked: std::sync::atomic::AtomicBool::new(false),
            github_due: tokio::sync::Notify::new(),
            console_digests: Mutex::default(),
        };
        Ok(Bot { store, shared: Arc::new(shared) })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The outbox, for the adapters' delivery loops.
    pub fn outbox(&self) -> Outbox {
        Outbox::new(self.store.clone())
    }

    pub fn config(&self) -> &BotConfig {
        &self.shared.config
    }

    pub fn prompts(&self) -> &Prompts {
        &self.shared.prompts
    }

    pub fn embedder(&self) -> Option<&Arc<Embedder>> {
        self.shared.embedder.get()
    }

    /// This bot working inside `unit` (a handle from `Store::begin`).
    fn within(&self, unit: Store) -> Bot {
        Bot { store: unit, shared: self.shared.clone() }
    }

    /// The slow part of handling an event, done before its unit of work begins: the FAQ index
    /// and the detector are brought up to date and a question's embedding computed.
    async fn prepare(&self, event: &Incoming) -> BotResult<()> {
        let index = self.faq().await?;
        let text = match &event.kind {
            IncomingKind::Message { text, .. } => {
                self.detector().await?;
                truncate_chars(text, MAX_ANALYZED_CHARS)
            }
            IncomingKind::Command { text } => match crate::domain::command::parse(text) {
                Ok(crate::domain::command::Command::Ask { question }) => truncate_chars(&question, MAX_ANALYZED_CHARS),
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        self.embed_ahead(&index, &text).await;
        Ok(())
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
    #[tracing::instrument(name = "event", skip_all, fields(platform = %event.platform, event_id = %event.event_id))]
    pub async fn record(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Intake> {
        let intake = self.store.record_incoming(event, now).await?;
        crate::metrics::event_recorded(&event.platform, &event.kind, intake == Intake::Duplicate);
        if intake == Intake::Duplicate {
            tracing::debug!("duplicate event dropped");
        }
        Ok(intake)
    }

    /// Every message of `event`'s channel up to `message_id` is stored (see `Inlet::accept_or_hold`).
    pub async fn advance_cursor(&self, event: &Incoming, message_id: &str) -> BotResult<()> {
        Ok(self.store.advance_cursor(&event.platform, &event.channel, message_id).await?)
    }

    /// The channels `platform`'s messages were seen in: where to look for what was missed.
    pub async fn known_channels(&self, platform: &str) -> BotResult<Vec<String>> {
        Ok(self.store.known_channels(platform).await?)
    }

    /// Whether any event of `platform` was ever recorded (false on the very first run).
    pub async fn has_seen_events(&self, platform: &str) -> BotResult<bool> {
        Ok(self.store.seen_event(platform, None).await?)
    }

    /// Whether the event `event_id` of `platform` was ever recorded.
    pub async fn has_seen_event(&self, platform: &str, event_id: &str) -> BotResult<bool> {
        Ok(self.store.seen_event(platform, Some(event_id)).await?)
    }

    /// Where catching up on a channel starts (the message after which to read its history).
    pub async fn catch_up_point(&self, platform: &str, channel: &str) -> BotResult<Option<String>> {
        Ok(self.store.catch_up_point(platform, channel).await?)
    }

    /// Handles a recorded event this caller claimed, recording the actions it produces.
    ///
    /// Exactly once: everything the event changes (the stored message, the question, a ticket,
    /// the outbox rows and the inbox's "processed" mark) is committed in one unit of work. A
    /// crash or a database error before the commit leaves no trace, and the event is
    /// processed again from scratch (`resume`).
    /// Everything logged while handling one event carries its platform and id (one span each).
    #[tracing::instrument(name = "event", skip_all, fields(platform = %event.platform, event_id = %event.event_id))]
    pub async fn process(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let _timer = crate::metrics::decision_timer(&event.platform);
        let outcome = self.process_once(event, now).await;
        if outcome.is_err() {
            // Nothing of it was committed: give the claim back, so the next resume tries again
            // at once instead of after the lease. (A database that is down keeps the lease.)
            let _ = self.store.release_incoming(&event.platform, &event.event_id).await;
        }
        outcome
    }

    async fn process_once(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        Ok(self.commit_event(event, now, |_| false).await?.0)
    }

    /// Handles `event` in one unit of work and records what it produces in the outbox, but for
    /// the actions `held_back` picks: those are returned apart, never sent (the web console
    /// shows a command's answer on its page). Returns (recorded, held back).
    async fn commit_event(&self, event: &Incoming, now: DateTime<Utc>, held_back: impl Fn(&Action) -> bool) -> BotResult<(Vec<Action>, Vec<Action>)> {
        self.prepare(event).await?;
        let unit = self.store.begin().await?;
        let (held, actions): (Vec<Action>, Vec<Action>) = self.within(unit.clone()).handle(event, now).await?.into_iter().partition(|a| held_back(a));
        let origin = format!("in:{}:{}", event.platform, event.event_id);
        unit.record_actions(&event.platform, &origin, &actions, Some(event), now).await?;
        crate::faults::crash_point("process.before_commit");
        unit.commit().await?;
        crate::faults::crash_point("process.after_commit");
        if self.shared.checkpoint.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.store.checkpoint().await;
        }
        if self.shared.github_asked.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.shared.github_due.notify_one();
        }
        Ok((actions, held))
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

    /// Lets time pass: questions unanswered for the whole window become tickets, due ticket
    /// timers fire (SLA warnings and breaches, nudges, stale closes), and the FAQ's
    /// calibration is refitted if learning moved it enough.
    pub async fn tick(&self, now: DateTime<Utc>) -> BotResult<Vec<(String, Action)>> {
        let mut due = self.settle_due_questions(now).await?;
        due.extend(self.fire_due_timers(now).await?);
        // Here, not on the question path: the FAQ's calibration, once learning has moved it.
        // Its failure is logged, never the settled questions' loss: the next tick tries again.
        match self.refit_faq().await {
            Ok(true) => tracing::info!("FAQ calibration refitted on the phrasings learned since the last fit"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "refitting the FAQ calibration failed"),
        }
        Ok(due)
    }

    /// The single door into the behaviour: what the bot does about one event.
    pub async fn handle(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        match &event.kind {
            IncomingKind::Message { id, text, reply_to } => self.on_message(event, id, text, reply_to.as_deref()).await,
            IncomingKind::Command { text } => self.on_command(event, text, now).await,
            IncomingKind::Feedback { on, helpful, comment } => self.on_feedback(event, on, *helpful, comment.as_deref(), now).await,
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
        self.shared.prompts.render(template, ctx)
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
