//! Ticket lifecycle rules: which transitions are allowed, and what each one records.
//! The store only persists what [`apply`] and [`raise_priority`] decide.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub mod assign;
mod similar;
pub mod timers;
pub use similar::most_similar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Assigned,
    Resolved,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// Why a ticket exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Nobody answered within the unanswered window.
    Unanswered,
    /// The asker said the bot's answer did not help.
    NotHelpful,
    /// A moderator escalated a message or text.
    Escalated,
}

/// What a moderator (or the bot) does to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Assign { to: String },
    Resolve { resolution: Option<String> },
    Close,
    Reopen,
}

impl Transition {
    pub fn name(&self) -> &'static str {
        match self {
            Transition::Assign { .. } => "assign",
            Transition::Resolve { .. } => "resolve",
            Transition::Close => "close",
            Transition::Reopen => "reopen",
        }
    }
}

/// A transition that the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} ticket cannot be {verb}")]
pub struct InvalidTransition {
    pub from: Status,
    pub verb: &'static str,
}

/// The status a transition leads to, or why it is not allowed.
///
/// open -> assigned -> resolved -> closed, with shortcuts (resolve or close straight from open),
/// reassignment, and reopen from resolved or closed.
pub fn next_status(from: Status, transition: &Transition) -> Result<Status, InvalidTransition> {
    use Status::*;
    let to = match (from, transition) {
        (Open | Assigned, Transition::Assign { .. }) => Assigned,
        (Open | Assigned, Transition::Resolve { .. }) => Resolved,
        (Open | Assigned | Resolved, Transition::Close) => Closed,
        (Resolved | Closed, Transition::Reopen) => Open,
        _ => {
            let verb = match transition {
                Transition::Assign { .. } => "assigned",
                Transition::Resolve { .. } => "resolved",
                Transition::Close => "closed",
                Transition::Reopen => "reopened",
            };
            return Err(InvalidTransition { from, verb });
        }
    };
    Ok(to)
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Open, Status::Assigned, Status::Resolved, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Assigned => "assigned",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// Open and assigned tickets still need someone.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Assigned)
    }
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Unanswered => "unanswered",
            Origin::NotHelpful => "not_helpful",
            Origin::Escalated => "escalated",
        }
    }
}

macro_rules! display_and_parse {
    ($ty:ty, $what:literal, [$($variant:expr),+]) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let s = s.trim().to_ascii_lowercase();
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!(concat!("unknown ", $what, " {:?}"), s))
            }
        }
    };
}
display_and_parse!(Status, "status", [Status::Open, Status::Assigned, Status::Resolved, Status::Closed]);
display_and_parse!(Priority, "priority", [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent]);
display_and_parse!(Origin, "origin", [Origin::Unanswered, Origin::NotHelpful, Origin::Escalated]);

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub platform: String,
    pub channel: String,
    pub question_message_id: Option<String>,
    pub asker_id: String,
    pub asker_name: String,
    pub question: String,
    pub origin: Origin,
    pub status: Status,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub resolution: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub first_response_at: Option<chrono::DateTime<chrono::Utc>>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Asked privately (an `ask` answered only to the asker): what the asker hears of it is
    /// private too (on Discord, in a private thread).
    pub private: bool,
}

/// One recorded change of a ticket: who did what, when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketEvent {
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub note: Option<String>,
}

impl Ticket {
    /// Time from opening to the first moderator action, once there was one.
    pub fn first_response_time(&self) -> Option<chrono::Duration> {
        self.first_response_at.map(|t| t - self.created_at)
    }

    /// Time from opening to resolution, once resolved.
    pub fn resolution_time(&self) -> Option<chrono::Duration> {
        self.resolved_at.map(|t| t - self.created_at)
    }
}

/// The whole state a transition leaves a ticket in, and the history line that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketChange {
    pub ticket_id: i64,
    /// The status the change was decided from: it is written only while the ticket still has it,
    /// so a concurrent change by another moderator wins cleanly.
    pub from: Status,
    pub status: Status,
    pub assignee: Option<String>,
    pub resolution: Option<String>,
    /// After a person's transition there is a first response: it is the earliest one. The
    /// bot's own moves ([`apply_as_bot`]) leave it as it was.
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub event: TicketEvent,
}

