//! What the bot keeps and for how long (`[privacy]`), said in plain language, and the rules of
//! forgetting a member: what their rows become, how a member is named in a command, and how a
//! text the bot sent is recognised as quoting them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a ticket's text, a history line's text and a removed phrasing read after their member
/// asked to be forgotten.
pub const REMOVED_AT_REQUEST: &str = "removed at the member's request";
/// What they read once `[privacy] keep_tickets` passed.
pub const REMOVED_BY_RETENTION: &str = "removed after the retention period";
/// How a forgotten member (or the asker of an expired ticket) is named where a name is kept.
pub const SOMEONE: &str = "someone";
/// How long a `forget-me` waits for its `forget-me confirm`.
pub const CONFIRM_WITHIN_MINUTES: i64 = 15;

/// Whether a ticket's (or a line's) text is one of the removal notes: its words are gone.
pub fn is_removed(text: &str) -> bool {
    text == REMOVED_AT_REQUEST || text == REMOVED_BY_RETENTION
}

/// How long one kind of data is kept: a duration, or until someone asks to forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    For(Duration),
    Forever,
}

impl Keep {
    /// The oldest instant still kept at `now`: rows from before it are due to go.
    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Keep::For(d) => Some(now - d),
            Keep::Forever => None,
        }
    }

    /// "90 days", "36 hours", "forever".
    pub fn describe(self) -> String {
        match self {
            Keep::Forever => "forever".into(),
            Keep::For(d) => span(d),
        }
    }

    /// As written in the settings: "90d", "forever".
    pub fn setting(self) -> String {
        match self {
            Keep::Forever => "forever".into(),
            Keep::For(d) if d.num_seconds() % 86_400 == 0 => format!("{}d", d.num_days()),
            Keep::For(d) if d.num_seconds() % 3_600 == 0 => format!("{}h", d.num_hours()),
            Keep::For(d) if d.num_seconds() % 60 == 0 => format!("{}m", d.num_minutes()),
            Keep::For(d) => format!("{}s", d.num_seconds()),
        }
    }

    /// Parses a setting: a duration like "90d", "36h", "1w", or "forever".
    pub fn parse(text: &str) -> Result<Keep, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("forever") {
            return Ok(Keep::Forever);
        }
        let std = humantime::parse_duration(t).map_err(|e| format!("{text:?} is not a duration like \"90d\" (or \"forever\"): {e}"))?;
        let d = Duration::from_std(std).map_err(|_| format!("{text:?} is too long"))?;
        if d <= Duration::zero() {
            return Err(format!("{text:?} must be longer than zero (to keep something forever, write \"forever\")"));
        }
        Ok(Keep::For(d))
    }
}

impl<'de> Deserialize<'de> for Keep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Keep, D::Error> {
        Keep::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Keep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.setting())
    }
}

/// A span as a person reads it: "90 days", "1 day", "36 hours", "45 minutes".
fn span(d: Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let secs = d.num_seconds();
    if secs % 86_400 == 0 {
        plural(d.num_days(), "day")
    } else if secs % 3_600 == 0 {
        plural(d.num_hours(), "hour")
    } else if secs % 60 == 0 {
        plural(d.num_minutes(), "minute")
    } else {
        plural(secs, "second")
    }
}

/// `[privacy]` as the rules use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Messages the bot acted on (questions, their threads, answers), votes, and the ids of raw
    /// events and sent replies.
    pub keep_messages: Keep,
    /// A ticket's text, counted from its resolution or close (open tickets are kept).
    pub keep_tickets: Keep,
    /// The `feedback` command, feedback channels, comments given with a "not helpful" vote.
    pub keep_feedback: Keep,
    /// Chatter the bot did not act on, and the raw events and replies as sent.
    pub keep_unacted: Keep,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            keep_messages: Keep::For(Duration::days(90)),
            keep_tickets: Keep::For(Duration::days(365)),
            keep_feedback: Keep::For(Duration::days(180)),
            keep_unacted: Keep::For(Duration::days(3)),
        }
    }
}

/// How often the retention job runs: what is due goes within this much of its time.
pub const RETENTION_EVERY: Duration = Duration::hours(1);

/// The policy in words, for the templates that say it (`privacy_policy`, the digest's line):
/// each `keep_*` as "90 days" or "forever".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyWords {
    pub keep_messages: String,
    pub keep_tickets: String,
    pub keep_feedback: String,
    pub keep_unacted: String,
    /// How long a `forget-me` waits for its confirmation, in minutes.
    pub confirm_minutes: i64,
}

impl Policy {
    pub fn words(&self) -> PolicyWords {
        PolicyWords {
            keep_messages: self.keep_messages.describe(),
            keep_tickets: self.keep_tickets.describe(),
            keep_feedback: self.keep_feedback.describe(),
            keep_unacted: self.keep_unacted.describe(),
            confirm_minutes: CONFIRM_WITHIN_MINUTES,
        }
    }
}

/// The member a moderator's command names: a platform id, or a mention of one (`<@123>`,
/// `<@!123>`, Slack's `<@U123|name>`). None for an `@name` or nothing, which name no one surely.
pub fn member_id(arg: &str) -> Option<String> {
    let a = arg.trim();
    let inner = a.strip_prefix("<@").and_then(|r| r.strip_suffix('>')).map(|r| r.trim_start_matches('!'));
    let id = match inner {
        Some(inner) => inner.split('|').next().unwrap_or_default(),
        None => a,
    };
    let fits = !id.is_empty() && !id.starts_with('@') && id.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    fits.then(|| id.to_string())
}

