//! Slash commands: one table describes every command, so the definitions registered with
//! Discord and the reading of an interaction back into the core's command line cannot drift.

use crate::domain::command::COMMANDS;
use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{CommandData, CommandDataOption, CommandDataOptionValue, CommandOptionType, CommandType};
use serenity::model::permissions::Permissions;

/// The message context-menu command (right-click a message, Apps).
pub const ESCALATE_MENU: &str = "Escalate to ticket";

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    /// A member, given to the core by name ("ticket assign 3 mia").
    User,
    /// A member, given to the core by id ("privacy forget 1234"): a name may be anyone's.
    Member,
    Choice(&'static [&'static str]),
}

struct Opt {
    name: &'static str,
    about: &'static str,
    kind: Kind,
    required: bool,
}

const fn opt(name: &'static str, about: &'static str, kind: Kind, required: bool) -> Opt {
    Opt { name, about, kind, required }
}

/// One command line of the core, e.g. "ticket assign": its options in the order the line wants.
struct Line {
    path: &'static str,
    options: &'static [Opt],
    /// What goes between the options ("faq add" wants " | ").
    separator: &'static str,
}

const fn line(path: &'static str, options: &'static [Opt]) -> Line {
    Line { path, options, separator: " " }
}

const TICKET_ID: Opt = opt("id", "the ticket number", Kind::Integer, true);
const FAQ_ID: Opt = opt("id", "the FAQ entry's id", Kind::Text, true);
const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];

const LINES: &[Line] = &[
    line("help", &[]),
    line("ask", &[opt("question", "your question", Kind::Text, true)]),
    line("faq search", &[opt("query", "what to look for", Kind::Text, true)]),
    Line {
        path: "faq add",
        options: &[FAQ_ID, opt("question", "the question", Kind::Text, true), opt("answer", "the answer", Kind::Text, true)],
        separator: " | ",
    },
    line(
        "faq edit",
        &[
            FAQ_ID,
            opt("field", "what to change", Kind::Choice(&["question", "answer", "alternatives", "tags", "links"]), true),
            opt("value", "the new value (lists: comma-separated)", Kind::Text, true),
        ],
    ),
    line("faq remove", &[FAQ_ID]),
    line("faq list", &[]),
    line("faq show", &[FAQ_ID]),
    line(
        "faq learn",
        &[opt("ticket", "a ticket's number", Kind::Integer, true), opt("faq_id", "an entry to teach, or the new entry's id", Kind::Text, false)],
    ),
    line("faq link", &[opt("message", "a message link or id", Kind::Text, true), FAQ_ID]),
    line("faq unlearn", &[FAQ_ID, opt("number", "the learned phrasing's number in faq show", Kind::Integer, true)]),
    line("ticket list", &[opt("status", "which tickets", Kind::Choice(&["open", "assigned", "resolved", "closed"]), false)]),
    line("ticket show", &[TICKET_ID]),
    line("ticket assign", &[TICKET_ID, opt("user", "who takes it (default: you)", Kind::User, false)]),
    line("ticket resolve", &[TICKET_ID, opt("resolution", "how it was solved", Kind::Text, false)]),
    line("ticket close", &[TICKET_ID]),
    line("ticket reopen", &[TICKET_ID]),
    line("ticket note", &[TICKET_ID, opt("text", "the note (moderators only see it)", Kind::Text, true)]),
    line("ticket github", &[TICKET_ID, opt("issue", "owner/name, owner/name#12 or an issue URL (default: [github] repo)", Kind::Text, false)]),
    line(
        "escalate",
        &[
            opt("message", "a message link or id, or the question itself", Kind::Text, true),
            opt("priority", "how urgent", Kind::Choice(PRIORITIES), false),
        ],
    ),
    line("feedback", &[opt("text", "what you think", Kind::Text, true)]),
    line("digest", &[]),
    line("solved", &[TICKET_ID]),
    line("unsolved", &[TICKET_ID]),
    line("forget-me", &[opt("step", "confirm (or cancel) the forget-me you asked for", Kind::Choice(&["confirm", "cancel"]), false)]),
    line("privacy policy", &[]),
    line("privacy forget", &[opt("member", "the member to forget", Kind::Member, true)]),
    line("privacy export", &[opt("member", "the member whose data to export", Kind::Member, true)]),
];

/// Top-level commands that only moderators see by default. Server admins can change that, so
/// the core checks again on every use.
const MODERATOR_ONLY: &[&str] = &["ticket", "escalate", "digest"];

/// The help text's summary for a command line: one wording for every platform.
fn summary(path: &str) -> &'static str {
    COMMANDS.iter().find(|c| c.usage == path || c.usage.starts_with(&format!("{path} "))).map(|c| c.summary).unwrap_or("supportbot")
}

fn option(o: &Opt) -> CreateCommandOption {
    let kind = match o.kind {
        Kind::Text | Kind::Choice(_) => CommandOptionType::String,
        Kind::Integer => CommandOptionType::Integer,
        Kind::User | Kind::Member => CommandOptionType::User,
    };
    let mut built = CreateCommandOption::new(kind, o.name, o.about).required(o.required);
    if let Kind::Choice(choices) = o.kind {
        for c in choices {
            built = built.add_string_choice(*c, *c);
        }
    }
    built
}

