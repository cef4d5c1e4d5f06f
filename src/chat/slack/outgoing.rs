//! The core's actions as Slack Web API calls: threads, Block Kit and buttons, ephemeral replies.

use super::events::{actions, split_message_id};
use super::format::markdown_to_mrkdwn;
use crate::chat::{Delivery, PlatformSink, SendError};
use crate::domain::message::{Action, ActionKind, Attachment};
use chrono::{DateTime, Duration, Utc};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The Web API client: https to Slack, or plain http to a local fake or a proxy.
pub type WebClient = SlackClient<SlackClientHyperConnector<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>>;

pub fn web_client(api_url: &str) -> anyhow::Result<WebClient> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| anyhow::anyhow!("no TLS root certificates on this machine (install ca-certificates): {e}"))?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    Ok(SlackClient::new(SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url.trim_end_matches('/'))))
}

fn button(label: &str, action_id: &str, value: &str) -> SlackActionBlockElement {
    SlackActionBlockElement::Button(
        SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from(label)).with_action_id(action_id.into()).with_value(value.into()),
    )
}

/// The message body for an action: its text as mrkdwn, and buttons where the action has them.
/// The section is `verbatim`, so Slack takes the mrkdwn as written and finds no mentions or
/// channel names of its own in it.
pub fn content_for(action: &Action) -> SlackMessageContent {
    let text = markdown_to_mrkdwn(&action.text);
    let buttons = match (action.kind, action.in_reply_to.as_deref(), action.ticket_id) {
        (ActionKind::Answer, Some(question), _) => {
            vec![button("Helpful", actions::HELPFUL, question), button("Not helpful", actions::NOT_HELPFUL, question)]
        }
        (ActionKind::NotifyModerators, _, Some(ticket)) => {
            let id = ticket.to_string();
            vec![button("Assign to me", actions::ASSIGN_ME, &id), button("Resolve", actions::RESOLVE, &id), button("Close", actions::CLOSE, &id)]
        }
        (ActionKind::Nudge, _, Some(ticket)) => {
            let id = ticket.to_string();
            vec![button("Yes, it's solved", actions::SOLVED, &id), button("I still need help", actions::UNSOLVED, &id)]
        }
        _ => vec![],
    };
    let mut content = SlackMessageContent::new().with_text(text.clone());
    if !buttons.is_empty() {
        content = content.with_blocks(vec![
            SlackBlock::Section(SlackSectionBlock::new().with_text(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text).with_verbatim(true)))),
            SlackBlock::Actions(SlackActionsBlock::new(buttons)),
        ]);
    }
    content
}

/// The `event_type` of the metadata on every message the outbox posts; its `event_payload`
/// carries `outbox_id`, so a resend after an uncertain attempt can find the first one. The id is
/// a string: slack-morphism reads payload values as strings, and so can every event we receive.
pub const OUTBOX_EVENT: &str = "supportbot_outbox";

/// chat.postMessage's documented pace: about one message a second per channel, short bursts
/// allowed. A burst to one channel goes out at this pace, in order, instead of collecting 429s.
const POSTS_PER_SECOND: f64 = 1.0;
const POST_BURST: f64 = 3.0;

/// A look for an earlier attempt starts this long before the row was recorded (clocks differ).
const LOOKBACK: Duration = Duration::minutes(5);
/// Pages of 200 messages a look reads at most.
const LOOKUP_PAGES: usize = 5;

/// Where an action goes, and how.
enum Target {
    /// A slash command's response_url.
    Webhook(url::Url),
    Ephemeral {
        channel: String,
        user: String,
        thread_ts: Option<SlackTs>,
    },
    Post {
        channel: String,
        thread_ts: Option<SlackTs>,
    },
}

impl Target {
    /// The key its rate limit is kept under, and whether it is paced (only posts are).
    fn limit_key(&self) -> (String, bool) {
        match self {
            Target::Webhook(url) => (format!("webhook {url}"), false),
            Target::Ephemeral { channel, .. } => (format!("ephemeral {channel}"), false),
            Target::Post { channel, .. } => (format!("post {channel}"), true),
        }
    }
}

/// One destination's rate limit: a token bucket (for paced ones) and a 429's wait.
#[derive(Debug, Clone)]
struct Limit {
    tokens: f64,
    at: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
}

