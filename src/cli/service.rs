//! The long-running commands: `chat`, `replay` and `run`.

use crate::app;
use crate::chat::{console, replay};
use crate::config::Settings;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use tokio::io::BufReader;

pub async fn chat(settings: Settings, user: Option<String>, moderator: bool, faq: Option<PathBuf>) -> anyhow::Result<()> {
    let (bot, model_on_the_way) = app::start_bot(&settings, faq.as_deref()).await?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        let entries = bot.store().faq_entries().await?.len();
        let matching = match (bot.embedder(), &model_on_the_way) {
            (Some(model), _) => format!("matched on meaning with {}", model.id().split(':').next().unwrap_or("the model")),
            (None, Some(_)) => "matched on words while the sentence-embedding model downloads".into(),
            (None, None) => "matched on words only (`supportbot model install` adds meaning)".into(),
        };
        println!("{entries} FAQ entries, {matching}.");
    }
    let user = user.unwrap_or_else(login_name);
    let stdin = BufReader::new(tokio::io::stdin());
    console::run(&bot, stdin, tokio::io::stdout(), console::ConsoleUser { name: user, moderator }, interactive, chrono::Utc::now).await
}

/// The person at the terminal, as the system knows them.
fn login_name() -> String {
    ["USER", "USERNAME", "LOGNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|n| !n.trim().is_empty())).unwrap_or_else(|| "guest".into())
}

pub async fn replay(settings: Settings, file: &Path, faq: Option<PathBuf>, db: Option<String>) -> anyhow::Result<()> {
    let settings = super::with_db(settings, Some(db.unwrap_or_else(|| "sqlite::memory:".into())));
    let bot = app::build_bot(&settings, faq.as_deref()).await?;
    let input = tokio::fs::File::open(file).await.with_context(|| format!("opening {}", file.display()))?;
    let started = std::time::Instant::now();
    let summary = replay::run(&bot, BufReader::new(input), tokio::io::stdout()).await?;
    eprintln!(
        "replayed {} events ({} malformed lines) into {} actions in {:.2}s",
        summary.events,
        summary.malformed,
        summary.actions,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn run(settings: Settings, listen: Option<String>) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.slack.is_some() || settings.discord.is_some(),
        "nothing to run: configure [slack] or [discord] in supportbot.toml (see supportbot.example.toml and the README's \"Slack\" and \"Discord\" sections), or try the bot in this terminal with `supportbot chat`"
    );
    let address = listen.unwrap_or_else(|| settings.server.listen.clone());
    let listener = tokio::net::TcpListener::bind(&address).await.with_context(|| format!("listening on {address}"))?;
    app::run(settings, listener, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
