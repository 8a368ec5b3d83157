//! Errors and warnings: what, where (`file:line:column`), the line and a caret.
#![cfg(test)]

use continuum_policy::{Diagnostic, Error, Severity, check, parse};

fn errors_of(text: &str) -> Vec<Diagnostic> {
    match check(text, "t.pol") {
        Err(Error::Invalid { diagnostics, .. }) => {
            diagnostics.into_iter().filter(|d| d.is_error()).collect()
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(w) => panic!("accepted, warnings {w:?}"),
    }
}

fn warnings_of(text: &str) -> Vec<Diagnostic> {
    check(text, "t.pol").unwrap_or_else(|e| panic!("{e}"))
}

fn at(d: &Diagnostic) -> (usize, usize) {
    (d.line, d.column)
}

#[test]
fn several_errors_in_one_pass() {
    let text = "on job::/a {\n    { permit read, }\n    if (role = \"x\") { permit read }\n    { permit }\n}\non job::/b { { role admin } }\n";
    let e = errors_of(text);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert_eq!(at(&e[0]), (2, 20));
    assert!(
        e[0].message.contains("expected a value after `,`"),
        "{}",
        e[0].message
    );
    assert!(e[0].message.contains("found `}`"), "{}", e[0].message);
    assert_eq!(at(&e[1]), (3, 14));
    assert_eq!(e[1].help.as_deref(), Some("equality is written `==`"));
    assert_eq!(at(&e[2]), (4, 14));
    assert!(e[2].message.contains("a value after `permit`"));
    let shown = check(text, "t.pol").unwrap_err().to_string();
    insta::assert_snapshot!(shown);
}

#[test]
fn unclosed_blocks_name_where_they_opened() {
    let e = errors_of("on job::/a {\n  if (role == \"x\") {\n    permit read\n");
    assert!(
        e[0].message.contains("close the rule opened at line 2"),
        "{e:?}"
    );
    let e = errors_of("on job::/a {\n  { permit read }\n");
    assert!(
        e[0].message.contains("close the policy opened at line 1"),
        "{e:?}"
    );
}

#[test]
fn consequents_need_braces() {
    let e = errors_of("on job::/a {\n  permit read\n}\n");
    assert_eq!(at(&e[0]), (2, 3));
    assert_eq!(
        e[0].help.as_deref(),
        Some("wrap consequents in braces: `{ permit … }`")
    );
}

#[test]
fn bad_strings_and_characters() {
    let e = errors_of("on job::/a { if (role == \"open) { permit read } }");
    assert!(e[0].message.starts_with("unterminated string"), "{e:?}");
    let e = errors_of("on job::/a { if (role == \"a\\qb\") { permit read } }");
    assert!(e[0].message.starts_with("unknown escape"), "{e:?}");
    let e = errors_of("on job::/a { { permit read } } %");
    assert!(e[0].message.contains("found `%`"), "{e:?}");
}

#[test]
fn header_must_be_well_formed() {
    let e = errors_of("<continuum-policy name=\"x\">\non job::/ { { permit read } }");
    assert_eq!(at(&e[0]), (1, 1));
    assert!(e[0].message.contains("one attribute, `description`"));
    let ok = parse(
        "<continuum-policy description=\"Quotas \\\"v2\\\"\">\non quota::/ { { max.instances 1 } }",
        "h.pol",
    )
    .unwrap();
    assert_eq!(ok.document.description.as_deref(), Some("Quotas \"v2\""));
}

#[test]
fn documents_over_512_kb_are_refused() {
    let mut text = String::from("on job::/big {\n");
    while text.len() <= 512 * 1024 {
        text.push_str("    { permit read }\n");
    }
    text.push('}');
    let e = parse(&text, "big.pol").unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }));
    assert!(
        e.to_string().contains("at most 524288 bytes (512 KB)"),
        "{e}"
    );
}

