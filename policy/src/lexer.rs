//! Text → tokens. Comments are tokens too (the formatter keeps them); whitespace is not, but
//! each token knows whether a line break or a blank line came before it.

use crate::diagnostic::Span;

/// The kinds of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!`
    Not,
    /// `->`
    Arrow,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// A double-quoted string (straight or typographic quotes).
    Str,
    /// `[name]`, a template reference.
    Template,
    /// A bare word: an FQN, a claim, a number with a unit, a keyword.
    Word,
    /// `// …` to the end of the line.
    Comment,
    /// Something that is none of the above.
    Unknown,
    /// The end of the text.
    Eof,
}

/// A token: its kind, its place, and what came before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) span: Span,
    /// A line break lies between the previous token and this one.
    pub(crate) newline_before: bool,
    /// An empty line lies between the previous token and this one.
    pub(crate) blank_before: bool,
}

/// Something the lexer noticed on the way (reported by the parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LexNote {
    /// A string opened with a typographic quote.
    TypographicQuotes(Span),
    /// A string with no closing quote.
    UnterminatedString(Span),
    /// A `\` escape that is not one of `\" \\ \n \t \r \/ \uXXXX`.
    BadEscape(Span),
}

/// For each byte: [`WORD`] if it is a word byte, plus [`PLAIN`] if it is an ASCII word byte
/// other than `-`, which continues a word whatever follows (`-` may start `->`).
const BYTE_CLASS: [u8; 256] = byte_classes();
const WORD: u8 = 1;
const PLAIN: u8 = 2;

const fn byte_classes() -> [u8; 256] {
    let mut classes = [0u8; 256];
    let mut rest: &mut [u8] = &mut classes;
    let mut byte = 0u8;
    while let [class, tail @ ..] = rest {
        if classify_word_byte(byte) {
            *class = if byte < 0x80 && byte != b'-' {
                WORD | PLAIN
            } else {
                WORD
            };
        }
        byte = byte.wrapping_add(1);
        rest = tail;
    }
    classes
}

fn class(b: u8) -> u8 {
    BYTE_CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

fn is_word_byte(b: u8) -> bool {
    class(b) & WORD != 0
}

/// An ASCII word byte other than `-`: it continues a word whatever follows (`[` is no word
/// byte).
fn is_plain_word_byte(b: u8) -> bool {
    class(b) & PLAIN != 0
}

const fn classify_word_byte(b: u8) -> bool {
    !matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b'{'
            | b'}'
            | b'('
            | b')'
            | b'['
            | b']'
            | b','
            | b';'
            | b'"'
            | b'!'
            | b'='
            | b'&'
            | b'|'
            | b'<'
            | b'>'
    ) && b >= 0x20
        && b != 0x7f
}

const LEFT_QUOTE: &str = "\u{201c}";
const RIGHT_QUOTE: &str = "\u{201d}";
/// The first byte of both typographic quotes in UTF-8.
const QUOTE_LEAD: u8 = 0xe2;

/// Splits `text` into tokens; always ends with one `Eof`.
#[cfg(test)]
pub(crate) fn lex(text: &str) -> (Vec<Token>, Vec<LexNote>) {
    lex_from(text, 0)
}

