//! GitHub's REST API, the three calls the worker makes: open an issue, look for one an earlier
//! attempt opened, read one. Failures are sorted into those worth retrying and those that will
//! not pass.
//!
//! Plain JSON over reqwest (already built for the Discord outbox) rather than octocrab: three
//! endpoints did not pay for its 80 s of CPU in the 2-core release build, on the build's
//! critical path (BENCHMARKS.md, "Build time").

use crate::bot::github::OnGithub;
use crate::config::GithubSettings;
use crate::domain::github::{IssueDraft, has_marker};
use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// It may pass: GitHub down, a timeout, a rate limit (`until`: when GitHub said to retry).
    Retry { reason: String, until: Option<DateTime<Utc>> },
    /// It will not: a bad token, no such repository or issue, no permission, a refused body.
    Refused(String),
}

/// How many of a repository's newest issues are searched for an earlier attempt's issue: the
/// retry comes minutes after it, so it is among them unless the repository is very busy.
const RECENT_ISSUES: u8 = 100;
/// The REST API version the calls are written against.
const API_VERSION: &str = "2022-11-28";

#[derive(Clone)]
pub struct GithubClient {
    http: reqwest::Client,
    api: Url,
    token: SecretString,
    labels: Vec<String>,
}

/// The fields of GitHub's issue object the bot reads.
#[derive(Deserialize)]
struct Issue {
    number: u64,
    html_url: String,
    state: String,
    body: Option<String>,
}

impl GithubClient {
    pub fn new(settings: &GithubSettings) -> anyhow::Result<GithubClient> {
        let token = settings.token.as_ref().map(|t| t.expose_secret().trim().to_string()).unwrap_or_default();
        let api = Url::parse(settings.api_url.trim_end_matches('/'))
            .ok()
            .filter(|u| !u.cannot_be_a_base())
            .with_context(|| format!("[github] api_url {:?} is not a URL", settings.api_url))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("supportbot/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .context("GitHub: setting up the client")?;
        Ok(GithubClient { http, api, token: token.into(), labels: settings.labels.clone() })
    }

    /// Opens the issue.
    pub async fn open(&self, repo: &str, draft: &IssueDraft) -> Result<OnGithub, CallError> {
        let asked = json!({"title": draft.title, "body": draft.body, "labels": self.labels});
        let issue: Issue = self.call(Method::POST, self.url(repo, &["issues"]), &[], Some(asked)).await?;
        Ok(seen(&issue))
    }

    /// The issue an earlier attempt opened for `ticket_id` (its marker in the body), if any.
    pub async fn find_opened(&self, repo: &str, ticket_id: i64) -> Result<Option<OnGithub>, CallError> {
        let per_page = RECENT_ISSUES.to_string();
        let query = [("state", "all"), ("sort", "created"), ("direction", "desc"), ("per_page", per_page.as_str())];
        let page: Vec<Issue> = self.call(Method::GET, self.url(repo, &["issues"]), &query, None).await?;
        Ok(page.iter().find(|i| i.body.as_deref().is_some_and(|b| has_marker(b, ticket_id))).map(seen))
    }

    /// An existing issue, to link a ticket to.
    pub async fn issue(&self, repo: &str, number: i64) -> Result<OnGithub, CallError> {
        let issue: Issue = self.call(Method::GET, self.url(repo, &["issues", &number.to_string()]), &[], None).await?;
        Ok(seen(&issue))
    }

    /// `{api}/repos/{owner}/{name}/{rest…}`, each part escaped.
    fn url(&self, repo: &str, rest: &[&str]) -> Url {
        let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["repos", owner, name]).extend(rest);
        }
        url
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Result<T, CallError> {
        let mut request = self
            .http
            .request(method, url)
            .query(query)
            .bearer_auth(self.token.expose_secret())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let unreachable =
            |e: reqwest::Error| CallError::Retry { reason: format!("could not reach GitHub: {}", crate::telemetry::chain(&e)), until: None };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let reset = response.headers().get("x-ratelimit-reset").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
        let bytes = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(sort(status, &bytes, reset));
        }
        serde_json::from_slice(&bytes).map_err(|e| CallError::Retry { reason: format!("GitHub's answer could not be read: {e}"), until: None })
    }
}

