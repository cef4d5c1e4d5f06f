//! A ticket's GitHub issue: which issue or repository a moderator means, the marker that finds
//! an issue opened by an attempt whose answer was lost, and the issue's text, in which nothing a
//! member wrote can mention anyone on GitHub.

use super::inert::{self, ZERO_WIDTH_SPACE};
use super::text::truncate_chars;
use super::ticket::{Ticket, TicketEvent};

/// An issue in a repository, `owner/name#number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    pub repo: String,
    pub number: u64,
}

impl std::fmt::Display for IssueRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.repo, self.number)
    }
}

/// What `ticket github <id> [target]` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GithubTarget {
    /// A new issue in `[github] repo`.
    DefaultRepo,
    /// A new issue in this repository.
    Repo(String),
    /// Link the ticket to this existing issue (a repeat of something already tracked).
    Issue(IssueRef),
}

/// `owner/name`, as GitHub allows them: the owner 1–39 letters, digits or `-`; the name 1–100
/// letters, digits, `.`, `_` or `-` (and not `.` or `..`).
pub fn valid_repo(repo: &str) -> bool {
    let Some((owner, name)) = repo.split_once('/') else { return false };
    let owner_ok = (1..=39).contains(&owner.len()) && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok = (1..=100).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name != "."
        && name != "..";
    owner_ok && name_ok
}

/// Parses the target: nothing, `owner/name`, `owner/name#12`, or an issue's web address
/// (`https://github.com/owner/name/issues/12`, any host: GitHub Enterprise too).
pub fn parse_target(text: &str) -> Result<GithubTarget, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(GithubTarget::DefaultRepo);
    }
    let issue = |repo: &str, number: &str| -> Result<GithubTarget, String> {
        let number: u64 = number.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("{number:?} is not an issue number"))?;
        let repo = checked_repo(repo)?;
        Ok(GithubTarget::Issue(IssueRef { repo, number }))
    };
    if let Some(path) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        return match parts.as_slice() {
            [_host, owner, name, "issues", number] => issue(&format!("{owner}/{name}"), number),
            _ => Err(format!("{text:?} is not an issue's address (https://github.com/owner/name/issues/12)")),
        };
    }
    match text.split_once('#') {
        Some((repo, number)) => issue(repo, number),
        None => Ok(GithubTarget::Repo(checked_repo(text)?)),
    }
}

fn checked_repo(repo: &str) -> Result<String, String> {
    if valid_repo(repo) { Ok(repo.to_string()) } else { Err(format!("{repo:?} is not a repository: write owner/name")) }
}

/// The hidden line in an issue's body that says which ticket it is for. A retry looks for it
/// before opening the issue again.
pub fn marker(ticket_id: i64) -> String {
    format!("<!-- supportbot:ticket:{ticket_id} -->")
}

/// Whether `body` is the body of the issue opened for `ticket_id`: the marker on a line of its
/// own. Member text in the body cannot forge it, since `<` is escaped there.
pub fn has_marker(body: &str, ticket_id: i64) -> bool {
    let marker = marker(ticket_id);
    body.lines().any(|line| line.trim() == marker)
}

/// Member text made inert for GitHub: Markdown shown as written (see `domain::inert`), and every
/// `@name` broken, since on GitHub it notifies that user or team.
fn inert_for_github(text: &str) -> String {
    break_mentions(&inert::inline(text))
}

fn break_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '@' && chars.peek().is_some_and(|n| n.is_ascii_alphanumeric() || *n == '-') {
            out.push(ZERO_WIDTH_SPACE);
        }
    }
    out
}

/// The title and body of the issue opened for a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueDraft {
    pub title: String,
    pub body: String,
}

/// How much of the conversation goes into the issue: the last lines, each cut short.
const TRANSCRIPT_LINES: usize = 10;
const LINE_CHARS: usize = 400;
const TITLE_CHARS: usize = 80;

/// The issue for `ticket`: the question, a summary of its conversation (who said how much, and
/// the last lines, by role: GitHub is public and the members' names stay in the community), a
/// link back when there is one, and the marker. Internal notes never go in.
pub fn draft(ticket: &Ticket, history: &[TicketEvent], link: Option<&str>) -> IssueDraft {
    let question_line = ticket.question.lines().find(|l| !l.trim().is_empty()).unwrap_or("a question from the community");
    let title = break_mentions(&truncate_chars(question_line.trim(), TITLE_CHARS));
    let said: Vec<&TicketEvent> = history.iter().filter(|e| matches!(e.action.as_str(), "message" | "reply") && e.note.is_some()).collect();
    let role = |e: &TicketEvent| match e.action.as_str() {
        "reply" => "moderator",
        _ if e.actor == ticket.asker_name || e.actor == ticket.asker_id => "asker",
        _ => "member",
    };
    let mut body = format!(
        "A member asked in the community's {} channel (supportbot ticket #{}, {} priority):\n\n{}\n",
        platform_name(&ticket.platform),
        ticket.id,
        ticket.priority.as_str(),
        break_mentions(&inert::quote(&ticket.question))
    );
    if !said.is_empty() {
        let count = |r: &str| said.iter().filter(|e| role(e) == r).count();
        body.push_str(&format!(
            "\n**The conversation so far**: {} messages ({} from the asker, {} from moderators){}\n\n",
            said.len(),
            count("asker"),
            count("moderator"),
            if said.len() > TRANSCRIPT_LINES { format!("; the last {TRANSCRIPT_LINES}:") } else { ":".into() }
        ));
        for e in said.iter().skip(said.len().saturating_sub(TRANSCRIPT_LINES)) {
            let text = truncate_chars(e.note.as_deref().unwrap_or_default(), LINE_CHARS);
            body.push_str(&format!("- **{}**, {}: {}\n", role(e), e.at.format("%Y-%m-%d %H:%M UTC"), inert_for_github(&text)));
        }
    }
    if let Some(link) = link {
        body.push_str(&format!("\n[The conversation in the community]({link})\n"));
    }
    body.push_str(&format!(
        "\n<sub>Opened by supportbot at a moderator's request. Closing this issue resolves the ticket and tells the asker.</sub>\n{}\n",
        marker(ticket.id)
    ));
    IssueDraft { title, body }
}

