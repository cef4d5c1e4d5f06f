//! One ticket: its question, the thread around it, every answer, vote, note and change with
//! who and when, and the moderators' actions, each the chat command it stands for.

use super::{done, frame, one_line, render, unavailable, waited, when};
use crate::bot::web::Acted;
use crate::domain::ticket::Priority;
use crate::web::Console;
use crate::web::session::Moderator;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use std::sync::Arc;

pub async fn page(State(console): State<Arc<Console>>, who: Moderator, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let now = console.now();
    let view = match console.bot.console_ticket(id, now).await {
        Ok(Some(v)) => v,
        Ok(None) => return console.pages.error(StatusCode::NOT_FOUND, &format!("There is no ticket #{id}.")),
        Err(e) => return unavailable(&console, &e),
    };
    let t = &view.ticket;
    let events: Vec<Value> = view
        .events
        .iter()
        .map(|e| {
            context! {
                at => when(e.at), actor => e.actor, action => e.action, from_status => e.from_status, to_status => e.to_status,
                note => e.note, internal => e.action == "note", thread => matches!(e.action.as_str(), "message" | "reply"),
            }
        })
        .collect();
    let votes: Vec<Value> = view
        .votes
        .iter()
        .map(|(who, helpful, comment, at)| context! { who => who, helpful => helpful, comment => comment, at => when(*at) })
        .collect();
    let linked: Vec<Value> = view.linked.iter().map(|(id, text)| context! { id => id, text => text }).collect();
    let answer = view.answer.as_ref().map(|(faq, conf)| context! { faq_id => faq, confidence => conf.map(|c| (c * 100.0).round() as i64) });
    let ctx = context! {
        ticket => Value::from_serialize(t), opened => when(t.created_at), waited => waited(now - t.created_at),
        resolved_at => t.resolved_at.map(when), closed_at => t.closed_at.map(when), first_response_at => t.first_response_at.map(when),
        events => events, votes => votes, linked => linked, answer => answer, issue => Value::from_serialize(&view.issue), sla => view.sla,
        active => t.status.is_active(), priorities => ["low", "normal", "high", "urgent"],
        ..frame(&who, &headers, "queue")
    };
    render(&console, "ticket.html", ctx)
}

/// A ticket form: which action, and its fields.
#[derive(Debug, Default, Deserialize)]
pub struct TicketForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    form_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    faq_id: String,
}

/// The chat command a ticket form stands for, or why it cannot be one.
pub fn command_for(id: i64, f: &TicketForm) -> Result<String, &'static str> {
    let text = f.text.trim();
    Ok(match f.action.as_str() {
        "assign_me" => format!("ticket assign {id} me"),
        "assign" => match one_line(&f.user) {
            u if u.is_empty() => return Err("Say whom to assign the ticket to."),
            u => format!("ticket assign {id} {u}"),
        },
        "priority" => match f.priority.parse::<Priority>() {
            Ok(p) => format!("ticket priority {id} {}", p.as_str()),
            Err(_) => return Err("Choose a priority: low, normal, high or urgent."),
        },
        "resolve" => format!("ticket resolve {id} {text}").trim_end().to_string(),
        "close" => format!("ticket close {id}"),
        "reopen" => format!("ticket reopen {id}"),
        "not_a_question" => format!("not-a-question #{id}"),
        "learn" => format!("faq learn {id} {}", one_line(&f.faq_id)).trim_end().to_string(),
        "note" if text.is_empty() => return Err("Write the note first."),
        "note" => format!("ticket note {id} {text}"),
        _ => return Err("That is no action this page knows."),
    })
}

pub async fn act(State(console): State<Arc<Console>>, who: Moderator, Path(id): Path<i64>, Form(f): Form<TicketForm>) -> Response {
    if let Err(refused) = who.check_csrf(&f.csrf) {
        return refused;
    }
    let back = format!("/console/tickets/{id}");
    let line = match command_for(id, &f) {
        Ok(line) => line,
        Err(why) => return done(&console, &back, why),
    };
    let platform = match console.bot.console_ticket(id, console.now()).await {
        Ok(Some(v)) => v.ticket.platform,
        Ok(None) => return console.pages.error(StatusCode::NOT_FOUND, &format!("There is no ticket #{id}.")),
        Err(e) => return unavailable(&console, &e),
    };
    let form_id = if f.form_id.trim().is_empty() { crate::web::token::new_token() } else { one_line(&f.form_id) };
    match console.bot.act(&who.user, &platform, &form_id, &line, console.now()).await {
        Ok(Acted::Done(said)) => {
            tracing::info!(ticket = id, user = %who.user.user_id, action = %f.action, "console action");
            done(&console, &back, &said)
        }
        Ok(Acted::Already) => done(&console, &back, "That form was sent already; nothing was done twice."),
        Err(e) => unavailable(&console, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(action: &str) -> TicketForm {
        TicketForm { action: action.into(), ..Default::default() }
    }

    #[test]
    fn each_form_is_the_chat_command_it_stands_for() {
        assert_eq!(command_for(7, &form("assign_me")).unwrap(), "ticket assign 7 me");
        let f = TicketForm { user: "bob\nfaq remove everything".into(), ..form("assign") };
        assert_eq!(command_for(7, &f).unwrap(), "ticket assign 7 bob", "one line only");
        assert!(command_for(7, &form("assign")).is_err());
        let f = TicketForm { priority: "urgent".into(), ..form("priority") };
        assert_eq!(command_for(7, &f).unwrap(), "ticket priority 7 urgent");
        assert!(command_for(7, &TicketForm { priority: "p0".into(), ..form("priority") }).is_err());
        let f = TicketForm { text: "  restart with --fresh  ".into(), ..form("resolve") };
        assert_eq!(command_for(7, &f).unwrap(), "ticket resolve 7 restart with --fresh");
        assert_eq!(command_for(7, &form("resolve")).unwrap(), "ticket resolve 7");
        assert_eq!(command_for(7, &form("not_a_question")).unwrap(), "not-a-question #7");
        assert_eq!(command_for(7, &TicketForm { faq_id: "db-locked".into(), ..form("learn") }).unwrap(), "faq learn 7 db-locked");
        assert!(command_for(7, &form("note")).is_err());
        assert!(command_for(7, &form("drop table")).is_err());
    }
}
