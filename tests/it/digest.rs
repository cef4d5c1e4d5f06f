//! The weekly digest: posted once per period across instances, caught up after downtime.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use supportbot::bot::digest::post_if_due;
use supportbot::chat::{ChatSink, SendError, deliver_pending};
use supportbot::domain::cluster::{EMBEDDING_BAR, Theme, Tightness, WORDS_BAR, coherence, kmeans_auto, matrix};
use supportbot::domain::message::{Action, ActionKind};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn post(bot: &supportbot::bot::Bot, instance: &str, now: DateTime<Utc>) -> bool {
    post_if_due(bot.store(), bot.prompts(), None, bot.config(), instance, now).await.unwrap()
}

/// The themes of the test day's digest, found without a model.
async fn themes_of_the_day(
    bot: &supportbot::bot::Bot,
    settings: &supportbot::config::DigestSettings,
) -> anyhow::Result<Option<Vec<supportbot::domain::cluster::Theme>>> {
    let (from, to) = (at(-60), at(60 * 24));
    let config = supportbot::bot::BotConfig { digest: settings.clone(), ..bot.config().clone() };
    supportbot::bot::digest::digest(bot.store(), None, &config, from, to, to).await.unwrap().themes
}

#[tokio::test]
async fn two_instances_post_each_weeks_digest_exactly_once_and_catch_up_a_missed_one() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.channels = vec!["test:announcements".into()];
    let (a, b) = (bot_with(&db, TEST_FAQ, config.clone()).await, bot_with(&db, TEST_FAQ, config.clone()).await);
    // A week of activity before Monday 9 November 09:00 UTC.
    send(&a, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    send(&a, message("m2", 60, user("ben"), "can it run on a raspberry pi?")).await;
    send(&a, reply("m3", 65, user("cat"), "m2", "yes, the arm64 build")).await;

    // The bots were down on Monday; on Wednesday both come back at the same moment.
    let wednesday = utc("2026-11-11T12:00:00Z");
    let (first, second) = tokio::join!(post(&a, "a", wednesday), post(&b, "b", wednesday));
    assert!(first ^ second, "exactly one instance posts: {first} {second}");
    assert!(!post(&a, "a", utc("2026-11-13T12:00:00Z")).await, "once per period");
    assert!(!post(&b, "b", utc("2026-11-16T08:59:00Z")).await);

    let sink = Collect::default();
    deliver_pending(&a.outbox(), &sink, wednesday).await.unwrap();
    let posted: Vec<Action> = sink.0.lock().unwrap().iter().filter(|a| a.kind == ActionKind::Digest).cloned().collect();
    assert_eq!(posted.len(), 1);
    assert_eq!((posted[0].kind, posted[0].channel.as_str()), (ActionKind::Digest, "announcements"));
    assert!(posted[0].text.contains("2026-11-02 to 2026-11-09"), "{}", posted[0].text);
    assert!(posted[0].text.contains("2 seen. 1 answered by the bot"), "{}", posted[0].text);

    assert!(post(&b, "b", utc("2026-11-16T09:00:00Z")).await, "the next Monday posts again");
}

#[tokio::test]
async fn moderators_preview_the_digest_and_members_cannot() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    let preview = send(&bot, command("c1", 10, moderator("mia"), "digest")).await;
    assert_eq!(kinds(&preview), vec![ActionKind::Digest]);
    assert!(preview[0].ephemeral && preview[0].text.contains("1 seen"), "{}", preview[0].text);
    let refused = send(&bot, command("c2", 10, user("ann"), "digest")).await;
    assert_eq!(kinds(&refused), vec![ActionKind::Refused]);
}

