//! Settings: built-in defaults, then `supportbot.toml` (or `--config FILE`), then
//! `SUPPORTBOT_SECTION__KEY` environment variables.

use crate::domain::learning::LearnPolicy;
use crate::domain::privacy::{Keep, Policy};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod github;
mod tickets;
mod web;
pub use github::GithubSettings;
pub use tickets::{HoursSettings, ResponderSettings, SlaSettings};
pub use web::{DiscordOauth, SlackOidc, WebSettings};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub bot: BotSettings,
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub faq: FaqSettings,
    pub tickets: TicketSettings,
    pub decision: DecisionSettings,
    pub prompts: PromptSettings,
    pub model: ModelSettings,
    pub digest: DigestSettings,
    pub privacy: PrivacySettings,
    pub log: LogSettings,
    pub slack: Option<SlackSettings>,
    pub discord: Option<DiscordSettings>,
    pub github: Option<GithubSettings>,
    /// The moderators' web console (`[web]`), when set.
    pub web: Option<WebSettings>,
}

/// How the bot talks to Slack.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    /// Socket Mode: the bot dials out; no public URL needed.
    #[default]
    Socket,
    /// The Events API: Slack calls `[server] listen` at /slack/events, /slack/commands, /slack/interactions.
    Http,
}

/// `[slack]`. Tokens are secrets: `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackSettings {
    pub mode: SlackMode,
    /// The bot token, `xoxb-...` (OAuth & Permissions).
    pub bot_token: Option<secrecy::SecretString>,
    /// The app-level token for Socket Mode, `xapp-...` (Basic Information, scope connections:write).
    pub app_token: Option<secrecy::SecretString>,
    /// Verifies that HTTP requests come from Slack (Basic Information, Signing Secret).
    pub signing_secret: Option<secrecy::SecretString>,
    /// The Web API base URL: a local fake in tests, an enterprise proxy in some companies.
    pub api_url: String,
    /// Channel ids to watch. Empty: every channel the bot is a member of.
    pub channels: Vec<String>,
    /// User ids allowed to use moderator commands.
    pub moderators: Vec<String>,
    /// A moderator reacting with this emoji (name without colons) escalates the message.
    pub escalate_reaction: String,
    /// A moderator reacting with this emoji marks the message "not a question": its ticket is
    /// closed as noise and the bot learns from it.
    pub not_question_reaction: String,
    /// The channel id new tickets are posted to (default: `[tickets] moderators_channel`).
    pub moderators_channel: Option<String>,
}

impl Default for SlackSettings {
    fn default() -> Self {
        SlackSettings {
            mode: SlackMode::Socket,
            bot_token: None,
            app_token: None,
            signing_secret: None,
            api_url: "https://slack.com/api".into(),
            channels: Vec::new(),
            moderators: Vec::new(),
            escalate_reaction: "ticket".into(),
            not_question_reaction: "no_bell".into(),
            moderators_channel: None,
        }
    }
}

/// `[discord]`. The token is a secret: `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordSettings {
    /// The bot token (Developer Portal, your application, Bot, Reset Token).
    pub token: Option<secrecy::SecretString>,
    /// The REST base URL, ending in `/api`; every REST call and the gateway lookup use it.
    pub api_url: String,
    /// Guild (server) ids to register slash commands in, which is instant. Empty: global commands.
    pub guilds: Vec<String>,
    /// Channel ids to watch. Empty: every channel the bot can read.
    pub channels: Vec<String>,
    /// Forum channel ids: every new post in them is a support question.
    pub forum_channels: Vec<String>,
    /// Role ids whose members may use moderator commands (as may anyone with Manage Messages).
    pub moderator_roles: Vec<String>,
    /// A moderator reacting with this emoji escalates the message to a ticket.
    pub escalate_reaction: String,
    /// A moderator reacting with this emoji marks the message "not a question" (see Slack's).
    pub not_question_reaction: String,
    /// The channel id new tickets are posted to (default: `[tickets] moderators_channel`).
    pub moderators_channel: Option<String>,
    /// How many gateway shards in all: "auto" (Discord's recommendation) or a count.
    pub shards: ShardCount,
    /// The shards this instance runs, `[first, last]` inclusive (default: all of them).
    pub shard_range: Option<[u32; 2]>,
    /// Most messages fetched per channel to catch up after time away.
    pub backfill_limit: u32,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            token: None,
            api_url: "https://discord.com/api".into(),
            guilds: Vec::new(),
            channels: Vec::new(),
            forum_channels: Vec::new(),
            moderator_roles: Vec::new(),
            escalate_reaction: "🎫".into(),
            not_question_reaction: "🔕".into(),
            moderators_channel: None,
            shards: ShardCount::Auto,
            shard_range: None,
            backfill_limit: 500,
        }
    }
}

