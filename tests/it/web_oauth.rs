//! Signing in to the web console with Discord (OAuth2) and Slack (OpenID Connect), end to end:
//! the real service against local fake authorization servers that check the code, the client's
//! credentials and the redirect address, and answer the member, their roles and permissions.

use crate::fake_discord::FakeDiscord;
use crate::fake_slack::FakeSlack;
use crate::helpers::{Running, TestDb, run_service, sqlite_db};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use supportbot::config::{DiscordOauth, SlackMode, SlackOidc, WebSettings};

/// Where the browser reaches the console (the redirects are built on it; the tests call the
/// service at its own address).
const PUBLIC_URL: &str = "http://console.example.test";
const CLIENT_ID: &str = "1098765432101";
const CLIENT_SECRET: &str = "the-client-secret";
const GUILD: &str = "290926798626357999";
const MOD_ROLE: &str = "539082325061836999";
const PLAIN_ROLE: &str = "539082325061836111";
const HELPER_ROLE: &str = "539082325061836222";
const MANAGE_MESSAGES: u64 = 1 << 13;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

fn bearer(headers: &HeaderMap) -> String {
    headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default().to_string()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({"error": error}))).into_response()
}

// ---- a fake Discord: OAuth2, the member, and the bot's view of the server ----

#[derive(Clone)]
struct DiscordMember {
    id: String,
    name: String,
    /// None: not in the server.
    roles: Option<Vec<String>>,
}

#[derive(Default)]
struct DiscordState {
    redirect_uri: String,
    codes: Mutex<HashMap<String, DiscordMember>>,
    tokens: Mutex<HashMap<String, DiscordMember>>,
    /// The token endpoint's next answers: a status and a body instead of a token.
    token_answer: Mutex<Option<(StatusCode, String)>>,
    /// Method and path of every request, and the bodies of token requests.
    seen: Mutex<Vec<String>>,
    owner: Mutex<String>,
    /// Everything else goes to this fake Discord (the bot's gateway and REST).
    upstream: Option<String>,
}

struct FakeDiscordOauth {
    base: String,
    state: Arc<DiscordState>,
}

impl FakeDiscordOauth {
    async fn start(upstream: Option<&FakeDiscord>) -> FakeDiscordOauth {
        let state = Arc::new(DiscordState {
            redirect_uri: format!("{PUBLIC_URL}/console/auth/discord/callback"),
            upstream: upstream.map(|f| f.api_url.trim_end_matches("/api").to_string()),
            ..Default::default()
        });
        let app = Router::new()
            .route("/api/v10/oauth2/token", post(discord_token))
            .route("/api/v10/users/@me", get(discord_me))
            .route("/api/v10/users/@me/guilds/{guild}/member", get(discord_member))
            .route("/api/v10/guilds/{guild}/roles", get(discord_roles))
            .route("/api/v10/guilds/{guild}", get(discord_guild))
            .fallback(discord_passthrough)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeDiscordOauth { base, state }
    }

    fn api_url(&self) -> String {
        format!("{}/api", self.base)
    }

    /// The member approved the app: the code Discord sends the browser back with.
    fn authorize(&self, id: &str, name: &str, roles: Option<&[&str]>) -> String {
        let code = format!("code-{id}-{}", self.state.codes.lock().unwrap().len());
        let member = DiscordMember { id: id.into(), name: name.into(), roles: roles.map(|r| r.iter().map(|s| s.to_string()).collect()) };
        self.state.codes.lock().unwrap().insert(code.clone(), member);
        code
    }

    fn seen(&self, what: &str) -> usize {
        self.state.seen.lock().unwrap().iter().filter(|s| s.starts_with(what)).count()
    }

    fn settings(&self) -> DiscordOauth {
        DiscordOauth {
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.to_string().into()),
            guild: Some(GUILD.into()),
            moderator_roles: vec![MOD_ROLE.into()],
            authorize_url: format!("{}/oauth2/authorize", self.base),
            api_url: self.api_url(),
        }
    }
}

