//! Sign in with Discord (OAuth2, `discord`) and with Slack (OpenID Connect, `slack`).
//!
//! Both go the same way: `/console/auth/{provider}` makes a one-time state (its hash kept ten
//! minutes) and sends the browser to the provider; the provider sends it back to
//! `/console/auth/{provider}/callback` with a code, which is spent once with the state, exchanged
//! for the member's identity, and checked against the moderator rule. Tokens, codes and client
//! secrets are never logged; every upstream call times out, and any answer that is not what the
//! provider documents is a failed sign-in said in one sentence, never a panic.

mod discord;
mod slack;

pub use discord::DiscordSignIn;
pub use slack::SlackSignIn;

use super::Console;
use super::security::{PeerAddr, client_key};
use super::signin::login_with;
use super::token;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// How long the provider has to send the browser back.
const STATE_TTL_MINUTES: i64 = 10;
/// How long any one call to a provider may take.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/auth/discord", get(discord::begin))
        .route("/console/auth/discord/callback", get(discord::callback))
        .route("/console/auth/slack", get(slack::begin))
        .route("/console/auth/slack/callback", get(slack::callback))
}

/// What a provider sends the browser back with.
#[derive(Debug, Default)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

impl Callback {
    /// Read leniently: whatever else the provider adds (Slack's `team`, Discord's `guild_id`)
    /// is ignored, and of a repeated parameter the first counts.
    fn parse(query: Option<&str>) -> Callback {
        let mut c = Callback::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match k.as_ref() {
                "code" => &mut c.code,
                "state" => &mut c.state,
                "error" => &mut c.error,
                _ => continue,
            };
            slot.get_or_insert_with(|| v.into_owned());
        }
        c
    }
}

/// Why a sign-in did not happen: said on the sign-in page, with its status.
#[derive(Debug)]
pub(super) enum Refused {
    /// The member, the state or the moderator rule: 403.
    Forbidden(String),
    /// The provider failed or answered what it should not: 502.
    Upstream(String),
    /// Our own database: 503.
    Unavailable,
}

impl Refused {
    fn forbidden(text: impl Into<String>) -> Refused {
        Refused::Forbidden(text.into())
    }

    fn upstream(text: impl Into<String>) -> Refused {
        Refused::Upstream(text.into())
    }

    fn page(self, console: &Console) -> Response {
        match self {
            Refused::Forbidden(text) => login_with(console, Some(&text), StatusCode::FORBIDDEN),
            Refused::Upstream(text) => login_with(console, Some(&text), StatusCode::BAD_GATEWAY),
            Refused::Unavailable => {
                login_with(console, Some("The database is not answering; try again in a moment."), StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

/// The HTTP client a provider is called with: built once, no redirects followed (a provider
/// answering one is answering wrong), every call bounded.
fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(UPSTREAM_TIMEOUT)
        .connect_timeout(UPSTREAM_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("supportbot/", env!("CARGO_PKG_VERSION"), " (web console sign-in)"))
        .build()
        .map_err(|e| anyhow::anyhow!("the web console's sign-in HTTP client could not be built: {e}"))
}

/// Counts a sign-in attempt against the client's limit.
fn within_limit(console: &Console, headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> Result<(), Response> {
    let client = client_key(headers, peer, console.settings.behind_proxy);
    if console.limiter.allow(&client, console.now()) {
        return Ok(());
    }
    tracing::warn!(client = %client, "console sign-in attempts over the limit");
    Err(login_with(console, Some("Too many sign-in attempts from here: wait a minute and try again."), StatusCode::TOO_MANY_REQUESTS))
}

/// The start of a sign-in: the limit counted, a fresh state kept for `provider`.
async fn new_state(console: &Console, provider: &str, headers: &HeaderMap, PeerAddr(peer): PeerAddr) -> Result<String, Response> {
    within_limit(console, headers, peer)?;
    let state = token::new_token();
    let now = console.now();
    if let Err(e) = console.bot.keep_oauth_state(&token::hash(&state), provider, now, chrono::Duration::minutes(STATE_TTL_MINUTES)).await {
        tracing::error!(error = %crate::telemetry::chain(&e), provider, "keeping an OAuth state failed");
        return Err(Refused::Unavailable.page(console));
    }
    Ok(state)
}

/// The return from the provider: the limit counted, the state spent (once, for this provider),
/// the provider's refusal said; the code and the state when all is well.
async fn spend_state(
    console: &Console,
    provider: &str,
    name: &str,
    headers: &HeaderMap,
    PeerAddr(peer): PeerAddr,
    q: Callback,
) -> Result<(String, String), Response> {
    within_limit(console, headers, peer)?;
    let state = q.state.unwrap_or_default();
    let live = if state.is_empty() {
        false
    } else {
        match console.bot.spend_oauth_state(&token::hash(&state), provider, console.now()).await {
            Ok(live) => live,
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), provider, "spending an OAuth state failed");
                return Err(Refused::Unavailable.page(console));
            }
        }
    };
    if let Some(error) = q.error {
        // The provider's error codes are short words (access_denied, invalid_scope, ...).
        let error: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        tracing::info!(provider, error = %error, "the provider did not sign the member in");
        let text = if error == "access_denied" {
            format!("{name} sign-in was cancelled, so you are not signed in.")
        } else {
            format!("{name} did not sign you in ({error}): try again, and tell the operator if it keeps failing.")
        };
        return Err(Refused::Forbidden(text).page(console));
    }
    if !live {
        tracing::info!(provider, "an OAuth return with an unknown, spent or expired state refused");
        return Err(Refused::forbidden("This sign-in attempt has expired or was already used: start again from this page.").page(console));
    }
    match q.code.filter(|c| !c.trim().is_empty()) {
        Some(code) => Ok((code, state)),
        None => Err(Refused::upstream(format!("{name} sent you back without an authorization code: start again from this page.")).page(console)),
    }
}

/// How a call to a provider failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallFailure {
    /// Not reached, or no answer in time.
    Unreachable,
    /// Answered with this HTTP status (4xx or 5xx).
    Status(u16),
    /// Answered 2xx with a body that is not the JSON documented.
    Malformed,
}

/// Sends `request` (one step, `what`, of `provider`'s sign-in) and reads its JSON answer.
/// Failures are logged without the request's credentials (they are in headers and bodies,
/// never in the address).
async fn call<T: DeserializeOwned>(provider: &str, what: &str, request: reqwest::RequestBuilder) -> Result<T, CallFailure> {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() { "timed out" } else { "not reached" };
            tracing::warn!(provider, step = what, error = %e.without_url(), "the sign-in provider was {why}");
            return Err(CallFailure::Unreachable);
        }
    };
    let status = response.status();
    if !status.is_success() {
        tracing::warn!(provider, step = what, status = status.as_u16(), "the sign-in provider answered with an error");
        return Err(CallFailure::Status(status.as_u16()));
    }
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(provider, step = what, error = %e.without_url(), "the sign-in provider's answer was cut off");
            return Err(CallFailure::Unreachable);
        }
    };
    serde_json::from_slice(&body).map_err(|e| {
        // serde's message names the field and position, never the values.
        tracing::warn!(provider, step = what, error = %e, "the sign-in provider's answer is not what it documents");
        CallFailure::Malformed
    })
}

