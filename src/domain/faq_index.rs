//! The FAQ search index: tantivy (BM25) finds candidate entries by their words and, when
//! sentence embeddings are given, every entry is also scored by meaning; `ranking` turns the
//! evidence into a confidence in [0, 1].
//!
//! Full-text evidence is not BM25's raw score: it is unbounded and shifts with the FAQ's size
//! and the query's length. It is an IDF-weighted cosine between the query and the entry's
//! closest phrasing (its question or an alternative): 1.0 for the same words, falling as either
//! side brings words the other lacks. Without embeddings, that is the confidence.

use super::faq::FaqEntry;
use super::ranking;
use super::text::{self, ANALYZER_NAME};
use std::collections::HashMap;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, TantivyDocument, Term};

/// How many BM25 hits are re-scored: enough to hold every phrasing of the top entries.
const CANDIDATES: usize = 40;
/// Answer and tags alone are weak evidence: they can rank an entry but never answer on their own.
const BODY_WEIGHT: f32 = 0.5;

/// A ranked FAQ entry for one query.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqMatch {
    pub entry: FaqEntry,
    pub confidence: f32,
}

/// One indexed text: either a phrasing of an entry or its answer+tags body.
struct Doc {
    entry: usize,
    is_body: bool,
    tokens: Vec<String>,
}

/// An immutable, in-memory index over a set of FAQ entries. Rebuilt (cheaply) on any change.
pub struct FaqIndex {
    entries: Vec<FaqEntry>,
    docs: Vec<Doc>,
    reader: IndexReader,
    text: Field,
    analyzer: TextAnalyzer,
    /// Inverse document frequency over phrasing docs, for the confidence's term weights.
    idf: HashMap<String, f32>,
    phrasing_count: usize,
    /// One unit vector per phrasing (in [`phrasing_texts`] order), when a model is available.
    vectors: Option<Vec<Vec<f32>>>,
}

/// The texts an index embeds, in the order [`FaqIndex::build`] expects their vectors.
pub fn phrasing_texts(entries: &[FaqEntry]) -> Vec<String> {
    entries.iter().flat_map(|e| e.phrasings().map(String::from)).collect()
}