async fn discord_token(State(s): State<Arc<DiscordState>>, headers: HeaderMap, body: String) -> Response {
    s.seen.lock().unwrap().push("POST token".into());
    if let Some((status, body)) = s.token_answer.lock().unwrap().clone() {
        return (status, body).into_response();
    }
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let f = form(&body);
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") || f.get("redirect_uri") != Some(&s.redirect_uri) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    // A code is good once.
    let Some(member) = f.get("code").and_then(|c| s.codes.lock().unwrap().remove(c)) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let token = format!("access-{}", member.id);
    s.tokens.lock().unwrap().insert(token.clone(), member);
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 604800, "refresh_token": "refresh", "scope": "identify guilds.members.read"}))
        .into_response()
}

fn discord_401() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"message": "401: Unauthorized", "code": 0}))).into_response()
}

async fn discord_me(State(s): State<Arc<DiscordState>>, method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if is_bot(&headers) {
        // The bot's own token check at start.
        return discord_passthrough(State(s), method, uri, headers, body).await;
    }
    s.seen.lock().unwrap().push("GET me".into());
    let Some(m) = s.tokens.lock().unwrap().get(&bearer(&headers)).cloned() else { return discord_401() };
    Json(json!({"id": m.id, "username": m.name, "discriminator": "0", "global_name": "Shown Name", "avatar": null})).into_response()
}

async fn discord_member(State(s): State<Arc<DiscordState>>, Path(guild): Path<String>, headers: HeaderMap) -> Response {
    s.seen.lock().unwrap().push("GET member".into());
    let Some(m) = s.tokens.lock().unwrap().get(&bearer(&headers)).cloned() else { return discord_401() };
    match m.roles.filter(|_| guild == GUILD) {
        Some(roles) => {
            Json(json!({"roles": roles, "nick": null, "joined_at": "2026-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false})).into_response()
        }
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "Unknown Guild", "code": 10004}))).into_response(),
    }
}

fn is_bot(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bot test-token")
}

async fn discord_roles(State(s): State<Arc<DiscordState>>, Path(guild): Path<String>, headers: HeaderMap) -> Response {
    s.seen.lock().unwrap().push("GET roles".into());
    if !is_bot(&headers) || guild != GUILD {
        return discord_401();
    }
    Json(json!([
        {"id": GUILD, "name": "@everyone", "permissions": "1024"},
        {"id": PLAIN_ROLE, "name": "member", "permissions": "3072"},
        {"id": HELPER_ROLE, "name": "helper", "permissions": (MANAGE_MESSAGES | 1024).to_string()},
    ]))
    .into_response()
}

async fn discord_guild(State(s): State<Arc<DiscordState>>, Path(guild): Path<String>, headers: HeaderMap) -> Response {
    s.seen.lock().unwrap().push("GET guild".into());
    if !is_bot(&headers) || guild != GUILD {
        return discord_401();
    }
    Json(json!({"id": GUILD, "name": "Example", "owner_id": *s.owner.lock().unwrap()})).into_response()
}

