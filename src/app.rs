//! Wiring: settings in, a running bot out. Also the long-running `run` service.

use crate::bot::{Bot, BotConfig, Scheduler};
use crate::config::{Settings, redact_url};
use crate::domain::faq::{ImportReport, parse_faq_document};
use crate::prompts::Prompts;
use crate::semantic::Embedder;
use crate::semantic::hub::ModelSource;
use crate::store::{Store, Upsert};
use anyhow::Context;
use chrono::Utc;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The FAQ shipped in `examples/faq.toml`: the console's default, and the seed of a new database.
pub const EXAMPLE_FAQ: &str = include_str!("../examples/faq.toml");

pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect_with(&settings.database.url, &crate::store::StoreOptions::from_settings(&settings.database))
        .await
        .with_context(|| format!("opening the database {}", redact_url(&settings.database.url)))
}

/// Upserts every entry of an FAQ file by id and says what changed.
pub async fn import_faq(store: &Store, name: &str, source: &str) -> anyhow::Result<ImportReport> {
    let file = parse_faq_document(name, source)?;
    let mut report = ImportReport::default();
    let now = Utc::now();
    for e in &file.entries {
        match store.upsert_faq(e, "file", now).await? {
            Upsert::Added => report.added.push(e.id.clone()),
            Upsert::Updated => report.updated.push(e.id.clone()),
            Upsert::Unchanged => report.unchanged.push(e.id.clone()),
        }
    }
    // A moderator's file: its learned phrasings are kept as they are, provenance included.
    for l in &file.learned {
        if store.learn_phrasing(l, None, None).await? {
            report.learned += 1;
        }
    }
    Ok(report)
}

pub async fn import_faq_file(store: &Store, path: &Path) -> anyhow::Result<ImportReport> {
    let source = std::fs::read_to_string(path).with_context(|| format!("reading the FAQ file {}", path.display()))?;
    import_faq(store, &path.display().to_string(), &source).await
}

/// Opens the store, loads the FAQ (the given file, or the example FAQ into an empty database)
/// and the prompts, and builds the bot, its model loaded first (fetched first if need be): for
/// commands that run once (`replay`), so that every message meets the same bot.
pub async fn build_bot(settings: &Settings, faq_file: Option<&Path>) -> anyhow::Result<Bot> {
    let (store, prompts) = open_store_and_faq(settings, faq_file).await?;
    let embedder = load_embedder(&settings.model, settings.model.int8).await?;
    Ok(Bot::new(store, prompts, BotConfig::from_settings(settings), embedder).await?)
}

/// The bot for long-running use (`run`, `chat`), answering at once. Its model comes from
/// `[model] dir` or the hub's cache as in `build_bot`; one that must be downloaded first is
/// fetched in the background (the returned task) and attached when ready, the FAQ matched on
/// words until then. A download can take minutes, or fail after one on a host that cannot reach
/// the hub: neither should keep the bot from answering.
pub async fn start_bot(settings: &Settings, faq_file: Option<&Path>) -> anyhow::Result<(Arc<Bot>, Option<tokio::task::JoinHandle<()>>)> {
    let hub = match ModelSource::from(&settings.model) {
        ModelSource::Hub(hub) if !crate::semantic::hub::is_cached(&hub) => hub,
        _ => return Ok((Arc::new(build_bot(settings, faq_file).await?), None)),
    };
    let (store, prompts) = open_store_and_faq(settings, faq_file).await?;
    let bot = Arc::new(Bot::new(store, prompts, BotConfig::from_settings(settings), None).await?);
    tracing::info!(
        repo = %hub.repo,
        "the sentence-embedding model is not in the cache yet: fetching it in the background, FAQ questions are matched on their words until it is ready"
    );
    let (attach_to, int8) = (bot.clone(), settings.model.int8);
    let task = tokio::spawn(async move {
        match load_embedder(ModelSource::Hub(hub), int8).await {
            Ok(Some(model)) => match attach_to.attach_embedder(model).await {
                Ok(()) => tracing::info!("FAQ questions are now matched on their meaning too"),
                // The model is attached; the index is rebuilt on the next question instead.
                Err(e) => tracing::warn!(error = %crate::telemetry::chain(&e), "could not rebuild the FAQ index on the new model yet"),
            },
            Ok(None) => {} // already said why, once
            Err(e) => tracing::warn!("{e:#}; FAQ questions are matched on their words only"),
        }
    });
    Ok((bot, Some(task)))
}

/// The store with the FAQ loaded (the given file, or the example FAQ into an empty database),
/// and the prompts.
async fn open_store_and_faq(settings: &Settings, faq_file: Option<&Path>) -> anyhow::Result<(Store, Prompts)> {
    let (store, _) = open_store_with_faq(settings, faq_file).await?;
    Ok((store, Prompts::load(settings.prompts.dir.as_deref())?))
}

/// The store with the FAQ the bot answers from: the given file (or `[faq] file`) imported, or
/// the example FAQ loaded into an empty database (then `true`).
pub async fn open_store_with_faq(settings: &Settings, faq_file: Option<&Path>) -> anyhow::Result<(Store, bool)> {
    let store = open_store(settings).await?;
    match faq_file.or(settings.faq.file.as_deref()) {
        Some(path) => {
            let r = import_faq_file(&store, path).await?;
            tracing::info!(added = r.added.len(), updated = r.updated.len(), unchanged = r.unchanged.len(), "FAQ imported");
        }
        None if store.faq_entries().await?.is_empty() => {
            import_faq(&store, "examples/faq.toml", EXAMPLE_FAQ).await?;
            tracing::info!("empty FAQ: loaded the example FAQ");
            return Ok((store, true));
        }
        None => {}
    }
    Ok((store, false))
}

