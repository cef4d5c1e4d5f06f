//! Sentence embeddings with all-MiniLM-L6-v2 or all-mpnet-base-v2 (or any BERT or MPNet
//! sentence-transformer laid out the same way), run by candle on the CPU: mean-pooled,
//! L2-normalised, so a dot product is the cosine similarity.

use super::bert::{self, BertEncoder};
use super::mpnet::{self, MpnetEncoder};
use anyhow::{Context, anyhow, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;
use std::path::Path;
use tokenizers::{Tokenizer, TruncationParams};

/// Tokens read per text; questions are far shorter, and it bounds the cost of a pasted log.
const MAX_TOKENS: usize = 128;
/// Texts embedded in one forward pass at most (4–8 measured fastest for int8 on two cores).
const BATCH: usize = 8;

/// The encoder `config.json`'s `model_type` names.
enum Encoder {
    Bert(BertEncoder),
    Mpnet(MpnetEncoder),
}

impl Encoder {
    /// Reads the architecture from `config.json` ("bert" when it does not say) and loads its
    /// weights; also returns the width of its vectors.
    fn load(config_json: &str, vb: VarBuilder, int8: bool) -> anyhow::Result<(Encoder, usize)> {
        #[derive(serde::Deserialize)]
        struct Architecture {
            model_type: Option<String>,
        }
        let architecture: Architecture = serde_json::from_str(config_json).context("parsing config.json")?;
        match architecture.model_type.as_deref().unwrap_or("bert") {
            "bert" => {
                let config: bert::Config = serde_json::from_str(config_json).context("parsing config.json")?;
                let model = BertEncoder::load(vb, &config, int8).context("loading the BERT weights")?;
                Ok((Encoder::Bert(model), config.hidden_size))
            }
            "mpnet" => {
                let config: mpnet::Config = serde_json::from_str(config_json).context("parsing config.json")?;
                let model = MpnetEncoder::load(vb, &config, int8).context("loading the MPNet weights")?;
                Ok((Encoder::Mpnet(model), config.base.hidden_size))
            }
            other => bail!("config.json: model_type {other:?} is not one supportbot runs (\"bert\" or \"mpnet\")"),
        }
    }

    fn forward(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Encoder::Bert(model) => model.forward(ids, None),
            Encoder::Mpnet(model) => model.forward(ids, None),
        }
    }
}

