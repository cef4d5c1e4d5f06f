//! The FAQ search index: tantivy (BM25) finds candidate entries, then a bounded similarity
//! turns the best candidate into a confidence in [0, 1].
//!
//! Why not BM25 scores directly: they are unbounded and shift with the FAQ's size and the
//! query's length, so "0.6" would mean something different for every query. The confidence
//! is instead an IDF-weighted cosine between the query and the entry's closest phrasing
//! (its question or an alternative), which is 1.0 for the same words and falls as the query
//! brings words the phrasing lacks, or the phrasing words the query lacks.

use super::faq::FaqEntry;
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
}

impl FaqIndex {
    pub fn build(entries: Vec<FaqEntry>) -> tantivy::Result<Self> {
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
        Ok(FaqIndex { entries, docs, reader, text, analyzer, idf, phrasing_count })
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

    /// The best `limit` entries for `query`, most confident first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<FaqMatch> {
        let query_tokens = text::tokens(&mut self.analyzer.clone(), query);
        if query_tokens.is_empty() || self.entries.is_empty() {
            return Vec::new();
        }
        let mut best: HashMap<usize, f32> = HashMap::new();
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
        let mut ranked: Vec<(usize, f32)> = best.into_iter().filter(|(_, c)| *c > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(limit)
            .map(|(i, confidence)| FaqMatch { entry: self.entries[i].clone(), confidence })
            .collect()
    }

    /// The single best entry, if any shares a word with the query.
    pub fn best(&self, query: &str) -> Option<FaqMatch> {
        self.search(query, 1).into_iter().next()
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
        FaqIndex::build(vec![
            entry("reset-password", "How do I reset my password?", &["forgot my password", "locked out of my account"], "Use the reset link."),
            entry("install", "How do I install the bot?", &["installation steps", "setup on linux"], "Run cargo install."),
            entry("postgres", "Can I use PostgreSQL instead of SQLite?", &["switch database to postgres"], "Set the database url."),
        ])
        .unwrap()
    }

    #[test]
    fn the_same_question_is_matched_with_full_confidence() {
        let m = index().best("How do I reset my password?").unwrap();
        assert_eq!(m.entry.id, "reset-password");
        assert!(m.confidence > 0.99, "{}", m.confidence);
    }

    #[test]
    fn an_alternative_phrasing_matches_its_entry() {
        let m = index().best("I forgot my password").unwrap();
        assert_eq!(m.entry.id, "reset-password");
        assert!(m.confidence > 0.9);
    }

    #[test]
    fn extra_unknown_words_lower_the_confidence() {
        let idx = index();
        let plain = idx.best("install the bot").unwrap().confidence;
        let noisy = idx.best("install the bot on my raspberry pi cluster with kubernetes").unwrap().confidence;
        assert!(noisy < plain, "{noisy} !< {plain}");
        assert!(noisy < 0.5, "{noisy}");
    }

    #[test]
    fn an_unrelated_question_finds_nothing() {
        assert!(index().best("what is the airspeed of a swallow").is_none());
        assert!(index().best("").is_none());
        assert!(index().best("?!?").is_none());
    }

    #[test]
    fn answer_words_alone_rank_but_stay_below_half_confidence() {
        let m = index().best("cargo").unwrap();
        assert_eq!(m.entry.id, "install");
        assert!(m.confidence <= BODY_WEIGHT);
    }

    #[test]
    fn confidences_are_bounded_and_sorted() {
        let results = index().search("password database install", 10);
        assert_eq!(results.len(), 3);
        for w in results.windows(2) {
            assert!(w[0].confidence >= w[1].confidence);
        }
        assert!(results.iter().all(|m| (0.0..=1.0).contains(&m.confidence)));
    }

    #[test]
    fn an_empty_faq_answers_nothing() {
        assert!(FaqIndex::build(vec![]).unwrap().best("hello").is_none());
    }
}
