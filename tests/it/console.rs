//! The console adapter, driven end to end with scripted input.

use crate::helpers::*;
use supportbot::chat::console::{self, ConsoleUser};

async fn chat(bot: &supportbot::bot::Bot, name: &str, moderator: bool, script: &str, clock: impl Fn() -> chrono::DateTime<chrono::Utc>) -> String {
    let mut out = Vec::new();
    console::run(bot, script.as_bytes(), &mut out, ConsoleUser { name: name.into(), moderator }, false, clock).await.unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn a_console_conversation_answers_rates_and_ignores_chatter() {
    let (bot, _db) = spawn_bot().await;
    let out = chat(
        &bot,
        "ann",
        false,
        "hello there\nhow do I reset my password?\n/not-helpful the link never arrives\n/ticket list\n/quit\nhow do I install the bot?\n",
        t0,
    )
    .await;
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("bot>") || l.starts_with("[#")).collect();
    assert!(lines[0].starts_with("bot> Use the *Forgot password*"), "{out}");
    assert!(out.contains("reset-password") && out.contains("/helpful"), "{out}");
    assert!(out.contains("opened ticket #1"), "{out}");
    assert!(out.contains("[#mods] New ticket #1") && out.contains("The asker added: the link never arrives"), "{out}");
    assert!(out.contains("for moderators only"), "{out}");
    assert!(!out.contains("cargo install"), "input after /quit is not read: {out}");
}

#[tokio::test]
async fn a_console_moderator_manages_tickets() {
    let (bot, _db) = spawn_bot().await;
    chat(&bot, "ann", false, "why does the arm64 build crash?\n", t0).await;
    // Later, past the unanswered window, a moderator opens the console.
    let out = chat(&bot, "mia", true, "/ticket list\n/ticket assign 1 me\n/ticket resolve 1 use the armv8 build\n", || at(20)).await;
    assert!(out.contains("[#mods] New ticket #1"), "the settled question is announced: {out}");
    assert!(out.contains("#1 [open, normal] ann"), "{out}");
    assert!(out.contains("assigned to mia") && out.contains("Resolution: use the armv8 build"), "{out}");
}

#[tokio::test]
async fn rating_with_nothing_answered_is_explained() {
    let (bot, _db) = spawn_bot().await;
    let out = chat(&bot, "ann", false, "/helpful\n", t0).await;
    assert!(out.contains("no answer of mine to rate"), "{out}");
}

#[tokio::test]
async fn a_console_moderator_escalates_a_message_by_its_number() {
    let (bot, _db) = spawn_bot().await;
    let out = chat(&bot, "mia", true, "hello there\nthe arm64 image segfaults on boot\n/escalate 2 urgent\n/escalate 7 urgent\n", t0).await;
    assert!(out.contains("[#mods] New ticket #1"), "{out}");
    let t = bot.store().ticket(1).await.unwrap().unwrap();
    assert_eq!(t.question, "the arm64 image segfaults on boot", "the second message, not the text \"2\"");
    assert_eq!(t.priority, supportbot::domain::ticket::Priority::Urgent);
    assert!(out.contains("no message `7`"), "{out}");
}
