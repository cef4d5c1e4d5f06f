//! Every sentence the bot says: minijinja templates from `prompts/`, embedded in the binary and
//! overridable file by file from a directory (`[prompts] dir`).
//!
//! The texts are Markdown, and every `{{ value }}` is escaped as user text by default
//! (`domain::inert::inline`): whatever a member wrote shows as written and can never ping, link
//! or forge a line, even in a community's own templates. `| quote` quotes user text on every
//! line, `| code` puts it in a code span, and `| safe` lets trusted Markdown (an FAQ answer)
//! through as it is.

use crate::domain::inert;
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, Error, Output, State, UndefinedBehavior, Value};
use std::path::Path;

/// The embedded templates, by name (the file name without `.j2`).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("answer", include_str!("../prompts/answer.j2")),
    ("ask_unsure", include_str!("../prompts/ask_unsure.j2")),
    ("assign_auto_none", include_str!("../prompts/assign_auto_none.j2")),
    ("assign_auto_why", include_str!("../prompts/assign_auto_why.j2")),
    ("console_link", include_str!("../prompts/console_link.j2")),
    ("console_off", include_str!("../prompts/console_off.j2")),
    ("digest", include_str!("../prompts/digest.j2")),
    ("escalate_unknown_message", include_str!("../prompts/escalate_unknown_message.j2")),
    ("faq_already_learned", include_str!("../prompts/faq_already_learned.j2")),
    ("faq_changed", include_str!("../prompts/faq_changed.j2")),
    ("faq_exists", include_str!("../prompts/faq_exists.j2")),
    ("faq_invalid", include_str!("../prompts/faq_invalid.j2")),
    ("faq_list", include_str!("../prompts/faq_list.j2")),
    ("faq_not_found", include_str!("../prompts/faq_not_found.j2")),
    ("faq_preview", include_str!("../prompts/faq_preview.j2")),
    ("faq_search", include_str!("../prompts/faq_search.j2")),
    ("faq_show", include_str!("../prompts/faq_show.j2")),
    ("faq_taught", include_str!("../prompts/faq_taught.j2")),
    ("faq_unlearned", include_str!("../prompts/faq_unlearned.j2")),
    ("feedback_not_yours", include_str!("../prompts/feedback_not_yours.j2")),
    ("feedback_nothing_to_rate", include_str!("../prompts/feedback_nothing_to_rate.j2")),
    ("feedback_thanks", include_str!("../prompts/feedback_thanks.j2")),
    ("github_already", include_str!("../prompts/github_already.j2")),
    ("github_off", include_str!("../prompts/github_off.j2")),
    ("github_requested", include_str!("../prompts/github_requested.j2")),
    ("github_tracked", include_str!("../prompts/github_tracked.j2")),
    ("github_usage", include_str!("../prompts/github_usage.j2")),
    ("help", include_str!("../prompts/help.j2")),
    ("invalid_transition", include_str!("../prompts/invalid_transition.j2")),
    ("learn_needs_resolution", include_str!("../prompts/learn_needs_resolution.j2")),
    ("learn_off", include_str!("../prompts/learn_off.j2")),
    ("message_not_found", include_str!("../prompts/message_not_found.j2")),
    ("message_too_long", include_str!("../prompts/message_too_long.j2")),
    ("mirror_line", include_str!("../prompts/mirror_line.j2")),
    ("moderators_github_changed", include_str!("../prompts/moderators_github_changed.j2")),
    ("moderators_github_failed", include_str!("../prompts/moderators_github_failed.j2")),
    ("moderators_github_opened", include_str!("../prompts/moderators_github_opened.j2")),
    ("moderators_new_ticket", include_str!("../prompts/moderators_new_ticket.j2")),
    ("moderators_nudge_answered", include_str!("../prompts/moderators_nudge_answered.j2")),
    ("moderators_sla", include_str!("../prompts/moderators_sla.j2")),
    ("moderators_solved", include_str!("../prompts/moderators_solved.j2")),
    ("moderators_ticket_comment", include_str!("../prompts/moderators_ticket_comment.j2")),
    ("moderators_ticket_linked", include_str!("../prompts/moderators_ticket_linked.j2")),
    ("not_a_question", include_str!("../prompts/not_a_question.j2")),
    ("not_a_question_unknown", include_str!("../prompts/not_a_question_unknown.j2")),
    ("nudge_answered", include_str!("../prompts/nudge_answered.j2")),
    ("nudge_not_yours", include_str!("../prompts/nudge_not_yours.j2")),
    ("privacy_export", include_str!("../prompts/privacy_export.j2")),
    ("privacy_forget_cancelled", include_str!("../prompts/privacy_forget_cancelled.j2")),
    ("privacy_forget_confirm", include_str!("../prompts/privacy_forget_confirm.j2")),
    ("privacy_forget_not_asked", include_str!("../prompts/privacy_forget_not_asked.j2")),
    ("privacy_forgotten", include_str!("../prompts/privacy_forgotten.j2")),
    ("privacy_policy", include_str!("../prompts/privacy_policy.j2")),
    ("refused", include_str!("../prompts/refused.j2")),
    ("ticket_linked", include_str!("../prompts/ticket_linked.j2")),
    ("ticket_list", include_str!("../prompts/ticket_list.j2")),
    ("ticket_not_found", include_str!("../prompts/ticket_not_found.j2")),
    ("ticket_noted", include_str!("../prompts/ticket_noted.j2")),
    ("ticket_nudge", include_str!("../prompts/ticket_nudge.j2")),
    ("ticket_opened", include_str!("../prompts/ticket_opened.j2")),
    ("ticket_resolved_asker", include_str!("../prompts/ticket_resolved_asker.j2")),
    ("ticket_resolved_linked", include_str!("../prompts/ticket_resolved_linked.j2")),
    ("ticket_show", include_str!("../prompts/ticket_show.j2")),
    ("ticket_stale_closed", include_str!("../prompts/ticket_stale_closed.j2")),
    ("ticket_text_removed", include_str!("../prompts/ticket_text_removed.j2")),
    ("ticket_updated", include_str!("../prompts/ticket_updated.j2")),
    ("unknown_command", include_str!("../prompts/unknown_command.j2")),
    ("usage", include_str!("../prompts/usage.j2")),
];

