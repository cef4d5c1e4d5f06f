//! Commands: permissions, the ticket lifecycle, FAQ editing, malformed input.

use crate::helpers::*;
use supportbot::domain::message::ActionKind;
use supportbot::domain::ticket::{Priority, Status};

#[tokio::test]
async fn everyone_gets_help_search_and_ask() {
    let (bot, _db) = spawn_bot().await;
    let help = send(&bot, command("c1", 0, user("ann"), "/help")).await;
    assert!(help[0].text.contains("faq search") && !help[0].text.contains("ticket assign"), "{}", help[0].text);
    let mod_help = send(&bot, command("c2", 0, moderator("mia"), "help")).await;
    assert!(mod_help[0].text.contains("ticket assign"));
    let search = send(&bot, command("c3", 0, user("ann"), "faq search postgres")).await;
    assert!(search[0].text.contains("`postgres`"), "{}", search[0].text);
    let ask = send(&bot, command("c4", 0, user("ann"), "ask how do I install the bot")).await;
    assert_eq!(kinds(&ask), vec![ActionKind::Answer]);
    let unsure = send(&bot, command("c5", 0, user("ann"), "ask what is the meaning of life")).await;
    assert_eq!(kinds(&unsure), vec![ActionKind::Reply]);
    assert!(unsure[0].text.contains("15m"), "{}", unsure[0].text);
}

#[tokio::test]
async fn moderator_commands_from_members_are_refused_and_change_nothing() {
    let (bot, _db) = spawn_bot().await;
    for (i, line) in
        ["ticket list", "escalate help me please urgent", "faq remove install", "faq add x | q? | a", "ticket close 1"].iter().enumerate()
    {
        let actions = send(&bot, command(&format!("c{i}"), 0, user("ann"), line)).await;
        assert_eq!(kinds(&actions), vec![ActionKind::Refused], "{line}");
        assert!(actions[0].ephemeral);
    }
    assert!(bot.store().tickets(None, 10).await.unwrap().is_empty());
    assert!(bot.store().faq_entry("install").await.unwrap().is_some());
    assert!(bot.store().faq_entry("x").await.unwrap().is_none());
}

#[tokio::test]
async fn malformed_and_unknown_commands_get_usage_help() {
    let (bot, _db) = spawn_bot().await;
    let usage = send(&bot, command("c1", 0, moderator("mia"), "ticket assign banana")).await;
    assert!(usage[0].text.contains("Usage: `ticket assign <id> <user|me|auto>`"), "{}", usage[0].text);
    let unknown = send(&bot, command("c2", 0, user("ann"), "/dance")).await;
    assert!(unknown[0].text.contains("`dance`") && unknown[0].text.contains("help"));
    let long = send(&bot, command("c3", 0, moderator("mia"), &format!("faq search {}", "x".repeat(5000)))).await;
    assert!(long[0].text.contains("longer than"));
}

#[tokio::test]
async fn escalating_a_message_the_bot_only_remembers_uses_its_text_and_author() {
    // Discord's context menu on a message from before the bot joined: the adapter hands the
    // message over to be remembered (not answered), then the command escalates it.
    let (bot, _db) = spawn_bot().await;
    let old = message("m-old", 0, user("ann"), "the arm64 image segfaults on boot");
    bot.remember(&old).await.unwrap();
    assert!(bot.store().message("test", "m-old").await.unwrap().is_some());
    let opened = send(&bot, command("c1", 1, moderator("mia"), "escalate m-old")).await;
    assert_eq!(kinds(&opened), vec![ActionKind::TicketOpened, ActionKind::NotifyModerators]);
    assert_eq!(opened[0].in_reply_to.as_deref(), Some("m-old"));
    let t = bot.store().ticket(opened[0].ticket_id.unwrap()).await.unwrap().unwrap();
    assert_eq!((t.asker_name.as_str(), t.question.as_str()), ("ann", "the arm64 image segfaults on boot"));
    // Remembering is not receiving: nothing was answered, and a second copy changes nothing.
    bot.remember(&message("m-old", 2, user("ann"), "edited later")).await.unwrap();
    assert_eq!(bot.store().message("test", "m-old").await.unwrap().unwrap().text, "the arm64 image segfaults on boot");
}

