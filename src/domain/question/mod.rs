//! Rule-based support-question detector.
//!
//! Decides whether a chat message is a support question or request the bot should handle
//! ("my build fails on ARM", "is there a way to disable telemetry", "can't connect to postgres")
//! or chatter to ignore ("thanks, that fixed it", "lol", "good morning everyone").
//!
//! Pipeline, std only and linear in the input size:
//! 1. strip code spans, URLs and `<@mentions>` (`clean`);
//! 2. split into clauses at sentence punctuation, remembering which ended in `?`
//!    (`split_clauses`);
//! 3. tokenise: lowercase, split on non-alphanumerics except apostrophes, map chat spellings
//!    ("u", "plz", "dont") and expand contractions ("can't" -> "can not") (`tokenise`);
//! 4. judge every clause (`judge_clause`): a pleasantry ("how are you") is small talk; then a
//!    question mark, interrogative syntax (wh-question, auxiliary before its subject, "anyone
//!    know ..."), a request ("help me", "i need to reset", "not sure how to") or a problem report
//!    (failure words, negated function verbs, wrong states of the speaker's things);
//! 5. the message is support when any clause is, except: a message about private messages
//!    ("any girls wanna chat? pm me") is company-seeking, a mishap told with laughter ("guess he
//!    crashed lol") is a story, and a question after "i was like" is retold speech.
//!
//! The rules are linguistic (syntax and small closed word classes), not phrases from any data
//! set. `supportbot eval detect` measures it (figures and command in BENCHMARKS.md).

/// Why the detector decided what it did (logged and shown in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    QuestionMark,
    Interrogative,
    ProblemReport,
    Request,
    SmallTalk,
    Chatter,
    TooShort,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Detection {
    pub is_support: bool,
    pub reason: Reason,
}

/// Support reasons from the most to the least explicit; the first one found is reported.
const SUPPORT_ORDER: [Reason; 4] =
    [Reason::QuestionMark, Reason::Interrogative, Reason::Request, Reason::ProblemReport];

/// A clause longer than this (a pasted log without punctuation) is judged on its first words.
const MAX_CLAUSE_TOKENS: usize = 200;

/// Classify one chat message. Never panics; cost is linear in the length of `text`.
pub fn detect(text: &str) -> Detection {
    let mut clauses: Vec<(Vec<String>, bool)> =
        split_clauses(&clean(text)).into_iter().map(|(c, asked)| (clause_tokens(&c), asked)).collect();
    // A '?' after a bare name or filler ("you coming, User3?") belongs to the clause before it.
    for k in (1..clauses.len()).rev() {
        if clauses[k].1 && content_words(&clauses[k].0).is_empty() {
            clauses[k - 1].1 = true;
        }
    }
    let mut found = Vec::new();
    let mut any_words = false;
    let mut quoting = false;
    for (toks, asked) in &clauses {
        let reason = judge_clause(toks, *asked);
        any_words |= !toks.is_empty();
        // "i was like wth.. who are you": after a quotative, questions are reported speech
        if !quoting || reason.is_some_and(|r| !matches!(r, Reason::QuestionMark | Reason::Interrogative)) {
            found.extend(reason);
        }
        quoting |= is_quotative(toks);
    }
    // "any guys wanna chat? pm me": looking for company, unless a problem is reported too
    let soliciting = clauses.iter().any(|(toks, _)| invites_private_messages(toks));
    if soliciting && !found.contains(&Reason::ProblemReport) {
        return Detection { is_support: false, reason: Reason::SmallTalk };
    }
    // "guess he crashed, lol": a mishap told as a joke is no call for help (a question is)
    let laughing = clauses.iter().any(|(toks, _)| toks.iter().any(|w| has(LAUGHTER, w)));
    if laughing && found.iter().all(|r| *r == Reason::ProblemReport || !SUPPORT_ORDER.contains(r)) {
        found.retain(|r| *r != Reason::ProblemReport);
    }
    if let Some(reason) = SUPPORT_ORDER.into_iter().find(|r| found.contains(r)) {
        return Detection { is_support: true, reason };
    }
    let reason = if !any_words {
        Reason::TooShort
    } else if found.contains(&Reason::SmallTalk) {
        Reason::SmallTalk
    } else {
        Reason::Chatter
    };
    Detection { is_support: false, reason }
}

