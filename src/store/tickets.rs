//! Tickets, their history, and the questions linked to them.

use super::unit::OnStore;
use super::{Store, StoreResult, ms, opt_time, parse_col, time};
use crate::domain::ticket::{Origin, Priority, PriorityChange, Status, Ticket, TicketChange, TicketEvent};
use chrono::{DateTime, Utc};
use sqlx::Any;
use sqlx::Row;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;

/// What is needed to open a ticket: a question about to become one.
#[derive(Debug, Clone, Copy)]
pub struct NewTicket<'a> {
    pub platform: &'a str,
    pub channel: &'a str,
    pub question_message_id: Option<&'a str>,
    pub asker_id: &'a str,
    pub asker_name: &'a str,
    pub question: &'a str,
    pub origin: Origin,
    pub priority: Priority,
    /// Who opens it (or links the question to the ticket it repeats): the bot or a moderator.
    pub actor: &'a str,
    /// See [`Ticket::private`].
    pub private: bool,
}

/// A member whose repeat of a ticket's question was linked to it: where to tell them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAsker {
    /// Their message that repeated the question (the reply goes under it).
    pub message_id: String,
    pub channel: String,
    pub name: String,
}

pub(super) fn ticket_from_row(row: &AnyRow) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: row.try_get("id")?,
        platform: row.try_get("platform")?,
        channel: row.try_get("channel")?,
        question_message_id: row.try_get("question_message_id")?,
        asker_id: row.try_get("asker_id")?,
        asker_name: row.try_get("asker_name")?,
        question: row.try_get("question")?,
        origin: parse_col(row, "origin")?,
        status: parse_col(row, "status")?,
        priority: parse_col(row, "priority")?,
        assignee: row.try_get("assignee")?,
        resolution: row.try_get("resolution")?,
        created_at: time(row.try_get("created_at")?)?,
        first_response_at: opt_time(row, "first_response_at")?,
        resolved_at: opt_time(row, "resolved_at")?,
        closed_at: opt_time(row, "closed_at")?,
        private: row.try_get::<i64, _>("private")? != 0,
    })
}

/// One history line, on the unit of work that made the change it records.
/// `actor_id`: the platform id of a person writing (their thread message, note or vote), which
/// finds their lines when they ask to be forgotten.
async fn record_event(unit: &Store, ticket_id: i64, e: &TicketEvent, actor_id: Option<&str>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, at, actor, action, from_status, to_status, note, actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ticket_id)
    .bind(ms(e.at))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(e.from_status.map(|s| s.as_str()))
    .bind(e.to_status.as_str())
    .bind(&e.note)
    .bind(actor_id)
    .execute_on(unit)
    .await?;
    Ok(())
}

pub(super) fn event(row: &AnyRow) -> StoreResult<TicketEvent> {
    let from: Option<String> = row.try_get("from_status")?;
    Ok(TicketEvent {
        at: time(row.try_get("at")?)?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        from_status: from.map(|s| s.parse()).transpose().map_err(super::StoreError::Corrupt)?,
        to_status: parse_col(row, "to_status")?,
        note: row.try_get("note")?,
    })
}

