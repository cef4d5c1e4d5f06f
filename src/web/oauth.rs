//! Sign in with Discord (OAuth2) and with Slack (OpenID Connect). (Being written.)

use super::Console;
use crate::config::Settings;
use axum::Router;
use std::sync::Arc;

pub struct DiscordSignIn;
pub struct SlackSignIn;

impl DiscordSignIn {
    pub fn from_settings(_s: &Settings) -> anyhow::Result<Option<Self>> {
        Ok(None)
    }
}

impl SlackSignIn {
    pub fn from_settings(_s: &Settings) -> anyhow::Result<Option<Self>> {
        Ok(None)
    }
}

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
}
