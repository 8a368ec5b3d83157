//! Tokens → syntax tree, with recovery: one pass reports every error it can find.

use crate::diagnostic::{Diagnostic, LineIndex, Severity, Span};
use crate::lexer::{Kind, LexNote, Token, lex_from, string_value};
use crate::tree::{Clause, Comment, Condition, Consequent, Document, Policy, Rule, Value};

/// The largest document accepted: 512 KB.
pub const MAX_DOCUMENT_SIZE: usize = 512 * 1024;

/// Errors reported at most in one pass; the rest would only repeat the first.
const MAX_ERRORS: usize = 50;
/// Warnings kept at most; the rest are counted (a bound on memory for hostile documents).
pub(crate) const MAX_WARNINGS: usize = 100;
/// The deepest nesting of `!` and `(` in a condition: each level is a level of recursion in
/// the parser and in every walk of the tree, so a hostile document could overflow the stack.
const MAX_NESTING: usize = 64;

/// A parsed document and the warnings found on the way.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Parsed {
    /// The tree.
    pub document: Document,
    /// Warnings (the document is still accepted).
    pub warnings: Vec<Diagnostic>,
}

/// Marks that an error was recorded and the caller should recover.
struct Recover;

type Step<T> = Result<T, Recover>;

pub(crate) struct Parser<'a> {
    text: &'a str,
    file: &'a str,
    index: &'a LineIndex<'a>,
    tokens: Vec<Token>,
    pos: usize,
    pending: Vec<Comment>,
    /// Scratch lists: items are gathered here, then moved to a list of the exact size.
    rules: Vec<Rule>,
    consequents: Vec<Consequent>,
    values: Vec<Value>,
    /// The operands of the `&&` / `||` chains being read, innermost last.
    operands: Vec<Condition>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    errors: usize,
    warnings: usize,
    /// How many `!` and `(` enclose the condition being read.
    depth: usize,
}

/// Parses a document; `file` names it in diagnostics. Returns the tree and its warnings, or
/// every error (and warning) found.
pub(crate) fn parse_document(text: &str, file: &str) -> Result<Parsed, Vec<Diagnostic>> {
    parse_document_with(text, file, &LineIndex::new(text), |_| {})
}

/// [`parse_document`] with the line index of `text` (built once for the parser and the
/// validator, and only when a diagnostic needs it); `on_policy` sees the policies read so far
/// each time one more is read.
pub(crate) fn parse_document_with<'a>(
    text: &'a str,
    file: &'a str,
    index: &'a LineIndex<'a>,
    mut on_policy: impl FnMut(&[Policy]),
) -> Result<Parsed, Vec<Diagnostic>> {
    let (header, body_start) = split_header(text);
    let (tokens, notes) = lex_from(text, body_start);
    let mut p = Parser {
        text,
        file,
        index,
        tokens,
        pos: 0,
        pending: Vec::new(),
        rules: Vec::new(),
        consequents: Vec::new(),
        values: Vec::new(),
        operands: Vec::new(),
        diagnostics: Vec::new(),
        errors: 0,
        warnings: 0,
        depth: 0,
    };
    for note in notes {
        match note {
            LexNote::TypographicQuotes(span) => p.warn(
                span,
                "typographic quotes “ ” are read as straight quotes `\"`",
                Some("type straight quotes `\"` to silence this".to_string()),
            ),
            LexNote::UnterminatedString(span) => p.error(
                span,
                "unterminated string, expected a closing `\"` on the same line",
                None,
            ),
            LexNote::BadEscape(span) => p.error(
                span,
                "unknown escape in a string, expected one of `\\\"` `\\\\` `\\n` `\\t` `\\r` `\\/` `\\uXXXX`",
                None,
            ),
        }
    }
    let description = match header {
        Header::None => None,
        Header::Description(d) => Some(d),
        Header::Bad(span, message) => {
            p.error(
                span,
                message,
                Some("write it as `<continuum-policy description=\"…\">`".to_string()),
            );
            None
        }
    };
    let document = p.document(description, &mut on_policy);
    if p.warnings > MAX_WARNINGS {
        let more = p.warnings - MAX_WARNINGS;
        let end = Span::new(text.len(), text.len());
        let d = p.index.diagnostic(
            file,
            Severity::Warning,
            end,
            format!("{more} more warning(s) not shown"),
            None,
        );
        p.diagnostics.push(d);
    }
    if p.errors > 0 {
        Err(p.diagnostics)
    } else {
        Ok(Parsed {
            document,
            warnings: p.diagnostics,
        })
    }
}

