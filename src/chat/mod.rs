//! Chat adapters: they turn platform events into `Incoming` and send the outbox's actions.
//! They hold no support logic.

pub mod console;
pub mod discord;
pub mod replay;
pub mod slack;

use crate::bot::{Bot, BotError, BotResult, Outbox};
use crate::domain::intake::{Intake, OutboxItem};
use crate::domain::message::{Action, Incoming, IncomingKind};
use chrono::{DateTime, Duration, Utc};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::{Notify, watch};

/// Why a send failed, and whether trying again can help. Three kinds:
/// - `retry_after` set: the platform's rate limit refused it for now and said when to come back.
///   The platform has not got it; the wait is not a failed attempt and never leads to giving up.
/// - `permanent`: the platform refused it and always will (the channel is gone, a permission is
///   missing). It is given up on.
/// - neither: a failure whose outcome is unknown (a timeout, a reset connection, a 5xx): the
///   platform may have it. It is retried with backoff, up to `MAX_ATTEMPTS`, and where the
///   platform lets us look, the retry first looks for the earlier attempt.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// The platform asked us to wait this long (HTTP 429 `Retry-After`, an exhausted bucket).
    pub retry_after: Option<Duration>,
    /// Trying again will not help (the channel is gone, the token lacks a permission).
    pub permanent: bool,
}

impl SendError {
    pub fn rate_limited(message: impl Into<String>, wait: Duration) -> Self {
        SendError { message: message.into(), retry_after: Some(wait), permanent: false }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retry_after: None, permanent: true }
    }

    pub fn retryable(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retry_after: None, permanent: false }
    }
}

/// One outbox row on its way out.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The outbox id: the same on every attempt, so a platform can recognise a repeat by it.
    pub id: i64,
    pub action: &'a Action,
    /// When the row was recorded: nothing of it can be on the platform from before.
    pub created_at: DateTime<Utc>,
}

/// Somewhere actions can be sent: a platform, the console, the replay's output.
pub trait ChatSink: Send + Sync {
    /// The platform name the outbox rows carry ("console", "slack", ...).
    fn platform(&self) -> &str;
    fn send(&self, action: &Action) -> impl Future<Output = Result<(), SendError>> + Send;

