//! Protocol 2: support-question detection on chat posts, plus recall on customer requests.

use super::{Row, prf, round4};
use crate::domain::question;
use serde_json::{Value, json};

/// Dialogue acts that are never support questions: flagging one is a false trigger.
const NON_QUESTION_ACTS: &[&str] =
    &["Statement", "Greet", "Emotion", "Bye", "Accept", "Reject", "Emphasis", "Continuer", "yAnswer", "nAnswer"];

fn scores(posts: &[&Row], flag: impl Fn(&str) -> bool) -> Value {
    let positive = |r: &Row| r.label.trim() == "1";
    let flagged: Vec<bool> = posts.iter().map(|r| flag(&r.text)).collect();
    let true_pos = posts.iter().zip(&flagged).filter(|(r, f)| **f && positive(r)).count();
    let (p, r, f1) = prf(true_pos, flagged.iter().filter(|f| **f).count(), posts.iter().filter(|r| positive(r)).count());
    let act = |r: &Row| r.extra.first().map(String::as_str).unwrap_or_default().to_string();
    let non_questions: Vec<bool> =
        posts.iter().zip(&flagged).filter(|(r, _)| NON_QUESTION_ACTS.contains(&act(r).as_str())).map(|(_, f)| *f).collect();
    let false_trigger = if non_questions.is_empty() { 0.0 } else { non_questions.iter().filter(|f| **f).count() as f64 / non_questions.len() as f64 };
    json!({ "precision": round4(p), "recall": round4(r), "f1": round4(f1), "false_trigger_rate": round4(false_trigger) })
}

/// Scores the detector on `posts` (`text, is_question, original_act`; System posts dropped)
/// and, when given, its recall on `requests` (every row a support request).
pub fn evaluate(posts: &[Row], requests: Option<&[Row]>) -> Value {
    let kept: Vec<&Row> = posts.iter().filter(|r| r.extra.first().map(String::as_str) != Some("System")).collect();
    let mut out = scores(&kept, |t| question::detect(t).is_support);
    let baseline = scores(&kept, |t| t.ends_with('?'));
    out["posts"] = json!(kept.len());
    out["baseline_ends_with_question_mark"] = baseline;
    if let Some(requests) = requests {
        let recall = |flag: &dyn Fn(&str) -> bool| round4(requests.iter().filter(|r| flag(&r.text)).count() as f64 / requests.len().max(1) as f64);
        out["request_recall"] = json!(recall(&|t| question::detect(t).is_support));
        out["baseline_ends_with_question_mark"]["request_recall"] = json!(recall(&|t| t.ends_with('?')));
        out["requests"] = json!(requests.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::parse_tsv;

    #[test]
    fn system_posts_are_dropped_and_false_triggers_counted() {
        let posts = parse_tsv("text\tis_question\tact\nJOIN\t0\tSystem\nwhere is the config file?\t1\twhQuestion\nhello everyone\t0\tGreet\nok?\t0\tAccept\n").unwrap();
        let m = evaluate(&posts, None);
        assert_eq!(m["posts"], 3);
        assert_eq!(m["baseline_ends_with_question_mark"]["precision"], 0.5);
        assert_eq!(m["baseline_ends_with_question_mark"]["false_trigger_rate"], 0.5);
    }
}
