//! Privacy's queries: forgetting a member (every row that holds their words or their id, in one
//! unit of work), exporting what is stored about them, and the retention job's batches.

use super::unit::OnStore;
use super::{Store, StoreResult, ms, opt_time, time};
use crate::domain::inert;
use crate::domain::message::{Action, IncomingKind};
use crate::domain::privacy::{self, Counts, REMOVED_AT_REQUEST, REMOVED_BY_RETENTION, SOMEONE};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;

/// Who asked for a forget or an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester<'a> {
    /// The member themselves (`forget-me`).
    Member,
    /// A moderator, by platform id.
    Moderator(&'a str),
    /// The operator's command line.
    Operator,
}

impl Requester<'_> {
    pub fn role(&self) -> &'static str {
        match self {
            Requester::Member => "member",
            Requester::Moderator(_) => "moderator",
            Requester::Operator => "operator",
        }
    }

    fn user(&self) -> Option<&str> {
        match self {
            Requester::Moderator(id) => Some(id),
            _ => None,
        }
    }
}

/// One request to forget a member.
#[derive(Debug, Clone)]
pub struct Forget<'a> {
    pub platform: &'a str,
    pub user_id: &'a str,
    /// A name they go by that their rows may not hold (their own, when they ask).
    pub also_named: Option<&'a str>,
    pub requester: Requester<'a>,
    /// The inbox event asking for it, when it came from chat: its payload goes too.
    pub event_id: Option<&'a str>,
    /// Names the record of the request (one per request: the event, or the operator's run).
    pub key: String,
}

/// The ids of a member's messages ($1: platform, $2: their id), as a subquery.
const THEIR_MESSAGES: &str = "SELECT id FROM messages WHERE platform = $1 AND user_id = $2 \
     UNION SELECT message_id FROM questions WHERE platform = $1 AND asker_id = $2 \
     UNION SELECT question_message_id FROM tickets WHERE platform = $1 AND asker_id = $2 AND question_message_id IS NOT NULL";
/// The ids of a member's tickets, as a subquery.
const THEIR_TICKETS: &str = "SELECT id FROM tickets WHERE platform = $1 AND asker_id = $2";
/// History lines whose note is a person's own words: a thread message, a moderator's reply or
/// internal note, a vote's comment, a resolution, the id of a linked question.
const FREE_TEXT: &str = "('message', 'reply', 'note', 'vote', 'resolve', 'link')";
/// What a withdrawn outbox row says of itself (`given_up_between` leaves out "withdrawn:").
const WITHDRAWN: &str = "withdrawn: the member it was about asked to be forgotten";
/// Rows read per page when looking through the outbox.
const PAGE: i64 = 500;

/// `%id%` for a LIKE, its wildcards escaped (with `\`).
fn like_containing(id: &str) -> String {
    let escaped: String = id
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

fn strings(rows: &[sqlx::any::AnyRow], col: &str) -> StoreResult<Vec<String>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(s) = r.try_get::<Option<String>, _>(col)? {
            out.push(s);
        }
    }
    Ok(out)
}

impl Store {
    /// Forgets a member of `f.platform`: their messages, questions, votes, feedback, learned
    /// phrasings, detector examples and the embeddings of their words are deleted; their
    /// tickets keep their number, state and times, with their text "removed at the member's
    /// request" and no link to them; history lines they wrote elsewhere lose their words and
    /// their name; the raw events and sent messages that held their id or quoted them are
    /// blanked (one still waiting to be sent is withdrawn). The FAQ version moves, so every
    /// instance rebuilds its index without them. All in one unit of work; the request is
    /// recorded with the counts, never with whose data it was.
    pub async fn forget_member(&self, f: &Forget<'_>, now: DateTime<Utc>) -> StoreResult<Counts> {
        let unit = self.begin().await?;
        let counts = unit.forget_within(f, now).await?;
        unit.commit().await?;
        Ok(counts)
    }