/// Splits `text` from byte `from` on into tokens, with places in `text`; always ends with one
/// `Eof`.
pub(crate) fn lex_from(text: &str, from: usize) -> (Vec<Token>, Vec<LexNote>) {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len().saturating_sub(from) / 4);
    let mut notes = Vec::new();
    let mut i = from;
    let mut newlines = 0usize;
    let push = |tokens: &mut Vec<Token>, kind, start, end, newlines: &mut usize| {
        tokens.push(Token {
            kind,
            span: Span::new(start, end),
            newline_before: *newlines > 0,
            blank_before: *newlines > 1,
        });
        *newlines = 0;
    };
    while let Some(&b) = bytes.get(i) {
        let start = i;
        match b {
            b'\n' => {
                newlines += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r')) {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = memchr_newline(bytes, i);
                push(&mut tokens, Kind::Comment, start, end, &mut newlines);
                i = end;
            }
            b'{' => {
                push(&mut tokens, Kind::LBrace, start, i + 1, &mut newlines);
                i += 1;
            }
            b'}' => {
                push(&mut tokens, Kind::RBrace, start, i + 1, &mut newlines);
                i += 1;
            }
            b'(' => {
                push(&mut tokens, Kind::LParen, start, i + 1, &mut newlines);
                i += 1;
            }
            b')' => {
                push(&mut tokens, Kind::RParen, start, i + 1, &mut newlines);
                i += 1;
            }
            b',' => {
                push(&mut tokens, Kind::Comma, start, i + 1, &mut newlines);
                i += 1;
            }
            b';' => {
                push(&mut tokens, Kind::Semi, start, i + 1, &mut newlines);
                i += 1;
            }
            b'&' if bytes.get(i + 1) == Some(&b'&') => {
                push(&mut tokens, Kind::And, start, i + 2, &mut newlines);
                i += 2;
            }
            b'|' if bytes.get(i + 1) == Some(&b'|') => {
                push(&mut tokens, Kind::Or, start, i + 2, &mut newlines);
                i += 2;
            }
            b'=' if bytes.get(i + 1) == Some(&b'=') => {
                push(&mut tokens, Kind::EqEq, start, i + 2, &mut newlines);
                i += 2;
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                push(&mut tokens, Kind::NotEq, start, i + 2, &mut newlines);
                i += 2;
            }
            b'!' => {
                push(&mut tokens, Kind::Not, start, i + 1, &mut newlines);
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                push(&mut tokens, Kind::Arrow, start, i + 2, &mut newlines);
                i += 2;
            }
            b'"' => {
                let end = lex_string(text, i, 1, "\"", &mut notes);
                push(&mut tokens, Kind::Str, start, end, &mut newlines);
                i = end;
            }
            b'[' => {
                // `[name]`: a template, when a word and `]` follow at once.
                let mut j = i + 1;
                while bytes.get(j).is_some_and(|&c| {
                    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
                }) {
                    j += 1;
                }
                if j > i + 1 && bytes.get(j) == Some(&b']') {
                    push(&mut tokens, Kind::Template, start, j + 1, &mut newlines);
                    i = j + 1;
                } else {
                    push(&mut tokens, Kind::Unknown, start, i + 1, &mut newlines);
                    i += 1;
                }
            }
            QUOTE_LEAD
                if text
                    .get(i..)
                    .is_some_and(|s| s.starts_with(LEFT_QUOTE) || s.starts_with(RIGHT_QUOTE)) =>
            {
                notes.push(LexNote::TypographicQuotes(Span::new(i, i + 3)));
                let end = lex_string(text, i, 3, RIGHT_QUOTE, &mut notes);
                push(&mut tokens, Kind::Str, start, end, &mut newlines);
                i = end;
            }
            _ if is_word_byte(b) => {
                let end = word_end(bytes, i);
                push(&mut tokens, Kind::Word, start, end, &mut newlines);
                i = end;
            }
            _ => {
                let len = text
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                push(&mut tokens, Kind::Unknown, start, i + len, &mut newlines);
                i += len;
            }
        }
    }
    push(
        &mut tokens,
        Kind::Eof,
        text.len(),
        text.len(),
        &mut newlines,
    );
    (tokens, notes)
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        .map_or(bytes.len(), |p| from + p)
}

/// A word runs over word bytes; `->` ends it (`issuer->claim`); `[name]` inside it is part of
/// it (`job::/sandbox/[name]`). `//` starts a comment only where a token starts, so a realm
/// with a typo (`job::/a//b`) stays one word and gets a precise error.
fn word_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    loop {
        // The common case first: bytes that continue a word whatever follows them.
        while bytes.get(i).is_some_and(|&b| is_plain_word_byte(b)) {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'-') if bytes.get(i + 1) == Some(&b'>') => return i,
            Some(b'[') if i > start => {
                let mut j = i + 1;
                while bytes.get(j).is_some_and(|&c| {
                    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
                }) {
                    j += 1;
                }
                if j > i + 1 && bytes.get(j) == Some(&b']') {
                    i = j + 1;
                } else {
                    return i;
                }
            }
            Some(&b) if is_word_byte(b) && b < 0x80 => i += 1,
            Some(&b) if b >= 0x80 => {
                // Non-ASCII letters are word characters, but typographic quotes are not.
                if bytes.get(i..i + 3) == Some(LEFT_QUOTE.as_bytes())
                    || bytes.get(i..i + 3) == Some(RIGHT_QUOTE.as_bytes())
                {
                    return i;
                }
                i += 1;
            }
            _ => return i,
        }
    }
}

