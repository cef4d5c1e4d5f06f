//! The core's actions as Discord REST calls: replies that reference the question, buttons,
//! private replies through the interaction, and no pings unless someone decides otherwise.

use super::interactions::{buttons, interaction_token};
use crate::chat::{PlatformSink, SendError};
use crate::domain::message::{Action, ActionKind, ThreadPlace};
use crate::domain::text::split_message;
use chrono::{DateTime, Duration, Utc};
use serenity::builder::{CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateInteractionResponseFollowup, CreateMessage};
use serenity::http::{Http, LightMethod, Multipart, MultipartUpload, Request, Route};
use serenity::model::application::ButtonStyle;
use serenity::model::channel::{MessageReference, Nonce};
use serenity::model::id::{ChannelId, MessageId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Discord refuses longer message content.
const MAX_CONTENT_CHARS: usize = 2000;

/// Echoed text must never ping `@everyone`, a role or a person, the asker included.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().empty_users().empty_roles().replied_user(false)
}

fn button(label: &str, custom_id: String, style: ButtonStyle) -> CreateButton {
    CreateButton::new(custom_id).label(label).style(style)
}

/// Buttons under an answer (was it helpful?) and under a new ticket's notice (triage).
pub fn components_for(action: &Action) -> Vec<CreateActionRow> {
    let row = match (action.kind, action.in_reply_to.as_deref(), action.ticket_id) {
        (ActionKind::Answer, Some(question), _) => vec![
            button("Helpful", format!("{}{question}", buttons::HELPFUL), ButtonStyle::Success),
            button("Not helpful", format!("{}{question}", buttons::NOT_HELPFUL), ButtonStyle::Secondary),
        ],
        (ActionKind::NotifyModerators, _, Some(ticket)) => vec![
            button("Assign to me", format!("{}{ticket}", buttons::ASSIGN_ME), ButtonStyle::Primary),
            button("Resolve", format!("{}{ticket}", buttons::RESOLVE), ButtonStyle::Success),
            button("Close", format!("{}{ticket}", buttons::CLOSE), ButtonStyle::Secondary),
        ],
        (ActionKind::Nudge, _, Some(ticket)) => vec![
            button("Yes, it's solved", format!("{}{ticket}", buttons::SOLVED), ButtonStyle::Success),
            button("I still need help", format!("{}{ticket}", buttons::UNSOLVED), ButtonStyle::Secondary),
        ],
        _ => return Vec::new(),
    };
    vec![CreateActionRow::Buttons(row)]
}

fn snowflake(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| *n > 0)
}

/// The nonce of piece `piece` (of `pieces`) of outbox row `id`: the same on every attempt, so
/// Discord (with `enforce_nonce`) returns the message an earlier attempt created instead of
/// posting it again. At most 18 characters; Discord allows 25.
pub fn nonce_for(id: i64, piece: usize, pieces: usize) -> String {
    let mut n = id.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    let base = format!("sb{}", String::from_utf8(digits).expect("ascii digits"));
    if pieces > 1 { format!("{base}.{piece}") } else { base }
}

/// A REST route the outbox uses, and its rate-limit major parameter (the channel, the webhook).
#[derive(Debug, Clone)]
struct RouteKey {
    route: &'static str,
    major: String,
}

const CHANNEL_MESSAGES: &str = "POST /channels/{channel}/messages";
const FOLLOWUPS: &str = "POST /webhooks/{application}/{token}";
const DM_CHANNELS: &str = "POST /users/@me/channels";
const MESSAGE_THREADS: &str = "POST /channels/{channel}/messages/{message}/threads";
const CHANNEL_THREADS: &str = "POST /channels/{channel}/threads";
const THREAD_MEMBERS: &str = "PUT /channels/{channel}/thread-members/{user}";

/// What one response said about the limits.
#[derive(Debug, Default)]
struct RateHeaders {
    bucket: Option<String>,
    remaining: Option<i64>,
    reset_after: Option<f64>,
    retry_after: Option<f64>,
    global: bool,
}