impl Limit {
    fn tokens_at(&self, now: DateTime<Utc>) -> f64 {
        let elapsed = (now - self.at).num_milliseconds().max(0) as f64 / 1000.0;
        (self.tokens + elapsed * POSTS_PER_SECOND).min(POST_BURST)
    }
}

/// Slack's limits as this instance has met them, per destination.
#[derive(Debug, Default)]
struct Limits(HashMap<String, Limit>);

impl Limits {
    fn ready_at(&self, key: &str, paced: bool, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let limit = self.0.get(key)?;
        if let Some(until) = limit.blocked_until.filter(|u| *u > now) {
            return Some(until);
        }
        let missing = 1.0 - limit.tokens_at(now);
        (paced && missing > 0.0).then(|| now + Duration::milliseconds((missing / POSTS_PER_SECOND * 1000.0).ceil() as i64))
    }

    fn take(&mut self, key: &str, paced: bool, now: DateTime<Utc>) {
        if !paced {
            return;
        }
        if self.0.len() > 1000 {
            // Forget destinations that are idle again.
            self.0.retain(|_, l| l.tokens_at(now) < POST_BURST || l.blocked_until.is_some_and(|u| u > now));
        }
        let limit = self.0.entry(key.to_string()).or_insert(Limit { tokens: POST_BURST, at: now, blocked_until: None });
        limit.tokens = limit.tokens_at(now) - 1.0;
        limit.at = now;
    }

    /// Slack answered 429: nothing more goes there before `until`, then one at a time again.
    fn refused(&mut self, key: &str, until: DateTime<Utc>) {
        let limit = self.0.entry(key.to_string()).or_insert(Limit { tokens: 0.0, at: until, blocked_until: None });
        limit.blocked_until = Some(until);
        limit.tokens = 1.0;
        limit.at = until;
    }
}

/// A page of conversations.history or conversations.replies, read loosely: other apps'
/// metadata may hold any JSON.
#[derive(Debug, serde::Deserialize)]
struct HistoryPage {
    #[serde(default)]
    messages: Vec<serde_json::Value>,
    response_metadata: Option<NextCursor>,
}

#[derive(Debug, serde::Deserialize)]
struct NextCursor {
    next_cursor: Option<String>,
}

/// Sends actions through the Web API as the bot.
pub struct SlackSink {
    client: Arc<WebClient>,
    token: SlackApiToken,
    /// Replaces the core's moderators channel name with a Slack channel id, when configured.
    moderators_channel: Option<String>,
    /// The bot's own user id: only its messages count when looking for an earlier attempt.
    bot_user: Option<String>,
    limits: Mutex<Limits>,
}

impl SlackSink {
    pub fn new(client: Arc<WebClient>, token: SlackApiToken, moderators_channel: Option<String>) -> Self {
        SlackSink { client, token, moderators_channel, bot_user: None, limits: Mutex::default() }
    }

    pub fn with_bot_user(mut self, user_id: impl Into<String>) -> Self {
        self.bot_user = Some(user_id.into());
        self
    }

