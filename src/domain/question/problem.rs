//! Problem reports: failure words, negated function verbs, wrong states of the speaker's things,
//! trouble, waiting, and actions the speaker disowns.

use super::tokens::{has, has_digit, is_aux, is_verb_in, matches_pattern, window, word_at, words_are};
use super::words::{
    ADVERBS, ADVERSE_PASSIVE, ADVERSE_WORDS, AUX_3SG, DESIRE_VERBS, DISOWNED_VERBS, FAILURE_WORDS, FIGURATIVE, FILLERS, FUNCTION_VERBS,
    GENERIC_VERBS, GOOD_STATES, LINKING_VERBS, NEGATORS, OBJECT_PRONOUNS, OWNED, PERSONAL_SUBJECTS, RESOLVED_WORDS, STRONG_ADVERSE, TASK_VERBS,
    THING_FAULTS, TROUBLE_NOUNS,
};

pub(super) fn is_problem_report(t: &[String]) -> bool {
    if is_resolved(t) || is_figurative(t) {
        return false;
    }
    has_failure_word(t) || negated_function(t) || adverse_state(t) || trouble_report(t) || persistence(t) || disowned_action(t)
}

/// "a payment that i didn't make", "i did not authorize this", "the app says i did and i
/// didn't": the speaker denies an action a record shows.
fn disowned_action(t: &[String]) -> bool {
    t.iter().enumerate().any(|(i, w)| {
        if w != "not" || i < 2 || !matches!(t[i - 1].as_str(), "did" | "do" | "have" | "has") {
            return false;
        }
        let subject = t[i - 2].as_str();
        if !matches!(subject, "i" | "we") {
            return false;
        }
        let verb = word_at(t, i + 1);
        let relative = i >= 3 && matches!(t[i - 3].as_str(), "that" | "which");
        let after = word_at(t, i + 2);
        let object_named = matches!(after, "this" | "that" | "these" | "those" | "it" | "them");
        // "a payment i did not make" ends the clause on the disowned verb
        let clause_end = after.is_empty() && i >= 3 && !has(PERSONAL_SUBJECTS, &t[i - 3]);
        (is_verb_in(verb, DISOWNED_VERBS) && (relative || object_named || clause_end))
            || (verb.is_empty() && i >= 3 && matches!(t[i - 3].as_str(), "and" | "but"))
    }) || not_by_me(t)
}

/// "a charge that was not made by me", "it wasn't by me".
fn not_by_me(t: &[String]) -> bool {
    t.iter().enumerate().any(|(i, w)| w == "not" && window(t, i as isize + 1, 3).windows(2).any(|p| p[0] == "by" && p[1] == "me"))
}

/// "he broke my heart", "that song is stuck in my head": trouble words in a figure of speech.
fn is_figurative(t: &[String]) -> bool {
    (0..t.len()).any(|i| FIGURATIVE.iter().any(|pat| matches_pattern(&t[i..], pat).is_some()))
}

/// "that fixed it", "solved": resolved, unless wished for ("i need it fixed") or negated.
fn is_resolved(t: &[String]) -> bool {
    if t.iter().any(|w| has(NEGATORS, w)) {
        return false;
    }
    t.iter().enumerate().any(|(i, w)| has(RESOLVED_WORDS, w) && !window(t, i as isize - 3, 3).iter().any(|x| has(DESIRE_VERBS, x) || x == "please"))
}

/// "error", "crashed", "segfault"; but "bug him" is the verb "to annoy", and "she is the
/// exception" a person set apart.
fn has_failure_word(t: &[String]) -> bool {
    t.iter().enumerate().any(|(i, w)| {
        has(FAILURE_WORDS, w)
            && !(matches!(w.as_str(), "bug" | "bugs") && has(OBJECT_PRONOUNS, word_at(t, i + 1)))
            && !(w == "exception" && i >= 2 && t[i - 1] == "the" && matches!(t[i - 2].as_str(), "am" | "is" | "are" | "was" | "be"))
    })
}

