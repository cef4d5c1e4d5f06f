//! Conversations end to end through `Bot::receive` and `Bot::tick`.

use crate::helpers::*;
use supportbot::domain::message::ActionKind;
use supportbot::domain::ticket::{Origin, Status};

#[tokio::test]
async fn a_paraphrased_faq_question_gets_an_answer_with_its_source_and_confidence() {
    let (bot, _db) = spawn_bot().await;
    let actions = send(&bot, message("m1", 0, user("ann"), "I forgot my password, what now?")).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Answer]);
    let a = &actions[0];
    assert_eq!(a.faq_id.as_deref(), Some("reset-password"));
    assert_eq!(a.in_reply_to.as_deref(), Some("m1"));
    let confidence = a.confidence.unwrap();
    assert!(confidence >= bot.config().threshold, "{confidence}");
    assert!(a.text.contains("Forgot password") && a.text.contains("reset-password"), "{}", a.text);
    assert!(a.text.contains(&format!("{:.0}%", confidence * 100.0)), "{}", a.text);
}

#[tokio::test]
async fn a_request_without_a_question_mark_is_noticed() {
    let (bot, _db) = spawn_bot().await;
    let actions = send(&bot, message("m1", 0, user("ann"), "my password reset link does not arrive")).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Answer]);
}

