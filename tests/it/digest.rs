//! The weekly digest: posted once per period across instances, caught up after downtime.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use supportbot::chat::{ChatSink, SendError, deliver_pending};
use supportbot::digest::post_if_due;
use supportbot::domain::message::{Action, ActionKind};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<Action>>);

impl ChatSink for Collect {
    fn platform(&self) -> &str {
        "test"
    }
    async fn send(&self, action: &Action) -> Result<(), SendError> {
        self.0.lock().unwrap().push(action.clone());
        Ok(())
    }
}

async fn post(bot: &supportbot::bot::Bot, instance: &str, now: DateTime<Utc>) -> bool {
    post_if_due(bot.store(), bot.prompts(), None, &bot.config().digest, instance, now).await.unwrap()
}

/// The themes of the test day's digest, found without a model.
async fn themes_of_the_day(
    bot: &supportbot::bot::Bot,
    settings: &supportbot::config::DigestSettings,
) -> anyhow::Result<Option<Vec<supportbot::domain::cluster::Theme>>> {
    let (from, to) = (at(-60), at(60 * 24));
    supportbot::digest::digest(bot.store(), None, settings, from, to, to).await.unwrap().themes
}

#[tokio::test]
async fn two_instances_post_each_weeks_digest_exactly_once_and_catch_up_a_missed_one() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.channels = vec!["test:announcements".into()];
    let (a, b) = (bot_with(&db, TEST_FAQ, config.clone()).await, bot_with(&db, TEST_FAQ, config.clone()).await);
    // A week of activity before Monday 9 November 09:00 UTC.
    send(&a, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    send(&a, message("m2", 60, user("ben"), "can it run on a raspberry pi?")).await;
    send(&a, reply("m3", 65, user("cat"), "m2", "yes, the arm64 build")).await;

    // The bots were down on Monday; on Wednesday both come back at the same moment.
    let wednesday = utc("2026-11-11T12:00:00Z");
    let (first, second) = tokio::join!(post(&a, "a", wednesday), post(&b, "b", wednesday));
    assert!(first ^ second, "exactly one instance posts: {first} {second}");
    assert!(!post(&a, "a", utc("2026-11-13T12:00:00Z")).await, "once per period");
    assert!(!post(&b, "b", utc("2026-11-16T08:59:00Z")).await);

    let sink = Collect::default();
    deliver_pending(a.store(), &sink, wednesday).await.unwrap();
    let posted: Vec<Action> = sink.0.lock().unwrap().iter().filter(|a| a.kind == ActionKind::Digest).cloned().collect();
    assert_eq!(posted.len(), 1);
    assert_eq!((posted[0].kind, posted[0].channel.as_str()), (ActionKind::Digest, "announcements"));
    assert!(posted[0].text.contains("2026-11-02 to 2026-11-09"), "{}", posted[0].text);
    assert!(posted[0].text.contains("2 seen. 1 answered by the bot"), "{}", posted[0].text);

    assert!(post(&b, "b", utc("2026-11-16T09:00:00Z")).await, "the next Monday posts again");
}

#[tokio::test]
async fn moderators_preview_the_digest_and_members_cannot() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    let preview = send(&bot, command("c1", 10, moderator("mia"), "digest")).await;
    assert_eq!(kinds(&preview), vec![ActionKind::Digest]);
    assert!(preview[0].ephemeral && preview[0].text.contains("1 seen"), "{}", preview[0].text);
    let refused = send(&bot, command("c2", 10, user("ann"), "digest")).await;
    assert_eq!(kinds(&refused), vec![ActionKind::Refused]);
}

#[tokio::test]
async fn feedback_is_gathered_from_the_command_feedback_channels_and_not_helpful_comments() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.feedback_channels = vec!["feedback".into()];
    let bot = bot_with(&db, TEST_FAQ, config).await;
    let thanks = send(&bot, command("c1", 0, user("ann"), "feedback the docs site is slow")).await;
    assert_eq!(kinds(&thanks), vec![ActionKind::Reply]);
    let mut in_channel = message("m1", 1, user("ben"), "why is the release so late?");
    in_channel.channel = "feedback".into();
    assert!(send(&bot, in_channel).await.is_empty(), "a feedback channel is not a help channel");
    send(&bot, message("m2", 2, user("cat"), "how do I reset my password?")).await;
    let mut vote = vote("v1", 3, user("cat"), "m2", false);
    vote.kind = supportbot::domain::message::IncomingKind::Feedback { on: "m2".into(), helpful: false, comment: Some("the link expired".into()) };
    send(&bot, vote).await;
    let notes = bot.store().feedback_between(at(0), at(60)).await.unwrap();
    let texts: Vec<&str> = notes.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, vec!["the docs site is slow", "why is the release so late?", "the link expired"]);
    assert!(bot.store().question("test", "m1").await.unwrap().is_none());
    assert!(bot.tick(at(60)).await.unwrap().iter().all(|(_, a)| a.in_reply_to.as_deref() != Some("m1")));
}

