//! Slack payloads (as slack-morphism models them) to the core's `Incoming` events.
//! Message ids are `channel:ts`: a `ts` is only unique within its channel.

use crate::domain::message::{Author, Incoming, IncomingKind};
use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;
use std::collections::HashSet;

pub const PLATFORM: &str = "slack";

/// Button action ids, shared with the blocks the bot sends.
pub mod actions {
    pub const HELPFUL: &str = "supportbot_helpful";
    pub const NOT_HELPFUL: &str = "supportbot_not_helpful";
    pub const ASSIGN_ME: &str = "supportbot_ticket_assign_me";
    pub const RESOLVE: &str = "supportbot_ticket_resolve";
    pub const CLOSE: &str = "supportbot_ticket_close";
    pub const SOLVED: &str = "supportbot_ticket_solved";
    pub const UNSOLVED: &str = "supportbot_ticket_unsolved";
}

/// What the mapping needs to know about this workspace.
#[derive(Debug, Clone, Default)]
pub struct SlackContext {
    /// The bot's own user id (from auth.test): its messages are ignored.
    pub bot_user_id: Option<String>,
    /// Watched channel ids; empty means every channel the bot is in.
    pub channels: HashSet<String>,
    /// The moderators' channel: its threads (a ticket's mirror) are watched even when the
    /// channel is not one of `channels`.
    pub moderators_channel: Option<String>,
    pub moderators: HashSet<String>,
    pub escalate_reaction: String,
    pub not_question_reaction: String,
}

pub fn message_id(channel: &str, ts: &str) -> String {
    format!("{channel}:{ts}")
}

/// Splits a message id back into (channel, ts).
pub fn split_message_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(':')
}

impl SlackContext {
    fn author(&self, user: &str) -> Author {
        Author { id: user.to_string(), name: user.to_string(), is_moderator: self.moderators.contains(user) }
    }

    fn watches(&self, channel: &str) -> bool {
        self.channels.is_empty() || self.channels.contains(channel)
    }

    fn is_self(&self, user: &str) -> bool {
        self.bot_user_id.as_deref() == Some(user)
    }

    fn incoming(&self, event_id: String, at: DateTime<Utc>, channel: &str, user: &str, kind: IncomingKind) -> Incoming {
        Incoming { platform: PLATFORM.into(), event_id, at, channel: channel.into(), author: self.author(user), kind, reply_url: None }
    }
}

/// Slack's `ts` ("1712345678.123456") as a time; `fallback` if it is not one.
fn ts_time(ts: &str, fallback: DateTime<Utc>) -> DateTime<Utc> {
    ts.parse::<f64>().ok().and_then(|s| DateTime::from_timestamp_micros((s * 1e6) as i64)).unwrap_or(fallback)
}

/// Maps an Events API callback; None for events the bot ignores (its own, other bots', unwatched
/// channels, reactions that are not an escalation by a moderator, kinds it does not handle).
pub fn map_push_event(cb: &SlackPushEventCallback, ctx: &SlackContext, now: DateTime<Utc>) -> Option<Incoming> {
    let event_id = cb.event_id.to_string();
    match &cb.event {
        SlackEventCallbackBody::Message(m) => map_message(event_id, m, ctx, now),
        SlackEventCallbackBody::AppMention(m) => {
            let channel = m.channel.to_string();
            let user = m.user.to_string();
            if !ctx.watches(&channel) || ctx.is_self(&user) {
                return None;
            }
            let ts = m.origin.ts.to_string();
            let text = strip_mention(m.content.text.as_deref().unwrap_or_default(), ctx.bot_user_id.as_deref());
            let reply_to = m.origin.thread_ts.as_ref().map(|t| t.to_string()).filter(|t| *t != ts).map(|t| message_id(&channel, &t));
            let kind = IncomingKind::Message { id: message_id(&channel, &ts), text, reply_to };
            Some(ctx.incoming(event_id, ts_time(&ts, now), &channel, &user, kind))
        }
        SlackEventCallbackBody::ReactionAdded(r) => {
            let user = r.user.to_string();
            let reaction = r.reaction.to_string();
            let command = if reaction == ctx.escalate_reaction.trim_matches(':') {
                "escalate"
            } else if reaction == ctx.not_question_reaction.trim_matches(':') {
                "not-a-question"
            } else {
                return None;
            };
            if !ctx.moderators.contains(&user) {
                return None;
            }
            let SlackReactionsItem::Message(msg) = &r.item else { return None };
            let channel = msg.origin.channel.as_ref()?.to_string();
            let text = format!("{command} {}", message_id(&channel, msg.origin.ts.as_ref()));
            Some(ctx.incoming(event_id, now, &channel, &user, IncomingKind::Command { text }))
        }
        _ => None,
    }
}

