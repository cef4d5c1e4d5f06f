//! The web console's sign-ins (migration 0013): sessions, one-time links and OAuth states, each
//! kept by the SHA-256 of its token, never the token.

use super::unit::OnStore;
use super::{Store, StoreResult, ms, time};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// Who a session, or a sign-in link, is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUser {
    pub platform: String,
    pub user_id: String,
    pub user_name: String,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub user: WebUser,
    /// The token every form of this session carries.
    pub csrf: String,
    /// How they signed in: "link", "discord", "slack".
    pub via: String,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub async fn create_web_session(&self, token_hash: &str, s: &WebSession, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, platform, user_id, user_name, csrf, via, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token_hash)
        .bind(&s.user.platform)
        .bind(&s.user.user_id)
        .bind(&s.user.user_name)
        .bind(&s.csrf)
        .bind(&s.via)
        .bind(ms(now))
        .bind(ms(s.expires_at))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// The session behind `token_hash`, while it lasts.
    pub async fn web_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<WebSession>> {
        let row =
            sqlx::query("SELECT platform, user_id, user_name, csrf, via, expires_at FROM web_sessions WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(ms(now))
                .fetch_optional_on(self)
                .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(WebSession {
            user: WebUser { platform: r.try_get("platform")?, user_id: r.try_get("user_id")?, user_name: r.try_get("user_name")? },
            csrf: r.try_get("csrf")?,
            via: r.try_get("via")?,
            expires_at: time(r.try_get("expires_at")?)?,
        }))
    }

    pub async fn end_web_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1").bind(token_hash).execute_on(self).await?;
        Ok(())
    }

    /// Ends every session and unused link of one member (a forgotten member, a moderator removed).
    pub async fn end_web_sessions_of(&self, platform: &str, user_id: &str) -> StoreResult<u64> {
        let mut n = 0;
        for table in ["web_sessions", "web_login_links"] {
            n += sqlx::query(&format!("DELETE FROM {table} WHERE platform = $1 AND user_id = $2"))
                .bind(platform)
                .bind(user_id)
                .execute_on(self)
                .await?
                .rows_affected();
        }
        Ok(n)
    }

    pub async fn create_login_link(&self, token_hash: &str, user: &WebUser, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("INSERT INTO web_login_links (token_hash, platform, user_id, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(token_hash)
            .bind(&user.platform)
            .bind(&user.user_id)
            .bind(&user.user_name)
            .bind(ms(now))
            .bind(ms(expires_at))
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// Spends a sign-in link: who it is for, the first time only and only before it expires
    /// (one statement, so two tabs racing on one link sign in once).
    pub async fn use_login_link(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<WebUser>> {
        let row = sqlx::query(
            "UPDATE web_login_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING platform, user_id, user_name",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional_on(self)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(WebUser { platform: r.try_get("platform")?, user_id: r.try_get("user_id")?, user_name: r.try_get("user_name")? }))
    }

    pub async fn create_oauth_state(&self, state_hash: &str, provider: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("INSERT INTO web_oauth_states (state_hash, provider, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(state_hash)
            .bind(provider)
            .bind(ms(now))
            .bind(ms(expires_at))
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// Spends an OAuth state: true once, for the provider it was made for, before it expires.
    pub async fn use_oauth_state(&self, state_hash: &str, provider: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM web_oauth_states WHERE state_hash = $1 AND provider = $2 AND expires_at > $3")
            .bind(state_hash)
            .bind(provider)
            .bind(ms(now))
            .execute_on(self)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Drops expired sessions, links and states.
    pub async fn purge_web(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut n = 0;
        for table in ["web_sessions", "web_login_links", "web_oauth_states"] {
            n += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1")).bind(ms(now)).execute_on(self).await?.rows_affected();
        }
        Ok(n)
    }
}
