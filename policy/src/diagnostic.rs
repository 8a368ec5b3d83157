//! Diagnostics: what went wrong, where (`file:line:column`), the source line and a caret.

use std::cell::OnceCell;
use std::fmt;

use serde::Serialize;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span holding both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is refused.
    Error,
    /// The document is accepted, but something looks wrong.
    Warning,
}

/// One finding about a document, with its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, and what was expected.
    pub message: String,
    /// The file (or document name) it concerns.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The source line, for display.
    pub source_line: String,
    /// How many characters the caret underlines (at least 1).
    pub width: usize,
    /// Where the caret stands in `source_line` (1-based, in characters): the column, unless
    /// a very long line was cut to a window around the place.
    pub caret: usize,
    /// A hint, when there is a likely fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(
            f,
            "{}:{}:{}: {level}: {}",
            self.file, self.line, self.column, self.message
        )?;
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        let line = self.source_line.replace('\t', " ");
        writeln!(f, "{pad} |")?;
        writeln!(f, "{number} | {line}")?;
        write!(
            f,
            "{pad} | {}{}",
            " ".repeat(self.caret.saturating_sub(1)),
            "^".repeat(self.width.max(1))
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// The longest piece of a source line a diagnostic keeps.
const WINDOW: usize = 120;

/// The offset of each line's first byte: 0, and one past each `\n`. Eight bytes at a time.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let mut starts = Vec::with_capacity(bytes.len() / 32 + 1);
    starts.push(0);
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ NEWLINES;
        // The high bit of each byte that was a `\n` (and of no other byte).
        let mut found = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
        while found != 0 {
            starts.push(base + found.trailing_zeros() as usize / 8 + 1);
            found &= found - 1;
        }
        base += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == b'\n' {
            starts.push(base + i + 1);
        }
    }
    starts
}

/// Maps byte offsets to lines and columns. The line starts are found on first use: most
/// documents have no diagnostic, and so never need them.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: OnceCell<Vec<usize>>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            starts: OnceCell::new(),
        }
    }

    fn starts(&self) -> &[usize] {
        self.starts
            .get_or_init(|| line_starts(self.text.as_bytes()))
    }

    /// The length of the text, in bytes.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// (line, column), both 1-based; the column counts characters.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.starts();
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let start = starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    pub(crate) fn line_text(&self, line: usize) -> &'a str {
        let starts = self.starts();
        let start = starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        let end = starts
            .get(line)
            .map_or(self.text.len(), |e| e.saturating_sub(1));
        self.text
            .get(start..end.max(start))
            .unwrap_or("")
            .trim_end_matches('\r')
    }

    pub(crate) fn diagnostic(
        &self,
        file: &str,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        let (line, column) = self.position(span.start);
        let full = self.line_text(line);
        let width = self
            .text
            .get(span.start..span.end.min(span.start + full.len()))
            .map_or(1, |s| {
                s.split('\n').next().unwrap_or("").chars().count().max(1)
            })
            .min(WINDOW);
        // A very long line is cut to a window around the place, so that many diagnostics
        // on one huge line cost little memory.
        let (source_line, caret) = if full.len() <= 2 * WINDOW || full.chars().count() <= 2 * WINDOW
        {
            (full.to_string(), column)
        } else {
            let start = column.saturating_sub(WINDOW / 2 + 1);
            let window: String = full.chars().skip(start).take(WINDOW).collect();
            (format!("…{window}…"), column - start + 1)
        };
        Diagnostic {
            severity,
            message: visible(&message.into(), false),
            file: file.to_string(),
            line,
            column,
            source_line: visible(&source_line, true),
            width,
            caret,
            help: help.map(|h| visible(&h, false)),
        }
    }
}

/// Control characters of the document shown as their pictures (`␀`, `␛`): one character
/// each, so the caret stays in place, and none of them reaches a terminal (an escape sequence
/// in a document could otherwise rewrite the screen). Tabs stay in the source line, which
/// shows them as spaces.
fn visible(text: &str, keep_tabs: bool) -> String {
    text.chars()
        .map(|c| match u32::from(c) {
            0x09 if keep_tabs => c,
            code @ 0..=0x1f => char::from_u32(0x2400 + code).unwrap_or('\u{fffd}'),
            0x7f => '\u{2421}',
            0x80..=0x9f => '\u{fffd}',
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_find_every_newline() {
        for text in [
            "",
            "\n",
            "a\nb",
            "\n\n\n\n\n\n\n\n\n",
            "0123456\n89abcdef\n\n\u{a0}\u{10a0a}x\n",
            "no newline at all, but long enough for a chunk or two",
        ] {
            let mut expected = vec![0];
            expected.extend(text.match_indices('\n').map(|(i, _)| i + 1));
            assert_eq!(line_starts(text.as_bytes()), expected, "{text:?}");
        }
    }

    #[test]
    fn positions_count_characters() {
        let idx = LineIndex::new("ab\n“é” x\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(3), (2, 1));
        let x = "ab\n“é” x\n".find('x').unwrap();
        assert_eq!(idx.position(x), (2, 5));
        assert_eq!(idx.line_text(2), "“é” x");
    }

    #[test]
    fn control_characters_are_shown_as_pictures() {
        let text = "on job::/\u{1b}[2J {\n\tpermit re\u{0}ad\n}\n";
        let idx = LineIndex::new(text);
        let at = text.find('\u{0}').unwrap();
        let d = idx.diagnostic(
            "a.pol",
            Severity::Error,
            Span::new(at, at + 1),
            "found `\u{0}`",
            None,
        );
        assert_eq!(d.message, "found `\u{2400}`");
        assert_eq!(d.source_line, "\tpermit re\u{2400}ad");
        assert_eq!(d.caret, 11);
        let d = idx.diagnostic("a.pol", Severity::Error, Span::new(9, 10), "x", None);
        assert_eq!(d.source_line, "on job::/\u{241b}[2J {");
        assert!(!d.to_string().chars().any(|c| c.is_control() && c != '\n'));
    }

    #[test]
    fn renders_with_a_caret() {
        let text = "on job::/ {\n  permit read,\n}\n";
        let idx = LineIndex::new(text);
        let brace = text.rfind('}').unwrap();
        let d = idx.diagnostic(
            "a.pol",
            Severity::Error,
            Span::new(brace, brace + 1),
            "expected a value after `,`",
            None,
        );
        assert_eq!(
            d.to_string(),
            "a.pol:3:1: error: expected a value after `,`\n  |\n3 | }\n  | ^"
        );
        let comma = text.find(',').unwrap();
        let d = idx.diagnostic(
            "a.pol",
            Severity::Warning,
            Span::new(comma, comma + 1),
            "x",
            Some("y".into()),
        );
        assert_eq!(
            d.to_string(),
            "a.pol:2:14: warning: x\n  |\n2 |   permit read,\n  |              ^\n  = help: y"
        );
    }
}
