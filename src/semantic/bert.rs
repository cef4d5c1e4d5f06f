//! The BERT encoder's forward pass, written for embedding one question at a time on the CPU.
//!
//! candle-transformers' `BertModel` computes the same numbers (a test holds the two together);
//! this one does less work per question, which is what the answer latency is made of:
//! - query, key and value are one matrix product (one weight matrix of three times the width),
//!   and the attention scale is folded into the query weights when the model loads;
//! - every weight matrix is stored column-major, the order the matrix multiplier reads it in,
//!   so it is not repacked on every call;
//! - the softmax is candle's fused one, and no mask is added when nothing is padded;
//! - GELU uses a rational approximation of erf that the compiler vectorises (error below 1e-6),
//!   where the scalar `erff` was 8% of the time of a long question.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Module, Result, Shape, Tensor, bail};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use super::int8::Int8Linear;

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

/// The activation after the intermediate layer, as `config.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HiddenAct {
    #[serde(rename = "gelu")]
    Gelu,
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh")]
    GeluApproximate,
    #[serde(rename = "relu")]
    Relu,
}

pub struct BertEncoder {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    heads: usize,
    activation: HiddenAct,
}

struct Embeddings {
    words: Embedding,
    /// Position embeddings plus the embedding of token type 0, the only type a single
    /// sentence has: one addition per token instead of two lookups.
    positions: Tensor,
    norm: LayerNorm,
}

struct Layer {
    query_key_value: Dense,
    attention_output: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
}

/// A linear layer: f32 through candle's matrix multiplier, or int8 (`super::int8`).
enum Dense {
    F32(Linear),
    Int8(Int8Linear),
}

impl Dense {
    fn new(weight: Tensor, bias: Tensor, int8: bool) -> Result<Dense> {
        if !int8 {
            return Ok(Dense::F32(column_major(weight, bias)?));
        }
        let (outputs, inputs) = weight.dims2()?;
        let weight = weight.flatten_all()?.to_vec1::<f32>()?;
        Ok(Dense::Int8(Int8Linear::new(&weight, &bias.to_vec1::<f32>()?, inputs, outputs)))
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Dense::F32(linear) => linear.forward(x),
            Dense::Int8(linear) => {
                let (batch, tokens, _) = x.dims3()?;
                let values = x.flatten_all()?.to_vec1::<f32>()?;
                Tensor::from_vec(linear.forward(&values, batch * tokens), (batch, tokens, linear.outputs()), x.device())
            }
        }
    }
}

impl BertEncoder {
    /// Loads the weights of a BERT model (tensor names as Hugging Face writes them, with or
    /// without a `bert.` prefix).
    pub fn load(vb: VarBuilder, config: &Config, int8: bool) -> Result<BertEncoder> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") { vb.pp("bert") } else { vb };
        let hidden = config.hidden_size;
        if config.num_attention_heads == 0 || !hidden.is_multiple_of(config.num_attention_heads) {
            bail!("hidden_size {hidden} is not a multiple of num_attention_heads {}", config.num_attention_heads);
        }
        let head_size = hidden / config.num_attention_heads;
        let embeddings = Embeddings::load(vb.pp("embeddings"), config)?;
        let layers = (0..config.num_hidden_layers)
            .map(|index| Layer::load(vb.pp(format!("encoder.layer.{index}")), config, head_size, int8))
            .collect::<Result<Vec<_>>>()?;
        Ok(BertEncoder { embeddings, layers, heads: config.num_attention_heads, activation: config.hidden_act })
    }

    /// The last hidden states, `(rows, width, hidden)`, for token ids `(rows, width)` and, when
    /// some rows are padded, their attention mask (1 for a real token, 0 for padding). The
    /// embedder batches texts of one length, so it never pads and passes no mask.
    pub fn forward(&self, ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let mut hidden = self.embeddings.forward(ids)?;
        let padding = mask.map(padding_bias).transpose()?.flatten();
        for layer in &self.layers {
            hidden = layer.forward(&hidden, padding.as_ref(), self.heads, self.activation)?;
        }
        Ok(hidden)
    }
}

