//! Protocol 2: support-question detection on chat posts, plus recall on customer requests.
//! The decision is the bot's own (`Bot::decision_for`): the learned detector and, with
//! `--faq`, the FAQ's evidence, exactly as for a top-level message in a help channel.

use super::faq::percentile;
use super::harness::EvalBot;
use super::{Row, prf, round4};
use crate::config::Settings;
use crate::domain::decision::Act;
use crate::domain::question;
use crate::semantic::Embedder;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// Dialogue acts that are never support questions: flagging one is a false trigger.
const NON_QUESTION_ACTS: &[&str] = &["Statement", "Greet", "Emotion", "Bye", "Accept", "Reject", "Emphasis", "Continuer", "yAnswer", "nAnswer"];

fn scores(posts: &[&Row], flagged: &[bool]) -> Value {
    let positive = |r: &Row| r.label.trim() == "1";
    let true_pos = posts.iter().zip(flagged).filter(|(r, f)| **f && positive(r)).count();
    let (p, r, f1) = prf(true_pos, flagged.iter().filter(|f| **f).count(), posts.iter().filter(|r| positive(r)).count());
    let act = |r: &Row| r.extra.first().map(String::as_str).unwrap_or_default().to_string();
    let non_questions: Vec<bool> = posts.iter().zip(flagged).filter(|(r, _)| NON_QUESTION_ACTS.contains(&act(r).as_str())).map(|(_, f)| *f).collect();
    let false_trigger = if non_questions.is_empty() { 0.0 } else { non_questions.iter().filter(|f| **f).count() as f64 / non_questions.len() as f64 };
    json!({ "precision": round4(p), "recall": round4(r), "f1": round4(f1), "false_trigger_rate": round4(false_trigger) })
}

fn share(flagged: &[bool]) -> f64 {
    round4(flagged.iter().filter(|f| **f).count() as f64 / flagged.len().max(1) as f64)
}

/// Whether the bot takes each text, timing each decision into `micros`.
async fn decide_all<'a>(eval: &EvalBot, texts: impl Iterator<Item = &'a str>, micros: &mut Vec<u128>) -> anyhow::Result<Vec<bool>> {
    let mut out = Vec::new();
    for (i, text) in texts.enumerate() {
        let started = Instant::now();
        let decision = eval.bot.decision_for(&EvalBot::message(i, text)).await?;
        micros.push(started.elapsed().as_micros());
        out.push(decision.act != Act::Quiet);
    }
    Ok(out)
}

/// Scores the bot's decision on `posts` (`text, is_question, original_act`; System posts
/// dropped) and, when given, its recall on `requests` (every row a support request). `faq` is a
/// train file turned into the bot's FAQ (protocol 1); without it the FAQ is empty.
pub async fn evaluate(
    posts: &[Row],
    requests: Option<&[Row]>,
    faq: Option<&[Row]>,
    model: Option<Arc<Embedder>>,
    settings: &Settings,
) -> anyhow::Result<Value> {
    let kept: Vec<&Row> = posts.iter().filter(|r| r.extra.first().map(String::as_str) != Some("System")).collect();
    let semantic = model.is_some();
    let eval = EvalBot::start(faq, model, settings).await?;
    let mut micros = Vec::new();
    let flagged = decide_all(&eval, kept.iter().map(|r| r.text.as_str()), &mut micros).await?;
    let request_flags = match requests {
        Some(rows) => Some(decide_all(&eval, rows.iter().map(|r| r.text.as_str()), &mut micros).await?),
        None => None,
    };
    micros.sort_unstable();
    let mut out = scores(&kept, &flagged);
    let rules: Vec<bool> = kept.iter().map(|r| question::detect(&r.text).is_support).collect();
    let baseline: Vec<bool> = kept.iter().map(|r| r.text.ends_with('?')).collect();
    out["posts"] = json!(kept.len());
    out["rules_alone"] = scores(&kept, &rules);
    out["baseline_ends_with_question_mark"] = scores(&kept, &baseline);
    if let (Some(rows), Some(flags)) = (requests, request_flags) {
        out["request_recall"] = json!(share(&flags));
        let rule_flags: Vec<bool> = rows.iter().map(|r| question::detect(&r.text).is_support).collect();
        out["rules_alone"]["request_recall"] = json!(share(&rule_flags));
        let marks: Vec<bool> = rows.iter().map(|r| r.text.ends_with('?')).collect();
        out["baseline_ends_with_question_mark"]["request_recall"] = json!(share(&marks));
        out["requests"] = json!(rows.len());
    }
    out["decision_p50_us"] = json!(percentile(&micros, 0.5));
    out["decision_p99_us"] = json!(percentile(&micros, 0.99));
    out["with_faq"] = json!(faq.is_some());
    out["semantic"] = json!(semantic);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::parse_tsv;

    #[tokio::test]
    async fn system_posts_are_dropped_and_false_triggers_counted() {
        let posts = parse_tsv(
            "text\tis_question\tact\nJOIN\t0\tSystem\nwhere is the config file?\t1\twhQuestion\nhello everyone\t0\tGreet\nok?\t0\tAccept\n",
        )
        .unwrap();
        let m = evaluate(&posts, None, None, None, &Settings::default()).await.unwrap();
        assert_eq!(m["posts"], 3);
        assert_eq!(m["baseline_ends_with_question_mark"]["precision"], 0.5);
        assert_eq!(m["baseline_ends_with_question_mark"]["false_trigger_rate"], 0.5);
        // the bot takes the real question and neither the greeting nor the "ok?"
        assert_eq!(m["recall"], 1.0);
        assert_eq!(m["false_trigger_rate"], 0.0);
    }
}
