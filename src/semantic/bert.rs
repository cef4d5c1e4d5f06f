//! The BERT encoder's forward pass, written for embedding one question at a time on the CPU.
//!
//! candle-transformers' `BertModel` computes the same numbers (a test holds the two together);
//! this one does less work per question, which is what the answer latency is made of (its layers,
//! shared with MPNet's, are in `super::layers`, which says how).

use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use serde::Deserialize;

use super::layers::{EncoderLayer, HiddenAct, LayerNames, LayerShape, layer_norm, padding_bias};

/// The fields of a BERT model's `config.json` the encoder reads (the Hugging Face names).
/// Our own rather than candle-transformers' `Config`: that crate is a library of every model
/// candle knows, 85 s of a two-core release build (BENCHMARKS.md, "Build time"), for one struct.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: HiddenAct,
    pub max_position_embeddings: usize,
    #[serde(default = "one_token_type")]
    pub type_vocab_size: usize,
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
}

fn one_token_type() -> usize {
    1
}

fn default_layer_norm_eps() -> f64 {
    1e-12
}

impl Config {
    /// The sizes of every layer.
    pub fn layer_shape(&self) -> LayerShape {
        LayerShape {
            hidden: self.hidden_size,
            intermediate: self.intermediate_size,
            heads: self.num_attention_heads,
            layer_norm_eps: self.layer_norm_eps,
        }
    }

    /// The `num_hidden_layers` layers `layer.0`, `layer.1`... below `vb`, named `names`.
    pub fn load_layers(&self, vb: VarBuilder, names: &LayerNames, int8: bool) -> Result<Vec<EncoderLayer>> {
        let shape = self.layer_shape();
        shape.head_size()?;
        (0..self.num_hidden_layers).map(|index| EncoderLayer::load(vb.pp(format!("layer.{index}")), names, shape, int8)).collect()
    }
}

/// Where a BERT layer's attention keeps its tensors.
const LAYER_NAMES: LayerNames = LayerNames {
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    attention_output: "attention.output.dense",
    attention_norm: "attention.output.LayerNorm",
};

pub struct BertEncoder {
    embeddings: Embeddings,
    layers: Vec<EncoderLayer>,
    activation: HiddenAct,
}

struct Embeddings {
    words: Embedding,
    /// Position embeddings plus the embedding of token type 0, the only type a single
    /// sentence has: one addition per token instead of two lookups.
    positions: Tensor,
    norm: LayerNorm,
}

impl BertEncoder {
    /// Loads the weights of a BERT model (tensor names as Hugging Face writes them, with or
    /// without a `bert.` prefix).
    pub fn load(vb: VarBuilder, config: &Config, int8: bool) -> Result<BertEncoder> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") { vb.pp("bert") } else { vb };
        let embeddings = Embeddings::load(vb.pp("embeddings"), config)?;
        let layers = config.load_layers(vb.pp("encoder"), &LAYER_NAMES, int8)?;
        Ok(BertEncoder { embeddings, layers, activation: config.hidden_act })
    }

    /// The last hidden states, `(rows, width, hidden)`, for token ids `(rows, width)` and, when
    /// some rows are padded, their attention mask (1 for a real token, 0 for padding). The
    /// embedder batches texts of one length, so it never pads and passes no mask.
    pub fn forward(&self, ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let mut hidden = self.embeddings.forward(ids)?;
        let padding = mask.map(padding_bias).transpose()?.flatten();
        for layer in &self.layers {
            hidden = layer.forward(&hidden, padding.as_ref(), self.activation)?;
        }
        Ok(hidden)
    }
}

impl Embeddings {
    fn load(vb: VarBuilder, config: &Config) -> Result<Embeddings> {
        let hidden = config.hidden_size;
        let words = Embedding::new(vb.get((config.vocab_size, hidden), "word_embeddings.weight")?, hidden);
        let token_type = vb.get((config.type_vocab_size, hidden), "token_type_embeddings.weight")?.get(0)?;
        let positions = vb.get((config.max_position_embeddings, hidden), "position_embeddings.weight")?.broadcast_add(&token_type)?;
        Ok(Embeddings { words, positions, norm: layer_norm(vb.pp("LayerNorm"), hidden, config.layer_norm_eps)? })
    }

    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (_, width) = ids.dims2()?;
        let positions = self.positions.narrow(0, 0, width)?;
        self.norm.forward(&self.words.forward(ids)?.broadcast_add(&positions)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn a_hugging_face_config_reads_with_its_own_names_and_extra_fields_ignored() {
        let json = r#"{"architectures": ["BertModel"], "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
            "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu", "max_position_embeddings": 512,
            "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "pad_token_id": 0}"#;
        let c: Config = serde_json::from_str(json).unwrap();
        assert_eq!((c.hidden_size, c.num_hidden_layers, c.hidden_act, c.type_vocab_size), (384, 6, HiddenAct::Gelu, 2));
        let tanh: Config = serde_json::from_str(&json.replace("\"gelu\"", "\"gelu_new\"")).unwrap();
        assert_eq!(tanh.hidden_act, HiddenAct::GeluApproximate);
        assert!(serde_json::from_str::<Config>(&json.replace("\"gelu\"", "\"swish\"")).is_err(), "an unknown activation is an error");
    }

    #[test]
    #[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
    fn encoder_computes_what_candles_reference_bert_computes() {
        let dir = crate::semantic::embedder::test_model_dir().expect("TEST_MODEL_DIR must name an unpacked all-MiniLM-L6-v2");
        let json = std::fs::read_to_string(dir.join("config.json")).unwrap();
        let (config, reference_config): (Config, candle_transformers::models::bert::Config) =
            (serde_json::from_str(&json).unwrap(), serde_json::from_str(&json).unwrap());
        let weights =
            || VarBuilder::from_buffered_safetensors(std::fs::read(dir.join("model.safetensors")).unwrap(), DType::F32, &Device::Cpu).unwrap();
        let ours = BertEncoder::load(weights(), &config, false).unwrap();
        let reference = candle_transformers::models::bert::BertModel::load(weights(), &reference_config).unwrap();
        // Token ids of two questions, the second padded: both the unpadded and the masked path.
        let ids = Tensor::new(&[[101u32, 2026, 4003, 7909, 2001, 6430, 102], [101, 7592, 102, 0, 0, 0, 0]], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0]], &Device::Cpu).unwrap();
        let expected = reference.forward(&ids, &ids.zeros_like().unwrap(), Some(&mask)).unwrap();
        let real_tokens = |t: Tensor| [t.get(0).unwrap(), t.get(1).unwrap().narrow(0, 0, 3).unwrap()];
        for (a, b) in real_tokens(ours.forward(&ids, Some(&mask)).unwrap()).iter().zip(real_tokens(expected)) {
            let gap = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(gap < 1e-4, "hidden states differ by {gap}");
        }
        let single = ids.narrow(0, 0, 1).unwrap();
        let alone = ours.forward(&single, Some(&mask.narrow(0, 0, 1).unwrap())).unwrap();
        let batched = ours.forward(&ids, Some(&mask)).unwrap().narrow(0, 0, 1).unwrap();
        let gap = (alone - batched).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(gap < 1e-5, "a question alone and in a padded batch differ by {gap}");
    }
}
