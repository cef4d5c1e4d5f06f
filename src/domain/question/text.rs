//! Text to clauses to tokens: strip code, URLs and mentions, split at sentence punctuation
//! (remembering which clause asked with `?`), then lowercase words with chat spellings mapped and
//! contractions expanded.

use super::MAX_CLAUSE_TOKENS;
use super::tokens::has;
use super::words::{CHAT_SPELLINGS, IS_CONTRACTIBLE};

/// Drop code, URLs and mentions; keep line breaks (they end clauses).
pub(super) fn clean(text: &str) -> String {
    strip_code(text)
        .split('\n')
        .map(|line| line.split_whitespace().filter(|w| !is_markup_word(w)).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Remove ```fenced``` and `inline` code; an unpaired fence is kept as text.
fn strip_code(text: &str) -> String {
    let mut text = text.to_string();
    for fence in ["```", "`"] {
        let parts: Vec<&str> = text.split(fence).collect();
        let mut kept = String::with_capacity(text.len());
        for (i, part) in parts.iter().enumerate() {
            if i % 2 == 0 {
                kept.push_str(part);
            } else if i + 1 < parts.len() {
                kept.push(' ');
            } else {
                kept.push_str(fence);
                kept.push_str(part);
            }
        }
        text = kept;
    }
    text
}

/// A whitespace-delimited word that is a URL, an @mention or a `<@chat-markup>` tag.
fn is_markup_word(word: &str) -> bool {
    let w = word.to_lowercase();
    if w.contains("://") || w.starts_with("www.") {
        return true;
    }
    if w.starts_with('@') && w.chars().count() > 1 {
        return true;
    }
    w.starts_with('<')
        && w.contains('>')
        && (matches!(w.chars().nth(1), Some('@' | '#' | '!' | ':')) || w.starts_with("<a:") || w.starts_with("<http"))
}

/// Characters that end a clause.
const CLAUSE_BREAKS: &[char] = &['.', '!', '?', ';', ':', ',', '\n', '(', ')', '[', ']', '"', '\u{2026}'];

/// Split at sentence punctuation; returns `(clause, asked)`, asked = ended with '?'.
/// '.', ',' and ':' between two alphanumerics ("config.toml", "1,000") do not split.
pub(super) fn split_clauses(text: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut clauses = Vec::new();
    let mut cur = String::new();
    let mut asked = false;
    let mut in_break = false;
    for (i, &c) in chars.iter().enumerate() {
        let mut is_break = CLAUSE_BREAKS.contains(&c);
        if is_break
            && matches!(c, '.' | ',' | ':')
            && i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_alphanumeric()
            && chars[i + 1].is_alphanumeric()
        {
            is_break = false;
        }
        if is_break {
            asked = asked || c == '?';
            in_break = true;
            continue;
        }
        if in_break {
            clauses.push((std::mem::take(&mut cur), asked));
            asked = false;
            in_break = false;
        }
        cur.push(c);
    }
    clauses.push((cur, asked));
    clauses
}

/// Tokens of one clause, capped so that pathological input stays cheap.
pub(super) fn clause_tokens(text: &str) -> Vec<String> {
    let mut toks = tokenise(text);
    toks.truncate(MAX_CLAUSE_TOKENS);
    toks
}

/// Lowercase, split on anything but letters, digits and apostrophes, then normalise.
pub(super) fn tokenise(text: &str) -> Vec<String> {
    raw_words(text).iter().flat_map(|w| normalise(w)).collect()
}

fn raw_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        let c = if c == '\u{2019}' || c == '\u{2018}' { '\'' } else { c };
        if c.is_alphanumeric() || c == '\'' {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => cur.push(l),
                _ => cur.push(c),
            }
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Map a chat spelling ("u", "plz", "dont") and expand contractions ("don't" -> "do not").
fn normalise(word: &str) -> Vec<String> {
    let word = word.trim_matches('\'');
    if word.is_empty() {
        return Vec::new();
    }
    let mapped = CHAT_SPELLINGS.iter().find(|(from, _)| *from == word).map(|(_, to)| *to);
    mapped.unwrap_or(word).split(' ').flat_map(expand_contraction).filter(|p| !p.is_empty()).collect()
}

fn expand_contraction(word: &str) -> Vec<String> {
    let pair = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
    match word {
        "can't" => return pair("can", "not"),
        "won't" => return pair("will", "not"),
        "shan't" => return pair("shall", "not"),
        "let's" => return pair("let", "us"),
        _ => {}
    }
    if let Some(base) = word.strip_suffix("n't").filter(|b| !b.is_empty()) {
        return pair(base, "not");
    }
    let suffixes = [("'m", "am"), ("'re", "are"), ("'ve", "have"), ("'ll", "will"), ("'d", "would")];
    for (suffix, full) in suffixes {
        if let Some(base) = word.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            return pair(base, full);
        }
    }
    if let Some(base) = word.strip_suffix("'s").filter(|b| !b.is_empty()) {
        return if has(IS_CONTRACTIBLE, base) { pair(base, "is") } else { vec![base.to_string()] };
    }
    vec![word.to_string()]
}
