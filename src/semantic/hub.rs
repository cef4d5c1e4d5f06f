//! The model fetched from the Hugging Face hub on first use, into a local cache (`[model] fetch`).
//!
//! Downloads go through `hf-hub`: each file is written to a `.sync.part` file and renamed into the
//! cache only when complete, and a snapshot entry points at it only after that, so an interrupted
//! download is never loaded (the next start resumes it). Weights stored with Git LFS are named by
//! their SHA-256, which is checked here too before the files are loaded.
//! Later starts find every file in the cache and open no connection at all.

use crate::config::ModelSettings;
use hf_hub::api::tokio::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The weights: the one large file (see `WEIGHTS_TIMEOUT`).
const WEIGHTS_FILE: &str = "model.safetensors";
/// What a sentence-transformer directory must hold for `Embedder::load`.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", WEIGHTS_FILE];

/// Where the sentence-embedding model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// No model: FAQ questions are matched on their words only.
    None,
    /// A local directory (`[model] dir`), used as is.
    Dir(PathBuf),
    /// The hub, through the local cache (no `dir`, and `[model] fetch` on, the default).
    Hub(HubModel),
}

/// A model repository on a hub, and the local cache it is fetched into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubModel {
    pub hub_url: String,
    pub repo: String,
    pub revision: String,
    /// None when no cache directory could be found (see `ModelSettings::cache_dir`).
    pub cache_dir: Option<PathBuf>,
}

impl HubModel {
    /// The name the loaded model goes by: the repository's own name, like "all-MiniLM-L6-v2".
    pub fn model_name(&self) -> &str {
        self.repo.rsplit('/').next().unwrap_or(&self.repo)
    }

    fn endpoint(&self) -> &str {
        self.hub_url.trim_end_matches('/')
    }

    /// The repository at its revision, as hf-hub names it.
    fn hub_repo(&self) -> Repo {
        Repo::with_revision(self.repo.clone(), RepoType::Model, self.revision.clone())
    }
}

/// `[model]`: `dir` wins; then a copy installed with `supportbot model install` (in the cache,
/// named after the repository: read with or without `fetch`); otherwise the hub, unless
/// `fetch` is off.
impl From<&ModelSettings> for ModelSource {
    fn from(m: &ModelSettings) -> Self {
        if let Some(dir) = &m.dir {
            return ModelSource::Dir(dir.clone());
        }
        if let Some(installed) = installed_dir(m).filter(|d| super::install::is_model_dir(d)) {
            return ModelSource::Dir(installed);
        }
        match m.fetch {
            true => ModelSource::Hub(HubModel {
                hub_url: m.hub_url.clone(),
                repo: m.repo.clone(),
                revision: m.revision.clone(),
                cache_dir: m.cache_dir.clone(),
            }),
            false => ModelSource::None,
        }
    }
}

/// Where `supportbot model install` puts the configured model: `<cache_dir>/<repository name>`.
pub fn installed_dir(m: &ModelSettings) -> Option<PathBuf> {
    Some(m.cache_dir.as_ref()?.join(m.repo.rsplit('/').next().unwrap_or(&m.repo)))
}

/// Why the model could not be fetched. Each says what failed and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "could not fetch the sentence-embedding model {repo} ({revision}): there is no cache directory (neither XDG_CACHE_HOME nor HOME is set); set [model] cache_dir, or [model] dir to a local copy of the model"
    )]
    NoCacheDir { repo: String, revision: String },
    #[error(
        "could not fetch the sentence-embedding model {repo} ({revision}) from {url}: {cause}; set [model] dir to a local copy of the model (README, \"Semantic matching\")"
    )]
    Download { repo: String, revision: String, url: String, cause: String },
    #[error(
        "the sentence-embedding model {repo} ({revision}) fetched from {url} does not match its SHA-256 and was discarded; try again, or set [model] dir to a local copy of the model"
    )]
    Checksum { repo: String, revision: String, url: String },
    #[error(
        "the sentence-embedding model {repo} ({revision}) changed on the hub while it was being fetched; pin [model] revision to a commit, or set [model] dir to a local copy of the model"
    )]
    Moving { repo: String, revision: String },
    #[error("could not use the model cache {dir}: {cause}; set [model] cache_dir, or [model] dir to a local copy of the model")]
    Cache { dir: PathBuf, cause: std::io::Error },
}