/// What to add to the attention scores so padding gets no weight: `(rows, 1, 1, width)`, or
/// nothing when no token is padding (a single question never is).
fn padding_bias(mask: &Tensor) -> Result<Option<Tensor>> {
    if mask.min_all()?.to_scalar::<u32>()? == 1 {
        return Ok(None);
    }
    let (rows, width) = mask.dims2()?;
    let padded = mask.to_dtype(DType::F32)?.affine(-1.0, 1.0)?; // 1 where padding
    Ok(Some((padded * f64::from(f32::MIN))?.reshape((rows, 1, 1, width))?))
}

impl Embeddings {
    fn load(vb: VarBuilder, config: &Config) -> Result<Embeddings> {
        let hidden = config.hidden_size;
        let words = Embedding::new(vb.get((config.vocab_size, hidden), "word_embeddings.weight")?, hidden);
        let token_type = vb.get((config.type_vocab_size, hidden), "token_type_embeddings.weight")?.get(0)?;
        let positions = vb.get((config.max_position_embeddings, hidden), "position_embeddings.weight")?.broadcast_add(&token_type)?;
        Ok(Embeddings { words, positions, norm: layer_norm(vb.pp("LayerNorm"), config)? })
    }

    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (_, width) = ids.dims2()?;
        let positions = self.positions.narrow(0, 0, width)?;
        self.norm.forward(&self.words.forward(ids)?.broadcast_add(&positions)?)
    }
}

impl Layer {
    fn load(vb: VarBuilder, config: &Config, head_size: usize, int8: bool) -> Result<Layer> {
        let hidden = config.hidden_size;
        let attention = vb.pp("attention.self");
        // Scaling the query by 1/√d before the product scales every score by it.
        let scale = 1.0 / (head_size as f64).sqrt();
        let query = (attention.get((hidden, hidden), "query.weight")? * scale)?;
        let query_bias = (attention.get(hidden, "query.bias")? * scale)?;
        let weight = Tensor::cat(&[query, attention.get((hidden, hidden), "key.weight")?, attention.get((hidden, hidden), "value.weight")?], 0)?;
        let bias = Tensor::cat(&[query_bias, attention.get(hidden, "key.bias")?, attention.get(hidden, "value.bias")?], 0)?;
        Ok(Layer {
            query_key_value: Dense::new(weight, bias, int8)?,
            attention_output: dense(vb.pp("attention.output.dense"), hidden, hidden, int8)?,
            attention_norm: layer_norm(vb.pp("attention.output.LayerNorm"), config)?,
            intermediate: dense(vb.pp("intermediate.dense"), hidden, config.intermediate_size, int8)?,
            output: dense(vb.pp("output.dense"), config.intermediate_size, hidden, int8)?,
            output_norm: layer_norm(vb.pp("output.LayerNorm"), config)?,
        })
    }

    fn forward(&self, hidden: &Tensor, padding: Option<&Tensor>, heads: usize, activation: HiddenAct) -> Result<Tensor> {
        let (rows, width, size) = hidden.dims3()?;
        // (rows, width, 3·size) → three (rows, heads, width, head_size) tensors.
        let query_key_value = self.query_key_value.forward(hidden)?.reshape((rows, width, 3, heads, size / heads))?.permute((2, 0, 3, 1, 4))?;
        let part = |index: usize| query_key_value.get(index)?.contiguous();
        let (query, key, value) = (part(0)?, part(1)?, part(2)?);
        let scores = query.matmul(&key.t()?)?;
        let scores = match padding {
            Some(bias) => scores.broadcast_add(bias)?,
            None => scores,
        };
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights.matmul(&value)?.transpose(1, 2)?.contiguous()?.reshape((rows, width, size))?;
        let attended = self.attention_norm.forward(&(self.attention_output.forward(&context)? + hidden)?)?;
        let expanded = activate(&self.intermediate.forward(&attended)?, activation)?;
        self.output_norm.forward(&(self.output.forward(&expanded)? + &attended)?)
    }
}

fn activate(xs: &Tensor, activation: HiddenAct) -> Result<Tensor> {
    match activation {
        HiddenAct::Gelu => xs.apply_op1_no_bwd(&GeluErf),
        HiddenAct::GeluApproximate => xs.gelu(),
        HiddenAct::Relu => xs.relu(),
    }
}

