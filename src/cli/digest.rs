//! `supportbot digest`: the weekly report for any period, printed or queued for the channels.

use crate::app;
use crate::config::Settings;
use chrono::{Duration, NaiveDate, Utc};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// First day of the period (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// Day after the period (YYYY-MM-DD, UTC; default: tomorrow).
    #[arg(long, value_name = "DATE")]
    to: Option<NaiveDate>,
    /// Database URL, like sqlite://supportbot.db (overrides [database] url).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Print the digest (the default).
    #[arg(long)]
    print: bool,
    /// Queue it for `[digest] channels`; the running bot (`supportbot run`) delivers it.
    #[arg(long, conflicts_with = "print")]
    post: bool,
    /// Where to write the chart (default: supportbot-digest-<to>.png here).
    #[arg(long, value_name = "PATH")]
    chart: Option<PathBuf>,
}

pub async fn main(settings: Settings, args: DigestArgs) -> anyhow::Result<()> {
    let store = app::open_store(&super::with_db(settings.clone(), args.db)).await?;
    let now = Utc::now();
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let to = args.to.map(day).unwrap_or_else(|| day(now.date_naive() + Duration::days(1)));
    let from = args.from.map(day).unwrap_or(to - Duration::days(7));
    anyhow::ensure!(from < to, "--from must be before --to");
    let model = app::load_embedder(&settings.model, settings.model.int8).await?;
    let prompts = crate::prompts::Prompts::load(settings.prompts.dir.as_deref())?;
    let config = crate::bot::BotConfig::from_settings(&settings);
    if args.post {
        anyhow::ensure!(!settings.digest.channels.is_empty(), "--post needs [digest] channels, like [\"slack:C012ABCDEF\"]");
        let queued = crate::bot::digest::queue(&store, &prompts, model.as_ref(), &config, from, to, now).await?;
        println!("digest queued for {queued} channel(s); the running bot posts it");
        return Ok(());
    }
    let digest = crate::bot::digest::digest(&store, model.as_ref(), &config, from, to, now).await?;
    let (numbers, themes) = (digest.numbers, digest.themes?);
    println!("{}", crate::bot::digest::render(&prompts, &numbers, themes.as_deref()));
    let chart = args.chart.unwrap_or_else(|| PathBuf::from(crate::bot::digest::chart_filename(&numbers)));
    crate::chart::render(&chart, &numbers.days, themes.as_deref().unwrap_or_default())?;
    eprintln!("chart written to {}", chart.display());
    Ok(())
}
