//! Commands: one small method per command, same text on every platform.

use super::{Bot, BotResult, MAX_ANALYZED_CHARS, event_message_id};
use crate::domain::command::{self, COMMANDS, Command, CommandError, FaqField};
use crate::domain::faq::{FaqEntry, validate_entry};
use crate::domain::message::{Action, ActionKind, Incoming};
use crate::domain::text::truncate_chars;
use crate::domain::ticket::{self as rules, Origin, Priority, Status, Ticket, Transition};
use crate::store::{NewTicket, Upsert};
use chrono::{DateTime, Utc};
use minijinja::{Value, context};

/// Longest command line acted on.
const MAX_COMMAND_CHARS: usize = 4_000;
/// Most tickets one `ticket list` shows.
const LIST_LIMIT: i64 = 25;

impl Bot {
    /// A command is no chat message a reply can be threaded under: what answers the command
    /// itself goes back the way it came, to its author only (Slack's `response_url`, Discord's
    /// interaction), which also reaches people in channels the bot is not in.
    pub(super) async fn on_command(&self, event: &Incoming, line: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        crate::metrics::decided(&event.platform, crate::metrics::Outcome::Command);
        let mut actions = self.run_command(event, line, now).await?;
        if let Some(url) = &event.reply_url {
            for a in
                actions.iter_mut().filter(|a| a.kind != ActionKind::NotifyModerators && a.in_reply_to.as_deref() == Some(event.event_id.as_str()))
            {
                a.ephemeral = true;
                a.recipient = Some(event.author.id.clone());
                a.reply_url = Some(url.clone());
            }
        }
        Ok(actions)
    }

    async fn run_command(&self, event: &Incoming, line: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        if line.chars().count() > MAX_COMMAND_CHARS {
            return Ok(vec![self.command_reply(event, "message_too_long", context! { limit => MAX_COMMAND_CHARS })]);
        }
        let cmd = match command::parse(line) {
            Ok(cmd) => cmd,
            Err(CommandError::Unknown(word)) => {
                return Ok(vec![self.command_reply(event, "unknown_command", context! { command => word })]);
            }
            Err(CommandError::Usage { usage, problem }) => {
                return Ok(vec![self.command_reply(event, "usage", context! { usage => usage, problem => problem })]);
            }
        };
        if cmd.needs_moderator() && !event.author.is_moderator {
            tracing::info!(command = cmd.name(), user = %event.author.id, "moderator command refused");
            let text = self.say("refused", context! { command => cmd.name() });
            return Ok(vec![self.private_reply(event, ActionKind::Refused, text)]);
        }
        match cmd {
            Command::Help => Ok(vec![self.command_reply(
                event,
                "help",
                context! { commands => COMMANDS, is_moderator => event.author.is_moderator, platform => event.platform },
            )]),
            Command::FaqSearch { query } => self.faq_search(event, &query).await,
            Command::FaqList => {
                let tallies = self.store.entry_tallies().await?;
                let entries: Vec<Value> = (self.store.faq_entries().await?.into_iter())
                    .map(|e| {
                        let (learned, helpful, not_helpful) = tallies.get(&e.id).copied().unwrap_or_default();
                        context! { id => e.id, question => e.question, alternatives => e.alternatives.len(), learned => learned, helpful => helpful, not_helpful => not_helpful }
                    })
                    .collect();
                Ok(vec![self.command_reply(event, "faq_list", context! { entries => entries })])
            }
            Command::FaqShow { id } => self.faq_show(event, &id).await,
            Command::Ask { question } => {
                let question = truncate_chars(&question, MAX_ANALYZED_CHARS);
                self.take_question(event, &event.event_id, &question, true).await
            }
            Command::Escalate { target, priority } => self.escalate(event, &target, priority, now).await,
            Command::NotAQuestion { target } => self.not_a_question(event, &target, now).await,
            Command::TicketList { status } => self.ticket_list(event, status, now).await,
            Command::TicketShow { id } => self.ticket_show(event, id, now).await,
            Command::TicketAssign { id, user } if user.eq_ignore_ascii_case("auto") => self.assign_auto(event, id, now).await,
            Command::TicketAssign { id, user } => {
                let to = if user.eq_ignore_ascii_case("me") { event.author.name.clone() } else { user };
                self.transition(event, id, Transition::Assign { to }, now).await
            }
            Command::TicketResolve { id, resolution } => self.transition(event, id, Transition::Resolve { resolution }, now).await,
            Command::TicketClose { id } => self.transition(event, id, Transition::Close, now).await,
            Command::TicketReopen { id } => self.transition(event, id, Transition::Reopen, now).await,
            Command::TicketNote { id, text } => self.ticket_note(event, id, &text, now).await,
            Command::TicketGithub { id, target } => self.ticket_github(event, id, &target, now).await,
            Command::TicketPriority { id, priority } => self.ticket_priority(event, id, priority, now).await,
            Command::Console => self.console_link(event, now).await,
            Command::Solved { id, solved } => self.asker_answers_nudge(event, id, solved, now).await,
            Command::FaqAdd { id, question, answer } => {
                let entry = FaqEntry { id, question, answer, alternatives: vec![], tags: vec![], links: vec![] };
                self.faq_add(event, entry, now).await
            }
            Command::FaqEdit { id, field, value } => self.faq_edit(event, &id, field, &value, now).await,
            Command::FaqRemove { id } => {
                let removed = self.store.delete_faq(&id).await?;
                let template = if removed { "faq_changed" } else { "faq_not_found" };
                Ok(vec![self.command_reply(event, template, context! { change => "removed", faq_id => id })])
            }
            Command::FaqLearn { ticket, faq_id } => self.faq_learn(event, ticket, faq_id, now).await,
            Command::FaqLink { message, faq_id } => self.faq_link(event, &message, &faq_id, now).await,
            Command::FaqUnlearn { faq_id, number } => self.faq_unlearn(event, &faq_id, number, now).await,
            Command::Digest => self.digest_preview(event, now).await,
            Command::Feedback { text } => {
                self.keep_feedback(event, &event.event_id, &text, "command").await?;
                Ok(vec![self.command_reply(event, "feedback_thanks", context! { helpful => false })])
            }
            Command::ForgetMe { step } => self.forget_me(event, step, now).await,
            Command::PrivacyPolicy => Ok(self.privacy_policy(event)),
            Command::PrivacyForget { member } => self.privacy_forget(event, &member, now).await,
            Command::PrivacyExport { member } => self.privacy_export(event, &member, now).await,
        }
    }

