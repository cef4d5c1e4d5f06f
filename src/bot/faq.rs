//! The FAQ the bot answers from, as one use case: loaded from the store into a `FaqIndex`
//! (the pure ranking is `domain::faq_index`), its phrasings embedded by the model with their
//! vectors cached in the store, rebuilt when any instance changes the FAQ or the model arrives,
//! and questions matched against it. The model runs on blocking threads so the async workers
//! stay responsive.

use super::{Bot, BotResult};
use crate::domain::faq::FaqEntry;
use crate::domain::faq_index::{FaqIndex, FaqMatch, Fitted, phrasing_texts};
use crate::domain::learning::{self, LearnPolicy};
use crate::semantic::Embedder;
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not build the FAQ index")]
    Index(#[from] crate::domain::faq_index::VectorCountMismatch),
    #[error("building the FAQ index stopped")]
    Interrupted(#[from] tokio::task::JoinError),
}

/// The index the bot matches on, and what it was built from.
pub(super) struct LoadedFaq {
    pub(super) version: String,
    /// Whether the model was there when the index was built (it may arrive later: see
    /// `attach_embedder`). Not `index.is_semantic()`: an index whose embedding failed falls
    /// back to words, and must not be rebuilt on every question.
    with_model: bool,
    index: Arc<FaqIndex>,
}

impl LoadedFaq {
    /// The store's current FAQ, indexed (on `embedder`'s vectors when there is one).
    pub(super) async fn load(store: &Store, embedder: Option<&Arc<Embedder>>, policy: LearnPolicy, cache: &VectorCache) -> BotResult<LoadedFaq> {
        let version = store.faq_version().await?;
        let index = Arc::new(build_index(store, embedder, indexed_entries(store, policy).await?, cache, None).await?);
        Ok(LoadedFaq { version, with_model: embedder.is_some(), index })
    }
}

/// Every phrasing's vector by text, for the model in use: an index rebuilt because one
/// phrasing was learned embeds (or reads from the store) that one text, not all of them.
#[derive(Default)]
pub(super) struct VectorCache(Mutex<HashMap<String, Arc<Vec<f32>>>>);

impl VectorCache {
    fn get(&self, text: &str) -> Option<Arc<Vec<f32>>> {
        self.0.lock().expect("vector cache lock poisoned").get(text).cloned()
    }

    /// Keeps exactly the vectors of `texts` (those of removed phrasings go).
    fn keep(&self, texts: &[String], vectors: &[Arc<Vec<f32>>]) {
        *self.0.lock().expect("vector cache lock poisoned") = texts.iter().cloned().zip(vectors.iter().cloned()).collect();
    }
}

/// Query embeddings by text, computed outside a transaction so that the database's write lock
/// is not held while the model runs. Small: it only bridges `prepare` and `handle`.
#[derive(Default)]
pub(super) struct QueryVectors(Mutex<HashMap<String, Arc<Vec<f32>>>>);

impl QueryVectors {
    const CAPACITY: usize = 256;

    pub(super) fn get(&self, text: &str) -> Option<Arc<Vec<f32>>> {
        self.0.lock().expect("query vector lock poisoned").get(text).cloned()
    }

    /// Forgets every query (the FAQ changed, or a member asked to be forgotten).
    pub(super) fn clear(&self) {
        self.0.lock().expect("query vector lock poisoned").clear();
    }

    fn put(&self, text: &str, vector: Vec<f32>) {
        let mut map = self.0.lock().expect("query vector lock poisoned");
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(text.to_string(), Arc::new(vector));
    }
}

impl Bot {
    /// Gives a bot that started without a model (it was still being fetched) its model, and
    /// rebuilds the FAQ index on it. A bot that already has a model keeps it.
    pub async fn attach_embedder(&self, embedder: Arc<Embedder>) -> BotResult<()> {
        if self.shared.embedder.set(embedder).is_err() {
            return Ok(());
        }
        self.faq().await.map(|_| ())
    }

    /// The current FAQ index, rebuilt first if any instance changed the FAQ since it was built,
    /// or if the model arrived since.
    ///
    /// When only phrasings changed (the community taught the FAQ, or it forgot), the new index
    /// keeps the old one's calibration: refitting is `refit_faq`'s, run by the scheduler.
    pub async fn faq(&self) -> BotResult<Arc<FaqIndex>> {
        let version = self.store.faq_version().await?;
        let embedder = self.embedder();
        let previous = {
            let loaded = self.shared.faq.read().expect("faq lock poisoned");
            if loaded.version == version && loaded.with_model == embedder.is_some() {
                return Ok(loaded.index.clone());
            }
            loaded.index.clone()
        };
        let entries = indexed_entries(&self.store, self.shared.config.learn).await?;
        let same_entries = entries.len() == previous.entries().len() && entries.iter().zip(previous.entries()).all(|(a, b)| a.id == b.id);
        let fitted = same_entries.then(|| previous.fitted());
        let index = Arc::new(build_index(&self.store, embedder, entries, &self.shared.vectors, fitted).await?);
        *self.shared.faq.write().expect("faq lock poisoned") = LoadedFaq { version, with_model: embedder.is_some(), index: index.clone() };
        // The FAQ changed (on any instance: a member forgotten there, say): the questions
        // remembered for the next match go too; one still wanted is embedded again.
        self.shared.query_vectors.clear();
        Ok(index)
    }

    /// Refits the FAQ's calibration if its phrasings drifted since the last fit (see
    /// `Fitted::drifted`): a periodic job, so that no question waits for it. True when it did.
    pub async fn refit_faq(&self) -> BotResult<bool> {
        let index = self.faq().await?;
        if !index.fitted().drifted(index.phrasing_count()) {
            return Ok(false);
        }
        let version = self.store.faq_version().await?;
        let embedder = self.embedder();
        let entries = indexed_entries(&self.store, self.shared.config.learn).await?;
        let refitted = Arc::new(build_index(&self.store, embedder, entries, &self.shared.vectors, None).await?);
        let mut loaded = self.shared.faq.write().expect("faq lock poisoned");
        // Another change arrived meanwhile: the next question rebuilds on top of this fit.
        let version = if loaded.version == version { version } else { String::new() };
        *loaded = LoadedFaq { version, with_model: embedder.is_some(), index: refitted };
        Ok(true)
    }

    /// The FAQ entries that best match `text`, most confident first.
    pub async fn match_faq(&self, text: &str, limit: usize) -> BotResult<Vec<FaqMatch>> {
        let index = self.faq().await?;
        let vector = self.query_vector(&index, text).await;
        Ok(index.search(text, vector.as_deref(), limit))
    }

    /// Embeds `text` ahead of the unit of work that will match it, if the index reads meaning
    /// and it is not embedded yet (see [`QueryVectors`]).
    pub(super) async fn embed_ahead(&self, index: &FaqIndex, text: &str) {
        if index.is_semantic()
            && self.shared.query_vectors.get(text).is_none()
            && let Some(vector) = embed_query(self.embedder(), text).await
        {
            self.shared.query_vectors.put(text, vector);
        }
    }
}

/// The entries as the index matches them: with their learned phrasings, unless learning is off.
async fn indexed_entries(store: &Store, policy: LearnPolicy) -> Result<Vec<FaqEntry>, StoreError> {
    let entries = store.faq_entries().await?;
    if policy == LearnPolicy::Off {
        return Ok(entries);
    }
    Ok(learning::with_learned(entries, &store.learned_phrasings(None).await?))
}

/// Builds the index over `entries` (with `fitted`'s calibration, else fitting one), embedding
/// (and caching) any phrasing not yet cached. If the model fails, the index is built on words
/// alone and the failure is logged.
async fn build_index(
    store: &Store,
    embedder: Option<&Arc<Embedder>>,
    entries: Vec<FaqEntry>,
    cache: &VectorCache,
    fitted: Option<Fitted>,
) -> Result<FaqIndex, IndexError> {
    let vectors = match embedder {
        Some(model) => match phrasing_vectors(store, model, &entries, cache).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "embedding the FAQ failed; matching on words only");
                None
            }
        },
        None => None,
    };
    let started = std::time::Instant::now();
    let refit = fitted.is_none();
    let index = tokio::task::spawn_blocking(move || FaqIndex::build_with(entries, vectors, fitted)).await??;
    let c = index.calibration();
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        phrasings = index.phrasing_count(),
        refit,
        entries = index.entries().len(),
        semantic = index.is_semantic(),
        score_weight = c.score_weight,
        lead_weight = c.lead_weight,
        bias = c.bias,
        "FAQ index built, confidence calibrated on its phrasings"
    );
    Ok(index)
}