fn platform_name(platform: &str) -> &str {
    match platform {
        "slack" => "Slack",
        "discord" => "Discord",
        other => other,
    }
}

/// The address of the question in its chat, from `[github] link`'s template (`{platform}`,
/// `{channel}`, `{message}`, `{ticket}`), or for Slack its archive link when no template is set.
pub fn link_back(template: Option<&str>, ticket: &Ticket) -> Option<String> {
    let message = ticket.question_message_id.as_deref().map(|m| m.rsplit(':').next().unwrap_or(m)).unwrap_or_default();
    match template {
        Some(t) => Some(
            t.replace("{platform}", &ticket.platform)
                .replace("{channel}", &ticket.channel)
                .replace("{message}", message)
                .replace("{ticket}", &ticket.id.to_string()),
        ),
        // Slack's archive links open the message in whichever workspace the reader is in.
        None if ticket.platform == "slack" && !message.is_empty() => {
            Some(format!("https://slack.com/archives/{}/p{}", ticket.channel, message.replace('.', "")))
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::{Status, sample_ticket};
    use chrono::{TimeZone, Utc};

    fn ticket() -> Ticket {
        sample_ticket(1, Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap())
    }

    #[test]
    fn targets_parse_from_what_a_moderator_types() {
        assert_eq!(parse_target("").unwrap(), GithubTarget::DefaultRepo);
        assert_eq!(parse_target("acme/widgets").unwrap(), GithubTarget::Repo("acme/widgets".into()));
        let issue = GithubTarget::Issue(IssueRef { repo: "acme/widgets".into(), number: 12 });
        assert_eq!(parse_target("acme/widgets#12").unwrap(), issue);
        assert_eq!(parse_target("https://github.com/acme/widgets/issues/12/").unwrap(), issue);
        for bad in ["widgets", "acme/wid gets", "acme/widgets#0", "acme/widgets#x", "https://github.com/acme/widgets/pull/3", "a/.."] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    fn event(actor: &str, action: &str, note: &str, minute: u32) -> TicketEvent {
        TicketEvent {
            at: Utc.with_ymd_and_hms(2026, 12, 1, 10, minute, 0).unwrap(),
            actor: actor.into(),
            action: action.into(),
            from_status: Some(Status::Open),
            to_status: Status::Open,
            note: Some(note.into()),
        }
    }

    #[test]
    fn the_draft_quotes_the_question_summarises_the_thread_and_leaves_out_notes() {
        let mut ticket = ticket();
        ticket.question = "@octocat my build fails on ARM <!-- supportbot:ticket:9 -->\nsecond line".into();
        ticket.asker_name = "zoequill".into();
        let history = vec![
            event(&ticket.asker_name.clone(), "message", "still failing with @here and @team-core", 1),
            event("mirabel", "reply", "try `--target aarch64`", 2),
            event("mirabel", "note", "SECRET internal note", 3),
        ];
        let d = draft(&ticket, &history, Some("https://example.org/t/1"));
        assert!(d.title.starts_with("@\u{200B}octocat my build fails on ARM"), "{}", d.title);
        assert!(!d.body.contains("SECRET"), "notes stay with the moderators: {}", d.body);
        assert!(d.body.contains("2 messages (1 from the asker, 1 from moderators)"), "{}", d.body);
        assert!(d.body.contains("- **asker**, 2026-12-01 10:01 UTC: still failing with @\u{200B}here and @\u{200B}team-core"), "{}", d.body);
        assert!(!d.body.contains("@octocat") && !d.body.contains("@team"), "nobody is mentioned: {}", d.body);
        assert!(!d.body.contains("mirabel") && !d.body.contains("zoequill"), "nobody is named: {}", d.body);
        assert!(d.body.contains("[The conversation in the community](https://example.org/t/1)"));
        assert!(has_marker(&d.body, ticket.id));
        assert!(!has_marker(&d.body, 9), "a member cannot forge another ticket's marker");
    }

    #[test]
    fn the_link_back_fills_the_template_or_uses_slacks_archive() {
        let mut ticket = ticket();
        ticket.platform = "slack".into();
        ticket.channel = "C0HELP".into();
        ticket.question_message_id = Some("C0HELP:1700000000.000100".into());
        assert_eq!(link_back(None, &ticket).unwrap(), "https://slack.com/archives/C0HELP/p1700000000000100");
        ticket.platform = "discord".into();
        assert_eq!(link_back(None, &ticket), None);
        assert_eq!(
            link_back(Some("https://discord.com/channels/42/{channel}/{message}"), &ticket).unwrap(),
            "https://discord.com/channels/42/C0HELP/1700000000.000100"
        );
    }
}