    fn target(&self, action: &Action) -> Target {
        if let (true, Some(url)) = (action.ephemeral, action.reply_url.as_deref().and_then(|u| url::Url::parse(u).ok())) {
            // Works even where the bot is not a channel member, unlike chat.postEphemeral.
            return Target::Webhook(url);
        }
        let mut channel = action.channel.clone();
        if matches!(action.kind, ActionKind::NotifyModerators | ActionKind::Mirror)
            && let Some(id) = &self.moderators_channel
        {
            channel = id.clone();
        }
        let ts_of = |id: Option<&str>| id.and_then(split_message_id).map(|(_, ts)| SlackTs::new(ts.into()));
        // Replies go in the question's thread; moderator notices start their own, and the
        // ticket's mirrored lines go under its notice.
        let thread_ts = match action.kind {
            ActionKind::NotifyModerators => None,
            ActionKind::Mirror => ts_of(action.in_thread.as_deref()),
            _ => ts_of(action.in_reply_to.as_deref()),
        };
        match (&action.recipient, action.ephemeral) {
            (Some(user), true) => Target::Ephemeral { channel, user: user.clone(), thread_ts },
            _ => Target::Post { channel, thread_ts },
        }
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ok(Some("channel:ts")) for a post: the thread it can start (see `PlatformSink::post`).
    async fn call(&self, target: &Target, delivery: Option<i64>, action: &Action) -> Result<Option<String>, SlackClientError> {
        let session = self.client.open_session(&self.token);
        let mut content = content_for(action);
        match target {
            Target::Webhook(url) => self.client.post_webhook_message(url, &SlackApiPostWebhookMessageRequest::new(content)).await.map(|_| None),
            Target::Ephemeral { channel, user, thread_ts } => {
                let mut req = SlackApiChatPostEphemeralRequest::new(channel.clone().into(), user.clone().into(), content);
                req.thread_ts = thread_ts.clone();
                session.chat_post_ephemeral(&req).await.map(|_| None)
            }
            Target::Post { channel, thread_ts } => {
                if let Some(id) = delivery {
                    content.metadata = Some(SlackMessageMetadata {
                        event_type: OUTBOX_EVENT.into(),
                        event_payload: Some([("outbox_id".to_string(), id.to_string())].into()),
                    });
                }
                let mut req = SlackApiChatPostMessageRequest::new(channel.clone().into(), content);
                req.thread_ts = thread_ts.clone();
                let posted: PostedMessage = session.http_session_api.http_post("chat.postMessage", &req, None).await?;
                if let Some(file) = &action.attachment {
                    // The text is out; a chart that fails to upload must not make the outbox
                    // post the text again, so its failure is only logged.
                    if let Err(e) = self.upload(channel, &posted.ts, file).await {
                        tracing::warn!(error = %short(&e), "uploading the digest chart to Slack failed; the digest was posted without it");
                    }
                }
                // Under a thread, the thread's own ts is what a thread is known by.
                Ok(Some(format!("{channel}:{}", thread_ts.as_ref().unwrap_or(&posted.ts))))
            }
        }
    }

    /// Looks for a post carrying outbox id `delivery.id` in the action's thread (or channel)
    /// since the row was recorded.
    async fn look_for(&self, delivery: &Delivery<'_>) -> Result<Option<bool>, SendError> {
        let Target::Post { channel, thread_ts } = self.target(delivery.action) else {
            // Ephemeral messages (chat.postEphemeral, a command's response_url) leave nothing
            // to look up: they are sent again, and at worst their one reader sees them twice.
            return Ok(None);
        };
        let oldest = format!("{}.000000", (delivery.created_at - LOOKBACK).timestamp());
        let mut params: Vec<(&str, Option<String>)> =
            vec![("channel", Some(channel)), ("oldest", Some(oldest)), ("include_all_metadata", Some("true".into())), ("limit", Some("200".into()))];
        let method = match thread_ts {
            Some(ts) => {
                params.push(("ts", Some(ts.to_string())));
                "conversations.replies"
            }
            None => "conversations.history",
        };
        let session = self.client.open_session(&self.token);
        for _ in 0..LOOKUP_PAGES {
            let page: HistoryPage = match session.http_session_api.http_get(method, &params, None).await {
                Ok(page) => page,
                Err(SlackClientError::ApiError(api)) if CANNOT_LOOK.contains(&api.code.as_str()) => {
                    tracing::warn!(outbox_id = delivery.id, error = %api.code, "cannot look in Slack for an earlier attempt; sending again");
                    return Ok(None);
                }
                Err(e) => return Err(send_error(e)),
            };
            if page.messages.iter().any(|m| self.is_delivery(m, delivery.id)) {
                return Ok(Some(true));
            }
            match page.response_metadata.and_then(|m| m.next_cursor).filter(|c| !c.is_empty()) {
                Some(cursor) => {
                    params.retain(|(k, _)| *k != "cursor");
                    params.push(("cursor", Some(cursor)));
                }
                None => return Ok(Some(false)),
            }
        }
        Ok(None) // more messages than we read: not sure
    }

    fn is_delivery(&self, message: &serde_json::Value, id: i64) -> bool {
        let metadata = &message["metadata"];
        let payload_id = &metadata["event_payload"]["outbox_id"];
        let same_id = payload_id.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| payload_id.as_i64()) == Some(id);
        let ours = match (&self.bot_user, message["user"].as_str()) {
            (Some(me), Some(author)) => me == author,
            _ => true,
        };
        metadata["event_type"] == OUTBOX_EVENT && same_id && ours
    }