/// A template that failed to load from the override directory.
#[derive(Debug, thiserror::Error)]
#[error("prompt template {path}: {message}")]
pub struct PromptError {
    pub path: String,
    pub message: String,
}

/// The loaded templates.
pub struct Prompts {
    env: Environment<'static>,
}

fn percent(value: f64) -> String {
    format!("{:.0}%", (value * 100.0).clamp(0.0, 100.0))
}

/// `{{ hours | duration_hours }}`: a duration given in hours, in the unit a reader thinks in:
/// minutes under an hour ("12 min"), hours with one decimal under two days ("3.5 h"), days with
/// one decimal after that ("4.2 days").
pub fn duration_hours(hours: f64) -> String {
    let hours = if hours.is_finite() { hours.max(0.0) } else { 0.0 };
    let minutes = (hours * 60.0).round();
    if minutes < 1.0 {
        "under 1 min".to_string()
    } else if minutes < 60.0 {
        format!("{minutes:.0} min")
    } else if hours < 48.0 {
        format!("{hours:.1} h")
    } else {
        format!("{:.1} days", hours / 24.0)
    }
}

/// The name templates escape with: every value is user text unless marked safe.
const MARKDOWN: AutoEscape = AutoEscape::Custom("markdown");

/// Writes `{{ value }}`: a safe string (Markdown the bot made) as it is, numbers as they are,
/// anything else escaped as user text.
fn markdown_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() != MARKDOWN {
        return minijinja::escape_formatter(out, state, value);
    }
    let plain = matches!(value.kind(), ValueKind::Number | ValueKind::Bool | ValueKind::None | ValueKind::Undefined);
    if value.is_safe() || plain {
        return write!(out, "{value}").map_err(Error::from);
    }
    write!(out, "{}", inert::inline(&value.to_string())).map_err(Error::from)
}

