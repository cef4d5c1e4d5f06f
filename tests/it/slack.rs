//! Slack over its real protocols: signed HTTP requests to the running server, Socket Mode
//! against a local WebSocket, and a local fake Web API checking what the bot sends.

use crate::fake_slack::FakeSlack;
use crate::helpers::*;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use slack_morphism::prelude::*;
use slack_morphism::signature_verifier::{SlackEventSignatureVerifier, SlackEventSignatureVerifierError};
use std::sync::Arc;
use supportbot::chat::deliver_pending;
use supportbot::chat::slack::events::{SlackContext, map_interaction, map_push_event};
use supportbot::chat::slack::outgoing::{SlackSink, web_client};
use supportbot::config::{SlackMode, SlackSettings};
use supportbot::domain::message::{Action, ActionKind, IncomingKind};
use supportbot::store::{Intake, Store};

pub(crate) const SECRET: &str = "test-signing-secret";

pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/slack/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

pub(crate) fn signature(secret: &str, ts: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[test]
fn slacks_documented_signing_example_verifies() {
    // https://api.slack.com/authentication/verifying-requests-from-slack (the worked example).
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let ts = "1531420618";
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    assert_eq!(signature(secret, ts, body), expected);
    let verifier = SlackEventSignatureVerifier::new(&SlackSigningSecret::new(secret.into()));
    // The signature matches; only its age (2018) fails the five-minute window.
    assert!(matches!(verifier.verify(expected, body, ts), Err(SlackEventSignatureVerifierError::IncorrectOrExpiredTimestampError(_))));
    let forged = expected.replace("a2114", "b2114");
    assert!(matches!(verifier.verify(&forged, body, ts), Err(SlackEventSignatureVerifierError::WrongSignatureError(_))));
}

fn ctx() -> SlackContext {
    SlackContext {
        bot_user_id: Some("U0BOT".into()),
        channels: Default::default(),
        moderators_channel: Some("C0MODS".into()),
        moderators: ["U0MIA".to_string()].into(),
        escalate_reaction: "ticket".into(),
        not_question_reaction: "no_bell".into(),
    }
}

fn push(name: &str) -> Option<supportbot::domain::message::Incoming> {
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&fixture(name)).unwrap() else { panic!("{name}") };
    map_push_event(&cb, &ctx(), Utc::now())
}

#[test]
fn documented_payloads_map_into_the_core() {
    let m = push("event_message.json").unwrap();
    assert_eq!((m.event_id.as_str(), m.channel.as_str(), m.author.id.as_str()), ("Ev0MSG0001", "C0HELP", "U0ANN"));
    assert_eq!(m.kind, IncomingKind::Message { id: "C0HELP:1700000000.000100".into(), text: "How do I reset my password?".into(), reply_to: None });
    assert_eq!(m.at.timestamp(), 1_700_000_000);

    let r = push("event_thread_reply.json").unwrap();
    assert!(matches!(r.kind, IncomingKind::Message { reply_to: Some(ref p), .. } if p == "C0HELP:1700000000.000100"));

    let e = push("event_message_changed.json").unwrap();
    assert_eq!(e.kind, IncomingKind::Edited { id: "C0HELP:1700000000.000100".into(), text: "How do I reset my password on the mobile app?".into() });
    let d = push("event_message_deleted.json").unwrap();
    assert_eq!(d.kind, IncomingKind::Deleted { id: "C0HELP:1700000000.000100".into() });

    assert!(push("event_bot_message.json").is_none(), "other bots are ignored");

    let mention = push("event_app_mention.json").unwrap();
    assert!(matches!(mention.kind, IncomingKind::Message { ref text, .. } if text == "is there a way to use postgres instead of sqlite?"));

    let reaction = push("event_reaction_added.json").unwrap();
    assert!(reaction.author.is_moderator);
    assert_eq!(reaction.kind, IncomingKind::Command { text: "escalate C0HELP:1700000000.000100".into() });

    let click: SlackInteractionEvent = serde_json::from_str(&fixture("block_actions.json")).unwrap();
    let vote = map_interaction(&click, &ctx(), Utc::now()).unwrap();
    assert_eq!(vote.kind, IncomingKind::Feedback { on: "C0HELP:1700000000.000100".into(), helpful: false, comment: None });
}

