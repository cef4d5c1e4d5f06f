//! A local stand-in for Discord: the REST API (recording every request) and a gateway
//! WebSocket that speaks HELLO, IDENTIFY, READY and then dispatches what a test queues.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub const BOT_ID: u64 = 815434166602170409;
pub const APP_ID: u64 = 775799577604522054;
pub const GUILD_ID: &str = "290926798626357999";
const TOKEN: &str = "test-token";

#[derive(Default)]
pub struct Recorded {
    /// (method, path with query, JSON body or Null)
    pub requests: Mutex<Vec<(String, String, Value)>>,
    pub identify: Mutex<Option<Value>>,
    pub changed: Notify,
    /// Messages GET /channels/{id}/messages returns, per channel.
    pub history: Mutex<HashMap<String, Vec<Value>>>,
    /// Active threads GET /guilds/{id}/threads/active lists (READY names the guild when set).
    pub active_threads: Mutex<Vec<Value>>,
    /// Threads started on a message: thread id (the message's) → the channel it is in.
    pub threads: Mutex<HashMap<String, String>>,
    /// How many coming message posts answer 429.
    pub rate_limit_next: Mutex<usize>,
    /// Close the gateway with this code right after IDENTIFY.
    pub close_code: Mutex<Option<u16>>,
    /// The fake's clock, which the test moves.
    pub now: Mutex<DateTime<Utc>>,
    /// Message posts answer 429 with this `retry_after` (seconds) until this time.
    pub limited_until: Mutex<Option<(DateTime<Utc>, f64)>>,
    /// A bucket per channel, as Discord has: (requests, per seconds). With it every message post
    /// carries the X-RateLimit headers.
    pub channel_bucket: Mutex<Option<(i64, f64)>>,
    buckets: Mutex<HashMap<String, (i64, DateTime<Utc>)>>,
    /// How many 429s the fake answered to message posts.
    pub refused: Mutex<usize>,
    /// How many coming message posts are created, then answered 500.
    pub fail_after_create: Mutex<usize>,
    /// Messages created by posts to a channel; a post repeating a nonce with `enforce_nonce`
    /// gets the earlier message back instead, as Discord does.
    pub created: Mutex<Vec<Value>>,
    nonces: Mutex<HashMap<String, Value>>,
    dispatches: Mutex<Option<mpsc::UnboundedReceiver<(String, Value)>>>,
    next_id: Mutex<u64>,
    gateway_url: Mutex<String>,
}

pub struct FakeDiscord {
    pub api_url: String,
    pub state: Arc<Recorded>,
    dispatch_tx: mpsc::UnboundedSender<(String, Value)>,
}

fn user(id: &str, name: &str, bot: bool) -> Value {
    json!({"id": id, "username": name, "discriminator": "0", "global_name": null, "avatar": null, "bot": bot, "public_flags": 0})
}

