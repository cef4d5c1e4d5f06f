//! Sign in with Discord: OAuth2's authorization code grant (scopes `identify
//! guilds.members.read`), then the moderator rule the chat applies: a moderator role, or with the
//! bot's token Manage Messages, Administrator or owning the server.

use super::{
    CallFailure, Callback, Refused, call, callback_url, encode, http_client, new_state, not_set_up, required_secret, spend_state, to_provider,
    with_query,
};
use crate::config::Settings;
use crate::store::WebUser;
use crate::web::Console;
use crate::web::security::PeerAddr;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;

const PROVIDER: &str = "discord";
const NAME: &str = "Discord";
/// Discord's REST API version, as the bot's own calls use.
const API: &str = "v10";
/// Permission bits that make a moderator, as in the chat.
const ADMINISTRATOR: u64 = 1 << 3;
const MANAGE_MESSAGES: u64 = 1 << 13;

/// `[web.discord]`, checked and ready.
pub struct DiscordSignIn {
    client_id: String,
    client_secret: SecretString,
    guild: String,
    authorize_url: String,
    api_url: String,
    moderator_roles: HashSet<String>,
    /// `[discord] api_url` and the bot token, to read the server's roles and owner.
    bot: Option<(String, SecretString)>,
    http: reqwest::Client,
}

