//! The periodic jobs in one place. [`Scheduler::run_due`] runs, in order, every job that is due
//! at `now`: questions whose window passed become tickets, events left unprocessed are resumed,
//! the digest is queued when a period ended, what is past its `[privacy]` time is removed, and
//! the web console's past digests are computed ahead of a moderator asking. It is one plain call with the clock passed in,
//! so tests run a tick without sleeping; `app::run` calls it on `[bot] tick` until stopped.

use super::Bot;
use chrono::{DateTime, Utc};
use std::fmt;

/// One of the periodic jobs, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Questions unanswered for the whole window become tickets (`Bot::tick`).
    Settle,
    /// Events recorded but never finished are handled (`Bot::resume`).
    Resume,
    /// The digest of the period that ended is queued, once across instances (`digest::post_if_due`).
    Digest,
    /// What is older than its `[privacy]` setting is removed, hourly, once across instances
    /// (`Bot::expire`).
    Retention,
    /// One finished week the web console offers whose digest is not kept yet is computed, so
    /// its page loads without a k-means run (`Bot::warm_console_digest`).
    ConsoleDigests,
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Job::Settle => "settling unanswered questions",
            Job::Resume => "resuming unprocessed events",
            Job::Digest => "posting the digest",
            Job::Retention => "removing what is past its retention time",
            Job::ConsoleDigests => "computing the console's past digests",
        })
    }
}

/// What one [`Scheduler::run_due`] did. A job that failed is logged and listed in `failed`;
/// the jobs after it still ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    /// Actions queued for questions that became tickets (or were linked to one).
    pub settled: usize,
    /// Unprocessed events handled.
    pub resumed: usize,
    /// Whether this instance queued the digest.
    pub digest_posted: bool,
    /// Rows the retention job removed or blanked (0 when another instance had it).
    pub expired: u64,
    /// The Monday of the week whose console digest this run computed, if it did one.
    pub console_week: Option<DateTime<Utc>>,
    pub failed: Vec<Job>,
}

/// Runs the bot's periodic jobs. `instance` names this process when claiming once-per-period
/// work (the digest, the retention run) against other instances on the same database.
#[derive(Clone)]
pub struct Scheduler {
    bot: Bot,
    instance: String,
}

impl Scheduler {
    pub fn new(bot: Bot, instance: impl Into<String>) -> Scheduler {
        Scheduler { bot, instance: instance.into() }
    }

    /// Runs every job due at `now`, in order; one failing job does not stop the others.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Due {
        let bot = &self.bot;
        let mut due = Due::default();
        match bot.tick(now).await {
            Ok(actions) => due.settled = actions.len(),
            Err(e) => failed(&mut due, Job::Settle, &e),
        }
        match bot.resume(now).await {
            Ok(n) => due.resumed = n,
            Err(e) => failed(&mut due, Job::Resume, &e),
        }
        match super::digest::post_if_due(bot.store(), bot.prompts(), bot.embedder(), bot.config(), &self.instance, now).await {
            Ok(posted) => due.digest_posted = posted,
            Err(e) => failed(&mut due, Job::Digest, e.as_ref()),
        }
        match bot.expire(&self.instance, now).await {
            Ok(counts) => due.expired = counts.map(|c| c.total()).unwrap_or(0),
            Err(e) => failed(&mut due, Job::Retention, &e),
        }
        match bot.warm_console_digest(now).await {
            Ok(week) => due.console_week = week,
            Err(e) => failed(&mut due, Job::ConsoleDigests, &e),
        }
        due
    }
}

fn failed(due: &mut Due, job: Job, error: &(dyn std::error::Error + 'static)) {
    tracing::error!(error = %crate::telemetry::chain(error), "{job} failed");
    due.failed.push(job);
}