/// `[discord] shards`: "auto" or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShardCount {
    #[default]
    Auto,
    Fixed(u32),
}

impl<'de> Deserialize<'de> for ShardCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u32),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(0) => Err(serde::de::Error::custom("shards must be at least 1")),
            Raw::Count(n) => Ok(ShardCount::Fixed(n)),
            Raw::Word(w) if w.eq_ignore_ascii_case("auto") => Ok(ShardCount::Auto),
            Raw::Word(w) => w
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(ShardCount::Fixed)
                .ok_or_else(|| serde::de::Error::custom(format!("shards must be \"auto\" or a number, not {w:?}"))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotSettings {
    /// How the bot signs its own actions in ticket histories.
    pub name: String,
    /// How often `run`'s periodic jobs run: unanswered windows, events left unprocessed, the
    /// digest.
    #[serde(with = "humantime_serde_compat")]
    pub tick: Duration,
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// How long a query waits for a connection before giving up: short, so that a database
    /// that is down fails an acknowledgement inside Slack's 3 seconds instead of hanging it.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// How long an instance's claim on an event or a delivery keeps other instances off it; a
    /// crashed instance's work is taken over once its claims run out.
    #[serde(with = "humantime_serde_compat")]
    pub lease: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaqSettings {
    /// Imported (upserted by id) at start. Unset: the example FAQ seeds an empty database.
    pub file: Option<PathBuf>,
    /// The confidence an answer needs, in [0, 1].
    pub threshold: f32,
    /// Per-channel thresholds, by channel name or id.
    pub channel_thresholds: HashMap<String, f32>,
    /// What the FAQ learns without a moderator: "confirmed" (questions whose answer the asker
    /// marked helpful), "moderated" (only what moderators teach) or "off".
    pub learn: LearnPolicy,
    /// Learned phrasings an entry keeps at most, so one entry cannot swallow the index.
    pub learned_per_entry: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketSettings {
    /// How long a question may go unanswered before it becomes a ticket ("15m", "1h 30m").
    #[serde(with = "humantime_serde_compat")]
    pub unanswered_after: Duration,
    /// Where new tickets are announced.
    pub moderators_channel: String,
    /// How similar (0..1) a question must be to an open ticket's to be linked to it.
    pub link_similarity: f32,
    /// A ticket waiting on its asker (a moderator replied last) is asked "is this solved?"
    /// after this much quiet ("3d"); unset: never.
    #[serde(with = "humantime_option")]
    pub nudge_after: Option<Duration>,
    /// … and closed this long after the nudge if the asker stays quiet; unset: never.
    #[serde(with = "humantime_option")]
    pub close_after: Option<Duration>,
    /// The working hours the SLA counts in (default: every minute).
    pub hours: tickets::HoursSettings,
    /// Targets per priority: `[tickets.sla.urgent] first_response = "1h"`, `resolution = "8h"`.
    pub sla: std::collections::BTreeMap<String, tickets::SlaSettings>,
    /// How much of a target passes before the warning (0.75: with a quarter left).
    pub sla_warn_at: f64,
    /// Who `ticket assign <id> auto` chooses from: names, skills (FAQ tags), capacity, hours.
    pub responders: Vec<tickets::ResponderSettings>,
    /// Assign every new ticket that way as it opens.
    pub auto_assign: bool,
    /// Who the SLA warnings of unassigned tickets name, a week each in turn.
    pub on_call: Vec<String>,
}

impl TicketSettings {
    /// The settings in the ticket rules' terms; `handling` is one ticket's handling time
    /// (`[digest] handling`, the same the staffing estimate uses).
    pub fn policy(&self, handling: Duration) -> Result<crate::domain::ticket::timers::TicketPolicy, String> {
        tickets::policy(tickets::Written {
            nudge_after: self.nudge_after,
            close_after: self.close_after,
            hours: &self.hours,
            sla: &self.sla,
            warn_at: self.sla_warn_at,
            responders: &self.responders,
            handling,
            auto_assign: self.auto_assign,
            on_call: &self.on_call,
        })
    }
}

/// `[decision]`: what kind of place each channel is, for deciding what is a support question.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionSettings {
    /// Channels (names or ids) where people come for help: a message there needs less to be
    /// taken as a question.
    pub help_channels: Vec<String>,
    /// General chat channels: only a clear question or problem is taken there.
    pub general_channels: Vec<String>,
    /// Any other watched channel: "help" (the bot was put there to help) or "general".
    pub default_place: crate::domain::decision::Place,
    /// About what share of the top-level messages in a help channel are new support questions
    /// (the rest: answers, thanks, chat). The detector is fitted on as many questions as
    /// chatter; with a model this turns its odds into a channel's. Raise it for a forum where
    /// nearly every post asks something, lower it for a busy chat.
    pub support_share: f32,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        DecisionSettings {
            help_channels: Vec::new(),
            general_channels: Vec::new(),
            default_place: crate::domain::decision::Place::Help,
            support_share: 0.3,
        }
    }
}

impl DecisionSettings {
    pub fn place_of(&self, channel: &str) -> crate::domain::decision::Place {
        use crate::domain::decision::Place;
        if self.help_channels.iter().any(|c| c == channel) {
            Place::Help
        } else if self.general_channels.iter().any(|c| c == channel) {
            Place::General
        } else {
            self.default_place
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PromptSettings {
    /// A directory whose `<name>.j2` files replace the built-in templates.
    pub dir: Option<PathBuf>,
}

/// `[model]`: the sentence-embedding model, from a local directory or fetched from the hub.
///
/// With neither `dir` nor a cached copy, the model is fetched on first use (`fetch`, on by
/// default); the long-running bot does that in the background and answers on words meanwhile.
/// Offline or egress-restricted sites turn `fetch` off: then the bot never opens a connection
/// to the hub. Without a model the FAQ is matched on words only, said once.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// A sentence-transformer directory (config.json, tokenizer.json, model.safetensors), e.g.
    /// all-MiniLM-L6-v2 or all-mpnet-base-v2. Set, it is used as is and nothing is fetched.
    pub dir: Option<PathBuf>,
    /// With `dir` unset: fetch the model from `hub_url` into `cache_dir` on first use (later
    /// starts read the cache, without network). On by default; off: no model without `dir`.
    pub fetch: bool,
    /// The hub repository to fetch, "owner/name": all-MiniLM-L6-v2 by default, or
    /// "sentence-transformers/all-mpnet-base-v2" (slower, README "The model"). Also the name
    /// `model install` installs under, and looks for in `cache_dir` first.
    pub repo: String,
    /// A branch, tag or commit of `repo`.
    pub revision: String,
    /// The hub's base URL: a mirror, or a local fake in tests.
    pub hub_url: String,
    /// Where fetched models are kept (default: `$XDG_CACHE_HOME/supportbot/hub`, else
    /// `~/.cache/supportbot/hub`).
    pub cache_dir: Option<PathBuf>,
    /// Run the model's matrix products in int8 on CPUs with AVX-512 VNNI: two to three times as
    /// fast, FAQ answers as good as f32's (BENCHMARKS.md). On (the default); other CPUs run f32
    /// whatever this says. Off: f32 everywhere, for vectors identical to the reference model's.
    pub int8: bool,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            dir: None,
            fetch: true,
            repo: "sentence-transformers/all-MiniLM-L6-v2".into(),
            revision: "main".into(),
            hub_url: "https://huggingface.co".into(),
            cache_dir: default_model_cache(),
            int8: true,
        }
    }
}

/// `$XDG_CACHE_HOME/supportbot/hub` (an absolute XDG_CACHE_HOME only, as the spec says), else
/// `$HOME/.cache/supportbot/hub`; None without either.
fn default_model_cache() -> Option<PathBuf> {
    Some(cache_home()?.join("hub"))
}

/// `$XDG_CACHE_HOME/supportbot` (absolute only), else `$HOME/.cache/supportbot`.
pub fn cache_home() -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let cache = absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|home| home.join(".cache")))?;
    Some(cache.join("supportbot"))
}