fn seen(issue: &Issue) -> OnGithub {
    OnGithub { number: issue.number as i64, url: issue.html_url.clone(), open: issue.state == "open" }
}

/// Sorts GitHub's refusal by its status: rate limits and GitHub's own failures are worth
/// retrying (at `reset`, epoch seconds, when GitHub gave it), the rest will not pass.
fn sort(status: StatusCode, body: &[u8], reset: Option<i64>) -> CallError {
    #[derive(Deserialize)]
    struct Refusal {
        message: String,
    }
    let message = serde_json::from_slice::<Refusal>(body)
        .map(|r| r.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().chars().take(200).collect());
    let message = if message.is_empty() { status.canonical_reason().unwrap_or("no reason given").to_string() } else { message };
    let until = reset.and_then(|s| Utc.timestamp_opt(s, 0).single());
    let code = status.as_u16();
    let limited = code == 429 || (code == 403 && (until.is_some() || message.to_ascii_lowercase().contains("rate limit")));
    let reason = format!("GitHub answered {code}: {message}");
    if limited || code >= 500 {
        return CallError::Retry { reason, until };
    }
    CallError::Refused(match code {
        401 => "GitHub rejected [github] token (401): make a new token".into(),
        403 => format!("the token may not do this (403: {message}): give it Issues read and write on the repository"),
        404 => "no such repository or issue, or the token cannot see it (404)".into(),
        410 => "issues are turned off in that repository (410)".into(),
        _ => reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_and_outages_are_retried_at_githubs_time_and_refusals_are_not() {
        let limited = sort(StatusCode::FORBIDDEN, br#"{"message":"API rate limit exceeded"}"#, Some(1_900_000_000));
        assert_eq!(
            limited,
            CallError::Retry { reason: "GitHub answered 403: API rate limit exceeded".into(), until: Utc.timestamp_opt(1_900_000_000, 0).single() }
        );
        assert!(matches!(sort(StatusCode::TOO_MANY_REQUESTS, b"", None), CallError::Retry { until: None, .. }));
        assert!(matches!(sort(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>", None), CallError::Retry { .. }));
        assert_eq!(
            sort(StatusCode::UNAUTHORIZED, br#"{"message":"Bad credentials"}"#, None),
            CallError::Refused("GitHub rejected [github] token (401): make a new token".into())
        );
        let no_permission = sort(StatusCode::FORBIDDEN, br#"{"message":"Resource not accessible by personal access token"}"#, None);
        assert!(matches!(&no_permission, CallError::Refused(r) if r.contains("Resource not accessible")), "{no_permission:?}");
        assert_eq!(
            sort(StatusCode::UNPROCESSABLE_ENTITY, br#"{"message":"Validation Failed"}"#, None),
            CallError::Refused("GitHub answered 422: Validation Failed".into())
        );
    }

    #[test]
    fn paths_are_escaped_under_an_enterprise_prefix() {
        let settings = GithubSettings { api_url: "https://ghe.example/api/v3/".into(), ..GithubSettings::default() };
        let client = GithubClient::new(&settings).unwrap();
        assert_eq!(client.url("acme/bot", &["issues", "7"]).as_str(), "https://ghe.example/api/v3/repos/acme/bot/issues/7");
        assert_eq!(client.url("acme/a b?", &["issues"]).as_str(), "https://ghe.example/api/v3/repos/acme/a%20b%3F/issues");
        assert!(GithubClient::new(&GithubSettings { api_url: "not a url".into(), ..GithubSettings::default() }).is_err());
    }
}
