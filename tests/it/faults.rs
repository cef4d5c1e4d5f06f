//! Fault injection: real `supportbot run` processes killed at seeded crash points between an
//! event's acknowledgement and its answer's delivery, restarted on the same database, with
//! unacknowledged events sent again as Slack would. At the end every acknowledged question
//! has exactly one answer: nothing lost, nothing doubled.

use crate::fake_slack::FakeSlack;
use crate::helpers::{TestDb, postgres_db, sqlite_db};
use crate::instances::{Instance, Seeded, question_event, question_ts, replies_per_question};
use std::collections::BTreeSet;
use std::time::Duration;

/// Questions the example FAQ answers with full confidence on words alone.
const QUESTIONS: &[&str] = &[
    "How do I install supportbot?",
    "How do I run supportbot with Docker?",
    "How do I try supportbot for the first time?",
    "Where does supportbot read its configuration from?",
];

const CRASH_POINTS: &[&str] = &["inbox.recorded", "process.before_commit", "process.after_commit", "deliver.after_send"];

/// Sends `events` questions through instances that crash at seeded points, and returns the
/// fake that saw the answers plus the questions that were acknowledged.
async fn burst_with_crashes(db: &TestDb, seed: u64, events: usize, crashes: usize) -> (FakeSlack, BTreeSet<usize>) {
    let fake = FakeSlack::start().await;
    let mut rng = Seeded::new(seed);
    let crash_plan = |rng: &mut Seeded| {
        let point = CRASH_POINTS[rng.below(CRASH_POINTS.len() as u64) as usize];
        format!("{point}:{}", 1 + rng.below(events as u64 / 4))
    };
    let mut crashes_left = crashes;
    let mut instance = Instance::start(&db.url, &fake, Some(&crash_plan(&mut rng))).await;
    let mut acked = BTreeSet::new();
    let mut unacked: Vec<usize> = (0..events).collect();
    unacked.reverse();
    let mut restarts = 0;
    while let Some(n) = unacked.pop() {
        match instance.post_event(&question_event(n, QUESTIONS[n % QUESTIONS.len()])).await {
            Some(200) => {
                acked.insert(n);
            }
            // Not acknowledged: Slack sends it again later.
            _ => unacked.insert(0, n),
        }
        if instance.exited() {
            restarts += 1;
            assert!(restarts <= crashes + 20, "seed {seed}: the bot keeps dying");
            crashes_left = crashes_left.saturating_sub(1);
            let next = (crashes_left > 0).then(|| crash_plan(&mut rng));
            instance = Instance::start(&db.url, &fake, next.as_deref()).await;
        }
    }
    // A crash may come after the last acknowledgement (a delivery still under way).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if instance.exited() {
            instance = Instance::start(&db.url, &fake, None).await;
        }
        let answered = replies_per_question(&fake);
        if acked.iter().all(|n| answered.contains_key(&question_ts(*n))) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "seed {seed}: not every acknowledged question was answered: {answered:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Until nothing is left to process or deliver: a doubled answer would have been posted by then.
    crate::instances::wait_settled(&db.url, Duration::from_secs(30)).await;
    drop(instance);
    (fake, acked)
}

fn assert_exactly_once(seed: u64, fake: &FakeSlack, acked: &BTreeSet<usize>) {
    let answered = replies_per_question(fake);
    let lost: Vec<_> = acked.iter().filter(|n| !answered.contains_key(&question_ts(**n))).collect();
    let doubled: Vec<_> = answered.iter().filter(|(_, count)| **count > 1).collect();
    assert!(lost.is_empty() && doubled.is_empty(), "seed {seed}: lost {lost:?}, doubled {doubled:?}");
}

fn seed() -> u64 {
    std::env::var("FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_201)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_at_seeded_points_lose_and_double_nothing_on_sqlite() {
    let db = sqlite_db();
    let (fake, acked) = burst_with_crashes(&db, seed(), 40, 4).await;
    assert_eq!(acked.len(), 40, "every question is acknowledged in the end");
    assert_exactly_once(seed(), &fake, &acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn crashes_at_seeded_points_lose_and_double_nothing_on_postgres() {
    let db = postgres_db().await;
    let (fake, acked) = burst_with_crashes(&db, seed() + 1, 40, 4).await;
    assert_eq!(acked.len(), 40);
    assert_exactly_once(seed() + 1, &fake, &acked);
}

/// A ticket timer's notices and its "fired" mark are one unit of work: killed between writing
/// them and committing, the restarted bot fires the SLA warning once, and the breach once.
#[tokio::test]
async fn a_timer_killed_before_its_commit_fires_once_after_the_restart() {
    let db = sqlite_db();
    let fake = FakeSlack::start().await;
    let mut config = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::io::Write::write_all(&mut config, b"[tickets.sla.normal]\nfirst_response = \"3s\"\n").unwrap();
    let mut instance = Instance::start_with(&db.url, &fake, Some("timer.before_commit:1"), Some(config.path())).await;
    assert_eq!(instance.post_event(&question_event(1, "my keyboard backlight flickers after the update")).await, Some(200));
    // Unanswered after 1 s: a normal ticket; its SLA warning comes due at 2.25 s, and the
    // instance dies committing it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !instance.exited() {
        assert!(tokio::time::Instant::now() < deadline, "the instance never reached the timer's crash point");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let instance = Instance::start_with(&db.url, &fake, None, Some(config.path())).await;
    let posted = |what: &str| fake.calls("chat.postMessage").iter().filter(|c| c["text"].as_str().unwrap_or_default().contains(what)).count();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while posted("SLA breach: ticket #1") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the breach was never posted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    crate::instances::wait_settled(&db.url, Duration::from_secs(30)).await;
    assert_eq!((posted("SLA warning: ticket #1"), posted("SLA breach: ticket #1")), (1, 1), "{:?}", fake.calls("chat.postMessage"));
    drop(instance);
}
