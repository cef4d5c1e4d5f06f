//! Interactions (slash commands, the context menu, buttons) to the core's `Incoming` events.
//! Private replies go back through the interaction's token: `reply_url` is `interaction:<token>`.

use super::commands::command_line;
use super::events::{DiscordContext, author, strip_mention};
use crate::domain::message::{Incoming, IncomingKind};
use chrono::{DateTime, Utc};
use serenity::model::application::Interaction;
use serenity::model::guild::Member;
use serenity::model::id::InteractionId;
use serenity::model::user::User;

/// Button custom ids, shared with the components the bot sends: `<prefix><question or ticket>`.
pub mod buttons {
    pub const HELPFUL: &str = "supportbot:helpful:";
    pub const NOT_HELPFUL: &str = "supportbot:not_helpful:";
    pub const ASSIGN_ME: &str = "supportbot:assign_me:";
    pub const RESOLVE: &str = "supportbot:resolve:";
    pub const CLOSE: &str = "supportbot:close:";
    pub const SOLVED: &str = "supportbot:solved:";
    pub const UNSOLVED: &str = "supportbot:unsolved:";
}

const REPLY_URL_PREFIX: &str = "interaction:";

/// The interaction token a private reply should go back through, if any.
pub fn interaction_token(reply_url: Option<&str>) -> Option<&str> {
    reply_url?.strip_prefix(REPLY_URL_PREFIX)
}

/// How the interaction is acknowledged before the core works on it (Discord allows 3 seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// "Thinking...", visible only to the user; the reply replaces it (commands).
    Defer,
    /// Nothing visible; the click is accepted (buttons).
    DeferUpdate,
}

/// A mapped interaction: the event for the core, and how to acknowledge it.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub incoming: Incoming,
    pub ack: Ack,
    pub id: InteractionId,
    pub token: String,
    /// The message a context-menu command acts on, as Discord sent it: to be remembered
    /// (`Bot::remember`) first, since the bot may never have received it.
    pub target: Option<Incoming>,
}

fn who(ctx: &DiscordContext, member: Option<&Member>, user: &User) -> crate::domain::message::Author {
    // Outside a server (a DM) nobody is a moderator; inside, Discord sends the member's
    // permissions in the channel, which is what the server-side re-check reads.
    let is_moderator = member.is_some_and(|m| ctx.is_moderator(&m.roles, m.permissions));
    author(member.map(|m| &m.user).unwrap_or(user), is_moderator)
}

/// Maps INTERACTION_CREATE; None for interactions that are not the bot's.
pub fn map_interaction(interaction: &Interaction, ctx: &DiscordContext, now: DateTime<Utc>) -> Option<Mapped> {
    let mut target = None;
    let (id, token, channel, author, kind, ack) = match interaction {
        Interaction::Command(c) => {
            let text = command_line(&c.data);
            target = c.data.target_id.and_then(|t| c.data.resolved.messages.get(&t.to_message_id())).map(|m| {
                let kind = IncomingKind::Message { id: m.id.to_string(), text: strip_mention(&m.content, ctx.bot_user_id), reply_to: None };
                ctx.incoming(m.id.to_string(), *m.timestamp, m.channel_id, author(&m.author, false), kind)
            });
            (c.id, &c.token, c.channel_id, who(ctx, c.member.as_deref(), &c.user), IncomingKind::Command { text }, Ack::Defer)
        }
        Interaction::Component(c) => {
            let custom = c.data.custom_id.as_str();
            let kind = if let Some(q) = custom.strip_prefix(buttons::HELPFUL) {
                IncomingKind::Feedback { on: q.into(), helpful: true, comment: None }
            } else if let Some(q) = custom.strip_prefix(buttons::NOT_HELPFUL) {
                IncomingKind::Feedback { on: q.into(), helpful: false, comment: None }
            } else if let Some(t) = custom.strip_prefix(buttons::ASSIGN_ME) {
                IncomingKind::Command { text: format!("ticket assign {t} me") }
            } else if let Some(t) = custom.strip_prefix(buttons::RESOLVE) {
                IncomingKind::Command { text: format!("ticket resolve {t}") }
            } else if let Some(t) = custom.strip_prefix(buttons::CLOSE) {
                IncomingKind::Command { text: format!("ticket close {t}") }
            } else if let Some(t) = custom.strip_prefix(buttons::SOLVED) {
                IncomingKind::Command { text: format!("solved {t}") }
            } else if let Some(t) = custom.strip_prefix(buttons::UNSOLVED) {
                IncomingKind::Command { text: format!("unsolved {t}") }
            } else {
                return None;
            };
            (c.id, &c.token, c.channel_id, who(ctx, c.member.as_ref(), &c.user), kind, Ack::DeferUpdate)
        }
        _ => return None,
    };
    let mut incoming = ctx.incoming(format!("interaction:{id}"), now, channel, author, kind);
    incoming.reply_url = Some(format!("{REPLY_URL_PREFIX}{token}"));
    Some(Mapped { incoming, ack, id, token: token.clone(), target })
}