#[tokio::test]
async fn feedback_is_gathered_from_the_command_feedback_channels_and_not_helpful_comments() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.feedback_channels = vec!["feedback".into()];
    let bot = bot_with(&db, TEST_FAQ, config).await;
    let thanks = send(&bot, command("c1", 0, user("ann"), "feedback the docs site is slow")).await;
    assert_eq!(kinds(&thanks), vec![ActionKind::Reply]);
    let mut in_channel = message("m1", 1, user("ben"), "why is the release so late?");
    in_channel.channel = "feedback".into();
    assert!(send(&bot, in_channel).await.is_empty(), "a feedback channel is not a help channel");
    send(&bot, message("m2", 2, user("cat"), "how do I reset my password?")).await;
    let mut vote = vote("v1", 3, user("cat"), "m2", false);
    vote.kind = supportbot::domain::message::IncomingKind::Feedback { on: "m2".into(), helpful: false, comment: Some("the link expired".into()) };
    send(&bot, vote).await;
    let notes = bot.store().feedback_between(at(0), at(60)).await.unwrap();
    let texts: Vec<&str> = notes.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, vec!["the docs site is slow", "why is the release so late?", "the link expired"]);
    assert!(bot.store().question("test", "m1").await.unwrap().is_none());
    assert!(bot.tick(at(60)).await.unwrap().iter().all(|(_, a)| a.in_reply_to.as_deref() != Some("m1")));
}

#[tokio::test]
async fn a_digest_queued_by_hand_is_posted_once_per_channel() {
    let db = sqlite_db();
    let mut config = test_config();
    config.digest.channels = vec!["test:announcements".into(), "test:general".into()];
    let bot = bot_with(&db, TEST_FAQ, config).await;
    let (from, to) = (utc("2026-11-02T00:00:00Z"), utc("2026-11-09T00:00:00Z"));
    for _ in 0..2 {
        let queued = supportbot::bot::digest::queue(bot.store(), bot.prompts(), None, bot.config(), from, to, to).await.unwrap();
        assert_eq!(queued, 2);
    }
    let sink = Collect::default();
    deliver_pending(&bot.outbox(), &sink, to).await.unwrap();
    let channels: Vec<String> = sink.0.lock().unwrap().iter().map(|a| a.channel.clone()).collect();
    assert_eq!(channels, vec!["announcements", "general"]);
}

#[tokio::test]
async fn without_a_model_the_themes_come_from_tf_idf() {
    let (bot, _db) = spawn_bot().await;
    let questions = [
        ("ann", "how do I reset my password?"),
        ("ben", "my password reset link never arrives"),
        ("cat", "the password reset email is missing"),
        ("dan", "password reset does not work for me"),
        ("eve", "can it run on a raspberry pi arm board?"),
        ("fay", "the arm build fails on my raspberry pi"),
        ("gus", "does the raspberry pi arm64 build exist?"),
        ("hal", "raspberry pi arm install fails"),
    ];
    for (i, (who, text)) in questions.iter().enumerate() {
        send(&bot, message(&format!("q{i}"), i as i64 * 30, user(who), text)).await;
    }
    let themes = themes_of_the_day(&bot, &bot.config().digest).await.unwrap().expect("themes without a model");
    let keywords: Vec<String> = themes.iter().map(|t| t.keywords.join(" ")).collect();
    assert!(keywords.iter().any(|k| k.contains("password")), "{keywords:?}");
    assert!(keywords.iter().any(|k| k.contains("raspberry") || k.contains("pi") || k.contains("arm")), "{keywords:?}");
    assert_eq!(themes.iter().map(|t| t.size).sum::<usize>(), questions.len());
}

#[tokio::test]
async fn a_configured_number_of_clusters_is_used_as_is() {
    let (bot, _db) = spawn_bot().await;
    for (i, (who, text)) in
        [("ann", "password reset fails?"), ("ben", "arm build crashes?"), ("cat", "postgres connection refused?"), ("dan", "docker image too big?")]
            .iter()
            .enumerate()
    {
        send(&bot, message(&format!("k{i}"), i as i64 * 10, user(who), text)).await;
    }
    let mut settings = bot.config().digest.clone();
    settings.clusters = Some(4);
    settings.themes = 10;
    let themes = themes_of_the_day(&bot, &settings).await.unwrap();
    // Four unrelated messages share no word: TF-IDF has nothing to compare them on, no theme.
    assert_eq!(themes, Some(vec![]));
    let again = [
        "password reset link fails?",
        "arm build crashes again?",
        "postgres connection refused again?",
        "docker image is too big?",
        "password reset still fails?",
        "the arm build crashes?",
        "postgres connection refused today?",
        "docker image far too big?",
    ];
    for (i, text) in again.iter().enumerate() {
        send(&bot, message(&format!("k{}", i + 4), 50 + i as i64 * 10, user(&format!("member{i}")), text)).await;
    }
    assert_eq!(bot.store().questions_between(at(-60), at(60 * 24)).await.unwrap().len(), 12, "all taken for questions");
    let themes = themes_of_the_day(&bot, &settings).await.unwrap().unwrap();
    // k = 4 as configured: the four topics of three messages each. The automatic k (at most 3
    // for twelve messages) would have merged two of them.
    let sizes: Vec<(usize, Tightness)> = themes.iter().map(|t| (t.size, t.tightness)).collect();
    assert_eq!(sizes, vec![(3, Tightness::Tight); 4], "{themes:?}");
}

