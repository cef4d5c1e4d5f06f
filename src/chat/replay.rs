//! Replay: feeds a JSONL conversation through the bot, with the events' own times as the clock,
//! and writes every action the bot takes as one JSON line.

use super::{WriterSink, deliver_pending};
use crate::bot::Bot;
use crate::domain::message::{Action, ActionKind, Author, Incoming, IncomingKind};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite};

pub const PLATFORM: &str = "replay";

/// One input line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    id: String,
    at: DateTime<Utc>,
    channel: String,
    user: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    moderator: bool,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    feedback: Option<Vote>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Vote {
    Helpful,
    NotHelpful,
}

impl Line {
    fn into_incoming(self) -> Result<Incoming, String> {
        let kind = match (self.text, self.feedback) {
            (Some(_), Some(_)) => return Err("has both `text` and `feedback`".into()),
            (None, None) => return Err("needs `text` or `feedback`".into()),
            (None, Some(vote)) => IncomingKind::Feedback {
                on: self.on.ok_or("`feedback` needs `on`, the id of the answered question")?,
                helpful: matches!(vote, Vote::Helpful),
                comment: self.comment,
            },
            (Some(text), None) if text.trim_start().starts_with('/') => IncomingKind::Command { text },
            (Some(text), None) => IncomingKind::Message { id: self.id.clone(), text, reply_to: self.reply_to },
        };
        Ok(Incoming {
            platform: PLATFORM.into(),
            event_id: self.id,
            at: self.at,
            channel: self.channel,
            author: Author { id: self.user.clone(), name: self.user, is_moderator: self.moderator },
            kind,
            reply_url: None,
        })
    }
}

/// One JSON object a line, its text as plain text (escapes resolved, as the console shows it).
fn json_line(action: &Action) -> String {
    let shown = Action { text: crate::domain::inert::plain(&action.text), ..action.clone() };
    let mut line = serde_json::to_string(&shown).expect("actions always serialize");
    line.push('\n');
    line
}

/// Counts for the summary line on stderr.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub events: usize,
    pub malformed: usize,
    pub actions: usize,
}

/// Replays `input`, writing actions to `output`.
pub async fn run<R, W>(bot: &Bot, input: R, output: W) -> anyhow::Result<ReplaySummary>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send,
{
    let sink = WriterSink::new(PLATFORM, output, json_line);
    let mut summary = ReplaySummary::default();
    let mut lines = input.lines();
    let mut line_no = 0usize;
    let mut clock: Option<DateTime<Utc>> = None;
    while let Some(raw) = lines.next_line().await? {
        line_no += 1;
        if raw.trim().is_empty() {
            continue;
        }
        let event = serde_json::from_str::<Line>(&raw).map_err(|e| e.to_string()).and_then(Line::into_incoming);
        let event = match event {
            Ok(event) => event,
            Err(problem) => {
                summary.malformed += 1;
                let text = format!("line {line_no}: {problem}");
                sink.write_action(&Action::new(ActionKind::Error, "", text)).await?;
                summary.actions += 1;
                continue;
            }
        };
        summary.events += 1;
        // Time passes up to this event before it happens.
        summary.actions += advance(bot, &sink, event.at).await?;
        bot.receive(&event, event.at).await?;
        summary.actions += deliver_pending(&bot.outbox(), &sink, event.at).await?;
        clock = Some(clock.map_or(event.at, |c| c.max(event.at)));
    }
    if let Some(last) = clock {
        let after_window = last + bot.config().unanswered_after + Duration::milliseconds(1);
        summary.actions += advance(bot, &sink, after_window).await?;
    }
    Ok(summary)
}

async fn advance<W: AsyncWrite + Unpin + Send>(bot: &Bot, sink: &WriterSink<W>, now: DateTime<Utc>) -> anyhow::Result<usize> {
    bot.tick(now).await?;
    Ok(deliver_pending(&bot.outbox(), sink, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replayed_text_shows_user_text_as_it_was_written() {
        let a = Action::new(ActionKind::Reply, "help", "> \\[x\\]\\(\\!here\\) @\u{200B}here `a\\*`");
        let line: serde_json::Value = serde_json::from_str(&json_line(&a)).unwrap();
        assert_eq!(line["text"], "> [x](!here) @here `a\\*`");
    }
}
