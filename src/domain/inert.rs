//! Echoed user text made inert. The core's texts are Markdown, and they quote what members
//! wrote: these helpers turn that text into Markdown that shows it as written, so it can never
//! ping anyone (`@here`, `<!channel>`, `<@U123>`), never become a link, formatting or a code
//! span, and never start a line of its own that could pass for one of the bot's. `plain` turns
//! the core's Markdown back into what a terminal shows.

/// Put after the `@` of `@here`, `@channel` and `@everyone`: invisible, and no platform reads
/// the result as a mention.
pub const ZERO_WIDTH_SPACE: char = '\u{200B}';

/// Words that, after `@`, ping a whole channel or server.
const MASS_MENTIONS: &[&str] = &["here", "channel", "everyone"];

/// Markdown punctuation that means something to CommonMark, Discord or the Slack converter:
/// backslash-escaped in user text.
fn is_special(c: char) -> bool {
    matches!(c, '\\' | '`' | '*' | '_' | '~' | '|' | '<' | '>' | '#' | '[' | ']' | '(' | ')' | '!')
}

/// Inside a web address these stay as they are (`#fragment`, `a_b`, `(disambiguation)`), so a
/// pasted link still works where the platform links it; the rest are escaped even there.
fn url_keeps(c: char) -> bool {
    matches!(c, '_' | '*' | '~' | '#' | '(' | ')' | '!')
}

/// Line breaks as any platform might read them, not only `\n`.
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn mass_mention_at(chars: &[char], at: usize) -> bool {
    MASS_MENTIONS.iter().any(|word| word.chars().enumerate().all(|(k, w)| chars.get(at + k).is_some_and(|c| c.eq_ignore_ascii_case(&w))))
}

fn url_starts_at(chars: &[char], at: usize) -> bool {
    let before_ok = at == 0 || !chars[at - 1].is_alphanumeric();
    let ahead: String = chars[at..].iter().take(8).collect::<String>().to_ascii_lowercase();
    before_ok && (ahead.starts_with("http://") || ahead.starts_with("https://"))
}

/// `@here`, `@channel` and `@everyone` (any case) with a zero-width space after the `@`.
pub fn neutralise_mentions(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        if c == '@' && mass_mention_at(&chars, i + 1) {
            out.push(ZERO_WIDTH_SPACE);
        }
    }
    out
}

/// User text for the middle of a line: Markdown punctuation escaped, mass mentions broken,
/// line breaks made spaces.
pub fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_url = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if is_line_break(c) {
            if c == '\r' && chars.get(i) == Some(&'\n') {
                i += 1;
            }
            out.push(' ');
            in_url = false;
            continue;
        }
        if c.is_whitespace() {
            in_url = false;
        } else if !in_url && url_starts_at(&chars, i - 1) {
            in_url = true;
        }
        if is_special(c) && !(in_url && url_keeps(c)) {
            out.push('\\');
        }
        out.push(c);
        if c == '@' && mass_mention_at(&chars, i) {
            out.push(ZERO_WIDTH_SPACE);
        }
    }
    out
}

/// A list marker (`-`, `+`, `1.`, `2)`) or a setext underline (`=`) at the start of a line,
/// escaped so a quoted line stays a plain line.
fn escape_line_start(line: String) -> String {
    let body = line.trim_start();
    let lead = line.len() - body.len();
    let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let at = match body[digits..].chars().next() {
        Some('-' | '+' | '=') if digits == 0 => lead,
        Some('.' | ')') if digits > 0 => lead + digits,
        _ => return line,
    };
    let mut line = line;
    line.insert(at, '\\');
    line
}

