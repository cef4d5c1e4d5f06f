//! Search over every question asked and every ticket (its question and its resolution), with
//! filters; and, with no words given, the questions nobody could answer.

use super::{frame, render, unavailable, when};
use crate::web::Console;
use crate::web::session::Moderator;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    /// "question", "ticket" or "" for both.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    platform: String,
}

pub async fn page(State(console): State<Arc<Console>>, who: Moderator, headers: HeaderMap, Query(q): Query<SearchQuery>) -> Response {
    let query: String = q.q.chars().take(200).collect();
    let kind = Some(q.kind.as_str()).filter(|k| matches!(*k, "question" | "ticket"));
    let platform = Some(q.platform.trim()).filter(|p| !p.is_empty());
    let found =
        if query.trim().is_empty() { console.bot.console_unanswered(30).await } else { console.bot.console_search(&query, kind, platform).await };
    let hits = match found {
        Ok(h) => h,
        Err(e) => return unavailable(&console, &e),
    };
    let rows: Vec<Value> = hits
        .iter()
        .map(|h| {
            let text: String = h.text.chars().take(300).collect();
            context! { kind => h.kind, ticket_id => h.ticket_id, platform => h.platform, channel => h.channel, who => h.who,
            text => text, resolution => h.resolution, status => h.status, at => when(h.at) }
        })
        .collect();
    let ctx = context! {
        hits => rows, query => query, kind => q.kind, platform => q.platform, unanswered => query.trim().is_empty(),
        ..frame(&who, &headers, "search")
    };
    render(&console, "search.html", ctx)
}
