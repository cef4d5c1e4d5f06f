//! The database goes away under a running bot: nothing acknowledged is lost, nothing is
//! reported ready that is not.

use crate::discord::discord_settings;
use crate::fake_discord::{FakeDiscord, message_create};
use crate::helpers::{run_service, sqlite_db};
use crate::slack::http_request;
use sqlx::Connection;
use std::time::Duration;

/// An SQLite writer lock held by another process's connection (`BEGIN EXCLUSIVE`): every write
/// of the bot waits for it, and gives up after `[database] timeout`.
async fn hold_writer_lock(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.unwrap();
    conn
}

async fn readyz(base: &str) -> u16 {
    http_request("GET", &format!("{base}/readyz"), "", &[]).await.map(|(s, _)| s).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_message_that_comes_while_the_database_is_locked_is_answered_once_it_is_back() {
    let db = sqlite_db();
    let url = db.url.clone();
    let fake = FakeDiscord::start().await;
    let mut bot = run_service(db, |s| {
        s.discord = Some(discord_settings(&fake));
        s.database.timeout = Duration::from_millis(200);
    })
    .await;
    fake.wait_for("IDENTIFY", |f| f.identify().is_some()).await;
    assert_eq!(readyz(&bot.base).await, 200);

    let mut lock = hold_writer_lock(&url).await;
    fake.dispatch("MESSAGE_CREATE", message_create("2001", "200", "301", "Ann", "how do i reset my password"));
    // The handler looks the channel up before it stores the message...
    fake.wait_for("the channel lookup", |f| !f.requests("GET", "/api/v10/channels/200").is_empty()).await;
    // ...and a readiness probe started after that times out later than the store's 200 ms.
    assert_eq!(readyz(&bot.base).await, 503, "a locked database is not ready");
    assert!(fake.requests("POST", "/api/v10/channels/200/messages").is_empty(), "nothing answered while locked");

    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    lock.close().await.unwrap();
    fake.wait_for("the held question's answer", |f| !f.requests("POST", "/api/v10/channels/200/messages").is_empty()).await;
    assert_eq!(readyz(&bot.base).await, 200);
    let answers = fake.requests("POST", "/api/v10/channels/200/messages");
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["message_reference"]["message_id"], "2001");
    bot.shutdown().await;
}

