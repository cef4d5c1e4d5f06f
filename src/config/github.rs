//! `[github]`: opening tickets' GitHub issues and hearing when they close.

use serde::Deserialize;

/// `[github]`. The token and the webhook secret are secrets: `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubSettings {
    /// A token that may open issues: a fine-grained personal access token with Issues read and
    /// write on the repositories, or a classic one with `repo` (`public_repo` for public ones).
    pub token: Option<secrecy::SecretString>,
    /// The REST API's base URL: `https://api.github.com`, a GitHub Enterprise Server's
    /// `https://HOST/api/v3`, or a local fake in tests.
    pub api_url: String,
    /// The repository `ticket github <id>` opens issues in when none is named, `owner/name`.
    pub repo: Option<String>,
    /// Verifies the deliveries to `/github/webhook` (the repository's Settings, Webhooks,
    /// Secret). Without it the webhook is not served and closing an issue changes nothing here.
    pub webhook_secret: Option<secrecy::SecretString>,
    /// Labels put on the issues opened.
    pub labels: Vec<String>,
    /// The address of the question in its chat, for the link back: `{platform}`,
    /// `{channel}`, `{message}` and `{ticket}` are filled in (Slack's archive link without it).
    pub link: Option<String>,
}

impl Default for GithubSettings {
    fn default() -> Self {
        GithubSettings {
            token: None,
            api_url: "https://api.github.com".into(),
            repo: None,
            webhook_secret: None,
            labels: vec!["support".into()],
            link: None,
        }
    }
}

impl GithubSettings {
    /// Each problem as the one sentence an operator needs.
    pub fn check(&self) -> Result<(), String> {
        use secrecy::ExposeSecret;
        if self.token.as_ref().is_none_or(|t| t.expose_secret().trim().is_empty()) {
            return Err(
                "[github] token is missing: make a token that may write issues (GitHub, Settings, Developer settings, Personal access tokens)".into(),
            );
        }
        if !(self.api_url.starts_with("https://") || self.api_url.starts_with("http://")) {
            return Err(format!("[github] api_url: {:?} should be an http(s) URL like \"https://api.github.com\"", self.api_url));
        }
        if let Some(repo) = self.repo.as_deref().filter(|r| !crate::domain::github::valid_repo(r)) {
            return Err(format!("[github] repo: {repo:?} should be owner/name, like \"acme/widgets\""));
        }
        Ok(())
    }
}
