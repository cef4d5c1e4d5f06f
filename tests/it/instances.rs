//! Real `supportbot run` processes for the fault tests: the release binary's code path, a
//! database shared between runs (and instances), the local fake Slack as the Web API, and
//! signed Events API requests sent to the instances' own HTTP endpoints.

use crate::fake_slack::FakeSlack;
use crate::slack::{http_request, signature};
use std::process::{Child, Command, Stdio};
use supportbot::faults::CRASH_AT_ENV;

pub const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// One `supportbot run` process.
pub struct Instance {
    pub base: String,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Instance {
    /// Starts an instance on `db_url`, answering through `fake`; `crash_at` is a crash point
    /// (`POINT:N`, see `supportbot::faults`).
    pub async fn start(db_url: &str, fake: &FakeSlack, crash_at: Option<&str>) -> Instance {
        Instance::start_with(db_url, fake, crash_at, None).await
    }

    /// `start`, with a settings file for what the environment cannot say (lists).
    pub async fn start_with(db_url: &str, fake: &FakeSlack, crash_at: Option<&str>, config: Option<&std::path::Path>) -> Instance {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_supportbot"));
        if let Some(file) = config {
            cmd.arg("--config").arg(file);
        }
        cmd.args(["run", "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("SUPPORTBOT_DATABASE__URL", db_url)
            .env("SUPPORTBOT_DATABASE__LEASE", "1s")
            .env("SUPPORTBOT_BOT__TICK", "100ms")
            .env("SUPPORTBOT_MODEL__FETCH", "false")
            .env("SUPPORTBOT_TICKETS__UNANSWERED_AFTER", "1s")
            // The events carry Slack's fixed 1700000000 timestamps, long past on the wall
            // clock: retention (tested in privacy.rs) would take them mid-test.
            .env("SUPPORTBOT_PRIVACY__KEEP_MESSAGES", "forever")
            .env("SUPPORTBOT_PRIVACY__KEEP_TICKETS", "forever")
            .env("SUPPORTBOT_PRIVACY__KEEP_FEEDBACK", "forever")
            .env("SUPPORTBOT_PRIVACY__KEEP_UNACTED", "forever")
            .env("SUPPORTBOT_SLACK__MODE", "http")
            .env("SUPPORTBOT_SLACK__BOT_TOKEN", "xoxb-test-token")
            .env("SUPPORTBOT_SLACK__SIGNING_SECRET", SECRET)
            .env("SUPPORTBOT_SLACK__API_URL", &fake.api_url)
            .env("SUPPORTBOT_SLACK__MODERATORS_CHANNEL", "C0MODS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(point) = crash_at {
            cmd.env(CRASH_AT_ENV, point);
        }
        let child = cmd.spawn().expect("start supportbot run");
        let mut instance = Instance { base: format!("http://127.0.0.1:{port}"), child };
        instance.wait_ready().await;
        instance
    }

    async fn wait_ready(&mut self) {
        // A real process takes real time to start: poll its health check, bounded.
        for _ in 0..1_000 {
            if let Ok((200, _)) = http_request("GET", &format!("{}/healthz", self.base), "", &[]).await {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("supportbot run exited at start: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("supportbot run did not start");
    }

    /// Whether the process is gone (crashed at its crash point, or killed).
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Posts one signed Events API request; the status, or None when the connection failed
    /// (the process died before answering).
    pub async fn post_event(&self, body: &str) -> Option<u16> {
        let ts = chrono::Utc::now().timestamp().to_string();
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("X-Slack-Request-Timestamp".to_string(), ts.clone()),
            ("X-Slack-Signature".to_string(), signature(SECRET, &ts, body)),
        ];
        match http_request("POST", &format!("{}/slack/events", self.base), body, &headers).await {
            Ok((0, _)) | Err(_) => None,
            Ok((status, _)) => Some(status),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Events API payload of message `n` in `#C0HELP`, asking `text`.
pub fn question_event(n: usize, text: &str) -> String {
    serde_json::json!({
        "token": "XXYYZZ", "team_id": "T0TEAM", "api_app_id": "A0APP", "type": "event_callback",
        "event_id": format!("Ev{n:08}"), "event_time": 1_700_000_000 + n as i64, "authed_users": ["U0BOT"],
        "event": {
            "type": "message", "channel": "C0HELP", "user": format!("U{:04}", n % 4), "text": text,
            "ts": question_ts(n), "event_ts": question_ts(n), "channel_type": "channel",
        },
    })
    .to_string()
}

/// The Slack `ts` of question `n` (the thread its answer goes to).
pub fn question_ts(n: usize) -> String {
    format!("1700000000.{n:06}")
}

/// How many bot posts went to each question's thread.
pub fn replies_per_question(fake: &FakeSlack) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for post in fake.calls("chat.postMessage") {
        if let Some(ts) = post["thread_ts"].as_str() {
            *counts.entry(ts.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// A tiny seeded generator (xorshift64*), so a failing seed can be replayed.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed.max(1))
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Waits until the database has no event left to process and no action left to send (the
/// instances' leases and retries all ran their course); fails after `limit`.
pub async fn wait_settled(db_url: &str, limit: std::time::Duration) {
    let store = supportbot::store::Store::connect(db_url, 1).await.unwrap();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (unsent, unprocessed) = (store.unsent_count().await.unwrap(), store.unprocessed_count().await.unwrap());
        if unsent == 0 && unprocessed == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {unsent} actions to send and {unprocessed} events to process");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    store.close().await;
}
