//! Slack's text rules: escaping user text so it can never ping, and Markdown to mrkdwn.

/// Escapes the three characters Slack treats as markup. Mentions and `@channel` pings need
/// `<...>`, so escaped text can never ping anyone.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Converts the FAQ's Markdown to Slack mrkdwn (escaping the text first): `**bold**` → `*bold*`,
/// `*italic*`/`_italic_` → `_italic_`, `[text](url)` → `<url|text>`, `# Heading` → `*Heading*`,
/// `- item` → `• item`. Code spans and blocks are left alone.
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
        let converted = if let Some(heading) = trimmed.strip_prefix('#').map(|h| h.trim_start_matches('#').trim()) {
            format!("*{}*", inline(heading))
        } else if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            format!("{indent}• {}", inline(item))
        } else {
            format!("{indent}{}", inline(trimmed))
        };
        out.push(converted);
    }
    out.join("\n")
}

/// Inline Markdown on one line, outside code spans.
fn inline(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(&escape(part)); // inside a code span
        } else {
            out.push_str(&links(&emphasis(&escape(part))));
        }
    }
    out
}

/// `**x**`/`__x__` → `*x*` and `*x*` → `_x_`, using a placeholder so bold is not re-read as italic.
fn emphasis(text: &str) -> String {
    const BOLD: char = '\u{1}';
    let text = text.replace("**", &BOLD.to_string()).replace("__", &BOLD.to_string());
    let mut out = String::with_capacity(text.len());
    let mut open_italic = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            BOLD => out.push('*'),
            '*' => {
                // Emphasis opens before a word and closes after one; `2*3` is neither.
                let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
                let space = |c: Option<&char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
                let (before, after) = (i.checked_sub(1).and_then(|j| chars.get(j)), chars.get(i + 1));
                let opens = !open_italic && space(before) && after.is_some_and(|c| !c.is_whitespace());
                let closes = open_italic && before.is_some_and(|c| !c.is_whitespace()) && !word(after);
                if opens || closes {
                    open_italic = !open_italic;
                    out.push('_');
                } else {
                    out.push('*');
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `[text](url)` → `<url|text>`.
fn links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else { break };
        let Some(end) = rest[close + 2..].find(')').map(|e| close + 2 + e) else { break };
        let (label, url) = (&rest[open + 1..close], &rest[close + 2..end]);
        if url.contains(char::is_whitespace) || url.is_empty() {
            out.push_str(&rest[..end + 1]);
        } else {
            out.push_str(&rest[..open]);
            out.push_str(&format!("<{url}|{label}>"));
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
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
    }
}
