//! A local stand-in for the Hugging Face hub, answering `resolve` URLs the way huggingface.co
//! does for the requests `hf-hub` makes: a metadata GET with `Range: bytes=0-0` that must come
//! back with `ETag` (or `X-Linked-ETag`), `X-Repo-Commit` and `Content-Range`, then ranged GETs
//! for the content. Small files are served by the hub itself; the weights, as Git LFS files, are
//! redirected to a separate "CDN" listener (another origin, so the metadata request stops at the
//! redirect and takes its headers from it) and named by their SHA-256. Every request is recorded.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The commit every revision of the fake repository resolves to.
pub const COMMIT: &str = "c0ffee0000000000000000000000000000c0ffee";

/// Files served as Git LFS objects (redirected, named by SHA-256), as on the real hub.
const LFS: &[&str] = &["model.safetensors"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// The files as they are.
    Serve,
    /// The weights' bytes differ from the SHA-256 the hub announces (a broken mirror or proxy).
    CorruptWeights,
}

struct File {
    bytes: Bytes,
    /// What is sent: `bytes`, or a damaged copy.
    served: Bytes,
    etag: String,
    lfs: bool,
}

pub struct HubState {
    repo: String,
    files: HashMap<String, File>,
    cdn_url: String,
    /// "METHOD path [range]" of every request, hub and CDN alike.
    pub requests: Mutex<Vec<String>>,
    /// Open: requests are answered. Closed (`hold`): they wait, recorded, until `release`.
    gate: tokio::sync::watch::Sender<bool>,
}

pub struct FakeHub {
    /// The base URL, for `[model] hub_url`.
    pub url: String,
    pub state: Arc<HubState>,
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl FakeHub {
    /// Serves `repo` (any revision) with the files of `dir` (none if it is empty: every file is 404).
    pub async fn start(repo: &str, dir: &std::path::Path, behaviour: Behaviour) -> FakeHub {
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if !entry.file_type().unwrap().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = Bytes::from(std::fs::read(entry.path()).unwrap());
            let lfs = LFS.contains(&name.as_str());
            // LFS objects are named by their SHA-256; other files by a Git blob id (40 hex digits).
            let etag = if lfs { sha256(&bytes) } else { sha256(&bytes)[..40].to_string() };
            let served = if lfs && behaviour == Behaviour::CorruptWeights {
                let mut damaged = bytes.to_vec();
                let middle = damaged.len() / 2;
                damaged[middle] ^= 0xff;
                Bytes::from(damaged)
            } else {
                bytes.clone()
            };
            files.insert(name, File { bytes, served, etag, lfs });
        }
        let hub = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cdn = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", hub.local_addr().unwrap());
        let cdn_url = format!("http://{}", cdn.local_addr().unwrap());
        let state = Arc::new(HubState {
            repo: repo.to_string(),
            files,
            cdn_url,
            requests: Mutex::new(Vec::new()),
            gate: tokio::sync::watch::Sender::new(true),
        });
        let hub_app = Router::new().route("/{*path}", get(resolve)).with_state(state.clone());
        let cdn_app = Router::new().route("/{*path}", get(lfs_object)).with_state(state.clone());
        tokio::spawn(async move { axum::serve(hub, hub_app).await.unwrap() });
        tokio::spawn(async move { axum::serve(cdn, cdn_app).await.unwrap() });
        FakeHub { url, state }
    }

    /// From now on, requests wait for `release` (a slow download, without a clock).
    pub fn hold(&self) {
        self.state.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.state.gate.send_replace(true);
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The bytes of `name` as in the directory served.
    pub fn file(&self, name: &str) -> Bytes {
        self.state.files[name].bytes.clone()
    }
}

/// Records the request, then waits while the hub is held.
async fn record(state: &HubState, what: String, headers: &HeaderMap) {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    state.requests.lock().unwrap().push(format!("GET {what} {range}").trim_end().to_string());
    let _ = state.gate.subscribe().wait_for(|open| *open).await;
}

fn not_found(code: &str) -> Response {
    (StatusCode::NOT_FOUND, [("x-error-code", code)], code.to_string()).into_response()
}

/// `/{repo}/resolve/{revision}/{file}`, `repo` being "name" or "owner/name".
async fn resolve(State(state): State<Arc<HubState>>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    record(&state, format!("/{path}"), &headers).await;
    let Some((repo, rest)) = path.split_once("/resolve/") else {
        return not_found("RepoNotFound");
    };
    let Some((_revision, name)) = rest.split_once('/') else {
        return not_found("EntryNotFound");
    };
    if repo != state.repo {
        return not_found("RepoNotFound");
    }
    let Some(file) = state.files.get(name) else {
        return not_found("EntryNotFound");
    };
    let quoted = format!("\"{}\"", file.etag);
    if file.lfs {
        let location = format!("{}/{}", state.cdn_url, file.etag);
        let size = file.bytes.len().to_string();
        let headers = [
            (header::LOCATION.as_str(), location.as_str()),
            ("x-repo-commit", COMMIT),
            ("x-linked-etag", quoted.as_str()),
            ("x-linked-size", size.as_str()),
            (header::ETAG.as_str(), quoted.as_str()),
        ];
        return (StatusCode::FOUND, headers, "").into_response();
    }
    let mut response = ranged(&file.served, &headers);
    response.headers_mut().insert("x-repo-commit", COMMIT.parse().unwrap());
    response.headers_mut().insert(header::ETAG, quoted.parse().unwrap());
    response
}

/// The CDN: LFS objects by SHA-256.
async fn lfs_object(State(state): State<Arc<HubState>>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    record(&state, format!("cdn /{path}"), &headers).await;
    match state.files.values().find(|f| f.lfs && f.etag == path) {
        Some(file) => ranged(&file.served, &headers),
        None => not_found("NoSuchKey"),
    }
}

/// The whole body (200), or the one range asked for (206 with Content-Range), `end` clamped to
/// the last byte as HTTP says (hf-hub asks for one byte past the end in its last chunk).
fn ranged(body: &Bytes, headers: &HeaderMap) -> Response {
    let len = body.len();
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return (StatusCode::OK, [(header::ACCEPT_RANGES, "bytes")], body.clone()).into_response();
    };
    let parsed = range.strip_prefix("bytes=").and_then(|r| r.split_once('-')).and_then(|(start, end)| {
        let start: usize = start.parse().ok()?;
        let end: usize = if end.is_empty() { len.saturating_sub(1) } else { end.parse().ok()? };
        Some((start, end.min(len.saturating_sub(1))))
    });
    match parsed {
        Some((start, end)) if start <= end && start < len => {
            let content_range = format!("bytes {start}-{end}/{len}");
            (StatusCode::PARTIAL_CONTENT, [(header::CONTENT_RANGE, content_range)], body.slice(start..=end)).into_response()
        }
        _ => (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))], "").into_response(),
    }
}