impl Store {
    /// Opens a ticket. Idempotent per question message: opening the same question twice
    /// returns the first ticket and `false`.
    pub async fn open_ticket(&self, t: &NewTicket<'_>, now: DateTime<Utc>) -> StoreResult<(Ticket, bool)> {
        if let Some(msg) = t.question_message_id
            && let Some(existing) = self.ticket_for_message(t.platform, msg).await?
        {
            return Ok((existing, false));
        }
        let unit = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO tickets (platform, channel, question_message_id, asker_id, asker_name, question, origin, status, priority, created_at, updated_at, private) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $9, $10) ON CONFLICT (platform, question_message_id) DO NOTHING RETURNING id",
        )
        .bind(t.platform)
        .bind(t.channel)
        .bind(t.question_message_id)
        .bind(t.asker_id)
        .bind(t.asker_name)
        .bind(t.question)
        .bind(t.origin.as_str())
        .bind(t.priority.as_str())
        .bind(ms(now))
        .bind(i64::from(t.private))
        .fetch_optional_on(&unit)
        .await?;
        let Some(row) = row else {
            // Another instance opened it between our check and insert.
            unit.rollback().await?;
            let msg = t.question_message_id.unwrap_or_default();
            let existing = self.ticket_for_message(t.platform, msg).await?;
            return existing.map(|e| (e, false)).ok_or_else(|| super::StoreError::Corrupt("ticket vanished".into()));
        };
        let id: i64 = row.try_get("id")?;
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, at, actor, action, from_status, to_status, note) VALUES ($1, $2, $3, 'open', NULL, 'open', $4)",
        )
        .bind(id)
        .bind(ms(now))
        .bind(t.actor)
        .bind(t.origin.as_str())
        .execute_on(&unit)
        .await?;
        unit.commit().await?;
        let created = self.ticket(id).await?.ok_or_else(|| super::StoreError::Corrupt(format!("ticket {id} vanished")))?;
        Ok((created, true))
    }

    pub async fn ticket(&self, id: i64) -> StoreResult<Option<Ticket>> {
        let row = sqlx::query("SELECT * FROM tickets WHERE id = $1").bind(id).fetch_optional_on(self).await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn ticket_for_message(&self, platform: &str, message_id: &str) -> StoreResult<Option<Ticket>> {
        let row = sqlx::query("SELECT * FROM tickets WHERE platform = $1 AND question_message_id = $2")
            .bind(platform)
            .bind(message_id)
            .fetch_optional_on(self)
            .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    /// The ticket whose conversation a thread on `message_id` is: the ticket of that question,
    /// or the ticket it was linked to as a repeat.
    pub async fn ticket_for_thread(&self, platform: &str, message_id: &str) -> StoreResult<Option<Ticket>> {
        if let Some(ticket) = self.ticket_for_message(platform, message_id).await? {
            return Ok(Some(ticket));
        }
        let row = sqlx::query("SELECT t.* FROM ticket_links l JOIN tickets t ON t.id = l.ticket_id WHERE l.platform = $1 AND l.message_id = $2")
            .bind(platform)
            .bind(message_id)
            .fetch_optional_on(self)
            .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    /// Tickets with `status`, or every active (open or assigned) one; highest priority, then oldest, first.
    pub async fn tickets(&self, status: Option<Status>, limit: i64) -> StoreResult<Vec<Ticket>> {
        let rows = match status {
            Some(s) => {
                sqlx::query("SELECT * FROM tickets WHERE status = $1 ORDER BY id LIMIT $2").bind(s.as_str()).bind(limit).fetch_all_on(self).await?
            }
            None => {
                sqlx::query("SELECT * FROM tickets WHERE status IN ('open', 'assigned') ORDER BY id LIMIT $1").bind(limit).fetch_all_on(self).await?
            }
        };
        let mut list: Vec<Ticket> = rows.iter().map(ticket_from_row).collect::<StoreResult<_>>()?;
        list.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    /// The most recent active tickets, as (id, platform, question message id, question):
    /// the light rows the repeat-question check compares against (a ticket whose text was
    /// removed has nothing to compare).
    pub async fn active_ticket_questions(&self, limit: i64) -> StoreResult<Vec<(i64, String, Option<String>, String)>> {
        let rows = sqlx::query(
            "SELECT id, platform, question_message_id, question FROM tickets WHERE status IN ('open', 'assigned') AND redacted_at IS NULL \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all_on(self)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("platform")?, r.try_get("question_message_id")?, r.try_get("question")?))).collect()
    }

    /// Writes a change decided by `domain::ticket::apply` and its history line, in one unit of
    /// work, if the ticket still has the status the change was decided from. Returns the ticket
    /// as stored afterwards: unchanged when another change came first.
    pub async fn apply_transition(&self, change: &TicketChange) -> StoreResult<Ticket> {
        // The status guard makes a concurrent change by another moderator fail cleanly.
        let update = sqlx::query(
            "UPDATE tickets SET status = $2, assignee = $3, resolution = $4, updated_at = $5, first_response_at = $6, \
             resolved_at = $7, closed_at = $8 WHERE id = $1 AND status = $9",
        )
        .bind(change.ticket_id)
        .bind(change.status.as_str())
        .bind(&change.assignee)
        .bind(&change.resolution)
        .bind(ms(change.event.at))
        .bind(change.first_response_at.map(ms))
        .bind(change.resolved_at.map(ms))
        .bind(change.closed_at.map(ms))
        .bind(change.from.as_str());
        self.record_if_changed(update, change.ticket_id, &change.event).await?;
        self.ticket(change.ticket_id).await?.ok_or_else(|| super::StoreError::Corrupt(format!("ticket {} vanished", change.ticket_id)))
    }

    pub async fn ticket_events(&self, id: i64) -> StoreResult<Vec<TicketEvent>> {
        let rows = sqlx::query("SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY id").bind(id).fetch_all_on(self).await?;
        rows.iter().map(event).collect()
    }

    /// Links a repeated question to an existing ticket (and records it in the history).
    pub async fn link_to_ticket(&self, t: &Ticket, platform: &str, message_id: &str, actor: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let link = sqlx::query(
            "INSERT INTO ticket_links (ticket_id, platform, message_id, linked_at) VALUES ($1, $2, $3, $4) ON CONFLICT (platform, message_id) DO NOTHING",
        )
        .bind(t.id)
        .bind(platform)
        .bind(message_id)
        .bind(ms(now));
        let event = TicketEvent {
            at: now,
            actor: actor.into(),
            action: "link".into(),
            from_status: Some(t.status),
            to_status: t.status,
            note: Some(message_id.into()),
        };
        self.record_if_changed(link, t.id, &event).await
    }

    /// Writes a priority decided by `domain::ticket::raise_priority` and its history line, if the
    /// ticket still has the priority it was decided from.
    pub async fn raise_priority(&self, change: &PriorityChange) -> StoreResult<()> {
        // The guard on the old priority keeps two raises racing from both writing history.
        let update = sqlx::query("UPDATE tickets SET priority = $2, updated_at = $3 WHERE id = $1 AND priority = $4")
            .bind(change.ticket_id)
            .bind(change.to.as_str())
            .bind(ms(change.event.at))
            .bind(change.from.as_str());
        self.record_if_changed(update, change.ticket_id, &change.event).await
    }

    /// Runs `write` and, if it changed a row (a guard or a conflict may leave it none), the
    /// history line `event`: both in one unit of work.
    async fn record_if_changed<'q>(&self, write: Query<'q, Any, AnyArguments<'q>>, ticket_id: i64, event: &TicketEvent) -> StoreResult<()> {
        let unit = self.begin().await?;
        if write.execute_on(&unit).await?.rows_affected() == 1 {
            record_event(&unit, ticket_id, event, None).await?;
        }
        unit.commit().await
    }

    /// How many questions were linked to a ticket.
    pub async fn linked_count(&self, id: i64) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM ticket_links WHERE ticket_id = $1").bind(id).fetch_one_on(self).await?;
        Ok(row.try_get("n")?)
    }
}

impl Store {
    /// Every question linked to a ticket, oldest first: (message id, text).
    pub async fn linked_questions(&self, id: i64) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT m.id, m.text FROM ticket_links l JOIN messages m ON m.platform = l.platform AND m.id = l.message_id \
             WHERE l.ticket_id = $1 AND m.deleted = 0 ORDER BY l.linked_at, l.message_id",
        )
        .bind(id)
        .fetch_all_on(self)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("text")?))).collect()
    }

    /// The members whose repeats of a ticket's question were linked to it, on the ticket's own
    /// platform, one message each (their first), without the asker and the question itself.
    pub async fn linked_askers(&self, t: &Ticket) -> StoreResult<Vec<LinkedAsker>> {
        let rows = sqlx::query(
            "SELECT m.id, m.channel, m.user_id, m.user_name FROM ticket_links l JOIN messages m ON m.platform = l.platform AND m.id = l.message_id \
             WHERE l.ticket_id = $1 AND l.platform = $2 AND m.deleted = 0 AND m.user_id <> $3 AND m.id <> $4 ORDER BY l.linked_at, l.message_id",
        )
        .bind(t.id)
        .bind(&t.platform)
        .bind(&t.asker_id)
        .bind(t.question_message_id.as_deref().unwrap_or_default())
        .fetch_all_on(self)
        .await?;
        let mut seen = std::collections::HashSet::new();
        let mut askers = Vec::new();
        for r in &rows {
            let user: String = r.try_get("user_id")?;
            if seen.insert(user) {
                askers.push(LinkedAsker { message_id: r.try_get("id")?, channel: r.try_get("channel")?, name: r.try_get("user_name")? });
            }
        }
        Ok(askers)
    }

    /// A history line that changes nothing else ("learned" into an FAQ entry, say). `actor_id`:
    /// the writer's platform id when a person wrote it (None for the bot's own lines).
    pub async fn note_on_ticket(
        &self,
        t: &Ticket,
        actor: &str,
        actor_id: Option<&str>,
        action: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let event = TicketEvent {
            at: now,
            actor: actor.into(),
            action: action.into(),
            from_status: Some(t.status),
            to_status: t.status,
            note: Some(note.into()),
        };
        record_event(self, t.id, &event, actor_id).await
    }
}