/// "i was like", "i'm like": what follows is somebody's words retold.
fn is_quotative(toks: &[String]) -> bool {
    toks.windows(2).any(|w| matches!(w[0].as_str(), "was" | "i'm" | "am") && w[1] == "like")
}

/// Judge one clause's tokens: the reason, if any rule fired.
fn judge_clause(toks: &[String], asked: bool) -> Option<Reason> {
    if toks.is_empty() {
        return None;
    }
    let (core, name_before) = skip_fillers(toks);
    if is_pleasantry(core) || is_rhetorical(core) {
        Some(Reason::SmallTalk)
    } else if asked && is_real_question(&content_words(toks)) {
        Some(Reason::QuestionMark)
    } else if is_interrogative(core, name_before) {
        Some(Reason::Interrogative)
    } else if is_help_imperative(core)
        || is_service_imperative(core)
        || is_polite_imperative(toks)
        || is_first_person_request(core)
        || is_knowledge_gap(toks)
    {
        Some(Reason::Request)
    } else if is_problem_report(toks) {
        Some(Reason::ProblemReport)
    } else if is_social(toks) {
        Some(Reason::SmallTalk)
    } else {
        None
    }
}

/// A '?' counts unless the clause is empty or a lone echo ("really?", "u?", "hello?").
fn is_real_question(content: &[&str]) -> bool {
    match content {
        [] => false,
        [only] => !has(ECHO_WORDS, only),
        _ => true,
    }
}

// ============================================================================ text cleanup

