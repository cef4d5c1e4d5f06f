//! Tickets and GitHub: `ticket github` opens an issue (through a local fake of GitHub's REST
//! API) with the question and the conversation, nobody mentioned; a lost answer or a 500 never
//! opens it twice; a refusal is told once; an existing issue can be linked, by several tickets;
//! closing the issue (a signed webhook delivery) resolves the tickets and tells the askers; a
//! forged delivery changes nothing; two instances on one PostgreSQL open each issue once.

use crate::fake_github::{FakeGithub, Trouble};
use crate::helpers::*;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::sync::Arc;
use supportbot::bot::{Bot, BotConfig};
use supportbot::config::{GithubSettings, Settings};
use supportbot::domain::message::Action;
use supportbot::domain::ticket::Status;
use supportbot::github::{GithubClient, worker};

const SECRET: &str = "whsec-test";

fn github_settings(fake: &FakeGithub) -> GithubSettings {
    GithubSettings {
        token: Some("ghp_testtoken".to_string().into()),
        api_url: fake.api_url.clone(),
        repo: Some("acme/widgets".into()),
        webhook_secret: Some(SECRET.to_string().into()),
        ..GithubSettings::default()
    }
}

fn config_for(fake: &FakeGithub) -> BotConfig {
    let mut settings = Settings::default();
    settings.tickets.moderators_channel = "mods".into();
    settings.github = Some(github_settings(fake));
    BotConfig::from_settings(&settings)
}

async fn github_bot(fake: &FakeGithub, db: &TestDb) -> Bot {
    bot_with(db, TEST_FAQ, config_for(fake)).await
}

/// A ticket for a question nobody answered, asked by `who` at `minute`.
async fn unanswered(bot: &Bot, id: &str, minute: i64, who: &str, text: &str) -> i64 {
    let said = send(bot, message(id, minute, user(who), text)).await;
    bot.tick(at(minute + 16)).await.unwrap();
    let tickets = bot.store().tickets(None, 50).await.unwrap();
    tickets.iter().find(|t| t.question_message_id.as_deref() == Some(id)).unwrap_or_else(|| panic!("{text:?} became no ticket: {said:?}")).id
}

fn signed(body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn closed_event(repo: &str, number: u64, reason: &str) -> String {
    let mut event: Value = serde_json::from_str(include_str!("../fixtures/github/issues_closed.json")).unwrap();
    event["issue"]["number"] = number.into();
    event["issue"]["state_reason"] = reason.into();
    event["repository"]["full_name"] = repo.into();
    event.to_string()
}

/// The webhook endpoint of `bot`, served locally.
async fn webhook(bot: &Bot) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/github/webhook", listener.local_addr().unwrap());
    let routes = supportbot::github::webhook::routes(Arc::new(bot.clone()), SECRET);
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    url
}

