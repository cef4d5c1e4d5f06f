//! Privacy as the bot's use case (README "What supportbot stores and for how long"): a
//! member's `forget-me` and its confirmation, a moderator's `privacy forget` and `privacy
//! export`, `privacy policy` for everyone, and the retention job the scheduler runs. The rows
//! are `store::privacy`'s; here the caches forget too, and the replies are said.

use super::{Bot, BotResult};
use crate::domain::command::ForgetStep;
use crate::domain::message::{Action, Attachment, Incoming};
use crate::domain::privacy::{CONFIRM_WITHIN_MINUTES, Counts, Keep, Policy, RETENTION_EVERY};
use crate::prompts::Prompts;
use crate::store::privacy::{Expire, Forget, Requester};
use chrono::{DateTime, Duration, Utc};
use minijinja::{Value, context};

/// Rows one retention batch removes at most: each batch is its own short transaction.
pub const RETENTION_BATCH: i64 = 500;
/// Full batches one retention run does at most; what is left goes on at the next tick.
pub const RETENTION_BATCHES: usize = 40;
/// An export longer than this goes as a file only (where the platform takes one privately).
const INLINE_EXPORT_CHARS: usize = 2_500;

/// The privacy statement for `policy` (the `privacy_policy` template): what `privacy policy`
/// replies, `supportbot privacy policy` prints (as plain text) and README says for the defaults.
/// `github`: where tickets may be sent when `[github]` is set up (see [`github_destination`]).
pub fn policy_text(prompts: &Prompts, policy: &Policy, min_users: usize, github: Option<&str>) -> String {
    prompts.render("privacy_policy", context! { p => policy.words(), min_users => min_users, github => github })
}

/// How the statement names where tickets go: None without `[github]`, else its default
/// repository or, with none set, the one a moderator names.
pub fn github_destination(github: Option<Option<&str>>) -> Option<String> {
    github.map(|repo| repo.map_or_else(|| "the GitHub repository the moderator names".to_string(), str::to_string))
}

/// The statement as `supportbot privacy policy` prints it: plain text, as README has it.
pub fn policy_plain_text(prompts: &Prompts, policy: &Policy, min_users: usize, github: Option<&str>) -> String {
    crate::domain::inert::plain(&policy_text(prompts, policy, min_users, github))
}

