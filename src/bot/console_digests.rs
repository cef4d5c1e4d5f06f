//! The web console's digests of past weeks. A finished week's digest no longer changes and its
//! themes and gaps cost k-means runs (about 0.44 s on a year of 100,000 messages, `cargo bench
//! --bench console`), so each is computed once and kept; the scheduler computes the weeks the
//! digest page offers ahead of a moderator opening them, one a tick.

use super::{Bot, BotResult};
use crate::domain::cluster::Theme;
use crate::domain::digest::DigestNumbers;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// A digest's figures and themes (None when the themes could not be found).
pub type ConsoleDigest = (DigestNumbers, Option<Vec<Theme>>);

/// Weeks the digest page offers: this one and the eleven before it.
pub const OFFERED_WEEKS: i64 = 12;
/// Kept digests, at most (a year of weeks and some): past that the memo starts over.
const KEPT: usize = 64;

/// The Monday, 00:00 UTC, of the week `day` falls in.
pub fn week_start(day: NaiveDate) -> DateTime<Utc> {
    let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
    monday.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The weeks the digest page offers at `now`, newest (the unfinished one) first.
pub fn offered_weeks(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let this = week_start(now.date_naive());
    (0..OFFERED_WEEKS).map(|i| this - Duration::days(7 * i)).collect()
}

impl Bot {
    /// The digest of [from, to) as the weekly post would have it; a finished period's is kept.
    pub async fn console_digest(&self, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> BotResult<ConsoleDigest> {
        let key = (from.timestamp(), to.timestamp());
        if to <= now
            && let Some(hit) = self.shared.console_digests.lock().expect("digest memo poisoned").get(&key)
        {
            return Ok(hit.clone());
        }
        let digest = super::digest::digest(&self.store, self.embedder(), &self.shared.config, from, to, now).await?;
        let themes = match digest.themes {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "digest themes failed; the console shows the figures without them");
                None
            }
        };
        let made = (digest.numbers, themes);
        if to <= now {
            let mut memo = self.shared.console_digests.lock().expect("digest memo poisoned");
            if memo.len() >= KEPT {
                memo.clear();
            }
            memo.insert(key, made.clone());
        }
        Ok(made)
    }

    /// With the console on: computes the digest of the newest finished week it offers that is
    /// not kept yet, and says which week that was (None when all are kept, or no console).
    pub async fn warm_console_digest(&self, now: DateTime<Utc>) -> BotResult<Option<DateTime<Utc>>> {
        if self.shared.config.console.is_none() {
            return Ok(None);
        }
        let kept = |from: &DateTime<Utc>| {
            let key = (from.timestamp(), (*from + Duration::days(7)).timestamp());
            self.shared.console_digests.lock().expect("digest memo poisoned").contains_key(&key)
        };
        let Some(from) = offered_weeks(now).into_iter().skip(1).find(|from| !kept(from)) else { return Ok(None) };
        self.console_digest(from, from + Duration::days(7), now).await?;
        Ok(Some(from))
    }
}
