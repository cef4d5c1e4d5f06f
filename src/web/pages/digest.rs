//! The digest of any past week: its numbers as tables and its chart as an image. A finished
//! week's digest does not change, so it is computed once (its themes cost a k-means run).

use super::{frame, render, unavailable};
use crate::bot::console_digests::{offered_weeks, week_start};
use crate::web::Console;
use crate::web::session::Moderator;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use minijinja::{Value, context};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    /// The Monday the week starts on, `YYYY-MM-DD`; default the last finished week.
    #[serde(default)]
    week: String,
}

/// The week [from, from + 7 days) asked for, starting on a Monday (00:00 UTC); by default the
/// last finished one.
fn week_of(q: &WeekQuery, now: DateTime<Utc>) -> DateTime<Utc> {
    match NaiveDate::parse_from_str(q.week.trim(), "%Y-%m-%d") {
        Ok(day) => week_start(day),
        Err(_) => week_start(now.date_naive()) - Duration::days(7),
    }
}

pub async fn page(State(console): State<Arc<Console>>, who: Moderator, headers: HeaderMap, Query(q): Query<WeekQuery>) -> Response {
    let now = console.now();
    let from = week_of(&q, now);
    let digest = match console.bot.console_digest(from, from + Duration::days(7), now).await {
        Ok(d) => d,
        Err(e) => return unavailable(&console, &e),
    };
    let weeks: Vec<Value> = offered_weeks(now)
        .into_iter()
        .enumerate()
        .map(|(i, start)| context! { week => start.date_naive().to_string(), current => start == from, this_week => i == 0 })
        .collect();
    let ctx = context! {
        week => from.date_naive().to_string(), until => (from + Duration::days(6)).date_naive().to_string(),
        numbers => Value::from_serialize(&digest.0), themes => Value::from_serialize(&digest.1), weeks => weeks,
        unfinished => from + Duration::days(7) > now,
        ..frame(&who, &headers, "digest")
    };
    render(&console, "digest.html", ctx)
}

/// The week's chart, the same picture the digest posts.
pub async fn chart(State(console): State<Arc<Console>>, _who: Moderator, Query(q): Query<WeekQuery>) -> Response {
    let now = console.now();
    let from = week_of(&q, now);
    let (numbers, themes) = match console.bot.console_digest(from, from + Duration::days(7), now).await {
        Ok(d) => d,
        Err(e) => return unavailable(&console, &e),
    };
    let drawn = tokio::task::spawn_blocking(move || crate::chart::render_png(&numbers.days, themes.as_deref().unwrap_or(&[]))).await;
    match drawn {
        Ok(Ok(png)) => ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=300")], png).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "drawing the digest chart failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the chart could not be drawn").into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "the chart could not be drawn").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_week_starts_on_its_monday_and_defaults_to_the_last_finished_one() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap(); // a Thursday
        let monday = |s: &str| week_of(&WeekQuery { week: s.into() }, now).date_naive().to_string();
        assert_eq!(monday(""), "2026-11-23");
        assert_eq!(monday("2026-11-05"), "2026-11-02");
        assert_eq!(monday("nonsense"), "2026-11-23");
    }
}