    /// Slack's upload flow: ask for an upload URL, send the bytes there, then share the file in
    /// the message's thread.
    async fn upload(&self, channel: &str, thread: &SlackTs, file: &Attachment) -> Result<(), SlackClientError> {
        let session = self.client.open_session(&self.token);
        let target = session.get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(file.filename.clone(), file.bytes.len())).await?;
        let content_type = if file.filename.ends_with(".png") { "image/png" } else { "application/octet-stream" };
        session.files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(target.upload_url, file.bytes.clone(), content_type.into())).await?;
        let shared = SlackApiFilesComplete::new(target.file_id).with_title(file.filename.clone());
        let req = SlackApiFilesCompleteUploadExternalRequest::new(vec![shared]).with_channel_id(channel.into()).with_thread_ts(thread.clone());
        session.files_complete_upload_external(&req).await.map(drop)
    }
}

/// chat.postMessage's answer, read loosely (the echoed message carries our metadata).
#[derive(Debug, serde::Deserialize)]
struct PostedMessage {
    ts: SlackTs,
}

/// Slack errors that no retry can fix.
const PERMANENT: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "user_not_in_channel",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
];

/// Errors of a look for an earlier attempt after which the look is skipped, not retried: posting
/// may still work (a missing history scope), or will fail on its own.
const CANNOT_LOOK: &[&str] = &["missing_scope", "not_in_channel", "channel_not_found", "thread_not_found", "not_allowed_token_type"];

/// An error in one line without the response body (which may hold people's messages).
fn short(e: &SlackClientError) -> String {
    match e {
        SlackClientError::ApiError(api) => format!("Slack API error: {}", api.code),
        SlackClientError::HttpError(h) => format!("Slack answered HTTP {}", h.status_code.as_u16()),
        SlackClientError::ProtocolError(p) => {
            format!("Slack's answer could not be read (line {}, column {})", p.json_error.line(), p.json_error.column())
        }
        SlackClientError::RateLimitError(_) => "Slack rate limit (429)".into(),
        other => format!("Slack request failed: {other}"),
    }
}

fn send_error(e: SlackClientError) -> SendError {
    let message = short(&e);
    match e {
        SlackClientError::RateLimitError(r) => {
            SendError::rate_limited(message, r.retry_after.map(|d| Duration::milliseconds(d.as_millis() as i64)).unwrap_or(Duration::seconds(1)))
        }
        SlackClientError::ApiError(api) if api.code == "ratelimited" => SendError::rate_limited(message, Duration::seconds(1)),
        SlackClientError::ApiError(api) if PERMANENT.contains(&api.code.as_str()) => SendError::permanent(message),
        // A 4xx (an expired response_url, a malformed request) fails the same way again.
        SlackClientError::HttpError(h) if h.status_code.is_client_error() && ![408, 429].contains(&h.status_code.as_u16()) => {
            SendError::permanent(message)
        }
        // The rest (a 5xx, a reset connection, an internal_error) may have reached Slack.
        _ => SendError::retryable(message),
    }
}

impl PlatformSink for SlackSink {
    const PLATFORM: &'static str = super::events::PLATFORM;

    /// `delivery` (the outbox id) goes into a post's metadata.
    async fn post(&self, delivery: Option<i64>, action: &Action, now: DateTime<Utc>) -> Result<Option<String>, SendError> {
        let target = self.target(action);
        let (key, paced) = target.limit_key();
        self.limits().take(&key, paced, now);
        let sent = self.call(&target, delivery, action).await.map_err(send_error);
        if let Err(SendError { retry_after: Some(wait), .. }) = &sent {
            self.limits().refused(&key, now + *wait);
        }
        sent
    }

    fn ready_at(&self, action: &Action, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (key, paced) = self.target(action).limit_key();
        self.limits().ready_at(&key, paced, now)
    }

    async fn find_earlier(&self, delivery: &Delivery<'_>, _now: DateTime<Utc>) -> Result<Option<bool>, SendError> {
        self.look_for(delivery).await
    }
}
