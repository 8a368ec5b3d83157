//! The formatter: one canonical layout, comments kept, idempotent, and checked — the output is
//! parsed again and must mean exactly what the input meant.

use std::fmt::Write as _;

use crate::model::canonical_realm_str;
use crate::tree::{Comment, Condition, Consequent, Document, Rule};

const INDENT: &str = "    ";

/// Writes a document in the canonical layout.
pub fn format_document(doc: &Document) -> String {
    let mut out = String::new();
    if let Some(description) = &doc.description {
        let _ = writeln!(
            out,
            "<continuum-policy description={}>",
            crate::tree::quote(description)
        );
        if !doc.policies.is_empty() || !doc.trailing_comments.is_empty() {
            out.push('\n');
        }
    }
    for (i, policy) in doc.policies.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        comments(&mut out, &policy.comments, 0);
        let _ = writeln!(out, "on {} {{", canonical_realm_str(&policy.realm));
        for (j, rule) in policy.rules.iter().enumerate() {
            if j > 0 && rule.blank_before {
                out.push('\n');
            }
            format_rule(&mut out, rule);
        }
        comments(&mut out, &policy.closing_comments, 1);
        out.push_str("}\n");
    }
    if !doc.trailing_comments.is_empty() && !doc.policies.is_empty() {
        out.push('\n');
    }
    comments(&mut out, &doc.trailing_comments, 0);
    out
}

fn comments(out: &mut String, list: &[Comment], depth: usize) {
    for (i, c) in list.iter().enumerate() {
        if i > 0 && c.blank_before {
            out.push('\n');
        }
        let _ = writeln!(out, "{}//{}", INDENT.repeat(depth), c.text);
    }
}

fn consequent_line(c: &Consequent) -> String {
    let values: Vec<String> = c.values.iter().map(crate::tree::Value::to_source).collect();
    format!("{} {}", c.claim, values.join(", "))
}

fn format_rule(out: &mut String, rule: &Rule) {
    comments(out, &rule.comments, 1);
    let simple = rule.consequents.len() == 1
        && rule.closing_comments.is_empty()
        && rule
            .consequents
            .iter()
            .all(|c| c.comments.is_empty() && c.trailing_comment.is_none());
    match &rule.condition {
        None if simple => {
            let line = rule
                .consequents
                .first()
                .map(consequent_line)
                .unwrap_or_default();
            let _ = write!(out, "{INDENT}{{ {line} }}");
            trailing(out, rule.trailing_comment.as_ref());
            return;
        }
        None => {
            let _ = writeln!(out, "{INDENT}{{");
        }
        Some(condition) => {
            let _ = writeln!(
                out,
                "{INDENT}if ({}) {{",
                format_condition(condition, Context::Top)
            );
        }
    }
    for (k, c) in rule.consequents.iter().enumerate() {
        if k > 0 && c.blank_before {
            out.push('\n');
        }
        comments(out, &c.comments, 2);
        let _ = write!(out, "{INDENT}{INDENT}{}", consequent_line(c));
        trailing(out, c.trailing_comment.as_ref());
    }
    comments(out, &rule.closing_comments, 2);
    let _ = write!(out, "{INDENT}}}");
    trailing(out, rule.trailing_comment.as_ref());
}

/// Ends a line, with its trailing comment if any.
fn trailing(out: &mut String, comment: Option<&Comment>) {
    if let Some(c) = comment {
        let _ = write!(out, "  //{}", c.text);
    }
    out.push('\n');
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Top,
    And,
    Or,
    Not,
}

/// Writes a condition. Redundant groups are dropped; `&&` inside `||` and anything under `!`
/// get parentheses, so the reading never depends on precedence.
pub(crate) fn format_condition(c: &Condition, ctx: Context) -> String {
    let mut c = c;
    while let Condition::Group(inner) = c {
        c = inner;
    }
    match c {
        Condition::Clause(cl) => {
            let subject = match &cl.issuer {
                Some(issuer) => format!("{issuer}->{}", cl.claim),
                None => cl.claim.clone(),
            };
            let text = format!("{subject} {} {}", cl.comparator, cl.value.to_source());
            if ctx == Context::Not {
                format!("({text})")
            } else {
                text
            }
        }
        Condition::And(items) => {
            let text = items
                .iter()
                .map(|i| format_condition(i, Context::And))
                .collect::<Vec<_>>()
                .join(" && ");
            if matches!(ctx, Context::Or | Context::Not) {
                format!("({text})")
            } else {
                text
            }
        }
        Condition::Or(items) => {
            let text = items
                .iter()
                .map(|i| format_condition(i, Context::Or))
                .collect::<Vec<_>>()
                .join(" || ");
            if matches!(ctx, Context::And | Context::Not) {
                format!("({text})")
            } else {
                text
            }
        }
        Condition::Not(inner) => format!("!{}", format_condition(inner, Context::Not)),
        Condition::Group(inner) => format_condition(inner, ctx),
    }
}
