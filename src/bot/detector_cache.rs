//! What fitting the detector needs, kept so that a restart or another process with the same
//! inputs does not redo it: fitted detectors by the key of their inputs, and the shipped
//! examples' embeddings by model. In memory for this process and as small files under the cache
//! directory (`~/.cache/supportbot/detector`). A file that cannot be read or written only costs
//! the work again.

use crate::domain::decision::examples::Example;
use crate::domain::decision::{Detector, TextFeatures};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Fits for other inputs are dropped beyond this many files (oldest first).
const KEEP_FILES: usize = 32;

static FITS: Mutex<Option<HashMap<String, Arc<Detector>>>> = Mutex::new(None);
/// Text → embedding, for one model.
type Vectors = Arc<HashMap<String, Vec<f32>>>;
static SHIPPED_VECTORS: Mutex<Option<HashMap<String, Vectors>>> = Mutex::new(None);

fn dir() -> Option<PathBuf> {
    crate::config::cache_home().map(|home| home.join("detector"))
}

fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What identifies a fit: the settings, the model, and every row's label, weight, text and
/// word features (so a change in how features are computed is a new key too). The embeddings
/// are a function of the model and the text, so they need not be computed to know the key.
pub fn key(set: &[Example], features: &[TextFeatures], model: Option<&str>, dimension: usize) -> String {
    let mut h = Sha256::new();
    h.update(format!("{} model={model:?} dimension={dimension}", Detector::settings()));
    for (e, f) in set.iter().zip(features) {
        h.update([u8::from(e.support)]);
        h.update(e.weight.to_le_bytes());
        h.update((e.text.len() as u64).to_le_bytes());
        h.update(e.text.as_bytes());
        for v in f.with_embedding(None, 0) {
            h.update(v.to_le_bytes());
        }
    }
    hex(h.finalize())
}

pub fn fitted(key: &str, dimension: usize) -> Option<Arc<Detector>> {
    if let Some(hit) = FITS.lock().expect("detector memo poisoned").get_or_insert_default().get(key) {
        return Some(hit.clone());
    }
    let bytes = std::fs::read(dir()?.join(format!("{key}.bin"))).ok()?;
    let detector = Arc::new(Detector::from_bytes(&bytes, dimension)?);
    remember(key, &detector);
    Some(detector)
}

pub fn save_fitted(key: &str, detector: &Arc<Detector>) {
    remember(key, detector);
    if let Some(dir) = dir() {
        if let Err(e) = write(&dir, &dir.join(format!("{key}.bin")), &detector.to_bytes()) {
            tracing::debug!(error = %crate::telemetry::chain(&e), "could not cache the fitted detector");
        }
        prune(&dir);
    }
}

fn remember(key: &str, detector: &Arc<Detector>) {
    let mut memo = FITS.lock().expect("detector memo poisoned");
    let memo = memo.get_or_insert_default();
    if memo.len() >= KEEP_FILES {
        memo.clear();
    }
    memo.insert(key.to_string(), detector.clone());
}

/// The shipped examples' embeddings under `model`, if they were computed before.
pub fn shipped_vectors(model: &str) -> Option<Vectors> {
    if let Some(hit) = SHIPPED_VECTORS.lock().expect("vector memo poisoned").get_or_insert_default().get(model) {
        return Some(hit.clone());
    }
    let bytes = std::fs::read(dir()?.join(shipped_file(model))).ok()?;
    let vectors: HashMap<String, Vec<f32>> = serde_json::from_slice(&bytes).ok()?;
    let vectors = Arc::new(vectors);
    SHIPPED_VECTORS.lock().expect("vector memo poisoned").get_or_insert_default().insert(model.to_string(), vectors.clone());
    Some(vectors)
}

pub fn save_shipped_vectors(model: &str, vectors: HashMap<String, Vec<f32>>) {
    if let Some(dir) = dir()
        && let Ok(bytes) = serde_json::to_vec(&vectors)
        && let Err(e) = write(&dir, &dir.join(shipped_file(model)), &bytes)
    {
        tracing::debug!(error = %crate::telemetry::chain(&e), "could not cache the examples' embeddings");
    }
    SHIPPED_VECTORS.lock().expect("vector memo poisoned").get_or_insert_default().insert(model.to_string(), Arc::new(vectors));
}

/// One file per model and shipped set.
fn shipped_file(model: &str) -> String {
    static SHIPPED_DIGEST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let shipped = SHIPPED_DIGEST.get_or_init(|| {
        let mut h = Sha256::new();
        for e in crate::domain::decision::examples::shipped() {
            h.update(e.text.as_bytes());
            h.update([0]);
        }
        hex(h.finalize())
    });
    format!("examples-{}.json", &hex(Sha256::digest(format!("{model}\0{shipped}")))[..16])
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write(dir: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), file.file_name().and_then(|n| n.to_str()).unwrap_or("cache")));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)
}

fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= KEEP_FILES {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - KEEP_FILES] {
        let _ = std::fs::remove_file(path);
    }
}