    async fn forget_within(&self, f: &Forget<'_>, now: DateTime<Utc>) -> StoreResult<Counts> {
        let (p, u) = (f.platform, f.user_id);
        let mut c = Counts::default();
        let said = self.their_words(p, u).await?;
        let rows = sqlx::query(&format!("SELECT id FROM ({THEIR_MESSAGES}) AS theirs")).bind(p).bind(u).fetch_all_on(self).await?;
        let their_messages: BTreeSet<String> = strings(&rows, "id")?.into_iter().collect();
        let mut names = self.their_names(p, u).await?;
        names.extend(f.also_named.map(String::from));
        names.retain(|n| !n.trim().is_empty() && n != SOMEONE);
        let exec = async |sql: &str, text: Option<&str>| -> StoreResult<u64> {
            let q = sqlx::query(sql).bind(p).bind(u);
            let q = match text {
                Some(t) => q.bind(t.to_string()),
                None => q,
            };
            Ok(q.execute_on(self).await?.rows_affected())
        };

        // What the FAQ and the detector learned from their words.
        c.add(
            "learned_phrasings",
            exec(&format!("DELETE FROM faq_learned WHERE platform = $1 AND (author_id = $2 OR message_id IN ({THEIR_MESSAGES}))"), None).await?,
        );
        c.add(
            "detector_examples",
            exec(&format!("DELETE FROM detector_examples WHERE platform = $1 AND (author_id = $2 OR message_id IN ({THEIR_MESSAGES}))"), None)
                .await?,
        );
        exec("UPDATE detector_examples SET by_user = '' WHERE platform = $1 AND by_user = $2", None).await?;
        for name in &names {
            // What they taught as a moderator stays, without their name.
            let done =
                sqlx::query("UPDATE faq_learned SET confirmed_by = $2 WHERE confirmed_by = $1 AND learned_from <> 'helpful' AND platform = $3")
                    .bind(name)
                    .bind("a moderator")
                    .bind(p)
                    .execute_on(self)
                    .await?;
            c.add("attributions", done.rows_affected());
        }
        // Votes and feedback.
        c.add(
            "votes",
            exec(&format!("DELETE FROM answer_feedback WHERE platform = $1 AND (user_id = $2 OR message_id IN ({THEIR_MESSAGES}))"), None).await?,
        );
        c.add("feedback", exec("DELETE FROM feedback WHERE platform = $1 AND user_id = $2", None).await?);

        // Tickets: what links to their questions, their lines in other tickets, then their own.
        exec(
            &format!(
                "UPDATE ticket_events SET note = $3 WHERE action = 'link' AND note IN ({THEIR_MESSAGES}) \
                 AND ticket_id IN (SELECT id FROM tickets WHERE platform = $1)"
            ),
            Some(REMOVED_AT_REQUEST),
        )
        .await?;
        c.add("ticket_links", exec(&format!("DELETE FROM ticket_links WHERE platform = $1 AND message_id IN ({THEIR_MESSAGES})"), None).await?);
        c.add(
            "ticket_history",
            exec(
                &format!(
                    "UPDATE ticket_events SET note = CASE WHEN action IN {FREE_TEXT} AND note IS NOT NULL THEN $3 ELSE note END, actor = '{SOMEONE}', actor_id = NULL \
                     WHERE actor_id = $2 AND ticket_id IN (SELECT id FROM tickets WHERE platform = $1)"
                ),
                Some(REMOVED_AT_REQUEST),
            )
            .await?,
        );
        c.add(
            "ticket_history",
            exec(
                &format!(
                    "UPDATE ticket_events SET note = $3 WHERE ticket_id IN ({THEIR_TICKETS}) AND action IN {FREE_TEXT} AND note IS NOT NULL AND note <> $3"
                ),
                Some(REMOVED_AT_REQUEST),
            )
            .await?,
        );
        for name in &names {
            // Lines from before writers' ids were kept: by name, their words only where they
            // wrote them (their own tickets above, a thread message or vote elsewhere).
            sqlx::query(&format!(
                "UPDATE ticket_events SET note = CASE WHEN action IN ('message', 'vote') AND note IS NOT NULL THEN $3 ELSE note END, actor = '{SOMEONE}' \
                 WHERE actor = $2 AND ticket_id IN (SELECT id FROM tickets WHERE platform = $1)"
            ))
            .bind(p)
            .bind(name)
            .bind(REMOVED_AT_REQUEST)
            .execute_on(self)
            .await?;
            sqlx::query(&format!("UPDATE tickets SET assignee = '{SOMEONE}' WHERE platform = $1 AND assignee = $2"))
                .bind(p)
                .bind(name)
                .execute_on(self)
                .await?;
            // Who asked for a ticket's GitHub issue (the issue itself is GitHub's to keep).
            sqlx::query(&format!(
                "UPDATE ticket_github SET requested_by = '{SOMEONE}' WHERE requested_by = $2 AND ticket_id IN (SELECT id FROM tickets WHERE platform = $1)"
            ))
            .bind(p)
            .bind(name)
            .execute_on(self)
            .await?;
        }
        // The conversation in their tickets' threads is the tickets' text: it goes with it.
        c.add(
            "thread_messages",
            exec(
                "DELETE FROM messages WHERE platform = $1 AND reply_to IN \
                 (SELECT question_message_id FROM tickets WHERE platform = $1 AND asker_id = $2 AND question_message_id IS NOT NULL)",
                None,
            )
            .await?,
        );
        // No nudge or stale close for a ticket whose asker is gone: nobody to ask.
        exec(
            &format!("DELETE FROM ticket_timers WHERE ticket_id IN ({THEIR_TICKETS}) AND kind IN ('nudge', 'stale_close') AND fired_at IS NULL"),
            None,
        )
        .await?;
        c.add(
            "tickets",
            exec(
                &format!(
                    "UPDATE tickets SET question = $3, resolution = CASE WHEN resolution IS NULL THEN NULL ELSE $3 END, asker_id = '', \
                     asker_name = '{SOMEONE}', question_message_id = NULL, redacted_at = {} WHERE platform = $1 AND asker_id = $2",
                    ms(now)
                ),
                Some(REMOVED_AT_REQUEST),
            )
            .await?,
        );

        // Their questions and messages, and the credit for answers they gave others.
        c.add("answers_given", exec("UPDATE questions SET answered_by = '' WHERE platform = $1 AND answered_by = $2", None).await?);
        c.add("questions", exec("DELETE FROM questions WHERE platform = $1 AND asker_id = $2", None).await?);
        c.add("messages", exec("DELETE FROM messages WHERE platform = $1 AND user_id = $2", None).await?);

        // The cached embeddings of their words (FAQ phrasings, detector examples).
        let hashes: BTreeSet<String> = said.iter().map(|t| super::embeddings::text_hash(t)).collect();
        for h in &hashes {
            let done = sqlx::query("DELETE FROM embeddings WHERE text_hash = $1").bind(h).execute_on(self).await?;
            c.add("embeddings", done.rows_affected());
        }

        exec("DELETE FROM privacy_requests WHERE platform = $1 AND user_id = $2", None).await?;
        exec("UPDATE privacy_actions SET by_user = NULL WHERE platform = $1 AND by_user = $2", None).await?;

        let said: Vec<String> = said.iter().map(|t| privacy::normalise(t)).collect();
        let names: Vec<String> = names.iter().map(|n| privacy::normalise(n)).collect();
        self.forget_in_inbox(p, u, &said, &names, f.event_id, &mut c).await?;
        self.forget_in_outbox(p, u, &their_messages, &said, &names, now, &mut c).await?;

        self.bump_faq_version().await?;
        self.record_privacy_action(&f.key, "forget", f.requester.role(), f.requester.user(), Some(p), &c, now).await?;
        Ok(c)
    }

