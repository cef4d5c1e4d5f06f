//! `ticket assign <id> auto`: every waiting ticket matched to a responder at once
//! (`domain::ticket::assign`), and the asked-for ticket assigned where that puts it, with the
//! reason in one line.

use super::{Bot, BotResult};
use crate::domain::message::{Action, Incoming};
use crate::domain::ticket::assign::{Waiting, assign};
use crate::domain::ticket::{Status, Transition};
use chrono::{DateTime, Utc};
use minijinja::context;

/// Waiting tickets weighed together at most (the most urgent and oldest first).
const WAITING_LIMIT: i64 = 500;

impl Bot {
    pub(super) async fn assign_auto(&self, event: &Incoming, id: i64, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let policy = &self.shared.config.tickets;
        if policy.responders.is_empty() {
            return Ok(vec![self.command_reply(event, "assign_auto_none", context! { ticket_id => id, configured => false })]);
        }
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        let mut queue: Vec<_> = self.store.tickets(Some(Status::Open), WAITING_LIMIT).await?.into_iter().filter(|t| t.assignee.is_none()).collect();
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
        let choices = assign(&waiting, &policy.responders, &load, policy.handling, now);
        let Some(choice) = choices.into_iter().find(|c| c.ticket_id == id) else { return Ok(Vec::new()) };
        let Some(to) = choice.responder.clone() else {
            return Ok(vec![self.command_reply(event, "assign_auto_none", context! { ticket_id => id, configured => true })]);
        };
        tracing::info!(ticket = id, responder = %to, waiting = waiting.len(), "assigned by skill and load");
        let why = self.say(
            "assign_auto_why",
            context! {
                responder => to, skilled => choice.skilled, load => choice.load, capacity => choice.capacity,
                on_duty => choice.on_duty, wait => super::ticket_work::span_text(choice.expected_wait), waiting => waiting.len(),
            },
        );
        let mut actions = self.transition(event, id, Transition::Assign { to }, now).await?;
        if let Some(first) = actions.first_mut() {
            first.text = format!("{}\n{}", first.text.trim_end(), why.trim_end());
        }
        Ok(actions)
    }

    /// The tags of the FAQ entry nearest a ticket's question (its best match when it was
    /// asked), which say what skill it needs; none when it matched nothing.
    async fn ticket_tags(&self, ticket: &crate::domain::ticket::Ticket) -> BotResult<Vec<String>> {
        let Some(message) = &ticket.question_message_id else { return Ok(Vec::new()) };
        let Some(faq_id) = self.store.question(&ticket.platform, message).await?.and_then(|q| q.faq_id) else { return Ok(Vec::new()) };
        Ok(self.store.faq_entry(&faq_id).await?.map(|e| e.tags).unwrap_or_default())
    }
}