#[tokio::test]
async fn a_digest_queued_by_hand_is_posted_once_per_channel() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.channels = vec!["test:announcements".into(), "test:general".into()];
    let bot = bot_with(&db, TEST_FAQ, config).await;
    let (from, to) = (utc("2026-11-02T00:00:00Z"), utc("2026-11-09T00:00:00Z"));
    for _ in 0..2 {
        let queued = supportbot::digest::queue(bot.store(), bot.prompts(), None, &bot.config().digest, from, to, to).await.unwrap();
        assert_eq!(queued, 2);
    }
    let sink = Collect::default();
    deliver_pending(bot.store(), &sink, to).await.unwrap();
    let channels: Vec<String> = sink.0.lock().unwrap().iter().map(|a| a.channel.clone()).collect();
    assert_eq!(channels, vec!["announcements", "general"]);
}

#[tokio::test]
async fn without_a_model_the_themes_come_from_tf_idf() {
    let (bot, _db) = spawn_bot().await;
    let questions = [
        ("ann", "how do I reset my password?"),
        ("ben", "my password reset link never arrives"),
        ("cat", "the password reset email is missing"),
        ("dan", "password reset does not work for me"),
        ("eve", "can it run on a raspberry pi arm board?"),
        ("fay", "the arm build fails on my raspberry pi"),
        ("gus", "does the raspberry pi arm64 build exist?"),
        ("hal", "raspberry pi arm install fails"),
    ];
    for (i, (who, text)) in questions.iter().enumerate() {
        send(&bot, message(&format!("q{i}"), i as i64 * 30, user(who), text)).await;
    }
    let themes = themes_of_the_day(&bot, &bot.config().digest).await.unwrap().expect("themes without a model");
    let keywords: Vec<String> = themes.iter().map(|t| t.keywords.join(" ")).collect();
    assert!(keywords.iter().any(|k| k.contains("password")), "{keywords:?}");
    assert!(keywords.iter().any(|k| k.contains("raspberry") || k.contains("pi") || k.contains("arm")), "{keywords:?}");
    assert_eq!(themes.iter().map(|t| t.size).sum::<usize>(), questions.len());
}

#[tokio::test]
async fn a_configured_number_of_clusters_is_used_as_is() {
    let (bot, _db) = spawn_bot().await;
    for (i, (who, text)) in [("ann", "password reset fails"), ("ben", "arm build crashes"), ("cat", "postgres connection refused"), ("dan", "docker image too big")].iter().enumerate() {
        send(&bot, message(&format!("k{i}"), i as i64 * 10, user(who), text)).await;
    }
    let mut settings = bot.config().digest.clone();
    settings.clusters = Some(2);
    settings.themes = 10;
    let themes = themes_of_the_day(&bot, &settings).await.unwrap();
    // Four unrelated messages share no word: TF-IDF has nothing to compare them on.
    assert!(themes.is_none(), "{themes:?}");
    send(&bot, message("k4", 50, user("eve"), "password reset link fails")).await;
    send(&bot, message("k5", 60, user("fay"), "arm build crashes again")).await;
    let themes = themes_of_the_day(&bot, &settings).await.unwrap().unwrap();
    assert_eq!(themes.len(), 2, "k = 2 as configured: {themes:?}");
}

/// A platform that refuses everything for good (the channel is gone).
struct Gone;

impl ChatSink for Gone {
    fn platform(&self) -> &str {
        "test"
    }

    async fn send(&self, _action: &Action) -> Result<(), SendError> {
        Err(SendError::permanent("channel_not_found"))
    }
}

#[tokio::test]
async fn the_digest_says_how_many_messages_could_not_be_delivered() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    let before = send(&bot, command("c1", 5, moderator("mia"), "digest")).await;
    assert!(!before[0].text.contains("Undelivered"), "{}", before[0].text);
    deliver_pending(bot.store(), &Gone, at(6)).await.unwrap();
    let after = send(&bot, command("c2", 10, moderator("mia"), "digest")).await;
    // The answer and the first preview were given up on.
    assert!(after[0].text.contains("*Undelivered:* 2 messages could not be delivered"), "{}", after[0].text);
}