/// Drop code, URLs and mentions; keep line breaks (they end clauses).
fn clean(text: &str) -> String {
    strip_code(text)
        .split('\n')
        .map(|line| {
            line.split_whitespace().filter(|w| !is_markup_word(w)).collect::<Vec<_>>().join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Remove ```fenced``` and `inline` code; an unpaired fence is kept as text.
fn strip_code(text: &str) -> String {
    let mut text = text.to_string();
    for fence in ["```", "`"] {
        let parts: Vec<&str> = text.split(fence).collect();
        let mut kept = String::with_capacity(text.len());
        for (i, part) in parts.iter().enumerate() {
            if i % 2 == 0 {
                kept.push_str(part);
            } else if i + 1 < parts.len() {
                kept.push(' ');
            } else {
                kept.push_str(fence);
                kept.push_str(part);
            }
        }
        text = kept;
    }
    text
}

/// A whitespace-delimited word that is a URL, an @mention or a `<@chat-markup>` tag.
fn is_markup_word(word: &str) -> bool {
    let w = word.to_lowercase();
    if w.contains("://") || w.starts_with("www.") {
        return true;
    }
    if w.starts_with('@') && w.chars().count() > 1 {
        return true;
    }
    w.starts_with('<')
        && w.contains('>')
        && (matches!(w.chars().nth(1), Some('@' | '#' | '!' | ':'))
            || w.starts_with("<a:")
            || w.starts_with("<http"))
}

// ================================================================================ clauses

/// Characters that end a clause.
const CLAUSE_BREAKS: &[char] =
    &['.', '!', '?', ';', ':', ',', '\n', '(', ')', '[', ']', '"', '\u{2026}'];

/// Split at sentence punctuation; returns `(clause, asked)`, asked = ended with '?'.
/// '.', ',' and ':' between two alphanumerics ("config.toml", "1,000") do not split.
fn split_clauses(text: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut clauses = Vec::new();
    let mut cur = String::new();
    let mut asked = false;
    let mut in_break = false;
    for (i, &c) in chars.iter().enumerate() {
        let mut is_break = CLAUSE_BREAKS.contains(&c);
        if is_break
            && matches!(c, '.' | ',' | ':')
            && i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_alphanumeric()
            && chars[i + 1].is_alphanumeric()
        {
            is_break = false;
        }
        if is_break {
            asked = asked || c == '?';
            in_break = true;
            continue;
        }
        if in_break {
            clauses.push((std::mem::take(&mut cur), asked));
            asked = false;
            in_break = false;
        }
        cur.push(c);
    }
    clauses.push((cur, asked));
    clauses
}

// =============================================================================== tokenise

/// Tokens of one clause, capped so that pathological input stays cheap.
fn clause_tokens(text: &str) -> Vec<String> {
    let mut toks = tokenise(text);
    toks.truncate(MAX_CLAUSE_TOKENS);
    toks
}

/// Lowercase, split on anything but letters, digits and apostrophes, then normalise.
fn tokenise(text: &str) -> Vec<String> {
    raw_words(text).iter().flat_map(|w| normalise(w)).collect()
}

fn raw_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        let c = if c == '\u{2019}' || c == '\u{2018}' { '\'' } else { c };
        if c.is_alphanumeric() || c == '\'' {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => cur.push(l),
                _ => cur.push(c),
            }
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Map a chat spelling ("u", "plz", "dont") and expand contractions ("don't" -> "do not").
fn normalise(word: &str) -> Vec<String> {
    let word = word.trim_matches('\'');
    if word.is_empty() {
        return Vec::new();
    }
    let mapped = CHAT_SPELLINGS.iter().find(|(from, _)| *from == word).map(|(_, to)| *to);
    mapped
        .unwrap_or(word)
        .split(' ')
        .flat_map(expand_contraction)
        .filter(|p| !p.is_empty())
        .collect()
}

fn expand_contraction(word: &str) -> Vec<String> {
    let pair = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
    match word {
        "can't" => return pair("can", "not"),
        "won't" => return pair("will", "not"),
        "shan't" => return pair("shall", "not"),
        "let's" => return pair("let", "us"),
        _ => {}
    }
    if let Some(base) = word.strip_suffix("n't").filter(|b| !b.is_empty()) {
        return pair(base, "not");
    }
    let suffixes =
        [("'m", "am"), ("'re", "are"), ("'ve", "have"), ("'ll", "will"), ("'d", "would")];
    for (suffix, full) in suffixes {
        if let Some(base) = word.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            return pair(base, full);
        }
    }
    if let Some(base) = word.strip_suffix("'s").filter(|b| !b.is_empty()) {
        return if has(IS_CONTRACTIBLE, base) { pair(base, "is") } else { vec![base.to_string()] };
    }
    vec![word.to_string()]
}

// =========================================================================== word helpers

fn has(list: &[&str], word: &str) -> bool {
    list.contains(&word)
}

/// Does `toks` hold exactly `words`?
fn words_are(toks: &[String], words: &[&str]) -> bool {
    toks.len() == words.len() && toks.iter().zip(words).all(|(t, w)| t == w)
}

/// The word at `i`, or "" past the end.
fn word_at(toks: &[String], i: usize) -> &str {
    toks.get(i).map_or("", String::as_str)
}

/// `toks[start..start + size]`, clipped to the slice (start may be negative).
fn window(toks: &[String], start: isize, size: usize) -> &[String] {
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
    let e_dropped =
        base.strip_suffix('e').is_some_and(|stem| token.strip_prefix(stem) == Some("ing"));
    let y_to_i = base
        .strip_suffix('y')
        .is_some_and(|stem| matches!(token.strip_prefix(stem), Some("ied" | "ies")));
    e_dropped || y_to_i
}

fn is_verb_in(token: &str, bases: &[&str]) -> bool {
    bases.iter().any(|b| verb_form_of(token, b))
}

/// An action verb, also with a prefix: "reactivate", "unblock".
fn is_action(token: &str) -> bool {
    is_verb_in(token, ACTION_VERBS)
        || VERB_PREFIXES
            .iter()
            .any(|p| token.strip_prefix(p).is_some_and(|rest| is_verb_in(rest, ACTION_VERBS)))
}

/// Chat names ("User42", "10-19-20sUser7") carry digits.
fn has_digit(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
}

fn is_aux(word: &str) -> bool {
    [AUX_NON_3SG, AUX_3SG, AUX_PLURAL, AUX_MODAL, AUX_OTHER].iter().any(|l| has(l, word))
}

/// Drop leading fillers and names. Returns the rest and whether a name came right before it.
fn skip_fillers(toks: &[String]) -> (&[String], bool) {
    let i = toks.iter().take_while(|t| has(FILLERS, t) || has_digit(t)).count();
    (&toks[i..], i > 0 && has_digit(&toks[i - 1]))
}

fn content_words(toks: &[String]) -> Vec<&str> {
    toks.iter().map(String::as_str).filter(|t| !has(FILLERS, t) && !has_digit(t)).collect()
}

/// Match the start of `toks` against a '|'-alternative pattern; returns the words used.
fn matches_pattern(toks: &[String], pattern: &str) -> Option<usize> {
    let slots: Vec<&str> = pattern.split(' ').collect();
    if toks.len() < slots.len() {
        return None;
    }
    let ok = slots.iter().zip(toks).all(|(slot, tok)| slot.split('|').any(|alt| alt == tok));
    ok.then_some(slots.len())
}

// ============================================================================= small talk

/// The clause is (or ends in) a well-being question: "how are you", "good, how r u".
fn is_pleasantry(core: &[String]) -> bool {
    (0..core.len()).any(|i| {
        if i > 0 && !has(WH_WORDS, &core[i]) && !is_aux(&core[i]) {
            return false;
        }
        PLEASANTRIES.iter().any(|pat| {
            matches_pattern(&core[i..], pat).is_some_and(|n| {
                core[i + n..]
                    .iter()
                    .all(|t| has(PLEASANTRY_TAIL, t) || has(FILLERS, t) || has_digit(t))
            })
        })
    })
}

/// "what can i say", "what was i thinking": questions nobody expects an answer to.
fn is_rhetorical(core: &[String]) -> bool {
    RHETORICAL.iter().any(|pat| matches_pattern(core, pat).is_some())
}

/// "pm me", "whisper me", "stay out of my pm": talk about private messages, which a question
/// about the project never needs (a helper's "dm me your logs" is no question either).
fn invites_private_messages(toks: &[String]) -> bool {
    toks.windows(2).any(|w| {
        (has(PRIVATE_MESSAGE_VERBS, &w[0]) || matches!(w[0].as_str(), "pming" | "dming")) && w[1] == "me"
            // "stay out of my pm", "send me a pm": private messages as the topic ("at 3 pm" is a time)
            || matches!(w[0].as_str(), "my" | "a" | "in" | "your") && matches!(w[1].as_str(), "pm" | "pms" | "dm" | "dms")
    })
}

fn is_social(toks: &[String]) -> bool {
    toks.iter().any(|t| has(SOCIAL_WORDS, t))
}

// ========================================================================= interrogatives

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
    if words_are(rest, &["the", "fuck"]) || words_are(rest, &["the", "hell"])
        || words_are(rest, &["the", "heck"])
    {
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

fn is_interrogative(core: &[String], name_before: bool) -> bool {
    if is_wh_question(core, name_before) || has_inner_wh_question(core) {
        return true;
    }
    if core.len() >= 2
        && has(PREPOSITIONS, &core[0])
        && matches!(core[1].as_str(), "what" | "which" | "whose" | "whom")
    {
        return true; // "at what time", "in which file"
    }
    if is_inverted(core, 0) && !(name_before && (has(AUX_3SG, &core[0]) || core[0] == "had")) {
        return true; // but "User7 is a name" / "User7 has a pic": the name is the subject
    }
    // "anyone know ...": bare verb, the auxiliary is elided; "anyone can ..." is a statement
    core.len() >= 2 && has(ELIDED_AUX_OPENERS, &core[0]) && !is_aux(&core[1])
}

// =============================================================================== requests

/// "help me", "please explain", "tell me how", "let me know".
fn is_help_imperative(core: &[String]) -> bool {
    const LEAD: &[&str] =
        &["please", "someone", "somebody", "anyone", "can", "could", "would", "you", "just"];
    let i = core.iter().take_while(|t| has(LEAD, t)).count();
    if i >= core.len() {
        return false;
    }
    let (w, rest) = (core[i].as_str(), &core[i + 1..]);
    if has(HELP_IMPERATIVES, w) {
        return rest.is_empty() || !is_aux(&rest[0]); // "help is on the way" is a noun
    }
    if has(INFO_IMPERATIVES, w) {
        let first = rest.iter().find(|x| !matches!(x.as_str(), "me" | "us" | "please"));
        return first.is_some_and(|x| has(INDIRECT_COMPLEMENTS, x) || x == "about");
    }
    w == "let" && rest.len() >= 2 && rest[0] == "me" && rest[1] == "know"
}

/// "cancel my order", "fix my contactless", "delete this account".
fn is_service_imperative(core: &[String]) -> bool {
    let t = if word_at(core, 0) == "please" { &core[1..] } else { core };
    t.len() >= 2 && has(SERVICE_IMPERATIVES, &t[0]) && has(IMPERATIVE_OBJECTS, &t[1])
}

/// "please cancel my card", "pls reset": please + an action verb.
fn is_polite_imperative(t: &[String]) -> bool {
    t.windows(2).any(|w| w[0] == "please" && is_action(&w[1]))
}

/// What follows "i need" / "i want" / "i'm trying": an action, help, or one's own thing.
fn desire_complement_is_request(rest: &[String], verb: &str) -> bool {
    let mut rest = rest;
    if word_at(rest, 0) == "for" && verb == "looking" {
        rest = &rest[1..];
    }
    if word_at(rest, 0) != "to" {
        // a noun phrase: "i need help", "i want my money back"
        if matches!(word_at(rest, 0), "some" | "more" | "your" | "a" | "an" | "the" | "any") {
            rest = &rest[1..];
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
        && (has(INDIRECT_COMPLEMENTS, next)
            || matches!(next, "about" | "the" | "your" | "my" | "more" | "whether"))
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
fn is_first_person_request(t: &[String]) -> bool {
    for (i, w) in t.iter().enumerate() {
        let mut j = if w == "i" || w == "we" {
            i + 1
        } else if (has(DESIRE_VERBS, w) || w == "would")
            && (i == 0 || matches!(t[i - 1].as_str(), "and" | "but" | "so"))
        {
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
        if formal
            && !rest.is_empty()
            && !(rest[0] == "to" && rest.len() > 1 && has(SOCIAL_VERBS, &rest[1]))
        {
            return true; // "i would like a refund", "i'd like to cancel", not "to thank"
        }
        if matches!(t[j].as_str(), "like" | "appreciate") && !formal {
            continue; // "i like pizza"
        }
        if desire_complement_is_request(rest, &t[j]) {
            return true;
        }
    }
    false
}

/// Indirect questions: "not sure how to", "no idea why", "i wonder if", "can't figure out".
fn is_knowledge_gap(t: &[String]) -> bool {
    for (i, w) in t.iter().enumerate() {
        let w = w.as_str();
        let nxt = word_at(t, i + 1);
        let negated = window(t, i as isize - 2, 2).iter().any(|x| has(NEGATORS, x) || x == "no");
        if matches!(w, "wondering" | "wonder" | "unsure" | "confused")
            && (has(INDIRECT_COMPLEMENTS, nxt) || matches!(nxt, "about" | "of"))
        {
            return true;
        }
        if !negated {
            continue;
        }
        if matches!(w, "sure" | "certain") && has(INDIRECT_COMPLEMENTS, nxt) {
            return true;
        }
        if matches!(w, "idea" | "clue" | "know")
            && matches!(nxt, "how" | "why" | "where" | "which" | "whether")
        {
            return true;
        }
        if w == "understand"
            && (has(INDIRECT_COMPLEMENTS, nxt) || matches!(nxt, "the" | "this" | "my"))
        {
            return true;
        }
        if w == "figure" {
            return true;
        }
    }
    false
}

// ======================================================================== problem reports

fn is_problem_report(t: &[String]) -> bool {
    if is_resolved(t) || is_figurative(t) {
        return false;
    }
    has_failure_word(t)
        || negated_function(t)
        || adverse_state(t)
        || trouble_report(t)
        || persistence(t)
        || disowned_action(t)
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
    t.iter().enumerate().any(|(i, w)| {
        w == "not" && window(t, i as isize + 1, 3).windows(2).any(|p| p[0] == "by" && p[1] == "me")
    })
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
    t.iter().enumerate().any(|(i, w)| {
        has(RESOLVED_WORDS, w)
            && !window(t, i as isize - 3, 3).iter().any(|x| has(DESIRE_VERBS, x) || x == "please")
    })
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
        let ability = w == "unable"
            || words_are(window(t, i as isize + 1, 2), &["able", "to"])
            || (w == "not" && matches!(aux, Some("can" | "could")));
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
        if matches!(w, "i" | "we")
            && window(t, i as isize + 1, 4).iter().any(|x| has(ADVERSE_PASSIVE, x))
        {
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
    const HOLDERS: &[&str] =
        &["having", "have", "had", "facing", "experiencing", "getting", "i", "we"];
    t.iter().enumerate().any(|(i, w)| {
        has(TROUBLE_NOUNS, w)
            && (i == 0
                || word_at(t, i + 1) == "with"
                || window(t, i as isize - 3, 3).iter().any(|x| has(HOLDERS, x)))
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
            "still" => after.iter().any(|x| {
                has(NEGATORS, x) || matches!(x.as_str(), "no" | "pending" | "waiting" | "missing")
            }),
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

mod words;
use words::*;

#[cfg(test)]
mod tests;
