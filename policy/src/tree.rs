//! The syntax tree: everything the text says, comments and places included.

use serde::{Deserialize, Serialize};

use crate::diagnostic::Span;

/// A comment, with where it stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// The text after `//`, trailing spaces removed.
    pub text: String,
    /// An empty line stood before it.
    pub blank_before: bool,
    /// Where it is.
    pub span: Span,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Document {
    /// The document's name (its file stem), when known.
    pub name: Option<String>,
    /// The `<continuum-policy description="…">` header, when present.
    pub description: Option<String>,
    /// The policies, in order.
    pub policies: Vec<Policy>,
    /// Comments after the last policy.
    pub trailing_comments: Vec<Comment>,
}

/// `on realm { rules }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Policy {
    /// Comments before it.
    pub comments: Vec<Comment>,
    /// An empty line stood before it.
    pub blank_before: bool,
    /// The realm, as written (`job::/sandbox/tom`).
    pub realm: String,
    /// Where the realm is.
    pub realm_span: Span,
    /// The rules.
    pub rules: Vec<Rule>,
    /// Comments before the closing brace.
    pub closing_comments: Vec<Comment>,
    /// The whole policy.
    pub span: Span,
}

/// `if (condition) { consequents }` or `{ consequents }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rule {
    /// Comments before it (and any that stood inside its condition).
    pub comments: Vec<Comment>,
    /// An empty line stood before it.
    pub blank_before: bool,
    /// The condition; `None` for an unconditional rule.
    pub condition: Option<Condition>,
    /// The consequents.
    pub consequents: Vec<Consequent>,
    /// Comments before the closing brace.
    pub closing_comments: Vec<Comment>,
    /// A comment on the line of the closing brace, after it.
    pub trailing_comment: Option<Comment>,
    /// The whole rule.
    pub span: Span,
}

/// A condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Condition {
    /// `subject comparator value`.
    Clause(Clause),
    /// `a && b && …`.
    And(Vec<Condition>),
    /// `a || b || …`.
    Or(Vec<Condition>),
    /// `!a`.
    Not(Box<Condition>),
    /// `( a )`, kept as written.
    Group(Box<Condition>),
}

/// `subject comparator value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Clause {
    /// `auth_server@apcera.me` in `auth_server@apcera.me->name`; `None` for a bare claim.
    pub issuer: Option<String>,
    /// The claim (`name`, `role`, `permit` …).
    pub claim: String,
    /// `==`, `!=`, `beginsWith`, `fqnMatch`, `equals`, or any other word.
    pub comparator: String,
    /// The value compared with.
    pub value: Value,
    /// Where the clause is.
    pub span: Span,
}

/// A claim type and its values: `permit create, read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Consequent {
    /// Comments before it.
    pub comments: Vec<Comment>,
    /// An empty line stood before it.
    pub blank_before: bool,
    /// The claim type (`permit`, `role`, `docker.allow` …).
    pub claim: String,
    /// One or more values.
    pub values: Vec<Value>,
    /// A comment at the end of its line.
    pub trailing_comment: Option<Comment>,
    /// Where it is.
    pub span: Span,
}

/// A value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Value {
    /// A double-quoted string (its content, escapes resolved).
    String(String),
    /// A bare word (`all`, `package.elasticsearch`, `runtime.go`).
    Word(String),
    /// A number with an optional unit (`2GB`, `1Gbps`, `1`, `0.5`).
    Number {
        /// The digits.
        number: String,
        /// The unit, when written.
        unit: Option<String>,
    },
    /// A template reference `[name]`.
    Template(String),
}

impl Value {
    /// The value as it is written in a document.
    pub fn to_source(&self) -> String {
        match self {
            Value::String(s) => quote(s),
            Value::Word(w) => w.clone(),
            Value::Number { number, unit } => format!("{number}{}", unit.as_deref().unwrap_or("")),
            Value::Template(t) => format!("[{t}]"),
        }
    }

    /// Classifies a bare word: a number with an optional unit, or a word.
    pub(crate) fn from_word(word: &str) -> Value {
        let digits_end = word
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(word.len(), |(i, _)| i);
        let number = word.get(..digits_end).unwrap_or("");
        let unit = word.get(digits_end..).unwrap_or("");
        let number_ok = !number.is_empty()
            && number.chars().next().is_some_and(|c| c.is_ascii_digit())
            && !number.ends_with('.')
            && number.matches('.').count() <= 1;
        if number_ok && unit.chars().all(|c| c.is_ascii_alphabetic()) {
            Value::Number {
                number: number.to_string(),
                unit: (!unit.is_empty()).then(|| unit.to_string()),
            }
        } else {
            Value::Word(word.to_string())
        }
    }
}

/// Writes a string with straight quotes and the escapes the parser reads.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Document {
    /// Every comment's text, in document order (the formatter must keep them all).
    pub fn comment_texts(&self) -> Vec<&str> {
        fn push<'a>(out: &mut Vec<&'a str>, list: &'a [Comment]) {
            out.extend(list.iter().map(|c| c.text.as_str()));
        }
        let mut out = Vec::new();
        for p in &self.policies {
            push(&mut out, &p.comments);
            for r in &p.rules {
                push(&mut out, &r.comments);
                for c in &r.consequents {
                    push(&mut out, &c.comments);
                    push(&mut out, c.trailing_comment.as_slice());
                }
                push(&mut out, &r.closing_comments);
                push(&mut out, r.trailing_comment.as_slice());
            }
            push(&mut out, &p.closing_comments);
        }
        push(&mut out, &self.trailing_comments);
        out
    }
}
