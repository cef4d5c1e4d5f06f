//! What learning one phrasing costs the index: `FaqIndex::build_with` reusing the calibration
//! (the rebuild a learned phrasing triggers) and with a refit, on FAQs of 62 entries and 620 to
//! 6,200 phrasings, words alone and with 384-dimensional vectors. Prints the median and the
//! slowest of the runs. Run with `cargo bench --bench faq_index`; figures in BENCHMARKS.md.

use std::time::Instant;
use supportbot::domain::faq::FaqEntry;
use supportbot::domain::faq_index::{FaqIndex, phrasing_texts};

const WORDS: [&str; 24] = [
    "card",
    "transfer",
    "refund",
    "pending",
    "declined",
    "account",
    "balance",
    "top",
    "up",
    "fee",
    "exchange",
    "rate",
    "cash",
    "withdrawal",
    "pin",
    "blocked",
    "verify",
    "identity",
    "payment",
    "arrive",
    "charge",
    "statement",
    "virtual",
    "wallet",
];

/// `entries` entries of `per_entry` phrasings, each six words drawn by a fixed generator.
fn faq(entries: usize, per_entry: usize) -> Vec<FaqEntry> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut word = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        WORDS[(state % WORDS.len() as u64) as usize]
    };
    (0..entries)
        .map(|e| {
            let mut phrasing = || (0..6).map(|_| word()).collect::<Vec<_>>().join(" ") + &format!(" topic{e}");
            FaqEntry {
                id: format!("entry-{e}"),
                question: phrasing(),
                alternatives: (1..per_entry).map(|_| phrasing()).collect(),
                answer: format!("The answer about topic {e}."),
                tags: vec![],
                links: vec![],
            }
        })
        .collect()
}

fn vectors(entries: &[FaqEntry]) -> Vec<Vec<f32>> {
    (0..phrasing_texts(entries).len())
        .map(|i| {
            let v: Vec<f32> = (0..384).map(|d| (((i * 31 + d * 17) % 97) as f32 - 48.0) / 48.0).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect()
        })
        .collect()
}

fn timed(runs: usize, mut build: impl FnMut()) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            build();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], ms[runs - 1])
}

fn main() {
    println!("phrasings, matcher | rebuild, calibration kept: median / max ms | with a refit: median / max ms");
    for per_entry in [10, 30, 50, 100] {
        let entries = faq(62, per_entry);
        for with_vectors in [false, true] {
            let v = with_vectors.then(|| vectors(&entries));
            let fitted = FaqIndex::build(entries.clone(), v.clone()).expect("index").fitted();
            let kept = timed(20, || drop(FaqIndex::build_with(entries.clone(), v.clone(), Some(fitted)).expect("index")));
            let refit = timed(5, || drop(FaqIndex::build(entries.clone(), v.clone()).expect("index")));
            let matcher = if with_vectors { "hybrid" } else { "words" };
            println!("{:5}, {matcher:6} | {:7.1} / {:7.1} | {:7.1} / {:7.1}", 62 * per_entry, kept.0, kept.1, refit.0, refit.1);
        }
    }
}
