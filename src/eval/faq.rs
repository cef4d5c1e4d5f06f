//! Protocol 1: an intent dataset turned into an FAQ and a stream of questions.

use super::{Row, round4};
use crate::domain::faq::FaqEntry;
use crate::domain::faq_index::{FaqIndex, phrasing_texts};
use crate::semantic::Embedder;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Examples per FAQ entry: the question plus 9 alternatives (the 10-shot setting).
const SHOTS: usize = 10;

/// The labels that get no FAQ entry: every label whose index, in name order, is `fifth` mod 5
/// (the protocol's is 4).
pub fn unknown_labels(train: &[Row], fifth: usize) -> BTreeSet<String> {
    let labels: BTreeSet<&str> = train.iter().map(|r| r.label.as_str()).collect();
    labels.into_iter().enumerate().filter(|(i, _)| i % 5 == fifth).map(|(_, l)| l.to_string()).collect()
}

/// One FAQ entry per known label: its first train row as the question, the next nine as
/// alternatives. Entry ids are the labels.
pub fn build_faq(train: &[Row], unknown: &BTreeSet<String>) -> Vec<FaqEntry> {
    let mut by_label: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in train.iter().filter(|r| !unknown.contains(&r.label)) {
        let examples = by_label.entry(&r.label).or_default();
        if examples.len() < SHOTS {
            examples.push(&r.text);
        }
    }
    by_label
        .into_iter()
        .map(|(label, examples)| FaqEntry {
            id: label.to_string(),
            question: examples[0].to_string(),
            alternatives: examples[1..].iter().map(|s| s.to_string()).collect(),
            answer: format!("This is the answer about {}.", label.replace('_', " ")),
            tags: vec![],
            links: vec![],
        })
        .collect()
}

/// How often the best entry was right, by tenths of confidence: a calibrated confidence has
/// about as many right in each tenth as the tenth says.
fn reliability(outcomes: &[(f32, bool)]) -> Value {
    let mut bins = [(0usize, 0usize); 10];
    for &(confidence, right) in outcomes {
        let bin = &mut bins[((confidence * 10.0) as usize).min(9)];
        bin.0 += 1;
        bin.1 += right as usize;
    }
    bins.iter()
        .enumerate()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(i, (n, right))| json!({ "from": i as f64 / 10.0, "queries": n, "right": round4(*right as f64 / *n as f64) }))
        .collect()
}

