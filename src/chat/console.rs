//! The console channel: one person chatting with the bot in a terminal (or a test's buffer).
//! Plain lines are messages, `/...` lines are commands, `/helpful` and `/not-helpful [comment]`
//! rate the last answer, `/quit` leaves.
//!
//! Messages are numbered in the prompt (`[3] ann> `): `/escalate 3 urgent` and
//! `/not-a-question 3` name the third message of the session. Its stored id stays unique
//! across sessions sharing a database.

use super::{WriterSink, deliver_pending};
use crate::bot::Bot;
use crate::domain::inert::plain;
use crate::domain::message::{Action, ActionKind, Author, Incoming, IncomingKind};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite};

pub const PLATFORM: &str = "console";
pub const CHANNEL: &str = "console";

/// Who is typing.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub name: String,
    pub moderator: bool,
}

/// "bot> first line" with following lines indented under it, as plain text (a terminal
/// renders no Markdown, so escapes would only show as backslashes).
fn format_action(action: &Action) -> String {
    let speaker = match action.kind {
        ActionKind::NotifyModerators => format!("[#{}] ", action.channel),
        ActionKind::Mirror => format!("[#{} thread] ", action.channel),
        _ => "bot> ".to_string(),
    };
    let indent = " ".repeat(speaker.chars().count());
    let mut out = String::new();
    for (i, line) in plain(&action.text).lines().enumerate() {
        out.push_str(if i == 0 { &speaker } else { &indent });
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The messages typed this session, by their number in the prompt.
#[derive(Default)]
struct Numbered {
    ids: Vec<String>,
}

impl Numbered {
    fn next(&self) -> usize {
        self.ids.len() + 1
    }

    /// `/escalate 3 urgent` → `/escalate c1733…-7 urgent`: the argument of a command that names a
    /// message (`domain::command::message_word`), given as a number of this session's messages,
    /// becomes that message's id.
    fn resolve(&self, command: &str) -> String {
        let mut words: Vec<&str> = command.split_whitespace().collect();
        let Some(at) = crate::domain::command::message_word(&words) else {
            return command.to_string();
        };
        match words.get(at).and_then(|w| w.parse::<usize>().ok()).and_then(|n| n.checked_sub(1)).and_then(|i| self.ids.get(i)) {
            Some(id) => {
                words[at] = id.as_str();
                words.join(" ")
            }
            None => command.to_string(),
        }
    }
}

/// What one console line means.
fn interpret(line: &str, last_answered: Option<&str>) -> Option<IncomingKind> {
    let trimmed = line.trim();
    let (head, rest) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
    let comment = Some(rest.trim()).filter(|c| !c.is_empty()).map(String::from);
    let on = last_answered.unwrap_or_default().to_string();
    match head.to_ascii_lowercase().as_str() {
        "" => None,
        "/helpful" => Some(IncomingKind::Feedback { on, helpful: true, comment }),
        "/not-helpful" | "/unhelpful" => Some(IncomingKind::Feedback { on, helpful: false, comment }),
        _ if trimmed.starts_with('/') => Some(IncomingKind::Command { text: trimmed.to_string() }),
        _ => None,
    }
}

/// Runs the console until the input ends or the user types `/quit`.
/// `clock` is the time source (the wall clock in the binary, a fixed one in tests).
pub async fn run<R, W>(bot: &Bot, input: R, output: W, user: ConsoleUser, interactive: bool, clock: impl Fn() -> DateTime<Utc>) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send,
{
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let sink = WriterSink::new(PLATFORM, output, format_action);
    let author = Author { id: user.name.clone(), name: user.name.clone(), is_moderator: user.moderator };
    let mut lines = input.lines();
    // Time passes while nobody types: settle due questions every few seconds.
    let period = std::time::Duration::from_secs(5);
    let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut last_answered: Option<String> = None;
    let mut numbered = Numbered::default();
    if interactive {
        sink.write_text("Type a question, /help for commands, /quit to leave. Messages are numbered: /escalate 3 names [3].\n").await?;
    }
    let mut prompt = true;
    loop {
        if interactive && prompt {
            sink.write_text(&format!("[{}] {}> ", numbered.next(), user.name)).await?;
        }
        let line = tokio::select! {
            line = lines.next_line() => line?,
            _ = timer.tick(), if interactive => {
                // Only a fresh prompt if something was printed under the old one.
                prompt = settle(bot, &sink, clock()).await > 0;
                if prompt {
                    sink.write_text("\n").await?;
                }
                continue;
            }
        };
        prompt = true;
        let Some(line) = line else { break };
        if matches!(line.trim(), "/quit" | "/exit") {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let now = clock();
        settle(bot, &sink, now).await; // time passed while the user typed
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let event_id = format!("c{}-{seq}", now.timestamp_millis());
        let kind = match interpret(&line, last_answered.as_deref()) {
            Some(IncomingKind::Command { text }) => IncomingKind::Command { text: numbered.resolve(&text) },
            Some(other) => other,
            None => {
                numbered.ids.push(event_id.clone());
                IncomingKind::Message { id: event_id.clone(), text: line.clone(), reply_to: None }
            }
        };
        let event = Incoming { platform: PLATFORM.into(), event_id, at: now, channel: CHANNEL.into(), author: author.clone(), kind, reply_url: None };
        match bot.receive(&event, now).await {
            Ok(actions) => {
                if let Some(a) = actions.iter().find(|a| a.kind == ActionKind::Answer) {
                    last_answered = a.in_reply_to.clone();
                }
            }
            Err(e) => sink.write_text(&format!("error: {e} (your message is kept and will be handled when this is fixed)\n")).await?,
        }
        settle(bot, &sink, now).await;
    }
    Ok(())
}

/// Lets time pass for the bot and prints whatever is due; returns how many replies it printed.
async fn settle<W: AsyncWrite + Unpin + Send>(bot: &Bot, sink: &WriterSink<W>, now: DateTime<Utc>) -> usize {
    if let Err(e) = bot.tick(now).await {
        tracing::error!(error = %crate::telemetry::chain(&e), "settling unanswered questions failed");
    }
    deliver_pending(&bot.outbox(), sink, now).await.unwrap_or_else(|e| {
        tracing::error!(error = %crate::telemetry::chain(&e), "delivering replies failed");
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_lines_rate_the_last_answer() {
        assert_eq!(
            interpret("/not-helpful still broken", Some("c1")),
            Some(IncomingKind::Feedback { on: "c1".into(), helpful: false, comment: Some("still broken".into()) })
        );
        assert_eq!(interpret("/helpful", None), Some(IncomingKind::Feedback { on: "".into(), helpful: true, comment: None }));
        assert_eq!(interpret("/ticket list", None), Some(IncomingKind::Command { text: "/ticket list".into() }));
        assert_eq!(interpret("how do I install it?", None), None);
    }

    #[test]
    fn a_message_number_in_a_command_names_that_message() {
        let numbered = Numbered { ids: vec!["c1-0".into(), "c2-1".into(), "c3-2".into()] };
        assert_eq!(numbered.resolve("/escalate 3 urgent"), "/escalate c3-2 urgent");
        assert_eq!(numbered.resolve("/not-a-question 1"), "/not-a-question c1-0");
        assert_eq!(numbered.resolve("/escalate 4 urgent"), "/escalate 4 urgent", "no fourth message: left for the bot to refuse");
        assert_eq!(numbered.resolve("/not-a-question #3"), "/not-a-question #3", "#3 is a ticket");
        assert_eq!(numbered.resolve("/ticket show 3"), "/ticket show 3");
        assert_eq!(numbered.next(), 4);
    }

    #[test]
    fn multi_line_replies_are_indented_under_the_speaker() {
        let a = Action::new(ActionKind::Reply, "console", "one\ntwo");
        assert_eq!(format_action(&a), "bot> one\n     two\n");
    }

    #[test]
    fn escaped_user_text_shows_as_it_was_written() {
        let a = Action::new(ActionKind::NotifyModerators, "mods", "New ticket #1:\n> \\[x\\]\\(\\!here\\) @\u{200B}here `a\\*`");
        assert_eq!(format_action(&a), "[#mods] New ticket #1:\n        > [x](!here) @here `a\\*`\n");
    }
}