impl ModelSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.fetch || self.dir.is_some() {
            return Ok(());
        }
        let part = |p: &str| !p.is_empty() && p != "." && p != ".." && p.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        let parts: Vec<&str> = self.repo.split('/').collect();
        if parts.len() > 2 || !parts.iter().all(|p| part(p)) {
            return Err(ConfigError(format!(
                "[model] repo: {:?} should be a hub repository like \"sentence-transformers/all-MiniLM-L6-v2\"",
                self.repo
            )));
        }
        // The revision names a file in the cache ("refs/<revision>"): no way out of it.
        if !self.revision.split('/').all(part) {
            return Err(ConfigError(format!("[model] revision: {:?} should be a branch, tag or commit like \"main\"", self.revision)));
        }
        match url::Url::parse(&self.hub_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(ConfigError(format!("[model] hub_url: {:?} should be an http(s) URL like \"https://huggingface.co\"", self.hub_url)));
            }
        }
        // No cache directory is not an error here: fetching is the default, so such a host gets
        // one warning when the fetch is tried (`FetchError::NoCacheDir`) and runs on words.
        Ok(())
    }
}

/// `[digest]`: the weekly report.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DigestSettings {
    /// How long a responder spends on one question, for the staffing estimate.
    #[serde(with = "humantime_serde_compat")]
    pub handling: Duration,
    /// The first-response time the staffing estimate aims for (for 80% of questions).
    #[serde(with = "humantime_serde_compat")]
    pub first_response_target: Duration,
    /// A theme drawn from fewer distinct people than this is counted but shows no examples.
    pub min_users: usize,
    /// How many themes the digest lists.
    pub themes: usize,
    /// How many groups k-means makes of a period's messages. Unset: chosen each period by the
    /// best silhouette over a range that grows with the number of messages.
    pub clusters: Option<usize>,
    /// When the weekly digest is posted: a weekday and a time, like "mon 09:00".
    pub schedule: String,
    /// The IANA time zone of `schedule`, like "Europe/Berlin".
    pub timezone: String,
    /// Where it is posted: "platform:channel" entries, like "slack:C012ABCDEF". Empty: not posted.
    pub channels: Vec<String>,
    /// Channels (names or ids) whose every message is feedback for the themes.
    pub feedback_channels: Vec<String>,
}

