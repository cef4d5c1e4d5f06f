//! The console's pages: minijinja templates from `templates/`, embedded in the binary and
//! replaceable file by file from `[web] templates`. HTML-escaped by default: chat text is
//! untrusted, and nothing a member wrote can become markup.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value};
use std::path::Path;

/// The embedded pages, by file name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("link.html", include_str!("../../templates/link.html")),
    ("queue.html", include_str!("../../templates/queue.html")),
    ("ticket.html", include_str!("../../templates/ticket.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("faq.html", include_str!("../../templates/faq.html")),
    ("faq_entry.html", include_str!("../../templates/faq_entry.html")),
    ("digest.html", include_str!("../../templates/digest.html")),
    ("error.html", include_str!("../../templates/error.html")),
];

/// The style sheet, served at `/console/static/style.css` (or `style.css` in `[web] templates`).
pub const STYLE: &str = include_str!("../../templates/static/style.css");

pub struct Pages {
    env: Environment<'static>,
    pub style: String,
}

impl Pages {
    /// The embedded pages, each replaced by a file of the same name in `dir` when there is one.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Pages> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            let text = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading the console template {}: {e}", path.display()))?,
                None => source.to_string(),
            };
            env.add_template_owned(name.to_string(), text).map_err(|e| anyhow::anyhow!("the console template {name}: {e}"))?;
        }
        let style = match dir.map(|d| d.join("style.css")).filter(|p| p.is_file()) {
            Some(path) => std::fs::read_to_string(&path)?,
            None => STYLE.to_string(),
        };
        Ok(Pages { env, style })
    }

    /// Renders page `name`; a template that fails is logged and shown as a plain error.
    pub fn render(&self, name: &str, ctx: Value) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "rendering a console page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "this page could not be drawn (see the log)").into_response()
            }
        }
    }

    /// A page saying what went wrong, with its status.
    pub fn error(&self, status: StatusCode, message: &str) -> Response {
        let mut r = self.render("error.html", minijinja::context! { message => message, status => status.as_u16() });
        *r.status_mut() = status;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_compiles_and_user_text_is_escaped() {
        let pages = Pages::load(None).unwrap();
        let r = pages
            .env
            .get_template("error.html")
            .unwrap()
            .render(minijinja::context! { message => "<img src=x onerror=alert(1)>", status => 400 })
            .unwrap();
        assert!(r.contains("&lt;img src=x onerror=alert(1)&gt;"), "{r}");
        assert!(!r.contains("<img src=x"));
    }
}
