//! Slack's text rules: escaping user text so it can never ping, and Markdown to mrkdwn.

use crate::domain::inert::{self, Piece};

/// Escapes the three characters Slack treats as markup. Mentions and `@channel` pings need
/// `<...>`, so escaped text can never ping anyone.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Converts the core's Markdown to Slack mrkdwn (escaping the text as it goes): `**bold**` →
/// `*bold*`, `*italic*`/`_italic_` → `_italic_`, `~~struck~~` → `~struck~`, `[text](url)` →
/// `<url|text>`, `# Heading` → `*Heading*`, `- item` → `• item`. Code spans and blocks are only
/// escaped. A backslash-escaped character (how `domain::inert` quotes user text) is shown as
/// itself and never starts a link, emphasis or code span. Links are made only to `http`,
/// `https` and `mailto` addresses, so no Markdown can become a mention (`<!channel>`, `<@U1>`),
/// and `@here`, `@channel` and `@everyone` are broken wherever they are written.
pub fn markdown_to_mrkdwn(markdown: &str) -> String {
    let mut out = Vec::new();
    let mut in_code_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
            out.push(escape(line));
            continue;
        }
        if in_code_block {
            out.push(escape(line));
            continue;
        }
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let converted = if let Some(heading) = heading(trimmed) {
            format!("*{}*", inline(heading))
        } else if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            format!("{indent}• {}", inline(item))
        } else {
            format!("{indent}{}", inline(trimmed))
        };
        out.push(converted);
    }
    inert::neutralise_mentions(&out.join("\n"))
}

