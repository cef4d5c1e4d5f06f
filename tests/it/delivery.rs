//! Delivery against the local fakes on a controlled clock: rate limits are waited out (never
//! given up on), a channel's answers keep their order, and a send whose outcome was lost (a
//! crash, a 5xx, a database error before its mark) is not sent twice.

use crate::fake_discord::FakeDiscord;
use crate::fake_slack::FakeSlack;
use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use slack_morphism::prelude::*;
use std::sync::Arc;
use supportbot::bot::Outbox;
use supportbot::chat::discord::outgoing::DiscordSink;
use supportbot::chat::slack::outgoing::{SlackSink, web_client};
use supportbot::chat::{ChatSink, Delivery, SendError, UnrecordedSends, deliver_pending, deliver_pending_with};
use supportbot::domain::message::{Action, ActionKind};
use supportbot::store::Store;

fn slack_sink(fake: &FakeSlack) -> SlackSink {
    let client = Arc::new(web_client(&fake.api_url).unwrap());
    SlackSink::new(client, SlackApiToken::new("xoxb-test".to_string().into()), None).with_bot_user("U0BOT")
}

fn discord_sink(fake: &FakeDiscord) -> DiscordSink {
    let base = fake.api_url.trim_end_matches("/api").to_string();
    let http = Arc::new(serenity::all::HttpBuilder::new("test-token").proxy(base).ratelimiter_disabled(true).build());
    DiscordSink::new(http, None)
}

/// An answer in the thread of question `ts` in `channel`, as the Slack adapter records it.
fn slack_answer(channel: &str, ts: &str, text: &str) -> Action {
    Action::new(ActionKind::Answer, channel, text).replying_to(Some(format!("{channel}:{ts}").as_str()))
}

fn seconds(s: f64) -> Duration {
    Duration::milliseconds((s * 1000.0) as i64)
}

/// The whole day around the tests' clock: every give-up they can cause.
async fn given_up(store: &Store) -> i64 {
    store.given_up_between(at(-24 * 60), at(24 * 60)).await.unwrap()
}

/// Each outbox row's failed attempts, read straight from the database.
async fn attempts(db: &TestDb) -> Vec<i64> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let rows = sqlx::query("SELECT attempts FROM outbox ORDER BY id").fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.iter().map(|r| r.try_get::<i64, _>("attempts").unwrap()).collect()
}

/// Runs deliveries every `step` seconds from `t0` until nothing is left or `limit` seconds
/// passed, moving the fake's clock with ours. Returns when the last action went out.
async fn deliver_until_done<S: ChatSink>(store: &Store, sink: &S, step: f64, limit: f64, set_clock: impl Fn(DateTime<Utc>)) -> DateTime<Utc> {
    let mut elapsed = 0.0;
    while elapsed <= limit {
        let now = t0() + seconds(elapsed);
        set_clock(now);
        deliver_pending(&Outbox::new(store.clone()), sink, now).await.unwrap();
        if store.unsent_count().await.unwrap() == 0 {
            return now;
        }
        elapsed += step;
    }
    panic!("still {} unsent after {limit} s", store.unsent_count().await.unwrap());
}

#[tokio::test]
async fn a_discord_rate_limit_of_30_seconds_is_waited_out_and_nothing_is_given_up() {
    let fake = FakeDiscord::start().await;
    *fake.state.limited_until.lock().unwrap() = Some((t0() + Duration::seconds(30), 5.0));
    let sink = discord_sink(&fake);
    let (bot, db) = spawn_bot().await;
    for (i, channel) in ["200", "201", "202"].iter().enumerate() {
        let answer = Action::new(ActionKind::Answer, *channel, format!("answer {i}")).replying_to(Some((1300 + i).to_string().as_str()));
        bot.store().record_actions("discord", &format!("in:discord:{i}"), &[answer], None, t0()).await.unwrap();
    }
    let done = deliver_until_done(bot.store(), &sink, 1.0, 120.0, |now| *fake.state.now.lock().unwrap() = now).await;
    assert!(done >= t0() + Duration::seconds(30) && done <= t0() + Duration::seconds(36), "delivered once the limit lifted: {done}");
    assert_eq!(fake.state.created.lock().unwrap().len(), 3, "all three answers");
    assert_eq!(given_up(bot.store()).await, 0);
    assert_eq!(attempts(&db).await, [0, 0, 0], "a rate limit is no failed attempt");
    let refused = *fake.state.refused.lock().unwrap();
    // Each channel asks once per `retry_after` (5 s) during the 30 s: 7 times at most.
    assert!(refused <= 3 * 7, "{refused} 429s");
}

