//! Okapi BM25 over a few thousand short texts held in memory: how the FAQ picks the candidates
//! it scores. Our own in place of tantivy, which did this one Boolean query for us: the FAQ
//! never outgrows RAM, and tantivy with the 38 crates only it needed cost about 150 s of CPU of
//! the 2-core release build (BENCHMARKS.md, "Build time"). Same formula as tantivy and Lucene.

use std::collections::HashMap;

/// Term-frequency saturation and length normalisation: the usual values (tantivy's, Lucene's).
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// An inverted index of already-analyzed documents, numbered in the order given.
pub struct Bm25 {
    /// For each term, the documents containing it and how often.
    postings: HashMap<String, Vec<(usize, f32)>>,
    /// Each document's length normalisation, `K1 * (1 - B + B * length / average length)`.
    norms: Vec<f32>,
}

/// BM25's inverse document frequency of a term in `containing` of `docs` documents: always
/// positive, large for rare terms.
pub fn idf(docs: usize, containing: usize) -> f32 {
    let (n, df) = (docs as f32, containing as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

impl Bm25 {
    pub fn new<'a>(docs: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut postings: HashMap<String, Vec<(usize, f32)>> = HashMap::new();
        let mut lengths = Vec::new();
        for (doc, tokens) in docs.into_iter().enumerate() {
            lengths.push(tokens.len() as f32);
            let mut counts: HashMap<&str, f32> = HashMap::new();
            for t in tokens {
                *counts.entry(t).or_default() += 1.0;
            }
            for (term, tf) in counts {
                postings.entry(term.to_string()).or_default().push((doc, tf));
            }
        }
        let average = lengths.iter().sum::<f32>() / lengths.len().max(1) as f32;
        // An index of empty documents has no postings, so its norms are never read.
        let norms = lengths.iter().map(|l| K1 * (1.0 - B + B * l / average)).collect();
        Bm25 { postings, norms }
    }

    /// The `limit` best documents for `terms` (each counted once), best first; only documents
    /// sharing a term. Equal scores keep document order.
    pub fn top(&self, terms: &[String], limit: usize) -> Vec<usize> {
        self.ranked(terms).into_iter().take(limit).map(|(doc, _)| doc).collect()
    }

    /// Every document sharing a term with its score, best first.
    fn ranked(&self, terms: &[String]) -> Vec<(usize, f32)> {
        let mut unique: Vec<&String> = terms.iter().collect();
        unique.sort();
        unique.dedup();
        let mut scores: HashMap<usize, f32> = HashMap::new();
        for term in unique {
            let Some(docs) = self.postings.get(term) else { continue };
            let idf = idf(self.norms.len(), docs.len());
            for &(doc, tf) in docs {
                *scores.entry(doc).or_default() += idf * tf * (K1 + 1.0) / (tf + self.norms[doc]);
            }
        }
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(texts: &[&str]) -> Vec<Vec<String>> {
        texts.iter().map(|t| t.split_whitespace().map(str::to_string).collect()).collect()
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn rare_terms_outrank_common_ones_and_unrelated_documents_are_left_out() {
        let d = docs(&["port change", "port server", "port log", "database locked", "weather"]);
        let index = Bm25::new(d.iter().map(Vec::as_slice));
        assert_eq!(index.top(&words("change port"), 10), vec![0, 1, 2], "'change' is rarer than 'port'");
        assert_eq!(index.top(&words("locked"), 10), vec![3]);
        assert!(index.top(&words("nothing shared"), 10).is_empty());
        assert_eq!(index.top(&words("port"), 2), vec![0, 1], "ties keep document order, cut at the limit");
    }

    #[test]
    fn a_shorter_document_with_the_term_ranks_first_and_repeats_count_once_in_the_query() {
        let d = docs(&["crash on start with a long story about the build", "crash"]);
        let index = Bm25::new(d.iter().map(Vec::as_slice));
        assert_eq!(index.top(&words("crash crash crash"), 10), vec![1, 0]);
    }

    #[test]
    fn scores_are_the_textbook_formula() {
        // Lengths 2 and 4 (average 3); "b" twice in the second; "a" in both.
        let d = docs(&["a x", "a b b y"]);
        let index = Bm25::new(d.iter().map(Vec::as_slice));
        let idf = |n: f32, df: f32| (1.0f32 + (n - df + 0.5) / (df + 0.5)).ln();
        let tf_part = |tf: f32, len: f32| tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / 3.0));
        let ranked = index.ranked(&words("a b"));
        assert_eq!(ranked.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 0]);
        let expected_second = idf(2.0, 2.0) * tf_part(1.0, 4.0) + idf(2.0, 1.0) * tf_part(2.0, 4.0);
        let expected_first = idf(2.0, 2.0) * tf_part(1.0, 2.0);
        assert!((ranked[0].1 - expected_second).abs() < 1e-5, "{ranked:?}");
        assert!((ranked[1].1 - expected_first).abs() < 1e-5, "{ranked:?}");
        assert_eq!(super::idf(2, 1), idf(2.0, 1.0));
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let index = Bm25::new(std::iter::empty());
        assert!(index.top(&words("anything"), 5).is_empty());
    }
}
