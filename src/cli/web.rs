//! `supportbot web link`: the operator signs a moderator in to the web console from the host,
//! before any chat platform is set up (or when a moderator lost access to theirs).

use crate::app;
use crate::bot::web::{ConsoleLinks, sign_in_link};
use crate::config::Settings;
use crate::store::WebUser;
use chrono::Utc;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum WebCommand {
    /// Print a one-time sign-in link (good for `[web] link_ttl`) for a moderator.
    Link {
        /// Their platform: console, discord or slack (the identity their actions are recorded under).
        #[arg(long, default_value = "console")]
        platform: String,
        /// Their id on that platform (on the console: their name).
        #[arg(long, value_name = "ID")]
        user: String,
        /// The name their actions show (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// Database URL, like sqlite://supportbot.db (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
}

pub async fn main(settings: Settings, command: WebCommand) -> anyhow::Result<()> {
    let WebCommand::Link { platform, user, name, db } = command;
    let settings = super::with_db(settings, db);
    let Some(web) = settings.web.as_ref().filter(|w| w.enabled) else {
        anyhow::bail!("the web console is off: add a [web] section with public_url to the settings (README, \"The web console\")");
    };
    if user.trim().is_empty() {
        anyhow::bail!("--user is empty: give the moderator's id on {platform}");
    }
    let rule = crate::web::ModeratorRule::from_settings(&settings);
    let who = WebUser { platform: platform.trim().to_lowercase(), user_name: name.unwrap_or_else(|| user.clone()), user_id: user };
    if !rule.allows(&who) {
        anyhow::bail!("{} is not in [slack] moderators: the console would refuse them", who.user_id);
    }
    let store = app::open_store(&settings).await?;
    let links = ConsoleLinks { base: web.base().to_string(), ttl: web.link_ttl };
    let link = sign_in_link(&store, &links, &who, Utc::now()).await?;
    store.close().await;
    println!("{link}");
    eprintln!("Good once, for {}. Whoever opens it first is signed in as {}.", humantime::format_duration(web.link_ttl), who.user_name);
    Ok(())
}
