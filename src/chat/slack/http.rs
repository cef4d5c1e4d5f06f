//! The Events API over HTTP: `/slack/events`, `/slack/commands`, `/slack/interactions`.
//! Every request must carry a valid `X-Slack-Signature` from the last five minutes; events are
//! recorded before the 200, and handled after it.

use super::SlackRuntime;
use super::events::{map_command, map_interaction, map_push_event};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use chrono::Utc;
use slack_morphism::prelude::*;
use slack_morphism::signature_verifier::SlackEventSignatureVerifier;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
struct HttpState {
    runtime: Arc<SlackRuntime>,
    verifier: Arc<SlackEventSignatureVerifier>,
}

pub fn routes(runtime: Arc<SlackRuntime>, signing_secret: &str) -> Router {
    let verifier = Arc::new(SlackEventSignatureVerifier::new(&SlackSigningSecret::new(signing_secret.into())));
    Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .with_state(HttpState { runtime, verifier })
}

/// A refusal: the status and a short reason (never echoing the request).
type Rejection = (StatusCode, &'static str);

fn reject(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

/// The body as text, if its signature and timestamp check out.
fn verified<'a>(state: &HttpState, headers: &HeaderMap, body: &'a Bytes) -> Result<&'a str, Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let text = std::str::from_utf8(body).map_err(|_| (StatusCode::BAD_REQUEST, "body is not UTF-8"))?;
    state
        .verifier
        .verify(header(SlackEventSignatureVerifier::SLACK_SIGNED_HASH_HEADER), text, header(SlackEventSignatureVerifier::SLACK_SIGNED_TIMESTAMP))
        .map_err(|e| {
            tracing::warn!(error = %crate::telemetry::chain(&e), "rejected a Slack request with a bad or stale signature");
            (StatusCode::UNAUTHORIZED, "invalid signature")
        })?;
    Ok(text)
}

/// Records the event; 200 once it is safely stored, 500 (Slack retries) if the store failed.
async fn accept(state: &HttpState, incoming: Option<crate::domain::message::Incoming>) -> Response {
    let Some(incoming) = incoming else { return StatusCode::OK.into_response() };
    match state.runtime.accept(incoming).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "could not record a Slack event; Slack will retry");
            reject(StatusCode::INTERNAL_SERVER_ERROR, "not recorded")
        }
    }
}

async fn events(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let text = match verified(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let event: SlackPushEvent = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "malformed Slack event");
            return reject(StatusCode::BAD_REQUEST, "malformed event");
        }
    };
    match event {
        SlackPushEvent::UrlVerification(v) => Json(serde_json::json!({ "challenge": v.challenge })).into_response(),
        SlackPushEvent::EventCallback(cb) => {
            let incoming = map_push_event(&cb, &state.runtime.ctx, Utc::now());
            accept(&state, incoming).await
        }
        SlackPushEvent::AppRateLimited(r) => {
            tracing::warn!(minute = ?r.minute_rate_limited, "Slack is rate-limiting events to this app");
            StatusCode::OK.into_response()
        }
    }
}

fn form(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

async fn commands(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let text = match verified(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let f = form(text);
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let Ok(response_url) = url::Url::parse(&field("response_url")) else {
        return reject(StatusCode::BAD_REQUEST, "malformed command");
    };
    if field("trigger_id").is_empty() || field("user_id").is_empty() {
        return reject(StatusCode::BAD_REQUEST, "malformed command");
    }
    let cmd = SlackCommandEvent::new(
        field("team_id").into(),
        field("channel_id").into(),
        field("user_id").into(),
        field("command").into(),
        response_url.into(),
        field("trigger_id").into(),
    )
    .opt_text(f.get("text").cloned());
    accept(&state, Some(map_command(&cmd, &state.runtime.ctx, Utc::now()))).await
}

async fn interactions(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let text = match verified(&state, &headers, &body) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let payload = form(text).remove("payload").unwrap_or_default();
    let event: SlackInteractionEvent = match serde_json::from_str(&payload) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "malformed Slack interaction");
            return reject(StatusCode::BAD_REQUEST, "malformed interaction");
        }
    };
    let incoming = map_interaction(&event, &state.runtime.ctx, Utc::now());
    accept(&state, incoming).await
}