impl Default for DigestSettings {
    fn default() -> Self {
        DigestSettings {
            handling: Duration::from_secs(15 * 60),
            first_response_target: Duration::from_secs(3600),
            min_users: 3,
            themes: 5,
            clusters: None,
            schedule: "mon 09:00".into(),
            timezone: "UTC".into(),
            channels: Vec::new(),
            feedback_channels: Vec::new(),
        }
    }
}

/// `[privacy]`: how long what the bot stores is kept (README "What supportbot stores and for how
/// long"; `supportbot privacy policy` says it for the settings in force). Each is a duration
/// ("90d", "36h") or "forever".
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// Messages the bot acted on (questions, their threads), its answers, votes, and the ids
    /// of raw events and sent replies.
    pub keep_messages: Keep,
    /// A ticket's text, after the ticket is resolved or closed (open tickets are kept).
    pub keep_tickets: Keep,
    /// Feedback: the `feedback` command, feedback channels, "not helpful" comments.
    pub keep_feedback: Keep,
    /// Chatter the bot did not act on, and raw events and replies as sent: only as long as a
    /// moderator may still turn a missed question into a ticket.
    pub keep_unacted: Keep,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        let p = Policy::default();
        PrivacySettings { keep_messages: p.keep_messages, keep_tickets: p.keep_tickets, keep_feedback: p.keep_feedback, keep_unacted: p.keep_unacted }
    }
}

