//! Working a ticket: its thread as the transcript, internal notes, later votes, a bare resolve
//! after a reopen, the nudge and the stale close, and SLA warnings and breaches in business
//! hours: each timer fires once, across restarts and two instances, on a controlled clock.

use crate::helpers::*;
use std::time::Duration as StdDuration;
use supportbot::bot::{Bot, BotConfig};
use supportbot::config::{HoursSettings, Settings, SlaSettings};
use supportbot::domain::message::{Action, ActionKind, Incoming, IncomingKind, ThreadKey, ThreadPlace};
use supportbot::domain::ticket::Status;

const DAY: i64 = 24 * 60;

fn settings_with(configure: impl FnOnce(&mut Settings)) -> BotConfig {
    let mut settings = Settings::default();
    settings.tickets.moderators_channel = "mods".into();
    configure(&mut settings);
    BotConfig::from_settings(&settings)
}

/// Nudged after two quiet days, closed three days after that.
fn stale_config() -> BotConfig {
    settings_with(|s| {
        s.tickets.nudge_after = Some(StdDuration::from_secs(2 * 86_400));
        s.tickets.close_after = Some(StdDuration::from_secs(3 * 86_400));
    })
}

/// Urgent tickets: first response within 1 hour, resolution within 8, in `hours`.
fn sla_config(hours: HoursSettings) -> BotConfig {
    settings_with(|s| {
        let urgent = SlaSettings { first_response: Some(StdDuration::from_secs(3_600)), resolution: Some(StdDuration::from_secs(8 * 3_600)) };
        s.tickets.sla.insert("urgent".into(), urgent);
        s.tickets.hours = hours;
    })
}

fn feedback(id: &str, minutes: i64, on: &str, helpful: bool, comment: Option<&str>) -> Incoming {
    let mut v = vote(id, minutes, user("ann"), on, helpful);
    v.kind = IncomingKind::Feedback { on: on.into(), helpful, comment: comment.map(String::from) };
    v
}

/// The ticket a question became once its window passed with no answer.
async fn unanswered_ticket(bot: &Bot) -> i64 {
    send(bot, message("q1", 0, user("ann"), "my build fails on ARM with a linker error")).await;
    bot.tick(at(16)).await.unwrap();
    bot.store().tickets(None, 10).await.unwrap()[0].id
}

async fn ticket_text(bot: &Bot, id: i64, minutes: i64) -> String {
    send(bot, command(&format!("show-{id}-{minutes}"), minutes, moderator("mia"), &format!("ticket show {id}"))).await[0].text.clone()
}

fn texts(actions: &[(String, Action)]) -> Vec<&str> {
    actions.iter().map(|(_, a)| a.text.as_str()).collect()
}