/// The bot's own calls (its token check, commands, gateway) go on to the fake Discord.
async fn discord_passthrough(State(s): State<Arc<DiscordState>>, method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(upstream) = &s.upstream else { return StatusCode::NOT_FOUND.into_response() };
    let url = format!("{upstream}{}", uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut request = test_client().request(method, url).body(body);
    for name in ["authorization", "content-type", "x-audit-log-reason"] {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v);
        }
    }
    let Ok(answer) = request.send().await else { return StatusCode::BAD_GATEWAY.into_response() };
    let status = answer.status();
    let mut kept = HeaderMap::new();
    for (k, v) in answer.headers() {
        if k.as_str() == "content-type" || k.as_str().starts_with("x-ratelimit") || k.as_str() == "retry-after" {
            kept.insert(k.clone(), v.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, kept, bytes).into_response()
}

// ---- a fake Slack OpenID Connect provider ----

#[derive(Clone)]
struct SlackGrant {
    user: String,
    team: String,
    nonce: String,
}

#[derive(Default)]
struct SlackState {
    redirect_uri: String,
    codes: Mutex<HashMap<String, SlackGrant>>,
    tokens: Mutex<HashMap<String, SlackGrant>>,
    seen: Mutex<Vec<String>>,
    /// openid.connect.token's next answer, instead of a token.
    token_answer: Mutex<Option<Value>>,
}

struct FakeSlackOidc {
    base: String,
    state: Arc<SlackState>,
}

impl FakeSlackOidc {
    async fn start() -> FakeSlackOidc {
        let state = Arc::new(SlackState { redirect_uri: format!("{PUBLIC_URL}/console/auth/slack/callback"), ..Default::default() });
        let app = Router::new()
            .route("/api/openid.connect.token", post(slack_token))
            .route("/api/openid.connect.userInfo", get(slack_user_info).post(slack_user_info))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeSlackOidc { base, state }
    }

    /// The member signed in to Slack: the code Slack sends the browser back with.
    fn authorize(&self, user: &str, team: &str, nonce: &str) -> String {
        let code = format!("slack-code-{user}-{}", self.state.codes.lock().unwrap().len());
        self.state.codes.lock().unwrap().insert(code.clone(), SlackGrant { user: user.into(), team: team.into(), nonce: nonce.into() });
        code
    }

    fn settings(&self) -> SlackOidc {
        SlackOidc {
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.to_string().into()),
            team: Some("T0TEAM".into()),
            authorize_url: format!("{}/openid/connect/authorize", self.base),
            api_url: format!("{}/api", self.base),
        }
    }
}

async fn slack_token(State(s): State<Arc<SlackState>>, body: String) -> Response {
    s.seen.lock().unwrap().push("token".into());
    if let Some(answer) = s.token_answer.lock().unwrap().clone() {
        return Json(answer).into_response();
    }
    let f = form(&body);
    // Slack answers 200 with ok:false, whatever went wrong.
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return Json(json!({"ok": false, "error": "invalid_client_id"})).into_response();
    }
    if f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
        return Json(json!({"ok": false, "error": "bad_client_secret"})).into_response();
    }
    if f.get("redirect_uri") != Some(&s.redirect_uri) {
        return Json(json!({"ok": false, "error": "bad_redirect_uri"})).into_response();
    }
    let Some(grant) = f.get("code").and_then(|c| s.codes.lock().unwrap().remove(c)) else {
        return Json(json!({"ok": false, "error": "invalid_code"})).into_response();
    };
    let claims = json!({
        "iss": "https://slack.com", "sub": grant.user, "aud": CLIENT_ID, "exp": 4102444800u64, "iat": 1700000000, "auth_time": 1700000000,
        "nonce": grant.nonce, "https://slack.com/user_id": grant.user, "https://slack.com/team_id": grant.team, "name": "Mia"
    });
    let id_token = format!("{}.{}.{}", b64(br#"{"alg":"RS256","typ":"JWT","kid":"k"}"#), b64(claims.to_string().as_bytes()), b64(b"signature"));
    let token = format!("xoxp-{}", grant.user);
    s.tokens.lock().unwrap().insert(token.clone(), grant);
    Json(json!({"ok": true, "access_token": token, "token_type": "Bearer", "id_token": id_token})).into_response()
}

async fn slack_user_info(State(s): State<Arc<SlackState>>, headers: HeaderMap, RawQuery(_q): RawQuery) -> Response {
    s.seen.lock().unwrap().push("userInfo".into());
    let Some(g) = s.tokens.lock().unwrap().get(&bearer(&headers)).cloned() else {
        return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    };
    Json(json!({
        "ok": true, "sub": g.user, "https://slack.com/user_id": g.user, "https://slack.com/team_id": g.team,
        "name": "Mia Moderator", "given_name": "Mia", "locale": "en-US"
    }))
    .into_response()
}

// ---- the browser ----

fn test_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

/// What the browser got back.
struct Page {
    status: u16,
    location: String,
    cookies: Vec<String>,
    body: String,
}

impl Page {
    /// The session cookie this answer set, if it set one.
    fn session(&self) -> Option<String> {
        self.cookies.iter().find_map(|c| c.strip_prefix("sb_session=")).map(|c| c.split(';').next().unwrap().to_string()).filter(|v| !v.is_empty())
    }

    fn query(&self) -> HashMap<String, String> {
        let (_, q) = self.location.split_once('?').unwrap_or_else(|| panic!("no query in {:?}", self.location));
        form(q)
    }
}

async fn open(service: &Running, path: &str, cookie: Option<&str>) -> Page {
    let mut request = test_client().get(format!("{}{path}", service.base));
    if let Some(c) = cookie {
        request = request.header("cookie", format!("sb_session={c}"));
    }
    let r = request.send().await.unwrap();
    let header = |name: &str| r.headers().get_all(name).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let (location, cookies) = (header("location").into_iter().next().unwrap_or_default(), header("set-cookie"));
    Page { status: r.status().as_u16(), location, cookies, body: r.text().await.unwrap() }
}

fn callback(provider: &str, code: &str, state: &str) -> String {
    format!("/console/auth/{provider}/callback?code={}&state={}", enc(code), enc(state))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Asserts a refusal: the sign-in page with `said` on it, and no session.
fn assert_refused(page: &Page, status: u16, said: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.body.contains(said), "expected {said:?} on the page: {}", page.body);
    assert!(page.body.contains("Sign in with"), "the sign-in page, with its buttons: {}", page.body);
    assert!(page.session().is_none(), "no session cookie: {:?}", page.cookies);
}

fn web_with(discord: Option<DiscordOauth>, slack: Option<SlackOidc>) -> WebSettings {
    WebSettings { public_url: PUBLIC_URL.into(), signin_per_minute: 100, discord, slack, ..Default::default() }
}

/// Starts a Discord sign-in: the state the browser was sent to Discord with.
async fn begin_discord(service: &Running, fake: &FakeDiscordOauth) -> String {
    let page = open(service, "/console/auth/discord", None).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location.starts_with(&format!("{}/oauth2/authorize?", fake.base)), "{}", page.location);
    page.query()["state"].clone()
}