/// Walk left from `t[i]` over adverbs and auxiliaries: the subject (None when the clause starts
/// there or with a filler) and the auxiliary nearest to it.
fn subject_before(t: &[String], i: usize) -> (Option<&str>, Option<&str>) {
    let mut aux = None;
    let mut k = i;
    while k > 0 && (has(ADVERBS, &t[k - 1]) || is_aux(&t[k - 1])) {
        if is_aux(&t[k - 1]) {
            aux = Some(t[k - 1].as_str());
        }
        k -= 1;
    }
    if k == 0 || has(FILLERS, &t[k - 1]) {
        return (None, aux); // "sorry, didn't see ya": no subject given
    }
    (Some(t[k - 1].as_str()), aux)
}

/// A negation shortly before a function verb: "won't start", "hasn't arrived".
fn negated_function(t: &[String]) -> bool {
    let owned = t.iter().any(|w| has(OWNED, w));
    for (i, w) in t.iter().enumerate() {
        let w = w.as_str();
        if !has(NEGATORS, w) || (w == "longer" && (i == 0 || t[i - 1] != "no")) {
            continue;
        }
        let (mut subject, mut aux) = subject_before(t, i);
        if w == "longer" && subject == Some("no") {
            (subject, aux) = subject_before(t, i - 1);
        }
        // "the card i have doesn't work": "does" cannot agree with "i", so the subject is a
        // noun phrase around a relative clause, a thing.
        if i > 0 && has(AUX_3SG, &t[i - 1]) && subject.is_some_and(|s| matches!(s, "i" | "you" | "we" | "they")) {
            subject = Some("it");
        }
        let ability =
            w == "unable" || words_are(window(t, i as isize + 1, 2), &["able", "to"]) || (w == "not" && matches!(aux, Some("can" | "could")));
        let end = (i + 6).min(t.len());
        let Some(verb) = t[i + 1..end].iter().find(|v| !has(ADVERBS, v) && !is_aux(v)) else {
            continue;
        };
        let verb = verb.as_str();
        if ability && (w == "unable" || word_at(t, i + 1) == "able" || owned) {
            return true; // "unable to withdraw", "not able to do", "can't prove my identity"
        }
        // "i can't find the code", "we couldn't make a transfer": failing at a task on a thing
        if ability && is_verb_in(verb, TASK_VERBS) && matches!(word_at(t, i + 2), "the" | "a" | "an" | "any" | "this") {
            return true;
        }
        if has(OWNED, verb) && w == "not" {
            return true; // "that payment is not mine"
        }
        let generic = is_verb_in(verb, GENERIC_VERBS);
        if !generic && !is_verb_in(verb, FUNCTION_VERBS) {
            continue;
        }
        if w == "nothing" || !generic {
            return true; // "nothing happens", "i can't connect", "hasn't arrived"
        }
        match subject {
            // "doesn't work": a 3sg auxiliary implies a thing; "didn't see ya" may be a person
            None => {
                if aux.is_some_and(|a| has(AUX_3SG, a)) || owned {
                    return true;
                }
            }
            // "i didn't get my refund", but not "i don't get it"
            Some(s) if has(PERSONAL_SUBJECTS, s) || has_digit(s) => {
                if owned {
                    return true;
                }
            }
            // a thing: "it won't open", "the card doesn't work"
            Some(_) => return true,
        }
    }
    false
}

