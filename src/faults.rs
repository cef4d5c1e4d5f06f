//! Crash points for the fault-injection tests: `SBTEST_CRASH_AT=POINT[:N]` makes the
//! process abort (like `kill -9`: no destructors, no flushing, no commit) the N-th time (first
//! by default) it passes `POINT`. Unset, a crash point costs one relaxed atomic load.
//!
//! Points: `inbox.recorded` (an event is stored, not yet acknowledged), `process.before_commit`
//! (an event's effects are written, not committed), `process.after_commit` (committed, not yet
//! delivered), `deliver.after_send` (the platform has the message, the outbox does not know),
//! `timer.before_commit` (a ticket timer's notices are written and it is marked fired, not
//! committed).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the crash point.
pub const CRASH_AT_ENV: &str = "SBTEST_CRASH_AT";

struct CrashAt {
    point: String,
    nth: u64,
    passed: AtomicU64,
}

fn configured() -> Option<&'static CrashAt> {
    static CRASH_AT: OnceLock<Option<CrashAt>> = OnceLock::new();
    CRASH_AT
        .get_or_init(|| {
            let raw = std::env::var(CRASH_AT_ENV).ok().filter(|v| !v.trim().is_empty())?;
            let (point, nth) = match raw.rsplit_once(':') {
                Some((point, n)) => (point.to_string(), n.trim().parse().unwrap_or(1)),
                None => (raw.clone(), 1),
            };
            Some(CrashAt { point: point.trim().to_string(), nth: nth.max(1), passed: AtomicU64::new(0) })
        })
        .as_ref()
}

/// Aborts the process here if the fault-injection setting names this point and its turn came.
pub fn crash_point(point: &'static str) {
    let Some(at) = configured() else { return };
    if at.point == point && at.passed.fetch_add(1, Ordering::SeqCst) + 1 == at.nth {
        eprintln!("{CRASH_AT_ENV}: crashing at {point} as asked");
        std::process::abort();
    }
}
