//! The web console over HTTP, as a browser would use it but with every header in view: the
//! one-time sign-in link, sessions and their cookies, CSRF and Origin checks, the moderator
//! rule, escaping, and that a browser action is the chat command it stands for.
//! (`browser.rs` drives the same pages in headless Chromium.)

use crate::helpers::*;
use supportbot::bot::{Bot, BotConfig};
use supportbot::config::{Settings, WebSettings};
use supportbot::domain::message::ActionKind;
use supportbot::domain::ticket::Status;
use supportbot::store::privacy::Requester;
use supportbot::store::{Store, WebSession, WebUser};

/// The service with the console on, and a second bot on its database to make tickets with.
pub struct Console {
    pub service: Running,
    pub bot: Bot,
    pub http: reqwest::Client,
}

pub fn web_settings(public_url: &str) -> Settings {
    let mut s = Settings::default();
    s.tickets.moderators_channel = "mods".into();
    s.web = Some(WebSettings { public_url: public_url.into(), ..Default::default() });
    s
}

/// The console served at its own address (`public_url` = where the test reaches it), or at
/// `public_url` when given (a TLS proxy in front, say).
pub async fn console(public_url: Option<&str>) -> Console {
    let db = sqlite_db();
    let shared = db.shared();
    let public = public_url.map(String::from);
    let service = run_service_at(db, |s, base| {
        s.tickets.moderators_channel = "mods".into();
        s.web = Some(WebSettings { public_url: public.unwrap_or_else(|| base.to_string()), ..Default::default() });
    })
    .await;
    let url = public_url.map_or_else(|| service.base.clone(), String::from);
    let config = BotConfig::from_settings(&web_settings(&url));
    let bot = bot_with(&shared, TEST_FAQ, config).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Console { service, bot, http }
}

impl Console {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.base)
    }

    /// A ticket for `text`, asked by `asker` and left unanswered past the window.
    pub async fn ticket(&self, id: &str, asker: &str, text: &str) -> i64 {
        send(&self.bot, message(id, 0, user(asker), text)).await;
        self.bot.tick(at(60)).await.unwrap();
        self.bot.store().tickets(None, 100).await.unwrap().iter().find(|t| t.question == text).expect("a ticket for the question").id
    }

    /// The sign-in link the `console` command gives `name`, a moderator in the chat.
    pub async fn link_for(&self, name: &str) -> String {
        // Asked now: the service checks links against its own (wall) clock.
        static ASKED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = ASKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut ask = command(&format!("console-{name}-{n}"), 1, moderator(name), "console");
        ask.at = chrono::Utc::now();
        let actions = send(&self.bot, ask).await;
        let reply = actions.iter().find(|a| a.text.contains("/console/auth/link?token=")).expect("a sign-in link");
        assert!(reply.ephemeral || reply.recipient.as_deref() == Some(name), "the link goes to the moderator only");
        assert!(reply.erase_after_send, "the link does not outlive its delivery in the outbox");
        let start = reply.text.find("http").unwrap();
        reply.text[start..].split_whitespace().next().unwrap().to_string()
    }

    /// Spends `link` as a browser would (its page, then its button): the session cookie.
    pub async fn sign_in(&self, link: &str) -> String {
        let token = link.split("token=").nth(1).unwrap();
        let page = self.http.get(link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains(token), "the link's page carries its token into its button");
        let r = self.http.post(self.url("/console/auth/link")).form(&[("token", token)]).send().await.unwrap();
        assert_eq!(r.status(), 303, "signed in, sent to the queue");
        assert_eq!(r.headers()["location"], "/console");
        let cookie =
            r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("sb_session=")).unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/console"), "{cookie}");
        cookie.split(';').next().unwrap().to_string()
    }

    pub async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http.get(self.url(path)).header("cookie", cookie).send().await.unwrap()
    }

    pub async fn page(&self, path: &str, cookie: &str) -> String {
        let r = self.get(path, cookie).await;
        assert_eq!(r.status(), 200, "{path}");
        r.text().await.unwrap()
    }

    /// The CSRF token on a page.
    pub fn csrf(page: &str) -> String {
        let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        page[at..].split('"').next().unwrap().to_string()
    }

    pub async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url(path)).header("cookie", cookie).form(form).send().await.unwrap()
    }

    pub async fn shutdown(mut self) {
        self.service.shutdown().await;
    }
}

