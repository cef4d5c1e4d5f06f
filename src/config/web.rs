//! `[web]`: the moderators' web console, served by `run` beside the Slack endpoints.

use serde::Deserialize;
use std::time::Duration;

/// `[web]`. Client secrets are secrets: `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Serve the console at `/console` (on by default when `[web]` is present).
    pub enabled: bool,
    /// The address moderators reach the console at, as their browser sees it (behind a
    /// reverse proxy: the proxy's `https://...`). Sign-in links and OAuth redirects are built on
    /// it, and an `https://` address makes the session cookie `Secure`.
    pub public_url: String,
    /// How long a session lasts from sign-in.
    #[serde(with = "super::humantime_serde_compat")]
    pub session_ttl: Duration,
    /// How long a one-time sign-in link from `console` (or `web link`) stays good.
    #[serde(with = "super::humantime_serde_compat")]
    pub link_ttl: Duration,
    /// Sign-in attempts one client address may make per minute.
    pub signin_per_minute: u32,
    /// Behind a reverse proxy: the client's address is the first of `X-Forwarded-For` (set it
    /// only when the proxy sets that header, or anyone can claim any address).
    pub behind_proxy: bool,
    /// Restyle the pages: templates here replace the embedded ones file by file.
    pub templates: Option<std::path::PathBuf>,
    /// Sign in with Discord (OAuth2), when set.
    pub discord: Option<DiscordOauth>,
    /// Sign in with Slack (OpenID Connect), when set.
    pub slack: Option<SlackOidc>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            enabled: true,
            public_url: "http://127.0.0.1:8080".into(),
            session_ttl: Duration::from_secs(12 * 3600),
            link_ttl: Duration::from_secs(10 * 60),
            signin_per_minute: 10,
            behind_proxy: false,
            templates: None,
            discord: None,
            slack: None,
        }
    }
}

/// `[web.discord]`: an OAuth2 application (Developer Portal, OAuth2), redirect
/// `{public_url}/console/auth/discord/callback`, scopes `identify guilds.members.read`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordOauth {
    pub client_id: String,
    pub client_secret: Option<secrecy::SecretString>,
    /// The guild whose moderators may sign in (default: the first of `[discord] guilds`).
    pub guild: Option<String>,
    /// Role ids whose members may sign in (default: `[discord] moderator_roles`). With a
    /// `[discord] token`, Manage Messages, Administrator and the server's owner pass too.
    pub moderator_roles: Vec<String>,
    /// Where the browser is sent to authorize.
    pub authorize_url: String,
    /// The REST base URL the code is exchanged at and the member is read from.
    pub api_url: String,
}

impl Default for DiscordOauth {
    fn default() -> Self {
        DiscordOauth {
            client_id: String::new(),
            client_secret: None,
            guild: None,
            moderator_roles: Vec::new(),
            authorize_url: "https://discord.com/oauth2/authorize".into(),
            api_url: "https://discord.com/api".into(),
        }
    }
}

/// `[web.slack]`: Sign in with Slack (the app's Client ID and Secret, OAuth & Permissions,
/// redirect `{public_url}/console/auth/slack/callback`, scopes `openid profile`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackOidc {
    pub client_id: String,
    pub client_secret: Option<secrecy::SecretString>,
    /// The workspace (team id) whose moderators may sign in; others are refused.
    pub team: Option<String>,
    pub authorize_url: String,
    /// The Web API base URL (`openid.connect.token`, `openid.connect.userInfo`).
    pub api_url: String,
}

impl Default for SlackOidc {
    fn default() -> Self {
        SlackOidc {
            client_id: String::new(),
            client_secret: None,
            team: None,
            authorize_url: "https://slack.com/openid/connect/authorize".into(),
            api_url: "https://slack.com/api".into(),
        }
    }
}

impl WebSettings {
    /// Each problem as the one sentence an operator needs.
    pub fn check(&self) -> Result<(), String> {
        let url = url::Url::parse(&self.public_url)
            .map_err(|e| format!("[web] public_url: {:?} is no address ({e}); like \"https://support.example.org\"", self.public_url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("[web] public_url: {:?} should start with https:// (or http:// on a trusted network)", self.public_url));
        }
        if self.session_ttl.is_zero() || self.link_ttl.is_zero() {
            return Err("[web] session_ttl and link_ttl must be longer than zero".into());
        }
        if self.signin_per_minute == 0 {
            return Err("[web] signin_per_minute must be at least 1".into());
        }
        if self.discord.as_ref().is_some_and(|d| d.client_id.trim().is_empty()) {
            return Err("[web.discord] client_id is missing (Developer Portal, your application, OAuth2)".into());
        }
        if self.slack.as_ref().is_some_and(|s| s.client_id.trim().is_empty()) {
            return Err("[web.slack] client_id is missing (api.slack.com, your app, Basic Information)".into());
        }
        Ok(())
    }

    /// The session cookie is `Secure` when moderators reach the console over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `public_url` without a trailing slash, to append paths to.
    pub fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}