/// What `transition` by `actor` at `now` does to `ticket`, or why the ticket's status does not
/// allow it (see [`next_status`]).
///
/// Assigning sets the assignee, nothing else does. A resolution stays with the ticket through
/// close; reopening drops it (the history keeps it), and a resolve gives a new one or none. Resolving stamps `resolved_at`, closing
/// keeps it (and stamps `closed_at`), reopening clears both. Transitions are moderators' commands
/// (the bot opens and links tickets but never moves one), so the first transition is the first
/// response.
pub fn apply(ticket: &Ticket, transition: &Transition, actor: &str, now: DateTime<Utc>) -> Result<TicketChange, InvalidTransition> {
    let status = next_status(ticket.status, transition)?;
    let assignee = match transition {
        Transition::Assign { to } => Some(to.clone()),
        _ => ticket.assignee.clone(),
    };
    let resolution = match transition {
        Transition::Resolve { resolution } => resolution.clone(),
        // Reopened: the old resolution did not settle it (it stays in the history), so a later
        // bare resolve must not tell the asker the same thing again.
        Transition::Reopen => None,
        _ => ticket.resolution.clone(),
    };
    let resolved_at = match status {
        Status::Resolved => Some(now),
        Status::Open | Status::Assigned => None,
        Status::Closed => ticket.resolved_at,
    };
    let note = match transition {
        Transition::Assign { to } => Some(to.clone()),
        Transition::Resolve { resolution } => resolution.clone(),
        Transition::Close | Transition::Reopen => None,
    };
    Ok(TicketChange {
        ticket_id: ticket.id,
        from: ticket.status,
        status,
        assignee,
        resolution,
        first_response_at: Some(ticket.first_response_at.unwrap_or(now)),
        resolved_at,
        closed_at: (status == Status::Closed).then_some(now),
        event: TicketEvent {
            at: now,
            actor: actor.into(),
            action: transition.name().into(),
            from_status: Some(ticket.status),
            to_status: status,
            note,
        },
    })
}

/// An open, normal, unanswered ticket for the rules' tests, opened at `created_at`.
#[cfg(test)]
pub(crate) fn sample_ticket(id: i64, created_at: DateTime<Utc>) -> Ticket {
    Ticket {
        id,
        platform: "test".into(),
        channel: "help".into(),
        question_message_id: Some("m1".into()),
        asker_id: "U1".into(),
        asker_name: "ann".into(),
        question: "why does the build fail on ARM?".into(),
        origin: Origin::Unanswered,
        status: Status::Open,
        priority: Priority::Normal,
        assignee: None,
        resolution: None,
        created_at,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        private: false,
    }
}

/// A move by the bot (closing a stale ticket, assigning by skill and load) or by the asker
/// (confirming it is solved): the same rules as [`apply`], but no first response, which only a
/// responder gives.
pub fn apply_as_bot(ticket: &Ticket, transition: &Transition, bot: &str, now: DateTime<Utc>) -> Result<TicketChange, InvalidTransition> {
    let mut change = apply(ticket, transition, bot, now)?;
    change.first_response_at = ticket.first_response_at;
    Ok(change)
}

/// A raised priority and the history line that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityChange {
    pub ticket_id: i64,
    /// The priority it was decided from: it is written only while the ticket still has it, so two
    /// raises racing do not both write history.
    pub from: Priority,
    pub to: Priority,
    pub event: TicketEvent,
}

/// Raising `ticket` to `to`, or `None` when it already is at least that urgent: a priority is
/// never lowered this way, and the status does not change.
pub fn raise_priority(ticket: &Ticket, to: Priority, actor: &str, now: DateTime<Utc>) -> Option<PriorityChange> {
    (to > ticket.priority).then(|| set_priority(ticket, to, actor, now)).flatten()
}

