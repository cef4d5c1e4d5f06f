//! How the FAQ learns from its community: the phrasings people actually used, confirmed by the
//! asker ("that helped") or by a moderator (a ticket resolved into an entry, a question linked
//! to one), each with where it came from. They are matched like an entry's own alternatives but
//! kept apart from the hand-written FAQ: listed, removable and exported on their own.

use super::faq::FaqEntry;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the bot learns without a moderator (`[faq] learn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LearnPolicy {
    /// Questions whose answer the asker marked helpful, and everything moderators teach.
    #[default]
    Confirmed,
    /// Only what moderators teach (`faq learn` into an entry, `faq link`).
    Moderated,
    /// Nothing: the FAQ file is the whole FAQ, and stored learned phrasings are not used.
    Off,
}

impl LearnPolicy {
    pub fn allows(self, from: LearnedFrom) -> bool {
        match self {
            LearnPolicy::Confirmed => true,
            LearnPolicy::Moderated => from != LearnedFrom::Helpful,
            LearnPolicy::Off => false,
        }
    }
}

/// Who confirmed that a question is a way of asking an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LearnedFrom {
    /// The asker voted the entry's answer helpful.
    Helpful,
    /// A moderator resolved the question's ticket into the entry (`faq learn <ticket> <id>`).
    Ticket,
    /// A moderator linked the question to the entry (`faq link <message> <id>`).
    Moderator,
}

impl LearnedFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            LearnedFrom::Helpful => "helpful",
            LearnedFrom::Ticket => "ticket",
            LearnedFrom::Moderator => "moderator",
        }
    }

    pub fn parse(text: &str) -> Option<LearnedFrom> {
        [LearnedFrom::Helpful, LearnedFrom::Ticket, LearnedFrom::Moderator].into_iter().find(|f| f.as_str() == text)
    }

    /// A moderator's word outranks an asker's vote: it is kept when an entry is full.
    pub fn by_moderator(self) -> bool {
        self != LearnedFrom::Helpful
    }
}

/// One learned phrasing of an entry, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedPhrasing {
    pub faq_id: String,
    pub text: String,
    pub from: LearnedFrom,
    /// The message it was asked in, as `platform:id`, when it came from chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who confirmed it: the asker or the moderator, by name.
    pub confirmed_by: String,
    pub learned_at: DateTime<Utc>,
}

/// Phrasings longer than this are not learned: a long message is a story, not a way of asking.
pub const MAX_LEARNED_CHARS: usize = 300;

/// One phrasing per entry however often it is learned: case, spacing and closing punctuation
/// do not make a new one.
pub fn phrasing_key(text: &str) -> String {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    words.join(" ").trim_end_matches(|c: char| c.is_ascii_punctuation()).trim_end().to_string()
}

/// Why a phrasing is not learned (the moderator is told; a vote is silent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotLearned {
    /// The policy does not let this source teach the FAQ.
    Policy,
    /// The text is already a phrasing of the entry (its own or learned).
    Known,
    /// Empty, or longer than [`MAX_LEARNED_CHARS`].
    Unfit,
    /// The entry has its cap of learned phrasings, none of which a newer one may replace.
    Full { cap: usize },
}

/// What learning `text` into `entry` would do, given the phrasings it has learned so far
/// (active ones, oldest first): Ok(None) to add it, Ok(Some(old)) to add it in place of
/// `old` (the oldest asker-confirmed one, when the entry is full and a moderator teaches),
/// or why not.
pub fn admit<'a>(
    policy: LearnPolicy,
    cap: usize,
    entry: &FaqEntry,
    learned: &'a [LearnedPhrasing],
    text: &str,
    from: LearnedFrom,
) -> Result<Option<&'a LearnedPhrasing>, NotLearned> {
    if !policy.allows(from) {
        return Err(NotLearned::Policy);
    }
    let key = phrasing_key(text);
    if key.is_empty() || text.chars().count() > MAX_LEARNED_CHARS {
        return Err(NotLearned::Unfit);
    }
    let known = entry.phrasings().map(phrasing_key).chain(learned.iter().map(|l| phrasing_key(&l.text))).any(|k| k == key);
    if known {
        return Err(NotLearned::Known);
    }
    if learned.len() < cap {
        return Ok(None);
    }
    // Full: a moderator's phrasing may push out the oldest vote-confirmed one; a vote may not.
    match learned.iter().find(|l| !l.from.by_moderator()).filter(|_| from.by_moderator()) {
        Some(oldest_vote) => Ok(Some(oldest_vote)),
        None => Err(NotLearned::Full { cap }),
    }
}

/// The entries as the index sees them: each with its learned phrasings as more alternatives.
pub fn with_learned(mut entries: Vec<FaqEntry>, learned: &[LearnedPhrasing]) -> Vec<FaqEntry> {
    for entry in &mut entries {
        entry.alternatives.extend(learned.iter().filter(|l| l.faq_id == entry.id).map(|l| l.text.clone()));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> FaqEntry {
        FaqEntry {
            id: "http-server".into(),
            question: "How do I change the port?".into(),
            alternatives: vec!["which port does it listen on".into()],
            answer: "Set [server] listen.".into(),
            tags: vec![],
            links: vec![],
        }
    }

    fn learned(text: &str, from: LearnedFrom, minute: u32) -> LearnedPhrasing {
        LearnedPhrasing {
            faq_id: "http-server".into(),
            text: text.into(),
            from,
            message: None,
            confirmed_by: "ann".into(),
            learned_at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 10, minute, 0).unwrap(),
        }
    }

    #[test]
    fn the_same_words_in_another_case_or_with_a_question_mark_are_not_a_new_phrasing() {
        assert_eq!(phrasing_key("  How do I  change the PORT?? "), "how do i change the port");
        let e = entry();
        assert_eq!(admit(LearnPolicy::Confirmed, 5, &e, &[], "how do i change the port", LearnedFrom::Ticket), Err(NotLearned::Known));
        let once = [learned("port 8080 is taken", LearnedFrom::Helpful, 0)];
        assert_eq!(admit(LearnPolicy::Confirmed, 5, &e, &once, "Port 8080 is taken!", LearnedFrom::Ticket), Err(NotLearned::Known));
        assert_eq!(admit(LearnPolicy::Confirmed, 5, &e, &once, "can it run on 9000", LearnedFrom::Helpful), Ok(None));
    }

    #[test]
    fn the_policy_decides_who_may_teach() {
        let e = entry();
        let ask = |policy, from| admit(policy, 5, &e, &[], "run it on 9000", from);
        assert_eq!(ask(LearnPolicy::Moderated, LearnedFrom::Helpful), Err(NotLearned::Policy));
        assert_eq!(ask(LearnPolicy::Moderated, LearnedFrom::Ticket), Ok(None));
        assert_eq!(ask(LearnPolicy::Off, LearnedFrom::Moderator), Err(NotLearned::Policy));
    }

    #[test]
    fn a_full_entry_takes_a_moderators_phrasing_in_place_of_the_oldest_vote_and_refuses_a_vote() {
        let e = entry();
        let full = [learned("a", LearnedFrom::Ticket, 0), learned("b", LearnedFrom::Helpful, 1), learned("c", LearnedFrom::Helpful, 2)];
        assert_eq!(admit(LearnPolicy::Confirmed, 3, &e, &full, "d", LearnedFrom::Helpful), Err(NotLearned::Full { cap: 3 }));
        assert_eq!(admit(LearnPolicy::Confirmed, 3, &e, &full, "d", LearnedFrom::Ticket), Ok(Some(&full[1])));
        let by_moderators = [learned("a", LearnedFrom::Ticket, 0)];
        assert_eq!(admit(LearnPolicy::Confirmed, 1, &e, &by_moderators, "d", LearnedFrom::Moderator), Err(NotLearned::Full { cap: 1 }));
    }

    #[test]
    fn long_or_empty_text_is_not_learned() {
        let e = entry();
        assert_eq!(admit(LearnPolicy::Confirmed, 5, &e, &[], " ?! ", LearnedFrom::Ticket), Err(NotLearned::Unfit));
        let story = "word ".repeat(80);
        assert_eq!(admit(LearnPolicy::Confirmed, 5, &e, &[], &story, LearnedFrom::Ticket), Err(NotLearned::Unfit));
    }

    #[test]
    fn the_index_sees_learned_phrasings_as_alternatives_of_their_own_entry_only() {
        let mut other = entry();
        other.id = "install".into();
        let seen = with_learned(vec![entry(), other], &[learned("run it on 9000", LearnedFrom::Helpful, 0)]);
        assert_eq!(seen[0].alternatives, vec!["which port does it listen on", "run it on 9000"]);
        assert_eq!(seen[1].alternatives, vec!["which port does it listen on"]);
    }
}
