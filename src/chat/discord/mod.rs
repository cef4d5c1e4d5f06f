//! Discord: the bot in Discord servers over the real gateway (serenity). Events go into the
//! core's durable intake; answers leave through the outbox as REST calls.

pub mod commands;
pub mod events;
pub mod gateway;
pub mod interactions;
pub mod outgoing;

use crate::bot::Bot;
use crate::chat::{Inlet, delivery_loop};
use crate::config::{DiscordSettings, ShardCount};
use anyhow::{Context as _, bail};
use events::DiscordContext;
use gateway::{DiscordRuntime, Handler};
use outgoing::DiscordSink;
use secrecy::ExposeSecret;
use serenity::all::{ChannelId, ClientBuilder, GatewayIntents, GuildId, HttpBuilder, Permissions, RoleId, ShardManager};
use serenity::gateway::GatewayError;
use serenity::http::HttpError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// What the bot asks Discord for. MESSAGE_CONTENT is privileged: it must be switched on in the
/// Developer Portal, or Discord closes the connection with 4014.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MESSAGE_REACTIONS
        | GatewayIntents::DIRECT_MESSAGES
}

/// What the invite link asks for: read channels and their history (to catch up), post, post in
/// threads and forum posts, embed links, attach the digest's chart.
pub fn invite_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::SEND_MESSAGES_IN_THREADS
        | Permissions::CREATE_PUBLIC_THREADS // a ticket's thread on its question, and on its notice
        | Permissions::CREATE_PRIVATE_THREADS // a privately asked question's ticket
        | Permissions::EMBED_LINKS
        | Permissions::ATTACH_FILES
        | Permissions::READ_MESSAGE_HISTORY
}

const DISCORD_BASE: &str = "https://discord.com";

/// How long `start` waits for the first READY before going on without it.
const READY_WAIT: Duration = Duration::from_secs(30);

/// A running Discord connection.
pub struct DiscordHandle {
    shards: Arc<ShardManager>,
    gateway: tokio::task::JoinHandle<()>,
    inlet: Inlet,
    delivery: tokio::task::JoinHandle<()>,
}

impl DiscordHandle {
    pub async fn stop(self) {
        self.shards.shutdown_all().await;
        let _ = self.gateway.await;
        self.inlet.finish_handling(crate::chat::STOP_PATIENCE).await;
        let _ = self.delivery.await;
    }
}

/// The one sentence a person needs when the gateway refuses the bot.
fn explain(e: &serenity::Error) -> String {
    match e {
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => "Discord refused the privileged Message Content intent (close code 4014): \
             in the Developer Portal open your application, Bot, Privileged Gateway Intents, switch on MESSAGE CONTENT INTENT, save, and restart supportbot"
            .into(),
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "Discord rejected [discord] token (close code 4004): copy a fresh token from the Developer Portal (your application, Bot, Reset Token)".into()
        }
        serenity::Error::Gateway(GatewayError::OverloadedShard) => "Discord says the bot is in too many servers for one shard: set [discord] shards = \"auto\"".into(),
        serenity::Error::Gateway(GatewayError::InvalidShardData) => "Discord refused the shard settings: check [discord] shards and shard_range".into(),
        other => format!("the Discord gateway connection failed: {other}"),
    }
}

/// An error and its causes on one line ("Error while sending HTTP request" alone says little).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn ids<T: From<u64>>(values: &[String], key: &str) -> anyhow::Result<Vec<T>> {
    values
        .iter()
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(T::from)
                .ok_or_else(|| anyhow::anyhow!("[discord] {key}: {v:?} is not a Discord id (right-click, Copy ID, with Developer Mode on)"))
        })
        .collect()
}

/// serenity's REST paths start "https://discord.com/api/v10": the base (scheme and host, and
/// any prefix) is what replaces "https://discord.com".
fn rest_base(api_url: &str) -> anyhow::Result<String> {
    let trimmed = api_url.trim().trim_end_matches('/');
    match trimmed.strip_suffix("/api") {
        Some(base) if base.starts_with("http://") || base.starts_with("https://") => Ok(base.to_string()),
        _ => bail!("[discord] api_url must be an http(s) URL ending in /api, like https://discord.com/api (got {api_url:?})"),
    }
}