#[test]
fn the_bots_own_messages_and_unwatched_channels_are_ignored() {
    let own = fixture("event_message.json").replace("\"user\": \"U0ANN\"", "\"user\": \"U0BOT\"");
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&own).unwrap() else { panic!() };
    assert!(map_push_event(&cb, &ctx(), Utc::now()).is_none());
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&fixture("event_message.json")).unwrap() else { panic!() };
    let narrow = SlackContext { channels: ["C0OTHER".to_string()].into(), ..ctx() };
    assert!(map_push_event(&cb, &narrow, Utc::now()).is_none());
    // The moderators' channel is not watched for questions, but its threads (a ticket's
    // mirror) are.
    let in_mods = |name: &str| fixture(name).replace("C0HELP", "C0MODS");
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&in_mods("event_message.json")).unwrap() else { panic!() };
    assert!(map_push_event(&cb, &narrow, Utc::now()).is_none(), "a top-level message in the moderators' channel");
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&in_mods("event_thread_reply.json")).unwrap() else { panic!() };
    assert!(map_push_event(&cb, &narrow, Utc::now()).is_some(), "a reply in a thread of the moderators' channel");
    // A reaction from someone who is not a moderator escalates nothing.
    let not_mod = SlackContext { moderators: Default::default(), ..ctx() };
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&fixture("event_reaction_added.json")).unwrap() else { panic!() };
    assert!(map_push_event(&cb, &not_mod, Utc::now()).is_none());
    // The "not a question" emoji dismisses the message (and teaches the detector).
    let dismissing = SlackContext { escalate_reaction: "eyes".into(), not_question_reaction: "ticket".into(), ..ctx() };
    let d = map_push_event(&cb, &dismissing, Utc::now()).unwrap();
    assert_eq!(d.kind, IncomingKind::Command { text: "not-a-question C0HELP:1700000000.000100".into() });
}

pub(crate) fn slack_settings(fake: &FakeSlack, mode: SlackMode) -> SlackSettings {
    SlackSettings {
        mode,
        bot_token: Some("xoxb-test-token".to_string().into()),
        app_token: Some("xapp-test-token".to_string().into()),
        signing_secret: Some(SECRET.to_string().into()),
        api_url: fake.api_url.clone(),
        moderators: vec!["U0MIA".into()],
        moderators_channel: Some("C0MODS".into()),
        ..SlackSettings::default()
    }
}

pub(crate) async fn run_with(slack: SlackSettings) -> Running {
    run_service(sqlite_db(), |s| s.slack = Some(slack)).await
}

pub(crate) async fn post_signed(url: &str, body: &str, content_type: &str, ts: i64, secret: &str, retry: bool) -> (u16, String) {
    let ts = ts.to_string();
    let mut req = raw_post(url, body, content_type);
    req.push(("X-Slack-Request-Timestamp".into(), ts.clone()));
    req.push(("X-Slack-Signature".into(), signature(secret, &ts, body)));
    if retry {
        req.push(("X-Slack-Retry-Num".into(), "1".into()));
        req.push(("X-Slack-Retry-Reason".into(), "http_timeout".into()));
    }
    send_http(url, body, &req).await
}

fn raw_post(_url: &str, _body: &str, content_type: &str) -> Vec<(String, String)> {
    vec![("Content-Type".into(), content_type.into())]
}

/// A minimal HTTP/1.1 client over a TCP socket: enough for our own server, no extra crates.
async fn send_http(url: &str, body: &str, headers: &[(String, String)]) -> (u16, String) {
    http_request("POST", url, body, headers).await.unwrap()
}