/// A MESSAGE_CREATE as the gateway sends it for a server channel.
pub fn message_create(id: &str, channel: &str, author_id: &str, author_name: &str, content: &str) -> Value {
    json!({
        "id": id, "channel_id": channel, "guild_id": GUILD_ID, "type": 0, "content": content,
        "author": user(author_id, author_name, false),
        "member": {"roles": [], "joined_at": "2026-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0},
        "timestamp": "2026-11-02T09:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": false
    })
}

/// A slash-command INTERACTION_CREATE from a member with the given permission bits.
pub fn slash_command(id: &str, token: &str, name: &str, options: Value, permissions: &str) -> Value {
    json!({
        "type": 2, "id": id, "token": token, "application_id": APP_ID.to_string(), "version": 1,
        "guild_id": GUILD_ID, "channel_id": "200", "locale": "en-US", "guild_locale": "en-US",
        "app_permissions": "442368", "entitlements": [], "attachment_size_limit": 10485760,
        "member": {"user": user("400", "Member", false), "roles": [], "permissions": permissions,
                   "joined_at": "2026-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0},
        "data": {"id": "771825006014889984", "name": name, "type": 1, "options": options}
    })
}

/// A button click (MESSAGE_COMPONENT interaction) from a member with the given permission bits.
pub fn button_click(id: &str, token: &str, custom_id: &str, permissions: &str) -> Value {
    let mut v = slash_command(id, token, "unused", json!([]), permissions);
    v["type"] = json!(3);
    v["data"] = json!({"custom_id": custom_id, "component_type": 2});
    v["message"] = message_create("9000001", "900", &BOT_ID.to_string(), "supportbot", "New ticket");
    v["message"]["author"]["bot"] = json!(true);
    v
}

/// An active forum post (a thread in forum `forum`) as GET /guilds/{id}/threads/active lists it.
pub fn forum_thread(id: &str, forum: &str, title: &str) -> Value {
    json!({
        "id": id, "type": 11, "guild_id": GUILD_ID, "parent_id": forum, "name": title, "owner_id": "300",
        "message_count": 1, "member_count": 1, "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 1,
        "thread_metadata": {"archived": false, "auto_archive_duration": 1440, "archive_timestamp": "2026-11-02T09:00:00.000000+00:00", "locked": false}
    })
}

/// A MESSAGE_REACTION_ADD by a member holding `role`.
pub fn reaction(message: &str, channel: &str, user_id: &str, role: &str, emoji: &str) -> Value {
    json!({
        "user_id": user_id, "message_id": message, "channel_id": channel, "guild_id": GUILD_ID, "type": 0, "burst": false,
        "emoji": {"id": null, "name": emoji},
        "member": {"user": user(user_id, "Mia", false), "roles": [role], "joined_at": "2026-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0}
    })
}

/// A multipart request (a message with files) as its `payload_json`, plus `_files`: each file's
/// name and whether its bytes start like a PNG.
fn multipart_body(raw: &[u8], boundary: &str) -> Value {
    let text = String::from_utf8_lossy(raw);
    let mut payload = Value::Null;
    let mut files = Vec::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else { continue };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        if head.contains("name=\"payload_json\"") {
            payload = serde_json::from_str(content).unwrap_or(Value::Null);
        } else if let Some(name) = head.split("filename=\"").nth(1).and_then(|r| r.split('"').next()) {
            files.push(json!({"filename": name, "png": content.as_bytes().starts_with(b"\x89PNG") || content.starts_with("\u{FFFD}PNG"), "len": content.len()}));
        }
    }
    if payload.is_object() {
        payload["_files"] = Value::Array(files);
    }
    payload
}

async fn rest(State(state): State<Arc<Recorded>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let full = uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| path.clone());
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body: Value = match content_type.split_once("boundary=") {
        Some((_, boundary)) => multipart_body(&body, boundary),
        None => serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {TOKEN}"));
    state.requests.lock().unwrap().push((method.to_string(), full.clone(), body.clone()));
    state.changed.notify_waiters();
    if !authorized {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "401: Unauthorized", "code": 0}))).into_response();
    }
    let segments: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    let mut rate_headers: Vec<(&'static str, String)> = Vec::new();
    if method == Method::POST && segments.first() == Some(&"channels") {
        let mut limited = state.rate_limit_next.lock().unwrap();
        if *limited > 0 {
            *limited -= 1;
            let body = json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": false});
            return (StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "1")], axum::Json(body)).into_response();
        }
        drop(limited);
        let now = *state.now.lock().unwrap();
        let channel = segments.get(1).copied().unwrap_or_default().to_string();
        let refused = if let Some((until, retry_after)) = *state.limited_until.lock().unwrap()
            && now < until
        {
            Some(retry_after)
        } else if let Some((limit, per)) = *state.channel_bucket.lock().unwrap() {
            let mut buckets = state.buckets.lock().unwrap();
            let bucket = buckets.entry(channel).or_insert((limit, now));
            if bucket.1 <= now {
                *bucket = (limit, now + Duration::milliseconds((per * 1000.0) as i64));
            }
            let reset_after = (bucket.1 - now).num_milliseconds() as f64 / 1000.0;
            rate_headers = vec![
                ("X-RateLimit-Limit", limit.to_string()),
                ("X-RateLimit-Bucket", "fakechannelbucket".into()),
                ("X-RateLimit-Reset-After", format!("{reset_after:.3}")),
            ];
            if bucket.0 == 0 {
                Some(reset_after)
            } else {
                bucket.0 -= 1;
                rate_headers.push(("X-RateLimit-Remaining", bucket.0.to_string()));
                None
            }
        } else {
            None
        };
        if let Some(retry_after) = refused {
            *state.refused.lock().unwrap() += 1;
            let body = json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false, "code": 0});
            let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            let headers = [
                ("Retry-After", (retry_after.ceil() as i64).to_string()),
                ("X-RateLimit-Limit", "5".into()),
                ("X-RateLimit-Remaining", "0".into()),
                ("X-RateLimit-Reset-After", format!("{retry_after:.3}")),
                ("X-RateLimit-Bucket", "fakechannelbucket".into()),
                ("X-RateLimit-Scope", "user".into()),
            ];
            for (k, v) in headers {
                response.headers_mut().insert(k, v.parse().unwrap());
            }
            return response;
        }
    }
    let ws_url = state.gateway_url.lock().unwrap().clone();
    let reply = match (method.as_str(), segments.as_slice()) {
        ("GET", ["users", "@me"]) => user(&BOT_ID.to_string(), "supportbot", true),
        ("GET", ["gateway"]) => json!({"url": ws_url}),
        ("GET", ["gateway", "bot"]) => {
            json!({"url": ws_url, "shards": 1, "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        }
        ("PUT", ["applications", _, "commands"]) | ("PUT", ["applications", _, "guilds", _, "commands"]) => json!([]),
        ("GET", ["channels", channel, "messages"]) => {
            let after: u64 =
                uri.query().unwrap_or_default().split('&').find_map(|kv| kv.strip_prefix("after=")).and_then(|v| v.parse().ok()).unwrap_or(0);
            let history = state.history.lock().unwrap().get(*channel).cloned().unwrap_or_default();
            Value::Array(history.into_iter().filter(|m| m["id"].as_str().and_then(|i| i.parse::<u64>().ok()).unwrap_or(0) > after).rev().collect())
        }
        ("GET", ["guilds", _, "threads", "active"]) => {
            json!({"threads": *state.active_threads.lock().unwrap(), "members": [], "has_more": false})
        }
        ("GET", ["channels", channel, "messages", id]) => {
            let history = state.history.lock().unwrap().get(*channel).cloned().unwrap_or_default();
            match history.into_iter().find(|m| m["id"] == *id) {
                Some(m) => m,
                None => return (StatusCode::NOT_FOUND, axum::Json(json!({"message": "Unknown Message", "code": 10008}))).into_response(),
            }
        }
        ("GET", ["channels", channel]) => match state.threads.lock().unwrap().get(*channel) {
            Some(parent) => json!({
                "id": channel, "type": 11, "guild_id": GUILD_ID, "name": "Ticket", "parent_id": parent, "position": 0,
                "permission_overwrites": [], "nsfw": false,
                "thread_metadata": {"archived": false, "auto_archive_duration": 10080, "archive_timestamp": "2026-11-02T09:00:00.000000+00:00", "locked": false}
            }),
            None => {
                json!({"id": channel, "type": 0, "guild_id": GUILD_ID, "name": "help", "position": 0, "permission_overwrites": [], "nsfw": false})
            }
        },
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            // Discord: a message's thread has the message's id, and a message has one thread.
            let mut threads = state.threads.lock().unwrap();
            if threads.contains_key(*message) {
                let body = json!({"message": "A thread has already been created for this message", "code": 160004});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            threads.insert(message.to_string(), channel.to_string());
            json!({"id": message, "type": 11, "guild_id": GUILD_ID, "parent_id": channel, "name": body["name"]})
        }
        ("POST", ["channels", channel, "threads"]) => {
            // A thread without a message (a private one): a new id.
            let id = {
                let mut n = state.next_id.lock().unwrap();
                *n += 1;
                (9_000_000 + *n).to_string()
            };
            state.threads.lock().unwrap().insert(id.clone(), channel.to_string());
            json!({"id": id, "type": body["type"], "guild_id": GUILD_ID, "parent_id": channel, "name": body["name"]})
        }
        ("PUT", ["channels", _, "thread-members", _]) => return StatusCode::NO_CONTENT.into_response(),
        ("POST", ["channels", channel, "messages"]) | ("POST", ["webhooks", _, channel]) => {
            let id = {
                let mut n = state.next_id.lock().unwrap();
                *n += 1;
                9_000_000 + *n
            };
            let channel = if segments[0] == "webhooks" { "200" } else { channel };
            let nonce = body["nonce"].as_str().filter(|_| body["enforce_nonce"] == true).map(|n| format!("{channel}/{n}"));
            if let Some(earlier) = nonce.as_ref().and_then(|n| state.nonces.lock().unwrap().get(n).cloned()) {
                return axum::Json(earlier).into_response();
            }
            let mut m = message_create(&id.to_string(), channel, &BOT_ID.to_string(), "supportbot", body["content"].as_str().unwrap_or_default());
            m["author"]["bot"] = json!(true);
            if segments[0] == "channels" {
                state.created.lock().unwrap().push(m.clone());
                if let Some(n) = nonce {
                    state.nonces.lock().unwrap().insert(n, m.clone());
                }
                let fail = *state.fail_after_create.lock().unwrap();
                if fail > 0 {
                    *state.fail_after_create.lock().unwrap() = fail - 1;
                    return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "500: Internal Server Error", "code": 0})))
                        .into_response();
                }
            }
            m
        }
        ("POST", ["users", "@me", "channels"]) => json!({"id": "990", "type": 1, "recipients": [body["recipient_id"].clone()]}),
        ("POST", ["interactions", _, _, "callback"]) | ("DELETE", ["webhooks", ..]) => return StatusCode::NO_CONTENT.into_response(),
        _ => return (StatusCode::NOT_FOUND, axum::Json(json!({"message": "404: Not Found", "code": 0}))).into_response(),
    };
    let mut response = axum::Json(reply).into_response();
    for (k, v) in rate_headers {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let state = Arc::new(Recorded::default());
        let (dispatch_tx, dispatch_rx) = mpsc::unbounded_channel();
        *state.dispatches.lock().unwrap() = Some(dispatch_rx);
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}", ws.local_addr().unwrap());
        let api_url = format!("http://{}/api", http.local_addr().unwrap());
        *state.gateway_url.lock().unwrap() = ws_url;
        let app = Router::new().fallback(rest).with_state(state.clone());
        tokio::spawn(async move { axum::serve(http, app).await.unwrap() });
        tokio::spawn(serve_gateway(ws, state.clone()));
        FakeDiscord { api_url, state, dispatch_tx }
    }
}

