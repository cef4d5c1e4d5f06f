//! Three `supportbot run` instances on one PostgreSQL behind one Slack signing secret: a burst
//! sent round-robin, one instance killed with SIGKILL mid-burst and its unacknowledged events
//! sent to the others. Every acknowledged question gets exactly one reply, each ticket is
//! opened and announced once, and the digest is posted once.

use crate::fake_slack::FakeSlack;
use crate::helpers::postgres_db;
use crate::instances::{Instance, question_event, question_ts, replies_per_question, wait_settled};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use supportbot::store::Store;

/// Answerable from the example FAQ, and support questions it cannot answer (tickets).
fn question(n: usize) -> String {
    const ANSWERABLE: &[&str] =
        &["How do I install supportbot?", "How do I run supportbot with Docker?", "Where does supportbot read its configuration from?"];
    const UNANSWERABLE: &[&str] = &[
        "my build fails on ARM with an illegal instruction",
        "how do I stop the webhook returning 502 behind nginx?",
        "why does the bot crash when the disk is full?",
    ];
    if n % 3 == 2 { format!("{} (case {n})", UNANSWERABLE[n / 3 % UNANSWERABLE.len()]) } else { ANSWERABLE[n % 3 % ANSWERABLE.len()].to_string() }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn three_instances_on_one_postgres_do_each_thing_once_through_a_kill() {
    let db = postgres_db().await;
    let fake = FakeSlack::start().await;
    let config = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(config.path(), "[digest]\nchannels = [\"slack:C0DIGEST\"]\n").unwrap();
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Instance::start_with(&db.url, &fake, None, Some(config.path())).await);
    }
    const EVENTS: usize = 90;
    let (mut acked, mut latencies) = (BTreeSet::new(), Vec::new());
    let started = Instant::now();
    let mut pending: Vec<usize> = (0..EVENTS).rev().collect();
    let mut turn = 0;
    while let Some(n) = pending.pop() {
        if n == EVENTS / 2 && !instances[1].exited() {
            instances[1].kill();
        }
        let live: Vec<usize> = (0..instances.len()).filter(|&i| !instances[i].exited()).collect();
        let target = live[turn % live.len()];
        turn += 1;
        let sent = Instant::now();
        match instances[target].post_event(&question_event(n, &question(n))).await {
            Some(200) => {
                latencies.push(sent.elapsed());
                acked.insert(n);
            }
            _ => pending.push(n), // Slack sends it again, here to the next instance
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(acked.len(), EVENTS);
    wait_settled(&db.url, Duration::from_secs(120)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !acked.iter().all(|n| replies_per_question(&fake).contains_key(&question_ts(*n))) {
        assert!(Instant::now() < deadline, "not every question was answered or ticketed: {:?}", replies_per_question(&fake));
        tokio::time::sleep(Duration::from_millis(50)).await;
        wait_settled(&db.url, Duration::from_secs(30)).await;
    }

    let replies = replies_per_question(&fake);
    let doubled: Vec<_> = replies.iter().filter(|(_, c)| **c > 1).collect();
    assert!(doubled.is_empty(), "doubled replies: {doubled:?}");
    let store = Store::connect(&db.url, 1).await.unwrap();
    let tickets = store.tickets(None, 1_000).await.unwrap();
    assert!(!tickets.is_empty(), "the unanswerable questions became tickets");
    let notices: Vec<String> = fake
        .calls("chat.postMessage")
        .iter()
        .filter(|c| c["channel"] == "C0MODS")
        .filter_map(|c| c["text"].as_str().map(String::from))
        .filter(|t| t.contains("New ticket #"))
        .collect();
    for t in &tickets {
        let announced = notices.iter().filter(|n| n.contains(&format!("New ticket #{} ", t.id))).count();
        assert_eq!(announced, 1, "ticket #{} announced {announced} times", t.id);
    }
    let digests = fake.calls("chat.postMessage").iter().filter(|c| c["channel"] == "C0DIGEST").count();
    assert_eq!(digests, 1, "the digest is posted once by the three instances");

    latencies.sort();
    println!(
        "three instances, one killed: {EVENTS} events in {:.2} s ({:.0} events/s), ack p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        EVENTS as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
}

/// Acknowledgements per second with `count` instances on one fresh PostgreSQL database: 400
/// events from 8 concurrent senders, round-robin. Returns (events/s, p50, p99).
async fn acknowledgement_rate(count: usize) -> (f64, Duration, Duration) {
    const EVENTS: usize = 400;
    const SENDERS: usize = 8;
    let db = postgres_db().await;
    let fake = FakeSlack::start().await;
    let mut instances = Vec::new();
    for _ in 0..count {
        instances.push(Instance::start(&db.url, &fake, None).await);
    }
    let instances = std::sync::Arc::new(instances);
    let started = Instant::now();
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let instances = instances.clone();
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in (s..EVENTS).step_by(SENDERS) {
                let sent = Instant::now();
                let status = instances[n % instances.len()].post_event(&question_event(n, &question(n))).await;
                assert_eq!(status, Some(200), "event {n}");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for s in senders {
        latencies.extend(s.await.unwrap());
    }
    // Only the acknowledgements are measured: the answers, all to one channel, leave at Slack's
    // pace of about one a second per channel and instance.
    let elapsed = started.elapsed();
    latencies.sort();
    (EVENTS as f64 / elapsed.as_secs_f64(), percentile(&latencies, 0.5), percentile(&latencies, 0.99))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_POSTGRES_URL and run with --run-ignored all"]
async fn acknowledgement_rate_with_one_and_three_instances() {
    for count in [1, 3] {
        let (rate, p50, p99) = acknowledgement_rate(count).await;
        println!("{count} instance(s): {rate:.0} events/s, ack p50 {:.1} ms, p99 {:.1} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3);
    }
}
