//! Small predicates over a clause's tokens that every rule shares: word lookups, windows, verb
//! inflections, fillers and names.

use super::words::{ACTION_VERBS, AUX_3SG, AUX_MODAL, AUX_NON_3SG, AUX_OTHER, AUX_PLURAL, FILLERS, VERB_PREFIXES};

pub(super) fn has(list: &[&str], word: &str) -> bool {
    list.contains(&word)
}

/// Does `toks` hold exactly `words`?
pub(super) fn words_are(toks: &[String], words: &[&str]) -> bool {
    toks.len() == words.len() && toks.iter().zip(words).all(|(t, w)| t == w)
}

/// The word at `i`, or "" past the end.
pub(super) fn word_at(toks: &[String], i: usize) -> &str {
    toks.get(i).map_or("", String::as_str)
}

/// `toks[start..start + size]`, clipped to the slice (start may be negative).
pub(super) fn window(toks: &[String], start: isize, size: usize) -> &[String] {
    let len = toks.len() as isize;
    let lo = start.clamp(0, len);
    let hi = (start + size as isize).clamp(0, len);
    if lo >= hi { &[] } else { &toks[lo as usize..hi as usize] }
}

/// Regular inflections: work/works/worked/working, arrive/arrived/arriving, stop/stopped.
fn verb_form_of(token: &str, base: &str) -> bool {
    if token == base {
        return true;
    }
    if let Some(rest) = token.strip_prefix(base) {
        if matches!(rest, "s" | "es" | "ed" | "d" | "ing") {
            return true;
        }
        let last = base.chars().last().unwrap_or(' ');
        if base.len() >= 3 && matches!(rest.strip_prefix(last), Some("ed" | "ing")) {
            return true;
        }
    }
    // arrive -> arriving, apply -> applied / applies
    let e_dropped = base.strip_suffix('e').is_some_and(|stem| token.strip_prefix(stem) == Some("ing"));
    let y_to_i = base.strip_suffix('y').is_some_and(|stem| matches!(token.strip_prefix(stem), Some("ied" | "ies")));
    e_dropped || y_to_i
}

pub(super) fn is_verb_in(token: &str, bases: &[&str]) -> bool {
    bases.iter().any(|b| verb_form_of(token, b))
}

/// An action verb, also with a prefix: "reactivate", "unblock".
pub(super) fn is_action(token: &str) -> bool {
    is_verb_in(token, ACTION_VERBS) || VERB_PREFIXES.iter().any(|p| token.strip_prefix(p).is_some_and(|rest| is_verb_in(rest, ACTION_VERBS)))
}

/// Chat names ("User42", "10-19-20sUser7") carry digits.
pub(super) fn has_digit(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
}

pub(super) fn is_aux(word: &str) -> bool {
    [AUX_NON_3SG, AUX_3SG, AUX_PLURAL, AUX_MODAL, AUX_OTHER].iter().any(|l| has(l, word))
}

/// Drop leading fillers and names. Returns the rest and whether a name came right before it.
pub(super) fn skip_fillers(toks: &[String]) -> (&[String], bool) {
    let i = toks.iter().take_while(|t| has(FILLERS, t) || has_digit(t)).count();
    (&toks[i..], i > 0 && has_digit(&toks[i - 1]))
}

pub(super) fn content_words(toks: &[String]) -> Vec<&str> {
    toks.iter().map(String::as_str).filter(|t| !has(FILLERS, t) && !has_digit(t)).collect()
}

/// Match the start of `toks` against a '|'-alternative pattern; returns the words used.
pub(super) fn matches_pattern(toks: &[String], pattern: &str) -> Option<usize> {
    let slots: Vec<&str> = pattern.split(' ').collect();
    if toks.len() < slots.len() {
        return None;
    }
    let ok = slots.iter().zip(toks).all(|(slot, tok)| slot.split('|').any(|alt| alt == tok));
    ok.then_some(slots.len())
}
