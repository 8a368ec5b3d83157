//! Dconf, the format of `cluster.conf`: a hand-written parser, since generic HOCON parsers
//! silently drop Dconf's `( … )` raw blocks.
//!
//! `key [:=]? value [,;]?`; keys bare or quoted; values are strings (bare, single- or
//! double-quoted, or a raw block in parentheses), numbers, booleans, maps `{ }` (a `:` before
//! them is optional), arrays `[ ]` with or without commas; trailing commas are fine, commas
//! between map members are optional, and `#` (or `//`) comments may stand anywhere.
//!
//! [`redact_secrets`] rewrites a document with every secret value replaced and every other
//! byte kept, so that a copy can be stored where secrets must not be.

use std::fmt;
use std::ops::Range;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

/// A place in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A Dconf value.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// Text: bare, quoted or a raw block.
    String(String),
    /// A number, as written.
    Number(String),
    /// `true` or `false`.
    Bool(bool),
    /// `{ key value … }`, in order.
    Map(Vec<Entry>),
    /// `[ value … ]`.
    Array(Vec<Value>),
}

/// A map member.
#[derive(Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Where the key is.
    pub position: Position,
}

/// A parse error, with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{position}: {message}")]
pub struct ParseError {
    /// The file.
    pub file: String,
    /// Where.
    pub position: Position,
    /// What was expected.
    pub message: String,
}

/// Keys whose values are secrets: never shown, never serialized in clear.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("secret")
        || k.contains("password")
        || k.contains("passwd")
        || k == "access_key"
        || k.ends_with("_key")
        || k == "key"
        || k.contains("token")
        || k.contains("private")
}

const REDACTED: &str = "***";

impl Value {
    /// The member of a map, by key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| &e.value),
            _ => None,
        }
    }

    /// The value at a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Value> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }

    /// The text of a string, number or boolean.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::String(s) | Value::Number(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The entries of a map.
    pub fn entries(&self) -> &[Entry] {
        match self {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    /// The items of an array.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    fn write_redacted(&self, f: &mut fmt::Formatter<'_>, secret: bool) -> fmt::Result {
        match self {
            _ if secret && !matches!(self, Value::Map(_)) => write!(f, "{REDACTED:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Number(n) => f.write_str(n),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.write_redacted(f, secret)?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{:?}: ", e.key)?;
                    e.value.write_redacted(f, secret || is_secret_key(&e.key))?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Debug shows the tree with every secret redacted.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_redacted(f, false)
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: ", self.key)?;
        self.value.write_redacted(f, is_secret_key(&self.key))
    }
}

/// Serializes as JSON-like data, secrets masked.
struct Masked<'a>(&'a Value, bool);

impl Serialize for Masked<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Masked(value, secret) = *self;
        match value {
            _ if secret && !matches!(value, Value::Map(_)) => s.serialize_str(REDACTED),
            Value::String(v) => s.serialize_str(v),
            Value::Number(n) => match (n.parse::<i64>(), n.parse::<f64>()) {
                (Ok(i), _) => s.serialize_i64(i),
                (_, Ok(x)) => s.serialize_f64(x),
                _ => s.serialize_str(n),
            },
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Masked(item, secret))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for e in entries {
                    map.serialize_entry(
                        &e.key,
                        &Masked(&e.value, secret || is_secret_key(&e.key)),
                    )?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for Value {
    /// Serialization redacts secrets: a tree serialized is safe to print or store.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Masked(self, false).serialize(s)
    }
}

/// The deepest nesting accepted (a bound against hostile input).
const MAX_DEPTH: usize = 64;

/// The largest document accepted: a `cluster.conf` is a few kilobytes, and its tree takes
/// up to some 40 times its text (a map per `k{a 1} `).
const MAX_DOCUMENT_SIZE: usize = 4 << 20;

/// Parses a Dconf document into its top-level map.
pub fn parse(text: &str, file: &str) -> Result<Value, ParseError> {
    check_size(text, file)?;
    let mut p = Parser::new(text, file, None);
    let entries = p.members(None)?;
    Ok(Value::Map(entries))
}

/// The text that stands for every secret value in a redacted document (written quoted).
pub const REDACTED_PLACEHOLDER: &str = "REDACTED-BY-CONTINUUM-BACKUP";

/// A document with its secrets replaced, from [`redact_secrets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The document, byte for byte the same as the original outside the secret values.
    pub text: String,
    /// The secret entries whose values were replaced, as key paths in document order: keys
    /// joined by `.`, array items by `[index]`, e.g. `chef.continuum.database_backups.secret_key`
    /// or `users[0].password`. A secret inside a secret is not listed again.
    pub redacted: Vec<String>,
}

