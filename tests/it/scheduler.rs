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
    assert_eq!(due, Due { settled: 2, resumed: 0, digest_posted: true, expired: 0, failed: vec![] });
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
    assert_eq!(due, Due { settled: 2, resumed: 0, digest_posted: false, expired: 0, failed: vec![Job::Digest] });
    assert_eq!(bot.store().tickets(None, 10).await.unwrap().len(), 1);
}