fn dense(vb: VarBuilder, inputs: usize, outputs: usize, int8: bool) -> Result<Dense> {
    Dense::new(vb.get((outputs, inputs), "weight")?, vb.get(outputs, "bias")?, int8)
}

/// A linear layer whose weight is laid out column-major: the same matrix, but `weight.t()`,
/// which is what candle multiplies by, is then row-major, the order gemm reads without
/// copying the matrix first.
fn column_major(weight: Tensor, bias: Tensor) -> Result<Linear> {
    Ok(Linear::new(weight.t()?.contiguous()?.t()?, Some(bias)))
}

fn layer_norm(vb: VarBuilder, config: &Config) -> Result<LayerNorm> {
    let hidden = config.hidden_size;
    Ok(LayerNorm::new(vb.get(hidden, "weight")?, vb.get(hidden, "bias")?, config.layer_norm_eps))
}

/// GELU as BERT defines it, `x·(1 + erf(x/√2))/2`.
struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "gelu-erf-rational"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(values), Some((start, end))) = (storage, layout.contiguous_offsets()) else {
            bail!("gelu-erf-rational takes a contiguous f32 tensor")
        };
        let out = values[start..end].iter().map(|&x| 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))).collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// erf as a ratio of two polynomials on [-4, 4] (beyond it erf is ±1 in f32): only
/// multiplications, additions and one division, so a loop of it vectorises, unlike `erff`.
/// The coefficients are the minimax fit Eigen and XLA use for single precision.
fn erf(x: f32) -> f32 {
    const NUMERATOR: [f32; 7] = [-1.609_603_3e-2, -2.954_6e-3, -7.349_906_3e-4, -5.692_506_4e-5, -2.101_024e-6, 2.770_681_4e-8, -2.726_142_3e-10];
    const DENOMINATOR: [f32; 5] = [-1.426_473_9e-2, -7.373_329e-3, -1.682_827e-3, -2.133_740_6e-4, -1.456_607_2e-5];
    let x = x.clamp(-4.0, 4.0);
    let square = x * x;
    let horner = |coefficients: &[f32]| coefficients.iter().rev().fold(0.0, |sum, &c| sum * square + c);
    x * horner(&NUMERATOR) / horner(&DENOMINATOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

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
    fn rational_erf_matches_the_exact_function() {
        let worst = (-6000..=6000).map(|step| step as f64 / 1000.0).map(|x| (f64::from(erf(x as f32)) - libm::erf(x)).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-6, "largest error {worst}");
    }

    #[test]
    fn gelu_op_maps_every_element() {
        let xs = Tensor::new(&[[-3.0f32, -0.5, 0.0], [0.5, 1.0, 3.0]], &Device::Cpu).unwrap();
        let ys = xs.apply_op1_no_bwd(&GeluErf).unwrap().to_vec2::<f32>().unwrap();
        let expected = xs.gelu_erf().unwrap().to_vec2::<f32>().unwrap();
        for (y, e) in ys.iter().flatten().zip(expected.iter().flatten()) {
            assert!((y - e).abs() < 1e-6, "{y} vs {e}");
        }
        let strided = xs.t().unwrap();
        assert!(strided.apply_op1_no_bwd(&GeluErf).is_err(), "a strided tensor is refused, not misread");
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

    #[test]
    fn padding_bias_is_absent_without_padding_and_blocks_padded_tokens() {
        let full = Tensor::new(&[[1u32, 1, 1]], &Device::Cpu).unwrap();
        assert!(padding_bias(&full).unwrap().is_none());
        let padded = Tensor::new(&[[1u32, 1, 1], [1, 0, 0]], &Device::Cpu).unwrap();
        let bias = padding_bias(&padded).unwrap().unwrap();
        assert_eq!(bias.dims(), &[2, 1, 1, 3]);
        let values = bias.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(&values[..4], &[0.0, 0.0, 0.0, 0.0]);
        assert!(values[4] < -1e30 && values[5] < -1e30);
    }
}