#[tokio::test]
async fn a_ticket_goes_through_its_whole_life_with_every_step_recorded() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash?")).await;
    let opened = send(&bot, command("c1", 1, moderator("mia"), "escalate m1 high")).await;
    assert_eq!(kinds(&opened), vec![ActionKind::TicketOpened, ActionKind::NotifyModerators]);
    assert_eq!(opened[0].channel, "help", "the asker hears it where they asked");
    assert_eq!(opened[0].in_reply_to.as_deref(), Some("m1"));
    let id = opened[0].ticket_id.unwrap();
    let t = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!((t.priority, t.asker_name.as_str()), (Priority::High, "ann"));
    assert!(bot.tick(at(30)).await.unwrap().is_empty(), "the escalated question does not become a second ticket");

    let assigned = send(&bot, command("c2", 11, moderator("mia"), &format!("ticket assign {id} me"))).await;
    assert_eq!(assigned[0].status, Some(Status::Assigned));
    let resolved = send(&bot, command("c3", 71, moderator("mia"), &format!("ticket resolve {id} use the armv8 build"))).await;
    assert_eq!(kinds(&resolved), vec![ActionKind::TicketUpdated, ActionKind::TicketUpdated]);
    assert_eq!(resolved[1].channel, "help");
    assert!(resolved[1].text.contains("use the armv8 build"));
    send(&bot, command("c4", 80, moderator("mia"), &format!("ticket close {id}"))).await;
    let refused = send(&bot, command("c5", 81, moderator("mia"), &format!("ticket resolve {id}"))).await;
    assert!(refused[0].text.contains("closed"), "{}", refused[0].text);
    send(&bot, command("c6", 90, moderator("max"), &format!("ticket reopen {id}"))).await;

    let t = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, Status::Open);
    assert_eq!(t.assignee.as_deref(), Some("mia"));
    assert_eq!(t.first_response_time().unwrap().num_minutes(), 10);
    let events = bot.store().ticket_events(id).await.unwrap();
    let steps: Vec<_> = events.iter().map(|e| (e.action.as_str(), e.actor.as_str(), e.to_status)).collect();
    assert_eq!(
        steps,
        vec![
            ("open", "mia", Status::Open),
            ("assign", "mia", Status::Assigned),
            ("resolve", "mia", Status::Resolved),
            ("close", "mia", Status::Closed),
            ("reopen", "max", Status::Open),
        ]
    );
    let show = send(&bot, command("c7", 91, moderator("mia"), &format!("ticket show {id}"))).await;
    assert!(show[0].text.contains("reopen") && show[0].text.contains("arm64"), "{}", show[0].text);
}

#[tokio::test]
async fn resolution_time_is_computable() {
    let (bot, _db) = spawn_bot().await;
    let opened = send(&bot, command("c1", 0, moderator("mia"), "escalate the docs site is down urgent")).await;
    let id = opened[0].ticket_id.unwrap();
    send(&bot, command("c2", 45, moderator("mia"), &format!("ticket resolve {id} it is back"))).await;
    let t = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!(t.priority, Priority::Urgent);
    assert_eq!(t.resolution_time().unwrap().num_minutes(), 45);
    assert_eq!(t.first_response_time().unwrap().num_minutes(), 45);
}

#[tokio::test]
async fn ticket_list_filters_by_status_and_unknown_tickets_are_reported() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, command("c1", 0, moderator("mia"), "escalate first problem")).await;
    send(&bot, command("c2", 0, moderator("mia"), "escalate second problem")).await;
    send(&bot, command("c3", 1, moderator("mia"), "ticket close 1")).await;
    let open = send(&bot, command("c4", 2, moderator("mia"), "ticket list")).await;
    assert!(open[0].text.contains("#2") && !open[0].text.contains("#1 "), "{}", open[0].text);
    let closed = send(&bot, command("c5", 2, moderator("mia"), "ticket list closed")).await;
    assert!(closed[0].text.contains("#1"), "{}", closed[0].text);
    let missing = send(&bot, command("c6", 2, moderator("mia"), "ticket show 99")).await;
    assert!(missing[0].text.contains("#99"));
}

#[tokio::test]
async fn moderators_edit_the_faq_and_the_bot_answers_from_it_at_once() {
    let (bot, _db) = spawn_bot().await;
    let added = send(&bot, command("c1", 0, moderator("mia"), "faq add arm | Does it run on ARM? | Yes, aarch64 builds are published.")).await;
    assert!(added[0].text.contains("added"), "{}", added[0].text);
    let dup = send(&bot, command("c2", 0, moderator("mia"), "faq add arm | Again? | x")).await;
    assert!(dup[0].text.contains("already has"), "{}", dup[0].text);
    let bad = send(&bot, command("c3", 0, moderator("mia"), "faq add Bad Id | q | a")).await;
    assert!(bad[0].text.contains("not valid"), "{}", bad[0].text);
    send(&bot, command("c4", 0, moderator("mia"), "faq edit arm alternatives runs on a raspberry pi, arm64 support")).await;
    let answer = send(&bot, message("m1", 1, user("ann"), "does it run on ARM?")).await;
    assert_eq!(answer[0].faq_id.as_deref(), Some("arm"));
    assert_eq!(bot.store().faq_entry("arm").await.unwrap().unwrap().alternatives.len(), 2);
    send(&bot, command("c5", 2, moderator("mia"), "faq remove arm")).await;
    assert!(send(&bot, message("m2", 3, user("ann"), "does it run on ARM?")).await.is_empty());
    let gone = send(&bot, command("c6", 4, moderator("mia"), "faq remove arm")).await;
    assert!(gone[0].text.contains("no FAQ entry"), "{}", gone[0].text);
}