/// A full Discord sign-in of this member: the callback's answer.
async fn discord_sign_in(service: &Running, fake: &FakeDiscordOauth, id: &str, name: &str, roles: Option<&[&str]>) -> Page {
    let state = begin_discord(service, fake).await;
    let code = fake.authorize(id, name, roles);
    open(service, &callback("discord", &code, &state), None).await
}

#[tokio::test]
async fn a_discord_moderator_signs_in_and_a_replayed_return_is_refused() {
    let fake = FakeDiscordOauth::start(None).await;
    let mut service = run_service(sqlite_db(), |s| s.web = Some(web_with(Some(fake.settings()), None))).await;
    let login = open(&service, "/console/login", None).await;
    assert!(login.body.contains("/console/auth/discord") && !login.body.contains("/console/auth/slack"), "{}", login.body);

    let start = open(&service, "/console/auth/discord", None).await;
    assert_eq!(start.status, 303);
    let q = start.query();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["scope"], "identify guilds.members.read");
    assert_eq!(q["redirect_uri"], format!("{PUBLIC_URL}/console/auth/discord/callback"));
    assert_eq!(q["prompt"], "none");
    assert!(start.location.contains("scope=identify%20guilds.members.read"), "{}", start.location);
    let state = q["state"].clone();
    assert_eq!(state.len(), 43, "256 random bits");

    let code = fake.authorize("400", "mia", Some(&[PLAIN_ROLE, MOD_ROLE]));
    let back = open(&service, &callback("discord", &code, &state), None).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.location, "/console");
    let set = back.cookies.iter().find(|c| c.starts_with("sb_session=")).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/console"), "{set}");
    assert!(!set.contains("Secure"), "plain http: no Secure flag");
    let session = back.session().unwrap();
    assert!(!back.body.contains(&code) && !set.contains(&code));

    let queue = open(&service, "/console", Some(&session)).await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("mia") && queue.body.contains("discord"), "signed in as mia: {}", queue.body);
    assert_eq!(open(&service, "/console", None).await.location, "/console/login", "no cookie, no console");

    // The same return again (a reload, or someone replaying it): the state is spent.
    let tokens_before = fake.seen("POST token");
    let again = open(&service, &callback("discord", &code, &state), None).await;
    assert_refused(&again, 403, "expired or was already used");
    assert_eq!(fake.seen("POST token"), tokens_before, "a spent state goes no further");
    service.shutdown().await;
}

