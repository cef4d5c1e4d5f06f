//! The digest's weekly schedule ("mon 09:00" in the community's time zone).

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A weekly instant in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekly {
    pub weekday: Weekday,
    pub time: NaiveTime,
    pub zone: Tz,
}

impl Weekly {
    /// Parses "mon 09:00" (weekday names in English, 3 letters or full) and an IANA zone name.
    pub fn parse(schedule: &str, zone: &str) -> Result<Weekly, String> {
        let (day, time) = schedule.trim().split_once(char::is_whitespace).ok_or_else(|| format!("{schedule:?} is not like \"mon 09:00\""))?;
        let weekday: Weekday = day.parse().map_err(|_| format!("{day:?} is not a weekday"))?;
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| format!("{time:?} is not a time like 09:00"))?;
        let zone: Tz = zone.parse().map_err(|_| format!("{zone:?} is not a time zone name like Europe/Berlin"))?;
        Ok(Weekly { weekday, time, zone })
    }

    /// The latest scheduled instant at or before `now` (a missed one is still "the latest" until
    /// the next comes, so a bot that was down posts it when it is back).
    pub fn latest_at_or_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&self.zone);
        let back = (7 + local.weekday().num_days_from_monday() as i64 - self.weekday.num_days_from_monday() as i64) % 7;
        for weeks in 0..3 {
            let date = local.date_naive() - Duration::days(back + 7 * weeks);
            // A time skipped by a clock change takes the earliest valid reading after it.
            let candidate = self
                .zone
                .from_local_datetime(&date.and_time(self.time))
                .earliest()
                .or_else(|| self.zone.from_local_datetime(&(date.and_time(self.time) + Duration::hours(1))).earliest());
            if let Some(c) = candidate.map(|c| c.with_timezone(&Utc)).filter(|c| *c <= now) {
                return c;
            }
        }
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_latest_instant_is_this_weeks_or_last_weeks() {
        let w = Weekly::parse("mon 09:00", "Europe/Berlin").unwrap();
        // Monday 2 November 2026, 09:00 in Berlin is 08:00 UTC.
        assert_eq!(w.latest_at_or_before(utc("2026-11-02T08:00:00Z")), utc("2026-11-02T08:00:00Z"));
        assert_eq!(w.latest_at_or_before(utc("2026-11-05T12:00:00Z")), utc("2026-11-02T08:00:00Z"));
        assert_eq!(w.latest_at_or_before(utc("2026-11-02T07:59:00Z")), utc("2026-10-26T08:00:00Z"));
    }

    #[test]
    fn bad_schedules_are_explained() {
        assert!(Weekly::parse("someday 09:00", "UTC").unwrap_err().contains("weekday"));
        assert!(Weekly::parse("mon 9am", "UTC").unwrap_err().contains("time"));
        assert!(Weekly::parse("mon 09:00", "Mars/Olympus").unwrap_err().contains("time zone"));
    }
}