/// Every phrasing's vector: from memory, else the store's cache, else embedded now and cached.
async fn phrasing_vectors(store: &Store, model: &Arc<Embedder>, entries: &[FaqEntry], cache: &VectorCache) -> anyhow::Result<Vec<Vec<f32>>> {
    let texts = phrasing_texts(entries);
    let mut vectors: Vec<Option<Arc<Vec<f32>>>> = Vec::with_capacity(texts.len());
    for t in &texts {
        let cached = match cache.get(t) {
            Some(v) => Some(v),
            None => store.embedding(model.id(), t).await?.map(Arc::new),
        };
        vectors.push(cached.filter(|v| v.len() == model.dimension()));
    }
    let missing: Vec<usize> = (0..texts.len()).filter(|&i| vectors[i].is_none()).collect();
    if !missing.is_empty() {
        let batch: Vec<String> = missing.iter().map(|&i| texts[i].clone()).collect();
        let started = std::time::Instant::now();
        let computed = embed_blocking(model, batch).await?;
        tracing::info!(phrasings = missing.len(), ms = started.elapsed().as_millis() as u64, "embedded FAQ phrasings");
        for (&i, v) in missing.iter().zip(computed) {
            store.save_embedding(model.id(), &texts[i], &v).await?;
            vectors[i] = Some(Arc::new(v));
        }
    }
    let vectors: Vec<Arc<Vec<f32>>> = vectors.into_iter().map(|v| v.unwrap_or_default()).collect();
    cache.keep(&texts, &vectors);
    Ok(vectors.iter().map(|v| v.as_ref().clone()).collect())
}