#[tokio::test]
async fn discord_members_who_are_not_moderators_are_refused() {
    let fake = FakeDiscordOauth::start(None).await;
    let mut service = run_service(sqlite_db(), |s| s.web = Some(web_with(Some(fake.settings()), None))).await;
    let page = discord_sign_in(&service, &fake, "401", "ann", Some(&[PLAIN_ROLE])).await;
    assert_refused(&page, 403, "is not one of this server");
    let page = discord_sign_in(&service, &fake, "402", "bob", Some(&[])).await;
    assert_refused(&page, 403, "is not one of this server");
    let page = discord_sign_in(&service, &fake, "403", "cat", None).await;
    assert_refused(&page, 403, "not a member of this community");
    // Without a bot token there is nothing more to ask Discord.
    assert_eq!(fake.seen("GET roles") + fake.seen("GET guild"), 0);
    service.shutdown().await;
}

#[tokio::test]
async fn forged_foreign_and_declined_returns_are_refused() {
    let (discord, slack) = (FakeDiscordOauth::start(None).await, FakeSlackOidc::start().await);
    let mut service = run_service(sqlite_db(), |s| s.web = Some(web_with(Some(discord.settings()), Some(slack.settings())))).await;
    // A state nobody made.
    let code = discord.authorize("400", "mia", Some(&[MOD_ROLE]));
    let forged = open(&service, &callback("discord", &code, "forged-state-forged-state-forged-state-abc"), None).await;
    assert_refused(&forged, 403, "expired or was already used");
    let none = open(&service, &format!("/console/auth/discord/callback?code={code}"), None).await;
    assert_refused(&none, 403, "expired or was already used");
    // A state made for Slack is not Discord's.
    let slack_start = open(&service, "/console/auth/slack", None).await;
    let slack_state = slack_start.query()["state"].clone();
    let foreign = open(&service, &callback("discord", &code, &slack_state), None).await;
    assert_refused(&foreign, 403, "expired or was already used");
    assert_eq!(discord.seen("POST token"), 0, "no code was exchanged");
    // The member said no at Discord.
    let state = begin_discord(&service, &discord).await;
    let declined = open(&service, &format!("/console/auth/discord/callback?error=access_denied&error_description=denied&state={state}"), None).await;
    assert_refused(&declined, 403, "sign-in was cancelled");
    // That state was spent with the refusal: the code it might still come with is not exchanged.
    let late = open(&service, &callback("discord", &code, &state), None).await;
    assert_refused(&late, 403, "expired or was already used");
    assert_eq!(discord.seen("POST token"), 0);
    service.shutdown().await;
}

