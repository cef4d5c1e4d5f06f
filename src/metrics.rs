//! What the bot has been doing, for Prometheus: `GET /metrics` in the OpenMetrics text format.
//!
//! One process-wide registry (a `static`): the events, decisions and deliveries happen deep in
//! the bot, the store and the delivery loop, and a counter handle threaded through all of them
//! would buy nothing: a process serves one bot. Call sites are one line: `metrics::decided(...)`.
//! Label values are bounded: platform names (the adapters' own: `slack`, `discord`, `console`,
//! `replay`), event kinds, outcomes, ticket origins, error kinds; never user text or ids.
//! Tests that share a process tell their counts apart by a platform name of their own.
//!
//! The outbox's depth and age are read from the database at scrape time (one query, given
//! `OUTBOX_QUERY_TIMEOUT`): a scrape answers even when the database does not, without them.

use crate::domain::message::IncomingKind;
use crate::domain::ticket::Origin;
use crate::store::Store;
use crate::store::health::OutboxBacklog;
use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// What `GET /metrics` answers with (what the encoder writes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Longest a scrape waits for the outbox query before answering without the outbox gauges.
pub const OUTBOX_QUERY_TIMEOUT: Duration = Duration::from_millis(500);

const PREFIX: &str = "supportbot";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabel {
    platform: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    platform: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    platform: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TicketLabels {
    platform: String,
    origin: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

type Seconds = Counter<f64, AtomicU64>;

/// What the bot decided about one event (`supportbot_decisions_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A question answered from the FAQ.
    Answered,
    /// A question left for the community (a ticket follows if nobody answers).
    Pending,
    /// A message that is not a support question.
    NotAQuestion,
    /// A message in a question's conversation (a community answer, a follow-up).
    ThreadReply,
    /// A message in a feedback channel, kept for the digest.
    Feedback,
    /// A command (an `ask` also counts its question as answered or pending).
    Command,
    /// A redelivery of an event already handled, or a question already taken.
    Duplicate,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Pending => "pending",
            Outcome::NotAQuestion => "not_question",
            Outcome::ThreadReply => "thread_reply",
            Outcome::Feedback => "feedback",
            Outcome::Command => "command",
            Outcome::Duplicate => "duplicate",
        }
    }
}

struct Metrics {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    answers: Family<PlatformLabel, Counter>,
    tickets: Family<TicketLabels, Counter>,
    decision_seconds: Family<PlatformLabel, Histogram>,
    retried: Family<PlatformLabel, Counter>,
    given_up: Family<PlatformLabel, Counter>,
    rate_limit_waits: Family<PlatformLabel, Counter>,
    rate_limit_seconds: Family<PlatformLabel, Seconds>,
    database_errors: Family<KindLabel, Counter>,
    outbox_unread: Family<ReasonLabel, Counter>,
    /// Platforms seen since start: their outbox depth reads 0 when nothing waits, not absent.
    platforms: Mutex<BTreeSet<String>>,
}

/// Event handling takes milliseconds (an embedding, a few writes); a slow database, seconds.
fn decision_histogram() -> Histogram {
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut m = Metrics {
        registry: Registry::with_prefix(PREFIX),
        events: Family::default(),
        decisions: Family::default(),
        answers: Family::default(),
        tickets: Family::default(),
        decision_seconds: Family::new_with_constructor(decision_histogram as fn() -> Histogram),
        retried: Family::default(),
        given_up: Family::default(),
        rate_limit_waits: Family::default(),
        rate_limit_seconds: Family::default(),
        database_errors: Family::default(),
        outbox_unread: Family::default(),
        platforms: Mutex::default(),
    };
    let r = &mut m.registry;
    r.register("events_received", "Events received from each platform, by kind (redeliveries included)", m.events.clone());
    r.register("decisions", "What the bot decided about each event", m.decisions.clone());
    r.register("answers", "Questions answered from the FAQ", m.answers.clone());
    r.register("tickets_opened", "Tickets opened, by origin", m.tickets.clone());
    r.register_with_unit("decision", "Time to handle one event", Unit::Seconds, m.decision_seconds.clone());
    r.register("deliveries_retried", "Sends that failed and will be tried again", m.retried.clone());
    r.register("deliveries_given_up", "Actions given up on (a permanent error, or too many attempts)", m.given_up.clone());
    r.register("rate_limit_waits", "Times a platform asked the bot to wait before sending again", m.rate_limit_waits.clone());
    r.register_with_unit("rate_limit_wait", "Time the platforms asked the bot to wait", Unit::Seconds, m.rate_limit_seconds.clone());
    r.register("database_errors", "Database failures, by kind", m.database_errors.clone());
    r.register(
        "outbox_scrape_failures",
        "Scrapes answered without the outbox gauges: the database was slow (timeout) or failed (error)",
        m.outbox_unread.clone(),
    );
    m
});