    /// Everything a member wrote that the store holds, for recognising it where it was copied
    /// (the outbox) and for the embeddings of it.
    async fn their_words(&self, p: &str, u: &str) -> StoreResult<Vec<String>> {
        let queries = [
            "SELECT text AS t FROM messages WHERE platform = $1 AND user_id = $2".to_string(),
            "SELECT text AS t FROM questions WHERE platform = $1 AND asker_id = $2".to_string(),
            "SELECT question AS t FROM tickets WHERE platform = $1 AND asker_id = $2".to_string(),
            "SELECT text AS t FROM feedback WHERE platform = $1 AND user_id = $2".to_string(),
            "SELECT comment AS t FROM answer_feedback WHERE platform = $1 AND user_id = $2".to_string(),
            format!("SELECT text AS t FROM faq_learned WHERE platform = $1 AND (author_id = $2 OR message_id IN ({THEIR_MESSAGES}))"),
            format!("SELECT text AS t FROM detector_examples WHERE platform = $1 AND (author_id = $2 OR message_id IN ({THEIR_MESSAGES}))"),
            "SELECT e.note AS t FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.platform = $1 AND e.actor_id = $2".to_string(),
        ];
        let mut said = BTreeSet::new();
        for sql in &queries {
            let rows = sqlx::query(sql).bind(p).bind(u).fetch_all_on(self).await?;
            said.extend(strings(&rows, "t")?.into_iter().filter(|t| !t.trim().is_empty()));
        }
        Ok(said.into_iter().collect())
    }

    /// The names a member's rows hold (display names change; every one they used).
    async fn their_names(&self, p: &str, u: &str) -> StoreResult<BTreeSet<String>> {
        let rows = sqlx::query(
            "SELECT user_name AS n FROM messages WHERE platform = $1 AND user_id = $2 \
             UNION SELECT asker_name FROM questions WHERE platform = $1 AND asker_id = $2 \
             UNION SELECT asker_name FROM tickets WHERE platform = $1 AND asker_id = $2 \
             UNION SELECT e.actor FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.platform = $1 AND e.actor_id = $2",
        )
        .bind(p)
        .bind(u)
        .fetch_all_on(self)
        .await?;
        Ok(strings(&rows, "n")?.into_iter().collect())
    }