impl PrivacySettings {
    pub fn policy(&self) -> Policy {
        Policy {
            keep_messages: self.keep_messages,
            keep_tickets: self.keep_tickets,
            keep_feedback: self.keep_feedback,
            keep_unacted: self.keep_unacted,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter such as "info" or "supportbot=debug".
    pub level: String,
}

impl Default for BotSettings {
    fn default() -> Self {
        BotSettings { name: "supportbot".into(), tick: Duration::from_secs(10) }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .field("lease", &self.lease)
            .finish()
    }
}

/// A database URL fit for logs: any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings { url: "sqlite://supportbot.db".into(), max_connections: 5, timeout: Duration::from_secs(2), lease: Duration::from_secs(60) }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { listen: "127.0.0.1:3000".into() }
    }
}

/// The shipped answer threshold: see README "Confidence and the threshold".
pub const DEFAULT_THRESHOLD: f32 = 0.8;
/// Learned phrasings per entry: see README "An FAQ that learns".
pub const DEFAULT_LEARNED_PER_ENTRY: usize = 50;

impl Default for FaqSettings {
    fn default() -> Self {
        FaqSettings {
            file: None,
            threshold: DEFAULT_THRESHOLD,
            channel_thresholds: HashMap::new(),
            learn: LearnPolicy::default(),
            learned_per_entry: DEFAULT_LEARNED_PER_ENTRY,
        }
    }
}

impl Default for TicketSettings {
    fn default() -> Self {
        TicketSettings {
            unanswered_after: Duration::from_secs(15 * 60),
            moderators_channel: "moderators".into(),
            link_similarity: 0.7,
            nudge_after: None,
            close_after: None,
            hours: tickets::HoursSettings::default(),
            sla: Default::default(),
            sla_warn_at: 0.75,
            responders: Vec::new(),
            auto_assign: false,
            on_call: Vec::new(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { format: LogFormat::Text, level: "info".into() }
    }
}

/// Durations as humans write them ("15m"), parsed with `humantime`.
pub(crate) mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration like \"15m\": {e}")))
    }
}

/// An optional duration ("3d"); absent: `None`.
mod humantime_option {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => humantime::parse_duration(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration like \"3d\": {e}"))),
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Loads settings. `file` must exist when given; `supportbot.toml` is used only if present.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_with_env(file, config::Environment::with_prefix("SUPPORTBOT").prefix_separator("_").separator("__"))
    }

    fn load_with_env(file: Option<&Path>, env: config::Environment) -> Result<Settings, ConfigError> {
        let source = match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError(format!("{} does not exist", path.display())));
                }
                config::File::from(path).required(true)
            }
            None => config::File::with_name("supportbot.toml").format(config::FileFormat::Toml).required(false),
        };
        let settings: Settings = config::Config::builder()
            .add_source(source)
            .add_source(env.try_parsing(true))
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| ConfigError(name_the_source(&e.to_string(), file)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Err(problem) = crate::store::check_url(&self.database.url) {
            return Err(ConfigError(format!("[database] url: {problem}")));
        }
        let check = |name: &str, v: f32| {
            if (0.0..=1.0).contains(&v) { Ok(()) } else { Err(ConfigError(format!("{name} must be between 0 and 1 (got {v})"))) }
        };
        check("[faq] threshold", self.faq.threshold)?;
        for (channel, t) in &self.faq.channel_thresholds {
            check(&format!("[faq.channel_thresholds] {channel}"), *t)?;
        }
        check("[tickets] link_similarity", self.tickets.link_similarity)?;
        if self.faq.learned_per_entry == 0 {
            return Err(ConfigError("[faq] learned_per_entry must be at least 1 (to learn nothing, set [faq] learn = \"off\")".into()));
        }
        if !(self.decision.support_share > 0.0 && self.decision.support_share < 1.0) {
            return Err(ConfigError(format!(
                "[decision] support_share must be between 0 and 1, both excluded (got {})",
                self.decision.support_share
            )));
        }
        self.model.validate()?;
        crate::domain::schedule::Weekly::parse(&self.digest.schedule, &self.digest.timezone)
            .map_err(|e| ConfigError(format!("[digest] schedule/timezone: {e}")))?;
        if let Some(bad) = self.digest.channels.iter().find(|c| !c.contains(':')) {
            return Err(ConfigError(format!("[digest] channels: {bad:?} should be \"platform:channel\", like \"slack:C012ABCDEF\"")));
        }
        if self.tickets.unanswered_after.is_zero() {
            return Err(ConfigError("[tickets] unanswered_after must be longer than zero".into()));
        }
        self.tickets.policy(self.digest.handling).map_err(ConfigError)?;
        if let Some(github) = &self.github {
            github.check().map_err(ConfigError)?;
        }
        if let Some(web) = &self.web {
            web.check().map_err(ConfigError)?;
        }
        Ok(())
    }
}

