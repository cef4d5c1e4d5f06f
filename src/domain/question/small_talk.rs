//! Small talk: pleasantries, rhetorical questions, private-message talk and social words, which
//! are not support even when they ask.

use super::tokens::{has, has_digit, is_aux, matches_pattern};
use super::words::{FILLERS, PLEASANTRIES, PLEASANTRY_TAIL, PRIVATE_MESSAGE_VERBS, RHETORICAL, SOCIAL_WORDS, WH_WORDS};

/// The clause is (or ends in) a well-being question: "how are you", "good, how r u".
pub(super) fn is_pleasantry(core: &[String]) -> bool {
    (0..core.len()).any(|i| {
        if i > 0 && !has(WH_WORDS, &core[i]) && !is_aux(&core[i]) {
            return false;
        }
        PLEASANTRIES.iter().any(|pat| {
            matches_pattern(&core[i..], pat).is_some_and(|n| core[i + n..].iter().all(|t| has(PLEASANTRY_TAIL, t) || has(FILLERS, t) || has_digit(t)))
        })
    })
}

/// "what can i say", "what was i thinking": questions nobody expects an answer to.
pub(super) fn is_rhetorical(core: &[String]) -> bool {
    RHETORICAL.iter().any(|pat| matches_pattern(core, pat).is_some())
}

/// "pm me", "whisper me", "stay out of my pm": talk about private messages, which a question
/// about the project never needs (a helper's "dm me your logs" is no question either).
pub(super) fn invites_private_messages(toks: &[String]) -> bool {
    toks.windows(2).any(|w| {
        (has(PRIVATE_MESSAGE_VERBS, &w[0]) || matches!(w[0].as_str(), "pming" | "dming")) && w[1] == "me"
            // "stay out of my pm", "send me a pm": private messages as the topic ("at 3 pm" is a time)
            || matches!(w[0].as_str(), "my" | "a" | "in" | "your") && matches!(w[1].as_str(), "pm" | "pms" | "dm" | "dms")
    })
}

pub(super) fn is_social(toks: &[String]) -> bool {
    toks.iter().any(|t| has(SOCIAL_WORDS, t))
}