pub struct Embedder {
    model: Encoder,
    tokenizer: Tokenizer,
    id: String,
    dimension: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A stable fingerprint of the weights, so cached vectors are tied to the exact model: the
/// first 16 hex digits of their SHA-256, and their length.
fn fingerprint(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{}", bytes.len())
}

impl Embedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`; the model is
    /// named after the directory.
    /// With `int8`, the matrix products run in int8 where the CPU can (`super::int8`); the id
    /// then says so, so vectors cached from one are never mixed with the other's.
    pub fn load(dir: &Path, int8: bool) -> anyhow::Result<Embedder> {
        Self::load_named(dir, dir.file_name().and_then(|n| n.to_str()).unwrap_or("model"), int8)
    }

    /// Like [`Embedder::load`], naming the model `name` (a hub snapshot's directory is a commit
    /// hash, so the fetched all-MiniLM-L6-v2 is named after its repository instead: the same
    /// weights then get the same id, and share cached vectors, wherever they were loaded from).
    pub fn load_named(dir: &Path, name: &str, int8: bool) -> anyhow::Result<Embedder> {
        let read = |name: &str| dir.join(name);
        let config = std::fs::read_to_string(read("config.json")).with_context(|| format!("reading {}", read("config.json").display()))?;
        let mut tokenizer = Tokenizer::from_file(read("tokenizer.json")).map_err(|e| anyhow!("loading tokenizer.json: {e}"))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| anyhow!("tokenizer truncation: {e}"))?;
        tokenizer.with_padding(None); // see `embed_in_pool`: batches are made of equal lengths
        let weights = read("model.safetensors");
        let bytes = std::fs::read(&weights).with_context(|| format!("reading {}", weights.display()))?;
        let id = format!("{name}:{}", fingerprint(&bytes));
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).context("reading model.safetensors")?;
        let int8 = match (int8, super::int8::supported()) {
            (true, false) => {
                tracing::info!("this CPU has no AVX-512 VNNI: the sentence-embedding model runs in f32 ([model] int8 applies to CPUs that have it)");
                false
            }
            (wanted, _) => wanted,
        };
        let id = if int8 { format!("{id}+int8") } else { id };
        let (model, dimension) = Encoder::load(&config, vb, int8)?;
        Ok(Embedder { model, tokenizer, id, dimension })
    }

    /// Names the exact model; cached vectors are keyed by it.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Embeds texts (CPU-heavy: call from `spawn_blocking`). The work runs inside candle's own
    /// thread pool, so the matrix products' parallel parts start on warm workers of that pool
    /// instead of being handed across from this thread.
    pub fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        Device::Cpu.with_context(|| self.embed_in_pool(texts))
    }

    /// Texts of the same token count go through the model together, [`BATCH`] at a time, and
    /// the batches run in parallel. Nothing is padded, so a text's vector does not depend on
    /// the texts beside it (with padding, int8's rounding of activations turned the last bits
    /// the padded shapes change into visible differences). Parallel batches keep both cores
    /// busy through the steps between matrix products, which run on the calling thread.
    fn embed_in_pool(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| anyhow!("tokenizing: {e}"))?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let batches: Vec<&[usize]> = order.chunk_by(|&a, &b| encodings[a].len() == encodings[b].len()).flat_map(|same| same.chunks(BATCH)).collect();
        let vectors: Vec<Vec<Vec<f32>>> = batches
            .par_iter()
            .map(|batch| self.embed_batch(&batch.iter().map(|&i| &encodings[i]).collect::<Vec<_>>()))
            .collect::<anyhow::Result<_>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for (slot, vector) in batches.iter().flat_map(|b| b.iter()).zip(vectors.into_iter().flatten()) {
            out[*slot] = vector;
        }
        Ok(out)
    }

    /// Mean-pooled, unit-length vectors of encodings that all have the same length.
    fn embed_batch(&self, encodings: &[&tokenizers::Encoding]) -> anyhow::Result<Vec<Vec<f32>>> {
        let rows = encodings.len();
        let width = encodings.first().map(|e| e.len()).unwrap_or(0);
        let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().iter().copied()).collect();
        let ids = Tensor::from_vec(ids, (rows, width), &Device::Cpu)?;
        let hidden = self.model.forward(&ids)?; // (rows, width, dim); nothing padded
        let mean = hidden.mean(1)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

/// The model directory tests use: `TEST_MODEL_DIR`, set by `.ci/run` after unpacking the model.
pub fn test_model_dir() -> Option<std::path::PathBuf> {
    test_dir("TEST_MODEL_DIR")
}

/// The all-mpnet-base-v2 directory tests of the MPNet encoder use: `TEST_MPNET_DIR`, set by
/// `.ci/run` after installing it.
pub fn test_mpnet_dir() -> Option<std::path::PathBuf> {
    test_dir("TEST_MPNET_DIR")
}

fn test_dir(variable: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(variable).map(std::path::PathBuf::from).filter(|p| p.join("model.safetensors").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
    fn int8_vectors_point_where_the_f32_ones_do_and_are_cached_apart() {
        let dir = test_model_dir().expect("TEST_MODEL_DIR must name an unpacked all-MiniLM-L6-v2");
        let exact = Embedder::load(&dir, false).unwrap();
        assert!(!exact.id().ends_with("+int8"), "{}", exact.id());
        if super::super::int8::skipped_without_vnni() {
            return; // the f32 half above still ran
        }
        let int8 = Embedder::load(&dir, true).unwrap();
        assert_eq!(int8.id(), format!("{}+int8", exact.id()), "vectors of the two are cached under different ids");
        let texts = [
            "my card payment was declined twice",
            "How do I reset my password?",
            "ok",
            "I was charged a fee when I topped up with my card, why is that and can I get it back?",
        ];
        let (a, b) = (exact.embed(&texts).unwrap(), int8.embed(&texts).unwrap());
        for ((x, y), text) in a.iter().zip(&b).zip(texts) {
            let cosine: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
            assert!(cosine > 0.99, "{text:?}: cosine {cosine}");
        }
    }
}