fn platform(name: &str) -> PlatformLabel {
    PlatformLabel { platform: name.to_string() }
}

fn kind_name(kind: &IncomingKind) -> &'static str {
    match kind {
        IncomingKind::Message { .. } => "message",
        IncomingKind::Command { .. } => "command",
        IncomingKind::Feedback { .. } => "feedback",
        IncomingKind::Edited { .. } => "edit",
        IncomingKind::Deleted { .. } => "delete",
    }
}

/// An event arrived (`duplicate`: one already recorded, which is dropped).
pub fn event_recorded(platform: &str, kind: &IncomingKind, duplicate: bool) {
    let m = &*METRICS;
    m.events.get_or_create(&EventLabels { platform: platform.to_string(), kind: kind_name(kind) }).inc();
    if duplicate {
        decided(platform, Outcome::Duplicate);
    }
    let mut seen = m.platforms.lock().unwrap_or_else(|p| p.into_inner());
    if !seen.contains(platform) {
        seen.insert(platform.to_string());
    }
}

pub fn decided(platform: &str, outcome: Outcome) {
    METRICS.decisions.get_or_create(&DecisionLabels { platform: platform.to_string(), outcome: outcome.as_str() }).inc();
}

/// A question was taken: answered from the FAQ, or left waiting for the community.
pub fn question_taken(platform: &str, answered: bool) {
    decided(platform, if answered { Outcome::Answered } else { Outcome::Pending });
    if answered {
        METRICS.answers.get_or_create(&self::platform(platform)).inc();
    }
}

pub fn ticket_opened(platform: &str, origin: Origin) {
    METRICS.tickets.get_or_create(&TicketLabels { platform: platform.to_string(), origin: origin.as_str() }).inc();
}

/// Times the handling of one event; recorded when dropped (whatever the outcome).
#[must_use = "the time is recorded when the timer is dropped"]
pub struct DecisionTimer {
    platform: String,
    started: Instant,
}

impl Drop for DecisionTimer {
    fn drop(&mut self) {
        let label = PlatformLabel { platform: std::mem::take(&mut self.platform) };
        METRICS.decision_seconds.get_or_create(&label).observe(self.started.elapsed().as_secs_f64());
    }
}

pub fn decision_timer(platform: &str) -> DecisionTimer {
    DecisionTimer { platform: platform.to_string(), started: Instant::now() }
}

/// A send failed and will be retried; `rate_limited_for`: the platform asked to wait this long
/// (a 429's `Retry-After`), which also counts as a rate-limit wait.
pub fn delivery_retried(platform: &str, rate_limited_for: Option<chrono::Duration>) {
    METRICS.retried.get_or_create(&self::platform(platform)).inc();
    if let Some(wait) = rate_limited_for {
        rate_limit_waited(platform, wait.to_std().unwrap_or_default());
    }
}

pub fn delivery_given_up(platform: &str) {
    METRICS.given_up.get_or_create(&self::platform(platform)).inc();
}

/// A platform asked the bot to wait `wait` before sending again.
pub fn rate_limit_waited(platform: &str, wait: Duration) {
    let label = self::platform(platform);
    METRICS.rate_limit_waits.get_or_create(&label).inc();
    METRICS.rate_limit_seconds.get_or_create(&label).inc_by(wait.as_secs_f64());
}

/// A database operation failed; `kind` is one of a few fixed names (see `store::health`).
pub fn database_error(kind: &'static str) {
    METRICS.database_errors.get_or_create(&KindLabel { kind }).inc();
}

