//! The command language, the same text on every platform ("ticket assign 12 alice").

use super::ticket::{Priority, Status};
use serde::Serialize;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    FaqSearch {
        query: String,
    },
    FaqList,
    FaqShow {
        id: String,
    },
    Ask {
        question: String,
    },
    Escalate {
        target: String,
        priority: Priority,
    },
    /// A moderator's correction: the ticket ("#12") or message was no support question.
    NotAQuestion {
        target: String,
    },
    TicketList {
        status: Option<Status>,
    },
    TicketShow {
        id: i64,
    },
    TicketAssign {
        id: i64,
        user: String,
    },
    TicketResolve {
        id: i64,
        resolution: Option<String>,
    },
    TicketClose {
        id: i64,
    },
    TicketReopen {
        id: i64,
    },
    /// The asker's answer to "is this solved?" (the nudge's buttons): solved, or not yet.
    Solved {
        id: i64,
        solved: bool,
    },
    /// An internal note on a ticket: moderators see it, the asker never does.
    TicketNote {
        id: i64,
        text: String,
    },
    /// Opens a GitHub issue for a ticket, in `target` (a repository, or empty for the default),
    /// or links the ticket to an existing issue (`owner/name#12`, an issue's address).
    TicketGithub {
        id: i64,
        target: String,
    },
    /// Sets a ticket's priority, up or down.
    TicketPriority {
        id: i64,
        priority: Priority,
    },
    /// A moderator asks for a one-time sign-in link to the web console, sent to them only.
    Console,
    FaqAdd {
        id: String,
        question: String,
        answer: String,
    },
    FaqEdit {
        id: String,
        field: FaqField,
        value: String,
    },
    FaqRemove {
        id: String,
    },
    FaqLearn {
        ticket: i64,
        faq_id: Option<String>,
    },
    /// A moderator says a message asked what an entry answers: it becomes a learned phrasing.
    FaqLink {
        message: String,
        faq_id: String,
    },
    /// Removes an entry's learned phrasing, by its number in `faq show`.
    FaqUnlearn {
        faq_id: String,
        number: usize,
    },
    /// A preview of the weekly digest for the last 7 days.
    Digest,
    /// Feedback for the maintainers, gathered into the digest's themes.
    Feedback {
        text: String,
    },
    /// A member asks to be forgotten: first what would go, then `confirm` (or `cancel`).
    ForgetMe {
        step: ForgetStep,
    },
    /// What the bot stores and for how long, for everyone.
    PrivacyPolicy,
    /// A moderator forgets a member (by platform id or mention).
    PrivacyForget {
        member: String,
    },
    /// A moderator exports what is stored about a member, privately.
    PrivacyExport {
        member: String,
    },
}

/// The steps of `forget-me`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgetStep {
    /// What would be deleted, and how to confirm.
    Ask,
    Confirm,
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaqField {
    Question,
    Answer,
    Alternatives,
    Tags,
    Links,
}

/// One line of the help text.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CommandHelp {
    pub usage: &'static str,
    pub summary: &'static str,
    pub moderator: bool,
}