/// 18 questions a support channel could get in a week, each about something else (they share
/// a few everyday words, as real ones do).
const UNRELATED: [&str; 18] = [
    "How do I change the bot's nickname on my server?",
    "Is there a dark mode for the web dashboard?",
    "Why does the docker image fail to start with a permission error?",
    "Can I export my ticket history to a CSV file?",
    "Which PostgreSQL versions are supported?",
    "Why does my Slack app say invalid_auth after I rotated the token?",
    "How much memory does the embedding model need?",
    "Does the bot run on a Raspberry Pi?",
    "Can the digest be posted on Fridays instead of Mondays?",
    "Why are emoji reactions not counted as votes?",
    "Is there a way to translate the answers into German?",
    "Why does the bot reply twice to every message in one channel?",
    "How do I back up the SQLite database file?",
    "Can moderators edit an FAQ entry from Discord?",
    "What license is the project under?",
    "Where are the logs written when it runs under systemd?",
    "Can I limit the bot to a single channel on my server?",
    "Why does the metrics endpoint return an error 404 behind nginx?",
];

/// One problem, asked eight ways.
const PASSWORD_RESET: [&str; 8] = [
    "Why do I never get the password reset email?",
    "password reset email never arrives, what can I do?",
    "the reset password email doesn't come, any idea?",
    "still waiting for the password reset email, is it broken?",
    "no password reset email in my inbox, why?",
    "password reset mail not arriving, I checked spam, help?",
    "I requested a password reset twice and got no email, why?",
    "where is my password reset email?",
];

/// Sends `texts` as questions from as many people, half an hour apart, and checks they were all
/// taken for questions (so the themes are made of all of them).
async fn ask_all(bot: &supportbot::bot::Bot, texts: &[&str]) {
    for (i, text) in texts.iter().enumerate() {
        send(bot, message(&format!("t{i}"), i as i64 * 30, user(&format!("member{i}")), text)).await;
    }
    let seen = bot.store().questions_between(at(-60), at(60 * 24)).await.unwrap();
    assert_eq!(seen.len(), texts.len(), "every message is a question: {:?}", seen.iter().map(|q| &q.text).collect::<Vec<_>>());
}

/// The test day's digest text, themes found with `model` (None: TF-IDF).
async fn digest_text(bot: &supportbot::bot::Bot, model: Option<&std::sync::Arc<supportbot::semantic::Embedder>>) -> (String, Vec<Theme>) {
    let (from, to) = (at(-60), at(60 * 24));
    let digest = supportbot::bot::digest::digest(bot.store(), model, bot.config(), from, to, to).await.unwrap();
    let themes = digest.themes.unwrap().expect("themes were worked out");
    (supportbot::bot::digest::render(bot.prompts(), &digest.numbers, Some(&themes)), themes)
}

/// Two areas of the product, each asked about in different ways (not paraphrases).
const DOCKER: [&str; 6] = [
    "The docker container exits right after it starts",
    "How do I pass the config file to the docker container?",
    "docker compose: the volume for the database is not writable",
    "Is there an arm64 docker image?",
    "The docker image is 2 GB, can it be smaller?",
    "docker logs show nothing when the container crashes",
];
const SLACK: [&str; 5] = [
    "Which scopes does the Slack app need?",
    "The Slack app does not answer in private channels",
    "How do I install the Slack app without socket mode?",
    "Slack says the bot token is invalid after reinstalling the app",
    "Can one Slack app serve two workspaces?",
];

/// A busier week: the three topics among 15 unrelated questions.
fn busier() -> Vec<&'static str> {
    let mut texts: Vec<&str> = UNRELATED[..15].to_vec();
    texts.extend(DOCKER);
    texts.extend(SLACK);
    texts.extend(&PASSWORD_RESET[..6]);
    texts
}

