//! Property tests over generated documents: format∘parse keeps the meaning and is idempotent.
#![cfg(test)]

use continuum_policy::{format, parse};
use proptest::prelude::*;

fn realm() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "job", "package", "quota", "auth", "service", "network", "policy",
        ]),
        prop::collection::vec("[a-z][a-z0-9_-]{0,6}", 0..3),
        prop::option::of("[a-z][a-z0-9-]{0,6}"),
        any::<bool>(),
    )
        .prop_map(|(t, ns, local, slash)| {
            let mut s = format!("{t}::/{}", ns.join("/"));
            if let Some(l) = local.filter(|_| !ns.is_empty()) {
                s.push_str("::");
                s.push_str(&l);
            }
            if slash && !ns.is_empty() && !s.contains("::/") {
                s.push('/');
            }
            s
        })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z.]{0,8}"
            .prop_map(|w| w.trim_end_matches('.').to_string())
            .prop_filter("word", |w| !w.is_empty() && w != "if" && w != "on"),
        "[ -~&&[^\"\\\\]]{0,10}".prop_map(|s| format!("\"{s}\"")),
        "[ a-z\"\\\\]{0,6}"
            .prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))),
        (
            1u32..5000,
            prop::option::of(prop::sample::select(vec!["MB", "GB", "Gbps", "s"]))
        )
            .prop_map(|(n, u)| format!("{n}{}", u.unwrap_or(""))),
    ]
}

fn clause() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(vec![
            "auth_server@apcera.me",
            "ldap@example.com",
        ])),
        prop::sample::select(vec!["name", "role", "provider", "email"]),
        prop::sample::select(vec!["==", "!=", "beginsWith", "fqnMatch", "equals"]),
        value(),
    )
        .prop_map(|(issuer, claim, op, v)| match issuer {
            Some(i) => format!("{i}->{claim} {op} {v}"),
            None => format!("{claim} {op} {v}"),
        })
}

fn condition() -> impl Strategy<Value = String> {
    clause().prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" && ")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" || "))),
            inner.clone().prop_map(|c| format!("!({c})")),
            inner.prop_map(|c| format!("({c})")),
        ]
    })
}

fn consequent() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "permit",
            "role",
            "docker.allow",
            "total.memory",
            "package.default",
        ]),
        prop::collection::vec(value(), 1..4),
        prop::option::of("[ a-z]{0,12}"),
    )
        .prop_map(|(claim, values, comment)| {
            let mut s = format!("{claim} {}", values.join(", "));
            if let Some(c) = comment {
                s.push_str(&format!(" //{c}"));
            }
            s
        })
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "\n", "\n\n", "\t", "\n    ", " \n\t "])
}

fn rule() -> impl Strategy<Value = String> {
    (
        prop::option::of(condition()),
        prop::collection::vec(consequent(), 1..4),
        separator(),
        separator(),
    )
        .prop_map(|(cond, consequents, a, b)| {
            let body = consequents.join("\n");
            match cond {
                Some(c) => format!("if ({c}){a}{{{b}{body}\n}}"),
                None => format!("{{{b}{body}\n}}"),
            }
        })
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            any::<bool>(),
            realm(),
            prop::collection::vec(rule(), 0..4),
            separator(),
            prop::option::of("[ a-z]{0,10}"),
        ),
        0..4,
    )
    .prop_map(|policies| {
        policies
            .into_iter()
            .map(|(on, realm, rules, sep, comment)| {
                let c = comment.map(|c| format!("//{c}\n")).unwrap_or_default();
                format!(
                    "{c}{}{realm}{sep}{{\n{}\n}}\n",
                    if on { "on " } else { "" },
                    rules.join(sep)
                )
            })
            .collect::<String>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn formatting_keeps_meaning_and_is_idempotent(text in document()) {
        let parsed = parse(&text, "gen.pol");
        prop_assert!(parsed.is_ok(), "generated text did not parse: {:?}\n{text}", parsed.err().map(|e| e.to_string()));
        let once = format(&text, "gen.pol").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let twice = format(&once, "gen.pol").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&once, &twice);
        let a = parse(&text, "gen.pol").map(|p| p.document.to_model()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = parse(&once, "gen.pol").map(|p| p.document.to_model()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a, b);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = continuum_policy::check(&text, "any.pol");
        let _ = format(&text, "any.pol");
    }

    #[test]
    fn parsing_mutated_documents_never_panics(text in document(), cut in 0usize..400, insert in "[{}()\\[\\]\",;!&|=<>/ \n]{1,3}") {
        let mut mutated = text.clone();
        let at = (0..=cut.min(mutated.len())).rev().find(|&i| mutated.is_char_boundary(i)).unwrap_or(0);
        mutated.insert_str(at, &insert);
        let _ = continuum_policy::check(&mutated, "m.pol");
    }
}