/// Replaces the value of every entry whose key [`is_secret_key`], wherever it stands, with
/// `"REDACTED-BY-CONTINUUM-BACKUP"` ([`REDACTED_PLACEHOLDER`], double-quoted), and keeps every
/// other byte: comments, spacing, order, separators, the quoting of everything else.
///
/// - A scalar secret (bare, `"double"`, `'single'` quoted, a `( … )` raw block, a number or a
///   boolean) becomes the quoted placeholder.
/// - A secret whose value is a map or an array keeps its shape: each scalar inside it, at any
///   depth, becomes the placeholder; its keys, brackets and comments stay. Readers that expect a
///   map still find one, and nothing inside it is left in clear.
/// - A raw block that spans lines is replaced by the placeholder followed by as many line
///   breaks as the block held, so every later key keeps its line number (its column may
///   change when it follows the secret on the same line).
///
/// The result parses to the same tree as `text` except that those scalars are the placeholder
/// (and positions after a replaced value may move within their line). Redacting a redacted
/// document changes nothing, and a document without secrets comes back unchanged.
///
/// # Errors
/// The [`ParseError`] of `text` when it is not valid Dconf (nothing is redacted then).
pub fn redact_secrets(text: &str, file: &str) -> Result<Redacted, ParseError> {
    check_size(text, file)?;
    let mut found = Secrets::default();
    let mut p = Parser::new(text, file, Some(&mut found));
    p.members(None)?;
    let replacement = format!("{REDACTED_PLACEHOLDER:?}");
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for leaf in found.leaves {
        let before = text.get(copied..leaf.start);
        let value = text.get(leaf.clone());
        let (Some(before), Some(value)) = (before, value) else {
            // Leaves are recorded in document order on character boundaries; anything else is
            // a bug, and a refusal beats a copy that might keep a secret.
            return Err(ParseError {
                file: file.to_string(),
                position: Position { line: 1, column: 1 },
                message: "internal error: a secret value could not be located".to_string(),
            });
        };
        out.push_str(before);
        out.push_str(&replacement);
        push_line_breaks(&mut out, value);
        copied = leaf.end;
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    Ok(Redacted {
        text: out,
        redacted: found.paths,
    })
}

fn check_size(text: &str, file: &str) -> Result<(), ParseError> {
    check_length(text.len() as u64, "", file)
}

/// `more`: "" when `len` is the document's length, " or more" when reading stopped there.
fn check_length(len: u64, more: &str, file: &str) -> Result<(), ParseError> {
    if len <= MAX_DOCUMENT_SIZE as u64 {
        return Ok(());
    }
    Err(ParseError {
        file: file.to_string(),
        position: Position { line: 1, column: 1 },
        message: format!(
            "the document is {len} bytes{more}; a cluster.conf holds at most {MAX_DOCUMENT_SIZE} bytes (4 MiB)"
        ),
    })
}

/// Reads a document from a file, never more than the largest accepted (plus one byte, to
/// tell): a 10 GB file or an endless FIFO is refused after 4 MiB, not read whole.
pub(crate) fn read_document(path: &std::path::Path) -> crate::Result<String> {
    use std::io::Read;
    let io = |e| crate::Error::from(continuum_core::Error::io("read", path, e));
    let file = std::fs::File::open(path).map_err(io)?;
    let name = path.display().to_string();
    if let Ok(md) = file.metadata()
        && md.is_file()
    {
        check_length(md.len(), "", &name)?;
    }
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    check_length(bytes.len() as u64, " or more", &name)?;
    String::from_utf8(bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// Text of the document as a message shows it: control characters escaped (an escape
/// sequence could rewrite the terminal), cut after 80 characters.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(80)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if text.chars().nth(80).is_some() {
        out.push_str(&format!("… ({} bytes)", text.len()));
    }
    out
}

/// The line breaks of `value`, as written (`\n` or `\r\n`).
fn push_line_breaks(out: &mut String, value: &str) {
    let mut previous = None;
    for c in value.chars() {
        if c == '\n' {
            if previous == Some('\r') {
                out.push('\r');
            }
            out.push('\n');
        }
        previous = Some(c);
    }
}

/// What the parser records for [`redact_secrets`].
#[derive(Default)]
struct Secrets {
    /// The key path of the entry being parsed (`.key` and `[index]` segments).
    path: String,
    /// Inside the value of a secret entry.
    inside: bool,
    /// Byte ranges of the scalar values to replace, in document order.
    leaves: Vec<Range<usize>>,
    /// The secret entries, as dotted paths.
    paths: Vec<String>,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: &'a str,
    depth: usize,
    /// The last place turned into a line and column (offset, line, column): entries come in
    /// order, so counting goes on from there instead of from the start.
    mark: std::cell::Cell<(usize, usize, usize)>,
    /// Secret values found on the way, when redacting (plain parsing pays nothing for it).
    secrets: Option<&'a mut Secrets>,
}

fn is_bare(b: u8) -> bool {
    !matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'{'
            | b'}'
            | b'['
            | b']'
            | b'('
            | b')'
            | b','
            | b';'
            | b':'
            | b'='
            | b'#'
            | b'"'
            | b'\''
    )
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, file: &'a str, secrets: Option<&'a mut Secrets>) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            file,
            depth: 0,
            mark: std::cell::Cell::new((0, 1, 1)),
            secrets,
        }
    }

    /// Records the scalar value at `range` when it belongs to a secret.
    fn scalar(&mut self, range: Range<usize>) {
        if let Some(s) = self.secrets.as_deref_mut()
            && s.inside
        {
            s.leaves.push(range);
        }
    }

    /// Parses a value at `segment` of the key path (`.key` or `[index]`); `key` is the key of a
    /// map member, whose secrecy decides whether the value's scalars are recorded.
    fn value_at(
        &mut self,
        segment: fmt::Arguments<'_>,
        key: Option<&str>,
    ) -> Result<Value, ParseError> {
        let Some(s) = self.secrets.as_deref_mut() else {
            return self.value();
        };
        let len = s.path.len();
        let _ = fmt::Write::write_fmt(&mut s.path, segment);
        let opens = !s.inside && key.is_some_and(is_secret_key);
        if opens {
            s.inside = true;
            s.paths.push(s.path.trim_start_matches('.').to_string());
        }
        let value = self.value();
        if let Some(s) = self.secrets.as_deref_mut() {
            s.path.truncate(len);
            if opens {
                s.inside = false;
            }
        }
        value
    }

    fn position(&self, at: usize) -> Position {
        let at = at.min(self.text.len());
        let (from, mut line, mut column) = match self.mark.get() {
            (offset, line, column) if offset <= at => (offset, line, column),
            _ => (0, 1, 1),
        };
        // Only the text since the last place is counted, lines and columns alike: a long
        // line is not counted again from its start for every entry on it.
        let between = self.text.get(from..at).unwrap_or("");
        match between.rfind('\n') {
            Some(last) => {
                line += between.matches('\n').count();
                column = between.get(last + 1..).map_or(0, |s| s.chars().count()) + 1;
            }
            None => column += between.chars().count(),
        }
        self.mark.set((at, line, column));
        Position { line, column }
    }

    fn error(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            position: self.position(at),
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips spaces, newlines and comments.
    fn skip(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => self.skip_line(),
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'/') => self.skip_line(),
                _ => break,
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            None => "the end of the file".to_string(),
            Some('\n') => "the end of the line".to_string(),
            Some(c) => format!("`{}`", shown(c.encode_utf8(&mut [0; 4]))),
        }
    }

    /// Map members until `close` (or the end of the text at the top level).
    fn members(&mut self, close: Option<(u8, usize)>) -> Result<Vec<Entry>, ParseError> {
        let mut entries = Vec::new();
        loop {
            self.skip();
            match (self.peek(), close) {
                (None, None) => {
                    entries.shrink_to_fit();
                    return Ok(entries);
                }
                (None, Some((_, open))) => {
                    let p = self.position(open);
                    return Err(self.error(self.pos, format!("expected `}}` to close the map opened at {p}, found the end of the file")));
                }
                (Some(b), Some((c, _))) if b == c => {
                    self.pos += 1;
                    // A map of one member would otherwise keep room for four.
                    entries.shrink_to_fit();
                    return Ok(entries);
                }
                (Some(b','), _) | (Some(b';'), _) => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let key_at = self.pos;
            let key = self.key()?;
            self.skip_inline();
            match self.peek() {
                Some(b':') | Some(b'=') => {
                    self.pos += 1;
                }
                Some(b'{') | Some(b'[') | Some(b'(') | Some(b'"') | Some(b'\'') => {}
                Some(b) if is_bare(b) => {}
                _ => {
                    let found = self.found();
                    return Err(self.error(
                        self.pos,
                        format!(
                            "expected `:`, `=` or a value after the key `{}`, found {found}",
                            shown(&key)
                        ),
                    ));
                }
            }
            // Placed before the value is read: places are counted on from the last one asked
            // for, so asking in document order keeps a long document linear.
            let position = self.position(key_at);
            self.skip();
            let value = self.value_at(format_args!(".{key}"), Some(&key))?;
            entries.push(Entry {
                key,
                value,
                position,
            });
        }
    }

    /// Spaces and tabs only (a key and its value are on one line, or `{` follows).
    fn skip_inline(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    fn key(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => self.quoted(q),
            Some(b) if is_bare(b) => Ok(self.bare()),
            _ => {
                let found = self.found();
                Err(self.error(self.pos, format!("expected a key, found {found}")))
            }
        }
    }

    fn bare(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !is_bare(b) || (b == b'/' && self.bytes.get(self.pos + 1) == Some(&b'/')) {
                break;
            }
            self.pos += 1;
        }
        self.text.get(start..self.pos).unwrap_or("").to_string()
    }

    fn quoted(&mut self, quote: u8) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    return Err(self.error(
                        start,
                        format!(
                            "unterminated string: expected a closing `{}`",
                            char::from(quote)
                        ),
                    ));
                }
                Some(b) if b == quote => {
                    out.push_str(self.text.get(run..self.pos).unwrap_or(""));
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.text.get(run..self.pos).unwrap_or(""));
                    let escaped = self.bytes.get(self.pos + 1).copied();
                    match escaped {
                        Some(b'n') => out.push('\n'),
                        Some(b't') => out.push('\t'),
                        Some(b'r') => out.push('\r'),
                        Some(b'"') => out.push('"'),
                        Some(b'\'') => out.push('\''),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        _ => {
                            return Err(self.error(
                                self.pos,
                                "unknown escape, expected one of `\\n \\t \\r \\\" \\' \\\\ \\/`",
                            ));
                        }
                    }
                    self.pos += 2;
                    run = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// `( … )`: everything up to the matching `)`, kept as is (certificates, scripts).
    fn raw_block(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut depth = 1usize;
        let body_start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        let body = self
                            .text
                            .get(body_start..self.pos)
                            .unwrap_or("")
                            .to_string();
                        self.pos += 1;
                        return Ok(body);
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.error(
            start,
            "unterminated raw block: expected `)` to close the `(` opened here",
        ))
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        let at = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.enter(at)?;
                self.pos += 1;
                let entries = self.members(Some((b'}', at)))?;
                self.depth -= 1;
                Ok(Value::Map(entries))
            }
            Some(b'[') => {
                self.enter(at)?;
                self.pos += 1;
                let items = self.array(at)?;
                self.depth -= 1;
                Ok(Value::Array(items))
            }
            Some(b'(') => {
                let body = self.raw_block()?;
                self.scalar(at..self.pos);
                Ok(Value::String(body))
            }
            Some(q @ (b'"' | b'\'')) => {
                let text = self.quoted(q)?;
                self.scalar(at..self.pos);
                Ok(Value::String(text))
            }
            Some(b) if is_bare(b) => {
                let word = self.bare_value();
                self.scalar(at..at + word.len());
                Ok(classify(&word))
            }
            _ => {
                let found = self.found();
                Err(self.error(at, format!("expected a value (a string, number, boolean, `{{` map, `[` array or `(` block), found {found}")))
            }
        }
    }

    /// A bare value runs to the end of the line, a comment, or a separator; inner spaces stay.
    fn bare_value(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b'\n' | b',' | b';' | b'}' | b']' | b'#')
                || (b == b'/' && self.bytes.get(self.pos + 1) == Some(&b'/'))
            {
                break;
            }
            self.pos += 1;
        }
        self.text
            .get(start..self.pos)
            .unwrap_or("")
            .trim_end()
            .to_string()
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(at, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn array(&mut self, open: usize) -> Result<Vec<Value>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip();
            match self.peek() {
                None => {
                    let p = self.position(open);
                    return Err(self.error(self.pos, format!("expected `]` to close the array opened at {p}, found the end of the file")));
                }
                Some(b']') => {
                    self.pos += 1;
                    items.shrink_to_fit();
                    return Ok(items);
                }
                Some(b',') => {
                    self.pos += 1;
                }
                _ => {
                    let v = self.array_item(items.len())?;
                    items.push(v);
                }
            }
        }
    }

    /// In an array, a bare item also ends at a space (`[a b c]` is three items).
    fn array_item(&mut self, index: usize) -> Result<Value, ParseError> {
        match self.peek() {
            Some(b) if is_bare(b) => {
                let start = self.pos;
                let word = self.bare();
                self.scalar(start..self.pos);
                Ok(classify(&word))
            }
            _ => self.value_at(format_args!("[{index}]"), None),
        }
    }
}

