//! `GET /metrics` on the real HTTP router: what goes through the bot moves the counters by
//! exactly as much, and a scrape still answers when the database is down.
//!
//! The metrics are process-wide, and `cargo test` runs tests side by side in one process (nextest
//! gives each its own): every event here carries a platform name of its own, so the series a
//! test reads move for it alone. The one series without a platform it reads (database errors by
//! kind) is compared exactly only when nextest runs the test alone in its process.

use crate::helpers::*;
use chrono::Utc;
use std::collections::BTreeMap;
use std::sync::Arc;
use supportbot::bot::Bot;
use supportbot::chat::{ChatSink, SendError, deliver_pending};
use supportbot::domain::message::{Action, ActionKind, Incoming, IncomingKind};

/// The router `supportbot run` serves, on 127.0.0.1, port 0.
async fn serve(bot: Arc<Bot>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, supportbot::server::router(bot, axum::Router::new())).await.unwrap() });
    base
}

/// Samples by name and labels (sorted), from the text format.
struct Scrape {
    content_type: String,
    samples: BTreeMap<(String, Vec<(String, String)>), f64>,
}

impl Scrape {
    /// The sample's value; 0 when absent (a counter not yet created).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).unwrap_or(0.0)
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        labels.sort();
        self.samples.get(&(name.to_string(), labels)).copied()
    }

    fn has_family(&self, name: &str) -> bool {
        self.samples.keys().any(|(n, _)| n == name)
    }
}

async fn scrape(base: &str) -> Scrape {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let content_type = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(String::from)).unwrap_or_default();
    assert!(body.ends_with("# EOF\n"), "{body}");
    let mut samples = BTreeMap::new();
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let (name, labels) = series.split_once('{').map(|(n, l)| (n, l.trim_end_matches('}'))).unwrap_or((series, ""));
        let mut labels: Vec<(String, String)> = labels
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.trim_matches('"').to_string())
            })
            .collect();
        labels.sort();
        samples.insert((name.to_string(), labels), value.parse::<f64>().unwrap_or_else(|_| panic!("{line}")));
    }
    Scrape { content_type, samples }
}

/// `event` as if it came from `platform`, now.
fn from(platform: &str, mut event: Incoming) -> Incoming {
    event.platform = platform.into();
    event.at = Utc::now();
    event
}

async fn receive(bot: &Bot, event: &Incoming) -> Vec<Action> {
    bot.receive(event, Utc::now()).await.unwrap()
}