#[tokio::test]
async fn the_thread_is_the_transcript_and_a_moderators_reply_is_the_first_response() {
    let (bot, _db) = spawn_bot().await;
    let id = unanswered_ticket(&bot).await;
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().first_response_at, None);

    let quiet = send(&bot, reply("r1", 20, user("ann"), "q1", "it is a Raspberry Pi 4, rust 1.95")).await;
    // No new question, no reply to the asker: only the line mirrored to the moderators' thread.
    assert_eq!(kinds(&quiet), vec![ActionKind::Mirror], "the asker's reply in the thread is no new question: {quiet:?}");
    let mirrored = &quiet[0];
    assert_eq!(mirrored.text, format!("Ticket #{id}, ann (asker): it is a Raspberry Pi 4, rust 1.95"));
    assert_eq!(mirrored.thread, Some(ThreadKey { ticket: id, place: ThreadPlace::Mirror }));
    send(&bot, reply("r2", 30, moderator("mia"), "q1", "try the aarch64 target <@U999> @everyone")).await;
    let noted = send(&bot, command("n1", 31, moderator("mia"), &format!("ticket note {id} same as the forum thread from May"))).await;
    assert_eq!(noted.len(), 1);
    assert!(noted[0].ephemeral && noted[0].recipient.as_deref() == Some("U-mia"), "a note's confirmation is the moderator's alone: {noted:?}");

    let ticket = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.first_response_at, Some(at(30)), "the moderator's reply in the thread is the first response");
    let shown = ticket_text(&bot, id, 32).await;
    assert!(shown.contains("ann wrote: it is a Raspberry Pi 4, rust 1.95"), "{shown}");
    assert!(shown.contains("mia wrote: try the aarch64 target"), "{shown}");
    assert!(!shown.contains("<@U999>") && !shown.contains("@everyone"), "echoed text pings nobody: {shown}");
    assert!(shown.contains("mia (internal note): same as the forum thread from May"), "{shown}");
    // Someone else's reply is recorded too, but it is no moderator's first response.
    let (bot2, _db2) = spawn_bot().await;
    let id2 = unanswered_ticket(&bot2).await;
    send(&bot2, reply("r3", 20, user("ben"), "q1", "same here on a Pi 5")).await;
    assert_eq!(bot2.store().ticket(id2).await.unwrap().unwrap().first_response_at, None);
    assert!(ticket_text(&bot2, id2, 21).await.contains("ben wrote: same here on a Pi 5"));
}

#[tokio::test]
async fn later_votes_reach_the_ticket() {
    // The story: /helpful after /not-helpful said "Glad it helped" with the ticket left
    // open and unaware; a second /not-helpful's comment never reached the ticket.
    let (bot, _db) = spawn_bot().await;
    let answered = send(&bot, message("q1", 0, user("ann"), "I forgot my password, how do I reset it?")).await;
    assert_eq!(kinds(&answered), vec![ActionKind::Answer]);
    let opened = send(&bot, feedback("v1", 1, "q1", false, Some("the link never arrives"))).await;
    let id = opened.iter().find_map(|a| a.ticket_id).expect("a ticket for the not-helpful vote");

    let again = send(&bot, feedback("v2", 2, "q1", false, Some("checked spam too, still nothing"))).await;
    assert!(again[0].text.contains(&format!("added to ticket #{id}")), "{:?}", again[0].text);
    let told = again.iter().find(|a| a.kind == ActionKind::NotifyModerators).expect("the moderators hear of it");
    assert!(told.text.contains("checked spam too, still nothing"), "{}", told.text);

    let helped = send(&bot, feedback("v3", 3, "q1", true, None)).await;
    assert!(helped[0].text.contains(&format!("ticket #{id}")), "{:?}", helped[0].text);
    let proposal = helped.iter().find(|a| a.kind == ActionKind::NotifyModerators).expect("resolving is proposed");
    assert!(proposal.text.contains(&format!("ticket resolve {id}")), "{}", proposal.text);
    let shown = ticket_text(&bot, id, 4).await;
    assert!(shown.contains("ann: vote: still not helpful: checked spam too, still nothing"), "{shown}");
    assert!(shown.contains("ann: vote: the answer helped after all"), "{shown}");
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().status, Status::Open, "a moderator decides; the vote only tells");
}

#[tokio::test]
async fn a_bare_resolve_after_a_reopen_does_not_send_the_old_resolution_again() {
    let (bot, _db) = spawn_bot().await;
    let id = unanswered_ticket(&bot).await;
    let first = send(&bot, command("c1", 20, moderator("mia"), &format!("ticket resolve {id} use the aarch64 image"))).await;
    assert!(first.iter().any(|a| a.text.contains("use the aarch64 image") && a.in_reply_to.as_deref() == Some("q1")));
    send(&bot, command("c2", 21, moderator("mia"), &format!("ticket reopen {id}"))).await;
    let bare = send(&bot, command("c3", 22, moderator("mia"), &format!("ticket resolve {id}"))).await;
    let to_asker = bare.iter().find(|a| a.in_reply_to.as_deref() == Some("q1")).expect("the asker is told");
    assert!(!to_asker.text.contains("aarch64"), "the old resolution is not sent again: {}", to_asker.text);
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().resolution, None);
    assert!(ticket_text(&bot, id, 23).await.contains("use the aarch64 image"), "the history keeps the old resolution");
}

