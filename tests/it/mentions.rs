//! Echoed text never pings anyone. Hostile questions reach the running bot through Slack's real
//! HTTP endpoint (signed requests) and Discord's gateway, become tickets, and are listed and
//! shown; nothing the fake platforms were sent mentions anyone, links to a mention, or holds a
//! line that could pass for one of the bot's.

use crate::fake_discord::{APP_ID, FakeDiscord, slash_command};
use crate::fake_slack::FakeSlack;
use crate::helpers::*;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use supportbot::config::{DiscordSettings, SlackMode, SlackSettings};

const SECRET: &str = "mentions-signing-secret";

/// The questions from the report that found the hole, and variants of them. Each is also an
/// FAQ entry's question, so the bot answers it (something to wait for) and a "Not helpful"
/// click turns it into a ticket.
const HOSTILE: &[&str] = &[
    "How do I configure X? [click me](!channel)",
    "Why does the build fail on ARM? [x](!here)",
    "Where are the logs kept? [boss](@U123)",
    "How can I rotate the API key? [a](<!channel>) <!everyone> <!subteam^S123> <#C123> <@U0MIA>",
    "Which port does the webhook use? [a [b] c](!channel) [y](<!here|y>)",
    "What breaks the cron schedule? `x` [a](!channel) `y",
    "Why is the export empty?\n New ticket #999 (urgent) from U0BOSS in C0HELP:\n> ignore the ticket above",
    "Does the importer skip duplicates? @here @channel @everyone",
    "How do I undo a failed migration? ](!channel)",
];

/// Mention syntax and mass mentions, wherever they are in a payload.
fn pings(payload: &str) -> Vec<&'static str> {
    let lower = payload.to_lowercase();
    ["<!", "<@", "<#", "@here", "@channel", "@everyone"].into_iter().filter(|p| lower.contains(p)).collect()
}

fn faq_file() -> tempfile::NamedTempFile {
    let mut toml = String::new();
    for (i, q) in HOSTILE.iter().enumerate() {
        // A JSON string is a TOML basic string.
        toml.push_str(&format!("[[faq]]\nid = \"q{i}\"\nquestion = {}\nanswer = \"Answer {i}: see the *manual*.\"\n\n", json!(q)));
    }
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), toml).unwrap();
    file
}

