//! The web console's doors into the bot. Every change a moderator makes in the browser is the
//! chat command it stands for, handled exactly as if typed (`act`): the same rules, the same
//! history lines, the same words to the asker and the moderators' channel. The pages read
//! through the narrow views below, never the store.

use super::{Bot, BotResult};
use crate::domain::message::{Action, ActionKind, Author, Incoming, IncomingKind};
use crate::domain::ticket::{self as rules, Priority, Ticket, TicketEvent};
use crate::store::{FaqUse, Intake, QueueFacets, QueueFilter, SearchHit, TicketIssue, WebUser};
use chrono::{DateTime, Utc};
use minijinja::context;

/// Where sign-in links point and how long they last (`[web]`).
#[derive(Debug, Clone)]
pub struct ConsoleLinks {
    /// `[web] public_url`, without a trailing slash.
    pub base: String,
    pub ttl: std::time::Duration,
}

/// What a moderator's action from the browser came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Done: what the chat would have answered the moderator.
    Done(String),
    /// This very form was handled before (a double submit, a reload): nothing happened twice.
    Already,
}

/// Everything the ticket page shows.
#[derive(Debug, Clone)]
pub struct TicketView {
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    /// The repeats of its question linked to it: (message id, text).
    pub linked: Vec<(String, String)>,
    /// The bot's answer to the question, if it gave one: (FAQ id, confidence).
    pub answer: Option<(String, Option<f64>)>,
    /// Votes on that answer: (member id, helpful, comment, when).
    pub votes: Vec<(String, bool, Option<String>, DateTime<Utc>)>,
    pub issue: Option<TicketIssue>,
    pub sla: Option<minijinja::Value>,
}

/// One FAQ entry's page.
#[derive(Debug, Clone)]
pub struct FaqView {
    pub entry: crate::domain::faq::FaqEntry,
    pub answered: i64,
    pub helpful: i64,
    pub not_helpful: i64,
    pub learned: Vec<crate::domain::learning::LearnedPhrasing>,
    pub recent: Vec<FaqUse>,
}

/// A line of the FAQ list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaqRow {
    pub id: String,
    pub question: String,
    pub answered: i64,
    pub learned: i64,
    pub helpful: i64,
    pub not_helpful: i64,
}

impl Bot {
    /// Runs `line` (a chat command) for `who`, a moderator signed in to the console, on
    /// `platform` (the ticket's: where what the command says to the asker goes). `form_id`
    /// names this one submission: the same form sent twice acts once.
    ///
    /// The caller has checked that `who` is a moderator; the command's own check runs again.
    pub async fn act(&self, who: &WebUser, platform: &str, form_id: &str, line: &str, now: DateTime<Utc>) -> BotResult<Acted> {
        let event = Incoming {
            platform: platform.to_string(),
            event_id: format!("web:{form_id}"),
            at: now,
            channel: "web".into(),
            author: Author { id: who.user_id.clone(), name: who.user_name.clone(), is_moderator: true },
            kind: IncomingKind::Command { text: line.to_string() },
            reply_url: None,
        };
        if self.record(&event, now).await? == Intake::Duplicate {
            return Ok(Acted::Already);
        }
        let outcome = self.commit_event(&event, now, |a| for_the_actor(&event, a)).await;
        if outcome.is_err() {
            let _ = self.store.release_incoming(&event.platform, &event.event_id).await;
        }
        let (_, kept) = outcome?;
        Ok(Acted::Done(kept.into_iter().map(|a| a.text).collect::<Vec<_>>().join("\n")))
    }

    /// `console`: a one-time sign-in link for the moderator who asked, to them only, blanked from
    /// the outbox once delivered.
    pub(super) async fn console_link(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(links) = &self.shared.config.console else {
            return Ok(vec![self.command_reply(event, "console_off", context! {})]);
        };
        let user = WebUser { platform: event.platform.clone(), user_id: event.author.id.clone(), user_name: event.author.name.clone() };
        let link = self.mint_sign_in_link(&user, now).await?;
        let valid_for = humantime::format_duration(links.ttl).to_string();
        // Ours, not user text (public_url and a random token): marked safe, so never escaped.
        let reply = self.command_reply(event, "console_link", context! { link => minijinja::Value::from_safe_string(link), valid_for => valid_for });
        Ok(vec![reply.erased_after_send()])
    }

    /// A new one-time sign-in link for `user` (`console`).
    pub async fn mint_sign_in_link(&self, user: &WebUser, now: DateTime<Utc>) -> BotResult<String> {
        let links = self.shared.config.console.clone().unwrap_or(ConsoleLinks { base: String::new(), ttl: std::time::Duration::from_secs(600) });
        Ok(sign_in_link(&self.store, &links, user, now).await?)
    }

    /// `ticket priority`: up or down, recorded like any change, the SLA's timers re-armed.
    pub(super) async fn ticket_priority(&self, event: &Incoming, id: i64, to: Priority, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        if let Some(change) = rules::set_priority(&ticket, to, &event.author.name, now) {
            self.store.raise_priority(&change).await?;
        }
        let updated = self.store.ticket(id).await?.unwrap_or(ticket);
        self.arm_sla(&updated, now).await?;
        let text = self.say("ticket_updated", context! { ticket => updated, action => "priority", actor => event.author.name });
        Ok(vec![self.private_reply(event, ActionKind::TicketUpdated, text).about_ticket(id, updated.status)])
    }