/// A query parameter's value.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `base` with `query` (already encoded) appended.
fn with_query(base: &str, query: &str) -> String {
    let joiner = if base.contains('?') { '&' } else { '?' };
    format!("{base}{joiner}{query}")
}

/// Where `provider` sends the browser back: registered with the provider as the redirect URL.
fn callback_url(console: &Console, provider: &str) -> String {
    format!("{}/console/auth/{provider}/callback", console.settings.base())
}

/// The sign-in page, when this provider's sign-in is not configured.
fn not_set_up(console: &Console, name: &str) -> Response {
    login_with(console, Some(&format!("Sign-in with {name} is not set up here.")), StatusCode::NOT_FOUND)
}

/// Sends the browser to the provider.
fn to_provider(url: String) -> Response {
    Redirect::to(&url).into_response()
}

/// A required secret, trimmed; an error naming the setting when it is missing.
fn required_secret(secret: Option<&secrecy::SecretString>, setting: &str, where_found: &str) -> anyhow::Result<secrecy::SecretString> {
    use secrecy::ExposeSecret;
    match secret.map(|s| s.expose_secret().trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) => Ok(s.into()),
        None => anyhow::bail!("{setting} is missing: sign-in cannot work without it ({where_found})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_appended_and_values_encoded() {
        assert_eq!(with_query("https://a.example/authorize", "x=1"), "https://a.example/authorize?x=1");
        assert_eq!(with_query("https://a.example/authorize?tenant=t", "x=1"), "https://a.example/authorize?tenant=t&x=1");
        assert_eq!(encode("http://h:1/console/auth/discord/callback"), "http%3A%2F%2Fh%3A1%2Fconsole%2Fauth%2Fdiscord%2Fcallback");
    }

    #[test]
    fn a_return_is_read_leniently() {
        let c = Callback::parse(Some("code=a%2Bb&state=s&state=t&guild_id=1"));
        assert_eq!((c.code.as_deref(), c.state.as_deref(), c.error.as_deref()), (Some("a+b"), Some("s"), None));
        let c = Callback::parse(Some("error=access_denied&error_description=The+resource+owner+denied"));
        assert_eq!(c.error.as_deref(), Some("access_denied"));
        assert!(Callback::parse(None).code.is_none());
    }

    #[test]
    fn a_missing_or_blank_secret_is_named() {
        let blank: secrecy::SecretString = "  ".to_string().into();
        let e = required_secret(Some(&blank), "[web.discord] client_secret", "there").unwrap_err().to_string();
        assert!(e.contains("[web.discord] client_secret is missing"), "{e}");
        assert!(required_secret(None, "x", "y").is_err());
        let set: secrecy::SecretString = "s3cret".to_string().into();
        assert!(required_secret(Some(&set), "x", "y").is_ok());
    }
}