#[tokio::test]
async fn a_quiet_asker_is_nudged_once_and_the_ticket_closes_once_even_across_a_restart() {
    let db = sqlite_db();
    let bot = bot_with(&db, TEST_FAQ, stale_config()).await;
    let id = unanswered_ticket(&bot).await;
    send(&bot, reply("r1", 30, moderator("mia"), "q1", "which target triple do you build for?")).await;

    assert!(bot.tick(at(30 + 2 * DAY - 1)).await.unwrap().is_empty(), "not before two quiet days");
    let nudged = bot.tick(at(30 + 2 * DAY)).await.unwrap();
    assert_eq!(texts(&nudged).len(), 1, "{nudged:?}");
    let (_, nudge) = &nudged[0];
    assert!(nudge.text.contains("Is this solved, ann?") && nudge.text.contains("closes in 3 days"), "{}", nudge.text);
    assert_eq!((nudge.channel.as_str(), nudge.in_reply_to.as_deref()), ("help", Some("q1")), "in the question's thread");
    assert!(bot.tick(at(30 + 2 * DAY + 1)).await.unwrap().is_empty(), "nudged once");

    // A restart: the timers are rows, not memory.
    drop(bot);
    let bot = bot_with(&db.shared(), TEST_FAQ, stale_config()).await;
    assert!(bot.tick(at(30 + 5 * DAY - 1)).await.unwrap().is_empty());
    let closed = bot.tick(at(30 + 5 * DAY)).await.unwrap();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert!(closed[0].1.text.contains(&format!("Ticket #{id} is closed: no reply for 3 days")), "{}", closed[0].1.text);
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().status, Status::Closed);
    assert!(bot.tick(at(30 + 9 * DAY)).await.unwrap().is_empty(), "closed once");
    let outbox = bot.store().ticket_timers(id).await.unwrap();
    assert!(outbox.iter().all(|(_, _, fired)| fired.is_some()), "{outbox:?}");
}

#[tokio::test]
async fn the_asker_replying_stops_the_nudge_and_thanks_propose_resolving() {
    let (db, config) = (sqlite_db(), stale_config());
    let bot = bot_with(&db, TEST_FAQ, config).await;
    let id = unanswered_ticket(&bot).await;
    send(&bot, reply("r1", 30, moderator("mia"), "q1", "try the aarch64 target")).await;
    let thanks = send(&bot, reply("r2", 90, user("ann"), "q1", "thanks, that fixed it!")).await;
    assert_eq!(kinds(&thanks), vec![ActionKind::Mirror, ActionKind::NotifyModerators]);
    let thanks = &thanks[1..];
    assert!(
        thanks[0].text.contains(&format!("ann says ticket #{id} is solved")) && thanks[0].text.contains(&format!("ticket resolve {id}")),
        "{}",
        thanks[0].text
    );
    assert!(bot.tick(at(90 + 10 * DAY)).await.unwrap().is_empty(), "no nudge after the asker spoke");
    let doubt = send(&bot, reply("r3", 91 + 10 * DAY, user("ann"), "q1", "thanks, but it still fails on the Pi 5")).await;
    assert_eq!(kinds(&doubt), vec![ActionKind::Mirror], "doubt proposes nothing, it is only mirrored: {doubt:?}");
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().status, Status::Open);
}

