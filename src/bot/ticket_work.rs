//! Working a ticket over time: its thread as the transcript, moderators' internal notes, the
//! asker's later votes, and its timers (the SLA's warnings and breaches, the nudge to a quiet
//! asker and the close after it), each fired once from its durable row.

use super::{Bot, BotResult};
use crate::domain::message::{Action, ActionKind, Incoming, ThreadPlace};
use crate::domain::text::truncate_chars;
use crate::domain::ticket::timers::{Clock, Fired, SlaState, TimerKind, sounds_solved};
use crate::domain::ticket::{self as rules, Ticket, Transition};
use crate::store::{DueTimer, Question};
use chrono::{DateTime, Utc};
use minijinja::context;

/// How much of one thread message the moderators' mirror shows.
const MIRROR_CHARS: usize = 600;
/// How much of one thread message the transcript keeps.
const TRANSCRIPT_CHARS: usize = 2_000;
/// How many due timers one tick fires (the rest wait for the next tick).
const TIMER_BATCH: i64 = 200;

/// "3 days", "2 h 30 min", "15 min": a span as a moderator reads it, to the minute.
pub(super) fn span_text(d: chrono::Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins} min"));
    }
    parts.join(" ")
}

impl Bot {
    /// A message in the thread of a ticket's question, by the asker or anyone else: it joins the
    /// ticket's transcript. A moderator's reply is the first response and leaves the ticket
    /// waiting on the asker (the nudge is armed); the asker's reply stops the nudge and the close,
    /// and "thanks, that fixed it" proposes resolving to the moderators.
    pub(super) async fn on_ticket_thread(&self, event: &Incoming, text: &str, ticket: &Ticket) -> BotResult<Vec<Action>> {
        // "reply": a moderator's, which the first response and the per-responder figures count.
        let action = if event.author.is_moderator && event.author.id != ticket.asker_id { "reply" } else { "message" };
        self.store
            .note_on_ticket(ticket, &event.author.name, Some(&event.author.id), action, &truncate_chars(text, TRANSCRIPT_CHARS), event.at)
            .await?;
        crate::metrics::decided(&event.platform, crate::metrics::Outcome::ThreadReply);
        let role = match (event.author.id == ticket.asker_id, action) {
            (true, _) => "asker",
            (false, "reply") => "moderator",
            _ => "member",
        };
        let mut out = vec![self.mirrored(event, ticket, text, role)];
        if !ticket.status.is_active() {
            return Ok(out);
        }
        let policy = &self.shared.config.tickets;
        if event.author.id == ticket.asker_id {
            self.store.disarm_timers(ticket.id, &TimerKind::STALE).await?;
            if sounds_solved(text) {
                let says = self.say("moderators_solved", context! { ticket => ticket, words => truncate_chars(text, 300), vote => false });
                out.push(self.to_moderators(ticket, says));
            }
        } else if action == "reply" {
            if self.store.mark_first_response(ticket.id, event.at).await? {
                tracing::info!(ticket = ticket.id, "first response in the ticket's thread");
            }
            self.store.disarm_timers(ticket.id, &[TimerKind::StaleClose]).await?;
            if let Some(quiet) = policy.nudge_after {
                self.store.arm_timer(ticket.id, TimerKind::Nudge, event.at + quiet, event.at).await?;
            }
        }
        Ok(out)
    }

    /// The asker's answer to the nudge (its buttons, or `solved` / `unsolved`): solved resolves
    /// the ticket in their name (no first response) and tells the moderators; not yet stops the
    /// stale close and tells them too. Anyone else's click changes nothing.
    pub(super) async fn asker_answers_nudge(&self, event: &Incoming, id: i64, solved: bool, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(ticket) = self.store.ticket(id).await?.filter(|t| t.asker_id == event.author.id) else {
            return Ok(vec![self.command_reply(event, "nudge_not_yours", context! { ticket_id => id })]);
        };
        if !ticket.status.is_active() {
            return Ok(vec![self.command_reply(event, "nudge_answered", context! { ticket => ticket, solved => solved, already => true })]);
        }
        self.store.disarm_timers(ticket.id, &TimerKind::STALE).await?;
        let ticket = if solved {
            let resolve = Transition::Resolve { resolution: Some("the asker said it is solved".into()) };
            match rules::apply_as_bot(&ticket, &resolve, &event.author.name, now) {
                Ok(change) => self.store.apply_transition(&change).await?,
                Err(_) => ticket,
            }
        } else {
            self.store.note_on_ticket(&ticket, &event.author.name, Some(&event.author.id), "nudge", "still needs help", now).await?;
            ticket
        };
        let told = self.say("moderators_nudge_answered", context! { ticket => ticket, solved => solved });
        let reply = self.command_reply(event, "nudge_answered", context! { ticket => ticket, solved => solved, already => false });
        Ok(vec![reply, self.to_moderators(&ticket, told)])
    }

    /// A notice about `ticket` in the moderators' channel.
    pub(super) fn to_moderators(&self, ticket: &Ticket, text: String) -> Action {
        Action::new(ActionKind::NotifyModerators, &self.shared.config.moderators_channel, text).about_ticket(ticket.id, ticket.status)
    }