const fn help(usage: &'static str, summary: &'static str, moderator: bool) -> CommandHelp {
    CommandHelp { usage, summary, moderator }
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[CommandHelp] = &[
    help("help", "show this list", false),
    help("faq search <query>", "search the FAQ", false),
    help("faq list", "list the FAQ's entries", false),
    help("faq show <id>", "show one FAQ entry", false),
    help("ask <question>", "ask the bot directly", false),
    help("feedback <text>", "tell the maintainers what you think", false),
    help("solved <ticket id>", "your ticket is solved (for the asker)", false),
    help("forget-me [confirm|cancel]", "delete what the bot stores about you (asks you to confirm first)", false),
    help("privacy policy", "what the bot stores about members and for how long", false),
    help("unsolved <ticket id>", "you still need help with your ticket (for the asker)", false),
    help("escalate <message id or text> [low|normal|high|urgent]", "open a ticket for a message", true),
    help("not-a-question <ticket #id or message id>", "close a ticket as noise; the bot learns from it", true),
    help("ticket list [open|assigned|resolved|closed]", "list tickets (default: open and assigned)", true),
    help("ticket show <id>", "show a ticket and its history", true),
    help("ticket assign <id> <user|me|auto>", "assign a ticket (auto: by skill and load)", true),
    help("ticket resolve <id> [resolution]", "resolve a ticket, optionally saying how", true),
    help("ticket close <id>", "close a ticket", true),
    help("ticket reopen <id>", "reopen a resolved or closed ticket", true),
    help("ticket note <id> <text>", "add an internal note (moderators only see it)", true),
    help("ticket github <id> [owner/name | owner/name#12]", "open a GitHub issue for a ticket, or link it to an existing one", true),
    help("ticket priority <id> <low|normal|high|urgent>", "set a ticket's priority", true),
    help("faq add <id> | <question> | <answer>", "add an FAQ entry", true),
    help("faq edit <id> <question|answer|alternatives|tags|links> <value>", "change one field (lists: comma-separated)", true),
    help("faq remove <id>", "remove an FAQ entry", true),
    help("faq learn <ticket id> [faq id]", "turn a resolved ticket into a new entry, or teach its questions to an existing one", true),
    help("faq link <message id> <faq id>", "teach an entry the question asked in a message", true),
    help("faq unlearn <faq id> <number>", "remove a learned phrasing (numbers: faq show)", true),
    help("digest", "preview the weekly digest for the last 7 days", true),
    help("console", "a one-time link that signs you in to the web console (to you only)", true),
    help("privacy forget <member>", "delete what the bot stores about a member (id or mention)", true),
    help("privacy export <member>", "everything stored about a member, as JSON, to you only", true),
];

/// Why a command line could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command {0:?}")]
    Unknown(String),
    #[error("{problem}; usage: {usage}")]
    Usage { usage: &'static str, problem: String },
}

impl Command {
    /// Commands that change tickets or the FAQ, or show other people's tickets.
    pub fn needs_moderator(&self) -> bool {
        !matches!(
            self,
            Command::Help
                | Command::FaqSearch { .. }
                | Command::FaqList
                | Command::FaqShow { .. }
                | Command::Ask { .. }
                | Command::Feedback { .. }
                | Command::Solved { .. }
                | Command::ForgetMe { .. }
                | Command::PrivacyPolicy
        )
    }

    /// The command's name as shown in refusals and logs ("ticket assign").
    pub fn name(&self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::FaqSearch { .. } => "faq search",
            Command::FaqList => "faq list",
            Command::FaqShow { .. } => "faq show",
            Command::Ask { .. } => "ask",
            Command::Escalate { .. } => "escalate",
            Command::NotAQuestion { .. } => "not-a-question",
            Command::TicketList { .. } => "ticket list",
            Command::TicketShow { .. } => "ticket show",
            Command::TicketAssign { .. } => "ticket assign",
            Command::TicketResolve { .. } => "ticket resolve",
            Command::TicketClose { .. } => "ticket close",
            Command::TicketReopen { .. } => "ticket reopen",
            Command::TicketNote { .. } => "ticket note",
            Command::TicketGithub { .. } => "ticket github",
            Command::TicketPriority { .. } => "ticket priority",
            Command::Console => "console",
            Command::Solved { solved: true, .. } => "solved",
            Command::Solved { solved: false, .. } => "unsolved",
            Command::FaqAdd { .. } => "faq add",
            Command::FaqEdit { .. } => "faq edit",
            Command::FaqRemove { .. } => "faq remove",
            Command::FaqLearn { .. } => "faq learn",
            Command::FaqLink { .. } => "faq link",
            Command::FaqUnlearn { .. } => "faq unlearn",
            Command::Digest => "digest",
            Command::Feedback { .. } => "feedback",
            Command::ForgetMe { .. } => "forget-me",
            Command::PrivacyPolicy => "privacy policy",
            Command::PrivacyForget { .. } => "privacy forget",
            Command::PrivacyExport { .. } => "privacy export",
        }
    }
}

fn usage_of(prefix: &str) -> &'static str {
    COMMANDS.iter().find(|c| c.usage.starts_with(prefix)).map(|c| c.usage).unwrap_or("help")
}

fn usage(prefix: &str, problem: impl Into<String>) -> CommandError {
    CommandError::Usage { usage: usage_of(prefix), problem: problem.into() }
}

/// Splits off the first whitespace-separated word.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

fn ticket_id(prefix: &str, word: &str) -> Result<i64, CommandError> {
    if word.is_empty() {
        return Err(usage(prefix, "a ticket id is missing"));
    }
    word.trim_start_matches('#').parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| usage(prefix, format!("{word:?} is not a ticket id")))
}