/// A text reduced to lowercase letters and digits, one space between words: what survives the
/// escaping, quoting and line-joining of a template, for [`quotes`].
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Shorter normalised texts are not looked for in what the bot sent: "thanks" or "ok" would
/// be found everywhere and says nothing about anyone.
const MIN_QUOTED_CHARS: usize = 16;
/// How much of a text's start is looked for: templates cut what they quote (to 80, 200, 300
/// or 500 characters), never its start.
const QUOTED_PREFIX_CHARS: usize = 60;

/// Whether `sent` (the text of a message the bot sent, normalised) quotes `said` (one of a
/// member's texts, normalised): the start of it appears, word-aligned.
pub fn quotes(sent: &str, said: &str) -> bool {
    if said.chars().count() < MIN_QUOTED_CHARS {
        return false;
    }
    let mut prefix: String = said.chars().take(QUOTED_PREFIX_CHARS).collect();
    if prefix.len() < said.len()
        && let Some(cut) = prefix.rfind(' ')
    {
        prefix.truncate(cut); // whole words only: the template may have cut the last one
    }
    contains_words(sent, &prefix)
}

/// Whether `name` (normalised) appears in `sent` (normalised) as whole words.
pub fn names(sent: &str, name: &str) -> bool {
    name.chars().count() >= 3 && contains_words(sent, name)
}

fn contains_words(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let (h, n) = (format!(" {haystack} "), format!(" {needle} "));
    h.contains(&n)
}

/// What one forget, export or retention run touched: rows by kind ("messages", "tickets"...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts(pub BTreeMap<&'static str, u64>);

impl Counts {
    pub fn add(&mut self, kind: &'static str, n: u64) {
        if n > 0 {
            *self.0.entry(kind).or_default() += n;
        }
    }

    pub fn get(&self, kind: &str) -> u64 {
        self.0.get(kind).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn merge(&mut self, other: &Counts) {
        for (k, n) in &other.0 {
            self.add(k, *n);
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("counts always serialize")
    }

    /// "3 messages, 1 ticket" for the replies.
    pub fn describe(&self) -> String {
        if self.0.is_empty() {
            return "nothing".into();
        }
        self.0.iter().map(|(k, n)| format!("{n} {}", if *n == 1 { singular(k) } else { k.replace('_', " ") })).collect::<Vec<_>>().join(", ")
    }
}

fn singular(kind: &str) -> String {
    let words = kind.replace('_', " ");
    match words.as_str() {
        "replies" => "reply".into(),
        "raw events" => "raw event".into(),
        w => w.strip_suffix('s').unwrap_or(w).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_settings_read_durations_and_forever() {
        assert_eq!(Keep::parse("90d").unwrap(), Keep::For(Duration::days(90)));
        assert_eq!(Keep::parse("36h").unwrap().describe(), "36 hours");
        assert_eq!(Keep::parse("1 day").unwrap().describe(), "1 day");
        assert_eq!(Keep::parse("Forever").unwrap(), Keep::Forever);
        assert_eq!(Keep::parse("2w").unwrap().setting(), "14d");
        assert!(Keep::parse("0s").unwrap_err().contains("longer than zero"));
        assert!(Keep::parse("soon").unwrap_err().contains("soon"));
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        assert_eq!(Keep::For(Duration::seconds(10)).cutoff(now), Some(now - Duration::seconds(10)));
        assert_eq!(Keep::Forever.cutoff(now), None);
    }

    #[test]
    fn a_member_is_named_by_id_or_mention_never_by_a_bare_name() {
        assert_eq!(member_id("<@123456>").as_deref(), Some("123456"));
        assert_eq!(member_id("<@!123456>").as_deref(), Some("123456"));
        assert_eq!(member_id("<@U012ABC|ann>").as_deref(), Some("U012ABC"));
        assert_eq!(member_id(" U012ABC ").as_deref(), Some("U012ABC"));
        assert_eq!(member_id("@ann"), None);
        assert_eq!(member_id(""), None);
        assert_eq!(member_id("two words"), None);
    }

    #[test]
    fn a_sent_text_quotes_a_member_when_the_start_of_their_words_is_in_it() {
        let said = normalise("My build fails on ARM with a linker error, see the log at /tmp/x.log");
        let sent = normalise("New ticket #3 from ann:\n> my build fails on ARM with a linker\\_error, see the log at …");
        assert!(quotes(&sent, &said));
        assert!(!quotes(&normalise("ticket #3 resolved"), &said));
        assert!(!quotes(&normalise("thanks a lot!"), &normalise("thanks")), "too short to say anything");
        assert!(names(&normalise("Is this solved, Zorblax?"), &normalise("Zorblax")));
        assert!(!names(&normalise("Is this solved, Zorblaxian?"), &normalise("Zorblax")));
    }

    #[test]
    fn the_policy_in_words() {
        let w = Policy { keep_feedback: Keep::Forever, ..Policy::default() }.words();
        assert_eq!(
            (w.keep_unacted.as_str(), w.keep_messages.as_str(), w.keep_tickets.as_str(), w.keep_feedback.as_str()),
            ("3 days", "90 days", "365 days", "forever")
        );
    }

    #[test]
    fn counts_read_as_a_sentence() {
        let mut c = Counts::default();
        c.add("messages", 3);
        c.add("tickets", 1);
        c.add("votes", 0);
        assert_eq!(c.describe(), "3 messages, 1 ticket");
        assert_eq!(c.total(), 4);
    }
}
