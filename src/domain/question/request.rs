//! Requests without a question: imperatives ("help me", "cancel my order"), first-person wants
//! ("i need to reset") and knowledge gaps ("not sure how to").

use super::tokens::{has, is_action, is_aux, window, word_at};
use super::words::{
    ADVERBS, ARTICLES, CHATTY_ACTIONS, DESIRE_VERBS, GIVING_IMPERATIVES, HELP_IMPERATIVES, IMPERATIVE_OBJECTS, INDIRECT_COMPLEMENTS,
    INFO_IMPERATIVES, KNOWING_VERBS, NEGATORS, OWNED, REQUEST_NOUNS, SERVICE_IMPERATIVES, SOCIAL_VERBS,
};

/// "help me", "please explain", "tell me how", "let me know".
pub(super) fn is_help_imperative(core: &[String]) -> bool {
    const LEAD: &[&str] = &["please", "someone", "somebody", "anyone", "can", "could", "would", "you", "just"];
    let i = core.iter().take_while(|t| has(LEAD, t)).count();
    if i >= core.len() {
        return false;
    }
    let (w, rest) = (core[i].as_str(), &core[i + 1..]);
    if has(GIVING_IMPERATIVES, w) && hands_over_a_thing(rest) {
        return true;
    }
    if has(HELP_IMPERATIVES, w) {
        return rest.is_empty() || !is_aux(&rest[0]); // "help is on the way" is a noun
    }
    if has(INFO_IMPERATIVES, w) {
        let first = rest.iter().find(|x| !matches!(x.as_str(), "me" | "us" | "please"));
        return first.is_some_and(|x| has(INDIRECT_COMPLEMENTS, x) || x == "about");
    }
    w == "let" && rest.len() >= 2 && rest[0] == "me" && rest[1] == "know"
}

/// After "give" / "find" / "tell": "me" and a definite or owned thing ("me the weather", "me
/// my balance"); "give me a chance" and "send me those pics" are chat.
fn hands_over_a_thing(rest: &[String]) -> bool {
    rest.len() >= 3 && matches!(rest[0].as_str(), "me" | "us") && matches!(rest[1].as_str(), "the" | "my" | "our")
}

/// "cancel my order", "fix my contactless", "delete this account".
pub(super) fn is_service_imperative(core: &[String]) -> bool {
    let t = if word_at(core, 0) == "please" { &core[1..] } else { core };
    t.len() >= 2 && has(SERVICE_IMPERATIVES, &t[0]) && has(IMPERATIVE_OBJECTS, &t[1])
}

/// "please cancel my card", "pls reset": please + an action verb.
pub(super) fn is_polite_imperative(t: &[String]) -> bool {
    t.windows(2).any(|w| w[0] == "please" && is_action(&w[1]))
}

/// What follows "i need" / "i want" / "i'm trying": an action, help, or one's own thing.
/// `plain`: the verb is in the present, with no auxiliary ("i need", not "i'll need").
fn desire_complement_is_request(rest: &[String], verb: &str, plain: bool) -> bool {
    let mut rest = rest;
    if word_at(rest, 0) == "for" && verb == "looking" {
        rest = &rest[1..];
    }
    if word_at(rest, 0) != "to" {
        // a noun phrase: "i need help", "i want my money back"
        let article = has(ARTICLES, word_at(rest, 0));
        if matches!(word_at(rest, 0), "some" | "more" | "your" | "a" | "an" | "the" | "any") {
            rest = &rest[1..];
        }
        // "i need a routing number": needing a named thing is a request; "i want a hug" and
        // "need some sweet loving" are not
        if article && plain && matches!(verb, "need" | "require") && rest.len() >= 2 {
            return true;
        }
        return !rest.is_empty() && (has(REQUEST_NOUNS, &rest[0]) || has(OWNED, &rest[0]));
    }
    rest = &rest[1..];
    if word_at(rest, 0) == "be" {
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return false;
    }
    let (first, after) = (rest[0].as_str(), &rest[1..]);
    let next = word_at(after, 0);
    if has(KNOWING_VERBS, first)
        && !after.is_empty()
        && (has(INDIRECT_COMPLEMENTS, next) || matches!(next, "about" | "the" | "your" | "my" | "more" | "whether"))
    {
        return true; // "i want to know why", "i need to understand the fees"
    }
    // "i want to get a virtual card", "i need to do a refund": obtaining or doing a thing
    if matches!(first, "get" | "make" | "do") && matches!(next, "a" | "an") && after.len() >= 2 {
        return true;
    }
    if !is_action(first) {
        return false;
    }
    !has(CHATTY_ACTIONS, first) || (!after.is_empty() && has(OWNED, next))
}

/// "i need to reset", "we want to know how", "i'm trying to install", "need help".
pub(super) fn is_first_person_request(t: &[String]) -> bool {
    for (i, w) in t.iter().enumerate() {
        let mut j = if w == "i" || w == "we" {
            i + 1
        } else if (has(DESIRE_VERBS, w) || w == "would") && (i == 0 || matches!(t[i - 1].as_str(), "and" | "but" | "so")) {
            i // elided subject: "need to change my name", "... and would like to revert"
        } else {
            continue;
        };
        while j < t.len() && (has(ADVERBS, &t[j]) || is_aux(&t[j])) {
            j += 1;
        }
        if j >= t.len() || !has(DESIRE_VERBS, &t[j]) {
            continue;
        }
        let formal = j > 0 && t[j - 1] == "would"; // "i would like", "i'd appreciate"
        let rest = &t[j + 1..];
        if formal && !rest.is_empty() && !(rest[0] == "to" && rest.len() > 1 && has(SOCIAL_VERBS, &rest[1])) {
            return true; // "i would like a refund", "i'd like to cancel", not "to thank"
        }
        if matches!(t[j].as_str(), "like" | "appreciate") && !formal {
            continue; // "i like pizza"
        }
        let plain = t[i..j].iter().all(|w| !is_aux(w));
        if desire_complement_is_request(rest, &t[j], plain) {
            return true;
        }
    }
    false
}

/// Indirect questions: "not sure how to", "no idea why", "i wonder if", "can't figure out".
pub(super) fn is_knowledge_gap(t: &[String]) -> bool {
    for (i, w) in t.iter().enumerate() {
        let w = w.as_str();
        let nxt = word_at(t, i + 1);
        let negated = window(t, i as isize - 2, 2).iter().any(|x| has(NEGATORS, x) || x == "no");
        if matches!(w, "wondering" | "wonder" | "unsure" | "confused") && (has(INDIRECT_COMPLEMENTS, nxt) || matches!(nxt, "about" | "of")) {
            return true;
        }
        if !negated {
            continue;
        }
        if matches!(w, "sure" | "certain") && has(INDIRECT_COMPLEMENTS, nxt) {
            return true;
        }
        if matches!(w, "idea" | "clue" | "know") && matches!(nxt, "how" | "why" | "where" | "which" | "whether") {
            return true;
        }
        if w == "understand" && (has(INDIRECT_COMPLEMENTS, nxt) || matches!(nxt, "the" | "this" | "my")) {
            return true;
        }
        if w == "figure" {
            return true;
        }
    }
    false
}
