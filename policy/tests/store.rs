//! Export and import: never overwrite without force, all or nothing, reported per document.
#![cfg(test)]

use std::fs;
use std::path::Path;

use continuum_policy::{
    Error, FolderPolicyStore, ImportOptions, ImportOutcome, PolicyStore, export, import,
};

fn write(dir: &Path, name: &str, text: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), text).unwrap();
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn import_then_export_all_and_one() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write(&src, "quotas.pol", "on quota::/ { { max.instances 1 } }\n");
    write(
        &src,
        "roles.pol",
        "on job::/ { if (role == \"admin\") { permit all } }\n",
    );
    write(
        &src.join("nested/deeper"),
        "extra.pol",
        "on job::/x { { permit read } }\n",
    );
    let store = FolderPolicyStore::for_cluster(&tmp.path().join("cluster"));

    let report = import(
        &store,
        &[format!("{}/*.pol", src.display())],
        ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(report.documents.len(), 2);
    assert!(
        report
            .documents
            .iter()
            .all(|d| d.outcome == ImportOutcome::Created)
    );
    let report = import(
        &store,
        &[format!("{}/**/*.pol", src.display())],
        ImportOptions::default(),
    )
    .unwrap();
    let outcomes: Vec<_> = report
        .documents
        .iter()
        .map(|d| (d.name.as_str(), d.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("extra", ImportOutcome::Created),
            ("quotas", ImportOutcome::Unchanged),
            ("roles", ImportOutcome::Unchanged)
        ]
    );
    assert_eq!(store.names().unwrap(), ["extra", "quotas", "roles"]);

    let out = tmp.path().join("out");
    let report = export(&store, None, &out, false).unwrap();
    assert_eq!(report.files.len(), 3);
    assert_eq!(
        fs::read_to_string(out.join("quotas.pol")).unwrap(),
        "on quota::/ { { max.instances 1 } }\n"
    );

    let one = tmp.path().join("one");
    export(&store, Some("roles"), &one, false).unwrap();
    assert_eq!(snapshot(&one).len(), 1);
    let e = export(&store, Some("nope"), &one, false).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

#[test]
fn export_never_overwrites_without_force_and_writes_nothing_then() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderPolicyStore::new(tmp.path().join("store"));
    store
        .write("a", "on job::/a { { permit read } }\n")
        .unwrap();
    store
        .write("b", "on job::/b { { permit read } }\n")
        .unwrap();
    let out = tmp.path().join("out");
    write(&out, "b.pol", "mine, do not touch\n");
    let before = snapshot(&out);
    let e = export(&store, None, &out, false).unwrap_err();
    assert!(e.to_string().contains("b.pol` already exists"), "{e}");
    assert_eq!(snapshot(&out), before, "something was written");
    export(&store, None, &out, true).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("b.pol")).unwrap(),
        "on job::/b { { permit read } }\n"
    );
    assert_eq!(snapshot(&out).len(), 2);
}

#[test]
fn import_is_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write(&src, "good.pol", "on job::/a { { permit read } }\n");
    write(&src, "bad.pol", "on job::/a { { permit read, } }\n");
    let store = FolderPolicyStore::new(tmp.path().join("store"));
    store
        .write("good", "on job::/old { { permit read } }\n")
        .unwrap();
    let before = snapshot(store.dir());
    let e = import(
        &store,
        &[format!("{}/*.pol", src.display())],
        ImportOptions::default(),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("bad.pol:1:29: error: expected a value after `,`"),
        "{text}"
    );
    assert_eq!(snapshot(store.dir()), before);
}

#[test]
fn dry_run_reports_without_storing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write(&src, "a.pol", "on job::/a { { permit read } }\n");
    write(&src, "b.pol", "on job::/b { { permit read } }\n");
    let store = FolderPolicyStore::new(tmp.path().join("store"));
    store
        .write("a", "on job::/a { { permit start } }\n")
        .unwrap();
    let mut options = ImportOptions::default();
    options.dry_run = true;
    let report = import(
        &store,
        &[
            src.join("a.pol").display().to_string(),
            src.join("b.pol").display().to_string(),
        ],
        options,
    )
    .unwrap();
    assert!(report.dry_run);
    let outcomes: Vec<_> = report.documents.iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes, [ImportOutcome::Updated, ImportOutcome::Created]);
    assert_eq!(store.names().unwrap(), ["a"]);
    assert_eq!(
        store.read("a").unwrap().unwrap(),
        "on job::/a { { permit start } }\n"
    );
}

#[test]
fn bad_patterns_names_and_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FolderPolicyStore::new(tmp.path().join("store"));
    let e = import(
        &store,
        &[format!("{}/*.pol", tmp.path().display())],
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::NoMatch { .. }), "{e}");
    let e = import(
        &store,
        &["/definitely/missing.pol".to_string()],
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("matches no file"), "{e}");
    write(
        tmp.path(),
        "bad name!.pol",
        "on job::/a { { permit read } }",
    );
    let e = import(
        &store,
        &[tmp.path().join("bad name!.pol").display().to_string()],
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid document name `bad name!`"),
        "{e}"
    );
    write(tmp.path(), "huge.pol", &"x".repeat(600 * 1024));
    let e = import(
        &store,
        &[tmp.path().join("huge.pol").display().to_string()],
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    fs::write(tmp.path().join("bin.pol"), [0x6f, 0x6e, 0xff, 0xfe]).unwrap();
    let e = import(
        &store,
        &[tmp.path().join("bin.pol").display().to_string()],
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("not UTF-8 text (invalid byte at offset 2)"),
        "{e}"
    );
    let a = tmp.path().join("x/dup.pol");
    let b = tmp.path().join("y/dup.pol");
    write(
        a.parent().unwrap(),
        "dup.pol",
        "on job::/a { { permit read } }",
    );
    write(
        b.parent().unwrap(),
        "dup.pol",
        "on job::/a { { permit read } }",
    );
    let e = import(
        &store,
        &[format!("{}/*/dup.pol", tmp.path().display())],
        ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::DuplicateName { .. }), "{e}");
    assert!(store.names().unwrap().is_empty());
}
