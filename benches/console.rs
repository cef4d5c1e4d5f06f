//! What the web console's pages cost on a community's worth of data: 100,000 messages over a
//! year, 40,000 of them questions, 10,000 tickets (about 5 history lines each), votes, learned
//! phrasings, feedback and the example FAQ, in a SQLite file (and on PostgreSQL when
//! `TEST_POSTGRES_URL` names a server: a fresh database, dropped afterwards). Each page is
//! loaded over HTTP on 127.0.0.1 by a signed-in moderator, the pages taken in turn; prints the
//! p50, p95, p99 and slowest load of each. Run with `cargo bench --bench console`; figures in
//! BENCHMARKS.md.

use chrono::{DateTime, Duration, Utc};
use sqlx::Connection;
use std::sync::Arc;
use std::time::Instant;
use supportbot::bot::console_digests::{OFFERED_WEEKS, week_start};
use supportbot::bot::{Bot, BotConfig};
use supportbot::config::{Settings, WebSettings};
use supportbot::prompts::Prompts;
use supportbot::store::{Store, WebSession, WebUser};

const MESSAGES: usize = 100_000;
/// Two messages in five are questions; one question in four became a ticket.
const QUESTIONS: usize = MESSAGES * 2 / 5;
const TICKETS: usize = 10_000;
const RUNS: usize = 200;
const DIGEST_RUNS: usize = 110;
/// Weeks older than the digest page offers, loaded once each: computed on the page load.
const COLD_WEEKS: i64 = 8;

const ACTIONS: [&str; 16] = [
    "install",
    "configure",
    "upgrade",
    "restart",
    "reset",
    "migrate",
    "back up",
    "export",
    "import",
    "deploy",
    "uninstall",
    "enable",
    "disable",
    "debug",
    "update",
    "run",
];
const THINGS: [&str; 20] = [
    "the docker image",
    "the config file",
    "the database",
    "the Slack app",
    "the Discord bot",
    "the FAQ",
    "the web console",
    "the weekly digest",
    "the webhook",
    "the CLI",
    "the API token",
    "the TLS certificate",
    "the PostgreSQL connection",
    "the SQLite file",
    "the reverse proxy",
    "the helm chart",
    "the systemd service",
    "the log level",
    "the metrics endpoint",
    "the nightly backup",
];
const ERRORS: [&str; 12] = [
    "error: connection refused",
    "permission denied",
    "database is locked",
    "a timeout",
    "401 unauthorized",
    "panicked at index out of bounds",
    "invalid token",
    "HTTP error 500",
    "no such table: tickets",
    "certificate verify failed",
    "address already in use",
    "out of memory",
];
const SYMPTOMS: [&str; 10] = [
    "crash",
    "hang",
    "time out",
    "use 100% CPU",
    "leak memory",
    "restart in a loop",
    "stop answering",
    "log nothing",
    "reject the token",
    "ignore the setting",
];
const SYSTEMS: [&str; 9] = ["Ubuntu 22.04", "Debian 12", "macOS", "Windows", "Alpine", "Fedora", "arm64", "a Raspberry Pi", "NixOS"];
const CHATTER: [&str; 12] = [
    "thanks, that worked!",
    "good morning everyone",
    "has anyone tried the new release yet?",
    "+1, same here",
    "I'll take a look tonight",
    "the community call is on Thursday",
    "nice, the changelog looks great",
    "sorry, wrong channel",
    "welcome aboard!",
    "I opened a pull request for the docs",
    "works for me on the latest version",
    "anyone going to the meetup?",
];
const FIXES: [&str; 10] = [
    "raising the busy timeout",
    "upgrading to the latest release",
    "using the arm64 image",
    "regenerating the bot token",
    "opening port 8080 in the firewall",
    "running the migrations again",
    "fixing the file permissions on the data directory",
    "setting public_url behind the proxy",
    "switching to PostgreSQL",
    "restoring last night's backup",
];
const CHANNELS: [(&str, &[&str]); 2] =
    [("slack", &["C-help", "C-general", "C-dev", "C-announce"]), ("discord", &["help", "general", "dev", "support-fr", "showcase"])];