impl FakeDiscord {
    /// Queues a gateway dispatch (sent after READY, in order).
    pub fn dispatch(&self, event: &str, data: Value) {
        self.dispatch_tx.send((event.to_string(), data)).unwrap();
    }

    pub fn set_history(&self, channel: &str, messages: Vec<Value>) {
        self.state.history.lock().unwrap().insert(channel.to_string(), messages);
    }

    pub fn close_after_identify(&self, code: u16) {
        *self.state.close_code.lock().unwrap() = Some(code);
    }

    pub fn identify(&self) -> Option<Value> {
        self.state.identify.lock().unwrap().clone()
    }

    /// Bodies of the requests with this method and path (query ignored).
    pub fn requests(&self, method: &str, path: &str) -> Vec<Value> {
        let all = self.state.requests.lock().unwrap();
        all.iter().filter(|(m, p, _)| m == method && p.split('?').next() == Some(path)).map(|(_, _, b)| b.clone()).collect()
    }

    /// Full paths (with query) of the requests with this method and path.
    pub fn request_paths(&self, method: &str, path: &str) -> Vec<String> {
        let all = self.state.requests.lock().unwrap();
        all.iter().filter(|(m, p, _)| m == method && p.split('?').next() == Some(path)).map(|(_, p, _)| p.clone()).collect()
    }

