//! `POST /github/webhook`: GitHub's deliveries, verified with the webhook secret
//! (`X-Hub-Signature-256`), of which `issues` closed and reopened reach the core.

use crate::bot::Bot;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::sync::Arc;

#[derive(Clone)]
struct Hook {
    bot: Arc<Bot>,
    secret: Arc<str>,
}

pub fn routes(bot: Arc<Bot>, secret: &str) -> Router {
    Router::new().route("/github/webhook", post(deliver)).with_state(Hook { bot, secret: secret.into() })
}

/// Whether `signature` (`sha256=` and the hex HMAC-SHA256 of the body) is the secret's.
/// Compared in constant time by `hmac`.
pub fn signed_by(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex_digest) = signature.trim().strip_prefix("sha256=") else { return false };
    let Ok(digest) = hex::decode(hex_digest) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

/// The parts of an `issues` delivery that matter here.
#[derive(Deserialize)]
struct IssuesEvent {
    action: String,
    issue: Issue,
    repository: Repository,
}

#[derive(Deserialize)]
struct Issue {
    number: i64,
    state_reason: Option<String>,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

async fn deliver(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !signed_by(&hook.secret, &body, header("x-hub-signature-256")) {
        tracing::warn!(delivery = header("x-github-delivery"), "rejected a GitHub delivery with a bad or missing signature");
        return (StatusCode::UNAUTHORIZED, "invalid signature");
    }
    match header("x-github-event") {
        "ping" => return (StatusCode::OK, "pong"),
        "issues" => {}
        _ => return (StatusCode::OK, "ignored"),
    }
    let event: IssuesEvent = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, delivery = header("x-github-delivery"), "malformed GitHub issues delivery");
            return (StatusCode::BAD_REQUEST, "malformed issues event");
        }
    };
    let closed = match event.action.as_str() {
        "closed" => true,
        "reopened" => false,
        _ => return (StatusCode::OK, "ignored"),
    };
    let repo = &event.repository.full_name;
    match hook.bot.github_issue_changed(repo, event.issue.number, closed, event.issue.state_reason.as_deref(), Utc::now()).await {
        Ok(actions) => {
            tracing::info!(number = event.issue.number, closed, tickets = actions.len(), "GitHub issue changed");
            (StatusCode::OK, "ok")
        }
        // GitHub does not redeliver by itself; the delivery shows as failed in the
        // repository's webhook settings, where it can be redelivered.
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "could not record a GitHub delivery");
            (StatusCode::INTERNAL_SERVER_ERROR, "not recorded")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secrets_signature_passes() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signed_by("It's a Secret to Everybody", b"Hello, World!", good));
        assert!(!signed_by("It's a Secret to Everybody", b"Hello, World?", good));
        assert!(!signed_by("another secret", b"Hello, World!", good));
        for bad in ["", "sha256=", "sha1=757107ea", "sha256=zz", &good.to_uppercase()] {
            assert!(!signed_by("It's a Secret to Everybody", b"Hello, World!", bad), "{bad}");
        }
    }
}
