//! The FAQ search index: BM25 (`bm25`) finds candidate entries by their words and, when
//! sentence embeddings are given, every entry is also scored by meaning; `ranking` turns the
//! evidence into a score, and a `calibration` fitted on this FAQ's own phrasings turns the best
//! score into a confidence in [0, 1].
//!
//! Full-text evidence is not BM25's raw score: it is unbounded and shifts with the FAQ's size
//! and the query's length. It is an IDF-weighted cosine between the query and the entry's
//! closest phrasing (its question or an alternative): 1.0 for the same words, falling as either
//! side brings words the other lacks. Without embeddings, that is the confidence.

use super::bm25::{self, Bm25};
use super::calibration::{Calibration, Evidence};
use super::faq::FaqEntry;
use super::ranking;
use super::text::{self, Analyzer};
use std::collections::HashMap;

/// How many BM25 hits are re-scored: enough to hold every phrasing of the top entries.
const CANDIDATES: usize = 40;
/// Answer and tags alone are weak evidence: they can rank an entry but never answer on their own.
const BODY_WEIGHT: f32 = 0.5;
/// Phrasings asked back to fit the calibration, at most; it bounds the cost of refitting a large
/// FAQ. Three parameters need far fewer, but the fit varies with which phrasings are asked: on
/// BANKING77's FAQ (620 phrasings) asking every other one (the cap was 400) answered 0.393 of the
/// questions at precision 0.950, asking all of them 0.414 (BENCHMARKS.md, "FAQ answering").
const CALIBRATION_QUESTIONS: usize = 1_000;
/// Repeat questions (phrasings of entries that have others) needed before the FAQ is fitted:
/// questions without an entry alone only say when answers are wrong, never when they are right,
/// so an FAQ of single-phrasing entries keeps the prior.
const MIN_REPEAT_QUESTIONS: usize = 100;

/// Vectors given for an index that are not one per phrasing.
#[derive(Debug, thiserror::Error)]
#[error("{vectors} vectors for {phrasings} phrasings")]
pub struct VectorCountMismatch {
    pub vectors: usize,
    pub phrasings: usize,
}

/// A ranked FAQ entry for one query.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqMatch {
    pub entry: FaqEntry,
    pub confidence: f32,
}

/// One indexed text: either a phrasing of an entry or its answer+tags body.
struct Doc {
    entry: usize,
    /// For a phrasing, its place in [`phrasing_texts`] (and so its vector); None for a body.
    phrasing: Option<usize>,
    tokens: Vec<String>,
}

/// An entry's score for one question. `by_phrasing` is false when only its answer and tags
/// share words with the question: such a match may rank, never answer (its confidence is
/// capped at its score, at most [`BODY_WEIGHT`]).
#[derive(Clone, Copy)]
struct Scored {
    entry: usize,
    score: f32,
    by_phrasing: bool,
}

/// What a question asked back at build time may not see: its own phrasing (a repeat question)
/// or its whole entry (a question the FAQ has no answer for).
#[derive(Clone, Copy, PartialEq)]
enum HeldOut {
    Nothing,
    Doc(usize),
    Entry(usize),
}

impl HeldOut {
    fn hides(self, slot: usize, doc: &Doc) -> bool {
        match self {
            HeldOut::Nothing => false,
            HeldOut::Doc(d) => d == slot,
            HeldOut::Entry(e) => e == doc.entry,
        }
    }
}

/// An immutable, in-memory index over a set of FAQ entries. Rebuilt (cheaply) on any change.
pub struct FaqIndex {
    entries: Vec<FaqEntry>,
    docs: Vec<Doc>,
    /// BM25 over every doc (phrasings and bodies), numbered as `docs`: the candidates.
    full_text: Bm25,
    analyzer: Analyzer,
    /// Inverse document frequency over phrasing docs, for the confidence's term weights.
    idf: HashMap<String, f32>,
    phrasing_count: usize,
    /// One unit vector per phrasing (in [`phrasing_texts`] order), when a model is available.
    vectors: Option<Vec<Vec<f32>>>,
    /// Map the best match's evidence to a confidence, on words alone and (with vectors) on the
    /// hybrid score; both fitted on this FAQ.
    words_calibration: Calibration,
    meaning_calibration: Option<Calibration>,
    /// The phrasing count the calibrations were fitted on (this index's own, unless reused).
    fitted_on: usize,
}

/// The calibrations an index was fitted with, and on how many phrasings: an index rebuilt for
/// a few more (learned) phrasings keeps them, and is refitted only when the FAQ has drifted
/// (see [`Fitted::drifted`]), off the question path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fitted {
    pub words: Calibration,
    pub meaning: Option<Calibration>,
    pub phrasings: usize,
}

