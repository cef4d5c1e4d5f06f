//! Ticket lifecycle rules: which transitions are allowed, and what each one records.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

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
}

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
