//! Text analysis shared by the FAQ index, ticket linking and clustering: one analyzer,
//! so "the same words" means the same thing everywhere.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Words that say how something is asked, not what it is about. The Snowball English list
/// (Lucene's English default is 33 words, which keeps "how", "do", "i", "my") plus the
/// fragments its tokenizer makes of contractions and a few chat fillers.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
    "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself",
    "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that",
    "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
    "having", "do", "does", "did", "doing", "would", "should", "could", "ought", "a", "an", "the",
    "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with",
    "about", "against", "between", "into", "through", "during", "before", "after", "above", "below",
    "to", "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then",
    "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few",
    "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than",
    "too", "very", "can", "will", "just", "now", "s", "t", "d", "ll", "m", "re", "ve", "don", "doesn",
    "didn", "isn", "aren", "wasn", "weren", "hasn", "haven", "hadn", "won", "wouldn", "shouldn",
    "couldn", "cannot", "also", "get", "got", "anyone", "someone", "anybody", "somebody", "please",
    "pls", "plz", "hi", "hello", "hey", "thanks", "thank", "u", "ur", "im", "way", "possible",
];

/// Longer "words" (hashes, base64, URLs without separators) are dropped, not indexed.
const MAX_WORD_BYTES: usize = 40;

static STOP_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| STOP_WORDS.iter().copied().collect());

/// Splits text into words (runs of letters and digits), lower-cases them, drops stop words and,
/// for [`analyzer`], reduces them to their Snowball English stem ("crashes", "crashing" → "crash").
#[derive(Clone, Copy)]
pub struct Analyzer {
    stemmer: Option<frostem::Stemmer>,
}

impl Analyzer {
    /// The analyzed tokens of `text`, in order, duplicates included.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty() && word.len() < MAX_WORD_BYTES)
            .filter_map(|word| {
                let lower = if word.is_ascii() { word.to_ascii_lowercase() } else { word.chars().flat_map(char::to_lowercase).collect() };
                if STOP_SET.contains(lower.as_str()) {
                    return None;
                }
                Some(self.stemmer.map(|s| s.stem(&lower).into_owned()).unwrap_or(lower))
            })
            .collect()
    }
}

/// Lower-cased, stop-word-free, stemmed English tokens.
pub fn analyzer() -> Analyzer {
    Analyzer { stemmer: Some(frostem::Stemmer::new(frostem::Algorithm::English)) }
}

/// Lower-cased words without stop words, unstemmed: for keywords people read.
pub fn keyword_analyzer() -> Analyzer {
    Analyzer { stemmer: None }
}

/// Term counts of a token list.
pub fn term_counts(tokens: &[String]) -> HashMap<&str, f32> {
    let mut counts = HashMap::new();
    for t in tokens {
        *counts.entry(t.as_str()).or_insert(0.0) += 1.0;
    }
    counts
}

/// Cosine similarity of two token bags, each term weighted by `weight(term)` (e.g. its IDF).
/// In [0, 1]; 0 when either side is empty.
pub fn weighted_cosine(a: &[String], b: &[String], weight: impl Fn(&str) -> f32) -> f32 {
    let (ca, cb) = (term_counts(a), term_counts(b));
    let norm = |c: &HashMap<&str, f32>| c.iter().map(|(t, n)| (n * weight(t)).powi(2)).sum::<f32>().sqrt();
    let (na, nb) = (norm(&ca), norm(&cb));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let dot: f32 = ca.iter().filter_map(|(t, n)| cb.get(t).map(|m| n * m * weight(t).powi(2))).sum();
    (dot / (na * nb)).clamp(0.0, 1.0)
}

/// Share of `query`'s weight that `document` contains: how much of the question a text covers.
pub fn weighted_coverage(query: &[String], document: &[String], weight: impl Fn(&str) -> f32) -> f32 {
    let doc = term_counts(document);
    let q = term_counts(query);
    let total: f32 = q.keys().map(|t| weight(t)).sum();
    if total == 0.0 {
        return 0.0;
    }
    let found: f32 = q.keys().filter(|t| doc.contains_key(*t)).map(|t| weight(t)).sum();
    found / total
}

/// Cuts `text` to at most `max_chars` characters on a char boundary, marking the cut with "…".
pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Splits a long message into pieces of at most `max_chars` for platforms with a length limit,
/// at line breaks where possible, so no piece is cut mid-line unless one line alone is too long.
pub fn split_message(text: &str, max_chars: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        let mut line = line;
        while line.chars().count() > max_chars {
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            let cut = line.char_indices().nth(max_chars).map(|(i, _)| i).unwrap_or(line.len());
            pieces.push(line[..cut].to_string());
            line = &line[cut..];
        }
        if current.chars().count() + line.chars().count() > max_chars {
            pieces.push(std::mem::take(&mut current));
        }
        current.push_str(line);
    }
    pieces.push(current);
    let pieces: Vec<String> = pieces.into_iter().map(|p| p.trim_end().to_string()).filter(|p| !p.is_empty()).collect();
    if pieces.is_empty() { vec![String::new()] } else { pieces }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_on_anything_but_letters_and_digits_lower_cased_and_overlong_ones_dropped() {
        let long = "x".repeat(40);
        assert_eq!(keyword_analyzer().tokens(&format!("ÉCOLE v2.1/ARM64 {long} café-crash")), vec!["école", "v2", "1", "arm64", "café", "crash"]);
        assert_eq!(analyzer().tokens("The builds are CRASHING on arm64!"), vec!["build", "crash", "arm64"]);
    }

    #[test]
    fn long_messages_split_at_line_breaks_within_the_limit() {
        let text = format!("{}\n{}\n{}", "a".repeat(8), "b".repeat(8), "c".repeat(25));
        let pieces = split_message(&text, 20);
        assert_eq!(pieces, vec![format!("{}\n{}", "a".repeat(8), "b".repeat(8)), "c".repeat(20), "c".repeat(5)]);
        assert!(pieces.iter().all(|p| p.chars().count() <= 20));
        assert_eq!(split_message("short", 20), vec!["short"]);
    }

    fn toks(text: &str) -> Vec<String> {
        analyzer().tokens(text)
    }

    #[test]
    fn analysis_drops_stop_words_and_stems() {
        assert_eq!(toks("The builds are failing on ARM"), vec!["build", "fail", "arm"]);
    }

    #[test]
    fn identical_texts_have_cosine_one_and_disjoint_texts_zero() {
        let a = toks("reset my password");
        assert!((weighted_cosine(&a, &a, |_| 1.0) - 1.0).abs() < 1e-6);
        assert_eq!(weighted_cosine(&a, &toks("install docker"), |_| 1.0), 0.0);
        assert_eq!(weighted_cosine(&a, &[], |_| 1.0), 0.0);
    }

    #[test]
    fn rare_shared_terms_weigh_more_than_common_ones() {
        let q = toks("postgres connection refused");
        let rare = toks("postgres setup");
        let common = toks("connection setup");
        let w = |t: &str| if t == "postgr" { 3.0 } else { 1.0 };
        assert!(weighted_cosine(&q, &rare, w) > weighted_cosine(&q, &common, w));
    }

    #[test]
    fn coverage_counts_the_share_of_the_query_found() {
        let q = toks("docker volume");
        assert_eq!(weighted_coverage(&q, &toks("mount a volume in docker"), |_| 1.0), 1.0);
        assert_eq!(weighted_coverage(&q, &toks("a volume"), |_| 1.0), 0.5);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 2), "hé…");
        assert_eq!(truncate_chars("hi", 5), "hi");
    }
}
