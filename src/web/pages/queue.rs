//! The queue: active tickets (or any status), filtered, most urgent first, with how long each
//! has waited.

use super::{frame, render, unavailable, waited};
use crate::domain::ticket::{Priority, Status};
use crate::store::QueueFilter;
use crate::web::Console;
use crate::web::session::Moderator;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use std::sync::Arc;

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    channel: String,
    /// "1h", "1d", "3d", "7d": waited at least so long.
    #[serde(default)]
    age: String,
    #[serde(default)]
    page: i64,
}

fn filled(s: &str) -> Option<String> {
    Some(s.trim()).filter(|s| !s.is_empty()).map(String::from)
}

impl QueueQuery {
    fn filter(&self, now: chrono::DateTime<chrono::Utc>) -> QueueFilter {
        let statuses = match self.status.as_str() {
            "all" => vec![Status::Open, Status::Assigned, Status::Resolved, Status::Closed],
            s => s.parse::<Status>().map(|s| vec![s]).unwrap_or_default(),
        };
        QueueFilter {
            statuses,
            priority: self.priority.parse::<Priority>().ok(),
            assignee: match self.assignee.as_str() {
                "" => None,
                "none" => Some(String::new()),
                name => Some(name.to_string()),
            },
            platform: filled(&self.platform),
            channel: filled(&self.channel),
            opened_before: humantime::parse_duration(self.age.trim()).ok().and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| now - d),
        }
    }
}

pub async fn page(State(console): State<Arc<Console>>, who: Moderator, headers: HeaderMap, Query(q): Query<QueueQuery>) -> Response {
    let now = console.now();
    let filter = q.filter(now);
    let offset = q.page.max(0) * PAGE;
    let (tickets, total) = match console.bot.console_queue(&filter, PAGE, offset).await {
        Ok(found) => found,
        Err(e) => return unavailable(&console, &e),
    };
    let facets = match console.bot.console_facets().await {
        Ok(f) => f,
        Err(e) => return unavailable(&console, &e),
    };
    let rows: Vec<Value> = tickets
        .iter()
        .map(|t| {
            let question: String = t.question.chars().take(160).collect();
            context! {
                id => t.id, status => t.status, priority => t.priority, question => question,
                truncated => t.question.chars().count() > 160, asker => t.asker_name, platform => t.platform,
                channel => t.channel, assignee => t.assignee, waited => waited(now - t.created_at),
                answered => t.first_response_at.is_some(), private => t.private,
            }
        })
        .collect();
    let pages = (total + PAGE - 1) / PAGE;
    let ctx = context! {
        tickets => rows, total => total, page => q.page.max(0), pages => pages, facets => Value::from_serialize(&facets),
        q => context! { status => q.status, priority => q.priority, assignee => q.assignee, platform => q.platform, channel => q.channel, age => q.age },
        ..frame(&who, &headers, "queue")
    };
    render(&console, "queue.html", ctx)
}
