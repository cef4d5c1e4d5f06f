//! The encoder's linear layers three ways, at all-MiniLM-L6-v2's shapes: candle's f32 matmul,
//! candle's quantized matmul (Q8_0 weights, `QMatMul`), and our int8 kernel
//! (`semantic::int8`, AVX-512 VNNI). Prints the median time per product and the largest error
//! against f32, relative to the output's largest value. The figures are in BENCHMARKS.md
//! ("Own int8 kernel against candle's quantized matmul"); run with
//! `cargo bench --bench matmul`.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use std::time::Instant;
use supportbot::semantic::int8::{self, Int8Linear};

/// (inputs, outputs): the fused query-key-value product, the attention output, the
/// intermediate layer and the output layer of one transformer block.
const SHAPES: [(usize, usize); 4] = [(384, 1152), (384, 384), (384, 1536), (1536, 384)];
/// Token rows: one short question, one long one, a batch of eight texts.
const ROWS: [usize; 3] = [16, 64, 256];
const RUNS: usize = 200;

/// A fixed pseudo-random matrix in [-scale, scale] (xorshift), so runs compare like with like.
fn matrix(len: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn median_micros(mut run: impl FnMut()) -> f64 {
    run();
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

fn largest_error(got: &[f32], want: &[f32]) -> f32 {
    let top = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    got.iter().zip(want).fold(0.0f32, |m, (g, w)| m.max((g - w).abs())) / top
}

fn main() -> candle_core::Result<()> {
    let device = Device::Cpu;
    println!("shape (in→out), rows | f32 µs | candle Q8_0 µs, error | own int8 µs, error");
    for (inputs, outputs) in SHAPES {
        let weight = matrix(inputs * outputs, 7, 0.05);
        let bias = vec![0.0f32; outputs];
        let w = Tensor::from_vec(weight.clone(), (outputs, inputs), &device)?;
        let wt = w.t()?;
        let quantized = QMatMul::from_qtensor(QTensor::quantize(&w, GgmlDType::Q8_0)?)?;
        let own = Int8Linear::new(&weight, &bias, inputs, outputs);
        for rows in ROWS {
            // Activations as after GELU: mostly small and positive.
            let x: Vec<f32> = matrix(rows * inputs, 11, 1.0).iter().map(|v| v.abs() - 0.1).collect();
            let xt = Tensor::from_vec(x.clone(), (rows, inputs), &device)?;
            let reference: Vec<f32> = xt.matmul(&wt)?.flatten_all()?.to_vec1()?;
            let f32_us = median_micros(|| drop(xt.matmul(&wt).unwrap()));
            let q8: Vec<f32> = quantized.forward(&xt)?.flatten_all()?.to_vec1()?;
            let q8_us = median_micros(|| drop(quantized.forward(&xt).unwrap()));
            let own_figures = if int8::supported() {
                let y = own.forward(&x, rows);
                let us = median_micros(|| drop(own.forward(&x, rows)));
                format!("{us:8.1}, {:.4}", largest_error(&y, &reference))
            } else {
                "no AVX-512 VNNI here".to_string()
            };
            println!("{inputs:4}→{outputs:<4}, {rows:3} | {f32_us:8.1} | {q8_us:8.1}, {:.4} | {own_figures}", largest_error(&q8, &reference));
        }
    }
    Ok(())
}
