//! Sessions: a random token in an `HttpOnly` cookie, its hash in `web_sessions`. A request
//! is a moderator's when its session is live and its user still passes the moderator rule;
//! every form carries the session's CSRF token.

use super::Console;
use super::token;
use crate::store::{WebSession, WebUser};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

pub const COOKIE: &str = "sb_session";
/// A one-line outcome of the last action, shown once on the next page.
pub const FLASH: &str = "sb_flash";

/// A signed-in moderator.
#[derive(Debug, Clone)]
pub struct Moderator {
    pub user: WebUser,
    pub csrf: String,
    pub token_hash: String,
}

/// The value of cookie `name`, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` for the console's path: `HttpOnly`, `SameSite=Lax` (a link from the chat
/// app still arrives signed in; forms need the CSRF token), `Secure` behind TLS.
pub fn set_cookie(console: &Console, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if console.settings.secure_cookies() { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("sb_invalid=; Max-Age=0"))
}

impl FromRequestParts<Arc<Console>> for Moderator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        let to_sign_in = || Redirect::to("/console/login").into_response();
        let Some(token) = cookie(&parts.headers, COOKIE) else { return Err(to_sign_in()) };
        let token_hash = token::hash(&token);
        let session = match console.bot.web_session(&token_hash, console.now()).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_sign_in()),
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "reading a console session failed");
                return Err((StatusCode::SERVICE_UNAVAILABLE, "the database is not answering; try again in a moment").into_response());
            }
        };
        if !console.moderators.allows(&session.user) {
            tracing::info!(platform = %session.user.platform, user = %session.user.user_id, "console session of a non-moderator refused");
            return Err(to_sign_in());
        }
        Ok(Moderator { user: session.user, csrf: session.csrf, token_hash })
    }
}

impl Moderator {
    /// Refuses a form without this session's CSRF token.
    pub fn check_csrf(&self, given: &str) -> Result<(), Response> {
        if token::same(given, &self.csrf) {
            Ok(())
        } else {
            tracing::info!(user = %self.user.user_id, "console form without a valid CSRF token refused");
            Err((StatusCode::FORBIDDEN, "this form is stale or forged (no valid CSRF token): reload the page and try again").into_response())
        }
    }
}

/// Signs `user` in (they passed a sign-in: a link, Discord, Slack) and sends them to the queue.
pub async fn start(console: &Console, user: WebUser, via: &str) -> Response {
    let now = console.now();
    let ttl = chrono::Duration::from_std(console.settings.session_ttl).unwrap_or(chrono::Duration::hours(12));
    let (token, csrf) = (token::new_token(), token::new_token());
    let session = WebSession { user, csrf, via: via.to_string(), expires_at: now + ttl };
    if let Err(e) = console.bot.start_web_session(&token::hash(&token), &session, now).await {
        tracing::error!(error = %crate::telemetry::chain(&e), "starting a console session failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "the database is not answering; try again in a moment").into_response();
    }
    tracing::info!(platform = %session.user.platform, user = %session.user.user_id, via, "signed in to the console");
    let mut response = Redirect::to("/console").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(console, COOKIE, &token, ttl.num_seconds()));
    response
}
