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
//! Files: `text` (steps 1–3), `interrogative`, `request`, `problem` and `small_talk` (the rules
//! of step 4), `tokens` (helpers the rules share), `words` (the closed word classes), and
//! `lifecycle` (where a question stands once detected: [`QuestionStatus`]).
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
const SUPPORT_ORDER: [Reason; 4] = [Reason::QuestionMark, Reason::Interrogative, Reason::Request, Reason::ProblemReport];

/// A clause longer than this (a pasted log without punctuation) is judged on its first words.
const MAX_CLAUSE_TOKENS: usize = 200;

/// What the rules saw in one message: the detector's verdict and the evidence under it, for
/// the learned decision (`domain::decision`) to weigh.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    pub detection: Detection,
    /// Each reason some clause gave, before the message-level exceptions.
    pub found: Vec<Reason>,
    /// A clause ended in '?'.
    pub asked: bool,
    pub laughing: bool,
    /// "pm me", "any girls wanna chat": looking for company.
    pub soliciting: bool,
    /// Every clause's tokens, in order (lowercased, chat spellings mapped, contractions expanded).
    pub tokens: Vec<String>,
}

/// Classify one chat message. Never panics; cost is linear in the length of `text`.
pub fn detect(text: &str) -> Detection {
    signals(text).detection
}

/// The rules' verdict on one message, with what they found on the way.
pub fn signals(text: &str) -> Signals {
    let mut clauses: Vec<(Vec<String>, bool)> = split_clauses(&clean(text)).into_iter().map(|(c, asked)| (clause_tokens(&c), asked)).collect();
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
    let asked = clauses.iter().any(|(_, asked)| *asked);
    let soliciting = clauses.iter().any(|(toks, _)| invites_private_messages(toks));
    let laughing = clauses.iter().any(|(toks, _)| toks.iter().any(|w| has(LAUGHTER, w)));
    let found_in_clauses = found.clone();
    let tokens: Vec<String> = clauses.into_iter().flat_map(|(toks, _)| toks).collect();
    let signals = |detection| Signals { detection, found: found_in_clauses.clone(), asked, laughing, soliciting, tokens: tokens.clone() };
    // "any guys wanna chat? pm me": looking for company, unless a problem is reported too
    if soliciting && !found.contains(&Reason::ProblemReport) {
        return signals(Detection { is_support: false, reason: Reason::SmallTalk });
    }
    // "guess he crashed, lol", "i need a minute lol": a mishap or a need told as a joke is no
    // call for help (a question is)
    let told = |r: &Reason| matches!(r, Reason::ProblemReport | Reason::Request);
    if laughing && found.iter().all(|r| told(r) || !SUPPORT_ORDER.contains(r)) {
        found.retain(|r| !told(r));
    }
    if let Some(reason) = SUPPORT_ORDER.into_iter().find(|r| found.contains(r)) {
        return signals(Detection { is_support: true, reason });
    }
    let reason = if !any_words {
        Reason::TooShort
    } else if found.contains(&Reason::SmallTalk) {
        Reason::SmallTalk
    } else {
        Reason::Chatter
    };
    signals(Detection { is_support: false, reason })
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

mod interrogative;
mod lifecycle;
mod problem;
mod request;
mod small_talk;
mod text;
mod tokens;
mod words;
use interrogative::is_interrogative;
pub use lifecycle::QuestionStatus;
use problem::is_problem_report;
use request::{is_first_person_request, is_help_imperative, is_knowledge_gap, is_polite_imperative, is_service_imperative};
use small_talk::{invites_private_messages, is_pleasantry, is_rhetorical, is_social};
use text::{clause_tokens, clean, split_clauses};
use tokens::{content_words, has, skip_fillers};
use words::{ECHO_WORDS, LAUGHTER};

#[cfg(test)]
mod tests;