impl RateHeaders {
    fn read(headers: &reqwest::header::HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        RateHeaders {
            bucket: text("x-ratelimit-bucket"),
            remaining: text("x-ratelimit-remaining").and_then(|v| v.parse().ok()),
            reset_after: text("x-ratelimit-reset-after").and_then(|v| v.parse().ok()),
            retry_after: text("retry-after").and_then(|v| v.parse().ok()),
            global: text("x-ratelimit-global").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    remaining: i64,
    reset_at: DateTime<Utc>,
}

/// Discord's rate limits as the responses describe them: routes map to buckets
/// (`X-RateLimit-Bucket`), a bucket per major parameter has `X-RateLimit-Remaining` requests
/// until `X-RateLimit-Reset-After`; a global limit holds every route. An empty bucket is waited
/// out before the next request on it, so 429s (which count toward Discord's ban threshold of
/// 10,000 invalid requests in 10 minutes) stay rare.
#[derive(Debug, Default)]
struct Buckets {
    hashes: HashMap<&'static str, String>,
    buckets: HashMap<String, Bucket>,
    global_until: Option<DateTime<Utc>>,
}

fn seconds(s: f64) -> Duration {
    Duration::milliseconds((s.max(0.0) * 1000.0).ceil() as i64)
}

impl Buckets {
    fn key(&self, r: &RouteKey) -> String {
        format!("{} {}", self.hashes.get(r.route).map(String::as_str).unwrap_or(r.route), r.major)
    }

    /// When a request on `r` may go, if not now.
    fn ready_at(&self, r: &RouteKey, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if let Some(until) = self.global_until.filter(|u| *u > now) {
            return Some(until);
        }
        let bucket = self.buckets.get(&self.key(r))?;
        (bucket.remaining <= 0 && bucket.reset_at > now).then_some(bucket.reset_at)
    }

    /// Learns from a response; on a 429, returns how long to wait and whether it was global.
    fn learn(&mut self, r: &RouteKey, headers: &RateHeaders, status: u16, body: &serde_json::Value, now: DateTime<Utc>) -> Option<(Duration, bool)> {
        if let Some(hash) = &headers.bucket {
            self.hashes.insert(r.route, hash.clone());
        }
        let key = self.key(r);
        if self.buckets.len() > 1000 {
            self.buckets.retain(|_, b| b.reset_at > now);
        }
        if status == 429 {
            // The body's `retry_after` is the precise one (seconds, with a fraction).
            let wait = seconds(body["retry_after"].as_f64().or(headers.retry_after).or(headers.reset_after).unwrap_or(1.0));
            let global = headers.global || body["global"].as_bool() == Some(true);
            if global {
                self.global_until = Some(now + wait);
            } else {
                self.buckets.insert(key, Bucket { remaining: 0, reset_at: now + wait });
            }
            return Some((wait, global));
        }
        if let (Some(remaining), Some(reset_after)) = (headers.remaining, headers.reset_after) {
            self.buckets.insert(key, Bucket { remaining, reset_at: now + seconds(reset_after) });
        }
        None
    }
}

/// A POST with a JSON body, or multipart when a file goes with it (the JSON names the file).
fn request(route: Route<'_>, json: Vec<u8>, file: Option<CreateAttachment>) -> Request<'_> {
    let request = Request::new(route, LightMethod::Post);
    match file {
        Some(f) => request.multipart(Some(Multipart {
            upload: MultipartUpload::Attachments(vec![f]),
            payload_json: Some(String::from_utf8(json).expect("JSON is UTF-8")),
            fields: vec![],
        })),
        None => request.body(Some(json)),
    }
}

/// Sends actions through Discord's REST API as the bot.
///
/// Requests are built by serenity but sent here, so their rate-limit headers can be read:
/// serenity's own limiter reads them but always calls discord.com itself, never a proxy
/// (`Ratelimiter::perform` builds its requests without the proxy), and a plain serenity call
/// returns neither the headers nor the body's `retry_after`.
pub struct DiscordSink {
    http: Arc<Http>,
    client: reqwest::Client,
    /// The channel id new tickets are announced in.
    moderators_channel: Option<String>,
    buckets: Mutex<Buckets>,
    /// Pieces of a long message already posted, by outbox id, so a retry goes on from there.
    progress: Mutex<HashMap<i64, usize>>,
    /// Private threads started for an outbox row whose message is not posted yet, so a retry
    /// posts into that thread instead of starting a second one.
    private_threads: Mutex<HashMap<i64, ChannelId>>,
    /// Message threads known to exist, so a ticket's later lines skip asking to start them.
    known_threads: Mutex<std::collections::HashSet<u64>>,
}

/// Where one action's messages go.
#[derive(Debug, Clone, Copy)]
enum Destination<'a> {
    /// The interaction's follow-up webhook (an ephemeral reply to a slash command or button).
    Followup(&'a str),
    /// A channel or thread; `question` is the message the first piece replies to.
    Channel { channel: ChannelId, question: Option<u64> },
}

impl DiscordSink {
    pub fn new(http: Arc<Http>, moderators_channel: Option<String>) -> Self {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a TLS client with the built-in roots always builds");
        DiscordSink {
            http,
            client,
            moderators_channel,
            buckets: Mutex::default(),
            progress: Mutex::default(),
            private_threads: Mutex::default(),
            known_threads: Mutex::default(),
        }
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn known_threads(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<u64>> {
        self.known_threads.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn private_threads(&self) -> std::sync::MutexGuard<'_, HashMap<i64, ChannelId>> {
        self.private_threads.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn channel_for(&self, action: &Action) -> Result<ChannelId, SendError> {
        let name = match (action.kind, &self.moderators_channel) {
            (ActionKind::NotifyModerators | ActionKind::Mirror, Some(id)) => id.as_str(),
            _ => action.channel.as_str(),
        };
        snowflake(name).map(ChannelId::new).ok_or_else(|| {
            SendError::permanent(format!("{name:?} is not a Discord channel id (set [discord] moderators_channel to the moderators' channel id)"))
        })
    }

    /// The route an action's (first) request goes to.
    fn route_for(&self, action: &Action) -> Option<RouteKey> {
        if let Some(thread) = action.in_thread.as_deref().and_then(snowflake) {
            return Some(RouteKey { route: CHANNEL_MESSAGES, major: thread.to_string() });
        }
        if let Some(token) = interaction_token(action.reply_url.as_deref()) {
            let application = self.http.application_id().map(|a| a.to_string()).unwrap_or_default();
            return Some(RouteKey { route: FOLLOWUPS, major: format!("{application}/{token}") });
        }
        if action.ephemeral && action.recipient.as_deref().and_then(snowflake).is_some() {
            return Some(RouteKey { route: DM_CHANNELS, major: String::new() });
        }
        let channel = self.channel_for(action).ok()?;
        Some(RouteKey { route: CHANNEL_MESSAGES, major: channel.to_string() })
    }

    /// One REST call, unless the route's bucket (or the global limit) is known to be empty.
    async fn call(&self, route: &RouteKey, request: Request<'_>, now: DateTime<Utc>) -> Result<serde_json::Value, SendError> {
        let (status, body) = self.exchange(route, request, now).await?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let message = format!("Discord answered {status} (code {}): {}", body["code"], body["message"].as_str().unwrap_or_default());
        // 4xx (missing access, unknown channel, invalid form) will fail the same way again; a
        // 5xx may have been done anyway.
        Err(if (400..500).contains(&status) && status != 408 { SendError::permanent(message) } else { SendError::retryable(message) })
    }

    /// One REST call's status and JSON body; a rate limit or a failed transport is the error.
    async fn exchange(&self, route: &RouteKey, request: Request<'_>, now: DateTime<Utc>) -> Result<(u16, serde_json::Value), SendError> {
        if let Some(until) = self.buckets().ready_at(route, now) {
            return Err(SendError::rate_limited("Discord rate limit: waiting for the bucket to reset", until - now));
        }
        let built = request
            .build(&self.client, self.http.token(), self.http.proxy.as_deref())
            .map_err(|e| SendError::permanent(format!("Discord request could not be built: {e}")))?;
        // `without_url`: an interaction's URL holds its token.
        let response = built.send().await.map_err(|e| SendError::retryable(format!("Discord request failed: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let headers = RateHeaders::read(response.headers());
        let bytes = response.bytes().await.map_err(|e| SendError::retryable(format!("Discord's answer was cut short: {}", e.without_url())))?;
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if let Some((wait, global)) = self.buckets().learn(route, &headers, status, &body, now) {
            let scope = if global { "global " } else { "" };
            return Err(SendError::rate_limited(format!("Discord {scope}rate limit (429)"), wait));
        }
        Ok((status, body))
    }

    /// The thread of ticket `ticket` on its question's message, started on first use (Discord
    /// gives a message's thread the message's id), so the asker and the moderators talk inside
    /// the ticket. `None` where Discord allows no thread there (the question is itself in a
    /// thread or a forum post, or the bot may not create one): the reply then goes beside it.
    async fn ticket_thread(&self, channel: ChannelId, question: u64, ticket: i64, now: DateTime<Utc>) -> Result<Option<ChannelId>, SendError> {
        /// "A thread has already been created for this message."
        const THREAD_EXISTS: i64 = 160_004;
        if self.known_threads().contains(&question) {
            return Ok(Some(ChannelId::new(question)));
        }
        let body = serde_json::to_vec(&serde_json::json!({"name": format!("Ticket #{ticket}"), "auto_archive_duration": 10_080})).expect("JSON");
        let route = RouteKey { route: MESSAGE_THREADS, major: channel.to_string() };
        let endpoint = Route::ChannelMessageThreads { channel_id: channel, message_id: MessageId::new(question) };
        let (status, answer) = self.exchange(&route, Request::new(endpoint, LightMethod::Post).body(Some(body)), now).await?;
        match status {
            200..300 => {}
            400 if answer["code"].as_i64() == Some(THREAD_EXISTS) => {}
            400..500 if status != 408 && status != 429 => {
                tracing::info!(ticket, status, code = %answer["code"], "no thread for the ticket on Discord; replying beside the question");
                return Ok(None);
            }
            _ => return Err(SendError::retryable(format!("Discord answered {status} to starting the ticket's thread"))),
        }
        let mut known = self.known_threads();
        if known.len() >= 100_000 {
            known.clear(); // forgetting costs one request per thread, not a wrong post
        }
        known.insert(question);
        Ok(Some(ChannelId::new(question)))
    }

    /// A private thread in `channel` that only `user` (and moderators who can manage threads)
    /// sees, for a ticket asked privately: a lasting place for what an ephemeral reply cannot
    /// hold. `None` where Discord allows none there (a direct message, a thread, no permission).
    async fn private_thread(&self, channel: ChannelId, user: u64, ticket: i64, now: DateTime<Utc>) -> Result<Option<ChannelId>, SendError> {
        /// GUILD_PRIVATE_THREAD; not invitable, so members cannot add others to it.
        const PRIVATE_THREAD: u8 = 12;
        let body =
            serde_json::json!({"name": format!("Ticket #{ticket}"), "type": PRIVATE_THREAD, "invitable": false, "auto_archive_duration": 10_080});
        let route = RouteKey { route: CHANNEL_THREADS, major: channel.to_string() };
        let request =
            Request::new(Route::ChannelThreads { channel_id: channel }, LightMethod::Post).body(Some(serde_json::to_vec(&body).expect("JSON")));
        let (status, answer) = self.exchange(&route, request, now).await?;
        let thread = match status {
            200..300 => answer["id"].as_str().and_then(snowflake).map(ChannelId::new),
            400..500 if status != 408 && status != 429 => {
                tracing::info!(ticket, status, code = %answer["code"], "no private thread for the ticket on Discord; replying privately instead");
                return Ok(None);
            }
            _ => return Err(SendError::retryable(format!("Discord answered {status} to starting the ticket's private thread"))),
        };
        let thread = thread.ok_or_else(|| SendError::retryable("Discord's new private thread had no id"))?;
        let route = RouteKey { route: THREAD_MEMBERS, major: thread.to_string() };
        let endpoint = Route::ChannelThreadMember { channel_id: thread, user_id: serenity::model::id::UserId::new(user) };
        self.call(&route, Request::new(endpoint, LightMethod::Put), now).await?;
        Ok(Some(thread))
    }

    /// Where `action` goes, and the thread it is in when it goes into one of the ticket's own.
    async fn destination<'a>(
        &self,
        delivery: Option<i64>,
        action: &'a Action,
        now: DateTime<Utc>,
    ) -> Result<(Destination<'a>, Option<String>), SendError> {
        let in_thread = action.in_thread.as_deref().and_then(snowflake);
        let private = action.thread.is_some_and(|k| k.place == ThreadPlace::Private);
        // The ticket's private thread: once it exists everything to the asker goes there.
        if private && let Some(thread) = in_thread {
            return Ok((Destination::Channel { channel: ChannelId::new(thread), question: None }, Some(thread.to_string())));
        }
        if private
            && let (Some(user), Some(ticket)) = (action.recipient.as_deref().and_then(snowflake), action.ticket_id)
            && let Ok(channel) = self.channel_for(action)
        {
            let started = delivery.and_then(|id| self.private_threads().get(&id).copied());
            let thread = match started {
                Some(thread) => Some(thread),
                None => self.private_thread(channel, user, ticket, now).await?,
            };
            if let Some(thread) = thread {
                if let Some(id) = delivery {
                    self.private_threads().insert(id, thread);
                }
                return Ok((Destination::Channel { channel: thread, question: None }, Some(thread.to_string())));
            }
        }
        if let Some(token) = interaction_token(action.reply_url.as_deref()) {
            return Ok((Destination::Followup(token), None));
        }
        let mut channel = self.channel_for(action)?;
        if action.kind == ActionKind::Mirror {
            // Under the ticket's notice, in the thread started on it.
            if let (Some(notice), Some(ticket)) = (in_thread, action.ticket_id)
                && let Some(thread) = self.ticket_thread(channel, notice, ticket, now).await?
            {
                channel = thread;
            }
            return Ok((Destination::Channel { channel, question: None }, None));
        }
        if let (true, Some(user)) = (action.ephemeral, action.recipient.as_deref().and_then(snowflake)) {
            // Outside an interaction Discord has no private replies: a direct message is
            // the closest thing.
            return Ok((Destination::Channel { channel: self.dm_channel(user, now).await?, question: None }, None));
        }
        let mut question = action.in_reply_to.as_deref().and_then(snowflake).filter(|_| action.kind != ActionKind::NotifyModerators);
        // What the asker hears about a ticket goes into the ticket's thread on the question.
        if let (Some(asked), Some(ticket)) = (question, action.ticket_id)
            && matches!(action.kind, ActionKind::TicketOpened | ActionKind::TicketUpdated | ActionKind::Nudge)
            && let Some(thread) = self.ticket_thread(channel, asked, ticket, now).await?
        {
            channel = thread;
            question = None;
        }
        Ok((Destination::Channel { channel, question }, None))
    }

    async fn dm_channel(&self, user: u64, now: DateTime<Utc>) -> Result<ChannelId, SendError> {
        let body = serde_json::to_vec(&serde_json::json!({"recipient_id": user.to_string()})).expect("JSON");
        let route = RouteKey { route: DM_CHANNELS, major: String::new() };
        let channel = self.call(&route, Request::new(Route::UserMeDmChannels, LightMethod::Post).body(Some(body)), now).await?;
        channel["id"]
            .as_str()
            .and_then(snowflake)
            .map(ChannelId::new)
            .ok_or_else(|| SendError::retryable("Discord's new direct-message channel had no id"))
    }
}

impl PlatformSink for DiscordSink {
    const PLATFORM: &'static str = super::events::PLATFORM;

    async fn post(&self, delivery: Option<i64>, action: &Action, now: DateTime<Utc>) -> Result<Option<String>, SendError> {
        // Long texts (a digest) go as several messages; buttons and the file go with the last.
        let pieces = split_message(&action.text, MAX_CONTENT_CHARS);
        let count = pieces.len();
        let last = count - 1;
        let file = |i: usize| action.attachment.as_ref().filter(|_| i == last).map(|a| CreateAttachment::bytes(a.bytes.clone(), a.filename.clone()));
        let buttons = |i: usize| if i == last { components_for(action) } else { Vec::new() };
        let first = delivery.and_then(|id| self.progress().get(&id).copied()).unwrap_or(0);
        let (destination, mut started) = self.destination(delivery, action, now).await?;
        for (i, piece) in pieces.into_iter().enumerate().skip(first) {
            match destination {
                Destination::Followup(token) => {
                    // Follow-ups take no nonce: after an uncertain attempt one may show twice
                    // (privately, to the one person who asked).
                    let application =
                        self.http.application_id().ok_or_else(|| SendError::retryable("Discord has not told us the application id yet"))?;
                    let mut message = CreateInteractionResponseFollowup::new()
                        .content(piece)
                        .ephemeral(action.ephemeral)
                        .allowed_mentions(no_pings())
                        .components(buttons(i));
                    if let Some(f) = file(i) {
                        message = message.add_file(f);
                    }
                    let json = serde_json::to_vec(&message).map_err(|e| SendError::permanent(format!("the message could not be encoded: {e}")))?;
                    let route = RouteKey { route: FOLLOWUPS, major: format!("{application}/{token}") };
                    let endpoint = Route::WebhookFollowupMessages { application_id: application, token };
                    self.call(&route, request(endpoint, json, file(i)), now).await?;
                }
                Destination::Channel { channel, question } => {
                    let mut message = CreateMessage::new().content(piece).allowed_mentions(no_pings()).components(buttons(i));
                    if let Some(f) = file(i) {
                        message = message.add_file(f);
                    }
                    // The same nonce on every retry of this outbox row (and piece): if an
                    // earlier attempt did reach Discord, it returns that message instead of
                    // posting a second one.
                    if let Some(id) = delivery {
                        message = message.nonce(Nonce::String(nonce_for(id, i, count))).enforce_nonce(true);
                    }
                    if let (Some(question), 0) = (question, i) {
                        let mut reference = MessageReference::from((channel, MessageId::new(question)));
                        reference.fail_if_not_exists = Some(false); // a deleted question still gets its answer
                        message = message.reference_message(reference);
                    }
                    let json = serde_json::to_vec(&message).map_err(|e| SendError::permanent(format!("the message could not be encoded: {e}")))?;
                    let route = RouteKey { route: CHANNEL_MESSAGES, major: channel.to_string() };
                    let posted = self.call(&route, request(Route::ChannelMessages { channel_id: channel }, json, file(i)), now).await?;
                    // A message's thread has the message's id: the first piece can start one.
                    if started.is_none() && i == 0 {
                        started = posted["id"].as_str().and_then(snowflake).map(|id| id.to_string());
                    }
                }
            }
            if let Some(id) = delivery.filter(|_| i < last) {
                self.progress().insert(id, i + 1);
            }
        }
        if let Some(id) = delivery {
            self.progress().remove(&id);
            self.private_threads().remove(&id);
        }
        Ok(started)
    }

    fn ready_at(&self, action: &Action, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.buckets().ready_at(&self.route_for(action)?, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_stable_distinct_and_fit_discords_limit() {
        assert_eq!(nonce_for(1, 0, 1), "sb1");
        assert_eq!(nonce_for(36, 0, 1), "sb10");
        assert_eq!(nonce_for(7, 1, 3), "sb7.1");
        assert_ne!(nonce_for(7, 0, 3), nonce_for(7, 1, 3));
        assert!(nonce_for(i64::MAX, 99, 100).len() <= 25, "{}", nonce_for(i64::MAX, 99, 100));
    }

    #[test]
    fn an_empty_bucket_is_waited_out_and_a_429_sets_the_wait() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut b = Buckets::default();
        let route = RouteKey { route: CHANNEL_MESSAGES, major: "200".into() };
        let other = RouteKey { route: CHANNEL_MESSAGES, major: "201".into() };
        let ok = RateHeaders { bucket: Some("abcd".into()), remaining: Some(0), reset_after: Some(2.5), ..Default::default() };
        assert!(b.learn(&route, &ok, 200, &serde_json::Value::Null, t0).is_none());
        assert_eq!(b.ready_at(&route, t0), Some(t0 + Duration::milliseconds(2500)));
        assert_eq!(b.ready_at(&other, t0), None, "another channel has its own bucket");
        assert_eq!(b.ready_at(&route, t0 + Duration::seconds(3)), None);
        let body = serde_json::json!({"retry_after": 5.0, "global": false});
        assert_eq!(b.learn(&other, &RateHeaders::default(), 429, &body, t0), Some((Duration::seconds(5), false)));
        assert_eq!(b.ready_at(&other, t0), Some(t0 + Duration::seconds(5)));
        let global = RateHeaders { global: true, retry_after: Some(1.0), ..Default::default() };
        assert_eq!(b.learn(&route, &global, 429, &serde_json::Value::Null, t0), Some((Duration::seconds(1), true)));
        assert_eq!(b.ready_at(&RouteKey { route: DM_CHANNELS, major: String::new() }, t0), Some(t0 + Duration::seconds(1)));
    }
}
