//! The command line.

use crate::{app, eval};
use crate::chat::{console, replay};
use crate::config::{LogFormat, Settings};
use crate::domain::faq::render_faq_file;
use crate::semantic::hub::ModelSource;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use tokio::io::BufReader;

#[derive(Debug, Parser)]
#[command(name = "supportbot", version, about = "A self-hosted support bot for open-source communities")]
pub struct Cli {
    /// Settings file (default: ./supportbot.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format (overrides [log] format).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chat with the bot in this terminal.
    Chat {
        /// Your name in the conversation.
        #[arg(long, default_value = "you")]
        user: String,
        /// Act as a moderator (ticket and FAQ commands).
        #[arg(long)]
        moderator: bool,
        /// Database URL (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
        /// FAQ file to import first (overrides [faq] file).
        #[arg(long, value_name = "FILE")]
        faq: Option<PathBuf>,
    },
    /// Show what the bot would have done on a recorded conversation (JSON lines in, JSON lines out).
    Replay {
        file: PathBuf,
        /// FAQ file (default: the example FAQ).
        #[arg(long, value_name = "FILE")]
        faq: Option<PathBuf>,
        /// Database URL (default: a throwaway in-memory database).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Run the bot: connected platforms, the HTTP server and the scheduled jobs.
    Run {
        /// Address to listen on (overrides [server] listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Manage the FAQ.
    Faq {
        #[command(subcommand)]
        command: FaqCommand,
    },
    /// Print the support digest for a period (default: the last 7 days).
    Digest {
        /// First day of the period (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        /// Day after the period (YYYY-MM-DD, UTC; default: tomorrow).
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
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
    },
    /// Measure answer quality and question detection on labeled data (../shared/eval).
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Protocol 1: FAQ answering on an intent dataset (text<TAB>label).
    Faq {
        #[arg(long, value_name = "FILE")]
        train: PathBuf,
        #[arg(long, value_name = "FILE")]
        test: PathBuf,
        /// Extra out-of-scope queries (text[<TAB>anything]).
        #[arg(long, value_name = "FILE")]
        oos: Option<PathBuf>,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Ignore any model: measure full-text matching alone.
        #[arg(long)]
        full_text: bool,
        /// Which fifth of the labels (by index in name order, mod 5) gets no FAQ entry. The
        /// protocol holds out 4; the others ask the same question of other FAQs.
        #[arg(long, value_name = "0-4", default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..5))]
        unknown_fifth: u8,
    },
    /// Protocol 3: feedback clustering (text<TAB>label), scored against the labels.
    Cluster {
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// The number of themes (default: the bot's own choice).
        #[arg(long)]
        k: Option<usize>,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
    },
    /// Protocol 2: support-question detection on chat posts (text<TAB>is_question<TAB>act).
    Detect {
        #[arg(long, value_name = "FILE")]
        posts: PathBuf,
        /// Rows that are all support requests (text<TAB>label), for request_recall.
        #[arg(long, value_name = "FILE")]
        requests: Option<PathBuf>,
        /// A train file (text<TAB>label) turned into the bot's FAQ as in protocol 1: the
        /// decision then weighs the FAQ's evidence, as in a channel.
        #[arg(long, value_name = "FILE")]
        faq: Option<PathBuf>,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Ignore any model: decide on words alone.
        #[arg(long)]
        words: bool,
    },
    /// Protocol 5: a help channel of chatter and support requests, replayed through the bot.
    Channel {
        /// Chatter (protocol 2's format; every post counts as chatter).
        #[arg(long, value_name = "FILE")]
        posts: PathBuf,
        /// Support requests (text<TAB>label).
        #[arg(long, value_name = "FILE")]
        requests: PathBuf,
        /// A train file (text<TAB>label) turned into the bot's FAQ as in protocol 1.
        #[arg(long, value_name = "FILE")]
        faq: PathBuf,
        /// Sentence-embedding model directory (overrides [model] dir).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Ignore any model: decide and match on words alone.
        #[arg(long)]
        words: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FaqCommand {
    /// Upsert the entries of a TOML file by id and report what changed.
    Import {
        file: PathBuf,
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Write the FAQ as TOML (stdout by default).
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
}

fn with_db(mut settings: Settings, db: Option<String>) -> Settings {
    if let Some(url) = db {
        settings.database.url = url;
    }
    settings
}

pub async fn main(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    // The console shares the terminal with the conversation: only warnings unless asked.
    let chatting = matches!(cli.command, Command::Chat { .. }) && settings.log.level == "info";
    let level = if chatting { "warn" } else { settings.log.level.as_str() };
    crate::telemetry::init(cli.log_format.unwrap_or(settings.log.format), level);
    match cli.command {
        Command::Chat { user, moderator, db, faq } => {
            let settings = with_db(settings, db);
            let (bot, _model_on_the_way) = app::start_bot(&settings, faq.as_deref()).await?;
            let interactive = std::io::stdin().is_terminal();
            let stdin = BufReader::new(tokio::io::stdin());
            console::run(&bot, stdin, tokio::io::stdout(), console::ConsoleUser { name: user, moderator }, interactive, chrono::Utc::now).await
        }
        Command::Replay { file, faq, db } => {
            let settings = with_db(settings, Some(db.unwrap_or_else(|| "sqlite::memory:".into())));
            let bot = app::build_bot(&settings, faq.as_deref()).await?;
            let input = tokio::fs::File::open(&file).await.with_context(|| format!("opening {}", file.display()))?;
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
        Command::Run { listen } => {
            let address = listen.unwrap_or_else(|| settings.server.listen.clone());
            let listener = tokio::net::TcpListener::bind(&address).await.with_context(|| format!("listening on {address}"))?;
            app::run(settings, listener, async {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
            })
            .await
        }
        Command::Eval { command: EvalCommand::Faq { train, test, oos, model, full_text, unknown_fifth } } => {
            let oos = oos.map(|p| eval::read_tsv(&p)).transpose()?.unwrap_or_default();
            let model = app::load_embedder(model_source(&settings, model, full_text), settings.model.int8).await?;
            let (train, test) = (eval::read_tsv(&train)?, eval::read_tsv(&test)?);
            let threshold = settings.faq.threshold;
            let metrics = tokio::task::spawn_blocking(move || eval::faq::evaluate(&train, &test, &oos, threshold, unknown_fifth.into(), model.as_deref())).await??;
            println!("{metrics}");
            Ok(())
        }
        Command::Eval { command: EvalCommand::Cluster { input, k, model } } => {
            // Without a model the themes are drawn from TF-IDF vectors, and so is this evaluation.
            let model = app::load_embedder(model_source(&settings, model, false), settings.model.int8).await?;
            let rows = eval::read_tsv(&input)?;
            println!("{}", tokio::task::spawn_blocking(move || eval::cluster::evaluate(&rows, k, model.as_deref())).await??);
            Ok(())
        }
        Command::Eval { command: EvalCommand::Detect { posts, requests, faq, model, words } } => {
            let requests = requests.map(|p| eval::read_tsv(&p)).transpose()?;
            let faq = faq.map(|p| eval::read_tsv(&p)).transpose()?;
            let model = app::load_embedder(model_source(&settings, model, words), settings.model.int8).await?;
            let metrics = eval::detect::evaluate(&eval::read_tsv(&posts)?, requests.as_deref(), faq.as_deref(), model, &settings).await?;
            println!("{metrics}");
            Ok(())
        }
        Command::Eval { command: EvalCommand::Channel { posts, requests, faq, model, words } } => {
            let model = app::load_embedder(model_source(&settings, model, words), settings.model.int8).await?;
            let (posts, requests, faq) = (eval::read_tsv(&posts)?, eval::read_tsv(&requests)?, eval::read_tsv(&faq)?);
            println!("{}", eval::channel::evaluate(&posts, &requests, &faq, model, &settings).await?);
            Ok(())
        }
        Command::Digest { from, to, db, print: _, post, chart } => {
            let store = app::open_store(&with_db(settings.clone(), db)).await?;
            let now = chrono::Utc::now();
            let day = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
            let to = to.map(day).unwrap_or_else(|| day(now.date_naive() + chrono::Duration::days(1)));
            let from = from.map(day).unwrap_or(to - chrono::Duration::days(7));
            anyhow::ensure!(from < to, "--from must be before --to");
            let model = app::load_embedder(&settings.model, settings.model.int8).await?;
            if post {
                anyhow::ensure!(!settings.digest.channels.is_empty(), "--post needs [digest] channels, like [\"slack:C012ABCDEF\"]");
                let prompts = crate::prompts::Prompts::load(settings.prompts.dir.as_deref())?;
                let queued = crate::digest::queue(&store, &prompts, model.as_ref(), &settings.digest, from, to, now).await?;
                println!("digest queued for {queued} channel(s); the running bot posts it");
                return Ok(());
            }
            let digest = crate::digest::digest(&store, model.as_ref(), &settings.digest, from, to, now).await?;
            let (numbers, themes) = (digest.numbers, digest.themes?);
            let prompts = crate::prompts::Prompts::load(settings.prompts.dir.as_deref())?;
            println!("{}", crate::digest::render(&prompts, &numbers, themes.as_deref()));
            let chart = chart.unwrap_or_else(|| PathBuf::from(crate::digest::chart_filename(&numbers)));
            crate::chart::render(&chart, &numbers.days, themes.as_deref().unwrap_or_default())?;
            eprintln!("chart written to {}", chart.display());
            Ok(())
        }
        Command::Faq { command: FaqCommand::Import { file, db } } => {
            let store = app::open_store(&with_db(settings, db)).await?;
            let r = app::import_faq_file(&store, &file).await?;
            println!("{}: {} added, {} updated, {} unchanged", file.display(), r.added.len(), r.updated.len(), r.unchanged.len());
            for (what, ids) in [("added", &r.added), ("updated", &r.updated)] {
                for id in ids {
                    println!("  {what}: {id}");
                }
            }
            Ok(())
        }
        Command::Faq { command: FaqCommand::Export { out, db } } => {
            let store = app::open_store(&with_db(settings, db)).await?;
            let text = render_faq_file(&store.faq_entries().await?);
            match out {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display())),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
    }
}

/// `--model DIR` wins; else the settings' model (a directory, or the hub when `fetch` is on).
fn model_source(settings: &Settings, flag: Option<PathBuf>, full_text: bool) -> ModelSource {
    match (full_text, flag) {
        (true, _) => ModelSource::None,
        (false, Some(dir)) => ModelSource::Dir(dir),
        (false, None) => (&settings.model).into(),
    }
}