fn classify(word: &str) -> Value {
    match word {
        "true" | "yes" | "on" => Value::Bool(true),
        "false" | "no" | "off" => Value::Bool(false),
        w if !w.is_empty()
            && w.trim_start_matches('-')
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
            && w.parse::<f64>().is_ok() =>
        {
            Value::Number(w.to_string())
        }
        w => Value::String(w.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SAMPLE: &str = r#"
# A cluster.conf as people write it.
provisioner {
  type: generic
}

machines: {
  central: {
    hosts: ['10.0.0.11', "10.0.0.12",]  # trailing comma
    suitable_tags: [
      "component-database"   # a comment inside an array
      "auditlog-database"
      monitoring
    ]
  }
  "instance-manager": { hosts: [10.0.1.1 10.0.1.2], suitable_tags: [instance-manager] }
}

components = {
  component-database: 2
  auditlog-database: 1, monitoring: 1;
  redis-server: 1
}

chef: {
  "continuum": {
    "cluster_name": "prod-east",
    "base_domain": "prod.example.com",
    "database_backups": {
      "access_key": "AKIAEXAMPLEKEY",
      "secret_key": "s3cr3t/with+chars",
      "endpoint": "us-west-2",
      "bucket": "prod-db-backups"
    },
    "ssl": {
      "cert": (
-----BEGIN CERTIFICATE-----
MIIB (not really) x
-----END CERTIFICATE-----
)
    }
    enabled: true
    ratio: 0.5
  }
}
"#;

    #[test]
    fn parses_a_realistic_file() {
        let v = parse(SAMPLE, "cluster.conf").unwrap();
        assert_eq!(
            v.path(&["provisioner", "type"]).unwrap().as_text().unwrap(),
            "generic"
        );
        let central = v.path(&["machines", "central"]).unwrap();
        let hosts: Vec<_> = central
            .get("hosts")
            .unwrap()
            .items()
            .iter()
            .map(|h| h.as_text().unwrap())
            .collect();
        assert_eq!(hosts, ["10.0.0.11", "10.0.0.12"]);
        assert_eq!(central.get("suitable_tags").unwrap().items().len(), 3);
        let im = v.path(&["machines", "instance-manager", "hosts"]).unwrap();
        assert_eq!(im.items().len(), 2);
        assert_eq!(
            v.path(&["components", "monitoring"]).unwrap(),
            &Value::Number("1".into())
        );
        assert_eq!(
            v.path(&["components", "redis-server"])
                .unwrap()
                .as_text()
                .unwrap(),
            "1"
        );
        let cert = v
            .path(&["chef", "continuum", "ssl", "cert"])
            .unwrap()
            .as_text()
            .unwrap();
        assert!(cert.contains("BEGIN CERTIFICATE") && cert.contains("(not really)"));
        assert_eq!(
            v.path(&["chef", "continuum", "enabled"]),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            v.path(&["chef", "continuum", "ratio"]),
            Some(&Value::Number("0.5".into()))
        );
    }

    #[test]
    fn secrets_never_show() {
        let v = parse(SAMPLE, "cluster.conf").unwrap();
        let debug = format!("{v:?}");
        let json = serde_json::to_string(&v).unwrap();
        for shown in [&debug, &json] {
            assert!(
                !shown.contains("AKIAEXAMPLEKEY") && !shown.contains("s3cr3t"),
                "{shown}"
            );
            assert!(shown.contains("prod-db-backups"));
        }
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("a: {\n  b: 1\n", "c.conf").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.conf:3:1: expected `}` to close the map opened at 1:4, found the end of the file"
        );
        let e = parse("a: [1, 2", "c.conf").unwrap_err();
        assert!(e.to_string().starts_with("c.conf:1:9: expected `]`"), "{e}");
        let e = parse("a: \"open\nb: 2", "c.conf").unwrap_err();
        assert_eq!(e.position, Position { line: 1, column: 4 });
        let e = parse("a: (never closed", "c.conf").unwrap_err();
        assert!(e.message.contains("unterminated raw block"));
        let e = parse("a: }", "c.conf").unwrap_err();
        assert!(e.message.contains("expected a value"), "{e}");
        let deep = "a: ".to_string() + &"[".repeat(100);
        let e = parse(&deep, "c.conf").unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
    }

    #[test]
    fn positions_stay_right_on_large_files() {
        let text: String = (0..50_000).map(|i| format!("k{i}: v{i}\n")).collect();
        let v = parse(&format!("x: {{\n{text}}}"), "big.conf").unwrap();
        let entries = v.get("x").unwrap().entries();
        assert_eq!(entries.len(), 50_000);
        assert_eq!(
            entries[49_999].position,
            Position {
                line: 50_001,
                column: 1
            }
        );
        let e = parse("a: 1\nb: {\n  c: [1,\n", "c.conf").unwrap_err();
        assert_eq!(e.position.line, 4);
    }

    #[test]
    fn many_maps_parse_in_linear_time() {
        // The place of an entry whose value is a map was counted from the start of the text
        // once the map had been read: quadratic in the number of maps (minutes for this).
        let text = "k { a: 1 }\n".repeat(200_000);
        let started = std::time::Instant::now();
        let v = parse(&text, "m.conf").unwrap();
        let last = v.entries().last().unwrap();
        assert_eq!(
            last.position,
            Position {
                line: 200_000,
                column: 1
            }
        );
        assert_eq!(
            last.value.entries()[0].position,
            Position {
                line: 200_000,
                column: 5
            }
        );
        // And on one line: the column was counted from the start of the line each time.
        let line = "k{a 1} ".repeat(200_000);
        let v = parse(&line, "m.conf").unwrap();
        let last = v.entries().last().unwrap();
        assert_eq!(
            last.position,
            Position {
                line: 1,
                column: 7 * 199_999 + 1
            }
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn an_endless_file_is_read_no_further_than_the_limit() {
        // A character device that never ends: refused after 4 MiB and a byte, not read whole.
        let e = read_document(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/dev/zero:1:1: the document is 4194305 bytes or more"),
            "{e}"
        );
    }

    #[test]
    fn hostile_text_is_bounded_and_shown_escaped() {
        let key = "k".repeat(1 << 20);
        let e = parse(&key, "c.conf").unwrap_err().to_string();
        assert!(e.contains("(1048576 bytes)") && e.len() < 300, "{e}");
        let e = parse("\u{1b}]0;x\u{7}", "c.conf").unwrap_err().to_string();
        assert!(e.contains("the key `\\u{1b}`"), "{e}");
        let big = "a: 1\n".repeat(MAX_DOCUMENT_SIZE / 5 + 1);
        let e = parse(&big, "c.conf").unwrap_err().to_string();
        assert!(e.starts_with("c.conf:1:1: the document is"), "{e}");
        assert!(redact_secrets(&big, "c.conf").is_err());
    }

    #[test]
    fn redaction_replaces_secret_values_only() {
        let r = redact_secrets(SAMPLE, "cluster.conf").unwrap();
        assert_eq!(
            r.redacted,
            [
                "chef.continuum.database_backups.access_key",
                "chef.continuum.database_backups.secret_key"
            ]
        );
        let placeholder = format!("{REDACTED_PLACEHOLDER:?}");
        let expected = SAMPLE
            .replace("\"AKIAEXAMPLEKEY\"", &placeholder)
            .replace("\"s3cr3t/with+chars\"", &placeholder);
        assert_eq!(r.text, expected);
        let tree = parse(&r.text, "cluster.conf").unwrap();
        assert_eq!(
            tree.path(&["chef", "continuum", "database_backups", "secret_key"]),
            Some(&Value::String(REDACTED_PLACEHOLDER.to_string()))
        );
    }

    #[test]
    fn redaction_keeps_line_breaks_of_raw_blocks() {
        let mut out = String::new();
        push_line_breaks(&mut out, "(a\r\nb\nc)");
        assert_eq!(out, "\r\n\n");
        let r = redact_secrets("private_key: (\nA\nB\n)\nnext: 1", "c").unwrap();
        assert_eq!(
            r.text,
            format!("private_key: {REDACTED_PLACEHOLDER:?}\n\n\n\nnext: 1")
        );
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        for text in [
            "",
            "{",
            "}",
            "a",
            "a:",
            "a: [",
            "'",
            "(",
            "a: b: c",
            "[[[",
            "\u{0}",
            "a: {b: (x}",
        ] {
            let _ = parse(text, "x");
            let _ = redact_secrets(text, "x");
        }
    }
}