    // ---- what the pages read ----

    pub async fn console_queue(&self, filter: &QueueFilter, limit: i64, offset: i64) -> BotResult<(Vec<Ticket>, i64)> {
        Ok(self.store.queue(filter, limit, offset).await?)
    }

    pub async fn console_facets(&self) -> BotResult<QueueFacets> {
        Ok(self.store.queue_facets().await?)
    }

    pub async fn console_ticket(&self, id: i64, now: DateTime<Utc>) -> BotResult<Option<TicketView>> {
        let Some(ticket) = self.store.ticket(id).await? else { return Ok(None) };
        let events = self.store.ticket_events(id).await?;
        let linked = self.store.linked_questions(id).await?;
        let (question, votes) = self.store.ticket_question(&ticket).await?;
        let answer = question.and_then(|q| q.faq_id.map(|f| (f, q.confidence)));
        let issue = self.store.ticket_issue(id).await?;
        let sla = self.sla_summary(&ticket, now);
        Ok(Some(TicketView { ticket, events, linked, answer, votes, issue, sla }))
    }

    pub async fn console_search(&self, query: &str, kind: Option<&str>, platform: Option<&str>) -> BotResult<Vec<SearchHit>> {
        Ok(self.store.search_console(query, kind, platform, 50).await?)
    }

    pub async fn console_faq(&self) -> BotResult<Vec<FaqRow>> {
        let tallies = self.store.entry_tallies().await?;
        let answered = self.store.faq_answer_counts().await?;
        Ok(self
            .store
            .faq_entries()
            .await?
            .into_iter()
            .map(|e| {
                let (learned, helpful, not_helpful) = tallies.get(&e.id).copied().unwrap_or_default();
                FaqRow { answered: answered.get(&e.id).copied().unwrap_or(0), id: e.id, question: e.question, learned, helpful, not_helpful }
            })
            .collect())
    }

    pub async fn console_faq_entry(&self, id: &str) -> BotResult<Option<FaqView>> {
        let Some(entry) = self.store.faq_entry(id).await? else { return Ok(None) };
        let (_, helpful, not_helpful) = self.store.entry_tallies().await?.get(id).copied().unwrap_or_default();
        let (answered, recent) = self.store.faq_uses(id, 10).await?;
        let learned = self.store.learned_phrasings(Some(id)).await?;
        Ok(Some(FaqView { entry, answered, helpful, not_helpful, learned, recent }))
    }

    pub async fn console_unanswered(&self, limit: i64) -> BotResult<Vec<SearchHit>> {
        Ok(self.store.unanswered_questions(limit).await?)
    }

    /// Signs in: a sign-in link spent (once), or a session looked up.
    pub async fn spend_sign_in_link(&self, token_hash: &str, now: DateTime<Utc>) -> BotResult<Option<WebUser>> {
        Ok(self.store.use_login_link(token_hash, now).await?)
    }
}

/// A new one-time sign-in link for `user`, good for `links.ttl` (`console`, or the operator's
/// `supportbot web link`): only its hash is stored.
pub async fn sign_in_link(
    store: &crate::store::Store,
    links: &ConsoleLinks,
    user: &WebUser,
    now: DateTime<Utc>,
) -> crate::store::StoreResult<String> {
    let token = crate::web::token::new_token();
    let expires = now + chrono::Duration::from_std(links.ttl).unwrap_or(chrono::Duration::minutes(10));
    store.create_login_link(&crate::web::token::hash(&token), user, now, expires).await?;
    Ok(format!("{}/console/auth/link?token={token}", links.base))
}

/// What the command said back to the moderator who gave it: the console shows it on the page
/// instead of sending it anywhere.
fn for_the_actor(event: &Incoming, a: &Action) -> bool {
    a.kind != ActionKind::NotifyModerators
        && a.in_reply_to.as_deref() == Some(event.event_id.as_str())
        && a.recipient.as_deref() == Some(event.author.id.as_str())
}

impl Bot {
    pub async fn web_session(&self, token_hash: &str, now: DateTime<Utc>) -> BotResult<Option<crate::store::WebSession>> {
        Ok(self.store.web_session(token_hash, now).await?)
    }

    pub async fn start_web_session(&self, token_hash: &str, s: &crate::store::WebSession, now: DateTime<Utc>) -> BotResult<()> {
        Ok(self.store.create_web_session(token_hash, s, now).await?)
    }

    pub async fn end_web_session(&self, token_hash: &str) -> BotResult<()> {
        Ok(self.store.end_web_session(token_hash).await?)
    }

    /// An OAuth sign-in's state, kept until its return (once).
    pub async fn keep_oauth_state(&self, state_hash: &str, provider: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> BotResult<()> {
        Ok(self.store.create_oauth_state(state_hash, provider, now, now + ttl).await?)
    }

    pub async fn spend_oauth_state(&self, state_hash: &str, provider: &str, now: DateTime<Utc>) -> BotResult<bool> {
        Ok(self.store.use_oauth_state(state_hash, provider, now).await?)
    }
}
