//! Signing in without an OAuth app: a one-time link from the chat (`console`) or the
//! operator (`supportbot web link`). The link's page asks for one click: chat apps fetch
//! links to preview them, and a preview must not spend the link.

use super::Console;
use super::security::{PeerAddr, client_key};
use super::session::{self, Moderator};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ErrorQuery {
    #[serde(default)]
    error: Option<String>,
}

/// The sign-in page: the platforms' buttons (those configured) and how to get a link.
pub async fn login_page(State(console): State<Arc<Console>>, Query(q): Query<ErrorQuery>) -> Response {
    login_with(&console, q.error.as_deref(), StatusCode::OK)
}

/// The sign-in page with a problem said on it.
pub fn login_with(console: &Console, error: Option<&str>, status: StatusCode) -> Response {
    let mut r = console.pages.render(
        "login.html",
        context! { error => error, discord => console.discord.is_some(), slack => console.slack.is_some(), signed_in => false },
    );
    *r.status_mut() = status;
    r
}

/// A link opened: one button that spends it.
pub async fn link_page(State(console): State<Arc<Console>>, Query(q): Query<LinkQuery>) -> Response {
    console.pages.render("link.html", context! { token => q.token, signed_in => false })
}

/// The link's button: signs in once, if the link is live and the client is not over its limit.
pub async fn spend_link(State(console): State<Arc<Console>>, PeerAddr(peer): PeerAddr, headers: HeaderMap, Form(q): Form<LinkQuery>) -> Response {
    let client = client_key(&headers, peer, console.settings.behind_proxy);
    if !console.limiter.allow(&client, console.now()) {
        tracing::warn!(client = %client, "console sign-in attempts over the limit");
        return login_with(&console, Some("Too many sign-in attempts from here: wait a minute and try again."), StatusCode::TOO_MANY_REQUESTS);
    }
    match console.bot.spend_sign_in_link(&super::token::hash(q.token.trim()), console.now()).await {
        Ok(Some(user)) if console.moderators.allows(&user) => session::start(&console, user, "link").await,
        Ok(_) => login_with(
            &console,
            Some("This sign-in link was used already, has expired or is not a moderator's. Type `console` in the chat for a new one."),
            StatusCode::FORBIDDEN,
        ),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "spending a sign-in link failed");
            login_with(&console, Some("The database is not answering; try again in a moment."), StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session here and in the database.
pub async fn logout(State(console): State<Arc<Console>>, who: Moderator, Form(f): Form<CsrfForm>) -> Response {
    if let Err(refused) = who.check_csrf(&f.csrf) {
        return refused;
    }
    if let Err(e) = console.bot.end_web_session(&who.token_hash).await {
        tracing::error!(error = %crate::telemetry::chain(&e), "ending a console session failed");
    }
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, session::set_cookie(&console, session::COOKIE, "", 0));
    r
}
