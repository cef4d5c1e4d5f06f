//! Discord gateway events (as serenity models them) to the core's `Incoming` events.
//! Message ids are Discord's snowflakes: unique across channels, so they are used as they are.

use crate::domain::message::{Author, Incoming, IncomingKind};
use chrono::{DateTime, Utc};
use serenity::model::channel::{Message, MessageType, Reaction, ReactionType};
use serenity::model::event::MessageUpdateEvent;
use serenity::model::id::{ChannelId, MessageId, RoleId, UserId};
use serenity::model::permissions::Permissions;
use serenity::model::user::User;
use std::collections::HashSet;

pub const PLATFORM: &str = "discord";

/// What the mapping needs to know about this bot and its servers.
#[derive(Debug, Clone, Default)]
pub struct DiscordContext {
    /// The bot's own user id (from READY): its messages are ignored.
    pub bot_user_id: Option<UserId>,
    /// Watched channel ids; empty means every channel the bot can read.
    pub channels: HashSet<ChannelId>,
    /// Forum channels: each new post in one is a question.
    pub forums: HashSet<ChannelId>,
    /// The moderators' channel: its threads (a ticket's mirror) are watched even when the
    /// channel is not one of `channels`.
    pub moderators_channel: Option<ChannelId>,
    pub moderator_roles: HashSet<RoleId>,
    /// A unicode emoji ("🎫") or a custom emoji's name.
    pub escalate_reaction: String,
    /// The same, for "not a question".
    pub not_question_reaction: String,
}

/// Where a message was posted, when it was posted in a thread (or a forum post).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// The channel the thread belongs to.
    pub parent: Option<ChannelId>,
    /// The thread's title (a forum post's title).
    pub title: Option<String>,
}

impl DiscordContext {
    /// Moderators hold Manage Messages (or Administrator) or a configured moderator role.
    pub fn is_moderator(&self, roles: &[RoleId], permissions: Option<Permissions>) -> bool {
        let by_permission = permissions.is_some_and(|p| p.contains(Permissions::MANAGE_MESSAGES) || p.contains(Permissions::ADMINISTRATOR));
        by_permission || roles.iter().any(|r| self.moderator_roles.contains(r))
    }

    pub fn watches(&self, channel: ChannelId, place: &Place) -> bool {
        self.channels.is_empty()
            || self.channels.contains(&channel)
            || place.parent.is_some_and(|p| self.channels.contains(&p) || self.forums.contains(&p) || self.moderators_channel == Some(p))
    }

    fn is_self(&self, user: UserId) -> bool {
        self.bot_user_id == Some(user)
    }

    pub(super) fn incoming(&self, event_id: String, at: DateTime<Utc>, channel: ChannelId, author: Author, kind: IncomingKind) -> Incoming {
        Incoming { platform: PLATFORM.into(), event_id, at, channel: channel.to_string(), author, kind, reply_url: None }
    }
}

pub fn author(user: &User, is_moderator: bool) -> Author {
    Author { id: user.id.to_string(), name: user.name.clone(), is_moderator }
}

/// Removes the bot's own mention so "@supportbot how do I ..." reads as the question.
pub(super) fn strip_mention(text: &str, bot: Option<UserId>) -> String {
    match bot {
        Some(id) => text.replace(&format!("<@{id}>"), "").replace(&format!("<@!{id}>"), "").trim().to_string(),
        None => text.trim().to_string(),
    }
}