#[tokio::test]
async fn a_slack_rate_limit_of_30_seconds_is_waited_out_and_all_five_answers_arrive() {
    let fake = FakeSlack::start().await;
    *fake.state.limited_until.lock().unwrap() = Some((t0() + Duration::seconds(30), 2));
    let sink = slack_sink(&fake);
    let (bot, db) = spawn_bot().await;
    for i in 0..5 {
        let answer = slack_answer("C0HELP", &format!("1700000000.00010{i}"), &format!("answer {i}"));
        bot.store().record_actions("slack", &format!("in:slack:{i}"), &[answer], None, t0()).await.unwrap();
    }
    let done = deliver_until_done(bot.store(), &sink, 0.5, 120.0, |now| *fake.state.now.lock().unwrap() = Some(now)).await;
    assert!(done <= t0() + Duration::seconds(36), "{done}");
    let texts: Vec<String> = fake.calls("chat.postMessage").iter().map(|p| p["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, (0..5).map(|i| format!("answer {i}")).collect::<Vec<_>>(), "all five, in order");
    assert_eq!(given_up(bot.store()).await, 0);
    assert_eq!(attempts(&db).await, [0; 5], "a rate limit is no failed attempt");
    let refused = fake.calls("chat.postMessage (429)").len();
    // The channel asks once per Retry-After (2 s) during the 30 s.
    assert!(refused <= 16, "{refused} 429s");
}

#[tokio::test]
async fn a_burst_of_60_answers_to_one_slack_channel_is_paced_in_order() {
    let fake = FakeSlack::start().await;
    *fake.state.channel_limit.lock().unwrap() = Some((1.0, 5.0)); // Slack's 1 a second, bursts of 5
    let sink = slack_sink(&fake);
    let (bot, _db) = spawn_bot().await;
    for i in 0..60 {
        let answer = slack_answer("C0HELP", &format!("1700000000.{:06}", 100 + i), &format!("answer {i}"));
        bot.store().record_actions("slack", &format!("in:slack:{i}"), &[answer], None, t0()).await.unwrap();
    }
    let elsewhere = slack_answer("C0OTHER", "1700000001.000100", "elsewhere");
    bot.store().record_actions("slack", "in:slack:other", &[elsewhere], None, t0()).await.unwrap();

    *fake.state.now.lock().unwrap() = Some(t0());
    deliver_pending(&bot.outbox(), &sink, t0()).await.unwrap();
    assert!(fake.calls("chat.postMessage").iter().any(|p| p["channel"] == "C0OTHER"), "another channel is not held up by the burst");

    let done = deliver_until_done(bot.store(), &sink, 0.25, 180.0, |now| *fake.state.now.lock().unwrap() = Some(now)).await;
    let help: Vec<String> =
        fake.calls("chat.postMessage").iter().filter(|p| p["channel"] == "C0HELP").map(|p| p["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(help, (0..60).map(|i| format!("answer {i}")).collect::<Vec<_>>(), "all 60, in order, once each");
    assert_eq!(given_up(bot.store()).await, 0);
    let refused = fake.calls("chat.postMessage (429)").len();
    assert!(refused <= 5, "{refused} 429s (the release build collected 384)");
    assert!(done <= t0() + Duration::seconds(62), "about one a second: {done}");
}

#[tokio::test]
async fn a_slack_post_whose_answer_was_lost_is_found_and_not_posted_again() {
    let fake = FakeSlack::start().await;
    let sink = slack_sink(&fake);
    let (bot, _db) = spawn_bot().await;
    *fake.state.now.lock().unwrap() = Some(t0());

    // 1. The process dies after Slack took the post, before it could mark it sent.
    bot.store().record_actions("slack", "in:slack:1", &[slack_answer("C0HELP", "1700000000.000100", "in a thread")], None, t0()).await.unwrap();
    *fake.state.hang_after_post.lock().unwrap() = 1;
    let outbox = bot.outbox();
    tokio::select! {
        _ = deliver_pending(&outbox, &sink, t0()) => panic!("the post was supposed to hang"),
        _ = fake.wait_for("the post", |f| f.calls("chat.postMessage").len() == 1) => {}
    }
    // Within the dead run's lease nobody touches it; after it, the new run looks first.
    let restarted = slack_sink(&fake);
    assert_eq!(deliver_pending(&bot.outbox(), &restarted, t0() + Duration::seconds(30)).await.unwrap(), 0);
    assert!(fake.calls("conversations.replies").is_empty());
    deliver_pending(&bot.outbox(), &restarted, t0() + Duration::minutes(2)).await.unwrap();
    assert_eq!(fake.calls("chat.postMessage").len(), 1, "exactly one post");
    let looked = fake.calls("conversations.replies");
    assert_eq!(looked.len(), 1, "looked in the thread");
    assert_eq!((looked[0]["ts"].as_str(), looked[0]["include_all_metadata"].as_str()), (Some("1700000000.000100"), Some("true")));
    assert_eq!(bot.store().unsent_count().await.unwrap(), 0, "marked sent");

    // 2. Slack took a channel post but answered 500: the retry looks in the channel's history.
    bot.store().record_actions("slack", "in:slack:2", &[Action::new(ActionKind::Reply, "C0NEWS", "no thread")], None, t0()).await.unwrap();
    *fake.state.fail_after_post.lock().unwrap() = 1;
    deliver_pending(&bot.outbox(), &restarted, t0() + Duration::minutes(3)).await.unwrap();
    assert_eq!(fake.calls("chat.postMessage").len(), 2);
    deliver_pending(&bot.outbox(), &restarted, t0() + Duration::minutes(4)).await.unwrap();
    assert_eq!(fake.calls("chat.postMessage").len(), 2, "not posted again");
    assert_eq!(fake.calls("conversations.history").len(), 1);
    assert_eq!(bot.store().unsent_count().await.unwrap(), 0);

    // 3. The process died before the post left: the look finds nothing, so it is posted, once.
    bot.store().record_actions("slack", "in:slack:3", &[Action::new(ActionKind::Reply, "C0NEWS", "third")], None, t0()).await.unwrap();
    let claimed = bot.store().claim_outbox("slack", t0() + Duration::minutes(5), 10).await.unwrap();
    assert!(bot.store().begin_attempt(&claimed[0], t0() + Duration::minutes(5)).await.unwrap());
    deliver_pending(&bot.outbox(), &restarted, t0() + Duration::minutes(7)).await.unwrap();
    assert_eq!(fake.calls("conversations.history").len(), 2, "looked first");
    let posts = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[2]["text"], "third");
    assert_eq!(posts[2]["metadata"]["event_type"], "supportbot_outbox");
    assert_eq!(posts[2]["metadata"]["event_payload"]["outbox_id"], claimed[0].id.to_string());
    assert_eq!(given_up(bot.store()).await, 0);
}

/// A sink whose database goes down right after the platform took the post.
struct DatabaseDiesAfterSending<S> {
    inner: S,
    store: Store,
}

impl<S: ChatSink> ChatSink for DatabaseDiesAfterSending<S> {
    fn platform(&self) -> &str {
        self.inner.platform()
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        self.inner.send(action).await
    }

    async fn send_delivery(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> Result<Option<String>, SendError> {
        let sent = self.inner.send_delivery(delivery, now).await;
        self.store.close().await;
        sent
    }
}

/// A platform that cannot be searched: only the memory of the send keeps it from going twice.
#[derive(Default)]
struct Counter(std::sync::Mutex<usize>);

impl ChatSink for &Counter {
    fn platform(&self) -> &str {
        "test"
    }

    async fn send(&self, _action: &Action) -> Result<(), SendError> {
        *self.0.lock().unwrap() += 1;
        Ok(())
    }
}

/// Fails the first send to channel "a" (a 5xx: its outcome unknown), records the rest.
#[derive(Default)]
struct FailsFirstInA {
    failed: std::sync::Mutex<bool>,
    sent: std::sync::Mutex<Vec<String>>,
}

impl ChatSink for FailsFirstInA {
    fn platform(&self) -> &str {
        "test"
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        if action.channel == "a" && !std::mem::replace(&mut *self.failed.lock().unwrap(), true) {
            return Err(SendError::retryable("503 from the platform"));
        }
        self.sent.lock().unwrap().push(action.text.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_failed_send_holds_back_the_rest_of_its_channel_only() {
    let (bot, _db) = spawn_bot().await;
    let a = [Action::new(ActionKind::Reply, "a", "a1"), Action::new(ActionKind::Reply, "a", "a2")];
    bot.store().record_actions("test", "in:test:a", &a, None, t0()).await.unwrap();
    bot.store().record_actions("test", "in:test:a3", &[Action::new(ActionKind::Reply, "a", "a3")], None, t0()).await.unwrap();
    bot.store().record_actions("test", "in:test:b", &[Action::new(ActionKind::Reply, "b", "b1")], None, t0()).await.unwrap();
    let sink = FailsFirstInA::default();
    assert_eq!(deliver_pending(&bot.outbox(), &sink, t0()).await.unwrap(), 1);
    assert_eq!(*sink.sent.lock().unwrap(), ["b1"], "channel b goes on; a2 and a3 wait behind a1");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, t0() + Duration::seconds(1)).await.unwrap(), 0, "a1's backoff is 2 s");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, t0() + Duration::seconds(2)).await.unwrap(), 3);
    assert_eq!(*sink.sent.lock().unwrap(), ["b1", "a1", "a2", "a3"], "in order");
}

#[tokio::test]
async fn a_database_error_between_send_and_mark_does_not_send_again() {
    let fake = FakeSlack::start().await;
    *fake.state.now.lock().unwrap() = Some(t0());
    let db = sqlite_db();
    let store = Store::connect(&db.url, 2).await.unwrap();
    store.record_actions("slack", "in:slack:1", &[slack_answer("C0HELP", "1700000000.000100", "the answer")], None, t0()).await.unwrap();
    store.record_actions("test", "in:test:1", &[Action::new(ActionKind::Reply, "help", "the answer")], None, t0()).await.unwrap();
    let (slack, counter) = (UnrecordedSends::default(), UnrecordedSends::default());
    let dying = DatabaseDiesAfterSending { inner: slack_sink(&fake), store: store.clone() };
    let err = deliver_pending_with(&Outbox::new(store.clone()), &dying, t0(), &slack).await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
    assert!(!slack.is_empty(), "the send is remembered");
    assert_eq!(fake.calls("chat.postMessage").len(), 1);
    let sends = Counter::default();
    let store = Store::connect(&db.url, 2).await.unwrap();
    let dying = DatabaseDiesAfterSending { inner: &sends, store: store.clone() };
    assert!(deliver_pending_with(&Outbox::new(store.clone()), &dying, t0(), &counter).await.is_err());
    assert_eq!(*sends.0.lock().unwrap(), 1);

    // The database is back (here: a new connection), long after the claims' lease.
    let store = Store::connect(&db.url, 2).await.unwrap();
    let later = t0() + Duration::minutes(5);
    deliver_pending_with(&Outbox::new(store.clone()), &slack_sink(&fake), later, &slack).await.unwrap();
    deliver_pending_with(&Outbox::new(store.clone()), &&sends, later, &counter).await.unwrap();
    assert!(slack.is_empty() && counter.is_empty());
    assert_eq!(store.unsent_count().await.unwrap(), 0, "marked sent");
    assert_eq!(fake.calls("chat.postMessage").len(), 1, "not sent again");
    assert_eq!(*sends.0.lock().unwrap(), 1, "not sent again, where nothing could be looked up either");
    assert!(fake.calls("conversations.replies").is_empty(), "nothing needed looking up");
}

#[tokio::test]
async fn a_discord_resend_after_a_lost_answer_carries_the_same_nonce_and_makes_no_second_message() {
    let fake = FakeDiscord::start().await;
    *fake.state.fail_after_create.lock().unwrap() = 1;
    let sink = discord_sink(&fake);
    let (bot, _db) = spawn_bot().await;
    let answer = Action::new(ActionKind::Answer, "200", "An answer").replying_to(Some("1300"));
    bot.store().record_actions("discord", "in:discord:1300", &[answer], None, t0()).await.unwrap();
    assert_eq!(deliver_pending(&bot.outbox(), &sink, t0()).await.unwrap(), 0, "500: not known to be sent");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, t0() + Duration::seconds(3)).await.unwrap(), 1, "retried after the backoff");
    let posts = fake.requests("POST", "/api/v10/channels/200/messages");
    assert_eq!(posts.len(), 2);
    let nonce = posts[0]["nonce"].as_str().unwrap();
    assert!(nonce.len() <= 25, "{nonce}");
    assert_eq!(posts[1]["nonce"], posts[0]["nonce"], "the same nonce");
    assert!(posts.iter().all(|p| p["enforce_nonce"] == Value::Bool(true)), "{posts:?}");
    assert_eq!(fake.state.created.lock().unwrap().len(), 1, "Discord kept one message");
    assert_eq!(bot.store().unsent_count().await.unwrap(), 0);
}

#[tokio::test]
async fn discords_buckets_are_waited_out_before_a_429() {
    let fake = FakeDiscord::start().await;
    *fake.state.channel_bucket.lock().unwrap() = Some((5, 5.0)); // 5 messages per 5 s per channel
    let sink = discord_sink(&fake);
    let (bot, _db) = spawn_bot().await;
    for i in 0..20 {
        let answer = Action::new(ActionKind::Answer, "200", format!("answer {i}")).replying_to(Some((1400 + i).to_string().as_str()));
        bot.store().record_actions("discord", &format!("in:discord:{i}"), &[answer], None, t0()).await.unwrap();
    }
    let done = deliver_until_done(bot.store(), &sink, 0.5, 120.0, |now| *fake.state.now.lock().unwrap() = now).await;
    let texts: Vec<String> = fake.state.created.lock().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, (0..20).map(|i| format!("answer {i}")).collect::<Vec<_>>(), "all 20, in order");
    assert_eq!(*fake.state.refused.lock().unwrap(), 0, "no 429: each bucket was waited out");
    assert!(done <= t0() + Duration::seconds(16), "{done}");
    assert_eq!(given_up(bot.store()).await, 0);
}

