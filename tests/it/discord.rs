//! Discord: documented payloads mapped into the core, and `supportbot run` against a local fake
//! Discord (REST and a gateway WebSocket).

use crate::fake_discord::{APP_ID, BOT_ID, FakeDiscord, button_click, message_create, reaction, slash_command};
use crate::helpers::{Running, TestDb, run_service, sqlite_db};
use crate::helpers::{at, spawn_bot};
use chrono::Utc;
use serde_json::{Value, json};
use serenity::all::{ChannelId, Interaction, Message, Permissions, Reaction, RoleId, UserId};
use supportbot::chat::discord::events::{DiscordContext, Place, map_message, map_reaction};
use supportbot::chat::discord::interactions::{Ack, map_interaction};
use supportbot::config::DiscordSettings;
use supportbot::domain::message::IncomingKind;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/discord/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

const MOD_ROLE: u64 = 539082325061836999;

fn ctx() -> DiscordContext {
    DiscordContext {
        bot_user_id: Some(UserId::new(BOT_ID)),
        moderator_roles: [RoleId::new(MOD_ROLE)].into_iter().collect(),
        escalate_reaction: "🎫".into(),
        not_question_reaction: "🔕".into(),
        ..DiscordContext::default()
    }
}

#[test]
fn a_documented_message_create_becomes_a_message() {
    let msg: Message = serde_json::from_str(&fixture("message_create.json")).unwrap();
    let incoming = map_message(&msg, &Place::default(), &ctx(), None).unwrap();
    assert_eq!(incoming.platform, "discord");
    assert_eq!(incoming.event_id, "334385199974967042");
    assert_eq!(incoming.channel, "290926798999357250");
    assert_eq!(incoming.author.id, "53908099506183680");
    assert_eq!(incoming.author.name, "Mason");
    assert!(!incoming.author.is_moderator);
    assert_eq!(incoming.at.to_rfc3339(), "2017-07-11T17:27:07.299+00:00");
    assert_eq!(incoming.kind, IncomingKind::Message { id: "334385199974967042".into(), text: "How do I reset my password?".into(), reply_to: None });
}

#[test]
fn bots_the_bot_itself_and_unwatched_channels_are_ignored() {
    let mut msg: Message = serde_json::from_str(&fixture("message_create.json")).unwrap();
    let mut watching_other = ctx();
    watching_other.channels.insert(ChannelId::new(1));
    assert!(map_message(&msg, &Place::default(), &watching_other, None).is_none(), "unwatched channel");
    // A thread of a watched channel is watched.
    let thread = Place { parent: Some(ChannelId::new(1)), title: Some("ARM".into()) };
    let m = map_message(&msg, &thread, &watching_other, None).unwrap();
    assert!(matches!(m.kind, IncomingKind::Message { reply_to: Some(ref t), .. } if t == "290926798999357250"), "{m:?}");
    msg.author.bot = true;
    assert!(map_message(&msg, &Place::default(), &ctx(), None).is_none(), "bot author");
    msg.author.bot = false;
    msg.author.id = UserId::new(BOT_ID);
    assert!(map_message(&msg, &Place::default(), &ctx(), None).is_none(), "the bot itself");
}

#[test]
fn a_new_forum_post_is_a_question_with_its_title() {
    let mut msg: Message = serde_json::from_str(&fixture("message_create.json")).unwrap();
    msg.channel_id = ChannelId::new(msg.id.get()); // a forum post's first message has the post's id
    msg.content = "It stops at linking.".into();
    let mut c = ctx();
    c.forums.insert(ChannelId::new(77));
    let place = Place { parent: Some(ChannelId::new(77)), title: Some("My build fails on ARM".into()) };
    let m = map_message(&msg, &place, &c, None).unwrap();
    assert_eq!(m.kind, IncomingKind::Command { text: "ask My build fails on ARM\nIt stops at linking.".into() });
}

#[test]
fn a_slash_command_becomes_the_core_command_with_a_private_reply_path() {
    let interaction: Interaction = serde_json::from_str(&fixture("interaction_command.json")).unwrap();
    let m = map_interaction(&interaction, &ctx(), Utc::now()).unwrap();
    assert_eq!(m.ack, Ack::Defer);
    assert_eq!(m.incoming.event_id, "interaction:786008729715212338");
    assert_eq!(m.incoming.kind, IncomingKind::Command { text: "faq search reset my password".into() });
    assert_eq!(m.incoming.reply_url.as_deref(), Some("interaction:A_UNIQUE_TOKEN"));
    // permissions 2147483647 include Manage Messages
    assert!(m.incoming.author.is_moderator);
}

#[test]
fn moderator_status_is_rechecked_from_the_member_not_trusted_from_the_command() {
    let mut raw: Value = serde_json::from_str(&fixture("interaction_command.json")).unwrap();
    raw["data"] = json!({"id": "1", "name": "ticket", "type": 1, "options": [{"type": 1, "name": "list", "options": []}]});
    raw["member"]["permissions"] = json!("1024"); // View Channel only
    raw["member"]["roles"] = json!([]);
    let plain: Interaction = serde_json::from_value(raw.clone()).unwrap();
    let m = map_interaction(&plain, &ctx(), Utc::now()).unwrap();
    assert_eq!(m.incoming.kind, IncomingKind::Command { text: "ticket list".into() });
    assert!(!m.incoming.author.is_moderator, "no Manage Messages, no moderator role");
    raw["member"]["roles"] = json!([MOD_ROLE.to_string()]);
    let by_role: Interaction = serde_json::from_value(raw.clone()).unwrap();
    assert!(map_interaction(&by_role, &ctx(), Utc::now()).unwrap().incoming.author.is_moderator, "configured role");
    raw["member"]["roles"] = json!([]);
    raw["member"]["permissions"] = json!(Permissions::MANAGE_MESSAGES.bits().to_string());
    let by_permission: Interaction = serde_json::from_value(raw).unwrap();
    assert!(map_interaction(&by_permission, &ctx(), Utc::now()).unwrap().incoming.author.is_moderator, "Manage Messages");
}