    /// Waits (up to 30 s, then fails) until `ready` holds.
    pub async fn wait_for(&self, what: &str, ready: impl Fn(&FakeDiscord) -> bool) {
        self.wait_for_within(what, std::time::Duration::from_secs(30), ready).await
    }

    /// [`FakeDiscord::wait_for`] with another deadline.
    pub async fn wait_for_within(&self, what: &str, limit: std::time::Duration, ready: impl Fn(&FakeDiscord) -> bool) {
        let seen = || format!("{:?}", self.state.requests.lock().unwrap().iter().map(|(m, p, _)| format!("{m} {p}")).collect::<Vec<_>>());
        crate::helpers::wait_until_within(&self.state.changed, what, limit, || ready(self), seen).await
    }
}

fn frame(value: Value) -> Message {
    Message::text(value.to_string())
}

/// One gateway connection at a time: HELLO, IDENTIFY, READY, then the queued dispatches.
async fn serve_gateway(listener: tokio::net::TcpListener, state: Arc<Recorded>) {
    let Some(mut dispatches) = state.dispatches.lock().unwrap().take() else { return };
    let mut seq = 1u64;
    while let Ok((tcp, _)) = listener.accept().await {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { continue };
        if ws.send(frame(json!({"op": 10, "d": {"heartbeat_interval": 45000}, "s": null, "t": null}))).await.is_err() {
            continue;
        }
        // Wait for IDENTIFY (op 2), answering heartbeats meanwhile.
        let identified = loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                    match v["op"].as_u64() {
                        Some(2) => break Some(v),
                        Some(1) => {
                            let _ = ws.send(frame(json!({"op": 11}))).await;
                        }
                        _ => {}
                    }
                }
                Some(Ok(_)) => {}
                _ => break None,
            }
        };
        let Some(identify) = identified else { continue };
        *state.identify.lock().unwrap() = Some(identify);
        state.changed.notify_waiters();
        let close = *state.close_code.lock().unwrap();
        if let Some(code) = close {
            let _ = ws.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "Disallowed intent(s).".into() }))).await;
            let _ = ws.close(None).await;
            continue;
        }
        let gateway_url = state.gateway_url.lock().unwrap().clone();
        let guilds = if state.active_threads.lock().unwrap().is_empty() { json!([]) } else { json!([{"id": GUILD_ID, "unavailable": true}]) };
        let ready = json!({
            "op": 0, "s": seq, "t": "READY",
            "d": {"v": 10, "user": user(&BOT_ID.to_string(), "supportbot", true), "guilds": guilds, "session_id": "fake-session",
                  "resume_gateway_url": gateway_url, "shard": [0, 1], "application": {"id": APP_ID.to_string(), "flags": 0}}
        });
        if ws.send(frame(ready)).await.is_err() {
            continue;
        }
        loop {
            tokio::select! {
                Some((event, data)) = dispatches.recv() => {
                    seq += 1;
                    if ws.send(frame(json!({"op": 0, "s": seq, "t": event, "d": data}))).await.is_err() { break; }
                }
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if serde_json::from_str::<Value>(text.as_str()).is_ok_and(|v| v["op"] == 1) {
                            let _ = ws.send(frame(json!({"op": 11}))).await;
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