/// The longest the weights' download may take: all-MiniLM-L6-v2's 90 MB at 100 kB/s.
const WEIGHTS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// The longest a small file (config.json first, then tokenizer.json, 0.5 MB) may take. Fetching
/// is on by default, so a host whose firewall silently drops traffic to the hub gives up on
/// it in a minute rather than after the weights' 15.
const SMALL_FILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether every file of `model` is already in its cache (not checked further: `fetch` does
/// that). Sends nothing.
pub fn is_cached(model: &HubModel) -> bool {
    let Some(cache_dir) = &model.cache_dir else { return false };
    let cache = Cache::new(cache_dir.clone()).repo(model.hub_repo());
    MODEL_FILES.iter().all(|file| cache.get(file).is_some())
}

/// The local directory holding [`MODEL_FILES`] of `model`, fetching from the hub what the cache
/// lacks. With everything cached, nothing is sent anywhere.
pub async fn fetch(model: &HubModel) -> Result<PathBuf, FetchError> {
    let Some(cache_dir) = model.cache_dir.clone() else {
        return Err(FetchError::NoCacheDir { repo: model.repo.clone(), revision: model.revision.clone() });
    };
    let repo = model.hub_repo();
    let cache = Cache::new(cache_dir.clone()).repo(repo.clone());
    let cache_error = |cause| FetchError::Cache { dir: cache_dir.clone(), cause };
    let mut api: Option<ApiRepo> = None; // built on the first download only
    // Files of one snapshot belong together. If the revision moved between two downloads, the
    // second pass brings the older files up to the newest commit.
    for _pass in 0..2 {
        let mut paths = Vec::with_capacity(MODEL_FILES.len());
        for file in MODEL_FILES {
            if let Some(path) = cache.get(file) {
                if verified(&path).await.map_err(cache_error)? {
                    paths.push(path);
                    continue;
                }
                tracing::warn!(file = %path.display(), "a cached model file does not match its SHA-256; fetching it again");
            }
            if api.is_none() {
                tracing::info!(repo = %model.repo, revision = %model.revision, hub = model.endpoint(), cache = %cache_dir.display(), "fetching the sentence-embedding model (first use)");
                api = Some(client(model, &cache_dir, repo.clone()).map_err(|e| download_error(model, model.endpoint().to_string(), e))?);
            }
            let api = api.as_ref().expect("built above");
            let url = api.url(file);
            let started = std::time::Instant::now();
            // hf-hub sets no timeout of its own: a stalled connection would hang forever.
            let timeout = if file == WEIGHTS_FILE { WEIGHTS_TIMEOUT } else { SMALL_FILE_TIMEOUT };
            let path = match tokio::time::timeout(timeout, api.get(file)).await {
                Ok(got) => got.map_err(|e| download_error(model, url.clone(), e))?,
                Err(_) => {
                    let cause = format!("no complete answer within {}", humantime::format_duration(timeout));
                    return Err(FetchError::Download { repo: model.repo.clone(), revision: model.revision.clone(), url, cause });
                }
            };
            if !verified(&path).await.map_err(cache_error)? {
                return Err(FetchError::Checksum { repo: model.repo.clone(), revision: model.revision.clone(), url });
            }
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            tracing::info!(file, bytes, ms = started.elapsed().as_millis() as u64, "fetched");
            paths.push(path);
        }
        let dir = paths[0].parent().expect("a cached file is in a snapshot directory").to_path_buf();
        if paths.iter().all(|p| p.parent() == Some(dir.as_path())) {
            return Ok(dir);
        }
    }
    Err(FetchError::Moving { repo: model.repo.clone(), revision: model.revision.clone() })
}

/// A client for `model` on its hub: no progress bar, and no token (the models fetched are public,
/// and a token from some other tool's cache must not travel to a configured `hub_url`).
fn client(model: &HubModel, cache_dir: &Path, repo: Repo) -> Result<ApiRepo, ApiError> {
    let api = ApiBuilder::from_cache(Cache::new(cache_dir.to_path_buf()))
        .with_token(None)
        .with_progress(false)
        .with_endpoint(model.endpoint().to_string())
        .with_user_agent("supportbot", env!("CARGO_PKG_VERSION"))
        .build()?;
    Ok(api.repo(repo))
}

fn download_error(model: &HubModel, url: String, e: ApiError) -> FetchError {
    let cause = match e {
        // The URL is said once, in the sentence itself.
        ApiError::RequestError(e) => chain(&e.without_url()),
        e => chain(&e),
    };
    FetchError::Download { repo: model.repo.clone(), revision: model.revision.clone(), url, cause }
}

/// An error and its causes, "outer: inner: innermost", without repeats.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Whether the cached file at `path` is whole. The hub names blobs by their ETag, which for
/// Git LFS files (the weights) is the SHA-256 of the content: those are hashed and compared,
/// and a mismatch is removed from the cache so it is never loaded. Other files (small JSON,
/// named by a Git blob id) are complete once in the cache: `hf-hub` renames them there whole.
async fn verified(path: &Path) -> std::io::Result<bool> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let blob = std::fs::canonicalize(&path)?;
        let Some(expected) = blob.file_name().and_then(|n| n.to_str()).filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit())) else {
            return Ok(true);
        };
        let mut hasher = Sha256::new();
        std::io::copy(&mut std::fs::File::open(&blob)?, &mut hasher)?;
        let actual = format!("{:x}", hasher.finalize());
        if actual.eq_ignore_ascii_case(expected) {
            return Ok(true);
        }
        std::fs::remove_file(&path)?;
        std::fs::remove_file(&blob)?;
        Ok(false)
    })
    .await
    .map_err(std::io::Error::other)?
}
