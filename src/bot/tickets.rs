//! Opening tickets (or linking repeats to an open one) and announcing them.

use super::{Bot, BotResult};
use crate::domain::message::{Action, ActionKind, ThreadPlace};
use crate::domain::text;
use crate::domain::ticket::{Ticket, most_similar};
use crate::store::NewTicket;
use chrono::{DateTime, Utc};
use minijinja::context;
use std::sync::Arc;

/// How many active tickets are compared when looking for a repeat.
const LINK_CANDIDATES: i64 = 500;

impl Bot {
    /// Opens a ticket for the request, or links it to an active ticket asking the same thing,
    /// and returns what to tell the asker and the moderators. `comment`: what the asker said
    /// with a "not helpful" vote. Safe to call again for the same message: the ticket is opened
    /// once.
    pub(super) async fn open_or_link(&self, req: NewTicket<'_>, comment: Option<&str>, now: DateTime<Utc>) -> BotResult<(Ticket, Vec<Action>)> {
        if let Some(existing) = self.similar_active_ticket(&req).await? {
            if let Some(msg) = req.question_message_id {
                self.store.link_to_ticket(&existing, req.platform, msg, req.actor, now).await?;
            }
            return Ok((existing.clone(), self.linked_actions(&req, &existing).await?));
        }
        let (mut ticket, opened) = self.store.open_ticket(&req, now).await?;
        tracing::info!(ticket = ticket.id, origin = req.origin.as_str(), "ticket opened");
        if opened {
            crate::metrics::ticket_opened(req.platform, req.origin);
            self.arm_sla(&ticket, now).await?;
            ticket = self.assign_new_ticket(ticket, now).await?;
        }
        Ok((ticket.clone(), self.opened_actions(&req, comment, &ticket)))
    }

    /// An active ticket asking what `req` asks (see `domain::ticket::most_similar`); none when
    /// this very question already has its ticket, since opening that again is idempotent.
    async fn similar_active_ticket(&self, req: &NewTicket<'_>) -> BotResult<Option<Ticket>> {
        let active = self.store.active_ticket_questions(LINK_CANDIDATES).await?;
        if req.question_message_id.is_some()
            && active.iter().any(|(_, platform, message_id, _)| platform == req.platform && message_id.as_deref() == req.question_message_id)
        {
            return Ok(None);
        }
        let analyzer = text::analyzer();
        let analyze = |question: &str| analyzer.tokens(&text::truncate_chars(question, super::MAX_ANALYZED_CHARS));
        let asked = analyze(req.question);
        let candidates: Vec<(i64, Arc<Vec<String>>)> =
            active.iter().map(|(id, _, _, question)| (*id, self.shared.ticket_tokens.get_or_insert(*id, question, || analyze(question)))).collect();
        match most_similar(&asked, candidates.iter().map(|(id, tokens)| (*id, tokens.as_slice())), self.shared.config.link_similarity) {
            Some(id) => Ok(self.store.ticket(id).await?),
            None => Ok(None),
        }
    }

    fn opened_actions(&self, req: &NewTicket<'_>, comment: Option<&str>, ticket: &Ticket) -> Vec<Action> {
        let to_asker = self.say("ticket_opened", context! { ticket_id => ticket.id, origin => req.origin.as_str(), asker => req.asker_name });
        let to_moderators = self.say(
            "moderators_new_ticket",
            context! {
                ticket => ticket,
                question => text::truncate_chars(&ticket.question, 500),
                window => self.shared.config.window_text(),
                actor => req.actor,
                comment => comment,
            },
        );
        self.tell_asker_and_moderators(req, ticket, ActionKind::TicketOpened, to_asker, to_moderators)
    }

    async fn linked_actions(&self, req: &NewTicket<'_>, ticket: &Ticket) -> BotResult<Vec<Action>> {
        let linked = self.store.linked_count(ticket.id).await?;
        // A repeat of something already tracked on GitHub is told where to follow it.
        let issue = self.store.ticket_issue(ticket.id).await?.filter(|i| i.url.is_some() && i.state == crate::store::IssueState::Open);
        let to_asker = self.say("ticket_linked", context! { ticket_id => ticket.id, asker => req.asker_name, issue => issue });
        let to_moderators = self
            .say("moderators_ticket_linked", context! { ticket_id => ticket.id, asker => req.asker_name, channel => req.channel, linked => linked });
        Ok(self.tell_asker_and_moderators(req, ticket, ActionKind::TicketUpdated, to_asker, to_moderators))
    }

    /// One reply to the asker, where they asked, and one notice in the moderators' channel.
    fn tell_asker_and_moderators(
        &self,
        req: &NewTicket<'_>,
        ticket: &Ticket,
        kind: ActionKind,
        to_asker: String,
        to_moderators: String,
    ) -> Vec<Action> {
        let about = |a: Action| a.replying_to(req.question_message_id).about_ticket(ticket.id, ticket.status);
        let opened = kind == ActionKind::TicketOpened;
        let mut asker = about(Action::new(kind, req.channel, to_asker));
        if req.private {
            // Asked privately: the asker hears privately, and a new ticket's private thread starts.
            asker = asker.private_to(req.asker_id);
            if opened {
                asker = asker.in_ticket_thread(ticket.id, ThreadPlace::Private);
            }
        }
        let mut notice = about(Action::new(ActionKind::NotifyModerators, &self.shared.config.moderators_channel, to_moderators));
        if opened {
            // The new ticket's notice starts the thread its conversation is mirrored into.
            notice = notice.in_ticket_thread(ticket.id, ThreadPlace::Mirror);
        }
        vec![asker, notice]
    }
}