/// Urgent at 09:00 on Monday: warned at 09:45, breached at 10:00, once, by one of two instances.
async fn sla_fires_once_across_two_instances(db: TestDb) {
    let a = bot_with(&db, TEST_FAQ, sla_config(HoursSettings::default())).await;
    let b = bot_with(&db.shared(), TEST_FAQ, sla_config(HoursSettings::default())).await;
    send(&a, message("q1", 0, user("ann"), "production is down since the upgrade")).await;
    let opened = send(&a, command("e1", 0, moderator("mia"), "escalate q1 urgent")).await;
    let id = opened.iter().find_map(|x| x.ticket_id).expect("a ticket");

    assert!(a.tick(at(44)).await.unwrap().is_empty());
    let listed = send(&a, command("l1", 44, moderator("mia"), "ticket list")).await;
    assert!(listed[0].text.contains("[open, urgent, first response due in 16 min] ann"), "{}", listed[0].text);
    let (x, y) = tokio::join!(a.tick(at(45)), b.tick(at(45)));
    let warned: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(warned.len(), 1, "{} warned: {warned:?}", db.name);
    assert!(
        warned[0].1.text.starts_with(&format!("SLA warning: ticket #{id} (urgent, unassigned) needs its first response within 15 min")),
        "{}",
        warned[0].1.text
    );
    assert_eq!(warned[0].1.channel, "mods");

    let (x, y) = tokio::join!(a.tick(at(60)), b.tick(at(61)));
    let breached: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(breached.len(), 1, "{} breached: {breached:?}", db.name);
    assert!(breached[0].1.text.contains("missed its first response target of 1 h"), "{}", breached[0].1.text);
    let listed = send(&b, command("l2", 62, moderator("mia"), "ticket list")).await;
    assert!(listed[0].text.contains("[open, urgent, first response overdue] ann"), "{}", listed[0].text);

    // Answered late: the resolution clock still runs and warns once, at six of its eight hours.
    send(&b, reply("r1", 70, moderator("mia"), "q1", "rolling back now")).await;
    let (x, y) = tokio::join!(a.tick(at(6 * 60)), b.tick(at(6 * 60)));
    let later: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(texts(&later).len(), 1, "{later:?}");
    assert!(later[0].1.text.contains("needs its resolution within 2 h"), "{}", later[0].1.text);
    send(&a, command("c1", 7 * 60, moderator("mia"), &format!("ticket resolve {id} rolled back to 1.4"))).await;
    let (x, y) = tokio::join!(a.tick(at(9 * 60)), b.tick(at(9 * 60)));
    assert!(x.unwrap().is_empty() && y.unwrap().is_empty(), "resolved in time: no breach");
    let shown = ticket_text(&a, id, 9 * 60).await;
    assert!(shown.contains("SLA: first response missed"), "{shown}");
}

