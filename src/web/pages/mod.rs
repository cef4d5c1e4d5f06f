//! The console's pages and forms: the queue, a ticket, search, the FAQ and the digest.

mod digest;
mod faq;
mod queue;
mod search;
mod ticket;

use super::session::{self, FLASH, Moderator};
use super::{Console, oauth, security, signin};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use std::sync::Arc;

pub fn router(console: Arc<Console>) -> Router {
    let origin = security::origin_of(&console.settings.public_url);
    Router::new()
        .route("/console", get(queue::page))
        .route("/console/login", get(signin::login_page))
        .route("/console/auth/link", get(signin::link_page).post(signin::spend_link))
        .route("/console/logout", post(signin::logout))
        .route("/console/tickets/{id}", get(ticket::page).post(ticket::act))
        .route("/console/search", get(search::page))
        .route("/console/faq", get(faq::list).post(faq::add))
        .route("/console/faq/{id}", get(faq::entry).post(faq::change))
        .route("/console/digest", get(digest::page))
        .route("/console/digest/chart.png", get(digest::chart))
        .route("/console/static/style.css", get(style))
        .merge(oauth::routes())
        .layer(axum::middleware::from_fn(move |req, next| security::guard(origin.clone(), req, next)))
        .with_state(console)
}

async fn style(axum::extract::State(console): axum::extract::State<Arc<Console>>) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], console.pages.style.clone()).into_response()
}

/// What every signed-in page shows: who is signed in, the CSRF token for its forms, a fresh
/// form id (a form sent twice acts once), and the last action's outcome.
fn frame(who: &Moderator, headers: &HeaderMap, section: &str) -> Value {
    context! {
        signed_in => true,
        me => who.user.user_name,
        my_platform => who.user.platform,
        csrf => who.csrf,
        form_id => super::token::new_token(),
        flash => session::cookie(headers, FLASH).map(|f| decode_flash(&f)),
        section => section,
    }
}

/// A page, with the flash cookie spent.
fn render(console: &Console, name: &str, ctx: Value) -> Response {
    let mut r = console.pages.render(name, ctx);
    r.headers_mut().append(header::SET_COOKIE, session::set_cookie(console, FLASH, "", 0));
    r
}

/// After a form: back to `to`, with `said` shown once there.
fn done(console: &Console, to: &str, said: &str) -> Response {
    let text: String = said.chars().take(600).collect();
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(header::SET_COOKIE, session::set_cookie(console, FLASH, &encode_flash(&text), 60));
    r
}

fn encode_flash(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn decode_flash(cookie: &str) -> String {
    url::form_urlencoded::parse(format!("f={cookie}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The database failed a page: said plainly, the cause logged.
fn unavailable(console: &Console, e: &crate::bot::BotError) -> Response {
    tracing::error!(error = %crate::telemetry::chain(e), "a console page could not read the database");
    console.pages.error(StatusCode::SERVICE_UNAVAILABLE, "The database is not answering; try again in a moment.")
}

/// "3 d 4 h", "2 h 5 min", "12 min": how long something has waited.
pub fn waited(d: chrono::Duration) -> String {
    let m = d.num_minutes().max(0);
    match (m / 1440, m / 60 % 24, m % 60) {
        (0, 0, min) => format!("{min} min"),
        (0, h, min) => format!("{h} h {min} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A time as the pages show it.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A form field that must be one line.
fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flashes_survive_their_cookie_and_spans_read_well() {
        let text = "Ticket #3 resolved by alice; \"quoted\" = <b>";
        assert_eq!(decode_flash(&encode_flash(text)), text);
        assert!(!encode_flash(text).contains(';'));
        assert_eq!(waited(chrono::Duration::minutes(12)), "12 min");
        assert_eq!(waited(chrono::Duration::minutes(125)), "2 h 5 min");
        assert_eq!(waited(chrono::Duration::minutes(3 * 1440 + 250)), "3 d 4 h");
    }
}