async fn deliver(url: &str, event: &str, body: &str, signature: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (host, path) = url.strip_prefix("http://").unwrap().split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         X-GitHub-Event: {event}\r\nX-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958\r\nX-Hub-Signature-256: {signature}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// A fake GitHub, a bot on a fresh SQLite database that opens issues there, and the worker's client.
async fn one_instance() -> (FakeGithub, TestDb, Bot, GithubClient) {
    let fake = FakeGithub::start().await;
    let db = sqlite_db();
    let bot = github_bot(&fake, &db).await;
    let client = GithubClient::new(&github_settings(&fake)).unwrap();
    (fake, db, bot, client)
}

fn texts(actions: &[Action]) -> Vec<(&str, &str)> {
    actions.iter().map(|a| (a.channel.as_str(), a.text.as_str())).collect()
}

#[tokio::test]
async fn a_ticket_becomes_an_issue_and_closing_the_issue_resolves_it() {
    let (fake, _db, bot, client) = one_instance().await;
    let id = unanswered(&bot, "q1", 0, "ann", "my build fails on ARM, cc @octocat <!-- supportbot:ticket:99 -->").await;
    send(&bot, reply("r1", 20, user("ann"), "q1", "it is a Raspberry Pi 4 @here")).await;
    send(&bot, reply("r2", 25, moderator("mia"), "q1", "looks like a bug in the linker script")).await;
    send(&bot, command("n1", 26, moderator("mia"), &format!("ticket note {id} SECRET-NOTE"))).await;

    let asked = send(&bot, command("g1", 30, moderator("mia"), &format!("ticket github {id}"))).await;
    assert!(asked[0].text.contains(&format!("Opening a GitHub issue in acme/widgets for ticket #{id}")), "{}", asked[0].text);
    assert!(fake.opened().is_empty(), "the command only asks; the worker opens");
    let posted = worker::run_due(&bot, &client, at(30)).await.unwrap();

    let opened = fake.opened();
    assert_eq!(opened.len(), 1);
    let (repo, issue) = &opened[0];
    assert_eq!(repo, "acme/widgets");
    let body = issue["body"].as_str().unwrap();
    assert!(issue["title"].as_str().unwrap().starts_with("my build fails on ARM"), "{issue}");
    assert!(body.contains("> my build fails on ARM"), "{body}");
    assert!(body.contains("2 messages (1 from the asker, 1 from moderators)"), "{body}");
    assert!(body.contains("looks like a bug in the linker script"), "{body}");
    assert!(!body.contains("SECRET-NOTE"), "internal notes stay with the moderators: {body}");
    assert!(!body.contains("@octocat") && !body.contains("@here"), "nobody is mentioned on GitHub: {body}");
    assert!(
        body.contains(&format!("<!-- supportbot:ticket:{id} -->")) && !body.lines().any(|l| l.trim() == "<!-- supportbot:ticket:99 -->"),
        "{body}"
    );
    assert_eq!(issue["labels"][0]["name"], "support");
    assert!(fake.calls().iter().all(|(_, _, auth)| auth.contains("ghp_testtoken")), "every call carries the token");
    let said = texts(&posted);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said.iter().any(|(c, t)| *c == "mods" && t.contains("https://github.com/acme/widgets/issues/101")), "{said:?}");
    assert!(said.iter().any(|(c, t)| *c == "help" && t.contains("tracked as GitHub issue acme/widgets#101")), "{said:?}");
    assert!(worker::run_due(&bot, &client, at(31)).await.unwrap().is_empty(), "done once");
    let shown = send(&bot, command("s1", 32, moderator("mia"), &format!("ticket show {id}"))).await[0].text.clone();
    assert!(shown.contains("GitHub: acme/widgets#101 (open) https://github.com/acme/widgets/issues/101"), "{shown}");
    let again = send(&bot, command("g2", 33, moderator("mia"), &format!("ticket github {id}"))).await;
    assert!(again[0].text.contains("already has GitHub issue acme/widgets#101"), "{}", again[0].text);

    // Closing it on GitHub: a forged delivery is refused; the signed one resolves the ticket.
    let hook = webhook(&bot).await;
    let event = closed_event("acme/widgets", 101, "completed");
    assert_eq!(deliver(&hook, "issues", &event, "sha256=0000").await, 401);
    assert_eq!(deliver(&hook, "issues", &event, "").await, 401);
    assert_eq!(bot.store().ticket(id).await.unwrap().unwrap().status, Status::Open, "a forged delivery changes nothing");
    assert_eq!(deliver(&hook, "ping", "{}", &signed("{}")).await, 200);
    assert_eq!(deliver(&hook, "issues", "{not json", &signed("{not json")).await, 400);
    assert_eq!(deliver(&hook, "issues", &event, &signed(&event)).await, 200);
    let ticket = bot.store().ticket(id).await.unwrap().unwrap();
    assert_eq!(ticket.status, Status::Resolved);
    assert_eq!(ticket.resolution.as_deref(), Some("GitHub issue acme/widgets#101 was closed"));
    let history = bot.store().ticket_events(id).await.unwrap().len();
    assert_eq!(deliver(&hook, "issues", &event, &signed(&event)).await, 200, "a redelivery is accepted");
    assert_eq!(bot.store().ticket_events(id).await.unwrap().len(), history, "and changes nothing");
    let shown = send(&bot, command("s2", 40, moderator("mia"), &format!("ticket show {id}"))).await[0].text.clone();
    assert!(shown.contains("GitHub: acme/widgets#101 (closed)"), "{shown}");
}

