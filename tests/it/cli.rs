//! The binary itself: FAQ import/export and replay, as an operator runs them.

use std::path::Path;
use std::process::{Command, Output};

fn supportbot(args: &[&str], dir: &Path) -> Output {
    supportbot_with(args, dir, &[])
}

fn supportbot_with(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .envs(env.iter().copied())
        .args(args)
        .current_dir(dir)
        .env_remove("SUPPORTBOT_DATABASE__URL")
        .env("SUPPORTBOT_MODEL__FETCH", "false") // no test reaches the internet (huggingface.co is the default)
        .env("XDG_CACHE_HOME", dir.join(".cache")) // no model installed on this machine is found
        .output()
        .expect("run supportbot")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn faq_import_reports_changes_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/faq.toml");
    let example = example.to_str().unwrap();
    let db = format!("sqlite://{}", dir.path().join("faq.db").display());

    let first = supportbot(&["faq", "import", example, "--db", &db], dir.path());
    assert!(first.status.success(), "{}", stderr(&first));
    let count = supportbot::domain::faq::parse_faq_file("x", &std::fs::read_to_string(example).unwrap()).unwrap().len();
    assert!(count >= 15);
    assert!(stdout(&first).contains(&format!("{count} added, 0 updated, 0 unchanged")), "{}", stdout(&first));
    let second = supportbot(&["faq", "import", example, "--db", &db], dir.path());
    assert!(stdout(&second).contains(&format!("0 added, 0 updated, {count} unchanged")), "{}", stdout(&second));

    let export = supportbot(&["faq", "export", "--db", &db], dir.path());
    assert!(export.status.success());
    let exported = supportbot::domain::faq::parse_faq_file("export", &stdout(&export)).unwrap();
    let mut original = supportbot::domain::faq::parse_faq_file("example", &std::fs::read_to_string(example).unwrap()).unwrap();
    original.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(exported, original, "export loses nothing");

    let out = dir.path().join("out.toml");
    let to_file = supportbot(&["faq", "export", "--db", &db, "--out", out.to_str().unwrap()], dir.path());
    assert!(to_file.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout(&export));
}

#[test]
fn a_broken_faq_file_names_the_file_line_and_field_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[faq]]\nid = \"ok\"\nquestion = \"q\"\nanswer = \"a\"\n\n[[faq]]\nid = \"Not OK\"\nquestion = \"q\"\nanswer = \"a\"\n")
        .unwrap();
    let db = format!("sqlite://{}", dir.path().join("faq.db").display());
    let out = supportbot(&["faq", "import", bad.to_str().unwrap(), "--db", &db], dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("bad.toml:7:") && err.contains("`id`"), "{err}");
    let export = supportbot(&["faq", "export", "--db", &db], dir.path());
    let left = supportbot::domain::faq::parse_faq_file("export", &stdout(&export)).unwrap();
    assert!(!left.iter().any(|e| e.id == "ok"), "nothing of the broken file was imported: {left:?}");
}

#[test]
fn a_new_directory_lists_shows_and_exports_the_faq_the_bot_answers_from() {
    let dir = tempfile::tempdir().unwrap();
    let example = supportbot::domain::faq::parse_faq_file("x", supportbot::app::EXAMPLE_FAQ).unwrap();
    let export = supportbot(&["faq", "export"], dir.path());
    assert!(export.status.success(), "{}", stderr(&export));
    let exported = supportbot::domain::faq::parse_faq_file("export", &stdout(&export)).unwrap();
    assert_eq!(exported.len(), example.len(), "the example FAQ `chat` answers from, not `faq = []`");
    assert!(stderr(&export).contains("example FAQ"), "{}", stderr(&export));

    let list = supportbot(&["faq", "list"], dir.path());
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(stdout(&list).lines().count(), example.len());
    let first = &example[0];
    assert!(stdout(&list).lines().any(|l| l.starts_with(&first.id) && l.ends_with(&first.question)), "{}", stdout(&list));

    let show = supportbot(&["faq", "show", &first.id], dir.path());
    assert!(show.status.success(), "{}", stderr(&show));
    let shown = supportbot::domain::faq::parse_faq_file("show", &stdout(&show)).unwrap();
    assert_eq!(shown, vec![first.clone()], "show prints the entry in the file format");
    let missing = supportbot(&["faq", "show", "no-such-entry"], dir.path());
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no-such-entry") && stderr(&missing).contains("faq list"), "{}", stderr(&missing));
}

