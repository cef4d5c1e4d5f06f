//! The pieces the BERT and MPNet encoders share (`super::bert`, `super::mpnet`): a transformer
//! layer (fused query/key/value, attention, feed-forward, two layer norms), the f32 or int8
//! linear layer it is made of, GELU, and the attention bias that hides padding. The two models
//! differ in their embeddings, in their tensors' names and in what they add to the attention
//! scores, not in their layers' arithmetic.
//!
//! What makes these faster than a plain transcription, one question at a time on the CPU:
//! - query, key and value are one matrix product (one weight matrix of three times the width),
//!   and the attention scale is folded into the query weights when the model loads;
//! - every weight matrix is stored column-major, the order the matrix multiplier reads it in,
//!   so it is not repacked on every call;
//! - the softmax is candle's fused one, and no bias is added when there is none to add;
//! - GELU uses a rational approximation of erf that the compiler vectorises (error below 1e-6),
//!   where the scalar `erff` was 8% of the time of a long question.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Module, Result, Shape, Tensor, bail};
use candle_nn::{LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use super::int8::Int8Linear;

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

/// Where a layer's tensors are, below `encoder.layer.N`: the models name the attention's alike
/// parts differently.
pub struct LayerNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub attention_output: &'static str,
    pub attention_norm: &'static str,
}

/// The sizes a layer is built with, from the model's `config.json`.
#[derive(Debug, Clone, Copy)]
pub struct LayerShape {
    pub hidden: usize,
    pub intermediate: usize,
    pub heads: usize,
    pub layer_norm_eps: f64,
}

impl LayerShape {
    /// Refuses a width the heads do not divide.
    pub fn head_size(&self) -> Result<usize> {
        if self.heads == 0 || !self.hidden.is_multiple_of(self.heads) {
            bail!("hidden_size {} is not a multiple of num_attention_heads {}", self.hidden, self.heads);
        }
        Ok(self.hidden / self.heads)
    }
}

/// One transformer layer (post-norm, as BERT and MPNet both are).
pub struct EncoderLayer {
    query_key_value: Dense,
    attention_output: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
    heads: usize,
}

impl EncoderLayer {
    pub fn load(vb: VarBuilder, names: &LayerNames, shape: LayerShape, int8: bool) -> Result<EncoderLayer> {
        let hidden = shape.hidden;
        // Scaling the query by 1/√d before the product scales every score by it (a bias added
        // to the scores afterwards is not scaled, as in both models).
        let scale = 1.0 / (shape.head_size()? as f64).sqrt();
        let weight = |name: &str| vb.get((hidden, hidden), &format!("{name}.weight"));
        let bias = |name: &str| vb.get(hidden, &format!("{name}.bias"));
        let query_key_value = Dense::new(
            Tensor::cat(&[(weight(names.query)? * scale)?, weight(names.key)?, weight(names.value)?], 0)?,
            Tensor::cat(&[(bias(names.query)? * scale)?, bias(names.key)?, bias(names.value)?], 0)?,
            int8,
        )?;
        Ok(EncoderLayer {
            query_key_value,
            attention_output: dense(vb.pp(names.attention_output), hidden, hidden, int8)?,
            attention_norm: layer_norm(vb.pp(names.attention_norm), hidden, shape.layer_norm_eps)?,
            intermediate: dense(vb.pp("intermediate.dense"), hidden, shape.intermediate, int8)?,
            output: dense(vb.pp("output.dense"), shape.intermediate, hidden, int8)?,
            output_norm: layer_norm(vb.pp("output.LayerNorm"), hidden, shape.layer_norm_eps)?,
            heads: shape.heads,
        })
    }

    /// `hidden` is `(rows, width, size)`; `scores_bias`, when given, is added to the attention
    /// scores and broadcasts to `(rows, heads, width, width)` (padding, relative positions).
    pub fn forward(&self, hidden: &Tensor, scores_bias: Option<&Tensor>, activation: HiddenAct) -> Result<Tensor> {
        let (rows, width, size) = hidden.dims3()?;
        let heads = self.heads;
        // (rows, width, 3·size) → three (rows, heads, width, head_size) tensors.
        let query_key_value = self.query_key_value.forward(hidden)?.reshape((rows, width, 3, heads, size / heads))?.permute((2, 0, 3, 1, 4))?;
        let part = |index: usize| query_key_value.get(index)?.contiguous();
        let (query, key, value) = (part(0)?, part(1)?, part(2)?);
        let scores = query.matmul(&key.t()?)?;
        let scores = match scores_bias {
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

/// What to add to the attention scores so padding gets no weight: `(rows, 1, 1, width)`, or
/// nothing when no token is padding (a single question never is).
pub fn padding_bias(mask: &Tensor) -> Result<Option<Tensor>> {
    if mask.min_all()?.to_scalar::<u32>()? == 1 {
        return Ok(None);
    }
    let (rows, width) = mask.dims2()?;
    let padded = mask.to_dtype(DType::F32)?.affine(-1.0, 1.0)?; // 1 where padding
    Ok(Some((padded * f64::from(f32::MIN))?.reshape((rows, 1, 1, width))?))
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

/// A layer norm's `weight` and `bias` below `vb`.
pub fn layer_norm(vb: VarBuilder, hidden: usize, eps: f64) -> Result<LayerNorm> {
    Ok(LayerNorm::new(vb.get(hidden, "weight")?, vb.get(hidden, "bias")?, eps))
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

    #[test]
    fn a_width_the_heads_do_not_divide_is_refused() {
        let shape = LayerShape { hidden: 384, intermediate: 1536, heads: 12, layer_norm_eps: 1e-12 };
        assert_eq!(shape.head_size().unwrap(), 32);
        assert!(LayerShape { heads: 7, ..shape }.head_size().is_err());
        assert!(LayerShape { heads: 0, ..shape }.head_size().is_err());
    }
}