#[tokio::test]
async fn a_permanent_error_is_given_up_visibly_and_does_not_hold_up_its_channel() {
    let fake = FakeDiscord::start().await;
    let sink = discord_sink(&fake);
    let (bot, _db) = spawn_bot().await;
    // A channel name that is not a Discord id can never be sent to.
    let actions = [Action::new(ActionKind::Reply, "not-an-id", "lost"), Action::new(ActionKind::Reply, "not-an-id", "also lost")];
    bot.store().record_actions("discord", "in:discord:x", &actions, None, t0()).await.unwrap();
    assert_eq!(deliver_pending(&bot.outbox(), &sink, t0()).await.unwrap(), 0);
    assert_eq!(given_up(bot.store()).await, 2, "both given up in one pass: the first does not hold up the second");
    assert_eq!(bot.store().unsent_count().await.unwrap(), 0);
}

/// The outbox queries this file relies on, on one database.
async fn outbox_story(db: TestDb) {
    let store = Store::connect(&db.url, 2).await.unwrap();
    let a = [Action::new(ActionKind::Reply, "a", "a1"), Action::new(ActionKind::Reply, "a", "a2")];
    store.record_actions("test", "in:test:a", &a, None, t0()).await.unwrap();
    store.record_actions("test", "in:test:b", &[Action::new(ActionKind::Reply, "b", "b1")], None, t0()).await.unwrap();
    assert_eq!(store.next_outbox_due("test").await.unwrap(), Some(t0()), "{}", db.name);
    let batch = store.claim_outbox("test", t0(), 10).await.unwrap();
    let texts: Vec<&str> = batch.iter().map(|i| i.action.text.as_str()).collect();
    assert_eq!(texts, ["a1", "a2", "b1"], "{}", db.name);
    assert_eq!(batch.iter().map(|i| i.lane.as_str()).collect::<Vec<_>>(), ["a", "a", "b"]);
    assert!(batch.iter().all(|i| !i.uncertain && i.attempts == 0 && i.created_at == t0()));
    // a1 waits for a rate limit: a2 is given back and waits behind it; b1 is sent.
    assert!(store.begin_attempt(&batch[0], t0()).await.unwrap());
    store.defer(batch[0].id, "429", t0() + Duration::seconds(5), true).await.unwrap();
    store.release_claim("test", batch[0].claimed_until, Some("a"), batch[0].id).await.unwrap();
    store.mark_sent(batch[2].id, t0()).await.unwrap();
    assert!(store.claim_outbox("test", t0() + Duration::seconds(1), 10).await.unwrap().is_empty(), "{}: a2 keeps its place", db.name);
    assert_eq!(store.next_outbox_due("test").await.unwrap(), Some(t0() + Duration::seconds(5)));
    let again = store.claim_outbox("test", t0() + Duration::seconds(5), 10).await.unwrap();
    assert_eq!(again.iter().map(|i| i.action.text.as_str()).collect::<Vec<_>>(), ["a1", "a2"]);
    assert_eq!((again[0].attempts, again[0].uncertain), (0, false), "{}: a wait is no attempt, and settled", db.name);
    // a1 starts and the run dies: claimed again after the lease, it is uncertain.
    assert!(store.begin_attempt(&again[0], t0() + Duration::seconds(5)).await.unwrap());
    let stale = again[0].clone();
    let later = t0() + Duration::minutes(2);
    let resumed = store.claim_outbox("test", later, 10).await.unwrap();
    assert!(resumed[0].uncertain, "{}", db.name);
    assert!(!store.begin_attempt(&stale, later).await.unwrap(), "{}: the old claim is gone", db.name);
    store.mark_dead(resumed[0].id, "channel gone", later).await.unwrap();
    store.mark_sent(resumed[1].id, later).await.unwrap();
    assert_eq!(store.given_up_between(t0(), later + Duration::seconds(1)).await.unwrap(), 1);
    assert_eq!(store.given_up_between(later + Duration::seconds(1), later + Duration::days(1)).await.unwrap(), 0);
    assert_eq!(store.next_outbox_due("test").await.unwrap(), None);
    store.close().await;
}

#[tokio::test]
async fn the_outbox_queries_work_on_sqlite() {
    outbox_story(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn the_outbox_queries_work_on_postgres() {
    outbox_story(postgres_db().await).await;
}
