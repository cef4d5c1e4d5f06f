//! The FAQ: every entry with how it has done (answers given, helpful and not), one entry with
//! the questions it answered lately and what it learned; add, edit and remove, each the chat
//! command it stands for.

use super::{done, frame, one_line, render, unavailable, when};
use crate::bot::web::Acted;
use crate::web::Console;
use crate::web::session::Moderator;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use serde::Deserialize;
use std::sync::Arc;

pub async fn list(State(console): State<Arc<Console>>, who: Moderator, headers: HeaderMap) -> Response {
    let rows = match console.bot.console_faq().await {
        Ok(r) => r,
        Err(e) => return unavailable(&console, &e),
    };
    let unanswered = match console.bot.console_unanswered(10).await {
        Ok(u) => u,
        Err(e) => return unavailable(&console, &e),
    };
    let unanswered: Vec<Value> =
        unanswered.iter().map(|h| context! { text => h.text, ticket_id => h.ticket_id, at => when(h.at), who => h.who }).collect();
    render(&console, "faq.html", context! { entries => Value::from_serialize(&rows), unanswered => unanswered, ..frame(&who, &headers, "faq") })
}

pub async fn entry(State(console): State<Arc<Console>>, who: Moderator, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let view = match console.bot.console_faq_entry(&id).await {
        Ok(Some(v)) => v,
        Ok(None) => return console.pages.error(StatusCode::NOT_FOUND, &format!("There is no FAQ entry {id:?}.")),
        Err(e) => return unavailable(&console, &e),
    };
    let recent: Vec<Value> = view
        .recent
        .iter()
        .map(|u| context! { text => u.text, who => u.who, at => when(u.at), confidence => u.confidence.map(|c| (c * 100.0).round() as i64) })
        .collect();
    let learned: Vec<Value> = view.learned.iter().enumerate().map(|(i, l)| context! { number => i + 1, text => l.text }).collect();
    let ctx = context! {
        entry => Value::from_serialize(&view.entry), answered => view.answered, helpful => view.helpful, not_helpful => view.not_helpful,
        recent => recent, learned => learned,
        alternatives => view.entry.alternatives.join("\n"), tags => view.entry.tags.join(", "), links => view.entry.links.join("\n"),
        ..frame(&who, &headers, "faq")
    };
    render(&console, "faq_entry.html", ctx)
}

#[derive(Debug, Default, Deserialize)]
pub struct FaqForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    form_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    alternatives: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    links: String,
    #[serde(default)]
    number: String,
}

/// A list field as the chat's `faq edit` takes it: comma-separated, one item a line here.
fn as_list(text: &str, separator: char) -> String {
    text.split(separator).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
}

/// Runs `line` as the moderator, the form's id keeping a double submit from acting twice.
async fn run(console: &Console, who: &Moderator, form_id: &str, line: &str) -> Result<String, Response> {
    let form_id = if form_id.trim().is_empty() { crate::web::token::new_token() } else { one_line(form_id) };
    match console.bot.act(&who.user, &who.user.platform, &form_id, line, console.now()).await {
        Ok(Acted::Done(said)) => Ok(said),
        Ok(Acted::Already) => Ok("That form was sent already; nothing was done twice.".into()),
        Err(e) => Err(unavailable(console, &e)),
    }
}

/// `faq add`, from the list page.
pub async fn add(State(console): State<Arc<Console>>, who: Moderator, Form(f): Form<FaqForm>) -> Response {
    if let Err(refused) = who.check_csrf(&f.csrf) {
        return refused;
    }
    let (id, question, answer) = (one_line(&f.id), one_line(&f.question), f.answer.trim().to_string());
    if id.is_empty() || question.is_empty() || answer.is_empty() {
        return done(&console, "/console/faq", "An entry needs an id, a question and an answer.");
    }
    if id.contains('|') || question.contains('|') {
        return done(&console, "/console/faq", "The id and the question cannot contain \"|\".");
    }
    match run(&console, &who, &f.form_id, &format!("faq add {id} | {question} | {answer}")).await {
        Ok(said) => done(&console, &format!("/console/faq/{}", url_path(&id)), &said),
        Err(r) => r,
    }
}

/// Saves an entry's changed fields (one `faq edit` each), removes it, or unlearns a phrasing.
pub async fn change(State(console): State<Arc<Console>>, who: Moderator, Path(id): Path<String>, Form(f): Form<FaqForm>) -> Response {
    if let Err(refused) = who.check_csrf(&f.csrf) {
        return refused;
    }
    let back = format!("/console/faq/{}", url_path(&id));
    let lines: Vec<String> = match f.action.as_str() {
        "remove" => vec![format!("faq remove {id}")],
        "unlearn" => match f.number.trim().parse::<usize>() {
            Ok(n) => vec![format!("faq unlearn {id} {n}")],
            Err(_) => return done(&console, &back, "Which learned phrasing? Its number is missing."),
        },
        "save" => {
            let current = match console.bot.console_faq_entry(&id).await {
                Ok(Some(v)) => v.entry,
                Ok(None) => return console.pages.error(StatusCode::NOT_FOUND, &format!("There is no FAQ entry {id:?}.")),
                Err(e) => return unavailable(&console, &e),
            };
            let wanted = [
                ("question", one_line(&f.question), current.question.clone()),
                ("answer", f.answer.trim().replace("\r\n", "\n"), current.answer.clone()),
                ("alternatives", as_list(&f.alternatives, '\n'), current.alternatives.join(", ")),
                ("tags", as_list(&f.tags, ','), current.tags.join(", ")),
                ("links", as_list(&f.links, '\n'), current.links.join(", ")),
            ];
            wanted.into_iter().filter(|(_, new, old)| new != old).map(|(field, new, _)| format!("faq edit {id} {field} {new}")).collect()
        }
        _ => return done(&console, &back, "That is no action this page knows."),
    };
    if lines.is_empty() {
        return done(&console, &back, "Nothing changed.");
    }
    let mut said = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match run(&console, &who, &format!("{}-{i}", f.form_id), line).await {
            Ok(s) => said.push(s),
            Err(r) => return r,
        }
    }
    let to = if f.action == "remove" { "/console/faq".to_string() } else { back };
    done(&console, &to, &said.join(" "))
}

fn url_path(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
