//! The web console in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver). Skipped, and said so, where either is missing; `.ci/run` installs both and
//! sets `REQUIRE_BROWSER=1`, which turns a missing browser into a failure.
//! With `CONSOLE_SCREENSHOTS=DIR` the pages are saved there (README's pictures; not a `SUPPORTBOT_`
//! name, which the bot would read as a setting).

use crate::helpers::*;
use crate::web_console::console;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use supportbot::domain::ticket::Status;
use tokio::io::AsyncBufReadExt;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, running until dropped, and a browser session on it.
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
    shots: Option<PathBuf>,
}

async fn browser() -> Option<Browser> {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(std::env::var_os("REQUIRE_BROWSER").is_none(), "REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing");
        eprintln!("SKIPPED: browser test (install Debian's chromium and chromium-driver to run it)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    // It says when it listens; that line is the wait (a deadline, not a sleep).
    let mut lines = tokio::io::BufReader::new(driver.stdout.take().unwrap()).lines();
    let ready = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("started successfully") {
                return true;
            }
        }
        false
    };
    assert!(tokio::time::timeout(std::time::Duration::from_secs(30), ready).await.unwrap_or(false), "chromedriver did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        &format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args }));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session");
    let shots = std::env::var_os("CONSOLE_SCREENSHOTS").map(PathBuf::from);
    Some(Browser { client, _driver: driver, _profile: profile, shots })
}

impl Browser {
    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a screenshot");
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Clicks what leads to another page (every link and button here does), and returns once
    /// that page has replaced this one: the old page's root gone stale is the sign, asked of the
    /// browser until it says so (a deadline, never a sleep).
    async fn click(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
        let replaced = async {
            while old.tag_name().await.is_ok() {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(15), replaced).await.unwrap_or_else(|_| panic!("{css}: no new page"));
        // The new page finished loading (a click returns once navigation starts).
        let loaded = async {
            while self.client.execute("return document.readyState", vec![]).await.ok().and_then(|v| v.as_str().map(String::from)).as_deref()
                != Some("complete")
            {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(15), loaded).await.unwrap_or_else(|_| panic!("{css}: the new page did not load"));
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    async fn number(&self, script: &str) -> i64 {
        self.client.execute(script, vec![]).await.unwrap().as_i64().unwrap_or(-1)
    }
}

#[tokio::test]
async fn a_moderator_works_a_ticket_from_the_queue_to_learned_edits_the_faq_and_opens_a_past_digest() {
    let Some(b) = browser().await else { return };
    let c = console(None).await;
    let evil = "<img src=x onerror=alert(1)> why does my build fail on ARM since 2.3?";
    let arm = c.ticket("q1", "carol", evil).await;
    c.ticket("q2", "dmitri", "why did the bot reply twice after I restarted it?").await;
    c.ticket("q3", "erin", "where do I put the config file when running in docker?").await;
    send(&c.bot, command("e1", 70, moderator("bob"), "escalate the docs website returns 404 for the install page urgent")).await;
    let link = c.link_for("alice").await;

    // Sign in with the one-time link: its page, then its button.
    b.client.goto(&link).await.unwrap();
    b.click("form[action='/console/auth/link'] button").await;
    let here = b.client.current_url().await.unwrap();
    assert!(here.path().ends_with("/console"), "at the queue, not {here}: {}", b.text("body").await);
    let first = b.text("table.queue tbody tr:first-child td.question").await;
    assert!(first.contains("docs website returns 404"), "the urgent ticket first, got {first:?}");
    assert!(b.text("table.queue").await.contains("<img src=x onerror=alert(1)>"), "chat text shown as text");
    assert_eq!(b.number("return document.querySelectorAll('table.queue img').length").await, 0, "no markup from chat text");
    b.shot("queue").await;

    // The ticket: its question shown as text, never run.
    b.click(&format!("td.question a[href='/console/tickets/{arm}']")).await;
    assert_eq!(b.text(".question blockquote").await, evil);
    assert_eq!(b.number("return document.querySelectorAll('.question blockquote *').length").await, 0);
    assert!(b.client.get_alert_text().await.is_err(), "no script ran");

    b.click("button[value='assign_me']").await;
    assert!(b.text(".flash").await.contains(&format!("Ticket #{arm} assigned to alice by alice.")));
    b.type_into("#note", "asked in #arm too; probably the musl image").await;
    b.click("form.note button").await;
    assert!(b.text(".events").await.contains("probably the musl image"));
    b.shot("ticket").await;

    b.type_into("#resolution", "Use the aarch64 image: docker pull example/bot:2.3-arm64").await;
    b.click("textarea#resolution ~ button.primary").await;
    assert!(b.text(".flash").await.contains("resolved by alice"));
    b.click("input#faq_id ~ button").await;
    let learned = b.text(".flash").await;
    let t = c.bot.store().ticket(arm).await.unwrap().unwrap();
    assert_eq!(t.status, Status::Resolved);
    let entries = c.bot.store().faq_entries().await.unwrap();
    let new = entries.iter().find(|e| e.answer.contains("aarch64 image")).unwrap_or_else(|| panic!("learned into the FAQ: {learned}"));

    // Edit an FAQ entry.
    b.client.goto(&c.url(&format!("/console/faq/{}", new.id))).await.unwrap();
    b.type_into("textarea[name='answer']", "Use the arm64 image: `docker pull example/bot:2.3-arm64`.").await;
    b.click("form.stack button.primary").await;
    assert!(b.text(".flash").await.contains(&new.id));
    let edited = c.bot.store().faq_entry(&new.id).await.unwrap().unwrap();
    assert_eq!(edited.answer, "Use the arm64 image: `docker pull example/bot:2.3-arm64`.");
    b.client.goto(&c.url("/console/faq")).await.unwrap();
    b.shot("faq").await;

    // A past week's digest: its tables and its chart, drawn.
    b.client.goto(&c.url("/console/digest?week=2026-11-02")).await.unwrap();
    assert!(b.text("h1").await.contains("2026-11-02"));
    let numbers = b.text("table.numbers").await;
    assert!(numbers.to_lowercase().contains("bot answered"), "{numbers}");
    assert!(b.number("const i = document.querySelector('img.chart'); return i.complete ? i.naturalWidth : 0").await > 0, "the chart loaded");
    b.shot("digest").await;

    // Search finds the resolution.
    b.client.goto(&c.url("/console/search?q=aarch64")).await.unwrap();
    assert!(b.text("ul.hits").await.contains("my build fail on ARM"));

    // And on a phone.
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.goto(&c.url("/console")).await.unwrap();
    b.shot("queue-phone").await;
    let _ = b.client.close().await;
    c.shutdown().await;
}
