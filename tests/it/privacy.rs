//! Privacy a community can promise (issue 22): a member forgotten leaves no trace in any table,
//! file or export; a moderator and the operator can forget and export; retention removes what
//! is older than its setting, once across instances and in batches; the policy is said.

use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use sqlx::{Connection, Row};
use std::path::{Path, PathBuf};
use supportbot::bot::{Bot, BotConfig, Scheduler};
use supportbot::config::Settings;
use supportbot::domain::message::{Action, ActionKind, Incoming, IncomingKind};
use supportbot::domain::privacy::{Keep, REMOVED_AT_REQUEST, REMOVED_BY_RETENTION};
use supportbot::domain::ticket::Status;

/// In every text the forgotten member writes: nothing may hold it afterwards.
const MARKER: &str = "qxv7zmarker";
const ZED_ID: &str = "U-zorblax";
const ZED_NAME: &str = "Zorblax";

fn zed() -> supportbot::domain::message::Author {
    supportbot::domain::message::Author { id: ZED_ID.into(), name: ZED_NAME.into(), is_moderator: false }
}

fn with_comment(mut v: Incoming, comment: &str) -> Incoming {
    if let IncomingKind::Feedback { comment: c, .. } = &mut v.kind {
        *c = Some(comment.into());
    }
    v
}

/// Every action waiting in the outbox, sent (to a sink that keeps nothing).
async fn deliver(bot: &Bot, now: DateTime<Utc>) {
    supportbot::chat::deliver_pending(&bot.outbox(), &Collect::default(), now).await.unwrap();
}

fn sqlite_path(db: &TestDb) -> Option<PathBuf> {
    db.url.strip_prefix("sqlite://").map(PathBuf::from)
}

/// Every (table, column) whose text holds one of `needles` (any case), on SQLite or PostgreSQL.
async fn text_columns_holding(url: &str, needles: &[&str]) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let postgres = url.starts_with("postgres");
    let columns: Vec<(String, String)> = if postgres {
        sqlx::query(
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character') ORDER BY 1, 2",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("t"), r.get("c")))
        .collect()
    } else {
        let tables: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name"))
            .collect();
        let mut all = Vec::new();
        for t in tables {
            for r in sqlx::query(&format!("SELECT name FROM pragma_table_info('{t}')")).fetch_all(&mut conn).await.unwrap() {
                all.push((t.clone(), r.get::<String, _>("name")));
            }
        }
        all
    };
    assert!(columns.iter().any(|(t, c)| t == "messages" && c == "text"), "{columns:?}");
    let mut found = Vec::new();
    for (table, column) in &columns {
        for needle in needles {
            let sql = format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE LOWER(CAST(\"{column}\" AS TEXT)) LIKE $1");
            let n: i64 = sqlx::query(&sql).bind(format!("%{}%", needle.to_lowercase())).fetch_one(&mut conn).await.unwrap().get("n");
            if n > 0 {
                found.push(format!("{table}.{column} holds {needle:?} ({n} rows)"));
            }
        }
    }
    conn.close().await.unwrap();
    found
}

/// The outbox's attachments (base64 in its payloads) that hold one of `needles`.
async fn attachments_holding(url: &str, needles: &[&str]) -> Vec<String> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT id, payload FROM outbox").fetch_all(&mut conn).await.unwrap();
    let mut found = Vec::new();
    for r in rows {
        let payload: String = r.get("payload");
        let Ok(action) = serde_json::from_str::<Action>(&payload) else { continue };
        if let Some(a) = action.attachment {
            let text = String::from_utf8_lossy(&a.bytes).to_lowercase();
            found.extend(
                needles.iter().filter(|n| text.contains(&n.to_lowercase())).map(|n| format!("outbox {} attachment holds {n}", r.get::<i64, _>("id"))),
            );
        }
    }
    found
}

/// What an operator's `supportbot <args>` prints, on the database at `url`.
fn supportbot_cli(args: &[&str], url: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(args)
        .args(["--db", url])
        .current_dir(dir.path())
        .env_remove("SUPPORTBOT_DATABASE__URL")
        .env("SUPPORTBOT_MODEL__FETCH", "false")
        .env("XDG_CACHE_HOME", dir.path().join(".cache"))
        .output()
        .expect("run supportbot")
}

fn config_with(configure: impl FnOnce(&mut Settings)) -> BotConfig {
    let mut settings = Settings::default();
    settings.tickets.moderators_channel = "mods".into();
    configure(&mut settings);
    BotConfig::from_settings(&settings)
}

