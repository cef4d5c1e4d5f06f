//! What moderators corrected, remembered as examples: a message like one they labeled is
//! decided their way, whatever the fitted weights make of it. The fit learns from corrections
//! too (weighted), but a fit generalises; this makes sure the same mistake is not made twice.

/// How alike two messages must be for a correction to count (cosine of their embeddings, or
/// of their word sets on words alone), and what a perfect match adds in log-odds.
const ALIKE: f32 = 0.75;
const AT_IDENTITY: f32 = 6.0;

#[derive(Debug, Clone, Default)]
pub struct Corrections {
    items: Vec<Taught>,
}

#[derive(Debug, Clone)]
struct Taught {
    words: Vec<String>,
    vector: Option<Vec<f32>>,
    support: bool,
}

impl Corrections {
    pub fn push(&mut self, tokens: &[String], vector: Option<Vec<f32>>, support: bool) {
        let mut words: Vec<String> = tokens.to_vec();
        words.sort();
        words.dedup();
        self.items.push(Taught { words, vector, support });
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The log-odds the closest correction adds to a message: positive for "a question",
    /// negative for "not a question", 0 when none is alike.
    pub fn evidence(&self, tokens: &[String], vector: Option<&[f32]>) -> f32 {
        let mut words: Vec<String> = tokens.to_vec();
        words.sort();
        words.dedup();
        let mut best: Option<(f32, bool)> = None;
        for t in &self.items {
            let similarity = match (vector, t.vector.as_deref()) {
                (Some(a), Some(b)) if a.len() == b.len() => crate::domain::ranking::dot(a, b),
                _ => word_cosine(&words, &t.words),
            };
            if similarity >= ALIKE && best.is_none_or(|(s, _)| similarity > s) {
                best = Some((similarity, t.support));
            }
        }
        best.map_or(0.0, |(s, support)| {
            let strength = AT_IDENTITY * ((s - ALIKE) / (1.0 - ALIKE)).clamp(0.25, 1.0);
            if support { strength } else { -strength }
        })
    }
}

/// Cosine of two sorted, deduplicated word sets.
fn word_cosine(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.iter().filter(|w| b.binary_search(w).is_ok()).count();
    shared as f32 / ((a.len() * b.len()) as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn a_message_like_a_correction_is_pulled_its_way_and_others_are_not() {
        let mut c = Corrections::default();
        c.push(&words("my code compiles on the first try something must be broken"), None, false);
        c.push(&words("gateway keeps dropping me every few minutes"), None, true);
        assert!(c.evidence(&words("my code compiles on the first try something must be broken"), None) <= -AT_IDENTITY + 0.01);
        assert!(c.evidence(&words("gateway keeps dropping me every few minutes now"), None) > 1.0);
        assert_eq!(c.evidence(&words("how do i reset my password"), None), 0.0);
        // with vectors, the embedding decides
        let mut v = Corrections::default();
        v.push(&words("a"), Some(vec![1.0, 0.0]), false);
        assert!(v.evidence(&words("b"), Some(&[0.96, 0.28])) < 0.0);
        assert_eq!(v.evidence(&words("a"), Some(&[0.0, 1.0])), 0.0);
    }
}