pub(crate) async fn http_request(method: &str, url: &str, body: &str, headers: &[(String, String)]) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

impl Running {
    /// Waits until /healthz answers; fails with the service's own error if it stopped.
    pub(crate) async fn ready(&mut self) {
        for _ in 0..400 {
            if self.task.is_finished() {
                let outcome = (&mut self.task).await.unwrap();
                panic!("supportbot run stopped: {outcome:?}");
            }
            if let Ok((200, _)) = http_request("GET", &format!("{}/healthz", self.base), "", &[]).await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("supportbot run did not start");
    }
}

#[tokio::test]
async fn over_http_signed_events_are_answered_once_and_forged_ones_rejected() {
    let fake = FakeSlack::start().await;
    let mut app = run_with(slack_settings(&fake, SlackMode::Http)).await;
    app.ready().await;
    let events = format!("{}/slack/events", app.base);
    let now = Utc::now().timestamp();
    let json = "application/json";

    let (status, body) = post_signed(&events, &fixture("url_verification.json"), json, now, SECRET, false).await;
    assert_eq!(status, 200);
    assert!(body.contains("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"), "{body}");

    let question = fixture("event_message.json");
    let (forged, _) = post_signed(&events, &question, json, now, "not-the-secret", false).await;
    let (stale, _) = post_signed(&events, &question, json, now - 600, SECRET, false).await;
    let (unsigned, _) = send_http(&events, &question, &[("Content-Type".into(), json.into())]).await;
    assert_eq!((forged, stale, unsigned), (401, 401, 401));
    let (malformed, _) = post_signed(&events, "{\"type\": \"event_callback\", \"event\": 7}", json, now, SECRET, false).await;
    assert_eq!(malformed, 400);

    // The genuine delivery of the same event is handled: the forged ones recorded nothing.
    let (ok, _) = post_signed(&events, &question, json, now, SECRET, false).await;
    assert_eq!(ok, 200);
    fake.wait_for("the answer", |f| !f.calls("chat.postMessage").is_empty()).await;
    let (retry, _) = post_signed(&events, &question, json, now, SECRET, true).await;
    assert_eq!(retry, 200, "a redelivery is acknowledged");

    // A slash command, answered privately through its response_url (here: the fake).
    let response_url: String = url::form_urlencoded::byte_serialize(format!("{}/response.hook", fake.api_url).as_bytes()).collect();
    let command = fixture("command.txt").replace("https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0TEAM%2F1234%2Fabcd", &response_url);
    let (cmd, _) = post_signed(&format!("{}/slack/commands", app.base), &command, "application/x-www-form-urlencoded", now, SECRET, false).await;
    assert_eq!(cmd, 200);
    fake.wait_for("the command's reply", |f| !f.calls("response.hook").is_empty()).await;
    let reply = &fake.calls("response.hook")[0];
    assert!(reply["text"].as_str().unwrap().contains("reset-password"), "{reply}");
    assert!(reply.get("response_type").is_none_or(|t| t == "ephemeral"), "private by default: {reply}");

    let posts = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 1, "exactly one answer despite the redelivery: {posts:?}");
    let answer = &posts[0];
    assert_eq!(answer["channel"], "C0HELP");
    assert_eq!(answer["thread_ts"], "1700000000.000100", "answered in the question's thread");
    assert!(answer["text"].as_str().unwrap().contains("reset-password"));
    let blocks = answer["blocks"].to_string();
    assert!(blocks.contains("supportbot_helpful") && blocks.contains("supportbot_not_helpful"), "{blocks}");

