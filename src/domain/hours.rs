//! Business hours: the community's working week, in its time zone, less its holidays. SLA
//! clocks count only this time: a ticket opened on Friday evening is not late on Saturday.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// Days looked at, at most, when counting working time forward: a year of holidays and
/// closed weekdays cannot hide every working day (one weekday at least is always open).
const MAX_DAYS: u32 = 3_700;

/// When the community works. [`BusinessHours::always`] counts every minute.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    zone: Tz,
    /// Monday first.
    days: [bool; 7],
    /// Minutes after local midnight: the day's working window is `[open, close)`.
    open: u32,
    close: u32,
    holidays: BTreeSet<NaiveDate>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        BusinessHours::always()
    }
}

impl BusinessHours {
    /// Every minute of every day counts.
    pub fn always() -> BusinessHours {
        BusinessHours { zone: Tz::UTC, days: [true; 7], open: 0, close: 24 * 60, holidays: BTreeSet::new() }
    }

    /// Whether every minute counts (no hours configured).
    pub fn is_always(&self) -> bool {
        self.days == [true; 7] && self.open == 0 && self.close == 24 * 60 && self.holidays.is_empty()
    }

    /// Reads the settings' words: an IANA zone ("Europe/Berlin"), weekdays ("mon".."sun"),
    /// "09:00" and "17:00" (or "24:00"), holidays as "2026-12-25". Says what is wrong, once.
    pub fn parse(zone: &str, days: &[String], open: &str, close: &str, holidays: &[String]) -> Result<BusinessHours, String> {
        let zone: Tz = zone.parse().map_err(|_| format!("{zone:?} is not an IANA time zone like \"Europe/Berlin\""))?;
        let mut open_days = [false; 7];
        for day in days {
            let weekday: Weekday = day.trim().parse().map_err(|_| format!("{day:?} is not a weekday like \"mon\""))?;
            open_days[weekday.num_days_from_monday() as usize] = true;
        }
        if !open_days.contains(&true) {
            return Err("no working day: list at least one, like days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]".into());
        }
        let (open, close) = (minute_of_day(open)?, minute_of_day(close)?);
        if open >= close {
            return Err(format!(
                "the working day must end after it starts (open {open:?} to close {close:?} as written)",
                open = minute_text(open),
                close = minute_text(close)
            ));
        }
        let holidays = holidays
            .iter()
            .map(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| format!("holiday {d:?} is not a date like \"2026-12-25\"")))
            .collect::<Result<_, _>>()?;
        Ok(BusinessHours { zone, days: open_days, open, close, holidays })
    }

    /// The working window of the local day `date`, as instants, if it is a working day.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.days[date.weekday().num_days_from_monday() as usize] || self.holidays.contains(&date) {
            return None;
        }
        let at = |minute: u32| -> DateTime<Utc> {
            let local = match minute {
                m if m >= 24 * 60 => (date + Duration::days(1)).and_time(NaiveTime::MIN),
                m => date.and_time(NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN)),
            };
            // A time skipped by a clock change (02:30 on the spring night) counts from an hour on.
            let resolve = |t: chrono::NaiveDateTime| self.zone.from_local_datetime(&t).earliest().map(|t| t.with_timezone(&Utc));
            resolve(local).or_else(|| resolve(local + Duration::hours(1))).unwrap_or_else(|| Utc.from_utc_datetime(&local))
        };
        Some((at(self.open), at(self.close)))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.zone).date_naive()
    }

    /// The instant when `work` of working time has passed since `start`.
    pub fn add(&self, start: DateTime<Utc>, work: Duration) -> DateTime<Utc> {
        if self.is_always() || work <= Duration::zero() {
            return start + work.max(Duration::zero());
        }
        let mut left = work;
        let mut date = self.local_date(start) - Duration::days(1); // a window may begin the day before in UTC terms
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(date) {
                let from = open.max(start);
                if from < close {
                    if from + left <= close {
                        return from + left;
                    }
                    left -= close - from;
                }
            }
            date += Duration::days(1);
        }
        start + work // unreachable with one working weekday; a bound all the same
    }

    /// Working time between `from` and `to` (zero when `to` is not later).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if self.is_always() {
            return to - from;
        }
        let mut total = Duration::zero();
        let mut date = self.local_date(from) - Duration::days(1);
        let last = self.local_date(to);
        while date <= last {
            if let Some((open, close)) = self.window(date) {
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b - a;
                }
            }
            date += Duration::days(1);
        }
        total
    }
}

fn minute_of_day(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time of day like \"09:00\"");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (24, 0) => Ok(24 * 60),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