#[test]
fn an_faq_file_of_other_tables_is_refused_not_imported_as_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faq.toml");
    std::fs::write(&file, "[[entry]]\nid = \"a\"\nquestion = \"q?\"\nanswer = \"x\"\n").unwrap();
    let out = supportbot(&["faq", "import", file.to_str().unwrap()], dir.path());
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("faq.toml:1:") && stderr(&out).contains("`entry`") && stderr(&out).contains("`faq`"), "{}", stderr(&out));
}

#[test]
fn run_with_nothing_to_connect_says_what_to_configure_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = supportbot(&["run", "--listen", "127.0.0.1:0"], dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nothing to run") && err.contains("[slack]") && err.contains("[discord]") && err.contains("supportbot chat"), "{err}");
}

#[test]
fn model_install_refuses_what_holds_no_model_and_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_model = dir.path().join("empty");
    std::fs::create_dir(&not_a_model).unwrap();
    let out = supportbot(&["model", "install", not_a_model.to_str().unwrap()], dir.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("holds no sentence-transformer model"), "{}", stderr(&out));
    let junk = dir.path().join("junk.whl");
    std::fs::write(&junk, "not a zip").unwrap();
    let out = supportbot(&["model", "install", junk.to_str().unwrap()], dir.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("zip"), "{}", stderr(&out));
    let installed = dir.path().join(".cache/supportbot/hub");
    let left: Vec<_> = std::fs::read_dir(&installed).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "nothing half-installed is left: {left:?}");
}

#[test]
fn the_replay_command_prints_one_json_action_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay/conversation.jsonl");
    let out = supportbot(&["replay", fixture.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let actions: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(actions.iter().any(|a| a["action"] == "answer" && a["faq_id"] == "install"));
    assert!(actions.iter().any(|a| a["action"] == "ticket_opened" && a["in_reply_to"] == "m3"));
    assert!(stderr(&out).contains("replayed 13 events (1 malformed lines)"), "{}", stderr(&out));
    assert!(!dir.path().join("supportbot.db").exists(), "replay does not touch the default database");
}

#[test]
fn a_missing_config_file_is_one_clear_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let out = supportbot(&["--config", "nope.toml", "faq", "export"], dir.path());
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim(), "error: configuration: nope.toml does not exist");
}

#[test]
fn a_replayed_day_then_digest_prints_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("week.db").display());
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay/conversation.jsonl");
    assert!(supportbot(&["replay", fixture.to_str().unwrap(), "--db", &db], dir.path()).status.success());
    let out = supportbot(&["digest", "--from", "2026-11-02", "--to", "2026-11-03", "--db", &db, "--print"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let chart = std::fs::read(dir.path().join("supportbot-digest-2026-11-03.png")).expect("the default chart file");
    assert_eq!(&chart[..4], b"\x89PNG");
    let text = stdout(&out);
    // m1 and m6 answered by the bot (m6 voted not helpful), m4 answered by erin, m3 by nobody.
    assert!(text.contains("4 seen. 2 answered by the bot (0% of 1 votes said it helped), 1 by the community, 1 by nobody yet."), "{text}");
    assert!(text.contains("2 opened, 1 resolved, 1 still open"), "{text}");
    assert!(text.contains("erin (1)"), "{text}");
    assert!(text.contains("Erlang C, 1 responder"), "{text}");
    let empty = supportbot(&["digest", "--from", "2026-10-01", "--to", "2026-10-02", "--db", &db], dir.path());
    assert!(stdout(&empty).contains("0 seen."), "{}", stdout(&empty));
    let no_channels = supportbot(&["digest", "--post", "--db", &db], dir.path());
    assert!(!no_channels.status.success() && stderr(&no_channels).contains("[digest] channels"), "{}", stderr(&no_channels));
}

#[test]
fn a_bad_setting_is_said_once_and_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = supportbot(&["faq", "list", "--db", "supportbot.db"], dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.matches("must start with sqlite: or postgres:").count(), 1, "{err}");
    assert!(err.contains("sqlite://supportbot.db") && !err.contains("unavailable"), "{err}");

    let out = supportbot_with(&["faq", "list"], dir.path(), &[("SUPPORTBOT_FAQ__TRESHOLD", "0.5")]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("SUPPORTBOT_FAQ__TRESHOLD") && err.contains("`treshold`") && err.contains("`threshold`"), "{err}");

    std::fs::write(dir.path().join("supportbot.toml"), "[faq]\ntreshold = 0.5\n").unwrap();
    let err = stderr(&supportbot(&["faq", "list"], dir.path()));
    assert!(err.contains("supportbot.toml: ") && err.contains("`treshold`") && !err.contains("SUPPORTBOT_"), "{err}");
}