    // Clicking "Not helpful" opens a ticket; the moderators' channel gets it with buttons.
    let click = fixture("block_actions.json");
    let form = format!("payload={}", url::form_urlencoded::byte_serialize(click.as_bytes()).collect::<String>());
    let (clicked, _) = post_signed(&format!("{}/slack/interactions", app.base), &form, "application/x-www-form-urlencoded", now, SECRET, false).await;
    assert_eq!(clicked, 200);
    fake.wait_for("the ticket notice", |f| f.calls("chat.postMessage").iter().any(|c| c["channel"] == "C0MODS")).await;
    let notice = fake.calls("chat.postMessage").into_iter().find(|c| c["channel"] == "C0MODS").unwrap();
    assert!(notice["blocks"].to_string().contains("supportbot_ticket_assign_me"), "{notice}");
    assert!(notice.get("thread_ts").is_none() || notice["thread_ts"].is_null());

    app.shutdown().await;
    let store = Store::connect(&app.db.url, 1).await.unwrap();
    assert_eq!(store.tickets(None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn socket_mode_acknowledges_an_envelope_only_after_recording_it() {
    let fake = FakeSlack::start().await;
    let mut app = run_with(slack_settings(&fake, SlackMode::Socket)).await;
    fake.wait_for("apps.connections.open", |f| !f.calls("apps.connections.open").is_empty()).await;
    let event: Value = serde_json::from_str(&fixture("event_message.json")).unwrap();
    fake.push_envelope(json!({"type": "events_api", "envelope_id": "env-1", "accepts_response_payload": false, "retry_attempt": 0, "retry_reason": "", "payload": event}));
    fake.wait_for("the ack", |f| !f.state.acks.lock().unwrap().is_empty()).await;
    assert_eq!(fake.state.acks.lock().unwrap()[0]["envelope_id"], "env-1");
    // By the time Slack got the ack, the event was in the inbox.
    let store = Store::connect(&app.db.url, 1).await.unwrap();
    let SlackPushEvent::EventCallback(cb) = serde_json::from_str::<SlackPushEvent>(&fixture("event_message.json")).unwrap() else { panic!() };
    let incoming = map_push_event(&cb, &ctx(), Utc::now()).unwrap();
    assert_eq!(store.record_incoming(&incoming, Utc::now()).await.unwrap(), Intake::Duplicate);
    fake.wait_for("the answer", |f| !f.calls("chat.postMessage").is_empty()).await;
    assert_eq!(fake.calls("chat.postMessage")[0]["thread_ts"], "1700000000.000100");
    app.shutdown().await;
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_and_echoed_text_cannot_ping() {
    let fake = FakeSlack::start().await;
    *fake.state.rate_limit_next.lock().unwrap() = 1;
    let (bot, _db) = spawn_bot().await;
    let client = Arc::new(web_client(&fake.api_url).unwrap());
    let sink = SlackSink::new(client, SlackApiToken::new("xoxb-test".to_string().into()), None);
    let mut action = Action::new(ActionKind::Reply, "C0HELP", "You wrote: <!channel> @here <@U0ALL> & more");
    action.in_reply_to = Some("C0HELP:1700000000.000100".into());
    bot.store().record_actions("slack", "test:1", &[action], None, at(0)).await.unwrap();

    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0)).await.unwrap(), 0, "429: not sent");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0)).await.unwrap(), 0, "waits for Retry-After");
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0) + chrono::Duration::seconds(2)).await.unwrap(), 1);
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(5)).await.unwrap(), 0, "sent once");
    let posts = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 1);
    assert_eq!(fake.calls("chat.postMessage (429)").len(), 1);
    let text = posts[0]["text"].as_str().unwrap();
    assert_eq!(text, "You wrote: &lt;!channel&gt; @\u{200B}here &lt;@U0ALL&gt; &amp; more", "a raw @here is broken too");
    assert_eq!(posts[0]["thread_ts"], "1700000000.000100");
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_one_clear_sentence() {
    let fake = FakeSlack::start().await;
    let (bot, _db) = spawn_bot().await;
    let bot = Arc::new(bot);
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let cases = [
        (SlackSettings { bot_token: None, ..slack_settings(&fake, SlackMode::Http) }, "bot_token is missing"),
        (SlackSettings { bot_token: Some("xapp-oops".to_string().into()), ..slack_settings(&fake, SlackMode::Http) }, "should start with xoxb-"),
        (SlackSettings { signing_secret: None, ..slack_settings(&fake, SlackMode::Http) }, "signing_secret is missing"),
        (SlackSettings { app_token: None, ..slack_settings(&fake, SlackMode::Socket) }, "app_token is missing"),
    ];
    for (settings, expected) in cases {
        let err = supportbot::chat::slack::start(&settings, "moderators", bot.clone(), rx.clone()).await.err().unwrap().to_string();
        assert!(err.contains(expected) && !err.contains('\n'), "{err}");
        assert!(!err.contains("xapp-oops"), "never echo a token: {err}");
    }
}