fn interleaved() -> Vec<&'static str> {
    let mut texts: Vec<&str> = UNRELATED.to_vec();
    for (i, p) in PASSWORD_RESET.iter().enumerate() {
        texts.insert(i * 3, p);
    }
    texts
}

#[tokio::test]
async fn eighteen_unrelated_questions_are_no_theme_and_the_digest_says_so() {
    let (bot, _db) = spawn_bot().await;
    ask_all(&bot, &UNRELATED).await;
    let (text, themes) = digest_text(&bot, None).await;
    assert!(themes.is_empty(), "unrelated questions shown as a theme: {themes:?}");
    assert!(text.contains("*Top themes:* none this period: no group of alike messages stood out."), "{text}");
    assert!(!text.contains("model"), "{text}");
}

#[tokio::test]
async fn a_question_asked_eight_ways_among_unrelated_ones_is_a_theme() {
    let (bot, _db) = spawn_bot().await;
    ask_all(&bot, &interleaved()).await;
    let (text, themes) = digest_text(&bot, None).await;
    let password =
        themes.iter().find(|t| t.keywords.iter().any(|k| k == "password")).unwrap_or_else(|| panic!("no password theme: {themes:?}\n{text}"));
    assert!((7..=9).contains(&password.size) && password.coherence >= WORDS_BAR.theme, "{password:?}");
    assert!(themes.iter().all(|t| t.size < 11), "the unrelated rest is no theme: {themes:?}");
    let line = text.lines().find(|l| l.contains("password")).unwrap();
    assert!(line.contains(&format!("{} messages, ", password.size)) && (line.contains("tight group") || line.contains("loose group")), "{text}");
}

#[tokio::test]
#[ignore = "needs the sentence-embedding model: set TEST_MODEL_DIR and add --run-ignored all (.ci/run does)"]
async fn with_the_model_unrelated_questions_are_no_theme_and_a_repeated_one_is() {
    let dir = supportbot::semantic::embedder::test_model_dir().expect("TEST_MODEL_DIR must name an unpacked all-MiniLM-L6-v2 (.ci/run downloads it)");
    let model = std::sync::Arc::new(supportbot::semantic::Embedder::load(&dir, false).unwrap());
    // The clusters k-means makes of each week, and how alike their messages are.
    for texts in [UNRELATED.to_vec(), interleaved(), busier()] {
        let x = matrix(&model.embed(&texts).unwrap());
        let c = kmeans_auto(&x).unwrap();
        let clusters: Vec<(usize, f64)> = (0..c.k()).map(|t| c.nearest_to_centre(&x, t)).map(|m| (m.len(), coherence(&x, &m))).collect();
        eprintln!("on embeddings: clusters (size, coherence) {clusters:?}");
    }
    // Every three of the unrelated questions: at worst a loose theme, never a tight one.
    let x = matrix(&model.embed(&UNRELATED).unwrap());
    let mut best: f64 = 0.0;
    for a in 0..18 {
        for b in a + 1..18 {
            for c in b + 1..18 {
                best = best.max(coherence(&x, &[a, b, c]));
            }
        }
    }
    let topics = matrix(&model.embed(&[&PASSWORD_RESET[..], &DOCKER[..], &SLACK[..]].concat()).unwrap());
    let span = |a: usize, b: usize| (a..b).collect::<Vec<usize>>();
    let (password, docker, slack) = (coherence(&topics, &span(0, 8)), coherence(&topics, &span(8, 14)), coherence(&topics, &span(14, 19)));
    eprintln!(
        "on embeddings: the most alike three unrelated questions {best:.3}; password reset {password:.3}, docker {docker:.3}, slack {slack:.3}"
    );
    assert!(best < EMBEDDING_BAR.tight, "{best}");
    assert_eq!(Tightness::of(password, EMBEDDING_BAR), Some(Tightness::Tight));
    assert_eq!((Tightness::of(docker, EMBEDDING_BAR), Tightness::of(slack, EMBEDDING_BAR)), (Some(Tightness::Loose), Some(Tightness::Loose)));
    let (bot, _db) = spawn_bot().await;
    ask_all(&bot, &UNRELATED).await;
    let (_, themes) = digest_text(&bot, Some(&model)).await;
    assert!(themes.is_empty(), "unrelated questions shown as a theme: {themes:?}");
    let (bot, _db) = spawn_bot().await;
    ask_all(&bot, &interleaved()).await;
    let (text, themes) = digest_text(&bot, Some(&model)).await;
    let password =
        themes.iter().find(|t| t.keywords.iter().any(|k| k == "password")).unwrap_or_else(|| panic!("no password theme: {themes:?}\n{text}"));
    assert!((7..=9).contains(&password.size) && password.tightness == Tightness::Tight, "{password:?}");
    assert!(themes.iter().all(|t| t.size < 11), "the unrelated rest is no theme: {themes:?}");
}