enum Header {
    None,
    Description(String),
    Bad(Span, &'static str),
}

/// Finds the optional `<continuum-policy description="…">` line at the top.
fn split_header(text: &str) -> (Header, usize) {
    let lead = text.len() - text.trim_start().len();
    let rest = text.get(lead..).unwrap_or("");
    if !rest.starts_with("<continuum-policy") {
        return (Header::None, 0);
    }
    let line_end = rest.find('\n').map_or(text.len(), |i| lead + i);
    let line = text.get(lead..line_end).unwrap_or("").trim_end();
    let span = Span::new(lead, lead + line.len());
    let Some(inner) = line
        .strip_prefix("<continuum-policy")
        .and_then(|s| s.strip_suffix('>'))
    else {
        return (
            Header::Bad(span, "the header line must end with `>`"),
            line_end,
        );
    };
    let inner = inner.trim();
    if inner.is_empty() {
        return (Header::Description(String::new()), line_end);
    }
    let Some(value) = inner.strip_prefix("description=") else {
        return (
            Header::Bad(span, "the header takes one attribute, `description`"),
            line_end,
        );
    };
    if value.len() < 2 || !value.starts_with('"') || !value.ends_with('"') {
        return (
            Header::Bad(span, "the description must be a double-quoted string"),
            line_end,
        );
    }
    (Header::Description(string_value(value)), line_end)
}

/// Moves every item of a scratch list to a list of the exact size.
fn take_all<T>(scratch: &mut Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(scratch.len());
    out.append(scratch);
    out
}

fn describe(kind: Kind, text: &str) -> String {
    match kind {
        Kind::Eof => "the end of the document".to_string(),
        Kind::Str => format!("the string {text}"),
        _ => format!("`{text}`"),
    }
}

impl<'a> Parser<'a> {
    fn error(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        self.errors += 1;
        if self.errors > MAX_ERRORS {
            return;
        }
        let d = self
            .index
            .diagnostic(self.file, Severity::Error, span, message, help);
        self.diagnostics.push(d);
    }

    fn warn(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        self.warnings += 1;
        if self.warnings > MAX_WARNINGS {
            return;
        }
        let d = self
            .index
            .diagnostic(self.file, Severity::Warning, span, message, help);
        self.diagnostics.push(d);
    }

    fn too_many_errors(&self) -> bool {
        self.errors >= MAX_ERRORS
    }

    fn raw(&self) -> Token {
        self.tokens.get(self.pos).copied().unwrap_or(Token {
            kind: Kind::Eof,
            span: Span::new(self.text.len(), self.text.len()),
            newline_before: true,
            blank_before: false,
        })
    }

    fn slice(&self, t: Token) -> &'a str {
        self.text.get(t.span.start..t.span.end).unwrap_or("")
    }

    /// Moves comments into `pending`; returns the next significant token.
    #[inline]
    fn peek(&mut self) -> Token {
        let t = self.raw();
        if t.kind != Kind::Comment {
            return t;
        }
        self.peek_past_comments()
    }

    #[inline(never)]
    fn peek_past_comments(&mut self) -> Token {
        loop {
            let t = self.raw();
            if t.kind != Kind::Comment {
                return t;
            }
            let comment = self.comment(t);
            self.pending.push(comment);
            self.pos += 1;
        }
    }

    fn comment(&self, t: Token) -> Comment {
        let raw = self.slice(t);
        Comment {
            text: raw.strip_prefix("//").unwrap_or(raw).trim_end().to_string(),
            blank_before: t.blank_before,
            span: t.span,
        }
    }

    fn bump(&mut self) -> Token {
        let t = self.peek();
        if t.kind != Kind::Eof {
            self.pos += 1;
        }
        t
    }

    fn is_word(&mut self, word: &str) -> bool {
        let t = self.peek();
        t.kind == Kind::Word && self.slice(t) == word
    }

    fn expect(&mut self, kind: Kind, what: &str, help: Option<String>) -> Step<Token> {
        let t = self.peek();
        if t.kind == kind {
            return Ok(self.bump());
        }
        let found = describe(t.kind, self.slice(t));
        self.error(t.span, format!("expected {what}, found {found}"), help);
        Err(Recover)
    }

    fn take_comments(&mut self) -> Vec<Comment> {
        std::mem::take(&mut self.pending)
    }

