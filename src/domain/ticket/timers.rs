//! A ticket's timers: the SLA's warning and breach for the first response and the resolution,
//! the nudge to a quiet asker and the close after it. The store keeps each as a durable row
//! that fires once; this decides when each is due and what it does when it comes due.

use super::{Priority, Ticket};
use crate::domain::hours::BusinessHours;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// "Is this solved?" to an asker who went quiet after a moderator's reply.
    Nudge,
    /// The ticket closes: the asker stayed quiet after the nudge too.
    StaleClose,
    FirstResponseWarning,
    FirstResponseBreach,
    ResolutionWarning,
    ResolutionBreach,
}

impl TimerKind {
    pub const SLA: [TimerKind; 4] =
        [TimerKind::FirstResponseWarning, TimerKind::FirstResponseBreach, TimerKind::ResolutionWarning, TimerKind::ResolutionBreach];
    pub const STALE: [TimerKind; 2] = [TimerKind::Nudge, TimerKind::StaleClose];

    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Nudge => "nudge",
            TimerKind::StaleClose => "stale_close",
            TimerKind::FirstResponseWarning => "first_response_warning",
            TimerKind::FirstResponseBreach => "first_response_breach",
            TimerKind::ResolutionWarning => "resolution_warning",
            TimerKind::ResolutionBreach => "resolution_breach",
        }
    }
}

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [TimerKind::STALE.as_slice(), TimerKind::SLA.as_slice()]
            .concat()
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown timer {s:?}"))
    }
}

/// The two clocks an SLA runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    FirstResponse,
    Resolution,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::FirstResponse => "first response",
            Clock::Resolution => "resolution",
        }
    }
}

/// One priority's targets, in working time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaTarget {
    pub first_response: Option<Duration>,
    pub resolution: Option<Duration>,
}

impl SlaTarget {
    fn of(&self, clock: Clock) -> Option<Duration> {
        match clock {
            Clock::FirstResponse => self.first_response,
            Clock::Resolution => self.resolution,
        }
    }
}

/// How tickets are worked over time: `[tickets]` in the settings, read.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketPolicy {
    /// Quiet time after a moderator's reply before the asker is asked "is this solved?".
    pub nudge_after: Option<Duration>,
    /// Quiet time after the nudge before the ticket closes.
    pub close_after: Option<Duration>,
    pub hours: BusinessHours,
    pub sla: BTreeMap<Priority, SlaTarget>,
    /// The share of a target that has passed when the warning goes out (0.75: a quarter left).
    pub warn_at: f64,
    /// Who `ticket assign <id> auto` chooses from.
    pub responders: Vec<super::assign::Responder>,
    /// How long one ticket takes a responder, for the expected waits.
    pub handling: Duration,
    /// New tickets are assigned by skill and load as they open.
    pub auto_assign: bool,
    /// Who is warned of an unassigned ticket's SLA, a week each in turn (weeks from Monday, UTC).
    pub on_call: Vec<String>,
}

impl Default for TicketPolicy {
    fn default() -> Self {
        TicketPolicy {
            nudge_after: None,
            close_after: None,
            hours: BusinessHours::always(),
            sla: BTreeMap::new(),
            warn_at: 0.75,
            responders: Vec::new(),
            handling: Duration::minutes(15),
            auto_assign: false,
            on_call: Vec::new(),
        }
    }
}

/// What a timer does when it comes due, decided from the ticket as it is then.
#[derive(Debug, Clone, PartialEq)]
pub enum Fired {
    /// Nothing any more: answered, resolved, closed, or the asker spoke meanwhile.
    Nothing,
    Nudge,
    Close,
    Warning {
        clock: Clock,
        target: Duration,
        due: DateTime<Utc>,
    },
    Breach {
        clock: Clock,
        target: Duration,
    },
}

/// Where a ticket stands against one of its SLA clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Met: stopped within the target.
    Met,
    /// Stopped after the target.
    Missed,
    /// Still running, due at this instant.
    Due(#[serde(skip)] DateTime<Utc>),
    /// Still running and past due.
    Breached,
}

impl TicketPolicy {
    fn target(&self, priority: Priority, clock: Clock) -> Option<Duration> {
        self.sla.get(&priority).and_then(|t| t.of(clock)).filter(|d| *d > Duration::zero())
    }

    /// The working time `target` of `clock` ends at, counted from when the ticket opened.
    fn due(&self, ticket: &Ticket, target: Duration) -> DateTime<Utc> {
        self.hours.add(ticket.created_at, target)
    }

