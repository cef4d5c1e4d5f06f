//! Conversation: noticing questions, answering from the FAQ, community answers, votes on
//! answers, and questions nobody answered.

use super::{Bot, BotResult, MAX_ANALYZED_CHARS, MAX_STORED_CHARS};
use crate::domain::decision::{Act, Thread};
use crate::domain::faq_index::FaqMatch;
use crate::domain::message::{Action, ActionKind, Incoming, IncomingKind, ThreadPlace};
use crate::domain::question::{self, QuestionStatus};
use crate::domain::text::truncate_chars;
use crate::domain::ticket::{Origin, Priority};
use crate::store::{NewTicket, Question, StoredMessage};
use chrono::{DateTime, Utc};
use minijinja::context;

/// How many overdue questions one tick settles (the rest wait for the next tick).
const SETTLE_BATCH: i64 = 200;

/// The stored copy of a chat message (its text cut to what is worth keeping).
fn stored_copy(event: &Incoming, id: &str, text: &str, reply_to: Option<&str>, is_support: bool) -> StoredMessage {
    StoredMessage {
        platform: event.platform.clone(),
        id: id.into(),
        channel: event.channel.clone(),
        user_id: event.author.id.clone(),
        user_name: event.author.name.clone(),
        text: truncate_chars(text, MAX_STORED_CHARS),
        at: event.at,
        reply_to: reply_to.map(String::from),
        is_support,
    }
}

impl Bot {
    /// Keeps a copy of a message the bot was shown but never received (Discord's context menu
    /// on a message from before it joined), so a command about it sees its text and author.
    /// Handles nothing; a message already stored keeps its first copy. Other kinds are ignored.
    pub async fn remember(&self, message: &Incoming) -> BotResult<()> {
        let IncomingKind::Message { id, text, reply_to } = &message.kind else { return Ok(()) };
        let is_support = question::detect(&truncate_chars(text, MAX_ANALYZED_CHARS)).is_support;
        self.store.save_message(&stored_copy(message, id, text, reply_to.as_deref(), is_support)).await?;
        Ok(())
    }

    pub(super) async fn on_message(&self, event: &Incoming, id: &str, text: &str, reply_to: Option<&str>) -> BotResult<Vec<Action>> {
        let analyzed = truncate_chars(text, MAX_ANALYZED_CHARS);
        let save = async |is_support| self.store.save_message(&stored_copy(event, id, text, reply_to, is_support)).await;
        if let Some(parent) = reply_to
            && let Some(key) = self.store.thread_of_ticket(&event.platform, parent).await?
            && let Some(ticket) = self.store.ticket(key.ticket).await?
        {
            // In one of the ticket's own threads: the moderators' mirror, or its private thread.
            save(false).await?;
            return match key.place {
                ThreadPlace::Mirror => self.on_mirror_thread(event, &analyzed, &ticket).await,
                ThreadPlace::Private => self.on_ticket_thread(event, &analyzed, &ticket).await,
            };
        }
        if let Some(parent) = reply_to
            && let Some(ticket) = self.store.ticket_for_thread(&event.platform, parent).await?
        {
            // In the thread of a question that became a ticket: the ticket's conversation.
            save(false).await?;
            return self.on_ticket_thread(event, &analyzed, &ticket).await;
        }
        let parent = match reply_to {
            Some(parent) => self.store.question(&event.platform, parent).await?,
            None => None,
        };
        let thread = match &parent {
            // A reply in someone else's question is part of it (an answer), never a new question.
            Some(asked) if asked.asker_id != event.author.id => {
                save(false).await?;
                if self.store.mark_community_answered(&event.platform, &asked.message_id, &event.author.id, event.at).await? {
                    tracing::debug!(question = %asked.message_id, "answered by the community");
                }
                crate::metrics::decided(&event.platform, crate::metrics::Outcome::ThreadReply);
                return Ok(Vec::new());
            }
            // The asker adding to a question still open: the same question.
            Some(asked) if !matches!(asked.status, QuestionStatus::BotAnswered | QuestionStatus::CommunityAnswered) => {
                save(false).await?;
                crate::metrics::decided(&event.platform, crate::metrics::Outcome::ThreadReply);
                return Ok(Vec::new());
            }
            Some(_) => Thread::AskerFollowUp,
            None if reply_to.is_some() => Thread::Reply,
            None => Thread::TopLevel,
        };
        if self.shared.config.digest.feedback_channels.contains(&event.channel) {
            // In a feedback channel every message is feedback, not a support question.
            save(false).await?;
            self.keep_feedback(event, id, &analyzed, "channel").await?;
            crate::metrics::decided(&event.platform, crate::metrics::Outcome::Feedback);
            return Ok(Vec::new());
        }
        if let Some(word) = crate::domain::command::bare_command_word(&analyzed) {
            // "help" typed without the slash: the command's reply (or nothing), never a ticket.
            save(false).await?;
            if matches!(word, "help" | "commands") {
                return self.on_command(event, "help", event.at).await;
            }
            crate::metrics::decided(&event.platform, crate::metrics::Outcome::NotAQuestion);
            return Ok(Vec::new());
        }
        let decided = self.decide(event, id, &analyzed, thread).await?;
        let taken = decided.decision.act != Act::Quiet;
        save(taken).await?;
        if !taken {
            crate::metrics::decided(&event.platform, crate::metrics::Outcome::NotAQuestion);
            return Ok(Vec::new());
        }
        self.answer_or_watch(event, id, &analyzed, false, decided.best).await
    }