#[tokio::test]
async fn a_lost_answer_or_a_500_never_opens_the_issue_twice() {
    let (fake, _db, bot, client) = one_instance().await;
    let first = unanswered(&bot, "q1", 0, "ann", "my build fails on ARM with a linker error").await;
    let second = unanswered(&bot, "q2", 100, "bob", "the bot crashes at startup with a segfault on Windows").await;
    fake.plan(Trouble::LostAnswer);
    fake.plan(Trouble::Status(500));
    send(&bot, command("g1", 200, moderator("mia"), &format!("ticket github {first}"))).await;
    send(&bot, command("g2", 200, moderator("mia"), &format!("ticket github {second}"))).await;
    assert!(worker::run_due(&bot, &client, at(200)).await.unwrap().is_empty(), "neither is known to be open yet");
    assert_eq!(fake.opened().len(), 1, "the lost answer's issue is on GitHub; the 500's is not");
    assert!(worker::run_due(&bot, &client, at(200)).await.unwrap().is_empty(), "retries wait for their backoff");

    let posted = worker::run_due(&bot, &client, at(201)).await.unwrap();
    let opened = fake.opened();
    assert_eq!(opened.len(), 2, "one issue per ticket: {opened:?}");
    assert_eq!(posted.iter().filter(|a| a.channel == "mods").count(), 2);
    for id in [first, second] {
        let issue = bot.store().ticket_issue(id).await.unwrap().unwrap();
        let on_github = opened.iter().find(|(_, i)| i["number"].as_i64() == issue.number).expect("the ticket names its issue");
        assert!(on_github.1["body"].as_str().unwrap().contains(&format!("supportbot:ticket:{id} ")), "{on_github:?}");
    }
}

#[tokio::test]
async fn a_spent_rate_limit_is_retried_when_github_says_and_not_before() {
    let (fake, _db, bot, client) = one_instance().await;
    let id = unanswered(&bot, "q1", 0, "ann", "my build fails on ARM with a linker error").await;
    fake.plan(Trouble::RateLimitedUntil(at(300).timestamp()));
    send(&bot, command("g1", 200, moderator("mia"), &format!("ticket github {id}"))).await;
    assert!(worker::run_due(&bot, &client, at(200)).await.unwrap().is_empty(), "a rate limit is not told to the moderators");
    assert!(worker::run_due(&bot, &client, at(260)).await.unwrap().is_empty());
    assert!(fake.opened().is_empty(), "not retried before GitHub's reset time");
    let posted = worker::run_due(&bot, &client, at(300)).await.unwrap();
    assert_eq!(fake.opened().len(), 1, "retried at the reset: {:?}", fake.calls());
    assert_eq!(posted.iter().filter(|a| a.channel == "mods").count(), 1);
}

#[tokio::test]
async fn a_refusal_is_told_once_and_a_new_request_retries() {
    let (fake, _db, bot, client) = one_instance().await;
    let id = unanswered(&bot, "q1", 0, "ann", "my build fails on ARM with a linker error").await;
    fake.plan(Trouble::Status(404));
    send(&bot, command("g1", 30, moderator("mia"), &format!("ticket github {id} acme/nothing"))).await;
    let told = worker::run_due(&bot, &client, at(30)).await.unwrap();
    assert_eq!(told.len(), 1);
    assert!(told[0].text.contains("no such repository or issue") && told[0].channel == "mods", "{}", told[0].text);
    assert!(worker::run_due(&bot, &client, at(90)).await.unwrap().is_empty(), "given up: not retried, not told again");
    let shown = send(&bot, command("s1", 91, moderator("mia"), &format!("ticket show {id}"))).await[0].text.clone();
    assert!(shown.contains("GitHub: opening an issue in acme/nothing failed"), "{shown}");
    send(&bot, command("g2", 92, moderator("mia"), &format!("ticket github {id}"))).await;
    worker::run_due(&bot, &client, at(92)).await.unwrap();
    assert_eq!(bot.store().ticket_issue(id).await.unwrap().unwrap().number, Some(101));

    let refused = send(&bot, command("g3", 93, user("eve"), &format!("ticket github {id}"))).await;
    assert!(refused[0].text.contains("moderator"), "only moderators: {}", refused[0].text);
    let usage = send(&bot, command("g4", 94, moderator("mia"), &format!("ticket github {id} not-a-repo"))).await;
    assert!(usage[0].text.contains("is not a repository"), "{}", usage[0].text);
}

