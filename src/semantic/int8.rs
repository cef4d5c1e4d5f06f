//! Int8 linear layers for the encoder, on CPUs with AVX-512 VNNI.
//!
//! A question's forward pass is almost all matrix products, and in f32 they run at what two
//! cores' FMA units give. VNNI multiplies 8-bit integers four to a lane (`vpdpbusd`), so with
//! the weights quantised per output (symmetric, once, at load) and each token's activations
//! quantised on the fly, the same products take a fraction of the time. The usual dynamic int8
//! scheme for BERT; tests hold the result close to the f32 product.
//!
//! Kept over candle's own quantized matmul (`QMatMul` with Q8_0 weights) because it measures
//! faster at every shape of the encoder, and as close to f32: one 16-token question's products
//! 384→1536 take 67 µs here against 564 µs, 1536→384 93 against 109 µs (candle's VNNI path, which
//! needs inputs in multiples of 256), with a largest error of 0.4% against 0.5% of the output
//! (`cargo bench --bench matmul`; BENCHMARKS.md, "Own int8 kernel against candle's quantized
//! matmul").
//!
//! Activations are mapped from their own range, per token, onto `0..=255` (`vpdpbusd`'s unsigned
//! operand): after GELU they are nearly all positive, and a range twice as fine as a symmetric
//! scale's loses less. `x ≈ low + q·scale`, so `Σ x·w = scale·Σ q·w + low·Σ w`. Weights are packed
//! in blocks of 64 outputs, four inputs per 32-bit lane: one load feeds 16 outputs, 4 inputs each.

use rayon::prelude::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Outputs per packed block: four 16-lane registers.
const BLOCK: usize = 64;
/// Token rows per kernel call: 4 rows × 4 registers = 16 accumulators.
const ROWS: usize = 4;

/// For tests of the int8 path: true (and says so) when this CPU cannot run it.
#[cfg(test)]
pub(crate) fn skipped_without_vnni() -> bool {
    let skip = !supported();
    if skip {
        eprintln!("skipped: this CPU has no AVX-512 VNNI, so the int8 kernel is never used here");
    }
    skip
}

/// Whether this CPU runs the int8 kernel.
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `y = x · Wᵀ + b` with `W` quantised to int8, one scale per output.
pub struct Int8Linear {
    inputs: usize,
    outputs: usize,
    /// Inputs rounded up to a multiple of 4 (one lane's worth).
    padded_inputs: usize,
    /// `[block][padded_inputs / 4][BLOCK][4]`, zero where the matrix has no entry.
    packed: Vec<i8>,
    scales: Vec<f32>,
    /// `Σ_k w[o][k]` of the quantised weights, for each output: what a token's `low` adds.
    weight_sums: Vec<f32>,
    bias: Vec<f32>,
}