    /// Answers a question from the FAQ when confident, otherwise leaves it waiting for the
    /// community. `explicit` (the `ask` command) always gets a reply.
    pub(super) async fn take_question(&self, event: &Incoming, id: &str, text: &str, explicit: bool) -> BotResult<Vec<Action>> {
        let best = self.match_faq(text, 1).await?.into_iter().next();
        self.answer_or_watch(event, id, text, explicit, best).await
    }

    async fn answer_or_watch(&self, event: &Incoming, id: &str, text: &str, explicit: bool, best: Option<FaqMatch>) -> BotResult<Vec<Action>> {
        let threshold = self.shared.config.threshold_for(&event.channel);
        let confident = best.as_ref().filter(|m| m.confidence >= threshold);
        let recorded = self
            .store
            .insert_question(&Question {
                platform: event.platform.clone(),
                message_id: id.into(),
                channel: event.channel.clone(),
                asker_id: event.author.id.clone(),
                asker_name: event.author.name.clone(),
                text: text.into(),
                asked_at: event.at,
                status: if confident.is_some() { QuestionStatus::BotAnswered } else { QuestionStatus::Pending },
                faq_id: best.as_ref().map(|m| m.entry.id.clone()),
                confidence: best.as_ref().map(|m| m.confidence as f64),
                ticket_id: None,
                private: explicit && event.reply_url.is_some(),
            })
            .await?;
        if !recorded {
            crate::metrics::decided(&event.platform, crate::metrics::Outcome::Duplicate);
            return Ok(Vec::new()); // the same question twice (a redelivery): already handled
        }
        tracing::info!(
            platform = %event.platform,
            message = id,
            faq_id = best.as_ref().map(|m| m.entry.id.as_str()),
            confidence = best.as_ref().map(|m| m.confidence),
            answered = confident.is_some(),
            "support question"
        );
        crate::metrics::question_taken(&event.platform, confident.is_some());
        if let Some(m) = confident {
            let text = self.say(
                "answer",
                context! {
                    answer => m.entry.answer,
                    faq_id => m.entry.id,
                    question => m.entry.question,
                    confidence => m.confidence,
                    links => m.entry.links,
                    platform => event.platform,
                },
            );
            let mut answer = Action::new(ActionKind::Answer, &event.channel, text).replying_to(Some(id));
            answer.faq_id = Some(m.entry.id.clone());
            answer.confidence = Some(m.confidence);
            return Ok(vec![answer]);
        }
        if explicit {
            let best = best.map(|m| context! { faq_id => m.entry.id, confidence => m.confidence });
            let text = self.say("ask_unsure", context! { best => best, window => self.shared.config.window_text() });
            return Ok(vec![Action::new(ActionKind::Reply, &event.channel, text).replying_to(Some(id))]);
        }
        Ok(Vec::new())
    }

