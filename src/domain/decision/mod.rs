//! Is this message a support question, and what does the bot do about it: one decision from
//! all the evidence.
//!
//! - the message's form: a learned detector (`detector`) over the rules' findings, the shape,
//!   the words and, with a model, the sentence embedding (`features`), fitted on the shipped
//!   examples (`examples`), the FAQ's own phrasings and the community's corrections;
//! - the FAQ: a confident match is a question about that entry, whatever its punctuation;
//! - the place: a help channel expects questions, a general channel needs a clearer one;
//! - the thread: a reply in a conversation is rarely a new question, the asker's follow-up on
//!   an answered question often is (a reply in someone else's question is never: the bot sees
//!   it as the community answering, before any decision);
//! - the author: a moderator's message is an announcement or an answer, rarely a question.
//!
//! The evidence is added in log-odds, so every part's weight is visible in the decision's log
//! line (`Decision::reasons`).

mod common_words;
pub mod detector;
pub mod examples;
pub mod features;
pub mod memory;

pub use detector::{Detector, FitError, FormEvidence, TrainingRow};
pub use features::TextFeatures;
pub use memory::Corrections;

use serde::Serialize;

/// What kind of channel a message was posted in (`[decision]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// A help or support channel, a forum: questions are what it is for.
    Help,
    /// General chat: only a clear question or problem is taken.
    General,
}

/// Where in a conversation the message sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Thread {
    TopLevel,
    /// A reply to a message that is not a question the bot is following.
    Reply,
    /// The asker writing again under their own question, after it was answered.
    AskerFollowUp,
}

/// Everything the decision weighs.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub form: FormEvidence,
    /// The best FAQ entry's confidence, when there is one.
    pub faq_confidence: Option<f32>,
    /// The confidence an answer needs in this channel.
    pub threshold: f32,
    pub place: Place,
    pub thread: Thread,
    pub by_moderator: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// Answer from the FAQ (and follow the question).
    Answer,
    /// A support question the FAQ cannot answer: follow it, a ticket if nobody answers.
    Watch,
    /// Not a support question.
    Quiet,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub act: Act,
    /// That the message is a support question, all evidence counted.
    pub probability: f32,
    /// Each piece of evidence and what it added, in log-odds, largest first.
    pub reasons: Vec<(&'static str, f32)>,
}

/// Above this probability a message is a support question.
pub const SUPPORT_PROBABILITY: f32 = 0.5;

/// What a confident FAQ match adds, at the threshold and at certainty: enough that a problem
/// statement without '?' matching an entry at 90% is taken, not so much that a "thanks!" near an
/// entry's words is.
const FAQ_AT_THRESHOLD: f32 = 2.0;
const FAQ_AT_CERTAINTY: f32 = 5.0;
/// Below the threshold a match still says the message is about this community's subjects,
/// rising from nothing at `FAQ_TOPIC_FROM` to this just under the threshold. Chatter rarely
/// shares an FAQ's words at all.
const FAQ_NEAR_THRESHOLD: f32 = 1.5;
const FAQ_TOPIC_FROM: f32 = 0.4;
/// A general channel's prior against questions, and a reply's.
const GENERAL_CHANNEL: f32 = -1.0;
const REPLY: f32 = -1.0;
const ASKER_FOLLOW_UP: f32 = 1.0;
/// Moderators announce and answer; one asking needs a very clear question (or `ask`).
const MODERATOR: f32 = -3.0;

