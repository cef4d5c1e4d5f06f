//! The moderators' commands that teach the FAQ (`faq learn`, `faq link`, `faq unlearn`) and
//! `faq show`, which shows what an entry learned and how its answers were rated.

use super::learning::Source;
use super::{Bot, BotResult};
use crate::domain::faq::{FaqEntry, slugify, validate_entry};
use crate::domain::learning::{LearnedFrom, NotLearned, phrasing_key};
use crate::domain::message::{Action, Incoming};
use crate::domain::text::truncate_chars;
use crate::domain::ticket::{self as rules, Ticket, Transition};
use chrono::{DateTime, Utc};
use minijinja::{Value, context};

/// The history line that records which entry a ticket was turned into.
const LEARNED: &str = "learned";

impl Bot {
    pub(super) async fn faq_show(&self, event: &Incoming, id: &str) -> BotResult<Vec<Action>> {
        let Some(e) = self.store.faq_entry(id).await? else {
            return Ok(vec![self.command_reply(event, "faq_not_found", context! { faq_id => id })]);
        };
        let learned: Vec<Value> = (self.store.learned_phrasings(Some(id)).await?.into_iter().enumerate())
            .map(|(i, l)| {
                context! {
                    number => i + 1, text => l.text, from => l.from.as_str(), confirmed_by => l.confirmed_by,
                    at => l.learned_at.format("%Y-%m-%d").to_string(),
                }
            })
            .collect();
        let (_, helpful, not_helpful) = self.store.entry_tallies().await?.get(id).copied().unwrap_or_default();
        // every field named, empty lists included: a template can test them plainly
        let entry =
            context! { id => e.id, question => e.question, alternatives => e.alternatives, answer => e.answer, tags => e.tags, links => e.links };
        let learning = self.shared.config.learn;
        Ok(vec![self.command_reply(
            event,
            "faq_show",
            context! { entry => entry, learned => learned, helpful => helpful, not_helpful => not_helpful, learning_off => learning == crate::domain::learning::LearnPolicy::Off },
        )])
    }