#[tokio::test]
async fn chatter_gets_no_reply_and_never_becomes_a_ticket() {
    let (bot, _db) = spawn_bot().await;
    for (i, text) in ["hi everyone!", "thanks, that fixed it", "lol", "nice release :)"].iter().enumerate() {
        assert!(send(&bot, message(&format!("m{i}"), 0, user("ann"), text)).await.is_empty(), "{text}");
    }
    assert!(bot.tick(at(60)).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unanswered_question_becomes_a_ticket_only_after_the_window() {
    let (bot, _db) = spawn_bot().await;
    let actions = send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash with an illegal instruction?")).await;
    assert!(actions.is_empty(), "below the threshold the bot stays silent: {actions:?}");
    assert!(bot.tick(at(14)).await.unwrap().is_empty(), "still inside the 15 minute window");
    let settled = bot.tick(at(15)).await.unwrap();
    let kinds: Vec<_> = settled.iter().map(|(_, a)| a.kind).collect();
    assert_eq!(kinds, vec![ActionKind::TicketOpened, ActionKind::NotifyModerators]);
    let (_, to_moderators) = &settled[1];
    assert_eq!(to_moderators.channel, "mods");
    assert!(to_moderators.text.contains("arm64"));
    let ticket = bot.store().ticket(settled[0].1.ticket_id.unwrap()).await.unwrap().unwrap();
    assert_eq!((ticket.status, ticket.origin), (Status::Open, Origin::Unanswered));
    assert_eq!(ticket.asker_name, "ann");
    assert!(bot.tick(at(30)).await.unwrap().is_empty(), "settled once");
}

#[tokio::test]
async fn a_member_reply_within_the_window_means_no_ticket() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "can it run on a raspberry pi?")).await;
    assert!(send(&bot, reply("m2", 3, user("ben"), "m1", "yes, the aarch64 build works")).await.is_empty());
    assert!(bot.tick(at(60)).await.unwrap().is_empty());
    assert!(bot.store().tickets(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_askers_own_follow_up_is_not_an_answer() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "can it run on a raspberry pi?")).await;
    assert!(send(&bot, reply("m2", 3, user("ann"), "m1", "a pi 4 with 2GB, to be precise. does anyone know?")).await.is_empty());
    assert_eq!(bot.tick(at(16)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_redelivered_question_is_answered_once() {
    let (bot, _db) = spawn_bot().await;
    let first = send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    let again = send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    assert_eq!((first.len(), again.len()), (1, 0));
    assert_eq!(bot.store().unsent_count().await.unwrap(), 1);
}

#[tokio::test]
async fn not_helpful_opens_a_ticket_at_once_and_helpful_does_not() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    send(&bot, message("m2", 0, user("ben"), "how do I install the bot?")).await;
    let helpful = send(&bot, vote("v1", 1, user("ben"), "m2", true)).await;
    assert_eq!(kinds(&helpful), vec![ActionKind::Reply]);
    let unhelpful = send(&bot, vote("v2", 1, user("ann"), "m1", false)).await;
    assert_eq!(kinds(&unhelpful), vec![ActionKind::TicketOpened, ActionKind::NotifyModerators]);
    let ticket = bot.store().ticket(unhelpful[0].ticket_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(ticket.origin, Origin::NotHelpful);
    assert_eq!(bot.store().feedback("test", "m1", "U-ann").await.unwrap(), Some((false, None)));
    assert_eq!(bot.store().feedback("test", "m2", "U-ben").await.unwrap(), Some((true, None)));
    // Voting "not helpful" again does not open a second ticket.
    let again = send(&bot, vote("v3", 2, user("ann"), "m1", false)).await;
    assert_eq!(kinds(&again), vec![ActionKind::Reply, ActionKind::NotifyModerators], "the ticket hears of it (ticket_work.rs)");
    assert_eq!(bot.store().tickets(None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn only_the_asker_can_rate_an_answer() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    let actions = send(&bot, vote("v1", 1, user("mallory"), "m1", false)).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Reply]);
    assert!(actions[0].ephemeral);
    assert!(bot.store().tickets(None, 10).await.unwrap().is_empty());
    assert_eq!(bot.store().feedback("test", "m1", "U-mallory").await.unwrap(), None);
}

#[tokio::test]
async fn a_vote_on_something_the_bot_did_not_answer_changes_nothing() {
    let (bot, _db) = spawn_bot().await;
    let actions = send(&bot, vote("v1", 1, user("ann"), "nope", false)).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Reply]);
    assert!(bot.store().tickets(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_question_repeating_an_open_tickets_question_is_linked_not_reopened() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash with an illegal instruction?")).await;
    bot.tick(at(15)).await.unwrap();
    send(&bot, message("m2", 20, user("ben"), "the arm64 build crashes with illegal instruction, why?")).await;
    let settled = bot.tick(at(40)).await.unwrap();
    let kinds: Vec<_> = settled.iter().map(|(_, a)| a.kind).collect();
    assert_eq!(kinds, vec![ActionKind::TicketUpdated, ActionKind::NotifyModerators]);
    assert!(settled[0].1.text.contains("#1"), "{}", settled[0].1.text);
    let tickets = bot.store().tickets(None, 10).await.unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(bot.store().linked_count(tickets[0].id).await.unwrap(), 1);

    // Resolving it keeps the promise: both askers hear, each in their own question's thread.
    let done = send(&bot, command("r1", 50, moderator("mia"), "ticket resolve 1 rebuild with -march=armv8-a")).await;
    let told: Vec<_> = done.iter().filter(|a| a.kind == ActionKind::TicketUpdated && !a.ephemeral).collect();
    assert_eq!(told.len(), 2, "{done:?}");
    assert_eq!(told[0].in_reply_to.as_deref(), Some("m1"));
    assert!(told[0].text.contains("ann") && told[0].text.contains("rebuild with"), "{}", told[0].text);
    assert_eq!(told[1].in_reply_to.as_deref(), Some("m2"));
    assert!(
        told[1].text.contains("ben") && told[1].text.contains("linked to ticket #1") && told[1].text.contains("rebuild with"),
        "{}",
        told[1].text
    );
}

#[tokio::test]
async fn a_channel_threshold_overrides_the_global_one() {
    let db = sqlite_db();
    let mut config = test_config();
    config.channel_thresholds.insert("lenient".into(), 0.5);
    let bot = bot_with(&db, TEST_FAQ, config).await;
    // One shared word with one entry: a middling match (about 0.65 on words alone).
    let mut question = message("m1", 0, user("ann"), "where is the link?");
    assert!(send(&bot, question.clone()).await.is_empty(), "below the global threshold");
    question.event_id = "m2".into();
    question.channel = "lenient".into();
    question.kind = supportbot::domain::message::IncomingKind::Message { id: "m2".into(), text: "where is the link?".into(), reply_to: None };
    assert_eq!(kinds(&send(&bot, question).await), vec![ActionKind::Answer]);
}

#[tokio::test]
async fn a_deleted_question_never_becomes_a_ticket() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash?")).await;
    let mut delete = message("d1", 1, user("ann"), "");
    delete.kind = supportbot::domain::message::IncomingKind::Deleted { id: "m1".into() };
    send(&bot, delete).await;
    assert!(bot.tick(at(30)).await.unwrap().is_empty());
    assert!(bot.store().message("test", "m1").await.unwrap().is_none());
}

#[tokio::test]
async fn an_oversized_message_is_kept_and_handled_without_panicking() {
    let (bot, _db) = spawn_bot().await;
    let huge = format!("how do I reset my password? {}", "spam ".repeat(200_000));
    let actions = send(&bot, message("m1", 0, user("ann"), &huge)).await;
    assert!(actions.len() <= 1);
    let stored = bot.store().message("test", "m1").await.unwrap().unwrap();
    assert!(stored.text.chars().count() <= supportbot::bot::MAX_STORED_CHARS + 1);
}