#[tokio::test]
async fn a_digest_is_posted_with_its_chart_shared_in_its_thread() {
    let fake = FakeSlack::start().await;
    let (bot, _db) = spawn_bot().await;
    let client = Arc::new(web_client(&fake.api_url).unwrap());
    let sink = SlackSink::new(client, SlackApiToken::new("xoxb-test".to_string().into()), None);
    let mut settings = bot.config().clone();
    settings.digest.channels = vec!["slack:C0NEWS".into()];
    supportbot::bot::digest::queue(bot.store(), bot.prompts(), None, &settings, at(-60 * 24 * 7), at(0), at(0)).await.unwrap();
    assert_eq!(deliver_pending(&bot.outbox(), &sink, at(0)).await.unwrap(), 1);
    let posts = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["channel"], "C0NEWS");
    let asked = &fake.calls("files.getUploadURLExternal")[0];
    assert!(asked["filename"].as_str().unwrap().starts_with("supportbot-digest-"), "{asked}");
    let uploaded = &fake.calls("upload")[0];
    assert_eq!(uploaded["png"], true);
    assert_eq!(asked["length"].as_str().unwrap(), uploaded["len"].to_string(), "the announced length is the real one");
    let shared = &fake.calls("files.completeUploadExternal")[0];
    assert_eq!(shared["channel_id"], "C0NEWS");
    let digest_ts = fake.state.messages.lock().unwrap()[0].1["ts"].clone();
    assert_eq!(shared["thread_ts"], digest_ts, "in the digest's thread");
}

/// A message event in #C0HELP's thread on the first question (the fixture's), by `user`.
fn thread_reply(n: u32, user: &str, text: &str) -> String {
    let mut event: Value = serde_json::from_str(&fixture("event_message.json")).unwrap();
    event["event_id"] = json!(format!("Ev0THREAD{n:03}"));
    event["event"]["user"] = json!(user);
    event["event"]["text"] = json!(text);
    event["event"]["ts"] = json!(format!("1700000100.{n:06}"));
    event["event"]["event_ts"] = event["event"]["ts"].clone();
    event["event"]["thread_ts"] = json!("1700000000.000100");
    event.to_string()
}