/// Something wrong with a thing: "my card is missing", "the rate isn't correct".
fn adverse_state(t: &[String]) -> bool {
    let owned = t.iter().any(|w| has(OWNED, w));
    let negated = t.iter().any(|w| has(NEGATORS, w));
    if owned && t.iter().any(|w| has(ADVERSE_WORDS, w) || (negated && has(GOOD_STATES, w))) {
        return true; // "a strange charge on my account", "i don't think my rate is correct"
    }
    if t.iter().any(|w| has(STRONG_ADVERSE, w)) {
        return true;
    }
    let last_owned = t.iter().rposition(|w| has(OWNED, w));
    for (i, w) in t.iter().enumerate() {
        let w = w.as_str();
        // "i sent the wrong amount": a wrong thing, not a wrong person ("you're wrong")
        if matches!(w, "the" | "a") && matches!(word_at(t, i + 1), "wrong" | "incorrect") {
            return true;
        }
        // "someone used my card": a third party acting on the speaker's things
        if matches!(w, "someone" | "somebody") && last_owned.is_some_and(|l| i < l) {
            return true;
        }
        // "there is an extra charge", "there's a delay in the build": something wrong exists
        if w == "there"
            && matches!(word_at(t, i + 1), "is" | "was" | "are" | "were" | "seems" | "appears")
            && window(t, i as isize + 2, 3).iter().any(|x| has(ADVERSE_WORDS, x) || x == "delay")
        {
            return true;
        }
        // "i was charged twice", "we got declined"
        if matches!(w, "i" | "we") && window(t, i as isize + 1, 4).iter().any(|x| has(ADVERSE_PASSIVE, x)) {
            return true;
        }
        // "the exchange rate is wrong", "the rate applied isn't correct": a thing's state
        let after = window(t, i as isize + 1, 8);
        if matches!(w, "the" | "your" | "this") && thing_state_is_wrong(after) {
            return true;
        }
    }
    false
}

/// After a determiner: noun words, then a copula and a fault ("rate is wrong"). `t` is a short
/// window after the determiner (a subject noun phrase is a few words).
fn thing_state_is_wrong(t: &[String]) -> bool {
    for k in 1..t.len().saturating_sub(1) {
        if !is_aux(&t[k]) && !has(LINKING_VERBS, &t[k]) {
            continue;
        }
        let pred = &t[k + 1..];
        if has(THING_FAULTS, &pred[0]) {
            return true;
        }
        return pred[0] == "not" && pred.len() > 1 && has(GOOD_STATES, &pred[1]);
    }
    false
}

/// "having trouble with", "problem with the installer", "i have an issue".
fn trouble_report(t: &[String]) -> bool {
    const HOLDERS: &[&str] = &["having", "have", "had", "facing", "experiencing", "getting", "i", "we"];
    t.iter().enumerate().any(|(i, w)| {
        has(TROUBLE_NOUNS, w) && (i == 0 || word_at(t, i + 1) == "with" || window(t, i as isize - 3, 3).iter().any(|x| has(HOLDERS, x)))
    })
}

/// "still not there", "still pending", "waiting for my card", "taking forever", "yet to
/// arrive", "it's not there", "isn't in my account".
fn persistence(t: &[String]) -> bool {
    let owned = t.iter().any(|w| has(OWNED, w));
    let last_function = t.iter().rposition(|w| is_verb_in(w, FUNCTION_VERBS));
    t.iter().enumerate().any(|(i, w)| {
        let after = window(t, i as isize + 1, 3);
        match w.as_str() {
            "still" => after.iter().any(|x| has(NEGATORS, x) || matches!(x.as_str(), "no" | "pending" | "waiting" | "missing")),
            "waiting" | "awaiting" => owned || last_function.is_some_and(|l| i < l),
            "taking" => after.iter().any(|x| matches!(x.as_str(), "forever" | "ages" | "long")),
            // "it is yet to arrive"
            "yet" => word_at(after, 0) == "to" && is_verb_in(word_at(after, 1), FUNCTION_VERBS),
            // "it's not there", "the refund isn't in my account"
            "not" => {
                let gone = word_at(after, 0) == "there" && after.len() == 1;
                let not_in_mine = matches!(word_at(after, 0), "in" | "on") && has(OWNED, word_at(after, 1));
                i > 0 && is_aux(&t[i - 1]) && (gone || not_in_mine)
            }
            _ => false,
        }
    })
}
