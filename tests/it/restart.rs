//! Durable intake and delivery across a restart.

use crate::helpers::*;
use std::sync::Mutex;
use supportbot::chat::{ChatSink, SendError, deliver_pending};
use supportbot::domain::message::{Action, ActionKind};
use supportbot::store::Intake;

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Action>>,
    fail_first: Mutex<usize>,
}

impl ChatSink for Recorder {
    fn platform(&self) -> &str {
        "test"
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        let mut failures = self.fail_first.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(SendError { message: "503 from the platform".into(), retry_after: None, permanent: false });
        }
        self.sent.lock().unwrap().push(action.clone());
        Ok(())
    }
}

#[tokio::test]
async fn an_event_recorded_but_not_processed_is_processed_once_after_restart() {
    let db = sqlite_db();
    let question = message("m1", 0, user("ann"), "how do I reset my password?");
    {
        // The first run records the event, then "crashes" before handling it.
        let bot = bot_with(&db, TEST_FAQ, test_config()).await;
        assert_eq!(bot.store().record_incoming(&question, at(0)).await.unwrap(), Intake::Claimed);
        bot.store().close().await;
    }
    let bot = bot_with(&db, TEST_FAQ, test_config()).await;
    // Within the crashed run's claim, nobody else takes it.
    assert_eq!(bot.resume(at(0)).await.unwrap(), 0);
    assert_eq!(bot.resume(at(2)).await.unwrap(), 1);
    assert_eq!(bot.resume(at(3)).await.unwrap(), 0, "processed once");
    // The platform redelivers it: still only one answer.
    assert!(bot.receive(&question, at(4)).await.unwrap().is_empty());
    let sink = Recorder::default();
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(5)).await.unwrap(), 1);
    let sent = sink.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, ActionKind::Answer);
}

#[tokio::test]
async fn unsent_actions_survive_a_restart_and_failed_sends_are_retried_with_backoff() {
    let db = sqlite_db();
    {
        let bot = bot_with(&db, TEST_FAQ, test_config()).await;
        send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
        bot.store().close().await;
    }
    let bot = bot_with(&db, TEST_FAQ, test_config()).await;
    let sink = Recorder { fail_first: Mutex::new(1), ..Default::default() };
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(1)).await.unwrap(), 0);
    assert_eq!(bot.store().unsent_count().await.unwrap(), 1);
    // Not before the backoff has passed...
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(1)).await.unwrap(), 0);
    // ...then exactly once.
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(2)).await.unwrap(), 1);
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(3)).await.unwrap(), 0);
    assert_eq!(sink.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_database_that_is_down_gives_an_error_not_a_panic() {
    let (bot, _db) = spawn_bot().await;
    bot.store().close().await;
    let err = bot.receive(&message("m1", 0, user("ann"), "how do I reset my password?"), at(0)).await.unwrap_err();
    assert!(err.to_string().contains("database"), "{err}");
}