    /// The SLA timers a ticket of its priority runs, with when each is due. None without targets.
    pub fn sla_timers(&self, ticket: &Ticket) -> Vec<(TimerKind, DateTime<Utc>)> {
        let mut timers = Vec::new();
        for (clock, warning, breach) in [
            (Clock::FirstResponse, TimerKind::FirstResponseWarning, TimerKind::FirstResponseBreach),
            (Clock::Resolution, TimerKind::ResolutionWarning, TimerKind::ResolutionBreach),
        ] {
            if let Some(target) = self.target(ticket.priority, clock) {
                let warn_after = Duration::milliseconds((target.num_milliseconds() as f64 * self.warn_at.clamp(0.0, 1.0)) as i64);
                if warn_after > Duration::zero() && warn_after < target {
                    timers.push((warning, self.due(ticket, warn_after)));
                }
                timers.push((breach, self.due(ticket, target)));
            }
        }
        timers
    }

    /// What the timer `kind` does to `ticket` now that it is due.
    pub fn on_due(&self, kind: TimerKind, ticket: &Ticket) -> Fired {
        let waiting = ticket.status.is_active();
        let clock_running = |clock: Clock| match clock {
            Clock::FirstResponse => waiting && ticket.first_response_at.is_none(),
            Clock::Resolution => waiting,
        };
        let sla = |clock: Clock, breach: bool| match self.target(ticket.priority, clock) {
            Some(target) if clock_running(clock) => {
                if breach {
                    Fired::Breach { clock, target }
                } else {
                    Fired::Warning { clock, target, due: self.due(ticket, target) }
                }
            }
            _ => Fired::Nothing,
        };
        match kind {
            TimerKind::Nudge if waiting => Fired::Nudge,
            TimerKind::StaleClose if waiting => Fired::Close,
            TimerKind::Nudge | TimerKind::StaleClose => Fired::Nothing,
            TimerKind::FirstResponseWarning => sla(Clock::FirstResponse, false),
            TimerKind::FirstResponseBreach => sla(Clock::FirstResponse, true),
            TimerKind::ResolutionWarning => sla(Clock::Resolution, false),
            TimerKind::ResolutionBreach => sla(Clock::Resolution, true),
        }
    }

    /// Who is on call at `now`: the rotation moves on every Monday at 00:00 UTC.
    pub fn on_call_at(&self, now: DateTime<Utc>) -> Option<&str> {
        // 1970-01-05 was a Monday: whole weeks since then pick the name.
        let monday = DateTime::from_timestamp(4 * 86_400, 0).unwrap_or_default();
        let week = (now - monday).num_weeks().max(0) as usize;
        (!self.on_call.is_empty()).then(|| self.on_call[week % self.on_call.len()].as_str())
    }

    /// Where `ticket` stands on `clock` at `now`; `None` when its priority has no such target.
    pub fn state(&self, ticket: &Ticket, clock: Clock, now: DateTime<Utc>) -> Option<SlaState> {
        let target = self.target(ticket.priority, clock)?;
        let stopped = match clock {
            Clock::FirstResponse => ticket.first_response_at,
            Clock::Resolution => ticket.resolved_at.or(ticket.closed_at).filter(|_| !ticket.status.is_active()),
        };
        let due = self.due(ticket, target);
        Some(match stopped {
            Some(at) if at <= due => SlaState::Met,
            Some(_) => SlaState::Missed,
            None if now < due => SlaState::Due(due),
            None => SlaState::Breached,
        })
    }
}

