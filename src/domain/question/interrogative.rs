//! Interrogative syntax: wh-questions, an auxiliary before its subject, "anyone know ...".

use super::tokens::{has, has_digit, is_action, is_aux, word_at, words_are};
use super::words::{
    ADVERBS, AUX_3SG, AUX_BEFORE_NOUNS, AUX_MODAL, AUX_NON_3SG, AUX_PLURAL, ELIDED_AUX_OPENERS, HOW_DEGREE, NEGATORS, OBJECT_PRONOUNS,
    PERSONAL_SUBJECTS, PREPOSITIONS, RELATIVE_PRONOUNS, SUBJ_3SG, SUBJ_NON_3SG, SUBJ_PLURAL, SUBORDINATE_SUBJECTS, WH_WORDS,
};

/// Does `nxt` agree as the subject of an inverted `aux` ("do you", "does it", "is there")?
fn subject_follows(aux: &str, nxt: &str) -> bool {
    if has(AUX_NON_3SG, aux) {
        has(SUBJ_NON_3SG, nxt)
    } else if has(AUX_3SG, aux) {
        has(SUBJ_3SG, nxt) || has_digit(nxt) // "is User68 back"
    } else if has(AUX_PLURAL, aux) {
        has(SUBJ_PLURAL, nxt)
    } else if aux == "am" {
        nxt == "i"
    } else if has(AUX_MODAL, aux) {
        has(SUBJ_NON_3SG, nxt) || has(SUBJ_3SG, nxt) || has_digit(nxt)
    } else {
        false
    }
}

/// Auxiliary (optionally negated) before its subject at `i`: "can't you", "is there".
fn is_inverted(t: &[String], i: usize) -> bool {
    if i >= t.len() || !is_aux(&t[i]) {
        return false;
    }
    let j = if word_at(t, i + 1) == "not" { i + 2 } else { i + 1 };
    j < t.len() && subject_follows(&t[i], &t[j])
}

/// An auxiliary before a noun subject: "does france use a socket converter", "are visas needed
/// for cuba", "would a converter be needed". Auxiliaries that also open elided statements take
/// only an article ("would a"), since "would vote for him" is a statement.
fn is_inverted_before_noun(t: &[String]) -> bool {
    if t.len() < 4 {
        return false;
    }
    let (aux, subject) = (t[0].as_str(), t[1].as_str());
    if matches!(subject, "a" | "an") {
        return has(AUX_MODAL, aux) || aux == "does";
    }
    // A bare noun: none of the closed classes, not a verb, not a user name.
    let closed = [ADVERBS, OBJECT_PRONOUNS, NEGATORS, SUBJ_NON_3SG, SUBJ_3SG, PERSONAL_SUBJECTS];
    has(AUX_BEFORE_NOUNS, aux) && !closed.iter().any(|class| has(class, subject)) && !is_aux(subject) && !is_action(subject) && !has_digit(subject)
}

/// A wh-word opening a direct question, not a subordinate clause or an exclamative.
fn is_wh_question(t: &[String], name_before: bool) -> bool {
    if t.is_empty() || !has(WH_WORDS, &t[0]) {
        return false;
    }
    if t.len() == 1 {
        return true;
    }
    let (w, nxt) = (t[0].as_str(), t[1].as_str());
    if words_are(&t[1..], &["not"]) || matches!(nxt, "yes" | "yeah" | "no" | "sure" | "ok") {
        return false; // "why not" agrees, "why yes" is an interjection
    }
    let rest = &t[1..];
    if words_are(rest, &["the", "fuck"]) || words_are(rest, &["the", "hell"]) || words_are(rest, &["the", "heck"]) {
        return false; // "what the hell" is an exclamation
    }
    if is_aux(nxt) || nxt == "not" {
        return true;
    }
    if w == "how" {
        // "how many", "how to"; "how cute" is an exclamative
        return has(HOW_DEGREE, nxt) || (t.len() > 2 && is_aux(&t[2]));
    }
    if w == "when" {
        return false; // "when i run it": a subordinate clause
    }
    if w == "what" && matches!(nxt, "a" | "an") {
        return false; // "what a mess"
    }
    if name_before && has(RELATIVE_PRONOUNS, w) {
        return false; // "User5 who is my friend"
    }
    !has(SUBORDINATE_SUBJECTS, nxt) // "what i mean"
}

/// wh + aux + subject later in a clause: "when i top up what are the limits".
fn has_inner_wh_question(t: &[String]) -> bool {
    (1..t.len()).any(|i| has(WH_WORDS, &t[i]) && is_inverted(t, i + 1))
}

pub(super) fn is_interrogative(core: &[String], name_before: bool) -> bool {
    if is_wh_question(core, name_before) || has_inner_wh_question(core) {
        return true;
    }
    if core.len() >= 2 && has(PREPOSITIONS, &core[0]) && matches!(core[1].as_str(), "what" | "which" | "whose" | "whom") {
        return true; // "at what time", "in which file"
    }
    if !name_before && is_inverted_before_noun(core) {
        return true;
    }
    if is_inverted(core, 0) && !(name_before && (has(AUX_3SG, &core[0]) || core[0] == "had")) {
        return true; // but "User7 is a name" / "User7 has a pic": the name is the subject
    }
    // "anyone know ...": bare verb, the auxiliary is elided; "anyone can ..." is a statement
    core.len() >= 2 && has(ELIDED_AUX_OPENERS, &core[0]) && !is_aux(&core[1])
}
