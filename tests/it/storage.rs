//! One story through every store query, run on SQLite and (when available) PostgreSQL.

use crate::helpers::*;
use supportbot::domain::faq::FaqEntry;
use supportbot::domain::message::{Action, ActionKind};
use supportbot::domain::question::QuestionStatus;
use supportbot::domain::ticket::{self, Origin, Priority, Status, Transition};
use supportbot::store::{Intake, NewTicket, Question, Store, StoredMessage, Upsert};

async fn story(store: &Store, db: &str) {
    store.readiness().await.unwrap();

    // FAQ: add, no-op, update, version changes, delete.
    let mut e = FaqEntry {
        id: "arm".into(),
        question: "Does it run on ARM?".into(),
        alternatives: vec!["raspberry pi".into()],
        answer: "Yes.".into(),
        tags: vec!["platforms".into()],
        links: vec!["https://example.org".into()],
    };
    let v0 = store.faq_version().await.unwrap();
    assert_eq!(store.upsert_faq(&e, "file", t0()).await.unwrap(), Upsert::Added, "{db}");
    let v1 = store.faq_version().await.unwrap();
    assert_ne!(v0, v1);
    assert_eq!(store.upsert_faq(&e, "file", t0()).await.unwrap(), Upsert::Unchanged);
    assert_eq!(store.faq_version().await.unwrap(), v1, "no change, no new version");
    e.answer = "Yes, aarch64.".into();
    assert_eq!(store.upsert_faq(&e, "chat", t0()).await.unwrap(), Upsert::Updated);
    assert_eq!(store.faq_entry("arm").await.unwrap().unwrap(), e);
    assert_eq!(store.faq_entries().await.unwrap(), vec![e.clone()]);
    assert!(store.delete_faq("arm").await.unwrap());
    assert!(!store.delete_faq("arm").await.unwrap());
    assert!(store.faq_entry("arm").await.unwrap().is_none());

    // Messages: save (idempotent), read, edit, delete.
    let msg = StoredMessage {
        platform: "test".into(),
        id: "m1".into(),
        channel: "help".into(),
        user_id: "U1".into(),
        user_name: "ann".into(),
        text: "why does it crash?".into(),
        at: at(0),
        reply_to: None,
        is_support: true,
    };
    store.save_message(&msg).await.unwrap();
    store.save_message(&StoredMessage { text: "redelivered".into(), ..msg.clone() }).await.unwrap();
    assert_eq!(store.message("test", "m1").await.unwrap().unwrap(), msg);
    assert_eq!(store.known_channels("test").await.unwrap(), vec![msg.channel.clone()]);
    assert_eq!(store.last_message_id("test", &msg.channel).await.unwrap().as_deref(), Some("m1"));
    assert_eq!(store.last_message_id("test", "elsewhere").await.unwrap(), None);

    // Questions: insert once, read, edit follows, community answer, due, claim.
    let q = Question {
        platform: "test".into(),
        message_id: "m1".into(),
        channel: "help".into(),
        asker_id: "U1".into(),
        asker_name: "ann".into(),
        text: msg.text.clone(),
        asked_at: at(0),
        status: QuestionStatus::Pending,
        faq_id: Some("arm".into()),
        confidence: Some(0.25),
        ticket_id: None,
        private: true,
    };
    assert!(store.insert_question(&q).await.unwrap());
    assert!(!store.insert_question(&q).await.unwrap());
    store.edit_message("test", "m1", "why does it crash on ARM?").await.unwrap();
    assert_eq!(store.message("test", "m1").await.unwrap().unwrap().text, "why does it crash on ARM?");
    let stored_q = store.question("test", "m1").await.unwrap().unwrap();
    assert_eq!((stored_q.text.as_str(), stored_q.confidence), ("why does it crash on ARM?", Some(0.25)));
    assert_eq!(store.due_questions(at(0), 10).await.unwrap().len(), 1);
    assert!(store.due_questions(at(-1), 10).await.unwrap().is_empty());
    let q2 = Question { message_id: "m2".into(), ..q.clone() };
    store.insert_question(&q2).await.unwrap();
    assert!(store.mark_community_answered("test", "m2", "U2", at(3)).await.unwrap());
    assert!(!store.mark_community_answered("test", "m2", "U3", at(4)).await.unwrap());
    assert_eq!(store.question("test", "m2").await.unwrap().unwrap().status, QuestionStatus::CommunityAnswered);
    assert!(store.claim_for_ticket("test", "m1").await.unwrap());
    assert!(!store.claim_for_ticket("test", "m1").await.unwrap(), "{db}: claimed once");

    // Feedback: insert then replace.
    store.save_feedback("test", "m1", "U1", true, None, at(1)).await.unwrap();
    store.save_feedback("test", "m1", "U1", false, Some("no"), at(2)).await.unwrap();
    assert_eq!(store.feedback("test", "m1", "U1").await.unwrap(), Some((false, Some("no".into()))));

    // Tickets: open (idempotent), list, transition with history, link.
    let new = NewTicket {
        platform: "test",
        channel: "help",
        question_message_id: Some("m1"),
        asker_id: "U1",
        asker_name: "ann",
        question: "why does it crash on ARM?",
        origin: Origin::Unanswered,
        priority: Priority::High,
        actor: "bot",
        private: false,
    };
    let (t, created) = store.open_ticket(&new, at(15)).await.unwrap();
    assert!(created);
    let (again, created_again) = store.open_ticket(&new, at(16)).await.unwrap();
    assert_eq!((again.id, created_again), (t.id, false));
    store.set_question_ticket("test", "m1", t.id).await.unwrap();
    assert_eq!(store.question("test", "m1").await.unwrap().unwrap().ticket_id, Some(t.id));
    let (other, _) = store.open_ticket(&NewTicket { question_message_id: None, priority: Priority::Low, ..new }, at(17)).await.unwrap();
    let active = store.tickets(None, 10).await.unwrap();
    assert_eq!(active.iter().map(|t| t.id).collect::<Vec<_>>(), vec![t.id, other.id], "high priority first");
    // A raised priority is written once: a second raise decided from the old priority is stale.
    let raise = ticket::raise_priority(&other, Priority::Normal, "max", at(18)).unwrap();
    store.raise_priority(&raise).await.unwrap();
    store.raise_priority(&ticket::raise_priority(&other, Priority::Urgent, "max", at(19)).unwrap()).await.unwrap();
    assert_eq!(store.ticket(other.id).await.unwrap().unwrap().priority, Priority::Normal, "{db}");
    let history = store.ticket_events(other.id).await.unwrap();
    assert_eq!(
        history.iter().map(|e| (e.action.as_str(), e.note.as_deref())).collect::<Vec<_>>(),
        vec![("open", Some("unanswered")), ("priority", Some("low → normal"))],
        "{db}"
    );
    let assign = ticket::apply(&t, &Transition::Assign { to: "mia".into() }, "mia", at(20)).unwrap();
    let assigned = store.apply_transition(&assign).await.unwrap();
    assert_eq!((assigned.status, assigned.assignee.as_deref()), (Status::Assigned, Some("mia")));
    assert_eq!(assigned.first_response_at, Some(at(20)));
    // A stale copy (still "open") cannot overwrite the newer state.
    let stale = store.apply_transition(&ticket::apply(&t, &Transition::Close, "max", at(21)).unwrap()).await.unwrap();
    assert_eq!(stale.status, Status::Assigned, "{db}");
    let resolve = ticket::apply(&assigned, &Transition::Resolve { resolution: Some("use armv8".into()) }, "mia", at(75)).unwrap();
    let resolved = store.apply_transition(&resolve).await.unwrap();
    assert_eq!((resolved.resolution.as_deref(), resolved.resolved_at, resolved.closed_at), (Some("use armv8"), Some(at(75)), None), "{db}");
    assert_eq!(resolved.resolution_time().unwrap().num_minutes(), 60);
    assert_eq!(store.tickets(Some(Status::Resolved), 10).await.unwrap().len(), 1);
    store.save_message(&StoredMessage { id: "m3".into(), text: "crash on ARM again".into(), ..msg.clone() }).await.unwrap();
    store.link_to_ticket(&resolved, "test", "m3", "bot", at(80)).await.unwrap();
    store.link_to_ticket(&resolved, "test", "m3", "bot", at(81)).await.unwrap();
    assert_eq!(store.linked_count(t.id).await.unwrap(), 1);
    assert_eq!(store.linked_questions(t.id).await.unwrap(), vec![("m3".to_string(), "crash on ARM again".to_string())]);
    let history: Vec<_> = store.ticket_events(t.id).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(history, vec!["open", "assign", "resolve", "link"], "{db}");

    // Deleting a message blanks it and drops its pending question.
    store.insert_question(&Question { message_id: "m3".into(), ..q.clone() }).await.unwrap();
    store.delete_message("test", "m3").await.unwrap();
    assert!(store.message("test", "m3").await.unwrap().is_none());
    assert!(store.question("test", "m3").await.unwrap().is_none());

    // Digest queries: questions and votes in a period, tickets opened and resolved, claims, feedback.
    let asked = store.questions_between(at(0), at(60)).await.unwrap();
    assert_eq!(asked.len(), 2, "{db}");
    assert_eq!(asked[1].community_answer_by.as_deref(), Some("U2"));
    assert_eq!(store.question_count_between(at(0), at(60)).await.unwrap(), 2);
    assert_eq!(store.votes_between(at(0), at(60)).await.unwrap(), vec![false]);
    assert_eq!(store.tickets_opened_between(at(0), at(60)).await.unwrap().len(), 2);
    assert_eq!(store.tickets_resolved_between(at(0), at(120)).await.unwrap(), 1);
    assert!(store.claim_digest(at(0), "a", at(1)).await.unwrap());
    assert!(!store.claim_digest(at(0), "b", at(1)).await.unwrap(), "{db}: claimed once");
    let note = supportbot::store::FeedbackNote {
        platform: "test".into(),
        id: "f1".into(),
        channel: "feedback".into(),
        user_id: "U1".into(),
        text: "more docs please".into(),
        source: "command",
        at: at(5),
    };
    store.save_feedback_note(&note).await.unwrap();
    store.save_feedback_note(&note).await.unwrap();
    assert_eq!(store.feedback_between(at(0), at(60)).await.unwrap(), vec![("U1".to_string(), "more docs please".to_string())]);

    // Inbox: record once, duplicates, claim after the lease, finish.
    let event = message("e1", 0, user("ann"), "hello?");
    assert!(!store.seen_event(&event.platform, None).await.unwrap(), "{db}: nothing seen yet");
    assert_eq!(store.record_incoming(&event, at(0)).await.unwrap(), Intake::Claimed);
    assert!(store.seen_event(&event.platform, None).await.unwrap());
    assert!(store.seen_event(&event.platform, Some("e1")).await.unwrap());
    assert!(!store.seen_event(&event.platform, Some("e2")).await.unwrap());
    assert_eq!(store.record_incoming(&event, at(0)).await.unwrap(), Intake::Duplicate);
    assert!(store.claim_unprocessed(at(0), 10).await.unwrap().is_empty());
    let resumed = store.claim_unprocessed(at(5), 10).await.unwrap();
    assert_eq!(resumed, vec![event.clone()]);
    let actions = vec![Action::new(ActionKind::Reply, "help", "one"), Action::new(ActionKind::Reply, "help", "two")];
    store.record_actions("test", "in:test:e1", &actions, Some(&event), at(5)).await.unwrap();
    store.record_actions("test", "in:test:e1", &actions, Some(&event), at(5)).await.unwrap();
    assert_eq!(store.record_incoming(&event, at(30)).await.unwrap(), Intake::Duplicate, "processed stays processed");

    // Outbox: claim, fail with retry, dead, sent.
    assert_eq!(store.unsent_count().await.unwrap(), 2, "{db}: recorded once");
    let batch = store.claim_outbox("test", at(5), 10).await.unwrap();
    assert_eq!(batch.iter().map(|i| i.action.text.as_str()).collect::<Vec<_>>(), vec!["one", "two"]);
    assert!(store.claim_outbox("test", at(5), 10).await.unwrap().is_empty(), "claimed");
    store.mark_sent(batch[0].id, at(5)).await.unwrap();
    store.mark_failed(batch[1].id, "429", at(7)).await.unwrap();
    assert!(store.claim_outbox("test", at(6), 10).await.unwrap().is_empty(), "waits for its retry time");
    let retry = store.claim_outbox("test", at(7), 10).await.unwrap();
    assert_eq!(retry[0].attempts, 1);
    store.mark_dead(retry[0].id, "channel gone", at(7)).await.unwrap();
    assert_eq!(store.unsent_count().await.unwrap(), 0);
    assert!(store.claim_outbox("test", at(60), 10).await.unwrap().is_empty());
}

