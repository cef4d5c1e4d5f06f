//! Protocol 4: the FAQ learning from its community. The FAQ is built as in protocol 1; the
//! test rows (and out-of-scope rows) are asked with `ask`, in the order of the SHA-256 of their
//! text, each by its own user, 30 minutes apart, through the real bot; after each, the outcome
//! is fed back as a community would:
//! - a right answer: the asker votes it helpful;
//! - a wrong answer: the asker votes it not helpful, which opens a ticket;
//! - no answer: the unanswered-question window passes, which opens a ticket;
//! - a moderator then works the ticket: an in-scope question's with `faq learn <ticket> <its
//!   entry>`, an out-of-scope one's with `ticket resolve` (it gets no entry).
//!
//! The bot learns only through its commands and votes, under the shipped `[faq] learn` policy
//! (or the one the settings give). Metrics per block of 500 queries and for the last 1,000.

use super::harness::{self, EvalBot};
use super::{Row, round4};
use crate::config::Settings;
use crate::domain::message::{Action, ActionKind, Author, Incoming, IncomingKind};
use crate::semantic::Embedder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;

pub const BLOCK: usize = 500;
const LAST: usize = 1_000;
/// Minutes between two queries: longer than the unanswered-question window plus the feedback.
const SPACING: i64 = 30;

/// What happened to one query.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub in_scope: bool,
    pub answered: bool,
    pub right: bool,
    /// The best entry's confidence, answered or not, and whether that entry was the right one.
    pub confidence: f32,
    pub best_right: bool,
}

/// Thresholds the last queries are also scored at (`last_1000_by_threshold`): what another
/// `[faq] threshold` would have given on the FAQ as it had learned by then.
const THRESHOLDS: [f32; 7] = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9];

/// Precision and coverage had answers been given from `threshold` on.
fn at_threshold(outcomes: &[Outcome], threshold: f32) -> Value {
    let rescored: Vec<Outcome> = outcomes
        .iter()
        .map(|o| {
            let answered = o.confidence >= threshold;
            Outcome { answered, right: answered && o.in_scope && o.best_right, ..*o }
        })
        .collect();
    let f = figures(&rescored);
    json!({ "threshold": threshold, "precision": f["precision"], "coverage": f["coverage"], "oos_false_answer_rate": f["oos_false_answer_rate"] })
}

/// Coverage, precision and out-of-scope answers over some queries.
pub fn figures(outcomes: &[Outcome]) -> Value {
    let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let ratio = |a: usize, b: usize| round4(if b == 0 { 0.0 } else { a as f64 / b as f64 });
    let (in_scope, right, answered) = (count(&|o| o.in_scope), count(&|o| o.right), count(&|o| o.answered));
    let (oos, oos_answered) = (count(&|o| !o.in_scope), count(&|o| !o.in_scope && o.answered));
    json!({
        "queries": outcomes.len(),
        "precision": ratio(right, answered),
        "coverage": ratio(right, in_scope),
        "oos_false_answer_rate": ratio(oos_answered, oos),
    })
}

fn moderator() -> Author {
    Author { id: "u-moderator".into(), name: "moderator".into(), is_moderator: true }
}

fn event(id: String, minutes: i64, author: Author, kind: IncomingKind) -> Incoming {
    Incoming {
        platform: harness::PLATFORM.into(),
        event_id: id,
        at: harness::start_time() + chrono::Duration::minutes(minutes),
        channel: harness::CHANNEL.into(),
        author,
        kind,
        reply_url: None,
    }
}

fn ticket_of(actions: &[Action]) -> Option<i64> {
    actions.iter().find(|a| a.kind == ActionKind::TicketOpened).and_then(|a| a.ticket_id)
}

