//! FAQ entries and their canonical TOML file format (`[[faq]]` tables).

use super::learning::{LearnedFrom, LearnedPhrasing};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use toml::Spanned;

/// One FAQ entry: a canonical question, other ways people ask it, and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaqEntry {
    pub id: String,
    pub question: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

impl FaqEntry {
    /// The question followed by every alternative phrasing.
    pub fn phrasings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.alternatives.iter().map(String::as_str))
    }
}

/// A problem in an FAQ file, located to the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct FaqFileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Why an id, question or answer is not acceptable (also used by the `faq add|edit` commands).
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err(format!("must be 1 to 64 characters (got {} characters)", id.len()));
    }
    if !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(format!("must match [a-z0-9-]+ (got {id:?})"));
    }
    Ok(())
}

fn validate_text(what: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    Ok(())
}

/// Checks an entry built outside a file (chat commands, `faq learn`).
pub fn validate_entry(entry: &FaqEntry) -> Result<(), String> {
    validate_id(&entry.id).map_err(|e| format!("id {e}"))?;
    validate_text("question", &entry.question)?;
    validate_text("answer", &entry.answer)
}

/// Turns free text into a candidate id: "How do I reset it?" -> "how-do-i-reset-it".
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).take(8) {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() { "entry".into() } else { slug.chars().take(60).collect() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Absent is an error, not an empty FAQ: a file of `[[entry]]` tables would import nothing.
    faq: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Spanned<String>,
    question: Spanned<String>,
    #[serde(default)]
    alternatives: Vec<Spanned<String>>,
    answer: Spanned<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    links: Vec<String>,
    /// `[[faq.learned]]`: what the entry learned from its community (`faq export --learned`).
    #[serde(default)]
    learned: Vec<LearnedInFile>,
}

/// A learned phrasing as the FAQ file holds it, under its entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LearnedInFile {
    text: String,
    from: LearnedFrom,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    confirmed_by: String,
    learned_at: chrono::DateTime<chrono::Utc>,
}

/// An FAQ file: its entries, and the phrasings they learned when it was exported with them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaqFile {
    pub entries: Vec<FaqEntry>,
    pub learned: Vec<LearnedPhrasing>,
}

fn line_of(source: &str, span: Range<usize>) -> usize {
    source[..span.start.min(source.len())].matches('\n').count() + 1
}

/// Parses an FAQ file's entries. `file` names it in errors; every error carries its line.
pub fn parse_faq_file(file: &str, source: &str) -> Result<Vec<FaqEntry>, FaqFileError> {
    parse_faq_document(file, source).map(|f| f.entries)
}

/// Parses an FAQ file with the learned phrasings it may hold.
pub fn parse_faq_document(file: &str, source: &str) -> Result<FaqFile, FaqFileError> {
    let err = |span: Range<usize>, message: String| FaqFileError { file: file.to_string(), line: line_of(source, span), message };
    let raw: RawFile = toml::from_str(source).map_err(|e| {
        let message = e.message().trim().to_string();
        err(e.span().unwrap_or(0..0), message)
    })?;
    let Some(raw_entries) = raw.faq else {
        return Err(err(0..0, "no FAQ entries: each entry starts with a `[[faq]]` line (an empty FAQ is `faq = []`)".into()));
    };
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut entries = Vec::with_capacity(raw_entries.len());
    let mut learned = Vec::new();
    for r in raw_entries {
        validate_id(r.id.get_ref()).map_err(|m| err(r.id.span(), format!("field `id` {m}")))?;
        let line = line_of(source, r.id.span());
        if let Some(first) = seen.insert(r.id.get_ref().clone(), line) {
            return Err(err(r.id.span(), format!("field `id`: {:?} is already used on line {first}", r.id.get_ref())));
        }
        validate_text("field `question`", r.question.get_ref()).map_err(|m| err(r.question.span(), m))?;
        validate_text("field `answer`", r.answer.get_ref()).map_err(|m| err(r.answer.span(), m))?;
        for alt in &r.alternatives {
            validate_text("every entry of field `alternatives`", alt.get_ref()).map_err(|m| err(alt.span(), m))?;
        }
        let id = r.id.into_inner();
        for l in r.learned {
            validate_text("a learned phrasing's `text`", &l.text).map_err(|m| err(0..0, format!("entry {id:?}: {m}")))?;
            learned.push(LearnedPhrasing {
                faq_id: id.clone(),
                text: l.text,
                from: l.from,
                message: l.message,
                confirmed_by: l.confirmed_by,
                learned_at: l.learned_at,
            });
        }
        entries.push(FaqEntry {
            id,
            question: r.question.into_inner(),
            alternatives: r.alternatives.into_iter().map(Spanned::into_inner).collect(),
            answer: r.answer.into_inner(),
            tags: r.tags,
            links: r.links,
        });
    }
    Ok(FaqFile { entries, learned })
}

/// Writes entries in the same format [`parse_faq_file`] reads.
pub fn render_faq_file(entries: &[FaqEntry]) -> String {
    render_faq_document(entries, &[])
}