impl Fitted {
    /// A tenth more or fewer phrasings than the fit saw (at least 20): time to refit.
    pub fn drifted(&self, phrasings: usize) -> bool {
        phrasings.abs_diff(self.phrasings) >= (self.phrasings / 10).max(20)
    }
}

/// The texts an index embeds, in the order [`FaqIndex::build`] expects their vectors.
pub fn phrasing_texts(entries: &[FaqEntry]) -> Vec<String> {
    entries.iter().flat_map(|e| e.phrasings().map(String::from)).collect()
}

impl FaqIndex {
    /// Builds the index and fits its calibration on it. `vectors`, when given, holds one
    /// embedding per [`phrasing_texts`] entry.
    pub fn build(entries: Vec<FaqEntry>, vectors: Option<Vec<Vec<f32>>>) -> Result<Self, VectorCountMismatch> {
        Self::build_with(entries, vectors, None)
    }

    /// Builds the index with `fitted`'s calibrations when given (they must be for the same
    /// kind of index: with vectors or without), else fits them.
    pub fn build_with(entries: Vec<FaqEntry>, vectors: Option<Vec<Vec<f32>>>, fitted: Option<Fitted>) -> Result<Self, VectorCountMismatch> {
        let phrasings = entries.iter().map(|e| e.phrasings().count()).sum::<usize>();
        if vectors.as_ref().is_some_and(|v| v.len() != phrasings) {
            return Err(VectorCountMismatch { vectors: vectors.map(|v| v.len()).unwrap_or_default(), phrasings });
        }
        let analyzer = text::analyzer();
        let mut phrasing_number = 0..;
        let mut docs = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for phrasing in e.phrasings() {
                docs.push(Doc { entry: i, phrasing: phrasing_number.next(), tokens: analyzer.tokens(phrasing) });
            }
            docs.push(Doc { entry: i, phrasing: None, tokens: analyzer.tokens(&format!("{} {}", e.answer, e.tags.join(" "))) });
        }
        let full_text = Bm25::new(docs.iter().map(|d| d.tokens.as_slice()));
        let mut df: HashMap<String, usize> = HashMap::new();
        for d in docs.iter().filter(|d| d.phrasing.is_some()) {
            let mut unique: Vec<&String> = d.tokens.iter().collect();
            unique.sort();
            unique.dedup();
            for t in unique {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        let idf = df.into_iter().map(|(t, n)| (t, bm25::idf(phrasings, n))).collect();
        let mut index = FaqIndex {
            entries,
            docs,
            full_text,
            analyzer,
            idf,
            phrasing_count: phrasings,
            vectors,
            words_calibration: Calibration::WORDS,
            meaning_calibration: None,
            fitted_on: phrasings,
        };
        match fitted.filter(|f| f.meaning.is_some() == index.is_semantic()) {
            Some(f) => {
                index.words_calibration = f.words;
                index.meaning_calibration = f.meaning;
                index.fitted_on = f.phrasings;
            }
            None => {
                index.words_calibration = Calibration::fit(Calibration::WORDS, &index.held_out_outcomes(false));
                if index.is_semantic() {
                    index.meaning_calibration = Some(Calibration::fit(Calibration::MEANING, &index.held_out_outcomes(true)));
                }
            }
        }
        Ok(index)
    }

    /// The calibrations in use, and the phrasing count they were fitted on.
    pub fn fitted(&self) -> Fitted {
        Fitted { words: self.words_calibration, meaning: self.meaning_calibration, phrasings: self.fitted_on }
    }

    /// How many phrasings the index holds.
    pub fn phrasing_count(&self) -> usize {
        self.phrasing_count
    }

    /// The calibration this FAQ's confidences come from: the hybrid one when it has vectors.
    pub fn calibration(&self) -> Calibration {
        self.meaning_calibration.unwrap_or(self.words_calibration)
    }

    /// Asks phrasings back with their answer held out (see `calibration`): each with itself
    /// removed, where its entry should win, and each with its entry removed, where any answer
    /// is wrong. Returns the best match's evidence (by meaning too when `by_meaning`) and
    /// whether it was right.
    fn held_out_outcomes(&self, by_meaning: bool) -> Vec<(Evidence, bool)> {
        let vectors = self.vectors.as_ref().filter(|_| by_meaning);
        let askable: Vec<usize> = (0..self.docs.len()).filter(|&s| self.docs[s].phrasing.is_some()).collect();
        let stride = askable.len().div_ceil(CALIBRATION_QUESTIONS).max(1);
        let mut outcomes = Vec::new();
        let mut repeats = 0;
        for &slot in askable.iter().step_by(stride) {
            let doc = &self.docs[slot];
            let vector = vectors.zip(doc.phrasing).map(|(v, p)| v[p].as_slice());
            // A repeat question: its entry can still be found only through another phrasing.
            if !self.entries[doc.entry].alternatives.is_empty() {
                let ranked = self.ranked(&doc.tokens, vector, HeldOut::Doc(slot));
                if let Some(evidence) = evidence(&ranked) {
                    outcomes.push((evidence, ranked[0].entry == doc.entry));
                    repeats += 1;
                }
            }
            // Finding nothing at all is the right silence; it counts as a wrong answer at no score.
            let nothing = Evidence { score: 0.0, lead: 0.0 };
            let evidence = evidence(&self.ranked(&doc.tokens, vector, HeldOut::Entry(doc.entry))).unwrap_or(nothing);
            outcomes.push((evidence, false));
        }
        if repeats < MIN_REPEAT_QUESTIONS {
            outcomes.clear();
        }
        outcomes
    }

    /// Whether entries are also matched by meaning.
    pub fn is_semantic(&self) -> bool {
        self.vectors.is_some()
    }

    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    /// The phrasings' unit vectors, in [`phrasing_texts`] order (with a model).
    pub fn phrasing_vectors(&self) -> Option<&[Vec<f32>]> {
        self.vectors.as_deref()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn idf(&self, term: &str) -> f32 {
        self.idf.get(term).copied().unwrap_or_else(|| bm25::idf(self.phrasing_count, 0))
    }

    /// The best `limit` entries for `query`, most confident first. `query_vector` is the
    /// query's embedding; without it (or without entry vectors) only words are compared.
    pub fn search(&self, query: &str, query_vector: Option<&[f32]>, limit: usize) -> Vec<FaqMatch> {
        let query_tokens = self.analyzer.tokens(query);
        let ranked = self.ranked(&query_tokens, query_vector, HeldOut::Nothing);
        let calibration = match (self.meaning_calibration, query_vector) {
            (Some(meaning), Some(_)) => meaning,
            _ => self.words_calibration,
        };
        ranked
            .iter()
            .take(limit)
            .enumerate()
            .map(|(rank, found)| {
                let calibrated = calibration.confidence(evidence_at(&ranked, rank));
                let confidence = if found.by_phrasing { calibrated } else { calibrated.min(found.score) };
                FaqMatch { entry: self.entries[found.entry].clone(), confidence }
            })
            .collect()
    }

    /// Every entry related to the query with its score, best first.
    fn ranked(&self, query_tokens: &[String], query_vector: Option<&[f32]>, held: HeldOut) -> Vec<Scored> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let lexical = self.lexical_scores(query_tokens, held);
        let scores: Vec<Scored> = match (&self.vectors, query_vector) {
            (Some(vectors), Some(q)) => {
                let mut cosines: Vec<Vec<f32>> = vec![Vec::new(); self.entries.len()];
                for (slot, doc) in self.docs.iter().enumerate() {
                    if let Some(p) = doc.phrasing.filter(|_| !held.hides(slot, doc)) {
                        cosines[doc.entry].push(ranking::dot(q, &vectors[p]));
                    }
                }
                cosines
                    .iter_mut()
                    .enumerate()
                    .map(|(entry, c)| {
                        let words = lexical.get(&entry).map(|s| s.score).unwrap_or(0.0);
                        Scored { entry, score: ranking::hybrid_score(ranking::semantic_score(c), words), by_phrasing: true }
                    })
                    .collect()
            }
            _ => lexical.into_values().collect(),
        };
        let mut ranked: Vec<Scored> = scores.into_iter().filter(|s| s.score > 0.0).collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        ranked
    }

    /// The single best entry, if any relates to the query.
    pub fn best(&self, query: &str, query_vector: Option<&[f32]>) -> Option<FaqMatch> {
        self.search(query, query_vector, 1).into_iter().next()
    }

    /// Full-text confidence of every entry sharing a word with the query.
    fn lexical_scores(&self, query_tokens: &[String], held: HeldOut) -> HashMap<usize, Scored> {
        let mut best: HashMap<usize, Scored> = HashMap::new();
        if query_tokens.is_empty() {
            return best;
        }
        // Ask for as many more candidates as are hidden, so held-out questions see as many.
        let hidden = match held {
            HeldOut::Nothing => 0,
            HeldOut::Doc(_) => 1,
            HeldOut::Entry(e) => self.docs.iter().filter(|d| d.entry == e).count(),
        };
        for slot in self.candidate_slots(query_tokens, CANDIDATES + hidden) {
            let doc = &self.docs[slot];
            if held.hides(slot, doc) {
                continue;
            }
            let weight = |t: &str| self.idf(t);
            let confidence = match doc.phrasing {
                None => BODY_WEIGHT * text::weighted_coverage(query_tokens, &doc.tokens, weight),
                Some(_) => text::weighted_cosine(query_tokens, &doc.tokens, weight),
            };
            let e = best.entry(doc.entry).or_insert(Scored { entry: doc.entry, score: 0.0, by_phrasing: false });
            e.score = e.score.max(confidence);
            e.by_phrasing |= doc.phrasing.is_some() && confidence > 0.0;
        }
        best
    }

    fn candidate_slots(&self, query_tokens: &[String], limit: usize) -> Vec<usize> {
        self.full_text.top(query_tokens, limit)
    }
}

/// The best match's evidence in a ranking: its score and its lead over the runner-up.
fn evidence(ranked: &[Scored]) -> Option<Evidence> {
    (!ranked.is_empty()).then(|| evidence_at(ranked, 0))
}

/// The evidence for the entry at `rank` (which must exist): its score, and its lead over the
/// best of the others (negative below the top: it trails the best match).
fn evidence_at(ranked: &[Scored], rank: usize) -> Evidence {
    let score = ranked[rank].score;
    let rival = if rank == 0 { ranked.get(1) } else { ranked.first() };
    Evidence { score, lead: score - rival.map(|r| r.score).unwrap_or(0.0) }
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
        assert!(m.confidence > 0.95, "{}", m.confidence);
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
        assert!(noisy < crate::config::DEFAULT_THRESHOLD, "{noisy}");
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
        assert!(m[1].confidence < m[0].confidence);
        // The same closeness with no rival nearby is a confident answer.
        let alone = FaqIndex::build(entries, Some(vec![at(30.0), at(150.0)])).unwrap();
        let sure = alone.best("q", Some(&at(2.0))).unwrap().confidence;
        assert!(sure > 0.99, "{sure}");
        assert!(m[0].confidence < sure - 0.05, "{m:?}");
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

    /// `entries` entries of `phrasings` phrasings each: an entry's phrasings are unit vectors
    /// scattered around its own axis (cosine about `spread` to it), distinct entries orthogonal.
    fn clustered_faq(entries: usize, phrasings: usize, spread: f32) -> (Vec<FaqEntry>, Vec<Vec<f32>>) {
        let dim = entries + 8;
        let mut seed = 7u64;
        let mut noise = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut faq = Vec::new();
        let mut vectors = Vec::new();
        for e in 0..entries {
            let alts: Vec<String> = (1..phrasings).map(|p| format!("alt{p}")).collect();
            let alt_refs: Vec<&str> = alts.iter().map(String::as_str).collect();
            faq.push(entry(&format!("e{e}"), &format!("question {e}"), &alt_refs, "a"));
            for _ in 0..phrasings {
                let mut v: Vec<f32> = (0..dim).map(|d| if d >= entries { noise() } else { 0.0 }).collect();
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                let side = (1.0 - spread * spread).sqrt();
                v.iter_mut().for_each(|x| *x *= side / n);
                v[e] = spread;
                vectors.push(v);
            }
        }
        (faq, vectors)
    }

    #[test]
    fn a_small_faq_keeps_the_prior_calibration() {
        let (faq, vectors) = clustered_faq(5, 3, 0.9);
        assert_eq!(FaqIndex::build(faq, Some(vectors)).unwrap().calibration(), Calibration::MEANING);
    }

    #[test]
    fn an_faq_of_single_phrasings_keeps_the_prior_calibration() {
        // 300 entries and no alternatives: nothing shows when an answer is right.
        let (faq, vectors) = clustered_faq(300, 1, 0.9);
        assert_eq!(FaqIndex::build(faq, Some(vectors)).unwrap().calibration(), Calibration::MEANING);
    }

    #[test]
    fn a_large_faq_is_calibrated_on_its_own_phrasings() {
        // Phrasings of one entry are close (cosine ~0.8 to each other), entries unrelated: asked
        // back, a phrasing finds its entry with a clear lead, and with its entry removed finds
        // nothing close. The fit must trust such a lead more than the prior does.
        let (faq, vectors) = clustered_faq(60, 4, 0.9);
        let query = vectors[1].clone();
        let index = FaqIndex::build(faq, Some(vectors)).unwrap();
        let fitted = index.calibration();
        assert_ne!(fitted, Calibration::MEANING);
        let evidence = Evidence { score: 0.75, lead: 0.6 };
        assert!(fitted.confidence(evidence) > Calibration::MEANING.confidence(evidence), "{fitted:?}");
        let m = index.best("alt1", Some(&query)).unwrap();
        assert_eq!(m.entry.id, "e0");
        assert!(m.confidence > 0.95, "{}", m.confidence);
    }
}
