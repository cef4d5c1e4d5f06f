//! The gateway side: serenity calls these handlers for each event; they map it, put it in the
//! core's durable intake, and (for interactions) acknowledge it within Discord's 3 seconds.

use super::commands::definitions;
use super::events::{DiscordContext, PLATFORM, Place, map_delete, map_edit, map_message, map_reaction};
use super::interactions::{Ack, map_interaction};
use crate::chat::Inlet;
use chrono::Utc;
use serenity::all::{
    Channel, ChannelId, Command, Context, CreateInteractionResponse, CreateInteractionResponseMessage, EventHandler, GuildChannel, GuildId, Http,
    Interaction, Message, MessageId, MessagePagination, MessageUpdateEvent, Permissions, Reaction, Ready, RoleId, UserId,
};
use serenity::model::guild::Guild;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use tokio::sync::oneshot;

/// `e` with its causes for the log, but without the request's URL: an interaction's URL holds
/// its token.
fn chain_without_url(e: serenity::Error) -> String {
    use serenity::http::HttpError;
    match e {
        serenity::Error::Http(HttpError::Request(r)) => crate::telemetry::chain(&serenity::Error::Http(HttpError::Request(r.without_url()))),
        other => crate::telemetry::chain(&other),
    }
}

/// What a server's roles allow, to tell moderators apart where Discord sends only role ids.
#[derive(Debug, Clone, Default)]
struct GuildRoles {
    owner: Option<UserId>,
    permissions: HashMap<RoleId, Permissions>,
}

/// The Discord adapter's state, shared by every shard's handler calls.
pub struct DiscordRuntime {
    inlet: Inlet,
    ctx: RwLock<DiscordContext>,
    /// Guilds to register slash commands in; empty: global commands.
    command_guilds: Vec<GuildId>,
    backfill_limit: u32,
    places: Mutex<HashMap<ChannelId, Place>>,
    guild_roles: Mutex<HashMap<GuildId, GuildRoles>>,
    commands_registered: AtomicBool,
    first_ready: Mutex<Option<oneshot::Sender<()>>>,
    /// Whether an earlier run saw any Discord event (read before connecting): a first run has
    /// nothing it could have missed.
    ran_before: bool,
}

impl DiscordRuntime {
    pub fn new(
        inlet: Inlet,
        ctx: DiscordContext,
        command_guilds: Vec<GuildId>,
        backfill_limit: u32,
        ran_before: bool,
        first_ready: oneshot::Sender<()>,
    ) -> Self {
        DiscordRuntime {
            inlet,
            ctx: RwLock::new(ctx),
            command_guilds,
            backfill_limit,
            places: Mutex::new(HashMap::new()),
            guild_roles: Mutex::new(HashMap::new()),
            commands_registered: AtomicBool::new(false),
            first_ready: Mutex::new(Some(first_ready)),
            ran_before,
        }
    }

