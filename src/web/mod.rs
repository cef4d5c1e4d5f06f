//! The moderators' web console, at `/console` on the same HTTP server as the Slack endpoints.
//! Server-rendered pages (`templates/`, restylable), no script; sessions in the database;
//! every change is the chat command it stands for, through `Bot::act`.
//!
//! `session` (sign-in state, the moderator check, CSRF), `signin` (one-time links),
//! `oauth` (Discord and Slack sign-in), `pages` (what moderators see and do), `security`
//! (headers, rate limits), `templates`, `token`.

// Handlers return early with the page to show (`Result<_, Response>`), the axum way; a large
// `Err` costs nothing next to the HTTP request it answers.
#![allow(clippy::result_large_err)]

mod oauth;
mod pages;
mod security;
mod session;
mod signin;
pub mod templates;
pub mod token;

use crate::bot::Bot;
use crate::config::Settings;
use crate::config::WebSettings;
use axum::Router;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The time the console runs on: the wall clock, or a test's.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Who may use the console, beyond holding a session: the same rule the chat applies, checked
/// again on every request where it can be checked here (Slack's list of moderator ids).
#[derive(Debug, Clone, Default)]
pub struct ModeratorRule {
    /// `[slack] moderators`, when Slack is configured.
    pub slack: Option<Vec<String>>,
}

impl ModeratorRule {
    pub fn from_settings(s: &Settings) -> ModeratorRule {
        ModeratorRule { slack: s.slack.as_ref().map(|sl| sl.moderators.clone()) }
    }

    /// Whether `user` still passes the rule. A Discord moderator's roles were checked when they
    /// signed in (their session lasts `[web] session_ttl`); console and replay users are the
    /// operator's own.
    pub fn allows(&self, user: &crate::store::WebUser) -> bool {
        match (user.platform.as_str(), &self.slack) {
            ("slack", Some(ids)) => ids.iter().any(|id| id == &user.user_id),
            ("slack", None) => false,
            _ => true,
        }
    }
}

/// What every console request shares.
pub struct Console {
    pub(crate) bot: Arc<Bot>,
    pub(crate) settings: WebSettings,
    pub(crate) pages: templates::Pages,
    pub(crate) limiter: security::SignInLimiter,
    pub(crate) moderators: ModeratorRule,
    pub(crate) discord: Option<oauth::DiscordSignIn>,
    pub(crate) slack: Option<oauth::SlackSignIn>,
    pub(crate) clock: Clock,
}

impl Console {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// The console's routes, when `[web]` is set and enabled.
pub fn routes(bot: Arc<Bot>, settings: &Settings) -> anyhow::Result<Option<Router>> {
    routes_with_clock(bot, settings, Arc::new(Utc::now))
}

/// As `routes`, on a given clock (tests).
pub fn routes_with_clock(bot: Arc<Bot>, settings: &Settings, clock: Clock) -> anyhow::Result<Option<Router>> {
    let Some(web) = settings.web.as_ref().filter(|w| w.enabled) else { return Ok(None) };
    let console = Console {
        pages: templates::Pages::load(web.templates.as_deref())?,
        limiter: security::SignInLimiter::new(web.signin_per_minute),
        moderators: ModeratorRule::from_settings(settings),
        discord: oauth::DiscordSignIn::from_settings(settings)?,
        slack: oauth::SlackSignIn::from_settings(settings)?,
        settings: web.clone(),
        bot,
        clock,
    };
    Ok(Some(pages::router(Arc::new(console))))
}