/// Lexes a string starting at `start` (its opening quote is `open_len` bytes); returns the
/// end offset. A string closes on `"`, and one opened with a typographic quote also on `”`.
fn lex_string(
    text: &str,
    start: usize,
    open_len: usize,
    close: &str,
    notes: &mut Vec<LexNote>,
) -> usize {
    let bytes = text.as_bytes();
    let close_lead = close.as_bytes().first().copied();
    let mut i = start + open_len;
    loop {
        match bytes.get(i) {
            None | Some(b'\n') => {
                notes.push(LexNote::UnterminatedString(Span::new(start, i)));
                return i;
            }
            Some(b'\\') => match bytes.get(i + 1) {
                Some(b'"' | b'\\' | b'n' | b't' | b'r' | b'/') => i += 2,
                Some(b'u')
                    if bytes
                        .get(i + 2..i + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    i += 6
                }
                _ => {
                    notes.push(LexNote::BadEscape(Span::new(i, i + 2)));
                    i += 1;
                }
            },
            Some(b'"') => return i + 1,
            Some(&b)
                if Some(b) == close_lead && text.get(i..).is_some_and(|s| s.starts_with(close)) =>
            {
                return i + close.len();
            }
            Some(_) => i += 1,
        }
    }
}

/// The value of a string token (quotes removed, escapes resolved).
pub(crate) fn string_value(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .or_else(|| raw.strip_prefix(LEFT_QUOTE))
        .or_else(|| raw.strip_prefix(RIGHT_QUOTE))
        .unwrap_or(raw);
    let inner = inner
        .strip_suffix('"')
        .or_else(|| inner.strip_suffix(RIGHT_QUOTE))
        .unwrap_or(inner);
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push('\u{fffd}'),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_classes_agree_with_the_rule() {
        for b in 0..=255u8 {
            assert_eq!(is_word_byte(b), classify_word_byte(b), "{b:#x}");
            assert_eq!(
                is_plain_word_byte(b),
                classify_word_byte(b) && b < 0x80 && b != b'-',
                "{b:#x}"
            );
        }
    }

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        lex(text)
            .0
            .iter()
            .map(|t| (t.kind, &text[t.span.start..t.span.end]))
            .collect()
    }

    #[test]
    fn words_arrows_and_fqns() {
        assert_eq!(
            kinds("if (auth_server@apcera.me->name == \"x\")"),
            [
                (Kind::Word, "if"),
                (Kind::LParen, "("),
                (Kind::Word, "auth_server@apcera.me"),
                (Kind::Arrow, "->"),
                (Kind::Word, "name"),
                (Kind::EqEq, "=="),
                (Kind::Str, "\"x\""),
                (Kind::RParen, ")"),
                (Kind::Eof, ""),
            ]
        );
        assert_eq!(
            kinds("on job::/sandbox/[name]/ {"),
            [
                (Kind::Word, "on"),
                (Kind::Word, "job::/sandbox/[name]/"),
                (Kind::LBrace, "{"),
                (Kind::Eof, "")
            ]
        );
        assert_eq!(
            kinds("package::/apcera//x")[0],
            (Kind::Word, "package::/apcera//x")
        );
        assert_eq!(kinds("read // note")[1], (Kind::Comment, "// note"));
    }

    #[test]
    fn comments_and_blank_lines() {
        let (tokens, _) = lex("a\n\n// note\nb");
        assert_eq!(tokens[1].kind, Kind::Comment);
        assert!(tokens[1].blank_before);
        assert!(tokens[2].newline_before && !tokens[2].blank_before);
    }

    #[test]
    fn strings_escapes_and_typographic_quotes() {
        let text = "\"a\\\"b\\u0041\" \u{201c}curly\u{201d} \"open";
        let (tokens, notes) = lex(text);
        assert_eq!(
            string_value(&text[tokens[0].span.start..tokens[0].span.end]),
            "a\"bA"
        );
        assert_eq!(
            string_value(&text[tokens[1].span.start..tokens[1].span.end]),
            "curly"
        );
        assert!(matches!(notes[0], LexNote::TypographicQuotes(_)));
        assert!(matches!(notes[1], LexNote::UnterminatedString(_)));
    }
}
