//! `/support ask` over Slack's real HTTP endpoints, from a channel the bot is not in: the
//! answer, the "not sure" reply and what follows a click on the answer's buttons all go back
//! privately through the response URLs, never into the channel.

use crate::fake_slack::FakeSlack;
use crate::slack::{SECRET, fixture, post_signed, run_with, slack_settings};
use chrono::Utc;
use serde_json::{Value, json};
use supportbot::config::SlackMode;
use supportbot::store::Store;

const FORM: &str = "application/x-www-form-urlencoded";
/// A channel the bot was never invited to: Slack refuses its posts there (`not_in_channel`).
const OUTSIDE: &str = "C0OUTSIDE";

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// ann's `/support <text>` in `channel`, the documented form with its replies due at `response_url`.
fn command(text: &str, channel: &str, response_url: &str, trigger: &str) -> String {
    let form = fixture("command.txt");
    for part in ["channel_id=C0HELP", "text=faq+search+password", "trigger_id=13345224609.738474920.8088930838d88f008e0"] {
        assert!(form.contains(part), "the fixture changed: {part}");
    }
    form.replace("channel_id=C0HELP", &format!("channel_id={channel}"))
        .replace("text=faq+search+password", &format!("text={}", encoded(text)))
        .replace("https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0TEAM%2F1234%2Fabcd", &encoded(response_url))
        .replace("trigger_id=13345224609.738474920.8088930838d88f008e0", &format!("trigger_id={trigger}"))
}

/// ann's click on a button of an ephemeral message in `channel` (Slack sends no `message` then).
fn click(action_id: &str, value: &str, channel: &str, response_url: &str, action_ts: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "team": {"id": "T0TEAM", "domain": "example"},
        "user": {"id": "U0ANN", "username": "ann", "name": "ann", "team_id": "T0TEAM"},
        "api_app_id": "A0APP",
        "token": "XXYYZZ",
        "container": {"type": "message", "message_ts": "1700000500.000100", "channel_id": channel, "is_ephemeral": true},
        "trigger_id": "12466734323.1395872398.4d6e8a1c3b2f9e7d",
        "channel": {"id": channel, "name": "elsewhere"},
        "response_url": response_url,
        "actions": [{
            "type": "button", "action_id": action_id, "block_id": "b1",
            "text": {"type": "plain_text", "text": "Helpful", "emoji": true},
            "value": value, "action_ts": action_ts,
        }],
    });
    format!("payload={}", encoded(&payload.to_string()))
}

fn private(reply: &Value) -> bool {
    reply.get("response_type").is_none_or(|t| t == "ephemeral")
}

#[tokio::test]
async fn ask_is_answered_privately_through_the_response_url_even_where_the_bot_is_not_a_member() {
    let fake = FakeSlack::start().await;
    fake.state.not_member_of.lock().unwrap().push(OUTSIDE.into());
    let mut app = run_with(slack_settings(&fake, SlackMode::Http)).await;
    app.ready().await;
    let (commands, interactions) = (format!("{}/slack/commands", app.base), format!("{}/slack/interactions", app.base));
    let hook = |name: &str| format!("{}/response.{name}", fake.api_url);
    let now = Utc::now().timestamp();
    let signed = |url: String, body: String| async move { post_signed(&url, &body, FORM, now, SECRET, false).await.0 };

    // An answer from the FAQ, for the asker's eyes only, with its buttons.
    let ask = command("ask how do I install the bot?", OUTSIDE, &hook("install"), "111.222.aaa");
    assert_eq!(signed(commands.clone(), ask).await, 200);
    fake.wait_for("the answer", |f| !f.calls("response.install").is_empty()).await;
    let answer = &fake.calls("response.install")[0];
    assert!(answer["text"].as_str().unwrap().contains("`install`"), "the install entry: {answer}");
    assert!(private(answer), "{answer}");
    let blocks = answer["blocks"].to_string();
    assert!(blocks.contains("supportbot_helpful") && blocks.contains("command:111.222.aaa"), "{blocks}");

    // No confident answer: "not sure", the same way.
    let unsure = command("ask what is the airspeed velocity of an unladen swallow?", OUTSIDE, &hook("unsure"), "333.444.bbb");
    assert_eq!(signed(commands.clone(), unsure).await, 200);
    fake.wait_for("the not-sure reply", |f| !f.calls("response.unsure").is_empty()).await;
    let reply = &fake.calls("response.unsure")[0];
    assert!(reply["text"].as_str().unwrap().contains("confident answer"), "{reply}");
    assert!(private(reply), "{reply}");

    // The private answer's buttons work: the vote is kept and thanked for through the click.
    let helpful = click("supportbot_helpful", "command:111.222.aaa", OUTSIDE, &hook("vote"), "1700000600.000100");
    assert_eq!(signed(interactions.clone(), helpful).await, 200);
    fake.wait_for("the thanks", |f| !f.calls("response.vote").is_empty()).await;
    let thanks = &fake.calls("response.vote")[0];
    assert!(thanks["text"].as_str().unwrap().contains("Glad it helped"), "{thanks}");
    assert!(private(thanks), "{thanks}");

    // "Not helpful" opens a ticket: the asker hears it privately, the moderators in their channel.
    let ask = command("ask can I use PostgreSQL instead of SQLite?", OUTSIDE, &hook("postgres"), "555.666.ccc");
    assert_eq!(signed(commands.clone(), ask).await, 200);
    fake.wait_for("the second answer", |f| !f.calls("response.postgres").is_empty()).await;
    let not_helpful = click("supportbot_not_helpful", "command:555.666.ccc", OUTSIDE, &hook("ticket"), "1700000700.000100");
    assert_eq!(signed(interactions, not_helpful).await, 200);
    fake.wait_for("the ticket notices", |f| {
        !f.calls("response.ticket").is_empty() && f.calls("chat.postMessage").iter().any(|c| c["channel"] == "C0MODS")
    })
    .await;
    let notice = &fake.calls("response.ticket")[0];
    assert!(notice["text"].as_str().unwrap().contains("ticket #1"), "{notice}");
    assert!(private(notice), "{notice}");

    let into_channel: Vec<Value> =
        ["chat.postMessage", "chat.postEphemeral"].iter().flat_map(|m| fake.calls(m)).filter(|c| c["channel"] == OUTSIDE).collect();
    assert!(into_channel.is_empty(), "nothing was posted (or tried) in the channel: {into_channel:?}");

    app.shutdown().await;
    let store = Store::connect(&app.db.url, 1).await.unwrap();
    assert_eq!(store.feedback("slack", "command:111.222.aaa", "U0ANN").await.unwrap(), Some((true, None)));
    assert_eq!(store.tickets(None, 10).await.unwrap().len(), 1);
    assert_eq!(store.unsent_count().await.unwrap(), 0, "every reply was delivered");
}