fn signature(ts: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// POSTs a request signed the way Slack signs it, over a plain socket; returns the status.
async fn post_signed(url: &str, body: &str, content_type: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ts = Utc::now().timestamp().to_string();
    let (host, path) = url.strip_prefix("http://").unwrap().split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {}\r\n\r\n{body}",
        body.len(),
        signature(&ts, body)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `/support <text>` from moderator U0MIA, answered through `<api>/response.<hook>`.
async fn slash(base: &str, fake: &FakeSlack, hook: &str, text: &str) -> Value {
    let response_url = format!("{}/response.{hook}", fake.api_url);
    let trigger = format!("trigger-{hook}");
    let body = form(&[
        ("team_id", "T0TEAM"),
        ("channel_id", "C0MODS"),
        ("user_id", "U0MIA"),
        ("command", "/support"),
        ("text", text),
        ("response_url", &response_url),
        ("trigger_id", &trigger),
    ]);
    assert_eq!(post_signed(&format!("{base}/slack/commands"), &body, "application/x-www-form-urlencoded").await, 200);
    let method = format!("response.{hook}");
    fake.wait_for(&method, |f| !f.calls(&method).is_empty()).await;
    fake.calls(&method).remove(0)
}

fn text_of(payload: &Value) -> &str {
    payload["text"].as_str().unwrap_or_default()
}

/// Every section block of every payload is verbatim: Slack finds no mentions of its own in it.
fn assert_sections_verbatim(payload: &Value) {
    let blocks = match &payload["blocks"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    };
    for block in blocks.as_array().into_iter().flatten().filter(|b| b["type"] == "section") {
        assert_eq!(block["text"]["type"], "mrkdwn", "{block}");
        assert_eq!(block["text"]["verbatim"], true, "a section must be verbatim: {block}");
    }
}

/// A moderators' notice: one header line, then the question quoted on every line.
fn assert_one_header_then_quotes(notice: &str) {
    let mut lines = notice.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("New ticket #") && !header.starts_with("New ticket #999"), "{notice}");
    for line in lines {
        assert!(line.starts_with("&gt;"), "an unquoted line in the notice: {line:?} in {notice:?}");
    }
}

#[tokio::test]
async fn on_slack_hostile_questions_become_tickets_that_ping_no_one() {
    let fake = FakeSlack::start().await;
    let faq = faq_file();
    let slack = SlackSettings {
        mode: SlackMode::Http,
        bot_token: Some("xoxb-test-token".to_string().into()),
        signing_secret: Some(SECRET.to_string().into()),
        api_url: fake.api_url.clone(),
        moderators: vec!["U0MIA".into()],
        moderators_channel: Some("C0MODS".into()),
        ..SlackSettings::default()
    };
    let mut app = run_service(sqlite_db(), |s| {
        s.slack = Some(slack);
        s.faq.file = Some(faq.path().to_path_buf());
        s.faq.threshold = 0.3; // each question's own entry answers it
        s.tickets.link_similarity = 1.0; // every question its own ticket
    })
    .await;
    let events = format!("{}/slack/events", app.base);
    // Asked now (by the wall clock the service runs on), so no window ends during the test.
    let now = Utc::now().timestamp();
    let ts = |i: usize| format!("{now}.{:06}", 100 + i);
    for (i, question) in HOSTILE.iter().enumerate() {
        let event = json!({
            "token": "XXYYZZ", "team_id": "T0TEAM", "api_app_id": "A0APP", "type": "event_callback",
            "event_id": format!("Ev0HOSTILE{i}"), "event_time": now, "authed_users": ["U0BOT"],
            "event": {"type": "message", "channel": "C0HELP", "user": "U0ANN", "text": question, "ts": ts(i), "event_ts": ts(i), "channel_type": "channel"},
        });
        assert_eq!(post_signed(&events, &event.to_string(), "application/json").await, 200, "{question}");
    }
    let answered = |f: &FakeSlack| f.calls("chat.postMessage").iter().filter(|c| c["channel"] == "C0HELP").count();
    fake.wait_for("an answer to every question", |f| answered(f) >= HOSTILE.len()).await;

    // "Not helpful" on every answer: each question becomes a ticket, announced to the moderators.
    for i in 0..HOSTILE.len() {
        let click = json!({
            "type": "block_actions", "team": {"id": "T0TEAM", "domain": "example"},
            "user": {"id": "U0ANN", "username": "ann", "name": "ann", "team_id": "T0TEAM"},
            "api_app_id": "A0APP", "token": "XXYYZZ", "trigger_id": format!("click-{i}"),
            "container": {"type": "message", "message_ts": "1700009999.000001", "channel_id": "C0HELP", "is_ephemeral": false},
            "channel": {"id": "C0HELP", "name": "help"},
            "message": {"type": "message", "user": "U0BOT", "ts": "1700009999.000001", "text": "An answer"},
            "actions": [{"type": "button", "action_id": "supportbot_not_helpful", "block_id": "b1",
                         "text": {"type": "plain_text", "text": "Not helpful", "emoji": true},
                         "value": format!("C0HELP:{}", ts(i)), "action_ts": format!("{now}.{i:06}")}],
        });
        let body = form(&[("payload", &click.to_string())]);
        assert_eq!(post_signed(&format!("{}/slack/interactions", app.base), &body, "application/x-www-form-urlencoded").await, 200);
    }
    let notices = |f: &FakeSlack| f.calls("chat.postMessage").into_iter().filter(|c| c["channel"] == "C0MODS").collect::<Vec<_>>();
    fake.wait_for("a notice for every ticket", |f| notices(f).len() >= HOSTILE.len()).await;

    // The moderators list, show, assign and resolve them, and search the FAQ for the same words.
    let list = slash(&app.base, &fake, "list", "ticket list").await;
    let mut shown = Vec::new();
    for id in 1..=HOSTILE.len() {
        shown.push(slash(&app.base, &fake, &format!("show{id}"), &format!("ticket show {id}")).await);
    }
    slash(&app.base, &fake, "assign", "ticket assign 1 [boss](@U123) @here").await;
    slash(&app.base, &fake, "resolve", "ticket resolve 2 fixed by <!channel> [x](!here)\nNew ticket #999 (urgent)").await;
    let list_after = slash(&app.base, &fake, "list2", "ticket list").await;
    let search = slash(&app.base, &fake, "search", "faq search configure X [click me](!channel) @everyone").await;
    let unknown = slash(&app.base, &fake, "unknown", "x`[a](!channel)`").await;
    let usage = slash(&app.base, &fake, "usage", "ticket show ](!channel)").await;
    fake.wait_for("the asker told of the resolution", |f| f.calls("chat.postMessage").iter().any(|c| text_of(c).contains("resolved"))).await;
    app.shutdown().await;

    // Nothing any payload carries can ping: no mention syntax, no bare mass mention.
    let calls = fake.state.calls.lock().unwrap().clone();
    let sent: Vec<&(String, Value)> = calls.iter().filter(|(m, _)| m == "chat.postMessage" || m.starts_with("response.")).collect();
    assert!(sent.len() >= 3 * HOSTILE.len(), "{sent:?}");
    for (method, payload) in &sent {
        assert_eq!(pings(&payload.to_string()), Vec::<&str>::new(), "{method}: {payload}");
        assert_sections_verbatim(payload);
    }
    let notices: Vec<&Value> = sent.iter().filter(|(_, p)| p["channel"] == "C0MODS").map(|(_, p)| p).collect();
    assert_eq!(notices.len(), HOSTILE.len());
    for notice in &notices {
        assert_one_header_then_quotes(text_of(notice));
        assert!(!notice["blocks"].is_null(), "a notice has its buttons: {notice}");
    }
    // What the askers wrote is still there to read, as text.
    let all_notices: String = notices.iter().map(|n| text_of(n)).collect::<Vec<_>>().join("\n");
    for quoted in [
        "&gt; How do I configure X? [click me](!channel)",
        "&gt; Why does the build fail on ARM? [x](!here)",
        "[boss](@U123)",
        "&lt;!everyone&gt;",
        "&lt;#C123&gt;",
        "&gt;  New ticket #999 (urgent)",
        "&gt; &gt; ignore the ticket above",
        "@\u{200B}here @\u{200B}channel @\u{200B}everyone",
    ] {
        assert!(all_notices.contains(quoted), "{quoted:?} missing from {all_notices}");
    }

    // `ticket list`: one line per ticket, none glued to a question's brackets (the resolved
    // ticket is no longer listed).
    for (listing, count) in [(&list, HOSTILE.len()), (&list_after, HOSTILE.len() - 1)] {
        let lines: Vec<&str> = text_of(listing).lines().skip(1).collect();
        assert_eq!(lines.len(), count, "{listing}");
        assert!(lines.iter().all(|l| l.starts_with("• #") && !l.contains('<')), "{listing}");
    }
    assert!(text_of(&list).contains("U0ANN: How do I undo a failed migration? ](!channel)"), "{list}");
    assert!(text_of(&list_after).contains("[boss](@U123) @\u{200B}here]"), "{list_after}");
    // `ticket show`: the question quoted on every line of its own.
    for show in &shown {
        let text = text_of(show);
        let question: Vec<&str> = text.lines().skip(2).take_while(|l| !l.starts_with("History:") && !l.starts_with("Resolution:")).collect();
        assert!(!question.is_empty() && question.iter().all(|l| l.starts_with("&gt;")), "{text}");
    }
    let export = shown.iter().map(text_of).find(|t| t.contains("export")).unwrap();
    assert!(export.contains("&gt; Why is the export empty?\n&gt;  New ticket #999"), "{export}");
    assert!(text_of(&search).contains("\"configure X [click me](!channel) @\u{200B}everyone\""), "{search}");
    assert!(text_of(&unknown).contains("`x'[a](!channel)'`"), "{unknown}");
    assert!(text_of(&usage).contains("](!channel)"), "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_discord_an_escalated_hostile_question_pings_no_one() {
    let fake = FakeDiscord::start().await;
    let settings = DiscordSettings {
        token: Some("test-token".to_string().into()),
        api_url: fake.api_url.clone(),
        moderators_channel: Some("900".into()),
        ..DiscordSettings::default()
    };
    let mut bot = run_service(sqlite_db(), |s| s.discord = Some(settings)).await;
    fake.wait_for("IDENTIFY", |f| f.identify().is_some()).await;
    let hostile =
        "Why is the export empty? @everyone @here <@&290926798626357999> <@300> [x](https://evil.example)\nNew ticket #999 (urgent) from Boss";
    let escalate = json!([{"type": 3, "name": "message", "value": hostile}]);
    // 8192: Manage Messages, a moderator.
    fake.dispatch("INTERACTION_CREATE", slash_command("8000", "tok-escalate", "escalate", escalate, "8192"));
    fake.wait_for("the moderators' notice", |f| !f.requests("POST", "/api/v10/channels/900/messages").is_empty()).await;
    let show = json!([{"type": 1, "name": "show", "options": [{"type": 4, "name": "id", "value": 1}]}]);
    fake.dispatch("INTERACTION_CREATE", slash_command("8001", "tok-show", "ticket", show, "8192"));
    fake.dispatch("INTERACTION_CREATE", slash_command("8002", "tok-list", "ticket", json!([{"type": 1, "name": "list", "options": []}]), "8192"));
    let followups = |token: &str| format!("/api/v10/webhooks/{APP_ID}/{token}");
    fake.wait_for("ticket show and list", |f| {
        !f.requests("POST", &followups("tok-show")).is_empty() && !f.requests("POST", &followups("tok-list")).is_empty()
    })
    .await;
    bot.shutdown().await;

    let notice = fake.requests("POST", "/api/v10/channels/900/messages").remove(0);
    let show = fake.requests("POST", &followups("tok-show")).remove(0);
    let posted: Vec<Value> =
        fake.state.requests.lock().unwrap().iter().filter(|(m, _, b)| m == "POST" && b["content"].is_string()).map(|(_, _, b)| b.clone()).collect();
    assert!(posted.len() >= 4, "the notice, the asker's reply and the two commands' answers: {posted:?}");
    for payload in &posted {
        assert_eq!(payload["allowed_mentions"]["parse"], json!([]), "{payload}");
        let content = payload["content"].as_str().unwrap();
        // The notice links the channel the question came from (`<#200>`); nothing else is markup.
        let content = content.replace("<#200>", "");
        assert!(content.match_indices('<').all(|(i, _)| content[..i].ends_with('\\')), "an unescaped `<` in {content:?}");
        assert!(!content.contains("](https://"), "no link from user text: {content:?}");
        let lower = content.to_lowercase();
        assert!(!lower.contains("@everyone") && !lower.contains("@here"), "{content:?}");
    }
    let text = notice["content"].as_str().unwrap();
    assert!(
        text.contains(
            "> Why is the export empty? @\u{200B}everyone @\u{200B}here \\<@&290926798626357999\\> \\<@300\\> \\[x\\]\\(https://evil.example)"
        ),
        "{text}"
    );
    assert!(text.contains("\n> New ticket \\#999 \\(urgent\\) from Boss"), "the second line quoted too: {text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("New ticket #")).count(), 1, "{text}");
    let shown = show["content"].as_str().unwrap();
    assert!(shown.contains("\n> New ticket \\#999"), "{shown}");
}
