//! The digest's ticket-work figures: per responder (tickets taken, median first response and
//! resolution, SLA attainment) and per priority (how the SLA held). The bot's own first
//! responses, its FAQ answers, are counted apart by the digest: these are the people's.

use super::digest::{hours, median};
use super::ticket::timers::{Clock, SlaState, TicketPolicy};
use super::ticket::{Priority, Ticket, TicketEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// History lines that answer the asker or move the ticket: what makes someone its responder.
/// Internal notes and links do not.
const RESPONSES: &[&str] = &["reply", "assign", "resolve", "close", "reopen"];

/// One person's ticket work in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponderFigures {
    pub name: String,
    /// Tickets whose first response was theirs.
    pub first_responses: usize,
    pub median_first_response_hours: Option<f64>,
    /// Tickets they resolved.
    pub resolved: usize,
    pub median_resolution_hours: Option<f64>,
    /// Of their first responses to tickets with a first-response target, the share in time.
    pub sla_met: Option<f64>,
}

/// How one priority's SLA held for the period's tickets (still-running clocks not counted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaAttainment {
    pub priority: Priority,
    pub tickets: usize,
    pub first_response_met: Option<f64>,
    pub resolution_met: Option<f64>,
    /// Clocks that ran past their target (missed or still overdue).
    pub breaches: usize,
}

fn share(hits: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| hits as f64 / of as f64)
}

/// Who gave the ticket its first response: the first person (not the bot) to reply in its
/// thread or move it.
fn first_responder<'a>(events: &'a [TicketEvent], bot: &str) -> Option<&'a str> {
    events.iter().find(|e| e.actor != bot && RESPONSES.contains(&e.action.as_str())).map(|e| e.actor.as_str())
}

/// Per-responder figures over `tickets` (each with its history), most first responses first.
pub fn responders(tickets: &[(Ticket, Vec<TicketEvent>)], bot: &str, policy: &TicketPolicy, now: DateTime<Utc>) -> Vec<ResponderFigures> {
    #[derive(Default)]
    struct Tally {
        first: Vec<f64>,
        resolved: Vec<f64>,
        sla: (usize, usize),
    }
    let mut by: BTreeMap<&str, Tally> = BTreeMap::new();
    for (ticket, events) in tickets {
        if let (Some(who), Some(took)) = (first_responder(events, bot), ticket.first_response_time()) {
            let tally = by.entry(who).or_default();
            tally.first.push(hours(took));
            match policy.state(ticket, Clock::FirstResponse, now) {
                Some(SlaState::Met) => tally.sla = (tally.sla.0 + 1, tally.sla.1 + 1),
                Some(SlaState::Missed) => tally.sla.1 += 1,
                _ => {}
            }
        }
        let resolver = events.iter().rev().find(|e| e.action == "resolve" && e.actor != bot).map(|e| e.actor.as_str());
        if let (Some(who), Some(took)) = (resolver, ticket.resolution_time()) {
            by.entry(who).or_default().resolved.push(hours(took));
        }
    }
    let mut figures: Vec<ResponderFigures> = by
        .into_iter()
        .map(|(name, t)| ResponderFigures {
            name: name.to_string(),
            first_responses: t.first.len(),
            median_first_response_hours: median(t.first),
            resolved: t.resolved.len(),
            median_resolution_hours: median(t.resolved),
            sla_met: share(t.sla.0, t.sla.1),
        })
        .collect();
    figures.sort_by(|a, b| (b.first_responses + b.resolved).cmp(&(a.first_responses + a.resolved)).then(a.name.cmp(&b.name)));
    figures
}

