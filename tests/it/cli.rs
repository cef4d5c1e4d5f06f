//! The binary itself: FAQ import/export and replay, as an operator runs them.

use std::path::Path;
use std::process::{Command, Output};

fn supportbot(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(args)
        .current_dir(dir)
        .env_remove("SUPPORTBOT_DATABASE__URL")
        .env("SUPPORTBOT_MODEL__FETCH", "false") // no test reaches the internet (huggingface.co is the default)
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
    std::fs::write(&bad, "[[faq]]\nid = \"ok\"\nquestion = \"q\"\nanswer = \"a\"\n\n[[faq]]\nid = \"Not OK\"\nquestion = \"q\"\nanswer = \"a\"\n").unwrap();
    let db = format!("sqlite://{}", dir.path().join("faq.db").display());
    let out = supportbot(&["faq", "import", bad.to_str().unwrap(), "--db", &db], dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("bad.toml:7:") && err.contains("`id`"), "{err}");
    let export = supportbot(&["faq", "export", "--db", &db], dir.path());
    let left = supportbot::domain::faq::parse_faq_file("export", &stdout(&export)).unwrap();
    assert!(left.is_empty(), "nothing was imported: {left:?}");
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