impl FaqIndex {
    /// Builds the index. `vectors`, when given, holds one embedding per [`phrasing_texts`] entry.
    pub fn build(entries: Vec<FaqEntry>, vectors: Option<Vec<Vec<f32>>>) -> tantivy::Result<Self> {
        let phrasings = entries.iter().map(|e| 1 + e.alternatives.len()).sum::<usize>();
        if vectors.as_ref().is_some_and(|v| v.len() != phrasings) {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "{} vectors for {phrasings} phrasings",
                vectors.map(|v| v.len()).unwrap_or_default()
            )));
        }
        let mut schema = Schema::builder();
        let text = schema.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER_NAME)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        );
        let slot = schema.add_u64_field("slot", NumericOptions::default().set_fast());
        let index = Index::create_in_ram(schema.build());
        let mut analyzer = text::analyzer();
        index.tokenizers().register(ANALYZER_NAME, analyzer.clone());

        let mut docs = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for phrasing in e.phrasings() {
                docs.push((i, false, phrasing.to_string()));
            }
            docs.push((i, true, format!("{} {}", e.answer, e.tags.join(" "))));
        }
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        for (n, (_, _, body)) in docs.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(text, body);
            doc.add_u64(slot, n as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;

        let docs: Vec<Doc> = docs
            .into_iter()
            .map(|(entry, is_body, body)| Doc { entry, is_body, tokens: text::tokens(&mut analyzer, &body) })
            .collect();
        let phrasing_count = docs.iter().filter(|d| !d.is_body).count();
        let mut df: HashMap<String, usize> = HashMap::new();
        for d in docs.iter().filter(|d| !d.is_body) {
            let mut unique: Vec<&String> = d.tokens.iter().collect();
            unique.sort();
            unique.dedup();
            for t in unique {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        let idf = df.into_iter().map(|(t, n)| (t, bm25_idf(phrasing_count, n))).collect();
        Ok(FaqIndex { entries, docs, reader, text, analyzer, idf, phrasing_count, vectors })
    }

    /// Whether entries are also matched by meaning.
    pub fn is_semantic(&self) -> bool {
        self.vectors.is_some()
    }

    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn idf(&self, term: &str) -> f32 {
        self.idf.get(term).copied().unwrap_or_else(|| bm25_idf(self.phrasing_count, 0))
    }

    /// The best `limit` entries for `query`, most confident first. `query_vector` is the
    /// query's embedding; without it (or without entry vectors) only words are compared.
    pub fn search(&self, query: &str, query_vector: Option<&[f32]>, limit: usize) -> Vec<FaqMatch> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let lexical = self.lexical_scores(query);
        let scores: Vec<(usize, f32)> = match (&self.vectors, query_vector) {
            (Some(vectors), Some(q)) => {
                let mut cosines: Vec<Vec<f32>> = vec![Vec::new(); self.entries.len()];
                let phrasing_docs = self.docs.iter().filter(|d| !d.is_body);
                for (doc, v) in phrasing_docs.zip(vectors) {
                    cosines[doc.entry].push(ranking::dot(q, v));
                }
                cosines
                    .iter_mut()
                    .enumerate()
                    .map(|(i, c)| (i, ranking::hybrid_score(ranking::semantic_score(c), lexical.get(&i).copied().unwrap_or(0.0))))
                    .collect()
            }
            _ => lexical.into_iter().collect(),
        };
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().filter(|(_, s)| *s > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let semantic = self.is_semantic() && query_vector.is_some();
        let top = ranked.first().map(|r| r.1).unwrap_or(0.0);
        let runner_up = ranked.get(1).map(|r| r.1).unwrap_or(0.0);
        ranked
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(rank, (i, score))| {
                let rival = if rank == 0 { runner_up } else { top };
                let confidence = if semantic { ranking::confidence(score, rival) } else { score };
                FaqMatch { entry: self.entries[i].clone(), confidence }
            })
            .collect()
    }

    /// The single best entry, if any relates to the query.
    pub fn best(&self, query: &str, query_vector: Option<&[f32]>) -> Option<FaqMatch> {
        self.search(query, query_vector, 1).into_iter().next()
    }

    /// Full-text confidence of every entry sharing a word with the query.
    fn lexical_scores(&self, query: &str) -> HashMap<usize, f32> {
        let query_tokens = text::tokens(&mut self.analyzer.clone(), query);
        let mut best: HashMap<usize, f32> = HashMap::new();
        if query_tokens.is_empty() {
            return best;
        }
        for slot in self.candidate_slots(&query_tokens) {
            let doc = &self.docs[slot];
            let weight = |t: &str| self.idf(t);
            let confidence = if doc.is_body {
                BODY_WEIGHT * text::weighted_coverage(&query_tokens, &doc.tokens, weight)
            } else {
                text::weighted_cosine(&query_tokens, &doc.tokens, weight)
            };
            let e = best.entry(doc.entry).or_insert(0.0);
            *e = e.max(confidence);
        }
        best
    }

    fn candidate_slots(&self, query_tokens: &[String]) -> Vec<usize> {
        let mut unique: Vec<&String> = query_tokens.iter().collect();
        unique.sort();
        unique.dedup();
        let clauses: Vec<(Occur, Box<dyn Query>)> = unique
            .into_iter()
            .map(|t| {
                let term = Term::from_field_text(self.text, t);
                (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
            })
            .collect();
        let searcher = self.reader.searcher();
        let Ok(hits) = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(CANDIDATES).order_by_score()) else {
            return Vec::new();
        };
        hits.into_iter()
            .filter_map(|(_, addr)| {
                let column = searcher.segment_reader(addr.segment_ord).fast_fields().u64("slot").ok()?;
                column.first(addr.doc_id).map(|s| s as usize)
            })
            .collect()
    }
}