impl Int8Linear {
    /// From a row-major `outputs × inputs` weight matrix and its bias.
    pub fn new(weight: &[f32], bias: &[f32], inputs: usize, outputs: usize) -> Int8Linear {
        assert_eq!(weight.len(), inputs * outputs, "weight shape");
        assert_eq!(bias.len(), outputs, "bias shape");
        let padded_inputs = inputs.div_ceil(4) * 4;
        let blocks = outputs.div_ceil(BLOCK);
        let mut packed = vec![0i8; blocks * padded_inputs * BLOCK];
        let mut scales = vec![1.0f32; outputs];
        let mut weight_sums = vec![0.0f32; outputs];
        for (output, row) in weight.chunks_exact(inputs).enumerate() {
            let largest = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
            let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            scales[output] = scale;
            let (block, column) = (output / BLOCK, output % BLOCK);
            for (input, &w) in row.iter().enumerate() {
                let q = (w / scale).round().clamp(-127.0, 127.0) as i8;
                weight_sums[output] += f32::from(q);
                packed[((block * padded_inputs / 4 + input / 4) * BLOCK + column) * 4 + input % 4] = q;
            }
        }
        Int8Linear { inputs, outputs, padded_inputs, packed, scales, weight_sums, bias: bias.to_vec() }
    }

    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// `rows × outputs` from `rows × inputs`, both row-major. Call only when [`supported`].
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        assert_eq!(x.len(), rows * self.inputs, "input shape");
        let padded_rows = rows.div_ceil(ROWS) * ROWS;
        let (activations, token_ranges) = self.quantise(x, rows, padded_rows);
        let block_bytes = self.padded_inputs * BLOCK;
        // Each task computes one block of 64 outputs for every row, back in f32.
        let blocks: Vec<Vec<f32>> = self
            .packed
            .par_chunks(block_bytes)
            .enumerate()
            .map(|(block, weights)| {
                let mut sums = vec![0i32; padded_rows * BLOCK];
                for (row_group, out) in sums.chunks_exact_mut(ROWS * BLOCK).enumerate() {
                    let start = row_group * ROWS * self.padded_inputs;
                    // SAFETY: `forward` is only called when `supported()`; the slices have the
                    // lengths the kernel reads (ROWS rows of `padded_inputs`, one packed block).
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        kernel(&activations[start..start + ROWS * self.padded_inputs], self.padded_inputs, weights, out)
                    };
                }
                self.dequantise(block, &sums[..rows * BLOCK], &token_ranges)
            })
            .collect();
        let mut y = vec![0.0f32; rows * self.outputs];
        for (block, values) in blocks.iter().enumerate() {
            let columns = self.columns(block);
            for (out, row) in y.chunks_exact_mut(self.outputs).zip(values.chunks_exact(BLOCK)) {
                out[columns.clone()].copy_from_slice(&row[..columns.len()]);
            }
        }
        y
    }

    /// One block's integer sums back to outputs: `rows × BLOCK`, the columns past the last
    /// output left at zero.
    fn dequantise(&self, block: usize, sums: &[i32], token_ranges: &[(f32, f32)]) -> Vec<f32> {
        let columns = self.columns(block);
        let mut values = vec![0.0f32; sums.len()];
        for ((out, sums), &(low, step)) in values.chunks_exact_mut(BLOCK).zip(sums.chunks_exact(BLOCK)).zip(token_ranges) {
            let per_output =
                out.iter_mut().zip(sums).zip(&self.weight_sums[columns.clone()]).zip(&self.scales[columns.clone()]).zip(&self.bias[columns.clone()]);
            for ((((value, &sum), &weight_sum), &scale), &bias) in per_output {
                *value = scale * (step * sum as f32 + low * weight_sum) + bias;
            }
        }
        values
    }

    /// The outputs packed block `block` holds (the last block may be partly padding).
    fn columns(&self, block: usize) -> std::ops::Range<usize> {
        block * BLOCK..((block + 1) * BLOCK).min(self.outputs)
    }

    /// Each row to `u8`, `round((x - low) / step)` with the row's own `low` and `step`
    /// (returned per row), padded with zeros to `padded_inputs` columns and `padded_rows` rows;
    /// a zero multiplies to nothing whatever its weight.
    fn quantise(&self, x: &[f32], rows: usize, padded_rows: usize) -> (Vec<u8>, Vec<(f32, f32)>) {
        debug_assert!(padded_rows >= rows);
        let mut activations = vec![0u8; padded_rows * self.padded_inputs];
        let mut ranges = Vec::with_capacity(rows);
        for (row, out) in x.chunks_exact(self.inputs).zip(activations.chunks_exact_mut(self.padded_inputs)) {
            let (low, high) = row.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let step = if high > low { (high - low) / 255.0 } else { 1.0 };
            ranges.push((low, step));
            let inverse = 1.0 / step;
            for (q, &v) in out.iter_mut().zip(row) {
                // (v - low) / step is within 0..=255 up to rounding, so the cast, which truncates,
                // rounds to nearest; unlike `round`, it vectorises.
                *q = ((v - low) * inverse + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
        (activations, ranges)
    }
}

/// `out[r][c] = Σ_k a[r][k] · w[c][k]` for [`ROWS`] rows of `a` (row stride `stride`) and one
/// packed block of [`BLOCK`] outputs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn kernel(a: &[u8], stride: usize, w: &[i8], out: &mut [i32]) {
    debug_assert!(a.len() >= ROWS * stride && w.len() >= stride * BLOCK && out.len() >= ROWS * BLOCK);
    let mut acc = [[_mm512_setzero_si512(); 4]; ROWS];
    for step in 0..stride / 4 {
        // SAFETY: step * 4 * BLOCK + 192 + 64 <= stride * BLOCK = w.len(); reads are unaligned.
        let weights = unsafe {
            let at = w.as_ptr().add(step * 4 * BLOCK);
            [
                _mm512_loadu_si512(at.cast()),
                _mm512_loadu_si512(at.add(64).cast()),
                _mm512_loadu_si512(at.add(128).cast()),
                _mm512_loadu_si512(at.add(192).cast()),
            ]
        };
        for (row, sums) in acc.iter_mut().enumerate() {
            // SAFETY: row < ROWS and step * 4 + 4 <= stride, so the 4 bytes lie within `a`.
            let four = unsafe { a.as_ptr().add(row * stride + step * 4).cast::<i32>().read_unaligned() };
            let broadcast = _mm512_set1_epi32(four);
            for (sum, &weight) in sums.iter_mut().zip(&weights) {
                *sum = _mm512_dpbusd_epi32(*sum, broadcast, weight);
            }
        }
    }
    for (row, sums) in acc.iter().enumerate() {
        for (part, sum) in sums.iter().enumerate() {
            // SAFETY: out holds ROWS * BLOCK values; this writes 16 at row * BLOCK + part * 16.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(row * BLOCK + part * 16).cast(), *sum) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic spread of values in [-1, 1].
    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32).map(|i| ((i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    fn exact(x: &[f32], w: &[f32], b: &[f32], inputs: usize) -> Vec<f32> {
        x.chunks_exact(inputs)
            .flat_map(|row| w.chunks_exact(inputs).zip(b).map(move |(col, bias)| row.iter().zip(col).map(|(p, q)| p * q).sum::<f32>() + bias))
            .collect()
    }

    #[test]
    fn int8_product_stays_close_to_the_f32_product() {
        if skipped_without_vnni() {
            return;
        }
        // Odd sizes: rows not a multiple of 4, outputs not of 64, inputs not of 4.
        for (rows, inputs, outputs) in [(7, 386, 130), (1, 384, 384), (45, 1536, 64)] {
            let (x, w, b) = (values(rows * inputs, 1), values(outputs * inputs, 2), values(outputs, 3));
            let layer = Int8Linear::new(&w, &b, inputs, outputs);
            let (got, want) = (layer.forward(&x, rows), exact(&x, &w, &b, inputs));
            assert_eq!(got.len(), want.len());
            // Relative to the size of a typical output (√inputs · 1/3 for values spread on [-1, 1]).
            let typical = (inputs as f32).sqrt() / 3.0;
            let worst = got.iter().zip(&want).map(|(g, e)| (g - e).abs()).fold(0.0, f32::max);
            assert!(worst < 0.02 * typical, "{rows}×{inputs}→{outputs}: off by {worst} (typical output {typical})");
        }
    }

    #[test]
    fn zero_rows_and_zero_weights_give_the_bias() {
        if skipped_without_vnni() {
            return;
        }
        let layer = Int8Linear::new(&[0.0; 8], &[0.5, -1.0], 4, 2);
        assert_eq!(layer.forward(&[0.0; 4], 1), vec![0.5, -1.0]);
        assert_eq!(layer.forward(&[1.0, 2.0, 3.0, 4.0], 1), vec![0.5, -1.0]);
    }
}
