//! The corpus: every fixture parses, validates without errors, formats idempotently to the
//! same meaning, and round-trips through the policy API's JSON.
#![cfg(test)]

use std::path::PathBuf;

use continuum_policy::{ApiDoc, ApiDocs, check, format, parse};

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_corpus_is_large_enough_and_holds_the_six_defaults() {
    let names: Vec<String> = corpus().into_iter().map(|(n, _)| n).collect();
    assert!(names.len() >= 30, "{}", names.len());
    for default in [
        "authSettings",
        "clusterPermissions",
        "component",
        "packageResolution",
        "quotas",
        "rolePermissions",
    ] {
        assert!(names.contains(&default.to_string()), "missing {default}");
    }
}

#[test]
fn every_document_parses_validates_and_formats_idempotently() {
    for (name, text) in corpus() {
        let file = format!("{name}.pol");
        let warnings = check(&text, &file).unwrap_or_else(|e| panic!("{e}"));
        let formatted = format(&text, &file).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            format(&formatted, &file).unwrap(),
            formatted,
            "{file}: not idempotent"
        );
        let before = parse(&text, &file).unwrap().document.to_model();
        let after = parse(&formatted, &file).unwrap().document.to_model();
        assert_eq!(before, after, "{file}: formatting changed the meaning");
        let shown: Vec<String> = warnings
            .iter()
            .map(|w| format!("{}:{}: {}", w.line, w.column, w.message))
            .collect();
        insta::assert_snapshot!(
            name.clone(),
            format!("{formatted}\n---- warnings\n{}", shown.join("\n"))
        );
    }
}

#[test]
fn the_corpus_round_trips_through_the_api_json() {
    let docs = ApiDocs::new(
        corpus()
            .into_iter()
            .map(|(n, t)| ApiDoc::new(n, t))
            .collect(),
    );
    let json = docs.to_json();
    let back = ApiDocs::from_json("docs.json", json.as_bytes()).unwrap();
    assert_eq!(back, docs);
    for (doc, original) in back.docs.iter().zip(&docs.docs) {
        let a = parse(&doc.text, &doc.name).unwrap().document.to_model();
        let b = parse(&original.text, &original.name)
            .unwrap()
            .document
            .to_model();
        assert_eq!(a, b);
    }
    let with_version = br#"{"docs": [{"name": "quotas", "for_version": 2, "text": "on quota::/ { { max.instances 1 } }"}]}"#;
    let parsed = ApiDocs::from_json("api.json", with_version).unwrap();
    assert_eq!(parsed.docs[0].for_version, Some(serde_json::json!(2)));
    let e = ApiDocs::from_json("api.json", br#"{"docs": [{"name": 1}]}"#).unwrap_err();
    assert!(e.to_string().starts_with("`api.json` line 1"), "{e}");
}

#[test]
fn the_model_serializes_for_programs() {
    let text = "on job::/a { if (auth_server@apcera.me->name == \"x\" && role != \"y\") { permit read, 2GB, [t] } }";
    let model = parse(text, "a.pol").unwrap().document.to_model();
    let json = serde_json::to_value(&model).unwrap();
    assert_eq!(json["policies"][0]["realm"], "job::/a");
    let rule = &json["policies"][0]["rules"][0];
    assert_eq!(rule["condition"]["op"], "all");
    assert_eq!(
        rule["condition"]["of"][0]["issuer"],
        "auth_server@apcera.me"
    );
    assert_eq!(
        rule["consequents"][0]["values"][1],
        serde_json::json!({"type": "number", "value": {"number": "2", "unit": "GB"}})
    );
    let back: continuum_policy::DocumentModel = serde_json::from_value(json).unwrap();
    assert_eq!(back, model);
}