#[tokio::test]
async fn a_deleted_database_file_is_not_ready_and_takes_no_events() {
    let db = sqlite_db();
    let path = db.url.trim_start_matches("sqlite://").to_string();
    let mut app = run_service(db, |_| {}).await;
    for _ in 0..400 {
        if readyz(&app.base).await == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(readyz(&app.base).await, 200);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(readyz(&app.base).await, 503, "a deleted database file is noticed");
    let store = supportbot::store::Store::connect(&app.db.url, 1).await;
    drop(store); // (re-creates an empty file: a replaced one is noticed too)
    assert_eq!(readyz(&app.base).await, 503, "a replaced database file is noticed");
    app.shutdown().await;
}

#[tokio::test]
async fn a_refused_postgres_connection_is_named_at_start() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = supportbot::store::Store::connect(&format!("postgres://postgres@127.0.0.1:{port}/x"), 1).await.unwrap_err().to_string();
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(!err.contains("timed out"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_events_during_a_writer_lock_are_refused_fast_then_answered_once() {
    use crate::instances::{question_event, question_ts, replies_per_question};
    use crate::slack::{SECRET, post_signed, slack_settings};
    let db = sqlite_db();
    let url = db.url.clone();
    let fake = crate::fake_slack::FakeSlack::start().await;
    let settings = slack_settings(&fake, supportbot::config::SlackMode::Http);
    let mut app = run_service(db, |s| {
        s.slack = Some(settings);
        s.database.timeout = Duration::from_millis(300);
        // A handling that failed while the lock was held keeps its claim until the lease ends.
        s.database.lease = Duration::from_secs(1);
        s.bot.tick = Duration::from_millis(100);
    })
    .await;
    app.ready().await;
    let events = format!("{}/slack/events", app.base);
    let now = chrono::Utc::now().timestamp();
    let ask = |n: usize| question_event(n, "How do I reset my password?");

    // Acknowledged before the lock: handled at once, or, if its handling meets the lock, tried
    // again after it.
    assert_eq!(post_signed(&events, &ask(1), "application/json", now, SECRET, false).await.0, 200);
    let mut lock = hold_writer_lock(&url).await;
    let started = std::time::Instant::now();
    let (refused, _) = post_signed(&events, &ask(2), "application/json", now, SECRET, false).await;
    assert_eq!(refused, 500, "not stored, so not acknowledged: Slack sends it again");
    assert!(started.elapsed() < Duration::from_millis(2_500), "refused well inside Slack's 3 s: {:?}", started.elapsed());
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    lock.close().await.unwrap();

    // Slack's retry of the refused event, now stored.
    assert_eq!(post_signed(&events, &ask(2), "application/json", now, SECRET, true).await.0, 200);
    fake.wait_for("both answers", |f| {
        let replies = replies_per_question(f);
        replies.contains_key(&question_ts(1)) && replies.contains_key(&question_ts(2))
    })
    .await;
    crate::instances::wait_settled(&app.db.url, Duration::from_secs(10)).await;
    let replies = replies_per_question(&fake);
    assert_eq!((replies[&question_ts(1)], replies[&question_ts(2)]), (1, 1), "{replies:?}");
    app.shutdown().await;
}

/// A bot whose database gives up on a locked write after 200 ms.
async fn impatient_bot(db: &crate::helpers::TestDb) -> std::sync::Arc<supportbot::bot::Bot> {
    let options = supportbot::store::StoreOptions { timeout: Duration::from_millis(200), ..supportbot::store::StoreOptions::new(4) };
    let store = supportbot::store::Store::connect_with(&db.url, &options).await.unwrap();
    let config = crate::helpers::test_config();
    std::sync::Arc::new(supportbot::bot::Bot::new(store, supportbot::prompts::Prompts::load(None).unwrap(), config, None).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catch_up_cursor_stays_before_events_held_in_memory_so_a_crash_loses_none() {
    use crate::helpers::{message, user};
    use supportbot::chat::Inlet;
    let db = sqlite_db();
    let bot = impatient_bot(&db).await;
    let point = || async { bot.catch_up_point("test", "help").await.unwrap() };

    let inlet = Inlet::new(bot.clone());
    inlet.accept_or_hold(message("100", 0, user("ann"), "hello all"), true).await;
    assert_eq!(point().await.as_deref(), Some("100"));

    let mut lock = hold_writer_lock(&db.url).await;
    inlet.accept_or_hold(message("101", 1, user("bo"), "my build fails on ARM"), true).await;
    inlet.accept_or_hold(message("102", 2, user("cy"), "thanks"), true).await;
    assert_eq!(inlet.held_count(), 2, "kept in memory, in order");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    // A message stored while others are held must not move the cursor past them.
    assert_eq!(point().await.as_deref(), Some("100"));
    // The process dies with 101 and 102 in memory: the next catch-up starts after 100.
    drop(inlet);
    assert_eq!(point().await.as_deref(), Some("100"), "catch-up reads 101 and 102 again");

    // The next run: a live message stored before its catch-up is done leaves the cursor alone.
    let inlet = Inlet::new(bot.clone());
    inlet.accept_or_hold(message("104", 4, user("ed"), "anyone here?"), false).await;
    assert_eq!(point().await.as_deref(), Some("100"), "101 and 102 are not read yet");
    // The catch-up reads them (in order), then live messages move the cursor again.
    inlet.accept_or_hold(message("101", 1, user("bo"), "my build fails on ARM"), true).await;
    inlet.accept_or_hold(message("102", 2, user("cy"), "thanks"), true).await;
    inlet.mark_caught_up();
    assert_eq!(point().await.as_deref(), Some("102"));

    // Held events are stored in order once the database is back, and only then the cursor moves.
    let mut lock = hold_writer_lock(&db.url).await;
    inlet.accept_or_hold(message("105", 5, user("di"), "the docs website returns 404"), false).await;
    assert_eq!(inlet.held_count(), 1);
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    lock.close().await.unwrap();
    assert_eq!(inlet.retry_held().await, 1);
    assert_eq!(inlet.held_count(), 0);
    assert_eq!(point().await.as_deref(), Some("105"));
}