/// Every command the bot registers.
pub fn definitions() -> Vec<CreateCommand> {
    let mut tops: Vec<CreateCommand> = Vec::new();
    let mut groups: Vec<(&str, Vec<CreateCommandOption>)> = Vec::new();
    for l in LINES {
        match l.path.split_once(' ') {
            None => {
                let mut cmd = CreateCommand::new(l.path).description(summary(l.path));
                for o in l.options {
                    cmd = cmd.add_option(option(o));
                }
                if MODERATOR_ONLY.contains(&l.path) {
                    cmd = cmd.default_member_permissions(Permissions::MANAGE_MESSAGES);
                }
                tops.push(cmd);
            }
            Some((group, sub)) => {
                let mut built = CreateCommandOption::new(CommandOptionType::SubCommand, sub, summary(l.path));
                for o in l.options {
                    built = built.add_sub_option(option(o));
                }
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, subs)) => subs.push(built),
                    None => groups.push((group, vec![built])),
                }
            }
        }
    }
    for (group, subs) in groups {
        let about = match group {
            "faq" => "search and edit the FAQ",
            "privacy" => "what the bot keeps; forget or export a member (moderators)",
            _ => "work on tickets",
        };
        let mut cmd = CreateCommand::new(group).description(about).set_options(subs);
        if MODERATOR_ONLY.contains(&group) {
            cmd = cmd.default_member_permissions(Permissions::MANAGE_MESSAGES);
        }
        tops.push(cmd);
    }
    tops.push(CreateCommand::new(ESCALATE_MENU).kind(CommandType::Message).default_member_permissions(Permissions::MANAGE_MESSAGES));
    tops
}

/// The subcommand path and the option values of an interaction, e.g. (["ticket", "assign"], ...).
fn flatten<'a>(name: &'a str, options: &'a [CommandDataOption], path: &mut Vec<&'a str>, values: &mut Vec<(&'a str, &'a CommandDataOptionValue)>) {
    path.push(name);
    for o in options {
        match &o.value {
            CommandDataOptionValue::SubCommand(inner) | CommandDataOptionValue::SubCommandGroup(inner) => flatten(&o.name, inner, path, values),
            value => values.push((&o.name, value)),
        }
    }
}

/// "https://discord.com/channels/<guild>/<channel>/<message>" → the message id; anything else as it is.
fn message_from_link(text: &str) -> String {
    let t = text.trim();
    if t.starts_with("https://")
        && t.contains("/channels/")
        && let Some(last) = t.trim_end_matches('/').rsplit('/').next().filter(|s| s.chars().all(|c| c.is_ascii_digit()))
    {
        return last.to_string();
    }
    t.to_string()
}

/// Reads an application-command interaction back into the core's command line.
pub fn command_line(data: &CommandData) -> String {
    if data.kind == CommandType::Message {
        return match data.target_id {
            Some(target) if data.name == ESCALATE_MENU => format!("escalate {target}"),
            _ => data.name.clone(),
        };
    }
    let (mut path, mut values) = (Vec::new(), Vec::new());
    flatten(&data.name, &data.options, &mut path, &mut values);
    let path = path.join(" ");
    let Some(line) = LINES.iter().find(|l| l.path == path) else {
        return path; // the core answers "unknown command" with usage help
    };
    let value_of = |o: &Opt| -> Option<String> {
        let (_, v) = values.iter().find(|(n, _)| *n == o.name)?;
        Some(match v {
            CommandDataOptionValue::String(s) if o.name == "message" => message_from_link(s),
            CommandDataOptionValue::String(s) => s.clone(),
            CommandDataOptionValue::Integer(i) => i.to_string(),
            CommandDataOptionValue::User(id) if matches!(o.kind, Kind::Member) => id.to_string(),
            CommandDataOptionValue::User(id) => data.resolved.users.get(id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string()),
            other => format!("{other:?}"),
        })
    };
    let parts: Vec<String> = line.options.iter().filter_map(|o| value_of(o).or_else(|| (o.name == "user").then(|| "me".to_string()))).collect();
    if parts.is_empty() { path } else { format!("{path} {}", parts.join(line.separator)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::command;

    #[test]
    fn every_line_is_a_command_the_core_knows() {
        for l in LINES {
            let sample: Vec<&str> = l.options.iter().map(|o| if matches!(o.kind, Kind::Integer) { "1" } else { "x" }).collect();
            let text = format!("{} {}", l.path, sample.join(l.separator));
            let parsed = command::parse(&text);
            assert!(!matches!(parsed, Err(command::CommandError::Unknown(_))), "{text}: {parsed:?}");
            assert_ne!(summary(l.path), "supportbot", "no help summary for {}", l.path);
        }
    }

    #[test]
    fn moderator_commands_are_hidden_by_default_and_names_are_valid() {
        let defs = serde_json::to_value(definitions()).unwrap();
        let by_name = |n: &str| defs.as_array().unwrap().iter().find(|c| c["name"] == n).cloned().unwrap();
        assert_eq!(by_name("ticket")["default_member_permissions"], "8192");
        assert_eq!(by_name(ESCALATE_MENU)["type"], 3);
        assert!(by_name("help")["default_member_permissions"].is_null());
        for c in defs.as_array().unwrap() {
            let d = c["description"].as_str().unwrap_or_default();
            assert!(d.len() <= 100, "{c}");
        }
    }

    #[test]
    fn a_message_link_becomes_its_id() {
        assert_eq!(message_from_link("https://discord.com/channels/1/2/334385199974967042"), "334385199974967042");
        assert_eq!(message_from_link("my build fails"), "my build fails");
    }
}