    fn context(&self) -> std::sync::RwLockReadGuard<'_, DiscordContext> {
        self.ctx.read().unwrap_or_else(|e| e.into_inner())
    }

    fn remember_place(&self, thread: &GuildChannel) {
        let place = Place { parent: thread.parent_id, title: Some(thread.name.clone()) };
        self.places.lock().unwrap_or_else(|e| e.into_inner()).insert(thread.id, place);
    }

    /// Whether a channel is a thread, and of what. Learnt from THREAD_CREATE and GUILD_CREATE,
    /// else asked once of the REST API (a failed lookup counts as "not a thread").
    async fn place_of(&self, http: &Http, channel: ChannelId, in_guild: bool) -> Place {
        if !in_guild {
            return Place::default();
        }
        if let Some(p) = self.places.lock().unwrap_or_else(|e| e.into_inner()).get(&channel) {
            return p.clone();
        }
        let place = match http.get_channel(channel).await {
            Ok(Channel::Guild(c)) if c.thread_metadata.is_some() => Place { parent: c.parent_id, title: Some(c.name) },
            Ok(_) => Place::default(),
            Err(e) => {
                tracing::debug!(channel = %channel, error = %crate::telemetry::chain(&e), "could not look up a channel");
                Place::default()
            }
        };
        self.places.lock().unwrap_or_else(|e| e.into_inner()).insert(channel, place.clone());
        place
    }

    /// A member's server-wide permissions from the roles seen in GUILD_CREATE (channel
    /// overwrites aside); None when the server's roles are not known yet.
    fn permissions(&self, guild: Option<GuildId>, user: UserId, roles: &[RoleId]) -> Option<Permissions> {
        let guilds = self.guild_roles.lock().unwrap_or_else(|e| e.into_inner());
        let g = guilds.get(&guild?)?;
        if g.owner == Some(user) {
            return Some(Permissions::all());
        }
        let everyone = RoleId::new(guild?.get()); // @everyone has the guild's id
        let p = std::iter::once(&everyone).chain(roles).filter_map(|r| g.permissions.get(r)).fold(Permissions::empty(), |a, b| a | *b);
        Some(if p.contains(Permissions::ADMINISTRATOR) { Permissions::all() } else { p })
    }

    /// Maps and records a message; `in_order` handles it before returning (catching up).
    async fn on_message(&self, http: &Http, msg: &Message, in_order: bool) {
        let place = self.place_of(http, msg.channel_id, msg.guild_id.is_some()).await;
        let roles = msg.member.as_ref().map(|m| m.roles.clone()).unwrap_or_default();
        let permissions = self.permissions(msg.guild_id, msg.author.id, &roles);
        let Some(incoming) = map_message(msg, &place, &self.context(), permissions) else { return };
        // The gateway never sends a message again: one the database cannot take now is held.
        self.inlet.accept_or_hold(incoming, in_order).await;
    }

    async fn register_commands(&self, http: &Http) {
        if self.commands_registered.swap(true, Ordering::SeqCst) {
            return;
        }
        let defs = definitions();
        let result = if self.command_guilds.is_empty() {
            Command::set_global_commands(http, defs).await.map(|_| "globally".to_string())
        } else {
            let mut done = Ok(String::new());
            for g in &self.command_guilds {
                if let Err(e) = g.set_commands(http, defs.clone()).await {
                    done = Err(e);
                    break;
                }
            }
            done.map(|_| format!("in {} server(s)", self.command_guilds.len()))
        };
        match result {
            Ok(where_) => tracing::info!("slash commands registered {where_}"),
            Err(e) => {
                self.commands_registered.store(false, Ordering::SeqCst);
                tracing::error!(error = %crate::telemetry::chain(&e), "registering slash commands failed (does the invite include the applications.commands scope?)");
            }
        }
    }

    /// The gateway does not redeliver: fetch what was posted in watched channels since the last
    /// message seen there, oldest first, through the same dedup as live messages.
    pub async fn catch_up(&self, http: &Http) -> usize {
        let mut channels: BTreeSet<String> = self.context().channels.iter().map(|c| c.to_string()).collect();
        match self.inlet.bot.known_channels(PLATFORM).await {
            Ok(known) => channels.extend(known),
            Err(e) => tracing::error!(error = %crate::telemetry::chain(&e), "catching up: could not list channels"),
        }
        let mut total = 0;
        for channel in channels {
            let (Ok(channel_id), Ok(Some(last))) = (channel.parse::<u64>(), self.inlet.bot.catch_up_point(PLATFORM, &channel).await) else {
                continue;
            };
            let Ok(mut after) = last.parse::<u64>() else { continue };
            let mut fetched = 0u32;
            while fetched < self.backfill_limit {
                let page = match http.get_messages(ChannelId::new(channel_id), Some(MessagePagination::After(MessageId::new(after))), Some(100)).await
                {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(channel = %channel, error = %crate::telemetry::chain(&e), "catching up: could not read the channel");
                        break;
                    }
                };
                let mut page: Vec<Message> = page.into_iter().filter(|m| m.id.get() > after).collect();
                page.sort_by_key(|m| m.id);
                for m in &page {
                    self.on_message(http, m, true).await;
                }
                fetched += page.len() as u32;
                total += page.len();
                match page.last() {
                    Some(m) if page.len() == 100 => after = m.id.get(),
                    _ => break,
                }
            }
        }
        if total > 0 {
            tracing::info!(messages = total, "caught up on messages posted while away");
        }
        total
    }

    /// New forum posts made while away: the gateway only sends what happens from now on, so on
    /// READY each server's active threads are listed, and the first message of every forum post
    /// never seen is handled like a live one. Nothing is caught up on the very first run.
    pub async fn catch_up_forums(&self, http: &Http, guilds: &[GuildId]) -> usize {
        let forums = self.context().forums.clone();
        if forums.is_empty() || !self.ran_before {
            return 0;
        }
        let mut total = 0;
        for guild in guilds {
            let threads = match guild.get_active_threads(http).await {
                Ok(active) => active.threads,
                Err(e) => {
                    tracing::warn!(guild = %guild, error = %crate::telemetry::chain(&e), "catching up: could not list active threads");
                    continue;
                }
            };
            for thread in threads.iter().filter(|t| t.parent_id.is_some_and(|p| forums.contains(&p))) {
                self.remember_place(thread);
                // A forum post's first message has the post's id, which is also its event id.
                if self.inlet.bot.has_seen_event(PLATFORM, &thread.id.to_string()).await.unwrap_or(true) {
                    continue;
                }
                match http.get_message(thread.id, MessageId::new(thread.id.get())).await {
                    Ok(first) => {
                        self.on_message(http, &first, true).await;
                        total += 1;
                    }
                    Err(e) => tracing::warn!(thread = %thread.id, error = %crate::telemetry::chain(&e), "catching up: could not read a forum post"),
                }
            }
        }
        if total > 0 {
            tracing::info!(posts = total, "caught up on forum posts made while away");
        }
        total
    }
}

