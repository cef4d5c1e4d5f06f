//! What the detector reads in a message: the rules' findings, the message's shape, its words
//! (hashed), and, with a model, its sentence embedding.

use super::common_words::COMMON_WORDS;
use crate::domain::question::{self, Reason, Signals};

/// Buckets for hashed words. On 5-fold cross-validation over the shipped examples, words alone
/// (no embedding): 512 buckets with word pairs 0.858 accuracy, 512 words 0.867, 1024 words
/// 0.883, 2048 words 0.883. Pairs only memorise a set this size.
pub const WORD_BUCKETS: usize = 1024;

/// The rules' findings and the message's shape, one value each (see `shape`).
pub const SHAPE_FEATURES: usize = 32;

/// Embedding values are about ±0.05 (unit vectors in 384 dimensions). On 5-fold
/// cross-validation over the shipped examples (all-MiniLM-L6-v2), scaling them by 8 gave 0.905,
/// by 4 0.915, by 2 0.923, by 1 0.925, by 0.5 0.912: left as they are.
const EMBEDDING_SCALE: f32 = 1.0;

/// A message's features without its embedding; `with_embedding` completes them.
#[derive(Debug, Clone, PartialEq)]
pub struct TextFeatures {
    pub signals: Signals,
    values: Vec<f32>,
}

impl TextFeatures {
    pub fn of(text: &str) -> TextFeatures {
        let signals = question::signals(text);
        let mut values = shape(text, &signals);
        values.extend(hashed_words(&signals.tokens));
        TextFeatures { signals, values }
    }

    /// The full vector: these features, then the embedding (zeros when the detector uses one and
    /// this message has none, which only happens when the model failed on it).
    pub fn with_embedding(&self, embedding: Option<&[f32]>, dimension: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.values.len() + dimension);
        out.extend_from_slice(&self.values);
        match embedding.filter(|e| e.len() == dimension) {
            Some(e) => out.extend(e.iter().map(|x| x * EMBEDDING_SCALE)),
            None => out.extend(std::iter::repeat_n(0.0, dimension)),
        }
        out
    }
}

fn flag(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

const WH: &[&str] = &["what", "where", "when", "why", "how", "which", "who", "whom", "whose", "wher", "wat", "y"];
const AUX: &[&str] = &[
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might", "has", "have", "am", "must",
];
const FIRST_PERSON: &[&str] = &["i", "my", "me", "mine", "we", "our", "us", "im"];
const SECOND_PERSON: &[&str] = &["you", "your", "yall", "ya", "guys"];
const SOMEONE: &[&str] = &["anyone", "anybody", "someone", "somebody", "any1", "ne1"];
const NEGATION: &[&str] = &["not", "no", "never", "nothing", "cannot", "without", "neither"];

fn shape(text: &str, s: &Signals) -> Vec<f32> {
    let toks = &s.tokens;
    let n = toks.len();
    let found = |r: Reason| flag(s.found.contains(&r));
    let any = |list: &[&str]| flag(toks.iter().any(|t| list.contains(&t.as_str())));
    let first = toks.first().map(String::as_str).unwrap_or_default();
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let shouting = letters.len() >= 4 && letters.iter().all(|c| c.is_uppercase());
    let trimmed = text.trim_end();
    let uncommon = toks.iter().filter(|t| !COMMON_WORDS.contains(&t.as_str()) && t.chars().any(|c| c.is_alphabetic())).count();
    let values = vec![
        flag(s.detection.is_support),
        found(Reason::QuestionMark),
        found(Reason::Interrogative),
        found(Reason::Request),
        found(Reason::ProblemReport),
        found(Reason::SmallTalk),
        flag(s.detection.reason == Reason::SmallTalk),
        flag(s.detection.reason == Reason::TooShort),
        flag(s.asked),
        flag(trimmed.ends_with('?')),
        flag(s.laughing),
        flag(s.soliciting),
        flag(n == 1),
        flag((2..=3).contains(&n)),
        flag((4..=7).contains(&n)),
        flag((8..=15).contains(&n)),
        flag(n >= 16),
        flag(WH.contains(&first)),
        flag(AUX.contains(&first)),
        any(FIRST_PERSON),
        any(SECOND_PERSON),
        any(SOMEONE),
        any(NEGATION),
        flag(text.chars().any(|c| c.is_ascii_digit())),
        flag(text.contains("http") || text.contains('`')),
        flag(trimmed.ends_with('!')),
        flag(shouting),
        flag(letters.is_empty()),
        uncommon as f32 / n.max(1) as f32,
        flag(uncommon >= 1),
        flag(uncommon >= 2),
        flag(toks.iter().any(|t| t.chars().any(|c| c.is_ascii_digit()) && t.chars().any(|c| c.is_alphabetic()))),
    ];
    debug_assert_eq!(values.len(), SHAPE_FEATURES);
    values
}

/// The message's words, hashed into [`WORD_BUCKETS`], scaled so that a long message weighs no
/// more than a short one.
fn hashed_words(tokens: &[String]) -> Vec<f32> {
    let mut buckets = vec![0.0f32; WORD_BUCKETS];
    for t in tokens {
        buckets[bucket(t)] = 1.0;
    }
    let present = buckets.iter().filter(|v| **v > 0.0).count();
    if present > 0 {
        let norm = (present as f32).sqrt();
        buckets.iter_mut().for_each(|v| *v /= norm);
    }
    buckets
}

/// FNV-1a: stable across runs and platforms (std's hasher is seeded per process).
fn bucket(word: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % WORD_BUCKETS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_have_a_fixed_length_and_are_stable() {
        let a = TextFeatures::of("my build fails on ARM");
        assert_eq!(a.with_embedding(None, 0).len(), SHAPE_FEATURES + WORD_BUCKETS);
        assert_eq!(a, TextFeatures::of("my build fails on ARM"));
        assert_eq!(a.with_embedding(Some(&[0.5, 0.5]), 2)[SHAPE_FEATURES + WORD_BUCKETS..], [0.5 * EMBEDDING_SCALE, 0.5 * EMBEDDING_SCALE]);
        // A wrong-sized embedding counts as none rather than shifting the features.
        assert_eq!(a.with_embedding(Some(&[1.0]), 2)[SHAPE_FEATURES + WORD_BUCKETS..], [0.0, 0.0]);
    }

    #[test]
    fn empty_and_huge_messages_are_fine() {
        assert_eq!(TextFeatures::of("").with_embedding(None, 0).len(), SHAPE_FEATURES + WORD_BUCKETS);
        let huge = "word ".repeat(50_000);
        let f = TextFeatures::of(&huge).with_embedding(None, 0);
        assert!(f.iter().all(|v| v.is_finite()));
    }
}
