//! A local stand-in for GitHub's REST API: issues opened, listed and read, each call recorded,
//! with failures the test plans (an error status, or an answer lost after the issue was made).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What the next call to open an issue meets.
#[derive(Debug, Clone, Copy)]
pub enum Trouble {
    /// GitHub answers this status and opens nothing.
    Status(u16),
    /// GitHub opens the issue, then the answer is lost (a 502 from a proxy, a timeout).
    LostAnswer,
    /// The token's rate limit is spent until this time (epoch seconds): a 403 as GitHub sends it.
    RateLimitedUntil(i64),
}

#[derive(Default)]
pub struct Recorded {
    /// (method, path) of every call, and the token it carried.
    pub calls: Mutex<Vec<(String, String, String)>>,
    /// Issues by repository ("owner/name"), oldest first.
    pub issues: Mutex<Vec<(String, Value)>>,
    pub trouble: Mutex<VecDeque<Trouble>>,
    pub changed: Notify,
}

pub struct FakeGithub {
    pub api_url: String,
    pub state: Arc<Recorded>,
}

type Shared = State<Arc<Recorded>>;

fn github_error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    (status, Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"}))).into_response()
}

fn record(state: &Recorded, method: &str, path: String, headers: &HeaderMap) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    state.calls.lock().unwrap().push((method.into(), path, auth));
    state.changed.notify_waiters();
}

async fn create(State(state): Shared, Path((owner, name)): Path<(String, String)>, headers: HeaderMap, Json(asked): Json<Value>) -> Response {
    record(&state, "POST", format!("/repos/{owner}/{name}/issues"), &headers);
    let trouble = state.trouble.lock().unwrap().pop_front();
    if let Some(Trouble::Status(status)) = trouble {
        return github_error(status, "planned failure");
    }
    if let Some(Trouble::RateLimitedUntil(reset)) = trouble {
        let mut refused = github_error(403, "API rate limit exceeded for user ID 1.");
        refused.headers_mut().insert("x-ratelimit-remaining", "0".parse().unwrap());
        refused.headers_mut().insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        return refused;
    }
    let repo = format!("{owner}/{name}");
    let mut issue: Value = serde_json::from_str(include_str!("../fixtures/github/issue.json")).unwrap();
    let number = {
        let mut issues = state.issues.lock().unwrap();
        let number = 100 + issues.len() as u64 + 1;
        issue["number"] = json!(number);
        issue["html_url"] = json!(format!("https://github.com/{repo}/issues/{number}"));
        issue["title"] = asked["title"].clone();
        issue["body"] = asked["body"].clone();
        issue["labels"] = json!(
            asked["labels"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|l| {
                    json!({"id": 1, "node_id": "L", "url": "https://api.github.com/labels/x", "name": l, "color": "ffffff", "default": false})
                })
                .collect::<Vec<_>>()
        );
        issues.push((repo, issue.clone()));
        number
    };
    state.changed.notify_waiters();
    if let Some(Trouble::LostAnswer) = trouble {
        return github_error(502, &format!("Bad gateway (issue {number} was opened)"));
    }
    (StatusCode::CREATED, Json(issue)).into_response()
}

async fn list(State(state): Shared, Path((owner, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    record(&state, "GET", format!("/repos/{owner}/{name}/issues"), &headers);
    let repo = format!("{owner}/{name}");
    let newest_first: Vec<Value> = state.issues.lock().unwrap().iter().rev().filter(|(r, _)| *r == repo).map(|(_, i)| i.clone()).collect();
    Json(newest_first).into_response()
}

async fn one(State(state): Shared, Path((owner, name, number)): Path<(String, String, u64)>, headers: HeaderMap) -> Response {
    record(&state, "GET", format!("/repos/{owner}/{name}/issues/{number}"), &headers);
    let repo = format!("{owner}/{name}");
    let found = state.issues.lock().unwrap().iter().find(|(r, i)| *r == repo && i["number"] == json!(number)).map(|(_, i)| i.clone());
    match found {
        Some(issue) => Json(issue).into_response(),
        None => github_error(404, "Not Found"),
    }
}

impl FakeGithub {
    pub async fn start() -> FakeGithub {
        let state = Arc::new(Recorded::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/repos/{owner}/{name}/issues", get(list).post(create))
            .route("/repos/{owner}/{name}/issues/{number}", get(one))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGithub { api_url, state }
    }

    /// An issue that exists already, as a moderator would name it.
    pub fn has_issue(&self, repo: &str, number: u64, open: bool) {
        let mut issue: Value = serde_json::from_str(include_str!("../fixtures/github/issue.json")).unwrap();
        issue["number"] = json!(number);
        issue["html_url"] = json!(format!("https://github.com/{repo}/issues/{number}"));
        issue["state"] = json!(if open { "open" } else { "closed" });
        self.state.issues.lock().unwrap().push((repo.into(), issue));
    }

    pub fn plan(&self, trouble: Trouble) {
        self.state.trouble.lock().unwrap().push_back(trouble);
    }

    /// The issues opened through the API, with their repository.
    pub fn opened(&self) -> Vec<(String, Value)> {
        self.state.issues.lock().unwrap().iter().filter(|(_, i)| i["number"].as_u64().unwrap_or(0) > 100).cloned().collect()
    }

    pub fn calls(&self) -> Vec<(String, String, String)> {
        self.state.calls.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, what: &str, ready: impl Fn(&FakeGithub) -> bool) {
        crate::helpers::wait_until(&self.state.changed, what, || ready(self), || format!("{:?}", self.calls())).await
    }
}