#[tokio::test]
async fn sla_warnings_and_breaches_fire_once_across_two_instances_on_sqlite() {
    sla_fires_once_across_two_instances(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn sla_warnings_and_breaches_fire_once_across_two_instances_on_postgres() {
    sla_fires_once_across_two_instances(postgres_db().await).await;
}

#[tokio::test]
async fn the_sla_counts_business_hours_only() {
    // 09:00–17:00 Berlin (08:00–16:00 UTC in November), Monday to Friday; an urgent ticket at
    // 15:30 UTC on Friday has half an hour left that day: it breaches at 08:30 UTC on Monday.
    let hours = HoursSettings {
        timezone: "Europe/Berlin".into(),
        days: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect(),
        open: "09:00".into(),
        close: "17:00".into(),
        holidays: vec![],
    };
    let db = sqlite_db();
    let bot = bot_with(&db, TEST_FAQ, sla_config(hours)).await;
    let friday = 4 * DAY + 6 * 60 + 30; // t0 is Monday 09:00 UTC
    send(&bot, message("q1", friday, user("ann"), "production is down since the upgrade")).await;
    send(&bot, command("e1", friday, moderator("mia"), "escalate q1 urgent")).await;
    let monday = 7 * DAY - 60; // 08:00 UTC
    let before: Vec<_> = bot.tick(at(monday + 29)).await.unwrap();
    assert!(before.iter().all(|(_, a)| !a.text.contains("missed")), "no breach over the weekend: {before:?}");
    let breached = bot.tick(at(monday + 30)).await.unwrap();
    assert!(breached.iter().any(|(_, a)| a.text.contains("missed its first response target of 1 h")), "{breached:?}");
}

#[tokio::test]
async fn the_digest_gives_sla_attainment_per_priority_and_figures_per_responder() {
    let (db, config) = (sqlite_db(), sla_config(HoursSettings::default()));
    let bot = bot_with(&db, TEST_FAQ, config).await;
    send(&bot, message("q1", 0, user("ann"), "production is down since the upgrade")).await;
    send(&bot, message("q2", 0, user("ben"), "the nightly export job crashes with exit code 137")).await;
    send(&bot, message("q3", 1, user("cai"), "I forgot my password, how do I reset it?")).await; // the bot answers
    send(&bot, command("e1", 2, moderator("mia"), "escalate q1 urgent")).await;
    send(&bot, command("e2", 2, moderator("mia"), "escalate q2 urgent")).await;
    send(&bot, reply("r1", 32, moderator("mia"), "q1", "rolling back now")).await; // in time
    send(&bot, command("c1", 180, moderator("zoe"), "ticket resolve 1 rolled back to 1.4")).await;
    bot.tick(at(600)).await.unwrap(); // q2 breached both clocks meanwhile
    let digest = send(&bot, command("d1", 600, moderator("mia"), "digest")).await;
    let text = &digest[0].text;
    assert!(text.contains("*SLA:* urgent (2 tickets): first response 50% in time, resolution 50%, 2 breaches."), "{text}");
    assert!(text.contains("*Responders* (the bot answered 1 question itself):"), "{text}");
    assert!(text.contains("- mia: 1 first response (median 30 min), 0 resolved, SLA met 100%"), "{text}");
    assert!(text.contains("- zoe: 0 first responses, 1 resolved (median 3.0 h)"), "{text}");
}

#[tokio::test]
async fn assign_auto_picks_by_skill_and_load_and_says_why() {
    let config = settings_with(|s| {
        let responder = |name: &str, skills: &[&str]| supportbot::config::ResponderSettings {
            name: name.into(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            capacity: 2,
            hours: None,
        };
        s.tickets.responders = vec![responder("ben", &["install"]), responder("mia", &["account"])];
    });
    let db = sqlite_db();
    let bot = bot_with(&db, TEST_FAQ, config).await;
    // An answer from `reset-password` (tag "account") that did not help: a ticket about accounts.
    send(&bot, message("q1", 0, user("ann"), "I forgot my password, how do I reset it?")).await;
    let opened = send(&bot, feedback("v1", 1, "q1", false, Some("the link never arrives"))).await;
    let account = opened.iter().find_map(|a| a.ticket_id).unwrap();
    let assigned = send(&bot, command("a1", 2, moderator("zoe"), &format!("ticket assign {account} auto"))).await;
    assert!(assigned[0].text.contains("assigned to mia"), "{}", assigned[0].text);
    assert!(assigned[0].text.contains("Why mia: knows the topic, holds 0 of 2 tickets, on duty now; expected wait 0 min"), "{}", assigned[0].text);

    // A ticket on no FAQ topic: ben, who holds nothing yet, gets to it first.
    send(&bot, message("q2", 3, user("cai"), "the nightly export job crashes with exit code 137")).await;
    send(&bot, command("e1", 4, moderator("zoe"), "escalate q2")).await;
    let other = bot.store().tickets(Some(Status::Open), 10).await.unwrap()[0].id;
    let assigned = send(&bot, command("a2", 5, moderator("zoe"), &format!("ticket assign {other} auto"))).await;
    assert!(assigned[0].text.contains("assigned to ben") && assigned[0].text.contains("holds 0 of 2"), "{}", assigned[0].text);

    // Nobody configured: the reply says what to configure, and nothing changes.
    let (plain, _db2) = spawn_bot().await;
    let id = unanswered_ticket(&plain).await;
    let refused = send(&plain, command("a3", 20, moderator("zoe"), &format!("ticket assign {id} auto"))).await;
    assert!(refused[0].text.contains("[[tickets.responders]]"), "{}", refused[0].text);
    assert_eq!(plain.store().ticket(id).await.unwrap().unwrap().assignee, None);
}

#[tokio::test]
async fn with_auto_assign_a_new_ticket_is_assigned_as_it_opens_without_counting_as_a_response() {
    let config = settings_with(|s| {
        s.tickets.auto_assign = true;
        s.tickets.responders = vec![supportbot::config::ResponderSettings { name: "mia".into(), skills: vec![], capacity: 3, hours: None }];
    });
    let db = sqlite_db();
    let bot = bot_with(&db, TEST_FAQ, config).await;
    let id = unanswered_ticket(&bot).await;
    let ticket = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!((ticket.status, ticket.assignee.as_deref(), ticket.first_response_at), (Status::Assigned, Some("mia"), None));
    assert!(ticket_text(&bot, id, 17).await.contains("supportbot: assign (open → assigned): mia"));
}

#[tokio::test]
async fn the_asker_answers_the_nudge_with_its_buttons_and_only_the_asker_can() {
    let db = sqlite_db();
    let bot = bot_with(&db, TEST_FAQ, stale_config()).await;
    let id = unanswered_ticket(&bot).await;
    send(&bot, reply("r1", 30, moderator("mia"), "q1", "which target triple do you build for?")).await;
    let nudged = bot.tick(at(30 + 2 * DAY)).await.unwrap();
    let nudge = &nudged[0].1;
    assert_eq!((nudge.kind, nudge.ticket_id), (ActionKind::Nudge, Some(id)));

    // The buttons, as each platform draws them, come back as the asker's commands.
    let discord = serde_json::to_value(supportbot::chat::discord::outgoing::components_for(nudge)).unwrap().to_string();
    assert!(discord.contains(&format!("supportbot:solved:{id}")) && discord.contains(&format!("supportbot:unsolved:{id}")), "{discord}");
    let slack = serde_json::to_value(supportbot::chat::slack::outgoing::content_for(nudge)).unwrap().to_string();
    assert!(slack.contains("supportbot_ticket_solved") && slack.contains("supportbot_ticket_unsolved"), "{slack}");

    // "I still need help": the close is off, the moderators know.
    let not_yet = send(&bot, command("b1", 31 + 2 * DAY, user("ann"), &format!("unsolved {id}"))).await;
    assert_eq!(kinds(&not_yet), vec![ActionKind::Reply, ActionKind::NotifyModerators]);
    assert!(not_yet[1].text.contains(&format!("ann still needs help with ticket #{id}")), "{}", not_yet[1].text);
    assert!(bot.tick(at(30 + 9 * DAY)).await.unwrap().is_empty(), "no stale close after the asker answered");

    // Someone else's click changes nothing; the asker's "solved" resolves it, as no first response.
    let first_response = bot.store().ticket(id).await.unwrap().unwrap().first_response_at;
    let refused = send(&bot, command("b2", 32 + 9 * DAY, user("ben"), &format!("solved {id}"))).await;
    assert!(refused[0].text.contains("Only the person who asked"), "{}", refused[0].text);
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().status, Status::Open);
    let solved = send(&bot, command("b3", 33 + 9 * DAY, user("ann"), &format!("solved {id}"))).await;
    assert!(solved[0].text.contains("Glad it is solved"), "{}", solved[0].text);
    let ticket = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!((ticket.status, ticket.first_response_at), (Status::Resolved, first_response));
    let again = send(&bot, command("b4", 34 + 9 * DAY, user("ann"), &format!("solved {id}"))).await;
    assert!(again[0].text.contains("is already resolved"), "{}", again[0].text);
}
