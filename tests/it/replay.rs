//! The replay command on a scripted conversation, on SQLite and PostgreSQL.

use crate::helpers::*;
use serde_json::Value;
use supportbot::chat::replay;

const CONVERSATION: &str = include_str!("../fixtures/replay/conversation.jsonl");

async fn replay_on(db: &TestDb) -> Vec<Value> {
    let faq = supportbot::app::EXAMPLE_FAQ;
    let bot = bot_with(db, faq, test_config()).await;
    let mut out = Vec::new();
    replay::run(&bot, CONVERSATION.as_bytes(), &mut out).await.unwrap();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn find<'a>(actions: &'a [Value], action: &str, in_reply_to: &str) -> Vec<&'a Value> {
    actions.iter().filter(|a| a["action"] == action && a["in_reply_to"] == in_reply_to).collect()
}

fn check(db: &str, actions: &[Value]) {
    let about = |id: &str| actions.iter().filter(|a| a["in_reply_to"] == id).count();
    // A paraphrased FAQ question is answered, with its entry and confidence.
    let answer = find(actions, "answer", "m1");
    assert_eq!(answer.len(), 1, "{db}: {actions:#?}");
    assert_eq!(answer[0]["faq_id"], "install");
    assert!(answer[0]["confidence"].as_f64().unwrap() >= f64::from(supportbot::config::DEFAULT_THRESHOLD));
    // Chatter and thanks: nothing.
    assert_eq!(about("m2") + about("m7"), 0, "{db}");
    // A question a member answered: nothing, ever.
    assert_eq!(about("m4") + about("m5"), 0, "{db}: {actions:#?}");
    // Not helpful: ticket #1 at once, the asker and the moderators are told.
    assert_eq!(find(actions, "answer", "m6").len(), 1, "{db}");
    let opened = find(actions, "ticket_opened", "m6");
    assert_eq!((opened.len(), &opened[0]["ticket_id"]), (1, &Value::from(1)), "{db}");
    assert_eq!(find(actions, "notify_moderators", "m6")[0]["channel"], "mods");
    // Commands: a refusal for a member, a list for the moderator, the resolution, the new entry.
    assert_eq!(find(actions, "refused", "c1").len(), 1, "{db}");
    assert!(find(actions, "reply", "c2")[0]["text"].as_str().unwrap().contains("#1"));
    assert_eq!(find(actions, "ticket_updated", "c3")[0]["status"], "resolved");
    assert!(find(actions, "reply", "c4")[0]["text"].as_str().unwrap().contains("postgres-in-docker"));
    assert!(find(actions, "reply", "c5")[0]["text"].as_str().unwrap().contains("Usage"));
    // A malformed line is reported by number and the replay goes on.
    let errors: Vec<_> = actions.iter().filter(|a| a["action"] == "error").collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["text"].as_str().unwrap().starts_with("line 12:"));
    // The unanswered question becomes ticket #2 once the window passes after the last line.
    let unanswered = find(actions, "ticket_opened", "m3");
    assert_eq!(unanswered.len(), 1, "{db}: {actions:#?}");
    assert_eq!(unanswered[0]["ticket_id"], 2);
    assert_eq!(find(actions, "notify_moderators", "m3").len(), 1);
    // Every action names what it answers, except the malformed-line error.
    assert!(actions.iter().all(|a| a["action"] == "error" || a["in_reply_to"].is_string()));
}

#[tokio::test]
async fn replay_produces_the_expected_actions_on_sqlite() {
    let db = sqlite_db();
    check(db.name, &replay_on(&db).await);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn replay_produces_the_expected_actions_on_postgres() {
    let db = postgres_db().await;
    check(db.name, &replay_on(&db).await);
}

#[tokio::test]
async fn replaying_the_same_history_twice_into_one_database_adds_nothing() {
    let db = sqlite_db();
    let first = replay_on(&db).await;
    let second = replay_on(&db).await;
    assert!(!first.is_empty());
    let non_errors: Vec<_> = second.iter().filter(|a| a["action"] != "error").collect();
    assert!(non_errors.is_empty(), "{second:#?}");
}