/// BM25's IDF: always positive, large for words few phrasings use.
fn bm25_idf(docs: usize, containing: usize) -> f32 {
    let (n, df) = (docs as f32, containing as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, q: &str, alts: &[&str], answer: &str) -> FaqEntry {
        FaqEntry {
            id: id.into(),
            question: q.into(),
            alternatives: alts.iter().map(|s| s.to_string()).collect(),
            answer: answer.into(),
            tags: vec![],
            links: vec![],
        }
    }

    fn index() -> FaqIndex {
        FaqIndex::build(
            vec![
            entry("reset-password", "How do I reset my password?", &["forgot my password", "locked out of my account"], "Use the reset link."),
            entry("install", "How do I install the bot?", &["installation steps", "setup on linux"], "Run cargo install."),
            entry("postgres", "Can I use PostgreSQL instead of SQLite?", &["switch database to postgres"], "Set the database url."),
            ],
            None,
        )
        .unwrap()
    }

    #[test]
    fn the_same_question_is_matched_with_full_confidence() {
        let m = index().best("How do I reset my password?", None).unwrap();
        assert_eq!(m.entry.id, "reset-password");
        assert!(m.confidence > 0.99, "{}", m.confidence);
    }

    #[test]
    fn an_alternative_phrasing_matches_its_entry() {
        let m = index().best("I forgot my password", None).unwrap();
        assert_eq!(m.entry.id, "reset-password");
        assert!(m.confidence > 0.9);
    }

    #[test]
    fn extra_unknown_words_lower_the_confidence() {
        let idx = index();
        let plain = idx.best("install the bot", None).unwrap().confidence;
        let noisy = idx.best("install the bot on my raspberry pi cluster with kubernetes", None).unwrap().confidence;
        assert!(noisy < plain, "{noisy} !< {plain}");
        assert!(noisy < 0.5, "{noisy}");
    }

    #[test]
    fn an_unrelated_question_finds_nothing() {
        assert!(index().best("what is the airspeed of a swallow", None).is_none());
        assert!(index().best("", None).is_none());
        assert!(index().best("?!?", None).is_none());
    }

    #[test]
    fn answer_words_alone_rank_but_stay_below_half_confidence() {
        let m = index().best("cargo", None).unwrap();
        assert_eq!(m.entry.id, "install");
        assert!(m.confidence <= BODY_WEIGHT);
    }

    #[test]
    fn confidences_are_bounded_and_sorted() {
        let results = index().search("password database install", None, 10);
        assert_eq!(results.len(), 3);
        for w in results.windows(2) {
            assert!(w[0].confidence >= w[1].confidence);
        }
        assert!(results.iter().all(|m| (0.0..=1.0).contains(&m.confidence)));
    }

    /// Unit vectors along axes: a stand-in embedding where equal axes mean "same meaning".
    fn axis(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; 4];
        v[i] = 1.0;
        v
    }

    #[test]
    fn with_vectors_a_question_sharing_no_word_is_matched_by_meaning() {
        let entries = vec![
            entry("reset-password", "How do I reset my password?", &["forgot my password"], "Use the link."),
            entry("install", "How do I install the bot?", &[], "cargo install"),
        ];
        let idx = FaqIndex::build(entries, Some(vec![axis(0), axis(0), axis(1)])).unwrap();
        assert!(idx.is_semantic());
        let m = idx.best("can't get into my account", Some(&axis(0))).unwrap();
        assert_eq!(m.entry.id, "reset-password");
        assert!(m.confidence > 0.95, "{}", m.confidence);
        let unrelated = idx.best("weather today", Some(&axis(3))).map(|m| m.confidence).unwrap_or(0.0);
        assert!(unrelated < 0.01, "{unrelated}");
    }

    #[test]
    fn two_equally_close_entries_are_not_a_confident_answer() {
        let entries = vec![entry("a", "first", &[], "x"), entry("b", "second", &[], "y")];
        let at = |degrees: f32| vec![degrees.to_radians().cos(), degrees.to_radians().sin(), 0.0, 0.0];
        let idx = FaqIndex::build(entries.clone(), Some(vec![at(30.0), at(-30.0)])).unwrap();
        // The query sits almost halfway between the two entries: both fit well, neither clearly.
        let m = idx.search("q", Some(&at(2.0)), 2);
        assert!(m[0].confidence < 0.9, "{m:?}");
        assert!(m[1].confidence < m[0].confidence);
        // The same closeness with no rival nearby is a confident answer.
        let alone = FaqIndex::build(entries, Some(vec![at(30.0), at(150.0)])).unwrap();
        assert!(alone.best("q", Some(&at(2.0))).unwrap().confidence > 0.95);
    }

    #[test]
    fn vectors_must_match_the_phrasings() {
        let entries = vec![entry("a", "first", &["alt"], "x")];
        assert!(FaqIndex::build(entries, Some(vec![axis(0)])).is_err());
    }

    #[test]
    fn an_empty_faq_answers_nothing() {
        assert!(FaqIndex::build(vec![], None).unwrap().best("hello", None).is_none());
    }
}