/// A platform that refuses everything for good (the channel is gone).
struct Gone;

impl ChatSink for Gone {
    fn platform(&self) -> &str {
        "test"
    }

    async fn send(&self, _action: &Action) -> Result<(), SendError> {
        Err(SendError::permanent("channel_not_found"))
    }
}

#[tokio::test]
async fn the_digest_says_how_many_messages_could_not_be_delivered() {
    let (bot, _db) = spawn_bot().await;
    send(&bot, message("m1", 0, user("ann"), "how do I reset my password?")).await;
    let before = send(&bot, command("c1", 5, moderator("mia"), "digest")).await;
    assert!(!before[0].text.contains("Undelivered"), "{}", before[0].text);
    deliver_pending(&bot.outbox(), &Gone, at(6)).await.unwrap();
    let after = send(&bot, command("c2", 10, moderator("mia"), "digest")).await;
    // The answer and the first preview were given up on.
    assert!(after[0].text.contains("*Undelivered:* 2 messages could not be delivered"), "{}", after[0].text);
}

/// An FAQ that knows nothing about passwords.
const INSTALL_ONLY: &str = r#"
[[faq]]
id = "install"
question = "How do I install the bot?"
answer = "Run `cargo install --path .` from a checkout."
"#;

#[tokio::test]
async fn questions_the_faq_could_not_answer_are_a_knowledge_gap_with_the_command_that_fills_it() {
    let db = sqlite_db();
    let bot = bot_with(&db, INSTALL_ONLY, test_config()).await;
    ask_all(&bot, &interleaved()).await;
    let (text, _) = digest_text(&bot, None).await;
    let gap = text.lines().find(|l| l.starts_with("- ") && l.contains("password") && l.contains("faq add")).unwrap_or_else(|| panic!("{text}"));
    assert!(gap.contains("questions from") && gap.contains("`faq add "), "{gap}");
    assert_eq!(text.matches("faq add").count(), 1, "the unrelated questions are no gap: {text}");

    // A member answers one of them: the gap offers that answer, in a filled-in `faq add`.
    send(&bot, reply("r1", 60 * 19, user("helper"), "t3", "check the spam folder | it comes from noreply@example.org")).await;
    let (text, _) = digest_text(&bot, None).await;
    let gap =
        text.lines().find(|l| l.starts_with("- ") && l.contains("password") && l.contains("questions from")).unwrap_or_else(|| panic!("{text}"));
    assert!(gap.contains("a member answered: check the spam folder"), "{gap}");
    assert!(
        gap.contains(" | check the spam folder / it comes from noreply@example.org`"),
        "the answer fills the command, its | made harmless: {gap}"
    );
    assert!(!gap.contains("<the question>"), "above the privacy floor a central question fills it: {gap}");

    // A moderator answers one of them in a ticket: the gap now offers that answer as the entry.
    let opened = send(&bot, command("c1", 60 * 20, moderator("mia"), "escalate t0")).await;
    let ticket = opened[0].ticket_id.unwrap();
    send(
        &bot,
        command(
            "c2",
            60 * 20 + 1,
            moderator("mia"),
            &format!("ticket resolve {ticket} the mail goes out within a minute; check the address in your profile"),
        ),
    )
    .await;
    let (text, _) = digest_text(&bot, None).await;
    let gap =
        text.lines().find(|l| l.starts_with("- ") && l.contains("password") && l.contains("questions from")).unwrap_or_else(|| panic!("{text}"));
    assert!(gap.contains(&format!("ticket #{ticket} was resolved with: the mail goes out within a minute")), "{gap}");
    assert!(gap.ends_with(&format!("`faq learn {ticket}`")), "{gap}");
}