#[test]
fn realms_must_be_fqns_of_known_types() {
    let e = errors_of("on jobs::/a { { permit read } }");
    assert_eq!(at(&e[0]), (1, 4));
    assert!(
        e[0].message.contains("unknown resource type `jobs`"),
        "{}",
        e[0].message
    );
    let e = errors_of("on /sandbox { { permit read } }");
    assert!(e[0].message.contains("has no resource type"));
    let e = errors_of("on job::/a//b { { permit read } }");
    assert!(e[0].message.contains("empty segment"), "{}", e[0].message);
}

#[test]
fn templates_must_be_bound_by_the_realm() {
    let e = errors_of(
        "on job::/sandbox {\n  if (auth_server@apcera.me->name == [user]) { permit read }\n}",
    );
    assert_eq!(at(&e[0]), (2, 7));
    assert!(
        e[0].message
            .contains("template `[user]` is not bound by the realm `job::/sandbox`")
    );
    assert!(
        warnings_of(
            "on job::/sandbox/[user] { if (auth_server@apcera.me->name == [user]) { role admin } }"
        )
        .is_empty()
    );
}

#[test]
fn warnings_do_not_refuse_the_document() {
    let w = warnings_of("on job::/a {\n  { permit read, frobnicate }\n}\n");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].severity, Severity::Warning);
    assert!(
        w[0].message
            .contains("`frobnicate` is not a permission known for `job` realms")
    );
    assert!(w[0].help.as_deref().unwrap().contains("start"));

    let w = warnings_of("on job::/a { { permit read } }\non job::/a/ { { permit read } }\n");
    assert_eq!(at(&w[0]), (2, 15));
    assert!(w[0].message.contains("duplicate rule"), "{}", w[0].message);
    assert!(w[0].message.contains("line 1"));

    let w = warnings_of("on job::/a { if (role == \"x\" && role == \"y\") { permit read } }");
    assert!(
        w[0].message
            .contains("can never match: `role` cannot equal both \"x\" and \"y\""),
        "{w:?}"
    );
    let w = warnings_of("on job::/a { if (ResType == package) { permit read } }");
    assert!(
        w[0].message.contains("resource type is always `job`"),
        "{w:?}"
    );
    assert!(warnings_of("on job::/a { if (ResType == job) { permit read } }").is_empty());

    let w = warnings_of("on job::/a { { } }");
    assert!(w[0].message.contains("no consequents"));
}

#[test]
fn many_findings_on_one_huge_line_stay_bounded() {
    let mut text = String::from("on job::/a { ");
    while text.len() < 500 * 1024 {
        text.push_str("{ role \u{201c}x\u{201d} } ");
    }
    text.push('}');
    let warnings = warnings_of(&text);
    // at most 100 from the parser and 100 from the validator, each with a summary line
    assert!(warnings.len() <= 202, "{}", warnings.len());
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("more warning(s) not shown"))
    );
    assert!(
        warnings
            .iter()
            .all(|w| w.source_line.chars().count() <= 124)
    );
    // the caret still points at the place, inside the window
    let typographic = warnings
        .iter()
        .find(|w| w.message.contains("typographic"))
        .unwrap();
    let shown = typographic.to_string();
    let source = shown.lines().nth(2).unwrap();
    let caret_line = shown.lines().nth(3).unwrap();
    let at = caret_line.find('^').unwrap();
    let pointed = source.chars().nth(at).unwrap();
    assert_eq!(pointed, '\u{201c}', "{shown}");
}

#[test]
fn formatting_may_grow_a_document_past_the_input_limit() {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 500 * 1024 {
        text.push_str(&format!("job::/t{i} {{ {{permit read}} }}\n"));
        i += 1;
    }
    let out = continuum_policy::format(&text, "big.pol").unwrap();
    assert!(out.len() > 512 * 1024, "{}", out.len());
    let _ = Error::TooLarge {
        file: String::new(),
        size: 0,
        limit: 0,
    };
}

#[test]
fn realms_with_several_trailing_slashes_format() {
    let out = continuum_policy::format("on job::/a// { { permit read } }", "t.pol").unwrap();
    assert_eq!(out, "on job::/a {\n    { permit read }\n}\n");
}
