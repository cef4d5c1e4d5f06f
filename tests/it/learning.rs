//! The FAQ learning from its community: helpful votes, tickets resolved into an entry, linked
//! questions; what stops counting; restarts and a second instance. On words alone (the model's
//! own tests are in `semantic.rs`).

use crate::helpers::*;
use supportbot::domain::faq::render_faq_document;
use supportbot::domain::learning::{LearnPolicy, LearnedFrom};
use supportbot::domain::message::{Action, ActionKind};

const EXAMPLE_FAQ: &str = include_str!("../../examples/faq.toml");

fn answer_of(actions: &[Action]) -> Option<(String, f32)> {
    let a = actions.iter().find(|a| a.kind == ActionKind::Answer)?;
    Some((a.faq_id.clone()?, a.confidence?))
}

#[tokio::test]
async fn a_ticket_resolved_into_an_existing_entry_teaches_it_without_taking_its_answers_away() {
    // The story: `faq learn 1 port-change` made a near-duplicate entry that took
    // "change the port" from `http-server`. Learned into the entry the moderator meant, the
    // question it already answered is answered as surely as before, and a second learn adds
    // nothing and makes no second entry.
    let db = sqlite_db();
    let bot = bot_with(&db, EXAMPLE_FAQ, test_config()).await;
    let entries = bot.store().faq_entries().await.unwrap().len();
    let before = answer_of(&send(&bot, command("c1", 0, user("ann"), "/ask how do I change the port")).await);
    let (faq_id, confidence) = before.clone().expect("answered before learning");
    assert_eq!(faq_id, "http-server");

    send(&bot, message("m2", 1, user("ben"), "3000 is already taken on my laptop, what now")).await;
    let opened = send(&bot, command("c2", 2, moderator("mia"), "escalate m2")).await;
    let ticket = opened[0].ticket_id.expect("a ticket");
    let taught = send(&bot, command("c3", 3, moderator("mia"), &format!("faq learn {ticket} http-server"))).await;
    assert!(taught[0].text.contains("learned 1 way of asking"), "{}", taught[0].text);
    let told = taught.iter().find(|a| a.kind == ActionKind::TicketUpdated && a.in_reply_to.as_deref() == Some("m2"));
    assert!(told.is_some_and(|a| a.text.contains("starts an HTTP server")), "the asker gets the entry's answer: {taught:?}");
    let resolved = bot.store().ticket(ticket).await.unwrap().unwrap();
    assert_eq!(resolved.status, supportbot::domain::ticket::Status::Resolved);

    let after = answer_of(&send(&bot, command("c4", 4, user("ann"), "/ask how do I change the port")).await);
    let (faq_id, confidence_after) = after.expect("still answered after learning");
    assert_eq!(faq_id, "http-server");
    assert!(confidence_after >= confidence, "{confidence_after} < {confidence}");
    let same_words = answer_of(&send(&bot, command("c5", 5, user("cai"), "/ask 3000 is already taken on my laptop, what now")).await);
    assert_eq!(same_words.map(|(id, _)| id).as_deref(), Some("http-server"), "the learned words are answered");

    let again = send(&bot, command("c6", 6, moderator("mia"), &format!("faq learn {ticket} http-server"))).await;
    assert!(again[0].text.contains("learned nothing new"), "{}", again[0].text);
    for (i, line) in [format!("faq learn {ticket}"), format!("faq learn {ticket} port-change")].iter().enumerate() {
        let refused = send(&bot, command(&format!("c7-{i}"), 7, moderator("mia"), line)).await;
        assert!(refused[0].text.contains("already learned into `http-server`"), "{line}: {}", refused[0].text);
    }
    assert_eq!(bot.store().faq_entries().await.unwrap().len(), entries, "no near-duplicate entry");
    let learned = bot.store().learned_phrasings(Some("http-server")).await.unwrap();
    assert_eq!(learned.len(), 1);
    assert_eq!((learned[0].from, learned[0].confirmed_by.as_str(), learned[0].message.as_deref()), (LearnedFrom::Ticket, "mia", Some("test:m2")));
}