pub fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs the protocol at `threshold` and returns the metrics. With `model`, entries and queries
/// are embedded (the per-query latency includes embedding the query).
pub fn evaluate(train: &[Row], test: &[Row], oos: &[Row], threshold: f32, unknown_fifth: usize, model: Option<&Embedder>) -> anyhow::Result<Value> {
    let unknown = unknown_labels(train, unknown_fifth);
    let started = Instant::now();
    let faq = build_faq(train, &unknown);
    // In scope means "has an entry": a test label the train file never shows has none either.
    let answerable: BTreeSet<String> = faq.iter().map(|entry| entry.id.clone()).collect();
    let vectors = match model {
        Some(m) => Some(m.embed(&phrasing_texts(&faq).iter().map(String::as_str).collect::<Vec<_>>())?),
        None => None,
    };
    let index = FaqIndex::build(faq, vectors)?;
    let index_build_ms = started.elapsed().as_millis();

    let (mut in_scope, mut top1, mut answered, mut answered_right, mut oos_total, mut oos_answered) = (0, 0, 0, 0, 0, 0);
    let mut latencies = Vec::with_capacity(test.len() + oos.len());
    let mut outcomes = Vec::with_capacity(test.len() + oos.len());
    let queries = test.iter().map(|r| (r, answerable.contains(&r.label))).chain(oos.iter().map(|r| (r, false)));
    for (row, known) in queries {
        let t = Instant::now();
        let vector = model.map(|m| m.embed(&[row.text.as_str()])).transpose()?.and_then(|mut v| v.pop());
        let best = index.best(&row.text, vector.as_deref());
        latencies.push(t.elapsed().as_micros());
        let is_right = best.as_ref().is_some_and(|m| m.entry.id == row.label);
        let answers = best.as_ref().is_some_and(|m| m.confidence >= threshold);
        outcomes.push((best.as_ref().map(|m| m.confidence).unwrap_or(0.0), known && is_right));
        if known {
            in_scope += 1;
            top1 += is_right as usize;
        } else {
            oos_total += 1;
            oos_answered += answers as usize;
        }
        if answers {
            answered += 1;
            answered_right += (known && is_right) as usize;
        }
    }
    latencies.sort_unstable();
    let c = index.calibration();
    let calibration = json!({ "score_weight": round4(c.score_weight), "lead_weight": round4(c.lead_weight), "bias": round4(c.bias) });
    let ratio = |a: usize, b: usize| round4(if b == 0 { 0.0 } else { a as f64 / b as f64 });
    Ok(json!({
        "top1_accuracy": ratio(top1, in_scope),
        "answered_precision": ratio(answered_right, answered),
        "in_scope_coverage": ratio(answered_right, in_scope),
        "oos_false_answer_rate": ratio(oos_answered, oos_total),
        "latency_p50_us": percentile(&latencies, 0.50),
        "latency_p99_us": percentile(&latencies, 0.99),
        "index_build_ms": index_build_ms,
        "queries": latencies.len(),
        "threshold": threshold,
        "matcher": if model.is_some() { "hybrid" } else { "full_text" },
        "faq_entries": index.entries().len(),
        "calibration": calibration,
        "unknown_fifth": unknown_fifth,
        "reliability": reliability(&outcomes),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str, label: &str) -> Row {
        Row { text: text.into(), label: label.into(), extra: vec![] }
    }

    #[test]
    fn every_fifth_label_in_name_order_is_unknown() {
        let train: Vec<Row> = ["e", "a", "d", "c", "b", "f"].iter().map(|l| row("x", l)).collect();
        assert_eq!(unknown_labels(&train, 4), BTreeSet::from(["e".to_string()]));
        assert_eq!(unknown_labels(&train, 0), BTreeSet::from(["a".to_string(), "f".to_string()]));
    }

    #[test]
    fn entries_take_the_first_ten_rows_in_file_order() {
        let train: Vec<Row> = (0..12).map(|i| row(&format!("q{i}"), "card")).collect();
        let faq = build_faq(&train, &BTreeSet::new());
        assert_eq!(faq[0].question, "q0");
        assert_eq!(faq[0].alternatives.len(), 9);
        assert_eq!(faq[0].alternatives[8], "q9");
    }

    #[test]
    fn metrics_count_answers_and_out_of_scope_queries() {
        let labels = ["apple", "banana", "cherry", "date", "zzz_unknown"];
        let train: Vec<Row> = labels.iter().map(|l| row(&format!("tell me about {l} fruit"), l)).collect();
        let test = vec![row("tell me about apple fruit", "apple"), row("about zzz_unknown things", "zzz_unknown")];
        let m = evaluate(&train, &test, &[row("something else entirely", "")], 0.6, 4, None).unwrap();
        assert_eq!(m["top1_accuracy"], 1.0);
        assert_eq!(m["in_scope_coverage"], 1.0);
        assert_eq!(m["answered_precision"], 1.0);
        assert_eq!(m["oos_false_answer_rate"], 0.0);
        assert_eq!(m["queries"], 3);
    }

    #[test]
    fn a_test_label_without_train_rows_is_out_of_scope() {
        let labels = ["apple", "banana", "cherry", "date"];
        let train: Vec<Row> = labels.iter().map(|l| row(&format!("tell me about {l} fruit"), l)).collect();
        let test = vec![row("tell me about apple fruit", "apple"), row("tell me about elderberry fruit", "elderberry")];
        let m = evaluate(&train, &test, &[], 0.99, 4, None).unwrap();
        assert_eq!(m["top1_accuracy"], 1.0, "only apple is in scope");
        assert_eq!(m["oos_false_answer_rate"], 0.0);
    }

    #[test]
    fn reliability_counts_right_answers_per_tenth_of_confidence() {
        let r = reliability(&[(0.95, true), (0.91, false), (1.0, true), (0.12, false)]);
        assert_eq!(
            r,
            json!([
                { "from": 0.1, "queries": 1, "right": 0.0 },
                { "from": 0.9, "queries": 3, "right": 0.6667 },
            ])
        );
    }
}