/// A value as a string for the filters: none and undefined are empty.
fn text_of(value: &Value) -> String {
    if value.is_none() || value.is_undefined() { String::new() } else { value.to_string() }
}

/// `{{ question | quote }}`: a block quote of user text, `> ` on every line; `quote(2)` indents
/// each line by two spaces (a quote under a list item).
fn quote(value: Value, indent: Option<usize>) -> Value {
    let pad = " ".repeat(indent.unwrap_or(0));
    let quoted = inert::quote(&text_of(&value)).lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n");
    Value::from_safe_string(quoted)
}

/// `{{ faq_id | code }}`: user text as a code span it cannot close.
fn code(value: Value) -> Value {
    Value::from_safe_string(inert::code(&text_of(&value)))
}

impl Prompts {
    /// The embedded templates, each replaced by `<dir>/<name>.j2` when that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Prompts, PromptError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("percent", percent);
        env.add_filter("duration_hours", duration_hours);
        env.add_filter("quote", quote);
        env.add_filter("code", code);
        env.set_auto_escape_callback(|_| MARKDOWN);
        env.set_formatter(markdown_formatter);
        for (name, embedded) in TEMPLATES {
            let source = match dir.map(|d| d.join(format!("{name}.j2"))) {
                Some(path) if path.exists() => {
                    std::fs::read_to_string(&path).map_err(|e| PromptError { path: path.display().to_string(), message: e.to_string() })?
                }
                _ => embedded.to_string(),
            };
            env.add_template_owned(name.to_string(), source).map_err(|e| PromptError {
                path: dir.map(|d| d.join(format!("{name}.j2")).display().to_string()).unwrap_or_else(|| format!("prompts/{name}.j2")),
                message: e.to_string(),
            })?;
        }
        Ok(Prompts { env })
    }

    /// Renders `name` with `ctx`. A broken override never silences the bot: the error is logged
    /// and the embedded template is used instead.
    pub fn render(&self, name: &str, ctx: Value) -> String {
        let rendered = self.env.get_template(name).and_then(|t| t.render(&ctx));
        match rendered {
            Ok(text) => text.trim().to_string(),
            Err(e) => {
                tracing::error!(template = name, error = %crate::telemetry::chain(&e), "prompt template failed; using the built-in one");
                let fallback = Prompts::load(None).expect("embedded templates are valid");
                fallback
                    .env
                    .get_template(name)
                    .and_then(|t| t.render(&ctx))
                    .map(|t| t.trim().to_string())
                    .unwrap_or_else(|_| "Something went wrong on my side and nothing was changed.".to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn ticket() -> Value {
        context! {
            id => 7, status => "open", priority => "high", origin => "unanswered", assignee => "mia",
            asker_name => "ann", channel => "help", resolution => "upgrade", platform => "discord",
        }
    }

    /// A context for each template, holding every variable it uses.
    fn sample(name: &str) -> Value {
        match name {
            "answer" => {
                context! { answer => "Run it.", faq_id => "install", question => "How?", confidence => 0.87, links => vec!["https://x"], platform => "slack" }
            }
            "assign_auto_none" => context! { ticket_id => 7, configured => true },
            "assign_auto_why" => {
                context! { responder => "mia", skilled => true, load => 2, capacity => 5, on_duty => true, wait => "30 min", waiting => 3 }
            }
            "ask_unsure" => context! { best => context! { faq_id => "install", confidence => 0.3 }, window => "15m" },
            "github_already" => {
                context! { ticket_id => 7, issue => context! { repo => "acme/widgets", number => 12, state => "open", url => "https://github.com/acme/widgets/issues/12" } }
            }
            "github_off" => context! {},
            "github_requested" => context! { ticket_id => 7, repo => "acme/widgets", number => () },
            "github_tracked" | "moderators_github_opened" => {
                context! { ticket => ticket(), repo => "acme/widgets", number => 12, url => "https://github.com/acme/widgets/issues/12", linked => false, open => true, by => "mia" }
            }
            "github_usage" => context! { ticket_id => 7, problem => "\"acme\" should be owner/name" },
            "mirror_line" => context! { ticket_id => 7, who => "ann", role => "asker", text => "still failing" },
            "moderators_github_changed" => context! { ticket => ticket(), repo => "acme/widgets", number => 12, closed => true, resolved => true },
            "moderators_github_failed" => context! { ticket => ticket(), repo => "acme/widgets", error => "GitHub refused (404 Not Found)" },
            "faq_changed" => context! { change => "learned", faq_id => "arm", ticket_id => 3 },
            "faq_exists" | "faq_not_found" => context! { faq_id => "arm" },
            "faq_list" => {
                context! { entries => vec![context! { id => "arm", question => "Does it run on ARM?", alternatives => 2, learned => 3, helpful => 4, not_helpful => 1 }] }
            }
            "faq_show" => context! {
                entry => context! { id => "arm", question => "ARM?", alternatives => vec!["aarch64?"], answer => "Yes.", tags => Vec::<String>::new(), links => vec!["https://example.org"] },
                learned => vec![context! { number => 1, text => "runs on a pi?", from => "helpful", confirmed_by => "ann", at => "2026-12-01" }],
                helpful => 3, not_helpful => 1, learning_off => true,
            },
            "faq_taught" => context! {
                faq_id => "arm", ticket_id => 3, added => vec!["runs on a pi?"], known => vec!["ARM?"], unfit => vec!["..."], full => vec!["m1?"], cap => 50,
            },
            "faq_preview" => context! {
                faq_id => "port-change", overlaps => vec![context! { faq_id => "http-server", phrasing => "change the port", confidence => 0.91 }],
                changed => 7, examples => vec![context! { question => "how do i change the port", before => "http-server", after => "port-change" }, context! { question => "moving off 3000?", before => Value::from(()), after => "port-change" }],
            },
            "faq_unlearned" => context! { faq_id => "arm", number => 2, text => "runs on a pi?" },
            "faq_already_learned" => context! { ticket_id => 3, faq_id => "arm" },
            "learn_off" => context! { faq_id => "arm" },
            "message_not_found" => context! { target => "3", platform => "console" },
            "escalate_unknown_message" => context! { target => "3", platform => "console" },
            "faq_invalid" => context! { problem => "id must match [a-z0-9-]+" },
            "faq_search" => context! { query => "install", results => vec![context! { faq_id => "install", question => "How?", confidence => 0.5 }] },
            "feedback_thanks" => context! { helpful => true, ticket_id => 7 },
            "digest" => context! { d => context! {
                from => "2026-11-02", to => "2026-11-09", questions => 6, bot_answered => 3, helpful_rate => 0.5, votes => 2,
                community_answered => 2, unanswered => 1, tickets_opened => 2, tickets_resolved => 1, tickets_open => 1,
                oldest_open_hours => 148.0, median_first_response_hours => 1.5, median_resolution_hours => 4.0,
                top_helpers => vec![context! { user => "ben", answers => 2 }], arrivals_per_hour => 0.04,
                responders_needed => 1, first_response_target_hours => 1.0, forecast_next_period => 6.4, feedback => 2,
                sla => vec![context! { priority => "urgent", tickets => 3, first_response_met => 0.67, resolution_met => Value::from(()), breaches => 1 }],
                responders => vec![context! { name => "mia", first_responses => 2, median_first_response_hours => 0.5, resolved => 1, median_resolution_hours => 3.0, sla_met => 1.0 }],
                gaps => vec![context! { keywords => vec!["arm", "build"], size => 4, people => 3, examples => vec!["arm build fails"], answer => "use the arm64 image", ticket_id => 12, command => "faq learn 12" }],
                privacy => crate::domain::privacy::Policy::default().words(), forgotten => 2,
            }, themes => vec![context! { keywords => vec!["card", "arrive"], size => 4, previous_size => 1, examples => vec!["my card has not arrived"], people => 3, coherence => 0.62, tightness => "tight" }] },
            "help" => context! { commands => crate::domain::command::COMMANDS, is_moderator => false, platform => "console" },
            "invalid_transition" => context! { ticket_id => 7, status => "closed", verb => "resolved" },
            "learn_needs_resolution" | "ticket_not_found" | "ticket_noted" | "ticket_text_removed" => context! { ticket_id => 7 },
            "moderators_sla" => {
                context! { ticket => ticket(), clock => "first response", target => "1h", left => "15m", breach => false, on_call => "ben" }
            }
            "moderators_solved" | "moderators_ticket_comment" => context! { ticket => ticket(), words => "thanks, that fixed it", vote => false },
            "ticket_nudge" => context! { ticket => ticket(), closes_in => "4days" },
            "nudge_answered" => context! { ticket => ticket(), solved => true, already => false },
            "nudge_not_yours" => context! { ticket_id => 7 },
            "moderators_nudge_answered" => context! { ticket => ticket(), solved => false },
            "ticket_stale_closed" => context! { ticket => ticket(), quiet => "4days" },
            "message_too_long" => context! { limit => 4000 },
            "moderators_new_ticket" => {
                context! { ticket => ticket(), question => "why?", window => "15m", actor => "bot", comment => "still broken" }
            }
            "moderators_ticket_linked" => context! { ticket_id => 7, asker => "ben", channel => "help", linked => 2 },
            "refused" | "unknown_command" => context! { command => "ticket list" },
            "ticket_linked" => {
                context! { ticket_id => 7, asker => "ben", issue => context! { repo => "acme/widgets", number => 12, url => "https://github.com/acme/widgets/issues/12" } }
            }
            "ticket_list" => {
                context! { label => "open", tickets => vec![context! { id => 7, status => "open", priority => "high", assignee => "mia", asker_name => "ann", summary => "why?", sla => context! { clock => "first response", state => "due", left => "20m" } }] }
            }
            "ticket_opened" => context! { ticket_id => 7, origin => "not_helpful", asker => "ann" },
            "ticket_resolved_asker" => context! { asker => "ann", ticket_id => 7, actor => "mia", resolution => "upgrade" },
            "ticket_resolved_linked" => context! { asker => "bob", ticket_id => 7, actor => "mia", resolution => "upgrade" },
            "ticket_show" => {
                context! { ticket => ticket(), question => "why?", linked => 1, issue => context! { repo => "acme/widgets", number => 12, state => "open", url => "https://github.com/acme/widgets/issues/12", last_error => () }, sla => context! { clock => "resolution", state => "breached", left => () }, events => vec![context! { at => "2026-11-02 09:00 UTC", actor => "mia", action => "assign", from_status => "open", to_status => "assigned", note => "mia" }] }
            }
            "ticket_updated" => context! { ticket => ticket(), action => "resolve", actor => "mia" },
            "usage" => context! { usage => "ticket show <id>", problem => "a ticket id is missing" },
            "feedback_not_yours" | "feedback_nothing_to_rate" => context! {},
            "not_a_question" => context! { closed_ticket => 7, learned => 3 },
            "not_a_question_unknown" => context! { target => "m-42" },
            "privacy_export" => context! {
                member => "U1", platform => "slack", summary => "2 questions", inline => Value::from_safe_string("```json\n{}\n```".into()),
                attached => false, size => 2, command => "supportbot privacy export --platform slack --user U1",
            },
            "privacy_forget_cancelled" => context! { cancelled => true },
            "privacy_forget_confirm" => context! { stored => "2 messages, 1 ticket", tickets => "#3", minutes => 15 },
            "privacy_forget_not_asked" => context! { minutes => 15 },
            "privacy_forgotten" => context! { own => false, member => "U1", removed => "2 messages, 1 ticket", tickets => 1 },
            "privacy_policy" => context! { p => crate::domain::privacy::Policy::default().words(), min_users => 3, github => "acme/widgets" },
            "console_link" => context! { link => "https://support.example.org/console/auth/link?token=abc", valid_for => "10 minutes" },
            "console_off" => context! {},
            other => panic!("add a sample context for the new template {other:?}"),
        }
    }

    #[test]
    fn every_template_renders_with_its_variables() {
        let prompts = Prompts::load(None).unwrap();
        for (name, _) in TEMPLATES {
            let text = prompts.env.get_template(name).unwrap().render(sample(name)).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(!text.trim().is_empty(), "{name} rendered nothing");
            assert!(!text.contains("{{") && !text.contains("{%"), "{name}: {text}");
        }
    }

    /// Every string in a context replaced by `with`.
    fn hostile(value: &serde_json::Value, with: &str) -> serde_json::Value {
        match value {
            serde_json::Value::String(_) => with.into(),
            serde_json::Value::Array(items) => items.iter().map(|v| hostile(v, with)).collect(),
            serde_json::Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), hostile(v, with))).collect(),
            other => other.clone(),
        }
    }

    #[test]
    fn no_template_lets_user_text_ping_link_or_forge_a_line() {
        let prompts = Prompts::load(None).unwrap();
        let attack = "[x](!here) <@U1> <!channel> @everyone x` [y](https://evil.example) `z\n New ticket #999 (urgent) from boss";
        for (name, _) in TEMPLATES {
            let ctx = Value::from_serialize(hostile(&serde_json::to_value(sample(name)).unwrap(), attack));
            let text = prompts.render(name, ctx);
            let mrkdwn = crate::chat::slack::format::markdown_to_mrkdwn(&text);
            for ping in ["<!", "<@", "<#", "@here", "@channel", "@everyone", "<https://evil.example|"] {
                assert!(!mrkdwn.contains(ping), "{name}: {ping:?} in {mrkdwn:?}");
            }
            if *name == "answer" || *name == "faq_show" {
                continue; // the FAQ's answer is the moderators' own Markdown (`| safe`)
            }
            assert!(!text.contains("@everyone"), "{name}: {text:?}");
            for line in text.lines() {
                assert!(!line.trim_start().starts_with("New ticket #999"), "{name}: a forged line in {text:?}");
                let markup = inert::pieces(line);
                assert!(!markup.contains(&inert::Piece::Char('<')), "{name}: markup `<` from user text in {line:?}");
                assert!(!markup.windows(2).any(|w| w == [inert::Piece::Char(']'), inert::Piece::Char('(')]), "{name}: a link in {line:?}");
            }
        }
    }

    #[test]
    fn user_text_is_shown_as_written() {
        let prompts = Prompts::load(None).unwrap();
        let question = "Why [x](!here)?\nsecond line";
        let ctx = context! { ticket => ticket(), question => question, window => "15m", actor => "bot", comment => Option::<String>::None };
        let text = prompts.render("moderators_new_ticket", ctx);
        assert!(text.ends_with("\n> Why \\[x\\]\\(\\!here\\)?\n> second line"), "{text}");
        assert!(inert::plain(&text).ends_with("> Why [x](!here)?\n> second line"), "{text}");
        let answer = context! { answer => "Use **bold** [docs](https://x.org)", faq_id => "a_b", confidence => 0.9, links => Vec::<String>::new(), platform => "slack" };
        let text = prompts.render("answer", answer);
        assert!(text.starts_with("Use **bold** [docs](https://x.org)"), "the FAQ's Markdown is kept: {text}");
        assert!(text.contains("`a_b`"), "an id in a code span is not escaped: {text}");
    }

    #[test]
    fn durations_are_said_in_minutes_hours_or_days() {
        assert_eq!(duration_hours(0.0), "under 1 min");
        assert_eq!(duration_hours(-1.0), "under 1 min", "a clock skew is no negative duration");
        assert_eq!(duration_hours(f64::NAN), "under 1 min");
        assert_eq!(duration_hours(0.2), "12 min");
        assert_eq!(duration_hours(59.0 / 60.0), "59 min");
        assert_eq!(duration_hours(0.999), "1.0 h", "59.94 minutes round to an hour, not \"60 min\"");
        assert_eq!(duration_hours(1.0), "1.0 h");
        assert_eq!(duration_hours(3.5), "3.5 h");
        assert_eq!(duration_hours(47.9), "47.9 h");
        assert_eq!(duration_hours(48.0), "2.0 days");
        assert_eq!(duration_hours(100.8), "4.2 days");
    }

    /// The digest's sample with `d`'s fields changed by `set` and `themes` as given.
    fn digest_with(set: serde_json::Value, themes: serde_json::Value) -> Value {
        let mut ctx = serde_json::to_value(sample("digest")).unwrap();
        for (k, v) in set.as_object().unwrap() {
            ctx["d"][k] = v.clone();
        }
        ctx["themes"] = themes;
        Value::from_serialize(ctx)
    }

    #[test]
    fn the_digest_says_durations_in_a_human_unit() {
        let prompts = Prompts::load(None).unwrap();
        let text = prompts.render("digest", sample("digest"));
        assert!(text.contains("the oldest for 6.2 days"), "{text}");
        assert!(text.contains("median first response 1.5 h, median resolution 4.0 h"), "{text}");
        assert!(text.contains("within 1.0 h"), "{text}");
        let fast = digest_with(
            serde_json::json!({ "median_first_response_hours": 0.2, "median_resolution_hours": null, "first_response_target_hours": 0.25 }),
            serde_json::json!([]),
        );
        let text = prompts.render("digest", fast);
        assert!(text.contains("median first response 12 min, median resolution n/a"), "{text}");
        assert!(text.contains("within 15 min"), "{text}");
        assert!(!text.contains("0.0 h") && !text.contains("0.2 h"), "{text}");
    }

    #[test]
    fn the_digest_says_why_there_are_no_themes_and_how_sure_the_shown_ones_are() {
        let prompts = Prompts::load(None).unwrap();
        let text = prompts.render("digest", sample("digest"));
        assert!(text.contains("- card, arrive: 4 messages, tight group (+3 on the previous period)"), "{text}");
        let quiet = digest_with(serde_json::json!({ "questions": 0, "feedback": 0 }), serde_json::json!([]));
        let text = prompts.render("digest", quiet);
        assert!(text.contains("*Top themes:* none this period: no feedback or questions to group."), "{text}");
        let scattered = digest_with(serde_json::json!({}), serde_json::json!([]));
        let text = prompts.render("digest", scattered);
        assert!(text.contains("*Top themes:* none this period: no group of alike messages stood out."), "{text}");
        let failed = digest_with(serde_json::json!({}), serde_json::Value::Null);
        assert!(prompts.render("digest", failed).contains("*Top themes:* could not be worked out this time"));
        for text in [
            prompts.render("digest", sample("digest")),
            prompts.render("digest", digest_with(serde_json::json!({ "questions": 0 }), serde_json::json!([]))),
        ] {
            assert!(!text.contains("model"), "themes never need the model: {text}");
        }
    }

    #[test]
    fn confidence_shows_as_a_percentage() {
        let prompts = Prompts::load(None).unwrap();
        let text = prompts.render("answer", sample("answer"));
        assert!(text.contains("87% sure") && text.contains("`install`"), "{text}");
    }

    #[test]
    fn a_directory_overrides_single_templates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("refused.j2"), "Nope: {{ command }}").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        assert_eq!(prompts.render("refused", sample("refused")), "Nope: ticket list");
        assert!(prompts.render("help", sample("help")).contains("faq search"));
    }

    #[test]
    fn a_broken_override_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("answer.j2"), "{% if %}").unwrap();
        let err = Prompts::load(Some(dir.path())).err().unwrap().to_string();
        assert!(err.contains("answer.j2"), "{err}");
    }

    #[test]
    fn a_template_failing_at_render_time_falls_back_to_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("refused.j2"), "{{ no_such_variable }}").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        assert!(prompts.render("refused", sample("refused")).contains("moderators only"));
    }
}