#[tokio::test]
async fn faq_learn_turns_a_resolved_ticket_into_an_entry_the_bot_then_uses() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash with an illegal instruction?")).await;
    bot.tick(at(15)).await.unwrap();
    send(&bot, message("m2", 20, user("ben"), "arm64 build crash, illegal instruction, why?")).await;
    bot.tick(at(40)).await.unwrap();
    let early = send(&bot, command("c1", 41, moderator("mia"), "faq learn 1")).await;
    assert!(early[0].text.contains("no resolution"), "{}", early[0].text);
    send(&bot, command("c2", 42, moderator("mia"), "ticket resolve 1 Download the armv8.0 build; the default needs armv8.2.")).await;
    let learned = send(&bot, command("c3", 43, moderator("mia"), "faq learn 1 arm64-illegal-instruction")).await;
    assert!(learned[0].text.contains("arm64-illegal-instruction"), "{}", learned[0].text);
    let entry = bot.store().faq_entry("arm64-illegal-instruction").await.unwrap().unwrap();
    assert_eq!(entry.answer, "Download the armv8.0 build; the default needs armv8.2.");
    assert_eq!(entry.alternatives, vec!["arm64 build crash, illegal instruction, why?".to_string()]);
    let answer = send(&bot, message("m3", 60, user("cat"), "why does the arm64 build crash with an illegal instruction?")).await;
    assert_eq!(answer[0].faq_id.as_deref(), Some("arm64-illegal-instruction"));
}

#[tokio::test]
async fn everyone_lists_and_reads_faq_entries() {
    let (bot, _db) = spawn_bot().await;
    let list = send(&bot, command("c1", 0, user("ann"), "faq list")).await;
    assert!(list[0].text.contains("`install`") && list[0].text.contains("`faq show <id>`"), "{}", list[0].text);
    let show = send(&bot, command("c2", 0, user("ann"), "/faq show install")).await;
    assert!(show[0].text.starts_with("FAQ entry `install`") && show[0].text.contains("Answer:"), "{}", show[0].text);
    let missing = send(&bot, command("c3", 0, user("ann"), "faq show nope")).await;
    assert!(missing[0].text.contains("no FAQ entry `nope`"), "{}", missing[0].text);
}

#[tokio::test]
async fn escalating_an_unknown_id_or_a_mistyped_priority_is_refused_with_the_reason() {
    let (bot, _db) = spawn_bot().await;
    let unknown = send(&bot, command("c1", 0, moderator("mia"), "escalate 3 urgent")).await;
    assert_eq!(kinds(&unknown), vec![ActionKind::Reply]);
    assert!(unknown[0].text.contains("no message `3`"), "{}", unknown[0].text);
    let typo = send(&bot, command("c2", 0, moderator("mia"), "escalate foo superurgent")).await;
    assert_eq!(kinds(&typo), vec![ActionKind::Reply]);
    assert!(typo[0].text.contains("not a priority") && typo[0].text.contains("Usage:"), "{}", typo[0].text);
    assert!(bot.store().ticket(1).await.unwrap().is_none(), "no ticket was opened");
}

#[tokio::test]
async fn escalating_a_ticketed_message_more_urgently_raises_its_ticket() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "why does the arm64 build crash?")).await;
    let opened = send(&bot, command("c1", 1, moderator("mia"), "escalate m1")).await;
    let id = opened[0].ticket_id.unwrap();
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().priority, Priority::Normal);
    send(&bot, command("c2", 2, moderator("max"), "escalate m1 urgent")).await;
    let t = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!(t.priority, Priority::Urgent, "the same ticket, now urgent");
    let events = bot.store().ticket_events(id).await.unwrap();
    assert!(events.iter().any(|e| e.action == "priority" && e.actor == "max" && e.note.as_deref() == Some("normal → urgent")), "{events:?}");
    // a lower priority later never lowers it
    send(&bot, command("c3", 3, moderator("mia"), "escalate m1 low")).await;
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().priority, Priority::Urgent);
}