#[test]
fn a_button_click_is_a_vote_acknowledged_without_a_message() {
    let interaction: Interaction = serde_json::from_str(&fixture("interaction_component.json")).unwrap();
    let m = map_interaction(&interaction, &ctx(), Utc::now()).unwrap();
    assert_eq!(m.ack, Ack::DeferUpdate);
    assert_eq!(m.incoming.kind, IncomingKind::Feedback { on: "334385199974967042".into(), helpful: true, comment: None });
    assert_eq!(m.incoming.author.id, "53908099506183680");
}

#[test]
fn the_context_menu_escalates_the_target_message() {
    let interaction: Interaction = serde_json::from_str(&fixture("interaction_message_command.json")).unwrap();
    let m = map_interaction(&interaction, &ctx(), Utc::now()).unwrap();
    assert_eq!(m.incoming.kind, IncomingKind::Command { text: "escalate 334385199974967042".into() });
    assert!(m.incoming.author.is_moderator, "permissions 8192 = Manage Messages");
    // The target as Discord resolved it, to be remembered in case the bot never received it.
    let target = m.target.expect("the resolved target message");
    assert_eq!(target.kind, IncomingKind::Message { id: "334385199974967042".into(), text: "my build fails on ARM".into(), reply_to: None });
    assert_eq!((target.author.id.as_str(), target.channel.as_str()), ("53908099506183680", "290926798999357250"));

    // Asked of the bot by name, it is remembered as the question alone, as a live message is.
    let mut raw: serde_json::Value = serde_json::from_str(&fixture("interaction_message_command.json")).unwrap();
    raw["data"]["resolved"]["messages"]["334385199974967042"]["content"] = json!(format!("<@{BOT_ID}> my build fails on ARM"));
    let mentioned = map_interaction(&serde_json::from_value(raw).unwrap(), &ctx(), Utc::now()).unwrap();
    let IncomingKind::Message { text, .. } = mentioned.target.unwrap().kind else { panic!("a message") };
    assert_eq!(text, "my build fails on ARM");
}

#[test]
fn only_a_moderators_ticket_reaction_escalates() {
    let reaction: Reaction = serde_json::from_str(&fixture("reaction_add.json")).unwrap();
    let m = map_reaction(&reaction, &ctx(), None, Utc::now()).unwrap();
    assert_eq!(m.kind, IncomingKind::Command { text: "escalate 334385199974967042".into() });
    assert_eq!(m.author.name, "Mia");
    let no_roles = DiscordContext { moderator_roles: Default::default(), ..ctx() };
    assert!(map_reaction(&reaction, &no_roles, None, Utc::now()).is_none(), "not a moderator");
    assert!(map_reaction(&reaction, &no_roles, Some(Permissions::MANAGE_MESSAGES), Utc::now()).is_some(), "Manage Messages");
    let other_emoji = DiscordContext { escalate_reaction: "👀".into(), ..ctx() };
    assert!(map_reaction(&reaction, &other_emoji, None, Utc::now()).is_none(), "another emoji");
    // The same emoji configured as "not a question" dismisses the message instead, as its own
    // event (a moderator may do both to one message).
    let dismissing = DiscordContext { escalate_reaction: "👀".into(), not_question_reaction: "🎫".into(), ..ctx() };
    let d = map_reaction(&reaction, &dismissing, None, Utc::now()).unwrap();
    assert_eq!(d.kind, IncomingKind::Command { text: "not-a-question 334385199974967042".into() });
    assert_ne!(d.event_id, m.event_id);
}

pub(crate) fn discord_settings(fake: &FakeDiscord) -> DiscordSettings {
    DiscordSettings {
        token: Some("test-token".to_string().into()),
        api_url: fake.api_url.clone(),
        moderators_channel: Some("900".into()),
        ..DiscordSettings::default()
    }
}

async fn run_with(discord: DiscordSettings, db: TestDb) -> Running {
    run_service(db, |s| s.discord = Some(discord)).await
}