/// Whether the asker's words in a ticket's thread say their problem is solved ("thanks, that
/// fixed it", "works now"), so resolving can be proposed. Cautious: any doubt ("still", "not")
/// is no.
pub fn sounds_solved(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    let phrase = |p: &str| lower.contains(p);
    let doubt = lower.contains('?')
        || [
            "still", "not", "no", "doesn't", "didn't", "isn't", "won't", "can't", "cannot", "nope", "but", "except", "again", "same", "error",
            "fails", "broken",
        ]
        .iter()
        .any(|d| has(d));
    let solved = ["fixed", "solved", "resolved", "sorted"].iter().any(|w| has(w))
        || ["works now", "working now", "that did it", "that did the trick", "all good now", "it works", "problem gone"].iter().any(|p| phrase(p));
    solved && !doubt && words.len() <= 30
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::Status;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_583_200 + minutes * 60, 0).unwrap() // 2025-12-01 10:00 UTC, a Monday
    }

    fn ticket(priority: Priority) -> Ticket {
        Ticket { priority, ..crate::domain::ticket::sample_ticket(3, at(0)) }
    }

    fn policy() -> TicketPolicy {
        let urgent = SlaTarget { first_response: Some(Duration::hours(1)), resolution: Some(Duration::hours(8)) };
        TicketPolicy { sla: [(Priority::Urgent, urgent)].into_iter().collect(), ..TicketPolicy::default() }
    }

    #[test]
    fn an_urgent_ticket_runs_a_warning_and_a_breach_per_clock() {
        let timers = policy().sla_timers(&ticket(Priority::Urgent));
        assert_eq!(
            timers,
            vec![
                (TimerKind::FirstResponseWarning, at(45)),
                (TimerKind::FirstResponseBreach, at(60)),
                (TimerKind::ResolutionWarning, at(360)),
                (TimerKind::ResolutionBreach, at(480)),
            ]
        );
        assert!(policy().sla_timers(&ticket(Priority::Normal)).is_empty(), "no target, no timer");
    }

    #[test]
    fn a_due_timer_acts_only_while_its_clock_runs() {
        let p = policy();
        let open = ticket(Priority::Urgent);
        assert_eq!(p.on_due(TimerKind::FirstResponseBreach, &open), Fired::Breach { clock: Clock::FirstResponse, target: Duration::hours(1) });
        assert_eq!(
            p.on_due(TimerKind::FirstResponseWarning, &open),
            Fired::Warning { clock: Clock::FirstResponse, target: Duration::hours(1), due: at(60) }
        );
        let answered = Ticket { first_response_at: Some(at(10)), ..open.clone() };
        assert_eq!(p.on_due(TimerKind::FirstResponseBreach, &answered), Fired::Nothing);
        assert!(matches!(p.on_due(TimerKind::ResolutionBreach, &answered), Fired::Breach { .. }));
        let resolved = Ticket { status: Status::Resolved, resolved_at: Some(at(20)), ..answered };
        for kind in [TimerKind::ResolutionBreach, TimerKind::Nudge, TimerKind::StaleClose] {
            assert_eq!(p.on_due(kind, &resolved), Fired::Nothing, "{kind}");
        }
        assert_eq!(p.on_due(TimerKind::Nudge, &open), Fired::Nudge);
        assert_eq!(p.on_due(TimerKind::StaleClose, &open), Fired::Close);
    }

    #[test]
    fn the_sla_state_says_met_missed_due_or_breached() {
        let p = policy();
        let open = ticket(Priority::Urgent);
        assert_eq!(p.state(&open, Clock::FirstResponse, at(30)), Some(SlaState::Due(at(60))));
        assert_eq!(p.state(&open, Clock::FirstResponse, at(61)), Some(SlaState::Breached));
        assert_eq!(p.state(&Ticket { first_response_at: Some(at(59)), ..open.clone() }, Clock::FirstResponse, at(600)), Some(SlaState::Met));
        assert_eq!(p.state(&Ticket { first_response_at: Some(at(61)), ..open.clone() }, Clock::FirstResponse, at(600)), Some(SlaState::Missed));
        assert_eq!(p.state(&ticket(Priority::Low), Clock::Resolution, at(600)), None);
    }

    #[test]
    fn business_hours_move_the_due_times() {
        // Opened Monday 10:00 UTC with hours 09:00–12:00: an 8-hour resolution target ends
        // Wednesday 12:00 (2 h Monday, 3 h Tuesday, 3 h Wednesday).
        let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect();
        let hours = BusinessHours::parse("UTC", &days, "09:00", "12:00", &[]).unwrap();
        let p = TicketPolicy { hours, ..policy() };
        let timers = p.sla_timers(&ticket(Priority::Urgent));
        assert_eq!(timers.last(), Some(&(TimerKind::ResolutionBreach, at(2 * 24 * 60 + 120))));
    }

    #[test]
    fn the_on_call_rotation_moves_on_every_monday() {
        let p = TicketPolicy { on_call: vec!["mia".into(), "ben".into()], ..TicketPolicy::default() };
        let monday = DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z").unwrap().with_timezone(&Utc);
        let first = p.on_call_at(monday).unwrap();
        assert_eq!(p.on_call_at(monday + Duration::days(6) + Duration::hours(23)), Some(first), "the same all week");
        let next = p.on_call_at(monday + Duration::days(7)).unwrap();
        assert_ne!(first, next);
        assert_eq!(p.on_call_at(monday + Duration::days(14)), Some(first));
        assert_eq!(TicketPolicy::default().on_call_at(monday), None);
    }

    #[test]
    fn timer_kinds_round_trip_through_their_names() {
        for kind in TimerKind::STALE.into_iter().chain(TimerKind::SLA) {
            assert_eq!(kind.as_str().parse::<TimerKind>(), Ok(kind));
        }
        assert!("later".parse::<TimerKind>().is_err());
    }

    #[test]
    fn solved_sounds_like_thanks_with_no_doubt() {
        for yes in ["thanks, that fixed it", "Works now!! thank you", "ok that did the trick", "solved, thx", "all good now :)"] {
            assert!(sounds_solved(yes), "{yes}");
        }
        for no in [
            "thanks but it is still broken",
            "not fixed",
            "is it fixed in 1.2?",
            "it works on linux but not on mac",
            "thanks for looking",
            "I fixed the typo, same error",
        ] {
            assert!(!sounds_solved(no), "{no}");
        }
    }
}