    /// Skips to just after the `}` closing the block that holds the current position.
    fn recover_to_close(&mut self, mut depth: usize) {
        loop {
            let t = self.raw();
            self.pos += 1;
            match t.kind {
                Kind::Eof => {
                    self.pos -= 1;
                    return;
                }
                Kind::LBrace => depth += 1,
                Kind::RBrace => {
                    if depth <= 1 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
    }

    fn document(
        &mut self,
        description: Option<String>,
        on_policy: &mut impl FnMut(&[Policy]),
    ) -> Document {
        let mut policies = Vec::new();
        loop {
            let t = self.peek();
            if t.kind == Kind::Eof || self.too_many_errors() {
                break;
            }
            match self.policy() {
                Ok(policy) => {
                    policies.push(policy);
                    on_policy(&policies);
                }
                Err(Recover) => self.recover_policy(),
            }
        }
        let trailing_comments = self.take_comments();
        Document {
            name: None,
            description,
            policies,
            trailing_comments,
        }
    }

    /// After a broken policy head, skip to the next line that starts a policy.
    fn recover_policy(&mut self) {
        let mut depth = 0usize;
        loop {
            let t = self.raw();
            match t.kind {
                Kind::Eof => return,
                Kind::LBrace => depth += 1,
                Kind::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                Kind::Word if depth == 0 && t.newline_before && self.slice(t) == "on" => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn policy(&mut self) -> Step<Policy> {
        let first = self.peek();
        let comments = self.take_comments();
        let blank_before = comments
            .first()
            .map_or(first.blank_before, |c| c.blank_before);
        if self.is_word("on") {
            let on = self.bump();
            let next = self.peek();
            if next.kind != Kind::Word {
                let found = describe(next.kind, self.slice(next));
                self.error(
                    next.span,
                    format!(
                        "expected a realm FQN after `on` (such as `job::/sandbox`), found {found}"
                    ),
                    None,
                );
                let _ = on;
                return Err(Recover);
            }
        }
        let realm_token = self.peek();
        if realm_token.kind != Kind::Word {
            let found = describe(realm_token.kind, self.slice(realm_token));
            self.error(
                realm_token.span,
                format!("expected a policy: `on` and a realm FQN (such as `on job::/sandbox {{`), found {found}"),
                None,
            );
            if realm_token.kind == Kind::RBrace {
                self.pos += 1;
                return Err(Recover);
            }
            return Err(Recover);
        }
        self.bump();
        let realm = self.slice(realm_token).to_string();
        if self.peek().kind != Kind::LBrace && !realm.contains("::") {
            self.error(
                realm_token.span,
                format!("expected a policy: `on` and a realm FQN (such as `on job::/sandbox {{`), found `{realm}`"),
                None,
            );
            return Err(Recover);
        }
        let open = self.expect(Kind::LBrace, "`{` after the realm", None)?;
        self.rules.clear();
        let close = loop {
            let t = self.peek();
            match t.kind {
                Kind::RBrace => break self.bump(),
                Kind::Eof => {
                    let (line, _) = self.index.position(open.span.start);
                    self.error(
                        t.span,
                        format!("expected `}}` to close the policy opened at line {line}"),
                        None,
                    );
                    return Err(Recover);
                }
                _ => {}
            }
            if self.too_many_errors() {
                return Err(Recover);
            }
            match self.rule() {
                Ok(rule) => self.rules.push(rule),
                Err(Recover) => {
                    self.pending.clear();
                }
            }
        };
        let closing_comments = self.take_comments();
        Ok(Policy {
            comments,
            blank_before,
            realm,
            realm_span: realm_token.span,
            rules: take_all(&mut self.rules),
            closing_comments,
            span: first.span.to(close.span),
        })
    }

    fn rule(&mut self) -> Step<Rule> {
        let first = self.peek();
        let mut comments = self.take_comments();
        let blank_before = comments
            .first()
            .map_or(first.blank_before, |c| c.blank_before);
        let condition = if self.is_word("if") {
            self.bump();
            if let Err(Recover) = self.expect(Kind::LParen, "`(` after `if`", None) {
                self.recover_to_close(0);
                return Err(Recover);
            }
            // An error in a condition leaves operands behind: start afresh.
            self.operands.clear();
            let condition = match self.condition() {
                Ok(c) => c,
                Err(Recover) => {
                    self.recover_to_close(0);
                    return Err(Recover);
                }
            };
            if let Err(Recover) = self.expect(
                Kind::RParen,
                "`)` to close the condition, or `&&` / `||` to extend it",
                None,
            ) {
                self.recover_to_close(0);
                return Err(Recover);
            }
            comments.extend(self.take_comments());
            Some(condition)
        } else {
            None
        };
        let t = self.peek();
        if t.kind != Kind::LBrace {
            let found = describe(t.kind, self.slice(t));
            let (what, help) = if condition.is_some() {
                ("`{` to open the rule's consequents".to_string(), None)
            } else if t.kind == Kind::Word {
                (
                    "a rule: `if (…) { … }` or `{ … }`".to_string(),
                    Some(format!(
                        "wrap consequents in braces: `{{ {} … }}`",
                        self.slice(t)
                    )),
                )
            } else {
                (
                    "a rule: `if (…) { … }` or `{ … }`, or `}` to close the policy".to_string(),
                    None,
                )
            };
            self.error(t.span, format!("expected {what}, found {found}"), help);
            if t.kind == Kind::Eof {
                return Err(Recover);
            }
            // Skip the rest of this line, or the block that follows, whichever comes first.
            self.pos += 1;
            loop {
                let n = self.raw();
                if n.kind == Kind::Eof || n.kind == Kind::RBrace || n.newline_before {
                    break;
                }
                if n.kind == Kind::LBrace {
                    self.recover_to_close(0);
                    break;
                }
                self.pos += 1;
            }
            return Err(Recover);
        }
        let open = self.bump();
        self.consequents.clear();
        let close = loop {
            let t = self.peek();
            match t.kind {
                Kind::RBrace => break self.bump(),
                Kind::Semi => {
                    self.bump();
                    continue;
                }
                Kind::Word => match self.consequent() {
                    Ok(c) => self.consequents.push(c),
                    Err(Recover) => {
                        self.recover_to_close(1);
                        return Err(Recover);
                    }
                },
                Kind::Eof => {
                    let (line, _) = self.index.position(open.span.start);
                    self.error(
                        t.span,
                        format!("expected `}}` to close the rule opened at line {line}"),
                        None,
                    );
                    return Err(Recover);
                }
                _ => {
                    let found = describe(t.kind, self.slice(t));
                    self.error(
                        t.span,
                        format!(
                            "expected a consequent such as `permit read`, or `}}`, found {found}"
                        ),
                        None,
                    );
                    self.recover_to_close(1);
                    return Err(Recover);
                }
            }
        };
        if self.consequents.is_empty() {
            self.warn(
                open.span.to(close.span),
                "this rule has no consequents: it does nothing",
                None,
            );
        }
        let closing_comments = self.take_comments();
        let r = self.raw();
        let trailing_comment = (r.kind == Kind::Comment && !r.newline_before).then(|| {
            self.pos += 1;
            self.comment(r)
        });
        Ok(Rule {
            comments,
            blank_before,
            condition,
            consequents: take_all(&mut self.consequents),
            closing_comments,
            trailing_comment,
            span: first.span.to(close.span),
        })
    }

    fn consequent(&mut self) -> Step<Consequent> {
        let claim_token = self.peek();
        let comments = self.take_comments();
        let blank_before = comments
            .first()
            .map_or(claim_token.blank_before, |c| c.blank_before);
        self.bump();
        let claim = self.slice(claim_token).to_string();
        self.values.clear();
        let first = self.value(&claim)?;
        self.values.push(first);
        let mut end = self
            .tokens
            .get(self.pos.saturating_sub(1))
            .map_or(claim_token.span, |t| t.span);
        let mut trailing_comment = None;
        loop {
            // A `;` may end it, and a comment on the same line belongs to it.
            if self.raw().kind == Kind::Semi {
                self.pos += 1;
            }
            let r = self.raw();
            if r.kind == Kind::Comment && !r.newline_before {
                trailing_comment = Some(self.comment(r));
                self.pos += 1;
                break;
            }
            if self.peek().kind != Kind::Comma {
                break;
            }
            self.bump();
            let value = self.value(",")?;
            self.values.push(value);
            end = self
                .tokens
                .get(self.pos.saturating_sub(1))
                .map_or(end, |t| t.span);
        }
        Ok(Consequent {
            comments,
            blank_before,
            claim,
            values: take_all(&mut self.values),
            trailing_comment,
            span: claim_token.span.to(end),
        })
    }

    /// A value; `after` is what stands before it (for the error message).
    fn value(&mut self, after: &str) -> Step<Value> {
        let t = self.peek();
        let text = self.slice(t);
        let value = match t.kind {
            Kind::Str => Value::String(string_value(text)),
            Kind::Word => Value::from_word(text),
            Kind::Template => Value::Template(
                text.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
            ),
            _ => {
                let found = describe(t.kind, text);
                self.error(
                    t.span,
                    format!("expected a value after `{after}` (a string, a word, a number or a `[template]`), found {found}"),
                    None,
                );
                return Err(Recover);
            }
        };
        self.bump();
        Ok(value)
    }

    fn condition(&mut self) -> Step<Condition> {
        let first = self.and_condition()?;
        if self.peek().kind != Kind::Or {
            return Ok(first);
        }
        let base = self.operands.len();
        self.operands.push(first);
        while self.peek().kind == Kind::Or {
            self.bump();
            let next = self.and_condition()?;
            self.operands.push(next);
        }
        Ok(Condition::Or(self.operands.split_off(base)))
    }

    fn and_condition(&mut self) -> Step<Condition> {
        let first = self.unary()?;
        if self.peek().kind != Kind::And {
            return Ok(first);
        }
        let base = self.operands.len();
        self.operands.push(first);
        while self.peek().kind == Kind::And {
            self.bump();
            let next = self.unary()?;
            self.operands.push(next);
        }
        Ok(Condition::And(self.operands.split_off(base)))
    }

    fn unary(&mut self) -> Step<Condition> {
        let t = self.peek();
        if !matches!(t.kind, Kind::Not | Kind::LParen) {
            return self.clause().map(Condition::Clause);
        }
        if self.depth >= MAX_NESTING {
            self.error(
                t.span,
                format!("the condition is nested deeper than {MAX_NESTING} levels of `!` and `(`"),
                None,
            );
            return Err(Recover);
        }
        self.depth += 1;
        self.bump();
        let nested = if t.kind == Kind::Not {
            self.unary().map(|inner| Condition::Not(Box::new(inner)))
        } else {
            match self.condition() {
                Ok(inner) => self
                    .expect(Kind::RParen, "`)` to close the group", None)
                    .map(|_| Condition::Group(Box::new(inner))),
                Err(e) => Err(e),
            }
        };
        self.depth -= 1;
        nested
    }

    fn clause(&mut self) -> Step<Clause> {
        let t = self.peek();
        if t.kind != Kind::Word {
            let found = describe(t.kind, self.slice(t));
            self.error(
                t.span,
                format!("expected a clause such as `auth_server@apcera.me->name == \"admin\"`, found {found}"),
                None,
            );
            return Err(Recover);
        }
        self.bump();
        let (issuer, claim) = if self.peek().kind == Kind::Arrow {
            self.bump();
            let c = self.expect(Kind::Word, "a claim after `->` (such as `name`)", None)?;
            (Some(self.slice(t).to_string()), self.slice(c).to_string())
        } else {
            (None, self.slice(t).to_string())
        };
        let op = self.peek();
        let comparator = match op.kind {
            Kind::EqEq | Kind::NotEq | Kind::Word => {
                self.bump();
                self.slice(op).to_string()
            }
            _ => {
                let found = describe(op.kind, self.slice(op));
                let help = (op.kind == Kind::Unknown && self.slice(op) == "=")
                    .then(|| "equality is written `==`".to_string());
                self.error(
                    op.span,
                    format!("expected a comparator (`==`, `!=`, `beginsWith`, `fqnMatch`, `equals` …) after `{claim}`, found {found}"),
                    help,
                );
                return Err(Recover);
            }
        };
        let value = self.value(&comparator)?;
        let end = self
            .tokens
            .get(self.pos.saturating_sub(1))
            .map_or(op.span, |t| t.span);
        Ok(Clause {
            issuer,
            claim,
            comparator,
            value,
            span: t.span.to(end),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_conditions_are_refused_not_overflowing() {
        // 100,000 levels once overflowed the stack (recursion per `(` and per `!`).
        for (open, close) in [("(", ")"), ("!", "")] {
            let text = format!(
                "on job::/a {{\n    if ({}role == \"a\"{}) {{ permit read }}\n}}\n",
                open.repeat(100_000),
                close.repeat(100_000)
            );
            let errors = parse_document(&text, "deep.pol").unwrap_err();
            let first = errors.iter().find(|d| d.is_error()).unwrap();
            assert!(
                first.message.contains("nested deeper than 64 levels"),
                "{first}"
            );
            assert_eq!((first.line, first.column), (2, 9 + 64), "{first}");
        }
        // 64 levels are fine.
        let text = format!(
            "on job::/a {{\n    if {}role == \"a\"{} {{ permit read }}\n}}\n",
            "(".repeat(64),
            ")".repeat(64)
        );
        assert!(parse_document(&text, "ok.pol").is_ok());
    }
}