#[tokio::test]
async fn the_tickets_slack_thread_is_its_transcript_and_thanks_there_propose_resolving() {
    let fake = FakeSlack::start().await;
    let mut app = run_with(slack_settings(&fake, SlackMode::Http)).await;
    app.ready().await;
    let (events, now, json) = (format!("{}/slack/events", app.base), Utc::now().timestamp(), "application/json");
    assert_eq!(post_signed(&events, &fixture("event_message.json"), json, now, SECRET, false).await.0, 200);
    fake.wait_for("the answer", |f| !f.calls("chat.postMessage").is_empty()).await;
    let click = fixture("block_actions.json");
    let form = format!("payload={}", url::form_urlencoded::byte_serialize(click.as_bytes()).collect::<String>());
    post_signed(&format!("{}/slack/interactions", app.base), &form, "application/x-www-form-urlencoded", now, SECRET, false).await;
    fake.wait_for("the ticket notice", |f| f.calls("chat.postMessage").iter().any(|c| c["channel"] == "C0MODS")).await;

    // In the question's thread: the moderator answers, then the asker says it worked.
    assert_eq!(
        post_signed(&events, &thread_reply(1, "U0MIA", "the link expires after 10 minutes <!channel>"), json, now, SECRET, false).await.0,
        200
    );
    assert_eq!(post_signed(&events, &thread_reply(2, "U0ANN", "thanks, that fixed it"), json, now, SECRET, false).await.0, 200);
    let proposed = |f: &crate::fake_slack::FakeSlack| {
        f.calls("chat.postMessage").iter().any(|c| c["channel"] == "C0MODS" && c["text"].as_str().unwrap_or_default().contains("ticket resolve 1"))
    };
    fake.wait_for("the proposal to resolve", proposed).await;

    // Both lines are mirrored into the thread under the ticket's notice in #C0MODS.
    let notice_ts = {
        let kept = fake.state.messages.lock().unwrap();
        let (_, notice) = kept.iter().find(|(channel, m)| channel == "C0MODS" && m["text"].as_str().unwrap_or_default().contains("#1")).unwrap();
        notice["ts"].as_str().unwrap().to_string()
    };
    let mirrored = |f: &crate::fake_slack::FakeSlack| {
        let lines: Vec<Value> = f.calls("chat.postMessage").into_iter().filter(|c| c["channel"] == "C0MODS" && c["thread_ts"] == notice_ts).collect();
        lines.len() >= 2
    };
    fake.wait_for("the mirrored lines", mirrored).await;
    let under_notice: Vec<String> = fake
        .calls("chat.postMessage")
        .into_iter()
        .filter(|c| c["channel"] == "C0MODS" && c["thread_ts"] == notice_ts)
        .map(|c| c["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(under_notice.iter().any(|t| t.contains("the link expires after 10 minutes") && t.contains("moderator")), "{under_notice:?}");
    assert!(under_notice.iter().any(|t| t.contains("thanks, that fixed it") && t.contains("asker")), "{under_notice:?}");
    // A moderator's reply under the notice stays among the moderators: a note, never to the asker.
    let mut aside: Value = serde_json::from_str(&thread_reply(3, "U0MIA", "mods only: her org blocks the callback URL")).unwrap();
    aside["event"]["channel"] = json!("C0MODS");
    aside["event"]["thread_ts"] = json!(notice_ts);
    assert_eq!(post_signed(&events, &aside.to_string(), json, now, SECRET, false).await.0, 200);
    // (A clean stop lets the events already acknowledged finish.)
    app.shutdown().await;
    let store = Store::connect(&app.db.url, 1).await.unwrap();
    let ticket = store.ticket(1).await.unwrap().unwrap();
    let events = store.ticket_events(1).await.unwrap();
    assert!(ticket.first_response_at.is_some(), "the moderator's reply in the thread is the first response: {ticket:?} {events:?}");
    let said: Vec<(&str, &str)> = events.iter().filter_map(|e| Some((e.action.as_str(), e.note.as_deref()?))).collect();
    assert!(said.contains(&("reply", "the link expires after 10 minutes <!channel>")), "{said:?}");
    assert!(said.contains(&("message", "thanks, that fixed it")), "{said:?}");
    assert!(said.contains(&("note", "mods only: her org blocks the callback URL")), "{said:?}");
    let posted = fake.calls("chat.postMessage");
    assert!(posted.iter().all(|c| !c["text"].as_str().unwrap_or_default().contains("<!channel>")), "nothing echoed pings: {posted:?}");
    let to_asker = posted.iter().filter(|c| c["channel"] == "C0HELP").map(|c| c["text"].to_string()).collect::<Vec<_>>();
    assert!(to_asker.iter().all(|t| !t.contains("callback URL")), "the moderators' aside never reaches the asker: {to_asker:?}");
}
