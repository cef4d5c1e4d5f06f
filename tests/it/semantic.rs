//! Semantic matching with the real all-MiniLM-L6-v2 model (unpacked by .ci/run).

use crate::helpers::*;
use std::sync::Arc;
use supportbot::bot::Bot;
use supportbot::domain::faq_index::phrasing_texts;
use supportbot::domain::message::ActionKind;
use supportbot::domain::ranking::dot;
use supportbot::prompts::Prompts;
use supportbot::semantic::Embedder;
use supportbot::semantic::embedder::test_model_dir;
use supportbot::store::Store;

const NEEDS_MODEL: &str = "TEST_MODEL_DIR must name an unpacked all-MiniLM-L6-v2 (.ci/run downloads it)";

fn model() -> Arc<Embedder> {
    let dir = test_model_dir().expect(NEEDS_MODEL);
    Arc::new(Embedder::load(&dir).unwrap())
}

async fn semantic_bot(db: &TestDb, model: Arc<Embedder>) -> Bot {
    let plain = bot_with(db, TEST_FAQ, test_config()).await; // loads the FAQ into the store
    let store = Store::connect(&db.url, 4).await.unwrap();
    drop(plain);
    Bot::new(store, Prompts::load(None).unwrap(), test_config(), Some(model)).await.unwrap()
}

#[test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
fn embeddings_are_unit_vectors_that_put_paraphrases_close() {
    let m = model();
    let v = m.embed(&["How do I reset my password?", "I forgot my login credentials", "What time does the bakery open?"]).unwrap();
    assert_eq!(v[0].len(), m.dimension());
    for x in &v {
        assert!((dot(x, x) - 1.0).abs() < 1e-4);
    }
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.2, "{} vs {}", dot(&v[0], &v[1]), dot(&v[0], &v[2]));
    let again = m.embed(&["How do I reset my password?"]).unwrap();
    assert!(again[0].iter().zip(&v[0]).all(|(a, b)| (a - b).abs() < 1e-5), "batching does not change a vector");
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn a_paraphrase_sharing_no_words_is_answered_only_with_the_model() {
    let question = "I can't log in because I no longer remember my credentials, what should I do?";
    let (words_only, _db1) = spawn_bot().await;
    assert!(send(&words_only, message("m1", 0, user("ann"), question)).await.is_empty());

    let db = sqlite_db();
    let bot = semantic_bot(&db, model()).await;
    let actions = send(&bot, message("m1", 0, user("ann"), question)).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Answer], "{actions:?}");
    assert_eq!(actions[0].faq_id.as_deref(), Some("reset-password"));
    let unrelated = send(&bot, message("m2", 1, user("ben"), "what is the best pizza topping in naples?")).await;
    assert!(unrelated.is_empty(), "{unrelated:?}");
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn faq_vectors_are_computed_once_and_cached_by_model_and_text() {
    let db = sqlite_db();
    let model = model();
    let bot = semantic_bot(&db, model.clone()).await;
    let entries = bot.store().faq_entries().await.unwrap();
    for text in phrasing_texts(&entries) {
        let cached = bot.store().embedding(model.id(), &text).await.unwrap();
        assert_eq!(cached.map(|v| v.len()), Some(model.dimension()), "{text}");
    }
    assert!(bot.store().embedding("another-model", &entries[0].question).await.unwrap().is_none());
    // A new FAQ entry is embedded when the index is rebuilt; the old ones come from the cache.
    send(&bot, command("c1", 0, moderator("mia"), "faq add arm | Does it run on ARM processors? | Yes.")).await;
    let answer = send(&bot, message("m1", 1, user("ann"), "will it work on a raspberry pi or other arm64 boards?")).await;
    assert_eq!(answer.first().and_then(|a| a.faq_id.as_deref()), Some("arm"), "{answer:?}");
    assert!(bot.store().embedding(model.id(), "Does it run on ARM processors?").await.unwrap().is_some());
}
