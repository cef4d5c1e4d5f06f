//! Where a detected question stands after the detector said it is one: waiting for an answer,
//! answered (by the bot or the community), turned into a ticket, or dismissed by a moderator.

use std::fmt;
use std::str::FromStr;

/// Where a detected question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionStatus {
    /// Waiting for the unanswered window to pass.
    Pending,
    BotAnswered,
    CommunityAnswered,
    Ticketed,
    /// A moderator said it was no support question.
    Dismissed,
}

impl QuestionStatus {
    pub const ALL: [QuestionStatus; 5] = [
        QuestionStatus::Pending,
        QuestionStatus::BotAnswered,
        QuestionStatus::CommunityAnswered,
        QuestionStatus::Ticketed,
        QuestionStatus::Dismissed,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionStatus::Pending => "pending",
            QuestionStatus::BotAnswered => "bot_answered",
            QuestionStatus::CommunityAnswered => "community_answered",
            QuestionStatus::Ticketed => "ticketed",
            QuestionStatus::Dismissed => "dismissed",
        }
    }
}

impl fmt::Display for QuestionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses the stored spelling exactly (it is written by [`QuestionStatus::as_str`] only).
impl FromStr for QuestionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown question status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_it_was_written() {
        for status in QuestionStatus::ALL {
            assert_eq!(status.as_str().parse::<QuestionStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
    }

    #[test]
    fn an_unknown_or_differently_spelled_status_is_refused() {
        assert!("answered".parse::<QuestionStatus>().is_err());
        assert!("Pending".parse::<QuestionStatus>().is_err());
        assert!(" pending".parse::<QuestionStatus>().is_err());
    }
}
