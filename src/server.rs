//! The HTTP server: health checks, Prometheus metrics; the platforms' webhooks mount here.

use crate::bot::Bot;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::get;
use std::sync::Arc;

/// Largest request body accepted (Slack's payloads are far smaller).
const MAX_BODY: usize = 1024 * 1024;

/// Health checks and metrics plus the platforms' `routes`, all under one body-size limit.
pub fn router(bot: Arc<Bot>, routes: Router) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(bot)
        .merge(routes)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
}

/// Ready when the database takes work: reachable, writable, and still the file opened. It
/// answers within two seconds either way; the reason is logged, not shown.
async fn ready(State(bot): State<Arc<Bot>>) -> (StatusCode, &'static str) {
    match bot.store().readiness().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "not ready");
            let why = match e {
                crate::store::StoreError::Unfit(_) => "not ready: the database cannot take work (see the log)",
                _ => "not ready: the database is unreachable",
            };
            (StatusCode::SERVICE_UNAVAILABLE, why)
        }
    }
}

/// Prometheus' scrape. Answers even when the database does not (without the outbox gauges).
async fn metrics(State(bot): State<Arc<Bot>>) -> ([(header::HeaderName, &'static str); 1], String) {
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], crate::metrics::render(bot.store()).await)
}