impl DiscordSignIn {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Option<Self>> {
        let Some(web) = s.web.as_ref().and_then(|w| w.discord.as_ref()) else { return Ok(None) };
        let client_secret =
            required_secret(web.client_secret.as_ref(), "[web.discord] client_secret", "Developer Portal, your application, OAuth2, Client Secret")?;
        let guild = web
            .guild
            .clone()
            .or_else(|| s.discord.as_ref().and_then(|d| d.guilds.first().cloned()))
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("[web.discord] guild is missing (and [discord] guilds is empty): name the server whose moderators may sign in")
            })?;
        let roles = if web.moderator_roles.is_empty() {
            s.discord.as_ref().map(|d| d.moderator_roles.clone()).unwrap_or_default()
        } else {
            web.moderator_roles.clone()
        };
        let bot = s.discord.as_ref().and_then(|d| {
            let token = d.token.as_ref()?.expose_secret().trim();
            let token = token.strip_prefix("Bot ").unwrap_or(token).trim();
            (!token.is_empty()).then(|| (d.api_url.trim_end_matches('/').to_string(), SecretString::from(token.to_string())))
        });
        if roles.is_empty() && bot.is_none() {
            tracing::warn!(
                "[web.discord] is set, but no moderator roles are and there is no [discord] token to read permissions with: nobody can sign in with Discord"
            );
        }
        Ok(Some(DiscordSignIn {
            client_id: web.client_id.trim().to_string(),
            client_secret,
            guild,
            authorize_url: web.authorize_url.trim().to_string(),
            api_url: web.api_url.trim_end_matches('/').to_string(),
            moderator_roles: roles.into_iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect(),
            bot,
            http: http_client()?,
        }))
    }

    fn authorize(&self, state: &str, redirect_uri: &str) -> String {
        let query = format!(
            "response_type=code&client_id={}&scope=identify%20guilds.members.read&state={}&redirect_uri={}&prompt=none",
            encode(&self.client_id),
            encode(state),
            encode(redirect_uri)
        );
        with_query(&self.authorize_url, &query)
    }

    /// The code exchanged, the member read and the moderator rule applied: who signs in.
    async fn sign_in(&self, code: &str, redirect_uri: &str) -> Result<WebUser, Refused> {
        let token: TokenAnswer = call(
            PROVIDER,
            "token",
            self.http
                .post(format!("{}/{API}/oauth2/token", self.api_url))
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .form(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)]),
        )
        .await
        .map_err(|f| match f {
            CallFailure::Status(400 | 401) => Refused::upstream(
                "Discord did not accept this sign-in (the code was refused, or the console's client id or secret is wrong): try again, and tell the operator if it keeps failing.",
            ),
            _ => unreachable_discord(),
        })?;
        if !token.token_type.eq_ignore_ascii_case("bearer") || token.access_token.is_empty() {
            tracing::warn!(provider = PROVIDER, token_type = %token.token_type, "Discord's token answer is not a bearer token");
            return Err(unreachable_discord());
        }
        let bearer = token.access_token.as_str();
        let me: DiscordUser = call(PROVIDER, "user", self.http.get(format!("{}/{API}/users/@me", self.api_url)).bearer_auth(bearer))
            .await
            .map_err(|_| unreachable_discord())?;
        let member: Member =
            call(PROVIDER, "member", self.http.get(format!("{}/{API}/users/@me/guilds/{}/member", self.api_url, self.guild)).bearer_auth(bearer))
                .await
                .map_err(|f| match f {
                    CallFailure::Status(404) => {
                        Refused::forbidden("Your Discord account is not a member of this community's server, so it cannot sign in here.")
                    }
                    _ => unreachable_discord(),
                })?;
        if me.id.is_empty() || me.username.is_empty() {
            tracing::warn!(provider = PROVIDER, "Discord's user answer has no id or name");
            return Err(unreachable_discord());
        }
        if !self.is_moderator(&me.id, &member.roles).await? {
            tracing::info!(provider = PROVIDER, user = %me.id, "console sign-in of a Discord member who is not a moderator refused");
            return Err(Refused::forbidden("Your Discord account is not one of this server's moderators, so it cannot sign in to the console."));
        }
        Ok(WebUser { platform: PROVIDER.into(), user_id: me.id, user_name: me.username })
    }

    /// The chat's rule: a moderator role; with the bot's token, also the server's owner and
    /// anyone whose roles (with @everyone's) grant Manage Messages or Administrator.
    async fn is_moderator(&self, user_id: &str, roles: &[String]) -> Result<bool, Refused> {
        if roles.iter().any(|r| self.moderator_roles.contains(r)) {
            return Ok(true);
        }
        let Some((api_url, token)) = &self.bot else { return Ok(false) };
        let auth = format!("Bot {}", token.expose_secret());
        let guild_roles = call::<Vec<Role>>(
            PROVIDER,
            "guild roles",
            self.http.get(format!("{api_url}/{API}/guilds/{}/roles", self.guild)).header(reqwest::header::AUTHORIZATION, &auth),
        );
        let guild = call::<Guild>(
            PROVIDER,
            "guild",
            self.http.get(format!("{api_url}/{API}/guilds/{}", self.guild)).header(reqwest::header::AUTHORIZATION, &auth),
        );
        let (guild_roles, guild) = tokio::join!(guild_roles, guild);
        let refused = |_| {
            Refused::upstream("Discord did not let the bot read the server's roles, so your permissions could not be checked: tell the operator.")
        };
        let (guild_roles, guild) = (guild_roles.map_err(refused)?, guild.map_err(refused)?);
        Ok(guild.owner_id == user_id || grants_moderation(&self.guild, roles, &guild_roles))
    }
}

fn unreachable_discord() -> Refused {
    Refused::upstream("Discord did not answer the sign-in as expected: try again in a moment, and tell the operator if it keeps failing.")
}

/// Whether the member's roles, with the server's @everyone role (whose id is the server's),
/// grant Manage Messages or Administrator.
fn grants_moderation(guild: &str, member_roles: &[String], guild_roles: &[Role]) -> bool {
    let bits = guild_roles
        .iter()
        .filter(|r| r.id == guild || member_roles.contains(&r.id))
        .map(|r| r.permissions.parse::<u64>().unwrap_or(0))
        .fold(0, |all, p| all | p);
    bits & (ADMINISTRATOR | MANAGE_MESSAGES) != 0
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: String,
}

#[derive(Deserialize)]
struct DiscordUser {
    id: String,
    username: String,
}

#[derive(Deserialize)]
struct Member {
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Deserialize)]
struct Role {
    id: String,
    #[serde(default)]
    permissions: String,
}