fn non_empty<'a>(prefix: &str, what: &str, value: &'a str) -> Result<&'a str, CommandError> {
    let value = value.trim();
    if value.is_empty() { Err(usage(prefix, format!("{what} is missing"))) } else { Ok(value) }
}

/// The command word a chat message consists of, if it is nothing else: "help", "!help",
/// "/faq", "Help?" (someone trying a command without the platform's slash).
pub fn bare_command_word(text: &str) -> Option<&'static str> {
    const WORDS: &[&str] = &["help", "commands", "faq", "ask", "escalate", "ticket", "tickets", "digest", "feedback", "menu", "forget-me", "privacy"];
    let word = text.trim().trim_start_matches(['/', '!', '.', '?', '$']).trim_end_matches(['?', '!', '.']).trim();
    WORDS.iter().copied().find(|w| w.eq_ignore_ascii_case(word))
}

/// The spellings of `not-a-question`.
const NOT_A_QUESTION: &[&str] = &["not-a-question", "notaquestion", "not_a_question", "noise"];

/// Which word of a command line (split on spaces, a leading `/` optional) names a message, if
/// the command takes one: `escalate 3`, `not-a-question 3`, `faq link 3 port`.
pub fn message_word(words: &[&str]) -> Option<usize> {
    let word = |i: usize| words.get(i).map(|w| w.trim_start_matches('/').to_ascii_lowercase()).unwrap_or_default();
    let head = word(0);
    if head == "escalate" || NOT_A_QUESTION.contains(&head.as_str()) {
        Some(1)
    } else if head == "faq" && word(1) == "link" {
        Some(2)
    } else {
        None
    }
}

/// Parses a command line; a leading `/` is optional.
pub fn parse(line: &str) -> Result<Command, CommandError> {
    let line = line.trim().trim_start_matches('/');
    let (head, rest) = split_word(line);
    match head.to_ascii_lowercase().as_str() {
        "help" | "" => Ok(Command::Help),
        "ask" => Ok(Command::Ask { question: non_empty("ask", "the question", rest)?.into() }),
        "escalate" => parse_escalate(rest),
        word if NOT_A_QUESTION.contains(&word) => {
            Ok(Command::NotAQuestion { target: non_empty("not-a-question", "a ticket #id or message id", rest)?.into() })
        }
        "faq" => parse_faq(rest),
        "ticket" | "tickets" => parse_ticket(rest),
        "digest" => Ok(Command::Digest),
        "console" | "web" => Ok(Command::Console),
        "solved" => Ok(Command::Solved { id: ticket_id("solved", split_word(rest).0)?, solved: true }),
        "unsolved" => Ok(Command::Solved { id: ticket_id("unsolved", split_word(rest).0)?, solved: false }),
        "feedback" => Ok(Command::Feedback { text: non_empty("feedback", "the feedback", rest)?.into() }),
        "forget-me" | "forgetme" | "forget_me" => parse_forget_me(rest),
        "privacy" => parse_privacy(rest),
        other => Err(CommandError::Unknown(other.chars().take(40).collect())),
    }
}

fn parse_escalate(rest: &str) -> Result<Command, CommandError> {
    let rest = non_empty("escalate", "a message id or text", rest)?;
    let (target, priority) = match rest.rsplit_once(char::is_whitespace) {
        Some((before, last)) => match last.parse::<Priority>() {
            Ok(p) => (before.trim(), p),
            // "superurgent", "hihg": a priority mistyped, not the last word of the question
            Err(_) if looks_like_a_priority(last) => {
                return Err(usage("escalate", format!("{last:?} is not a priority; use low, normal, high or urgent")));
            }
            Err(_) => (rest, Priority::Normal),
        },
        None => (rest, Priority::Normal),
    };
    Ok(Command::Escalate { target: target.into(), priority })
}