fn store(c: &Console) -> &Store {
    c.bot.store()
}

#[tokio::test]
async fn a_moderator_signs_in_once_with_the_link_console_sends_and_works_a_ticket_like_the_chat() {
    let c = console(None).await;
    let id = c.ticket("q1", "carol", "my build fails on ARM since the upgrade").await;
    let link = c.link_for("alice").await;
    // A chat app previewing the link (a GET) does not spend it.
    assert_eq!(c.http.get(&link).send().await.unwrap().status(), 200);
    let cookie = c.sign_in(&link).await;
    let token = link.split("token=").nth(1).unwrap();
    let again = c.http.post(c.url("/console/auth/link")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(again.status(), 403, "a link signs in once");

    let queue = c.page("/console", &cookie).await;
    assert!(queue.contains("my build fails on ARM since the upgrade") && queue.contains(&format!("/console/tickets/{id}")), "{queue}");
    assert!(queue.contains("alice"), "who is signed in");

    let page = c.page(&format!("/console/tickets/{id}"), &cookie).await;
    let csrf = Console::csrf(&page);
    let r = c.post(&format!("/console/tickets/{id}"), &cookie, &[("csrf", &csrf), ("form_id", "f1"), ("action", "assign_me")]).await;
    assert_eq!(r.status(), 303);
    let flash = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with("sb_flash=")).unwrap().to_string();
    let flash = flash.split(';').next().unwrap().to_string();
    let shown = c.page(&format!("/console/tickets/{id}"), &format!("{cookie}; {flash}")).await;
    assert!(shown.contains(&format!("Ticket #{id} assigned to alice by alice.")), "the chat's own answer, on the page");

    let resolve = [("csrf", csrf.as_str()), ("form_id", "f2"), ("action", "resolve"), ("text", "use the aarch64 image")];
    assert_eq!(c.post(&format!("/console/tickets/{id}"), &cookie, &resolve).await.status(), 303);
    // The same form sent twice (a reload, a double click) acts once.
    assert_eq!(c.post(&format!("/console/tickets/{id}"), &cookie, &resolve).await.status(), 303);
    let t = store(&c).ticket(id).await.unwrap().unwrap();
    assert_eq!((t.status, t.assignee.as_deref(), t.resolution.as_deref()), (Status::Resolved, Some("alice"), Some("use the aarch64 image")));
    let history = store(&c).ticket_events(id).await.unwrap();
    assert_eq!(history.iter().filter(|e| e.action == "resolve").count(), 1, "{history:?}");
    assert!(history.iter().any(|e| e.action == "resolve" && e.actor == "alice"), "recorded as the moderator, like a chat command");
    // The asker hears it on the ticket's own platform, as from the chat; the moderator's own
    // answer stays on the page and is never sent.
    let out = c.bot.outbox().claim("test", chrono::Utc::now() + chrono::Duration::hours(1), 100).await.unwrap();
    let told: Vec<_> = out.iter().filter(|o| o.action.ticket_id == Some(id)).map(|o| (o.action.kind, o.action.text.clone())).collect();
    assert!(told.iter().any(|(k, t)| *k == ActionKind::TicketUpdated && t.contains("use the aarch64 image") && t.contains("carol")), "{told:?}");
    assert!(!out.iter().any(|o| o.action.text.contains("assigned to alice by alice")), "the moderator's answer is not sent anywhere");

    let r = c.post("/console/logout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(c.get("/console", &cookie).await.status(), 303, "signed out: the session is gone from the database");
    c.shutdown().await;
}

#[tokio::test]
async fn forged_forms_other_sites_and_non_moderators_change_nothing() {
    let c = console(None).await;
    let id = c.ticket("q1", "carol", "why does the docs website return 404 for the install page?").await;
    let cookie = c.sign_in(&c.link_for("alice").await).await;
    let path = format!("/console/tickets/{id}");
    let csrf = Console::csrf(&c.page(&path, &cookie).await);

    // No CSRF token, a wrong one, another site's Origin: refused, nothing changes.
    assert_eq!(c.post(&path, &cookie, &[("action", "close")]).await.status(), 403);
    assert_eq!(c.post(&path, &cookie, &[("csrf", "forged"), ("action", "close")]).await.status(), 403);
    let cross = c
        .http
        .post(c.url(&path))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("action", "close")]);
    assert_eq!(cross.send().await.unwrap().status(), 403);
    // No session at all: the sign-in page, nothing else.
    let anonymous = c.http.post(c.url(&path)).form(&[("csrf", csrf.as_str()), ("action", "close")]).send().await.unwrap();
    assert_eq!((anonymous.status(), anonymous.headers()["location"].to_str().unwrap()), (reqwest::StatusCode::SEE_OTHER, "/console/login"));
    for page in ["/console", "/console/faq", "/console/search?q=docs", "/console/digest", "/console/digest/chart.png"] {
        let r = c.http.get(c.url(page)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{page} without a session");
    }

    // A session whose user is no moderator (a Slack member not in [slack] moderators): the
    // sign-in page again, and its forms do nothing.
    let nobody = WebUser { platform: "slack".into(), user_id: "U0NOBODY".into(), user_name: "U0NOBODY".into() };
    let token = supportbot::web::token::new_token();
    let session =
        WebSession { user: nobody.clone(), csrf: "known".into(), via: "link".into(), expires_at: chrono::Utc::now() + chrono::Duration::hours(1) };
    store(&c).create_web_session(&supportbot::web::token::hash(&token), &session, chrono::Utc::now()).await.unwrap();
    let theirs = format!("sb_session={token}");
    assert_eq!(c.get("/console", &theirs).await.status(), 303);
    assert_eq!(c.post(&path, &theirs, &[("csrf", "known"), ("action", "close")]).await.status(), 303);
    // Nor does a link made for them sign them in.
    let link = c.bot.mint_sign_in_link(&nobody, chrono::Utc::now()).await.unwrap();
    let r = c.http.post(c.url("/console/auth/link")).form(&[("token", link.split("token=").nth(1).unwrap())]).send().await.unwrap();
    assert_eq!(r.status(), 403);

    let t = store(&c).ticket(id).await.unwrap().unwrap();
    assert_eq!(t.status, Status::Open, "nothing changed the ticket");
    assert!(store(&c).ticket_events(id).await.unwrap().iter().all(|e| e.action == "open"), "no history line was written");
    c.shutdown().await;
}