/// serenity's event handler: a thin layer over `DiscordRuntime`.
pub struct Handler(pub std::sync::Arc<DiscordRuntime>);

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let rt = &self.0;
        rt.ctx.write().unwrap_or_else(|e| e.into_inner()).bot_user_id = Some(ready.user.id);
        tracing::info!(bot = %ready.user.name, shard = ?ready.shard.map(|s| s.id.0), guilds = ready.guilds.len(), "connected to Discord");
        if let Some(tx) = rt.first_ready.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
        rt.register_commands(&ctx.http).await;
        rt.inlet.retry_held().await;
        rt.catch_up(&ctx.http).await;
        rt.inlet.mark_caught_up();
        let guilds: Vec<GuildId> = ready.guilds.iter().map(|g| g.id).collect();
        rt.catch_up_forums(&ctx.http, &guilds).await;
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let roles = GuildRoles { owner: Some(guild.owner_id), permissions: guild.roles.iter().map(|(id, r)| (*id, r.permissions)).collect() };
        self.0.guild_roles.lock().unwrap_or_else(|e| e.into_inner()).insert(guild.id, roles);
        for thread in &guild.threads {
            self.0.remember_place(thread);
        }
    }

    async fn thread_create(&self, _ctx: Context, thread: GuildChannel) {
        self.0.remember_place(&thread);
    }

    async fn message(&self, ctx: Context, msg: Message) {
        self.0.on_message(&ctx.http, &msg, false).await;
    }

    async fn message_update(&self, _ctx: Context, _old: Option<Message>, _new: Option<Message>, event: MessageUpdateEvent) {
        let incoming = map_edit(&event, &self.0.context(), Utc::now());
        if let Some(incoming) = incoming {
            self.0.inlet.accept_or_hold(incoming, false).await;
        }
    }

    async fn message_delete(&self, _ctx: Context, channel: ChannelId, message: MessageId, _guild: Option<GuildId>) {
        self.0.inlet.accept_or_hold(map_delete(channel, message, Utc::now()), false).await;
    }

    async fn reaction_add(&self, _ctx: Context, reaction: Reaction) {
        let roles = reaction.member.as_ref().map(|m| m.roles.clone()).unwrap_or_default();
        let permissions = reaction.user_id.and_then(|u| self.0.permissions(reaction.guild_id, u, &roles));
        let incoming = map_reaction(&reaction, &self.0.context(), permissions, Utc::now());
        if let Some(incoming) = incoming {
            self.0.inlet.accept_or_hold(incoming, false).await;
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Some(m) = map_interaction(&interaction, &self.0.context(), Utc::now()) else { return };
        if let Some(target) = &m.target
            && let Err(e) = self.0.inlet.bot.remember(target).await
        {
            tracing::warn!(error = %crate::telemetry::chain(&e), "could not keep a copy of the message a command is about");
        }
        match self.0.inlet.record(&m.incoming).await {
            Ok(true) => {}
            Ok(false) => return, // a redelivery, or another instance took it
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "could not record a Discord interaction");
                return;
            }
        }
        let response = match m.ack {
            Ack::Defer => CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true)),
            Ack::DeferUpdate => CreateInteractionResponse::Acknowledge,
        };
        if let Err(e) = ctx.http.create_interaction_response(m.id, &m.token, &response, Vec::new()).await {
            tracing::warn!(error = %chain_without_url(e), "acknowledging a Discord interaction failed");
        }
        let reply_url = m.incoming.reply_url.clone();
        let (http, token, deferred) = (ctx.http.clone(), m.token.clone(), m.ack == Ack::Defer);
        self.0.inlet.process_later(m.incoming, move |actions| async move {
            // An outcome shown in the channel (an escalation's ticket notice) leaves no private
            // reply to replace "thinking...": remove it instead of leaving it spinning.
            if deferred && !actions.iter().any(|a| a.reply_url == reply_url) {
                let _ = http.delete_original_interaction_response(&token).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::chain_without_url;

    #[tokio::test]
    async fn a_failed_interaction_request_is_logged_without_its_token() {
        // Nothing listens on port 1: the request fails with its URL, token included, attached.
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let failed = client.post("http://127.0.0.1:1/interactions/1/secret-token/callback").send().await.unwrap_err();
        assert!(failed.to_string().contains("secret-token"));
        let logged = chain_without_url(serenity::Error::Http(serenity::http::HttpError::Request(failed)));
        assert!(!logged.contains("secret-token"), "{logged}");
        assert!(logged.starts_with("Error while sending HTTP request.: error sending request"), "{logged}");
    }
}