/// The number a `SELECT COUNT(*) ...` gives.
async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query(sql).fetch_one(&mut conn).await.unwrap().get(0);
    conn.close().await.unwrap();
    n
}

/// A member asks, is answered, votes (helpful, and not helpful with a comment), has a ticket
/// with a thread, gives feedback, is escalated from chatter (a detector example), is quoted in
/// a digest and exported by a moderator; then forgets themselves with `forget-me` and its
/// confirmation. Afterwards no table, no database file, no sent message and no FAQ export
/// holds their words, their id or their name; their tickets keep their numbers, states and
/// history rows; the bot goes on; their next message is handled like anyone's.
async fn a_forgotten_member_leaves_no_trace(db: TestDb) {
    let config = config_with(|s| {
        s.digest.min_users = 1; // the digest quotes anyone
        s.faq.threshold = 0.3; // the marker is a word the FAQ does not know
    });
    let bot = bot_with(&db, TEST_FAQ, config).await;

    // Asked and answered; a helpful vote teaches the FAQ their words.
    let answered = send(&bot, message("z1", 0, zed(), &format!("I forgot my password, how do I reset it? {MARKER}"))).await;
    assert_eq!(kinds(&answered), vec![ActionKind::Answer], "{answered:?}");
    send(&bot, vote("v1", 1, zed(), "z1", true)).await;
    assert_eq!(bot.store().learned_phrasings(Some("reset-password")).await.unwrap().len(), 1, "the FAQ learned their words");
    // Answered again, voted not helpful with a comment: a ticket and a piece of feedback.
    let pg = send(&bot, message("z2", 2, zed(), &format!("can I use postgresql instead of sqlite {MARKER}?"))).await;
    assert_eq!(kinds(&pg), vec![ActionKind::Answer], "{pg:?}");
    let opened = send(&bot, with_comment(vote("v2", 3, zed(), "z2", false), &format!("still lost {MARKER}"))).await;
    let not_helpful_ticket = opened.iter().find_map(|a| a.ticket_id).expect("a ticket for the not-helpful vote");
    // Unanswered: a ticket, worked in its thread.
    send(&bot, message("z3", 4, zed(), &format!("my build fails on ARM with a linker error {MARKER}"))).await;
    bot.tick(at(20)).await.unwrap();
    let tickets = bot.store().tickets(None, 10).await.unwrap();
    let arm = tickets.iter().find(|t| t.question_message_id.as_deref() == Some("z3")).expect("the unanswered question's ticket").id;
    send(&bot, reply("z4", 21, zed(), "z3", &format!("it is a Raspberry Pi 4 {MARKER}"))).await;
    send(&bot, reply("m1", 22, moderator("mia"), "z3", &format!("try the aarch64 target, {ZED_NAME}"))).await;
    send(&bot, command("m2", 23, moderator("mia"), &format!("ticket note {arm} {ZED_NAME} said {MARKER} on the forum too"))).await;
    // Feedback, chatter a moderator escalates (the detector learns it), an answer to someone else.
    send(&bot, command("z5", 24, zed(), &format!("feedback the docs are thin {MARKER}"))).await;
    send(&bot, message("z6", 25, zed(), &format!("good morning all {MARKER}"))).await;
    send(&bot, command("m3", 26, moderator("mia"), "escalate z6")).await;
    assert_eq!(bot.store().detector_examples().await.unwrap().len(), 1);
    send(&bot, message("b1", 27, user("ben"), "my docker image is too big, how do I shrink it?")).await;
    send(&bot, reply("z7", 28, zed(), "b1", &format!("use a multi-stage build {MARKER}"))).await;
    // A digest preview quoting them, and a moderator's export, both delivered.
    let digest = send(&bot, command("m4", 29, moderator("mia"), "digest")).await;
    assert!(digest[0].text.contains("*Privacy:*"), "the digest says the policy: {}", digest[0].text);
    let export = send(&bot, command("m5", 30, moderator("mia"), &format!("privacy export {ZED_ID}"))).await;
    assert!(export[0].attachment.as_ref().is_some_and(|a| String::from_utf8_lossy(&a.bytes).contains(MARKER)));
    deliver(&bot, at(31)).await;

    let tickets_before = bot.store().tickets(None, 50).await.unwrap();
    let mut history_before = Vec::new();
    for t in &tickets_before {
        history_before.push(bot.store().ticket_events(t.id).await.unwrap().len());
    }

    // An answer still on its way when they ask.
    let waiting = send(&bot, message("z12", 35, zed(), &format!("How do I install the bot? {MARKER}"))).await;
    assert_eq!(kinds(&waiting), vec![ActionKind::Answer], "{waiting:?}");

    // forget-me: what would go, then the confirmation.
    let ask = send(&bot, command("z8", 40, zed(), "forget-me")).await;
    assert_eq!(ask.len(), 1);
    assert!(ask[0].ephemeral && ask[0].recipient.as_deref() == Some(ZED_ID), "only they see it: {ask:?}");
    assert!(ask[0].text.contains("forget-me confirm") && ask[0].text.contains("questions"), "{}", ask[0].text);
    let done = send(&bot, command("z9", 42, zed(), "forget-me confirm")).await;
    assert!(done[0].text.contains("forgotten you"), "{}", done[0].text);
    assert!(done[0].ephemeral && done[0].erase_after_send, "{done:?}");
    deliver(&bot, at(44)).await;
    // The answer that was still waiting (and the forget-me reply before the confirmation) were
    // withdrawn, not sent, and are no failure of delivery.
    let withdrawn = count(&db.url, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND last_error LIKE 'withdrawn:%'").await;
    assert_eq!(withdrawn, 2, "{}", db.name);
    assert_eq!(bot.store().given_up_between(at(0), at(60)).await.unwrap(), 0);

    // Tickets keep their numbers, states and history rows, without the text.
    let tickets_after = bot.store().tickets(None, 50).await.unwrap();
    assert_eq!(
        tickets_after.iter().map(|t| (t.id, t.status)).collect::<Vec<_>>(),
        tickets_before.iter().map(|t| (t.id, t.status)).collect::<Vec<_>>()
    );
    for (t, before) in tickets_after.iter().zip(&history_before) {
        assert_eq!(bot.store().ticket_events(t.id).await.unwrap().len(), *before, "ticket #{} keeps its history rows", t.id);
    }
    let arm_ticket = bot.store().ticket(arm).await.unwrap().unwrap();
    assert_eq!((arm_ticket.question.as_str(), arm_ticket.asker_id.as_str()), (REMOVED_AT_REQUEST, ""));
    let shown = send(&bot, command("m6", 45, moderator("mia"), &format!("ticket show {not_helpful_ticket}"))).await[0].text.clone();
    assert!(shown.contains("removed at the member") && !shown.contains(MARKER), "{shown}");
    let learn = send(&bot, command("m8", 46, moderator("mia"), &format!("faq learn {arm} reset-password"))).await;
    assert!(learn[0].text.contains("nothing to learn"), "a removed text teaches the FAQ nothing: {}", learn[0].text);

    // Nothing holds their words, id or name: every text column, the files, the FAQ export.
    let needles = [MARKER, ZED_ID, ZED_NAME];
    let found = text_columns_holding(&db.url, &needles).await;
    assert!(found.is_empty(), "{}: {found:#?}", db.name);
    let attached = attachments_holding(&db.url, &needles).await;
    assert!(attached.is_empty(), "{attached:?}");
    let export = supportbot_cli(&["faq", "export", "--learned"], &db.url);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let exported = String::from_utf8_lossy(&export.stdout).to_lowercase();
    assert!(exported.contains("reset-password"), "{exported}");
    for n in needles {
        assert!(!exported.contains(&n.to_lowercase()), "the FAQ export holds {n}: {exported}");
    }
    if let Some(path) = sqlite_path(&db) {
        bot.store().close().await;
        for file in [path.clone(), PathBuf::from(format!("{}-wal", path.display())), PathBuf::from(format!("{}-shm", path.display()))] {
            let Ok(bytes) = std::fs::read(&file) else { continue };
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            for n in needles {
                assert!(!text.contains(&n.to_lowercase()), "{} holds {n:?}", file.display());
            }
        }
    }

    // The bot goes on, and their next message is handled like anyone's.
    let bot = bot_with(&db, TEST_FAQ, test_config()).await;
    bot.tick(at(60)).await.unwrap();
    let again = send(&bot, command("z10", 60, zed(), "forget-me confirm")).await;
    assert!(again[0].text.contains("nothing to confirm"), "a second confirm finds no request: {}", again[0].text);
    let later = send(&bot, message("z11", 61, zed(), "How do I install the bot?")).await;
    assert_eq!(kinds(&later), vec![ActionKind::Answer], "{later:?}");
    assert_eq!(bot.store().message("test", "z11").await.unwrap().unwrap().user_id, ZED_ID);
    let list = send(&bot, command("m7", 62, moderator("mia"), "ticket list")).await;
    assert!(list[0].text.contains(&format!("#{arm}")), "{}", list[0].text);
}

#[tokio::test]
async fn a_forgotten_member_leaves_no_trace_on_sqlite() {
    a_forgotten_member_leaves_no_trace(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn a_forgotten_member_leaves_no_trace_on_postgres() {
    a_forgotten_member_leaves_no_trace(postgres_db().await).await;
}

/// `privacy forget <member>`: refused to a member, done for a moderator (no confirmation),
/// and by the operator's command line; `forget-me cancel` deletes nothing.
async fn moderators_and_the_operator_forget(db: TestDb) {
    let bot = bot_with(&db, TEST_FAQ, test_config()).await;
    send(&bot, message("a1", 0, user("ann"), "I forgot my password, how do I reset it?")).await;
    send(&bot, message("b1", 1, user("bob"), "How do I install the bot on my synology NAS?")).await;
    send(&bot, command("f1", 2, user("cat"), "feedback more examples please")).await;

    let refused = send(&bot, command("c1", 3, user("ben"), "privacy forget U-ann")).await;
    assert_eq!(kinds(&refused), vec![ActionKind::Refused]);
    let refused = send(&bot, command("c2", 3, user("ben"), "privacy export U-ann")).await;
    assert_eq!(kinds(&refused), vec![ActionKind::Refused]);
    assert!(bot.store().message("test", "a1").await.unwrap().is_some(), "a refusal changes nothing");

    let asked = send(&bot, command("c3", 4, user("cat"), "forget-me")).await;
    assert!(asked[0].text.contains("1 feedback"), "{}", asked[0].text);
    let cancelled = send(&bot, command("c4", 5, user("cat"), "forget-me cancel")).await;
    assert!(cancelled[0].text.contains("Cancelled"), "{}", cancelled[0].text);
    let unasked = send(&bot, command("c5", 6, user("cat"), "forget-me confirm")).await;
    assert!(unasked[0].text.contains("nothing to confirm"), "{}", unasked[0].text);
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM feedback").await, 1, "cancelled: nothing deleted");
    // A forget-me confirmed too late is no confirmation.
    send(&bot, command("c6", 7, user("cat"), "forget-me")).await;
    let late = send(&bot, command("c7", 7 + 16, user("cat"), "forget-me confirm")).await;
    assert!(late[0].text.contains("nothing to confirm"), "{}", late[0].text);

    let done = send(&bot, command("c8", 30, moderator("mia"), "privacy forget <@U-ann>")).await;
    assert!(done[0].ephemeral && done[0].recipient.as_deref() == Some("U-mia"), "{done:?}");
    assert!(done[0].text.contains("is forgotten") && done[0].text.contains("1 question"), "{}", done[0].text);
    assert!(bot.store().message("test", "a1").await.unwrap().is_none());
    assert!(bot.store().question("test", "a1").await.unwrap().is_none());
    let usage = send(&bot, command("c9", 31, moderator("mia"), "privacy forget @ann")).await;
    assert!(usage[0].text.contains("not their name"), "{}", usage[0].text);
    deliver(&bot, at(32)).await;
    let found = text_columns_holding(&db.url, &["U-ann"]).await;
    assert!(found.is_empty(), "the moderator's command and its reply go too: {found:#?}");

    // The operator: export, then forget, from the command line, while the bot runs.
    let out = supportbot_cli(&["privacy", "export", "--platform", "test", "--user", "U-bob"], &db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(export["messages"][0]["text"], "How do I install the bot on my synology NAS?", "{export:#}");
    let out = supportbot_cli(&["privacy", "forget", "--platform", "test", "--user", "U-bob"], &db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("forgot member U-bob of test: removed"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(bot.store().message("test", "b1").await.unwrap().is_none());
    let found = text_columns_holding(&db.url, &["U-bob", "synology"]).await;
    assert!(found.is_empty(), "{found:#?}");
    // Recorded without whose data it was.
    // (the operator's run on the wall clock, the chat's on the tests' clock)
    let actions = bot.store().privacy_actions_between(at(-365 * 24 * 60), Utc::now() + Duration::days(1)).await.unwrap();
    let mut kinds: Vec<(&str, &str)> = actions.iter().map(|(a, by, _)| (a.as_str(), by.as_str())).collect();
    kinds.sort();
    assert_eq!(kinds, vec![("export", "operator"), ("forget", "moderator"), ("forget", "operator")], "{actions:?}");
    assert!(actions.iter().all(|(_, _, counts)| !counts.contains("U-")), "{actions:?}");
}

#[tokio::test]
async fn moderators_and_the_operator_forget_on_sqlite() {
    moderators_and_the_operator_forget(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn moderators_and_the_operator_forget_on_postgres() {
    moderators_and_the_operator_forget(postgres_db().await).await;
}

/// The export of a member who asked, was answered, voted and had a ticket holds each of them,
/// goes to the moderator only, and its outbox row is blanked once delivered.
async fn the_export_holds_the_questions_answers_votes_and_tickets(db: TestDb) {
    let bot = bot_with(&db, TEST_FAQ, test_config()).await;
    send(&bot, message("q1", 0, user("ann"), "I forgot my password, how do I reset it?")).await;
    send(&bot, with_comment(vote("v1", 1, user("ann"), "q1", false), "the link never arrives")).await;
    let ticket = bot.store().tickets(None, 10).await.unwrap()[0].id;
    send(&bot, reply("r1", 2, user("ann"), "q1", "checked the spam folder too")).await;
    send(&bot, message("q2", 3, user("ben"), "How do I install the bot?")).await;

    let replies = send(&bot, command("e1", 4, moderator("mia"), "privacy export U-ann")).await;
    assert_eq!(replies.len(), 1);
    let reply = &replies[0];
    assert!(reply.ephemeral && reply.recipient.as_deref() == Some("U-mia") && reply.erase_after_send, "{reply:?}");
    assert!(reply.text.contains("```json"), "the platform takes no private file here: inline: {}", reply.text);
    let json: serde_json::Value = serde_json::from_slice(&reply.attachment.as_ref().unwrap().bytes).unwrap();
    assert_eq!(json["user_id"], "U-ann");
    let question = &json["questions"][0];
    assert_eq!(question["text"], "I forgot my password, how do I reset it?");
    assert_eq!(question["answer"]["faq_id"], "reset-password", "answered: {question:#}");
    assert_eq!(question["answer"]["answer"], "Use the *Forgot password* link on the login page.");
    assert_eq!((json["votes"][0]["helpful"].as_bool(), json["votes"][0]["comment"].as_str()), (Some(false), Some("the link never arrives")));
    assert_eq!(json["tickets"][0]["id"], ticket);
    let history = json["tickets"][0]["history"].as_array().unwrap();
    assert!(history.iter().any(|l| l["note"] == "checked the spam folder too"), "the thread is in it: {history:#?}");
    assert_eq!(json["feedback"][0]["text"], "the link never arrives");
    assert!(!json.to_string().contains("install the bot"), "nobody else's data");
    // The inline copy is the same document, inert in its code block.
    let inline = reply.text.split("```json\n").nth(1).unwrap().split("\n```").next().unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(inline).unwrap(), json);
    assert!(!inline.contains('@') && !inline.contains('`'));

    deliver(&bot, at(5)).await;
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM outbox WHERE origin = 'in:test:e1' AND payload = '{}'").await, 1, "blanked once delivered");
    let kinds: Vec<String> = bot.store().privacy_actions_between(at(0), at(10)).await.unwrap().into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(kinds, vec!["export"]);
}

#[tokio::test]
async fn the_export_holds_the_questions_answers_votes_and_tickets_on_sqlite() {
    the_export_holds_the_questions_answers_votes_and_tickets(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn the_export_holds_the_questions_answers_votes_and_tickets_on_postgres() {
    the_export_holds_the_questions_answers_votes_and_tickets(postgres_db().await).await;
}

/// Two bots on one database, a controlled clock, `[privacy]` set short: retention removes
/// exactly what is older than each setting (one millisecond older goes, exactly as old stays),
/// once across the two instances.
async fn retention_removes_exactly_what_is_older_once(db: TestDb) {
    let keep = |s: &mut Settings| {
        s.privacy.keep_unacted = Keep::For(Duration::days(1));
        s.privacy.keep_messages = Keep::For(Duration::days(10));
        s.privacy.keep_feedback = Keep::For(Duration::days(20));
        s.privacy.keep_tickets = Keep::For(Duration::days(30));
    };
    let a = bot_with(&db, TEST_FAQ, config_with(keep)).await;
    let b = bot_with(&db.shared(), TEST_FAQ, config_with(keep)).await;
    let now = at(50 * 24 * 60);
    let ms = Duration::milliseconds(1);
    let at_time = |mut e: Incoming, t: DateTime<Utc>| {
        e.at = t;
        e
    };
    let send_at = async |e: Incoming| {
        let t = e.at;
        a.receive(&e, t).await.unwrap_or_else(|err| panic!("{}: {err}", e.event_id))
    };
    // Tickets, resolved 30 days (and a millisecond more) before now.
    let t_old = now - Duration::days(30) - ms;
    let t_edge = now - Duration::days(30);
    send_at(at_time(message("t1", 0, user("ann"), "my build fails on ARM with a linker error"), t_old - Duration::hours(1))).await;
    send_at(at_time(message("t2", 0, user("ben"), "why does the docker container exit with code 137 on start?"), t_edge - Duration::hours(1))).await;
    a.tick(t_edge - Duration::minutes(30)).await.unwrap();
    let ids: Vec<(String, i64)> =
        a.store().tickets(None, 10).await.unwrap().into_iter().map(|t| (t.question_message_id.unwrap_or_default(), t.id)).collect();
    let ticket_of = |m: &str| ids.iter().find(|(q, _)| q == m).map(|(_, id)| *id).unwrap();
    let (old_ticket, edge_ticket) = (ticket_of("t1"), ticket_of("t2"));
    send_at(at_time(reply("t1r", 0, user("ann"), "t1", "it is a Raspberry Pi 4"), t_old - Duration::minutes(10))).await;
    send_at(at_time(command("t1c", 0, moderator("mia"), &format!("ticket resolve {old_ticket} use the aarch64 image")), t_old)).await;
    send_at(at_time(command("t2c", 0, moderator("mia"), &format!("ticket resolve {edge_ticket} give it more memory")), t_edge)).await;
    // Answered questions and votes, 10 days old.
    send_at(at_time(message("q1", 0, user("cat"), "How do I install the bot?"), now - Duration::days(10) - ms)).await;
    send_at(at_time(vote("v1", 0, user("cat"), "q1", true), now - Duration::days(10) - ms)).await;
    send_at(at_time(message("q2", 0, user("dan"), "Can I use PostgreSQL instead of SQLite?"), now - Duration::days(10))).await;
    send_at(at_time(vote("v2", 0, user("dan"), "q2", true), now - Duration::days(10))).await;
    // Feedback, 20 days old.
    send_at(at_time(command("f1", 0, user("eve"), "feedback more examples please"), now - Duration::days(20) - ms)).await;
    send_at(at_time(command("f2", 0, user("fay"), "feedback a dark theme"), now - Duration::days(20))).await;
    // Chatter, a day old.
    send_at(at_time(message("c1", 0, user("gus"), "good morning everyone"), now - Duration::days(1) - ms)).await;
    send_at(at_time(message("c2", 0, user("hal"), "good morning all"), now - Duration::days(1))).await;
    assert!(!a.store().message("test", "c1").await.unwrap().unwrap().is_support, "chatter");
    deliver(&a, now - Duration::days(1) - ms).await;

    // Both instances at once: one runs it.
    let (ra, rb) = tokio::join!(a.expire("a", now), b.expire("b", now));
    let ran: Vec<_> = [ra.unwrap(), rb.unwrap()].into_iter().flatten().collect();
    assert_eq!(ran.len(), 1, "{}: once across instances: {ran:?}", db.name);
    let counts = &ran[0];
    assert_eq!((counts.get("tickets"), counts.get("chatter"), counts.get("feedback")), (1, 1, 1), "{counts:?}");

    let store = a.store();
    let expired = store.ticket(old_ticket).await.unwrap().unwrap();
    assert_eq!(
        (expired.question.as_str(), expired.resolution.as_deref(), expired.asker_id.as_str()),
        (REMOVED_BY_RETENTION, Some(REMOVED_BY_RETENTION), "")
    );
    assert_eq!(expired.status, Status::Resolved, "the ticket keeps its state");
    assert!(store.ticket_events(old_ticket).await.unwrap().iter().all(|e| e.note.as_deref() != Some("it is a Raspberry Pi 4")));
    let kept = store.ticket(edge_ticket).await.unwrap().unwrap();
    assert_eq!(
        (kept.question.as_str(), kept.resolution.as_deref()),
        ("why does the docker container exit with code 137 on start?", Some("give it more memory"))
    );
    assert!(store.question("test", "q1").await.unwrap().is_none() && store.message("test", "q1").await.unwrap().is_none());
    assert!(store.feedback("test", "q1", "U-cat").await.unwrap().is_none(), "its vote went with it");
    assert!(store.question("test", "q2").await.unwrap().is_some() && store.message("test", "q2").await.unwrap().is_some());
    assert!(store.feedback("test", "q2", "U-dan").await.unwrap().is_some());
    let feedback: Vec<String> = store.feedback_between(now - Duration::days(40), now).await.unwrap().into_iter().map(|(_, t)| t).collect();
    assert_eq!(feedback, vec!["a dark theme"]);
    assert!(store.message("test", "c1").await.unwrap().is_none());
    assert!(store.message("test", "c2").await.unwrap().is_some());
    // Raw events and sent replies older than a day keep only their ids; older than 10 days, nothing.
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM inbox WHERE event_id = 'c2' AND payload <> ''").await, 1);
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM inbox WHERE event_id = 'c1' AND payload = ''").await, 1);
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM inbox WHERE event_id IN ('q1', 'v1', 't1', 't1c')").await, 0);
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM inbox WHERE event_id IN ('q2', 'v2') AND payload = ''").await, 2);
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL AND payload <> '{}'").await, 0);

    // Within the hour nobody runs it again; after it, one does, and what was exactly as old
    // as its setting an hour ago is older now: it goes.
    assert_eq!(a.expire("a", now + Duration::minutes(30)).await.unwrap(), None);
    assert_eq!(b.expire("b", now + Duration::minutes(59)).await.unwrap(), None);
    let (ra, rb) = tokio::join!(a.expire("a", now + Duration::hours(1)), b.expire("b", now + Duration::hours(1)));
    let again: Vec<_> = [ra.unwrap(), rb.unwrap()].into_iter().flatten().collect();
    assert_eq!(again.len(), 1, "once across instances");
    assert_eq!(
        (again[0].get("tickets"), again[0].get("chatter"), again[0].get("feedback"), again[0].get("questions")),
        (1, 1, 1, 1),
        "{:?}",
        again[0]
    );
    assert_eq!(store.ticket(edge_ticket).await.unwrap().unwrap().question, REMOVED_BY_RETENTION);
    let runs = store.privacy_actions_between(now - Duration::days(1), now + Duration::days(1)).await.unwrap();
    assert_eq!(runs.iter().filter(|(a, _, _)| a == "retention").count(), 2, "one record a run: {runs:?}");
}

#[tokio::test]
async fn retention_removes_exactly_what_is_older_once_on_sqlite() {
    retention_removes_exactly_what_is_older_once(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn retention_removes_exactly_what_is_older_once_on_postgres() {
    retention_removes_exactly_what_is_older_once(postgres_db().await).await;
}

/// A backlog goes in batches: a run stops at its budget and the next tick (of either instance)
/// goes on at once, not an hour later.
async fn retention_goes_in_batches(db: TestDb) {
    let keep = |s: &mut Settings| s.privacy.keep_unacted = Keep::For(Duration::hours(1));
    let a = bot_with(&db, TEST_FAQ, config_with(keep)).await;
    let b = bot_with(&db.shared(), TEST_FAQ, config_with(keep)).await;
    for i in 0..7 {
        send(&a, message(&format!("c{i}"), i, user("gus"), "good morning everyone")).await;
    }
    let now = at(3 * 60);
    let chatter = async || count(&db.url, "SELECT COUNT(*) FROM messages").await;
    // Batches of 2, at most 2 full ones a run: 6 of the 7 go, then the run stops.
    let first = a.expire_with("a", now, 2, 2).await.unwrap().unwrap();
    assert_eq!(first.get("chatter"), 6, "{first:?}");
    assert_eq!(chatter().await, 1);
    // It used its budget up: the next tick, here the other instance's, goes on at once.
    let second = b.expire_with("b", now + Duration::seconds(10), 2, 2).await.unwrap().expect("it goes on at the next tick");
    assert_eq!(second.get("chatter"), 1, "{second:?}");
    assert_eq!(chatter().await, 0);
    let mut t = now + Duration::seconds(10);
    let mut runs = 2;
    loop {
        t += Duration::seconds(10);
        let bot = if runs % 2 == 0 { &a } else { &b };
        match bot.expire_with(if runs % 2 == 0 { "a" } else { "b" }, t, 2, 2).await.unwrap() {
            Some(_) => runs += 1,
            None => break,
        }
        assert!(runs < 20, "the backlog ends");
    }
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM inbox WHERE payload <> ''").await, 0, "every raw event's payload went, batch by batch");
    // Done: the next run is an hour after the last one, whoever asks.
    let due = Scheduler::new(b.clone(), "b").run_due(t + Duration::seconds(10)).await;
    assert!(due.failed.is_empty() && due.expired == 0, "{due:?}");
    assert_eq!(a.expire("a", t + Duration::minutes(70)).await.unwrap().map(|c| c.is_empty()), Some(true));
}

#[tokio::test]
async fn retention_goes_in_batches_on_sqlite() {
    retention_goes_in_batches(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and add --run-ignored all (.ci/run does)"]
async fn retention_goes_in_batches_on_postgres() {
    retention_goes_in_batches(postgres_db().await).await;
}

/// README's "What supportbot stores and for how long" is what `supportbot privacy policy`
/// prints for the default settings, and `privacy policy` says it in chat.
#[tokio::test]
async fn the_policy_is_said_and_readme_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["privacy", "policy"])
        .current_dir(dir.path())
        .env_remove("SUPPORTBOT_DATABASE__URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(printed.contains("3 days") && printed.contains("90 days") && printed.contains("365 days") && printed.contains("180 days"), "{printed}");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("## What supportbot stores and for how long\n").nth(1).expect("README has the section");
    let section = section.split("\n## ").next().unwrap();
    let body =
        section.split("<!-- privacy policy: generated -->\n").nth(1).and_then(|s| s.split("\n<!-- end -->").next()).expect("the generated part");
    assert_eq!(body.trim(), printed, "README's section is `supportbot privacy policy` for the default settings: regenerate it");

    let (bot, _db) = spawn_bot().await;
    let said = send(&bot, command("p1", 0, user("ann"), "privacy policy")).await;
    assert!(said[0].ephemeral && said[0].text.contains("forget-me confirm"), "{said:?}");
    let short = config_with(|s| s.privacy.keep_messages = Keep::Forever);
    let forever = supportbot::bot::privacy::policy_plain_text(&supportbot::prompts::Prompts::load(None).unwrap(), &short.privacy, 3, None);
    assert!(!forever.contains("GitHub"), "{forever}");
    let sent =
        supportbot::bot::privacy::policy_plain_text(&supportbot::prompts::Prompts::load(None).unwrap(), &short.privacy, 3, Some("acme/widgets"));
    assert!(sent.contains("an issue in acme/widgets") && !sent.contains("Nothing is sent anywhere else"), "{sent}");
    assert!(forever.contains("the replies in a question's thread: kept until you ask to be forgotten."), "{forever}");
}

/// With the model, the embedding the FAQ cached of a member's learned words goes with them.
#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn the_embedding_cache_forgets_too() {
    let dir = supportbot::semantic::embedder::test_model_dir().expect("TEST_MODEL_DIR must name an unpacked all-MiniLM-L6-v2");
    let model = std::sync::Arc::new(supportbot::semantic::Embedder::load(&dir, false).unwrap());
    let db = sqlite_db();
    drop(bot_with(&db, TEST_FAQ, test_config()).await);
    let store = supportbot::store::Store::connect(&db.url, 4).await.unwrap();
    let bot = Bot::new(store, supportbot::prompts::Prompts::load(None).unwrap(), test_config(), Some(model)).await.unwrap();
    let words = format!("forgot my password, how do I reset it {MARKER}");
    let answered = send(&bot, message("z1", 0, zed(), &words)).await;
    assert_eq!(kinds(&answered), vec![ActionKind::Answer], "{answered:?}");
    send(&bot, vote("v1", 1, zed(), "z1", true)).await;
    let model_id = bot.embedder().unwrap().id().to_string();
    assert!(bot.store().embedding(&model_id, &words).await.unwrap().is_some(), "the learned phrasing's vector is cached");
    send(&bot, command("f1", 2, zed(), "forget-me")).await;
    send(&bot, command("f2", 3, zed(), "forget-me confirm")).await;
    assert!(bot.store().embedding(&model_id, &words).await.unwrap().is_none(), "and forgotten");
    assert!(bot.store().learned_phrasings(None).await.unwrap().is_empty());
    let search = bot.match_faq(&words, 1).await.unwrap();
    assert!(search.iter().all(|m| m.entry.alternatives.iter().all(|a| !a.contains(MARKER))), "the index forgot too");
}
