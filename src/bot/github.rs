//! Tickets and GitHub issues, the core's side: `ticket github` asks for an issue; the GitHub
//! worker (`crate::github`) claims the request, talks to GitHub and reports back here; the
//! webhook says when an issue closed, which resolves its tickets like `ticket resolve` does.

use super::{Bot, BotResult};
use crate::domain::github::{self, GithubTarget, IssueDraft};
use crate::domain::message::{Action, Incoming};
use crate::domain::ticket::{self as rules, Ticket, Transition};
use crate::store::{IssueState, TicketIssue};
use chrono::{DateTime, Duration, Utc};
use minijinja::context;

/// What the core knows of `[github]`: whether it is on, and what `ticket github` needs.
#[derive(Debug, Clone, Default)]
pub struct GithubPolicy {
    /// The repository issues open in when none is named.
    pub repo: Option<String>,
    /// The link back's template (`domain::github::link_back`).
    pub link: Option<String>,
}

/// How long a worker holds a claimed request before another may take it over.
const LEASE: Duration = Duration::minutes(2);
/// Attempts before a request that keeps failing is given up on (about an hour of backoff).
pub const MAX_ATTEMPTS: i64 = 12;

/// A claimed request, with what the worker needs to carry it out.
#[derive(Debug, Clone)]
pub struct IssueWork {
    pub issue: TicketIssue,
    pub ticket: Ticket,
    /// The issue to open; unused when an existing issue is linked.
    pub draft: IssueDraft,
}

impl IssueWork {
    /// The claim is a retry: an earlier attempt may have opened the issue already.
    pub fn is_retry(&self) -> bool {
        self.issue.attempts > 1
    }
}

/// The issue as GitHub has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnGithub {
    pub number: i64,
    pub url: String,
    pub open: bool,
}

impl Bot {
    /// `ticket github <id> [owner/name | owner/name#12 | issue URL]`.
    pub(super) async fn ticket_github(&self, event: &Incoming, id: i64, target: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(policy) = &self.shared.config.github else {
            return Ok(vec![self.command_reply(event, "github_off", context! {})]);
        };
        let (repo, number) = match github::parse_target(target) {
            Ok(GithubTarget::DefaultRepo) => match &policy.repo {
                Some(repo) => (repo.clone(), None),
                None => {
                    return Ok(vec![self.command_reply(
                        event,
                        "github_usage",
                        context! { problem => "no [github] repo is set, so name one", ticket_id => id },
                    )]);
                }
            },
            Ok(GithubTarget::Repo(repo)) => (repo, None),
            Ok(GithubTarget::Issue(issue)) => (issue.repo, Some(issue.number as i64)),
            Err(problem) => return Ok(vec![self.command_reply(event, "github_usage", context! { problem => problem, ticket_id => id })]),
        };
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        if let Err(existing) = self.store.request_issue(id, &repo, number, &event.author.name, now).await? {
            return Ok(vec![self.command_reply(event, "github_already", context! { ticket_id => id, issue => existing })]);
        }
        let what = match number {
            Some(n) => format!("link to {repo}#{n}"),
            None => format!("open an issue in {repo}"),
        };
        self.store.note_on_ticket(&ticket, &event.author.name, Some(&event.author.id), "github", &what, now).await?;
        tracing::info!(ticket = id, "GitHub issue requested");
        self.shared.github_asked.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(vec![self.command_reply(event, "github_requested", context! { ticket_id => id, repo => repo, number => number })])
    }

    /// Completes when an issue was asked for since the last call (on this instance): the worker
    /// waits on it beside its timer.
    pub async fn github_work_asked(&self) {
        self.shared.github_due.notified().await
    }

    /// Claims the issue requests that are due, for this worker, with each one's draft.
    pub async fn claim_issue_work(&self, now: DateTime<Utc>, limit: i64) -> BotResult<Vec<IssueWork>> {
        let link = self.shared.config.github.as_ref().and_then(|g| g.link.as_deref());
        let mut work = Vec::new();
        for issue in self.store.claim_issue_requests(now, now + LEASE, limit).await? {
            let Some(ticket) = self.store.ticket(issue.ticket_id).await? else { continue };
            let history = self.store.ticket_events(ticket.id).await?;
            let draft = github::draft(&ticket, &history, github::link_back(link, &ticket).as_deref());
            work.push(IssueWork { issue, ticket, draft });
        }
        Ok(work)
    }

