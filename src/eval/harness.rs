//! A real bot for the evaluations that replay messages: its own SQLite file in the temp
//! directory (removed afterwards), the shipped settings and prompts, an FAQ from a train file.

use super::Row;
use super::faq::{build_faq, unknown_labels};
use crate::bot::{Bot, BotConfig};
use crate::config::Settings;
use crate::domain::message::{Author, Incoming, IncomingKind};
use crate::prompts::Prompts;
use crate::semantic::Embedder;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

/// Where replayed messages are posted: a help channel, as the protocols say.
pub const CHANNEL: &str = "help";
pub const PLATFORM: &str = "eval";

pub struct EvalBot {
    pub bot: Bot,
    /// The FAQ's entry ids (labels with an entry).
    pub answerable: std::collections::BTreeSet<String>,
    path: PathBuf,
}

impl EvalBot {
    /// A bot whose FAQ is `train` turned into entries as in protocol 1 (none without it).
    pub async fn start(train: Option<&[Row]>, model: Option<Arc<Embedder>>, settings: &Settings) -> anyhow::Result<EvalBot> {
        static RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("supportbot-eval-{}-{n}.db", std::process::id()));
        remove_db(&path);
        let store = Store::connect(&format!("sqlite://{}", path.display()), 4).await?;
        let faq = train.map(|t| build_faq(t, &unknown_labels(t, 4))).unwrap_or_default();
        let epoch = start_time();
        for entry in &faq {
            store.upsert_faq(entry, "file", epoch).await?;
        }
        let answerable = faq.iter().map(|e| e.id.clone()).collect();
        let bot = Bot::new(store, Prompts::load(None)?, BotConfig::from_settings(settings), model).await?;
        Ok(EvalBot { bot, answerable, path })
    }

    /// Item `i` as a top-level message by its own user, `i` minutes after the start.
    pub fn message(i: usize, text: &str) -> Incoming {
        Incoming {
            platform: PLATFORM.into(),
            event_id: format!("e{i}"),
            at: at(i),
            channel: CHANNEL.into(),
            author: Author { id: format!("u{i}"), name: format!("user{i}"), is_moderator: false },
            kind: IncomingKind::Message { id: format!("m{i}"), text: text.to_string(), reply_to: None },
            reply_url: None,
        }
    }
}

impl Drop for EvalBot {
    fn drop(&mut self) {
        remove_db(&self.path);
    }
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-migrations.lock"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// A fixed start, so replays are the same on every run.
pub fn start_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("a valid time") // 2026-01-01
}

pub fn at(i: usize) -> DateTime<Utc> {
    start_time() + chrono::Duration::minutes(i as i64)
}
