//! Slack: the bot in Slack workspaces. Socket Mode or the Events API bring events in;
//! the Web API (through the outbox) sends answers, in threads, with Block Kit buttons.

pub mod events;
pub mod format;
pub mod http;
pub mod outgoing;
pub mod socket;

use crate::bot::{Bot, BotError};
use crate::chat::Inlet;
use crate::config::{SlackMode, SlackSettings};
use crate::domain::message::Incoming;
use anyhow::bail;
use events::SlackContext;
use outgoing::{SlackSink, web_client};
use secrecy::ExposeSecret;
use slack_morphism::prelude::*;
use std::sync::Arc;
use tokio::sync::watch;

/// What the Slack entry points share.
pub struct SlackRuntime {
    pub inlet: Inlet,
    pub ctx: SlackContext,
}

impl SlackRuntime {
    /// Records an event, then handles it in the background. Ok means it is safely recorded,
    /// so Slack may be told it arrived.
    pub async fn accept(&self, incoming: Incoming) -> Result<(), BotError> {
        self.inlet.accept(incoming).await
    }
}

/// A running Slack connection.
pub struct SlackHandle {
    /// Routes to serve (Events API mode).
    pub router: Option<axum::Router>,
    listener: Option<SlackClientSocketModeListener<socket::ConnectorType>>,
    inlet: Inlet,
    delivery: tokio::task::JoinHandle<()>,
}

impl SlackHandle {
    pub async fn stop(self) {
        if let Some(l) = self.listener {
            l.shutdown().await;
        }
        self.inlet.finish_handling(crate::chat::STOP_PATIENCE).await;
        let _ = self.delivery.await;
    }
}

fn token(value: Option<&secrecy::SecretString>, key: &str, prefix: &str, whence: &str) -> anyhow::Result<SlackApiToken> {
    let Some(value) = value.map(|v| v.expose_secret().trim().to_string()).filter(|v| !v.is_empty()) else {
        bail!("Slack: [slack] {key} is missing: copy the {prefix}... token from {whence}");
    };
    if !value.starts_with(prefix) {
        bail!("Slack: [slack] {key} does not look right: it should start with {prefix} (see {whence})");
    }
    Ok(SlackApiToken::new(SlackApiTokenValue::new(value)))
}

/// How events arrive, with the one credential each way needs.
enum WayIn {
    /// The Events API, verified with the signing secret.
    Http(String),
    /// Socket Mode, opened with the app-level token.
    Socket(SlackApiToken),
}

/// Checks the settings, logs in, and starts receiving (Socket Mode) or returns the routes to
/// serve (HTTP), plus the delivery loop. Any problem is one clear sentence.
pub async fn start(
    settings: &SlackSettings,
    default_moderators_channel: &str,
    bot: Arc<Bot>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<SlackHandle> {
    let bot_token = token(settings.bot_token.as_ref(), "bot_token", "xoxb-", "your app's OAuth & Permissions page")?;
    let way_in = match settings.mode {
        SlackMode::Socket => {
            WayIn::Socket(token(settings.app_token.as_ref(), "app_token", "xapp-", "your app's Basic Information page, App-Level Tokens")?)
        }
        SlackMode::Http => {
            WayIn::Http(settings.signing_secret.as_ref().map(|s| s.expose_secret().to_string()).filter(|s| !s.trim().is_empty()).ok_or_else(
                || anyhow::anyhow!("Slack: [slack] signing_secret is missing (mode = \"http\" needs it; it is on your app's Basic Information page)"),
            )?)
        }
    };
    let client = Arc::new(web_client(&settings.api_url)?);
    let me = client.open_session(&bot_token).auth_test().await.map_err(|e| match e {
        slack_morphism::errors::SlackClientError::ApiError(api) => {
            anyhow::anyhow!("Slack rejected [slack] bot_token ({}): check the token and that the app is installed", api.code)
        }
        other => anyhow::anyhow!("Slack: could not reach {} to check the bot token: {other}", settings.api_url),
    })?;
    tracing::info!(bot_user = %me.user_id, team = %me.team, "connected to Slack");
    let ctx = SlackContext {
        bot_user_id: Some(me.user_id.to_string()),
        channels: settings.channels.iter().cloned().collect(),
        moderators_channel: Some(settings.moderators_channel.clone().unwrap_or_else(|| default_moderators_channel.to_string())),
        moderators: settings.moderators.iter().cloned().collect(),
        escalate_reaction: settings.escalate_reaction.clone(),
        not_question_reaction: settings.not_question_reaction.clone(),
    };
    let inlet = Inlet::new(bot.clone());
    let wake = inlet.wake.clone();
    let runtime = Arc::new(SlackRuntime { inlet: inlet.clone(), ctx });
    let moderators_channel = settings.moderators_channel.clone().or_else(|| Some(default_moderators_channel.to_string()));
    let sink = SlackSink::new(client.clone(), bot_token, moderators_channel).with_bot_user(me.user_id.to_string());
    let delivery = tokio::spawn(async move { crate::chat::delivery_loop(&bot.outbox(), &sink, &wake, &mut stop).await });
    let (router, listener) = match way_in {
        WayIn::Http(secret) => (Some(http::routes(runtime, &secret)), None),
        WayIn::Socket(app_token) => (None, Some(socket::start(client, &app_token, runtime).await?)),
    };
    Ok(SlackHandle { router, listener, inlet, delivery })
}
