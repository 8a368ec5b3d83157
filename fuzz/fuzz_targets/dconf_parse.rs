//! `cluster.conf` (Dconf): `parse_dconf` and `ClusterConf::parse` must never panic; a tree
//! that parses must format with `{:?}` and serialize to JSON, and neither may show a secret.
//!
//! A secret is a string or number of at least 6 characters, other than `***`, under a key
//! for which `is_secret_key` holds (directly, or deeper in a map or array under such a key:
//! the tree redacts those too). To avoid false alarms a secret is only looked for when it
//! holds none of the characters that separate the tokens of the output (`" \ , : { } [ ]`, so
//! it cannot straddle two tokens) and is no substring of any key or non-secret value, as
//! written or as escaped.
//!
//! The `ClusterConf` (its typed fields and its tree) is checked the same way for the secrets
//! directly under a secret key, minus those made of digits only (a component named like a
//! secret, `components { token: 123456 }`, shows its count by design) and those holding a
//! space or parenthesis (its Debug output separates struct names, `Some(…)` and fields with
//! them); its struct and field names count as shown.
#![no_main]

use continuum_orchestrator::{ClusterConf, DconfValue, is_secret_key, parse_dconf};
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.conf";
const REDACTED: &str = "***";

/// The words of `ClusterConf`'s Debug and JSON output that do not come from the document.
const CONF_WORDS: &[&str] = &[
    "ClusterConf",
    "MachineGroup",
    "DatabaseBackups",
    "PackageStore",
    "Secret",
    "Some",
    "None",
    "null",
    "file",
    "cluster_name",
    "base_domain",
    "provisioner",
    "machine_groups",
    "name",
    "hosts",
    "suitable_tags",
    "components",
    "database_backups",
    "access_key",
    "secret_key",
    "region",
    "bucket",
    "package_store",
    "kind",
    "endpoint",
    "tree",
];

#[derive(Default)]
struct Texts {
    /// Secrets under a secret key, with whether they sit directly under it.
    secrets: Vec<(String, bool)>,
    /// Keys and non-secret values: what may legitimately show up.
    shown: Vec<String>,
}

fn collect(value: &DconfValue, secret: bool, direct: bool, out: &mut Texts) {
    match value {
        DconfValue::Map(entries) => {
            for e in entries {
                out.shown.push(e.key.clone());
                let s = is_secret_key(&e.key);
                collect(&e.value, secret || s, s, out);
            }
        }
        DconfValue::Array(items) => {
            for item in items {
                collect(item, secret, false, out);
            }
        }
        other => {
            let Some(text) = other.as_text() else {
                return;
            };
            if secret {
                out.secrets.push((text, direct));
            } else {
                // JSON writes numbers parsed (`1e3` as `1000.0`).
                if let Ok(json) = serde_json::to_string(other) {
                    out.shown.push(json);
                }
                out.shown.push(text);
            }
        }
    }
}

fn checkable(secret: &str) -> bool {
    secret.chars().count() >= 6
        && secret != REDACTED
        && !secret.contains(['"', '\\', ',', ':', '{', '}', '[', ']'])
}

/// True when `secret` may show up without a leak: it is part of a key or of a value that is
/// not secret, as written, as `{:?}` writes it or as JSON writes it.
fn innocent(secret: &str, shown: &[String]) -> bool {
    FILE.contains(secret)
        || shown.iter().any(|t| {
            t.contains(secret)
                || format!("{t:?}").contains(secret)
                || serde_json::to_string(t).is_ok_and(|j| j.contains(secret))
        })
}

fn assert_hidden(out: &str, what: &str, secrets: &[&String], shown: &[String]) {
    for secret in secrets {
        if out.contains(secret.as_str()) && !innocent(secret, shown) {
            panic!("{what} shows the secret {secret:?}:\n{out}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tree = parse_dconf(text, FILE);
    let conf = ClusterConf::parse(text, FILE);
    let Ok(tree) = tree else {
        assert!(
            conf.is_err(),
            "ClusterConf::parse accepted a document that parse_dconf refuses"
        );
        return;
    };
    let debug = format!("{tree:?}");
    let json = match serde_json::to_string(&tree) {
        Ok(json) => json,
        Err(e) => panic!("a parsed tree does not serialize: {e}\n{debug}"),
    };
    let mut texts = Texts::default();
    collect(&tree, false, false, &mut texts);
    texts
        .shown
        .extend([REDACTED, "true", "false"].map(String::from));
    let secrets: Vec<&String> = texts
        .secrets
        .iter()
        .filter(|(s, _)| checkable(s))
        .map(|(s, _)| s)
        .collect();
    assert_hidden(&debug, "Debug of the tree", &secrets, &texts.shown);
    assert_hidden(&json, "JSON of the tree", &secrets, &texts.shown);

    let Ok(conf) = conf else {
        return;
    };
    let direct: Vec<&String> = texts
        .secrets
        .iter()
        .filter(|(s, direct)| {
            *direct
                && checkable(s)
                && !s.contains([' ', '(', ')'])
                && !s.chars().all(|c| c.is_ascii_digit())
        })
        .map(|(s, _)| s)
        .collect();
    texts.shown.extend(CONF_WORDS.iter().map(|w| w.to_string()));
    let debug = format!("{conf:?}");
    assert_hidden(&debug, "Debug of ClusterConf", &direct, &texts.shown);
    match serde_json::to_string(&conf) {
        Ok(json) => assert_hidden(&json, "JSON of ClusterConf", &direct, &texts.shown),
        Err(e) => panic!("a parsed ClusterConf does not serialize: {e}\n{debug}"),
    }
});
