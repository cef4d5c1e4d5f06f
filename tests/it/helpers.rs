//! Test helpers: a bot on a fresh database (SQLite always, PostgreSQL when
//! `TEST_POSTGRES_URL` names a server), events, and a fixed clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};
use supportbot::bot::{Bot, BotConfig};
use supportbot::config::Settings;
use supportbot::domain::faq::parse_faq_file;
use supportbot::domain::message::{Action, ActionKind, Author, Incoming, IncomingKind};
use supportbot::prompts::Prompts;
use supportbot::store::Store;

pub const POSTGRES_ENV: &str = "TEST_POSTGRES_URL";

/// A small FAQ the behaviour tests can reason about.
pub const TEST_FAQ: &str = r#"
[[faq]]
id = "reset-password"
question = "How do I reset my password?"
alternatives = ["forgot my password", "locked out of my account", "password reset link does not arrive"]
answer = "Use the *Forgot password* link on the login page."
tags = ["account"]

[[faq]]
id = "install"
question = "How do I install the bot?"
alternatives = ["installation instructions", "how to set it up on linux"]
answer = "Run `cargo install --path .` from a checkout."

[[faq]]
id = "postgres"
question = "Can I use PostgreSQL instead of SQLite?"
alternatives = ["switch the database to postgres", "does it support postgresql"]
answer = "Yes: set `[database] url` to a postgres:// URL."
"#;

/// Monday 2 November 2026, 09:00 UTC: the tests' "now".
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// A database for one test: which kind, and its URL.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// The same database for a second instance (the first keeps it alive).
    pub fn shared(&self) -> TestDb {
        TestDb { name: self.name, url: self.url.clone(), _dir: None }
    }
}

fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}_{}_{}_{}", std::process::id(), Utc::now().timestamp_micros(), N.fetch_add(1, Ordering::Relaxed))
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    TestDb { name: "sqlite", url, _dir: Some(dir) }
}

/// A fresh, empty PostgreSQL database on the server named by `TEST_POSTGRES_URL`.
/// The tests that use it are `#[ignore]`d, so a run without a server shows them as skipped.
pub async fn postgres_db() -> TestDb {
    let admin = std::env::var(POSTGRES_ENV)
        .unwrap_or_else(|_| panic!("{POSTGRES_ENV} is not set: point it at a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres)"));
    sqlx::any::install_default_drivers();
    let name = unique("sb_test");
    let mut conn = sqlx::AnyConnection::connect(&admin).await.expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let (base, _) = admin.rsplit_once('/').expect("a postgres URL ends in /dbname");
    TestDb { name: "postgres", url: format!("{base}/{name}"), _dir: None }
}

pub fn test_config() -> BotConfig {
    let mut settings = Settings::default();
    settings.tickets.moderators_channel = "mods".into();
    BotConfig::from_settings(&settings)
}

/// A bot on `db` with `faq` loaded.
pub async fn bot_with(db: &TestDb, faq: &str, config: BotConfig) -> Bot {
    let store = Store::connect(&db.url, 4).await.unwrap();
    for e in parse_faq_file("test-faq.toml", faq).unwrap() {
        store.upsert_faq(&e, "file", t0()).await.unwrap();
    }
    Bot::new(store, Prompts::load(None).unwrap(), config, None).await.unwrap()
}

/// The usual bot: the test FAQ, default settings, a fresh SQLite file.
pub async fn spawn_bot() -> (Bot, TestDb) {
    let db = sqlite_db();
    let bot = bot_with(&db, TEST_FAQ, test_config()).await;
    (bot, db)
}

pub fn user(name: &str) -> Author {
    Author { id: format!("U-{name}"), name: name.into(), is_moderator: false }
}

pub fn moderator(name: &str) -> Author {
    Author { is_moderator: true, ..user(name) }
}

fn incoming(id: &str, minutes: i64, channel: &str, author: Author, kind: IncomingKind) -> Incoming {
    Incoming { platform: "test".into(), event_id: id.into(), at: at(minutes), channel: channel.into(), author, kind, reply_url: None }
}