/// The bot's Discord sink against the fake, without the gateway.
fn sink_for(fake: &FakeDiscord) -> supportbot::chat::discord::outgoing::DiscordSink {
    let base = fake.api_url.trim_end_matches("/api").to_string();
    let http = std::sync::Arc::new(serenity::all::HttpBuilder::new("test-token").proxy(base).ratelimiter_disabled(true).build());
    supportbot::chat::discord::outgoing::DiscordSink::new(http, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_identifies_answers_a_question_once_and_answers_a_slash_command() {
    let fake = FakeDiscord::start().await;
    let mut bot = run_with(discord_settings(&fake), sqlite_db()).await;
    fake.wait_for("IDENTIFY", |f| f.identify().is_some()).await;
    let identify = fake.identify().unwrap();
    let intents = identify["d"]["intents"].as_u64().unwrap();
    assert_eq!(intents & (1 << 15), 1 << 15, "the message-content intent");
    assert!(identify["d"]["token"].as_str().unwrap().ends_with("test-token"), "identified with the configured token");
    fake.wait_for("slash commands registered", |f| !f.requests("PUT", &format!("/api/v10/applications/{APP_ID}/commands")).is_empty()).await;
    let registered = &fake.requests("PUT", &format!("/api/v10/applications/{APP_ID}/commands"))[0];
    let names: Vec<&str> = registered.as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    for wanted in ["faq", "ticket", "escalate", "help", "Escalate to ticket"] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }

    // A question, delivered twice (two instances or a redelivery), then an unrelated one.
    let question = message_create("1100", "200", "300", "Asker", "how do i reset my password");
    fake.dispatch("MESSAGE_CREATE", question.clone());
    fake.dispatch("MESSAGE_CREATE", question);
    fake.dispatch("MESSAGE_CREATE", message_create("1101", "200", "301", "Other", "can i use postgresql instead of sqlite?"));
    let posts = "/api/v10/channels/200/messages";
    fake.wait_for("both answers", |f| f.requests("POST", posts).len() >= 2).await;
    let answers = fake.requests("POST", posts);
    let to_first: Vec<&Value> = answers.iter().filter(|b| b["message_reference"]["message_id"] == "1100").collect();
    assert_eq!(to_first.len(), 1, "exactly one answer to the question: {answers:?}");
    let answer = to_first[0];
    assert!(answer["content"].as_str().unwrap().contains("Forgot password"), "{answer}");
    assert!(answer["content"].as_str().unwrap().contains("reset-password"), "the FAQ id is shown: {answer}");
    assert!(answer["content"].as_str().unwrap().contains('%'), "the confidence is shown: {answer}");
    assert_eq!(answer["allowed_mentions"]["parse"], json!([]), "{answer}");
    assert_eq!(answer["allowed_mentions"]["replied_user"], json!(false), "{answer}");
    assert_eq!(answer["enforce_nonce"], json!(true));
    assert!(answer["nonce"].as_str().is_some_and(|n| n.len() <= 25), "{answer}");
    let buttons = &answer["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], "supportbot:helpful:1100");
    assert_eq!(buttons[1]["custom_id"], "supportbot:not_helpful:1100");

    // A slash command gets its callback (deferred, private), then the reply as a follow-up.
    fake.dispatch("INTERACTION_CREATE", crate::fake_discord::slash_command("5000", "tok-help", "help", json!([]), "0"));
    fake.wait_for("the interaction callback", |f| !f.requests("POST", "/api/v10/interactions/5000/tok-help/callback").is_empty()).await;
    let callback = &fake.requests("POST", "/api/v10/interactions/5000/tok-help/callback")[0];
    assert_eq!(callback["type"], 5, "deferred: {callback}");
    assert_eq!(callback["data"]["flags"], 64, "ephemeral: {callback}");
    let followups = format!("/api/v10/webhooks/{APP_ID}/tok-help");
    fake.wait_for("the help follow-up", |f| !f.requests("POST", &followups).is_empty()).await;
    let help = &fake.requests("POST", &followups)[0];
    assert!(help["content"].as_str().unwrap().contains("faq search"), "{help}");
    assert_eq!(help["allowed_mentions"]["parse"], json!([]));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderator_commands_are_refused_to_members_without_the_permission() {
    let fake = FakeDiscord::start().await;
    let mut bot = run_with(discord_settings(&fake), sqlite_db()).await;
    fake.wait_for("IDENTIFY", |f| f.identify().is_some()).await;
    let list = json!([{"type": 1, "name": "list", "options": []}]);
    fake.dispatch("INTERACTION_CREATE", crate::fake_discord::slash_command("6000", "tok-member", "ticket", list.clone(), "1024"));
    fake.dispatch("INTERACTION_CREATE", crate::fake_discord::slash_command("6001", "tok-mod", "ticket", list, "8192"));
    let (member, moderator) = (format!("/api/v10/webhooks/{APP_ID}/tok-member"), format!("/api/v10/webhooks/{APP_ID}/tok-mod"));
    fake.wait_for("both replies", |f| !f.requests("POST", &member).is_empty() && !f.requests("POST", &moderator).is_empty()).await;
    let refused = fake.requests("POST", &member)[0]["content"].as_str().unwrap().to_lowercase();
    let listed = fake.requests("POST", &moderator)[0]["content"].as_str().unwrap().to_lowercase();
    assert!(refused.contains("moderator"), "{refused}");
    assert!(!listed.contains("moderator"), "{listed}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_ready_the_bot_catches_up_on_messages_posted_while_it_was_away() {
    let db = sqlite_db();
    // A previous run saw message 1000 in channel 200.
    {
        let store = supportbot::store::Store::connect(&db.url, 2).await.unwrap();
        store
            .save_message(&supportbot::store::StoredMessage {
                platform: "discord".into(),
                id: "1000".into(),
                channel: "200".into(),
                user_id: "300".into(),
                user_name: "Asker".into(),
                text: "hello all".into(),
                at: Utc::now() - chrono::Duration::hours(1),
                reply_to: None,
                is_support: false,
            })
            .await
            .unwrap();
        store.close().await;
    }
    let fake = FakeDiscord::start().await;
    fake.set_history("200", vec![message_create("1002", "200", "302", "Late", "how do i reset my password")]);
    let mut bot = run_with(discord_settings(&fake), db).await;
    fake.wait_for("the answer to the missed question", |f| !f.requests("POST", "/api/v10/channels/200/messages").is_empty()).await;
    let reads = fake.request_paths("GET", "/api/v10/channels/200/messages");
    assert!(reads.iter().any(|p| p.contains("after=1000")), "fetched after the last seen message: {reads:?}");
    let answer = &fake.requests("POST", "/api/v10/channels/200/messages")[0];
    assert_eq!(answer["message_reference"]["message_id"], "1002");
    // Seen live again (the gateway and the catch-up overlap): still one answer.
    fake.dispatch("MESSAGE_CREATE", message_create("1002", "200", "302", "Late", "how do i reset my password"));
    fake.dispatch("MESSAGE_CREATE", message_create("1003", "200", "303", "Next", "can i use postgresql instead of sqlite?"));
    fake.wait_for("the next answer", |f| f.requests("POST", "/api/v10/channels/200/messages").len() >= 2).await;
    let answers = fake.requests("POST", "/api/v10/channels/200/messages");
    assert_eq!(answers.iter().filter(|b| b["message_reference"]["message_id"] == "1002").count(), 1, "{answers:?}");
    let _ = &bot.db;
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_content_intent_is_explained_in_one_sentence() {
    let fake = FakeDiscord::start().await;
    fake.close_after_identify(4014);
    let bot = run_with(discord_settings(&fake), sqlite_db()).await;
    let error = bot.task.await.unwrap().unwrap_err().to_string();
    assert!(error.contains("MESSAGE CONTENT INTENT") && error.contains("4014"), "{error}");
}

#[tokio::test]
async fn a_missing_or_rejected_token_is_one_clear_sentence() {
    let fake = FakeDiscord::start().await;
    let missing = run_with(DiscordSettings { token: None, ..discord_settings(&fake) }, sqlite_db()).await;
    let e = missing.task.await.unwrap().unwrap_err().to_string();
    assert!(e.contains("[discord] token is missing"), "{e}");
    let wrong = run_with(DiscordSettings { token: Some("wrong".to_string().into()), ..discord_settings(&fake) }, sqlite_db()).await;
    let e = wrong.task.await.unwrap().unwrap_err().to_string();
    assert!(e.contains("rejected [discord] token"), "{e}");
    assert!(!e.contains("wrong"), "the token is never echoed: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderators_reaction_opens_a_ticket_whose_buttons_work() {
    let fake = FakeDiscord::start().await;
    let settings = DiscordSettings { moderator_roles: vec![MOD_ROLE.to_string()], ..discord_settings(&fake) };
    let mut bot = run_with(settings, sqlite_db()).await;
    fake.dispatch("MESSAGE_CREATE", message_create("1200", "200", "300", "Asker", "how do i reset my password"));
    fake.wait_for("the answer", |f| !f.requests("POST", "/api/v10/channels/200/messages").is_empty()).await;
    // Someone without the role reacts first: nothing happens. Then a moderator.
    fake.dispatch("MESSAGE_REACTION_ADD", reaction("1200", "200", "301", "1", "🎫"));
    fake.dispatch("MESSAGE_REACTION_ADD", reaction("1200", "200", "302", &MOD_ROLE.to_string(), "🎫"));
    fake.wait_for("the moderators' notice", |f| !f.requests("POST", "/api/v10/channels/900/messages").is_empty()).await;
    let notices = fake.requests("POST", "/api/v10/channels/900/messages");
    assert_eq!(notices.len(), 1, "{notices:?}");
    let notice = &notices[0];
    assert!(notice["content"].as_str().unwrap().contains("#1"), "{notice}");
    assert!(notice["message_reference"].is_null(), "a notice is not a reply: {notice}");
    let ids: Vec<&str> = notice["components"][0]["components"].as_array().unwrap().iter().filter_map(|b| b["custom_id"].as_str()).collect();
    assert_eq!(ids, ["supportbot:assign_me:1", "supportbot:resolve:1", "supportbot:close:1"]);

    fake.dispatch("INTERACTION_CREATE", button_click("7000", "tok-assign", "supportbot:assign_me:1", "8192"));
    let followups = format!("/api/v10/webhooks/{APP_ID}/tok-assign");
    fake.wait_for("the assignment reply", |f| !f.requests("POST", &followups).is_empty()).await;
    let callback = &fake.requests("POST", "/api/v10/interactions/7000/tok-assign/callback")[0];
    assert_eq!(callback["type"], 6, "a click is acknowledged without a message: {callback}");
    let reply = fake.requests("POST", &followups)[0]["content"].as_str().unwrap().to_string();
    assert!(reply.contains("assigned to Member"), "{reply}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_is_a_thread_on_its_question_and_the_thread_is_its_transcript() {
    let fake = FakeDiscord::start().await;
    let settings = DiscordSettings { moderator_roles: vec![MOD_ROLE.to_string()], ..discord_settings(&fake) };
    let mut bot = run_with(settings, sqlite_db()).await;
    fake.dispatch("MESSAGE_CREATE", message_create("1250", "200", "300", "Asker", "my build fails on ARM with a linker error"));
    fake.dispatch("MESSAGE_REACTION_ADD", reaction("1250", "200", "302", &MOD_ROLE.to_string(), "🎫"));
    let in_thread = "/api/v10/channels/1250/messages";
    fake.wait_for("the ticket's message in its thread", |f| !f.requests("POST", in_thread).is_empty()).await;
    let started = fake.requests("POST", "/api/v10/channels/200/messages/1250/threads");
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0]["name"], "Ticket #1");
    let told = &fake.requests("POST", in_thread)[0];
    assert!(told["content"].as_str().unwrap().contains("#1"), "{told}");
    assert!(told["message_reference"].is_null(), "inside the thread, not a reply beside it: {told}");

    // A moderator answers inside the thread: the ticket's transcript and its first response.
    let mut answer = message_create("1251", "1250", "302", "Mia", "try the aarch64 target <@&1> @everyone");
    answer["member"]["roles"] = json!([MOD_ROLE.to_string()]);
    fake.dispatch("MESSAGE_CREATE", answer);
    fake.dispatch("MESSAGE_CREATE", message_create("1252", "1250", "300", "Asker", "thanks, that fixed it!"));
    fake.wait_for("the proposal to resolve", |f| {
        f.requests("POST", "/api/v10/channels/900/messages").iter().any(|m| m["content"].as_str().unwrap_or_default().contains("ticket resolve 1"))
    })
    .await;
    // The two thread messages may be handled in either order: ask until both are in.
    let text = ticket_show_until(&fake, 7100, &["Mia wrote", "Asker wrote"]).await;
    assert!(text.contains("Mia wrote: try the aarch64 target"), "{text}");
    assert!(text.contains("Asker wrote: thanks, that fixed it"), "{text}");
    assert!(!text.contains("<@&1>") && !text.contains("@everyone"), "{text}");

    // The conversation is mirrored into a thread on the ticket's notice in the moderators' channel.
    let notice = notice_of(&fake, 1).await;
    let mirror = format!("/api/v10/channels/{notice}/messages");
    fake.wait_for("both lines mirrored", |f| f.requests("POST", &mirror).len() >= 2).await;
    assert_eq!(fake.requests("POST", &format!("/api/v10/channels/900/messages/{notice}/threads")).len(), 1, "one thread on the notice");
    let lines: Vec<String> = fake.requests("POST", &mirror).iter().map(|m| m["content"].as_str().unwrap_or_default().to_string()).collect();
    assert!(lines.iter().any(|l| l.contains("Mia (moderator): try the aarch64 target")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("Asker (asker): thanks, that fixed it")), "{lines:?}");
    assert!(fake.requests("POST", &mirror).iter().all(|m| m["allowed_mentions"]["parse"] == json!([])), "mirrored text pings nobody");
    // What the moderators say in that thread stays among them: a note in the history.
    let mut aside = message_create("1253", &notice, "302", "Mia", "mods only: this is the old linker bug");
    aside["member"]["roles"] = json!([MOD_ROLE.to_string()]);
    fake.dispatch("MESSAGE_CREATE", aside);
    let text = ticket_show_until(&fake, 7200, &["(internal note): mods only: this is the old linker bug"]).await;
    assert!(text.contains("(internal note): mods only: this is the old linker bug"), "{text}");
    bot.shutdown().await;
    let to_asker: Vec<Value> = fake.requests("POST", "/api/v10/channels/1250/messages");
    assert!(to_asker.iter().all(|m| !m["content"].as_str().unwrap_or_default().contains("old linker bug")), "{to_asker:?}");
}

/// `/ticket show 1` by a moderator, asked again (interaction ids from `first_id`) until its
/// reply holds every one of `wanted` (events handled concurrently land in any order); the last reply.
async fn ticket_show_until(fake: &FakeDiscord, first_id: u32, wanted: &[&str]) -> String {
    let mut text = String::new();
    for attempt in 0..20 {
        let show = json!([{"type": 1, "name": "show", "options": [{"type": 4, "name": "id", "value": 1}]}]);
        let token = format!("tok-show-{}", first_id + attempt);
        fake.dispatch("INTERACTION_CREATE", slash_command(&format!("{}", first_id + attempt), &token, "ticket", show, "8192"));
        let followups = format!("/api/v10/webhooks/{APP_ID}/{token}");
        fake.wait_for("ticket show", |f| !f.requests("POST", &followups).is_empty()).await;
        text = fake.requests("POST", &followups)[0]["content"].as_str().unwrap().to_string();
        if wanted.iter().all(|w| text.contains(w)) {
            break;
        }
    }
    text
}

/// The id of ticket `ticket`'s notice in the moderators' channel (900), once the fake made it.
async fn notice_of(fake: &FakeDiscord, ticket: i64) -> String {
    let is_notice = |m: &Value| m["channel_id"] == "900" && m["content"].as_str().unwrap_or_default().contains(&format!("#{ticket}"));
    fake.wait_for("the ticket's notice", |f| f.state.created.lock().unwrap().iter().any(is_notice)).await;
    let created = fake.state.created.lock().unwrap();
    created.iter().find(|m| is_notice(m)).map(|m| m["id"].as_str().unwrap().to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_from_a_private_question_is_worked_in_a_private_thread_with_the_asker_on_sqlite() {
    a_ticket_from_a_private_question_is_worked_in_a_private_thread(sqlite_db()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn a_ticket_from_a_private_question_is_worked_in_a_private_thread_with_the_asker_on_postgres() {
    a_ticket_from_a_private_question_is_worked_in_a_private_thread(crate::helpers::postgres_db().await).await;
}

/// `/ask`, answered privately, then "not helpful": the ticket's private thread with the asker,
/// mirrored to the moderators, with nothing said in the public channel.
async fn a_ticket_from_a_private_question_is_worked_in_a_private_thread(db: TestDb) {
    let fake = FakeDiscord::start().await;
    let mut bot = run_with(discord_settings(&fake), db).await;
    let options = json!([{"type": 3, "name": "question", "value": "how do i reset my password"}]);
    fake.dispatch("INTERACTION_CREATE", slash_command("8100", "tok-ask", "ask", options, "0"));
    let followups = format!("/api/v10/webhooks/{APP_ID}/tok-ask");
    fake.wait_for("the private answer", |f| !f.requests("POST", &followups).is_empty()).await;
    fake.dispatch("INTERACTION_CREATE", button_click("8101", "tok-no", "supportbot:not_helpful:interaction:8100", "0"));
    fake.wait_for("the private thread", |f| !f.requests("POST", "/api/v10/channels/200/threads").is_empty()).await;
    let started = fake.requests("POST", "/api/v10/channels/200/threads");
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0]["type"], 12, "a private thread: {}", started[0]);
    assert_eq!(started[0]["invitable"], false, "{}", started[0]);
    let private_thread = |f: &FakeDiscord| f.state.threads.lock().unwrap().iter().find(|(_, parent)| *parent == "200").map(|(id, _)| id.clone());
    fake.wait_for("the private thread made", |f| private_thread(f).is_some()).await;
    let thread = private_thread(&fake).unwrap();
    fake.wait_for("the asker added", |f| !f.request_paths("PUT", &format!("/api/v10/channels/{thread}/thread-members/400")).is_empty()).await;
    let in_thread = format!("/api/v10/channels/{thread}/messages");
    fake.wait_for("the ticket's word in the private thread", |f| !f.requests("POST", &in_thread).is_empty()).await;
    assert!(fake.requests("POST", &in_thread)[0]["content"].as_str().unwrap().contains("#1"), "{:?}", fake.requests("POST", &in_thread));
    let public: Vec<Value> = fake.requests("POST", "/api/v10/channels/200/messages");
    assert!(public.is_empty(), "nothing about a private question in the public channel: {public:?}");

    // The asker writes in the private thread: the ticket's transcript, mirrored to the moderators.
    fake.dispatch("MESSAGE_CREATE", message_create("8200", &thread, "400", "Member", "the reset mail never arrives"));
    let notice = notice_of(&fake, 1).await;
    let mirror = format!("/api/v10/channels/{notice}/messages");
    fake.wait_for("the line mirrored", |f| !f.requests("POST", &mirror).is_empty()).await;
    assert!(fake.requests("POST", &mirror)[0]["content"].as_str().unwrap().contains("the reset mail never arrives"));
    // A moderator answers in the private thread (moderators can see private threads), then
    // resolves it: the asker hears in the private thread, never in the channel.
    let mut answer = message_create("8201", &thread, "302", "Mia", "check your spam folder");
    answer["member"]["roles"] = json!([MOD_ROLE.to_string()]);
    fake.dispatch("MESSAGE_CREATE", answer);
    fake.wait_for("the answer mirrored", |f| f.requests("POST", &mirror).len() >= 2).await;
    let resolve = json!([{"type": 1, "name": "resolve", "options": [{"type": 4, "name": "id", "value": 1}, {"type": 3, "name": "resolution", "value": "spam folder"}]}]);
    fake.dispatch("INTERACTION_CREATE", slash_command("8300", "tok-resolve", "ticket", resolve, "8192"));
    fake.wait_for("the resolution in the private thread", |f| {
        f.requests("POST", &in_thread).iter().any(|m| m["content"].as_str().unwrap_or_default().contains("resolved"))
    })
    .await;
    bot.shutdown().await;
    assert_eq!(fake.requests("POST", "/api/v10/channels/200/threads").len(), 1, "one private thread per ticket");
    assert!(fake.requests("POST", "/api/v10/channels/200/messages").is_empty(), "still nothing in the public channel");
    let store = supportbot::store::Store::connect(&bot.db.url, 1).await.unwrap();
    let said: Vec<String> = store.ticket_events(1).await.unwrap().iter().filter_map(|e| e.note.clone()).collect();
    assert!(said.iter().any(|n| n == "the reset mail never arrives"), "{said:?}");
    let ticket = store.ticket(1).await.unwrap().unwrap();
    assert!(ticket.first_response_at.is_some(), "the moderator's answer in the private thread is the first response: {ticket:?}");
}

#[tokio::test]
async fn a_private_thread_is_started_once_even_when_the_first_post_in_it_fails() {
    use supportbot::chat::deliver_pending;
    use supportbot::domain::message::{Action, ActionKind, ThreadPlace};
    let fake = FakeDiscord::start().await;
    let sink = sink_for(&fake);
    let (bot, _db) = spawn_bot().await;
    let asked = supportbot::store::NewTicket {
        platform: "discord",
        channel: "200",
        question_message_id: Some("interaction:1500"),
        asker_id: "400",
        asker_name: "Member",
        question: "how do i reset my password",
        origin: supportbot::domain::ticket::Origin::NotHelpful,
        priority: supportbot::domain::ticket::Priority::Normal,
        actor: "Member",
        private: true,
    };
    let (ticket, _) = bot.store().open_ticket(&asked, at(0)).await.unwrap();
    let told = |text: &str| {
        Action::new(ActionKind::TicketOpened, "200", text)
            .about_ticket(ticket.id, ticket.status)
            .private_to("400")
            .in_ticket_thread(ticket.id, ThreadPlace::Private)
    };
    bot.store().record_actions("discord", "in:discord:1500", &[told("Ticket #1 is open")], None, at(0)).await.unwrap();
    *fake.state.fail_after_create.lock().unwrap() = 1; // Discord keeps the message, then answers 500
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0)).await.unwrap(), 0, "the 500 is no success");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(1)).await.unwrap(), 1, "the retry goes");
    assert_eq!(fake.requests("POST", "/api/v10/channels/200/threads").len(), 1, "one private thread, not one per attempt");
    let thread = fake.state.threads.lock().unwrap().keys().next().cloned().unwrap();
    let kept: Vec<Value> = fake.state.created.lock().unwrap().iter().filter(|m| m["channel_id"] == thread).cloned().collect();
    assert_eq!(kept.len(), 1, "the message once, in the thread: {kept:?}");
    // Later words about the ticket go into that thread: no second thread, nothing in the channel.
    bot.store().record_actions("discord", "in:discord:1501", &[told("Ticket #1 was resolved")], None, at(2)).await.unwrap();
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(2)).await.unwrap(), 1);
    assert_eq!(fake.requests("POST", "/api/v10/channels/200/threads").len(), 1);
    assert_eq!(fake.requests("POST", &format!("/api/v10/channels/{thread}/messages")).len(), 3, "two tries of the first, one of the second");
    assert!(fake.requests("POST", "/api/v10/channels/200/messages").is_empty(), "nothing in the public channel");
    assert!(fake.requests("POST", "/api/v10/users/@me/channels").is_empty(), "no direct message either");
}