fn minute_text(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn office(zone: &str, holidays: &[&str]) -> BusinessHours {
        let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect();
        let holidays: Vec<String> = holidays.iter().map(|d| d.to_string()).collect();
        BusinessHours::parse(zone, &days, "09:00", "17:00", &holidays).unwrap()
    }

    #[test]
    fn always_counts_every_minute() {
        let h = BusinessHours::always();
        let t = utc("2026-12-05T23:30:00Z");
        assert_eq!(h.add(t, Duration::hours(2)), utc("2026-12-06T01:30:00Z"));
        assert_eq!(h.between(t, utc("2026-12-06T01:30:00Z")), Duration::hours(2));
    }

    #[test]
    fn time_inside_one_working_day_is_plain_time() {
        let h = office("UTC", &[]);
        assert_eq!(h.add(utc("2026-12-01T10:00:00Z"), Duration::hours(2)), utc("2026-12-01T12:00:00Z"));
        assert_eq!(h.between(utc("2026-12-01T10:00:00Z"), utc("2026-12-01T12:00:00Z")), Duration::hours(2));
    }

    #[test]
    fn a_friday_evening_ticket_waits_over_the_weekend() {
        // 2026-12-04 is a Friday. One hour of work asked at 16:30: half an hour on Friday, the
        // other half on Monday morning.
        let h = office("UTC", &[]);
        assert_eq!(h.add(utc("2026-12-04T16:30:00Z"), Duration::hours(1)), utc("2026-12-07T09:30:00Z"));
        assert_eq!(h.between(utc("2026-12-04T16:30:00Z"), utc("2026-12-07T09:30:00Z")), Duration::hours(1));
        // Asked on Saturday: the clock starts on Monday at nine.
        assert_eq!(h.add(utc("2026-12-05T12:00:00Z"), Duration::minutes(10)), utc("2026-12-07T09:10:00Z"));
        assert_eq!(h.between(utc("2026-12-05T00:00:00Z"), utc("2026-12-06T23:59:00Z")), Duration::zero());
    }

    #[test]
    fn holidays_do_not_count() {
        // Thursday 2026-12-24 and Friday 12-25 off: from Wednesday 16:00, two hours end Monday 10:00.
        let h = office("UTC", &["2026-12-24", "2026-12-25"]);
        assert_eq!(h.add(utc("2026-12-23T16:00:00Z"), Duration::hours(2)), utc("2026-12-28T10:00:00Z"));
    }

    #[test]
    fn hours_are_the_communitys_local_hours() {
        // 09:00–17:00 in Berlin is 08:00–16:00 UTC in winter and 07:00–15:00 in summer.
        let h = office("Europe/Berlin", &[]);
        assert_eq!(h.add(utc("2026-12-01T06:00:00Z"), Duration::minutes(30)), utc("2026-12-01T08:30:00Z"));
        assert_eq!(h.add(utc("2026-07-01T06:00:00Z"), Duration::minutes(30)), utc("2026-07-01T07:30:00Z"));
        // Across the spring clock change (Sunday 2026-03-29): Friday 16:00 UTC is 17:00 local,
        // closed; Monday opens at 07:00 UTC.
        assert_eq!(h.add(utc("2026-03-27T15:30:00Z"), Duration::hours(1)), utc("2026-03-30T07:30:00Z"));
    }

    #[test]
    fn adding_and_measuring_agree() {
        let h = office("America/New_York", &["2026-11-26"]);
        let start = utc("2026-11-20T20:17:00Z");
        for minutes in [1, 59, 60, 61, 479, 480, 481, 2_000, 10_000] {
            let end = h.add(start, Duration::minutes(minutes));
            assert_eq!(h.between(start, end), Duration::minutes(minutes), "{minutes} min from {start} ended {end}");
        }
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let days = vec!["mon".to_string()];
        let err = |zone: &str, days: &[String], open: &str, close: &str, holidays: &[String]| {
            BusinessHours::parse(zone, days, open, close, holidays).unwrap_err()
        };
        assert!(err("Mars/Olympus", &days, "09:00", "17:00", &[]).contains("IANA time zone"));
        assert!(err("UTC", &["funday".into()], "09:00", "17:00", &[]).contains("\"funday\" is not a weekday"));
        assert!(err("UTC", &[], "09:00", "17:00", &[]).contains("no working day"));
        assert!(err("UTC", &days, "9am", "17:00", &[]).contains("\"9am\" is not a time of day"));
        assert!(err("UTC", &days, "17:00", "09:00", &[]).contains("must end after it starts"));
        assert!(err("UTC", &days, "09:00", "17:00", &["25.12.2026".into()]).contains("is not a date"));
        assert!(BusinessHours::parse("UTC", &days, "00:00", "24:00", &[]).is_ok());
    }
}
