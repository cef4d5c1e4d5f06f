//! `supportbot privacy`: the operator's side of a member's requests (forget, export) and the
//! privacy statement for the settings in force.

use crate::app;
use crate::config::Settings;
use crate::store::privacy::{Forget, Requester};
use chrono::Utc;
use clap::{Args, Subcommand};

/// Which member, and where they are stored.
#[derive(Debug, Args)]
pub struct Member {
    /// The platform they are on: discord, slack, console.
    #[arg(long)]
    platform: String,
    /// Their id on that platform.
    #[arg(long, value_name = "ID")]
    user: String,
    /// Database URL, like sqlite://supportbot.db (overrides [database] url).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Forget a member: delete their messages, questions, votes, feedback, learned phrasings
    /// and detector examples, and remove the text of their tickets (numbers and state stay).
    Forget(Member),
    /// Write everything stored about a member as a JSON document to standard output.
    Export(Member),
    /// Print what supportbot stores and for how long, for the settings in force (plain text a
    /// community can link from its rules).
    Policy,
}

pub async fn main(settings: Settings, command: PrivacyCommand) -> anyhow::Result<()> {
    match command {
        PrivacyCommand::Forget(Member { platform, user, db }) => forget(super::with_db(settings, db), &platform, &user).await,
        PrivacyCommand::Export(Member { platform, user, db }) => export(super::with_db(settings, db), &platform, &user).await,
        PrivacyCommand::Policy => {
            let prompts = crate::prompts::Prompts::load(settings.prompts.dir.as_deref())?;
            println!(
                "{}",
                crate::bot::privacy::policy_plain_text(
                    &prompts,
                    &settings.privacy.policy(),
                    settings.digest.min_users,
                    crate::bot::privacy::github_destination(settings.github.as_ref().map(|g| g.repo.as_deref())).as_deref(),
                )
            );
            Ok(())
        }
    }
}

fn check(platform: &str, user: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!platform.trim().is_empty(), "--platform is empty: give the member's platform, like discord or slack");
    anyhow::ensure!(!user.trim().is_empty(), "--user is empty: give the member's id on {platform}");
    Ok(())
}

async fn forget(settings: Settings, platform: &str, user: &str) -> anyhow::Result<()> {
    check(platform, user)?;
    let store = app::open_store(&settings).await?;
    let now = Utc::now();
    let key = format!("forget:operator:{}:{}", now.timestamp_micros(), std::process::id());
    let request = Forget { platform, user_id: user, also_named: None, requester: Requester::Operator, event_id: None, key };
    let counts = store.forget_member(&request, now).await?;
    store.checkpoint().await;
    store.close().await;
    println!("forgot member {user} of {platform}: removed {}", counts.describe());
    if counts.get("tickets") > 0 {
        println!("their tickets keep their number and state; their text now reads \"{}\"", crate::domain::privacy::REMOVED_AT_REQUEST);
    }
    eprintln!("running bots rebuild their FAQ index on their next question; nothing else needs restarting");
    Ok(())
}

async fn export(settings: Settings, platform: &str, user: &str) -> anyhow::Result<()> {
    check(platform, user)?;
    let store = app::open_store(&settings).await?;
    let now = Utc::now();
    let export = store.export_member(platform, user, now).await?;
    let key = format!("export:operator:{}:{}", now.timestamp_micros(), std::process::id());
    store.record_privacy_action(&key, "export", "operator", None, Some(platform), &export.counts(), now).await?;
    store.close().await;
    println!("{}", serde_json::to_string_pretty(&export)?);
    eprintln!("{}: {}", if export.counts().is_empty() { "nothing is stored about this member" } else { "exported" }, export.counts().describe());
    Ok(())
}
