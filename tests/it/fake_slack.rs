//! A local stand-in for Slack: the Web API (recording every call) and a Socket Mode WebSocket.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
pub struct Recorded {
    pub calls: Mutex<Vec<(String, Value)>>,
    pub changed: Notify,
    /// How many coming chat.postMessage calls answer 429.
    pub rate_limit_next: Mutex<usize>,
    /// Envelopes to push to a Socket Mode client, and the acks it sent back.
    pub envelopes: Mutex<Option<mpsc::UnboundedReceiver<Value>>>,
    pub acks: Mutex<Vec<Value>>,
    /// Where files.getUploadURLExternal says to send a file's bytes.
    pub upload_url: Mutex<String>,
    /// The fake's clock, which the test moves (None: posts get the real time, as on Slack).
    pub now: Mutex<Option<DateTime<Utc>>>,
    /// chat.postMessage answers 429 with this `Retry-After` (seconds) until this time.
    pub limited_until: Mutex<Option<(DateTime<Utc>, u64)>>,
    /// A per-channel limit on chat.postMessage, as Slack has: (messages a second, burst).
    pub channel_limit: Mutex<Option<(f64, f64)>>,
    channel_tokens: Mutex<HashMap<String, (f64, DateTime<Utc>)>>,
    /// Every message posted, with its channel, as conversations.history returns it.
    pub messages: Mutex<Vec<(String, Value)>>,
    /// How many coming posts are kept, then answered 500 (Slack has it; the answer says otherwise).
    pub fail_after_post: Mutex<usize>,
    /// How many coming posts are kept, then never answered (the bot dies waiting).
    pub hang_after_post: Mutex<usize>,
    next_ts: Mutex<u64>,
    /// Channels the bot is not in: posting there answers `not_in_channel`, as Slack does.
    pub not_member_of: Mutex<Vec<String>>,
}

/// Slack's `ts` compared as a number.
fn ts_value(v: &Value) -> f64 {
    v.as_str().and_then(|t| t.parse().ok()).unwrap_or(0.0)
}

impl Recorded {
    /// Whether the per-channel limit refuses a post to `channel` now; if so, after how long to retry.
    fn channel_refuses(&self, channel: &str, now: DateTime<Utc>) -> Option<u64> {
        let (rate, burst) = (*self.channel_limit.lock().unwrap())?;
        let mut tokens = self.channel_tokens.lock().unwrap();
        let (have, at) = tokens.get(channel).copied().unwrap_or((burst, now));
        let have = (have + (now - at).num_milliseconds().max(0) as f64 / 1000.0 * rate).min(burst);
        if have < 1.0 {
            tokens.insert(channel.to_string(), (have, now));
            return Some(((1.0 - have) / rate).ceil().max(1.0) as u64);
        }
        tokens.insert(channel.to_string(), (have - 1.0, now));
        None
    }

    /// Keeps a posted message as Slack would show it in the history; returns its ts.
    fn keep(&self, body: &Value) -> String {
        let n = {
            let mut next = self.next_ts.lock().unwrap();
            *next += 1;
            *next
        };
        // Slack's ts is its clock's: the test's when it set one, else the real time.
        let seconds = self.now.lock().unwrap().unwrap_or_else(chrono::Utc::now).timestamp();
        let ts = format!("{seconds}.{n:06}");
        let mut message = json!({"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": body["text"], "ts": ts});
        if !body["thread_ts"].is_null() {
            message["thread_ts"] = body["thread_ts"].clone();
        }
        if !body["metadata"].is_null() {
            message["metadata"] = body["metadata"].clone();
        }
        self.messages.lock().unwrap().push((body["channel"].as_str().unwrap_or_default().to_string(), message));
        ts
    }

    /// conversations.history (top-level messages, newest first) and conversations.replies (a
    /// thread's replies, oldest first), from `oldest` on; metadata only with include_all_metadata.
    fn history(&self, method: &str, params: &Value) -> Value {
        let oldest = ts_value(&params["oldest"]);
        let with_metadata = params["include_all_metadata"] == "true";
        let mut found: Vec<Value> = self
            .messages
            .lock()
            .unwrap()
            .iter()
            .filter(|(channel, m)| params["channel"] == channel.as_str() && ts_value(&m["ts"]) >= oldest)
            .filter(|(_, m)| if method == "conversations.replies" { m["thread_ts"] == params["ts"] } else { m["thread_ts"].is_null() })
            .map(|(_, m)| {
                let mut m = m.clone();
                if !with_metadata && let Some(o) = m.as_object_mut() {
                    o.remove("metadata");
                }
                m
            })
            .collect();
        if method == "conversations.history" {
            found.reverse();
        }
        json!({"ok": true, "messages": found, "has_more": false, "response_metadata": {"next_cursor": ""}})
    }
}

pub struct FakeSlack {
    pub api_url: String,
    pub state: Arc<Recorded>,
    envelope_tx: mpsc::UnboundedSender<Value>,
}

fn body_value(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| {
        let form: serde_json::Map<String, Value> =
            url::form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), Value::from(v.into_owned()))).collect();
        Value::Object(form)
    })
}

