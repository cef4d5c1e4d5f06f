//! Protocol 5: a channel. Chat posts and support requests, ordered by the SHA-256 of their
//! text, are replayed through the bot as top-level messages in one help channel, one minute
//! apart, each by its own user; then the clock passes the unanswered-question window.

use super::harness::{self, EvalBot};
use super::{Row, round4};
use crate::config::Settings;
use crate::domain::message::ActionKind;
use crate::semantic::Embedder;
use crate::store::QuestionStatus;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;

/// How often (in items) the replay lets time pass, so windows close as they would live.
const TICK_EVERY: usize = 15;

enum Item<'a> {
    Chatter { social_question: bool },
    Request { label: &'a str },
}

pub async fn evaluate(posts: &[Row], requests: &[Row], faq: &[Row], model: Option<Arc<Embedder>>, settings: &Settings) -> anyhow::Result<Value> {
    let eval = EvalBot::start(Some(faq), model, settings).await?;
    let mut items: Vec<(&str, Item)> = posts
        .iter()
        .filter(|r| r.extra.first().map(String::as_str) != Some("System"))
        .map(|r| (r.text.as_str(), Item::Chatter { social_question: r.label.trim() == "1" }))
        .chain(requests.iter().map(|r| (r.text.as_str(), Item::Request { label: r.label.as_str() })))
        .collect();
    items.sort_by_cached_key(|(text, _)| Sha256::digest(text.as_bytes()));

    let started = Instant::now();
    let mut answers: Vec<Option<String>> = vec![None; items.len()];
    let mut replied = vec![false; items.len()];
    for (i, (text, _)) in items.iter().enumerate() {
        for action in eval.bot.receive(&EvalBot::message(i, text), harness::at(i)).await? {
            if action.in_reply_to.as_deref() != Some(&format!("m{i}")) {
                continue;
            }
            replied[i] = true;
            if action.kind == ActionKind::Answer {
                answers[i] = action.faq_id.clone();
            }
        }
        if i % TICK_EVERY == TICK_EVERY - 1 {
            eval.bot.tick(harness::at(i)).await?;
        }
    }
    let window = eval.bot.config().unanswered_after;
    eval.bot.tick(harness::at(items.len()) + window + chrono::Duration::minutes(1)).await?;
    let seconds = started.elapsed().as_secs_f64();

    let store = eval.bot.store();
    let (mut requests_n, mut handled, mut in_scope, mut right, mut answered, mut wrong) = (0, 0, 0, 0, 0, 0);
    let (mut chatter, mut chatter_acted, mut social, mut social_acted) = (0, 0, 0, 0);
    for (i, (_, item)) in items.iter().enumerate() {
        let ticketed = store.question(harness::PLATFORM, &format!("m{i}")).await?.is_some_and(|q| q.status == QuestionStatus::Ticketed);
        let acted = replied[i] || ticketed;
        if let Some(faq_id) = &answers[i] {
            answered += 1;
            let is_right = matches!(item, Item::Request { label } if label == faq_id && eval.answerable.contains(*label));
            wrong += usize::from(!is_right);
        }
        match item {
            Item::Chatter { social_question } => {
                chatter += 1;
                chatter_acted += usize::from(acted);
                if *social_question {
                    social += 1;
                    social_acted += usize::from(acted);
                }
            }
            Item::Request { label } => {
                requests_n += 1;
                handled += usize::from(answers[i].is_some() || ticketed);
                if eval.answerable.contains(*label) {
                    in_scope += 1;
                    right += usize::from(answers[i].as_deref() == Some(*label));
                }
            }
        }
    }
    let ratio = |a: usize, b: usize| round4(if b == 0 { 0.0 } else { a as f64 / b as f64 });
    Ok(json!({
        "support_handled": ratio(handled, requests_n),
        "answered_right": ratio(right, in_scope),
        "wrong_answers": ratio(wrong, answered),
        "chatter_acted_on": ratio(chatter_acted, chatter),
        "social_questions_acted_on": ratio(social_acted, social),
        "messages_per_second": (items.len() as f64 / seconds.max(1e-9)).round(),
        "requests": requests_n,
        "in_scope": in_scope,
        "posts": chatter,
        "social_questions": social,
        "answers": answered,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::parse_tsv;

    #[tokio::test]
    async fn chatter_is_left_alone_and_requests_are_answered_or_ticketed() {
        let train = parse_tsv(
            "text\tlabel\nhow do i reset my password\tpassword\ni forgot my password\tpassword\nwhere is my card\tcard\nmy card has not arrived\tcard\n\
             how to top up\ttop_up\ncan i add money\ttop_up\nchange my address\taddress\nupdate my address please\taddress\nclose my account\tzz_close\n",
        )
        .unwrap();
        let posts =
            parse_tsv("text\tis_question\tact\nlol\t0\tEmotion\nhey everyone\t0\tGreet\nanyone here from ohio?\t1\tynQuestion\nJOIN\t0\tSystem\n")
                .unwrap();
        let requests = parse_tsv("text\tlabel\nI forgot my password, how do I reset it\tpassword\nmy card still has not arrived\tcard\nplease close my account\tzz_close\n").unwrap();
        let m = evaluate(&posts, &requests, &train, None, &Settings::default()).await.unwrap();
        assert_eq!(m["posts"], 3);
        assert_eq!(m["requests"], 3);
        assert_eq!(m["in_scope"], 2, "zz_close is the held-out fifth label");
        assert_eq!(m["chatter_acted_on"], 0.0, "{m}");
        assert_eq!(m["support_handled"], 1.0, "{m}");
        assert_eq!(m["wrong_answers"], 0.0, "{m}");
    }
}
