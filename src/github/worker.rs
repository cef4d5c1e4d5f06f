//! The GitHub worker: claims the tickets' issue requests, carries each out on GitHub, and
//! reports back to the core. A request is claimed by one worker at a time across instances; a
//! retry first looks for the issue an earlier attempt may have opened, so none is opened twice.

use super::client::{CallError, GithubClient};
use crate::bot::github::IssueWork;
use crate::bot::{Bot, BotResult};
use crate::domain::message::Action;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::watch;

/// Requests carried out per pass.
const BATCH: i64 = 10;

/// One pass at `now`: every due request claimed and carried out. Returns what it posts (already
/// in the outbox).
pub async fn run_due(bot: &Bot, client: &GithubClient, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
    let mut posted = Vec::new();
    for item in bot.claim_issue_work(now, BATCH).await? {
        posted.extend(match carry_out(client, &item).await {
            Ok(found) => bot.issue_on_github(&item, &found, now).await?,
            Err(CallError::Retry { reason, until }) => bot.issue_attempt_failed(&item, &reason, until, now).await?,
            Err(CallError::Refused(reason)) => bot.issue_refused(&item, &reason, now).await?,
        });
    }
    Ok(posted)
}

async fn carry_out(client: &GithubClient, item: &IssueWork) -> Result<crate::bot::github::OnGithub, CallError> {
    let repo = &item.issue.repo;
    if let Some(number) = item.issue.number {
        return client.issue(repo, number).await;
    }
    if item.is_retry()
        && let Some(found) = client.find_opened(repo, item.ticket.id).await?
    {
        tracing::info!(ticket = item.ticket.id, number = found.number, "found the issue an earlier attempt opened");
        return Ok(found);
    }
    client.open(repo, &item.draft).await
}

/// Runs a pass every `tick`, and at once when a moderator asks for an issue here, until `stop`.
pub async fn run(bot: Arc<Bot>, client: GithubClient, tick: std::time::Duration, mut stop: watch::Receiver<bool>) {
    let mut timer = tokio::time::interval(tick);
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            _ = bot.github_work_asked() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = run_due(&bot, &client, Utc::now()).await {
            tracing::error!(error = %crate::telemetry::chain(&e), "the GitHub worker's pass failed");
        }
    }
}