#[tokio::test]
async fn chat_text_shows_as_text_and_every_page_is_locked_down() {
    let c = console(None).await;
    let evil = "<img src=x onerror=alert(1)> <script>alert(2)</script> @everyone \" ' &amp; why does this break?";
    let id = c.ticket("q1", "<b>mallory</b>", evil).await;
    let cookie = c.sign_in(&c.link_for("alice").await).await;
    let csrf = Console::csrf(&c.page("/console", &cookie).await);
    let note = [("csrf", csrf.as_str()), ("form_id", "n1"), ("action", "note"), ("text", "<svg onload=alert(3)>")];
    c.post(&format!("/console/tickets/{id}"), &cookie, &note).await;
    for path in [format!("/console/tickets/{id}"), "/console".into(), "/console/search?q=img".into(), "/console/faq".into()] {
        let r = c.get(&path, &cookie).await;
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"), "{csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let html = r.text().await.unwrap();
        for raw in ["<img src=x", "<script>alert", "<svg onload", "<b>mallory"] {
            assert!(!html.contains(raw), "{path} shows {raw:?} as markup");
        }
        if path.contains("tickets") {
            assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && html.contains("&lt;svg onload=alert(3)&gt;"), "shown as text");
        }
    }
    c.shutdown().await;
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_tls_and_links_expire() {
    let c = console(Some("https://support.example.org")).await;
    let link = c.link_for("alice").await;
    assert!(link.starts_with("https://support.example.org/console/auth/link?token="), "{link}");
    let token = link.split("token=").nth(1).unwrap().to_string();
    let r = c.http.post(c.url("/console/auth/link")).form(&[("token", token.as_str())]).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // A link older than [web] link_ttl (10 minutes) signs nobody in.
    let old = supportbot::web::token::new_token();
    let then = chrono::Utc::now() - chrono::Duration::minutes(11);
    let who = WebUser { platform: "test".into(), user_id: "bob".into(), user_name: "bob".into() };
    store(&c).create_login_link(&supportbot::web::token::hash(&old), &who, then, then + chrono::Duration::minutes(10)).await.unwrap();
    let r = c.http.post(c.url("/console/auth/link")).form(&[("token", old.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Guessing at links is rate-limited (10 a minute per client by default).
    let mut limited = false;
    for i in 0..12 {
        let r = c.http.post(c.url("/console/auth/link")).form(&[("token", format!("guess-{i}"))]).send().await.unwrap();
        limited |= r.status() == 429;
    }
    assert!(limited, "sign-in attempts past the limit are refused");
    c.shutdown().await;
}

#[tokio::test]
async fn console_is_refused_to_members_and_says_so_when_the_console_is_off() {
    let c = console(None).await;
    let actions = send(&c.bot, command("c1", 1, user("eve"), "console")).await;
    assert!(actions.iter().all(|a| !a.text.contains("token=")), "a member gets no link");
    assert_eq!(actions[0].kind, ActionKind::Refused);
    c.shutdown().await;
    let (plain, _db) = spawn_bot().await;
    let actions = send(&plain, command("c2", 1, moderator("alice"), "console")).await;
    assert!(actions[0].text.contains("not turned on") && !actions[0].text.contains("token="), "{}", actions[0].text);
}

#[tokio::test]
async fn a_forgotten_moderator_is_signed_out_and_their_unused_links_die() {
    let c = console(None).await;
    let cookie = c.sign_in(&c.link_for("alice").await).await;
    let unused = c.link_for("alice").await;
    let bob = c.sign_in(&c.link_for("bob").await).await;
    assert_eq!(c.get("/console", &cookie).await.status(), 200);

    let counts = c.bot.forget("test", "U-alice", None, Requester::Operator, None, chrono::Utc::now()).await.unwrap();
    assert!(counts.total() > 0, "the member's messages went: {counts:?}");
    let r = c.get("/console", &cookie).await;
    assert_eq!((r.status(), r.headers()["location"].to_str().unwrap()), (reqwest::StatusCode::SEE_OTHER, "/console/login"));
    let token = unused.split("token=").nth(1).unwrap();
    let r = c.http.post(c.url("/console/auth/link")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(r.status(), 403, "a link minted before the forget signs nobody in");
    assert_eq!(c.get("/console", &bob).await.status(), 200, "another moderator stays signed in");
    c.shutdown().await;
}

#[tokio::test]
async fn retention_purges_expired_sessions_links_and_oauth_states_and_keeps_live_ones() {
    let (bot, _db) = spawn_bot().await;
    let s = bot.store();
    let t0 = at(0);
    let who = WebUser { platform: "test".into(), user_id: "U-alice".into(), user_name: "alice".into() };
    let session = |minutes| WebSession { user: who.clone(), csrf: "c".into(), via: "link".into(), expires_at: at(minutes) };
    s.create_web_session("old-session", &session(60), t0).await.unwrap();
    s.create_web_session("live-session", &session(600), t0).await.unwrap();
    s.create_login_link("old-link", &who, t0, at(10)).await.unwrap();
    s.create_login_link("live-link", &who, t0, at(600)).await.unwrap();
    s.create_oauth_state("old-state", "discord", t0, at(10)).await.unwrap();
    s.create_oauth_state("live-state", "discord", t0, at(600)).await.unwrap();

    assert!(bot.expire("i1", at(120)).await.unwrap().is_some(), "this instance ran retention");
    // Asked as of before they expired: the expired rows are gone, not just hidden by the clock.
    assert_eq!(s.web_session("old-session", t0).await.unwrap(), None);
    assert!(s.web_session("live-session", t0).await.unwrap().is_some());
    assert_eq!(s.use_login_link("old-link", t0).await.unwrap(), None);
    assert_eq!(s.use_login_link("live-link", t0).await.unwrap(), Some(who.clone()));
    assert!(!s.use_oauth_state("old-state", "discord", t0).await.unwrap());
    assert!(s.use_oauth_state("live-state", "discord", t0).await.unwrap());
}
