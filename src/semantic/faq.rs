//! Building and querying the FAQ index with embeddings: vectors come from the cache when
//! present, and the model runs on blocking threads so the async workers stay responsive.

use super::Embedder;
use crate::domain::faq::FaqEntry;
use crate::domain::faq_index::{FaqIndex, phrasing_texts};
use crate::store::{Store, StoreError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not build the FAQ index")]
    Index(#[from] tantivy::TantivyError),
}

/// Builds the index over `entries`, embedding (and caching) any phrasing not yet cached.
/// If the model fails, the index is built on words alone and the failure is logged.
pub async fn build_index(store: &Store, embedder: Option<&Arc<Embedder>>, entries: Vec<FaqEntry>) -> Result<FaqIndex, IndexError> {
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
pub async fn embed_query(embedder: Option<&Arc<Embedder>>, text: &str) -> Option<Vec<f32>> {
    let model = embedder?;
    match embed_blocking(model, vec![text.to_string()]).await {
        Ok(mut v) => v.pop(),
        Err(e) => {
            tracing::error!(error = %e, "embedding a question failed; matching on words only");
            None
        }
    }
}
