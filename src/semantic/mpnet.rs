//! The MPNet encoder's forward pass (all-mpnet-base-v2), beside BERT's (`super::bert`).
//!
//! An MPNet layer does BERT's arithmetic (`super::layers`, shared), under other tensor names.
//! What differs is around the layers:
//! - no token types: a token's embedding is its word's plus its position's;
//! - positions are counted as RoBERTa counts them, from the padding id on: the first token
//!   (`<s>`) has position `pad_token_id + 1`, the next one more, and so on;
//! - every layer adds one and the same relative-position bias to its attention scores: each
//!   head has a learned value per bucket of the distance from the query to the key (32 buckets
//!   by default, half for keys before the query and half after; distances below 8 each their
//!   own bucket, longer ones in buckets that widen logarithmically up to 128). The bias depends
//!   only on the width, so it is made once per forward pass, not once per layer.

use candle_core::{Module, Result, Tensor, bail};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use serde::Deserialize;

use super::bert;
use super::layers::{EncoderLayer, HiddenAct, LayerNames, layer_norm, padding_bias};

/// The fields of an MPNet model's `config.json` the encoder reads: BERT's, and two of its own.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub base: bert::Config,
    #[serde(default = "default_pad_token_id")]
    pub pad_token_id: usize,
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
}

fn default_pad_token_id() -> usize {
    1
}

fn default_buckets() -> usize {
    32
}

/// The distance from which MPNet's distance buckets stop widening (fixed in the model, not in
/// its config).
const MAX_DISTANCE: usize = 128;

/// Where an MPNet layer's attention keeps its tensors.
const LAYER_NAMES: LayerNames = LayerNames {
    query: "attention.attn.q",
    key: "attention.attn.k",
    value: "attention.attn.v",
    attention_output: "attention.attn.o",
    attention_norm: "attention.LayerNorm",
};

pub struct MpnetEncoder {
    words: Embedding,
    /// The position embeddings from `pad_token_id + 1` on: row `i` is the `i`th token's.
    positions: Tensor,
    norm: LayerNorm,
    layers: Vec<EncoderLayer>,
    activation: HiddenAct,
    /// `[bucket][head]`: each head's bias for each distance bucket.
    relative_bias: Vec<f32>,
    heads: usize,
    buckets: usize,
}

impl MpnetEncoder {
    /// Loads the weights of an MPNet model (tensor names as Hugging Face writes them, with or
    /// without an `mpnet.` prefix).
    pub fn load(vb: VarBuilder, config: &Config, int8: bool) -> Result<MpnetEncoder> {
        let vb = if vb.contains_tensor("mpnet.embeddings.word_embeddings.weight") { vb.pp("mpnet") } else { vb };
        let base = &config.base;
        let hidden = base.hidden_size;
        let first = config.pad_token_id + 1;
        if first >= base.max_position_embeddings {
            bail!("pad_token_id {} leaves no position below max_position_embeddings {}", config.pad_token_id, base.max_position_embeddings);
        }
        let embeddings = vb.pp("embeddings");
        let words = Embedding::new(embeddings.get((base.vocab_size, hidden), "word_embeddings.weight")?, hidden);
        let positions = embeddings.get((base.max_position_embeddings, hidden), "position_embeddings.weight")?.narrow(
            0,
            first,
            base.max_position_embeddings - first,
        )?;
        let norm = layer_norm(embeddings.pp("LayerNorm"), hidden, base.layer_norm_eps)?;
        let encoder = vb.pp("encoder");
        let layers = base.load_layers(encoder.clone(), &LAYER_NAMES, int8)?;
        let (heads, buckets) = (base.num_attention_heads, config.relative_attention_num_buckets);
        if buckets < 4 || !buckets.is_multiple_of(4) {
            bail!("relative_attention_num_buckets {buckets} should be a multiple of 4");
        }
        let relative_bias = encoder.get((buckets, heads), "relative_attention_bias.weight")?.flatten_all()?.to_vec1::<f32>()?;
        Ok(MpnetEncoder { words, positions, norm, layers, activation: base.hidden_act, relative_bias, heads, buckets })
    }