fn map_message(event_id: String, m: &SlackMessageEvent, ctx: &SlackContext, now: DateTime<Utc>) -> Option<Incoming> {
    let channel = m.origin.channel.as_ref()?.to_string();
    let in_moderators_thread = m.origin.thread_ts.is_some() && ctx.moderators_channel.as_deref() == Some(channel.as_str());
    if !ctx.watches(&channel) && !in_moderators_thread {
        return None;
    }
    match &m.subtype {
        Some(SlackMessageEventType::MessageChanged) => {
            let edited = m.message.as_ref()?;
            let user = edited.sender.user.as_ref()?.to_string();
            if edited.sender.bot_id.is_some() || ctx.is_self(&user) {
                return None;
            }
            let text = edited.content.as_ref().and_then(|c| c.text.clone()).unwrap_or_default();
            let kind = IncomingKind::Edited { id: message_id(&channel, edited.ts.as_ref()), text };
            Some(ctx.incoming(event_id, now, &channel, &user, kind))
        }
        Some(SlackMessageEventType::MessageDeleted) => {
            let deleted = m.deleted_ts.as_ref()?.to_string();
            let user = m.previous_message.as_ref().and_then(|p| p.sender.user.as_ref()).map(|u| u.to_string()).unwrap_or_default();
            Some(ctx.incoming(event_id, now, &channel, &user, IncomingKind::Deleted { id: message_id(&channel, &deleted) }))
        }
        None | Some(SlackMessageEventType::ThreadBroadcast) => {
            let user = m.sender.user.as_ref()?.to_string();
            if m.sender.bot_id.is_some() || ctx.is_self(&user) || m.hidden == Some(true) {
                return None;
            }
            let ts = m.origin.ts.to_string();
            let text = m.content.as_ref().and_then(|c| c.text.clone()).unwrap_or_default();
            let text = strip_mention(&text, ctx.bot_user_id.as_deref());
            let reply_to = m.origin.thread_ts.as_ref().map(|t| t.to_string()).filter(|t| *t != ts).map(|t| message_id(&channel, &t));
            let kind = IncomingKind::Message { id: message_id(&channel, &ts), text, reply_to };
            Some(ctx.incoming(event_id, ts_time(&ts, now), &channel, &user, kind))
        }
        // Joins, topic changes, bot messages, file shares without text...
        Some(_) => None,
    }
}

/// Removes the bot's own `<@U...>` mention so "@supportbot how do I ..." reads as the question.
fn strip_mention(text: &str, bot: Option<&str>) -> String {
    match bot {
        Some(id) => text.replace(&format!("<@{id}>"), "").trim().to_string(),
        None => text.trim().to_string(),
    }
}

/// Maps a `/support ...` slash command.
pub fn map_command(cmd: &SlackCommandEvent, ctx: &SlackContext, now: DateTime<Utc>) -> Incoming {
    let text = cmd.text.clone().unwrap_or_default();
    let kind = IncomingKind::Command { text: if text.trim().is_empty() { "help".into() } else { text } };
    let mut incoming = ctx.incoming(format!("command:{}", cmd.trigger_id), now, cmd.channel_id.as_ref(), cmd.user_id.as_ref(), kind);
    incoming.reply_url = Some(cmd.response_url.0.to_string());
    incoming
}

/// Maps a button click on one of the bot's messages; None for anything else.
pub fn map_interaction(ev: &SlackInteractionEvent, ctx: &SlackContext, now: DateTime<Utc>) -> Option<Incoming> {
    let SlackInteractionEvent::BlockActions(ba) = ev else { return None };
    let action = ba.actions.as_ref()?.first()?;
    let user = ba.user.as_ref()?.id.to_string();
    let channel = ba.channel.as_ref().map(|c| c.id.to_string()).unwrap_or_default();
    let value = action.value.clone().unwrap_or_default();
    let kind = match action.action_id.to_string().as_str() {
        actions::HELPFUL => IncomingKind::Feedback { on: value, helpful: true, comment: None },
        actions::NOT_HELPFUL => IncomingKind::Feedback { on: value, helpful: false, comment: None },
        actions::ASSIGN_ME => IncomingKind::Command { text: format!("ticket assign {value} me") },
        actions::RESOLVE => IncomingKind::Command { text: format!("ticket resolve {value}") },
        actions::CLOSE => IncomingKind::Command { text: format!("ticket close {value}") },
        actions::SOLVED => IncomingKind::Command { text: format!("solved {value}") },
        actions::UNSOLVED => IncomingKind::Command { text: format!("unsolved {value}") },
        _ => return None,
    };
    let action_ts = action.action_ts.as_ref().map(|t| t.to_string()).unwrap_or_default();
    let mut incoming = ctx.incoming(format!("action:{}:{action_ts}", ba.trigger_id), now, &channel, &user, kind);
    incoming.reply_url = ba.response_url.as_ref().map(|u| u.0.to_string());
    Some(incoming)
}