#[tokio::test]
async fn tickets_linked_to_an_existing_issue_are_all_resolved_when_it_closes() {
    let fake = FakeGithub::start().await;
    fake.has_issue("acme/widgets", 7, true);
    let db = sqlite_db();
    let bot = github_bot(&fake, &db).await;
    let client = GithubClient::new(&github_settings(&fake)).unwrap();
    let a = unanswered(&bot, "q1", 0, "ann", "my build fails on ARM with a linker error").await;
    let b = unanswered(&bot, "q2", 100, "bob", "the bot crashes at startup with a segfault on Windows").await;
    send(&bot, command("g1", 200, moderator("mia"), &format!("ticket github {a} acme/widgets#7"))).await;
    send(&bot, command("g2", 200, moderator("mia"), &format!("ticket github {b} https://github.com/acme/widgets/issues/7"))).await;
    let posted = worker::run_due(&bot, &client, at(200)).await.unwrap();
    assert!(fake.opened().is_empty(), "nothing new is opened for an existing issue");
    assert!(texts(&posted).iter().any(|(_, t)| t.contains(&format!("Ticket #{a} is linked to GitHub issue acme/widgets#7"))), "{posted:?}");

    let hook = webhook(&bot).await;
    let event = closed_event("ACME/Widgets", 7, "not_planned");
    assert_eq!(deliver(&hook, "issues", &event, &signed(&event)).await, 200);
    for id in [a, b] {
        let ticket = bot.store().ticket(id).await.unwrap().unwrap();
        assert_eq!(ticket.status, Status::Resolved, "ticket #{id}");
        assert_eq!(ticket.resolution.as_deref(), Some("GitHub issue ACME/Widgets#7 was closed as not planned"));
    }
    let told = bot.store().ticket_events(a).await.unwrap();
    assert!(told.iter().any(|e| e.action == "resolve" && e.actor == "GitHub"), "{told:?}");
}

async fn each_issue_once_across_two_instances(db: TestDb) {
    let fake = FakeGithub::start().await;
    let (x, y) = (github_bot(&fake, &db).await, github_bot(&fake, &db).await);
    let client = GithubClient::new(&github_settings(&fake)).unwrap();
    let mut ids = Vec::new();
    for (n, text) in [
        "my build fails on ARM with a linker error",
        "the bot crashes at startup with a segfault on Windows",
        "how do I change the language of the bot to German?",
    ]
    .iter()
    .enumerate()
    {
        ids.push(unanswered(&x, &format!("q{n}"), n as i64 * 100, "ann", text).await);
    }
    for id in &ids {
        send(&x, command(&format!("g{id}"), 400, moderator("mia"), &format!("ticket github {id}"))).await;
    }
    let (p, q) = tokio::join!(worker::run_due(&x, &client, at(400)), worker::run_due(&y, &client, at(400)));
    let posted = p.unwrap().len() + q.unwrap().len();
    assert_eq!(fake.opened().len(), 3, "{} opened: {:?}", db.name, fake.opened());
    assert_eq!(posted, 6, "each told once");
    let (hx, hy) = (webhook(&x).await, webhook(&y).await);
    let event = closed_event("acme/widgets", 101, "completed");
    let signature = signed(&event);
    let (a, b) = tokio::join!(deliver(&hx, "issues", &event, &signature), deliver(&hy, "issues", &event, &signature));
    assert_eq!((a, b), (200, 200));
    // The two workers race, so which ticket got issue 101 depends on who reached GitHub first.
    let mut on_101 = Vec::new();
    for id in &ids {
        if x.store().ticket_issue(*id).await.unwrap().and_then(|issue| issue.number) == Some(101) {
            on_101.push(*id);
        }
    }
    assert_eq!(on_101.len(), 1, "one ticket has issue 101: {on_101:?}");
    let resolved = x.store().ticket_events(on_101[0]).await.unwrap().iter().filter(|e| e.action == "resolve").count();
    assert_eq!(resolved, 1, "resolved once");
}

