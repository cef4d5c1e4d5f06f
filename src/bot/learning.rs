//! The FAQ learning from its community (rules: `domain::learning`): a helpful vote teaches the
//! entry the asker's words, a moderator teaches it a ticket's questions or a linked message,
//! and a phrasing whose answer is later voted not helpful, or that a moderator removes, stops
//! counting. Every change bumps the FAQ version, so each instance rebuilds its index.

use super::{Bot, BotResult};
use crate::domain::learning::{self, LearnedFrom, LearnedPhrasing, NotLearned};
use crate::store::Question;
use chrono::{DateTime, Utc};

/// Where a phrasing came from in chat.
pub(super) struct Source<'a> {
    pub(super) platform: &'a str,
    pub(super) message_id: Option<&'a str>,
    /// Who asked it, by platform id: forgetting them removes the phrasing.
    pub(super) author: Option<&'a str>,
}

impl Bot {
    /// Teaches `faq_id` the phrasing `text`, if the policy, the entry's cap and what it already
    /// knows allow. Returns the phrasing kept, or why not.
    pub(super) async fn learn_phrasing(
        &self,
        faq_id: &str,
        text: &str,
        from: LearnedFrom,
        source: Source<'_>,
        confirmed_by: &str,
        now: DateTime<Utc>,
    ) -> BotResult<Result<LearnedPhrasing, NotLearned>> {
        let Some(entry) = self.store.faq_entry(faq_id).await? else {
            return Ok(Err(NotLearned::Unfit));
        };
        let known = self.store.learned_phrasings(Some(faq_id)).await?;
        let config = &self.shared.config;
        let text = text.trim();
        let replacing = match learning::admit(config.learn, config.learned_per_entry, &entry, &known, text, from) {
            Ok(replacing) => replacing,
            Err(why) => return Ok(Err(why)),
        };
        let phrasing = LearnedPhrasing {
            faq_id: faq_id.to_string(),
            text: text.to_string(),
            from,
            message: source.message_id.map(|id| format!("{}:{id}", source.platform)),
            confirmed_by: confirmed_by.to_string(),
            learned_at: now,
        };
        if !self.store.learn_phrasing(&phrasing, replacing, source.author).await? {
            // Taught by another instance at the same moment, or removed by a moderator before
            // (which a vote does not undo).
            return Ok(Err(NotLearned::Known));
        }
        tracing::info!(faq_id, from = from.as_str(), "FAQ entry learned a phrasing");
        // The index takes it in now, on the teacher's time: the next question finds it built.
        self.faq().await?;
        Ok(Ok(phrasing))
    }

    /// The asker voted on the bot's answer to `q`: helpful teaches the answering entry their
    /// words; not helpful takes back what that same question taught it before.
    pub(super) async fn learn_from_vote(&self, q: &Question, helpful: bool, now: DateTime<Utc>) -> BotResult<()> {
        let Some(faq_id) = q.faq_id.as_deref() else { return Ok(()) };
        if helpful {
            let source = Source { platform: &q.platform, message_id: Some(&q.message_id), author: Some(&q.asker_id) };
            self.learn_phrasing(faq_id, &q.text, LearnedFrom::Helpful, source, &q.asker_name, now).await?.ok();
        } else {
            let retired = self.store.retire_learned_from_message(&q.platform, &q.message_id, "not_helpful", now).await?;
            if retired > 0 {
                tracing::info!(faq_id, retired, "a learned phrasing stopped counting: its answer was voted not helpful");
                self.faq().await?;
            }
        }
        Ok(())
    }
}