async fn api(
    State((state, ws_url)): State<(Arc<Recorded>, String)>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    _h: HeaderMap,
    body: String,
) -> Response {
    let body = if body.is_empty() { body_value(&query.unwrap_or_default()) } else { body_value(&body) };
    if method == "chat.postMessage" {
        let refused = {
            let mut limited = state.rate_limit_next.lock().unwrap();
            let now = *state.now.lock().unwrap();
            if *limited > 0 {
                *limited -= 1;
                Some(1)
            } else if let (Some(now), Some((until, retry_after))) = (now, *state.limited_until.lock().unwrap())
                && now < until
            {
                Some(retry_after)
            } else {
                now.and_then(|now| state.channel_refuses(body["channel"].as_str().unwrap_or_default(), now))
            }
        };
        if let Some(retry_after) = refused {
            state.calls.lock().unwrap().push((format!("{method} (429)"), body));
            state.changed.notify_waiters();
            return (StatusCode::TOO_MANY_REQUESTS, [("Retry-After", retry_after.to_string())], "").into_response();
        }
        let ts = state.keep(&body);
        state.calls.lock().unwrap().push((method.clone(), body.clone()));
        state.changed.notify_waiters();
        let hang = std::mem::replace(&mut *state.hang_after_post.lock().unwrap(), 0);
        if hang > 0 {
            *state.hang_after_post.lock().unwrap() = hang - 1;
            return std::future::pending::<Response>().await;
        }
        let fail = std::mem::replace(&mut *state.fail_after_post.lock().unwrap(), 0);
        if fail > 0 {
            *state.fail_after_post.lock().unwrap() = fail - 1;
            return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
        }
        let reply = json!({"ok": true, "channel": body["channel"], "ts": ts, "message": {"type": "message", "ts": ts, "text": body["text"], "metadata": body["metadata"]}});
        return Json(reply).into_response();
    }
    if method.starts_with("response") {
        // A response_url answers like Slack's does: a plain "ok".
        state.calls.lock().unwrap().push((method, body));
        state.changed.notify_waiters();
        return "ok".into_response();
    }
    if method.starts_with("chat.post") && state.not_member_of.lock().unwrap().iter().any(|c| body["channel"] == c.as_str()) {
        state.calls.lock().unwrap().push((method, body));
        state.changed.notify_waiters();
        return Json(json!({"ok": false, "error": "not_in_channel"})).into_response();
    }
    let reply = match method.as_str() {
        "auth.test" => {
            json!({"ok": true, "user_id": "U0BOT", "team_id": "T0TEAM", "team": "Example", "url": "https://example.slack.com/", "bot_id": "B0BOT"})
        }
        "conversations.history" | "conversations.replies" => state.history(&method, &body),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": "1700009999.000002"}),
        "apps.connections.open" => json!({"ok": true, "url": ws_url}),
        "files.getUploadURLExternal" => json!({"ok": true, "upload_url": *state.upload_url.lock().unwrap(), "file_id": "F0CHART"}),
        "files.completeUploadExternal" => {
            json!({"ok": true, "files": [{"id": "F0CHART", "created": 1700000000, "timestamp": 1700000000, "name": "chart.png", "title": "chart.png", "user": "U0BOT", "mimetype": "image/png", "filetype": "png", "size": 1}]})
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    state.calls.lock().unwrap().push((method, body));
    state.changed.notify_waiters();
    Json(reply).into_response()
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let state = Arc::new(Recorded::default());
        let (envelope_tx, envelope_rx) = mpsc::unbounded_channel();
        *state.envelopes.lock().unwrap() = Some(envelope_rx);
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}/link", ws.local_addr().unwrap());
        let api_url = format!("http://{}/api", http.local_addr().unwrap());
        *state.upload_url.lock().unwrap() = format!("http://{}/upload/F0CHART", http.local_addr().unwrap());
        let uploads = Router::new().route("/upload/{id}", axum::routing::post(upload)).with_state(state.clone());
        let app = Router::new().route("/api/{method}", any(api)).with_state((state.clone(), ws_url)).merge(uploads);
        tokio::spawn(async move { axum::serve(http, app).await.unwrap() });
        tokio::spawn(serve_socket_mode(ws, state.clone()));
        FakeSlack { api_url, state, envelope_tx }
    }

    /// Queues an envelope for the Socket Mode client.
    pub fn push_envelope(&self, envelope: Value) {
        self.envelope_tx.send(envelope).unwrap();
    }

    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.state.calls.lock().unwrap().iter().filter(|(m, _)| m == method).map(|(_, b)| b.clone()).collect()
    }

    /// Waits (up to 10 s, then fails) until `ready` holds.
    pub async fn wait_for(&self, what: &str, ready: impl Fn(&FakeSlack) -> bool) {
        crate::helpers::wait_until(&self.state.changed, what, || ready(self), || format!("{:?}", self.state.calls.lock().unwrap())).await
    }
}

/// The upload URL: takes the bytes and answers in plain text, as Slack's does.
async fn upload(State(state): State<Arc<Recorded>>, body: axum::body::Bytes) -> Response {
    let file = json!({"len": body.len(), "png": body.starts_with(b"\x89PNG")});
    state.calls.lock().unwrap().push(("upload".into(), file));
    state.changed.notify_waiters();
    "OK - 1".into_response()
}

/// One Socket Mode connection at a time: hello, then each queued envelope; acks are recorded.
async fn serve_socket_mode(listener: tokio::net::TcpListener, state: Arc<Recorded>) {
    let Some(mut envelopes) = state.envelopes.lock().unwrap().take() else { return };
    while let Ok((tcp, _)) = listener.accept().await {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { continue };
        let hello = json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake", "approximate_connection_time": 3600}, "connection_info": {"app_id": "A0APP"}});
        if ws.send(Message::text(hello.to_string())).await.is_err() {
            continue;
        }
        loop {
            tokio::select! {
                Some(envelope) = envelopes.recv() => {
                    if ws.send(Message::text(envelope.to_string())).await.is_err() { break; }
                }
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(ack) = serde_json::from_str::<Value>(text.as_str()) {
                            state.acks.lock().unwrap().push(ack);
                            state.changed.notify_waiters();
                        }
                    }
                    Some(Ok(Message::Ping(p))) => { let _ = ws.send(Message::Pong(p)).await; }
                    Some(Ok(_)) => {}
                    _ => break,
                },
            }
        }
    }
}
