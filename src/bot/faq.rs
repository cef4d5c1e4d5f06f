//! The FAQ the bot answers from, as one use case: loaded from the store into a `FaqIndex`
//! (the pure ranking is `domain::faq_index`), its phrasings embedded by the model with their
//! vectors cached in the store, rebuilt when any instance changes the FAQ or the model arrives,
//! and questions matched against it. The model runs on blocking threads so the async workers
//! stay responsive.

use super::{Bot, BotResult};
use crate::domain::faq::FaqEntry;
use crate::domain::faq_index::{FaqIndex, FaqMatch, phrasing_texts};
use crate::semantic::Embedder;
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not build the FAQ index")]
    Index(#[from] tantivy::TantivyError),
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
    pub(super) async fn load(store: &Store, embedder: Option<&Arc<Embedder>>) -> BotResult<LoadedFaq> {
        let version = store.faq_version().await?;
        let index = Arc::new(build_index(store, embedder, store.faq_entries().await?).await?);
        Ok(LoadedFaq { version, with_model: embedder.is_some(), index })
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
    pub async fn faq(&self) -> BotResult<Arc<FaqIndex>> {
        let version = self.store.faq_version().await?;
        let embedder = self.embedder();
        {
            let loaded = self.shared.faq.read().expect("faq lock poisoned");
            if loaded.version == version && loaded.with_model == embedder.is_some() {
                return Ok(loaded.index.clone());
            }
        }
        let index = Arc::new(build_index(&self.store, embedder, self.store.faq_entries().await?).await?);
        *self.shared.faq.write().expect("faq lock poisoned") = LoadedFaq { version, with_model: embedder.is_some(), index: index.clone() };
        Ok(index)
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

/// Builds the index over `entries`, embedding (and caching) any phrasing not yet cached.
/// If the model fails, the index is built on words alone and the failure is logged.
async fn build_index(store: &Store, embedder: Option<&Arc<Embedder>>, entries: Vec<FaqEntry>) -> Result<FaqIndex, IndexError> {
    let vectors = match embedder {
        Some(model) => match phrasing_vectors(store, model, &entries).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "embedding the FAQ failed; matching on words only");
                None
            }
        },
        None => None,
    };
    let index = tokio::task::spawn_blocking(move || FaqIndex::build(entries, vectors))
        .await
        .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))??;
    let c = index.calibration();
    tracing::info!(
        entries = index.entries().len(),
        semantic = index.is_semantic(),
        score_weight = c.score_weight,
        lead_weight = c.lead_weight,
        bias = c.bias,
        "FAQ index built, confidence calibrated on its phrasings"
    );
    Ok(index)
}

/// Every phrasing's vector: from the store's cache, else embedded now and cached.
async fn phrasing_vectors(store: &Store, model: &Arc<Embedder>, entries: &[FaqEntry]) -> anyhow::Result<Vec<Vec<f32>>> {
    let texts = phrasing_texts(entries);
    let mut vectors: Vec<Option<Vec<f32>>> = Vec::with_capacity(texts.len());
    for t in &texts {
        vectors.push(store.embedding(model.id(), t).await?.filter(|v| v.len() == model.dimension()));
    }
    let missing: Vec<usize> = (0..texts.len()).filter(|&i| vectors[i].is_none()).collect();
    if !missing.is_empty() {
        let batch: Vec<String> = missing.iter().map(|&i| texts[i].clone()).collect();
        let started = std::time::Instant::now();
        let computed = embed_blocking(model, batch).await?;
        tracing::info!(phrasings = missing.len(), ms = started.elapsed().as_millis() as u64, "embedded FAQ phrasings");
        for (&i, v) in missing.iter().zip(computed) {
            store.save_embedding(model.id(), &texts[i], &v).await?;
            vectors[i] = Some(v);
        }
    }
    Ok(vectors.into_iter().map(|v| v.unwrap_or_default()).collect())
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
            tracing::error!(error = %e, "embedding a question failed; matching on words only");
            None
        }
    }
}