    /// The worker opened (or found, or checked) the issue: the ticket records it, and the
    /// moderators and the asker hear of it, once.
    pub async fn issue_on_github(&self, work: &IssueWork, found: &OnGithub, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let unit = self.store.begin().await?;
        let state = if found.open { IssueState::Open } else { IssueState::Closed };
        if !unit.issue_opened(work.ticket.id, found.number, &found.url, state, now).await? {
            unit.commit().await?;
            return Ok(Vec::new());
        }
        let ticket = &work.ticket;
        let name = format!("{}#{}", work.issue.repo, found.number);
        unit.note_on_ticket(ticket, &self.shared.config.name, None, "github", &format!("{name} {}", found.url), now).await?;
        let linked = work.issue.number.is_some();
        let ctx = context! { ticket => ticket, repo => work.issue.repo, number => found.number, url => found.url, linked => linked, open => found.open, by => work.issue.requested_by };
        let actions = vec![
            self.to_moderators(ticket, self.say("moderators_github_opened", ctx.clone())),
            self.to_asker(ticket, self.say("github_tracked", ctx)),
        ];
        unit.record_actions(&ticket.platform, &format!("github:{}:{}", ticket.id, found.number), &actions, None, now).await?;
        unit.commit().await?;
        tracing::info!(ticket = ticket.id, number = found.number, "ticket linked to its GitHub issue");
        Ok(actions)
    }

    /// An attempt failed for a reason that may pass (GitHub down, a rate limit): tried again
    /// later, or given up on after `MAX_ATTEMPTS`. `not_before`: when GitHub said to come back.
    pub async fn issue_attempt_failed(
        &self,
        work: &IssueWork,
        error: &str,
        not_before: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> BotResult<Vec<Action>> {
        if work.issue.attempts >= MAX_ATTEMPTS {
            return self.issue_refused(work, &format!("{error} (gave up after {} attempts)", work.issue.attempts), now).await;
        }
        let retry_at = (now + crate::chat::backoff(work.issue.attempts)).max(not_before.unwrap_or(now));
        tracing::warn!(ticket = work.ticket.id, attempts = work.issue.attempts, error, "opening the GitHub issue failed; trying again later");
        self.store.issue_retry_at(work.ticket.id, error, retry_at, now).await?;
        Ok(Vec::new())
    }

    /// GitHub refused the request for good (no such repository or issue, no permission): the
    /// moderators are told why, once.
    pub async fn issue_refused(&self, work: &IssueWork, error: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let unit = self.store.begin().await?;
        let mut posted = Vec::new();
        if unit.issue_failed(work.ticket.id, error, now).await? {
            let ticket = &work.ticket;
            unit.note_on_ticket(ticket, &self.shared.config.name, None, "github", &format!("failed: {error}"), now).await?;
            let text = self.say("moderators_github_failed", context! { ticket => ticket, repo => work.issue.repo, error => error });
            let action = self.to_moderators(ticket, text);
            unit.record_actions(
                &ticket.platform,
                &format!("github-failed:{}:{}", ticket.id, now.timestamp_millis()),
                std::slice::from_ref(&action),
                None,
                now,
            )
            .await?;
            tracing::warn!(ticket = ticket.id, error, "GitHub refused the ticket's issue");
            posted.push(action);
        }
        unit.commit().await?;
        Ok(posted)
    }

    /// GitHub says `repo`'s issue `number` was closed (or reopened). Closed: each active ticket
    /// linked to it is resolved, and its asker told, as `ticket resolve` would; reopened: the
    /// moderators hear of it. A redelivery changes nothing.
    pub async fn github_issue_changed(
        &self,
        repo: &str,
        number: i64,
        closed: bool,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> BotResult<Vec<Action>> {
        let unit = self.store.begin().await?;
        let state = if closed { IssueState::Closed } else { IssueState::Open };
        let name = format!("{repo}#{number}");
        let mut out = Vec::new();
        for ticket_id in unit.issue_changed(repo, number, state, now).await? {
            let Some(ticket) = unit.ticket(ticket_id).await? else { continue };
            let mut actions = Vec::new();
            let mut resolved = false;
            if closed && ticket.status.is_active() {
                let why = match reason {
                    Some("not_planned") => "closed as not planned",
                    Some("duplicate") => "closed as a duplicate",
                    _ => "closed",
                };
                let resolve = Transition::Resolve { resolution: Some(format!("GitHub issue {name} was {why}")) };
                if let Ok(change) = rules::apply_as_bot(&ticket, &resolve, "GitHub", now) {
                    let updated = unit.apply_transition(&change).await?;
                    actions.extend(self.within(unit.clone()).tell_askers_resolved(&updated, "GitHub").await?);
                    resolved = true;
                }
            } else {
                unit.note_on_ticket(&ticket, "GitHub", None, "github", &format!("{name} {}", if closed { "closed" } else { "reopened" }), now)
                    .await?;
            }
            let text = self.say(
                "moderators_github_changed",
                context! { ticket => ticket, repo => repo, number => number, closed => closed, resolved => resolved },
            );
            actions.push(self.to_moderators(&ticket, text));
            let origin = format!("github-issue:{ticket_id}:{}:{}", state.as_str(), now.timestamp_millis());
            unit.record_actions(&ticket.platform, &origin, &actions, None, now).await?;
            out.extend(actions);
        }
        unit.commit().await?;
        Ok(out)
    }
}
