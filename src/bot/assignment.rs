//! Assignment by skill and load: `ticket assign <id> auto` and `[tickets] auto_assign`. Every
//! waiting ticket is matched to a responder at once (`domain::ticket::assign`), and the ticket
//! at hand goes where that puts it; the command says why in one line.

use super::{Bot, BotResult};
use crate::domain::message::{Action, Incoming};
use crate::domain::ticket::assign::{Choice, Waiting, assign};
use crate::domain::ticket::{self as rules, Status, Ticket, Transition};
use chrono::{DateTime, Utc};
use minijinja::context;

/// Waiting tickets weighed together at most (the most urgent and oldest first).
const WAITING_LIMIT: i64 = 500;

impl Bot {
    pub(super) async fn assign_auto(&self, event: &Incoming, id: i64, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        if self.shared.config.tickets.responders.is_empty() {
            return Ok(vec![self.command_reply(event, "assign_auto_none", context! { ticket_id => id, configured => false })]);
        }
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        let (choice, waiting) = self.choose_responder(&ticket, now).await?;
        let Some(to) = choice.responder.clone() else {
            return Ok(vec![self.command_reply(event, "assign_auto_none", context! { ticket_id => id, configured => true })]);
        };
        let why = self.say(
            "assign_auto_why",
            context! {
                responder => to, skilled => choice.skilled, load => choice.load, capacity => choice.capacity,
                on_duty => choice.on_duty, wait => super::ticket_work::span_text(choice.expected_wait), waiting => waiting,
            },
        );
        let mut actions = self.transition(event, id, Transition::Assign { to }, now).await?;
        if let Some(first) = actions.first_mut() {
            first.text = format!("{}\n{}", first.text.trim_end(), why.trim_end());
        }
        Ok(actions)
    }

    /// `[tickets] auto_assign`: a new ticket goes where assignment by skill and load puts it,
    /// by the bot (no first response). Returns the ticket as it is afterwards.
    pub(super) async fn assign_new_ticket(&self, ticket: Ticket, now: DateTime<Utc>) -> BotResult<Ticket> {
        let policy = &self.shared.config.tickets;
        if !policy.auto_assign || policy.responders.is_empty() {
            return Ok(ticket);
        }
        let (choice, _) = self.choose_responder(&ticket, now).await?;
        let Some(to) = choice.responder else { return Ok(ticket) };
        let Ok(change) = rules::apply_as_bot(&ticket, &Transition::Assign { to }, &self.shared.config.name, now) else { return Ok(ticket) };
        tracing::info!(ticket = ticket.id, "assigned on opening by skill and load");
        Ok(self.store.apply_transition(&change).await?)
    }

    /// Where assignment of every waiting ticket at once puts `ticket`, and how many tickets were
    /// weighed.
    async fn choose_responder(&self, ticket: &Ticket, now: DateTime<Utc>) -> BotResult<(Choice, usize)> {
        let policy = &self.shared.config.tickets;
        let id = ticket.id;
        let mut queue: Vec<Ticket> =
            self.store.tickets(Some(Status::Open), WAITING_LIMIT).await?.into_iter().filter(|t| t.assignee.is_none()).collect();
        if !queue.iter().any(|t| t.id == id) {
            queue.insert(0, ticket.clone());
        }
        let held = self.store.tickets(Some(Status::Assigned), 100_000).await?;
        let load: Vec<usize> = policy
            .responders
            .iter()
            .map(|r| held.iter().filter(|t| t.id != id && t.assignee.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(&r.name))).count())
            .collect();
        let mut waiting = Vec::with_capacity(queue.len());
        for t in &queue {
            waiting.push(Waiting { ticket_id: t.id, priority: t.priority, tags: self.ticket_tags(t).await? });
        }
        let choice = assign(&waiting, &policy.responders, &load, policy.handling, now).into_iter().find(|c| c.ticket_id == id);
        let choice = choice.unwrap_or(Choice {
            ticket_id: id,
            responder: None,
            expected_wait: chrono::Duration::zero(),
            skilled: false,
            load: 0,
            capacity: 0,
            on_duty: false,
        });
        if let Some(to) = &choice.responder {
            tracing::info!(ticket = id, responder = %to, waiting = waiting.len(), "chosen by skill and load");
        }
        Ok((choice, waiting.len()))
    }

    /// The tags of the FAQ entry nearest a ticket's question (its best match when it was
    /// asked), which say what skill it needs; none when it matched nothing.
    async fn ticket_tags(&self, ticket: &Ticket) -> BotResult<Vec<String>> {
        let Some(message) = &ticket.question_message_id else { return Ok(Vec::new()) };
        let Some(faq_id) = self.store.question(&ticket.platform, message).await?.and_then(|q| q.faq_id) else { return Ok(Vec::new()) };
        Ok(self.store.faq_entry(&faq_id).await?.map(|e| e.tags).unwrap_or_default())
    }
}