/// The whole exposition: the process's metrics, then the outbox gauges read from `store` now
/// (left out, and the failure counted, when the database does not answer in time).
pub async fn render(store: &Store) -> String {
    let backlog = match tokio::time::timeout(OUTBOX_QUERY_TIMEOUT, store.outbox_backlog()).await {
        Ok(Ok(backlog)) => Some(backlog),
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "metrics: the outbox could not be read; answering without its gauges");
            METRICS.outbox_unread.get_or_create(&ReasonLabel { reason: "error" }).inc();
            None
        }
        Err(_) => {
            tracing::warn!(timeout_ms = OUTBOX_QUERY_TIMEOUT.as_millis() as u64, "metrics: the outbox query timed out; answering without its gauges");
            METRICS.outbox_unread.get_or_create(&ReasonLabel { reason: "timeout" }).inc();
            None
        }
    };
    encode(backlog.as_deref(), Utc::now())
}

/// The outbox gauges live in a registry of their own, made for one scrape: they are read from
/// the database, not kept, and two bots in one process (tests) each report their own.
fn encode(backlog: Option<&[OutboxBacklog]>, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode_registry(&mut out, &METRICS.registry).expect("writing to a String cannot fail");
    if let Some(backlog) = backlog {
        let depth = Family::<PlatformLabel, Gauge>::default();
        let oldest = Family::<PlatformLabel, Gauge<f64, AtomicU64>>::default();
        let seen = METRICS.platforms.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for name in seen {
            depth.get_or_create(&platform(&name)).set(0);
            oldest.get_or_create(&platform(&name)).set(0.0);
        }
        for b in backlog {
            depth.get_or_create(&platform(&b.platform)).set(b.depth);
            oldest.get_or_create(&platform(&b.platform)).set(((now - b.oldest).num_milliseconds().max(0) as f64) / 1000.0);
        }
        let mut scrape = Registry::with_prefix(PREFIX);
        scrape.register("outbox_depth", "Actions waiting to be sent", depth);
        scrape.register_with_unit("outbox_oldest", "Age of the oldest action waiting to be sent", Unit::Seconds, oldest);
        prometheus_client::encoding::text::encode_registry(&mut out, &scrape).expect("writing to a String cannot fail");
    }
    prometheus_client::encoding::text::encode_eof(&mut out).expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Checks `text` against the OpenMetrics text format as far as a scraper cares: metadata
    /// lines, samples of declared families, label syntax, numeric values, the closing `# EOF`.
    /// Returns the samples (name with labels, value).
    fn parse(text: &str) -> Result<Vec<(String, f64)>, String> {
        let mut types: HashMap<String, String> = HashMap::new();
        let mut samples = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        if lines.last() != Some(&"# EOF") || !text.ends_with('\n') {
            return Err("does not end with `# EOF`".into());
        }
        let name_ok = |n: &str| {
            !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') && !n.starts_with(|c: char| c.is_ascii_digit())
        };
        for (i, line) in lines[..lines.len() - 1].iter().enumerate() {
            let at = |why: &str| format!("line {}: {why}: {line}", i + 1);
            if let Some(meta) = line.strip_prefix("# ") {
                let mut parts = meta.splitn(3, ' ');
                let (keyword, name, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if !name_ok(name) {
                    return Err(at("bad metric name"));
                }
                match keyword {
                    "TYPE" if ["counter", "gauge", "histogram", "summary", "info", "stateset", "unknown", "gaugehistogram"].contains(&rest) => {
                        if types.insert(name.to_string(), rest.to_string()).is_some() {
                            return Err(at("family declared twice"));
                        }
                    }
                    "HELP" | "UNIT" => {}
                    _ => return Err(at("unknown metadata")),
                }
                continue;
            }
            let (series, value) = line.rsplit_once(' ').ok_or_else(|| at("no value"))?;
            value.parse::<f64>().map_err(|_| at("value is not a number"))?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').ok_or_else(|| at("unclosed labels"))?),
                None => (series, ""),
            };
            for pair in labels.split(',').filter(|p| !p.is_empty()) {
                let (key, quoted) = pair.split_once('=').ok_or_else(|| at("label without ="))?;
                if !name_ok(key) || quoted.len() < 2 || !quoted.starts_with('"') || !quoted.ends_with('"') {
                    return Err(at("bad label"));
                }
            }
            let family = types
                .iter()
                .find(|(family, kind)| {
                    let suffixes: &[&str] = match kind.as_str() {
                        "counter" => &["_total", "_created"],
                        "histogram" => &["_bucket", "_count", "_sum", "_created"],
                        _ => &[""],
                    };
                    suffixes.iter().any(|s| name == format!("{family}{s}"))
                })
                .ok_or_else(|| at("sample of an undeclared family"))?;
            if family.1 == "histogram" && name.ends_with("_bucket") && !labels.contains("le=\"") {
                return Err(at("bucket without le"));
            }
            samples.push((series.to_string(), value.parse().unwrap()));
        }
        Ok(samples)
    }

    fn value(samples: &[(String, f64)], series: &str) -> Option<f64> {
        samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v)
    }

    #[test]
    fn the_exposition_parses_as_prometheus_text_with_every_metric() {
        let p = "unit-parse";
        event_recorded(p, &IncomingKind::Command { text: "help".into() }, false);
        event_recorded(p, &IncomingKind::Command { text: "help".into() }, true);
        question_taken(p, true);
        ticket_opened(p, Origin::NotHelpful);
        drop(decision_timer(p));
        delivery_retried(p, Some(chrono::Duration::milliseconds(1500)));
        delivery_given_up(p);
        database_error("unavailable");
        let backlog = [OutboxBacklog { platform: p.into(), depth: 3, oldest: Utc::now() - chrono::Duration::seconds(90) }];
        let text = encode(Some(&backlog), Utc::now());
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for series in [
            format!("supportbot_events_received_total{{platform=\"{p}\",kind=\"command\"}}"),
            format!("supportbot_decisions_total{{platform=\"{p}\",outcome=\"duplicate\"}}"),
            format!("supportbot_decisions_total{{platform=\"{p}\",outcome=\"answered\"}}"),
            format!("supportbot_answers_total{{platform=\"{p}\"}}"),
            format!("supportbot_tickets_opened_total{{platform=\"{p}\",origin=\"not_helpful\"}}"),
            format!("supportbot_decision_seconds_count{{platform=\"{p}\"}}"),
            format!("supportbot_deliveries_retried_total{{platform=\"{p}\"}}"),
            format!("supportbot_deliveries_given_up_total{{platform=\"{p}\"}}"),
            format!("supportbot_rate_limit_waits_total{{platform=\"{p}\"}}"),
        ] {
            assert_eq!(value(&samples, &series), Some(if series.contains("events_received") { 2.0 } else { 1.0 }), "{series}\n{text}");
        }
        assert_eq!(value(&samples, &format!("supportbot_rate_limit_wait_seconds_total{{platform=\"{p}\"}}")), Some(1.5));
        assert_eq!(value(&samples, &format!("supportbot_outbox_depth{{platform=\"{p}\"}}")), Some(3.0));
        let age = value(&samples, &format!("supportbot_outbox_oldest_seconds{{platform=\"{p}\"}}")).unwrap();
        assert!((90.0..100.0).contains(&age), "{age}");
        assert!(value(&samples, "supportbot_database_errors_total{kind=\"unavailable\"}").is_some_and(|n| n >= 1.0));
        assert!(text.contains("# TYPE supportbot_decision_seconds histogram"), "{text}");
    }

    #[test]
    fn without_the_outbox_the_exposition_still_parses_and_has_no_outbox_gauges() {
        let text = encode(None, Utc::now());
        parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(!text.contains("outbox_depth") && !text.contains("outbox_oldest"), "{text}");
    }

    #[test]
    fn the_checker_rejects_what_a_scraper_would() {
        assert!(parse("# TYPE a counter\na_total 1\n# EOF\n").is_ok());
        assert!(parse("# TYPE a counter\na_total 1\n").is_err(), "no EOF");
        assert!(parse("# TYPE a counter\nb_total 1\n# EOF\n").is_err(), "undeclared");
        assert!(parse("# TYPE a counter\na_total one\n# EOF\n").is_err(), "not a number");
        assert!(parse("# TYPE a counter\na_total{x=1} 1\n# EOF\n").is_err(), "unquoted label");
        assert!(parse("# TYPE a histogram\na_bucket 1\n# EOF\n").is_err(), "bucket without le");
    }
}