pub async fn evaluate(
    train: &[Row],
    test: &[Row],
    oos: &[Row],
    model: Option<Arc<Embedder>>,
    settings: &Settings,
) -> anyhow::Result<(Value, Vec<Outcome>)> {
    let eval = EvalBot::start(Some(train), model, settings).await?;
    let bot = &eval.bot;
    let window = bot.config().unanswered_after.num_minutes();
    let mut queries: Vec<(&Row, bool)> = test.iter().map(|r| (r, eval.answerable.contains(&r.label))).chain(oos.iter().map(|r| (r, false))).collect();
    queries.sort_by_cached_key(|(r, _)| Sha256::digest(r.text.as_bytes()));

    let started = Instant::now();
    let (mut outcomes, mut learn_ms) = (Vec::with_capacity(queries.len()), Vec::new());
    for (i, (row, in_scope)) in queries.iter().enumerate() {
        let t = i as i64 * SPACING;
        let asker = Author { id: format!("u{i}"), name: format!("user{i}"), is_moderator: false };
        let ask = event(format!("q{i}"), t, asker.clone(), IncomingKind::Command { text: format!("ask {}", row.text) });
        let actions = bot.receive(&ask, ask.at).await?;
        let answer = actions.iter().find(|a| a.kind == ActionKind::Answer).and_then(|a| a.faq_id.clone());
        let right = *in_scope && answer.as_deref() == Some(row.label.as_str());
        let best = bot.store().question(harness::PLATFORM, &format!("q{i}")).await?;
        let (confidence, best_right) = match best {
            Some(q) => (q.confidence.unwrap_or(0.0) as f32, q.faq_id.as_deref() == Some(row.label.as_str())),
            None => (0.0, false),
        };
        outcomes.push(Outcome { in_scope: *in_scope, answered: answer.is_some(), right, confidence, best_right });

        let feedback = |helpful| event(format!("v{i}"), t + 1, asker.clone(), IncomingKind::Feedback { on: format!("q{i}"), helpful, comment: None });
        let timed = Instant::now();
        let ticket = match answer {
            Some(_) if right => {
                let vote = feedback(true);
                bot.receive(&vote, vote.at).await?;
                learn_ms.push(timed.elapsed().as_secs_f64() * 1e3);
                None
            }
            Some(_) => {
                let vote = feedback(false);
                ticket_of(&bot.receive(&vote, vote.at).await?)
            }
            None => {
                let due = bot.tick(ask.at + chrono::Duration::minutes(window + 1)).await?;
                due.iter().find(|(_, a)| a.kind == ActionKind::TicketOpened).and_then(|(_, a)| a.ticket_id)
            }
        };
        if let Some(ticket) = ticket {
            let line = if *in_scope { format!("faq learn {ticket} {}", row.label) } else { format!("ticket resolve {ticket} no FAQ entry for this") };
            let work = event(format!("w{i}"), t + window + 2, moderator(), IncomingKind::Command { text: line });
            let timed = Instant::now();
            bot.receive(&work, work.at).await?;
            if *in_scope {
                learn_ms.push(timed.elapsed().as_secs_f64() * 1e3);
            }
        }
        // The scheduler's turn: calibration refitted once learning has moved the FAQ enough.
        bot.tick(ask.at + chrono::Duration::minutes(window + 3)).await?;
    }
    let seconds = started.elapsed().as_secs_f64();

    learn_ms.sort_by(f64::total_cmp);
    let p99 = learn_ms.get(((learn_ms.len().max(1) - 1) as f64 * 0.99).round() as usize).copied().unwrap_or(0.0);
    let last_queries = &outcomes[outcomes.len().saturating_sub(LAST)..];
    let last = figures(last_queries);
    let learned = bot.store().learned_phrasings(None).await?.len();
    let metrics = json!({
        "last_1000_precision": last["precision"],
        "last_1000_coverage": last["coverage"],
        "last_1000_oos_false_answer_rate": last["oos_false_answer_rate"],
        "all": figures(&outcomes),
        "last_1000_by_threshold": THRESHOLDS.iter().map(|&t| at_threshold(last_queries, t)).collect::<Vec<_>>(),
        "blocks": outcomes.chunks(BLOCK).map(figures).collect::<Vec<_>>(),
        "learned_phrasings": learned,
        "learn_p99_ms": round4(p99),
        "learn_policy": settings.faq.learn,
        "threshold": settings.faq.threshold,
        "queries": outcomes.len(),
        "seconds": round4(seconds),
    });
    Ok((metrics, outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::learning::LearnPolicy;

    fn row(text: &str, label: &str) -> Row {
        Row { text: text.into(), label: label.into(), extra: vec![] }
    }

    /// Five fruit entries (the fifth label in name order has none); a question in words no entry
    /// has, asked twice: the moderator's `faq learn` after the first makes the second answered.
    async fn asked_twice(policy: LearnPolicy) -> Vec<Outcome> {
        let labels = ["apple", "banana", "cherry", "date", "zzz_unknown"];
        let train: Vec<Row> = labels.iter().map(|l| row(&format!("tell me about {l} fruit"), l)).collect();
        let test = vec![row("my pome got brown spots overnight", "apple"), row("my pome got brown spots overnight", "apple")];
        let mut settings = Settings::default();
        settings.faq.learn = policy;
        evaluate(&train, &test, &[row("what time is the match", "")], None, &settings).await.unwrap().1
    }

    #[tokio::test]
    async fn a_question_worked_by_a_moderator_is_answered_the_next_time_it_is_asked() {
        let outcomes = asked_twice(LearnPolicy::Confirmed).await;
        let asked: Vec<(bool, bool)> = outcomes.iter().filter(|o| o.in_scope).map(|o| (o.answered, o.right)).collect();
        assert_eq!(asked, vec![(false, false), (true, true)]);
        assert!(!outcomes.iter().any(|o| !o.in_scope && o.answered));
    }

    #[tokio::test]
    async fn with_learning_off_the_same_question_stays_unanswered() {
        let outcomes = asked_twice(LearnPolicy::Off).await;
        assert!(outcomes.iter().all(|o| !o.answered), "{outcomes:?}");
    }

    #[test]
    fn figures_count_right_answers_against_in_scope_and_answers() {
        let o = |in_scope, answered, right| Outcome { in_scope, answered, right, ..Outcome::default() };
        let f = figures(&[o(true, true, true), o(true, true, false), o(true, false, false), o(false, true, false), o(false, false, false)]);
        assert_eq!(f, json!({ "queries": 5, "precision": 0.3333, "coverage": 0.3333, "oos_false_answer_rate": 0.5 }));
    }
}