pub fn message(id: &str, minutes: i64, author: Author, text: &str) -> Incoming {
    incoming(id, minutes, "help", author, IncomingKind::Message { id: id.into(), text: text.into(), reply_to: None })
}

pub fn reply(id: &str, minutes: i64, author: Author, to: &str, text: &str) -> Incoming {
    incoming(id, minutes, "help", author, IncomingKind::Message { id: id.into(), text: text.into(), reply_to: Some(to.into()) })
}

pub fn command(id: &str, minutes: i64, author: Author, text: &str) -> Incoming {
    incoming(id, minutes, "mods", author, IncomingKind::Command { text: text.into() })
}

pub fn vote(id: &str, minutes: i64, author: Author, on: &str, helpful: bool) -> Incoming {
    incoming(id, minutes, "help", author, IncomingKind::Feedback { on: on.into(), helpful, comment: None })
}

pub fn kinds(actions: &[Action]) -> Vec<ActionKind> {
    actions.iter().map(|a| a.kind).collect()
}

/// Receives an event at its own time.
pub async fn send(bot: &Bot, event: Incoming) -> Vec<Action> {
    let now = event.at;
    bot.receive(&event, now).await.unwrap()
}

/// A running `supportbot run` (in-process, port 0) on its own database with the test FAQ.
pub struct Running {
    pub base: String,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _faq: tempfile::NamedTempFile,
}

/// Starts `supportbot run` with the settings `configure` leaves (a platform, usually).
pub async fn run_service(db: TestDb, configure: impl FnOnce(&mut Settings)) -> Running {
    run_service_at(db, |s, _| configure(s)).await
}

/// As `run_service`, `configure` also told the service's own address (`http://127.0.0.1:port`).
pub async fn run_service_at(db: TestDb, configure: impl FnOnce(&mut Settings, &str)) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let faq = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(faq.path(), TEST_FAQ).unwrap();
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.faq.file = Some(faq.path().to_path_buf());
    settings.model.fetch = false; // no test reaches the internet (huggingface.co is the default)
    // The fakes' messages carry fixed dates (Discord's 2026-11-02, Slack's 1700000000), long
    // past on the wall clock the service runs on: its retention job would take them mid-test.
    // Retention has its own tests (privacy.rs), on a clock of their own.
    let forever = supportbot::domain::privacy::Keep::Forever;
    (settings.privacy.keep_messages, settings.privacy.keep_tickets, settings.privacy.keep_feedback, settings.privacy.keep_unacted) =
        (forever, forever, forever, forever);
    configure(&mut settings, &base);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(supportbot::app::run(settings, listener, async move {
        let _ = stopped.await;
    }));
    Running { base, db, stop: Some(stop), task, _faq: faq }
}

impl Running {
    /// Stops the service and fails the test if it ended with an error.
    pub async fn shutdown(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// Waits until `ready` holds, re-checking each time a fake says it saw something (`changed`);
/// fails the test after 30 s (a deadline, never a wait: a debug build fitting its detector under load is slow) with what the fake saw (`seen`). No polling, no sleeping.
pub async fn wait_until(changed: &tokio::sync::Notify, what: &str, ready: impl Fn() -> bool, seen: impl Fn() -> String) {
    wait_until_within(changed, what, std::time::Duration::from_secs(30), ready, seen).await
}

/// [`wait_until`] with another deadline, for what a loaded machine makes slow (a start).
pub async fn wait_until_within(
    changed: &tokio::sync::Notify,
    what: &str,
    limit: std::time::Duration,
    ready: impl Fn() -> bool,
    seen: impl Fn() -> String,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notified = changed.notified();
        if ready() {
            return;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            panic!("timed out waiting for {what}; seen: {}", seen());
        }
    }
}

/// A sink for the "test" platform that keeps every action it is sent.
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Action>>);

impl supportbot::chat::ChatSink for Collect {
    fn platform(&self) -> &str {
        "test"
    }
    async fn send(&self, action: &Action) -> Result<(), supportbot::chat::SendError> {
        self.0.lock().unwrap().push(action.clone());
        Ok(())
    }
}
