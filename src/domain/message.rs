//! The platform-neutral vocabulary: what comes in (`Incoming`) and what the bot does (`Action`).
//! Adapters translate to and from these; nothing here knows Discord, Slack or SQL.

use super::ticket::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who sent something, as the adapter saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: String,
    pub name: String,
    /// Decided by the adapter (platform role, configured list, `--moderator`).
    #[serde(default)]
    pub is_moderator: bool,
}

/// One event from a platform, console or replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incoming {
    /// "console", "replay", "slack", "discord": routes replies and scopes ids.
    pub platform: String,
    /// The platform's own id for this event, used to drop redeliveries.
    pub event_id: String,
    pub at: DateTime<Utc>,
    pub channel: String,
    pub author: Author,
    pub kind: IncomingKind,
    /// Where the platform wants private replies to this event sent (Slack's `response_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IncomingKind {
    /// A chat message. `reply_to` is the message it answers (a reply or a thread parent).
    Message {
        id: String,
        text: String,
        reply_to: Option<String>,
    },
    /// A command line such as "ticket list" (slash commands, `/...` console lines).
    Command {
        text: String,
    },
    /// A vote on the bot's answer to the question with message id `on`.
    Feedback {
        on: String,
        helpful: bool,
        comment: Option<String>,
    },
    Edited {
        id: String,
        text: String,
    },
    Deleted {
        id: String,
    },
}

/// What kind of thing the bot does; the replay prints these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// An FAQ answer to a question (adapters add Helpful / Not helpful buttons).
    Answer,
    /// Any other reply to a person: command output, acknowledgements.
    Reply,
    TicketOpened,
    TicketUpdated,
    /// "Is this solved?" to a quiet asker, in the ticket's thread (adapters add Solved / Still
    /// need help buttons).
    Nudge,
    /// A message to the moderators' channel.
    NotifyModerators,
    /// A line of a ticket's conversation copied into the thread under its notice in the
    /// moderators' channel (no buttons).
    Mirror,
    /// A moderator command from someone who is not a moderator.
    Refused,
    /// The weekly digest.
    Digest,
    Error,
}

/// One thing the bot does. Recorded in the outbox before any adapter sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    #[serde(rename = "action")]
    pub kind: ActionKind,
    pub channel: String,
    /// The message this answers, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    pub text: String,
    /// Only the person who asked should see it (slash-command replies).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ephemeral: bool,
    /// The user the reply is for (ephemeral replies, mentions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faq_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Send a private reply here instead of into the channel (see `Incoming::reply_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_url: Option<String>,
    /// A file sent with the message (the digest's chart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// Its outbox row is blanked once it is sent or given up: what it says must not outlive its
    /// delivery (a member's data export, the confirmation of a forget). Kept in its own column,
    /// not in the payload.
    #[serde(skip)]
    pub erase_after_send: bool,
    /// The ticket thread this goes into (besides its question's own): the first message sent
    /// with a key starts the thread, the later ones go into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<ThreadKey>,
    /// The platform's id of that thread once it exists, filled in by the delivery just before
    /// sending (never stored: the `ticket_threads` table is the record).
    #[serde(skip)]
    pub in_thread: Option<String>,
}

/// Which of a ticket's own threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadPlace {
    /// Under the ticket's notice in the moderators' channel: the conversation, mirrored.
    Mirror,
    /// A private thread with the asker, for a question asked privately (Discord).
    Private,
}

impl ThreadPlace {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadPlace::Mirror => "mirror",
            ThreadPlace::Private => "private",
        }
    }

    pub fn parse(stored: &str) -> Option<ThreadPlace> {
        match stored {
            "mirror" => Some(ThreadPlace::Mirror),
            "private" => Some(ThreadPlace::Private),
            _ => None,
        }
    }
}

/// A ticket's thread, as actions name it before the platform has given it an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadKey {
    pub ticket: i64,
    pub place: ThreadPlace,
}

/// A file attached to an action; base64 in the outbox's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        STANDARD.decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Action {
    pub fn new(kind: ActionKind, channel: impl Into<String>, text: impl Into<String>) -> Self {
        Action {
            kind,
            channel: channel.into(),
            in_reply_to: None,
            text: text.into(),
            ephemeral: false,
            recipient: None,
            faq_id: None,
            confidence: None,
            ticket_id: None,
            status: None,
            reply_url: None,
            attachment: None,
            erase_after_send: false,
            thread: None,
            in_thread: None,
        }
    }

    /// See [`Action::erase_after_send`].
    pub fn erased_after_send(mut self) -> Self {
        self.erase_after_send = true;
        self
    }

    /// This action with every word of it gone: what its outbox row keeps once the member it
    /// was about asked to be forgotten (its kind, channel and ticket stay, for the records).
    pub fn removed(&self, why: &str) -> Action {
        Action { text: why.to_string(), in_reply_to: None, recipient: None, reply_url: None, attachment: None, ..self.clone() }
    }

    pub fn replying_to(mut self, message_id: Option<&str>) -> Self {
        self.in_reply_to = message_id.map(String::from);
        self
    }

    pub fn private_to(mut self, user: &str) -> Self {
        self.ephemeral = true;
        self.recipient = Some(user.to_string());
        self
    }

    /// Goes into ticket `ticket`'s thread `place` (and starts it, when it is the first).
    pub fn in_ticket_thread(mut self, ticket: i64, place: ThreadPlace) -> Self {
        self.thread = Some(ThreadKey { ticket, place });
        self
    }

    pub fn about_ticket(mut self, id: i64, status: Status) -> Self {
        self.ticket_id = Some(id);
        self.status = Some(status);
        self
    }
}