    /// A word to the asker about `ticket`, in its thread on the question.
    /// A private ticket's words go to the asker alone, in its private thread where the
    /// platform has one.
    pub(super) fn to_asker(&self, ticket: &Ticket, text: String) -> Action {
        let told = Action::new(ActionKind::TicketUpdated, &ticket.channel, text)
            .replying_to(ticket.question_message_id.as_deref())
            .about_ticket(ticket.id, ticket.status);
        match ticket.private {
            true => told.private_to(&ticket.asker_id).in_ticket_thread(ticket.id, ThreadPlace::Private),
            false => told,
        }
    }

    /// A line of the ticket's conversation, copied under its notice in the moderators' channel.
    fn mirrored(&self, event: &Incoming, ticket: &Ticket, text: &str, role: &str) -> Action {
        let line = self.say(
            "mirror_line",
            context! { ticket_id => ticket.id, who => event.author.name, role => role, text => truncate_chars(text, MIRROR_CHARS) },
        );
        Action::new(ActionKind::Mirror, &self.shared.config.moderators_channel, line)
            .about_ticket(ticket.id, ticket.status)
            .in_ticket_thread(ticket.id, ThreadPlace::Mirror)
    }

    /// A message in the thread under a ticket's notice in the moderators' channel: the
    /// moderators talking among themselves, kept in the history as an internal note.
    pub(super) async fn on_mirror_thread(&self, event: &Incoming, text: &str, ticket: &Ticket) -> BotResult<Vec<Action>> {
        self.store
            .note_on_ticket(ticket, &event.author.name, Some(&event.author.id), "note", &truncate_chars(text, TRANSCRIPT_CHARS), event.at)
            .await?;
        crate::metrics::decided(&event.platform, crate::metrics::Outcome::ThreadReply);
        Ok(Vec::new())
    }

    /// `ticket note <id> <text>`: a line in the history that only moderators see.
    pub(super) async fn ticket_note(&self, event: &Incoming, id: i64, text: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let Some(ticket) = self.store.ticket(id).await? else {
            return Ok(vec![self.command_reply(event, "ticket_not_found", context! { ticket_id => id })]);
        };
        self.store.note_on_ticket(&ticket, &event.author.name, Some(&event.author.id), "note", &truncate_chars(text, TRANSCRIPT_CHARS), now).await?;
        Ok(vec![self.command_reply(event, "ticket_noted", context! { ticket_id => id })])
    }

