//! What every console response carries (a strict Content-Security-Policy and friends), the
//! same-origin check on every form, and the sign-in rate limit.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// No script at all, styles and images from the console itself (charts are served by it),
/// forms posting back to it only, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every console response, and refuses a form posted from
/// another site (its `Origin` is not ours): the second lock beside the CSRF token.
pub async fn guard(allowed_origin: String, request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !same_origin(request.headers(), &allowed_origin) {
        return (StatusCode::FORBIDDEN, "this form came from another site").into_response();
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A sign-in link's token is in its address: no page of ours tells another site where it was.
    // (Not `no-referrer`: with it Chromium sends `Origin: null` on our own forms, refused above.)
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A request without `Origin` (an old browser, a test client) passes: the CSRF token still holds.
fn same_origin(headers: &HeaderMap, allowed: &str) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => origin.trim_end_matches('/').eq_ignore_ascii_case(allowed),
    }
}

/// The scheme, host and port of `public_url`, as a browser's `Origin` says it.
pub fn origin_of(public_url: &str) -> String {
    match url::Url::parse(public_url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => public_url.trim_end_matches('/').to_string(),
    }
}

/// At most `per_minute` sign-in attempts per client a minute (a fixed window: enough to stop
/// guessing at links, which are 256 bits anyway, and hammering the OAuth servers through us).
pub struct SignInLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl SignInLimiter {
    const MAX_CLIENTS: usize = 10_000;

    pub fn new(per_minute: u32) -> SignInLimiter {
        SignInLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt by `client`; false once it made too many this minute.
    pub fn allow(&self, client: &str, now: DateTime<Utc>) -> bool {
        let minute = now.timestamp().div_euclid(60);
        let mut windows = self.windows.lock().expect("limiter lock poisoned");
        if windows.len() >= Self::MAX_CLIENTS {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let (at, count) = windows.entry(client.to_string()).or_insert((minute, 0));
        if *at != minute {
            (*at, *count) = (minute, 0);
        }
        *count += 1;
        *count <= self.per_minute
    }
}

/// Who is asking, for the rate limit: the connection's address, or with `[web] behind_proxy`
/// the first address of `X-Forwarded-For` (the proxy's own address would be everyone's).
pub fn client_key(request_headers: &HeaderMap, peer: Option<std::net::SocketAddr>, behind_proxy: bool) -> String {
    let forwarded = || request_headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next().map(|s| s.trim().to_string());
    match (behind_proxy, forwarded()) {
        (true, Some(ip)) if !ip.is_empty() => ip,
        _ => peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into()),
    }
}

/// The connection's address, when the server was started with it (`app::run` is).
pub struct PeerAddr(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_limit_counts_per_client_and_per_minute() {
        let limiter = SignInLimiter::new(2);
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 5).unwrap();
        assert!(limiter.allow("a", t) && limiter.allow("a", t));
        assert!(!limiter.allow("a", t), "the third attempt in a minute");
        assert!(limiter.allow("b", t), "another client has its own count");
        assert!(limiter.allow("a", t + chrono::Duration::seconds(60)), "a new minute");
    }

    #[test]
    fn forms_from_other_sites_are_told_apart() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h, "https://support.example.org"));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://support.example.org"));
        assert!(same_origin(&h, &origin_of("https://support.example.org/")));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h, "https://support.example.org"));
    }
}
