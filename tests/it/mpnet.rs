//! The MPNet encoder (all-mpnet-base-v2, installed by .ci/run) against a reference
//! implementation's numbers: `tests/fixtures/mpnet/reference.json`, made outside the project by
//! `scripts/mpnet-reference.py` (Hugging Face transformers on PyTorch, f32).

use serde::Deserialize;
use supportbot::semantic::Embedder;
use supportbot::semantic::embedder::test_mpnet_dir;

const NEEDS_MPNET: &str = "TEST_MPNET_DIR must name an unpacked all-mpnet-base-v2 (.ci/run installs it)";

#[derive(Deserialize)]
struct Reference {
    texts: Vec<Text>,
    cosines: Vec<Cosine>,
}

#[derive(Deserialize)]
struct Text {
    text: String,
    token_ids: Vec<u32>,
    first_8: Vec<f32>,
}

#[derive(Deserialize)]
struct Cosine {
    a: usize,
    b: usize,
    cosine: f32,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("../fixtures/mpnet/reference.json")).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
#[ignore = "needs all-mpnet-base-v2: set TEST_MPNET_DIR and add --run-ignored all (.ci/run does)"]
fn mpnet_f32_vectors_are_the_reference_implementations() {
    let dir = test_mpnet_dir().expect(NEEDS_MPNET);
    let reference = reference();
    let mut tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    tokenizer.with_padding(None); // its file pads to 128 tokens; the embedder never pads
    for text in &reference.texts {
        assert_eq!(tokenizer.encode(text.text.as_str(), true).unwrap().get_ids(), text.token_ids, "{:?} tokenizes differently", text.text);
    }
    let model = Embedder::load(&dir, false).unwrap();
    assert_eq!(model.dimension(), 768);
    assert!(model.id().starts_with("all-mpnet-base-v2:"), "{}", model.id());
    let texts: Vec<&str> = reference.texts.iter().map(|t| t.text.as_str()).collect();
    let vectors = model.embed(&texts).unwrap();
    for (vector, text) in vectors.iter().zip(&reference.texts) {
        assert!((cosine(vector, vector) - 1.0).abs() < 1e-4, "{:?} is not a unit vector", text.text);
        for (dim, (ours, theirs)) in vector.iter().zip(&text.first_8).enumerate() {
            assert!((ours - theirs).abs() < 1e-4, "{:?}, dimension {dim}: {ours} against the reference's {theirs}", text.text);
        }
    }
    for pair in &reference.cosines {
        let ours = cosine(&vectors[pair.a], &vectors[pair.b]);
        assert!((ours - pair.cosine).abs() < 1e-4, "texts {} and {}: cosine {ours} against the reference's {}", pair.a, pair.b, pair.cosine);
    }
}

#[test]
#[ignore = "needs all-mpnet-base-v2: set TEST_MPNET_DIR and add --run-ignored all (.ci/run does)"]
fn mpnet_int8_vectors_point_where_the_reference_ones_do() {
    let dir = test_mpnet_dir().expect(NEEDS_MPNET);
    if !supportbot::semantic::int8::supported() {
        eprintln!("skipped: this CPU has no AVX-512 VNNI, so the int8 kernel is never used here");
        return;
    }
    let reference = reference();
    let texts: Vec<&str> = reference.texts.iter().map(|t| t.text.as_str()).collect();
    let exact = Embedder::load(&dir, false).unwrap().embed(&texts).unwrap();
    let int8 = Embedder::load(&dir, true).unwrap();
    assert!(int8.id().ends_with("+int8"), "{}", int8.id());
    let quantised = int8.embed(&texts).unwrap();
    for ((x, y), text) in exact.iter().zip(&quantised).zip(&texts) {
        let similarity = cosine(x, y);
        assert!(similarity > 0.99, "{text:?}: int8 against f32, cosine {similarity}");
    }
    for pair in &reference.cosines {
        let ours = cosine(&quantised[pair.a], &quantised[pair.b]);
        assert!((ours - pair.cosine).abs() < 0.02, "texts {} and {}: int8 cosine {ours} against the reference's {}", pair.a, pair.b, pair.cosine);
    }
}