/// Checks the settings and the token, connects the gateway, registers the slash commands and
/// starts delivering. Any problem at start is one clear sentence.
pub async fn start(
    settings: &DiscordSettings,
    default_moderators_channel: &str,
    bot: Arc<Bot>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<DiscordHandle> {
    let token = settings.token.as_ref().map(|t| t.expose_secret().trim().to_string()).filter(|t| !t.is_empty()).ok_or_else(|| {
        anyhow::anyhow!("Discord: [discord] token is missing: copy it from the Developer Portal (your application, Bot, Reset Token)")
    })?;
    let base = rest_base(&settings.api_url)?;
    // serenity's rate limiter always calls discord.com itself (its requests are built without
    // the proxy), so it only runs against the real API, for the calls the gateway side makes;
    // elsewhere (a local fake, a rate-limiting proxy such as twilight-http-proxy) calls go to
    // `api_url` unlimited. The outbox's own posts keep Discord's buckets either way
    // (`DiscordSink`), from the rate-limit headers.
    let http = if base == DISCORD_BASE { HttpBuilder::new(&token) } else { HttpBuilder::new(&token).proxy(base).ratelimiter_disabled(true) }.build();
    let me = http.get_current_user().await.map_err(|e| match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 401 => {
            anyhow::anyhow!("Discord rejected [discord] token (401 Unauthorized): copy a fresh token from the Developer Portal (your application, Bot, Reset Token)")
        }
        other => anyhow::anyhow!("Discord: could not reach {} to check the token: {}", settings.api_url, causes(&other)),
    })?;
    let ctx = DiscordContext {
        bot_user_id: Some(me.id),
        channels: ids::<ChannelId>(&settings.channels, "channels")?.into_iter().collect(),
        forums: ids::<ChannelId>(&settings.forum_channels, "forum_channels")?.into_iter().collect(),
        moderators_channel: settings
            .moderators_channel
            .as_deref()
            .or(Some(default_moderators_channel))
            .and_then(|c| c.parse().ok())
            .map(ChannelId::new),
        moderator_roles: ids::<RoleId>(&settings.moderator_roles, "moderator_roles")?.into_iter().collect(),
        escalate_reaction: settings.escalate_reaction.clone(),
        not_question_reaction: settings.not_question_reaction.clone(),
    };
    let guilds = ids::<GuildId>(&settings.guilds, "guilds")?;
    let inlet = Inlet::new(bot.clone());
    let (ready_tx, ready_rx) = oneshot::channel();
    let ran_before = bot.has_seen_events(events::PLATFORM).await.context("Discord: reading the intake")?;
    let runtime = Arc::new(DiscordRuntime::new(inlet.clone(), ctx, guilds, settings.backfill_limit, ran_before, ready_tx));
    let mut client = ClientBuilder::new_with_http(http, intents())
        .event_handler_arc(Arc::new(Handler(runtime.clone())))
        .await
        .context("Discord: setting up the client")?;
    let shards = client.shard_manager.clone();
    let moderators_channel = settings.moderators_channel.clone().or_else(|| Some(default_moderators_channel.to_string()));
    let sink = DiscordSink::new(client.http.clone(), moderators_channel);
    let (shard_setting, range) = (settings.shards, settings.shard_range);
    if let (ShardCount::Auto, Some(_)) = (shard_setting, range) {
        bail!("[discord] shard_range needs a fixed shard count: set [discord] shards to the total number of shards");
    }
    if let (ShardCount::Fixed(total), Some([first, last])) = (shard_setting, range)
        && (first > last || last >= total)
    {
        bail!("[discord] shard_range = [{first}, {last}] does not fit in {total} shards (shards are numbered 0 to {})", total - 1);
    }
    let (failed_tx, failed_rx) = oneshot::channel::<String>();
    let gateway = tokio::spawn(async move {
        let result = match (shard_setting, range) {
            (ShardCount::Auto, _) => client.start_autosharded().await,
            (ShardCount::Fixed(total), None) => client.start_shards(total).await,
            // serenity's range end is inclusive here: shards first..=last.
            (ShardCount::Fixed(total), Some([first, last])) => client.start_shard_range(first..last, total).await,
        };
        if let Err(e) = result {
            let sentence = explain(&e);
            tracing::error!("{sentence}");
            let _ = failed_tx.send(sentence);
        }
    });
    tokio::select! {
        _ = ready_rx => {}
        failed = failed_rx => {
            if let Ok(sentence) = failed {
                bail!("{sentence}");
            }
        }
        _ = tokio::time::sleep(READY_WAIT) => tracing::warn!("Discord has not said READY yet; going on and waiting in the background"),
    }
    let wake = inlet.wake.clone();
    let held = tokio::spawn(retry_held_loop(inlet.clone(), stop.clone()));
    let delivery = tokio::spawn(async move {
        delivery_loop(&bot.outbox(), &sink, &wake, &mut stop).await;
        let _ = held.await;
    });
    Ok(DiscordHandle { shards, gateway, inlet, delivery })
}

/// How often events held while the database was away are offered to it again.
const HELD_RETRY: Duration = Duration::from_secs(2);

/// Stores the gateway's held events as soon as the database takes them again.
async fn retry_held_loop(inlet: Inlet, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HELD_RETRY) => {
                if inlet.held_count() > 0 {
                    inlet.retry_held().await;
                }
            }
            _ = stop.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_base_is_the_api_url_without_api() {
        assert_eq!(rest_base("https://discord.com/api").unwrap(), "https://discord.com");
        assert_eq!(rest_base("http://127.0.0.1:8080/api/").unwrap(), "http://127.0.0.1:8080");
        assert!(rest_base("discord.com").unwrap_err().to_string().contains("ending in /api"));
    }

    #[test]
    fn the_readme_gives_the_invite_permissions_the_bot_needs() {
        let readme = include_str!("../../../README.md");
        let bits = invite_permissions().bits();
        assert!(readme.contains(&format!("permissions={bits}")), "README must show permissions={bits}");
    }

    #[test]
    fn the_intents_include_message_content() {
        let bits = intents().bits();
        assert_eq!(bits & (1 << 15), 1 << 15, "MESSAGE_CONTENT");
        assert_eq!(bits, 1 | (1 << 9) | (1 << 10) | (1 << 12) | (1 << 15));
    }
}
