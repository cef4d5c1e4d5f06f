//! The core's actions as Discord REST calls: replies that reference the question, buttons,
//! private replies through the interaction, and no pings unless someone decides otherwise.

use super::interactions::{buttons, interaction_token};
use crate::chat::{ChatSink, SendError};
use crate::domain::message::{Action, ActionKind};
use crate::domain::text::split_message;
use serenity::builder::{Builder, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateInteractionResponseFollowup, CreateMessage};
use serenity::http::{Http, HttpError};
use serenity::model::application::ButtonStyle;
use serenity::model::channel::{MessageReference, Nonce};
use serenity::model::id::{ChannelId, MessageId, UserId};
use std::sync::Arc;

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
        _ => return Vec::new(),
    };
    vec![CreateActionRow::Buttons(row)]
}

fn snowflake(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| *n > 0)
}

/// Sends actions through Discord's REST API as the bot.
pub struct DiscordSink {
    http: Arc<Http>,
    /// The channel id new tickets are announced in.
    moderators_channel: Option<String>,
}

impl DiscordSink {
    pub fn new(http: Arc<Http>, moderators_channel: Option<String>) -> Self {
        DiscordSink { http, moderators_channel }
    }

    fn channel_for(&self, action: &Action) -> Result<ChannelId, SendError> {
        let name = match (action.kind, &self.moderators_channel) {
            (ActionKind::NotifyModerators, Some(id)) => id.as_str(),
            _ => action.channel.as_str(),
        };
        snowflake(name).map(ChannelId::new).ok_or_else(|| SendError {
            message: format!("{name:?} is not a Discord channel id (set [discord] moderators_channel to the moderators' channel id)"),
            retry_after: None,
            permanent: true,
        })
    }

    async fn post(&self, delivery_id: Option<i64>, action: &Action) -> Result<(), SendError> {
        // Long texts (a digest) go as several messages; buttons and the file go with the last.
        let pieces = split_message(&action.text, MAX_CONTENT_CHARS);
        let last = pieces.len() - 1;
        let file = |i: usize| action.attachment.as_ref().filter(|_| i == last).map(|a| CreateAttachment::bytes(a.bytes.clone(), a.filename.clone()));
        let buttons = |i: usize| if i == last { components_for(action) } else { Vec::new() };
        if let Some(token) = interaction_token(action.reply_url.as_deref()) {
            for (i, piece) in pieces.into_iter().enumerate() {
                let mut followup =
                    CreateInteractionResponseFollowup::new().content(piece).ephemeral(action.ephemeral).allowed_mentions(no_pings()).components(buttons(i));
                if let Some(f) = file(i) {
                    followup = followup.add_file(f);
                }
                followup.execute(&self.http, (None, token)).await.map_err(send_error)?;
            }
            return Ok(());
        }
        let mut channel = self.channel_for(action)?;
        if let (true, Some(user)) = (action.ephemeral, action.recipient.as_deref().and_then(snowflake)) {
            // Outside an interaction Discord has no private replies: a direct message is the
            // closest thing.
            channel = UserId::new(user).create_dm_channel(&self.http).await.map_err(send_error)?.id;
        }
        let question = action.in_reply_to.as_deref().and_then(snowflake).filter(|_| action.kind != ActionKind::NotifyModerators && !action.ephemeral);
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut message = CreateMessage::new().content(piece).allowed_mentions(no_pings()).components(buttons(i));
            if let Some(f) = file(i) {
                message = message.add_file(f);
            }
            // The same nonce on every retry of this outbox row (and piece): if an earlier attempt
            // did reach Discord, it returns that message instead of posting a second one.
            if let Some(id) = delivery_id {
                let nonce = if last == 0 { format!("supportbot-{id}") } else { format!("supportbot-{id}-{i}") };
                message = message.nonce(Nonce::String(nonce)).enforce_nonce(true);
            }
            if let (Some(question), 0) = (question, i) {
                let mut reference = MessageReference::from((channel, MessageId::new(question)));
                reference.fail_if_not_exists = Some(false); // a deleted question still gets its answer
                message = message.reference_message(reference);
            }
            channel.send_message(&self.http, message).await.map_err(send_error)?;
        }
        Ok(())
    }
}

/// Discord errors as retryable or not. Against the real API serenity's rate limiter waits out
/// 429s itself; without it (a proxy, a fake) a 429 comes here and is retried after a pause.
fn send_error(e: serenity::Error) -> SendError {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 429 => {
            SendError { message: "Discord rate limit (429)".into(), retry_after: Some(chrono::Duration::seconds(1)), permanent: false }
        }
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            SendError {
                message: format!("Discord answered {status} (code {}): {}", r.error.code, r.error.message),
                retry_after: None,
                // 4xx (missing access, unknown channel, invalid form) will fail the same way again.
                permanent: (400..500).contains(&status) && status != 408 && status != 429,
            }
        }
        serenity::Error::Model(m) => SendError { message: format!("Discord would refuse this message: {m}"), retry_after: None, permanent: true },
        other => SendError { message: format!("Discord request failed: {other}"), retry_after: None, permanent: false },
    }
}

impl ChatSink for DiscordSink {
    fn platform(&self) -> &str {
        super::events::PLATFORM
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        self.post(None, action).await
    }

    async fn send_delivery(&self, delivery_id: i64, action: &Action) -> Result<(), SendError> {
        self.post(Some(delivery_id), action).await
    }
}