#[tokio::test]
async fn a_429_is_retried_later_with_the_same_nonce() {
    use supportbot::chat::deliver_pending;
    use supportbot::domain::message::{Action, ActionKind};
    let fake = FakeDiscord::start().await;
    let sink = sink_for(&fake);
    let (bot, _db) = spawn_bot().await;
    let answer = Action::new(ActionKind::Answer, "200", "An answer").replying_to(Some("1300"));
    bot.store().record_actions("discord", "in:discord:1300", &[answer], None, at(0)).await.unwrap();
    *fake.state.rate_limit_next.lock().unwrap() = 1;
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0)).await.unwrap(), 0, "429: not sent");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0)).await.unwrap(), 0, "waits before trying again");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(1)).await.unwrap(), 1, "sent once the pause is over");
    let posts = fake.requests("POST", "/api/v10/channels/200/messages");
    assert_eq!(posts.len(), 2, "the refused try and the retry");
    assert_eq!(posts[0]["nonce"], posts[1]["nonce"], "a resend carries the same nonce");
    assert_eq!(posts[1]["enforce_nonce"], true);
}

#[tokio::test]
async fn the_digest_goes_to_discord_in_pieces_with_its_chart_attached() {
    use supportbot::chat::deliver_pending;
    let fake = FakeDiscord::start().await;
    let sink = sink_for(&fake);
    let (bot, _db) = spawn_bot().await;
    for (i, text) in ["how do i reset my password", "my build fails on ARM", "can i use postgresql instead of sqlite?"].iter().enumerate() {
        crate::helpers::send(&bot, crate::helpers::message(&format!("{}", 1400 + i), i as i64 * 60, crate::helpers::user("ann"), text)).await;
    }
    let mut settings = bot.config().clone();
    settings.digest.channels = vec!["discord:300".into()];
    let queued =
        supportbot::bot::digest::queue(bot.store(), bot.prompts(), None, &settings, at(-60 * 24), at(60 * 24 * 6), at(60 * 24 * 7)).await.unwrap();
    assert_eq!(queued, 1);
    assert!(deliver_pending(&bot.outbox(), &sink, at(60 * 24 * 7)).await.unwrap() == 1);
    let posts = fake.requests("POST", "/api/v10/channels/300/messages");
    assert!(!posts.is_empty());
    let text: String = posts.iter().map(|p| p["content"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>().join("\n");
    assert!(text.contains("3"), "the digest's numbers: {text}");
    assert!(posts.iter().all(|p| p["content"].as_str().unwrap_or_default().chars().count() <= 2000));
    let last = posts.last().unwrap();
    let files = last["_files"].as_array().expect("the last piece is sent with the chart as a file");
    assert_eq!(files.len(), 1, "{last}");
    assert!(files[0]["filename"].as_str().unwrap().starts_with("supportbot-digest-"), "{files:?}");
    assert!(files[0]["png"].as_bool().unwrap() && files[0]["len"].as_u64().unwrap() > 5_000, "{files:?}");
    assert_eq!(last["allowed_mentions"]["parse"], json!([]));
}

#[test]
fn edits_and_deletes_become_the_core_events_that_update_the_stored_copy() {
    use supportbot::chat::discord::events::{map_delete, map_edit};
    let edit: serenity::all::MessageUpdateEvent = serde_json::from_value(json!({
        "id": "334385199974967042", "channel_id": "290926798999357250", "guild_id": "290926798626357999",
        "content": "How do I reset my password on ARM?", "edited_timestamp": "2017-07-11T17:30:00.000000+00:00",
        "author": {"id": "53908099506183680", "username": "Mason", "discriminator": "9999", "avatar": null}
    }))
    .unwrap();
    let m = map_edit(&edit, &ctx(), Utc::now()).unwrap();
    assert_eq!(m.kind, IncomingKind::Edited { id: "334385199974967042".into(), text: "How do I reset my password on ARM?".into() });
    assert!(m.event_id.starts_with("edit:334385199974967042:"), "each edit is its own event: {}", m.event_id);
    let d = map_delete(ChannelId::new(290926798999357250), serenity::all::MessageId::new(334385199974967042), Utc::now());
    assert_eq!(d.kind, IncomingKind::Deleted { id: "334385199974967042".into() });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_runs_only_its_shard_range() {
    use supportbot::config::ShardCount;
    let fake = FakeDiscord::start().await;
    let settings = DiscordSettings { shards: ShardCount::Fixed(2), shard_range: Some([1, 1]), ..discord_settings(&fake) };
    let mut bot = run_with(settings, sqlite_db()).await;
    fake.wait_for("IDENTIFY", |f| f.identify().is_some()).await;
    assert_eq!(fake.identify().unwrap()["d"]["shard"], json!([1, 2]), "shard 1 of 2");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_ready_new_forum_posts_made_while_away_are_taken_as_questions() {
    use crate::fake_discord::forum_thread;
    let db = sqlite_db();
    {
        // An earlier run saw forum post 5001 (and so has run before).
        let store = supportbot::store::Store::connect(&db.url, 2).await.unwrap();
        let seen = supportbot::domain::message::Incoming {
            platform: "discord".into(),
            event_id: "5001".into(),
            at: Utc::now(),
            channel: "5001".into(),
            author: supportbot::domain::message::Author { id: "300".into(), name: "Asker".into(), is_moderator: false },
            kind: IncomingKind::Command { text: "ask old post".into() },
            reply_url: None,
        };
        store.record_incoming(&seen, Utc::now()).await.unwrap();
        store.close().await;
    }
    let fake = FakeDiscord::start().await;
    *fake.state.active_threads.lock().unwrap() = vec![
        forum_thread("5000", "77", "How do I reset my password?"),
        forum_thread("5001", "77", "Old post"),
        forum_thread("5002", "78", "Elsewhere"),
    ];
    let mut first = message_create("5000", "5000", "301", "Poster", "I am locked out since yesterday.");
    first["id"] = json!("5000");
    fake.set_history("5000", vec![first]);
    let settings = DiscordSettings { forum_channels: vec!["77".into()], ..discord_settings(&fake) };
    let mut bot = run_with(settings, db).await;
    fake.wait_for("the answer in the forum post", |f| !f.requests("POST", "/api/v10/channels/5000/messages").is_empty()).await;
    let answer = &fake.requests("POST", "/api/v10/channels/5000/messages")[0];
    assert_eq!(answer["message_reference"]["message_id"], "5000");
    assert!(answer["content"].as_str().unwrap().contains("reset-password"), "{answer}");
    assert!(fake.request_paths("GET", "/api/v10/channels/5001/messages/5001").is_empty(), "a post seen before is not fetched again");
    assert!(fake.request_paths("GET", "/api/v10/channels/5002/messages/5002").is_empty(), "not a watched forum");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_ask_is_answered_through_the_interaction() {
    let fake = FakeDiscord::start().await;
    let mut bot = run_with(discord_settings(&fake), sqlite_db()).await;
    let options = json!([{"type": 3, "name": "question", "value": "how do i reset my password"}]);
    fake.dispatch("INTERACTION_CREATE", crate::fake_discord::slash_command("8000", "tok-ask", "ask", options, "0"));
    let followups = format!("/api/v10/webhooks/{APP_ID}/tok-ask");
    fake.wait_for("the answer", |f| !f.requests("POST", &followups).is_empty()).await;
    let answer = &fake.requests("POST", &followups)[0];
    assert!(answer["content"].as_str().unwrap().contains("reset-password"), "{answer}");
    assert_eq!(answer["components"][0]["components"][0]["custom_id"], "supportbot:helpful:interaction:8000");
    assert!(fake.requests("POST", "/api/v10/channels/200/messages").is_empty(), "not posted to the channel as well");
    bot.shutdown().await;
}

/// Two instances on one token (or overlapping shard ranges) both receive every gateway event:
/// the shared intake lets one of them handle it.
async fn two_instances_on_one_token_answer_once(db: TestDb) {
    let (first, second) = (FakeDiscord::start().await, FakeDiscord::start().await);
    let shared = db.shared();
    let mut one = run_with(discord_settings(&first), db).await;
    let mut two = run_with(discord_settings(&second), shared).await;
    // Two debug-build instances starting at once on two loaded cores (each reads its FAQ and
    // fits its detector before it connects) once needed more than 30 s in CI: a bound, not a wait.
    // An instance that stops instead (its start failed) says why.
    let start = std::time::Duration::from_secs(120);
    for (fake, running) in [(&first, &mut one), (&second, &mut two)] {
        tokio::select! {
            _ = fake.wait_for_within("IDENTIFY", start, |f| f.identify().is_some()) => {}
            ended = &mut running.task => panic!("an instance stopped before it connected: {ended:?}"),
        }
    }
    for fake in [&first, &second] {
        fake.dispatch("MESSAGE_CREATE", message_create("3001", "200", "301", "Ann", "how do i reset my password"));
        fake.dispatch("MESSAGE_CREATE", message_create("3002", "200", "302", "Bo", "can i use postgresql instead of sqlite?"));
    }
    let answers = |f: &FakeDiscord| f.requests("POST", "/api/v10/channels/200/messages");
    let both = || [&first, &second].iter().flat_map(|f| answers(f)).collect::<Vec<_>>();
    // The answers may reach either fake, and each fake only signals its own requests: poll both.
    // A bound, not a wait (the loop leaves as soon as both are in): two debug-build instances
    // fitting their detectors on a loaded machine once needed more than 10 s.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while both().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "not both answered: {:?}", both());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    one.shutdown().await;
    two.shutdown().await;
    let all = both();
    for id in ["3001", "3002"] {
        assert_eq!(all.iter().filter(|a| a["message_reference"]["message_id"] == id).count(), 1, "{all:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_token_answer_each_message_once_on_sqlite() {
    two_instances_on_one_token_answer_once(sqlite_db()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn two_instances_on_one_token_answer_each_message_once_on_postgres() {
    two_instances_on_one_token_answer_once(crate::helpers::postgres_db().await).await;
}