    /// `faq learn <ticket> [id]`: into an existing entry, the ticket's questions become its
    /// learned phrasings (and an open ticket is resolved with the entry's answer); otherwise a
    /// new entry is made from the ticket and its resolution, once per ticket.
    pub(super) async fn faq_learn(&self, event: &Incoming, ticket_id: i64, faq_id: Option<String>, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(ticket) = self.store.ticket(ticket_id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => ticket_id })]);
        };
        if crate::domain::privacy::is_removed(&ticket.question) {
            // Its asker was forgotten, or it passed its retention: no words are left to learn.
            return Ok(vec![self.command_reply(event, "ticket_text_removed", context! { ticket_id => ticket_id })]);
        }
        let existing = match &faq_id {
            Some(id) => self.store.faq_entry(id).await?,
            None => None,
        };
        if let Some(entry) = existing {
            return self.learn_ticket_into(event, &ticket, &entry, now).await;
        }
        if let Some(earlier) = self.learned_into(ticket_id).await? {
            return Ok(vec![self.command_reply(event, "faq_already_learned", context! { ticket_id => ticket_id, faq_id => earlier })]);
        }
        let Some(resolution) = ticket.resolution.clone().filter(|r| !r.trim().is_empty()) else {
            return Ok(vec![self.command_reply(event, "learn_needs_resolution", context! { ticket_id => ticket_id })]);
        };
        let id = faq_id.unwrap_or_else(|| slugify(&ticket.question));
        let mut alternatives: Vec<String> = Vec::new();
        for (_, text) in self.store.linked_questions(ticket_id).await? {
            let known = std::iter::once(&ticket.question).chain(&alternatives).any(|k| phrasing_key(k) == phrasing_key(&text));
            if !known && !text.trim().is_empty() {
                alternatives.push(truncate_chars(&text, 500));
            }
        }
        let entry = FaqEntry {
            id: id.clone(),
            question: truncate_chars(&ticket.question, 500),
            alternatives,
            answer: resolution,
            tags: vec![],
            links: vec![],
        };
        if let Err(problem) = validate_entry(&entry) {
            return Ok(vec![self.command_reply(event, "faq_invalid", context! { problem => problem })]);
        }
        let preview = self.preview_reply(event, &entry).await?;
        self.store.upsert_faq(&entry, "learned", now).await?;
        self.store.note_on_ticket(&ticket, &event.author.name, Some(&event.author.id), LEARNED, &id, now).await?;
        let done = self.command_reply(event, "faq_changed", context! { change => "learned", faq_id => id, ticket_id => ticket_id });
        Ok(std::iter::once(done).chain(preview).collect())
    }

    /// The warning a new entry deserves, if any: which of its phrasings another entry already
    /// answers, and which recent questions it would answer differently.
    pub(super) async fn preview_reply(&self, event: &Incoming, entry: &FaqEntry) -> BotResult<Option<Action>> {
        let (overlaps, changed) = self.preview_entry(entry).await?;
        if overlaps.is_empty() && changed.is_empty() {
            return Ok(None);
        }
        let overlaps: Vec<Value> = (overlaps.iter())
            .map(|o| context! { faq_id => o.faq_id, phrasing => truncate_chars(&o.phrasing, 200), confidence => o.confidence })
            .collect();
        let examples: Vec<Value> = (changed.iter().take(5))
            .map(|c| context! { question => truncate_chars(&c.question, 200), before => c.before, after => c.after })
            .collect();
        let ctx = context! { faq_id => entry.id, overlaps => overlaps, changed => changed.len(), examples => examples };
        Ok(Some(self.command_reply(event, "faq_preview", ctx)))
    }

    /// The entry a ticket was turned into before, if it was.
    async fn learned_into(&self, ticket_id: i64) -> BotResult<Option<String>> {
        let events = self.store.ticket_events(ticket_id).await?;
        Ok(events.into_iter().rev().find(|e| e.action == LEARNED).and_then(|e| e.note))
    }

    async fn learn_ticket_into(&self, event: &Incoming, ticket: &Ticket, entry: &FaqEntry, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let mut questions = vec![(ticket.question_message_id.clone(), ticket.question.clone(), Some(ticket.asker_id.clone()))];
        for (id, text) in self.store.linked_questions(ticket.id).await? {
            let author = self.store.message(&ticket.platform, &id).await?.map(|m| m.user_id);
            questions.push((Some(id), text, author));
        }
        let mut taught = Taught::default();
        for (message_id, text, author) in &questions {
            let source =
                Source { platform: &ticket.platform, message_id: message_id.as_deref(), author: author.as_deref().filter(|a| !a.is_empty()) };
            let outcome = self.learn_phrasing(&entry.id, text, LearnedFrom::Ticket, source, &event.author.name, now).await?;
            taught.record(text, outcome.map(|_| ()));
        }
        if taught.policy_off {
            return Ok(vec![self.command_reply(event, "learn_off", context! { faq_id => entry.id })]);
        }
        if !taught.added.is_empty() {
            self.store.note_on_ticket(ticket, &event.author.name, Some(&event.author.id), LEARNED, &entry.id, now).await?;
        }
        let mut actions =
            vec![self.command_reply(event, "faq_taught", taught.context(&entry.id, Some(ticket.id), self.shared.config.learned_per_entry))];
        // An open ticket resolved into an entry: its asker gets the entry's answer.
        if ticket.status.is_active()
            && let Ok(change) = rules::apply(ticket, &Transition::Resolve { resolution: Some(entry.answer.clone()) }, &event.author.name, now)
        {
            let resolved = self.store.apply_transition(&change).await?;
            actions.extend(self.tell_askers_resolved(&resolved, &event.author.name).await?);
        }
        Ok(actions)
    }

    /// `faq link <message> <id>`: the question asked in a message becomes a learned phrasing.
    pub(super) async fn faq_link(&self, event: &Incoming, message_id: &str, faq_id: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(entry) = self.store.faq_entry(faq_id).await? else {
            return Ok(vec![self.command_reply(event, "faq_not_found", context! { faq_id => faq_id })]);
        };
        let Some(message) = self.store.message(&event.platform, message_id).await? else {
            return Ok(vec![self.command_reply(event, "message_not_found", context! { target => message_id, platform => event.platform })]);
        };
        let source = Source { platform: &event.platform, message_id: Some(&message.id), author: Some(&message.user_id) };
        let outcome = self.learn_phrasing(&entry.id, &message.text, LearnedFrom::Moderator, source, &event.author.name, now).await?;
        let mut taught = Taught::default();
        taught.record(&message.text, outcome.map(|_| ()));
        if taught.policy_off {
            return Ok(vec![self.command_reply(event, "learn_off", context! { faq_id => entry.id })]);
        }
        Ok(vec![self.command_reply(event, "faq_taught", taught.context(&entry.id, None, self.shared.config.learned_per_entry))])
    }

    /// `faq unlearn <id> <n>`: the n-th learned phrasing of `faq show` stops counting.
    pub(super) async fn faq_unlearn(&self, event: &Incoming, faq_id: &str, number: usize, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        if self.store.faq_entry(faq_id).await?.is_none() {
            return Ok(vec![self.command_reply(event, "faq_not_found", context! { faq_id => faq_id })]);
        }
        let learned = self.store.learned_phrasings(Some(faq_id)).await?;
        let Some(phrasing) = learned.get(number - 1) else {
            return Ok(vec![self.command_reply(
                event,
                "faq_unlearned",
                context! { faq_id => faq_id, number => number, count => learned.len(), text => Value::from(()) },
            )]);
        };
        self.store.retire_learned(faq_id, &phrasing.text, "removed", now).await?;
        self.faq().await?;
        Ok(vec![self.command_reply(event, "faq_unlearned", context! { faq_id => faq_id, number => number, text => phrasing.text })])
    }
}

/// What one teaching command did, phrasing by phrasing, for its reply.
#[derive(Default)]
struct Taught {
    added: Vec<String>,
    known: Vec<String>,
    unfit: Vec<String>,
    full: Vec<String>,
    policy_off: bool,
}

impl Taught {
    fn record(&mut self, text: &str, outcome: Result<(), NotLearned>) {
        let text = truncate_chars(text, 200);
        match outcome {
            Ok(()) => self.added.push(text),
            Err(NotLearned::Known) => self.known.push(text),
            Err(NotLearned::Unfit) => self.unfit.push(text),
            Err(NotLearned::Full { .. }) => self.full.push(text),
            Err(NotLearned::Policy) => self.policy_off = true,
        }
    }

    fn context(&self, faq_id: &str, ticket_id: Option<i64>, cap: usize) -> Value {
        context! { faq_id => faq_id, ticket_id => ticket_id, added => self.added, known => self.known, unfit => self.unfit, full => self.full, cap => cap }
    }
}
