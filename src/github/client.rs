//! GitHub's REST API through octocrab: open an issue, look for one an earlier attempt opened,
//! read one. Failures are sorted into those worth retrying and those that will not pass.

use crate::bot::github::OnGithub;
use crate::config::GithubSettings;
use crate::domain::github::{IssueDraft, has_marker};
use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use octocrab::Octocrab;
use octocrab::models::IssueState;
use secrecy::ExposeSecret;

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

#[derive(Clone)]
pub struct GithubClient {
    api: Octocrab,
    labels: Vec<String>,
}

impl GithubClient {
    pub fn new(settings: &GithubSettings) -> anyhow::Result<GithubClient> {
        let token = settings.token.as_ref().map(|t| t.expose_secret().trim().to_string()).unwrap_or_default();
        let api = Octocrab::builder()
            .base_uri(settings.api_url.trim_end_matches('/'))
            .with_context(|| format!("[github] api_url {:?} is not a URL", settings.api_url))?
            .personal_token(token)
            .set_connect_timeout(Some(std::time::Duration::from_secs(10)))
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .build()
            .context("GitHub: setting up the client")?;
        Ok(GithubClient { api, labels: settings.labels.clone() })
    }

    /// Opens the issue.
    pub async fn open(&self, repo: &str, draft: &IssueDraft) -> Result<OnGithub, CallError> {
        let (owner, name) = split(repo);
        let issue = self.api.issues(owner, name).create(&draft.title).body(&draft.body).labels(self.labels.clone()).send().await.map_err(sort)?;
        Ok(seen(&issue))
    }

    /// The issue an earlier attempt opened for `ticket_id` (its marker in the body), if any.
    pub async fn find_opened(&self, repo: &str, ticket_id: i64) -> Result<Option<OnGithub>, CallError> {
        let (owner, name) = split(repo);
        let page = self
            .api
            .issues(owner, name)
            .list()
            .state(octocrab::params::State::All)
            .sort(octocrab::params::issues::Sort::Created)
            .direction(octocrab::params::Direction::Descending)
            .per_page(RECENT_ISSUES)
            .send()
            .await
            .map_err(sort)?;
        Ok(page.items.iter().find(|i| i.body.as_deref().is_some_and(|b| has_marker(b, ticket_id))).map(seen))
    }

    /// An existing issue, to link a ticket to.
    pub async fn issue(&self, repo: &str, number: i64) -> Result<OnGithub, CallError> {
        let (owner, name) = split(repo);
        let issue = self.api.issues(owner, name).get(number as u64).await.map_err(sort)?;
        Ok(seen(&issue))
    }
}

fn split(repo: &str) -> (&str, &str) {
    repo.split_once('/').unwrap_or((repo, ""))
}

fn seen(issue: &octocrab::models::issues::Issue) -> OnGithub {
    OnGithub { number: issue.number as i64, url: issue.html_url.to_string(), open: issue.state == IssueState::Open }
}

/// Sorts a failure: GitHub's own answers by status, everything else (the network, a timeout)
/// as worth retrying.
fn sort(e: octocrab::Error) -> CallError {
    match &e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let until = source.rate_limit_reset.and_then(|s| Utc.timestamp_opt(s as i64, 0).single());
            let limited = status == 429 || (status == 403 && (until.is_some() || source.message.to_ascii_lowercase().contains("rate limit")));
            let reason = format!("GitHub answered {status}: {}", source.message);
            if limited || status >= 500 {
                CallError::Retry { reason, until }
            } else {
                CallError::Refused(match status {
                    401 => "GitHub rejected [github] token (401): make a new token".into(),
                    403 => format!("the token may not do this (403: {}): give it Issues read and write on the repository", source.message),
                    404 => "no such repository or issue, or the token cannot see it (404)".into(),
                    410 => "issues are turned off in that repository (410)".into(),
                    _ => reason,
                })
            }
        }
        other => CallError::Retry { reason: format!("could not reach GitHub: {}", crate::telemetry::chain(other)), until: None },
    }
}