    /// The last hidden states, `(rows, width, hidden)`, for token ids `(rows, width)` and, when
    /// some rows are padded (at their end), their attention mask (1 for a real token, 0 for
    /// padding); as `BertEncoder::forward`.
    pub fn forward(&self, ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (_, width) = ids.dims2()?;
        if width > self.positions.dim(0)? {
            bail!("{width} tokens are more than the model's {} positions", self.positions.dim(0)?);
        }
        // Padding sits after the real tokens, so their positions are counted from the start
        // whatever the row's length; the padded tokens' own positions are never attended to.
        let positions = self.positions.narrow(0, 0, width)?;
        let mut hidden = self.norm.forward(&self.words.forward(ids)?.broadcast_add(&positions)?)?;
        let position_bias = self.position_bias(width, ids.device())?;
        let bias = match mask.map(padding_bias).transpose()?.flatten() {
            Some(padding) => position_bias.broadcast_add(&padding)?,
            None => position_bias,
        };
        for layer in &self.layers {
            hidden = layer.forward(&hidden, Some(&bias), self.activation)?;
        }
        Ok(hidden)
    }

    /// `(1, heads, width, width)`: what every layer adds to head `h`'s score of query `i` for
    /// key `j`.
    fn position_bias(&self, width: usize, device: &candle_core::Device) -> Result<Tensor> {
        let buckets: Vec<usize> =
            (0..width * width).map(|at| bucket(at as i64 % width as i64 - at as i64 / width as i64, self.buckets, MAX_DISTANCE)).collect();
        let values: Vec<f32> = (0..self.heads).flat_map(|head| buckets.iter().map(move |&b| self.relative_bias[b * self.heads + head])).collect();
        Tensor::from_vec(values, (1, self.heads, width, width), device)
    }
}

/// The bucket of a key `relative` tokens after its query (negative: before it). Keys before
/// the query (and the query itself) take the first half of the buckets, keys after it the
/// second; in each half, distances below a quarter of the buckets have a bucket each, and the
/// rest share the remaining ones on a logarithmic scale up to `max_distance` (the last bucket
/// takes everything beyond). Computed in f32, as the model was trained.
fn bucket(relative: i64, buckets: usize, max_distance: usize) -> usize {
    let half = buckets / 2;
    let exact = half / 2;
    let offset = if relative > 0 { half } else { 0 };
    let distance = relative.unsigned_abs() as usize;
    if distance < exact {
        return offset + distance;
    }
    let spread = (distance as f32 / exact as f32).ln() / (max_distance as f32 / exact as f32).ln() * (half - exact) as f32;
    offset + (exact + spread as usize).min(half - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hugging Face's MPNet buckets for relative positions -127..=127, as (bucket, how many in a
    /// row), from transformers' own function (32 buckets, distance 128).
    const REFERENCE_BUCKETS: [(usize, usize); 31] = [
        (15, 37),
        (14, 27),
        (13, 18),
        (12, 14),
        (11, 9),
        (10, 7),
        (9, 4),
        (8, 4),
        (7, 1),
        (6, 1),
        (5, 1),
        (4, 1),
        (3, 1),
        (2, 1),
        (1, 1),
        (0, 1),
        (17, 1),
        (18, 1),
        (19, 1),
        (20, 1),
        (21, 1),
        (22, 1),
        (23, 1),
        (24, 4),
        (25, 4),
        (26, 7),
        (27, 9),
        (28, 14),
        (29, 18),
        (30, 27),
        (31, 37),
    ];

    #[test]
    fn distance_buckets_are_the_reference_implementations() {
        let expected: Vec<usize> = REFERENCE_BUCKETS.iter().flat_map(|&(b, n)| std::iter::repeat_n(b, n)).collect();
        let ours: Vec<usize> = (-127..=127).map(|relative| bucket(relative, 32, MAX_DISTANCE)).collect();
        assert_eq!(ours, expected);
        assert_eq!(bucket(-1000, 32, MAX_DISTANCE), 15, "beyond the longest distance: the last bucket");
        assert_eq!(bucket(1000, 32, MAX_DISTANCE), 31);
    }

    #[test]
    fn an_mpnet_config_reads_with_bert_fields_and_its_own() {
        let json = r#"{"architectures": ["MPNetForMaskedLM"], "model_type": "mpnet", "vocab_size": 30527, "hidden_size": 768,
            "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
            "max_position_embeddings": 514, "layer_norm_eps": 1e-05, "pad_token_id": 1, "relative_attention_num_buckets": 32}"#;
        let c: Config = serde_json::from_str(json).unwrap();
        assert_eq!((c.base.hidden_size, c.base.num_hidden_layers, c.pad_token_id, c.relative_attention_num_buckets), (768, 12, 1, 32));
        assert_eq!(c.base.layer_norm_eps, 1e-5);
    }
}