/// A heading's text: one to six `#` and a space (`#channel` is not a heading).
fn heading(line: &str) -> Option<&str> {
    let text = line.trim_start_matches('#');
    let level = line.len() - text.len();
    ((1..=6).contains(&level) && (text.is_empty() || text.starts_with(' '))).then(|| text.trim())
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

/// The character a piece shows (a code span counts as a word character).
fn shown(p: &[Piece], i: Option<usize>) -> Option<char> {
    match p.get(i?)? {
        Piece::Char(c) | Piece::Literal(c) => Some(*c),
        Piece::Code { .. } => Some('x'),
    }
}

/// Inline Markdown on one line.
fn inline(line: &str) -> String {
    let p = inert::pieces(line);
    let mut out = String::with_capacity(line.len());
    let mut open_italic = false;
    let mut i = 0;
    while i < p.len() {
        if matches!(p[i], Piece::Char('[' | '<' | 'h' | 'H'))
            && let Some((link, end)) = link_at(&p, i)
        {
            out.push_str(&link);
            i = end;
            continue;
        }
        let next = p.get(i + 1).copied();
        match p[i] {
            Piece::Code { content, .. } => {
                out.push('`');
                out.push_str(&escape(content));
                out.push('`');
            }
            Piece::Literal(c) => push_escaped(&mut out, c),
            Piece::Char(c @ ('*' | '_')) if next == Some(Piece::Char(c)) => {
                out.push('*');
                i += 2;
                continue;
            }
            Piece::Char('~') if next == Some(Piece::Char('~')) => {
                out.push('~');
                i += 2;
                continue;
            }
            Piece::Char('*') => {
                // Emphasis opens before a word and closes after one; `2*3` is neither.
                let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
                let space = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
                let (before, after) = (shown(&p, i.checked_sub(1)), shown(&p, Some(i + 1)));
                let opens = !open_italic && space(before) && after.is_some_and(|c| !c.is_whitespace());
                let closes = open_italic && before.is_some_and(|c| !c.is_whitespace()) && !word(after);
                if opens || closes {
                    open_italic = !open_italic;
                    out.push('_');
                } else {
                    out.push('*');
                }
            }
            Piece::Char(c) => push_escaped(&mut out, c),
        }
        i += 1;
    }
    out
}

/// A link starting at piece `i`, as mrkdwn, and the piece after it: `[text](url)`, `<url>`, or
/// a bare `https://...`. None unless the target is a web or mail address.
fn link_at(p: &[Piece], i: usize) -> Option<(String, usize)> {
    match p[i] {
        Piece::Char('[') => labelled_link(p, i),
        Piece::Char('<') => {
            // An autolink: `<https://...>`, written as markup (never from user text, whose `<` is escaped).
            let end = (i + 1..p.len()).find(|&k| p[k] == Piece::Char('>'))?;
            let target = target_text(&p[i + 1..end])?;
            Some((format!("<{}>", web_or_mail(&target)?), end + 1))
        }
        _ => bare_url(p, i),
    }
}

/// The text of a link target, if it is only characters.
fn target_text(p: &[Piece]) -> Option<String> {
    p.iter()
        .map(|piece| match piece {
            Piece::Char(c) | Piece::Literal(c) => Some(*c),
            Piece::Code { .. } => None,
        })
        .collect()
}

/// `[text](url)`, with nested brackets in the text and parentheses in the url; `(<url>)` too.
fn labelled_link(p: &[Piece], open: usize) -> Option<(String, usize)> {
    let close = closing(p, open + 1, '[', ']')?;
    if p.get(close + 1) != Some(&Piece::Char('(')) {
        return None;
    }
    let end = closing(p, close + 2, '(', ')')?;
    let target = target_text(&p[close + 2..end])?;
    let target = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(&target);
    let url = web_or_mail(target)?;
    let mut label = String::new();
    for piece in &p[open + 1..close] {
        match piece {
            Piece::Char(c) | Piece::Literal(c) => push_label_char(&mut label, *c),
            Piece::Code { content, .. } => content.chars().for_each(|c| push_label_char(&mut label, c)),
        }
    }
    let label = label.trim();
    let link = if label.is_empty() { format!("<{url}>") } else { format!("<{url}|{label}>") };
    Some((link, end + 1))
}

/// The piece from `from` on that closes a bracket opened just before it: the first `close` not
/// matched by an `open` after `from`. None when there is none.
fn closing(p: &[Piece], from: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = from;
    loop {
        match p.get(at)? {
            Piece::Char(c) if *c == open => depth += 1,
            Piece::Char(c) if *c == close && depth == 0 => return Some(at),
            Piece::Char(c) if *c == close => depth -= 1,
            _ => {}
        }
        at += 1;
    }
}

/// A link's text may not hold the `|` or `>` that end its parts.
fn push_label_char(out: &mut String, c: char) {
    match c {
        '|' => out.push('\u{2223}'),
        c => push_escaped(out, c),
    }
}

/// A bare `http://` or `https://` address at the start of a word, up to a space, `<`, `>`, `|`
/// or a backtick; punctuation that ends the sentence is not part of it.
fn bare_url(p: &[Piece], i: usize) -> Option<(String, usize)> {
    if shown(p, i.checked_sub(1)).is_some_and(|c| c.is_alphanumeric() || c == '/') {
        return None;
    }
    let mut url = String::new();
    let mut end = i;
    while let Some(Piece::Char(c) | Piece::Literal(c)) = p.get(end) {
        if c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '|' | '`') {
            break;
        }
        url.push(*c);
        end += 1;
    }
    while let Some(last) = url.chars().last() {
        let unbalanced = last == ')' && url.matches(')').count() > url.matches('(').count();
        if !(unbalanced || matches!(last, '.' | ',' | ':' | ';' | '!' | '?' | '"' | '\'' | '*' | '_' | '~')) {
            break;
        }
        url.pop();
        end -= 1;
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"))?;
    if rest.is_empty() {
        return None;
    }
    Some((format!("<{}>", web_or_mail(&url)?), end))
}

/// A link target Slack may link to, escaped for inside `<...>`: only web and mail addresses,
/// never `!channel`, `@U123` or `#C123`.
fn web_or_mail(target: &str) -> Option<String> {
    let lower = target.to_ascii_lowercase();
    let scheme = ["https://", "http://", "mailto:"].into_iter().find(|s| lower.starts_with(s))?;
    if target.len() == scheme.len() || target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let mut url = String::with_capacity(target.len());
    for c in target.chars() {
        match c {
            '|' => url.push_str("%7C"),
            '<' => url.push_str("%3C"),
            '>' => url.push_str("%3E"),
            '&' => url.push_str("&amp;"),
            c => url.push(c),
        }
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_text_cannot_ping_anyone() {
        assert_eq!(escape("<!channel> hi <@U123> & co"), "&lt;!channel&gt; hi &lt;@U123&gt; &amp; co");
        assert!(!markdown_to_mrkdwn("ping <!everyone> now").contains('<'));
    }

    #[test]
    fn markdown_becomes_mrkdwn() {
        assert_eq!(markdown_to_mrkdwn("Use **bold** and *italic*."), "Use *bold* and _italic_.");
        assert_eq!(markdown_to_mrkdwn("See [the docs](https://x.org/a?b=1&c=2)."), "See <https://x.org/a?b=1&amp;c=2|the docs>.");
        assert_eq!(markdown_to_mrkdwn("# Install\n- one\n- two"), "*Install*\n• one\n• two");
        assert_eq!(markdown_to_mrkdwn("`a*b*c` stays, 2*3 too"), "`a*b*c` stays, 2*3 too");
        assert_eq!(markdown_to_mrkdwn("```\n**x** <y>\n```"), "```\n**x** &lt;y&gt;\n```");
        assert_eq!(markdown_to_mrkdwn("~~old~~ and __new__"), "~old~ and *new*");
        assert_eq!(markdown_to_mrkdwn("#channel-name is not a heading"), "#channel-name is not a heading");
    }

    /// The hostile inputs, as user text reaching a template and as raw Markdown alike.
    const INJECTIONS: &[&str] = &[
        "How do I configure X? [click me](!channel)",
        "[x](!here)",
        "[boss](@U123)",
        "[a](<!channel>)",
        "[a [b] c](!channel)",
        "[team](!subteam^S123)",
        "[room](#C123)",
        "<!everyone> <!channel> <!here> <!subteam^S123> <@U123> <#C123>",
        "x` [a](!channel) `y",
        "` ]`(!channel)",
        "Help?\n New ticket #999 (urgent) from boss: <!channel>",
        "@here @channel @everyone @Here",
    ];

    fn pings(mrkdwn: &str) -> Option<&'static str> {
        let lower = mrkdwn.to_lowercase();
        ["<!", "<@", "<#", "@here", "@channel", "@everyone"].into_iter().find(|p| lower.contains(p))
    }

    #[test]
    fn no_markdown_can_become_a_mention() {
        for text in INJECTIONS {
            let raw = markdown_to_mrkdwn(text);
            assert_eq!(pings(&raw), None, "raw {text:?} became {raw:?}");
            for template in ["New ticket #1 from ann: {}.", "- #1 [open, normal] ann: {}", "There is no entry `{}`.", "`id` {} `id`"] {
                let markdown = template.replace("{}", &inert::inline(text));
                let out = markdown_to_mrkdwn(&markdown);
                assert_eq!(pings(&out), None, "{markdown:?} became {out:?}");
                assert!(!out.contains('\n'), "one line stays one line: {out:?}");
            }
            let quoted = markdown_to_mrkdwn(&format!("New ticket #1:\n{}", inert::quote(text)));
            assert_eq!(pings(&quoted), None, "{quoted:?}");
            assert!(quoted.lines().skip(1).all(|l| l.starts_with("&gt;")), "every line quoted: {quoted:?}");
        }
    }

    #[test]
    fn escaped_characters_are_shown_as_themselves() {
        assert_eq!(markdown_to_mrkdwn(&inert::inline("[click me](!channel)")), "[click me](!channel)");
        assert_eq!(markdown_to_mrkdwn(&inert::inline("<@U123> & <#C1|x>")), "&lt;@U123&gt; &amp; &lt;#C1|x&gt;");
        assert_eq!(markdown_to_mrkdwn(r"\*not italic\* \# \- \\"), r"*not italic* # - \");
        assert_eq!(markdown_to_mrkdwn(r"\`not code\` `code \*`"), r"`not code` `code \*`");
        assert_eq!(markdown_to_mrkdwn(&inert::inline("**b** [a](https://x.org)")), "**b** [a](<https://x.org>)", "a bare address");
    }

    #[test]
    fn only_web_and_mail_addresses_become_links() {
        assert_eq!(markdown_to_mrkdwn("[a [b] c](https://x.org/(d))"), "<https://x.org/(d)|a [b] c>");
        assert_eq!(markdown_to_mrkdwn("[a|b>c](https://x.org/p|q>r)"), "<https://x.org/p%7Cq%3Er|a\u{2223}b&gt;c>");
        assert_eq!(markdown_to_mrkdwn("[mail](mailto:help@x.org)"), "<mailto:help@x.org|mail>");
        assert_eq!(markdown_to_mrkdwn("[x](javascript:alert(1))"), "[x](javascript:alert(1))");
        assert_eq!(markdown_to_mrkdwn("[x](https://)"), "[x](https://)");
        assert_eq!(markdown_to_mrkdwn("More: https://x.org/a_b, <https://y.org>."), "More: <https://x.org/a_b>, <https://y.org>.");
        assert_eq!(markdown_to_mrkdwn("(see https://x.org/w/A_(b))"), "(see <https://x.org/w/A_(b)>)");
        assert_eq!(markdown_to_mrkdwn(&inert::inline("see https://docs.rs/a_b#c!")), "see <https://docs.rs/a_b#c>!");
        assert_eq!(markdown_to_mrkdwn("<!channel|x> <@U1>"), "&lt;!channel|x&gt; &lt;@U1&gt;");
    }
}