const MODERATORS: [&str; 12] = ["mia", "noah", "olga", "pablo", "quinn", "rosa", "sam", "tara", "uma", "victor", "wen", "xavi"];
/// In about one question in 4,000: the rare word searched for.
const RARE: &str = "flatpak";

/// A fixed sequence of pseudo-random numbers (xorshift), so every run builds the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1e6 < p
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

fn question_text(r: &mut Rng) -> String {
    let (a, t, e, s, o) = (r.pick(&ACTIONS), r.pick(&THINGS), r.pick(&ERRORS), r.pick(&SYMPTOMS), r.pick(&SYSTEMS));
    let version = format!("v0.{}.{}", r.below(20), r.below(10));
    let mut text = match r.below(6) {
        0 => format!("how do I {a} {t}?"),
        1 => format!("{t} fails with {e} after upgrading to {version}"),
        2 => format!("is there a way to {a} {t} without restarting everything?"),
        3 => format!("why does {t} {s} on {o}?"),
        4 => format!("getting {e} when I {a} {t}, any idea?"),
        _ => format!("{o}: {t} started to {s} since {version}, what changed?"),
    };
    if r.chance(0.4) {
        text += &format!(" I tried to {} {} but it did not help.", r.pick(&ACTIONS), r.pick(&THINGS));
    }
    if r.chance(0.15) {
        text += &format!(" The log says: {} (code E{:04}).", r.pick(&ERRORS), r.below(10_000));
    }
    if r.chance(1.0 / 4000.0) {
        text += &format!(" It is installed via {RARE}.");
    }
    text
}

/// A SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt(s: Option<String>) -> String {
    s.map(|s| lit(&s)).unwrap_or_else(|| "NULL".into())
}

fn num(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into())
}

/// Rows for one table, written as multi-row INSERTs of 500 rows.
struct Rows {
    head: String,
    rows: Vec<String>,
}