/// A member's export as a JSON document that stays inert inside a Markdown code block: the
/// characters that could close the block, ping or link (`` ` ``, `<`, `>`, `@`, `&`) are
/// written as JSON escapes, which any JSON reader turns back.
pub fn export_json(export: &crate::store::privacy::MemberExport) -> String {
    let json = serde_json::to_string_pretty(export).expect("an export always serializes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '`' | '<' | '>' | '@' | '&' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Which `[privacy]` setting a retention step follows.
fn keep_for(step: Expire, policy: &Policy) -> Keep {
    match step {
        Expire::Tickets => policy.keep_tickets,
        Expire::Chatter | Expire::RawEvents | Expire::SentMessages => policy.keep_unacted,
        Expire::Messages | Expire::Questions | Expire::Votes | Expire::RawEventIds | Expire::SentMessageIds => policy.keep_messages,
        Expire::Feedback => policy.keep_feedback,
    }
}

impl Bot {
    /// `forget-me`: says what would be deleted and waits for `forget-me confirm` (or `cancel`).
    pub(super) async fn forget_me(&self, event: &Incoming, step: ForgetStep, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let (p, u) = (event.platform.as_str(), event.author.id.as_str());
        let minutes = CONFIRM_WITHIN_MINUTES;
        match step {
            ForgetStep::Ask => {
                let (stored, tickets) = self.store.stored_about(p, u).await?;
                self.store.ask_to_forget(p, u, now, now + Duration::minutes(minutes)).await?;
                let tickets: Vec<String> = tickets.iter().map(|id| format!("#{id}")).collect();
                let ctx = context! { stored => (!stored.is_empty()).then(|| stored.describe()), tickets => tickets.join(", "), minutes => minutes };
                Ok(vec![self.command_reply(event, "privacy_forget_confirm", ctx)])
            }
            ForgetStep::Cancel => {
                let cancelled = self.store.take_forget_request(p, u, now).await?;
                Ok(vec![self.command_reply(event, "privacy_forget_cancelled", context! { cancelled => cancelled })])
            }
            ForgetStep::Confirm => {
                if !self.store.take_forget_request(p, u, now).await? {
                    return Ok(vec![self.command_reply(event, "privacy_forget_not_asked", context! { minutes => minutes })]);
                }
                let counts = self.forget(p, u, Some(&event.author.name), Requester::Member, Some(event), now).await?;
                let ctx = context! { own => true, removed => counts.describe(), tickets => counts.get("tickets") };
                Ok(vec![self.command_reply(event, "privacy_forgotten", ctx).erased_after_send()])
            }
        }
    }

    /// `privacy forget <member>`, a moderator's: no confirmation (they named the member).
    pub(super) async fn privacy_forget(&self, event: &Incoming, member: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let own = member == event.author.id;
        let also_named = own.then_some(event.author.name.as_str());
        let counts = self.forget(&event.platform, member, also_named, Requester::Moderator(&event.author.id), Some(event), now).await?;
        let ctx = context! { own => own, member => member, removed => counts.describe(), tickets => counts.get("tickets") };
        // The reply names the member: it goes once delivered.
        Ok(vec![self.command_reply(event, "privacy_forgotten", ctx).erased_after_send()])
    }

    /// Forgets member `user` of `platform` (see `Store::forget_member`), and this instance's
    /// caches with them: remembered query embeddings, analysed ticket texts, the fitted
    /// detector (refitted without their examples), the FAQ index (rebuilt now; other instances
    /// rebuild theirs on the FAQ version). `event`: the chat event asking, if one did.
    pub async fn forget(
        &self,
        platform: &str,
        user: &str,
        also_named: Option<&str>,
        requester: Requester<'_>,
        event: Option<&Incoming>,
        now: DateTime<Utc>,
    ) -> BotResult<Counts> {
        let key = match event {
            Some(e) => format!("forget:{}:{}", e.platform, e.event_id),
            None => format!("forget:{}:{}:{}", requester.role(), now.timestamp_micros(), std::process::id()),
        };
        let request = Forget { platform, user_id: user, also_named, requester, event_id: event.map(|e| e.event_id.as_str()), key };
        let counts = self.store.forget_member(&request, now).await?;
        // A forgotten member is signed out of the web console too.
        self.store.end_web_sessions_of(platform, user).await?;
        self.shared.query_vectors.clear();
        self.shared.ticket_tokens.clear();
        *self.shared.detector.write().expect("detector lock poisoned") = None;
        self.faq().await?;
        self.shared.checkpoint.store(true, std::sync::atomic::Ordering::SeqCst);
        // Counts only: whom is never logged.
        tracing::info!(requested_by = requester.role(), removed = counts.total(), "a member was forgotten");
        Ok(counts)
    }

    /// `privacy export <member>`: everything stored about them, as JSON, to the moderator only
    /// (a file on Discord; in the reply where it fits elsewhere). The reply goes once delivered.
    pub(super) async fn privacy_export(&self, event: &Incoming, member: &str, now: DateTime<Utc>) -> BotResult<Vec<Action>> {
        let export = self.store.export_member(&event.platform, member, now).await?;
        let counts = export.counts();
        let json = export_json(&export);
        let key = format!("export:{}:{}", event.platform, event.event_id);
        self.store.record_privacy_action(&key, "export", "moderator", Some(&event.author.id), Some(&event.platform), &counts, now).await?;
        tracing::info!(items = counts.total(), "a member's data was exported for a moderator");
        let attached = event.platform == "discord";
        let inline = (!attached && json.chars().count() <= INLINE_EXPORT_CHARS).then(|| Value::from_safe_string(format!("```json\n{json}\n```")));
        let command = format!("supportbot privacy export --platform {} --user {member}", event.platform);
        let ctx = context! {
            member => member, platform => event.platform, summary => counts.describe(), inline => inline,
            attached => attached, size => json.chars().count(), command => command,
        };
        let mut reply = self.command_reply(event, "privacy_export", ctx).erased_after_send();
        reply.attachment =
            Some(Attachment { filename: format!("supportbot-member-export-{}.json", now.format("%Y-%m-%d")), bytes: json.into_bytes() });
        Ok(vec![reply])
    }

    /// `privacy policy`: what is stored and for how long, as the settings in force say.
    pub(super) fn privacy_policy(&self, event: &Incoming) -> Vec<Action> {
        let config = &self.shared.config;
        let github = github_destination(config.github.as_ref().map(|g| g.repo.as_deref()));
        let ctx = context! { p => config.privacy.words(), min_users => config.digest.min_users, github => github.as_deref() };
        vec![self.command_reply(event, "privacy_policy", ctx)]
    }

    /// The retention job: once across instances every [`RETENTION_EVERY`], what is older than
    /// its `[privacy]` setting goes (see `store::privacy::Expire`), in batches. None when
    /// another instance (or an earlier run within the hour) has it.
    pub async fn expire(&self, instance: &str, now: DateTime<Utc>) -> BotResult<Option<Counts>> {
        self.expire_with(instance, now, RETENTION_BATCH, RETENTION_BATCHES).await
    }

    /// [`Bot::expire`] with `batch` rows a batch, going on after at most `budget` full batches
    /// (a step's last, partial batch ends it): a run that uses its budget up leaves the rest to
    /// the next tick (of any instance).
    pub async fn expire_with(&self, instance: &str, now: DateTime<Utc>, batch: i64, budget: usize) -> BotResult<Option<Counts>> {
        if !self.store.claim_retention(instance, now, now + RETENTION_EVERY).await? {
            return Ok(None);
        }
        // Expired console sessions, links and OAuth states go with each retention run.
        self.store.purge_web(now).await?;
        let policy = self.shared.config.privacy;
        let mut counts = Counts::default();
        let (mut left, mut more) = (budget, false);
        'steps: for step in Expire::ALL {
            let Some(cutoff) = keep_for(step, &policy).cutoff(now) else { continue };
            loop {
                let removed = self.store.expire_batch(step, cutoff, batch, now).await?;
                counts.add(step.name(), removed);
                if (removed as i64) < batch {
                    break; // this step is done
                }
                if left == 0 {
                    more = true;
                    break 'steps;
                }
                left -= 1;
            }
        }
        counts.add("forget_requests", self.store.drop_expired_requests(now).await?);
        if more {
            self.store.retention_goes_on(instance, now).await?;
        }
        if !counts.is_empty() {
            let key = format!("retention:{}:{instance}", now.timestamp_millis());
            self.store.record_privacy_action(&key, "retention", "retention", None, None, &counts, now).await?;
            self.shared.ticket_tokens.clear();
            self.store.checkpoint().await;
            tracing::info!(removed = counts.total(), more, "retention: removed what was past its time");
        }
        Ok(Some(counts))
    }
}