/// User text as a block quote: `> ` on every one of its lines, so none of them can pass for a
/// line of the bot's own. Blank lines around it are dropped.
pub fn quote(text: &str) -> String {
    let normalised: String = text.replace("\r\n", "\n").chars().map(|c| if is_line_break(c) { '\n' } else { c }).collect();
    normalised
        .trim()
        .split('\n')
        .map(|line| match escape_line_start(inline(line)) {
            l if l.trim().is_empty() => ">".to_string(),
            l => format!("> {l}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// User text as a code span. Backslashes mean nothing inside one, so instead its backticks
/// become `'` (it cannot close the span) and its line breaks spaces.
pub fn code(text: &str) -> String {
    let inner: String = text
        .chars()
        .map(|c| {
            if c == '`' {
                '\''
            } else if is_line_break(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let inner = neutralise_mentions(&inner);
    if inner.trim().is_empty() { "` `".to_string() } else { format!("`{inner}`") }
}

/// One piece of a line of the core's Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A character that may be markup.
    Char(char),
    /// A backslash-escaped character, or a backtick that opens nothing: always itself.
    Literal(char),
    /// A code span: its backticks and, as written, what is between them.
    Code { fence: &'a str, content: &'a str },
}

/// Where the first run of exactly `n` backticks in `s` starts and ends.
fn closing_run(s: &str, n: usize) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(start) = s[i..].find('`').map(|k| i + k) {
        let run = s[start..].len() - s[start..].trim_start_matches('`').len();
        if run == n {
            return Some((start, start + run));
        }
        i = start + run;
    }
    None
}

/// A line split into characters, escaped characters and code spans (CommonMark's rules for
/// these three, on one line).
pub fn pieces(line: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while let Some(c) = line[i..].chars().next() {
        if c == '\\'
            && let Some(next) = line[i + 1..].chars().next().filter(char::is_ascii_punctuation)
        {
            out.push(Piece::Literal(next));
            i += 1 + next.len_utf8();
            continue;
        }
        if c == '`' {
            let run = line[i..].len() - line[i..].trim_start_matches('`').len();
            match closing_run(&line[i + run..], run) {
                Some((start, end)) => {
                    out.push(Piece::Code { fence: &line[i..i + run], content: &line[i + run..i + run + start] });
                    i += run + end;
                }
                None => {
                    out.extend(std::iter::repeat_n(Piece::Literal('`'), run));
                    i += run;
                }
            }
            continue;
        }
        out.push(Piece::Char(c));
        i += c.len_utf8();
    }
    out
}

/// The core's Markdown as a terminal should show it: escapes resolved (outside code, where
/// they are escapes), the zero-width spaces after `@` removed. Formatting is left as written.
pub fn plain(markdown: &str) -> String {
    let mut out = Vec::new();
    let mut in_code_block = false;
    for line in markdown.split('\n') {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
            out.push(line.to_string());
            continue;
        }
        if in_code_block {
            out.push(line.to_string());
            continue;
        }
        let mut shown = String::with_capacity(line.len());
        for piece in pieces(line) {
            match piece {
                Piece::Char(c) | Piece::Literal(c) => shown.push(c),
                Piece::Code { fence, content } => {
                    shown.push_str(fence);
                    shown.push_str(content);
                    shown.push_str(fence);
                }
            }
        }
        out.push(shown);
    }
    out.join("\n").replace(&format!("@{ZERO_WIDTH_SPACE}"), "@")
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: char = ZERO_WIDTH_SPACE;

    #[test]
    fn markdown_links_in_user_text_are_only_text() {
        let cases = [
            ("[click me](!channel)", r"\[click me\]\(\!channel\)"),
            ("[x](!here)", r"\[x\]\(\!here\)"),
            ("[boss](@U123)", r"\[boss\]\(@U123\)"),
            ("[a](<!channel>)", r"\[a\]\(\<\!channel\>\)"),
            ("[a [b] c](!channel)", r"\[a \[b\] c\]\(\!channel\)"),
            ("](!channel)", r"\]\(\!channel\)"),
        ];
        for (text, escaped) in cases {
            assert_eq!(inline(text), escaped, "{text}");
            assert_eq!(plain(&inline(text)), text, "shown as written: {text}");
        }
    }

    #[test]
    fn slack_and_discord_mention_syntax_is_escaped() {
        for text in ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S123>", "<@U123>", "<#C123>", "<@&42>", "<#C1|general>"] {
            let escaped = inline(text);
            assert!(escaped.starts_with("\\<") && escaped.ends_with("\\>"), "{text} → {escaped}");
            assert!(!pieces(&escaped).contains(&Piece::Char('<')), "no markup `<` is left in {escaped}");
            assert_eq!(plain(&escaped), text);
        }
    }

    #[test]
    fn mass_mentions_get_a_zero_width_space_after_the_at() {
        assert_eq!(inline("hey @here and @channel, @everyone!"), format!("hey @{Z}here and @{Z}channel, @{Z}everyone\\!"));
        assert_eq!(neutralise_mentions("@HERE @Everyone"), format!("@{Z}HERE @{Z}Everyone"));
        assert_eq!(neutralise_mentions("mail ann@example.org"), "mail ann@example.org", "other @s are left alone");
        assert_eq!(plain(&inline("@here")), "@here", "the terminal shows what was written");
    }

    #[test]
    fn a_backtick_in_user_text_cannot_open_or_close_a_code_span() {
        let attack = "x` [a](!channel) `y";
        let escaped = inline(attack);
        assert_eq!(escaped, r"x\` \[a\]\(\!channel\) \`y");
        assert!(pieces(&format!("`id` {escaped} `id`")).iter().filter(|p| matches!(p, Piece::Code { .. })).count() == 2);
        assert_eq!(code(attack), "`x' [a](!channel) 'y`");
        assert_eq!(pieces(&code(attack)).len(), 1, "one code span, closed where the template closes it");
        assert_eq!(code("a\nb @everyone"), format!("`a b @{Z}everyone`"));
    }

    #[test]
    fn a_line_break_in_user_text_cannot_start_a_line_of_its_own() {
        let forged = "Help?\n New ticket #999 (urgent) from boss";
        assert_eq!(inline(forged), r"Help?  New ticket \#999 \(urgent\) from boss");
        for text in ["a\r\nb", "a\rb", "a\u{2028}b", "a\u{85}b", "a\u{0B}b"] {
            assert!(!inline(text).contains(is_line_break), "{text:?}");
        }
    }

    #[test]
    fn a_quote_quotes_every_line() {
        let forged = "How do I configure X?\nNew ticket #999 (urgent) from boss in help:\n\n> fake\r\n- item\n2. two\n";
        assert_eq!(
            quote(forged),
            "> How do I configure X?\n> New ticket \\#999 \\(urgent\\) from boss in help:\n>\n> \\> fake\n> \\- item\n> 2\\. two"
        );
        assert_eq!(quote("one\u{2028}two"), "> one\n> two");
        for line in quote(forged).lines() {
            assert!(line.starts_with('>'), "{line}");
        }
    }

    #[test]
    fn web_addresses_in_user_text_keep_their_punctuation() {
        assert_eq!(inline("see https://docs.rs/a_b#c_d (here)"), r"see https://docs.rs/a_b#c_d \(here\)");
        assert_eq!(inline("https://x.org/a[1]|<b>"), r"https://x.org/a\[1\]\|\<b\>", "but never brackets, pipes or angles");
        assert_eq!(inline("xhttps://x_y"), r"xhttps://x\_y", "only at the start of a word");
    }

    #[test]
    fn plain_text_resolves_escapes_outside_code_only() {
        assert_eq!(plain(r"a \*b\* `c\*d` \\ e"), r"a *b* `c\*d` \ e");
        assert_eq!(plain("```\n\\*raw\\*\n```\n\\*x\\*"), "```\n\\*raw\\*\n```\n*x*");
        assert_eq!(plain(r"C:\Users\ann"), r"C:\Users\ann", "a backslash before a letter is a backslash");
        assert_eq!(plain("an ` alone"), "an ` alone");
    }

    #[test]
    fn code_spans_are_found_by_their_backtick_runs() {
        assert_eq!(pieces("a`b`"), vec![Piece::Char('a'), Piece::Code { fence: "`", content: "b" }]);
        assert_eq!(pieces("``a`b``"), vec![Piece::Code { fence: "``", content: "a`b" }]);
        assert_eq!(pieces(r"\`a`"), vec![Piece::Literal('`'), Piece::Char('a'), Piece::Literal('`')]);
    }
}