impl Rows {
    fn new(table: &str, columns: &str) -> Rows {
        Rows { head: format!("INSERT INTO {table} ({columns}) VALUES "), rows: Vec::new() }
    }
    fn add(&mut self, values: &[String]) {
        self.rows.push(format!("({})", values.join(", ")));
    }
    async fn write(&self, conn: &mut sqlx::AnyConnection) -> anyhow::Result<()> {
        for chunk in self.rows.chunks(500) {
            sqlx::query(&format!("{}{}", self.head, chunk.join(", "))).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// What the pages are asked about, found while the data is made.
struct Made {
    ticket_ids: Vec<i64>,
    counts: Vec<(&'static str, usize)>,
}

/// Fills the migrated database at `url`: the year before `now`, in one transaction.
async fn fill(url: &str, now: DateTime<Utc>) -> anyhow::Result<Made> {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let ms = |t: DateTime<Utc>| t.timestamp_millis().to_string();
    let start = now - Duration::days(365);
    let span = (now - Duration::hours(1) - start).num_milliseconds();
    let faq_ids: Vec<String> = supportbot::app::EXAMPLE_FAQ
        .lines()
        .filter_map(|l| l.strip_prefix("id = \"").and_then(|rest| rest.strip_suffix('"')))
        .map(String::from)
        .collect();

    let mut messages = Rows::new("messages", "platform, id, channel, user_id, user_name, text, at, reply_to, is_support, deleted");
    let mut questions = Rows::new(
        "questions",
        "platform, message_id, channel, asker_id, asker_name, text, asked_at, status, faq_id, confidence, answered_at, answered_by, ticket_id, private",
    );
    let mut tickets = Rows::new(
        "tickets",
        "id, platform, channel, question_message_id, asker_id, asker_name, question, origin, status, priority, assignee, resolution, \
         created_at, updated_at, first_response_at, resolved_at, closed_at, private",
    );
    let mut events = Rows::new("ticket_events", "ticket_id, at, actor, action, from_status, to_status, note, actor_id");
    let mut votes = Rows::new("answer_feedback", "platform, message_id, user_id, helpful, comment, at");
    let mut links = Rows::new("ticket_links", "ticket_id, platform, message_id, linked_at");
    let mut feedback = Rows::new("feedback", "platform, id, channel, user_id, text, source, at");
    let mut learned = Rows::new("faq_learned", "faq_id, text_key, text, learned_from, platform, message_id, confirmed_by, learned_at, author_id");
    // Open questions by platform, for replies to point at: (message id, asked at).
    let mut recent: [Vec<(String, i64)>; 2] = [Vec::new(), Vec::new()];
    let (mut n_questions, mut n_tickets, mut chatter) = (0usize, 0i64, 0usize);
    for i in 0..MESSAGES {
        let p = if r.chance(0.6) { 0 } else { 1 };
        let (platform, channels) = CHANNELS[p];
        let channel = r.pick(channels);
        let at = start + Duration::milliseconds(span * i as i64 / MESSAGES as i64 + r.below(60_000) as i64);
        // A few members write most messages.
        let u = ((r.below(1000) as f64 / 1000.0).powi(2) * 3000.0) as usize;
        let (user_id, user_name) = (format!("U{u:04}"), format!("member{u}"));
        let id = format!("{}-{i}", if p == 0 { "ts" } else { "m" });
        let is_question = i % 5 < 2 && n_questions < QUESTIONS;
        if !is_question {
            chatter += 1;
            let reply_to = if r.chance(0.3) { recent[p].last().map(|(m, _)| m.clone()) } else { None };
            let text = if r.chance(0.1) { format!("{} {}", r.pick(&CHATTER), question_text(&mut r)) } else { r.pick(&CHATTER).to_string() };
            messages.add(&[
                lit(platform),
                lit(&id),
                lit(channel),
                lit(&user_id),
                lit(&user_name),
                lit(&text),
                ms(at),
                opt(reply_to),
                "0".into(),
                "0".into(),
            ]);
            if chatter % 50 == 0 && n_tickets > 0 {
                // A repeat of an earlier ticket's question, linked to it.
                links.add(&[(1 + r.below(n_tickets as usize)).to_string(), lit(platform), lit(&id), ms(at)]);
            }
            if chatter % 20 == 0 {
                feedback.add(&[
                    lit(platform),
                    lit(&format!("fb-{i}")),
                    lit(channel),
                    lit(&user_id),
                    lit(&question_text(&mut r)),
                    lit("channel"),
                    ms(at),
                ]);
            }
            continue;
        }
        let text = question_text(&mut r);
        messages.add(&[
            lit(platform),
            lit(&id),
            lit(channel),
            lit(&user_id),
            lit(&user_name),
            lit(&text),
            ms(at),
            "NULL".into(),
            "1".into(),
            "0".into(),
        ]);
        n_questions += 1;
        recent[p].push((id.clone(), at.timestamp_millis()));
        let private = if r.chance(0.05) { "1" } else { "0" };
        let faq = faq_ids[(r.below(faq_ids.len()) * r.below(faq_ids.len())) / faq_ids.len()].clone();
        let confidence = format!("{:.3}", 0.8 + r.below(200) as f64 / 1000.0);
        if n_questions % 4 == 0 && (n_tickets as usize) < TICKETS {
            n_tickets += 1;
            let tid = n_tickets;
            let origin = ["unanswered", "unanswered", "unanswered", "not_helpful", "escalated"][r.below(5)];
            let (qfaq, qconf) = if origin == "not_helpful" { (lit(&faq), confidence.clone()) } else { ("NULL".into(), "NULL".into()) };
            questions.add(&[
                lit(platform),
                lit(&id),
                lit(channel),
                lit(&user_id),
                lit(&user_name),
                lit(&text),
                ms(at),
                lit("ticketed"),
                qfaq,
                qconf,
                "NULL".into(),
                "NULL".into(),
                tid.to_string(),
                private.into(),
            ]);
            if origin == "not_helpful" {
                votes.add(&[lit(platform), lit(&id), lit(&user_id), "0".into(), lit("it did not help"), ms(at + Duration::minutes(3))]);
            }
            let created = at + Duration::minutes(15);
            let age = now - created;
            let active = r.chance(if age < Duration::days(14) { 0.7 } else { 0.18 });
            let status = if active {
                if r.chance(0.45) { "open" } else { "assigned" }
            } else if r.chance(0.4) {
                "resolved"
            } else {
                "closed"
            };
            let priority = [
                "low", "low", "low", "normal", "normal", "normal", "normal", "normal", "normal", "normal", "normal", "normal", "high", "high",
                "high", "high", "urgent",
            ][r.below(17)];
            let assignee = (status != "open").then(|| r.pick(&MODERATORS).to_string());
            let gap = Duration::minutes(10 + r.below(600) as i64);
            let responded = (status != "open" || r.chance(0.3)).then_some(created + gap);
            let resolved = matches!(status, "resolved" | "closed").then_some(created + gap * 3);
            let closed = (status == "closed").then_some(created + gap * 5);
            let resolution = resolved.map(|_| format!("Fixed by {}.", r.pick(&FIXES)));
            let updated = closed.or(resolved).or(responded).unwrap_or(created);
            tickets.add(&[
                tid.to_string(),
                lit(platform),
                lit(channel),
                lit(&id),
                lit(&user_id),
                lit(&user_name),
                lit(&text),
                lit(origin),
                lit(status),
                lit(priority),
                opt(assignee.clone()),
                opt(resolution.clone()),
                ms(created),
                ms(updated),
                num(responded.map(|t| t.timestamp_millis())),
                num(resolved.map(|t| t.timestamp_millis())),
                num(closed.map(|t| t.timestamp_millis())),
                private.into(),
            ]);
            // Its history: opened, then what happened to it, with thread messages and notes.
            let mut line = |at: DateTime<Utc>, actor: &str, action: &str, from: Option<&str>, to: &str, note: Option<String>| {
                events.add(&[
                    tid.to_string(),
                    ms(at),
                    lit(actor),
                    lit(action),
                    opt(from.map(String::from)),
                    lit(to),
                    opt(note),
                    lit(&format!("id-{actor}")),
                ]);
            };
            line(created, "supportbot", "open", None, "open", None);
            let mut state = "open";
            if let (Some(who), Some(t)) = (&assignee, responded) {
                line(t, who, "assign", Some("open"), "assigned", None);
                state = "assigned";
                line(t + Duration::minutes(2), who, "reply", Some(state), state, Some(format!("Could you share the log of {}?", r.pick(&THINGS))));
            }
            if r.chance(0.6) {
                line(created + Duration::minutes(40), &user_name, "message", Some(state), state, Some(format!("Here it is: {}", r.pick(&ERRORS))));
            }
            if r.chance(0.5) {
                line(
                    created + Duration::minutes(50),
                    r.pick(&MODERATORS),
                    "note",
                    Some(state),
                    state,
                    Some(format!("Reproduced on {}.", r.pick(&SYSTEMS))),
                );
            }
            if let (Some(t), Some(who)) = (resolved, &assignee) {
                line(t, who, "resolve", Some(state), "resolved", resolution.clone());
                state = "resolved";
            }
            if let Some(t) = closed {
                line(t, "supportbot", "close", Some(state), "closed", None);
            }
        } else {
            let old = at < now - Duration::days(1);
            let status = match r.below(20) {
                _ if !old => "pending",
                0..=9 => "bot_answered",
                10..=18 => "community_answered",
                _ => "dismissed",
            };
            let bot = status == "bot_answered";
            let answered_at = match status {
                "bot_answered" => Some(at.timestamp_millis()),
                "community_answered" => Some((at + Duration::minutes(5 + r.below(120) as i64)).timestamp_millis()),
                _ => None,
            };
            let answered_by = (status == "community_answered").then(|| format!("U{:04}", r.below(3000)));
            questions.add(&[
                lit(platform),
                lit(&id),
                lit(channel),
                lit(&user_id),
                lit(&user_name),
                lit(&text),
                ms(at),
                lit(status),
                if bot { lit(&faq) } else { "NULL".into() },
                if bot { confidence } else { "NULL".into() },
                num(answered_at),
                opt(answered_by),
                "NULL".into(),
                private.into(),
            ]);
            if bot && r.chance(0.3) {
                let helpful = r.chance(0.8);
                let comment = (!helpful && r.chance(0.5)).then(|| "the link is dead".to_string());
                votes.add(&[lit(platform), lit(&id), lit(&user_id), (helpful as i64).to_string(), opt(comment), ms(at + Duration::minutes(2))]);
                if helpful && r.chance(0.05) {
                    let key = text.to_lowercase();
                    learned.add(&[lit(&faq), lit(&key), lit(&text), lit("helpful"), lit(platform), lit(&id), lit(&user_name), ms(at), lit(&user_id)]);
                }
            }
        }
    }
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let mut tx = conn.begin().await?;
    for rows in [&messages, &questions, &tickets, &events, &votes, &links, &feedback, &learned] {
        rows.write(&mut tx).await?;
    }
    tx.commit().await?;
    if url.starts_with("postgres") {
        // Where autovacuum would be a minute later; and the next ticket ids after ours.
        sqlx::query("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets))").execute(&mut conn).await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    conn.close().await?;
    let mut ids: Vec<i64> = (0..20).map(|k| 1 + (k * 7919 % TICKETS) as i64).collect();
    ids.sort();
    Ok(Made {
        ticket_ids: ids,
        counts: vec![
            ("messages", messages.rows.len()),
            ("questions", questions.rows.len()),
            ("tickets", tickets.rows.len()),
            ("ticket_events", events.rows.len()),
            ("answer_feedback", votes.rows.len()),
            ("ticket_links", links.rows.len()),
            ("feedback", feedback.rows.len()),
            ("faq_learned", learned.rows.len()),
        ],
    })
}

/// Milliseconds at the nearest-rank quantile `q` of sorted `ms`.
fn quantile(ms: &[f64], q: f64) -> f64 {
    ms[((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1]
}

struct Page {
    name: String,
    path: String,
    /// Text the page must contain (it is the page asked for, not the sign-in page or an error).
    expect: String,
    ms: Vec<f64>,
}

impl Page {
    fn new(name: &str, path: &str, expect: &str) -> Page {
        Page { name: name.into(), path: path.into(), expect: expect.into(), ms: Vec::new() }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Client {
    /// Loads `path`, checks it, and returns how long it took and its size.
    async fn load(&self, path: &str, expect: &str) -> anyhow::Result<(f64, usize)> {
        let start = Instant::now();
        let response = self.http.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        anyhow::ensure!(status == 200, "{path}: {status}");
        anyhow::ensure!(String::from_utf8_lossy(&body).contains(expect), "{path}: no {expect:?} in the page");
        Ok((ms, body.len()))
    }
}

fn print_row(name: &str, ms: &mut [f64], size: usize) {
    ms.sort_by(f64::total_cmp);
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
        ms.len(),
        quantile(ms, 0.5),
        quantile(ms, 0.95),
        quantile(ms, 0.99),
        ms[ms.len() - 1],
        size / 1024
    );
}

async fn run(backend: &str, url: &str) -> anyhow::Result<()> {
    let now = Utc::now();
    let built = Instant::now();
    let mut settings = Settings::default();
    settings.database.url = url.to_string();
    settings.web = Some(WebSettings::default());
    let store = Store::connect(url, settings.database.max_connections).await?;
    supportbot::app::import_faq(&store, "examples/faq.toml", supportbot::app::EXAMPLE_FAQ).await?;
    let made = fill(url, now).await?;
    let token = supportbot::web::token::new_token();
    let user = WebUser { platform: "discord".into(), user_id: "id-mia".into(), user_name: "mia".into() };
    let session = WebSession { user, csrf: supportbot::web::token::new_token(), via: "link".into(), expires_at: now + Duration::days(1) };
    store.create_web_session(&supportbot::web::token::hash(&token), &session, now).await?;
    let bot = Arc::new(Bot::new(store.clone(), Prompts::load(None)?, BotConfig::from_settings(&settings), None).await?);
    let router = supportbot::web::routes(bot.clone(), &settings)?.expect("[web] is set");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await });
    let counts: Vec<String> = made.counts.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!("\n{backend}: {} (built in {:.1} s)", counts.join(", "), built.elapsed().as_secs_f64());

    let client = Client { http: reqwest::Client::new(), base, cookie: format!("sb_session={token}") };
    let mut pages = vec![
        Page::new("queue (active, page 1)", "/console", "<h1>Queue"),
        Page::new("queue: open, high priority", "/console?status=open&priority=high", "<h1>Queue"),
        Page::new("queue: assignee + platform", "/console?assignee=rosa&platform=discord", "<h1>Queue"),
        Page::new("queue: all statuses, one channel", "/console?status=all&channel=help", "<h1>Queue"),
        Page::new("queue: all statuses, page 50", "/console?status=all&page=50", "<h1>Queue"),
    ];
    let first_ticket = pages.len();
    for id in &made.ticket_ids {
        pages.push(Page::new("ticket (20 different)", &format!("/console/tickets/{id}"), &format!("Ticket #{id} ")));
    }
    pages.extend([
        Page::new("search: common word (\"error\")", "/console/search?q=error", "50 results"),
        Page::new(&format!("search: rare word (\"{RARE}\")"), &format!("/console/search?q={RARE}"), RARE),
        Page::new("search: two words (\"docker permission\")", "/console/search?q=docker+permission", "results"),
        Page::new("FAQ list", "/console/faq", "<h1>FAQ"),
        Page::new("FAQ entry", "/console/faq/install", "<h1>install"),
    ]);
    let mut sizes = vec![0; pages.len()];
    // Once untimed (connections, the pool, templates), then the pages in turn.
    for (p, size) in pages.iter().zip(sizes.iter_mut()) {
        *size = client.load(&p.path, &p.expect).await?.1;
    }
    for _ in 0..RUNS {
        for p in pages.iter_mut() {
            p.ms.push(client.load(&p.path, &p.expect).await?.0);
        }
    }

    // The digest. The finished weeks the page offers are computed ahead by the scheduler, one a
    // tick (timed here as one run); an older week is computed on its first load.
    let monday = |weeks_back: i64| (week_start(now.date_naive()) - Duration::days(7 * weeks_back)).date_naive().to_string();
    let warming = Instant::now();
    let mut warmed = 0;
    while bot.warm_console_digest(now).await?.is_some() {
        warmed += 1;
    }
    let warming = warming.elapsed().as_secs_f64();
    let mut cold = Vec::new();
    for w in OFFERED_WEEKS..OFFERED_WEEKS + COLD_WEEKS {
        cold.push(client.load(&format!("/console/digest?week={}", monday(w)), "<h1>Digest").await?.0);
    }
    let (mut offered, mut chart) = (Vec::new(), Vec::new());
    let (mut digest_size, mut chart_size) = (0, 0);
    for run in 0..DIGEST_RUNS {
        let week = monday(1 + run as i64 % (OFFERED_WEEKS - 1));
        let (ms, size) = client.load(&format!("/console/digest?week={week}"), "<h1>Digest").await?;
        (digest_size, _) = (size, offered.push(ms));
        let start = Instant::now();
        let response =
            client.http.get(format!("{}/console/digest/chart.png?week={week}", client.base)).header("cookie", &client.cookie).send().await?;
        anyhow::ensure!(response.status() == 200, "chart: {}", response.status());
        chart_size = response.bytes().await?.len();
        chart.push(start.elapsed().as_secs_f64() * 1e3);
    }

    println!("\n| page ({backend}) | loads | p50 ms | p95 ms | p99 ms | max ms | KiB |\n|---|---|---|---|---|---|---|");
    for (i, p) in pages.iter().enumerate() {
        if i > first_ticket && i < first_ticket + made.ticket_ids.len() {
            continue;
        }
        let mut ms = if i == first_ticket {
            pages[first_ticket..first_ticket + made.ticket_ids.len()].iter().flat_map(|p| p.ms.iter().copied()).collect()
        } else {
            p.ms.clone()
        };
        print_row(&p.name, &mut ms, sizes[i]);
    }
    print_row("digest, an offered past week (computed ahead)", &mut offered, digest_size);
    print_row("digest, an older week: first load (computed)", &mut cold, digest_size);
    print_row("digest chart (PNG, drawn each time)", &mut chart, chart_size);
    println!("\nThe scheduler's warm-up of the {warmed} offered finished weeks: {warming:.1} s in all, one week a tick.");
    server.abort();
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir()?;
    run("SQLite", &format!("sqlite://{}", dir.path().join("console.db").display())).await?;
    if let Ok(admin) = std::env::var("TEST_POSTGRES_URL") {
        let name = format!("bench_console_{}", std::process::id());
        let mut conn = sqlx::AnyConnection::connect(&admin).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
        let (base, _) = admin.rsplit_once('/').expect("a postgres URL ends in /dbname");
        let outcome = run("PostgreSQL", &format!("{base}/{name}")).await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await?;
        outcome?;
    }
    Ok(())
}