/// Per-priority SLA attainment of `tickets`, for the priorities that have targets.
pub fn sla_attainment(tickets: &[Ticket], policy: &TicketPolicy, now: DateTime<Utc>) -> Vec<SlaAttainment> {
    let mut out = Vec::new();
    for priority in policy.sla.keys().rev() {
        let of: Vec<&Ticket> = tickets.iter().filter(|t| t.priority == *priority).collect();
        if of.is_empty() {
            continue;
        }
        let mut breaches = 0;
        let mut met = |clock: Clock| {
            let states: Vec<SlaState> = of.iter().filter_map(|t| policy.state(t, clock, now)).collect();
            breaches += states.iter().filter(|s| matches!(s, SlaState::Missed | SlaState::Breached)).count();
            let decided = states.iter().filter(|s| !matches!(s, SlaState::Due(_))).count();
            share(states.iter().filter(|s| **s == SlaState::Met).count(), decided)
        };
        let first_response_met = met(Clock::FirstResponse);
        let resolution_met = met(Clock::Resolution);
        out.push(SlaAttainment { priority: *priority, tickets: of.len(), first_response_met, resolution_met, breaches });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::Status;
    use crate::domain::ticket::timers::SlaTarget;
    use chrono::Duration;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_583_200 + minutes * 60, 0).unwrap()
    }

    fn event(minute: i64, actor: &str, action: &str) -> TicketEvent {
        TicketEvent { at: at(minute), actor: actor.into(), action: action.into(), from_status: None, to_status: Status::Open, note: None }
    }

    fn ticket(id: i64, priority: Priority, first: Option<i64>, resolved: Option<i64>) -> Ticket {
        Ticket {
            status: if resolved.is_some() { Status::Resolved } else { Status::Open },
            priority,
            first_response_at: first.map(at),
            resolved_at: resolved.map(at),
            ..crate::domain::ticket::sample_ticket(id, at(0))
        }
    }

    fn policy() -> TicketPolicy {
        let urgent = SlaTarget { first_response: Some(Duration::hours(1)), resolution: Some(Duration::hours(4)) };
        TicketPolicy { sla: [(Priority::Urgent, urgent)].into_iter().collect(), ..TicketPolicy::default() }
    }

    #[test]
    fn each_responder_gets_their_first_responses_resolutions_and_sla() {
        let tickets = vec![
            // mia replied first at 30 min (in time), ben resolved at 3 h
            (
                ticket(1, Priority::Urgent, Some(30), Some(180)),
                vec![event(0, "bot", "open"), event(30, "mia", "reply"), event(180, "ben", "resolve")],
            ),
            // mia's note is no response; ben assigned first at 90 min (late)
            (ticket(2, Priority::Urgent, Some(90), None), vec![event(10, "mia", "note"), event(90, "ben", "assign")]),
            // mia again, a normal ticket (no target), 2 h
            (ticket(3, Priority::Normal, Some(120), None), vec![event(0, "bot", "link"), event(120, "mia", "reply")]),
        ];
        let figures = responders(&tickets, "bot", &policy(), at(600));
        let mia = figures.iter().find(|f| f.name == "mia").unwrap();
        assert_eq!((mia.first_responses, mia.median_first_response_hours, mia.resolved, mia.sla_met), (2, Some(1.25), 0, Some(1.0)));
        let ben = figures.iter().find(|f| f.name == "ben").unwrap();
        assert_eq!((ben.first_responses, ben.median_first_response_hours, ben.sla_met), (1, Some(1.5), Some(0.0)));
        assert_eq!((ben.resolved, ben.median_resolution_hours), (1, Some(3.0)));
        assert!(figures.iter().all(|f| f.name != "bot"), "the bot's own lines make no responder");
    }

    #[test]
    fn attainment_counts_decided_clocks_per_priority() {
        let tickets = vec![
            ticket(1, Priority::Urgent, Some(30), Some(180)), // both met
            ticket(2, Priority::Urgent, Some(90), None),      // first missed, resolution still due at 4 h
            ticket(3, Priority::Urgent, None, None),          // first overdue at 2 h
            ticket(4, Priority::Normal, None, None),          // no target
        ];
        let rows = sla_attainment(&tickets, &policy(), at(120));
        assert_eq!(rows.len(), 1);
        let urgent = &rows[0];
        assert_eq!((urgent.priority, urgent.tickets, urgent.breaches), (Priority::Urgent, 3, 2));
        assert_eq!(urgent.first_response_met, Some(1.0 / 3.0));
        assert_eq!(urgent.resolution_met, Some(1.0), "the running ones are not decided yet");
    }
}