/// A setting nobody has ("unknown field `treshold`") said with where it came from: the
/// environment variable that spelled it, else the settings file.
fn name_the_source(message: &str, file: Option<&Path>) -> String {
    let unknown = message.split("unknown field `").nth(1).and_then(|rest| rest.split('`').next());
    let Some(field) = unknown else { return message.to_string() };
    let from_env = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .find(|name| name.starts_with("SUPPORTBOT_") && name.to_ascii_lowercase().rsplit("__").next() == Some(field));
    match (from_env, file) {
        (Some(var), _) => format!("the environment variable {var} names no setting: {message}"),
        (None, Some(path)) => format!("{}: {message}", path.display()),
        (None, None) => format!("supportbot.toml: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(vars: &[(&str, &str)]) -> config::Environment {
        let map = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        config::Environment::with_prefix("SUPPORTBOT").prefix_separator("_").separator("__").source(Some(map))
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn defaults_need_no_file() {
        let s = Settings::load_with_env(None, env(&[])).unwrap();
        assert_eq!(s.database.url, "sqlite://supportbot.db");
        assert_eq!(s.server.listen, "127.0.0.1:3000");
        assert_eq!(s.tickets.unanswered_after, Duration::from_secs(900));
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        let f = file(
            "[faq]\nthreshold = 0.8\n[faq.channel_thresholds]\nhelp = 0.5\n[tickets]\nunanswered_after = \"1h\"\n[database]\nurl = \"sqlite://a.db\"\n",
        );
        let s = Settings::load_with_env(Some(f.path()), env(&[("SUPPORTBOT_DATABASE__URL", "postgres://x/y")])).unwrap();
        assert_eq!(s.faq.threshold, 0.8);
        assert_eq!(s.faq.channel_thresholds["help"], 0.5);
        assert_eq!(s.tickets.unanswered_after, Duration::from_secs(3600));
        assert_eq!(s.database.url, "postgres://x/y");
    }

    #[test]
    fn bad_values_are_explained() {
        let f = file("[faq]\nthreshold = 3\n");
        let e = Settings::load_with_env(Some(f.path()), env(&[])).unwrap_err().to_string();
        assert!(e.contains("threshold"), "{e}");
        let f = file("[tickets]\nunanswered_after = \"soon\"\n");
        let e = Settings::load_with_env(Some(f.path()), env(&[])).unwrap_err().to_string();
        assert!(e.contains("soon"), "{e}");
        let e = Settings::load_with_env(Some(Path::new("/nonexistent/x.toml")), env(&[])).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_misspelt_key_is_an_error_not_a_silent_default() {
        let f = file("[faq]\nthreshhold = 0.9\n");
        let e = Settings::load_with_env(Some(f.path()), env(&[])).unwrap_err().to_string();
        assert!(e.contains("threshhold"), "{e}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let f = file(
            "[database]\nurl = \"postgres://bot:hunter2@db/support\"\n[slack]\nbot_token = \"xoxb-secret\"\n[discord]\ntoken = \"discord-secret\"\n",
        );
        let s = Settings::load_with_env(Some(f.path()), env(&[])).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("xoxb-secret") && !shown.contains("discord-secret"), "{shown}");
        assert!(shown.contains("bot_token") && shown.contains("token"));
    }

    #[test]
    fn a_support_share_outside_zero_to_one_is_refused() {
        for bad in ["0.0", "1.0", "1.5"] {
            let f = file(&format!("[decision]\nsupport_share = {bad}\n"));
            let e = Settings::load_with_env(Some(f.path()), env(&[])).unwrap_err().to_string();
            assert!(e.contains("[decision] support_share"), "{e}");
        }
        let f = file("[decision]\nsupport_share = 0.6\n");
        assert_eq!(Settings::load_with_env(Some(f.path()), env(&[])).unwrap().decision.support_share, 0.6);
    }

    #[test]
    fn the_example_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("supportbot.example.toml");
        Settings::load_with_env(Some(&path), env(&[])).unwrap();
    }

    #[test]
    fn ticket_timers_read_slas_hours_and_quiet_times() {
        let f = file(
            "[tickets]\nnudge_after = \"3d\"\n[tickets.hours]\ntimezone = \"Europe/Berlin\"\ndays = [\"mon\", \"fri\"]\nopen = \"09:00\"\nclose = \"17:00\"\n[tickets.sla.urgent]\nfirst_response = \"1h\"\n",
        );
        let high = env(&[("SUPPORTBOT_TICKETS__SLA__HIGH__RESOLUTION", "2d")]);
        let policy = Settings::load_with_env(Some(f.path()), high).unwrap().tickets.policy(Duration::from_secs(900)).unwrap();
        assert_eq!(policy.nudge_after, Some(chrono::Duration::days(3)));
        assert_eq!(policy.close_after, None, "unset: never");
        use crate::domain::ticket::Priority;
        assert_eq!(policy.sla[&Priority::Urgent].first_response, Some(chrono::Duration::hours(1)));
        assert_eq!(policy.sla[&Priority::High].resolution, Some(chrono::Duration::days(2)));
        for (text, says) in [
            ("[tickets.sla.soon]\nfirst_response = \"1h\"\n", "[tickets.sla.soon]: unknown priority"),
            ("[tickets.hours]\ntimezone = \"Mars/Base\"\n", "[tickets.hours] \"Mars/Base\" is not an IANA time zone"),
            ("[tickets.hours]\nopen = \"18:00\"\nclose = \"09:00\"\n", "must end after it starts"),
            ("[tickets]\nsla_warn_at = 1.5\n", "sla_warn_at must be at least 0 and below 1"),
            ("[tickets.sla.urgent]\nfirst_respons = \"1h\"\n", "first_respons"),
        ] {
            let e = Settings::load_with_env(Some(file(text).path()), env(&[])).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn privacy_keeps_durations_or_forever() {
        let s = Settings::load_with_env(None, env(&[])).unwrap();
        assert_eq!(s.privacy.policy(), Policy::default());
        let f = file("[privacy]\nkeep_messages = \"30d\"\nkeep_tickets = \"forever\"\nkeep_unacted = \"12h\"\n");
        let p = Settings::load_with_env(Some(f.path()), env(&[])).unwrap().privacy.policy();
        assert_eq!(
            (p.keep_messages.setting(), p.keep_tickets, p.keep_unacted.describe()),
            ("30d".to_string(), Keep::Forever, "12 hours".to_string())
        );
        for (text, says) in
            [("keep_messages = \"soon\"", "soon"), ("keep_unacted = \"0s\"", "longer than zero"), ("keep_everything = \"1d\"", "keep_everything")]
        {
            let e = Settings::load_with_env(Some(file(&format!("[privacy]\n{text}\n")).path()), env(&[])).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn discord_shards_are_auto_or_a_count() {
        let f = file("[discord]\nshards = 4\nshard_range = [0, 1]\n");
        let s = Settings::load_with_env(Some(f.path()), env(&[])).unwrap();
        let d = s.discord.unwrap();
        assert_eq!((d.shards, d.shard_range), (ShardCount::Fixed(4), Some([0, 1])));
        let f = file("[discord]\n");
        assert_eq!(Settings::load_with_env(Some(f.path()), env(&[])).unwrap().discord.unwrap().shards, ShardCount::Auto);
        let f = file("[discord]\nshards = \"many\"\n");
        let e = Settings::load_with_env(Some(f.path()), env(&[])).unwrap_err().to_string();
        assert!(e.contains("many"), "{e}");
    }
}