#[derive(Deserialize)]
struct Guild {
    #[serde(default)]
    owner_id: String,
}

/// `GET /console/auth/discord`: off to Discord.
pub async fn begin(State(console): State<Arc<Console>>, peer: PeerAddr, headers: HeaderMap) -> Response {
    let Some(discord) = &console.discord else { return not_set_up(&console, NAME) };
    match new_state(&console, PROVIDER, &headers, peer).await {
        Ok(state) => to_provider(discord.authorize(&state, &callback_url(&console, PROVIDER))),
        Err(refused) => refused,
    }
}

/// `GET /console/auth/discord/callback`: back from Discord.
pub async fn callback(State(console): State<Arc<Console>>, peer: PeerAddr, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let Some(discord) = &console.discord else { return not_set_up(&console, NAME) };
    let q = Callback::parse(q.as_deref());
    let (code, _state) = match spend_state(&console, PROVIDER, NAME, &headers, peer, q).await {
        Ok(got) => got,
        Err(refused) => return refused,
    };
    match discord.sign_in(&code, &callback_url(&console, PROVIDER)).await {
        Ok(user) => crate::web::session::start(&console, user, PROVIDER).await,
        Err(refused) => refused.page(&console),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, permissions: u64) -> Role {
        Role { id: id.into(), permissions: permissions.to_string() }
    }

    #[test]
    fn permissions_come_from_the_members_roles_and_everyone() {
        let guild = "100";
        let roles = [role("100", 0), role("1", MANAGE_MESSAGES), role("2", ADMINISTRATOR | 1), role("3", 1 << 10)];
        assert!(grants_moderation(guild, &["1".into()], &roles), "Manage Messages");
        assert!(grants_moderation(guild, &["3".into(), "2".into()], &roles), "Administrator");
        assert!(!grants_moderation(guild, &["3".into()], &roles), "View Channel only");
        assert!(!grants_moderation(guild, &[], &roles), "no roles");
        let generous = [role("100", MANAGE_MESSAGES)];
        assert!(grants_moderation(guild, &[], &generous), "@everyone's own permissions count");
        assert!(!grants_moderation(guild, &["1".into()], &[role("1", 0), Role { id: "9".into(), permissions: "garbage".into() }]));
    }

    #[test]
    fn settings_are_checked_and_the_guild_found() {
        let mut s = Settings::default();
        assert!(DiscordSignIn::from_settings(&s).unwrap().is_none(), "no [web.discord]");
        let web = crate::config::WebSettings {
            discord: Some(crate::config::DiscordOauth { client_id: "123".into(), guild: Some("7".into()), ..Default::default() }),
            ..Default::default()
        };
        s.web = Some(web.clone());
        let e = DiscordSignIn::from_settings(&s).err().unwrap().to_string();
        assert!(e.contains("[web.discord] client_secret is missing"), "{e}");
        let mut with_secret = web.clone();
        with_secret.discord.as_mut().unwrap().client_secret = Some("s3cret".to_string().into());
        with_secret.discord.as_mut().unwrap().guild = None;
        s.web = Some(with_secret);
        let e = DiscordSignIn::from_settings(&s).err().unwrap().to_string();
        assert!(e.contains("[web.discord] guild is missing"), "{e}");
        s.discord = Some(crate::config::DiscordSettings { guilds: vec!["42".into()], moderator_roles: vec!["9".into()], ..Default::default() });
        let d = DiscordSignIn::from_settings(&s).unwrap().unwrap();
        assert_eq!(d.guild, "42", "the first of [discord] guilds");
        assert!(d.moderator_roles.contains("9"), "[discord] moderator_roles by default");
        assert!(d.bot.is_none(), "no bot token");
        let url = d.authorize("st", "http://h/console/auth/discord/callback");
        assert_eq!(
            url,
            "https://discord.com/oauth2/authorize?response_type=code&client_id=123&scope=identify%20guilds.members.read&state=st&redirect_uri=http%3A%2F%2Fh%2Fconsole%2Fauth%2Fdiscord%2Fcallback&prompt=none"
        );
    }
}