#[tokio::test]
async fn a_helpful_vote_teaches_the_askers_words_and_a_later_not_helpful_takes_them_back() {
    let (bot, _db) = spawn_bot().await;
    let asked = send(&bot, command("c1", 0, user("ann"), "/ask I forgot my password, how do I reset it")).await;
    assert_eq!(answer_of(&asked).map(|(id, _)| id).as_deref(), Some("reset-password"));
    send(&bot, vote("v1", 1, user("ann"), "c1", true)).await;
    let learned = bot.store().learned_phrasings(Some("reset-password")).await.unwrap();
    assert_eq!(learned.len(), 1, "{learned:?}");
    assert_eq!((learned[0].text.as_str(), learned[0].from), ("I forgot my password, how do I reset it", LearnedFrom::Helpful));
    assert_eq!((learned[0].confirmed_by.as_str(), learned[0].message.as_deref()), ("ann", Some("test:c1")));

    let listed = send(&bot, command("c2-list", 2, user("ben"), "faq list")).await;
    let line = listed[0].text.lines().find(|l| l.contains("`reset-password`")).unwrap_or_default();
    assert!(line.trim_end().ends_with(", 1 learned, rated helpful 1 of 1"), "{line:?}");
    let shown = send(&bot, command("c2", 2, user("ben"), "faq show reset-password")).await;
    assert!(shown[0].text.contains("Rated helpful 1 time, not helpful 0 times"), "{}", shown[0].text);
    assert!(shown[0].text.contains("1. I forgot my password, how do I reset it (helpful, confirmed by ann"), "{}", shown[0].text);

    // Someone else's vote on the same answer is no confirmation.
    send(&bot, vote("v2", 3, user("ben"), "c1", false)).await;
    assert_eq!(bot.store().learned_phrasings(None).await.unwrap().len(), 1);
    send(&bot, vote("v3", 4, user("ann"), "c1", false)).await;
    assert!(bot.store().learned_phrasings(None).await.unwrap().is_empty(), "the asker took it back");
    // The asker changing their mind back confirms it again.
    send(&bot, vote("v4", 5, user("ann"), "c1", true)).await;
    assert_eq!(bot.store().learned_phrasings(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn under_the_moderated_policy_votes_teach_nothing_and_moderators_still_do() {
    let db = sqlite_db();
    let mut config = test_config();
    config.learn = LearnPolicy::Moderated;
    let bot = bot_with(&db, TEST_FAQ, config).await;
    send(&bot, command("c1", 0, user("ann"), "/ask I forgot my password, how do I reset it")).await;
    send(&bot, vote("v1", 1, user("ann"), "c1", true)).await;
    assert!(bot.store().learned_phrasings(None).await.unwrap().is_empty());
    send(&bot, message("m1", 2, user("ben"), "the login page keeps rejecting me")).await;
    let linked = send(&bot, command("c2", 3, moderator("mia"), "faq link m1 reset-password")).await;
    assert!(linked[0].text.contains("learned 1 way of asking"), "{}", linked[0].text);
    assert_eq!(bot.store().learned_phrasings(None).await.unwrap()[0].from, LearnedFrom::Moderator);
}

#[tokio::test]
async fn with_learning_off_nothing_is_learned_and_the_moderator_is_told() {
    let db = sqlite_db();
    let mut config = test_config();
    config.learn = LearnPolicy::Off;
    let bot = bot_with(&db, TEST_FAQ, config).await;
    send(&bot, message("m1", 0, user("ben"), "the login page keeps rejecting me")).await;
    let refused = send(&bot, command("c1", 1, moderator("mia"), "faq link m1 reset-password")).await;
    assert!(refused[0].text.contains("Learning is off"), "{}", refused[0].text);
    assert!(bot.store().learned_phrasings(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn removing_a_learned_phrasing_changes_the_next_answer() {
    let (bot, _db) = spawn_bot().await;
    let question = "the login page keeps rejecting me";
    send(&bot, message("m1", 0, user("ben"), question)).await;
    let unanswered = answer_of(&send(&bot, command("c0", 1, user("ann"), &format!("/ask {question}"))).await);
    assert_eq!(unanswered, None, "not answerable before it is taught");
    send(&bot, command("c1", 2, moderator("mia"), "faq link m1 reset-password")).await;
    let taught = answer_of(&send(&bot, command("c2", 3, user("ann"), &format!("/ask {question}"))).await);
    assert_eq!(taught.map(|(id, _)| id).as_deref(), Some("reset-password"));

    let wrong_number = send(&bot, command("c3", 4, moderator("mia"), "faq unlearn reset-password 2")).await;
    assert!(wrong_number[0].text.contains("has 1 learned phrasing, so there is no number 2"), "{}", wrong_number[0].text);
    let removed = send(&bot, command("c4", 5, moderator("mia"), "faq unlearn reset-password 1")).await;
    assert!(removed[0].text.contains("no longer counts"), "{}", removed[0].text);
    let after = answer_of(&send(&bot, command("c5", 6, user("ann"), &format!("/ask {question}"))).await);
    assert_eq!(after, None, "the removed phrasing no longer answers");
    // A moderator may teach it again: that revives it.
    send(&bot, command("c6", 7, moderator("mia"), "faq link m1 reset-password")).await;
    assert_eq!(bot.store().learned_phrasings(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_entry_keeps_at_most_its_cap_of_learned_phrasings() {
    let db = sqlite_db();
    let mut config = test_config();
    config.learned_per_entry = 2;
    let bot = bot_with(&db, TEST_FAQ, config).await;
    for (i, text) in ["cannot log in", "login rejected", "sign-in fails"].iter().enumerate() {
        send(&bot, message(&format!("m{i}"), i as i64, user("ben"), text)).await;
        let reply = send(&bot, command(&format!("c{i}"), i as i64, moderator("mia"), &format!("faq link m{i} reset-password"))).await;
        if i == 2 {
            assert!(reply[0].text.contains("has its 2 learned phrasings"), "{}", reply[0].text);
        }
    }
    assert_eq!(bot.store().learned_phrasings(Some("reset-password")).await.unwrap().len(), 2);
}

async fn learned_phrasings_survive_a_restart_and_reach_a_second_instance(db: TestDb) {
    let first = bot_with(&db, TEST_FAQ, test_config()).await;
    let second = bot_with(&db.shared(), TEST_FAQ, test_config()).await;
    let question = "the login page keeps rejecting me";
    assert_eq!(answer_of(&send(&second, command("c0", 0, user("ann"), &format!("/ask {question}"))).await), None, "{}", db.name);
    send(&first, message("m1", 1, user("ben"), question)).await;
    send(&first, command("c1", 2, moderator("mia"), "faq link m1 reset-password")).await;
    let seen = answer_of(&send(&second, command("c2", 3, user("ann"), &format!("/ask {question}"))).await);
    assert_eq!(seen.map(|(id, _)| id).as_deref(), Some("reset-password"), "the other instance answers from it ({})", db.name);
    drop((first, second));
    let restarted = bot_with(&db.shared(), TEST_FAQ, test_config()).await;
    let again = answer_of(&send(&restarted, command("c3", 4, user("ann"), &format!("/ask {question}"))).await);
    assert_eq!(again.map(|(id, _)| id).as_deref(), Some("reset-password"), "after a restart ({})", db.name);

    // `faq export --learned` into a new database, and back: the same phrasings, provenance kept.
    let store = restarted.store();
    let learned = store.learned_phrasings(None).await.unwrap();
    let exported = render_faq_document(&store.faq_entries().await.unwrap(), &learned);
    let other_db = sqlite_db();
    let elsewhere = bot_with(&other_db, "faq = []", test_config()).await;
    let report = supportbot::app::import_faq(elsewhere.store(), "export.toml", &exported).await.unwrap();
    assert_eq!((report.added.len(), report.learned), (3, 1), "{}", db.name);
    assert_eq!(elsewhere.store().learned_phrasings(None).await.unwrap(), learned, "{}", db.name);
    let answered = answer_of(&send(&elsewhere, command("c4", 5, user("ann"), &format!("/ask {question}"))).await);
    assert_eq!(answered.map(|(id, _)| id).as_deref(), Some("reset-password"), "{}", db.name);
    let twice = supportbot::app::import_faq(elsewhere.store(), "export.toml", &exported).await.unwrap();
    assert_eq!(twice.learned, 0, "importing again adds nothing");
}

#[tokio::test]
async fn learned_phrasings_survive_a_restart_and_reach_a_second_instance_on_sqlite() {
    learned_phrasings_survive_a_restart_and_reach_a_second_instance(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn learned_phrasings_survive_a_restart_and_reach_a_second_instance_on_postgres() {
    learned_phrasings_survive_a_restart_and_reach_a_second_instance(postgres_db().await).await;
}

#[tokio::test]
async fn a_new_entry_that_overlaps_an_old_one_is_named_with_the_questions_it_would_take() {
    let db = sqlite_db();
    let bot = bot_with(&db, EXAMPLE_FAQ, test_config()).await;
    send(&bot, command("c1", 0, user("ann"), "/ask how do I change the port")).await;
    send(&bot, command("c2", 1, user("ben"), "/ask how do I install it")).await;
    let added = send(&bot, command("c3", 2, moderator("mia"), "faq add port-change | How do I change the port? | Set [server] listen.")).await;
    assert_eq!(added.len(), 2, "{added:?}");
    let warning = &added[1].text;
    assert!(warning.contains("`port-change` overlaps") && warning.contains("already answered by `http-server`"), "{warning}");
    // The near-duplicate splits the question between the two entries: it would lose its answer.
    assert!(warning.contains("recent questions would now be answered differently"), "{warning}");
    assert!(warning.contains("- how do I change the port: `http-server` → no answer\n"), "{warning}");
    // An entry about something new overlaps nothing and warns about nothing.
    let quiet =
        send(&bot, command("c4", 3, moderator("mia"), "faq add logo | Can I change the bot's avatar? | Upload one in the app settings.")).await;
    assert_eq!(quiet.len(), 1, "{quiet:?}");
}

#[tokio::test]
async fn the_calibration_is_refitted_by_the_scheduler_once_learning_has_moved_the_faq_not_by_a_question() {
    let db = sqlite_db();
    let bot = bot_with(&db, EXAMPLE_FAQ, test_config()).await;
    let fitted_on = bot.faq().await.unwrap().fitted().phrasings;
    let detector = bot.detector().await.unwrap();
    for i in 0..25 {
        let id = format!("m{i}");
        // Sent as a member would (the decision runs on each): learning must not refit the
        // detector for every next message.
        send(&bot, message(&id, i, user("ben"), &format!("the port {} is taken by another service", 3000 + i))).await;
        send(&bot, command(&format!("c{i}"), i, moderator("mia"), &format!("faq link {id} http-server"))).await;
    }
    let index = bot.faq().await.unwrap();
    assert_eq!(index.phrasing_count(), fitted_on + 25, "every learned phrasing is in the index at once");
    assert_eq!(index.fitted().phrasings, fitted_on, "no question or lesson waited for a refit");
    assert!(std::sync::Arc::ptr_eq(&detector, &bot.detector().await.unwrap()), "nor for the support-question detector");
    send(&bot, command("c-ask", 30, user("ann"), "/ask how do I change the port")).await;
    assert_eq!(bot.faq().await.unwrap().fitted().phrasings, fitted_on, "a question does not refit either");
    bot.tick(at(31)).await.unwrap();
    assert_eq!(bot.faq().await.unwrap().fitted().phrasings, fitted_on + 25, "the scheduler's tick refitted it");
}

async fn two_instances_teaching_the_same_words_at_once_keep_one_phrasing(db: TestDb) {
    let (first, second) = (bot_with(&db, TEST_FAQ, test_config()).await, bot_with(&db.shared(), TEST_FAQ, test_config()).await);
    for bot in [&first, &second] {
        bot.remember(&message("m1", 0, user("ben"), "the login page keeps rejecting me")).await.unwrap();
    }
    let (a, b) = tokio::join!(
        send(&first, command("c1", 1, moderator("mia"), "faq link m1 reset-password")),
        send(&second, command("c2", 1, moderator("max"), "faq link m1 reset-password")),
    );
    let replies = [a[0].text.as_str(), b[0].text.as_str()];
    assert_eq!(replies.iter().filter(|r| r.contains("learned 1 way of asking")).count(), 1, "{replies:?}");
    assert_eq!(replies.iter().filter(|r| r.contains("Already known")).count(), 1, "{replies:?}");
    assert_eq!(first.store().learned_phrasings(None).await.unwrap().len(), 1, "{}", db.name);
}

#[tokio::test]
async fn two_instances_teaching_the_same_words_at_once_keep_one_phrasing_on_sqlite() {
    two_instances_teaching_the_same_words_at_once_keep_one_phrasing(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn two_instances_teaching_the_same_words_at_once_keep_one_phrasing_on_postgres() {
    two_instances_teaching_the_same_words_at_once_keep_one_phrasing(postgres_db().await).await;
}
