//! `supportbot eval`: the measurement protocols of `../shared/eval/README.md`, run on the same
//! code the bot uses in channels. Each prints its metrics as one JSON object on the last line.

pub mod channel;
pub mod cluster;
pub mod curve;
pub mod detect;
pub mod faq;
pub mod harness;
pub mod learn;

use anyhow::{Context, bail};
use std::path::Path;

/// One labeled row of a `text<TAB>label[<TAB>...]` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub text: String,
    pub label: String,
    /// Any further columns.
    pub extra: Vec<String>,
}

/// Reads a tab-separated file, with or without a header row. Rows without a label keep an
/// empty one.
pub fn read_tsv(path: &Path) -> anyhow::Result<Vec<Row>> {
    let raw = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_tsv(&raw).with_context(|| format!("in {}", path.display()))
}

pub fn parse_tsv(raw: &str) -> anyhow::Result<Vec<Row>> {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let mut lines = raw.lines().filter(|l| !l.trim().is_empty()).peekable();
    let Some(first) = lines.peek() else { bail!("the file is empty") };
    if is_header(first) {
        lines.next();
    }
    Ok(lines
        .map(|l| {
            let mut cols = l.split('\t').map(String::from);
            let text = cols.next().unwrap_or_default();
            let label = cols.next().unwrap_or_default();
            Row { text, label, extra: cols.collect() }
        })
        .collect())
}

/// A first line naming its columns ("text<TAB>label", "utterance<TAB>intent") rather than data.
fn is_header(line: &str) -> bool {
    const TEXT_COLUMNS: &[&str] = &["text", "sentence", "utterance", "query", "question", "message", "post"];
    let first = line.split('\t').next().unwrap_or_default().trim().to_lowercase();
    TEXT_COLUMNS.contains(&first.as_str())
}

/// Precision, recall and F1 from counts; 0 where undefined.
pub fn prf(true_pos: usize, flagged: usize, positives: usize) -> (f64, f64, f64) {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (p, r) = (ratio(true_pos, flagged), ratio(true_pos, positives));
    let f1 = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    (p, r, f1)
}

/// Rounds for printing: four decimals are plenty for rates.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_skips_a_header_and_keeps_extra_columns() {
        let rows = parse_tsv("text\tlabel\tact\nhi there\t0\tGreet\n\nok\t1\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].extra, vec!["Greet"]);
        // Without a header every line is data; a header may name its columns otherwise.
        assert_eq!(parse_tsv("hi\t0\nyo\t1\n").unwrap().len(), 2);
        assert_eq!(parse_tsv("utterance\tintent\nhi\tgreet\n").unwrap()[0].label, "greet");
        assert!(parse_tsv("").is_err());
        // A file of queries alone (the out-of-scope file) is one text a line.
        assert_eq!(parse_tsv("text\nwhat is the weather\n").unwrap()[0].text, "what is the weather");
    }

    #[test]
    fn prf_matches_hand_counts() {
        let (p, r, f1) = prf(665, 716, 1083);
        assert_eq!((round4(p), round4(r), round4(f1)), (0.9288, 0.614, 0.7393));
        assert_eq!(prf(0, 0, 0), (0.0, 0.0, 0.0));
    }
}