/// Maps MESSAGE_CREATE (live or fetched to catch up). None for what the bot ignores: bots,
/// itself, webhooks, system messages, unwatched channels. The event id is the message id, so a
/// message seen live and again while catching up is handled once.
pub fn map_message(msg: &Message, place: &Place, ctx: &DiscordContext, permissions: Option<Permissions>) -> Option<Incoming> {
    if msg.author.bot || ctx.is_self(msg.author.id) || msg.webhook_id.is_some() {
        return None;
    }
    if !matches!(msg.kind, MessageType::Regular | MessageType::InlineReply) || !ctx.watches(msg.channel_id, place) {
        return None;
    }
    let roles = msg.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default();
    let who = author(&msg.author, ctx.is_moderator(roles, permissions));
    let text = strip_mention(&msg.content, ctx.bot_user_id);
    let at = *msg.timestamp;
    // A forum post's first message has the post's (thread's) id: the post itself is the question.
    let is_forum_post = place.parent.is_some_and(|p| ctx.forums.contains(&p)) && msg.id.get() == msg.channel_id.get();
    let kind = if is_forum_post {
        let question = match &place.title {
            Some(title) if !text.is_empty() => format!("{title}\n{text}"),
            Some(title) => title.clone(),
            None => text,
        };
        IncomingKind::Command { text: format!("ask {question}") }
    } else {
        // In a thread, the thread's id is its first message's id: the conversation's question.
        let reply_to = msg
            .message_reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|m| m.to_string())
            .or_else(|| place.parent.map(|_| msg.channel_id.to_string()));
        IncomingKind::Message { id: msg.id.to_string(), text, reply_to }
    };
    Some(ctx.incoming(msg.id.to_string(), at, msg.channel_id, who, kind))
}

/// Maps MESSAGE_UPDATE: a changed text updates the stored copy.
pub fn map_edit(ev: &MessageUpdateEvent, ctx: &DiscordContext, now: DateTime<Utc>) -> Option<Incoming> {
    let text = ev.content.as_ref()?;
    let user = ev.author.as_ref()?;
    if user.bot || ctx.is_self(user.id) {
        return None;
    }
    let edited = ev.edited_timestamp.map(|t| t.timestamp_millis()).unwrap_or_else(|| now.timestamp_millis());
    let kind = IncomingKind::Edited { id: ev.id.to_string(), text: strip_mention(text, ctx.bot_user_id) };
    Some(ctx.incoming(format!("edit:{}:{edited}", ev.id), now, ev.channel_id, author(user, false), kind))
}

/// Maps MESSAGE_DELETE: the stored copy is removed.
pub fn map_delete(channel: ChannelId, message: MessageId, now: DateTime<Utc>) -> Incoming {
    let nobody = Author { id: String::new(), name: String::new(), is_moderator: false };
    Incoming {
        platform: PLATFORM.into(),
        event_id: format!("delete:{message}"),
        at: now,
        channel: channel.to_string(),
        author: nobody,
        kind: IncomingKind::Deleted { id: message.to_string() },
        reply_url: None,
    }
}

fn emoji_matches(emoji: &ReactionType, wanted: &str) -> bool {
    match emoji {
        ReactionType::Unicode(s) => s.trim_end_matches('\u{fe0f}') == wanted.trim_end_matches('\u{fe0f}'),
        ReactionType::Custom { name, .. } => name.as_deref() == Some(wanted.trim_matches(':')),
        _ => false,
    }
}

/// Maps MESSAGE_REACTION_ADD: a moderator's escalation emoji turns the message into a ticket,
/// the "not a question" emoji dismisses it (and teaches the detector).
/// `permissions` are the reactor's server-wide permissions, when known.
pub fn map_reaction(r: &Reaction, ctx: &DiscordContext, permissions: Option<Permissions>, now: DateTime<Utc>) -> Option<Incoming> {
    let user = r.user_id?;
    let command = if emoji_matches(&r.emoji, &ctx.escalate_reaction) {
        "escalate"
    } else if emoji_matches(&r.emoji, &ctx.not_question_reaction) {
        "not-a-question"
    } else {
        return None;
    };
    if ctx.is_self(user) {
        return None;
    }
    let member = r.member.as_ref();
    let roles = member.map(|m| m.roles.as_slice()).unwrap_or_default();
    if !ctx.is_moderator(roles, permissions) {
        return None;
    }
    let name = member.map(|m| m.user.name.clone()).unwrap_or_else(|| user.to_string());
    let who = Author { id: user.to_string(), name, is_moderator: true };
    let kind = IncomingKind::Command { text: format!("{command} {}", r.message_id) };
    Some(ctx.incoming(format!("reaction:{command}:{}:{user}", r.message_id), now, r.channel_id, who, kind))
}