async fn embed_blocking(model: &Arc<Embedder>, texts: Vec<String>) -> anyhow::Result<Vec<Vec<f32>>> {
    let model = model.clone();
    tokio::task::spawn_blocking(move || model.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>())).await?
}

/// The query's embedding, or None without a model (or if the model fails: logged).
pub(super) async fn embed_query(embedder: Option<&Arc<Embedder>>, text: &str) -> Option<Vec<f32>> {
    let model = embedder?;
    match embed_blocking(model, vec![text.to_string()]).await {
        Ok(mut v) => v.pop(),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "embedding a question failed; matching on words only");
            None
        }
    }
}

/// An FAQ entry's phrasing that another entry already answers with confidence.
pub(super) struct Overlap {
    pub(super) faq_id: String,
    pub(super) phrasing: String,
    pub(super) confidence: f32,
}

/// A recent question that a new entry would answer differently: the entries that answer it
/// before and after (None: no answer).
pub(super) struct Changed {
    pub(super) question: String,
    pub(super) before: Option<String>,
    pub(super) after: Option<String>,
}

/// How many of the community's latest questions a new entry is tried on.
const PREVIEW_QUESTIONS: i64 = 200;

impl Bot {
    /// What adding `new` would do, before it is added: its phrasings that other entries already
    /// answer, and the recent questions whose answer it would change.
    pub(super) async fn preview_entry(&self, new: &FaqEntry) -> BotResult<(Vec<Overlap>, Vec<Changed>)> {
        let current = self.faq().await?;
        let threshold = self.shared.config.threshold;
        let embedder = self.embedder();
        let answer = |index: &FaqIndex, text: &str, vector: Option<&[f32]>| {
            index.best(text, vector).filter(|m| m.confidence >= threshold).map(|m| (m.entry.id, m.confidence))
        };
        let phrasings: Vec<String> = new.phrasings().map(String::from).collect();
        let questions = self.store.recent_question_texts(PREVIEW_QUESTIONS).await?;
        let vectors = match embedder.filter(|_| current.is_semantic()) {
            Some(model) => embed_blocking(model, phrasings.iter().chain(&questions).cloned().collect()).await.ok(),
            None => None,
        };
        let vector = |i: usize| vectors.as_ref().and_then(|v| v.get(i)).map(Vec::as_slice);
        let overlaps = (phrasings.iter().enumerate())
            .filter_map(|(i, p)| answer(&current, p, vector(i)).filter(|(id, _)| *id != new.id).map(|(faq_id, confidence)| (p, faq_id, confidence)))
            .map(|(p, faq_id, confidence)| Overlap { faq_id, phrasing: p.clone(), confidence })
            .collect();
        let mut entries: Vec<FaqEntry> = current.entries().iter().filter(|e| e.id != new.id).cloned().collect();
        entries.push(new.clone());
        let trial = build_index(&self.store, embedder, entries, &self.shared.vectors, None).await?;
        let changed = (questions.iter().enumerate())
            .filter_map(|(i, q)| {
                let v = vector(phrasings.len() + i);
                let (before, after) = (answer(&current, q, v).map(|a| a.0), answer(&trial, q, v).map(|a| a.0));
                (before != after).then(|| Changed { question: q.clone(), before, after })
            })
            .collect();
        Ok((overlaps, changed))
    }
}
