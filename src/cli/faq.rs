//! `supportbot faq`: the FAQ the bot answers from, as a moderator sees it from a shell.

use crate::app;
use crate::config::Settings;
use crate::domain::faq::render_faq_document;
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum FaqCommand {
    /// List the entries: id and question.
    List {
        /// Database URL, like sqlite://supportbot.db (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Show one entry, in the FAQ file's format, with what it learned.
    Show {
        /// The entry's id (see `faq list`).
        id: String,
        /// Database URL, like sqlite://supportbot.db (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Upsert the entries of a TOML file by id and report what changed.
    Import {
        /// An FAQ file: `[[faq]]` tables with id, question, answer (see examples/faq.toml).
        file: PathBuf,
        /// Database URL, like sqlite://supportbot.db (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Write the FAQ as TOML, in the format `faq import` reads.
    Export {
        /// Where to write it (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also write what each entry learned from the community (`[[faq.learned]]`, with who
        /// confirmed each phrasing and when); `faq import` brings them back.
        #[arg(long)]
        learned: bool,
        /// Database URL, like sqlite://supportbot.db (overrides [database] url).
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
}

pub async fn main(settings: Settings, command: FaqCommand) -> anyhow::Result<()> {
    match command {
        FaqCommand::List { db } => list(super::with_db(settings, db)).await,
        FaqCommand::Show { id, db } => show(super::with_db(settings, db), &id).await,
        FaqCommand::Import { file, db } => import(super::with_db(settings, db), file).await,
        FaqCommand::Export { out, learned, db } => export(super::with_db(settings, db), out, learned).await,
    }
}

/// The store with the FAQ `chat` and `run` would answer from (the example FAQ in a new database).
async fn store_as_the_bot_sees_it(settings: &Settings) -> anyhow::Result<crate::store::Store> {
    let (store, seeded) = app::open_store_with_faq(settings, None).await?;
    if seeded {
        eprintln!("this database had no FAQ: it now holds the example FAQ, as `chat` and `run` would load it");
    }
    Ok(store)
}

async fn list(settings: Settings) -> anyhow::Result<()> {
    let entries = store_as_the_bot_sees_it(&settings).await?.faq_entries().await?;
    let width = entries.iter().map(|e| e.id.chars().count()).max().unwrap_or(0);
    for e in &entries {
        println!("{:<width$}  {}", e.id, e.question);
    }
    eprintln!("{} entries", entries.len());
    Ok(())
}

async fn show(settings: Settings, id: &str) -> anyhow::Result<()> {
    let store = store_as_the_bot_sees_it(&settings).await?;
    let entry = store.faq_entry(id).await?.with_context(|| format!("there is no FAQ entry {id:?}; `supportbot faq list` shows the ids"))?;
    print!("{}", render_faq_document(std::slice::from_ref(&entry), &store.learned_phrasings(Some(id)).await?));
    Ok(())
}

async fn import(settings: Settings, file: PathBuf) -> anyhow::Result<()> {
    let store = app::open_store(&settings).await?;
    let r = app::import_faq_file(&store, &file).await?;
    let learned = if r.learned > 0 { format!(", {} learned phrasings", r.learned) } else { String::new() };
    println!("{}: {} added, {} updated, {} unchanged{learned}", file.display(), r.added.len(), r.updated.len(), r.unchanged.len());
    for (what, ids) in [("added", &r.added), ("updated", &r.updated)] {
        for id in ids {
            println!("  {what}: {id}");
        }
    }
    Ok(())
}

async fn export(settings: Settings, out: Option<PathBuf>, with_learned: bool) -> anyhow::Result<()> {
    let store = store_as_the_bot_sees_it(&settings).await?;
    let learned = if with_learned { store.learned_phrasings(None).await? } else { Vec::new() };
    let text = render_faq_document(&store.faq_entries().await?, &learned);
    match out {
        Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
