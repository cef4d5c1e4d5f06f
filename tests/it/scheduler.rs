//! The periodic jobs through `Scheduler::run_due`, the clock passed in: no test waits for a tick.

use crate::helpers::*;
use supportbot::bot::{Due, Job, Scheduler};
use supportbot::chat::deliver_pending;
use supportbot::domain::message::{Action, ActionKind};
use supportbot::domain::ticket::{Origin, Status};

#[tokio::test]
async fn one_run_of_the_due_jobs_settles_an_unanswered_question_and_queues_the_digest_once() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.channels = vec!["test:announcements".into()];
    let bot = bot_with(&db, TEST_FAQ, config).await;
    // Twenty minutes before Monday 09:00, the end of the digest's week.
    let asked = send(&bot, message("m1", -20, user("ann"), "why does the arm64 build crash with an illegal instruction?")).await;
    assert!(asked.is_empty(), "{asked:?}");
    let scheduler = Scheduler::new(bot.clone(), "a");

    let due = scheduler.run_due(at(0)).await;
    assert_eq!(due, Due { settled: 2, resumed: 0, digest_posted: true, expired: 0, console_week: None, failed: vec![] });
    let tickets = bot.store().tickets(None, 10).await.unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!((tickets[0].status, tickets[0].origin, tickets[0].asker_name.as_str()), (Status::Open, Origin::Unanswered, "ann"));

    let again = scheduler.run_due(at(1)).await;
    assert_eq!(again, Due::default(), "nothing is due twice");
    assert!(!Scheduler::new(bot.clone(), "b").run_due(at(2)).await.digest_posted, "nor on another instance");

    let sink = Collect::default();
    deliver_pending(&bot.outbox(), &sink, at(2)).await.unwrap();
    let sent = sink.0.lock().unwrap().clone();
    let digests: Vec<&Action> = sent.iter().filter(|a| a.kind == ActionKind::Digest).collect();
    assert_eq!(digests.len(), 1, "{sent:?}");
    assert_eq!(digests[0].channel, "announcements");
    assert!(digests[0].text.contains("2026-10-26 to 2026-11-02") && digests[0].text.contains("1 seen"), "{}", digests[0].text);
    let kinds: Vec<ActionKind> = sent.iter().filter(|a| a.kind != ActionKind::Digest).map(|a| a.kind).collect();
    assert_eq!(kinds, vec![ActionKind::TicketOpened, ActionKind::NotifyModerators]);
}

#[tokio::test]
async fn a_failing_job_is_reported_and_the_others_still_run() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.channels = vec!["test:announcements".into()];
    config.digest.schedule = "someday".into();
    let bot = bot_with(&db, TEST_FAQ, config).await;
    send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash with an illegal instruction?")).await;
    let due = Scheduler::new(bot.clone(), "a").run_due(at(15)).await;
    assert_eq!(due, Due { settled: 2, resumed: 0, digest_posted: false, expired: 0, console_week: None, failed: vec![Job::Digest] });
    assert_eq!(bot.store().tickets(None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn with_the_console_on_each_tick_computes_one_offered_past_week_until_all_are_kept() {
    use supportbot::bot::console_digests::week_start;
    use supportbot::bot::web::ConsoleLinks;
    let db = sqlite_db();
    let mut config = test_config();
    config.console = Some(ConsoleLinks { base: "http://127.0.0.1:9".into(), ttl: std::time::Duration::from_secs(600) });
    let bot = bot_with(&db, TEST_FAQ, config).await;
    // Wednesday of the week before at(0) (a Monday).
    let wednesday = -5 * 24 * 60;
    send(&bot, message("m1", wednesday, user("ann"), "why does the arm64 build crash with an illegal instruction?")).await;
    let scheduler = Scheduler::new(bot.clone(), "a");
    let mut warmed = Vec::new();
    for minute in 0..12 {
        warmed.push(scheduler.run_due(at(minute)).await.console_week);
    }
    let last_week = week_start(at(0).date_naive()) - chrono::Duration::days(7);
    let offered: Vec<_> = (0..11).map(|i| Some(last_week - chrono::Duration::days(7 * i))).chain([None]).collect();
    assert_eq!(warmed, offered, "the eleven finished weeks the page offers, newest first, one a tick; then nothing");

    // What the page then shows is the digest computed then: a question recorded late for that
    // week does not change the kept one.
    let end = last_week + chrono::Duration::days(7);
    assert_eq!(bot.console_digest(last_week, end, at(20)).await.unwrap().0.questions, 1);
    send(&bot, message("m2", wednesday + 1, user("bob"), "why does the docker image fail to start on a raspberry pi?")).await;
    assert_eq!(bot.console_digest(last_week, end, at(21)).await.unwrap().0.questions, 1, "kept");

    // Without the console, nothing is computed ahead.
    let (plain, _db) = spawn_bot().await;
    assert_eq!(Scheduler::new(plain, "b").run_due(at(0)).await.console_week, None);
}