    /// The asker's vote on an answer whose question already has a ticket: the ticket hears of it
    /// (a helpful vote proposes resolving; a not-helpful comment joins the history). `None` when
    /// the question has no ticket.
    pub(super) async fn vote_on_ticket(
        &self,
        event: &Incoming,
        q: &Question,
        helpful: bool,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> BotResult<Option<Vec<Action>>> {
        let Some(ticket) = (match q.ticket_id {
            Some(id) => self.store.ticket(id).await?,
            None => None,
        }) else {
            return Ok(None);
        };
        let said = match (helpful, comment.filter(|c| !c.trim().is_empty())) {
            (true, _) => "the answer helped after all".to_string(),
            (false, Some(c)) => format!("still not helpful: {c}"),
            (false, None) => "still not helpful".to_string(),
        };
        self.store.note_on_ticket(&ticket, &event.author.name, Some(&event.author.id), "vote", &said, now).await?;
        let mut actions = Vec::new();
        if ticket.status.is_active() {
            self.store.disarm_timers(ticket.id, &TimerKind::STALE).await?;
            let template = if helpful { "moderators_solved" } else { "moderators_ticket_comment" };
            let says = self.say(template, context! { ticket => ticket, words => comment.map(|c| truncate_chars(c, 300)), vote => true });
            actions.push(self.to_moderators(&ticket, says));
        }
        Ok(Some(actions))
    }

    /// Arms the SLA timers of `ticket` for its priority (again after a priority change: the
    /// targets of the old one no longer apply).
    pub(super) async fn arm_sla(&self, ticket: &Ticket, now: DateTime<Utc>) -> BotResult<()> {
        let timers = self.shared.config.tickets.sla_timers(ticket);
        let unused: Vec<TimerKind> = TimerKind::SLA.into_iter().filter(|k| !timers.iter().any(|(t, _)| t == k)).collect();
        self.store.disarm_timers(ticket.id, &unused).await?;
        for (kind, due) in timers {
            self.store.arm_timer(ticket.id, kind, due, now).await?;
        }
        Ok(())
    }

    /// Where `ticket` stands against its SLA at `now`, for lists: the clock still running (the
    /// first response before the resolution) or, when both stopped, whether they were met.
    pub(super) fn sla_summary(&self, ticket: &Ticket, now: DateTime<Utc>) -> Option<minijinja::Value> {
        let policy = &self.shared.config.tickets;
        let states: Vec<(Clock, SlaState)> =
            [Clock::FirstResponse, Clock::Resolution].into_iter().filter_map(|c| Some((c, policy.state(ticket, c, now)?))).collect();
        let running = states.iter().find(|(_, s)| matches!(s, SlaState::Due(_) | SlaState::Breached));
        let (clock, state) = running.or(states.iter().find(|(_, s)| *s == SlaState::Missed)).or(states.first())?;
        let left = match state {
            SlaState::Due(due) => Some(span_text(policy.hours.between(now, *due))),
            _ => None,
        };
        let state = match state {
            SlaState::Met => "met",
            SlaState::Missed => "missed",
            SlaState::Due(_) => "due",
            SlaState::Breached => "breached",
        };
        Some(context! { clock => clock.as_str(), state => state, left => left })
    }

    /// Fires every timer due at `now`, each in its own unit of work with what it posts, so a
    /// timer fires once across instances and restarts.
    pub(super) async fn fire_due_timers(&self, now: DateTime<Utc>) -> BotResult<Vec<(String, Action)>> {
        let mut out = Vec::new();
        for timer in self.store.due_timers(now, TIMER_BATCH).await? {
            let unit = self.store.begin().await?;
            if !unit.claim_timer(&timer, now).await? {
                continue; // another instance fired it, or it was re-armed meanwhile
            }
            let bot = self.within(unit.clone());
            let Some(ticket) = unit.ticket(timer.ticket_id).await? else {
                unit.commit().await?;
                continue;
            };
            let actions = bot.fire(&timer, &ticket, now).await?;
            let origin = format!("timer:{}:{}:{}", ticket.id, timer.kind, timer.due_at.timestamp_millis());
            unit.record_actions(&ticket.platform, &origin, &actions, None, now).await?;
            crate::faults::crash_point("timer.before_commit");
            unit.commit().await?;
            out.extend(actions.into_iter().map(|a| (ticket.platform.clone(), a)));
        }
        Ok(out)
    }

    async fn fire(&self, timer: &DueTimer, ticket: &Ticket, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let policy = &self.shared.config.tickets;
        let me = &self.shared.config.name;
        let to_asker = |text: String| self.to_asker(ticket, text);
        let to_moderators = |text: String| self.to_moderators(ticket, text);
        let fired = policy.on_due(timer.kind, ticket);
        tracing::info!(ticket = ticket.id, timer = %timer.kind, outcome = ?fired, "ticket timer due");
        Ok(match fired {
            Fired::Nothing => Vec::new(),
            Fired::Nudge => {
                let closes_in = policy.close_after.map(span_text);
                if let Some(after) = policy.close_after {
                    self.store.arm_timer(ticket.id, TimerKind::StaleClose, now + after, now).await?;
                }
                self.store.note_on_ticket(ticket, me, None, "nudge", "asked the asker whether it is solved", now).await?;
                let mut nudge = to_asker(self.say("ticket_nudge", context! { ticket => ticket, closes_in => closes_in }));
                nudge.kind = ActionKind::Nudge;
                vec![nudge]
            }
            Fired::Close => {
                let quiet = policy.close_after.map(span_text).unwrap_or_default();
                let Ok(change) = rules::apply_as_bot(ticket, &Transition::Close, me, now) else { return Ok(Vec::new()) };
                let closed = self.store.apply_transition(&change).await?;
                self.store.note_on_ticket(&closed, me, None, "stale", &format!("no reply from the asker for {quiet} after the nudge"), now).await?;
                let text = self.say("ticket_stale_closed", context! { ticket => closed, quiet => quiet });
                vec![to_asker(text).about_ticket(closed.id, closed.status)]
            }
            Fired::Warning { clock, target, due } => {
                let left = span_text(self.shared.config.tickets.hours.between(now, due));
                self.store
                    .note_on_ticket(ticket, me, None, "sla_warning", &format!("{} due in {left} (target {})", clock.as_str(), span_text(target)), now)
                    .await?;
                let text = self.say(
                    "moderators_sla",
                    context! { ticket => ticket, clock => clock.as_str(), target => span_text(target), left => left, breach => false, on_call => policy.on_call_at(now) },
                );
                vec![to_moderators(text)]
            }
            Fired::Breach { clock, target } => {
                self.store
                    .note_on_ticket(ticket, me, None, "sla_breach", &format!("{} target of {} missed", clock.as_str(), span_text(target)), now)
                    .await?;
                let text = self.say(
                    "moderators_sla",
                    context! { ticket => ticket, clock => clock.as_str(), target => span_text(target), breach => true, on_call => policy.on_call_at(now) },
                );
                vec![to_moderators(text)]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_read_as_days_hours_and_minutes() {
        let text = |minutes: i64| super::span_text(chrono::Duration::minutes(minutes));
        assert_eq!(text(15), "15 min");
        assert_eq!(text(60), "1 h");
        assert_eq!(text(150), "2 h 30 min");
        assert_eq!(text(3 * 24 * 60), "3 days");
        assert_eq!(text(24 * 60 + 61), "1 day 1 h 1 min");
        assert_eq!(text(-5), "0 min");
    }
}