pub fn decide(e: &Evidence) -> Decision {
    let confident = e.faq_confidence.filter(|c| *c >= e.threshold);
    let faq = match (confident, e.faq_confidence) {
        (Some(c), _) => {
            let over = if e.threshold < 1.0 { (c - e.threshold) / (1.0 - e.threshold) } else { 1.0 };
            FAQ_AT_THRESHOLD + (FAQ_AT_CERTAINTY - FAQ_AT_THRESHOLD) * over.clamp(0.0, 1.0)
        }
        (None, Some(c)) if e.threshold > FAQ_TOPIC_FROM => {
            FAQ_NEAR_THRESHOLD * ((c - FAQ_TOPIC_FROM) / (e.threshold - FAQ_TOPIC_FROM)).clamp(0.0, 1.0)
        }
        _ => 0.0,
    };
    let place = match e.place {
        Place::Help => 0.0,
        Place::General => GENERAL_CHANNEL,
    };
    let thread = match e.thread {
        Thread::TopLevel => 0.0,
        Thread::Reply => REPLY,
        Thread::AskerFollowUp => ASKER_FOLLOW_UP,
    };
    let mut reasons = vec![
        ("taught", e.form.taught),
        ("base_rate", e.form.base_rate),
        ("rules", e.form.rules),
        ("words", e.form.words),
        ("meaning", e.form.meaning),
        ("faq", faq),
        ("place", place),
        ("thread", thread),
        ("author", if e.by_moderator { MODERATOR } else { 0.0 }),
    ];
    let logit: f32 = reasons.iter().map(|(_, v)| v).sum();
    let probability = detector::sigmoid(logit);
    reasons.retain(|(_, v)| *v != 0.0);
    reasons.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let act = match (probability >= SUPPORT_PROBABILITY, confident.is_some()) {
        (false, _) => Act::Quiet,
        (true, true) => Act::Answer,
        (true, false) => Act::Watch,
    };
    Decision { act, probability, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(logit: f32) -> FormEvidence {
        FormEvidence { probability: detector::sigmoid(logit), rules: logit, words: 0.0, meaning: 0.0, taught: 0.0, base_rate: 0.0 }
    }

    fn evidence(logit: f32, faq: Option<f32>) -> Evidence {
        Evidence { form: form(logit), faq_confidence: faq, threshold: 0.8, place: Place::Help, thread: Thread::TopLevel, by_moderator: false }
    }

    #[test]
    fn a_confident_faq_match_makes_a_plain_statement_a_question() {
        // "sqlite keeps saying database is locked": reads a little like chatter, matches at 99%
        assert_eq!(decide(&evidence(-1.5, Some(0.99))).act, Act::Answer);
        // the same form without the match stays quiet, and a weak match adds nothing
        assert_eq!(decide(&evidence(-1.5, None)).act, Act::Quiet);
        assert_eq!(decide(&evidence(-1.5, Some(0.35))).act, Act::Quiet);
        // a near miss says the message is about the FAQ's subjects: watched, not answered
        assert_eq!(decide(&evidence(-0.5, Some(0.75))).act, Act::Watch);
        // thanks near an entry's words is still thanks
        assert_eq!(decide(&evidence(-6.0, Some(0.85))).act, Act::Quiet);
    }

    #[test]
    fn a_clear_question_without_an_answer_is_watched() {
        let d = decide(&evidence(2.0, Some(0.3)));
        assert_eq!(d.act, Act::Watch);
        assert!(d.probability > 0.85);
        assert_eq!(d.reasons[0].0, "rules");
    }

    #[test]
    fn place_thread_and_author_move_the_decision() {
        let borderline = evidence(0.5, None);
        assert_eq!(decide(&borderline).act, Act::Watch);
        assert_eq!(decide(&Evidence { place: Place::General, ..borderline }).act, Act::Quiet);
        assert_eq!(decide(&Evidence { thread: Thread::Reply, ..borderline }).act, Act::Quiet);
        assert_eq!(decide(&Evidence { thread: Thread::AskerFollowUp, ..evidence(-0.8, None) }).act, Act::Watch);
        let announcement = Evidence { by_moderator: true, ..evidence(1.5, None) };
        assert_eq!(decide(&announcement).act, Act::Quiet);
        // a moderator trying the bot with a plain FAQ question still gets the answer
        let trying = Evidence { by_moderator: true, ..evidence(3.0, Some(0.95)) };
        assert_eq!(decide(&trying).act, Act::Answer);
    }
}