#[tokio::test]
async fn two_instances_open_each_issue_once_on_sqlite() {
    each_issue_once_across_two_instances(sqlite_db()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn two_instances_open_each_issue_once_on_postgres() {
    each_issue_once_across_two_instances(postgres_db().await).await;
}

/// End to end through `supportbot run` with Slack over HTTP: a moderator's slash command sends
/// the ticket to GitHub, the service's worker opens the issue, and GitHub's signed delivery to
/// the service's own `/github/webhook` resolves the ticket and tells the asker in Slack.
#[tokio::test]
async fn through_the_service_a_slack_ticket_goes_to_github_and_comes_back_resolved() {
    use crate::slack::{SECRET as SLACK_SECRET, fixture, post_signed, slack_settings};
    let (slack, github) = (crate::fake_slack::FakeSlack::start().await, FakeGithub::start().await);
    let mut app = run_service(sqlite_db(), |s| {
        s.slack = Some(slack_settings(&slack, supportbot::config::SlackMode::Http));
        s.github = Some(github_settings(&github));
    })
    .await;
    app.ready().await;
    let (now, form) = (chrono::Utc::now().timestamp(), "application/x-www-form-urlencoded");
    post_signed(&format!("{}/slack/events", app.base), &fixture("event_message.json"), "application/json", now, SLACK_SECRET, false).await;
    slack.wait_for("the answer", |f| !f.calls("chat.postMessage").is_empty()).await;
    let click = fixture("block_actions.json");
    let clicked = format!("payload={}", url::form_urlencoded::byte_serialize(click.as_bytes()).collect::<String>());
    post_signed(&format!("{}/slack/interactions", app.base), &clicked, form, now, SLACK_SECRET, false).await;
    slack.wait_for("the ticket notice", |f| f.calls("chat.postMessage").iter().any(|c| c["channel"] == "C0MODS")).await;

    let response_url: String = url::form_urlencoded::byte_serialize(format!("{}/response.hook", slack.api_url).as_bytes()).collect();
    let command = fixture("command.txt")
        .replace("https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0TEAM%2F1234%2Fabcd", &response_url)
        .replace("user_id=U0ANN&user_name=ann", "user_id=U0MIA&user_name=mia")
        .replace("text=faq+search+password", "text=ticket+github+1");
    let (status, _) = post_signed(&format!("{}/slack/commands", app.base), &command, form, now, SLACK_SECRET, false).await;
    assert_eq!(status, 200);
    github.wait_for("the issue", |g| g.opened().len() == 1).await;
    let told = |f: &crate::fake_slack::FakeSlack, channel: &str, words: &str| {
        f.calls("chat.postMessage").iter().any(|c| c["channel"] == channel && c["text"].as_str().unwrap_or_default().contains(words))
    };
    slack.wait_for("the moderators told of the issue", |f| told(f, "C0MODS", "acme/widgets/issues/101")).await;
    slack.wait_for("the asker told it is tracked", |f| told(f, "C0HELP", "acme/widgets#101")).await;

    let event = closed_event("acme/widgets", 101, "completed");
    assert_eq!(deliver(&format!("{}/github/webhook", app.base), "issues", &event, "sha256=forged").await, 401);
    assert_eq!(deliver(&format!("{}/github/webhook", app.base), "issues", &event, &signed(&event)).await, 200);
    slack.wait_for("the asker told it is resolved", |f| told(f, "C0HELP", "resolved")).await;
    app.shutdown().await;
    let store = supportbot::store::Store::connect(&app.db.url, 1).await.unwrap();
    let ticket = store.ticket(1).await.unwrap().unwrap();
    assert_eq!(ticket.status, Status::Resolved, "{ticket:?}");
    let asked = github.opened()[0].1.clone();
    assert!(asked["body"].as_str().unwrap().contains("<!-- supportbot:ticket:1 -->"), "{asked}");
}