/// Loads the sentence-embedding model: from `[model] dir`, or, with no dir and `[model] fetch`
/// on (the default), from the hub through the local cache (downloaded on first use). Takes
/// `&ModelSettings`, or just a directory (`Option<&Path>`, the CLI's `--model DIR`). A configured but broken
/// directory is an error at start. No model at all, or one that could not be fetched, is fine:
/// the FAQ is matched on words only, said once.
/// `int8`: `[model] int8` (see `Embedder::load`).
pub async fn load_embedder(source: impl Into<ModelSource>, int8: bool) -> anyhow::Result<Option<Arc<Embedder>>> {
    let (dir, fetched) = match source.into() {
        ModelSource::None => {
            tracing::warn!(
                "no [model] dir is set and [model] fetch is off: FAQ questions are matched on their words only (see README, \"Semantic matching\")"
            );
            return Ok(None);
        }
        ModelSource::Dir(dir) => (dir, None),
        ModelSource::Hub(hub) => match crate::semantic::hub::fetch(&hub).await {
            Ok(dir) => (dir, Some(hub)),
            Err(e) => {
                tracing::warn!(
                    "{e}; until then FAQ questions are matched on their words only (a host that cannot reach the hub: set [model] fetch = false)"
                );
                return Ok(None);
            }
        },
    };
    let started = std::time::Instant::now();
    let (path, name) = (dir.clone(), fetched.as_ref().map(|h| h.model_name().to_string()));
    let loaded = tokio::task::spawn_blocking(move || match name {
        Some(name) => Embedder::load_named(&path, &name, int8),
        None => Embedder::load(&path, int8),
    })
    .await?;
    let model = match (loaded, fetched) {
        (Ok(model), _) => model,
        (Err(e), None) => return Err(e.context(format!("loading the sentence-embedding model from {} ([model] dir)", dir.display()))),
        (Err(e), Some(hub)) => {
            tracing::warn!(
                "the sentence-embedding model {} fetched into {} could not be loaded ({e:#}); delete that directory to fetch it again, or set [model] dir to a local copy; until then FAQ questions are matched on their words only",
                hub.repo,
                dir.display()
            );
            return Ok(None);
        }
    };
    tracing::info!(model = model.id(), ms = started.elapsed().as_millis() as u64, "sentence-embedding model loaded");
    Ok(Some(Arc::new(model)))
}

/// Serves until `shutdown` completes: the HTTP server and the periodic jobs (`bot::Scheduler`,
/// run every `[bot] tick`).
/// Platform adapters attach here as they are configured.
pub async fn run(settings: Settings, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let (bot, _model_on_the_way) = start_bot(&settings, None).await?;
    let resumed = bot.resume(Utc::now()).await?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed events left unprocessed by the last run");
    }
    if settings.slack.is_none() && settings.discord.is_none() {
        tracing::warn!("no chat platform is configured: only the HTTP server and the scheduler run");
    }
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let mut routes = axum::Router::new();
    let slack = match &settings.slack {
        Some(slack) => {
            let handle = crate::chat::slack::start(slack, &settings.tickets.moderators_channel, bot.clone(), stop_rx.clone()).await?;
            if let Some(r) = &handle.router {
                routes = routes.merge(r.clone());
            }
            Some(handle)
        }
        None => None,
    };
    let discord = match &settings.discord {
        Some(discord) => Some(crate::chat::discord::start(discord, &settings.tickets.moderators_channel, bot.clone(), stop_rx.clone()).await?),
        None => None,
    };
    let github = match &settings.github {
        Some(github) => {
            let client = crate::github::GithubClient::new(github)?;
            if let Some(secret) =
                github.webhook_secret.as_ref().map(|s| secrecy::ExposeSecret::expose_secret(s).to_string()).filter(|s| !s.trim().is_empty())
            {
                routes = routes.merge(crate::github::webhook::routes(bot.clone(), &secret));
            } else {
                tracing::warn!("[github] webhook_secret is not set: closing an issue on GitHub will not resolve its ticket");
            }
            let tick = settings.bot.tick.max(Duration::from_millis(50));
            Some(tokio::spawn(crate::github::worker::run(bot.clone(), client, tick, stop_rx.clone())))
        }
        None => None,
    };
    if let Some(console) = crate::web::routes(bot.clone(), &settings)? {
        routes = routes.merge(console);
        if let Some(web) = &settings.web {
            tracing::info!(url = %format!("{}/console", web.base()), "the web console is served");
        }
    }
    let instance = format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "supportbot".into()), std::process::id());
    let tick = settings.bot.tick.max(Duration::from_millis(50));
    let jobs = {
        let scheduler = Scheduler::new((*bot).clone(), instance);
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(tick);
            loop {
                tokio::select! {
                    _ = timer.tick() => { scheduler.run_due(Utc::now()).await; }
                    _ = stop_rx.changed() => break,
                }
            }
        })
    };
    tracing::info!(address = %listener.local_addr()?, "listening");
    let app = crate::server::router(bot.clone(), routes).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.context("HTTP server failed")?;
    let _ = stop_tx.send(true);
    let _ = jobs.await;
    if let Some(github) = github {
        let _ = github.await;
    }
    if let Some(slack) = slack {
        slack.stop().await;
    }
    if let Some(discord) = discord {
        discord.stop().await;
    }
    bot.store().close().await;
    Ok(())
}