    /// The raw events of `p` about the member, once handled (and `current`, the one asking):
    /// theirs, naming their id (a command about them), quoting their words or naming them.
    /// Their payload is blanked; their id stays, for the dedup. `said` and `names` normalised.
    async fn forget_in_inbox(&self, p: &str, u: &str, said: &[String], names: &[String], current: Option<&str>, c: &mut Counts) -> StoreResult<()> {
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT event_id, payload FROM inbox WHERE platform = $1 AND event_id > $2 AND payload <> '' \
                 AND (processed_at IS NOT NULL OR event_id = $3) ORDER BY event_id LIMIT $4",
            )
            .bind(p)
            .bind(&after)
            .bind(current.unwrap_or_default())
            .bind(PAGE)
            .fetch_all_on(self)
            .await?;
            for row in &rows {
                let (id, payload): (String, String) = (row.try_get("event_id")?, row.try_get("payload")?);
                let about = match serde_json::from_str::<crate::domain::message::Incoming>(&payload) {
                    Ok(event) => {
                        let text = match &event.kind {
                            IncomingKind::Message { text, .. } | IncomingKind::Command { text } | IncomingKind::Edited { text, .. } => text.clone(),
                            IncomingKind::Feedback { comment, .. } => comment.clone().unwrap_or_default(),
                            IncomingKind::Deleted { .. } => String::new(),
                        };
                        let text = privacy::normalise(&text);
                        event.author.id == u
                            || payload.contains(u)
                            || said.iter().any(|s| privacy::quotes(&text, s))
                            || names.iter().any(|n| privacy::names(&text, n))
                    }
                    Err(_) => payload.contains(u),
                };
                if about {
                    sqlx::query("UPDATE inbox SET payload = '' WHERE platform = $1 AND event_id = $2").bind(p).bind(&id).execute_on(self).await?;
                    c.add("raw_events", 1);
                }
                after = id;
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    /// Outbox rows about the member: sent to them or in reply to their messages, naming their
    /// id, quoting their words or (once sent) their name. Sent and given-up rows are blanked; a
    /// row still waiting is withdrawn, blanked too. Rows of every platform are read (a digest
    /// posted elsewhere may quote them); their id, messages and name count on their own
    /// platform only.
    #[allow(clippy::too_many_arguments)]
    async fn forget_in_outbox(
        &self,
        p: &str,
        u: &str,
        their_messages: &BTreeSet<String>,
        said: &[String],
        names: &[String],
        now: DateTime<Utc>,
        c: &mut Counts,
    ) -> StoreResult<()> {
        let mut after = 0i64;
        loop {
            let rows =
                sqlx::query("SELECT id, platform, payload, sent_at, failed_at FROM outbox WHERE id > $1 AND payload <> '{}' ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(PAGE)
                    .fetch_all_on(self)
                    .await?;
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                after = after.max(id);
                let Ok(action) = serde_json::from_str::<Action>(&row.try_get::<String, _>("payload")?) else { continue };
                let platform: String = row.try_get("platform")?;
                let attached = action.attachment.as_ref().map(|a| String::from_utf8_lossy(&a.bytes).into_owned()).unwrap_or_default();
                let home = platform == p;
                let replying = action.in_reply_to.as_ref().is_some_and(|m| their_messages.contains(m));
                let to_them = home && (action.recipient.as_deref() == Some(u) || replying || action.text.contains(u) || attached.contains(u));
                let sent = privacy::normalise(&format!("{}\n{attached}", inert::plain(&action.text)));
                let quoting = said.iter().any(|s| privacy::quotes(&sent, s));
                let naming = home && names.iter().any(|n| privacy::names(&sent, n));
                let done = opt_time(row, "sent_at")?.is_some() || opt_time(row, "failed_at")?.is_some();
                let blank = serde_json::to_string(&action.removed(REMOVED_AT_REQUEST)).expect("actions always serialize");
                if done && (to_them || quoting || naming) {
                    sqlx::query("UPDATE outbox SET payload = $2 WHERE id = $1").bind(id).bind(blank).execute_on(self).await?;
                    c.add("sent_messages", 1);
                } else if !done && (to_them || quoting) {
                    sqlx::query(
                        "UPDATE outbox SET payload = $2, failed_at = $3, last_error = $4, claimed_until = NULL WHERE id = $1 AND sent_at IS NULL",
                    )
                    .bind(id)
                    .bind(blank)
                    .bind(ms(now))
                    .bind(WITHDRAWN)
                    .execute_on(self)
                    .await?;
                    c.add("withdrawn_messages", 1);
                }
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    /// Records a forget, an export or a retention run: what and how much, never whose.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_privacy_action(
        &self,
        key: &str,
        action: &str,
        requested_by: &str,
        by_user: Option<&str>,
        platform: Option<&str>,
        counts: &Counts,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO privacy_actions (key, action, requested_by, by_user, platform, at, counts) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(action)
        .bind(requested_by)
        .bind(by_user)
        .bind(platform)
        .bind(ms(now))
        .bind(counts.to_json())
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// The privacy actions recorded in [from, to): (action, who asked, counts as JSON).
    pub async fn privacy_actions_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT action, requested_by, counts FROM privacy_actions WHERE at >= $1 AND at < $2 ORDER BY at, key")
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all_on(self)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("action")?, r.try_get("requested_by")?, r.try_get("counts")?))).collect()
    }

    /// What `forget-me` would delete, by kind, for its confirmation question.
    pub async fn stored_about(&self, p: &str, u: &str) -> StoreResult<(Counts, Vec<i64>)> {
        let mut c = Counts::default();
        let count = async |sql: &str| -> StoreResult<u64> {
            let row = sqlx::query(sql).bind(p).bind(u).fetch_one_on(self).await?;
            Ok(row.try_get::<i64, _>("n")? as u64)
        };
        c.add("messages", count("SELECT COUNT(*) AS n FROM messages WHERE platform = $1 AND user_id = $2").await?);
        c.add("questions", count("SELECT COUNT(*) AS n FROM questions WHERE platform = $1 AND asker_id = $2").await?);
        c.add("votes", count("SELECT COUNT(*) AS n FROM answer_feedback WHERE platform = $1 AND user_id = $2").await?);
        c.add("feedback", count("SELECT COUNT(*) AS n FROM feedback WHERE platform = $1 AND user_id = $2").await?);
        c.add("learned_phrasings", count("SELECT COUNT(*) AS n FROM faq_learned WHERE platform = $1 AND author_id = $2").await?);
        c.add("detector_examples", count("SELECT COUNT(*) AS n FROM detector_examples WHERE platform = $1 AND author_id = $2").await?);
        let rows = sqlx::query("SELECT id FROM tickets WHERE platform = $1 AND asker_id = $2 ORDER BY id").bind(p).bind(u).fetch_all_on(self).await?;
        let tickets: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
        c.add("tickets", tickets.len() as u64);
        Ok((c, tickets))
    }

    /// Keeps a member's `forget-me` until `expires_at`, replacing an earlier one.
    pub async fn ask_to_forget(&self, p: &str, u: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO privacy_requests (platform, user_id, asked_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, user_id) DO UPDATE SET asked_at = excluded.asked_at, expires_at = excluded.expires_at",
        )
        .bind(p)
        .bind(u)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute_on(self)
        .await?;
        Ok(())
    }

    /// Takes a member's `forget-me` away: whether one was waiting and had not expired at `now`.
    pub async fn take_forget_request(&self, p: &str, u: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let row = sqlx::query("DELETE FROM privacy_requests WHERE platform = $1 AND user_id = $2 RETURNING expires_at")
            .bind(p)
            .bind(u)
            .fetch_optional_on(self)
            .await?;
        match row {
            Some(r) => Ok(time(r.try_get("expires_at")?)? >= now),
            None => Ok(false),
        }
    }
}

