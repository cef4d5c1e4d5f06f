//! The command line: the arguments here, one function per subcommand in the files beside.

mod digest;
mod eval;
mod faq;
mod model;
mod privacy;
mod service;
mod web;

use crate::config::{LogFormat, Settings};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub use eval::EvalCommand;
pub use faq::FaqCommand;
pub use model::ModelCommand;
pub use privacy::PrivacyCommand;

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
        /// Your name in the conversation (default: your login name).
        #[arg(long)]
        user: Option<String>,
        /// Act as a moderator (ticket and FAQ commands).
        #[arg(long)]
        moderator: bool,
        /// Database URL, like sqlite://supportbot.db or postgres://host/db (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
        /// FAQ file to import first (overrides [faq] file).
        #[arg(long, value_name = "FILE")]
        faq: Option<PathBuf>,
    },
    /// Show what the bot would have done on a recorded conversation (JSON lines in, JSON lines out).
    Replay {
        /// The conversation: one JSON event per line (see tests/fixtures/replay).
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
    /// Manage the FAQ: list, show, import, export.
    Faq {
        #[command(subcommand)]
        command: FaqCommand,
    },
    /// Install a sentence-embedding model brought by hand (no hub needed).
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Print the support digest for a period (default: the last 7 days).
    Digest(digest::DigestArgs),
    /// Measure answer quality and question detection on labeled data (text<TAB>label files).
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// A member's data: forget them, export it, or print what is kept and for how long.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// The web console: a one-time sign-in link for a moderator.
    Web {
        #[command(subcommand)]
        command: web::WebCommand,
    },
}

/// `--db URL` over `[database] url`.
fn with_db(mut settings: Settings, db: Option<String>) -> Settings {
    if let Some(url) = db {
        settings.database.url = url;
    }
    settings
}

/// The whole program: arguments parsed, the async runtime started, the command run, its error
/// said in one sentence. Here, not in `main.rs`: compiled once in the library, the binary only
/// links it (its own crate took 58 s of a release build when it held the runtime's `block_on`).
pub fn run() -> std::process::ExitCode {
    // Before the async runtime starts its threads: it sets an environment variable.
    crate::semantic::threads::fix_thread_count();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable sentence with its causes, not a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub async fn main(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    // The console shares the terminal with the conversation: only errors unless asked (its
    // first screen says what a warning would have). An evaluation replays thousands of events
    // through the bot: their info lines would bury its figures, so warnings and errors only.
    let level = match &cli.command {
        _ if settings.log.level != "info" => settings.log.level.as_str(),
        Command::Chat { .. } => "error",
        Command::Eval { .. } => "warn",
        _ => "info",
    };
    crate::telemetry::init(cli.log_format.unwrap_or(settings.log.format), level);
    match cli.command {
        Command::Chat { user, moderator, db, faq } => service::chat(with_db(settings, db), user, moderator, faq).await,
        Command::Replay { file, faq, db } => service::replay(settings, &file, faq, db).await,
        Command::Run { listen } => service::run(settings, listen).await,
        Command::Faq { command } => faq::main(settings, command).await,
        Command::Model { command } => model::main(&settings, command).await,
        Command::Digest(args) => digest::main(settings, args).await,
        Command::Eval { command } => eval::main(&settings, command).await,
        Command::Privacy { command } => privacy::main(settings, command).await,
        Command::Web { command } => web::main(settings, command).await,
    }
}
