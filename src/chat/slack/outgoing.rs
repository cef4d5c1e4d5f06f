//! The core's actions as Slack Web API calls: threads, Block Kit and buttons, ephemeral replies.

use super::events::{actions, split_message_id};
use super::format::markdown_to_mrkdwn;
use crate::chat::{ChatSink, SendError};
use crate::domain::message::{Action, ActionKind, Attachment};
use chrono::Duration;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::sync::Arc;

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

/// Sends actions through the Web API as the bot.
pub struct SlackSink {
    client: Arc<WebClient>,
    token: SlackApiToken,
    /// Replaces the core's moderators channel name with a Slack channel id, when configured.
    moderators_channel: Option<String>,
}

impl SlackSink {
    pub fn new(client: Arc<WebClient>, token: SlackApiToken, moderators_channel: Option<String>) -> Self {
        SlackSink { client, token, moderators_channel }
    }

    async fn post(&self, action: &Action) -> Result<(), SlackClientError> {
        let session = self.client.open_session(&self.token);
        let mut channel = action.channel.clone();
        if action.kind == ActionKind::NotifyModerators
            && let Some(id) = &self.moderators_channel
        {
            channel = id.clone();
        }
        // Replies go in the question's thread; moderator notices start their own.
        let thread_ts = match action.kind {
            ActionKind::NotifyModerators => None,
            _ => action.in_reply_to.as_deref().and_then(split_message_id).map(|(_, ts)| SlackTs::new(ts.into())),
        };
        let content = content_for(action);
        if let (true, Some(url)) = (action.ephemeral, action.reply_url.as_deref().and_then(|u| url::Url::parse(u).ok())) {
            // Works even where the bot is not a channel member, unlike chat.postEphemeral.
            return self.client.post_webhook_message(&url, &SlackApiPostWebhookMessageRequest::new(content)).await.map(|_| ());
        }
        match (&action.recipient, action.ephemeral) {
            (Some(user), true) => {
                let mut req = SlackApiChatPostEphemeralRequest::new(channel.into(), user.clone().into(), content);
                req.thread_ts = thread_ts;
                session.chat_post_ephemeral(&req).await.map(|_| ())
            }
            _ => {
                let mut req = SlackApiChatPostMessageRequest::new(channel.clone().into(), content);
                req.thread_ts = thread_ts;
                let posted = session.chat_post_message(&req).await?;
                if let Some(file) = &action.attachment {
                    // The text is out; a chart that fails to upload must not make the outbox
                    // post the text again, so its failure is only logged.
                    if let Err(e) = self.upload(&channel, &posted.ts, file).await {
                        tracing::warn!(error = %e, "uploading the digest chart to Slack failed; the digest was posted without it");
                    }
                }
                Ok(())
            }
        }
    }

    /// Slack's upload flow: ask for an upload URL, send the bytes there, then share the file in
    /// the message's thread.
    async fn upload(&self, channel: &str, thread: &SlackTs, file: &Attachment) -> Result<(), SlackClientError> {
        let session = self.client.open_session(&self.token);
        let target = session.get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(file.filename.clone(), file.bytes.len())).await?;
        let content_type = if file.filename.ends_with(".png") { "image/png" } else { "application/octet-stream" };
        session
            .files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(target.upload_url, file.bytes.clone(), content_type.into()))
            .await?;
        let shared = SlackApiFilesComplete::new(target.file_id).with_title(file.filename.clone());
        let req = SlackApiFilesCompleteUploadExternalRequest::new(vec![shared]).with_channel_id(channel.into()).with_thread_ts(thread.clone());
        session.files_complete_upload_external(&req).await.map(drop)
    }
}

/// Slack errors that no retry can fix.
const PERMANENT: &[&str] = &[
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive", "token_revoked",
    "missing_scope", "msg_too_long", "no_text", "invalid_blocks", "user_not_in_channel",
];

fn send_error(e: SlackClientError) -> SendError {
    match e {
        SlackClientError::RateLimitError(r) => SendError {
            message: "Slack rate limit (429)".into(),
            retry_after: Some(r.retry_after.map(|d| Duration::milliseconds(d.as_millis() as i64)).unwrap_or(Duration::seconds(1))),
            permanent: false,
        },
        SlackClientError::ApiError(api) => SendError {
            permanent: PERMANENT.contains(&api.code.as_str()),
            message: format!("Slack API error: {}", api.code),
            retry_after: None,
        },
        other => SendError { message: format!("Slack request failed: {other}"), retry_after: None, permanent: false },
    }
}

impl ChatSink for SlackSink {
    fn platform(&self) -> &str {
        super::events::PLATFORM
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        self.post(action).await.map_err(send_error)
    }
}