#[tokio::test]
async fn events_decisions_answers_and_tickets_move_the_counters_by_what_happened() {
    const P: &str = "metrics-events";
    let (bot, _db) = spawn_bot().await;
    let bot = Arc::new(bot);
    let base = serve(bot.clone()).await;
    let before = scrape(&base).await;
    assert_eq!(before.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");

    let question = from(P, message("m1", 0, user("ann"), "how do I reset my password?"));
    assert_eq!(kinds(&receive(&bot, &question).await), vec![ActionKind::Answer]);
    assert!(receive(&bot, &question).await.is_empty(), "a redelivery");
    assert!(receive(&bot, &from(P, message("m2", 1, user("bob"), "hi all"))).await.is_empty());
    assert!(receive(&bot, &from(P, message("m3", 2, user("cy"), "the arm64 binary crashes with an illegal instruction"))).await.is_empty());
    receive(&bot, &from(P, reply("m4", 3, user("dee"), "m3", "try the musl build"))).await;
    assert_eq!(kinds(&receive(&bot, &from(P, command("c1", 4, user("ann"), "help"))).await), vec![ActionKind::Reply]);
    let ticket = receive(&bot, &from(P, vote("v1", 5, user("ann"), "m1", false))).await;
    assert_eq!(kinds(&ticket), vec![ActionKind::TicketOpened, ActionKind::NotifyModerators]);
    let mut edit = from(P, message("e1", 6, user("bob"), ""));
    edit.kind = IncomingKind::Edited { id: "m2".into(), text: "hi everyone".into() };
    receive(&bot, &edit).await;
    let mut delete = from(P, message("d1", 7, user("bob"), ""));
    delete.kind = IncomingKind::Deleted { id: "m2".into() };
    receive(&bot, &delete).await;

    let after = scrape(&base).await;
    let moved = |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    let events = "supportbot_events_received_total";
    assert_eq!(moved(events, &[("platform", P), ("kind", "message")]), 5.0, "four messages and a redelivery");
    for kind in ["command", "feedback", "edit", "delete"] {
        assert_eq!(moved(events, &[("platform", P), ("kind", kind)]), 1.0, "{kind}");
    }
    let decisions = "supportbot_decisions_total";
    for (outcome, n) in
        [("answered", 1.0), ("pending", 1.0), ("not_question", 1.0), ("thread_reply", 1.0), ("command", 1.0), ("duplicate", 1.0), ("feedback", 0.0)]
    {
        assert_eq!(moved(decisions, &[("platform", P), ("outcome", outcome)]), n, "{outcome}");
    }
    assert_eq!(moved("supportbot_answers_total", &[("platform", P)]), 1.0);
    assert_eq!(moved("supportbot_tickets_opened_total", &[("platform", P), ("origin", "not_helpful")]), 1.0);
    assert_eq!(moved("supportbot_decision_seconds_count", &[("platform", P)]), 8.0, "every event handled, the redelivery not");
    assert!(moved("supportbot_decision_seconds_sum", &[("platform", P)]) > 0.0);
    assert_eq!(moved("supportbot_decision_seconds_bucket", &[("platform", P), ("le", "+Inf")]), 8.0);

    // What those events left to send: the answer, the help text, the two ticket notices.
    assert_eq!(after.find("supportbot_outbox_depth", &[("platform", P)]), Some(4.0));
    let oldest = after.find("supportbot_outbox_oldest_seconds", &[("platform", P)]).unwrap();
    assert!((0.0..60.0).contains(&oldest), "{oldest}");
}

/// Answers by the action's text: "ok" is sent, "busy" is rate-limited for 3 s, "gone" fails for good.
struct Scripted(&'static str);

impl ChatSink for Scripted {
    fn platform(&self) -> &str {
        self.0
    }

    async fn send(&self, action: &Action) -> Result<(), SendError> {
        let error = |retry_after, permanent| Err(SendError { message: "no".into(), retry_after, permanent });
        match action.text.as_str() {
            "busy" => error(Some(chrono::Duration::seconds(3)), false),
            "gone" => error(None, true),
            "flaky" => error(None, false),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn deliveries_retried_given_up_and_rate_limited_are_counted_and_the_outbox_drains() {
    const P: &str = "metrics-deliveries";
    let (bot, _db) = spawn_bot().await;
    let bot = Arc::new(bot);
    let base = serve(bot.clone()).await;
    let now = Utc::now();
    // One channel each: a channel waiting for its retry holds back only its own later actions.
    let actions: Vec<Action> =
        ["ok", "busy", "gone", "flaky", "ok"].iter().enumerate().map(|(i, t)| Action::new(ActionKind::Reply, format!("c{i}"), *t)).collect();
    bot.store().record_actions(P, "test:deliveries", &actions, None, now - chrono::Duration::seconds(30)).await.unwrap();
    let before = scrape(&base).await;
    assert_eq!(before.find("supportbot_outbox_depth", &[("platform", P)]), Some(5.0));
    let oldest = before.find("supportbot_outbox_oldest_seconds", &[("platform", P)]).unwrap();
    assert!((30.0..90.0).contains(&oldest), "queued 30 s ago: {oldest}");

    assert_eq!(deliver_pending(&bot.outbox(), &Scripted(P), now).await.unwrap(), 2);
    let after = scrape(&base).await;
    let moved = |name: &str| after.get(name, &[("platform", P)]) - before.get(name, &[("platform", P)]);
    assert_eq!(moved("supportbot_deliveries_retried_total"), 1.0, "flaky (a rate limit is waited out, not retried)");
    assert_eq!(moved("supportbot_deliveries_given_up_total"), 1.0, "gone");
    assert_eq!(moved("supportbot_rate_limit_waits_total"), 1.0, "busy");
    assert_eq!(moved("supportbot_rate_limit_wait_seconds_total"), 3.0);
    assert_eq!(after.find("supportbot_outbox_depth", &[("platform", P)]), Some(2.0), "busy and flaky wait for their retry");
}

#[tokio::test]
async fn a_scrape_answers_without_the_outbox_gauges_when_the_database_is_down() {
    const P: &str = "metrics-down";
    let (bot, _db) = spawn_bot().await;
    let bot = Arc::new(bot);
    let base = serve(bot.clone()).await;
    receive(&bot, &from(P, message("m1", 0, user("ann"), "how do I reset my password?"))).await;
    let before = scrape(&base).await;
    assert_eq!(before.find("supportbot_outbox_depth", &[("platform", P)]), Some(1.0));

    bot.store().close().await;
    let after = scrape(&base).await;
    assert!(!after.has_family("supportbot_outbox_depth") && !after.has_family("supportbot_outbox_oldest_seconds"), "left out");
    let failures = |s: &Scrape| s.get("supportbot_outbox_scrape_failures_total", &[("reason", "error")]);
    assert_eq!(failures(&after) - failures(&before), 1.0);
    let errors = |s: &Scrape| s.get("supportbot_database_errors_total", &[("kind", "unavailable")]);
    let alone = std::env::var("NEXTEST_EXECUTION_MODE").is_ok_and(|m| m == "process-per-test");
    let counted = errors(&after) - errors(&before);
    assert!(if alone { counted == 1.0 } else { counted >= 1.0 }, "the failed query counts as a database error: {counted}");
    // What the process counted before the database went away is still there.
    assert_eq!(after.get("supportbot_answers_total", &[("platform", P)]), before.get("supportbot_answers_total", &[("platform", P)]));
}