/// Writes entries with their learned phrasings, each under its entry as `[[faq.learned]]`.
pub fn render_faq_document(entries: &[FaqEntry], learned: &[LearnedPhrasing]) -> String {
    #[derive(Serialize)]
    struct Entry<'a> {
        #[serde(flatten)]
        entry: &'a FaqEntry,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        learned: Vec<LearnedInFile>,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        faq: Vec<Entry<'a>>,
    }
    let faq = entries
        .iter()
        .map(|entry| Entry {
            entry,
            learned: (learned.iter().filter(|l| l.faq_id == entry.id))
                .map(|l| LearnedInFile {
                    text: l.text.clone(),
                    from: l.from,
                    message: l.message.clone(),
                    confirmed_by: l.confirmed_by.clone(),
                    learned_at: l.learned_at,
                })
                .collect(),
        })
        .collect();
    toml::to_string_pretty(&Out { faq }).expect("FAQ entries are plain strings and always serialize")
}

/// How an import changed the stored FAQ.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Learned phrasings the file brought that the store did not count yet.
    pub learned: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[faq]]
id = "reset-password"
question = "How do I reset my password?"
alternatives = ["forgot my password", "locked out of my account"]
answer = """Go to *Settings*.

Then press "Reset"."""
tags = ["account"]
links = ["https://example.org/docs/account"]

[[faq]]
id = "install"
question = "How do I install it?"
answer = "cargo install"
"#;

    #[test]
    fn a_valid_file_parses_every_field() {
        let entries = parse_faq_file("faq.toml", GOOD).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].alternatives.len(), 2);
        assert_eq!(entries[0].tags, vec!["account"]);
        assert!(entries[1].links.is_empty());
    }

    #[test]
    fn learned_phrasings_go_out_under_their_entry_and_come_back_with_their_provenance() {
        let entries = parse_faq_file("faq.toml", GOOD).unwrap();
        let learned = vec![LearnedPhrasing {
            faq_id: "install".into(),
            text: "cargo says \"no such command\"".into(),
            from: LearnedFrom::Ticket,
            message: Some("slack:1733.44".into()),
            confirmed_by: "mia".into(),
            learned_at: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 10, 0, 0).unwrap(),
        }];
        let text = render_faq_document(&entries, &learned);
        assert!(text.contains("[[faq.learned]]"), "{text}");
        let again = parse_faq_document("export.toml", &text).unwrap();
        assert_eq!(again, FaqFile { entries: entries.clone(), learned });
        assert!(!render_faq_file(&entries).contains("learned"), "a plain export has only the hand-written FAQ");
    }

    #[test]
    fn export_then_import_loses_nothing() {
        let entries = parse_faq_file("faq.toml", GOOD).unwrap();
        let again = parse_faq_file("export.toml", &render_faq_file(&entries)).unwrap();
        assert_eq!(entries, again);
    }

    /// Parses `src` as `my.toml`, which must fail at `line` with a message that says `says`.
    fn fails_at(src: &str, line: usize, says: &str) {
        let e = parse_faq_file("my.toml", src).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("my.toml", line), "{e}");
        assert!(e.message.contains(says), "{e}");
    }

    #[test]
    fn a_bad_id_names_file_line_and_field() {
        fails_at("[[faq]]\nid = \"Reset Password\"\nquestion = \"q\"\nanswer = \"a\"\n", 2, "`id`");
    }

    #[test]
    fn a_missing_answer_is_reported_with_its_line() {
        fails_at("[[faq]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"x\"\n[[faq]]\nid = \"b\"\nquestion = \"q\"\n", 5, "answer");
    }

    #[test]
    fn an_empty_answer_names_the_field() {
        fails_at("[[faq]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"  \"\n", 4, "`answer`");
    }

    #[test]
    fn duplicate_ids_point_at_the_first_use() {
        let src = "[[faq]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"x\"\n[[faq]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"x\"\n";
        fails_at(src, 6, "line 2");
    }

    #[test]
    fn unknown_fields_and_syntax_errors_are_located() {
        let e = parse_faq_file("f.toml", "[[faq]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"x\"\nanwser = \"typo\"\n").unwrap_err();
        assert!(e.message.contains("anwser"), "{e}");
        let e = parse_faq_file("f.toml", "[[faq]]\nid = \"a\nquestion = 1\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn a_file_of_other_tables_is_an_error_not_an_empty_faq() {
        let e = parse_faq_file("f.toml", "[[entry]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"x\"\n").unwrap_err();
        assert!(e.message.contains("`entry`") && e.message.contains("`faq`"), "{e}");
        assert_eq!(e.line, 1, "{e}");
        let e = parse_faq_file("f.toml", "# nothing yet\n").unwrap_err();
        assert!(e.message.contains("[[faq]]"), "{e}");
        assert!(parse_faq_file("f.toml", "faq = []\n").unwrap().is_empty());
    }

    #[test]
    fn slugs_are_valid_ids() {
        assert_eq!(slugify("How do I reset it?"), "how-do-i-reset-it");
        assert!(validate_id(&slugify("¿¿??")).is_ok());
    }
}