/// One word that can only be an id: "3", "m-42", "1700000000.000100", a snowflake; never a
/// one-word question ("help", "docker").
pub fn looks_like_a_message_id(target: &str) -> bool {
    let t = target.trim();
    !t.is_empty()
        && !t.contains(char::is_whitespace)
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// A mistyped priority: "superurgent", "hihg", "nromal", "critical". Strict enough that a
/// question's own last word ("the build is slow", "it used to work normally") is not one.
fn looks_like_a_priority(word: &str) -> bool {
    let word = word.to_ascii_lowercase();
    let typo_of = |p: &str| word.len() >= 4 && !word.ends_with("ly") && word.chars().next() == p.chars().next() && edit_distance(&word, p) <= 2;
    word.contains("urgent")
        || ["low", "normal", "high", "urgent"].iter().any(|p| typo_of(p))
        || matches!(word.as_str(), "critical" | "asap" | "p0" | "p1" | "p2" | "p3" | "medium" | "blocker")
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn parse_forget_me(rest: &str) -> Result<Command, CommandError> {
    let step = match split_word(rest).0.to_ascii_lowercase().as_str() {
        "" => ForgetStep::Ask,
        "confirm" | "yes" => ForgetStep::Confirm,
        "cancel" | "no" => ForgetStep::Cancel,
        other => return Err(usage("forget-me", format!("{other:?} is neither confirm nor cancel"))),
    };
    Ok(Command::ForgetMe { step })
}

fn parse_privacy(rest: &str) -> Result<Command, CommandError> {
    let (verb, args) = split_word(rest);
    let verb = verb.to_ascii_lowercase();
    let member = |prefix: &str| -> Result<String, CommandError> {
        let given = non_empty(prefix, "the member", args)?;
        super::privacy::member_id(given)
            .ok_or_else(|| usage(prefix, format!("{given:?} names no member surely: give their id or a mention, not their name")))
    };
    match verb.as_str() {
        "" | "policy" => Ok(Command::PrivacyPolicy),
        "forget" => Ok(Command::PrivacyForget { member: member("privacy forget")? }),
        "export" => Ok(Command::PrivacyExport { member: member("privacy export")? }),
        other => Err(usage("privacy policy", format!("unknown privacy command {other:?}; try policy, forget or export"))),
    }
}

fn parse_ticket(rest: &str) -> Result<Command, CommandError> {
    let (verb, args) = split_word(rest);
    let verb = verb.to_ascii_lowercase();
    let prefix = format!("ticket {verb}");
    let (first, after) = split_word(args);
    match verb.as_str() {
        "list" | "" => {
            let status = if first.is_empty() { None } else { Some(first.parse::<Status>().map_err(|e| usage("ticket list", e))?) };
            Ok(Command::TicketList { status })
        }
        "show" => Ok(Command::TicketShow { id: ticket_id(&prefix, first)? }),
        "assign" => {
            let id = ticket_id(&prefix, first)?;
            let user = non_empty(&prefix, "the user to assign", after)?;
            Ok(Command::TicketAssign { id, user: user.into() })
        }
        "resolve" => {
            let id = ticket_id(&prefix, first)?;
            let resolution = Some(after.trim()).filter(|s| !s.is_empty()).map(String::from);
            Ok(Command::TicketResolve { id, resolution })
        }
        "close" => Ok(Command::TicketClose { id: ticket_id(&prefix, first)? }),
        "reopen" => Ok(Command::TicketReopen { id: ticket_id(&prefix, first)? }),
        "note" => {
            let id = ticket_id(&prefix, first)?;
            Ok(Command::TicketNote { id, text: non_empty(&prefix, "the note", after)?.into() })
        }
        "github" => Ok(Command::TicketGithub { id: ticket_id(&prefix, first)?, target: after.trim().into() }),
        "priority" => {
            let id = ticket_id(&prefix, first)?;
            let word = non_empty(&prefix, "the priority", after)?;
            let priority =
                word.parse::<Priority>().map_err(|_| usage(&prefix, format!("{word:?} is not a priority; use low, normal, high or urgent")))?;
            Ok(Command::TicketPriority { id, priority })
        }
        other => {
            Err(usage("ticket list", format!("unknown ticket command {other:?}; try list, show, assign, resolve, close, reopen, note or github")))
        }
    }
}

fn parse_faq(rest: &str) -> Result<Command, CommandError> {
    let (verb, args) = split_word(rest);
    let verb = verb.to_ascii_lowercase();
    let prefix = format!("faq {verb}");
    match verb.as_str() {
        "search" => Ok(Command::FaqSearch { query: non_empty(&prefix, "the search text", args)?.into() }),
        "list" | "" => Ok(Command::FaqList),
        "show" => Ok(Command::FaqShow { id: non_empty(&prefix, "the entry id", split_word(args).0)?.into() }),
        "add" => {
            let parts: Vec<&str> = args.splitn(3, '|').map(str::trim).collect();
            match parts.as_slice() {
                [id, question, answer] if !id.is_empty() && !question.is_empty() && !answer.is_empty() => {
                    Ok(Command::FaqAdd { id: id.to_string(), question: question.to_string(), answer: answer.to_string() })
                }
                _ => Err(usage(&prefix, "give an id, a question and an answer separated by |")),
            }
        }
        "edit" => {
            let (id, after) = split_word(args);
            let id = non_empty(&prefix, "the entry id", id)?;
            let (field, value) = split_word(after);
            let field = match field.to_ascii_lowercase().as_str() {
                "question" => FaqField::Question,
                "answer" => FaqField::Answer,
                "alternatives" => FaqField::Alternatives,
                "tags" => FaqField::Tags,
                "links" => FaqField::Links,
                "" => return Err(usage(&prefix, "the field to change is missing")),
                other => return Err(usage(&prefix, format!("{other:?} is not a field"))),
            };
            let value = value.trim();
            if value.is_empty() && matches!(field, FaqField::Question | FaqField::Answer) {
                return Err(usage(&prefix, "the new value is missing"));
            }
            Ok(Command::FaqEdit { id: id.into(), field, value: value.into() })
        }
        "remove" | "delete" => Ok(Command::FaqRemove { id: non_empty("faq remove", "the entry id", split_word(args).0)?.into() }),
        "learn" => {
            let (ticket, after) = split_word(args);
            let ticket = ticket_id("faq learn", ticket)?;
            let faq_id = Some(split_word(after).0).filter(|s| !s.is_empty()).map(String::from);
            Ok(Command::FaqLearn { ticket, faq_id })
        }
        "link" => {
            let (message, after) = split_word(args);
            let message = non_empty(&prefix, "the message id", message)?;
            let faq_id = non_empty(&prefix, "the entry id", split_word(after).0)?;
            Ok(Command::FaqLink { message: message.into(), faq_id: faq_id.into() })
        }
        "unlearn" | "forget" => {
            let (faq_id, after) = split_word(args);
            let faq_id = non_empty("faq unlearn", "the entry id", faq_id)?;
            let number = split_word(after).0;
            let number = number.trim_start_matches('#').parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                usage(
                    "faq unlearn",
                    if number.is_empty() { "the phrasing's number is missing".into() } else { format!("{number:?} is not a phrasing's number") },
                )
            })?;
            Ok(Command::FaqUnlearn { faq_id: faq_id.into(), number })
        }
        other => {
            Err(usage("faq search", format!("unknown faq command {other:?}; try search, list, show, add, edit, remove, learn, link or unlearn")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_or_without_a_slash() {
        assert_eq!(parse("/help").unwrap(), Command::Help);
        assert_eq!(bare_command_word(" Help? "), Some("help"));
        assert_eq!(bare_command_word("!faq"), Some("faq"));
        assert_eq!(bare_command_word("help me please"), None);
        assert_eq!(bare_command_word(""), None);
        assert_eq!(parse("faq search reset password").unwrap(), Command::FaqSearch { query: "reset password".into() });
        assert_eq!(parse("  ticket   show #12 ").unwrap(), Command::TicketShow { id: 12 });
    }

    #[test]
    fn escalate_takes_an_optional_trailing_priority() {
        assert_eq!(parse("escalate m-42 urgent").unwrap(), Command::Escalate { target: "m-42".into(), priority: Priority::Urgent });
        assert_eq!(
            parse("escalate my build fails on ARM").unwrap(),
            Command::Escalate { target: "my build fails on ARM".into(), priority: Priority::Normal }
        );
        // a mistyped priority is a usage error, not part of the ticket's text
        for typo in ["escalate foo superurgent", "escalate 3 hihg", "escalate m-1 critical", "escalate 3 nromal"] {
            let e = parse(typo).unwrap_err();
            assert!(matches!(&e, CommandError::Usage { problem, .. } if problem.contains("not a priority")), "{typo}: {e}");
        }
        // while a question's own last word stays in its text
        for text in ["the build is slow", "it used to work normally", "docker uses too much memory when idle", "the logs follow"] {
            let parsed = parse(&format!("escalate {text}")).unwrap();
            assert_eq!(parsed, Command::Escalate { target: text.into(), priority: Priority::Normal });
        }
    }

    #[test]
    fn ticket_commands_take_ids_users_and_resolutions() {
        assert_eq!(parse("ticket assign 3 alice").unwrap(), Command::TicketAssign { id: 3, user: "alice".into() });
        assert_eq!(parse("ticket resolve 3 upgrade to 1.2").unwrap(), Command::TicketResolve { id: 3, resolution: Some("upgrade to 1.2".into()) });
        assert_eq!(parse("ticket resolve 3").unwrap(), Command::TicketResolve { id: 3, resolution: None });
        assert_eq!(parse("ticket note #3 asked on the forum too").unwrap(), Command::TicketNote { id: 3, text: "asked on the forum too".into() });
        assert_eq!(parse("ticket github 3").unwrap(), Command::TicketGithub { id: 3, target: "".into() });
        assert_eq!(parse("ticket github #3 acme/widgets#12").unwrap(), Command::TicketGithub { id: 3, target: "acme/widgets#12".into() });
        assert_eq!(parse("solved 3").unwrap(), Command::Solved { id: 3, solved: true });
        assert_eq!(parse("/unsolved #3").unwrap(), Command::Solved { id: 3, solved: false });
        assert!(!Command::Solved { id: 3, solved: true }.needs_moderator(), "the asker answers the nudge");
        assert!(matches!(parse("ticket note 3  "), Err(CommandError::Usage { .. })));
        assert_eq!(parse("ticket list closed").unwrap(), Command::TicketList { status: Some(Status::Closed) });
        assert_eq!(parse("ticket list").unwrap(), Command::TicketList { status: None });
    }

    #[test]
    fn faq_add_splits_on_bars() {
        assert_eq!(
            parse("faq add arm | Does it run on ARM? | Yes, aarch64 builds | are tested.").unwrap(),
            Command::FaqAdd { id: "arm".into(), question: "Does it run on ARM?".into(), answer: "Yes, aarch64 builds | are tested.".into() }
        );
    }

    #[test]
    fn malformed_commands_explain_their_usage() {
        for bad in [
            "ticket assign",
            "ticket assign x bob",
            "ticket assign 3",
            "ticket show -1",
            "faq add x | y",
            "faq edit a colour red",
            "ask",
            "faq search",
            "ticket list pending",
            "escalate",
            "faq learn",
            "ticket frobnicate 1",
        ] {
            match parse(bad) {
                Err(CommandError::Usage { usage, problem }) => {
                    assert!(!usage.is_empty() && !problem.is_empty(), "{bad}")
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert_eq!(parse("dance now"), Err(CommandError::Unknown("dance".into())));
    }

    #[test]
    fn only_help_search_and_ask_are_for_everyone() {
        assert!(!parse("help").unwrap().needs_moderator());
        assert!(!parse("ask why").unwrap().needs_moderator());
        assert!(parse("ticket list").unwrap().needs_moderator());
        assert!(parse("faq remove x").unwrap().needs_moderator());
    }

    #[test]
    fn privacy_commands_name_members_by_id_and_forget_me_asks_first() {
        assert_eq!(parse("forget-me").unwrap(), Command::ForgetMe { step: ForgetStep::Ask });
        assert_eq!(parse("/forget-me confirm").unwrap(), Command::ForgetMe { step: ForgetStep::Confirm });
        assert_eq!(parse("forget-me cancel").unwrap(), Command::ForgetMe { step: ForgetStep::Cancel });
        assert!(matches!(parse("forget-me now"), Err(CommandError::Usage { .. })));
        assert_eq!(parse("privacy").unwrap(), Command::PrivacyPolicy);
        assert_eq!(parse("privacy forget <@U012ABC|ann>").unwrap(), Command::PrivacyForget { member: "U012ABC".into() });
        assert_eq!(parse("privacy export 123456789").unwrap(), Command::PrivacyExport { member: "123456789".into() });
        assert!(matches!(parse("privacy forget @ann"), Err(CommandError::Usage { problem, .. }) if problem.contains("not their name")));
        assert!(matches!(parse("privacy forget"), Err(CommandError::Usage { .. })));
        assert!(!parse("forget-me").unwrap().needs_moderator() && !parse("privacy policy").unwrap().needs_moderator());
        assert!(parse("privacy forget U1").unwrap().needs_moderator() && parse("privacy export U1").unwrap().needs_moderator());
    }

    #[test]
    fn every_usage_line_is_reachable_by_its_prefix() {
        for c in COMMANDS {
            let prefix: String = c.usage.split(['<', '[']).next().unwrap().trim().into();
            assert_eq!(usage_of(&prefix), c.usage);
        }
    }
}