async fn every_query_works_on(db: TestDb) {
    let store = Store::connect(&db.url, 4).await.unwrap();
    story(&store, db.name).await;
    store.close().await;
    // Migrations are idempotent: connecting again keeps the data.
    let store = Store::connect(&db.url, 4).await.unwrap();
    assert_eq!(store.tickets(Some(Status::Resolved), 10).await.unwrap().len(), 1, "{}", db.name);
    store.close().await;
}

#[tokio::test]
async fn every_query_works_on_sqlite() {
    every_query_works_on(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn every_query_works_on_postgres() {
    every_query_works_on(postgres_db().await).await;
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let err = Store::connect("mysql://nope", 1).await.unwrap_err().to_string();
    assert!(err.contains("sqlite:") && err.contains("postgres:"), "{err}");
    let err = Store::connect("sqlite:///nonexistent-dir/x/y.db", 1).await.unwrap_err().to_string();
    assert!(err.contains("unavailable"), "{err}");
}

/// A question with no FAQ candidate (no confidence) and then one with a confidence, on one
/// connection: sqlx 0.8's Any once made the first a float4 NULL, and PostgreSQL then refused the
/// second's float8 ("incorrect binary data format in bind parameter 10").
async fn questions_with_and_without_a_confidence(db: TestDb) {
    let store = Store::connect(&db.url, 1).await.unwrap();
    let q = |id: &str, confidence: Option<f64>| Question {
        platform: "test".into(),
        message_id: id.into(),
        channel: "help".into(),
        asker_id: "U1".into(),
        asker_name: "ann".into(),
        text: "why?".into(),
        asked_at: at(0),
        status: QuestionStatus::Pending,
        faq_id: None,
        confidence,
        ticket_id: None,
        private: false,
    };
    assert!(store.insert_question(&q("m1", None)).await.unwrap());
    assert!(store.insert_question(&q("m2", Some(0.42))).await.unwrap(), "{}", db.name);
    assert!(store.insert_question(&q("m3", None)).await.unwrap());
    assert_eq!(store.question("test", "m1").await.unwrap().unwrap().confidence, None);
    assert_eq!(store.question("test", "m2").await.unwrap().unwrap().confidence, Some(0.42));
    assert_eq!(store.question("test", "m3").await.unwrap().unwrap().confidence, None);
}

#[tokio::test]
async fn questions_with_and_without_a_confidence_on_sqlite() {
    questions_with_and_without_a_confidence(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn questions_with_and_without_a_confidence_on_postgres() {
    questions_with_and_without_a_confidence(postgres_db().await).await;
}