#[tokio::test]
async fn a_failing_discord_token_endpoint_is_a_clear_page() {
    let fake = FakeDiscordOauth::start(None).await;
    let mut service = run_service(sqlite_db(), |s| s.web = Some(web_with(Some(fake.settings()), None))).await;
    *fake.state.token_answer.lock().unwrap() = Some((StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>".into()));
    let page = discord_sign_in(&service, &fake, "400", "mia", Some(&[MOD_ROLE])).await;
    assert_refused(&page, 502, "Discord did not answer the sign-in as expected");
    *fake.state.token_answer.lock().unwrap() = Some((StatusCode::OK, "{\"access_token\": 12".into()));
    let page = discord_sign_in(&service, &fake, "400", "mia", Some(&[MOD_ROLE])).await;
    assert_refused(&page, 502, "Discord did not answer the sign-in as expected");
    *fake.state.token_answer.lock().unwrap() = Some((StatusCode::BAD_REQUEST, "{\"error\": \"invalid_grant\"}".into()));
    let page = discord_sign_in(&service, &fake, "400", "mia", Some(&[MOD_ROLE])).await;
    assert_refused(&page, 502, "Discord did not accept this sign-in");
    // Discord answering again, the next try works: nothing was left broken.
    *fake.state.token_answer.lock().unwrap() = None;
    let page = discord_sign_in(&service, &fake, "400", "mia", Some(&[MOD_ROLE])).await;
    assert_eq!((page.status, page.location.as_str()), (303, "/console"), "{}", page.body);
    assert!(!page.body.contains(CLIENT_SECRET));
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_bot_token_manage_messages_and_the_owner_make_moderators() {
    let bot_side = FakeDiscord::start().await;
    let fake = FakeDiscordOauth::start(Some(&bot_side)).await;
    *fake.state.owner.lock().unwrap() = "499".into();
    let mut discord = crate::discord::discord_settings(&bot_side);
    discord.api_url = fake.api_url();
    discord.guilds = vec![GUILD.into()];
    let mut oauth = fake.settings();
    (oauth.guild, oauth.moderator_roles) = (None, Vec::new()); // [discord]'s guild, and its (no) roles
    let mut service = run_service(sqlite_db(), |s| {
        s.discord = Some(discord);
        s.web = Some(web_with(Some(oauth), None));
    })
    .await;
    let helper = discord_sign_in(&service, &fake, "410", "hal", Some(&[HELPER_ROLE])).await;
    assert_eq!((helper.status, helper.location.as_str()), (303, "/console"), "Manage Messages: {}", helper.body);
    let owner = discord_sign_in(&service, &fake, "499", "olga", Some(&[])).await;
    assert_eq!((owner.status, owner.location.as_str()), (303, "/console"), "the server's owner: {}", owner.body);
    let member = discord_sign_in(&service, &fake, "411", "ann", Some(&[PLAIN_ROLE])).await;
    assert_refused(&member, 403, "is not one of this server");
    assert!(fake.seen("GET roles") >= 3, "the roles were read with the bot's token");
    let queue = open(&service, "/console", helper.session().as_deref()).await;
    assert!(queue.status == 200 && queue.body.contains("hal"), "{}", queue.body);
    service.shutdown().await;
}

// ---- Slack ----

async fn run_with_slack(oidc: &FakeSlackOidc, chat: &FakeSlack) -> Running {
    run_with_slack_on(sqlite_db(), oidc, chat, &["U0MIA"]).await
}

/// The service on `db`, with `moderators` as `[slack] moderators`.
async fn run_with_slack_on(db: TestDb, oidc: &FakeSlackOidc, chat: &FakeSlack, moderators: &[&str]) -> Running {
    let mut slack = crate::slack::slack_settings(chat, SlackMode::Http);
    slack.moderators = moderators.iter().map(|m| m.to_string()).collect();
    let web = web_with(None, Some(oidc.settings()));
    run_service(db, |s| {
        s.slack = Some(slack);
        s.web = Some(web);
    })
    .await
}

/// A full Slack sign-in of `user` in `team`: the callback's answer.
async fn slack_sign_in(service: &Running, fake: &FakeSlackOidc, user: &str, team: &str) -> Page {
    let start = open(service, "/console/auth/slack", None).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let q = start.query();
    let code = fake.authorize(user, team, &q["nonce"]);
    open(service, &callback("slack", &code, &q["state"]), None).await
}

#[tokio::test]
async fn a_slack_moderator_signs_in_and_others_are_refused() {
    let (oidc, chat) = (FakeSlackOidc::start().await, FakeSlack::start().await);
    let mut service = run_with_slack(&oidc, &chat).await;
    let start = open(&service, "/console/auth/slack", None).await;
    assert_eq!(start.status, 303);
    assert!(start.location.starts_with(&format!("{}/openid/connect/authorize?", oidc.base)), "{}", start.location);
    assert!(start.location.contains("scope=openid%20profile"), "{}", start.location);
    let q = start.query();
    assert_eq!((q["response_type"].as_str(), q["client_id"].as_str(), q["team"].as_str()), ("code", CLIENT_ID, "T0TEAM"));
    assert_eq!(q["redirect_uri"], format!("{PUBLIC_URL}/console/auth/slack/callback"));
    assert!(q["nonce"].len() >= 32 && q["nonce"] != q["state"]);

    let code = oidc.authorize("U0MIA", "T0TEAM", &q["nonce"]);
    let back = open(&service, &callback("slack", &code, &q["state"]), None).await;
    assert_eq!((back.status, back.location.as_str()), (303, "/console"), "{}", back.body);
    let set = back.cookies.iter().find(|c| c.starts_with("sb_session=")).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let queue = open(&service, "/console", back.session().as_deref()).await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("U0MIA") && queue.body.contains("slack"), "named by the Slack id: {}", queue.body);
    let replayed = open(&service, &callback("slack", &code, &q["state"]), None).await;
    assert_refused(&replayed, 403, "expired or was already used");

    let other = slack_sign_in(&service, &oidc, "U0ANN", "T0TEAM").await;
    assert_refused(&other, 403, "is not one of this community");
    let elsewhere = slack_sign_in(&service, &oidc, "U0MIA", "T0OTHER").await;
    assert_refused(&elsewhere, 403, "another Slack workspace");
    service.shutdown().await;
}

#[tokio::test]
async fn slack_failures_and_foreign_id_tokens_are_refused() {
    let (oidc, chat) = (FakeSlackOidc::start().await, FakeSlack::start().await);
    let mut service = run_with_slack(&oidc, &chat).await;
    // Slack's ok:false.
    *oidc.state.token_answer.lock().unwrap() = Some(json!({"ok": false, "error": "invalid_code"}));
    assert_refused(&slack_sign_in(&service, &oidc, "U0MIA", "T0TEAM").await, 502, "the code was used or expired");
    // Something that is not Slack's answer at all.
    *oidc.state.token_answer.lock().unwrap() = Some(json!({"ok": true, "access_token": 5}));
    assert_refused(&slack_sign_in(&service, &oidc, "U0MIA", "T0TEAM").await, 502, "Slack did not answer the sign-in as expected");
    *oidc.state.token_answer.lock().unwrap() = None;
    // An ID token minted for another sign-in (its nonce is not this one's).
    let start = open(&service, "/console/auth/slack", None).await;
    let code = oidc.authorize("U0MIA", "T0TEAM", "some-other-nonce");
    let page = open(&service, &callback("slack", &code, &start.query()["state"]), None).await;
    assert_refused(&page, 502, "was not for this sign-in");
    assert_eq!(oidc.state.seen.lock().unwrap().iter().filter(|s| *s == "userInfo").count(), 0, "nothing asked with a foreign token");
    // A forged state.
    let code = oidc.authorize("U0MIA", "T0TEAM", "n");
    assert_refused(&open(&service, &callback("slack", &code, "made-up"), None).await, 403, "expired or was already used");
    service.shutdown().await;
}

#[tokio::test]
async fn a_slack_moderator_taken_off_the_list_is_refused_with_the_session_they_had() {
    let (oidc, chat) = (FakeSlackOidc::start().await, FakeSlack::start().await);
    let db = sqlite_db();
    let mut service = run_with_slack_on(db.shared(), &oidc, &chat, &["U0MIA", "U0ANN"]).await;
    let (mia, ann) = (slack_sign_in(&service, &oidc, "U0MIA", "T0TEAM").await, slack_sign_in(&service, &oidc, "U0ANN", "T0TEAM").await);
    let (mia, ann) = (mia.session().unwrap(), ann.session().unwrap());
    assert_eq!(open(&service, "/console", Some(&ann)).await.status, 200);
    service.shutdown().await;

    // The operator takes U0ANN off `[slack] moderators` and restarts: her cookie, still live
    // in the database, no longer opens anything; U0MIA's still does.
    let mut service = run_with_slack_on(db.shared(), &oidc, &chat, &["U0MIA"]).await;
    let refused = open(&service, "/console", Some(&ann)).await;
    assert_eq!((refused.status, refused.location.as_str()), (303, "/console/login"), "{}", refused.body);
    assert_eq!(open(&service, "/console/faq", Some(&ann)).await.status, 303);
    assert_eq!(open(&service, "/console", Some(&mia)).await.status, 200);
    let again = slack_sign_in(&service, &oidc, "U0ANN", "T0TEAM").await;
    assert_refused(&again, 403, "is not one of this community");
    service.shutdown().await;
}