/// One message as exported.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedMessage {
    pub id: String,
    pub channel: String,
    pub at: DateTime<Utc>,
    pub name: String,
    pub text: String,
    pub reply_to: Option<String>,
    /// Deleted on the platform: the text is already gone.
    pub deleted: bool,
}

/// The FAQ answer a question got.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedAnswer {
    pub faq_id: String,
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedQuestion {
    pub message_id: String,
    pub channel: String,
    pub asked_at: DateTime<Utc>,
    pub text: String,
    pub status: String,
    pub faq_id: Option<String>,
    pub confidence: Option<f64>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Whether another member's reply answered it (who is theirs to say, not this export's).
    pub answered_by_a_member: bool,
    pub answer: Option<ExportedAnswer>,
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedVote {
    pub message_id: String,
    pub helpful: bool,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedLine {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedTicket {
    pub id: i64,
    pub status: String,
    pub priority: String,
    pub origin: String,
    pub channel: String,
    pub question: String,
    pub resolution: Option<String>,
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Its whole history: the conversation in its thread, votes, changes, internal notes.
    pub history: Vec<ExportedLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedFeedback {
    pub id: String,
    pub channel: String,
    pub text: String,
    pub source: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedPhrasing {
    pub faq_id: String,
    pub text: String,
    pub learned_from: String,
    pub learned_at: DateTime<Utc>,
    /// No longer used by the FAQ (kept for the record until forgotten).
    pub retired: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedExample {
    pub message_id: String,
    pub text: String,
    /// What a moderator said the message was: a support question (true) or chatter.
    pub support: bool,
    pub at: DateTime<Utc>,
}

/// A line a member wrote in a ticket that is not theirs.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedElsewhere {
    pub ticket_id: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub note: Option<String>,
}

/// Everything the store holds about one member of one platform.
#[derive(Debug, Clone, Serialize)]
pub struct MemberExport {
    pub format: &'static str,
    pub platform: String,
    pub user_id: String,
    pub exported_at: DateTime<Utc>,
    /// The names their rows hold.
    pub names: Vec<String>,
    pub messages: Vec<ExportedMessage>,
    pub questions: Vec<ExportedQuestion>,
    pub votes: Vec<ExportedVote>,
    pub tickets: Vec<ExportedTicket>,
    pub lines_in_other_tickets: Vec<ExportedElsewhere>,
    pub feedback: Vec<ExportedFeedback>,
    pub learned_phrasings: Vec<ExportedPhrasing>,
    pub detector_examples: Vec<ExportedExample>,
    /// Questions of others that their reply answered: the message ids.
    pub answers_given: Vec<String>,
    /// A `forget-me` waiting for its confirmation, until then.
    pub forget_request_expires_at: Option<DateTime<Utc>>,
    /// Copies kept for delivery: raw events naming them, and messages sent to them (not
    /// repeated here: they hold what is above).
    pub raw_events: u64,
    pub messages_sent_to_them: u64,
}

impl MemberExport {
    /// How much is in it, by kind, for the reply that delivers it.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        c.add("messages", self.messages.len() as u64);
        c.add("questions", self.questions.len() as u64);
        c.add("votes", self.votes.len() as u64);
        c.add("tickets", self.tickets.len() as u64);
        c.add("feedback", self.feedback.len() as u64);
        c.add("learned_phrasings", self.learned_phrasings.len() as u64);
        c.add("detector_examples", self.detector_examples.len() as u64);
        c
    }
}

impl Store {
    /// Everything stored about member `u` of platform `p` (see [`MemberExport`]).
    pub async fn export_member(&self, p: &str, u: &str, now: DateTime<Utc>) -> StoreResult<MemberExport> {
        let rows =
            sqlx::query("SELECT * FROM messages WHERE platform = $1 AND user_id = $2 ORDER BY at, id").bind(p).bind(u).fetch_all_on(self).await?;
        let messages = rows
            .iter()
            .map(|r| {
                Ok(ExportedMessage {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    at: time(r.try_get("at")?)?,
                    name: r.try_get("user_name")?,
                    text: r.try_get("text")?,
                    reply_to: r.try_get("reply_to")?,
                    deleted: r.try_get::<i64, _>("deleted")? != 0,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rows = sqlx::query(
            "SELECT q.*, f.question AS faq_question, f.answer AS faq_answer FROM questions q LEFT JOIN faq_entries f ON f.id = q.faq_id \
             WHERE q.platform = $1 AND q.asker_id = $2 ORDER BY q.asked_at, q.message_id",
        )
        .bind(p)
        .bind(u)
        .fetch_all_on(self)
        .await?;
        let mut questions = Vec::new();
        for r in &rows {
            let status: String = r.try_get("status")?;
            let faq_id: Option<String> = r.try_get("faq_id")?;
            let answered = status == "bot_answered" || (status == "ticketed" && r.try_get::<Option<i64>, _>("answered_at")?.is_some());
            let answer = match (&faq_id, r.try_get::<Option<String>, _>("faq_question")?, r.try_get::<Option<String>, _>("faq_answer")?) {
                (Some(id), Some(question), Some(answer)) if answered => Some(ExportedAnswer { faq_id: id.clone(), question, answer }),
                _ => None,
            };
            questions.push(ExportedQuestion {
                message_id: r.try_get("message_id")?,
                channel: r.try_get("channel")?,
                asked_at: time(r.try_get("asked_at")?)?,
                text: r.try_get("text")?,
                status,
                faq_id,
                confidence: r.try_get("confidence")?,
                answered_at: opt_time(r, "answered_at")?,
                answered_by_a_member: r.try_get::<Option<String>, _>("answered_by")?.is_some(),
                answer,
                ticket_id: r.try_get("ticket_id")?,
            });
        }
        let rows = sqlx::query("SELECT * FROM answer_feedback WHERE platform = $1 AND user_id = $2 ORDER BY at, message_id")
            .bind(p)
            .bind(u)
            .fetch_all_on(self)
            .await?;
        let votes = rows
            .iter()
            .map(|r| {
                Ok(ExportedVote {
                    message_id: r.try_get("message_id")?,
                    helpful: r.try_get::<i64, _>("helpful")? != 0,
                    comment: r.try_get("comment")?,
                    at: time(r.try_get("at")?)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rows = sqlx::query("SELECT * FROM tickets WHERE platform = $1 AND asker_id = $2 ORDER BY id").bind(p).bind(u).fetch_all_on(self).await?;
        let mut tickets = Vec::new();
        for r in &rows {
            let t = super::tickets::ticket_from_row(r)?;
            let history = self
                .ticket_events(t.id)
                .await?
                .into_iter()
                .map(|e| ExportedLine { at: e.at, actor: e.actor, action: e.action, note: e.note })
                .collect();
            tickets.push(ExportedTicket {
                id: t.id,
                status: t.status.as_str().into(),
                priority: t.priority.as_str().into(),
                origin: t.origin.as_str().into(),
                channel: t.channel,
                question: t.question,
                resolution: t.resolution,
                assignee: t.assignee,
                created_at: t.created_at,
                first_response_at: t.first_response_at,
                resolved_at: t.resolved_at,
                closed_at: t.closed_at,
                history,
            });
        }
        let rows = sqlx::query(&format!(
            "SELECT e.ticket_id, e.at, e.action, e.note FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
             WHERE t.platform = $1 AND e.actor_id = $2 AND e.ticket_id NOT IN ({THEIR_TICKETS}) ORDER BY e.id"
        ))
        .bind(p)
        .bind(u)
        .fetch_all_on(self)
        .await?;
        let lines_in_other_tickets = rows
            .iter()
            .map(|r| {
                Ok(ExportedElsewhere {
                    ticket_id: r.try_get("ticket_id")?,
                    at: time(r.try_get("at")?)?,
                    action: r.try_get("action")?,
                    note: r.try_get("note")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rows =
            sqlx::query("SELECT * FROM feedback WHERE platform = $1 AND user_id = $2 ORDER BY at, id").bind(p).bind(u).fetch_all_on(self).await?;
        let feedback = rows
            .iter()
            .map(|r| {
                Ok(ExportedFeedback {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    text: r.try_get("text")?,
                    source: r.try_get("source")?,
                    at: time(r.try_get("at")?)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rows = sqlx::query(&format!(
            "SELECT faq_id, text, learned_from, learned_at, retired_at FROM faq_learned \
             WHERE platform = $1 AND (author_id = $2 OR message_id IN ({THEIR_MESSAGES})) ORDER BY learned_at, faq_id"
        ))
        .bind(p)
        .bind(u)
        .fetch_all_on(self)
        .await?;
        let learned_phrasings = rows
            .iter()
            .map(|r| {
                Ok(ExportedPhrasing {
                    faq_id: r.try_get("faq_id")?,
                    text: r.try_get("text")?,
                    learned_from: r.try_get("learned_from")?,
                    learned_at: time(r.try_get("learned_at")?)?,
                    retired: r.try_get::<Option<i64>, _>("retired_at")?.is_some(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rows = sqlx::query(&format!(
            "SELECT message_id, text, support, at FROM detector_examples WHERE platform = $1 AND (author_id = $2 OR message_id IN ({THEIR_MESSAGES})) \
             ORDER BY at, message_id"
        ))
        .bind(p)
        .bind(u)
        .fetch_all_on(self)
        .await?;
        let detector_examples = rows
            .iter()
            .map(|r| {
                Ok(ExportedExample {
                    message_id: r.try_get("message_id")?,
                    text: r.try_get("text")?,
                    support: r.try_get::<i64, _>("support")? != 0,
                    at: time(r.try_get("at")?)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rows = sqlx::query("SELECT message_id FROM questions WHERE platform = $1 AND answered_by = $2 ORDER BY asked_at, message_id")
            .bind(p)
            .bind(u)
            .fetch_all_on(self)
            .await?;
        let answers_given = strings(&rows, "message_id")?;
        let request = sqlx::query("SELECT expires_at FROM privacy_requests WHERE platform = $1 AND user_id = $2")
            .bind(p)
            .bind(u)
            .fetch_optional_on(self)
            .await?
            .map(|r| time(r.try_get("expires_at")?))
            .transpose()?
            .filter(|t| *t >= now);
        let raw = sqlx::query("SELECT COUNT(*) AS n FROM inbox WHERE platform = $1 AND payload LIKE $2 ESCAPE '\\'")
            .bind(p)
            .bind(like_containing(u))
            .fetch_one_on(self)
            .await?;
        let sent = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE platform = $1 AND payload LIKE $2 ESCAPE '\\'")
            .bind(p)
            .bind(like_containing(&format!("\"recipient\":{}", serde_json::to_string(u).expect("a string serializes"))))
            .fetch_one_on(self)
            .await?;
        let names: BTreeSet<String> = self.their_names(p, u).await?.into_iter().filter(|n| n != SOMEONE).collect();
        Ok(MemberExport {
            format: "supportbot member export, version 1",
            platform: p.into(),
            user_id: u.into(),
            exported_at: now,
            names: names.into_iter().collect(),
            messages,
            questions,
            votes,
            tickets,
            lines_in_other_tickets,
            feedback,
            learned_phrasings,
            detector_examples,
            answers_given,
            forget_request_expires_at: request,
            raw_events: raw.try_get::<i64, _>("n")? as u64,
            messages_sent_to_them: sent.try_get::<i64, _>("n")? as u64,
        })
    }
}

/// One of the retention job's steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expire {
    /// Resolved and closed tickets past `keep_tickets`: their text goes, with their questions,
    /// votes and messages.
    Tickets,
    /// Chatter past `keep_unacted`.
    Chatter,
    /// The raw events past `keep_unacted`, handled: their payload goes, their id stays.
    RawEvents,
    /// Sent (or given-up) replies past `keep_unacted`: their payload goes.
    SentMessages,
    /// Messages past `keep_messages` (those of an open ticket stay with it).
    Messages,
    /// Questions past `keep_messages` (those of an open ticket stay with it).
    Questions,
    /// Votes past `keep_messages`, and those whose question is gone.
    Votes,
    /// The ids of handled raw events past `keep_messages`.
    RawEventIds,
    /// Sent (or given-up) outbox rows past `keep_messages`.
    SentMessageIds,
    /// Feedback past `keep_feedback`.
    Feedback,
}

impl Expire {
    pub const ALL: [Expire; 10] = [
        Expire::Tickets,
        Expire::Chatter,
        Expire::RawEvents,
        Expire::SentMessages,
        Expire::Messages,
        Expire::Questions,
        Expire::Votes,
        Expire::RawEventIds,
        Expire::SentMessageIds,
        Expire::Feedback,
    ];

    /// The name it is counted under.
    pub fn name(self) -> &'static str {
        match self {
            Expire::Tickets => "tickets",
            Expire::Chatter => "chatter",
            Expire::RawEvents => "raw_events",
            Expire::SentMessages => "sent_messages",
            Expire::Messages => "messages",
            Expire::Questions => "questions",
            Expire::Votes => "votes",
            Expire::RawEventIds => "raw_event_ids",
            Expire::SentMessageIds => "sent_message_ids",
            Expire::Feedback => "feedback",
        }
    }

    /// The statement of one batch: `$1` the cutoff, `$2` the batch size.
    fn sql(self) -> &'static str {
        match self {
            Expire::Tickets => "",
            Expire::Chatter => {
                "DELETE FROM messages WHERE (platform, id) IN (SELECT m.platform, m.id FROM messages m WHERE m.at < $1 AND m.is_support = 0 \
                 AND NOT EXISTS (SELECT 1 FROM questions q WHERE q.platform = m.platform AND (q.message_id = m.id OR q.message_id = m.reply_to)) \
                 AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.platform = m.platform AND (t.question_message_id = m.id OR t.question_message_id = m.reply_to)) \
                 AND NOT EXISTS (SELECT 1 FROM ticket_links l WHERE l.platform = m.platform AND (l.message_id = m.id OR l.message_id = m.reply_to)) \
                 ORDER BY m.at LIMIT $2)"
            }
            Expire::RawEvents => {
                "UPDATE inbox SET payload = '' WHERE (platform, event_id) IN (SELECT platform, event_id FROM inbox \
                 WHERE processed_at IS NOT NULL AND received_at < $1 AND payload <> '' ORDER BY received_at LIMIT $2)"
            }
            Expire::SentMessages => {
                "UPDATE outbox SET payload = '{}' WHERE id IN (SELECT id FROM outbox \
                 WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < $1 AND payload <> '{}' ORDER BY id LIMIT $2)"
            }
            Expire::Messages => {
                "DELETE FROM messages WHERE (platform, id) IN (SELECT m.platform, m.id FROM messages m WHERE m.at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.platform = m.platform AND t.status IN ('open', 'assigned') \
                     AND (t.question_message_id = m.id OR t.question_message_id = m.reply_to)) \
                 AND NOT EXISTS (SELECT 1 FROM ticket_links l JOIN tickets t ON t.id = l.ticket_id \
                     WHERE l.platform = m.platform AND l.message_id = m.id AND t.status IN ('open', 'assigned')) \
                 ORDER BY m.at LIMIT $2)"
            }
            Expire::Questions => {
                "DELETE FROM questions WHERE (platform, message_id) IN (SELECT q.platform, q.message_id FROM questions q \
                 WHERE q.asked_at < $1 AND q.status <> 'pending' \
                 AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = q.ticket_id AND t.status IN ('open', 'assigned')) \
                 ORDER BY q.asked_at LIMIT $2)"
            }
            Expire::Votes => {
                "DELETE FROM answer_feedback WHERE (platform, message_id, user_id) IN (SELECT f.platform, f.message_id, f.user_id FROM answer_feedback f \
                 WHERE f.at < $1 OR NOT EXISTS (SELECT 1 FROM questions q WHERE q.platform = f.platform AND q.message_id = f.message_id) \
                 ORDER BY f.at LIMIT $2)"
            }
            Expire::RawEventIds => {
                "DELETE FROM inbox WHERE (platform, event_id) IN (SELECT platform, event_id FROM inbox \
                 WHERE processed_at IS NOT NULL AND received_at < $1 ORDER BY received_at LIMIT $2)"
            }
            Expire::SentMessageIds => {
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                 WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < $1 ORDER BY id LIMIT $2)"
            }
            Expire::Feedback => "DELETE FROM feedback WHERE (platform, id) IN (SELECT platform, id FROM feedback WHERE at < $1 ORDER BY at LIMIT $2)",
        }
    }
}

impl Store {
    /// Claims the retention run due at `now` for `instance`, moving the next one to `next`:
    /// of several instances, one gets true.
    pub async fn claim_retention(&self, instance: &str, now: DateTime<Utc>, next: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE privacy_schedule SET due_at = $2, claimed_by = $3, claimed_at = $1 WHERE job = 'retention' AND due_at <= $1")
            .bind(ms(now))
            .bind(ms(next))
            .bind(instance)
            .execute_on(self)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A run that stopped at its budget with work left: the next tick (of any instance) goes on.
    pub async fn retention_goes_on(&self, instance: &str, claimed_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE privacy_schedule SET due_at = $2 WHERE job = 'retention' AND claimed_by = $1 AND claimed_at = $2")
            .bind(instance)
            .bind(ms(claimed_at))
            .execute_on(self)
            .await?;
        Ok(())
    }

    /// One batch of `step` for what is older than `cutoff`: at most `batch` rows (tickets),
    /// each batch its own transaction. Returns how many it removed.
    pub async fn expire_batch(&self, step: Expire, cutoff: DateTime<Utc>, batch: i64, now: DateTime<Utc>) -> StoreResult<u64> {
        if step == Expire::Tickets {
            return self.expire_tickets(cutoff, batch, now).await;
        }
        let done = sqlx::query(step.sql()).bind(ms(cutoff)).bind(batch).execute_on(self).await?;
        Ok(done.rows_affected())
    }

    /// Waiting `forget-me`s that expired.
    pub async fn drop_expired_requests(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM privacy_requests WHERE expires_at < $1").bind(ms(now)).execute_on(self).await?.rows_affected())
    }

    /// Resolved and closed tickets past `cutoff`, up to `batch` of them: each one's text, its
    /// asker and their words in its history go, and so do its questions, their votes and its
    /// messages. Each ticket in its own unit of work.
    async fn expire_tickets(&self, cutoff: DateTime<Utc>, batch: i64, now: DateTime<Utc>) -> StoreResult<u64> {
        let rows = sqlx::query(
            "SELECT id FROM tickets WHERE status IN ('resolved', 'closed') AND redacted_at IS NULL \
             AND COALESCE(closed_at, resolved_at, updated_at) < $1 ORDER BY id LIMIT $2",
        )
        .bind(ms(cutoff))
        .bind(batch)
        .fetch_all_on(self)
        .await?;
        let mut expired = 0;
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let unit = self.begin().await?;
            if unit.expire_ticket(id, now).await? {
                expired += 1;
            }
            unit.commit().await?;
        }
        Ok(expired)
    }

    async fn expire_ticket(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let Some(t) = self.ticket(id).await? else { return Ok(false) };
        let mut messages: Vec<String> = t.question_message_id.iter().cloned().collect();
        let linked = sqlx::query("SELECT message_id FROM ticket_links WHERE ticket_id = $1").bind(id).fetch_all_on(self).await?;
        messages.extend(strings(&linked, "message_id")?);
        for m in &messages {
            for sql in [
                "DELETE FROM answer_feedback WHERE platform = $1 AND message_id = $2",
                "DELETE FROM questions WHERE platform = $1 AND message_id = $2",
                "DELETE FROM messages WHERE platform = $1 AND (id = $2 OR reply_to = $2)",
            ] {
                sqlx::query(sql).bind(&t.platform).bind(m).execute_on(self).await?;
            }
        }
        sqlx::query(&format!(
            "UPDATE ticket_events SET note = CASE WHEN action IN {FREE_TEXT} AND note IS NOT NULL THEN $2 ELSE note END, \
             actor = CASE WHEN action = 'message' OR actor_id = $3 OR (actor_id IS NULL AND actor = $4) THEN '{SOMEONE}' ELSE actor END, \
             actor_id = NULL WHERE ticket_id = $1"
        ))
        .bind(id)
        .bind(REMOVED_BY_RETENTION)
        .bind(&t.asker_id)
        .bind(&t.asker_name)
        .execute_on(self)
        .await?;
        let done = sqlx::query(&format!(
            "UPDATE tickets SET question = $2, resolution = CASE WHEN resolution IS NULL THEN NULL ELSE $2 END, asker_id = '', \
             asker_name = '{SOMEONE}', question_message_id = NULL, redacted_at = $3 WHERE id = $1 AND redacted_at IS NULL"
        ))
        .bind(id)
        .bind(REMOVED_BY_RETENTION)
        .bind(ms(now))
        .execute_on(self)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
