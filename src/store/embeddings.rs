//! Cached sentence embeddings, keyed by model and text, so FAQ vectors are computed once.

use super::unit::OnStore;
use super::{Store, StoreError, StoreResult};
use sha2::{Digest, Sha256};
use sqlx::Row;

pub(super) fn text_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(b: &[u8]) -> StoreResult<Vec<f32>> {
    if !b.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt(format!("embedding of {} bytes", b.len())));
    }
    Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

impl Store {
    /// The cached vector of `text` under `model`, if any.
    pub async fn embedding(&self, model: &str, text: &str) -> StoreResult<Option<Vec<f32>>> {
        let row = sqlx::query("SELECT vector FROM embeddings WHERE model = $1 AND text_hash = $2")
            .bind(model)
            .bind(text_hash(text))
            .fetch_optional_on(self)
            .await?;
        row.map(|r| from_bytes(&r.try_get::<Vec<u8>, _>("vector")?)).transpose()
    }

    pub async fn save_embedding(&self, model: &str, text: &str, vector: &[f32]) -> StoreResult<()> {
        sqlx::query("INSERT INTO embeddings (model, text_hash, vector) VALUES ($1, $2, $3) ON CONFLICT (model, text_hash) DO NOTHING")
            .bind(model)
            .bind(text_hash(text))
            .bind(to_bytes(vector))
            .execute_on(self)
            .await?;
        Ok(())
    }
}