/// Setting `ticket`'s priority to `to`, up or down (a moderator's choice), or `None` when it
/// already has it. The status does not change.
pub fn set_priority(ticket: &Ticket, to: Priority, actor: &str, now: DateTime<Utc>) -> Option<PriorityChange> {
    (to != ticket.priority).then(|| PriorityChange {
        ticket_id: ticket.id,
        from: ticket.priority,
        to,
        event: TicketEvent {
            at: now,
            actor: actor.into(),
            action: "priority".into(),
            from_status: Some(ticket.status),
            to_status: ticket.status,
            note: Some(format!("{} → {}", ticket.priority.as_str(), to.as_str())),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minute * 60, 0).unwrap()
    }

    fn ticket(status: Status) -> Ticket {
        Ticket { status, ..sample_ticket(7, at(0)) }
    }

    /// The ticket as the store holds it once `change` is written.
    fn after(t: &Ticket, change: &TicketChange) -> Ticket {
        Ticket {
            status: change.status,
            assignee: change.assignee.clone(),
            resolution: change.resolution.clone(),
            first_response_at: change.first_response_at,
            resolved_at: change.resolved_at,
            closed_at: change.closed_at,
            ..t.clone()
        }
    }

    /// `transitions` one after another from an open ticket, each a minute later.
    fn walk(transitions: &[Transition]) -> Ticket {
        transitions.iter().enumerate().fold(ticket(Open), |t, (i, tr)| after(&t, &apply(&t, tr, "mia", at(i as i64 + 1)).unwrap()))
    }

    fn resolve(text: Option<&str>) -> Transition {
        Transition::Resolve { resolution: text.map(String::from) }
    }

    fn assign() -> Transition {
        Transition::Assign { to: "mod".into() }
    }

    #[test]
    fn the_happy_path_goes_open_assigned_resolved_closed() {
        let s = next_status(Open, &assign()).unwrap();
        let s = next_status(s, &Transition::Resolve { resolution: None }).unwrap();
        assert_eq!(s, Resolved);
        assert_eq!(next_status(s, &Transition::Close).unwrap(), Closed);
    }

    #[test]
    fn reopen_is_allowed_from_resolved_and_closed_only() {
        assert_eq!(next_status(Resolved, &Transition::Reopen).unwrap(), Open);
        assert_eq!(next_status(Closed, &Transition::Reopen).unwrap(), Open);
        assert!(next_status(Open, &Transition::Reopen).is_err());
        assert!(next_status(Assigned, &Transition::Reopen).is_err());
    }

    #[test]
    fn a_closed_ticket_cannot_be_assigned_resolved_or_closed_again() {
        for t in [assign(), Transition::Resolve { resolution: None }, Transition::Close] {
            let err = next_status(Closed, &t).unwrap_err();
            assert_eq!(err.from, Closed);
        }
    }

    #[test]
    fn reassigning_an_assigned_ticket_is_allowed() {
        assert_eq!(next_status(Assigned, &assign()).unwrap(), Assigned);
    }

    #[test]
    fn statuses_and_priorities_parse_case_insensitively() {
        assert_eq!("URGENT".parse::<Priority>().unwrap(), Priority::Urgent);
        assert_eq!(" resolved ".parse::<Status>().unwrap(), Resolved);
        assert!("soon".parse::<Priority>().is_err());
        assert!(Priority::Urgent > Priority::High);
    }

    #[test]
    fn assigning_sets_the_assignee_and_names_them_in_the_history() {
        let change = apply(&ticket(Open), &assign(), "max", at(5)).unwrap();
        assert_eq!((change.status, change.assignee.as_deref()), (Assigned, Some("mod")));
        assert_eq!(
            change.event,
            TicketEvent {
                at: at(5),
                actor: "max".into(),
                action: "assign".into(),
                from_status: Some(Open),
                to_status: Assigned,
                note: Some("mod".into())
            }
        );
    }

    #[test]
    fn reassigning_replaces_the_assignee_and_other_transitions_keep_it() {
        let t = walk(&[assign(), Transition::Assign { to: "zoe".into() }]);
        assert_eq!(t.assignee.as_deref(), Some("zoe"));
        for tr in [resolve(None), Transition::Close] {
            assert_eq!(apply(&t, &tr, "mia", at(9)).unwrap().assignee.as_deref(), Some("zoe"));
        }
        let reopened = walk(&[assign(), Transition::Close, Transition::Reopen]);
        assert_eq!((reopened.status, reopened.assignee.as_deref()), (Open, Some("mod")));
    }

    #[test]
    fn a_disallowed_transition_changes_nothing_and_says_why() {
        let err = apply(&ticket(Closed), &resolve(Some("fixed")), "mia", at(5)).unwrap_err();
        assert_eq!(err, InvalidTransition { from: Closed, verb: "resolved" });
        assert_eq!(err.to_string(), "a closed ticket cannot be resolved");
        assert!(apply(&ticket(Open), &Transition::Reopen, "mia", at(5)).is_err());
    }

    #[test]
    fn a_change_is_decided_from_the_status_the_ticket_had() {
        for (from, tr) in [(Open, assign()), (Assigned, resolve(None)), (Resolved, Transition::Close), (Closed, Transition::Reopen)] {
            let change = apply(&ticket(from), &tr, "mia", at(5)).unwrap();
            assert_eq!((change.ticket_id, change.from, change.event.from_status), (7, from, Some(from)));
            assert_eq!(change.event.to_status, change.status);
            assert_eq!(change.event.action, tr.name());
        }
    }

    #[test]
    fn resolving_records_the_resolution_and_the_time() {
        let change = apply(&ticket(Assigned), &resolve(Some("use armv8")), "mia", at(60)).unwrap();
        assert_eq!((change.status, change.resolution.as_deref(), change.resolved_at), (Resolved, Some("use armv8"), Some(at(60))));
        assert_eq!(change.closed_at, None);
        assert_eq!(change.event.note.as_deref(), Some("use armv8"));
    }

    #[test]
    fn a_resolution_is_kept_through_close_and_dropped_by_a_reopen() {
        let kept = |t: &[Transition]| walk(t).resolution;
        assert_eq!(kept(&[resolve(Some("v2")), Transition::Close]).as_deref(), Some("v2"));
        assert_eq!(kept(&[resolve(Some("v2")), Transition::Reopen]), None);
        assert_eq!(kept(&[resolve(Some("v2")), Transition::Close, Transition::Reopen, assign()]), None);
        assert_eq!(kept(&[resolve(Some("v2")), Transition::Reopen, resolve(Some("v3"))]).as_deref(), Some("v3"));
        assert_eq!(kept(&[resolve(None)]), None);
    }

    #[test]
    fn a_bare_resolve_after_a_reopen_does_not_reuse_the_old_resolution() {
        let t = walk(&[resolve(Some("v2")), Transition::Reopen]);
        let change = apply(&t, &resolve(None), "mia", at(9)).unwrap();
        assert_eq!((change.resolution, change.event.note), (None, None));
    }

    #[test]
    fn the_first_transition_is_the_first_response_and_later_ones_keep_it() {
        let first = apply(&ticket(Open), &Transition::Close, "mia", at(3)).unwrap();
        assert_eq!(first.first_response_at, Some(at(3)));
        let t = walk(&[assign(), resolve(None), Transition::Reopen, Transition::Close]);
        assert_eq!(t.first_response_at, Some(at(1)));
    }

    #[test]
    fn the_bots_own_moves_are_no_first_response() {
        let change = apply_as_bot(&ticket(Open), &Transition::Assign { to: "mia".into() }, "supportbot", at(3)).unwrap();
        assert_eq!((change.status, change.first_response_at, change.event.actor.as_str()), (Assigned, None, "supportbot"));
        let answered = Ticket { first_response_at: Some(at(1)), ..ticket(Open) };
        assert_eq!(apply_as_bot(&answered, &Transition::Close, "supportbot", at(9)).unwrap().first_response_at, Some(at(1)));
    }

    #[test]
    fn closing_keeps_when_it_was_resolved_and_stamps_when_it_was_closed() {
        let t = walk(&[resolve(None), Transition::Close]);
        assert_eq!((t.resolved_at, t.closed_at), (Some(at(1)), Some(at(2))));
        let unresolved = walk(&[Transition::Close]);
        assert_eq!((unresolved.resolved_at, unresolved.closed_at), (None, Some(at(1))));
    }

    #[test]
    fn reopening_clears_when_it_was_resolved_and_closed() {
        for path in [vec![resolve(None), Transition::Reopen], vec![resolve(None), Transition::Close, Transition::Reopen]] {
            let t = walk(&path);
            assert_eq!((t.status, t.resolved_at, t.closed_at), (Open, None, None));
        }
    }

    #[test]
    fn resolving_again_after_a_reopen_stamps_the_new_time() {
        let t = walk(&[resolve(None), Transition::Reopen, resolve(None)]);
        assert_eq!((t.resolved_at, t.closed_at), (Some(at(3)), None));
    }

    #[test]
    fn raising_a_priority_records_the_old_and_the_new_one() {
        let change = raise_priority(&ticket(Assigned), Priority::Urgent, "max", at(4)).unwrap();
        assert_eq!((change.ticket_id, change.from, change.to), (7, Priority::Normal, Priority::Urgent));
        assert_eq!(
            change.event,
            TicketEvent {
                at: at(4),
                actor: "max".into(),
                action: "priority".into(),
                from_status: Some(Assigned),
                to_status: Assigned,
                note: Some("normal → urgent".into())
            }
        );
    }

    #[test]
    fn a_priority_is_never_lowered_or_raised_to_itself() {
        assert_eq!(raise_priority(&ticket(Open), Priority::Normal, "max", at(4)), None);
        assert_eq!(raise_priority(&ticket(Open), Priority::Low, "max", at(4)), None);
    }
}