    async fn digest_preview(&self, event: &Incoming, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let (from, to) = (now - chrono::Duration::days(7), now);
        let digest = super::digest::digest(&self.store, self.embedder(), &self.shared.config, from, to, now).await?;
        let themes = match digest.themes {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "digest themes failed; previewing without them");
                None
            }
        };
        let text = super::digest::render(&self.shared.prompts, &digest.numbers, themes.as_deref());
        Ok(vec![self.private_reply(event, ActionKind::Digest, text)])
    }

    /// A command's answer, for the person who typed it.
    pub(super) fn command_reply(&self, event: &Incoming, template: &str, ctx: Value) -> Action {
        self.private_reply(event, ActionKind::Reply, self.say(template, ctx))
    }

    async fn faq_search(&self, event: &Incoming, query: &str) -> BotResult<Vec<Action>> {
        let results: Vec<Value> = self
            .match_faq(&truncate_chars(query, MAX_ANALYZED_CHARS), 5)
            .await?
            .into_iter()
            .map(|m| context! { faq_id => m.entry.id, question => m.entry.question, confidence => m.confidence })
            .collect();
        Ok(vec![self.command_reply(event, "faq_search", context! { query => truncate_chars(query, 200), results => results })])
    }

    async fn escalate(&self, event: &Incoming, target: &str, priority: Priority, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let message = self.store.message(&event.platform, target).await?;
        if message.is_none() && command::looks_like_a_message_id(target) {
            // "escalate 3": an id that names nothing is a mistake, not a one-word question
            return Ok(vec![self.command_reply(event, "escalate_unknown_message", context! { target => target, platform => event.platform })]);
        }
        let (channel, message_id, asker_id, asker_name, question) = match &message {
            Some(m) => (m.channel.as_str(), Some(m.id.as_str()), m.user_id.as_str(), m.user_name.as_str(), m.text.clone()),
            None => (event.channel.as_str(), event_message_id(event), event.author.id.as_str(), event.author.name.as_str(), target.to_string()),
        };
        if let Some(m) = &message
            && self.store.question(&event.platform, &m.id).await?.is_none()
        {
            // The bot let this one pass: it learns that messages like it are questions.
            self.learn_example(event, &m.id, &m.text, Some(&m.user_id), true, now).await?;
        }
        if let Some(id) = message_id {
            // A question still waiting must not become a second ticket when its window ends.
            self.store.claim_for_ticket(&event.platform, id).await?;
        }
        let (ticket, actions) = self
            .open_or_link(
                NewTicket {
                    platform: &event.platform,
                    channel,
                    question_message_id: message_id,
                    asker_id,
                    asker_name,
                    question: &truncate_chars(&question, MAX_ANALYZED_CHARS),
                    origin: Origin::Escalated,
                    priority,
                    actor: &event.author.name,
                    private: false,
                },
                None,
                now,
            )
            .await?;
        if let Some(id) = message_id {
            self.store.set_question_ticket(&event.platform, id, ticket.id).await?;
        }
        // escalated again, more urgently: the ticket it joined takes the higher priority
        if priority > ticket.priority
            && let Some(current) = self.store.ticket(ticket.id).await?
            && let Some(change) = rules::raise_priority(&current, priority, &event.author.name, now)
        {
            self.store.raise_priority(&change).await?;
            if let Some(raised) = self.store.ticket(ticket.id).await? {
                self.arm_sla(&raised, now).await?; // the new priority's targets
            }
        }
        Ok(actions)
    }

    /// A moderator's "that was no question": the ticket is closed as noise, the question leaves
    /// the digest's counts, and the detector learns the text as chatter of this community.
    async fn not_a_question(&self, event: &Incoming, target: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let target = target.trim();
        let message = match target.strip_prefix('#') {
            Some(_) => None,
            None => self.store.message(&event.platform, target).await?,
        };
        let ticket = match (&message, target.trim_start_matches('#').parse::<i64>()) {
            (Some(m), _) => match self.store.question(&event.platform, &m.id).await?.and_then(|q| q.ticket_id) {
                Some(id) => self.store.ticket(id).await?,
                None => None,
            },
            (None, Ok(id)) => self.store.ticket(id).await?,
            (None, Err(_)) => None,
        };
        let (message_id, text, author) = match (&message, &ticket) {
            (Some(m), _) => (m.id.clone(), m.text.clone(), m.user_id.clone()),
            (None, Some(t)) => (t.question_message_id.clone().unwrap_or_else(|| format!("ticket:{}", t.id)), t.question.clone(), t.asker_id.clone()),
            (None, None) => return Ok(vec![self.command_reply(event, "not_a_question_unknown", context! { target => target })]),
        };
        if message.is_some() || !author.is_empty() {
            // (a ticket whose text was removed teaches nothing: its words are gone)
            self.learn_example(event, &message_id, &text, Some(&author), false, now).await?;
        }
        self.store.dismiss_question(&event.platform, &message_id).await?;
        let mut closed = None;
        if let Some(change) = ticket.and_then(|t| rules::apply(&t, &Transition::Close, &event.author.name, now).ok()) {
            let updated = self.store.apply_transition(&change).await?;
            closed = Some(updated.id);
        }
        let (_, learned) = self.store.corrections_between(now, now).await?;
        Ok(vec![self.command_reply(event, "not_a_question", context! { closed_ticket => closed, learned => learned })])
    }

    async fn ticket_list(&self, event: &Incoming, status: Option<Status>, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let tickets: Vec<Value> = self
            .store
            .tickets(status, LIST_LIMIT)
            .await?
            .into_iter()
            .map(|t| {
                context! {
                    id => t.id, status => t.status, priority => t.priority, assignee => t.assignee,
                    asker_name => t.asker_name, summary => truncate_chars(&t.question, 80), sla => self.sla_summary(&t, now),
                }
            })
            .collect();
        let label = status.map(|s| s.as_str()).unwrap_or("open or assigned");
        Ok(vec![self.command_reply(event, "ticket_list", context! { tickets => tickets, label => label })])
    }

    async fn ticket_show(&self, event: &Incoming, id: i64, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        let events: Vec<Value> = self
            .store
            .ticket_events(id)
            .await?
            .into_iter()
            .map(|e| {
                context! {
                    at => e.at.format("%Y-%m-%d %H:%M UTC").to_string(), actor => e.actor, action => e.action,
                    from_status => e.from_status, to_status => e.to_status, note => e.note,
                }
            })
            .collect();
        let linked = self.store.linked_count(id).await?;
        let question = truncate_chars(&ticket.question, 1_000);
        let issue = self.store.ticket_issue(id).await?;
        Ok(vec![self.command_reply(
            event,
            "ticket_show",
            context! { sla => self.sla_summary(&ticket, now), ticket => ticket, events => events, linked => linked, question => question, issue => issue },
        )])
    }

    pub(super) async fn transition(&self, event: &Incoming, id: i64, transition: Transition, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        let change = match rules::apply(&ticket, &transition, &event.author.name, now) {
            Ok(change) => change,
            Err(e) => {
                return Ok(vec![self.command_reply(event, "invalid_transition", context! { ticket_id => id, status => e.from, verb => e.verb })]);
            }
        };
        let updated = self.store.apply_transition(&change).await?;
        let text = self.say("ticket_updated", context! { ticket => updated, action => transition.name(), actor => event.author.name });
        let mut actions = vec![self.private_reply(event, ActionKind::TicketUpdated, text).about_ticket(id, updated.status)];
        // (an asker who was forgotten is told nothing: their ticket no longer knows them)
        if change.status == Status::Resolved {
            actions.extend(self.tell_askers_resolved(&updated, &event.author.name).await?);
        }
        Ok(actions)
    }

    /// A resolved ticket's news for the people waiting on it: its asker (unless forgotten) and
    /// each member whose repeat of the question was linked to it ("you'll both hear back").
    pub(super) async fn tell_askers_resolved(&self, ticket: &Ticket, actor: &str) -> BotResult<Vec<Action>> {
        let mut told = Vec::new();
        if !ticket.asker_id.is_empty() {
            let text = self.say(
                "ticket_resolved_asker",
                context! { asker => ticket.asker_name, ticket_id => ticket.id, actor => actor, resolution => ticket.resolution },
            );
            told.push(self.to_asker(ticket, text));
        }
        for linked in self.store.linked_askers(ticket).await? {
            let text = self.say(
                "ticket_resolved_linked",
                context! { asker => linked.name, ticket_id => ticket.id, actor => actor, resolution => ticket.resolution },
            );
            let to = Action::new(ActionKind::TicketUpdated, &linked.channel, text).replying_to(Some(&linked.message_id));
            told.push(to.about_ticket(ticket.id, ticket.status));
        }
        Ok(told)
    }

    async fn faq_add(&self, event: &Incoming, entry: FaqEntry, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        if let Err(problem) = validate_entry(&entry) {
            return Ok(vec![self.command_reply(event, "faq_invalid", context! { problem => problem })]);
        }
        if self.store.faq_entry(&entry.id).await?.is_some() {
            return Ok(vec![self.command_reply(event, "faq_exists", context! { faq_id => entry.id })]);
        }
        let preview = self.preview_reply(event, &entry).await?;
        self.store.upsert_faq(&entry, "chat", now).await?;
        let done = self.command_reply(event, "faq_changed", context! { change => "added", faq_id => entry.id });
        Ok(std::iter::once(done).chain(preview).collect())
    }

    async fn faq_edit(&self, event: &Incoming, id: &str, field: FaqField, value: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(mut entry) = self.store.faq_entry(id).await? else {
            return Ok(vec![self.command_reply(event, "faq_not_found", context! { faq_id => id })]);
        };
        let list = || value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
        match field {
            FaqField::Question => entry.question = value.into(),
            FaqField::Answer => entry.answer = value.into(),
            FaqField::Alternatives => entry.alternatives = list(),
            FaqField::Tags => entry.tags = list(),
            FaqField::Links => entry.links = list(),
        }
        if let Err(problem) = validate_entry(&entry) {
            return Ok(vec![self.command_reply(event, "faq_invalid", context! { problem => problem })]);
        }
        let change = match self.store.upsert_faq(&entry, "chat", now).await? {
            Upsert::Unchanged => "unchanged",
            _ => "updated",
        };
        Ok(vec![self.command_reply(event, "faq_changed", context! { change => change, faq_id => id })])
    }
}