    pub(super) async fn on_feedback(
        &self,
        event: &Incoming,
        on: &str,
        helpful: bool,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> BotResult<Vec<Action>> {
        let answered = self.store.question(&event.platform, on).await?.filter(|q| {
            matches!(q.status, QuestionStatus::BotAnswered | QuestionStatus::Ticketed)
                && q.faq_id.is_some()
                && q.confidence.is_some_and(|c| c >= self.shared.config.threshold_for(&q.channel) as f64)
        });
        // An answer to `ask` was private (no chat message to reply under): what its asker hears
        // about it goes back privately through the click, which works where the bot is not a member.
        let private = event.reply_url.is_some() && self.store.message(&event.platform, on).await?.is_none();
        let back = |mut a: Action| {
            if private && a.kind != ActionKind::NotifyModerators {
                a = a.private_to(&event.author.id);
                a.reply_url = event.reply_url.clone();
            }
            a
        };
        let reply = |template: &str, ctx| {
            back(Action::new(ActionKind::Reply, &event.channel, self.say(template, ctx)).replying_to(Some(on)).private_to(&event.author.id))
        };
        let Some(q) = answered else {
            return Ok(vec![reply("feedback_nothing_to_rate", context! {})]);
        };
        if q.asker_id != event.author.id {
            return Ok(vec![reply("feedback_not_yours", context! {})]);
        }
        let comment = comment.map(|c| truncate_chars(c, 2_000));
        self.store.save_feedback(&event.platform, on, &event.author.id, helpful, comment.as_deref(), now).await?;
        self.learn_from_vote(&q, helpful, now).await?;
        if let Some(c) = comment.as_deref().filter(|c| !c.trim().is_empty()) {
            self.keep_feedback(event, &event.event_id, c, "not_helpful").await?;
        }
        if let Some(to_ticket) = self.vote_on_ticket(event, &q, helpful, comment.as_deref(), now).await? {
            let told = reply("feedback_thanks", context! { helpful => helpful, ticket_id => q.ticket_id });
            return Ok(std::iter::once(told).chain(to_ticket.into_iter().map(back)).collect());
        }
        if helpful || !self.store.claim_for_ticket(&event.platform, on).await? {
            return Ok(vec![reply("feedback_thanks", context! { helpful => helpful })]);
        }
        let (ticket, actions) = self
            .open_or_link(
                NewTicket {
                    platform: &event.platform,
                    channel: &q.channel,
                    question_message_id: Some(on),
                    asker_id: &q.asker_id,
                    asker_name: &q.asker_name,
                    question: &q.text,
                    origin: Origin::NotHelpful,
                    priority: Priority::Normal,
                    actor: &event.author.name,
                    private: q.private,
                },
                comment.as_deref(),
                now,
            )
            .await?;
        self.store.set_question_ticket(&event.platform, on, ticket.id).await?;
        Ok(actions.into_iter().map(back).collect())
    }

    /// Stores a piece of feedback for the digest's themes.
    pub(super) async fn keep_feedback(&self, event: &Incoming, id: &str, text: &str, source: &'static str) -> BotResult<()> {
        let note = crate::store::FeedbackNote {
            platform: event.platform.clone(),
            id: id.to_string(),
            channel: event.channel.clone(),
            user_id: event.author.id.clone(),
            text: truncate_chars(text, MAX_ANALYZED_CHARS),
            source,
            at: event.at,
        };
        Ok(self.store.save_feedback_note(&note).await?)
    }

    /// Questions whose window passed with no answer become tickets (or join a matching one).
    /// Each question is settled in its own unit of work: its ticket, its new state and the
    /// notices are committed together, and a question another instance settled is skipped.
    pub(super) async fn settle_due_questions(&self, now: DateTime<Utc>) -> BotResult<Vec<(String, Action)>> {
        let mut out = Vec::new();
        for q in self.store.due_questions(now - self.shared.config.unanswered_after, SETTLE_BATCH).await? {
            let unit = self.store.begin().await?;
            let bot = self.within(unit.clone());
            if !unit.claim_for_ticket(&q.platform, &q.message_id).await? {
                continue; // another instance settled it (or its asker voted meanwhile)
            }
            let (ticket, actions) = bot
                .open_or_link(
                    NewTicket {
                        platform: &q.platform,
                        channel: &q.channel,
                        question_message_id: Some(&q.message_id),
                        asker_id: &q.asker_id,
                        asker_name: &q.asker_name,
                        question: &q.text,
                        origin: Origin::Unanswered,
                        priority: Priority::Normal,
                        actor: &self.shared.config.name,
                        private: q.private,
                    },
                    None,
                    now,
                )
                .await?;
            unit.set_question_ticket(&q.platform, &q.message_id, ticket.id).await?;
            let origin = format!("settle:{}:{}", q.platform, q.message_id);
            unit.record_actions(&q.platform, &origin, &actions, None, now).await?;
            unit.commit().await?;
            out.extend(actions.into_iter().map(|a| (q.platform.clone(), a)));
        }
        Ok(out)
    }
}