    /// Sends an outbox row. `now` is the delivery's clock, the one rate limits are counted on.
    /// Ok(Some(id)): the platform's id of what a thread can start under (see [`PlatformSink::post`]).
    fn send_delivery(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> impl Future<Output = Result<Option<String>, SendError>> + Send {
        let _ = now;
        async move { self.send(delivery.action).await.map(|()| None) }
    }

    /// When the platform's limits let the next send to this action's destination go, if later
    /// than `now` (an exhausted rate-limit bucket, a channel's pace). The row then waits
    /// without an attempt.
    fn ready_at(&self, action: &Action, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let _ = (action, now);
        None
    }

    /// Looks on the platform for an earlier attempt at `delivery` whose outcome is unknown.
    /// Some(true): it arrived, so it must not be sent again. Some(false): it did not. None: this
    /// platform, or this kind of message, cannot be looked up (Discord drops a repeat itself, by
    /// its nonce; ephemeral messages leave no trace), so it is sent again.
    fn find_earlier(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> impl Future<Output = Result<Option<bool>, SendError>> + Send {
        let _ = (delivery, now);
        std::future::ready(Ok(None))
    }
}

/// A chat platform's way out (Slack, Discord). Its one `post` serves outbox rows (with their id,
/// on the delivery's clock) and plain sends (no id, on the wall clock) alike: every platform is a
/// [`ChatSink`] through it.
pub trait PlatformSink: Send + Sync {
    /// The platform name the outbox rows carry.
    const PLATFORM: &'static str;

    /// Sends `action`; `delivery` is its outbox id when it is an outbox row. Ok(Some(id)): the
    /// platform's id of the thread this message starts or is (a Slack `channel:ts`, a Discord
    /// message or private thread id), for an action that starts a ticket's thread.
    fn post(&self, delivery: Option<i64>, action: &Action, now: DateTime<Utc>) -> impl Future<Output = Result<Option<String>, SendError>> + Send;

    /// See [`ChatSink::ready_at`].
    fn ready_at(&self, action: &Action, now: DateTime<Utc>) -> Option<DateTime<Utc>>;

    /// See [`ChatSink::find_earlier`]; by default the platform cannot look.
    fn find_earlier(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> impl Future<Output = Result<Option<bool>, SendError>> + Send {
        let _ = (delivery, now);
        std::future::ready(Ok(None))
    }
}

impl<P: PlatformSink> ChatSink for P {
    fn platform(&self) -> &str {
        P::PLATFORM
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        self.post(None, action, Utc::now()).await.map(drop)
    }

    fn send_delivery(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> impl Future<Output = Result<Option<String>, SendError>> + Send {
        self.post(Some(delivery.id), delivery.action, now)
    }

    fn ready_at(&self, action: &Action, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        PlatformSink::ready_at(self, action, now)
    }

    fn find_earlier(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> impl Future<Output = Result<Option<bool>, SendError>> + Send {
        PlatformSink::find_earlier(self, delivery, now)
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
        self.write_action(action).await.map_err(|e| SendError::retryable(format!("output failed: {e}")))
    }
}

/// Failed attempts (not rate-limit waits) before an action is given up on.
const MAX_ATTEMPTS: i64 = 8;

/// How long one send (or one look for an earlier send) may take before it counts as failed,
/// with an unknown outcome.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The shortest rate-limit wait: a platform's "retry after 0" must not make a busy loop.
const MIN_WAIT: Duration = Duration::milliseconds(50);

/// A pass stops taking new rows after this long, well inside the claims' lease.
const MAX_PASS: std::time::Duration = std::time::Duration::from_secs(20);

/// Exponential backoff: 2 s, 4 s, 8 s ... capped at 10 minutes.
pub(crate) fn backoff(attempts: i64) -> Duration {
    Duration::seconds(2i64.saturating_pow(attempts.clamp(1, 20) as u32).min(600))
}

/// What happened to one outbox row: logged here, and the place to count deliveries.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryEvent<'a> {
    Sent,
    /// An earlier attempt whose outcome was unknown turned out to have arrived: marked sent
    /// without sending again.
    FoundEarlier,
    /// The platform's rate limit (a 429, or a bucket known to be empty): the row waits `wait`,
    /// not counted as a failed attempt. `refused`: the platform answered 429 (an invalid
    /// request on Discord's count); false when we waited without asking.
    RateLimitWait {
        wait: Duration,
        refused: bool,
    },
    /// A failed attempt, tried again after `retry_in`.
    Retried {
        attempt: i64,
        retry_in: Duration,
        error: &'a str,
    },
    /// Given up: a permanent error, too many failed attempts, or a row that cannot be read. The
    /// row stays in the outbox with `failed_at` and `last_error`.
    GivenUp {
        reason: &'a str,
    },
}

/// Reports a delivery event. Never logs message bodies: errors are the platform's codes.
pub fn observe(platform: &str, outbox_id: i64, event: DeliveryEvent<'_>) {
    match event {
        DeliveryEvent::Sent => tracing::debug!(platform, outbox_id, "action sent"),
        DeliveryEvent::FoundEarlier => {
            tracing::info!(platform, outbox_id, "an earlier attempt had arrived after all; not sending it again")
        }
        DeliveryEvent::RateLimitWait { wait, refused } => {
            tracing::info!(platform, outbox_id, wait_ms = wait.num_milliseconds(), refused, "waiting for the platform's rate limit")
        }
        DeliveryEvent::Retried { attempt, retry_in, error } => {
            tracing::warn!(platform, outbox_id, attempt, error, retry_in_s = retry_in.num_seconds(), "send failed; will retry")
        }
        DeliveryEvent::GivenUp { reason } => tracing::error!(platform, outbox_id, reason, "giving up on sending an action"),
    }
    match event {
        DeliveryEvent::RateLimitWait { wait, .. } => crate::metrics::rate_limit_waited(platform, wait.to_std().unwrap_or_default()),
        DeliveryEvent::Retried { .. } => crate::metrics::delivery_retried(platform, None),
        DeliveryEvent::GivenUp { .. } => crate::metrics::delivery_given_up(platform),
        DeliveryEvent::Sent | DeliveryEvent::FoundEarlier => {}
    }
}

/// Sends the platform confirmed but the database has not recorded (it was down when we tried).
/// They are recorded before anything else is sent, so a database error between a send and its
/// mark does not send it again. Kept in memory: after a crash the row is claimed again as
/// uncertain, and looked for on the platform where that is possible.
#[derive(Debug, Default)]
pub struct UnrecordedSends(std::sync::Mutex<Vec<(i64, DateTime<Utc>)>>);

impl UnrecordedSends {
    fn push(&self, id: i64, at: DateTime<Utc>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((id, at));
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// Records what it holds; what the database still refuses stays.
    async fn flush(&self, outbox: &Outbox) -> BotResult<()> {
        let waiting: Vec<_> = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        for (i, (id, at)) in waiting.iter().enumerate() {
            if let Err(e) = outbox.mark_sent(*id, *at).await {
                self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&waiting[i..]);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// How one row's turn ended.
enum Turn {
    Sent,
    /// Sent earlier, given up, or someone else's now: the lane goes on.
    Done,
    /// Waits for a retry or a rate limit: the rest of its lane waits behind it.
    Waiting,
}

/// Sends every due action for `sink`'s platform, oldest first, marking each sent or failed.
/// Returns how many were sent. A send whose mark fails is forgotten: the running delivery loop
/// uses `deliver_pending_with`, which keeps it.
pub async fn deliver_pending<S: ChatSink>(outbox: &Outbox, sink: &S, now: DateTime<Utc>) -> BotResult<usize> {
    deliver_pending_with(outbox, sink, now, &UnrecordedSends::default()).await
}

/// `deliver_pending`, recording `unrecorded` first and keeping there any send it cannot mark.
///
/// The guarantee: an action the platform confirmed is not sent again, whether the database
/// fails before its mark (it is kept in `unrecorded`) or the process dies (the row stays marked
/// uncertain, and where the platform can be searched the next attempt looks for it first).
/// Rate limits are waited out at the time the platform names; a channel's actions keep their order.
pub async fn deliver_pending_with<S: ChatSink>(outbox: &Outbox, sink: &S, now: DateTime<Utc>, unrecorded: &UnrecordedSends) -> BotResult<usize> {
    const BATCH: i64 = 100;
    let platform = sink.platform();
    let started = std::time::Instant::now();
    let mut sent = 0;
    loop {
        unrecorded.flush(outbox).await?;
        for (id, reason) in outbox.prepare(platform, now).await? {
            observe(platform, id, DeliveryEvent::GivenUp { reason: &reason });
        }
        let batch = outbox.claim(platform, now, BATCH).await?;
        let Some(claim) = batch.first().map(|i| i.claimed_until) else { return Ok(sent) };
        let mut waiting = std::collections::HashSet::new();
        for item in &batch {
            if started.elapsed() > MAX_PASS {
                outbox.release_claim(platform, claim, None, item.id - 1).await?;
                return Ok(sent);
            }
            if waiting.contains(&item.lane) {
                continue; // given back below, with the rest of its lane
            }
            match deliver_one(outbox, sink, item, now, unrecorded).await? {
                Turn::Sent => sent += 1,
                Turn::Done => {}
                Turn::Waiting => {
                    outbox.release_claim(platform, claim, Some(&item.lane), item.id).await?;
                    waiting.insert(item.lane.clone());
                }
            }
        }
    }
}

async fn deliver_one<S: ChatSink>(outbox: &Outbox, sink: &S, item: &OutboxItem, now: DateTime<Utc>, unrecorded: &UnrecordedSends) -> BotResult<Turn> {
    let platform = sink.platform();
    // A ticket's thread that exists already: this goes into it (and waits on its limits).
    let mut action = std::borrow::Cow::Borrowed(&item.action);
    if let Some(key) = item.action.thread {
        action.to_mut().in_thread = outbox.ticket_thread_id(platform, key).await?;
    }
    if let Some(at) = sink.ready_at(&action, now).filter(|at| *at > now) {
        outbox.defer(item.id, "waiting for the platform's rate limit", at, false).await?;
        observe(platform, item.id, DeliveryEvent::RateLimitWait { wait: at - now, refused: false });
        return Ok(Turn::Waiting);
    }
    let delivery = Delivery { id: item.id, action: &action, created_at: item.created_at };
    // Whether nothing of this row can be on the platform before this attempt.
    let mut settled = !item.uncertain;
    if item.uncertain {
        let looked = tokio::time::timeout(SEND_TIMEOUT, sink.find_earlier(&delivery, now)).await;
        match looked.unwrap_or_else(|_| Err(SendError::retryable("looking for an earlier attempt took too long"))) {
            Ok(Some(true)) => {
                record_sent(outbox, unrecorded, item.id, now).await?;
                observe(platform, item.id, DeliveryEvent::FoundEarlier);
                return Ok(Turn::Done);
            }
            Ok(Some(false)) => settled = true,
            Ok(None) => {}
            Err(e) => return failed(outbox, platform, item, &e, false, now).await,
        }
    }
    if !outbox.begin_attempt(item, now).await? {
        return Ok(Turn::Done); // the lease ran out and another instance has the row
    }
    let result = tokio::time::timeout(SEND_TIMEOUT, sink.send_delivery(&delivery, now)).await;
    match result.unwrap_or_else(|_| Err(SendError::retryable("no answer from the platform within 30 s"))) {
        Ok(started) => {
            crate::faults::crash_point("deliver.after_send");
            if let (Some(key), None, Some(thread)) = (action.thread, &action.in_thread, started) {
                // Losing this only leaves later lines outside the thread: the send stands.
                if let Err(e) = outbox.record_ticket_thread(platform, key, &thread, now).await {
                    tracing::warn!(platform, outbox_id = item.id, error = %e, "could not record the ticket thread just started");
                }
            }
            record_sent(outbox, unrecorded, item.id, now).await?;
            observe(platform, item.id, DeliveryEvent::Sent);
            Ok(Turn::Sent)
        }
        Err(e) => failed(outbox, platform, item, &e, settled, now).await,
    }
}

async fn record_sent(outbox: &Outbox, unrecorded: &UnrecordedSends, id: i64, now: DateTime<Utc>) -> BotResult<()> {
    outbox.mark_sent(id, now).await.inspect_err(|_| unrecorded.push(id, now))
}

/// Records a failed attempt (or look). `settled`: nothing of the row was on the platform before
/// it, so a refusal leaves nothing there either.
async fn failed(outbox: &Outbox, platform: &str, item: &OutboxItem, e: &SendError, settled: bool, now: DateTime<Utc>) -> BotResult<Turn> {
    if let Some(wait) = e.retry_after {
        let wait = wait.max(MIN_WAIT);
        outbox.defer(item.id, &e.message, now + wait, settled).await?;
        observe(platform, item.id, DeliveryEvent::RateLimitWait { wait, refused: true });
        Ok(Turn::Waiting)
    } else if e.permanent || item.attempts + 1 >= MAX_ATTEMPTS {
        outbox.mark_dead(item.id, &e.message, now).await?;
        observe(platform, item.id, DeliveryEvent::GivenUp { reason: &e.message });
        Ok(Turn::Done)
    } else {
        let wait = backoff(item.attempts + 1);
        outbox.mark_failed(item.id, &e.message, now + wait).await?;
        observe(platform, item.id, DeliveryEvent::Retried { attempt: item.attempts + 1, retry_in: wait, error: &e.message });
        Ok(Turn::Waiting)
    }
}

/// The way into the core for adapters that must acknowledge quickly (Slack's and Discord's
/// 3 seconds): record the event, acknowledge, then let the core work in the background.
#[derive(Clone)]
pub struct Inlet {
    pub bot: Arc<Bot>,
    /// Wakes the delivery loop when new actions are waiting.
    pub wake: Arc<Notify>,
    /// Events that could not be stored when they came (the database was away), oldest first,
    /// waiting for `retry_held`. Only for ways in that never redeliver (Discord's gateway).
    held: Arc<Mutex<VecDeque<Incoming>>>,
    /// Whether this run's catch-up is done: until then a live message does not move its
    /// channel's cursor (an earlier one the last run held in memory may still be unread).
    caught_up: Arc<std::sync::atomic::AtomicBool>,
    /// The events being handled in the background, which a clean stop lets finish.
    handling: tokio_util::task::TaskTracker,
}

/// How many events are held in memory while the database is away; past that the oldest go
/// (the catch-up on the next READY reads them again from the channel's history).
const MAX_HELD: usize = 50_000;

/// How long a clean stop waits for the events being handled (a container's stop grace is 10 s).
pub const STOP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(8);

impl Inlet {
    pub fn new(bot: Arc<Bot>) -> Self {
        Inlet { bot, wake: Arc::new(Notify::new()), held: Arc::default(), caught_up: Arc::default(), handling: Default::default() }
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
        self.handling.spawn(async move {
            match bot.process(&incoming, Utc::now()).await {
                Ok(actions) => {
                    wake.notify_one();
                    then(actions).await;
                }
                // Left unprocessed in the inbox: the scheduler's resume retries it.
                Err(e) => {
                    tracing::error!(error = %crate::telemetry::chain(&e), platform = %incoming.platform, event_id = %incoming.event_id, "handling an event failed")
                }
            }
        });
    }

    /// A clean stop: waits up to `patience` for the events being handled, so what was read
    /// before the stop is done before the store closes. Whatever is still running after that
    /// stays unprocessed in the inbox and the next start resumes it.
    pub async fn finish_handling(&self, patience: std::time::Duration) {
        self.handling.close();
        if tokio::time::timeout(patience, self.handling.wait()).await.is_err() {
            tracing::warn!(still_running = self.handling.len(), "stopping with events still being handled; the next start resumes them");
        }
    }

    /// Records an event, then handles it in the background if this instance claimed it.
    pub async fn accept(&self, incoming: Incoming) -> Result<(), BotError> {
        if self.record(&incoming).await? {
            self.process_later(incoming, |_| async {});
        }
        Ok(())
    }

    /// `accept` for a way in that never redelivers: an event the database cannot take now is
    /// held in memory and recorded later by `retry_held`, in the order it came. While any
    /// event is held, later ones queue behind it, and the channels' catch-up cursors stay where
    /// they were, so a crash meanwhile is made good by the next catch-up.
    /// `in_order` handles the event before returning (catching up).
    pub async fn accept_or_hold(&self, incoming: Incoming, in_order: bool) {
        if self.held_count() > 0 {
            self.hold(incoming);
            self.retry_held().await;
            return;
        }
        match self.record(&incoming).await {
            Ok(claimed) => {
                if in_order || self.is_caught_up() {
                    self.advance_cursor(&incoming).await;
                }
                if claimed && in_order {
                    match self.bot.process(&incoming, Utc::now()).await {
                        Ok(actions) if !actions.is_empty() => self.wake.notify_one(),
                        Ok(_) => {}
                        // Left unprocessed in the inbox: the scheduler's resume retries it.
                        Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), event_id = %incoming.event_id, "handling an event failed"),
                    }
                } else if claimed {
                    self.process_later(incoming, |_| async {});
                }
            }
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), platform = %incoming.platform, event_id = %incoming.event_id, "could not store an event; holding it to store later");
                self.hold(incoming);
            }
        }
    }

    /// Stores the held events, oldest first, until one fails (the database is still away).
    /// Returns how many were stored.
    pub async fn retry_held(&self) -> usize {
        let mut stored = 0;
        loop {
            let Some(next) = self.held.lock().unwrap_or_else(|e| e.into_inner()).front().cloned() else { break };
            match self.record(&next).await {
                Ok(claimed) => {
                    self.held.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    stored += 1;
                    if claimed {
                        self.process_later(next.clone(), |_| async {});
                    }
                    if self.held_count() == 0 && self.is_caught_up() {
                        self.advance_cursor(&next).await;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %crate::telemetry::chain(&e), held = self.held_count(), "the database still cannot take the held events");
                    break;
                }
            }
        }
        if stored > 0 {
            tracing::info!(stored, still_held = self.held_count(), "stored events held while the database was away");
        }
        stored
    }

    /// This run has read what was missed (Discord's catch-up on READY): from now on live
    /// messages move the catch-up cursors too.
    pub fn mark_caught_up(&self) {
        self.caught_up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_caught_up(&self) -> bool {
        self.caught_up.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many events wait in memory for the database.
    pub fn held_count(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn hold(&self, incoming: Incoming) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.len() >= MAX_HELD {
            held.pop_front();
            tracing::error!("too many events held while the database is away: dropped the oldest (the next catch-up reads it again)");
        }
        held.push_back(incoming);
    }

    /// Everything up to this message is stored: its channel's catch-up may start after it.
    async fn advance_cursor(&self, incoming: &Incoming) {
        if let IncomingKind::Message { id, .. } = &incoming.kind
            && let Err(e) = self.bot.advance_cursor(incoming, id).await
        {
            tracing::debug!(error = %crate::telemetry::chain(&e), "could not move the catch-up cursor");
        }
    }
}

/// Delivers `sink`'s actions until `stop` changes: when woken, when the next row comes due (a
/// retry, the end of a rate-limit wait), and at least every 2 s.
pub async fn delivery_loop<S: ChatSink>(outbox: &Outbox, sink: &S, wake: &Notify, stop: &mut watch::Receiver<bool>) {
    const POLL: std::time::Duration = std::time::Duration::from_secs(2);
    const SHORTEST: std::time::Duration = std::time::Duration::from_millis(20);
    let unrecorded = UnrecordedSends::default();
    loop {
        if let Err(e) = deliver_pending_with(outbox, sink, Utc::now(), &unrecorded).await {
            tracing::error!(platform = sink.platform(), error = %crate::telemetry::chain(&e), "delivering actions failed");
        }
        let pause = match outbox.next_due(sink.platform()).await {
            Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or_default().clamp(SHORTEST, POLL),
            _ => POLL,
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
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
